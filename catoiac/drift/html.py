"""``catoiac drift --format html``: one self-contained file (jinja2; no external asset: styles and the
filter script are inline), to keep as a build artefact or open from a notification.

Findings can be filtered by kind, type and cause, searched, and the filter is kept in the URL
fragment (``drift.html#kind=modified&q=alice``). Each finding shows its changes, its revert and
accept actions and the audit timeline of its resource; the coverage table closes the page."""

from __future__ import annotations

from importlib import resources
from typing import Any

from .render import KIND_TEXT, headline, rows
from .report import CAUSES, DriftReport, Finding


def _search_text(f: Finding, d: dict[str, Any]) -> str:
    r = d["resource"]
    parts = [f.id, f.kind, f.cause, r["type"], r["name"], r["cato_name"], r["cato_id"], r["stack"], r["urn"]]
    parts += [c["path"] for c in d["changes"]]
    for a in [d["attribution"], *(c["attribution"] for c in d["changes"] if c.get("attribution"))]:
        if a and a.get("actor"):
            parts += [a["actor"].get("name"), a["actor"].get("id")]
    return " ".join(str(p) for p in parts if p).lower()


def render_html(report: DriftReport) -> str:
    from jinja2 import Environment, select_autoescape

    data = report.to_dict()
    findings = []
    for f, d in zip(report.findings, data["findings"], strict=True):
        picked = {a["time"] for a in [d["attribution"], *(c["attribution"] or {} for c in d["changes"])] if a}
        findings.append({**d, "rows": rows(f), "search": _search_text(f, d), "picked": picked - {None}})
    status = "incomplete" if report.errors else "drift" if report.drift else "clean"
    env = Environment(autoescape=select_autoescape(default=True), trim_blocks=True, lstrip_blocks=True)
    template = env.from_string(resources.files("catoiac.drift").joinpath("report.html.j2").read_text())
    return template.render(
        data=data,
        findings=findings,
        active=report.active,
        status=status,
        headline=headline(report),
        kinds=sorted({f.kind for f in report.findings}, key=list(KIND_TEXT).index),
        types=sorted({f.resource.type for f in report.findings}),
        causes=[c for c in CAUSES if any(f.cause == c for f in report.findings)],
        kind_text=KIND_TEXT,
    )
