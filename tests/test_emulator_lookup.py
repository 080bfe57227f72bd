"""Read paths over real HTTP: entityLookup, devices.list and accountSnapshot."""

from __future__ import annotations

import pytest
from emu_helpers import ACCOUNT, OTHER_ACCOUNT
from sites_support import ADD_HOST, DEVICES, SNAPSHOT, UPDATE_HOST, UPDATE_IFACE, Api, fixture

from catoiac.emulator.limits import RateLimitConfig

A = ACCOUNT
MANY = [
    {
        "name": f"Branch {i:02d}",
        "country_code": "DE" if i % 2 else "FR",
        "timezone": "Europe/Berlin",
        "connection_type": "SOCKET_X1500" if i % 3 else "SOCKET_X1700",
        "native_range": f"10.{100 + i}.0.0/24",
        "hosts": [{"name": f"host-{i:02d}", "ip": f"10.{100 + i}.0.9", "mac": f"00:00:00:00:00:{i:02x}"}],
    }
    for i in range(12)
]


@pytest.fixture
def api(emulator_factory):
    emu = emulator_factory(fixture(), rate_limits=RateLimitConfig(enabled=False))
    with Api(emu.url) as api:
        yield api


@pytest.fixture
def many(emulator_factory):
    emu = emulator_factory(fixture(MANY), rate_limits=RateLimitConfig(enabled=False))
    with Api(emu.url) as api:
        yield api


def names(result: dict) -> list[str]:
    return [i["entity"]["name"] for i in result["items"]]


# -- entityLookup ------------------------------------------------------------------------------------
def test_lookup_pages_with_from_limit_and_total_before_paging(many):
    everything = names(many.lookup("site", limit=0))
    assert len(everything) == 12
    pages = [many.lookup("site", limit=5, **{"from": start}) for start in (0, 5, 10)]
    assert [p["total"] for p in pages] == [12, 12, 12]
    assert [len(p["items"]) for p in pages] == [5, 5, 2]
    assert sum((names(p) for p in pages), []) == everything
    assert many.lookup("site", **{"from": 12})["items"] == []
    assert len(many.lookup("site")["items"]) == 12  # the default limit is 50


def test_lookup_search_is_a_case_insensitive_substring_of_the_name(many):
    found = many.lookup("site", search="BRANCH 1")
    assert names(found) == ["Branch 10", "Branch 11"] and found["total"] == 2
    assert names(many.lookup("host", search="ST-03")) == ["host-03"]


def test_lookup_by_entity_ids_and_sort(many):
    ids = [i["entity"]["id"] for i in many.lookup("site", limit=3)["items"]]
    assert [i["entity"]["id"] for i in many.lookup("site", ids=ids[1:])["items"]] == ids[1:]
    desc = names(many.lookup("site", sort=[{"field": "name", "order": "desc"}], limit=3))
    assert desc == ["Branch 11", "Branch 10", "Branch 09"]
    by_conn = many.lookup("site", sort=[{"field": "connType", "order": "desc"}, {"field": "name"}], limit=0)
    assert [i["helperFields"]["connType"] for i in by_conn["items"]][:4] == ["SOCKET_X1700"] * 4


def test_lookup_site_filters(many):
    de = many.lookup("site", filters=[{"filter": "country", "value": "DE"}], limit=0)
    assert de["total"] == 6 and {i["helperFields"]["countryCode"] for i in de["items"]} == {"DE"}
    x1700 = many.lookup("site", filters=[{"filter": "filterByConnectionType", "value": "SOCKET_X1700"}])
    assert names(x1700) == ["Branch 00", "Branch 03", "Branch 06", "Branch 09"]
    err = many.err(
        'query { entityLookup(accountID: 1001, type: site, filters: [{filter: filterByAltWan, value: "x"}]) { total } }'
    )
    assert "filterByAltWan is not supported" in err["message"]


def test_site_items_carry_their_helper_fields_whatever_is_asked(api):
    hq = api.lookup("site", search="HQ", helperFields=["countryCode"])["items"][0]
    assert hq["entity"] == {"id": api.site_id("HQ"), "name": "HQ", "type": "site"}
    assert hq["description"] == "Head office"
    assert hq["helperFields"] == {
        "type": "HEADQUARTERS",
        "connType": "SOCKET_X1600",
        "description": "Head office",
        "countryCode": "US",
        "countryName": "United States",
        "stateCode": "US-CA",
        "city": "San Diego",
        "address": "1 Harbor Dr",
        "timezone": "America/Los_Angeles",
    }


