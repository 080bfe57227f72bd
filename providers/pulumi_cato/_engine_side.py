"""The dynamic provider: a thin adapter from Pulumi's provider protocol to catoiac's engine.

Pulumi pickles the provider into the state, so it carries only the spec name and the stack's name.
Credentials come from stack config in ``configure()`` (or the CATO_* environment) and clients are
built lazily in the provider process, once per account, and shared by every resource (see
SessionPool).

Key rotation: on a refresh Pulumi configures the provider with the config recorded in the state at
the last update, not the stack's current config (pulumi/pulumi#4981; only ``--run-program`` runs
the program first). So when Cato refuses a key that came from ``cato:apiKey``, the provider asks
``pulumi config get cato:apiKey`` for the stack's current key once, and retries with it.

Process lifetime and crash safety: the provider object (``provider.CatoProvider``, what the program
pickles) loads this module in the dynamic-provider process on its first call; a program never loads
it. It gives the engine a journal (``catoiac.journal``, at stack config ``cato:journalDir`` or
``CATOIAC_JOURNAL_DIR``) so that the next ``up`` adopts what a killed one created. Expected Cato
errors reach the user as one line per resource.
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
    UpdateResult,
)
from pulumi.output import Unknown

from catoiac import lifeline
from catoiac.config import ClientConfig
from catoiac.errors import CatoError
from catoiac.journal import CONFIG_KEY as JOURNAL_KEY
from catoiac.journal import Journal, object_ids
from catoiac.resources import Engine
from catoiac.resources.engine import OWNER_KEY
from catoiac.resources.preflight import OWN_OBJECT_HOOKS, OWNER_OF_HOOKS, Preflight, preflight_for
from catoiac.resources.program import PROGRAM
from catoiac.resources.specs import SPECS
from catoiac.resources.validation import UNKNOWN
from catoiac.session import CONFIG_KEY, Credentials, Session, SessionPool, stack_config_value

from .provider import _STACK, CatoProvider, CatoProviderError

_POOL = SessionPool()  # per provider process: one client and read cache per account
_CONFIG: dict[str, Any] = {}
_CONFIG_LOCK = threading.Lock()
_CONFIG_KEYS = ("cato:apiKey", "cato:accountId", "cato:endpoint", JOURNAL_KEY)


def _credentials() -> Credentials:
    with _CONFIG_LOCK:
        return Credentials.resolve(_CONFIG)


def _current_stack_key(in_use: str) -> str | None:
    """The stack's cato:apiKey now, if the refused key came from that setting and it has changed."""
    with _CONFIG_LOCK:
        if _CONFIG.get(CONFIG_KEY) != in_use or not _STACK.get("stack"):
            return None  # the key came from CATO_TOKEN: the environment is already current
        stack = _STACK["stack"]
    fresh = stack_config_value(CONFIG_KEY, stack)
    if fresh and fresh != in_use:
        with _CONFIG_LOCK:
            _CONFIG[CONFIG_KEY] = fresh
        return fresh
    return None


def _session() -> Session:
    return _POOL.get(_credentials(), refresh_key=_current_stack_key)


def _journal() -> Journal:
    with _CONFIG_LOCK:
        return Journal.locate(_CONFIG.get(JOURNAL_KEY))


def _journal_owns(config: ClientConfig, owner: str, spec: str, live_id: str) -> bool:
    """What this resource's journal entry names (or an intent whose reply was lost) is no conflict at
    check: the create adopts it, or refuses it, after the journal's own proof (``catoiac.journal``)."""
    entry = _journal().claim(str(config.base_url), str(config.account_id), owner).read()
    if not entry or entry.get("spec") != spec:
        return False
    ids = object_ids(entry)
    return live_id in ids or (not ids and entry.get("state") == "intent")


def _journal_whose(config: ClientConfig, owner: str, live_id: str) -> str | None:
    return _journal().owner_of(str(config.base_url), str(config.account_id), live_id, besides=owner or None)


OWN_OBJECT_HOOKS.append(_journal_owns)
OWNER_OF_HOOKS.append(_journal_whose)

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


# What CatoProvider's methods do, in the dynamic-provider process.
def engine(p: CatoProvider) -> Engine:
    return Engine(SPECS[p.spec_name], _session, _journal())


def configure(req: ConfigureRequest) -> None:
    with _CONFIG_LOCK:
        for key in _CONFIG_KEYS:
            value = req.config.get(key)
            if value is not None:
                _CONFIG[key] = value


def check(p: CatoProvider, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
    """Inputs alone, then (when they are valid) against the program's other resources and the live
    account, so a preview fails with what up would refuse; credential problems are told once. Inputs
    the state already holds are not checked against the account: up writes nothing for them."""
    eng = engine(p)
    inputs, failures = eng.check(olds, _sentinels(news))
    found = [(f.property, f.reason) for f in failures]
    owner = news.get(OWNER_KEY)
    if owner:
        PROGRAM.judged(owner, not failures)
    live = not failures and not eng.unchanged(olds, inputs)
    preflight, problems = _preflight(probe=live and not (owner and PROGRAM.has_invalid(owner)))
    found += problems
    if not failures:
        try:
            found += [(f.property, f.reason) for f in eng.check_against(olds, inputs, PROGRAM, preflight)]
        except CatoError as e:  # the read failed (rate limit, network): say so once per resource
            found.append(("(account)", f"could not check against the live account: {e}"))
    return CheckResult(inputs, [CheckFailure(prop, reason) for prop, reason in found])


def diff(p: CatoProvider, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
    d = engine(p).diff(olds, _sentinels(news))
    return DiffResult(changes=d.changes, replaces=d.replaces, delete_before_replace=d.delete_before_replace)


# Outputs carry the owner too: delete() is given only the outputs, and forgets the journal entry.
def create(p: CatoProvider, props: dict[str, Any]) -> CreateResult:
    new_id, outs = _call(lambda: engine(p).create(props))
    return CreateResult(new_id, _owned(outs, props))


def read(p: CatoProvider, id_: str, props: dict[str, Any]) -> ReadResult:
    found, outs, inputs = _call(lambda: engine(p).read(id_, props))
    return ReadResult(found, _owned(outs, props), inputs)


def update(p: CatoProvider, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
    return UpdateResult(_owned(_call(lambda: engine(p).update(id_, olds, news)), news))


def delete(p: CatoProvider, id_: str, props: dict[str, Any]) -> None:
    _call(lambda: engine(p).delete(id_, props))


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


def _owned(outs: dict[str, Any] | None, props: dict[str, Any]) -> dict[str, Any] | None:
    if outs is None or not props.get(OWNER_KEY):
        return outs
    return {**outs, OWNER_KEY: props[OWNER_KEY]}


def _call(fn):
    with lifeline.busy():  # a process whose engine is gone lets this finish before it exits
        try:
            return fn()
        except CatoError as e:
            # One line that names the operation and Cato's error; the client already redacted it.
            raise CatoProviderError(" ".join(str(e).split())) from None
