"""Site-scoped references in policy rules: a range, host or network interface named within its site
(``{"site": "Paris", "name": "Data"}``), so two "Data" ranges of two sites are told apart without a
raw id. Checked before any write, resolved to the object's id on the wire, read back in the form
the program used (and scoped where a bare name would be ambiguous). Against the emulator over HTTP."""

from __future__ import annotations

import copy

import pytest
from emu_helpers import ACCOUNT, KEY
from policy_support import Reader, fixture_with_paris_data

from catoiac.client import CatoClient
from catoiac.config import ClientConfig
from catoiac.emulator.control import EmulatorControl
from catoiac.emulator.limits import RateLimitConfig
from catoiac.ratelimit import RateLimitTable
from catoiac.resources import Engine
from catoiac.resources import policy as policy_mod
from catoiac.resources.policy_plan import PlanError
from catoiac.resources.preflight import Preflight
from catoiac.resources.program import Program
from catoiac.resources.specs import SPECS
from catoiac.session import Session


def _fixture() -> dict:
    """Paris has a range "Data" (10.2.5.0/24) and a host "nas"; HQ gets its own "Data" and "nas"."""
    fx = fixture_with_paris_data()
    hq = fx["accounts"][0]["sites"][0]
    hq["ranges"] = [{"name": "Data", "subnet": "10.1.5.0/24"}]
    hq["hosts"] = [*hq.get("hosts", []), {"name": "nas", "ip": "10.1.0.20"}]
    return fx


@pytest.fixture
def emu(emulator_factory):
    return emulator_factory(_fixture(), rate_limits=RateLimitConfig(enabled=False))


def session(emu) -> Session:
    cfg = ClientConfig(api_key=KEY, account_id=ACCOUNT, base_url=emu.url, timeout=10)
    return Session(CatoClient(cfg, limits=RateLimitTable.cato_defaults(scale=0.001)))


def engine(s: Session, spec: str = "InternetFirewallPolicy") -> Engine:
    return Engine(SPECS[spec], lambda: s)


def policy(*rules: dict) -> dict:
    return {"sections": [{"name": "Mine", "rules": [{"name": f"r{i}", **r} for i, r in enumerate(rules)]}]}


def ids_of(s: Session, collection: str, name: str) -> dict[str, str]:
    """{site name: id} of the objects of a collection with this name."""
    sites = s.reader.get("sites")
    return {
        sites[o["site_id"]]["name"]: o["id"] for o in s.reader.get(collection).values() if o["name"] == name
    }


def test_the_scoped_forms_are_inputs_and_malformed_ones_are_refused_naming_the_forms(emu):
    e = engine(session(emu))
    good = {"site_network_subnet": [{"site": "Paris", "name": "Data"}, {"site": "HQ", "interface": "LAN1",
            "name": "Data"}], "host": [{"site": "HQ", "name": "nas"}]}  # fmt: skip
    inputs, failures = e.check({}, policy({"source": good}))
    assert failures == []
    # Canonical: the keys in one order, whatever order they were given in; a list of refs sorted.
    assert [list(r.items()) for r in inputs["sections"][0]["rules"][0]["source"]["site_network_subnet"]] == [
        [("site", "HQ"), ("interface", "LAN1"), ("name", "Data")],
        [("site", "Paris"), ("name", "Data")],
    ]
    _, failures = e.check({}, policy(
        {"source": {"site_network_subnet": [{"site": "Paris"}]}},
        {"source": {"host": [{"id": "1", "name": "nas"}]}},
        {"source": {"site": [{"site": "HQ", "name": "HQ"}]}},
        {"source": {"host": [{"site": "HQ", "interface": "LAN1", "name": "nas"}]}},
    ))  # fmt: skip
    reasons = {f.property: f.reason for f in failures}
    assert reasons["sections[0].rules[0].source.site_network_subnet[0]"] == (
        "{'site': 'Paris'} is not a reference: give a name, or one of {\"id\": ...}, {\"name\": ...}, "
        '{"site": ..., "name": ...}, {"site": ..., "interface": ..., "name": ...}'
    )
    assert "is not a reference" in reasons["sections[0].rules[1].source.host[0]"]
    # A site is not in a site; a host has no port.
    assert "'site' is not one of id, name" in reasons["sections[0].rules[2].source.site[0]"]
    assert "'interface' is not one of id, name, site" in reasons["sections[0].rules[3].source.host[0]"]


def test_scoped_refs_are_checked_before_any_write_with_suggestions(emu):
    s = session(emu)
    checks = Preflight(s)
    e = engine(s)
    inputs, failures = e.check({}, {**policy(
        {"source": {"site_network_subnet": ["Data"]}},
        {"source": {"site_network_subnet": [{"site": "Pariss", "name": "Data"}]}},
        {"source": {"site_network_subnet": [{"site": "Paris", "name": "Dta"}]}},
        {"source": {"host": [{"site": "Paris", "name": "nas"}, {"site": "HQ", "name": "nas"}]}},
    ), "__catoiac_owner": "p/s/InternetFirewallPolicy::ifw"})  # fmt: skip
    assert failures == []
    found = {f.property: f.reason for f in e.check_against({}, inputs, Program(), checks)}
    first = min(ids_of(s, "ranges", "Data").items(), key=lambda kv: kv[1])
    assert found.pop("sections[0].rules[0].source.site_network_subnet[0]") == (
        f'2 network ranges are named \'Data\': refer to one by id, e.g. {{"id": "{first[1]}"}}, '
        f'or by its site, e.g. {{"site": "{first[0]}", "name": "Data"}}'
    )
    assert found.pop("sections[0].rules[1].source.site_network_subnet[0]").startswith(
        "no site is named 'Pariss': did you mean 'Paris'?"
    )
    assert found.pop("sections[0].rules[2].source.site_network_subnet[0]").startswith(
        "no network range is named 'Dta' in site 'Paris': did you mean 'Data'?"
    )
    assert found == {}  # both scoped hosts are fine


