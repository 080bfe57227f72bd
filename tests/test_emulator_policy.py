"""Firewall policies in the emulator, over real HTTP: published policy, private revisions, every
rule and section position, locks and merges between concurrent revisions, refs, audit, WAN."""

from __future__ import annotations

import itertools
from typing import Any

import httpx
import pytest

from catoiac.emulator.control import EmulatorControl
from catoiac.emulator.limits import RateLimitConfig
from catoiac.emulator.server import EmulatorServer

_accounts = itertools.count(2001)


@pytest.fixture(scope="module")
def emu():
    with EmulatorServer(rate_limits=RateLimitConfig(enabled=False)) as server:
        # One client for the module: building one per call (TLS context) costs more than the call.
        with httpx.Client(timeout=30) as http, EmulatorControl(server.base_url) as ctl:
            server.http, server.ctl = http, ctl
            yield server


def account_fixture(acc: str) -> dict[str, Any]:
    return {
        "id": acc,
        "name": f"Acme {acc}",
        "api_keys": [
            {"id": f"ka-{acc}", "name": "catoiac", "key": f"A-{acc}"},
            {"id": f"kb-{acc}", "name": "teammate", "key": f"B-{acc}"},
        ],
        "admins": [{"id": f"ad-{acc}", "email": f"alice@{acc}.example", "name": "Alice"}],
        "sites": [
            {"name": "HQ", "country_code": "US", "timezone": "America/New_York", "native_range": "10.1.0.0/24"},
            {"name": "Paris", "country_code": "FR", "timezone": "Europe/Paris", "native_range": "10.2.0.0/24"},
        ],
        "policies": {
            "internet_firewall": {
                "sections": [
                    {
                        "name": "Security",
                        "rules": [
                            {"name": "Block anonymizers", "enabled": True, "destination": {"appCategory": [{"id": "anonymizers"}]}},
                            {"name": "Block gambling", "enabled": True, "destination": {"appCategory": ["Gambling"]}},
                        ],
                    },
                    {
                        "name": "Apps",
                        "rules": [
                            {
                                "name": "Allow Office",
                                "enabled": True,
                                "action": "ALLOW",
                                "source": {"site": ["HQ"], "ip": ["192.0.2.10"]},
                                "destination": {"application": [{"id": "office365"}]},
                            }
                        ],
                    },
                ]
            },
            "wan_firewall": {
                "rules": [
                    {
                        "name": "HQ to Paris",
                        "enabled": True,
                        "action": "ALLOW",
                        "direction": "BOTH",
                        "source": {"site": ["HQ"]},
                        "destination": {"site": [{"name": "Paris"}]},
                        "service": {"standard": ["HTTPS"]},
                    }
                ]
            },
        },
    }  # fmt: skip


MUTATION_INPUT = {
    "addRule": "{P}AddRuleInput!",
    "updateRule": "{P}UpdateRuleInput!",
    "removeRule": "{P}RemoveRuleInput!",
    "moveRule": "PolicyMoveRuleInput!",
    "addSection": "PolicyAddSectionInput!",
    "updateSection": "PolicyUpdateSectionInput!",
    "removeSection": "PolicyRemoveSectionInput!",
    "moveSection": "PolicyMoveSectionInput!",
    "createPolicyRevision": "PolicyCreateRevisionInput!",
    "publishPolicyRevision": "PolicyPublishRevisionInput",
    "discardPolicyRevision": "PolicyDiscardRevisionInput",
}
RULE_OUT = "rule { properties audit { updatedBy } rule { id name index enabled section { id name } } }"
SECTION_OUT = "section { properties section { id name } }"
POLICY_OUT = "policy { revision { id name description changes } rules { rule { name } } }"
POLICY_Q = """
query Policy($accountId: ID!, $input: {P}PolicyInput) {
  policy(accountId: $accountId) { {pol} {
    policy(input: $input) {
      enabled
      audit { publishedBy publishedTime }
      revision { id name description changes createdTime updatedTime }
      sections { section { id name } properties audit { updatedBy updatedTime } }
      rules {
        properties
        audit { updatedBy updatedTime }
        rule {
          id name description index enabled action
          section { id name }
          source { site { id name } ip }
          destination { {dest} }
          service { standard { id name } }
        }
      }
    }
    revisions { revision { id name changes } }
  } }
}"""
DEST = {
    "internetFirewall": "application { id name } appCategory { id name } country { id name }",
    "wanFirewall": "site { id name }",
}


