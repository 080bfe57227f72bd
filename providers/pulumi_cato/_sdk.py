"""Mends for the Pulumi Python SDK's per-resource costs in a program, applied when pulumi_cato loads.

Each mend replaces one SDK function or module attribute (the original stays as ``__wrapped__``) with
one that does what the SDK does, for every resource of the program, at a lower cost. The one change
of behaviour is deliberate: a pulumi_cato resource's source position is the program's line.
tests/test_sdk_mends.py holds each against the SDK's own code.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import os
import pathlib
import pickle
import sys
import types
import weakref
from typing import Any

import pulumi._types as _sdk_types
import pulumi.runtime.resource as _sdk_registration
import pulumi.runtime.rpc_manager as _sdk_rpc_manager
import pulumi.runtime.stack as _sdk_stack
from pulumi.runtime.proto import source_pb2
from pulumi.runtime.settings import SETTINGS, _get_rpc_manager


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


# Before a program exits, the SDK waits for every output still pending (pulumi.runtime.stack
# .wait_for_rpcs): asyncio.wait(FIRST_COMPLETED) over all of them, again after each completion. Each
# wait adds and removes a callback on every pending output, so a program of n resources does O(n²)
# work while the engine answers them one by one: at 553 resources (~5,500 outputs) that loop was
# ~40% of the program's CPU (~1.2 s of a no-change preview's). _settle_outputs waits for the same
# outputs, picks up new ones at each completion and raises a failure as soon as it completes, as
# upstream does, with one callback per output.
_UPSTREAM_WAIT = getattr(_sdk_stack.wait_for_rpcs, "__wrapped__", _sdk_stack.wait_for_rpcs)


async def _settle_outputs() -> None:
    finished: collections.deque[asyncio.Future[Any]] = collections.deque()
    watched: set[asyncio.Future[Any]] = set()
    wake = asyncio.Event()

    def on_done(fut: asyncio.Future[Any]) -> None:
        watched.discard(fut)
        finished.append(fut)
        wake.set()

    while True:
        with SETTINGS.lock:  # outputs made since the last wake-up (done ones remove themselves)
            fresh = list(SETTINGS.outputs)
            SETTINGS.outputs.clear()
        for fut in fresh:
            if fut not in watched:
                watched.add(fut)
                fut.add_done_callback(on_done)
        while finished:
            await finished.popleft()  # re-raises an output's failure, as upstream's loop does
        if not watched:
            with SETTINGS.lock:
                if not SETTINGS.outputs:
                    return
            continue
        wake.clear()
        await wake.wait()


async def wait_for_rpcs(await_all_outstanding_tasks: bool = True) -> None:
    """Upstream's wait for the RPCs in flight, then ``_settle_outputs``, until neither has more."""
    while True:
        await _UPSTREAM_WAIT(await_all_outstanding_tasks=False)
        if not await_all_outstanding_tasks:
            return
        await _settle_outputs()
        if not _get_rpc_manager().rpcs:
            return


wait_for_rpcs.__wrapped__ = _UPSTREAM_WAIT  # type: ignore[attr-defined]
_sdk_stack.wait_for_rpcs = wait_for_rpcs


# For every resource it registers, the SDK works out the class's output types from its annotations
# (pulumi._types.resource_types: typing.get_type_hints over string annotations, each time), ~9% of a
# program's CPU. For pulumi_cato's classes, whose annotations never change, that is done once.
_UPSTREAM_RESOURCE_TYPES = getattr(_sdk_types.resource_types, "__wrapped__", _sdk_types.resource_types)
_TYPES_OF: weakref.WeakKeyDictionary[type, dict[str, type]] = weakref.WeakKeyDictionary()


def resource_types(resource_cls: type) -> dict[str, type]:
    if not resource_cls.__module__.startswith("pulumi_cato."):
        return _UPSTREAM_RESOURCE_TYPES(resource_cls)
    found = _TYPES_OF.get(resource_cls)
    if found is None:
        found = _TYPES_OF[resource_cls] = _UPSTREAM_RESOURCE_TYPES(resource_cls)
    return dict(found)  # a copy: the caller's to keep


resource_types.__wrapped__ = _UPSTREAM_RESOURCE_TYPES  # type: ignore[attr-defined]
_sdk_types.resource_types = resource_types


# For every resource, the SDK records where the program declared it (pulumi.runtime.resource
# ._get_stack_trace): traceback.extract_stack(), which reads each frame's source line from disk,
# then every frame outside the third __init__ (Resource, CustomResource, the concrete class). A
# pulumi_cato class has two more (dynamic Resource, CatoResource), so upstream's trace began in
# _base.py: every resource's source position was pulumi_cato's, not the program's line. This one
# walks the frames without reading any source, and begins at the first frame outside pulumi_cato.
_UPSTREAM_STACK_TRACE = getattr(
    _sdk_registration._get_stack_trace, "__wrapped__", _sdk_registration._get_stack_trace
)
_OWN_FILES = os.path.dirname(os.path.abspath(__file__)) + os.sep


@functools.lru_cache(maxsize=1024)
def _uri(filename: str) -> str | None:
    try:
        return pathlib.Path(filename).as_uri()
    except ValueError:  # "<frozen runpy>", "<string>": as upstream, no position
        return None


def _position(code: types.CodeType, line: int | None) -> source_pb2.SourcePosition | None:
    uri = _uri(code.co_filename) if code.co_filename and line is not None else None
    return None if uri is None else source_pb2.SourcePosition(uri=uri, line=line)


def get_stack_trace() -> source_pb2.StackTrace:
    frame = sys._getframe(1)
    inits = 0
    while frame is not None:  # outwards, to the third __init__, as upstream
        if frame.f_code.co_name == "__init__":
            inits += 1
            if inits == 3:
                break
        frame = frame.f_back
    if frame is None or frame.f_back is None:
        return source_pb2.StackTrace()
    frame = frame.f_back
    while frame is not None and frame.f_code.co_filename.startswith(_OWN_FILES):
        frame = frame.f_back
    frames = []
    while frame is not None:
        frames.append(source_pb2.StackFrame(pc=_position(frame.f_code, frame.f_lineno)))
        frame = frame.f_back
    return source_pb2.StackTrace(frames=frames)


get_stack_trace.__wrapped__ = _UPSTREAM_STACK_TRACE  # type: ignore[attr-defined]
_sdk_registration._get_stack_trace = get_stack_trace
