"""Every resource spec, by Pulumi name."""

from __future__ import annotations

from ..spec import ResourceSpec
from .bgp_peer import BGP_PEER
from .group import GROUP
from .network_range import NETWORK_RANGE
from .policies import POLICY_SPECS
from .socket_interface import SOCKET_INTERFACE
from .socket_site import SOCKET_SITE
from .static_host import STATIC_HOST

SPECS: dict[str, ResourceSpec] = {s.name: s for s in (SOCKET_SITE, NETWORK_RANGE)}
# Every policy family (spec.policy says which): one resource per policy.
SPECS.update(POLICY_SPECS)
# The inventory (sites' hosts, ports and BGP peers; groups).
SPECS.update({s.name: s for s in (STATIC_HOST, SOCKET_INTERFACE, BGP_PEER, GROUP)})
