"""`pulumi preview` catches what `up` would refuse, with the real pulumi CLI against the emulator over
HTTP: unknown references with suggestions, catalog typos, a wrong key or account (once), conflicts
with the live account and inside the program, bad strings; a preview never writes and reads each
collection once; a fresh stack whose rules refer to objects by `.id` previews and applies without
`--skip-preview`."""

from __future__ import annotations

import json
import re

import pytest
from emu_helpers import KEY, OTHER_ACCOUNT
from emu_helpers import writes as mutations_in
from policy_support import fixture_with_paris_data

from catoiac.emulator.control import EmulatorControl
from catoiac.emulator.limits import RateLimitConfig

pytest_plugins = ("pulumi_helpers",)
pytestmark = pytest.mark.slow

# Sites, ranges and one policy from desired.json. In a rule, "@range:<key>" / "@site:<key>" stand for
# {"id": <that resource's .id>}, an output not known until it is created, and "@name:site:<key>" for
# the site's name output (a reference Pulumi orders after the site).
PROGRAM = """
import json
import pulumi
import pulumi_cato as cato

d = json.load(open("desired.json"))
made = {}
for s in d.get("sites", []):
    made["site:" + s["key"]] = cato.SocketSite(s["key"], **s["args"])
for r in d.get("ranges", []):
    site = made.get("site:" + str(r.get("site")))
    args = {**r["args"], "site_id": site.id if site is not None else r.get("site_id")}
    made["range:" + r["key"]] = cato.NetworkRange(r["key"], **args)

def refs(value):
    if isinstance(value, str) and value.startswith("@name:"):
        return made[value[6:]].name  # an output: Pulumi checks and creates that resource first
    if isinstance(value, str) and value.startswith("@"):
        return {"id": made[value[1:]].id}
    if isinstance(value, dict):
        return {k: refs(v) for k, v in value.items()}
    if isinstance(value, list):
        return [refs(v) for v in value]
    return value

if d.get("ifw"):
    cato.InternetFirewallPolicy("ifw", sections=refs(d["ifw"]))
"""
LOC = {"country_code": "PT", "timezone": "Europe/Lisbon"}


# Operations a preview may call: reads only.
@pytest.fixture
def emu(emulator_factory):
    return emulator_factory(fixture_with_paris_data(), rate_limits=RateLimitConfig(enabled=False))


@pytest.fixture
def ctl(emu):
    with EmulatorControl(emu.base_url) as c:
        yield c


@pytest.fixture
def ws(pulumi_workspace, emu):
    pulumi_workspace.env_extra["CATOIAC_RATE_LIMIT_SCALE"] = "0.001"
    pulumi_workspace.write_project(PROGRAM)
    pulumi_workspace.use_emulator(emu)
    return pulumi_workspace


def desire(ws, sites=(), ranges=(), ifw=None) -> None:
    body = {"sites": list(sites), "ranges": list(ranges), "ifw": ifw}
    (ws.project_dir / "desired.json").write_text(json.dumps(body))


def site(key: str, name: str, native: str) -> dict:
    return {"key": key, "args": {"name": name, "native_range": native, "location": LOC}}


def rng(key: str, name: str, subnet: str, *, site: str | None = None, site_id: str | None = None) -> dict:
    return {"key": key, "site": site, "site_id": site_id, "args": {"name": name, "subnet": subnet}}


def section(*rules: dict, name: str = "Lisbon") -> list[dict]:
    return [{"name": name, "rules": [{"name": f"rule {i}", **r} for i, r in enumerate(rules)]}]


def failed_preview(ws) -> str:
    result = ws.run("preview", check=False)
    assert result.returncode != 0, result.stdout
    return result.stdout + result.stderr


def diagnostics(out: str) -> str:
    """The Diagnostics block: one entry per failed resource (the live display repeats them)."""
    return out.split("Diagnostics:", 1)[1]


def writes(ctl) -> dict[str, int]:
    return mutations_in(ctl.stats())


