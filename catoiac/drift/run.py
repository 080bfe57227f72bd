"""``catoiac drift``: compare the stacks' state with the live account and explain each difference.

Never writes anything: no ``pulumi up``/``refresh``, no state change, no Cato mutation.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from ..client import CatoClient
from ..config import ClientConfig
from ..errors import (
    AuthenticationError,
    CatoError,
    ConfigurationError,
    PermissionDeniedError,
    UnreachableError,
    WrongAccountError,
)
from ..readpath import LOADERS, AccountReader
from ..resources import Engine
from ..resources.specs import SPECS, owned_elsewhere
from ..resources.specs.socket_interface import part_of_site
from ..secrets import is_secret_field, mask_fields
from ..session import CONFIG_ACCOUNT, CONFIG_ENDPOINT, CONFIG_KEY, Session, stack_config_value
from . import devices as _devices  # noqa: F401  (registers the "devices" collection)
from .actions import DEFAULT_IGNORE_DAYS, Context, ImportMarker, actions, default_owner
from .audit import (
    AUDIT_MODELS,
    SKEW,
    AuditCache,
    AuditFeed,
    AuditModel,
    AuditRecord,
    Interest,
    OwnKey,
    RecordIndex,
    Target,
    audit_fields,
    default_cache_dir,
    infer_own_key,
    pick,
)
from .compare import MOVED, REMOVED, Change, ItemIds, compare, live_places, moved_out
from .devices import FACT_CHECKS, FACT_READS
from .ignore import IgnoreEntry, append, judge, today_utc
from .report import (
    DELETED,
    DEVICE,
    MODIFIED,
    REORDERED,
    UNAVAILABLE,
    UNMANAGED,
    Attribution,
    Coverage,
    DriftReport,
    Finding,
    ResourceRef,
    StackInfo,
)
from .state import SECRET, StackState, StateResource

# Failures that would hit every read alike: they fail the run, they are not one resource's problem.
FATAL = (AuthenticationError, ConfigurationError, UnreachableError)
_CHANGES = ("MODIFIED", "ENABLED", "DISABLED")  # record types that change a property in place
WINDOW_MARGIN = timedelta(seconds=60)  # start a little before the update: its own records help find our key
DEFAULT_WINDOW = timedelta(days=1)  # when a state says nothing about when it was last updated
TIMELINE = 50  # audit records kept per finding for its timeline (the newest)
GC_YOUNG = 10_000  # allocations between young collections during a run (CPython's default: 700)
WORKERS = 16  # reads and comparisons side by side: threads that mostly wait on the API, not more cores
# Collections read from the API that a spec's live read uses besides its own (``spec.kind``), through
# derived ones (range_ports, port_natives...): asked for at the start with the others, not when the
# comparison gets there.
LIVE_READS: dict[str, tuple[str, ...]] = {
    "NetworkRange": ("interfaces",),  # range_ports: each range's LAN port
}

# Live objects a spec's collection holds that no resource of that spec can manage.
UNMANAGEABLE: dict[str, Callable[[Mapping[str, Any]], bool]] = {
    "NetworkRange": lambda obj: obj.get("range_type") == "Native",  # part of its SocketSite
    "SocketInterface": part_of_site,  # the native range's port as its site made it: the SocketSite's
}


def _weight(res: StateResource) -> int:
    """About how much comparing a resource costs, in sites: a policy rule costs about ten (its
    canonical form on both sides, its refs)."""
    sections = res.inputs.get("sections")
    if isinstance(sections, list):
        return 1 + 10 * sum(len(s.get("rules") or ()) for s in sections if isinstance(s, Mapping))
    return 1


def _section_ids(res: StateResource) -> set[str]:
    ids = res.outputs.get("section_ids")
    return {str(v) for v in ids.values()} if isinstance(ids, Mapping) else set()


# Which live collection ids a resource owns (default: its own id). A policy resource owns sections.
MANAGED_IDS: dict[str, Callable[[StateResource], set[str]]] = {}
# Objects that exist by themselves (a site's ports come with the site): counted for coverage, never
# reported as unmanaged, since nobody created them out of band.
IMPLICIT = {"SocketInterface"}
# Unmanaged objects of these specs are items inside the resource (a policy's sections).
UNMANAGED_ITEM: dict[str, str] = {}
for _name, _spec in SPECS.items():
    if _spec.policy is not None:  # every policy family (ResourceSpec.policy): a resource owns sections
        UNMANAGEABLE[_name] = lambda obj: obj.get("id") == ""  # rules outside any section: no one's
        MANAGED_IDS[_name] = _section_ids
        UNMANAGED_ITEM[_name] = "section"


def item_ids(outputs: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """{item type: {name: id}} from a resource's outputs (policies: section_ids, rule_ids)."""
    out = {}
    for item, key in (("section", "section_ids"), ("rule", "rule_ids")):
        v = outputs.get(key)
        if isinstance(v, Mapping):
            out[item] = {str(n): str(i) for n, i in v.items()}
    return out


