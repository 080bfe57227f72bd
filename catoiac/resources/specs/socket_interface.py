"""SocketInterface: the configuration of one port of a site's Socket: a WAN link, a LAN, a LAG
master or member, a VRRP or HA link.

The ports of each model come from ``catoiac/ports.py`` (the table the emulator uses too): X1500
has WAN1/WAN2/LAN1/LAN2/USB1, X1600 INT_1..INT_8 (X1600_LTE adds LTE), X1700 INT_1..INT_12, the
virtual sockets WAN1 (and WAN2 on ESX) and LAN1. A port always exists, so "create" and "update"
configure it (``updateSocketInterface`` replaces the port's whole configuration) and "delete"
returns it to its model's default: a ``CATO`` WAN link for the WAN ports (WAN1/WAN2, or
INT_1/INT_2), a ``LAN`` for the port holding the site's native range (LAN1, INT_5 on
X1600/X1600_LTE, INT_3 on X1700; its native range is kept), disabled for every other port. The
id is ``<siteId>:<port>``, e.g. ``100001:INT_6``.

Destination types (the SDL's ``SocketInterfaceDestType`` but ``INTERFACE_DISABLED``: deleting
the resource is how a port is given back) and what each takes, after the SDL's "Only relevant
for ..." descriptions: CATO (bandwidth, role, precedence), ALTERNATIVE and LAYER_2_WAN
(bandwidth, ``alt_wan``), LAN, VRRP_AND_LAN, LAN_LAG_MASTER, LAN_LAG_MASTER_AND_VRRP (subnet,
local_ip, translated_subnet; ``lag_min_links`` for the LAG masters; ``vrrp_type`` for the VRRP
ones), LAN_LAG_MEMBER, LAN_AND_HA and VRRP (nothing but a name; ``vrrp_type`` for VRRP). Which
port may be which is checked against the site's model before the write.

Read path: the ``socket_interfaces`` collection, built from reads the inventory already makes,
so it costs no call of its own: the ``accountSnapshot`` of the ``sites`` collection (every
enabled port: its id as reads show it, ``"6"`` or ``"WAN1"``, name, destination type, bandwidth,
WAN role) joined with the ``networkInterface`` lookup (LAN ports: subnet) and the ports' native
ranges (local IP, translated subnet). A disabled port is not in the snapshot, which is how a
port returned to "disabled" reads as deleted. Cato returns a WAN link's precedence, a LAG's
minimum links and the alternative WAN addressing nowhere, so they are kept from the state
(``reconcile``).
"""

from __future__ import annotations

from typing import Any

from ... import ports
from ...readpath import AccountReader, register_loader
from ..enums import enum_values
from ..gql_schema import InputModel
from ..spec import InputError, Operation, Reservation, ResourceSpec
from .checks import host_in_subnet_problem
from .common import NAME, prune

WAN_TYPES = ports.WAN_DESTS
LAN_TYPES = ports.LAN_DESTS
_WAN_FIELDS = ("upstream_bandwidth", "downstream_bandwidth", "role", "precedence")
_LAN_FIELDS = ("local_ip", "subnet", "translated_subnet")
_ALT_WAN = InputModel("SocketInterfaceAltWanInput")
# Inputs Cato never reads back: kept from the state.
_WRITE_ONLY = ("precedence", "lag_min_links", "alt_wan")
# Which inputs each destination type takes (beyond name), after the SDL's "Only relevant for".
_TAKES: dict[str, set[str]] = {
    **{t: {"upstream_bandwidth", "downstream_bandwidth"} for t in WAN_TYPES},
    "CATO": {*_WAN_FIELDS},
    "ALTERNATIVE": {"upstream_bandwidth", "downstream_bandwidth", "alt_wan"},
    "LAYER_2_WAN": {"upstream_bandwidth", "downstream_bandwidth", "alt_wan"},
    **{t: {*_LAN_FIELDS} for t in LAN_TYPES},
    "LAN_LAG_MASTER": {*_LAN_FIELDS, "lag_min_links"},
    "LAN_LAG_MASTER_AND_VRRP": {*_LAN_FIELDS, "lag_min_links", "vrrp_type"},
    "VRRP_AND_LAN": {*_LAN_FIELDS, "vrrp_type"},
    "VRRP": {"vrrp_type"},
    "LAN_LAG_MEMBER": set(),
    "LAN_AND_HA": set(),
}
_OPTIONAL_INPUTS = {*_WAN_FIELDS, *_LAN_FIELDS, "lag_min_links", "vrrp_type", "alt_wan"}

SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["site_id", "interface_id", "dest_type"],
    "properties": {
        "site_id": {"type": "string", "minLength": 1},
        "interface_id": {"enum": enum_values("SocketInterfaceIDEnum")},
        "dest_type": {"enum": [t for t in enum_values("SocketInterfaceDestType") if t != ports.DISABLED]},
        "name": NAME,
        "upstream_bandwidth": {"type": "integer", "minimum": 1, "maximum": 100000},
        "downstream_bandwidth": {"type": "integer", "minimum": 1, "maximum": 100000},
        "role": {"enum": enum_values("SocketInterfaceRole")},
        "precedence": {"enum": enum_values("SocketInterfacePrecedenceEnum")},
        "local_ip": {"type": "string", "format": "ipv4"},
        "subnet": {"type": "string", "format": "cidr"},
        "translated_subnet": {"type": "string", "format": "cidr"},
        "lag_min_links": {"type": "integer", "minimum": 1},
        "vrrp_type": {"enum": enum_values("VrrpType")},
        "alt_wan": _ALT_WAN.schema,
    },
}


def slot_of(port_id: Any) -> str | None:
    """A port id as reads show it (``"6"``, ``"WAN1"``) -> its SocketInterfaceIDEnum id."""
    port = ports.port_id(port_id)
    return port if port in set(enum_values("SocketInterfaceIDEnum")) else None


def _rules(i: dict[str, Any]) -> list[tuple[str, str]]:
    out = []
    slot, dest = i.get("interface_id"), i.get("dest_type")
    if slot in ("USB1", "USB2", "LTE") and dest != "CATO":
        out.append(("dest_type", f"{slot} is a modem port: it can only be a WAN link (CATO)"))
    takes = _TAKES.get(dest, set())
    out += [
        (f, f"{f} does not apply to a {dest} port: remove it")
        for f in sorted(_OPTIONAL_INPUTS - takes)
        if f in i
    ]
    if dest in WAN_TYPES:
        needed = ("upstream_bandwidth", "downstream_bandwidth") + (("role",) if dest == "CATO" else ())
        out += [(f, f"a {dest} WAN link needs {f}: set it") for f in needed if i.get(f) is None]
    if dest in LAN_TYPES:
        for f in ("subnet", "local_ip"):
            if i.get(f) is None:
                out.append((f, f"a {dest} port needs {f} (its native range): set it"))
        problem = host_in_subnet_problem(i.get("local_ip"), i.get("subnet"))
        if problem and i.get("subnet") and i.get("local_ip"):
            out.append(("local_ip", problem))
        sub, nat = i.get("subnet"), i.get("translated_subnet")
        if sub and nat and sub.split("/")[1] != nat.split("/")[1]:
            out.append(("translated_subnet", f"{nat} must be the same size as subnet {sub}"))
    return out


def _reservations(i: dict[str, Any]) -> list[Reservation]:
    # A port has one configuration: two resources for one port would undo each other on every up.
    site, slot = i["site_id"], i["interface_id"]
    return [Reservation("port", (site, slot), "interface_id", f"port {slot} of site {site}")]


def _normalize(i: dict[str, Any]) -> dict[str, Any]:
    i = prune(i)
    i.setdefault("name", i.get("interface_id"))
    if i.get("dest_type") == "CATO":
        i.setdefault("precedence", "ACTIVE")
    if i.get("translated_subnet") and i.get("translated_subnet") == i.get("subnet"):
        i.pop("translated_subnet")  # Cato shows "no translation" as the subnet itself
    if "alt_wan" in i:
        i["alt_wan"] = _ALT_WAN.canonical(i["alt_wan"])
    return i


def _model_problem(i: dict[str, Any], view) -> str | None:
    """The site's model decides which port may be what (catoiac/ports.py); checked before the write."""
    site = view.get("sites").get(str(i["site_id"])) if view is not None else None
    conn = (site or {}).get("connection_type")
    if conn not in ports.MODELS:
        return None  # an unknown site or model: Cato answers for it
    problem = ports.model(conn).problem(i["interface_id"], i["dest_type"])
    return f"interface_id/dest_type: site {i['site_id']} ({conn}): {problem}" if problem else None


def _variables(_id, i, view) -> dict[str, Any]:
    problem = _model_problem(i, view)
    if problem:
        raise InputError(problem)
    dest = i["dest_type"]
    body: dict[str, Any] = {"destType": dest, "name": i["name"]}
    if dest in WAN_TYPES:
        body["bandwidth"] = {
            "upstreamBandwidth": i["upstream_bandwidth"],
            "downstreamBandwidth": i["downstream_bandwidth"],
        }
    if dest == "CATO":
        body["wan"] = {"role": i["role"], "precedence": i["precedence"]}
    if i.get("alt_wan"):
        body["altWan"] = _ALT_WAN.to_graphql(i["alt_wan"])
    if dest in LAN_TYPES:
        body["lan"] = {"subnet": i["subnet"], "localIp": i["local_ip"]}
        if i.get("translated_subnet"):
            body["lan"]["translatedSubnet"] = i["translated_subnet"]
    if dest in ports.LAG_MASTERS:
        body["lag"] = {"minLinks": i.get("lag_min_links") or 1}
    if i.get("vrrp_type"):
        body["vrrp"] = {"vrrpType": i["vrrp_type"]}
    return {"siteId": i["site_id"], "socketInterfaceId": i["interface_id"], "input": body}


