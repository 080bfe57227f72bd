"""The health report: per-site connectivity, link quality, events, stories and findings, each
finding correlated with what the stack's last update changed. Serialised per
``health-report.schema.json`` (versioned like the drift report)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from .. import __version__

SCHEMA_VERSION = 1
HEALTHY, DEGRADED, ERROR = "healthy", "degraded", "error"
WARNING = "warning"
EXIT_CODES = {HEALTHY: 0, DEGRADED: 2, ERROR: 1}


def schema() -> dict[str, Any]:
    return json.loads(resources.files("catoiac.health").joinpath("health-report.schema.json").read_text())


def iso(t: datetime | None) -> str | None:
    return None if t is None else t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def duration(seconds: float) -> str:
    """40 s, 3 min 20 s, 2 h 5 min, 3 d 4 h."""
    s = max(0, round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        m, s = divmod(s, 60)
        return f"{m} min {s} s" if s else f"{m} min"
    if s < 86400:
        h, m = divmod(s // 60, 60)
        return f"{h} h {m} min" if m else f"{h} h"
    d, h = divmod(s // 3600, 24)
    return f"{d} d {h} h" if h else f"{d} d"


@dataclass(frozen=True)
class UpdateRef:
    stack: str
    number: int | None  # the update's number in the stack's history (1 = first); None: unknown
    start: datetime | None
    end: datetime | None

    @property
    def label(self) -> str:
        return f"update #{self.number}" if self.number else "last update"

    def to_dict(self) -> dict[str, Any]:
        return {"stack": self.stack, "number": self.number, "start": iso(self.start), "end": iso(self.end)}


@dataclass(frozen=True)
class Change:
    """A Cato resource that a stack update created or modified."""

    update: UpdateRef
    urn: str
    type: str  # pulumi_cato class (SocketSite, SocketInterface...)
    resource_id: str
    at: datetime
    created: bool
    site_id: str | None = None
    slot: str | None = None  # SocketInterface: the port (WAN1, INT_5...)
    label: str | None = None  # the object's name in Cato, where it has one
    rule_ids: tuple[tuple[str, str], ...] = ()  # firewall policies: (rule name, rule id)

    @property
    def name(self) -> str:
        return self.urn.rsplit("::", 1)[-1]

    def describe(self) -> str:
        """What changed, as a person would say it ("its WAN1 interface", "range Printers")."""
        if self.type == "SocketInterface":
            return f"its {self.slot or self.label or self.name} interface"
        if self.type == "SocketSite":
            return "its site settings"
        kind = {"NetworkRange": "range", "StaticHost": "static host", "BgpPeer": "BGP peer",
                "InternetFirewallPolicy": "internet firewall policy",
                "WanFirewallPolicy": "WAN firewall policy"}.get(self.type, self.type)  # fmt: skip
        return f"{kind} {self.label or self.name}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "id": self.resource_id,
            "site_id": self.site_id,
            "changed_at": iso(self.at),
            "action": "created" if self.created else "updated",
            "update": self.update.to_dict(),
        }


@dataclass(frozen=True)
class Correlation:
    change: Change
    seconds: float  # from the change to the finding
    stacks: int = 1  # how many stacks the run looked at (wording only)

    @property
    def text(self) -> str:
        c = self.change
        who = "this stack's" if self.stacks == 1 else f"stack {c.update.stack}'s"
        verb = "created" if c.created else "updated"
        was = "were" if c.type == "SocketSite" else "was"
        return f"{duration(self.seconds)} after {c.describe()} {was} {verb} by {who} {c.update.label}"

    def to_dict(self) -> dict[str, Any]:
        return {"seconds_after": round(self.seconds, 1), "text": self.text, "resource": self.change.to_dict()}


@dataclass
class Finding:
    kind: str
    severity: str  # degraded | warning
    message: str  # without the correlation
    site_id: str | None = None
    site: str | None = None
    link: str | None = None
    time: datetime | None = None
    correlation: Correlation | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        key = json.dumps([self.kind, self.site_id, self.link, self.details.get("key")])
        return "H-" + hashlib.sha256(key.encode()).hexdigest()[:8]

    @property
    def text(self) -> str:
        return f"{self.message} {self.correlation.text}" if self.correlation else self.message

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "severity": self.severity,
            "site_id": self.site_id,
            "site": self.site,
            "link": self.link,
            "time": iso(self.time),
            "message": self.message,
            "text": self.text,
            "correlation": self.correlation.to_dict() if self.correlation else None,
            "details": self.details,
        }


@dataclass
class Quality:
    """Link quality over a window: means over the buckets that had data."""

    buckets: int
    loss_pct: float | None
    latency_ms: float | None
    jitter_ms: float | None
    throughput_mbps: float | None

    def to_dict(self) -> dict[str, Any]:
        r = lambda v: None if v is None else round(v, 3)  # noqa: E731
        return {"buckets": self.buckets, "loss_pct": r(self.loss_pct), "latency_ms": r(self.latency_ms),
                "jitter_ms": r(self.jitter_ms), "throughput_mbps": r(self.throughput_mbps)}  # fmt: skip


@dataclass
class LinkHealth:
    id: str
    name: str
    slot: str | None
    dest_type: str | None
    connected: bool | None  # None: not in the snapshot (removed, or no snapshot)
    baseline: Quality | None = None
    since_update: Quality | None = None
    recent: Quality | None = None

    def to_dict(self) -> dict[str, Any]:
        q = lambda x: x.to_dict() if x else None  # noqa: E731
        return {"id": self.id, "name": self.name, "slot": self.slot, "dest_type": self.dest_type,
                "connected": self.connected, "baseline": q(self.baseline), "since_update": q(self.since_update),
                "recent": q(self.recent)}  # fmt: skip


@dataclass
class PortHealth:
    name: str
    baseline_mbps: float | None
    recent_mbps: float | None

    def to_dict(self) -> dict[str, Any]:
        r = lambda v: None if v is None else round(v, 3)  # noqa: E731
        return {"name": self.name, "baseline_mbps": r(self.baseline_mbps), "recent_mbps": r(self.recent_mbps)}


@dataclass
class SiteHealth:
    id: str
    name: str
    stacks: list[str]
    connectivity: dict[str, Any] | None = None
    links: list[LinkHealth] = field(default_factory=list)
    ports: list[PortHealth] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    security_events: int = 0
    blocked: list[dict[str, Any]] = field(default_factory=list)
    stories: list[dict[str, Any]] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def status(self) -> str:
        return DEGRADED if any(f.severity == DEGRADED for f in self.findings) else HEALTHY

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "status": self.status,
            "stacks": self.stacks,
            "connectivity": self.connectivity,
            "links": [x.to_dict() for x in self.links],
            "ports": [p.to_dict() for p in self.ports],
            "events": self.events,
            "security_events": self.security_events,
            "blocked_by_changed_rules": self.blocked,
            "stories": self.stories,
            "findings": [f.id for f in self.findings],
        }


@dataclass
class StackInfo:
    name: str
    resources: int
    last_update: UpdateRef | None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "resources": self.resources,
                "last_update": self.last_update.to_dict() if self.last_update else None}  # fmt: skip


@dataclass
class HealthReport:
    account_id: str
    stacks: list[StackInfo]
    window: dict[str, Any]
    sites: list[SiteHealth]
    findings: list[Finding]  # every finding, site ones included, degraded first
    families: list[dict[str, Any]]
    warnings: list[str]
    polls: dict[str, Any]
    api_calls: dict[str, int]
    changes: list[Change]
    error: str | None = None
    generated_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def status(self) -> str:
        if self.error:
            return ERROR
        return DEGRADED if any(f.severity == DEGRADED for f in self.findings) else HEALTHY

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.status]

    def summary(self) -> dict[str, Any]:
        return {
            "sites": len(self.sites),
            "healthy_sites": sum(1 for s in self.sites if s.status == HEALTHY),
            "degraded_sites": sum(1 for s in self.sites if s.status == DEGRADED),
            "degraded_findings": sum(1 for f in self.findings if f.severity == DEGRADED),
            "warnings": sum(1 for f in self.findings if f.severity == WARNING),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "tool": {"name": "catoiac", "version": __version__},
            "generated_at": iso(self.generated_at),
            "account_id": self.account_id,
            "status": self.status,
            "exit_code": self.exit_code,
            "error": self.error,
            "summary": self.summary(),
            "stacks": [s.to_dict() for s in self.stacks],
            "window": self.window,
            "polls": self.polls,
            "families": self.families,
            "changes": [c.to_dict() for c in self.changes],
            "sites": [s.to_dict() for s in self.sites],
            "findings": [f.to_dict() for f in self.findings],
            "warnings": self.warnings,
            "api_calls": dict(sorted(self.api_calls.items())),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False) + "\n"
