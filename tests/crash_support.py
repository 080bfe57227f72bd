"""Killing a real `pulumi up` against the emulator, recovering as Pulumi says, and counting what is
left: shared by tests/test_crash_e2e.py and bench/crash_recovery.py.

Counts come from the emulator's SQLite database (what Cato holds) and `pulumi stack export` (what
the stack holds); nothing is asked of the code under test.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emu_helpers import ACCOUNT
from pulumi_helpers import PulumiWorkspace, pulumi_executable

from catoiac.emulator.control import EmulatorControl

PROGRAM = """
import pulumi
import pulumi_cato as cato

sites = {}
for key, name, net in (("lisbon", "Lisbon", "10.40"), ("porto", "Porto", "10.41")):
    site = cato.SocketSite(key, name=name, native_range=f"{net}.0.0/24",
                           location={"country_code": "PT", "timezone": "Europe/Lisbon"})
    cato.NetworkRange(f"{key}-cameras", site_id=site.id, name="Cameras", subnet=f"{net}.9.0/24")
    cato.StaticHost(f"{key}-printer", site_id=site.id, name="printer", ip=f"{net}.0.10")
    sites[key] = site
branches = [sites["lisbon"].name, sites["porto"].name]
cato.InternetFirewallPolicy("ifw", sections=[
    {"name": "Branches", "rules": [
        {"name": "Branches: block social", "source": {"site": branches},
         "destination": {"application": [{"id": "facebook"}]}},
        {"name": "Branches: allow box", "action": "ALLOW", "source": {"site": branches},
         "destination": {"application": [{"id": "box"}]}},
    ]},
    {"name": "Branch guests", "rules": [
        {"name": "Guests: web only", "action": "ALLOW", "source": {"subnet": ["10.40.50.0/24"]},
         "service": {"standard": ["HTTP", "HTTPS"]}},
    ]},
])
cato.WanFirewallPolicy("wan", sections=[
    {"name": "Branches WAN", "rules": [
        {"name": "Branches to HQ", "action": "ALLOW", "source": {"site": branches},
         "destination": {"site": ["HQ"]}, "service": {"standard": ["HTTPS"]}},
    ]},
])
"""
PROGRAM_OBJECTS = {"site": 2, "siteRange": 2, "host": 2, "section": 3, "rule": 4}
OBJECT_KINDS = ("site", "siteRange", "host", "bgpPeer", "group")  # what a program creates
POLICIES = ("internetFirewall", "wanFirewall")


def workspace(ws: PulumiWorkspace, emu) -> PulumiWorkspace:
    ws.env_extra["CATOIAC_RATE_LIMIT_SCALE"] = "0.001"
    ws.write_project(PROGRAM)
    ws.use_emulator(emu)
    return ws


# -- what Cato holds (the emulator's database) ----------------------------------------------------
class Database:
    def __init__(self, path: str) -> None:
        self.path = path

    def _rows(self, sql: str, *args: Any) -> list[sqlite3.Row]:
        con = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
        con.row_factory = sqlite3.Row
        try:
            return con.execute(sql, args).fetchall()
        finally:
            con.close()

    def objects(self) -> dict[tuple[str, str], tuple[str | None, str]]:
        """(kind, id) -> (parent, name) of everything a program can create, sections and rules of
        the published policies included."""
        out: dict[tuple[str, str], tuple[str | None, str]] = {}
        marks = ",".join("?" * len(OBJECT_KINDS))
        for r in self._rows(
            f"SELECT kind, id, parent_id, name, data FROM entities WHERE account_id=? AND kind IN ({marks})",
            ACCOUNT,
            *OBJECT_KINDS,
        ):
            if r["kind"] == "siteRange" and json.loads(r["data"]).get("rangeType") == "Native":
                continue  # comes with its site
            out[(r["kind"], r["id"])] = (r["parent_id"], r["name"])
        for r in self._rows("SELECT id, data FROM entities WHERE account_id=? AND kind='fwPolicy'", ACCOUNT):
            state = json.loads(r["data"])["state"]
            for sid, rules in state["layout"]:
                if sid:
                    out[("section", sid)] = (r["id"], state["sections"][sid])
                for rid in rules:
                    out[("rule", rid)] = (r["id"], state["names"][rid])
        return out

    def open_revisions(self) -> int:
        return len(self._rows("SELECT id FROM entities WHERE account_id=? AND kind='fwRevision'", ACCOUNT))


# -- what the stack holds ---------------------------------------------------------------------
def state_ids(ws: PulumiWorkspace) -> set[str]:
    ids: set[str] = set()
    for res in ws.resources():
        if res.get("id"):
            ids.add(str(res["id"]))
        outs = res.get("outputs") or {}
        for key in ("section_ids", "rule_ids"):
            ids |= {str(v) for v in (outs.get(key) or {}).values()}
    return ids


@dataclass
class Counts:
    orphans: list[tuple[str, str]]
    duplicates: list[tuple[str, str | None, str]]
    open_revisions: int
    made: Counter = field(default_factory=Counter)  # the program's objects in Cato, by kind

    @property
    def clean(self) -> bool:
        return not self.orphans and not self.duplicates and not self.open_revisions


def count(db: Database, baseline: set[tuple[str, str]], ws: PulumiWorkspace) -> Counts:
    now = db.objects()
    new = {k: v for k, v in now.items() if k not in baseline}
    held = state_ids(ws)
    orphans = sorted(k for k in new if k[1] not in held)
    names = Counter((kind, parent, name) for (kind, _), (parent, name) in now.items())
    duplicates = sorted(k for k, n in names.items() if n > 1)
    return Counts(orphans, duplicates, db.open_revisions(), Counter(kind for kind, _ in new))


# -- processes --------------------------------------------------------------------------------
def _ppid(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")  # a zombie has exited


def descendants(root: int) -> dict[int, str]:
    """pid -> command line of every process under ``root``."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            parent = _ppid(int(entry.name))
            if parent is not None:
                children.setdefault(parent, []).append(int(entry.name))
    out, todo = {}, [root]
    while todo:
        for child in children.get(todo.pop(), []):
            try:
                out[child] = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            todo.append(child)
    return out