# Which audit model a parent input points to (a range deleted with its site has no record of its own).
PARENT_MODELS: dict[str, AuditModel] = {"site_id": AUDIT_MODELS["SocketSite"]}


@dataclass
class DriftOptions:
    stacks: list[str] = field(default_factory=list)
    cwd: str | None = None
    state_files: list[str] = field(default_factory=list)
    api_key: str | None = None
    account_id: str | None = None
    endpoint: str | None = None
    own_key_id: str | None = None
    own_key_name: str | None = None
    ignore_entries: list[IgnoreEntry] = field(default_factory=list)
    cache_dir: str | None = None
    use_cache: bool = True
    refresh_audit: bool = False
    since: datetime | None = None
    until: datetime | None = None
    audit: bool = True
    unmanaged: bool = True
    # Types scanned for unmanaged objects: None = the types the stacks manage; ["all"] = every type.
    unmanaged_types: list[str] | None = None
    today: date | None = None
    # Ignore entries the report suggests (and --write-ignore writes): who owns them, until when.
    owner: str | None = None
    expires: date | None = None
    # --write-ignore: add an entry per unmanaged object not ignored yet to this file (the brownfield
    # baseline, as driftctl's gen-driftignore): from then on only new unmanaged objects are drift.
    write_ignore: str | None = None


@dataclass
class Progress:
    """Callbacks a front end can use to show progress."""

    on_page: Callable[[str, int, int], None] | None = None  # (collection, done, total)
    on_audit_page: Callable[[int, int], None] | None = None  # (calls, records)
    on_step: Callable[[str], None] | None = None


def _one(values: list[str | None], what: str) -> str | None:
    found = sorted({v for v in values if v})
    if len(found) > 1:
        raise ConfigurationError(
            f"the stacks disagree on {what} ({', '.join(found)}): pass --{what} or fewer stacks"
        )
    return found[0] if found else None


def _stack_key(opts: DriftOptions, stacks: list[StackState]) -> tuple[str | None, str]:
    """``cato:apiKey`` as the provider gets it: plain from the stacks' config, or a secret decrypted
    by ``pulumi config get`` (the key stays in memory; the redaction policy masks it everywhere)."""
    keys: set[str] = set()
    for s in stacks:
        value = s.config.get(CONFIG_KEY)
        if value == SECRET:
            value = stack_config_value(CONFIG_KEY, s.name, cwd=opts.cwd)
        if value:
            keys.add(value)
    if len(keys) > 1:
        raise ConfigurationError(
            "the stacks have different cato:apiKey values: pass --api-key or fewer stacks"
        )
    return (keys.pop() if keys else None), CONFIG_KEY


def client_for(opts: DriftOptions, stacks: list[StackState]) -> CatoClient:
    """Each setting as the provider resolves it: the flag first, then the stacks' config
    (``cato:apiKey``, ``cato:accountId``, ``cato:endpoint``), then CATO_TOKEN/CATO_ACCOUNT_ID/CATO_BASEURL."""
    overrides: dict[str, Any] = {}
    for name, flag, key, setting, cli in (
        ("account_id", opts.account_id, CONFIG_ACCOUNT, "account_setting", "--account-id"),
        ("base_url", opts.endpoint, CONFIG_ENDPOINT, "endpoint_setting", "--endpoint"),
    ):
        value, source = flag, cli
        if not value:
            value, source = _one([s.config.get(key) for s in stacks], cli.lstrip("-")), key
        if value and value != SECRET:
            overrides |= {name: value, setting: source}
    if opts.api_key:
        overrides |= {"api_key": opts.api_key, "key_setting": "--api-key"}
    else:
        key, setting = _stack_key(opts, stacks)
        if key:
            overrides |= {"api_key": key, "key_setting": setting}
    return CatoClient(ClientConfig.from_env(**overrides))


