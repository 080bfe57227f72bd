"""``httpx``, imported without its command-line client.

httpx's ``__init__`` imports ``httpx._main`` (its ``httpx`` CLI) whenever ``rich`` and ``click`` are
installed, and both are our dependencies: that pulled ``rich.console``, ``click`` and ``pygments``,
about 0.1 s of CPU, into every process that makes a client (each Pulumi provider process among them),
for a CLI none of them runs. httpx falls back to a stub ``main`` when ``_main`` cannot be imported, so
``_main`` is held back while httpx loads, then released: ``import httpx._main`` still works later.
A process that has loaded httpx already is left as it is.
"""

from __future__ import annotations

import sys

if "httpx" in sys.modules:
    import httpx
else:
    _held = "httpx._main" not in sys.modules
    if _held:
        sys.modules["httpx._main"] = None  # type: ignore[assignment]  # makes `from ._main import` fail
    try:
        import httpx
    finally:
        if _held and sys.modules.get("httpx._main", 0) is None:
            del sys.modules["httpx._main"]

__all__ = ["httpx"]
