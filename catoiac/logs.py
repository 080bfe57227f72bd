"""Logging for the command line and the provider: ``--log-level`` or ``CATOIAC_LOG``.

At ``debug`` every API call logs one line (operation, outcome, duration, requests, retries and the
seconds paced under Cato's rate limits); variables and headers are never logged, and every record
passes the secret scrubber (``catoiac.secrets``) first.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import TextIO

from catoiac.secrets import install_log_scrubber

ENV = "CATOIAC_LOG"
LEVELS = ("debug", "info", "warning", "error")
DEFAULT = "warning"
FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


class LogLevelError(ValueError):
    pass


def level_named(name: str | None, setting: str = ENV) -> int:
    """The logging level for ``name`` (case-insensitive); a clear error naming ``setting`` otherwise."""
    text = (name or DEFAULT).strip().lower()
    if text not in LEVELS:
        raise LogLevelError(f"{setting}={name!r} is not a log level: use one of {', '.join(LEVELS)}")
    return getattr(logging, text.upper())


def from_environment() -> str | None:
    return os.environ.get(ENV) or None


def configure(
    level: str | None, handler: logging.Handler | None = None, *, stream: TextIO | None = None
) -> int:
    """Send the ``catoiac`` loggers' records at ``level`` and above to ``handler`` (default: stderr).
    Idempotent: a second call replaces the handler the first installed."""
    number = level_named(level)
    install_log_scrubber()
    if handler is None:
        handler = logging.StreamHandler(stream or sys.stderr)
        handler.setFormatter(logging.Formatter(FORMAT))
    handler.set_name("catoiac")
    handler.setLevel(number)
    root = logging.getLogger("catoiac")
    for old in [h for h in root.handlers if h.get_name() == "catoiac"]:
        root.removeHandler(old)
    root.addHandler(handler)
    # Lower the loggers' own threshold only when asked for more than the default: a host (a test, an
    # application running the CLI in-process) keeps its own level and still receives the records.
    root.setLevel(number if number < logging.WARNING else logging.NOTSET)
    return number


__all__ = ["ENV", "LEVELS", "LogLevelError", "configure", "level_named", "from_environment"]
