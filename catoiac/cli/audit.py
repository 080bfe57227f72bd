"""``catoiac audit``: the audit trail of managed resources."""

from __future__ import annotations

import click

from . import main
from ._common import _credential_options, _emit, _fail, _parse_when, _stack_options


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
    """The audit trail (who changed what, when) of managed resources, from Cato's audit feed.

    \b
    Examples:
      catoiac audit --stack prod --since 2026-11-01
      catoiac audit --stack prod --name 'Lisbon*' --change-type MODIFIED --format json
    """
    from datetime import UTC, datetime, timedelta

    from rich.console import Console

    from ..drift import trail
    from ..drift.audit import OwnKey
    from ..drift.run import DriftOptions, client_for
    from ..drift.state import load_stacks
    from ..errors import CatoError

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
