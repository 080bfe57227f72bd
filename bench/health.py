"""``catoiac health`` on a large account: API calls per query family, and wall time.

The account is ``examples/fixtures/large.yaml`` (200 sites), served by the emulator in its own
process with Cato's rate limits on. The emulator clock moves on an hour after seeding, so every link
has a baseline; the stack state manages every site and every site's first WAN port, and its last update
changed that port of ten sites a minute ago. Then the network degrades: three such links down,
one site down, packet loss on two links, 500 security events and two stories (warnings).

Runs: the same check over 10 sites and over all 200 (calls must not grow with the sites), and a
``--wait`` over 200 sites in which the faults are repaired after the second poll (calls per poll).

    .venv/bin/python bench/health.py [--fixture examples/fixtures/large.yaml] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from drift_large import emulator_process, load_fixture  # noqa: E402

from catoiac import ports  # noqa: E402
from catoiac.client import CatoClient  # noqa: E402
from catoiac.config import ClientConfig  # noqa: E402
from catoiac.drift.state import StackState, StateResource, Update  # noqa: E402
from catoiac.emulator.control import EmulatorControl  # noqa: E402
from catoiac.health.run import HealthOptions, run_health  # noqa: E402

SITES_QUERY = (
    "query($a: ID!) { accountSnapshot(accountID: $a) { timestamp sites { id info { name connType } } } }"
)
TYPE = "pulumi-python:dynamic/cato:"


def live_sites(url: str, account: str, key: str) -> tuple[datetime, dict[str, str]]:
    body = httpx.post(url, json={"query": SITES_QUERY, "variables": {"a": account}},
                      headers={"x-api-key": key}, timeout=60).json()["data"]["accountSnapshot"]  # fmt: skip
    now = datetime.fromisoformat(body["timestamp"].replace("Z", "+00:00"))
    WAN.update({s["info"]["name"]: wan_links(s["info"]["connType"]) for s in body["sites"]})
    return now, {s["info"]["name"]: s["id"] for s in body["sites"]}


WAN: dict[str, list[str]] = {}  # site name -> its WAN link ports, the first one first (the port model)


def wan_links(connection_type: str) -> list[str]:
    return [p.id for p in ports.model(connection_type).ports if p.default_dest == "CATO" and not p.modem]


def state(now: datetime, sites: dict[str, str], changed: set[str]) -> StackState:
    """A stack managing each site and its first WAN port; its last update changed ``changed``'s ports."""
    day_ago, update = now - timedelta(days=1), now - timedelta(seconds=60)
    resources = []
    for name, sid in sites.items():
        resources.append(StateResource("large", f"urn:pulumi:large::bench::{TYPE}SocketSite::{name}", "SocketSite",
                                       sid, {"name": name}, created=day_ago, modified=day_ago))  # fmt: skip
        modified = update + timedelta(seconds=2) if name in changed else day_ago
        resources.append(StateResource("large", f"urn:pulumi:large::bench::{TYPE}SocketInterface::{name}-wan1",
                                       "SocketInterface", f"{sid}:{WAN[name][0]}",
                                       {"site_id": sid, "interface_id": WAN[name][0], "dest_type": "CATO"},
                                       created=day_ago, modified=modified))  # fmt: skip
    history = [Update("update", "succeeded", day_ago, day_ago + timedelta(seconds=30)),
               Update("update", "succeeded", update, update + timedelta(seconds=10))]  # fmt: skip
    return StackState("large", resources, updates=history)


def degrade(ctl: EmulatorControl, account: str, names: list[str]) -> list[str]:
    conds = [ctl.take_down(account, n, WAN[n][0])["id"] for n in names[:3]]
    conds.append(ctl.take_down(account, names[3])["id"])
    conds += [ctl.impair(account, n, WAN[n][-1], loss_pct=8)["id"] for n in names[4:6]]
    for i in range(500):
        ctl.inject_event(account, event_type="Security", event_sub_type="Internet Firewall", site=names[i % 50],
                         action="Block", rule_id=str(900 + i % 7))  # fmt: skip
    ctl.inject_story(account, site=names[6], criticality=8, status="Closed")  # found and closed already
    ctl.inject_story(account, site=names[7], criticality=4)
    return conds


