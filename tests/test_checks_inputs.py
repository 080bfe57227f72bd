"""Input checks that need no API: every string input's length limit and character set (one walk of
each spec's schema), values not known yet during a preview, entity limits a rule alone shows, and
collisions between the resources of one program (the registry), judged without a call."""

from __future__ import annotations

import pytest

from catoiac.resources import Engine
from catoiac.resources.program import Program
from catoiac.resources.specs import SPECS
from catoiac.resources.validation import NAME_RULE, TEXT_KEYWORD, UNKNOWN, with_text_rules


def no_session():
    raise AssertionError("these checks must not call the API")


def failures(spec: str, props: dict) -> dict[str, str]:
    _inputs, found = Engine(SPECS[spec], no_session).check({}, props)
    return {f.property: f.reason for f in found}


LOC = {"country_code": "PT", "timezone": "Europe/Lisbon"}
SITE = {"name": "Lisbon", "native_range": "10.40.0.0/24", "location": LOC}
RANGE = {"site_id": "100001", "name": "Guest", "subnet": "10.40.8.0/24"}
HOST = {"site_id": "100001", "name": "printer", "ip": "10.40.0.10"}
PEER = {"site_id": "1", "name": "core", "peer_ip": "10.40.0.2", "peer_asn": 65001, "cato_asn": 65000,
        "default_action": "ACCEPT"}  # fmt: skip


def policy(rule: dict, section: str = "Corporate") -> dict:
    return {"sections": [{"name": section, "rules": [{"name": "r1", **rule}]}]}


def test_every_string_of_every_spec_gets_a_length_limit_and_the_character_check():
    def strings(schema, path="$"):
        if isinstance(schema, dict):
            t = schema.get("type")
            if (t == "string" or (isinstance(t, list) and "string" in t)) and "enum" not in schema:
                yield path, schema
            for k, v in schema.items():
                yield from strings(v, f"{path}.{k}")
        elif isinstance(schema, list):
            for i, v in enumerate(schema):
                yield from strings(v, f"{path}[{i}]")

    checked = 0
    for name, spec in SPECS.items():
        for path, s in strings(with_text_rules(spec.schema)):
            assert isinstance(s.get("maxLength"), int), f"{name} {path} has no length limit"
            assert s.get(TEXT_KEYWORD) in ("line", "text"), f"{name} {path} has no character check"
            checked += 1
    assert checked > 100  # the firewall rules alone have dozens of string inputs


@pytest.mark.parametrize(
    ("spec", "props", "prop"),
    [
        ("SocketSite", {**SITE, "name": "Lis\x00bon"}, "name"),
        ("SocketSite", {**SITE, "name": "Lis\u202ebon"}, "name"),  # RIGHT-TO-LEFT OVERRIDE
        ("SocketSite", {**SITE, "name": "Lisbon\u2066x"}, "name"),  # LEFT-TO-RIGHT ISOLATE
        ("SocketSite", {**SITE, "location": {**LOC, "address": "Rua\x1b[31m 1"}}, "location.address"),
        ("NetworkRange", {**RANGE, "name": "Gu\nest"}, "name"),
        ("StaticHost", {**HOST, "name": "printer\x7f"}, "name"),
        ("Group", {"name": "g", "members": [{"type": "SITE", "name": "HQ\u202e"}]}, "members[0].name"),
        ("InternetFirewallPolicy", policy({}, section="Corp\x00"), "sections[0].name"),
        (
            "InternetFirewallPolicy",
            {"sections": [{"name": "S", "rules": [{"name": "r\u202e1"}]}]},
            "sections[0].rules[0].name",
        ),  # fmt: skip
        ("InternetFirewallPolicy", policy({"description": "a\x00b"}), "sections[0].rules[0].description"),
        (
            "WanFirewallPolicy",
            policy({"source": {"site": ["HQ\x00"]}}),
            "sections[0].rules[0].source.site[0]",
        ),
    ],
)
def test_control_and_bidi_characters_are_refused_naming_the_character_and_the_fix(spec, props, prop):
    found = failures(spec, props)
    assert prop in found, found
    assert "U+" in found[prop] and "remove it" in found[prop]


