"""SocketSite and NetworkRange through the real pulumi CLI against the emulator over HTTP."""

from __future__ import annotations

import json

import pytest
from emu_helpers import ACCOUNT, KEY, OTHER_KEY

from catoiac.emulator.control import EmulatorControl
from catoiac.emulator.limits import RateLimitConfig

pytest_plugins = ("pulumi_helpers",)

PROGRAM = """
import json
import pulumi
import pulumi_cato as cato

desired = json.load(open("desired.json"))
opts = lambda key: pulumi.ResourceOptions(import_=desired.get("import", {}).get(key))
site = cato.SocketSite("branch", opts=opts("site"), **desired["site"])
lan = cato.NetworkRange("lan", site_id=site.id, opts=opts("lan"), **desired["range"])
pulumi.export("site_id", site.id)
pulumi.export("range_id", lan.id)
"""

SITE = {
    "name": "Lisbon",
    "native_range": "10.40.0.0/24",
    "description": "branch office",
    "location": {"country_code": "PT", "timezone": "Europe/Lisbon", "city": "Lisbon"},
}
RANGE = {
    "name": "Printers",
    "subnet": "10.40.8.0/24",
    "range_type": "VLAN",
    "vlan": 40,
    "local_ip": "10.40.8.1",
}


@pytest.fixture
def emu(emulator_factory):
    return emulator_factory(rate_limits=RateLimitConfig(enabled=False))


@pytest.fixture
def ws(pulumi_workspace, emu):
    # The emulator's limits are off here; keep the client's pacing from slowing the test.
    pulumi_workspace.env_extra["CATOIAC_RATE_LIMIT_SCALE"] = "0.001"
    pulumi_workspace.write_project(PROGRAM)
    pulumi_workspace.use_emulator(emu)
    return pulumi_workspace


def desire(ws, site=None, rng=None, imports=None):
    body = {"site": site or SITE, "range": rng or RANGE}
    if imports:
        body["import"] = imports
    (ws.project_dir / "desired.json").write_text(json.dumps(body))


def snapshot_site(emu, site_id):
    from catoiac.client import CatoClient
    from catoiac.config import ClientConfig

    with CatoClient(ClientConfig(api_key=KEY, account_id=ACCOUNT, base_url=emu.url)) as c:
        return c.execute("ReadSites", {})["accountSnapshot"]["sites"]


def test_site_and_range_lifecycle_create_noop_update_replace_refresh_import_destroy(ws, emu):
    ctl = EmulatorControl(emu.base_url)
    desire(ws)
    ws.run("up", "--yes", "--skip-preview")
    out = ws.outputs()
    site_id, range_id = out["site_id"], out["range_id"]
    assert [s["info"]["name"] for s in snapshot_site(emu, site_id)] == ["Lisbon"]

    # No perpetual diff.
    ws.run("preview", "--expect-no-changes")

    # Update in place: the ids stay.
    desire(ws, site={**SITE, "description": "moved upstairs"}, rng={**RANGE, "name": "Printers-2"})
    up = ws.run("up", "--yes", "--skip-preview")
    assert "2 updated" in up.stdout, up.stdout
    assert ws.outputs() == {"site_id": site_id, "range_id": range_id}
    ws.run("preview", "--expect-no-changes")

    # Replace: Cato cannot change a site's connection type in place.
    desire(
        ws,
        site={**SITE, "description": "moved upstairs", "connection_type": "SOCKET_X1700"},
        rng={**RANGE, "name": "Printers-2"},
    )
    up = ws.run("up", "--yes", "--skip-preview")
    assert "replaced" in up.stdout, up.stdout
    new = ws.outputs()
    assert new["site_id"] != site_id
    site_id, range_id = new["site_id"], new["range_id"]
    assert [s["info"]["name"] for s in snapshot_site(emu, site_id)] == ["Lisbon"]  # no duplicate
    ws.run("preview", "--expect-no-changes")

    # Out-of-band change by a person in the UI: refresh shows it, preview then wants it back.
    ctl.as_admin(
        ACCOUNT,
        "alice@example.com",
        "mutation($a: ID!, $s: ID!) { site(accountId: $a) { updateSiteGeneralDetails(siteId: $s,"
        ' input: {description: "changed by alice"}) { siteId } } }',
        {"a": ACCOUNT, "s": site_id},
    )
    refresh = ws.run("refresh", "--yes", "--skip-preview")
    assert "1 updated" in refresh.stdout, refresh.stdout
    state_site = next(r for r in ws.resources() if r["urn"].endswith("::branch"))
    assert state_site["outputs"]["description"] == "changed by alice"
    drift = ws.run("preview", "--expect-no-changes", check=False)
    assert drift.returncode != 0
    ws.run("up", "--yes", "--skip-preview")
    ws.run("preview", "--expect-no-changes")

    # Import: forget the resources, adopt them again by id, and see no diff.
    urns = [r["urn"] for r in ws.resources()]  # deleting one does not change the other's URN: one export
    ws.run("state", "delete", next(u for u in urns if u.endswith("::lan")), "--yes")
    ws.run("state", "delete", next(u for u in urns if u.endswith("::branch")), "--yes")
    desire(
        ws,
        site={**SITE, "description": "moved upstairs", "connection_type": "SOCKET_X1700"},
        rng={**RANGE, "name": "Printers-2"},
        imports={"site": site_id, "lan": range_id},
    )
    ws.run("up", "--yes", "--skip-preview")
    # Adopted, not created again: same ids, no duplicates, and no diff afterwards.
    assert ws.outputs() == {"site_id": site_id, "range_id": range_id}
    assert [s["info"]["name"] for s in snapshot_site(emu, site_id)].count("Lisbon") == 1
    ws.run("preview", "--expect-no-changes")

    ws.run("destroy", "--yes", "--skip-preview")
    assert [s for s in snapshot_site(emu, site_id) if s["info"]["name"] == "Lisbon"] == []


