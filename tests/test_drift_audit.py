"""Audit feed discipline against the emulator over HTTP, and attribution rules on plain data."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from emu_helpers import ACCOUNT, KEY
from sites_support import ADD_SITE, UPDATE_SITE, Api, fixture, site_input

from catoiac.client import CatoClient
from catoiac.config import ClientConfig
from catoiac.drift.audit import (
    AuditCache,
    AuditFeed,
    AuditRecord,
    Interest,
    OwnKey,
    RecordIndex,
    Target,
    cause_of,
    infer_own_key,
    pick,
    time_frame,
)
from catoiac.drift.state import StackState, StateResource, Update
from catoiac.emulator import audit
from catoiac.emulator.context import RequestContext
from catoiac.emulator.control import EmulatorControl
from catoiac.emulator.limits import RateLimitConfig

T0 = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)


@pytest.fixture
def emu(emulator_factory):
    return emulator_factory(fixture([]), rate_limits=RateLimitConfig(enabled=False))


def client(emu) -> CatoClient:
    return CatoClient(ClientConfig(api_key=KEY, account_id=ACCOUNT, base_url=emu.url))


def filler_records(emu, site_id: str, n: int) -> None:
    """Audit records written by the emulator's own audit writer: an HTTP call each would take minutes."""
    store = emu.emulator.store
    with store.transaction():
        ctx = RequestContext(store, store.admin_identity(ACCOUNT, "alice@example.com"), store.now())
        for i in range(n):
            audit.record(ctx, object_id=site_id, object_name=f"Munich {i}", object_type="site",
                         change_type="MODIFIED", model_type="Site", module="configuration")  # fmt: skip


def window():
    now = datetime.now(UTC)
    return now - timedelta(hours=1), now + timedelta(minutes=1)


def test_time_frame_uses_the_absolute_utc_form():
    assert time_frame(T0, T0 + timedelta(hours=26)) == "utc.{2026-05-01/12:00:00--2026-05-02/14:00:00}"


def test_feed_pages_with_markers_keeps_only_records_of_interest_and_caches_the_marker(emu, tmp_path):
    api = Api(emu.url)
    ctl = EmulatorControl(emu.base_url)
    site = api.ok(ADD_SITE, a=ACCOUNT, i=site_input("Berlin", "10.9.0.0/24"))["site"]["addSocketSite"][
        "siteId"
    ]
    other = api.ok(ADD_SITE, a=ACCOUNT, i=site_input("Munich", "10.8.0.0/24"))["site"]["addSocketSite"][
        "siteId"
    ]
    ctl.as_admin(
        ACCOUNT, "alice@example.com", UPDATE_SITE, {"a": ACCOUNT, "s": other, "i": {"description": "d"}}
    )
    filler_records(emu, other, 1049)  # more than one page of 1000
    api.ok(UPDATE_SITE, a=ACCOUNT, s=site, i={"description": "ours"})
    ctl.reset_stats()
    start, end = window()
    cache = AuditCache(tmp_path, ACCOUNT, emu.url)
    interest = Interest()
    interest.add(site, "Berlin")
    with client(emu) as c:
        feed = AuditFeed(c, ACCOUNT, cache=cache)
        records = feed.fetch(start, end, interest)
    assert ctl.stats() == {"auditFeed": 2}
    assert feed.stats.records_fetched == 1053
    assert [(r.object_id, r.change_type) for r in records] == [(site, "CREATED"), (site, "MODIFIED")]
    saved = json.loads((tmp_path / f"{ACCOUNT}.json").read_text())
    assert saved["marker"] and len(saved["records"]) == 2
    assert KEY not in (tmp_path / f"{ACCOUNT}.json").read_text()

    # A second run asks only for the tail of the window, in a new frame: the cached marker belongs
    # to the first frame and is not sent with another (cato-toolbox auditFeed/SPEC.md).
    ctl.as_admin(
        ACCOUNT, "alice@example.com", UPDATE_SITE, {"a": ACCOUNT, "s": site, "i": {"description": "alice"}}
    )
    ctl.reset_stats()
    with client(emu) as c:
        feed = AuditFeed(c, ACCOUNT, cache=AuditCache(tmp_path, ACCOUNT, emu.url))
        records = feed.fetch(start, end, interest)
    assert ctl.stats() == {"auditFeed": 2}  # the tail overlaps the 1,000+ fillers of the last minutes
    assert not feed.stats.marker_reused
    assert feed.stats.records_from_cache == 2
    assert [r.actor_name for r in records] == ["catoiac", "catoiac", "alice@example.com"]


