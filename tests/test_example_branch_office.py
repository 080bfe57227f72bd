"""examples/branch-office runs as shipped (its own Pulumi.yaml and relative virtualenv) against the emulator."""

from __future__ import annotations

import shutil

from emu_helpers import ACCOUNT, KEY
from pulumi_helpers import PROJECT_VENV, REPO_ROOT, init_emulator_stack, pulumi_env, run_pulumi

from catoiac.client import CatoClient
from catoiac.config import ClientConfig
from catoiac.emulator.limits import RateLimitConfig

pytest_plugins = ("pulumi_helpers",)

EXAMPLE = REPO_ROOT / "examples" / "branch-office"


def site_names(emu) -> list[str]:
    with CatoClient(ClientConfig(api_key=KEY, account_id=ACCOUNT, base_url=emu.url)) as c:
        return [s["info"]["name"] for s in c.execute("ReadSites", {})["accountSnapshot"]["sites"]]


def test_branch_office_example_comes_up_with_no_diff_and_destroys_cleanly(tmp_path, emulator_factory):
    emu = emulator_factory(rate_limits=RateLimitConfig(enabled=False))
    # The example as shipped, at the same depth below a folder whose .venv is the project's, so
    # Pulumi.yaml's relative `virtualenv: ../../.venv` is what is exercised.
    project = tmp_path / "repo" / "examples" / "branch-office"
    shutil.copytree(EXAMPLE, project)
    (tmp_path / "repo" / ".venv").symlink_to(PROJECT_VENV)
    env = pulumi_env(tmp_path / "state", tmp_path / "home", {"CATOIAC_RATE_LIMIT_SCALE": "0.001"})

    def pulumi(*args: str, check: bool = True):
        return run_pulumi(*args, cwd=project, env=env, check=check)

    init_emulator_stack(project, env, "dev", emu, account=ACCOUNT, key=KEY)
    pulumi("config", "set", "--secret", "branch:bgpMd5Key", "branch-md5-Qd17")

    # A first preview judges inputs that are not known yet (the site's id...) without failing.
    pulumi("preview")
    up = pulumi("up", "--yes", "--skip-preview")
    assert "10 created" in up.stdout, up.stdout
    assert "Lisbon Branch" in site_names(emu)
    pulumi("preview", "--expect-no-changes")
    export = pulumi("stack", "export").stdout
    assert "branch-md5-Qd17" not in export + up.stdout + up.stderr

    pulumi("destroy", "--yes", "--skip-preview")
    assert "Lisbon Branch" not in site_names(emu)
