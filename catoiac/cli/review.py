"""``catoiac review``: a pulumi preview as a pull-request review."""

from __future__ import annotations

import click

from . import main
from ._common import _emit, _fail

DEFAULT_MAX_SIZE = 65000  # GitHub keeps 65,536 characters of a comment; room for a CI marker line


@main.command()
@click.argument("preview", type=click.File("r"), default="-")
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False), help="Write the Markdown here instead of stdout."
)
@click.option(
    "--full-output",
    type=click.Path(dir_okay=False),
    help="Also write the whole review here, never cut (keep it as a CI artifact).",
)
@click.option(
    "--max-size",
    type=click.IntRange(min=0),
    default=DEFAULT_MAX_SIZE,
    show_default=True,
    help="Cut the details so the review fits in this many bytes (a GitHub comment holds 65,536 "
    "characters); 0: never cut.",
)
@click.option(
    "--full-report-url", help="Where readers find the full review when it is cut (a CI run's page)."
)
@click.option(
    "--stack", envvar="PULUMI_STACK", help="The stack, for the header when the preview does not name it."
)
@click.option("--state-file", "state_files", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="An exported state (pulumi stack export) whose objects the review names: e.g. the "
              "sites of another stack that this program refers to by id. Repeatable.")  # fmt: skip
@click.option("--names-from-stack", "name_stacks", multiple=True,
              help="A stack whose objects the review names (read with `pulumi stack export`). Repeatable.")  # fmt: skip
@click.option("--cwd", type=click.Path(exists=True, file_okay=False), help="The Pulumi project folder.")
@click.option(
    "--fail-on-destructive",
    is_flag=True,
    help="Exit 2 when the preview replaces or deletes anything, or removes a firewall rule or section.",
)
@click.option(
    "--fail-on-loosening",
    is_flag=True,
    help="Exit 2 when a firewall change loosens security (a BLOCK rule removed or turned ALLOW, a widened "
    "source or destination...).",
)
def review(preview, output, full_output, max_size, full_report_url, stack, state_files, name_stacks, cwd,
           fail_on_destructive, fail_on_loosening) -> None:  # fmt: skip
    """Turn `pulumi preview --json` (a file, or stdin) into Markdown for a pull request.

    \b
    Exit codes: 1 when the preview failed (an error diagnostic, a preview cut short, input that is
    not a preview: the Markdown then opens with a banner saying so), 2 when --fail-on-destructive
    or --fail-on-loosening finds what it looks for, 0 otherwise.

    The summary comes first (stack, counts, security loosening, destructive changes), then the
    details per policy and site, firewall rules shown whole. Secrets stay masked.

    \b
    Examples:
      pulumi preview --json --stack prod | catoiac review - -o review.md
      catoiac review preview.json --fail-on-loosening --full-output review-full.md
    """
    from ..drift.review import Names, build, parse_preview
    from ..drift.state import PulumiCli, StateError, load_state_file

    data, problems = parse_preview(preview.read())
    names = Names()
    try:
        states = [load_state_file(p) for p in state_files]
        if name_stacks:
            cli = PulumiCli(cwd)
            states += [cli.load(s) for s in name_stacks]
    except StateError as e:
        _fail(e)
    names.add_states(states)
    report = build(data, stack=stack, names=names, problems=problems)
    full = report.markdown()
    if full_output:
        _emit(full, full_output)
    pointer = None
    if full_report_url:
        pointer = f"[the full review]({full_report_url})"
    elif full_output:
        pointer = f"`{click.format_filename(full_output)}`, kept with this run"
    _emit(report.markdown(limit=max_size or None, pointer=pointer), output)
    if report.failed:
        lines = ["error: the preview failed (the review opens with a banner saying so):"]
        for p in report.problems:
            lines.append(f"- {p.where + ': ' if p.where else ''}" + p.text.replace("\n", "\n    "))
        click.echo("\n".join(lines), err=True)
        raise SystemExit(1)
    if (fail_on_destructive and report.destructive) or (fail_on_loosening and report.loosening):
        raise SystemExit(2)
