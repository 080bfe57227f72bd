"""Drift comparison on plain data: property diffs, and ordered named lists reported as moves."""

from __future__ import annotations

import random

from catoiac.drift.compare import (
    ADDED,
    CHANGED,
    MOVED,
    REMOVED,
    ItemIds,
    compare,
    compare_named_list,
    ordered_by_name,
    property_changes,
    register_compare,
)
from catoiac.drift.state import SECRET


def named(*names, **extra):
    return [{"name": n, **extra} for n in names]


def test_one_item_moved_to_the_end_is_one_move_not_a_change_at_every_index():
    d = ordered_by_name(named("A", "B", "C", "D", "E"), named("B", "C", "D", "E", "A"))
    assert (d.moved, d.added, d.removed) == (["A"], [], [])


def test_two_swapped_neighbours_are_reported_as_a_single_move():
    d = ordered_by_name(named("A", "B", "C", "D"), named("A", "C", "B", "D"))
    assert len(d.moved) == 1 and d.moved[0] in ("B", "C")


def test_items_only_on_one_side_are_added_or_removed_and_never_moves():
    d = ordered_by_name(named("A", "B", "C"), named("X", "A", "C"))
    assert (d.moved, d.added, d.removed) == ([], ["X"], ["B"])


def test_identical_lists_have_no_moves():
    assert ordered_by_name(named(*"ABCDEF"), named(*"ABCDEF")).moved == []


def test_reversed_list_moves_all_but_one_item():
    d = ordered_by_name(named(*"ABCDEF"), named(*"FEDCBA"))
    assert len(d.moved) == 5


def test_move_count_is_minimal_for_random_permutations():
    """Moves = n - longest run kept in order: checked against a brute-force LCS."""
    rng = random.Random(7)
    for _ in range(50):
        names = [f"r{i}" for i in range(rng.randint(1, 9))]
        live = names[:]
        rng.shuffle(live)
        d = ordered_by_name(named(*names), named(*live))
        assert len(d.moved) == len(names) - _lcs(names, live)


def _lcs(a, b):
    t = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            t[i + 1][j + 1] = t[i][j] + 1 if x == y else max(t[i][j + 1], t[i + 1][j])
    return t[-1][-1]


def test_fifteen_hundred_rules_with_one_move_report_one_move_quickly():
    names = [f"rule-{i}" for i in range(1500)]
    live = names[:]
    live.insert(10, live.pop(1200))
    d = ordered_by_name(named(*names), named(*live))
    assert d.moved == ["rule-1200"]


def test_named_list_reports_positions_of_a_move_and_content_changes_by_item_name():
    desired = [
        {"name": "A", "action": "ALLOW"},
        {"name": "B", "action": "BLOCK"},
        {"name": "C", "action": "ALLOW"},
    ]
    live = [
        {"name": "B", "action": "BLOCK"},
        {"name": "C", "action": "ALLOW"},
        {"name": "A", "action": "BLOCK"},
    ]
    changes = compare_named_list(desired, live, path="rules", item_type="rule")
    assert [(c.path, c.op, c.desired, c.live, c.item) for c in changes] == [
        ("rules[A]", MOVED, {"index": 0}, {"index": 2}, "A"),
        ("rules[A].action", CHANGED, "ALLOW", "BLOCK", "A"),
    ]


def test_policy_hook_moves_a_rule_between_sections_and_a_section_without_moving_its_rules():
    desired = {
        "enabled": True,
        "sections": [
            {"name": "S1", "rules": named("r1", "r2")},
            {"name": "S2", "rules": named("r3", "r4")},
            {"name": "S3", "rules": named("r5")},
        ],
    }
    live = {
        "enabled": True,
        "sections": [
            {"name": "S1", "rules": named("r1")},
            {"name": "S3", "rules": named("r5")},
            {"name": "S2", "rules": named("r3", "r2", "r4")},
        ],
    }
    changes = compare("InternetFirewallPolicy", desired, live)
    assert [(c.path, c.op, c.desired, c.live) for c in changes] == [
        ("sections[S2]", MOVED, {"index": 1}, {"index": 2}),
        ("rules[r2]", MOVED, {"section": "S1", "index": 1}, {"section": "S2", "index": 1}),
    ]


def test_policy_hook_reports_rules_added_and_removed_out_of_band_and_other_properties():
    desired = {"enabled": True, "rules": named("a", "b")}
    live = {"enabled": False, "rules": named("a", "x")}
    changes = compare("WanFirewallPolicy", desired, live)
    assert [(c.path, c.op) for c in changes] == [
        ("enabled", CHANGED),
        ("rules[b]", REMOVED),
        ("rules[x]", ADDED),
    ]


def test_a_rule_and_a_section_renamed_out_of_band_pair_by_id_as_name_changes():
    desired = {"sections": [{"name": "Corp", "rules": named("allow-dns", "block-ads")}]}
    live = {"sections": [{"name": "Corporate", "rules": named("allow-dns", "block-adverts")}]}
    ids = ItemIds(
        desired={"section": {"Corp": "s1"}, "rule": {"allow-dns": "r1", "block-ads": "r2"}},
        live={"section": {"Corporate": "s1"}, "rule": {"allow-dns": "r1", "block-adverts": "r2"}},
    )
    changes = compare("InternetFirewallPolicy", desired, live, ids)
    assert [(c.path, c.op, c.desired, c.live, c.item) for c in changes] == [
        ("sections[Corp].name", CHANGED, "Corp", "Corporate", "Corp"),
        ("rules[block-ads].name", CHANGED, "block-ads", "block-adverts", "block-ads"),
    ]
    without_ids = compare("InternetFirewallPolicy", desired, live)
    assert {ADDED, REMOVED} <= {
        c.op for c in without_ids
    }  # without ids a rename is a removal plus an addition


def test_property_changes_give_dotted_paths_with_list_indexes():
    changes = property_changes(
        {"a": 1, "loc": {"city": "Lisbon"}, "tags": ["x", "y"]},
        {"a": 2, "loc": {"city": "Porto", "address": "1 Rua"}, "tags": ["x"]},
    )
    assert [(c.path, c.op, c.desired, c.live) for c in changes] == [
        ("a", CHANGED, 1, 2),
        ("loc.address", ADDED, None, "1 Rua"),
        ("loc.city", CHANGED, "Lisbon", "Porto"),
        ("tags[1]", REMOVED, "y", None),
    ]


def test_secret_desired_values_are_never_compared_or_reported():
    assert property_changes({"psk": SECRET, "name": "a"}, {"psk": "hunter2", "name": "a"}) == []


def test_a_registered_hook_replaces_the_default_comparison_for_its_spec():
    register_compare("TestOnlySpec", lambda d, live, ids: [])
    assert compare("TestOnlySpec", {"a": 1}, {"a": 2}) == []
    assert compare("SomethingElse", {"a": 1}, {"a": 2})[0].path == "a"