class Fw:
    """One caller (API key or UI admin) of one firewall policy of one account."""

    def __init__(
        self, emu: EmulatorServer, acc: str, key: str | None, pol: str = "internetFirewall", admin: str = ""
    ):
        self.emu, self.acc, self.key, self.pol, self.admin = emu, acc, key, pol, admin
        self.P = pol[0].upper() + pol[1:]

    def as_key(self, key: str) -> Fw:
        return Fw(self.emu, self.acc, key, self.pol)

    def raw(self, query: str, **variables: Any) -> dict[str, Any]:
        query = query.replace("{P}", self.P).replace("{pol}", self.pol).replace("{dest}", DEST[self.pol])
        variables = {"accountId": self.acc, **variables}
        if self.admin:
            return self.emu.ctl.as_admin(self.acc, self.admin, query, variables)
        r = self.emu.http.post(
            self.emu.url, json={"query": query, "variables": variables}, headers={"x-api-key": self.key}
        )
        assert r.status_code == 200, r.text
        return r.json()

    def gql(self, query: str, **variables: Any) -> dict[str, Any]:
        body = self.raw(query, **variables)
        assert "errors" not in body, body["errors"]
        return body["data"]

    def policy(self, revision: dict | None = None) -> dict[str, Any]:
        return self.gql(POLICY_Q, input={"revision": revision} if revision else None)["policy"][self.pol][
            "policy"
        ]

    def private(self) -> dict[str, Any]:
        return self.policy({"type": "PRIVATE"})

    def revisions(self) -> list[dict[str, Any]]:
        return self.gql(POLICY_Q)["policy"][self.pol]["revisions"]["revision"]

    def names(self, revision: dict | None = None) -> list[str]:
        return [r["rule"]["name"] for r in self.policy(revision)["rules"]]

    def rule(self, name: str, revision: dict | None = None) -> dict[str, Any]:
        return next(r for r in self.policy(revision)["rules"] if r["rule"]["name"] == name)

    def section_id(self, name: str, revision: dict | None = None) -> str:
        return next(
            s["section"]["id"] for s in self.policy(revision)["sections"] if s["section"]["name"] == name
        )

    def mutate(self, op: str, input: Any = None, rev: str | None = None, ok: bool = True) -> dict[str, Any]:
        out = (
            RULE_OUT
            if "Rule" in op and "Revision" not in op
            else SECTION_OUT
            if "Section" in op
            else POLICY_OUT
        )
        doc = f"""mutation M($accountId: ID!, $rev: {{P}}PolicyMutationInput, $input: {MUTATION_INPUT[op]}) {{
          policy(accountId: $accountId) {{ {{pol}}(input: $rev) {{
            {op}(input: $input) {{ status errors {{ errorCode errorMessage }} {out} }}
          }} }}
        }}"""
        payload = self.gql(doc, input=input, rev={"revision": {"id": rev}} if rev else None)["policy"][
            self.pol
        ][op]
        if ok:
            assert payload["status"] == "SUCCESS", payload["errors"]
        return payload

    def add(self, name: str, at: dict | None = None, rev: str | None = None, **fields: Any) -> dict[str, Any]:
        data = {"name": name, "enabled": True, **fields}
        return self.mutate("addRule", {"rule": data, "at": at}, rev=rev)["rule"]

    def publish(self, rev: str | None = None, **input: Any) -> dict[str, Any]:
        return self.mutate("publishPolicyRevision", input or None, rev=rev)


def failure(payload: dict[str, Any], code: str) -> str:
    assert payload["status"] == "FAILURE", payload
    assert [e["errorCode"] for e in payload["errors"]] == [code], payload["errors"]
    return payload["errors"][0]["errorMessage"]


@pytest.fixture
def fw(emu) -> Fw:
    """A fresh seeded account per test; its API key A."""
    acc = str(next(_accounts))
    emu.ctl.seed({"accounts": [account_fixture(acc)]})
    return Fw(emu, acc, f"A-{acc}")


def teammate(fw: Fw) -> Fw:
    return fw.as_key(f"B-{fw.acc}")


