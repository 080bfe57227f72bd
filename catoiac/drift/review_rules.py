"""Firewall rules in a change review: every changed rule whole and readable, where it lands, and
whether the change loosens security.

Rules are paired the way the provider pairs them (``policy_plan.plan`` run against the previous
inputs): by name, then an unmatched new rule takes the unmatched old rule at its place. Such a
rule is *rewritten in place*: Cato keeps the rule (its id) and the ``up`` renames it and replaces
its body, so the review shows one rewritten rule, not a removal and an unrelated addition.

Security loosening is judged with Cato's rule semantics: criteria in one set (source, destination,
service...) are OR-ed and an empty set matches anything; the Internet firewall ends in an implicit
ANY-ANY allow (a blocklist) and the WAN firewall in an implicit block (an allowlist). Sources: Cato
KB "What is the Cato Internet Firewall?" and "Internet and WAN Firewall Policies - Best Practices".
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from ..resources import policy
from ..resources.gql_schema import snake
from ..resources.policy_plan import PlanError, Rule, Section, plan
from ..resources.specs import SPECS
from ..resources.validation import UNKNOWN
from .compare import MOVED, Change, ItemIds, compare

# Every policy family's resource is reviewed rule by rule (``ResourceSpec.policy``); security loosening
# is judged for the two firewalls, whose evaluation (an implicit last rule) is documented.
KINDS: dict[str, policy.PolicyKind] = {name: s.policy for name, s in SPECS.items() if s.policy is not None}
IMPLICIT_LAST_RULE = {"InternetFirewallPolicy": "ALLOW", "WanFirewallPolicy": "BLOCK"}
# How much an action lets through: a change to a lower number loosens the rule.
STRICTNESS = {"BLOCK": 2, "PROMPT": 1, "RBI": 1, "CAPTIVE_PORTAL": 1, "ALLOW": 0}
CRITERIA = ("source", "destination", "application", "service", "country", "device", "device_os")
# Destination keys of the Internet firewall that name applications, shown on their own row.
APP_KEYS = ("application", "app_category", "custom_app", "custom_category", "sanctioned_apps_category")
NETWORK_KEYS = ("subnet", "ip", "ip_range")
# A reference's criterion key -> the resource spec whose objects it names (for id -> name).
REF_SPECS = {
    "site": "SocketSite",
    "host": "StaticHost",
    "group": "Group",
    "site_network_subnet": "NetworkRange",
    "network_interface": "SocketInterface",
}

# (spec name, id) -> a name, or None.
Namer = Callable[[str, str], str | None]
# Criteria keys whose items never match the same connection when they differ (one site, one
# service, one application per connection): two such sets with no common item are disjoint.
DISJOINT_BY_VALUE = {"site", "host", "standard", "application", "country", ""}


def no_names(_spec: str, _id: str) -> str | None:
    return None


class Sites:
    """The address ranges of the sites the stacks know, to tell apart rules about different sites.
    Cato refuses a range that overlaps another site's, so an address inside a known range of site
    A is not in site B; an address in no known range may be in any site (a console-made range)."""

    def __init__(self) -> None:
        self._keys: dict[tuple[str, str], int] = {}  # ("name"|"id"|"urn", value) -> site index
        self._spans: list[list[tuple[int, int]]] = []

    def add(self, keys: Sequence[tuple[str, Any]], subnet: Any) -> None:
        keys = [(k, str(v)) for k, v in keys if v not in (None, "", UNKNOWN)]
        if not keys:
            return
        idx = next((self._keys[k] for k in keys if k in self._keys), None)
        if idx is None:
            idx = len(self._spans)
            self._spans.append([])
        for k in keys:
            self._keys.setdefault(k, idx)
        span = _span("subnet", subnet) if isinstance(subnet, str) and subnet != UNKNOWN else None
        if span:
            self._spans[idx].append(span)

    def of(self, ref: Any) -> int | None:
        ref = {"name": ref} if isinstance(ref, str) else ref
        key = ("id", str(ref["id"])) if "id" in ref else ("name", str(ref.get("name")))
        return self._keys.get(key)

    def owner(self, span: tuple[int, int]) -> int | None:
        for idx, spans in enumerate(self._spans):
            if any(s[0] <= span[0] and span[1] <= s[1] for s in spans):
                return idx
        return None


NO_SITES = Sites()


@cache
def defaults(spec: str) -> dict[str, Any]:
    """Scalar defaults of a rule (action, enabled, connection_origin, direction...), from the schema."""
    full = KINDS[spec].rule.to_graphql({"name": "x"})
    out = {snake(k): v for k, v in full.items() if isinstance(v, str | bool) and k != "name"}
    if isinstance(full.get("action"), Mapping):  # privateAccess: {action: ALLOW}
        out["action"] = full["action"].get("action")
    out["active_on"] = (full.get("schedule") or {}).get("activeOn")
    return out


def action(spec: str, rule: Mapping[str, Any] | None) -> str:
    """The rule's action ("" for a family whose rules have none, such as wanNetwork)."""
    v = (rule or {}).get("action")
    v = v.get("action") if isinstance(v, Mapping) else v
    return str(v or defaults(spec).get("action") or "")


