"""What the provider process tells the user goes through the Pulumi engine's own log service.

A dynamic provider's stderr is not shown by ``pulumi up``, so progress (a wait for Cato's rate
limits, lest a paced run look hung) and ``CATOIAC_LOG`` lines are sent as engine diagnostics
(``pulumirpc.Engine/Log``), at the address the engine gave the plugin. Pulumi shows ``info`` ones
in every run and ``debug`` ones with ``--debug``.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from catoiac import lifeline, logs
from catoiac.ratelimit import PACING_LISTENERS, PacingNotice

_SEVERITY = {logging.DEBUG: 0, logging.INFO: 1, logging.WARNING: 2, logging.ERROR: 3}


class EngineLog:
    """One channel to the engine; every failure to send is swallowed (the engine may be gone)."""

    def __init__(self, address: str) -> None:
        import grpc
        from pulumi.runtime.proto import engine_pb2, engine_pb2_grpc

        self._pb = engine_pb2
        self._stub: Any = engine_pb2_grpc.EngineStub(grpc.insecure_channel(address))
        self._lock = threading.Lock()

    def send(self, severity: int, message: str) -> None:
        request = self._pb.LogRequest(severity=severity, message=message)
        try:
            with self._lock:
                self._stub.Log(request, timeout=2)
        except Exception:  # noqa: BLE001 - telling the user must never fail the operation
            pass


class _EngineHandler(logging.Handler):
    def __init__(self, engine: EngineLog) -> None:
        super().__init__()
        self.engine = engine
        self.setFormatter(logging.Formatter("catoiac %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        severity = max((v for k, v in _SEVERITY.items() if k <= record.levelno), default=0)
        self.engine.send(severity, self.format(record))


_STARTED = False


def connect() -> EngineLog | None:
    """In a provider process Pulumi started: pacing notices, and ``CATOIAC_LOG`` records, to the
    engine. Idempotent; a no-op elsewhere."""
    global _STARTED
    line = lifeline.current()
    if _STARTED or line is None:
        return None
    _STARTED = True
    engine = EngineLog(line.address)
    PACING_LISTENERS.append(lambda notice: _pacing(engine, notice))
    level = logs.from_environment()
    if level:
        try:
            logs.configure(level, _EngineHandler(engine))
        except logs.LogLevelError as e:
            engine.send(2, str(e))
    return engine


def _pacing(engine: EngineLog, notice: PacingNotice) -> None:
    engine.send(1, f"catoiac: {notice}")
