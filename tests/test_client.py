"""CatoClient against real local HTTP servers whose answers each test scripts."""

from __future__ import annotations

import asyncio
import email.utils
import io
import logging
import socket
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from http_helpers import read_http_request, reset, serve_asgi, serve_raw
from rich.console import Console
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from catoiac import __version__
from catoiac import errors as errors_module
from catoiac.client import CatoClient, RetryPolicy, parse_retry_after
from catoiac.config import ClientConfig
from catoiac.documents import DocumentStore, document_problems, package_sources
from catoiac.errors import (
    ApiError,
    AuthenticationError,
    CatoError,
    ConfigurationError,
    NotFoundError,
    OutcomeUnknownError,
    PermissionDeniedError,
    PolicyMutationError,
    RateLimitedError,
    TransportError,
    UnknownOperationError,
    UnreachableError,
    ValidationError,
    WrongAccountError,
)
from catoiac.ratelimit import Limit, RateLimiter, RateLimitTable
from catoiac.stats import CallStats

SECRET = "sk-CATO-7f3a9c1e5b-DO-NOT-LEAK"
ACCOUNT = "1001"
PATH = "/api/v1/graphql2"

# Mutations the client will send later (site and policy work), validated against the real schema below.
TEST_MUTATIONS = """
mutation TestUpdateSite($accountId: ID!, $siteId: ID!, $input: UpdateSiteGeneralDetailsInput!) {
  site(accountId: $accountId) {
    updateSiteGeneralDetails(siteId: $siteId, input: $input) { siteId }
  }
}

mutation TestPublishInternetFirewall($accountId: ID!) {
  policy(accountId: $accountId) {
    internetFirewall {
      publishPolicyRevision { status errors { errorCode errorMessage } }
    }
  }
}
"""
STORE = DocumentStore({**package_sources(), "test_mutations.graphql": TEST_MUTATIONS})
EMPTY_LOOKUP = {"data": {"entityLookup": {"items": [], "total": 0}}}
SITE_UPDATED = {"data": {"site": {"updateSiteGeneralDetails": {"siteId": "42"}}}}
FAST_RETRY = RetryPolicy(initial_backoff=0.01, max_backoff=0.05, rate_limited_backoff=0.01, max_total_wait=5)
NO_PACING = RateLimitTable({}, default=Limit(100_000, 1))

Action = Callable[[Request], Awaitable[Response]]


def reply(
    body: dict | None = None, *, status: int = 200, headers: dict | None = None, delay: float = 0.0
) -> Action:
    async def action(_request: Request) -> Response:
        if delay:
            await asyncio.sleep(delay)
        if body is None:
            return Response(b"", status_code=status, headers=headers)
        return JSONResponse(body, status_code=status, headers=headers)

    return action


def gql_error(message: str, **extra: Any) -> dict:
    return {"data": None, "errors": [{"message": message, **extra}]}


def published(status: str, errors: list[dict]) -> dict:
    payload = {"status": status, "errors": errors}
    return {"data": {"policy": {"internetFirewall": {"publishPolicyRevision": payload}}}}


RATE_LIMIT_ANSWER = gql_error("rate limit for operation: entityLookup. Please retry later")


@dataclass
class Seen:
    time: float
    headers: dict[str, str]
    body: dict


@dataclass
class Script:
    replies: deque[Action] = field(default_factory=deque)
    seen: list[Seen] = field(default_factory=list)
    default: Action = field(default_factory=lambda: reply(EMPTY_LOOKUP))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def then(self, *actions: Action) -> Script:
        self.replies.extend(actions)
        return self

    def next(self) -> Action:
        with self.lock:
            return self.replies.popleft() if self.replies else self.default


@pytest.fixture(scope="module")
def server():
    state = {"script": Script()}

    async def graphql(request: Request) -> Response:
        script: Script = state["script"]
        seen = Seen(time.monotonic(), dict(request.headers), await request.json())
        with script.lock:
            script.seen.append(seen)
        return await script.next()(request)

    app = Starlette(
        routes=[Route(PATH, graphql, methods=["POST"])],
        middleware=[Middleware(GZipMiddleware, minimum_size=0)],
    )
    with serve_asgi(app) as url:
        yield url + PATH, state


@pytest.fixture
def script(server) -> Script:
    server[1]["script"] = fresh = Script()
    return fresh


@pytest.fixture
def make_client(server):
    clients: list[CatoClient] = []

    def make(url: str | None = None, *, timeout: float = 5.0, **kw: Any) -> CatoClient:
        kw.setdefault("retry", FAST_RETRY)
        kw.setdefault("limits", NO_PACING)
        kw.setdefault("documents", STORE)
        config = ClientConfig(api_key=SECRET, account_id=ACCOUNT, base_url=url or server[0], timeout=timeout)
        client = CatoClient(config, **kw)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def closed_port_url() -> Iterator[Callable[[], str]]:
    """URLs of loopback ports bound for the test but never listening: a connection is refused. Held
    until the test ends, so no other process (the suite runs emulators in parallel) can take them."""
    held: list[socket.socket] = []

    def url() -> str:
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        held.append(s)
        return f"http://127.0.0.1:{s.getsockname()[1]}{PATH}"

    yield url
    for s in held:
        s.close()


