"""Through the real pulumi CLI against the emulator: objects someone else made are refused (never
adopted) with a clear error naming the owner when the journal knows it, and every expected Cato
error reaches the user as one line per resource, with no Python traceback."""

from __future__ import annotations

import json
import re
import sys
import traceback

import pytest
from emu_helpers import ACCOUNT, KEY
from policy_support import fixture
from sites_support import ADD_SITE, site_input

from catoiac.emulator.control import EmulatorControl
from catoiac.emulator.limits import RateLimitConfig

pytest_plugins = ("pulumi_helpers",)
pytestmark = pytest.mark.slow

PROGRAM = """
import json
import pulumi_cato as cato

d = json.load(open("desired.json"))
for key, name in d.get("sites", {}).items():
    cato.SocketSite(key, name=name, native_range=d["subnets"][key],
                    location={"country_code": "PT", "timezone": "Europe/Lisbon"})
if d.get("sections"):
    cato.InternetFirewallPolicy("ifw", sections=d["sections"])
"""
BRANCHES = [{"name": "Branches", "rules": [{"name": "Branches: block social", "destination": {"application": [{"id": "facebook"}]}}]}]  # fmt: skip


@pytest.fixture
def emu(emulator_factory):
    return emulator_factory(fixture(), rate_limits=RateLimitConfig(enabled=False))


@pytest.fixture
def ctl(emu):
    with EmulatorControl(emu.base_url) as c:
        yield c


def stack(ws, emu, project: str, desired: dict, key: str = KEY):
    ws.project_name = project
    ws.env_extra["CATOIAC_RATE_LIMIT_SCALE"] = "0.001"
    ws.write_project(PROGRAM, files={"desired.json": json.dumps(desired)})
    ws.use_emulator(emu, key=key)
    return ws


def diagnostics(text: str) -> dict[str, list[str]]:
    """The lines under each resource of pulumi's Diagnostics section, by resource name."""
    out: dict[str, list[str]] = {}
    current = None
    for line in text.split("Diagnostics:", 1)[-1].splitlines():
        head = re.match(r"^  \S+ \((.+)\):$", line)
        if head:
            current = out.setdefault(head[1], [])
        elif line.startswith("Resources:") or line.startswith("Outputs:"):
            break
        elif current is not None and line.strip():
            current.append(line.strip())
    return out


def failed_up(ws) -> tuple[str, dict[str, list[str]]]:
    res = ws.run("up", "--yes", "--skip-preview", check=False)
    assert res.returncode != 0
    text = res.stdout + res.stderr
    assert "Traceback" not in text and 'File "' not in text, text
    return text, diagnostics(res.stdout)


def test_a_site_made_in_the_console_is_refused_in_one_line_and_left_alone(pulumi_workspace, emu, ctl):
    ctl.as_admin(
        ACCOUNT, "alice@example.com", ADD_SITE, {"a": ACCOUNT, "i": site_input("Lisbon", "10.40.0.0/24")}
    )
    ws = stack(
        pulumi_workspace,
        emu,
        "branch",
        {"sites": {"lisbon": "Lisbon"}, "subnets": {"lisbon": "10.40.0.0/24"}},
    )
    _, diags = failed_up(ws)
    assert len(diags["lisbon"]) == 1, diags
    line = diags["lisbon"][0]
    # Refused by the provider's check, before any call that writes (the create is never sent).
    assert "a SocketSite with name 'Lisbon' already exists" in line and "someone else made it" in line
    assert "import_=" in line
    assert "addSocketSite" not in ctl.stats() and "updateSiteGeneralDetails" not in ctl.stats()


def test_another_stacks_site_and_section_are_refused_naming_that_stack(pulumi_workspace, tmp_path, emu, ctl):
    from pulumi_helpers import PulumiWorkspace

    desired = {"sites": {"lisbon": "Lisbon"}, "subnets": {"lisbon": "10.40.0.0/24"}, "sections": BRANCHES}
    first = stack(pulumi_workspace, emu, "branch-a", desired)
    second = stack(PulumiWorkspace(root=tmp_path / "b"), emu, "branch-b", desired)
    journal = str(tmp_path / "shared-journal")  # one CI runner's journal, kept for both stacks
    first.env_extra["CATOIAC_JOURNAL_DIR"] = second.env_extra["CATOIAC_JOURNAL_DIR"] = journal
    first.run("up", "--yes", "--skip-preview")
    ctl.reset_stats()
    # Refusals come from check, and Pulumi stops an update at the first resource whose check fails:
    # the site and the policy are each tried in an up of their own.
    (second.project_dir / "desired.json").write_text(json.dumps({**desired, "sections": []}))
    _, diags = failed_up(second)
    assert (
        diags["lisbon"] == [diags["lisbon"][0]]
        and "belongs to branch-a/test/SocketSite::lisbon" in diags["lisbon"][0]
    )
    # The policy is refused on its own, before any revision is opened.
    (second.project_dir / "desired.json").write_text(json.dumps({"sections": BRANCHES}))
    _, diags = failed_up(second)
    assert len(diags["ifw"]) == 1
    assert "belongs to branch-a/test/InternetFirewallPolicy::ifw" in diags["ifw"][0], diags
    assert "createPolicyRevision" not in ctl.stats()
    first.run("preview", "--refresh", "--expect-no-changes")  # the first stack's objects untouched


def test_a_policy_failure_and_a_wrong_key_are_one_line_per_resource(pulumi_workspace, tmp_path, emu, ctl):
    ws = stack(pulumi_workspace, emu, "fw", {"sections": BRANCHES})
    ctl.add_fault("fail", operation="addRule", message="injected failure")
    _, diags = failed_up(ws)
    assert len(diags["ifw"]) == 1 and "injected failure" in diags["ifw"][0]
    assert "published policy is unchanged" in diags["ifw"][0]
    ctl.clear_faults()

    from pulumi_helpers import PulumiWorkspace

    wrong = stack(PulumiWorkspace(root=tmp_path / "w"), emu, "fw2", {"sites": {"porto": "Porto"}, "subnets": {"porto": "10.41.0.0/24"}}, key="not-a-key-of-this-account")  # fmt: skip
    text, diags = failed_up(wrong)
    assert len(diags["porto"]) == 1 and "Cato refused the API key" in diags["porto"][0], diags
    assert "not-a-key-of-this-account" not in text


def test_an_unexpected_error_keeps_its_traceback():
    """Only expected (Cato) errors are shortened; a bug still shows where it happened."""
    from pulumi_cato.provider import CatoProviderError, _ShortTraceback

    short = _ShortTraceback(traceback)
    try:
        raise CatoProviderError("Cato said no")
    except CatoProviderError:
        assert short.format_exc() == "Cato said no"
    try:
        {}["missing"]
    except KeyError:
        text = short.format_exc()
    assert text.startswith("Traceback (most recent call last):") and "KeyError" in text
    assert short.print_exc is traceback.print_exc and sys.exc_info() == (None, None, None)
