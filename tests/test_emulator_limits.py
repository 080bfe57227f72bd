"""Entity limits the emulator enforces, Cato KB 4414483096465 ("Cato Management Application
limits"): 3,500 static hosts per site, 1,000 network ranges per LAN port, 10,000 rules per policy.

Each limit is asserted at its documented value, then exercised over HTTP with the limit lowered on
the emulator under test (filling a site with 3,500 hosts would only make the test slow)."""

from __future__ import annotations

import pytest
from emu_helpers import ACCOUNT
from sites_support import ADD_HOST, ADD_RANGE, Api, fixture

from catoiac.emulator.domains import policy, sites
from catoiac.emulator.limits import RateLimitConfig

A = ACCOUNT


@pytest.fixture
def api(emulator_factory):
    fx = fixture()
    fx["accounts"][0]["policies"] = {
        "internet_firewall": {
            "sections": [{"name": "Base", "rules": [{"name": "r1", "enabled": True, "action": "ALLOW"}]}]
        }
    }
    emu = emulator_factory(fx, rate_limits=RateLimitConfig(enabled=False))
    with Api(emu.url) as api:
        yield api


def test_the_documented_limits():
    assert (sites.MAX_HOSTS_PER_SITE, sites.MAX_RANGES_PER_PORT, policy.MAX_RULES) == (3500, 1000, 10_000)


def test_a_site_full_of_static_hosts_refuses_one_more(api, monkeypatch):
    paris = api.site_id("Paris")  # one host already
    monkeypatch.setattr(sites, "MAX_HOSTS_PER_SITE", 2)
    api.ok(ADD_HOST, a=A, s=paris, i={"name": "cam", "ip": "10.1.0.30"})
    err = api.err(ADD_HOST, a=A, s=paris, i={"name": "cam2", "ip": "10.1.0.31"})
    assert err["message"] == "Site 'Paris' already has 2 static hosts: the limit is 2 per site"
    assert err["extensions"]["code"] == "BAD_USER_INPUT"


def test_a_lan_port_full_of_ranges_refuses_one_more(api, monkeypatch):
    hq = api.site_id("HQ")
    servers = api.interface_id(hq, "Servers")  # its native range and Lab
    monkeypatch.setattr(sites, "MAX_RANGES_PER_PORT", 2)
    err = api.err(ADD_RANGE, a=A, l=servers, i={"name": "x", "subnet": "10.5.9.0/24", "rangeType": "Direct"})
    assert "already has 2 network ranges: the limit is 2 per LAN port" in err["message"]
    # Another port of the same site still has room.
    native = api.interface_id(hq, "INT_5")
    monkeypatch.setattr(sites, "MAX_RANGES_PER_PORT", 4)
    api.ok(ADD_RANGE, a=A, l=native, i={"name": "x", "subnet": "10.0.9.0/24", "rangeType": "Direct"})


ADD_RULE = """mutation($a: ID!, $i: InternetFirewallAddRuleInput!) { policy(accountId: $a) {
  internetFirewall { addRule(input: $i) { status errors { errorCode errorMessage } } } } }"""


def test_a_policy_full_of_rules_refuses_one_more(api, monkeypatch):
    monkeypatch.setattr(policy, "MAX_RULES", 2)
    ok = api.ok(ADD_RULE, a=A, i={"rule": {"name": "r2", "enabled": True, "action": "ALLOW"}})
    assert ok["policy"]["internetFirewall"]["addRule"]["status"] == "SUCCESS"
    full = api.ok(ADD_RULE, a=A, i={"rule": {"name": "r3", "enabled": True, "action": "ALLOW"}})
    payload = full["policy"]["internetFirewall"]["addRule"]
    assert payload["status"] == "FAILURE"
    assert payload["errors"][0]["errorCode"] == "PolicyInvalidEntity"
    assert "at most 2 rules" in payload["errors"][0]["errorMessage"]
