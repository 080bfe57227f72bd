"""Where a ``pulumi`` command's CPU goes: the CLI, the language host's ``pip list``, the program and
the dynamic provider, per command.

Every ``pulumi preview``/``up``/``refresh``/``destroy`` starts the CLI (Go), a Python language host
that runs ``python -m pip list`` to find plugins, the program (``__main__.py``) and one dynamic-provider
process. For a small stack these fixed costs are most of the command (and of the test suite, which
runs hundreds of such commands); for a large one the per-resource work of the program (the Pulumi SDK)
and of the provider (check and diff) take over. This bench runs ``pulumi preview --expect-no-changes``
``--runs`` times on a stack of ``--sites`` sites with ``--ranges`` LAN ranges each, and samples
``/proc`` every 20 ms for the CPU (user+sys) of each process the command started, so a plugin the
CLI kills at exit without waiting for it is still counted. It prints the median per part.

    PATH=$(ls -d ~/.cache/catoiac/pulumi/*/bin | head -1):$PATH \\
      .venv/bin/python bench/pulumi_overhead.py [--sites 1] [--ranges 1] [--rules 0] [--runs 5] [--json]

``--sites 50 --ranges 10`` is the 550-resource stack of ``bench/provider_policy.py`` without its policy;
add ``--rules 500`` for that bench's whole stack, with its 500-rule internet-firewall policy.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from provider_policy import PROGRAM as POLICY_PROGRAM  # noqa: E402  (bench/, this script's folder, is on sys.path)
from provider_policy import desired, fixture  # noqa: E402
from pulumi_helpers import PulumiWorkspace, allow_interrupts, compile_project, pulumi_executable  # noqa: E402

from catoiac.emulator.limits import RateLimitConfig  # noqa: E402
from catoiac.emulator.server import EmulatorServer  # noqa: E402

PROGRAM = """
import json
import pulumi_cato as cato

for s in json.load(open("bench.json")):
    site = cato.SocketSite(s["name"], name=s["name"], native_range=s["native"],
                           location={"country_code": "US", "timezone": "America/New_York"})
    for r in s["ranges"]:
        cato.NetworkRange(f"{s['name']}/{r['name']}", site_id=site.id, name=r["name"], subnet=r["subnet"])
"""
PARTS = ("cli", "pip list", "program", "provider", "other")
TICK = os.sysconf("SC_CLK_TCK")


def _part(cmdline: str) -> str:
    if "language-python-exec" in cmdline:
        return "program"
    if "pulumi.dynamic" in cmdline:
        return "provider"
    if "pip" in cmdline and "list" in cmdline:
        return "pip list"
    first = cmdline.split(" ", 1)[0]
    return "cli" if first.endswith("/pulumi") or first == "pulumi" else "other"


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = collections.defaultdict(list)
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            children[int(stat.rsplit(")", 1)[1].split()[1])].append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo += children.get(pid, [])
    return out


def sampled(cmd: list[str], *, cwd: Path, env: dict[str, str]) -> tuple[float, dict[str, float], int]:
    """Run ``cmd``; return its wall time, the CPU per part (last sample of each process) and its exit code."""
    seen: dict[int, tuple[str, float]] = {}
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while proc.poll() is None:
        for pid in _descendants(proc.pid):
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                cmdline = seen[pid][0] if pid in seen else Path(f"/proc/{pid}/cmdline").read_text()
            except OSError:
                continue
            seen[pid] = (cmdline.replace("\0", " "), (int(fields[11]) + int(fields[12])) / TICK)
        time.sleep(0.02)
    wall = time.perf_counter() - started
    cpu = dict.fromkeys(PARTS, 0.0)
    for cmdline, seconds in seen.values():
        cpu[_part(cmdline)] += seconds
    return wall, cpu, proc.returncode


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sites", type=int, default=1)
    ap.add_argument("--ranges", type=int, default=1, help="LAN ranges per site")
    ap.add_argument("--rules", type=int, default=0, help="rules of an internet-firewall policy (0: none)")
    ap.add_argument("--sections", type=int, default=10)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    compile_project()  # as the suite does: no process compiles the project again
    allow_interrupts()  # and no pulumi command waits 5 s for each plugin to exit

    if args.rules:  # provider_policy's whole stack: the sites, and the policy whose rules name them
        program, bench = POLICY_PROGRAM, desired(args.rules, args.sections, args.sites, args.ranges)
    else:
        program, bench = PROGRAM, desired(0, 1, args.sites, args.ranges)["sites"]
    runs: list[tuple[float, dict[str, float], float]] = []
    with (
        tempfile.TemporaryDirectory() as tmp,
        EmulatorServer(seed=fixture(), rate_limits=RateLimitConfig(enabled=False)) as emu,
    ):
        ws = PulumiWorkspace(root=Path(tmp), project_name="bench-overhead")
        ws.env_extra["CATOIAC_RATE_LIMIT_SCALE"] = "0.001"
        ws.write_project(program, files={"bench.json": json.dumps(bench)})
        ws.use_emulator(emu)
        ws.run("up", "--yes", "--skip-preview", timeout=3600)
        cmd = [pulumi_executable(), "preview", "--expect-no-changes", "--non-interactive", "--color=never"]
        for _ in range(args.runs):
            load = os.getloadavg()[0]
            wall, cpu, code = sampled(cmd, cwd=ws.project_dir, env=ws.env)
            if code != 0:
                raise SystemExit(f"pulumi preview exited {code}: the stack is not clean")
            runs.append((wall, cpu, load))

    resources = args.sites * (1 + args.ranges) + (1 if args.rules else 0)
    median = {
        "wall_s": round(statistics.median(r[0] for r in runs), 2),
        **{f"{p}_cpu_s": round(statistics.median(r[1][p] for r in runs), 2) for p in PARTS},
        "total_cpu_s": round(statistics.median(sum(r[1].values()) for r in runs), 2),
        "load": round(statistics.median(r[2] for r in runs), 1),
    }
    if args.json:
        print(json.dumps({"resources": resources, "runs": args.runs, "median": median}, indent=2))
        return
    table = Table(
        title=f"pulumi preview --expect-no-changes, {resources} resources: median of {args.runs} runs"
    )
    for col in ("wall s", *(f"{p} CPU s" for p in PARTS), "total CPU s", "load"):
        table.add_column(col)
    table.add_row(*(str(v) for v in median.values()))
    Console(width=160).print(table)


if __name__ == "__main__":
    main()
