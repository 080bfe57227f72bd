"""``catoiac.drift.state.PulumiCli.load`` against the real pulumi CLI: the stack's export, history
and config are read at once (a drift waits for one CLI start, not three), secrets stay encrypted,
and a failed read is reported as the sequential reads reported it."""

from __future__ import annotations

import os
import stat
from types import SimpleNamespace

import pytest
from pulumi_helpers import PulumiWorkspace, pulumi_executable

from catoiac.drift.state import SECRET, PulumiCli, StateError

pytest_plugins = ("pulumi_helpers",)
pytestmark = pytest.mark.slow

# The real pulumi, behind a barrier: each command waits (up to 20 s) until three have started, so a
# load that ran its reads one after the other fails (exit 97) instead of passing slowly.
BARRIER = """#!/bin/bash
printf '%s\\n' "$*" >> "{log}/calls"
touch "{log}/start.$$"
for _ in $(seq 200); do
  [ "$(ls "{log}"/start.* | wc -l)" -ge 3 ] && exec "{real}" "$@"
  sleep 0.1
done
echo "only $(ls "{log}"/start.* | wc -l) of 3 pulumi reads ran at once" >&2
exit 97
"""


@pytest.fixture
def stack(tmp_path, monkeypatch):
    ws = PulumiWorkspace(root=tmp_path)
    ws.write_project("import pulumi\npulumi.export('answer', 42)\n")
    ws.use_emulator(SimpleNamespace(url="http://127.0.0.1:1/api/v1/graphql2"))
    ws.run("up", "--yes", "--skip-preview")
    for name, value in ws.env.items():
        monkeypatch.setenv(name, value)  # PulumiCli runs pulumi with the process's environment
    return ws


def barrier(tmp_path) -> str:
    log = tmp_path / "barrier"
    log.mkdir()
    exe = tmp_path / "pulumi-barrier"
    exe.write_text(BARRIER.format(log=log, real=pulumi_executable()))
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    return str(exe)


def test_a_stack_is_read_with_its_three_commands_at_once_and_its_key_is_never_decrypted(stack, tmp_path):
    state = PulumiCli(stack.project_dir, executable=barrier(tmp_path)).load("test")

    assert [(u.kind, u.result) for u in state.updates] == [("update", "succeeded")]
    assert state.config["cato:apiKey"] == SECRET and state.config["cato:accountId"] == "1001"
    assert state.resources == [] and state.manifest_time is not None
    calls = sorted((tmp_path / "barrier/calls").read_text().splitlines())
    assert [c.split(" --")[0] for c in calls] == ["config", "stack export", "stack history"]
    assert not any("show-secrets" in c for c in calls)


def test_a_stack_that_does_not_exist_fails_with_the_export_error_first(stack):
    with pytest.raises(StateError) as failed:
        PulumiCli(stack.project_dir).load("nope")
    assert str(failed.value).startswith("`pulumi stack export --stack nope` exited "), failed.value
    assert "nope" in str(failed.value).split("exited", 1)[1]


def test_with_no_stack_named_the_selected_one_is_read(stack):
    assert os.environ["PULUMI_HOME"] == stack.env["PULUMI_HOME"]
    assert PulumiCli(stack.project_dir).load(None).name == "test"
