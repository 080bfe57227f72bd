#!/usr/bin/env python3
"""Keep one GitHub issue per stack in step with ``catoiac drift``: open it when drift appears,
update it when the findings change, close it when the account matches the stack again.

    catoiac drift --stack prod --format json -o drift.json; status=$?
    drift-issue.py --stack prod --report drift.json --exit-code "$status" [--run-url URL]

The issue is found by its label and a hidden marker (``<!-- catoiac-drift:STACK -->``), and keyed
by the finding ids (``D-…``, stable for the same drift): the same findings write nothing, new or
resolved ones rewrite the body and say which in a comment. A failed drift run (exit code 1) never
closes the issue; with no report at all it touches nothing. Exit code: 1 when the drift run failed
or the report is unreadable, else 0. Talks to GitHub with the ``gh`` CLI (``GH_TOKEN``); only the
standard library.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

LABEL = "catoiac-drift"


def gh(*args: str) -> str:
    res = subprocess.run(["gh", *args], capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit(f"drift-issue: `gh {' '.join(args[:2])} ...` failed: {res.stderr.strip()}")
    return res.stdout


def body_file(text: str) -> str:
    with tempfile.NamedTemporaryFile("w", suffix=".md", delete=False, encoding="utf-8") as f:
        f.write(text)
    return f.name


def cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def finding_row(f: dict) -> str:
    r = f.get("resource") or {}
    what = r.get("name") or r.get("cato_name") or r.get("cato_id")
    extra = f" ({r['cato_name']})" if r.get("cato_name") and r.get("cato_name") != what else ""
    paths = [c.get("path") for c in f.get("changes") or []] + [
        x.get("property") for x in f.get("facts") or []
    ]
    a = f.get("attribution") or {}
    who = ((a.get("actor") or {}).get("name") or "") + (f", {a['time']}" if a.get("time") else "")
    return (
        f"| `{f['id']}` | {cell(f.get('kind'))} | {cell(r.get('type'))} `{cell(what)}`{cell(extra)} "
        f"| {cell(', '.join(f'`{p}`' for p in paths if p)) or '—'} | {cell(f.get('cause'))} | {cell(who) or '—'} |"
    )


def render(
    stack: str, report: dict, ids: list[str], run_url: str | None, incomplete: bool
) -> tuple[str, str]:
    active = [f for f in report.get("findings") or [] if not f.get("ignored")]
    title = f"catoiac drift: stack {stack} differs from Cato ({len(active)} finding(s))"
    lines = [
        f"<!-- catoiac-drift:{stack} -->",
        f"<!-- catoiac-drift-findings:{','.join(ids)} -->",
        f"## Drift in stack `{stack}`: {len(active)} finding(s)",
        "",
        f"Account `{report.get('account_id')}`, checked {report.get('generated_at')}"
        + (f" ([run]({run_url}))" if run_url else "")
        + ". This issue is updated by the scheduled drift job and closed when the account matches the stack again.",
        "",
    ]
    if incomplete:
        lines += [
            "> [!WARNING]",
            "> The last report is incomplete (some resources could not be read): see the run.",
            "",
        ]
    lines += ["| finding | kind | resource | what | cause | by |", "|---|---|---|---|---|---|"]
    lines += [finding_row(f) for f in active]
    lines += [
        "",
        f"Details: `catoiac drift --stack {stack}`. To put Cato back as the code says, run `pulumi up --refresh` "
        "(a plain `up` compares with the state, not with Cato); to keep a change, put it in the code, or accept it "
        "in `.catoiacignore` with an owner and an expiry date.",
    ]
    return title, "\n".join(lines) + "\n"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--stack", required=True)
    p.add_argument("--report", required=True, help="catoiac drift --format json output")
    p.add_argument("--exit-code", required=True, type=int, help="catoiac drift's exit code (0, 1 or 2)")
    p.add_argument("--run-url", help="a link to this run, for the issue")
    p.add_argument(
        "--repo", default=os.environ.get("GITHUB_REPOSITORY"), help="owner/name [env GITHUB_REPOSITORY]"
    )
    a = p.parse_args()
    if not a.repo:
        p.error("--repo (or GITHUB_REPOSITORY) is required")
    try:
        with open(a.report, encoding="utf-8") as f:
            report = json.load(f)
        findings = report["findings"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        print(f"drift-issue: no usable drift report ({e}): the issue is left as it is", file=sys.stderr)
        return 1
    failed = a.exit_code not in (0, 2)
    ids = sorted({f["id"] for f in findings if not f.get("ignored")})
    marker = f"<!-- catoiac-drift:{a.stack} -->"
    listed = json.loads(gh("issue", "list", "--repo", a.repo, "--label", LABEL, "--state", "open",
                           "--json", "number,title,body", "--limit", "100") or "[]")  # fmt: skip
    issue = next((i for i in listed if marker in (i.get("body") or "")), None)
    if not ids:
        if issue is not None and not failed:
            note = "The account matches the stack again" + (f" ([run]({a.run_url}))." if a.run_url else ".")
            gh("issue", "close", str(issue["number"]), "--repo", a.repo, "--comment", note)
            print(f"drift-issue: closed #{issue['number']}: no drift")
        else:
            print("drift-issue: no drift" + (" (the run failed: the issue stays open)" if issue else ""))
        return 1 if failed else 0
    title, body = render(a.stack, report, ids, a.run_url, failed)
    path = body_file(body)
    try:
        if issue is None:
            gh("label", "create", LABEL, "--repo", a.repo, "--force", "--color", "d93f0b",
               "--description", "Cato differs from the Pulumi stack")  # fmt: skip
            out = gh(
                "issue", "create", "--repo", a.repo, "--title", title, "--body-file", path, "--label", LABEL
            )
            print(f"drift-issue: opened {out.strip()}")
        else:
            before = issue["body"].split("<!-- catoiac-drift-findings:", 1)[-1].split(" -->", 1)[0]
            old = set(before.split(",")) - {""}
            if old == set(ids):
                print(f"drift-issue: #{issue['number']} already lists these {len(ids)} finding(s)")
            else:
                n = str(issue["number"])
                gh("issue", "edit", n, "--repo", a.repo, "--title", title, "--body-file", path)
                new, gone = sorted(set(ids) - old), sorted(old - set(ids))
                note = "; ".join(
                    ([f"new: {', '.join(f'`{i}`' for i in new)}"] if new else [])
                    + ([f"resolved: {', '.join(f'`{i}`' for i in gone)}"] if gone else [])
                )
                gh("issue", "comment", n, "--repo", a.repo, "--body", f"Drift changed: {note}.")
                print(f"drift-issue: updated #{n} ({note})")
    finally:
        os.unlink(path)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
