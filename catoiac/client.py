"""Synchronous, thread-safe client for the Cato GraphQL API.

One ``httpx.Client`` per instance; calls are by operation name (see ``catoiac.documents``). Each HTTP
attempt is paced by the client-side rate limiter; failures are retried only when that is safe: queries
always, mutations only when the request certainly did not take effect.
"""

from __future__ import annotations

import email.utils
import json
import logging
import random
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import tenacity

from catoiac.config import ClientConfig
from catoiac.documents import DocumentStore, Operation
from catoiac.errors import (
    ApiError,
    AuthenticationError,
    CatoError,
    OutcomeUnknownError,
    RateLimitedError,
    TransportError,
    ValidationError,
    classify_graphql_error,
    raise_for_mutation_failures,
)
from catoiac.ratelimit import RateLimiter, RateLimitTable
from catoiac.stats import CallStats

logger = logging.getLogger("catoiac.client")

REDACTED = "<redacted>"
# Loggers that see requests on our behalf; each gets the client's secret scrubber.
_SCRUBBED_LOGGERS = (
    "catoiac.client",
    "httpx",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
)
_TRACE_HEADERS = (
    "x-trace-id",
    "x-cato-trace-id",
    "trace-id",
    "x-request-id",
    "x-amzn-trace-id",
    "traceparent",
)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    """HTTP attempts per logical call, the first included."""
    max_total_wait: float = 120.0
    """Give up rather than sleep past this many seconds of back-off in one call."""
    initial_backoff: float = 0.5
    max_backoff: float = 30.0
    rate_limited_backoff: float = 5.0
    """Minimum pause after a rate-limit answer without Retry-After (Cato's own scripts wait 5 s)."""
    jitter: float = 0.25
    """Up to this fraction is added at random, so threads that failed together do not retry together."""

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.max_total_wait < 0 or self.initial_backoff < 0:
            raise ValueError("RetryPolicy needs max_attempts >= 1 and non-negative waits")

    def backoff(self, attempt: int, *, retry_after: float | None, rate_limited: bool) -> float:
        if retry_after is not None:
            return retry_after * (1 + random.uniform(0, self.jitter / 5))
        base = min(self.max_backoff, self.initial_backoff * 2 ** (attempt - 1))
        if rate_limited:
            base = max(base, self.rate_limited_backoff)
        return min(self.max_backoff, base * (1 + random.uniform(0, self.jitter)))


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class _SecretFilter(logging.Filter):
    """Replaces the API key in any log record that passes through, as a last line of defence."""

    def __init__(self, scrub: Callable[[str], str], secret: str) -> None:
        super().__init__()
        self._scrub = scrub
        self._secret = secret

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is the logging module's problem, not ours
            return True
        if self._secret in message:
            record.msg, record.args = self._scrub(message), None
        if record.exc_info and not record.exc_text:
            text = logging.Formatter().formatException(record.exc_info)
            if self._secret in text:
                record.exc_text = self._scrub(text)
        return True


def _remove_filters(flt: logging.Filter) -> None:
    for name in _SCRUBBED_LOGGERS:
        logging.getLogger(name).removeFilter(flt)


class _Retry(Exception):
    """An attempt failed in a way that is safe to retry; ``error`` is raised if retries run out."""

    def __init__(self, error: CatoError, *, retry_after: float | None = None, rate_limited: bool = False):
        super().__init__()
        self.error = error
        self.retry_after = retry_after
        self.rate_limited = rate_limited

    def __str__(self) -> str:
        return str(self.error)


def _trace_id(response: httpx.Response, body: Any = None) -> str | None:
    for name in _TRACE_HEADERS:
        value = response.headers.get(name)
        if value:
            if name == "traceparent":
                parts = value.split("-")
                return parts[1] if len(parts) >= 3 else value
            return value
    if isinstance(body, Mapping) and isinstance(body.get("extensions"), Mapping):
        ext = body["extensions"]
        for key in ("traceId", "traceID", "requestId"):
            if ext.get(key):
                return str(ext[key])
    return None


