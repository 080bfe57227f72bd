"""The ``catoiac`` command line: one module per command family, registered on ``main``."""

from __future__ import annotations

import click

from catoiac import logs
from catoiac.ratelimit import PACING_LISTENERS, PacingNotice


def _paced(notice: PacingNotice) -> None:
    # stderr: a command's report on stdout (JSON, Markdown) stays parseable.
    click.echo(f"catoiac: {notice}", err=True)


def _log_level(ctx: click.Context, param: click.Parameter, value: str) -> str:
    from_env = ctx.get_parameter_source(param.name or "") == click.core.ParameterSource.ENVIRONMENT
    try:
        logs.level_named(value, logs.ENV if from_env else "--log-level")
    except logs.LogLevelError as e:
        raise click.BadParameter(str(e), ctx, param) from None
    return value.lower()


@click.group()
@click.version_option(package_name="catoiac")
@click.option(
    "--log-level",
    metavar="[" + "|".join(logs.LEVELS) + "]",
    envvar=logs.ENV,
    show_envvar=True,
    default=logs.DEFAULT,
    show_default=True,
    callback=_log_level,
    help="Log to stderr from this level; debug logs every API call (operation, duration, retries, "
    "seconds paced), never a key.",
)
def main(log_level: str) -> None:
    """Infrastructure as code for Cato Networks: drift reports, change reviews, a local emulator.

    \b
    Examples:
      catoiac doctor --stack prod          # is this key and account ready for a deploy?
      CATOIAC_LOG=debug catoiac drift --stack prod

    \b
    Shell completion (add the line to your shell's start-up file):
      bash:  eval "$(_CATOIAC_COMPLETE=bash_source catoiac)"
      zsh:   eval "$(_CATOIAC_COMPLETE=zsh_source catoiac)"
      fish:  _CATOIAC_COMPLETE=fish_source catoiac | source
    """
    logs.configure(log_level)
    if _paced not in PACING_LISTENERS:
        PACING_LISTENERS.append(_paced)


# Command modules register themselves on ``main`` when imported.
from . import audit, catalog, doctor, drift, emulator, health, importer, ls, review  # noqa: E402, F401
