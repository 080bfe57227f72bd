"""Firewall rule bodies in the emulator: a full rule round-trips field for field through a realistic
policy document (valid against Cato's schema), every reference type has a source, and fixtures
load large policies fast."""

from __future__ import annotations

import copy
from typing import Any

import httpx
import pytest
from graphql import GraphQLInputObjectType, get_named_type, parse, validate

from catoiac.emulator.app import emulator_schema
from catoiac.emulator.domains.policy_refs import REF_SOURCES, is_ref_input
from catoiac.emulator.limits import RateLimitConfig
from catoiac.emulator.server import EmulatorServer

ACC, KEY = "3001", "key-3001"

SOURCE = """
fragment Source on InternetFirewallSource {
  floatingSubnet { id name } globalIpRange { id name } group { id name } host { id name } ip
  ipRange { from to } networkInterface { id name } site { id name } siteNetworkSubnet { id name }
  subnet systemGroup { id name } user { id name } usersGroup { id name }
}
fragment Destination on InternetFirewallDestination {
  appCategory { id name } application { id name }
  containers { fqdnContainer { id name } ipAddressRangeContainer { id name } }
  country { id name } customApp { id name } customCategory { id name } domain fqdn
  globalIpRange { id name } ip ipRange { from to } remoteAsn sanctionedAppsCategory { id name } subnet
}
fragment Service on InternetFirewallServiceType { standard { id name } custom { port portRange { from to } protocol } }
fragment Attributes on DeviceAttributes { category manufacturer model os osVersion type }
"""
# What an IaC tool reads to diff a whole Internet Firewall policy: every field of every rule.
FULL_POLICY_QUERY = (
    """
query InternetFirewallPolicyFull($accountId: ID!, $input: InternetFirewallPolicyInput) {
  policy(accountId: $accountId) {
    internetFirewall {
      policy(input: $input) {
        id name description enabled access { action }
        audit { publishedBy publishedTime }
        revision { id name description changes createdTime updatedTime }
        sections { access { action } audit { updatedBy updatedTime } properties section { id name subPolicyId } }
        rules {
          audit { updatedBy updatedTime }
          properties
          rule {
            id name description index enabled action connectionOrigin
            section { id name subPolicyId }
            activePeriod { effectiveFrom expiresAt useEffectiveFrom useExpiresAt }
            source { ...Source }
            country { id name }
            device { id name }
            deviceAttributes { ...Attributes }
            deviceOS
            destination { ...Destination }
            service { ...Service }
            schedule { activeOn customRecurring { days from to } customTimeframe { from to } }
            tracking {
              event { enabled }
              alert { enabled frequency mailingList { id name } subscriptionGroup { id name } webhook { id name } }
            }
            exceptions {
              name connectionOrigin deviceOS
              country { id name } device { id name } deviceAttributes { ...Attributes }
              source { ...Source } destination { ...Destination } service { ...Service }
            }
          }
        }
      }
    }
  }
}
"""
    + SOURCE
)
WAN_FULL_RULES_QUERY = """
query WanFirewallRules($accountId: ID!) {
  policy(accountId: $accountId) { wanFirewall { policy { rules { properties rule {
    id name description index enabled action direction connectionOrigin section { id name }
    source { ...Src } destination { ...Dst }
    application { appCategory { id name } application { id name } customApp { id name } customCategory { id name }
                  domain fqdn globalIpRange { id name } ip ipRange { from to } sanctionedAppsCategory { id name } subnet }
    service { standard { id name } custom { port portRange { from to } protocol } }
    country { id name } device { id name } deviceOS
    schedule { activeOn } tracking { event { enabled } alert { enabled frequency } }
    exceptions { name direction source { ...Src } destination { ...Dst } application { application { id name } } }
  } } } } }
}
fragment Src on WanFirewallSource {
  floatingSubnet { id name } globalIpRange { id name } group { id name } host { id name } ip ipRange { from to }
  networkInterface { id name } site { id name } siteNetworkSubnet { id name } subnet systemGroup { id name }
  user { id name } usersGroup { id name }
}
fragment Dst on WanFirewallDestination {
  floatingSubnet { id name } globalIpRange { id name } group { id name } host { id name } ip ipRange { from to }
  networkInterface { id name } site { id name } siteNetworkSubnet { id name } subnet systemGroup { id name }
  user { id name } usersGroup { id name }
}
"""
ADD_RULE = """
mutation AddRule($accountId: ID!, $input: InternetFirewallAddRuleInput!) {
  policy(accountId: $accountId) { internetFirewall { addRule(input: $input) { status errors { errorCode errorMessage } } } }
}"""

