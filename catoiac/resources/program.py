"""What the provider knows of the program it serves: every resource checked so far, and the names
and address ranges each one takes, so two resources that would collide are refused before a write.

Pulumi checks the resources of one program in one provider process, one ``check`` at a time as the
program registers them, and never tells a dynamic provider about the others. Each resource carries
its identity (``__catoiac_owner`` = ``"<project>/<stack>/<Class>::<name>"``): the registry is keyed
by it, so a resource checked again (preview, then update; or a replacement) replaces its own entry
and never conflicts with its former self. Resources of another project or stack served by the same
process are never compared.

The registry sees a resource only once it is checked: of two colliding resources the second one
checked is refused, and the message names the first. A reservation whose value is not known yet (a
preview's ``site.id`` of a site not created yet) is not compared; during ``up`` Pulumi checks a
resource once its inputs are known, so the collision is then refused before the second write.
"""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from .spec import SUBNET, Reservation
from .validation import is_unknown

# What to tell the user, per reservation space.
FIXES = {
    "site name": "site names are unique in the account: rename one",
    SUBNET: "no two address ranges of an account may overlap: change one",
    "range name": "range names are unique per port of a site: rename one",
    "host name": "host names are unique in a site: rename one",
    "host address": "an address is reserved for one host of a site: change one",
    "BGP peer name": "BGP peer names are unique in a site: rename one",
    "port": "a port has one configuration: keep one resource for it",
    "policy section": "section names are unique in a policy: rename one, or keep the section in one resource",
    "policy rule": "rule names are unique in a policy: rename one",
}


def label(owner: str) -> str:
    """``proj/stack/SocketSite::lisbon`` -> ``SocketSite 'lisbon'``."""
    tail = owner.rsplit("/", 1)[-1]
    cls, _, name = tail.partition("::")
    return f"{cls} {name!r}" if name else tail


def program_of(owner: str) -> str:
    return owner.rsplit("/", 1)[0]


def network(value: Any) -> ipaddress.IPv4Network | None:
    return _network(str(value))


@lru_cache(maxsize=65536)
def _network(text: str) -> ipaddress.IPv4Network | None:
    try:
        return ipaddress.IPv4Network(text, strict=False)
    except ValueError:
        return None


@lru_cache(maxsize=65536)
def span(value: str) -> tuple[int, int] | None:
    """(first, last) address of an IPv4 network as integers, or None: every check compares each
    range with every other, and parsing a CIDR each time was most of a large preview's CPU."""
    net = _network(value)
    return None if net is None else (int(net.network_address), int(net.broadcast_address))


def collide(space: str, a: Any, b: Any) -> bool:
    if space != SUBNET:
        return a == b
    sa, sb = span(str(a)), span(str(b))
    # Two IPv4 networks overlap exactly when their address intervals meet (ipaddress' overlaps()).
    return sa is not None and sb is not None and sa[0] <= sb[1] and sb[0] <= sa[1]


def known_reservations(reservations: list[Reservation]) -> list[Reservation]:
    return [c for c in reservations if not is_unknown(c.key) and (c.space != SUBNET or span(str(c.key)))]


@dataclass
class Entry:
    owner: str
    spec: str  # the resource's spec name ("SocketSite")
    inputs: Mapping[str, Any]  # canonical inputs, as check() returns them
    reservations: list[Reservation]
    olds: Mapping[str, Any]  # the old inputs the resource was last checked with, if any


