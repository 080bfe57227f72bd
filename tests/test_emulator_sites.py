"""Sites and inventory over real HTTP: sites, ranges, hosts, interfaces, BGP peers, their rules and audit."""

from __future__ import annotations

import base64

import pytest
from emu_helpers import ACCOUNT
from sites_support import (
    ADD_BGP,
    ADD_HOST,
    ADD_RANGE,
    ADD_SITE,
    BGP_LIST,
    BGP_PEER,
    RANGE,
    REMOVE_BGP,
    REMOVE_HOST,
    REMOVE_RANGE,
    REMOVE_SITE,
    SITE_DETAILS,
    SNAPSHOT,
    UPDATE_BGP,
    UPDATE_HOST,
    UPDATE_IFACE,
    UPDATE_RANGE,
    UPDATE_SITE,
    Api,
    fixture,
    site_input,
)

from catoiac.emulator.control import EmulatorControl
from catoiac.emulator.limits import RateLimitConfig

A = ACCOUNT


@pytest.fixture
def emu(emulator_factory):
    return emulator_factory(fixture(), rate_limits=RateLimitConfig(enabled=False))


@pytest.fixture
def api(emu):
    with Api(emu.url) as api:
        yield api


def details(api: Api, site_id: str) -> dict:
    return api.ok(SITE_DETAILS, a=A, ref={"by": "ID", "input": site_id})["site"]["siteGeneralDetails"]


def snapshot_site(api: Api, site_id: str) -> dict:
    return api.ok(SNAPSHOT, a=A, ids=[site_id])["accountSnapshot"]["sites"][0]


def inventory(api: Api) -> dict[str, list[str]]:
    """Every entity id the account has, by type: what a failed mutation must leave as it was."""
    return {
        t: [i["entity"]["id"] for i in api.lookup(t, limit=0)["items"]] for t in ("site", "siteRange", "host")
    }


def record(api: Api, object_id: str, change: str) -> dict:
    return next(
        r for r in api.audit() if r["object"]["id"] == object_id and r["fieldsMap"]["change_type"] == change
    )


# -- sites ------------------------------------------------------------------------------------------
def test_seeded_site_reads_back_through_site_queries(api):
    hq = api.site_id("HQ")
    d = details(api, hq)
    assert d["site"] == {"id": hq, "name": "HQ"} and d["siteType"] == "HEADQUARTERS"
    assert d["description"] == "Head office"
    assert d["siteLocation"] == {
        "countryCode": "US",
        "stateCode": "US-CA",
        "cityName": "San Diego",
        "address": "1 Harbor Dr",
        "timezone": "America/Los_Angeles",
    }
    ranges = api.ranges(hq)
    assert ranges["Native Range"]["subnet"] in ("10.0.0.0/24", "10.5.0.0/24")
    assert {r["name"] for r in ranges.values()} == {"Native Range", "Printers", "Voice", "Lab"}
    assert ranges["Printers"] | {"networkRangeId": "x"} == {
        "networkRangeId": "x",
        "name": "Printers",
        "rangeType": "Routed",
        "subnet": "10.0.1.0/24",
        "localIp": None,
        "gateway": "10.0.0.254",
        "vlan": None,
        "translatedSubnet": None,
        "internetOnly": False,
        "mdnsReflector": False,
        "dhcpSettings": {
            "dhcpType": "DHCP_DISABLED",
            "ipRange": None,
            "relayGroupId": None,
            "dhcpMicrosegmentation": False,
        },
    }
    assert ranges["Voice"]["vlan"] == 20 and ranges["Voice"]["rangeType"] == "VLAN"
    listing = api.ok(
        'query($a: ID!) { site(accountId: $a) { networkRangeList(input: {site: {by: NAME, input: "HQ"}}) { total } } }',
        a=A,
    )
    assert listing["site"]["networkRangeList"]["total"] == 5  # two native ranges (LAN1, Servers) + three


def test_add_socket_site_gets_default_ports_and_a_native_range(api):
    site_id = api.ok(ADD_SITE, a=A, i=site_input("Berlin", "10.20.0.0/24"))["site"]["addSocketSite"]["siteId"]
    native = api.ranges(site_id)["Native Range"]
    assert native["rangeType"] == "Native" and native["subnet"] == "10.20.0.0/24"
    assert native["localIp"] == "10.20.0.1"  # the first host address
    d = details(api, site_id)
    assert d["siteType"] == "BRANCH" and d["siteLocation"]["cityName"] == "Berlin"
    info = snapshot_site(api, site_id)["info"]
    assert info["connType"] == "SOCKET_X1500"
    ports = {p["name"]: p for p in info["interfaces"]}
    assert set(ports) == {"WAN1", "WAN2", "LAN1"}  # LAN2 and USB1 start disabled
    # Named ports read back by name (cato-cli export_sites.py keeps WAN*/USB*/LTE ids as they are).
    assert ports["WAN1"] == {
        "id": "WAN1",
        "name": "WAN1",
        "destType": "CATO",
        "upstreamBandwidth": 10,
        "downstreamBandwidth": 10,
        "wanRole": "wan_1",
    }
    assert ports["WAN2"]["wanRole"] == "wan_2" and ports["LAN1"]["destType"] == "LAN"
    lans = api.lookup("networkInterface", parent={"type": "site", "id": site_id})["items"]
    assert [(i["entity"]["name"], i["helperFields"]["subnet"]) for i in lans] == [
        ("Berlin \\ LAN1", "10.20.0.0/24")
    ]
    rec = record(api, site_id, "CREATED")
    assert rec["object"] == {"id": site_id, "name": "Berlin", "type": "site"}
    assert rec["fieldsMap"]["model_type"] == "Site" and rec["fieldsMap"]["module"] == "configuration"
    assert rec["apiKey"]["name"] == "catoiac"


