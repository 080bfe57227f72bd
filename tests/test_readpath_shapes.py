"""The read path against answers a real tenant gives, served over real HTTP by a small GraphQL stand-in
(the emulator answers in one shape; a tenant may answer in either, and may page untidily).

- entityLookup(siteRange) on a real tenant: the local IP of a non-routed range in ``gateway`` (TF
  resource_lan_interface.go: "for LAN interfaces, localIp is the same as gateway"), an unset
  ``translatedSubnet`` equal to the subnet, ``vlanTag``/``dhcpRange`` and range types such as
  ``ROUTED_ROUTE`` (cato-cli export_sites.py before v3.0.66), the port by ``interfaceName`` only.
- entityLookup(networkInterface): ``interfaceId`` ``"5"`` for INT_5, no ``localIp`` (TF).
- Paging (cato-cli moved to pages of 50, stopping on a short page): ``total`` may be absent or
  stale, and a server may return fewer items than asked.
"""

from __future__ import annotations

import json
from typing import Any

from http_helpers import serve_asgi
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from catoiac.client import CatoClient
from catoiac.config import ClientConfig
from catoiac.readpath import PAGE, AccountReader
from catoiac.resources import Engine
from catoiac.resources.specs import SPECS
from catoiac.session import Session


def item(eid: str, name: str, helper: dict[str, Any]) -> dict[str, Any]:
    return {"entity": {"id": eid, "name": name, "type": "x"}, "description": "", "helperFields": helper}


SITE = {"id": "100", "info": {"name": "HQ", "type": "BRANCH", "connType": "SOCKET_X1600", "countryCode": "US",
        "interfaces": [{"id": "5", "name": "LAN", "destType": "LAN"}, {"id": "6", "name": "Servers",
                                                                         "destType": "LAN"}]}}  # fmt: skip
TENANT = {  # what a real tenant answers, in its own shape
    "siteRange": [
        item("N1", "HQ \\ LAN \\ Native Range", {"siteId": 100, "interfaceName": "LAN", "subnet": "10.0.0.0/24",
             "rangeType": "NATIVE", "gateway": "10.0.0.1", "translatedSubnet": "10.0.0.0/24", "vlanTag": None}),
        item("S1", "HQ \\ LAN \\ Voice", {"siteId": 100, "interfaceName": "LAN", "subnet": "10.0.2.0/24",
             "rangeType": "VLAN", "gateway": "10.0.2.1", "translatedSubnet": "10.0.2.0/24", "vlanTag": 20,
             "dhcpType": "DHCP_RANGE", "dhcpRange": "10.0.2.100-10.0.2.150"}),
        item("S2", "HQ \\ LAN \\ Printers", {"siteId": 100, "interfaceName": "LAN", "subnet": "10.0.1.0/24",
             "rangeType": "ROUTED_ROUTE", "gateway": "10.0.0.254", "translatedSubnet": "172.16.1.0/24"}),
        item("N2", "HQ \\ Servers \\ Native Range", {"siteId": 100, "interfaceName": "Servers",
             "subnet": "10.5.0.0/24", "rangeType": "NATIVE", "gateway": "10.5.0.1", "translatedSubnet": "10.5.0.0/24"}),
    ],
    "networkInterface": [
        item("900", "HQ \\ LAN", {"siteId": "100", "interfaceId": "5", "interfaceName": "LAN", "subnet": "10.0.0.0/24",
             "destType": "LAN", "isDefault": True}),
        item("901", "HQ \\ Servers", {"siteId": "100", "interfaceId": 6, "interfaceName": "Servers",
             "subnet": "10.5.0.0/24", "destType": "LAN", "isDefault": False}),
    ],
    "site": [item("100", "HQ", {"connType": "SOCKET_X1600", "countryCode": "US", "timezone": "America/New_York"})],
    "host": [],
}  # fmt: skip


def tenant_app(data: dict[str, list], calls: list[dict], page_cap: int | None = None, total=lambda n: n):
    """A GraphQL endpoint answering entityLookup from ``data`` and ReadSites with SITE."""

    async def graphql(request: Request) -> JSONResponse:
        body = json.loads(await request.body())
        v = body.get("variables") or {}
        calls.append(v)
        if "entityLookup" in body["query"]:
            items = data.get(v["type"], [])
            size = min(v["limit"], page_cap or v["limit"])
            page = items[v["from"] : v["from"] + size]
            return JSONResponse({"data": {"entityLookup": {"items": page, "total": total(len(items))}}})
        return JSONResponse({"data": {"accountSnapshot": {"id": "1", "sites": [SITE]}}})

    return Starlette(routes=[Route("/", graphql, methods=["POST"])])


def reader(url: str) -> AccountReader:
    return Session(CatoClient(ClientConfig(api_key="k", account_id="1", base_url=url + "/"))).reader