class Program:
    """Resources checked by this provider process, by owner.

    Entries are kept per program (what every lookup is scoped to), and reservations indexed by
    space and key, so a check costs about the same whatever the number of resources: a scan of
    every other resource per check made a large program's checks quadratic."""

    def __init__(self) -> None:
        self._entries: dict[str, Entry] = {}
        self._order: dict[str, int] = {}  # owner -> its place in _entries (dict order: first declared)
        self._next = 0
        self._programs: dict[str, dict[str, Entry]] = {}  # program -> owner -> entry, in _entries order
        # (program, space) -> owner -> that owner's reservations in the space; and, for spaces compared
        # by equality, (program, space, key) -> owner -> that owner's first reservation of the key.
        self._spaces: dict[tuple[str, str], dict[str, list[Reservation]]] = {}
        self._keys: dict[tuple[str, str, Any], dict[str, Reservation]] = {}
        self._invalid: set[str] = set()
        self._lock = threading.Lock()

    def judged(self, owner: str, valid: bool) -> None:
        """Note whether a resource's inputs passed the checks that need no API."""
        with self._lock:
            (self._invalid.discard if valid else self._invalid.add)(owner)

    def has_invalid(self, owner: str) -> bool:
        """Whether a resource of ``owner``'s program has invalid inputs: the preview fails on those,
        so the account is not read for the rest (cheap errors first, and no call for bad input)."""
        with self._lock:
            return any(program_of(o) == program_of(owner) for o in self._invalid)

    def declare(
        self,
        owner: str,
        spec: str,
        inputs: Mapping[str, Any],
        reservations: list[Reservation],
        olds: Mapping[str, Any] | None = None,
    ) -> list[tuple[str, str]]:
        """Record a resource; [(property, reason)] for each reservation another resource of the program holds."""
        mine = known_reservations(reservations)
        prog = program_of(owner)
        with self._lock:
            before = self._entries.get(owner)
            kept = dict(olds or {}) or (before.olds if before is not None else {})
            if before is not None:
                self._unindex(prog, before)
            else:
                self._order[owner] = self._next
                self._next += 1
            entry = self._entries[owner] = Entry(owner, spec, dict(inputs), mine, kept)
            self._programs.setdefault(prog, {})[owner] = entry
            self._index(prog, entry)
            problems = []
            for c in mine:
                found = self._first_holder(prog, owner, c)
                if found is not None:
                    other, theirs = found
                    clash = "is also declared by" if theirs.what == c.what else f"overlaps {theirs.what} of"
                    problems.append((c.prop, f"{c.what} {clash} {label(other)} in this program: "
                                     f"{FIXES.get(c.space, 'change one')}"))  # fmt: skip
        return problems

    def _index(self, prog: str, entry: Entry) -> None:
        for c in entry.reservations:
            self._spaces.setdefault((prog, c.space), {}).setdefault(entry.owner, []).append(c)
            if c.space != SUBNET and hashable(c.key):
                self._keys.setdefault((prog, c.space, c.key), {}).setdefault(entry.owner, c)

    def _unindex(self, prog: str, entry: Entry) -> None:
        for c in entry.reservations:
            holders = self._spaces.get((prog, c.space))
            if holders is not None:
                holders.pop(entry.owner, None)
            if c.space != SUBNET and hashable(c.key):
                keyed = self._keys.get((prog, c.space, c.key))
                if keyed is not None:
                    keyed.pop(entry.owner, None)
                    if not keyed:
                        del self._keys[(prog, c.space, c.key)]

    def _first_holder(self, prog: str, owner: str, c: Reservation) -> tuple[str, Reservation] | None:
        """The first other resource (in the order they were first declared) with a reservation that
        collides with ``c``, and its first such reservation."""
        if c.space != SUBNET and hashable(c.key):
            candidates = [(o, r) for o, r in self._keys.get((prog, c.space, c.key), {}).items() if o != owner]
        else:
            candidates = []
            for other, theirs in self._spaces.get((prog, c.space), {}).items():
                if other == owner:
                    continue
                hit = next((o for o in theirs if collide(c.space, c.key, o.key)), None)
                if hit is not None:
                    candidates.append((other, hit))
        return min(candidates, key=lambda found: self._order[found[0]], default=None)

    def olds(self, owner: str) -> Mapping[str, Any]:
        """The old inputs ``owner`` was last checked with. Pulumi checks a resource it replaces a
        second time with no old inputs (to renew auto-names); it is still replacing its old self."""
        with self._lock:
            entry = self._entries.get(owner)
            return entry.olds if entry is not None else {}

    def forget(self, owner: str) -> None:
        with self._lock:
            entry = self._entries.pop(owner, None)
            if entry is not None:
                prog = program_of(owner)
                self._unindex(prog, entry)
                self._programs.get(prog, {}).pop(owner, None)
                self._order.pop(owner, None)

    def resources(self, owner: str, spec: str | None = None) -> Iterator[Entry]:
        """The other resources of ``owner``'s program (of one spec, if given)."""
        with self._lock:
            entries = list(self._programs.get(program_of(owner), {}).values())
        for e in entries:
            if e.owner != owner and spec in (None, e.spec):
                yield e

    def holder(self, owner: str, space: str, key: Any) -> Entry | None:
        """Another resource of the program whose reservations include ``key`` in ``space``."""
        for e in self.resources(owner):
            if any(c.space == space and collide(space, c.key, key) for c in e.reservations):
                return e
        return None


def hashable(key: Any) -> bool:
    """Whether a key can be a dict key (an index entry); others are compared one by one."""
    try:
        hash(key)
    except TypeError:
        return False
    return True


PROGRAM = Program()  # per provider process
