"""Socket sites and their inventory: interfaces, network ranges, static hosts and BGP peers.

The functions ``add_site`` ... ``remove_bgp_peer`` are the backend: they hold every rule and write
the audit trail, and both the ``site`` namespace resolvers and the fixture seeder call them.

State (one store entity each; the store kind is Cato's ``EntityType`` name):
- ``site``: general details, as ``siteGeneralDetails`` returns them, plus ``connectionType``.
- ``networkInterface``: one per port of the site's model (``catoiac/ports.py``: ``slot`` is the
  ``SocketInterfaceIDEnum`` value, ``index`` how reads show it: ``"5"`` or ``"LAN1"``), created
  with the site. The model's WAN ports (WAN1/WAN2, or INT_1/INT_2) start as ``CATO`` WAN links,
  its native port (LAN1, INT_5 on X1600/X1600_LTE, INT_3 on X1700) is the ``LAN`` that holds the
  site's native range, the other ports start disabled. A LAN port's subnet is its native range's.
- ``siteRange``: ``NetworkRange`` fields plus ``siteId``/``interfaceId``. Ids are Cato-style
  base64 (``N<n>`` for native ranges, ``S<n>`` for the others).
- ``host``, ``bgpPeer``: the API's fields plus ``siteId``.
- ``subnetIndex``: one row per range, keyed by the range's first address, so the account-wide
  overlap check is one indexed lookup (ranges are disjoint, so only the nearest lower range can
  overlap a new one).

Rules: unique site names per account, range names per interface and host/BGP-peer/interface
names per site; valid
CIDRs given as network addresses; no two ranges in the account overlap; a local IP, DHCP range
or host IP must lie inside its subnet (a static host inside one of its site's ranges: Cato
reserves hosts on the site's LAN); a native range can't be removed and the port holding the
site's native range stays a LAN type; a range can't be removed or shrunk while static hosts use
it; country codes, timezones and cities come from ``catalog``; at most 3,500 static hosts per
site and 1,000 ranges per LAN port (KB 4414483096465). Unknown ids give "<Kind> with id X not
found". Audit records carry no before/after values (only firewall policies' do).

``updateSocketInterface`` replaces the port's whole configuration (``destType`` is required):
what the input leaves out returns to the port's default. The port must exist on the model and
accept the destination type (``ports.Model.problem``: modem ports are CATO only, LAG types only
on LAG-capable ports); a sub-input for another destination type is refused (the SDL's "Only
relevant for ..."); a LAN_LAG_MEMBER needs a LAG master on the site. Turning a LAN port into
anything else removes its ranges; turning a port into a LAN type needs ``lan {subnet localIp}``
(its native range).

Fixture section (``accounts[].sites``), loaded through the same functions, so the same rules hold::

    sites:
      - name: HQ                       # required; id: "123" is accepted, else one is assigned
        type: HEADQUARTERS             # SiteType, default BRANCH
        connection_type: SOCKET_X1600  # SiteConnectionTypeEnum, default SOCKET_X1500
        country_code: US               # required, with timezone
        state_code: US-CA
        city: San Diego
        address: 1 Main St
        timezone: America/Los_Angeles
        description: Head office
        native_range: {subnet: 10.0.0.0/24, local_ip: 10.0.0.1, vlan: 10}   # or just "10.0.0.0/24"
        interfaces:                    # updateSocketInterface per port
          - {id: INT_5, dest_type: LAN, name: Servers, subnet: 10.5.0.0/24, local_ip: 10.5.0.1}
          - {id: INT_1, dest_type: CATO, upstream_bandwidth: 100, downstream_bandwidth: 100,
             role: wan_1, precedence: ACTIVE}
          - {id: INT_4, dest_type: LAN_LAG_MEMBER}   # needs a LAN_LAG_MASTER port (lag_min_links: 2)
        ranges:                        # addNetworkRange; interface: a port id or name, default: the
                                       # native range's port (LAN1, INT_5 or INT_3: catoiac/ports.py)
          - {name: Printers, subnet: 10.0.1.0/24, range_type: Routed, gateway: 10.0.0.254}
          - {name: Voice, subnet: 10.0.2.0/24, range_type: VLAN, vlan: 20, local_ip: 10.0.2.1}
        hosts: [{name: printer-1, ip: 10.0.0.10, mac: "00:11:22:33:44:55"}]
        bgp_peers: [{name: core, peer_ip: 10.0.0.2, peer_asn: 65001, cato_asn: 65000,
                     default_action: ACCEPT}]

Other keys of a range or BGP peer are the API input's fields in snake_case (``dhcp_settings``...).
Other domains may append to ``ON_DELETE`` to hear which entities a removal took with it.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import re
from collections.abc import Callable, Iterable
from typing import Any

from graphql import GraphQLError, coerce_input_value

from ... import ports
from ...cities import city_problem
from .. import audit
from ..catalog import COUNTRIES, TIMEZONES
from ..context import CatoGraphQLError, RequestContext, invalid, not_found
from ..registry import mutation, query, seeder

SITE, IFACE, RANGE, HOST, BGP = "site", "networkInterface", "siteRange", "host", "bgpPeer"
# What each port was configured as, and when: the socket acts on its config (a disabled WAN port
# drops its tunnel), so the monitoring domain reads this, not the audit trail (whose values Cato
# records only for the firewalls).
PORT_CHANGE = "portChange"
_NET_INDEX = "subnetIndex"
_LABEL = {
    SITE: "Site",
    IFACE: "Network interface",
    RANGE: "Network range",
    HOST: "Static host",
    BGP: "BGP peer",
}
_MODEL = {SITE: "Site", IFACE: "SocketInterface", RANGE: "NetworkRange", HOST: "StaticHost", BGP: "BgpPeer"}
_ID_START = {SITE: 100000, IFACE: 200000, RANGE: 300000, HOST: 400000, BGP: 500000, "group": 600000}

# Entities a removal took with it: (kind, id) pairs. groups.py drops them from groups.
ON_DELETE: list[Callable[[RequestContext, list[tuple[str, str]]], None]] = []

# -- socket models: catoiac/ports.py holds each model's ports (shared with the provider) --------
LAN_TYPES = set(ports.LAN_DESTS)  # a port of these types holds a native range
WAN_TYPES = set(ports.WAN_DESTS)
_BANDWIDTH = (
    "upstreamBandwidth",
    "downstreamBandwidth",
    "upstreamBandwidthMbpsPrecision",
    "downstreamBandwidthMbpsPrecision",
)
# Entity limits, Cato KB 4414483096465 ("Cato Management Application limits").
MAX_HOSTS_PER_SITE = 3500
MAX_RANGES_PER_PORT = 1000
DEFAULT_BANDWIDTH = 10  # Mbps, each way, on a WAN link nobody configured
POPS = {
    "101": "Amsterdam",
    "102": "Frankfurt",
    "103": "London",
    "104": "New York",
    "105": "Los Angeles",
    "106": "Singapore",
    "107": "Tokyo",
    "108": "Sydney",
    "109": "Sao Paulo",
    "110": "Tel Aviv",
}

RANGE_FIELDS = (
    "name",
    "rangeType",
    "subnet",
    "localIp",
    "gateway",
    "vlan",
    "translatedSubnet",
    "internetOnly",
    "mdnsReflector",
    "azureFloatingIp",
    "dhcpSettings",
)
HOST_FIELDS = ("name", "ip", "macAddress")
_MAC = re.compile(r"^[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}$")


# -- store access ---------------------------------------------------------------------------------
def get(ctx: RequestContext, kind: str, entity_id: Any) -> dict[str, Any]:
    rec = ctx.store.get(ctx.account_id, kind, str(entity_id))
    if rec is None:
        raise not_found(_LABEL.get(kind, kind), str(entity_id))
    return rec


def children(ctx: RequestContext, kind: str, site_id: str) -> list[dict[str, Any]]:
    return ctx.store.list(ctx.account_id, kind, parent_id=site_id)


def put(ctx: RequestContext, kind: str, rec: dict[str, Any]) -> None:
    ctx.store.put(ctx.account_id, kind, rec["id"], rec, parent_id=rec.get("siteId"), name=rec["name"])


def new_id(ctx: RequestContext, kind: str, explicit: Any = None) -> str:
    """The next id of a kind, or a fixture's explicit one (the counter then moves past it)."""
    if explicit is None:
        return str(ctx.store.next_id(kind, _ID_START.get(kind, 1000)))
    explicit = str(explicit)
    if ctx.store.get(ctx.account_id, kind, explicit) is not None:
        raise invalid(f"{_LABEL.get(kind, kind)} id {explicit} is already in use")
    if explicit.isdigit():
        ctx.store.execute(
            "INSERT INTO counters(name, value) VALUES(?, ?) ON CONFLICT(name) DO UPDATE SET value=max(value, ?)",
            (kind, int(explicit), int(explicit)),
        )
    return explicit


