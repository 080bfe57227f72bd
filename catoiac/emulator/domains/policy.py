"""Policies: every family of ``policy`` (internetFirewall, wanFirewall, wanNetwork, tlsInspect,
socketLan, applicationControl...): sections, rules, revisions.

One backend serves them all, parameterised by ``Kind`` (``FAMILIES``): in Cato's schema every family
has the same revision model and the same mutations, only the rule types differ, and the rule bodies
are handled from the schema (``policy_refs``). socketLan's LAN rules also hold ordered ``firewall``
sub-rules (``policy.socketLan.firewall.addRule``...): stored inside their LAN rule's body, so a
sub-rule change is a change of that rule in the revision (it locks the rule). Sub-rule names are
unique within their LAN rule.

Model, after Cato's "Working with Policy Revisions":

- The published policy is what the account enforces. Every change goes into an unpublished
  revision owned by one identity (API key or admin). A mutation without ``input.revision.id`` uses
  the caller's working revision: its latest open revision, created implicitly on first use.
  Another identity's revision (or one of the other policy) gives ``PolicyRevisionMismatch``
  ("Revision is not owned by the admin"); an unknown, published or discarded one
  ``PolicyRevisionNotFound``. Publishing or discarding when the caller has no revision is a no-op.
- Concurrency is by locks, as in Cato, not by refusing stale revisions. An object a revision
  updates, moves or removes is LOCKED for other revisions; an object it positions against (the
  ``ref`` of an add or move) is ANCHORED: others may still edit its content but not move, remove
  or reference it. Conflicts fail at once (``ruleIsLocked``, ``sectionIsLocked``,
  ``ruleSectionIsLocked``). A revision keeps its operations; a publish bumps the published
  version and each open revision is rebased lazily (its operations replayed onto the new
  published policy), so publishes merge. Names are unique per policy, checked in the revision
  (``ruleNameAlreadyExists``, ``DuplicateSectionName``) and again at publish (``DuplicateRuleName``,
  ``DuplicateSectionName``: two revisions may pick the same new name). ``ConcurrentPolicyPublish``
  cannot occur: the emulator serialises requests.
- Sections are contiguous runs of the ordered rules. Without sections a rule's section is
  ``{id: "", name: ""}``. The first section created takes every rule and stays first: it cannot be
  moved or removed (``sectionSystemMove``) and nothing goes before it (``sectionPositionInvalid``).
  Removing another section keeps its rules, which join the section above (an assumption).
  Fixture rules marked ``system: true`` head the first section and are read-only.
- ``policy`` without ``input.revision`` is the published policy; ``{revision: {id}}`` that
  revision; ``{revision: {type: PRIVATE}}`` the caller's working revision (or the published one).
  ``revisions`` lists the caller's open revisions.
- Business failures are payloads (status FAILURE, ``errors [{errorCode, errorMessage}]`` with
  Cato's codes). Each mutation runs in a savepoint that a failure rolls back: it changes nothing.
- Audit: changes inside a revision are private and write nothing. Publishing writes, as the
  publisher, one record per changed rule/section (CREATED, MODIFIED, ENABLED/DISABLED when only
  ``enabled`` flipped, DELETED; before/after of scalar fields, index and section for the two
  firewalls only, per Cato KB 4413273463953: other families' records carry no values), then one
  ``PolicyRevision`` record (MODIFIED, status UNPUBLISHED -> PUBLISHED). createPolicyRevision and
  discardPolicyRevision write a ``PolicyRevision`` CREATED / DELETED record.

Storage (store entities): ``fwPolicy`` (published doc per policy: version, layout, names),
``fwRevision`` (open revisions: owner, ops, locks, changes, materialised layout) and ``fwRule``
(one JSON body per rule, scope = the policy for published bodies or a revision id for the bodies
it changed), so a whole policy is two indexed queries.

Fixture, an account's ``policies:`` section, loaded as the published state::

    policies:
      internet_firewall:                # any family, by its field in snake_case: wan_network, socket_lan...
        enabled: true
        sections:                       # or `rules:` for a policy without sections
          - name: Corporate
            id: optional                # default: a UUID (rules too)
            rules:
              - name: Block social
                system: false           # optional
                enabled: true
                action: BLOCK
                source: {site: [HQ], ip: [10.0.0.1]}   # refs: "name", {name: ..}, {id: ..}, {by, input}
                destination: {application: [{id: facebook}]}
                # ...any field of the family's <Prefix>AddRuleDataInput
                # socket_lan rules only: `firewall: [...]`, fields of SocketLanFirewallAddRuleDataInput

Objects rules refer to that the emulator has no domain for (global IP ranges, allocated IPs,
bandwidth profiles, private apps, DLP profiles...) come from ``policy_refs:`` in the account
fixture: ``{<store kind>: [{name, id (optional)}]}``; see ``policy_refs.REF_SOURCES`` for the kinds.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from graphql import GraphQLError, GraphQLInputObjectType, GraphQLObjectType
from graphql.utilities import coerce_input_value

from .. import audit
from ..context import CatoGraphQLError, RequestContext
from ..registry import mutation, query, seeder
from .policy_refs import FIXTURE_REF_KINDS, RefError, Resolver, expand_shorthand, fill, merge, walk_refs

ERRORS = {  # Cato's codes and messages (PolicyMutationError's documentation)
    "PolicyRevisionMismatch": "Revision is not owned by the admin",
    "PolicyRevisionNotFound": "Revision was not found",
    "PolicyInvalidEntity": "Invalid entity",
    "DuplicateRuleName": "Rule with the same name already exists",
    "DuplicateSectionName": "Section with the same name already exists",
    "ruleIsLocked": "Rule is locked by another revision",
    "ruleWasRemoved": "Rule was already removed",
    "ruleNotExist": "Rule does not exist",
    "ruleSectionNotExist": "Section does not exist",
    "ruleSectionIsLocked": "Section is locked by another revision",
    "rulePositionInvalid": "Rule position is invalid",
    "ruleNameIsEmpty": "Rule name can't be empty",
    "ruleNameAlreadyExists": "Rule with the same name already exists",
    "ruleSystemModification": "Can't modify a system rule",
    "ruleSystemMove": "Can't add a rule above the system rules",
    "ruleHasInvalidEntity": "Rule has an invalid entity",
    "sectionIsLocked": "Section is locked by another revision",
    "sectionSystemMove": "Section with system rules cannot be moved or removed",
    "sectionNotExist": "Section does not exist",
    "sectionPositionInvalid": "Section position is invalid",
}
MAX_RULES = 10_000  # rules per policy: Cato KB 4414483096465 ("Cato Management Application limits")
NOT_IN_BODY = frozenset({"id", "index", "section"})  # derived from the layout when served
AUDIT_FIELDS = ("name", "description", "enabled", "action", "direction", "connectionOrigin")
_savepoints = itertools.count()
_PUBLISHED: dict[tuple[int, str, str], tuple[tuple, dict[str, dict[str, Any]]]] = {}


class Failure(Exception):
    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(code)
        self.code = code
        self.message = ERRORS[code] + (f": {detail}" if detail else "")


@dataclass(frozen=True)
class Kind:
    field: str  # namespace field and store scope: internetFirewall
    prefix: str  # schema type prefix: InternetFirewall
    module: str  # audit module: one of the SDL's "administration, configuration, security"
    fixture: str  # fixture key
    sub: str | None = None  # a rule's sub-rule field and mutation namespace (socketLan: firewall)
    sub_prefix: str = ""  # their type prefix: SocketLanFirewall

    def _type(self, name: str) -> Any:
        from ..app import emulator_schema  # late: app imports the domains

        return emulator_schema().type_map[self.prefix + name]

    @cached_property
    def add_input(self) -> GraphQLInputObjectType:
        return self._type("AddRuleDataInput")

    @cached_property
    def update_input(self) -> GraphQLInputObjectType:
        return self._type("UpdateRuleDataInput")

    @cached_property
    def rule_type(self) -> GraphQLObjectType:
        return self._type("Rule")

    def _sub_type(self, name: str) -> Any:
        from ..app import emulator_schema

        return emulator_schema().type_map[self.sub_prefix + name] if self.sub else None

    @cached_property
    def sub_add_input(self) -> GraphQLInputObjectType:
        return self._sub_type("AddRuleDataInput")

    @cached_property
    def sub_update_input(self) -> GraphQLInputObjectType:
        return self._sub_type("UpdateRuleDataInput")

    @cached_property
    def sub_rule_type(self) -> GraphQLObjectType:
        return self._sub_type("Rule")


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


# Every family of Cato's PolicyMutations: (field, type prefix). socketLan's rules hold `firewall`
# sub-rules. Audit records carry values for the two firewalls only (audit.VALUED_MODELS).
FAMILIES = (
    ("internetFirewall", "InternetFirewall"),
    ("wanFirewall", "WanFirewall"),
    ("wanNetwork", "WanNetwork"),
    ("tlsInspect", "TlsInspect"),
    ("socketLan", "SocketLan"),
    ("applicationControl", "ApplicationControl"),
    ("appTenantRestriction", "AppTenantRestriction"),
    ("privateAccess", "PrivateAccess"),
    ("remotePortFwd", "RemotePortFwd"),
    ("terminalServer", "TerminalServer"),
    ("antiMalwareFileHash", "AntiMalwareFileHash"),
    ("dynamicIpAllocation", "DynamicIpAllocation"),
)
POLICIES = {
    field: Kind(
        field,
        prefix,
        "security",  # as the firewalls' (FIDELITY A6); assumed for the other families
        _snake(field),
        sub="firewall" if field == "socketLan" else None,
        sub_prefix="SocketLanFirewall" if field == "socketLan" else "",
    )
    for field, prefix in FAMILIES
}


def _ts(ctx: RequestContext) -> str:
    return ctx.now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ctx.now.microsecond // 1000:03d}Z"


# -- layout: [[section id | None, [rule ids]]...], names, sections ------------------------------
def _empty() -> dict[str, Any]:
    return {"layout": [[None, []]], "names": {}, "sections": {}, "saudit": {}, "system": []}


def _copy(st: dict[str, Any]) -> dict[str, Any]:
    return {
        "layout": [[s, list(r)] for s, r in st["layout"]],
        "names": dict(st["names"]),
        "sections": dict(st["sections"]),
        "saudit": dict(st["saudit"]),
        "system": list(st["system"]),
    }


def _where(st: dict[str, Any], rid: str) -> tuple[int, int] | None:
    for i, (_, rules) in enumerate(st["layout"]):
        if rid in rules:
            return i, rules.index(rid)
    return None


def _section_at(st: dict[str, Any], sid: str | None) -> int | None:
    return next((i for i, (s, _) in enumerate(st["layout"]) if sid and s == sid), None)


def _top(rules: list[str], system: set[str]) -> int:
    return next((k for k, r in enumerate(rules) if r not in system), len(rules))


def _place_rule(st: dict[str, Any], rid: str, at: dict | None) -> None:
    layout, system = st["layout"], set(st["system"])
    pos, ref = (at or {}).get("position") or "LAST_IN_POLICY", (at or {}).get("ref")
    if pos == "LAST_IN_POLICY":
        i, k = len(layout) - 1, len(layout[-1][1])
    elif pos == "FIRST_IN_POLICY":
        i, k = 0, _top(layout[0][1], system)
    elif pos in ("FIRST_IN_SECTION", "LAST_IN_SECTION"):
        if not ref:
            raise Failure("rulePositionInvalid", f"{pos} needs a section id in ref")
        i = _section_at(st, ref)
        if i is None:
            raise Failure("ruleSectionNotExist", f"section {ref!r}")
        k = _top(layout[i][1], system) if pos == "FIRST_IN_SECTION" else len(layout[i][1])
    else:
        w = _where(st, ref) if ref and ref != rid else None
        if w is None:
            raise Failure("rulePositionInvalid", f"{pos} needs the id of another rule in ref, got {ref!r}")
        i, k = w[0], w[1] + (pos == "AFTER_RULE")
    if any(r in system for r in layout[i][1][k:]):
        raise Failure("ruleSystemMove")
    layout[i][1].insert(k, rid)


def _place_section(st: dict[str, Any], sid: str, at: dict | None, rules: list[str]) -> None:
    layout = st["layout"]
    pos, ref = (at or {}).get("position") or "LAST_IN_POLICY", (at or {}).get("ref")
    if layout[0][0] is None:  # the first section takes every rule of the policy
        if pos != "LAST_IN_POLICY":
            raise Failure("sectionNotExist", f"the policy has no sections yet, so no {ref!r}")
        layout[0][0] = sid
        return
    if pos == "LAST_IN_POLICY":
        layout.append([sid, rules])
        return
    i = _section_at(st, ref)
    if i is None:
        bad_ref = not ref or ref == sid
        raise Failure("sectionPositionInvalid" if bad_ref else "sectionNotExist", f"{pos} ref {ref!r}")
    if pos == "BEFORE_SECTION" and i == 0:
        raise Failure("sectionPositionInvalid", "no section can precede the first section")
    layout.insert(i + (pos == "AFTER_SECTION"), [sid, rules])


def _apply(st: dict[str, Any], op: dict[str, Any]) -> None:
    """Apply one revision operation to a layout in place (callers work on a copy)."""
    kind, oid = op["op"], op["id"]
    if kind == "addRule":
        _place_rule(st, oid, op.get("at"))
        st["names"][oid] = op["name"]
    elif kind in ("updateRule", "removeRule", "moveRule"):
        w = _where(st, oid)
        if w is None:
            raise Failure("ruleNotExist", oid)
        if kind == "updateRule":
            st["names"][oid] = op["name"]
            return
        del st["layout"][w[0]][1][w[1]]
        if kind == "removeRule":
            del st["names"][oid]
        else:
            _place_rule(st, oid, op.get("to"))
    elif kind == "addSection":
        _place_section(st, oid, op.get("at"), [])
        st["sections"][oid], st["saudit"][oid] = op["name"], op["audit"]
    else:
        i = _section_at(st, oid)
        if i is None:
            raise Failure("sectionNotExist", oid)
        if kind == "updateSection":
            st["sections"][oid], st["saudit"][oid] = op["name"], op["audit"]
            return
        if i == 0:
            raise Failure("sectionSystemMove", "the first section stays first")
        _, rules = st["layout"].pop(i)
        if kind == "removeSection":
            st["layout"][i - 1][1].extend(rules)
            del st["sections"][oid]
        else:
            _place_section(st, oid, op.get("to"), rules)
            st["saudit"][oid] = op["audit"]


def _replay(st: dict[str, Any], ops: list[dict[str, Any]]) -> dict[str, Any]:
    """Rebase: replay a revision's operations on a newer published layout. Locks keep the objects
    they touch and reference stable, so failures are rare; a position that no longer resolves
    falls back to the end of the policy, an operation on a vanished object is dropped."""
    for op in ops:
        pos_key = {"addRule": "at", "moveRule": "to", "addSection": "at", "moveSection": "to"}.get(op["op"])
        for attempt in (op, {**op, pos_key: None} if pos_key else None):
            if attempt is None:
                break
            trial = _copy(st)
            try:
                _apply(trial, attempt)
            except Failure:
                continue
            st = trial
            break
    return st


def _indexes(st: dict[str, Any]) -> tuple[dict[str, tuple[int, str]], dict[str, int]]:
    rules, sections, n = {}, {}, 0
    for si, (sid, rids) in enumerate(st["layout"]):
        if sid:
            sections[sid] = si + 1
        for rid in rids:
            n += 1
            rules[rid] = (n, st["sections"].get(sid, ""))
    return rules, sections


# -- one policy of the caller's account ---------------------------------------------------------
class Policy:
    def __init__(self, ctx: RequestContext, kind: Kind) -> None:
        self.ctx, self.kind, self.store, self.acc = ctx, kind, ctx.store, ctx.account_id
        self.owner = f"{ctx.identity.kind}:{ctx.identity.id}"
        self._pub: dict[str, Any] | None = None
        self._revs: list[dict[str, Any]] | None = None

    def forget(self) -> None:
        """Drop cached docs: after a rollback they may hold changes the store no longer has."""
        self._pub = self._revs = None

    @property
    def pub(self) -> dict[str, Any]:
        if self._pub is None:
            self._pub = self.store.get(self.acc, "fwPolicy", self.kind.field) or {
                "version": 0, "enabled": True, "state": _empty(), "audit": None, "revision": None,
            }  # fmt: skip
        return self._pub

    def save_pub(self) -> None:
        self.store.put(self.acc, "fwPolicy", self.kind.field, self.pub)

    def revisions(self) -> list[dict[str, Any]]:
        if self._revs is None:
            self._revs = self.store.list(self.acc, "fwRevision", parent_id=self.kind.field)
        return self._revs

    def save_rev(self, rev: dict[str, Any]) -> None:
        self.store.put(self.acc, "fwRevision", rev["id"], rev, parent_id=self.kind.field)

    def bodies(self, scope: str) -> dict[str, dict[str, Any]]:
        return {b["id"]: b for b in self.store.list(self.acc, "fwRule", parent_id=scope)}

    def published_bodies(self) -> dict[str, dict[str, Any]]:
        """The published rule bodies, parsed once per publish: decoding a 1,000-rule policy costs more
        than the rest of serving it. Keyed by the publish's unique revision id, so a rolled-back
        publish can never be mistaken for a later one. Callers must not mutate the result."""
        token = (self.pub["version"], (self.pub["revision"] or {}).get("id"))
        key = (id(self.store), self.acc, self.kind.field)
        hit = _PUBLISHED.get(key)
        if hit is None or hit[0] != token:
            if len(_PUBLISHED) >= 64:  # bounded: tests create many emulators and accounts
                del _PUBLISHED[next(iter(_PUBLISHED))]
            hit = _PUBLISHED[key] = (token, self.bodies(self.kind.field))
        return hit[1]

    def body(self, rid: str, rev: dict | None) -> dict[str, Any]:
        found = self.store.get(self.acc, "fwRule", f"{rev['id']}/{rid}") if rev else None
        return found or self.store.get(self.acc, "fwRule", f"{self.kind.field}/{rid}") or {}

    def put_body(self, scope: str, body: dict[str, Any]) -> None:
        self.store.put(self.acc, "fwRule", f"{scope}/{body['id']}", body, parent_id=scope)

    # revisions
    def create_revision(self, name: str, description: str) -> dict[str, Any]:
        now = _ts(self.ctx)
        rev = {
            "id": str(uuid.uuid4()), "policy": self.kind.field, "owner": self.owner, "name": name,
            "description": description, "createdTime": now, "updatedTime": now,
            "base": self.pub["version"], "state": _copy(self.pub["state"]), "ops": [], "locks": {}, "changes": {},
        }  # fmt: skip
        self.save_rev(rev)
        self.revisions().append(rev)
        return rev

    def target(self, rev_id: str | None, create: bool) -> dict[str, Any] | None:
        if rev_id:
            rev = self.store.get(self.acc, "fwRevision", str(rev_id))
            if rev is None:
                raise Failure("PolicyRevisionNotFound", f"revision {rev_id!r}")
            if rev["policy"] != self.kind.field or rev["owner"] != self.owner:
                raise Failure("PolicyRevisionMismatch", f"revision {rev_id!r}")
            return next((r for r in self.revisions() if r["id"] == rev["id"]), rev)
        mine = [r for r in self.revisions() if r["owner"] == self.owner]
        if mine:
            return mine[-1]
        return self.create_revision("", "") if create else None

    def view(self, rev: dict[str, Any]) -> dict[str, Any]:
        if rev["base"] != self.pub["version"]:
            rev["state"], rev["base"] = _replay(_copy(self.pub["state"]), rev["ops"]), self.pub["version"]
            self.save_rev(rev)
        return rev["state"]

    def claim(self, rev: dict[str, Any], oid: str, lock: str, code: str, content_only: bool = False) -> None:
        """Lock (LOCKED) or anchor (ANCHORED) ``oid`` for ``rev``. A content edit is blocked only by
        another revision's LOCKED; a move, removal or reference by any lock or anchor."""
        for other in self.revisions():
            held = other["locks"].get(oid) if other["id"] != rev["id"] else None
            if held == "LOCKED" or (held and not content_only):
                raise Failure(code, oid)
        if rev["locks"].get(oid) != "LOCKED":
            rev["locks"][oid] = lock

    def anchor(self, rev: dict[str, Any], st: dict[str, Any], at: dict | None) -> None:
        ref, pos = (at or {}).get("ref"), (at or {}).get("position") or ""
        if ref and pos.endswith("_RULE") and ref in st["names"]:
            self.claim(rev, ref, "ANCHORED", "ruleIsLocked")
        elif ref and pos.endswith(("_IN_SECTION", "_SECTION")) and ref in st["sections"]:
            self.claim(
                rev, ref, "ANCHORED", "ruleSectionIsLocked" if "IN_SECTION" in pos else "sectionIsLocked"
            )

    def record(self, rev: dict, st: dict, op: dict, otype: str, prop: str | None) -> None:
        rev["state"] = st
        rev["ops"].append(op)
        rev["updatedTime"] = _ts(self.ctx)
        ch = rev["changes"].setdefault(op["id"], {"type": otype, "props": []})
        if prop and prop not in ch["props"] and "ADDED" not in ch["props"]:
            ch["props"].append(prop)
        self.save_rev(rev)

    # rule bodies
    def finish_sub(self, body: dict[str, Any], sid: str) -> dict[str, Any]:
        body = fill(body, self.kind.sub_rule_type, NOT_IN_BODY)
        body["id"] = sid
        body["_audit"] = {"updatedBy": self.ctx.identity.name, "updatedTime": _ts(self.ctx)}
        return body

    def finish(self, body: dict[str, Any], rid: str) -> dict[str, Any]:
        sub = self.kind.sub
        body = fill(body, self.kind.rule_type, NOT_IN_BODY | {sub} if sub else NOT_IN_BODY)
        if sub:  # stored as sub-rule bodies, served as payloads (see served)
            body[sub] = list(body.get(sub) or [])
        body["id"] = rid
        body["_audit"] = {"updatedBy": self.ctx.identity.name, "updatedTime": _ts(self.ctx)}
        body.setdefault("_created", _ts(self.ctx))
        return body

    def resolve(self, value: dict[str, Any], t: GraphQLInputObjectType) -> dict[str, Any]:
        try:
            return Resolver(self.ctx).resolve(value, t)
        except RefError as e:
            raise Failure("ruleHasInvalidEntity", str(e)) from None

    # payloads
    def props(self, rev: dict | None, st: dict) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {rid: ["SYSTEM"] for rid in st["system"]}
        for r in self.revisions():
            if r["owner"] != self.owner and (rev is None or r["id"] != rev["id"]):
                for oid, lock in r["locks"].items():
                    out.setdefault(oid, []).append(lock)
        for oid, ch in (rev or {}).get("changes", {}).items():
            out.setdefault(oid, []).extend(p for p in ch["props"] if p != "REMOVED")
        return out

    def section_info(self, st: dict, sid: str | None) -> dict[str, Any]:
        return {"id": sid or "", "name": st["sections"].get(sid, ""), "subPolicyId": None}

    def served(self, b: dict[str, Any], index: int, sec: dict[str, Any], props: dict[str, list[str]]) -> dict:
        """A stored rule body as the API serves it: with its place, and its sub-rules as payloads."""
        rule = {**b, "index": index, "section": sec}
        if self.kind.sub:
            rule[self.kind.sub] = [
                {"audit": x["_audit"], "properties": props.get(x["id"], []), "rule": {**x, "index": k + 1, "section": sec}}
                for k, x in enumerate(b.get(self.kind.sub) or [])
            ]  # fmt: skip
        return rule

    def rule_payload(self, rev: dict | None, st: dict, rid: str, props: list[str] | None = None) -> dict:
        b, (index, _) = self.body(rid, rev), _indexes(st)[0][rid]
        sid = st["layout"][_where(st, rid)[0]][0]
        own = (rev or {}).get("changes", {}).get(rid, {}).get("props", [])
        rule = self.served(b, index, self.section_info(st, sid), self.props(rev, st))
        return {"audit": b["_audit"], "properties": props if props is not None else list(own), "rule": rule}

    def sub_payload(self, rev: dict, st: dict, parent: str, sid: str, props: list[str] | None = None) -> dict:
        found = self.rule_payload(rev, st, parent)["rule"][self.kind.sub]
        out = next(x for x in found if x["rule"]["id"] == sid)
        return {**out, "properties": props if props is not None else out["properties"]}

    def section_payload(self, st: dict, sid: str, props: list[str]) -> dict[str, Any]:
        audit_ = st["saudit"].get(sid) or {"updatedBy": "", "updatedTime": _ts(self.ctx)}
        info = self.section_info(st, sid)
        return {"section": info, "audit": audit_, "properties": props, "access": {"action": "EDIT"}}

    def rules_payload(self, rev: dict | None, st: dict) -> list[dict[str, Any]]:
        bodies = self.published_bodies()
        if rev:
            bodies = {**bodies, **self.bodies(rev["id"])}
        props, out, n = self.props(rev, st), [], 0
        for sid, rids in st["layout"]:
            sec = self.section_info(st, sid)
            for rid in rids:
                n += 1
                b = bodies[rid]
                out.append(
                    {
                        "audit": b["_audit"],
                        "properties": props.get(rid, []),
                        "rule": self.served(b, n, sec, props),
                    }
                )
        return out

    def policy_payload(self, rev: dict | None) -> dict[str, Any]:
        st = self.view(rev) if rev else self.pub["state"]
        props = self.props(rev, st)
        return {
            "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"cato:{self.acc}:{self.kind.field}")),
            "name": "Main", "description": "", "enabled": self.pub["enabled"], "access": {"action": "EDIT"},
            "audit": self.pub["audit"], "revision": _rev_meta(rev) if rev else self.pub["revision"],
            "sections": lambda info: [self.section_payload(st, s, props.get(s, [])) for s, _ in st["layout"] if s],
            "rules": lambda info: self.rules_payload(rev, st),
        }  # fmt: skip

    # publish
    def publish(self, rev: dict[str, Any], st: dict[str, Any]) -> None:
        pub, old = self.pub, self.pub["state"]
        for names, code in ((st["names"], "DuplicateRuleName"), (st["sections"], "DuplicateSectionName")):
            seen: set[str] = set()
            for n in names.values():
                if n in seen:
                    raise Failure(code, repr(n))
                seen.add(n)
        overlay = self.bodies(rev["id"])
        self.audit_publish(rev, old, st, overlay)
        for rid, b in overlay.items():
            if rid in st["names"]:
                self.put_body(self.kind.field, b)
        for rid in set(old["names"]) - set(st["names"]):
            self.store.delete(self.acc, "fwRule", f"{self.kind.field}/{rid}")
        self.store.delete_children(self.acc, "fwRule", rev["id"])
        self.store.delete(self.acc, "fwRevision", rev["id"])
        self._revs = [r for r in self.revisions() if r["id"] != rev["id"]]
        pub.update(
            version=pub["version"] + 1, state=st, revision={**_rev_meta(rev), "updatedTime": _ts(self.ctx)}
        )
        pub["audit"] = {"publishedBy": self.ctx.identity.name, "publishedTime": _ts(self.ctx)}
        self.save_pub()

    def audit_publish(self, rev: dict, old: dict, new: dict, overlay: dict[str, dict]) -> None:
        (r_old, s_old), (r_new, s_new) = _indexes(old), _indexes(new)
        label, module = self.kind.prefix, self.kind.module
        for oid, ch in rev["changes"].items():
            if ch["type"] == "subRule":
                continue  # a change of its rule, which has its own record
            if ch["type"] == "rule":
                b_old = self.body(oid, None) if oid in r_old else None
                b_new = (overlay.get(oid) or self.body(oid, None)) if oid in r_new else None
                before = _rule_fields(b_old, r_old[oid]) if b_old else None
                after = _rule_fields(b_new, r_new[oid]) if b_new else None
                if before and after and "MOVED" not in ch["props"]:  # shifted by others' moves: no change
                    before, after = _without_place(before), _without_place(after)
                created = (b_new or b_old or {}).get("_created")
                obj_type, model = f"{self.kind.field}Rule", f"{label}Rule"
            else:
                before, after, created = (
                    _section_fields(old, s_old, oid),
                    _section_fields(new, s_new, oid),
                    None,
                )
                obj_type, model = f"{self.kind.field}Section", f"{label}Section"
            if before is None and after is None:
                continue
            if before is None:
                change = "CREATED"
            elif after is None:
                change = "DELETED"
            else:
                diff = {k for k in after if before.get(k) != after[k]}
                change = (
                    ("ENABLED" if after["enabled"] else "DISABLED") if diff == {"enabled"} else "MODIFIED"
                )
            audit.record(  # values for the firewalls only (audit.VALUED_MODELS)
                self.ctx, object_id=oid, object_name=(after or before)["name"], object_type=obj_type,
                change_type=change, model_type=model, module=module, creation_date=created,
                before=before, after=after,
            )  # fmt: skip
        self.audit_revision(
            rev,
            "MODIFIED",
            {"status": "UNPUBLISHED"},
            {"status": "PUBLISHED", "changes": len(rev["changes"])},
        )

    def audit_revision(
        self, rev: dict, change: str, before: dict | None = None, after: dict | None = None
    ) -> None:
        audit.record(
            self.ctx, object_id=rev["id"], object_name=rev["name"], object_type="policyRevision",
            change_type=change, model_type="PolicyRevision", module=self.kind.module, before=before, after=after,
        )  # fmt: skip


