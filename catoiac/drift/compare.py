"""Property-level comparison of desired and live inputs, with pluggable per-spec hooks.

Both sides are already in the engine's canonical form (``engine.canonical``), so a difference here
is a difference the provider would also see. The default compares with DeepDiff, in order. Specs
whose inputs hold ordered lists of named items (firewall policies: sections of rules) register a
hook that reports an item that changed place as one move, not as a modification of every index
after it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from deepdiff import DeepDiff

from ..resources.validation import contains
from .state import SECRET

CHANGED, ADDED, REMOVED, MOVED = "changed", "added", "removed", "moved"


@dataclass(frozen=True)
class Change:
    """One difference. ``desired``/``live`` are values, or for a move the item's positions."""

    path: str
    op: str
    desired: Any = None
    live: Any = None
    item: str | None = None  # a named list item the change is about (a rule, a section)
    item_type: str | None = None  # "rule" | "section" | ...

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "op": self.op, "desired": self.desired, "live": self.live}
        if self.item is not None:
            out["item"] = {"name": self.item, "type": self.item_type}
        return out


@dataclass(frozen=True)
class ItemIds:
    """Cato ids of named list items on each side ({item type: {name: id}}), so an item renamed out
    of band pairs with its old self (one name change) instead of a removal plus an addition."""

    desired: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    live: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def aliases(self, item_type: str) -> dict[str, str]:
        """live name -> desired name, for items whose id is the same and whose name is not."""
        by_id = {i: n for n, i in (self.desired.get(item_type) or {}).items()}
        out = {}
        for name, i in (self.live.get(item_type) or {}).items():
            if i in by_id and by_id[i] != name:
                out[name] = by_id[i]
        return out


NO_IDS = ItemIds()
CompareHook = Callable[[Mapping[str, Any], Mapping[str, Any], ItemIds], list[Change]]
COMPARE_HOOKS: dict[str, CompareHook] = {}


def register_compare(spec_name: str, hook: CompareHook) -> None:
    """Use ``hook(desired, live, ids) -> [Change]`` for every resource of ``spec_name``."""
    COMPARE_HOOKS[spec_name] = hook


def compare(
    spec_name: str, desired: Mapping[str, Any], live: Mapping[str, Any], ids: ItemIds = NO_IDS
) -> list[Change]:
    hook = COMPARE_HOOKS.get(spec_name)
    return hook(desired, live, ids) if hook else property_changes(desired, live)


# -- generic property diff ----------------------------------------------------------------------
def _join(prefix: str, parts: Sequence[Any]) -> str:
    out = prefix
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def property_changes(desired: Mapping[str, Any], live: Mapping[str, Any], prefix: str = "") -> list[Change]:
    """Every leaf-level difference, in path order. Secret desired values are not compared."""
    if desired == live:  # the common case, and DeepDiff is slow even on equal input
        return []
    diff = DeepDiff(dict(desired), dict(live), ignore_order=False, view="tree", verbose_level=2)
    out: list[Change] = []
    for report_type, levels in diff.items():
        for level in levels:
            path = _join(prefix, level.path(output_format="list"))
            t1 = None if _missing(level.t1) else level.t1
            t2 = None if _missing(level.t2) else level.t2
            if contains(t1, SECRET):
                continue
            if report_type.endswith("_added"):
                op = ADDED
            elif report_type.endswith("_removed"):
                op = REMOVED
            else:
                op = CHANGED
            out.append(Change(path, op, t1, t2))
    return sorted(out, key=lambda c: c.path)


def _missing(value: Any) -> bool:
    return type(value).__name__ == "NotPresent"


# -- ordered lists of named items ---------------------------------------------------------------
def _stable(names: Sequence[str], positions: Mapping[str, int]) -> set[str]:
    """Names (in ``names`` order) that keep their relative order in ``positions``: the longest
    increasing subsequence. Everything else is what moved; LIS keeps that set minimal."""
    seq = [(positions[n], n) for n in names if n in positions]
    tails: list[int] = []  # tails[k]: index into seq of the smallest tail of an increasing run of k+1
    prev: list[int] = [-1] * len(seq)
    for i, (pos, _) in enumerate(seq):
        k = _bisect(seq, tails, pos)
        if k > 0:
            prev[i] = tails[k - 1]
        if k == len(tails):
            tails.append(i)
        else:
            tails[k] = i
    keep: set[str] = set()
    i = tails[-1] if tails else -1
    while i >= 0:
        keep.add(seq[i][1])
        i = prev[i]
    return keep


