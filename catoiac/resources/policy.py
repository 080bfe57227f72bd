"""Policy resources: read a policy once, plan, and apply every change in one revision.

Every family of Cato's ``PolicyMutations`` (``KINDS``: internetFirewall, wanFirewall, wanNetwork,
tlsInspect, socketLan...) has the same model in the schema: ordered sections of rules, changed in a
revision that is then published or discarded, with the same ``addRule``/``moveSection``...
mutations. So one engine serves them all, and a family is configuration: a ``PolicyKind`` (its
namespace field and type prefix; its rule inputs are derived from ``<Prefix>AddRuleDataInput``).
socketLan is the one family with a second rule kind: each LAN rule holds ordered ``firewall``
rules (``SubRules``), which a resource declares inside the rule that holds them (see ``RuleModel``).

A policy resource owns some sections of one policy (see ``policy_plan`` for ownership and
placement). Its id is ``<policy>:<owned section names, sorted, comma-separated>`` (a comma inside
a name is written ``\\,``), e.g. ``internetFirewall:Corporate,Guest Wi-Fi``: that is also what
``import`` takes. After creation the owned sections are tracked by their Cato ids (the
``section_ids`` output), so a section renamed in the console is still recognised.

Applying (create, update, delete) is transactional:

1. Plan against the read path's view of the policy (one ``policy`` query per provider process),
   after checking every reference to sites, hosts, ranges, interfaces (and groups, when the read
   path has them) by id or name, and every name and position. Most failures happen here, before
   any write; nothing changes means no revision at all.
2. Discard open revisions a previous, interrupted run of this resource left (ours are named
   ``catoiac <resource id>``), then open one revision. Its reply carries the policy's layout; if
   someone published since our read, the policy is read again in the revision and re-planned.
3. Run every operation with ``revision {id}``, then publish once.
4. On any failure (a FAILURE payload, a transport error, a lost reply) discard the revision, so the
   published policy is as it was and no revision stays open. A publish whose reply was lost is
   resolved by listing revisions: still open means not published (discarded), gone means published.

Crash safety (see ``catoiac.journal`` and ``catoiac.lifeline``): before each operation and, afresh,
before the publish, the engine that asked for the apply must still be there; if it is gone the
revision is discarded, never published. Right before the publish, the resource's journal entry
records the ids of the sections it will own, those added in the revision included: a later apply
for the same resource adopts the live sections with those ids (a publish whose result the stack
never recorded), and a section of the declared name that another resource's entry names is refused
naming that resource.

Cato never moves or removes a policy's first section. A resource that owns it (it created the first
section of an empty policy) leaves it behind, empty, when destroyed; a later create that declares a
section of that name takes it over instead of failing on the name.
"""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from .. import lifeline
from ..errors import CatoError, OutcomeUnknownError
from ..journal import Claim
from ..readpath import LOADERS, AccountReader, register_loader
from ..session import Session
from .engine import ADOPT_KEY
from .gql_schema import SITE_SCOPED, InputModel, is_scoped, ref_item, snake
from .policy_plan import New, Op, PlanError, Ref, Rule, Section, plan, simulate
from .refs import ENTITY_REFS, RefChecker, ScopedRefError, as_ref, resolve_scoped, scoped_form
from .refs import Ref as RuleRef
from .validation import UNKNOWN

logger = logging.getLogger("catoiac.policy")

# Ref input type -> read-path collection whose ids and names a reference is checked against.
REF_COLLECTIONS = {
    "SiteRefInput": "sites",
    "HostRefInput": "hosts",
    "SiteNetworkSubnetRefInput": "ranges",
    "NetworkInterfaceRefInput": "interfaces",
    "GroupRefInput": "groups",
}
REVISION_PREFIX = "catoiac "


class PolicyApplyError(CatoError):
    """A revision failed and was discarded: the published policy is unchanged."""


@dataclass(frozen=True)
class SubRules:
    """A second rule kind nested in a family's rules: socketLan's ``firewall`` rules."""

    field: str  # the rule's output field and the mutation namespace: firewall
    prefix: str  # type and document prefix: SocketLanFirewall

    @cached_property
    def rule(self) -> InputModel:
        return InputModel(f"{self.prefix}AddRuleDataInput", {f"{self.prefix}AddRuleDataInput.enabled": True})

    def doc(self, name: str) -> str:
        return f"{self.prefix}{name}"