def test_free_text_may_hold_line_breaks_and_tabs_but_a_name_may_not():
    assert failures("SocketSite", {**SITE, "description": "floor 2\n\tnext to the lifts"}) == {}
    assert failures("InternetFirewallPolicy", policy({"description": "line 1\r\nline 2"})) == {}
    assert "name" in failures("SocketSite", {**SITE, "name": "Lisbon\tPT"})


def test_a_20000_character_rule_name_is_refused_before_any_write_without_echoing_it_whole():
    found = failures(
        "InternetFirewallPolicy", {"sections": [{"name": "S", "rules": [{"name": "r" * 20_000}]}]}
    )
    reason = found["sections[0].rules[0].name"]
    assert "20000 characters long" in reason and f"the {NAME_RULE.max_length} allowed" in reason
    assert len(reason) < 200


def test_names_up_to_the_guard_pass_and_one_more_character_is_refused():
    # No Cato source gives a name length (see FIDELITY.md); the old 50 refused valid names.
    assert failures("SocketSite", {**SITE, "name": "x" * 51}) == {}
    assert failures("SocketSite", {**SITE, "name": "é" * NAME_RULE.max_length}) == {}
    assert "shorten it" in failures("SocketSite", {**SITE, "name": "x" * (NAME_RULE.max_length + 1)})["name"]
    assert "shorten it" in failures("BgpPeer", {**PEER, "md5_auth_key": "k" * 81})["md5_auth_key"]


def test_a_reference_to_an_object_not_created_yet_is_accepted_in_a_preview():
    # Before: `value {<nil>} has a problem: {} should be non-empty` for {"id": rng.id} on a new stack.
    rule = {"source": {"site_network_subnet": [{"id": UNKNOWN}], "site": [{"name": UNKNOWN}]},
            "destination": {"ip": [UNKNOWN]}}  # fmt: skip
    assert failures("InternetFirewallPolicy", policy(rule)) == {}
    assert failures("WanFirewallPolicy", policy({"source": {"host": [{"id": UNKNOWN}]}})) == {}
    assert failures("InternetFirewallPolicy", {"sections": UNKNOWN}) == {}
    assert failures("NetworkRange", {**RANGE, "site_id": UNKNOWN, "translated_subnet": UNKNOWN}) == {}
    assert failures("SocketSite", {**SITE, "native_range": UNKNOWN, "name": UNKNOWN}) == {}
    assert failures("BgpPeer", {**PEER, "peer_asn": UNKNOWN, "cato_asn": UNKNOWN}) == {}


def test_unknown_values_still_count_as_set_and_known_ones_are_still_judged():
    found = failures("NetworkRange", {"site_id": UNKNOWN, "name": "Guest", "subnet": "10.40.9.0/23"})
    assert set(found) == {"subnet"}, found  # host bits set: judged though site_id is not known
    assert "name" in failures("NetworkRange", {"site_id": UNKNOWN, "subnet": UNKNOWN})  # still required


def test_a_rule_listing_more_than_2000_items_is_refused():
    many = [f"10.{i // 250}.{i % 250}.1" for i in range(2001)]
    found = failures("InternetFirewallPolicy", policy({"source": {"ip": many}}))
    assert "2001 items" in found["sections[0].rules[0]"] and "2000" in found["sections[0].rules[0]"]
    assert failures("InternetFirewallPolicy", policy({"source": {"ip": many[:2000]}})) == {}


# -- the program registry ----------------------------------------------------------------------------
def declare(program: Program, spec: str, name: str, props: dict, stack: str = "dev") -> dict[str, str]:
    e = Engine(SPECS[spec], no_session)
    owner = f"proj/{stack}/{spec}::{name}"
    inputs, found = e.check({}, {**props, "__catoiac_owner": owner})
    assert found == []
    return {f.property: f.reason for f in e.check_against({}, inputs, program)}


def test_two_sites_of_one_program_with_one_name_or_overlapping_native_ranges_are_refused():
    p = Program()
    assert declare(p, "SocketSite", "a", SITE) == {}
    same_name = declare(p, "SocketSite", "b", {**SITE, "native_range": "10.41.0.0/24"})
    assert same_name == {"name": "site name 'Lisbon' is also declared by SocketSite 'a' in this program: "
                                 "site names are unique in the account: rename one"}  # fmt: skip
    overlap = declare(p, "SocketSite", "c", {**SITE, "name": "Porto", "native_range": "10.40.0.128/25"})
    assert "overlaps native range 10.40.0.0/24 of SocketSite 'a'" in overlap["native_range"]


