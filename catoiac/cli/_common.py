"""Options and helpers the commands share."""

from __future__ import annotations

from pathlib import Path

import click

_FORMATS = click.Choice(["table", "markdown", "json"])


def _credential_options(fn):
    """--api-key/--account-id/--endpoint, resolved as the provider does (drift.run.client_for)."""
    # Flags first, then the stack's own config, then the environment. The key has no envvar= here:
    # click would make CATO_TOKEN beat the stack's cato:apiKey.
    fn = click.option("--endpoint", help="GraphQL endpoint [default: cato:endpoint, else env CATO_BASEURL].")(
        fn
    )
    fn = click.option(
        "--account-id", help="Cato account id [default: cato:accountId, else env CATO_ACCOUNT_ID]."
    )(fn)
    fn = click.option(
        "--api-key",
        show_default=False,
        help="Cato API key [default: cato:apiKey (decrypted with pulumi config), else env CATO_TOKEN]. "
        "Never printed.",
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


def _fail(err: Exception | str) -> None:
    """Exit 1 saying why on stderr, secrets masked (every exit 1 says why)."""
    from ..secrets import scrub

    click.echo(f"error: {scrub(str(err))}", err=True)
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


def _emit(text: str, output: str | None) -> None:
    if output:
        Path(output).write_text(text)
    else:
        click.echo(text, nl=not text.endswith("\n"))
