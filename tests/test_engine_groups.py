"""Group writes against the emulator over HTTP, after the SDL's rules: createGroup carries at most
500 members ("a maximum of 500 members per createGroup mutation"), updateGroup fewer than 500 and
never ``members`` with ``membersToAdd``/``membersToRemove``, and group names are "not guaranteed
to be globally unique" (SDL CreateGroupInput, UpdateGroupInput, Group.name)."""

from __future__ import annotations

import pytest
from emu_helpers import ACCOUNT, KEY, base_fixture

from catoiac.client import CatoClient
from catoiac.config import ClientConfig
from catoiac.emulator.control import EmulatorControl
from catoiac.emulator.limits import RateLimitConfig
from catoiac.errors import CatoError
from catoiac.ratelimit import RateLimitTable
from catoiac.resources import Engine
from catoiac.resources.specs import SPECS
from catoiac.session import Session

HOSTS = 640


@pytest.fixture
def emu(emulator_factory):
    fx = base_fixture()
    fx["accounts"][0]["sites"] = [
        {
            "name": "Depot",
            "country_code": "DE",
            "timezone": "Europe/Berlin",
            "native_range": "10.70.0.0/22",
            "hosts": [{"name": f"h{n}", "ip": f"10.70.{n // 250}.{n % 250 + 2}"} for n in range(HOSTS)],
        }
    ]
    fx["accounts"][0]["groups"] = [{"name": "Servers", "description": "made in the UI"}]
    return emulator_factory(fx, rate_limits=RateLimitConfig(enabled=False))


def session_for(emu, timeout: float = 10.0) -> Session:
    cfg = ClientConfig(api_key=KEY, account_id=ACCOUNT, base_url=emu.url, timeout=timeout)
    return Session(CatoClient(cfg, limits=RateLimitTable.cato_defaults(scale=0.001)))


def hosts(n: int, start: int = 0) -> list[dict]:
    return [{"type": "HOST", "name": f"h{i}"} for i in range(start, start + n)]


def test_a_group_of_more_than_500_members_is_created_then_grown_in_batches(emu):
    ctl = EmulatorControl(emu.base_url)
    session = session_for(emu)
    groups = Engine(SPECS["Group"], lambda: session)
    inputs, _ = groups.check({}, {"name": "All hosts", "members": hosts(620)})
    ctl.reset_stats()
    gid, outs = groups.create(inputs)
    # One createGroup with 500, one updateGroup adding the other 120 (and a read to know the ids).
    assert ctl.stats()["createGroup"] == 1 and ctl.stats()["updateGroup"] == 1
    found, _, live = groups.read(gid, outs)
    assert found == gid and not groups.diff(outs, live).changes
    assert len(live["members"]) == 620

    # A large update sends the difference only, in batches of fewer than 500, never with `members`.
    new, _ = groups.check({}, {"name": "All hosts", "members": hosts(600, 40)})
    ctl.reset_stats()
    outs = groups.update(gid, outs, new)
    assert ctl.stats()["updateGroup"] == 1  # 40 removed + 20 added
    _, _, live = groups.read(gid, outs)
    assert not groups.diff(outs, live).changes and len(live["members"]) == 600


def test_a_failed_batch_deletes_the_new_group_so_nothing_is_left_half_made(emu):
    ctl = EmulatorControl(emu.base_url)
    ctl.add_fault("fail", operation="updateGroup", message="internal error", times=1)
    session = session_for(emu)
    groups = Engine(SPECS["Group"], lambda: session)
    inputs, _ = groups.check({}, {"name": "Half", "members": hosts(510)})
    with pytest.raises(CatoError):
        groups.create(inputs)
    session.reader.invalidate_all()
    assert [g for g in session.reader.get("groups").values() if g["name"] == "Half"] == []


def test_a_lost_create_reply_adopts_only_the_new_group_not_a_namesake(emu):
    ctl = EmulatorControl(emu.base_url)
    ctl.add_fault("timeout_after_commit", operation="createGroup", delay=1.5, times=1)
    session = session_for(emu, timeout=0.5)
    groups = Engine(SPECS["Group"], lambda: session)
    ui_made = {g["id"] for g in session.reader.get("groups").values() if g["name"] == "Servers"}
    inputs, _ = groups.check({}, {"name": "Servers", "members": hosts(3)})
    gid, _ = groups.create(inputs)
    session.reader.invalidate_all()
    named = {g["id"] for g in session.reader.get("groups").values() if g["name"] == "Servers"}
    assert gid not in ui_made and named == ui_made | {gid}  # no duplicate, the UI's group untouched
    assert len(session.reader.get("groups")[gid]["members"]) == 3
