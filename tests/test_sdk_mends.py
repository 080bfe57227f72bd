"""pulumi_cato's mends of the Pulumi SDK (``providers/pulumi_cato/_sdk.py``) against the SDK's own code:
the wait for a program's pending outputs (linear instead of O(n²): the same outputs waited for, the
same failures raised), the output types of a class (worked out once, the same types) and where a
resource was declared (the SDK's frames, without reading source files)."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pulumi
import pulumi._types
import pulumi.runtime.resource
import pulumi.runtime.stack
import pulumi_cato
import pytest
from pulumi.runtime.settings import SETTINGS
from pulumi_cato import _sdk

N = 300


class CountingFuture(asyncio.Future):
    """A future that counts the completion callbacks waiters add to it."""

    added = 0

    def add_done_callback(self, fn: Any, *, context: Any = None) -> None:
        type(self).added += 1
        super().add_done_callback(fn, context=context)


@pytest.fixture(autouse=True)
def _no_tracked_outputs() -> Iterator[None]:
    SETTINGS.outputs.clear()
    CountingFuture.added = 0
    yield
    SETTINGS.outputs.clear()


def track(fut: asyncio.Future[Any]) -> asyncio.Future[Any]:
    with SETTINGS.lock:
        SETTINGS.outputs.add(fut)
    return fut


async def completed_one_by_one(wait: Callable[[], Awaitable[None]]) -> list[CountingFuture]:
    """N tracked outputs the engine answers one per event-loop turn, as it does a program's."""
    loop = asyncio.get_running_loop()
    futures = [track(CountingFuture(loop=loop)) for _ in range(N)]

    async def answer() -> None:
        for fut in futures:
            await asyncio.sleep(0)
            fut.set_result(None)

    answering = asyncio.ensure_future(answer())
    await wait()
    await answering
    return futures


def test_importing_pulumi_cato_puts_its_wait_in_the_sdk_once():
    assert pulumi.runtime.stack.wait_for_rpcs is _sdk.wait_for_rpcs
    assert _sdk._UPSTREAM_WAIT.__module__ == "pulumi.runtime.stack"


def test_waiting_for_n_outputs_adds_one_callback_each_where_the_sdk_adds_one_per_output_per_completion():
    futures = asyncio.run(completed_one_by_one(_sdk.wait_for_rpcs))
    assert all(f.done() for f in futures)
    assert CountingFuture.added == N

    CountingFuture.added = 0
    asyncio.run(completed_one_by_one(_sdk._UPSTREAM_WAIT))
    assert CountingFuture.added > 20 * N  # the quadratic loop this mend replaces


def test_outputs_made_while_waiting_are_waited_for_too():
    async def scenario() -> list[asyncio.Future[Any]]:
        loop = asyncio.get_running_loop()
        first = track(loop.create_future())
        made: list[asyncio.Future[Any]] = []

        def chain(_: Any) -> None:  # an apply that makes another output, answered later
            late = track(loop.create_future())
            made.append(late)
            loop.call_later(0.05, late.set_result, "late")

        first.add_done_callback(chain)
        loop.call_soon(first.set_result, "first")
        await _sdk.wait_for_rpcs()
        return [first, *made]

    first, late = asyncio.run(scenario())
    assert first.result() == "first" and late.result() == "late"


def test_a_failed_output_is_raised_as_soon_as_it_fails_though_another_never_completes():
    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        track(loop.create_future())  # never answered
        failing = track(loop.create_future())
        loop.call_later(0.01, failing.set_exception, ZeroDivisionError("in an apply"))
        await asyncio.wait_for(_sdk.wait_for_rpcs(), timeout=10)

    with pytest.raises(ZeroDivisionError, match="in an apply"):
        asyncio.run(scenario())


def test_with_nothing_pending_the_wait_returns_at_once():
    asyncio.run(asyncio.wait_for(_sdk.wait_for_rpcs(), timeout=10))


def test_a_pulumi_cato_class_output_types_are_worked_out_once_and_are_the_sdks_own(monkeypatch):
    upstream = _sdk._UPSTREAM_RESOURCE_TYPES
    calls: list[type] = []
    monkeypatch.setattr(_sdk, "_UPSTREAM_RESOURCE_TYPES", lambda cls: calls.append(cls) or upstream(cls))
    monkeypatch.setattr(_sdk, "_TYPES_OF", weakref.WeakKeyDictionary())
    assert pulumi._types.resource_types is _sdk.resource_types

    first = pulumi._types.resource_types(pulumi_cato.NetworkRange)
    assert first == upstream(pulumi_cato.NetworkRange) and first
    first["changed"] = int  # each caller gets its own copy
    again = pulumi._types.resource_types(pulumi_cato.NetworkRange)
    assert "changed" not in again and calls == [pulumi_cato.NetworkRange]

    class Other(pulumi.CustomResource):  # not pulumi_cato's: the SDK's own work, every time
        out: pulumi.Output[str]

    pulumi._types.resource_types(Other)
    pulumi._types.resource_types(Other)
    assert calls.count(Other) == 2


def traces_from_a_three_level_constructor() -> tuple[Any, Any]:
    class Resource:
        def __init__(self) -> None:
            self.traces = (_sdk.get_stack_trace(), _sdk._UPSTREAM_STACK_TRACE())

    class Custom(Resource):
        def __init__(self) -> None:
            super().__init__()

    class Concrete(Custom):
        def __init__(self) -> None:
            super().__init__()

    return Concrete().traces


def test_where_another_providers_resource_was_declared_is_the_sdks_own_answer():
    ours, upstream = traces_from_a_three_level_constructor()
    positions = [(f.pc.uri, f.pc.line) for f in ours.frames]
    assert positions == [(f.pc.uri, f.pc.line) for f in upstream.frames]
    assert positions[0][0].endswith("/tests/test_sdk_mends.py")  # the caller of Concrete()
    assert pulumi.runtime.resource._get_stack_trace is _sdk.get_stack_trace