class RuleModel(InputModel):
    """A family's rule inputs (``<Prefix>AddRuleDataInput``), plus, for a family with sub-rules, the
    ordered list of them under the sub-rule field's name (``firewall``): schema, canonical form,
    live read, references and objects cover both; ``to_graphql`` gives the rule's own input only
    (sub-rules are added by their own mutations)."""

    def __init__(self, prefix: str, sub: SubRules | None = None) -> None:
        super().__init__(f"{prefix}AddRuleDataInput", {f"{prefix}AddRuleDataInput.enabled": True})
        self.sub = sub
        self.sub_key = snake(sub.field) if sub else None

    @cached_property
    def schema(self) -> dict[str, Any]:
        return self.cached_schema(self._build_schema)

    def _build_schema(self) -> dict[str, Any]:
        out = self._object_schema(self.type, ())
        if self.sub is not None:
            out["properties"][self.sub_key] = {"type": "array", "items": copy.deepcopy(self.sub.rule.schema)}
            out["propertyNames"] = {"enum": sorted(out["properties"])}
        return out

    def canonical(self, value: Mapping[str, Any]) -> dict[str, Any]:
        out = super().canonical(value)
        if self.sub is not None and value.get(self.sub_key):
            out[self.sub_key] = [self.sub.rule.canonical(x) for x in value[self.sub_key]]
        return out

    def live_subs(self, live: Mapping[str, Any], by_id=lambda t, i: False) -> list[tuple[str, dict]]:
        """[(id, canonical inputs)] of a live rule's sub-rules, in order."""
        if self.sub is None:
            return []
        return [
            (str(p["rule"]["id"]), self.sub.rule.from_live(p["rule"], by_id))
            for p in live.get(self.sub.field) or []
        ]

    def from_live(self, live: Mapping[str, Any], by_id=lambda t, i: False) -> dict:
        out = super().from_live(live, by_id)
        subs = [body for _, body in self.live_subs(live, by_id)]
        if subs:
            out[self.sub_key] = subs
        return out

    def _subs(self, value: Mapping[str, Any], path: str):
        """(path, sub-rule inputs) of each sub-rule in ``value``."""
        if self.sub is None:
            return
        for i, x in enumerate(value.get(self.sub_key) or []):
            yield (f"{path}." if path else "") + f"{self.sub_key}[{i}]", x

    def refs(self, value: Mapping[str, Any], path: str = ""):
        yield from super().refs(value, path)
        for where, x in self._subs(value, path):
            yield from self.sub.rule.refs(x, where)

    def walk_objects(self, value: Mapping[str, Any], path: str = ""):
        yield from super().walk_objects(value, path)
        for where, x in self._subs(value, path):
            yield from self.sub.rule.walk_objects(x, where)


@dataclass(frozen=True)
class PolicyKind:
    field: str  # GraphQL namespace and read-path collection: internetFirewall
    prefix: str  # type and document prefix: InternetFirewall
    title: str = ""  # what Cato's console calls it: Internet Firewall
    sub: SubRules | None = None  # a second rule kind nested in the rules (socketLan)

    @cached_property
    def rule(self) -> RuleModel:
        # Cato requires `enabled`; a rule declared without it is enabled.
        return RuleModel(self.prefix, self.sub)

    def doc(self, name: str) -> str:
        return f"Read{self.prefix}Policy" if name == "Read" else f"{self.prefix}{name}"

    @property
    def spec(self) -> str:  # the resource spec's name, as the journal records it
        return f"{self.prefix}Policy"


# Every family of Cato's PolicyMutations (tests/test_policy_families.py checks the list against the
# SDL). All share the revision model, so each is configuration of the one engine.
KINDS: dict[str, PolicyKind] = {
    k.field: k
    for k in (
        PolicyKind("internetFirewall", "InternetFirewall", "Internet Firewall"),
        PolicyKind("wanFirewall", "WanFirewall", "WAN Firewall"),
        PolicyKind("wanNetwork", "WanNetwork", "WAN Network"),
        PolicyKind("tlsInspect", "TlsInspect", "TLS Inspection"),
        PolicyKind("socketLan", "SocketLan", "LAN (Socket LAN)", SubRules("firewall", "SocketLanFirewall")),
        PolicyKind("applicationControl", "ApplicationControl", "Application Control"),
        PolicyKind("appTenantRestriction", "AppTenantRestriction", "App Tenant Restriction"),
        PolicyKind("privateAccess", "PrivateAccess", "Private Access"),
        PolicyKind("remotePortFwd", "RemotePortFwd", "Remote Port Forwarding"),
        PolicyKind("terminalServer", "TerminalServer", "Terminal Server"),
        PolicyKind("antiMalwareFileHash", "AntiMalwareFileHash", "Anti-Malware File Hash"),
        PolicyKind("dynamicIpAllocation", "DynamicIpAllocation", "Dynamic IP Allocation"),
    )
}
INTERNET_FIREWALL = KINDS["internetFirewall"]
WAN_FIREWALL = KINDS["wanFirewall"]