def test_update_site_general_details_round_trip_with_audit_without_values(api):
    hq = api.site_id("HQ")
    update = {
        "name": "Headquarters",
        "description": "Moved",
        "siteType": "DATACENTER",
        "siteLocation": {
            "countryCode": "GB",
            "timezone": "Europe/London",
            "cityName": "London",
            "stateCode": None,
        },
        "preferredPopLocation": {"preferredOnly": True, "primary": {"by": "NAME", "input": "London"}},
    }
    assert api.ok(UPDATE_SITE, a=A, s=hq, i=update)["site"]["updateSiteGeneralDetails"] == {"siteId": hq}
    d = details(api, hq)
    assert (
        d["site"]["name"] == "Headquarters" and d["description"] == "Moved" and d["siteType"] == "DATACENTER"
    )
    assert d["siteLocation"] == {
        "countryCode": "GB",
        "stateCode": None,  # an explicit null clears; the omitted address stays
        "cityName": "London",
        "address": "1 Harbor Dr",
        "timezone": "Europe/London",
    }
    assert d["preferredPopLocation"] == {
        "preferredOnly": True,
        "primary": {"id": "103", "name": "London"},
        "secondary": None,
    }
    # KB 4413273463953: before/after values only for some policies (Internet and WAN firewall).
    rec = record(api, hq, "MODIFIED")
    assert not [k for k in rec["fieldsMap"] if k.startswith(("change_Before_", "change_After_"))]
    assert rec["object"] == {"id": hq, "name": "Headquarters", "type": "site"}
    # Derived names follow the rename.
    names = {i["entity"]["name"] for i in api.lookup("siteRange", search="headquarters")["items"]}
    assert "Headquarters \\ INT_5 \\ Printers" in names


def test_renaming_a_site_to_another_sites_name_is_refused_and_changes_nothing(api):
    hq = api.site_id("HQ")
    new = api.ok(ADD_SITE, a=A, i=site_input("Branch", "10.30.0.0/24"))["site"]["addSocketSite"]["siteId"]
    before, feed = inventory(api), len(api.audit())
    err = api.err(UPDATE_SITE, a=A, s=new, i={"name": "HQ", "description": "renamed"})
    assert err["message"] == "Site name 'HQ' is already in use"
    assert err["extensions"]["code"] == "BAD_USER_INPUT"
    assert inventory(api) == before and len(api.audit()) == feed
    assert details(api, new)["site"]["name"] == "Branch" and details(api, hq)["site"]["name"] == "HQ"
    # Its own name again is no conflict.
    assert api.ok(UPDATE_SITE, a=A, s=hq, i={"name": "HQ"})["site"]["updateSiteGeneralDetails"] == {
        "siteId": hq
    }


def test_state_code_must_belong_to_the_country(api):
    err = api.err(
        UPDATE_SITE,
        a=A,
        s=api.site_id("HQ"),
        i={"siteLocation": {"countryCode": "FR", "timezone": "Europe/Paris"}},
    )
    assert "State code 'US-CA' is not a state of FR" in err["message"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": "HQ"}, "Site name 'HQ' is already in use"),
        ({"siteLocation": {"countryCode": "XX", "timezone": "Europe/Berlin"}}, "Unknown country code 'XX'"),
        (
            {"siteLocation": {"countryCode": "DE", "timezone": "Mars/Olympus"}},
            "Unknown timezone 'Mars/Olympus'",
        ),
        ({"nativeNetworkRange": "10.30.0.0/33"}, "Invalid nativeNetworkRange '10.30.0.0/33'"),
        ({"nativeNetworkRange": "10.30.0.1/24"}, "has host bits set"),
        ({"nativeNetworkRange": "not-a-cidr"}, "Invalid nativeNetworkRange"),
        (
            {"nativeNetworkRange": "10.0.1.128/25"},
            "overlaps network range 'HQ \\ INT_5 \\ Printers' (10.0.1.0/24)",
        ),
        ({"nativeNetworkRange": "10.0.0.0/8"}, "overlaps network range"),
        ({"nativeNetworkRange": "10.30.0.0/31"}, "too small"),
    ],
)
def test_add_socket_site_rejections_change_nothing(api, change, message):
    inp = site_input("New", "10.30.0.0/24") | change
    before = inventory(api)
    err = api.err(ADD_SITE, a=A, i=inp)
    assert message in err["message"] and err["extensions"]["code"] == "BAD_USER_INPUT"
    assert inventory(api) == before


