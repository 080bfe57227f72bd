"""A stand-in for the ``gh`` CLI in tests of the CI scripts: GitHub's API is not reachable here.

It understands the calls the scripts in ``examples/ci/github/scripts`` make, keeps pull-request
comments, issues and labels in a JSON file (``FAKE_GH_STATE``) so that one run sees what the last
one wrote, and records every call (with the text of ``@file`` and ``--body-file`` arguments) there.
``install(bin_dir, state)`` puts an executable ``gh`` that runs it in ``bin_dir``."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path
from typing import Any


def install(bin_dir: Path, state: Path) -> Path:
    bin_dir.mkdir(parents=True, exist_ok=True)
    exe = bin_dir / "gh"
    exe.write_text(
        f'#!/bin/sh\nFAKE_GH_STATE="{state}" exec "{sys.executable}" "{Path(__file__).resolve()}" "$@"\n'
    )
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    state.write_text(json.dumps({"calls": [], "comments": {}, "issues": [], "labels": [], "next_id": 1000}))
    return exe


def load(state: Path) -> dict[str, Any]:
    return json.loads(state.read_text())


def _opts(args: list[str]) -> tuple[list[str], dict[str, list[str]]]:
    """Positional arguments, and option values by name (``--x v``, ``-X v``)."""
    pos, opts, i = [], {}, 0
    flags = {"--paginate", "--force"}
    while i < len(args):
        a = args[i]
        if a.startswith("-") and a not in flags:
            opts.setdefault(a, []).append(args[i + 1])
            i += 2
        else:
            (opts.setdefault(a, []).append("") if a in flags else pos.append(a))
            i += 1
    return pos, opts


def _read(value: str) -> str:
    return Path(value[1:]).read_text() if value.startswith("@") else value


def main(argv: list[str]) -> int:
    path = Path(os.environ["FAKE_GH_STATE"])
    st = load(path)
    pos, opts = _opts(argv)
    call: dict[str, Any] = {"argv": argv}
    out: Any = None
    if pos[0] == "api":
        method = (opts.get("-X") or ["GET"])[0]
        route = pos[1].split("?")[0].split("/")  # repos/o/r/issues/7/comments
        fields = dict(f.split("=", 1) for f in opts.get("-F", []))
        body = _read(fields["body"]) if "body" in fields else None
        call.update(method=method, route="/".join(route), body=body)
        if route[3:] and route[3] == "issues" and route[-1] == "comments" and route[4] != "comments":
            pr = route[4]
            if method == "GET":
                out = st["comments"].get(pr, [])
            else:
                st["next_id"] += 1
                c = {"id": st["next_id"], "body": body, "user": {"login": "github-actions[bot]"}}
                st["comments"].setdefault(pr, []).append(c)
                out = c
        elif route[3:5] == ["issues", "comments"] and method == "PATCH":
            cid = int(route[5])
            for comments in st["comments"].values():
                for c in comments:
                    if c["id"] == cid:
                        c["body"] = body
                        out = c
            if out is None:
                print(f"gh: HTTP 404: comment {cid} not found", file=sys.stderr)
                return 1
        else:
            print(f"fake gh: unsupported api call {argv}", file=sys.stderr)
            return 2
    elif pos[0] == "issue":
        sub = pos[1]
        body = (
            _read("@" + opts["--body-file"][0])
            if "--body-file" in opts
            else (opts.get("--body") or [None])[0]
        )
        call.update(sub=sub, body=body)
        if sub == "list":
            label = (opts.get("--label") or [None])[0]
            out = [
                {k: i[k] for k in ("number", "title", "body")}
                for i in st["issues"]
                if i["state"] == "open" and (label is None or label in i["labels"])
            ]
        elif sub == "create":
            if any(lb not in st["labels"] for lb in opts.get("--label", [])):
                print("could not add label: not found", file=sys.stderr)
                return 1
            n = len(st["issues"]) + 1
            st["issues"].append({"number": n, "title": opts["--title"][0], "body": body, "state": "open",
                                 "labels": opts.get("--label", []), "comments": []})  # fmt: skip
            out = f"https://github.com/acme/netops/issues/{n}"
        else:
            issue = next(i for i in st["issues"] if i["number"] == int(pos[2]))
            if sub == "edit":
                issue.update(title=opts.get("--title", [issue["title"]])[0], body=body or issue["body"])
            elif sub == "comment":
                issue["comments"].append(body)
            elif sub == "close":
                issue["state"] = "closed"
                if opts.get("--comment"):
                    issue["comments"].append(opts["--comment"][0])
            else:
                print(f"fake gh: unsupported issue command {argv}", file=sys.stderr)
                return 2
    elif pos[:2] == ["label", "create"]:
        call.update(sub="label")
        if pos[2] not in st["labels"]:
            st["labels"].append(pos[2])
    else:
        print(f"fake gh: unsupported command {argv}", file=sys.stderr)
        return 2
    st["calls"].append(call)
    path.write_text(json.dumps(st, indent=1))
    if out is not None:
        print(out if isinstance(out, str) else json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