FULL_RULE_INPUT: dict[str, Any] = {
    "name": "Everything",
    "description": "a rule with every field set",
    "enabled": False,
    "action": "PROMPT",
    "connectionOrigin": "REMOTE",
    "activePeriod": {
        "effectiveFrom": "2025-01-01T00:00:00Z",
        "expiresAt": "2026-01-01T00:00:00Z",
        "useEffectiveFrom": True,
        "useExpiresAt": True,
    },
    "source": {
        "ip": ["192.0.2.1"],
        "subnet": ["198.51.100.0/24"],
        "ipRange": [{"from": "192.0.2.10", "to": "192.0.2.20"}],
        "site": [{"by": "NAME", "input": "HQ"}],
        "systemGroup": [{"by": "NAME", "input": "All Sites"}],
    },
    "country": [{"by": "ID", "input": "IL"}],
    "deviceOS": ["WINDOWS", "MACOS"],
    "deviceAttributes": {"category": ["Laptop"], "manufacturer": ["Dell"], "os": ["Windows"]},
    "destination": {
        "application": [{"by": "ID", "input": "dropbox"}],
        "appCategory": [{"by": "NAME", "input": "File Sharing"}],
        "country": [{"by": "NAME", "input": "Japan"}],
        "domain": ["example.com"],
        "fqdn": ["www.example.com"],
        "ip": ["203.0.113.5"],
        "ipRange": [{"from": "203.0.113.10", "to": "203.0.113.20"}],
        "remoteAsn": ["65001"],
        "subnet": ["203.0.113.128/25"],
    },
    "service": {
        "standard": [{"by": "NAME", "input": "HTTPS"}],
        "custom": [{"protocol": "TCP", "port": ["8443"]}, {"protocol": "UDP", "portRange": {"from": "5000", "to": "5100"}}],
    },
    "schedule": {"activeOn": "CUSTOM_RECURRING", "customRecurring": {"days": ["MONDAY", "FRIDAY"], "from": "08:00:00", "to": "18:00:00"}},
    "tracking": {"event": {"enabled": True}, "alert": {"enabled": True, "frequency": "DAILY"}},
    "exceptions": [
        {
            "name": "Except IT",
            "connectionOrigin": "SITE",
            "source": {"ip": ["192.0.2.99"]},
            "destination": {"domain": ["it.example.com"]},
            "service": {"standard": [{"by": "ID", "input": "ssh"}]},
        }
    ],
}  # fmt: skip


def _resolved(value: Any, refs: dict[str, dict[str, str]]) -> Any:
    """The input with each {by, input} replaced by the {id, name} the emulator should store."""
    if isinstance(value, dict):
        if set(value) == {"by", "input"}:
            return refs[value["input"]]
        return {k: _resolved(v, refs) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolved(v, refs) for v in value]
    return value


def _subset(expected: Any, actual: Any, path: str = "rule") -> None:
    """Every value ``expected`` holds is in ``actual`` (which may have more fields)."""
    if isinstance(expected, dict):
        for k, v in expected.items():
            _subset(v, actual[k], f"{path}.{k}")
    elif isinstance(expected, list) and expected and isinstance(expected[0], dict):
        assert len(expected) == len(actual), path
        for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
            _subset(e, a, f"{path}[{i}]")
    else:
        assert expected == actual, path


def test_the_full_policy_documents_are_valid_against_cato_and_emulator_schemas(real_schema):
    for doc in (FULL_POLICY_QUERY, WAN_FULL_RULES_QUERY, ADD_RULE):
        ast = parse(doc)
        assert validate(real_schema, ast) == []
        assert validate(emulator_schema(), ast) == []


def test_every_rule_field_round_trips_through_add_rule_and_the_full_policy_query():
    fx = {
        "accounts": [
            {
                "id": ACC,
                "api_keys": [{"id": "k", "name": "catoiac", "key": KEY}],
                "sites": [
                    {
                        "name": "HQ",
                        "country_code": "IL",
                        "timezone": "Asia/Jerusalem",
                        "native_range": "10.7.0.0/24",
                    }
                ],
            }
        ]
    }
    with EmulatorServer(seed=fx, rate_limits=RateLimitConfig(enabled=False)) as emu, httpx.Client() as http:

        def gql(doc: str, **variables: Any) -> dict[str, Any]:
            body = http.post(
                emu.url,
                json={"query": doc, "variables": {"accountId": ACC, **variables}},
                headers={"x-api-key": KEY},
            ).json()
            assert "errors" not in body, body
            return body["data"]

        added = gql(ADD_RULE, input={"rule": FULL_RULE_INPUT, "at": {"position": "FIRST_IN_POLICY"}})
        assert added["policy"]["internetFirewall"]["addRule"]["status"] == "SUCCESS", added
        pol = gql(FULL_POLICY_QUERY, input={"revision": {"type": "PRIVATE"}})["policy"]["internetFirewall"][
            "policy"
        ]
        site = emu.emulator.store.find_by_name(ACC, "site", "HQ")[0]
    refs = {
        "HQ": {"id": site["id"], "name": "HQ"},
        "All Sites": {"id": "4", "name": "All Sites"},
        "IL": {"id": "IL", "name": "Israel"},
        "dropbox": {"id": "dropbox", "name": "Dropbox"},
        "File Sharing": {"id": "file_sharing", "name": "File Sharing"},
        "Japan": {"id": "JP", "name": "Japan"},
        "HTTPS": {"id": "https", "name": "HTTPS"},
        "ssh": {"id": "ssh", "name": "SSH"},
    }
    [payload] = pol["rules"]
    rule = payload["rule"]
    _subset(_resolved(copy.deepcopy(FULL_RULE_INPUT), refs), rule)
    assert payload["properties"] == ["ADDED"] and payload["audit"]["updatedBy"] == "catoiac"
    assert (rule["index"], rule["section"]) == (1, {"id": "", "name": "", "subPolicyId": None})
    # What the input left out comes back in the schema's shape: empty lists and objects.
    assert rule["device"] == [] and rule["source"]["user"] == [] and rule["deviceAttributes"]["model"] == []
    assert rule["destination"]["containers"] == {"fqdnContainer": [], "ipAddressRangeContainer": []}
    assert rule["schedule"]["customTimeframe"] is None
    assert rule["tracking"]["alert"]["webhook"] == []
    exc = rule["exceptions"][0]
    assert exc["deviceOS"] == [] and exc["destination"]["application"] == [] and exc["country"] == []
    assert pol["name"] == "Main" and pol["access"] == {"action": "EDIT"} and pol["revision"]["changes"] == 1


