"""The program registry's indexes (catoiac.resources.program) answer exactly what a scan of every other
resource answered: the same conflicts, naming the same first-declared resource, after re-checks and
forgets, for names compared by equality and for address ranges compared by overlap."""

from __future__ import annotations

import ipaddress
import random

from catoiac.resources.program import FIXES, Program, collide, known_reservations, label, program_of
from catoiac.resources.spec import SUBNET, Reservation


def _overlaps(a: str, b: str) -> bool:
    na, nb = ipaddress.IPv4Network(a, strict=False), ipaddress.IPv4Network(b, strict=False)
    return na.overlaps(nb)


class _ScanEveryResource:
    """The registry as it was: every declare compares with every other resource, in declaration order."""

    def __init__(self) -> None:
        self.entries: dict[str, list[Reservation]] = {}

    def declare(self, owner: str, reservations: list[Reservation]) -> list[tuple[str, str]]:
        mine = known_reservations(reservations)
        self.entries[owner] = mine
        others = [
            (o, rs) for o, rs in self.entries.items() if o != owner and program_of(o) == program_of(owner)
        ]
        problems = []
        for c in mine:
            for other, theirs_all in others:
                same = (lambda a, b: _overlaps(a, b)) if c.space == SUBNET else (lambda a, b: a == b)
                theirs = next((t for t in theirs_all if t.space == c.space and same(c.key, t.key)), None)
                if theirs is not None:
                    clash = "is also declared by" if theirs.what == c.what else f"overlaps {theirs.what} of"
                    problems.append((c.prop, f"{c.what} {clash} {label(other)} in this program: "
                                     f"{FIXES.get(c.space, 'change one')}"))  # fmt: skip
                    break
        return problems

    def forget(self, owner: str) -> None:
        self.entries.pop(owner, None)


def _random_reservations(rnd: random.Random) -> list[Reservation]:
    out = []
    for _ in range(rnd.randint(0, 3)):
        if rnd.random() < 0.5:
            prefix = rnd.choice([16, 20, 24, 26, 30, 32])
            net = ipaddress.IPv4Network(
                (rnd.choice([0x0A000000, 0x0A010000]) + rnd.randrange(0, 1 << 16), prefix), strict=False
            )
            what = rnd.choice(["native range", "range"])
            out.append(Reservation(SUBNET, str(net), "subnet", f"{what} {net}"))
        else:
            name = rnd.choice(["Lisbon", "Porto", "Faro"])
            space = rnd.choice(["site name", "range name"])
            key = name if space == "site name" else ("site-1", None, name)
            out.append(Reservation(space, key, "name", f"{space} {name!r}"))
    return out


def test_indexed_registry_reports_what_a_scan_of_every_resource_reported_in_the_same_order():
    rnd = random.Random(14)
    indexed, scanned = Program(), _ScanEveryResource()
    owners = [f"proj/{stack}/SocketSite::s{i}" for stack in ("dev", "prod") for i in range(40)]
    compared = conflicts = 0
    for _step in range(1500):
        owner = rnd.choice(owners)
        if rnd.random() < 0.05:
            indexed.forget(owner)
            scanned.forget(owner)
            continue
        reservations = _random_reservations(rnd)
        got = indexed.declare(owner, "SocketSite", {}, reservations)
        assert got == scanned.declare(owner, reservations), owner
        compared += 1
        conflicts += bool(got)
    assert compared > 1000 and conflicts > 100  # the walk exercised conflicts, not only clean declares


def test_address_ranges_collide_exactly_when_ipaddress_says_they_overlap():
    rnd = random.Random(7)
    cidrs = [
        str(
            ipaddress.IPv4Network(
                (rnd.randrange(0x0A000000, 0x0A000000 + (1 << 18)), rnd.randint(8, 32)), strict=False
            )
        )
        for _ in range(300)
    ]
    for a, b in zip(cidrs, reversed(cidrs), strict=True):
        assert collide(SUBNET, a, b) == _overlaps(a, b), (a, b)
    assert collide(SUBNET, "10.0.0.0/8", "10.1.2.3/32")
    for edge in ("10.0.0.0/32", "10.0.0.255/32", "10.0.0.128/25"):  # the first and last addresses meet
        assert collide(SUBNET, "10.0.0.0/24", edge) and collide(SUBNET, edge, "10.0.0.0/24")
    assert not collide(SUBNET, "10.0.0.0/24", "10.0.1.0/32") and not collide(
        SUBNET, "10.0.1.0/24", "10.0.0.255/32"
    )
    assert not collide(SUBNET, "10.0.0.0/24", "not a range")
    assert collide("site name", "Lisbon", "Lisbon") and not collide("site name", "Lisbon", "Porto")


def test_a_key_no_dict_can_hold_is_still_compared():
    program = Program()
    unhashable = Reservation("port", ["site-1", "LAN1"], "interface_id", "port LAN1")
    assert program.declare("p/s/SocketInterface::a", "SocketInterface", {}, [unhashable]) == []
    found = program.declare("p/s/SocketInterface::b", "SocketInterface", {}, [unhashable])
    assert found and "SocketInterface 'a'" in found[0][1]
