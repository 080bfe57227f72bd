"""Checks against the live account before any write (what `pulumi preview` runs through the provider's
check), through the engine against a real emulator over HTTP: conflicts with live objects but never
with a resource's own old self, credentials told apart and reported once, references resolved with
suggestions against the account, the program and Cato's catalogs, documented entity limits, and the
cost: one read per collection, whatever the number of resources, and no write."""

from __future__ import annotations

import pytest
from emu_helpers import ACCOUNT, KEY, OTHER_ACCOUNT, read_names
from policy_support import fixture_with_paris_data

from catoiac.client import CatoClient
from catoiac.config import ClientConfig
from catoiac.emulator.control import EmulatorControl
from catoiac.emulator.limits import RateLimitConfig
from catoiac.ratelimit import RateLimitTable
from catoiac.resources import Engine, preflight
from catoiac.resources.preflight import Preflight
from catoiac.resources.program import Program
from catoiac.resources.refs import LATER
from catoiac.resources.spec import SUBNET
from catoiac.resources.specs import SPECS
from catoiac.resources.validation import UNKNOWN
from catoiac.session import Session

LOC = {"country_code": "PT", "timezone": "Europe/Lisbon"}


# Mutations every write document of the project names: none may run during checks.
@pytest.fixture
def emu(emulator_factory):
    return emulator_factory(fixture_with_paris_data(), rate_limits=RateLimitConfig(enabled=False))


@pytest.fixture
def ctl(emu):
    with EmulatorControl(emu.base_url) as c:
        yield c


def session_for(emu, key: str = KEY, account: str = ACCOUNT) -> Session:
    cfg = ClientConfig(api_key=key, account_id=account, base_url=emu.url, timeout=10)
    return Session(CatoClient(cfg, limits=RateLimitTable.cato_defaults(scale=0.001)))


class Checks:
    """The provider's check() path: static checks, then the program, then the live account."""

    def __init__(self, emu) -> None:
        self.session = session_for(emu)
        self.preflight = Preflight(self.session)
        self.program = Program()
        assert self.preflight.credentials() == (True, [])

    def __call__(self, spec: str, name: str, props: dict, olds: dict | None = None) -> dict[str, str]:
        e = Engine(SPECS[spec], lambda: self.session)
        inputs, found = e.check(olds or {}, {**props, "__catoiac_owner": f"proj/dev/{spec}::{name}"})
        assert found == [], found
        return {
            f.property: f.reason for f in e.check_against(olds or {}, inputs, self.program, self.preflight)
        }

    def site_id(self, name: str) -> str:
        return next(k for k, v in self.preflight.reader.get("sites").items() if v["name"] == name)


@pytest.fixture
def checks(emu):
    return Checks(emu)


def rules(*bodies: dict, section: str = "Mine") -> dict:
    return {"sections": [{"name": section, "rules": [{"name": f"r{i}", **b} for i, b in enumerate(bodies)]}]}


def test_a_site_with_a_live_sites_name_or_overlapping_a_live_range_is_refused(checks):
    found = checks("SocketSite", "hq2", {"name": "HQ", "native_range": "10.1.0.0/24", "location": LOC})
    hq = checks.site_id("HQ")
    assert found == {  # one problem per live object: not also its native range
        "name": f"a SocketSite with name 'HQ' already exists (id {hq}) and this resource did not create it "
        "(someone else made it: another stack, or the Cato console). To manage it here, import it "
        f'(pulumi.ResourceOptions(import_="{hq}")); otherwise pick another name'
    }
    over = checks("SocketSite", "porto", {"name": "Porto", "native_range": "10.2.5.128/25", "location": LOC})
    assert "conflicts with range 'Data' (10.2.5.0/24) of site 'Paris'" in over["native_range"]
    assert (
        checks("SocketSite", "porto2", {"name": "Porto 2", "native_range": "10.30.0.0/24", "location": LOC})
        == {}
    )


def test_a_range_overlapping_another_sites_range_or_taking_a_name_on_its_port_is_refused(checks):
    hq, paris = checks.site_id("HQ"), checks.site_id("Paris")
    over = checks("NetworkRange", "lab", {"site_id": hq, "name": "Lab", "subnet": "10.2.5.0/26"})
    assert "conflicts with range 'Data' (10.2.5.0/24) of site 'Paris'" in over["subnet"]
    name = checks("NetworkRange", "data", {"site_id": paris, "name": "Data", "subnet": "10.2.6.0/24"})
    assert f"a NetworkRange with site_id '{paris}', name 'Data' already exists" in name["name"]
    assert checks("NetworkRange", "data2", {"site_id": hq, "name": "Data", "subnet": "10.2.7.0/24"}) == {}


