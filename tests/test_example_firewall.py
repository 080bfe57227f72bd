"""examples/firewall and examples/multi-stack run as shipped (their own Pulumi.yaml and relative
virtualenv) against the emulator seeded with their emulator-account.yaml."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from pulumi_helpers import PROJECT_VENV, REPO_ROOT, init_emulator_stack, pulumi_env, run_pulumi

from catoiac.client import CatoClient
from catoiac.config import ClientConfig
from catoiac.emulator.limits import RateLimitConfig

pytest_plugins = ("pulumi_helpers",)
pytestmark = pytest.mark.slow

EXAMPLES = REPO_ROOT / "examples"
ACCOUNT, KEY = "1001", "example-api-key"  # from the examples' emulator-account.yaml


def layout(emu, field: str = "internetFirewall") -> list[tuple[str, list[str]]]:
    prefix = field[0].upper() + field[1:]
    with CatoClient(ClientConfig(api_key=KEY, account_id=ACCOUNT, base_url=emu.url)) as c:
        p = c.execute(f"Read{prefix}Policy", {})["policy"][field]["policy"]
    out: dict[str, list[str]] = {s["section"]["name"]: [] for s in p["sections"]}
    for r in p["rules"]:
        out[r["rule"]["section"]["name"]].append(r["rule"]["name"])
    return list(out.items())


def copy_example(tmp_path: Path, name: str) -> Path:
    """The example at the same depth below a folder whose .venv is the project's, so its relative
    `virtualenv:` is what is exercised."""
    dest = tmp_path / "repo" / "examples" / name
    shutil.copytree(EXAMPLES / name, dest)
    (tmp_path / "repo" / ".venv").symlink_to(PROJECT_VENV)
    return dest


def stack(project: Path, state: Path, emu):
    env = pulumi_env(state / "state", state / "home", {"CATOIAC_RATE_LIMIT_SCALE": "0.001"})

    def pulumi(*args: str, check: bool = True):
        return run_pulumi(*args, cwd=project, env=env, check=check)

    init_emulator_stack(project, env, "dev", emu, account=ACCOUNT, key=KEY)
    return pulumi


def seed(name: str) -> dict:
    return yaml.safe_load((EXAMPLES / name / "emulator-account.yaml").read_text())


def test_firewall_example_comes_up_with_no_diff_and_destroys_cleanly(tmp_path, emulator_factory):
    emu = emulator_factory(seed("firewall"), rate_limits=RateLimitConfig(enabled=False))
    pulumi = stack(copy_example(tmp_path, "firewall"), tmp_path, emu)
    up = pulumi("up", "--yes", "--skip-preview")
    assert "4 created" in up.stdout, up.stdout
    assert layout(emu) == [
        ("Baseline", ["Block anonymizers"]),
        (
            "Lisbon Corporate",
            ["Lisbon: block social media", "Lisbon: block risky categories", "Lisbon: allow file sharing"],
        ),
        ("Lisbon Guest Wi-Fi", ["Lisbon guests: web only"]),
    ]
    assert layout(emu, "wanFirewall")[1] == (
        "Lisbon WAN",
        ["Lisbon to data center", "Lisbon: no branch to branch"],
    )
    pulumi("preview", "--expect-no-changes")
    pulumi("destroy", "--yes", "--skip-preview")
    assert layout(emu) == [("Baseline", ["Block anonymizers"])]
    assert layout(emu, "wanFirewall") == [("Baseline", ["Block FTP"])]


def test_multi_stack_example_each_stack_owns_its_sections_of_one_policy(tmp_path, emulator_factory):
    emu = emulator_factory(seed("multi-stack"), rate_limits=RateLimitConfig(enabled=False))
    root = copy_example(tmp_path, "multi-stack")
    security = stack(root / "security", tmp_path / "security", emu)
    apps = stack(root / "apps", tmp_path / "apps", emu)
    security("up", "--yes", "--skip-preview")
    apps("up", "--yes", "--skip-preview")
    assert [n for n, _ in layout(emu)] == [
        "Baseline",
        "SaaS Access",
        "SaaS Restrictions",
        "Threat Protection",
    ]
    security("preview", "--expect-no-changes")
    apps("preview", "--expect-no-changes")
    apps("destroy", "--yes", "--skip-preview")
    assert [n for n, _ in layout(emu)] == ["Baseline", "Threat Protection"]
    security("preview", "--expect-no-changes")
    security("destroy", "--yes", "--skip-preview")
    assert layout(emu) == [("Baseline", ["Block anonymizers"])]
