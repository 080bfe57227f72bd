"""SocketInterface: the configuration of one port (slot) of a site's Socket, as a WAN or LAN link.

A port always exists, so "create" and "update" configure it (``updateSocketInterface`` replaces
the port's whole configuration) and "delete" returns it to its default: a ``CATO`` WAN link for
WAN1/WAN2 (roles wan_1/wan_2, active, default bandwidth), a ``LAN`` for LAN1 (its native range
is kept), disabled for every other port. The id is ``<siteId>:<slot>``, e.g. ``100001:INT_5``.

Read path: the ``socket_interfaces`` collection, built from two reads the inventory already
makes, so it costs no call of its own: the ``accountSnapshot`` of the ``sites`` collection
(every enabled port: name, destination type, bandwidth, WAN role) joined with the
``networkInterface`` lookup of the ``interfaces`` collection (LAN ports: subnet, local IP). A
disabled port is not in the snapshot, which is how a port returned to "disabled" reads as deleted.
Cato returns a WAN link's precedence nowhere, so it is kept from the state (``reconcile``).
"""

from __future__ import annotations

from typing import Any

from ...readpath import AccountReader, register_loader
from ..enums import enum_values
from ..spec import Claim, Operation, ResourceSpec
from .checks import host_in_subnet_problem
from .common import NAME, prune

WAN_TYPES = ("CATO",)
LAN_TYPES = ("LAN",)
# Ports that are cellular/USB modems only ever carry a WAN link; LAN1 holds the site's native range.
_WAN_ONLY = ("USB1", "USB2", "LTE")
_LAN_ONLY = ("LAN1",)
# What "delete" returns a port to (every other port: disabled).
_DEFAULT_DEST = {"WAN1": "CATO", "WAN2": "CATO", "LAN1": "LAN"}
# accountSnapshot's InterfaceInfo.id is the port's number in the Socket UI: 1-4 are the named ports.
_BY_INDEX = {"1": "WAN1", "2": "WAN2", "3": "LAN1", "4": "LAN2"}
_SLOTS = set(enum_values("SocketInterfaceIDEnum"))
_WAN_FIELDS = ("upstream_bandwidth", "downstream_bandwidth", "role", "precedence")
_LAN_FIELDS = ("local_ip", "subnet", "translated_subnet")

SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["site_id", "interface_id", "dest_type"],
    "properties": {
        "site_id": {"type": "string", "minLength": 1},
        "interface_id": {"enum": enum_values("SocketInterfaceIDEnum")},
        "dest_type": {
            "enum": [t for t in enum_values("SocketInterfaceDestType") if t in WAN_TYPES + LAN_TYPES]
        },
        "name": NAME,
        "upstream_bandwidth": {"type": "integer", "minimum": 1, "maximum": 100000},
        "downstream_bandwidth": {"type": "integer", "minimum": 1, "maximum": 100000},
        "role": {"enum": enum_values("SocketInterfaceRole")},
        "precedence": {"enum": enum_values("SocketInterfacePrecedenceEnum")},
        "local_ip": {"type": "string", "format": "ipv4"},
        "subnet": {"type": "string", "format": "cidr"},
        "translated_subnet": {"type": "string", "format": "cidr"},
    },
}


def slot_of(port_id: Any) -> str | None:
    port = str(port_id)
    if port in _SLOTS:
        return port
    if port in _BY_INDEX:
        return _BY_INDEX[port]
    return f"INT_{port}" if f"INT_{port}" in _SLOTS else None


def _rules(i: dict[str, Any]) -> list[tuple[str, str]]:
    out = []
    slot, dest = i.get("interface_id"), i.get("dest_type")
    wan = dest in WAN_TYPES
    if slot in _LAN_ONLY and dest not in LAN_TYPES:
        out.append(("dest_type", f"{slot} holds the site's native range and must stay LAN"))
    if slot in _WAN_ONLY and not wan:
        out.append(("dest_type", f"{slot} is a modem port: it can only be a WAN link (CATO)"))
    if wan:
        for f in ("upstream_bandwidth", "downstream_bandwidth", "role"):
            if i.get(f) is None:
                out.append((f, f"a {dest} WAN link needs {f}: set it"))
        out += [(f, f"{f} is for LAN ports: remove it for a {dest} link") for f in _LAN_FIELDS if f in i]
    else:
        for f in ("subnet", "local_ip"):
            if i.get(f) is None:
                out.append((f, f"a LAN port needs {f} (its native range): set it"))
        out += [(f, f"{f} is for WAN links: remove it for a LAN port") for f in _WAN_FIELDS if f in i]
        problem = host_in_subnet_problem(i.get("local_ip"), i.get("subnet"))
        if problem and i.get("subnet") and i.get("local_ip"):
            out.append(("local_ip", problem))
        sub, nat = i.get("subnet"), i.get("translated_subnet")
        if sub and nat and sub.split("/")[1] != nat.split("/")[1]:
            out.append(("translated_subnet", f"{nat} must be the same size as subnet {sub}"))
    return out


