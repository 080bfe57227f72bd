"""pulumi_cato: Cato Networks resources for Pulumi, as a dynamic provider.

    import pulumi_cato as cato
    site = cato.SocketSite("paris", name="Paris", native_range="10.1.0.0/24",
                           location={"country_code": "FR", "timezone": "Europe/Paris"})

Credentials: ``pulumi config set --secret cato:apiKey ...`` and ``pulumi config set cato:accountId ...``
(``cato:endpoint`` optional), or the ``CATO_TOKEN``, ``CATO_ACCOUNT_ID`` and ``CATO_BASEURL``
environment variables.
"""

from .firewall import (
    InternetFirewallPolicy,
    InternetFirewallRuleArgs,
    InternetFirewallSectionArgs,
    RefArgs,
    WanFirewallPolicy,
    WanFirewallRuleArgs,
    WanFirewallSectionArgs,
)
from .inventory import (
    AltWanArgs,
    BfdSettingsArgs,
    BgpPeer,
    BgpSummaryRouteArgs,
    BgpTrackingArgs,
    Group,
    GroupMemberArgs,
    SocketInterface,
    StaticHost,
)
from .policies import (
    AntiMalwareFileHashPolicy,
    AntiMalwareFileHashRuleArgs,
    AntiMalwareFileHashSectionArgs,
    ApplicationControlPolicy,
    ApplicationControlRuleArgs,
    ApplicationControlSectionArgs,
    AppTenantRestrictionPolicy,
    AppTenantRestrictionRuleArgs,
    AppTenantRestrictionSectionArgs,
    DynamicIpAllocationPolicy,
    DynamicIpAllocationRuleArgs,
    DynamicIpAllocationSectionArgs,
    PrivateAccessPolicy,
    PrivateAccessRuleArgs,
    PrivateAccessSectionArgs,
    RemotePortFwdPolicy,
    RemotePortFwdRuleArgs,
    RemotePortFwdSectionArgs,
    SocketLanFirewallRuleArgs,
    SocketLanPolicy,
    SocketLanRuleArgs,
    SocketLanSectionArgs,
    TerminalServerPolicy,
    TerminalServerRuleArgs,
    TerminalServerSectionArgs,
    TlsInspectPolicy,
    TlsInspectRuleArgs,
    TlsInspectSectionArgs,
    WanNetworkPolicy,
    WanNetworkRuleArgs,
    WanNetworkSectionArgs,
)
from .sites import DhcpArgs, NetworkRange, SiteLocationArgs, SocketSite

__all__ = ["DhcpArgs", "NetworkRange", "SiteLocationArgs", "SocketSite"]
__all__ += [
    "AltWanArgs",
    "BfdSettingsArgs",
    "BgpPeer",
    "BgpSummaryRouteArgs",
    "BgpTrackingArgs",
    "Group",
    "GroupMemberArgs",
    "SocketInterface",
    "StaticHost",
]
__all__ += [
    "InternetFirewallPolicy",
    "InternetFirewallRuleArgs",
    "InternetFirewallSectionArgs",
    "RefArgs",
    "WanFirewallPolicy",
    "WanFirewallRuleArgs",
    "WanFirewallSectionArgs",
]
# Every other policy family (policies.py is generated: scripts/gen-policy-types).
__all__ += [
    "AntiMalwareFileHashPolicy",
    "AntiMalwareFileHashRuleArgs",
    "AntiMalwareFileHashSectionArgs",
    "AppTenantRestrictionPolicy",
    "AppTenantRestrictionRuleArgs",
    "AppTenantRestrictionSectionArgs",
    "ApplicationControlPolicy",
    "ApplicationControlRuleArgs",
    "ApplicationControlSectionArgs",
    "DynamicIpAllocationPolicy",
    "DynamicIpAllocationRuleArgs",
    "DynamicIpAllocationSectionArgs",
    "PrivateAccessPolicy",
    "PrivateAccessRuleArgs",
    "PrivateAccessSectionArgs",
    "RemotePortFwdPolicy",
    "RemotePortFwdRuleArgs",
    "RemotePortFwdSectionArgs",
    "SocketLanFirewallRuleArgs",
    "SocketLanPolicy",
    "SocketLanRuleArgs",
    "SocketLanSectionArgs",
    "TerminalServerPolicy",
    "TerminalServerRuleArgs",
    "TerminalServerSectionArgs",
    "TlsInspectPolicy",
    "TlsInspectRuleArgs",
    "TlsInspectSectionArgs",
    "WanNetworkPolicy",
    "WanNetworkRuleArgs",
    "WanNetworkSectionArgs",
]
