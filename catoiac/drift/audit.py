"""Cato's audit trail for drift attribution: fetch it with discipline, match it to findings.

Feed discipline (cato-toolbox ``auditFeed/SPEC.md``, "Marker Semantics", observed behaviour: a
marker is scoped to its ``timeFrame`` and must not be reused with another; the boundary is
inclusive, so the last record can come back; the marker may not advance):
- pages of up to 1000 records, following ``marker`` while ``hasMore`` within one ``timeFrame``;
  every call goes through the client, whose rate limiter keeps us within 5 calls a minute;
- a marker is only ever sent with the frame it was returned for; it is cached with that frame;
- pages are streamed: a page is indexed and dropped, and only records about objects of interest
  (ids and names in the state or the live account) are kept;
- records have no id, so each is identified by a hash of its content, which de-duplicates the
  boundary record a marker returns again and windows that overlap;
- a small cache per account (the kept records, what they cover, the last marker and its frame)
  lets the next run ask only for the tail: a new frame from shortly before the last fetch.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ..errors import ValidationError
from ..feed import audit_value
from ..secrets import mask_fields
from .state import StackState, parse_time

UI, OTHER_KEY, THIS_TOOL, NO_RECORD = "ui", "other-api-key", "this-tool", "no-audit-record"
CAUSES = (UI, OTHER_KEY, THIS_TOOL, NO_RECORD)
CACHE_VERSION = 1
SKEW = timedelta(seconds=5)  # Cato's record time vs Pulumi's clock: same event, different clocks
# A cached window is refetched from this long before its last fetch: records can be committed
# (``insertion_date``) after the time they carry (``creation_date``).
TAIL_OVERLAP = timedelta(minutes=2)


def time_frame(start: datetime, end: datetime) -> str:
    """auditFeed's absolute form: ``utc.{YYYY-MM-DD/hh:mm:ss--YYYY-MM-DD/hh:mm:ss}``."""
    fmt = "%Y-%m-%d/%H:%M:%S"
    return f"utc.{{{start.astimezone(UTC).strftime(fmt)}--{end.astimezone(UTC).strftime(fmt)}}}"


def short_name(name: str | None) -> str | None:
    """Cato names children ``Site \\ LAN1 \\ Range``; the resource knows only the last part."""
    return name.rsplit(" \\ ", 1)[-1].strip() if name else None


def record_hash(raw: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(raw, sort_keys=True, default=str).encode()).hexdigest()[:32]


@dataclass(frozen=True)
class AuditRecord:
    hash: str
    time: datetime
    actor_kind: str  # "admin" | "api-key" | "unknown"
    actor_id: str | None
    actor_name: str | None
    object_id: str | None
    object_name: str | None
    object_type: str | None
    change_type: str | None
    model_type: str | None
    model_name: str | None
    module: str | None
    before: dict[str, str] = field(default_factory=dict)
    after: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_raw(cls, raw: Mapping[str, Any]) -> AuditRecord:
        fm = raw.get("fieldsMap") or {}
        if isinstance(fm, str):  # Map is a JSON scalar; some gateways send it as text
            fm = json.loads(fm or "{}")
        fm = mask_fields(fm)  # change_Before_md5AuthKey...: no secret value goes further than here
        admin, key, obj = raw.get("admin"), raw.get("apiKey"), raw.get("object") or {}
        actor = admin or key or {}
        return cls(
            hash=record_hash(raw),
            time=parse_time(raw.get("time")) or datetime.fromtimestamp(0, UTC),
            actor_kind="admin" if admin else ("api-key" if key else "unknown"),
            actor_id=_s(actor.get("id")),
            actor_name=_s(actor.get("name")),
            object_id=_s(obj.get("id")),
            object_name=_s(obj.get("name")),
            object_type=_s(obj.get("type")),
            change_type=_s(fm.get("change_type")),
            model_type=_s(fm.get("model_type")),
            model_name=_s(fm.get("model_name")),
            module=_s(fm.get("module")),
            before={
                k[len("change_Before_") :]: str(v) for k, v in fm.items() if k.startswith("change_Before_")
            },
            after={k[len("change_After_") :]: str(v) for k, v in fm.items() if k.startswith("change_After_")},
        )

    def to_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        # Full precision: records of one second keep their order when read back from the cache.
        d["time"] = self.time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> AuditRecord:
        return cls(**{**d, "time": parse_time(d["time"]) or datetime.fromtimestamp(0, UTC)})

    def names(self) -> set[str]:
        out = {self.object_name, self.model_name, self.before.get("name"), self.after.get("name")}
        return {n for n in out if n} | {short_name(n) for n in out if n}  # type: ignore[misc]

    @property
    def sort_key(self) -> tuple[datetime, str]:
        return (self.time, self.hash)


