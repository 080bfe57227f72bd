"""``catoiac drift`` on a large account: API calls per operation, wall time and peak memory.

The account is ``examples/fixtures/large.yaml`` (200 sites, 2,000 ranges, 200 static hosts, 1,500
firewall rules in 30 sections), served by the emulator in its own process with Cato's rate limits on,
so the client's pacing is part of the wall time and the emulator's work is not in the memory figure. The stack state is built from the account itself (one resource per
site, range, host and one per firewall policy owning all its sections), then drift is injected:

- in the UI as alice: 5 site descriptions changed, 3 ranges removed, 1 site added (unmanaged);
- as another integration's key: 5 range names changed;
- on the desired side: 2 firewall rules swapped and a section moved (what a reorder looks like).

Then the drift logic runs three times: cold (no audit cache), warm (the first run's cache, after one
more UI change), and cold again under tracemalloc for peak Python memory (tracing slows Python down,
so that run is not the timing). Each run reports API calls per operation as the client counted them
and as the emulator served them, wall time, drift's own CPU time (all its threads), the emulator
process's CPU time over the run, the machine's load average as it started (the wall time depends on
it: the machine is shared), time spent waiting on the API and on rate limits. Every run follows a
change to the account, so the emulator computes its answers afresh (its answer cache and the views it
derives from the state are keyed by the state's version): nothing is pre-warmed.

    .venv/bin/python bench/drift_large.py [--fixture examples/fixtures/large.yaml] [--json]
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from sites_support import REMOVE_RANGE, UPDATE_RANGE, UPDATE_SITE, site_input  # noqa: E402

from catoiac.client import CatoClient  # noqa: E402
from catoiac.config import ClientConfig  # noqa: E402
from catoiac.drift.run import DriftOptions, run_drift  # noqa: E402
from catoiac.drift.state import StackState, StateResource, Update  # noqa: E402
from catoiac.emulator.control import EmulatorControl  # noqa: E402
from catoiac.resources import Engine  # noqa: E402
from catoiac.resources.specs import SPECS  # noqa: E402
from catoiac.session import Session  # noqa: E402

ADD_SITE = """mutation($a: ID!, $i: AddSocketSiteInput!) { site(accountId: $a) { addSocketSite(input: $i) { siteId } } }"""


EMULATOR_PIDS: dict[str, int] = {}  # url -> the emulator process serving it (for its CPU time)


@contextlib.contextmanager
def emulator_process(fixture: dict[str, Any], tmp: Path):
    """The emulator in its own process (Cato's rate limits on), so its CPU time and memory are not
    counted as drift's."""
    seed = tmp / "fixture.yaml"
    seed.write_text(yaml.safe_dump(fixture, sort_keys=False))
    cmd = [sys.executable, "-c", "from catoiac.cli import main; main()", "emulator", "serve", "--port", "0",
           "--seed", str(seed)]  # fmt: skip
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
    try:
        url = None
        for line in proc.stderr:  # "Cato API emulator on http://127.0.0.1:PORT/api/v1/graphql2 ..."
            if line.startswith("export CATO_BASEURL="):
                url = line.split("=", 1)[1].strip()
                break
        if url is None:
            raise RuntimeError("the emulator did not start")
        threading.Thread(target=proc.stderr.read, daemon=True).start()  # keep its pipe drained
        EMULATOR_PIDS[url] = proc.pid
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system, all threads) a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load_fixture(path: Path) -> dict[str, Any]:
    if path.is_file():
        return yaml.safe_load(path.read_text())
    # The committed fixture is missing: build a comparable one with its generator.
    sys.path.insert(0, str(ROOT / "examples" / "fixtures"))
    from make_large import build

    return build()