def test_parent_filter_maps_ranges_and_interfaces_to_their_site(api):
    hq, paris = api.site_id("HQ"), api.site_id("Paris")
    ranges = api.lookup("siteRange", parent={"type": "site", "id": hq}, limit=0)
    assert ranges["total"] == 5
    assert sorted(names(ranges)) == [
        "HQ \\ INT_5 \\ Native Range",
        "HQ \\ INT_5 \\ Printers",
        "HQ \\ INT_5 \\ Voice",
        "HQ \\ Servers \\ Lab",
        "HQ \\ Servers \\ Native Range",
    ]
    voice = next(i for i in ranges["items"] if i["entity"]["name"].endswith("Voice"))
    assert voice["entity"]["type"] == "siteRange"
    # A real tenant's shape: the local IP in gateway, an unset translatedSubnet as the subnet,
    # vlanTag/dhcpRange, Cato's internal range type names (TF resource_lan_interface.go; cato-cli
    # export_sites.py before v3.0.66).
    assert voice["helperFields"] == {
        "siteId": hq,
        "siteName": "HQ",
        "interfaceName": "INT_5",
        "subnet": "10.0.2.0/24",
        "rangeType": "VLAN",
        "vlanTag": 20,
        "gateway": "10.0.2.1",
        "translatedSubnet": "10.0.2.0/24",
        "internetOnly": False,
        "mdnsReflector": False,
        "microsegmentation": False,
        "dhcpType": "DHCP_DISABLED",
        "dhcpRange": None,
        "dhcpRelayGroupId": None,
    }
    types = {i["entity"]["name"]: i["helperFields"] for i in ranges["items"]}
    printers, native = types["HQ \\ INT_5 \\ Printers"], types["HQ \\ INT_5 \\ Native Range"]
    assert printers["rangeType"] == "ROUTED_ROUTE" and printers["gateway"] == "10.0.0.254"
    assert native["rangeType"] == "NATIVE" and native["gateway"] == "10.0.0.1"
    servers = api.lookup(
        "siteRange", parent={"type": "networkInterface", "id": api.interface_id(hq, "Servers")}
    )
    assert names(servers) == ["HQ \\ Servers \\ Native Range", "HQ \\ Servers \\ Lab"]
    ifaces = api.lookup("networkInterface", parent={"type": "site", "id": paris})
    assert [
        (i["entity"]["name"], i["helperFields"]["subnet"], i["helperFields"]["siteId"])
        for i in ifaces["items"]
    ] == [("Paris \\ LAN1", "10.1.0.0/24", paris)]
    hosts = api.lookup("host", parent={"type": "site", "id": paris})
    assert names(hosts) == ["nas"] and hosts["items"][0]["helperFields"]["interfaceName"] == "LAN1"


def test_parent_that_does_not_exist_is_an_error(api):
    err = api.err(
        'query { entityLookup(accountID: 1001, type: siteRange, parent: {id: "4242", type: site}) { total } }'
    )
    assert err["message"] == "Site with id 4242 not found"


def test_host_helper_fields_name_the_lan_the_host_is_on(api):
    item = api.lookup("host", search="printer")["items"][0]
    assert item["helperFields"] == {
        "ip": "10.0.1.10",
        "macAddress": "00:11:22:33:44:55",
        "siteId": api.site_id("HQ"),
        "siteName": "HQ",
        "interfaceName": "INT_5",
    }


def test_admin_country_timezone_and_country_state_lookups(api):
    admins = api.lookup("admin")
    assert admins["items"] == [
        {
            "entity": {"id": "a-alice", "name": "Alice", "type": "admin"},
            "description": "",
            "helperFields": {"email": "alice@example.com"},
        }
    ]
    assert api.lookup("country", search="germ")["items"][0]["entity"] == {
        "id": "DE",
        "name": "Germany",
        "type": "country",
    }
    tz = api.lookup("timezone", search="europe/paris")["items"][0]
    assert tz["entity"]["id"] == "Europe/Paris" and tz["helperFields"]["offset"] == "UTC+01:00"
    states = api.lookup("countryState", search="CA", limit=0)  # Cato's form: a country code
    assert {i["entity"]["id"] for i in states["items"]} == {"CA-ON", "CA-QC", "CA-BC"}


