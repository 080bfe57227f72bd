"""What a security reviewer needs from ``catoiac review``: the stack, objects by name, adoptions as
adoptions, every changed rule whole and where it lands, a rule rewritten in place shown as such,
and every change that loosens security flagged (and failing CI when asked).

``security-preview.json`` is a real ``pulumi preview --json`` of stack ``prod`` (see
``tests/golden/make_preview.py``); ``security-state.json`` is that stack's state before it and
``security-core-state.json`` the state of stack ``core``, which manages the site Madrid that
``prod`` refers to by id."""

from __future__ import annotations

import copy
import json
import os
import sys
from pathlib import Path

import pytest
from review_support import catoiac, ids_masked

from catoiac.drift import review_rules as rr
from catoiac.drift.review import Names, build, rule_card
from catoiac.drift.state import load_state_file

GOLDEN = Path(__file__).resolve().parent / "golden"
PREVIEW = GOLDEN / "security-preview.json"
STATES = [GOLDEN / "security-state.json", GOLDEN / "security-core-state.json"]
IFW, WAN = "InternetFirewallPolicy", "WanFirewallPolicy"


def preview() -> dict:
    return json.loads(PREVIEW.read_text())


def names() -> Names:
    n = Names()
    n.add_states(load_state_file(p) for p in STATES)
    return n


def full_review(data: dict | None = None) -> str:
    return build(data or preview(), names=names()).markdown()


def section(text: str, title: str) -> str:
    return text.split(f"\n### {title}\n")[1].split("\n### ")[0]


def card(text: str, heading: str) -> str:
    return text.split(heading, 1)[1].split("\n\n**", 1)[0].split("</details>")[0]


def test_review_of_the_security_preview_matches_the_golden_markdown():
    res = catoiac("review", str(PREVIEW), *[f"--state-file={p}" for p in STATES])
    assert res.returncode == 0, res.stdout + res.stderr
    if os.environ.get("CATOIAC_UPDATE_GOLDEN"):
        (GOLDEN / "review-security.md").write_text(res.stdout)
    assert res.stdout == (GOLDEN / "review-security.md").read_text()


def test_the_header_names_the_stack_from_the_preview_or_from_the_option():
    assert full_review().startswith("## Pulumi preview review · stack `prod` (project `catoiac-test`)\n")
    res = catoiac("review", "--stack", "staging", stdin="")  # nothing to read the stack from
    assert res.stdout.startswith("## Pulumi preview review · stack `staging`\n")
    res = catoiac("review", stdin="", env={"PULUMI_STACK": "from-env"})
    assert res.stdout.startswith("## Pulumi preview review · stack `from-env`\n")


def test_children_of_sites_outside_the_preview_are_grouped_by_site_name_from_the_states():
    text = full_review()
    assert "### Site Lisbon\n" in text  # unchanged, so not in the preview: named by the stack's own state
    assert "### Site Madrid (managed by stack `core`)\n" in text  # another stack's site, referred to by id
    assert "update StaticHost <code>madrid-cam</code> (camera · 10.50.0.21)" in section(
        text, "Site Madrid (managed by stack `core`)"
    )
    assert "| `site_id` | Lisbon (id `100003`) |" in section(text, "Site Lisbon")
    assert "### Site 100" not in text and "### Site id" not in text


def test_without_the_states_the_review_says_how_to_name_a_site():
    text = build(preview()).markdown()
    assert "### Site id 100003 (not in this stack: `--state-file` or `--names-from-stack` names it)" in text


def test_a_deleted_host_shows_its_address():
    text = full_review()
    assert "> - **delete** StaticHost `lisbon-nas` (nas · 10.40.0.9 · 00:11:22:33:44:99)" in text
    details = section(text, "Site Lisbon")
    assert "| `ip` | `10.40.0.9` |" in details and "| `mac_address` | `00:11:22:33:44:99` |" in details


def test_group_members_appear_by_name():
    text = full_review()
    row = next(line for line in text.splitlines() if line.startswith("| `members` |"))
    assert row == (
        "| `members` | site Madrid (id 100002), host printer | site Madrid (id 100002), site Lisbon"
        "<br>_(adds site Lisbon; drops host printer)_ |"
    )
    assert '"type"' not in text and '{"id"' not in text


def test_an_import_adoption_is_shown_as_an_adoption_not_a_create():
    text = full_review()
    assert (
        text.splitlines()[2]
        == "**1 to adopt (`import_`: no change in Cato) · 4 to update · 1 to delete · 4 unchanged**"
    )
    assert "adopt SocketSite <code>sevilla</code> (Sevilla · 10.60.0.0/24)" in text
    assert "Takes over the existing Cato object id `100001` (`import_`)" in text
    assert "to create" not in text and "create SocketSite" not in text


