"""InternetFirewallPolicy and WanFirewallPolicy through the real pulumi CLI against the emulator over
HTTP: one revision and one publish per changed policy per up, refresh, import, failures, two stacks."""

from __future__ import annotations

import copy
import json

import pytest
from emu_helpers import ACCOUNT
from policy_support import (
    IFW_SECTIONS,
    MOVE_RULE_AS_ALICE,
    PUBLISH_AS_ALICE,
    UPDATE_RULE_AS_ALICE,
    WAN_SECTIONS,
    Reader,
    fixture,
)

from catoiac.emulator.control import EmulatorControl
from catoiac.emulator.limits import RateLimitConfig

pytest_plugins = ("pulumi_helpers",)
pytestmark = pytest.mark.slow

PROGRAM = """
import json
import pulumi
import pulumi_cato as cato

d = json.load(open("desired.json"))
imports = d.get("import", {})
opts = lambda key: pulumi.ResourceOptions(import_=imports.get(key))
if d.get("ifw"):
    ifw = cato.InternetFirewallPolicy("ifw", sections=d["ifw"], opts=opts("ifw"), **d.get("ifw_args", {}))
    pulumi.export("ifw", ifw.id)
    pulumi.export("ifw_rules", ifw.rule_ids)
if d.get("wan"):
    wan = cato.WanFirewallPolicy("wan", sections=d["wan"], opts=opts("wan"))
    pulumi.export("wan", wan.id)
"""
FOREIGN_IFW = [("Security", ["Block anonymizers", "Block gambling"])]


@pytest.fixture
def emu(emulator_factory):
    return emulator_factory(fixture(), rate_limits=RateLimitConfig(enabled=False))


@pytest.fixture
def ctl(emu):
    with EmulatorControl(emu.base_url) as c:
        yield c


@pytest.fixture
def api(emu):
    r = Reader(emu.url)
    yield r
    r.close()


def workspace(ws, emu, name: str = "catoiac-test"):
    ws.project_name = name
    ws.env_extra["CATOIAC_RATE_LIMIT_SCALE"] = "0.001"
    ws.write_project(PROGRAM)
    ws.use_emulator(emu)
    return ws


@pytest.fixture
def ws(pulumi_workspace, emu):
    return workspace(pulumi_workspace, emu)


def desire(ws, ifw=None, wan=None, imports=None, **ifw_args) -> None:
    body = {"ifw": ifw, "wan": wan, "import": imports or {}, "ifw_args": ifw_args}
    (ws.project_dir / "desired.json").write_text(json.dumps(body))


def layout_of(sections) -> list[tuple[str, list[str]]]:
    return [(s["name"], [r["name"] for r in s["rules"]]) for s in sections]


def publishes(ctl) -> int:
    return ctl.stats().get("publishPolicyRevision", 0)