def test_unknown_pop_location_is_not_found(api):
    err = api.err(
        UPDATE_SITE,
        a=A,
        s=api.site_id("HQ"),
        i={"preferredPopLocation": {"preferredOnly": False, "primary": {"by": "NAME", "input": "Atlantis"}}},
    )
    assert err["message"] == "PoP location Atlantis not found"


def test_remove_site_cascades_to_ranges_hosts_interfaces_and_bgp_peers(api):
    hq = api.site_id("HQ")
    range_ids = [r["networkRangeId"] for r in api.ranges(hq).values()]
    peer = api.ok(BGP_LIST, a=A, site={"by": "ID", "input": hq})["site"]["bgpPeerList"]["bgpPeer"][0]
    assert api.ok(REMOVE_SITE, a=A, s=hq)["site"]["removeSite"] == {"siteId": hq}
    for etype in ("siteRange", "host", "networkInterface", "site"):
        items = api.lookup(etype, limit=0)["items"]
        assert all(hq not in (i["entity"]["id"], i["helperFields"].get("siteId")) for i in items), etype
    assert "not found" in api.err(RANGE, a=A, r=range_ids[0])["message"]
    assert api.err(BGP_PEER, a=A, r={"by": "ID", "input": peer["id"]})["extensions"]["code"] == "NOT_FOUND"
    assert api.err(REMOVE_SITE, a=A, s=hq)["message"] == f"Site with id {hq} not found"
    # Its subnets are free again.
    api.ok(ADD_SITE, a=A, i=site_input("Reborn", "10.0.0.0/24"))
    assert record(api, hq, "DELETED")["object"] == {"id": hq, "name": "HQ", "type": "site"}


# -- unknown ids ------------------------------------------------------------------------------------
NOT_FOUND_CASES = [
    (UPDATE_SITE, {"s": "999", "i": {"name": "x"}}, "Site with id 999 not found"),
    (REMOVE_SITE, {"s": "999"}, "Site with id 999 not found"),
    (
        ADD_RANGE,
        {"l": "999", "i": {"name": "x", "subnet": "10.9.0.0/24", "rangeType": "Direct"}},
        "Network interface with id 999 not found",
    ),
    (UPDATE_RANGE, {"r": "UzE=", "i": {"name": "x"}}, "Network range with id UzE= not found"),
    (REMOVE_RANGE, {"r": "UzE="}, "Network range with id UzE= not found"),
    (RANGE, {"r": "UzE="}, "Network range with id UzE= not found"),
    (ADD_HOST, {"s": "999", "i": {"name": "x", "ip": "10.0.0.9"}}, "Site with id 999 not found"),
    (UPDATE_HOST, {"h": "999", "i": {"name": "x"}}, "Static host with id 999 not found"),
    (REMOVE_HOST, {"h": "999"}, "Static host with id 999 not found"),
    (UPDATE_IFACE, {"s": "999", "p": "LAN2", "i": {"destType": "LAN"}}, "Site with id 999 not found"),
    (UPDATE_BGP, {"i": {"id": "999", "holdTime": 90}}, "BGP peer with id 999 not found"),
    (REMOVE_BGP, {"i": {"id": "999"}}, "BGP peer with id 999 not found"),
    (BGP_PEER, {"r": {"by": "ID", "input": "999"}}, "BGP peer with id 999 not found"),
    (BGP_PEER, {"r": {"by": "NAME", "input": "nope"}}, "BGP peer with name nope not found"),
    (SITE_DETAILS, {"ref": {"by": "NAME", "input": "Nowhere"}}, "Site with name Nowhere not found"),
    (BGP_LIST, {"site": {"by": "ID", "input": "999"}}, "Site with id 999 not found"),
]


@pytest.mark.parametrize(("doc", "variables", "message"), NOT_FOUND_CASES)
def test_unknown_ids_are_not_found(api, doc, variables, message):
    err = api.err(doc, a=A, **variables)
    assert err["message"] == message and err["extensions"]["code"] == "NOT_FOUND"


