"""The ordered-list planner on plain data: fewest operations, declared order reached, others untouched."""

from __future__ import annotations

import random

import pytest

from catoiac.resources.policy_plan import New, PlanError, Rule, Section, plan, simulate


def sec(sid: str, name: str, *rules: str, system: tuple[str, ...] = ()) -> Section:
    out = [Rule(f"{sid}/{r}", r, {"name": r}, system=True) for r in system]
    return Section(sid, name, out + [Rule(f"{sid}/{r}", r, {"name": r}) for r in rules])


def want(*sections: tuple[str, list[str]]) -> list[dict]:
    return [{"name": n, "rules": [{"name": r} for r in rules]} for n, rules in sections]


def kinds(ops) -> list[str]:
    return [op.kind for op in ops]


def owned_after(live, ops, owned) -> list[tuple[str, list[str]]]:
    result = simulate(live, ops)
    return [(s.name, [r.name for r in s.rules]) for s in result if isinstance(s.id, New) or s.id in owned]


def test_create_appends_sections_after_the_policy_and_rules_in_declared_order():
    live = [sec("f1", "Theirs", "t1", "t2")]
    ops = plan(live, set(), want(("A", ["a1", "a2"]), ("B", ["b1"])))
    assert [(o.kind, o.name, o.position) for o in ops] == [
        ("addSection", "A", "LAST_IN_POLICY"),
        ("addSection", "B", "AFTER_SECTION"),
        ("addRule", "a1", "FIRST_IN_SECTION"),
        ("addRule", "a2", "AFTER_RULE"),
        ("addRule", "b1", "FIRST_IN_SECTION"),
    ]
    result = simulate(live, ops)
    assert [s.name for s in result] == ["Theirs", "A", "B"]
    assert [r.name for r in result[0].rules] == ["t1", "t2"]


def test_after_section_places_the_first_owned_section_after_a_foreign_one():
    live = [sec("f1", "Top"), sec("f2", "Bottom")]
    ops = plan(live, set(), want(("A", [])), after_section="Top")
    assert [s.name for s in simulate(live, ops)] == ["Top", "A", "Bottom"]


def test_update_changes_adds_moves_and_renames_with_one_operation_each():
    live = [sec("f", "Theirs", "t"), sec("s", "Corp", "r1", "r2", "r3")]
    desired = [
        {
            "name": "Corporate",
            "rules": [{"name": "r2"}, {"name": "r1", "action": "ALLOW"}, {"name": "r3"}, {"name": "r4"}],
        }
    ]
    ops = plan(live, {"s"}, desired)
    assert sorted(kinds(ops)) == ["addRule", "moveRule", "updateRule", "updateSection"]
    result = simulate(live, ops)
    assert [(s.name, [r.name for r in s.rules]) for s in result] == [
        ("Theirs", ["t"]),
        ("Corporate", ["r2", "r1", "r3", "r4"]),
    ]
    assert result[1].rules[1].body == {"name": "r1", "action": "ALLOW"}


def test_no_change_plans_nothing():
    live = [sec("f", "Theirs", "t"), sec("s", "A", "r1", "r2")]
    assert plan(live, {"s"}, want(("A", ["r1", "r2"]))) == []


def test_a_rule_renamed_in_place_is_an_update_not_a_delete_and_an_add():
    live = [sec("s", "A", "r1", "old", "r3")]
    ops = plan(live, {"s"}, want(("A", ["r1", "new", "r3"])))
    assert [(o.kind, o.target, o.name) for o in ops] == [("updateRule", "s/old", "new")]


def test_reordered_rules_are_fixed_with_the_fewest_moves():
    names = [f"r{i}" for i in range(10)]
    live = [sec("s", "A", *names)]
    moved = names[:3] + [names[7]] + names[3:7] + names[8:]  # r7 moved up
    ops = plan(live, {"s"}, want(("A", moved)))
    assert [(o.kind, o.name, o.position, o.ref) for o in ops] == [("moveRule", "r7", "AFTER_RULE", "s/r2")]


def test_rules_move_between_owned_sections_and_a_removed_sections_rules_are_kept_where_wanted():
    live = [sec("f", "Theirs", "t"), sec("a", "A", "a1", "a2"), sec("b", "B", "b1", "b2")]
    ops = plan(live, {"a", "b"}, want(("A", ["a1", "b2", "a2"])))
    assert sorted(kinds(ops)) == ["moveRule", "removeRule", "removeSection"]
    assert owned_after(live, ops, {"a", "b"}) == [("A", ["a1", "b2", "a2"])]
    assert simulate(live, ops)[0].rules[0].name == "t"


