"""The dynamic provider: a thin adapter from Pulumi's provider protocol to catoiac's engine.

Pulumi pickles the provider into the state, so it carries only the spec name. Credentials come
from stack config in ``configure()`` (or the CATO_* environment) and clients are built lazily
in the provider process, once per account, and shared by every resource (see SessionPool).
"""

from __future__ import annotations

import threading
from typing import Any

from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)
from pulumi.output import Unknown

from catoiac.errors import CatoError
from catoiac.resources import Engine
from catoiac.resources.engine import OWNER_KEY
from catoiac.resources.preflight import Preflight, preflight_for
from catoiac.resources.program import PROGRAM
from catoiac.resources.specs import SPECS
from catoiac.resources.validation import UNKNOWN
from catoiac.session import Credentials, Session, SessionPool

_POOL = SessionPool()  # per provider process: one client and read cache per account
_CONFIG: dict[str, Any] = {}
_CONFIG_LOCK = threading.Lock()
_CONFIG_KEYS = ("cato:apiKey", "cato:accountId", "cato:endpoint")


def _credentials() -> Credentials:
    with _CONFIG_LOCK:
        return Credentials.resolve(_CONFIG)


def _session() -> Session:
    return _POOL.get(_credentials())


_TOLD: set[object] = set()  # credential problems reported already by this process


def _once(key: object, problems: list[tuple[str, str]]) -> list[tuple[str, str]]:
    with _CONFIG_LOCK:
        first = key not in _TOLD
        _TOLD.add(key)
    return problems if first else []


def _preflight(probe: bool = True) -> tuple[Preflight | None, list[tuple[str, str]]]:
    """The live checks to run (None without usable credentials, or without ``probe``), and credential
    problems to report: each once per provider process, by the first resource checked."""
    missing = _credentials().problems()
    if missing:
        return None, _once(tuple(p for p, _ in missing), missing)
    if not probe:
        return None, []
    try:
        preflight = preflight_for(_session())
    except CatoError as e:  # an unusable endpoint or key (the client says which, never echoing a key)
        return None, _once("config", [("cato:endpoint", str(e))])
    usable, problems = preflight.credentials()
    return (preflight if usable else None), problems


class CatoProvider(ResourceProvider):
    def __init__(self, spec_name: str) -> None:
        super().__init__()
        self.spec_name = spec_name

    # Only the spec name is pickled into the state: never a client, never a key.
    def __getstate__(self) -> dict[str, Any]:
        return {"spec_name": self.spec_name}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.spec_name = state["spec_name"]

    @property
    def engine(self) -> Engine:
        return Engine(SPECS[self.spec_name], _session)

    def configure(self, req: ConfigureRequest) -> None:
        with _CONFIG_LOCK:
            for key in _CONFIG_KEYS:
                value = req.config.get(key)
                if value is not None:
                    _CONFIG[key] = value

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Inputs alone, then (when they are valid) against the program's other resources and the live
        account, so a preview fails with what up would refuse; credential problems are told once."""
        engine = self.engine
        inputs, failures = engine.check(olds, _sentinels(news))
        found = [(f.property, f.reason) for f in failures]
        owner = news.get(OWNER_KEY)
        if owner:
            PROGRAM.judged(owner, not failures)
        preflight, problems = _preflight(probe=not (owner and PROGRAM.has_invalid(owner)))
        found += problems
        if not failures:
            try:
                found += [
                    (f.property, f.reason) for f in engine.check_against(olds, inputs, PROGRAM, preflight)
                ]
            except CatoError as e:  # the read failed (rate limit, network): say so once per resource
                found.append(("(account)", f"could not check against the live account: {e}"))
        return CheckResult(inputs, [CheckFailure(p, r) for p, r in found])

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        d = self.engine.diff(olds, _sentinels(news))
        return DiffResult(
            changes=d.changes, replaces=d.replaces, delete_before_replace=d.delete_before_replace
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        new_id, outs = _call(lambda: self.engine.create(props))
        return CreateResult(new_id, outs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        found, outs, inputs = _call(lambda: self.engine.read(id_, props))
        return ReadResult(found, outs, inputs)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(_call(lambda: self.engine.update(id_, olds, news)))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        _call(lambda: self.engine.delete(id_, props))


def _sentinels(value: Any) -> Any:
    """Values not known yet reach check/diff as ``Unknown`` objects (in a preview, or when the
    engine asks which dependents a replacement replaces); the engine knows them as Pulumi's wire
    sentinel, which it does not judge."""
    if isinstance(value, Unknown):
        return UNKNOWN
    if isinstance(value, dict):
        return {k: _sentinels(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_sentinels(v) for v in value]
    return value


def _call(fn):
    try:
        return fn()
    except CatoError as e:
        # One line that names the operation and Cato's error; the client already redacted it.
        raise Exception(str(e)) from None
