"""``catoiac import``: write a Pulumi program that brings a live account under code."""

from __future__ import annotations

import click

from . import main
from ._common import _credential_options, _fail


@main.command(name="import")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="The project folder to write.")
@click.option(
    "--stack", help="Also write Pulumi.<STACK>.yaml with the account's cato:accountId and endpoint."
)
@click.option(
    "--site", "sites", multiple=True, help="Only this site (name or id) and what is in it; repeatable."
)
@click.option("--types", help="Comma-separated resource types, e.g. SocketSite,NetworkRange [default: all].")
@click.option(
    "--project-name", help="The Pulumi project's name [default: the earlier import's, else cato-<account>]."
)
@click.option(
    "--force", is_flag=True, help="Write into a folder that holds something else, and over edited files."
)
@_credential_options
@click.option("--stats", is_flag=True, help="Also show API calls per operation.")
def import_(out, stack, sites, types, project_name, force, api_key, account_id, endpoint, stats) -> None:
    """Write a Pulumi project that declares the live Cato account, adopting every object.

    \b
    Reads the account once (the shared bulk read: one call per collection and page, one policy
    query per family, BGP peers one call per site), then writes OUT: Pulumi.yaml, requirements.txt,
    a module per site, account-wide objects, a module per policy and a README (what was imported,
    what was not and why, how to run it). Its first `pulumi up` adopts everything with no change to
    Cato. Into a folder an earlier import wrote, only what changed is written: --site NAME adds
    that site's module, files you edited are kept. Credentials: --api-key/--account-id/--endpoint,
    else CATO_TOKEN, CATO_ACCOUNT_ID and CATO_BASEURL.

    \b
    Examples:
      catoiac import --out cato-prod --stack prod
      catoiac import --out cato-prod --site Lisbon --site Paris --types SocketSite,NetworkRange,StaticHost
    """
    from pathlib import Path

    from ..drift.run import DriftOptions, client_for
    from ..errors import CatoError
    from ..importer import ImportOptions, describe, run_import

    opts = ImportOptions(
        out=Path(out),
        stack=stack,
        sites=list(sites),
        types=[t.strip() for t in types.split(",") if t.strip()] if types else None,
        project_name=project_name,
        force=force,
    )
    try:
        with client_for(
            DriftOptions(api_key=api_key, account_id=account_id, endpoint=endpoint), []
        ) as client:
            result = run_import(client, opts)
            if stats:
                from rich.console import Console

                Console(stderr=True, width=120).print(client.stats.render("Cato API calls of the import"))
    except CatoError as e:
        _fail(e)
    for line in describe(result):
        click.echo(line)
