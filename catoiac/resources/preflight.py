"""Checks of a resource against the live account before anything is written, run by the provider's
``check`` so that ``pulumi preview`` fails with what ``up`` would be refused for.

- **One view per run.** Each session gets one ``AccountReader`` taken at its first check and never
  invalidated: the account as it was before this run. Its collections are read once, so a preview
  costs one read per collection it needs, whatever the number of resources, and never writes.
  During ``up`` the program's own new objects are not in it, and need not be: conflicts between the
  program's resources are the registry's (``program.py``), and an id a rule takes from an object this
  run created is looked up in the session's fresh reader.
- **Credentials once.** The first check reads the sites; a refused key (HTTP 401) and a key with no
  access to the account id are told apart and reported once, by the first resource checked. Other
  resources are then not checked against the account (there is nothing to check against).
- **Reservations** (``ResourceSpec.reservations``: names and address ranges) are compared with the live objects
  holding the same, except the resource's own old self: the live object its old inputs (or its
  ``import_`` id) identify, and that object's children (a site's own ranges).
- **Limits** Cato documents (KB 4414483096465): hosts per site, ranges per LAN port, rules per policy.
"""

from __future__ import annotations

import bisect
import threading
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..config import ClientConfig
from ..errors import AuthenticationError, CatoError, WrongAccountError
from ..readpath import AccountReader
from ..session import Session
from .program import FIXES, Program, collide, hashable, known_reservations, label, network, span
from .spec import SUBNET, Reservation, ResourceSpec
from .validation import is_unknown

Problem = tuple[str, str]

# Cato KB 4414483096465 (CMA Technical Guidelines, "Entity Limits per Account").
MAX_HOSTS_PER_SITE = 3_500
MAX_RANGES_PER_LAN_PORT = 1_000

# Objects a stack made but never recorded (an interrupted up) are its own: a hook registered here
# (client config, owner, spec name, live id) -> bool says so, and such an object is no conflict for
# its owner. Hooks get the checking session's config: the endpoint and account the check reads.
OWN_OBJECT_HOOKS: list[Callable[[ClientConfig, str, str, str], bool]] = []
# Who else declares a live object: (client config, owner asking, live id) -> another owner, or None.
OWNER_OF_HOOKS: list[Callable[[ClientConfig, str, str], str | None]] = []
# A reservation space that is a spec's natural key: a conflict there is an object of that very kind,
# which the resource could import instead.
NATURAL_SPACES = {"site name": "SocketSite", "range name": "NetworkRange", "host name": "StaticHost"}


@dataclass(frozen=True)
class LiveHolder:
    id: str
    parent: str | None  # the site it belongs to
    what: str

    @property
    def ids(self) -> tuple[str, ...]:
        return (self.id,) if self.parent is None else (self.id, self.parent)


def _sites(r: AccountReader) -> Mapping[str, Mapping[str, Any]]:
    return r.get("sites")


def _site_name(r: AccountReader, site_id: Any) -> str:
    return str((_sites(r).get(str(site_id)) or {}).get("name") or site_id)


def _port(r: AccountReader, range_id: Any) -> str | None:
    """The port (``LAN1``, ``INT_5``...) a live range is on."""
    return (r.get("range_ports").get(str(range_id)) or {}).get("interface_id")


def _range_label(r: AccountReader, rng: Mapping[str, Any]) -> str:
    return f"range {rng.get('name')!r} ({rng.get('subnet')}) of site {_site_name(r, rng.get('site_id'))!r}"


def _live_site_names(r: AccountReader) -> list[tuple[Any, LiveHolder]]:
    return [
        (s["name"], LiveHolder(sid, None, f"site {s['name']!r} (id {sid})")) for sid, s in _sites(r).items()
    ]


def _live_subnets(r: AccountReader) -> list[tuple[Any, LiveHolder]]:
    return [
        (x["subnet"], LiveHolder(rid, x.get("site_id"), _range_label(r, x)))
        for rid, x in r.get("ranges").items()
        if x.get("subnet")
    ]


def _live_range_names(r: AccountReader) -> list[tuple[Any, LiveHolder]]:
    return [
        (
            (x.get("site_id"), _port(r, rid), x.get("name")),
            LiveHolder(rid, x.get("site_id"), _range_label(r, x)),
        )
        for rid, x in r.get("ranges").items()
    ]


def _live_hosts(field: str) -> Callable[[AccountReader], list[tuple[Any, LiveHolder]]]:
    def load(r: AccountReader) -> list[tuple[Any, LiveHolder]]:
        return [
            ((h.get("site_id"), h.get(field)),
             LiveHolder(hid, h.get("site_id"), f"host {h.get('name')!r} ({h.get('ip')}) of site {_site_name(r, h.get('site_id'))!r}"))
            for hid, h in r.get("hosts").items()
        ]  # fmt: skip

    return load