def _bisect(seq: list[tuple[int, str]], tails: list[int], pos: int) -> int:
    lo, hi = 0, len(tails)
    while lo < hi:
        mid = (lo + hi) // 2
        if seq[tails[mid]][0] < pos:
            lo = mid + 1
        else:
            hi = mid
    return lo


@dataclass
class ListDiff:
    moved: list[str] = field(default_factory=list)  # in desired order
    added: list[str] = field(default_factory=list)  # live only
    removed: list[str] = field(default_factory=list)  # desired only
    common: list[str] = field(default_factory=list)


def ordered_by_name(
    desired: Sequence[Mapping[str, Any]],
    live: Sequence[Mapping[str, Any]],
    key: str = "name",
    alias: Mapping[str, str] | None = None,
) -> ListDiff:
    """How two ordered lists of uniquely named items differ: which items moved, which exist on
    one side only. A move is reported for the fewest items that explain the new order. ``alias``
    maps a live name to the desired name of the same item (a rename)."""
    alias = alias or {}
    d_names = [str(x.get(key)) for x in desired]
    l_pos = {alias.get(str(x.get(key)), str(x.get(key))): i for i, x in enumerate(live)}
    d_set = set(d_names)
    common = [n for n in d_names if n in l_pos]
    stable = _stable(common, l_pos)
    return ListDiff(
        moved=[n for n in common if n not in stable],
        added=[n for n in l_pos if n not in d_set],
        removed=[n for n in d_names if n not in l_pos],
        common=common,
    )


def compare_named_list(
    desired: Sequence[Mapping[str, Any]],
    live: Sequence[Mapping[str, Any]],
    *,
    path: str,
    key: str = "name",
    item_type: str = "item",
    alias: Mapping[str, str] | None = None,
) -> list[Change]:
    """Moves, additions, removals and per-item property changes of one ordered named list."""
    alias = alias or {}
    ld = ordered_by_name(desired, live, key, alias)
    d_by = {str(x.get(key)): (i, x) for i, x in enumerate(desired)}
    l_by = {alias.get(str(x.get(key)), str(x.get(key))): (i, x) for i, x in enumerate(live)}
    out: list[Change] = []
    for n in ld.moved:
        out.append(Change(f"{path}[{n}]", MOVED, {"index": d_by[n][0]}, {"index": l_by[n][0]}, n, item_type))
    for n in ld.removed:
        out.append(Change(f"{path}[{n}]", REMOVED, d_by[n][1], None, n, item_type))
    for n in ld.added:
        out.append(Change(f"{path}[{n}]", ADDED, None, l_by[n][1], n, item_type))
    for n in ld.common:
        for c in property_changes(d_by[n][1], l_by[n][1], prefix=f"{path}[{n}]"):
            out.append(Change(c.path, c.op, c.desired, c.live, n, item_type))
    return out


def compare_sections(
    desired: Sequence[Mapping[str, Any]],
    live: Sequence[Mapping[str, Any]],
    *,
    rules: str = "rules",
    key: str = "name",
    path: str = "sections",
    ids: ItemIds = NO_IDS,
) -> list[Change]:
    """Sections of rules: a section or rule that changed place is one move. A rule's place is its
    section and its order among the rules that stay in that section, so moving a whole section
    does not make each of its rules a move."""
    s_alias, r_alias = ids.aliases("section"), ids.aliases("rule")
    strip = [{k: v for k, v in s.items() if k != rules} for s in desired]
    strip_live = [{k: v for k, v in s.items() if k != rules} for s in live]
    out = compare_named_list(strip, strip_live, path=path, key=key, item_type="section", alias=s_alias)

    def placed(sections: Sequence[Mapping[str, Any]], sa: Mapping[str, str], ra: Mapping[str, str]):
        return {
            ra.get(str(r.get(key)), str(r.get(key))): (sa.get(str(s.get(key)), str(s.get(key))), i, r)
            for s in sections
            for i, r in enumerate(s.get(rules) or [])
        }

    d_rules, l_rules = placed(desired, {}, {}), placed(live, s_alias, r_alias)
    moved: set[str] = {n for n in d_rules if n in l_rules and d_rules[n][0] != l_rules[n][0]}
    for s in desired:
        sname = str(s.get(key))
        names = [str(r.get(key)) for r in s.get(rules) or [] if str(r.get(key)) not in moved]
        stay = {n: l_rules[n][1] for n in names if n in l_rules and l_rules[n][0] == sname}
        stable = _stable([n for n in names if n in stay], stay)
        moved |= {n for n in stay if n not in stable}
    for n, (sec, i, body) in d_rules.items():
        rpath = f"{rules}[{n}]"
        if n not in l_rules:
            out.append(Change(rpath, REMOVED, body, None, n, "rule"))
            continue
        lsec, li, lbody = l_rules[n]
        if n in moved:
            out.append(
                Change(rpath, MOVED, {"section": sec, "index": i}, {"section": lsec, "index": li}, n, "rule")
            )
        for c in property_changes(body, lbody, prefix=rpath):
            out.append(Change(c.path, c.op, c.desired, c.live, n, "rule"))
    for n, (_, _, lbody) in l_rules.items():
        if n not in d_rules:
            out.append(Change(f"{rules}[{n}]", ADDED, None, lbody, n, "rule"))
    return out