def _rule_fields(body: dict[str, Any], where: tuple[int, str]) -> dict[str, Any]:
    out = {k: body[k] for k in AUDIT_FIELDS if k in body}
    out["index"], out["section"] = where
    return out


def _without_place(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if k not in ("index", "section")}


def _section_fields(st: dict[str, Any], idx: dict[str, int], sid: str) -> dict[str, Any] | None:
    return {"name": st["sections"][sid], "index": idx[sid]} if sid in idx else None


def _rev_meta(rev: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "name", "description", "createdTime", "updatedTime")
    return {**{k: rev[k] for k in keys}, "changes": len(rev["changes"])}


# -- GraphQL --------------------------------------------------------------------------------------
def _mutation(kind_of_payload: str):
    """Run a mutation in a savepoint: a Failure rolls it back and becomes a FAILURE payload."""

    def deco(fn):
        def wrapper(self: FwMutations, info: Any, input: dict | None = None) -> dict[str, Any]:
            store, sp = self.p.store, f"fw{next(_savepoints)}"
            store.savepoint(sp)
            try:
                out = fn(self, input or {})
            except BaseException as e:
                store.rollback_to_savepoint(sp)
                store.release(sp)
                self.p.forget()
                if not isinstance(e, Failure):
                    raise
                err = {"errorCode": e.code, "errorMessage": e.message}
                return {"status": "FAILURE", "errors": [err], kind_of_payload: None}
            store.release(sp)
            return {"status": "SUCCESS", "errors": [], **out}

        return wrapper

    return deco


