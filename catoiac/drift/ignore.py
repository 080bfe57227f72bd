"""``.catoiacignore``: known, accepted drift, each entry with an owner and an expiry date.

YAML, a list of entries (or ``{ignore: [...]}``)::

    - type: SocketSite          # spec name (glob)
      name: "lab-*"             # Pulumi resource name or Cato name (glob)
      id: "1234"                # Cato id (glob)
      property: "location.*"    # property path (glob); without it the whole finding is ignored
      kind: modified            # modified | deleted | reordered | unmanaged | device
      stack: prod               # stack name (glob)
      owner: netops@example.com
      expires: 2026-12-31       # from this day on the entry no longer ignores, and is reported
      reason: lab sites are hand-tuned

Every selector given must match; an entry with no selector is an error (it would hide everything).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import yaml

from ..errors import CatoError

KINDS = ("modified", "deleted", "reordered", "unmanaged", "device")
SELECTORS = ("type", "name", "id", "property", "kind", "stack")
FIELDS = (*SELECTORS, "owner", "expires", "reason")
DEFAULT_FILE = ".catoiacignore"


class IgnoreFileError(CatoError):
    """The ignore file is malformed."""


@dataclass(frozen=True)
class IgnoreEntry:
    index: int  # 1-based position in the file
    type: str | None = None
    name: str | None = None
    id: str | None = None
    property: str | None = None
    kind: str | None = None
    stack: str | None = None
    owner: str | None = None
    expires: date | None = None
    reason: str | None = None

    def expired(self, today: date) -> bool:
        return self.expires is not None and self.expires < today

    def selects(
        self, *, type: str, names: Iterable[str | None], id: str | None, kind: str, stack: str
    ) -> bool:
        """Does the entry select this finding (before any property selector)?"""

        def ok(pattern: str | None, values: Iterable[str | None]) -> bool:
            return pattern is None or any(v is not None and fnmatchcase(str(v), pattern) for v in values)

        return (
            ok(self.type, [type])
            and ok(self.name, names)
            and ok(self.id, [id])
            and ok(self.kind, [kind])
            and ok(self.stack, [stack])
        )

    def selects_path(self, path: str) -> bool:
        return self.property is None or fnmatchcase(path, self.property)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"index": self.index}
        for f in FIELDS:
            v = getattr(self, f)
            if v is not None:
                out[f] = v.isoformat() if isinstance(v, date) else v
        return out


def parse(text: str, source: str = DEFAULT_FILE) -> list[IgnoreEntry]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise IgnoreFileError(f"{source}: not valid YAML: {e}") from None
    if data is None:
        return []
    if isinstance(data, dict):
        data = data.get("ignore")
    if not isinstance(data, list):
        raise IgnoreFileError(f"{source}: expected a list of entries (or `ignore:` with a list)")
    entries = []
    for i, raw in enumerate(data, 1):
        if not isinstance(raw, dict):
            raise IgnoreFileError(f"{source}: entry {i} is not a mapping")
        unknown = sorted(set(raw) - set(FIELDS))
        if unknown:
            raise IgnoreFileError(f"{source}: entry {i}: unknown key(s) {unknown}; known: {list(FIELDS)}")
        if not any(raw.get(k) not in (None, "") for k in SELECTORS):
            raise IgnoreFileError(
                f"{source}: entry {i} selects nothing: give type, name, id, property or kind"
            )
        if raw.get("kind") is not None and raw["kind"] not in KINDS:
            raise IgnoreFileError(f"{source}: entry {i}: kind must be one of {list(KINDS)}")
        expires = raw.get("expires")
        if expires is not None and not isinstance(expires, date):
            try:
                expires = date.fromisoformat(str(expires))
            except ValueError:
                raise IgnoreFileError(f"{source}: entry {i}: expires must be a date (YYYY-MM-DD)") from None
        if isinstance(expires, datetime):
            expires = expires.date()
        entries.append(
            IgnoreEntry(
                index=i,
                **{
                    k: (str(raw[k]) if raw.get(k) is not None else None)
                    for k in (*SELECTORS, "owner", "reason")
                },
                expires=expires,
            )
        )
    return entries


def load(path: str | Path | None) -> list[IgnoreEntry]:
    """Entries of ``path``, or of ``./.catoiacignore`` when it exists; none otherwise."""
    if path is None:
        p = Path(DEFAULT_FILE)
        if not p.is_file():
            return []
    else:
        p = Path(path)
    try:
        return parse(p.read_text(), str(p))
    except OSError as e:
        raise IgnoreFileError(f"cannot read {p}: {e}") from None


def today_utc() -> date:
    return datetime.now(UTC).date()


@dataclass
class Verdict:
    """What the ignore entries say about one finding."""

    finding: IgnoreEntry | None = None  # the whole finding is ignored by this entry
    changes: dict[int, IgnoreEntry] | None = None  # change index -> entry
    expired: list[IgnoreEntry] | None = None  # expired entries that would have matched


def judge(
    entries: Sequence[IgnoreEntry],
    *,
    type: str,
    names: Iterable[str | None],
    id: str | None,
    kind: str,
    stack: str,
    paths: Sequence[str],
    today: date,
) -> Verdict:
    """First live entry wins; an expired entry never ignores but is reported if it matches."""
    names = list(names)
    v = Verdict(changes={}, expired=[])
    for e in entries:
        if not e.selects(type=type, names=names, id=id, kind=kind, stack=stack):
            continue
        if e.property is None:
            hit = True
        else:
            hits = [i for i, p in enumerate(paths) if e.selects_path(p)]
            hit = bool(hits)
        if not hit:
            continue
        if e.expired(today):
            v.expired.append(e)
            continue
        if e.property is None:
            if v.finding is None:
                v.finding = e
        else:
            for i in hits:
                v.changes.setdefault(i, e)
    if v.finding is None and paths and len(v.changes) == len(paths):
        v.finding = v.changes[0]
    return v


def append(path: str | Path, entries: list[dict[str, Any]], header: str) -> list[IgnoreEntry]:
    """Add ``entries`` to the ignore file at ``path`` (created if missing), keeping what it holds (its
    comments included when it is a plain list); returns every entry of the file, as ``load`` would."""
    p = Path(path)
    text = p.read_text() if p.is_file() else ""
    existing = yaml.safe_load(text) if text.strip() else None
    if isinstance(existing, dict):  # the `ignore:` form: rewritten as a whole (comments are lost)
        existing.setdefault("ignore", [])
        existing["ignore"] = list(existing["ignore"] or []) + entries
        new = yaml.safe_dump(existing, sort_keys=False, allow_unicode=True, width=200)
    else:
        block = yaml.safe_dump(entries, sort_keys=False, allow_unicode=True, width=200)
        new = text + ("" if not text or text.endswith("\n") else "\n") + f"# {header}\n" + block
    parsed = parse(new, str(p))  # never write a file the next run could not read
    tmp = p.with_name(p.name + ".tmp")
    tmp.write_text(new)
    tmp.replace(p)
    return parsed
