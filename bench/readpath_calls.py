"""API calls of one full inventory read (what `pulumi refresh` of sites, ranges, hosts and ports
costs) on the large fixture: the read path must stay O(collections + pages), not per site.

    python bench/readpath_calls.py [examples/fixtures/large.yaml]

Prints the calls per operation and the entities read, as JSON.
"""

from __future__ import annotations

import json
import sys
import time

from catoiac.client import CatoClient
from catoiac.config import ClientConfig
from catoiac.emulator.control import EmulatorControl
from catoiac.emulator.fixtures import load
from catoiac.emulator.limits import RateLimitConfig
from catoiac.emulator.server import EmulatorServer
from catoiac.ratelimit import RateLimitTable
from catoiac.readpath import AccountReader
from catoiac.resources import specs  # noqa: F401  (registers the derived collections)

COLLECTIONS = ("sites", "ranges", "hosts", "interfaces", "native_ranges", "socket_interfaces")


def main(path: str = "examples/fixtures/large.yaml") -> dict:
    fixture = load(path)
    account = fixture["accounts"][0]
    key = account["api_keys"][0]["key"]
    server = EmulatorServer(":memory:", seed=fixture, rate_limits=RateLimitConfig(enabled=False)).start()
    try:
        client = CatoClient(
            ClientConfig(api_key=key, account_id=str(account["id"]), base_url=server.url),
            limits=RateLimitTable.cato_defaults(scale=0.0001),
        )
        ctl = EmulatorControl(server.base_url)
        ctl.reset_stats()
        reader = AccountReader(client)
        started = time.perf_counter()
        sizes = {kind: len(reader.get(kind)) for kind in COLLECTIONS if _known(kind)}
        elapsed = time.perf_counter() - started
        calls = ctl.stats()
        client.close()
    finally:
        server.stop()
    return {"fixture": path, "calls": calls, "total_calls": sum(calls.values()), "read": sizes,
            "seconds": round(elapsed, 2)}  # fmt: skip


def _known(kind: str) -> bool:
    from catoiac.readpath import LOADERS

    return kind in LOADERS


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:]), indent=2))
