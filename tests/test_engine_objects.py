"""The objects beside sites' inventory through the resource engine, against the emulator over HTTP:
IPsec sites and their tunnels, a site's native range settings, site licenses, admins, private apps
and app connectors. Each round-trips with no diff, changes in place where Cato can, and is refused
before any write where Cato would refuse it."""

from __future__ import annotations

import copy

import pytest
from objects_support import PSKS, engine, fixture, ipsec_inputs, session_for

from catoiac.emulator.control import EmulatorControl
from catoiac.emulator.limits import RateLimitConfig
from catoiac.errors import CatoError
from catoiac.journal import Journal
from catoiac.resources.engine import OWNER_KEY
from catoiac.resources.preflight import Preflight
from catoiac.resources.program import Program


@pytest.fixture
def emu(emulator_factory):
    return emulator_factory(fixture(), rate_limits=RateLimitConfig(enabled=False))


@pytest.fixture
def session(emu):
    return session_for(emu)


def checked(e, props: dict, olds: dict | None = None) -> dict:
    inputs, failures = e.check(olds or {}, props)
    assert failures == [], failures
    return inputs


def round_trip(e, props: dict) -> tuple[str, dict, dict]:
    """Create, then read back: the live object must equal the program (no diff)."""
    inputs = checked(e, props)
    oid, outs = e.create(inputs)
    found, read_outs, live = e.read(oid, outs)
    assert found == oid
    d = e.diff(read_outs, inputs)
    assert not d.changes, (d.changed, live, inputs)
    return oid, read_outs, inputs


def live_tunnels(session, site_id: str) -> dict[bool, list[tuple[str, str | None]]]:
    session.reader.invalidate_all()
    site = session.reader.get("sites")[site_id]
    return {
        info["isPrimary"]: [(t["tunnelId"], t["tunnelRemoteIdentifier"]) for t in info["tunnelConfig"]]
        for info in site["ipsec"]
    }


# -- native range settings on a Socket site ---------------------------------------------------------
SITE = {
    "name": "Lisbon",
    "native_range": "10.140.0.0/24",
    "location": {"country_code": "PT", "timezone": "Europe/Lisbon"},
}


def native(session, site_id: str) -> dict:
    session.reader.invalidate_all()
    return session.reader.get("native_ranges")[site_id]["range"]


def test_socket_site_native_range_local_ip_and_dhcp_are_set_and_read_back_without_diff(session):
    e = engine(session, "SocketSite")
    props = {**SITE, "local_ip": "10.140.0.254", "mdns_reflector": True,
             "dhcp": {"type": "DHCP_RANGE", "ip_range": "10.140.0.100-10.140.0.199"}}  # fmt: skip
    site_id, outs, inputs = round_trip(e, props)
    live = native(session, site_id)
    assert live["local_ip"] == "10.140.0.254" and live["mdns_reflector"] is True
    assert live["dhcp"]["type"] == "DHCP_RANGE" and live["dhcp"]["ip_range"] == "10.140.0.100-10.140.0.199"

    new = checked(e, {**props, "dhcp": {"type": "DHCP_RELAY", "relay_group_id": "relay-1"}})
    d = e.diff(outs, new)
    assert d.changed == ["dhcp"] and d.replaces == []
    outs = e.update(site_id, outs, new)
    assert native(session, site_id)["dhcp"]["type"] == "DHCP_RELAY"
    _, read_outs, _ = e.read(site_id, outs)
    assert not e.diff(read_outs, new).changes