def site_ref(ctx: RequestContext, ref: dict[str, Any]) -> dict[str, Any]:
    """Resolve a ``SiteRefInput`` {by, input}."""
    if ref.get("by", "ID") == "NAME":
        found = ctx.store.find_by_name(ctx.account_id, SITE, ref["input"])
        if not found:
            raise CatoGraphQLError(f"Site with name {ref['input']} not found", "NOT_FOUND")
        return found[0]
    return get(ctx, SITE, ref["input"])


def timestamp(ctx: RequestContext) -> str:
    return ctx.now.strftime("%Y-%m-%dT%H:%M:%SZ")


def iface_name(site: dict, iface: dict) -> str:
    return f"{site['name']} \\ {iface['name']}"


def range_name(site: dict, iface: dict, rng: dict) -> str:
    return f"{site['name']} \\ {iface['name']} \\ {rng['name']}"


def log(
    ctx: RequestContext,
    kind: str,
    obj_id: str,
    name: str,
    change: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    *,
    model: str | None = None,
) -> None:
    """One audit record. ``audit.record`` keeps the before/after values only where Cato records
    them (KB 4413273463953, "such as the Internet Firewall and WAN Firewall"), or where a fixture
    asks for values on every object. Seeding writes none (it is history before any drift window)."""
    if ctx.scratch.get("seeding"):
        return
    audit.record(
        ctx,
        object_id=obj_id,
        object_name=name,
        object_type=kind,
        change_type=change,
        model_type=model or _MODEL[kind],
        module="configuration",
        before=before,
        after=after,
    )


_INTERNAL = {"id", "siteId", "interfaceId", "nativeRangeId", "creationTime", "slot", "index"}


def flat(rec: dict[str, Any]) -> dict[str, Any]:
    """Audit view: user-facing fields, nested inputs flattened one level (siteLocation.timezone -> timezone)."""
    out: dict[str, Any] = {}
    for k, v in rec.items():
        if isinstance(v, dict):
            out.update({kk: vv for kk, vv in v.items() if kk not in _INTERNAL})
        elif k not in _INTERNAL:
            out[k] = v
    return out


def interface_flat(ctx: RequestContext, iface: dict[str, Any]) -> dict[str, Any]:
    native = ctx.store.get(ctx.account_id, RANGE, iface["nativeRangeId"] or "") or {}
    return flat(iface) | {"subnet": native.get("subnet"), "localIp": native.get("localIp")}


def _merge(old: dict[str, Any], inp: dict[str, Any], fields: Iterable[str]) -> dict[str, Any]:
    """An update: the given (non-null) input fields over the stored record."""
    return {**old, **{k: inp[k] for k in fields if inp.get(k) is not None}}


