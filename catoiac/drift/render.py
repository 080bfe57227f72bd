"""Drift reports for people: rich tables for a terminal, Markdown for a PR or issue comment."""

from __future__ import annotations

import io
import json
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from .audit import iso
from .compare import ADDED, MOVED, REMOVED, Change
from .report import DriftReport, Finding

CAUSE_TEXT = {
    "ui": "changed in the UI by a person",
    "other-api-key": "changed by another API key",
    "this-tool": "changed by this tool's key, not in state (interrupted up?)",
    "no-audit-record": "no audit record in the window",
    "unavailable": "unknown: the audit feed could not be read",
}
CAUSE_STYLE = {
    "ui": "yellow",
    "other-api-key": "magenta",
    "this-tool": "cyan",
    "no-audit-record": "dim",
    "unavailable": "red",
}
KIND_TEXT = {
    "modified": "modified",
    "deleted": "deleted out of band",
    "reordered": "reordered",
    "unmanaged": "unmanaged",
    "device": "device facts contradict config",
}


def value(v: Any, width: int = 60) -> str:
    if v is None:
        return "—"
    text = v if isinstance(v, str) else json.dumps(v, sort_keys=True, default=str)
    return text if len(text) <= width else text[: width - 1] + "…"


def position(p: Any) -> str:
    if not isinstance(p, dict):
        return value(p)
    where = f"#{p.get('index', '?') + 1 if isinstance(p.get('index'), int) else '?'}"
    return f"{p['section']} {where}" if p.get("section") else where


def change_cells(c: Change) -> tuple[str, str, str]:
    if c.op == MOVED:
        return f"{c.path} (moved)", position(c.desired), position(c.live)
    if c.op == ADDED:
        return f"{c.path} (added in Cato)", "—", value(c.live)
    if c.op == REMOVED:
        return f"{c.path} (missing in Cato)", value(c.desired), "—"
    return c.path, value(c.desired), value(c.live)


def actor(f: Finding, i: int | None = None) -> tuple[str, str, str]:
    a = f.change_attributions[i] if i is not None and i < len(f.change_attributions) else f.attribution
    r = a.record
    if r is None:
        return a.cause, "—", "—"
    who = f"{r.actor_name or r.actor_id or '?'}" + (" (admin)" if r.actor_kind == "admin" else " (API key)")
    if a.via:
        who += f", {a.via}"
    return a.cause, who, f"{iso(r.time)} {r.change_type or ''}".strip()


def rows(f: Finding) -> list[tuple[str, ...]]:
    """One row per change (or fact, or one for the resource), with its own attribution."""
    out = []
    if f.changes:
        for i, c in enumerate(f.changes):
            cause, who, when = actor(f, i)
            ignored = f" [ignored #{f.ignored_changes[i].index}]" if i in f.ignored_changes else ""
            out.append((*change_cells(c), cause + ignored, who, when))
    elif f.facts:
        for x in f.facts:
            cause, who, when = actor(f)
            out.append((x.property, value(x.declared), f"{value(x.observed)}: {x.detail}", cause, who, when))
    else:
        cause, who, when = actor(f)
        live = "absent" if f.kind == "deleted" else "present"
        desired = "absent" if f.kind == "unmanaged" else "present"
        out.append(("(resource)", desired, live, cause, who, when))
    return out


def _label(f: Finding, multi: bool) -> str:
    r = f.resource
    name = r.name or r.cato_name or r.cato_id
    extra = f" [{r.cato_id}]" if r.cato_id and name != r.cato_id else ""
    return f"{r.type} {name}{extra}" + (f" ({r.stack})" if multi and r.stack else "")


# -- rich ----------------------------------------------------------------------------------------
def render_rich(report: DriftReport, console: Console, *, show_stats: bool = False) -> None:
    multi = len(report.stacks) > 1
    s = report.summary()
    own = report.own_key
    head = Text()
    head.append(f"Account {report.account_id}", style="bold")
    head.append(f" · stacks {', '.join(st.name for st in report.stacks)}")
    head.append(f" · audit window {iso(report.window_start)} → {iso(report.window_end)}")
    if own:
        key = own.name or own.id or "unknown"
        head.append(f" · own key: {key} ({own.source})")
    console.print(head)
    for warning in report.warnings:
        console.print(Text(f"warning: {warning}", style="yellow"))
    if report.active:
        console.print(_findings_table("Drift", report.active, multi))
    else:
        console.print(Text("No drift: every managed resource matches Cato.", style="green"))
    if report.ignored:
        console.print(_findings_table("Ignored (.catoiacignore)", report.ignored, multi, ignored=True))
    if report.expired_ignores:
        t = Table(title="Expired ignore entries (no longer ignore anything)", title_justify="left")
        for col in ("#", "selects", "owner", "expired", "would match"):
            t.add_column(col)
        for e, ids in report.expired_ignores:
            sel = ", ".join(
                f"{k}={v}"
                for k, v in e.to_dict().items()
                if k in ("type", "name", "id", "property", "kind", "stack")
            )
            t.add_row(
                str(e.index),
                sel,
                e.owner or "—",
                e.expires.isoformat() if e.expires else "—",
                ", ".join(ids) or "—",
            )
        console.print(t)
    if report.coverage:
        t = Table(title="Coverage (managed ÷ all in Cato)", title_justify="left")
        for col, j in (("type", "left"), ("managed", "right"), ("in Cato", "right"), ("coverage", "right")):
            t.add_column(col, justify=j)
        for c in report.coverage:
            t.add_row(c.type, str(c.managed), str(c.total), f"{c.ratio:.0%}")
        console.print(t)
    for e in report.errors:
        console.print(Text(f"not checked: {e['urn']}: {e['error']}", style="red"))
    kinds = ", ".join(f"{n} {k}" for k, n in s["by_kind"].items() if n)
    console.print(
        Text(
            f"{s['findings']} finding(s){': ' + kinds if kinds else ''}; {s['ignored']} ignored", style="bold"
        )
    )
    if show_stats:
        t = Table(title="Cato API calls", title_justify="left")
        t.add_column("operation")
        t.add_column("calls", justify="right")
        for op, n in report.api_calls.items():
            t.add_row(op, str(n))
        console.print(t)