def test_a_cached_marker_is_sent_only_with_the_frame_it_came_from(emu, tmp_path):
    api = Api(emu.url)
    site = api.ok(ADD_SITE, a=ACCOUNT, i=site_input("Berlin", "10.9.0.0/24"))["site"]["addSocketSite"][
        "siteId"
    ]
    now = datetime.now(UTC)
    start, end = now - timedelta(minutes=1), now + timedelta(minutes=1)  # shorter than the tail overlap
    with client(emu) as c:
        AuditFeed(c, ACCOUNT, cache=AuditCache(tmp_path, ACCOUNT, emu.url)).fetch(start, end, None)
    saved = json.loads((tmp_path / f"{ACCOUNT}.json").read_text())
    assert re.fullmatch(r"\d{13}_\d*", saved["marker"]) and saved["marker_frame"] == time_frame(start, end)
    # The next run's frame is the same one: its marker is valid there, and the boundary record it
    # returns again (the inclusive boundary) is counted once.
    api.ok(UPDATE_SITE, a=ACCOUNT, s=site, i={"description": "again"})
    with client(emu) as c:
        feed = AuditFeed(c, ACCOUNT, cache=AuditCache(tmp_path, ACCOUNT, emu.url))
        records = feed.fetch(start, end, None)
    assert [r.change_type for r in records] == ["CREATED", "MODIFIED"]
    assert feed.stats.marker_reused
    assert (feed.stats.records_fetched, feed.stats.duplicates) == (1, 1)
    # Another frame: the marker stays home, the tail is fetched from scratch and nothing is doubled.
    with client(emu) as c:
        feed = AuditFeed(c, ACCOUNT, cache=AuditCache(tmp_path, ACCOUNT, emu.url))
        records = feed.fetch(start, end + timedelta(minutes=5), None)
    assert not feed.stats.marker_reused and [r.change_type for r in records] == ["CREATED", "MODIFIED"]


def test_an_earlier_window_than_the_cache_covers_refetches_from_the_start(emu, tmp_path):
    api = Api(emu.url)
    api.ok(ADD_SITE, a=ACCOUNT, i=site_input("Berlin", "10.9.0.0/24"))
    start, end = window()
    with client(emu) as c:
        AuditFeed(c, ACCOUNT, cache=AuditCache(tmp_path, ACCOUNT, emu.url)).fetch(start, end, None)
        feed = AuditFeed(c, ACCOUNT, cache=AuditCache(tmp_path, ACCOUNT, emu.url))
        records = feed.fetch(start - timedelta(hours=1), end, None)
    assert not feed.stats.marker_reused and len(records) == 1


