"""Plan the changes that take a policy's owned sections from their live state to the desired one.

Pure data in, pure data out: ``plan(live, owned, desired)`` returns the ordered operations (Cato's
addRule/updateRule/moveRule/removeRule and the section equivalents) that one revision applies;
``simulate`` replays operations the way Cato lays a policy out, and ``plan`` checks its own result
with it before anything is written.

Ownership and placement (the resource's documented contract):

- The resource owns the sections it names (``owned``: their ids) and every rule in them; other
  sections and their rules are never touched, moved or referenced except as a position anchor.
- Owned sections keep their declared relative order. A section that does not exist yet goes right
  after the owned section declared before it; the first declared one goes before the next owned
  section, or, when the resource owns none yet, at the end of the policy (or right after
  ``after_section``, a section of someone else). Foreign sections between owned ones stay put.
- Rules and sections are matched by name. A desired item whose name matches nothing takes the
  unmatched live item at the same place (same owned-section index, same rule index): a rename is
  an update, not a delete and an add. Positions are fixed with the fewest moves: the longest run
  already in the right relative order stays, everything else is moved after its predecessor.
- Order of operations: remove rules, remove sections (their remaining rules join the section above
  and are moved out later), rename sections, add/move sections, then section by section
  add/move/update rules. Names are unique per policy, so removals come first.
- Sub-rules (``sub_key``: socketLan's LAN rules hold ``firewall`` rules): an ordered list inside a
  rule, owned with it and planned the same way, within that rule only (matched by name, then by
  place; a sub-rule that changes parent is removed and added). Right after its parent rule is
  placed: remove, then add/move/update its sub-rules (``addSubRule``...: Cato's
  ``policy.socketLan.firewall`` mutations, positioned ``FIRST_IN_RULE`` or ``AFTER_SUB_RULE``).
  A removed rule takes its sub-rules with it.
"""

from __future__ import annotations

import bisect
import copy
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import CatoError


class PlanError(CatoError):
    """The desired policy cannot be applied as declared; nothing was written."""


@dataclass(frozen=True)
class New:
    """An object this plan adds: its id is known only once the add has run."""

    key: str

    def __str__(self) -> str:
        return f"<new {self.key}>"


Ref = str | New


@dataclass
class Rule:
    id: Ref
    name: str
    body: dict[str, Any] = field(default_factory=dict)  # canonical inputs, name included
    system: bool = False  # Cato's read-only rules at the head of the first section
    subs: list[Rule] = field(default_factory=list)  # sub-rules, in order (socketLan's `firewall`)


@dataclass
class Section:
    id: Ref  # "" for the rules of a policy that has no sections
    name: str
    rules: list[Rule] = field(default_factory=list)


@dataclass(frozen=True)
class Op:
    kind: str  # addRule updateRule moveRule removeRule addSection updateSection moveSection removeSection
    # and, for sub-rules, addSubRule updateSubRule moveSubRule removeSubRule
    target: Ref
    name: str
    body: dict[str, Any] | None = None
    position: str | None = None
    ref: Ref | None = None

    def describe(self) -> str:
        what = "section" if self.kind.endswith("Section") else "sub-rule" if self.is_sub else "rule"
        where = (
            f" {self.position}" + (f" {self.ref}" if self.ref is not None else "") if self.position else ""
        )
        return f"{self.kind} {what} {self.name!r}{where}"

    @property
    def is_sub(self) -> bool:
        return self.kind.endswith("SubRule")


def _lis(keys: Sequence[int]) -> set[int]:
    """Positions of a longest strictly increasing subsequence of ``keys``."""
    tails: list[int] = []  # keys
    tail_pos: list[int] = []  # position of each tail
    prev = [-1] * len(keys)
    for i, k in enumerate(keys):
        j = bisect.bisect_left(tails, k)
        if j == len(tails):
            tails.append(k)
            tail_pos.append(i)
        else:
            tails[j], tail_pos[j] = k, i
        prev[i] = tail_pos[j - 1] if j else -1
    out, i = set(), tail_pos[-1] if tail_pos else -1
    while i >= 0:
        out.add(i)
        i = prev[i]
    return out


