"""One engine does check/diff/create/read/update/delete for every resource spec."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import reduce
from typing import Any

from deepdiff import DeepDiff

from ..errors import CatoError, NotFoundError, OutcomeUnknownError
from ..session import Session
from .preflight import Preflight
from .program import Program
from .spec import Inputs, Operation, ResourceSpec
from .validation import apply_defaults, is_unknown, validate

logger = logging.getLogger("catoiac.engine")
ADOPT_KEY = "__adopt_id"  # an input asking create() to adopt an existing object (brownfield import)
# Which resource of which program the inputs belong to ("<project>/<stack>/<type>::<name>"): dynamic
# providers are never told the URN, and ownership (journal) and in-program conflict checks need it.
OWNER_KEY = "__catoiac_owner"
PRIVATE_INPUTS = (ADOPT_KEY, OWNER_KEY)  # the private inputs check() passes on to create()


class AdoptionError(CatoError):
    """The object to adopt is missing or differs from the program."""


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


def _private(inputs: Mapping[str, Any]) -> dict[str, Any]:
    return {k: inputs[k] for k in PRIVATE_INPUTS if inputs.get(k)}


def value_at(data: Any, path: str) -> Any:
    """The value at a failure's property path (``sections[0].rules[2].name``), or None."""
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        if part.startswith("["):
            i = int(part[1:-1])
            data = data[i] if isinstance(data, list) and i < len(data) else None
        else:
            data = data.get(part) if isinstance(data, Mapping) else None
    return data


