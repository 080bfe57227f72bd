"""Sites and what lives in them."""

from __future__ import annotations

from typing import Required, TypedDict

import pulumi
from pulumi import Input

from ._base import CatoResource, props_of


class SiteLocationArgs(TypedDict, total=False):
    """Where a site is: its country (and state), city, street address and time zone. The city must be
    a city of the country (and, in the US, of the state); the time zone decides the site's schedules."""

    country_code: Required[Input[str]]
    """ISO 3166-1 alpha-2 code, e.g. ``US``."""
    state_code: Input[str]
    city: Input[str]
    address: Input[str]
    timezone: Required[Input[str]]
    """IANA time zone, e.g. ``America/New_York``."""


class SocketSite(CatoResource, module="cato", name="SocketSite"):
    """A site connected to Cato by a Socket (physical or virtual).

    Changing ``connection_type``, ``native_range``, ``translated_subnet`` or ``vlan`` replaces the
    site (Cato cannot change them in place); everything else is updated in place.

    The native range's settings (``local_ip``, ``dhcp``, ``mdns_reflector``) are set here, after
    the site is made, and updated in place. One left out is Cato's to choose and is not compared,
    so it shows no diff. A native range has no ``gateway`` (Cato uses one for Routed ranges only):
    its hosts' gateway is the Socket's ``local_ip``.
    """

    _spec = "SocketSite"
    name: pulumi.Output[str]
    site_type: pulumi.Output[str]
    connection_type: pulumi.Output[str]
    native_range: pulumi.Output[str]
    description: pulumi.Output[str]
    location: pulumi.Output[dict]

    def __init__(
        self,
        resource_name: str,
        *,
        name: Input[str],
        native_range: Input[str],
        location: Input[SiteLocationArgs],
        site_type: Input[str] | None = None,
        connection_type: Input[str] | None = None,
        translated_subnet: Input[str] | None = None,
        vlan: Input[int] | None = None,
        description: Input[str] | None = None,
        local_ip: Input[str] | None = None,
        dhcp: Input[DhcpArgs] | None = None,
        mdns_reflector: Input[bool] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """
        :param name: Site name, unique in the account.
        :param native_range: The native LAN range in CIDR form, e.g. ``10.1.0.0/24``.
        :param location: Country, optional state/city/address, and time zone.
        :param site_type: ``BRANCH`` (default), ``HEADQUARTERS``, ``DATACENTER`` or ``CLOUD_DC``.
        :param connection_type: Socket model, e.g. ``SOCKET_X1500`` (default), ``SOCKET_X1700``.
        :param translated_subnet: NAT subnet for the native range.
        :param vlan: VLAN tag of the native range.
        :param description: Free text.
        :param local_ip: The Socket's address on the native range (its hosts' gateway), e.g.
            ``10.1.0.1``: a host address of ``native_range``.
        :param dhcp: DHCP on the native range: ``{"type": "DHCP_RANGE", "ip_range": "10.1.0.100-10.1.0.199"}``,
            ``{"type": "DHCP_RELAY", "relay_group_id": ...}``, ``{"type": "DHCP_DISABLED"}`` or
            ``{"type": "ACCOUNT_DEFAULT"}``.
        :param mdns_reflector: Reflect mDNS on the native range.
        """
        super().__init__(resource_name, props_of(locals()), opts)


class DhcpArgs(TypedDict, total=False):
    """How a range hands out addresses: not at all, from a range of its own, or relayed to a DHCP
    relay group's servers."""

    type: Input[str]
    """``DHCP_DISABLED`` (default), ``DHCP_RANGE``, ``DHCP_RELAY`` or ``ACCOUNT_DEFAULT``."""
    ip_range: Input[str]
    """For DHCP_RANGE: ``first-last``, e.g. ``10.1.2.100-10.1.2.200``."""
    relay_group_id: Input[str]
    microsegmentation: Input[bool]


class NetworkRange(CatoResource, module="cato", name="NetworkRange"):
    """A LAN range behind one of a site's LAN ports.

    Moving a range to another site or port replaces it. Leave ``interface`` out for the port of the
    site's native range.
    """

    _spec = "NetworkRange"
    site_id: pulumi.Output[str]
    name: pulumi.Output[str]
    subnet: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        site_id: Input[str],
        name: Input[str],
        subnet: Input[str],
        interface: Input[str] | None = None,
        range_type: Input[str] | None = None,
        vlan: Input[int] | None = None,
        local_ip: Input[str] | None = None,
        gateway: Input[str] | None = None,
        translated_subnet: Input[str] | None = None,
        internet_only: Input[bool] | None = None,
        mdns_reflector: Input[bool] | None = None,
        dhcp: Input[DhcpArgs] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """
        :param site_id: The site's id, e.g. ``site.id``.
        :param name: Range name, unique in the site.
        :param subnet: CIDR, e.g. ``10.1.2.0/24``; must not overlap other ranges of the account.
        :param interface: The LAN port the range is behind (``LAN2``, ``INT_6``...). Default: the port
            of the site's native range, which depends on the model: ``LAN1`` (X1500, virtual
            sockets), ``INT_5`` (X1600, X1600_LTE), ``INT_3`` (X1700).
        :param range_type: ``Direct`` (default), ``Routed``, ``VLAN`` or ``SecondaryNative``.
        :param vlan: VLAN tag (required for ``VLAN`` ranges).
        :param local_ip: The Socket's address in the range.
        :param gateway: Next hop for ``Routed`` ranges.
        :param translated_subnet: NAT subnet.
        :param internet_only: Allow the range internet access only.
        :param mdns_reflector: Reflect mDNS across ranges.
        :param dhcp: DHCP settings.
        """
        super().__init__(resource_name, props_of(locals()), opts)