class FwQueries:
    def __init__(self, ctx: RequestContext, kind: Kind) -> None:
        self.p = Policy(ctx, kind)

    def policy(self, info: Any, input: dict | None = None) -> dict[str, Any]:
        sel = (input or {}).get("revision")
        try:
            if not sel or (not sel.get("id") and sel.get("type") == "PUBLIC"):
                rev = None
            else:
                rev = self.p.target(sel.get("id"), create=False)
        except Failure as f:
            raise CatoGraphQLError(f.message, f.code) from None
        return self.p.policy_payload(rev)

    def revisions(self, info: Any) -> dict[str, Any]:
        return {"revision": [_rev_meta(r) for r in self.p.revisions() if r["owner"] == self.p.owner]}


class FwMutations:
    def __init__(self, ctx: RequestContext, kind: Kind, rev_id: str | None) -> None:
        self.p, self.rev_id = Policy(ctx, kind), rev_id

    def __getattr__(self, field: str) -> Any:
        """The sub-rule namespace of a family that has one (socketLan: ``firewall``)."""
        if field != self.p.kind.sub:
            raise AttributeError(field)
        return lambda info: SubRuleMutations(self)

    def _begin(self) -> tuple[dict[str, Any], dict[str, Any]]:
        rev = self.p.target(self.rev_id, create=True)
        return rev, _copy(self.p.view(rev))

    def _existing_rule(self, rev: dict, st: dict, rid: str) -> None:
        if rid not in st["names"]:
            removed = "REMOVED" in rev["changes"].get(rid, {}).get("props", [])
            raise Failure("ruleWasRemoved" if removed else "ruleNotExist", rid)
        if rid in st["system"]:
            raise Failure("ruleSystemModification", rid)

    @staticmethod
    def _unique_rule_name(st: dict, name: str, rid: str) -> None:
        if not name.strip():
            raise Failure("ruleNameIsEmpty")
        if any(n == name and r != rid for r, n in st["names"].items()):
            raise Failure("ruleNameAlreadyExists", repr(name))

    @staticmethod
    def _unique_section_name(st: dict, name: str, sid: str) -> None:
        if not name.strip():
            raise Failure("PolicyInvalidEntity", "a section name can't be empty")
        if any(n == name and s != sid for s, n in st["sections"].items()):
            raise Failure("DuplicateSectionName", repr(name))

    @_mutation("rule")
    def addRule(self, input: dict) -> dict:
        p = self.p
        rev, st = self._begin()
        rid = str(uuid.uuid4())
        if len(st["names"]) >= MAX_RULES:
            raise Failure("PolicyInvalidEntity", f"a policy holds at most {MAX_RULES} rules")
        body = p.finish(p.resolve(input["rule"], p.kind.add_input), rid)
        self._unique_rule_name(st, body["name"], rid)
        op = {"op": "addRule", "id": rid, "name": body["name"], "at": input.get("at")}
        _apply(st, op)
        p.anchor(rev, st, op["at"])
        p.put_body(rev["id"], body)
        p.record(rev, st, op, "rule", "ADDED")
        return {"rule": p.rule_payload(rev, st, rid)}

    @_mutation("rule")
    def updateRule(self, input: dict) -> dict:
        p, rid = self.p, str(input["id"])
        rev, st = self._begin()
        self._existing_rule(rev, st, rid)
        patch = p.resolve(input["rule"], p.kind.update_input)
        body = p.finish(merge(p.body(rid, rev), patch, p.kind.rule_type), rid)
        self._unique_rule_name(st, body["name"], rid)
        p.claim(rev, rid, "LOCKED", "ruleIsLocked", content_only=True)
        op = {"op": "updateRule", "id": rid, "name": body["name"]}
        _apply(st, op)
        p.put_body(rev["id"], body)
        p.record(rev, st, op, "rule", "UPDATED")
        return {"rule": p.rule_payload(rev, st, rid)}

    @_mutation("rule")
    def removeRule(self, input: dict) -> dict:
        p, rid = self.p, str(input["id"])
        rev, st = self._begin()
        self._existing_rule(rev, st, rid)
        p.claim(rev, rid, "LOCKED", "ruleIsLocked")
        gone = p.rule_payload(rev, st, rid, props=["REMOVED"])
        op = {"op": "removeRule", "id": rid}
        _apply(st, op)
        p.store.delete(p.acc, "fwRule", f"{rev['id']}/{rid}")
        if "ADDED" in rev["changes"].get(rid, {}).get("props", []):
            p.record(rev, st, op, "rule", None)
            del rev["changes"][rid]
            rev["locks"].pop(rid, None)
            p.save_rev(rev)
        else:
            rev["changes"].setdefault(rid, {"type": "rule", "props": []})["props"] = ["REMOVED"]
            p.record(rev, st, op, "rule", None)
        return {"rule": gone}

    @_mutation("rule")
    def moveRule(self, input: dict) -> dict:
        p, rid, to = self.p, str(input["id"]), input.get("to")
        rev, st = self._begin()
        self._existing_rule(rev, st, rid)
        if not (to or {}).get("position"):
            raise Failure("rulePositionInvalid", "`to` needs a position")
        p.claim(rev, rid, "LOCKED", "ruleIsLocked")
        op = {"op": "moveRule", "id": rid, "to": to}
        _apply(st, op)
        p.anchor(rev, st, to)
        p.put_body(rev["id"], p.finish(p.body(rid, rev), rid))  # the move is an update of the rule
        p.record(rev, st, op, "rule", "MOVED")
        return {"rule": p.rule_payload(rev, st, rid)}

    def _section_op(self, op: dict[str, Any], prop: str | None) -> dict[str, Any]:
        p = self.p
        rev, st = self._begin()
        sid, at = op["id"], op.get("at") or op.get("to")
        if op["op"] != "addSection" and _section_at(st, sid) is None:
            raise Failure("sectionNotExist", sid)
        if op["op"] == "updateSection" and op.get("name") is None:  # nothing to rename
            op["name"] = st["sections"][sid]
        if "name" in op:
            self._unique_section_name(st, op["name"], sid)
        if op["op"] != "addSection":
            p.claim(rev, sid, "LOCKED", "sectionIsLocked", content_only=op["op"] == "updateSection")
        op["audit"] = {"updatedBy": p.ctx.identity.name, "updatedTime": _ts(p.ctx)}
        payload = p.section_payload(st, sid, ["REMOVED"]) if op["op"] == "removeSection" else None
        _apply(st, op)
        p.anchor(rev, st, at)
        if op["op"] == "removeSection" and "ADDED" in rev["changes"].get(sid, {}).get("props", []):
            p.record(rev, st, op, "section", None)
            del rev["changes"][sid]
            rev["locks"].pop(sid, None)
            p.save_rev(rev)
        else:
            if op["op"] == "removeSection":
                rev["changes"].setdefault(sid, {"type": "section", "props": []})["props"] = ["REMOVED"]
            p.record(rev, st, op, "section", prop)
        own = rev["changes"].get(sid, {}).get("props", [])
        return {"section": payload or p.section_payload(st, sid, list(own))}

    @_mutation("section")
    def addSection(self, input: dict) -> dict:
        op = {
            "op": "addSection",
            "id": str(uuid.uuid4()),
            "name": input["section"]["name"],
            "at": input["at"],
        }
        return self._section_op(op, "ADDED")

    @_mutation("section")
    def updateSection(self, input: dict) -> dict:
        name = (input.get("section") or {}).get("name")
        return self._section_op({"op": "updateSection", "id": str(input["id"]), "name": name}, "UPDATED")

    @_mutation("section")
    def removeSection(self, input: dict) -> dict:
        return self._section_op({"op": "removeSection", "id": str(input["id"])}, None)

    @_mutation("section")
    def moveSection(self, input: dict) -> dict:
        if not (input.get("to") or {}).get("position"):
            raise Failure("sectionPositionInvalid", "`to` needs a position")
        return self._section_op({"op": "moveSection", "id": str(input["id"]), "to": input["to"]}, "MOVED")

    @_mutation("policy")
    def createPolicyRevision(self, input: dict) -> dict:
        rev = self.p.create_revision(input["name"], input.get("description") or "")
        self.p.audit_revision(rev, "CREATED", after={"name": rev["name"], "description": rev["description"]})
        return {"policy": self.p.policy_payload(rev)}

    @_mutation("policy")
    def publishPolicyRevision(self, input: dict) -> dict:
        p = self.p
        rev = p.target(self.rev_id, create=False)
        if rev is not None:
            for k in ("name", "description"):
                if input.get(k) is not None:
                    rev[k] = input[k]
            p.publish(rev, p.view(rev))
        return {"policy": p.policy_payload(None)}

    @_mutation("policy")
    def discardPolicyRevision(self, input: dict) -> dict:
        p = self.p
        rev = p.target(input.get("id") or self.rev_id, create=False)
        if rev is not None:
            p.store.delete_children(p.acc, "fwRule", rev["id"])
            p.store.delete(p.acc, "fwRevision", rev["id"])
            p._revs = [r for r in p.revisions() if r["id"] != rev["id"]]
            p.audit_revision(rev, "DELETED", before={"name": rev["name"], "changes": len(rev["changes"])})
        return {"policy": p.policy_payload(None)}


