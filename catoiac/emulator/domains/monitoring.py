"""Monitoring: site connectivity, link metrics, the events feed and XDR stories, simulated.

Everything is derived from the configuration in the store, the operator's conditions and the clock,
so the same state and clock give the same answers:

- **Links** are a site's WAN ports (``destType`` CATO, ALTERNATIVE or LAYER_2_WAN) over time. The
  port history comes from the audit trail (``networkInterface`` records that change ``destType``),
  so a WAN port disabled by an ``up`` stops reporting from the moment of that change, and a port
  made a WAN link starts then. Ports are read generically (``destType``, ``slot``, ``index``,
  ``name``, bandwidths, ``precedence``), whatever else their records hold.
- **Conditions** (operator endpoints, kind ``monitorCondition``): a site or one of its links
  ``down``, or ``impair``-ed (added packet loss, latency, jitter), over ``[start, end)``. Restoring
  one ends it; its history stays, so a baseline window before it still reads healthy.
- **Metrics** are seeded per (site, port) and per minute from a hash: a base round-trip time,
  jitter, packet loss and utilisation of the port's bandwidth, with a little noise. Conditions
  apply to the part of a bucket they cover; a bucket in which a link carried nothing has no data
  (``-1`` with ``withMissingData``, else ``0``, as the schema describes).
- **Events** (``eventsFeed``) are a queue read with a marker: the operator's and the injected ones
  (kind ``monitorEvent``), and the ones config changes imply (a WAN port disabled disconnects its
  tunnel). Connectivity events follow Cato's timing: ``Disconnected`` once a tunnel has been down
  for 2.5 minutes; back within that, a ``Reconnected`` instead; ``Connected`` after 30 seconds up.
  An event's ``time`` is when the change happened; it enters the queue when Cato would emit it.
  The queue keeps 7 days; a page holds at most 3000 events.
- **Stories** (``xdr.stories``) are injected (kind ``xdrStory``).
- **Site states** (conditions ``ha`` and ``status``): an HA pair with its readiness and sub-statuses
  (a secondary socket appears), or an operational status other than ``active``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache, partial
from typing import Any

from ..context import CatoGraphQLError, RequestContext, invalid
from ..registry import query, seeder
from . import snapshot as _snapshot
from .auditfeed import parse_time_frame
from .sites import IFACE, PORT_CHANGE, SITE, WAN_TYPES

COND, EVENT, STORY = "monitorCondition", "monitorEvent", "xdrStory"
EVENT_PAGE = 3000  # Cato's eventsFeed page (its older docs say 1000)
EVENT_RETENTION = timedelta(days=7)  # "Cato stores event data for the previous seven days"
METRICS_RETENTION = timedelta(days=90)  # Data Lake: three months by default
METRICS_ITEM_LIMIT = 100_000  # (sites + users) * labels * buckets per accountMetrics query
MAX_BUCKETS = 1000
DISCONNECT_AFTER = timedelta(seconds=150)  # "disconnected for more than 2 1/2 minutes"
CONNECTED_AFTER = timedelta(seconds=30)  # "after being connected for 30 seconds"
_PACKET_BYTES = 800  # mean packet size, to turn throughput into packets
_NOISE_SLOT = 60  # seconds: noise changes once a minute
_OPEN = datetime.max.replace(tzinfo=UTC)  # the end of a condition nobody restored yet


# -- time ---------------------------------------------------------------------------------------
def iso(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_us(t: datetime) -> str:
    """Sortable to the microsecond: queue keys."""
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_iso(value: str) -> datetime:
    t = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def _time_frame(ctx: RequestContext, value: str) -> tuple[datetime, datetime]:
    start, end = parse_time_frame(value, ctx.now)
    return start, min(end, ctx.now)  # nothing is measured in the future


# -- ports and their history ----------------------------------------------------------------------
def port_key(port: dict[str, Any]) -> str:
    return str(port.get("slot") or port.get("index") or port.get("id"))


def port_label(port: dict[str, Any]) -> str:
    return str(port.get("name") or port_key(port))


def is_wan(dest: Any) -> bool:
    return dest in WAN_TYPES


@dataclass
class Port:
    site: dict[str, Any]
    rec: dict[str, Any]
    # destType changes, oldest first: (time, before, after, the port's name before)
    changes: list[tuple[datetime, str | None, str | None, str | None]]

    @property
    def key(self) -> str:
        return port_key(self.rec)

    @property
    def label(self) -> str:
        return port_label(self.rec)

    def dest_at(self, t: datetime) -> str | None:
        for when, before, _, _ in self.changes:
            if when > t:
                return before
        return self.rec.get("destType")

    def wan_intervals(self, t0: datetime, t1: datetime) -> list[tuple[datetime, datetime]]:
        """Where in [t0, t1) the port was a WAN link."""
        out: list[tuple[datetime, datetime]] = []
        start = t0 if is_wan(self.dest_at(t0)) else None
        for when, _, after, _ in self.changes:
            if not t0 < when < t1:
                continue
            if is_wan(after) and start is None:
                start = when
            elif not is_wan(after) and start is not None:
                out.append((start, when))
                start = None
        if start is not None:
            out.append((start, t1))
        created = self.created
        return [(max(a, created), b) for a, b in out if b > created]

    @property
    def created(self) -> datetime:
        return _created(self.site["creationTime"])

    def bandwidth(self) -> tuple[float, float]:
        up = self.rec.get("upstreamBandwidth") or 10
        down = self.rec.get("downstreamBandwidth") or 10
        return float(up), float(down)

    @property
    def passive(self) -> bool:
        return str(self.rec.get("precedence") or "ACTIVE").upper() != "ACTIVE"


@lru_cache(maxsize=65536)
def _created(value: str) -> datetime:
    return parse_iso(value)


def _wan_changes(ctx: RequestContext, since: datetime) -> dict[str, list[tuple[datetime, Any, Any, Any]]]:
    """destType changes of every port since ``since``, by interface id (the sites domain's
    ``PORT_CHANGE`` records: what the socket was told to do, and when)."""
    out: dict[str, list[tuple[datetime, Any, Any, Any]]] = {}
    rows = ctx.store.execute(
        "SELECT parent_id, data FROM entities WHERE account_id=? AND kind=? ORDER BY seq",
        (ctx.account_id, PORT_CHANGE),
    ).fetchall()
    for row in rows:
        change = json.loads(row["data"])
        when = parse_iso(change["time"])
        if since <= when <= ctx.now:
            out.setdefault(str(row["parent_id"]), []).append(
                (when, change.get("before"), change.get("after"), change.get("name"))
            )
    return out


class World:
    """One request's view: sites, ports with history, and conditions (loaded once)."""

    def __init__(self, ctx: RequestContext, since: datetime | None = None) -> None:
        self.ctx = ctx
        self.now = ctx.now
        self.since = since or (ctx.now - METRICS_RETENTION)
        changes = _wan_changes(ctx, self.since)
        self.sites = {s["id"]: s for s in ctx.store.list(ctx.account_id, SITE)}
        self.ports: dict[str, list[Port]] = {sid: [] for sid in self.sites}
        for rec in ctx.store.list(ctx.account_id, IFACE):
            site = self.sites.get(rec.get("siteId"))
            if site is not None:
                self.ports[site["id"]].append(Port(site, rec, changes.get(str(rec["id"]), [])))
        self.conditions = [c for c in ctx.store.list(ctx.account_id, COND) if c["siteId"] in self.sites]
        self._samples: dict[tuple, dict[str, float] | None] = {}
        self._by_site: dict[str, list[tuple[dict, datetime, datetime]]] = {}
        for c in self.conditions:
            end = parse_iso(c["end"]) if c.get("end") else _OPEN
            self._by_site.setdefault(c["siteId"], []).append((c, parse_iso(c["start"]), end))

    @classmethod
    def of(cls, ctx: RequestContext, since: datetime | None = None) -> World:
        w = ctx.scratch.get("monitoring.world")
        if w is None or (since is not None and since < w.since):
            w = ctx.scratch["monitoring.world"] = cls(ctx, since)
        return w

    # -- conditions -------------------------------------------------------------------------------
    def _applies(self, c: dict, port: Port | None) -> bool:
        return c["link"] is None or (port is not None and c["link"] == port.key)

    def _spans(self, site_id: str, port: Port | None, kind: str, t0: datetime, t1: datetime):
        for c, start, end in self._by_site.get(site_id, ()):
            if c["kind"] != kind or not self._applies(c, port):
                continue
            a, b = max(start, t0), min(end, t1)
            if b > a:
                yield c, a, b

    def down_intervals(self, site_id: str, port: Port | None, t0: datetime, t1: datetime):
        return _union([(a, b) for _, a, b in self._spans(site_id, port, "down", t0, t1)])

    def link_up(self, port: Port, t: datetime) -> bool:
        end = t + timedelta(microseconds=1)
        return bool(port.wan_intervals(t, end)) and not self.down_intervals(port.site["id"], port, t, end)

    def impairment(self, port: Port, t0: datetime, t1: datetime) -> tuple[float, float, float]:
        """(loss %, latency ms, jitter ms) added over [t0, t1), weighted by coverage."""
        span = (t1 - t0).total_seconds() or 1.0
        loss = lat = jit = 0.0
        for c, a, b in self._spans(port.site["id"], port, "impair", t0, t1):
            w = (b - a).total_seconds() / span
            loss += w * float(c.get("lossPct") or 0)
            lat += w * float(c.get("latencyMs") or 0)
            jit += w * float(c.get("jitterMs") or 0)
        return min(loss, 100.0), lat, jit

    def wan_ports(self, site_id: str, t0: datetime, t1: datetime) -> list[Port]:
        """Ports that were WAN links at some time in [t0, t1)."""
        return [p for p in self.ports.get(site_id, []) if p.wan_intervals(t0, t1)]

    # -- one bucket of one link ---------------------------------------------------------------------
    def link_sample(self, port: Port, t0: datetime, t1: datetime) -> dict[str, float] | None:
        """What a link measured over [t0, t1), or None if it carried nothing (down or not a WAN)."""
        memo = (port.site["id"], port.key, t0, t1)
        if memo not in self._samples:
            self._samples[memo] = self._sample(port, t0, t1)
        return self._samples[memo]

    def _sample(self, port: Port, t0: datetime, t1: datetime) -> dict[str, float] | None:
        span = (t1 - t0).total_seconds()
        if span <= 0:
            return None
        wan = port.wan_intervals(t0, t1)
        up = 0.0
        for a, b in wan:
            down = self.down_intervals(port.site["id"], port, a, b)
            up += (b - a).total_seconds() - sum((y - x).total_seconds() for x, y in down)
        if up <= 0:
            return None
        frac = up / span
        p = _profile(port.site["id"], port.key)
        n = _noise(port.site["id"], port.key, t0)
        loss, lat, jit = self.impairment(port, t0, t1)
        up_bw, down_bw = port.bandwidth()
        util = p["util"] * n[3] * (0.02 if port.passive else 1.0)
        mbps_up, mbps_down = up_bw * util * frac, down_bw * util * frac
        bytes_up, bytes_down = mbps_up * 125_000 * span, mbps_down * 125_000 * span
        loss_pct = min(100.0, p["loss"] * n[2] + loss)
        pk_up, pk_down = bytes_up / _PACKET_BYTES, bytes_down / _PACKET_BYTES
        return {
            "bytesUpstream": bytes_up,
            "bytesDownstream": bytes_down,
            "bytesTotal": bytes_up + bytes_down,
            "bytesUpstreamMax": bytes_up * 1.3,
            "bytesDownstreamMax": bytes_down * 1.3,
            "packetsUpstream": pk_up,
            "packetsDownstream": pk_down,
            "lostUpstream": pk_up * loss_pct / 100,
            "lostDownstream": pk_down * loss_pct / 100,
            "lostUpstreamPcnt": loss_pct,
            "lostDownstreamPcnt": loss_pct,
            "packetsDiscardedUpstream": 0.0,
            "packetsDiscardedDownstream": 0.0,
            "packetsDiscardedUpstreamPcnt": 0.0,
            "packetsDiscardedDownstreamPcnt": 0.0,
            "jitterUpstream": p["jitter"] * n[1] + jit,
            "jitterDownstream": p["jitter"] * n[1] * 1.1 + jit,
            "rtt": p["rtt"] * n[0] + lat,
            "lastMileLatency": p["rtt"] * 0.4 * n[0] + lat,
            "lastMilePacketLoss": loss_pct,
            "tunnelAge": up * 1000,
            "throughputUpstream": mbps_up,
            "throughputDownstream": mbps_down,
            "duration": up,
        }


