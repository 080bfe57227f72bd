"""``catoiac import`` on a large account: API calls per operation, wall time and peak memory of the
import, then (``--up``) the issue's round trip on the project it wrote: the adopting ``pulumi up``,
``pulumi preview --expect-no-changes``, ``catoiac drift``, and an edit's ``up`` (rename a site, move a
rule, delete a range): wall time, API calls and writes (the schema's mutations) of each.

The account is ``examples/fixtures/large.yaml`` (200 sites, 2,000 ranges, 200 static hosts, 1,500
firewall rules in 30 sections), served by the emulator in its own process with Cato's rate limits
on. The import runs as a user runs it (the CLI, a subprocess), twice:

- every type catoiac has;
- every type but ``BgpPeer``: Cato lists BGP peers one site at a time (``bgpPeerList`` takes a
  site; there is no account-wide list), so that type costs one call per site, paced by Cato's
  rate limit, where every other type costs one call per collection and page.

Calls are counted at the emulator (what Cato would see); peak memory is the import process's
maximum resident set size.

    .venv/bin/python bench/import_large.py [--fixture examples/fixtures/large.yaml] [--up [--checkpoints]] [--json]

``--up`` needs the pulumi CLI on PATH (``scripts/setup`` prints its folder).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from drift_large import emulator_process, load_fixture  # noqa: E402

from catoiac.emulator.control import EmulatorControl  # noqa: E402
from catoiac.resources.specs import SPECS  # noqa: E402
from catoiac.schema import operation_leaves  # noqa: E402

ACCOUNT = "1001"
KEY = "emulator-catoiac-key-1001"


# Writes are the schema's mutations: a read of any collection is never counted as one.
MUTATIONS = operation_leaves("mutation")


def writes_of(calls: dict[str, int]) -> dict[str, int]:
    return {op: n for op, n in calls.items() if op in MUTATIONS}


def run_import(url: str, out: Path, ctl: EmulatorControl, types: list[str] | None) -> dict[str, Any]:
    env = {**os.environ, "CATO_TOKEN": KEY, "CATO_ACCOUNT_ID": ACCOUNT, "CATO_BASEURL": url}
    cmd = [str(ROOT / ".venv/bin/catoiac"), "import", "--out", str(out), "--stack", "bench"]
    if types:
        cmd += ["--types", ",".join(types)]
    ctl.reset_stats()
    # RUSAGE_CHILDREN's maxrss is the largest child so far: run the import in a fresh helper process
    # so the figure is this import's alone.
    probe = (
        "import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
        "u = resource.getrusage(resource.RUSAGE_CHILDREN); "
        "print(u.ru_utime + u.ru_stime, u.ru_maxrss, file=sys.stderr); sys.exit(r.returncode)"
    )
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", probe, *cmd], env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"catoiac import failed:\n{proc.stdout}\n{proc.stderr}")
    cpu, rss = proc.stderr.strip().splitlines()[-1].split()
    calls = ctl.stats()
    # On a shared machine wall time includes waiting for a core; CPU time is the import's own work.
    return {"wall_s": round(wall, 2), "cpu_s": round(float(cpu), 2), "peak_rss_mb": round(int(rss) / 1024, 1),
            "calls": calls,
            "total_calls": sum(calls.values()), "summary": proc.stdout.strip()}  # fmt: skip


def run_up(
    url: str, out: Path, ctl: EmulatorControl, tmp: Path, quiet: bool = False, checkpoints: bool = False
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The issue's round trip: the adopting up, ``preview --expect-no-changes``, drift, and an edit's up.

    The adopting up runs as the generated README advises, with ``PULUMI_SKIP_CHECKPOINTS=true``
    unless ``checkpoints``: Pulumi rewrites the whole state after every created resource, which is
    quadratic in the resources (measured: 262 adopted resources 39 s, 522 resources 117 s; 522
    without per-step checkpoints 32 s)."""
    pulumi = shutil.which("pulumi")
    if pulumi is None:
        raise SystemExit("--up needs the pulumi CLI on PATH: run scripts/setup and add the folder it prints")
    (out / "venv").symlink_to(ROOT / ".venv")
    env = {**os.environ, "PULUMI_BACKEND_URL": (tmp / "state").as_uri(), "PULUMI_CONFIG_PASSPHRASE": "bench",
           "PULUMI_HOME": str(tmp / "home"), "PULUMI_SKIP_UPDATE_CHECK": "true",
           "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true", "CATOIAC_JOURNAL_DIR": str(tmp / "journal"),
           "PATH": os.pathsep.join([str(ROOT / ".venv/bin"), os.environ.get("PATH", "")])}  # fmt: skip
    (tmp / "state").mkdir(exist_ok=True)

    def pulumi_run(
        *args: str, check: bool = True, extra: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        r = subprocess.run([pulumi, *args, "--non-interactive", "--color=never"], cwd=out, env={**env, **(extra or {})},
                           capture_output=True, text=True)  # fmt: skip
        if check and r.returncode != 0:
            raise SystemExit(f"pulumi {' '.join(args)} failed:\n{r.stdout[-4000:]}\n{r.stderr[-4000:]}")
        return r

    pulumi_run("stack", "init", "bench")
    pulumi_run("config", "set", "--secret", "cato:apiKey", KEY)
    ctl.reset_stats()
    t0 = time.perf_counter()
    pulumi_run("up", "--yes", extra=None if checkpoints else {"PULUMI_SKIP_CHECKPOINTS": "true"})
    up_wall = time.perf_counter() - t0
    up_calls = ctl.stats()
    ctl.reset_stats()
    t0 = time.perf_counter()
    preview = pulumi_run("preview", "--expect-no-changes", check=False)
    preview_wall = time.perf_counter() - t0
    writes = writes_of(up_calls)
    preview_calls = ctl.stats()
    # The step 4: drift reports nothing modified, deleted or reordered, and full coverage.
    ctl.reset_stats()
    t0 = time.perf_counter()
    drift = subprocess.run([str(ROOT / ".venv/bin/catoiac"), "drift", "--cwd", str(out), "--stack", "bench",
                            "--format", "json", "--no-audit"], env={**env, "CATO_TOKEN": KEY,
                            "CATO_ACCOUNT_ID": ACCOUNT, "CATO_BASEURL": url}, capture_output=True, text=True)  # fmt: skip
    drift_wall = time.perf_counter() - t0
    try:
        found = json.loads(drift.stdout)
    except json.JSONDecodeError:
        raise SystemExit(f"catoiac drift failed:\n{drift.stdout[-4000:]}\n{drift.stderr[-4000:]}") from None
    result = {"checkpoints": checkpoints, "up_wall_s": round(up_wall, 1), "up_calls": up_calls,
              "up_total_calls": sum(up_calls.values()), "up_writes": writes,
              "preview_expect_no_changes_rc": preview.returncode, "preview_wall_s": round(preview_wall, 1),
              "preview_calls": preview_calls, "drift_rc": drift.returncode, "drift_wall_s": round(drift_wall, 1),
              "drift_calls": ctl.stats(), "drift_by_kind": found["summary"]["by_kind"],
              "drift_coverage": {c["type"]: c["ratio"] for c in found["coverage"]}}  # fmt: skip
    if not quiet:
        report("adopting_up", result)  # now: the edit's up can take minutes more

    # The last step: rename one site, move one rule, delete one range; `up` makes exactly those.
    site = out / "sites/site_000.py"
    text = site.read_text().replace('name="site-000",', 'name="site-000-renamed",', 1)
    start = text.index("lan_8 = cato.NetworkRange(")
    site.write_text(text[:start] + text[text.index("\n)\n", start) + 3 :])
    ifw = out / "policies/internet_firewall.py"
    text = ifw.read_text()
    first = text.index('            "rules": [\n') + len('            "rules": [\n')
    end = text.index("\n                },\n", first) + len("\n                },\n")
    rule, rest = text[first:end], text[end:]
    after = rest.index("\n                },\n") + len("\n                },\n")  # after the second rule
    ifw.write_text(text[:first] + rest[:after] + rule + rest[after:])
    ctl.reset_stats()
    t0 = time.perf_counter()
    pulumi_run("up", "--yes")
    edit_wall = time.perf_counter() - t0
    edit_calls = ctl.stats()
    return result, {"edit_up_wall_s": round(edit_wall, 1),
            "edit_up_writes": writes_of(edit_calls),
            "edit_up_total_calls": sum(edit_calls.values())}  # fmt: skip


def report(name: str, r: dict[str, Any]) -> None:
    print(f"== {name}", flush=True)
    for k, v in r.items():
        if isinstance(v, dict):
            print(f"  {k}:")
            for op, n in sorted(v.items()):
                print(f"    {op:<28} {n}")
        else:
            print(f"  {k}: {v}")
    sys.stdout.flush()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fixture", type=Path, default=ROOT / "examples" / "fixtures" / "large.yaml")
    ap.add_argument("--up", action="store_true", help="also run the round trip with the pulumi CLI (minutes)")
    ap.add_argument("--checkpoints", action="store_true",
                    help="run the adopting up with Pulumi's per-step checkpoints (quadratic: about an hour at 2,600 resources)")  # fmt: skip
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    fixture = load_fixture(args.fixture)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as d, emulator_process(fixture, Path(d)) as url:
        tmp = Path(d)
        with EmulatorControl(url.rsplit("/api/", 1)[0]) as ctl:
            results["import_all_types"] = run_import(url, tmp / "all", ctl, None)
            no_bgp = [n for n in SPECS if n != "BgpPeer"]
            results["import_without_BgpPeer"] = run_import(url, tmp / "no-bgp", ctl, no_bgp)
            if not args.json:
                for name, r in results.items():
                    report(name, r)
            if args.up:
                results["adopting_up"], results["edit"] = run_up(
                    url, tmp / "all", ctl, tmp, quiet=args.json, checkpoints=args.checkpoints
                )
                if not args.json:
                    report("edit", results["edit"])
    if args.json:
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