def window(opts: DriftOptions, stacks: list[StackState], now: datetime) -> tuple[datetime, datetime]:
    starts = [s.last_update_start for s in stacks if s.last_update_start]
    start = opts.since or ((min(starts) - WINDOW_MARGIN) if starts else now - DEFAULT_WINDOW)
    end = opts.until or now + WINDOW_MARGIN
    return start, end


class DriftRun:
    def __init__(
        self,
        opts: DriftOptions,
        stacks: list[StackState],
        client: CatoClient,
        progress: Progress | None = None,
    ):
        self.opts = opts
        self.stacks = stacks
        self.client = client
        self.progress = progress or Progress()
        self.session = Session(client)
        self.session.reader = AccountReader(client, on_page=self.progress.on_page)
        self.interest = Interest()
        self.targets: dict[int, list[Target]] = {}  # per finding (by id()), one per change or one for all
        self.written: dict[int, datetime] = {}  # per finding: when the state last wrote the resource
        self.sides: dict[int, tuple[Mapping[str, Any], Mapping[str, Any]]] = {}  # (desired, live)
        self.errors: list[dict[str, str]] = []
        self.warnings: list[str] = []
        self.prefetched: list[str] = []  # collections read at the start of findings(), in order

    def _step(self, text: str) -> None:
        if self.progress.on_step:
            self.progress.on_step(text)

    # -- findings -------------------------------------------------------------------------------
    def findings(self) -> tuple[list[Finding], list[Coverage]]:
        """Compare every resource, then scan for unmanaged objects. Resources of one spec are compared
        in order on one thread, specs side by side: while one waits for its collection (a policy
        query, paged lookups, devices) another canonicalises (the read path loads each collection
        once, whoever asks first). Collections only the scan needs are read meanwhile too."""
        reader = self.session.reader
        managed: dict[str, set[str]] = {}
        groups: dict[str, list[tuple[StackState, StateResource, Any]]] = {}
        for stack in self.stacks:
            for res in stack.resources:
                spec = SPECS.get(res.spec_name)
                if spec is None:
                    stack.other_types.append(f"cato:{res.spec_name}")
                    continue
                owns = MANAGED_IDS.get(res.spec_name, lambda r: {r.id})(res)
                managed.setdefault(res.spec_name, set()).update(owns)
                groups.setdefault(res.spec_name, []).append((stack, res, spec))
        scan: set[str] = set()
        if self.opts.unmanaged:
            wanted = self.opts.unmanaged_types
            # Only what the stacks manage by default: some types cost a call per site (BGP peers).
            scan = set(SPECS) if wanted and "all" in wanted else set(wanted or managed)
        scan_only = sorted({SPECS[n].kind for n in scan if n in SPECS and n not in groups} & set(LOADERS))
        # Every collection the specs read, asked for at once and heaviest first: the comparisons then
        # wait on the slowest read, not on the sum of them, and the server (which answers about in the
        # order asked) sends first what is followed by the most work here: a policy's thousands of rules.
        weight = {name: sum(_weight(res) for _, res, _ in items) for name, items in groups.items()}
        need: dict[str, int] = {}
        for name in groups:
            for kind in (SPECS[name].kind, *LIVE_READS.get(name, ()), *FACT_READS.get(name, ())):
                need[kind] = max(need.get(kind, 0), weight[name])
        early = sorted(set(need) & set(LOADERS) - set(scan_only), key=lambda k: (-need[k], k))
        self.prefetched = [*early, *scan_only]
        loaded: dict[str, Future] = {}
        # One thread per read and per spec: they mostly wait (on the API, or on a collection another
        # one is reading), and a comparison that waits for a free thread starts its work late.
        order = sorted(groups, key=lambda n: (-weight[n], n))
        workers = max(1, min(WORKERS, len(groups) + len(early) + len(scan_only)))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for kind in self.prefetched:
                loaded[kind] = pool.submit(reader.get, kind)
            done = dict(zip(order, pool.map(self._compare_group, [groups[n] for n in order]), strict=True))
            parts = [done[n] for n in groups]  # findings in the stacks' order, whatever ran first
            for future in loaded.values():
                future.exception()  # wait; a failure is reported below (the scan) or per resource
        findings = [f for part in parts for f in part]
        self.errors.sort(key=lambda e: e["urn"])  # threads finish in any order; the report does not
        coverage: list[Coverage] = []
        if self.opts.unmanaged:
            for name, spec in sorted(SPECS.items()):
                if spec.kind not in LOADERS or name not in scan:
                    continue
                self._step(f"reading {spec.kind}")
                try:
                    failed = loaded[spec.kind].exception() if spec.kind in scan_only else None
                    if failed is not None:
                        raise failed  # the read already failed: do not ask again
                    collection = reader.get(spec.kind)
                except FATAL:
                    raise  # nothing can be read: fail the run, not each resource
                except CatoError as e:
                    # Objects nobody manages can hide here: say so rather than report none.
                    self.errors.append(
                        {"urn": f"(unmanaged {name} objects)", "error": f"{type(e).__name__}: {e}"}
                    )
                    continue
                elsewhere = owned_elsewhere(spec, reader)  # an IPSEC_V2 site is an IpsecSite's
                live = {
                    i: o
                    for i, o in collection.items()
                    if str(i) not in elsewhere and not UNMANAGEABLE.get(name, lambda _: False)(o)
                }
                mine = managed.get(name, set())
                coverage.append(Coverage(name, len(mine & set(live)), len(live)))
                for oid in sorted(set(live) - mine) if name not in IMPLICIT else ():
                    obj = live[oid]
                    self.interest.add(oid, obj.get("name"))
                    f = Finding(UNMANAGED, ResourceRef(name, oid, obj.get("name")))
                    target = self._target(name, oid, [obj.get("name")])
                    target.ids |= {str(obj["entity_id"])} if obj.get("entity_id") else set()
                    if name in UNMANAGED_ITEM:
                        model = AUDIT_MODELS.get(name, AuditModel((), ()))
                        target.model_types = set(model.item_model_types.get(UNMANAGED_ITEM[name], ()))
                    self.targets[id(f)] = [target]
                    findings.append(f)
        return findings, coverage

    def _compare_group(self, items: list[tuple[StackState, StateResource, Any]]) -> list[Finding]:
        out: list[Finding] = []
        for stack, res, spec in items:
            try:
                out += self._compare(stack, res, spec)
            except FATAL:
                raise  # the key, the account or the endpoint is wrong: every resource would fail alike
            except (CatoError, KeyError, TypeError, ValueError) as e:
                # One unreadable resource must not hide the others; the report says it is incomplete.
                self.errors.append({"urn": res.urn, "error": f"{type(e).__name__}: {e}"})
        return out

    def _target(self, spec_name: str, oid: str | None, names: list[Any]) -> Target:
        model = AUDIT_MODELS.get(spec_name, AuditModel((), ()))
        return Target(
            ids={str(oid)} if oid else set(),
            names={str(n) for n in names if n},
            object_types=set(model.object_types),
            model_types=set(model.model_types),
        )

    def _compare(self, stack: StackState, res, spec) -> list[Finding]:
        engine = Engine(spec, lambda: self.session)
        declared = engine.inputs_of(res.inputs)
        props = res.outputs or res.inputs  # a read gets the outputs, as Pulumi's refresh does
        # A secret object input (an IPsec site's tunnels, with their keys) is "[secret]" in the state,
        # never decrypted: it cannot be compared, so both sides keep it as that.
        hidden = [k for k in spec.secret_inputs if declared.get(k) == SECRET]
        if hidden:
            declared = {k: v for k, v in declared.items() if k not in hidden}
            props = {k: v for k, v in props.items() if k not in hidden}
        desired = engine.canonical(declared)
        live_outputs: Mapping[str, Any] = {}
        if spec.read_live is not None:
            found = spec.read_live(self.session, res.id, props)
            # Equal inputs have equal canonical forms: a policy that has not drifted is not
            # canonicalised twice (thousands of rules).
            # Only the spec's inputs: a read may add keys for Pulumi's check (a policy's stray rule ids).
            got = None if found is None else engine.inputs_of(found[0])
            live = None if got is None else desired if got == declared else engine.canonical(got)
            live_outputs = {} if found is None else found[1]
            raw_live = None
        else:
            raw_live = self.session.reader.get(spec.kind).get(res.id)
            live = engine.live_inputs(self.session, res.id, props)
        if hidden and live is not None:
            desired = {**desired, **dict.fromkeys(hidden, SECRET)}
            live = {**live, **dict.fromkeys(hidden, SECRET)}
        ids = ItemIds(item_ids(res.outputs), item_ids(live_outputs))
        names = [desired.get("name"), (raw_live or {}).get("name"), (live or {}).get("name")]
        self.interest.add(res.id, *names)
        for side in (ids.desired, ids.live):
            for by_name in side.values():
                for item_name, item_id in by_name.items():
                    self.interest.add(item_id, item_name)
        ref = ResourceRef(
            res.spec_name, res.id, (raw_live or {}).get("name") or desired.get("name"), res.urn, stack.name
        )
        base = self._target(res.spec_name, res.id, names)
        if (raw_live or {}).get("entity_id"):  # the API object's own id, when the resource id is composite
            base.ids.add(str(raw_live["entity_id"]))
            self.interest.add(raw_live["entity_id"])
        if live is None:
            f = Finding(DELETED, ref)
            parent = desired.get(spec.parent_input) if spec.parent_input else None
            self.targets[id(f)] = [base]
            if parent and spec.parent_input in PARENT_MODELS:
                m = PARENT_MODELS[spec.parent_input]
                self.targets[id(f)].append(
                    Target({str(parent)}, set(), set(m.object_types), set(m.model_types))
                )
            return [f]
        out = []
        changes = compare(res.spec_name, desired, live, ids)
        if spec.read_live is not None and any(c.op == REMOVED and c.item_type == "rule" for c in changes):
            collection = self.session.reader.get(spec.kind)  # already read by read_live
            changes = moved_out(
                changes, desired, ids.desired.get("rule") or {}, lambda: live_places(collection)
            )
        changes = [_masked(c) for c in changes]
        model = AUDIT_MODELS.get(res.spec_name, AuditModel((), ()))
        for kind, group in (
            (MODIFIED, [c for c in changes if c.op != MOVED]),
            (REORDERED, [c for c in changes if c.op == MOVED]),
        ):
            if not group:
                continue
            f = Finding(kind, ref, changes=group)
            self.targets[id(f)] = [self._change_target(base, model, ids, c) for c in group]
            self.sides[id(f)] = (desired, live)
            if res.modified or res.created:
                self.written[id(f)] = res.modified or res.created
            out.append(f)
        check = FACT_CHECKS.get(res.spec_name)
        facts = check(desired, res.id, self.session.reader) if check else []
        if facts:
            f = Finding(DEVICE, ref, facts=facts)
            self.targets[id(f)] = [base]
            out.append(f)
        return out

    def _change_target(self, base: Target, model: AuditModel, ids: ItemIds, c: Change) -> Target:
        if c.item is None:
            return base
        item = c.item_type or ""
        known = {(ids.desired.get(item) or {}).get(c.item)} | {
            i for n, i in (ids.live.get(item) or {}).items() if n == c.item or n == c.live
        }
        names = {c.item} | ({str(c.live)} if c.path.endswith(".name") and c.live else set())
        self.interest.add(None, *names)
        return Target({i for i in known if i}, names, set(), set(model.item_model_types.get(item, ())))

    # -- attribution ------------------------------------------------------------------------------
    def attribute(
        self,
        findings: list[Finding],
        records: list[AuditRecord],
        own: OwnKey | None,
        cause: str | None = None,
    ) -> None:
        if cause is not None:  # no records to judge by: every finding gets this cause
            for f in findings:
                f.attribution = Attribution(cause)
                f.change_attributions = [Attribution(cause) for _ in f.changes]
            return
        index = RecordIndex(records)
        for f in findings:
            f.timeline = self._timeline(f, index)
            targets = self.targets.get(id(f), [])
            if f.kind in (MODIFIED, REORDERED):
                since = self.written.get(id(f))
                f.change_attributions = [
                    self._attribute_change(t, c, index, own, since)
                    for t, c in zip(targets, f.changes, strict=False)
                ]
                known = [a for a in f.change_attributions if a.record is not None]
                f.attribution = (
                    max(known, key=lambda a: a.record.sort_key) if known else Attribution("no-audit-record")
                )
            elif f.kind == DELETED:
                rec = pick([r for r in targets[0].related(index) if r.change_type == "DELETED"])
                via = None
                if rec is None and len(targets) > 1:
                    rec = pick([r for r in targets[1].related(index) if r.change_type == "DELETED"])
                    via = "removed with its parent" if rec else None
                f.attribution = Attribution.of(rec, own, via)
            elif f.kind == UNMANAGED:
                related = targets[0].related(index)
                created = [r for r in related if r.change_type == "CREATED"]
                f.attribution = Attribution.of(pick(created or related), own)
            else:  # device facts: whoever last touched the property, if anyone
                related = targets[0].related(index) if targets else []
                fields = set().union(*(audit_fields(x.property) for x in f.facts))
                rec = pick([r for r in related if fields & (set(r.after) | set(r.before))])
                f.attribution = Attribution.of(rec, own)

    def _timeline(self, f: Finding, index: RecordIndex) -> list[AuditRecord]:
        found: dict[str, AuditRecord] = {}
        for t in self.targets.get(id(f), []):
            for r in t.related(index):
                found[r.hash] = r
        return sorted(found.values(), key=lambda r: r.sort_key)[-TIMELINE:]

    def _attribute_change(
        self, target: Target, c: Change, index: RecordIndex, own: OwnKey | None, since: datetime | None = None
    ) -> Attribution:
        related = target.related(index)
        if since is not None:
            # A record with no values made before the state last wrote the resource cannot explain
            # today's difference: that write set every managed field.
            related = [r for r in related if r.before or r.after or r.time >= since - SKEW]
        if c.op == MOVED:
            rec = pick(related, fields={"index", "section"}, change_types=_CHANGES)
        else:
            whole_item = c.item is not None and c.path.endswith(f"[{c.item}]")
            rec = pick(
                related,
                fields=None if whole_item else audit_fields(c.path),
                live_value=c.live if not isinstance(c.live, dict | list) else None,
                change_types=_CHANGES,
            )
        return Attribution.of(rec, own, _without_values(rec, related))

    # -- ignores ----------------------------------------------------------------------------------------
    # -- ignores ----------------------------------------------------------------------------------------
    def apply_ignores(self, findings: list[Finding], today: date) -> list[tuple[IgnoreEntry, list[str]]]:
        expired: dict[int, tuple[IgnoreEntry, list[str]]] = {}
        for f in findings:
            v = judge(
                self.opts.ignore_entries,
                type=f.resource.type,
                names=[f.resource.name, f.resource.cato_name],
                id=f.resource.cato_id,
                kind=f.kind,
                stack=f.resource.stack or "",
                paths=f.paths,
                today=today,
            )
            f.ignored_by = v.finding
            f.ignored_changes = v.changes or {}
            f.expired_ignores = v.expired or []
            for e in f.expired_ignores:
                expired.setdefault(e.index, (e, []))[1].append(f.id)
        for e in self.opts.ignore_entries:
            if e.expired(today) and e.index not in expired:
                expired[e.index] = (e, [])
        return [expired[k] for k in sorted(expired)]

    def write_ignore(self, findings: list[Finding], today: date) -> dict[str, Any]:
        """Accept the unmanaged set as it stands: one entry per unmanaged object that nothing ignores
        yet, selected by type and id (a new object, even of the same name, is drift again), with an
        owner and an expiry."""
        path = str(self.opts.write_ignore)
        new = [f for f in findings if f.kind == UNMANAGED and f.ignored_by is None]
        owner = self.opts.owner or default_owner(self.opts.cwd)
        expires = self.opts.expires or today + timedelta(days=DEFAULT_IGNORE_DAYS)
        entries = [
            {"type": f.resource.type, "id": str(f.resource.cato_id), "kind": UNMANAGED, "owner": owner,
             "expires": expires,
             "reason": f"{f.resource.cato_name or f.resource.cato_id}: unmanaged when the baseline was written "
                       f"on {today.isoformat()} (catoiac drift --write-ignore)"}
            for f in new
        ]  # fmt: skip
        if entries:
            header = (
                f"catoiac drift --write-ignore on {today.isoformat()}: {len(entries)} unmanaged object(s)"
            )
            self.opts.ignore_entries = append(path, entries, header)
        return {"file": path, "entries": len(entries), "findings": [f.id for f in new], "owner": owner,
                "expires": expires.isoformat()}  # fmt: skip

    # -- next steps -------------------------------------------------------------------------------------
    def add_actions(self, findings: list[Finding]) -> None:
        """Revert and accept for every finding (see ``actions``)."""
        deps: dict[str, set[str]] = {}
        for stack in self.stacks:
            for res in stack.resources:
                deps[res.urn] = {u for urns in res.property_dependencies.values() for u in urns or ()}
        ctx = Context(
            cwd=self.opts.cwd,
            state_files=list(self.opts.state_files),
            owner=self.opts.owner or default_owner(self.opts.cwd),
            expires=self.opts.expires,
            deleted={f.resource.urn for f in findings if f.kind == DELETED and f.resource.urn},
            depends_on=deps,
            unmanaged={
                (f.resource.type, str(f.resource.cato_id)): f for f in findings if f.kind == UNMANAGED
            },
            live_inputs=self._live_inputs,
            import_id=self._import_id,
            sides=self.sides,
            marker=ImportMarker.find(self.opts.cwd),
        )
        stacks = list(self.opts.stacks) if self.opts.state_files else [s.name for s in self.stacks]
        for f in findings:
            f.actions = actions(f, ctx, stacks)

    @staticmethod
    def _import_id(f: Finding) -> str:
        spec = SPECS.get(f.resource.type)
        if spec is not None and f.resource.type in UNMANAGED_ITEM:  # a section: a policy resource owning it
            return f"{spec.kind}:" + str(f.resource.cato_name or "").replace("\\", "\\\\").replace(",", "\\,")
        return str(f.resource.cato_id)

    def _live_inputs(self, f: Finding) -> Mapping[str, Any] | None:
        """An unmanaged object's inputs as a resource would declare them (for adopting it)."""
        spec = SPECS.get(f.resource.type)
        if spec is None or f.resource.cato_id is None:
            return None
        engine = Engine(spec, lambda: self.session)
        try:
            if f.resource.type in UNMANAGED_ITEM:  # a section: a policy resource owning just it
                found = spec.read_live(self.session, self._import_id(f), {})
                inputs = None if found is None else engine.canonical(found[0])
            else:
                inputs = engine.live_inputs(self.session, str(f.resource.cato_id))
            return None if inputs is None else mask_fields(inputs)  # a BGP peer's MD5 key: [secret]
        except (CatoError, KeyError, TypeError, ValueError):
            return None  # the snippet is a convenience: the finding stands without it

    # -- the whole run ------------------------------------------------------------------------------------
    def run(self) -> DriftReport:
        now = datetime.now(UTC)
        findings, coverage = self.findings()
        start, end = window(self.opts, self.stacks, now)
        own: OwnKey | None = None
        if self.opts.own_key_id or self.opts.own_key_name:
            own = OwnKey(self.opts.own_key_id, self.opts.own_key_name, "flag")
        audit_stats: dict[str, Any] = {"enabled": self.opts.audit}
        if self.opts.audit:
            self._step("reading the audit feed")
            for stack in self.stacks:
                for r in stack.resources:
                    self.interest.add(r.id)
            cache = None
            if self.opts.use_cache:
                cache = AuditCache(
                    Path(self.opts.cache_dir) if self.opts.cache_dir else default_cache_dir(),
                    self.client.config.account_id,
                    self.client.config.base_url,
                )
                if self.opts.refresh_audit:
                    cache.reset_feed()
            feed = AuditFeed(
                self.client, self.client.config.account_id, cache=cache, on_page=self.progress.on_audit_page
            )
            try:
                records = feed.fetch(start, end, self.interest)
            except (WrongAccountError, ConfigurationError, UnreachableError):
                raise
            except AuthenticationError as e:
                if not isinstance(e, PermissionDeniedError):
                    raise  # a refused key is the run's failure, not attribution's
                records = self._without_feed(findings, own, audit_stats, feed, e)
            except CatoError as e:
                records = self._without_feed(findings, own, audit_stats, feed, e)
            if records is not None:
                audit_stats.update(feed.stats.to_dict(), available=True)
                audit_stats["records_in_window"] = len(records)
                if own is None:
                    own = self._own_key(records, cache)
                self.attribute(findings, records, own)
        else:
            self.attribute(findings, [], own)
        today = self.opts.today or today_utc()
        expired = self.apply_ignores(findings, today)
        written = self.write_ignore(findings, today) if self.opts.write_ignore else None
        if written is not None:
            expired = self.apply_ignores(findings, today)  # judged again, with the new entries
        self.add_actions(findings)
        stats = self.client.stats.to_dict()
        return DriftReport(
            account_id=self.client.config.account_id,
            stacks=[StackInfo(s.name, len(s.resources), s.last_update, s.other_types) for s in self.stacks],
            window_start=start,
            window_end=end,
            own_key=own,
            findings=sorted(findings, key=_order),
            coverage=coverage,
            expired_ignores=expired,
            audit_stats=audit_stats,
            api_calls={op: s["calls"] for op, s in stats.items()},
            errors=self.errors,
            warnings=self.warnings,
            ignore_written=written,
        )

    def _without_feed(
        self,
        findings: list[Finding],
        own: OwnKey | None,
        stats: dict[str, Any],
        feed: AuditFeed,
        e: CatoError,
    ) -> None:
        """Attribution is a bonus: the findings stand without it (a rate limit on auditFeed, 5 calls
        a minute, is enough to lose it). They get cause 'unavailable', and the report a warning."""
        stats.update(feed.stats.to_dict(), available=False, error=str(e))
        self.warnings.append(
            f"attribution unavailable: the audit feed could not be read ({e}). Findings are reported "
            "with cause 'unavailable'; run again later for their causes"
        )
        self.attribute(findings, [], own, cause=UNAVAILABLE)

    def _own_key(self, records: list[AuditRecord], cache: AuditCache | None) -> OwnKey | None:
        own = infer_own_key(records, self.stacks)
        keys = cache.data.setdefault("own_keys", {}) if cache is not None else {}
        if own is not None:
            for s in self.stacks:
                keys[s.name] = {"id": own.id, "name": own.name, "evidence": own.evidence}
            if cache is not None:
                cache.save()
            return own
        remembered = [keys.get(s.name) for s in self.stacks if keys.get(s.name)]
        if remembered and all(k["id"] == remembered[0]["id"] for k in remembered):
            k = remembered[0]
            return OwnKey(k["id"], k["name"], "cache", k.get("evidence", ""))
        return OwnKey(None, None, "unknown", "no API key's records coincide with the stack's updates")