# -- published policy and refs --------------------------------------------------------------------
def test_published_policy_lists_seeded_sections_and_rules_in_order_with_index_and_section(fw):
    pol = fw.policy()
    assert pol["enabled"] is True
    assert [s["section"]["name"] for s in pol["sections"]] == ["Security", "Apps"]
    rows = [(r["rule"]["index"], r["rule"]["name"], r["rule"]["section"]["name"]) for r in pol["rules"]]
    assert rows == [
        (1, "Block anonymizers", "Security"),
        (2, "Block gambling", "Security"),
        (3, "Allow Office", "Apps"),
    ]
    office = pol["rules"][2]["rule"]
    assert office["source"]["site"][0]["name"] == "HQ" and office["source"]["ip"] == ["192.0.2.10"]
    assert office["destination"]["application"] == [{"id": "office365", "name": "Office 365"}]
    assert pol["rules"][1]["rule"]["destination"]["appCategory"] == [{"id": "gambling", "name": "Gambling"}]
    assert pol["rules"][0]["rule"]["action"] == "BLOCK"  # the input's default
    assert pol["revision"]["id"] and pol["audit"]["publishedTime"]
    assert fw.revisions() == []


def test_refs_by_name_and_by_id_resolve_to_id_and_name(fw):
    hq = fw.rule("Allow Office")["rule"]["source"]["site"][0]
    fw.add(
        "Mixed refs",
        source={"site": [{"by": "NAME", "input": "Paris"}, {"by": "ID", "input": hq["id"]}]},
        destination={
            "application": [{"by": "ID", "input": "youtube"}, {"by": "NAME", "input": "Facebook"}],
            "country": [{"by": "ID", "input": "DE"}],
        },
        service={"standard": [{"by": "NAME", "input": "SSH"}]},
    )
    rule = fw.rule("Mixed refs", {"type": "PRIVATE"})["rule"]
    assert [s["name"] for s in rule["source"]["site"]] == ["Paris", "HQ"]
    assert rule["source"]["site"][1] == hq
    assert rule["destination"]["application"] == [
        {"id": "youtube", "name": "YouTube"},
        {"id": "facebook", "name": "Facebook"},
    ]
    assert rule["destination"]["country"] == [{"id": "DE", "name": "Germany"}]
    assert rule["service"]["standard"] == [{"id": "ssh", "name": "SSH"}]


def test_unknown_ref_is_a_failure_payload_naming_field_and_value_and_changes_nothing(fw):
    before = fw.policy()
    payload = fw.mutate(
        "addRule",
        {"rule": {"name": "Bad", "enabled": True, "source": {"site": [{"by": "NAME", "input": "Atlantis"}]}}},
        ok=False,
    )
    message = failure(payload, "ruleHasInvalidEntity")
    assert "source.site" in message and "Atlantis" in message
    assert payload["rule"] is None
    assert fw.revisions() == []  # not even the implicit working revision was kept
    assert fw.policy() == before
    msg = failure(
        fw.mutate(
            "addRule",
            {
                "rule": {
                    "name": "Bad",
                    "enabled": True,
                    "destination": {"application": [{"input": "myspace"}]},
                }
            },
            ok=False,
        ),
        "ruleHasInvalidEntity",
    )
    assert "destination.application" in msg and "myspace" in msg


# -- revisions ------------------------------------------------------------------------------------
def test_changes_go_to_the_callers_private_revision_and_stay_unpublished(fw):
    added = fw.add("Block TikTok", destination={"application": [{"input": "tiktok"}]})
    assert added["properties"] == ["ADDED"] and added["audit"]["updatedBy"] == "catoiac"
    assert "Block TikTok" not in fw.names()
    private = fw.private()
    assert private["rules"][-1]["rule"]["name"] == "Block TikTok"
    assert private["rules"][-1]["properties"] == ["ADDED"]
    assert private["revision"]["changes"] == 1
    assert [r["id"] for r in fw.revisions()] == [private["revision"]["id"]]
    other = teammate(fw)
    assert other.revisions() == []
    assert "Block TikTok" not in other.names() and "Block TikTok" not in other.names({"type": "PRIVATE"})


def test_publishing_one_keys_revision_leaves_the_other_keys_changes_unpublished_and_merges_into_them(fw):
    other = teammate(fw)
    fw.add("Mine", at={"position": "FIRST_IN_POLICY"})
    other.add("Theirs")
    published = other.publish()["policy"]
    assert [r["rule"]["name"] for r in published["rules"]][-1] == "Theirs"
    assert "Mine" not in fw.names()
    # The first key's revision was based on the older policy: it is rebased, not refused.
    assert fw.names({"type": "PRIVATE"}) == [
        "Mine",
        "Block anonymizers",
        "Block gambling",
        "Allow Office",
        "Theirs",
    ]
    fw.publish()
    assert fw.names() == ["Mine", "Block anonymizers", "Block gambling", "Allow Office", "Theirs"]
    assert fw.revisions() == [] and other.revisions() == []


