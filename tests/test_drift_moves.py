"""A rule moved out of band into a section its resource does not own (FIRST_IN_POLICY, another team's
section): drift reports one move, and the planner moves it back instead of refusing its name.
Plain data here; tests/test_drift_actions_e2e.py proves the same with the real CLI and emulator."""

from __future__ import annotations

import pytest

from catoiac.drift.compare import MOVED, REMOVED, Change, live_places, moved_out
from catoiac.resources.policy_plan import PlanError, Rule, Section, plan, simulate


def sec(sid: str, name: str, *rules: str, system: tuple[str, ...] = ()) -> Section:
    out = [Rule(f"{sid}/{r}", r, {"name": r}, system=True) for r in system]
    return Section(sid, name, out + [Rule(f"{sid}/{r}", r, {"name": r}) for r in rules])


def want(*sections: tuple[str, list[str]]) -> list[dict]:
    return [{"name": n, "rules": [{"name": r} for r in rules]} for n, rules in sections]


def layout(secs: list[Section]) -> list[tuple[str, list[str]]]:
    return [(s.name, [r.name for r in s.rules]) for s in secs]


def moved_to_first_in_policy() -> list[Section]:
    """ "Allow SIP" (ours, id b/Allow SIP) now heads the first section, someone else's."""
    top = sec("f", "Security", "Block anonymizers")
    top.rules.insert(0, Rule("b/Allow SIP", "Allow SIP", {"name": "Allow SIP"}))
    return [top, sec("b", "Baseline", "Allow web")]


def test_a_stray_rule_is_moved_back_where_declared_and_the_foreign_section_is_left_as_it_was():
    live = moved_to_first_in_policy()
    desired = want(("Baseline", ["Allow SIP", "Allow web"]))
    ops = plan(live, {"b"}, desired, rules={"b/Allow SIP"})
    assert [(o.kind, o.name, o.position, o.ref) for o in ops] == [
        ("moveRule", "Allow SIP", "FIRST_IN_SECTION", "b")
    ]
    assert layout(simulate(live, ops)) == [
        ("Security", ["Block anonymizers"]),
        ("Baseline", ["Allow SIP", "Allow web"]),
    ]


def test_without_knowing_the_stray_is_ours_the_plan_refuses_its_name_as_before():
    with pytest.raises(PlanError, match="already used in section 'Security'"):
        plan(moved_to_first_in_policy(), {"b"}, want(("Baseline", ["Allow SIP", "Allow web"])))


def test_a_stray_rule_no_longer_declared_is_released_where_it_is_not_deleted():
    """Accepting such a move is deleting the rule from the code: it is someone else's section's now."""
    live = moved_to_first_in_policy()
    assert plan(live, {"b"}, want(("Baseline", ["Allow web"])), rules={"b/Allow SIP"}) == []


def test_destroying_the_resource_leaves_a_stray_in_the_section_it_was_moved_to():
    live = moved_to_first_in_policy()
    ops = plan(live, {"b"}, [], rules={"b/Allow SIP"}, deleting=True)
    assert sorted(o.kind for o in ops) == ["removeRule", "removeSection"]
    assert layout(simulate(live, ops)) == [("Security", ["Allow SIP", "Block anonymizers"])]


def test_a_rule_missing_from_its_section_but_live_in_another_is_one_move_with_both_places():
    desired = {"sections": [{"name": "Baseline", "rules": [{"name": "Allow web"}, {"name": "Allow SIP"}]}]}
    removed = [Change("rules[Allow SIP]", REMOVED, {"name": "Allow SIP"}, None, "Allow SIP", "rule")]
    collection = {
        "f": {"id": "f", "name": "Security", "rules": [
            {"id": "sys", "name": "System", "system": True},
            {"id": "r-sip", "name": "Allow SIP", "system": False},
        ]},
        "b": {"id": "b", "name": "Baseline", "rules": [{"id": "r-web", "name": "Allow web", "system": False}]},
    }  # fmt: skip
    out = moved_out(removed, desired, {"Allow SIP": "r-sip"}, lambda: live_places(collection))
    assert [(c.op, c.desired, c.live) for c in out] == [
        (MOVED, {"section": "Baseline", "index": 1}, {"section": "Security", "index": 0, "owned": False})
    ]
    # Gone for good (no such id live): still a removal.
    gone = moved_out(removed, desired, {"Allow SIP": "r-other"}, lambda: live_places(collection))
    assert [c.op for c in gone] == [REMOVED]


class _Reader:
    """The account as the preview's reader holds it (plain data: the planner is what is tested)."""

    def __init__(self, collection: dict) -> None:
        self.collection = collection

    def get(self, field: str) -> dict:
        assert field == "internetFirewall"
        return self.collection


def test_the_preview_after_a_refresh_accepts_a_stray_rule_the_refreshed_inputs_name_and_refuses_others():
    """Pulumi's check gets the refreshed inputs, not the outputs: ``read_live`` leaves the stray's id
    there (``rule_ids``) so that ``pulumi up --refresh`` previews the move back instead of refusing."""
    from catoiac.resources.policy import INTERNET_FIREWALL, preview_problems

    collection = {
        "f": {"id": "f", "name": "Security", "rules": [
            {"id": "r-sip", "name": "Allow SIP", "system": False},
            {"id": "r-anon", "name": "Block anonymizers", "system": False},
        ]},
        "b": {"id": "b", "name": "Baseline", "rules": [{"id": "r-web", "name": "Allow web", "system": False}]},
    }  # fmt: skip
    refreshed = {"sections": [{"name": "Baseline", "rules": [{"name": "Allow web"}]}]}
    news = {"sections": [{"name": "Baseline", "rules": [{"name": "Allow SIP"}, {"name": "Allow web"}]}]}
    reader = _Reader(collection)
    ours = {**refreshed, "rule_ids": {"Allow SIP": "r-sip"}}
    assert preview_problems(INTERNET_FIREWALL, reader, ours, news) == []
    [(path, problem)] = preview_problems(INTERNET_FIREWALL, reader, refreshed, news)
    assert path.startswith("sections[0].rules[0]") and "already used in section 'Security'" in problem
    # A name the stray's id does not cover is still another section's.
    taken = {
        "sections": [{"name": "Baseline", "rules": [{"name": "Block anonymizers"}, {"name": "Allow web"}]}]
    }
    [(_, problem)] = preview_problems(INTERNET_FIREWALL, reader, ours, taken)
    assert "'Block anonymizers' is already used in section 'Security'" in problem
