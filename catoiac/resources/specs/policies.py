"""One resource per policy family (``InternetFirewallPolicy``, ``WanNetworkPolicy``, ``TlsInspectPolicy``...):
ordered sections of rules, owned by one resource.

Every family of ``policy.KINDS`` gets the same spec: rule inputs derived from Cato's rule input type
(``gql_schema``), planning and the revision lifecycle in ``policy_plan`` and ``policy``. Ownership,
placement and the id format are documented there. This module also generates the typed Pulumi
layer: ``providers/pulumi_cato/_policy_types.py`` (argument TypedDicts) and
``providers/pulumi_cato/policies.py`` (one resource class per family), with ``scripts/gen-policy-types``.
"""

from __future__ import annotations

import copy
import ipaddress
import json
import textwrap
from functools import partial
from typing import Any

from graphql import Undefined

from .. import policy
from ..gql_schema import typed_dicts
from ..policy import KINDS, PolicyKind
from ..refs import ENTITY_REFS, RefChecker
from ..spec import Reservation, ResourceSpec
from ..validation import UNKNOWN
from .common import NAME


def _schema(kind: PolicyKind) -> dict[str, Any]:
    rule = copy.deepcopy(kind.rule.schema)
    rule["properties"]["name"] = dict(NAME)
    if kind.rule.sub_key:
        rule["properties"][kind.rule.sub_key]["items"]["properties"]["name"] = dict(NAME)
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
            out += _sub_names(kind, r, where)
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


def _sub_names(kind: PolicyKind, rule: dict[str, Any], where: str) -> list[tuple[str, str]]:
    """Sub-rules are planned by name within their rule: their names are unique there."""
    key, out, seen = kind.rule.sub_key, [], {}
    for k, sub in enumerate(rule.get(key) or [] if key else []):
        name = sub.get("name")
        if _known(name):
            if name in seen:
                out.append((f"{where}.{key}[{k}].name", f"{key} rule name {name!r} is also used by "
                            f"{where}.{key}[{seen[name]}]: names are unique within a rule, rename one"))  # fmt: skip
            seen.setdefault(name, k)
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


def _spec(kind: PolicyKind) -> ResourceSpec:
    return ResourceSpec(
        name=kind.spec,
        kind=kind.field,
        schema=_schema(kind),
        rules=(partial(_rules, kind),),
        normalize=partial(_normalize, kind),
        natural_key=(),
        apply=partial(policy.apply, kind),
        journals_itself=True,
        read_live=partial(policy.read_live, kind),
        policy=kind,
        reservations=partial(_reservations, kind),
        preview_check=partial(_preview, kind),
    )


POLICY_SPECS: dict[str, ResourceSpec] = {k.spec: _spec(k) for k in KINDS.values()}
INTERNET_FIREWALL_POLICY = POLICY_SPECS["InternetFirewallPolicy"]
WAN_FIREWALL_POLICY = POLICY_SPECS["WanFirewallPolicy"]


# -- the typed Pulumi layer (generated) -----------------------------------------------------------------
_GENERATED = "GENERATED by scripts/gen-policy-types from Cato's schema (catoiac/resources/specs/policies.py): do not edit."

_TYPES_HEADER = f'''"""Typed arguments of the policy rules and sections, every family. {_GENERATED}
Rule types come from Cato's rule input types (the emulator's schema subset; docstrings from Cato's
full schema)."""

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

# What differs per family, for the generated class docstrings (README "Policies" says the same).
FAMILY_NOTES = {
    "socketLan": (
        "A LAN rule holds a second, ordered kind of rule: ``firewall`` (Cato's ``SocketLanFirewallAddRuleDataInput``). "
        "Declare them inside the rule that holds them, as ``firewall=[...]``: they are owned with it, kept in the "
        "order given and matched by name within that rule (a firewall rule moved to another LAN rule is removed "
        "and added). They are changed in the same revision as everything else."
    ),
}


def _sections_type(kind: PolicyKind) -> str:
    return f'''class {kind.prefix}SectionArgs(TypedDict, total=False):
    """A section of the {kind.title} policy ({kind.field}) and its rules, in order."""

    name: Required[Input[str]]
    """Section name, unique in the policy."""
    rules: Input[Sequence[Input[{kind.prefix}RuleArgs]]]
    """The section's rules, in order. Rule names are unique in the policy."""'''


def pulumi_types_source(docs: Any = None) -> str:
    """The source of providers/pulumi_cato/_policy_types.py."""
    kinds = list(KINDS.values())
    roots = {f"{k.prefix}AddRuleDataInput": f"{k.prefix}RuleArgs" for k in kinds}
    overrides = {k: v for kind in kinds for k, v in kind.rule.overrides.items()}
    extras = {}
    for k in kinds:
        if k.sub is not None:
            roots[f"{k.sub.prefix}AddRuleDataInput"] = f"{k.sub.prefix}RuleArgs"
            overrides.update(k.sub.rule.overrides)
            extras[f"{k.prefix}AddRuleDataInput"] = [
                (k.rule.sub_key, f"Input[Sequence[Input[{k.sub.prefix}RuleArgs]]]",
                 f"The {k.sub.field} rules this rule holds, in order: owned with it, matched by name within it."),
            ]  # fmt: skip
    body = typed_dicts(roots, overrides, docs, extras)
    sections = "\n\n\n".join(_sections_type(k) for k in kinds)
    return f"{_TYPES_HEADER}\n\n{body}\n\n\n{sections}\n"


def _rule_summary(kind: PolicyKind) -> tuple[str, str, str]:
    """(fields, required fields, defaults) of a family's rule, for the generated docstrings."""
    t = kind.rule.type
    fields = [f.key for f in kind.rule.fields(t)]
    required = [k for k in kind.rule.schema.get("required", []) if k != "name"]
    defaults = []
    for f in kind.rule.fields(t):
        d = kind.rule.default(t, f)
        if d is not Undefined and isinstance(d, str | bool) and f.key != "description":
            defaults.append(f"{f.key} {json.dumps(d)}")
    if kind.rule.sub_key:
        fields.append(kind.rule.sub_key)
    return ", ".join(f"``{k}``" for k in fields), ", ".join(f"``{k}``" for k in required), ", ".join(defaults)


_CLASS = '''

