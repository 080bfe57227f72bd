#!/usr/bin/env python3
"""Post a file as the pull request's one catoiac comment: update it if it is there, else create it.

    sticky-comment.py --pr 12 --body-file review.md [--key prod] [--repo owner/name]

The comment carries a hidden marker (``<!-- catoiac-review:KEY -->``, one comment per stack) by
which the next run finds it, so each push updates the same comment instead of adding one. It talks
to GitHub through the ``gh`` CLI (``GH_TOKEN`` in the environment), which GitHub's runners have.
Only the standard library: the workflow needs nothing installed for it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

LIMIT = 65536  # characters GitHub keeps of a comment


def gh(*args: str) -> str:
    res = subprocess.run(["gh", *args], capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit(f"sticky-comment: `gh {' '.join(args[:3])} ...` failed: {res.stderr.strip()}")
    return res.stdout


def json_values(text: str) -> list:
    """Every JSON value in ``text``: ``gh api --paginate`` prints one array per page."""
    out, decoder, i = [], json.JSONDecoder(), 0
    while i < len(text):
        if text[i].isspace():
            i += 1
            continue
        value, i = decoder.raw_decode(text, i)
        out += value if isinstance(value, list) else [value]
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pr", required=True, type=int, help="the pull request number")
    p.add_argument("--body-file", required=True, help="the Markdown to post")
    p.add_argument("--key", default="default", help="one comment per key (e.g. the stack)")
    p.add_argument(
        "--repo", default=os.environ.get("GITHUB_REPOSITORY"), help="owner/name [env GITHUB_REPOSITORY]"
    )
    a = p.parse_args()
    if not a.repo:
        p.error("--repo (or GITHUB_REPOSITORY) is required")
    marker = f"<!-- catoiac-review:{a.key} -->"
    with open(a.body_file, encoding="utf-8") as f:
        body = f"{marker}\n{f.read()}"
    if len(body) > LIMIT:  # catoiac review cuts its output to fit; a hand-made file may not
        body = body[: LIMIT - 200] + "\n\n_... cut: the comment limit is 65,536 characters._\n"
    comments = json_values(gh("api", "--paginate", f"repos/{a.repo}/issues/{a.pr}/comments?per_page=100"))
    mine = [c for c in comments if marker in (c.get("body") or "")]
    with tempfile.NamedTemporaryFile("w", suffix=".md", delete=False, encoding="utf-8") as tmp:
        tmp.write(body)
    try:
        if mine:
            cid = mine[0]["id"]
            gh("api", "-X", "PATCH", f"repos/{a.repo}/issues/comments/{cid}", "-F", f"body=@{tmp.name}")
            print(f"sticky-comment: updated comment {cid} on #{a.pr}")
        else:
            gh("api", "-X", "POST", f"repos/{a.repo}/issues/{a.pr}/comments", "-F", f"body=@{tmp.name}")
            print(f"sticky-comment: created the comment on #{a.pr}")
    finally:
        os.unlink(tmp.name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