def test_test_mutation_documents_are_valid_against_the_real_schema(real_schema):
    assert document_problems(real_schema, TEST_MUTATIONS) == []


# -- the happy path ---------------------------------------------------------------------------------


def test_query_returns_data_and_sends_key_user_agent_gzip_and_injected_account(script, make_client):
    client = make_client()
    data = client.execute("EntityLookup", {"type": "site"})
    assert data == EMPTY_LOOKUP["data"]
    (seen,) = script.seen
    assert seen.headers["x-api-key"] == SECRET
    assert seen.headers["user-agent"] == f"catoiac/{__version__}"
    assert seen.headers["content-type"] == "application/json"
    assert "gzip" in seen.headers["accept-encoding"]
    assert seen.body["operationName"] == "EntityLookup"
    assert seen.body["variables"] == {"type": "site", "accountID": ACCOUNT}
    assert seen.body["query"] == STORE.get("EntityLookup").text


def test_explicit_account_id_wins_over_the_configured_one(script, make_client):
    client = make_client()
    client.execute("EntityLookup", {"type": "site"}, account_id="2002")
    client.execute("EntityLookup", {"type": "site", "accountID": "3003"})
    assert [s.body["variables"]["accountID"] for s in script.seen] == ["2002", "3003"]


def test_account_ids_list_variable_is_injected_for_audit_feed(script, make_client):
    script.then(reply({"data": {"auditFeed": {"fetchedCount": 0, "accounts": []}}}))
    make_client().execute("AuditFeed", {"timeFrame": "last.PT1H"})
    assert script.seen[0].body["variables"]["accountIDs"] == [ACCOUNT]


def test_unknown_operation_raises_before_any_request(script, make_client):
    with pytest.raises(UnknownOperationError, match="NoSuchOp"):
        make_client().execute("NoSuchOp")
    assert script.seen == []


# -- retries ----------------------------------------------------------------------------------------


def test_query_is_retried_through_5xx_429_and_rate_limit_answers_until_success(script, make_client):
    script.then(
        reply({"errors": [{"message": "boom"}]}, status=500),
        reply(None, status=502),
        reply(None, status=503),
        reply(None, status=429),
        reply(RATE_LIMIT_ANSWER),
    )
    client = make_client(retry=RetryPolicy(max_attempts=6, initial_backoff=0.01, rate_limited_backoff=0.01))
    assert client.execute("EntityLookup", {"type": "site"}) == EMPTY_LOOKUP["data"]
    assert len(script.seen) == 6
    stats = client.stats.get("EntityLookup")
    assert (stats.calls, stats.http_requests, stats.retries, stats.throttled, stats.errors) == (1, 6, 5, 2, 0)


def test_query_is_retried_after_a_read_timeout(script, make_client):
    script.then(reply(EMPTY_LOOKUP, delay=1.0))
    client = make_client(timeout=0.3)
    assert client.execute("EntityLookup", {"type": "site"}) == EMPTY_LOOKUP["data"]
    assert len(script.seen) == 2


def _reset_first_then_answer(answer: bytes):
    connections = []

    def handle(conn):
        connections.append(read_http_request(conn))
        if len(connections) == 1:
            reset(conn)
        else:
            conn.sendall(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n"
                b"content-length: %d\r\n\r\n%s" % (len(answer), answer)
            )

    return handle, connections


def test_query_is_retried_after_a_connection_reset(make_client):
    handle, connections = _reset_first_then_answer(b'{"data": {"entityLookup": {"items": [], "total": 0}}}')
    with serve_raw(handle) as url:
        client = make_client(url + PATH)
        assert client.execute("EntityLookup", {"type": "site"}) == EMPTY_LOOKUP["data"]
    assert len(connections) == 2


def test_retries_stop_at_max_attempts_with_the_last_error_typed(script, make_client):
    script.default = reply(None, status=503, headers={"x-trace-id": "trace-503"})
    client = make_client(retry=RetryPolicy(max_attempts=3, initial_backoff=0.01))
    with pytest.raises(ApiError) as info:
        client.execute("EntityLookup", {"type": "site"})
    assert len(script.seen) == 3
    assert info.value.http_status == 503 and info.value.attempts == 3
    assert "attempts=3" in str(info.value) and "trace=trace-503" in str(info.value)


def test_connect_errors_are_retried_even_for_mutations_then_reported(make_client, closed_port_url):
    retry = RetryPolicy(max_attempts=3, connect_attempts=3, initial_backoff=0.01)
    client = make_client(closed_port_url(), retry=retry)
    with pytest.raises(TransportError, match="Could not connect") as info:
        client.execute("TestUpdateSite", {"siteId": "42", "input": {"name": "x"}})
    assert info.value.attempts == 3
    assert client.stats.get("TestUpdateSite").http_requests == 3


