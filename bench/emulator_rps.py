"""Requests per second the emulator serves for accountSnapshot and a full policy query on the
large fixture (200 sites, 2,000 ranges, 1,000 + 500 rules).

    .venv/bin/python bench/emulator_rps.py [--seconds 10] [--threads 1]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

import httpx

from catoiac.emulator.limits import RateLimitConfig
from catoiac.emulator.server import EmulatorServer

ROOT = Path(__file__).resolve().parents[1]
KEY = "emulator-catoiac-key-1001"
QUERIES = {
    "accountSnapshot": (ROOT / "tests/documents/account_snapshot_full.graphql", {"accountID": "1001"}),
    "policy (internet firewall, full rules)": (
        ROOT / "tests/documents/policy_with_rules.graphql",
        {"accountId": "1001"},
    ),
}


def measure(
    url: str, query: str, variables: dict, seconds: float, threads: int
) -> tuple[int, list[float], int]:
    latencies: list[float] = []
    sizes: list[int] = []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def worker() -> None:
        with httpx.Client(headers={"x-api-key": KEY}, timeout=120) as c:
            while not latencies or time.perf_counter() < deadline:
                t0 = time.perf_counter()
                r = c.post(url, json={"query": query, "variables": variables})
                dt = time.perf_counter() - t0
                body = r.json()
                assert "errors" not in body, body["errors"][:1]
                with lock:
                    latencies.append(dt)
                    sizes.append(len(r.content))

    ts = [threading.Thread(target=worker) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return len(latencies), latencies, int(statistics.mean(sizes)) if sizes else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    t0 = time.perf_counter()
    with EmulatorServer(
        seed=str(ROOT / "examples/fixtures/large.yaml"), rate_limits=RateLimitConfig(enabled=False)
    ) as emu:
        print(f"seeded the large fixture in {time.perf_counter() - t0:.1f} s")
        print(f"{'query':42} {'first ms':>9} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'reply KB':>9}")
        for name, (path, variables) in QUERIES.items():
            # The first answer is computed; repeats of an unchanged state come from the answer cache.
            first = measure(emu.url, path.read_text(), variables, 0, 1)[1][0]
            n, lat, size = measure(emu.url, path.read_text(), variables, args.seconds, args.threads)
            lat.sort()
            p95 = lat[min(len(lat) - 1, int(len(lat) * 0.95))]
            print(
                f"{name:42} {first * 1000:9.0f} {n / args.seconds:7.2f} {statistics.median(lat) * 1000:8.0f} {p95 * 1000:8.0f}"
                f" {size / 1024:9.0f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