def _union(spans: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    out: list[tuple[datetime, datetime]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _units(*parts: Any) -> tuple[float, ...]:
    """Five deterministic numbers in [0, 1) from their seed parts (one hash)."""
    digest = hashlib.sha256(":".join(map(str, parts)).encode()).digest()
    return tuple(int.from_bytes(digest[i : i + 6], "big") / float(1 << 48) for i in range(0, 30, 6))


@lru_cache(maxsize=65536)
def _profile(site_id: str, key: str) -> dict[str, float]:
    rtt, jitter, loss, util, _ = _units(site_id, key, "profile")
    return {"rtt": 8 + 52 * rtt, "jitter": 0.5 + 2.5 * jitter, "loss": 0.2 * loss, "util": 0.15 + 0.35 * util}


def _noise(site_id: str, key: str, t: datetime) -> tuple[float, float, float, float]:
    slot = int(t.timestamp()) // _NOISE_SLOT
    return tuple(0.9 + 0.2 * u for u in _units(site_id, key, slot)[:4])  # type: ignore[return-value]


# -- accountSnapshot: connectivity as of now --------------------------------------------------------
def _down_since(world: World, site_id: str, port: Port | None) -> datetime | None:
    starts = [
        parse_iso(c["start"])
        for c in world.conditions
        if c["siteId"] == site_id
        and c["kind"] == "down"
        and world._applies(c, port)
        and parse_iso(c["start"]) <= world.now
        and (not c.get("end") or parse_iso(c["end"]) > world.now)
    ]
    return min(starts) if starts else None


def _last_up_end(world: World, site_id: str) -> datetime | None:
    ends = [
        parse_iso(c["end"])
        for c in world.conditions
        if c["siteId"] == site_id and c["kind"] == "down" and c["link"] is None and c.get("end")
    ]
    ends = [e for e in ends if e <= world.now]
    return max(ends) if ends else None


def _snapshot_runtime(ctx: RequestContext, site: dict, ports: list[dict], snap: dict) -> None:
    """Connectivity from the conditions and the port history, over the snapshot's constants."""
    touched = ctx.scratch.get("monitoring.touched")
    if touched is None:
        touched = ctx.scratch["monitoring.touched"] = {
            c["siteId"] for c in ctx.store.list(ctx.account_id, COND)
        }
    if site["id"] not in touched and any(is_wan(p.get("destType")) for p in ports):
        return  # nothing ever happened to it and it has a WAN link: the constants hold
    world = World.of(ctx)
    _apply_states(world, site, snap)
    by_index = {str(p.rec.get("index")): p for p in world.ports.get(site["id"], [])}
    now = world.now
    wan_now = [p for p in world.ports.get(site["id"], []) if is_wan(p.rec.get("destType"))]
    up_links = [p for p in wan_now if world.link_up(p, now)]
    connected = bool(up_links)
    device = snap["devices"][0]
    for link in device["interfaces"]:
        port = by_index.get(str(link["id"]))
        if port is not None and port not in up_links:
            link["connected"] = False
            link["tunnelUptime"] = 0
    for state in device["interfacesLinkState"]:
        port = by_index.get(str(state["id"]))
        if port is not None and is_wan(port.rec.get("destType")) and port not in up_links:
            state.update(hasTunnel=False, hasInternet=False, up=False)
    if connected:
        since = _last_up_end(world, site["id"])
        if since is not None:
            snap["connectedSince"] = device["connectedSince"] = iso(since)
        down = [p for p in wan_now if p not in up_links and not p.passive]
        if down:
            snap["degradedStatus"] = {
                "isDegraded": True,
                "degradedDetails": [
                    {
                        "reason": "WAN_TUNNEL_DISCONNECTED",
                        "args": {
                            "__typename": "DegradedStatusSocketArgs",
                            "deviceName": device["name"],
                            "lastConnectedDate": iso(_down_since(world, site["id"], p) or now),
                            "portID": str(p.rec.get("index")),
                            "portName": p.label,
                        },
                    }
                    for p in down
                ],
            }
        return
    # Disconnected: since the site (or its last link) went down, or its last WAN port was disabled.
    downs = [_down_since(world, site["id"], None)] + [_down_since(world, site["id"], p) for p in wan_now]
    disabled = [w for p in world.ports.get(site["id"], []) for w, _, a, _ in p.changes if not is_wan(a)]
    times = [t for t in downs if t is not None] or disabled
    last = max(times) if times else parse_iso(site["creationTime"])
    snap.update(connectivityStatus="disconnected", lastConnected=iso(last), popName=None)
    device.update(connected=False, lastConnected=iso(last), deviceUptime=0)


def _apply_states(world: World, site: dict, snap: dict) -> None:
    """Operator-set states in force now: HA (a secondary socket and its status) and the site's
    operational status."""
    now = world.now
    for c, start, end in world._by_site.get(site["id"], ()):
        if c["kind"] not in ("ha", "status") or not start <= now < end:
            continue
        if c["kind"] == "status":
            snap["operationalStatus"] = c["operationalStatus"]
            continue
        primary = snap["devices"][0]
        primary["haRole"] = "PRIMARY"
        socket = {**primary["socketInfo"], "id": f"{site['id']}-2", "isPrimary": False,
                  "serial": primary["socketInfo"]["serial"] + "-2"}  # fmt: skip
        secondary = {**primary, "id": socket["id"], "haRole": "SECONDARY", "socketInfo": socket,
                     "connected": c["ha"]["keepalive"] == "ok", "interfaces": []}  # fmt: skip
        snap["devices"] = [primary, secondary]
        snap["info"] = {**snap["info"], "isHA": True, "sockets": [primary["socketInfo"], socket]}
        snap["haStatus"] = c["ha"]


_snapshot.RUNTIME.append(_snapshot_runtime)


# -- accountMetrics ---------------------------------------------------------------------------------
_COUNTERS = {
    "bytesUpstream",
    "bytesDownstream",
    "bytesTotal",
    "bytesUpstreamMax",
    "bytesDownstreamMax",
    "packetsUpstream",
    "packetsDownstream",
    "lostUpstream",
    "lostDownstream",
    "packetsDiscardedUpstream",
    "packetsDiscardedDownstream",
}
_UNITS = {
    "bytes": "bytes",
    "packets": "packets",
    "lost": "packets",
    "Pcnt": "percent",
    "jitter": "ms",
    "rtt": "ms",
    "lastMileLatency": "ms",
    "lastMilePacketLoss": "percent",
    "tunnelAge": "seconds",
}
_DEFAULT_LABELS = ["bytesUpstream", "bytesDownstream", "lostUpstreamPcnt", "lostDownstreamPcnt", "rtt"]


def _unit_of(label: str) -> str:
    if label.endswith("Pcnt"):
        return "percent"
    return next((u for k, u in _UNITS.items() if label.startswith(k)), "none")


def _buckets(start: datetime, end: datetime, n: int) -> list[tuple[datetime, datetime]]:
    step = (end - start) / n
    return [(start + step * i, start + step * (i + 1)) for i in range(n)]


def _aggregate(samples: list[dict[str, float] | None]) -> dict[str, float] | None:
    """Links (or buckets) combined: counters add up, the rest is traffic-weighted."""
    got = [s for s in samples if s]
    if not got:
        return None
    out: dict[str, float] = {}
    weight = sum(s["bytesTotal"] + 1.0 for s in got)
    for k in got[0]:
        if k in _COUNTERS or k in ("duration", "throughputUpstream", "throughputDownstream", "tunnelAge"):
            out[k] = sum(s[k] for s in got)
        else:
            out[k] = sum(s[k] * (s["bytesTotal"] + 1.0) for s in got) / weight
    return out


def _series(
    label: str,
    points: list[tuple[datetime, dict | None]],
    granularity: float,
    info: list[str],
    counter: bool | None = None,
) -> dict[str, Any]:
    """One Timeseries; ``counter`` values (bytes, packets) are divided by the bucket with perSecond."""
    counter = label in _COUNTERS if counter is None else counter
    values = [None if s is None else float(s.get(label, 0.0)) for _, s in points]
    present = [v for v in values if v is not None]
    total = sum(present) if counter else (sum(present) / len(present) if present else 0.0)

    def data(info, perSecond=True, withMissingData=False, useDefaultSizeBucket=False):
        missing = -1.0 if withMissingData else 0.0
        out = []
        for (t, _), v in zip(points, values, strict=True):
            if v is not None and counter and perSecond and granularity:
                v = v / granularity
            out.append([t.timestamp() * 1000, round(v, 4) if v is not None else missing])
        return out

    return {
        "label": label,
        "data": data,
        "sum": round(total, 4),
        "units": _unit_of(label),
        "info": info,
        "key": {"measureFieldName": label, "dimensions": []},
        "dimensions": [],
    }


def _metrics(measure: Callable[[], dict[str, float] | None], span: float):
    """A ``metrics(toRate)`` field, measured only if asked for."""

    def metrics(info, toRate=False):
        sample = measure()
        if sample is None:
            return None
        rate = (lambda v: v / span) if toRate and span else (lambda v: v)
        return {
            "bytesUpstream": rate(sample["bytesUpstream"]),
            "bytesDownstream": rate(sample["bytesDownstream"]),
            "bytesTotal": rate(sample["bytesTotal"]),
            "packetsUpstream": rate(sample["packetsUpstream"]),
            "packetsDownstream": rate(sample["packetsDownstream"]),
            "lostUpstream": rate(sample["lostUpstream"]),
            "lostDownstream": rate(sample["lostDownstream"]),
            "lostUpstreamPcnt": sample["lostUpstreamPcnt"],
            "lostDownstreamPcnt": sample["lostDownstreamPcnt"],
            "packetsDiscardedUpstream": 0.0,
            "packetsDiscardedDownstream": 0.0,
            "jitterUpstream": sample["jitterUpstream"],
            "jitterDownstream": sample["jitterDownstream"],
            "rtt": round(sample["rtt"]),
            "duration": round(sample["duration"]),
            "granularity": round(span),
            "flowCount": None,
            "hostCount": None,
            "hostLimit": None,
        }

    return metrics


def _check_items(ctx: RequestContext, labels: list[str], buckets: int) -> None:
    if buckets < 1 or buckets > MAX_BUCKETS:
        raise invalid(f"buckets must be between 1 and {MAX_BUCKETS}, got {buckets}")
    items = ctx.scratch.get("monitoring.sites", 1) * len(labels) * buckets
    if items > METRICS_ITEM_LIMIT:
        raise CatoGraphQLError(
            f"accountMetrics query exceeds the limit of {METRICS_ITEM_LIMIT:,} items "
            f"(sites x labels x buckets = {items:,}): ask for fewer buckets, labels or sites",
            "BAD_USER_INPUT",
        )


def _link_metrics(ctx: RequestContext, world: World, port: Port, start: datetime, end: datetime) -> dict:
    span = (end - start).total_seconds()

    def timeseries(info, buckets=None, labels=None):
        labels = labels or _DEFAULT_LABELS
        n = 10 if buckets is None else buckets
        _check_items(ctx, labels, n)
        points = [(a, world.link_sample(port, a, b)) for a, b in _buckets(start, end, n)]
        g = span / n
        return [_series(lab, points, g, [port.site["id"], port.label]) for lab in labels]

    return {
        "name": port.label,
        "interfaceInfo": _snapshot._interface_info(port.rec),
        "remoteIP": None,
        "remoteIPInfo": None,
        "ipsecInfo": None,
        "socketInfo": None,
        "annotations": lambda info, types=None: [],
        "periods": [],
        "metrics": _metrics(partial(world.link_sample, port, start, end), span),
        "timeseries": timeseries,
    }


def _site_metrics(ctx: RequestContext, world: World, site: dict, start: datetime, end: datetime, grouped):
    span = (end - start).total_seconds()
    ports = world.wan_ports(site["id"], start, end)

    def site_sample(a: datetime, b: datetime):
        return _aggregate([world.link_sample(p, a, b) for p in ports])

    def timeseries(info, buckets=None, labels=None):
        labels = labels or _DEFAULT_LABELS
        n = 10 if buckets is None else buckets
        _check_items(ctx, labels, n)
        points = [(a, site_sample(a, b)) for a, b in _buckets(start, end, n)]
        return [_series(lab, points, span / n, [site["id"]]) for lab in labels]

    interfaces = [_link_metrics(ctx, world, p, start, end) for p in ports]
    if grouped and ports:
        interfaces = [
            {
                **interfaces[0],
                "name": "all",
                "interfaceInfo": None,
                "metrics": _metrics(partial(site_sample, start, end), span),
                "timeseries": timeseries,
            }
        ]
    return {
        "id": site["id"],
        "name": site["name"],
        "info": {"name": site["name"], "type": site.get("siteType"), "connType": site.get("connectionType")},
        "interfaces": interfaces,
        "metrics": _metrics(partial(site_sample, start, end), span),
        "timeseries": timeseries,
        "flowCount": None,
        "hostCount": None,
        "hostLimit": None,
    }


@query("accountMetrics")
def account_metrics(
    ctx: RequestContext,
    info,
    timeFrame: str,
    accountID: str | None = None,
    id: str | None = None,
    groupInterfaces: bool | None = None,
    groupDevices: bool | None = None,
) -> dict[str, Any]:
    ctx.check_account(id)
    start, end = _time_frame(ctx, timeFrame)
    start = max(start, ctx.now - METRICS_RETENTION)
    world = World.of(ctx, start)

    def sites(info, siteIDs=None, ids=None):
        wanted = None if siteIDs is None and ids is None else {str(i) for i in (siteIDs or []) + (ids or [])}
        chosen = [s for sid, s in world.sites.items() if wanted is None or sid in wanted]
        ctx.scratch["monitoring.sites"] = max(1, len(chosen))
        return [_site_metrics(ctx, world, s, start, end, bool(groupInterfaces)) for s in chosen]

    return {
        "id": ctx.account_id,
        "from": iso(start),
        "to": iso(end),
        "granularity": round((end - start).total_seconds() / 10),
        "sites": sites,
        "users": lambda info, userIDs=None: [],
        "timeseries": lambda info, labels=None, buckets=None: [],
    }


# -- socketPortMetrics -------------------------------------------------------------------------------
_PORT_DIMENSIONS = (
    "account_id",
    "site_id",
    "site_name",
    "device_id",
    "ha_role",
    "socket_interface",
    "socket_interface_role",
    "physical_interface_type",
    "transport_type",
    "sim_num",
)
_PORT_MEASURES = {
    "bytes_upstream": ("bytesUpstream", "bytes"),
    "bytes_downstream": ("bytesDownstream", "bytes"),
    "bytes_total": ("bytesTotal", "bytes"),
    "throughput_upstream": ("throughputUpstream", "bps"),
    "throughput_downstream": ("throughputDownstream", "bps"),
}


def _port_rows(ctx: RequestContext, world: World, start: datetime, end: datetime):
    """(dimension values, sampler over [a, b)) per active port: WAN links and LAN ports."""
    rows = []
    for site in world.sites.values():
        ports = world.ports.get(site["id"], [])
        wan = world.wan_ports(site["id"], start, end)
        lans = [
            p for p in ports if p not in wan and p.rec.get("destType") not in (None, "INTERFACE_DISABLED")
        ]
        for p in wan + lans:
            dims = {
                "account_id": ctx.account_id,
                "site_id": site["id"],
                "site_name": site["name"],
                "device_id": site["id"],
                "ha_role": "PRIMARY",
                "socket_interface": p.key,
                "socket_interface_role": p.rec.get("wanRole") or ("lan" if p in lans else "none"),
                "physical_interface_type": "ethernet",
                "transport_type": "wired",
                "sim_num": None,
            }
            if p in wan:
                sample = partial(world.link_sample, p)
            else:  # a LAN port carries the site's WAN traffic, shared among the LAN ports
                sample = partial(_lan_sample, world, wan, 1.0 / len(lans))
            rows.append((dims, sample))
    return rows


def _lan_sample(world: World, wan: list[Port], share: float, a: datetime, b: datetime):
    return _scaled(_aggregate([world.link_sample(w, a, b) for w in wan]), share)


def _scaled(sample: dict[str, float] | None, k: float) -> dict[str, float] | None:
    if sample is None:
        return None
    return {
        key: v * k if key in _COUNTERS or key.startswith("throughput") else v for key, v in sample.items()
    }


def _port_filter(filters: list[dict] | None):
    def keep(dims: dict[str, Any]) -> bool:
        for f in filters or []:
            name, op, values = f["fieldName"], f["operator"], [str(v) for v in f.get("values") or []]
            if name not in _PORT_DIMENSIONS:
                raise invalid(f"socketPortMetrics filter on {name} is not supported; filter on a dimension")
            value = None if dims.get(name) is None else str(dims[name])
            ok = {
                "is": value in values,
                "in": value in values,
                "is_not": value not in values,
                "not_in": value not in values,
                "exists": value is not None,
                "not_exists": value is None,
            }.get(op)
            if ok is None:
                raise invalid(f"socketPortMetrics filter operator {op} is not supported on {name}")
            if not ok:
                return False
        return True

    return keep


def _measure_value(m: dict, samples: list[dict[str, float] | None], span: float) -> float | None:
    key, _ = _PORT_MEASURES[m["fieldName"]]
    values = [s[key] for s in samples if s is not None]
    if not values:
        return None
    agg = m.get("aggType", "sum")
    if agg == "sum":
        return sum(values)
    if agg == "avg":
        return sum(values) / len(values)
    if agg == "max":
        return max(values)
    if agg == "min":
        return min(values)
    if agg in ("count", "count_distinct"):
        return float(len(values))
    raise invalid(f"socketPortMetrics aggType {agg} is not supported for {m['fieldName']}")


def _check_measures(measures: list[dict] | None, dimensions: list[dict] | None) -> tuple[list, list]:
    measures = measures or [{"fieldName": "bytes_total", "aggType": "sum"}]
    for m in measures:
        if m["fieldName"] not in _PORT_MEASURES:
            raise invalid(
                f"socketPortMetrics measure {m['fieldName']} is not served; use one of {', '.join(_PORT_MEASURES)}"
            )
    dims = [d["fieldName"] for d in dimensions or []]
    for d in dims:
        if d not in _PORT_DIMENSIONS:
            raise invalid(
                f"socketPortMetrics dimension {d} is not served; use one of {', '.join(_PORT_DIMENSIONS)}"
            )
    return measures, dims


def _grouped(rows, dims: list[str]):
    groups: dict[tuple, list] = {}
    for d, sample in rows:
        groups.setdefault(tuple(d.get(k) for k in dims), []).append((d, sample))
    return groups


def _string(v: Any) -> dict[str, Any]:
    return {"__typename": "StringValue", "string": None if v is None else str(v)}


def _port_query(ctx: RequestContext, time_frame: str, measures, dimensions, filters):
    """The window, measures, dimensions and filtered port rows of a socketPortMetrics query."""
    start, end = _time_frame(ctx, time_frame)
    start = max(start, ctx.now - METRICS_RETENTION)
    measures, dims = _check_measures(measures, dimensions)
    world = World.of(ctx, start)
    keep = _port_filter(filters)
    return start, end, measures, dims, [(d, s) for d, s in _port_rows(ctx, world, start, end) if keep(d)]


@query("socketPortMetrics")
def socket_port_metrics(
    ctx: RequestContext,
    info,
    accountID: str,
    timeFrame: str,
    measures=None,
    dimensions=None,
    filters=None,
    sort=None,
) -> dict[str, Any]:
    start, end, measures, dims, rows = _port_query(ctx, timeFrame, measures, dimensions, filters)
    span = (end - start).total_seconds()
    records = []
    for key, members in _grouped(rows, dims).items():
        samples = [s(start, end) for _, s in members]
        fm: dict[str, Any] = dict(zip(dims, key, strict=True))
        for m in measures:
            v = _measure_value(m, samples, span)
            fm[m["fieldName"]] = None if v is None else round(v, 4)
        records.append(fm)
    for s in reversed(sort or []):
        records.sort(
            key=lambda r, f=s["fieldName"]: (r.get(f) is None, r.get(f)), reverse=s["order"] == "desc"
        )
    units = [_PORT_MEASURES[m["fieldName"]][1] for m in measures]

    def page(info, limit=None, **kw):
        first = kw.get("from") or 0
        chosen = records[first : first + limit] if limit is not None else records[first:]
        return [
            {
                "fieldsMap": r,
                "fields": [{"name": k, "value": _string(v)} for k, v in r.items()],
                "fieldsUnitTypes": ["none"] * len(dims) + units,
                "prevTimeFrame": None,
                "trends": None,
            }
            for r in chosen
        ]

    totals = {m["fieldName"]: round(sum(r[m["fieldName"]] or 0 for r in records), 4) for m in measures}
    return {"id": ctx.account_id, "from": iso(start), "to": iso(end), "total": len(records), "totals": totals,
            "records": page}  # fmt: skip


@query("socketPortMetricsTimeSeries")
def socket_port_metrics_time_series(
    ctx: RequestContext, info, accountID: str, timeFrame: str, measures=None, dimensions=None, filters=None
) -> dict[str, Any]:
    start, end, measures, dims, rows = _port_query(ctx, timeFrame, measures, dimensions, filters)
    span = (end - start).total_seconds()

    def timeseries(info, buckets: int):
        if buckets < 1 or buckets > MAX_BUCKETS:
            raise invalid(f"buckets must be between 1 and {MAX_BUCKETS}, got {buckets}")
        spans = _buckets(start, end, buckets)
        out = []
        for key, members in _grouped(rows, dims).items():
            per_bucket = [[s(a, b) for _, s in members] for a, b in spans]
            for m in measures:
                points = []
                for (a, _), samples in zip(spans, per_bucket, strict=True):
                    v = _measure_value(m, samples, span / buckets)
                    points.append((a, None if v is None else {"v": v}))
                label = f"{m.get('aggType', 'sum')}({m['fieldName']})"
                counted = m["fieldName"].startswith("bytes")
                series = _series("v", points, span / buckets, [str(k) for k in key], counted)
                series.update(
                    label=label,
                    units=_PORT_MEASURES[m["fieldName"]][1],
                    key={
                        "measureFieldName": m["fieldName"],
                        "dimensions": [{"fieldName": d, "value": None if k is None else str(k)} for d, k in zip(dims, key, strict=True)],
                    },
                    dimensions=[{"label": d, "value": None if k is None else str(k)} for d, k in zip(dims, key, strict=True)],
                )  # fmt: skip
                out.append(series)
        return out

    return {"id": ctx.account_id, "from": iso(start), "to": iso(end), "granularity": None,
            "timeseries": timeseries}  # fmt: skip


# -- eventsFeed -------------------------------------------------------------------------------------
def _event_fields(site: dict, kind: str, sub: str, when: datetime, **extra: Any) -> dict[str, Any]:
    fields = {
        "event_type": kind,
        "event_sub_type": sub,
        "time": str(int(when.timestamp() * 1000)),
        "time_str": iso(when),
        "src_site_id": site["id"],
        "src_site_name": site["name"],
        "src_is_site_or_vpn": "Site",
    }
    fields.update({k: str(v) for k, v in extra.items() if v is not None})
    return fields


def _link_fields(port: Port, name: str | None = None) -> dict[str, Any]:
    return {
        "socket_interface": name or port.label,
        "socket_interface_id": port.key,
        "link_type": "Cato" if port.rec.get("destType") != "ALTERNATIVE" else "Alt. WAN",
        "precedence": port.rec.get("precedence") or "ACTIVE",
        "socket_role": "primary",
    }


def _derived_events(ctx: RequestContext, world: World) -> Iterable[tuple[tuple[str, str], dict]]:
    """Connectivity events the port history implies: a WAN port disabled disconnects its link."""
    for ports in world.ports.values():
        for p in ports:
            for n, (when, before, after, name) in enumerate(p.changes):
                if is_wan(before) and not is_wan(after) and not p.passive:
                    sub, visible, message = (
                        "Disconnected",
                        when + DISCONNECT_AFTER,
                        "link disabled by configuration",
                    )
                elif not is_wan(before) and is_wan(after):
                    sub, visible, message = (
                        "Connected",
                        when + CONNECTED_AFTER,
                        "link enabled by configuration",
                    )
                else:
                    continue
                fields = _event_fields(
                    p.site, "Connectivity", sub, when, event_message=message, **_link_fields(p, name)
                )
                fields["event_id"] = f"cfg-{p.rec['id']}-{n}"
                yield (iso_us(visible), f"a{p.rec['id']}-{n:06d}"), {"time": iso(when), "fieldsMap": fields}


def _queue(ctx: RequestContext) -> list[tuple[tuple[str, str], dict]]:
    """Every event in the queue now, in queue order: by when it was emitted, then by id."""
    now, oldest = ctx.now, ctx.now - EVENT_RETENTION
    world = World.of(ctx, oldest)
    items = []
    for e in ctx.store.list(ctx.account_id, EVENT):
        items.append(
            ((e["visibleAt"], f"e{int(e['id']):012d}"), {"time": e["time"], "fieldsMap": e["fields"]})
        )
    items += list(_derived_events(ctx, world))
    return sorted(
        (k, e) for k, e in items if parse_iso(k[0]) <= now and parse_iso(e["time"]) >= oldest
    )  # fmt: skip


def encode_marker(key: tuple[str, str]) -> str:
    return base64.urlsafe_b64encode(f"events|{key[0]}|{key[1]}".encode()).decode()


def decode_marker(marker: str | None) -> tuple[str, str] | None:
    if not marker:
        return None
    try:
        kind, at, tag = base64.urlsafe_b64decode(marker.encode()).decode().split("|")
        if kind == "events":
            return at, tag
    except (ValueError, UnicodeDecodeError):
        pass
    raise invalid(f"marker {marker!r} is not a marker this feed returned")


def _event_filter(filters: list[dict] | None):
    def keep(fields: dict[str, Any]) -> bool:
        for f in filters or []:
            value, values = fields.get(f["fieldName"]), f.get("values") or []
            ok = {"is": value in values, "in": value in values, "is_not": value not in values,
                  "not_in": value not in values}[f["operator"]]  # fmt: skip
            if not ok:
                return False
        return True

    return keep


@query("eventsFeed")
def events_feed(
    ctx: RequestContext, info, accountIDs: list[str] | None = None, filters=None, marker: str | None = None
) -> dict[str, Any]:
    after = decode_marker(marker)
    keep = _event_filter(filters)
    records, last = [], after
    for key, event in _queue(ctx):
        if after is not None and key <= after:
            continue
        last = key
        if keep(event["fieldsMap"]):
            records.append(event)
            if len(records) == EVENT_PAGE:
                break

    def account_records(info, fieldNames=None):
        out = []
        for e in records:
            fm = (
                e["fieldsMap"]
                if not fieldNames
                else {k: v for k, v in e["fieldsMap"].items() if k in fieldNames}
            )
            out.append(
                {
                    "time": e["time"],
                    "fieldsMap": fm,
                    "flatFields": [[k, str(v)] for k, v in sorted(fm.items())],
                }
            )
        return out

    return {
        "marker": encode_marker(last) if last is not None else (marker or ""),
        "fetchedCount": len(records),
        "accounts": [{"id": ctx.account_id, "errorString": None, "records": account_records}],
    }


# -- xdr stories ------------------------------------------------------------------------------------
def _story_view(s: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in s.items() if k != "seq"}


def _in_pred(pred: dict | None, value: Any) -> bool:
    if not pred:
        return True
    if pred.get("in") is not None and value not in pred["in"]:
        return False
    return not (pred.get("not_in") is not None and value in pred["not_in"])


def _int_pred(pred: dict | None, value: int | None) -> bool:
    if not pred:
        return True
    if value is None:
        return False
    checks = {
        "eq": lambda x: value == x,
        "gt": lambda x: value > x,
        "gte": lambda x: value >= x,
        "lt": lambda x: value < x,
        "lte": lambda x: value <= x,
        "in": lambda x: value in x,
        "not_in": lambda x: value not in x,
    }
    return all(checks[k](v) for k, v in pred.items() if v is not None)


def _str_pred(pred: dict | None, value: str | None) -> bool:
    if not pred:
        return True
    if pred.get("contains") is not None and (value is None or pred["contains"] not in value):
        return False
    return _in_pred({k: pred.get(k) for k in ("in", "not_in")}, value)


def _story_matches(ctx: RequestContext, s: dict[str, Any], f: dict[str, Any]) -> bool:
    inc = s["incident"]
    tf = f["timeFrame"]
    start, end = parse_time_frame(tf["time"], ctx.now)
    field = {"StoryUpdate": "updatedAt", "AnalystUpdate": "updatedAt"}.get(
        tf.get("timeFrameModifier"), "createdAt"
    )
    if not start <= parse_iso(s[field]) <= end:
        return False
    return (
        _in_pred(f.get("storyId"), s["id"])
        and _in_pred(f.get("status"), inc["status"])
        and _in_pred(f.get("producer"), inc["producer"])
        and _in_pred(f.get("engineType"), inc["engineType"])
        and _in_pred(f.get("vendor"), inc["vendor"])
        and _in_pred(f.get("accountId"), ctx.account_id)
        and _int_pred(f.get("criticality"), inc.get("criticality"))
        and _str_pred(f.get("source"), inc.get("source"))
        and _str_pred(f.get("incidentId"), inc.get("id"))
    )


class XDR:
    def __init__(self, ctx: RequestContext) -> None:
        self.ctx = ctx

    def stories(self, info, input: dict[str, Any]) -> dict[str, Any]:
        ctx = self.ctx
        unknown = [
            k for f in input["filter"] for k, v in f.items() if v is not None and k not in _STORY_FILTERS
        ]
        if unknown:
            raise invalid(
                f"stories filter on {', '.join(sorted(set(unknown)))} is not supported by the emulator"
            )
        oldest = ctx.now - METRICS_RETENTION
        items = [
            s
            for s in ctx.store.list(ctx.account_id, STORY)
            if parse_iso(s["createdAt"]) >= oldest and all(_story_matches(ctx, s, f) for f in input["filter"])
        ]
        items.sort(key=lambda s: s["createdAt"], reverse=True)
        for srt in reversed(input.get("sort") or []):
            name = srt["fieldName"]
            items.sort(
                key=lambda s, n=name: s.get(n) if n in s else s["incident"].get(n) or 0,
                reverse=srt.get("order") == "desc",
            )
        paging = input["paging"]
        first, limit = paging.get("from") or 0, paging.get("limit") or 100
        page = items[first : first + limit]
        return {
            "items": [_story_view(s) for s in page],
            "paging": {"from": first, "limit": limit, "total": len(items)},
        }


_STORY_FILTERS = {"timeFrame", "storyId", "status", "producer", "engineType", "vendor", "accountId", "criticality",
                  "source", "incidentId"}  # fmt: skip


@query("xdr")
def xdr(ctx: RequestContext, info, accountID: str) -> XDR:
    return XDR(ctx)


# -- operator actions (``/_emulator/monitoring/{account}/{action}``) --------------------------------
def _site(world: World, ref: Any) -> dict[str, Any]:
    ref = str(ref)
    site = world.sites.get(ref) or next((s for s in world.sites.values() if s["name"] == ref), None)
    if site is None:
        known = ", ".join(sorted(s["name"] for s in world.sites.values())) or "none"
        raise ValueError(f"no site {ref!r} in account {world.ctx.account_id} (sites: {known})")
    return site


def _port(world: World, site: dict[str, Any], ref: Any) -> Port:
    ref = str(ref)
    for p in world.ports.get(site["id"], []):
        if ref in (p.key, p.label, str(p.rec.get("index"))):
            return p
    known = ", ".join(p.key for p in world.ports.get(site["id"], []))
    raise ValueError(f"site {site['name']} has no port {ref!r} (ports: {known})")


def _when(ctx: RequestContext, value: Any) -> datetime:
    return ctx.now if value in (None, "") else parse_iso(value)


def _add_event(
    ctx: RequestContext, time: datetime, visible: datetime, fields: dict, cond: str | None = None
) -> dict:
    seq = ctx.store.next_id(f"monitorEvent:{ctx.account_id}", 0)
    fields = {"event_id": f"emu-{seq}", "account_id": ctx.account_id, **fields}
    e = {"id": str(seq), "time": iso(time), "visibleAt": iso_us(visible), "fields": fields, "condition": cond}
    ctx.store.put(ctx.account_id, EVENT, e["id"], e)
    return e


def _condition(ctx: RequestContext, spec: dict[str, Any], kind: str) -> dict[str, Any]:
    world = World.of(ctx)
    site = _site(world, spec.get("site"))
    port = _port(world, site, spec["link"]) if spec.get("link") not in (None, "") else None
    if port is not None and kind == "down" and not is_wan(port.rec.get("destType")):
        raise ValueError(
            f"port {port.key} of site {site['name']} is not a WAN link ({port.rec.get('destType')})"
        )
    start = _when(ctx, spec.get("start"))
    cid = str(ctx.store.next_id(f"monitorCondition:{ctx.account_id}", 0))
    cond = {
        "id": cid,
        "siteId": site["id"],
        "link": port.key if port else None,
        "kind": kind,
        "lossPct": float(spec.get("loss_pct") or 0),
        "latencyMs": float(spec.get("latency_ms") or 0),
        "jitterMs": float(spec.get("jitter_ms") or 0),
        "start": iso(start),
        "end": None,
        "reason": spec.get("reason"),
    }
    if kind == "ha":
        cond["ha"] = {
            "readiness": _choice(spec, "readiness", ("ready", "not_ready"), "not_ready"),
            "wanConnectivity": _choice(spec, "wan_connectivity", ("ok", "fail"), "ok"),
            "keepalive": _choice(spec, "keepalive", ("ok", "fail"), "ok"),
            "socketVersion": _choice(spec, "socket_version", ("ok", "fail"), "ok"),
        }
    if kind == "status":
        values = tuple(_schema_enum("OperationalStatus"))
        cond["operationalStatus"] = _choice(spec, "operational_status", values, None)
    if kind == "impair" and not (cond["lossPct"] or cond["latencyMs"] or cond["jitterMs"]):
        raise ValueError("impair needs loss_pct, latency_ms or jitter_ms")
    if not 0 <= cond["lossPct"] <= 100:
        raise ValueError(f"loss_pct must be between 0 and 100, got {cond['lossPct']}")
    ctx.store.put(ctx.account_id, COND, cid, cond)
    if kind == "down":
        links = [port] if port else [p for p in world.ports[site["id"]] if is_wan(p.rec.get("destType"))]
        for p in links:
            if not p.passive:
                _add_event(ctx, start, start + DISCONNECT_AFTER,
                           _event_fields(site, "Connectivity", "Disconnected", start,
                                         event_message=spec.get("reason") or "tunnel disconnected", **_link_fields(p)),
                           cid)  # fmt: skip
    ctx.scratch.pop("monitoring.world", None)
    return cond


def _choice(spec: dict[str, Any], key: str, allowed: tuple[str, ...], default: str | None) -> str:
    value = spec.get(key) or default
    if value not in allowed:
        raise ValueError(f"{key} must be one of {', '.join(allowed)}, got {value!r}")
    return value


def _schema_enum(name: str) -> list[str]:
    from ...schema import subset_schema

    return list(subset_schema().get_type(name).values)


def _restore(ctx: RequestContext, spec: dict[str, Any]) -> dict[str, Any]:
    cid = str(spec.get("id") or "")
    cond = ctx.store.get(ctx.account_id, COND, cid)
    if cond is None:
        raise ValueError(f"no condition {cid!r}; see GET /_emulator/monitoring/{ctx.account_id}/conditions")
    if cond.get("end"):
        return cond
    now = ctx.now
    cond["end"] = iso(now)
    ctx.store.put(ctx.account_id, COND, cid, cond)
    if cond["kind"] == "down":
        world = World.of(ctx)
        site = world.sites[cond["siteId"]]
        quick = now - parse_iso(cond["start"]) < DISCONNECT_AFTER
        pending = [e for e in ctx.store.list(ctx.account_id, EVENT) if e.get("condition") == cid]
        for e in pending:
            if quick and parse_iso(e["visibleAt"]) > now:  # never emitted: Cato sends a Reconnected instead
                ctx.store.delete(ctx.account_id, EVENT, e["id"])
        links = [_port(world, site, cond["link"])] if cond["link"] else [
            p for p in world.ports[site["id"]] if is_wan(p.rec.get("destType"))]  # fmt: skip
        for p in links:
            if not p.passive:
                sub = "Reconnected" if quick else "Connected"
                _add_event(ctx, now, now + CONNECTED_AFTER,
                           _event_fields(site, "Connectivity", sub, now, event_message="tunnel connected",
                                         **_link_fields(p)), cid)  # fmt: skip
    ctx.scratch.pop("monitoring.world", None)
    return cond


_EVENT_KEYS = re.compile(r"^[a-z][a-z0-9_]*$|^ISP_name$")


def _inject_event(ctx: RequestContext, spec: dict[str, Any]) -> dict[str, Any]:
    """An event as Cato would emit it: ``event_type``/``event_sub_type`` plus any EventFieldName
    fields (``action``, ``rule_id``, ``rule_name``...); ``site`` (id or name) and ``link`` fill
    the site and interface fields."""
    spec = dict(spec)
    if not spec.get("event_type") or not spec.get("event_sub_type"):
        raise ValueError("an event needs event_type (Connectivity, Security...) and event_sub_type")
    world = World.of(ctx)
    when = _when(ctx, spec.pop("time", None))
    site = _site(world, spec.pop("site")) if spec.get("site") else None
    link = spec.pop("link", None)
    extra = _link_fields(_port(world, site, link)) if site and link else {}
    names = set(_schema_enum("EventFieldName"))
    bad = [k for k in spec if k not in names or not _EVENT_KEYS.match(k)]
    if bad:
        raise ValueError(f"unknown event field(s) {bad}: use Cato's EventFieldName values")
    kind, sub = spec.pop("event_type"), spec.pop("event_sub_type")
    if site:
        fields = _event_fields(site, kind, sub, when, **extra, **spec)
    else:
        fields = {"event_type": kind, "event_sub_type": sub, "time": str(int(when.timestamp() * 1000)),
                  "time_str": iso(when), **{k: str(v) for k, v in spec.items()}}  # fmt: skip
    return _add_event(ctx, when, max(when, ctx.now), fields)


def _inject_story(ctx: RequestContext, spec: dict[str, Any]) -> dict[str, Any]:
    """A story: ``site`` (id or name), ``producer`` (NetworkXDR or ThreatPrevention), ``indication``,
    ``criticality`` (1-10), ``status`` (Open), ``summary``, ``link`` (network stories), ``source``."""
    world = World.of(ctx)
    site = _site(world, spec["site"]) if spec.get("site") else None
    producer = spec.get("producer") or "NetworkXDR"
    if producer not in ("NetworkXDR", "ThreatPrevention"):
        raise ValueError(f"producer {producer!r}: the emulator makes NetworkXDR and ThreatPrevention stories")
    criticality = int(spec.get("criticality") or 5)
    if not 1 <= criticality <= 10:
        raise ValueError(f"criticality must be 1-10, got {criticality}")
    when = _when(ctx, spec.get("time"))
    seq = ctx.store.next_id(f"xdrStory:{ctx.account_id}", 0)
    network = producer == "NetworkXDR"
    incident: dict[str, Any] = {
        "__typename": "NetworkXDRIncident" if network else "ThreatPrevention",
        "id": f"inc-{seq}",
        "firstSignal": iso(when),
        "lastSignal": iso(when),
        "engineType": "NETWORK" if network else "THREAT",
        "vendor": "CATO",
        "producer": producer,
        "producerName": "Network XDR" if network else "Threat Prevention",
        "connectionType": "Site",
        "indication": spec.get("indication") or ("Link down" if network else "Suspicious activity"),
        "criticality": criticality,
        "source": spec.get("source") or (site["name"] if site else None),
        "status": spec.get("status") or "Open",
        "description": spec.get("description"),
        "site": {"id": site["id"], "name": site["name"]} if site else None,
    }
    if network:
        port = _port(world, site, spec["link"]) if site and spec.get("link") else None
        incident.update(
            linkId=port.key if port else None, linkName=port.label if port else None, storyType="Connectivity"
        )
    story = {
        "id": f"story-{seq}",
        "seq": seq,
        "createdAt": iso(when),
        "updatedAt": iso(when),
        "summary": spec.get("summary") or incident["indication"],
        "playbook": None,
        "incident": incident,
    }
    ctx.store.put(ctx.account_id, STORY, story["id"], story)
    return _story_view(story)


def operate(ctx: RequestContext, action: str, spec: dict[str, Any]) -> Any:
    """An operator action on one account; ValueError names what is wrong with the request."""
    if action == "down":
        return _condition(ctx, spec, "down")
    if action == "impair":
        return _condition(ctx, spec, "impair")
    if action in ("ha", "status"):
        return _condition(ctx, spec, action)
    if action == "restore":
        return _restore(ctx, spec)
    if action == "event":
        return _inject_event(ctx, spec)
    if action == "story":
        return _inject_story(ctx, spec)
    if action == "conditions":
        return ctx.store.list(ctx.account_id, COND)
    raise ValueError(
        f"unknown monitoring action {action!r}: use down, impair, ha, status, restore, event, story, conditions"
    )


@seeder
def seed_monitoring(ctx: RequestContext, account: dict[str, Any]) -> None:
    """Fixture section ``monitoring: {events: [...], stories: [...]}`` (same fields as the
    operator endpoints), loaded after the sites."""
    section = account.get("monitoring") or {}
    for e in section.get("events") or []:
        _inject_event(ctx, e)
    for s in section.get("stories") or []:
        _inject_story(ctx, s)
