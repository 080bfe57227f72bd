"""Firewall policy resources through the engine, against the emulator over HTTP, without Pulumi:
one revision and one publish per change, discarded on any failure, and the calls each step costs."""

from __future__ import annotations

import copy

import pytest
from emu_helpers import ACCOUNT, KEY
from policy_support import (
    IFW_SECTIONS,
    MOVE_RULE_AS_ALICE,
    PUBLISH_AS_ALICE,
    WAN_SECTIONS,
    Reader,
    fixture,
)

from catoiac.client import CatoClient
from catoiac.config import ClientConfig
from catoiac.emulator.control import EmulatorControl
from catoiac.emulator.limits import RateLimitConfig
from catoiac.ratelimit import RateLimitTable
from catoiac.resources import Engine
from catoiac.resources.policy import PolicyApplyError
from catoiac.resources.policy_plan import PlanError
from catoiac.resources.specs import SPECS
from catoiac.session import Session

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


def engine(emu, spec="InternetFirewallPolicy") -> Engine:
    cfg = ClientConfig(api_key=KEY, account_id=ACCOUNT, base_url=emu.url, timeout=10)
    session = Session(CatoClient(cfg, limits=RateLimitTable.cato_defaults(scale=0.001)))
    return Engine(SPECS[spec], lambda: session)


def checked(e: Engine, sections, **extra) -> dict:
    inputs, failures = e.check({}, {"sections": sections, **extra})
    assert failures == []
    return inputs


def layout_of(sections) -> list[tuple[str, list[str]]]:
    return [(s["name"], [r["name"] for r in s["rules"]]) for s in sections]


def test_create_read_update_delete_each_in_one_revision_with_one_publish(emu, ctl, api):
    e = engine(emu)
    inputs = checked(e, IFW_SECTIONS)
    ctl.reset_stats()
    rid, outs = e.create(inputs)
    assert rid == "internetFirewall:Corporate,Guest"
    assert api.layout() == FOREIGN_IFW + layout_of(IFW_SECTIONS)
    stats = ctl.stats()
    assert stats["createPolicyRevision"] == 1 and stats["publishPolicyRevision"] == 1
    assert stats["addSection"] == 2 and stats["addRule"] == 4 and stats.get("discardPolicyRevision") is None
    assert api.open_revisions() == []
    assert set(outs["rule_ids"]) == {"Block social", "Allow office", "Block risky", "Guest web"}

    # Read back: no diff, refs in the form they were given.
    found, read_outs, live = e.read(rid, outs)
    assert found == rid and not e.diff(outs, live).changes, (live, inputs)
    assert live["sections"][0]["rules"][0]["destination"]["application"] == [
        {"id": "facebook"},
        {"name": "Dropbox"},
    ]

    # Change a rule, add one, move one, rename a section: one revision, one publish, no delete+add.
    desired = copy.deepcopy(IFW_SECTIONS)
    corp = desired[0]["rules"]
    corp[0]["action"] = "PROMPT"
    corp.insert(0, corp.pop(2))  # "Block risky" to the top
    corp.append({"name": "Block AI", "destination": {"application": [{"id": "chatgpt"}]}})
    desired[1]["name"] = "Guests"
    new = checked(e, desired)
    assert e.diff(read_outs, new).changes
    ctl.reset_stats()
    outs2 = e.update(rid, read_outs, new)
    stats = ctl.stats()
    assert {k: stats.get(k, 0) for k in ("publishPolicyRevision", "moveRule", "addRule", "updateRule", "updateSection",
                                         "removeRule", "removeSection")} == {
        "publishPolicyRevision": 1, "moveRule": 1, "addRule": 1, "updateRule": 1, "updateSection": 1,
        "removeRule": 0, "removeSection": 0,
    }  # fmt: skip
    assert api.layout() == FOREIGN_IFW + layout_of(desired)
    assert api.rule("Block social")["action"] == "PROMPT"
    assert outs2["section_ids"]["Guests"] == outs["section_ids"]["Guest"]  # renamed in place

    # A no-op apply opens no revision.
    ctl.reset_stats()
    e.update(rid, outs2, new)
    assert "createPolicyRevision" not in ctl.stats()

    ctl.reset_stats()
    e.delete(rid, outs2)
    assert api.layout() == FOREIGN_IFW
    assert ctl.stats()["publishPolicyRevision"] == 1 and api.open_revisions() == []
    assert e.read(rid, outs2)[0] is None


def test_wan_firewall_policy_round_trips_with_direction_and_site_refs(emu, api):
    e = engine(emu, "WanFirewallPolicy")
    rid, outs = e.create(checked(e, WAN_SECTIONS))
    assert rid == "wanFirewall:Branches"
    assert api.layout("wanFirewall") == [("Baseline", ["Block legacy"])] + layout_of(WAN_SECTIONS)
    _, _, live = e.read(rid, outs)
    assert not e.diff(outs, live).changes
    assert api.rule("Paris to HQ", "wanFirewall")["direction"] == "TO"


def test_reads_cost_one_policy_query_per_process_and_see_console_moves(emu, ctl):
    e = engine(emu)
    rid, outs = e.create(checked(e, IFW_SECTIONS))
    ids = outs["rule_ids"]
    ctl.as_admin(ACCOUNT, "alice@example.com", MOVE_RULE_AS_ALICE,
                 {"a": ACCOUNT, "id": ids["Block risky"], "ref": ids["Block social"]})  # fmt: skip
    ctl.as_admin(ACCOUNT, "alice@example.com", PUBLISH_AS_ALICE, {"a": ACCOUNT})
    ctl.reset_stats()
    e2 = engine(emu)  # a new provider process
    _, _, live = e2.read(rid, outs)
    e2.read(rid, outs)
    assert ctl.stats() == {"policy": 1}
    assert [r["name"] for r in live["sections"][0]["rules"]] == [
        "Block risky",
        "Block social",
        "Allow office",
    ]
    assert e2.diff(outs, live).changed == ["sections"]


