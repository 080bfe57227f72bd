"""Client-side pacing under Cato's per-account, per-operation API rate limits.

Cato counts calls per (account, operation), shared by every API key of the account, and answers an
over-limit call with ``rate limit for operation: ...``. Staying under the published figures avoids
those round trips and the back-off they cost. Figures: Cato support article 5119033786653
"Understanding Cato API Rate Limiting"; they are guaranteed minimums, so the table errs low.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

MINUTE = 60.0
HOUR = 3600.0


@dataclass(frozen=True)
class Limit:
    """At most ``calls`` in any sliding window of ``period`` seconds."""

    calls: int
    period: float

    def __post_init__(self) -> None:
        if self.calls < 1 or self.period <= 0:
            raise ValueError(f"a limit needs calls >= 1 and period > 0, got {self.calls}/{self.period}s")

    def __str__(self) -> str:
        for unit, seconds in (("h", HOUR), ("min", MINUTE), ("s", 1.0)):
            if self.period >= seconds and (self.period / seconds).is_integer():
                n = int(self.period / seconds)
                return f"{self.calls}/{'' if n == 1 else n}{unit}"
        return f"{self.calls}/{self.period:g}s"


# Keys are GraphQL root fields for queries and leaf mutation names for namespaced mutations.
CATO_DEFAULT_LIMIT: tuple[Limit, ...] = (Limit(120, MINUTE),)
CATO_LIMITS: dict[str, tuple[Limit, ...]] = {
    "accountMetrics": (Limit(15, MINUTE),),
    # Cato's English page says 10/s (120/min) after an update; its localised pages still say 30/min.
    # The lower figure is the one every tenant is guaranteed.
    "accountSnapshot": (Limit(30, MINUTE),),
    "appStatsTimeSeries": (Limit(80, MINUTE),),
    "auditFeed": (Limit(5, MINUTE),),
    # KB 5119033786653 also caps entityLookup at 1,500 calls in 5 hours.
    "entityLookup": (Limit(30, MINUTE), Limit(1500, 5 * HOUR)),
    "eventsFeed": (Limit(100, MINUTE),),
    "addAccount": (Limit(10, MINUTE),),
    "removeAccount": (Limit(5, MINUTE),),
    # Counted per policy (internetFirewall, wanFirewall, ...): see PER_POLICY_LIMITS.
    "publishPolicyRevision": (Limit(3, MINUTE), Limit(20, HOUR)),
}
# Operations whose limits Cato counts separately for each policy (KB 5119033786653): publishing the
# Internet firewall does not use up the WAN firewall's 3/min and 20/h. Their bucket is
# "<policy>.<operation>" (documents.Operation.rate_bucket).
PER_POLICY_LIMITS = frozenset({"publishPolicyRevision"})


# A paced wait at least this long is announced, so a paced run is not mistaken for a hang.
NOTICE_AFTER = 1.0


@dataclass(frozen=True)
class PacingNotice:
    """A call about to wait for its rate-limit window: ``key`` is the operation (or its per-policy
    bucket), ``limits`` the windows that apply."""

    key: str
    seconds: float
    limits: tuple[Limit, ...]
    refused: bool = False  # Cato answered "rate limit": the call is retried after the wait

    def __str__(self) -> str:
        limits = ", ".join(map(str, self.limits))
        if self.refused:
            return f"Cato's rate limit for {self.key} was hit ({limits}): retrying in {self.rounded} s"
        return f"waiting {self.rounded} s for {self.key} ({limits})"

    @property
    def rounded(self) -> int:
        return max(1, round(self.seconds))


# Called (from the waiting thread) before each announced wait; a listener's failure is ignored.
PACING_LISTENERS: list[Callable[[PacingNotice], None]] = []


def announce(notice: PacingNotice) -> None:
    for listener in list(PACING_LISTENERS):
        try:
            listener(notice)
        except Exception:  # noqa: BLE001 - progress must never fail a call
            pass


def _as_limits(value: Limit | Sequence[Limit]) -> tuple[Limit, ...]:
    return (value,) if isinstance(value, Limit) else tuple(value)


class RateLimitTable:
    """Limits per operation key, with a default; ``scale`` multiplies every period (tests use < 1)."""

    def __init__(
        self,
        limits: Mapping[str, Limit | Sequence[Limit]] | None = None,
        *,
        default: Limit | Sequence[Limit] | None = None,
        scale: float = 1.0,
    ) -> None:
        if scale <= 0:
            raise ValueError("scale must be positive")
        source = CATO_LIMITS if limits is None else limits
        self.scale = scale
        self._default = self._scaled(_as_limits(CATO_DEFAULT_LIMIT if default is None else default))
        self._limits = {key: self._scaled(_as_limits(v)) for key, v in source.items()}

    def _scaled(self, limits: Iterable[Limit]) -> tuple[Limit, ...]:
        return tuple(Limit(lim.calls, lim.period * self.scale) for lim in limits)

    @classmethod
    def cato_defaults(cls, *, scale: float = 1.0) -> RateLimitTable:
        return cls(None, scale=scale)

    def limits_for(self, key: str) -> tuple[Limit, ...]:
        return self._limits.get(key, self._default)

    def as_rows(self) -> list[tuple[str, str]]:
        rows = [(key, ", ".join(map(str, lims))) for key, lims in sorted(self._limits.items())]
        return [("(default)", ", ".join(map(str, self._default))), *rows]

    def __repr__(self) -> str:
        return f"RateLimitTable({dict(self.as_rows())!r})"


class _Entry:
    __slots__ = ("at",)

    def __init__(self) -> None:
        self.at = math.inf  # in flight: counts in every window until it completes


class RateLimiter:
    """Sliding-window log per (account, key): a call is admitted only if every window has room.

    A call is logged at the time it *completes*, and counts in every window while in flight. The
    server sees a request somewhere between its admission and its completion, so spacing admissions
    a period after earlier completions guarantees the server never counts more than ``calls`` in any
    window, whatever the latency jitter. (Logging at admission lets a slow call followed by a fast
    one land N+1 calls in one server-side window.)

    Thread-safe; callers block until admitted: on the injected ``sleep`` while waiting for a window to
    slide, on a condition while waiting for calls in flight to finish.
    """

    def __init__(
        self,
        table: RateLimitTable | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.table = table or RateLimitTable()
        self._clock = clock
        self._sleep = sleep
        self._cond = threading.Condition()
        self._logs: dict[tuple[str, str], list[_Entry]] = {}

    @staticmethod
    def _wait_needed(log: list[_Entry], limits: tuple[Limit, ...], now: float) -> float:
        longest = max(lim.period for lim in limits)
        log[:] = [e for e in log if e.at > now - longest]
        times = sorted(e.at for e in log)
        wait = 0.0
        for lim in limits:
            in_window = [t for t in times if t > now - lim.period]
            if len(in_window) >= lim.calls:
                # The entry that must age out of this window before another call fits.
                wait = max(wait, in_window[len(in_window) - lim.calls] + lim.period - now)
        return wait

    def _admit(self, account_id: str, key: str, limits_key: str | None = None) -> tuple[_Entry, float]:
        limits = self.table.limits_for(limits_key or key)
        waited = 0.0
        while True:
            with self._cond:
                now = self._clock()
                log = self._logs.setdefault((account_id, key), [])
                wait = self._wait_needed(log, limits, now)
                if wait <= 0:
                    entry = _Entry()
                    log.append(entry)
                    return entry, waited
                if math.isinf(wait):
                    started = self._clock()
                    self._cond.wait()
                    waited += self._clock() - started
                    continue
            if wait >= NOTICE_AFTER:
                announce(PacingNotice(key, wait, limits))
            self._sleep(wait)
            waited += wait

    def _complete(self, entry: _Entry) -> None:
        with self._cond:
            entry.at = self._clock()
            self._cond.notify_all()

    @contextlib.contextmanager
    def slot(self, account_id: str, key: str, *, limits_key: str | None = None) -> Iterator[float]:
        """Hold a call slot for the duration of one request; yields the seconds waited for it.

        ``key`` is the bucket calls are counted in; ``limits_key`` (default: ``key``) names the limits
        that apply, for buckets per policy ("wanFirewall.publishPolicyRevision")."""
        entry, waited = self._admit(account_id, key, limits_key)
        try:
            yield waited
        finally:
            self._complete(entry)

    def acquire(self, account_id: str, key: str, *, limits_key: str | None = None) -> float:
        """Admit one instantaneous call (logged at admission); return the seconds waited."""
        with self.slot(account_id, key, limits_key=limits_key) as waited:
            return waited

    def reset(self) -> None:
        with self._cond:
            self._logs.clear()
            self._cond.notify_all()
