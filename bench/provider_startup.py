"""What a dynamic-provider process pays to import before its first call: every ``pulumi`` command
starts one (``python -m pulumi.dynamic``), which loads pulumi, grpc and dill, unpickles
``pulumi_cato.provider.CatoProvider`` and, on the first call, loads ``pulumi_cato._engine_side``.

Runs ``python -X importtime`` on those imports ``--runs`` times in fresh interpreters and prints, per
module, the smallest cumulative time seen (the least disturbed by other load on the machine), plus
the CPU (user+sys) of the whole interpreter, median and best.

    .venv/bin/python bench/provider_startup.py [--runs 5] [--top 25] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys

CODE = (
    "import dill, grpc; from pulumi.dynamic import ResourceProvider; "
    "import pulumi_cato.provider, pulumi_cato._engine_side"
)


def one_run() -> tuple[dict[str, int], float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    err = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", CODE],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "CATOIAC_LIFELINE": "0"},
    ).stderr
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    cumulative: dict[str, int] = {}
    for line in err.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if len(parts) != 3:
            continue
        try:
            cumulative[parts[2].strip()] = int(parts[1])
        except ValueError:
            continue  # the header line
    return cumulative, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    best: dict[str, int] = {}
    cpus = []
    for _ in range(args.runs):
        cumulative, cpu = one_run()
        cpus.append(cpu)
        for name, us in cumulative.items():
            best[name] = min(best.get(name, us), us)
    top = sorted(best.items(), key=lambda kv: -kv[1])[: args.top]
    result = {
        "runs": args.runs,
        "load": round(os.getloadavg()[0], 1),
        "cpu_s_median": round(statistics.median(cpus), 3),
        "cpu_s_best": round(min(cpus), 3),
        "engine_side_ms": round(best.get("pulumi_cato._engine_side", 0) / 1000, 1),
        "top_ms": {name: round(us / 1000, 1) for name, us in top},
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(
        f"{args.runs} runs, load {result['load']}: interpreter CPU median {result['cpu_s_median']} s, "
        f"best {result['cpu_s_best']} s; pulumi_cato._engine_side {result['engine_side_ms']} ms (best)"
    )
    for name, ms in result["top_ms"].items():
        print(f"{ms:8.1f} ms  {name}")


if __name__ == "__main__":
    main()