def _unique(ctx: RequestContext, kind: str, rec: dict, site: dict, scope: str = "siteId") -> None:
    """Names are unique per site (ranges: per interface, ``scope="interfaceId"``)."""
    rows = ctx.store.execute(
        "SELECT data FROM entities INDEXED BY entities_parent WHERE account_id=? AND kind=? AND parent_id=? AND name=?",
        (ctx.account_id, kind, site["id"], rec["name"]),
    )
    if any((o := json.loads(r["data"]))["id"] != rec["id"] and o[scope] == rec[scope] for r in rows):
        where = f"interface {get(ctx, IFACE, rec[scope])['name']} of " if scope == "interfaceId" else ""
        raise invalid(
            f"{_LABEL[kind]} name '{rec['name']}' is already in use on {where}site '{site['name']}'"
        )


# -- address rules --------------------------------------------------------------------------------
def parse_net(value: Any, field: str = "subnet") -> ipaddress.IPv4Network:
    try:
        return ipaddress.IPv4Network(str(value), strict=True)
    except ValueError as e:
        raise invalid(f"Invalid {field} '{value}': {e}") from None


def parse_ip(value: Any, field: str) -> ipaddress.IPv4Address:
    try:
        return ipaddress.IPv4Address(str(value))
    except ValueError:
        raise invalid(f"Invalid {field} '{value}': not an IPv4 address") from None


def _in_net(value: Any, net: ipaddress.IPv4Network, field: str) -> None:
    ip = parse_ip(value, field)
    if ip not in net or (net.num_addresses > 2 and ip in (net.network_address, net.broadcast_address)):
        raise invalid(f"{field} {value} is not a host address of {net}")


def _key(addr: ipaddress.IPv4Address) -> str:
    return f"{int(addr):08x}"


def _check_overlap(ctx: RequestContext, net: ipaddress.IPv4Network, self_id: str | None) -> None:
    """Ranges are disjoint, so only the range starting nearest below ``net``'s end can overlap it."""
    row = ctx.store.execute(
        "SELECT id, json_extract(data, '$.last') AS last FROM entities"
        " WHERE account_id=? AND kind=? AND name<=? AND id<>? ORDER BY name DESC LIMIT 1",
        (ctx.account_id, _NET_INDEX, _key(net.broadcast_address), self_id or ""),
    ).fetchone()
    if row is not None and row["last"] >= int(net.network_address):
        other = get(ctx, RANGE, row["id"])
        site, iface = get(ctx, SITE, other["siteId"]), get(ctx, IFACE, other["interfaceId"])
        raise invalid(
            f"Subnet {net} overlaps network range '{range_name(site, iface, other)}' ({other['subnet']})"
        )


def _require_hosts_covered(ctx: RequestContext, site_id: str, rng_id: str, new_net) -> None:
    """Refuse a range change that would leave a static host outside every range of its site."""
    nets = [parse_net(r["subnet"]) for r in children(ctx, RANGE, site_id) if r["id"] != rng_id]
    nets += [new_net] if new_net is not None else []
    for h in children(ctx, HOST, site_id):
        if not any(ipaddress.IPv4Address(h["ip"]) in n for n in nets):
            raise invalid(f"Static host '{h['name']}' ({h['ip']}) would be outside every range of its site")


# -- sites ----------------------------------------------------------------------------------------
def _check_location(loc: dict[str, Any]) -> None:
    if loc.get("countryCode") not in COUNTRIES:
        raise invalid(f"Unknown country code '{loc.get('countryCode')}'")
    if loc.get("timezone") not in TIMEZONES:
        raise invalid(f"Unknown timezone '{loc.get('timezone')}'")
    if loc.get("stateCode") and not loc["stateCode"].startswith(f"{loc['countryCode']}-"):
        raise invalid(f"State code '{loc['stateCode']}' is not a state of {loc['countryCode']}")
    # SDL AddSiteLocationInput.city: "city name, must belong to the country or country and state".
    problem = city_problem(loc.get("cityName"), loc.get("countryCode"), loc.get("stateCode"))
    if problem:
        raise invalid(f"Invalid city: {problem}")


def _pop(ref: dict[str, Any] | None) -> dict[str, str] | None:
    if ref is None:
        return None
    by_name = {v: k for k, v in POPS.items()}
    pop_id = by_name.get(ref["input"]) if ref.get("by") == "NAME" else ref["input"]
    if pop_id not in POPS:
        raise CatoGraphQLError(f"PoP location {ref['input']} not found", "NOT_FOUND")
    return {"id": pop_id, "name": POPS[pop_id]}


def add_site(ctx: RequestContext, inp: dict[str, Any], explicit_id: Any = None) -> str:
    if ctx.store.find_by_name(ctx.account_id, SITE, inp["name"]):
        raise invalid(f"Site name '{inp['name']}' is already in use")
    loc = inp["siteLocation"]
    location = {k: loc.get(k) for k in ("address", "countryCode", "stateCode", "timezone")}
    location["cityName"] = loc.get("city")
    _check_location(location)
    conn = inp.get("connectionType") or "SOCKET_X1500"
    native = parse_net(inp["nativeNetworkRange"], "nativeNetworkRange")
    if native.num_addresses < 4:
        raise invalid(f"Native range {native} is too small: it needs room for the socket's local IP")
    site = {
        "id": new_id(ctx, SITE, explicit_id),
        "name": inp["name"],
        "siteType": inp.get("siteType") or "BRANCH",
        "connectionType": conn,
        "description": inp.get("description"),
        "siteLocation": location,
        "preferredPopLocation": None,
        "creationTime": timestamp(ctx),
    }
    put(ctx, SITE, site)
    model = ports.model(conn)
    for port in model.ports:
        iface = {
            **_port_defaults(port),
            "id": new_id(ctx, IFACE),
            "siteId": site["id"],
            "nativeRangeId": None,
        }
        if port.id == model.native:
            native_range = {
                "name": "Native Range",
                "rangeType": "Native",
                "subnet": str(native),
                "localIp": str(native.network_address + 1),
                "vlan": inp.get("vlan"),
                "translatedSubnet": inp.get("translatedSubnet"),
            }
            iface["nativeRangeId"] = _create_range(ctx, site, iface, native_range)["id"]
        put(ctx, IFACE, iface)
    log(ctx, SITE, site["id"], site["name"], "CREATED")
    return site["id"]


