"""Stop working for a Pulumi engine that is gone.

A ``pulumi`` CLI killed with SIGKILL (a dead CI runner, a cancelled job) tells its plugins nothing.
Left alone, the dynamic-provider process finishes its creates and publishes policy revisions for an
engine that will never record them, and it and the language host live on for good.

Both processes we have code in learn the engine's gRPC address when they start: the dynamic
provider (``python -m pulumi.dynamic [flags] <engine>``, which loads ``pulumi_cato.provider``)
and the program (``pulumi-language-python-exec --engine <engine> ...``, which imports
``pulumi_cato``). A daemon thread (:class:`Lifeline`) asks the engine's gRPC health service twice
a second on one persistent channel; the engine is gone once two calls in a row answer UNAVAILABLE
(nothing listens there any more). Then:

- no new write starts (:func:`ensure_alive` raises :class:`EngineGone`), and a policy revision is
  discarded instead of published: ``ensure_alive`` probes afresh right before each publish;
- writes already sent are let finish for up to ``grace`` seconds, so their ids reach the journal;
- the orphaned language host of that engine (``pulumi-language-python <engine>``, which would only
  notice after its own five-minute health check) is sent SIGTERM; only a process whose command line
  names that very engine address is touched;
- the process exits.

A process that is neither (the catoiac CLI, tests, Pulumi's automation API running a program in
the user's own process) starts no lifeline, and :func:`ensure_alive` is a no-op there.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from .errors import CatoError

logger = logging.getLogger("catoiac.lifeline")

_ADDRESS = re.compile(r"^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):\d{1,5}$")
_HEALTH = "/grpc.health.v1.Health/Check"
LANGUAGE_HOST = "pulumi-language-python"


class EngineGone(CatoError):
    """The Pulumi engine that asked for this operation has gone away: nothing more is written."""


def engine_address(argv: list[str]) -> str | None:
    """The engine address among a plugin's arguments: the last ``host:port`` (flags such as
    ``--logtostderr -v=9`` and ``--tracing <url>`` may come first)."""
    found = [a for a in argv if _ADDRESS.match(a)]
    return found[-1] if found else None


def _flag(argv: list[str], name: str) -> str | None:
    for i, a in enumerate(argv):
        if a == name and i + 1 < len(argv):
            return argv[i + 1]
        if a.startswith(name + "="):
            return a.split("=", 1)[1]
    return None


def command_line(pid: int) -> list[str]:
    """A process's arguments ([] if unknown): /proc on Linux, ``ps`` elsewhere."""
    proc = Path(f"/proc/{pid}/cmdline")
    if Path("/proc/self/cmdline").exists():
        try:
            return [a for a in proc.read_bytes().decode(errors="replace").split("\0") if a]
        except OSError:
            return []
    try:
        out = subprocess.run(["ps", "-o", "args=", "-p", str(pid)], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return []
    return out.stdout.split()


def _processes() -> Iterator[tuple[int, list[str]]]:
    if Path("/proc/self").exists():
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                yield int(entry.name), command_line(int(entry.name))
        return
    try:
        out = subprocess.run(["ps", "-axo", "pid=,args="], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return
    for line in out.stdout.splitlines():
        pid, _, args = line.strip().partition(" ")
        if pid.isdigit():
            yield int(pid), args.split()


def is_language_host_of(argv: list[str], address: str) -> bool:
    return bool(argv) and Path(argv[0]).name.startswith(LANGUAGE_HOST) and address in argv[1:]


def stop_language_hosts(address: str) -> list[int]:
    """SIGTERM every language host serving the (dead) engine at ``address``; their pids."""
    stopped = []
    for pid, argv in _processes():
        if pid != os.getpid() and is_language_host_of(argv, address):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGTERM)
                stopped.append(pid)
    return stopped


class _Probe:
    """The engine's gRPC health service on one channel: alive unless nothing listens there."""

    def __init__(self, address: str) -> None:
        import grpc  # the Pulumi SDK's dependency; only processes Pulumi started get here

        self._grpc = grpc
        self._channel = grpc.insecure_channel(address)
        self._check = self._channel.unary_unary(
            _HEALTH, request_serializer=lambda _: b"", response_deserializer=lambda b: b
        )
        self._lock = threading.Lock()

    def alive(self, timeout: float = 2.0) -> bool:
        with self._lock:
            try:
                self._check(None, timeout=timeout)
            except self._grpc.RpcError as e:
                return e.code() != self._grpc.StatusCode.UNAVAILABLE  # UNIMPLEMENTED: it answered
            return True


class Lifeline:
    """Watches one engine from one process; see the module docstring."""

    def __init__(
        self,
        address: str,
        *,
        role: str,
        interval: float = 0.5,
        grace: float = 30.0,
        exit: Callable[[int], None] = os._exit,
    ) -> None:
        self.address, self.role = address, role
        self.interval, self.grace = interval, grace
        self.gone = threading.Event()
        self._probe = _Probe(address)
        self._busy = 0
        self._idle = threading.Condition()
        self._exit = exit
        self._thread: threading.Thread | None = None

    def start(self) -> Lifeline:
        self._thread = threading.Thread(target=self._watch, name="catoiac-lifeline", daemon=True)
        self._thread.start()
        return self

    @contextlib.contextmanager
    def busy(self) -> Iterator[None]:
        """Marks an operation in flight: the process does not exit under it (up to ``grace``)."""
        with self._idle:
            self._busy += 1
        try:
            yield
        finally:
            with self._idle:
                self._busy -= 1
                self._idle.notify_all()

    def ensure_alive(self, fresh: bool = True) -> None:
        """Raise EngineGone once the engine is known gone; ``fresh`` probes it now (before a
        publish) rather than trusting the watcher's last look (before each operation)."""
        if self.gone.is_set() or (fresh and not self._probe.alive()):
            self.gone.set()
            raise EngineGone(
                f"the Pulumi engine at {self.address} is gone (the pulumi CLI was killed or "
                "cancelled): nothing more is written, and the next `pulumi up` picks up from here"
            )

    def _watch(self) -> None:
        misses = 0
        while misses < 2:
            time.sleep(self.interval)
            misses = 0 if self._probe.alive() else misses + 1
        self.gone.set()
        self.shut_down()

    def shut_down(self) -> None:
        """The engine is gone: let writes in flight finish, stop its language host, exit."""
        deadline = time.monotonic() + self.grace
        with self._idle:
            while self._busy and time.monotonic() < deadline:
                self._idle.wait(timeout=max(0.0, deadline - time.monotonic()))
        stop_language_hosts(self.address)
        self._exit(0)


_LIFELINE: Lifeline | None = None
_START_LOCK = threading.Lock()


def current() -> Lifeline | None:
    return _LIFELINE


def ensure_alive(fresh: bool = True) -> None:
    """Before a write that must not happen for a dead engine (a publish); a no-op outside Pulumi."""
    if _LIFELINE is not None:
        _LIFELINE.ensure_alive(fresh)


def busy() -> contextlib.AbstractContextManager[None]:
    return _LIFELINE.busy() if _LIFELINE is not None else contextlib.nullcontext()


def _role() -> tuple[str, str] | None:
    """(role, engine address) of this process, if Pulumi started it for an engine."""
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    if spec is not None and spec.name == "pulumi.dynamic.__main__":
        address = engine_address(sys.argv[1:])
        return ("provider", address) if address else None
    argv = command_line(os.getpid())
    address = _flag(argv, "--engine")
    if address and is_language_host_of(command_line(os.getppid()), address):
        return ("program", address)
    return None


def watch_this_process() -> Lifeline | None:
    """Start the lifeline of this process if Pulumi started it (idempotent)."""
    global _LIFELINE
    with _START_LOCK:
        if _LIFELINE is None and os.environ.get("CATOIAC_LIFELINE", "1") != "0":
            found = _role()
            if found is not None:
                role, address = found
                _LIFELINE = Lifeline(address, role=role).start()
                if role == "program":
                    # The program often exits on its own once the engine is gone (its next RPC
                    # fails): stop the language host on the way out too.
                    atexit.register(_stop_host_if_engine_gone, _LIFELINE)
        return _LIFELINE


def _stop_host_if_engine_gone(line: Lifeline) -> None:
    if line.gone.is_set() or not line._probe.alive(timeout=1.0):
        stop_language_hosts(line.address)
