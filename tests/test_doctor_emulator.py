"""What the emulator gives `catoiac doctor` to be tested against, over real HTTP and real SQLite:
View keys, introspection through the resolver and rate limiter, schema variants, a Date header."""

from __future__ import annotations

import sqlite3
import time
from email.utils import parsedate_to_datetime

import httpx
import pytest
from click.testing import CliRunner
from emu_helpers import ACCOUNT, KEY, base_fixture
from graphql import build_client_schema, get_introspection_query, lexicographic_sort_schema, print_schema

from catoiac.cli import main
from catoiac.client import CatoClient
from catoiac.config import ClientConfig
from catoiac.emulator import schema_gen
from catoiac.emulator.app import emulator_schema
from catoiac.emulator.fixtures import seed
from catoiac.emulator.limits import DEFAULT_LIMITS, RateLimitConfig
from catoiac.emulator.server import EmulatorServer
from catoiac.emulator.store import Store
from catoiac.errors import AuthenticationError
from catoiac.schema import subset_schema

VIEW_KEY = "cato-view-only-key-5d2e"
CREATE = """mutation($a: ID!, $i: CreateGroupInput!) { groups(accountId: $a) { createGroup(input: $i) { group { id } } } }"""
LIST = """query($a: ID!) { groups(accountId: $a) { groupList(input: {}) { paging { total } } } }"""


def with_viewer() -> dict:
    fixture = base_fixture()
    fixture["accounts"][0]["api_keys"].append(
        {"id": "k-view", "name": "read only", "key": VIEW_KEY, "role": "viewer"}
    )
    return fixture


def post(url: str, key: str, query: str, variables: dict | None = None) -> dict:
    r = httpx.post(url, json={"query": query, "variables": variables or {}}, headers={"x-api-key": key})
    assert r.status_code == 200, r.text
    return r.json()


def audit_rows(emu) -> int:
    return emu.emulator.store.execute("SELECT COUNT(*) FROM audit").fetchone()[0]


def test_a_view_key_reads_but_each_mutation_is_denied_and_writes_nothing(emulator_factory):
    emu = emulator_factory(with_viewer())
    variables = {"a": ACCOUNT, "i": {"name": "Branch servers"}}
    assert (
        post(emu.url, VIEW_KEY, LIST, {"a": ACCOUNT})["data"]["groups"]["groupList"]["paging"]["total"] == 0
    )

    denied = post(emu.url, VIEW_KEY, CREATE, variables)
    assert denied["data"] is None
    assert denied["errors"][0]["message"] == "permission denied"
    assert denied["errors"][0]["extensions"] == {"code": "PERMISSION_DENIED"}
    assert post(emu.url, KEY, LIST, {"a": ACCOUNT})["data"]["groups"]["groupList"]["paging"]["total"] == 0
    assert audit_rows(emu) == 0

    with CatoClient(ClientConfig(api_key=VIEW_KEY, account_id=ACCOUNT, base_url=emu.url)) as view:
        with pytest.raises(AuthenticationError, match="permission denied"):
            view.execute("CreateGroup", {"input": {"name": "Branch servers"}})
    # The same mutation by an Edit key goes through: the refusal is the key's permission.
    assert post(emu.url, KEY, CREATE, variables)["data"]["groups"]["createGroup"]["group"]["id"]
    assert post(emu.url, KEY, LIST, {"a": ACCOUNT})["data"]["groups"]["groupList"]["paging"]["total"] == 1


def test_a_fixture_key_role_other_than_editor_or_viewer_is_refused_naming_the_key():
    store = Store()
    fixture = base_fixture()
    fixture["accounts"][0]["api_keys"][0]["role"] = "admin"
    with pytest.raises(
        ValueError, match=r"api key k-catoiac: role must be one of editor, viewer, got 'admin'"
    ):
        seed(store, fixture)
    assert store.identity_for_key(KEY) is None  # the seed rolled back whole


def test_a_database_file_from_before_key_roles_gets_the_role_column_with_editor_keys(tmp_path):
    path = tmp_path / "old.db"
    old = sqlite3.connect(path)
    old.execute("CREATE TABLE api_keys(key_hash TEXT PRIMARY KEY, account_id TEXT NOT NULL, id TEXT NOT NULL,"
                " name TEXT NOT NULL)")  # fmt: skip
    from catoiac.emulator.store import hash_key

    old.execute("INSERT INTO api_keys VALUES(?, '1001', 'k1', 'old key')", (hash_key("old-key"),))
    old.commit()
    old.close()
    store = Store(str(path))
    identity = store.identity_for_key("old-key")
    assert (identity.id, identity.role, identity.read_only) == ("k1", "editor", False)
    store.close()