def test_native_range_settings_the_program_leaves_out_are_cato_s_and_show_no_diff(session):
    e = engine(session, "SocketSite")
    site_id, outs, inputs = round_trip(e, SITE)
    assert native(session, site_id)["local_ip"] == "10.140.0.1"  # Cato's choice, not compared
    # Changed outside Pulumi: still no diff for a setting the program does not manage.
    rid = e.spec.after_write.__globals__["native_range_id"](session, site_id, SITE["native_range"])
    session.client.execute("UpdateNetworkRange", {"networkRangeId": rid, "input": {"localIp": "10.140.0.9"}})
    session.reader.invalidate_all()
    _, read_outs, _ = e.read(site_id, outs)
    assert not e.diff(read_outs, inputs).changes
    # A managed one changed outside Pulumi is drift.
    managed = checked(e, {**SITE, "local_ip": "10.140.0.1"})
    outs = e.update(site_id, outs, managed)
    session.client.execute("UpdateNetworkRange", {"networkRangeId": rid, "input": {"localIp": "10.140.0.9"}})
    session.reader.invalidate_all()
    _, read_outs, live = e.read(site_id, outs)
    assert e.diff(read_outs, managed).changed == ["local_ip"] and live["local_ip"] == "10.140.0.9"


def test_native_range_settings_are_checked_before_any_write(session):
    e = engine(session, "SocketSite")
    cases = {
        "local_ip": {"local_ip": "10.141.0.1"},
        "dhcp.ip_range": {"dhcp": {"type": "DHCP_RANGE", "ip_range": "10.0.0.1-10.0.0.9"}},
        "dhcp.relay_group_id": {"dhcp": {"type": "DHCP_RELAY"}},
        "dhcp.microsegmentation": {"dhcp": {"type": "DHCP_DISABLED", "microsegmentation": True}},
    }
    for prop, extra in cases.items():
        _, failures = e.check({}, {**SITE, **extra})
        assert [f.property for f in failures] == [prop], (extra, failures)


def test_a_native_range_setting_cato_refuses_removes_the_new_site_again(session, tmp_path):
    journal = Journal(tmp_path / "journal")
    e = engine(session, "SocketSite", journal)
    inputs = checked(e, SITE)
    inputs["local_ip"] = "10.140.0.0"  # the network address: check would refuse it; Cato does too
    with pytest.raises(CatoError, match="localIp"):
        e.create({**inputs, OWNER_KEY: "proj/dev/SocketSite::lisbon"})
    session.reader.invalidate_all()
    assert [s["name"] for s in session.reader.get("sites").values()] == ["HQ", "Branch"]
    assert list(journal.entries(str(session.client.config.base_url), session.account_id)) == []


# -- IPsec sites --------------------------------------------------------------------------------------
def test_ipsec_site_with_tunnels_round_trips_and_its_keys_reach_no_output(session, emu):
    e = engine(session, "IpsecSite")
    site_id, outs, inputs = round_trip(e, ipsec_inputs())
    assert live_tunnels(session, site_id) == {
        True: [("PRIMARY1", "203.0.113.10"), ("PRIMARY2", "203.0.113.11")],
        False: [("SECONDARY1", "198.51.100.20")],
    }
    assert session.reader.get("sites")[site_id]["connection_type"] == "IPSEC_V2"
    # The emulator keeps no key, and the audit trail shows none.
    with EmulatorControl(emu.base_url) as ctl:
        dump = str(ctl.stats()) + str(session.client.execute("AuditFeed", _feed_window()))
    assert not any(p in dump for p in PSKS)


def _feed_window() -> dict:
    return {"accountIDs": ["1001"], "timeFrame": "last.PT1H"}


