"""NetworkRange: a LAN range (direct, routed, VLAN...) behind one of a site's LAN ports.

``interface`` is the port (SocketInterfaceIDEnum: ``LAN2``, ``INT_6``...); left out, the range is
on the port holding the site's native range, which depends on the site's model (LAN1; INT_5 on
X1600/X1600_LTE; INT_3 on X1700: ``catoiac/ports.py``). Read back, a range on that port shows no
``interface`` unless the program named one.
"""

from __future__ import annotations

from typing import Any

from ... import ports
from ..enums import enum_values
from ..spec import SUBNET, InputError, Operation, Reservation, ResourceSpec
from .common import NAME, camel, ip_in, prune

SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["site_id", "name", "subnet"],
    "properties": {
        "site_id": {"type": "string", "minLength": 1},
        "interface": {"enum": enum_values("SocketInterfaceIDEnum")},
        "name": NAME,
        "range_type": {"enum": [t for t in enum_values("SubnetType") if t != "Native"], "default": "Direct"},
        "subnet": {"type": "string", "format": "cidr"},
        "vlan": {"type": "integer", "minimum": 1, "maximum": 4094},
        "local_ip": {"type": "string", "format": "ipv4"},
        "gateway": {"type": "string", "format": "ipv4"},
        "translated_subnet": {"type": "string", "format": "cidr"},
        "internet_only": {"type": "boolean", "default": False},
        "mdns_reflector": {"type": "boolean", "default": False},
        "dhcp": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "type": {"enum": enum_values("DhcpType"), "default": "DHCP_DISABLED"},
                "ip_range": {"type": "string", "pattern": r"^\d+\.\d+\.\d+\.\d+-\d+\.\d+\.\d+\.\d+$"},
                "relay_group_id": {"type": "string"},
                "microsegmentation": {"type": "boolean", "default": False},
            },
            "default": {"type": "DHCP_DISABLED"},
        },
    },
}

_FIELDS = {
    "name": "name",
    "range_type": "rangeType",
    "subnet": "subnet",
    "vlan": "vlan",
    "local_ip": "localIp",
    "gateway": "gateway",
    "translated_subnet": "translatedSubnet",
    "internet_only": "internetOnly",
    "mdns_reflector": "mdnsReflector",
}


def _rules(i: dict[str, Any]) -> list[tuple[str, str]]:
    """Cato's range rules, checked before any API call."""
    out = []
    kind, subnet = i.get("range_type"), i.get("subnet")
    if kind in ("VLAN", "SecondaryNative") and "local_ip" not in i:
        out.append(("local_ip", f"a {kind} range needs the Socket's local_ip inside {subnet}: set local_ip"))
    if kind == "VLAN" and "vlan" not in i:
        out.append(("vlan", "a VLAN range needs a vlan tag: set vlan (1-4094)"))
    if kind == "Routed" and "gateway" not in i:
        out.append(("gateway", "a Routed range needs the gateway it is routed through: set gateway"))
    if not ip_in(i.get("local_ip"), subnet):
        out.append(("local_ip", f"{i['local_ip']} is outside subnet {subnet}: pick an address inside it"))
    translated = i.get("translated_subnet")
    if translated and subnet and translated.split("/")[1] != subnet.split("/")[1]:
        out.append(("translated_subnet", f"{translated} must be the same size as {subnet}"))
    dhcp = i.get("dhcp") or {}
    if dhcp.get("type") == "DHCP_RANGE":
        first, _, last = (dhcp.get("ip_range") or "").partition("-")
        if not last:
            out.append(("dhcp.ip_range", "DHCP_RANGE needs ip_range such as 10.0.0.100-10.0.0.150"))
        elif not (ip_in(first, subnet) and ip_in(last, subnet)):
            out.append(("dhcp.ip_range", f"{dhcp['ip_range']} must lie inside {subnet}"))
    if dhcp.get("type") == "DHCP_RELAY" and not dhcp.get("relay_group_id"):
        out.append(("dhcp.relay_group_id", "DHCP_RELAY needs relay_group_id: set it"))
    return out


def _reservations(i: dict[str, Any]) -> list[Reservation]:
    # Cato refuses a second range of one name on a port of a site, and any overlap in the account.
    # A range left without ``interface`` is on the site's native port (None here: the live check
    # resolves it with ``native_port``).
    port = i.get("interface")
    where = f"on {port or 'the native port'} of site {i['site_id']}"
    return [
        Reservation(
            "range name", (i["site_id"], port, i["name"]), "name", f"range name {i['name']!r} {where}"
        ),
        Reservation(SUBNET, i["subnet"], "subnet", f"range {i['subnet']}"),
    ]


