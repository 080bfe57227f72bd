"""Every resource spec, by Pulumi name."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..spec import ResourceSpec
from .admin import ADMIN
from .app_connector import APP_CONNECTOR
from .bgp_peer import BGP_PEER
from .group import GROUP
from .ipsec_site import IPSEC_SITE
from .network_range import NETWORK_RANGE
from .policies import POLICY_SPECS
from .private_app import PRIVATE_APP
from .site_license import SITE_LICENSE
from .socket_interface import SOCKET_INTERFACE
from .socket_site import SOCKET_SITE
from .static_host import STATIC_HOST

SPECS: dict[str, ResourceSpec] = {s.name: s for s in (SOCKET_SITE, NETWORK_RANGE)}
# Every policy family (spec.policy says which): one resource per policy.
SPECS.update(POLICY_SPECS)
# The inventory (sites' hosts, ports and BGP peers; groups).
SPECS.update({s.name: s for s in (STATIC_HOST, SOCKET_INTERFACE, BGP_PEER, GROUP)})
# The objects beside sites' inventory: IPsec sites, site licenses, admins, private apps, app connectors.
SPECS.update({s.name: s for s in (IPSEC_SITE, SITE_LICENSE, ADMIN, PRIVATE_APP, APP_CONNECTOR)})


def owned_elsewhere(spec: ResourceSpec, reader: Any) -> set[str]:
    """Ids in ``spec``'s collection that belong to a narrower spec (``ResourceSpec.subset_of``): an
    IPSEC_V2 site is an IpsecSite, never a SocketSite. Narrower collections derive from the wider one
    (no API call of their own)."""
    out: set[str] = set()
    for other in SPECS.values():
        if other is not spec and other.subset_of == spec.kind:
            collection: Mapping[str, Any] = reader.get(other.kind)
            out |= {str(i) for i in collection}
    return out