def _findings_table(title: str, findings: list[Finding], multi: bool, ignored: bool = False) -> Table:
    t = Table(title=title, title_justify="left", show_lines=True)
    for col in (
        "finding",
        "resource",
        "property",
        "desired (state)",
        "live (Cato)",
        "cause",
        "actor",
        "when",
    ):
        t.add_column(col, overflow="fold")
    for f in findings:
        for i, row in enumerate(rows(f)):
            first = i == 0
            fid = f"{f.id}\n{KIND_TEXT[f.kind]}" if first else ""
            if ignored and first and f.ignored_by:
                fid += f"\nignored by #{f.ignored_by.index}" + (
                    f" ({f.ignored_by.owner})" if f.ignored_by.owner else ""
                )
            cause = Text(row[3], style=CAUSE_STYLE.get(row[3].split(" ")[0], ""))
            cells = (fid, _label(f, multi) if first else "", row[0], row[1], row[2])
            # Text, not markup: a value such as "[secret]" or "[10.0.0.0/8]" must print as it is.
            t.add_row(*(Text(c) for c in cells), cause, Text(row[4]), Text(row[5]))
    return t


def render_text(report: DriftReport, *, width: int = 160, show_stats: bool = False) -> str:
    console = Console(width=width, record=True, file=io.StringIO(), color_system=None)
    render_rich(report, console, show_stats=show_stats)
    return console.export_text()


# -- Markdown --------------------------------------------------------------------------------------
def md(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def md_code(v: Any, width: int = 80) -> str:
    t = value(v, width)
    return "—" if t == "—" else f"`{md(t).replace('`', 'ʼ')}`"


def render_markdown(report: DriftReport) -> str:
    multi = len(report.stacks) > 1
    s = report.summary()
    lines = ["## Cato drift report", ""]
    stacks = ", ".join(f"`{st.name}`" for st in report.stacks)
    lines.append(
        f"Account `{report.account_id}` · stacks {stacks} · audit window {iso(report.window_start)} → "
        f"{iso(report.window_end)}"
    )
    if report.own_key and (report.own_key.id or report.own_key.name):
        lines.append(
            f"Own API key: `{md(report.own_key.name or report.own_key.id)}` ({report.own_key.source})"
        )
    lines.append("")
    for warning in report.warnings:
        lines += [f"> **Warning:** {md(warning)}", ""]
    if not report.active:
        lines.append("**No drift.** Every managed resource matches Cato.")
    else:
        kinds = ", ".join(f"{n} {k}" for k, n in s["by_kind"].items() if n)
        causes = ", ".join(f"{n} {k}" for k, n in s["by_cause"].items() if n)
        lines += [f"**{s['findings']} finding(s)**: {kinds}. Causes: {causes}.", ""]
        lines += _md_findings(report.active, multi)
    if report.ignored:
        lines += ["", f"<details><summary>{len(report.ignored)} ignored finding(s)</summary>", ""]
        lines += _md_findings(report.ignored, multi)
        lines += ["", "</details>"]
    if report.expired_ignores:
        lines += [
            "",
            "### Expired ignore entries",
            "",
            "| # | selects | owner | expired | would match |",
            "|---|---|---|---|---|",
        ]
        for e, ids in report.expired_ignores:
            sel = ", ".join(
                f"{k}=`{md(v)}`"
                for k, v in e.to_dict().items()
                if k in ("type", "name", "id", "property", "kind", "stack")
            )
            lines.append(
                f"| {e.index} | {sel} | {md(e.owner or '—')} | {e.expires or '—'} | {', '.join(ids) or '—'} |"
            )
    if report.errors:
        lines += ["", "### Not checked (the report is incomplete)", ""]
        lines += [f"- `{md(e['urn'])}`: {md(e['error'])}" for e in report.errors]
    if report.coverage:
        lines += ["", "### Coverage", "", "| type | managed | in Cato | coverage |", "|---|--:|--:|--:|"]
        for c in report.coverage:
            lines.append(f"| {c.type} | {c.managed} | {c.total} | {c.ratio:.0%} |")
    lines.append("")
    return "\n".join(lines)


def _md_findings(findings: list[Finding], multi: bool) -> list[str]:
    out = ["| finding | resource | property | desired (state) | live (Cato) | cause | actor | when |",
           "|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for f in findings:
        for i, (prop, desired, live, cause, who, when) in enumerate(rows(f)):
            first = i == 0
            fid = f"`{f.id}` {KIND_TEXT[f.kind]}" if first else ""
            if first and f.ignored_by:
                fid += f" (ignored by #{f.ignored_by.index}{', ' + md(f.ignored_by.owner) if f.ignored_by.owner else ''})"
            res = md(_label(f, multi)) if first else ""
            out.append(
                f"| {fid} | {res} | `{md(prop)}` | {md_code(desired) if desired not in ('present', 'absent') else desired} "
                f"| {md_code(live) if live not in ('present', 'absent') else live} | {md(cause)} | {md(who)} | {md(when)} |"
            )
    return out
