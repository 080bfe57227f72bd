"""``catoiac health`` against the emulator over HTTP, from exported stack states (``--state-file``):
what degrades a site, what is only a warning, how each finding is correlated with the update's
changes, query families that fail, bad input, clamped windows, formats and the JSON schema.
The pulumi end-to-end run is in test_health_e2e.py."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from emu_helpers import ACCOUNT, KEY, base_fixture, shared_derived_cache
from sites_support import Api
from test_health_emulator import fixture

from catoiac.client import CatoClient, RetryPolicy
from catoiac.config import ClientConfig
from catoiac.drift.state import load_state_file
from catoiac.emulator.control import EmulatorControl
from catoiac.emulator.limits import RateLimitConfig
from catoiac.health.model import schema
from catoiac.health.run import HealthOptions, run_health

REPO = Path(__file__).resolve().parents[1]
TYPE = "pulumi-python:dynamic/cato:"
FAMILY_OPS = {"accountSnapshot", "accountMetrics", "socketPortMetricsTimeSeries", "eventsFeed", "xdr"}


def ts(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def resource(stack: str, kind: str, name: str, rid: str, inputs: dict, *, created: datetime,
             modified: datetime | None = None, outputs: dict | None = None) -> dict:  # fmt: skip
    return {
        "urn": f"urn:pulumi:{stack}::branch::{TYPE}{kind}::{name}",
        "type": f"{TYPE}{kind}",
        "id": rid,
        "custom": True,
        "inputs": inputs,
        "outputs": outputs or inputs,
        "created": ts(created),
        "modified": ts(modified or created),
    }


def write_state(path: Path, resources: list[dict], manifest: datetime) -> Path:
    path.write_text(json.dumps({"version": 3, "deployment": {"manifest": {"time": ts(manifest)},
                                                             "resources": resources}}))  # fmt: skip
    return path


def server_now(api: Api) -> datetime:
    t = api.ok("query($a: ID!) { accountSnapshot(accountID: $a) { timestamp } }", a=ACCOUNT)
    return datetime.fromisoformat(t["accountSnapshot"]["timestamp"].replace("Z", "+00:00"))


def site_ids(api: Api) -> dict[str, str]:
    body = api.ok(
        "query($a: ID!) { accountSnapshot(accountID: $a) { sites { id info { name } } } }", a=ACCOUNT
    )
    return {s["info"]["name"]: s["id"] for s in body["accountSnapshot"]["sites"]}


class World:
    """An emulator with Lisbon (WAN1, WAN2, LTE) and Porto, an hour of history, and a stack
    ``prod`` whose last update (a minute ago) changed Lisbon's WAN1 port and its firewall policy."""

    def __init__(self, emu, tmp_path: Path) -> None:
        self.emu, self.tmp = emu, tmp_path
        self.ctl = EmulatorControl(emu.base_url)
        self.ctl.advance_clock(3600)
        self.api = Api(emu.url)
        self.ids = site_ids(self.api)
        now = server_now(self.api)
        self.update_end = now - timedelta(seconds=50)
        self.wan1_changed = now - timedelta(seconds=55)
        day_ago = now - timedelta(days=1)
        lisbon = self.ids["Lisbon"]
        self.resources = [
            resource("prod", "SocketSite", "lisbon", lisbon, {"name": "Lisbon"}, created=day_ago),
            resource("prod", "SocketSite", "porto", self.ids["Porto"], {"name": "Porto"}, created=day_ago),
            resource("prod", "SocketInterface", "lisbon-wan1", f"{lisbon}:WAN1",
                     {"site_id": lisbon, "interface_id": "WAN1", "dest_type": "CATO", "name": "WAN1"},
                     created=day_ago, modified=self.wan1_changed),
            resource("prod", "InternetFirewallPolicy", "corp", "internetFirewall:Corporate",
                     {"sections": [{"name": "Corporate", "rules": [{"name": "Block guests"}]}]},
                     outputs={"section_ids": {"Corporate": "s-1"}, "rule_ids": {"Block guests": "r-77"}},
                     created=day_ago, modified=now - timedelta(seconds=52)),
        ]  # fmt: skip
        self.state = write_state(tmp_path / "prod.json", self.resources, self.update_end)
        self.cache = tmp_path / "health-cache"

    def cli(
        self, *args: str, expect: int | None = None, state: Path | bool | None = None
    ) -> subprocess.CompletedProcess:
        exe = shutil.which("catoiac", path=str(REPO / ".venv" / "bin"))
        env = {"PATH": str(REPO / ".venv" / "bin") + ":/usr/bin:/bin", "CATO_TOKEN": KEY, "HOME": str(self.tmp),
               "CATOIAC_RATE_LIMIT_SCALE": "0.01", **shared_derived_cache()}  # fmt: skip
        where = ["--state-file", str(state or self.state)] if state is not False else []
        cmd = [exe, "health", *where, "--account-id", ACCOUNT, "--endpoint", self.emu.url,
               "--cache-dir", str(self.cache), *args]  # fmt: skip
        res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
        assert KEY not in res.stdout and KEY not in res.stderr  # the key is never printed
        if expect is not None:
            assert res.returncode == expect, res.stdout + res.stderr
        return res

    def report(self, *args: str, expect: int | None = None) -> dict[str, Any]:
        res = self.cli("--format", "json", *args, expect=expect)
        report = json.loads(res.stdout)
        jsonschema.validate(report, schema(), format_checker=jsonschema.FormatChecker())
        assert report["exit_code"] == res.returncode
        return report

    def client(self, **retry: Any) -> CatoClient:
        return CatoClient(ClientConfig(api_key=KEY, account_id=ACCOUNT, base_url=self.emu.url),
                          retry=RetryPolicy(**retry) if retry else RetryPolicy())  # fmt: skip

    def close(self) -> None:
        self.api.close()
        self.ctl.close()