def test_scoped_refs_are_sent_as_the_objects_ids_and_read_back_as_written(emu):
    s = session(emu)
    e = engine(s, "WanFirewallPolicy")
    inputs, _ = e.check({}, policy(
        {"source": {"site_network_subnet": [{"site": "Paris", "name": "Data"}], "host": [{"site": "HQ", "name": "nas"}]},
         "destination": {"site_network_subnet": [{"site": "HQ", "name": "Data"}]}},
    ))  # fmt: skip
    with EmulatorControl(emu.base_url) as ctl:
        ctl.reset_stats()
        rid, outs = e.create(inputs)
        assert ctl.stats()["publishPolicyRevision"] == 1
    stored = Reader(emu.url).rule("r0", "wanFirewall")
    ranges, hosts = ids_of(s, "ranges", "Data"), ids_of(s, "hosts", "nas")
    assert [r["id"] for r in stored["source"]["siteNetworkSubnet"]] == [ranges["Paris"]]
    assert [r["id"] for r in stored["destination"]["siteNetworkSubnet"]] == [ranges["HQ"]]
    assert [h["id"] for h in stored["source"]["host"]] == [hosts["HQ"]]
    # Read back (a refresh, drift) in the form the program used: no diff, no extra call for names.
    fresh = session(emu)
    _, _, live = engine(fresh, "WanFirewallPolicy").read(rid, outs)
    assert live == inputs
    assert not e.diff(outs, live).changes


def test_a_refresh_costs_no_more_calls_than_before_when_rules_use_bare_names(emu):
    s = session(emu)
    e = engine(s)
    inputs, _ = e.check({}, policy({"source": {"site": ["Paris"], "host": ["printer"]}}))
    rid, outs = e.create(inputs)
    with EmulatorControl(emu.base_url) as ctl:
        ctl.reset_stats()
        _, _, live = engine(session(emu)).read(rid, outs)
        assert ctl.stats() == {"policy": 1}
    assert live == inputs


def test_a_live_ref_is_shown_scoped_where_its_bare_name_would_be_ambiguous(emu):
    s = session(emu)
    e = engine(s)
    paris_data = ids_of(s, "ranges", "Data")["Paris"]
    inputs, _ = e.check({}, policy({"source": {"site_network_subnet": [{"id": paris_data}], "site": ["HQ"]}}))
    e.create(inputs)
    # What `catoiac import` and drift see with no prior inputs: the range by its site, the site by name.
    rid, found = policy_mod.discover(policy_mod.INTERNET_FIREWALL, session(emu))
    mine = next(sec for sec in found["sections"] if sec["name"] == "Mine")
    assert mine["rules"][0]["source"] == {
        "site": [{"name": "HQ"}],
        "site_network_subnet": [{"site": "Paris", "name": "Data"}],
    }


def test_two_ranges_of_one_name_on_two_ports_of_a_site_need_the_port(emulator_factory):
    fx = _fixture()
    hq = fx["accounts"][0]["sites"][0]
    hq["connection_type"] = "SOCKET_X1500"
    hq["interfaces"] = [{"id": "LAN2", "dest_type": "LAN", "subnet": "10.1.6.0/24", "local_ip": "10.1.6.1"}]
    hq["ranges"].append({"name": "Data", "subnet": "10.1.7.0/24", "interface": "LAN2"})
    emu = emulator_factory(fx, rate_limits=RateLimitConfig(enabled=False))
    s = session(emu)
    e = engine(s)
    ambiguous = policy({"source": {"site_network_subnet": [{"site": "HQ", "name": "Data"}]}})
    inputs, _ = e.check({}, {**ambiguous, "__catoiac_owner": "p/s/InternetFirewallPolicy::ifw"})
    found = {f.property: f.reason for f in e.check_against({}, inputs, Program(), Preflight(s))}
    assert found == {
        "sections[0].rules[0].source.site_network_subnet[0]": "2 network ranges are named 'Data' in site "
        """'HQ' (on LAN1, LAN2): add its port, e.g. {"site": "HQ", "interface": "LAN2", "name": "Data"}"""
    }
    with pytest.raises(PlanError, match="add its port"):  # before any revision is opened
        e.create(copy.deepcopy(inputs))
    exact = policy({"source": {"site_network_subnet": [{"site": "HQ", "interface": "LAN2", "name": "Data"}]}})
    inputs, _ = e.check({}, exact)
    rid, outs = e.create(inputs)
    lan2 = next(
        o["id"] for o in s.reader.get("ranges").values()
        if o["name"] == "Data" and s.reader.get("range_ports")[o["id"]]["interface_id"] == "LAN2"
    )  # fmt: skip
    assert [r["id"] for r in Reader(emu.url).rule("r0")["source"]["siteNetworkSubnet"]] == [lan2]
    _, _, live = engine(session(emu)).read(rid, outs)
    assert live == inputs
