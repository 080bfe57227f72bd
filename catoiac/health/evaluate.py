"""From the reads to per-site health and findings, each correlated with what the update changed.

What counts, per managed site:
- **degraded**: the site is missing or disconnected, not operationally active, an active link is
  down, HA not ready, recent packet loss, latency or jitter past the thresholds against the baseline
  (or absolute ones without a baseline), a new open story of high criticality;
- **warning** (reported, exit code unchanged): a link that went down and came back since the update,
  a passive (backup) link down, a link that stopped reporting (removed from the config), throughput
  well below the baseline, a new lower-criticality or closed story, traffic blocked by a rule the
  update changed (degraded with ``fail_on_blocked``).

Metrics are only ever evidence of quality: a bucket without data (Cato's metrics can lag up to 30
minutes) never makes a link "down"; the snapshot alone says what is connected.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..drift.state import StackState, StateResource, Update
from ..resources.specs.socket_interface import slot_of
from .collect import parse_time
from .model import (
    DEGRADED,
    WARNING,
    Change,
    Correlation,
    Finding,
    LinkHealth,
    PortHealth,
    Quality,
    SiteHealth,
    UpdateRef,
)

SKEW = timedelta(seconds=2)  # pulumi's update times have second precision; resource times don't
# Without history (an exported state): the changes this long before the export are its last update.
STATE_FILE_UPDATE = timedelta(minutes=10)
POLICIES = ("InternetFirewallPolicy", "WanFirewallPolicy")
SITE_SCOPED = ("SocketSite", "SocketInterface", "NetworkRange", "StaticHost", "BgpPeer")
DOWN_EVENTS = {"Disconnected", "Failover", "Link Down", "Tunnel Down", "Passive Disconnected"}
BLOCK_ACTIONS = {"block", "blocked", "reject", "prompt"}


@dataclass(frozen=True)
class Thresholds:
    """When link quality counts as degraded. 2 % loss is where Cato's Network Analytics turns a
    link yellow."""

    loss_pct: float = 2.0  # recent loss at least this much...
    loss_margin_pct: float = 1.0  # ...and this much above the baseline
    latency_ratio: float = 1.5  # recent latency above baseline x ratio + margin
    latency_margin_ms: float = 30.0
    latency_ms: float = 250.0  # without a baseline
    jitter_ratio: float = 2.0
    jitter_margin_ms: float = 10.0
    jitter_ms: float = 30.0  # without a baseline
    throughput_drop: float = 0.5  # warn below half the baseline throughput
    story_criticality: int = 7  # new open stories at or above this degrade the site


# -- what the updates changed ------------------------------------------------------------------------------
def numbered(updates: Sequence[Update]) -> list[tuple[int, Update]]:
    """History entries with their number: Pulumi's version where the backend keeps one (Pulumi
    Cloud), else the position in the history, oldest first (local backends report version 0)."""
    dated = [u for u in updates if u.start or u.end]
    ordered = sorted(dated, key=lambda u: u.start or u.end)  # type: ignore[arg-type, return-value]
    return [(u.version if u.version else i + 1, u) for i, u in enumerate(ordered)]


def updates_in_window(stack: StackState, since: datetime, last_only: bool) -> list[UpdateRef]:
    ups = [(n, u) for n, u in numbered(stack.updates) if u.kind == "update" and (u.start or u.end)]
    if not ups:  # an exported state: no history, only its manifest time and the resources' own times
        end = stack.manifest_time
        if end is None or not (last_only or end >= since - SKEW):
            return []
        near = [
            t
            for r in stack.resources
            for t in (r.modified, r.created)
            if t and end - STATE_FILE_UPDATE <= t <= end
        ]
        return [UpdateRef(stack.name, None, min(near, default=end), end)]
    if last_only:
        n, u = max(ups, key=lambda x: x[1].end or x[1].start)
        return [UpdateRef(stack.name, n, u.start, u.end)]
    return [UpdateRef(stack.name, n, u.start, u.end) for n, u in ups if (u.end or u.start) >= since - SKEW]


def _label(res: StateResource) -> str | None:
    name = res.inputs.get("name")
    return str(name) if isinstance(name, str) else None


def stack_changes(stacks: Iterable[StackState], since: datetime, last_only: bool) -> list[Change]:
    """Cato resources created or modified by the updates in the window (by their state times)."""
    out: list[Change] = []
    for stack in stacks:
        refs = updates_in_window(stack, since, last_only)
        for res in stack.resources:
            at = res.modified or res.created
            if at is None:
                continue
            ref = next(
                (r for r in refs if r.start and r.end and r.start - SKEW <= at <= r.end + SKEW),
                None,
            )
            if ref is None:
                continue
            site = res.id if res.spec_name == "SocketSite" else res.inputs.get("site_id")
            slot = res.inputs.get("interface_id") if res.spec_name == "SocketInterface" else None
            rules = res.outputs.get("rule_ids") if res.spec_name in POLICIES else None
            out.append(
                Change(
                    update=ref,
                    urn=res.urn,
                    type=res.spec_name,
                    resource_id=res.id,
                    at=at,
                    created=res.created is not None and abs((at - res.created).total_seconds()) < 1,
                    site_id=str(site) if isinstance(site, str | int) else None,
                    slot=str(slot) if slot else None,
                    label=_label(res),
                    rule_ids=tuple(sorted((str(k), str(v)) for k, v in (rules or {}).items())),
                )
            )
    return sorted(out, key=lambda c: c.at)


class Correlator:
    def __init__(self, changes: list[Change], stacks: int) -> None:
        self.changes = changes
        self.stacks = stacks

    def for_site(
        self, site_id: str, when: datetime | None, now: datetime, *, slot: str | None = None
    ) -> Correlation | None:
        """The change that most plausibly caused a finding at the site at ``when``: the link's own
        interface first, then the site itself, then anything else of the site; the latest one
        made before the finding."""
        at = when or now
        mine = [c for c in self.changes if c.site_id == site_id and c.at <= at + SKEW]
        if not mine:
            return None
        rank = lambda c: (  # noqa: E731
            2 if slot and c.type == "SocketInterface" and c.slot == slot else
            1 if c.type == "SocketSite" else 0, c.at)  # fmt: skip
        best = max(mine, key=rank)
        return Correlation(best, max(0.0, (at - best.at).total_seconds()), self.stacks)

    def for_rule(self, rule_id: str | None, rule_name: str | None, when: datetime | None, now: datetime):
        at = when or now
        for c in reversed(self.changes):
            if c.type in POLICIES and c.at <= at + SKEW:
                ids = {i for _, i in c.rule_ids}
                names = {n for n, _ in c.rule_ids}
                if (rule_id and rule_id in ids) or (not rule_id and rule_name and rule_name in names):
                    return Correlation(c, max(0.0, (at - c.at).total_seconds()), self.stacks)
        return None

    def changed_rules(self) -> tuple[set[str], set[str]]:
        ids = {i for c in self.changes if c.type in POLICIES for _, i in c.rule_ids}
        names = {n for c in self.changes if c.type in POLICIES for n, _ in c.rule_ids}
        return ids, names


# -- metrics -------------------------------------------------------------------------------------------------
@dataclass
class Windows:
    baseline_start: datetime | None
    since: datetime
    now: datetime
    recent_start: datetime


def _points(series: dict[str, Any]) -> list[tuple[datetime, float | None]]:
    out = []
    for t, v in series.get("data") or []:
        when = parse_time(t)
        if when is not None:
            out.append((when, None if v is None or v < 0 else float(v)))
    return out


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _classify(starts: list[datetime], step: timedelta, w: Windows) -> dict[str, list[int]]:
    """Bucket indexes per window; a bucket across the update belongs to neither side."""
    out: dict[str, list[int]] = {"baseline": [], "since": [], "recent": []}
    for i, t in enumerate(starts):
        end = t + step
        if w.baseline_start is not None and t >= w.baseline_start - SKEW and end <= w.since + SKEW:
            out["baseline"].append(i)
        elif t >= w.since - SKEW:
            out["since"].append(i)
            if end > w.recent_start:
                out["recent"].append(i)
    return out


def link_quality(interface: dict[str, Any], w: Windows) -> dict[str, Quality | None]:
    series = {s["label"]: _points(s) for s in interface.get("timeseries") or []}
    first = next(iter(series.values()), [])
    if len(first) < 1:
        return {"baseline": None, "since": None, "recent": None}
    starts = [t for t, _ in first]
    step = (starts[1] - starts[0]) if len(starts) > 1 else (w.now - starts[0])
    classes = _classify(starts, step, w)

    def at(label: str, i: int) -> float | None:
        pts = series.get(label) or []
        return pts[i][1] if i < len(pts) else None

    def quality(idx: list[int]) -> Quality | None:
        if not idx:
            return None
        loss, rtt, jit, mbps = [], [], [], []
        for i in idx:
            up, down = at("lostUpstreamPcnt", i), at("lostDownstreamPcnt", i)
            if up is not None or down is not None:
                loss.append(max(v for v in (up, down) if v is not None))
            if at("rtt", i) is not None:
                rtt.append(at("rtt", i))
            ju, jd = at("jitterUpstream", i), at("jitterDownstream", i)
            if ju is not None or jd is not None:
                jit.append(max(v for v in (ju, jd) if v is not None))
            bu, bd = at("bytesUpstream", i), at("bytesDownstream", i)
            if bu is not None or bd is not None:
                mbps.append(((bu or 0) + (bd or 0)) * 8 / step.total_seconds() / 1e6)
        got = max(len(loss), len(rtt), len(mbps))
        return Quality(got, _mean(loss), _mean(rtt), _mean(jit), _mean(mbps))

    return {name: quality(idx) for name, idx in classes.items()}


def port_quality(series: list[dict[str, Any]], w: Windows) -> dict[tuple[str, str], PortHealth]:
    """(site id, port) -> mean throughput (up + down) in the baseline and recent windows."""
    sums: dict[tuple[str, str], dict[str, list[list[float | None]]]] = {}
    starts_of: dict[tuple[str, str], list[datetime]] = {}
    for s in series:
        dims = {d["fieldName"]: d.get("value") for d in (s.get("key") or {}).get("dimensions") or []}
        key = (str(dims.get("site_id")), str(dims.get("socket_interface")))
        pts = _points(s)
        starts_of[key] = [t for t, _ in pts]
        sums.setdefault(key, {}).setdefault("all", []).append([v for _, v in pts])
    out = {}
    for key, groups in sums.items():
        starts = starts_of[key]
        if not starts:
            continue
        step = (starts[1] - starts[0]) if len(starts) > 1 else (w.now - starts[0])
        classes = _classify(starts, step, w)
        totals = []
        for i in range(len(starts)):
            vals = [g[i] for g in groups["all"] if i < len(g) and g[i] is not None]
            totals.append(sum(vals) if vals else None)
        base, recent = (
            [totals[i] for i in classes[k] if totals[i] is not None] for k in ("baseline", "recent")
        )
        out[key] = PortHealth(key[1], _mean(base), _mean(recent))
    return out


# -- one site ----------------------------------------------------------------------------------------------
class SiteEvaluator:
    def __init__(
        self,
        correlator: Correlator,
        thresholds: Thresholds,
        windows: Windows,
        *,
        fail_on_blocked: bool = False,
        passive: set[tuple[str, str]] | None = None,
    ) -> None:
        self.c = correlator
        self.passive = passive or set()  # (site id, slot) of links the state configures as backups
        self.t = thresholds
        self.w = windows
        self.fail_on_blocked = fail_on_blocked
        self.rule_ids, self.rule_names = correlator.changed_rules()

    def _finding(self, site: SiteHealth, kind: str, severity: str, message: str, **kw: Any) -> Finding:
        f = Finding(kind, severity, message, site.id, site.name, **kw)
        site.findings.append(f)
        return f

    def connectivity(self, site: SiteHealth, snap: dict[str, Any] | None, *, snapshot_ok: bool) -> None:
        now = self.w.now
        if snap is None:
            if snapshot_ok:
                self._finding(site, "site-missing", DEGRADED,
                              f"site {site.name} is not in the account (deleted outside the stack?)",
                              correlation=self.c.for_site(site.id, None, now), details={"key": "missing"})  # fmt: skip
            return
        devices = snap.get("devices") or []
        ha = snap.get("haStatus")
        degraded = snap.get("degradedStatus") or {}
        site.connectivity = {
            "status": snap.get("connectivityStatus"),
            "operational_status": snap.get("operationalStatus"),
            "connected_since": snap.get("connectedSince"),
            "last_connected": snap.get("lastConnected"),
            "pop": snap.get("popName"),
            "ha": ha,
            "is_ha": bool((snap.get("info") or {}).get("isHA")),
            "degraded_reasons": [d.get("reason") for d in degraded.get("degradedDetails") or []],
            "sockets": [
                {"serial": (d.get("socketInfo") or {}).get("serial"), "connected": d.get("connected"),
                 "ha_role": d.get("haRole")} for d in devices
            ],
        }  # fmt: skip
        if snap.get("connectivityStatus") == "disconnected":
            when = parse_time(snap.get("lastConnected"))
            self._finding(site, "site-disconnected", DEGRADED, f"site {site.name} disconnected", time=when,
                          correlation=self.c.for_site(site.id, when, now), details={"key": "disconnected"})  # fmt: skip
        op = snap.get("operationalStatus")
        if op and op != "active":
            self._finding(site, "site-not-active", DEGRADED, f"site {site.name} is {op}",
                          correlation=self.c.for_site(site.id, None, now), details={"key": op})  # fmt: skip
        if ha and site.connectivity["is_ha"]:
            bad = [k for k in ("wanConnectivity", "keepalive", "socketVersion") if ha.get(k) == "fail"]
            if ha.get("readiness") == "not_ready" or bad:
                what = ", ".join(bad) or "readiness"
                self._finding(site, "ha-not-ready", DEGRADED, f"site {site.name} HA is not ready ({what})",
                              correlation=self.c.for_site(site.id, None, now), details={"key": what})  # fmt: skip

    def links(self, site: SiteHealth, snap: dict[str, Any] | None, metrics: dict[str, Any] | None,
              events: list[dict[str, Any]]) -> None:  # fmt: skip
        now = self.w.now
        down_at: dict[str, datetime] = {}
        for d in ((snap or {}).get("degradedStatus") or {}).get("degradedDetails") or []:
            args = d.get("args") or {}
            t = parse_time(args.get("lastConnectedDate"))
            for k in (args.get("portID"), args.get("portName")):
                if k and t:
                    down_at[str(k)] = t
        links: dict[str, LinkHealth] = {}
        for dev in (snap or {}).get("devices") or []:
            for i in dev.get("interfaces") or []:
                info = i.get("info") or {}
                lid = str(i.get("id") or info.get("id"))
                links[lid] = LinkHealth(lid, i.get("name") or info.get("name") or lid, slot_of(lid),
                                        info.get("destType"), bool(i.get("connected")))  # fmt: skip
        for i in (metrics or {}).get("interfaces") or []:
            info = i.get("interfaceInfo") or {}
            lid = str(info.get("id") or i.get("name"))
            link = links.get(lid)
            if link is None:
                link = links[lid] = LinkHealth(lid, i.get("name") or lid, slot_of(lid), None, None)
            q = link_quality(i, self.w)
            link.baseline, link.since_update, link.recent = q["baseline"], q["since"], q["recent"]
        site.links = sorted(links.values(), key=lambda x: (len(x.id), x.id))
        site_down = site.connectivity is not None and site.connectivity["status"] == "disconnected"
        last_down = self._last_link_events(events)
        for link in site.links:
            names = {link.id, link.name, link.slot}
            if link.connected is False and not site_down:
                when = next((down_at[k] for k in (link.id, link.name) if k in down_at), None)
                ev = next((last_down[k] for k in names if k in last_down), None)
                when = when or (parse_time(ev["time"]) if ev else None)
                backup = (site.id, link.slot) in self.passive
                what = f"{'passive link' if backup else 'link'} {link.name} of site {site.name}"
                self._finding(site, "link-down", WARNING if backup else DEGRADED,
                              f"{what} {'went' if when else 'is'} down",
                              link=link.name, time=when,
                              correlation=self.c.for_site(site.id, when, now, slot=link.slot),
                              details={"key": link.id})  # fmt: skip
            elif link.connected is None and link.baseline and not link.recent:
                self._finding(site, "link-removed", WARNING,
                              f"link {link.name} of site {site.name} no longer reports (removed from the config?)",
                              link=link.name, correlation=self.c.for_site(site.id, None, now, slot=link.slot),
                              details={"key": link.id})  # fmt: skip
            if link.connected:
                self._quality(site, link)

    @staticmethod
    def _last_link_events(events: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for e in sorted(events, key=lambda e: e["time"] or ""):
            if e["type"] == "Connectivity" and e["sub_type"] in DOWN_EVENTS:
                for k in (e.get("link"), e.get("link_id")):
                    if k:
                        out[str(k)] = e
        return out

    def _quality(self, site: SiteHealth, link: LinkHealth) -> None:
        now, t, base, rec = self.w.now, self.t, link.baseline, link.recent
        if rec is None or rec.buckets == 0:
            return
        checks = []
        if rec.loss_pct is not None:
            limit = max(t.loss_pct, (base.loss_pct or 0) + t.loss_margin_pct) if base and base.loss_pct is not None \
                else t.loss_pct  # fmt: skip
            if rec.loss_pct >= limit:
                checks.append(
                    ("packet-loss", f"packet loss {rec.loss_pct:.1f} %", base and base.loss_pct, "%")
                )
        if rec.latency_ms is not None:
            limit = (base.latency_ms * t.latency_ratio + t.latency_margin_ms) if base and base.latency_ms \
                else t.latency_ms  # fmt: skip
            if rec.latency_ms > limit:
                checks.append(("latency", f"latency {rec.latency_ms:.0f} ms", base and base.latency_ms, "ms"))
        if rec.jitter_ms is not None:
            limit = (base.jitter_ms * t.jitter_ratio + t.jitter_margin_ms) if base and base.jitter_ms \
                else t.jitter_ms  # fmt: skip
            if rec.jitter_ms > limit:
                checks.append(("jitter", f"jitter {rec.jitter_ms:.1f} ms", base and base.jitter_ms, "ms"))
        for kind, what, before, unit in checks:
            baseline = f" (baseline {before:.1f} {unit})" if before is not None else " (no baseline)"
            when = self.w.recent_start
            self._finding(site, kind, DEGRADED, f"{what} on link {link.name} of site {site.name}{baseline}",
                          link=link.name, time=when,
                          correlation=self.c.for_site(site.id, when, now, slot=link.slot),
                          details={"key": f"{link.id}:{kind}"})  # fmt: skip

    def ports(self, site: SiteHealth, ports: dict[tuple[str, str], PortHealth]) -> None:
        now = self.w.now
        site.ports = sorted((p for (sid, _), p in ports.items() if sid == site.id), key=lambda p: p.name)
        for p in site.ports:
            if p.baseline_mbps and p.baseline_mbps > 0.1 and p.recent_mbps is not None \
                    and p.recent_mbps < p.baseline_mbps * self.t.throughput_drop:  # fmt: skip
                self._finding(site, "throughput-drop", WARNING,
                              f"throughput on port {p.name} of site {site.name} fell to {p.recent_mbps:.2f} Mbps "
                              f"(baseline {p.baseline_mbps:.2f} Mbps)", link=p.name,
                              correlation=self.c.for_site(site.id, self.w.recent_start, now, slot=slot_of(p.name)),
                              details={"key": f"{p.name}:throughput"})  # fmt: skip

    def events(self, site: SiteHealth, events: list[dict[str, Any]]) -> None:
        """Connectivity events since the update, and blocks by rules the update changed."""
        now = self.w.now
        connected = {x.name for x in site.links if x.connected} | {x.id for x in site.links if x.connected}
        site.events = [e for e in events if e["type"] == "Connectivity"][-50:]
        site.security_events = sum(1 for e in events if e["type"] == "Security")
        flapped: dict[str, dict[str, Any]] = {}
        for e in events:
            if e["type"] == "Connectivity" and e["sub_type"] in DOWN_EVENTS and e.get("link") in connected:
                flapped.setdefault(e["link"], e)
        for link, e in flapped.items():
            when = parse_time(e["time"])
            self._finding(site, "link-flapped", WARNING,
                          f"link {link} of site {site.name} was {e['sub_type'].lower()} at {e['time']} and is back",
                          link=link, time=when,
                          correlation=self.c.for_site(site.id, when, now, slot=slot_of(e.get("link_id") or link)),
                          details={"key": f"{link}:flap"})  # fmt: skip
        blocked: dict[tuple[str, str], dict[str, Any]] = {}
        for e in events:
            if e["type"] != "Security" or str(e.get("action") or "").lower() not in BLOCK_ACTIONS:
                continue
            rid, rname = e.get("rule_id"), e.get("rule_name")
            if not ((rid and rid in self.rule_ids) or (not rid and rname and rname in self.rule_names)):
                continue
            b = blocked.setdefault((rid or "", rname or ""), {"rule_id": rid, "rule_name": rname, "count": 0,
                                                              "first": e["time"], "last": e["time"]})  # fmt: skip
            b["count"] += 1
            b["first"], b["last"] = min(b["first"], e["time"]), max(b["last"], e["time"])
        site.blocked = list(blocked.values())
        for b in site.blocked:
            when = parse_time(b["first"])
            rule = b["rule_name"] or b["rule_id"]
            self._finding(site, "blocked-by-changed-rule", DEGRADED if self.fail_on_blocked else WARNING,
                          f"traffic from site {site.name} blocked {b['count']} time(s) by rule '{rule}'",
                          time=when, correlation=self.c.for_rule(b["rule_id"], b["rule_name"], when, now),
                          details={"key": f"rule:{b['rule_id'] or b['rule_name']}", "count": b["count"]})  # fmt: skip

    def stories(self, site: SiteHealth, stories: list[dict[str, Any]]) -> None:
        now = self.w.now
        for s in stories:
            inc = s.get("incident") or {}
            crit = inc.get("criticality")
            status = inc.get("status") or "Open"
            site.stories.append({"id": s["id"], "created": s.get("createdAt"), "status": status,
                                 "criticality": crit, "producer": inc.get("producer"),
                                 "indication": inc.get("indication"), "summary": s.get("summary"),
                                 "link": inc.get("linkName")})  # fmt: skip
            when = parse_time(s.get("createdAt"))
            severe = status != "Closed" and (crit or 0) >= self.t.story_criticality
            link = inc.get("linkName")
            slot = slot_of(inc.get("linkId") or "") or slot_of(link or "")
            what = inc.get("indication") or s.get("summary") or "story"
            self._finding(site, "story", DEGRADED if severe else WARNING,
                          f"{inc.get('producerName') or inc.get('producer') or 'XDR'} story '{what}' (criticality {crit}, "
                          f"{status}) opened at site {site.name}", link=link, time=when,
                          correlation=self.c.for_site(site.id, when, now, slot=slot),
                          details={"key": f"story:{s['id']}", "story_id": s["id"]})  # fmt: skip


def event_view(e: dict[str, Any]) -> dict[str, Any]:
    fm = e.get("fieldsMap") or {}
    return {
        "time": e.get("time") or fm.get("time_str"),
        "type": fm.get("event_type"),
        "sub_type": fm.get("event_sub_type"),
        "site_id": fm.get("src_site_id"),
        "site": fm.get("src_site_name"),
        "link": fm.get("socket_interface"),
        "link_id": fm.get("socket_interface_id"),
        "message": fm.get("event_message"),
        "action": fm.get("action"),
        "rule_id": fm.get("rule_id"),
        "rule_name": fm.get("rule_name"),
    }
