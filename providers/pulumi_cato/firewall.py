"""The internet and WAN firewall policies, as before; every policy family, these two included, is
generated into ``policies`` (one class per family of Cato's PolicyMutations)."""

from __future__ import annotations

from .policies import (
    InternetFirewallPolicy,
    InternetFirewallRuleArgs,
    InternetFirewallSectionArgs,
    RefArgs,
    WanFirewallPolicy,
    WanFirewallRuleArgs,
    WanFirewallSectionArgs,
)

__all__ = [
    "InternetFirewallPolicy",
    "InternetFirewallRuleArgs",
    "InternetFirewallSectionArgs",
    "RefArgs",
    "WanFirewallPolicy",
    "WanFirewallRuleArgs",
    "WanFirewallSectionArgs",
]
