"""A 500-rule internet firewall policy (10 sections) through the real pulumi CLI against the emulator.

Runs ``pulumi up`` (create), ``pulumi preview --expect-no-changes``, ``pulumi preview --refresh``,
an ``up`` that changes a few rules and moves two, and ``pulumi destroy``; prints, for each, the wall
time and the API calls the emulator served per operation (publishes per up included). With
``--sites 50 --ranges 10`` the same stack also has 50 sites with 10 LAN ranges each (500 ranges),
which the rules refer to by name.

    PATH=$(ls -d ~/.cache/catoiac/pulumi/*/bin | head -1):$PATH \\
      .venv/bin/python bench/provider_policy.py [--rules 500] [--sections 10] [--sites 0] [--ranges 10] [--json]
      [--previews-only]

Each step's CPU s is the user+sys time of the pulumi CLI and the processes it waited for (language
host, program, dynamic providers); the emulator's own CPU is apart, as is the 1-minute load. A plugin
the CLI kills at exit without waiting for it is not counted: a dynamic-provider process's few seconds
can be missing from a step (compare steps only over several runs, or sample /proc per process).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from emu_helpers import ACCOUNT, KEY, base_fixture  # noqa: E402
from pulumi_helpers import PulumiWorkspace, allow_interrupts, compile_project  # noqa: E402

from catoiac.emulator.control import EmulatorControl  # noqa: E402
from catoiac.emulator.limits import RateLimitConfig  # noqa: E402
from catoiac.emulator.server import EmulatorServer  # noqa: E402

PROGRAM = """
import json
import pulumi
import pulumi_cato as cato

d = json.load(open("bench.json"))
sites = []
for s in d["sites"]:
    site = cato.SocketSite(s["name"], name=s["name"], native_range=s["native"],
                           location={"country_code": "US", "timezone": "America/New_York"})
    sites.append(site)
    for r in s["ranges"]:
        cato.NetworkRange(f"{s['name']}/{r['name']}", site_id=site.id, name=r["name"], subnet=r["subnet"])
