"""A local write-ahead journal of what our stacks create in Cato: how ownership is proven.

The problem. A ``pulumi up`` killed mid-way (a dead CI runner, a cancelled job) leaves objects in
Cato that the stack's state does not hold: the provider created them, but the engine never wrote
their ids down. On the next ``up`` Pulumi asks to create them again, and Cato refuses the names.
The provider must tell "this stack made it and lost the reply" (adopt it) from "someone else made
an object with that name" (refuse it: another stack's section, a site made in the UI). Names
cannot tell them apart; ids can, because only the process that made an object learns its id
first.

The journal. Before each create the provider writes down its intent, and after it the id Cato
answered, keyed by the account and the resource's identity in its program (``__catoiac_owner``,
``<project>/<stack>/<Type>::<name>``: dynamic providers are never told the URN):

- ``intent``: before the write. The spec and the object's natural key (e.g. the site name).
- ``created``: the id Cato answered (sites, ranges, hosts, interfaces, BGP peers, groups).
- ``publishing``: a policy resource's section ids, including those it just added inside its own
  revision, written right before the revision is published. Ids made in our own revision cannot
  belong to anyone else: after a publish whose reply was lost, the live sections with those ids
  are ours; after a discard, they do not exist.
- ``published``: the same after the publish answered.

An entry stays while the resource exists (it also names the owner of an object another stack
declares) and is removed when the resource is deleted. The next create for an owner with an
entry adopts what the entry proves ours (and reconciles it to the program), see
``catoiac.resources.engine`` and ``catoiac.resources.policy``. An ``intent`` with no id (the
provider process itself died before the reply) is proven by Cato's audit trail instead: the
object must have been created by an API key, not in the UI, within minutes of the intent.

Files: ``<root>/<account id>/<sha256(endpoint, owner)>.json``, one per resource, written whole
(temporary file, fsync, rename: a crash leaves the old entry or the new one, never half of one),
mode 0600 in 0700 folders. They hold names, ids, times and the endpoint, never a key or input value.

Where (``Journal.locate``): stack config ``cato:journalDir``, else ``CATOIAC_JOURNAL_DIR``, else
``$XDG_STATE_HOME/catoiac/journal`` (``~/.local/state/catoiac/journal``). A CI runner that is thrown
away loses its journal: keep the folder with the stack (see the README, "Crash safety").
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

VERSION = 1
CONFIG_KEY = "cato:journalDir"
ENV = "CATOIAC_JOURNAL_DIR"
LIVE_STATES = ("created", "publishing", "published")  # an object exists (or may) with a known id
_HEADER = ("version", "owner", "account", "endpoint", "spec", "state", "time", "pid")


def default_root() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "catoiac" / "journal"


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_iso(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def _safe(part: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in part) or "_"


@dataclass(frozen=True)
class Journal:
    root: Path

    @classmethod
    def locate(cls, configured: str | None = None) -> Journal:
        found = configured or os.environ.get(ENV)
        return cls(Path(found).expanduser() if found else default_root())

    def _dir(self, account: str) -> Path:
        return self.root / _safe(str(account))

    def claim(self, endpoint: str, account: str, owner: str) -> Claim:
        digest = hashlib.sha256(f"{endpoint}\0{owner}".encode()).hexdigest()[:32]
        return Claim(self, str(endpoint), str(account), owner, self._dir(account) / f"{digest}.json")

    def entries(self, endpoint: str, account: str) -> Iterator[dict[str, Any]]:
        folder = self._dir(account)
        if not folder.is_dir():
            return
        for path in sorted(folder.glob("*.json")):
            if path.name.startswith(".tmp-"):
                continue  # a write that never reached its rename
            entry = _load(path)
            if entry is not None and entry.get("endpoint") == endpoint:
                yield entry

    def owner_of(
        self, endpoint: str, account: str, object_id: str, *, besides: str | None = None
    ) -> str | None:
        """The owner whose entry names this object id (another resource's, if ``besides``)."""
        for entry in self.entries(endpoint, account):
            if entry.get("owner") == besides or entry.get("state") not in LIVE_STATES:
                continue
            if str(object_id) in object_ids(entry):
                return str(entry.get("owner"))
        return None


def object_ids(entry: Mapping[str, Any]) -> set[str]:
    ids = {str(v) for v in (entry.get("sections") or {}).values()}
    if entry.get("id"):
        ids.add(str(entry["id"]))
    return ids


def _load(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("version") == VERSION else None


def _mkdir_private(path: Path) -> None:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        os.chmod(path, 0o700)


@dataclass(frozen=True)
class Claim:
    """One resource's entry: what it intends to create, and what it created."""

    journal: Journal
    endpoint: str
    account: str
    owner: str
    path: Path

    def read(self) -> dict[str, Any] | None:
        entry = _load(self.path)
        if entry is None or entry.get("owner") != self.owner or entry.get("endpoint") != self.endpoint:
            return None
        return entry

    def write(self, state: str, spec: str, **fields: Any) -> dict[str, Any]:
        """Move the entry to ``state``, durably, before returning. Fields of the previous entry of
        the same spec are kept (the intent's time and key) unless given again."""
        prior = self.read() if state != "intent" else None
        kept = (
            {k: v for k, v in (prior or {}).items() if k not in _HEADER}
            if prior and prior.get("spec") == spec
            else {}
        )
        entry = {
            **kept,
            **fields,
            "version": VERSION,
            "owner": self.owner,
            "account": self.account,
            "endpoint": self.endpoint,
            "spec": spec,
            "state": state,
            "time": now_iso(),
            "pid": os.getpid(),
        }
        entry.setdefault("intent_time", entry["time"])
        self.journal.root.mkdir(mode=0o700, parents=True, exist_ok=True)  # private if we make it
        _mkdir_private(self.path.parent)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".tmp-", suffix=".json")  # mode 0600
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(entry, f, sort_keys=True, indent=1)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        _fsync_dir(self.path.parent)
        return entry

    def forget(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
            _fsync_dir(self.path.parent)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