@pytest.fixture
def world(emulator_factory, tmp_path):
    w = World(emulator_factory(fixture(), rate_limits=RateLimitConfig(enabled=False)), tmp_path)
    yield w
    w.close()


def kinds(report: dict) -> dict[str, dict]:
    return {(f["kind"], f["site"], f["link"]): f for f in report["findings"]}


# -- healthy, and what one run costs --------------------------------------------------------------------------------
def test_a_healthy_account_exits_0_with_one_call_per_query_family(world):
    report = world.report(expect=0)
    assert report["status"] == "healthy" and report["findings"] == []
    assert {s["name"]: s["status"] for s in report["sites"]} == {"Lisbon": "healthy", "Porto": "healthy"}
    assert [f["status"] for f in report["families"]] == ["ok"] * 5
    assert report["api_calls"] == {op: 1 for op in FAMILY_OPS}  # per family, not per site
    lisbon = next(s for s in report["sites"] if s["name"] == "Lisbon")
    links = {x["name"]: x for x in lisbon["links"]}
    assert set(links) == {"WAN1", "WAN2", "LTE"} and all(x["connected"] for x in links.values())
    assert links["WAN1"]["baseline"]["buckets"] >= 3 and links["WAN1"]["baseline"]["latency_ms"] > 0
    assert {p["name"] for p in lisbon["ports"]} == {"WAN1", "WAN2", "USB1", "LAN1"}
    assert report["window"]["since"] <= report["window"]["until"]
    # What the update changed, from the state's resource times.
    assert {c["name"] for c in report["changes"]} == {"lisbon-wan1", "corp"}


def test_api_calls_do_not_grow_with_the_number_of_sites(emulator_factory, tmp_path):
    fx = base_fixture()
    fx["accounts"][0]["sites"] = [{"name": f"branch-{i:02d}", "country_code": "PT", "timezone": "Europe/Lisbon",
                                   "native_range": f"10.{i}.0.0/24"} for i in range(24)]  # fmt: skip
    w = World.__new__(World)
    emu = emulator_factory(fx, rate_limits=RateLimitConfig(enabled=False))
    w.emu, w.tmp, w.ctl, w.api = emu, tmp_path, EmulatorControl(emu.base_url), Api(emu.url)
    w.cache = tmp_path / "cache"
    now = server_now(w.api)
    sites = [resource("big", "SocketSite", name, sid, {"name": name}, created=now - timedelta(minutes=3))
             for name, sid in site_ids(w.api).items()]  # fmt: skip
    w.state = write_state(tmp_path / "big.json", sites, now - timedelta(minutes=2))
    report = w.report(expect=0)
    assert len(report["sites"]) == 24
    assert report["api_calls"] == {op: 1 for op in FAMILY_OPS}
    w.close()


