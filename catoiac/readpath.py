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
from typing import Any

from .client import CatoClient

PAGE = 500  # entityLookup page size: fewer pages, well under Cato's response limits

# Helper fields asked of entityLookup per entity type: what the read mapping needs.
HELPER_FIELDS: dict[str, list[str]] = {
    "site": ["type", "connType", "countryCode", "stateCode", "cityName", "address", "timezone"],
    "siteRange": [
        "siteId",
        "siteName",
        "interfaceId",
        "interfaceName",
        "subnet",
        "vlan",
        "rangeType",
        "localIp",
        "gateway",
        "translatedSubnet",
        "internetOnly",
        "mdnsReflector",
        "dhcpType",
        "dhcpIpRange",
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
        "upstreamBandwidth",
        "downstreamBandwidth",
        "role",
        "precedence",
        "localIp",
        "subnet",
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
        """Every entity of a type, paged."""
        start = 0
        while True:
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
            page = data["entityLookup"]
            items = page.get("items") or []
            if self._on_page:
                self._on_page(entity_type, start + len(items), page.get("total") or 0)
            yield from items
            start += len(items)
            if not items or start >= (page.get("total") or 0):
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


def _load_ranges(r: AccountReader) -> dict[str, dict[str, Any]]:
    out = {}
    for item in r.lookup("siteRange"):
        h = item.get("helperFields") or {}
        rid = str(item["entity"]["id"])
        out[rid] = {
            "id": rid,
            # Cato names a range "<site> \\ <interface> \\ <range>": the last part is its own name.
            "name": (item["entity"].get("name") or "").split(" \\ ")[-1],
            "site_id": _str(h.get("siteId")),
            "interface_id": _str(h.get("interfaceId")),
            "interface_name": _str(h.get("interfaceName")),
            "subnet": _str(h.get("subnet")),
            "vlan": _int(h.get("vlan")),
            "range_type": _str(h.get("rangeType")),
            "local_ip": _str(h.get("localIp")),
            "gateway": _str(h.get("gateway")),
            "translated_subnet": _str(h.get("translatedSubnet")),
            "internet_only": _bool(h.get("internetOnly")),
            "mdns_reflector": _bool(h.get("mdnsReflector")),
            "dhcp": {
                "type": _str(h.get("dhcpType")),
                "ip_range": _str(h.get("dhcpIpRange")),
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
    out = {}
    for item in r.lookup("networkInterface"):
        h = item.get("helperFields") or {}
        iid = str(item["entity"]["id"])
        out[iid] = {
            "id": iid,
            "name": _str(h.get("interfaceName")) or item["entity"].get("name"),
            "site_id": _str(h.get("siteId")),
            "interface_id": _str(h.get("interfaceId")),
            "dest_type": _str(h.get("destType")),
            "upstream_bandwidth": _int(h.get("upstreamBandwidth")),
            "downstream_bandwidth": _int(h.get("downstreamBandwidth")),
            "role": _str(h.get("role")),
            "precedence": _str(h.get("precedence")),
            "local_ip": _str(h.get("localIp")),
            "subnet": _str(h.get("subnet")),
        }
    return out


LOADERS: dict[str, Loader] = {
    "sites": _load_sites,
    "ranges": _load_ranges,
    "hosts": _load_hosts,
    "interfaces": _load_interfaces,
}


# Collections derived from others (kind -> the kinds it is built from): invalidating a source
# invalidates them too.
DEPENDS_ON: dict[str, tuple[str, ...]] = {}


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