def _judged(rule: Callable[[Inputs], list[tuple[str, str]]], inputs: Inputs) -> list[tuple[str, str]]:
    """A spec rule's failures, except those about a value not known yet (it is judged once known)."""
    try:
        found = rule(inputs)
    except (ValueError, TypeError, IndexError, KeyError, AttributeError):
        if is_unknown(inputs):
            return []  # a rule tripped over the unknown-value marker: nothing to judge yet
        raise
    return [(p, r) for p, r in found if not is_unknown(value_at(inputs, p))]


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
                failures += [CheckFailure(p, r) for p, r in _judged(rule, inputs)]
        if not failures and not is_unknown(inputs):
            inputs = self.spec.normalize(inputs)
        for key in PRIVATE_INPUTS:
            if news.get(key):
                inputs[key] = news[key]
        return inputs, failures

    def check_against(
        self,
        olds: Mapping[str, Any] | None,
        inputs: Mapping[str, Any],
        program: Program,
        preflight: Preflight | None = None,
    ) -> list[CheckFailure]:
        """Checked ``inputs`` against the program's other resources, then (given a preflight) the live
        account: names and ranges another object holds, references, and Cato's entity limits."""
        owner = inputs.get(OWNER_KEY)
        clean = _clean(inputs)
        claims = self.spec.claims(clean) if self.spec.claims else []
        found = program.declare(owner, self.spec.name, clean, claims, _clean(olds)) if owner else []
        if preflight is None or found:
            return [CheckFailure(p, r) for p, r in found]
        old = _clean(olds) or (program.olds(owner) if owner else {})
        own = preflight.own_ids(self.spec, old, inputs)
        found += preflight.conflicts(self.spec, owner, claims, own)
        found += preflight.limits(self.spec, owner, clean, own, program)
        if self.spec.preview_check is not None and not found:
            found += self.spec.preview_check(preflight, program, owner, old, {**clean, **_private(inputs)})
        return [CheckFailure(p, r) for p, r in found]

    # -- diff ---------------------------------------------------------------------------------
    def diff(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> DiffOutcome:
        old = self.canonical(self.inputs_of(olds))
        new = self.canonical(self.inputs_of(news))
        changed = sorted(
            k
            for k in set(old) | set(new)
            if is_unknown(new.get(k))
            or (old.get(k) != new.get(k) and DeepDiff(old.get(k), new.get(k), ignore_order=False))
        )
        in_place = self.spec.update is not None or self.spec.apply is not None
        replaces = [k for k in changed if k in self.spec.replace_on or not in_place]
        return DiffOutcome(
            changes=bool(changed),
            replaces=replaces,
            changed=changed,
            delete_before_replace=bool(replaces) and self.spec.delete_before_replace,
        )

    # -- writes -------------------------------------------------------------------------------
    def _invalidate(self, session: Session) -> None:
        session.reader.invalidate(self.spec.kind, *self.spec.invalidates)

    def _new_id(self, op: Operation, data: Mapping[str, Any], inputs: Inputs) -> str | None:
        if op.id_of is not None:
            return op.id_of(data, inputs)
        return str(_dig(data, op.id_path)) if op.id_path else None

    def _execute(self, session: Session, document: str, variables: dict[str, Any], inputs: Inputs) -> Any:
        """Run a write; a secret input the server echoes back in an error never reaches the user."""
        try:
            return session.client.execute(document, variables)
        except CatoError as e:
            secrets = [str(inputs[k]) for k in self.spec.secret_inputs if inputs.get(k)]
            if secrets:
                e.redact(lambda text: reduce(lambda t, s: t.replace(s, "[secret]"), secrets, text))
            raise

    def _shown(self, key: str, inputs: Mapping[str, Any]) -> str:
        return "[secret]" if key in self.spec.secret_inputs else repr(inputs.get(key))

    def _view(self, session: Session):
        return session.reader

    def find(self, session: Session, inputs: Inputs) -> str | None:
        """The id of the live object with this natural key, if any (after a lost reply)."""
        live = session.reader.get(self.spec.kind)
        for obj in live.values():
            if all(obj.get(k) == inputs.get(k) for k in self.spec.natural_key):
                return str(obj["id"])
        return None

    def adopt(self, resource_id: str, props: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        """Take over an existing object, as ``pulumi import`` would: only if it matches."""
        session = self._session()
        wanted = self.canonical(self.inputs_of(props))
        live = self.live_inputs(session, resource_id, props)
        if live is None:
            raise AdoptionError(
                f"cannot import {self.spec.name} {resource_id}: no such object in the account"
            )
        differs = self.diff({**live}, wanted).changed
        if differs:
            details = "; ".join(
                f"{k}: program {self._shown(k, wanted)}, live {self._shown(k, live)}" for k in differs
            )
            raise AdoptionError(
                f"cannot import {self.spec.name} {resource_id}: the program differs from the live object "
                f"({details}). Make the program match, import, then change it."
            )
        if self.spec.read_live is not None:  # its outputs carry more than the inputs (item ids)
            found = self.spec.read_live(session, str(resource_id), _clean(props))
            return str(resource_id), found[1] if found else self.outputs(session, str(resource_id), live)
        return str(resource_id), self.outputs(session, str(resource_id), live)

    def create(self, inputs: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        if inputs.get(ADOPT_KEY):
            return self.adopt(str(inputs[ADOPT_KEY]), inputs)
        session = self._session()
        inputs = self.canonical(self.inputs_of(inputs))
        if self.spec.apply is not None:
            return self.spec.apply(session, None, None, inputs)
        op = self.spec.create
        assert op is not None
        variables = op.variables(None, inputs, session.reader)
        try:
            data = self._execute(session, op.document, variables, inputs)
            new_id = self._new_id(op, data, inputs)
        except OutcomeUnknownError:
            # The write may have happened: look it up by its natural key before trying again,
            # so a retry never makes a duplicate.
            self._invalidate(session)
            new_id = self.find(session, inputs)
            if new_id is None:
                logger.info("%s: create outcome unknown and no object found; retrying", self.spec.name)
                data = self._execute(session, op.document, variables, inputs)
                new_id = self._new_id(op, data, inputs)
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
        if self.spec.apply is not None:
            return self.spec.apply(session, resource_id, _clean(olds), inputs)[1]
        assert self.spec.update is not None
        op = self.spec.update
        try:
            self._execute(session, op.document, op.variables(resource_id, inputs, session.reader), inputs)
        finally:
            self._invalidate(session)
        return self.outputs(session, resource_id, inputs)

    def delete(self, resource_id: str, props: Mapping[str, Any]) -> None:
        session = self._session()
        if self.spec.apply is not None:
            self.spec.apply(session, resource_id, _clean(props), None)
            return
        op = self.spec.delete
        assert op is not None
        inputs = self.inputs_of(props)
        try:
            session.client.execute(op.document, op.variables(resource_id, inputs, session.reader))
        except NotFoundError:
            logger.info("%s %s was already gone", self.spec.name, resource_id)
        finally:
            self._invalidate(session)

    # -- reads --------------------------------------------------------------------------------
    def live_inputs(
        self, session: Session, resource_id: str, props: Mapping[str, Any] | None = None
    ) -> Inputs | None:
        if self.spec.read_live is not None:
            found = self.spec.read_live(session, resource_id, _clean(props))
            return None if found is None else self.canonical(found[0])
        live = session.reader.get(self.spec.kind).get(str(resource_id))
        if live is None:
            return None
        inputs = self.spec.read(live, session.reader)
        prior = self.inputs_of(props or {})
        if self.spec.reconcile is not None and prior:
            inputs = self.spec.reconcile(inputs, prior)
        return self.canonical(inputs)

    def read(self, resource_id: str, props: Mapping[str, Any]) -> tuple[str | None, dict, Inputs | None]:
        session = self._session()
        if self.spec.read_live is not None:
            found = self.spec.read_live(session, resource_id, _clean(props))
            if found is None:
                return None, {}, None
            return resource_id, found[1], self.canonical(found[0])
        inputs = self.live_inputs(session, resource_id, props)
        if inputs is None:
            return None, {}, None
        return resource_id, self.outputs(session, resource_id, inputs), inputs

    def outputs(self, session: Session, resource_id: str, inputs: Inputs) -> dict[str, Any]:
        return {**inputs, "resource_id": resource_id}