def enabled(spec: str, rule: Mapping[str, Any] | None) -> bool:
    v = (rule or {}).get("enabled")
    return bool(defaults(spec)["enabled"] if v is None else v)


# -- where rules are -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Place:
    section: str
    index: int
    after: str | None  # the rule before it in its section; None when it is first

    def __str__(self) -> str:
        return f"{self.section} #{self.index + 1}"

    def describe(self) -> str:
        return f"{self} (after `{self.after}`)" if self.after else f"{self} (first in its section)"


def places(inputs: Mapping[str, Any]) -> dict[str, tuple[Place, dict[str, Any]]]:
    out = {}
    for s in inputs.get("sections") or []:
        prev = None
        for i, r in enumerate(s.get("rules") or []):
            out[str(r.get("name"))] = (Place(str(s.get("name")), i, prev), r)
            prev = str(r.get("name"))
    return out


@dataclass(frozen=True)
class Pairing:
    """Old name -> new name of the rules and sections the provider keeps but renames."""

    rules: Mapping[str, str] = field(default_factory=dict)
    sections: Mapping[str, str] = field(default_factory=dict)
    refused: str | None = None  # the planner's objection, if it refused the change

    def ids(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> ItemIds:
        """Shared ids for compare(): a renamed item is one item with a new name."""
        old_s = [str(s.get("name")) for s in olds.get("sections") or []]
        old_r = list(places(olds))
        desired = {"section": {n: f"s:{n}" for n in old_s}, "rule": {n: f"r:{n}" for n in old_r}}
        new_s = {self.sections.get(n, n): f"s:{n}" for n in old_s}
        new_r = {self.rules.get(n, n): f"r:{n}" for n in old_r}
        live = {
            "section": {str(s.get("name")): new_s.get(str(s.get("name")), f"s+{s.get('name')}") for s in news.get("sections") or []},
            "rule": {n: new_r.get(n, f"r+{n}") for n in places(news)},
        }  # fmt: skip
        return ItemIds(desired, live)


def pairing(olds: Mapping[str, Any], news: Mapping[str, Any]) -> Pairing:
    """Run the provider's planner from the previous inputs to the new ones and read which rules and
    sections it keeps under a new name (``updateRule``/``updateSection`` of an old item)."""
    old_sections = olds.get("sections") or []
    if not old_sections or not news.get("sections"):
        return Pairing()
    # A foreign first section: Cato pins the policy's first section, and ours may all move.
    live = [Section("foreign", "\x00first", [])]
    rule_names: dict[str, str] = {}
    for i, s in enumerate(old_sections):
        rules = []
        for j, r in enumerate(s.get("rules") or []):
            rid = f"r{i}.{j}"
            rule_names[rid] = str(r.get("name"))
            rules.append(Rule(rid, str(r.get("name")), dict(r)))
        live.append(Section(f"s{i}", str(s.get("name")), rules))
    section_names = {f"s{i}": str(s.get("name")) for i, s in enumerate(old_sections)}
    try:
        ops = plan(live, set(section_names), news["sections"])
    except (PlanError, KeyError, TypeError, ValueError) as e:
        return Pairing(refused=str(e))
    rules = {
        rule_names[str(op.target)]: op.name
        for op in ops
        if op.kind in ("updateRule", "moveRule") and rule_names.get(str(op.target)) not in (None, op.name)
    }
    sections = {
        section_names[str(op.target)]: op.name
        for op in ops
        if op.kind == "updateSection" and section_names.get(str(op.target)) not in (None, op.name)
    }
    return Pairing(rules, sections)


# -- what changed --------------------------------------------------------------------------------
@dataclass
class RuleChange:
    kind: str  # added | removed | modified | moved | rewritten | unchanged (a new policy: all added)
    old_name: str | None
    new_name: str | None
    old: dict[str, Any] | None
    new: dict[str, Any] | None
    old_place: Place | None
    new_place: Place | None
    moved: bool = False
    loosening: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return str(self.new_name or self.old_name)

    @property
    def destructive(self) -> bool:
        """A rule that stops existing: removed, or rewritten in place as a different rule."""
        if self.kind == "removed":
            return True
        if self.kind == "rewritten":
            strip = lambda r: {k: v for k, v in (r or {}).items() if k != "name"}  # noqa: E731
            return strip(self.old) != strip(self.new)
        return False


@dataclass
class SectionChange:
    kind: str  # added | removed | renamed | moved
    name: str
    old_name: str | None = None
    place: str | None = None


@dataclass
class PolicyDiff:
    rules: list[RuleChange]
    sections: list[SectionChange]
    changes: list[Change]  # the property-level comparison, renamed items paired
    refused: str | None = None

    @property
    def loosening(self) -> list[tuple[RuleChange, str]]:
        return [(rc, why) for rc in self.rules for why in rc.loosening]


def policy_diff(
    spec: str, olds: Mapping[str, Any], news: Mapping[str, Any], sites: Sites = NO_SITES
) -> PolicyDiff:
    """The rule- and section-level changes of one policy resource, in the new order (removed rules
    after the rest, in their old order), each judged for security loosening. ``sites``: the address
    ranges of the sites, where known, to tell rules of different sites apart."""
    pair = pairing(olds, news)
    changes = compare(spec, olds, news, pair.ids(olds, news))
    moved = {c.item for c in changes if c.op == MOVED and c.item_type == "rule"}
    old_places, new_places = places(olds), places(news)
    renamed_to = dict(pair.rules)
    renamed_from = {v: k for k, v in renamed_to.items()}
    out: list[RuleChange] = []
    for name, (place, body) in new_places.items():
        old_name = name if name in old_places else renamed_from.get(name)
        if old_name is None:
            out.append(RuleChange("added", None, name, None, body, None, place))
            continue
        old_place, old_body = old_places[old_name]
        was_moved = old_name in moved
        if old_name != name:
            kind = "rewritten"
        elif old_body != body:
            kind = "modified"
        elif was_moved:
            kind = "moved"
        else:
            continue
        out.append(RuleChange(kind, old_name, name, old_body, body, old_place, place, moved=was_moved))
    for name, (place, body) in old_places.items():
        if name not in new_places and name not in renamed_to:
            out.append(RuleChange("removed", name, None, body, None, place, None))
    for rc in out:
        rc.loosening = loosening(spec, rc, new_places, sites)
    return PolicyDiff(out, _sections(changes, olds, news, pair), changes, pair.refused)


def _sections(changes: list[Change], olds, news, pair: Pairing) -> list[SectionChange]:
    old = [str(s.get("name")) for s in olds.get("sections") or []]
    new = [str(s.get("name")) for s in news.get("sections") or []]
    kept = {pair.sections.get(n, n) for n in old}
    out = []
    for i, n in enumerate(new):
        where = f"after section `{new[i - 1]}`" if i else "first of this resource's sections"
        if n not in kept:
            out.append(SectionChange("added", n, place=where))
        elif n not in old:
            src = next(o for o in old if pair.sections.get(o) == n)
            out.append(SectionChange("renamed", n, old_name=src))
    for c in changes:
        if c.op == MOVED and c.item_type == "section":
            i = c.live.get("index") if isinstance(c.live, Mapping) else None
            name = new[i] if isinstance(i, int) and i < len(new) else str(c.item)
            where = f"after section `{new[i - 1]}`" if isinstance(i, int) and i else "first"
            out.append(SectionChange("moved", name, place=where))
    out += [SectionChange("removed", n) for n in old if n not in pair.sections and n not in new]
    return out


# -- security loosening ----------------------------------------------------------------------------
def loosening(
    spec: str,
    rc: RuleChange,
    new_rules: Mapping[str, tuple[Place, dict[str, Any]]],
    sites: Sites = NO_SITES,
) -> list[str]:
    """Why this change lets through traffic that was stopped before (empty: it does not).
    ``new_rules``: every rule of the resource after the change, in order (``places``). Judged for the
    firewalls only: other families' rules are shown whole, not judged."""
    if spec not in IMPLICIT_LAST_RULE:
        return []
    if rc.kind == "removed":
        if action(spec, rc.old) == "BLOCK" and enabled(spec, rc.old):
            return ["BLOCK rule removed"]
        return []
    new_action = action(spec, rc.new)
    if rc.kind == "added":
        if new_action == "BLOCK" or not enabled(spec, rc.new):
            return []
        if IMPLICIT_LAST_RULE[spec] == "BLOCK":
            return [f"new {new_action} rule in a firewall that blocks what no rule allows"]
        order = list(new_rules)
        later = order[order.index(rc.name) + 1 :] if rc.name in new_rules else []
        blocks = [
            n
            for n in later
            if action(spec, new_rules[n][1]) == "BLOCK"
            and enabled(spec, new_rules[n][1])
            and may_overlap(rc.new or {}, new_rules[n][1], sites)
        ]
        if blocks:
            shown = ", ".join(f"`{n}`" for n in blocks[:3]) + (" ..." if len(blocks) > 3 else "")
            return [f"new {new_action} rule above BLOCK rule(s) {shown} that match some of the same traffic: it exempts that traffic from them"]  # fmt: skip
        return []
    old, new = rc.old or {}, rc.new or {}
    old_action = action(spec, old)
    out = []
    if rc.kind == "rewritten" and old_action == "BLOCK" and {**old, "name": ""} != {**new, "name": ""}:
        # Judging the new body against an unrelated old one says nothing more.
        return [f"BLOCK rule `{rc.old_name}` is replaced in place by `{rc.new_name}` ({new_action})"]
    if STRICTNESS.get(new_action, 0) < STRICTNESS.get(old_action, 0):
        out.append(f"action {old_action} → {new_action}")
    was_on, is_on = enabled(spec, old), enabled(spec, new)
    if old_action == "BLOCK" and was_on and not is_on:
        out.append("BLOCK rule disabled")
    if new_action != "BLOCK" and is_on and not was_on:
        out.append(f"{new_action} rule enabled")
    if not is_on:
        return out
    blocking = old_action == "BLOCK" and new_action == "BLOCK"
    for key in CRITERIA:
        widened, narrowed = widening(old.get(key), new.get(key), key)
        if blocking:
            out += [f"BLOCK rule {key.replace('_', ' ')} narrowed: {n}" for n in narrowed]
        elif new_action != "BLOCK":
            out += [f"{key.replace('_', ' ')} widened: {w}" for w in widened]
    out += _scalars(spec, old, new, blocking, new_action)
    old_exc = {str(e.get("name")) for e in old.get("exceptions") or []}
    new_exc = {str(e.get("name")) for e in new.get("exceptions") or []}
    if blocking:
        out += [f"BLOCK rule gets exception `{n}`" for n in sorted(new_exc - old_exc)]
    elif new_action != "BLOCK":
        out += [f"{new_action} rule loses exception `{n}`" for n in sorted(old_exc - new_exc)]
    return out


def _scalars(spec: str, old, new, blocking: bool, new_action: str) -> list[str]:
    d = defaults(spec)
    out = []
    wide = {"connection_origin": "ANY", "direction": "BOTH", "active_on": "ALWAYS"}
    for key, widest in wide.items():
        if d.get(key) is None:
            continue
        a, b = _scalar(old, key) or d[key], _scalar(new, key) or d[key]
        if a == b:
            continue
        label = "schedule" if key == "active_on" else key.replace("_", " ")
        if blocking and a == widest:
            out.append(f"BLOCK rule {label} narrowed: {a} → {b}")
        elif new_action != "BLOCK" and not blocking and b == widest:
            out.append(f"{label} widened: {a} → {b}")
    return out


def _scalar(rule: Mapping[str, Any], key: str) -> Any:
    return (rule.get("schedule") or {}).get("active_on") if key == "active_on" else rule.get(key)


def _items(value: Any) -> list[tuple[str, Any]]:
    """(criterion key, item) pairs of a criteria set; a plain list is one criterion."""
    if isinstance(value, Mapping):
        return [(k, x) for k, v in value.items() for x in (v if isinstance(v, list) else [v])]
    if isinstance(value, list):
        return [("", x) for x in value]
    return [] if value is None else [("", value)]


def _span(key: str, item: Any) -> tuple[int, int] | None:
    """The address span of a network item (subnet, ip, ip range), or None."""
    try:
        if key == "subnet":
            net = ipaddress.ip_network(str(item), strict=False)
            return int(net.network_address), int(net.broadcast_address)
        if key == "ip":
            a = int(ipaddress.ip_address(str(item)))
            return a, a
        if key == "ip_range" and isinstance(item, Mapping):
            return int(ipaddress.ip_address(str(item["from"]))), int(ipaddress.ip_address(str(item["to"])))
    except (ValueError, KeyError):
        return None
    return None


def _covered(key: str, item: Any, by: list[tuple[str, Any]]) -> tuple[bool, Any]:
    """Whether ``item`` matches nothing more than the items ``by``; if not, an item of ``by`` that
    it contains ((key, item), to say "wider than"), or None."""
    if (key, item) in by:
        return True, None
    span = _span(key, item) if key in NETWORK_KEYS else None
    if span is not None:
        for k, x in by:
            s = _span(k, x) if k in NETWORK_KEYS else None
            if s is not None and s[0] <= span[0] and span[1] <= s[1]:
                return True, None
        inside = [(k, x) for k, x in by if k in NETWORK_KEYS and (s := _span(k, x)) and span[0] <= s[0] and s[1] <= span[1]]  # fmt: skip
        return False, inside[0] if inside else None
    return False, None


def _apart(ka: str, xa: Any, kb: str, xb: Any, sites: Sites) -> bool:
    """Whether two criteria items provably match no common connection."""
    if ka in NETWORK_KEYS and kb in NETWORK_KEYS:
        sa, sb = _span(ka, xa), _span(kb, xb)
        return bool(sa and sb) and not (sa[0] <= sb[1] and sb[0] <= sa[1])  # type: ignore[index]
    if "site" in (ka, kb) and (ka in NETWORK_KEYS or kb in NETWORK_KEYS):
        net, ref = (xa, xb) if ka in NETWORK_KEYS else (xb, xa)
        span = _span(ka if ka in NETWORK_KEYS else kb, net)
        site, owner = sites.of(ref), sites.owner(span) if span else None
        return site is not None and owner is not None and site != owner
    return ka == kb and ka in DISJOINT_BY_VALUE and xa != xb


def _disjoint(a: Any, b: Any, sites: Sites) -> bool:
    """Whether two criteria sets provably match no common connection (an empty set matches all)."""
    items_a, items_b = _items(a), _items(b)
    if not items_a or not items_b:
        return False
    return all(_apart(ka, xa, kb, xb, sites) for ka, xa in items_a for kb, xb in items_b)


def may_overlap(a: Mapping[str, Any], b: Mapping[str, Any], sites: Sites = NO_SITES) -> bool:
    """Whether two rules can match the same connection: unless one of their criteria sets is
    provably disjoint (other sites' subnets, other services...), they may."""
    return not any(_disjoint(a.get(k), b.get(k), sites) for k in CRITERIA)


def widening(old: Any, new: Any, key: str = "") -> tuple[list[str], list[str]]:
    """How a criteria set (empty = anything) changed: what it now matches that it did not
    (widened), and what it no longer matches (narrowed). Unknown values are not judged."""
    a, b = _items(old), _items(new)
    if any(UNKNOWN in json.dumps(x) for _, x in a + b):
        return [], []
    if a and not b:
        return [f"restriction removed (was {criteria_text(old)}; now any)"], []
    if b and not a:
        return [], [f"now only {criteria_text(new)} (was any)"]
    widened, narrowed = [], []
    for k, x in b:
        ok, inner = _covered(k, x, a)
        if not ok:
            what = _item_text(k or key, x)
            widened.append(
                f"{what} (wider than {_item_text(*inner)})" if inner is not None else f"adds {what}"
            )
    for k, x in a:
        ok, _ = _covered(k, x, b)
        if not ok:
            narrowed.append(f"drops {_item_text(k or key, x)}")
    return widened, narrowed


# -- readable rules --------------------------------------------------------------------------------
def _item_text(key: str, item: Any, names: Namer = no_names) -> str:
    label = f"{key.replace('_', ' ')} " if key else ""
    return label + item_value(key, item, names)


def item_value(key: str, item: Any, names: Namer = no_names) -> str:
    if item == UNKNOWN:
        return "(known after up)"
    if isinstance(item, Mapping):
        if set(item) == {"name"}:
            return "(known after up)" if item["name"] == UNKNOWN else str(item["name"])
        if set(item) == {"id"}:
            spec = REF_SPECS.get(key)
            found = names(spec, str(item["id"])) if spec else None
            return f"{found} (id {item['id']})" if found else f"id {item['id']}"
        if {"from", "to"} <= set(item) and key in ("ip_range", ""):
            return f"{item['from']}–{item['to']}"
        if "protocol" in item:  # a custom service
            ports = item.get("port") or []
            rng = item.get("port_range") or {}
            where = ",".join(map(str, ports)) or (f"{rng.get('from')}-{rng.get('to')}" if rng else "any port")
            return f"{item['protocol']}/{where}"
        return json.dumps(item, sort_keys=True, ensure_ascii=False)
    return str(item)


def criteria_text(value: Any, names: Namer = no_names, keys: Sequence[str] | None = None) -> str:
    """``site Lisbon, Porto; subnet 10.40.50.0/24``; ``any`` for an empty set."""
    if isinstance(value, Mapping):
        parts = []
        for k in sorted(value):
            if keys is not None and k not in keys:
                continue
            v = value[k] if isinstance(value[k], list) else [value[k]]
            if v:
                parts.append(f"{k.replace('_', ' ')} " + ", ".join(item_value(k, x, names) for x in v))
        return "; ".join(parts) or "any"
    if isinstance(value, list):
        return ", ".join(item_value("", x, names) for x in value) or "any"
    return "any" if value in (None, "") else item_value("", value, names)


def _tracking(t: Mapping[str, Any] | None, names: Namer) -> str:
    t = t or {}
    out = []
    if (t.get("event") or {}).get("enabled"):
        out.append("event")
    alert = t.get("alert") or {}
    if alert.get("enabled"):
        to = [
            f"{k.replace('_', ' ')} " + ", ".join(item_value(k, x, names) for x in alert[k])
            for k in ("mailing_list", "subscription_group", "webhook")
            if alert.get(k)
        ]
        out.append(f"alert {alert.get('frequency') or 'HOURLY'}" + (f" to {'; '.join(to)}" if to else ""))
    return ", ".join(out) or "none"


def _exceptions(spec: str, excs: list[Mapping[str, Any]] | None, names: Namer) -> str:
    out = []
    for e in excs or []:
        body = {k: v for k, v in e.items() if k != "name"}
        parts = [f"{k.replace('_', ' ')}: {criteria_text(v, names)}" for k, v in sorted(body.items())]
        out.append(f"`{e.get('name')}` ({'; '.join(parts) or 'any'})")
    return "; ".join(out)


def _generic_facets(spec: str, rule: Mapping[str, Any], names: Namer) -> dict[str, str]:
    """A rule of a family other than the firewalls: its action (if it has one), then every field it
    sets; a list of named items (socketLan's ``firewall`` rules) one item at a time, in order."""
    act, on = action(spec, rule), enabled(spec, rule)
    out = (
        {"action": act + ("" if on else " (rule disabled)")}
        if act
        else {}
        if on
        else {"enabled": "no (rule disabled)"}
    )
    for k in sorted(set(rule) - {"name", "action", "enabled"}):
        out[k.replace("_", " ")] = _value_text(k, rule[k], names)
    return out


def _value_text(key: str, v: Any, names: Namer) -> str:
    if isinstance(v, Mapping) and set(v) <= {"id", "name"}:  # one reference
        return item_value(key, v, names)
    if isinstance(v, list) and v and all(isinstance(x, Mapping) and "name" in x for x in v):
        return "; ".join(
            f"{i + 1}. `{x['name']}` ("
            + ", ".join(
                f"{k.replace('_', ' ')}: {_value_text(k, y, names)}"
                for k, y in sorted(x.items())
                if k != "name"
            )
            + ")"
            for i, x in enumerate(v)
        )
    return criteria_text(v, names)


def facets(
    spec: str, rule: Mapping[str, Any] | None, names: Namer = no_names, also: Sequence[str] = ()
) -> dict[str, str]:
    """The rule as rows a reviewer reads: action, source, destination, applications, services,
    tracking, then whatever else it sets (and the rows named in ``also``, at their defaults). None
    (a rule that does not exist) gives no rows."""
    if rule is None:
        return {}
    if spec not in IMPLICIT_LAST_RULE:
        return _generic_facets(spec, rule, names)
    d = defaults(spec)
    dest = rule.get("destination") or {}
    out = {"action": action(spec, rule) + ("" if enabled(spec, rule) else " (rule disabled)")}
    out["source"] = criteria_text(rule.get("source"), names)
    if spec == "InternetFirewallPolicy":
        out["destination"] = criteria_text({k: v for k, v in dest.items() if k not in APP_KEYS}, names)
        out["applications"] = criteria_text({k: v for k, v in dest.items() if k in APP_KEYS}, names)
    else:
        out["destination"] = criteria_text(dest, names)
        out["applications"] = criteria_text(rule.get("application"), names)
    service = rule.get("service") or {}
    out["services"] = ", ".join(item_value(k, x, names) for k in sorted(service) for x in service[k]) or "any"
    out["tracking"] = _tracking(rule.get("tracking"), names)
    for key in ("country", "device", "device_os", "device_attributes"):
        if rule.get(key):
            out[key.replace("_", " ")] = criteria_text(rule[key], names)
    for key in ("connection_origin", "direction"):
        label = key.replace("_", " ")
        if key in d and (rule.get(key) or label in also):
            out[label] = str(rule.get(key) or d[key])
    sched = rule.get("schedule") or {}
    if sched:
        extra = {k: v for k, v in sched.items() if k != "active_on"}
        out["schedule"] = str(sched.get("active_on") or d["active_on"]) + (f" {json.dumps(extra, sort_keys=True)}" if extra else "")  # fmt: skip
    if rule.get("active_period"):
        out["active period"] = json.dumps(rule["active_period"], sort_keys=True)
    if rule.get("exceptions"):
        out["exceptions"] = _exceptions(spec, rule["exceptions"], names)
    if rule.get("description"):
        out["description"] = str(rule["description"])
    known = {"name", "action", "enabled", "source", "destination", "application", "service", "tracking",
             "country", "device", "device_os", "device_attributes", "connection_origin", "direction", "schedule",
             "active_period", "exceptions", "description"}  # fmt: skip
    for k in sorted(set(rule) - known):  # a field a newer schema added: still shown
        out[k.replace("_", " ")] = json.dumps(rule[k], sort_keys=True, ensure_ascii=False)
    return out