def wait_gone(pids: list[int], timeout: float) -> float | None:
    """Seconds until every pid exited, or None if some outlived ``timeout``."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if not any(alive(p) for p in pids):
            return time.monotonic() - start
        time.sleep(0.05)
    return None


# -- one crash --------------------------------------------------------------------------------
@dataclass
class Crash:
    """Kill ``target`` ("pulumi" or "provider") once ``after`` API calls were made, or once
    ``during`` (an operation the emulator holds ``latency`` seconds) is in flight."""

    target: str = "pulumi"
    after: int | None = None
    during: str | None = None
    latency: float = 2.0
    refresh: bool = False  # also check the live objects with `preview --refresh`

    @property
    def name(self) -> str:
        when = f"after {self.after} calls" if self.after is not None else f"during {self.during}"
        return f"kill {self.target} {when}"


@dataclass
class Outcome:
    calls_at_kill: dict[str, int]
    plugins: dict[int, str]  # the killed run's plugin processes
    exit_seconds: float | None  # until the last of them exited
    up_returncode: int | None = None


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def crash(ws: PulumiWorkspace, ctl: EmulatorControl, how: Crash, *, exit_timeout: float = 30) -> Outcome:
    ctl.reset_stats()
    if how.during:
        ctl.add_fault("latency", operation=how.during, delay=how.latency)
    log = open(ws.root / "killed-up.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [pulumi_executable(), "up", "--yes", "--skip-preview", "--non-interactive", "--color=never"],
        cwd=ws.project_dir,
        env=ws.env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            stats = ctl.stats()
            due = stats.get(how.during, 0) > 0 if how.during else sum(stats.values()) >= (how.after or 0)
            if due:
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"{how.name}: the up ended (or hung) before the kill point: {stats}")
            time.sleep(0.01)
        plugins = descendants(proc.pid)
        if how.target == "pulumi":
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            # What had reached the emulator when the engine died: the poll above is older (a publish
            # of the other policy may have been sent since), and later calls are the provider's own.
            stats = ctl.stats()
        else:
            provider = [
                p for p, cmd in plugins.items() if "pulumi.dynamic" in cmd and "python" in cmd.split()[0]
            ]
            assert provider, f"no provider process among {plugins}"
            for pid in provider:
                os.kill(pid, signal.SIGKILL)
            proc.wait(timeout=120)  # the CLI fails the resources and ends on its own
        took = wait_gone(list(plugins), exit_timeout)
        return Outcome(stats, plugins, took, proc.returncode)
    finally:
        _stop(proc)
        log.close()
        ctl.clear_faults()


def recover(ws: PulumiWorkspace) -> int:
    """Pulumi's own recovery: `pulumi cancel`, then drop the pending operations through
    `stack export` / `stack import`. Returns how many pending operations there were."""
    ws.run("cancel", "--yes", "--stack", ws.stack, check=False)  # no lock left: nothing to cancel
    exported = json.loads(ws.run("stack", "export", "--stack", ws.stack).stdout)
    pending = exported["deployment"].pop("pending_operations", None) or []
    path = ws.root / "recovered.json"
    path.write_text(json.dumps(exported))
    ws.run("stack", "import", "--file", str(path), "--stack", ws.stack)
    return len(pending)
