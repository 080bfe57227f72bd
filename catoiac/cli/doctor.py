"""``catoiac doctor``: is this endpoint, key and account ready for a deploy?"""

from __future__ import annotations

import click

from . import main
from ._common import _FORMATS, _credential_options, _emit, _fail


@main.command()
@click.option("--stack", help="Read cato:endpoint and cato:accountId from this stack's config.")
@click.option("--cwd", type=click.Path(exists=True, file_okay=False), help="The Pulumi project folder.")
@_credential_options
@click.option(
    "--access",
    type=click.Choice(["edit", "view"]),
    default="edit",
    show_default=True,
    help="What the pipeline needs: edit (pulumi up) or view (preview, drift, review).",
)
@click.option("--timeout", type=float, default=15.0, show_default=True, help="Seconds per HTTP request.")
@click.option("--format", "fmt", type=_FORMATS, default="table", show_default=True)
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False), help="Write the report here instead of stdout."
)
def doctor(stack, cwd, api_key, account_id, endpoint, access, timeout, fmt, output) -> None:
    """Check the endpoint, API key, account, key permissions, schema drift, rate limits and clock.

    \b
    In order, each naming its fix: 1 endpoint (scheme, path, TLS, a GraphQL answer; asked without
    the key), 2 the key is valid, 3 the account is one this key reaches, 4 the key's permissions
    (probes that cannot write), 5 schema drift (the live schema against every type, field, argument,
    input field and enum value catoiac's documents use), 6 rate-limit headroom where the API
    reports it, 7 local clock skew (auditFeed windows). Writes nothing.

    Exit code 0: all fine; 2: warnings only (e.g. deprecations); 1: errors.

    \b
    Examples:
      catoiac doctor --stack prod
      catoiac doctor --access view --format markdown -o doctor.md   # a read-only CI key
    """
    import os

    from rich.console import Console

    from ..doctor import Doctor, DoctorOptions
    from ..doctor.report import render_markdown, render_rich, render_text
    from ..drift.state import PulumiCli
    from ..errors import CatoError

    config = None
    try:
        if stack or cwd:
            config = PulumiCli(cwd).config(stack)
        opts = DoctorOptions(api_key=api_key, account_id=account_id, endpoint=endpoint, access=access,
                             timeout=timeout, stack=stack, cwd=cwd, stack_config=config, env=os.environ)  # fmt: skip
        doc = Doctor(opts)
        report = doc.run()
    except CatoError as e:
        _fail(e)

    def scrub(text: str) -> str:  # a last line of defence: no key in any output
        from ..secrets import REDACTOR

        for secret in doc.secrets:
            REDACTOR.add(secret)
        return REDACTOR.scrub(text)

    if fmt == "json":
        _emit(scrub(report.to_json()), output)
    elif fmt == "markdown":
        _emit(scrub(render_markdown(report)), output)
    elif output or not Console().is_terminal:
        _emit(scrub(render_text(report)), output)
    else:
        console = Console()
        with console.capture() as captured:
            render_rich(report, console)
        console.file.write(scrub(captured.get()))
    raise SystemExit(report.exit_code)