def _desired_rules(d: Mapping[str, Any]) -> list[dict[str, Any]]:
    return list(d.get("rules") or [])


def split(body: Mapping[str, Any], sub_key: str | None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A desired rule -> (its own body, its sub-rules' bodies)."""
    if not sub_key:
        return dict(body), []
    return {k: v for k, v in body.items() if k != sub_key}, list(body.get(sub_key) or [])


def plan(
    live: Sequence[Section],
    owned: Iterable[Ref],
    desired: Sequence[Mapping[str, Any]],
    *,
    after_section: str | None = None,
    deleting: bool = False,
    rules: Iterable[Ref] = (),
    sub_key: str | None = None,
) -> list[Op]:
    """Operations taking the owned sections of ``live`` to ``desired`` ([{name, rules: [body]}]).
    ``rules``: ids of rules this resource owns that sit in a section it does not own (moved there out
    of band): moved back where declared. One no longer declared is released, left where it is: it
    sits in someone else's section now (accepting such a move is deleting the rule from the code).
    ``sub_key``: the rule input holding sub-rules (their live state is ``Rule.subs``).
    Raises PlanError, before anything is written, when the desired policy cannot be applied."""
    owned = set(owned)
    strays = set(rules)
    first = live[0].id if live and live[0].id else None  # Cato keeps the first section first
    mine = [s for s in live if s.id and s.id in owned]
    theirs = [s for s in live if not (s.id and s.id in owned)]
    _validate(live, mine, theirs, desired, strays)
    anchor = None
    if after_section is not None and not mine and desired:  # only needed to place the first section
        anchor = next((s.id for s in theirs if s.id and s.name == after_section), None)
        if anchor is None:
            raise PlanError(
                f"after_section: the policy has no section named {after_section!r} besides this resource's "
                "own: name an existing section of the policy, or leave after_section unset"
            )

    # Sections: by name, then leftovers by owned position (a rename).
    pair: dict[int, Section] = {}
    by_name = {s.name: s for s in mine}
    for i, d in enumerate(desired):
        if d["name"] in by_name:
            pair[i] = by_name[d["name"]]
    paired = {s.id for s in pair.values()}
    leftovers = [s for s in mine if s.id not in paired]
    for i, s in zip([i for i in range(len(desired)) if i not in pair], leftovers, strict=False):
        pair[i] = s
        paired.add(s.id)
    dropped_sections = [s for s in mine if s.id not in paired]

    # Rules: by name, then an unmatched desired rule takes the unmatched live rule at its place.
    live_rules = {r.name: r for s in mine for r in s.rules if not r.system}
    live_rules |= {r.name: r for s in theirs for r in s.rules if r.id in strays}
    wanted = {r["name"] for d in desired for r in _desired_rules(d)}
    match: dict[tuple[int, int], Rule] = {}
    for i, d in enumerate(desired):
        for j, r in enumerate(_desired_rules(d)):
            if r["name"] in live_rules:
                match[(i, j)] = live_rules[r["name"]]
    matched = {r.id for r in match.values()}
    for i, d in enumerate(desired):
        own = [r for r in pair[i].rules if not r.system] if i in pair else []
        for j, _ in enumerate(_desired_rules(d)):
            cand = own[j] if j < len(own) else None
            if (i, j) not in match and cand and cand.id not in matched and cand.name not in wanted:
                match[(i, j)] = cand
                matched.add(cand.id)

    ops: list[Op] = [
        Op("removeRule", r.id, r.name) for s in mine for r in s.rules if not r.system and r.id not in matched
    ]
    for s in dropped_sections:
        if s.id == first:
            if deleting:
                continue  # Cato cannot remove the policy's first section: it is left, empty
            raise PlanError(
                f"section {s.name!r} is the first section of the policy, which Cato can neither move nor "
                "remove: keep it in `sections`"
            )
        ops.append(Op("removeSection", s.id, s.name))
    for i, s in sorted(pair.items()):
        if s.name != desired[i]["name"]:
            ops.append(Op("updateSection", s.id, desired[i]["name"]))

    refs = _place_sections(ops, mine, pair, desired, first, anchor, live)
    for i, d in enumerate(desired):
        _place_rules(ops, i, d, pair.get(i), refs[i], match, sub_key)

    # Self-check on a simulated policy before anything is written.
    reclaimed = strays & matched
    if shape(simulate(live, ops), owned) != _expected(
        live, owned, desired, deleting, first, sub_key, reclaimed
    ):
        raise PlanError("internal error: the planned operations do not reach the declared policy")
    return ops


def _validate(live, mine, theirs, desired, strays=frozenset()) -> None:
    their_sections = {s.name: s for s in theirs if s.id}
    their_rules = {r.name: s for s in theirs for r in s.rules if r.id not in strays}
    their_rules.update({r.name: s for s in mine for r in s.rules if r.system})
    for i, d in enumerate(desired):
        if d["name"] in their_sections:
            raise PlanError(
                f"sections[{i}]: a section named {d['name']!r} already exists in the policy and is not owned "
                "by this resource: import it (see the resource's id format) or pick another name"
            )
        for j, r in enumerate(_desired_rules(d)):
            if r["name"] in their_rules:
                where = their_rules[r["name"]].name or "(no section)"
                raise PlanError(
                    f"sections[{i}].rules[{j}]: the rule name {r['name']!r} is already used in section {where!r}, "
                    "which this resource does not own; rule names are unique in a policy: pick another"
                )
    adds_sections = len(desired) > len(mine)
    if adds_sections and not any(s.id for s in live) and any(s.rules for s in live):
        raise PlanError(
            "the policy has rules but no sections, and Cato would put them all into the first section "
            "added: create a section for them in the Cato console first"
        )


def _place_sections(ops, mine, pair, desired, first, anchor, live) -> dict[int, Ref]:
    di = {s.id: i for i, s in pair.items()}
    order = [s for s in mine if s.id in di]  # live order
    keys = [di[s.id] for s in order]
    if order and order[0].id == first:  # the first section cannot move: keep it, and what fits after it
        rest = [p for p in range(1, len(keys)) if keys[p] > keys[0]]
        kept = {order[0].id} | {order[rest[p]].id for p in _lis([keys[q] for q in rest])}
    else:
        kept = {order[p].id for p in _lis(keys)}
    refs: dict[int, Ref] = {}
    prev: Ref | None = None
    for i, d in enumerate(desired):
        s = pair.get(i)
        if s is not None and s.id in kept:
            refs[i] = prev = s.id
            continue
        if prev is not None:
            position, ref = "AFTER_SECTION", prev
        else:
            nxt = next(
                (pair[k].id for k in range(i + 1, len(desired)) if k in pair and pair[k].id in kept), None
            )
            if nxt is not None and nxt == first:
                raise PlanError(
                    f"sections[{i}]: {d['name']!r} is declared before {pair[di[first]].name!r}, the first section "
                    "of the policy, which Cato keeps first: declare it after"
                )
            if nxt is not None:
                position, ref = "BEFORE_SECTION", nxt
            elif anchor is not None:
                position, ref = "AFTER_SECTION", anchor
            else:
                position, ref = "LAST_IN_POLICY", None
        if s is None:
            refs[i] = New(f"section:{d['name']}")
            ops.append(Op("addSection", refs[i], d["name"], position=position, ref=ref))
        else:
            refs[i] = s.id
            ops.append(Op("moveSection", s.id, d["name"], position=position, ref=ref))
        prev = refs[i]
    return refs


def _place_rules(ops, i, d, section: Section | None, sref: Ref, match, sub_key: str | None) -> None:
    rules = _desired_rules(d)
    at = {match[(i, j)].id: j for j in range(len(rules)) if (i, j) in match}
    current = [r.id for r in (section.rules if section else []) if not r.system and r.id in at]
    kept = {current[p] for p in _lis([at[rid] for rid in current])}
    prev: Ref | None = None
    for j, full in enumerate(rules):
        body, subs = split(full, sub_key)
        r = match.get((i, j))
        if r is None or r.id not in kept:
            position, ref = ("AFTER_RULE", prev) if prev is not None else ("FIRST_IN_SECTION", sref)
            if r is None:
                prev = New(f"rule:{body['name']}")
                ops.append(Op("addRule", prev, body["name"], body=body, position=position, ref=ref))
                _place_subs(ops, prev, body["name"], [], subs)
                continue
            ops.append(Op("moveRule", r.id, body["name"], position=position, ref=ref))
        prev = r.id
        if r.body != body:
            ops.append(Op("updateRule", r.id, body["name"], body=body))
        _place_subs(ops, r.id, body["name"], r.subs, subs)


def _place_subs(ops, parent: Ref, parent_name: str, live: list[Rule], desired: list[dict[str, Any]]) -> None:
    """Sub-rules of one rule: matched by name, then by place; removals first."""
    by_name = {s.name: s for s in live}
    match = {k: by_name[b["name"]] for k, b in enumerate(desired) if b["name"] in by_name}
    matched = {s.id for s in match.values()}
    wanted = {b["name"] for b in desired}
    for k in range(len(desired)):
        cand = live[k] if k < len(live) else None
        if k not in match and cand and cand.id not in matched and cand.name not in wanted:
            match[k] = cand
            matched.add(cand.id)
    ops += [Op("removeSubRule", s.id, s.name) for s in live if s.id not in matched]
    at = {match[k].id: k for k in match}
    current = [s.id for s in live if s.id in at]
    kept = {current[p] for p in _lis([at[sid] for sid in current])}
    prev: Ref | None = None
    for k, body in enumerate(desired):
        s = match.get(k)
        if s is None or s.id not in kept:
            position, ref = ("AFTER_SUB_RULE", prev) if prev is not None else ("FIRST_IN_RULE", parent)
            if s is None:
                prev = New(f"sub:{parent_name}/{body['name']}")
                ops.append(Op("addSubRule", prev, body["name"], body=body, position=position, ref=ref))
                continue
            ops.append(Op("moveSubRule", s.id, body["name"], position=position, ref=ref))
        prev = s.id
        if s.body != body:
            ops.append(Op("updateSubRule", s.id, body["name"], body=body))


# -- simulation -----------------------------------------------------------------------------------
def simulate(live: Sequence[Section], ops: Iterable[Op]) -> list[Section]:
    """The policy after ``ops``, laid out as Cato does (see the emulator's policy model)."""
    secs = copy.deepcopy(list(live)) or [Section("", "")]
    for op in ops:
        if op.is_sub:
            _sim_sub(secs, op)
        elif op.kind.endswith("Rule"):
            _sim_rule(secs, op)
        else:
            _sim_section(secs, op)
    return secs


def _find_rule(secs: list[Section], rid: Ref) -> tuple[Section, int]:
    for s in secs:
        for k, r in enumerate(s.rules):
            if r.id == rid:
                return s, k
    raise PlanError(f"internal error: no rule {rid}")


def _find_sub(secs: list[Section], sid: Ref) -> tuple[Rule, int]:
    for s in secs:
        for r in s.rules:
            for k, x in enumerate(r.subs):
                if x.id == sid:
                    return r, k
    raise PlanError(f"internal error: no sub-rule {sid}")


def _find_section(secs: list[Section], sid: Ref) -> int:
    for k, s in enumerate(secs):
        if s.id and s.id == sid:
            return k
    raise PlanError(f"internal error: no section {sid}")


def _top(s: Section) -> int:
    return next((k for k, r in enumerate(s.rules) if not r.system), len(s.rules))


def _sim_rule(secs: list[Section], op: Op) -> None:
    if op.kind == "addRule":
        rule = Rule(op.target, op.name, dict(op.body or {}))
    else:
        s, k = _find_rule(secs, op.target)
        if op.kind == "updateRule":
            s.rules[k].name, s.rules[k].body = op.name, dict(op.body or {})
            return
        rule = s.rules.pop(k)
        if op.kind == "removeRule":
            return
    if op.position == "LAST_IN_POLICY":
        secs[-1].rules.append(rule)
    elif op.position == "FIRST_IN_POLICY":
        secs[0].rules.insert(_top(secs[0]), rule)
    elif op.position in ("FIRST_IN_SECTION", "LAST_IN_SECTION"):
        s = secs[_find_section(secs, op.ref)]
        s.rules.insert(_top(s) if op.position == "FIRST_IN_SECTION" else len(s.rules), rule)
    else:
        s, k = _find_rule(secs, op.ref)
        s.rules.insert(k + (op.position == "AFTER_RULE"), rule)


def _sim_sub(secs: list[Section], op: Op) -> None:
    if op.kind == "addSubRule":
        sub = Rule(op.target, op.name, dict(op.body or {}))
    else:
        parent, k = _find_sub(secs, op.target)
        if op.kind == "updateSubRule":
            parent.subs[k].name, parent.subs[k].body = op.name, dict(op.body or {})
            return
        sub = parent.subs.pop(k)
        if op.kind == "removeSubRule":
            return
    if op.position in ("FIRST_IN_RULE", "LAST_IN_RULE"):
        s, k = _find_rule(secs, op.ref)
        subs = s.rules[k].subs
        subs.insert(0 if op.position == "FIRST_IN_RULE" else len(subs), sub)
    else:
        parent, k = _find_sub(secs, op.ref)
        parent.subs.insert(k + (op.position == "AFTER_SUB_RULE"), sub)


def _sim_section(secs: list[Section], op: Op) -> None:
    if op.kind == "addSection":
        sec = Section(op.target, op.name)
        if not secs[0].id:  # the first section takes every rule of the policy
            secs[0].id, secs[0].name = op.target, op.name
            return
    else:
        k = _find_section(secs, op.target)
        if op.kind == "updateSection":
            secs[k].name = op.name
            return
        if k == 0:
            raise PlanError(f"internal error: section {secs[k].name!r} is first and cannot {op.kind}")
        sec = secs.pop(k)
        if op.kind == "removeSection":
            secs[k - 1].rules.extend(sec.rules)
            return
    if op.position == "LAST_IN_POLICY":
        secs.append(sec)
    else:
        k = _find_section(secs, op.ref)
        secs.insert(k + (op.position == "AFTER_SECTION"), sec)


def _owned(s: Section, owned: set[Ref]) -> bool:
    return isinstance(s.id, New) or bool(s.id and s.id in owned)


def _rule_shape(name: str, body: Mapping[str, Any], subs: Sequence[tuple[str, Any]]) -> tuple:
    return (name, dict(body), list(subs)) if subs else (name, dict(body))


def shape(secs: Sequence[Section], owned: set[Ref]) -> list[Any]:
    """What a plan must preserve or reach: foreign sections with their rule ids (sorted: where they
    sit between owned ones is not the plan's business), then owned ones in order, with rule bodies
    (and sub-rules)."""
    foreign = [(s.id, [r.id for r in s.rules]) for s in secs if not _owned(s, owned) and (s.id or s.rules)]
    mine = [
        (
            s.name,
            [
                _rule_shape(r.name, r.body, [(x.name, x.body) for x in r.subs])
                for r in s.rules
                if not r.system
            ],
        )
        for s in secs
        if _owned(s, owned)
    ]
    return sorted(foreign, key=repr) + mine


def _expected(live, owned, desired, deleting, first, sub_key=None, strays=frozenset()) -> list[Any]:
    # Foreign sections keep their rules, but for the strays this resource takes back.
    kept = [(s, [r.id for r in s.rules if r.id not in strays]) for s in live if not _owned(s, owned)]
    foreign = [(s.id, ids) for s, ids in kept if s.id or ids]
    mine = []
    for d in desired:
        rules = []
        for r in _desired_rules(d):
            body, subs = split(r, sub_key)
            rules.append(_rule_shape(r["name"], body, [(x["name"], dict(x)) for x in subs]))
        mine.append((d["name"], rules))
    if deleting:
        mine = [(s.name, []) for s in live if s.id == first and s.id in owned]
    return sorted(foreign, key=repr) + mine
