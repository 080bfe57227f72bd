"""The emulator's fast executor answers exactly as graphql-core does: same data, same errors, same
resolver calls, on plain data and on every shape it hands back to graphql-core."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import httpx
import pytest
from emu_helpers import ACCOUNT
from graphql import build_schema, execute, parse
from graphql.execution import ExecutionContext

from catoiac.client import CatoClient
from catoiac.config import ClientConfig
from catoiac.emulator import app as emulator_app
from catoiac.emulator.execution import FastExecutionContext
from catoiac.emulator.limits import RateLimitConfig
from catoiac.emulator.server import EmulatorServer

ROOT = Path(__file__).resolve().parents[1]

SDL = """
enum Color { RED GREEN }
interface Named { name: String }
type Cat implements Named { name: String lives: Int }
type Dog implements Named { name: String barks: Boolean! }
union Pet = Cat | Dog
type Item { id: ID! name: String count: Int color: Color tags: [String!] inner: Item
            strict: [Item!]! loose: [Item] pet: Pet named: Named score: Float
            withArg(x: Int): String }
type Query { items: [Item] item: Item }
"""
SCHEMA = build_schema(SDL)
QUERY = """
query Q { items { ...F alias: name __typename inner { id name inner { id } } } item { ...F } }
fragment F on Item { id name count color tags score
  strict { id } loose { id name } pet { __typename ... on Cat { name lives } ... on Dog { barks } }
  named { name ... on Cat { lives } ... on Dog { barks } } }
"""


class Calls:
    """A field resolver as the emulator's (dict lookup; callables are called), counting calls."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self, source, info, **args):
        value = (
            source.get(info.field_name)
            if isinstance(source, dict)
            else getattr(source, info.field_name, None)
        )
        if callable(value):
            self.n += 1
            return value(info, **args)
        return value


SLOW: list[str] = []  # object values graphql-core completed itself, by type


class Counting(FastExecutionContext):
    def complete_object_value(self, return_type, field_nodes, info, path, result):
        if type(result) is not dict or self._object_plan(return_type, field_nodes) is None:
            SLOW.append(return_type.name)  # (a plan that gives up at run time is not counted)
        return super().complete_object_value(return_type, field_nodes, info, path, result)


def _both(root: dict, query: str = QUERY) -> tuple[dict, dict, int, int]:
    doc = parse(query)
    out = []
    SLOW.clear()
    for cls in (ExecutionContext, Counting):
        calls = Calls()
        res = execute(SCHEMA, doc, root_value=root, field_resolver=calls, execution_context_class=cls)
        out.append(({"data": res.data, "errors": [e.formatted for e in res.errors or []]}, calls.n))
    (plain, plain_calls), (fast, fast_calls) = out
    return plain, fast, plain_calls, fast_calls


def _item(i: int, **extra) -> dict:
    return {"id": str(i), "name": f"n{i}", "count": i, "color": "RED", "tags": ["a", "b"], "score": 1.5,
            "strict": [{"id": "s"}], "loose": [None, {"id": "l", "name": None}],
            "pet": {"__typename": "Cat", "name": "tom", "lives": 9},
            "named": {"__typename": "Dog", "name": "rex", "barks": True}, **extra}  # fmt: skip


def test_plain_data_completes_the_same_with_aliases_fragments_typename_enums_and_abstract_types():
    root = {"items": [_item(1, inner={"id": "x", "name": "y", "inner": {"id": "z"}}), _item(2), None],
            "item": _item(3)}  # fmt: skip
    plain, fast, _, _ = _both(root)
    assert plain["errors"] == []
    assert json.dumps(fast) == json.dumps(plain)  # same keys in the same order
    assert SLOW == []  # and all of it on the fast path


def test_a_field_with_arguments_is_left_to_graphql_core():
    root = {"items": [_item(1, withArg=lambda info, x: f"x={x}")], "item": None}
    plain, fast, plain_calls, fast_calls = _both(root, "{ items { id withArg(x: 2) } }")
    assert plain == {"data": {"items": [{"id": "1", "withArg": "x=2"}]}, "errors": []}
    assert fast == plain and fast_calls == plain_calls == 1
    assert SLOW == ["Item"]


@pytest.mark.parametrize(
    "bad",
    [
        {"id": None},  # null in a non-null field
        {"strict": [None]},  # null item in a list of non-null
        {"strict": None},  # null non-null list
        {"count": 2**40},  # an Int out of range
        {"count": "many"},  # a value the scalar cannot serialise
        {"color": "BLUE"},  # not an enum value
        {"tags": "ab"},  # a string where a list is expected
        {"pet": {"__typename": "Fish"}},  # not a possible type
        {"pet": {"name": "untyped"}},  # no __typename
        {"named": {"__typename": "Dog", "name": "rex", "barks": None}},  # null inside an abstract value
    ],
)
def test_errors_are_graphql_cores_own(bad):
    """Where the data is wrong, the fast path gives up and graphql-core reports it: same message,
    same path, same nulls propagated to the nearest nullable parent."""
    root = {"items": [_item(1), _item(2, **bad)], "item": _item(3, **bad)}
    plain, fast, _, _ = _both(root)
    assert plain["errors"], bad
    assert json.dumps(fast) == json.dumps(plain)