class CatoClient:
    def __init__(
        self,
        config: ClientConfig,
        *,
        limits: RateLimitTable | RateLimiter | None = None,
        retry: RetryPolicy = RetryPolicy(),  # noqa: B008 - frozen dataclass, safe as a default
        transport: httpx.BaseTransport | None = None,
        stats: CallStats | None = None,
        documents: DocumentStore | None = None,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.config = config
        self.retry = retry
        self.stats = stats if stats is not None else CallStats()
        self.documents = documents if documents is not None else DocumentStore.from_package()
        self._sleep = sleep or time.sleep
        if isinstance(limits, RateLimiter):
            self.limiter = limits
        else:
            self.limiter = RateLimiter(limits, clock=clock or time.monotonic, sleep=self._sleep)
        secret = config.api_key
        self._scrub: Callable[[str], str] = lambda text: text.replace(secret, REDACTED)
        self._log_filter = _SecretFilter(self._scrub, secret)
        for name in _SCRUBBED_LOGGERS:
            logging.getLogger(name).addFilter(self._log_filter)
        self._finalizer = weakref.finalize(self, _remove_filters, self._log_filter)
        self._http = httpx.Client(
            transport=transport,
            timeout=httpx.Timeout(config.timeout, connect=min(config.timeout, 10.0)),
            headers={
                "x-api-key": secret,
                "content-type": "application/json",
                "accept": "application/json",
                "accept-encoding": "gzip",
                "user-agent": config.user_agent,
            },
            follow_redirects=False,  # a redirect could carry the key elsewhere
        )

    def __repr__(self) -> str:
        return f"CatoClient(base_url={self.config.base_url!r}, account_id={self.config.account_id!r})"

    def close(self) -> None:
        self._http.close()
        self._finalizer()

    def __enter__(self) -> CatoClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- public API -----------------------------------------------------------------------------

    def execute(
        self,
        operation_name: str,
        variables: Mapping[str, Any] | None = None,
        *,
        account_id: str | None = None,
    ) -> dict[str, Any]:
        """Run a named operation and return its ``data``; raise a typed CatoError otherwise."""
        op = self.documents.get(operation_name)
        account = str(account_id or self.config.account_id)
        variables = dict(variables or {})
        for name in op.variables:
            if name in ("accountId", "accountID") and name not in variables:
                variables[name] = account
            elif name == "accountIDs" and name not in variables:
                variables[name] = [account]
        if op.account_variable and variables.get(op.account_variable):
            account = str(variables[op.account_variable])
        body = json.dumps({"query": op.text, "variables": variables, "operationName": op.name}).encode()

        started = time.perf_counter()
        failed = True
        try:
            data, trace = self._with_retries(op, body, account)
            if op.type == "mutation":
                raise_for_mutation_failures(data, operation=op.name, trace_id=trace)
            failed = False
            return data
        except CatoError as err:
            err.redact(self._scrub)
            raise
        finally:
            self.stats.record_call(op.name, time.perf_counter() - started, error=failed)

    # -- internals ------------------------------------------------------------------------------

    def _stop(self, state: tenacity.RetryCallState) -> bool:
        return (
            state.attempt_number >= self.retry.max_attempts
            or state.idle_for + (state.upcoming_sleep or 0.0) > self.retry.max_total_wait
        )

    def _wait(self, state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if not isinstance(exc, _Retry):
            return 0.0
        return self.retry.backoff(
            state.attempt_number, retry_after=exc.retry_after, rate_limited=exc.rate_limited
        )

    def _with_retries(self, op: Operation, body: bytes, account: str) -> tuple[dict[str, Any], str | None]:
        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(_Retry),
            stop=self._stop,
            wait=self._wait,
            sleep=self._sleep,
            reraise=True,
            before_sleep=lambda s: logger.debug(
                "retrying %s after attempt %d in %.2fs: %s",
                op.name,
                s.attempt_number,
                s.upcoming_sleep,
                s.outcome.exception() if s.outcome else "",
            ),
        )
        attempt_no = 0
        try:
            for attempt in retrying:
                with attempt:
                    attempt_no = attempt.retry_state.attempt_number
                    return self._attempt(op, body, account, attempt_no)
        except _Retry as final:
            error, cause = final.error, final.__cause__
        else:  # pragma: no cover
            raise AssertionError("unreachable: tenacity neither returned nor raised")
        error.attempts = attempt_no
        raise error.redact(self._scrub) from cause  # outside the except: no _Retry in the context chain

    def _attempt(
        self, op: Operation, body: bytes, account: str, attempt: int
    ) -> tuple[dict[str, Any], str | None]:
        # Redact at the source, so no retry log line or exception chain ever holds the raw text.
        try:
            return self._attempt_once(op, body, account, attempt)
        except _Retry as retry:
            retry.error.redact(self._scrub)
            raise
        except CatoError as error:
            error.redact(self._scrub)
            raise

    def _attempt_once(
        self, op: Operation, body: bytes, account: str, attempt: int
    ) -> tuple[dict[str, Any], str | None]:
        with self.limiter.slot(account, op.rate_key) as waited:
            self.stats.record_wait(op.name, waited)
            self.stats.record_request(op.name, retry=attempt > 1)
            started = time.perf_counter()
            response = self._post(op, body, attempt)
        elapsed = time.perf_counter() - started
        return self._interpret(op, response, attempt, elapsed)

    def _post(self, op: Operation, body: bytes, attempt: int) -> httpx.Response:
        is_mutation = op.type == "mutation"
        try:
            return self._http.post(self.config.base_url, content=body)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            # Nothing reached the server: safe to retry even a mutation.
            logger.debug("%s attempt %d: connect failed: %s", op.name, attempt, type(exc).__name__)
            raise _Retry(
                TransportError(f"Could not connect to {self._host()}: {exc}", operation=op.name)
            ) from exc
        except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            logger.debug("%s attempt %d: reply lost: %s", op.name, attempt, type(exc).__name__)
            if is_mutation:
                raise OutcomeUnknownError(
                    f"Mutation sent but its reply was lost ({type(exc).__name__}): it may or may not have "
                    "been applied; look the object up before retrying",
                    operation=op.name,
                ) from exc
            raise _Retry(
                TransportError(f"Reply lost ({type(exc).__name__}): {exc}", operation=op.name)
            ) from exc
        except httpx.HTTPError as exc:
            raise TransportError(
                f"HTTP request failed ({type(exc).__name__}): {exc}", operation=op.name
            ) from exc

    def _interpret(
        self, op: Operation, response: httpx.Response, attempt: int, elapsed: float
    ) -> tuple[dict[str, Any], str | None]:
        is_mutation = op.type == "mutation"
        status = response.status_code
        try:
            payload = response.json()
        except ValueError:
            payload = None
        trace = _trace_id(response, payload)
        logger.debug("%s attempt %d: HTTP %d in %.1f ms", op.name, attempt, status, elapsed * 1000)
        common = dict(operation=op.name, trace_id=trace, http_status=status)
        errors = payload.get("errors") if isinstance(payload, Mapping) else None
        errors = [e for e in errors if isinstance(e, Mapping)] if isinstance(errors, list) else []

        if status == 429:
            self.stats.record_throttled(op.name)
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            raise _Retry(
                RateLimitedError("Cato answered 429 Too Many Requests", retry_after=retry_after, **common),
                retry_after=retry_after,
                rate_limited=True,
            )
        if status in (401, 403):
            if errors:
                raise classify_graphql_error(errors[0], extra_errors=len(errors) - 1, **common)
            raise AuthenticationError(
                f"HTTP {status}: the API key was refused. Check CATO_TOKEN and its permissions on this account",
                **common,
            )
        if status >= 500:
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            if is_mutation:
                raise OutcomeUnknownError(
                    f"Mutation answered HTTP {status}: it may or may not have been applied; look the "
                    "object up before retrying",
                    **common,
                )
            raise _Retry(ApiError(f"Cato server error HTTP {status}", **common), retry_after=retry_after)

        if errors:
            rate_limited = next(
                (
                    e
                    for e in errors
                    if str(e.get("message", "")).lower().startswith("rate limit for operation:")
                ),
                None,
            )
            if rate_limited is not None:
                self.stats.record_throttled(op.name)
                err = classify_graphql_error(rate_limited, extra_errors=len(errors) - 1, **common)
                retry_after = parse_retry_after(response.headers.get("retry-after"))
                raise _Retry(err, retry_after=retry_after, rate_limited=True)
            raise classify_graphql_error(errors[0], extra_errors=len(errors) - 1, **common)
        if status >= 400:
            cls = ValidationError if status in (400, 422) else ApiError
            raise cls(f"Cato answered HTTP {status} without GraphQL errors", **common)
        if not isinstance(payload, Mapping):
            raise ApiError("Cato answered with a body that is not a GraphQL JSON response", **common)
        data = payload.get("data")
        if not isinstance(data, Mapping):
            raise ApiError("Cato answered without data or errors", **common)
        return dict(data), trace

    def _host(self) -> str:
        return httpx.URL(self.config.base_url).host
