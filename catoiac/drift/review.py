"""``catoiac review``: a ``pulumi preview --json`` as Markdown for a pull request.

A review must never look clean when it is not: an error diagnostic, a preview that stopped early,
or input that is not a preview puts a banner at the top and makes the command fail.

Layout, summary first: the stack, the counts, security loosening, destructive changes, then one line
per site or policy, then the details in ``<details>`` blocks (policies first: that is where a
reviewer's attention goes). Objects appear by name (a site from the preview, from other stacks'
states, or by id with a hint); ``import_`` adoptions as adoptions; firewall rules whole (see
``review_rules``). The comment can be cut to a size (GitHub keeps at most 65,536 characters) with a
pointer to the full report. Secrets stay ``[secret]``: the preview masks them, and a spec's secret
inputs are masked again here.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..resources import Engine
from ..resources.engine import ADOPT_KEY
from ..resources.specs import SPECS
from . import review_rules as rr
from .compare import ADDED, MOVED, REMOVED, Change, compare
from .state import SECRET, TYPE_PREFIX, StackState

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # Pulumi's "known after apply" placeholder
POLICY_SPECS = {name for name, spec in SPECS.items() if spec.policy is not None}
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
OP_ORDER = ("create", "adopt", "update", "replace", "delete", "import")
GITHUB_COMMENT_LIMIT = 65536
MEMBER_SPECS = {"SITE": "SocketSite", "HOST": "StaticHost", "SITE_NETWORK_SUBNET": "NetworkRange",
                "NETWORK_INTERFACE": "SocketInterface"}  # fmt: skip
# What identifies an object at a glance, shown next to its name (a deleted host's IP...).
BRIEF = {
    "SocketSite": ("native_range",),
    "NetworkRange": ("subnet",),
    "StaticHost": ("ip", "mac_address"),
    "BgpPeer": ("peer_ip", "peer_asn"),
    "SocketInterface": ("interface_id", "dest_type"),
}
ERROR_LINES = 12  # lines of one error shown in the banner


@dataclass
class Step:
    op: str  # Pulumi's step op, or "adopt" for a create that takes over an object (import_)
    urn: str
    spec: str
    old_id: str | None
    olds: dict[str, Any]
    news: dict[str, Any]
    replace_reasons: list[str]
    deps: Mapping[str, list[str]]
    changes: list[Change] = field(default_factory=list)
    adopt_id: str | None = None
    policy: rr.PolicyDiff | None = None
    policy_sides: tuple[dict[str, Any], dict[str, Any]] | None = None  # (before, after) of a policy

    @property
    def name(self) -> str:
        return self.urn.rsplit("::", 1)[-1]

    @property
    def inputs(self) -> dict[str, Any]:
        return self.news or self.olds

    @property
    def cato_name(self) -> str | None:
        n = self.inputs.get("name")
        return None if n in (None, UNKNOWN) else str(n)

    @property
    def label(self) -> str:
        extra = [self.cato_name] if self.cato_name and self.cato_name != self.name else []
        extra += [
            str(self.inputs[k]) for k in BRIEF.get(self.spec, ()) if self.inputs.get(k) not in (None, UNKNOWN)
        ]
        return f"{self.spec} `{self.name}`" + (f" ({' · '.join(extra)})" if extra else "")  # fmt: skip


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


def steps_of(
    preview: Mapping[str, Any], states: Iterable[StackState] = ()
) -> tuple[list[Step], dict[str, Step]]:
    """Changing steps of Cato resources, and every Cato step (unchanged too) by URN. ``states``
    (other stacks, or this one's unchanged resources) tell which addresses a site holds."""
    out, by_urn = [], {}
    for raw in preview.get("steps") or []:
        state = raw.get("newState") or raw.get("oldState") or {}
        rtype = str(state.get("type", ""))
        if not rtype.startswith(TYPE_PREFIX):
            continue
        spec = rtype[len(TYPE_PREFIX) :]
        old, new = raw.get("oldState") or {}, raw.get("newState") or {}
        adopt = (new.get("inputs") or {}).get(ADOPT_KEY)
        step = Step(
            op="adopt" if adopt and raw.get("op") == "create" else raw.get("op", ""),
            urn=raw["urn"],
            spec=spec,
            old_id=old.get("id"),
            olds=_canonical(spec, _clean(old.get("inputs"), spec)),
            news=_canonical(spec, _clean(new.get("inputs"), spec)),
            replace_reasons=list(raw.get("replaceReasons") or []),
            deps=state.get("propertyDependencies") or {},
            adopt_id=str(adopt) if adopt else None,
        )
        by_urn[step.urn] = step
        if step.op in SKIPPED:
            continue
        if spec in POLICY_SPECS:
            if step.op != "adopt":  # its changes come from policy_diff, once the sites are known
                after = step.news if step.op != "delete" else {"sections": []}
                before = step.olds if step.op in ("update", "replace", "delete") else {"sections": []}
                step.policy_sides = (before, after)
        elif step.op in ("update", "replace"):
            step.changes = compare(spec, step.olds, step.news)
        elif step.op in ("create", "import", "adopt"):
            step.changes = [Change(p, ADDED, None, v) for p, v in leaves(step.news)]
        out.append(step)
    sites = sites_of(by_urn, states)
    for step in out:
        if step.policy_sides is not None:
            step.policy = rr.policy_diff(step.spec, *step.policy_sides, sites)
            step.changes = step.policy.changes
    return out, by_urn


def sites_of(by_urn: Mapping[str, Step], states: Iterable[StackState]) -> rr.Sites:
    """The address ranges of each site, from the preview and the given states (only what the
    stacks know: a range made in the console is not seen)."""
    sites = rr.Sites()
    states = list(states)
    for st in states:
        for r in st.resources:
            if r.spec_name == SITE_SPEC:
                sites.add([("id", r.id), ("name", r.inputs.get("name"))], r.inputs.get("native_range"))
    for s in by_urn.values():
        if s.spec == SITE_SPEC:
            sites.add([("urn", s.urn), ("id", s.old_id), ("name", s.cato_name)], s.inputs.get("native_range"))
    for st in states:
        for r in st.resources:
            if r.spec_name == "NetworkRange":
                sites.add([("id", r.inputs.get("site_id"))], r.inputs.get("subnet"))
    for s in by_urn.values():
        if s.spec == "NetworkRange":
            keys = [("urn", u) for u in s.deps.get("site_id") or []] + [("id", s.inputs.get("site_id"))]
            sites.add(keys, s.inputs.get("subnet"))
    return sites


def leaves(value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """(path, value) of every leaf of nested dicts; lists are one value."""
    if isinstance(value, Mapping) and value:
        out = []
        for k in sorted(value):
            out += leaves(value[k], f"{prefix}.{k}" if prefix else str(k))
        return out
    return [(prefix, value)]


# -- is the preview whole? -------------------------------------------------------------------------
@dataclass(frozen=True)
class Problem:
    """Why the preview cannot be trusted: an error, a preview cut short, input that is no preview."""

    text: str
    where: str | None = None  # the resource it is about


def parse_preview(text: str) -> tuple[dict[str, Any] | None, list[Problem]]:
    """The preview document, or the reason it cannot be read."""
    if not text.strip():
        return None, [Problem("the preview is empty: `pulumi preview --json` printed nothing (its error is in the job log)")]  # fmt: skip
    try:
        data = json.loads(text)
    except ValueError as e:
        return None, [Problem(f"the preview is not JSON ({e}): pipe only the standard output of `pulumi preview --json`, not its errors")]  # fmt: skip
    if not isinstance(data, dict) or not ({"steps", "changeSummary", "diagnostics"} & set(data)):
        return None, [Problem("the input is not a `pulumi preview --json` document (no steps, changeSummary or diagnostics)")]  # fmt: skip
    return data, []


def problems_of(preview: Mapping[str, Any]) -> list[Problem]:
    """Error diagnostics, and signs that the preview stopped before it had seen every resource."""
    out = []
    for d in preview.get("diagnostics") or []:
        if str(d.get("severity", "")).startswith("error"):
            urn = d.get("urn")
            where = (
                f"{urn.rsplit('::', 2)[-2].rsplit(':', 1)[-1]} `{urn.rsplit('::', 1)[-1]}`" if urn else None
            )
            out.append(Problem(_condense(str(d.get("message", ""))), where))
    # A preview lists only the root stack among unchanged resources, so fewer steps than counted is
    # normal; a preview that did not finish has no change summary (or an error diagnostic).
    if not isinstance(preview.get("changeSummary"), Mapping):
        out.append(Problem("the preview has no change summary: it did not run to the end"))
    if len(out) > 1:  # Pulumi's own consequence of the first error says nothing more
        out = [p for p in out if p.text != "Resource monitor has terminated, shutting down"]
    return out


def _condense(message: str) -> str:
    """An error diagnostic as a reviewer needs it: the program's own frame of a traceback and the
    exception, without Pulumi's type-token prefix."""
    text = re.sub(r"^(error|warning): ", "", message.strip())
    text = re.sub(r"^\S+ resource '[^']*': ", "", text)
    lines = text.splitlines()
    if any(line.startswith("Traceback (most recent call last)") for line in lines):
        frames = [i for i, line in enumerate(lines) if line.lstrip().startswith('File "')]
        internal = ("site-packages", "<frozen", "pulumi-language-python-exec", "/lib/python3")
        own = [i for i in frames if not any(s in lines[i] for s in internal)]
        start = own[-1] if own else (frames[-1] if frames else 0)
        lead = [] if lines[0].startswith("Traceback") else [lines[0]]
        lines = lead + lines[start:]
    if len(lines) > ERROR_LINES:
        lines = lines[: ERROR_LINES - 1] + [f"... ({len(lines) - ERROR_LINES + 1} more lines in the job log)"]
    return "\n".join(line.rstrip() for line in lines).strip()


# -- names ------------------------------------------------------------------------------------------
class Names:
    """Cato ids -> names, from the preview itself and from other stacks' states, so the review
    names the objects a program refers to by id (a site another stack manages, group members)."""

    def __init__(self) -> None:
        self._by: dict[tuple[str, str], tuple[str, str | None]] = {}  # (spec, id) -> (name, source)
        self.states: list[StackState] = []

    def add(self, spec: str, rid: Any, name: Any, source: str | None = None) -> None:
        if rid not in (None, "", UNKNOWN) and name not in (None, "", UNKNOWN):
            self._by.setdefault((spec, str(rid)), (str(name), source))

    def add_states(self, states: Iterable[StackState]) -> None:
        for st in states:
            self.states.append(st)
            for r in st.resources:
                self.add(r.spec_name, r.id, r.inputs.get("name"), st.name)

    def __call__(self, spec: str, rid: str) -> str | None:
        found = self._by.get((spec, str(rid)))
        return found[0] if found else None

    def source(self, spec: str, rid: str) -> str | None:
        found = self._by.get((spec, str(rid)))
        return found[1] if found else None


def group_of(
    step: Step, by_urn: Mapping[str, Step], names: Names | None = None, stack: str | None = None
) -> tuple[int, str, str]:
    """(order, key, title): policies first, then sites (with what lives in them), then the rest."""
    names = names or Names()
    if step.spec == SITE_SPEC:
        return 1, step.urn, f"Site {step.cato_name or step.name}"
    if step.spec in POLICY_SPECS:
        return 0, step.urn, f"Policy {step.spec} `{step.name}`"
    spec = SPECS.get(step.spec)
    parent = spec.parent_input if spec is not None else ("site_id" if "site_id" in step.inputs else None)
    if parent:
        for urn in step.deps.get(parent) or []:
            if urn in by_urn:
                p = by_urn[urn]
                return 1, urn, f"Site {p.cato_name or p.name}"
        site_id = step.inputs.get(parent)
        for p in by_urn.values():
            if p.spec == SITE_SPEC and p.old_id and p.old_id == site_id:
                return 1, p.urn, f"Site {p.cato_name or p.name}"
        if site_id and site_id != UNKNOWN:
            found = names(SITE_SPEC, site_id)
            if found:
                src = names.source(SITE_SPEC, site_id)
                other = f" (managed by stack `{src}`)" if src and src != stack else ""
                return 1, f"site:{site_id}", f"Site {found}{other}"
            return (
                1,
                f"site:{site_id}",
                (f"Site id {site_id} (not in this stack: `--state-file` or `--names-from-stack` names it)"),
            )
    return 2, "other", "Other resources"


# -- values ------------------------------------------------------------------------------------------
def md(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def code(text: Any) -> str:
    t = md(text)
    fence = "``" if "`" in t else "`"
    pad = " " if t.startswith("`") or t.endswith("`") else ""
    return f"{fence}{pad}{t}{pad}{fence}"


def shown(v: Any) -> str:
    """A value in a table cell, whole."""
    if v is None:
        return "—"
    if v == UNKNOWN:
        return "_(known after up)_"
    if v == SECRET:
        return "`[secret]`"
    if v == "":
        return '`""`'
    return code(v if isinstance(v, str) else json.dumps(v, sort_keys=True, ensure_ascii=False))


def member_text(m: Any, names: Names) -> str:
    if not isinstance(m, Mapping):
        return str(m)
    kind = str(m.get("type", "")).lower().replace("_", " ")
    if m.get("name"):
        return f"{kind} {m['name']}"
    spec = MEMBER_SPECS.get(str(m.get("type")))
    found = names(spec, str(m.get("id"))) if spec else None
    return f"{kind} {found} (id {m.get('id')})" if found else f"{kind} id {m.get('id')}"


def value_text(step: Step, path: str, v: Any, names: Names, by_urn: Mapping[str, Step]) -> str:
    spec = SPECS.get(step.spec)
    if spec is not None and path == spec.parent_input and isinstance(v, str):
        if v == UNKNOWN:
            for urn in step.deps.get(path) or []:
                if urn in by_urn:
                    return f"_(the new site {md(by_urn[urn].cato_name or by_urn[urn].name)}, known after up)_"
            return shown(v)
        site = next((p for p in by_urn.values() if p.spec == SITE_SPEC and p.old_id == v), None)
        found = (site.cato_name if site else None) or names(SITE_SPEC, v)
        return f"{md(found)} (id {code(v)})" if found else shown(v)
    if path == "members" and isinstance(v, list):
        return ", ".join(md(member_text(m, names)) for m in v) or "_(none)_"
    return shown(v)


def _ref_namer(names: Names, by_urn: Mapping[str, Step]) -> rr.Namer:
    ids = {(s.spec, str(s.old_id)): s.cato_name for s in by_urn.values() if s.old_id and s.cato_name}

    def namer(spec: str, rid: str) -> str | None:
        return ids.get((spec, rid)) or names(spec, rid)

    return namer


def publishes(steps: list[Step]) -> int:
    return sum(PUBLISHES.get(s.op, 0) for s in steps if s.spec in POLICY_SPECS)


def _order(s: Step) -> tuple[int, str]:
    """Pulumi runs independent steps in parallel, so the preview's order varies: sort by kind
    of change, then URN, for a review that reads the same every time."""
    return (OP_ORDER.index(s.op) if s.op in OP_ORDER else len(OP_ORDER), s.urn)


# -- findings a reviewer must see ---------------------------------------------------------------------
def destructive(steps: Iterable[Step]) -> list[str]:
    """Replacements, deletions, and firewall rules or sections that stop existing."""
    out = []
    for s in steps:
        if s.op in DESTRUCTIVE:
            out.append(_destructive(s))
        if s.policy is None or s.op == "delete":
            continue
        for rc in s.policy.rules:
            if rc.kind == "removed":
                out.append(f"{s.spec} `{s.name}`: rule {code(rc.old_name)} removed (was {md(rc.old_place)}, {rr.action(s.spec, rc.old)})")  # fmt: skip
            elif rc.destructive:
                out.append(f"{s.spec} `{s.name}`: rule {code(rc.old_name)} is rewritten in place as {code(rc.new_name)} (the provider keeps the Cato rule and replaces its body)")  # fmt: skip
        for sc in s.policy.sections:
            if sc.kind == "removed":
                out.append(f"{s.spec} `{s.name}`: section {code(sc.name)} removed")
    return out


def loosening(steps: Iterable[Step]) -> list[str]:
    """Every change that lets through traffic that was stopped before."""
    out = []
    for s in steps:
        if s.policy is None:
            continue
        for rc, why in s.policy.loosening:
            where = rc.new_place or rc.old_place
            out.append(f"{s.spec} `{s.name}` · rule {code(rc.name)} ({md(where)}): {md(why)}")
    return out


def _destructive(s: Step) -> str:
    if s.op in ("delete", "delete-replaced"):
        extra = ""
        if s.policy is not None:
            n = len(s.policy.rules)
            blocks = sum(1 for rc in s.policy.rules if rr.action(s.spec, rc.old) == "BLOCK")
            extra = f": removes its {n} rule(s), {blocks} of them BLOCK"
        return f"**delete** {s.label}{extra}"
    why = ", ".join(f"`{md(r)}`" for r in s.replace_reasons) or "a property"
    return f"**replace** {s.label}: {why} cannot change in place, so it is deleted and created again (new id)"


# -- the report ----------------------------------------------------------------------------------------
@dataclass
class Block:
    """One resource's details: a ``<details>`` block whose parts can be cut to fit a size."""

    group: str
    op: str
    summary: str  # HTML
    parts: list[str]
    open: bool = False


@dataclass
class Report:
    stack: str | None
    project: str | None
    problems: list[Problem]
    steps: list[Step]
    by_urn: dict[str, Step]
    summary: Mapping[str, Any]
    names: Names
    warnings: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return bool(self.problems)

    @property
    def destructive(self) -> list[str]:
        return destructive(self.steps)

    @property
    def loosening(self) -> list[str]:
        return loosening(self.steps)

    def markdown(self, limit: int | None = None, pointer: str | None = None) -> str:
        """The review; with ``limit``, at most that many bytes (UTF-8), details cut first."""
        blocks = self._blocks()
        if sum(len(p) for b in blocks for p in b.parts) < 12000:  # small: everything open
            for b in blocks:
                b.open = True
        head = self._head(blocks)
        full = _assemble(head, blocks, None)
        if limit is None or _size(full[0]) <= limit:
            return full[0]
        pointer = pointer or "run `catoiac review --full-output FILE` for the full report"
        note = (
            f"\n> [!NOTE]\n> **Details are cut to fit a pull-request comment.** The full review: {pointer}.\n"
        )
        head = head + note
        budget = limit - 400 - len(pointer.encode())  # the closing note
        text, shown_steps, cut = _assemble(head, blocks, budget)
        if _size(head) > budget:  # even the summary is too long: keep what fits of it
            text = _cut_text(head, budget)
        total = len(blocks)
        hidden = total - shown_steps - (1 if cut else 0)
        more = ", and part of one more," if cut else ""
        text += f"\n---\n_{hidden} of {total} resource change(s){more} are not shown here. Full review: {pointer}._\n"
        return text

    # -- parts ------------------------------------------------------------------------------------
    def _title(self) -> str:
        if self.stack:
            project = f" (project `{md(self.project)}`)" if self.project else ""
            return f"## Pulumi preview review · stack `{md(self.stack)}`{project}"
        return "## Pulumi preview review · stack unknown (pass `--stack`)"

    def _head(self, blocks: list[Block]) -> str:
        lines = [self._title(), ""]
        if self.problems:
            lines += _banner(self.problems) + [""]
        summary = self.summary or {}
        adopts = sum(1 for s in self.steps if s.op == "adopt")
        counts = {**summary, "create": (summary.get("create") or 0) - adopts, "adopt": adopts}
        note = {"adopt": " (`import_`: no change in Cato)"}
        parts = [f"{counts[op]} to {op}{note.get(op, '')}" for op in OP_ORDER if counts.get(op)]
        if summary.get("same"):
            parts.append(f"{summary['same']} unchanged")
        n = publishes(self.steps)
        if self.problems:
            lines.append("_What the failed preview got to see, which is not all of it:_")
        lines.append(("**" + " · ".join(parts) + "**") if parts else "**No changes.**")
        lines.append(
            f"Policy publishes on `up`: **{n}**"
            + (" (one revision per changed policy resource)" if n else "")
        )
        loose, gone = self.loosening, self.destructive
        if loose:
            lines += ["", "> [!CAUTION]", f"> **Security loosening: {len(loose)}**"]
            lines += _capped([f"> - {x}" for x in loose], "> ")
        if gone:
            lines += ["", "> [!WARNING]", f"> **{len(gone)} destructive change(s)**"]
            lines += _capped([f"> - {x}" for x in gone], "> ")
        if self.warnings:
            lines += ["", f"<details><summary>{len(self.warnings)} warning(s) from pulumi</summary>", ""]
            lines += [f"- {md(w)}" for w in self.warnings] + ["", "</details>"]
        if blocks:
            lines += ["", "| | changes |", "|---|---|"]
            groups: dict[str, list[Block]] = {}
            for b in blocks:
                groups.setdefault(b.group, []).append(b)
            rows = [f"| {md(g)} | {self._overview(bs)} |" for g, bs in groups.items()]
            lines += _capped(rows, "| ", cap=150)
        return "\n".join(lines) + "\n"

    def _overview(self, blocks: list[Block]) -> str:
        ops: dict[str, int] = {}
        for b in blocks:
            ops[b.op] = ops.get(b.op, 0) + 1
        return " · ".join(f"{op} {n}" for op, n in ops.items())

    def _blocks(self) -> list[Block]:
        groups: dict[str, tuple[int, str, list[Step]]] = {}
        for s in self.steps:
            order, key, title = group_of(s, self.by_urn, self.names, self.stack)
            groups.setdefault(key, (order, title, []))[2].append(s)
        out = []
        for _, title, members in sorted(groups.values(), key=lambda g: (g[0], g[1])):
            for s in sorted(members, key=lambda s: (s.spec != SITE_SPEC, _order(s))):
                out.append(self._block(title, s))
        return out

    def _block(self, group: str, s: Step) -> Block:
        tag = {"replace": "<b>replace</b>", "delete": "<b>delete</b>", "adopt": "adopt"}.get(s.op, s.op)
        label = html.escape(s.label).replace("`", "")
        name = html.escape(s.name)
        label = label.replace(f" {name}", f" <code>{name}</code>", 1)
        if s.policy is not None:
            label += html.escape(_policy_counts(s))
        if s.spec in POLICY_SPECS and publishes([s]):
            label += f" · {publishes([s])} publish" + ("es" if publishes([s]) > 1 else "")
        parts: list[str] = []
        if s.op == "adopt":
            parts.append(
                f"Takes over the existing Cato object id {code(s.adopt_id)} (`import_`): `up` checks that it "
                "matches the program and writes nothing to Cato."
            )
        if s.spec in POLICY_SPECS and s.op == "adopt":
            parts += [", ".join(f"section {code(x.get('name'))}: {len(x.get('rules') or [])} rule(s)" for x in s.news.get("sections") or [])]  # fmt: skip
        elif s.spec in POLICY_SPECS:
            parts += self._policy_parts(s)
        else:
            parts += self._property_parts(s)
        return Block(group, s.op, f"{tag} {label}", parts)

    def _property_parts(self, s: Step) -> list[str]:
        v = lambda path, x: value_text(s, path, x, self.names, self.by_urn)  # noqa: E731
        if s.op in ("delete", "delete-replaced"):
            rows = [f"| `{md(p)}` | {v(p, x)} |" for p, x in leaves(s.olds)]
            return ["| property | value (deleted) |\n|---|---|\n" + "\n".join(rows)] if rows else []
        if s.op in ("create", "import", "adopt", "create-replacement"):
            rows = [f"| `{md(c.path)}` | {v(c.path, c.live)} |" for c in s.changes]
            return ["| property | value |\n|---|---|\n" + "\n".join(rows)] if rows else []
        rows = []
        for path, before, after in self._rows(s):
            top = path.split(".")[0].split("[")[0]
            note = " _(forces replacement)_" if top in s.replace_reasons else ""
            rows.append(f"| `{md(path)}`{note} | {before if before is not None else '—'} | {after} |")
        if not rows:
            return ["_(only secret or not-yet-known values differ: they are not shown)_"]
        return ["| property | before | after |\n|---|---|---|\n" + "\n".join(rows)]

    def _rows(self, s: Step) -> list[tuple[str, str | None, str]]:
        """(path, before, after) of an update; a list property (group members...) is one row, whole,
        with what it gains and loses."""
        v = lambda path, x: value_text(s, path, x, self.names, self.by_urn)  # noqa: E731
        out: list[tuple[str, str | None, str]] = []
        lists = set()
        for c in s.changes:
            top = c.path.split(".")[0].split("[")[0]
            if isinstance(s.olds.get(top), list) or isinstance(s.news.get(top), list):
                if top not in lists:
                    lists.add(top)
                    old, new = s.olds.get(top) or [], s.news.get(top) or []
                    gained = [x for x in new if x not in old]
                    lost = [x for x in old if x not in new]
                    delta = "; ".join(
                        ([f"adds {v(top, gained)}"] if gained else []) + ([f"drops {v(top, lost)}"] if lost else [])
                    )  # fmt: skip
                    out.append((top, v(top, old), v(top, new) + (f"<br>_({delta})_" if delta else "")))
                continue
            before = None if c.op == ADDED else v(c.path, c.desired)
            after = "_(removed)_" if c.op == REMOVED else v(c.path, c.live)
            out.append((c.path, before, after))
        return out

    def _policy_parts(self, s: Step) -> list[str]:
        assert s.policy is not None
        namer = _ref_namer(self.names, self.by_urn)
        out = []
        lines = []
        for sc in s.policy.sections:
            if sc.kind == "added":
                lines.append(f"- new section {code(sc.name)}, {sc.place}")
            elif sc.kind == "removed":
                lines.append(f"- **section {code(sc.name)} removed**")
            elif sc.kind == "renamed":
                lines.append(f"- section {code(sc.old_name)} renamed to {code(sc.name)} (same Cato section)")
            elif sc.kind == "moved":
                lines.append(f"- section {code(sc.name)} moved: now {sc.place}")
        if s.policy.refused:
            lines.append(f"- _rules are paired by name only: the provider's planner refuses this change ({md(s.policy.refused)})_")  # fmt: skip
        if lines:
            out.append("\n".join(lines))
        for rc in s.policy.rules:
            out.append(rule_card(s.spec, rc, namer))
        rest = [c for c in s.changes if c.item_type is None and c.op != MOVED]
        if rest and s.op != "delete":
            rows = [f"| `{md(c.path)}` | {shown(c.desired) if c.op != ADDED else '—'} | {shown(c.live) if c.op != REMOVED else '_(removed)_'} |" for c in rest]  # fmt: skip
            out.append("| property | before | after |\n|---|---|---|\n" + "\n".join(rows))
        if not out and s.op in ("update", "replace"):
            out.append("_(only secret or not-yet-known values differ: they are not shown)_")
        return out


def _policy_counts(s: Step) -> str:
    assert s.policy is not None
    kinds: dict[str, int] = {}
    for rc in s.policy.rules:
        kinds[rc.kind] = kinds.get(rc.kind, 0) + 1
    words = {
        "added": "new",
        "removed": "removed",
        "modified": "changed",
        "moved": "moved",
        "rewritten": "rewritten",
    }
    text = ", ".join(f"{n} {words[k]}" for k, n in kinds.items())
    return f": rules {text}" if text else ""


def _banner(problems: list[Problem]) -> list[str]:
    lines = [
        "> [!CAUTION]",
        "> **The preview failed: this review is incomplete. Do not approve it; fix the errors and push again.**",
        ">",
    ]
    for p in problems:
        text = p.text
        if "\n" in text:
            first, rest = text.split("\n", 1)
            fence = "~~~~"
            lines.append(f"> - {p.where + ': ' if p.where else ''}{md(first)}")
            lines += [f">   {fence}", *[f">   {line}" for line in rest.splitlines()], f">   {fence}"]
        else:
            lines.append(f"> - {p.where + ': ' if p.where else ''}{md(text)}")
    return lines


def _capped(lines: list[str], prefix: str, cap: int = 40) -> list[str]:
    if len(lines) <= cap:
        return lines
    more = f"{prefix}... and {len(lines) - cap} more (see the full review)"
    return lines[:cap] + ([more] if prefix.startswith(">") else [f"| ... | {len(lines) - cap} more |"])


def _size(text: str) -> int:
    return len(text.encode())


def _cut_text(text: str, budget: int) -> str:
    out, size = [], 0
    for line in text.splitlines(keepends=True):
        if size + _size(line) > budget:
            break
        out.append(line)
        size += _size(line)
    return "".join(out)


def _assemble(head: str, blocks: list[Block], budget: int | None) -> tuple[str, int, bool]:
    """head, then the blocks under their group headings, while they fit ``budget`` bytes:
    (text, blocks shown whole, whether one was cut short)."""
    out = [head]
    size = _size(head)
    group = None
    whole = 0
    for b in blocks:
        heading = f"\n### {md(b.group)}\n" if b.group != group else ""
        opening = f"{heading}\n<details{' open' if b.open else ''}><summary>{b.summary}</summary>\n\n"
        closing = "</details>\n"
        if budget is not None and size + _size(opening) + _size(closing) > budget:
            return "".join(out), whole, False
        group = b.group
        out.append(opening)
        size += _size(opening) + _size(closing)
        for i, part in enumerate(b.parts):
            chunk = part + "\n\n"
            if budget is not None and size + _size(chunk) > budget:
                out.append(f"_... {len(b.parts) - i} more part(s) of this change are in the full review._\n")
                out.append(closing)
                return "".join(out), whole, True
            out.append(chunk)
            size += _size(chunk)
        out.append(closing)
        whole += 1
    return "".join(out), whole, False


def rule_card(spec: str, rc: rr.RuleChange, names: rr.Namer = rr.no_names) -> str:
    """A changed rule, whole: a heading saying what happens to it and where, and its rows."""
    n = code(rc.name)
    if rc.kind == "added":
        title = f"**new rule {n}** at {md(rc.new_place.describe())}"  # type: ignore[union-attr]
    elif rc.kind == "removed":
        title = f"**rule {n} removed** (was {md(rc.old_place)})"
    elif rc.kind == "rewritten":
        title = (
            f"**rule {code(rc.old_name)} rewritten in place as {n}** at {md(rc.new_place)}: the provider "
            "keeps the Cato rule (same id), renames it and replaces its body"
        )
    else:
        title = f"**rule {n}** at {md(rc.new_place)}"
    if rc.moved and rc.old_place and rc.new_place:
        title += f" · moved from {md(rc.old_place)}"
    before, after = rr.facets(spec, rc.old, names), rr.facets(spec, rc.new, names)
    if rc.old is not None and rc.new is not None and set(before) != set(after):  # show defaults opposite
        both = [*before, *after]
        before, after = rr.facets(spec, rc.old, names, both), rr.facets(spec, rc.new, names, both)
    lines = [title]
    if rc.loosening:
        lines[0] += "\n\n" + "\n".join(f"⚠️ **loosens security:** {md(w)}" for w in rc.loosening)
    keys = list(dict.fromkeys([*before, *after]))
    if rc.kind == "added":
        rows = [f"| {k} | {md(after[k])} |" for k in keys]
        return "\n".join(lines) + "\n\n| | rule |\n|---|---|\n" + "\n".join(rows)
    if rc.kind == "removed":
        rows = [f"| {k} | {md(before[k])} |" for k in keys]
        return "\n".join(lines) + "\n\n| | rule (removed) |\n|---|---|\n" + "\n".join(rows)
    rows = []
    for k in keys:
        a, b = before.get(k, "—"), after.get(k, "—")
        label = f"**{k}**" if a != b else k
        rows.append(f"| {label} | {md(a)} | {md(b) if a == b else '**' + md(b) + '**'} |")
    if rc.old_name != rc.new_name:
        rows.insert(0, f"| **name** | {md(rc.old_name)} | **{md(rc.new_name)}** |")
    return "\n".join(lines) + "\n\n| | before | after |\n|---|---|---|\n" + "\n".join(rows)


def build(
    preview: Mapping[str, Any] | None,
    *,
    stack: str | None = None,
    names: Names | None = None,
    problems: list[Problem] | None = None,
) -> Report:
    """The review of a parsed preview (None: unreadable input, described by ``problems``)."""
    preview = preview or {}
    problems = list(problems or []) + (problems_of(preview) if preview else [])
    names = names or Names()
    steps, by_urn = steps_of(preview, names.states)
    for s in by_urn.values():
        names.add(s.spec, s.old_id, s.olds.get("name") or s.news.get("name"))
    urn_stack, project = _stack_of(preview)
    warnings = [
        _condense(str(d.get("message", "")))
        for d in preview.get("diagnostics") or []
        if str(d.get("severity", "")).startswith("warning")
    ]
    return Report(
        stack=urn_stack or stack,
        project=project,
        problems=problems,
        steps=sorted(steps, key=_order),
        by_urn=by_urn,
        summary=preview.get("changeSummary") or {},
        names=names,
        warnings=warnings,
    )


def _stack_of(preview: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """The stack and project from the URNs (``urn:pulumi:<stack>::<project>::...``)."""
    for raw in preview.get("steps") or []:
        m = re.match(r"^urn:pulumi:([^:]+)::([^:]+)::", str(raw.get("urn", "")))
        if m:
            return m.group(1), m.group(2)
    return None, None


def review(preview: Mapping[str, Any], **kwargs: Any) -> str:
    """The whole review as Markdown (no size limit)."""
    return build(preview, **kwargs).markdown()
