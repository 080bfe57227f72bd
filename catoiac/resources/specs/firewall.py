"""InternetFirewallPolicy and WanFirewallPolicy: ordered sections of rules, owned by one resource.

Rule inputs are derived from Cato's rule input types (``gql_schema``); planning and the revision
lifecycle are in ``policy_plan`` and ``policy``. Ownership, placement and the id format are
documented there.
"""

from __future__ import annotations

import copy
import ipaddress
from functools import partial
from typing import Any

from .. import policy
from ..gql_schema import typed_dicts
from ..policy import PolicyKind
from ..refs import ENTITY_REFS, RefChecker
from ..spec import Reservation, ResourceSpec
from ..validation import UNKNOWN
from .common import NAME


def _schema(kind: PolicyKind) -> dict[str, Any]:
    rule = copy.deepcopy(kind.rule.schema)
    rule["properties"]["name"] = NAME
    section = {
        "type": "object",
        "additionalProperties": False,
        "required": ["name"],
        "properties": {"name": NAME, "rules": {"type": "array", "items": rule, "default": []}},
    }
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["sections"],
        "properties": {
            "sections": {"type": "array", "minItems": 1, "items": section},
            "after_section": {"type": "string", "minLength": 1},
        },
    }


def _known(v: Any) -> bool:
    return isinstance(v, str) and v != UNKNOWN