def test_a_refused_connection_fails_within_seconds_naming_the_url_and_the_settings(closed_port_url):
    # The default policy, as users get it: a wrong endpoint must not cost minutes of back-off.
    url = closed_port_url()
    config = ClientConfig(api_key=SECRET, account_id=ACCOUNT, base_url=url)
    waits: list[float] = []
    with (
        CatoClient(config, limits=NO_PACING, sleep=lambda s: waits.append(s)) as client,
        pytest.raises(TransportError) as info,
    ):
        client.execute("EntityLookup", {"type": "site"})
    assert sum(waits) < 5, waits  # the policy's own back-off, not the machine's speed
    assert info.value.attempts == 2
    text = str(info.value)
    assert url in text and "Connection refused" in text
    assert "cato:endpoint, CATO_BASEURL or --endpoint" in text


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_mutation_answered_5xx_is_not_retried_and_raises_outcome_unknown(script, make_client, status):
    script.then(reply(None, status=status))
    with pytest.raises(OutcomeUnknownError, match="look the object up") as info:
        make_client().execute("TestUpdateSite", {"siteId": "42", "input": {"name": "x"}})
    assert info.value.http_status == status
    time.sleep(0.05)
    assert len(script.seen) == 1


def test_mutation_whose_reply_times_out_is_not_retried(script, make_client):
    script.then(reply(SITE_UPDATED, delay=0.8))
    with pytest.raises(OutcomeUnknownError, match="ReadTimeout"):
        make_client(timeout=0.3).execute("TestUpdateSite", {"siteId": "42", "input": {"name": "x"}})
    time.sleep(0.1)
    assert len(script.seen) == 1


def test_mutation_whose_connection_is_reset_after_sending_is_not_retried(make_client):
    handle, connections = _reset_first_then_answer(b'{"data": {}}')
    with serve_raw(handle) as url:
        with pytest.raises(OutcomeUnknownError):
            make_client(url + PATH).execute("TestUpdateSite", {"siteId": "42", "input": {"name": "x"}})
        time.sleep(0.05)
    assert len(connections) == 1


def test_mutation_is_retried_after_429_and_rate_limit_answers(script, make_client):
    script.then(reply(None, status=429), reply(RATE_LIMIT_ANSWER), reply(SITE_UPDATED))
    data = make_client().execute("TestUpdateSite", {"siteId": "42", "input": {"name": "x"}})
    assert data == SITE_UPDATED["data"]
    assert len(script.seen) == 3


def test_retry_after_seconds_is_honoured(script, make_client):
    script.then(reply(None, status=429, headers={"retry-after": "1"}))
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(seconds)

    make_client(sleep=sleep).execute("EntityLookup", {"type": "site"})
    assert len(script.seen) == 2
    assert script.seen[1].time - script.seen[0].time >= 1.0
    assert len(waits) == 1 and 1.0 <= waits[0] < 1.1, waits  # Retry-After, plus a little jitter


def test_retry_after_http_date_is_parsed_relative_to_now():
    now = time.time()
    header = email.utils.formatdate(now + 30, usegmt=True)
    assert 28 <= parse_retry_after(header, now=now) <= 31
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(email.utils.formatdate(now - 60, usegmt=True), now=now) == 0.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


def test_retry_after_beyond_the_wait_budget_gives_up_at_once(script, make_client):
    script.then(reply(None, status=429, headers={"retry-after": "600"}))
    waits: list[float] = []
    with pytest.raises(RateLimitedError) as info:
        make_client(sleep=waits.append).execute("EntityLookup", {"type": "site"})
    assert waits == []  # gave up without sleeping
    assert info.value.retry_after == 600 and len(script.seen) == 1


# -- client-side pacing -----------------------------------------------------------------------------


def test_burst_is_paced_under_the_limit_and_the_server_never_sees_more_per_window(script, make_client):
    limit = Limit(5, 0.5)
    client = make_client(limits=RateLimitTable({"entityLookup": limit}))
    started = time.monotonic()
    for _ in range(12):
        client.execute("EntityLookup", {"type": "site"})
    elapsed = time.monotonic() - started
    assert elapsed >= 2 * limit.period  # calls 6-10 wait one period, 11-12 a second
    arrivals = [s.time for s in script.seen]
    assert max_in_window(arrivals, limit.period) <= limit.calls
    stats = client.stats.get("EntityLookup")
    assert stats.rate_limit_waits >= 2 and stats.rate_limit_wait_seconds > 0.5


def test_scaled_cato_table_keeps_documented_ratios():
    table = RateLimitTable.cato_defaults(scale=1 / 60)
    assert table.limits_for("auditFeed") == (Limit(5, 1.0),)
    assert table.limits_for("somethingElse") == (Limit(120, 1.0),)
    assert table.limits_for("publishPolicyRevision") == (Limit(3, 1.0), Limit(20, 60.0))


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_limiter_enforces_every_window_and_keys_by_account_and_operation():
    t = FakeTime()
    limiter = RateLimiter(RateLimitTable({"op": [Limit(2, 10), Limit(3, 100)]}), clock=t.clock, sleep=t.sleep)
    grants = []
    for _ in range(5):
        limiter.acquire("a", "op")
        grants.append(t.now)
    assert grants == [0, 0, 10, 100, 100]
    assert limiter.acquire("b", "op") == 0 and limiter.acquire("a", "other") == 0