def test_a_fresh_stack_with_id_references_to_objects_not_created_yet_previews_and_applies(ws, ctl):
    desire(
        ws,
        sites=[site("lisbon", "Lisbon", "10.40.0.0/24")],
        ranges=[rng("guest", "Guest", "10.40.8.0/24", site="lisbon")],
        ifw=section(
            {
                "source": {"site_network_subnet": ["@range:guest"], "site": ["@site:lisbon"]},
                "destination": {"app_category": ["Gambling"]},
            }
        ),  # fmt: skip
    )
    ctl.reset_stats()
    ws.run("preview")  # was: `value {<nil>} has a problem: {} should be non-empty`
    assert writes(ctl) == {}
    ws.run("up", "--yes")  # with its preview: no --skip-preview
    state = ws.resources()
    rule = next(r for r in state if r["type"].endswith("InternetFirewallPolicy"))
    guest = next(r for r in state if r["urn"].endswith("::guest"))
    body = rule["outputs"]["sections"][0]["rules"][0]
    assert body["source"]["site_network_subnet"] == [{"id": guest["id"]}]
    ws.run("preview", "--expect-no-changes")


def test_preview_fails_on_unknown_names_with_suggestions_and_writes_nothing(ws, ctl):
    ctl.reset_stats()
    desire(ws, ifw=section({"source": {"site_network_subnet": ["data"]}}))
    out = failed_preview(ws)
    assert "sections[0].rules[0].source.site_network_subnet[0]" in out
    assert "no network range is named 'data' in the account or this program: did you mean 'Data'?" in out

    desire(ws, ifw=section({"destination": {"app_category": ["Gamblingg"], "application": ["Dropbx"]}}))
    out = failed_preview(ws)
    assert "'Gamblingg' is not a Cato application category: did you mean 'Gambling'?" in out
    assert "'Dropbx' is not an application in Cato's catalog: did you mean 'Dropbox'?" in out
    assert writes(ctl) == {}


def test_preview_reports_a_wrong_key_and_a_wrong_account_apart_and_once(ws, ctl):
    desire(
        ws,
        sites=[
            site("a", "A", "10.50.0.0/24"),
            site("b", "B", "10.51.0.0/24"),
            site("c", "C", "10.52.0.0/24"),
        ],
    )
    ws.run("config", "set", "--secret", "cato:apiKey", KEY + "-typo")
    out = failed_preview(ws)
    assert diagnostics(out).count("Cato refused the API key") == 1, out
    assert KEY not in out
    ws.run("config", "set", "--secret", "cato:apiKey", KEY)
    ws.run("config", "set", "cato:accountId", OTHER_ACCOUNT)
    out = failed_preview(ws)
    assert (
        diagnostics(out).count(f"Wrong account: the API key has no access to account {OTHER_ACCOUNT}") == 1
    ), out
    assert "cato:apiKey" not in out
    assert writes(ctl) == {}


def test_preview_refuses_conflicts_with_the_live_account_and_inside_the_program(ws, ctl, emu):
    ctl.reset_stats()
    # A range overlapping another site's live range (Paris's "Data", 10.2.5.0/24).
    desire(ws, sites=[site("lisbon", "Lisbon", "10.40.0.0/24")],
           ranges=[rng("lab", "Lab", "10.2.5.128/25", site="lisbon")])  # fmt: skip
    out = failed_preview(ws)
    assert "range 10.2.5.128/25 conflicts with range 'Data' (10.2.5.0/24) of site 'Paris'" in out
    # Two sites of the program with one name: the second names the first.
    desire(ws, sites=[site("a", "Porto", "10.60.0.0/24"), site("b", "Porto", "10.61.0.0/24")])
    out = failed_preview(ws)
    # Whichever of the two is checked second is refused, naming the other.
    assert re.search(r"site name 'Porto' is also declared by SocketSite '[ab]' in this program", out), out
    assert writes(ctl) == {}


