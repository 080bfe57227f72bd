"""The desired side: what one or more Pulumi stacks say they manage.

Read only. We run ``pulumi stack export`` / ``stack history`` / ``config`` (never ``up`` or
``refresh``), or read an exported JSON file. Secret values stay encrypted: we never ask for
``--show-secrets``, so a state export can never leak the API key into a report.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import CatoError

TYPE_PREFIX = "pulumi-python:dynamic/cato:"
SECRET_SIG = "4dabf18193072939515e22adb298388d"  # Pulumi's marker for a secret value in state
SECRET = "[secret]"


class StateError(CatoError):
    """The stack's state could not be read."""


def parse_time(value: Any) -> datetime | None:
    """RFC 3339 strings and Unix seconds, as Pulumi writes them, to aware UTC datetimes."""
    if value in (None, "", 0):
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    text = str(value).strip()
    if text.isdigit():
        return datetime.fromtimestamp(int(text), UTC)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def mask_secrets(value: Any) -> Any:
    """Replace Pulumi secret envelopes by ``[secret]``, recursively."""
    if isinstance(value, dict):
        if SECRET_SIG in value:
            return SECRET
        return {k: mask_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_secrets(v) for v in value]
    return value


@dataclass(frozen=True)
class StateResource:
    stack: str
    urn: str
    spec_name: str
    id: str
    inputs: dict[str, Any]
    outputs: dict[str, Any] = field(default_factory=dict)  # what a read needs (e.g. section_ids)
    created: datetime | None = None
    modified: datetime | None = None
    property_dependencies: Mapping[str, list[str]] = field(default_factory=dict)

    @property
    def logical_name(self) -> str:
        return self.urn.rsplit("::", 1)[-1]


@dataclass(frozen=True)
class Update:
    """One entry of ``pulumi stack history``."""

    kind: str
    result: str
    start: datetime | None
    end: datetime | None
    version: int | None = None


@dataclass
class StackState:
    name: str
    resources: list[StateResource]
    updates: list[Update] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)
    manifest_time: datetime | None = None
    other_types: list[str] = field(default_factory=list)  # resource types this tool does not check

    @property
    def last_update(self) -> datetime | None:
        """When the state last changed: the newest history entry, else the export's manifest time."""
        times = [
            u.end or u.start for u in self.updates if u.kind in ("update", "import", "destroy", "refresh")
        ]
        times = [t for t in times if t is not None]
        if times:
            return max(times)
        return self.manifest_time

    @property
    def last_update_start(self) -> datetime | None:
        starts = [u for u in self.updates if u.start is not None]
        if not starts:
            return self.manifest_time
        newest = max(starts, key=lambda u: u.end or u.start)
        return newest.start


def resources_of(deployment: Mapping[str, Any], stack: str) -> tuple[list[StateResource], list[str]]:
    """Cato resources of an exported deployment, plus the types of the others we skip."""
    out: list[StateResource] = []
    others: list[str] = []
    for r in deployment.get("resources") or []:
        rtype = str(r.get("type", ""))
        if not rtype.startswith(TYPE_PREFIX):
            if r.get("custom") and not rtype.startswith("pulumi:"):
                others.append(rtype)
            continue
        if r.get("delete") or r.get("pendingReplacement") or not r.get("id"):
            continue  # a resource Pulumi is about to delete is not desired any more
        inputs = {k: v for k, v in (r.get("inputs") or {}).items() if not k.startswith("__")}
        outputs = {k: v for k, v in (r.get("outputs") or {}).items() if not k.startswith("__")}
        out.append(
            StateResource(
                stack=stack,
                urn=r["urn"],
                spec_name=rtype[len(TYPE_PREFIX) :],
                id=str(r["id"]),
                inputs=mask_secrets(inputs),
                outputs=mask_secrets(outputs),
                created=parse_time(r.get("created")),
                modified=parse_time(r.get("modified")),
                property_dependencies=r.get("propertyDependencies") or {},
            )
        )
    return out, others


def from_export(data: Mapping[str, Any], stack: str) -> StackState:
    deployment = data.get("deployment") or {}
    resources, others = resources_of(deployment, stack)
    manifest = deployment.get("manifest") or {}
    return StackState(stack, resources, manifest_time=parse_time(manifest.get("time")), other_types=others)


def load_state_file(path: str | Path) -> StackState:
    """An exported state (``pulumi stack export > state.json``); history is not available then."""
    p = Path(path)
    try:
        data = json.loads(p.read_text())
    except (OSError, ValueError) as e:
        raise StateError(f"cannot read state file {p}: {e}") from None
    stack = _stack_from_urns(data) or p.stem
    return from_export(data, stack)


