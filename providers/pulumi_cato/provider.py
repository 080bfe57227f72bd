"""The dynamic provider object: what a Pulumi program pickles into each resource's state.

It carries only the spec's and the stack's names, and its methods load the engine side
(``_engine_side``) on first use, in the dynamic-provider process. A program only declares resources
and pickles this object, so it never imports the engine, its jsonschema, GraphQL or HTTP stack: that
was most of ``import pulumi_cato``. The class keeps its module and name (``pulumi_cato.provider.
CatoProvider``): each resource's state holds the pickled reference, and a changed one would make the
next preview compare a new ``__provider`` for every resource.

Process lifetime: this module is loaded in the dynamic-provider process (unpickling the provider)
and in the program (imported by pulumi_cato); both start their lifeline (``catoiac.lifeline``: stop
for a dead engine, never publish for it) and send engine diagnostics (``_engine_log``).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from pulumi.dynamic import (
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)

from catoiac import lifeline

from . import _engine_log

if TYPE_CHECKING:
    from catoiac.resources import Engine

_STACK: dict[str, str] = {}  # the stack the program ran for, from the unpickled provider


def _program_stack() -> str | None:
    """``[org/]project/stack`` when running in a Pulumi program (where providers are created)."""
    try:
        import pulumi

        stack, project, org = pulumi.get_stack(), pulumi.get_project(), pulumi.get_organization()
    except Exception:  # not in a program (a test building a provider by hand)
        return None
    if not stack or stack == "stack":
        return None
    # The DIY backends' placeholder organisation cannot be named in a stack reference.
    return f"{org}/{project}/{stack}" if org and org != "organization" else stack


def _engine_side() -> Any:
    from . import _engine_side

    return _engine_side


class CatoProvider(ResourceProvider):
    def __init__(self, spec_name: str) -> None:
        super().__init__()
        self.spec_name = spec_name
        self.stack = _program_stack()

    # Only the spec and stack names are pickled into the state: never a client, never a key.
    def __getstate__(self) -> dict[str, Any]:
        return {"spec_name": self.spec_name, "stack": self.stack}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.spec_name = state["spec_name"]
        self.stack = state.get("stack")  # states written before key rotation have none
        if self.stack:
            _STACK.setdefault("stack", self.stack)

    @property
    def engine(self) -> Engine:
        return _engine_side().engine(self)

    def configure(self, req: ConfigureRequest) -> None:
        _engine_side().configure(req)

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Inputs alone, then (when they are valid) against the program's other resources and the live
        account, so a preview fails with what up would refuse; credential problems are told once."""
        return _engine_side().check(self, olds, news)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return _engine_side().diff(self, olds, news)

    def create(self, props: dict[str, Any]) -> CreateResult:
        return _engine_side().create(self, props)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return _engine_side().read(self, id_, props)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return _engine_side().update(self, id_, olds, news)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        _engine_side().delete(self, id_, props)


class CatoProviderError(Exception):
    """An expected failure (Cato refused, a conflict, bad credentials): the user sees only its
    message, one line, instead of a Python traceback (see ``_short_tracebacks``)."""


class _ShortTraceback:
    """``traceback`` as pulumi.dynamic's servicer sees it: for an expected error, format_exc() is
    its one-line message. The servicer turns every exception into a gRPC error whose text is
    ``traceback.format_exc()`` (``_abort_with_traceback``), and the CLI prints that text, ten lines
    of our frames per failed resource; the message alone is what the user can act on."""

    def __init__(self, real: Any) -> None:
        self._real = real

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def format_exc(self, *args: Any, **kwargs: Any) -> str:
        error = sys.exc_info()[1]
        if isinstance(error, CatoProviderError):
            return str(error)
        return self._real.format_exc(*args, **kwargs)


def _short_tracebacks() -> None:
    main = sys.modules.get("__main__")
    if getattr(getattr(main, "__spec__", None), "name", None) != "pulumi.dynamic.__main__":
        return
    real = getattr(main, "traceback", None)
    if real is not None and not isinstance(real, _ShortTraceback):
        main.traceback = _ShortTraceback(real)  # type: ignore[union-attr]


# Loaded in the dynamic-provider process (unpickling the provider) and in the program (imported by
# pulumi_cato): both watch the engine that started them.
_short_tracebacks()
lifeline.watch_this_process()
# Rate-limit waits and CATOIAC_LOG lines reach the user as engine diagnostics.
_engine_log.connect()
