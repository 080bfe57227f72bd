"""The settings of a site's own native range: the Socket's local IP, DHCP and mDNS reflection.

A site's native range is made by the site's create (``addSocketSite``/``addIpsecIkeV2Site`` take
only its subnet and VLAN), so its settings are the site's inputs, written after the create, and on
every update that changes them, with ``updateNetworkRange`` on that range (``ResourceSpec.after_write``).
Why on the site and not a resource of their own: the range cannot exist without the site, nor be
created or removed apart from it, and there is one per site; a second resource would have to
"adopt" it and could not be deleted in any meaningful way (Terraform's ``cato_socket_site`` has
the same ``native_range`` block for the same reason).

A setting the program leaves out is Cato's to choose (the local IP Cato picks, the DHCP mode the
account defaults to): it is neither written nor compared, so it shows no perpetual diff. There is
no ``gateway``: the SDL's ``UpdateNetworkRangeInput.gateway`` is "only relevant for ROUTED_ROUTE"
ranges; on the native range the hosts' gateway is the Socket's ``local_ip``.

Cost: the native range's id comes from one ``networkRangeList`` call for the site (the site's native
range is the Native range with the site's ``native_range`` subnet), then one ``updateNetworkRange``.
"""

from __future__ import annotations

import copy
import ipaddress
from collections.abc import Mapping
from typing import Any

from ...errors import CatoError
from ..enums import enum_values
from .checks import host_in_subnet_problem
from .common import camel, ip_in
from .network_range import _dhcp as dhcp_input

SETTINGS = ("local_ip", "dhcp", "mdns_reflector")
PROPERTIES: dict[str, Any] = {
    "local_ip": {"type": "string", "format": "ipv4"},
    "dhcp": {
        "type": "object",
        "additionalProperties": False,
        "required": ["type"],
        "properties": {
            "type": {"enum": enum_values("DhcpType")},
            "ip_range": {"type": "string", "pattern": r"^\d+\.\d+\.\d+\.\d+-\d+\.\d+\.\d+\.\d+$"},
            "relay_group_id": {"type": "string", "minLength": 1},
            "microsegmentation": {"type": "boolean"},
        },
    },
    "mdns_reflector": {"type": "boolean"},
}


