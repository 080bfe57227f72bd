"""The emulator's one policy backend serving every family, over real HTTP: socketLan's firewall
sub-rules (placed within a LAN rule, names unique there, private until published, locking their
LAN rule), audit records with values for the two firewalls only, and fixture mistakes named."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from emu_helpers import ACCOUNT, KEY, OTHER_KEY
from families_support import fixture

from catoiac.emulator.limits import RateLimitConfig
from catoiac.emulator.server import EmulatorServer

SUB_OUT = "status errors { errorCode } rule { properties rule { id name index section { name } } }"
SUB = """mutation($a: ID!, $input: SocketLan{Op}Input!) { policy(accountId: $a) { socketLan {
  firewall { {op}(input: $input) { """ + SUB_OUT + """ } } } } }"""  # fmt: skip
LAN_RULES = """query($a: ID!, $in: SocketLanPolicyInput) { policy(accountId: $a) { socketLan { policy(input: $in) {
  rules { rule { id name firewall { properties rule { id name index } } } } } } } }"""
PUBLISH = """mutation($a: ID!, $p: String!) { policy(accountId: $a) { {p}(input: {}) {
  publishPolicyRevision { status errors { errorCode } } } } }"""
UPDATE_LAN_RULE = """mutation($a: ID!, $id: ID!) { policy(accountId: $a) { socketLan {
  updateRule(input: {id: $id, rule: {description: "x"}}) { status errors { errorCode } } } } }"""
SECTIONS = "query($a: ID!) { policy(accountId: $a) { {p} { policy { sections { section { id } } } } } }"
AUDIT = """query($ids: [ID!]) { auditFeed(accountIDs: $ids, timeFrame: "last.PT1H") {
  accounts { records { object { name } fieldsMap } } } }"""


@pytest.fixture
def emu(emulator_factory):
    return emulator_factory(fixture(), rate_limits=RateLimitConfig(enabled=False))


def gql(emu, query: str, key: str = KEY, **variables: Any) -> dict[str, Any]:
    r = httpx.post(emu.url, json={"query": query, "variables": {"a": ACCOUNT, **variables}},
                   headers={"x-api-key": key}, timeout=30)  # fmt: skip
    body = r.json()
    assert r.status_code == 200 and "errors" not in body, body
    return body["data"]


def sub(emu, op: str, input: dict, key: str = KEY) -> dict[str, Any]:
    doc = SUB.replace("{Op}", "Firewall" + op[0].upper() + op[1:]).replace("{op}", op)
    if op == "moveRule":
        doc = doc.replace("SocketLanFirewallMoveRuleInput", "PolicyMoveSubRuleInput")
    return gql(emu, doc, key=key, input=input)["policy"]["socketLan"]["firewall"][op]


def lan(emu, private: bool = False, key: str = KEY) -> dict[str, dict[str, Any]]:
    """LAN rules by name: id and their firewall rules' names, in order."""
    inp = {"revision": {"type": "PRIVATE"}} if private else None
    rules = gql(emu, LAN_RULES, key=key, **{"in": inp})["policy"]["socketLan"]["policy"]["rules"]
    return {
        r["rule"]["name"]: {
            "id": r["rule"]["id"],
            "firewall": [x["rule"]["name"] for x in r["rule"]["firewall"]],
        }
        for r in rules
    }


def publish(emu, policy: str = "socketLan") -> None:
    doc = PUBLISH.replace("{p}", policy).replace(", $p: String!", "")
    assert gql(emu, doc)["policy"][policy]["publishPolicyRevision"]["status"] == "SUCCESS"