def test_range_deleted_out_of_band_refreshes_as_deleted(ws, emu):
    desire(ws)
    ws.run("up", "--yes", "--skip-preview")
    range_id = ws.outputs()["range_id"]
    EmulatorControl(emu.base_url).as_admin(
        ACCOUNT,
        "alice@example.com",
        "mutation($a: ID!, $r: ID!) { site(accountId: $a) { removeNetworkRange(networkRangeId: $r) { networkRangeId } } }",
        {"a": ACCOUNT, "r": range_id},
    )
    refresh = ws.run("refresh", "--yes", "--skip-preview")
    assert "1 deleted" in refresh.stdout, refresh.stdout
    assert not any(r["urn"].endswith("::lan") for r in ws.resources())
    ws.run("destroy", "--yes", "--skip-preview")


def test_bad_inputs_fail_in_check_naming_the_property_and_make_no_api_call(ws, emu):
    ctl = EmulatorControl(emu.base_url)
    ctl.reset_stats()
    desire(
        ws,
        site={
            **SITE,
            "native_range": "10.40.0.1/24",
            "location": {"country_code": "XZ", "timezone": "Europe/Lisbon"},
        },
    )
    res = ws.run("preview", check=False)
    assert res.returncode != 0
    text = res.stdout + res.stderr
    assert "native_range" in text and "no host bits set" in text
    assert "location.country_code" in text and "ISO 3166-1" in text
    assert ctl.stats() == {}


def test_missing_api_key_fails_in_check_with_the_fix_and_no_api_call(pulumi_workspace, emu):
    ws = pulumi_workspace
    ws.env_extra["CATOIAC_RATE_LIMIT_SCALE"] = "0.001"
    ws.write_project(PROGRAM)
    ws.use_emulator(emu, key=None)
    ws.env_extra["CATO_TOKEN"] = ""
    desire(ws)
    ctl = EmulatorControl(emu.base_url)
    ctl.reset_stats()
    res = ws.run("preview", check=False)
    assert res.returncode != 0
    assert "pulumi config set --secret cato:apiKey" in res.stdout + res.stderr
    assert ctl.stats() == {}


def test_api_key_never_appears_in_state_logs_or_errors(ws, emu):
    desire(ws)
    up = ws.run("up", "--yes", "--skip-preview", "--logtostderr", "-v=9")
    export = ws.run("stack", "export").stdout
    # An error path too: another integration's key cannot see our account's objects... use a fault.
    EmulatorControl(emu.base_url).add_fault("fail", operation="updateSiteGeneralDetails", message="boom")
    desire(ws, site={**SITE, "description": "x"})
    failed = ws.run("up", "--yes", "--skip-preview", check=False)
    assert failed.returncode != 0
    for text in (up.stdout, up.stderr, export, failed.stdout, failed.stderr):
        assert KEY not in text
    assert OTHER_KEY not in export
    ws.run("destroy", "--yes", "--skip-preview")