# -- degraded, correlated ---------------------------------------------------------------------------------------
def test_a_link_down_degrades_its_site_and_names_the_port_change_of_the_update(world):
    world.ctl.take_down(ACCOUNT, "Lisbon", "WAN1", reason="fiber cut")
    report = world.report(expect=2)
    assert report["status"] == "degraded"
    f = kinds(report)[("link-down", "Lisbon", "WAN1")]
    assert f["severity"] == "degraded"
    corr = f["correlation"]
    assert corr["resource"]["name"] == "lisbon-wan1" and corr["resource"]["type"] == "SocketInterface"
    assert 50 <= corr["seconds_after"] <= 120  # the port changed ~55 s before the link went down
    assert "after its WAN1 interface was updated by this stack's last update" in f["text"]
    sites = {s["name"]: s["status"] for s in report["sites"]}
    assert sites == {"Lisbon": "degraded", "Porto": "healthy"}


def test_a_passive_link_down_is_only_a_warning(world):
    lisbon = world.ids["Lisbon"]
    backup = resource("prod", "SocketInterface", "lisbon-wan2", f"{lisbon}:WAN2",
                      {"site_id": lisbon, "interface_id": "WAN2", "dest_type": "CATO", "precedence": "PASSIVE"},
                      created=world.update_end - timedelta(days=1))  # fmt: skip
    state = write_state(world.tmp / "passive.json", world.resources + [backup], world.update_end)
    world.ctl.take_down(ACCOUNT, "Lisbon", "WAN2")
    report = json.loads(world.cli("--format", "json", state=state, expect=0).stdout)
    f = kinds(report)[("link-down", "Lisbon", "WAN2")]
    assert f["severity"] == "warning" and f["message"].startswith("passive link WAN2 of site Lisbon")


def test_a_disconnected_site_is_correlated_with_its_own_changes(world):
    world.ctl.take_down(ACCOUNT, "Lisbon")
    report = world.report(expect=2)
    f = kinds(report)[("site-disconnected", "Lisbon", None)]
    assert f["message"] == "site Lisbon disconnected"
    assert f["correlation"]["resource"]["name"] == "lisbon-wan1"
    assert not any(k[0] == "link-down" for k in kinds(report))  # one finding for the site, not one per link


def test_packet_loss_latency_and_jitter_are_judged_against_the_baseline(world):
    world.ctl.impair(ACCOUNT, "Lisbon", "WAN2", loss_pct=9, latency_ms=150, jitter_ms=40)
    world.ctl.advance_clock(400)  # the whole recent window (5 min) is impaired
    report = world.report(expect=2)
    found = kinds(report)
    for kind in ("packet-loss", "latency", "jitter"):
        f = found[(kind, "Lisbon", "WAN2")]
        assert f["severity"] == "degraded" and "(baseline " in f["message"]
    assert "packet loss 9." in found[("packet-loss", "Lisbon", "WAN2")]["message"]  # 9 % plus the base loss
    # A small wobble is not a finding.
    assert not [k for k in found if k[2] in ("WAN1", "LTE")]


def test_a_new_high_criticality_story_degrades_and_a_low_one_warns(world):
    world.ctl.inject_story(ACCOUNT, site="Lisbon", link="WAN1", indication="Link down", criticality=8)
    world.ctl.inject_story(ACCOUNT, site="Porto", indication="Suspicious DNS", criticality=3,
                           producer="ThreatPrevention")  # fmt: skip
    report = world.report(expect=2)
    found = kinds(report)
    high = found[("story", "Lisbon", "WAN1")]
    assert high["severity"] == "degraded" and "'Link down' (criticality 8, Open)" in high["message"]
    assert high["correlation"]["resource"]["name"] == "lisbon-wan1"
    assert found[("story", "Porto", None)]["severity"] == "warning"