def build_state(url: str, account: str, key: str) -> StackState:
    """A stack that manages every site, range, host and both firewall policies, as they are now."""
    with CatoClient(ClientConfig(api_key=key, account_id=account, base_url=url)) as client:
        session = Session(client)
        resources: list[StateResource] = []
        for name in ("SocketSite", "NetworkRange", "StaticHost"):
            spec = SPECS[name]
            engine = Engine(spec, lambda: session)
            for oid, obj in sorted(session.reader.get(spec.kind).items()):
                if name == "NetworkRange" and obj.get("range_type") == "Native":
                    continue
                inputs = engine.live_inputs(session, oid)
                resources.append(_resource(name, oid, inputs, {**inputs, "resource_id": oid}))
        for name in ("InternetFirewallPolicy", "WanFirewallPolicy"):
            spec = SPECS[name]
            sections = {s["name"]: s["id"] for s in session.reader.get(spec.kind).values() if s["id"]}
            rid = f"{spec.kind}:" + ",".join(sorted(sections))
            found = spec.read_live(session, rid, {"section_ids": sections})
            inputs, outputs = found
            resources.append(_resource(name, rid, Engine(spec, lambda: session).canonical(inputs), outputs))
    now = time.time()
    from datetime import UTC, datetime

    t = datetime.fromtimestamp(now, UTC)
    return StackState("large", resources, updates=[Update("update", "succeeded", t, t)])


def _resource(spec: str, rid: str, inputs: dict, outputs: dict) -> StateResource:
    return StateResource("large", f"urn:pulumi:large::bench::pulumi-python:dynamic/cato:{spec}::{spec}-{rid}", spec,
                         rid, copy.deepcopy(inputs), copy.deepcopy(outputs))  # fmt: skip


def inject(url: str, ctl: EmulatorControl, account: str, other_key: str, state: StackState) -> None:
    import httpx

    sites = [r for r in state.resources if r.spec_name == "SocketSite"]
    ranges = [r for r in state.resources if r.spec_name == "NetworkRange"]
    for r in sites[:5]:
        ctl.as_admin(
            account, "alice@example.com", UPDATE_SITE, {"a": account, "s": r.id, "i": {"description": "ui"}}
        )
    for r in ranges[:3]:
        ctl.as_admin(account, "alice@example.com", REMOVE_RANGE, {"a": account, "r": r.id})
    for r in ranges[10:15]:
        body = {
            "query": UPDATE_RANGE,
            "variables": {"a": account, "r": r.id, "i": {"name": r.inputs["name"] + "-x"}},
        }
        httpx.post(url, json=body, headers={"x-api-key": other_key}).raise_for_status()
    ctl.as_admin(
        account, "alice@example.com", ADD_SITE, {"a": account, "i": site_input("pop-up", "10.250.0.0/24")}
    )
    # A reorder, as the desired side sees it: swap two rules, move the last section first.
    policy = next(r for r in state.resources if r.spec_name == "InternetFirewallPolicy")
    secs = policy.inputs["sections"]
    secs[0]["rules"][0], secs[0]["rules"][1] = secs[0]["rules"][1], secs[0]["rules"][0]
    secs.insert(0, secs.pop())