def update_site(ctx: RequestContext, site_id: str, inp: dict[str, Any]) -> None:
    old = get(ctx, SITE, site_id)
    new = _merge(old, inp, ("name", "description", "siteType"))
    if new["name"] != old["name"] and ctx.store.find_by_name(ctx.account_id, SITE, new["name"]):
        raise invalid(f"Site name '{new['name']}' is already in use")
    if inp.get("siteLocation"):
        # Omitted location fields stay; an explicit null clears one (say, the state when moving country).
        new["siteLocation"] = old["siteLocation"] | inp["siteLocation"]
        _check_location(new["siteLocation"])
    if inp.get("preferredPopLocation"):
        p = inp["preferredPopLocation"]
        new["preferredPopLocation"] = {
            "preferredOnly": p["preferredOnly"],
            "primary": _pop(p.get("primary")),
            "secondary": _pop(p.get("secondary")),
        }
    put(ctx, SITE, new)
    log(ctx, SITE, site_id, new["name"], "MODIFIED", flat(old), flat(new))


def remove_site(ctx: RequestContext, site_id: str) -> None:
    site = get(ctx, SITE, site_id)
    gone = [(SITE, site["id"])]
    for kind in (RANGE, HOST, IFACE, BGP):
        gone += [(kind, r["id"]) for r in children(ctx, kind, site["id"])]
        ctx.store.delete_children(ctx.account_id, kind, site["id"])
    ctx.store.delete_children(ctx.account_id, _NET_INDEX, site["id"])
    ctx.store.delete(ctx.account_id, SITE, site["id"])
    for hook in ON_DELETE:
        hook(ctx, gone)
    log(ctx, SITE, site["id"], site["name"], "DELETED")


# -- interfaces -----------------------------------------------------------------------------------
def _port_defaults(port: ports.Port) -> dict[str, Any]:
    rec = {
        "slot": port.id,
        "index": port.index,
        "name": port.id,
        "destType": port.default_dest,
        "wanRole": port.wan_role,
        "precedence": "ACTIVE" if port.wan_role else None,
        "lag": None,
        "vrrp": None,
        "offCloud": None,
        "altWan": None,
    }
    wan = rec["destType"] in WAN_TYPES
    return rec | {k: (DEFAULT_BANDWIDTH if wan else None) for k in _BANDWIDTH}


def interface_of(ctx: RequestContext, site_id: str, slot: str) -> dict[str, Any] | None:
    return next((i for i in children(ctx, IFACE, site_id) if i["slot"] == slot), None)


def native_interface(ctx: RequestContext, site: dict[str, Any]) -> dict[str, Any] | None:
    """The port holding the site's own native range (LAN1, INT_5 or INT_3 by model)."""
    return interface_of(ctx, site["id"], ports.native_port(site["connectionType"]))


def _check_port_input(site: dict, slot: str, inp: dict[str, Any]) -> None:
    """The model's port table, then the SDL's "Only relevant for ..." per sub-input: a sub-input
    for another destination type is refused (fail safe: the provider must never rely on Cato
    ignoring it)."""
    dest = inp["destType"]
    problem = ports.model(site["connectionType"]).problem(slot, dest)
    if problem:
        raise invalid(problem)
    for key, dests in ports.RELEVANT.items():
        if inp.get(key) is not None and dest not in dests:
            raise invalid(f"{key} is only relevant for {', '.join(dests)}, not {dest}")
    if (inp.get("lag") or {}).get("minLinks") is not None and inp["lag"]["minLinks"] < 1:
        raise invalid("lag.minLinks must be at least 1")


def _check_lag(ctx: RequestContext, site: dict, old: dict, dest: str) -> None:
    """A LAG member joins the site's LAG master (TF lan_interface_lag_member docs: members depend
    on the master; cato-cli's X1600 template pairs an INT_5 master with an INT_4 member), and a
    master with members stays a master."""
    others = [i for i in children(ctx, IFACE, site["id"]) if i["id"] != old["id"]]
    masters = [i for i in others if i["destType"] in ports.LAG_MASTERS]
    if dest == ports.LAG_MEMBER and not masters:
        raise invalid(
            f"Interface {old['slot']} can't be a {ports.LAG_MEMBER}: site '{site['name']}' has no "
            f"{' or '.join(ports.LAG_MASTERS)} port; configure the master first"
        )
    members = [i["slot"] for i in others if i["destType"] == ports.LAG_MEMBER]
    if old["destType"] in ports.LAG_MASTERS and dest not in ports.LAG_MASTERS and members and not masters:
        raise invalid(
            f"Interface {old['slot']} is the LAG master of {', '.join(members)}: change the members first"
        )


