"""Test accounts and keys shared by emulator-backed tests."""

from __future__ import annotations

from functools import cache

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


def _operation_leaves(kind: str) -> frozenset[str]:
    """The operation names the emulator counts calls under, from the schema subset: the root fields of
    ``kind`` ("query" or "mutation") and, through Cato's namespaces (``…Queries``, ``…Mutations``),
    their leaves. Derived, so an operation added to the schema is never missed by a hand-kept list."""
    from graphql import GraphQLObjectType, get_named_type

    from catoiac.schema import is_namespace, subset_schema

    schema = subset_schema()
    root = schema.mutation_type if kind == "mutation" else schema.query_type
    assert root is not None
    found: set[str] = set()
    seen: set[str] = set()

    def walk(t: GraphQLObjectType) -> None:
        seen.add(t.name)
        for name, field in t.fields.items():
            inner = get_named_type(field.type)
            if isinstance(inner, GraphQLObjectType) and is_namespace(inner.name):
                if inner.name not in seen:
                    walk(inner)
            else:
                found.add(name)

    walk(root)
    return frozenset(found)


@cache
def mutation_names() -> frozenset[str]:
    """Every mutation the emulator can count: a read of any collection, present or future, is never
    taken for a write."""
    return _operation_leaves("mutation")


@cache
def read_names() -> frozenset[str]:
    """Every query operation the emulator can count (``accountSnapshot``, ``entityLookup``, ``policy``...)."""
    return _operation_leaves("query")


def writes(stats: dict[str, int]) -> dict[str, int]:
    """The mutations among an emulator's call counts (``EmulatorControl.stats()``)."""
    return {op: n for op, n in stats.items() if op in mutation_names()}
