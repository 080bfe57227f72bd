"""Fixtures and helpers shared by the firewall policy tests (engine-level and through Pulumi)."""

from __future__ import annotations

import copy
from typing import Any

from emu_helpers import ACCOUNT, KEY, base_fixture

from catoiac.client import CatoClient
from catoiac.config import ClientConfig

SITES = [
    {"name": "HQ", "country_code": "US", "timezone": "America/New_York", "native_range": "10.1.0.0/24",
     "hosts": [{"name": "printer", "ip": "10.1.0.10"}]},
    {"name": "Paris", "country_code": "FR", "timezone": "Europe/Paris", "native_range": "10.2.0.0/24"},
]  # fmt: skip

# Sections of someone else, which every test checks stay exactly as they are.
FOREIGN = {
    "internet_firewall": {
        "sections": [
            {"name": "Security", "rules": [
                {"name": "Block anonymizers", "enabled": True, "destination": {"appCategory": [{"id": "anonymizers"}]}},
                {"name": "Block gambling", "enabled": True, "destination": {"appCategory": ["Gambling"]}},
            ]},
        ]
    },
    "wan_firewall": {
        "sections": [
            {"name": "Baseline", "rules": [
                {"name": "Block legacy", "enabled": True, "service": {"standard": [{"id": "ftp"}]}},
            ]},
        ]
    },
}  # fmt: skip


def fixture() -> dict[str, Any]:
    fx = base_fixture()
    fx["accounts"][0]["sites"] = copy.deepcopy(SITES)
    fx["accounts"][0]["policies"] = copy.deepcopy(FOREIGN)
    return fx


def fixture_with_paris_data() -> dict[str, Any]:
    """``fixture()`` plus, in Paris, a range "Data" (10.2.5.0/24) and a host "nas" (10.2.0.20)."""
    fx = fixture()
    paris = fx["accounts"][0]["sites"][1]
    paris["ranges"] = [
        {"name": "Data", "subnet": "10.2.5.0/24", "range_type": "Routed", "gateway": "10.2.0.254"}
    ]
    paris["hosts"] = [{"name": "nas", "ip": "10.2.0.20"}]
    return fx


def rule(name: str, **fields: Any) -> dict[str, Any]:
    return {"name": name, **fields}


IFW_SECTIONS = [
    {
        "name": "Corporate",
        "rules": [
            rule(
                "Block social",
                source={"site": ["HQ"], "ip": ["10.1.0.5"]},
                destination={"application": [{"id": "facebook"}, {"name": "Dropbox"}]},
                tracking={"event": {"enabled": True}},
            ),
            rule("Allow office", action="ALLOW", source={"site": [{"name": "Paris"}], "subnet": ["10.2.0.0/24"]},
                 service={"standard": ["HTTPS"], "custom": [{"protocol": "TCP", "port": [8443]}]}),
            rule("Block risky", destination={"app_category": ["Gambling"]}, enabled=False),
        ],
    },
    {
        "name": "Guest",
        "rules": [
            rule("Guest web", action="ALLOW", service={"standard": [{"name": "HTTP"}]},
                 exceptions=[{"name": "printer", "source": {"host": ["printer"]}}]),
        ],
    },
]  # fmt: skip

WAN_SECTIONS = [
    {
        "name": "Branches",
        "rules": [
            rule("HQ to Paris", action="ALLOW", source={"site": ["HQ"]}, destination={"site": ["Paris"]},
                 service={"standard": ["HTTPS"]}),
            rule("Paris to HQ", action="ALLOW", direction="TO", source={"site": ["Paris"]},
                 destination={"site": ["HQ"]}),
        ],
    }
]  # fmt: skip


class Reader:
    """Reads the policies straight from the API as our key, for assertions."""

    def __init__(self, url: str) -> None:
        self.client = CatoClient(ClientConfig(api_key=KEY, account_id=ACCOUNT, base_url=url))

    def layout(self, field: str = "internetFirewall") -> list[tuple[str, list[str]]]:
        prefix = field[0].upper() + field[1:]
        p = self.client.execute(f"Read{prefix}Policy", {})["policy"][field]["policy"]
        out: dict[str, list[str]] = {s["section"]["name"]: [] for s in p["sections"]}
        for r in p["rules"]:
            out.setdefault(r["rule"]["section"]["name"], []).append(r["rule"]["name"])
        return list(out.items())

    def rule(self, name: str, field: str = "internetFirewall") -> dict[str, Any]:
        prefix = field[0].upper() + field[1:]
        p = self.client.execute(f"Read{prefix}Policy", {})["policy"][field]["policy"]
        return next(r["rule"] for r in p["rules"] if r["rule"]["name"] == name)

    def open_revisions(self, field: str = "internetFirewall") -> list[dict[str, Any]]:
        prefix = field[0].upper() + field[1:]
        data = self.client.execute(f"{prefix}Revisions", {})
        return data["policy"][field]["revisions"]["revision"]

    def close(self) -> None:
        self.client.close()


MOVE_RULE_AS_ALICE = """
mutation($a: ID!, $id: ID!, $ref: ID!) { policy(accountId: $a) { internetFirewall {
  moveRule(input: {id: $id, to: {position: BEFORE_RULE, ref: $ref}}) { status errors { errorCode } } } } }"""
UPDATE_RULE_AS_ALICE = """
mutation($a: ID!, $id: ID!) { policy(accountId: $a) { internetFirewall {
  updateRule(input: {id: $id, rule: {description: "edited by alice"}}) { status errors { errorCode } } } } }"""
PUBLISH_AS_ALICE = """
mutation($a: ID!) { policy(accountId: $a) { internetFirewall {
  publishPolicyRevision { status errors { errorCode } } } } }"""