def test_each_changed_rule_is_shown_whole_and_new_rules_say_where_they_go():
    text = full_review()
    social = card(text, "**rule `Block social`** at Lisbon #2")
    assert "| **applications** | application id facebook, TikTok | **application id box, id dropbox, id facebook, TikTok** |" in social  # fmt: skip
    assert "| **tracking** | none | **event, alert DAILY** |" in social
    for row in (
        "| action | BLOCK | BLOCK |",
        "| source | site Lisbon | site Lisbon |",
        "| destination | any | any |",
    ):
        assert row in social
    assert "…" not in text  # nothing is cut short
    assert "**new rule `Allow marketing social`** at Lisbon #1 (first in its section)" in text
    assert "**new rule `Lisbon to Madrid voice`** at Lisbon WAN #3 (after `No branch to branch`)" in text
    assert "| destination | site Madrid (id 100002) |" in card(text, "**new rule `Lisbon to Madrid voice`**")


def test_a_rule_removed_and_another_added_in_its_place_is_one_rule_rewritten_in_place():
    text = full_review()
    assert (
        "**rule `Block legacy VPN` rewritten in place as `Allow admin SSH`** at Lisbon #5: the provider keeps "
        "the Cato rule (same id), renames it and replaces its body" in text
    )
    rewritten = card(text, "rewritten in place as `Allow admin SSH`**")
    assert "| **name** | Block legacy VPN | **Allow admin SSH** |" in rewritten
    assert "| **action** | BLOCK | **ALLOW** |" in rewritten
    assert "new rule `Allow admin SSH`" not in text and "rule `Block legacy VPN` removed" not in text
    assert (
        "InternetFirewallPolicy `internet`: rule `Block legacy VPN` is rewritten in place as `Allow admin SSH`"
        in text.split("destructive change(s)**")[1]
    )


def test_security_loosening_is_flagged_for_each_kind():
    assert build(preview(), names=names()).loosening == [
        "InternetFirewallPolicy `internet` · rule `Allow marketing social` (Lisbon #1): new ALLOW rule above BLOCK rule(s) `Block social` that match some of the same traffic: it exempts that traffic from them",
        "InternetFirewallPolicy `internet` · rule `Allow updates` (Lisbon #3): source widened: restriction removed (was subnet 10.40.0.0/24; now any)",
        "InternetFirewallPolicy `internet` · rule `Block torrents` (Lisbon #4): action BLOCK → ALLOW",
        "InternetFirewallPolicy `internet` · rule `Allow admin SSH` (Lisbon #5): BLOCK rule `Block legacy VPN` is replaced in place by `Allow admin SSH` (ALLOW)",
        "InternetFirewallPolicy `internet` · rule `Guest web` (Lisbon guests #1): source widened: subnet 10.40.0.0/16 (wider than subnet 10.40.50.0/24)",
        "InternetFirewallPolicy `internet` · rule `Block gambling` (Lisbon #2): BLOCK rule removed",
        "WanFirewallPolicy `wan` · rule `Lisbon to DC` (Lisbon WAN #1): destination widened: subnet 10.0.0.0/16 (wider than subnet 10.0.0.0/24)",
        "WanFirewallPolicy `wan` · rule `Lisbon to Madrid voice` (Lisbon WAN #3): new ALLOW rule in a firewall that blocks what no rule allows",
    ]  # fmt: skip
    text = full_review()
    assert (
        text.index("**Security loosening: 8**") < text.index("destructive change(s)") < text.index("\n### ")
    )


def only_internet_policy(data: dict) -> dict:
    """The preview with only the internet policy's step changing (its removed BLOCK rule)."""
    out = copy.deepcopy(data)
    out["steps"] = [s for s in out["steps"] if s["op"] == "same" or s["urn"].endswith("::internet")]
    return out


def test_fail_flags_fail_ci_on_loosening_and_on_a_removed_block_rule(tmp_path):
    path = tmp_path / "p.json"
    path.write_text(json.dumps(only_internet_policy(preview())))
    assert catoiac("review", str(path)).returncode == 0
    assert catoiac("review", str(path), "--fail-on-loosening").returncode == 2
    res = catoiac("review", str(path), "--fail-on-destructive")
    assert res.returncode == 2
    assert (
        "InternetFirewallPolicy `internet`: rule `Block gambling` removed (was Lisbon #2, BLOCK)"
        in res.stdout
    )


