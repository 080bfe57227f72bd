"""The Pulumi program's per-resource overhead that pulumi_cato controls, through the real CLI."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pulumi_helpers import PulumiWorkspace

pytest_plugins = ("pulumi_helpers",)

pytestmark = pytest.mark.slow

PROGRAM = """
import pulumi
import pulumi_cato as cato

pulumi.log.debug("the program's own debug line")
cato.SocketSite("hq", name="HQ", native_range="10.40.0.0/24",
                location={"country_code": "US", "timezone": "America/New_York"})
"""
SDK_LINE = "registering resource: ty=pulumi-python:dynamic/cato:SocketSite"


@pytest.fixture
def on_emulator(pulumi_workspace: PulumiWorkspace, emulator_factory) -> Callable[[str], PulumiWorkspace]:
    """The test's workspace with ``program`` as its __main__.py, its stack on a fresh emulator."""

    def make(program: str) -> PulumiWorkspace:
        pulumi_workspace.write_project(program)
        pulumi_workspace.use_emulator(emulator_factory())
        return pulumi_workspace

    return make


def test_registration_debug_rpcs_are_dropped_unless_asked_and_the_programs_own_debug_lines_stay(
    on_emulator: Callable[[str], PulumiWorkspace],
) -> None:
    ws = on_emulator(PROGRAM)

    quiet = ws.run("preview", "--debug")
    assert "the program's own debug line" in quiet.stdout
    # (The stack itself registers before the program imports pulumi_cato, so its line stays.)
    assert SDK_LINE not in quiet.stdout
    assert "resource registration prepared: ty=pulumi-python:dynamic/cato:SocketSite" not in quiet.stdout
    assert "beginning rpc register resource" not in quiet.stdout

    ws.env_extra["PULUMI_CATO_SDK_DEBUG"] = "1"
    kept = ws.run("preview", "--debug")
    assert "the program's own debug line" in kept.stdout
    assert SDK_LINE in kept.stdout
    assert "beginning rpc register resource" in kept.stdout


LATE = """
import pulumi_cato as cato

hq = cato.SocketSite("hq", name="HQ", native_range="10.40.0.0/24",
                     location={"country_code": "US", "timezone": "America/New_York"})
# Made in an apply, after the program's body: registered while the program waits for its outputs.
hq.name.apply(lambda n: cato.NetworkRange("lan", site_id=hq.id, name=f"{n} LAN", subnet="10.40.1.0/24"))
"""


def test_a_resource_made_in_an_apply_is_registered_where_the_program_declared_it_and_a_failing_apply_fails(
    on_emulator: Callable[[str], PulumiWorkspace],
) -> None:
    ws = on_emulator(LATE)
    made = ws.run("up", "--yes", "--skip-preview")
    assert "3 created" in made.stdout, made.stdout  # the stack, the site and the range made in the apply
    # Each resource is recorded where the program declared it, not inside pulumi_cato.
    state = json.loads(ws.run("stack", "export").stdout)["deployment"]["resources"]
    where = {r["urn"].rsplit("::", 1)[1]: r.get("sourcePosition", "") for r in state if "cato:" in r["type"]}
    assert where["hq"].endswith("/__main__.py#4") and where["lan"].endswith("/__main__.py#7"), where

    ws.write_project(LATE + "hq.name.apply(lambda n: n / 0)\n")
    failed = ws.run("preview", check=False)
    assert failed.returncode != 0
    assert "TypeError" in failed.stdout + failed.stderr, failed.stdout + failed.stderr