class SubRuleMutations:
    """A family's sub-rule mutations (``policy.socketLan.firewall``): a sub-rule lives in its rule's
    body, so each one changes that rule in the revision, and locks it as an update would."""

    def __init__(self, m: FwMutations) -> None:
        self.m, self.p = m, m.p

    def _bodies(self, rev: dict, st: dict) -> dict[str, dict[str, Any]]:
        return {**self.p.published_bodies(), **self.p.bodies(rev["id"])}

    def _find(self, rev: dict, st: dict, sid: str) -> tuple[str, int]:
        """(rule id, index) of sub-rule ``sid`` in the revision."""
        sub = self.p.kind.sub
        for rid, b in self._bodies(rev, st).items():
            if rid in st["names"]:
                for k, x in enumerate(b.get(sub) or []):
                    if x["id"] == sid:
                        return rid, k
        removed = "REMOVED" in rev["changes"].get(sid, {}).get("props", [])
        raise Failure("ruleWasRemoved" if removed else "ruleNotExist", sid)

    def _rule(self, rev: dict, st: dict, rid: str) -> dict[str, Any]:
        """A copy of rule ``rid``'s body to change, after the checks an update of it makes."""
        self.m._existing_rule(rev, st, rid)
        self.p.claim(rev, rid, "LOCKED", "ruleIsLocked", content_only=True)
        b = self.p.body(rid, rev)
        return {**b, self.p.kind.sub: list(b.get(self.p.kind.sub) or [])}

    def _place(self, rev: dict, st: dict, at: dict | None, sid: str) -> tuple[str, dict[str, Any], int]:
        """(rule id, its body to change, index) where ``at`` puts a sub-rule."""
        pos, ref = (at or {}).get("position"), str((at or {}).get("ref") or "")
        if pos in ("FIRST_IN_RULE", "LAST_IN_RULE"):
            if ref not in st["names"]:
                raise Failure("ruleNotExist", f"{pos} needs the id of a rule in ref, got {ref!r}")
            body = self._rule(rev, st, ref)
            return ref, body, 0 if pos == "FIRST_IN_RULE" else len(body[self.p.kind.sub])
        if pos in ("AFTER_SUB_RULE", "BEFORE_SUB_RULE") and ref and ref != sid:
            rid, _ = self._find(rev, st, ref)
            body = self._rule(rev, st, rid)
            k = next(i for i, x in enumerate(body[self.p.kind.sub]) if x["id"] == ref)
            return rid, body, k + (pos == "AFTER_SUB_RULE")
        raise Failure("rulePositionInvalid", f"a {self.p.kind.sub} rule is placed in a rule: got {at!r}")

    @staticmethod
    def _unique(subs: list[dict], name: str, sid: str) -> None:
        if not name.strip():
            raise Failure("ruleNameIsEmpty")
        if any(x["name"] == name and x["id"] != sid for x in subs):
            raise Failure("ruleNameAlreadyExists", f"{name!r} in this rule")

    def _save(self, rev: dict, st: dict, rid: str, body: dict, sid: str, prop: str | None) -> None:
        p = self.p
        p.put_body(rev["id"], p.finish(body, rid))
        op = {"op": "updateRule", "id": rid, "name": st["names"][rid]}
        p.record(rev, st, op, "rule", "UPDATED")
        ch = rev["changes"].setdefault(sid, {"type": "subRule", "props": []})
        if prop is None:  # removed
            if "ADDED" in ch["props"]:
                del rev["changes"][sid]
            else:
                ch["props"] = ["REMOVED"]
        elif prop not in ch["props"] and "ADDED" not in ch["props"]:
            ch["props"].append(prop)
        p.save_rev(rev)

    @_mutation("rule")
    def addRule(self, input: dict) -> dict:
        p, sid = self.p, str(uuid.uuid4())
        rev, st = self.m._begin()
        rid, body, k = self._place(rev, st, input.get("at"), sid)
        sub = p.finish_sub(p.resolve(input["rule"], p.kind.sub_add_input), sid)
        self._unique(body[p.kind.sub], sub["name"], sid)
        body[p.kind.sub].insert(k, sub)
        self._save(rev, st, rid, body, sid, "ADDED")
        return {"rule": p.sub_payload(rev, st, rid, sid)}

    @_mutation("rule")
    def updateRule(self, input: dict) -> dict:
        p, sid = self.p, str(input["id"])
        rev, st = self.m._begin()
        rid, k = self._find(rev, st, sid)
        body = self._rule(rev, st, rid)
        patch = p.resolve(input["rule"], p.kind.sub_update_input)
        sub = p.finish_sub(merge(body[p.kind.sub][k], patch, p.kind.sub_rule_type), sid)
        self._unique(body[p.kind.sub], sub["name"], sid)
        body[p.kind.sub][k] = sub
        self._save(rev, st, rid, body, sid, "UPDATED")
        return {"rule": p.sub_payload(rev, st, rid, sid)}

    @_mutation("rule")
    def removeRule(self, input: dict) -> dict:
        p, sid = self.p, str(input["id"])
        rev, st = self.m._begin()
        rid, k = self._find(rev, st, sid)
        body = self._rule(rev, st, rid)
        gone = p.sub_payload(rev, st, rid, sid, props=["REMOVED"])
        del body[p.kind.sub][k]
        self._save(rev, st, rid, body, sid, None)
        return {"rule": gone}

    @_mutation("rule")
    def moveRule(self, input: dict) -> dict:
        p, sid, to = self.p, str(input["id"]), input.get("to")
        rev, st = self.m._begin()
        rid, k = self._find(rev, st, sid)
        old = self._rule(rev, st, rid)
        moving = old[p.kind.sub].pop(k)
        p.put_body(rev["id"], p.finish(old, rid))  # so a placement in the same rule sees it gone
        new_rid, body, at = self._place(rev, st, to, sid)
        self._unique(body[p.kind.sub], moving["name"], sid)
        body[p.kind.sub].insert(at, moving)
        if new_rid != rid:
            self._save(rev, st, rid, old, sid, "MOVED")
        self._save(rev, st, new_rid, body, sid, "MOVED")
        return {"rule": p.sub_payload(rev, st, new_rid, sid)}


