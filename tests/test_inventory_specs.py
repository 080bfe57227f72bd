"""StaticHost, SocketInterface, BgpPeer and Group specs: Cato rules in check (no API call), reads
that round-trip with no diff, read cost, and a secret never echoed in errors. The engine runs
against a real emulator over HTTP; the pulumi CLI is covered in test_provider_inventory_e2e.py."""

from __future__ import annotations

import pytest
from emu_helpers import ACCOUNT, KEY

from catoiac.client import CatoClient
from catoiac.config import ClientConfig
from catoiac.emulator.control import EmulatorControl
from catoiac.emulator.limits import RateLimitConfig
from catoiac.errors import CatoError
from catoiac.resources import Engine
from catoiac.resources.specs import SPECS
from catoiac.session import Session


def no_session():
    raise AssertionError("check() must not call the API")


def failures(spec: str, props: dict) -> dict[str, str]:
    _inputs, found = Engine(SPECS[spec], no_session).check({}, props)
    return {f.property: f.reason for f in found}


HOST = {"site_id": "100001", "name": "printer", "ip": "10.0.0.10"}
WAN = {
    "site_id": "100001",
    "interface_id": "WAN1",
    "dest_type": "CATO",
    "upstream_bandwidth": 100,
    "downstream_bandwidth": 100,
    "role": "wan_1",
}
LAN = {
    "site_id": "100001",
    "interface_id": "INT_6",
    "dest_type": "LAN",
    "subnet": "10.5.0.0/24",
    "local_ip": "10.5.0.1",
}
BGP = {
    "site_id": "100001",
    "name": "core",
    "peer_ip": "10.0.0.2",
    "peer_asn": 65001,
    "cato_asn": 65000,
    "default_action": "ACCEPT",
}


def test_valid_inventory_inputs_pass_check_with_defaults_filled_in():
    # Every destination type of the SDL enum but INTERFACE_DISABLED (deleting gives a port back).
    lag_member = {"site_id": "1", "interface_id": "INT_4", "dest_type": "LAN_LAG_MEMBER"}
    for spec, props in (
        ("StaticHost", HOST),
        ("SocketInterface", WAN),
        ("SocketInterface", LAN),
        ("SocketInterface", {**LAN, "dest_type": "LAN_LAG_MASTER", "lag_min_links": 2}),
        ("SocketInterface", {**LAN, "dest_type": "LAN_LAG_MASTER_AND_VRRP", "vrrp_type": "VIA_SWITCH"}),
        ("SocketInterface", {**LAN, "dest_type": "VRRP_AND_LAN", "vrrp_type": "DIRECT_LINK"}),
        ("SocketInterface", lag_member),
        ("SocketInterface", {**lag_member, "dest_type": "LAN_AND_HA"}),
        ("SocketInterface", {**lag_member, "dest_type": "VRRP", "vrrp_type": "DIRECT_LINK"}),
        (
            "SocketInterface",
            {k: v for k, v in WAN.items() if k != "role"}
            | {
                "dest_type": "ALTERNATIVE",
                "alt_wan": {
                    "private_network": "172.16.0.0/30",
                    "private_interface_ip": "172.16.0.2",
                    "private_gateway_ip": "172.16.0.1",
                },
            },
        ),
        ("SocketInterface", {k: v for k, v in WAN.items() if k != "role"} | {"dest_type": "LAYER_2_WAN"}),
        ("BgpPeer", BGP),
    ):
        assert failures(spec, props) == {}, spec
    inputs, _ = Engine(SPECS["BgpPeer"], no_session).check({}, BGP)
    assert (inputs["hold_time"], inputs["keepalive_interval"], inputs["advertise_default_route"]) == (
        60,
        20,
        True,
    )
    inputs, _ = Engine(SPECS["SocketInterface"], no_session).check({}, WAN)
    assert (inputs["name"], inputs["precedence"]) == ("WAN1", "ACTIVE")


@pytest.mark.parametrize(
    ("props", "prop", "words"),
    [
        ({**HOST, "mac_address": "00:11:22:33:44"}, "mac_address", "00:1a:2b:3c:4d:5e"),
        ({**HOST, "ip": "127.0.0.5"}, "ip", "loopback"),
        ({**HOST, "ip": "224.0.0.9"}, "ip", "multicast"),
        ({**HOST, "ip": "0.0.0.0"}, "ip", "unspecified"),
        ({**HOST, "name": "x" * 256}, "name", "shorten"),
    ],
)
def test_static_host_rules_name_the_property_and_the_fix(props, prop, words):
    found = failures("StaticHost", props)
    assert words in found[prop], found


