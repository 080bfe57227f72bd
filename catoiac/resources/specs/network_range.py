"""NetworkRange: a LAN range (direct, routed, VLAN...) behind a site's LAN interface."""

from __future__ import annotations

from typing import Any

from ..enums import enum_values
from ..spec import SUBNET, Claim, Operation, ResourceSpec
from .common import NAME, camel, ip_in, prune

SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["site_id", "name", "subnet"],
    "properties": {
        "site_id": {"type": "string", "minLength": 1},
        "interface": {"enum": enum_values("SocketInterfaceIDEnum"), "default": "LAN1"},
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


def _claims(i: dict[str, Any]) -> list[Claim]:
    # Cato refuses a second range of one name on a port of a site, and any overlap in the account.
    where = f"on {i['interface']} of site {i['site_id']}"
    return [
        Claim(
            "range name",
            (i["site_id"], i["interface"], i["name"]),
            "name",
            f"range name {i['name']!r} {where}",
        ),
        Claim(SUBNET, i["subnet"], "subnet", f"range {i['subnet']}"),
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


def _lan_interface_id(i: dict[str, Any], view) -> str:
    for itf in view.get("interfaces").values():
        if itf["site_id"] == i["site_id"] and itf["interface_id"] == i["interface"]:
            return itf["id"]
    raise ValueError(f"site {i['site_id']} has no interface {i['interface']}: check interface and site_id")


def _create(_id, i, view) -> dict[str, Any]:
    return {
        "lanSocketInterfaceId": _lan_interface_id(i, view),
        "input": {**camel(i, _FIELDS), "dhcpSettings": _dhcp(i)},
    }


def _update(range_id, i, _view) -> dict[str, Any]:
    return {"networkRangeId": range_id, "input": {**camel(i, _FIELDS), "dhcpSettings": _dhcp(i)}}


def _read(live: dict[str, Any], view) -> dict[str, Any]:
    itf = view.get("interfaces").get(live.get("interface_id") or "", {})
    dhcp = {k: v for k, v in (live.get("dhcp") or {}).items() if v is not None}
    return {
        "site_id": live["site_id"],
        "interface": itf.get("interface_id") or "LAN1",
        **{k: live.get(k) for k in _FIELDS},
        "dhcp": dhcp or {"type": "DHCP_DISABLED"},
    }


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
    normalize=prune,
    claims=_claims,
    parent_input="site_id",
)
