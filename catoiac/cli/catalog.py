"""``catoiac catalog``: Cato's applications, categories and services, by a word."""

from __future__ import annotations

import json

import click

from . import main
from ._common import _credential_options, _emit, _fail
from .ls import client_from, stack_option

KINDS = ("application", "category", "service")


@main.group()
def catalog() -> None:
    """Cato's catalogs: the exact names and ids rules use.

    \b
    Examples:
      catoiac catalog search gambl --kind category
    """


@catalog.command()
@click.argument("text")
@click.option("--kind", "kinds", multiple=True, type=click.Choice(KINDS),
              help="Only this kind; repeatable [default: all three].")  # fmt: skip
@click.option("--limit", default=20, show_default=True, help="At most this many results.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@stack_option
@_credential_options
def search(text, kinds, limit, fmt, stack, cwd, api_key, account_id, endpoint) -> None:
    """Find applications, application categories and services by a word (prefix, substring or a
    close spelling), best match first, with the exact name to put in a rule and its id.

    Applications come from Cato's catalog (one or two catalogs calls; needs credentials, resolved
    as `catoiac drift` does). Cato's API lists no categories or services: those come from
    catoiac's copy, with no API call and no credentials (without credentials only they are searched).

    \b
    Examples:
      catoiac catalog search gambl
      catoiac catalog search https --kind service
    """
    from ..catalog import search as find
    from ..errors import CatoError, ConfigurationError
    from ..readpath import AccountReader

    asked = kinds
    kinds = kinds or KINDS
    try:
        client = None
        if "application" in kinds:
            try:
                client = client_from(stack, cwd, api_key, account_id, endpoint)
            except ConfigurationError as e:
                if asked:  # applications asked for by name: say why they cannot be searched
                    raise
                # No credentials: categories and services need none, applications are skipped.
                click.echo(f"warning: applications not searched ({e})", err=True)
                kinds = tuple(k for k in kinds if k != "application")
        if client is not None:
            with client:
                found = find(AccountReader(client), text, kinds, limit)
        else:
            found = find(None, text, kinds, limit)
    except CatoError as e:
        _fail(e)
    if fmt == "json":
        _emit(json.dumps([e.as_dict() for e in found], indent=2), None)
        return
    if not found:
        click.echo(f"nothing in {', '.join(kinds)} matches {text!r}")
        raise SystemExit(1)
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{len(found)} match(es) for {text!r}", title_justify="left")
    for c in ("kind", "name (in a rule)", "id", "detail"):
        table.add_column(c)
    for e in found:
        table.add_row(e.kind, e.name, e.id, e.detail)
    console = Console()
    if not console.is_terminal:
        console = Console(width=160)
    console.print(table, markup=False, highlight=False)
    top = found[0]
    where = {"application": 'destination={"application": [%s]}', "category": 'destination={"app_category": [%s]}',
             "service": 'service={"standard": [%s]}'}[top.kind]  # fmt: skip
    click.echo("in a rule: " + where % json.dumps(top.name))