def _dhcp(i: dict[str, Any]) -> dict[str, Any]:
    d = i.get("dhcp") or {"type": "DHCP_DISABLED"}
    return camel(
        d,
        {
            "type": "dhcpType",
            "ip_range": "ipRange",
            "relay_group_id": "relayGroupId",
            "microsegmentation": "dhcpMicrosegmentation",
        },
    )


def native_port(site_id: str, view) -> str | None:
    """The port holding a site's native range: Cato's ``isDefault`` port, else the model's."""
    for port in view.get("interfaces").values():
        if port["site_id"] == site_id and port.get("is_default"):
            return port["interface_id"]
    conn = (view.get("sites").get(site_id) or {}).get("connection_type")
    return ports.native_port(conn) if conn in ports.MODELS else None


def _lan_interface_id(i: dict[str, Any], view) -> str:
    site_id = str(i["site_id"])
    port = i.get("interface") or native_port(site_id, view)
    for itf in view.get("interfaces").values():
        if itf["site_id"] == site_id and itf["interface_id"] == port:
            return itf["id"]
    site = view.get("sites").get(site_id)
    if site is None:
        raise InputError(f"site_id: no site {site_id} in the account: check site_id")
    model = ports.MODELS.get(site.get("connection_type") or "")
    if model is not None and model.port(port or "") is None:
        raise InputError(
            f"interface: {port} is not a port of site {site_id} ({model.connection_type}): "
            f"use one of {', '.join(model.port_ids)} (the native range's port is {model.native})"
        )
    raise InputError(
        f"interface: {port} of site {site_id} is not a LAN port: make it one with a SocketInterface "
        f"(dest_type LAN) and let the range depend on it"
    )


def _create(_id, i, view) -> dict[str, Any]:
    return {
        "lanSocketInterfaceId": _lan_interface_id(i, view),
        "input": {**camel(i, _FIELDS), "dhcpSettings": _dhcp(i)},
    }


def _update(range_id, i, _view) -> dict[str, Any]:
    return {"networkRangeId": range_id, "input": {**camel(i, _FIELDS), "dhcpSettings": _dhcp(i)}}


def _read(live: dict[str, Any], view) -> dict[str, Any]:
    port = view.get("range_ports").get(live["id"]) or {}
    dhcp = {k: v for k, v in (live.get("dhcp") or {}).items() if v is not None}
    return {
        "site_id": live["site_id"],
        "interface": port.get("interface_id"),
        **{k: live.get(k) for k in _FIELDS},
        "dhcp": dhcp or {"type": "DHCP_DISABLED"},
        _ON_NATIVE_PORT: bool(port) and port.get("interface_id") == native_port(live["site_id"], view),
    }


_ON_NATIVE_PORT = "__on_native_port"  # read-only marker, dropped by reconcile/normalize


def _reconcile(live: dict[str, Any], prior: dict[str, Any]) -> dict[str, Any]:
    """A range the program put on the native port by leaving ``interface`` out reads the same way."""
    live = dict(live)
    if live.pop(_ON_NATIVE_PORT, False) and not prior.get("interface"):
        live.pop("interface", None)
    return live


def _normalize(i: dict[str, Any]) -> dict[str, Any]:
    i = prune({k: v for k, v in i.items() if k != _ON_NATIVE_PORT})
    if i.get("translated_subnet") and i.get("translated_subnet") == i.get("subnet"):
        i.pop("translated_subnet")  # Cato shows "no translation" as the subnet itself
    return i


NETWORK_RANGE = ResourceSpec(
    name="NetworkRange",
    kind="ranges",
    schema=SCHEMA,
    create=Operation("AddNetworkRange", _create, id_path="site.addNetworkRange.networkRangeId"),
    update=Operation("UpdateNetworkRange", _update),
    delete=Operation("RemoveNetworkRange", lambda rid, _i, _v: {"networkRangeId": rid}),
    replace_on=("site_id", "interface"),
    natural_key=("site_id", "name"),
    read=_read,
    rules=(_rules,),
    normalize=_normalize,
    reconcile=_reconcile,
    reservations=_reservations,
    parent_input="site_id",
)