def test_ipsec_tunnels_are_added_updated_and_removed_in_place(session):
    e = engine(session, "IpsecSite")
    site_id, outs, inputs = round_trip(e, ipsec_inputs())
    props = ipsec_inputs()
    props["primary"]["tunnels"][0]["psk"] = PSKS[3]  # a rotated key: an update of PRIMARY1
    props["primary"]["tunnels"].append({"public_site_ip": "203.0.113.12", "psk": PSKS[0]})  # PRIMARY3
    props.pop("secondary")  # SECONDARY1 goes
    props["native_range"] = "10.62.0.0/24"  # moves in place on an IPsec site
    new = checked(e, props)
    d = e.diff(outs, new)
    assert d.replaces == [] and set(d.changed) == {"primary", "secondary", "native_range"}
    outs = e.update(site_id, outs, new)
    assert live_tunnels(session, site_id) == {
        True: [("PRIMARY1", "203.0.113.10"), ("PRIMARY2", "203.0.113.11"), ("PRIMARY3", "203.0.113.12")]
    }
    _, read_outs, live = e.read(site_id, outs)
    assert live["native_range"] == "10.62.0.0/24"
    assert not e.diff(read_outs, new).changes


def test_an_ipsec_tunnel_removed_outside_pulumi_is_drift_and_the_next_update_restores_it(session):
    e = engine(session, "IpsecSite")
    site_id, outs, inputs = round_trip(e, ipsec_inputs())
    session.client.execute(
        "RemoveIpsecIkeV2SiteTunnels", {"siteId": site_id, "input": {"tunnelId": ["PRIMARY1"]}}
    )
    session.reader.invalidate_all()
    _, read_outs, live = e.read(site_id, outs)
    assert e.diff(read_outs, inputs).changed == ["primary"]
    e.update(site_id, read_outs, inputs)
    assert [t for t, _ in live_tunnels(session, site_id)[True]] == ["PRIMARY1", "PRIMARY2"]
    assert live_tunnels(session, site_id)[True][0] == ("PRIMARY1", "203.0.113.10")


def test_ipsec_rules_are_checked_before_any_write_and_name_the_tunnel(session):
    e = engine(session, "IpsecSite")
    four = [{"public_site_ip": f"203.0.113.{n}", "psk": "k" * 8} for n in range(4)]
    cases = {
        "primary.tunnels": {"primary": {"tunnels": four}},
        "identification_type": {"identification_type": "FQDN"},
        "primary.destination_type": {"primary": {"destination_type": "FQDN", "tunnels": four[:1]}},
        "primary.tunnels[1].public_site_ip": {"primary": {"tunnels": [four[0], {**four[1], "public_site_ip": four[0]["public_site_ip"]}]}},
        "primary.tunnels[0].public_site_ip": {"primary": {"tunnels": [{"psk": "k" * 8}]}},
        "primary.tunnels[0].private_cato_ip": {"primary": {"tunnels": [
            {**four[0], "private_cato_ip": "169.254.0.1", "private_site_ip": "169.254.0.2"}, four[1]]}},
        "network_ranges[0]": {"network_ranges": ["servers:10.0.0.1/24"]},
        "primary.tunnels[0].psk": {"primary": {"tunnels": [{"public_site_ip": "203.0.113.1", "psk": "  "}]}},
    }  # fmt: skip
    for prop, over in cases.items():
        props = ipsec_inputs(**over)
        props.pop("secondary")
        _, failures = e.check({}, props)
        assert prop in [f.property for f in failures], (prop, failures)
    # A key too long is refused without showing it.
    props = ipsec_inputs(primary={"tunnels": [{"public_site_ip": "203.0.113.1", "psk": "S3cret-" * 60}]})
    _, failures = e.check({}, props)
    assert failures and all("S3cret" not in f.reason for f in failures), failures


def test_ipsec_site_and_socket_site_names_and_ranges_conflict_in_the_preview(session):
    checks_session = session
    pre, program = Preflight(checks_session), Program()
    assert pre.credentials() == (True, [])
    e = engine(session, "IpsecSite")
    inputs = checked(
        e, {**ipsec_inputs(name="HQ", native_range="10.0.0.0/25"), OWNER_KEY: "p/s/IpsecSite::x"}
    )
    problems = {f.property: f.reason for f in e.check_against({}, inputs, program, pre)}
    assert "name" in problems and "HQ" in problems["name"]


