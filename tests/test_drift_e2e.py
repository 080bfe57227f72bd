"""``catoiac drift`` and ``catoiac audit`` end to end: real pulumi stacks against the emulator over
HTTP, out-of-band changes made as a person in the UI, as another integration's key and as our own
key, and the report that explains each one. The catoiac CLI runs as a subprocess, as a user runs it.

The out-of-band changes are a table (ROWS): a new resource kind is one more row."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import yaml
from drift_support import Cli, World, by_resource, change_at, move_rule_last, new_stack, site, state_of
from sites_support import (
    ADD_HOST,
    ADD_SITE,
    REMOVE_RANGE,
    REMOVE_SITE,
    UPDATE_RANGE,
    UPDATE_SITE,
    site_input,
)

from catoiac.emulator.control import EmulatorControl
from catoiac.emulator.limits import RateLimitConfig

pytest_plugins = ("pulumi_helpers",)
pytestmark = pytest.mark.slow

PROGRAM = """
import json
import pulumi
import pulumi_cato as cato

spec = json.load(open(f"desired-{pulumi.get_stack()}.json"))
sites = {name: cato.SocketSite(name, **args) for name, args in spec["sites"].items()}
for kind, cls in (("ranges", cato.NetworkRange), ("hosts", cato.StaticHost)):
    for name, args in spec.get(kind, {}).items():
        args = dict(args)
        cls(name, site_id=sites[args.pop("site")].id, **args)
for name, args in spec.get("policies", {}).items():
    cato.InternetFirewallPolicy(name, **args)