# -- network ranges --------------------------------------------------------------------------------
def test_network_range_crud_round_trip_with_audit(api):
    hq = api.site_id("HQ")
    lan1 = api.interface_id(hq, "INT_5")  # X1600: the native range's port
    inp = {
        "name": "Guests",
        "subnet": "10.0.9.0/24",
        "rangeType": "Direct",
        "localIp": "10.0.9.1",
        "mdnsReflector": True,
    }
    rid = api.ok(ADD_RANGE, a=A, l=lan1, i=inp)["site"]["addNetworkRange"]["networkRangeId"]
    got = api.ok(RANGE, a=A, r=rid)["site"]["networkRange"]
    assert got["name"] == "Guests" and got["subnet"] == "10.0.9.0/24" and got["mdnsReflector"] is True
    upd = {
        "name": "Visitors",
        "subnet": "10.0.9.0/25",
        "dhcpSettings": {"dhcpType": "DHCP_RANGE", "ipRange": "10.0.9.10-10.0.9.50"},
    }
    api.ok(UPDATE_RANGE, a=A, r=rid, i=upd)
    got = api.ok(RANGE, a=A, r=rid)["site"]["networkRange"]
    assert got["name"] == "Visitors" and got["subnet"] == "10.0.9.0/25" and got["localIp"] == "10.0.9.1"
    assert (
        got["dhcpSettings"]["dhcpType"] == "DHCP_RANGE"
        and got["dhcpSettings"]["ipRange"] == "10.0.9.10-10.0.9.50"
    )
    api.ok(REMOVE_RANGE, a=A, r=rid)
    assert api.err(RANGE, a=A, r=rid)["extensions"]["code"] == "NOT_FOUND"
    created, modified, deleted = (record(api, rid, c) for c in ("CREATED", "MODIFIED", "DELETED"))
    assert created["object"] == {"id": rid, "name": "HQ \\ INT_5 \\ Guests", "type": "siteRange"}
    assert created["fieldsMap"]["model_type"] == "NetworkRange"
    assert created["fieldsMap"]["module"] == "configuration"
    assert modified["object"]["name"] == "HQ \\ INT_5 \\ Visitors"
    assert not [k for k in modified["fieldsMap"] if k.startswith(("change_Before_", "change_After_"))]
    assert deleted["object"]["name"] == "HQ \\ INT_5 \\ Visitors"


def test_range_ids_are_cato_style_base64(api):
    ranges = api.ranges(api.site_id("HQ"))
    assert base64.b64decode(ranges["Printers"]["networkRangeId"]).decode().startswith("S")
    assert base64.b64decode(ranges["Native Range"]["networkRangeId"]).decode().startswith("N")


RANGE_REJECTIONS = [
    ({"name": "Printers"}, "Network range name 'Printers' is already in use on interface INT_5 of site 'HQ'"),
    (
        {"subnet": "10.1.0.64/26"},
        "Subnet 10.1.0.64/26 overlaps network range 'Paris \\ LAN1 \\ Native Range' (10.1.0.0/24)",
    ),
    ({"subnet": "10.0.0.0/16"}, "overlaps network range"),
    (
        {"subnet": "10.0.9.0/24", "localIp": "10.0.8.1"},
        "localIp 10.0.8.1 is not a host address of 10.0.9.0/24",
    ),
    ({"subnet": "10.0.9.0/24", "localIp": "10.0.9.0"}, "is not a host address"),
    ({"subnet": "10.0.9.0/40"}, "Invalid subnet '10.0.9.0/40'"),
    ({"subnet": "10.0.9.7/24"}, "has host bits set"),
    ({"rangeType": "VLAN", "localIp": "10.0.9.1"}, "A VLAN range needs a vlan"),
    (
        {"rangeType": "VLAN", "localIp": "10.0.9.1", "vlan": 5000},
        "A VLAN range needs a vlan between 1 and 4094",
    ),
    ({"rangeType": "Routed"}, "A Routed range needs a gateway"),
    ({"rangeType": "Routed", "gateway": "10.9.9.9"}, "gateway 10.9.9.9 is not a host address of 10.0.0.0/24"),
    ({"rangeType": "Native", "localIp": "10.0.9.1"}, "An interface has one native range"),
    ({"translatedSubnet": "192.168.0.0/16"}, "must be the same size"),
    (
        {"dhcpSettings": {"dhcpType": "DHCP_RANGE", "ipRange": "10.0.8.1-10.0.8.9"}},
        "DHCP range 10.0.8.1 is not a host address",
    ),
    ({"dhcpSettings": {"dhcpType": "DHCP_RANGE"}}, "DHCP_RANGE needs an ipRange"),
    ({"dhcpSettings": {"dhcpType": "DHCP_RELAY"}}, "DHCP_RELAY needs a relayGroupId"),
]


@pytest.mark.parametrize(("change", "message"), RANGE_REJECTIONS)
def test_add_network_range_rejections(api, change, message):
    hq = api.site_id("HQ")
    inp = {"name": "New", "subnet": "10.0.9.0/24", "rangeType": "Direct"} | change
    before = api.ranges(hq)
    assert message in api.err(ADD_RANGE, a=A, l=api.interface_id(hq, "INT_5"), i=inp)["message"]
    assert api.ranges(hq) == before


def test_range_names_are_unique_per_interface_not_per_site(api):
    hq = api.site_id("HQ")
    inp = {"name": "Printers", "subnet": "10.5.9.0/24", "rangeType": "Direct"}
    api.ok(ADD_RANGE, a=A, l=api.interface_id(hq, "Servers"), i=inp)


def test_ranges_only_go_on_lan_interfaces(api):
    hq = api.site_id("HQ")
    servers = api.interface_id(hq, "Servers")
    api.ok(UPDATE_IFACE, a=A, s=hq, p="INT_6", i={"destType": "INTERFACE_DISABLED"})
    assert "Lab" not in api.ranges(hq)  # the port's ranges went with its LAN role
    err = api.err(ADD_RANGE, a=A, l=servers, i={"name": "x", "subnet": "10.5.0.0/24", "rangeType": "Direct"})
    assert (
        err["message"]
        == f"Network interface {servers} is not a LAN interface; ranges belong to LAN interfaces"
    )