def rules(i: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Cato's rules for the settings, against the site's ``native_range``."""
    out: list[tuple[str, str]] = []
    subnet = i.get("native_range")
    if i.get("local_ip") and subnet:
        problem = host_in_subnet_problem(i["local_ip"], subnet)
        if problem:
            out.append(("local_ip", problem))
    dhcp = i.get("dhcp") or {}
    kind = dhcp.get("type")
    if kind == "DHCP_RANGE":
        first, _, last = (dhcp.get("ip_range") or "").partition("-")
        if not last:
            out.append(("dhcp.ip_range", "DHCP_RANGE needs ip_range such as 10.0.0.100-10.0.0.150"))
        elif not (ip_in(first, subnet) and ip_in(last, subnet)):
            out.append(("dhcp.ip_range", f"{dhcp['ip_range']} must lie inside the native range {subnet}"))
    elif dhcp.get("ip_range"):
        out.append(("dhcp.ip_range", f"ip_range is only for DHCP_RANGE, not {kind}: remove it"))
    if kind == "DHCP_RELAY" and not dhcp.get("relay_group_id"):
        out.append(
            ("dhcp.relay_group_id", "DHCP_RELAY needs relay_group_id (a DHCP relay group's id): set it")
        )
    elif kind != "DHCP_RELAY" and dhcp.get("relay_group_id"):
        out.append(("dhcp.relay_group_id", f"relay_group_id is only for DHCP_RELAY, not {kind}: remove it"))
    if dhcp.get("microsegmentation") and kind != "DHCP_RANGE":
        # SDL NetworkDhcpSettingsInput.dhcpMicrosegmentation: "Only relevant for DHCP range".
        out.append(("dhcp.microsegmentation", "microsegmentation is only for DHCP_RANGE: remove it"))
    return out


def normalize(i: dict[str, Any]) -> dict[str, Any]:
    """``microsegmentation: false`` is what an unset one reads as."""
    dhcp = i.get("dhcp")
    if isinstance(dhcp, dict) and not dhcp.get("microsegmentation"):
        i["dhcp"] = {k: v for k, v in dhcp.items() if k != "microsegmentation"}
    return i


def read(native: Mapping[str, Any] | None) -> dict[str, Any]:
    """The settings of a live native range (a ``ranges`` collection object)."""
    if not native:
        return {}
    dhcp = {k: v for k, v in (native.get("dhcp") or {}).items() if v is not None}
    out = {"local_ip": native.get("local_ip"), "mdns_reflector": native.get("mdns_reflector")}
    if dhcp.get("type"):
        out["dhcp"] = dhcp
    return {k: v for k, v in out.items() if v is not None}


def addressing(native: Mapping[str, Any] | None) -> dict[str, Any]:
    """The native range's VLAN and NAT subnet, as a site's ``vlan`` and ``translated_subnet``."""
    native = native or {}
    out = {"vlan": native.get("vlan"), "translated_subnet": native.get("translated_subnet")}
    return {k: v for k, v in out.items() if v is not None}


def reconcile(live: dict[str, Any], prior: Mapping[str, Any]) -> dict[str, Any]:
    """A setting the program leaves to Cato is not compared."""
    return {k: v for k, v in live.items() if k not in SETTINGS or k in prior}


def _changed(olds: Mapping[str, Any] | None, news: Mapping[str, Any]) -> dict[str, Any]:
    wanted = {k: news[k] for k in SETTINGS if k in news}
    if olds is None:
        return wanted
    return wanted if any(olds.get(k) != news.get(k) for k in SETTINGS) else {}


def native_range_id(session, site_id: str, subnet: str | None) -> str:
    """The id of a site's own native range: the Native range with the site's subnet (one call)."""
    data = session.client.execute("NetworkRangeList", {"site": {"by": "ID", "input": str(site_id)}})
    items = ((data.get("site") or {}).get("networkRangeList") or {}).get("items") or []
    natives = [r for r in items if r.get("rangeType") == "Native"]
    mine = [r for r in natives if r.get("subnet") == subnet] or natives[:1]
    if not mine:
        raise CatoError(f"site {site_id} has no native range to configure")
    return str(mine[0]["networkRangeId"])


def write(
    session, site_id: str, olds: Mapping[str, Any] | None, news: Mapping[str, Any], *, movable: bool = False
) -> None:
    """``updateNetworkRange`` of the site's native range with the settings the program sets, when
    they are new or changed; nothing when the program sets none. ``movable``: the native range's
    subnet and VLAN change in place too (an IPsec site's; a Socket site is replaced instead)."""
    settings = _changed(olds, news)
    body: dict[str, Any] = camel(
        {k: v for k, v in settings.items() if k != "dhcp"},
        {"local_ip": "localIp", "mdns_reflector": "mdnsReflector"},
    )
    if "dhcp" in settings:
        body["dhcpSettings"] = dhcp_input({"dhcp": copy.deepcopy(settings["dhcp"])})
    if movable and olds is not None:
        if olds.get("native_range") != news.get("native_range"):
            body["subnet"] = news["native_range"]
            # The old local IP is outside the new subnet: unless the program sets one, the first
            # host address, as a new site gets.
            first = next(ipaddress.IPv4Network(news["native_range"]).hosts())
            body.setdefault("localIp", str(first))
        if olds.get("vlan") != news.get("vlan") and news.get("vlan") is not None:
            body["vlan"] = news["vlan"]
    if not body:
        return
    subnet = (olds or news).get("native_range")
    range_id = native_range_id(session, site_id, subnet)
    session.client.execute("UpdateNetworkRange", {"networkRangeId": range_id, "input": body})
    session.reader.invalidate("ranges")
