"""Shared plumbing of the resource classes."""

from __future__ import annotations

import copy
import os
import pickle
from typing import Any, ClassVar

import pulumi
import pulumi.runtime.resource as _sdk_registration
import pulumi.runtime.rpc_manager as _sdk_rpc_manager
from pulumi.dynamic import Resource

from catoiac.private_inputs import ADOPT_KEY, OWNER_KEY

from .provider import CatoProvider


# pulumi.dynamic.serialize_provider (3.272) wraps pickle._Pickler._batch_setitems in its sorting
# wrapper on every call and never restores it: each dynamic resource adds one more nested wrapper,
# so serializing gets slower with every resource and, past ~900 resources in one program, fails
# with RecursionError. Each resource puts the original back before Pulumi serializes its provider.
def _original_batch_setitems() -> Any:
    """pickle's own method, unwrapped if a dynamic resource was serialized before this import."""
    method = pickle._Pickler._batch_setitems  # type: ignore[attr-defined]
    while method.__qualname__ != "_Pickler._batch_setitems" and method.__closure__:
        method = next(c.cell_contents for c in method.__closure__ if callable(c.cell_contents))
    return method


_BATCH_SETITEMS = _original_batch_setitems()


def undo_pulumi_pickler_patch() -> None:
    """Undo what the previous ``serialize_provider`` call left on ``pickle._Pickler``."""
    pickle._Pickler._batch_setitems = _BATCH_SETITEMS  # type: ignore[attr-defined]


# For every resource the SDK sends four debug messages ("beginning rpc register resource",
# "registering resource", "registration prepared", "registration successful"), each a blocking gRPC
# call from the program's event loop to the CLI, which shows them only under `pulumi --debug`
# (pulumi/pulumi#7292 cut the rest). At 553 resources they were ~28% of the program's CPU and ~0.8 s
# of a no-change preview's wall. Only the `log` of those two SDK modules is replaced: the program's
# own pulumi.log calls, and every info, warning and error, go through as before.
# PULUMI_CATO_SDK_DEBUG=1 keeps them.
SDK_DEBUG_ENV = "PULUMI_CATO_SDK_DEBUG"


class _QuietDebugLog:
    """``pulumi.log`` as an SDK module sees it, without its debug messages."""

    def __init__(self, log: Any) -> None:
        self._log = log

    def debug(self, *args: Any, **kwargs: Any) -> None:
        return None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._log, name)


def quiet_registration_debug() -> None:
    """Drop the per-resource registration debug RPCs, unless PULUMI_CATO_SDK_DEBUG keeps them."""
    if os.environ.get(SDK_DEBUG_ENV):
        return
    for module in (_sdk_registration, _sdk_rpc_manager):
        log = getattr(module, "log", None)
        if log is not None and not isinstance(log, _QuietDebugLog):
            module.log = _QuietDebugLog(log)  # type: ignore[attr-defined]


quiet_registration_debug()


def props_of(args: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments to a property bag: unset (None) ones are left out."""
    return {
        k: v
        for k, v in args.items()
        if v is not None and k not in ("self", "resource_name", "opts", "__class__")
    }


class CatoResource(Resource):
    """A Cato object managed by the catoiac engine; ``resource_id`` is Cato's id for it."""

    _spec: ClassVar[str]
    resource_id: pulumi.Output[str]

    def __init__(
        self, resource_name: str, props: dict[str, Any], opts: pulumi.ResourceOptions | None
    ) -> None:
        if opts is not None and opts.import_:
            # Pulumi cannot import dynamic resources (pulumi/pulumi#16175: its Read gets no provider),
            # so ``import_`` becomes an adoption: create() takes over the object with this id,
            # after checking that it matches the program, and never creates a second one.
            props = {**props, ADOPT_KEY: opts.import_}
            opts = copy.copy(opts)
            opts.import_ = None
        owner = f"{pulumi.get_project()}/{pulumi.get_stack()}/{type(self).__name__}::{resource_name}"
        props = {**props, OWNER_KEY: owner}
        undo_pulumi_pickler_patch()
        # Outputs must be named in the property bag to become attributes.
        super().__init__(CatoProvider(self._spec), resource_name, {"resource_id": None, **props}, opts)