def _rules(kind: PolicyKind, inputs: dict[str, Any]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    sections, rules = {}, {}
    for i, s in enumerate(inputs.get("sections") or []):
        if _known(s.get("name")):
            if s["name"] in sections:
                out.append((f"sections[{i}].name", f"section name {s['name']!r} is also used by "
                            f"{sections[s['name']]}: section names are unique in a policy, rename one"))  # fmt: skip
            sections.setdefault(s["name"], f"sections[{i}]")
        for j, r in enumerate(s.get("rules") or []):
            where = f"sections[{i}].rules[{j}]"
            if _known(r.get("name")):
                if r["name"] in rules:
                    out.append((f"{where}.name", f"rule name {r['name']!r} is also used by {rules[r['name']]}: "
                                "rule names are unique in a policy, rename one"))  # fmt: skip
                rules.setdefault(r["name"], where)
            out += _rule_objects(kind, r, where)
            count = _elements(r)
            if count > MAX_RULE_ELEMENTS:
                out.append((where, f"the rule lists {count} items: Cato allows {MAX_RULE_ELEMENTS} per rule "
                            "(KB 4414483096465); use groups, or split the rule"))  # fmt: skip
    after = inputs.get("after_section")
    if _known(after) and after in sections:
        out.append(("after_section", f"{after!r} is one of this resource's own sections; after_section "
                    "places them after a section of someone else: name one, or leave it unset"))  # fmt: skip
    return out


def _rule_objects(kind: PolicyKind, rule: dict[str, Any], where: str) -> list[tuple[str, str]]:
    out = []
    for path, type_name, obj in kind.rule.walk_objects(rule, where):
        if type_name == "IpAddressRangeInput" and _known(obj.get("from")) and _known(obj.get("to")):
            try:
                if ipaddress.IPv4Address(obj["from"]) > ipaddress.IPv4Address(obj["to"]):
                    out.append((path, f"{obj['from']} is after {obj['to']}: put the lower address in `from`"))
            except ValueError:
                pass  # the format check reports it
        names = [x.get("name") for x in obj.get("exceptions") or [] if _known(x.get("name"))]
        for n in sorted({n for n in names if names.count(n) > 1}):
            out.append((f"{path}.exceptions", f"two exceptions are named {n!r}: rename one"))
    return out


def _normalize(kind: PolicyKind, inputs: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in inputs.items() if k != "sections" and v is not None}
    out["sections"] = [
        {"name": s["name"], "rules": [kind.rule.canonical(r) for r in s.get("rules") or []]}
        for s in inputs.get("sections") or []
    ]
    return out


def _reservations(kind: PolicyKind, inputs: dict[str, Any]) -> list[Reservation]:
    """Section and rule names: unique in a policy, so two resources of one policy must not share one."""
    out = []
    for i, s in enumerate(inputs.get("sections") or []):
        out.append(Reservation("policy section", (kind.field, s["name"]), f"sections[{i}].name",
                         f"{kind.field} section {s['name']!r}"))  # fmt: skip
        for j, r in enumerate(s.get("rules") or []):
            out.append(Reservation("policy rule", (kind.field, r["name"]), f"sections[{i}].rules[{j}].name",
                             f"{kind.field} rule {r['name']!r}"))  # fmt: skip
    return out


# Items per rule (100 users and 10 sites are 110): Cato KB 4414483096465, "Elements per Rule".
MAX_RULE_ELEMENTS = 2_000


def _elements(value: Any) -> int:
    """The items a rule body lists, each once (its exceptions are rules of their own)."""
    if isinstance(value, dict):
        return sum(_elements(v) for k, v in value.items() if k != "exceptions")
    if isinstance(value, list):
        return sum(1 + (_elements(v) if isinstance(v, dict) else 0) for v in value)
    return 0


def _preview(kind: PolicyKind, preflight, program, owner, olds, inputs) -> list[tuple[str, str]]:
    """Against the live policy and the program: what apply would refuse, and every reference."""

    def declared(spec: str) -> set[str]:
        name_of = next(e.name_of for e in ENTITY_REFS.values() if e.spec == spec)
        return {name_of(e.inputs) for e in program.resources(owner or "", spec)} - {None}

    owns = lambda section_id: bool(owner) and preflight.owns(owner, kind.spec, section_id)  # noqa: E731
    whose = lambda section_id: preflight.whose(owner, section_id)  # noqa: E731
    problems = policy.preview_problems(kind, preflight.reader, olds, inputs, owns, whose)
    if problems:  # confirmed on the session's reader, which this run's own writes keep current
        problems = policy.preview_problems(kind, preflight.session.reader, olds, inputs, owns, whose)
    checker = RefChecker(preflight.reader, fresh=preflight.session.reader, declared=declared)
    return problems + checker.problems(policy.rule_refs(kind, list(inputs.get("sections") or [])))


def _spec(name: str, kind: PolicyKind) -> ResourceSpec:
    return ResourceSpec(
        name=name,
        kind=kind.field,
        schema=_schema(kind),
        rules=(partial(_rules, kind),),
        normalize=partial(_normalize, kind),
        natural_key=(),
        apply=partial(policy.apply, kind),
        journals_itself=True,
        read_live=partial(policy.read_live, kind),
        reservations=partial(_reservations, kind),
        preview_check=partial(_preview, kind),
    )


INTERNET_FIREWALL_POLICY = _spec("InternetFirewallPolicy", policy.INTERNET_FIREWALL)
WAN_FIREWALL_POLICY = _spec("WanFirewallPolicy", policy.WAN_FIREWALL)


_TYPES_HEADER = '''"""Typed arguments of the firewall policy rules. GENERATED by scripts/gen-firewall-types from Cato's
rule input types (the emulator's schema subset, docstrings from Cato's full schema): do not edit."""

# ruff: noqa: E501
# fmt: off
from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Required, TypedDict

from pulumi import Input


class RefArgs(TypedDict, total=False):
    """A reference to a Cato object: by id or by name (a plain string is a name)."""

    id: Input[str]
    name: Input[str]
'''


def pulumi_types_source(docs: Any = None) -> str:
    """The source of providers/pulumi_cato/_firewall_types.py."""
    kinds = (policy.INTERNET_FIREWALL, policy.WAN_FIREWALL)
    roots = {f"{k.prefix}AddRuleDataInput": f"{k.prefix}RuleArgs" for k in kinds}
    overrides = {k: v for kind in kinds for k, v in kind.rule.overrides.items()}
    return f"{_TYPES_HEADER}\n\n{typed_dicts(roots, overrides, docs)}\n"
