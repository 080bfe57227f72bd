"""``devices.list``: the devices Cato sees on the account's sites.

Two kinds, both derived from state: each socket site's socket (a managed Cato device with the
native range's local IP and a MAC derived from the site id) and each static host, seen as a
discovered device with the host's IP and MAC on the range that holds it. So a drift check can
compare a static host's configured MAC/IP with what ``devices`` sees.

Filters follow ``DeviceV2FilterInput``: every entry of ``filter`` and every condition inside it
must hold. Operators: ``eq``/``neq``/``in``/``nin`` on any field, ``gt``/``gte``/``lt``/``lte``/
``between`` on ordered ones, ``within``/``nwithin`` (a subnet) on ``ipAddress``, ``hasAll`` on
``originTypes``; refs (``site``, ``user``) compare by id or name as the ref says. MACs compare
case-insensitively. ``sort`` takes any ``DeviceSortInput`` field by priority (default: id
descending); ``paging {from limit}`` pages, ``paging.total`` counts matches before paging.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from typing import Any

from ...ports import native_port
from ..context import RequestContext, invalid
from ..registry import query
from .sites import HOST, IFACE, RANGE, SITE, range_name, timestamp
from .snapshot import SOCKET_VERSION, platform


def _mac(seed: str) -> str:
    digest = hashlib.sha256(seed.encode()).digest()
    return ":".join(f"{b:02x}" for b in (b"\x00\x1c\x7f" + digest[:3]))


def _devices(ctx: RequestContext) -> list[dict[str, Any]]:
    """Every device, seen now. The inventory is built once per state of the data (``Store.memo``):
    each request only stamps ``lastSeen`` with its own time."""
    seen = {"lastSeen": timestamp(ctx)}
    return [d | seen for d in ctx.store.memo(("devices", ctx.account_id), lambda: _inventory(ctx))]


def _inventory(ctx: RequestContext) -> list[dict[str, Any]]:
    acc = ctx.account_id
    sites = {s["id"]: s for s in ctx.store.list(acc, SITE)}
    ports = {p["id"]: p for p in ctx.store.list(acc, IFACE)}
    ranges = ctx.store.list(acc, RANGE)
    by_site: dict[str, list[dict[str, Any]]] = {}
    for r in ranges:
        by_site.setdefault(r["siteId"], []).append(r)
    out: list[dict[str, Any]] = []  # without lastSeen: _devices stamps it per request

    def net(site_id: str, r: dict | None) -> dict[str, Any]:
        if r is None:
            return {"network": None, "networkInfo": None}
        name = range_name(sites[site_id], ports[r["interfaceId"]], r)
        return {
            "network": {"networkName": name, "subnet": r["subnet"]},
            "networkInfo": {"__typename": "SiteNetworkSubnetRef", "id": r["id"], "name": name},
        }

    common = {
        "user": None,
        "complianceState": None,
        "connectionProfile": None,
        "riskScore": 0,
        "originTypes": ["CatoNetworks"],
    }
    for r in ranges:
        port = ports[r["interfaceId"]]
        s = sites[r["siteId"]]
        if r["rangeType"] == "Native" and port["slot"] == native_port(s["connectionType"]):
            out.append(
                common
                | net(s["id"], r)
                | {
                    "id": f"socket-{s['id']}",
                    "name": f"{s['name']} Socket",
                    "category": "Network Device",
                    "ipAddress": r["localIp"],
                    "ip": r["localIp"],
                    "isManaged": True,
                    "confidence": "HIGH",
                    "nic": {"macAddress": _mac(s["id"]), "vendor": "Cato Networks"},
                    "site": {"id": s["id"], "name": s["name"]},
                    "hw": {"type": "Socket", "model": platform(s), "manufacturer": "Cato Networks"},
                    "os": {"product": "Socket", "vendor": "Cato Networks", "version": SOCKET_VERSION},
                    "firstSeen": s["creationTime"],
                }
            )
    for h in ctx.store.list(acc, HOST):
        s, ip = sites[h["siteId"]], ipaddress.IPv4Address(h["ip"])
        r = next((r for r in by_site.get(s["id"], ()) if ip in ipaddress.IPv4Network(r["subnet"])), None)
        out.append(
            common
            | net(s["id"], r)
            | {
                "id": f"host-{h['id']}",
                "name": h["name"],
                "category": "Unknown",
                "ipAddress": h["ip"],
                "ip": h["ip"],
                "isManaged": False,
                "confidence": "MEDIUM",
                "nic": {"macAddress": h.get("macAddress"), "vendor": None},
                "site": {"id": s["id"], "name": s["name"]},
                "hw": None,
                "os": None,
                "firstSeen": h["creationTime"],
            }
        )
    return out


def _norm(key: str, v: Any) -> Any:
    if v is None:
        return None
    if key == "macAddress":
        return str(v).lower().replace("-", ":")
    if key in ("ip", "ipAddress"):
        return ipaddress.IPv4Address(str(v))
    return v


def _holds(key: str, value: Any, op: str, arg: Any) -> bool:
    """One filter condition ``{op: arg}`` on one field's value."""
    if isinstance(value, dict) and "id" in value:  # a ref: compare by what the ref input names
        refs = arg if isinstance(arg, list) else [arg]
        hits = [value["id" if r.get("by", "ID") == "ID" else "name"] == r["input"] for r in refs]
        checks = {
            "eq": lambda: any(hits),
            "in": lambda: any(hits),
            "neq": lambda: not any(hits),
            "nin": lambda: not any(hits),
        }
    elif isinstance(value, list):  # originTypes
        checks = {
            "in": lambda: bool(set(value) & set(arg)),
            "nin": lambda: not set(value) & set(arg),
            "hasAll": lambda: set(arg) <= set(value),
        }
    else:
        try:
            v = _norm(key, value)
            if op in ("within", "nwithin"):
                return (v is not None and v in ipaddress.IPv4Network(str(arg))) == (op == "within")
            a = [_norm(key, x) for x in arg] if isinstance(arg, list) else _norm(key, arg)
        except ValueError as e:
            raise invalid(f"devices filter on {key}: {e}") from None
        checks = {
            "eq": lambda: v == a,
            "neq": lambda: v != a,
            "in": lambda: v in a,
            "nin": lambda: v not in a,
            "gt": lambda: v is not None and v > a,
            "gte": lambda: v is not None and v >= a,
            "lt": lambda: v is not None and v < a,
            "lte": lambda: v is not None and v <= a,
            "between": lambda: v is not None and a[0] <= v <= a[1],
            "regex": lambda: v is not None and re.search(a, str(v)) is not None,
        }
    if op not in checks:
        raise invalid(f"filter operator {op} is not supported on {key}")
    return checks[op]()


