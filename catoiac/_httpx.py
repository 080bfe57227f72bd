"""``httpx``, imported without its command-line client.

httpx's ``__init__`` imports ``httpx._main`` (its ``httpx`` CLI) whenever ``rich`` and ``click`` are
installed, and both are our dependencies: that pulled ``rich.console``, ``click`` and ``pygments``,
about 0.1 s of CPU, into every process that makes a client (each Pulumi provider process among them),
for a CLI none of them runs. httpx falls back to a stub ``main`` when ``_main`` cannot be imported, so
``_main`` is held back while httpx loads, then released: ``import httpx._main`` still works later.
A process that has loaded httpx already is left as it is.

``tls_context`` is the one verifying TLS context a process needs, for every client it makes.
"""

from __future__ import annotations

import functools
import os
import ssl
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

__all__ = ["httpx", "tls_context"]


def tls_context(*, trust_env: bool = True) -> ssl.SSLContext:
    """The verifying TLS context httpx would build for a client, built once per process and CA setting.

    httpx builds a new context for every client, loading the whole CA bundle each time: about 30 ms
    of CPU, more than a whole request to a local endpoint, in every provider process, CLI run and
    client. With ``trust_env`` (httpx's default) SSL_CERT_FILE and SSL_CERT_DIR choose the CAs, as
    they do in httpx; they are read at each call, so a changed setting gets its own context."""
    if not trust_env:
        return _tls_context(False, None, None)
    return _tls_context(True, os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))


@functools.lru_cache(maxsize=8)
def _tls_context(trust_env: bool, cafile: str | None, capath: str | None) -> ssl.SSLContext:
    del cafile, capath  # the cache key: httpx reads the same two variables itself, just below
    return httpx.create_ssl_context(trust_env=trust_env)
