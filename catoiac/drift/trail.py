"""``catoiac audit``: the audit trail of a managed resource (or of a whole stack) from Cato's feed.

Records are matched to resources the way drift attributes changes: by object id and type, else by
model type and name (following renames), and a policy's rules and sections by their ids and names.
The shared audit cache is not used: it keeps only what drift needs, and a narrower query here must
not shrink it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from fnmatch import fnmatchcase
from typing import Any

from .audit import (
    AUDIT_MODELS,
    AuditFeed,
    AuditModel,
    AuditRecord,
    Interest,
    OwnKey,
    RecordIndex,
    Target,
    cause_of,
    infer_own_key,
    iso,
)
from .state import StackState, StateResource


@dataclass
class TrailRow:
    record: AuditRecord
    resource: StateResource
    cause: str

    def to_dict(self) -> dict[str, Any]:
        r = self.record
        return {
            "time": iso(r.time),
            "resource": {"type": self.resource.spec_name, "name": self.resource.logical_name,
                         "urn": self.resource.urn, "stack": self.resource.stack, "cato_id": self.resource.id},
            "object": {"id": r.object_id, "name": r.object_name, "type": r.object_type, "model_type": r.model_type},
            "change_type": r.change_type,
            "actor": {"kind": r.actor_kind, "id": r.actor_id, "name": r.actor_name},
            "cause": self.cause,
            "before": dict(sorted(r.before.items())),
            "after": dict(sorted(r.after.items())),
        }  # fmt: skip


def select(
    stacks: list[StackState], *, urn: str | None, name: str | None, rid: str | None
) -> list[StateResource]:
    """The resources asked for: by URN, by Pulumi or Cato name (glob), by Cato id; all when none is given."""
    out = []
    for s in stacks:
        for r in s.resources:
            names = [r.logical_name, str(r.inputs.get("name") or "")]
            if urn and r.urn != urn:
                continue
            if name and not any(fnmatchcase(n, name) for n in names):
                continue
            if rid and r.id != rid:
                continue
            out.append(r)
    return out


def targets_of(res: StateResource) -> list[Target]:
    model = AUDIT_MODELS.get(res.spec_name, AuditModel((), ()))
    names = {str(n) for n in (res.inputs.get("name"),) if n}
    out = [Target({res.id}, names, set(model.object_types), set(model.model_types))]
    for item, key in (("section", "section_ids"), ("rule", "rule_ids")):
        ids = res.outputs.get(key)
        if isinstance(ids, dict) and model.item_model_types.get(item):
            for n, i in ids.items():
                out.append(Target({str(i)}, {str(n)}, set(), set(model.item_model_types[item])))
    return out


def trail(
    client,
    stacks: list[StackState],
    resources: list[StateResource],
    *,
    since: datetime,
    until: datetime,
    actor: str | None = None,
    change_types: tuple[str, ...] = (),
    own: OwnKey | None = None,
    on_page=None,
) -> tuple[list[TrailRow], OwnKey | None]:
    interest = Interest()
    by_resource = [(r, targets_of(r)) for r in resources]
    for _, targets in by_resource:
        for t in targets:
            for i in t.ids:
                interest.add(i)
            interest.add(None, *t.names)
    feed = AuditFeed(client, client.config.account_id, cache=None, on_page=on_page)
    records = feed.fetch(since, until, interest)
    own = own or infer_own_key(records, stacks)
    index = RecordIndex(records)
    rows: dict[str, TrailRow] = {}
    for res, targets in by_resource:
        for t in targets:
            for rec in t.related(index):
                rows.setdefault(rec.hash, TrailRow(rec, res, cause_of(rec, own)))
    wanted = {c.upper() for c in change_types}
    out = [
        row
        for row in rows.values()
        if (not wanted or (row.record.change_type or "").upper() in wanted)
        and (
            not actor
            or actor.lower() in {(row.record.actor_id or "").lower(), (row.record.actor_name or "").lower()}
        )
    ]
    return sorted(out, key=lambda row: (row.record.sort_key, row.resource.urn)), own


def to_json(rows: list[TrailRow], own: OwnKey | None, since: datetime, until: datetime) -> str:
    return json.dumps(
        {"window": {"from": iso(since), "to": iso(until)}, "own_key": own.to_dict() if own else None,
         "records": [r.to_dict() for r in rows]},
        indent=2,
    )  # fmt: skip


def render(rows: list[TrailRow], console) -> None:
    from rich.table import Table
    from rich.text import Text

    t = Table(title=f"Audit trail ({len(rows)} record(s))", title_justify="left")
    for col in ("time", "resource", "change", "actor", "cause", "fields (before → after)"):
        t.add_column(col, overflow="fold")
    for row in rows:
        r = row.record
        fields = "; ".join(
            f"{k}: {r.before.get(k, '—')} → {r.after.get(k, '—')}"
            for k in sorted(set(r.before) | set(r.after))
        )
        who = f"{r.actor_name or r.actor_id} ({'admin' if r.actor_kind == 'admin' else 'API key'})"
        res = f"{row.resource.spec_name} {row.resource.logical_name}"
        if r.object_name and r.model_type and r.object_id != row.resource.id:
            res += f"\n{r.model_type} {r.object_name}"
        # Text, not markup: "[secret]" (a masked value) must print as it is.
        cells = (iso(r.time), res, r.change_type or "", who, row.cause, fields or "—")
        t.add_row(*(Text(c or "") for c in cells))
    console.print(t)
