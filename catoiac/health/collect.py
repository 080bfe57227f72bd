"""The reads behind ``catoiac health``: one call (or one paged read) per query family per poll.

Families: ``snapshot`` (accountSnapshot), ``metrics`` (accountMetrics), ``ports``
(socketPortMetricsTimeSeries), ``events`` (eventsFeed) and ``stories`` (xdr.stories). A family that
fails (an error, a rate limit the client could not wait out, a capped read) is recorded as such and
never counts as healthy: the report says which family is missing and why.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ..client import CatoClient
from ..errors import CatoError, RateLimitedError, ValidationError

SNAPSHOT, METRICS, PORTS, EVENTS, STORIES = "snapshot", "metrics", "ports", "events", "stories"
FAMILIES = (SNAPSHOT, METRICS, PORTS, EVENTS, STORIES)
OPERATIONS = {
    SNAPSHOT: "accountSnapshot",
    METRICS: "accountMetrics",
    PORTS: "socketPortMetricsTimeSeries",
    EVENTS: "eventsFeed",
    STORIES: "xdr.stories",
}
OK, FAILED, RATE_LIMITED, INCOMPLETE = "ok", "failed", "rate-limited", "incomplete"

LABELS = ["lostUpstreamPcnt", "lostDownstreamPcnt", "rtt", "jitterUpstream", "jitterDownstream",
          "bytesUpstream", "bytesDownstream"]  # fmt: skip
METRICS_ITEM_LIMIT = 100_000  # Cato: sites x labels x buckets per accountMetrics query
MAX_BUCKETS = 36  # ~1 min buckets over a 30 min baseline and the minutes after an up
MIN_BUCKETS = 12  # fewer and the baseline and the recent window blur into each other
EVENT_TYPES = ["Connectivity", "Security"]
EVENT_RETENTION = timedelta(days=7)
STORY_PAGE = 100


def time_frame(start: datetime, end: datetime) -> str:
    """The absolute ``utc.{YYYY-MM-DD/hh:mm:ss--YYYY-MM-DD/hh:mm:ss}`` form."""
    fmt = "%Y-%m-%d/%H:%M:%S"
    return f"utc.{{{start.astimezone(UTC).strftime(fmt)}--{end.astimezone(UTC).strftime(fmt)}}}"


def parse_time(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value / 1000 if value > 1e11 else value, UTC)
    text = str(value)
    if text.isdigit():
        return parse_time(int(text))
    try:
        t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


@dataclass
class FamilyResult:
    status: str = OK
    calls: int = 0
    error: str | None = None
    note: str | None = None

    def to_dict(self, name: str) -> dict[str, Any]:
        return {"family": name, "operation": OPERATIONS[name], "status": self.status, "calls": self.calls,
                "error": self.error, "note": self.note}  # fmt: skip


def _failure(err: CatoError) -> tuple[str, str]:
    return (RATE_LIMITED if isinstance(err, RateLimitedError) else FAILED), str(err)


# -- events cache -----------------------------------------------------------------------------------
def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "catoiac" / "health"


class EventsCache:
    """``<dir>/<account>-<endpoint hash>.json``: the feed's marker and the events read so far (7 days),
    so a later run reads only what is new. Written atomically."""

    VERSION = 1

    def __init__(self, directory: str | Path, account_id: str, endpoint: str) -> None:
        tag = hashlib.sha256(endpoint.encode()).hexdigest()[:10]
        self.path = Path(directory) / f"{account_id}-{tag}.json"
        self.data = self._load()

    def _load(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            data = {}
        if data.get("version") != self.VERSION:
            data = {"version": self.VERSION, "marker": None, "events": []}
        return data

    def save(self, marker: str | None, events: list[dict[str, Any]], now: datetime) -> None:
        oldest = now - EVENT_RETENTION
        kept = [e for e in events if (parse_time(e.get("time")) or now) >= oldest]
        self.data = {"version": self.VERSION, "marker": marker, "events": kept}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(self.data, sort_keys=True))
        os.replace(tmp, self.path)


# -- the reads ----------------------------------------------------------------------------------------
@dataclass
class Collector:
    """Reads for one account. The events marker carries over from poll to poll (and run to run
    through the cache), so every poll after the first reads only new events."""

    client: CatoClient
    account_id: str
    cache: EventsCache | None = None
    max_event_pages: int = 20
    events: list[dict[str, Any]] = field(default_factory=list)
    marker: str | None = None
    _marker_loaded: bool = False
    on_call: Callable[[str], None] | None = None

    def _call(self, op: str, variables: dict[str, Any]) -> dict[str, Any]:
        if self.on_call:
            self.on_call(op)
        return self.client.execute(op, variables)

    def snapshot(self, site_ids: list[str] | None, result: FamilyResult) -> dict[str, Any] | None:
        try:
            result.calls += 1
            return self._call("HealthSnapshot", {"siteIDs": site_ids})["accountSnapshot"] or {}
        except CatoError as e:
            result.status, result.error = _failure(e)
            return None

    @staticmethod
    def buckets_for(sites: int) -> tuple[int, int]:
        """(buckets per query, sites per query) within Cato's 100,000-item limit."""
        per_site = len(LABELS)
        chunk = max(1, min(sites, METRICS_ITEM_LIMIT // (per_site * MIN_BUCKETS)))
        buckets = max(MIN_BUCKETS, min(MAX_BUCKETS, (METRICS_ITEM_LIMIT - 1) // (per_site * max(1, chunk))))
        return buckets, chunk

    def metrics(
        self,
        site_ids: list[str],
        start: datetime,
        end: datetime,
        buckets: int,
        chunk: int,
        result: FamilyResult,
    ) -> dict[str, dict[str, Any]] | None:
        """Per site id: its interfaces' bucketed series. One call per ``chunk`` sites."""
        out: dict[str, dict[str, Any]] = {}
        try:
            for i in range(0, max(1, len(site_ids)), chunk):
                part = site_ids[i : i + chunk] or None
                result.calls += 1
                data = self._call("HealthMetrics", {"timeFrame": time_frame(start, end), "siteIDs": part,
                                                    "buckets": buckets, "labels": LABELS})  # fmt: skip
                for s in (data["accountMetrics"] or {}).get("sites") or []:
                    out[str(s["id"])] = s
        except CatoError as e:
            result.status, result.error = _failure(e)
            return None
        return out

    def ports(
        self, site_ids: list[str], start: datetime, end: datetime, buckets: int, result: FamilyResult
    ) -> list[dict[str, Any]] | None:
        filters = [{"fieldName": "site_id", "operator": "in", "values": site_ids}] if site_ids else None
        try:
            result.calls += 1
            data = self._call("HealthPortMetrics", {"timeFrame": time_frame(start, end), "filters": filters,
                                                    "buckets": buckets})  # fmt: skip
        except CatoError as e:
            result.status, result.error = _failure(e)
            return None
        return (data["socketPortMetricsTimeSeries"] or {}).get("timeseries") or []

    def read_events(self, now: datetime, result: FamilyResult) -> list[dict[str, Any]]:
        """Every connectivity and security event in the queue, continuing from the last marker.
        Stops at ``max_event_pages`` pages per poll: the family is then incomplete."""
        if not self._marker_loaded and self.cache is not None:
            self.marker = self.cache.data.get("marker")
            self.events = list(self.cache.data.get("events") or [])
        self._marker_loaded = True
        filters = [{"fieldName": "event_type", "operator": "in", "values": EVENT_TYPES}]
        seen = {e.get("fieldsMap", {}).get("event_id") for e in self.events} - {None}
        pages = 0
        try:
            while True:
                if pages >= self.max_event_pages:
                    result.status = INCOMPLETE
                    result.error = (
                        f"the events feed holds more than {self.max_event_pages} pages to read: events since the "
                        "update may be missing (raise --max-event-pages, or keep the cache between runs)"
                    )
                    break
                result.calls += 1
                pages += 1
                try:
                    data = self._call("HealthEvents", {"marker": self.marker, "filters": filters})[
                        "eventsFeed"
                    ]
                except ValidationError:
                    if self.marker is None:
                        raise
                    self.marker, self.events, seen = None, [], set()  # the feed forgot our marker: start over
                    continue
                data = data or {}
                for acc in data.get("accounts") or []:
                    if acc.get("errorString"):
                        raise CatoError(f"eventsFeed: {acc['errorString']}", operation="HealthEvents")
                    for r in acc.get("records") or []:
                        eid = (r.get("fieldsMap") or {}).get("event_id")
                        if eid is None or eid not in seen:
                            self.events.append({"time": r.get("time"), "fieldsMap": r.get("fieldsMap") or {}})
                            seen.add(eid)
                self.marker = data.get("marker") or self.marker
                if not data.get("fetchedCount"):
                    break
        except CatoError as e:
            result.status, result.error = _failure(e)
        oldest = now - EVENT_RETENTION
        self.events = [e for e in self.events if (parse_time(e.get("time")) or now) >= oldest]
        if self.cache is not None and result.status == OK:
            self.cache.save(self.marker, self.events, now)
        return self.events

    def stories(self, start: datetime, end: datetime, result: FamilyResult) -> list[dict[str, Any]] | None:
        items: list[dict[str, Any]] = []
        first = 0
        try:
            while True:
                story_input = {
                    "filter": [
                        {"timeFrame": {"time": time_frame(start, end), "timeFrameModifier": "StoryCreate"}}
                    ],
                    "paging": {"from": first, "limit": STORY_PAGE},
                    "sort": [{"fieldName": "createdAt", "order": "asc"}],
                }
                result.calls += 1
                page = self._call("HealthStories", {"input": story_input})["xdr"]["stories"] or {}
                got = page.get("items") or []
                items += got
                first += len(got)
                if not got or first >= ((page.get("paging") or {}).get("total") or 0):
                    return items
        except CatoError as e:
            result.status, result.error = _failure(e)
            return None
