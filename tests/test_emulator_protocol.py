"""The emulator's wire behaviour: auth, errors, rate limits, faults, audit feed, persistence."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from emu_helpers import ACCOUNT, KEY, OTHER_ACCOUNT, OTHER_KEY

from catoiac.emulator.control import EmulatorControl
from catoiac.emulator.limits import RateLimitConfig

SNAPSHOT = "query S($a: ID) { accountSnapshot(accountID: $a) { id } }"
ADD_SITE = """
mutation Add($accountId: ID!, $input: AddSocketSiteInput!) {
  site(accountId: $accountId) { addSocketSite(input: $input) { siteId } }
}"""
FEED = """
query Feed($a: [ID!], $tf: TimeFrame!, $m: String) {
  auditFeed(accountIDs: $a, timeFrame: $tf, marker: $m) {
    fetchedCount hasMore marker from to
    accounts { id records { time admin { id name } apiKey { id name } object { id name type } fieldsMap } }
  }
}"""


def site_input(name: str, subnet: str = "10.10.0.0/24") -> dict:
    return {
        "name": name,
        "connectionType": "SOCKET_X1500",
        "siteType": "BRANCH",
        "nativeNetworkRange": subnet,
        "siteLocation": {"countryCode": "US", "timezone": "America/New_York"},
    }


def gql(url: str, query: str, variables: dict | None = None, key: str = KEY, **kw) -> httpx.Response:
    return httpx.post(
        url, json={"query": query, "variables": variables or {}}, headers={"x-api-key": key}, **kw
    )


@pytest.fixture
def emu(emulator_factory):
    return emulator_factory(rate_limits=RateLimitConfig(enabled=False))


@pytest.fixture
def ctl(emu):
    with EmulatorControl(emu.base_url) as c:
        yield c


def test_missing_or_unknown_api_key_is_refused_with_401(emu):
    r = httpx.post(emu.url, json={"query": SNAPSHOT})
    assert r.status_code == 401 and "x-api-key" in r.json()["errors"][0]["message"]
    r = gql(emu.url, SNAPSHOT, key="not-a-key")
    assert r.status_code == 401 and "invalid API key" in r.json()["errors"][0]["message"]


def test_key_used_on_another_accounts_id_gets_permission_denied_with_http_200(emu):
    r = gql(emu.url, SNAPSHOT, {"a": OTHER_ACCOUNT})
    assert r.status_code == 200
    body = r.json()
    assert body["data"] == {"accountSnapshot": None}
    assert body["errors"][0]["message"] == "permission denied"
    assert body["errors"][0]["path"] == ["accountSnapshot"]
    r = gql(emu.url, FEED, {"a": [ACCOUNT, OTHER_ACCOUNT], "tf": "last.P1D"})
    assert r.json()["errors"][0]["message"] == "permission denied"


def test_invalid_documents_get_graphql_validation_errors_with_http_200(emu):
    r = gql(emu.url, "{ accountSnapshot(accountID: 1) { nope } }")
    assert r.status_code == 200
    err = r.json()["errors"][0]
    assert "Cannot query field 'nope'" in err["message"]
    assert err["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    r = gql(emu.url, "mutation { sites(accountId: 1) { removeSite(siteId: 1) { siteId } } }")
    assert "Cannot query field 'sites'" in r.json()["errors"][0]["message"]


def test_emulators_in_one_process_parse_and_validate_each_document_once(emulator_factory, monkeypatch):
    """A test worker starts an emulator per test: a document is checked once per schema, not once
    per emulator, and an invalid one is still refused by each."""
    from catoiac.emulator import app

    checked: list[object] = []
    real = app.validate
    monkeypatch.setattr(app, "validate", lambda schema, doc: checked.append(doc) or real(schema, doc))
    app._checked_document.cache_clear()
    query = SNAPSHOT + " # parsed once"
    first, second = (emulator_factory(rate_limits=RateLimitConfig(enabled=False)) for _ in range(2))
    for emu in (first, second, first, second):
        assert gql(emu.url, query, {"a": ACCOUNT}).json()["data"]["accountSnapshot"]["id"] == ACCOUNT
    assert len(checked) == 1
    for emu in (first, second):
        r = gql(emu.url, "{ accountSnapshot(accountID: 1) { nope } }")
        assert "Cannot query field 'nope'" in r.json()["errors"][0]["message"]


def test_rate_limit_answers_http_200_with_cato_message_per_account_and_operation(emulator_factory):
    emu = emulator_factory(
        rate_limits=RateLimitConfig(window_seconds=60, limits={"default": 100, "accountSnapshot": 2})
    )
    answers = [gql(emu.url, SNAPSHOT, {"a": ACCOUNT}) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert "errors" not in answers[1].json()
    assert answers[2].json()["errors"][0]["message"].startswith("rate limit for operation: accountSnapshot")
    # Another operation has its own counter.
    assert "errors" not in gql(emu.url, FEED, {"a": [ACCOUNT], "tf": "last.P1D"}).json()
    # The counter is per account: the other account is not limited by ours.
    other = gql(emu.url, SNAPSHOT, {"a": OTHER_ACCOUNT}, key="cato-globex-key-0042")
    assert "errors" not in other.json()
    # ...but shared across keys of the same account, as Cato documents.
    assert (
        gql(emu.url, SNAPSHOT, {"a": ACCOUNT}, key=OTHER_KEY)
        .json()["errors"][0]["message"]
        .startswith("rate limit for operation:")
    )


def test_rate_limit_can_answer_429_with_retry_after(emulator_factory):
    emu = emulator_factory(
        rate_limits=RateLimitConfig(window_seconds=30, status=429, limits={"auditFeed": 1})
    )
    assert gql(emu.url, FEED, {"a": [ACCOUNT], "tf": "last.P1D"}).status_code == 200
    r = gql(emu.url, FEED, {"a": [ACCOUNT], "tf": "last.P1D"})
    assert r.status_code == 429
    assert 1 <= int(r.headers["retry-after"]) <= 30
    assert r.json()["errors"][0]["message"].startswith("rate limit for operation: auditFeed")


def test_rate_limit_storm_refuses_the_next_calls_then_recovers(emu, ctl):
    ctl.rate_limits(storm_remaining=3)
    msgs = [
        gql(emu.url, SNAPSHOT, {"a": ACCOUNT}).json().get("errors", [{}])[0].get("message", "")
        for _ in range(4)
    ]
    assert all(m.startswith("rate limit for operation:") for m in msgs[:3])
    assert msgs[3] == ""


def test_fault_latency_delays_the_reply(emu, ctl):
    ctl.add_fault("latency", operation="accountSnapshot", delay=0.4, times=1)
    t0 = time.monotonic()
    assert gql(emu.url, SNAPSHOT, {"a": ACCOUNT}).status_code == 200
    assert time.monotonic() - t0 >= 0.4
    assert gql(emu.url, SNAPSHOT, {"a": ACCOUNT}).status_code == 200
    # times=1: the second call is not delayed (counted by the emulator, not by the wall clock).
    assert [(f["kind"], f["fired"]) for f in ctl.faults()] == [("latency", 1)]


def test_fault_http_5xx_answers_the_configured_status(emu, ctl):
    ctl.add_fault("http_error", operation="accountSnapshot", status=503, times=1)
    assert gql(emu.url, SNAPSHOT, {"a": ACCOUNT}).status_code == 503
    assert gql(emu.url, SNAPSHOT, {"a": ACCOUNT}).status_code == 200


def test_fault_connection_reset_drops_the_connection(emu, ctl):
    ctl.add_fault("reset", operation="accountSnapshot", times=1)
    with pytest.raises(httpx.RemoteProtocolError):
        gql(emu.url, SNAPSHOT, {"a": ACCOUNT})
    assert gql(emu.url, SNAPSHOT, {"a": ACCOUNT}).status_code == 200


def test_fault_on_the_nth_call_of_a_named_operation_only(emu, ctl):
    ctl.add_fault("fail", operation="accountSnapshot", nth=3, message="internal error")
    bodies = [gql(emu.url, SNAPSHOT, {"a": ACCOUNT}).json() for _ in range(4)]
    assert ["errors" in b for b in bodies] == [False, False, True, False]
    # Other operations do not count towards the Nth.
    ctl.clear_faults()
    ctl.add_fault("fail", operation="auditFeed", nth=1)
    assert "errors" not in gql(emu.url, SNAPSHOT, {"a": ACCOUNT}).json()
    assert "errors" in gql(emu.url, FEED, {"a": [ACCOUNT], "tf": "last.P1D"}).json()


def test_timeout_after_commit_applies_the_write_but_loses_the_reply(emu, ctl):
    ctl.add_fault("timeout_after_commit", operation="addSocketSite", delay=0.5, times=1)
    with pytest.raises((httpx.ReadTimeout, httpx.RemoteProtocolError)):
        gql(emu.url, ADD_SITE, {"accountId": ACCOUNT, "input": site_input("Lost Reply")}, timeout=0.2)
    time.sleep(0.5)
    snap = gql(emu.url, "query { accountSnapshot(accountID: 1001) { sites { id info { name } } } }").json()
    names = [s["info"]["name"] for s in snap["data"]["accountSnapshot"]["sites"]]
    assert names.count("Lost Reply") == 1


def test_audit_feed_attributes_api_key_and_ui_admin_changes(emu, ctl):
    r = gql(emu.url, ADD_SITE, {"accountId": ACCOUNT, "input": site_input("Paris", "10.1.0.0/24")}).json()
    site_id = r["data"]["site"]["addSocketSite"]["siteId"]
    ui = ctl.as_admin(
        ACCOUNT,
        "alice@example.com",
        """mutation($a: ID!, $s: ID!) { site(accountId: $a) {
             updateSiteGeneralDetails(siteId: $s, input: {description: "edited in the UI"}) { siteId } } }""",
        {"a": ACCOUNT, "s": site_id},
    )
    assert "errors" not in ui, ui
    feed = gql(emu.url, FEED, {"a": [ACCOUNT], "tf": "last.PT1H"}).json()["data"]["auditFeed"]
    records = feed["accounts"][0]["records"]
    created = next(
        r for r in records if r["fieldsMap"]["change_type"] == "CREATED" and r["object"]["id"] == site_id
    )
    assert created["apiKey"] == {"id": "k-catoiac", "name": "catoiac"} and created["admin"] is None
    modified = next(r for r in records if r["fieldsMap"]["change_type"] == "MODIFIED")
    assert modified["admin"] == {"id": "a-alice", "name": "alice@example.com"} and modified["apiKey"] is None
    assert modified["object"]["id"] == site_id
    # A site edit says what changed, not to what (KB 4413273463953: values only for some policies).
    assert "change_After_description" not in modified["fieldsMap"]
    assert modified["fieldsMap"]["module"] == "configuration"
    for key in ("model_type", "model_name", "module", "creation_date", "insertion_date"):
        assert modified["fieldsMap"][key]


def _fill_audit(emu, n: int, start: datetime, step: timedelta = timedelta(seconds=1)) -> None:
    store = emu.emulator.store
    with store.transaction():
        for i in range(n):
            t = start + i * step
            store.append_audit(
                ACCOUNT,
                t,
                {
                    "time": t.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                    "admin": None,
                    "apiKey": {"id": "k-other", "name": "another integration", "type": "apiKey"},
                    "object": {"id": str(i), "name": f"obj{i}", "type": "site"},
                    "fieldsMap": {"change_type": "MODIFIED", "model_type": "Site", "model_name": f"obj{i}"},
                },
            )


def test_audit_feed_pages_1000_records_at_a_time_with_inclusive_frame_scoped_markers(emu):
    """cato-toolbox auditFeed/SPEC.md, "Marker Semantics" (observed): markers look like
    ``1781883741985_``, the boundary is inclusive (the last record can come back), the marker may
    not advance once drained, and a marker is scoped to its timeFrame."""
    _fill_audit(emu, 2500, datetime.now(UTC) - timedelta(minutes=50))
    seen, marker, pages, repeats = [], None, 0, 0
    while True:
        page = gql(emu.url, FEED, {"a": [ACCOUNT], "tf": "last.PT1H", "m": marker}).json()["data"][
            "auditFeed"
        ]
        pages += 1
        assert page["fetchedCount"] == len(page["accounts"][0]["records"]) <= 1000
        ids = [r["object"]["id"] for r in page["accounts"][0]["records"]]
        if seen and ids and ids[0] == seen[-1]:
            repeats += 1  # the boundary record, again
            ids = ids[1:]
        seen += ids
        assert re.fullmatch(r"\d{13}_\d*", page["marker"]), page["marker"]
        marker = page["marker"]
        if not page["hasMore"]:
            break
    assert pages == 3 and repeats == 2
    assert seen == [str(i) for i in range(2500)]
    # Drained: the same marker returns the boundary record again and does not advance.
    again = gql(emu.url, FEED, {"a": [ACCOUNT], "tf": "last.PT1H", "m": marker}).json()["data"]["auditFeed"]
    assert [r["object"]["id"] for r in again["accounts"][0]["records"]] == ["2499"]
    assert again["hasMore"] is False and again["marker"] == marker
    # The marker belongs to its frame: with another one it is refused.
    other = gql(emu.url, FEED, {"a": [ACCOUNT], "tf": "last.PT2H", "m": marker}).json()
    assert "scoped to its timeFrame" in other["errors"][0]["message"]
    unknown = gql(emu.url, FEED, {"a": [ACCOUNT], "tf": "last.PT1H", "m": "1781883741985_"}).json()
    assert "is not a marker this feed returned" in unknown["errors"][0]["message"]


def test_audit_feed_utc_time_frame_is_inclusive_at_both_ends(emu):
    start = datetime(2026, 2, 11, 4, 50, 15, tzinfo=UTC)
    _fill_audit(emu, 5, start, timedelta(hours=1))  # 04:50:15 ... 08:50:15
    tf = "utc.2026-02-11/{05:50:15--07:50:15}"
    page = gql(emu.url, FEED, {"a": [ACCOUNT], "tf": tf}).json()["data"]["auditFeed"]
    assert [r["object"]["id"] for r in page["accounts"][0]["records"]] == ["1", "2", "3"]
    for tf in ("utc.2026-02-{11/04:50:15--11/06:00:00}", "utc.{2026-02-11/04:50:15--2026-02-11/05:50:15}"):
        page = gql(emu.url, FEED, {"a": [ACCOUNT], "tf": tf}).json()["data"]["auditFeed"]
        assert [r["object"]["id"] for r in page["accounts"][0]["records"]] == ["0", "1"], tf


def test_audit_feed_rejects_a_malformed_time_frame_naming_the_fix(emu):
    err = gql(emu.url, FEED, {"a": [ACCOUNT], "tf": "yesterday"}).json()["errors"][0]["message"]
    assert "timeFrame" in err and "'last' or 'utc'" in err


def test_state_survives_a_restart_with_a_database_file(emulator_factory, tmp_path):
    db = str(tmp_path / "cato.db")
    first = emulator_factory(db=db, rate_limits=RateLimitConfig(enabled=False))
    site = gql(first.url, ADD_SITE, {"accountId": ACCOUNT, "input": site_input("Durable")}).json()
    site_id = site["data"]["site"]["addSocketSite"]["siteId"]
    first.stop()
    second = emulator_factory(seed={"accounts": []}, db=db, rate_limits=RateLimitConfig(enabled=False))
    snap = gql(second.url, "query { accountSnapshot(accountID: 1001) { sites { id info { name } } } }").json()
    assert {"id": site_id, "info": {"name": "Durable"}} in snap["data"]["accountSnapshot"]["sites"]
    feed = gql(second.url, FEED, {"a": [ACCOUNT], "tf": "last.PT1H"}).json()["data"]["auditFeed"]
    assert any(r["object"]["id"] == site_id for r in feed["accounts"][0]["records"])


def test_operator_stats_count_calls_per_operation(emu, ctl):
    ctl.reset_stats()
    gql(emu.url, SNAPSHOT, {"a": ACCOUNT})
    gql(emu.url, SNAPSHOT, {"a": ACCOUNT})
    gql(emu.url, FEED, {"a": [ACCOUNT], "tf": "last.P1D"})
    assert ctl.stats() == {"accountSnapshot": 2, "auditFeed": 1}