def test_publish_applies_the_whole_revision_at_once(fw):
    fw.add("New one", at={"position": "LAST_IN_SECTION", "ref": fw.section_id("Security")})
    gambling = fw.rule("Block gambling")["rule"]["id"]
    fw.mutate("updateRule", {"id": gambling, "rule": {"enabled": False, "description": "paused"}})
    fw.mutate("removeRule", {"id": fw.rule("Allow Office")["rule"]["id"]})
    fw.mutate("addSection", {"at": {"position": "LAST_IN_POLICY"}, "section": {"name": "Later"}})
    assert fw.names() == ["Block anonymizers", "Block gambling", "Allow Office"]
    out = fw.publish(name="Change 42", description="quarterly")["policy"]
    assert out["revision"]["name"] == "Change 42" and out["revision"]["changes"] == 4
    pol = fw.policy()
    assert [r["rule"]["name"] for r in pol["rules"]] == ["Block anonymizers", "Block gambling", "New one"]
    assert pol["rules"][1]["rule"]["enabled"] is False and pol["rules"][1]["rule"]["description"] == "paused"
    assert [s["section"]["name"] for s in pol["sections"]] == ["Security", "Apps", "Later"]
    assert pol["audit"]["publishedBy"] == "catoiac" and pol["revision"]["description"] == "quarterly"


def test_a_publish_that_fails_changes_nothing_and_keeps_the_revision(fw):
    other = teammate(fw)
    fw.add("Same name")
    other.add("Same name")  # each revision alone is consistent
    other.publish()
    before = fw.policy()
    failure(fw.mutate("publishPolicyRevision", None, ok=False), "DuplicateRuleName")
    assert fw.policy() == before
    assert len(fw.revisions()) == 1 and "Same name" in fw.names({"type": "PRIVATE"})


def test_discard_drops_the_revision_and_its_id_is_then_not_found(fw):
    fw.add("Temporary")
    rev = fw.revisions()[0]["id"]
    payload = fw.mutate("discardPolicyRevision", {"id": rev})
    assert "Temporary" not in [r["rule"]["name"] for r in payload["policy"]["rules"]]
    assert fw.revisions() == [] and "Temporary" not in fw.names({"type": "PRIVATE"})
    failure(
        fw.mutate("addRule", {"rule": {"name": "x", "enabled": True}}, rev=rev, ok=False),
        "PolicyRevisionNotFound",
    )
    body = fw.raw(POLICY_Q, input={"revision": {"id": rev}})
    assert body["errors"][0]["message"].startswith("Revision was not found")


def test_explicit_revision_from_create_policy_revision_receives_changes_by_id(fw):
    created = fw.mutate("createPolicyRevision", {"name": "Q3 cleanup", "description": "by catoiac"})["policy"]
    rev = created["revision"]["id"]
    assert created["revision"]["name"] == "Q3 cleanup" and created["revision"]["changes"] == 0
    fw.add("In named revision", rev=rev)
    by_id = fw.policy({"id": rev})
    assert by_id["revision"] == {**by_id["revision"], "id": rev, "name": "Q3 cleanup", "changes": 1}
    assert "In named revision" in [r["rule"]["name"] for r in by_id["rules"]]
    assert [r["name"] for r in fw.revisions()] == ["Q3 cleanup"]
    fw.publish(rev=rev)
    assert "In named revision" in fw.names()
    failure(fw.mutate("publishPolicyRevision", None, rev=rev, ok=False), "PolicyRevisionNotFound")


def test_another_identitys_revision_is_a_revision_mismatch_and_an_unknown_one_not_found(fw):
    fw.add("Private")
    rev = fw.revisions()[0]["id"]
    other = teammate(fw)
    msg = failure(
        other.mutate("addRule", {"rule": {"name": "x", "enabled": True}}, rev=rev, ok=False),
        "PolicyRevisionMismatch",
    )
    assert msg.startswith("Revision is not owned by the admin")
    failure(other.mutate("publishPolicyRevision", None, rev=rev, ok=False), "PolicyRevisionMismatch")
    assert (
        other.raw(POLICY_Q, input={"revision": {"id": rev}})["errors"][0]["extensions"]["code"]
        == "PolicyRevisionMismatch"
    )
    failure(fw.mutate("removeRule", {"id": "x"}, rev="no-such-revision", ok=False), "PolicyRevisionNotFound")
    wan = Fw(fw.emu, fw.acc, fw.key, "wanFirewall")  # a revision belongs to one policy
    failure(
        wan.mutate("addRule", {"rule": {"name": "x", "enabled": True}}, rev=rev, ok=False),
        "PolicyRevisionMismatch",
    )
    assert "Private" not in fw.names()