def test_a_host_taking_a_live_hosts_name_or_address_in_its_site_is_refused(checks):
    paris = checks.site_id("Paris")
    found = checks("StaticHost", "nas2", {"site_id": paris, "name": "nas", "ip": "10.2.0.21"})
    assert f"a StaticHost with site_id '{paris}', name 'nas' already exists" in found["name"]
    found = checks("StaticHost", "nas3", {"site_id": paris, "name": "nas3", "ip": "10.2.0.20"})
    assert "address 10.2.0.20" in found["ip"]


def test_a_resource_never_conflicts_with_its_own_old_self_updated_replaced_or_imported(checks):
    paris = checks.site_id("Paris")
    old = {
        "name": "Paris",
        "native_range": "10.2.0.0/24",
        "location": {"country_code": "FR", "timezone": "Europe/Paris"},
    }
    # In place (a new description), and replaced (a new connection type: its old native range and
    # ranges go with the old site).
    assert checks("SocketSite", "paris", {**old, "description": "moved"}, olds=old) == {}
    assert checks("SocketSite", "paris", {**old, "connection_type": "SOCKET_X1700"}, olds=old) == {}
    # A renamed range keeps its subnet; a grown one overlaps only itself.
    rng = {
        "site_id": paris,
        "name": "Data",
        "subnet": "10.2.5.0/24",
        "range_type": "Routed",
        "gateway": "10.2.0.254",
    }
    assert checks("NetworkRange", "data", {**rng, "name": "Data-2", "subnet": "10.2.4.0/23"}, olds=rng) == {}
    # An import adopts the live object by id.
    host_id = next(k for k, v in checks.preflight.reader.get("hosts").items() if v["name"] == "nas")
    assert (
        checks(
            "StaticHost", "nas", {"site_id": paris, "name": "nas", "ip": "10.2.0.20", "__adopt_id": host_id}
        )
        == {}
    )


def test_an_object_the_crash_journal_says_is_ours_is_no_conflict(checks, monkeypatch):
    hq = checks.site_id("HQ")
    monkeypatch.setattr(preflight, "OWN_OBJECT_HOOKS", [lambda config, owner, spec, live_id: live_id == hq])
    monkeypatch.setattr(preflight, "OWNER_OF_HOOKS", [])
    assert checks("SocketSite", "hq", {"name": "HQ", "native_range": "10.1.0.0/24", "location": LOC}) == {}


