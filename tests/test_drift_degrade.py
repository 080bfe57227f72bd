"""``catoiac drift`` degrades instead of dying, and every exit 1 says why on stderr. The real CLI
runs as a subprocess against the emulator over HTTP (exported states: no pulumi needed), except
where the stack's own config is the point."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import jsonschema
import pytest
from drift_support import SITES
from emu_helpers import ACCOUNT, KEY, OTHER_KEY
from sites_support import UPDATE_SITE, fixture

from catoiac.drift.report import schema
from catoiac.emulator.control import EmulatorControl
from catoiac.emulator.limits import RateLimitConfig

pytest_plugins = ("pulumi_helpers",)

ENVELOPE = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "ciphertext": "v1:abc"}


def site_resource(name: str, rid: str, cato_name: str, subnet: str, description: str) -> dict:
    inputs = {"name": cato_name, "native_range": subnet, "description": description, "site_type": "BRANCH",
              "connection_type": "SOCKET_X1500", "location": {"country_code": "PT", "timezone": "Europe/Lisbon"}}  # fmt: skip
    return {
        "urn": f"urn:pulumi:prod::p::pulumi-python:dynamic/cato:SocketSite::{name}",
        "type": "pulumi-python:dynamic/cato:SocketSite",
        "custom": True,
        "id": rid,
        "inputs": {"__provider": ENVELOPE, **inputs},
        "outputs": {"__provider": ENVELOPE, **inputs, "resource_id": rid},
    }


STATE = {
    "version": 3,
    "deployment": {
        "manifest": {"time": "2026-01-01T00:00:00Z"},
        "resources": [
            {"urn": "urn:pulumi:prod::p::pulumi:pulumi:Stack::p-prod", "type": "pulumi:pulumi:Stack"},
            site_resource("hq", "100001", "HQ", "10.1.0.0/24", "hq"),
            site_resource("porto", "100002", "Porto", "10.2.0.0/24", "porto"),
        ],
    },
}


def catoiac_exe() -> str:
    return shutil.which("catoiac", path=str(Path(sys.executable).parent))


def drift(emu, tmp_path: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    path = tmp_path / "state.json"
    path.write_text(json.dumps(STATE))
    cmd = [catoiac_exe(), "drift", "--state-file", str(path), "--account-id", ACCOUNT, "--endpoint", emu.url,
           "--cache-dir", str(tmp_path / "cache"), "--since", "2020-01-01T00:00:00Z", *args]  # fmt: skip
    base = {"PATH": "/usr/bin:/bin", "CATO_TOKEN": KEY, "CATOIAC_RATE_LIMIT_SCALE": "0.001"}
    res = subprocess.run(cmd, env={**base, **(env or {})}, capture_output=True, text=True, timeout=300)
    assert KEY not in res.stdout + res.stderr
    return res


def change_both_sites(emu) -> None:
    for sid in ("100001", "100002"):
        body = {"query": UPDATE_SITE, "variables": {"a": ACCOUNT, "s": sid, "i": {"description": "changed"}}}
        httpx.post(emu.url, json=body, headers={"x-api-key": OTHER_KEY}).raise_for_status()


def test_an_audit_feed_rate_limit_still_reports_every_finding_with_attribution_unavailable(
    emulator_factory, tmp_path
):
    # auditFeed refused every time (limit 0); 429s with Retry-After 1 s so the retries stay short.
    emu = emulator_factory(
        fixture(SITES), rate_limits=RateLimitConfig(status=429, window_seconds=1, limits={"auditFeed": 0})
    )
    change_both_sites(emu)
    res = drift(emu, tmp_path, "--format", "json")
    assert res.returncode == 2, res.stdout + res.stderr  # drift, not an error
    report = json.loads(res.stdout)
    jsonschema.validate(report, schema())
    found = {f["resource"]["name"]: f for f in report["findings"] if f["kind"] == "modified"}
    assert set(found) == {"hq", "porto"}
    assert {f["cause"] for f in found.values()} == {"unavailable"}
    assert all(c["attribution"]["cause"] == "unavailable" for f in found.values() for c in f["changes"])
    assert report["audit"]["available"] is False and "auditFeed" in report["audit"]["error"]
    assert report["warnings"] and "attribution unavailable" in report["warnings"][0]
    assert "warning: attribution unavailable" in res.stderr and "rate limit" in res.stderr
    # The table says it too.
    table = drift(emu, tmp_path, "--format", "markdown")
    assert table.returncode == 2 and "**Warning:** attribution unavailable" in table.stdout


def test_under_a_429_storm_no_finding_is_dropped_silently_and_exit_1_says_why(emulator_factory, tmp_path):
    emu = emulator_factory(fixture(SITES), rate_limits=RateLimitConfig(enabled=False, status=429))
    change_both_sites(emu)
    with EmulatorControl(emu.base_url) as ctl:
        # 5 attempts per read, all 429: the early read of the sites fails, and so does the first
        # resource's own attempt; the next resource's read gets through.
        ctl.rate_limits(storm_remaining=10)
    res = drift(emu, tmp_path, "--format", "json")
    assert res.returncode == 1
    report = json.loads(res.stdout)
    jsonschema.validate(report, schema())
    findings = {f["resource"]["name"] for f in report["findings"] if f["kind"] == "modified"}
    errors = {e["urn"].rsplit("::", 1)[-1]: e["error"] for e in report["errors"]}
    # Both sites drifted: each is a finding or named as not checked, never neither.
    assert findings | set(errors) >= {"hq", "porto"} and errors, report
    assert all("429" in e for e in errors.values())
    assert "error: the report is incomplete" in res.stderr
    for name in errors:
        assert name in res.stderr
    # The same in the table format, and with the report written to a file: stderr says why.
    with EmulatorControl(emu.base_url) as ctl:
        ctl.rate_limits(storm_remaining=10)
    res = drift(emu, tmp_path, "--output", str(tmp_path / "report.txt"))
    assert res.returncode == 1 and "error: the report is incomplete" in res.stderr


def test_a_refused_connection_fails_fast_with_the_url_on_stderr(tmp_path):
    class Closed:
        url = "http://127.0.0.1:9/api/v1/graphql2"  # discard port: nothing listens

    res = drift(Closed, tmp_path, "--format", "json")
    assert res.returncode == 1 and res.stdout == ""
    assert "Could not connect to http://127.0.0.1:9/api/v1/graphql2" in res.stderr
    assert "--endpoint" in res.stderr


def test_a_wrong_account_is_reported_as_a_wrong_account(emulator_factory, tmp_path):
    emu = emulator_factory(fixture(SITES), rate_limits=RateLimitConfig(enabled=False))
    path = tmp_path / "state.json"
    path.write_text(json.dumps(STATE))
    res = subprocess.run(
        [catoiac_exe(), "drift", "--state-file", str(path), "--account-id", "2002", "--endpoint", emu.url,
         "--no-cache"],
        env={"PATH": "/usr/bin:/bin", "CATO_TOKEN": KEY, "CATOIAC_RATE_LIMIT_SCALE": "0.001"},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert res.returncode == 1
    assert "Wrong account" in res.stderr and "2002" in res.stderr and "--account-id" in res.stderr
    assert "Check the key" not in res.stderr


# -- the key from the stack's config, as the provider reads it ------------------------------------------


@pytest.fixture
def stack(pulumi_workspace, emulator_factory):
    emu = emulator_factory(fixture(SITES), rate_limits=RateLimitConfig(enabled=False))
    ws = pulumi_workspace
    ws.write_project("import pulumi\n")
    ws.use_emulator(emu)
    return ws


def drift_stack(ws, *args: str, token: str) -> subprocess.CompletedProcess:
    env = {**ws.env, "CATO_TOKEN": token, "CATOIAC_RATE_LIMIT_SCALE": "0.001"}
    env.pop("CATO_ACCOUNT_ID", None), env.pop("CATO_BASEURL", None)
    cmd = [catoiac_exe(), "drift", "--cwd", str(ws.project_dir), "--stack", ws.stack, "--no-cache",
           "--format", "json", *args]  # fmt: skip
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, cwd=ws.project_dir)
    assert KEY not in res.stdout + res.stderr
    return res


def test_drift_reads_the_secret_api_key_from_the_stack_config_before_the_environment(stack):
    # CATO_TOKEN holds a wrong key: the stack's own cato:apiKey wins, as it does in the provider.
    res = drift_stack(stack, token="cato-wrong-env-key-000")
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["api_calls"].get("AuditFeed", 0) >= 1
    # ...and a flag beats both, named in the error when it is refused.
    res = drift_stack(stack, "--api-key", "cato-wrong-flag-key-000", token="cato-wrong-env-key-000")
    assert res.returncode == 1
    assert "refused the API key" in res.stderr and "--api-key" in res.stderr
    assert "cato-wrong-flag-key-000" not in res.stderr


def test_a_key_with_a_trailing_newline_in_the_environment_is_refused_naming_cato_token(stack, tmp_path):
    stack.run("config", "rm", "cato:apiKey")
    res = drift_stack(stack, token=KEY + "\n")
    assert res.returncode == 1
    assert "CATO_TOKEN" in res.stderr and "trailing newline" in res.stderr
    assert "Illegal header" not in res.stderr