def test_traffic_blocked_by_a_rule_the_update_changed_warns_or_fails_on_request(world):
    for _ in range(3):
        world.ctl.inject_event(ACCOUNT, event_type="Security", event_sub_type="Internet Firewall", site="Porto",
                               action="Block", rule_id="r-77", rule_name="Block guests")  # fmt: skip
    world.ctl.inject_event(ACCOUNT, event_type="Security", event_sub_type="Internet Firewall", site="Porto",
                           action="Block", rule_id="r-1", rule_name="an unchanged rule")  # fmt: skip
    report = world.report(expect=0)  # a warning by default: new block rules are often meant to block
    f = kinds(report)[("blocked-by-changed-rule", "Porto", None)]
    assert f["severity"] == "warning" and f["details"]["count"] == 3
    assert "blocked 3 time(s) by rule 'Block guests'" in f["message"]
    assert "after internet firewall policy corp was updated" in f["text"]
    porto = next(s for s in report["sites"] if s["name"] == "Porto")
    assert porto["security_events"] == 4 and [b["rule_id"] for b in porto["blocked_by_changed_rules"]] == [
        "r-77"
    ]
    strict = world.report("--fail-on-blocked", expect=2)
    assert kinds(strict)[("blocked-by-changed-rule", "Porto", None)]["severity"] == "degraded"


def test_a_link_that_went_down_and_came_back_is_a_warning(world):
    cond = world.ctl.take_down(ACCOUNT, "Lisbon", "WAN2")
    world.ctl.advance_clock(200)  # long enough for Cato to emit Disconnected
    world.ctl.restore(ACCOUNT, cond["id"])
    world.ctl.advance_clock(40)
    report = world.report(expect=0)
    f = kinds(report)[("link-flapped", "Lisbon", "WAN2")]
    assert f["severity"] == "warning" and "was disconnected at" in f["message"]
    lisbon = next(s for s in report["sites"] if s["name"] == "Lisbon")
    assert [e["sub_type"] for e in lisbon["events"]] == ["Disconnected", "Connected"]


def test_an_ha_pair_not_ready_and_a_locked_site_are_degraded(world):
    world.ctl.set_ha(ACCOUNT, "Porto", readiness="not_ready", keepalive="fail")
    world.ctl.set_operational_status(ACCOUNT, "Lisbon", "locked")
    report = world.report(expect=2)
    found = kinds(report)
    assert found[("ha-not-ready", "Porto", None)]["message"] == "site Porto HA is not ready (keepalive)"
    assert found[("site-not-active", "Lisbon", None)]["message"] == "site Lisbon is locked"
    porto = next(s for s in report["sites"] if s["name"] == "Porto")
    assert porto["connectivity"]["is_ha"] is True
    assert [x["ha_role"] for x in porto["connectivity"]["sockets"]] == ["PRIMARY", "SECONDARY"]


def test_a_managed_site_deleted_from_the_account_is_degraded(world):
    gone = resource("prod", "SocketSite", "braga", "999999", {"name": "Braga"},
                    created=world.update_end - timedelta(seconds=5))  # fmt: skip
    state = write_state(world.tmp / "gone.json", world.resources + [gone], world.update_end)
    report = json.loads(world.cli("--format", "json", state=state, expect=2).stdout)
    f = kinds(report)[("site-missing", "Braga", None)]
    assert "is not in the account" in f["message"] and f["correlation"]["resource"]["name"] == "braga"


# -- degraded answers are never healthy ------------------------------------------------------------------------------
def test_a_failed_query_family_makes_the_answer_degraded_not_healthy(world):
    world.ctl.add_fault("fail", operation="accountMetrics", message="internal error")
    report = world.report(expect=2)
    fam = {f["family"]: f for f in report["families"]}
    assert fam["metrics"]["status"] == "failed" and "internal error" in fam["metrics"]["error"]
    f = kinds(report)[("family-failed", None, None)]
    assert "link quality" in f["message"] and "cannot be called healthy" in f["message"]
    assert all(s["status"] == "healthy" for s in report["sites"])  # the sites themselves look fine