"""


MAC = "00:11:22:33:44:55"
MAIN = {
    "sites": {
        "branch": site("Lisbon", "10.40.0.0/24", description="branch office"),
        "depot": site("Porto", "10.41.0.0/24", description="depot"),
        "lab": site("Faro", "10.42.0.0/24"),
    },
    "ranges": {
        "lan": {"site": "branch", "name": "Printers", "subnet": "10.40.8.0/24"},
        "voice": {"site": "branch", "name": "Voice", "subnet": "10.40.9.0/24", "range_type": "VLAN", "vlan": 20,
                  "local_ip": "10.40.9.1"},
        "lab-lan": {"site": "lab", "name": "Bench", "subnet": "10.42.8.0/24"},
    },
    "hosts": {"printer": {"site": "branch", "name": "printer", "ip": "10.40.0.10", "mac_address": MAC}},
    "policies": {
        "corp": {"sections": [{"name": "Corporate", "rules": [
            {"name": "Block ads"}, {"name": "Allow updates", "action": "ALLOW"}, {"name": "Block gaming"}]}]},
    },
}  # fmt: skip
EDGE = {"sites": {"edge": site("Braga", "10.43.0.0/24")}}
KINDS = {"SocketSite", "NetworkRange", "StaticHost", "InternetFirewallPolicy"}  # what these stacks manage


Change = Callable[[World, str, str], None]


def update_site(**fields) -> Change:
    return lambda w, actor, res: w.as_(actor, UPDATE_SITE, s=w.ids[res], i=fields)


def update_range(**fields) -> Change:
    return lambda w, actor, res: w.as_(actor, UPDATE_RANGE, r=w.ids[res], i=fields)


def remove_site(w: World, actor: str, res: str) -> None:
    w.as_(actor, REMOVE_SITE, s=w.ids[res])


def remove_range(w: World, actor: str, res: str) -> None:
    w.as_(actor, REMOVE_RANGE, r=w.ids[res])


def nothing(w: World, actor: str, res: str) -> None:
    pass


def reserve_same_mac(w: World, actor: str, res: str) -> None:
    """A second reservation for the host's NIC: Cato then sees the managed host's MAC at another IP."""
    w.as_(
        actor, ADD_HOST, s=w.ids["branch"], i={"name": "printer-old", "ip": "10.40.0.99", "macAddress": MAC}
    )


@dataclass
class Row:
    """One out-of-band change and what the report must say about it."""

    resource: str  # Pulumi resource name in MAIN
    actor: str | None  # alice (UI), other (another key), ours (our key, not through pulumi)
    change: Change
    kind: str  # finding kind
    path: str | None  # property path (modified, reordered) or fact property (device)
    live: Any  # live value (modified), live position (reordered), observed IP (device)
    cause: str
    actor_name: str | None
    change_type: str | None
    via: str | None = None


# A site's audit records carry no values (KB 4413273463953: values only for some policies such
# as the Internet and WAN firewall): with two actors on one site, both of its changes go to the
# latest record, and the attribution names the other actor rather than pretend to know.
BOTH = "Cato recorded no values; the object was also changed by alice@example.com (UI)"
ROWS = [
    Row("branch", "alice", update_site(description="changed by alice"), "modified", "description",
        "changed by alice", "other-api-key", "another integration", "MODIFIED", via=BOTH),
    Row("branch", "other", update_site(siteLocation={"timezone": "Europe/Madrid"}), "modified",
        "location.timezone", "Europe/Madrid", "other-api-key", "another integration", "MODIFIED", via=BOTH),
    # Our key outside pulumi: what an interrupted `up` leaves behind.
    Row("depot", "ours", update_site(description="half-applied"), "modified", "description", "half-applied",
        "this-tool", "catoiac", "MODIFIED"),
    Row("lab", "alice", remove_site, "deleted", None, None, "ui", "alice@example.com", "DELETED"),
    Row("lab-lan", None, nothing, "deleted", None, None, "ui", "alice@example.com", "DELETED",
        via="removed with its parent"),
    Row("lan", "other", update_range(name="Printers-2"), "modified", "name", "Printers-2", "other-api-key",
        "another integration", "MODIFIED"),
    Row("voice", "alice", remove_range, "deleted", None, None, "ui", "alice@example.com", "DELETED"),
    Row("corp", "alice", move_rule_last("Block ads", "Corporate"), "reordered", "rules[Block ads]",
        {"section": "Corporate", "index": 2}, "ui", "alice@example.com", "MODIFIED"),
    # An observation, not a change to the host: no record touches the host itself.
    Row("printer", "alice", reserve_same_mac, "device", "mac_address", "10.40.0.99", "no-audit-record", None, None),
]  # fmt: skip


@pytest.fixture
def emu(emulator_factory):
    return emulator_factory(rate_limits=RateLimitConfig(enabled=False))


def mine(report: dict) -> list[dict]:
    """Findings about the resource types this test manages (other types may have their own)."""
    return [f for f in report["findings"] if f["resource"]["type"] in KINDS]


def coverage(report: dict) -> dict[str, tuple[int, int]]:
    return {c["type"]: (c["managed"], c["total"]) for c in report["coverage"] if c["type"] in KINDS}


def test_drift_reports_each_out_of_band_change_with_its_actor_and_never_our_own_up(
    pulumi_workspace, emu, tmp_path
):
    ws = pulumi_workspace
    ws.write_project(PROGRAM)
    new_stack(ws, "main", emu, MAIN)
    ws.run("up", "--yes", "--skip-preview", "--stack", "main")
    new_stack(ws, "edge", emu, EDGE)
    ws.run("up", "--yes", "--skip-preview", "--stack", "edge")
    cli = Cli(ws, tmp_path)
    ctl = EmulatorControl(emu.base_url)

    # A clean account: nothing to report, exit 0, and our own creates are how our key is found.
    clean = cli.json(stacks=("main", "edge"), expect=0)
    assert clean["findings"] == [] and clean["summary"]["drift"] is False
    assert clean["own_key"]["id"] == "k-catoiac" and clean["own_key"]["source"] == "inferred"
    assert coverage(clean) == {"NetworkRange": (3, 3), "SocketSite": (4, 4), "StaticHost": (1, 1),
                               "InternetFirewallPolicy": (1, 1)}  # fmt: skip

    # Our own update (an in-place change through pulumi) is not drift either.
    MAIN["sites"]["depot"]["description"] = "depot, v2"
    (ws.project_dir / "desired-main.json").write_text(json.dumps(MAIN))
    ws.run("up", "--yes", "--skip-preview", "--stack", "main")
    assert cli.json(stacks=("main", "edge"), expect=0)["findings"] == []

    # Out-of-band changes, one per row, then an unmanaged site made in the UI.
    world = World(*state_of(ws, "main"), ctl, emu.url)
    before = datetime.now(UTC) - timedelta(seconds=2)
    for row in ROWS:
        row.change(world, row.actor, row.resource)
    world.as_("alice", ADD_SITE, i=site_input("Pop-up", "10.99.0.0/24"))
    after = datetime.now(UTC) + timedelta(seconds=2)
    ctl.reset_stats()

    report = cli.json(expect=2)
    found = by_resource(report)
    for row in ROWS:
        f = found[(row.resource, row.kind)]
        if row.kind in ("modified", "reordered"):
            change = change_at(f, row.path)
            assert change["live"] == row.live, (row, change)
            a = change["attribution"]
        elif row.kind == "device":
            fact = next(x for x in f["facts"] if x["property"] == row.path)
            assert fact["observed"]["ip"] == row.live, (row, fact)
            a = f["attribution"]
        else:
            a = f["attribution"]
        actor = a["actor"]["name"] if a["actor"] else None
        assert (a["cause"], actor, a["change_type"], a["via"]) == (
            row.cause, row.actor_name, row.change_type, row.via,
        ), (row, a)  # fmt: skip
        if a["time"]:
            assert before <= datetime.fromisoformat(a["time"].replace("Z", "+00:00")) <= after
    desc = change_at(found[("branch", "modified")], "description")
    # The value is the live read's; the record says only who changed the site and when.
    assert (desc["desired"], desc["live"], desc["attribution"]["before"], desc["attribution"]["after"]) == (
        "branch office",
        "changed by alice",
        {},
        {},
    )
    assert {c["path"] for c in found[("branch", "modified")]["changes"]} == {
        "description",
        "location.timezone",
    }
    assert found[("depot", "modified")]["attribution"]["actor"]["own_key"] is True
    move = change_at(found[("corp", "reordered")], "rules[Block ads]")
    assert move["desired"] == {"section": "Corporate", "index": 0} and move["op"] == "moved"
    assert [c["path"] for c in found[("corp", "reordered")]["changes"]] == ["rules[Block ads]"]  # one move

    # Edge is managed by the other stack: with one stack it is unmanaged, as are the UI's site and host.
    unmanaged = {f["resource"]["cato_name"]: f for f in mine(report) if f["kind"] == "unmanaged"}
    assert set(unmanaged) == {"Braga", "Pop-up", "printer-old"}
    assert (unmanaged["Pop-up"]["cause"], unmanaged["Pop-up"]["attribution"]["change_type"]) == (
        "ui",
        "CREATED",
    )
    assert coverage(report)["SocketSite"] == (2, 4)
    assert sorted(f["kind"] for f in mine(report)) == sorted(
        ["modified"] * 3 + ["deleted"] * 3 + ["unmanaged"] * 3 + ["reordered", "device"]
    )
    assert ctl.stats().get("auditFeed") == 1

    # Both stacks together: Braga is managed, coverage rises.
    both = cli.json(stacks=("main", "edge"), expect=2)
    assert {f["resource"]["cato_name"] for f in mine(both) if f["kind"] == "unmanaged"} == {
        "Pop-up",
        "printer-old",
    }
    assert coverage(both)["SocketSite"] == (3, 4)

    # Ignores: a live entry hides its finding (reported as ignored), an expired one does not.
    (ws.project_dir / ".catoiacignore").write_text(
        yaml.safe_dump(
            [
                {
                    "type": "SocketSite",
                    "name": "Pop-up",
                    "kind": "unmanaged",
                    "owner": "netops",
                    "expires": "2999-01-01",
                },
                {
                    "type": "SocketSite",
                    "name": "branch",
                    "property": "location.*",
                    "owner": "tz-team",
                    "expires": "2999-01-01",
                },
                {"type": "NetworkRange", "name": "voice", "owner": "voice-team", "expires": "2020-01-01"},
            ]
        )  # fmt: skip
    )
    ignore = ["--ignore-file", str(ws.project_dir / ".catoiacignore")]
    ignored = cli.json(*ignore, stacks=("main", "edge"), expect=2)
    found = by_resource(ignored)
    assert found[("Pop-up", "unmanaged")]["ignored"] is True
    assert found[("Pop-up", "unmanaged")]["ignored_by"]["owner"] == "netops"
    assert change_at(found[("branch", "modified")], "location.timezone")["ignored_by"] == 2
    assert found[("branch", "modified")]["ignored"] is False
    assert found[("voice", "deleted")]["ignored"] is False
    assert [(e["entry"]["owner"], e["findings"]) for e in ignored["expired_ignores"]] == [
        ("voice-team", [found[("voice", "deleted")]["id"]])
    ]
    assert ignored["summary"]["ignored"] == 1

    # Markdown for a PR comment, and the terminal table, say the same.
    md = cli.drift(*ignore, "--format", "markdown", stacks=("main", "edge"), expect=2).stdout
    assert (
        "## Cato drift report" in md and "alice@example.com (admin)" in md and "Expired ignore entries" in md
    )
    assert "| SocketSite | 3 | 4 | 75% |" in md
    table = cli.drift("--no-audit", stacks=("main", "edge"), expect=2).stdout
    assert "Lisbon" in table and "deleted out of band" in table

    # The cache: another change, and the next run asks the feed only for the tail of the window.
    world.as_("alice", UPDATE_SITE, s=world.ids["depot"], i={"description": "alice again"})
    ctl.reset_stats()
    again = cli.json(stacks=("main", "edge"), expect=2)
    assert ctl.stats().get("auditFeed") == 1
    # The tail of the window in a frame of its own: the cached marker belongs to the last run's
    # frame and is not sent with this one (cato-toolbox auditFeed/SPEC.md).
    assert again["audit"]["marker_reused"] is False and again["audit"]["records_from_cache"] > 0
    depot = change_at(by_resource(again)[("depot", "modified")], "description")
    assert (depot["live"], depot["attribution"]["cause"]) == ("alice again", "ui")

    # `catoiac audit`: one resource's trail, then filtered by actor and change type.
    trail = cli.audit("--name", "branch")
    assert [(r["change_type"], r["actor"]["name"], r["cause"]) for r in trail["records"]] == [
        ("CREATED", "catoiac", "this-tool"),
        ("MODIFIED", "alice@example.com", "ui"),
        ("MODIFIED", "another integration", "other-api-key"),
    ]
    only = cli.audit("--name", "branch", "--actor", "alice@example.com", "--change-type", "modified")
    assert [(r["object"]["name"], r["after"]) for r in only["records"]] == [("Lisbon", {})]  # no values
    lab = cli.audit("--name", "lab*", "--change-type", "DELETED")
    assert [(r["resource"]["name"], r["object"]["type"]) for r in lab["records"]] == [("lab", "site")]
    rules = cli.audit("--name", "corp")
    assert ("Block ads", "alice@example.com") in {
        (r["object"]["name"], r["actor"]["name"]) for r in rules["records"]
    }


def test_drift_fails_with_exit_1_and_a_reason_when_the_key_is_refused(pulumi_workspace, emu, tmp_path):
    ws = pulumi_workspace
    ws.write_project(PROGRAM)
    new_stack(ws, "main", emu, {"sites": {}})
    ws.run("up", "--yes", "--skip-preview", "--stack", "main")
    exe = shutil.which("catoiac", path=ws.env["PATH"])
    # The stack's own cato:apiKey beats CATO_TOKEN (as in the provider): refuse the key by flag.
    cmd = [
        exe,
        "drift",
        "--cwd",
        str(ws.project_dir),
        "--stack",
        "main",
        "--no-cache",
        "--api-key",
        "not-a-key",
    ]
    res = subprocess.run(cmd, env=ws.env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 1
    assert "error:" in res.stderr and "not-a-key" not in res.stderr + res.stdout
