"""Helpers the ``catoiac review`` tests share."""

from __future__ import annotations

import re
import subprocess

from click.testing import CliRunner

from catoiac.cli import main


def catoiac(*args: str, stdin: str | None = None, env: dict[str, str] | None = None):
    """The real command in-process (click's runner): stdin, stdout, stderr and the exit code."""
    res = CliRunner().invoke(main, list(args), input=stdin, env=env)
    if res.exception and not isinstance(res.exception, SystemExit):
        raise res.exception
    return subprocess.CompletedProcess(args, res.exit_code, res.stdout, res.stderr)


def ids_masked(text: str) -> str:
    """Cato ids depend on the order Pulumi's parallel steps reach the emulator: not compared."""
    return re.sub(r"\b100\d{3}\b", "<id>", text)