def test_ranges_of_one_program_sharing_a_name_on_a_port_or_overlapping_are_refused_naming_both():
    p = Program()
    assert declare(p, "NetworkRange", "guest", RANGE) == {}
    dup = declare(p, "NetworkRange", "guest2", {**RANGE, "subnet": "10.40.9.0/24"})
    assert "NetworkRange 'guest'" in dup["name"] and "range name 'Guest'" in dup["name"]
    assert (
        declare(p, "NetworkRange", "guest3", {**RANGE, "interface": "LAN2", "subnet": "10.40.10.0/24"}) == {}
    )
    over = declare(p, "NetworkRange", "voice", {**RANGE, "name": "Voice", "subnet": "10.40.8.64/26"})
    assert "NetworkRange 'guest'" in over["subnet"]
    # A range overlapping a site of the program: Cato refuses any overlap in the account.
    assert declare(p, "SocketSite", "lisbon", SITE) == {}
    assert (
        "SocketSite 'lisbon'"
        in declare(p, "NetworkRange", "lan", {**RANGE, "name": "L", "subnet": "10.40.0.0/25"})["subnet"]
    )


def test_two_policy_resources_declaring_one_section_or_rule_name_are_refused():
    p = Program()
    assert declare(p, "InternetFirewallPolicy", "a", policy({})) == {}
    found = declare(p, "InternetFirewallPolicy", "b", {"sections": [{"name": "Corporate"}]})
    assert (
        "internetFirewall section 'Corporate' is also declared by InternetFirewallPolicy 'a'"
        in found["sections[0].name"]
    )
    rule = declare(p, "InternetFirewallPolicy", "c", policy({}, section="Other"))
    assert "rule 'r1'" in rule["sections[0].rules[0].name"]
    # The other policy has its own names.
    assert declare(p, "WanFirewallPolicy", "w", policy({})) == {}


def test_a_resource_checked_again_never_conflicts_with_itself_and_other_stacks_are_not_compared():
    p = Program()
    assert declare(p, "SocketSite", "a", SITE) == {}
    assert declare(p, "SocketSite", "a", {**SITE, "description": "replaced"}) == {}  # preview, then up
    assert declare(p, "SocketSite", "a", SITE, stack="prod") == {}


def test_claims_not_known_yet_are_not_compared():
    p = Program()
    assert declare(p, "NetworkRange", "a", {**RANGE, "site_id": UNKNOWN}) == {}
    assert declare(p, "NetworkRange", "b", {**RANGE, "site_id": UNKNOWN, "subnet": "10.40.9.0/24"}) == {}
    assert declare(p, "StaticHost", "h1", {**HOST, "ip": UNKNOWN}) == {}
    assert "host name 'printer'" in declare(p, "StaticHost", "h2", {**HOST, "ip": "10.40.0.11"})["name"]


def test_a_group_of_more_than_50000_members_is_refused_without_listing_them():
    members = [{"type": "HOST", "id": str(i)} for i in range(50_001)]
    reason = failures("Group", {"name": "big", "members": members})["members"]
    assert reason == "has 50001 items, more than the 50000 allowed: remove some"


def test_only_inputs_the_state_already_holds_count_as_unchanged_and_skip_the_live_checks():
    eng = Engine(SPECS["NetworkRange"], no_session)
    owner = {"__catoiac_owner": "p/s/NetworkRange::guest"}
    inputs, found = eng.check({}, {**RANGE, **owner})
    assert not found
    state = {**inputs, "__provider": "dill…"}  # what Pulumi stores: the checked inputs, and its own key
    again, _ = eng.check(state, {**RANGE, **owner})
    assert eng.unchanged(state, again)
    assert not eng.unchanged({}, inputs) and not eng.unchanged(None, inputs)  # a create
    moved, _ = eng.check(state, {**RANGE, **owner, "subnet": "10.40.9.0/24"})
    assert not eng.unchanged(state, moved)
    adopting, _ = eng.check(state, {**RANGE, **owner, "__adopt_id": "5001"})  # an import_ added later
    assert not eng.unchanged(state, adopting)
    unknown, _ = eng.check(state, {**RANGE, **owner, "site_id": UNKNOWN})
    assert not eng.unchanged(state, unknown)