def test_a_paced_wait_of_a_second_or_more_is_announced_with_the_operation_and_its_limit(monkeypatch):
    from catoiac import ratelimit

    t = FakeTime()
    heard: list[str] = []
    monkeypatch.setattr(ratelimit, "PACING_LISTENERS", [lambda n: heard.append(str(n)), lambda n: 1 / 0])
    limiter = RateLimiter(RateLimitTable({"addNetworkRange": Limit(120, 60)}), clock=t.clock, sleep=t.sleep)
    for i in range(120):
        t.now = i * 0.38  # 120 calls in the window's first 46 s
        limiter.acquire("a", "addNetworkRange")
    assert heard == []
    assert limiter.acquire("a", "addNetworkRange") == pytest.approx(14.78)  # a failing listener is ignored
    assert heard == ["waiting 15 s for addNetworkRange (120/min)"]
    short = RateLimiter(RateLimitTable({"op": Limit(1, 0.5)}), clock=t.clock, sleep=t.sleep)
    short.acquire("a", "op")
    short.acquire("a", "op")  # half a second: not worth a line
    assert len(heard) == 1


def test_limiter_spaces_a_call_a_full_period_after_the_previous_one_completed():
    # Were calls logged at admission, a slow call followed by a fast one could both land in one
    # server-side window; logging at completion rules that out.
    t = FakeTime()
    limiter = RateLimiter(RateLimitTable({"op": Limit(1, 10)}), clock=t.clock, sleep=t.sleep)
    with limiter.slot("a", "op"):
        t.now = 4.0  # the request takes 4 s
    assert limiter.acquire("a", "op") == pytest.approx(10.0)
    assert t.now == pytest.approx(14.0)


def test_limiter_makes_callers_wait_for_calls_still_in_flight():
    limiter = RateLimiter(RateLimitTable({"op": Limit(1, 0.1)}))
    admitted = threading.Event()
    started = time.monotonic()

    def slow_call():
        with limiter.slot("a", "op"):
            admitted.set()
            time.sleep(0.3)

    th = threading.Thread(target=slow_call)
    th.start()
    admitted.wait()
    limiter.acquire("a", "op")
    th.join()
    assert time.monotonic() - started >= 0.4


def max_in_window(stamps: list[float], window: float) -> int:
    return max(sum(1 for t in stamps if t0 <= t < t0 + window) for t0 in stamps)


def test_limiter_is_thread_safe_and_never_over_admits():
    limiter = RateLimiter(RateLimitTable({"op": Limit(10, 0.3)}))
    grants: list[float] = []
    lock = threading.Lock()

    def worker():
        for _ in range(10):
            with limiter.slot("a", "op"):
                with lock:  # stands for the server's arrival time
                    grants.append(time.monotonic())

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(grants) == 40
    assert max_in_window(grants, 0.3) <= 10


# -- error typing -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "answer",
    [
        reply(None, status=401),
        reply(gql_error("Unauthorized"), status=403),
        reply(gql_error("Invalid API Key provided")),
        reply(gql_error("no access", extensions={"code": "UNAUTHENTICATED"})),
    ],
    ids=["401-empty", "403-unauthorized", "invalid-api-key", "unauthenticated-code"],
)
def test_auth_failures_raise_authentication_error_without_retry(script, make_client, answer):
    script.then(answer)
    with pytest.raises(AuthenticationError, match="CATO_TOKEN") as info:
        make_client().execute("EntityLookup", {"type": "site"})
    assert not isinstance(info.value, PermissionDeniedError)
    assert len(script.seen) == 1


DENIED = gql_error("permission denied", path=["entityLookup"], extensions={"code": "PERMISSION_DENIED"})


def test_permission_denied_on_an_account_the_key_cannot_read_is_a_wrong_account(script, make_client):
    # The probe (one read of the account) is refused too: the account id is wrong, not the key.
    script.then(reply(DENIED), reply(DENIED))
    client = make_client()
    with pytest.raises(WrongAccountError) as info:
        client.execute("EntityLookup", {"type": "site"}, account_id="9999")
    text = str(info.value)
    assert "Wrong account" in text and "9999" in text
    assert "cato:accountId, CATO_ACCOUNT_ID or --account-id" in text
    assert "API key (" not in text and "CATO_TOKEN" not in text  # not blamed on the key
    assert [s.body["operationName"] for s in script.seen] == ["EntityLookup", "AccountProbe"]
    assert script.seen[1].body["variables"] == {"accountID": "9999"}
    # The verdict is kept: a second refusal on that account costs no second probe.
    script.then(reply(DENIED))
    with pytest.raises(WrongAccountError):
        client.execute("EntityLookup", {"type": "site"}, account_id="9999")
    assert len(script.seen) == 3


def test_permission_denied_on_a_readable_account_is_a_missing_permission(script, make_client):
    script.then(reply(DENIED), reply({"data": {"accountSnapshot": {"id": ACCOUNT}}}))
    with pytest.raises(PermissionDeniedError) as info:
        make_client().execute("TestUpdateSite", {"siteId": "1", "input": {}})
    assert not isinstance(info.value, WrongAccountError)
    assert "Edit permission" in str(info.value) and "TestUpdateSite" in str(info.value)