def update_interface(ctx: RequestContext, site_id: str, slot: str, inp: dict[str, Any]) -> None:
    site = get(ctx, SITE, site_id)
    old = interface_of(ctx, site["id"], slot)
    _check_port_input(site, slot, inp)
    if old is None:
        raise invalid(f"Socket interface {slot} does not exist on a {site['connectionType']} site")
    _check_lag(ctx, site, old, inp["destType"])
    before = interface_flat(ctx, old)
    port = ports.model(site["connectionType"]).port(slot)
    assert port is not None
    new = {
        **_port_defaults(port),
        "id": old["id"],
        "siteId": site["id"],
        "nativeRangeId": old["nativeRangeId"],
    }
    new["destType"], new["name"] = inp["destType"], inp.get("name") or slot
    if new["destType"] not in WAN_TYPES:
        new.update({k: None for k in (*_BANDWIDTH, "wanRole", "precedence")})
    _unique(ctx, IFACE, new, site)
    new.update({k: v for k, v in (inp.get("bandwidth") or {}).items() if v is not None})
    if inp.get("wan"):
        new["wanRole"], new["precedence"] = inp["wan"]["role"], inp["wan"]["precedence"]
    new.update({k: inp[k] for k in ("lag", "vrrp", "offCloud", "altWan") if inp.get(k) is not None})
    lan, is_lan = inp.get("lan"), new["destType"] in LAN_TYPES
    if is_lan and lan:  # the port's native range follows its LAN addressing
        native = {
            "subnet": lan["subnet"],
            "localIp": lan["localIp"],
            "translatedSubnet": lan.get("translatedSubnet"),
        }
        if new["nativeRangeId"]:
            _change_range(ctx, get(ctx, RANGE, new["nativeRangeId"]), native)
        else:
            native |= {"name": "Native Range", "rangeType": "Native"}
            new["nativeRangeId"] = _create_range(ctx, site, new, native)["id"]
    elif is_lan and not new["nativeRangeId"]:
        raise invalid(
            f"Interface {slot} as {new['destType']} needs lan {{subnet, localIp}}: its native range"
        )
    elif not is_lan and new["nativeRangeId"]:
        for r in children(ctx, RANGE, site["id"]):
            if r["interfaceId"] == old["id"]:
                _require_hosts_covered(ctx, site["id"], r["id"], None)
                _delete_range(ctx, r)
        new["nativeRangeId"] = None
    put(ctx, IFACE, new)
    if old.get("destType") != new.get("destType") and not ctx.scratch.get("seeding"):
        change = {"time": ctx.now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "before": old.get("destType"),
                  "after": new.get("destType"),
                  "name": old.get("name") or slot}  # fmt: skip
        ctx.store.put(ctx.account_id, PORT_CHANGE, new_id(ctx, PORT_CHANGE), change, parent_id=new["id"])
    log(ctx, IFACE, new["id"], iface_name(site, new), "MODIFIED", before, interface_flat(ctx, new))


# -- network ranges -------------------------------------------------------------------------------
def _validate_range(ctx: RequestContext, site: dict, iface: dict, rec: dict) -> ipaddress.IPv4Network:
    if not rec.get("name"):
        raise invalid("A network range needs a name")
    _unique(ctx, RANGE, rec, site, scope="interfaceId")
    net = parse_net(rec["subnet"])
    _check_overlap(ctx, net, rec["id"])
    kind = rec["rangeType"]
    if kind in ("Native", "VLAN", "SecondaryNative") and not rec.get("localIp"):
        raise invalid(f"A {kind} range needs a localIp")
    if rec.get("localIp"):
        _in_net(rec["localIp"], net, "localIp")
    if kind == "VLAN" and not (isinstance(rec.get("vlan"), int) and 1 <= rec["vlan"] <= 4094):
        raise invalid("A VLAN range needs a vlan between 1 and 4094")
    if kind == "Routed":
        if not rec.get("gateway"):
            raise invalid("A Routed range needs a gateway")
        native = ctx.store.get(ctx.account_id, RANGE, iface.get("nativeRangeId") or "")
        if native and native["id"] != rec["id"]:
            _in_net(rec["gateway"], parse_net(native["subnet"]), "gateway")
    if (
        rec.get("translatedSubnet")
        and parse_net(rec["translatedSubnet"], "translatedSubnet").prefixlen != net.prefixlen
    ):
        raise invalid(f"translatedSubnet {rec['translatedSubnet']} must be the same size as {net}")
    dhcp = rec["dhcpSettings"]
    if dhcp["dhcpType"] == "DHCP_RANGE":
        first, _, last = str(dhcp.get("ipRange") or "").partition("-")
        if not last:
            raise invalid("DHCP_RANGE needs an ipRange such as 10.0.0.100-10.0.0.150")
        for ip in (first, last):
            _in_net(ip.strip(), net, "DHCP range")
    if dhcp["dhcpType"] == "DHCP_RELAY" and not dhcp.get("relayGroupId"):
        raise invalid("DHCP_RELAY needs a relayGroupId")
    return net


def _dhcp(value: dict[str, Any] | None) -> dict[str, Any]:
    value = value or {"dhcpType": "DHCP_DISABLED"}
    return {
        "dhcpMicrosegmentation": False,
        "ipRange": None,
        "relayGroupId": None,
        "leaseTimeSettings": None,
    } | {k: v for k, v in value.items() if v is not None}


def _save_range(ctx: RequestContext, site: dict, iface: dict, rec: dict) -> None:
    net = _validate_range(ctx, site, iface, rec)
    put(ctx, RANGE, rec)
    index = {"last": int(net.broadcast_address)}
    ctx.store.put(
        ctx.account_id, _NET_INDEX, rec["id"], index, parent_id=site["id"], name=_key(net.network_address)
    )


def _create_range(
    ctx: RequestContext, site: dict, iface: dict, fields: dict, explicit_id: Any = None
) -> dict:
    if explicit_id is None:  # Cato's style: base64 of N<n> (native ranges) or S<n>
        tag = "N" if fields["rangeType"] == "Native" else "S"
        range_id = base64.b64encode(f"{tag}{ctx.store.next_id(RANGE, _ID_START[RANGE])}".encode()).decode()
    else:
        range_id = new_id(ctx, RANGE, explicit_id)
    rec = {f: fields.get(f) for f in RANGE_FIELDS} | {
        "internetOnly": bool(fields.get("internetOnly")),
        "mdnsReflector": bool(fields.get("mdnsReflector")),
    }
    rec |= {
        "id": range_id,
        "siteId": site["id"],
        "interfaceId": iface["id"],
        "dhcpSettings": _dhcp(fields.get("dhcpSettings")),
    }
    _save_range(ctx, site, iface, rec)
    return rec


