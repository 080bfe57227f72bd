"""The doctor's report: one result per check, in the order they run, and its three renderings."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from typing import Any

from .. import __version__
from .schema_drift import SchemaDrift

PASS, WARNING, ERROR, SKIPPED = "pass", "warning", "error", "skipped"
REPORT_VERSION = 1
_ICON = {PASS: "✅", WARNING: "⚠️", ERROR: "❌", SKIPPED: "⏭️"}
_STYLE = {PASS: "green", WARNING: "yellow", ERROR: "red", SKIPPED: "dim"}


@dataclass
class CheckResult:
    id: str
    title: str
    status: str
    summary: str
    fix: str | None = None
    details: list[str] = field(default_factory=list)
    """More lines for people (one per probe, per header...)."""
    data: dict[str, Any] = field(default_factory=dict)
    """Machine-readable facts (skew seconds, permissions per family...)."""

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "status": self.status, "summary": self.summary,
                "fix": self.fix, "details": self.details, "data": self.data}  # fmt: skip


@dataclass
class DoctorReport:
    endpoint: str
    account_id: str | None
    stack: str | None
    access: str
    checks: list[CheckResult] = field(default_factory=list)
    schema: SchemaDrift | None = None
    calls: dict[str, int] = field(default_factory=dict)
    """HTTP requests per operation this run sent (API calls are what Cato limits)."""

    @property
    def status(self) -> str:
        statuses = {c.status for c in self.checks}
        return ERROR if ERROR in statuses else WARNING if WARNING in statuses else PASS

    @property
    def exit_code(self) -> int:
        """0 all fine, 2 warnings only (e.g. deprecations), 1 any error."""
        return {PASS: 0, WARNING: 2, ERROR: 1}[self.status]

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": REPORT_VERSION,
            "tool": f"catoiac {__version__}",
            "endpoint": self.endpoint,
            "account_id": self.account_id,
            "stack": self.stack,
            "access": self.access,
            "status": self.status,
            "exit_code": self.exit_code,
            "checks": [c.to_dict() for c in self.checks],
            "schema": self.schema.to_dict() if self.schema else None,
            "calls": dict(sorted(self.calls.items())),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)


def _title(report: DoctorReport) -> str:
    where = f"account {report.account_id or '?'} at {report.endpoint}"
    return f"catoiac doctor: {where}" + (f" (stack {report.stack})" if report.stack else "")


def _schema_rows(drift: SchemaDrift) -> list[tuple[str, str, str, str]]:
    rows = []
    for f in drift.findings:
        what = f"{f.problem} {f.kind}"
        note = f.reason or ""
        if f.replacement:
            note += f" (replacement: {f.replacement})"
        if f.date:
            note += f" (date: {f.date})"
        if f.waived:
            note += f" (known: {f.waived})"
        rows.append(
            (f.severity, what, f.coordinate, "; ".join(f.used_by) + (f" — {note.strip()}" if note else ""))
        )
    return rows


def render_markdown(report: DoctorReport) -> str:
    def cell(text: str | None) -> str:
        return (text or "").replace("|", "\\|").replace("\n", "<br>")

    out = [f"## {_title(report)}", "",
           f"**{_ICON[report.status]} {report.status}** (exit code {report.exit_code})", "",
           "| # | Check | Status | Result | Fix |", "|---|---|---|---|---|"]  # fmt: skip
    for i, c in enumerate(report.checks, 1):
        result = cell(c.summary) + "".join(f"<br>{cell(d)}" for d in c.details)
        out.append(f"| {i} | {c.title} | {_ICON[c.status]} {c.status} | {result} | {cell(c.fix)} |")
    if report.schema and report.schema.findings:
        out += [
            "",
            "### Schema drift",
            "",
            "| Severity | Change | Coordinate | Used by, reason |",
            "|---|---|---|---|",
        ]
        out += [f"| {s} | {w} | `{cell(c)}` | {cell(u)} |" for s, w, c, u in _schema_rows(report.schema)]
    return "\n".join(out) + "\n"


def render_rich(report: DoctorReport, console) -> None:
    from rich.table import Table
    from rich.text import Text

    t = Table(title=_title(report), title_justify="left", show_lines=True)
    for col in ("#", "check", "status", "result", "fix"):
        t.add_column(col, overflow="fold")
    for i, c in enumerate(report.checks, 1):
        result = "\n".join([c.summary, *c.details])
        t.add_row(str(i), c.title, Text(c.status, style=_STYLE[c.status]), result, c.fix or "")
    console.print(t)
    if report.schema and report.schema.findings:
        s = Table(title="Schema drift", title_justify="left")
        for col in ("severity", "change", "coordinate", "used by, reason"):
            s.add_column(col, overflow="fold")
        for sev, what, coord, used in _schema_rows(report.schema):
            style = {"error": "red", "warning": "yellow"}.get(sev, "dim")
            s.add_row(Text(sev, style=style), what, coord, used)
        console.print(s)
    verdict = {PASS: "all checks passed", WARNING: "warnings only", ERROR: "errors found"}[report.status]
    console.print(Text(f"{verdict} (exit code {report.exit_code})", style=_STYLE[report.status]))


def render_text(report: DoctorReport, width: int = 200) -> str:
    from rich.console import Console

    buf = io.StringIO()
    render_rich(report, Console(file=buf, width=width, no_color=True, highlight=False))
    return buf.getvalue()