def test_an_unchanged_stack_previews_with_no_api_call_and_a_changed_resource_is_still_checked_live(ws, ctl):
    desire(ws, sites=[site("lisbon", "Lisbon", "10.40.0.0/24")],
           ranges=[rng("lab", "Lab", "10.40.5.0/24", site="lisbon")],
           ifw=section({"source": {"site": ["@name:site:lisbon"]}, "destination": {"application": ["Zoom"]}}))  # fmt: skip
    ws.run("up", "--yes", "--skip-preview")
    ctl.reset_stats()
    ws.run("preview", "--expect-no-changes")
    assert ctl.stats() == {}  # up would write nothing: nothing for the account to refuse
    # The range moves onto another site's live range: that one resource is checked against the account.
    desire(ws, sites=[site("lisbon", "Lisbon", "10.40.0.0/24")],
           ranges=[rng("lab", "Lab", "10.2.5.128/25", site="lisbon")],
           ifw=section({"source": {"site": ["@name:site:lisbon"]}, "destination": {"application": ["Zoom"]}}))  # fmt: skip
    out = failed_preview(ws)
    assert "range 10.2.5.128/25 conflicts with range 'Data' (10.2.5.0/24) of site 'Paris'" in out
    assert writes(ctl) == {}


def test_preview_refuses_strings_cato_or_pulumi_cannot_take(ws, ctl):
    ctl.reset_stats()
    desire(ws, ifw=[{"name": "Lisbon", "rules": [{"name": "r" * 20_000}]}])
    out = failed_preview(ws)
    assert "sections[0].rules[0].name" in out and "20000 characters long, more than the 255 allowed" in out
    assert "panic" not in out
    desire(ws, sites=[site("a", "Lis\u202ebon", "10.60.0.0/24")])
    out = failed_preview(ws)
    assert "U+202E (RIGHT-TO-LEFT OVERRIDE) at position 3: remove it" in out
    assert writes(ctl) == {}


def test_a_preview_reads_each_collection_once_whatever_the_program_size(ws, ctl):
    n = 12
    desire(
        ws,
        sites=[site(f"s{i}", f"Site {i}", f"10.{100 + i}.0.0/24") for i in range(n)],
        ranges=[rng(f"r{i}", f"Guest {i}", f"10.{100 + i}.8.0/24", site=f"s{i}") for i in range(n)],
        # By the sites' name outputs: plain strings could be checked before the sites declaring them.
        ifw=section(
            *[
                {"source": {"site": [f"@name:site:s{i}"]}, "destination": {"application": ["Zoom"]}}
                for i in range(n)
            ]
        ),
    )
    ctl.reset_stats()
    ws.run("preview")
    stats = ctl.stats()
    assert writes(ctl) == {}
    # 25 resources: the sites (snapshot and lookup), the ranges, the policy, the catalog, once each.
    assert stats == {"accountSnapshot": 1, "entityLookup": 2, "policy": 1, "catalogApplicationList": 1}, stats


def test_a_conflict_preview_cannot_know_is_refused_before_its_write_naming_both_and_the_fix_converges(
    ws, ctl
):
    # Two ranges of one name on a site not created yet: in the preview their site ids are unknown.
    ranges = [
        rng("a", "Guest", "10.40.8.0/24", site="lisbon"),
        rng("b", "Guest", "10.40.9.0/24", site="lisbon"),
    ]
    desire(ws, sites=[site("lisbon", "Lisbon", "10.40.0.0/24")], ranges=ranges)
    ws.run("preview")
    up = ws.run("up", "--yes", check=False)
    assert up.returncode != 0
    out = up.stdout + up.stderr
    assert re.search(r"range name 'Guest' on the native port of site \d+ is also declared by NetworkRange '[ab]' "
                     r"in this program: range names are unique per port of a site: rename one", out), out  # fmt: skip
    # The refused one was never sent (the other may have been, or may have been checked too late).
    assert ctl.stats().get("addNetworkRange", 0) <= 1
    # Rename the range that was not made (which one won the race is Pulumi's order). Renaming the one
    # that was made instead would have the other take its old name in the same up: no order between
    # the two, so the preview rightly refuses that.
    state = json.loads(ws.run("stack", "export").stdout)["deployment"].get("resources") or []
    made = {r["urn"].rsplit("::", 1)[1] for r in state if r["type"].endswith("cato:NetworkRange")}
    assert len(made) <= 1, made
    refused = 0 if made == {"b"} else 1
    ranges[refused]["args"]["name"] = "Guest 2"
    desire(ws, sites=[site("lisbon", "Lisbon", "10.40.0.0/24")], ranges=ranges)
    ws.run("up", "--yes")
    ws.run("preview", "--expect-no-changes")
    assert ctl.stats().get("addNetworkRange") == 2  # no duplicate, no orphan
