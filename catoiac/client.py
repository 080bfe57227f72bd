"""Synchronous, thread-safe client for the Cato GraphQL API.

One ``httpx.Client`` per instance; calls are by operation name (see ``catoiac.documents``). Each HTTP
attempt is paced by the client-side rate limiter; failures are retried only when that is safe: queries
always, mutations only when the request certainly did not take effect.
"""

from __future__ import annotations

import dataclasses
import email.utils
import json
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import tenacity

from catoiac._httpx import httpx, tls_context
from catoiac.config import DEFAULT_BASE_URL, ClientConfig, is_loopback_host
from catoiac.documents import DocumentStore, Operation
from catoiac.errors import (
    ERROR_LISTS,
    ApiError,
    AuthenticationError,
    CatoError,
    OutcomeUnknownError,
    PermissionDeniedError,
    RateLimitedError,
    TransportError,
    UnreachableError,
    ValidationError,
    WrongAccountError,
    classify_graphql_error,
    is_rate_limit_message,
    raise_for_mutation_failures,
)
from catoiac.ratelimit import NOTICE_AFTER, PacingNotice, RateLimiter, RateLimitTable, announce
from catoiac.secrets import REDACTOR, install_log_scrubber
from catoiac.stats import CallStats

logger = logging.getLogger("catoiac.client")

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
    connect_attempts: int = 2
    """Attempts when the connection itself fails (refused, no such host): that rarely heals in
    seconds, and a wrong endpoint must fail fast, not after minutes of back-off."""
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


class _Retry(Exception):
    """An attempt failed in a way that is safe to retry; ``error`` is raised if retries run out."""

    def __init__(
        self,
        error: CatoError,
        *,
        retry_after: float | None = None,
        rate_limited: bool = False,
        connect: bool = False,
    ):
        super().__init__()
        self.error = error
        self.retry_after = retry_after
        self.rate_limited = rate_limited
        self.connect = connect  # the connection itself failed: nothing was sent

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


