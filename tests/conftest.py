"""Shared fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import GraphQLSchema, build_schema

# Helper modules that tests import directly still get pytest's assertion messages.
pytest.register_assert_rewrite("pulumi_helpers", "emu_helpers")


def pytest_configure(config: pytest.Config) -> None:
    """Compile the project once, before the workers start (``compile_project``): each CLI run, pulumi
    program and provider the suite starts then loads bytecode instead of compiling the source. And let
    the pulumi commands the suite starts stop their plugins at once however the suite was started
    (``allow_interrupts``)."""
    from pulumi_helpers import allow_interrupts, compile_project  # after register_assert_rewrite above

    allow_interrupts()  # in the controller and in each worker, before any pulumi command
    if not hasattr(config, "workerinput"):  # the xdist controller, or a run without workers
        compile_project()


# The published Cato schema lives beside the repo (shared/), never inside it.
REAL_SCHEMA_PATH = Path(__file__).resolve().parents[1].parent / "shared/cato/cato_api.graphqls"


@pytest.fixture(scope="session")
def real_schema_path() -> Path:
    if not REAL_SCHEMA_PATH.is_file():
        pytest.fail(f"the real Cato schema is missing at {REAL_SCHEMA_PATH}")
    return REAL_SCHEMA_PATH


@pytest.fixture(scope="session")
def real_schema(real_schema_path: Path) -> GraphQLSchema:
    """The real Cato schema, built once per session (it takes about two seconds)."""
    return build_schema(real_schema_path.read_text(encoding="utf-8"))


@pytest.fixture
def emulator_factory():
    """Start emulators (real uvicorn servers on background threads); all stop at teardown."""
    from emu_helpers import base_fixture

    from catoiac.emulator.limits import RateLimitConfig
    from catoiac.emulator.server import EmulatorServer

    started: list[EmulatorServer] = []

    def make(seed: dict | None = None, *, db: str = ":memory:", rate_limits: RateLimitConfig | None = None):
        server = EmulatorServer(
            db,
            seed=seed if seed is not None else base_fixture(),
            rate_limits=rate_limits or RateLimitConfig(),
        )
        started.append(server.start())
        return server

    yield make
    for s in started:
        s.stop()