def test_a_rate_limited_family_is_reported_as_such(world):
    world.ctl.add_fault(
        "fail", operation="xdr", message="rate limit for operation: xdr. Please try again later"
    )
    state = load_state_file(world.state)
    report = run_health(HealthOptions(use_cache=False), [state],
                        client=world.client(max_attempts=2, rate_limited_backoff=0.05, max_backoff=0.1))  # fmt: skip
    fam = {f["family"]: f for f in report.families}
    assert fam["stories"]["status"] == "rate-limited"
    assert report.status == "degraded" and report.exit_code == 2


def test_nothing_answering_is_an_error_not_a_degraded_site(world):
    report = world.report("--api-key", "not-a-valid-key", expect=1)
    assert report["status"] == "error" and "no query family could be read" in report["error"]


def test_skipped_families_are_not_failures(world):
    world.ctl.add_fault("fail", operation="xdr", message="XDR is not licensed")
    report = world.report("--skip", "stories", expect=0)
    assert {f["family"]: f["status"] for f in report["families"]}["stories"] == "skipped"
    assert "xdr" not in report["api_calls"]


# -- events feed: marker carried over, capped reads ---------------------------------------------------------------
def test_the_events_marker_is_kept_so_the_next_run_reads_only_new_events(world):
    world.ctl.inject_event(ACCOUNT, event_type="Connectivity", event_sub_type="Failover", site="Lisbon")
    first = world.report(expect=0)
    assert [e["sub_type"] for e in first["sites"][0]["events"]] == ["Failover"]
    cached = json.loads(next(world.cache.iterdir()).read_text())
    assert cached["marker"] and len(cached["events"]) == 1
    world.ctl.inject_event(ACCOUNT, event_type="Connectivity", event_sub_type="Reconnected", site="Lisbon")
    world.ctl.reset_stats()
    second = world.report(expect=0)
    assert [e["sub_type"] for e in second["sites"][0]["events"]] == ["Failover", "Reconnected"]
    assert world.ctl.stats()["eventsFeed"] == 2  # one page of what is new, one that finds the end


def test_an_events_read_cut_short_is_incomplete_and_degraded(emulator_factory, tmp_path):
    events = [{"event_type": "Security", "event_sub_type": "Internet Firewall", "site": "Porto", "action": "Allow"}
              for _ in range(3001)]  # fmt: skip
    w = World(emulator_factory(fixture(events=events), rate_limits=RateLimitConfig(enabled=False)), tmp_path)
    report = w.report("--max-event-pages", "1", "--no-cache", expect=2)
    fam = {f["family"]: f for f in report["families"]}
    assert fam["events"]["status"] == "incomplete" and "--max-event-pages" in fam["events"]["error"]
    assert w.report("--no-cache", expect=0)["families"][3]["calls"] == 3  # 3,000, 1, then the end
    w.close()


# -- --wait -------------------------------------------------------------------------------------------------------
def test_wait_polls_until_the_link_is_back_then_exits_healthy(world):
    cond = world.ctl.take_down(ACCOUNT, "Lisbon", "WAN1")
    polls: list[float] = []

    def sleep(seconds: float) -> None:  # between polls: the link comes back after the second one
        polls.append(seconds)
        if len(polls) == 2:
            world.ctl.restore(ACCOUNT, cond["id"])

    state = load_state_file(world.state)
    report = run_health(HealthOptions(wait=120, interval=1, use_cache=False), [state], client=world.client(),
                        sleep=sleep)  # fmt: skip
    assert report.status == "healthy" and report.exit_code == 0
    assert report.polls["count"] == 3 and report.polls["converged"] is True
    assert polls == [1, 1]


def test_wait_gives_up_degraded_when_the_time_is_over(world):
    world.ctl.take_down(ACCOUNT, "Lisbon", "WAN1")
    res = world.cli("--wait", "3s", "--interval", "1s", "--format", "json", expect=2)
    report = json.loads(res.stdout)
    assert report["polls"]["count"] >= 2 and report["polls"]["converged"] is False
    assert 2.5 <= report["polls"]["waited_seconds"] < 30