def test_update_range_may_keep_or_shrink_its_own_subnet_but_not_overlap_others(api):
    ranges = api.ranges(api.site_id("HQ"))
    rid = ranges["Printers"]["networkRangeId"]
    api.ok(UPDATE_RANGE, a=A, r=rid, i={"subnet": "10.0.1.0/24"})
    api.ok(UPDATE_RANGE, a=A, r=rid, i={"subnet": "10.0.1.0/25"})
    err = api.err(UPDATE_RANGE, a=A, r=rid, i={"subnet": "10.0.2.0/24"})
    assert "overlaps network range 'HQ \\ INT_5 \\ Voice'" in err["message"]
    err = api.err(UPDATE_RANGE, a=A, r=rid, i={"rangeType": "Native", "localIp": "10.0.1.1"})
    assert "native range" in err["message"]


def test_native_range_cannot_be_removed(api):
    native = api.ranges(api.site_id("Paris"))["Native Range"]["networkRangeId"]
    assert "A native range can't be removed" in api.err(REMOVE_RANGE, a=A, r=native)["message"]


def test_a_range_in_use_by_static_hosts_cannot_be_removed_or_moved_away(api):
    rid = api.ranges(api.site_id("HQ"))["Printers"]["networkRangeId"]
    assert (
        "Static host 'printer-1' (10.0.1.10) would be outside" in api.err(REMOVE_RANGE, a=A, r=rid)["message"]
    )
    assert "would be outside" in api.err(UPDATE_RANGE, a=A, r=rid, i={"subnet": "10.0.3.0/24"})["message"]


# -- static hosts ----------------------------------------------------------------------------------
def host_item(api: Api, host_id: str) -> dict:
    return api.lookup("host", ids=[host_id])["items"][0]


def test_static_host_crud_round_trip_with_audit(api):
    paris = api.site_id("Paris")
    hid = api.ok(
        ADD_HOST, a=A, s=paris, i={"name": "cam", "ip": "10.1.0.30", "macAddress": "AA:BB:CC:00:11:22"}
    )
    hid = hid["site"]["addStaticHost"]["hostId"]
    h = host_item(api, hid)
    assert h["entity"] == {"id": hid, "name": "cam", "type": "host"}
    assert h["helperFields"] == {
        "ip": "10.1.0.30",
        "macAddress": "AA:BB:CC:00:11:22",
        "siteId": paris,
        "siteName": "Paris",
        "interfaceName": "LAN1",
    }
    api.ok(UPDATE_HOST, a=A, h=hid, i={"ip": "10.1.0.31", "name": "camera"})
    h = host_item(api, hid)
    assert h["entity"]["name"] == "camera" and h["helperFields"]["ip"] == "10.1.0.31"
    assert h["helperFields"]["macAddress"] == "AA:BB:CC:00:11:22"
    assert api.ok(REMOVE_HOST, a=A, h=hid)["site"]["removeStaticHost"] == {"hostId": hid}
    assert api.lookup("host", ids=[hid])["total"] == 0
    created, modified = record(api, hid, "CREATED"), record(api, hid, "MODIFIED")
    assert (
        created["object"] == {"id": hid, "name": "cam", "type": "host"}
        and created["fieldsMap"]["model_type"] == "StaticHost"
    )
    assert not [k for k in modified["fieldsMap"] if k.startswith(("change_Before_", "change_After_"))]
    assert record(api, hid, "DELETED")["object"]["name"] == "camera"


@pytest.mark.parametrize(
    ("inp", "message"),
    [
        (
            {"name": "far", "ip": "172.16.0.5"},
            "IP 172.16.0.5 is not inside any network range of site 'Paris'",
        ),
        ({"name": "nas", "ip": "10.1.0.21"}, "Static host name 'nas' is already in use on site 'Paris'"),
        ({"name": "twin", "ip": "10.1.0.20"}, "IP 10.1.0.20 is already reserved for another host"),
        ({"name": "bad", "ip": "10.1.0.300"}, "Invalid ip '10.1.0.300'"),
        ({"name": "mac", "ip": "10.1.0.22", "macAddress": "00:11:22"}, "Invalid macAddress '00:11:22'"),
    ],
)
def test_static_host_rejections(api, inp, message):
    assert message in api.err(ADD_HOST, a=A, s=api.site_id("Paris"), i=inp)["message"]


def test_host_in_another_sites_range_is_refused(api):
    err = api.err(ADD_HOST, a=A, s=api.site_id("Paris"), i={"name": "x", "ip": "10.0.0.50"})
    assert "not inside any network range of site 'Paris'" in err["message"]


# -- socket interfaces -----------------------------------------------------------------------------
def ports(api: Api, site_id: str) -> dict[str, dict]:
    return {p["id"]: p for p in snapshot_site(api, site_id)["info"]["interfaces"]}


