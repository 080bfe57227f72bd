"""``catoiac drift --state-file``: an exported state instead of a pulumi project, against the emulator
over HTTP. Fast checks of what the pulumi e2e test does not cover: secrets in the state, resources
that cannot be read, the own key given by flag."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import jsonschema
import pytest
from emu_helpers import ACCOUNT, KEY
from sites_support import UPDATE_SITE, fixture

from catoiac.drift.report import schema
from catoiac.emulator.limits import RateLimitConfig

SECRET_ENVELOPE = {
    "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
    "ciphertext": "v1:abc",
}
SITES = [{"name": "HQ", "id": "100001", "country_code": "PT", "timezone": "Europe/Lisbon", "native_range": "10.1.0.0/24",
          "description": "hq"}]  # fmt: skip


def resource(spec: str, name: str, rid: str, inputs: dict) -> dict:
    return {
        "urn": f"urn:pulumi:prod::p::pulumi-python:dynamic/cato:{spec}::{name}",
        "type": f"pulumi-python:dynamic/cato:{spec}",
        "custom": True,
        "id": rid,
        "inputs": {"__provider": SECRET_ENVELOPE, **inputs},
        "outputs": {"__provider": SECRET_ENVELOPE, **inputs, "resource_id": rid},
    }


HQ = {"name": "HQ", "native_range": "10.1.0.0/24", "description": "hq", "site_type": "BRANCH",
      "connection_type": "SOCKET_X1500", "location": {"country_code": "PT", "timezone": "Europe/Lisbon"}}  # fmt: skip


def state(*resources: dict) -> dict:
    return {
        "version": 3,
        "deployment": {
            "manifest": {"time": "2026-01-01T00:00:00Z"},
            "resources": [
                {"urn": "urn:pulumi:prod::p::pulumi:pulumi:Stack::p-prod", "type": "pulumi:pulumi:Stack"},
                *resources,
            ],
        },
    }


@pytest.fixture
def emu(emulator_factory):
    return emulator_factory(fixture(SITES), rate_limits=RateLimitConfig(enabled=False))


def drift(emu, tmp_path: Path, data: dict, *args: str) -> subprocess.CompletedProcess:
    path = tmp_path / "state.json"
    path.write_text(json.dumps(data))
    exe = shutil.which("catoiac", path=str(Path(sys.executable).parent))
    cmd = [exe, "drift", "--state-file", str(path), "--account-id", ACCOUNT, "--endpoint", emu.url,
           "--cache-dir", str(tmp_path / "cache"), "--since", "2020-01-01T00:00:00Z", *args]  # fmt: skip
    res = subprocess.run(
        cmd, env={"PATH": "/usr/bin:/bin", "CATO_TOKEN": KEY}, capture_output=True, text=True
    )
    assert KEY not in res.stdout + res.stderr and "ciphertext" not in res.stdout + res.stderr
    return res


def test_a_matching_state_file_reports_no_drift(emu, tmp_path):
    res = drift(emu, tmp_path, state(resource("SocketSite", "hq", "100001", HQ)), "--format", "json")
    assert res.returncode == 0, res.stdout + res.stderr
    report = json.loads(res.stdout)
    jsonschema.validate(report, schema())
    assert report["stacks"][0]["name"] == "prod" and report["findings"] == []


def test_an_unreadable_resource_makes_the_report_incomplete_and_exit_1(emu, tmp_path):
    bad = resource("WanFirewallPolicy", "wan", "not-a-policy-id", {"sections": [{"name": "S", "rules": []}]})
    bad["outputs"].pop("resource_id")
    res = drift(emu, tmp_path, state(resource("SocketSite", "hq", "100001", HQ), bad), "--format", "json")
    assert res.returncode == 1, res.stdout + res.stderr
    report = json.loads(res.stdout)
    jsonschema.validate(report, schema())
    assert [e["urn"].rsplit("::", 1)[-1] for e in report["errors"]] == ["wan"]


def test_secret_inputs_in_the_state_are_never_compared_nor_shown(emu, tmp_path):
    hq = resource("SocketSite", "hq", "100001", {**HQ, "description": SECRET_ENVELOPE})
    res = drift(emu, tmp_path, state(hq), "--format", "markdown")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "No drift" in res.stdout


def test_the_own_key_flag_labels_that_keys_changes_this_tool(emu, tmp_path):
    body = {
        "query": UPDATE_SITE,
        "variables": {"a": ACCOUNT, "s": "100001", "i": {"description": "by the tool"}},
    }
    httpx.post(emu.url, json=body, headers={"x-api-key": KEY}).raise_for_status()
    res = drift(emu, tmp_path, state(resource("SocketSite", "hq", "100001", HQ)), "--format", "json",
                "--own-key-id", "k-catoiac")  # fmt: skip
    report = json.loads(res.stdout)
    assert res.returncode == 2
    assert report["own_key"]["source"] == "flag"
    assert report["findings"][0]["cause"] == "this-tool"


def test_an_unknown_resource_type_is_listed_as_unchecked(emu, tmp_path):
    res = drift(emu, tmp_path, state(resource("FutureThing", "x", "1", {})), "--format", "json")
    report = json.loads(res.stdout)
    assert report["stacks"][0]["unchecked_types"] == ["cato:FutureThing"]


def _ipsec_site(emu) -> tuple[str, dict]:
    """An IPsec IKEv2 site made through the API: its id and its (non-secret) inputs as a state holds them."""
    from objects_support import engine, ipsec_inputs, session_for

    ipsec = engine(session_for(emu), "IpsecSite")
    inputs, problems = ipsec.check({}, ipsec_inputs())
    assert problems == []
    site_id, _ = ipsec.create(inputs)
    # The state keeps the tunnels (and their keys) secret: drift never decrypts them.
    declared = {k: v for k, v in inputs.items() if k not in ("primary", "secondary")}
    return site_id, {**declared, "primary": SECRET_ENVELOPE, "secondary": SECRET_ENVELOPE}


def test_a_managed_ipsec_site_is_compared_as_an_ipsec_site_and_never_an_unmanaged_socket_site(emu, tmp_path):
    site_id, inputs = _ipsec_site(emu)
    data = state(resource("SocketSite", "hq", "100001", HQ), resource("IpsecSite", "azure", site_id, inputs))
    res = drift(emu, tmp_path, data, "--format", "json")
    assert res.returncode == 0, res.stdout + res.stderr
    report = json.loads(res.stdout)
    assert report["findings"] == [] and report["errors"] == []
    coverage = {c["type"]: (c["managed"], c["total"]) for c in report["coverage"]}
    assert coverage == {"SocketSite": (1, 1), "IpsecSite": (1, 1)}, report["coverage"]


def test_an_unmanaged_ipsec_site_is_reported_as_an_ipsec_site(emu, tmp_path):
    site_id, _ = _ipsec_site(emu)
    data = state(resource("SocketSite", "hq", "100001", HQ))
    res = drift(emu, tmp_path, data, "--format", "json", "--unmanaged-types", "SocketSite,IpsecSite")
    assert res.returncode == 2, res.stdout + res.stderr
    report = json.loads(res.stdout)
    unmanaged = [(f["resource"]["type"], f["resource"]["cato_id"]) for f in report["findings"]]
    assert unmanaged == [("IpsecSite", site_id)], report["findings"]
