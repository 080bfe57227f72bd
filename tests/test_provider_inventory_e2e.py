"""StaticHost, SocketInterface, BgpPeer and Group through the real pulumi CLI against the emulator.

One stack carries all four types through their lifecycle (each pulumi command costs seconds):
create, no-op preview, update in place, replace, refresh after another admin's changes, import
by id with no diff, refresh after out-of-band deletion, destroy. The BGP MD5 keys are checked
never to appear in plain text anywhere along the way.
"""

from __future__ import annotations

import json

import pytest
from emu_helpers import ACCOUNT, KEY

from catoiac.client import CatoClient
from catoiac.config import ClientConfig
from catoiac.emulator.control import EmulatorControl
from catoiac.emulator.limits import RateLimitConfig
from catoiac.errors import NotFoundError

pytest_plugins = ("pulumi_helpers",)

PROGRAM = """
import json
import pulumi
import pulumi_cato as cato

d = json.load(open("desired.json"))
imports = d.get("import", {})
opts = lambda key: pulumi.ResourceOptions(import_=imports.get(key))
sites = {k: cato.SocketSite(f"site-{k}", **v) for k, v in d["sites"].items()}

def on_site(body):
    body = dict(body)
    site = sites[body.pop("site")]
    return {**body, "site_id": site.id}

host = cato.StaticHost("host", opts=opts("host"), **on_site(d["host"]))
wan = cato.SocketInterface("wan", opts=opts("wan"), **on_site(d["wan"]))
lan = cato.SocketInterface("lan", opts=opts("lan"), **on_site(d["lan"]))
bgp = cato.BgpPeer("bgp", opts=opts("bgp"), **on_site(d["bgp"]))
members = [{"type": "HOST", "id": host.id}, *d["group"].get("members", [])]
group = cato.Group("group", opts=opts("group"), **{**d["group"], "members": members})
for name, res in {"host": host, "wan": wan, "lan": lan, "bgp": bgp, "group": group}.items():
    pulumi.export(name, res.id)
pulumi.export("md5", bgp.md5_auth_key)
"""

SITES = {
    "porto": {
        "name": "Porto",
        "native_range": "10.61.0.0/24",
        "connection_type": "SOCKET_X1600",
        "location": {"country_code": "PT", "timezone": "Europe/Lisbon"},
    },
    "braga": {
        "name": "Braga",
        "native_range": "10.62.0.0/24",
        "connection_type": "SOCKET_X1600",
        "location": {"country_code": "PT", "timezone": "Europe/Lisbon"},
    },
}
MD5 = "md5-original-Zq81"
MD5_UPDATED = "md5-rotated-Kx42"
MD5_ALICE = "md5-alice-Wv93"

V1 = {
    "sites": SITES,
    "host": {"site": "porto", "name": "printer-1", "ip": "10.61.0.10", "mac_address": "00:1A:2B:3C:4D:5E"},
    "wan": {
        "site": "porto",
        "interface_id": "INT_1",
        "dest_type": "CATO",
        "name": "Fiber",
        "upstream_bandwidth": 100,
        "downstream_bandwidth": 200,
        "role": "wan_1",
    },
    "lan": {
        "site": "porto",
        "interface_id": "INT_6",
        "dest_type": "LAN",
        "name": "Servers",
        "subnet": "10.65.0.0/24",
        "local_ip": "10.65.0.1",
    },
    "bgp": {
        "site": "porto",
        "name": "core-router",
        "peer_ip": "10.61.0.2",
        "peer_asn": 65010,
        "cato_asn": 65000,
        "default_action": "ACCEPT",
        "md5_auth_key": MD5,
        "summary_route": [{"route": "10.61.0.0/16", "community": [{"from": 65000, "to": 10}]}],
    },
    "group": {
        "name": "Printers",
        "description": "every printer",
        "members": [{"type": "SITE", "name": "Porto"}],
    },
}


def edit(base: dict, **changes: dict) -> dict:
    out = json.loads(json.dumps(base))
    for key, fields in changes.items():
        out[key].update(fields)
    return out


