"""The emulator's schema is a strict subset of Cato's, and real-world documents run on it."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    build_schema,
    parse,
    validate,
)

from catoiac.emulator import schema_gen
from catoiac.emulator.app import emulator_schema

DOCS = Path(__file__).parent / "documents"
PACKAGE_DOCS = Path(__file__).resolve().parents[1] / "catoiac" / "graphql"


def subset_violations(sub: GraphQLSchema, real: GraphQLSchema) -> list[str]:
    """Everything ``sub`` declares that ``real`` lacks or types differently."""
    out: list[str] = []
    for name, t in sub.type_map.items():
        if name.startswith("__"):
            continue
        r = real.type_map.get(name)
        if r is None:
            out.append(f"type {name} is not in the real schema")
            continue
        if type(r) is not type(t):
            out.append(f"type {name} is a {type(t).__name__} here but a {type(r).__name__} in Cato's")
            continue
        if isinstance(t, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType):
            for fname, f in t.fields.items():
                rf = r.fields.get(fname)
                if rf is None:
                    out.append(f"{name}.{fname} is not in the real schema")
                    continue
                if str(f.type) != str(rf.type):
                    out.append(f"{name}.{fname} is {f.type} here but {rf.type} in Cato's")
                for aname, a in getattr(f, "args", {}).items():
                    ra = rf.args.get(aname)
                    if ra is None:
                        out.append(f"{name}.{fname}({aname}) is not in the real schema")
                    elif str(a.type) != str(ra.type):
                        out.append(f"{name}.{fname}({aname}) is {a.type} here but {ra.type} in Cato's")
        elif isinstance(t, GraphQLEnumType):
            out += [f"{name}.{v} is not in the real enum" for v in t.values if v not in r.values]
        elif isinstance(t, GraphQLUnionType):
            real_members = {m.name for m in r.types}
            out += [
                f"union {name} member {m.name} is not in Cato's"
                for m in t.types
                if m.name not in real_members
            ]
    return out


def test_emulator_schema_is_a_strict_subset_of_the_real_cato_schema(real_schema):
    sub = emulator_schema()
    assert subset_violations(sub, real_schema) == []
    # Strict: the emulator serves less than Cato does.
    assert len(sub.type_map) < len(real_schema.type_map)
    assert set(sub.query_type.fields) < set(real_schema.query_type.fields)


def test_subset_check_catches_extra_fields_wrong_types_and_unknown_enum_values(real_schema):
    bad = build_schema(
        """
        type Query { accountSnapshot(accountID: Int): AccountSnapshot madeUp: String }
        type AccountSnapshot { id: ID timestamp: Int notInCato: String }
        enum ConnectivityStatus { connected sleeping }
        """
    )
    problems = "\n".join(subset_violations(bad, real_schema))
    assert "Query.madeUp is not in the real schema" in problems
    assert "Query.accountSnapshot(accountID) is Int here but ID in Cato's" in problems
    assert "AccountSnapshot.timestamp is Int here but DateTime in Cato's" in problems
    assert "AccountSnapshot.notInCato is not in the real schema" in problems
    assert "ConnectivityStatus.sleeping is not in the real enum" in problems


def test_committed_emulator_schema_matches_what_the_spec_generates(real_schema_path):
    committed = schema_gen.SCHEMA_PATH.read_text()
    assert committed == schema_gen.generate(real_schema_path.read_text()), (
        "emulator.graphqls is stale: run `catoiac emulator gen-schema`"
    )


def test_emulator_schema_uses_the_site_namespace_not_the_deprecated_sites():
    schema = emulator_schema()
    assert "site" in schema.mutation_type.fields
    assert "sites" not in schema.mutation_type.fields


@pytest.mark.parametrize("doc", sorted(p.name for p in DOCS.glob("*.graphql")))
def test_real_world_document_validates_against_both_schemas(doc, real_schema):
    ast = parse((DOCS / doc).read_text())
    assert validate(real_schema, ast) == []
    assert validate(emulator_schema(), ast) == []


def test_every_document_catoiac_sends_is_served_by_the_emulator():
    files = sorted(PACKAGE_DOCS.glob("*.graphql"))
    assert files, "catoiac/graphql has no documents"
    for f in files:
        errors = validate(emulator_schema(), parse(f.read_text()))
        assert errors == [], f"{f.name}: {[e.message for e in errors]}"