def test_update_socket_interface_configures_a_lan_port_and_back_to_default(api):
    hq = api.site_id("HQ")
    lan = {"destType": "LAN", "name": "IoT", "lan": {"subnet": "10.6.0.0/24", "localIp": "10.6.0.1"}}
    out = api.ok(UPDATE_IFACE, a=A, s=hq, p="INT_7", i=lan)["site"]["updateSocketInterface"]
    assert out == {"siteId": hq, "socketInterfaceId": "INT_7"}
    assert ports(api, hq)["7"]["name"] == "IoT" and ports(api, hq)["7"]["destType"] == "LAN"
    iface = api.lookup("networkInterface", search="iot")["items"][0]
    assert iface["entity"]["name"] == "HQ \\ IoT"
    # Like a real tenant: a numeric interfaceId and no localIp (TF resource_lan_interface.go).
    assert iface["helperFields"] == {
        "siteId": hq,
        "siteName": "HQ",
        "interfaceId": "7",
        "interfaceName": "IoT",
        "subnet": "10.6.0.0/24",
        "destType": "LAN",
        "isDefault": False,
        "vrrpType": None,
    }
    native = api.lookup("siteRange", parent={"type": "networkInterface", "id": iface["entity"]["id"]})[
        "items"
    ]
    assert [(r["entity"]["name"], r["helperFields"]["subnet"]) for r in native] == [
        ("HQ \\ IoT \\ Native Range", "10.6.0.0/24")
    ]
    # Re-addressing the port moves its native range.
    api.ok(
        UPDATE_IFACE, a=A, s=hq, p="INT_7", i=lan | {"lan": {"subnet": "10.6.1.0/24", "localIp": "10.6.1.1"}}
    )
    assert api.lookup("networkInterface", search="iot")["items"][0]["helperFields"]["subnet"] == "10.6.1.0/24"
    # Back to its default: disabled, its range gone, its subnet free.
    api.ok(UPDATE_IFACE, a=A, s=hq, p="INT_7", i={"destType": "INTERFACE_DISABLED"})
    assert "7" not in ports(api, hq)
    assert api.lookup("networkInterface", search="iot")["total"] == 0
    assert all(
        i["helperFields"]["subnet"] != "10.6.1.0/24" for i in api.lookup("siteRange", limit=0)["items"]
    )
    rec = [r for r in api.audit() if r["object"]["type"] == "networkInterface"][-1]
    assert rec["object"]["name"] == "HQ \\ INT_7" and rec["fieldsMap"]["model_type"] == "SocketInterface"
    assert not [k for k in rec["fieldsMap"] if k.startswith(("change_Before_", "change_After_"))]


def test_update_socket_interface_wan_settings_and_reset(api):
    hq = api.site_id("HQ")
    wan = {
        "destType": "CATO",
        "name": "Fiber",
        "bandwidth": {"upstreamBandwidth": 500, "downstreamBandwidth": 1000},
        "wan": {"role": "wan_3", "precedence": "PASSIVE"},
    }
    api.ok(UPDATE_IFACE, a=A, s=hq, p="INT_2", i=wan)
    p = ports(api, hq)["2"]
    assert (p["name"], p["upstreamBandwidth"], p["downstreamBandwidth"], p["wanRole"]) == (
        "Fiber",
        500,
        1000,
        "wan_3",
    )
    # The input is the port's whole configuration: what it leaves out returns to the default.
    api.ok(UPDATE_IFACE, a=A, s=hq, p="INT_2", i={"destType": "CATO"})
    assert ports(api, hq)["2"] == {
        "id": "2",
        "name": "INT_2",
        "destType": "CATO",
        "upstreamBandwidth": 10,
        "downstreamBandwidth": 10,
        "wanRole": "wan_2",
    }


@pytest.mark.parametrize(
    ("port", "inp", "message"),
    [
        ("INT_9", {"destType": "LAN"}, "INT_9 is not a port of a SOCKET_X1600 Socket"),
        ("LTE", {"destType": "CATO"}, "LTE is not a port of a SOCKET_X1600 Socket"),
        ("WAN1", {"destType": "CATO"}, "WAN1 is not a port of a SOCKET_X1600 Socket"),
        ("INT_7", {"destType": "LAN"}, "needs lan {subnet, localIp}"),
        ("INT_5", {"destType": "INTERFACE_DISABLED"}, "INT_5 holds the site's native range"),
        (
            "INT_7",
            {"destType": "CATO", "name": "Servers"},
            "Network interface name 'Servers' is already in use",
        ),
        ("INT_7", {"destType": "LAN", "lan": {"subnet": "10.0.1.0/24", "localIp": "10.0.1.1"}}, "overlaps"),
    ],
)
def test_update_socket_interface_rejections(api, port, inp, message):
    hq = api.site_id("HQ")
    before = ports(api, hq)
    assert message in api.err(UPDATE_IFACE, a=A, s=hq, p=port, i=inp)["message"]
    assert ports(api, hq) == before


