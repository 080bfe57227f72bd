"""``catoiac health`` end to end: the real pulumi CLI applies a small program to the emulator (over
HTTP, SQLite state), a second ``up`` changes a WAN port and removes another (its link leaves the
snapshot and its tunnel's Disconnected event follows), the first link then goes down, and
``catoiac health`` (run as a user runs it) exits 2 naming the port change of update #2; with
``--wait`` it exits 0 once the link is back."""

from __future__ import annotations

import json
import shutil
import subprocess
import time

import jsonschema
import pytest
from emu_helpers import ACCOUNT, KEY, shared_derived_cache

from catoiac.emulator.control import EmulatorControl
from catoiac.emulator.limits import RateLimitConfig
from catoiac.health.model import schema

pytest_plugins = ("pulumi_helpers",)
pytestmark = pytest.mark.slow

PROGRAM = """
import pulumi
import pulumi_cato as cato

config = pulumi.Config()
bandwidth = config.get_int("bandwidth") or 100
location = {"country_code": "PT", "timezone": "Europe/Lisbon"}
lisbon = cato.SocketSite("lisbon", name="Lisbon", connection_type="SOCKET_X1500", native_range="10.140.0.0/24",
                         location={**location, "city": "Lisbon"})
cato.SocketInterface("lisbon-wan1", site_id=lisbon.id, interface_id="WAN1", dest_type="CATO", name="Fiber",
                     upstream_bandwidth=bandwidth, downstream_bandwidth=bandwidth, role="wan_1", precedence="ACTIVE")
if config.get_bool("lte") is not False:  # a third WAN link, until update #2 removes it
    cato.SocketInterface("lisbon-lte", site_id=lisbon.id, interface_id="USB1", dest_type="CATO", name="LTE",
                         upstream_bandwidth=50, downstream_bandwidth=50, role="wan_3", precedence="ACTIVE")
cato.SocketSite("porto", name="Porto", native_range="10.141.0.0/24", location=location)
"""
SENTENCE = "after its WAN1 interface was updated by this stack's update #2"


@pytest.fixture
def emu(emulator_factory):
    return emulator_factory(rate_limits=RateLimitConfig(enabled=False))


def health(ws, *args: str, expect: int | None = None) -> subprocess.CompletedProcess:
    exe = shutil.which("catoiac", path=ws.env["PATH"])
    env = {
        **ws.env,
        "CATO_TOKEN": KEY,
        "CATOIAC_RATE_LIMIT_SCALE": "0.01",
        "XDG_CACHE_HOME": str(ws.root / "cache"),
        **shared_derived_cache(),
    }
    res = subprocess.run([exe, "health", "--cwd", str(ws.project_dir), *args], env=env, capture_output=True,
                         text=True, timeout=600)  # fmt: skip
    assert KEY not in res.stdout and KEY not in res.stderr
    if expect is not None:
        assert res.returncode == expect, res.stdout + res.stderr
    return res