# In place: every type changes a field it can change without a new object.
V2 = edit(
    V1,
    host={"mac_address": "00-1a-2b-3c-4d-99", "name": "printer-01"},
    wan={"upstream_bandwidth": 150, "name": "Fiber-A"},
    lan={"name": "Servers-A", "subnet": "10.66.0.0/24", "local_ip": "10.66.0.1"},
    bgp={"hold_time": 90, "keepalive_interval": 30, "md5_auth_key": MD5_UPDATED},
    group={"description": "printers and the site", "members": [{"type": "SITE", "name": "Porto"}]},
)
# Replace: another site or another port is another object.
V3 = edit(
    V2,
    host={"site": "braga", "ip": "10.62.0.10"},
    wan={"interface_id": "INT_2", "role": "wan_2"},
    lan={"interface_id": "INT_7"},
    bgp={"site": "braga", "peer_ip": "10.62.0.2"},
)

UPDATE_HOST = """mutation($a: ID!, $h: ID!) { site(accountId: $a) {
  updateStaticHost(hostId: $h, input: {ip: "10.62.0.77"}) { hostId } } }"""
UPDATE_WAN = """mutation($a: ID!, $s: ID!) { site(accountId: $a) { updateSocketInterface(siteId: $s,
  socketInterfaceId: INT_2, input: {destType: CATO, name: "Fiber-A", bandwidth: {upstreamBandwidth: 40,
  downstreamBandwidth: 200}, wan: {role: wan_2, precedence: ACTIVE}}) { siteId } } }"""
UPDATE_BGP = """mutation($a: ID!, $i: UpdateBgpPeerInput!) { site(accountId: $a) {
  updateBgpPeer(input: $i) { bgpPeer { id } } } }"""
UPDATE_GROUP = """mutation($a: ID!, $g: String!) { groups(accountId: $a) {
  updateGroup(input: {group: {input: $g}, description: "edited by alice"}) { group { id } } } }"""
REMOVE_HOST = (
    """mutation($a: ID!, $h: ID!) { site(accountId: $a) { removeStaticHost(hostId: $h) { hostId } } }"""
)
DISABLE_PORT = """mutation($a: ID!, $s: ID!) { site(accountId: $a) { updateSocketInterface(siteId: $s,
  socketInterfaceId: INT_7, input: {destType: INTERFACE_DISABLED}) { siteId } } }"""
REMOVE_BGP = """mutation($a: ID!, $p: ID!) { site(accountId: $a) { removeBgpPeer(input: {id: $p}) { bgpPeer { id } } } }"""
DELETE_GROUP = """mutation($a: ID!, $g: String!) { groups(accountId: $a) {
  deleteGroup(input: {input: $g}) { group { id } } } }"""
INVENTORY = ("host", "wan", "lan", "bgp", "group")


@pytest.fixture
def emu(emulator_factory):
    return emulator_factory(rate_limits=RateLimitConfig(enabled=False))


@pytest.fixture
def ws(pulumi_workspace, emu):
    pulumi_workspace.write_project(PROGRAM)
    pulumi_workspace.env_extra["CATOIAC_RATE_LIMIT_SCALE"] = "0.001"
    pulumi_workspace.use_emulator(emu)
    return pulumi_workspace


class Recorder:
    """Runs pulumi commands and keeps every word they print, to search for secrets later."""

    def __init__(self, ws) -> None:
        self.ws, self.texts = ws, []

    def __call__(self, *args: str, check: bool = True):
        res = self.ws.run(*args, check=check)
        self.texts += [res.stdout, res.stderr]
        return res

    def export(self) -> list[dict]:
        """The state's resources, as `pulumi stack export` shows them (its text kept with the rest)."""
        return json.loads(self("stack", "export").stdout).get("deployment", {}).get("resources") or []


def desire(ws, body: dict, imports: dict | None = None) -> None:
    (ws.project_dir / "desired.json").write_text(json.dumps({**body, "import": imports or {}}))