def _change_range(ctx: RequestContext, old: dict, inp: dict) -> dict:
    new = _merge(old, inp, RANGE_FIELDS)
    if "dhcpSettings" in inp:
        new["dhcpSettings"] = _dhcp(inp["dhcpSettings"])
    if "translatedSubnet" in inp:
        new["translatedSubnet"] = inp["translatedSubnet"]
    if "Native" in (old["rangeType"], new["rangeType"]) and new["rangeType"] != old["rangeType"]:
        raise invalid("A range can't become or stop being its interface's native range")
    site, iface = get(ctx, SITE, old["siteId"]), get(ctx, IFACE, old["interfaceId"])
    _save_range(ctx, site, iface, new)
    if new["subnet"] != old["subnet"]:
        _require_hosts_covered(ctx, site["id"], old["id"], parse_net(new["subnet"]))
    return new


def _delete_range(ctx: RequestContext, rng: dict) -> None:
    ctx.store.delete(ctx.account_id, RANGE, rng["id"])
    ctx.store.delete(ctx.account_id, _NET_INDEX, rng["id"])
    for hook in ON_DELETE:
        hook(ctx, [(RANGE, rng["id"])])


def add_range(ctx: RequestContext, iface_id: str, inp: dict[str, Any], explicit_id: Any = None) -> str:
    iface = get(ctx, IFACE, iface_id)
    if not iface["nativeRangeId"]:
        raise invalid(f"Network interface {iface_id} is not a LAN interface; ranges belong to LAN interfaces")
    if inp["rangeType"] == "Native":
        raise invalid(
            "An interface has one native range, set with the interface; add a Direct, Routed or VLAN range"
        )
    site = get(ctx, SITE, iface["siteId"])
    on_port = sum(1 for r in children(ctx, RANGE, site["id"]) if r["interfaceId"] == iface["id"])
    if on_port >= MAX_RANGES_PER_PORT:
        raise invalid(
            f"Network interface {iface['name']} already has {on_port} network ranges: "
            f"the limit is {MAX_RANGES_PER_PORT} per LAN port"
        )
    rec = _create_range(ctx, site, iface, inp, explicit_id)
    log(ctx, RANGE, rec["id"], range_name(site, iface, rec), "CREATED")
    return rec["id"]


def update_range(ctx: RequestContext, range_id: str, inp: dict[str, Any]) -> None:
    old = get(ctx, RANGE, range_id)
    new = _change_range(ctx, old, inp)
    site, iface = get(ctx, SITE, new["siteId"]), get(ctx, IFACE, new["interfaceId"])
    log(ctx, RANGE, range_id, range_name(site, iface, new), "MODIFIED", flat(old), flat(new))


def remove_range(ctx: RequestContext, range_id: str) -> None:
    rng = get(ctx, RANGE, range_id)
    if rng["rangeType"] == "Native":
        raise invalid("A native range can't be removed; reconfigure its interface or remove the site")
    _require_hosts_covered(ctx, rng["siteId"], rng["id"], None)
    site, iface = get(ctx, SITE, rng["siteId"]), get(ctx, IFACE, rng["interfaceId"])
    _delete_range(ctx, rng)
    log(ctx, RANGE, range_id, range_name(site, iface, rng), "DELETED")


# -- static hosts ---------------------------------------------------------------------------------
def _validate_host(ctx: RequestContext, site: dict, rec: dict) -> None:
    _unique(ctx, HOST, rec, site)
    others = [h for h in children(ctx, HOST, site["id"]) if h["id"] != rec["id"]]
    ip = parse_ip(rec["ip"], "ip")
    if any(h["ip"] == str(ip) for h in others):
        raise invalid(f"IP {ip} is already reserved for another host of site '{site['name']}'")
    if not any(ip in parse_net(r["subnet"]) for r in children(ctx, RANGE, site["id"])):
        raise invalid(f"IP {ip} is not inside any network range of site '{site['name']}'")
    if rec.get("macAddress") and not _MAC.match(rec["macAddress"]):
        raise invalid(f"Invalid macAddress '{rec['macAddress']}'")


def add_host(ctx: RequestContext, site_id: str, inp: dict[str, Any], explicit_id: Any = None) -> str:
    site = get(ctx, SITE, site_id)
    rec = {"id": new_id(ctx, HOST, explicit_id), "siteId": site["id"], "creationTime": timestamp(ctx)}
    rec |= {f: inp.get(f) for f in HOST_FIELDS}
    count = ctx.store.execute(
        "SELECT count(*) FROM entities WHERE account_id=? AND kind=? AND parent_id=?",
        (ctx.account_id, HOST, site["id"]),
    ).fetchone()[0]
    if count >= MAX_HOSTS_PER_SITE:
        raise invalid(
            f"Site '{site['name']}' already has {count} static hosts: the limit is {MAX_HOSTS_PER_SITE} per site"
        )
    _validate_host(ctx, site, rec)
    put(ctx, HOST, rec)
    log(ctx, HOST, rec["id"], rec["name"], "CREATED")
    return rec["id"]


def update_host(ctx: RequestContext, host_id: str, inp: dict[str, Any]) -> None:
    old = get(ctx, HOST, host_id)
    new = _merge(old, inp, HOST_FIELDS)
    _validate_host(ctx, get(ctx, SITE, old["siteId"]), new)
    put(ctx, HOST, new)
    log(ctx, HOST, host_id, new["name"], "MODIFIED", flat(old), flat(new))


def remove_host(ctx: RequestContext, host_id: str) -> None:
    rec = get(ctx, HOST, host_id)
    ctx.store.delete(ctx.account_id, HOST, rec["id"])
    for hook in ON_DELETE:
        hook(ctx, [(HOST, rec["id"])])
    log(ctx, HOST, rec["id"], rec["name"], "DELETED")