def test_resolvers_in_the_data_are_called_once_as_graphql_core_calls_them():
    seen = []

    def name(info, **args):
        seen.append(info.path.as_list())
        return "resolved"

    root = {"items": [_item(1, name=name), _item(2)], "item": _item(3, name=name)}
    plain, fast, plain_calls, fast_calls = _both(root)
    assert plain["errors"] == [] and json.dumps(fast) == json.dumps(plain)
    assert fast_calls == plain_calls == 3  # items[0]: name and its alias; item: name
    assert seen[:3] == seen[3:]  # each resolver saw the same paths in both runs


def test_generators_tuples_and_objects_are_completed_as_graphql_core_completes_them():
    class Obj:
        id, name, count, color, tags = "o", "obj", 1, "GREEN", ("t",)
        strict = ({"id": "s"},)

    def make():
        return {"items": (x for x in [_item(1), _item(2, strict=({"id": "t"},))]), "item": Obj()}

    doc = parse("{ items { id strict { id } } item { id name count color tags strict { id } } }")
    answers = [
        execute(SCHEMA, doc, root_value=make(), field_resolver=Calls(), execution_context_class=cls)
        for cls in (ExecutionContext, FastExecutionContext)
    ]
    assert answers[0].errors is None
    assert json.dumps(answers[1].data) == json.dumps(answers[0].data)


@pytest.fixture(scope="module")
def bench_account() -> dict:
    """A small account of the large fixture's shape (sites, ranges, hosts, both firewalls)."""
    sys.path.insert(0, str(ROOT / "examples" / "fixtures"))
    import make_large

    saved = (make_large.SITES, make_large.IFW_RULES, make_large.WAN_RULES)
    make_large.SITES, make_large.IFW_RULES, make_large.WAN_RULES = 8, 100, 50  # 2 and 1 sections
    try:
        return make_large.build()
    finally:
        make_large.SITES, make_large.IFW_RULES, make_large.WAN_RULES = saved


def test_every_read_of_the_read_path_answers_the_same_bytes_with_and_without_the_fast_path(
    bench_account, monkeypatch
):
    """The reads drift and refresh send (snapshot, lookups, both firewall policies, devices) and the
    full documents of tests/documents, on a frozen clock: byte for byte what graphql-core gives."""
    from catoiac.drift import run  # noqa: F401  (registers every collection: policies, devices...)
    from catoiac.readpath import LOADERS, AccountReader

    acc = bench_account["accounts"][0]
    key = next(k["key"] for k in acc["api_keys"] if k["id"] == "k-catoiac")
    compared: list[tuple[str, bool]] = []
    with EmulatorServer(seed=bench_account, rate_limits=RateLimitConfig(enabled=False)) as emu:
        em = emu.emulator
        frozen = em.store.now()
        monkeypatch.setattr(em.store, "now", lambda: frozen)
        real = em._execute

        def both(doc, body, identity, op_type, cache_key):
            fast = real(doc, body, identity, op_type, None)
            if op_type == "query":
                with monkeypatch.context() as m:
                    m.setattr(emulator_app, "FastExecutionContext", ExecutionContext)
                    plain = real(doc, body, identity, op_type, None)
                compared.append((body.get("operationName") or body["query"][:40], fast == plain))
            return fast

        em._execute = both
        with CatoClient(ClientConfig(api_key=key, account_id=str(acc["id"]), base_url=emu.url)) as client:
            reader = AccountReader(client)
            for kind in list(LOADERS):
                reader.get(kind)
        variables = {"accountID": ACCOUNT, "accountId": ACCOUNT}
        for path in sorted((ROOT / "tests" / "documents").glob("*.graphql")):
            httpx.post(emu.url, json={"query": path.read_text(), "variables": variables},
                       headers={"x-api-key": key}).raise_for_status()  # fmt: skip
    names = {n for n, _ in compared}
    assert {
        "ReadSites",
        "EntityLookup",
        "ReadInternetFirewallPolicy",
        "ReadWanFirewallPolicy",
        "DevicesList",
    } <= names
    assert len(compared) > 10
    assert [n for n, same in compared if not same] == []


def test_views_derived_from_the_state_are_rebuilt_after_any_write_or_rollback():
    """``Store.memo``: computed once per generation of the data; a write, a raw write statement or
    a rolled-back transaction makes the next read build it again, a read does not."""
    from catoiac.emulator.store import Store

    store = Store()
    store.add_account("1", "a")
    builds: list[int] = []

    def view():
        builds.append(1)
        return [e["name"] for e in store.list("1", "site")]

    assert store.memo("k", view) == [] and store.memo("k", view) == [] and len(builds) == 1
    store.put("1", "site", "s1", {"name": "x"})
    assert store.memo("k", view) == ["x"] and len(builds) == 2
    store.execute("SELECT 1")
    assert store.memo("k", view) == ["x"] and len(builds) == 2
    with pytest.raises(RuntimeError), store.transaction():
        store.put("1", "site", "s2", {"name": "y"})
        assert store.memo("k", view) == ["x", "y"]  # inside the transaction: its own write
        raise RuntimeError
    assert store.memo("k", view) == ["x"]  # rolled back
    store.execute("UPDATE entities SET name='z'")
    n = len(builds)
    store.memo("k", view)
    assert len(builds) == n + 1