def test_policy_lifecycle_create_noop_update_refresh_import_destroy(ws, emu, ctl, api):
    desire(ws, IFW_SECTIONS, WAN_SECTIONS)
    ctl.reset_stats()
    ws.run("up", "--yes", "--skip-preview")
    assert publishes(ctl) == 2  # one per policy
    assert api.layout() == FOREIGN_IFW + layout_of(IFW_SECTIONS)
    assert api.layout("wanFirewall") == [("Baseline", ["Block legacy"])] + layout_of(WAN_SECTIONS)
    out = ws.outputs()
    assert out["ifw"] == "internetFirewall:Corporate,Guest" and out["wan"] == "wanFirewall:Branches"

    ctl.reset_stats()
    ws.run("preview", "--expect-no-changes")
    ws.run("up", "--yes", "--skip-preview")
    assert ctl.stats() == {}  # nothing changed: nothing read, nothing published

    # Update in place: change a rule, add one, move one, rename a section. One publish, no delete.
    desired = copy.deepcopy(IFW_SECTIONS)
    corp = desired[0]["rules"]
    corp[1]["description"] = "office apps"
    corp.insert(0, corp.pop(2))
    corp.append({"name": "Block AI", "destination": {"application": [{"id": "chatgpt"}]}})
    desired[1]["name"] = "Guests"
    desire(ws, desired, WAN_SECTIONS)
    ctl.reset_stats()
    up = ws.run("up", "--yes", "--skip-preview")
    assert "1 updated" in up.stdout, up.stdout
    stats = ctl.stats()
    assert stats["publishPolicyRevision"] == 1 and stats["moveRule"] == 1 and stats["addRule"] == 1
    assert not {"removeRule", "removeSection"} & set(stats)
    assert api.layout() == FOREIGN_IFW + layout_of(desired)
    assert ws.outputs()["ifw"] == out["ifw"]
    ws.run("preview", "--expect-no-changes")

    # Another admin moves and edits rules in the console: refresh shows it, up puts it back.
    ids = ws.outputs()["ifw_rules"]
    admin = lambda doc, **v: ctl.as_admin(ACCOUNT, "alice@example.com", doc, {"a": ACCOUNT, **v})  # noqa: E731
    admin(MOVE_RULE_AS_ALICE, id=ids["Block AI"], ref=ids["Block risky"])
    admin(UPDATE_RULE_AS_ALICE, id=ids["Allow office"])
    admin(PUBLISH_AS_ALICE)
    ctl.reset_stats()
    refresh = ws.run("refresh", "--yes", "--skip-preview")
    assert "1 updated" in refresh.stdout, refresh.stdout
    assert ctl.stats().get("policy") == 2  # one query per policy for the whole refresh
    state = next(r for r in ws.resources() if r["urn"].endswith("::ifw"))["outputs"]
    rules = {r["name"]: r for r in state["sections"][0]["rules"]}
    assert list(rules) == ["Block AI", "Block risky", "Block social", "Allow office"]
    assert rules["Allow office"]["description"] == "edited by alice"
    assert ws.run("preview", "--expect-no-changes", check=False).returncode != 0
    ctl.reset_stats()
    ws.run("up", "--yes", "--skip-preview")
    assert publishes(ctl) == 1
    assert api.layout() == FOREIGN_IFW + layout_of(desired)
    assert api.rule("Allow office")["description"] == "office apps"
    ws.run("preview", "--expect-no-changes")

    # Import: forget the resource, adopt it again by its id: no write, no diff.
    urn = next(r["urn"] for r in ws.resources() if r["urn"].endswith("::ifw"))
    ws.run("state", "delete", urn, "--yes")
    desire(ws, desired, WAN_SECTIONS, imports={"ifw": "internetFirewall:Corporate,Guests"})
    ctl.reset_stats()
    ws.run("up", "--yes", "--skip-preview")
    assert publishes(ctl) == 0 and "createPolicyRevision" not in ctl.stats()
    assert set(ws.outputs()["ifw_rules"]) == {r["name"] for s in desired for r in s["rules"]}
    desire(ws, desired, WAN_SECTIONS)
    ws.run("preview", "--expect-no-changes")

    ctl.reset_stats()
    ws.run("destroy", "--yes", "--skip-preview")
    assert publishes(ctl) == 2
    assert api.layout() == FOREIGN_IFW
    assert api.layout("wanFirewall") == [("Baseline", ["Block legacy"])]
    assert api.open_revisions() == [] and api.open_revisions("wanFirewall") == []


def test_sections_deleted_out_of_band_refresh_as_gone(ws, emu, ctl):
    desire(ws, IFW_SECTIONS[1:])
    ws.run("up", "--yes", "--skip-preview")
    rule_id = ws.outputs()["ifw_rules"]["Guest web"]
    section = next(r for r in ws.resources() if r["urn"].endswith("::ifw"))["outputs"]["section_ids"]["Guest"]
    for doc, v in (
        ("removeRule(input: {id: $id})", {"id": rule_id}),
        ("removeSection(input: {id: $id})", {"id": section}),
    ):
        ctl.as_admin(ACCOUNT, "alice@example.com",
                     f"mutation($a: ID!, $id: ID!) {{ policy(accountId: $a) {{ internetFirewall {{ {doc} {{ status }} }} }} }}",
                     {"a": ACCOUNT, **v})  # fmt: skip
    ctl.as_admin(ACCOUNT, "alice@example.com", PUBLISH_AS_ALICE, {"a": ACCOUNT})
    refresh = ws.run("refresh", "--yes", "--skip-preview")
    assert "1 deleted" in refresh.stdout, refresh.stdout
    assert not any(r["urn"].endswith("::ifw") for r in ws.resources())