def test_a_ui_admin_has_a_revision_of_their_own(fw):
    alice = Fw(fw.emu, fw.acc, None, admin=f"alice@{fw.acc}.example")
    alice.add("From the UI")
    assert "From the UI" not in fw.names({"type": "PRIVATE"})
    alice.publish()
    assert "From the UI" in fw.names()
    assert fw.rule("From the UI")["audit"]["updatedBy"] == f"alice@{fw.acc}.example"


# -- locks ----------------------------------------------------------------------------------------
def test_a_rule_changed_in_one_revision_is_locked_for_other_revisions_until_published(fw):
    other = teammate(fw)
    gambling = fw.rule("Block gambling")["rule"]["id"]
    fw.mutate("updateRule", {"id": gambling, "rule": {"description": "mine"}})
    for op, input in [
        ("updateRule", {"id": gambling, "rule": {"description": "theirs"}}),
        ("removeRule", {"id": gambling}),
        ("moveRule", {"id": gambling, "to": {"position": "LAST_IN_POLICY"}}),
        (
            "addRule",
            {
                "rule": {"name": "after it", "enabled": True},
                "at": {"position": "AFTER_RULE", "ref": gambling},
            },
        ),
    ]:
        failure(other.mutate(op, input, ok=False), "ruleIsLocked")
    assert fw.rule("Block gambling")["properties"] == []  # the caller's own lock isn't "LOCKED" to it
    assert other.rule("Block gambling")["properties"] == ["LOCKED"]
    fw.publish()
    other.mutate("updateRule", {"id": gambling, "rule": {"description": "theirs"}})
    other.publish()
    assert fw.rule("Block gambling")["rule"]["description"] == "theirs"


def test_a_rule_referenced_as_a_position_is_anchored_its_content_editable_but_not_its_place(fw):
    other = teammate(fw)
    office = fw.rule("Allow Office")["rule"]["id"]
    fw.add("Just before Office", at={"position": "BEFORE_RULE", "ref": office})
    assert other.rule("Allow Office")["properties"] == ["ANCHORED"]
    other.mutate("updateRule", {"id": office, "rule": {"description": "edited"}})
    failure(
        other.mutate("moveRule", {"id": office, "to": {"position": "FIRST_IN_POLICY"}}, ok=False),
        "ruleIsLocked",
    )
    failure(other.mutate("removeRule", {"id": office}, ok=False), "ruleIsLocked")
    other.publish()
    fw.publish()
    assert fw.names() == ["Block anonymizers", "Block gambling", "Just before Office", "Allow Office"]
    assert fw.rule("Allow Office")["rule"]["description"] == "edited"


def test_a_section_changed_in_one_revision_is_locked_for_other_revisions(fw):
    other = teammate(fw)
    apps = fw.section_id("Apps")
    fw.mutate("updateSection", {"id": apps, "section": {"name": "Applications"}})
    failure(
        other.mutate("updateSection", {"id": apps, "section": {"name": "Apps 2"}}, ok=False),
        "sectionIsLocked",
    )
    failure(other.mutate("removeSection", {"id": apps}, ok=False), "sectionIsLocked")
    into = {"rule": {"name": "in apps", "enabled": True}, "at": {"position": "LAST_IN_SECTION", "ref": apps}}
    failure(other.mutate("addRule", into, ok=False), "ruleSectionIsLocked")


# -- positions ------------------------------------------------------------------------------------
def test_every_add_rule_position_kind(fw):
    sec, apps = fw.section_id("Security"), fw.section_id("Apps")
    gambling = fw.rule("Block gambling")["rule"]["id"]
    fw.add("last-policy", at={"position": "LAST_IN_POLICY"})
    fw.add("first-policy", at={"position": "FIRST_IN_POLICY"})
    fw.add("first-apps", at={"position": "FIRST_IN_SECTION", "ref": apps})
    fw.add("last-security", at={"position": "LAST_IN_SECTION", "ref": sec})
    fw.add("before-gambling", at={"position": "BEFORE_RULE", "ref": gambling})
    fw.add("after-gambling", at={"position": "AFTER_RULE", "ref": gambling})
    fw.add("default-is-last")
    rules = fw.private()["rules"]
    assert [(r["rule"]["name"], r["rule"]["section"]["name"]) for r in rules] == [
        ("first-policy", "Security"),
        ("Block anonymizers", "Security"),
        ("before-gambling", "Security"),
        ("Block gambling", "Security"),
        ("after-gambling", "Security"),
        ("last-security", "Security"),
        ("first-apps", "Apps"),
        ("Allow Office", "Apps"),
        ("last-policy", "Apps"),
        ("default-is-last", "Apps"),
    ]
    assert [r["rule"]["index"] for r in rules] == list(range(1, 11))