def _s(v: Any) -> str | None:
    return None if v in (None, "") else str(v)


def iso(t: datetime | None) -> str | None:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if t else None


@dataclass
class Interest:
    """Which records are worth keeping: about these object ids or names."""

    ids: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)

    def add(self, ident: Any = None, *names: Any) -> None:
        if ident not in (None, ""):
            self.ids.add(str(ident))
        for n in names:
            if n:
                self.names.add(str(n))
                self.names.add(short_name(str(n)) or "")
        self.names.discard("")

    def wants(self, rec: AuditRecord) -> bool:
        return (rec.object_id in self.ids) or bool(rec.names() & self.names)


# -- cache ----------------------------------------------------------------------------------------
def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "catoiac" / "audit"


class AuditCache:
    """``<dir>/<account>.json``: kept records, the feed marker, the window they cover, and the own
    API key learnt per stack. Written atomically (tmp file + rename).

    The cache holds who changed what in the account: the file is 0600 and a directory we create is
    0700, and secret values (BGP MD5 keys...) are masked before they are kept. A cache written by an
    older version (world-readable, values in clear) is masked and tightened when it is opened."""

    FILE_MODE, DIR_MODE = 0o600, 0o700

    def __init__(self, directory: str | Path, account_id: str, endpoint: str) -> None:
        self.path = Path(directory) / f"{account_id}.json"
        self.account_id, self.endpoint = str(account_id), endpoint
        self.data = self._load()
        if self._needs_rewrite:
            self.save()

    def _empty(self) -> dict[str, Any]:
        return {
            "version": CACHE_VERSION,
            "account_id": self.account_id,
            "endpoint": self.endpoint,
            "marker": None,
            "marker_frame": None,
            "complete_from": None,
            "fetched_to": None,
            "records": [],
            "own_keys": {},
        }

    def _load(self) -> dict[str, Any]:
        self._needs_rewrite = False
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return self._empty()
        records = data.get("records") if isinstance(data.get("records"), list) else []
        masked = [mask_fields(r) for r in records]
        loose = (self.path.stat().st_mode & 0o077) != 0
        if masked != records or loose:
            data["records"] = masked
            self._needs_rewrite = True
        same = (
            data.get("version") == CACHE_VERSION
            and data.get("account_id") == self.account_id
            and data.get("endpoint") == self.endpoint
        )
        return data if same else self._empty()

    def reset_feed(self) -> None:
        own = self.data.get("own_keys") or {}
        self.data = self._empty()
        self.data["own_keys"] = own

    def save(self) -> None:
        directory = self.path.parent
        if not directory.exists():
            directory.mkdir(parents=True, exist_ok=True)
            directory.chmod(self.DIR_MODE)  # mkdir's mode is subject to the umask
        elif directory == default_cache_dir():
            directory.chmod(self.DIR_MODE)  # ours: an older version made it 0755
        self.data["records"] = [mask_fields(r) for r in self.data.get("records") or []]
        tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, self.FILE_MODE)
        try:
            os.fchmod(
                fd, self.FILE_MODE
            )  # O_CREAT's mode is subject to the umask, and a stale tmp keeps its own
            with os.fdopen(fd, "w") as f:
                fd = -1
                f.write(json.dumps(self.data, indent=1, sort_keys=True))
        finally:
            if fd != -1:
                os.close(fd)
        os.replace(tmp, self.path)
        self._needs_rewrite = False