def measure(
    label: str,
    state: StackState,
    url: str,
    account: str,
    key: str,
    cache: Path,
    ctl,
    *,
    memory: bool = False,
    emulator_pid: int | None = None,
) -> dict[str, Any]:
    """One drift run. With ``memory`` it runs under tracemalloc (2-3x slower, so not timed that way)."""
    ctl.reset_stats()
    opts = DriftOptions(cache_dir=str(cache))
    peak = None
    with CatoClient(ClientConfig(api_key=key, account_id=account, base_url=url)) as client:
        if memory:
            tracemalloc.start()
        load = os.getloadavg()[0]
        emulator_started = process_cpu(emulator_pid) if emulator_pid else None
        started, cpu_started = time.perf_counter(), time.process_time()
        report = run_drift(opts, [state], client=client)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        emulator_cpu = process_cpu(emulator_pid) - emulator_started if emulator_pid else None
        if memory:
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        stats = client.stats.to_dict()
    served = ctl.stats()
    return {
        "run": label,
        "wall_seconds": round(wall, 2),
        # drift's own CPU (all its threads; the emulator is another process): on a shared machine wall
        # time also counts waiting for a core, this does not.
        "cpu_seconds": round(cpu, 2),
        # The emulator's CPU while it answered this run (its own process): the other half of the wall.
        "emulator_cpu_seconds": round(emulator_cpu, 2) if emulator_cpu is not None else None,
        # The machine's 1-minute load average as the run started: the wall time depends on it.
        "load_1min": round(load, 2),
        "peak_memory_mib": round(peak / 2**20, 1) if peak is not None else None,
        "client_calls": {op: s["calls"] for op, s in stats.items()},
        "rate_limit_wait_seconds": round(sum(s["rate_limit_wait_seconds"] for s in stats.values()), 2),
        "api_latency_seconds": round(sum(s["total_latency"] for s in stats.values()), 2),
        "emulator_calls": dict(sorted(served.items())),
        "findings": report.summary(),
        "audit": report.audit_stats,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fixture", type=Path, default=ROOT / "examples" / "fixtures" / "large.yaml")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    fixture = load_fixture(args.fixture)
    acc = fixture["accounts"][0]
    account = str(acc["id"])
    key = next(k["key"] for k in acc["api_keys"] if k["id"] == "k-catoiac")
    other = next(k["key"] for k in acc["api_keys"] if k["id"] != "k-catoiac")
    out = []
    seed_started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp, emulator_process(fixture, Path(tmp)) as url:
        pid = EMULATOR_PIDS[url]
        ctl = EmulatorControl(url)
        seed_time = time.perf_counter() - seed_started
        state = build_state(url, account, key)
        inject(url, ctl, account, other, state)
        out.append(measure("cold", state, url, account, key, Path(tmp) / "cache", ctl, emulator_pid=pid))
        ctl.as_admin(account, "alice@example.com", UPDATE_SITE, {"a": account, "s": state.resources[0].id,
                                                                  "i": {"description": "ui again"}})  # fmt: skip
        out.append(
            measure("warm cache", state, url, account, key, Path(tmp) / "cache", ctl, emulator_pid=pid)
        )
        out.append(measure("memory (cold)", state, url, account, key, Path(tmp) / "cache2", ctl, memory=True))
    counts = {
        s: sum(1 for r in state.resources if r.spec_name == s)
        for s in sorted({r.spec_name for r in state.resources})
    }
    result = {
        "fixture": str(args.fixture),
        "seed_seconds": round(seed_time, 1),
        "resources": counts,
        "runs": out,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    console = Console(width=max(Console().width, 140))
    console.print(f"fixture {args.fixture.name}: seeded in {seed_time:.1f}s; stack resources {counts}")
    ops = sorted({op for r in out for op in (*r["client_calls"], *r["emulator_calls"])})
    t = Table(title="API calls per operation (client / emulator)", title_justify="left")
    t.add_column("operation")
    for r in out:
        t.add_column(r["run"], justify="right")
    for op in ops:
        t.add_row(op, *(f"{r['client_calls'].get(op, 0)} / {r['emulator_calls'].get(op, 0)}" for r in out))
    console.print(t)
    t = Table(title="Runs", title_justify="left")
    for col in (
        "run",
        "wall s",
        "CPU s",
        "emulator CPU s",
        "load",
        "API s",
        "rate-limit wait s",
        "peak MiB",
        "findings",
        "audit calls",
        "audit records",
    ):
        t.add_column(col, justify="right")
    for r in out:
        f = r["findings"]
        kinds = ", ".join(f"{n} {k}" for k, n in f["by_kind"].items() if n)
        t.add_row(r["run"], str(r["wall_seconds"]), str(r["cpu_seconds"]), str(r["emulator_cpu_seconds"] or "—"),
                  str(r["load_1min"]), str(r["api_latency_seconds"]), str(r["rate_limit_wait_seconds"]),
                  str(r["peak_memory_mib"] or "—"),
                  kinds, str(r["audit"].get("calls")), str(r["audit"].get("records_fetched")))  # fmt: skip
    console.print(t)


if __name__ == "__main__":
    main()