class PolicyNamespace:
    def __init__(self, ctx: RequestContext, mutations: bool) -> None:
        self.ctx, self.mutations = ctx, mutations

    def _sub(self, field: str, input: dict | None) -> FwQueries | FwMutations:
        if self.mutations:
            return FwMutations(self.ctx, POLICIES[field], ((input or {}).get("revision") or {}).get("id"))
        return FwQueries(self.ctx, POLICIES[field])

    def __getattr__(self, field: str) -> Any:
        """Every family's namespace field (``internetFirewall``, ``wanNetwork``...)."""
        if field not in POLICIES:
            raise AttributeError(field)
        return lambda info, input=None: self._sub(field, input)


@query("policy")
def policy_queries(ctx: RequestContext, info: Any, **_: Any) -> PolicyNamespace:
    return PolicyNamespace(ctx, mutations=False)


@mutation("policy")
def policy_mutations(ctx: RequestContext, info: Any, **_: Any) -> PolicyNamespace:
    return PolicyNamespace(ctx, mutations=True)


# -- fixtures -------------------------------------------------------------------------------------
@seeder
def seed_policy_refs(ctx: RequestContext, account: dict[str, Any]) -> None:
    """``policy_refs: {<kind>: [{name, id}]}``: objects rules may refer to that no domain models."""
    for kind, items in (account.get("policy_refs") or {}).items():
        if kind not in FIXTURE_REF_KINDS:
            raise ValueError(
                f"policy_refs.{kind}: not a kind rules refer to; use one of {sorted(FIXTURE_REF_KINDS)}"
            )
        for item in items or []:
            item = {"name": item} if isinstance(item, str) else dict(item)
            oid = str(
                item.get("id") or uuid.uuid5(uuid.NAMESPACE_URL, f"{ctx.account_id}:{kind}:{item['name']}")
            )
            ctx.store.put(ctx.account_id, kind, oid, {"id": oid, "name": item["name"]}, name=item["name"])


