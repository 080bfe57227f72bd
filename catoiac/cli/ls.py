"""``catoiac ls``: an inventory of one type of the live account, with ids."""

from __future__ import annotations

import json

import click

from . import main
from ._common import _credential_options, _emit, _fail


def client_from(stack, cwd, api_key, account_id, endpoint):
    """A client with each setting resolved as ``catoiac drift`` does: the flag, then the stack's
    config (only when --stack is given), then CATO_TOKEN/CATO_ACCOUNT_ID/CATO_BASEURL."""
    from ..drift.run import DriftOptions, client_for
    from ..drift.state import load_stacks

    stacks = load_stacks([stack], cwd=cwd) if stack else []
    return client_for(
        DriftOptions(api_key=api_key, account_id=account_id, endpoint=endpoint, cwd=cwd), stacks
    )


def stack_option(fn):
    fn = click.option(
        "--cwd", type=click.Path(exists=True, file_okay=False), help="The Pulumi project folder."
    )(fn)
    return click.option("--stack", help="Take credentials from this stack's config (cato:apiKey...).")(fn)


@main.command(name="ls")
@click.argument("type_name", metavar="TYPE")
@click.option("--filter", "filters", multiple=True, metavar="FIELD=VALUE",
              help="Only rows whose FIELD is VALUE (a glob with * ? [); repeat to combine (all must hold).")  # fmt: skip
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@stack_option
@_credential_options
@click.option("--stats", is_flag=True, help="Also show API calls per operation (on stderr).")
def ls(type_name, filters, fmt, stack, cwd, api_key, account_id, endpoint, stats) -> None:
    """List the live objects of one TYPE, with their ids.

    TYPE is a resource type (SocketSite, NetworkRange, StaticHost, SocketInterface, BgpPeer,
    Group) or a policy family's rules or sections (InternetFirewallRule, InternetFirewallSection,
    WanNetworkRule...; InternetFirewallPolicy means its rules). An unknown TYPE lists them all.
    Nested fields filter with dots (location.country_code). Reads the account once: one call per
    collection and page, one policy query per family.

    \b
    Examples:
      catoiac ls NetworkRange --filter site=Paris
      catoiac ls InternetFirewallRule --filter 'section=Guest*' --format json
    """
    from ..errors import CatoError
    from ..inventory import listing, resolve, table_columns
    from ..readpath import AccountReader
    from ..secrets import scrub

    try:
        resolve(type_name)  # an unknown type is refused before credentials are looked for
        with client_from(stack, cwd, api_key, account_id, endpoint) as client:
            kind, rows = listing(AccountReader(client), type_name, filters)
            if stats:
                from rich.console import Console

                Console(stderr=True, width=120).print(
                    client.stats.render(f"Cato API calls of ls {kind.name}")
                )
    except CatoError as e:
        _fail(e)
    if fmt == "json":
        _emit(
            scrub(json.dumps({"type": kind.name, "count": len(rows), "items": rows}, indent=2, default=str)),
            None,
        )
        return
    # Plain aligned columns, one object a line, never folded: it greps, cuts and diffs well.
    cols = table_columns(kind, rows)
    cells = [[scrub("" if r.get(c) is None else str(r.get(c))) for c in cols] for r in rows]
    shown = [i for i, c in enumerate(cols) if c in kind.columns or any(line[i] for line in cells)]
    widths = {i: max([len(cols[i])] + [len(line[i]) for line in cells]) for i in shown}
    for line in [cols, *cells]:
        click.echo("  ".join(line[i].ljust(widths[i]) for i in shown).rstrip())
    click.echo(f"({len(rows)} {kind.name})", err=True)