@pytest.mark.parametrize("operation, nth", [("addRule", 3), ("publishPolicyRevision", 1)])
def test_a_failed_update_leaves_the_published_policy_unchanged_and_the_next_up_succeeds(
    ws, emu, ctl, api, operation, nth
):
    desire(ws, IFW_SECTIONS)
    ws.run("up", "--yes", "--skip-preview")
    before = api.layout()
    desired = copy.deepcopy(IFW_SECTIONS)
    desired[0]["rules"] += [
        {"name": f"Extra {i}", "destination": {"fqdn": [f"x{i}.example.com"]}} for i in range(4)
    ]
    desire(ws, desired)
    ctl.add_fault("fail", operation=operation, nth=nth, message="injected failure")
    failed = ws.run("up", "--yes", "--skip-preview", check=False)
    assert failed.returncode != 0
    assert "injected failure" in failed.stdout + failed.stderr
    assert "published policy is unchanged" in failed.stdout + failed.stderr
    assert api.layout() == before
    assert api.open_revisions() == []
    ctl.clear_faults()
    ctl.reset_stats()
    ws.run("up", "--yes", "--skip-preview")
    assert publishes(ctl) == 1
    assert api.layout() == FOREIGN_IFW + layout_of(desired)  # no duplicates
    ws.run("preview", "--expect-no-changes")


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda s: s[0]["rules"][0]["source"].update(sitez=["HQ"]), "'sitez' is not one of"),
        (
            lambda s: s[0]["rules"][0]["destination"]["application"].append({"idd": "box"}),
            "'idd' is not one of id, name",
        ),
        (
            lambda s: s[1]["rules"].append({"name": "Block social"}),
            "rule name 'Block social' is also used by",
        ),
        (lambda s: s[0]["rules"][1]["source"].update(subnet=["10.2.0.1/24"]), "no host bits set"),
    ],
    ids=["unknown-ref-kind", "malformed-ref", "duplicate-rule-name", "invalid-cidr"],
)
def test_bad_inputs_fail_in_check_naming_the_property_and_make_no_api_call(ws, ctl, change, message):
    sections = copy.deepcopy(IFW_SECTIONS)
    change(sections)
    desire(ws, sections)
    ctl.reset_stats()
    res = ws.run("preview", check=False)
    assert res.returncode != 0
    text = res.stdout + res.stderr
    assert message in text and "sections[" in text, text
    assert ctl.stats() == {}


def test_two_stacks_owning_different_sections_of_one_policy_leave_each_other_alone(
    pulumi_workspace, tmp_path, emu, ctl, api
):
    from pulumi_helpers import PulumiWorkspace

    security = workspace(pulumi_workspace, emu, "security")
    apps = workspace(PulumiWorkspace(root=tmp_path / "apps"), emu, "apps")
    desire(
        security,
        [
            {
                "name": "Threats",
                "rules": [{"name": "Block malware", "destination": {"app_category": ["Botnets"]}}],
            }
        ],
    )
    desire(apps, [{"name": "Apps", "rules": [{"name": "Allow box", "action": "ALLOW", "destination": {"application": ["Box"]}}]}],
           after_section="Security")  # fmt: skip
    security.run("up", "--yes", "--skip-preview")
    apps.run("up", "--yes", "--skip-preview")
    assert [n for n, _ in api.layout()] == ["Security", "Apps", "Threats"]

    # Each stack changes only its own sections; the other's stay intact.
    desire(security, [{"name": "Threats", "rules": [{"name": "Block malware", "action": "BLOCK"},
                                                    {"name": "Block phishing", "destination": {"fqdn": ["evil.example"]}}]}])  # fmt: skip
    security.run("up", "--yes", "--skip-preview")
    assert api.layout() == [
        *FOREIGN_IFW,
        ("Apps", ["Allow box"]),
        ("Threats", ["Block malware", "Block phishing"]),
    ]
    apps.run("preview", "--expect-no-changes")
    apps.run("destroy", "--yes", "--skip-preview")
    assert api.layout() == [*FOREIGN_IFW, ("Threats", ["Block malware", "Block phishing"])]
    security.run("preview", "--expect-no-changes")
    security.run("destroy", "--yes", "--skip-preview")
    assert api.layout() == FOREIGN_IFW