def test_not_found_names_operation_path_error_code_and_header_trace(script, make_client):
    path = ["site", "updateSiteGeneralDetails"]
    script.then(
        reply(
            gql_error("Site with id 42 not found", path=path, extensions={"code": "NOT_FOUND"}),
            headers={"x-trace-id": "tr-404-abc"},
        )
    )
    with pytest.raises(NotFoundError) as info:
        make_client().execute("TestUpdateSite", {"siteId": "42", "input": {"name": "x"}})
    text = str(info.value)
    for part in (
        "operation=TestUpdateSite",
        "path=site.updateSiteGeneralDetails",
        "errorCode=NOT_FOUND",
        "trace=tr-404-abc",
        "Site with id 42 not found",
    ):
        assert part in text
    assert len(script.seen) == 1


def test_validation_error_carries_traceparent_trace_id(script, make_client):
    traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    script.then(
        reply(
            gql_error(
                "Cannot query field 'nope' on type 'Query'.", extensions={"code": "GRAPHQL_VALIDATION_FAILED"}
            ),
            status=400,
            headers={"traceparent": traceparent},
        )
    )
    with pytest.raises(ValidationError) as info:
        make_client().execute("EntityLookup", {"type": "site"})
    assert "trace=4bf92f3577b34da6a3ce929d0e0e4736" in str(info.value)
    assert "errorCode=GRAPHQL_VALIDATION_FAILED" in str(info.value) and "http=400" in str(info.value)


def test_bad_variable_answer_is_a_validation_error(script, make_client):
    script.then(reply(gql_error('Variable "$type" of required type "EntityType!" was not provided.')))
    with pytest.raises(ValidationError, match="required type"):
        make_client().execute("EntityLookup", {})


def test_other_graphql_errors_are_api_errors_with_extensions_trace_and_code(script, make_client):
    script.then(
        reply(
            gql_error(
                "internal failure",
                path=["entityLookup"],
                extensions={"errorCode": "E_INTERNAL", "traceId": "ext-trace-9"},
            )
        )
    )
    with pytest.raises(ApiError) as info:
        make_client().execute("EntityLookup", {"type": "site"})
    err = info.value
    assert (err.operation, err.path, err.error_code, err.trace_id) == (
        "EntityLookup",
        "entityLookup",
        "E_INTERNAL",
        "ext-trace-9",
    )
    assert len(script.seen) == 1


def test_policy_mutation_failure_raises_with_path_and_cato_errors(script, make_client):
    locked = [{"errorCode": "REVISION_LOCKED", "errorMessage": "revision is locked by admin"}]
    script.then(reply(published("FAILURE", locked), headers={"x-trace-id": "tr-pub"}))
    with pytest.raises(PolicyMutationError) as info:
        make_client().execute("TestPublishInternetFirewall")
    err = info.value
    assert err.path == "policy.internetFirewall.publishPolicyRevision"
    assert err.errors == [{"errorCode": "REVISION_LOCKED", "errorMessage": "revision is locked by admin"}]
    assert "REVISION_LOCKED: revision is locked by admin" in str(err) and "trace=tr-pub" in str(err)
    assert script.seen[0].body["variables"] == {"accountId": ACCOUNT}


def test_policy_mutation_success_returns_data(script, make_client):
    script.then(reply(published("SUCCESS", [])))
    assert make_client().execute("TestPublishInternetFirewall") == published("SUCCESS", [])["data"]


# -- configuration ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["http://api.catonetworks.com/api/v1/graphql2", "http://10.1.2.3/x", "http://[2001:db8::1]/x"]
)
def test_plain_http_to_a_non_loopback_host_is_refused_before_any_request(url):
    with pytest.raises(ConfigurationError, match="unencrypted"):
        ClientConfig(api_key=SECRET, account_id=ACCOUNT, base_url=url)


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:1/x", "http://127.9.9.9/x", "http://[::1]:8080/x", "http://localhost/x"]
)
def test_plain_http_to_loopback_is_allowed(url):
    assert ClientConfig(api_key=SECRET, account_id=ACCOUNT, base_url=url).base_url == url


def test_config_reads_the_environment_and_arguments_win(monkeypatch):
    monkeypatch.setenv("CATO_TOKEN", SECRET)
    monkeypatch.setenv("CATO_ACCOUNT_ID", "555")
    monkeypatch.setenv("CATO_BASEURL", "https://api.eu1.catonetworks.com/api/v1/graphql2")
    config = ClientConfig.from_env()
    assert (config.api_key, config.account_id, config.base_url) == (
        SECRET,
        "555",
        "https://api.eu1.catonetworks.com/api/v1/graphql2",
    )
    config = ClientConfig.from_env(account_id="777", base_url=None, timeout=3)
    assert (config.account_id, config.timeout) == ("777", 3)
    assert config.base_url.startswith("https://api.eu1.")
    assert ClientConfig.from_env({"CATO_TOKEN": "k", "CATO_ACCOUNT_ID": "1"}).base_url.startswith(
        "https://api.catonetworks.com/"
    )


