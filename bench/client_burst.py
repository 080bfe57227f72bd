"""Burst of entityLookup calls through CatoClient under the default (Cato-published) rate limits.

By default time is simulated: the limiter's pauses advance a clock instead of sleeping, so the run takes
seconds while reporting how long the burst would really need. ``--real-time`` sleeps for real.

    .venv/bin/python bench/client_burst.py [--calls 300] [--real-time] [--json]
"""

from __future__ import annotations

import argparse
import bisect
import json
import sys
import threading
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from catoiac.client import CatoClient
from catoiac.config import ClientConfig
from catoiac.ratelimit import RateLimitTable

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from http_helpers import serve_asgi  # noqa: E402

OPERATION = "EntityLookup"
PATH = "/api/v1/graphql2"
WINDOW = 60.0


class SimulatedClock:
    """Real elapsed time plus every pause skipped: what the wall clock would read had we slept."""

    def __init__(self) -> None:
        self._start = time.monotonic()
        self._skipped = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return time.monotonic() - self._start + self._skipped

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self._skipped += max(0.0, seconds)


class RealClock:
    def __init__(self) -> None:
        self._start = time.monotonic()

    def now(self) -> float:
        return time.monotonic() - self._start

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


def max_in_window(stamps: list[float], window: float) -> int:
    stamps = sorted(stamps)
    return max((bisect.bisect_left(stamps, t + window) - i for i, t in enumerate(stamps)), default=0)


def run(calls: int, real_time: bool) -> dict:
    clock = RealClock() if real_time else SimulatedClock()
    arrivals: list[float] = []

    async def graphql(request: Request) -> JSONResponse:
        await request.body()
        arrivals.append(clock.now())
        return JSONResponse({"data": {"entityLookup": {"items": [], "total": 0}}})

    app = Starlette(routes=[Route(PATH, graphql, methods=["POST"])])
    table = RateLimitTable()  # Cato's published figures, unscaled
    with serve_asgi(app) as url:
        config = ClientConfig(api_key="bench-key", account_id="1", base_url=url + PATH)
        started = time.monotonic()
        with CatoClient(config, limits=table, clock=clock.now, sleep=clock.sleep) as client:
            for _ in range(calls):
                client.execute(OPERATION, {"type": "site"})
            stats = client.stats.get(OPERATION)
            real_elapsed = time.monotonic() - started
            sim_elapsed = clock.now()
    return {
        "mode": "real time" if real_time else "simulated time",
        "calls": calls,
        "limit": ", ".join(map(str, table.limits_for("entityLookup"))),
        "http_requests": stats.http_requests,
        "retries": stats.retries,
        "server_throttled": stats.throttled,
        "client_waits": stats.rate_limit_waits,
        "client_wait_seconds": round(stats.rate_limit_wait_seconds, 3),
        "wall_time_needed_s": round(sim_elapsed, 3),
        "real_elapsed_s": round(real_elapsed, 3),
        "max_calls_in_any_60s": max_in_window(arrivals, WINDOW),
        "mean_latency_ms": round(stats.mean_latency * 1000, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--real-time", action="store_true", help="sleep for real (300 calls take ~9 min)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    result = run(args.calls, args.real_time)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    table = Table(title=f"client burst: {args.calls} x entityLookup ({result['mode']})")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for key, value in result.items():
        table.add_row(key.replace("_", " "), str(value))
    Console().print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