_PROBE = "AccountProbe"  # the cheapest read of an account: tells a wrong account from a missing permission
_CONNECT_FAILURES = (httpx.ConnectError, httpx.ConnectTimeout)


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
        # One redaction policy per process (catoiac.secrets): this key joins it, and so do the secret
        # fields this client sends or reads, so a server echoing one back is masked too.
        REDACTOR.add(config.api_key)
        self._scrub: Callable[[str], str] = REDACTOR.scrub
        install_log_scrubber()
        self._denied: dict[str, bool] = {}  # account -> can the key read it at all (probe verdict)
        # Asked once for another key when Cato refuses this one (the provider: the stack's current
        # cato:apiKey, when Pulumi handed it a stale key from the state).
        self.refresh_key: Callable[[str], str | None] | None = None
        self._key_lock = threading.Lock()
        self._call = threading.local()  # this thread's current call: requests sent, seconds paced
        if transport is None and is_loopback_host(httpx.URL(config.base_url).host):
            # Never through a proxy: HTTP_PROXY/ALL_PROXY would get the key in clear over plain http,
            # and a proxy's own loopback is not ours anyway. An explicit transport skips the
            # environment's proxies (httpx reads them only when it builds its own).
            transport = httpx.HTTPTransport(trust_env=True, verify=tls_context())
        self._http = httpx.Client(
            transport=transport,
            verify=tls_context(),
            timeout=httpx.Timeout(config.timeout, connect=min(config.timeout, 10.0)),
            headers={
                "x-api-key": config.api_key,
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
        REDACTOR.learn(variables)  # an echo of a secret we send is masked (variables are small)
        body = json.dumps({"query": op.text, "variables": variables, "operationName": op.name}).encode()

        started = time.perf_counter()
        failed = True
        self._call.requests, self._call.paced = 0, 0.0
        try:
            try:
                data, trace = self._with_retries(op, body, account)
            except PermissionDeniedError as denied:
                raise self._explain_denied(denied, op, account) from None
            except AuthenticationError:
                # The key itself was refused, so nothing was applied: retry once with a newer key.
                if not self._rekey():
                    raise
                data, trace = self._with_retries(op, body, account)
            if op.carries_secrets:
                REDACTOR.learn(data)
            if op.type == "mutation":
                raise_for_mutation_failures(data, operation=op.name, trace_id=trace)
            failed = False
            return data
        except CatoError as err:
            err.redact(self._scrub)
            raise
        finally:
            took = time.perf_counter() - started
            self.stats.record_call(op.name, took, error=failed)
            # One line per call (never its variables: they may hold secrets the scrubber masks anyway).
            logger.debug(
                "%s [%s] %s in %.0f ms (requests=%d retries=%d paced=%.1fs)",
                op.name,
                op.rate_key,
                "failed" if failed else "ok",
                took * 1000,
                self._call.requests,
                max(0, self._call.requests - 1),
                self._call.paced,
            )

    # -- internals ------------------------------------------------------------------------------

    def _rekey(self) -> bool:
        """Switch to the key ``refresh_key`` offers, if it is another one; ask at most once."""
        with self._key_lock:
            ask, self.refresh_key = self.refresh_key, None
            if ask is None:
                return False
            fresh = ask(self.config.api_key)
            if not fresh or fresh == self.config.api_key:
                return False
            REDACTOR.add(fresh)
            self.config = dataclasses.replace(self.config, api_key=fresh)
            self._http.headers["x-api-key"] = fresh
            self._denied.clear()
            logger.info("Cato refused the API key in use; retrying with the stack's current key")
            return True

    def _explain_denied(self, err: PermissionDeniedError, op: Operation, account: str) -> CatoError:
        """A key Cato accepted was refused: a wrong account id, or not enough permission? One cheap
        read of the account decides (once per account per client)."""
        readable = self._denied.get(account)
        if readable is None and op.name != _PROBE and _PROBE in self.documents:
            probe = self.documents.get(_PROBE)
            body = json.dumps(
                {"query": probe.text, "variables": {"accountID": account}, "operationName": probe.name}
            ).encode()
            try:
                self._with_retries(probe, body, account)
                readable = True
            except PermissionDeniedError:
                readable = False
            except CatoError:
                readable = None  # the probe failed for another reason: say what we know
            if readable is not None:
                self._denied[account] = readable
        elif op.name == _PROBE:
            readable = False
        common = dict(
            operation=err.operation,
            path=err.path,
            error_code=err.error_code,
            error_message=err.error_message,
            trace_id=err.trace_id,
            http_status=err.http_status,
        )
        said = err.error_message or "permission denied"
        if readable is False:
            return WrongAccountError(
                f"Wrong account: the API key has no access to account {account} (Cato answered "
                f"{said!r}). Check the account id ({self.config.account_setting}), or use a key of that "
                "account",
                **common,
            )
        if readable is True:
            return PermissionDeniedError(
                f"The API key may not run {op.name} on account {account} (Cato answered {said!r}), though "
                "it can read the account: give the key Edit permission in the Cato Management "
                "Application, or use a key that has it",
                **common,
            )
        return err

    def _stop(self, state: tenacity.RetryCallState) -> bool:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Retry) and exc.connect and state.attempt_number >= self.retry.connect_attempts:
            return True
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

    def _before_retry(self, op: Operation, state: tenacity.RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        wait = state.upcoming_sleep or 0.0
        logger.debug(
            "retrying %s after attempt %d in %.2fs: %s", op.name, state.attempt_number, wait, exc or ""
        )
        if isinstance(exc, _Retry) and exc.rate_limited and wait >= NOTICE_AFTER:
            limits = self.limiter.table.limits_for(op.rate_key)
            announce(PacingNotice(op.rate_key, wait, limits, refused=True))

    def _with_retries(self, op: Operation, body: bytes, account: str) -> tuple[dict[str, Any], str | None]:
        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(_Retry),
            stop=self._stop,
            wait=self._wait,
            sleep=self._sleep,
            reraise=True,
            before_sleep=lambda s: self._before_retry(op, s),
        )
        attempt_no = 0
        try:
            for attempt in retrying:
                with attempt:
                    attempt_no = attempt.retry_state.attempt_number
                    return self._attempt(op, body, account, attempt_no)
        except _Retry as final:
            error = final.error
        else:  # pragma: no cover
            raise AssertionError("unreachable: tenacity neither returned nor raised")
        error.attempts = attempt_no
        # No exception chain: httpx's errors hold the request, and so the x-api-key header.
        raise error.redact(self._scrub) from None

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
        with self.limiter.slot(account, op.rate_bucket, limits_key=op.rate_key) as waited:
            self.stats.record_wait(op.name, waited)
            self.stats.record_request(op.name, retry=attempt > 1)
            self._call.requests = getattr(self._call, "requests", 0) + 1
            self._call.paced = getattr(self._call, "paced", 0.0) + waited
            started = time.perf_counter()
            response = self._post(op, body, attempt)
        elapsed = time.perf_counter() - started
        return self._interpret(op, response, attempt, elapsed)

    def _post(self, op: Operation, body: bytes, attempt: int) -> httpx.Response:
        # Errors are built inside the handlers but raised outside them, so no httpx exception (which
        # holds the request and its x-api-key header) is ever chained to ours.
        failure: CatoError | _Retry
        try:
            return self._http.post(self.config.base_url, content=body)
        except _CONNECT_FAILURES as exc:
            # Nothing reached the server: safe to retry even a mutation, but only briefly.
            logger.debug("%s attempt %d: connect failed: %s", op.name, attempt, type(exc).__name__)
            failure = _Retry(
                UnreachableError(
                    f"Could not connect to {self.config.base_url}: {_reason(exc)}. Check the endpoint "
                    f"({self.config.endpoint_setting}) and that the server is up and reachable",
                    operation=op.name,
                ),
                connect=True,
            )
        except httpx.PoolTimeout as exc:
            failure = _Retry(TransportError(f"No free connection: {_reason(exc)}", operation=op.name))
        except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            logger.debug("%s attempt %d: reply lost: %s", op.name, attempt, type(exc).__name__)
            if op.type == "mutation":
                failure = OutcomeUnknownError(
                    f"Mutation sent but its reply was lost ({type(exc).__name__}): it may or may not have "
                    "been applied; look the object up before retrying",
                    operation=op.name,
                )
            else:
                failure = _Retry(
                    TransportError(f"Reply lost ({type(exc).__name__}): {_reason(exc)}", operation=op.name)
                )
        except httpx.HTTPError as exc:
            failure = TransportError(
                f"HTTP request failed ({type(exc).__name__}): {_reason(exc)}", operation=op.name
            )
        raise failure

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
        settings = dict(key_settings=self.config.key_setting, account_settings=self.config.account_setting)
        lists = {
            name: [e for e in payload.get(name) or [] if isinstance(e, Mapping)]
            if isinstance(payload, Mapping) and isinstance(payload.get(name), list)
            else []
            for name in ERROR_LISTS
        }
        errors = lists["errors"]

        if status == 429:
            self.stats.record_throttled(op.name)
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            said = next((str(e["message"]) for e in errors if e.get("message")), "")
            raise _Retry(
                RateLimitedError(
                    "Cato answered 429 Too Many Requests" + (f": {said}" if said else ""),
                    retry_after=retry_after,
                    **common,
                ),
                retry_after=retry_after,
                rate_limited=True,
            )
        # A rate limit can sit in any of the error lists (as Cato's Go SDK checks), at any status.
        limited = next(
            (e for name in ERROR_LISTS for e in lists[name] if is_rate_limit_message(e.get("message"))), None
        )
        if limited is not None:
            self.stats.record_throttled(op.name)
            err = classify_graphql_error(
                limited, extra_errors=sum(map(len, lists.values())) - 1, **common, **settings
            )
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            raise _Retry(err, retry_after=retry_after, rate_limited=True)
        if status in (401, 403):
            if errors:
                raise classify_graphql_error(errors[0], extra_errors=len(errors) - 1, **common, **settings)
            raise AuthenticationError(
                f"HTTP {status}: Cato refused the API key. Check the key ({self.config.key_setting}): it "
                "may be mistyped, expired or revoked",
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
            raise classify_graphql_error(errors[0], extra_errors=len(errors) - 1, **common, **settings)
        others = lists["networkErrors"] + lists["graphqlErrors"]
        if others:
            raise classify_graphql_error(others[0], extra_errors=len(others) - 1, **common, **settings)
        if status in (404, 405):
            raise ValidationError(
                f"Cato answered HTTP {status} at {self.config.base_url}: no GraphQL endpoint there. Cato's "
                f"endpoint path is /api/v1/graphql2 (e.g. {DEFAULT_BASE_URL}); check "
                f"{self.config.endpoint_setting}",
                **common,
            )
        if status >= 400:
            cls = ValidationError if status in (400, 422) else ApiError
            raise cls(f"Cato answered HTTP {status} without GraphQL errors", **common)
        if not isinstance(payload, Mapping):
            raise ApiError(
                f"The answer from {self.config.base_url} is not a GraphQL JSON response: is it Cato's "
                f"API? Check {self.config.endpoint_setting}",
                **common,
            )
        data = payload.get("data")
        if not isinstance(data, Mapping):
            raise ApiError("Cato answered without data or errors", **common)
        return dict(data), trace


def _reason(exc: BaseException) -> str:
    """An httpx error's own words (never its request, which holds the key)."""
    text = str(exc) or type(exc).__name__
    return text.split("] ", 1)[-1] if text.startswith("[Errno") else text
