"""Every resource spec, by Pulumi name."""

from __future__ import annotations

from ..spec import ResourceSpec
from .network_range import NETWORK_RANGE
from .socket_site import SOCKET_SITE

SPECS: dict[str, ResourceSpec] = {s.name: s for s in (SOCKET_SITE, NETWORK_RANGE)}
