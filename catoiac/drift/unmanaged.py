"""Reverting an unmanaged finding: deleting, from Cato, an object that no stack manages.

This is the one write ``catoiac drift``'s actions point at (``catoiac delete-unmanaged``), so it is
guarded: the finding is looked up afresh (the same scan as ``catoiac drift``, without the audit
feed), and only an id that is *still* an unmanaged finding now is deleted; a site that a stack has
adopted since the report, or that is already gone, is refused by name. The delete goes through the
resource engine, as a ``pulumi destroy`` of that object would: a policy section (an unmanaged item
of a policy) is removed with its rules in one revision, published once.
"""

from __future__ import annotations

from dataclasses import replace

from ..client import CatoClient
from ..errors import CatoError
from ..resources import Engine
from ..resources.specs import SPECS
from .report import UNMANAGED, Finding
from .run import UNMANAGED_ITEM, DriftOptions, DriftRun
from .state import StackState


class NotUnmanagedError(CatoError):
    """A finding id to delete is not an unmanaged finding (any more)."""


def find(opts: DriftOptions, stacks: list[StackState], client: CatoClient, ids: list[str]) -> list[Finding]:
    """The unmanaged findings with these ids, as the account is now."""
    run = DriftRun(replace(opts, audit=False, unmanaged=True), stacks, client)
    findings, _ = run.findings()
    if run.errors:
        what = "; ".join(f"{e['urn']}: {e['error']}" for e in run.errors)
        raise CatoError(f"the account could not be read completely, so nothing is deleted: {what}")
    now = {f.id: f for f in findings if f.kind == UNMANAGED}
    missing = [i for i in ids if i not in now]
    if missing:
        raise NotUnmanagedError(
            f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not an unmanaged finding now (already "
            "deleted, or managed by a stack since the report; or of a type the stacks do not manage: pass "
            "--unmanaged-types): run `catoiac drift` again. Nothing was deleted"
        )
    return [now[i] for i in ids]


def describe(f: Finding) -> str:
    r = f.resource
    return f"{r.type} {r.cato_name!r} (id {r.cato_id}, {f.id})"


def delete(run_session, f: Finding) -> None:
    """Delete the object of one unmanaged finding through the resource engine."""
    spec = SPECS[f.resource.type]
    oid, name = str(f.resource.cato_id), str(f.resource.cato_name or "")
    if f.resource.type in UNMANAGED_ITEM:
        # A section: what a policy resource owning just that section does when destroyed.
        assert spec.apply is not None
        spec.apply(run_session, DriftRun._import_id(f), {"section_ids": {name: oid}}, None, None)
        return
    engine = Engine(spec, lambda: run_session)
    props = engine.live_inputs(run_session, oid) or {}
    engine.delete(oid, props)