def test_a_real_tenants_range_and_port_shapes_read_as_exact_inputs():
    calls: list[dict] = []
    with serve_asgi(tenant_app(TENANT, calls)) as url:
        r = reader(url)
        ranges = r.get("ranges")
        assert (ranges["S1"]["local_ip"], ranges["S1"]["gateway"], ranges["S1"]["vlan"]) == (
            "10.0.2.1",
            None,
            20,
        )
        assert (
            ranges["S1"]["translated_subnet"] is None
            and ranges["S1"]["dhcp"]["ip_range"] == "10.0.2.100-10.0.2.150"
        )
        assert (ranges["S2"]["range_type"], ranges["S2"]["gateway"], ranges["S2"]["local_ip"]) == (
            "Routed", "10.0.0.254", None)  # fmt: skip
        assert ranges["S2"]["translated_subnet"] == "172.16.1.0/24"
        ports = r.get("interfaces")
        assert (ports["900"]["interface_id"], ports["901"]["interface_id"]) == ("INT_5", "INT_6")
        assert {rid: p["id"] for rid, p in r.get("range_ports").items()} == {
            "N1": "900", "S1": "900", "S2": "900", "N2": "901"}  # fmt: skip
        view = r
        session = Session(r.client)
        session.reader = r
        # NetworkRange: the VLAN range reads back as the program wrote it, on the site's native port.
        nr = Engine(SPECS["NetworkRange"], lambda: session)
        desired = {"site_id": "100", "name": "Voice", "subnet": "10.0.2.0/24", "range_type": "VLAN", "vlan": 20,
                   "local_ip": "10.0.2.1", "dhcp": {"type": "DHCP_RANGE", "ip_range": "10.0.2.100-10.0.2.150"}}  # fmt: skip
        inputs, failures = nr.check({}, desired)
        assert not failures
        live = nr.live_inputs(session, "S1", inputs)
        assert not nr.diff(inputs, live).changes, (inputs, live)
        # SocketInterface: the Servers port's local IP comes from its native range's gateway.
        si = Engine(SPECS["SocketInterface"], lambda: session)
        port = {"site_id": "100", "interface_id": "INT_6", "dest_type": "LAN", "name": "Servers",
                "subnet": "10.5.0.0/24", "local_ip": "10.5.0.1"}  # fmt: skip
        inputs, _ = si.check({}, port)
        live = si.live_inputs(session, "100:INT_6", inputs)
        assert not si.diff(inputs, live).changes, (inputs, live)
        # SocketSite: the native range is the isDefault port's, not the other LAN port's.
        assert view.get("native_ranges")["100"]["subnet"] == "10.0.0.0/24"


def test_paging_goes_on_when_a_server_caps_pages_and_stops_on_a_short_page_without_total():
    many = {
        "host": [
            item(str(i), f"h{i}", {"siteId": "100", "ip": f"10.0.{i // 250}.{i % 250}"}) for i in range(130)
        ]
    }
    # The server returns at most 50 a page whatever is asked (cato-cli's page size), total is right.
    calls: list[dict] = []
    with serve_asgi(tenant_app(many, calls, page_cap=50)) as url:
        assert len(reader(url).get("hosts")) == 130
    assert [c["from"] for c in calls] == [0, 50, 100] and {c["limit"] for c in calls} == {PAGE}
    # No total at all: a full page means more, a short page ends it.
    calls.clear()
    with serve_asgi(tenant_app(many, calls, total=lambda n: None)) as url:
        assert len(reader(url).get("hosts")) == 130
    assert [c["from"] for c in calls] == [0]  # 130 < PAGE: one short page, nothing more asked
    # A stale total (0) does not stop a reader that got a full page.
    calls.clear()
    big = {"host": [item(str(i), f"h{i}", {"siteId": "100"}) for i in range(PAGE + 100)]}
    with serve_asgi(tenant_app(big, calls, total=lambda n: 0)) as url:
        assert len(reader(url).get("hosts")) == PAGE + 100
    assert [c["from"] for c in calls] == [0, PAGE]


def test_a_site_city_must_belong_to_its_country_in_check():
    engine = Engine(SPECS["SocketSite"], lambda: (_ for _ in ()).throw(AssertionError("no API in check")))
    site = {
        "name": "s",
        "native_range": "10.0.0.0/24",
        "location": {"country_code": "PT", "timezone": "Europe/Lisbon"},
    }
    _, found = engine.check({}, {**site, "location": {**site["location"], "city": "Springfield"}})
    assert [(f.property, "not a city of PT" in f.reason) for f in found] == [("location.city", True)]
    _, found = engine.check({}, {**site, "location": {**site["location"], "city": "Lisbon"}})
    assert found == []
    us = {"country_code": "US", "state_code": "US-NY", "timezone": "America/New_York", "city": "San Diego"}
    _, found = engine.check({}, {**site, "location": us})
    assert [f.property for f in found] == ["location.city"]
