"""``catoiac emulator``: serve, as-admin, gen-schema."""

from __future__ import annotations

from pathlib import Path

import click

from . import main


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
@click.option(
    "--schema-variant",
    help="Serve a variant of the schema from schema_spec.yaml, e.g. 'future' (deprecations, removals).",
)
def serve(host: str, port: int, db: str, seed: str | None, rate_limits: bool, rate_limit_status: str,
          schema_variant: str | None) -> None:  # fmt: skip
    """Serve the emulated Cato API at http://HOST:PORT/api/v1/graphql2."""
    from ..emulator.limits import RateLimitConfig
    from ..emulator.server import EmulatorServer

    if schema_variant is not None:
        from ..emulator.schema_gen import variant_schema

        try:
            variant_schema(schema_variant)
        except ValueError as e:
            raise click.BadParameter(str(e), param_hint="--schema-variant") from None
    cfg = RateLimitConfig(enabled=rate_limits, status=int(rate_limit_status))
    server = EmulatorServer(
        db, host=host, port=port, seed=seed, rate_limits=cfg, schema_variant=schema_variant
    )
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

    from ..emulator.control import EmulatorControl

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
    from ..emulator import schema_gen

    lines = schema_gen.write(real)
    click.echo(f"wrote {schema_gen.SCHEMA_PATH} ({lines} lines)")