def test_every_reference_type_a_rule_can_hold_has_a_source():
    schema, seen, refs = emulator_schema(), set(), set()

    def walk(t: GraphQLInputObjectType) -> None:
        if t.name in seen:
            return
        seen.add(t.name)
        for f in t.fields.values():
            nt = get_named_type(f.type)
            if is_ref_input(nt):
                refs.add(nt.name)
            elif isinstance(nt, GraphQLInputObjectType):
                walk(nt)

    for prefix in ("InternetFirewall", "WanFirewall"):
        for kind in ("AddRuleDataInput", "UpdateRuleDataInput"):
            walk(schema.type_map[prefix + kind])
    assert refs and refs <= set(REF_SOURCES), sorted(refs - set(REF_SOURCES))


def _rule(i: int, wan: bool) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "name": f"rule {i}",
        "enabled": i % 3 != 0,
        "action": "ALLOW" if i % 2 else "BLOCK",
        "source": {"site": ["HQ"], "ip": [f"10.9.{i // 250}.{i % 250}"]},
        "service": {"standard": ["HTTPS", {"id": "ssh"}], "custom": [{"protocol": "TCP", "port": ["8080"]}]},
        "tracking": {"event": {"enabled": True}},
        "exceptions": [{"name": "exc", "source": {"ip": ["10.0.0.1"]}}],
    }
    if wan:
        rule.update(direction="BOTH", destination={"site": ["HQ"]}, application={"application": ["YouTube"]})
    else:
        rule["destination"] = {
            "application": [{"id": "facebook"}],
            "appCategory": ["Gambling"],
            "domain": ["x.com"],
        }
    return rule


def test_a_fixture_of_1000_internet_and_500_wan_rules_seeds_and_reads_back_in_order():
    def sections(n: int, wan: bool) -> list[dict[str, Any]]:
        return [{"name": f"S{s}", "rules": [_rule(s * 100 + i, wan) for i in range(100)]} for s in range(n)]

    acc = {
        "id": ACC,
        "api_keys": [{"id": "k", "name": "catoiac", "key": KEY}],
        "sites": [
            {
                "name": "HQ",
                "country_code": "US",
                "timezone": "America/New_York",
                "native_range": "10.7.0.0/24",
            }
        ],
        "policies": {
            "internet_firewall": {"sections": sections(10, False)},
            "wan_firewall": {"sections": sections(5, True)},
        },
    }
    # How fast is bench/emulator_rps.py's business; this proves order and placement at that size.
    with (
        EmulatorServer(seed={"accounts": [acc]}, rate_limits=RateLimitConfig(enabled=False)) as emu,
        httpx.Client(timeout=120) as http,
    ):
        body = http.post(
            emu.url,
            json={"query": FULL_POLICY_QUERY, "variables": {"accountId": ACC}},
            headers={"x-api-key": KEY},
        ).json()
    rules = body["data"]["policy"]["internetFirewall"]["policy"]["rules"]
    assert [r["rule"]["index"] for r in rules] == list(range(1, 1001))
    assert rules[999]["rule"]["section"]["name"] == "S9" and rules[999]["rule"]["name"] == "rule 999"


def test_a_fixture_with_an_unknown_reference_is_refused_naming_the_rule_and_field():
    acc = {
        "id": ACC,
        "policies": {
            "wan_firewall": {"rules": [{"name": "bad", "enabled": True, "source": {"site": ["Nowhere"]}}]}
        },
    }
    with pytest.raises(
        ValueError, match=r"wan_firewall: rule 'bad': rule\.source\.site: no site with name 'Nowhere'"
    ):
        EmulatorServer(seed={"accounts": [acc]})
