"""Every command teaches itself: its --help shows examples that parse with the command's real
options, and shell completion works for bash, zsh and fish as the README says."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import click
import pytest

from catoiac.cli import main

ROOT = Path(__file__).resolve().parents[1]
CATOIAC = str(Path(sys.executable).parent / "catoiac")


def commands(cmd: click.Command = main, path: tuple[str, ...] = ("catoiac",)):
    yield path, cmd
    if isinstance(cmd, click.Group):
        for name, sub in sorted(cmd.commands.items()):
            yield from commands(sub, (*path, name))


def examples(cmd: click.Command) -> list[str]:
    """The ``catoiac ...`` invocations in a command's Examples block (pipes and comments dropped)."""
    help_text = cmd.help or ""
    if "Examples:" not in help_text:
        return []
    block = help_text.split("Examples:", 1)[1]
    found = []
    for line in block.strip("\n").splitlines():
        if not line.strip():
            break  # the block ends at a blank line
        at = line.find("catoiac ")
        if at >= 0:
            found.append(line[at:].split(" # ")[0].split(" | ")[0].strip())
    return found


def parse(argv: list[str]) -> click.Command:
    """Walk ``catoiac ...`` down to its leaf command with click's own tables: an unknown command or
    option raises click's error (values are not checked: example files need not exist)."""
    cmd: click.Command = main
    words = iter(argv[1:])
    for word in words:
        if word.startswith("-") and word != "-":  # "-": stdin
            name = word.split("=", 1)[0]
            param = next((p for p in cmd.params if name in (*p.opts, *p.secondary_opts)), None)
            if param is None and name != "--help":
                raise click.NoSuchOption(name, possibilities=[o for p in cmd.params for o in p.opts])
            if isinstance(param, click.Option) and not param.is_flag and "=" not in word:
                next(words, None)  # its value
        elif isinstance(cmd, click.Group):
            sub = cmd.commands.get(word)
            if sub is None:
                raise click.UsageError(f"no command {word!r} in {cmd.name}")
            cmd = sub
    return cmd


@pytest.mark.parametrize("path", [p for p, _ in commands()], ids=" ".join)
def test_every_command_shows_examples_that_use_its_real_options(path):
    cmd = dict(commands())[path]
    found = examples(cmd)
    assert found, f"`{' '.join(path)} --help` has no Examples block"
    for example in found:
        # Its own examples run it (or, for a group, one of its commands).
        assert parse(shlex.split(example)) in {c for p, c in commands() if p[: len(path)] == path}, example


def test_an_example_with_a_misspelt_option_would_fail_the_check():
    with pytest.raises(click.NoSuchOption):
        parse(shlex.split("catoiac drift --stak prod"))


def _complete(shell: str, words: str) -> str:
    cword = len(words.split()) - (0 if words.endswith(" ") else 1)
    env = {
        **os.environ,
        "_CATOIAC_COMPLETE": f"{shell}_complete",
        "COMP_WORDS": words,
        "COMP_CWORD": str(cword),
    }
    return subprocess.run([CATOIAC], env=env, capture_output=True, text=True, check=True).stdout


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_shell_completion_scripts_are_generated_and_complete_commands_and_options(shell):
    env = {**os.environ, "_CATOIAC_COMPLETE": f"{shell}_source"}
    script = subprocess.run([CATOIAC], env=env, capture_output=True, text=True, check=True).stdout
    assert "_CATOIAC_COMPLETE" in script
    readme = (ROOT / "README.md").read_text()
    assert f"_CATOIAC_COMPLETE={shell}_source catoiac" in readme
    if shell == "bash":
        # bash_complete answers "type,value" lines.
        assert "plain,drift" in _complete("bash", "catoiac dr").split()
        assert "plain,--fail-on-loosening" in _complete("bash", "catoiac review --fail-on-l").split()


def test_bash_completion_runs_in_a_real_bash():
    script = """
    eval "$(_CATOIAC_COMPLETE=bash_source catoiac)"
    COMP_WORDS=(catoiac emulator g); COMP_CWORD=2
    _catoiac_completion catoiac
    printf '%s\\n' "${COMPREPLY[@]}"
    """
    env = {**os.environ, "PATH": f"{Path(CATOIAC).parent}{os.pathsep}{os.environ['PATH']}"}
    out = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, check=True).stdout
    assert re.search(r"^gen-schema$", out, re.M), out