@pytest.mark.parametrize("operation, nth", [("addRule", 3), ("publishPolicyRevision", 1)])
def test_a_failure_mid_update_discards_the_revision_and_the_next_apply_succeeds(
    emu, ctl, api, operation, nth
):
    e = engine(emu)
    rid, outs = e.create(checked(e, IFW_SECTIONS))
    before = api.layout()
    desired = copy.deepcopy(IFW_SECTIONS)
    desired[0]["rules"] += [{"name": f"New {i}"} for i in range(4)]
    new = checked(e, desired)
    ctl.add_fault("fail", operation=operation, nth=nth, message="boom")
    with pytest.raises(PolicyApplyError, match="discarded, the published policy is unchanged"):
        e.update(rid, outs, new)
    assert api.layout() == before
    assert api.open_revisions() == []
    ctl.clear_faults()
    e.update(rid, outs, new)
    assert api.layout() == FOREIGN_IFW + layout_of(desired)


def test_a_lost_reply_mid_update_discards_the_revision(emu, ctl, api):
    e = engine(emu)
    rid, outs = e.create(checked(e, IFW_SECTIONS))
    before = api.layout()
    desired = copy.deepcopy(IFW_SECTIONS)
    desired[1]["rules"].append({"name": "Guest mail", "action": "ALLOW"})
    ctl.add_fault("reset", operation="addRule", nth=1)
    with pytest.raises(PolicyApplyError, match="reply was lost"):
        e.update(rid, outs, checked(e, desired))
    assert api.layout() == before and api.open_revisions() == []


def test_a_lost_publish_reply_that_did_publish_counts_as_success(emu, ctl, api):
    e = engine(emu)
    ctl.add_fault("timeout_after_commit", operation="publishPolicyRevision", delay=0.2, nth=1)
    rid, outs = e.create(checked(e, IFW_SECTIONS))
    assert api.layout() == FOREIGN_IFW + layout_of(IFW_SECTIONS)
    assert api.open_revisions() == []
    assert set(outs["section_ids"]) == {"Corporate", "Guest"}


def test_a_revision_left_open_by_an_interrupted_run_is_discarded_first(emu, ctl, api):
    e = engine(emu)
    rid, outs = e.create(checked(e, IFW_SECTIONS))
    leftover = api.client.execute(
        "InternetFirewallCreateRevision", {"input": {"name": f"catoiac {rid}", "description": "crashed"}}
    )["policy"]["internetFirewall"]["createPolicyRevision"]["policy"]["revision"]["id"]
    # It holds a lock on a rule the next apply changes.
    api.client.execute(
        "InternetFirewallRemoveRule", {"revisionId": leftover, "input": {"id": outs["rule_ids"]["Guest web"]}}
    )
    desired = copy.deepcopy(IFW_SECTIONS)
    desired[1]["rules"][0]["action"] = "BLOCK"
    e.update(rid, outs, checked(e, desired))
    assert api.open_revisions() == []
    assert api.rule("Guest web")["action"] == "BLOCK"


def test_a_publish_by_someone_else_between_read_and_revision_is_planned_against(emu, ctl, api):
    e = engine(emu)
    rid, outs = e.create(checked(e, IFW_SECTIONS))
    e.read(rid, outs)  # cached view, soon stale
    ids = outs["rule_ids"]
    ctl.as_admin(ACCOUNT, "alice@example.com", MOVE_RULE_AS_ALICE,
                 {"a": ACCOUNT, "id": ids["Block risky"], "ref": ids["Block social"]})  # fmt: skip
    ctl.as_admin(ACCOUNT, "alice@example.com", PUBLISH_AS_ALICE, {"a": ACCOUNT})
    desired = copy.deepcopy(IFW_SECTIONS)
    desired[0]["rules"][1]["description"] = "changed"
    e.update(rid, outs, checked(e, desired))
    assert api.layout() == FOREIGN_IFW + layout_of(desired)


def test_unknown_site_or_section_names_fail_before_any_write(emu, ctl):
    e = engine(emu)
    bad = copy.deepcopy(IFW_SECTIONS)
    bad[0]["rules"][0]["source"]["site"] = ["Atlantis"]
    ctl.reset_stats()
    with pytest.raises(
        PlanError, match=r"sections\[0\]\.rules\[0\]\.source\.site\[0\]: no site is named 'Atlantis'"
    ):
        e.create(checked(e, bad))
    with pytest.raises(PlanError, match="a section named 'Security' already exists"):
        e.create(checked(e, [{"name": "Security", "rules": []}]))
    assert not {
        k for k in ctl.stats() if k[0].islower() and k not in ("policy", "entityLookup", "accountSnapshot")
    }


def test_the_first_section_of_an_empty_policy_is_left_empty_on_delete_and_taken_over_on_create(
    emulator_factory,
):
    fx = fixture()
    del fx["accounts"][0]["policies"]
    emu = emulator_factory(fx, rate_limits=RateLimitConfig(enabled=False))
    e, api = engine(emu), Reader(emu.url)
    rid, outs = e.create(checked(e, IFW_SECTIONS))
    assert api.layout() == layout_of(IFW_SECTIONS)
    e.delete(rid, outs)
    assert api.layout() == [("Corporate", [])]  # Cato keeps a policy's first section
    rid, outs = e.create(checked(e, IFW_SECTIONS))
    assert api.layout() == layout_of(IFW_SECTIONS)
    api.close()