# -- bad input ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--site", "Lisbn"], "--site 'Lisbn': no such site managed by the stack(s) (sites: Lisbon, Porto); did you mean Lisbon?"),
        (["--since", "yesterday"], "'yesterday' is not an ISO date/time"),
        (["--since", "2999-01-01T00:00:00Z"], "is in the future"),
        (["--wait", "five minutes"], "--wait 'five minutes' is not a duration"),
        (["--format", "pdf"], "Invalid value for '--format'"),
        (["--skip", "snapshot"], "Invalid value for '--skip'"),
    ],
)  # fmt: skip
def test_bad_input_is_a_clear_error_with_exit_code_1(world, args, message):
    res = world.cli(*args, expect=1)
    assert message in res.stderr, res.stderr


def test_no_stack_and_no_all_sites_is_an_error(world, tmp_path):
    res = world.cli("--cwd", str(tmp_path), state=False, expect=1)
    assert "pulumi" in res.stderr.lower() or "stack" in res.stderr.lower()


def test_all_sites_without_a_stack_needs_a_since_and_checks_every_site(world, tmp_path):
    res = world.cli("--all-sites", "--cwd", str(tmp_path), state=False, expect=1)
    assert "pass --since" in res.stderr
    since = (server_now(world.api) - timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    world.ctl.take_down(ACCOUNT, "Porto")
    res = world.cli("--all-sites", "--cwd", str(tmp_path), "--since", since, "--format", "json", state=False,
                    expect=2)  # fmt: skip
    report = json.loads(res.stdout)
    assert {s["name"] for s in report["sites"]} == {"Lisbon", "Porto"}
    f = kinds(report)[("site-disconnected", "Porto", None)]
    assert f["correlation"] is None  # no stack: nothing to correlate with


def test_a_window_older_than_cato_keeps_is_clamped_with_a_warning(world):
    since = (server_now(world.api) - timedelta(days=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    report = world.report("--since", since, expect=0)
    assert any("events feed keeps 7 days" in c for c in report["window"]["clamped"])
    assert any("time window clamped" in w for w in report["warnings"])
    assert report["window"]["events_start"] > since
    older = (server_now(world.api) - timedelta(days=120)).strftime("%Y-%m-%dT%H:%M:%SZ")
    report = world.report("--since", older, expect=0)
    assert any("Cato keeps about 90 days" in c for c in report["window"]["clamped"])
    assert report["window"]["baseline_start"] is None


# -- formats -------------------------------------------------------------------------------------------------------
def test_every_format_tells_the_same_story(world):
    world.ctl.take_down(ACCOUNT, "Lisbon", "WAN1")
    sentence = "after its WAN1 interface was updated by this stack's last update"
    table = world.cli(expect=2).stdout
    assert "degraded: 1 of 2 site(s) healthy" in table and sentence in table.replace("\n", " ").replace(
        "│", ""
    )
    md = world.cli("--format", "markdown", expect=2).stdout
    assert md.startswith("## ❌ Cato network health: degraded") and sentence in md
    assert "| Lisbon | ❌ degraded |" in md
    out = world.tmp / "health.html"
    world.cli("--format", "html", "-o", str(out), expect=2)
    html = out.read_text()
    assert html.startswith("<!doctype html>") and sentence.replace("'", "&#39;") in html
    assert "<script src" not in html and "<link" not in html and "http://" not in html.split("<script")[0]
    embedded = html.split('<script type="application/json" id="health-report">')[1].split("</script>")[0]
    jsonschema.validate(json.loads(embedded), schema())  # the whole report travels with the page


def test_the_schema_rejects_a_report_that_breaks_it(world):
    report = world.report(expect=0)
    broken = json.loads(json.dumps(report))
    broken["status"] = "fine"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema())
    broken = json.loads(json.dumps(report))
    broken["sites"][0]["links"][0]["baseline"] = {"buckets": -1}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema())