# -- fetching ----------------------------------------------------------------------------------------
@dataclass
class FeedStats:
    calls: int = 0
    records_fetched: int = 0
    duplicates: int = 0
    records_kept: int = 0
    records_from_cache: int = 0
    marker_reused: bool = False

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class AuditFeed:
    """Fetches a window of the feed for one account, streaming pages and caching what it keeps."""

    def __init__(
        self,
        client,
        account_id: str,
        *,
        cache: AuditCache | None = None,
        on_page: Callable[[int, int], None] | None = None,
    ) -> None:
        self.client = client
        self.account_id = str(account_id)
        self.cache = cache
        self.on_page = on_page
        self.stats = FeedStats()

    def fetch(self, start: datetime, end: datetime, interest: Interest | None) -> list[AuditRecord]:
        """Records in [start, end] that ``interest`` wants (all when it is None), oldest first."""
        kept: dict[str, AuditRecord] = {}
        fetch_from, marker = start, None
        cache = self.cache
        fetched_at = datetime.now(UTC)
        if cache is not None:
            complete_from = parse_time(cache.data.get("complete_from"))
            fetched_to = parse_time(cache.data.get("fetched_to"))
            if complete_from is not None and fetched_to is not None and complete_from <= start:
                for d in cache.data.get("records") or []:
                    rec = AuditRecord.from_dict(d)
                    if rec.time >= start:
                        kept[rec.hash] = rec
                self.stats.records_from_cache = len(kept)
                fetch_from = max(start, min(fetched_to, end) - TAIL_OVERLAP)
                if cache.data.get("marker_frame") == time_frame(fetch_from, end):
                    marker = cache.data.get("marker")  # the very same frame: its marker is valid
                    self.stats.marker_reused = marker is not None
            else:
                cache.reset_feed()
        frame = time_frame(fetch_from, end)
        try:
            marker = self._pages(frame, marker, interest, kept)
        except ValidationError:
            if marker is None:
                raise
            # The feed refused our marker (expired): fetch the frame again from its start, once.
            self.stats.marker_reused = False
            marker = self._pages(frame, None, interest, kept)
        records = sorted(kept.values(), key=lambda r: r.sort_key)
        if cache is not None:
            self._store(cache, start, min(end, fetched_at), frame, marker, records)
        return [r for r in records if start <= r.time <= end + SKEW]

    def _pages(
        self,
        frame: str,
        marker: str | None,
        interest: Interest | None,
        kept: dict[str, AuditRecord],
    ) -> str | None:
        seen = set(kept)
        while True:
            data = self.client.execute(
                "AuditFeed", {"accountIDs": [self.account_id], "timeFrame": frame, "marker": marker}
            )
            self.stats.calls += 1
            page = data.get("auditFeed") or {}
            count = fresh = 0
            for acc in page.get("accounts") or []:
                if acc.get("id") not in (None, self.account_id):
                    continue
                for raw in acc.get("records") or []:
                    count += 1
                    rec = AuditRecord.from_raw(raw)
                    if rec.hash in seen:  # the inclusive boundary, or an overlapping window
                        self.stats.duplicates += 1
                        continue
                    seen.add(rec.hash)
                    fresh += 1
                    if interest is None or interest.wants(rec):
                        kept[rec.hash] = rec
            self.stats.records_fetched += fresh
            self.stats.records_kept = len(kept)
            if self.on_page:
                self.on_page(self.stats.calls, self.stats.records_fetched)
            previous, marker = marker, page.get("marker") or marker
            if not page.get("hasMore") or (count == 0 and not page.get("marker")):
                return marker
            if fresh == 0 and marker == previous:
                return marker  # a marker that does not advance and nothing new: stop, not loop

    def _store(
        self,
        cache: AuditCache,
        start: datetime,
        fetched_to: datetime,
        frame: str,
        marker: str | None,
        records: list[AuditRecord],
    ) -> None:
        cache.data.update(
            marker=marker,
            marker_frame=frame,
            complete_from=iso(start),
            fetched_to=iso(fetched_to),
            records=[r.to_dict() for r in records if r.time >= start],
        )
        cache.save()


