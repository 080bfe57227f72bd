"""An emulator account for the objects' tests (IPsec sites, licenses, admins, private apps, app
connectors, native range settings), and a session and engines on it."""

from __future__ import annotations

import copy
from typing import Any

from emu_helpers import ACCOUNT, KEY, base_fixture

from catoiac.client import CatoClient
from catoiac.config import ClientConfig
from catoiac.ratelimit import RateLimitTable
from catoiac.resources import Engine
from catoiac.resources.specs import SPECS
from catoiac.session import Session

LOCATION = {"country_code": "US", "timezone": "America/New_York", "city": "New York"}
SITES = [
    {"name": "HQ", "country_code": "US", "timezone": "America/New_York", "native_range": "10.0.0.0/24"},
    {"name": "Branch", "country_code": "US", "timezone": "America/Chicago", "native_range": "10.1.0.0/24"},
]
LICENSES = [
    {"id": "lic-site-100", "sku": "CATO_SITE", "total": 100},
    {"id": "lic-site-used", "sku": "CATO_SITE", "total": 50, "site": "HQ"},
    {"id": "lic-pool", "sku": "CATO_PB", "total": 500, "sites": {"HQ": 100}},
    {"id": "lic-old", "sku": "CATO_SITE", "total": 20, "status": "DISABLED"},
    {"id": "lic-casb", "sku": "CATO_CASB", "total": 10},
]
# Secrets the tests send: none may show in any output, error or state.
PSKS = ("psk-Primary-One-7f3a", "psk-Primary-Two-91cc", "psk-Secondary-0b5e", "psk-Rotated-5d21")


def fixture() -> dict[str, Any]:
    fx = base_fixture()
    acc = fx["accounts"][0]
    acc["sites"] = copy.deepcopy(SITES)
    acc["licenses"] = copy.deepcopy(LICENSES)
    acc["roles"] = [{"id": "9001", "name": "Auditors"}]
    acc["policy_refs"] = {"allocatedIp": [{"id": "ip-1", "name": "Lisbon egress"}]}
    acc["app_connectors"] = [
        {"name": "dc-connector-1", "group_name": "dc-east", "type": "VIRTUAL", **_loc()},
    ]
    return fx


def _loc() -> dict[str, Any]:
    return {"country_code": "US", "city": "New York", "timezone": "America/New_York"}


def session_for(emu, timeout: float = 10.0) -> Session:
    cfg = ClientConfig(api_key=KEY, account_id=ACCOUNT, base_url=emu.url, timeout=timeout)
    return Session(CatoClient(cfg, limits=RateLimitTable.cato_defaults(scale=0.001)))


def engine(session: Session, spec: str, journal=None) -> Engine:
    return Engine(SPECS[spec], lambda: session, journal)


def ipsec_inputs(**over: Any) -> dict[str, Any]:
    props = {
        "name": "Azure East",
        "native_range": "10.60.0.0/24",
        "location": dict(LOCATION),
        "connection_mode": "BIDIRECTIONAL",
        "init_message": {"cipher": "AES_GCM_256", "dh_group": "DH_19_ECP256"},
        "network_ranges": ["vnet:10.61.0.0/16"],
        "primary": {
            "pop_location_id": "104",
            "tunnels": [
                {
                    "public_site_ip": "203.0.113.10",
                    "psk": PSKS[0],
                    "last_mile_bw": {"downstream": 100, "upstream": 50},
                },
                {"public_site_ip": "203.0.113.11", "psk": PSKS[1], "role": "WAN2"},
            ],
        },
        "secondary": {"tunnels": [{"public_site_ip": "198.51.100.20", "psk": PSKS[2]}]},
    }
    props.update(over)
    return props