def test_every_move_rule_position_kind(fw):
    ids = {r["rule"]["name"]: r["rule"]["id"] for r in fw.policy()["rules"]}
    sec, apps = fw.section_id("Security"), fw.section_id("Apps")
    a, g, o = ids["Block anonymizers"], ids["Block gambling"], ids["Allow Office"]
    steps = [
        ({"position": "LAST_IN_POLICY"}, a, ["Block gambling", "Allow Office", "Block anonymizers"]),
        ({"position": "FIRST_IN_POLICY"}, o, ["Allow Office", "Block gambling", "Block anonymizers"]),
        (
            {"position": "FIRST_IN_SECTION", "ref": apps},
            g,
            ["Allow Office", "Block gambling", "Block anonymizers"],
        ),
        (
            {"position": "LAST_IN_SECTION", "ref": sec},
            a,
            ["Allow Office", "Block anonymizers", "Block gambling"],
        ),
        ({"position": "BEFORE_RULE", "ref": o}, g, ["Block gambling", "Allow Office", "Block anonymizers"]),
        ({"position": "AFTER_RULE", "ref": a}, o, ["Block gambling", "Block anonymizers", "Allow Office"]),
    ]
    for to, rid, expected in steps:
        moved = fw.mutate("moveRule", {"id": rid, "to": to})["rule"]
        assert "MOVED" in moved["properties"]
        assert fw.names({"type": "PRIVATE"}) == expected, to
    sections = [r["rule"]["section"]["name"] for r in fw.private()["rules"]]
    assert sections == ["Security"] * 3  # a rule placed next to another joins its section
    failure(
        fw.mutate("moveRule", {"id": g, "to": {"position": "AFTER_RULE", "ref": g}}, ok=False),
        "rulePositionInvalid",
    )
    failure(
        fw.mutate("moveRule", {"id": g, "to": {"position": "FIRST_IN_SECTION", "ref": "nope"}}, ok=False),
        "ruleSectionNotExist",
    )
    failure(
        fw.mutate("moveRule", {"id": "nope", "to": {"position": "LAST_IN_POLICY"}}, ok=False), "ruleNotExist"
    )


def test_update_merges_the_patch_and_only_enabled_flips_are_kept_apart_from_other_fields(fw):
    office = fw.rule("Allow Office")["rule"]
    fw.mutate(
        "updateRule", {"id": office["id"], "rule": {"source": {"ip": ["192.0.2.99"]}, "name": "Allow O365"}}
    )
    rule = fw.rule("Allow O365", {"type": "PRIVATE"})["rule"]
    assert rule["source"]["ip"] == ["192.0.2.99"] and rule["source"]["site"] == office["source"]["site"]
    assert rule["destination"] == office["destination"] and rule["action"] == "ALLOW"
    gambling = fw.rule("Block gambling")["rule"]["id"]
    failure(
        fw.mutate("updateRule", {"id": gambling, "rule": {"name": "Allow O365"}}, ok=False),
        "ruleNameAlreadyExists",
    )
    failure(
        fw.mutate("addRule", {"rule": {"name": "Block gambling", "enabled": True}}, ok=False),
        "ruleNameAlreadyExists",
    )
    failure(fw.mutate("addRule", {"rule": {"name": "  ", "enabled": True}}, ok=False), "ruleNameIsEmpty")


def test_remove_rule_and_removing_it_again(fw):
    office = fw.rule("Allow Office")["rule"]["id"]
    gone = fw.mutate("removeRule", {"id": office})["rule"]
    assert gone["properties"] == ["REMOVED"] and gone["rule"]["name"] == "Allow Office"
    failure(fw.mutate("removeRule", {"id": office}, ok=False), "ruleWasRemoved")
    added = fw.add("short-lived")
    fw.mutate("removeRule", {"id": added["rule"]["id"]})
    assert fw.private()["revision"]["changes"] == 1  # an added-then-removed rule is no change
    fw.publish()
    assert fw.names() == ["Block anonymizers", "Block gambling"]