def declared_places(inputs: Mapping[str, Any], sections: str = "sections", rules: str = "rules",
                    key: str = "name") -> dict[str, dict[str, Any]]:  # fmt: skip
    """{rule name: {section, index}} of policy-like inputs (sections of rules)."""
    return {
        str(r.get(key)): {"section": s.get(key), "index": i}
        for s in inputs.get(sections) or []
        for i, r in enumerate(s.get(rules) or [])
    }


def live_places(collection: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """{rule id: {section, index}} of a live policy collection as the read path holds it ({section id:
    {name, rules: [{id, name, system}]}}); rules outside any section are in section None."""
    out = {}
    for sec in collection.values():
        user = [r for r in sec.get("rules") or [] if not r.get("system")]
        for i, r in enumerate(user):
            out[str(r.get("id"))] = {"section": sec.get("name") or None, "index": i}
    return out


def moved_out(
    changes: list[Change],
    desired: Mapping[str, Any],
    rule_ids: Mapping[str, str],
    places: Callable[[], Mapping[str, Mapping[str, Any]]],
) -> list[Change]:
    """A declared rule missing from the resource's sections that is live elsewhere in the policy (by
    the id the state recorded): it was moved out of band, to a section the resource does not own.
    One move, from where it is declared to where it is (``owned: False``), instead of a removal."""
    out, where, declared = [], None, None
    for c in changes:
        if c.op == REMOVED and c.item_type == "rule" and c.item in rule_ids:
            where = where if where is not None else places()
            declared = declared if declared is not None else declared_places(desired)
            now = where.get(str(rule_ids[c.item]))
            if now is not None and c.item in declared:
                c = Change(c.path, MOVED, declared[c.item], {**now, "owned": False}, c.item, "rule")
        out.append(c)
    return out


def ordered_policy_hook(sections: str = "sections", rules: str = "rules", key: str = "name") -> CompareHook:
    """Hook for policy-like inputs: ``sections`` of ``rules`` (or a flat ``rules`` list), in order,
    plus any other properties compared as usual."""

    def hook(desired: Mapping[str, Any], live: Mapping[str, Any], ids: ItemIds = NO_IDS) -> list[Change]:
        rest_d = {k: v for k, v in desired.items() if k not in (sections, rules)}
        rest_l = {k: v for k, v in live.items() if k not in (sections, rules)}
        out = property_changes(rest_d, rest_l)
        if sections in desired or sections in live:
            out += compare_sections(
                desired.get(sections) or [],
                live.get(sections) or [],
                rules=rules,
                key=key,
                path=sections,
                ids=ids,
            )
        if rules in desired or rules in live:
            out += compare_named_list(
                desired.get(rules) or [],
                live.get(rules) or [],
                path=rules,
                key=key,
                item_type="rule",
                alias=ids.aliases("rule"),
            )
        return out

    return hook


def _register_policies() -> None:
    """Every policy family's spec (``ResourceSpec.policy``) holds ordered sections of rules."""
    from ..resources.specs import SPECS  # late: the specs are written elsewhere

    for name, spec in SPECS.items():
        if spec.policy is not None:
            register_compare(name, ordered_policy_hook())


_register_policies()