def test_fail_flags_pass_a_change_that_neither_loosens_nor_destroys(tmp_path):
    data = only_internet_policy(preview())
    step = next(s for s in data["steps"] if s["urn"].endswith("::internet"))
    step["newState"]["inputs"] = copy.deepcopy(step["oldState"]["inputs"])
    rules = step["newState"]["inputs"]["sections"][0]["rules"]
    rules[0]["tracking"] = {"event": {"enabled": True}}  # more logging
    rules.append({"name": "Block crypto mining", "destination": {"app_category": ["Cryptocurrency"]}})
    path = tmp_path / "p.json"
    path.write_text(json.dumps(data))
    res = catoiac("review", str(path), "--fail-on-loosening", "--fail-on-destructive")
    assert res.returncode == 0, res.stdout
    assert "**new rule `Block crypto mining`** at Lisbon #6 (after `Block legacy VPN`)" in res.stdout


# -- the rules of loosening, one by one ---------------------------------------------------------------------
def diff(spec: str, before: list[dict], after: list[dict], **kw) -> rr.PolicyDiff:
    return rr.policy_diff(spec, {"sections": [{"name": "S", "rules": before}]}, {"sections": [{"name": "S", "rules": after}]}, **kw)  # fmt: skip


def flags(d: rr.PolicyDiff) -> list[str]:
    return [why for _, why in d.loosening]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ({"subnet": ["10.0.1.0/24"]}, {"subnet": ["10.0.0.0/16"]}, ["subnet 10.0.0.0/16 (wider than subnet 10.0.1.0/24)"]),
        ({"subnet": ["10.0.0.0/16"]}, {"subnet": ["10.0.1.0/24"]}, []),  # narrower
        ({"ip": ["10.0.1.5"]}, {"subnet": ["10.0.1.0/24"]}, ["subnet 10.0.1.0/24 (wider than ip 10.0.1.5)"]),
        ({"subnet": ["10.0.0.0/16"]}, {"ip": ["10.0.1.5"]}, []),  # inside the old subnet
        ({"site": ["Lisbon"]}, {}, ["restriction removed (was site Lisbon; now any)"]),
        ({"site": ["Lisbon"]}, {"site": ["Lisbon", "Porto"]}, ["adds site Porto"]),
        ({"ip_range": [{"from": "10.0.0.1", "to": "10.0.0.9"}]}, {"ip_range": [{"from": "10.0.0.1", "to": "10.0.0.99"}]},
         ["ip range 10.0.0.1–10.0.0.99 (wider than ip range 10.0.0.1–10.0.0.9)"]),
        ({"site": [{"name": "04da6b54-80e4-46f7-96ec-b56ff0331ba9"}]}, {"site": ["Porto"]}, []),  # unknown: not judged
    ],
    ids=["broader-subnet", "narrower-subnet", "ip-to-its-subnet", "ip-inside", "restriction-removed", "site-added",
         "ip-range-grown", "unknown-value"],
)  # fmt: skip
def test_widened_source_of_an_allow_rule(old, new, expected):
    d = diff(
        IFW,
        [{"name": "r", "action": "ALLOW", "source": old}],
        [{"name": "r", "action": "ALLOW", "source": new}],
    )
    assert flags(d) == [f"source widened: {e}" for e in expected]


def test_a_narrowed_or_disabled_block_rule_loosens_and_a_narrowed_allow_rule_does_not():
    block = {"name": "b", "source": {"subnet": ["10.0.0.0/16"]}}
    narrowed = {"name": "b", "source": {"subnet": ["10.0.1.0/24"]}}
    assert flags(diff(IFW, [block], [narrowed])) == ["BLOCK rule source narrowed: drops subnet 10.0.0.0/16"]
    assert flags(diff(IFW, [{"name": "b"}], [{"name": "b", "source": {"site": ["Lisbon"]}}])) == [
        "BLOCK rule source narrowed: now only site Lisbon (was any)"
    ]
    assert flags(diff(IFW, [block], [{**block, "enabled": False}])) == ["BLOCK rule disabled"]
    assert flags(diff(IFW, [{**block, "action": "ALLOW"}], [{**narrowed, "action": "ALLOW"}])) == []
    assert flags(diff(IFW, [block], [{**block, "exceptions": [{"name": "ceo"}]}])) == ["BLOCK rule gets exception `ceo`"]  # fmt: skip


def test_actions_connection_origin_direction_and_schedule():
    assert flags(diff(IFW, [{"name": "r", "action": "PROMPT"}], [{"name": "r", "action": "ALLOW"}])) == ["action PROMPT → ALLOW"]  # fmt: skip
    assert flags(diff(IFW, [{"name": "r", "action": "ALLOW"}], [{"name": "r", "action": "BLOCK"}])) == []
    assert flags(diff(WAN, [{"name": "r", "action": "ALLOW"}], [{"name": "r", "action": "ALLOW", "direction": "BOTH"}])) == ["direction widened: TO → BOTH"]  # fmt: skip
    assert flags(diff(IFW, [{"name": "r", "action": "ALLOW", "connection_origin": "SITE"}], [{"name": "r", "action": "ALLOW"}])) == ["connection origin widened: SITE → ANY"]  # fmt: skip
    assert flags(diff(IFW, [{"name": "b"}], [{"name": "b", "schedule": {"active_on": "WORKING_HOURS"}}])) == ["BLOCK rule schedule narrowed: ALWAYS → WORKING_HOURS"]  # fmt: skip


