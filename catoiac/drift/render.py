"""Drift reports for people: a terminal (or CI log) layout, Markdown for a PR or issue comment.

The terminal layout fits the width it is given: the findings table when it fits whole, else one
stacked block per finding (label, then value, wrapped at spaces only), so a narrow terminal never
splits a token such as ``alice@example.com``. Commands are printed on lines of their own and never
wrapped by us (a long URN wraps in the terminal, and copies as one line). Ignored findings are
summarised (count and ids) unless asked for in full.
"""

from __future__ import annotations

import io
import json
from typing import Any

from rich.console import Console
from rich.measure import Measurement
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
OUTSIDE = "a section no stack here manages"


def value(v: Any, width: int = 60) -> str:
    if v is None:
        return "—"
    text = v if isinstance(v, str) else json.dumps(v, sort_keys=True, default=str)
    return text if len(text) <= width else text[: width - 1] + "…"


def position(p: Any) -> str:
    if not isinstance(p, dict):
        return value(p)
    where = f"#{p.get('index', '?') + 1 if isinstance(p.get('index'), int) else '?'}"
    text = f"{p['section']} {where}" if p.get("section") else where
    return f"{text} ({OUTSIDE})" if p.get("owned") is False else text


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


def ignored_summary(report: DriftReport) -> str:
    ids = ", ".join(f.id for f in report.ignored)
    return f"{len(report.ignored)} ignored finding(s): {ids}"


def next_steps(f: Finding) -> tuple[str | None, str, str]:
    """(revert command, how it reverts, what accepting means) for one finding."""
    a = f.actions
    if a is None:
        return None, "", ""
    return a.revert.command, a.revert.how, a.accept.how


def headline(report: DriftReport) -> str:
    s = report.summary()
    kinds = ", ".join(f"{n} {k}" for k, n in s["by_kind"].items() if n)
    return f"{s['findings']} finding(s){': ' + kinds if kinds else ''}; {s['ignored']} ignored"


# -- rich ----------------------------------------------------------------------------------------
def render_rich(
    report: DriftReport, console: Console, *, show_stats: bool = False, show_ignored: bool = False
) -> None:
    multi = len(report.stacks) > 1
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
        _findings(console, "Drift", report.active, multi)
    else:
        console.print(Text("No drift: every managed resource matches Cato.", style="green"))
    if report.ignored:
        if show_ignored:
            _findings(console, "Ignored (.catoiacignore)", report.ignored, multi, ignored=True)
        else:
            console.print(Text(f"{ignored_summary(report)} (--show-ignored lists them)", style="dim"))
    if report.expired_ignores:
        t = Table(title="Expired ignore entries (no longer ignore anything)", title_justify="left")
        for col in ("#", "selects", "owner", "expired", "would match"):
            t.add_column(col, overflow="fold")
        for e, ids in report.expired_ignores:
            t.add_row(str(e.index), _selects(e), e.owner or "—", e.expires.isoformat() if e.expires else "—",
                      ", ".join(ids) or "—")  # fmt: skip
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
    console.print(Text(headline(report), style="bold"))
    if show_stats:
        t = Table(title="Cato API calls", title_justify="left")
        t.add_column("operation")
        t.add_column("calls", justify="right")
        for op, n in report.api_calls.items():
            t.add_row(op, str(n))
        console.print(t)


def _selects(e) -> str:
    return ", ".join(
        f"{k}={v}" for k, v in e.to_dict().items() if k in ("type", "name", "id", "property", "kind", "stack")
    )


def _findings(
    console: Console, title: str, findings: list[Finding], multi: bool, ignored: bool = False
) -> None:
    table = _findings_table(title, findings, multi, ignored)
    natural = Measurement.get(console, console.options.update_width(10_000), table).maximum
    if natural <= console.width:
        console.print(table)
        steps = [f for f in findings if f.actions is not None]
        if steps and not ignored:
            console.print(Text("Next steps", style="bold"))
            for f in steps:
                _steps(console, f, label=f.id)
        return
    console.print(Text(title, style="bold"))
    for f in findings:
        _block(console, f, multi, ignored)


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


