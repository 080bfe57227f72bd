"""The ``catoiac`` command line."""

from __future__ import annotations

from pathlib import Path

import click


@click.group()
@click.version_option(package_name="catoiac")
def main() -> None:
    """Infrastructure as code for Cato Networks: drift reports, change reviews, a local emulator."""


@main.group()
def emulator() -> None:
    """A local stand-in for the Cato API, with the same wire format, auth, limits and audit trail."""


@emulator.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8787, show_default=True, type=int, help="Port (0 picks a free one).")
@click.option("--db", default=":memory:", show_default=True, help="SQLite file for state, or :memory:.")
@click.option(
    "--seed", "seed", type=click.Path(exists=True, dir_okay=False), help="Fixture (YAML/JSON) to load."
)
@click.option(
    "--rate-limits/--no-rate-limits", default=True, show_default=True, help="Enforce Cato's limits."
)
@click.option("--rate-limit-status", type=click.Choice(["200", "429"]), default="200", show_default=True)
def serve(host: str, port: int, db: str, seed: str | None, rate_limits: bool, rate_limit_status: str) -> None:
    """Serve the emulated Cato API at http://HOST:PORT/api/v1/graphql2."""
    from .emulator.limits import RateLimitConfig
    from .emulator.server import EmulatorServer

    cfg = RateLimitConfig(enabled=rate_limits, status=int(rate_limit_status))
    server = EmulatorServer(db, host=host, port=port, seed=seed, rate_limits=cfg)
    click.echo(f"Cato API emulator on {server.url} (state: {db})", err=True)
    click.echo(f"export CATO_BASEURL={server.url}", err=True)
    server.serve_forever()


@emulator.command("as-admin")
@click.option("--url", default="http://127.0.0.1:8787", show_default=True, help="The emulator's root URL.")
@click.option("--account", required=True, help="Account id.")
@click.option("--admin", required=True, help="The admin's email, as in the fixture's admins.")
@click.option("--variables", default="{}", help="JSON object of GraphQL variables.")
@click.argument("document")
def as_admin(url: str, account: str, admin: str, variables: str, document: str) -> None:
    """Run a GraphQL DOCUMENT as an admin in the Cato UI: an out-of-band change by a person."""
    import json

    from .emulator.control import EmulatorControl

    with EmulatorControl(url) as ctl:
        result = ctl.as_admin(account, admin, document, {"accountId": account, **json.loads(variables)})
    click.echo(json.dumps(result, indent=2))
    if result.get("errors"):
        raise SystemExit(1)


@emulator.command("gen-schema")
@click.option(
    "--real",
    "real",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=Path("../shared/cato/cato_api.graphqls"),
    show_default=True,
    help="The real Cato schema (SDL).",
)
def gen_schema(real: Path) -> None:
    """Regenerate the emulator's schema subset from the real schema and schema_spec.yaml."""
    from .emulator import schema_gen

    lines = schema_gen.write(real)
    click.echo(f"wrote {schema_gen.SCHEMA_PATH} ({lines} lines)")


# -- drift, review, audit ------------------------------------------------------------------------
_FORMATS = click.Choice(["table", "markdown", "json"])


def _credential_options(fn):
    """--api-key/--account-id/--endpoint; the key only ever from the flag or CATO_TOKEN."""
    # The stack's own config beats the environment for where to look; flags beat both.
    fn = click.option("--endpoint", help="GraphQL endpoint [default: cato:endpoint, else env CATO_BASEURL].")(
        fn
    )
    fn = click.option(
        "--account-id", help="Cato account id [default: cato:accountId, else env CATO_ACCOUNT_ID]."
    )(fn)
    fn = click.option(
        "--api-key",
        envvar="CATO_TOKEN",
        show_default=False,
        help="Cato API key [env CATO_TOKEN]. Never printed.",
    )(fn)
    return fn


def _stack_options(fn):
    fn = click.option("--state-file", "state_files", multiple=True, type=click.Path(exists=True, dir_okay=False),
                      help="An exported state (pulumi stack export) instead of asking pulumi.")(fn)  # fmt: skip
    fn = click.option(
        "--cwd", type=click.Path(exists=True, file_okay=False), help="The Pulumi project folder."
    )(fn)
    fn = click.option(
        "--stack", "stacks", multiple=True, help="Stack name; repeat to combine several stacks."
    )(fn)
    return fn


