"""Health reports for people: a table for a terminal or CI log, Markdown for a pull request or
issue, and one self-contained HTML file (jinja2) to keep as a build artefact."""

from __future__ import annotations

import io
from importlib import resources
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..drift.render import md
from .model import DEGRADED, HEALTHY, HealthReport, LinkHealth, Quality, SiteHealth, iso

STATUS_STYLE = {HEALTHY: "green", DEGRADED: "red", "error": "red", "warning": "yellow"}
MARK = {HEALTHY: "✅", DEGRADED: "❌", "error": "❌", "warning": "⚠️"}


def headline(report: HealthReport) -> str:
    s = report.summary()
    if report.error:
        return f"error: {report.error}"
    word = "healthy" if report.status == HEALTHY else "degraded"
    text = f"{word}: {s['healthy_sites']} of {s['sites']} site(s) healthy"
    if s["degraded_findings"]:
        text += f", {s['degraded_findings']} problem(s)"
    if s["warnings"]:
        text += f", {s['warnings']} warning(s)"
    p = report.polls
    if p["count"] > 1:
        text += f" (after {p['count']} polls, {p['waited_seconds']:.0f} s)"
    return text


def scope(report: HealthReport) -> str:
    stacks = ", ".join(s.name for s in report.stacks) or "none"
    w = report.window
    return f"account {report.account_id} · stacks {stacks} · since {w['since']} ({w['since_source']}) → {w['until']}"


def quality(q: Quality | None) -> str:
    if q is None or not q.buckets:
        return "—"
    parts = []
    if q.loss_pct is not None:
        parts.append(f"loss {q.loss_pct:.2f}%")
    if q.latency_ms is not None:
        parts.append(f"{q.latency_ms:.0f} ms")
    if q.jitter_ms is not None:
        parts.append(f"jitter {q.jitter_ms:.1f} ms")
    if q.throughput_mbps is not None:
        parts.append(f"{q.throughput_mbps:.2f} Mbps")
    return ", ".join(parts)


def link_state(link: LinkHealth) -> str:
    return {True: "up", False: "down", None: "not configured"}[link.connected]


def connectivity(site: SiteHealth) -> str:
    c = site.connectivity
    if c is None:
        return "unknown"
    text = str(c.get("status") or "unknown")
    if c.get("operational_status") and c["operational_status"] != "active":
        text += f", {c['operational_status']}"
    if c.get("status") == "disconnected" and c.get("last_connected"):
        text += f" since {c['last_connected']}"
    if c.get("is_ha"):
        text += f", HA {((c.get('ha') or {}).get('readiness')) or 'unknown'}"
    return text


# -- table ---------------------------------------------------------------------------------------------------
def render_rich(report: HealthReport, console: Console) -> None:
    console.print(Text(headline(report), style=STATUS_STYLE.get(report.status, "") + " bold"))
    console.print(scope(report))
    sites = Table(title="Sites", title_justify="left")
    for col in ("site", "status", "connectivity", "links", "events", "stories"):
        sites.add_column(col)
    for s in report.sites:
        links = ", ".join(f"{x.name} {link_state(x)}" for x in s.links if x.connected is not None) or "—"
        sites.add_row(s.name, Text(s.status, style=STATUS_STYLE[s.status]), connectivity(s), links,
                      str(len(s.events) + s.security_events), str(len(s.stories)))  # fmt: skip
    console.print(sites)
    links = Table(title="Link quality (baseline before the update → now)", title_justify="left")
    for col in ("site", "link", "state", "baseline", "now"):
        links.add_column(col)
    for s in report.sites:
        for x in s.links:
            links.add_row(s.name, x.name, link_state(x), quality(x.baseline), quality(x.recent))
    if links.row_count:
        console.print(links)
    if report.findings:
        t = Table(title="Findings", title_justify="left")
        for col in ("", "site", "finding", "correlation"):
            t.add_column(col)
        for f in report.findings:
            t.add_row(Text(f.severity, style=STATUS_STYLE.get(f.severity, "")), f.site or "—", f.message,
                      f.correlation.text if f.correlation else "—")  # fmt: skip
        console.print(t)
    _families_rich(report, console)
    for w in report.warnings:
        console.print(Text(f"warning: {w}", style="yellow"))


def _families_rich(report: HealthReport, console: Console) -> None:
    t = Table(title="API calls by query family", title_justify="left")
    for col in ("family", "operation", "status", "calls"):
        t.add_column(col)
    for f in report.families:
        style = "green" if f["status"] == "ok" else "dim" if f["status"] == "skipped" else "red"
        t.add_row(f["family"], f["operation"], Text(f["status"], style=style), str(f["calls"]))
    console.print(t)


def render_text(report: HealthReport, width: int = 200) -> str:
    out = io.StringIO()
    render_rich(report, Console(file=out, width=width, color_system=None, force_terminal=False))
    return out.getvalue()


# -- markdown --------------------------------------------------------------------------------------------------
def render_markdown(report: HealthReport) -> str:
    lines = [
        f"## {MARK.get(report.status, '')} Cato network health: {md(headline(report))}",
        "",
        md(scope(report)),
        "",
    ]
    if report.findings:
        lines += ["| | site | finding | correlation |", "| --- | --- | --- | --- |"]
        for f in report.findings:
            corr = md(f.correlation.text) if f.correlation else "—"
            lines.append(
                f"| {MARK.get(f.severity, '')} {f.severity} | {md(f.site or '—')} | {md(f.message)} | {corr} |"
            )
        lines.append("")
    lines += ["| site | status | connectivity | links (baseline → now) |", "| --- | --- | --- | --- |"]
    for s in report.sites:
        links = "<br>".join(
            f"{md(x.name)} {link_state(x)}: {md(quality(x.baseline))} → {md(quality(x.recent))}"
            for x in s.links
        )
        lines.append(
            f"| {md(s.name)} | {MARK[s.status]} {s.status} | {md(connectivity(s))} | {links or '—'} |"
        )
    lines += ["", "<details><summary>Query families and API calls</summary>", "",
              "| family | operation | status | calls |", "| --- | --- | --- | --- |"]  # fmt: skip
    for f in report.families:
        note = f" ({md(f['error'])})" if f.get("error") else ""
        lines.append(f"| {f['family']} | `{f['operation']}` | {f['status']}{note} | {f['calls']} |")
    lines += ["", "</details>"]
    if report.warnings:
        lines += [""] + [f"> ⚠️ {md(w)}" for w in report.warnings]
    return "\n".join(lines) + "\n"


# -- html ------------------------------------------------------------------------------------------------------
def render_html(report: HealthReport) -> str:
    from jinja2 import Environment, select_autoescape

    env = Environment(autoescape=select_autoescape(default=True), trim_blocks=True, lstrip_blocks=True)
    template = env.from_string(resources.files("catoiac.health").joinpath("report.html.j2").read_text())
    return template.render(
        report=report,
        data=report.to_dict(),
        headline=headline(report),
        scope=scope(report),
        quality=quality,
        link_state=link_state,
        connectivity=connectivity,
        iso=iso,
    )


def render(report: HealthReport, fmt: str) -> str:
    renderers: dict[str, Any] = {"json": HealthReport.to_json, "markdown": render_markdown, "html": render_html,
                                 "table": render_text}  # fmt: skip
    return renderers[fmt](report)
