"""Helpers for tests that drive the real `pulumi` CLI.

Use them from a test module with::

    pytest_plugins = ("pulumi_helpers",)

which makes the `pulumi_workspace` fixture available. Every command runs against a local file
backend inside the test's temporary folder, with its own PULUMI_HOME, so nothing leaks between
tests or touches the user's Pulumi state.
"""

from __future__ import annotations

import atexit
import compileall
import hashlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from emu_helpers import ACCOUNT, KEY

REPO_ROOT = Path(__file__).resolve().parents[1]


def compile_project() -> None:
    """Compile catoiac and pulumi_cato (installed editable, so pip compiled nothing): where bytecode
    is never written (PYTHONDONTWRITEBYTECODE=1), every Python process a pulumi command starts (the
    program, the provider) would otherwise compile them from source again. Quick when up to date."""
    for package in (REPO_ROOT / "catoiac", REPO_ROOT / "providers"):
        compileall.compile_dir(package, quiet=1)


def allow_interrupts() -> None:
    """Pulumi stops each plugin (language host, provider) with SIGINT and kills it only 5 s later. A
    process started with SIGINT ignored (a background job of a non-interactive shell, as some CI
    runners start jobs) hands that on to pulumi and its plugins, and every command then waits 5 s per
    plugin. With Python's own handler here, the commands this process starts get the default action."""
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)  # main thread only: called at start-up


PROJECT_VENV = REPO_ROOT / ".venv"
PASSPHRASE = "test"
DEFAULT_TIMEOUT = 600  # seconds for one pulumi command

# Variables from the caller's environment that would point pulumi somewhere else.
_SCRUBBED = (
    "PULUMI_ACCESS_TOKEN",
    "PULUMI_BACKEND_URL",
    "PULUMI_CONFIG_PASSPHRASE_FILE",
    "PULUMI_STACK",
    "PULUMI_ORG",
    "PULUMI_HOME",
    "PULUMI_PYTHON_CMD",
    "PULUMI_RUNTIME_VIRTUALENV",
    "VIRTUAL_ENV",
)


class PulumiCommandError(AssertionError):
    """A pulumi command exited with an unexpected code; carries its output."""

    def __init__(self, result: subprocess.CompletedProcess[str]):
        self.result = result
        super().__init__(
            f"`{' '.join(map(str, result.args))}` exited with {result.returncode}\n"
            f"--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"
        )


def pulumi_executable() -> str:
    """The `pulumi` on PATH; fails the test (never skips) when there is none."""
    found = shutil.which("pulumi")
    if found is None:
        pytest.fail(
            "the pulumi CLI is not on PATH: run scripts/setup and put the folder it prints "
            '(its last line) on PATH, e.g. PATH="$(scripts/setup | tail -n 1):$PATH"',
            pytrace=False,
        )
    return found


