"""Per-account, per-operation rate limits as Cato documents them, and injected faults."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field

# Calls per window (60 s) per account and operation; Cato's published figures (KB 5119033786653).
DEFAULT_LIMITS: dict[str, int] = {
    "default": 120,
    "accountMetrics": 15,
    "accountSnapshot": 30,
    "entityLookup": 30,
    "auditFeed": 5,
    "eventsFeed": 100,
    "publishPolicyRevision": 3,
}
# Longer windows as (calls, seconds), from the same article: entityLookup 1,500 per 5 hours,
# publishPolicyRevision 20 an hour. They scale with ``window_seconds`` as the minute does.
DEFAULT_LONG_LIMITS: dict[str, list[tuple[int, float]]] = {
    "entityLookup": [(1500, 5 * 3600.0)],
    "publishPolicyRevision": [(20, 3600.0)],
}
# Counted per policy: publishing the WAN firewall does not use up the Internet firewall's limit.
PER_POLICY = frozenset({"publishPolicyRevision"})


@dataclass
class RateLimitConfig:
    enabled: bool = True
    window_seconds: float = 60.0
    limits: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_LIMITS))
    status: int = 200  # 200 (Cato's usual answer) or 429
    storm_remaining: int = 0  # a rate-limit storm refuses the next N calls of any operation
    long_limits: dict[str, list[tuple[int, float]]] = field(
        default_factory=lambda: {k: list(v) for k, v in DEFAULT_LONG_LIMITS.items()}
    )

    def limit_for(self, operation: str) -> int:
        return self.limits.get(operation, self.limits.get("default", 120))

    def windows_for(self, operation: str) -> list[tuple[int, float]]:
        """Every (calls, seconds) window that applies to ``operation``, the minute first."""
        scale = self.window_seconds / 60.0
        longer = [(int(n), float(seconds) * scale) for n, seconds in self.long_limits.get(operation, [])]
        return [(self.limit_for(operation), self.window_seconds), *longer]


class RateLimiter:
    def __init__(self, config: RateLimitConfig | None = None, clock=time.monotonic) -> None:
        self.config = config or RateLimitConfig()
        self._clock = clock
        self._calls: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def reset(self) -> None:
        with self._lock:
            self._calls.clear()

    def check(self, account_id: str, operation: str, bucket: str | None = None) -> float | None:
        """Count a call; return seconds until a slot frees if it is over a limit.

        ``bucket`` is what the call is counted in (default: the operation), e.g.
        ``wanFirewall.publishPolicyRevision`` for limits counted per policy. A limit of 0 refuses
        every call (retry after a whole window)."""
        cfg = self.config
        with self._lock:
            if cfg.storm_remaining > 0:
                cfg.storm_remaining -= 1
                return 1.0
            if not cfg.enabled:
                return None
            now = self._clock()
            windows = cfg.windows_for(operation)
            q = self._calls[(account_id, bucket or operation)]
            longest = max(period for _, period in windows)
            while q and q[0] <= now - longest:
                q.popleft()
            wait = 0.0
            for calls, period in windows:
                if calls <= 0:
                    wait = max(wait, period)
                    continue
                in_window = [t for t in q if t > now - period]
                if len(in_window) >= calls:
                    wait = max(wait, in_window[-calls] + period - now)
            if wait > 0:
                return wait
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
