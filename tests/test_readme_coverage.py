"""The README's coverage tables account for every resource of Terraform's catonetworks/cato v0.0.96
exactly once, and its "Terraform resources with an equivalent" figure is what the tables say."""

from __future__ import annotations

import re
from pathlib import Path

import pulumi_cato

README = Path(__file__).resolve().parents[1] / "README.md"

# catonetworks/terraform-provider-cato tag v0.0.96, docs/resources/*.md (43 files).
TERRAFORM_V0_0_96 = {
    "account", "admin", "app_connector", "app_tenant_restriction_rule", "app_tenant_restriction_section",
    "application_control_policy", "application_control_rule", "application_control_section", "bgp_peer",
    "bulk_if_move_rule", "bulk_lf_move_rule", "bulk_tls_move_rule", "bulk_wf_move_rule", "bulk_wnw_move_rule",
    "global_ip_ranges", "group", "group_members", "if_rule", "if_section", "if_sub_policy", "ipsec_site",
    "lan_interface", "lan_interface_lag_member", "lf_sub_policy", "license", "network_range",
    "private_access_policy", "private_access_rule", "private_access_rule_bulk", "private_app",
    "socket_lan_firewall_rule", "socket_lan_network_rule", "socket_lan_section", "socket_site", "static_host",
    "tls_rule", "tls_section", "wan_interface", "wf_rule", "wf_section", "wf_sub_policy", "wnw_rule", "wnw_section",
}  # fmt: skip


def coverage_rows() -> list[tuple[str, set[str]]]:
    """(catoiac resource cell, Terraform resources) of every row of the README's coverage tables."""
    rows = []
    for line in README.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and "cato_" in cells[2]:
            rows.append((cells[1], {m[len("cato_") :] for m in re.findall(r"`(cato_[a-z_0-9]+)`", cells[2])}))
    return rows


def test_every_terraform_resource_is_in_one_coverage_row_with_a_real_class_or_none():
    rows = coverage_rows()
    named = [tf for _, tfs in rows for tf in tfs]
    assert len(TERRAFORM_V0_0_96) == 43
    assert sorted(named) == sorted(TERRAFORM_V0_0_96)  # each exactly once
    for resource, _ in rows:
        if not resource.startswith("none"):
            for cls in re.findall(r"`([A-Za-z]+)`", resource):
                assert hasattr(pulumi_cato, cls), cls


def test_the_readme_figure_is_what_the_tables_say():
    covered = {tf for resource, tfs in coverage_rows() if not resource.startswith("none") for tf in tfs}
    text = README.read_text()
    assert f"**Terraform resources with an equivalent: {len(covered)} of 43**" in text
    assert len(covered) == 36
