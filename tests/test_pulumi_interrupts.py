"""The pulumi commands the suite starts can be interrupted, however the suite itself was started.

Pulumi stops its plugins with SIGINT and kills them 5 s later; a suite started with SIGINT ignored (a
background job of a non-interactive shell) would hand that on, and every pulumi command would wait 5 s
per plugin (``pulumi_helpers.allow_interrupts``).
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent

# Started with SIGINT ignored: what a child of it inherits, before and after allow_interrupts().
CHILD = f"""
import signal, subprocess, sys
sys.path.insert(0, {str(TESTS)!r})
signal.signal(signal.SIGINT, signal.SIG_IGN)
ASK = [sys.executable, "-c", "import signal; print(signal.getsignal(signal.SIGINT) == signal.SIG_IGN)"]
before = subprocess.run(ASK, capture_output=True, text=True).stdout.strip()
from pulumi_helpers import allow_interrupts
allow_interrupts()
after = subprocess.run(ASK, capture_output=True, text=True).stdout.strip()
print(before, after)
"""


def test_a_process_started_with_sigint_ignored_starts_its_commands_with_sigint_restored():
    out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "False"]  # ignored before, the default action after


def test_this_test_process_hands_no_ignored_sigint_to_the_commands_it_starts():
    assert signal.getsignal(signal.SIGINT) != signal.SIG_IGN  # conftest's pytest_configure
