"""Firewall policies: the internet firewall and the WAN firewall, as ordered sections of rules."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Required, TypedDict

import pulumi
from pulumi import Input

from ._base import CatoResource, props_of
from ._firewall_types import InternetFirewallRuleArgs, RefArgs, WanFirewallRuleArgs

_OUTPUTS = {"section_ids": None, "rule_ids": None}  # named so they become attributes

__all__ = [
    "InternetFirewallPolicy",
    "InternetFirewallRuleArgs",
    "InternetFirewallSectionArgs",
    "RefArgs",
    "WanFirewallPolicy",
    "WanFirewallRuleArgs",
    "WanFirewallSectionArgs",
]


class InternetFirewallSectionArgs(TypedDict, total=False):
    name: Required[Input[str]]
    """Section name, unique in the policy."""
    rules: Input[Sequence[Input[InternetFirewallRuleArgs]]]
    """The section's rules, in order. Rule names are unique in the policy."""


class WanFirewallSectionArgs(TypedDict, total=False):
    name: Required[Input[str]]
    """Section name, unique in the policy."""
    rules: Input[Sequence[Input[WanFirewallRuleArgs]]]
    """The section's rules, in order. Rule names are unique in the policy."""


# One description for both policies (they behave the same), filled with each one's name.
_POLICY_DOC = """The {title} policy's sections this stack owns, with their rules.

    The resource owns the sections it names and every rule in them; the rest of the policy is left
    alone, so several stacks can each own different sections of one policy.

    - Order is declarative: sections and rules are kept in the order given. A moved rule is moved
      (``moveRule``), not deleted and re-added; rules reordered in the console show up as a diff.
    - Owned sections keep their declared relative order. A new section goes right after the owned
      section declared before it; the first one goes before the next owned section or, when the
      resource owns none yet, at the end of the policy (or right after ``after_section``).
    - Rules and sections are matched by name; a renamed one (same place, new name) is updated.
    - Every ``pulumi up`` that changes the policy makes all its changes in ONE policy revision and
      publishes it once. On any failure the revision is discarded: nothing is half-published.
    - References (sites, hosts, groups, ranges, applications...) are a name (``"HQ"``),
      ``{{"name": "HQ"}}`` or ``{{"id": "1234"}}``; sites, hosts, ranges and interfaces are checked
      before the revision is opened.

    The id is ``{key}:<owned section names, sorted, comma-separated>`` (a comma in a name is
    written ``\\,``); import with it, e.g. ``{key}:Corporate,Guest``. Outputs: ``section_ids`` and
    ``rule_ids`` (name -> Cato id).
    """


class InternetFirewallPolicy(CatoResource, module="cato", name="InternetFirewallPolicy"):
    __doc__ = _POLICY_DOC.format(title="internet firewall", key="internetFirewall")

    _spec = "InternetFirewallPolicy"
    sections: pulumi.Output[list]
    section_ids: pulumi.Output[dict]
    rule_ids: pulumi.Output[dict]

    def __init__(
        self,
        resource_name: str,
        *,
        sections: Input[Sequence[Input[InternetFirewallSectionArgs]]],
        after_section: Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """
        :param sections: The owned sections, in order, each with its rules in order. A rule takes
            every field of Cato's ``InternetFirewallAddRuleDataInput`` in snake_case (``source``,
            ``destination`` with ``application``, ``service``, ``action``, ``tracking``, ``schedule``,
            ``exceptions``, ``connection_origin``, ``country``, ``device``...); omitted fields take
            Cato's defaults (action ``BLOCK``, enabled, any source/destination/service).
        :param after_section: Where the first owned section is created when the resource owns none
            yet: right after this section of someone else. Default: at the end of the policy.
        """
        super().__init__(resource_name, {**_OUTPUTS, **props_of(locals())}, opts)


class WanFirewallPolicy(CatoResource, module="cato", name="WanFirewallPolicy"):
    __doc__ = _POLICY_DOC.format(title="WAN firewall", key="wanFirewall")

    _spec = "WanFirewallPolicy"
    sections: pulumi.Output[list]
    section_ids: pulumi.Output[dict]
    rule_ids: pulumi.Output[dict]

    def __init__(
        self,
        resource_name: str,
        *,
        sections: Input[Sequence[Input[WanFirewallSectionArgs]]],
        after_section: Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """
        :param sections: The owned sections, in order, each with its rules in order. A rule takes
            every field of Cato's ``WanFirewallAddRuleDataInput`` in snake_case (``source``,
            ``destination``, ``application``, ``service``, ``direction``, ``action``, ``tracking``,
            ``schedule``, ``exceptions``...); omitted fields take Cato's defaults (action ``BLOCK``,
            direction ``BOTH``, enabled, any source/destination/service).
        :param after_section: Where the first owned section is created when the resource owns none
            yet: right after this section of someone else. Default: at the end of the policy.
        """
        super().__init__(resource_name, {**_OUTPUTS, **props_of(locals())}, opts)
