"""One engine does check/diff/create/read/update/delete for every resource spec."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from deepdiff import DeepDiff

from ..errors import CatoError, NotFoundError, OutcomeUnknownError
from ..session import Session
from .spec import Inputs, ResourceSpec
from .validation import apply_defaults, is_unknown, validate

logger = logging.getLogger("catoiac.engine")


@dataclass(frozen=True)
class CheckFailure:
    property: str
    reason: str


@dataclass
class DiffOutcome:
    changes: bool
    replaces: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)  # top-level properties that differ
    delete_before_replace: bool = False


def _clean(props: Mapping[str, Any] | None) -> dict[str, Any]:
    """Drop Pulumi's private keys (``__provider``...)."""
    return {k: v for k, v in (props or {}).items() if not k.startswith("__")}


def _dig(data: Any, path: str) -> Any:
    for part in path.split("."):
        data = data[part]
    return data


class Engine:
    def __init__(self, spec: ResourceSpec, session: Callable[[], Session]) -> None:
        self.spec = spec
        self._session = session  # lazy: check() must work, and fail clearly, without credentials

    # -- inputs -------------------------------------------------------------------------------
    def inputs_of(self, props: Mapping[str, Any]) -> Inputs:
        """The spec's inputs from a property bag (outputs carry extra keys)."""
        names = self.spec.properties
        return {k: v for k, v in _clean(props).items() if k in names}

    def canonical(self, inputs: Mapping[str, Any]) -> Inputs:
        """Defaults applied and normalised: the one form both sides of a diff are compared in."""
        full = apply_defaults(self.spec.schema, dict(inputs))
        return full if is_unknown(full) else self.spec.normalize(full)

    def check(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> tuple[Inputs, list[CheckFailure]]:
        raw = _clean(news)
        failures = [CheckFailure(p, r) for p, r in validate(self.spec.schema, raw)]
        inputs = apply_defaults(self.spec.schema, raw)
        if not failures:
            for rule in self.spec.rules:
                failures += [CheckFailure(p, r) for p, r in rule(inputs)]
        if not failures and not is_unknown(inputs):
            inputs = self.spec.normalize(inputs)
        return inputs, failures

    # -- diff ---------------------------------------------------------------------------------
    def diff(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> DiffOutcome:
        old = self.canonical(self.inputs_of(olds))
        new = self.canonical(self.inputs_of(news))
        changed = sorted(
            k
            for k in set(old) | set(new)
            if is_unknown(new.get(k)) or DeepDiff(old.get(k), new.get(k), ignore_order=False)
        )
        replaces = [k for k in changed if k in self.spec.replace_on or self.spec.update is None]
        return DiffOutcome(
            changes=bool(changed),
            replaces=replaces,
            changed=changed,
            delete_before_replace=bool(replaces) and self.spec.delete_before_replace,
        )

    # -- writes -------------------------------------------------------------------------------
    def _invalidate(self, session: Session) -> None:
        session.reader.invalidate(self.spec.kind, *self.spec.invalidates)

    def _view(self, session: Session):
        return session.reader

    def find(self, session: Session, inputs: Inputs) -> str | None:
        """The id of the live object with this natural key, if any (after a lost reply)."""
        live = session.reader.get(self.spec.kind)
        for obj in live.values():
            if all(obj.get(k) == inputs.get(k) for k in self.spec.natural_key):
                return str(obj["id"])
        return None

    def create(self, inputs: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        session = self._session()
        inputs = self.canonical(self.inputs_of(inputs))
        op = self.spec.create
        variables = op.variables(None, inputs, session.reader)
        try:
            data = session.client.execute(op.document, variables)
            new_id = str(_dig(data, op.id_path)) if op.id_path else None
        except OutcomeUnknownError:
            # The write may have happened: look it up by its natural key before trying again,
            # so a retry never makes a duplicate.
            self._invalidate(session)
            new_id = self.find(session, inputs)
            if new_id is None:
                logger.info("%s: create outcome unknown and no object found; retrying", self.spec.name)
                data = session.client.execute(op.document, variables)
                new_id = str(_dig(data, op.id_path)) if op.id_path else None
        finally:
            self._invalidate(session)
        if new_id is None:
            new_id = self.find(session, inputs)
            if new_id is None:
                raise CatoError(f"{self.spec.name} {inputs.get('name')!r} was created but cannot be found")
        return new_id, self.outputs(session, new_id, inputs)

    def update(self, resource_id: str, olds: Mapping[str, Any], news: Mapping[str, Any]) -> dict[str, Any]:
        session = self._session()
        inputs = self.canonical(self.inputs_of(news))
        assert self.spec.update is not None
        op = self.spec.update
        try:
            session.client.execute(op.document, op.variables(resource_id, inputs, session.reader))
        finally:
            self._invalidate(session)
        return self.outputs(session, resource_id, inputs)

    def delete(self, resource_id: str, props: Mapping[str, Any]) -> None:
        session = self._session()
        op = self.spec.delete
        inputs = self.inputs_of(props)
        try:
            session.client.execute(op.document, op.variables(resource_id, inputs, session.reader))
        except NotFoundError:
            logger.info("%s %s was already gone", self.spec.name, resource_id)
        finally:
            self._invalidate(session)

    # -- reads --------------------------------------------------------------------------------
    def live_inputs(self, session: Session, resource_id: str) -> Inputs | None:
        live = session.reader.get(self.spec.kind).get(str(resource_id))
        if live is None:
            return None
        return self.canonical(self.spec.read(live, session.reader))

    def read(self, resource_id: str, props: Mapping[str, Any]) -> tuple[str | None, dict, Inputs | None]:
        session = self._session()
        inputs = self.live_inputs(session, resource_id)
        if inputs is None:
            return None, {}, None
        return resource_id, self.outputs(session, resource_id, inputs), inputs

    def outputs(self, session: Session, resource_id: str, inputs: Inputs) -> dict[str, Any]:
        return {**inputs, "resource_id": resource_id}