# -- BGP peers ------------------------------------------------------------------------------------
_BGP_NESTED_IDS = {
    "tracking",
    "summaryRoute",
    "bgpRouteExactAndInclusiveFilterRule",
    "bgpRouteExactFilterRule",
    "communityFilterRule",
}


def _bgp_body(ctx: RequestContext, value: Any, key: str = "") -> Any:
    """Input shape -> output shape: nested rules get ids; global IP range refs must resolve."""
    if key in ("globalIpRange", "globalIpRangeException") and value:
        raise CatoGraphQLError(f"Global IP range {value[0]['input']} not found", "NOT_FOUND")
    if isinstance(value, list):
        return [_bgp_body(ctx, v, key) for v in value]
    if isinstance(value, dict):
        out = {k: _bgp_body(ctx, v, k) for k, v in value.items()}
        if key in _BGP_NESTED_IDS and "id" not in out:
            out["id"] = str(ctx.store.next_id("bgpRule", 1000))
        if key == "communityFilterRule":
            out.setdefault("predicate", "EQUAL")
        return out
    return value


def _validate_bgp(ctx: RequestContext, site: dict, rec: dict) -> None:
    _unique(ctx, BGP, rec, site)
    parse_ip(rec["peerIp"], "peerIp")
    if not 1 <= int(rec["catoAsn"]) <= 65535:
        raise invalid(f"catoAsn {rec['catoAsn']} is not a 16-bit ASN")
    if not 1 <= int(rec["peerAsn"]) <= 4294967295:
        raise invalid(f"peerAsn {rec['peerAsn']} is not a 32-bit ASN")
    if rec["keepaliveInterval"] >= rec["holdTime"]:
        raise invalid("keepaliveInterval must be shorter than holdTime")


def bgp_view(ctx: RequestContext, rec: dict[str, Any]) -> dict[str, Any]:
    site = get(ctx, SITE, rec["siteId"])
    port = native_interface(ctx, site) or {}
    native = ctx.store.get(ctx.account_id, RANGE, port.get("nativeRangeId") or "") or {}
    return rec | {
        "site": {"id": site["id"], "name": site["name"]},
        "catoIp": native.get("localIp") or "0.0.0.0",
    }


def add_bgp_peer(ctx: RequestContext, inp: dict[str, Any], explicit_id: Any = None) -> dict[str, Any]:
    site = site_ref(ctx, inp["site"])
    rec = _bgp_body(ctx, {k: v for k, v in inp.items() if k != "site"})
    rec |= {"id": new_id(ctx, BGP, explicit_id), "siteId": site["id"]}
    _validate_bgp(ctx, site, rec)
    put(ctx, BGP, rec)
    log(ctx, BGP, rec["id"], rec["name"], "CREATED")
    return bgp_view(ctx, rec)


def update_bgp_peer(ctx: RequestContext, inp: dict[str, Any]) -> dict[str, Any]:
    old = get(ctx, BGP, inp["id"])
    new = _merge(old, _bgp_body(ctx, inp), [k for k in inp if k != "id"])
    _validate_bgp(ctx, get(ctx, SITE, old["siteId"]), new)
    put(ctx, BGP, new)
    log(ctx, BGP, new["id"], new["name"], "MODIFIED", flat(old), flat(new))
    return bgp_view(ctx, new)


def remove_bgp_peer(ctx: RequestContext, inp: dict[str, Any]) -> dict[str, Any]:
    rec = get(ctx, BGP, inp["id"])
    view = bgp_view(ctx, rec)
    ctx.store.delete(ctx.account_id, BGP, rec["id"])
    log(ctx, BGP, rec["id"], rec["name"], "DELETED")
    return view


# -- GraphQL ------------------------------------------------------------------------------------
def range_view(rec: dict[str, Any]) -> dict[str, Any]:
    return rec | {"networkRangeId": rec["id"]}


class SiteMutations:
    def __init__(self, ctx: RequestContext) -> None:
        self.ctx = ctx

    def addSocketSite(self, info, input):
        return {"siteId": add_site(self.ctx, input)}

    def updateSiteGeneralDetails(self, info, siteId, input):
        update_site(self.ctx, siteId, input)
        return {"siteId": siteId}

    def removeSite(self, info, siteId):
        remove_site(self.ctx, siteId)
        return {"siteId": siteId}

    def addNetworkRange(self, info, lanSocketInterfaceId, input):
        return {"networkRangeId": add_range(self.ctx, lanSocketInterfaceId, input)}

    def updateNetworkRange(self, info, networkRangeId, input):
        update_range(self.ctx, networkRangeId, input)
        return {"networkRangeId": networkRangeId}

    def removeNetworkRange(self, info, networkRangeId):
        remove_range(self.ctx, networkRangeId)
        return {"networkRangeId": networkRangeId}

    def addStaticHost(self, info, siteId, input):
        return {"hostId": add_host(self.ctx, siteId, input)}

    def updateStaticHost(self, info, hostId, input):
        update_host(self.ctx, hostId, input)
        return {"hostId": hostId}

    def removeStaticHost(self, info, hostId):
        remove_host(self.ctx, hostId)
        return {"hostId": hostId}

    def updateSocketInterface(self, info, siteId, socketInterfaceId, input):
        update_interface(self.ctx, siteId, socketInterfaceId, input)
        return {"siteId": siteId, "socketInterfaceId": socketInterfaceId}

    def addBgpPeer(self, info, input):
        return {"bgpPeer": add_bgp_peer(self.ctx, input)}

    def updateBgpPeer(self, info, input):
        return {"bgpPeer": update_bgp_peer(self.ctx, input)}

    def removeBgpPeer(self, info, input):
        return {"bgpPeer": remove_bgp_peer(self.ctx, input)}


