"""Requests per second the emulator serves for accountSnapshot and a full policy query on the
large fixture (200 sites, 2,000 ranges, 1,000 + 500 rules).

    .venv/bin/python bench/emulator_rps.py [--seconds 10] [--threads 1]
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

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


def first_reply(url: str, query: str, variables: dict) -> tuple[float, bytes]:
    """The first answer (computed, not cached): its latency and bytes, checked to hold no error."""
    with httpx.Client(headers={"x-api-key": KEY}, timeout=120) as c:
        t0 = time.perf_counter()
        r = c.post(url, json={"query": query, "variables": variables})
        dt = time.perf_counter() - t0
    body = r.json()
    assert r.status_code == 200 and "errors" not in body, (r.status_code, body.get("errors", [])[:1])
    return dt, r.content


def measure(
    url: str, query: str, variables: dict, seconds: float, threads: int, expected: bytes
) -> tuple[list[float], float]:
    """Latencies of repeated reads for ``seconds``; every reply must be ``expected`` byte for byte
    (the state does not change, and decoding a 1 MB reply here, in the server's own process, would
    cost more than the server's answer)."""
    latencies: list[float] = []
    client_cpu: list[float] = []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    target = urlsplit(url)
    payload = json.dumps({"query": query, "variables": variables}).encode()
    headers = {"x-api-key": KEY, "content-type": "application/json"}

    def worker() -> None:
        # The standard library's client on one kept-alive connection: it reads a reply in one call,
        # so the bench spends its CPU on the server rather than on its own client (httpx, which the
        # first reply uses, costs about twice the server's time per 1 MB reply).
        cpu0 = time.thread_time()
        conn = http.client.HTTPConnection(target.hostname, target.port, timeout=120)
        try:
            while not latencies or time.perf_counter() < deadline:
                t0 = time.perf_counter()
                conn.request("POST", target.path, payload, headers)
                r = conn.getresponse()
                content = r.read()
                dt = time.perf_counter() - t0
                if r.status != 200 or content != expected:
                    raise AssertionError(
                        f"a repeated read answered differently: {r.status} {content[:300]!r}"
                    )
                with lock:
                    latencies.append(dt)
        finally:
            conn.close()
            with lock:
                client_cpu.append(time.thread_time() - cpu0)

    ts = [threading.Thread(target=worker) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return latencies, sum(client_cpu)


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
        # CPU ms per request, which a busy machine inflates less than wall time: the bench's client
        # threads measure their own; the rest of this process's CPU is the emulator's.
        print(
            f"{'query':42} {'first ms':>9} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'server cpu ms':>13}"
            f" {'client cpu ms':>13} {'reply KB':>9}"
        )
        for name, (path, variables) in QUERIES.items():
            # The first answer is computed; repeats of an unchanged state come from the answer cache.
            first, expected = first_reply(emu.url, path.read_text(), variables)
            cpu0, wall0 = time.process_time(), time.perf_counter()
            lat, client_cpu = measure(
                emu.url, path.read_text(), variables, args.seconds, args.threads, expected
            )
            cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
            server_cpu = cpu - client_cpu
            lat.sort()
            p95 = lat[min(len(lat) - 1, int(len(lat) * 0.95))]
            print(
                f"{name:42} {first * 1000:9.0f} {len(lat) / wall:7.1f} {statistics.median(lat) * 1000:8.1f}"
                f" {p95 * 1000:8.1f} {server_cpu * 1000 / len(lat):13.2f} {client_cpu * 1000 / len(lat):13.2f}"
                f" {len(expected) / 1024:9.0f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
