"""SQLite state of the emulator: accounts, credentials, entities, audit trail.

One connection guarded by one lock: every GraphQL request runs as a single transaction, so a
mutation that fails leaves nothing behind, and publishes are atomic the way Cato's are.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson


def _loads(text: str) -> Any:
    """A stored document: orjson (about twice json's speed on the thousands a large read decodes),
    or json for what orjson refuses (NaN, integers beyond 64 bits)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


# Statements that change no data (any other bumps ``Store.generation``).
_READ_ONLY = ("SELECT", "BEGIN", "COMMIT", "SAVEPO", "RELEAS", "PRAGMA")

_DDL = """
CREATE TABLE IF NOT EXISTS accounts(id TEXT PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS api_keys(
  key_hash TEXT PRIMARY KEY, account_id TEXT NOT NULL, id TEXT NOT NULL, name TEXT NOT NULL,
  role TEXT NOT NULL DEFAULT 'editor');
CREATE TABLE IF NOT EXISTS admins(
  account_id TEXT NOT NULL, id TEXT NOT NULL, email TEXT NOT NULL, name TEXT NOT NULL,
  PRIMARY KEY(account_id, id));
CREATE TABLE IF NOT EXISTS entities(
  account_id TEXT NOT NULL, kind TEXT NOT NULL, id TEXT NOT NULL, parent_id TEXT, name TEXT,
  seq INTEGER NOT NULL, data TEXT NOT NULL, PRIMARY KEY(account_id, kind, id));
CREATE INDEX IF NOT EXISTS entities_parent ON entities(account_id, kind, parent_id);
CREATE INDEX IF NOT EXISTS entities_name ON entities(account_id, kind, name);
CREATE TABLE IF NOT EXISTS audit(
  seq INTEGER PRIMARY KEY AUTOINCREMENT, account_id TEXT NOT NULL, time TEXT NOT NULL,
  record TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS audit_time ON audit(account_id, time, seq);
CREATE TABLE IF NOT EXISTS counters(name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


# Cato's API permission of a key: "View" keys may only run queries, "Edit" keys may also mutate.
KEY_ROLES = ("editor", "viewer")


def hash_key(api_key: str) -> str:
    # Keys are stored hashed: the emulator's database is a test artefact users may share.
    return hashlib.sha256(api_key.encode()).hexdigest()


@dataclass(frozen=True)
class Identity:
    """Who makes a change: an API key (API) or an admin (the Cato UI)."""

    kind: str  # "api_key" | "admin"
    id: str
    name: str
    account_id: str
    role: str = "editor"  # an API key's permission (KEY_ROLES); admins in the UI edit

    @property
    def is_admin(self) -> bool:
        return self.kind == "admin"

    @property
    def read_only(self) -> bool:
        return self.role == "viewer"


class Store:
    def __init__(self, path: str = ":memory:", *, extra_ddl: list[str] | None = None) -> None:
        self.path = path
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA journal_mode=WAL" if path != ":memory:" else "PRAGMA journal_mode=MEMORY")
        self._conn.execute("PRAGMA foreign_keys=ON")
        self.lock = threading.RLock()
        self._clock_offset = timedelta(0)
        # Bumped by every change to the data (a write, a rollback): views derived from the state
        # (``memo``) are computed once per generation rather than once per request.
        self.generation = 0
        self._memo: dict[Any, tuple[int, Any]] = {}
        with self.lock:
            self._conn.executescript(_DDL)
            for ddl in extra_ddl or []:
                self._conn.executescript(ddl)
            key_columns = {r["name"] for r in self._conn.execute("PRAGMA table_info(api_keys)")}
            if "role" not in key_columns:  # a database file from before key roles
                self._conn.execute("ALTER TABLE api_keys ADD COLUMN role TEXT NOT NULL DEFAULT 'editor'")
            row = self._conn.execute("SELECT value FROM meta WHERE key='clock_offset'").fetchone()
            if row:
                self._clock_offset = timedelta(seconds=float(row["value"]))

    # -- transactions -------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[Store]:
        """Serialise and wrap one request; roll back on any exception."""
        with self.lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self
            except BaseException:
                self._conn.execute("ROLLBACK")
                self.generation += 1
                raise
            else:
                self._conn.execute("COMMIT")

    def rollback_to_savepoint(self, name: str) -> None:
        self._conn.execute(f"ROLLBACK TO SAVEPOINT {name}")
        self.generation += 1

    def savepoint(self, name: str) -> None:
        self._conn.execute(f"SAVEPOINT {name}")

    def release(self, name: str) -> None:
        self._conn.execute(f"RELEASE SAVEPOINT {name}")

    def execute(self, sql: str, params: tuple | dict = ()) -> sqlite3.Cursor:
        if not sql.lstrip()[:6].upper().startswith(_READ_ONLY):
            self.generation += 1  # a write, or a rollback of writes
        return self._conn.execute(sql, params)

    def _write(self, sql: str, params: tuple | dict = ()) -> sqlite3.Cursor:
        self.generation += 1
        return self._conn.execute(sql, params)

    def memo(self, key: Any, build: Callable[[], Any]) -> Any:
        """``build()``, a view derived from the state, computed once per generation of the data.
        Shared by the requests of that generation: callers never change what it returns."""
        with self.lock:
            hit = self._memo.get(key)
            if hit is not None and hit[0] == self.generation:
                return hit[1]
            generation = self.generation
            value = build()
            if generation == self.generation:  # nothing was written while it was built
                self._memo[key] = (generation, value)
            return value

    def close(self) -> None:
        self._conn.close()

    # -- clock ----------------------------------------------------------------------------------
    def now(self) -> datetime:
        return datetime.now(UTC) + self._clock_offset

    def advance_clock(self, seconds: float) -> None:
        with self.lock:
            self._clock_offset += timedelta(seconds=seconds)
            self._write(
                "INSERT OR REPLACE INTO meta(key, value) VALUES('clock_offset', ?)",
                (str(self._clock_offset.total_seconds()),),
            )

    # -- settings ---------------------------------------------------------------------------------
    def set_meta(self, key: str, value: str) -> None:
        self._write("INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)", (key, value))

    def get_meta(self, key: str) -> str | None:
        row = self._conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row["value"] if row else None

    # -- accounts and identities --------------------------------------------------------------
    def add_account(self, account_id: str, name: str) -> None:
        self._write("INSERT OR REPLACE INTO accounts(id, name) VALUES(?, ?)", (account_id, name))

    def account_exists(self, account_id: str) -> bool:
        return self._conn.execute("SELECT 1 FROM accounts WHERE id=?", (account_id,)).fetchone() is not None

    def add_api_key(self, account_id: str, key_id: str, name: str, key: str, role: str = "editor") -> None:
        if role not in KEY_ROLES:
            raise ValueError(f"api key {key_id}: role must be one of {', '.join(KEY_ROLES)}, got {role!r}")
        self._write(
            "INSERT OR REPLACE INTO api_keys(key_hash, account_id, id, name, role) VALUES(?, ?, ?, ?, ?)",
            (hash_key(key), account_id, key_id, name, role),
        )

    def identity_for_key(self, key: str) -> Identity | None:
        row = self._conn.execute(
            "SELECT account_id, id, name, role FROM api_keys WHERE key_hash=?", (hash_key(key),)
        ).fetchone()
        return Identity("api_key", row["id"], row["name"], row["account_id"], row["role"]) if row else None

    def add_admin(self, account_id: str, admin_id: str, email: str, name: str) -> None:
        self._write(
            "INSERT OR REPLACE INTO admins(account_id, id, email, name) VALUES(?, ?, ?, ?)",
            (account_id, admin_id, email, name),
        )

    def admin_identity(self, account_id: str, email: str) -> Identity | None:
        row = self._conn.execute(
            "SELECT id, email, name FROM admins WHERE account_id=? AND (email=? OR id=?)",
            (account_id, email, email),
        ).fetchone()
        return Identity("admin", row["id"], row["email"], account_id) if row else None

    # -- ids ----------------------------------------------------------------------------------
    def next_id(self, counter: str, start: int = 1000) -> int:
        row = self._conn.execute("SELECT value FROM counters WHERE name=?", (counter,)).fetchone()
        value = (row["value"] if row else start) + 1
        self._write("INSERT OR REPLACE INTO counters(name, value) VALUES(?, ?)", (counter, value))
        return value

    # -- entities: one JSON document per Cato object ------------------------------------------
    def put(
        self,
        account_id: str,
        kind: str,
        entity_id: str,
        data: dict[str, Any],
        *,
        parent_id: str | None = None,
        name: str | None = None,
    ) -> None:
        row = self._conn.execute(
            "SELECT seq FROM entities WHERE account_id=? AND kind=? AND id=?", (account_id, kind, entity_id)
        ).fetchone()
        seq = row["seq"] if row else self.next_id(f"seq:{account_id}:{kind}", 0)
        self._write(
            "INSERT OR REPLACE INTO entities(account_id, kind, id, parent_id, name, seq, data)"
            " VALUES(?, ?, ?, ?, ?, ?, ?)",
            (account_id, kind, entity_id, parent_id, name, seq, json.dumps(data, sort_keys=True)),
        )

    def get(self, account_id: str, kind: str, entity_id: str) -> dict[str, Any] | None:
        row = self._conn.execute(
            "SELECT data FROM entities WHERE account_id=? AND kind=? AND id=?", (account_id, kind, entity_id)
        ).fetchone()
        return _loads(row["data"]) if row else None

    def find_by_name(self, account_id: str, kind: str, name: str) -> list[dict[str, Any]]:
        rows = self._conn.execute(
            "SELECT data FROM entities WHERE account_id=? AND kind=? AND name=? ORDER BY seq",
            (account_id, kind, name),
        ).fetchall()
        return [_loads(r["data"]) for r in rows]

    def list(self, account_id: str, kind: str, parent_id: str | None = None) -> list[dict[str, Any]]:
        if parent_id is None:
            rows = self._conn.execute(
                "SELECT data FROM entities WHERE account_id=? AND kind=? ORDER BY seq", (account_id, kind)
            ).fetchall()
        else:
            rows = self._conn.execute(
                "SELECT data FROM entities WHERE account_id=? AND kind=? AND parent_id=? ORDER BY seq",
                (account_id, kind, parent_id),
            ).fetchall()
        return [_loads(r["data"]) for r in rows]

    def delete(self, account_id: str, kind: str, entity_id: str) -> bool:
        cur = self._write(
            "DELETE FROM entities WHERE account_id=? AND kind=? AND id=?", (account_id, kind, entity_id)
        )
        return cur.rowcount > 0

    def delete_children(self, account_id: str, kind: str, parent_id: str) -> int:
        cur = self._write(
            "DELETE FROM entities WHERE account_id=? AND kind=? AND parent_id=?",
            (account_id, kind, parent_id),
        )
        return cur.rowcount

    # -- audit ----------------------------------------------------------------------------------
    def append_audit(self, account_id: str, time: datetime, record: dict[str, Any]) -> None:
        self._write(
            "INSERT INTO audit(account_id, time, record) VALUES(?, ?, ?)",
            (account_id, time.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), json.dumps(record, sort_keys=True)),
        )

    def audit_range(
        self, account_id: str, start: datetime, end: datetime, after_seq: int = 0, limit: int = 1000
    ) -> list[tuple[int, dict[str, Any]]]:
        rows = self._conn.execute(
            "SELECT seq, record FROM audit WHERE account_id=? AND time>=? AND time<=? AND seq>?"
            " ORDER BY seq LIMIT ?",
            (
                account_id,
                start.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                end.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                after_seq,
                limit,
            ),
        ).fetchall()
        return [(r["seq"], _loads(r["record"])) for r in rows]