# -- site licenses ------------------------------------------------------------------------------------
def site_id_of(session, name: str) -> str:
    return next(s["id"] for s in session.reader.get("sites").values() if s["name"] == name)


def licenses(session) -> dict:
    session.reader.invalidate_all()
    return session.reader.get("site_licenses")


def test_site_license_is_assigned_replaced_by_a_pool_share_resized_and_removed(session):
    e = engine(session, "SiteLicense")
    branch = site_id_of(session, "Branch")
    lid, outs, _ = round_trip(e, {"site_id": branch, "license_id": "lic-site-100"})
    assert lid == branch and licenses(session)[branch]["license_id"] == "lic-site-100"
    pooled = checked(e, {"site_id": branch, "license_id": "lic-pool", "bw": 200})
    assert e.diff(outs, pooled).replaces == []
    outs = e.update(lid, outs, pooled)
    assert licenses(session)[branch] | {} == {
        **licenses(session)[branch],
        "license_id": "lic-pool",
        "bw": 200,
    }
    bigger = checked(e, {"site_id": branch, "license_id": "lic-pool", "bw": 300})
    outs = e.update(lid, outs, bigger)
    assert licenses(session)[branch]["bw"] == 300
    _, read_outs, _ = e.read(lid, outs)
    assert not e.diff(read_outs, bigger).changes
    e.delete(lid, outs)
    assert branch not in licenses(session)


def test_site_license_problems_are_found_in_the_preview_with_the_fix(session):
    pre = Preflight(session)
    assert pre.credentials() == (True, [])
    e = engine(session, "SiteLicense")
    branch = site_id_of(session, "Branch")
    cases = {
        "lic-nope": ("license_id", "no license lic-nope"),
        "lic-old": ("license_id", "DISABLED"),
        "lic-casb": ("license_id", "CATO_CASB"),
        "lic-site-used": ("license_id", "already used by site"),
    }
    for lic, (prop, text) in cases.items():
        inputs = checked(e, {"site_id": branch, "license_id": lic, OWNER_KEY: f"p/s/SiteLicense::{lic}"})
        problems = {f.property: f.reason for f in e.check_against({}, inputs, Program(), pre)}
        assert text in problems.get(prop, ""), (lic, problems)
    for props, (prop, text) in {
        (("license_id", "lic-pool"),): ("bw", "set bw"),
        (("license_id", "lic-site-100"), ("bw", 10)): ("bw", "remove bw"),
        (("license_id", "lic-pool"), ("bw", 450)): ("bw", "400 Mbps left"),
    }.items():
        inputs = checked(e, {"site_id": branch, **dict(props), OWNER_KEY: f"p/s/SiteLicense::{props}"})
        problems = {f.property: f.reason for f in e.check_against({}, inputs, Program(), pre)}
        assert text in problems.get(prop, ""), (props, problems)


def test_a_site_that_has_a_license_already_is_refused_with_the_import_id(session):
    e = engine(session, "SiteLicense")
    hq = site_id_of(session, "HQ")
    with pytest.raises(CatoError, match=rf'already exists \(id {hq}\).*import_="{hq}"'):
        e.create(checked(e, {"site_id": hq, "license_id": "lic-site-100"}))
    assert licenses(session)[hq]["license_id"] == "lic-pool"


# -- admins -------------------------------------------------------------------------------------------
def test_admin_with_roles_by_name_and_id_round_trips_and_changes_roles_in_place(session):
    e = engine(session, "Admin")
    hq = site_id_of(session, "HQ")
    props = {
        "email": "Noa@Example.com",
        "first_name": "Noa",
        "last_name": "Levi",
        "managed_roles": [
            {"role": "Network admin", "allowed_entities": [{"id": hq, "type": "site"}]},
            {"role": {"id": "9001"}},
        ],
    }
    aid, outs, inputs = round_trip(e, props)
    session.reader.invalidate_all()
    live = session.reader.get("admins")[aid]
    assert live["email"] == "noa@example.com"
    assert sorted(r["role"]["name"] for r in live["managedRoles"]) == ["Auditors", "Network admin"]
    new = checked(e, {**props, "managed_roles": [{"role": "Viewer"}]})
    d = e.diff(outs, new)
    assert d.changed == ["managed_roles"] and d.replaces == []
    outs = e.update(aid, outs, new)
    _, read_outs, _ = e.read(aid, outs)
    assert not e.diff(read_outs, new).changes
    assert e.diff(read_outs, checked(e, {**props, "email": "other@example.com"})).replaces == ["email"]


