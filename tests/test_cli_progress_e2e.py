"""A paced or rate-limited run says so, and CATOIAC_LOG shows each API call: through the real pulumi
CLI (the provider's notices reach the user as engine diagnostics) and the catoiac CLI, against the
emulator over HTTP. The API key appears in none of it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from emu_helpers import ACCOUNT, KEY

from catoiac.emulator.control import EmulatorControl
from catoiac.emulator.limits import RateLimitConfig

pytest_plugins = ("pulumi_helpers",)

PROGRAM = """
import pulumi_cato as cato

cato.SocketSite("branch", name="Lisbon", native_range="10.40.0.0/24",
                location={"country_code": "PT", "timezone": "Europe/Lisbon", "city": "Lisbon"})
"""
CATOIAC = [str(Path(sys.executable).parent / "catoiac")]


@pytest.fixture
def emu(emulator_factory):
    return emulator_factory(rate_limits=RateLimitConfig(enabled=False, status=429))


@pytest.fixture
def ws(pulumi_workspace, emu):
    pulumi_workspace.env_extra["CATOIAC_RATE_LIMIT_SCALE"] = "0.001"
    pulumi_workspace.write_project(PROGRAM)
    pulumi_workspace.use_emulator(emu)
    return pulumi_workspace


@pytest.mark.slow
def test_pulumi_up_tells_the_user_when_cato_rate_limits_it_and_debug_logs_each_call(ws, emu):
    ctl = EmulatorControl(emu.base_url)
    ctl.rate_limits(storm_remaining=2)  # the next two calls are refused, Retry-After: 1
    res = ws.run("up", "--yes", "--skip-preview")
    out = res.stdout + res.stderr
    # Shown in a plain run; the limit in Cato's terms (the operation it counts; window scaled down here).
    assert re.search(
        r"catoiac: Cato's rate limit for [a-z]\w+ was hit \(\d+/[\d.]+\w*\): retrying in 1 s", out
    )
    assert "catoiac.client" not in out  # no debug lines unless asked

    ctl.rate_limits(storm_remaining=2)
    ws.env_extra["CATOIAC_LOG"] = "debug"
    # --refresh: a preview of the unchanged stack alone calls nothing (nothing to check live).
    res = ws.run("preview", "--refresh", "--debug")
    out = res.stdout + res.stderr
    # One line per API call: the document, Cato's operation, outcome, requests, retries and pacing.
    # (Pulumi prints each diagnostic live and again in its summary: count distinct lines.)
    calls = set(
        re.findall(r"(\w+) \[\w+\] ok in (\d+) ms \(requests=(\d+) retries=(\d+) paced=\d+\.\ds\)", out)
    )
    assert calls and all(int(n) == int(r) + 1 for *_, n, r in calls), out
    assert sum(int(r) for *_, r in calls) == 2, calls
    assert KEY not in out
    ctl.close()


def test_the_cli_logs_each_api_call_at_debug_and_never_the_key(emu):
    env = {**os.environ, "CATOIAC_LOG": "debug", "CATO_TOKEN": KEY, "CATOIAC_RATE_LIMIT_SCALE": "0.001"}
    res = subprocess.run(
        [*CATOIAC, "doctor", "--account-id", ACCOUNT, "--endpoint", emu.url, "--format", "json"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert res.returncode in (0, 2), res.stderr
    assert re.search(
        r"catoiac\.client: \w+ \[\w+\] ok in \d+ ms \(requests=1 retries=0 paced=0\.0s\)", res.stderr
    )
    assert KEY not in res.stdout + res.stderr
    quiet = subprocess.run(
        [*CATOIAC, "doctor", "--account-id", ACCOUNT, "--endpoint", emu.url, "--format", "json"],
        env={**env, "CATOIAC_LOG": "warning"}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert "catoiac.client" not in quiet.stderr


def test_a_rate_limited_cli_run_says_so_on_stderr_and_keeps_stdout_parseable(emu):
    import json

    with EmulatorControl(emu.base_url) as ctl:
        ctl.rate_limits(storm_remaining=1)
    env = {**os.environ, "CATO_TOKEN": KEY, "CATOIAC_RATE_LIMIT_SCALE": "0.001"}
    env.pop("CATOIAC_LOG", None)
    res = subprocess.run(
        [*CATOIAC, "doctor", "--account-id", ACCOUNT, "--endpoint", emu.url, "--format", "json"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert re.search(r"catoiac: Cato's rate limit for \w+ was hit .*: retrying in 1 s", res.stderr), (
        res.stderr
    )
    json.loads(res.stdout)


def test_a_wrong_log_level_names_the_setting_and_the_levels():
    env = {**os.environ, "CATOIAC_LOG": "verbose"}
    res = subprocess.run([*CATOIAC, "review", "-"], env=env, input="", capture_output=True, text=True)
    assert res.returncode == 2
    assert "CATOIAC_LOG" in res.stderr and "debug, info, warning, error" in res.stderr, res.stderr


def test_running_the_cli_in_process_leaves_the_hosts_logging_alone(caplog):
    """An application (or a test) that runs the CLI in-process still gets catoiac's records at the
    level it set: the default configuration neither stops propagation nor raises the threshold."""
    import logging

    from click.testing import CliRunner

    from catoiac.cli import main

    assert CliRunner().invoke(main, ["--log-level", "warning", "review", "--help"]).exit_code == 0
    caplog.set_level(logging.DEBUG)
    logging.getLogger("catoiac.client").debug("still heard")
    assert "still heard" in caplog.text
