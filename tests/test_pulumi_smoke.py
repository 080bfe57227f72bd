"""Smoke test of the real Pulumi CLI (from scripts/install-pulumi) with a Python dynamic provider."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # imported by pytest as a plugin below, so that it is assert-rewritten
    from pulumi_helpers import PulumiWorkspace

pytest_plugins = ("pulumi_helpers",)

pytestmark = pytest.mark.slow

# A one-resource program whose provider is a pulumi.dynamic.ResourceProvider. Every provider call
# appends a line to a journal file, so the test can see that create and delete really ran.
PROGRAM = """
import json

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, Resource, ResourceProvider, UpdateResult


def _record(journal, event, **details):
    with open(journal, "a") as f:
        f.write(json.dumps({"event": event, **details}) + "\\n")


class EchoProvider(ResourceProvider):
    def create(self, props):
        _record(props["journal"], "create", message=props["message"])
        outs = {**props, "length": len(props["message"])}
        return CreateResult(id_="echo-1", outs=outs)

    def diff(self, id, olds, news):
        return DiffResult(changes=olds.get("message") != news.get("message"))

    def update(self, id, olds, news):
        _record(news["journal"], "update", message=news["message"])
        return UpdateResult(outs={**news, "length": len(news["message"])})

    def delete(self, id, props):
        _record(props["journal"], "delete", id=id)


class Echo(Resource):
    message: pulumi.Output[str]
    length: pulumi.Output[int]

    def __init__(self, name, message, journal, opts=None):
        super().__init__(EchoProvider(), name, {"message": message, "journal": journal, "length": None}, opts)


config = pulumi.Config()
echo = Echo("greeting", config.require("message"), config.require("journal"))
pulumi.export("message", echo.message)
pulumi.export("length", echo.length)
pulumi.export("echo_id", echo.id)
"""

MESSAGE = "hello from a dynamic provider"


def _journal(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_real_pulumi_cli_runs_up_preview_destroy_of_a_dynamic_resource(pulumi_workspace: PulumiWorkspace):
    ws = pulumi_workspace
    journal = ws.root / "journal.jsonl"
    ws.write_project(PROGRAM)

    assert ws.init_stack().returncode == 0
    ws.run("config", "set", "message", MESSAGE, "--stack", ws.stack)
    ws.run("config", "set", "journal", str(journal), "--stack", ws.stack)

    up = ws.run("up", "--yes", "--skip-preview", "--stack", ws.stack)
    assert up.returncode == 0
    assert "greeting" in up.stdout
    assert ws.outputs() == {"message": MESSAGE, "length": len(MESSAGE), "echo_id": "echo-1"}
    dynamic = [r for r in ws.resources() if r["type"] == "pulumi-python:dynamic:Resource"]
    assert [r["urn"].rsplit("::", 1)[-1] for r in dynamic] == ["greeting"]
    assert dynamic[0]["id"] == "echo-1"
    assert dynamic[0]["outputs"]["length"] == len(MESSAGE)
    assert [e["event"] for e in _journal(journal)] == ["create"]

    preview = ws.run("preview", "--expect-no-changes", "--stack", ws.stack, check=False)
    assert preview.returncode == 0, preview.stdout + preview.stderr

    destroy = ws.run("destroy", "--yes", "--skip-preview", "--stack", ws.stack)
    assert destroy.returncode == 0
    assert not [r for r in ws.resources() if r["type"] == "pulumi-python:dynamic:Resource"]
    assert [e["event"] for e in _journal(journal)] == ["create", "delete"]