def test_static_host_mac_is_compared_in_one_form():
    inputs, _ = Engine(SPECS["StaticHost"], no_session).check(
        {}, {**HOST, "mac_address": "00-1A-2B-3C-4D-5E"}
    )
    assert inputs["mac_address"] == "00:1a:2b:3c:4d:5e"


@pytest.mark.parametrize(
    ("props", "prop", "words"),
    [
        ({**LAN, "interface_id": "LTE"}, "dest_type", "modem port"),
        ({**WAN, "upstream_bandwidth": 0}, "upstream_bandwidth", "minimum"),
        ({k: v for k, v in WAN.items() if k != "role"}, "role", "needs role"),
        ({k: v for k, v in WAN.items() if k != "downstream_bandwidth"}, "downstream_bandwidth", "needs"),
        # SDL UpdateSocketInterfaceInput: "Only relevant for ..." per sub-input.
        ({**WAN, "subnet": "10.9.0.0/24"}, "subnet", "does not apply to a CATO port"),
        ({**LAN, "role": "wan_1"}, "role", "does not apply to a LAN port"),
        ({**LAN, "lag_min_links": 2}, "lag_min_links", "does not apply to a LAN port"),
        (
            {**LAN, "dest_type": "LAN_LAG_MASTER", "lag_min_links": 2, "vrrp_type": "VIA_SWITCH"},
            "vrrp_type",
            "does not apply",
        ),
        ({**LAN, "dest_type": "LAN_LAG_MEMBER"}, "subnet", "does not apply to a LAN_LAG_MEMBER port"),
        ({**WAN, "dest_type": "ALTERNATIVE"}, "role", "does not apply to a ALTERNATIVE port"),
        (
            {k: v for k, v in LAN.items() if k != "local_ip"} | {"dest_type": "VRRP_AND_LAN"},
            "local_ip",
            "needs local_ip",
        ),
        ({**LAN, "dest_type": "INTERFACE_DISABLED"}, "dest_type", "is not one of"),
        ({**LAN, "local_ip": "10.6.0.1"}, "local_ip", "outside subnet"),
        ({**LAN, "local_ip": "10.5.0.0"}, "local_ip", "network or broadcast"),
        ({k: v for k, v in LAN.items() if k != "subnet"}, "subnet", "native range"),
        ({**LAN, "translated_subnet": "192.168.0.0/23"}, "translated_subnet", "same size"),
        ({**LAN, "interface_id": "INT_99"}, "interface_id", "is not one of"),
    ],
)
def test_socket_interface_rules_name_the_property_and_the_fix(props, prop, words):
    found = failures("SocketInterface", props)
    assert words in found.get(prop, ""), found


@pytest.mark.parametrize(
    ("props", "prop", "words"),
    [
        ({**BGP, "peer_asn": 0}, "peer_asn", "minimum"),
        ({**BGP, "peer_asn": 4294967296}, "peer_asn", "maximum"),
        ({**BGP, "cato_asn": 70000}, "cato_asn", "maximum"),
        ({**BGP, "peer_asn": 23456}, "peer_asn", "reserved"),
        ({**BGP, "cato_asn": 65535}, "cato_asn", "reserved"),
        ({**BGP, "peer_asn": 65000}, "peer_asn", "different ASNs"),
        ({**BGP, "keepalive_interval": 60}, "keepalive_interval", "shorter than hold_time"),
        ({**BGP, "peer_ip": "255.255.255.255"}, "peer_ip", "broadcast"),
        ({**BGP, "md5_auth_key": "k" * 81}, "md5_auth_key", "shorten"),
        ({**BGP, "default_action": "MAYBE"}, "default_action", "ACCEPT, DROP"),
        (
            {**BGP, "default_action_exclusion": [{}]},
            "default_action_exclusion[0]",
            "exactly one of",
        ),
    ],
)
def test_bgp_peer_rules_name_the_property_and_the_fix(props, prop, words):
    found = failures("BgpPeer", props)
    assert words in found.get(prop, ""), found


def test_group_members_need_an_id_or_a_name_and_compare_as_a_set():
    found = failures("Group", {"name": "g", "members": [{"type": "SITE", "id": "1", "name": "Paris"}]})
    assert "either its id or its name" in found["members[0]"]
    assert (
        "is not one of"
        in failures("Group", {"name": "g", "members": [{"type": "PLANET", "id": "1"}]})["members[0].type"]
    )
    engine = Engine(SPECS["Group"], no_session)
    a = {"name": "g", "members": [{"type": "SITE", "name": "Paris"}, {"type": "HOST", "id": "7"}]}
    b = {
        "name": "g",
        "members": [
            {"type": "HOST", "id": "7"},
            {"type": "SITE", "name": "Paris"},
            {"type": "HOST", "id": "7"},
        ],
    }
    assert not engine.diff(a, b).changes