def admin(ctl: EmulatorControl, query: str, **variables) -> None:
    body = ctl.as_admin(ACCOUNT, "alice@example.com", query, {"a": ACCOUNT, **variables})
    assert not body.get("errors"), body


def live_peer(emu, peer_id: str, site_id: str) -> dict | None:
    with CatoClient(ClientConfig(api_key=KEY, account_id=ACCOUNT, base_url=emu.url)) as c:
        try:
            peers = c.execute("BgpPeerList", {"site": {"by": "ID", "input": site_id}})["site"]["bgpPeerList"]
        except NotFoundError:  # the site is gone, its peers with it
            return None
    return next((p for p in peers["bgpPeer"] if p["id"] == peer_id), None)


def state_outputs(resources: list[dict], name: str) -> dict:
    return next(r for r in resources if r["urn"].endswith(f"::{name}"))["outputs"]


def test_inventory_lifecycle_create_noop_update_replace_refresh_import_delete_destroy(ws, emu):
    ctl = EmulatorControl(emu.base_url)
    pulumi = Recorder(ws)

    desire(ws, V1)
    pulumi("up", "--yes", "--skip-preview")
    ids = ws.outputs()
    assert ids["wan"].endswith(":INT_1") and ids["lan"].endswith(":INT_6")
    porto = ids["wan"].split(":")[0]
    assert live_peer(emu, ids["bgp"], porto)["md5AuthKey"] == MD5
    pulumi("preview", "--expect-no-changes")

    # Update in place: the ids stay.
    desire(ws, V2)
    up = pulumi("up", "--yes", "--skip-preview")
    assert "5 updated" in up.stdout, up.stdout
    outputs = ws.outputs()  # one `stack output` (each decrypts with the passphrase's PBKDF2)
    assert {k: outputs[k] for k in INVENTORY} == {k: ids[k] for k in INVENTORY}
    assert live_peer(emu, ids["bgp"], porto)["holdTime"] == 90
    pulumi("preview", "--expect-no-changes")
    pulumi.export()

    # Replace: another site or port is another object, and the old one is gone.
    desire(ws, V3)
    up = pulumi("up", "--yes", "--skip-preview")
    assert "4 replaced" in up.stdout, up.stdout
    new = ws.outputs()
    assert new["wan"] == f"{porto}:INT_2" and new["lan"] == f"{porto}:INT_7"
    assert new["host"] != ids["host"] and new["bgp"] != ids["bgp"] and new["group"] == ids["group"]
    assert live_peer(emu, ids["bgp"], porto) is None
    braga = state_outputs(ws.resources(), "bgp")["site_id"]
    assert live_peer(emu, new["bgp"], braga)["md5AuthKey"] == MD5_UPDATED
    pulumi("preview", "--expect-no-changes")

    # Another admin changes every object in the UI: refresh shows it, preview wants it back.
    admin(ctl, UPDATE_HOST, h=new["host"])
    admin(ctl, UPDATE_WAN, s=porto)
    admin(ctl, UPDATE_BGP, i={"id": new["bgp"], "metric": 250, "md5AuthKey": MD5_ALICE})
    admin(ctl, UPDATE_GROUP, g=new["group"])
    refresh = pulumi("refresh", "--yes", "--skip-preview")
    assert "4 updated" in refresh.stdout, refresh.stdout
    state = pulumi.export()  # one export for every check of the refreshed state
    assert state_outputs(state, "host")["ip"] == "10.62.0.77"
    assert state_outputs(state, "wan")["upstream_bandwidth"] == 40
    assert state_outputs(state, "bgp")["metric"] == 250
    assert state_outputs(state, "group")["description"] == "edited by alice"
    assert pulumi("preview", "--expect-no-changes", check=False).returncode != 0
    pulumi("up", "--yes", "--skip-preview")
    assert live_peer(emu, new["bgp"], braga)["md5AuthKey"] == MD5_UPDATED
    pulumi("preview", "--expect-no-changes")

    # Import: forget the resources, adopt them again by id: no write, no diff.
    state = ws.resources()  # the URNs do not change as others are deleted: one export
    for name in ("group", *INVENTORY[:-1]):
        urn = next(r["urn"] for r in state if r["urn"].endswith(f"::{name}"))
        pulumi("state", "delete", urn, "--yes")
    desire(ws, V3, imports={k: new[k] for k in INVENTORY})
    ctl.reset_stats()
    pulumi("up", "--yes", "--skip-preview")
    writes = {
        op for op in ctl.stats() if not op.startswith(("entityLookup", "accountSnapshot", "bgpPeer", "group"))
    }
    assert writes == set(), ctl.stats()
    outputs = ws.outputs()
    assert {k: outputs[k] for k in INVENTORY} == {k: new[k] for k in INVENTORY}
    desire(ws, V3)
    pulumi("preview", "--expect-no-changes")
    state = pulumi.export()
    shown = json.loads(ws.run("stack", "output", "--json").stdout)
    assert shown["md5"] == "[secret]" and state_outputs(state, "bgp")["md5_auth_key"] != MD5_UPDATED

    # Deleted out of band: refresh drops them from the state (a disabled port is a deleted one).
    admin(ctl, DELETE_GROUP, g=new["group"])
    admin(ctl, REMOVE_HOST, h=new["host"])
    admin(ctl, REMOVE_BGP, p=new["bgp"])
    admin(ctl, DISABLE_PORT, s=porto)
    refresh = pulumi("refresh", "--yes", "--skip-preview")
    assert "4 deleted" in refresh.stdout, refresh.stdout
    left = {r["urn"].rsplit("::", 1)[1] for r in pulumi.export()}  # kept for the secret search too
    assert not left & {"host", "lan", "bgp", "group"}, left

    pulumi("destroy", "--yes", "--skip-preview")
    assert live_peer(emu, new["bgp"], braga) is None
    for key in (MD5, MD5_UPDATED, MD5_ALICE):
        assert not [t for t in pulumi.texts if key in t], f"{key} shown in plain text"


