"""``catoiac health``: after an ``up``, is the network still working?

One poll reads each query family once for every managed site (paged feeds excepted), evaluates
each site, and correlates every finding with what the stacks' last update changed. ``--wait``
polls until every site is healthy or the time is up.
"""

from __future__ import annotations

import difflib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ..client import CatoClient
from ..drift.run import client_for
from ..drift.state import StackState
from ..errors import CatoError
from ..ratelimit import RateLimiter, RateLimitTable
from . import collect
from .collect import (
    EVENTS,
    FAMILIES,
    METRICS,
    OK,
    OPERATIONS,
    PORTS,
    SNAPSHOT,
    STORIES,
    Collector,
    EventsCache,
    FamilyResult,
    parse_time,
)
from .evaluate import (
    SITE_SCOPED,
    Correlator,
    SiteEvaluator,
    Thresholds,
    Windows,
    event_view,
    port_quality,
    stack_changes,
    updates_in_window,
)
from .model import DEGRADED, Finding, HealthReport, SiteHealth, StackInfo, iso

LAST_UPDATE = "last-update"
METRICS_RETENTION = timedelta(days=90)  # Data Lake default: three months
STORIES_RETENTION = timedelta(days=90)
EVENTS_RETENTION = collect.EVENT_RETENTION  # the events feed keeps seven days
FUTURE_SKEW = timedelta(minutes=2)
SKEW_EVENTS = timedelta(seconds=2)


class HealthInputError(CatoError, ValueError):
    """Bad input: an unknown site, a window that makes no sense. Exit code 1."""


@dataclass
class HealthOptions:
    stacks: list[str] = field(default_factory=list)
    cwd: str | None = None
    state_files: list[str] = field(default_factory=list)
    api_key: str | None = None
    account_id: str | None = None
    endpoint: str | None = None
    all_sites: bool = False
    sites: list[str] = field(default_factory=list)  # restrict to these (ids or names)
    since: datetime | str = LAST_UPDATE
    wait: float = 0.0
    interval: float = 15.0
    baseline: float = 1800.0  # seconds of metrics before the update to compare with
    recent: float = 300.0  # seconds of metrics that say how links are now
    thresholds: Thresholds = field(default_factory=Thresholds)
    fail_on_blocked: bool = False
    skip: set[str] = field(default_factory=set)
    cache_dir: str | None = None
    use_cache: bool = True
    max_event_pages: int = 20


# -- inputs ---------------------------------------------------------------------------------------------------
def parse_duration(text: str, what: str = "duration") -> float:
    """``5m``, ``90s``, ``1h30m``, ``300`` (seconds) -> seconds."""
    import re

    value = text.strip().lower()
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return float(value)
    parts = re.findall(r"(\d+(?:\.\d+)?)\s*(h|m|min|s|sec)", value)
    if not parts or "".join(f"{n}{u}" for n, u in parts) != re.sub(r"\s+", "", value):
        raise HealthInputError(f"{what} {text!r} is not a duration: use e.g. 90s, 5m, 1h30m or seconds")
    unit = {"h": 3600, "m": 60, "min": 60, "s": 1, "sec": 1}
    return sum(float(n) * unit[u] for n, u in parts)


def make_client(opts: HealthOptions, stacks: list[StackState]) -> CatoClient:
    """Credentials as drift and the provider resolve them (flag, then the stacks' config, then
    CATO_*); CATOIAC_RATE_LIMIT_SCALE shrinks the pacing windows, as for the provider."""
    client = client_for(opts, stacks)  # type: ignore[arg-type]  (the same credential fields)
    scale = float(os.environ.get("CATOIAC_RATE_LIMIT_SCALE") or 1.0)
    if scale != 1.0:
        client.limiter = RateLimiter(RateLimitTable.cato_defaults(scale=scale))
    return client


