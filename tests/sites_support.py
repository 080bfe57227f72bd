"""A GraphQL caller, documents and fixtures for the sites, lookup and groups emulator tests."""

from __future__ import annotations

import copy
from typing import Any

import httpx
from emu_helpers import ACCOUNT, KEY, base_fixture

SITE_FIXTURE = [
    {
        "name": "HQ",
        "type": "HEADQUARTERS",
        "connection_type": "SOCKET_X1600",
        "country_code": "US",
        "state_code": "US-CA",
        "city": "San Diego",
        "address": "1 Harbor Dr",
        "timezone": "America/Los_Angeles",
        "description": "Head office",
        "native_range": {"subnet": "10.0.0.0/24", "local_ip": "10.0.0.1"},
        "interfaces": [
            {
                "id": "INT_6",
                "dest_type": "LAN",
                "name": "Servers",
                "subnet": "10.5.0.0/24",
                "local_ip": "10.5.0.1",
            },
            {"id": "INT_1", "dest_type": "CATO", "upstream_bandwidth": 100, "downstream_bandwidth": 200},
        ],
        "ranges": [
            {"name": "Printers", "subnet": "10.0.1.0/24", "range_type": "Routed", "gateway": "10.0.0.254"},
            {
                "name": "Voice",
                "subnet": "10.0.2.0/24",
                "range_type": "VLAN",
                "vlan": 20,
                "local_ip": "10.0.2.1",
            },
            {"name": "Lab", "subnet": "10.5.8.0/24", "interface": "Servers", "range_type": "Direct"},
        ],
        "hosts": [{"name": "printer-1", "ip": "10.0.1.10", "mac": "00:11:22:33:44:55"}],
        "bgp_peers": [{"name": "core", "peer_ip": "10.0.0.2", "peer_asn": 65001, "cato_asn": 65000}],
    },
    {
        "name": "Paris",
        "connection_type": "SOCKET_X1500",
        "country_code": "FR",
        "timezone": "Europe/Paris",
        "native_range": "10.1.0.0/24",
        "hosts": [{"name": "nas", "ip": "10.1.0.20"}],
    },
]


def fixture(sites: list[dict] | None = None, groups: list[dict] | None = None) -> dict:
    fx = base_fixture()
    fx["accounts"][0]["sites"] = copy.deepcopy(SITE_FIXTURE if sites is None else sites)
    fx["accounts"][0]["groups"] = groups or []
    return fx


class Api:
    """POSTs documents to an emulator as the tool's API key (or another)."""

    def __init__(self, url: str, key: str = KEY) -> None:
        self.url = url
        self.http = httpx.Client(headers={"x-api-key": key}, timeout=30)

    def __call__(self, doc: str, **variables: Any) -> dict[str, Any]:
        r = self.http.post(self.url, json={"query": doc, "variables": variables})
        assert r.status_code == 200, r.text
        return r.json()

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Api:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def ok(self, doc: str, **variables: Any) -> dict[str, Any]:
        body = self(doc, **variables)
        assert "errors" not in body, body["errors"]
        return body["data"]

    def err(self, doc: str, **variables: Any) -> dict[str, Any]:
        """The first error of a call that must fail."""
        body = self(doc, **variables)
        assert body.get("errors"), f"expected an error, got {body}"
        return body["errors"][0]

    def lookup(self, type_: str, **args: Any) -> dict[str, Any]:
        return self.ok(LOOKUP, a=ACCOUNT, t=type_, **args)["entityLookup"]

    def site_id(self, name: str) -> str:
        return self.ok(SITE_DETAILS, a=ACCOUNT, ref={"by": "NAME", "input": name})["site"][
            "siteGeneralDetails"
        ]["site"]["id"]

    def ranges(self, site_id: str) -> dict[str, dict]:
        data = self.ok(RANGE_LIST, a=ACCOUNT, site={"by": "ID", "input": site_id})
        return {r["name"]: r for r in data["site"]["networkRangeList"]["items"]}

    def interface_id(self, site_id: str, name: str) -> str:
        items = self.lookup("networkInterface", parent={"type": "site", "id": site_id})["items"]
        return next(i["entity"]["id"] for i in items if i["helperFields"]["interfaceName"] == name)

    def audit(self) -> list[dict[str, Any]]:
        feed = self.ok(FEED, a=[ACCOUNT], tf="last.PT1H")["auditFeed"]
        return feed["accounts"][0]["records"]


def site_input(name: str, subnet: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "nativeNetworkRange": subnet,
        "siteLocation": {"countryCode": "DE", "timezone": "Europe/Berlin", "city": "Berlin"},
    } | extra


ADD_SITE = """mutation($a: ID!, $i: AddSocketSiteInput!) { site(accountId: $a) { addSocketSite(input: $i) { siteId } } }"""
UPDATE_SITE = """mutation($a: ID!, $s: ID!, $i: UpdateSiteGeneralDetailsInput!) {
  site(accountId: $a) { updateSiteGeneralDetails(siteId: $s, input: $i) { siteId } } }"""
REMOVE_SITE = """mutation($a: ID!, $s: ID!) { site(accountId: $a) { removeSite(siteId: $s) { siteId } } }"""
ADD_RANGE = """mutation($a: ID!, $l: ID!, $i: AddNetworkRangeInput!) {
  site(accountId: $a) { addNetworkRange(lanSocketInterfaceId: $l, input: $i) { networkRangeId } } }"""
UPDATE_RANGE = """mutation($a: ID!, $r: ID!, $i: UpdateNetworkRangeInput!) {
  site(accountId: $a) { updateNetworkRange(networkRangeId: $r, input: $i) { networkRangeId } } }"""