def test_an_unknown_role_is_found_in_the_preview_with_a_suggestion(session):
    pre = Preflight(session)
    assert pre.credentials() == (True, [])
    e = engine(session, "Admin")
    inputs = checked(e, {"email": "a@example.com", "first_name": "A", "last_name": "B",
                         "managed_roles": [{"role": "Network admn"}], OWNER_KEY: "p/s/Admin::a"})  # fmt: skip
    problems = {f.property: f.reason for f in e.check_against({}, inputs, Program(), pre)}
    assert "did you mean 'Network admin'" in problems["managed_roles[0].role"]


def test_an_admin_email_in_use_is_refused_by_cato(session):
    e = engine(session, "Admin")
    with pytest.raises(CatoError, match="already exists"):
        e.create(checked(e, {"email": "alice@example.com", "first_name": "A", "last_name": "B"}))


# -- private apps and app connectors -----------------------------------------------------------------
APP = {
    "name": "Wiki",
    "internal_app_address": "wiki.corp.example",
    "protocol_ports": [
        {"protocol": "TCP", "port": [443, 80]},
        {"protocol": "UDP", "port_range": {"from": 6000, "to": 6010}},
    ],
    "private_app_probing": {"type": "ICMP_PING", "interval": 5, "fault_threshold_down": 3},
    "published": True,
    "published_app_domain": {"published_app_domain": "wiki.example.com", "connector_group_name": "dc-east"},
}


def test_private_app_round_trips_and_updates_in_place(session):
    e = engine(session, "PrivateApp")
    aid, outs, inputs = round_trip(e, APP)
    new = checked(
        e, {**APP, "protocol_ports": [{"protocol": "TCP", "port": [443]}], "description": "team wiki"}
    )
    assert e.diff(outs, new).replaces == []
    outs = e.update(aid, outs, new)
    _, read_outs, _ = e.read(aid, outs)
    assert not e.diff(read_outs, new).changes
    e.delete(aid, outs)
    session.reader.invalidate_all()
    assert aid not in session.reader.get("private_apps")


def test_private_app_rules_are_checked_before_any_write(session):
    e = engine(session, "PrivateApp")
    cases = {
        "internal_app_address": {"internal_app_address": "not an address!"},
        "protocol_ports[0]": {"protocol_ports": [{"protocol": "ICMP", "port": [1]}]},
        "protocol_ports[0].port_range": {
            "protocol_ports": [{"protocol": "TCP", "port_range": {"from": 9, "to": 1}}]
        },
        "published_app_domain": {"published_app_domain": None},
    }
    for prop, over in cases.items():
        props = {k: v for k, v in {**APP, **over}.items() if v is not None}
        _, failures = e.check({}, props)
        assert prop in [f.property for f in failures], (prop, failures)
    # Cato checks what only it knows: the connector group exists.
    with pytest.raises(CatoError, match="no app connector group 'nope'"):
        e.create(checked(e, {**APP, "published_app_domain": {"published_app_domain": "w.example.com",
                                                             "connector_group_name": "nope"}}))  # fmt: skip


CONNECTOR = {
    "name": "dc-connector-2",
    "group_name": "dc-east",
    "type": "VIRTUAL",
    "location": {"country_code": "us", "city": "New York", "timezone": "America/New_York"},
    "preferred_pop_location": {
        "automatic": False,
        "preferred_only": True,
        "primary": "New York",
        "secondary": {"id": "103"},
    },
}


