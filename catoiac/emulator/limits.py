"""Per-account, per-operation rate limits as Cato documents them, and injected faults."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field

# Calls per window (60 s) per account and operation; Cato's published figures.
DEFAULT_LIMITS: dict[str, int] = {
    "default": 120,
    "accountMetrics": 15,
    "accountSnapshot": 30,
    "entityLookup": 30,
    "auditFeed": 5,
    "eventsFeed": 100,
    "publishPolicyRevision": 3,
}


@dataclass
class RateLimitConfig:
    enabled: bool = True
    window_seconds: float = 60.0
    limits: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_LIMITS))
    status: int = 200  # 200 (Cato's usual answer) or 429
    storm_remaining: int = 0  # a rate-limit storm refuses the next N calls of any operation

    def limit_for(self, operation: str) -> int:
        return self.limits.get(operation, self.limits.get("default", 120))


class RateLimiter:
    def __init__(self, config: RateLimitConfig | None = None, clock=time.monotonic) -> None:
        self.config = config or RateLimitConfig()
        self._clock = clock
        self._calls: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def reset(self) -> None:
        with self._lock:
            self._calls.clear()

    def check(self, account_id: str, operation: str) -> float | None:
        """Count a call; return seconds until a slot frees if it is over the limit."""
        cfg = self.config
        with self._lock:
            if cfg.storm_remaining > 0:
                cfg.storm_remaining -= 1
                return 1.0
            if not cfg.enabled:
                return None
            now = self._clock()
            q = self._calls[(account_id, operation)]
            while q and q[0] <= now - cfg.window_seconds:
                q.popleft()
            if len(q) >= cfg.limit_for(operation):
                return max(0.0, q[0] + cfg.window_seconds - now)
            q.append(now)
            return None


@dataclass
class Fault:
    """One injected fault. ``operation`` None matches every operation.

    kinds: latency (delay seconds), http_error (status), reset (drop the connection before
    replying), timeout_after_commit (commit the write, then hold the reply for ``delay`` seconds
    and drop it), fail (a GraphQL error with ``message``).
    """

    kind: str
    operation: str | None = None
    nth: int | None = None  # fire on the Nth matching call only (1-based); None: every call
    times: int | None = None  # fire at most this many times
    delay: float = 0.0
    status: int = 500
    message: str = "internal error"
    seen: int = 0
    fired: int = 0

    KINDS = ("latency", "http_error", "reset", "timeout_after_commit", "fail")

    def __post_init__(self) -> None:
        if self.kind not in self.KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; use one of {', '.join(self.KINDS)}")

    def matches(self, operations: list[str]) -> bool:
        if self.operation is not None and self.operation not in operations:
            return False
        self.seen += 1
        if self.nth is not None and self.seen != self.nth:
            return False
        if self.times is not None and self.fired >= self.times:
            return False
        self.fired += 1
        return True


class FaultPlan:
    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def firing(self, operations: list[str]) -> list[Fault]:
        with self._lock:
            return [f for f in self._faults if f.matches(operations)]

    def describe(self) -> list[dict]:
        with self._lock:
            return [
                {
                    k: getattr(f, k)
                    for k in ("kind", "operation", "nth", "times", "delay", "status", "seen", "fired")
                }
                for f in self._faults
            ]