# -- against the emulator -------------------------------------------------------------------------
@pytest.fixture
def emu(emulator_factory):
    return emulator_factory(rate_limits=RateLimitConfig(enabled=False))


@pytest.fixture
def session(emu):
    client = CatoClient(ClientConfig(api_key=KEY, account_id=ACCOUNT, base_url=emu.url))
    yield Session(client)
    client.close()


def create(session, spec: str, props: dict) -> tuple[str, dict]:
    engine = Engine(SPECS[spec], lambda: session)
    inputs, found = engine.check({}, props)
    assert not found, found
    return engine.create(inputs)


def site(session, name: str, subnet: str) -> str:
    props = {
        "name": name,
        "native_range": subnet,
        "connection_type": "SOCKET_X1600",
        "location": {"country_code": "FR", "timezone": "Europe/Paris"},
    }
    return create(session, "SocketSite", props)[0]


def test_created_inventory_reads_back_with_no_diff_and_secret_kept_out_of_errors(session, emu):
    sid = site(session, "Paris", "10.9.0.0/24")
    made = {
        "StaticHost": create(
            session,
            "StaticHost",
            {**HOST, "site_id": sid, "ip": "10.9.0.10", "mac_address": "00:11:22:aa:bb:cc"},
        ),
        "SocketInterface": create(session, "SocketInterface", {**LAN, "site_id": sid}),
        "BgpPeer": create(
            session,
            "BgpPeer",
            {
                **BGP,
                "site_id": sid,
                "md5_auth_key": "never-shown-42",
                "bfd_enabled": True,
                "tracking": {"subscription_id": "sub-1", "enabled": True},
                "default_action_exclusion": [
                    {"bgp_route_exact_filter_rule": {"network_subnet": ["10.50.0.0/16"]}},
                    {"community_filter_rule": {"community": [{"from": 65000, "to": 7}]}},
                ],
            },
        ),
    }
    made["Group"] = create(
        session,
        "Group",
        {
            "name": "Paris things",
            "members": [{"type": "SITE", "name": "Paris"}, {"type": "HOST", "id": made["StaticHost"][0]}],
        },
    )
    for spec, (rid, outs) in made.items():
        engine = Engine(SPECS[spec], lambda: session)
        found, _outs, live = engine.read(rid, outs)
        assert found == rid, spec
        assert not engine.diff(outs, live).changes, (spec, engine.diff(outs, live), outs, live)

    # A server that echoes the input back in an error does not get the key shown.
    EmulatorControl(emu.base_url).add_fault(
        "fail", operation="updateBgpPeer", message="bad key never-shown-42"
    )
    engine = Engine(SPECS["BgpPeer"], lambda: session)
    rid, outs = made["BgpPeer"]
    with pytest.raises(CatoError) as err:
        engine.update(rid, outs, {**outs, "metric": 5})
    assert "never-shown-42" not in str(err.value) and "[secret]" in str(err.value)


def test_refresh_of_many_hosts_ranges_and_peers_costs_calls_per_collection_not_per_resource(session, emu):
    ctl = EmulatorControl(emu.base_url)
    sites = [site(session, f"Site{n}", f"10.{70 + n}.0.0/24") for n in range(2)]
    made = []
    for n in range(40):
        sid = sites[n % 2]
        net = f"10.{70 + n % 2}.{n + 1}.0/24"
        made.append(
            (
                "NetworkRange",
                *create(session, "NetworkRange", {"site_id": sid, "name": f"r{n}", "subnet": net}),
            )
        )
        host = {"site_id": sid, "name": f"h{n}", "ip": f"10.{70 + n % 2}.{n + 1}.10"}
        made.append(("StaticHost", *create(session, "StaticHost", host)))
    for n in range(6):
        peer = {**BGP, "site_id": sites[n % 2], "name": f"p{n}", "peer_ip": f"10.{70 + n % 2}.0.{n + 2}"}
        made.append(("BgpPeer", *create(session, "BgpPeer", peer)))
    made.append(
        (
            "Group",
            *create(session, "Group", {"name": "all", "members": [{"type": "SITE", "id": s} for s in sites]}),
        )
    )

    session.reader.invalidate_all()  # a fresh provider process, as in `pulumi refresh`
    ctl.reset_stats()
    for spec, rid, outs in made:
        assert Engine(SPECS[spec], lambda: session).read(rid, outs)[0] == rid
    calls = ctl.stats()
    # Ranges, hosts, interfaces: one lookup page each; groups: one page; peers: one list per site.
    assert calls == {"entityLookup": 3, "bgpPeerList": 2, "groupList": 1}, calls
