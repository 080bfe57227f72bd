"""catoiac.lifeline with a real gRPC server standing in for the engine and real processes standing
in for its language host (the pulumi CLI is killed for real in test_crash_e2e.py)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from concurrent import futures

import grpc
import pytest

from catoiac import lifeline
from catoiac.lifeline import EngineGone, Lifeline, engine_address


def test_the_engine_address_is_found_among_plugin_flags():
    assert engine_address(["127.0.0.1:40123"]) == "127.0.0.1:40123"
    assert engine_address(["--logtostderr", "-v=9", "127.0.0.1:40123"]) == "127.0.0.1:40123"
    assert engine_address(["--tracing", "http://127.0.0.1:9/x", "[::1]:40123"]) == "[::1]:40123"
    assert engine_address(["--logtostderr"]) is None


@pytest.fixture
def engine():
    """A gRPC server with no services: it answers the health check UNIMPLEMENTED, like an engine
    that does not serve it, which still counts as alive."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield server, f"127.0.0.1:{port}"
    server.stop(0)


def fake_language_host(address: str) -> subprocess.Popen:
    """A process whose command line is a language host's for ``address``."""
    return subprocess.Popen(
        ["bash", "-c", f'exec -a /opt/pulumi/bin/pulumi-language-python "{sys.executable}" '
                       f'-c "import time; time.sleep(120)" {address}'],
    )  # fmt: skip


def test_ensure_alive_passes_while_the_engine_answers_and_raises_once_it_is_gone(engine):
    server, address = engine
    line = Lifeline(address, role="test")
    line.ensure_alive()
    server.stop(0).wait()
    with pytest.raises(EngineGone) as err:
        line.ensure_alive()
    assert address in str(err.value) and "\n" not in str(err.value)
    assert line.gone.is_set()
    with pytest.raises(EngineGone):  # gone stays gone, without a fresh probe too
        line.ensure_alive(fresh=False)


def test_outside_a_pulumi_process_there_is_no_lifeline_and_nothing_is_refused():
    assert lifeline.watch_this_process() is None
    lifeline.ensure_alive()  # a no-op: the catoiac CLI and scripts have no engine to lose


def test_when_the_engine_dies_writes_in_flight_finish_then_its_language_host_is_stopped_and_the_process_exits(
    engine,
):
    server, address = engine
    exited = threading.Event()
    order: list[str] = []
    host = fake_language_host(address)
    bystander = fake_language_host("127.0.0.1:1")  # another engine's: never touched
    try:
        time.sleep(0.3)
        line = Lifeline(
            address,
            role="test",
            interval=0.1,
            grace=10,
            exit=lambda code: (order.append("exit"), exited.set()),
        )
        line.start()

        def write_in_flight():
            with line.busy():
                time.sleep(1.5)
                order.append("write done")

        writer = threading.Thread(target=write_in_flight)
        writer.start()
        time.sleep(0.2)
        killed_at = time.monotonic()
        server.stop(0)
        assert exited.wait(10), "the lifeline never acted"
        took = time.monotonic() - killed_at
        writer.join()
        assert order == ["write done", "exit"]  # the write in flight finished first
        assert 1.0 < took < 10, took  # waited for the write in flight, then went
        assert host.wait(5) is not None  # SIGTERM reached the dead engine's language host
        assert bystander.poll() is None
    finally:
        for p in (host, bystander):
            if p.poll() is None:
                p.kill()
                p.wait()


def test_a_write_that_outlives_the_grace_period_does_not_keep_the_process_alive(engine):
    server, address = engine
    exited = threading.Event()
    line = Lifeline(address, role="test", interval=0.1, grace=0.5, exit=lambda code: exited.set())
    line.start()
    release = threading.Event()

    def stuck():
        with line.busy():
            release.wait(30)

    t = threading.Thread(target=stuck)
    t.start()
    server.stop(0)
    try:
        assert exited.wait(5)
    finally:
        release.set()
        t.join()
