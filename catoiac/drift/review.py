"""``catoiac review``: a ``pulumi preview --json`` as Markdown for a pull request.

Grouped by site (a site and everything whose ``site_id`` points at it) and by policy; property-level
diffs from each step's old and new inputs, compared in the engine's canonical form; rule and section
moves shown as moves; replacements and deletions called out as destructive; and the number of policy
publishes the ``up`` will make (one revision, published once, per changed policy resource; a
replacement is a create plus a delete, so two). Secrets stay ``[secret]``: the preview masks them,
and a spec's secret inputs are masked again here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..resources import Engine
from ..resources.specs import SPECS
from .compare import ADDED, MOVED, REMOVED, Change, compare
from .state import SECRET, TYPE_PREFIX

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # Pulumi's "known after apply" placeholder
POLICY_SPECS = {"InternetFirewallPolicy", "WanFirewallPolicy"}
SITE_SPEC = "SocketSite"
PUBLISHES = {
    "create": 1,
    "update": 1,
    "delete": 1,
    "replace": 2,
    "create-replacement": 1,
    "delete-replaced": 1,
}
DESTRUCTIVE = {"replace", "delete", "delete-replaced", "create-replacement"}
SKIPPED = {"same", "read", "refresh"}
OP_ORDER = ("create", "update", "replace", "delete", "import")


@dataclass
class Step:
    op: str
    urn: str
    spec: str
    old_id: str | None
    olds: dict[str, Any]
    news: dict[str, Any]
    replace_reasons: list[str]
    deps: Mapping[str, list[str]]
    changes: list[Change] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.urn.rsplit("::", 1)[-1]

    @property
    def cato_name(self) -> str | None:
        return (self.news or self.olds).get("name")

    @property
    def label(self) -> str:
        extra = f" ({self.cato_name})" if self.cato_name and self.cato_name != self.name else ""
        return f"{self.spec} `{self.name}`{extra}"


def _clean(inputs: Mapping[str, Any] | None, spec_name: str) -> dict[str, Any]:
    out = {k: v for k, v in (inputs or {}).items() if not k.startswith("__")}
    spec = SPECS.get(spec_name)
    for k in spec.secret_inputs if spec is not None else ():
        if k in out:
            out[k] = SECRET
    return out


def _canonical(spec_name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    spec = SPECS.get(spec_name)
    if spec is None or not inputs:
        return inputs
    engine = Engine(spec, lambda: None)  # canonical() needs no session
    try:
        return engine.canonical(engine.inputs_of(inputs))
    except Exception:  # an unknown value can trip a normaliser: show the inputs as Pulumi has them
        return engine.inputs_of(inputs)


def steps_of(preview: Mapping[str, Any]) -> tuple[list[Step], dict[str, Step]]:
    """Changing steps of Cato resources, and every Cato step (unchanged too) by URN."""
    out, by_urn = [], {}
    for raw in preview.get("steps") or []:
        state = raw.get("newState") or raw.get("oldState") or {}
        rtype = str(state.get("type", ""))
        if not rtype.startswith(TYPE_PREFIX):
            continue
        spec = rtype[len(TYPE_PREFIX) :]
        old, new = raw.get("oldState") or {}, raw.get("newState") or {}
        step = Step(
            op=raw.get("op", ""),
            urn=raw["urn"],
            spec=spec,
            old_id=old.get("id"),
            olds=_canonical(spec, _clean(old.get("inputs"), spec)),
            news=_canonical(spec, _clean(new.get("inputs"), spec)),
            replace_reasons=list(raw.get("replaceReasons") or []),
            deps=state.get("propertyDependencies") or {},
        )
        by_urn[step.urn] = step
        if step.op in SKIPPED:
            continue
        if step.op in ("update", "replace"):
            step.changes = compare(spec, step.olds, step.news)
        elif step.op in ("create", "import"):
            if spec in POLICY_SPECS:  # a new policy resource: its sections and rules, as additions
                step.changes = compare(
                    spec, {k: [] for k, v in step.news.items() if isinstance(v, list)}, step.news
                )
            else:
                step.changes = [Change(p, ADDED, None, v) for p, v in leaves(step.news)]
        out.append(step)
    return out, by_urn


def leaves(value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """(path, value) of every leaf of nested dicts; lists are one value."""
    if isinstance(value, Mapping) and value:
        out = []
        for k in sorted(value):
            out += leaves(value[k], f"{prefix}.{k}" if prefix else str(k))
        return out
    return [(prefix, value)]


def group_of(step: Step, by_urn: Mapping[str, Step]) -> tuple[int, str, str]:
    """(order, key, title): sites first, then policies, then the rest."""
    if step.spec == SITE_SPEC:
        return 0, step.urn, f"Site {step.cato_name or step.name}"
    if step.spec in POLICY_SPECS:
        return 1, step.urn, f"Policy {step.label}"
    spec = SPECS.get(step.spec)
    parent = (
        spec.parent_input
        if spec is not None
        else ("site_id" if "site_id" in (step.news or step.olds) else None)
    )
    if parent:
        for urn in step.deps.get(parent) or []:
            if urn in by_urn:
                p = by_urn[urn]
                return 0, urn, f"Site {p.cato_name or p.name}"
        site_id = (step.news or step.olds).get(parent)
        for p in by_urn.values():
            if p.spec == SITE_SPEC and p.old_id and p.old_id == site_id:
                return 0, p.urn, f"Site {p.cato_name or p.name}"
        if site_id and site_id != UNKNOWN:
            return 0, f"site:{site_id}", f"Site {site_id}"
    return 2, "other", "Other resources"


# -- Markdown ------------------------------------------------------------------------------------
def md(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def shown(v: Any, width: int = 80) -> str:
    if v is None:
        return "—"
    if v == UNKNOWN:
        return "_(known after up)_"
    if v == SECRET:
        return "`[secret]`"
    if v == "":
        return '`""`'
    text = v if isinstance(v, str) else json.dumps(v, sort_keys=True)
    text = text if len(text) <= width else text[: width - 1] + "…"
    return f"`{md(text).replace('`', 'ʼ')}`"


def place(p: Any) -> str:
    if not isinstance(p, Mapping):
        return shown(p)
    where = f"#{p['index'] + 1}" if isinstance(p.get("index"), int) else ""
    return f"{md(p['section'])} {where}".strip() if p.get("section") else where


def publishes(steps: list[Step]) -> int:
    return sum(PUBLISHES.get(s.op, 0) for s in steps if s.spec in POLICY_SPECS)


def _order(s: Step) -> tuple[int, str]:
    """Pulumi runs independent steps in parallel, so the preview's order varies: sort by kind
    of change, then URN, for a review that reads the same every time."""
    return (OP_ORDER.index(s.op) if s.op in OP_ORDER else len(OP_ORDER), s.urn)


def review(preview: Mapping[str, Any]) -> str:
    steps, by_urn = steps_of(preview)
    steps = sorted(steps, key=_order)
    summary = preview.get("changeSummary") or {}
    lines = ["## Pulumi preview review", ""]
    counts = [f"{summary[op]} to {op}" for op in OP_ORDER if summary.get(op)]
    if summary.get("same"):
        counts.append(f"{summary['same']} unchanged")
    lines.append(" · ".join(counts) if counts else "No changes.")
    n = publishes(steps)
    lines.append(
        f"**Policy publishes on `up`: {n}**" + (" (one revision per changed policy resource)" if n else "")
    )
    destructive = [s for s in steps if s.op in DESTRUCTIVE]
    if destructive:
        lines += ["", "> [!WARNING]", f"> **{len(destructive)} destructive change(s)**"]
        for s in destructive:
            lines.append(f"> - {_destructive(s)}")
    groups: dict[str, tuple[int, str, list[Step]]] = {}
    for s in steps:
        order, key, title = group_of(s, by_urn)
        groups.setdefault(key, (order, title, []))[2].append(s)
    for order, title, members in sorted(groups.values(), key=lambda g: (g[0], g[1])):
        lines += ["", f"### {md(title)}"]
        if order == 1:
            k = publishes(members)
            lines[-1] += f" · {k} publish" + ("es" if k != 1 else "")
        for s in members:
            lines += _step(s)
    lines.append("")
    return "\n".join(lines)


def _destructive(s: Step) -> str:
    if s.op == "delete":
        return f"**delete** {s.label}"
    why = ", ".join(f"`{md(r)}`" for r in s.replace_reasons) or "a property"
    return f"**replace** {s.label}: {why} cannot change in place, so it is deleted and created again (new id)"


def _step(s: Step) -> list[str]:
    tag = {"replace": "**replace**", "delete": "**delete**"}.get(s.op, s.op)
    out = ["", f"{tag} {s.label}"]
    if s.op == "delete":
        return out
    moves = [c for c in s.changes if c.op == MOVED]
    others = [c for c in s.changes if c.op != MOVED]
    if moves:
        out += ["", "| moved | from | to |", "|---|---|---|"]
        for c in moves:
            out.append(f"| {c.item_type or 'item'} `{md(c.item)}` | {place(c.desired)} | {place(c.live)} |")
    if others:
        out += ["", "| property | before | after |", "|---|---|---|"]
        for c in others:
            top = c.path.split(".")[0].split("[")[0]
            note = " _(forces replacement)_" if top in s.replace_reasons else ""
            if c.item is not None and c.path.endswith(f"[{c.item}]") and c.op in (ADDED, REMOVED):
                note += f" _({'new' if c.op == ADDED else 'removed'} {c.item_type or 'item'})_"
            before = "—" if c.op == ADDED else shown(c.desired)
            after = "_(removed)_" if c.op == REMOVED else shown(c.live)
            out.append(f"| `{md(c.path)}`{note} | {before} | {after} |")
    if s.op in ("update", "replace") and not others and not moves:
        out += ["", "_(only secret or not-yet-known values differ: they are not shown)_"]
    return out