def pulumi_env(state_dir: Path, home_dir: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for pulumi: a local file backend, a fixed passphrase, no update checks."""
    env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED}
    state_dir.mkdir(parents=True, exist_ok=True)
    home_dir.mkdir(parents=True, exist_ok=True)
    env.update(
        PULUMI_BACKEND_URL=state_dir.resolve().as_uri(),
        PULUMI_CONFIG_PASSPHRASE=PASSPHRASE,
        PULUMI_HOME=str(home_dir),
        PULUMI_SKIP_UPDATE_CHECK="true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION="true",
        PULUMI_SKIP_CONFIRMATIONS="true",
        NO_COLOR="1",
        # The provider's crash journal (catoiac.journal) belongs to this test's stacks only.
        CATOIAC_JOURNAL_DIR=str(state_dir.parent / "journal"),
        # The Python language host built by scripts/install-pulumi predates the
        # `runtime.options.virtualenv` setting reaching it over gRPC, so it runs the first
        # python3 on PATH: make that the project's interpreter. (Dynamic providers get the
        # virtualenv from Pulumi.yaml through PULUMI_RUNTIME_VIRTUALENV either way.)
        PATH=os.pathsep.join([str(PROJECT_VENV / "bin"), env.get("PATH", os.defpath)]),
    )
    if extra:
        env.update(extra)
    return env


def run_pulumi(
    *args: str,
    cwd: Path,
    env: Mapping[str, str],
    check: bool = True,
    timeout: float = DEFAULT_TIMEOUT,
) -> subprocess.CompletedProcess[str]:
    """Run `pulumi <args>` non-interactively; raise PulumiCommandError on failure if `check`."""
    cmd = [pulumi_executable(), *args, "--non-interactive", "--color=never"]
    result = subprocess.run(
        cmd,
        cwd=cwd,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    if check and result.returncode != 0:
        raise PulumiCommandError(result)
    return result


def cato_settings(account: str | None, endpoint: str | None, key: str | None) -> list[str]:
    """``pulumi config set-all`` options for the Cato settings: the account and endpoint (plaintext)
    unless ``account`` is None, the API key (secret) unless ``key`` is None."""
    args = []
    if account is not None:
        args += ["--plaintext", f"cato:accountId={account}", "--plaintext", f"cato:endpoint={endpoint}"]
    return [*args, "--secret", f"cato:apiKey={key}"] if key is not None else args


def emulator_config(emu, *, account: str = ACCOUNT, key: str | None = KEY) -> list[str]:
    """The ``pulumi config set-all`` arguments that point a stack at the emulator ``emu`` (one CLI
    run instead of one per setting)."""
    return ["config", "set-all", *cato_settings(account, emu.url, key)]


# -- a worker-scoped template of "stack init" + "config set-all" ------------------------------------
# Most end-to-end tests start with the same CLI runs (`stack init`, then the Cato config: ~0.75 s of
# CPU, the secret paying the passphrase's PBKDF2). They run once per (project, stack, account, key,
# passphrase) per worker process; each test gets a copy of the stack's backend files and of its
# Pulumi.<stack>.yaml (same salt, same ciphertext, so the key decrypts with the passphrase), with its
# own plaintext endpoint. Tests that exercise `stack init` / `config set` themselves run them directly.
_ENDPOINT_PLACEHOLDER = "http://stack-template.invalid/api/v1/graphql2"
_TEMPLATES: dict[tuple[str, str, str | None, str | None, str], Path] = {}
_TEMPLATE_ROOT: list[Path] = []
# Pulumi.<stack>.yaml keys that say the stack already has (or chose) its secrets provider.
_SECRETS_KEYS = {"encryptionsalt", "secretsprovider", "encryptedkey"}


def _template_root() -> Path:
    if not _TEMPLATE_ROOT:
        root = Path(tempfile.mkdtemp(prefix="catoiac-stack-templates-"))
        atexit.register(shutil.rmtree, root, True)
        _TEMPLATE_ROOT.append(root)
    return _TEMPLATE_ROOT[0]


def _template(project: str, stack: str, account: str | None, key: str | None, passphrase: str) -> Path:
    """The template's root (``state/`` and ``project/Pulumi.<stack>.yaml``), made on first use with
    the real CLI: ``stack init``, then one ``config set-all`` (the account and a placeholder endpoint
    unless ``account`` is None, the secret key unless ``key`` is None)."""
    cache_key = (project, stack, account, key, passphrase)
    if cache_key not in _TEMPLATES:
        root = _template_root() / str(len(_TEMPLATES))
        (root / "project").mkdir(parents=True)
        (root / "project/Pulumi.yaml").write_text(yaml.safe_dump({"name": project, "runtime": "python"}))
        env = pulumi_env(root / "state", root / "home", {"PULUMI_CONFIG_PASSPHRASE": passphrase})
        run_pulumi("stack", "init", stack, cwd=root / "project", env=env)
        args = cato_settings(account, _ENDPOINT_PLACEHOLDER, key)
        if args:
            run_pulumi("config", "set-all", *args, "--stack", stack, cwd=root / "project", env=env)
        _TEMPLATES[cache_key] = root
    return _TEMPLATES[cache_key]


def init_stack_from_template(
    project_dir: Path,
    env: Mapping[str, str],
    stack: str,
    *,
    key: str | None,
    account: str | None = None,
    endpoint: str | None = None,
) -> bool:
    """What ``pulumi stack init STACK`` then ``pulumi config set-all`` leave behind (``account`` and
    ``endpoint`` as plaintext ``cato:accountId`` / ``cato:endpoint`` when given, ``key`` as the secret
    ``cato:apiKey`` unless None), copied from this worker's template: the stack's checkpoint in the
    local backend, its Pulumi.<stack>.yaml (config already there, as `catoiac import` writes it, is
    kept), and the stack selected as current (PULUMI_HOME's workspace file). False, with nothing
    done, when the case is not one the template reproduces exactly: the caller then runs the real
    commands, errors included."""
    assert (account is None) == (endpoint is None)
    backend = env.get("PULUMI_BACKEND_URL", "")
    passphrase = env.get("PULUMI_CONFIG_PASSPHRASE")
    pulumi_yaml = project_dir / "Pulumi.yaml"
    if (
        not backend.startswith("file://")
        or passphrase is None
        or any(k in env for k in ("PULUMI_CONFIG_PASSPHRASE_FILE", "PULUMI_SECRETS_PROVIDER"))
        or not pulumi_yaml.is_file()
        or "/" in stack
    ):
        return False
    project = yaml.safe_load(pulumi_yaml.read_text()) or {}
    if not isinstance(project.get("name"), str) or set(project) & {"backend", "config", "stackConfigDir"}:
        return False
    name = project["name"]
    stack_yaml = project_dir / f"Pulumi.{stack}.yaml"
    existing = yaml.safe_load(stack_yaml.read_text()) if stack_yaml.exists() else {}
    ours = {"cato:apiKey"} | ({"cato:accountId", "cato:endpoint"} if account is not None else set())
    if (
        not isinstance(existing, dict)
        or set(existing) & _SECRETS_KEYS
        or not isinstance(existing.get("config") or {}, dict)
        or ours & set(existing.get("config") or {})
    ):
        return False
    state = Path(backend.removeprefix("file://"))
    if any((state / ".pulumi/stacks" / name).glob(f"{stack}.json*")):
        return False  # the stack exists: the real `stack init` fails, as it should

    template = _template(name, stack, account, key, passphrase)
    shutil.copytree(template / "state", state, dirs_exist_ok=True)
    made = yaml.safe_load((template / "project" / f"Pulumi.{stack}.yaml").read_text())
    config = {**(existing.get("config") or {}), **(made.get("config") or {})}
    if endpoint is not None:
        assert config["cato:endpoint"] == _ENDPOINT_PLACEHOLDER, made
        config["cato:endpoint"] = endpoint
    merged = {k: v for k, v in made.items() if k != "config"} | {
        k: v for k, v in existing.items() if k != "config"
    }
    stack_yaml.write_text(yaml.safe_dump({**merged, "config": config} if config else merged, sort_keys=False))
    # `stack init` selects the stack: PULUMI_HOME/workspaces/<project>-<sha1(Pulumi.yaml path)>-workspace.json
    workspaces = Path(env["PULUMI_HOME"]) / "workspaces"
    workspaces.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha1(str(pulumi_yaml.resolve()).encode()).hexdigest()
    selected = workspaces / f"{name}-{digest}-workspace.json"
    current = json.loads(selected.read_text()) if selected.is_file() else {}
    current.setdefault("stacks", {})[backend] = f"organization/{name}/{stack}"
    selected.write_text(json.dumps(current, indent=4))
    return True


def init_emulator_stack(
    project_dir: Path,
    env: Mapping[str, str],
    stack: str,
    emu,
    *,
    account: str = ACCOUNT,
    key: str | None = KEY,
) -> None:
    """``pulumi stack init STACK`` + ``pulumi config set-all`` (``emulator_config``): from this
    worker's template where it reproduces them, else the real commands."""
    if not init_stack_from_template(project_dir, env, stack, key=key, account=account, endpoint=emu.url):
        run_pulumi("stack", "init", stack, cwd=project_dir, env=env)
        run_pulumi(
            *emulator_config(emu, account=account, key=key), "--stack", stack, cwd=project_dir, env=env
        )


@dataclass
class PulumiWorkspace:
    """A Pulumi project folder plus the state and home folders it runs against."""

    root: Path
    project_name: str = "catoiac-test"
    stack: str = "test"
    venv: Path = PROJECT_VENV
    env_extra: dict[str, str] = field(default_factory=dict)

    @property
    def project_dir(self) -> Path:
        return self.root / "project"

    @property
    def env(self) -> dict[str, str]:
        return pulumi_env(self.root / "state", self.root / "home", self.env_extra)

    def write_project(self, program: str, *, files: Mapping[str, str] | None = None) -> Path:
        """Write Pulumi.yaml (python runtime in the project's .venv) and __main__.py."""
        self.project_dir.mkdir(parents=True, exist_ok=True)
        project = {
            "name": self.project_name,
            "runtime": {"name": "python", "options": {"virtualenv": str(self.venv)}},
            "description": "throw-away project written by a catoiac test",
        }
        (self.project_dir / "Pulumi.yaml").write_text(yaml.safe_dump(project, sort_keys=False))
        (self.project_dir / "__main__.py").write_text(program)
        for name, text in (files or {}).items():
            path = self.project_dir / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        return self.project_dir

    def run(self, *args: str, check: bool = True, timeout: float = DEFAULT_TIMEOUT):
        """Run a pulumi command in the project folder (stack-scoped commands get --stack)."""
        return run_pulumi(*args, cwd=self.project_dir, env=self.env, check=check, timeout=timeout)

    def init_stack(self) -> subprocess.CompletedProcess[str]:
        return self.run("stack", "init", self.stack)

    def use_emulator(
        self, emu, *, account: str = ACCOUNT, key: str | None = KEY, init: bool = True
    ) -> PulumiWorkspace:
        """Make the stack (``init`` it first) talk to the emulator ``emu``: its endpoint, the account
        and, unless ``key`` is None, the secret API key, in one ``pulumi config set-all`` (a new
        stack is a copy of this worker's template of both: ``init_emulator_stack``)."""
        if init:
            init_emulator_stack(self.project_dir, self.env, self.stack, emu, account=account, key=key)
        else:
            self.run(*emulator_config(emu, account=account, key=key), "--stack", self.stack)
        return self

    def outputs(self) -> dict:
        """The stack outputs, secrets shown."""
        result = self.run("stack", "output", "--json", "--show-secrets", "--stack", self.stack)
        return json.loads(result.stdout)

    def resources(self) -> list[dict]:
        """The resources of the stack's current state (from `pulumi stack export`)."""
        result = self.run("stack", "export", "--stack", self.stack)
        return json.loads(result.stdout).get("deployment", {}).get("resources") or []


@pytest.fixture
def pulumi_workspace(tmp_path: Path) -> PulumiWorkspace:
    """A fresh PulumiWorkspace in the test's temporary folder (the CLI must be on PATH)."""
    pulumi_executable()
    return PulumiWorkspace(root=tmp_path)
