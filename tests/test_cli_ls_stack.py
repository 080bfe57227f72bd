"""`catoiac ls` takes its credentials as `catoiac drift` does: the flag, then the stack's config
(`cato:apiKey` decrypted with the real pulumi CLI), then the environment."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from emu_helpers import KEY
from sites_support import fixture

from catoiac.cli import main
from catoiac.emulator.limits import RateLimitConfig

pytest_plugins = ("pulumi_helpers",)
pytestmark = pytest.mark.slow

WRONG = "cato-wrong-key-000"


def test_the_stack_key_beats_the_environment_and_the_flag_beats_the_stack(pulumi_workspace, emulator_factory):
    emu = emulator_factory(fixture(), rate_limits=RateLimitConfig(enabled=False))
    ws = pulumi_workspace
    ws.write_project("")
    ws.use_emulator(emu)
    env = {**ws.env, "CATO_TOKEN": WRONG, "CATO_ACCOUNT_ID": "999", "CATO_BASEURL": "http://127.0.0.1:9"}

    def ls(*args: str):
        cmd = [
            "ls",
            "SocketSite",
            "--format",
            "json",
            "--stack",
            ws.stack,
            "--cwd",
            str(ws.project_dir),
            *args,
        ]
        return CliRunner().invoke(main, cmd, env=env)

    out = ls()
    assert out.exit_code == 0, out.output
    assert {s["name"] for s in json.loads(out.output)["items"]} == {"HQ", "Paris"}
    assert KEY not in out.output
    out = ls("--api-key", WRONG)
    assert out.exit_code == 1 and "error:" in out.output and WRONG not in out.output, out.output
