"""Device facts: the ``devices`` read-path collection (devices.list over HTTP) and the checks."""

from __future__ import annotations

import pytest
from emu_helpers import ACCOUNT, KEY
from sites_support import fixture

from catoiac.client import CatoClient
from catoiac.config import ClientConfig
from catoiac.drift.devices import check_socket_site, check_static_host
from catoiac.emulator.control import EmulatorControl
from catoiac.emulator.limits import RateLimitConfig
from catoiac.readpath import AccountReader

SITES = [
    {
        "name": "Lisbon",
        "connection_type": "SOCKET_X1600",
        "country_code": "PT",
        "timezone": "Europe/Lisbon",
        "native_range": "10.40.0.0/24",
        "hosts": [
            {"name": "printer", "ip": "10.40.0.10", "mac": "00:11:22:33:44:55"},
            # The same NIC reserved twice: Cato sees the MAC at both addresses.
            {"name": "printer-old", "ip": "10.40.0.99", "mac": "00-11-22-33-44-55"},
        ],
    }
]


@pytest.fixture
def reader(emulator_factory):
    emu = emulator_factory(fixture(SITES), rate_limits=RateLimitConfig(enabled=False))
    ctl = EmulatorControl(emu.base_url)
    ctl.reset_stats()
    with CatoClient(ClientConfig(api_key=KEY, account_id=ACCOUNT, base_url=emu.url)) as c:
        yield AccountReader(c), ctl


def test_devices_collection_reads_sockets_and_hosts_with_normalised_macs(reader):
    r, ctl = reader
    devices = r.get("devices")
    by_name = {d["name"]: d for d in devices.values()}
    assert by_name["printer"]["mac_address"] == "00:11:22:33:44:55"
    assert by_name["printer-old"]["mac_address"] == "00:11:22:33:44:55"
    assert by_name["Lisbon Socket"]["model"] == "X1600" and by_name["Lisbon Socket"]["managed"]
    assert sum(ctl.stats().values()) == 1  # one devices.list page


def test_static_host_whose_mac_is_seen_at_another_ip_is_a_device_fact(reader):
    r, _ = reader
    facts = check_static_host(
        {"name": "printer", "ip": "10.40.0.10", "mac_address": "00:11:22:33:44:55"}, "1", r
    )
    assert [(f.property, f.observed["ip"]) for f in facts] == [("mac_address", "10.40.0.99")]
    assert "10.40.0.99" in facts[0].detail and "10.40.0.10" in facts[0].detail


def test_static_host_seen_only_at_its_own_ip_has_no_fact(reader):
    r, _ = reader
    assert check_static_host({"ip": "10.40.0.10", "mac_address": "aa:bb:cc:dd:ee:ff"}, "1", r) == []


def test_site_whose_socket_platform_matches_its_connection_type_has_no_fact(reader):
    r, _ = reader
    site_id = next(iter(r.get("sites")))
    assert check_socket_site({"connection_type": "SOCKET_X1600"}, site_id, r) == []


def test_site_declaring_another_socket_model_than_the_one_cato_sees_is_a_device_fact(reader):
    r, _ = reader
    site_id = next(iter(r.get("sites")))
    facts = check_socket_site({"connection_type": "SOCKET_X1500"}, site_id, r)
    assert [(f.property, f.declared, f.observed) for f in facts] == [
        ("connection_type", "SOCKET_X1500", "X1600")
    ]


def test_devices_over_several_pages_are_all_read_with_one_call_per_page(emulator_factory):
    """250 hosts and a socket: 251 devices, three pages of 100, the last two asked for side by side."""
    site = {**SITES[0], "native_range": "10.40.0.0/16",
            "hosts": [{"name": f"h{i}", "ip": f"10.40.{i // 200}.{i % 200 + 10}", "mac": f"00:11:22:33:{i // 256:02x}:{i % 256:02x}"}
                      for i in range(250)]}  # fmt: skip
    emu = emulator_factory(fixture([site]), rate_limits=RateLimitConfig(enabled=False))
    with CatoClient(ClientConfig(api_key=KEY, account_id=ACCOUNT, base_url=emu.url)) as c:
        devices = AccountReader(c).get("devices")
        calls = c.stats.to_dict()["DevicesList"]["calls"]
    assert len(devices) == 251 and {f"h{i}" for i in range(250)} <= {d["name"] for d in devices.values()}
    assert calls == 3
