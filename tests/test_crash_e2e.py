"""A killed `pulumi up` converges: the real pulumi CLI, killed with SIGKILL at chosen points of an
up of sites, ranges, hosts and both firewall policies, against the emulator over HTTP with its
state in SQLite.

After each kill: the killed run's plugin processes (language host, program, provider) are gone
within seconds; Pulumi's own recovery (`pulumi cancel`, pending operations dropped through
`stack export` / `stack import`) and one `up` converge, `pulumi preview --expect-no-changes`
exits 0, and the emulator's database and the stack export show 0 orphans, 0 duplicates and 0 open
policy revisions. Where objects were adopted, `preview --refresh --expect-no-changes` also proves
the live objects are the program's (each pulumi command costs seconds: not everywhere).
"""

from __future__ import annotations

import pytest
from crash_support import PROGRAM_OBJECTS, Crash, Database, count, crash, recover, workspace
from policy_support import fixture

from catoiac.emulator.control import EmulatorControl
from catoiac.emulator.limits import RateLimitConfig

pytest_plugins = ("pulumi_helpers",)
pytestmark = pytest.mark.slow

EXIT_WITHIN = 10  # seconds for the orphaned plugin processes to stop


@pytest.fixture
def emu(emulator_factory, tmp_path):
    return emulator_factory(
        fixture(), db=str(tmp_path / "cato.db"), rate_limits=RateLimitConfig(enabled=False)
    )


@pytest.fixture
def ctl(emu):
    with EmulatorControl(emu.base_url) as c:
        yield c


@pytest.fixture
def ws(pulumi_workspace, emu):
    return workspace(pulumi_workspace, emu)


CRASHES = [
    Crash("pulumi", after=1),
    Crash("pulumi", after=3),
    Crash("pulumi", after=10),
    Crash("pulumi", during="publishPolicyRevision", refresh=True),  # sections published, not recorded
    Crash("pulumi", during="addSocketSite"),
    Crash("provider", during="addRule"),  # a revision is left open
    Crash("provider", during="addSocketSite", refresh=True),  # no reply: only the intent is journaled
]


@pytest.mark.parametrize("how", CRASHES, ids=lambda c: c.name.replace(" ", "-"))
def test_a_killed_up_converges_with_no_orphan_duplicate_or_open_revision(ws, emu, ctl, how):
    db = Database(emu.emulator.store.path)
    baseline = set(db.objects())
    outcome = crash(ws, ctl, how)
    assert outcome.exit_seconds is not None, f"plugin processes still running: {outcome.plugins}"
    assert outcome.exit_seconds < EXIT_WITHIN, outcome.exit_seconds
    if how.target == "pulumi":
        # Never published for the dead engine: a publish is only ever one that was already sent.
        published = ctl.stats().get("publishPolicyRevision", 0)
        assert published <= outcome.calls_at_kill.get("publishPolicyRevision", 0), ctl.stats()

    recover(ws)
    ws.run("up", "--yes", "--skip-preview")
    ws.run("preview", "--expect-no-changes")
    if how.refresh:
        ws.run("preview", "--refresh", "--expect-no-changes")
    found = count(db, baseline, ws)
    assert found.orphans == [] and found.duplicates == [] and found.open_revisions == 0, found
    assert found.made == PROGRAM_OBJECTS, found.made


def test_an_up_killed_twice_in_a_row_still_converges(ws, emu, ctl):
    """A second crash during the recovering up (which adopts what the first left)."""
    db = Database(emu.emulator.store.path)
    baseline = set(db.objects())
    crash(ws, ctl, Crash("pulumi", during="addRule"))
    recover(ws)
    crash(ws, ctl, Crash("pulumi", during="publishPolicyRevision"))
    recover(ws)
    ws.run("up", "--yes", "--skip-preview")
    ws.run("preview", "--refresh", "--expect-no-changes")
    found = count(db, baseline, ws)
    assert found.clean and found.made == PROGRAM_OBJECTS, found
