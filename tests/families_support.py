"""Every policy family: an emulator account with what their rules refer to, someone else's section in
each policy, and the sections a resource of each family declares (engine and Pulumi tests)."""

from __future__ import annotations

import copy
from typing import Any

from emu_helpers import base_fixture
from policy_support import SITES

from catoiac.resources.policy import KINDS

# Objects the families' rules refer to that the emulator has no domain for (policy_refs).
POLICY_REFS = {
    "globalIpRange": ["Citrix servers", "Contractor pool", "Partner range"],
    "allocatedIp": ["Egress 1", "Egress 2"],
    "bandwidthProfile": ["Voice", "Default"],
    "usersGroup": ["Engineering", "Contractors"],
    "privateApp": ["Internal Jira", "Build farm"],
    "popLocation": ["Frankfurt"],
}

# Someone else's section in every policy, which every test checks stays exactly as it was.
FOREIGN_RULES: dict[str, dict[str, Any]] = {
    "internetFirewall": {"name": "Block anonymizers", "destination": {"appCategory": [{"id": "anonymizers"}]}},
    "wanFirewall": {"name": "Block legacy", "service": {"standard": [{"id": "ftp"}]}},
    "wanNetwork": {"name": "Default route", "bandwidthPriority": "Default"},
    "tlsInspect": {"name": "Inspect everything", "action": "INSPECT"},
    "socketLan": {"name": "Paris local", "transport": "LAN", "site": {"site": ["Paris"]},
                  "firewall": [{"name": "Paris allow all", "action": "ALLOW", "enabled": True}]},
    "applicationControl": {"name": "Block Tor", "applicationRule": {"application": {"application": "Tor"}}},
    "appTenantRestriction": {"name": "Gmail tenants", "application": "Gmail"},
    "privateAccess": {"name": "Everyone to build farm", "applications": {"application": ["Build farm"]}},
    "remotePortFwd": {"name": "HTTPS in", "externalIp": "Egress 2", "internalIp": "10.2.0.10",
                      "externalPortRange": {"from": 443, "to": 443}, "internalPortRange": {"from": 443, "to": 443}},
    "terminalServer": {"name": "Partner RDS", "allowedHostIP": "Partner range"},
    "antiMalwareFileHash": {"name": "Block known dropper", "fileName": "dropper.exe", "sha256": "b" * 64,
                            "expirationDate": "2031-01-01T00:00:00Z"},
    "dynamicIpAllocation": {"name": "Partners pool", "range": {"globalIpRange": "Partner range"}},
}  # fmt: skip
FOREIGN_SECTION = "Baseline"


def fixture() -> dict[str, Any]:
    fx = base_fixture()
    acc = fx["accounts"][0]
    acc["sites"] = copy.deepcopy(SITES)
    acc["policy_refs"] = copy.deepcopy(POLICY_REFS)
    acc["policies"] = {
        _snake(f): {"sections": [{"name": FOREIGN_SECTION, "rules": [{"enabled": True, **copy.deepcopy(r)}]}]}
        for f, r in FOREIGN_RULES.items()
    }
    return fx


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