def _split(resource_id: str) -> tuple[str, str]:
    site_id, _, slot = str(resource_id).rpartition(":")
    return site_id, slot


def _reset(resource_id, _i, view) -> dict[str, Any]:
    """Back to the model's default: a CATO link on the WAN ports, LAN on the native port, else disabled."""
    site_id, slot = _split(resource_id)
    site = view.get("sites").get(site_id) if view is not None else None
    model = ports.MODELS.get((site or {}).get("connection_type") or "")
    port = model.port(slot) if model else None
    body: dict[str, Any] = {"destType": port.default_dest if port else ports.DISABLED}
    if port is not None and port.wan_role:
        body["wan"] = {"role": port.wan_role, "precedence": "ACTIVE"}
    return {"siteId": site_id, "socketInterfaceId": slot, "input": body}


def _read(live: dict[str, Any], view) -> dict[str, Any]:
    dest = live.get("dest_type")
    out = {k: live.get(k) for k in ("site_id", "interface_id", "dest_type", "name")}
    takes = _TAKES.get(dest, set())
    out |= {k: live.get(k) for k in (*_WAN_FIELDS, *_LAN_FIELDS, "vrrp_type") if k in takes}
    return out


def _reconcile(live: dict[str, Any], prior: dict[str, Any]) -> dict[str, Any]:
    takes = _TAKES.get(live.get("dest_type"), set())
    kept = {k: prior[k] for k in _WRITE_ONLY if k in takes and live.get(k) is None and k in prior}
    if "vrrp_type" in takes and live.get("vrrp_type") is None and "vrrp_type" in prior:
        kept["vrrp_type"] = prior["vrrp_type"]  # not every tenant returns vrrpType
    return {**live, **kept}


def load_socket_interfaces(r: AccountReader) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for site in r.get("sites").values():
        for port in site.get("interfaces") or []:
            slot = slot_of(port.get("id"))
            if slot is None or port.get("destType") in (None, ports.DISABLED):
                continue
            role = str(port.get("wanRole") or "").lower()
            key = f"{site['id']}:{slot}"
            out[key] = {
                "id": key,
                "site_id": site["id"],
                "interface_id": slot,
                "name": port.get("name"),
                "dest_type": port.get("destType"),
                "upstream_bandwidth": port.get("upstreamBandwidth"),
                "downstream_bandwidth": port.get("downstreamBandwidth"),
                "role": role if role and role != "none" else None,
                "precedence": None,
            }
    natives = r.get("port_natives")
    for lan in r.get("interfaces").values():
        if lan.get("interface_id") is None:
            continue
        key = f"{lan['site_id']}:{lan['interface_id']}"
        obj = out.setdefault(
            key,
            {"id": key, "site_id": lan["site_id"], "interface_id": lan["interface_id"], "name": lan["name"]},
        )
        obj.setdefault("dest_type", lan.get("dest_type"))
        native = natives.get(lan["id"]) or {}
        obj |= {
            "entity_id": lan["id"],
            "subnet": lan.get("subnet") or native.get("subnet"),
            "local_ip": native.get("local_ip"),
            "translated_subnet": native.get("translated_subnet"),
            "vrrp_type": lan.get("vrrp_type"),
        }
    return out


register_loader(
    "socket_interfaces", load_socket_interfaces, depends_on=("sites", "interfaces", "port_natives")
)

SOCKET_INTERFACE = ResourceSpec(
    name="SocketInterface",
    kind="socket_interfaces",
    schema=SCHEMA,
    create=Operation(
        "UpdateSocketInterface", _variables, id_of=lambda _data, i: f"{i['site_id']}:{i['interface_id']}"
    ),
    update=Operation("UpdateSocketInterface", _variables),
    delete=Operation("UpdateSocketInterface", _reset),
    replace_on=("site_id", "interface_id"),
    natural_key=("site_id", "interface_id"),
    read=_read,
    rules=(_rules,),
    normalize=_normalize,
    reconcile=_reconcile,
    reservations=_reservations,
    # A port's LAN config is its native range; turning a LAN port into a WAN removes its ranges
    # (and drops them and the port from groups).
    invalidates=("sites", "interfaces", "ranges", "groups"),
    parent_input="site_id",
)
