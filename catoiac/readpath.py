"""One bulk, rate-limit-aware read of an account, shared by refresh, drift and export.

Each collection is read with as few calls as the API allows: one ``accountSnapshot``, paged
``entityLookup``s (with helper fields, so no per-object queries), one ``groupList`` page set, one
``policy`` query per policy, and ``devices.list`` pages. Collections are cached for the life of
the reader; a write invalidates exactly the collections it changes, and a load that raced a
write is not cached, so the cache never serves a value older than our own last write.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from .ports import port_id

if TYPE_CHECKING:
    from .client import CatoClient

# entityLookup page size: Cato's Terraform provider reads 1,000 items a call; cato-cli pages by
# 50 (the API's default limit). Paging never trusts one signal alone (see ``lookup``).
PAGE = 1000
MAX_PAGES = 10_000  # a feed that never ends (ignores ``from``) must not loop forever

# Helper fields asked of entityLookup per entity type. Cato returns the fields that apply to a type
# whatever is asked; the loaders below read both the shapes a real tenant returns and exact ones.
HELPER_FIELDS: dict[str, list[str]] = {
    "site": ["type", "connType", "countryCode", "stateCode", "cityName", "address", "timezone"],
    "siteRange": [
        "siteId",
        "siteName",
        "interfaceId",
        "interfaceName",
        "subnet",
        "vlan",
        "vlanTag",
        "rangeType",
        "localIp",
        "gateway",
        "translatedSubnet",
        "internetOnly",
        "mdnsReflector",
        "dhcpType",
        "dhcpIpRange",
        "dhcpRange",
        "dhcpRelayGroupId",
        "microsegmentation",
    ],
    "host": ["siteId", "siteName", "ip", "macAddress"],
    "networkInterface": [
        "siteId",
        "siteName",
        "interfaceId",
        "interfaceName",
        "destType",
        "subnet",
        "isDefault",
        "vrrpType",
    ],
}

Loader = Callable[["AccountReader"], dict[str, dict[str, Any]]]


class AccountReader:
    """Reads collections of one account on demand and caches them."""

    def __init__(self, client: CatoClient, *, on_page: Callable[[str, int, int], None] | None = None) -> None:
        self.client = client
        self._cache: dict[str, dict[str, dict[str, Any]]] = {}
        self._generation: dict[str, int] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self._on_page = on_page

    # -- cache ----------------------------------------------------------------------------------
    def get(self, kind: str) -> dict[str, dict[str, Any]]:
        """The live objects of a collection, by id."""
        with self._guard:
            lock = self._locks.setdefault(kind, threading.Lock())
        with lock:  # one load per collection at a time: concurrent readers wait for it
            with self._guard:
                if kind in self._cache:
                    return self._cache[kind]
                generation = self._generation.get(kind, 0)
            loaded = LOADERS[kind](self)
            with self._guard:
                if self._generation.get(kind, 0) == generation:
                    self._cache[kind] = loaded
            return loaded

    def invalidate(self, *kinds: str) -> None:
        with self._guard:
            for kind in _with_dependents(kinds):
                self._cache.pop(kind, None)
                self._generation[kind] = self._generation.get(kind, 0) + 1

    def invalidate_all(self) -> None:
        self.invalidate(*LOADERS)

    # -- paging -----------------------------------------------------------------------------------
    def lookup(self, entity_type: str, **extra: Any) -> Iterator[dict[str, Any]]:
        """Every entity of a type, paged defensively (cato-cli pages until a short page; ``total``
        may be absent or stale, and a server may return fewer items than asked): go on while a
        page is full or ``total`` says more remain, stop on an empty page, on a short page that
        ``total`` does not contradict, or on a page with nothing new."""
        start, seen = 0, set()
        for _ in range(MAX_PAGES):
            data = self.client.execute(
                "EntityLookup",
                {
                    "type": entity_type,
                    "from": start,
                    "limit": PAGE,
                    "helperFields": HELPER_FIELDS.get(entity_type, []),
                    **extra,
                },
            )
            page = data["entityLookup"] or {}
            items = page.get("items") or []
            total = page.get("total")
            fresh = [it for it in items if (it.get("entity") or {}).get("id") not in seen]
            seen.update((it.get("entity") or {}).get("id") for it in fresh)
            start += len(items)
            if self._on_page:
                self._on_page(entity_type, len(seen), max(total or 0, len(seen)))
            yield from fresh
            if not items or not fresh:
                return
            if len(items) < PAGE and (not isinstance(total, int) or start >= total):
                return


def _str(v: Any) -> str | None:
    return None if v in (None, "") else str(v)


def _int(v: Any) -> int | None:
    return None if v in (None, "") else int(v)


def _bool(v: Any) -> bool | None:
    if v in (None, ""):
        return None
    return v if isinstance(v, bool) else str(v).lower() == "true"


def _load_sites(r: AccountReader) -> dict[str, dict[str, Any]]:
    snap = r.client.execute("ReadSites", {})["accountSnapshot"] or {}
    sites: dict[str, dict[str, Any]] = {}
    for s in snap.get("sites") or []:
        info = s.get("info") or {}
        sites[str(s["id"])] = {
            "id": str(s["id"]),
            "name": info.get("name"),
            "site_type": info.get("type"),
            "connection_type": info.get("connType"),
            "description": info.get("description") or "",
            "country_code": info.get("countryCode"),
            "interfaces": info.get("interfaces") or [],
            "ipsec": info.get("ipsec") or [],  # IPsec sites' tunnels (specs/ipsec_site.py)
            "devices": s.get("devices") or [],
            "connectivity": s.get("connectivityStatus"),
        }
    for item in r.lookup("site"):
        site = sites.get(str(item["entity"]["id"]))
        if site is None:
            continue
        h = item.get("helperFields") or {}
        site["location"] = {
            "country_code": _str(h.get("countryCode")) or site["country_code"],
            "state_code": _str(h.get("stateCode")),
            "city": _str(h.get("city") or h.get("cityName")),
            "address": _str(h.get("address")),
            "timezone": _str(h.get("timezone")),
        }
        site["connection_type"] = _str(h.get("connType")) or site["connection_type"]
    return sites


# entityLookup(siteRange)'s ``rangeType``: Cato's internal names (cato-cli before v3.0.66; the SDL's
# AddNetworkRangeInput descriptions) or SubnetType values.
_RANGE_TYPES = {
    "NATIVE": "Native",
    "SECONDARY_NATIVE": "SecondaryNative",
    "DIRECT_ROUTE": "Direct",
    "DIRECT": "Direct",
    "VLAN": "VLAN",
    "ROUTED_ROUTE": "Routed",
    "ROUTED": "Routed",
}


def range_type(value: Any) -> str | None:
    text = _str(value)
    return None if text is None else _RANGE_TYPES.get(text.upper(), text)


def _load_ranges(r: AccountReader) -> dict[str, dict[str, Any]]:
    """Ranges from entityLookup(siteRange), in either shape: a real tenant puts a non-routed range's
    local IP in ``gateway`` and has no ``localIp`` (TF resource_lan_interface.go), returns an unset
    ``translatedSubnet`` as the subnet itself, names the VLAN ``vlanTag`` and the DHCP range
    ``dhcpRange`` (cato-cli export_sites.py before v3.0.66). ``interface_name`` is how the range's
    port is found when ``interfaceId`` is absent."""
    out = {}
    for item in r.lookup("siteRange"):
        h = item.get("helperFields") or {}
        rid = str(item["entity"]["id"])
        kind = range_type(h.get("rangeType"))
        subnet = _str(h.get("subnet"))
        gateway = _str(h.get("gateway"))
        local_ip = _str(h.get("localIp"))
        if kind != "Routed":
            local_ip, gateway = local_ip or gateway, None
        translated = _str(h.get("translatedSubnet"))
        out[rid] = {
            "id": rid,
            # Cato names a range "<site> \\ <interface> \\ <range>": the last part is its own name.
            "name": (item["entity"].get("name") or "").split(" \\ ")[-1],
            "site_id": _str(h.get("siteId")),
            "interface_id": _str(h.get("interfaceId")),
            "interface_name": _str(h.get("interfaceName")),
            "subnet": subnet,
            "vlan": _int(h.get("vlanTag") if h.get("vlan") in (None, "") else h.get("vlan")),
            "range_type": kind,
            "local_ip": local_ip,
            "gateway": gateway,
            "translated_subnet": None if translated == subnet else translated,
            "internet_only": _bool(h.get("internetOnly")),
            "mdns_reflector": _bool(h.get("mdnsReflector")),
            "dhcp": {
                "type": _str(h.get("dhcpType")),
                "ip_range": _str(h.get("dhcpIpRange") or h.get("dhcpRange")),
                "relay_group_id": _str(h.get("dhcpRelayGroupId")),
                "microsegmentation": _bool(h.get("microsegmentation")),
            },
        }
    return out


def _load_hosts(r: AccountReader) -> dict[str, dict[str, Any]]:
    out = {}
    for item in r.lookup("host"):
        h = item.get("helperFields") or {}
        hid = str(item["entity"]["id"])
        out[hid] = {
            "id": hid,
            "name": item["entity"].get("name"),
            "site_id": _str(h.get("siteId")),
            "ip": _str(h.get("ip")),
            "mac_address": _str(h.get("macAddress")),
        }
    return out


def _load_interfaces(r: AccountReader) -> dict[str, dict[str, Any]]:
    """LAN ports from entityLookup(networkInterface). ``interfaceId`` is ``"5"`` for INT_5 or a
    name (``"LAN1"``) on a real tenant (TF and cato-cli add the ``INT_`` prefix): ``port`` is the
    SocketInterfaceIDEnum id. There is no local IP here on a real tenant: it is the port's native
    range's (``local_ip`` is filled from the ranges collection by readers that need it)."""
    out = {}
    for item in r.lookup("networkInterface"):
        h = item.get("helperFields") or {}
        iid = str(item["entity"]["id"])
        out[iid] = {
            "id": iid,
            "name": _str(h.get("interfaceName")) or (item["entity"].get("name") or "").split(" \\ ")[-1],
            "site_id": _str(h.get("siteId")),
            "interface_id": port_id(h.get("interfaceId") if "interfaceId" in h else h.get("interfaceID")),
            "dest_type": _str(h.get("destType")),
            "subnet": _str(h.get("subnet")),
            "is_default": _bool(h.get("isDefault")),
            "vrrp_type": _str(h.get("vrrpType")),
        }
    return out