# -- own key ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class OwnKey:
    id: str | None
    name: str | None
    source: str  # "flag" | "inferred" | "cache" | "unknown"
    evidence: str = ""

    def matches(self, rec: AuditRecord) -> bool:
        if rec.actor_kind != "api-key" or (self.id is None and self.name is None):
            return False
        return (self.id is not None and rec.actor_id == self.id) or (
            self.id is None and self.name is not None and rec.actor_name == self.name
        )

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "source": self.source, "evidence": self.evidence}


def infer_own_key(records: Iterable[AuditRecord], stacks: Iterable[StackState]) -> OwnKey | None:
    """The API key whose records coincide with the stacks' own work.

    Rule (per API key, admins never count):
    - +3 for each CREATED record of an object whose id is a resource id in the state: only the
      process that ran ``pulumi up`` learns the id of what it creates;
    - +2 for each record on a state resource within 5 s of that resource's ``created``/``modified``
      time in the state;
    - +1 for each record on a state resource during a stack update (start..end, 5 s slack).
    The key with the highest score wins if it beats the runner-up; a tie or no score: unknown.
    """
    stacks = list(stacks)
    ids = {r.id: r for s in stacks for r in s.resources}
    spans = [(u.start - SKEW, (u.end or u.start) + SKEW) for s in stacks for u in s.updates if u.start]
    scores: dict[tuple[str | None, str | None], int] = {}
    reasons: dict[tuple[str | None, str | None], list[str]] = {}
    for rec in records:
        if rec.actor_kind != "api-key" or rec.object_id not in ids:
            continue
        res, key, points, why = ids[rec.object_id], (rec.actor_id, rec.actor_name), 0, []
        if rec.change_type == "CREATED":
            points += 3
            why.append(f"created {res.spec_name} {res.id}")
        if any(t and abs(rec.time - t) <= SKEW for t in (res.created, res.modified)):
            points += 2
            why.append(f"at the state time of {res.logical_name}")
        if any(a <= rec.time <= b for a, b in spans):
            points += 1
        if points:
            scores[key] = scores.get(key, 0) + points
            reasons.setdefault(key, []).extend(why)
    if not scores:
        return None
    ranked = sorted(scores.items(), key=lambda kv: (-kv[1], str(kv[0])))
    if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
        return None
    (kid, kname), score = ranked[0]
    seen: list[str] = []
    for w in reasons.get((kid, kname), []):
        if w not in seen:
            seen.append(w)
    evidence = f"score {score}: " + "; ".join(seen[:3]) + ("..." if len(seen) > 3 else "")
    return OwnKey(kid, kname, "inferred", evidence)


# -- matching records to findings ----------------------------------------------------------------
@dataclass(frozen=True)
class AuditModel:
    """How a spec's objects appear in the feed."""

    object_types: tuple[str, ...]  # ``object.type``
    model_types: tuple[str, ...]  # ``fieldsMap.model_type``
    item_model_types: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # named items inside


AUDIT_MODELS: dict[str, AuditModel] = {
    "SocketSite": AuditModel(("site",), ("Site",)),
    "NetworkRange": AuditModel(("siteRange",), ("NetworkRange",)),
    "StaticHost": AuditModel(("host",), ("StaticHost",)),
    "SocketInterface": AuditModel(("networkInterface",), ("SocketInterface",)),
    "BgpPeer": AuditModel(("bgpPeer",), ("BgpPeer",)),
    "Group": AuditModel(("group",), ("Group",)),
}


def register_audit_model(spec_name: str, model: AuditModel) -> None:
    AUDIT_MODELS[spec_name] = model


def _register_policies() -> None:
    """Every policy family (``ResourceSpec.policy``): its rules and sections are ``<Prefix>Rule`` and
    ``<Prefix>Section`` records."""
    from ..resources.specs import SPECS  # late: the specs import the engine, which reads this feed

    for name, spec in SPECS.items():
        if spec.policy is not None:
            p = spec.policy.prefix
            AUDIT_MODELS.setdefault(
                name, AuditModel((), (), {"rule": (f"{p}Rule",), "section": (f"{p}Section",)})
            )


_register_policies()