# Reservation space -> the live objects holding a value of it. Spaces not listed are checked in the
# program only (a BGP peer's name: its list is one call per site; a port always exists) or by the
# spec itself (policy sections and rules: the planner, see policy.preview_problems).
LIVE_SPACES: dict[str, Callable[[AccountReader], list[tuple[Any, LiveHolder]]]] = {
    "site name": _live_site_names,
    SUBNET: _live_subnets,
    "range name": _live_range_names,
    "host name": _live_hosts("name"),
    "host address": _live_hosts("ip"),
}


def native_port(site_id: str, reader: AccountReader) -> str | None:
    from .specs.network_range import native_port as port_of  # the specs import the engine, which imports us

    return port_of(site_id, reader)


def _creds_problem(e: CatoError) -> Problem:
    """The setting to fix, and the client's own words for it (they name the setting, never the key)."""
    if isinstance(e, WrongAccountError):
        return ("cato:accountId", str(e))
    if isinstance(e, AuthenticationError):
        return ("cato:apiKey", str(e))
    return ("cato:endpoint", f"could not read the account to check the program against it: {e}")


class Preflight:
    """The live checks of one session (one endpoint, account and key) for one provider process."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.reader = AccountReader(session.client)  # the account before this run: never invalidated
        self._lock = threading.Lock()
        self._creds: Problem | None = None
        self._probed = False
        self._reported = False
        self._spaces: dict[str, list[tuple[Any, LiveHolder]]] = {}
        # Lookups built once from the view (it never changes): live holders by key, for spaces
        # compared by equality; live objects by natural key; live ranges and hosts by where they are.
        self._by_key: dict[str, dict[Any, list[tuple[Any, LiveHolder]]]] = {}
        self._by_natural: dict[tuple[str, tuple[str, ...]], dict[Any, list[str]] | None] = {}
        self._by_place: dict[str, dict[Any, list[Mapping[str, Any]]]] = {}
        self._by_span: _SpanIndex | None = None  # live address ranges (the SUBNET space)

    # -- credentials --------------------------------------------------------------------------
    def credentials(self) -> tuple[bool, list[Problem]]:
        """(usable, problems to report): the problems are returned to the first caller only."""
        with self._lock:
            if not self._probed:
                self._probed = True
                try:
                    _sites(self.reader)
                except CatoError as e:
                    self._creds = _creds_problem(e)
            if self._creds is None:
                return True, []
            if self._reported:
                return False, []
            self._reported = True
            return False, [self._creds]

    # -- reservations -------------------------------------------------------------------------------
    def owns(self, owner: str, spec_name: str, live_id: str) -> bool:
        """Whether an object is the resource's own though its state does not hold it (an interrupted
        up made it): the create, or the policy apply, then adopts it after its own proof."""
        config = self.session.client.config
        return any(hook(config, owner, spec_name, str(live_id)) for hook in OWN_OBJECT_HOOKS)

    def whose(self, owner: str | None, live_id: str) -> str | None:
        """The other catoiac resource that declares a live object, if one is known."""
        config = self.session.client.config
        for hook in OWNER_OF_HOOKS:
            found = hook(config, owner or "", str(live_id))
            if found:
                return found
        return None

    def _holders(self, space: str) -> list[tuple[Any, LiveHolder]]:
        with self._lock:
            if space not in self._spaces:
                self._spaces[space] = LIVE_SPACES[space](self.reader)
            return self._spaces[space]

    def _candidates(self, c: Reservation) -> list[tuple[Any, LiveHolder]]:
        """The live holders of ``c``'s space that may collide with it, in the order of the space's
        list: those of the same key (a dict look-up), or every one when keys are compared otherwise."""
        holders = self._holders(c.space)
        if c.space == SUBNET:
            return self._overlapping(holders, c.key)
        if not hashable(c.key):
            return holders
        with self._lock:
            index = self._by_key.get(c.space)
            if index is None:
                index = {}
                for key, holder in holders:
                    index.setdefault(key if hashable(key) else _UNHASHABLE, []).append((key, holder))
                self._by_key[c.space] = index
        odd = index.get(_UNHASHABLE, [])  # compared one by one, in their places in the list
        same = index.get(c.key, [])
        if not odd:
            return same
        keep = {id(h) for _k, h in same} | {id(h) for _k, h in odd}
        return [(k, h) for k, h in holders if id(h) in keep]

    def _overlapping(self, holders: list[tuple[Any, LiveHolder]], key: Any) -> list[tuple[Any, LiveHolder]]:
        """The live address ranges that may overlap ``key``, in the space's order: a range check against
        every live range, per range checked, made a large preview's checks quadratic. Two CIDR
        networks overlap only when one holds the other: the live ranges that start inside ``key``,
        and those that hold its first address (one look-up per prefix length)."""
        wanted = span(str(key))
        if wanted is None:
            return holders
        with self._lock:
            index = self._by_span
            if index is None:
                index = self._by_span = _SpanIndex(holders)
        return [holders[i] for i in index.overlapping(*wanted)]

    def own_ids(
        self, spec: ResourceSpec, olds: Mapping[str, Any] | None, news: Mapping[str, Any]
    ) -> set[str]:
        """Live ids that are the resource itself: its ``import_`` id, or what its old inputs name."""
        from .engine import ADOPT_KEY

        out = {str(news[ADOPT_KEY])} if news.get(ADOPT_KEY) else set()
        old = {k: v for k, v in (olds or {}).items() if not k.startswith("__")}
        if old and spec.natural_key and spec.kind in LIVE_KINDS:
            wanted = tuple(old.get(k) for k in spec.natural_key)
            index = self._natural_index(spec.kind, tuple(spec.natural_key))
            if index is not None and hashable(wanted):
                out.update(index.get(wanted, ()))
            else:
                for oid, obj in self.reader.get(spec.kind).items():
                    if all(obj.get(k) == old.get(k) for k in spec.natural_key):
                        out.add(str(oid))
        return out

    def _natural_index(self, kind: str, natural_key: tuple[str, ...]) -> dict[Any, list[str]] | None:
        """Live ids of ``kind`` by their natural key's values (None if one of those is unhashable)."""
        with self._lock:
            if (kind, natural_key) not in self._by_natural:
                index: dict[Any, list[str]] | None = {}
                for oid, obj in self.reader.get(kind).items():
                    values = tuple(obj.get(k) for k in natural_key)
                    if not hashable(values):
                        index = None
                        break
                    index.setdefault(values, []).append(str(oid))
                self._by_natural[(kind, natural_key)] = index
            return self._by_natural[(kind, natural_key)]

    def conflicts(
        self,
        spec: ResourceSpec,
        owner: str | None,
        reservations: list[Reservation],
        own: set[str],
        inputs: Mapping[str, Any],
    ) -> list[Problem]:
        problems: list[Problem] = []
        told: set[str] = set()  # one conflict per live object: a site's name, not also its native range
        for c in known_reservations(reservations):
            if c.space not in LIVE_SPACES:
                continue
            c = self._resolved(c)
            for key, holder in self._candidates(c):
                # Whether it collides first (the cheap test that rules out nearly every holder).
                if not collide(c.space, c.key, key):
                    continue
                if own & set(holder.ids) or told & set(holder.ids):
                    continue
                if owner and any(self.owns(owner, spec.name, i) for i in holder.ids):
                    continue
                if not self._still_holds(c, holder):
                    continue
                problems.append((c.prop, self._message(spec, owner, c, holder, inputs)))
                told.add(holder.id)
                break
        return problems

    def _resolved(self, c: Reservation) -> Reservation:
        """A range name reservation of a range left on its site's native port, with that port."""
        if c.space == "range name" and c.key[1] is None:
            port = native_port(str(c.key[0]), self.reader)
            return Reservation(c.space, (c.key[0], port, c.key[2]), c.prop, c.what)
        return c

    def _still_holds(self, c: Reservation, holder: LiveHolder) -> bool:
        """Whether the conflicting object still holds the value, in the session's own reader, which
        every write of this run invalidates: during ``up`` it may have been deleted (a replaced site
        takes its ranges with it) or changed since the view was taken. Read only when a conflict is
        found, so a clean preview pays nothing for it."""
        current = LIVE_SPACES[c.space](self.session.reader)
        return any(h.id == holder.id and collide(c.space, c.key, key) for key, h in current)

    def _message(
        self, spec: ResourceSpec, owner: str | None, c: Reservation, holder: LiveHolder, inputs
    ) -> str:
        whose = self.whose(owner, holder.id)
        if NATURAL_SPACES.get(c.space) == spec.name:  # the same wording as a create Cato refuses
            key = ", ".join(f"{k} {inputs.get(k)!r}" for k in spec.natural_key)
            return (
                f"a {spec.name} with {key} already exists (id {holder.id}) and this resource did not create it"
                + (
                    f": it belongs to {whose}"
                    if whose
                    else " (someone else made it: another stack, or the Cato console)"
                )
                + f'. To manage it here, import it (pulumi.ResourceOptions(import_="{holder.id}")); otherwise '
                "pick another name"
            )
        return (
            f"{c.what} conflicts with {holder.what}, which exists in the account"
            + (f" and belongs to {whose}" if whose else "")
            + f": {FIXES.get(c.space, 'change one')}. If it is a resource this program removes or renames: "
            "Pulumi creates before it deletes, so rename with `aliases`, or remove the old one in an up of its own"
        )

    # -- limits -------------------------------------------------------------------------------
    def _in_site(self, kind: str, site: str) -> list[Mapping[str, Any]]:
        """The live objects of ``kind`` whose ``site_id`` is ``site``, in the view's order."""
        with self._lock:
            index = self._by_place.get(kind)
            if index is None:
                index = self._by_place[kind] = {}
                for obj in self.reader.get(kind).values():
                    if hashable(obj.get("site_id")):
                        index.setdefault(obj.get("site_id"), []).append(obj)
        return index.get(site, [])

    def limits(
        self,
        spec: ResourceSpec,
        owner: str | None,
        inputs: Mapping[str, Any],
        own: set[str],
        program: Program,
    ) -> list[Problem]:
        if spec.name == "StaticHost" and not is_unknown(inputs.get("site_id")):
            site = str(inputs["site_id"])
            live = self._in_site("hosts", site)
            return _over(live, own, program, owner, inputs, spec.name, lambda i: str(i.get("site_id")) == site,
                         MAX_HOSTS_PER_SITE, f"site {_site_name(self.reader, site)!r}", "static hosts")  # fmt: skip
        if spec.name == "NetworkRange" and not is_unknown(inputs.get("site_id")):
            site = str(inputs["site_id"])
            port = inputs.get("interface") or native_port(site, self.reader)
            live = [x for x in self._in_site("ranges", site) if _port(self.reader, x.get("id")) == port]
            same = lambda i: str(i.get("site_id")) == site and (i.get("interface") or port) == port  # noqa: E731
            where = f"port {port} of site {_site_name(self.reader, site)!r}"
            return _over(
                live,
                own,
                program,
                owner,
                inputs,
                spec.name,
                same,
                MAX_RANGES_PER_LAN_PORT,
                where,
                "network ranges",
            )
        return []