def test_a_marker_the_feed_no_longer_knows_is_dropped_and_the_window_fetched_again(emu, tmp_path):
    Api(emu.url).ok(ADD_SITE, a=ACCOUNT, i=site_input("Berlin", "10.9.0.0/24"))
    start, end = window()
    cache = AuditCache(tmp_path, ACCOUNT, emu.url)
    cache.data.update(
        marker="bm90LWEtbWFya2Vy", complete_from=(start - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    )
    cache.save()
    with client(emu) as c:
        feed = AuditFeed(c, ACCOUNT, cache=AuditCache(tmp_path, ACCOUNT, emu.url))
        records = feed.fetch(start, end, None)
    assert len(records) == 1 and not feed.stats.marker_reused


def test_cache_of_another_endpoint_is_not_used(emu, tmp_path):
    cache = AuditCache(tmp_path, ACCOUNT, "https://elsewhere.example/api")
    cache.data["marker"] = "x"
    cache.save()
    assert AuditCache(tmp_path, ACCOUNT, emu.url).data["marker"] is None


def test_records_seen_twice_in_overlapping_pages_are_kept_once():
    raw = {"time": "2026-05-01T12:00:00Z", "admin": {"id": "a", "name": "A"}, "object": {"id": "1"},
           "fieldsMap": {"change_type": "MODIFIED"}}  # fmt: skip
    assert AuditRecord.from_raw(raw).hash == AuditRecord.from_raw(json.loads(json.dumps(raw))).hash
    assert (
        AuditRecord.from_raw(raw).hash != AuditRecord.from_raw({**raw, "time": "2026-05-01T12:00:01Z"}).hash
    )


# -- attribution on plain data ----------------------------------------------------------------------
def rec(
    t,
    *,
    admin=None,
    key=None,
    oid="100",
    otype="site",
    change="MODIFIED",
    name="Lisbon",
    model="Site",
    **fields,
):
    fm = {"change_type": change, "model_type": model, "model_name": name}
    fm.update({f"change_{k}": v for k, v in fields.items()})
    return AuditRecord.from_raw(
        {
            "time": (T0 + timedelta(seconds=t)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "admin": {"id": admin, "name": admin} if admin else None,
            "apiKey": {"id": key, "name": key} if key else None,
            "object": {"id": oid, "name": name, "type": otype},
            "fieldsMap": fm,
        }
    )


def test_pick_prefers_the_record_that_set_the_live_value_over_a_later_touch():
    alice = rec(10, admin="alice", Before_description="a", After_description="live")
    other = rec(20, key="k-other", Before_description="live", After_description="x")
    assert pick([alice, other], fields={"description"}, live_value="live") is alice


def test_pick_ignores_records_whose_details_do_not_mention_the_field():
    tz = rec(10, key="k-other", Before_timezone="a", After_timezone="b")
    created = rec(0, key="k-ours", change="CREATED")
    assert pick([created, tz], fields={"description"}, live_value="x", change_types=("MODIFIED",)) is None


def test_pick_falls_back_to_a_record_without_field_details():
    vague = rec(10, admin="alice")
    assert pick([vague], fields={"description"}, live_value="x", change_types=("MODIFIED",)) is vague


def test_cause_labels_are_ui_other_key_this_tool_and_no_record():
    own = OwnKey("k-ours", "ours", "flag")
    assert cause_of(rec(0, admin="alice"), own) == "ui"
    assert cause_of(rec(0, key="k-other"), own) == "other-api-key"
    assert cause_of(rec(0, key="k-ours"), own) == "this-tool"
    assert cause_of(None, own) == "no-audit-record"


def test_a_rename_still_matches_records_made_under_either_name():
    rename = rec(10, oid="555", admin="alice", name="Porto", Before_name="Lisbon", After_name="Porto")
    under_new_name = rec(20, oid="", key="k-other", name="Porto")
    unrelated = rec(30, oid="", key="k-other", name="Madrid")
    target = Target(set(), {"Lisbon"}, {"site"}, {"Site"})
    assert target.related(RecordIndex([unrelated, under_new_name, rename])) == [rename, under_new_name]


def test_records_on_another_object_type_with_the_same_id_do_not_match():
    host = rec(0, oid="100", otype="host", model="StaticHost", name="printer")
    assert Target({"100"}, set(), {"site"}, {"Site"}).related(RecordIndex([host])) == []


def stack(*resources, updates=()):
    return StackState("prod", list(resources), updates=list(updates))


def res(rid, created=None):
    return StateResource("prod", f"urn:pulumi:prod::p::t::r{rid}", "SocketSite", rid, {}, created=created)


def test_own_key_is_the_one_that_created_the_stacks_resources_during_its_updates():
    s = stack(
        res("1", T0),
        res("2", T0 + timedelta(seconds=1)),
        updates=[Update("update", "succeeded", T0, T0 + timedelta(seconds=30))],
    )
    records = [
        rec(0, key="k-ours", oid="1", change="CREATED"),
        rec(1, key="k-ours", oid="2", change="CREATED"),
        rec(100, key="k-other", oid="1", Before_description="a", After_description="b"),
        rec(200, admin="alice", oid="2", change="CREATED"),
    ]
    own = infer_own_key(records, [s])
    assert (own.id, own.source) == ("k-ours", "inferred")
    assert "created SocketSite 1" in own.evidence


def test_own_key_is_unknown_when_two_keys_score_the_same():
    s = stack(res("1"), res("2"))
    records = [rec(0, key="a", oid="1", change="CREATED"), rec(0, key="b", oid="2", change="CREATED")]
    assert infer_own_key(records, [s]) is None


def test_admins_are_never_inferred_as_the_own_key():
    s = stack(res("1", T0))
    assert infer_own_key([rec(0, admin="alice", oid="1", change="CREATED")], [s]) is None


def test_a_namesake_with_another_id_is_not_attributed_to_this_object():
    # Two hosts called printer-1 on different sites: the record about the other one never
    # explains a finding on this one, even though the model type and name match.
    other = rec(
        0, oid="400003", otype="host", model="StaticHost", name="printer-1", key="k-ours", change="CREATED"
    )
    target = Target({"400001"}, {"printer-1"}, {"host"}, {"StaticHost"})
    assert target.related(RecordIndex([other])) == []
    itself = rec(5, oid="400001", otype="host", model="StaticHost", name="printer-1", admin="alice")
    assert target.related(RecordIndex([other, itself])) == [itself]
