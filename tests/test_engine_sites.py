"""The resource engine against the emulator over HTTP, without Pulumi: round trips, lost replies
and the cost of reads."""

from __future__ import annotations

import pytest
from emu_helpers import ACCOUNT, KEY, base_fixture

from catoiac.client import CatoClient
from catoiac.config import ClientConfig
from catoiac.emulator.control import EmulatorControl
from catoiac.emulator.limits import RateLimitConfig
from catoiac.ratelimit import RateLimitTable
from catoiac.resources import Engine
from catoiac.resources.specs import SPECS
from catoiac.session import Session

SITE = {
    "name": "Porto",
    "native_range": "10.50.0.0/24",
    "location": {"country_code": "pt", "timezone": "Europe/Lisbon", "city": "Porto", "address": "Rua 1"},
}


@pytest.fixture
def emu(emulator_factory):
    return emulator_factory(rate_limits=RateLimitConfig(enabled=False))


def session_for(emu, timeout: float = 10.0) -> Session:
    cfg = ClientConfig(api_key=KEY, account_id=ACCOUNT, base_url=emu.url, timeout=timeout)
    return Session(CatoClient(cfg, limits=RateLimitTable.cato_defaults(scale=0.001)))


def engines(session: Session) -> tuple[Engine, Engine]:
    return Engine(SPECS["SocketSite"], lambda: session), Engine(SPECS["NetworkRange"], lambda: session)


def test_created_site_and_range_read_back_with_no_diff(emu):
    session = session_for(emu)
    sites, ranges = engines(session)
    site_inputs, failures = sites.check({}, SITE)
    assert failures == []
    site_id, site_outs = sites.create(site_inputs)
    rng_inputs, failures = ranges.check(
        {},
        {
            "site_id": site_id,
            "name": "Cameras",
            "subnet": "10.50.9.0/24",
            "range_type": "VLAN",
            "vlan": 9,
            "local_ip": "10.50.9.1",
        },
    )
    assert failures == []
    range_id, range_outs = ranges.create(rng_inputs)

    found, outs, live = sites.read(site_id, site_outs)
    assert found == site_id
    assert not sites.diff(outs, site_inputs).changes, (live, site_inputs)
    found, outs, live = ranges.read(range_id, range_outs)
    assert found == range_id
    assert not ranges.diff(outs, rng_inputs).changes, (live, rng_inputs)


def test_update_in_place_is_read_back_and_replace_on_fields_force_replacement(emu):
    session = session_for(emu)
    sites, _ = engines(session)
    inputs, _ = sites.check({}, SITE)
    site_id, outs = sites.create(inputs)
    new, _ = sites.check(
        {}, {**SITE, "description": "new", "location": {**SITE["location"], "city": "Braga"}}
    )
    d = sites.diff(outs, new)
    assert d.changes and d.replaces == [] and d.changed == ["description", "location"]
    outs = sites.update(site_id, outs, new)
    _, read_outs, live = sites.read(site_id, outs)
    assert live["description"] == "new" and live["location"]["city"] == "Braga"
    moved, _ = sites.check({}, {**SITE, "connection_type": "SOCKET_X1700"})
    d = sites.diff(read_outs, moved)
    assert d.replaces == ["connection_type"] and d.delete_before_replace


def test_create_whose_reply_is_lost_adopts_the_object_instead_of_duplicating_it(emu):
    EmulatorControl(emu.base_url).add_fault(
        "timeout_after_commit", operation="addSocketSite", delay=1.5, times=1
    )
    session = session_for(emu, timeout=0.5)
    sites, _ = engines(session)
    inputs, _ = sites.check({}, SITE)
    site_id, _ = sites.create(inputs)
    session.reader.invalidate_all()
    named = [s for s in session.reader.get("sites").values() if s["name"] == "Porto"]
    assert [s["id"] for s in named] == [site_id]


def test_reading_every_range_of_a_large_site_costs_a_handful_of_calls_not_one_per_range(emulator_factory):
    fixture = base_fixture()
    fixture["accounts"][0]["sites"] = [
        {
            "name": "Big",
            "connection_type": "SOCKET_X1700",
            "country_code": "US",
            "timezone": "America/New_York",
            "native_range": {"subnet": "10.60.0.0/24"},
            "ranges": [{"name": f"r{i}", "subnet": f"10.61.{i}.0/24"} for i in range(120)],
        }
    ]
    emu = emulator_factory(fixture, rate_limits=RateLimitConfig(enabled=False))
    ctl = EmulatorControl(emu.base_url)
    session = session_for(emu)
    sites, ranges = engines(session)
    ctl.reset_stats()
    all_ranges = session.reader.get("ranges")
    assert len(all_ranges) == 121
    for rid, live in all_ranges.items():
        found, _, inputs = ranges.read(rid, {})
        assert found == rid and inputs["subnet"] == live["subnet"]
    site_id = next(iter(session.reader.get("sites")))
    assert sites.read(site_id, {})[0] == site_id
    assert ctl.stats() == {"entityLookup": 3, "accountSnapshot": 1}
