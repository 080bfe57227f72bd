"""Every resource spec, by Pulumi name."""

from __future__ import annotations

from ..spec import ResourceSpec
from .bgp_peer import BGP_PEER
from .firewall import INTERNET_FIREWALL_POLICY, WAN_FIREWALL_POLICY
from .group import GROUP
from .network_range import NETWORK_RANGE
from .socket_interface import SOCKET_INTERFACE
from .socket_site import SOCKET_SITE
from .static_host import STATIC_HOST

SPECS: dict[str, ResourceSpec] = {
    s.name: s for s in (SOCKET_SITE, NETWORK_RANGE, INTERNET_FIREWALL_POLICY, WAN_FIREWALL_POLICY)
}
# The inventory (sites' hosts, ports and BGP peers; groups).
SPECS.update({s.name: s for s in (STATIC_HOST, SOCKET_INTERFACE, BGP_PEER, GROUP)})
