"""Per-operation call statistics, for ``--stats`` output and benchmarks."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from typing import Any


@dataclass
class OperationStats:
    calls: int = 0
    http_requests: int = 0
    retries: int = 0
    throttled: int = 0
    """Server answers of 429 or ``rate limit for operation:``."""
    rate_limit_waits: int = 0
    """Client-side pacing pauses."""
    rate_limit_wait_seconds: float = 0.0
    errors: int = 0
    total_latency: float = 0.0
    max_latency: float = 0.0

    @property
    def mean_latency(self) -> float:
        return self.total_latency / self.calls if self.calls else 0.0


class CallStats:
    """Thread-safe counters per operation name; latency is per logical call, retries included."""

    COLUMNS = (
        "operation",
        "calls",
        "http_requests",
        "retries",
        "throttled",
        "rate_limit_waits",
        "rate_limit_wait_seconds",
        "errors",
        "total_latency",
        "mean_latency",
        "max_latency",
    )

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ops: dict[str, OperationStats] = {}

    def _get(self, operation: str) -> OperationStats:
        return self._ops.setdefault(operation, OperationStats())

    def record_request(self, operation: str, *, retry: bool) -> None:
        with self._lock:
            s = self._get(operation)
            s.http_requests += 1
            s.retries += int(retry)

    def record_throttled(self, operation: str) -> None:
        with self._lock:
            self._get(operation).throttled += 1

    def record_wait(self, operation: str, seconds: float) -> None:
        if seconds <= 0:
            return
        with self._lock:
            s = self._get(operation)
            s.rate_limit_waits += 1
            s.rate_limit_wait_seconds += seconds

    def record_call(self, operation: str, latency: float, *, error: bool) -> None:
        with self._lock:
            s = self._get(operation)
            s.calls += 1
            s.errors += int(error)
            s.total_latency += latency
            s.max_latency = max(s.max_latency, latency)

    def get(self, operation: str) -> OperationStats:
        with self._lock:
            return OperationStats(**asdict(self._ops.get(operation, OperationStats())))

    def totals(self) -> OperationStats:
        with self._lock:
            total = OperationStats()
            for s in self._ops.values():
                for name, value in asdict(s).items():
                    if name == "max_latency":
                        total.max_latency = max(total.max_latency, value)
                    else:
                        setattr(total, name, getattr(total, name) + value)
            return total

    def to_dict(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            items = sorted(self._ops.items())
        return {op: {**asdict(s), "mean_latency": s.mean_latency} for op, s in items}

    def as_rows(self) -> list[tuple[Any, ...]]:
        rows = []
        for op, d in self.to_dict().items():
            rows.append((op, *(d[c] for c in self.COLUMNS[1:])))
        return rows

    def render(self, title: str = "Cato API calls"):
        """A rich Table (print it with a rich Console)."""
        from rich.table import Table

        table = Table(title=title)
        headers = ("operation", "calls", "HTTP", "retries", "throttled", "waits", "wait s", "errors",
                   "total s", "mean ms", "max ms")  # fmt: skip
        for i, h in enumerate(headers):
            table.add_column(h, justify="left" if i == 0 else "right")
        for row in self.as_rows():
            op, calls, http, retries, throttled, waits, wait_s, errors, total, mean, mx = row
            table.add_row(
                op, str(calls), str(http), str(retries), str(throttled), str(waits), f"{wait_s:.2f}",
                str(errors), f"{total:.2f}", f"{mean * 1000:.1f}", f"{mx * 1000:.1f}",
            )  # fmt: skip
        return table

    def reset(self) -> None:
        with self._lock:
            self._ops.clear()