def _fail(err: Exception) -> None:
    click.echo(f"error: {err}", err=True)
    raise SystemExit(1)


def _parse_when(value: str | None):
    from datetime import UTC, datetime

    if not value:
        return None
    try:
        t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO date/time such as 2026-05-01T12:00:00Z") from None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


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
    """
    from rich.console import Console

    from .drift import ignore, render
    from .drift.run import DriftOptions, run_drift
    from .drift.state import load_stacks
    from .errors import CatoError

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
    raise SystemExit(report.exit_code)


def _emit(text: str, output: str | None) -> None:
    if output:
        Path(output).write_text(text)
    else:
        click.echo(text, nl=not text.endswith("\n"))


class _progress:
    """A rich progress display on stderr (only on a terminal) fed by the read path's hooks."""

    def __init__(self, console) -> None:
        self.console = console

    def __enter__(self):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        from .drift.run import Progress as Hooks

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


@main.command()
@click.argument("preview", type=click.File("r"), default="-")
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False), help="Write the Markdown here instead of stdout."
)
@click.option(
    "--fail-on-destructive", is_flag=True, help="Exit 2 when the preview replaces or deletes anything."
)
def review(preview, output, fail_on_destructive) -> None:
    """Turn `pulumi preview --json` (a file, or stdin) into Markdown for a pull request.

    Grouped by site and by policy, with property diffs, rule moves, destructive changes called out,
    and how many policy publishes the `up` will make. Secrets stay masked.
    """
    import json

    from .drift.review import DESTRUCTIVE, steps_of
    from .drift.review import review as render_review

    try:
        data = json.load(preview)
    except ValueError as e:
        _fail(f"the preview is not JSON ({e}): run `pulumi preview --json`")
    _emit(render_review(data), output)
    if fail_on_destructive and any(s.op in DESTRUCTIVE for s in steps_of(data)[0]):
        raise SystemExit(2)


@main.command("audit")
@_stack_options
@_credential_options
@click.option("--urn", help="One resource, by URN.")
@click.option("--name", help="Resources by Pulumi or Cato name (glob).")
@click.option("--id", "rid", help="One resource, by Cato id.")
@click.option("--since", help="Start (ISO) [default: 7 days ago].")
@click.option("--until", help="End (ISO) [default: now].")
@click.option("--actor", help="Only records by this admin or API key (id or name).")
@click.option(
    "--change-type", "change_types", multiple=True, help="CREATED, MODIFIED, DELETED... (repeatable)."
)
@click.option("--own-key-id", help="Id of the API key this tool runs as (default: inferred).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def audit_cmd(stacks, cwd, state_files, api_key, account_id, endpoint, urn, name, rid, since, until, actor,
              change_types, own_key_id, fmt) -> None:  # fmt: skip
    """The audit trail (who changed what, when) of managed resources, from Cato's audit feed."""
    from datetime import UTC, datetime, timedelta

    from rich.console import Console

    from .drift import trail
    from .drift.audit import OwnKey
    from .drift.run import DriftOptions, client_for
    from .drift.state import load_stacks
    from .errors import CatoError

    now = datetime.now(UTC)
    start, end = (
        _parse_when(since) or now - timedelta(days=7),
        _parse_when(until) or now + timedelta(minutes=1),
    )
    try:
        loaded = load_stacks(list(stacks), cwd=cwd, state_files=list(state_files))
        chosen = trail.select(loaded, urn=urn, name=name, rid=rid)
        if not chosen:
            _fail("no resource in the stack matches --urn/--name/--id")
        opts = DriftOptions(api_key=api_key, account_id=account_id, endpoint=endpoint)
        own = OwnKey(own_key_id, None, "flag") if own_key_id else None
        with client_for(opts, loaded) as client:
            rows, own = trail.trail(
                client,
                loaded,
                chosen,
                since=start,
                until=end,
                actor=actor,
                change_types=tuple(change_types),
                own=own,
            )
    except CatoError as e:
        _fail(e)
    if fmt == "json":
        _emit(trail.to_json(rows, own, start, end), None)
    else:
        console = Console()
        trail.render(rows, console if console.is_terminal else Console(width=200))