# -- sections -------------------------------------------------------------------------------------
def test_first_section_takes_every_rule_and_stays_first(emu):
    acc = str(next(_accounts))
    fx = {
        **account_fixture(acc),
        "policies": {
            "internet_firewall": {"rules": [{"name": "r1", "enabled": True}, {"name": "r2", "enabled": True}]}
        },
    }
    emu.ctl.seed({"accounts": [fx]})
    fw = Fw(emu, acc, f"A-{acc}")
    assert [r["rule"]["section"] for r in fw.policy()["rules"]] == [{"id": "", "name": ""}] * 2
    failure(
        fw.mutate(
            "addSection",
            {"at": {"position": "AFTER_SECTION", "ref": "x"}, "section": {"name": "S"}},
            ok=False,
        ),
        "sectionNotExist",
    )
    first = fw.mutate("addSection", {"at": {"position": "LAST_IN_POLICY"}, "section": {"name": "First"}})[
        "section"
    ]
    assert first["properties"] == ["ADDED"]
    assert [r["rule"]["section"]["name"] for r in fw.private()["rules"]] == ["First", "First"]
    fid = first["section"]["id"]
    before_first = {"at": {"position": "BEFORE_SECTION", "ref": fid}, "section": {"name": "Zero"}}
    failure(fw.mutate("addSection", before_first, ok=False), "sectionPositionInvalid")
    failure(fw.mutate("removeSection", {"id": fid}, ok=False), "sectionSystemMove")
    failure(
        fw.mutate("moveSection", {"id": fid, "to": {"position": "LAST_IN_POLICY"}}, ok=False),
        "sectionSystemMove",
    )
    failure(
        fw.mutate(
            "addSection", {"at": {"position": "LAST_IN_POLICY"}, "section": {"name": "First"}}, ok=False
        ),
        "DuplicateSectionName",
    )


def test_section_add_move_rename_and_remove_in_a_revision(fw):
    sec, apps = fw.section_id("Security"), fw.section_id("Apps")
    mid = fw.mutate(
        "addSection", {"at": {"position": "AFTER_SECTION", "ref": sec}, "section": {"name": "Middle"}}
    )["section"]["section"]["id"]
    end = fw.mutate("addSection", {"at": {"position": "LAST_IN_POLICY"}, "section": {"name": "End"}})[
        "section"
    ]["section"]["id"]
    fw.add("in-end", at={"position": "FIRST_IN_SECTION", "ref": end})
    fw.mutate("moveSection", {"id": end, "to": {"position": "BEFORE_SECTION", "ref": mid}})
    fw.mutate("updateSection", {"id": apps, "section": {"name": "Applications"}})
    fw.mutate("moveSection", {"id": apps, "to": {"position": "AFTER_SECTION", "ref": sec}})
    private = fw.private()
    assert [s["section"]["name"] for s in private["sections"]] == [
        "Security",
        "Applications",
        "End",
        "Middle",
    ]
    assert [(r["rule"]["name"], r["rule"]["section"]["name"]) for r in private["rules"]][-2:] == [
        ("Allow Office", "Applications"),
        ("in-end", "End"),
    ]
    fw.mutate("removeSection", {"id": end})  # its rule stays, in the section above
    rules = fw.private()["rules"]
    assert (rules[-1]["rule"]["name"], rules[-1]["rule"]["section"]["name"]) == ("in-end", "Applications")
    failure(
        fw.mutate("moveSection", {"id": mid, "to": {"position": "AFTER_SECTION", "ref": mid}}, ok=False),
        "sectionPositionInvalid",
    )
    failure(fw.mutate("updateSection", {"id": "nope", "section": {"name": "n"}}, ok=False), "sectionNotExist")
    fw.publish()
    assert [s["section"]["name"] for s in fw.policy()["sections"]] == ["Security", "Applications", "Middle"]


# -- audit ----------------------------------------------------------------------------------------
AUDIT_Q = """query A($ids: [ID!]) { auditFeed(accountIDs: $ids, timeFrame: "last.PT1H") {
  accounts { records { apiKey { name } object { id name } fieldsMap } } } }"""


def audit_records(fw: Fw) -> list[dict[str, Any]]:
    return fw.gql(AUDIT_Q, ids=[fw.acc])["auditFeed"]["accounts"][0]["records"]