def test_app_connector_round_trips_with_pops_by_name_and_id_and_type_change_replaces(session):
    e = engine(session, "AppConnector")
    cid, outs, inputs = round_trip(e, CONNECTOR)
    new = checked(e, {**CONNECTOR, "description": "east DC"})
    assert e.diff(outs, new).replaces == []
    outs = e.update(cid, outs, new)
    _, read_outs, _ = e.read(cid, outs)
    assert not e.diff(read_outs, new).changes
    assert e.diff(read_outs, checked(e, {**CONNECTOR, "type": "PHYSICAL"})).replaces == ["type"]


def test_app_connector_location_and_pop_rules_are_checked_before_any_write(session):
    e = engine(session, "AppConnector")
    cases = {
        "location.city": {
            "location": {"country_code": "US", "city": "Narnia", "timezone": "America/New_York"}
        },
        "preferred_pop_location.primary": {
            "preferred_pop_location": {"automatic": False, "preferred_only": False}
        },
        "description": {"description": "x" * 251},
        "location.timezone": {
            "location": {"country_code": "US", "city": "New York", "timezone": "Mars/Base"}
        },
    }
    for prop, over in cases.items():
        _, failures = e.check({}, {**CONNECTOR, **over})
        assert prop in [f.property for f in failures], (prop, failures)


# -- the cost of reads --------------------------------------------------------------------------------
def test_refreshing_every_object_costs_one_read_per_collection(emu, session):
    made = {}
    for spec, props in (
        ("IpsecSite", ipsec_inputs()),
        ("IpsecSite", ipsec_inputs(name="Azure West", native_range="10.70.0.0/24", secondary=None)),
        ("SiteLicense", {"site_id": site_id_of(session, "Branch"), "license_id": "lic-site-100"}),
        (
            "Admin",
            {
                "email": "x@example.com",
                "first_name": "X",
                "last_name": "Y",
                "managed_roles": [{"role": "Viewer"}],
            },
        ),
        ("Admin", {"email": "z@example.com", "first_name": "Z", "last_name": "Y"}),
        ("PrivateApp", APP),
        ("PrivateApp", {**APP, "name": "Jira", "published": False, "published_app_domain": None}),
        ("AppConnector", CONNECTOR),
    ):
        props = {k: v for k, v in copy.deepcopy(props).items() if v is not None}
        e = engine(session, spec)
        oid, outs = e.create(checked(e, props))
        made[oid + spec] = (e, oid, outs)
    fresh = session_for(emu)
    with EmulatorControl(emu.base_url) as ctl:
        ctl.reset_stats()
        for e, oid, outs in made.values():
            found, _, _ = engine(fresh, e.spec.name).read(oid, outs)
            assert found == oid
        stats = ctl.stats()
    # sites (snapshot + site lookup) and their native ranges (range and interface lookups) for the
    # IPsec sites; one call each for licenses, admins, private apps and app connectors.
    assert stats == {"accountSnapshot": 1, "entityLookup": 3, "licensingInfo": 1, "admins": 1,
                     "privateApplicationList": 1, "ztnaAppConnectorList": 1}, stats  # fmt: skip


def test_ports_pulumi_sends_as_floats_are_ports(session):
    # Pulumi sends every number as a float: 443.0 is port 443, compared as Cato's Port text.
    e = engine(session, "PrivateApp")
    props = {
        **APP,
        "protocol_ports": [
            {"protocol": "TCP", "port": [443.0], "port_range": {"from": 8000.0, "to": 8010.0}}
        ],
    }
    inputs = checked(e, props)
    assert inputs["protocol_ports"] == [
        {"protocol": "TCP", "port": ["443"], "port_range": {"from": "8000", "to": "8010"}}
    ]