def _grid(width: int) -> Table:
    """Label, value: the value wraps at spaces under itself (a hanging indent)."""
    g = Table.grid(padding=(0, 1))
    g.add_column(width=width, no_wrap=True)
    g.add_column(overflow="fold")
    return g


def _block(console: Console, f: Finding, multi: bool, ignored: bool) -> None:
    head = Text()
    head.append(f.id, style="bold")
    head.append(f"  {KIND_TEXT[f.kind]}", style="bold")
    head.append(f" · {_label(f, multi)}")
    if f.resource.stack and not multi:
        head.append(f" · stack {f.resource.stack}")
    if ignored and f.ignored_by:
        head.append(
            f" · ignored by #{f.ignored_by.index}"
            + (f" ({f.ignored_by.owner})" if f.ignored_by.owner else "")
        )
    console.print(head)
    for i, (prop, desired, live, cause, who, when) in enumerate(rows(f)):
        console.print(Text("  " + prop), overflow="fold")
        g = _grid(9)
        moved = f.changes and i < len(f.changes) and f.changes[i].op == MOVED
        g.add_row("    " + ("from" if moved else "state"), Text(desired))
        g.add_row("    " + ("to" if moved else "Cato"), Text(live))
        by = cause if who == "—" else f"{cause}: {who}" + (f", {when}" if when != "—" else "")
        g.add_row(
            "    " + ("by" if moved else "cause"), Text(by, style=CAUSE_STYLE.get(cause.split(" ")[0], ""))
        )
        console.print(g)
    if not ignored:
        _steps(console, f)
    console.print()


def _steps(console: Console, f: Finding, label: str | None = None) -> None:
    command, how, accept = next_steps(f)
    if label:
        console.print(Text(label, style="bold"))
    if command:
        console.print(Text("  revert:", style="bold"))
        # One line, never wrapped by us: copy it whole.
        console.print(Text("    " + command), soft_wrap=True, overflow="ignore", crop=False)
    else:
        g = _grid(9)
        g.add_row("  revert:", Text(how))
        console.print(g)
    if accept:
        g = _grid(9)
        g.add_row("  accept:", Text(accept))
        console.print(g)


def render_text(
    report: DriftReport, *, width: int = 160, show_stats: bool = False, show_ignored: bool = False
) -> str:
    console = Console(width=width, record=True, file=io.StringIO(), color_system=None)
    render_rich(report, console, show_stats=show_stats, show_ignored=show_ignored)
    return console.export_text()


# -- Markdown --------------------------------------------------------------------------------------
def md(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def md_code(v: Any, width: int = 80) -> str:
    t = value(v, width)
    return "—" if t == "—" else f"`{md(t).replace('`', 'ʼ')}`"


def render_markdown(report: DriftReport, *, show_ignored: bool = False) -> str:
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
        lines += ["", "### Next steps", ""]
        for f in report.active:
            lines += _md_steps(f)
    if report.ignored:
        if show_ignored:
            lines += ["", f"<details><summary>{len(report.ignored)} ignored finding(s)</summary>", ""]
            lines += _md_findings(report.ignored, multi)
            lines += ["", "</details>"]
        else:
            lines += ["", f"{md(ignored_summary(report))} (`--show-ignored` lists them)."]
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


def _md_steps(f: Finding) -> list[str]:
    a = f.actions
    if a is None:
        return []
    out = [f"<details><summary><code>{f.id}</code> {md(_label(f, False))}: revert or accept</summary>", ""]
    if a.revert.command:
        out += ["**Revert:**", "", "```sh", a.revert.command, "```", "", md(a.revert.how), ""]
    else:
        out += [f"**Revert:** {md(a.revert.how)}", ""]
    out += [f"**Accept:** {md(a.accept.how)}", ""]
    if a.accept.command:
        out += ["```sh", a.accept.command, "```", ""]
    if a.accept.adopt:
        out += ["```python", a.accept.adopt, "```", ""]
    if a.accept.patch:
        out += ["Patch (`git apply`):", "", "```diff", a.accept.patch.rstrip("\n"), "```", ""]
    out += [
        "Or ignore it (`.catoiacignore`):",
        "",
        "```yaml",
        a.accept.ignore.rstrip("\n"),
        "```",
        "",
        "</details>",
        "",
    ]
    return out
