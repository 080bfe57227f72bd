"""Kill `pulumi up` at chosen points and count what is left after Pulumi's own recovery.

Each run: a fresh emulator (SQLite file) and stack, an `up` of the crash program (2 sites, 2
ranges, 2 hosts, both firewall policies: tests/crash_support.py) killed with SIGKILL at the
scenario's point, then `pulumi cancel`, pending operations dropped through `stack export` /
`stack import`, one `up` and `pulumi preview --expect-no-changes`. Prints, per scenario: runs,
converged (recovering `up` and preview both exit 0), orphans, duplicates and open revisions (summed
over the runs, from the emulator's database and the stack export), and the slowest exit of the
killed run's plugin processes.

    PATH=$(ls -d ~/.cache/catoiac/pulumi/*/bin | head -1):$PATH \\
      .venv/bin/python bench/crash_recovery.py [--runs 2] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from crash_support import Crash, Database, count, crash, recover, workspace  # noqa: E402
from policy_support import fixture  # noqa: E402
from pulumi_helpers import PulumiWorkspace, allow_interrupts, compile_project  # noqa: E402

from catoiac.emulator.control import EmulatorControl  # noqa: E402
from catoiac.emulator.limits import RateLimitConfig  # noqa: E402
from catoiac.emulator.server import EmulatorServer  # noqa: E402

SCENARIOS = [
    Crash("pulumi", after=1),
    Crash("pulumi", after=3),
    Crash("pulumi", after=10),
    Crash("pulumi", during="publishPolicyRevision"),
    Crash("pulumi", during="addSocketSite"),
    Crash("provider", during="addRule"),
    Crash("provider", during="addSocketSite"),
]


def run_once(how: Crash, root: Path) -> dict:
    with EmulatorServer(
        str(root / "cato.db"), seed=fixture(), rate_limits=RateLimitConfig(enabled=False)
    ) as emu:
        ctl = EmulatorControl(emu.base_url)
        ws = workspace(PulumiWorkspace(root=root / "ws"), emu)
        db = Database(str(root / "cato.db"))
        baseline = set(db.objects())
        outcome = crash(ws, ctl, how)
        published_after = ctl.stats().get("publishPolicyRevision", 0) - outcome.calls_at_kill.get(
            "publishPolicyRevision", 0
        )
        pending = recover(ws)
        up = ws.run("up", "--yes", "--skip-preview", check=False)
        preview = ws.run("preview", "--expect-no-changes", check=False)
        found = count(db, baseline, ws)
        ctl.close()
    return {
        "converged": up.returncode == 0 and preview.returncode == 0,
        "orphans": len(found.orphans),
        "duplicates": len(found.duplicates),
        "open_revisions": found.open_revisions,
        "exit_seconds": outcome.exit_seconds,
        "pending_operations": pending,
        "published_for_dead_engine": published_after if how.target == "pulumi" else 0,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=1, help="runs per scenario")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    compile_project()  # as the suite does: no process compiles the project again
    allow_interrupts()  # and no pulumi command waits 5 s for each plugin to exit
    rows = []
    started = time.monotonic()
    for how in SCENARIOS:
        results = []
        for _ in range(args.runs):
            with tempfile.TemporaryDirectory(prefix="catoiac-crash-") as tmp:
                results.append(run_once(how, Path(tmp)))
        exits = [r["exit_seconds"] for r in results]
        rows.append(
            {
                "scenario": how.name,
                "runs": len(results),
                "converged": sum(r["converged"] for r in results),
                "orphans": sum(r["orphans"] for r in results),
                "duplicates": sum(r["duplicates"] for r in results),
                "open_revisions": sum(r["open_revisions"] for r in results),
                "published_for_dead_engine": sum(r["published_for_dead_engine"] for r in results),
                "slowest_exit_s": None if None in exits else round(max(exits), 2),
            }
        )
    if args.json:
        print(json.dumps({"rows": rows, "wall_s": round(time.monotonic() - started, 1)}, indent=1))
        return
    table = Table(
        title=f"killed `pulumi up`, then Pulumi's recovery and one `up` ({time.monotonic() - started:.0f}s)"
    )
    for col in rows[0]:
        table.add_column(col.replace("_", " "))
    for row in rows:
        table.add_row(*("never" if v is None else str(v) for v in row.values()))
    Console().print(table)


if __name__ == "__main__":
    main()
