"""``catoiac review``: a pulumi preview as a pull-request review."""

from __future__ import annotations

import click

from . import main
from ._common import _emit, _fail


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

    from ..drift.review import DESTRUCTIVE, steps_of
    from ..drift.review import review as render_review

    try:
        data = json.load(preview)
    except ValueError as e:
        _fail(f"the preview is not JSON ({e}): run `pulumi preview --json`")
    _emit(render_review(data), output)
    if fail_on_destructive and any(s.op in DESTRUCTIVE for s in steps_of(data)[0]):
        raise SystemExit(2)
