"""Device facts that contradict the configuration.

``devices`` (the ``devices.list`` query, paged) is registered as a read-path collection here, so
drift, refresh and export share one read of it. Fact checks are per spec name and run on the
desired inputs: a static host whose MAC Cato sees at another IP, a site whose socket model is
not the declared connection type.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from ..readpath import AccountReader, register_loader

PAGE = 100  # DeviceV2Input's documented default page size: safe against the real API's cap
PARALLEL = 4  # pages asked for at once (devices.list is under the default 120/min limit)


def _mac(value: Any) -> str | None:
    return str(value).lower().replace("-", ":") if value else None


def _page(r: AccountReader, start: int) -> tuple[list[dict[str, Any]], int]:
    data = r.client.execute(
        "DevicesList",
        {
            "input": {
                "paging": {"from": start, "limit": PAGE},
                "sort": {"id": {"direction": "ASC", "priority": 1}},
            }
        },
    )
    page = (data.get("devices") or {}).get("list") or {}
    return page.get("device") or [], (page.get("paging") or {}).get("total") or 0


def load_devices(r: AccountReader) -> dict[str, dict[str, Any]]:
    """Every device, a page of PAGE at a time. The first page says how many there are; the pages
    after it are asked for side by side (same calls, one round trip's wait instead of one per page),
    and paging goes on one page at a time while pages come back full, should ``total`` be stale."""
    out: dict[str, dict[str, Any]] = {}

    def keep(items: list[dict[str, Any]]) -> int:
        fresh = 0
        for d in items:
            fresh += str(d["id"]) not in out
            out[str(d["id"])] = {
                "id": str(d["id"]),
                "name": d.get("name"),
                "ip": d.get("ipAddress"),
                "mac_address": _mac((d.get("nic") or {}).get("macAddress")),
                "site_id": str((d.get("site") or {}).get("id") or "") or None,
                "managed": bool(d.get("isManaged")),
                "model": (d.get("hw") or {}).get("model"),
                "hw_type": (d.get("hw") or {}).get("type"),
            }
        return fresh

    items, total = _page(r, 0)
    keep(items)
    start = len(items)
    if r._on_page:  # the reader's progress hook, which the built-in loaders call too
        r._on_page("device", start, total)
    rest = list(range(start, total, PAGE)) if items else []
    if rest:
        with ThreadPoolExecutor(max_workers=min(PARALLEL, len(rest))) as pool:
            pages = list(pool.map(lambda at: _page(r, at), rest))
        for page, _ in pages:
            keep(page)
        items = pages[-1][0]
        start = rest[-1] + len(items)
        if r._on_page:
            r._on_page("device", len(out), total)
    while items and start < total:  # ``total`` grew meanwhile: page on, one page at a time
        items, total = _page(r, start)
        start += len(items)
        if not keep(items):
            break  # nothing new: a server that ignores ``from`` must not loop forever
    return out


register_loader("devices", load_devices)


@dataclass(frozen=True)
class Fact:
    """Something Cato observes that the configuration contradicts."""

    property: str
    declared: Any
    observed: Any
    detail: str
    source: str  # where the observation comes from, e.g. "devices.list device host-42"
    # The code change that agrees with the observation ({property: value}), if there is one.
    accept: dict[str, Any] | None = None
    # Another object that explains the observation ((spec name, id): a reservation of the same MAC).
    conflict: tuple[str, str] | None = None


FactCheck = Callable[[Mapping[str, Any], str, AccountReader], list[Fact]]
FACT_CHECKS: dict[str, FactCheck] = {}
FACT_READS: dict[str, tuple[str, ...]] = {}  # the collections a check reads: drift loads them early


def register_fact_check(spec_name: str, check: FactCheck, reads: tuple[str, ...] = ()) -> None:
    FACT_CHECKS[spec_name] = check
    FACT_READS[spec_name] = reads


_MAC_INDEX: dict[int, tuple[Mapping, dict[str, list[dict[str, Any]]]]] = {}


def _by_mac(devices: Mapping[str, Mapping[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Devices by MAC, built once per loaded collection (a reload is a new dict)."""
    cached = _MAC_INDEX.get(id(devices))
    if cached is None or cached[0] is not devices:
        index: dict[str, list[dict[str, Any]]] = {}
        for d in sorted(devices.values(), key=lambda d: d["id"]):
            if d.get("mac_address"):
                index.setdefault(d["mac_address"], []).append(d)
        _MAC_INDEX.clear()  # one live collection at a time is all a run needs
        cached = _MAC_INDEX[id(devices)] = (devices, index)
    return cached[1]


def check_static_host(desired: Mapping[str, Any], resource_id: str, view) -> list[Fact]:
    """The host's MAC seen at another IP: the reservation no longer matches the machine."""
    mac, ip = _mac(desired.get("mac_address")), desired.get("ip")
    if not mac or not ip:
        return []
    facts = []
    for d in _by_mac(view.get("devices")).get(mac, ()):
        if d.get("ip") and d["ip"] != ip:
            # Another reservation of this MAC at that address explains it (and is what to remove).
            other = next(
                (
                    h
                    for hid, h in sorted(view.get("hosts").items())
                    if hid != str(resource_id)
                    and _mac(h.get("mac_address")) == mac
                    and h.get("ip") == d["ip"]
                ),
                None,
            )
            facts.append(
                Fact(
                    "mac_address",
                    {"mac_address": mac, "ip": ip},
                    {"mac_address": mac, "ip": d["ip"], "device": d.get("name")},
                    f"MAC {mac} is seen at {d['ip']} (device {d.get('name')!r}), not at the reserved {ip}",
                    f"devices.list device {d['id']}",
                    accept={"ip": d["ip"]},
                    conflict=("StaticHost", str(other["id"])) if other else None,
                )
            )
    return facts


def socket_platform(connection_type: str | None) -> str | None:
    """The socket platform a connection type declares (``SOCKET_X1600`` -> ``X1600``)."""
    if not connection_type or not connection_type.startswith("SOCKET_"):
        return None
    return connection_type.removeprefix("SOCKET_").upper()


def check_socket_site(desired: Mapping[str, Any], resource_id: str, view) -> list[Fact]:
    """The socket Cato sees (accountSnapshot device platform) is another model than declared."""
    want = socket_platform(desired.get("connection_type"))
    site = view.get("sites").get(str(resource_id))
    if want is None or site is None:
        return []
    facts = []
    for dev in site.get("devices") or []:
        info = dev.get("socketInfo") or {}
        seen = str(info.get("platform") or "").upper()
        if seen and seen != want:
            facts.append(
                Fact(
                    "connection_type",
                    desired.get("connection_type"),
                    seen,
                    f"socket {info.get('serial') or dev.get('id')} is a {seen}, the site declares "
                    f"{desired.get('connection_type')}",
                    f"accountSnapshot site {resource_id} device {dev.get('id')}",
                    accept={"connection_type": f"SOCKET_{seen}"},
                )
            )
    return facts


register_fact_check("StaticHost", check_static_host, reads=("devices", "hosts"))
register_fact_check("SocketSite", check_socket_site, reads=("sites",))