def test_publish_writes_one_audit_record_per_change_then_one_for_the_revision(fw):
    gambling = fw.rule("Block gambling")["rule"]["id"]
    fw.add("Audited")
    fw.mutate("updateRule", {"id": gambling, "rule": {"enabled": False}})
    fw.mutate("removeRule", {"id": fw.rule("Allow Office")["rule"]["id"]})
    fw.mutate("updateSection", {"id": fw.section_id("Apps"), "section": {"name": "Applications"}})
    fw.mutate(
        "moveRule",
        {"id": fw.rule("Block anonymizers")["rule"]["id"], "to": {"position": "AFTER_RULE", "ref": gambling}},
    )
    assert audit_records(fw) == []  # private until published
    fw.publish(name="audited publish")
    recs = audit_records(fw)
    got = {(r["object"]["name"], r["fieldsMap"]["model_type"], r["fieldsMap"]["change_type"]) for r in recs}
    assert got == {
        ("Audited", "InternetFirewallRule", "CREATED"),
        ("Block gambling", "InternetFirewallRule", "DISABLED"),
        ("Allow Office", "InternetFirewallRule", "DELETED"),
        ("Applications", "InternetFirewallSection", "MODIFIED"),
        ("Block anonymizers", "InternetFirewallRule", "MODIFIED"),
        ("audited publish", "PolicyRevision", "MODIFIED"),
    }
    assert recs[-1]["fieldsMap"]["model_type"] == "PolicyRevision"
    assert all(
        # SDL AuditFieldName.module: administration, configuration or security.
        r["apiKey"]["name"] == "catoiac" and r["fieldsMap"]["module"] == "security"
        for r in recs
    )
    fm = {r["object"]["name"]: r["fieldsMap"] for r in recs}
    assert (
        fm["Block anonymizers"]["change_Before_index"],
        fm["Block anonymizers"]["change_After_index"],
    ) == ("1", "2")
    assert (fm["Applications"]["change_Before_name"], fm["Applications"]["change_After_name"]) == (
        "Apps",
        "Applications",
    )
    assert fm["Block gambling"]["change_After_enabled"] == "false"


# -- WAN firewall ---------------------------------------------------------------------------------
def test_wan_firewall_has_the_same_revisions_and_rules(fw):
    wan = Fw(fw.emu, fw.acc, fw.key, "wanFirewall")
    seeded = wan.policy()["rules"][0]["rule"]
    assert (
        seeded["destination"]["site"][0]["name"] == "Paris"
        and seeded["service"]["standard"][0]["name"] == "HTTPS"
    )
    wan.add(
        "Paris to HQ",
        at={"position": "FIRST_IN_POLICY"},
        direction="TO",
        source={"site": [{"by": "NAME", "input": "Paris"}]},
    )
    assert wan.names() == ["HQ to Paris"]
    assert fw.revisions() == []  # the internet firewall has no revision of its own
    wan.publish()
    assert wan.names() == ["Paris to HQ", "HQ to Paris"]
    assert any(
        r["fieldsMap"]["model_type"] == "WanFirewallRule" and r["fieldsMap"]["module"] == "security"
        for r in audit_records(fw)
    )


def test_system_rules_head_the_first_section_and_cannot_be_changed_or_preceded(emu):
    acc = str(next(_accounts))
    rules = [{"name": "System default", "enabled": True, "system": True}, {"name": "Mine", "enabled": True}]
    emu.ctl.seed(
        {
            "accounts": [
                {
                    **account_fixture(acc),
                    "policies": {"internet_firewall": {"sections": [{"name": "Main", "rules": rules}]}},
                }
            ]
        }
    )
    fw = Fw(emu, acc, f"A-{acc}")
    system = fw.rule("System default")
    assert system["properties"] == ["SYSTEM"]
    sid = system["rule"]["id"]
    fw.add("First", at={"position": "FIRST_IN_POLICY"})
    fw.add("First in Main", at={"position": "FIRST_IN_SECTION", "ref": fw.section_id("Main")})
    assert fw.names({"type": "PRIVATE"}) == ["System default", "First in Main", "First", "Mine"]
    failure(
        fw.mutate("updateRule", {"id": sid, "rule": {"enabled": False}}, ok=False), "ruleSystemModification"
    )
    failure(fw.mutate("removeRule", {"id": sid}, ok=False), "ruleSystemModification")
    before = {"rule": {"name": "x", "enabled": True}, "at": {"position": "BEFORE_RULE", "ref": sid}}
    failure(fw.mutate("addRule", before, ok=False), "ruleSystemMove")
    mine = fw.rule("Mine")["rule"]["id"]
    failure(
        fw.mutate("moveRule", {"id": mine, "to": {"position": "BEFORE_RULE", "ref": sid}}, ok=False),
        "ruleSystemMove",
    )
