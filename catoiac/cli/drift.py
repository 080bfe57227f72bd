"""``catoiac drift``: the stacks against the live account, attributed from the audit feed; and
``catoiac delete-unmanaged``, the revert of an unmanaged finding."""

from __future__ import annotations

import os
import re
from datetime import date, timedelta

import click

from . import main
from ._common import _credential_options, _emit, _fail, _parse_when, _stack_options

_DRIFT_FORMATS = click.Choice(["table", "markdown", "json", "html"])
DEFAULT_WIDTH = 80  # piped output with no COLUMNS: what a terminal would have


def _expiry(value: str | None) -> date | None:
    """``YYYY-MM-DD``, or ``+Nd`` (N days from today)."""
    if not value:
        return None
    m = re.fullmatch(r"\+(\d+)d", value.strip())
    if m:
        return date.today() + timedelta(days=int(m.group(1)))
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD) or a number of days (+90d)") from None


def _width() -> int:
    """Piped or written output follows COLUMNS (as a terminal's does), else 80 columns."""
    try:
        return max(40, int(os.environ.get("COLUMNS", "")))
    except ValueError:
        return DEFAULT_WIDTH


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
@click.option("--format", "fmt", type=_DRIFT_FORMATS, default="table", show_default=True)
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False), help="Write the report here instead of stdout."
)
@click.option("--stats", is_flag=True, help="Also show API calls per operation.")
@click.option("--show-ignored", is_flag=True, help="List ignored findings in full (default: count and ids).")
@click.option(
    "--write-ignore",
    is_flag=True,
    help="Accept the unmanaged objects as they stand: add an entry per object to the ignore file "
    "(by type and id, with --owner and --expires). New unmanaged objects are drift again.",
)
@click.option(
    "--owner", help="Owner of the ignore entries written or suggested [default: git user.email, $USER]."
)
@click.option(
    "--expires", help="Expiry of the ignore entries written or suggested: YYYY-MM-DD or +Nd [default: +90d]."
)
@click.option("--notify", "notify_urls", multiple=True, help="POST a summary to this webhook (repeatable).")
@click.option(
    "--notify-format", type=click.Choice(["json", "slack"]), default="json", show_default=True,
    help="json: catoiac.drift.summary; slack: a Slack incoming-webhook message.",
)  # fmt: skip
@click.option(
    "--notify-when", type=click.Choice(["drift", "always"]), default="drift", show_default=True,
    help="drift: only when the exit code is not 0 (drift, or an incomplete report).",
)  # fmt: skip
def drift(stacks, cwd, state_files, api_key, account_id, endpoint, own_key_id, own_key_name, ignore_file,
          cache_dir, no_cache, refresh_audit, since, until, no_audit, no_unmanaged, unmanaged_types, fmt, output,
          stats, show_ignored, write_ignore, owner, expires, notify_urls, notify_format, notify_when) -> None:  # fmt: skip
    """Compare the stacks' state with the live Cato account and explain every difference.

    Read only: runs `pulumi stack export/history/config`, never `up` or `refresh` (only --write-ignore
    writes, to the ignore file).

    \b
    Exit codes: 0 no drift (ignored findings do not count); 2 drift found; 1 the report is incomplete
    (a resource could not be read) or an error. A failed --notify does not change it.

    \b
    Each finding gets one cause from Cato's audit feed (searched from just before the stacks' last
    update to now): ui, other-api-key, this-tool or no-audit-record; and two actions: revert (the
    command that puts the code's value back) and accept (the code change, an ignore entry).

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
        ignore_path = ignore_file or ignore.DEFAULT_FILE  # written where it is read
        opts = DriftOptions(
            stacks=list(stacks), cwd=cwd, state_files=list(state_files), api_key=api_key, account_id=account_id,
            endpoint=endpoint, own_key_id=own_key_id, own_key_name=own_key_name,
            ignore_entries=[] if write_ignore and not os.path.exists(ignore_path) else ignore.load(ignore_file), cache_dir=cache_dir, use_cache=not no_cache,
            refresh_audit=refresh_audit, since=_parse_when(since), until=_parse_when(until), audit=not no_audit,
            unmanaged=not no_unmanaged,
            unmanaged_types=[t.strip() for t in unmanaged_types.split(",") if t.strip()] if unmanaged_types else None,
            owner=owner, expires=_expiry(expires), write_ignore=ignore_path if write_ignore else None,
        )  # fmt: skip
        if write_ignore and no_unmanaged:
            _fail("--write-ignore accepts the unmanaged objects as they stand: drop --no-unmanaged")
        with _progress(err) as progress:
            loaded = load_stacks(opts.stacks, cwd=opts.cwd, state_files=opts.state_files)
            report = run_drift(opts, loaded, progress=progress)
    except click.BadParameter as e:
        _fail(e.format_message())  # exit 1: exit 2 means drift
    except CatoError as e:
        _fail(e)
    for warning in report.warnings:
        err.print(f"warning: {warning}", markup=False, highlight=False, soft_wrap=True)
    w = report.ignore_written
    if w is not None:
        what = f"{w['entries']} unmanaged object(s)" + (
            f": {', '.join(w['findings'])}" if w["findings"] else ""
        )
        said = (f"wrote {what} to {w['file']} (owner {w['owner']}, expires {w['expires']}): review and commit it"
                if w["entries"] else f"no unmanaged object to add to {w['file']}: nothing written")  # fmt: skip
        err.print(said, markup=False, highlight=False, soft_wrap=True)
    if fmt == "json":
        _emit(report.to_json(), output)
    elif fmt == "markdown":
        _emit(render.render_markdown(report, show_ignored=show_ignored), output)
    elif fmt == "html":
        from ..drift.html import render_html

        _emit(render_html(report), output)
    elif output:
        _emit(render.render_text(report, width=_width(), show_stats=stats, show_ignored=show_ignored), output)
    else:
        console = Console()
        if not console.is_terminal:  # piped: COLUMNS if set (rich reads it), else 80, never 200
            console = Console(width=_width())
        render.render_rich(report, console, show_stats=stats, show_ignored=show_ignored)
    if report.exit_code == 1:
        # The report went to stdout or a file; stderr says why the run failed, whatever the format.
        lines = [f"  {e['urn']}: {e['error']}" for e in report.errors]
        _say = f"error: the report is incomplete: {len(report.errors)} item(s) could not be checked"
        err.print("\n".join([_say, *lines]), markup=False, highlight=False, soft_wrap=True)
    if notify_urls and (notify_when == "always" or report.exit_code != 0):
        from ..drift import notify

        payload = notify.summary(report, report.exit_code)
        if notify_format == "slack":
            payload = notify.slack(payload)
        for url in notify_urls:
            failed = notify.post(url, payload)
            if failed:
                err.print(f"warning: {failed}", markup=False, highlight=False, soft_wrap=True)
    raise SystemExit(report.exit_code)


@main.command("delete-unmanaged")
@_stack_options
@_credential_options
@click.argument("finding_ids", nargs=-1, required=True)
@click.option(
    "--unmanaged-types",
    help="Comma-separated types to scan, or 'all' [default: the types the stacks manage, as catoiac drift].",
)
@click.option("--yes", is_flag=True, help="Delete without asking.")
def delete_unmanaged(stacks, cwd, state_files, api_key, account_id, endpoint, finding_ids, unmanaged_types,
                     yes) -> None:  # fmt: skip
    """Delete from Cato the objects of unmanaged findings (FINDING_IDS, as `catoiac drift` prints them):
    the revert of an object no stack manages.

    Each id is looked up afresh and deleted only if it is still an unmanaged finding of these stacks;
    otherwise nothing is deleted. Asks before deleting unless --yes.

    \b
    Examples:
      catoiac delete-unmanaged D-3f2a91c0 --stack prod
      catoiac delete-unmanaged D-3f2a91c0 D-77b0e4d2 --stack prod --yes
    """
    from ..drift import unmanaged
    from ..drift.run import DriftOptions, client_for
    from ..drift.state import load_stacks
    from ..errors import CatoError
    from ..session import Session

    try:
        opts = DriftOptions(
            stacks=list(stacks), cwd=cwd, state_files=list(state_files), api_key=api_key, account_id=account_id,
            endpoint=endpoint,
            unmanaged_types=[t.strip() for t in unmanaged_types.split(",") if t.strip()] if unmanaged_types else None,
        )  # fmt: skip
        loaded = load_stacks(opts.stacks, cwd=opts.cwd, state_files=opts.state_files)
        with client_for(opts, loaded) as client:
            found = unmanaged.find(opts, loaded, client, list(dict.fromkeys(finding_ids)))
            for f in found:
                click.echo(f"will delete {unmanaged.describe(f)} from account {client.config.account_id}")
            if not yes:
                click.confirm("Delete these objects from Cato? This cannot be undone", abort=True)
            session = Session(client)
            for f in found:
                unmanaged.delete(session, f)
                click.echo(f"deleted {unmanaged.describe(f)}")
    except click.Abort:
        _fail("nothing was deleted (not confirmed; pass --yes to delete without asking)")
    except CatoError as e:
        _fail(e)


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