def test_owned_sections_keep_declared_relative_order_and_foreign_ones_stay_put():
    live = [sec("f1", "F1", "x"), sec("a", "A", "a1"), sec("f2", "F2", "y"), sec("b", "B", "b1")]
    ops = plan(live, {"a", "b"}, want(("B", ["b1"]), ("N", ["n1"]), ("A", ["a1"])))
    result = simulate(live, ops)
    owned = [s.name for s in result if s.name in ("A", "B", "N")]
    assert owned == ["B", "N", "A"]
    assert sum(1 for o in ops if o.kind == "moveSection") == 1
    assert [(s.name, [r.name for r in s.rules]) for s in result if s.name.startswith("F")] == [
        ("F1", ["x"]),
        ("F2", ["y"]),
    ]


def test_delete_removes_rules_then_sections_and_leaves_the_policys_first_section_empty():
    live = [sec("a", "A", "a1", system=("sys",)), sec("f", "F", "x"), sec("b", "B", "b1")]
    ops = plan(live, {"a", "b"}, [], deleting=True)
    assert kinds(ops) == ["removeRule", "removeRule", "removeSection"]
    assert [(s.name, [r.name for r in s.rules]) for s in simulate(live, ops)] == [
        ("A", ["sys"]),
        ("F", ["x"]),
    ]


def test_new_rules_go_after_system_rules_of_the_first_section():
    live = [sec("a", "A", system=("sys",))]
    ops = plan(live, {"a"}, want(("A", ["r1"])))
    assert [r.name for r in simulate(live, ops)[0].rules] == ["sys", "r1"]


@pytest.mark.parametrize(
    "desired, message",
    [
        (want(("Theirs", [])), "a section named 'Theirs' already exists"),
        (want(("A", ["t"])), "the rule name 't' is already used in section 'Theirs'"),
    ],
)
def test_names_used_by_sections_or_rules_of_others_fail_before_any_write(desired, message):
    with pytest.raises(PlanError, match=message):
        plan([sec("f", "Theirs", "t")], set(), desired)


def test_after_section_must_name_an_existing_foreign_section():
    with pytest.raises(PlanError, match="after_section: the policy has no section named 'Nope'"):
        plan([sec("f", "Theirs")], set(), want(("A", [])), after_section="Nope")


def test_rules_outside_any_section_are_never_swallowed_by_a_first_section():
    with pytest.raises(PlanError, match="rules but no sections"):
        plan([Section("", "", [Rule("r", "loose", {"name": "loose"})])], set(), want(("A", [])))


def test_an_empty_policy_gets_its_first_section():
    ops = plan([Section("", "")], set(), want(("A", ["a1"])))
    assert owned_after([Section("", "")], ops, set()) == [("A", ["a1"])]


def test_random_layouts_reach_the_declared_policy_with_at_most_one_operation_per_change():
    rng = random.Random(7)
    for _ in range(300):
        pool = [f"r{i}" for i in range(rng.randint(0, 14))]
        rng.shuffle(pool)
        live, owned, k = [sec("f0", "F0", "x0")], set(), 0
        for n in range(rng.randint(0, 4)):
            m = rng.randint(0, 5)
            take, pool = pool[:m], pool[m:]
            sid = f"s{n}"
            live.append(sec(sid, f"S{n}", *take))
            owned.add(sid)
            if rng.random() < 0.3:
                k += 1
                live.append(sec(f"f{k}", f"F{k}", f"x{k}"))
        names = [r.name for s in live[1:] if s.id in owned for r in s.rules] + [f"n{i}" for i in range(4)]
        rng.shuffle(names)
        desired_names = [f"S{i}" for i in range(5)]
        rng.shuffle(desired_names)
        desired, cut = [], 0
        for name in desired_names[: rng.randint(0, 4)]:
            step = rng.randint(0, 5)
            desired.append({"name": name, "rules": [{"name": r} for r in names[cut : cut + step]]})
            cut += step
        ops = plan(live, owned, desired)  # raises if the simulated result differs from desired
        live_rules = sum(len(s.rules) for s in live if s.id in owned)
        wanted = sum(len(d["rules"]) for d in desired)
        assert len(ops) <= live_rules + wanted + 2 * (len(owned) + len(desired))
        after = simulate(live, ops)
        assert plan(after, owned | {s.id for s in after if isinstance(s.id, New)}, desired) == []