_UNHASHABLE = object()  # the index entry of live keys a dict cannot hold


class _SpanIndex:
    """Positions of live address ranges by their first address, and by their (first, last) span."""

    def __init__(self, holders: list[tuple[Any, LiveHolder]]) -> None:
        self.starts: list[tuple[int, int]] = []  # (first address, position), sorted
        self.spans: dict[tuple[int, int], list[int]] = {}
        for i, (key, _holder) in enumerate(holders):
            s = span(str(key))
            if s is not None:  # a value that is no network collides with nothing
                self.starts.append((s[0], i))
                self.spans.setdefault(s, []).append(i)
        self.starts.sort()

    def overlapping(self, first: int, last: int) -> list[int]:
        lo = bisect.bisect_left(self.starts, (first, -1))
        hi = bisect.bisect_right(self.starts, (last, len(self.starts)))
        found = {i for _start, i in self.starts[lo:hi]}
        for bits in range(33):  # the networks holding ``first``, from 0.0.0.0/0 to the /32
            mask = (0xFFFFFFFF << (32 - bits)) & 0xFFFFFFFF
            net = first & mask
            found.update(self.spans.get((net, net | (~mask & 0xFFFFFFFF)), ()))
        return sorted(found)


def _over(live, own, program, owner, inputs, spec_name, same, limit, where, what) -> list[Problem]:
    """Objects of one scope, live and declared, counted once each (names are unique in a scope)."""
    names = {x.get("name") for x in live if str(x.get("id")) not in own} | {inputs.get("name")}
    names |= {e.inputs.get("name") for e in program.resources(owner or "", spec_name) if same(e.inputs)}
    total = len(names)
    if total <= limit:
        return []
    return [("site_id", f"{where} would hold {total} {what}: Cato allows {limit} (KB 4414483096465); "
             "put some elsewhere")]  # fmt: skip


# Collections whose objects a spec's natural key finds (the others are not read for own_ids).
LIVE_KINDS = {"sites", "ranges", "hosts", "ipsec_sites"}

_PREFLIGHTS: weakref.WeakKeyDictionary[Session, Preflight] = weakref.WeakKeyDictionary()
_GUARD = threading.Lock()


def preflight_for(session: Session) -> Preflight:
    with _GUARD:
        found = _PREFLIGHTS.get(session)
        if found is None:
            found = _PREFLIGHTS[session] = Preflight(session)
        return found


__all__ = ["Preflight", "preflight_for", "network", "label", "OWN_OBJECT_HOOKS"]