def _masked(c: Change) -> Change:
    """A change with secret values (a live MD5 key the state does not hold...) masked for every output."""
    leaf = c.path.rsplit(".", 1)[-1].split("[", 1)[0]
    if is_secret_field(leaf):
        return replace(
            c, desired=None if c.desired is None else SECRET, live=None if c.live is None else SECRET
        )
    if isinstance(c.desired, dict | list) or isinstance(c.live, dict | list):
        return replace(c, desired=mask_fields(c.desired), live=mask_fields(c.live))
    return c


def _actor(r: AuditRecord) -> str:
    return f"{r.actor_name or r.actor_id or 'an unknown actor'} ({'UI' if r.actor_kind == 'admin' else 'API key'})"


def _without_values(rec: AuditRecord | None, related: list[AuditRecord]) -> str | None:
    """Most Cato records say only that an object changed, not what or to what (KB 4413273463953:
    values only for some policies such as the Internet and WAN firewall). The finding's live value
    comes from the live read; when other actors also changed the object in the window, say so
    rather than pretend the latest one made this change."""
    if rec is None or rec.before or rec.after:
        return None
    others = {
        _actor(r)
        for r in related
        if r.hash != rec.hash and r.change_type in _CHANGES and not r.before and not r.after
    } - {_actor(rec)}
    if not others:
        return None
    return f"Cato recorded no values; the object was also changed by {', '.join(sorted(others))}"