def test_missing_key_or_account_names_the_env_var():
    with pytest.raises(ConfigurationError, match="CATO_TOKEN"):
        ClientConfig.from_env({"CATO_ACCOUNT_ID": "1"})
    with pytest.raises(ConfigurationError, match="CATO_ACCOUNT_ID"):
        ClientConfig.from_env({"CATO_TOKEN": SECRET})


# -- concurrency and stats --------------------------------------------------------------------------


def test_four_threads_sharing_one_client_make_counts_add_up(script, make_client):
    # 20 failures spread through the run, so retries interleave across threads.
    for _ in range(20):
        script.then(reply(None, status=503), *[reply(EMPTY_LOOKUP)] * 9)
    client = make_client(retry=RetryPolicy(max_attempts=10, initial_backoff=0.01, max_backoff=0.02))
    results, failures = [], []

    def worker():
        for _ in range(50):
            try:
                results.append(client.execute("EntityLookup", {"type": "site"}))
            except Exception as exc:  # pragma: no cover - reported by the assertion below
                failures.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert failures == [] and len(results) == 200
    assert len(script.seen) == 220
    stats = client.stats.get("EntityLookup")
    assert (stats.calls, stats.http_requests, stats.retries, stats.errors) == (200, 220, 20, 0)
    assert 0 < stats.mean_latency <= stats.max_latency


def test_stats_render_a_table_and_export_a_dict():
    stats = CallStats()
    stats.record_request("EntityLookup", retry=False)
    stats.record_request("EntityLookup", retry=True)
    stats.record_wait("EntityLookup", 0.5)
    stats.record_call("EntityLookup", 0.2, error=False)
    stats.record_call("EntityLookup", 0.4, error=True)
    d = stats.to_dict()["EntityLookup"]
    assert (d["calls"], d["http_requests"], d["retries"], d["errors"]) == (2, 2, 1, 1)
    assert d["mean_latency"] == pytest.approx(0.3) and d["max_latency"] == 0.4
    assert stats.as_rows()[0][0] == "EntityLookup"
    console = Console(file=io.StringIO(), width=150)
    console.print(stats.render())
    assert "EntityLookup" in console.file.getvalue()


# -- the API key never leaks ------------------------------------------------------------------------


def _exception_texts(exc: BaseException) -> list[str]:
    texts, seen = [], set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        texts += [str(exc), repr(exc)]
        request = getattr(exc, "_request", None)  # httpx errors keep the request they failed on
        if request is not None:
            texts.append(repr(request))
        exc = exc.__cause__ or exc.__context__
    return texts


def _public_texts(value, depth: int = 0) -> list[str]:
    """Every text reachable from ``value`` through public attributes, dicts, lists and tuples."""
    if depth > 6:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [
            t for k, v in value.items() for t in _public_texts(k, depth + 1) + _public_texts(v, depth + 1)
        ]
    if isinstance(value, list | tuple | set):
        return [t for v in value for t in _public_texts(v, depth + 1)]
    if isinstance(value, BaseException):
        attrs = {k: v for k, v in vars(value).items() if not k.startswith("_")}
        return _public_texts(attrs, depth + 1) + _public_texts(list(value.args), depth + 1)
    return []


def test_the_deep_attribute_check_finds_a_key_left_in_a_nested_error_field():
    # The check below must fail an error that scrubs str() but keeps the key in a field (as a
    # PolicyMutationError whose .errors were not scrubbed would).
    err = PolicyMutationError("Mutation failed: [secret]", errors=[{"errorMessage": f"bad {SECRET}"}])
    assert any(SECRET in t for t in _public_texts(err))
    assert SECRET not in str(err) and SECRET not in repr(err)


