"""Lookups for objects a program uses but does not manage (``pulumi_cato.get_site``,
``get_network_range``, ``get_host``, ``get_group``), with the real pulumi CLI against the emulator
over HTTP: real values in preview and up, usable as inputs of managed resources, nothing in the
state, and a clear error with a suggestion for a name the account does not have."""

from __future__ import annotations

import pytest
import yaml
from pulumi_helpers import REPO_ROOT

from catoiac.emulator.control import EmulatorControl
from catoiac.emulator.limits import RateLimitConfig

pytest_plugins = ("pulumi_helpers",)
pytestmark = pytest.mark.slow

SMALL = yaml.safe_load((REPO_ROOT / "examples/fixtures/small.yaml").read_text())
KEY = "emulator-catoiac-key-1001"

PROGRAM = """
import os
import pulumi
import pulumi_cato as cato

hq = cato.get_site(name="HQ")
servers = cato.get_network_range(site="HQ", name="Servers")
guests = cato.get_network_range(site=hq.name.apply(lambda _: "London"), name="Guests")  # an Output argument
printer = cato.get_host(name="printer-1", site="HQ")
offices = cato.get_group(name=os.environ.get("GROUP", "Offices"))
cato.StaticHost("scanner", site_id=hq.id, name="scanner", ip="10.0.0.30")
pulumi.export("hq", {"id": hq.id, "name": hq.name, "connection_type": hq.connection_type})
pulumi.export("servers", {"id": servers.id, "site_id": servers.site_id, "subnet": servers.subnet})
pulumi.export("guests", {"id": guests.id, "vlan": guests.vlan})
pulumi.export("printer", {"id": printer.id, "ip": printer.ip})
pulumi.export("offices", {"id": offices.id, "description": offices.description})
"""


@pytest.fixture
def emu(emulator_factory):
    return emulator_factory(SMALL, rate_limits=RateLimitConfig(enabled=False))


def test_lookups_give_live_values_in_preview_and_up_and_feed_managed_resources(pulumi_workspace, emu):
    ws = pulumi_workspace
    ws.env_extra["CATOIAC_RATE_LIMIT_SCALE"] = "0.001"
    ws.write_project(PROGRAM)
    ws.use_emulator(emu, account="1001", key=KEY)
    with EmulatorControl(emu.base_url) as ctl:
        preview = ws.run("preview", "--diff")
        assert "+ pulumi-python:dynamic/cato:StaticHost: (create)" in preview.stdout, preview.stdout
        assert 'site_id: "100001"' in preview.stdout, preview.stdout  # known at preview: HQ's id
        assert {op for op in ctl.stats()} <= {"accountSnapshot", "entityLookup", "groupList", "policy"}
        ws.run("up", "--yes")
    out = ws.outputs()
    assert out["hq"] == {"id": "100001", "name": "HQ", "connection_type": "SOCKET_X1600"}
    assert out["servers"]["site_id"] == "100001" and out["servers"]["subnet"] == "10.0.10.0/24"
    assert out["guests"]["vlan"] == 50 and out["guests"]["id"]
    assert out["printer"] == {"id": "400001", "ip": "10.0.0.10"}
    assert out["offices"] == {"id": "600001", "description": "All branch offices"}
    # Only the managed host is in the state: a lookup leaves nothing there.
    types = sorted(r["type"] for r in ws.resources() if "dynamic" in r["type"])
    assert types == ["pulumi-python:dynamic/cato:StaticHost"], types

    ws.env_extra["GROUP"] = "Ofices"
    failed = ws.run("preview", check=False)
    assert failed.returncode != 0
    assert (
        "no group is named 'Ofices'" in failed.stdout + failed.stderr
        and "Offices" in failed.stdout + failed.stderr
    )