def test_disabling_a_lan_port_with_hosts_on_it_is_refused(api):
    hq = api.site_id("HQ")
    api.ok(ADD_HOST, a=A, s=hq, i={"name": "db", "ip": "10.5.8.20"})
    err = api.err(UPDATE_IFACE, a=A, s=hq, p="INT_6", i={"destType": "INTERFACE_DISABLED"})
    assert "Static host 'db' (10.5.8.20) would be outside" in err["message"]


# -- BGP peers --------------------------------------------------------------------------------------
def test_bgp_peer_crud_round_trip_with_audit(api):
    paris = api.site_id("Paris")
    inp = {
        "site": {"by": "NAME", "input": "Paris"},
        "name": "edge",
        "peerIp": "10.1.0.2",
        "peerAsn": 4200000000,
        "catoAsn": 65010,
        "defaultAction": "DROP",
        "summaryRoute": [{"route": "10.1.0.0/16", "community": [{"from": 1, "to": 2}]}],
        "tracking": {"enabled": True, "subscriptionId": "77"},
        "defaultActionExclusion": [{"bgpRouteExactFilterRule": {"networkSubnet": ["192.168.0.0/16"]}}],
    }
    peer = api.ok(ADD_BGP, a=A, i=inp)["site"]["addBgpPeer"]["bgpPeer"]
    assert peer["site"] == {"id": paris, "name": "Paris"} and peer["catoIp"] == "10.1.0.1"
    assert (peer["holdTime"], peer["keepaliveInterval"], peer["metric"], peer["advertiseDefaultRoute"]) == (
        60,
        20,
        100,
        True,
    )
    assert peer["summaryRoute"][0]["id"] and peer["summaryRoute"][0]["community"] == [{"from": 1, "to": 2}]
    assert peer["tracking"]["id"] and peer["tracking"]["alertFrequency"] == "HOURLY"
    rule = peer["defaultActionExclusion"][0]["bgpRouteExactFilterRule"]
    assert rule["id"] and rule["networkSubnet"] == ["192.168.0.0/16"] and rule["globalIpRange"] == []
    assert api.ok(BGP_PEER, a=A, r={"by": "NAME", "input": "edge"})["site"]["bgpPeer"] == peer
    updated = api.ok(UPDATE_BGP, a=A, i={"id": peer["id"], "holdTime": 90, "name": "edge-1"})["site"][
        "updateBgpPeer"
    ]["bgpPeer"]
    assert updated["holdTime"] == 90 and updated["name"] == "edge-1" and updated["peerAsn"] == 4200000000
    listing = api.ok(BGP_LIST, a=A, site={"by": "ID", "input": paris})["site"]["bgpPeerList"]
    assert listing["total"] == 1 and listing["bgpPeer"] == [updated]
    removed = api.ok(REMOVE_BGP, a=A, i={"id": peer["id"]})["site"]["removeBgpPeer"]["bgpPeer"]
    assert removed == updated
    assert api.ok(BGP_LIST, a=A, site={"by": "ID", "input": paris})["site"]["bgpPeerList"]["total"] == 0
    created = record(api, peer["id"], "CREATED")
    assert created["fieldsMap"]["model_type"] == "BgpPeer" and created["object"]["name"] == "edge"
    fm = record(api, peer["id"], "MODIFIED")["fieldsMap"]
    assert fm["module"] == "configuration" and not [
        k for k in fm if k.startswith(("change_Before_", "change_After_"))
    ]
    assert record(api, peer["id"], "DELETED")["object"]["name"] == "edge-1"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": "core"}, "BGP peer name 'core' is already in use on site 'HQ'"),
        ({"keepaliveInterval": 60}, "keepaliveInterval must be shorter than holdTime"),
        ({"catoAsn": 70000}, "catoAsn 70000 is not a 16-bit ASN"),
        ({"peerIp": "10.0.0.256"}, "Invalid peerIp"),
        (
            {
                "defaultActionExclusion": [
                    {"bgpRouteExactFilterRule": {"globalIpRange": [{"by": "NAME", "input": "corp"}]}}
                ]
            },
            "Global IP range corp not found",
        ),
    ],
)
def test_bgp_peer_rejections(api, change, message):
    inp = {
        "site": {"by": "NAME", "input": "HQ"},
        "name": "second",
        "peerIp": "10.0.0.3",
        "peerAsn": 65002,
        "catoAsn": 65000,
        "defaultAction": "ACCEPT",
    } | change
    assert message in api.err(ADD_BGP, a=A, i=inp)["message"]


# -- atomicity, seeding -----------------------------------------------------------------------------
def test_a_failed_mutation_document_changes_nothing(api):
    doc = """mutation($a: ID!, $ok: AddSocketSiteInput!, $dup: AddSocketSiteInput!) { site(accountId: $a) {
      first: addSocketSite(input: $ok) { siteId } second: addSocketSite(input: $dup) { siteId } } }"""
    audit_before = len(api.audit())
    body = api(doc, a=A, ok=site_input("Lisbon", "10.40.0.0/24"), dup=site_input("HQ", "10.41.0.0/24"))
    assert body["errors"][0]["message"] == "Site name 'HQ' is already in use"
    assert "Lisbon" not in {s["info"]["name"] for s in api.ok(SNAPSHOT, a=A)["accountSnapshot"]["sites"]}
    assert api.lookup("siteRange", search="lisbon")["total"] == 0
    assert len(api.audit()) == audit_before
    api.ok(ADD_SITE, a=A, i=site_input("Lisbon", "10.40.0.0/24"))  # its name and subnet are still free


