"""A site's inventory (static hosts, Socket ports, BGP peers) and groups."""

from __future__ import annotations

from typing import Literal, Required, TypedDict

import pulumi
from pulumi import Input

from ._base import CatoResource, props_of


class StaticHost(CatoResource, module="cato", name="StaticHost"):
    """An IP address Cato reserves for a host (a printer, a server) on one of a site's LAN ranges.

    The IP must lie inside one of the site's ranges. Moving the host to another site replaces it;
    everything else is updated in place. Import by Cato's host id.
    """

    _spec = "StaticHost"
    site_id: pulumi.Output[str]
    name: pulumi.Output[str]
    ip: pulumi.Output[str]
    mac_address: pulumi.Output[str | None]

    def __init__(
        self,
        resource_name: str,
        *,
        site_id: Input[str],
        name: Input[str],
        ip: Input[str],
        mac_address: Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """
        :param site_id: The site's id, e.g. ``site.id``.
        :param name: Host name, unique in the site (1-50 characters).
        :param ip: The reserved address, e.g. ``10.1.0.10``: inside one of the site's ranges.
        :param mac_address: The host's MAC address, e.g. ``00:1a:2b:3c:4d:5e`` (any case, ``:`` or ``-``).
        """
        super().__init__(resource_name, props_of(locals()), opts)


class AltWanArgs(TypedDict, total=False):
    """An ALTERNATIVE or LAYER_2_WAN port's private (and optional public) addressing."""

    private_network: Required[Input[str]]
    """The alternative WAN's private subnet, e.g. ``172.16.0.0/30``."""
    private_interface_ip: Required[Input[str]]
    private_gateway_ip: Required[Input[str]]
    private_vlan_tag: Input[int]
    public_network: Input[str]
    public_interface_ip: Input[str]
    public_gateway_ip: Input[str]
    public_vlan_tag: Input[int]


class SocketInterface(CatoResource, module="cato", name="SocketInterface"):
    """The configuration of one port of a site's Socket: a WAN link, a LAN, a LAG or an HA/VRRP port.

    The ports depend on the site's model: X1500 has WAN1, WAN2, LAN1, LAN2 and USB1; X1600 INT_1
    to INT_8 (X1600_LTE also LTE); X1700 INT_1 to INT_12; virtual sockets WAN1 (ESX: and WAN2) and
    LAN1. A port always exists: creating this resource configures it, deleting it returns the
    port to its model's default (the WAN ports WAN1/WAN2 or INT_1/INT_2: a CATO link with roles
    wan_1/wan_2; the native range's port, LAN1 or INT_5 on X1600 or INT_3 on X1700: LAN; other
    ports: disabled). Its id is ``<site id>:<port>``, e.g. ``100001:INT_6`` (import by that id).
    Changing the site or the port replaces it. The native range's port is the site's native range:
    leave it to ``SocketSite`` unless you mean to change it here. Cato does not report a WAN
    link's ``precedence``, a LAG's ``lag_min_links`` or ``alt_wan``, so a change to them made
    outside Pulumi is not seen by refresh.
    """

    _spec = "SocketInterface"
    site_id: pulumi.Output[str]
    interface_id: pulumi.Output[str]
    dest_type: pulumi.Output[str]
    name: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        site_id: Input[str],
        interface_id: Input[str],
        dest_type: Input[str],
        name: Input[str] | None = None,
        upstream_bandwidth: Input[int] | None = None,
        downstream_bandwidth: Input[int] | None = None,
        role: Input[str] | None = None,
        precedence: Input[str] | None = None,
        local_ip: Input[str] | None = None,
        subnet: Input[str] | None = None,
        translated_subnet: Input[str] | None = None,
        lag_min_links: Input[int] | None = None,
        vrrp_type: Input[str] | None = None,
        alt_wan: Input[AltWanArgs] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """
        :param site_id: The site's id, e.g. ``site.id``.
        :param interface_id: The port: ``WAN1``, ``LAN2``, ``INT_6``... ``USB1``, ``LTE`` (one of the site model's).
        :param dest_type: ``CATO``, ``ALTERNATIVE`` or ``LAYER_2_WAN`` (WAN links); ``LAN``,
            ``LAN_LAG_MASTER``, ``LAN_LAG_MASTER_AND_VRRP`` or ``VRRP_AND_LAN`` (LANs, with a native
            range); ``LAN_LAG_MEMBER`` (joins the site's LAG master), ``LAN_AND_HA`` or ``VRRP``.
        :param name: Port name, unique in the site (default: the port, e.g. ``INT_6``).
        :param upstream_bandwidth: WAN links, required: Mbps from the site to Cato.
        :param downstream_bandwidth: WAN links, required: Mbps from Cato to the site.
        :param role: CATO only, required: ``wan_1`` ... ``wan_4``.
        :param precedence: CATO only: ``ACTIVE`` (default), ``PASSIVE`` or ``LAST_RESORT``.
        :param local_ip: LANs, required: the Socket's address in ``subnet``.
        :param subnet: LANs, required: the port's native range, e.g. ``10.1.5.0/24``.
        :param translated_subnet: LANs: NAT subnet of the same size as ``subnet``.
        :param lag_min_links: LAG masters: links that must be up (default 1).
        :param vrrp_type: VRRP, VRRP_AND_LAN, LAN_LAG_MASTER_AND_VRRP: ``DIRECT_LINK`` or ``VIA_SWITCH``.
        :param alt_wan: ALTERNATIVE, LAYER_2_WAN: the alternative WAN's addressing.
        """
        super().__init__(resource_name, props_of(locals()), opts)


class BgpSummaryRouteArgs(TypedDict, total=False):
    """A summary route the Socket advertises to the peer, with optional BGP communities."""

    route: Required[Input[str]]
    """A CIDR to advertise, e.g. ``10.0.0.0/8``."""
    community: Input[list[dict]]
    """``[{"from": 65000, "to": 100}]``."""


class BfdSettingsArgs(TypedDict, total=False):
    """Bidirectional Forwarding Detection timers: how fast a dead peer is noticed."""

    transmit_interval: Input[int]
    """Milliseconds between BFD packets (default 1000)."""
    receive_interval: Input[int]
    """Milliseconds within which BFD packets are expected (default 1000)."""
    multiplier: Input[int]
    """Missed packets before the session is down (default 5)."""


class BgpTrackingArgs(TypedDict, total=False):
    """Alerts when the BGP session goes down: to which mailing-list or webhook subscription, and how
    often."""

    subscription_id: Required[Input[str]]
    enabled: Input[bool]
    alert_frequency: Input[str]
    """``HOURLY`` (default), ``IMMEDIATE``, ``DAILY`` or ``WEEKLY``."""


class BgpPeer(CatoResource, module="cato", name="BgpPeer"):
    """A BGP neighbour of a site's Socket.

    ``md5_auth_key`` is kept secret in the state and in every output. Moving the peer to another
    site replaces it; everything else is updated in place. Import by Cato's BGP peer id.
    """

    _spec = "BgpPeer"
    site_id: pulumi.Output[str]
    name: pulumi.Output[str]
    peer_ip: pulumi.Output[str]
    peer_asn: pulumi.Output[int]
    cato_asn: pulumi.Output[int]
    md5_auth_key: pulumi.Output[str | None]

    def __init__(
        self,
        resource_name: str,
        *,
        site_id: Input[str],
        name: Input[str],
        peer_ip: Input[str],
        peer_asn: Input[int],
        cato_asn: Input[int],
        default_action: Input[str],
        hold_time: Input[int] | None = None,
        keepalive_interval: Input[int] | None = None,
        md5_auth_key: Input[str] | None = None,
        metric: Input[int] | None = None,
        advertise_all_routes: Input[bool] | None = None,
        advertise_default_route: Input[bool] | None = None,
        advertise_summary_routes: Input[bool] | None = None,
        summary_route: Input[list[BgpSummaryRouteArgs]] | None = None,
        default_route_communities: Input[list[dict]] | None = None,
        default_action_exclusion: Input[list[dict]] | None = None,
        perform_nat: Input[bool] | None = None,
        bfd_enabled: Input[bool] | None = None,
        bfd_settings: Input[BfdSettingsArgs] | None = None,
        tracking: Input[BgpTrackingArgs] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """
        :param site_id: The site's id, e.g. ``site.id``.
        :param name: Peer name, unique in the site.
        :param peer_ip: The neighbour's address, e.g. ``10.1.0.2``.
        :param peer_asn: The neighbour's ASN (1-4294967295).
        :param cato_asn: Cato's ASN for this session (1-65534), different from ``peer_asn``.
        :param default_action: ``ACCEPT`` or ``DROP`` routes no filter matches.
        :param hold_time: Seconds before the peer is declared down (default 60).
        :param keepalive_interval: Seconds between keepalives (default 20), shorter than ``hold_time``.
        :param md5_auth_key: TCP MD5 key of the session: stored as a secret.
        :param metric: Route preference, lower wins (default 100).
        :param advertise_all_routes: Advertise every route (default false).
        :param advertise_default_route: Advertise 0.0.0.0/0 (default true).
        :param advertise_summary_routes: Advertise ``summary_route`` (default false).
        :param summary_route: ``[{"route": "10.0.0.0/8", "community": [{"from": 65000, "to": 1}]}]``.
        :param default_route_communities: ``[{"from": 65000, "to": 1}]`` sent with the default route.
        :param default_action_exclusion: Filter rules excepted from ``default_action``, each one of
            ``{"bgp_route_exact_filter_rule": {"network_subnet": [...]}}``,
            ``{"bgp_route_exact_and_inclusive_filter_rule": {"ge", "le", "network_subnet",
            "network_subnet_exception"}}`` or ``{"community_filter_rule": {"community": [...],
            "predicate": "EQUAL"}}``.
        :param perform_nat: NAT the routes (default false).
        :param bfd_enabled: Detect session failures with BFD (default false).
        :param bfd_settings: BFD timers (defaults 1000 ms, 1000 ms, 5).
        :param tracking: Health alerts: ``{"subscription_id": ..., "enabled": True}``.
        """
        props = props_of(locals())
        if md5_auth_key is not None:
            props["md5_auth_key"] = pulumi.Output.secret(md5_auth_key)
        # Dynamic providers cannot mark outputs secret themselves: the engine does it for these.
        opts = pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(additional_secret_outputs=["md5_auth_key"])
        )
        super().__init__(resource_name, props, opts)


GroupMemberType = Literal[
    "FLOATING_SUBNET", "GLOBAL_IP_RANGE", "HOST", "NETWORK_INTERFACE", "SITE", "SITE_NETWORK_SUBNET"
]
"""Cato's ``GroupMemberRefType`` (a test keeps it equal to the schema's enum)."""


class GroupMemberArgs(TypedDict, total=False):
    """One member of a group: its type, and its id or its name (not both)."""

    type: Required[Input[GroupMemberType]]
    """``SITE``, ``HOST``, ``NETWORK_INTERFACE``, ``SITE_NETWORK_SUBNET``, ``FLOATING_SUBNET`` or
    ``GLOBAL_IP_RANGE``."""
    id: Input[str]
    """The member's id (e.g. ``host.id``) — or give ``name``."""
    name: Input[str]
    """The member's name as Cato shows it: ``Paris``, ``Paris \\ LAN1 \\ Printers`` for a range."""


class Group(CatoResource, module="cato", name="Group"):
    """A named set of sites, hosts, interfaces and ranges that policies refer to.

    ``members`` is a set (order does not matter); give each member by id or by name. Renaming
    updates in place. Import by Cato's group id.
    """

    _spec = "Group"
    name: pulumi.Output[str]
    description: pulumi.Output[str]
    members: pulumi.Output[list[dict]]

    def __init__(
        self,
        resource_name: str,
        *,
        name: Input[str],
        description: Input[str] | None = None,
        members: Input[list[GroupMemberArgs]] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """
        :param name: Group name, unique in the account.
        :param description: Free text.
        :param members: ``[{"type": "SITE", "id": site.id}, {"type": "HOST", "name": "printer-1"}]``.
        """
        super().__init__(resource_name, props_of(locals()), opts)