def measure(label: str, url: str, base: str, account: str, key: str, stack: StackState, cache: Path,
            **opts: Any) -> dict[str, Any]:  # fmt: skip
    ctl = EmulatorControl(base)
    ctl.reset_stats()
    repair: list[str] = opts.pop("repair", [])
    polls: list[float] = []

    def sleep(seconds: float) -> None:
        polls.append(seconds)
        if len(polls) == 2:
            for c in repair:
                ctl.restore(account, c)
            ctl.advance_clock(360)  # the recent window (5 min) no longer holds the loss
        time.sleep(seconds)

    client = CatoClient(ClientConfig(api_key=key, account_id=account, base_url=url))
    started = time.perf_counter()
    report = run_health(HealthOptions(cache_dir=str(cache), **opts), [stack], client=client, sleep=sleep)
    wall = time.perf_counter() - started
    stats = client.stats.totals()
    latency = {client.documents.get(op).root_field: round(v["total_latency"], 2)
               for op, v in client.stats.to_dict().items()}  # fmt: skip
    client.close()
    return {
        "run": label,
        "sites": len(report.sites),
        "status": report.status,
        "polls": report.polls["count"],
        "degraded_findings": report.summary()["degraded_findings"],
        "warnings": report.summary()["warnings"],
        "client_calls": report.api_calls,
        "emulator_calls": ctl.stats(),
        "wall_seconds": round(wall, 2),
        "api_seconds": latency,
        "rate_limit_wait_seconds": round(stats.rate_limit_wait_seconds, 2),
        "example": next((f.text for f in report.findings if f.correlation), None),
    }


def per_operation(title: str, runs: list[dict[str, Any]], key: str) -> Table:
    t = Table(title=title, title_justify="left")
    t.add_column("operation")
    for r in runs:
        t.add_column(r["run"], justify="right")
    for op in sorted({op for r in runs for op in r[key]}):
        t.add_row(op, *(str(r[key].get(op, 0)) for r in runs))
    return t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fixture", type=Path, default=ROOT / "examples/fixtures/large.yaml")
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    args = ap.parse_args()
    fixture = load_fixture(args.fixture)
    account = str(fixture["accounts"][0]["id"])
    key = fixture["accounts"][0]["api_keys"][0]["key"]
    with tempfile.TemporaryDirectory() as tmp, emulator_process(fixture, Path(tmp)) as url:
        base = url.split("/api/")[0]
        ctl = EmulatorControl(base)
        ctl.advance_clock(3600)  # an hour of history: every link has a baseline
        now, sites = live_sites(url, account, key)
        names = sorted(sites)
        full = state(now, sites, set(names[:10]))
        small = state(now, {n: sites[n] for n in names[:10]}, set(names[:10]))
        conds = degrade(ctl, account, names)
        cache = Path(tmp) / "cache"
        runs = [
            measure("10 sites", url, base, account, key, small, cache / "a"),
            measure("200 sites", url, base, account, key, full, cache / "b"),
            measure(
                "200 sites, --wait",
                url,
                base,
                account,
                key,
                full,
                cache / "c",
                wait=120,
                interval=1,
                repair=conds,
            ),  # fmt: skip
        ]
    if args.json:
        print(json.dumps(runs, indent=2))
        return
    console = Console()
    console.print(per_operation("API calls per operation (client)", runs, "client_calls"))
    console.print(per_operation("Seconds waiting on each operation (the emulator's work, mostly)", runs,
                                "api_seconds"))  # fmt: skip
    t = Table(title="Runs", title_justify="left")
    for col in ("run", "sites", "status", "polls", "degraded", "warnings", "wall s", "rate-limit wait s"):
        t.add_column(col, justify="right")
    for r in runs:
        t.add_row(r["run"], str(r["sites"]), r["status"], str(r["polls"]), str(r["degraded_findings"]),
                  str(r["warnings"]), str(r["wall_seconds"]), str(r["rate_limit_wait_seconds"]))  # fmt: skip
    console.print(t)
    console.print(f"e.g. {runs[1]['example']}")
    console.print(f"emulator-side calls, 200 sites: {runs[1]['emulator_calls']}")
    console.print(f"at {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")


if __name__ == "__main__":
    main()