def _stack_from_urns(data: Mapping[str, Any]) -> str | None:
    for r in (data.get("deployment") or {}).get("resources") or []:
        parts = str(r.get("urn", "")).split(":")
        if len(parts) > 2 and parts[0] == "urn" and parts[1] == "pulumi":
            return parts[2]
    return None


class PulumiCli:
    """Read-only pulumi commands. Only ``stack export``, ``stack history`` and ``config``."""

    def __init__(self, cwd: str | Path | None = None, *, executable: str | None = None) -> None:
        self.cwd = str(cwd) if cwd else None
        self.exe = executable or shutil.which("pulumi")
        if not self.exe:
            raise StateError("the pulumi CLI is not on PATH: install it or pass --state-file")

    def _run(self, *args: str) -> str:
        cmd = [self.exe, *args, "--non-interactive", "--color=never"]
        if self.cwd:
            cmd += ["--cwd", self.cwd]
        try:
            res = subprocess.run(
                cmd,
                capture_output=True,
                text=True,
                stdin=subprocess.DEVNULL,
                timeout=300,
                env=dict(os.environ),
            )
        except (OSError, subprocess.TimeoutExpired) as e:
            raise StateError(f"`pulumi {' '.join(args)}` failed: {e}") from None
        if res.returncode != 0:
            detail = (res.stderr or res.stdout).strip().splitlines()
            raise StateError(f"`pulumi {' '.join(args)}` exited {res.returncode}: {' '.join(detail[-3:])}")
        return res.stdout

    def _json(self, *args: str) -> Any:
        out = self._run(*args)
        try:
            return json.loads(out or "null")
        except ValueError as e:
            raise StateError(f"`pulumi {' '.join(args)}` did not print JSON: {e}") from None

    def export(self, stack: str | None) -> dict[str, Any]:
        return self._json("stack", "export", *_stack_args(stack))

    def history(self, stack: str | None) -> list[Update]:
        raw = self._json("stack", "history", "--json", *_stack_args(stack)) or []
        return [
            Update(
                kind=str(u.get("kind", "")),
                result=str(u.get("result", "")),
                start=parse_time(u.get("startTime")),
                end=parse_time(u.get("endTime")),
                version=u.get("version"),
            )
            for u in raw
        ]

    def config(self, stack: str | None) -> dict[str, Any]:
        """Plain config values; secrets stay ``[secret]`` (we never decrypt them)."""
        raw = self._json("config", "--json", *_stack_args(stack)) or {}
        return {k: (SECRET if v.get("secret") else v.get("value")) for k, v in raw.items()}

    def current_stack(self) -> str | None:
        out = self._json("stack", "ls", "--json") or []
        return next((s["name"] for s in out if s.get("current")), None)

    def load(self, stack: str | None) -> StackState:
        """The stack's export, history and (never decrypted) config. The three read-only commands
        run at once, so a drift waits for about one CLI start, not three; an error is raised as
        the sequential reads would raise it (export's first, then history's)."""
        name = stack or self.current_stack()
        if not name:
            raise StateError("no stack selected: pass --stack NAME")
        with ThreadPoolExecutor(max_workers=3, thread_name_prefix="pulumi-read") as pool:
            export = pool.submit(self.export, name)
            history = pool.submit(self.history, name)
            config = pool.submit(self.config, name)
            state = from_export(export.result(), name)
            state.updates = history.result()
            try:
                state.config = config.result()
            except StateError:
                state.config = {}  # config needs the secrets provider; it only supplies defaults
        return state


def _stack_args(stack: str | None) -> list[str]:
    return ["--stack", stack] if stack else []


def load_stacks(
    stacks: Sequence[str], *, cwd: str | Path | None = None, state_files: Sequence[str | Path] = ()
) -> list[StackState]:
    out = [load_state_file(p) for p in state_files]
    if stacks or not state_files:
        cli = PulumiCli(cwd)
        names = list(stacks or [None])
        # Stacks are read at once too (at most 4, each runs 3 CLIs); the first failure in the order
        # given is raised.
        with ThreadPoolExecutor(max_workers=min(len(names), 4), thread_name_prefix="pulumi-stack") as pool:
            loads = [pool.submit(cli.load, s) for s in names]
            out += [f.result() for f in loads]
    names = [s.name for s in out]
    if len(names) != len(set(names)):
        raise StateError(f"the same stack was given twice: {names}")
    return out