REMOVE_RANGE = """mutation($a: ID!, $r: ID!) {
  site(accountId: $a) { removeNetworkRange(networkRangeId: $r) { networkRangeId } } }"""
ADD_HOST = """mutation($a: ID!, $s: ID!, $i: AddStaticHostInput!) {
  site(accountId: $a) { addStaticHost(siteId: $s, input: $i) { hostId } } }"""
UPDATE_HOST = """mutation($a: ID!, $h: ID!, $i: UpdateStaticHostInput!) {
  site(accountId: $a) { updateStaticHost(hostId: $h, input: $i) { hostId } } }"""
REMOVE_HOST = (
    """mutation($a: ID!, $h: ID!) { site(accountId: $a) { removeStaticHost(hostId: $h) { hostId } } }"""
)
UPDATE_IFACE = """mutation($a: ID!, $s: ID!, $p: SocketInterfaceIDEnum!, $i: UpdateSocketInterfaceInput!) {
  site(accountId: $a) { updateSocketInterface(siteId: $s, socketInterfaceId: $p, input: $i) { siteId socketInterfaceId } } }"""
BGP_FIELDS = """id name peerIp peerAsn catoAsn catoIp holdTime keepaliveInterval metric defaultAction
  advertiseDefaultRoute site { id name } summaryRoute { id route community { from to } }
  tracking { id enabled alertFrequency subscriptionId }
  defaultActionExclusion { bgpRouteExactFilterRule { id networkSubnet globalIpRange { id name } } }"""
ADD_BGP = f"""mutation($a: ID!, $i: AddBgpPeerInput!) {{ site(accountId: $a) {{ addBgpPeer(input: $i) {{ bgpPeer {{ {BGP_FIELDS} }} }} }} }}"""
UPDATE_BGP = f"""mutation($a: ID!, $i: UpdateBgpPeerInput!) {{
  site(accountId: $a) {{ updateBgpPeer(input: $i) {{ bgpPeer {{ {BGP_FIELDS} }} }} }} }}"""
REMOVE_BGP = f"""mutation($a: ID!, $i: RemoveBgpPeerInput!) {{
  site(accountId: $a) {{ removeBgpPeer(input: $i) {{ bgpPeer {{ {BGP_FIELDS} }} }} }} }}"""
BGP_LIST = f"""query($a: ID!, $site: SiteRefInput!) {{
  site(accountId: $a) {{ bgpPeerList(input: {{site: $site}}) {{ total bgpPeer {{ {BGP_FIELDS} }} }} }} }}"""
BGP_PEER = f"""query($a: ID!, $r: BgpPeerRefInput!) {{ site(accountId: $a) {{ bgpPeer(input: $r) {{ {BGP_FIELDS} }} }} }}"""
SITE_DETAILS = """query($a: ID!, $ref: SiteRefInput!) { site(accountId: $a) { siteGeneralDetails(site: $ref) {
  site { id name } description siteType
  siteLocation { countryCode stateCode cityName address timezone }
  preferredPopLocation { preferredOnly primary { id name } secondary { id name } } } } }"""
RANGE_FIELDS = """networkRangeId name rangeType subnet localIp gateway vlan translatedSubnet internetOnly mdnsReflector
  dhcpSettings { dhcpType ipRange relayGroupId dhcpMicrosegmentation }"""
RANGE_LIST = f"""query($a: ID!, $site: SiteRefInput!) {{
  site(accountId: $a) {{ networkRangeList(input: {{site: $site}}) {{ total items {{ {RANGE_FIELDS} }} }} }} }}"""
RANGE = f"""query($a: ID!, $r: ID!) {{ site(accountId: $a) {{ networkRange(networkRangeId: $r) {{ {RANGE_FIELDS} }} }} }}"""
LOOKUP = """query($a: ID!, $t: EntityType!, $limit: Int, $from: Int, $parent: EntityInput, $search: String,
  $ids: [ID!], $sort: [SortInput], $filters: [LookupFilterInput], $helperFields: [String!]) {
  entityLookup(accountID: $a, type: $t, limit: $limit, from: $from, parent: $parent, search: $search,
    entityIDs: $ids, sort: $sort, filters: $filters, helperFields: $helperFields) {
    total items { entity { id name type } description helperFields } } }"""
SNAPSHOT = """query($a: ID!, $ids: [ID!]) { accountSnapshot(accountID: $a) { id timestamp sites(siteIDs: $ids) {
  id connectivityStatus operationalStatus lastConnected connectedSince popName hostCount
  degradedStatus { isDegraded }
  info { name type description connType countryCode countryName countryStateName cityName address isHA creationTime
    interfaces { id name destType upstreamBandwidth downstreamBandwidth wanRole }
    sockets { id serial platform isPrimary version } }
  devices { id name identifier type connected internalIP lastPopName
    socketInfo { id serial platform isPrimary }
    interfaces { id name connected popName physicalPort info { id name destType } } } } } }"""
DEVICES = """query($a: ID!, $i: DeviceV2Input) { devices(accountId: $a) { list(input: $i) {
  paging { total }
  device { id name category ipAddress ip isManaged originTypes confidence firstSeen lastSeen
    nic { macAddress vendor } site { id name } hw { type model manufacturer }
    network { networkName subnet } networkInfo { __typename ... on SiteNetworkSubnetRef { id name } } } } } }"""
FEED = """query($a: [ID!], $tf: TimeFrame!) { auditFeed(accountIDs: $a, timeFrame: $tf) {
  accounts { records { time admin { id name } apiKey { id name } object { id name type } fieldsMap } } } }"""