def test_introspection_answers_the_served_schema_and_counts_under_the_rate_limit(emulator_factory):
    emu = emulator_factory(rate_limits=RateLimitConfig(limits={**DEFAULT_LIMITS, "__schema": 2}))
    query = get_introspection_query(descriptions=False, input_value_deprecation=True)
    first = post(emu.url, KEY, query)
    live = build_client_schema(first["data"])
    assert print_schema(lexicographic_sort_schema(live)) == print_schema(
        lexicographic_sort_schema(emulator_schema())
    )
    # Deprecated arguments are visible with includeDeprecated, as the spec has them.
    assert live.query_type.fields["accountSnapshot"].args["id"].deprecation_reason == "by accountID"
    assert post(emu.url, KEY, '{ __type(name: "Query") { name } }')["data"]["__type"]["name"] == "Query"
    assert "errors" not in post(emu.url, KEY, query)
    throttled = post(emu.url, KEY, query)
    assert throttled["errors"][0]["message"].startswith("rate limit for operation: __schema")
    assert emu.emulator.calls == {"__schema": 3, "__type": 1}


def coordinates(schema) -> tuple[set[str], dict[str, str]]:
    """Every field, input field, argument and enum value, and the deprecated ones with reasons."""
    present, deprecated = set(), {}
    for t in schema.type_map.values():
        if t.name.startswith("__"):
            continue
        for name, f in (getattr(t, "fields", None) or {}).items():
            present.add(f"{t.name}.{name}")
            if f.deprecation_reason:
                deprecated[f"{t.name}.{name}"] = f.deprecation_reason
            for arg, a in getattr(f, "args", {}).items():
                present.add(f"{t.name}.{name}({arg}:)")
                if a.deprecation_reason:
                    deprecated[f"{t.name}.{name}({arg}:)"] = a.deprecation_reason
        for name, v in (getattr(t, "values", None) or {}).items():
            present.add(f"{t.name}.{name}")
            if v.deprecation_reason:
                deprecated[f"{t.name}.{name}"] = v.deprecation_reason
    return present, deprecated


@pytest.mark.parametrize("name", ["future", "future-deprecations"])
def test_a_schema_variant_differs_from_the_subset_exactly_by_the_spec(name):
    spec = schema_gen.load_variants()[name]
    base_present, base_deprecated = coordinates(subset_schema())
    present, deprecated = coordinates(schema_gen.variant_schema(name))
    assert base_present - present == set(spec.get("remove") or [])
    assert present <= base_present
    assert {k: v for k, v in deprecated.items() if base_deprecated.get(k) != v} == spec["deprecate"]


def test_a_variant_naming_something_the_subset_lacks_is_refused_by_name():
    sdl = schema_gen.SCHEMA_PATH.read_text()
    with pytest.raises(
        ValueError, match=r"not in the emulator's schema: AccountSnapshot\.nope, Query\.site\(x:\)"
    ):
        schema_gen.variant_sdl(
            sdl, {"remove": ["AccountSnapshot.nope"], "deprecate": {"Query.site(x:)": "r"}}
        )
    with pytest.raises(ValueError, match="is not Type.field"):
        schema_gen.variant_sdl(sdl, {"remove": ["AccountSnapshot"]})


def test_serve_refuses_an_unknown_schema_variant_listing_the_known_ones():
    result = CliRunner().invoke(main, ["emulator", "serve", "--port", "0", "--schema-variant", "nope"])
    assert result.exit_code == 2
    assert "unknown schema variant 'nope'" in result.output and "future" in result.output


def test_the_future_variant_is_served_over_http_and_rejects_what_it_removed():
    with EmulatorServer(seed=base_fixture(), schema_variant="future") as emu:
        gone = post(
            emu.url, KEY, "query($a: ID) { accountSnapshot(accountID: $a) { id timestamp } }", {"a": ACCOUNT}
        )
        assert gone["errors"][0]["message"] == "Cannot query field 'timestamp' on type 'AccountSnapshot'."
        kept = post(emu.url, KEY, "query($a: ID) { accountSnapshot(accountID: $a) { id } }", {"a": ACCOUNT})
        assert kept == {"data": {"accountSnapshot": {"id": ACCOUNT}}}


def test_the_date_header_is_the_emulator_clock_once(emulator_factory):
    emu = emulator_factory()
    emu_ctl = httpx.post(emu.base_url + "/_emulator/clock", json={"advance": 3600})
    assert emu_ctl.status_code == 200
    r = httpx.post(emu.url, json={"query": "{ __typename }"})
    dates = r.headers.get_list("date")
    assert len(dates) == 1
    assert abs(parsedate_to_datetime(dates[0]).timestamp() - (time.time() + 3600)) < 3
