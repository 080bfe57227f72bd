"""``catoiac drift``: the stacks against the live account, attributed from the audit feed."""

from __future__ import annotations

import click

from . import main
from ._common import _FORMATS, _credential_options, _emit, _fail, _parse_when, _stack_options


@main.command()
@_stack_options
@_credential_options
@click.option("--own-key-id", help="Id of the API key this tool runs as (default: inferred from the stack).")
@click.option("--own-key-name", help="Name of the API key this tool runs as.")
@click.option(
    "--ignore-file", type=click.Path(dir_okay=False), help="Ignore file [default: ./.catoiacignore]."
)
@click.option(
    "--cache-dir", type=click.Path(file_okay=False), help="Audit cache [default: ~/.cache/catoiac/audit]."
)
@click.option("--no-cache", is_flag=True, help="Neither read nor write the audit cache.")
@click.option(
    "--refresh-audit", is_flag=True, help="Drop the cached marker and records, fetch the window again."
)
@click.option("--since", help="Audit window start (ISO) [default: just before the stacks' last update].")
@click.option("--until", help="Audit window end (ISO) [default: now].")
@click.option("--no-audit", is_flag=True, help="Skip attribution (no auditFeed calls).")
@click.option("--no-unmanaged", is_flag=True, help="Skip the scan for objects no stack manages.")
@click.option(
    "--unmanaged-types",
    help="Comma-separated types to scan for unmanaged objects, or 'all' [default: the types the stacks manage].",
)
@click.option("--format", "fmt", type=_FORMATS, default="table", show_default=True)
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False), help="Write the report here instead of stdout."
)
@click.option("--stats", is_flag=True, help="Also show API calls per operation.")
def drift(stacks, cwd, state_files, api_key, account_id, endpoint, own_key_id, own_key_name, ignore_file,
          cache_dir, no_cache, refresh_audit, since, until, no_audit, no_unmanaged, unmanaged_types, fmt, output,
          stats) -> None:  # fmt: skip
    """Compare the stacks' state with the live Cato account and explain every difference.

    Read only: runs `pulumi stack export/history/config`, never `up` or `refresh`. Exit code 0: no
    drift; 2: drift found (ignored findings do not count); 1: error.

    \b
    Each finding gets one cause from Cato's audit feed (searched from just before the stacks' last
    update to now): ui, other-api-key, this-tool or no-audit-record. This tool's own key is
    --own-key-id/--own-key-name, else the API key whose records coincide with the stack's own work
    (it created the state's resources, at their state times, during stack updates); a change by it
    that the state does not hold is labelled this-tool (e.g. an interrupted `up`).

    \b
    Examples:
      catoiac drift --stack prod
      catoiac drift --stack prod --stack branches --format json -o drift.json
    """
    from rich.console import Console

    from ..drift import ignore, render
    from ..drift.run import DriftOptions, run_drift
    from ..drift.state import load_stacks
    from ..errors import CatoError

    err = Console(stderr=True)
    try:
        opts = DriftOptions(
            stacks=list(stacks), cwd=cwd, state_files=list(state_files), api_key=api_key, account_id=account_id,
            endpoint=endpoint, own_key_id=own_key_id, own_key_name=own_key_name,
            ignore_entries=ignore.load(ignore_file), cache_dir=cache_dir, use_cache=not no_cache,
            refresh_audit=refresh_audit, since=_parse_when(since), until=_parse_when(until), audit=not no_audit,
            unmanaged=not no_unmanaged,
            unmanaged_types=[t.strip() for t in unmanaged_types.split(",") if t.strip()] if unmanaged_types else None,
        )  # fmt: skip
        with _progress(err) as progress:
            loaded = load_stacks(opts.stacks, cwd=opts.cwd, state_files=opts.state_files)
            report = run_drift(opts, loaded, progress=progress)
    except CatoError as e:
        _fail(e)
    for warning in report.warnings:
        err.print(f"warning: {warning}", markup=False, highlight=False, soft_wrap=True)
    if fmt == "json":
        _emit(report.to_json(), output)
    elif fmt == "markdown":
        _emit(render.render_markdown(report), output)
    elif output:
        _emit(render.render_text(report, width=200, show_stats=stats), output)
    else:
        console = Console()
        if not console.is_terminal:  # CI logs: wide lines read better than folded cells
            console = Console(width=200)
        render.render_rich(report, console, show_stats=stats)
    if report.exit_code == 1:
        # The report went to stdout or a file; stderr says why the run failed, whatever the format.
        lines = [f"  {e['urn']}: {e['error']}" for e in report.errors]
        _say = f"error: the report is incomplete: {len(report.errors)} item(s) could not be checked"
        err.print("\n".join([_say, *lines]), markup=False, highlight=False, soft_wrap=True)
    raise SystemExit(report.exit_code)


class _progress:
    """A rich progress display on stderr (only on a terminal) fed by the read path's hooks."""

    def __init__(self, console) -> None:
        self.console = console

    def __enter__(self):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        from ..drift.run import Progress as Hooks

        self._bar = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            console=self.console, transient=True, disable=not self.console.is_terminal,
        )  # fmt: skip
        self._bar.__enter__()
        tasks: dict[str, int] = {}

        def on_page(kind: str, done: int, total: int) -> None:
            if kind not in tasks:
                tasks[kind] = self._bar.add_task(f"reading {kind}", total=total or None)
            self._bar.update(tasks[kind], completed=done, total=total or None)

        def on_audit(calls: int, records: int) -> None:
            if "audit" not in tasks:
                tasks["audit"] = self._bar.add_task("audit feed", total=None)
            self._bar.update(tasks["audit"], completed=records, description=f"audit feed: {calls} page(s)")

        return Hooks(on_page=on_page, on_audit_page=on_audit)

    def __exit__(self, *exc) -> None:
        self._bar.__exit__(*exc)
