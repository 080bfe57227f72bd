"""The emulator's monitoring APIs over HTTP: accountSnapshot connectivity, accountMetrics,
socketPortMetrics(TimeSeries), eventsFeed and xdr.stories, and the operator endpoints that take sites
and links down, add packet loss and inject events and stories. Effects follow the configuration: a
WAN port disabled by a mutation stops reporting from that moment on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from emu_helpers import ACCOUNT, OTHER_ACCOUNT, base_fixture
from sites_support import UPDATE_IFACE, Api

from catoiac.emulator.control import EmulatorControl
from catoiac.emulator.limits import RateLimitConfig

SNAPSHOT = """query($a: ID!) { accountSnapshot(accountID: $a) { timestamp sites { id connectivityStatus
  operationalStatus lastConnected connectedSince haStatus { readiness }
  degradedStatus { isDegraded degradedDetails { reason args { ... on DegradedStatusSocketArgs { portName } } } }
  devices { connected lastConnected interfaces { id name connected } interfacesLinkState { id up hasTunnel } }
  info { interfaces { id name destType } } } } }"""
METRICS = """query($a: ID!, $tf: TimeFrame!, $b: Int, $miss: Boolean, $sites: [ID!]) {
  accountMetrics(accountID: $a, timeFrame: $tf) { from to sites(siteIDs: $sites) { id name
    metrics { rtt lostUpstreamPcnt bytesTotal }
    interfaces { name interfaceInfo { id name } metrics { rtt lostUpstreamPcnt bytesUpstream }
      timeseries(buckets: $b, labels: [rtt, lostUpstreamPcnt, jitterUpstream, bytesUpstream]) {
        label units sum info data(withMissingData: $miss) } } } } }"""
EVENTS = """query($a: ID!, $m: String, $f: [EventFeedFieldFilterInput!]) {
  eventsFeed(accountIDs: [$a], marker: $m, filters: $f) { marker fetchedCount
    accounts { id records { time fieldsMap } } } }"""
STORIES = """query($a: ID!, $tf: TimeFrame!, $st: [StoryStatusEnum!], $from: Int!, $limit: Int!) {
  xdr(accountID: $a) { stories(input: { filter: [{ timeFrame: { time: $tf }, status: { in: $st } }],
    paging: { from: $from, limit: $limit }, sort: [{ fieldName: createdAt, order: asc }] }) {
    paging { from limit total }
    items { id createdAt summary incident { __typename producer indication criticality status source
      site { id name } ... on NetworkXDRIncident { linkName } } } } } }"""
PORTS = """query($a: ID!, $tf: TimeFrame!, $f: [SocketPortMetricsFilter!]) {
  socketPortMetrics(accountID: $a, timeFrame: $tf, filters: $f,
    dimensions: [{ fieldName: site_name }, { fieldName: socket_interface }],
    measures: [{ aggType: sum, fieldName: bytes_total }, { aggType: avg, fieldName: throughput_upstream }],
    sort: [{ fieldName: bytes_total, order: desc }]) { total totals records { fieldsMap } } }"""
PORT_SERIES = """query($a: ID!, $tf: TimeFrame!) {
  socketPortMetricsTimeSeries(accountID: $a, timeFrame: $tf,
    dimensions: [{ fieldName: site_name }, { fieldName: socket_interface }],
    measures: [{ aggType: avg, fieldName: throughput_downstream }]) {
    timeseries(buckets: 4) { label key { measureFieldName dimensions { fieldName value } }
      data(withMissingData: true) } } }"""

LISBON = {
    "name": "Lisbon",
    "country_code": "PT",
    "timezone": "Europe/Lisbon",
    "connection_type": "SOCKET_X1500",  # WAN1, WAN2 and a USB1 modem (catoiac/ports.py)
    "native_range": "10.40.0.0/24",
    "interfaces": [
        {"id": "USB1", "dest_type": "CATO", "name": "LTE", "role": "wan_3", "upstream_bandwidth": 50,
         "downstream_bandwidth": 50},
    ],
}  # fmt: skip
PORTO = {"name": "Porto", "country_code": "PT", "timezone": "Europe/Lisbon", "native_range": "10.41.0.0/24"}


def fixture(**monitoring) -> dict:
    fx = base_fixture()
    fx["accounts"][0]["sites"] = [LISBON, PORTO]
    if monitoring:
        fx["accounts"][0]["monitoring"] = monitoring
    return fx


def utc_frame(start: datetime, end: datetime) -> str:
    f = "%Y-%m-%d/%H:%M:%S"
    return f"utc.{{{start.strftime(f)}--{end.strftime(f)}}}"


def parse(t: str) -> datetime:
    return datetime.fromisoformat(t.replace("Z", "+00:00"))


@pytest.fixture
def world(emulator_factory):
    """An emulator with two sites and an hour of history (the clock moved on after seeding)."""
    emu = emulator_factory(fixture(), rate_limits=RateLimitConfig(enabled=False))
    ctl = EmulatorControl(emu.base_url)
    ctl.advance_clock(3600)
    with Api(emu.url) as api:
        yield emu, ctl, api
    ctl.close()


def snapshot(api: Api) -> dict[str, dict]:
    data = api.ok(SNAPSHOT, a=ACCOUNT)["accountSnapshot"]
    return {s["id"]: s | {"_now": data["timestamp"]} for s in data["sites"]}


def _ids(api: Api) -> dict[str, str]:
    body = api.ok(
        "query($a: ID!) { accountSnapshot(accountID: $a) { sites { id info { name } } } }", a=ACCOUNT
    )
    return {s["info"]["name"]: s["id"] for s in body["accountSnapshot"]["sites"]}


def links(api: Api, site: str, frame: str, buckets: int = 6, miss: bool = True) -> dict[str, dict]:
    sites = api.ok(METRICS, a=ACCOUNT, tf=frame, b=buckets, miss=miss, sites=[site])["accountMetrics"][
        "sites"
    ]
    assert [s["id"] for s in sites] == [site]
    return {
        i["name"]: i | {"series": {t["label"]: t for t in i["timeseries"]}} for i in sites[0]["interfaces"]
    }


def values(link: dict, label: str) -> list[float]:
    return [v for _, v in link["series"][label]["data"]]


# -- accountSnapshot ----------------------------------------------------------------------------------------
def test_snapshot_shows_a_link_down_as_degraded_and_the_site_down_as_disconnected_since_then(world):
    emu, ctl, api = world
    ids = _ids(api)
    lisbon = ids["Lisbon"]
    before = snapshot(api)[lisbon]
    assert before["connectivityStatus"] == "connected" and before["degradedStatus"]["isDegraded"] is False
    assert {i["name"]: i["connected"] for i in before["devices"][0]["interfaces"]} == {
        "WAN1": True, "WAN2": True, "LTE": True}  # fmt: skip

    link = ctl.take_down(ACCOUNT, "Lisbon", "WAN1", reason="fiber cut")
    s = snapshot(api)[lisbon]
    assert s["connectivityStatus"] == "connected"  # two links left
    assert {i["name"]: i["connected"] for i in s["devices"][0]["interfaces"]}["WAN1"] is False
    assert {x["id"]: x["hasTunnel"] for x in s["devices"][0]["interfacesLinkState"]}["WAN1"] is False
    assert s["degradedStatus"]["isDegraded"] is True
    assert [(d["reason"], d["args"]["portName"]) for d in s["degradedStatus"]["degradedDetails"]] == [
        ("WAN_TUNNEL_DISCONNECTED", "WAN1")
    ]
    assert snapshot(api)[ids["Porto"]]["connectivityStatus"] == "connected"  # other sites untouched

    ctl.advance_clock(30)
    site = ctl.take_down(ACCOUNT, lisbon)  # by id, the whole site
    s = snapshot(api)[lisbon]
    assert s["connectivityStatus"] == "disconnected" and s["devices"][0]["connected"] is False
    assert s["lastConnected"] == site["start"]  # when its last links went down
    assert s["operationalStatus"] == "active"  # an outage is not an admin state

    ctl.advance_clock(60)
    back = ctl.restore(ACCOUNT, site["id"])
    ctl.restore(ACCOUNT, link["id"])
    s = snapshot(api)[lisbon]
    assert s["connectivityStatus"] == "connected" and s["degradedStatus"]["isDegraded"] is False
    assert s["connectedSince"] == back["end"]  # connected again since the restore


def test_snapshot_disconnects_a_site_whose_config_disables_its_last_wan_link(world):
    emu, ctl, api = world
    porto = _ids(api)["Porto"]
    # WAN2 off, then WAN1 turned into a LAN: no tunnel is left.
    api.ok(UPDATE_IFACE, a=ACCOUNT, s=porto, p="WAN2", i={"destType": "INTERFACE_DISABLED"})
    ctl.advance_clock(5)
    api.ok(UPDATE_IFACE, a=ACCOUNT, s=porto, p="WAN1",
           i={"destType": "LAN", "lan": {"subnet": "10.99.0.0/24", "localIp": "10.99.0.1"}})  # fmt: skip
    s = snapshot(api)[porto]
    assert s["connectivityStatus"] == "disconnected"
    assert parse(s["lastConnected"]) <= parse(s["_now"])


def test_snapshot_shows_an_ha_pair_and_an_operational_status_the_operator_set(world):
    emu, ctl, api = world
    porto = _ids(api)["Porto"]
    ha = ctl.set_ha(ACCOUNT, "Porto", readiness="not_ready", keepalive="fail")
    locked = ctl.set_operational_status(ACCOUNT, "Lisbon", "locked")
    body = api.ok(
        """query($a: ID!) { accountSnapshot(accountID: $a) { sites { id operationalStatus
             haStatus { readiness keepalive wanConnectivity socketVersion } info { isHA sockets { isPrimary } }
             devices { haRole connected socketInfo { isPrimary } } } } }""",
        a=ACCOUNT,
    )
    sites = {s["id"]: s for s in body["accountSnapshot"]["sites"]}
    s = sites[porto]
    assert s["info"]["isHA"] is True and [x["isPrimary"] for x in s["info"]["sockets"]] == [True, False]
    assert s["haStatus"] == {"readiness": "not_ready", "keepalive": "fail", "wanConnectivity": "ok",
                             "socketVersion": "ok"}  # fmt: skip
    assert [(d["haRole"], d["connected"]) for d in s["devices"]] == [("PRIMARY", True), ("SECONDARY", False)]
    assert sites[_ids(api)["Lisbon"]]["operationalStatus"] == "locked"
    ctl.restore(ACCOUNT, ha["id"])
    ctl.restore(ACCOUNT, locked["id"])
    s = snapshot(api)[porto]
    assert s["haStatus"] is None and len(s["devices"]) == 1
    assert snapshot(api)[_ids(api)["Lisbon"]]["operationalStatus"] == "active"


# -- accountMetrics -----------------------------------------------------------------------------------------
def test_metrics_are_deterministic_for_a_fixed_time_frame(world):
    emu, ctl, api = world
    lisbon = _ids(api)["Lisbon"]
    now = parse(snapshot(api)[lisbon]["_now"])
    frame = utc_frame(now - timedelta(minutes=40), now - timedelta(minutes=10))
    first = links(api, lisbon, frame)
    ctl.advance_clock(120)
    assert links(api, lisbon, frame) == first  # same state, same window: same numbers
    assert set(first) == {"WAN1", "WAN2", "LTE"}
    for link in first.values():
        rtt = values(link, "rtt")
        assert all(5 < v < 80 for v in rtt) and len(set(rtt)) > 1  # plausible, with some noise
        assert all(0 <= v < 1 for v in values(link, "lostUpstreamPcnt"))
        assert link["series"]["bytesUpstream"]["units"] == "bytes" and link["series"]["rtt"]["units"] == "ms"


def test_a_link_down_has_no_data_from_then_on_and_the_baseline_before_keeps_its_data(world):
    emu, ctl, api = world
    lisbon = _ids(api)["Lisbon"]
    ctl.take_down(ACCOUNT, "Lisbon", "LTE")
    ctl.advance_clock(30 * 60)
    last_hour = links(api, lisbon, "last.PT1H", buckets=6)
    lte = values(last_hour["LTE"], "bytesUpstream")
    assert all(v > 0 for v in lte[:3]) and lte[3:] == [-1.0, -1.0, -1.0]  # missing, not zero traffic
    assert all(v > 0 for v in values(last_hour["WAN1"], "bytesUpstream"))
    without_flag = links(api, lisbon, "last.PT1H", buckets=6, miss=False)
    assert values(without_flag["LTE"], "bytesUpstream")[3:] == [0.0, 0.0, 0.0]  # the schema's default


def test_impairment_adds_packet_loss_latency_and_jitter_to_the_buckets_it_covers(world):
    emu, ctl, api = world
    lisbon = _ids(api)["Lisbon"]
    cond = ctl.impair(ACCOUNT, "Lisbon", "WAN1", loss_pct=12, latency_ms=80, jitter_ms=15)
    ctl.advance_clock(20 * 60)
    ctl.restore(ACCOUNT, cond["id"])
    ctl.advance_clock(20 * 60)
    wan1 = links(api, lisbon, "last.PT1H", buckets=6)["WAN1"]
    loss, rtt, jitter = values(wan1, "lostUpstreamPcnt"), values(wan1, "rtt"), values(wan1, "jitterUpstream")
    # buckets of 10 min: [healthy, healthy, impaired, impaired, healthy, healthy]
    assert max(loss[:2] + loss[4:]) < 1 and min(loss[2:4]) > 11
    assert min(rtt[2:4]) > max(rtt[:2] + rtt[4:]) + 50
    assert min(jitter[2:4]) > max(jitter[:2] + jitter[4:]) + 10


def test_a_wan_port_disabled_by_config_leaves_the_metrics_from_that_moment(world):
    emu, ctl, api = world
    lisbon = _ids(api)["Lisbon"]
    api.ok(UPDATE_IFACE, a=ACCOUNT, s=lisbon, p="USB1", i={"destType": "INTERFACE_DISABLED"})
    ctl.advance_clock(30 * 60)
    last_hour = links(api, lisbon, "last.PT1H", buckets=6)
    # USB1 was a link for half the window (disabled, it is named after its slot again)
    assert set(last_hour) == {"WAN1", "WAN2", "USB1"}
    assert last_hour["USB1"]["interfaceInfo"]["id"] == "USB1"
    lte = values(last_hour["USB1"], "bytesUpstream")
    assert all(v > 0 for v in lte[:3]) and lte[3:] == [-1.0] * 3
    assert set(links(api, lisbon, "last.PT20M")) == {"WAN1", "WAN2"}  # gone from windows after it
    names = [i["name"] for i in snapshot(api)[lisbon]["devices"][0]["interfaces"]]
    assert names == ["WAN1", "WAN2"]


def test_account_metrics_refuse_more_than_100000_items_as_cato_does(emulator_factory):
    fx = base_fixture()
    fx["accounts"][0]["sites"] = [
        {"name": f"s{i}", "country_code": "PT", "timezone": "Europe/Lisbon", "native_range": f"10.{i}.0.0/24"}
        for i in range(30)
    ]
    emu = emulator_factory(fx, rate_limits=RateLimitConfig(enabled=False))
    with Api(emu.url) as api:
        err = api.err(METRICS, a=ACCOUNT, tf="last.PT1H", b=900, miss=True, sites=None)  # 30 x 4 x 900
        assert "100,000 items" in err["message"] and "108,000" in err["message"]
        assert api.ok(METRICS, a=ACCOUNT, tf="last.PT1H", b=800, miss=True, sites=None)  # 96,000


# -- socketPortMetrics --------------------------------------------------------------------------------------
def test_socket_port_metrics_group_filter_and_sort_every_active_port(world):
    emu, ctl, api = world
    data = api.ok(PORTS, a=ACCOUNT, tf="last.PT30M", f=[{"fieldName": "site_name", "operator": "is",
                                                          "values": ["Lisbon"]}])["socketPortMetrics"]  # fmt: skip
    rows = [r["fieldsMap"] for r in data["records"]]
    assert {r["socket_interface"] for r in rows} == {"WAN1", "WAN2", "USB1", "LAN1"}
    assert {r["site_name"] for r in rows} == {"Lisbon"} and data["total"] == 4
    assert [r["bytes_total"] for r in rows] == sorted((r["bytes_total"] for r in rows), reverse=True)
    assert all(r["throughput_upstream"] > 0 for r in rows)
    assert data["totals"]["bytes_total"] == pytest.approx(sum(r["bytes_total"] for r in rows), rel=1e-6)

    ctl.take_down(ACCOUNT, "Lisbon", "WAN1")
    ctl.advance_clock(20 * 60)
    series = api.ok(PORT_SERIES, a=ACCOUNT, tf="last.PT40M")["socketPortMetricsTimeSeries"]["timeseries"]
    wan1 = next(
        t
        for t in series
        if t["key"]["dimensions"]
        == [{"fieldName": "site_name", "value": "Lisbon"}, {"fieldName": "socket_interface", "value": "WAN1"}]
    )
    assert wan1["label"] == "avg(throughput_downstream)"
    assert [v > 0 for _, v in wan1["data"]] == [True, True, False, False]
    assert [v for _, v in wan1["data"]][2:] == [-1.0, -1.0]


# -- eventsFeed ---------------------------------------------------------------------------------------------
def records(body: dict) -> list[dict]:
    return body["eventsFeed"]["accounts"][0]["records"]


def test_events_feed_emits_disconnected_after_two_and_a_half_minutes_and_connected_when_back(world):
    emu, ctl, api = world
    start = api.ok(EVENTS, a=ACCOUNT)["eventsFeed"]
    assert start["fetchedCount"] == 0
    cond = ctl.take_down(ACCOUNT, "Lisbon", "WAN1", reason="fiber cut")
    ctl.advance_clock(140)
    assert api.ok(EVENTS, a=ACCOUNT, m=start["marker"])["eventsFeed"]["fetchedCount"] == 0  # not yet
    ctl.advance_clock(20)
    body = api.ok(EVENTS, a=ACCOUNT, m=start["marker"])
    [down] = records(body)
    fm = down["fieldsMap"]
    assert (fm["event_type"], fm["event_sub_type"], fm["socket_interface"], fm["src_site_name"]) == (
        "Connectivity", "Disconnected", "WAN1", "Lisbon")  # fmt: skip
    assert down["time"] == cond["start"] and fm["event_message"] == "fiber cut"

    marker = body["eventsFeed"]["marker"]
    ctl.restore(ACCOUNT, cond["id"])
    ctl.advance_clock(31)
    [up] = records(api.ok(EVENTS, a=ACCOUNT, m=marker))
    assert up["fieldsMap"]["event_sub_type"] == "Connected"
    # The same marker again gives the same page; the new marker gives nothing new.
    again = api.ok(EVENTS, a=ACCOUNT, m=marker)
    assert records(again) == [up]
    assert api.ok(EVENTS, a=ACCOUNT, m=again["eventsFeed"]["marker"])["eventsFeed"]["fetchedCount"] == 0


def test_a_link_back_within_two_and_a_half_minutes_gives_one_reconnected_event(world):
    emu, ctl, api = world
    cond = ctl.take_down(ACCOUNT, "Lisbon", "WAN2")
    ctl.advance_clock(60)
    ctl.restore(ACCOUNT, cond["id"])
    ctl.advance_clock(300)
    subs = [r["fieldsMap"]["event_sub_type"] for r in records(api.ok(EVENTS, a=ACCOUNT))]
    assert subs == ["Reconnected"]


def test_a_wan_port_disabled_by_config_emits_its_disconnected_event(world):
    emu, ctl, api = world
    lisbon = _ids(api)["Lisbon"]
    api.ok(UPDATE_IFACE, a=ACCOUNT, s=lisbon, p="USB1", i={"destType": "INTERFACE_DISABLED"})
    ctl.advance_clock(151)
    [event] = records(api.ok(EVENTS, a=ACCOUNT))
    assert event["fieldsMap"]["event_sub_type"] == "Disconnected"
    assert event["fieldsMap"]["socket_interface"] == "LTE"
    assert "configuration" in event["fieldsMap"]["event_message"]


def test_events_feed_pages_by_3000_filters_by_type_and_keeps_seven_days(emulator_factory):
    injected = [{"event_type": "Security", "event_sub_type": "Internet Firewall", "site": "Porto",
                 "action": "Block", "rule_name": f"r{i}"} for i in range(3001)]  # fmt: skip
    injected.append({"event_type": "Connectivity", "event_sub_type": "Failover", "site": "Lisbon"})
    emu = emulator_factory(fixture(events=injected), rate_limits=RateLimitConfig(enabled=False))
    ctl = EmulatorControl(emu.base_url)
    with Api(emu.url) as api:
        first = api.ok(EVENTS, a=ACCOUNT)
        assert first["eventsFeed"]["fetchedCount"] == 3000
        rest = api.ok(EVENTS, a=ACCOUNT, m=first["eventsFeed"]["marker"])
        assert rest["eventsFeed"]["fetchedCount"] == 2
        names = [r["fieldsMap"].get("rule_name") for r in records(first) + records(rest)]
        assert names[:3001] == [f"r{i}" for i in range(3001)]  # queue order, nothing twice
        end = api.ok(EVENTS, a=ACCOUNT, m=rest["eventsFeed"]["marker"])["eventsFeed"]
        assert end["fetchedCount"] == 0 and end["marker"] == rest["eventsFeed"]["marker"]

        only = [{"fieldName": "event_type", "operator": "is", "values": ["Connectivity"]}]
        [failover] = records(api.ok(EVENTS, a=ACCOUNT, f=only))
        assert failover["fieldsMap"]["event_sub_type"] == "Failover"

        err = api.err(EVENTS, a=ACCOUNT, m="bm90LWEtbWFya2Vy")
        assert "not a marker this feed returned" in err["message"]

        ctl.advance_clock(8 * 86400)  # Cato keeps the feed for seven days
        assert api.ok(EVENTS, a=ACCOUNT)["eventsFeed"]["fetchedCount"] == 0
    ctl.close()


def test_events_feed_and_account_metrics_have_their_own_rate_limits(emulator_factory):
    emu = emulator_factory(fixture(), rate_limits=RateLimitConfig(limits={"default": 120, "eventsFeed": 2,
                                                                          "accountMetrics": 1}))  # fmt: skip
    with Api(emu.url) as api:
        api.ok(EVENTS, a=ACCOUNT)
        api.ok(EVENTS, a=ACCOUNT)
        assert api.err(EVENTS, a=ACCOUNT)["message"].startswith("rate limit for operation: eventsFeed")
        api.ok(METRICS, a=ACCOUNT, tf="last.PT1H", b=2, miss=True, sites=None)
        assert api.err(METRICS, a=ACCOUNT, tf="last.PT1H", b=2, miss=True, sites=None)["message"].startswith(
            "rate limit for operation: accountMetrics")  # fmt: skip
        api.ok(SNAPSHOT, a=ACCOUNT)  # other operations keep their own counters


# -- stories ------------------------------------------------------------------------------------------------
def test_stories_filter_by_creation_window_and_status_and_page(world):
    emu, ctl, api = world
    old = ctl.inject_story(ACCOUNT, site="Porto", indication="Site disconnected", criticality=4)
    ctl.advance_clock(3600)
    new = [ctl.inject_story(ACCOUNT, site="Lisbon", link="WAN1", criticality=8) for _ in range(3)]
    closed = ctl.inject_story(ACCOUNT, site="Lisbon", producer="ThreatPrevention", status="Closed")
    data = api.ok(STORIES, a=ACCOUNT, tf="last.PT30M", st=["Open"], **{"from": 0, "limit": 2})
    page = data["xdr"]["stories"]
    assert page["paging"] == {"from": 0, "limit": 2, "total": 3}
    assert [s["id"] for s in page["items"]] == [s["id"] for s in new[:2]]
    story = page["items"][0]
    assert story["incident"]["__typename"] == "NetworkXDRIncident" and story["incident"]["linkName"] == "WAN1"
    assert story["incident"]["site"]["name"] == "Lisbon" and story["incident"]["criticality"] == 8
    more = api.ok(STORIES, a=ACCOUNT, tf="last.PT30M", st=["Open"], **{"from": 2, "limit": 2})
    assert [s["id"] for s in more["xdr"]["stories"]["items"]] == [new[2]["id"]]
    everything = api.ok(STORIES, a=ACCOUNT, tf="last.P1D", st=["Open", "Closed"], **{"from": 0, "limit": 10})
    assert {s["id"] for s in everything["xdr"]["stories"]["items"]} == {old["id"], closed["id"]} | {
        s["id"] for s in new}  # fmt: skip
    threat = next(s for s in everything["xdr"]["stories"]["items"] if s["id"] == closed["id"])
    assert threat["incident"]["__typename"] == "ThreatPrevention"


# -- operator endpoints ---------------------------------------------------------------------------------------
def test_operator_endpoints_name_what_is_wrong(world):
    emu, ctl, api = world
    http = httpx.Client(base_url=emu.base_url)
    cases = [
        ("down", {"site": "Madrid"}, "no site 'Madrid'"),
        ("down", {"site": "Lisbon", "link": "WAN9"}, "has no port 'WAN9' (ports: WAN1, WAN2, LAN1"),
        ("down", {"site": "Lisbon", "link": "LAN1"}, "is not a WAN link"),
        ("impair", {"site": "Lisbon"}, "impair needs loss_pct"),
        ("impair", {"site": "Lisbon", "loss_pct": 120}, "between 0 and 100"),
        ("restore", {"id": "999"}, "no condition '999'"),
        ("event", {"event_type": "Security"}, "needs event_type"),
        ("event", {"event_type": "Security", "event_sub_type": "x", "not_a_field": 1}, "unknown event field"),
        ("story", {"site": "Lisbon", "producer": "AnomalyStats"}, "NetworkXDR and ThreatPrevention"),
        ("ha", {"site": "Porto", "keepalive": "maybe"}, "keepalive must be one of ok, fail"),
        (
            "status",
            {"site": "Porto", "operational_status": "asleep"},
            "operational_status must be one of active",
        ),
        ("reboot", {}, "unknown monitoring action"),
    ]
    for action, spec, message in cases:
        r = http.post(f"/_emulator/monitoring/{ACCOUNT}/{action}", json=spec)
        assert r.status_code == 400 and message in r.json()["errors"][0]["message"], (action, r.text)
    r = http.post("/_emulator/monitoring/9999/down", json={"site": "Lisbon"})
    assert r.status_code == 400 and "no account 9999" in r.text
    # One account's conditions never reach another's.
    ctl.take_down(ACCOUNT, "Lisbon")
    assert [c["kind"] for c in ctl.conditions(ACCOUNT)] == ["down"] and ctl.conditions(OTHER_ACCOUNT) == []
    http.close()


def test_injected_events_keep_their_time_and_enter_the_queue_now(world):
    emu, ctl, api = world
    marker = api.ok(EVENTS, a=ACCOUNT)["eventsFeed"]["marker"]
    past = (datetime.now(UTC) - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    ctl.inject_event(ACCOUNT, event_type="Security", event_sub_type="WAN Firewall", site="Lisbon",
                     action="Block", rule_id="1234", rule_name="Block guests", time=past)  # fmt: skip
    [e] = records(api.ok(EVENTS, a=ACCOUNT, m=marker))
    assert e["time"] == past and e["fieldsMap"]["rule_id"] == "1234" and e["fieldsMap"]["action"] == "Block"
    assert e["fieldsMap"]["src_site_name"] == "Lisbon"