SCALE_PROGRAM = """
import pulumi
import pulumi_cato as cato

site = cato.SocketSite("site", name="Faro", native_range="10.80.0.0/24",
                       location={"country_code": "PT", "timezone": "Europe/Lisbon"})
hosts = []
for n in range(40):
    rng = cato.NetworkRange(f"range-{n}", site_id=site.id, name=f"r{n}", subnet=f"10.80.{n + 1}.0/24")
    hosts.append(cato.StaticHost(f"host-{n}", site_id=site.id, name=f"h{n}", ip=f"10.80.{n + 1}.10",
                                 opts=pulumi.ResourceOptions(depends_on=[rng])))
for n in range(3):
    cato.BgpPeer(f"peer-{n}", site_id=site.id, name=f"p{n}", peer_ip=f"10.80.0.{n + 2}", peer_asn=65010 + n,
                 cato_asn=65000, default_action="ACCEPT")
for n in range(2):
    cato.Group(f"group-{n}", name=f"g{n}", members=[{"type": "HOST", "id": h.id} for h in hosts[n::2]])
"""


def test_refresh_of_a_large_inventory_costs_calls_per_collection_and_page_not_per_resource(
    pulumi_workspace, emu
):
    ws = pulumi_workspace
    ws.write_project(SCALE_PROGRAM)
    ws.env_extra["CATOIAC_RATE_LIMIT_SCALE"] = "0.001"
    ws.use_emulator(emu)
    ws.run("up", "--yes", "--skip-preview")
    ctl = EmulatorControl(emu.base_url)
    ctl.reset_stats()
    refresh = ws.run("refresh", "--yes", "--skip-preview")
    assert "87 unchanged" in refresh.stdout  # 86 resources and the stack, refresh.stdout
    # 86 resources: the site (snapshot + site lookup), ranges (range + interface lookups), hosts
    # (one lookup), groups (one page), BGP peers (one list for their one site).
    assert ctl.stats() == {"accountSnapshot": 1, "entityLookup": 4, "groupList": 1, "bgpPeerList": 1}
    ws.run("destroy", "--yes", "--skip-preview")
