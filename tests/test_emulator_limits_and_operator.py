"""The emulator's limiter as Cato documents it (KB 5119033786653), and its operator endpoints'
access rule, over real HTTP."""

from __future__ import annotations

import httpx
import pytest
from emu_helpers import ACCOUNT, KEY, base_fixture

from catoiac.emulator.control import EmulatorControl, EmulatorControlError
from catoiac.emulator.limits import RateLimitConfig, RateLimiter
from catoiac.emulator.server import EmulatorServer

FEED = """query Feed($a: [ID!], $tf: TimeFrame!) {
  auditFeed(accountIDs: $a, timeFrame: $tf) { fetchedCount }
}"""
PUBLISH = """mutation P($a: ID!) { policy(accountId: $a) { %s {
  publishPolicyRevision(input: {}) { status } } } }"""


def gql(url: str, query: str, variables: dict, key: str = KEY) -> httpx.Response:
    return httpx.post(url, json={"query": query, "variables": variables}, headers={"x-api-key": key})


def limited(r: httpx.Response) -> bool:
    errors = r.json().get("errors") or []
    return bool(errors) and errors[0]["message"].startswith("rate limit for operation:")


@pytest.mark.parametrize("status", [200, 429])
def test_a_zero_limit_refuses_every_call_as_a_rate_limit_not_a_server_error(emulator_factory, status):
    emu = emulator_factory(rate_limits=RateLimitConfig(status=status, limits={"auditFeed": 0}))
    r = gql(emu.url, FEED, {"a": [ACCOUNT], "tf": "last.P1D"})
    assert r.status_code == status and limited(r)
    if status == 429:
        assert int(r.headers["retry-after"]) == 60  # a whole window: the limit never lets one through


def test_publish_is_limited_per_policy(emulator_factory):
    emu = emulator_factory(rate_limits=RateLimitConfig())
    ifw = [gql(emu.url, PUBLISH % "internetFirewall", {"a": ACCOUNT}) for _ in range(4)]
    wan = [gql(emu.url, PUBLISH % "wanFirewall", {"a": ACCOUNT}) for _ in range(3)]
    assert [limited(r) for r in ifw] == [False, False, False, True]
    assert [limited(r) for r in wan] == [False, False, False]  # its own 3 a minute


def test_publish_has_an_hourly_limit_per_policy_and_entity_lookup_a_five_hour_one():
    now = [0.0]
    limiter = RateLimiter(RateLimitConfig(), clock=lambda: now[0])

    def publish(policy: str) -> float | None:
        return limiter.check(ACCOUNT, "publishPolicyRevision", f"{policy}.publishPolicyRevision")

    refused = 0
    for _ in range(20):  # 20 publishes, 3 a minute
        while publish("internetFirewall") is not None:
            refused += 1
            now[0] += 20
    assert refused > 0 and now[0] < 3600
    wait = publish("internetFirewall")
    assert wait is not None and wait > 60  # the hour, not the minute, holds the 21st back
    assert publish("wanFirewall") is None
    for _ in range(1500):
        while limiter.check(ACCOUNT, "entityLookup") is not None:
            now[0] += 2
    assert now[0] < 3600 + 5 * 3600
    assert limiter.check(ACCOUNT, "entityLookup") > 60  # the 5-hour cap, not the minute's


def test_operator_endpoints_are_refused_on_a_non_loopback_host_without_a_token():
    with EmulatorServer(host="0.0.0.0", seed=base_fixture()) as emu:
        local = f"http://127.0.0.1:{emu.port}"
        with EmulatorControl(local) as ctl, pytest.raises(EmulatorControlError) as info:
            ctl.seed({"accounts": []})
        assert info.value.status == 403 and "--operator-token" in str(info.value)
        for path in ("/_emulator/reset", "/_emulator/ui/1001", "/_emulator/ratelimits", "/_emulator/clock"):
            assert httpx.post(local + path, json={}).status_code == 403, path
        # The Cato API itself and the health check still answer.
        assert httpx.get(local + "/_emulator/health").status_code == 200
        snap = gql(local + "/api/v1/graphql2", "query { accountSnapshot(accountID: 1001) { id } }", {})
        assert snap.status_code == 200 and "errors" not in snap.json()


def test_operator_endpoints_need_the_token_when_one_is_given(monkeypatch):
    with EmulatorServer(host="0.0.0.0", seed=base_fixture(), operator_token="op-token-123") as emu:
        local = f"http://127.0.0.1:{emu.port}"
        for headers in ({}, {"authorization": "Bearer wrong"}, {"authorization": "op-token-123"}):
            assert httpx.post(local + "/_emulator/reset", headers=headers).status_code == 401
        with EmulatorControl(local, token="op-token-123") as ctl:
            ctl.reset()
        monkeypatch.setenv("CATOIAC_EMULATOR_TOKEN", "op-token-123")
        with EmulatorControl(local) as ctl:
            assert ctl.stats() == {}
    # On loopback a token, when given, is required too.
    with EmulatorServer(seed=base_fixture(), operator_token="op-token-123") as emu:
        assert httpx.post(emu.base_url + "/_emulator/reset").status_code == 401
