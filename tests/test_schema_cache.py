"""What catoiac derives from its packaged schema subset is never stale and never needed at import:
the generated enum/input-type list is current, the on-disk derived cache gives back exactly what a
fresh build gives, is keyed by content, survives concurrent writers, corrupt entries and an
unwritable folder, and ``import pulumi_cato`` with a warm cache builds no GraphQL schema."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from graphql import GraphQLEnumType, build_schema, introspection_from_schema, print_schema

from catoiac import derived_cache
from catoiac.derived_cache import CACHE_ENV, cached_json, entry_path
from catoiac.resources.enums import enum_values
from catoiac.resources.gql_schema import InputModel
from catoiac.resources.policy import KINDS
from catoiac.schema import NAMES_PATH, render_schema_names, subset_schema, subset_sdl

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "derived"
    monkeypatch.setenv(CACHE_ENV, str(folder))
    subset_schema.cache_clear()
    yield folder
    subset_schema.cache_clear()


def test_the_generated_enum_and_input_type_list_is_what_the_schema_subset_has():
    # Regenerate with `catoiac emulator gen-schema` when this fails.
    schema = build_schema(subset_sdl())
    assert NAMES_PATH.read_text() == render_schema_names(schema)
    dhcp = schema.get_type("DhcpType")
    assert isinstance(dhcp, GraphQLEnumType) and enum_values("DhcpType") == sorted(dhcp.values)
    with pytest.raises(KeyError, match="SiteRefInput is not an enum in the Cato schema subset"):
        enum_values("SiteRefInput")
    with pytest.raises(KeyError, match="DhcpType is not an input object type in the Cato schema subset"):
        InputModel("DhcpType")


def test_a_schema_loaded_from_the_cache_is_the_schema_built_from_the_sdl(cache):
    built = subset_schema()  # a cold cache: built from the SDL (build_schema), and stored
    (entry,) = cache.glob("schema-*.json")
    subset_schema.cache_clear()
    loaded = subset_schema()  # from the entry
    assert loaded is not built and loaded.get_type("SiteType").ast_node is None  # not parsed again
    introspection = introspection_from_schema(loaded)
    assert introspection == json.loads(entry.read_text()) == introspection_from_schema(built)
    assert print_schema(loaded) == print_schema(built)  # descriptions, defaults, deprecations


def test_a_cached_input_schema_is_what_a_fresh_build_gives_for_every_policy_family(cache):
    for kind in KINDS.values():
        fresh = kind.rule._build_schema()
        cached_first = type(kind.rule)(kind.prefix, kind.sub).schema  # builds and stores
        cached_again = type(kind.rule)(kind.prefix, kind.sub).schema  # from the entry
        assert cached_first == fresh and cached_again == fresh
    model = InputModel("AddAdminInput")
    assert InputModel("AddAdminInput").schema == model._object_schema(model.type, ())
    assert len(list(cache.glob("input-schema-*.json"))) == len(KINDS) + 2  # + socketLan's firewall, admin


def test_entries_are_keyed_by_every_input_so_an_edit_is_never_served_stale(cache):
    base = entry_path("schema", ("type Query { a: Int }", "module v1"))
    assert base == entry_path("schema", ("type Query { a: Int }", "module v1"))
    assert base != entry_path("schema", ("type Query { a: String }", "module v1"))  # the SDL changed
    assert base != entry_path("schema", ("type Query { a: Int }", "module v2"))  # the deriving code changed
    assert entry_path("x", ("ab", "c")) != entry_path("x", ("a", "bc"))  # inputs never run together
    assert cached_json("k", ("one",), lambda: {"v": 1}) == {"v": 1}
    assert cached_json("k", ("two",), lambda: {"v": 2}) == {"v": 2}
    assert cached_json("k", ("one",), lambda: pytest.fail("rebuilt a cached entry")) == {"v": 1}


def test_a_corrupt_entry_is_rebuilt_and_a_failed_build_stores_nothing(cache):
    path = entry_path("k", ("x",))
    path.parent.mkdir(parents=True)
    path.write_text('{"half": ')
    assert cached_json("k", ("x",), lambda: {"whole": True}) == {"whole": True}
    assert json.loads(path.read_text()) == {"whole": True}

    def broken():
        raise ValueError("bad SDL")

    with pytest.raises(ValueError, match="bad SDL"):
        cached_json("k", ("y",), broken)
    assert not entry_path("k", ("y",)).exists()
    assert [p.name for p in cache.iterdir()] == [path.name]  # no temporary file left behind


def test_an_unwritable_cache_folder_only_costs_the_rebuild(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv(CACHE_ENV, str(blocker / "derived"))
    calls = []
    for _ in range(2):
        assert cached_json("k", ("x",), lambda: calls.append(1) or {"v": 1}) == {"v": 1}
    assert len(calls) == 2


def test_concurrent_processes_filling_an_empty_cache_all_get_the_schema_and_leave_whole_entries(cache):
    code = (
        "from graphql import introspection_from_schema as i; from catoiac.schema import subset_schema as s; "
        "import hashlib, json; print(hashlib.sha256(json.dumps(i(s()), sort_keys=True).encode()).hexdigest())"
    )
    env = {**os.environ, CACHE_ENV: str(cache)}

    def run(_: int) -> str:
        done = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        return done.stdout.strip()

    with ThreadPoolExecutor(3) as pool:
        digests = set(pool.map(run, range(3)))
    assert len(digests) == 1
    (entry,) = cache.iterdir()  # one entry, no temporary files
    assert entry.name.startswith("schema-") and entry.suffix == ".json"
    assert (
        hashlib.sha256(json.dumps(json.loads(entry.read_text()), sort_keys=True).encode()).hexdigest()
        in digests
    )


def test_importing_pulumi_cato_with_a_warm_cache_builds_no_graphql_schema(cache):
    code = (
        "import pulumi_cato, catoiac.schema as s, catoiac.resources.specs as specs; "
        "print(s.subset_schema.cache_info().misses, len(specs.SPECS))"
    )
    env = {**os.environ, CACHE_ENV: str(cache)}
    cold = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    warm = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert cold.stdout.split()[0] == "1"  # the first process builds (and stores) what specs need
    assert warm.stdout.split() == ["0", cold.stdout.split()[1]]


def test_the_cache_folder_defaults_under_xdg_cache_home(monkeypatch, tmp_path):
    monkeypatch.delenv(CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert derived_cache.cache_dir() == tmp_path / "catoiac" / "derived"


def test_a_document_index_from_the_cache_is_the_fresh_index_and_bad_sources_are_still_refused(cache):
    from catoiac.documents import DocumentError, DocumentStore, _index, package_sources

    sources = package_sources()
    fresh = _index(sources)
    first, again = DocumentStore(sources), DocumentStore(sources)  # builds and stores, then loads
    assert len(list(cache.glob("documents-*.json"))) == 1
    for store in (first, again):
        assert {op.name: op for op in store} == fresh
    assert again.get("AccountSnapshot").carries_secrets == fresh["AccountSnapshot"].carries_secrets
    with pytest.raises(DocumentError, match="defined in both"):
        DocumentStore({**sources, "copy.graphql": sources[next(iter(sources))]})
    assert len(list(cache.glob("documents-*.json"))) == 1  # a refused set is never cached


def test_writing_an_entry_removes_month_old_entries_of_its_kind_only(cache):
    cached_json("k", ("old",), lambda: 1)
    cached_json("other", ("old",), lambda: 1)
    month_ago = time.time() - (derived_cache.KEEP_DAYS + 1) * 86400
    for kind in ("k", "other"):
        os.utime(entry_path(kind, ("old",)), (month_ago, month_ago))
    cached_json("k", ("new",), lambda: 2)
    assert not entry_path("k", ("old",)).exists() and entry_path("k", ("new",)).exists()
    assert entry_path("other", ("old",)).exists()
