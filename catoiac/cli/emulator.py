"""``catoiac emulator``: serve, as-admin, gen-schema."""

from __future__ import annotations

from pathlib import Path

import click

from . import main


@main.group()
def emulator() -> None:
    """A local stand-in for the Cato API, with the same wire format, auth, limits and audit trail.

    \b
    Examples:
      catoiac emulator serve --seed examples/fixtures/small.yaml
      catoiac emulator serve --db cato.db --port 8787 --no-rate-limits
    """


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
    "--operator-token",
    envvar="CATOIAC_EMULATOR_TOKEN",
    show_default=False,
    help="Token the /_emulator/ operator endpoints require (Authorization: Bearer). Without one they "
    "are open on a loopback --host and off on any other [env CATOIAC_EMULATOR_TOKEN].",
)
@click.option(
    "--schema-variant",
    help="Serve a variant of the schema from schema_spec.yaml, e.g. 'future' (deprecations, removals).",
)
def serve(host: str, port: int, db: str, seed: str | None, rate_limits: bool, rate_limit_status: str,
          operator_token: str | None, schema_variant: str | None) -> None:  # fmt: skip
    """Serve the emulated Cato API at http://HOST:PORT/api/v1/graphql2.

    \b
    Examples:
      catoiac emulator serve --seed examples/fixtures/small.yaml
      CATO_BASEURL=http://127.0.0.1:8787/api/v1/graphql2 pulumi up   # in another shell
    """
    from ..config import is_loopback_host
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
        db,
        host=host,
        port=port,
        seed=seed,
        rate_limits=cfg,
        operator_token=operator_token,
        schema_variant=schema_variant,
    )
    click.echo(f"Cato API emulator on {server.url} (state: {db})", err=True)
    click.echo(f"export CATO_BASEURL={server.url}", err=True)
    if not operator_token and not is_loopback_host(host):
        click.echo(
            f"warning: {host} is not a loopback address: the /_emulator/ operator endpoints are off. "
            "Pass --operator-token (or CATOIAC_EMULATOR_TOKEN) to use them.",
            err=True,
        )
    server.serve_forever()


@emulator.command("as-admin")
@click.option("--url", default="http://127.0.0.1:8787", show_default=True, help="The emulator's root URL.")
@click.option("--account", required=True, help="Account id.")
@click.option("--admin", required=True, help="The admin's email, as in the fixture's admins.")
@click.option("--variables", default="{}", help="JSON object of GraphQL variables.")
@click.option(
    "--operator-token", envvar="CATOIAC_EMULATOR_TOKEN", help="The emulator's operator token, if it has one."
)
@click.argument("document")
def as_admin(
    url: str, account: str, admin: str, variables: str, operator_token: str | None, document: str
) -> None:
    """Run a GraphQL DOCUMENT as an admin in the Cato UI: an out-of-band change by a person.

    \b
    Examples:
      catoiac emulator as-admin --account 1001 --admin alice@example.com change.graphql
      catoiac emulator as-admin --account 1001 --admin alice@example.com --variables '{"s": "42"}' edit.graphql
    """
    import json

    from ..emulator.control import EmulatorControl

    with EmulatorControl(url, token=operator_token) as ctl:
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
    """Regenerate the emulator's schema subset from the real schema and schema_spec.yaml, the subset's
    enum values and input type names (catoiac/schema_names.py, read at import without building the
    schema), and the list of credential fields (catoiac/secret_fields.py) the redaction policy masks.

    \b
    Examples:
      catoiac emulator gen-schema --real ../shared/cato/cato_api.graphqls
    """
    from graphql import build_schema

    from .. import secrets
    from ..emulator import schema_gen

    lines = schema_gen.write(real)
    click.echo(f"wrote {schema_gen.SCHEMA_PATH} ({lines} lines)")
    from ..schema import NAMES_PATH, render_schema_names

    NAMES_PATH.write_text(render_schema_names(build_schema(schema_gen.SCHEMA_PATH.read_text())))
    click.echo(f"wrote {NAMES_PATH}")
    names = secrets.derive_secret_fields(build_schema(real.read_text(encoding="utf-8")))
    target = Path(secrets.__file__).with_name("secret_fields.py")
    target.write_text(secrets.render_secret_fields(names))
    click.echo(f"wrote {target} ({', '.join(names)})")
