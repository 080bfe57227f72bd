"""The schema-derived rule model on plain data: jsonschema, canonical form, GraphQL input, live read."""

from __future__ import annotations

from pathlib import Path

import pytest

from catoiac.emulator.domains.policy_refs import fill
from catoiac.resources.gql_schema import InputModel, snake
from catoiac.resources.policy import INTERNET_FIREWALL, WAN_FIREWALL, parse_id, resource_id
from catoiac.schema import subset_schema as _schema

ROOT = Path(__file__).resolve().parents[1]
KINDS = pytest.mark.parametrize("kind", [INTERNET_FIREWALL, WAN_FIREWALL], ids=lambda k: k.field)


@KINDS
def test_rule_schema_has_every_input_field_in_snake_case_with_enums_refs_formats_and_defaults(kind):
    schema = kind.rule.schema
    t = _schema().get_type(f"{kind.prefix}AddRuleDataInput")
    assert set(schema["properties"]) == {snake(n) for n in t.fields}
    assert schema["required"] == ["name"]  # `enabled` defaults to true
    assert schema["properties"]["enabled"]["default"] is True
    assert (
        schema["properties"]["action"]["default"] == "BLOCK"
        and "ALLOW" in schema["properties"]["action"]["enum"]
    )
    source = schema["properties"]["source"]["properties"]
    assert source["site"]["items"]["x-cato-ref"] == "SiteRefInput"
    assert source["ip"]["items"]["format"] == "ipv4" and source["subnet"]["items"]["format"] == "cidr"
    assert schema["properties"]["device_os"]["type"] == "array"
    assert schema["properties"]["tracking"]["default"]["alert"]["frequency"] == "HOURLY"


@KINDS
def test_canonical_form_drops_defaults_sorts_refs_and_makes_refs_id_or_name(kind):
    rule = {
        "name": "r",
        "action": "BLOCK",
        "enabled": True,
        "source": {"site": ["Paris", {"id": "12"}, {"name": "HQ"}], "ip": ["10.0.0.2", "10.0.0.1"]},
        "tracking": {"event": {"enabled": True}, "alert": {"enabled": False, "frequency": "HOURLY"}},
        "schedule": {"active_on": "ALWAYS"},
    }
    assert kind.rule.canonical(rule) == {
        "name": "r",
        "source": {"ip": ["10.0.0.1", "10.0.0.2"], "site": [{"id": "12"}, {"name": "HQ"}, {"name": "Paris"}]},
        "tracking": {"event": {"enabled": True}},
    }


@KINDS
def test_graphql_input_is_complete_and_refs_are_by_id_or_name(kind):
    body = kind.rule.to_graphql({"name": "r", "source": {"site": [{"id": "12"}, {"name": "HQ"}]}})
    t = _schema().get_type(f"{kind.prefix}AddRuleDataInput")
    assert set(body) == set(t.fields)
    assert body["source"]["site"] == [{"by": "ID", "input": "12"}, {"by": "NAME", "input": "HQ"}]
    assert body["enabled"] is True and body["action"] == "BLOCK"
    assert body["tracking"]["alert"] == {
        "enabled": False, "frequency": "HOURLY", "mailingList": [], "subscriptionGroup": [], "webhook": []
    }  # fmt: skip
    update = kind.rule.to_graphql({"name": "r"}, target=f"{kind.prefix}UpdateRuleDataInput")
    assert update["schedule"] == {"activeOn": "ALWAYS", "customRecurring": None, "customTimeframe": None}


def _live(kind, body: dict, names: dict[str, str]) -> dict:
    """What Cato returns for a rule added with ``body``: refs as {id, name}, every field filled."""

    def resolve(v):
        if isinstance(v, dict) and set(v) == {"by", "input"}:
            rid = v["input"] if v["by"] == "ID" else names[v["input"]]
            name = v["input"] if v["by"] == "NAME" else {i: n for n, i in names.items()}[v["input"]]
            return {"id": rid, "name": name}
        if isinstance(v, dict):
            return {k: resolve(x) for k, x in v.items()}
        if isinstance(v, list):
            return [resolve(x) for x in v]
        return v

    return fill(resolve(body), _schema().get_type(f"{kind.prefix}Rule"))


@KINDS
def test_a_live_rule_reads_back_equal_to_its_inputs_with_refs_in_the_form_they_were_given(kind):
    names = {"HQ": "1", "Paris": "2", "HTTPS": "https"}
    inputs = kind.rule.canonical(
        {
            "name": "r",
            "action": "ALLOW",
            "description": "x",
            "source": {"site": [{"id": "2"}, "HQ"], "subnet": ["10.1.0.0/16"]},
            "service": {"standard": ["HTTPS"], "custom": [{"protocol": "TCP", "port": [443, "8443"]}]},
            "exceptions": [{"name": "e", "source": {"ip": ["10.0.0.9"]}}],
        }
    )
    live = _live(kind, kind.rule.to_graphql(inputs), names)
    prior_ids = {("SiteRefInput", "2")}
    assert kind.rule.from_live(live, lambda t, i: (t, i) in prior_ids) == inputs
    # Imported (no prior inputs): every ref by name.
    by_name = kind.rule.from_live(live)
    assert by_name["source"]["site"] == [{"name": "HQ"}, {"name": "Paris"}]


# The rule fragments of every family: tests/test_policy_families.py.


def test_resource_ids_list_owned_sections_and_parse_back_with_commas_escaped():
    rid = resource_id(INTERNET_FIREWALL, ["Guest, Wi-Fi", "Corporate"])
    assert rid == "internetFirewall:Corporate,Guest\\, Wi-Fi"
    assert parse_id(INTERNET_FIREWALL, rid) == ["Corporate", "Guest, Wi-Fi"]


def test_input_model_rejects_a_type_that_is_not_an_input_object():
    with pytest.raises(KeyError):
        InputModel("InternetFirewallRule")