def test_api_key_appears_in_no_exception_log_record_or_repr(script, make_client, caplog, closed_port_url):
    caplog.set_level(logging.DEBUG)
    echo = f"invalid api key {SECRET}"
    raised: list[BaseException] = []

    def expect(exc_type, call):
        with pytest.raises(exc_type) as info:
            call()
        raised.append(info.value)

    client = make_client()
    lookup = lambda: client.execute("EntityLookup", {"type": "site"})  # noqa: E731
    update = lambda: client.execute("TestUpdateSite", {"siteId": "1", "input": {}})  # noqa: E731

    script.then(reply(gql_error(echo), status=401))
    expect(AuthenticationError, lookup)
    script.then(*[reply(gql_error(f"rate limit for operation: entityLookup ({SECRET})"))] * 5)
    expect(RateLimitedError, lookup)
    script.then(reply(gql_error(f"site {SECRET} not found", extensions={"code": SECRET})))
    expect(NotFoundError, update)
    script.then(reply(gql_error(f"Cannot query field '{SECRET}'"), headers={"x-trace-id": SECRET}))
    expect(ValidationError, lookup)
    script.then(reply(gql_error(f"boom {SECRET}", extensions={"traceId": SECRET})))
    expect(ApiError, lookup)
    script.then(*[reply({"errors": [{"message": SECRET}]}, status=500)] * 5)
    expect(ApiError, lookup)
    script.then(reply(None, status=503))
    expect(OutcomeUnknownError, update)
    script.then(reply(published("FAILURE", [{"errorCode": SECRET, "errorMessage": echo}])))
    expect(PolicyMutationError, lambda: client.execute("TestPublishInternetFirewall"))
    script.then(reply(SITE_UPDATED, delay=0.8))
    slow_client = make_client(timeout=0.3)
    expect(
        OutcomeUnknownError,
        lambda: slow_client.execute("TestUpdateSite", {"siteId": "1", "input": {}}),
    )
    expect(UnreachableError, lambda: make_client(closed_port_url()).execute("EntityLookup", {"type": "site"}))
    script.then(*[reply(EMPTY_LOOKUP, delay=0.8)] * 5)
    expect(TransportError, lambda: slow_client.execute("EntityLookup", {"type": "site"}))
    expect(UnknownOperationError, lambda: client.execute("Nope"))
    expect(ConfigurationError, lambda: ClientConfig(api_key=SECRET, account_id=""))
    expect(
        ConfigurationError, lambda: ClientConfig(api_key=SECRET, account_id="1", base_url="http://x.example/")
    )
    expect(ConfigurationError, lambda: ClientConfig(api_key=SECRET + "\n", account_id="1"))
    expect(ConfigurationError, lambda: ClientConfig(api_key=SECRET + "\x07", account_id="1"))
    denied = gql_error(f"permission denied for {SECRET}", extensions={"code": "PERMISSION_DENIED"})
    script.then(reply(denied), reply(denied))
    expect(WrongAccountError, lambda: client.execute("EntityLookup", {"type": "site"}, account_id="77"))
    script.then(reply(denied), reply({"data": {"accountSnapshot": {"id": "78"}}}))
    expect(PermissionDeniedError, lambda: client.execute("TestUpdateSite", {"siteId": "1", "input": {}},
                                                        account_id="78"))  # fmt: skip
    script.then(*[reply({"data": None, "networkErrors": [{"message": f"Rate-Limit {SECRET}"}]})] * 5)
    expect(RateLimitedError, lookup)
    script.then(reply({"detail": SECRET}, status=404))
    expect(ValidationError, lookup)
    # Even a careless log line carrying the key is scrubbed by the client's filter.
    logging.getLogger("catoiac.client").debug("debugging with key %s", SECRET)
    logging.getLogger("some.other.library").warning("their log line with %s", SECRET)

    assert all(isinstance(e, CatoError) for e in raised)
    # Every error type the client can raise is in the list above.
    error_types = {
        cls for cls in vars(errors_module).values()
        if isinstance(cls, type) and issubclass(cls, CatoError) and cls is not CatoError
    }  # fmt: skip
    assert error_types <= {type(e) for e in raised}, error_types - {type(e) for e in raised}
    for exc in raised:
        for text in _exception_texts(exc) + _public_texts(exc):
            assert SECRET not in text, f"{type(exc).__name__} leaks the key: {text}"
        assert exc.__cause__ is None or not hasattr(exc.__cause__, "request")
    assert any("[secret]" in str(e) for e in raised)
    assert caplog.records, "the client logged nothing at DEBUG"
    for record in caplog.records:
        assert SECRET not in record.getMessage(), record.getMessage()
        assert SECRET not in (record.exc_text or "")
    assert SECRET not in caplog.text
    assert "debugging with key [secret]" in caplog.text
    for text in (repr(client), str(client), repr(client.config), str(client.config), repr(vars(client))):
        assert SECRET not in text
    assert "api_key=[secret]" in repr(client.config)


# -- where the key may go ---------------------------------------------------------------------------


@pytest.fixture
def recording_proxy():
    """A real HTTP proxy listener that records every byte it receives and answers 502."""
    received: list[bytes] = []

    def handle(conn) -> None:
        received.append(read_http_request(conn))
        conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")

    with serve_raw(handle) as url:
        yield url, received


def test_a_loopback_endpoint_never_goes_through_an_environment_proxy(
    server, script, recording_proxy, monkeypatch
):
    proxy_url, received = recording_proxy
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.setenv(name, proxy_url)
    # The proxy is really in the way: a plain httpx client sends it the header in clear.
    with httpx.Client() as naive:
        assert naive.post(server[0], headers={"x-api-key": SECRET}, json={}).status_code == 502
    assert received and SECRET.encode() in received[0]
    received.clear()

    config = ClientConfig(api_key=SECRET, account_id=ACCOUNT, base_url=server[0])
    with CatoClient(config, limits=NO_PACING, retry=FAST_RETRY, documents=STORE) as client:
        assert client.execute("EntityLookup", {"type": "site"}) == EMPTY_LOOKUP["data"]
    assert received == []
    assert script.seen[0].headers["x-api-key"] == SECRET  # it went straight to the server


def test_a_wrong_path_answering_404_points_at_the_graphql2_endpoint(server, make_client):
    url = server[0].replace("/api/v1/graphql2", "/api/v1/graphql")
    with pytest.raises(ValidationError) as info:
        make_client(url).execute("EntityLookup", {"type": "site"})
    text = str(info.value)
    assert "HTTP 404" in text and url in text and "/api/v1/graphql2" in text
    assert "cato:endpoint, CATO_BASEURL or --endpoint" in text