def _range_ports(r: AccountReader) -> dict[str, dict[str, Any]]:
    """Each range's LAN port, by range id: by the port's entity id when the lookup gives one,
    else by the port's name within the site (entityLookup(siteRange) on a real tenant names the
    port only: cato-cli maps ranges to ports by ``interfaceName``)."""
    ports = r.get("interfaces")
    by_name = {(p["site_id"], p["name"]): p for p in ports.values()}
    out = {}
    for rid, rng in r.get("ranges").items():
        port = ports.get(rng.get("interface_id") or "") or by_name.get(
            (rng["site_id"], rng["interface_name"])
        )
        if port is not None:
            out[rid] = port
    return out


def native_ranges_by_port(r: AccountReader) -> dict[str, dict[str, Any]]:
    """Each LAN port's native range, by the port's entity id."""
    ranges, owners = r.get("ranges"), r.get("range_ports")
    return {
        owners[rid]["id"]: rng
        for rid, rng in ranges.items()
        if rng.get("range_type") == "Native" and rid in owners
    }


LOADERS: dict[str, Loader] = {
    "sites": _load_sites,
    "ranges": _load_ranges,
    "hosts": _load_hosts,
    "interfaces": _load_interfaces,
    "range_ports": _range_ports,
    "port_natives": native_ranges_by_port,
}


# Collections derived from others (kind -> the kinds it is built from): invalidating a source
# invalidates them too.
DEPENDS_ON: dict[str, tuple[str, ...]] = {
    "range_ports": ("ranges", "interfaces"),
    "port_natives": ("range_ports",),
}


def register_loader(kind: str, loader: Loader, depends_on: tuple[str, ...] = ()) -> None:
    """Collections owned by other modules (groups, policies, bgp peers, devices) plug in here."""
    LOADERS[kind] = loader
    if depends_on:
        DEPENDS_ON[kind] = depends_on


def _with_dependents(kinds: tuple[str, ...]) -> set[str]:
    out, todo = set(), list(kinds)
    while todo:
        kind = todo.pop()
        if kind not in out:
            out.add(kind)
            todo += [k for k, sources in DEPENDS_ON.items() if kind in sources]
    return out


def by_name(objects: Mapping[str, Mapping[str, Any]], name: str, **match: Any) -> list[Mapping[str, Any]]:
    return [
        o for o in objects.values() if o.get("name") == name and all(o.get(k) == v for k, v in match.items())
    ]
