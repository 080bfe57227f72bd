"""``entityLookup``, and resolution of entity references by id or name.

Types: ``site``, ``siteRange``, ``host``, ``networkInterface`` (the LAN interfaces: those with a
subnet), ``group``, ``admin``, ``country``, ``countryState`` and ``timezone``.

Entity names are Cato's: a site or host by its name, a network interface as
``"<site> \\ <interface>"``, a range as ``"<site> \\ <interface> \\ <range>"`` (the native range
is called ``Native Range``). ``resolve``/``index`` match references against those same names,
so a ``SITE_NETWORK_SUBNET`` ref by NAME is written the way Cato's UI and lookup show it.

``helperFields``: Cato fills the helper fields that apply to a type whatever the argument asks
for, and so does the emulator (the argument is accepted and ignored):

- site: ``type`` (SiteType), ``connType``, ``description``, ``countryCode``, ``countryName``,
  ``stateCode``, ``city``, ``address``, ``timezone``
- siteRange: ``siteId``, ``siteName``, ``interfaceName``, ``subnet``, ``rangeType`` (Cato's
  internal names: NATIVE, SECONDARY_NATIVE, DIRECT_ROUTE, VLAN, ROUTED_ROUTE), ``vlanTag``,
  ``gateway`` (the gateway of a routed range, the local IP of any other), ``translatedSubnet``
  (the subnet itself when none is set), ``internetOnly``, ``mdnsReflector``,
  ``microsegmentation``, ``dhcpType``, ``dhcpRange``, ``dhcpRelayGroupId``
- networkInterface: ``siteId``, ``siteName``, ``interfaceId`` (the port as reads show it: ``"5"``
  for INT_5, ``"LAN1"``), ``interfaceName``, ``subnet``, ``destType``, ``isDefault`` (the port
  holding the site's native range), ``vrrpType``; no ``localIp``
- host: ``ip``, ``macAddress``, ``siteId``, ``siteName``, ``interfaceName`` (the LAN it is on)
- admin: ``email``; timezone: ``offset``; group, country, countryState: none

Filters: ``parent`` {type: site | networkInterface, id} (an unknown site is an error),
``search`` (a case-insensitive substring of the name; for ``countryState``, Cato's form: a
country code), ``entityIDs``, ``filters`` (``country``, ``state``, ``filterByConnectionType``
on sites), ``sort`` [{field: name | id | a helper field, order}]. Paging: ``from``/``limit``;
a ``limit`` of 0 or less returns everything (Cato's Go SDK callers pass 0 for "all"), and
``total`` counts the matches before paging. Items keep creation order unless sorted.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any

from ... import ports
from ..catalog import COUNTRIES, COUNTRY_STATES, TIMEZONES
from ..context import CatoGraphQLError, RequestContext, invalid, not_found
from ..registry import query
from .sites import HOST, IFACE, RANGE, SITE, iface_name, range_name

Item = dict[str, Any]


def _item(
    etype: str, eid: str, name: str, helper: dict | None = None, desc: str | None = None, parents=()
) -> Item:
    return {
        "entity": {"id": eid, "name": name, "type": etype},
        "description": desc or "",
        "helperFields": helper or {},
        "parents": set(parents),
    }


def _load(ctx: RequestContext, kind: str) -> dict[str, dict]:
    return {r["id"]: r for r in ctx.store.list(ctx.account_id, kind)}


def _sites(ctx: RequestContext) -> list[Item]:
    out = []
    for s in _load(ctx, SITE).values():
        loc = s["siteLocation"]
        helper = {"type": s["siteType"], "connType": s["connectionType"], "description": s.get("description")}
        helper |= {k: loc[k] for k in ("countryCode", "stateCode", "address", "timezone")}
        helper |= {"countryName": COUNTRIES.get(loc["countryCode"]), "city": loc["cityName"]}
        out.append(_item(SITE, s["id"], s["name"], helper, s.get("description")))
    return out


# entityLookup(siteRange) names range types by Cato's internal names (cato-cli before v3.0.66 read
# "ROUTED_ROUTE"/"DIRECT_ROUTE"; the SDL's AddNetworkRangeInput descriptions use NATIVE,
# SECONDARY_NATIVE, DIRECT_ROUTE, VLAN and ROUTED_ROUTE).
LOOKUP_RANGE_TYPE = {
    "Native": "NATIVE",
    "SecondaryNative": "SECONDARY_NATIVE",
    "Direct": "DIRECT_ROUTE",
    "VLAN": "VLAN",
    "Routed": "ROUTED_ROUTE",
}


def _ranges(ctx: RequestContext) -> list[Item]:
    """Helper fields as a real tenant returns them: the local IP of a non-routed range in
    ``gateway`` (TF resource_lan_interface.go: "for LAN interfaces, localIp is the same as
    gateway"; cato-cli before v3.0.66 read local_ip from ``gateway``), no ``localIp``, an unset
    ``translatedSubnet`` equal to the subnet (cato-cli compared the two), ``vlanTag`` and
    ``dhcpRange`` (cato-cli's names), the range's port by ``interfaceName`` only."""
    sites, ifaces, out = _load(ctx, SITE), _load(ctx, IFACE), []
    for r in ctx.store.list(ctx.account_id, RANGE):
        s, i, dhcp = sites[r["siteId"]], ifaces[r["interfaceId"]], r["dhcpSettings"]
        routed = r["rangeType"] == "Routed"
        helper = {
            "siteId": s["id"],
            "siteName": s["name"],
            "interfaceName": i["name"],
            "subnet": r["subnet"],
            "rangeType": LOOKUP_RANGE_TYPE[r["rangeType"]],
            "vlanTag": r["vlan"],
            "gateway": r["gateway"] if routed else r["localIp"],
            "translatedSubnet": r["translatedSubnet"] or r["subnet"],
            "internetOnly": r["internetOnly"],
            "mdnsReflector": r["mdnsReflector"],
            "microsegmentation": dhcp["dhcpMicrosegmentation"],
            "dhcpType": dhcp["dhcpType"],
            "dhcpRange": dhcp["ipRange"],
            "dhcpRelayGroupId": dhcp["relayGroupId"],
        }
        out.append(
            _item(RANGE, r["id"], range_name(s, i, r), helper, parents=[(SITE, s["id"]), (IFACE, i["id"])])
        )
    return out


def _interfaces(ctx: RequestContext) -> list[Item]:
    """The LAN ports (those with a native range). ``interfaceId`` is the port as reads show it:
    ``"5"`` for INT_5, ``"LAN1"`` for named ports (TF and cato-cli add the ``INT_`` prefix);
    there is no ``localIp`` (TF resource_lan_interface.go: "not available in networkInterface
    entityLookup"); ``isDefault`` marks the port holding the site's native range (cato-cli
    export_sites.py)."""
    sites, ranges, out = _load(ctx, SITE), _load(ctx, RANGE), []
    for i in ctx.store.list(ctx.account_id, IFACE):
        if i["nativeRangeId"]:
            s = sites[i["siteId"]]
            helper = {
                "siteId": s["id"],
                "siteName": s["name"],
                "interfaceId": i["index"],
                "interfaceName": i["name"],
                "subnet": ranges[i["nativeRangeId"]]["subnet"],
                "destType": i["destType"],
                "isDefault": i["slot"] == ports.native_port(s["connectionType"]),
                "vrrpType": (i.get("vrrp") or {}).get("vrrpType"),
            }
            out.append(_item(IFACE, i["id"], iface_name(s, i), helper, parents=[(SITE, s["id"])]))
    return out


def _hosts(ctx: RequestContext) -> list[Item]:
    sites, ifaces, nets = _load(ctx, SITE), _load(ctx, IFACE), {}
    for r in ctx.store.list(ctx.account_id, RANGE):
        nets.setdefault(r["siteId"], []).append(
            (ipaddress.IPv4Network(r["subnet"]), ifaces[r["interfaceId"]]["name"])
        )
    out = []
    for h in ctx.store.list(ctx.account_id, HOST):
        s, ip = sites[h["siteId"]], ipaddress.IPv4Address(h["ip"])
        lan = next((name for net, name in nets.get(s["id"], []) if ip in net), None)
        helper = {
            "ip": h["ip"],
            "macAddress": h.get("macAddress"),
            "siteId": s["id"],
            "siteName": s["name"],
            "interfaceName": lan,
        }
        out.append(_item(HOST, h["id"], h["name"], helper, parents=[(SITE, s["id"])]))
    return out


def _groups(ctx: RequestContext) -> list[Item]:
    return [
        _item("group", g["id"], g["name"], desc=g.get("description"))
        for g in ctx.store.list(ctx.account_id, "group")
    ]


def _admins(ctx: RequestContext) -> list[Item]:
    rows = ctx.store.execute(
        "SELECT id, email, name FROM admins WHERE account_id=? ORDER BY id", (ctx.account_id,)
    )
    return [_item("admin", r["id"], r["name"], {"email": r["email"]}) for r in rows]


TYPES: dict[str, Callable[[RequestContext], list[Item]]] = {
    "site": _sites,
    "siteRange": _ranges,
    "networkInterface": _interfaces,
    "host": _hosts,
    "group": _groups,
    "admin": _admins,
    "country": lambda ctx: [_item("country", c, n) for c, n in COUNTRIES.items()],
    "countryState": lambda ctx: [_item("countryState", c, n) for c, n in COUNTRY_STATES.items()],
    "timezone": lambda ctx: [_item("timezone", z, z, {"offset": o}) for z, o in TIMEZONES.items()],
}
_FILTERS = {"country": "countryCode", "state": "stateCode", "filterByConnectionType": "connType"}


def items(ctx: RequestContext, etype: str) -> list[Item]:
    """The entities of a type, as entityLookup serves them before filters and paging: built once per
    state of the data (``Store.memo``) and shared, so a new list, whose items nobody changes."""
    return list(ctx.store.memo(("entityLookup", ctx.account_id, etype), lambda: TYPES[etype](ctx)))


def index(ctx: RequestContext, etype: str) -> tuple[dict[str, dict], dict[str, list[dict]]]:
    """Refs ``{id, name}`` of a type, by id and by name, for resolving many refs at once."""
    by_id: dict[str, dict] = {}
    by_name: dict[str, list[dict]] = {}
    for it in items(ctx, etype):
        by_id[it["entity"]["id"]] = ref = {"id": it["entity"]["id"], "name": it["entity"]["name"]}
        by_name.setdefault(ref["name"], []).append(ref)
    return by_id, by_name


def pick(idx: tuple[dict, dict], label: str, by: str, value: str) -> dict[str, str]:
    """One ref out of ``index``: unknown names/ids are NOT_FOUND errors, ambiguous names errors too."""
    if by == "NAME":
        found = idx[1].get(value, [])
    else:
        found = [idx[0][value]] if value in idx[0] else []
    if len(found) == 1:
        return found[0]
    if found:
        raise invalid(f"{label} name '{value}' is ambiguous: refer to it by id")
    raise CatoGraphQLError(f"{label} with {'name' if by == 'NAME' else 'id'} {value} not found", "NOT_FOUND")


def resolve(ctx: RequestContext, etype: str, by: str, value: str) -> dict[str, str]:
    return pick(index(ctx, etype), etype, by, value)


@query("entityLookup")
def entity_lookup(ctx: RequestContext, info, accountID: str, type: str, **args: Any) -> dict[str, Any]:
    if type not in TYPES:
        raise invalid(f"entityLookup of type {type} is not supported here; use one of {', '.join(TYPES)}")
    found = items(ctx, type)
    parent = args.get("parent")
    if parent:
        if parent["type"] == SITE and ctx.store.get(ctx.account_id, SITE, parent["id"]) is None:
            raise not_found("Site", parent["id"])
        found = [it for it in found if (parent["type"], parent["id"]) in it["parents"]]
    search = (args.get("search") or "").lower()
    if search and type == "countryState":
        found = [it for it in found if it["entity"]["id"].lower().startswith(search + "-")]
    elif search:
        found = [it for it in found if search in (it["entity"]["name"] or "").lower()]
    if args.get("entityIDs"):
        wanted = set(args["entityIDs"])
        found = [it for it in found if it["entity"]["id"] in wanted]
    for f in args.get("filters") or []:
        if f.get("filter") not in _FILTERS:
            raise invalid(
                f"entityLookup filter {f.get('filter')} is not supported here; use {', '.join(_FILTERS)}"
            )
        found = [it for it in found if it["helperFields"].get(_FILTERS[f["filter"]]) == f.get("value")]
    for s in reversed(args.get("sort") or []):
        field = s.get("field") or "name"
        found.sort(
            key=lambda it: str(it["entity"].get(field, it["helperFields"].get(field)) or ""),
            reverse=s.get("order") == "desc",
        )
    start, limit = max(args.get("from") or 0, 0), args.get("limit")
    page = found[start:] if limit is None or limit <= 0 else found[start : start + limit]
    return {"items": [{k: v for k, v in it.items() if k != "parents"} for it in page], "total": len(found)}