@seeder
def seed_policies(ctx: RequestContext, account: dict[str, Any]) -> None:
    unknown = set(account.get("policies") or {}) - {k.fixture for k in POLICIES.values()}
    if unknown:
        known = ", ".join(k.fixture for k in POLICIES.values())
        raise ValueError(f"policies: no policy family {', '.join(sorted(unknown))}; the families are {known}")
    for kind in POLICIES.values():
        spec = (account.get("policies") or {}).get(kind.fixture)
        if spec is not None:
            _seed_policy(Policy(ctx, kind), spec)


def _seed_policy(p: Policy, spec: dict[str, Any]) -> None:
    where = f"policies.{p.kind.fixture}"
    if "sections" in spec and "rules" in spec:
        raise ValueError(f"{where}: give `sections` (with their rules) or `rules`, not both")
    groups = [(None, spec.get("rules") or [])] if not spec.get("sections") else [
        (s, s.get("rules") or []) for s in spec["sections"]
    ]  # fmt: skip
    st, resolver, t = _empty(), Resolver(p.ctx), p.kind.add_input
    st["layout"] = []
    p.store.delete_children(p.acc, "fwRule", p.kind.field)
    audit_ = {"updatedBy": p.ctx.identity.name, "updatedTime": _ts(p.ctx)}
    for gi, (sec, rules) in enumerate(groups):
        sid = None if sec is None else str(sec.get("id") or uuid.uuid4())
        if sid:
            if sec["name"] in st["sections"].values():
                raise ValueError(f"{where}: section name {sec['name']!r} is used twice")
            st["sections"][sid], st["saudit"][sid] = sec["name"], audit_
        ids: list[str] = []
        for raw in rules:
            raw = dict(raw)
            system, rid = raw.pop("system", False), str(raw.pop("id", None) or uuid.uuid4())
            subs = raw.pop(p.kind.sub, None) or [] if p.kind.sub else []
            try:
                body = resolver.resolve(coerce_input_value(walk_refs(raw, t, expand_shorthand, "rule"), t), t)
                if subs:
                    body[p.kind.sub] = _seed_subs(p, resolver, subs)
            except (RefError, GraphQLError) as e:
                raise ValueError(f"{where}: rule {raw.get('name')!r}: {e}") from None
            if body["name"] in st["names"].values():
                raise ValueError(f"{where}: rule name {body['name']!r} is used twice")
            if system and (gi or len(ids) != len(st["system"])):
                raise ValueError(f"{where}: system rule {body['name']!r} must head the first section")
            st["system"] += [rid] if system else []
            st["names"][rid] = body["name"]
            ids.append(rid)
            p.put_body(p.kind.field, p.finish(body, rid))
        st["layout"].append([sid, ids])
    meta = {"id": str(uuid.uuid4()), "name": "", "description": "", "changes": 0}
    meta["createdTime"] = meta["updatedTime"] = _ts(p.ctx)
    pub = p.pub
    pub.update(version=pub["version"] + 1, state=st, enabled=bool(spec.get("enabled", True)), revision=meta)
    pub["audit"] = {"publishedBy": p.ctx.identity.name, "publishedTime": _ts(p.ctx)}
    p.save_pub()


def _seed_subs(p: Policy, resolver: Resolver, subs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    t, out = p.kind.sub_add_input, []
    for raw in subs:
        raw = dict(raw)
        sid = str(raw.pop("id", None) or uuid.uuid4())
        body = resolver.resolve(coerce_input_value(walk_refs(raw, t, expand_shorthand, "rule"), t), t)
        if any(x["name"] == body["name"] for x in out):
            raise RefError(f"{p.kind.sub} rule name {body['name']!r} is used twice in this rule")
        out.append(p.finish_sub(body, sid))
    return out