class {P}Policy(CatoResource, module="cato", name="{P}Policy"):
    """The {title} policy's sections this stack owns, with their rules (Cato's ``policy.{f}``).

    The resource owns the sections it names and every rule in them; the rest of the policy is left
    alone, so several stacks can each own different sections of one policy.

    - Order is declarative: sections and rules are kept in the order given. A moved rule is moved
      (``moveRule``), not deleted and re-added; rules reordered in the console show up as a diff.
    - Owned sections keep their declared relative order. A new section goes right after the owned
      section declared before it; the first one goes before the next owned section or, when the
      resource owns none yet, at the end of the policy (or right after ``after_section``).
    - Rules and sections are matched by name; a renamed one (same place, new name) is updated.
    - Every ``pulumi up`` that changes the policy makes all its changes in ONE policy revision and
      publishes it once. On any failure the revision is discarded: nothing is half-published.
    - References (sites, hosts, groups, ranges, applications...) are a name (``"HQ"``),
      ``{{"name": "HQ"}}`` or ``{{"id": "1234"}}``.{notes}

    The id is ``{f}:<owned section names, sorted, comma-separated>`` (a comma in a name is
    written ``\\\\,``); import with it, e.g. ``{f}:Corporate,Guest``. Outputs: ``section_ids`` and
    ``rule_ids`` (name -> Cato id).
    """

    _spec = "{P}Policy"
    sections: pulumi.Output[list]
    section_ids: pulumi.Output[dict]
    rule_ids: pulumi.Output[dict]

    def __init__(
        self,
        resource_name: str,
        *,
        sections: Input[Sequence[Input[{P}SectionArgs]]],
        after_section: Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """
        :param sections: {sections}
        :param after_section: Where the first owned section is created when the resource owns none
            yet: right after this section of someone else. Default: at the end of the policy.
        """
        super().__init__(resource_name, {{**_OUTPUTS, **props_of(locals())}}, opts)
'''


def pulumi_classes_source() -> str:
    """The source of providers/pulumi_cato/policies.py."""
    kinds = list(KINDS.values())
    names = sorted([f"{k.prefix}{x}" for k in kinds for x in ("Policy", "RuleArgs", "SectionArgs")]
                   + [f"{k.sub.prefix}RuleArgs" for k in kinds if k.sub] + ["RefArgs"], key=str.lower)  # fmt: skip
    imports = sorted((n for n in names if not n.endswith("Policy")), key=str.lower)
    out = [
        f'"""Every Cato policy family as one resource per policy: ordered sections of rules. {_GENERATED}"""',
        "",
        "# ruff: noqa: E501",
        "# fmt: off",
        "from __future__ import annotations",
        "",
        "from collections.abc import Sequence",
        "",
        "import pulumi",
        "from pulumi import Input",
        "",
        "from ._base import CatoResource, props_of",
        "from ._policy_types import (",
        *[f"    {n}," for n in imports],
        ")",
        "",
        '_OUTPUTS = {"section_ids": None, "rule_ids": None}  # named so they become attributes',
        "",
        "__all__ = [",
        *[f'    "{n}",' for n in names],
        "]",
    ]
    src = "\n".join(out)
    for k in kinds:
        fields, required, defaults = _rule_summary(k)
        notes = FAMILY_NOTES.get(k.field)
        sections = (
            f"The owned sections, in order, each with its rules in order. A rule takes every field of "
            f"Cato's ``{k.prefix}AddRuleDataInput`` in snake_case: {fields}. Required besides ``name``: "
            f"{required or 'none'}. Omitted fields take Cato's defaults{f' ({defaults})' if defaults else ''}."
        )
        src += _CLASS.format(
            P=k.prefix,
            f=k.field,
            title=k.title,
            notes=f"\n\n    {_wrap(notes, 4)}" if notes else "",
            sections=_wrap(sections, 12),
        )
    return src


def _wrap(text: str, indent: int, width: int = 100) -> str:
    return ("\n" + " " * indent).join(textwrap.wrap(text, width - indent))
