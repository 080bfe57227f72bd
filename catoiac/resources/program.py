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
    try:
        return ipaddress.IPv4Network(str(value), strict=False)
    except ValueError:
        return None


def collide(space: str, a: Any, b: Any) -> bool:
    if space != SUBNET:
        return a == b
    na, nb = network(a), network(b)
    return na is not None and nb is not None and na.overlaps(nb)


def known_reservations(reservations: list[Reservation]) -> list[Reservation]:
    return [c for c in reservations if not is_unknown(c.key) and (c.space != SUBNET or network(c.key))]


@dataclass
class Entry:
    owner: str
    spec: str  # the resource's spec name ("SocketSite")
    inputs: Mapping[str, Any]  # canonical inputs, as check() returns them
    reservations: list[Reservation]
    olds: Mapping[str, Any]  # the old inputs the resource was last checked with, if any


class Program:
    """Resources checked by this provider process, by owner."""

    def __init__(self) -> None:
        self._entries: dict[str, Entry] = {}
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
        with self._lock:
            before = self._entries.get(owner)
            kept = dict(olds or {}) or (before.olds if before is not None else {})
            self._entries[owner] = Entry(owner, spec, dict(inputs), mine, kept)
            others = [
                e
                for e in self._entries.values()
                if e.owner != owner and program_of(e.owner) == program_of(owner)
            ]
        problems = []
        for c in mine:
            for other in others:
                theirs = next(
                    (o for o in other.reservations if o.space == c.space and collide(c.space, c.key, o.key)),
                    None,
                )
                if theirs is not None:
                    clash = "is also declared by" if theirs.what == c.what else f"overlaps {theirs.what} of"
                    problems.append((c.prop, f"{c.what} {clash} {label(other.owner)} in this program: "
                                     f"{FIXES.get(c.space, 'change one')}"))  # fmt: skip
                    break
        return problems

    def olds(self, owner: str) -> Mapping[str, Any]:
        """The old inputs ``owner`` was last checked with. Pulumi checks a resource it replaces a
        second time with no old inputs (to renew auto-names); it is still replacing its old self."""
        with self._lock:
            entry = self._entries.get(owner)
            return entry.olds if entry is not None else {}

    def forget(self, owner: str) -> None:
        with self._lock:
            self._entries.pop(owner, None)

    def resources(self, owner: str, spec: str | None = None) -> Iterator[Entry]:
        """The other resources of ``owner``'s program (of one spec, if given)."""
        with self._lock:
            entries = list(self._entries.values())
        for e in entries:
            if e.owner != owner and program_of(e.owner) == program_of(owner) and spec in (None, e.spec):
                yield e

    def holder(self, owner: str, space: str, key: Any) -> Entry | None:
        """Another resource of the program whose reservations include ``key`` in ``space``."""
        for e in self.resources(owner):
            if any(c.space == space and collide(space, c.key, key) for c in e.reservations):
                return e
        return None


PROGRAM = Program()  # per provider process