def test_firewall_rules_live_in_their_lan_rule_private_until_published_with_names_unique_there(emu):
    paris = lan(emu)["Paris local"]
    assert paris["firewall"] == ["Paris allow all"]  # seeded from the fixture
    at = {"position": "FIRST_IN_RULE", "ref": paris["id"]}
    added = sub(emu, "addRule", {"rule": {"name": "Block SSH", "action": "BLOCK", "enabled": True}, "at": at})
    assert added["status"] == "SUCCESS" and added["rule"]["properties"] == ["ADDED"]
    assert (added["rule"]["rule"]["index"], added["rule"]["rule"]["section"]["name"]) == (1, "Baseline")
    assert lan(emu)["Paris local"]["firewall"] == ["Paris allow all"]  # published: unchanged
    assert lan(emu, private=True)["Paris local"]["firewall"] == ["Block SSH", "Paris allow all"]

    # Names are unique within the LAN rule.
    dup = sub(
        emu,
        "addRule",
        {
            "rule": {"name": "Block SSH", "enabled": True},
            "at": {"position": "LAST_IN_RULE", "ref": paris["id"]},
        },
    )
    assert (dup["status"], dup["errors"][0]["errorCode"]) == ("FAILURE", "ruleNameAlreadyExists")
    # A firewall rule is always placed in a LAN rule.
    nowhere = sub(emu, "addRule", {"rule": {"name": "Nowhere", "enabled": True}})
    assert (nowhere["status"], nowhere["errors"][0]["errorCode"]) == ("FAILURE", "rulePositionInvalid")

    # Moved after another one, updated, removed: all in the same revision, then published once.
    ssh = added["rule"]["rule"]["id"]
    other = gql(emu, LAN_RULES, **{"in": {"revision": {"type": "PRIVATE"}}})["policy"]["socketLan"]["policy"]
    allow_id = next(
        x["rule"]["id"]
        for r in other["rules"]
        for x in r["rule"]["firewall"]
        if x["rule"]["name"] == "Paris allow all"
    )
    moved = sub(emu, "moveRule", {"id": ssh, "to": {"position": "AFTER_SUB_RULE", "ref": allow_id}})
    assert moved["status"] == "SUCCESS" and moved["rule"]["rule"]["index"] == 2
    renamed = sub(emu, "updateRule", {"id": ssh, "rule": {"name": "Block SSH and Telnet"}})
    assert renamed["rule"]["rule"]["name"] == "Block SSH and Telnet"
    publish(emu)
    assert lan(emu)["Paris local"]["firewall"] == ["Paris allow all", "Block SSH and Telnet"]
    gone = sub(emu, "removeRule", {"id": allow_id})
    assert gone["status"] == "SUCCESS" and gone["rule"]["properties"] == ["REMOVED"]
    publish(emu)
    assert lan(emu)["Paris local"]["firewall"] == ["Block SSH and Telnet"]


def test_a_firewall_rule_change_locks_its_lan_rule_for_other_revisions(emu):
    paris = lan(emu)["Paris local"]
    at = {"position": "LAST_IN_RULE", "ref": paris["id"]}
    assert sub(emu, "addRule", {"rule": {"name": "Mine", "enabled": True}, "at": at})["status"] == "SUCCESS"
    theirs = gql(emu, UPDATE_LAN_RULE, key=OTHER_KEY, id=paris["id"])["policy"]["socketLan"]["updateRule"]
    assert (theirs["status"], theirs["errors"][0]["errorCode"]) == ("FAILURE", "ruleIsLocked")
    also = sub(emu, "addRule", {"rule": {"name": "Theirs", "enabled": True}, "at": at}, key=OTHER_KEY)
    assert (also["status"], also["errors"][0]["errorCode"]) == ("FAILURE", "ruleIsLocked")


def test_audit_records_carry_values_for_the_firewalls_only(emu):
    rename = """mutation($a: ID!, $id: ID!) { policy(accountId: $a) { {p} {
      updateSection(input: {id: $id, section: {name: "Renamed"}}) { status } } } }"""
    for policy in ("internetFirewall", "wanNetwork"):
        query = SECTIONS.replace("{p}", policy)
        sections = gql(emu, query)["policy"][policy]["policy"]["sections"]
        gql(emu, rename.replace("{p}", policy), id=sections[0]["section"]["id"])
        publish(emu, policy)
    records = gql(emu, AUDIT, ids=[ACCOUNT])["auditFeed"]["accounts"][0]["records"]
    by_model = {r["fieldsMap"]["model_type"]: r["fieldsMap"] for r in records}
    ifw, wnw = by_model["InternetFirewallSection"], by_model["WanNetworkSection"]
    assert (ifw["change_type"], ifw["change_Before_name"], ifw["change_After_name"]) == (
        "MODIFIED",
        "Baseline",
        "Renamed",
    )
    assert wnw["change_type"] == "MODIFIED" and wnw["module"] == "security"
    assert not [
        k for k in wnw if k.startswith(("change_Before", "change_After"))
    ]  # KB 4413273463953: no values


def test_fixture_mistakes_name_the_families_and_the_kinds_rules_refer_to():
    bad = fixture()
    bad["accounts"][0]["policies"]["wan_netwrok"] = {"rules": []}
    with pytest.raises(ValueError, match="no policy family wan_netwrok; the families are internet_firewall"):
        EmulatorServer(":memory:", seed=bad)
    bad = fixture()
    bad["accounts"][0]["policy_refs"]["globalIPRange"] = ["x"]
    with pytest.raises(
        ValueError, match=r"policy_refs.globalIPRange: not a kind rules refer to; use one of \["
    ):
        EmulatorServer(":memory:", seed=bad)
