"""``catoiac.drift.state.PulumiCli.load`` against the real pulumi CLI: the stack's export, history
and config are read at once (a drift waits for one CLI start, not three), secrets stay encrypted,
and a failed read is reported as the sequential reads reported it."""

from __future__ import annotations

import os
import stat
from types import SimpleNamespace

import pytest
from pulumi_helpers import PulumiWorkspace, pulumi_executable

from catoiac.drift.state import SECRET, PulumiCli, StateError, load_stacks

pytest_plugins = ("pulumi_helpers",)
pytestmark = pytest.mark.slow

# The real pulumi, behind a barrier: each command waits (up to 20 s) until {n} have started, so
# reads made one after the other fail (exit 97) instead of passing slowly.
BARRIER = """#!/bin/bash
printf '%s\\n' "$*" >> "{log}/calls"
touch "{log}/start.$$"
for _ in $(seq 200); do
  [ "$(ls "{log}"/start.* | wc -l)" -ge {n} ] && exec "{real}" "$@"
  sleep 0.1
done
echo "only $(ls "{log}"/start.* | wc -l) of {n} pulumi reads ran at once" >&2
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


def barrier(tmp_path, n: int = 3) -> str:
    """A `pulumi` (in a folder of its own) behind a barrier of ``n`` commands."""
    log = tmp_path / "barrier"
    log.mkdir()
    exe = tmp_path / "barrier-bin" / "pulumi"
    exe.parent.mkdir()
    exe.write_text(BARRIER.format(log=log, real=pulumi_executable(), n=n))
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


def test_two_stacks_are_read_at_once_each_with_its_own_state(stack, tmp_path, monkeypatch):
    stack.stack = "edge"
    stack.use_emulator(SimpleNamespace(url="http://127.0.0.1:2/api/v1/graphql2"))
    exe = barrier(tmp_path, n=6)  # both stacks' three reads
    monkeypatch.setenv("PATH", os.pathsep.join([os.path.dirname(exe), os.environ["PATH"]]))

    test, edge = load_stacks(["test", "edge"], cwd=stack.project_dir)
    assert (test.name, len(test.updates)) == ("test", 1) and (edge.name, edge.updates) == ("edge", [])
    assert edge.config["cato:endpoint"] == "http://127.0.0.1:2/api/v1/graphql2"
    with pytest.raises(StateError, match=r"^`pulumi stack export --stack nope` exited "):
        load_stacks(["test", "nope"], cwd=stack.project_dir)