def test_seeding_writes_no_audit_and_accepts_explicit_ids(emulator_factory):
    sites = [
        {
            "id": "7001",
            "name": "Fixed",
            "country_code": "DE",
            "timezone": "Europe/Berlin",
            "native_range": "10.70.0.0/24",
            "ranges": [
                {
                    "id": "UzcwMDE=",
                    "name": "r",
                    "subnet": "10.70.1.0/24",
                    "range_type": "Routed",
                    "gateway": "10.70.0.9",
                }
            ],
            "hosts": [{"id": "7100", "name": "h", "ip": "10.70.1.5"}],
        }
    ]
    emu = emulator_factory(fixture(sites), rate_limits=RateLimitConfig(enabled=False))
    api = Api(emu.url)
    assert api.site_id("Fixed") == "7001" and api.ranges("7001")["r"]["networkRangeId"] == "UzcwMDE="
    assert api.lookup("host")["items"][0]["entity"]["id"] == "7100"
    assert api.audit() == []
    new = api.ok(ADD_SITE, a=A, i=site_input("Next", "10.71.0.0/24"))["site"]["addSocketSite"]["siteId"]
    assert int(new) > 7001  # assigned ids move past explicit ones


@pytest.mark.parametrize(
    ("site", "message"),
    [
        (
            {"native_range": "10.0.0.0/24", "ranges": [{"name": "r", "subnet": "10.0.0.128/25"}]},
            "overlaps network range",
        ),
        ({"native_range": "10.0.0.0/24", "country_code": "ZZ"}, "Unknown country code 'ZZ'"),
        (
            {"native_range": "10.0.0.0/24", "hosts": [{"name": "h", "ip": "1.2.3.4"}]},
            "not inside any network range",
        ),
        ({"native_range": "10.0.0.0/24", "type": "CASTLE"}, "CASTLE"),
        (
            {
                "native_range": "10.0.0.0/24",
                "ranges": [{"name": "r", "subnet": "10.9.0.0/24", "interface": "INT_9"}],
            },
            "no interface 'INT_9'",
        ),
    ],
)
def test_invalid_fixture_is_refused_by_the_seed_endpoint(emu, site, message):
    bad = {"name": "Bad", "country_code": "DE", "timezone": "Europe/Berlin"} | site
    with EmulatorControl(emu.base_url) as ctl, pytest.raises(RuntimeError) as e:
        ctl.seed({"accounts": [{"id": "3003", "name": "Other", "sites": [bad]}]})
    assert "HTTP 400" in str(e.value) and message in str(e.value) and "Bad" in str(e.value)


def test_seeding_200_sites_with_2000_ranges_keeps_every_range(emulator_factory):
    sites = []
    for i in range(200):
        base = f"10.{i // 64}.{(i % 64) * 4}"
        sites.append(
            {
                "name": f"site-{i:03d}",
                "country_code": "US",
                "timezone": "America/New_York",
                "native_range": f"{base}.0/24",
                "ranges": [
                    {
                        "name": f"r{j}",
                        "subnet": f"172.{16 + i // 32}.{(i % 32) * 8 + j // 4}.{(j % 4) * 64}/26",
                    }
                    for j in range(10)
                ],
                "hosts": [{"name": "gw", "ip": f"{base}.10"}],
            }
        )
    emu = emulator_factory(fixture(sites), rate_limits=RateLimitConfig(enabled=False))
    api = Api(emu.url)
    assert api.lookup("siteRange", limit=1)["total"] == 2200


@pytest.mark.parametrize(
    ("location", "message"),
    [
        (
            {"countryCode": "FR", "timezone": "Europe/Paris", "city": "Atlantis"},
            "'Atlantis' is not a city of FR",
        ),
        (
            {"countryCode": "US", "stateCode": "US-NY", "timezone": "America/New_York", "city": "San Diego"},
            "'San Diego' is not a city of US-NY",
        ),
    ],
)
def test_a_site_city_must_belong_to_its_country_and_us_state(api, location, message):
    # SDL AddSiteLocationInput.city: "must belong to the country or country and state".
    err = api.err(ADD_SITE, a=A, i=site_input("Nowhere", "10.30.0.0/24") | {"siteLocation": location})
    assert message in err["message"]
    ok = {"countryCode": "BR", "timezone": "America/Sao_Paulo", "city": "São Paulo"}
    api.ok(ADD_SITE, a=A, i=site_input("Somewhere", "10.31.0.0/24") | {"siteLocation": ok})
    err = api.err(UPDATE_SITE, a=A, s=api.site_id("Paris"), i={"siteLocation": {"cityName": "Gotham"}})
    assert "'Gotham' is not a city of FR" in err["message"]