def test_the_providers_journal_hooks_read_the_checking_sessions_account_not_the_environment(
    checks, monkeypatch, tmp_path
):
    """The provider's hooks are registered for the whole process: they must answer for the session
    doing the check (its endpoint and account), with no credentials in the environment."""
    import pulumi_cato._engine_side  # noqa: F401  (registers the journal hooks)

    from catoiac.journal import Journal

    for var in ("CATO_TOKEN", "CATO_ACCOUNT_ID", "CATO_BASEURL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("CATOIAC_JOURNAL_DIR", str(tmp_path))
    hq = checks.site_id("HQ")
    props = {"name": "HQ", "native_range": "10.1.0.0/24", "location": LOC}
    assert "already exists" in checks("SocketSite", "hq", props)["name"]
    config = checks.session.client.config
    claim = Journal.locate().claim(str(config.base_url), str(config.account_id), "proj/dev/SocketSite::hq")
    claim.write("created", "SocketSite", id=hq)
    assert checks("SocketSite", "hq", props) == {}


def test_wrong_key_and_wrong_account_are_told_apart_and_reported_once(emu):
    bad_key = Preflight(session_for(emu, key=KEY + "-typo"))
    usable, problems = bad_key.credentials()
    assert not usable and [p for p, _ in problems] == ["cato:apiKey"]
    assert problems[0][1].startswith("Cato refused the API key") and KEY not in problems[0][1]
    assert bad_key.credentials() == (False, [])  # once, not per resource
    bad_account = Preflight(session_for(emu, account=OTHER_ACCOUNT))
    usable, problems = bad_account.credentials()
    assert not usable and [p for p, _ in problems] == ["cato:accountId"]
    assert f"Wrong account: the API key has no access to account {OTHER_ACCOUNT}" in problems[0][1]
    assert KEY not in problems[0][1]
    assert bad_account.credentials() == (False, [])


def test_rule_references_are_resolved_with_suggestions_against_account_program_and_catalogs(checks):
    found = checks("InternetFirewallPolicy", "ifw", rules(
        {"source": {"site_network_subnet": ["data"], "site": ["Atlantis"]}},
        {"destination": {"app_category": ["Gamblingg"], "application": ["Dropbx"], "country": ["Portugl"]}},
        {"destination": {"app_category": ["gambling"]}, "service": {"standard": ["HTTPs"]}},
    ))  # fmt: skip
    assert found == {
        "sections[0].rules[0].source.site_network_subnet[0]":
            "no network range is named 'data' in the account or this program: did you mean 'Data'?" + LATER,
        "sections[0].rules[0].source.site[0]":
            "no site is named 'Atlantis' in the account or this program: check the name" + LATER,
        "sections[0].rules[1].destination.app_category[0]":
            "'Gamblingg' is not a Cato application category: did you mean 'Gambling'?",
        "sections[0].rules[1].destination.application[0]":
            "'Dropbx' is not an application in Cato's catalog: did you mean 'Dropbox'?",
        "sections[0].rules[1].destination.country[0]": "'Portugl' is not a Cato country: did you mean 'Portugal'?",
        "sections[0].rules[2].destination.app_category[0]":
            "'gambling' is not a Cato application category: did you mean 'Gambling'?",
        "sections[0].rules[2].service.standard[0]": "'HTTPs' is not a Cato service: did you mean 'HTTPS'?",
    }  # fmt: skip


def test_names_the_program_declares_are_accepted_before_they_exist_and_good_refs_pass(checks):
    assert (
        checks("SocketSite", "porto", {"name": "Porto", "native_range": "10.30.0.0/24", "location": LOC})
        == {}
    )
    assert (
        checks("NetworkRange", "guest", {"site_id": UNKNOWN, "name": "Guest", "subnet": "10.30.8.0/24"}) == {}
    )
    found = checks("WanFirewallPolicy", "wan", rules(
        {"source": {"site": ["Porto", "HQ"], "site_network_subnet": ["Guest", "Data"], "host": ["nas"]},
         "destination": {"site": [{"id": checks.site_id("Paris")}]}},
        {"application": {"application": ["Zoom", {"id": "slack"}], "app_category": ["Gambling", "Generative AI"]},
         "service": {"standard": ["HTTPS", {"id": "ssh"}]}},
    ))  # fmt: skip
    # "Generative AI" is in no reference list and close to nothing: Cato judges it at apply.
    assert found == {}


def test_an_ambiguous_name_asks_for_an_id_and_an_unknown_id_is_refused(checks, emu):
    EmulatorControl(emu.base_url).as_admin(
        ACCOUNT, "alice@example.com",
        'mutation($a: ID!, $s: ID!) { site(accountId: $a) { addNetworkRange(lanSocketInterfaceId: $s, input: '
        '{name: "Data", rangeType: Direct, subnet: "10.1.9.0/24"}) { networkRangeId } } }',
        {"a": ACCOUNT, "s": next(k for k, v in Checks(emu).preflight.reader.get("interfaces").items()
                                 if v["site_id"] == checks.site_id("HQ") and v["interface_id"] == "LAN1")},
    )  # fmt: skip
    fresh = Checks(emu)
    found = fresh("InternetFirewallPolicy", "ifw", rules({"source": {"site_network_subnet": ["Data"],
                                                                     "host": [{"id": "999999"}]}}))  # fmt: skip
    assert found["sections[0].rules[0].source.site_network_subnet[0]"].startswith(
        "2 network ranges are named 'Data': refer to one by id, e.g. {\"id\": "
    )
    assert "no host has id '999999'" in found["sections[0].rules[0].source.host[0]"]


def test_a_section_someone_else_owns_is_refused_before_any_write(checks):
    found = checks("InternetFirewallPolicy", "ifw", {"sections": [{"name": "Security"}]})
    assert "a section named 'Security' already exists in the policy and is not owned" in found["sections[0]"]
    found = checks("InternetFirewallPolicy", "ifw2", {"sections": [{"name": "New"}], "after_section": "Nope"})
    assert "no section named 'Nope'" in found["after_section"]
    mine = {"sections": [{"name": "Security", "rules": [{"name": "Block anonymizers"}]}]}
    # Its owner (old inputs naming it) may change it.
    assert "sections[0]" not in checks(
        "InternetFirewallPolicy", "sec", mine, olds={"sections": [{"name": "Security"}]}
    )


def test_documented_entity_limits_count_live_and_declared_objects_once(checks, monkeypatch):
    monkeypatch.setattr(preflight, "MAX_HOSTS_PER_SITE", 2)  # Cato's is 3,500: the counting is what is tested
    paris = checks.site_id("Paris")  # holds one host, "nas"
    assert checks("StaticHost", "h1", {"site_id": paris, "name": "h1", "ip": "10.2.0.31"}) == {}
    assert (
        checks("StaticHost", "h1", {"site_id": paris, "name": "h1", "ip": "10.2.0.31"}) == {}
    )  # again: once
    found = checks("StaticHost", "h2", {"site_id": paris, "name": "h2", "ip": "10.2.0.32"})
    assert found == {"site_id": "site 'Paris' would hold 3 static hosts: Cato allows 2 (KB 4414483096465); "
                                "put some elsewhere"}  # fmt: skip


def test_checking_many_resources_reads_each_collection_once_and_writes_nothing(checks, ctl):
    ctl.reset_stats()
    hq = checks.site_id("HQ")
    for n in range(20):
        checks(
            "SocketSite",
            f"s{n}",
            {"name": f"Site {n}", "native_range": f"10.{100 + n}.0.0/24", "location": LOC},
        )
        checks("NetworkRange", f"r{n}", {"site_id": hq, "name": f"R{n}", "subnet": f"10.{150 + n}.0.0/24"})
        checks("StaticHost", f"h{n}", {"site_id": hq, "name": f"h{n}", "ip": f"10.1.0.{100 + n}"})
    for n in range(5):
        checks("InternetFirewallPolicy", f"p{n}", rules({"source": {"site": ["HQ"]},
                                                         "destination": {"application": ["Zoom"]}}, section=f"S{n}"))  # fmt: skip
    stats = ctl.stats()
    assert set(stats) <= read_names(), stats  # no write
    # Ranges, interfaces, hosts, the policy, the catalog: each once (the sites were read by the
    # credentials check, before the count started).
    assert stats == {"entityLookup": 3, "policy": 1, "catalogApplicationList": 1}, stats


def test_an_object_this_run_deleted_or_changed_is_no_conflict_though_the_view_predates_it(checks):
    # A site replaced with delete-before-replace takes its ranges with it; its dependents are then
    # checked as new resources, against a view taken before the delete.
    paris = checks.site_id("Paris")
    assert "native_range" in checks(
        "SocketSite", "x", {"name": "X", "native_range": "10.2.0.0/24", "location": LOC}
    )
    Engine(SPECS["SocketSite"], lambda: checks.session).delete(paris, {})
    assert checks("SocketSite", "x", {"name": "X", "native_range": "10.2.0.0/24", "location": LOC}) == {}
    assert (
        checks("NetworkRange", "d", {"site_id": checks.site_id("HQ"), "name": "D", "subnet": "10.2.5.0/24"})
        == {}
    )


def test_a_policy_imported_by_its_id_owns_the_sections_the_id_names(checks, emu):
    mine = {"sections": [{"name": "Security", "rules": [{"name": "Block anonymizers"}]}]}
    adopt = {**mine, "__adopt_id": "internetFirewall:Security"}
    assert "sections[0]" not in checks("InternetFirewallPolicy", "sec", adopt)
    found = Checks(emu)("InternetFirewallPolicy", "bad", {**mine, "__adopt_id": "wanFirewall:Security"})
    assert "is not a InternetFirewallPolicy id" in found["sections"]


def test_live_ranges_that_may_overlap_a_subnet_are_found_by_index_exactly_as_by_comparing_every_one():
    """Preflight finds the live ranges overlapping a range through an index (CIDR networks overlap
    only when one holds the other), not by comparing it with every live range: the same ranges, in
    the same order, for nested, equal, disjoint, host and malformed values."""
    import random

    from catoiac.resources.preflight import LiveHolder, _SpanIndex
    from catoiac.resources.program import collide, span

    rnd = random.Random(7)

    def cidr() -> str:
        bits = rnd.choice([0, 8, 16, 20, 23, 24, 24, 25, 28, 30, 32])
        addr = rnd.choice([10 << 24, (10 << 24) | (1 << 16), (172 << 24) | (16 << 16), rnd.getrandbits(32)])
        addr |= rnd.getrandbits(12)  # host bits too: a live value need not be a network address
        dotted = ".".join(str((addr >> s) & 255) for s in (24, 16, 8, 0))
        return (
            rnd.choice([f"{dotted}/{bits}", dotted, "not-a-range"])
            if rnd.random() < 0.1
            else f"{dotted}/{bits}"
        )

    holders = [(cidr(), LiveHolder(str(i), None, f"range {i}")) for i in range(400)]
    index = _SpanIndex(holders)
    for _ in range(400):
        query = cidr()
        wanted = span(query)
        if wanted is None:
            continue
        brute = [i for i, (key, _h) in enumerate(holders) if collide(SUBNET, query, key)]
        assert index.overlapping(*wanted) == brute, query