def _claims(i: dict[str, Any]) -> list[Claim]:
    # A port has one configuration: two resources for one port would undo each other on every up.
    site, slot = i["site_id"], i["interface_id"]
    return [Claim("port", (site, slot), "interface_id", f"port {slot} of site {site}")]


def _normalize(i: dict[str, Any]) -> dict[str, Any]:
    i = prune(i)
    i.setdefault("name", i.get("interface_id"))
    if i.get("dest_type") in WAN_TYPES:
        i.setdefault("precedence", "ACTIVE")
    return i


def _variables(_id, i, _view) -> dict[str, Any]:
    body: dict[str, Any] = {"destType": i["dest_type"], "name": i["name"]}
    if i["dest_type"] in WAN_TYPES:
        body["bandwidth"] = {
            "upstreamBandwidth": i["upstream_bandwidth"],
            "downstreamBandwidth": i["downstream_bandwidth"],
        }
        body["wan"] = {"role": i["role"], "precedence": i["precedence"]}
    else:
        body["lan"] = {"subnet": i["subnet"], "localIp": i["local_ip"]}
        if i.get("translated_subnet"):
            body["lan"]["translatedSubnet"] = i["translated_subnet"]
    return {"siteId": i["site_id"], "socketInterfaceId": i["interface_id"], "input": body}


def _split(resource_id: str) -> tuple[str, str]:
    site_id, _, slot = str(resource_id).rpartition(":")
    return site_id, slot


def _reset(resource_id, _i, _view) -> dict[str, Any]:
    site_id, slot = _split(resource_id)
    return {
        "siteId": site_id,
        "socketInterfaceId": slot,
        "input": {"destType": _DEFAULT_DEST.get(slot, "INTERFACE_DISABLED")},
    }


def _read(live: dict[str, Any], view) -> dict[str, Any]:
    out = {k: live.get(k) for k in ("site_id", "interface_id", "dest_type", "name")}
    if live.get("dest_type") in WAN_TYPES:
        out |= {k: live.get(k) for k in _WAN_FIELDS}
    elif live.get("dest_type") in LAN_TYPES:
        out |= {"local_ip": live.get("local_ip"), "subnet": live.get("subnet")}
        # The port's translated subnet is its native range's, in the ranges collection.
        native = next(
            (
                r
                for r in view.get("ranges").values()
                if r.get("interface_id") == live.get("entity_id") and r.get("range_type") == "Native"
            ),
            None,
        )
        out["translated_subnet"] = (native or {}).get("translated_subnet")
    return out


def _reconcile(live: dict[str, Any], prior: dict[str, Any]) -> dict[str, Any]:
    if live.get("dest_type") in WAN_TYPES and live.get("precedence") is None:
        return {**live, "precedence": prior.get("precedence")}
    return live


def load_socket_interfaces(r: AccountReader) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for site in r.get("sites").values():
        for port in site.get("interfaces") or []:
            slot = slot_of(port.get("id"))
            if slot is None or port.get("destType") in (None, "INTERFACE_DISABLED"):
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
    for lan in r.get("interfaces").values():
        key = f"{lan['site_id']}:{lan['interface_id']}"
        obj = out.setdefault(
            key,
            {"id": key, "site_id": lan["site_id"], "interface_id": lan["interface_id"], "name": lan["name"]},
        )
        obj.setdefault("dest_type", lan.get("dest_type"))
        obj |= {"entity_id": lan["id"], "subnet": lan.get("subnet"), "local_ip": lan.get("local_ip")}
        if lan.get("precedence"):
            obj["precedence"] = lan["precedence"]
    return out


register_loader("socket_interfaces", load_socket_interfaces, depends_on=("sites", "interfaces"))

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
    claims=_claims,
    # A port's LAN config is its native range; turning a LAN port into a WAN removes its ranges
    # (and drops them and the port from groups).
    invalidates=("sites", "interfaces", "ranges", "groups"),
    parent_input="site_id",
)
