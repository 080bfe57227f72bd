"""One engine does check/diff/create/read/update/delete for every resource spec.

Creates are crash-safe (see ``catoiac.journal``): with a journal, a create writes its intent before
the write and the id after it, keyed by the resource's owner (``__catoiac_owner``). A create for an
owner whose entry proves an object ours (an id Cato answered us; or, when the provider died before
the reply, an API-key creation of that natural key within minutes of the intent in Cato's audit
trail) adopts that object instead of creating a second one, and updates it to the program. An
object with the same natural key that is not proven ours is refused, naming its owner when the
journal knows it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from ..errors import (
    ApiError,
    CatoError,
    NotFoundError,
    OutcomeUnknownError,
    TransportError,
    ValidationError,
)
from ..journal import Claim, Journal, parse_iso
from ..private_inputs import ADOPT_KEY, OWNER_KEY
from ..secrets import REDACTOR
from .preflight import Preflight
from .program import Program
from .spec import Inputs, Operation, ResourceSpec
from .validation import apply_defaults, is_unknown, validate

if TYPE_CHECKING:
    from ..session import Session

logger = logging.getLogger("catoiac.engine")
PRIVATE_INPUTS = (ADOPT_KEY, OWNER_KEY)  # the private inputs check() passes on to create()


INTENT_WINDOW = timedelta(minutes=10)  # how long after its intent a lost create can have happened
SKEW = timedelta(seconds=10)  # Cato's clock against ours


class AdoptionError(CatoError):
    """The object to adopt is missing or differs from the program."""


class OwnershipError(CatoError):
    """An object with the resource's natural key exists and is not proven this resource's."""


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


def _differs(old: Any, new: Any) -> bool:
    if old == new:
        return False
    from deepdiff import DeepDiff  # late: a diff with no change never needs it

    return bool(DeepDiff(old, new, ignore_order=False))


def _dig(data: Any, path: str) -> Any:
    for part in path.split("."):
        data = data[part]
    return data


class Engine:
    def __init__(
        self, spec: ResourceSpec, session: Callable[[], Session], journal: Journal | None = None
    ) -> None:
        self.spec = spec
        self._session = session  # lazy: check() must work, and fail clearly, without credentials
        self.journal = journal  # None: no crash safety (engine-level tests, one-off scripts)

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

    def unchanged(self, olds: Mapping[str, Any] | None, inputs: Mapping[str, Any]) -> bool:
        """Whether checked ``inputs`` are those the state holds (``olds``, which also carry Pulumi's own
        private keys): an up then writes nothing for the resource, so the live account has nothing to
        refuse, and a preview of an unchanged stack reads nothing."""
        if not olds or is_unknown(inputs):
            return False
        kept = {k: v for k, v in olds.items() if not k.startswith("__") or k in PRIVATE_INPUTS}
        return kept == dict(inputs)

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
        reservations = self.spec.reservations(clean) if self.spec.reservations else []
        found = program.declare(owner, self.spec.name, clean, reservations, _clean(olds)) if owner else []
        if preflight is None or found:
            return [CheckFailure(p, r) for p, r in found]
        old = _clean(olds) or (program.olds(owner) if owner else {})
        own = preflight.own_ids(self.spec, old, inputs)
        found += preflight.conflicts(self.spec, owner, reservations, own, clean)
        found += preflight.limits(self.spec, owner, clean, own, program)
        if self.spec.preview_check is not None and not found:
            found += self.spec.preview_check(preflight, program, owner, old, {**clean, **_private(inputs)})
        return [CheckFailure(p, r) for p, r in found]

    # -- diff ---------------------------------------------------------------------------------
    def diff(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> DiffOutcome:
        old_inputs, new_inputs = self.inputs_of(olds), self.inputs_of(news)
        if old_inputs == new_inputs and not is_unknown(new_inputs):
            # The same inputs have the same canonical form: nothing changed. A preview's diff of an
            # unchanged resource is given the inputs its check returned, the state's own.
            return DiffOutcome(changes=False)
        old = self.canonical(old_inputs)
        new = self.canonical(new_inputs)
        changed = sorted(
            k for k in set(old) | set(new) if is_unknown(new.get(k)) or _differs(old.get(k), new.get(k))
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

    def _execute(
        self,
        session: Session,
        document: str,
        variables: dict[str, Any],
        inputs: Inputs,
        olds: Mapping[str, Any] | None = None,
    ) -> Any:
        """Run a write; a secret input the server echoes back in an error (the new value or the
        previous one) never reaches the user, nor a log."""
        for props in (inputs, olds or {}):
            for k in self.spec.secret_inputs:
                if isinstance(props.get(k), str):
                    REDACTOR.add(props[k])
        try:
            return session.client.execute(document, variables)
        except CatoError as e:
            e.redact(REDACTOR.scrub)
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
        claim = self._claim(session, props)
        if claim is not None and not self.spec.journals_itself:
            claim.write("created", self.spec.name, key=self._key(wanted), id=str(resource_id), imported=True)
        if self.spec.read_live is not None:  # its outputs carry more than the inputs (item ids)
            found = self.spec.read_live(session, str(resource_id), _clean(props))
            return str(resource_id), found[1] if found else self.outputs(session, str(resource_id), live)
        return str(resource_id), self.outputs(session, str(resource_id), live)

    # -- ownership (see catoiac.journal) ------------------------------------------------------
    def _claim(self, session: Session, props: Mapping[str, Any]) -> Claim | None:
        owner = props.get(OWNER_KEY)
        if self.journal is None or not owner:
            return None
        config = session.client.config
        return self.journal.claim(str(config.base_url), str(config.account_id), str(owner))

    @property
    def _configures(self) -> bool:
        """Whether "create" configures an object that always exists (a Socket port)."""
        op, upd = self.spec.create, self.spec.update
        return op is not None and upd is not None and op.document == upd.document

    def _key(self, inputs: Mapping[str, Any]) -> dict[str, Any]:
        return {k: inputs.get(k) for k in self.spec.natural_key}

    def _recover(self, session: Session, claim: Claim, inputs: Inputs) -> tuple[str, dict[str, Any]] | None:
        """Adopt what an earlier, interrupted create of this resource made; None if nothing."""
        entry = claim.read()
        if entry is None or entry.get("spec") != self.spec.name:
            return None
        if entry.get("id"):
            oid, proof = str(entry["id"]), "the id Cato answered an earlier create"
            live = self.live_inputs(session, oid, inputs)
            if live is None:
                return None  # gone since: create it anew
            if entry.get("key") and self._key(live) != entry["key"]:
                # Another object under that id (an emulator that started afresh reuses ids).
                logger.info("%s %s is not what the journal recorded; not adopting it", self.spec.name, oid)
                return None
        else:  # the provider died before Cato's reply: look for the object, then at who made it
            oid = self.find(session, entry.get("key") or {})
            if oid is None or not self._created_by_api_key(session, oid, entry):
                return None
            proof = "an API-key creation right after an interrupted create in the audit trail"
        logger.info("%s %s: adopting what an interrupted create made (%s)", self.spec.name, oid, proof)
        return self._take_over(session, claim, oid, inputs)

    def _created_by_api_key(self, session: Session, oid: str, entry: Mapping[str, Any]) -> bool:
        from ..drift.audit import AuditFeed  # the feed reader drift uses, with its paging discipline

        start = parse_iso(entry.get("intent_time"))
        if start is None:
            return False
        end = min(datetime.now(UTC) + SKEW, start + INTENT_WINDOW)
        records = AuditFeed(session.client, session.account_id).fetch(start - SKEW, end, None)
        return any(
            r.object_id == oid and r.change_type == "CREATED" and r.actor_kind == "api-key" for r in records
        )

    def _take_over(
        self, session: Session, claim: Claim, oid: str, inputs: Inputs
    ) -> tuple[str, dict[str, Any]] | None:
        """Make an object proven ours the program's: update it where it differs (or remove it, when
        it differs where Cato cannot change it in place: the caller then creates it anew)."""
        live = self.live_inputs(session, oid, inputs)
        if live is None:
            return None
        diff = self.diff(live, inputs)
        if diff.replaces:
            self.delete(oid, live)
            return None
        claim.write("created", self.spec.name, key=self._key(inputs), id=oid)
        if diff.changed:
            return oid, self.update(oid, live, inputs)
        _, outs, _ = self.read(oid, inputs)
        return oid, outs

    def _refusal(self, session: Session, inputs: Inputs, owner: str | None, cause: CatoError) -> CatoError:
        """Cato refused a create: if an object with our natural key exists, say whose it is."""
        if self._configures:
            return cause  # it configures what always exists (a port): nothing to be refused
        self._invalidate(session)
        oid = self.find(session, inputs)
        if oid is None:
            return cause
        config = session.client.config
        whose = (
            self.journal.owner_of(str(config.base_url), str(config.account_id), oid, besides=owner)
            if self.journal is not None
            else None
        )
        key = ", ".join(f"{k} {inputs.get(k)!r}" for k in self.spec.natural_key)
        return OwnershipError(
            f"a {self.spec.name} with {key} already exists (id {oid}) and this resource did not create it"
            + (
                f": it belongs to {whose}"
                if whose
                else " (someone else made it: another stack, or the Cato console)"
            )
            + f'. To manage it here, import it (pulumi.ResourceOptions(import_="{oid}")); otherwise '
            f"pick another name (Cato: {cause.error_message or cause.message})"
        )

    # -- writes -------------------------------------------------------------------------------
    def create(self, props: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        if props.get(ADOPT_KEY):
            return self.adopt(str(props[ADOPT_KEY]), props)
        session = self._session()
        claim = self._claim(session, props)
        inputs = self.canonical(self.inputs_of(props))
        if self.spec.journals_itself:
            assert self.spec.apply is not None
            return self.spec.apply(session, None, None, inputs, claim)
        if claim is not None:
            taken = self._recover(session, claim, inputs)
            if taken is not None:
                return taken
            claim.write("intent", self.spec.name, key=self._key(inputs))
        try:
            new_id = self._create_once(session, inputs)
        except CatoError as e:
            # Cato answered no: nothing was written, and the intent proves nothing any more.
            if claim is not None and not isinstance(e, OutcomeUnknownError | TransportError):
                claim.forget()
            if isinstance(e, ValidationError | ApiError):
                raise self._refusal(session, inputs, props.get(OWNER_KEY), e) from None
            raise
        finally:
            self._invalidate(session)
        if claim is not None:
            claim.write("created", self.spec.name, id=str(new_id))
        if self.spec.after_write is not None:
            self._settle_created(session, claim, new_id, inputs)
        return new_id, self.outputs(session, new_id, inputs)

    def _settle_created(self, session: Session, claim: Claim | None, new_id: str, inputs: Inputs) -> None:
        """The settings a create writes after its main operation. If Cato refuses them, the new object
        goes again (a refused create leaves nothing); any other failure leaves it journaled, for the
        next up to adopt and finish."""
        assert self.spec.after_write is not None
        try:
            self.spec.after_write(session, new_id, None, inputs)
        except (ValidationError, ApiError) as refused:
            op = self.spec.delete
            if op is None:
                raise
            try:
                session.client.execute(op.document, op.variables(new_id, inputs, session.reader))
            except CatoError as e:
                logger.warning(
                    "%s %s: could not remove it after a refused setting: %s", self.spec.name, new_id, e
                )
                raise refused from None
            if claim is not None:
                claim.forget()
            raise
        finally:
            self._invalidate(session)

    def _create_once(self, session: Session, inputs: Inputs) -> str:
        """One create, by `apply` or by the create operation; a retry never makes a duplicate."""
        if self.spec.apply is not None:
            return self.spec.apply(session, None, None, inputs, None)[0]
        op = self.spec.create
        assert op is not None
        variables = op.variables(None, inputs, session.reader)
        try:
            data = self._execute(session, op.document, variables, inputs)
            new_id = self._new_id(op, data, inputs)
        except OutcomeUnknownError:
            # The write may have happened: look it up by its natural key before trying again.
            self._invalidate(session)
            new_id = self.find(session, inputs)
            if new_id is None:
                logger.info("%s: create outcome unknown and no object found; retrying", self.spec.name)
                data = self._execute(session, op.document, variables, inputs)
                new_id = self._new_id(op, data, inputs)
        if new_id is None:
            self._invalidate(session)
            new_id = self.find(session, inputs)
            if new_id is None:
                raise CatoError(f"{self.spec.name} {inputs.get('name')!r} was created but cannot be found")
        return str(new_id)

    def update(self, resource_id: str, olds: Mapping[str, Any], news: Mapping[str, Any]) -> dict[str, Any]:
        session = self._session()
        inputs = self.canonical(self.inputs_of(news))
        if self.spec.apply is not None:
            return self.spec.apply(session, resource_id, _clean(olds), inputs, self._claim(session, news))[1]
        assert self.spec.update is not None
        op = self.spec.update
        try:
            variables = op.variables(resource_id, inputs, session.reader)
            self._execute(session, op.document, variables, inputs, olds)
            if self.spec.after_write is not None:
                self._invalidate(session)
                self.spec.after_write(session, resource_id, self.canonical(self.inputs_of(olds)), inputs)
        finally:
            self._invalidate(session)
        return self.outputs(session, resource_id, inputs)

    def delete(self, resource_id: str, props: Mapping[str, Any]) -> None:
        session = self._session()
        claim = self._claim(session, props)
        if self.spec.apply is not None:
            self.spec.apply(session, resource_id, _clean(props), None, claim)
            if self.spec.journals_itself:
                return
        else:
            op = self.spec.delete
            assert op is not None
            inputs = self.inputs_of(props)
            try:
                session.client.execute(op.document, op.variables(resource_id, inputs, session.reader))
            except NotFoundError:
                logger.info("%s %s was already gone", self.spec.name, resource_id)
            finally:
                self._invalidate(session)
        entry = claim.read() if claim is not None else None
        if claim is not None and entry is not None and str(entry.get("id")) == str(resource_id):
            claim.forget()

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
