"""The objects beside a Socket site's inventory: IPsec sites, site licenses, admins, private apps and
app connectors."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Required, TypedDict

import pulumi
from pulumi import Input

from ._base import CatoResource, props_of
from ._object_types import (
    AppConnectorLocationArgs,
    IpsecMessageArgs,
    IpsecTunnelArgs,
    IpsecTunnelsArgs,
    PreferredPopLocationArgs,
    ProtocolPortArgs,
)
from ._policy_types import RefArgs
from .sites import DhcpArgs, SiteLocationArgs

__all__ = [
    "AdminRoleArgs",
    "Admin",
    "AppConnector",
    "AppConnectorLocationArgs",
    "EntityArgs",
    "IpsecMessageArgs",
    "IpsecSite",
    "IpsecTunnelArgs",
    "IpsecTunnelsArgs",
    "PreferredPopLocationArgs",
    "PrivateApp",
    "PrivateAppProbingArgs",
    "ProtocolPortArgs",
    "PublishedAppDomainArgs",
    "SiteLicense",
]


class IpsecSite(CatoResource, module="cato", name="IpsecSite"):
    """A site connected to Cato by IPsec IKEv2 tunnels from a third-party device (a firewall, a
    cloud VPN gateway): Cato's ``addIpsecIkeV2Site`` and its tunnels.

    ``primary`` and ``secondary`` are the two HA roles, each with up to 3 tunnels, in order: the
    n-th tunnel is Cato's ``PRIMARY<n>``/``SECONDARY<n>``. Adding a tunnel to the list adds it,
    removing the last removes it, changing one (its ``psk`` too) updates it: the site is never
    replaced for its tunnels, nor for its ``native_range``, which moves in place. Each tunnel's
    ``psk`` is a secret: ``primary`` and ``secondary`` are kept secret in the state and in every
    output (a preview shows that they changed, not how).

    Cato reads back a tunnel's id and public IP only: keys, ciphers, modes, bandwidths, private IPs
    and PoPs are kept from the state, so a change made to them outside Pulumi is not seen by
    refresh or drift (a tunnel removed or re-addressed outside Pulumi is). Import by the site id;
    the program then has to give the keys.
    """

    _spec = "IpsecSite"
    name: pulumi.Output[str]
    site_type: pulumi.Output[str]
    native_range: pulumi.Output[str]
    description: pulumi.Output[str]
    location: pulumi.Output[dict]
    primary: pulumi.Output[dict | None]
    secondary: pulumi.Output[dict | None]

    def __init__(
        self,
        resource_name: str,
        *,
        name: Input[str],
        native_range: Input[str],
        location: Input[SiteLocationArgs],
        site_type: Input[str] | None = None,
        vlan: Input[int] | None = None,
        description: Input[str] | None = None,
        local_ip: Input[str] | None = None,
        dhcp: Input[DhcpArgs] | None = None,
        mdns_reflector: Input[bool] | None = None,
        connection_mode: Input[Literal["BIDIRECTIONAL", "RESPONDER_ONLY"]] | None = None,
        identification_type: Input[Literal["EMAIL", "FQDN", "IPV4", "KEY_ID"]] | None = None,
        init_message: Input[IpsecMessageArgs] | None = None,
        auth_message: Input[IpsecMessageArgs] | None = None,
        network_ranges: Input[Sequence[Input[str]]] | None = None,
        primary: Input[IpsecTunnelsArgs] | None = None,
        secondary: Input[IpsecTunnelsArgs] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """
        :param name: Site name, unique in the account (Socket sites included).
        :param native_range: The site's native LAN range in CIDR form, e.g. ``10.60.0.0/24``.
        :param location: Country, optional state/city/address, and time zone.
        :param site_type: ``BRANCH`` (default), ``HEADQUARTERS``, ``DATACENTER`` or ``CLOUD_DC``.
        :param vlan: VLAN tag of the native range.
        :param description: Free text.
        :param local_ip: Cato's address on the native range. Left out: Cato's choice, not compared.
        :param dhcp: DHCP on the native range. Left out: Cato's choice, not compared.
        :param mdns_reflector: Reflect mDNS on the native range.
        :param connection_mode: ``BIDIRECTIONAL`` (Cato may initiate: each tunnel needs its
            ``public_site_ip``) or ``RESPONDER_ONLY`` (the device initiates).
        :param identification_type: ``IPV4``; ``FQDN``, ``EMAIL`` or ``KEY_ID`` in RESPONDER_ONLY mode.
        :param init_message: IKE SA INIT proposal: ``cipher``, ``dh_group``, ``integrity``, ``prf``.
        :param auth_message: IKE AUTH proposal, the same fields.
        :param network_ranges: The local ranges of the SAs: ``["10.61.0.0/16"]`` (or ``"name:CIDR"``).
        :param primary: The primary role: ``{"tunnels": [{"public_site_ip": ..., "psk": ...}]}``, with
            optional ``destination_type``, ``pop_location_id`` and ``public_cato_ip_id``.
        :param secondary: The secondary role, the same shape.
        """
        props = props_of(locals())
        for role in ("primary", "secondary"):
            if role in props:
                props[role] = pulumi.Output.secret(props[role])
        opts = pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(additional_secret_outputs=["primary", "secondary"])
        )
        super().__init__(resource_name, props, opts)


class SiteLicense(CatoResource, module="cato", name="SiteLicense"):
    """The bandwidth license a site uses: a site license (``CATO_SITE``, ``CATO_SSE_SITE``) or a share
    (``bw`` Mbps) of a pooled bandwidth license (``CATO_PB``, ``CATO_PB_SSE``).

    Its id is the site's id (a site uses one bandwidth license at a time). Changing ``license_id``
    swaps the license in place (``replaceSiteBwLicense``: the site is never left without one),
    changing ``bw`` resizes the share; deleting the resource takes the license from the site.
    The license is checked in the preview: it exists, is ACTIVE, is a site bandwidth license,
    takes ``bw`` only if pooled, is not another site's, and the pool has the bandwidth left.
    Cato notes that license-to-site assignment goes away in 2026 with a new pricing model.
    """

    _spec = "SiteLicense"
    site_id: pulumi.Output[str]
    license_id: pulumi.Output[str]
    bw: pulumi.Output[int | None]

    def __init__(
        self,
        resource_name: str,
        *,
        site_id: Input[str],
        license_id: Input[str],
        bw: Input[int] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """
        :param site_id: The site's id, e.g. ``site.id``.
        :param license_id: The license's id, as ``licensing.licensingInfo`` lists it.
        :param bw: For a pooled bandwidth license: the site's share, in Mbps.
        """
        super().__init__(resource_name, props_of(locals()), opts)


class EntityArgs(TypedDict, total=False):
    """An object a role is limited to (Cato's ``EntityInput``): ``{"type": "site", "id": site.id}``."""

    id: Required[Input[str]]
    type: Required[Input[str]]
    """Cato's ``EntityType``: ``site``, ``host``, ``siteRange``, ``networkInterface``, ``group``..."""


class AdminRoleArgs(TypedDict, total=False):
    """A role an admin holds (Cato's ``UpdateAdminRoleInput``), optionally limited to some objects."""

    role: Required[Input[str | RefArgs]]
    """The role's name as ``accountRoles`` lists it (``"Editor"``, ``"Viewer"``, ``"Network admin"``, a
    custom one) or ``{"id": "1"}``."""
    allowed_entities: Input[Sequence[Input[EntityArgs]]]
    """Limit the role to these objects."""
    allowed_accounts: Input[Sequence[Input[str]]]


class Admin(CatoResource, module="cato", name="Admin"):
    """An admin of the Cato console (a LOGIN admin) and the roles they hold.

    ``managed_roles`` is a set (order does not matter); a role named by name is checked in the
    preview against the account's roles, with a suggestion for a near miss. ``email`` names the
    admin: changing it replaces the admin. Service principals (API identities), deprecated MFA
    settings and reseller roles are not managed here. Import by Cato's admin id.
    """

    _spec = "Admin"
    email: pulumi.Output[str]
    first_name: pulumi.Output[str]
    last_name: pulumi.Output[str]
    managed_roles: pulumi.Output[list[dict]]

    def __init__(
        self,
        resource_name: str,
        *,
        email: Input[str],
        first_name: Input[str],
        last_name: Input[str],
        password_never_expires: Input[bool] | None = None,
        managed_roles: Input[Sequence[Input[AdminRoleArgs]]] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """
        :param email: The admin's sign-in email, unique in the account (compared in lower case).
        :param first_name: First name.
        :param last_name: Last name.
        :param password_never_expires: Default false.
        :param managed_roles: ``[{"role": "Network admin"}, {"role": {"id": "2"}, "allowed_entities": [...]}]``.
        """
        super().__init__(resource_name, props_of(locals()), opts)


class PrivateAppProbingArgs(TypedDict, total=False):
    """How Cato probes a private app's health (Cato's ``PrivateAppProbingInput``, without its id)."""

    type: Required[Input[str]]
    """Probe type, e.g. ``ICMP_PING``."""
    interval: Required[Input[int]]
    """Seconds between probes."""
    fault_threshold_down: Required[Input[int]]
    """Failed probes before the app is down."""


class PublishedAppDomainArgs(TypedDict, total=False):
    """Where a published app is reached (Cato's ``PublishedAppDomainInput``, without its id and time)."""

    published_app_domain: Input[str]
    """The app's domain, e.g. ``wiki.example.com``."""
    connector_group_name: Input[str]
    """The app connector group it is published through (``AppConnector.group_name``)."""
    cato_ip: Input[str]


class PrivateApp(CatoResource, module="cato", name="PrivateApp"):
    """A private application that users reach through Cato's ZTNA (private access rules name it).

    ``protocol_ports`` is a set. Everything is updated in place. A private access rule names the
    app by name: refer to ``app.name`` so that Pulumi creates the app before the rule. Import by
    Cato's private application id.
    """

    _spec = "PrivateApp"
    name: pulumi.Output[str]
    internal_app_address: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        name: Input[str],
        internal_app_address: Input[str],
        description: Input[str] | None = None,
        protocol_ports: Input[Sequence[Input[ProtocolPortArgs]]] | None = None,
        allow_icmp_protocol: Input[bool] | None = None,
        probing_enabled: Input[bool] | None = None,
        private_app_probing: Input[PrivateAppProbingArgs] | None = None,
        published: Input[bool] | None = None,
        published_app_domain: Input[PublishedAppDomainArgs] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """
        :param name: Unique in the account.
        :param internal_app_address: The app's address in your network: an IPv4 address or an FQDN.
        :param description: Free text.
        :param protocol_ports: ``[{"protocol": "TCP", "port": [443]}, {"protocol": "UDP", "port_range": {"from": 6000, "to": 6010}}]``.
        :param allow_icmp_protocol: Default true.
        :param probing_enabled: Default true.
        :param private_app_probing: ``{"type": "ICMP_PING", "interval": 5, "fault_threshold_down": 3}``.
        :param published: Publish the app under a domain (default false): needs ``published_app_domain``.
        :param published_app_domain: ``{"published_app_domain": ..., "connector_group_name": ...}``.
        """
        super().__init__(resource_name, props_of(locals()), opts)


class AppConnector(CatoResource, module="cato", name="AppConnector"):
    """A ZTNA app connector: the appliance or VM through which Cato reaches private apps, in a group.

    ``type`` (``VIRTUAL`` or ``PHYSICAL``) is fixed once made: changing it replaces the connector.
    The location is checked like a site's; a primary PoP is needed unless ``preferred_pop_location``
    is automatic and not ``preferred_only``. Import by Cato's app connector id.
    """

    _spec = "AppConnector"
    name: pulumi.Output[str]
    group_name: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        name: Input[str],
        group_name: Input[str],
        type: Input[Literal["PHYSICAL", "VIRTUAL"]],
        location: Input[AppConnectorLocationArgs],
        description: Input[str] | None = None,
        preferred_pop_location: Input[PreferredPopLocationArgs] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """
        :param name: Unique in the account.
        :param group_name: The connector group (made with its first connector).
        :param type: ``VIRTUAL`` or ``PHYSICAL``.
        :param location: ``{"country_code": "US", "city": "New York", "timezone": "America/New_York"}``.
        :param description: At most 250 characters.
        :param preferred_pop_location: ``{"automatic": False, "preferred_only": True, "primary": "New York"}``
            (PoPs by name or ``{"id": ...}``; default automatic).
        """
        super().__init__(resource_name, props_of(locals()), opts)