@pytest.mark.parametrize("url", ["api.catonetworks.com/api/v1/graphql2", "ftp://x/y", "https://"])
def test_an_endpoint_without_scheme_or_host_names_the_settings_not_an_internal_variable(url):
    with pytest.raises(ConfigurationError) as info:
        ClientConfig(api_key=SECRET, account_id=ACCOUNT, base_url=url)
    text = str(info.value)
    assert "cato:endpoint, CATO_BASEURL or --endpoint" in text and "base_url" not in text
    if "://" not in url:
        assert f"https://{url}" in text


def test_an_endpoint_from_the_environment_is_named_by_its_variable():
    with pytest.raises(ConfigurationError, match="CATO_BASEURL"):
        ClientConfig.from_env({"CATO_TOKEN": SECRET, "CATO_ACCOUNT_ID": ACCOUNT, "CATO_BASEURL": "x.example"})


@pytest.mark.parametrize(
    "bad, what",
    [
        (SECRET + "\n", "trailing newline"),
        (" " + SECRET, "surrounding whitespace"),
        (SECRET[:5] + " " + SECRET[5:], "a space"),
        (SECRET + "\x00", "control character"),
        (SECRET + "é", "non-ASCII"),
    ],
)
def test_a_malformed_key_is_refused_before_any_request_naming_the_setting_never_the_key(bad, what):
    with pytest.raises(ConfigurationError) as info:
        ClientConfig.from_env({"CATO_TOKEN": bad, "CATO_ACCOUNT_ID": ACCOUNT})
    text = str(info.value)
    assert what in text and "CATO_TOKEN" in text
    assert SECRET[:6] not in text and SECRET[-6:] not in text
    with pytest.raises(ConfigurationError, match="cato:apiKey"):
        ClientConfig(api_key=bad, account_id=ACCOUNT, key_setting="cato:apiKey")


# -- rate limits as Cato counts them (KB 5119033786653) and as its Go SDK detects them ----------------


@pytest.mark.parametrize(
    "body",
    [
        gql_error("RateLimit exceeded for this account"),
        gql_error("rate-limit: slow down"),
        gql_error("Request failed: rate limit reached for entityLookup"),
        {"data": None, "networkErrors": [{"message": "rate limit for operation: entityLookup"}]},
        {"data": None, "graphqlErrors": [{"message": "ratelimit"}]},
        {"data": {"entityLookup": None}, "errors": [{"message": "other"}, {"message": "Rate Limit hit"}]},
    ],
    ids=[
        "ratelimit",
        "rate-limit",
        "rate-limit-mid-message",
        "networkErrors",
        "graphqlErrors",
        "second-error",
    ],
)
def test_a_rate_limit_anywhere_in_the_error_lists_is_retried_like_the_go_sdk_does(script, make_client, body):
    script.then(reply(body))
    client = make_client()
    assert client.execute("EntityLookup", {"type": "site"}) == EMPTY_LOOKUP["data"]
    assert len(script.seen) == 2 and client.stats.get("EntityLookup").throttled == 1


def test_a_rate_limited_mutation_is_retried_it_was_not_applied(script, make_client):
    script.then(reply({"data": None, "networkErrors": [{"message": "rate-limit"}]}), reply(SITE_UPDATED))
    assert make_client().execute("TestUpdateSite", {"siteId": "42", "input": {}}) == SITE_UPDATED["data"]
    assert len(script.seen) == 2


def test_publish_revisions_are_paced_per_policy_and_entity_lookup_has_a_five_hour_cap():
    store = DocumentStore.from_package()
    ifw, wan = store.get("InternetFirewallPublishRevision"), store.get("WanFirewallPublishRevision")
    assert (ifw.rate_bucket, wan.rate_bucket) == (
        "internetFirewall.publishPolicyRevision",
        "wanFirewall.publishPolicyRevision",
    )
    t = FakeTime()
    limiter = RateLimiter(RateLimitTable.cato_defaults(), clock=t.clock, sleep=t.sleep)

    def publish(op) -> float:
        limiter.acquire(ACCOUNT, op.rate_bucket, limits_key=op.rate_key)
        return t.now

    # 3 a minute each: the WAN firewall's publishes do not wait for the Internet firewall's.
    assert [publish(ifw) for _ in range(3)] + [publish(wan) for _ in range(3)] == [0] * 6
    assert publish(ifw) == 60
    # 20 an hour, per policy: the 21st Internet firewall publish waits for the hour to pass.
    times = [publish(ifw) for _ in range(16)]
    assert times[-1] < 3600 and publish(ifw) == 3600
    before = t.now
    assert publish(wan) == before  # the WAN firewall has used 3 of its 20: no wait
    lookup = store.get("EntityLookup")
    t2 = FakeTime()
    lim2 = RateLimiter(RateLimitTable.cato_defaults(), clock=t2.clock, sleep=t2.sleep)
    for _ in range(1500):
        lim2.acquire(ACCOUNT, lookup.rate_bucket, limits_key=lookup.rate_key)
    assert t2.now < 5 * 3600
    lim2.acquire(ACCOUNT, lookup.rate_bucket, limits_key=lookup.rate_key)
    assert t2.now == 5 * 3600  # the 1,501st waits for the first to leave the 5-hour window
