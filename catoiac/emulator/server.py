"""Runs the emulator: in the foreground for ``catoiac emulator serve``, or on a background
thread for tests and examples (``with EmulatorServer() as emu: emu.url``)."""

from __future__ import annotations

import gc
import socket
import threading
import time
from collections.abc import Callable
from datetime import datetime
from email.utils import format_datetime
from typing import Any

import uvicorn

from ..config import is_loopback_host
from .app import GRAPHQL_PATH, Emulator
from .fixtures import load
from .limits import RateLimitConfig


class EmulatorServer:
    def __init__(
        self,
        db: str = ":memory:",
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: str | dict[str, Any] | None = None,
        rate_limits: RateLimitConfig | None = None,
        operator_token: str | None = None,
        schema_variant: str | None = None,
        ssl_certfile: str | None = None,
        ssl_keyfile: str | None = None,
    ) -> None:
        # The operator endpoints rewrite the account at will: on an address others can reach they
        # need a token, and without one they are off.
        self.emulator = Emulator(
            db,
            rate_limits=rate_limits,
            operator_token=operator_token,
            operator_open=is_loopback_host(host),
            schema_variant=schema_variant,
        )
        self.scheme = "https" if ssl_certfile else "http"
        if seed is not None:
            self.emulator.seed(seed if isinstance(seed, dict) else load(seed))
        self.host = host
        # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets that say so, and without it
        # every reply waits ~40 ms for a delayed ACK (Nagle).
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, port))
        self.port = self._sock.getsockname()[1]
        config = uvicorn.Config(
            ClockDate(self.emulator.app, self.emulator.store.now), log_level="warning", access_log=False,
            lifespan="off", date_header=False, ssl_certfile=ssl_certfile, ssl_keyfile=ssl_keyfile,
        )  # fmt: skip
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"

    @property
    def url(self) -> str:
        """The GraphQL endpoint, as ``CATO_BASEURL`` wants it."""
        return self.base_url + GRAPHQL_PATH

    def start(self) -> EmulatorServer:
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True, name="cato-emulator"
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("emulator failed to start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread:
            self._thread.join(timeout=10)
        self.emulator.store.close()

    def serve_forever(self) -> None:
        # The process is the server's own (``catoiac emulator serve``): what is alive now (the schema,
        # the seeded account, imported modules) stays, so the cyclic collector skips it (gc.freeze),
        # and young collections come every 10,000 allocations rather than 700: a large first answer
        # allocates hundreds of thousands of containers, and each collection walked them again.
        gc.freeze()
        gc.set_threshold(10_000, *gc.get_threshold()[1:])
        self._server.run(sockets=[self._sock])

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class ClockDate:
    """ASGI wrapper: the ``Date`` header from the emulator's clock (which tests can move with
    ``/_emulator/clock``) rather than the host's, as audit record times are."""

    def __init__(self, app, now: Callable[[], datetime]) -> None:
        self.app = app
        self.now = now

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_dated(message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"date"]
                headers.append((b"date", format_datetime(self.now(), usegmt=True).encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_dated)