# The sections a resource of each family declares: two rules each, so a move can be tested.
SECTIONS: dict[str, list[dict[str, Any]]] = {
    "internetFirewall": [{"name": "Corporate", "rules": [
        {"name": "Block social", "destination": {"application": ["Facebook", {"id": "tiktok"}]}},
        {"name": "Allow office", "action": "ALLOW", "source": {"site": ["HQ"]}, "service": {"standard": ["HTTPS"]}},
    ]}],
    "wanFirewall": [{"name": "Branches", "rules": [
        {"name": "HQ to Paris", "action": "ALLOW", "source": {"site": ["HQ"]}, "destination": {"site": ["Paris"]}},
        {"name": "Block branch to branch", "source": {"site": ["Paris"]}, "destination": {"site": ["Paris"]}},
    ]}],
    "wanNetwork": [{"name": "Routing", "rules": [
        {"name": "Voice optimized", "bandwidth_priority": "Voice", "route_type": "OPTIMIZED",
         "application": {"application": ["Zoom", "Microsoft Teams"]}},
        {"name": "SaaS via HQ", "bandwidth_priority": {"name": "Default"}, "rule_type": "INTERNET",
         "route_type": "BACKHAUL", "application": {"application": [{"id": "salesforce"}]},
         "configuration": {"backhauling_site": ["HQ"], "pop_location": ["Frankfurt"]}},
    ]}],
    "tlsInspect": [{"name": "TLS", "rules": [
        {"name": "Bypass finance", "action": "BYPASS", "application": {"app_category": ["Business Information"]}},
        {"name": "Inspect remote users", "connection_origin": "REMOTE", "platform": ["WINDOWS", "MACOS"]},
    ]}],
    "socketLan": [{"name": "HQ LAN", "rules": [
        {"name": "HQ local", "transport": "LAN", "site": {"site": ["HQ"]}, "source": {"subnet": ["10.1.0.0/24"]},
         "firewall": [
             {"name": "Allow printing", "destination": {"host": ["printer"]}},
             {"name": "Block SSH", "action": "BLOCK", "service": {"simple": [{"name": "SSH"}]}},
         ]},
        {"name": "HQ NAT", "site": {"site": [{"name": "HQ"}]}, "nat": {"enabled": True}},
    ]}],
    "applicationControl": [{"name": "SaaS", "rules": [
        {"name": "Monitor Dropbox", "application_rule": {"action": "MONITOR", "application": {"application": "Dropbox"}}},
        {"name": "Block WeTransfer", "application_rule": {"application": {"application": {"id": "wetransfer"}}}},
    ]}],
    "appTenantRestriction": [{"name": "Tenants", "rules": [
        {"name": "Office 365 corporate tenant", "application": "Office 365",
         "headers": [{"name": "Restrict-Access-To-Tenants", "value": "acme.example"}]},
        {"name": "Slack bypass", "action": "BYPASS", "application": {"name": "Slack"}},
    ]}],
    "privateAccess": [{"name": "Engineering", "rules": [
        {"name": "Engineers to Jira", "applications": {"application": ["Internal Jira"]},
         "source": {"users_group": ["Engineering"]}},
        {"name": "No contractors", "action": {"action": "BLOCK"}, "applications": {"application": ["Internal Jira"]},
         "source": {"users_group": ["Contractors"]}},
    ]}],
    "remotePortFwd": [{"name": "Forwarding", "rules": [
        {"name": "SSH to bastion", "external_ip": "Egress 1", "external_port_range": {"from": 2222, "to": 2222},
         "internal_ip": "10.1.0.20", "internal_port_range": {"from": 22, "to": 22},
         "remote_ips": {"subnet": ["198.51.100.0/24"]}},
        {"name": "RDP to jump host", "external_ip": "Egress 1", "external_port_range": {"from": 3389, "to": 3389},
         "internal_ip": "10.1.0.21", "internal_port_range": {"from": 3389, "to": 3389}},
    ]}],
    "terminalServer": [{"name": "Citrix", "rules": [
        {"name": "Citrix farm", "allowed_host_ip": "Citrix servers"},
        {"name": "Contractor desktops", "allowed_host_ip": {"name": "Contractor pool"}, "enabled": False},
    ]}],
    "antiMalwareFileHash": [{"name": "Hashes", "rules": [
        {"name": "Allow build tool", "action": "BYPASS", "file_name": "tool.exe", "sha256": "a" * 64,
         "expiration_date": "2030-01-01T00:00:00Z"},
        {"name": "Block bad macro", "file_name": "invoice.docm", "sha256": "c" * 64,
         "expiration_date": "2030-06-01T00:00:00Z"},
    ]}],
    "dynamicIpAllocation": [{"name": "Egress", "rules": [
        {"name": "Contractors egress", "range": {"global_ip_range": "Contractor pool"},
         "source": {"users_group": ["Contractors"]}},
        {"name": "Engineers egress", "range": {"global_ip_range": "Citrix servers"}, "platform": ["LINUX"]},
    ]}],
}  # fmt: skip
assert set(SECTIONS) == set(KINDS) == set(FOREIGN_RULES)
