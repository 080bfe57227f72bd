"""The drift report: findings, coverage, attribution; serialised per drift-report.schema.json."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from .. import __version__
from .audit import AuditRecord, OwnKey, cause_of, iso
from .compare import MOVED, Change
from .devices import Fact
from .ignore import IgnoreEntry

SCHEMA_VERSION = 1
MODIFIED, DELETED, REORDERED, UNMANAGED, DEVICE = "modified", "deleted", "reordered", "unmanaged", "device"


def schema() -> dict[str, Any]:
    return json.loads(resources.files("catoiac.drift").joinpath("drift-report.schema.json").read_text())


@dataclass(frozen=True)
class ResourceRef:
    type: str
    cato_id: str | None
    cato_name: str | None = None
    urn: str | None = None
    stack: str | None = None

    @property
    def name(self) -> str | None:
        return self.urn.rsplit("::", 1)[-1] if self.urn else None

    @property
    def label(self) -> str:
        return f"{self.type} {self.name or self.cato_name or self.cato_id}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "name": self.name,
            "urn": self.urn,
            "stack": self.stack,
            "cato_id": self.cato_id,
            "cato_name": self.cato_name,
        }


@dataclass(frozen=True)
class Attribution:
    cause: str
    record: AuditRecord | None = None
    own_key: bool = False
    via: str | None = None  # e.g. "parent site deleted"

    def to_dict(self) -> dict[str, Any]:
        r = self.record
        if r is None:
            return {"cause": self.cause, "actor": None, "time": None, "change_type": None, "before": {}, "after": {},
                    "object": None, "via": self.via}  # fmt: skip
        return {
            "cause": self.cause,
            "actor": {"kind": r.actor_kind, "id": r.actor_id, "name": r.actor_name, "own_key": self.own_key},
            "time": iso(r.time),
            "change_type": r.change_type,
            "before": dict(sorted(r.before.items())),
            "after": dict(sorted(r.after.items())),
            "object": {
                "id": r.object_id,
                "name": r.object_name,
                "type": r.object_type,
                "model_type": r.model_type,
            },
            "via": self.via,
        }

    @classmethod
    def of(cls, rec: AuditRecord | None, own: OwnKey | None, via: str | None = None) -> Attribution:
        return cls(cause_of(rec, own), rec, bool(rec and own and own.matches(rec)), via)


NO_ATTRIBUTION = Attribution("no-audit-record")
# The audit feed could not be read (rate limit, outage, no permission): the cause is not known.
UNAVAILABLE = "unavailable"
CAUSES = ("ui", "other-api-key", "this-tool", "no-audit-record", UNAVAILABLE)


@dataclass
class Finding:
    kind: str
    resource: ResourceRef
    changes: list[Change] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)
    change_attributions: list[Attribution] = field(default_factory=list)
    attribution: Attribution = NO_ATTRIBUTION
    ignored_by: IgnoreEntry | None = None
    ignored_changes: dict[int, IgnoreEntry] = field(default_factory=dict)
    expired_ignores: list[IgnoreEntry] = field(default_factory=list)
    actions: Any = None  # actions.Actions: revert and accept
    timeline: list[AuditRecord] = field(default_factory=list)  # the resource's records, oldest first

    @property
    def id(self) -> str:
        key = json.dumps(
            [self.kind, self.resource.stack, self.resource.type, self.resource.cato_id,
             sorted(c.path for c in self.changes), sorted(f.property for f in self.facts)]
        )  # fmt: skip
        return "D-" + hashlib.sha256(key.encode()).hexdigest()[:8]

    @property
    def cause(self) -> str:
        return self.attribution.cause

    @property
    def paths(self) -> list[str]:
        return [c.path for c in self.changes] or [f.property for f in self.facts]

    def to_dict(self) -> dict[str, Any]:
        changes = []
        for i, c in enumerate(self.changes):
            d = c.to_dict()
            d["attribution"] = (
                self.change_attributions[i].to_dict() if i < len(self.change_attributions) else None
            )
            d["ignored_by"] = self.ignored_changes[i].index if i in self.ignored_changes else None
            changes.append(d)
        return {
            "id": self.id,
            "kind": self.kind,
            "resource": self.resource.to_dict(),
            "changes": changes,
            "facts": [
                {
                    "property": f.property,
                    "declared": f.declared,
                    "observed": f.observed,
                    "detail": f.detail,
                    "source": f.source,
                }
                for f in self.facts
            ],  # fmt: skip
            "cause": self.cause,
            "attribution": self.attribution.to_dict(),
            "ignored": self.ignored_by is not None,
            "ignored_by": self.ignored_by.to_dict() if self.ignored_by else None,
            "actions": self.actions.to_dict() if self.actions is not None else None,
            "timeline": [timeline_entry(r) for r in self.timeline],
        }


def timeline_entry(r: AuditRecord) -> dict[str, Any]:
    return {
        "time": iso(r.time),
        "actor": {"kind": r.actor_kind, "id": r.actor_id, "name": r.actor_name},
        "change_type": r.change_type,
        "object": {
            "id": r.object_id,
            "name": r.object_name,
            "type": r.object_type,
            "model_type": r.model_type,
        },
        "before": dict(sorted(r.before.items())),
        "after": dict(sorted(r.after.items())),
    }


@dataclass
class Coverage:
    type: str
    managed: int
    total: int

    @property
    def ratio(self) -> float:
        return round(self.managed / self.total, 4) if self.total else 1.0

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "managed": self.managed, "total": self.total, "ratio": self.ratio}


@dataclass
class StackInfo:
    name: str
    resources: int
    last_update: datetime | None
    unchecked_types: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "resources": self.resources,
            "last_update": iso(self.last_update),
            "unchecked_types": sorted(set(self.unchecked_types)),
        }


@dataclass
class DriftReport:
    account_id: str
    stacks: list[StackInfo]
    window_start: datetime | None
    window_end: datetime | None
    own_key: OwnKey | None
    findings: list[Finding]
    coverage: list[Coverage]
    expired_ignores: list[tuple[IgnoreEntry, list[str]]] = field(default_factory=list)
    audit_stats: dict[str, Any] = field(default_factory=dict)
    api_calls: dict[str, int] = field(default_factory=dict)
    errors: list[dict[str, str]] = field(default_factory=list)  # resources that could not be read
    warnings: list[str] = field(default_factory=list)  # the report is complete, but less useful
    ignore_written: dict[str, Any] | None = None  # what --write-ignore added to the ignore file
    generated_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def active(self) -> list[Finding]:
        return [f for f in self.findings if f.ignored_by is None]

    @property
    def ignored(self) -> list[Finding]:
        return [f for f in self.findings if f.ignored_by is not None]

    @property
    def drift(self) -> bool:
        return bool(self.active)

    @property
    def exit_code(self) -> int:
        """1 when the report is incomplete (a resource could not be read), else 2 on drift, else 0."""
        return 1 if self.errors else 2 if self.drift else 0

    def summary(self) -> dict[str, Any]:
        by_kind = {k: 0 for k in (MODIFIED, DELETED, REORDERED, UNMANAGED, DEVICE)}
        by_cause = {k: 0 for k in CAUSES}
        for f in self.active:
            by_kind[f.kind] += 1
            by_cause[f.cause] += 1
        return {
            "drift": self.drift,
            "findings": len(self.active),
            "ignored": len(self.ignored),
            "expired_ignores": len(self.expired_ignores),
            "by_kind": by_kind,
            "by_cause": by_cause,
            "moves": sum(1 for f in self.active for c in f.changes if c.op == MOVED),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "tool": {"name": "catoiac", "version": __version__},
            "generated_at": iso(self.generated_at),
            "account_id": self.account_id,
            "stacks": [s.to_dict() for s in self.stacks],
            "window": {
                "from": iso(self.window_start),
                "to": iso(self.window_end),
            },
            "own_key": self.own_key.to_dict() if self.own_key else None,
            "summary": self.summary(),
            "findings": [f.to_dict() for f in self.findings],
            "coverage": [c.to_dict() for c in self.coverage],
            "expired_ignores": [{"entry": e.to_dict(), "findings": ids} for e, ids in self.expired_ignores],
            "audit": self.audit_stats,
            "api_calls": dict(sorted(self.api_calls.items())),
            "errors": self.errors,
            "warnings": self.warnings,
            "ignore_written": self.ignore_written,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, default=str)
