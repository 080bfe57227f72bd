"""How ``catoiac drift`` reads the account: every collection its comparisons need is asked for at the
start, heaviest first (a policy's thousands of rules are the most work after their read), and no
collection is read twice."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from catoiac.client import CatoClient
from catoiac.config import ClientConfig
from catoiac.drift.run import DriftOptions, DriftRun
from catoiac.emulator.limits import RateLimitConfig
from catoiac.emulator.server import EmulatorServer

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bench():
    """The large-fixture bench's own modules, on a small account of the same shape."""
    sys.path.insert(0, str(ROOT / "bench"))
    sys.path.insert(0, str(ROOT / "examples" / "fixtures"))
    import drift_large
    import make_large

    saved = (make_large.SITES, make_large.IFW_RULES, make_large.WAN_RULES)
    make_large.SITES, make_large.IFW_RULES, make_large.WAN_RULES = 6, 100, 50  # 2 and 1 sections
    try:
        return drift_large, make_large.build()
    finally:
        make_large.SITES, make_large.IFW_RULES, make_large.WAN_RULES = saved


def test_drift_asks_for_every_collection_its_comparisons_read_at_the_start_heaviest_first(bench, tmp_path):
    drift_large, fixture = bench
    acc = fixture["accounts"][0]
    account = str(acc["id"])
    key = next(k["key"] for k in acc["api_keys"] if k["id"] == "k-catoiac")
    with EmulatorServer(seed=fixture, rate_limits=RateLimitConfig(enabled=False)) as emu:
        state = drift_large.build_state(emu.url, account, key)
        with CatoClient(ClientConfig(api_key=key, account_id=account, base_url=emu.url)) as client:
            run = DriftRun(DriftOptions(cache_dir=str(tmp_path)), [state], client)
            run.findings()
            calls = {op: s["calls"] for op, s in client.stats.to_dict().items()}
    # The internet firewall (100 rules) before the WAN firewall (50), before what sites and ranges need;
    # the LAN ports the ranges' comparisons look up are asked for with the ranges, not after them.
    assert run.prefetched[:2] == ["internetFirewall", "wanFirewall"]
    assert set(run.prefetched) == {"internetFirewall", "wanFirewall", "ranges", "interfaces", "sites", "hosts",
                                   "devices"}  # fmt: skip
    # One read per collection (entityLookup: sites, ranges, hosts, ports; devices: one page here).
    assert calls == {"ReadInternetFirewallPolicy": 1, "ReadWanFirewallPolicy": 1, "ReadSites": 1,
                     "EntityLookup": 4, "DevicesList": 1}  # fmt: skip