def test_group_lookup_and_unsupported_types(api):
    assert api.lookup("group")["total"] == 0
    err = api.err("query { entityLookup(accountID: 1001, type: vpnUser) { total } }")
    assert "entityLookup of type vpnUser is not supported" in err["message"]


def test_lookup_is_scoped_to_the_callers_account(api):
    err = api.err("query($a: ID!) { entityLookup(accountID: $a, type: site) { total } }", a=OTHER_ACCOUNT)
    assert err["message"] == "permission denied"


# -- devices ---------------------------------------------------------------------------------------
def devices(api: Api, **inp) -> dict:
    return api.ok(DEVICES, a=A, i=inp or None)["devices"]["list"]


def test_devices_list_sockets_and_static_hosts_with_their_mac_and_ip(api):
    listing = devices(api)
    assert listing["paging"]["total"] == 4  # two sockets, two static hosts
    by_name = {d["name"]: d for d in listing["device"]}
    printer = by_name["printer-1"]
    assert printer["ipAddress"] == printer["ip"] == "10.0.1.10"
    assert printer["nic"]["macAddress"] == "00:11:22:33:44:55"
    assert printer["site"] == {"id": api.site_id("HQ"), "name": "HQ"} and printer["isManaged"] is False
    assert printer["network"] == {"networkName": "HQ \\ INT_5 \\ Printers", "subnet": "10.0.1.0/24"}
    assert printer["networkInfo"]["__typename"] == "SiteNetworkSubnetRef"
    assert printer["networkInfo"]["name"] == "HQ \\ INT_5 \\ Printers"
    socket = by_name["HQ Socket"]
    assert socket["ipAddress"] == "10.0.0.1" and socket["isManaged"] is True
    assert socket["hw"] == {"type": "Socket", "model": "X1600", "manufacturer": "Cato Networks"}
    assert socket["originTypes"] == ["CatoNetworks"] and socket["nic"]["macAddress"]


def test_devices_see_a_static_host_change(api):
    host = api.lookup("host", search="nas")["items"][0]["entity"]["id"]
    api.ok(UPDATE_HOST, a=A, h=host, i={"ip": "10.1.0.77", "macAddress": "de:ad:be:ef:00:01"})
    nas = next(d for d in devices(api)["device"] if d["name"] == "nas")
    assert (nas["ipAddress"], nas["nic"]["macAddress"]) == ("10.1.0.77", "de:ad:be:ef:00:01")


def test_devices_paging(many):
    first = devices(many, paging={"from": 0, "limit": 10})
    second = devices(many, paging={"from": 10, "limit": 10})
    assert first["paging"]["total"] == second["paging"]["total"] == 24
    assert len(first["device"]) == 10 and len(second["device"]) == 10
    ids = [
        d["id"]
        for d in first["device"]
        + second["device"]
        + devices(many, paging={"from": 20, "limit": 10})["device"]
    ]
    assert len(set(ids)) == 24 and ids == sorted(ids, reverse=True)  # default sort: id descending


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        ({"ipAddress": [{"eq": "10.103.0.9"}]}, ["host-03"]),
        ({"ip": [{"in": ["10.103.0.9", "10.104.0.9"]}]}, ["host-03", "host-04"]),
        (
            {"ipAddress": [{"within": "10.110.0.0/15"}]},
            ["Branch 10 Socket", "Branch 11 Socket", "host-10", "host-11"],
        ),
        (
            {"ipAddress": [{"between": ["10.101.0.9", "10.102.0.9"]}]},
            ["Branch 02 Socket", "host-01", "host-02"],
        ),
        ({"nic": {"macAddress": [{"eq": "00:00:00:00:00:0A"}]}}, ["host-10"]),
        ({"name": [{"eq": "host-05"}]}, ["host-05"]),
        (
            {
                "name": [{"nin": ["host-05"]}],
                "isManaged": [{"eq": False}],
                "ipAddress": [{"within": "10.100.0.0/14"}],
            },
            ["host-00", "host-01", "host-02", "host-03"],
        ),
        ({"site": [{"eq": {"by": "NAME", "input": "Branch 07"}}]}, ["Branch 07 Socket", "host-07"]),
        (
            {"hw": {"model": [{"eq": "X1700"}]}},
            ["Branch 00 Socket", "Branch 03 Socket", "Branch 06 Socket", "Branch 09 Socket"],
        ),
        ({"originTypes": [{"hasAll": ["CatoNetworks"]}], "name": [{"eq": "host-01"}]}, ["host-01"]),
    ],
)
def test_devices_filters(many, flt, expected):
    found = devices(many, filter=[flt], paging={"from": 0, "limit": 100}, sort={"name": {"direction": "ASC"}})
    assert [d["name"] for d in found["device"]] == expected and found["paging"]["total"] == len(expected)