def managed_sites(stacks: list[StackState]) -> dict[str, dict[str, Any]]:
    """Site id -> {name, stacks}: SocketSites, and sites whose parts (ports, ranges...) a stack manages."""
    out: dict[str, dict[str, Any]] = {}
    for st in stacks:
        for r in st.resources:
            if r.spec_name not in SITE_SCOPED:
                continue
            sid = r.id if r.spec_name == "SocketSite" else r.inputs.get("site_id")
            if not isinstance(sid, str | int) or str(sid) == "":
                continue
            site = out.setdefault(str(sid), {"name": None, "stacks": []})
            if r.spec_name == "SocketSite" and isinstance(r.inputs.get("name"), str):
                site["name"] = r.inputs["name"]
            if st.name not in site["stacks"]:
                site["stacks"].append(st.name)
    return out


def _since(opts: HealthOptions, stacks: list[StackState]) -> datetime:
    if isinstance(opts.since, datetime):
        return opts.since
    starts = []
    for st in stacks:
        refs = updates_in_window(st, datetime.now(UTC), last_only=True)
        starts += [r.start for r in refs if r.start]
    if not starts:
        raise HealthInputError(
            "no stack update to start from: the stacks have no update history (pass --since ISO-TIME)"
        )
    return min(starts)


# -- one run ---------------------------------------------------------------------------------------------------
class HealthRun:
    def __init__(
        self,
        opts: HealthOptions,
        stacks: list[StackState],
        client: CatoClient,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.opts, self.stacks, self.client = opts, stacks, client
        self.clock, self.sleep = clock, sleep
        if not opts.all_sites and not stacks:
            raise HealthInputError(
                "no stack to take the managed sites from: pass --stack NAME or --all-sites"
            )
        self.managed = managed_sites(stacks)
        if not opts.all_sites and not self.managed:
            names = ", ".join(s.name for s in stacks)
            raise HealthInputError(
                f"stack(s) {names} manage no Cato site: nothing to check (or pass --all-sites)"
            )
        self.since = _since(opts, stacks)
        self.last_only = not isinstance(opts.since, datetime)
        self.changes = stack_changes(stacks, self.since, self.last_only)
        self.correlator = Correlator(self.changes, len(stacks))
        self.passive = {
            (str(r.inputs.get("site_id")), str(r.inputs.get("interface_id")))
            for st in stacks
            for r in st.resources
            if r.spec_name == "SocketInterface" and r.inputs.get("precedence") in ("PASSIVE", "LAST_RESORT")
        }
        cache = None
        if opts.use_cache and EVENTS not in opts.skip:
            directory = Path(opts.cache_dir) if opts.cache_dir else collect.default_cache_dir()
            cache = EventsCache(directory, client.config.account_id, client.config.base_url)
        self.collector = Collector(client, str(client.config.account_id), cache, opts.max_event_pages)
        self.selected: dict[str, dict[str, Any]] | None = None  # site id -> {name, stacks}
        self.warnings: list[str] = []

    # -- the sites in scope ---------------------------------------------------------------------------------
    def _select(self, snap_sites: dict[str, dict[str, Any]] | None) -> dict[str, dict[str, Any]]:
        """Managed (or all) sites, narrowed by --site; an unknown --site is an error."""
        if self.opts.all_sites and snap_sites is not None:
            pool = {sid: {"name": (s.get("info") or {}).get("name"), "stacks": self.managed.get(sid, {})
                          .get("stacks", [])} for sid, s in snap_sites.items()}  # fmt: skip
        else:
            pool = {sid: dict(v) for sid, v in self.managed.items()}
        for sid, v in pool.items():
            live = (snap_sites or {}).get(sid)
            v["name"] = (live and (live.get("info") or {}).get("name")) or v["name"] or sid
        if not self.opts.sites:
            return pool
        chosen: dict[str, dict[str, Any]] = {}
        for ref in self.opts.sites:
            hits = [sid for sid, v in pool.items() if ref in (sid, v["name"])]
            if not hits:
                names = sorted(str(v["name"]) for v in pool.values())
                close = difflib.get_close_matches(ref, names, n=3)
                hint = f"; did you mean {', '.join(close)}?" if close else ""
                scope = "in the account" if self.opts.all_sites else "managed by the stack(s)"
                raise HealthInputError(
                    f"--site {ref!r}: no such site {scope} (sites: {', '.join(names) or 'none'}){hint}"
                )
            chosen.update({sid: pool[sid] for sid in hits})
        return chosen

    # -- windows ----------------------------------------------------------------------------------------------
    def _windows(self, now: datetime, buckets: int) -> tuple[Windows, dict[str, Any]]:
        since = self.since
        if since > now + FUTURE_SKEW:
            raise HealthInputError(f"--since {iso(since)} is in the future (Cato's clock says {iso(now)})")
        since = min(since, now)
        after = (now - since).total_seconds()
        # At least three whole buckets of baseline, however long the window since the update.
        baseline = max(self.opts.baseline, 3 * after / max(1, buckets - 3))
        baseline_start: datetime | None = since - timedelta(seconds=baseline)
        clamped = []
        oldest_metrics = now - METRICS_RETENTION
        if since < oldest_metrics:
            clamped.append(f"metrics and stories start at {iso(oldest_metrics)}: Cato keeps about 90 days")
            baseline_start = None
        elif baseline_start < oldest_metrics:
            baseline_start = oldest_metrics
            clamped.append(
                f"the baseline starts at {iso(oldest_metrics)}: Cato keeps about 90 days of metrics"
            )
        if since < now - EVENTS_RETENTION:
            clamped.append(f"events start at {iso(now - EVENTS_RETENTION)}: the events feed keeps 7 days")
        recent_start = max(since, now - timedelta(seconds=self.opts.recent))
        w = Windows(baseline_start, since, now, recent_start)
        info = {
            "since": iso(self.since),
            "since_source": LAST_UPDATE if self.last_only else "flag",
            "until": iso(now),
            "baseline_start": iso(baseline_start),
            "baseline_end": iso(since) if baseline_start else None,
            "recent_start": iso(recent_start),
            "metrics_start": iso(max(baseline_start or since, oldest_metrics)),
            "events_start": iso(max(since, now - EVENTS_RETENTION)),
            "stories_start": iso(max(since, now - STORIES_RETENTION)),
            "clamped": clamped,
        }
        return w, info

    # -- one poll -----------------------------------------------------------------------------------------------
    def poll(self) -> tuple[list[SiteHealth], list[Finding], list[dict[str, Any]], dict[str, Any]]:
        results = {f: FamilyResult() for f in FAMILIES}
        skip = self.opts.skip
        ids = None if self.opts.all_sites else sorted(self.selected or self.managed)
        snap = self.collector.snapshot(ids, results[SNAPSHOT])
        snap_sites = {str(s["id"]): s for s in (snap or {}).get("sites") or []} if snap is not None else None
        server_now = parse_time((snap or {}).get("timestamp"))
        # Without Cato's clock, ours will do; it cannot tell whether --since is in the future.
        now = server_now or max(datetime.now(UTC), self.since)
        if self.selected is None:
            if snap_sites is None and self.opts.all_sites:
                raise_for(results[SNAPSHOT], "the account's sites (--all-sites needs the snapshot)")
            self.selected = self._select(snap_sites)
        site_ids = sorted(self.selected)
        buckets, chunk = Collector.buckets_for(len(site_ids) or 1)
        windows, info = self._windows(now, buckets)
        metrics_start = parse_time(info["metrics_start"]) or windows.since
        metrics = ports = None
        if METRICS not in skip:
            metrics = self.collector.metrics(site_ids, metrics_start, now, buckets, chunk, results[METRICS])
        if PORTS not in skip:
            ports = self.collector.ports(site_ids, metrics_start, now, buckets, results[PORTS])
        events: list[dict[str, Any]] = []
        if EVENTS not in skip:
            events_start = parse_time(info["events_start"]) or windows.since
            raw = self.collector.read_events(now, results[EVENTS])
            events = [
                v
                for v in map(event_view, raw)
                if (parse_time(v["time"]) or now) >= events_start - SKEW_EVENTS
            ]
        stories: list[dict[str, Any]] | None = None
        if STORIES not in skip:
            stories = self.collector.stories(parse_time(info["stories_start"]) or windows.since, now,
                                             results[STORIES])  # fmt: skip
        evaluator = SiteEvaluator(self.correlator, self.opts.thresholds, windows,
                                  fail_on_blocked=self.opts.fail_on_blocked, passive=self.passive)  # fmt: skip
        port_map = port_quality(ports or [], windows)
        sites: list[SiteHealth] = []
        for sid in site_ids:
            meta = self.selected[sid]
            site = SiteHealth(sid, str(meta["name"]), list(meta["stacks"]))
            live = None if snap_sites is None else snap_sites.get(sid)
            evaluator.connectivity(site, live, snapshot_ok=snap_sites is not None)
            evaluator.links(site, live, (metrics or {}).get(sid),
                            [e for e in events if e["site_id"] == sid])  # fmt: skip
            evaluator.ports(site, port_map)
            evaluator.events(site, [e for e in events if e["site_id"] == sid])
            evaluator.stories(site, [s for s in stories or [] if _story_site(s) in (sid, site.name)])
            sites.append(site)
        families = []
        report_findings: list[Finding] = []
        for name in FAMILIES:
            r = results[name]
            if name in skip:
                r.status, r.note = "skipped", "--skip"
            elif r.status != OK:
                report_findings.append(
                    Finding(
                        "family-" + r.status,
                        DEGRADED,
                        f"{OPERATIONS[name]} could not be read ({r.status}): {r.error} — "
                        f"{_UNKNOWN[name]} is unknown, so the sites cannot be called healthy",
                        details={"key": name, "family": name},
                    )  # fmt: skip
                )
            families.append(r.to_dict(name))
        info["buckets"] = buckets
        return sites, report_findings, families, info

    def run(self) -> HealthReport:
        deadline = self.clock() + max(0.0, self.opts.wait)
        started = self.clock()
        polls = 0
        while True:
            polls += 1
            sites, report_findings, families, info = self.poll()
            attempted = [f for f in families if f["status"] != "skipped"]
            error = None
            if attempted and all(f["status"] not in (OK, "incomplete") for f in attempted):
                error = "no query family could be read: " + "; ".join(
                    f"{f['operation']}: {f['error']}" for f in attempted
                )
            findings = report_findings + [f for s in sites for f in s.findings]
            healthy = error is None and not any(f.severity == DEGRADED for f in findings)
            remaining = deadline - self.clock()
            if healthy or remaining <= 0:
                break
            self.sleep(min(self.opts.interval, remaining))
        findings.sort(key=lambda f: (f.severity != DEGRADED, f.site or "", f.kind, f.link or ""))
        for msg in info["clamped"]:
            self.warnings.append(f"time window clamped: {msg}")
        calls = self.client.stats.to_dict()
        api_calls: dict[str, int] = {}
        for op, s in calls.items():
            root = self.client.documents.get(op).root_field if op in self.client.documents else op
            api_calls[root] = api_calls.get(root, 0) + s["calls"]
        return HealthReport(
            account_id=str(self.client.config.account_id),
            stacks=[
                StackInfo(s.name, len(s.resources), next(iter(updates_in_window(s, self.since, True)), None))
                for s in self.stacks
            ],  # fmt: skip
            window=info,
            sites=sites,
            findings=findings,
            families=families,
            warnings=self.warnings,
            polls={
                "count": polls,
                "wait_seconds": self.opts.wait,
                "interval_seconds": self.opts.interval,
                "waited_seconds": round(self.clock() - started, 1),
                "converged": healthy and polls > 1,
            },  # fmt: skip
            api_calls=api_calls,
            changes=self.changes,
            error=error,
        )


_UNKNOWN = {
    SNAPSHOT: "connectivity",
    METRICS: "link quality (loss, latency, jitter)",
    PORTS: "port throughput",
    EVENTS: "what happened since the update (connectivity and security events)",
    STORIES: "whether new incidents opened",
}


def _story_site(story: dict[str, Any]) -> str | None:
    inc = story.get("incident") or {}
    site = inc.get("site") or {}
    return str(site.get("id")) if site.get("id") else inc.get("source")


def raise_for(result: FamilyResult, what: str) -> None:
    if result.status != OK:
        raise CatoError(f"cannot read {what}: {result.error}")


def run_health(
    opts: HealthOptions,
    stacks: list[StackState],
    *,
    client: CatoClient | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> HealthReport:
    own = client is None
    client = client or make_client(opts, stacks)
    try:
        return HealthRun(opts, stacks, client, sleep=sleep).run()
    finally:
        if own:
            client.close()