def matches(obj: dict[str, Any] | None, flt: dict[str, Any]) -> bool:
    """One ``DeviceV2FilterInput`` (or a nested one such as ``nic``) against a device (or its part)."""
    for key, cond in flt.items():
        value = (obj or {}).get(key)
        if cond is None:
            continue
        if isinstance(cond, dict):
            if not matches(value, cond):
                return False
        elif not all(_holds(key, value, op, arg) for c in cond for op, arg in c.items() if arg is not None):
            return False
    return True


def ordered(items: list[dict], sort: dict[str, Any]) -> list[dict]:
    """Items sorted by a ``…SortInput`` ({field: {direction, priority}}, nested inputs allowed)."""
    items = list(items)
    for _, path, desc in sorted(_sort_keys(sort), reverse=True):
        items.sort(key=lambda d: _sort_key(_value(d, path)), reverse=desc)
    return items


def _sort_keys(sort: dict[str, Any], path: tuple[str, ...] = ()) -> list[tuple[int, tuple[str, ...], bool]]:
    keys = []
    for k, v in (sort or {}).items():
        if isinstance(v, dict) and "direction" in v:
            keys.append((v.get("priority", 1), (*path, k), v["direction"] == "DESC"))
        elif isinstance(v, dict):
            keys += _sort_keys(v, (*path, k))
    return keys


def _sort_key(v: Any) -> tuple:
    return (v is None, v if v is not None else "")


def _value(d: dict, path: tuple[str, ...]) -> Any:
    for p in path:
        d = (d or {}).get("ipAddress" if p == "ip" else p)
    if isinstance(d, dict):  # a ref (updatedBy...): sort by its name
        d = d.get("name")
    return _norm(path[-1], d)


@query("devices")
def devices(ctx: RequestContext, info, accountId: str) -> dict[str, Any]:
    def device_list(info, input=None):
        inp = input or {}
        found = [d for d in _devices(ctx) if all(matches(d, f) for f in inp.get("filter") or [])]
        found = ordered(found, inp.get("sort") or {"id": {"direction": "DESC"}})
        paging = inp.get("paging") or {}
        start, limit = paging.get("from", 0), paging.get("limit", 100)
        return {"device": found[start : start + limit], "paging": {"total": len(found)}}

    return {"list": device_list}