@dataclass
class Target:
    """What a finding (or one of its changes) is about, for matching records."""

    ids: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)
    object_types: set[str] = field(default_factory=set)
    model_types: set[str] = field(default_factory=set)

    def matches(self, rec: AuditRecord) -> bool:
        if rec.object_id and rec.object_id in self.ids:
            if not self.object_types or rec.object_type in self.object_types or rec.object_type == "any":
                return True
        if rec.object_id and self.ids and rec.object_type in self.object_types and rec.object_type != "any":
            return False  # the same kind of object with another id: a namesake, not this one
        if rec.model_type in self.model_types and self.names:
            return bool(rec.names() & self.names)
        return False

    def related(self, index: RecordIndex) -> list[AuditRecord]:
        """Matching records, oldest first. A rename seen in a record adds the other name, so a
        record made under the old (or new) name still matches."""
        names = set(self.names)
        hits: dict[str, AuditRecord] = {}
        pending = set(names)
        for i in self.ids:
            for r in index.by_id.get(i, ()):
                if self.matches(r):
                    hits[r.hash] = r
        while True:
            for n in pending:
                for r in index.by_name.get(n, ()):
                    if r.hash not in hits and Target(
                        self.ids, names, self.object_types, self.model_types
                    ).matches(r):
                        hits[r.hash] = r
            grown = set(names)
            for r in hits.values():
                for n in (r.before.get("name"), r.after.get("name"), r.model_name, r.object_name):
                    if n:
                        grown |= {n, short_name(n) or n}
            pending = grown - names
            if not pending:
                return sorted(hits.values(), key=lambda r: r.sort_key)
            names = grown


class RecordIndex:
    """Records by object id and by every name they carry, for many lookups."""

    def __init__(self, records: Iterable[AuditRecord]) -> None:
        self.by_id: dict[str, list[AuditRecord]] = {}
        self.by_name: dict[str, list[AuditRecord]] = {}
        for r in records:
            if r.object_id:
                self.by_id.setdefault(r.object_id, []).append(r)
            for n in r.names():
                self.by_name.setdefault(n, []).append(r)


_ALIASES = {
    "city": ("cityName",),
    "native_range": ("nativeNetworkRange", "subnet"),
    "site_type": ("siteType", "type"),
}


def audit_fields(path: str) -> set[str]:
    """Audit field names (``change_After_<f>``) that can carry a property path's value."""
    parts = [p for p in re.split(r"[.\[\]]", path) if p]
    leaf = parts[-1] if parts else ""
    camel = leaf.split("_")[0] + "".join(w[:1].upper() + w[1:] for w in leaf.split("_")[1:])
    return {leaf, camel, *_ALIASES.get(leaf, ())}


def cause_of(rec: AuditRecord | None, own: OwnKey | None) -> str:
    if rec is None:
        return NO_RECORD
    if rec.actor_kind == "admin":
        return UI
    if own is not None and own.matches(rec):
        return THIS_TOOL
    return OTHER_KEY  # another key, or an actor-less (automated) change


def pick(
    records: list[AuditRecord],
    *,
    fields: set[str] | None = None,
    live_value: Any = None,
    change_types: tuple[str, ...] | None = None,
) -> AuditRecord | None:
    """The record that best explains a difference, deterministically (latest wins in each tier):
    1. it set the field to the value Cato has now (``change_After_<field>`` equals the live value);
    2. it touched the field;
    3. it carries no field detail at all, so it may have touched it.
    A record with field detail that does not mention the field did not change it: no match. Without
    ``fields`` the latest record of the wanted change types is the answer."""
    pool = [r for r in records if not change_types or r.change_type in change_types]
    if not pool:
        return None
    if not fields:
        return max(pool, key=lambda r: r.sort_key)
    touching = [r for r in pool if fields & (set(r.after) | set(r.before))]
    want = None if isinstance(live_value, dict | list) else audit_value(live_value)
    exact = [r for r in touching if want is not None and any(r.after.get(f) == want for f in fields)]
    vague = [r for r in pool if not r.before and not r.after and r.change_type != "CREATED"]
    for tier in (exact, touching, vague):
        if tier:
            return max(tier, key=lambda r: r.sort_key)
    return None
