"""Test accounts and keys shared by emulator-backed tests."""

from __future__ import annotations

from functools import cache

from catoiac.schema import operation_leaves

KEY = "cato-test-key-3f9c1e"  # the tool's own key in test fixtures
OTHER_KEY = "cato-other-integration-77ab"
ACCOUNT = "1001"
OTHER_ACCOUNT = "2002"


def base_fixture() -> dict:
    """Two accounts; the first has our key, another integration's key and a UI admin."""
    return {
        "accounts": [
            {
                "id": ACCOUNT,
                "name": "Acme",
                "api_keys": [
                    {"id": "k-catoiac", "name": "catoiac", "key": KEY},
                    {"id": "k-other", "name": "another integration", "key": OTHER_KEY},
                ],
                "admins": [{"id": "a-alice", "email": "alice@example.com", "name": "Alice"}],
            },
            {
                "id": OTHER_ACCOUNT,
                "name": "Globex",
                "api_keys": [{"id": "k-globex", "name": "globex", "key": "cato-globex-key-0042"}],
            },
        ]
    }


@cache
def mutation_names() -> frozenset[str]:
    """Every mutation the emulator can count: a read of any collection, present or future, is never
    taken for a write."""
    return operation_leaves("mutation")


@cache
def read_names() -> frozenset[str]:
    """Every query operation the emulator can count (``accountSnapshot``, ``entityLookup``, ``policy``...)."""
    return operation_leaves("query")


def writes(stats: dict[str, int]) -> dict[str, int]:
    """The mutations among an emulator's call counts (``EmulatorControl.stats()``)."""
    return {op: n for op, n in stats.items() if op in mutation_names()}


def shared_derived_cache() -> dict[str, str]:
    """Environment for a catoiac CLI run that gets a throw-away HOME: it still shares the derived
    cache (``catoiac.derived_cache``: content-keyed, so never stale), instead of rebuilding the
    schema subset's introspection, ~3 s of CPU, in every run. The cold path has its own tests
    (test_schema_cache.py)."""
    from catoiac.derived_cache import CACHE_ENV, cache_dir

    return {CACHE_ENV: str(cache_dir())}