ifw = cato.InternetFirewallPolicy("ifw", sections=d["sections"], opts=pulumi.ResourceOptions(depends_on=sites))
pulumi.export("ifw", ifw.id)
"""
APPS = ["facebook", "box", "dropbox", "chatgpt", "anydesk", "amazonwebservices"]


def desired(rules: int, sections: int, sites: int, ranges: int) -> dict:
    site_list = [
        {
            "name": f"Site {i:02d}",
            "native": f"10.{100 + i}.0.0/24",
            "ranges": [
                {"name": f"LAN {k:02d}", "subnet": f"10.{100 + i}.{k + 1}.0/24"} for k in range(ranges)
            ],
        }
        for i in range(sites)
    ]
    per = rules // sections
    out = []
    for s in range(sections):
        body = []
        for k in range(per):
            n = s * per + k
            rule: dict = {
                "name": f"Rule {n:04d}",
                "action": ["BLOCK", "ALLOW", "PROMPT"][n % 3],
                "destination": {
                    "application": [{"id": APPS[n % len(APPS)]}],
                    "fqdn": [f"host{n}.example.com"],
                },
                "source": {"subnet": [f"172.{16 + n % 16}.{n % 256}.0/24"]},
                "tracking": {"event": {"enabled": n % 2 == 0}},
            }
            if site_list:
                rule["source"]["site"] = [site_list[n % len(site_list)]["name"]]
            body.append(rule)
        out.append({"name": f"Section {s:02d}", "rules": body})
    return {"sites": site_list, "sections": out}


def fixture() -> dict:
    """The emulator's base account, with a section of someone else's above the bench's own."""
    fx = base_fixture()
    fx["accounts"][0]["policies"] = {
        "internet_firewall": {
            "sections": [{"name": "Baseline", "rules": [{"name": "Block P2P", "enabled": True}]}]
        }
    }
    return fx


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rules", type=int, default=500)
    ap.add_argument("--sections", type=int, default=10)
    ap.add_argument("--sites", type=int, default=0)
    ap.add_argument("--ranges", type=int, default=10, help="LAN ranges per site")
    ap.add_argument("--json", action="store_true")
    ap.add_argument(
        "--previews-only",
        action="store_true",
        help="stop after the two previews (skip the changing up and the destroy)",
    )
    args = ap.parse_args()
    compile_project()  # as the suite does: no process compiles the project again
    allow_interrupts()  # and no pulumi command waits 5 s for each plugin to exit

    fx = fixture()
    rows: list[dict] = []
    with (
        tempfile.TemporaryDirectory() as tmp,
        EmulatorServer(seed=fx, rate_limits=RateLimitConfig(enabled=False)) as emu,
    ):
        ctl = EmulatorControl(emu.base_url)
        ws = PulumiWorkspace(root=Path(tmp), project_name="bench-policy")
        ws.env_extra["CATOIAC_RATE_LIMIT_SCALE"] = "0.001"
        ws.write_project(PROGRAM)
        ws.init_stack()
        for key, value in (("cato:accountId", ACCOUNT), ("cato:endpoint", emu.url)):
            ws.run("config", "set", key, value)
        ws.run("config", "set", "--secret", "cato:apiKey", KEY)
        spec = desired(args.rules, args.sections, args.sites, args.ranges)
        bench_file = ws.project_dir / "bench.json"
        bench_file.write_text(json.dumps(spec))

        def cpu_children() -> float:
            ru = resource.getrusage(resource.RUSAGE_CHILDREN)
            return ru.ru_utime + ru.ru_stime

        def step(label: str, *cmd: str) -> None:
            ctl.reset_stats()
            started, cli0, emu0 = time.perf_counter(), cpu_children(), time.process_time()
            ws.run(*cmd, timeout=3600)
            wall = time.perf_counter() - started
            # CPU (user+sys) of the pulumi CLI and every process it waited for (language host,
            # program, dynamic providers), and of this process (the in-process emulator): a busy,
            # shared machine inflates these far less than wall time.
            cli_cpu, emu_cpu = cpu_children() - cli0, time.process_time() - emu0
            calls = ctl.stats()
            rows.append(
                {
                    "step": label,
                    "wall_s": round(wall, 1),
                    "cpu_s": round(cli_cpu, 1),
                    "emulator_cpu_s": round(emu_cpu, 1),
                    "load": round(os.getloadavg()[0], 1),
                    "calls": sum(calls.values()),
                    "by_operation": calls,
                }
            )

        step("up (create)", "up", "--yes", "--skip-preview")
        step("preview (no change)", "preview", "--expect-no-changes")
        step("preview --refresh", "preview", "--refresh", "--expect-no-changes")
        if not args.previews_only:
            sections = spec["sections"]
            for s in sections[:5]:
                s["rules"][0]["description"] = "changed"
            sections[0]["rules"].insert(0, sections[0]["rules"].pop(-1))
            sections[3]["rules"].append(sections[2]["rules"].pop(5))
            bench_file.write_text(json.dumps(spec))
            step("up (5 changed, 2 moved)", "up", "--yes", "--skip-preview")
            step("destroy", "destroy", "--yes", "--skip-preview")
        ctl.close()

    if args.json:
        print(
            json.dumps(
                {"rules": args.rules, "sections": args.sections, "sites": args.sites, "steps": rows}, indent=2
            )
        )
        return
    console = Console(width=200)
    title = f"{args.rules} rules in {args.sections} sections"
    if args.sites:
        title += f", {args.sites} sites, {args.sites * args.ranges} ranges"
    table = Table(title=title)
    for col in (
        "step",
        "wall s",
        "CPU s",
        "emulator CPU s",
        "load",
        "API calls",
        "publishes",
        "by operation",
    ):
        table.add_column(col)
    for r in rows:
        ops = ", ".join(f"{k} {v}" for k, v in sorted(r["by_operation"].items(), key=lambda kv: -kv[1]))
        publishes = r["by_operation"].get("publishPolicyRevision", 0)
        table.add_row(
            r["step"],
            f"{r['wall_s']}",
            f"{r['cpu_s']}",
            f"{r['emulator_cpu_s']}",
            f"{r['load']}",
            str(r["calls"]),
            str(publishes),
            ops or "-",
        )
    console.print(table)


if __name__ == "__main__":
    main()
