"""What catoiac derives from its packaged files (the schema subset, the GraphQL documents), cached on
disk so that each later process loads it in milliseconds instead of parsing again.

Every ``pulumi`` command starts Python processes that need these; parsing the 190 KB schema subset
and the documents costs about a second of CPU in each. The cache is

- keyed by content: the inputs, the code that derives from them and the graphql-core version, so a
  changed input or deriving module is a new key and an entry is never stale;
- written atomically (a temporary file in the same folder, then ``os.replace``), so concurrent
  processes never read half an entry, and the last of two equal writers wins harmlessly;
- optional: an unreadable or unwritable cache folder only costs the rebuild.

It lives under ``$CATOIAC_CACHE_DIR``, else ``$XDG_CACHE_HOME/catoiac/derived`` (``~/.cache``).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path
from typing import Any

CACHE_ENV = "CATOIAC_CACHE_DIR"
KEEP_DAYS = 30
FORMAT = "1"  # bump when an entry's layout changes without its deriving module changing


def cache_dir() -> Path:
    explicit = os.environ.get(CACHE_ENV)
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "catoiac" / "derived"


def entry_path(kind: str, inputs: Iterable[str]) -> Path:
    """Where the entry for ``kind`` derived from ``inputs`` lives (the key hashes every input)."""
    import graphql

    digest = hashlib.sha256()
    for part in (FORMAT, graphql.__version__, *inputs):
        data = part.encode("utf-8")
        digest.update(len(data).to_bytes(8, "big"))  # length-prefixed: no two input lists collide
        digest.update(data)
    return cache_dir() / f"{kind}-{digest.hexdigest()[:40]}.json"


@cache
def digest_of_file(path: str) -> str:
    """A key input for a file: the schema subset, or a deriving module (editing it invalidates what it
    derived). Read and hashed once per process."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def cached_json(kind: str, inputs: Iterable[str], build: Callable[[], Any]) -> Any:
    """``build()`` (a JSON value), from the cache when an entry for these inputs exists; else built and
    stored. ``build`` raises before anything is stored, so only what built cleanly is ever cached."""
    path = entry_path(kind, inputs)
    try:
        return json.loads(path.read_bytes())
    except (OSError, ValueError):
        pass
    value = build()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{kind}-", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(value, out, separators=(",", ":"))
            os.replace(tmp, path)
            _prune(path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError:
        pass  # a read-only home: the value stays in this process
    return value


def _prune(written: Path) -> None:
    """Entries are never overwritten (a changed input is a new key): when one is written, those of
    its kind untouched for ``KEEP_DAYS`` go. Another process may still use one: it rebuilds it."""
    kind = written.name.rsplit("-", 1)[0]
    cutoff = time.time() - KEEP_DAYS * 86400
    for old in written.parent.glob(f"{kind}-*.json"):
        try:
            if old != written and old.stat().st_mtime < cutoff:
                old.unlink()
        except OSError:
            pass