def test_health_after_up_names_the_port_change_when_a_link_goes_down_and_waits_for_it_to_return(
    pulumi_workspace, emu
):
    ws = pulumi_workspace
    ws.stack = "main"
    ws.write_project(PROGRAM)
    ws.use_emulator(emu)
    ws.run("up", "--yes", "--skip-preview", "--stack", "main")
    ctl = EmulatorControl(emu.base_url)

    # Right after the first up, everything is healthy.
    healthy = json.loads(health(ws, "--stack", "main", "--format", "json", expect=0).stdout)
    assert {s["name"] for s in healthy["sites"]} == {"Lisbon", "Porto"}

    lisbon = next(s for s in healthy["sites"] if s["name"] == "Lisbon")
    assert {x["name"] for x in lisbon["links"] if x["connected"]} == {"Fiber", "WAN2", "LTE"}

    # Update #2 changes the WAN1 port's bandwidth and removes the LTE port (back to disabled).
    ws.run("config", "set", "bandwidth", "200", "--stack", "main")
    ws.run("config", "set", "lte", "false", "--stack", "main")
    ws.run("up", "--yes", "--skip-preview", "--stack", "main")
    ctl.advance_clock(160)  # Cato emits Disconnected once a tunnel has been down 2.5 minutes
    after = json.loads(health(ws, "--stack", "main", "--format", "json", expect=0).stdout)
    lisbon = next(s for s in after["sites"] if s["name"] == "Lisbon")
    links = {x["id"]: x for x in lisbon["links"]}
    assert links["USB1"]["connected"] is None  # the removed port is no link any more...
    assert links["WAN1"]["connected"] is True and links["WAN2"]["connected"] is True
    [gone] = [e for e in lisbon["events"] if e["link"] == "LTE"]  # ...and its tunnel went down with it
    assert (gone["sub_type"], gone["message"]) == ("Disconnected", "link disabled by configuration")

    # Then the WAN1 link goes down.
    cond = ctl.take_down(ACCOUNT, "Lisbon", "WAN1", reason="fiber cut")

    report = json.loads(health(ws, "--stack", "main", "--format", "json", expect=2).stdout)
    jsonschema.validate(report, schema())
    assert report["status"] == "degraded" and report["exit_code"] == 2
    [finding] = [f for f in report["findings"] if f["severity"] == "degraded"]
    assert finding["kind"] == "link-down" and finding["site"] == "Lisbon" and finding["link"] == "Fiber"
    assert finding["text"].startswith("link Fiber of site Lisbon went down ") and SENTENCE in finding["text"]
    corr = finding["correlation"]
    assert corr["resource"]["type"] == "SocketInterface" and corr["resource"]["name"] == "lisbon-wan1"
    assert corr["resource"]["update"]["number"] == 2 and corr["resource"]["action"] == "updated"
    assert 160 <= corr["seconds_after"] < 900
    assert report["stacks"][0]["last_update"]["number"] == 2
    assert {c["name"] for c in report["changes"]} == {"lisbon-wan1"}  # the removed port is not in the state
    assert {s["name"]: s["status"] for s in report["sites"]} == {"Lisbon": "degraded", "Porto": "healthy"}

    for fmt in ("table", "markdown", "html"):
        out = health(ws, "--stack", "main", "--format", fmt, expect=2).stdout
        assert SENTENCE.replace("'", "&#39;" if fmt == "html" else "'") in out.replace("\n", " ").replace(
            "│", ""
        )

    # Bad input names what exists.
    res = health(ws, "--stack", "mian", expect=1)
    assert "no stack named 'mian'" in res.stderr and "stacks here: main" in res.stderr
    res = health(ws, "--stack", "main", "--site", "Madrid", expect=1)
    assert "--site 'Madrid': no such site managed by the stack(s) (sites: Lisbon, Porto)" in res.stderr

    # --wait: poll until the link is back, then exit 0.
    ctl.reset_stats()
    exe = shutil.which("catoiac", path=ws.env["PATH"])
    env = {
        **ws.env,
        "CATO_TOKEN": KEY,
        "CATOIAC_RATE_LIMIT_SCALE": "0.01",
        "XDG_CACHE_HOME": str(ws.root / "cache"),
        **shared_derived_cache(),
    }
    proc = subprocess.Popen([exe, "health", "--cwd", str(ws.project_dir), "--stack", "main", "--wait", "5m",
                             "--interval", "1s", "--format", "json"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while ctl.stats().get("accountSnapshot", 0) < 2:  # two polls have seen the link down
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "catoiac health never polled"
            time.sleep(0.2)
        ctl.restore(ACCOUNT, cond["id"])
        out, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out + err
    waited = json.loads(out)
    jsonschema.validate(waited, schema())
    assert waited["status"] == "healthy" and waited["polls"]["converged"] is True
    assert waited["polls"]["count"] >= 3
    # Each poll reads each family once (the events feed: a page and the end of the queue at most).
    calls = waited["api_calls"]
    polls = waited["polls"]["count"]
    assert calls["accountSnapshot"] == calls["accountMetrics"] == calls["xdr"] == polls
    assert KEY not in out + err
    ctl.close()
