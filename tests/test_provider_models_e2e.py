"""A site on every Socket model (SiteConnectionTypeEnum), each with a range on its native range's
port and a configured port, round-trips through the real pulumi CLI against the emulator: `up`,
then `preview --expect-no-changes` and `refresh --expect-no-changes`, then `destroy`.

Evidence for the port model (catoiac/ports.py): TF type_socket_site.go InterfaceByConnType and
docs/resources/socket_site.md (native range on LAN1 / INT_5 / INT_3), TF datasource_networkInterfaces.go
(ports per model), cato-cli templates/socket_sites.csv (WAN ports INT_1/INT_2, LTE) and
sites_config/X1600_network_ranges.csv (LAG member), TF lan_interface_lag_member docs.
"""

from __future__ import annotations

import json

import pytest
from emu_helpers import ACCOUNT, KEY

from catoiac.client import CatoClient
from catoiac.config import ClientConfig
from catoiac.emulator.limits import RateLimitConfig
from catoiac.ports import MODELS

pytest_plugins = ("pulumi_helpers",)

PROGRAM = """
import json
import pulumi
import pulumi_cato as cato

desired = json.load(open("desired.json"))
for key, d in desired.items():
    site = cato.SocketSite(key, **d["site"])
    ports = {}
    for n, p in enumerate(d["ports"]):
        after = [ports[x] for x in p.pop("after", [])]
        ports[p["interface_id"]] = cato.SocketInterface(
            f"{key}-port{n}", site_id=site.id, opts=pulumi.ResourceOptions(depends_on=after), **p
        )
    for n, r in enumerate(d["ranges"]):
        port = r.pop("port", None)
        cato.NetworkRange(
            f"{key}-range{n}", site_id=site.id, interface=ports[port].interface_id if port else None, **r
        )
    pulumi.export(key, site.id)
"""


def LAN(port: str, n: int) -> dict:
    return {"interface_id": port, "dest_type": "LAN", "subnet": f"10.{n}.1.0/24", "local_ip": f"10.{n}.1.1"}


def WAN(port: str, role: str) -> dict:
    return {"interface_id": port, "dest_type": "CATO", "upstream_bandwidth": 50, "downstream_bandwidth": 200,
            "role": role, "precedence": "ACTIVE"}  # fmt: skip


PORTS = {
    "SOCKET_X1500": [LAN("LAN2", 0)],
    "SOCKET_X1600": [LAN("INT_6", 1), WAN("INT_2", "wan_2")],
    "SOCKET_X1600_LTE": [
        {**LAN("INT_6", 2), "dest_type": "LAN_LAG_MASTER", "lag_min_links": 1},
        {"interface_id": "INT_7", "dest_type": "LAN_LAG_MEMBER", "after": ["INT_6"]},
        WAN("LTE", "wan_3"),
    ],
    "SOCKET_X1700": [LAN("INT_4", 3)],
    "SOCKET_ESX1500": [WAN("WAN2", "wan_2")],
    "SOCKET_AWS1500": [WAN("WAN1", "wan_1")],
    "SOCKET_AZ1500": [WAN("WAN1", "wan_1")],
    "SOCKET_GCP1500": [WAN("WAN1", "wan_1")],
}


def desired() -> dict:
    out = {}
    for n, model in enumerate(sorted(MODELS)):
        key = model.removeprefix("SOCKET_").lower().replace("_", "-")
        ranges = [{"name": "Printers", "subnet": f"10.{100 + n}.8.0/24", "range_type": "VLAN", "vlan": 40,
                   "local_ip": f"10.{100 + n}.8.1"}]  # fmt: skip
        lan_ports = [p for p in PORTS[model] if p.get("subnet")]
        if lan_ports:  # a range behind the configured LAN port too
            base = lan_ports[0]["subnet"].rsplit(".", 2)[0]
            ranges.append({"name": "Lab", "subnet": f"{base}.9.0/24", "range_type": "Direct",
                           "port": lan_ports[0]["interface_id"]})  # fmt: skip
        out[key] = {
            "site": {
                "name": f"Site {model}",
                "connection_type": model,
                "native_range": f"10.{100 + n}.0.0/24",
                "location": {"country_code": "PT", "timezone": "Europe/Lisbon", "city": "Porto"},
            },
            "ports": [dict(p) for p in PORTS[model]],
            "ranges": ranges,
        }
    return out


@pytest.fixture
def emu(emulator_factory):
    return emulator_factory(rate_limits=RateLimitConfig(enabled=False))


def test_a_site_on_every_socket_model_round_trips_with_no_changes(pulumi_workspace, emu):
    ws = pulumi_workspace
    ws.env_extra["CATOIAC_RATE_LIMIT_SCALE"] = "0.001"
    ws.write_project(PROGRAM)
    ws.use_emulator(emu)
    (ws.project_dir / "desired.json").write_text(json.dumps(desired()))
    ws.run("up", "--yes", "--skip-preview")
    ws.run("preview", "--expect-no-changes")
    ws.run("refresh", "--yes", "--expect-no-changes")
    ws.run("preview", "--expect-no-changes")

    # Each range without an interface is on its model's native port, as Cato keeps it.
    with CatoClient(ClientConfig(api_key=KEY, account_id=ACCOUNT, base_url=emu.url)) as c:
        items = c.execute("EntityLookup", {"type": "siteRange", "limit": 0})["entityLookup"]["items"]
        ports = c.execute("EntityLookup", {"type": "networkInterface", "limit": 0})["entityLookup"]["items"]
    printers = {i["helperFields"]["siteName"]: i["helperFields"]["interfaceName"] for i in items
                if i["entity"]["name"].endswith("Printers")}  # fmt: skip
    assert printers == {f"Site {m}": model.native for m, model in MODELS.items()}
    defaults = {p["helperFields"]["siteName"]: p["helperFields"]["interfaceId"] for p in ports
                if p["helperFields"]["isDefault"]}  # fmt: skip
    assert defaults == {f"Site {m}": model.native.removeprefix("INT_") for m, model in MODELS.items()}

    ws.run("destroy", "--yes")
    with CatoClient(ClientConfig(api_key=KEY, account_id=ACCOUNT, base_url=emu.url)) as c:
        assert c.execute("ReadSites", {})["accountSnapshot"]["sites"] == []