_KIND_ORDER = {k: i for i, k in enumerate((DELETED, MODIFIED, REORDERED, DEVICE, UNMANAGED))}


def _order(f: Finding) -> tuple:
    return (
        _KIND_ORDER[f.kind],
        f.resource.type,
        f.resource.stack or "",
        f.resource.name or "",
        f.resource.cato_name or "",
        f.resource.cato_id or "",
    )


def run_drift(opts: DriftOptions, stacks: list[StackState], *, client: CatoClient | None = None,
              progress: Progress | None = None) -> DriftReport:  # fmt: skip
    own_client = client is None
    client = client or client_for(opts, stacks)
    try:
        with _frozen_heap():
            return DriftRun(opts, stacks, client, progress).run()
    finally:
        if own_client:
            client.close()


@contextmanager
def _frozen_heap() -> Iterator[None]:
    """What is alive when a run starts (the stacks' state, modules, schemas) is not garbage: it is
    moved out of the cyclic collector's way (gc.freeze) for the run, and young collections come every
    GC_YOUNG allocations rather than 700, so the collections a run's allocations trigger (megabytes
    of replies, thousands of canonical rules) do not walk the same objects again and again. On the
    large bench account that was a third of drift's own CPU."""
    if gc.get_freeze_count():  # someone froze already: theirs to undo
        yield
        return
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(GC_YOUNG, *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()
