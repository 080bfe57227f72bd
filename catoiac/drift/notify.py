"""``catoiac drift --notify URL``: post a summary of the report to a webhook, for whoever is on call.

``json`` (default): counts by kind and cause, the top findings with their next actions, and what to
do next for the whole report (``catoiac.drift.summary`` version 1). ``slack``: the same summary as a
Slack incoming-webhook message (``text`` plus Block Kit ``blocks``, within Slack's limits).

A failed notification (no answer, a non-2xx status) is a warning on stderr: the drift report and
its exit code stand. A webhook URL is a credential (Slack's carries its token in the path), so no
message ever shows more of it than its scheme and host."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from .._httpx import httpx, tls_context
from ..secrets import REDACTOR
from .render import actor, headline
from .report import DriftReport, Finding

TOP = 10  # findings listed by name; the others are counted
SUMMARY_TYPE = "catoiac.drift.summary"
TIMEOUT = 10.0


def where(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or '?'}" + (f":{parts.port}" if parts.port else "")


def _finding(f: Finding) -> dict[str, Any]:
    cause, who, when = actor(f)
    r = f.resource
    return {
        "id": f.id,
        "kind": f.kind,
        "resource": {
            "type": r.type,
            "name": r.name,
            "cato_name": r.cato_name,
            "cato_id": r.cato_id,
            "stack": r.stack,
            "urn": r.urn,
        },  # fmt: skip
        "cause": cause,
        "actor": None if who == "—" else who,
        "when": None if when == "—" else when,
        "paths": f.paths[:5],
        "revert": f.actions.revert.command if f.actions else None,
        "revert_how": f.actions.revert.how if f.actions else None,
        "accept": f.actions.accept.how if f.actions else None,
    }


def next_actions(report: DriftReport) -> list[str]:
    out = []
    stacks = sorted({f.resource.stack for f in report.active if f.resource.stack})
    managed = [f for f in report.active if f.resource.urn]
    if managed:
        for s in stacks:
            out.append(f"revert every managed finding of stack {s}: pulumi up --refresh --stack {s}")
        out.append("revert one: run that finding's revert command (it targets only its resource)")
    if any(f.kind == "unmanaged" for f in report.active):
        out.append(
            "unmanaged objects: adopt them into the code, delete them (catoiac delete-unmanaged ID), or accept "
            "the set as it stands: catoiac drift --write-ignore --owner YOU"
        )
    if report.errors:
        out.append("the report is incomplete: see its errors, then run catoiac drift again")
    if report.expired_ignores:
        out.append("renew or remove the expired .catoiacignore entries")
    return out


def summary(report: DriftReport, exit_code: int) -> dict[str, Any]:
    s = report.summary()
    return {
        "type": SUMMARY_TYPE,
        "version": 1,
        "account_id": report.account_id,
        "stacks": [st.name for st in report.stacks],
        "generated_at": report.to_dict()["generated_at"],
        "exit_code": exit_code,
        "drift": s["drift"],
        "incomplete": bool(report.errors),
        "headline": headline(report),
        "counts": {
            k: s[k] for k in ("findings", "ignored", "expired_ignores", "moves", "by_kind", "by_cause")
        },
        "top": [_finding(f) for f in report.active[:TOP]],
        "more": max(0, len(report.active) - TOP),
        "next_actions": next_actions(report),
        "errors": report.errors,
        "warnings": report.warnings,
    }


def _mrkdwn(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack(summary: dict[str, Any]) -> dict[str, Any]:
    """The summary as a Slack incoming-webhook message (mrkdwn sections; each under 3,000 characters)."""
    state = "incomplete" if summary["incomplete"] else "drift" if summary["drift"] else "no drift"
    title = f"Cato drift ({state}): account {summary['account_id']}, stacks {', '.join(summary['stacks']) or 'none'}"
    c = summary["counts"]
    kinds = ", ".join(f"{n} {k}" for k, n in c["by_kind"].items() if n) or "none"
    causes = ", ".join(f"{n} {k}" for k, n in c["by_cause"].items() if n) or "none"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": title[:150]}},
        {"type": "section", "fields": [
            {"type": "mrkdwn", "text": f"*Findings*\n{c['findings']} ({c['ignored']} ignored)"},
            {"type": "mrkdwn", "text": f"*By kind*\n{_mrkdwn(kinds)}"},
            {"type": "mrkdwn", "text": f"*By cause*\n{_mrkdwn(causes)}"},
            {"type": "mrkdwn", "text": f"*Exit code*\n{summary['exit_code']}"},
        ]},
    ]  # fmt: skip
    for f in summary["top"]:
        r = f["resource"]
        who = f" by {f['actor']}" if f["actor"] else ""
        text = f"*`{f['id']}` {f['kind']}* {r['type']} `{_mrkdwn(str(r['name'] or r['cato_name'] or r['cato_id']))}` ({f['cause']}{_mrkdwn(who)})"
        if f["paths"]:
            text += "\n" + ", ".join(f"`{_mrkdwn(p)}`" for p in f["paths"])
        if f["revert"]:
            text += f"\nrevert: ```{_mrkdwn(f['revert'])}```"
        elif f["revert_how"]:
            text += f"\nrevert: {_mrkdwn(f['revert_how'])}"
        if f["accept"]:
            text += f"\naccept: {_mrkdwn(f['accept'])}"
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text[:2900]}})
    if summary["more"]:
        blocks.append(
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": f"and {summary['more']} more finding(s)"}],
            }
        )
    if summary["next_actions"]:
        steps = "\n".join(f"• {_mrkdwn(a)}" for a in summary["next_actions"])
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": f"*Next*\n{steps}"[:2900]}})
    return {"text": f"{title}: {summary['headline']}", "blocks": blocks[:50]}


def post(url: str, payload: dict[str, Any], *, timeout: float = TIMEOUT) -> str | None:
    """POST ``payload`` as JSON; None on success, else why it failed (the URL reduced to its host)."""
    REDACTOR.add(url)  # whatever echoes it (an exception, a log) is masked
    try:
        res = httpx.post(url, json=payload, timeout=timeout, follow_redirects=False, verify=tls_context())
    except httpx.HTTPError as e:
        return f"notification to {where(url)} failed: {type(e).__name__}: {REDACTOR.scrub(str(e))}"
    if not 200 <= res.status_code < 300:
        return f"notification to {where(url)} failed: HTTP {res.status_code}"
    return None