def test_new_allow_rules_loosen_the_wan_firewall_and_shadow_overlapping_block_rules_only():
    block = {
        "name": "Block social",
        "source": {"site": ["Lisbon"]},
        "destination": {"application": [{"id": "facebook"}]},
    }
    allow = lambda **kw: {"name": "new", "action": "ALLOW", **kw}  # noqa: E731
    assert flags(diff(WAN, [], [allow()])) == ["new ALLOW rule in a firewall that blocks what no rule allows"]
    assert flags(diff(IFW, [block], [block, allow()])) == []  # below: shadows nothing
    assert flags(diff(IFW, [block], [allow(), block])) != []  # above, matches anything
    other_app = allow(destination={"application": [{"id": "zoom"}]})
    assert flags(diff(IFW, [block], [other_app, block])) == []  # another application: disjoint
    sites = rr.Sites()
    sites.add([("name", "Lisbon")], "10.40.0.0/24")
    sites.add([("name", "Porto")], "10.41.0.0/24")
    porto_subnet = allow(source={"subnet": ["10.41.0.0/25"]})
    assert flags(diff(IFW, [block], [porto_subnet, block], sites=sites)) == []  # another site's range
    unknown_subnet = allow(source={"subnet": ["10.99.0.0/24"]})  # in no known range: may be Lisbon's
    assert flags(diff(IFW, [block], [unknown_subnet, block], sites=sites)) == [
        "new ALLOW rule above BLOCK rule(s) `Block social` that match some of the same traffic: it exempts that traffic from them"
    ]  # fmt: skip


def test_pairing_follows_the_provider_a_pure_rename_is_neither_destructive_nor_loosening():
    d = diff(
        IFW,
        [{"name": "old", "source": {"site": ["Lisbon"]}}],
        [{"name": "new", "source": {"site": ["Lisbon"]}}],
    )
    (rc,) = d.rules
    assert (rc.kind, rc.old_name, rc.new_name, rc.destructive, rc.loosening) == (
        "rewritten",
        "old",
        "new",
        False,
        [],
    )
    # only the rule at the same place is taken over; elsewhere it is a removal and an addition
    d = diff(IFW, [{"name": "a"}, {"name": "old"}], [{"name": "a"}, {"name": "new"}])
    assert [(r.kind, r.name) for r in d.rules] == [("rewritten", "new")]
    d = diff(IFW, [{"name": "a"}, {"name": "old"}], [{"name": "new"}, {"name": "a"}])
    assert [(r.kind, r.name) for r in d.rules] == [("added", "new"), ("removed", "old")]


def test_moves_are_shown_and_are_not_loosening():
    a, b, c = {"name": "a", "action": "ALLOW"}, {"name": "b"}, {"name": "c"}
    d = diff(IFW, [a, b, c], [b, c, a])  # the fewest moves: `a` goes last
    assert [(r.kind, r.name, str(r.old_place), str(r.new_place)) for r in d.rules] == [
        ("moved", "a", "S #1", "S #3")
    ]
    assert flags(d) == []
    assert rule_card(IFW, d.rules[0]).startswith("**rule `a`** at S #3 · moved from S #1")


@pytest.mark.slow
def test_stored_security_preview_is_what_pulumi_produces_today(pulumi_workspace):
    """Regenerate the scenario with the real CLI and the emulator: the same review."""
    sys.path.insert(0, str(GOLDEN))
    from make_preview import generate_security

    fresh = generate_security()
    n = Names()
    for name in ("security-state.json", "security-core-state.json"):
        path = pulumi_workspace.root / name
        path.write_text(json.dumps(fresh[name]))
        n.add_states([load_state_file(path)])
    assert ids_masked(build(fresh["security-preview.json"], names=n).markdown()) == ids_masked(full_review())


pytest_plugins = ("pulumi_helpers",)


def test_a_change_the_planner_refuses_is_still_reviewed_with_rules_paired_by_name():
    data = json.loads((GOLDEN / "review-preview.json").read_text())
    step = next(s for s in data["steps"] if s["urn"].endswith("::corp"))
    step["newState"]["inputs"]["sections"][1]["name"] = "Corporate"  # two sections of one name
    text = build(data).markdown()
    assert "- _rules are paired by name only: the provider's planner refuses this change (" in text
    assert "**new rule `Guest mail`**" in text