class SiteQueries:
    def __init__(self, ctx: RequestContext) -> None:
        self.ctx = ctx

    def siteGeneralDetails(self, info, site):
        s = site_ref(self.ctx, site)
        return s | {"site": {"id": s["id"], "name": s["name"]}}

    def networkRangeList(self, info, input):
        s = site_ref(self.ctx, input["site"])
        items = [range_view(r) for r in children(self.ctx, RANGE, s["id"])]
        return {"items": items, "total": len(items)}

    def networkRange(self, info, networkRangeId):
        return range_view(get(self.ctx, RANGE, networkRangeId))

    def bgpPeerList(self, info, input):
        s = site_ref(self.ctx, input["site"])
        peers = [bgp_view(self.ctx, p) for p in children(self.ctx, BGP, s["id"])]
        return {"bgpPeer": peers, "total": len(peers)}

    def bgpPeer(self, info, input):
        if input.get("by", "ID") == "ID":
            return bgp_view(self.ctx, get(self.ctx, BGP, input["input"]))
        found = self.ctx.store.find_by_name(self.ctx.account_id, BGP, input["input"])
        if len(found) != 1:
            what = "not found" if not found else "is ambiguous: use its id"
            raise CatoGraphQLError(
                f"BGP peer with name {input['input']} {what}", "NOT_FOUND" if not found else None
            )
        return bgp_view(self.ctx, found[0])


@mutation("site")
def site_mutations(ctx: RequestContext, info, accountId: str) -> SiteMutations:
    return SiteMutations(ctx)


@query("site")
def site_queries(ctx: RequestContext, info, accountId: str) -> SiteQueries:
    return SiteQueries(ctx)


# -- fixtures -------------------------------------------------------------------------------------
def api_input(type_name: str, value: dict[str, Any]) -> dict[str, Any]:
    """Coerce a fixture's input against the schema's input type, as the API would (defaults, enums)."""
    from ..app import emulator_schema  # the app imports the domains

    return coerce_input_value(value, emulator_schema().get_type(type_name))


def camel(d: dict[str, Any], **aliases: str) -> dict[str, Any]:
    """snake_case fixture keys -> the API's camelCase (``aliases`` rename a few)."""

    def conv(k: str) -> str:
        head, *rest = k.split("_")
        return aliases.get(k) or head + "".join(w[:1].upper() + w[1:] for w in rest)

    return {conv(k): (camel(v) if isinstance(v, dict) else v) for k, v in d.items()}


def _seed_site(ctx: RequestContext, s: dict[str, Any]) -> None:
    native = s.get("native_range") or {}
    native = {"subnet": native} if isinstance(native, str) else native
    inp = api_input(
        "AddSocketSiteInput",
        {
            "name": s["name"],
            "siteType": s.get("type", "BRANCH"),
            "connectionType": s.get("connection_type", "SOCKET_X1500"),
            "description": s.get("description"),
            "nativeNetworkRange": native.get("subnet"),
            "vlan": native.get("vlan"),
            "siteLocation": {
                "countryCode": s.get("country_code"),
                "timezone": s.get("timezone"),
                "city": s.get("city"),
                "stateCode": s.get("state_code"),
                "address": s.get("address"),
            },
        },
    )
    site_id = add_site(ctx, inp, s.get("id"))
    site = get(ctx, SITE, site_id)
    native_port = native_interface(ctx, site)
    assert native_port is not None
    if native.get("local_ip"):
        _change_range(ctx, get(ctx, RANGE, native_port["nativeRangeId"]), {"localIp": native["local_ip"]})
    for i in s.get("interfaces", []):
        i = camel(i)
        body = {"destType": i["destType"], "name": i.get("name")}
        if i.get("upstreamBandwidth") or i.get("downstreamBandwidth"):
            body["bandwidth"] = {k: i.get(k) for k in ("upstreamBandwidth", "downstreamBandwidth")}
        if i.get("role"):
            body["wan"] = {"role": i["role"], "precedence": i.get("precedence", "ACTIVE")}
        if i.get("subnet"):
            body["lan"] = {
                "subnet": i["subnet"],
                "localIp": i.get("localIp"),
                "translatedSubnet": i.get("translatedSubnet"),
            }
        if i.get("lagMinLinks"):
            body["lag"] = {"minLinks": i["lagMinLinks"]}
        if i.get("vrrpType"):
            body["vrrp"] = {"vrrpType": i["vrrpType"]}
        update_interface(ctx, site_id, i["id"], api_input("UpdateSocketInterfaceInput", body))
    ifaces = children(ctx, IFACE, site_id)
    for r in s.get("ranges", []):
        r = camel(r)
        port = r.pop("interface", native_port["slot"])
        iface = next((i for i in ifaces if port in (i["slot"], i["name"])), None)
        if iface is None:
            raise ValueError(f"site {s['name']}: range {r.get('name')}: no interface {port!r}")
        range_id = r.pop("id", None)
        add_range(ctx, iface["id"], api_input("AddNetworkRangeInput", {"rangeType": "Direct"} | r), range_id)
    for h in s.get("hosts", []):
        h = camel(h, mac="macAddress")
        add_host(
            ctx, site_id, api_input("AddStaticHostInput", {k: h.get(k) for k in HOST_FIELDS}), h.get("id")
        )
    for b in s.get("bgp_peers", []):
        b = camel(b)
        peer_id = b.pop("id", None)
        body = {"defaultAction": "ACCEPT"} | b | {"site": {"by": "ID", "input": site_id}}
        add_bgp_peer(ctx, api_input("AddBgpPeerInput", body), peer_id)


@seeder
def seed_sites(ctx: RequestContext, account: dict[str, Any]) -> None:
    for s in account.get("sites") or []:
        try:
            _seed_site(ctx, s)
        except GraphQLError as e:
            raise ValueError(f"site {s.get('name')!r}: {e.message}") from None
