"""``catoiac health``: after an ``up``, is the network still working? The gate for a deploy job."""

from __future__ import annotations

import click

from . import main
from ._common import _credential_options, _emit, _fail, _parse_when, _stack_options

FAMILY_NAMES = ("metrics", "ports", "events", "stories")


class _Command(click.Command):
    """Usage errors exit 1 like every other error: 2 means "degraded" to a deploy job."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as e:
            e.exit_code = 1
            raise


@main.command(cls=_Command)
@_stack_options
@_credential_options
@click.option(
    "--all-sites", is_flag=True, help="Every site in the account, not only the ones the stacks manage."
)
@click.option("--site", "sites", multiple=True, help="Only this site (name or id); repeatable.")
@click.option("--since", default="last-update", show_default=True,
              help="Window start: 'last-update' (the stacks' last update) or an ISO time.")  # fmt: skip
@click.option("--wait", "wait", default="0", show_default=True,
              help="Poll until healthy or this long has passed (90s, 5m, 1h).")  # fmt: skip
@click.option("--interval", default="15s", show_default=True, help="Time between polls with --wait.")
@click.option("--baseline", default="30m", show_default=True,
              help="Metrics before the update to compare with (longer if the window since the update is long).")  # fmt: skip
@click.option("--recent", default="5m", show_default=True, help="Metrics that say how the links are now.")
@click.option("--fail-on-blocked", is_flag=True,
              help="Traffic blocked by a firewall rule the update changed degrades the site (default: a warning).")  # fmt: skip
@click.option("--skip", "skip", multiple=True, type=click.Choice(FAMILY_NAMES),
              help="Do not read this query family (e.g. stories on an account without XDR); repeatable.")  # fmt: skip
@click.option("--cache-dir", type=click.Path(file_okay=False),
              help="Events feed marker cache [default: ~/.cache/catoiac/health].")  # fmt: skip
@click.option("--no-cache", is_flag=True, help="Read the events feed from its start; keep no marker.")
@click.option("--max-event-pages", default=20, show_default=True, type=click.IntRange(1),
              help="Events feed pages (3,000 events each) to read per poll before the events count as incomplete.")  # fmt: skip
@click.option("--format", "fmt", type=click.Choice(["table", "markdown", "json", "html"]), default="table",
              show_default=True)  # fmt: skip
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False), help="Write the report here instead of stdout."
)
def health(stacks, cwd, state_files, api_key, account_id, endpoint, all_sites, sites, since, wait, interval,
           baseline, recent, fail_on_blocked, skip, cache_dir, no_cache, max_event_pages, fmt, output) -> None:  # fmt: skip
    """Check the sites the stacks manage on Cato's monitoring APIs, after an `up`.

    Per site: connectivity (accountSnapshot), link loss, latency, jitter and throughput against a
    baseline from before the update (accountMetrics, socketPortMetricsTimeSeries), connectivity and
    security events since the update (eventsFeed), and new XDR stories. Every finding names the
    change of the stack's last update it most likely follows from.

    \b
    Exit code 0: healthy; 2: degraded (or a query family could not be read, so health is unproven);
    1: error (bad input, unknown stack or site, no API answered).

    \b
    Examples:
      catoiac health --stack prod --wait 5m       # after `pulumi up`, gate the deploy job
      catoiac health --all-sites --skip stories --format markdown -o health.md
    """
    from rich.console import Console

    from ..drift.state import StateError
    from ..errors import CatoError
    from ..health import render
    from ..health.run import HealthInputError, HealthOptions, parse_duration, run_health

    try:
        when = since if since == "last-update" else _parse_when(since)
        opts = HealthOptions(
            stacks=list(stacks), cwd=cwd, state_files=list(state_files), api_key=api_key, account_id=account_id,
            endpoint=endpoint, all_sites=all_sites, sites=list(sites), since=when,
            wait=parse_duration(wait, "--wait"), interval=max(1.0, parse_duration(interval, "--interval")),
            baseline=parse_duration(baseline, "--baseline"), recent=parse_duration(recent, "--recent"),
            fail_on_blocked=fail_on_blocked, skip=set(skip), cache_dir=cache_dir, use_cache=not no_cache,
            max_event_pages=max_event_pages,
        )  # fmt: skip
        loaded = _load(opts, all_sites)
        report = run_health(opts, loaded)
    except click.BadParameter as e:
        _fail(HealthInputError(f"--since: {e.message}"))
    except (StateError, HealthInputError, CatoError) as e:
        _fail(e)
    text = render.render(report, fmt) if fmt != "table" or output else None
    if text is not None:
        _emit(text, output)
    else:
        console = Console()
        if not console.is_terminal:  # CI logs: wide lines read better than folded cells
            console = Console(width=200)
        render.render_rich(report, console)
    if report.error:
        click.echo(f"error: {report.error}", err=True)
    raise SystemExit(report.exit_code)


def _load(opts, all_sites: bool):
    """The stacks' states; an unknown stack names the ones that exist. With --all-sites and no
    --stack, a folder without a Pulumi project is fine (no correlation then)."""
    from ..drift.state import PulumiCli, StateError, load_stacks

    try:
        return load_stacks(opts.stacks, cwd=opts.cwd, state_files=opts.state_files)
    except StateError as e:
        if all_sites and not opts.stacks and not opts.state_files:
            return []
        if opts.stacks and "no stack named" in str(e).lower():
            try:
                known = PulumiCli(opts.cwd)._json("stack", "ls", "--json") or []
                names = ", ".join(sorted(s["name"] for s in known)) or "none"
            except StateError:
                names = "unknown"
            raise StateError(f"{e} (stacks here: {names})") from None
        raise