# -- ids -----------------------------------------------------------------------------------------
def resource_id(kind: PolicyKind, section_names: list[str]) -> str:
    return f"{kind.field}:" + ",".join(
        n.replace("\\", "\\\\").replace(",", "\\,") for n in sorted(section_names)
    )


def parse_id(kind: PolicyKind, rid: str) -> list[str]:
    prefix = f"{kind.field}:"
    if not rid.startswith(prefix):
        raise PlanError(
            f"{rid!r} is not a {kind.prefix}Policy id: use {prefix}<owned section names, comma-separated>, "
            f"e.g. {prefix}Corporate,Guest"
        )
    parts = re.split(r"(?<!\\),", rid[len(prefix) :])
    return [p.replace("\\,", ",").replace("\\\\", "\\") for p in parts if p]


# -- read path ------------------------------------------------------------------------------------
def _sections_of(policy: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """A ``policy`` payload -> {section id: {id, name, rules: [{id, name, system, live}]}}, in policy
    order; rules of a policy without sections sit under the id ""."""
    out: dict[str, dict[str, Any]] = {}
    for sp in policy.get("sections") or []:
        sid = str(sp["section"]["id"])
        out[sid] = {"id": sid, "name": sp["section"]["name"], "rules": []}
    for rp in policy.get("rules") or []:
        rule = rp["rule"]
        sid = str((rule.get("section") or {}).get("id") or "")
        sec = out.setdefault(sid, {"id": sid, "name": "", "rules": []})
        system = "SYSTEM" in (rp.get("properties") or [])
        sec["rules"].append({"id": str(rule["id"]), "name": rule["name"], "system": system, "live": rule})
    if "" in out:  # unsectioned rules come first
        out = {"": out.pop(""), **out}
    return out


def _loader(kind: PolicyKind):
    def load(r: AccountReader) -> dict[str, dict[str, Any]]:
        data = r.client.execute(kind.doc("Read"), {})
        return _sections_of(data["policy"][kind.field]["policy"])

    return load


# Rules show the names of the objects they refer to: renaming one makes the cached policy stale.
for _kind in KINDS.values():
    register_loader(_kind.field, _loader(_kind), depends_on=tuple(REF_COLLECTIONS.values()))


def _live_sections(
    kind: PolicyKind,
    collection: Mapping[str, Mapping[str, Any]],
    by_id,
    owned: set[Ref] | None = None,
    rules: set[Ref] = frozenset(),  # type: ignore[assignment]
) -> list[Section]:
    """The policy as planner data; rule bodies only for ``owned`` sections (all if None) and the
    ``rules`` named: others' rules are only positioned around, and converting 500 bodies is most of
    a refresh's time."""

    model = kind.rule

    def rule(sid: str, r: Mapping[str, Any]) -> Rule:
        if not ((owned is None or sid in owned or r["id"] in rules) and "live" in r):
            return Rule(r["id"], r["name"], {}, r["system"])
        body = model.from_live(r["live"], by_id)
        body.pop(model.sub_key, None)  # sub-rules are planned as Rule.subs, with their ids
        subs = [Rule(i, b["name"], b) for i, b in model.live_subs(r["live"], by_id)]
        return Rule(r["id"], r["name"], body, r["system"], subs)

    return [Section(s["id"], s["name"], [rule(s["id"], r) for r in s["rules"]]) for s in collection.values()]


def _full(kind: PolicyKind, r: Rule) -> dict[str, Any]:
    """A planner rule as resource inputs: its body, with its sub-rules."""
    return {**r.body, kind.rule.sub_key: [x.body for x in r.subs]} if r.subs else r.body


def _mine(kind: PolicyKind, collection, by_id, rid: str | None, olds) -> tuple[list[Section], set[Ref]]:
    """The live policy with the bodies of the owned sections (and of stray rules), and the owned
    section ids."""
    layout = _live_sections(kind, collection, by_id, owned=set())
    owned = _owned(kind, rid, olds, layout) if olds is not None else set()
    return _live_sections(kind, collection, by_id, owned, _strays(olds, layout, owned)), owned


def _strays(props: Mapping[str, Any] | None, live: list[Section], owned: set[Ref]) -> set[Ref]:
    """This resource's rules (by the ids its ``rule_ids`` output recorded) that sit in a section it
    does not own: moved there out of band (say, to FIRST_IN_POLICY). They stay this resource's: a
    refresh keeps their ids, and the next apply moves them back (instead of failing on their name)."""
    ids = (props or {}).get("rule_ids")
    if not isinstance(ids, Mapping) or not ids:
        return set()
    recorded = {str(v) for v in ids.values()}
    return {
        r.id
        for s in live
        if not (s.id and s.id in owned)
        for r in s.rules
        if r.id in recorded and not r.system
    }


def _id_refs(kind: PolicyKind, inputs: Mapping[str, Any] | None, reader: AccountReader | None = None):
    """How ``from_live`` shows a live reference, so that live bodies are in the form of the desired
    ones (equal means equal): by id where the prior inputs named that object by id; scoped to its
    site where they named it so, or (given a reader) where its name is not one they used bare and
    more than one object has it; by name otherwise. The reader's collections are read only for
    such references, never on a refresh whose rules are as the state says."""
    used, scoped, bare = set(), set(), set()
    for s in (inputs or {}).get("sections") or []:
        for r in s.get("rules") or []:
            for _, t, ref in kind.rule.refs(r):
                if isinstance(ref, dict) and "id" in ref:
                    used.add((t, str(ref["id"])))
                elif is_scoped(ref):
                    scoped.add((t, tuple(ref_item(ref).items())))
                elif isinstance(ref, str | dict) and ref:
                    bare.add((t, str(ref_item(ref).get("name"))))
    scoped_types = {t for t, _ in scoped}

    def shown(t: str, i: str, live_name: str | None = None) -> bool | dict[str, str]:
        if (t, i) in used:
            return True
        if reader is None or t not in SITE_SCOPED or (t, live_name) in bare:
            return False
        if t in scoped_types:
            form = scoped_form(reader, t, i)
            if form is not None:
                short = {k: v for k, v in form.items() if k != "interface"}
                for f in (form, short):
                    if (t, tuple(f.items())) in scoped:
                        return f
        obj = reader.get(ENTITY_REFS[t].collection).get(str(i)) or {}
        name = obj.get("name")
        if not name or (t, name) in bare:
            return False
        same = [o for o in reader.get(ENTITY_REFS[t].collection).values() if o.get("name") == name]
        return (scoped_form(reader, t, i) or False) if len(same) > 1 else False

    shown.with_name = True  # type: ignore[attr-defined]
    return shown


def _owned(
    kind: PolicyKind, rid: str | None, props: Mapping[str, Any] | None, live: list[Section]
) -> set[Ref]:
    """Owned section ids: the ``section_ids`` output, else the names in the resource id."""
    ids = (props or {}).get("section_ids")
    if isinstance(ids, Mapping) and ids:
        return {str(v) for v in ids.values()}
    names = set(parse_id(kind, rid)) if rid else set()
    return {s.id for s in live if s.id and s.name in names}


def read_live(kind: PolicyKind, session: Session, rid: str, props: Mapping[str, Any]):
    """(inputs, outputs) of the owned sections as they are, or None when none is left."""
    by_id = _id_refs(kind, props, session.reader)
    live, owned = _mine(kind, session.reader.get(kind.field), by_id, rid, props)
    mine = [s for s in live if s.id in owned]
    if not mine:
        return None
    inputs: dict[str, Any] = {
        "sections": [
            {"name": s.name, "rules": [_full(kind, r) for r in s.rules if not r.system]} for s in mine
        ]
    }
    if props.get("after_section") is not None:
        inputs["after_section"] = props["after_section"]
    outputs = _outputs(kind, rid, inputs, mine)
    strays = _strays(props, live, owned)  # not in the sections (not where declared), still ours
    if strays:
        ids = {r.name: str(r.id) for s in live for r in s.rules if r.id in strays}
        outputs["rule_ids"] |= ids
        # Pulumi's check after a refresh gets these inputs, not the outputs: without the ids there the
        # preview would refuse the rule's name as another section's. No diff compares this key.
        inputs["rule_ids"] = ids
    return inputs, outputs


def discover(kind: PolicyKind, session: Session, by_id=None) -> tuple[str, dict[str, Any]] | None:
    """What importing a whole policy takes: the id of a resource owning every section of it, and its
    inputs as they are (references by name, scoped to their site where a name is ambiguous; or as
    ``by_id`` says), or None when the policy has no sections. Rules outside any section cannot be
    owned (a resource owns sections) and system rules are Cato's: neither is in the inputs. Generic
    over the families (``catoiac import`` finds them by ``ResourceSpec.policy``)."""
    by_id = by_id or _id_refs(kind, None, session.reader)
    live = _live_sections(kind, session.reader.get(kind.field), by_id)
    sections = [s for s in live if s.id]
    if not sections:
        return None
    rules = lambda s: [_full(kind, r) for r in s.rules if not r.system]  # noqa: E731
    return resource_id(kind, [s.name for s in sections]), {
        "sections": [{"name": s.name, "rules": rules(s)} for s in sections]
    }


def _leftover_first(live: list[Section], desired: list[Mapping[str, Any]]) -> set[Ref]:
    """On create, an empty first section with a declared name is taken over: Cato never removes a
    policy's first section, so a destroyed resource that owned it leaves it behind, empty."""
    first = live[0] if live and live[0].id else None
    if first and first.name in {d["name"] for d in desired} and all(r.system for r in first.rules):
        return {first.id}
    return set()


def _outputs(kind: PolicyKind, rid: str, inputs: Mapping[str, Any], mine: list[Section]) -> dict[str, Any]:
    return {
        **inputs,
        "resource_id": rid,
        "policy": kind.field,
        "section_ids": {s.name: str(s.id) for s in mine},
        "rule_ids": {r.name: str(r.id) for s in mine for r in s.rules if not r.system},
    }


# -- checks against the read path ----------------------------------------------------------------
def rule_refs(kind: PolicyKind, desired: list[Mapping[str, Any]]) -> list[RuleRef]:
    """Every reference in the desired sections' rules, with its property path."""
    out = []
    for i, d in enumerate(desired):
        for j, rule in enumerate(d.get("rules") or []):
            for path, t, item in kind.rule.refs(rule, f"sections[{i}].rules[{j}]"):
                ref = as_ref(path, t, item)
                if ref is not None:
                    out.append(ref)
    return out


def check_refs(kind: PolicyKind, session: Session, desired: list[Mapping[str, Any]]) -> None:
    """At apply: every reference to an account object names exactly one (catalogs were checked at
    preview, and Cato judges them)."""
    refs = [r for r in rule_refs(kind, desired) if REF_COLLECTIONS.get(r.type) in LOADERS]
    problems = RefChecker(session.reader, catalogs=False).problems(refs)
    if problems:
        raise PlanError("; ".join(f"{path}: {reason}" for path, reason in problems))


# Rules per policy: Cato KB 4414483096465 (CMA Technical Guidelines, "Entity Limits per Account").
MAX_RULES_PER_POLICY = 10_000


def preview_problems(
    kind: PolicyKind,
    reader: AccountReader,
    olds: Mapping[str, Any] | None,
    news: Mapping[str, Any],
    owns: Callable[[str], bool] = lambda _section_id: False,
    whose: Callable[[str], str | None] | None = None,
) -> list[tuple[str, str]]:
    """What apply would refuse, judged on ``reader``'s view of the policy without writing: the plan
    (names of sections and rules someone else owns, positions, ``after_section``) and the rule limit.
    The owned sections are those the old inputs name, as for a state without ``section_ids``."""
    desired = list(news.get("sections") or [])
    names = [d.get("name") for d in desired]
    if any(not isinstance(n, str) or n == UNKNOWN for n in names) or any(
        not isinstance(r.get("name"), str) or r.get("name") == UNKNOWN
        for d in desired
        for r in d.get("rules") or []
    ):
        return []  # names not known yet: planned once they are
    collection = reader.get(kind.field)
    old_names = [s.get("name") for s in (olds or {}).get("sections") or []]
    rid = resource_id(kind, [n for n in old_names if isinstance(n, str)]) if old_names else None
    adopt = news.get(ADOPT_KEY)  # an import_: the sections its id names are the resource's
    rid = str(adopt) if adopt else rid
    try:
        by_id = _id_refs(kind, news, reader)
        live, owned = _mine(kind, collection, by_id, rid, olds or {} if rid else None)
        if rid is None:
            owned = _leftover_first(live, desired)
        recovered = {s.id for s in live if s.id and s.id not in owned and owns(s.id)}  # the journal's
        if recovered:
            owned |= recovered
            live = _live_sections(kind, collection, by_id, owned, _strays(olds, live, owned))
        strays = _strays(olds, live, owned)  # ours, moved out of band: apply moves them back
        foreign = sum(
            len([r for r in s.rules if not r.system and r.id not in strays])
            for s in live
            if not (s.id and s.id in owned)
        )
        wanted = sum(len(d.get("rules") or []) for d in desired)
        if foreign + wanted > MAX_RULES_PER_POLICY:
            return [("sections", f"the policy would hold {foreign + wanted} rules ({foreign} of others, {wanted} "
                     f"here): Cato allows {MAX_RULES_PER_POLICY} per policy; remove some")]  # fmt: skip
        _refuse_foreign(kind, whose, live, owned, desired)
        plan(live, owned, desired, after_section=news.get("after_section"), deleting=False, rules=strays,
             sub_key=kind.rule.sub_key)  # fmt: skip
    except PlanError as e:
        head, sep, rest = e.message.partition(": ")
        if sep and (head.startswith("sections[") or head == "after_section"):
            return [(head, rest)]
        return [("sections", e.message)]
    return []


# -- apply ----------------------------------------------------------------------------------------
class _Revision:
    """One open revision of one policy and the operations run in it."""

    def __init__(self, kind: PolicyKind, session: Session, rid: str) -> None:
        self.kind, self.client, self.name = kind, session.client, f"{REVISION_PREFIX}{rid}"
        self.reader = session.reader
        self.id: str | None = None
        self.created: dict[New, str] = {}

    def _ns(self, data: Mapping[str, Any]) -> Mapping[str, Any]:
        return data["policy"][self.kind.field]

    def discard_leftovers(self) -> None:
        data = self.client.execute(self.kind.doc("Revisions"), {})
        for rev in (self._ns(data).get("revisions") or {}).get("revision") or []:
            if rev["name"] == self.name:
                logger.info("discarding revision %s left open by an interrupted run", rev["id"])
                self.client.execute(self.kind.doc("DiscardRevision"), {"revisionId": rev["id"]})

    def open(self, description: str) -> dict[str, dict[str, Any]]:
        """Create the revision; its layout as the read path's collection shape."""
        try:
            data = self.client.execute(
                self.kind.doc("CreateRevision"), {"input": {"name": self.name, "description": description}}
            )
        except OutcomeUnknownError:
            self.discard_leftovers()  # it may exist: it must not stay open
            raise
        policy = self._ns(data)["createPolicyRevision"]["policy"]
        self.id = str(policy["revision"]["id"])
        return _sections_of(policy)

    def read(self) -> dict[str, dict[str, Any]]:
        data = self.client.execute(self.kind.doc("Read"), {"input": {"revision": {"id": self.id}}})
        return _sections_of(self._ns(data)["policy"])

    def ref(self, r: Ref | None) -> str | None:
        return self.created[r] if isinstance(r, New) else r

    def resolve(self, type_name: str, ref: Mapping[str, str]) -> str:
        """A site-scoped reference's id (Cato has no such form); checked before the revision opened."""
        try:
            return resolve_scoped(self.reader, type_name, ref)
        except ScopedRefError as e:
            raise PlanError(str(e)) from None

    def run(self, op: Op) -> None:
        if op.is_sub:
            return self._run_sub(op)
        kind, variables = self.kind, {"revisionId": self.id}
        pos = {"position": op.position, "ref": self.ref(op.ref)} if op.position else None
        if op.kind == "addRule":
            variables["input"] = {
                "rule": kind.rule.to_graphql(op.body or {}, resolve=self.resolve),
                "at": pos,
            }
        elif op.kind == "updateRule":
            target = f"{kind.prefix}UpdateRuleDataInput"
            body = kind.rule.to_graphql(op.body or {}, target=target, resolve=self.resolve)
            variables["input"] = {"id": self.ref(op.target), "rule": body}
        elif op.kind in ("moveRule", "moveSection"):
            variables["input"] = {"id": self.ref(op.target), "to": pos}
        elif op.kind in ("removeRule", "removeSection"):
            variables["input"] = {"id": self.ref(op.target)}
        elif op.kind == "addSection":
            variables["input"] = {"section": {"name": op.name}, "at": pos}
        elif op.kind == "updateSection":
            variables["input"] = {"id": self.ref(op.target), "section": {"name": op.name}}
        data = self.client.execute(kind.doc(op.kind[0].upper() + op.kind[1:]), variables)
        if isinstance(op.target, New):
            payload = self._ns(data)[op.kind]
            obj = payload["rule"]["rule"] if op.kind == "addRule" else payload["section"]["section"]
            self.created[op.target] = str(obj["id"])

    def _run_sub(self, op: Op) -> None:
        """A sub-rule operation (socketLan's ``firewall`` mutations), positioned within its rule."""
        sub = self.kind.sub
        assert sub is not None, op
        name = op.kind.replace("SubRule", "Rule")  # addRule, updateRule...
        variables: dict[str, Any] = {"revisionId": self.id}
        if name == "addRule":
            at = {"position": op.position, "ref": self.ref(op.ref)}
            variables["input"] = {"rule": sub.rule.to_graphql(op.body or {}, resolve=self.resolve), "at": at}
        elif name == "updateRule":
            target = f"{sub.prefix}UpdateRuleDataInput"
            body = sub.rule.to_graphql(op.body or {}, target=target, resolve=self.resolve)
            variables["input"] = {"id": self.ref(op.target), "rule": body}
        elif name == "moveRule":
            variables["input"] = {
                "id": self.ref(op.target),
                "to": {"position": op.position, "ref": self.ref(op.ref)},
            }
        else:
            variables["input"] = {"id": self.ref(op.target)}
        data = self.client.execute(sub.doc(name[0].upper() + name[1:]), variables)
        if isinstance(op.target, New):
            self.created[op.target] = str(self._ns(data)[sub.field][name]["rule"]["rule"]["id"])

    def publish(self, description: str) -> None:
        variables = {"revisionId": self.id, "input": {"name": self.name, "description": description}}
        try:
            self.client.execute(self.kind.doc("PublishRevision"), variables)
        except OutcomeUnknownError:
            if self.is_open():
                raise
            logger.info("publish reply lost, but revision %s is no longer open: it was published", self.id)
        self.id = None

    def is_open(self) -> bool:
        data = self.client.execute(self.kind.doc("Revisions"), {})
        return any(r["id"] == self.id for r in (self._ns(data).get("revisions") or {}).get("revision") or [])

    def discard(self) -> str:
        """Discard after a failure; returns a note for the error message."""
        if self.id is None:
            return ""
        try:
            self.client.execute(self.kind.doc("DiscardRevision"), {"revisionId": self.id})
        except CatoError as e:
            return (
                f"; discarding revision {self.id} failed too ({e}): nothing was published, and the next run "
                "discards it"
            )
        return f"; revision {self.id} was discarded, the published policy is unchanged"


def _summary(ops: list[Op]) -> str:
    counts: dict[str, int] = {}
    for op in ops:
        counts[op.kind] = counts.get(op.kind, 0) + 1
    return ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "no change"


def _layout(sections: Mapping[str, Mapping[str, Any]]) -> list[Any]:
    return [(s["id"], s["name"], [r["id"] for r in s["rules"]]) for s in sections.values()]


def _recovered(kind: PolicyKind, claim: Claim | None, live: list[Section]) -> set[Ref]:
    """Section ids this resource's journal entry proves ours that are live: an interrupted run
    published them (or adopted them) but the stack never recorded them."""
    entry = claim.read() if claim is not None else None
    if entry is None or entry.get("spec") != kind.spec:
        return set()
    ids = {str(i) for i in (entry.get("sections") or {}).values()}
    return {s.id for s in live if s.id and s.id in ids}


def _refuse_foreign(
    kind: PolicyKind, whose: Callable[[str], str | None] | None, live, owned, desired
) -> None:
    """A declared section that exists and is another catoiac resource's: say whose (the planner
    refuses the others, for which no owner is known, with a hint to import). ``whose(section id)``
    names the owner the journal knows."""
    if whose is None:
        return
    theirs = {s.name: s.id for s in live if s.id and s.id not in owned}
    for i, d in enumerate(desired):
        sid = theirs.get(d["name"])
        owner = sid and whose(str(sid))
        if owner:
            raise PlanError(
                f"sections[{i}]: a section named {d['name']!r} already exists in the {kind.field} policy and "
                f"belongs to {owner}: pick another name, or remove it from that program first"
            )


def _journal_whose(claim: Claim | None) -> Callable[[str], str | None] | None:
    if claim is None:
        return None
    return lambda sid: claim.journal.owner_of(claim.endpoint, claim.account, sid, besides=claim.owner)


def _owned_layout(final: list[Section], owned: set[Ref], created: Mapping[New, str]) -> list[Section]:
    return [
        Section(
            created.get(s.id, s.id),
            s.name,
            [Rule(created.get(r.id, r.id), r.name) for r in s.rules if not r.system],
        )
        for s in final
        if isinstance(s.id, New) or (s.id and s.id in owned)
    ]


def apply(
    kind: PolicyKind,
    session: Session,
    rid: str | None,
    olds: Mapping[str, Any] | None,
    news,
    claim: Claim | None = None,
):
    """Create (rid None), update, or delete (news None) the owned sections; (id, outputs).
    ``claim`` is the resource's journal entry (see ``catoiac.journal``)."""
    desired = list((news or {}).get("sections") or [])
    after = (news or {}).get("after_section")
    rid = rid or resource_id(kind, [d["name"] for d in desired])
    deleting = news is None
    by_id = _id_refs(kind, news, session.reader)  # live bodies in the form of the desired ones
    if desired:
        check_refs(kind, session, desired)
    collection = session.reader.get(kind.field)
    live, owned = _mine(kind, collection, by_id, rid, olds)
    if olds is None:
        owned = _leftover_first(live, desired)
    recovered = _recovered(kind, claim, live) - owned
    if recovered:
        logger.info("%s: adopting sections an interrupted run published: %s", rid, sorted(recovered))
        owned |= recovered
        live = _live_sections(kind, collection, by_id, owned, _strays(olds, live, owned))
    _refuse_foreign(kind, _journal_whose(claim), live, owned, desired)
    strays = _strays(olds, live, owned)
    sub_key = kind.rule.sub_key
    ops = plan(live, owned, desired, after_section=after, deleting=deleting, rules=strays, sub_key=sub_key)
    if not ops:
        mine = [s for s in live if s.id in owned]
        if claim is not None and deleting:
            claim.forget()
        elif claim is not None and recovered:
            claim.write("published", kind.spec, policy=kind.field, sections={s.name: str(s.id) for s in mine})
        return rid, _outputs(kind, rid, news or {}, mine)

    rev = _Revision(kind, session, rid)
    try:
        rev.discard_leftovers()
        layout = rev.open(f"pulumi: {_summary(ops)}")
        if _layout(layout) != _layout(collection):  # someone published since our read: plan again
            layout = rev.read()
            live = _live_sections(kind, layout, by_id, owned, strays)
            owned = {s.id for s in live if s.id in owned}
            strays = _strays(olds, live, owned)
            ops = plan(
                live, owned, desired, after_section=after, deleting=deleting, rules=strays, sub_key=sub_key
            )
        for op in ops:
            lifeline.ensure_alive(fresh=False)
            try:
                rev.run(op)
            except CatoError as e:
                raise PolicyApplyError(f"{op.describe()} failed: {e}") from e
        mine = _owned_layout(simulate(live, ops), owned, rev.created)
        if claim is not None:
            # Written before the publish: ids made in our own revision are ours wherever they show up.
            sections = {s.name: str(s.id) for s in mine}
            claim.write("publishing", kind.spec, policy=kind.field, revision=rev.id, sections=sections)
        lifeline.ensure_alive()  # never publish for an engine that is gone: discard instead
        rev.publish(f"pulumi: {_summary(ops)}")
    except CatoError as e:
        raise PolicyApplyError(f"{kind.prefix}Policy {rid}: {e}{rev.discard()}") from e
    except BaseException:
        rev.discard()
        raise
    finally:
        session.reader.invalidate(kind.field)

    if claim is not None:
        if deleting:
            claim.forget()
        else:
            claim.write("published", kind.spec, policy=kind.field, sections={s.name: str(s.id) for s in mine})
    return rid, _outputs(kind, rid, news or {}, mine)