def test_devices_sort_by_nested_field_and_priority(many):
    found = devices(
        many, sort={"site": {"name": {"direction": "DESC", "priority": 1}}, "name": {"priority": 2}}
    )
    assert [d["name"] for d in found["device"][:2]] == ["Branch 11 Socket", "host-11"]


# -- accountSnapshot ---------------------------------------------------------------------------------
def test_account_snapshot_fills_sites_from_state(api):
    hq = api.site_id("HQ")
    snap = api.ok(SNAPSHOT, a=A)["accountSnapshot"]
    assert snap["id"] == A and snap["timestamp"]
    site = next(s for s in snap["sites"] if s["id"] == hq)
    assert site["connectivityStatus"] == "connected" and site["operationalStatus"] == "active"
    assert site["popName"] == "New York"  # the PoP nearest its timezone
    assert site["hostCount"] == 1 and site["degradedStatus"] == {"isDegraded": False}
    info = site["info"]
    assert {
        k: info[k] for k in ("name", "type", "description", "connType", "countryCode", "countryName")
    } == {
        "name": "HQ",
        "type": "HEADQUARTERS",
        "description": "Head office",
        "connType": "SOCKET_X1600",
        "countryCode": "US",
        "countryName": "United States",
    }
    assert (info["countryStateName"], info["cityName"], info["address"]) == (
        "California",
        "San Diego",
        "1 Harbor Dr",
    )
    ports = {p["name"]: p for p in info["interfaces"]}
    # X1600: WAN links on INT_1/INT_2, the native range on INT_5 (TF InterfaceByConnType).
    assert set(ports) == {"INT_1", "INT_2", "INT_5", "Servers"}
    assert (ports["INT_1"]["upstreamBandwidth"], ports["INT_1"]["downstreamBandwidth"]) == (100, 200)
    assert ports["INT_1"]["id"] == "1" and ports["INT_5"]["destType"] == "LAN"
    assert ports["Servers"] == {
        "id": "6",
        "name": "Servers",
        "destType": "LAN",
        "upstreamBandwidth": None,
        "downstreamBandwidth": None,
        "wanRole": None,
    }
    assert info["sockets"] == [
        {
            "id": hq,
            "serial": f"X1600-{hq}",
            "platform": "X1600",
            "isPrimary": True,
            "version": info["sockets"][0]["version"],
        }
    ]
    (device,) = site["devices"]
    assert device["socketInfo"]["serial"] == f"X1600-{hq}" and device["connected"] is True
    assert device["internalIP"] == "10.0.0.1" and device["type"] == "Socket"
    assert [(i["name"], i["info"]["destType"]) for i in device["interfaces"]] == [
        ("INT_1", "CATO"),
        ("INT_2", "CATO"),
    ]


def test_account_snapshot_filters_by_site_ids_and_follows_changes(api):
    paris = api.site_id("Paris")
    sites = api.ok(SNAPSHOT, a=A, ids=[paris])["accountSnapshot"]["sites"]
    assert [s["info"]["name"] for s in sites] == ["Paris"]
    assert sites[0]["info"]["countryName"] == "France" and sites[0]["popName"] == "Frankfurt"
    api.ok(ADD_HOST, a=A, s=paris, i={"name": "tv", "ip": "10.1.0.40"})
    api.ok(
        UPDATE_IFACE,
        a=A,
        s=paris,
        p="LAN2",
        i={"destType": "LAN", "name": "Guest", "lan": {"subnet": "10.2.0.0/24", "localIp": "10.2.0.1"}},
    )
    site = api.ok(SNAPSHOT, a=A, ids=[paris])["accountSnapshot"]["sites"][0]
    assert site["hostCount"] == 2 and "Guest" in {p["name"] for p in site["info"]["interfaces"]}
    deprecated = api.ok(f"query {{ accountSnapshot(accountID: {A}) {{ sites(ids: [{paris}]) {{ id }} }} }}")
    assert deprecated["accountSnapshot"]["sites"] == [{"id": paris}]
