"""Schema drift: what catoiac's documents use, compared with a live schema (pure comparison; the
end-to-end version over HTTP is in test_doctor.py)."""

from __future__ import annotations

import copy
import json

import pytest
from graphql import build_schema, introspection_from_schema

from catoiac.doctor import schema_drift
from catoiac.doctor.schema_drift import (
    NotASchemaError,
    compare,
    compare_introspection,
    date_of,
    replacement_of,
)
from catoiac.documents import package_sources
from catoiac.schema import subset_schema

BUNDLED = """
type Query { thing(id: ID!, mode: Mode): Thing  things(filter: ThingFilter): [Thing!] }
type Mutation { addThing(input: AddThingInput!): Thing }
type Thing { id: ID! name: String size: Int }
enum Mode { FAST SLOW }
input ThingFilter { name: String }
input AddThingInput {
  name: String!
  color: Color
  tags: [String!]
  legacy: String @deprecated(reason: "by name")
}
enum Color { RED GREEN }
"""
DOCS = {
    "things.graphql": """query Thing($id: ID!) {
  thing(id: $id, mode: FAST) { id name ...Extra }
}
fragment Extra on Thing {
  size
}
mutation AddThing($input: AddThingInput!) { addThing(input: $input) { id } }
query Things { things(filter: { name: "x" }) { id } }
"""
}


def drift(live_sdl: str, docs: dict[str, str] = DOCS):
    return compare(build_schema(live_sdl), docs, build_schema(BUNDLED))


def found(result) -> set[tuple[str, str, str, str]]:
    return {(f.severity, f.problem, f.kind, f.coordinate) for f in result.findings}


def edit(*pairs: tuple[str, str]) -> str:
    sdl = BUNDLED
    for old, new in pairs:
        assert old in sdl, old
        sdl = sdl.replace(old, new)
    return sdl


def test_an_unchanged_schema_has_no_findings_but_the_known_deprecation():
    result = drift(BUNDLED)
    assert found(result) == {("info", "deprecated", "input field", "AddThingInput.legacy")}
    assert (result.operations, result.documents) == (3, 1)
    # ID String Thing AddThingInput Color, Query.thing(id: mode:) things(filter:) Mutation.addThing(input:),
    # Thing.id name size, Mode.FAST, ThingFilter.name, AddThingInput.name color tags legacy, Color.RED GREEN
    assert result.coordinates == 23


def test_a_field_removed_from_a_fragment_is_an_error_located_in_the_fragment():
    result = drift(edit(("name: String size: Int }", "name: String }")))
    (f,) = [f for f in result.findings if f.severity == "error"]
    assert (f.problem, f.kind, f.coordinate) == ("removed", "field", "Thing.size")
    assert f.used_by == ["Thing (things.graphql:5)"]


def test_a_removed_argument_and_a_removed_literal_enum_value_are_errors():
    assert ("error", "removed", "argument", "Query.thing(mode:)") in found(
        drift(edit(("thing(id: ID!, mode: Mode)", "thing(id: ID!)")))
    )
    assert ("error", "removed", "enum value", "Mode.FAST") in found(drift(edit(("enum Mode { FAST SLOW }", "enum Mode { SLOW }"))))  # fmt: skip


def test_a_removed_literal_input_field_is_an_error():
    result = drift(edit(("input ThingFilter { name: String }", "input ThingFilter { label: String }")))
    assert ("error", "removed", "input field", "ThingFilter.name") in found(result)


def test_a_renamed_variable_type_is_a_removed_type_for_the_document_and_for_what_is_sent():
    result = drift(edit(("addThing(input: AddThingInput!)", "addThing(input: NewThingInput!)"),
                        ("input AddThingInput {", "input NewThingInput {")))  # fmt: skip
    (f,) = [f for f in result.findings if f.coordinate == "AddThingInput"]
    assert (f.severity, f.problem, f.kind) == ("error", "removed", "type")
    assert f.used_by == ["AddThing (things.graphql:7)", "AddThing ($input)"]


def test_what_catoiac_may_send_in_a_variable_is_checked_field_by_field():
    result = drift(edit(
        ("enum Color { RED GREEN }", "enum Color { RED }"),
        ("tags: [String!]", "tags: [Int!]\n  owner: String!"),
        ("legacy: String @deprecated(reason: \"by name\")", ""),
        ("color: Color", "color: Color @deprecated(reason: \"Use palette instead. Removal on 2027-02-01\")"),
    ))  # fmt: skip
    assert found(result) == {
        ("error", "removed", "enum value", "Color.GREEN"),
        ("error", "incompatible", "input field", "AddThingInput.tags"),
        ("error", "now required", "input field", "AddThingInput.owner"),
        ("error", "removed", "input field", "AddThingInput.legacy"),  # deprecated or not, catoiac may send it
        ("warning", "deprecated", "input field", "AddThingInput.color"),
    }
    by = {f.coordinate: f for f in result.findings}
    assert by["AddThingInput.tags"].reason == "now [Int!]; catoiac sends [String!]"
    color = by["AddThingInput.color"]
    assert (color.replacement, color.date, color.used_by) == ("palette", "2027-02-01", ["AddThing ($input)"])


def test_a_relaxed_input_type_is_not_drift():
    result = drift(
        edit(("name: String!\n  color", "name: String\n  color"), ("tags: [String!]", "tags: [String]"))
    )
    assert [f for f in result.findings if f.severity != "info"] == []


def test_a_new_required_argument_and_a_retyped_argument_are_incompatible_documents():
    result = drift(edit(("thing(id: ID!, mode: Mode)", "thing(id: Int!, mode: Mode, scope: String!)")))
    messages = sorted(f.reason for f in result.findings if f.problem == "incompatible")
    assert messages == [
        "Field 'thing' argument 'scope' of type 'String!' is required, but it was not provided.",
        "Variable '$id' of type 'ID!' used in position expecting type 'Int!'.",
    ]
    assert all(
        f.coordinate == "Thing" and f.kind == "document"
        for f in result.findings
        if f.problem == "incompatible"
    )


def test_a_missing_mutation_root_is_a_removed_type():
    result = drift(edit(("type Mutation { addThing(input: AddThingInput!): Thing }", "")))
    assert ("error", "removed", "type", "Mutation") in found(result)


def test_a_deprecated_field_is_a_warning_with_its_reason_replacement_and_date_unless_waived():
    live = edit(
        (
            "name: String size",
            'name: String @deprecated(reason: "Use `label` instead; removal 2027-03-01") size',
        )
    )
    (f,) = [f for f in drift(live).findings if f.coordinate == "Thing.name"]
    assert (f.severity, f.problem, f.replacement, f.date) == ("warning", "deprecated", "label", "2027-03-01")
    assert f.used_by == ["Thing (things.graphql:2)"]

    waived = {"things.graphql": DOCS["things.graphql"].replace(
        "  thing(id: $id, mode: FAST) { id name ...Extra }",
        "  # deprecated-ok: moving to label in the next release\n  thing(id: $id, mode: FAST) { id name ...Extra }",
    )}  # fmt: skip
    (f,) = [f for f in drift(live, waived).findings if f.coordinate == "Thing.name"]
    assert (f.severity, f.waived) == ("info", "moving to label in the next release")


def test_a_new_document_is_covered_without_registering_it():
    docs = {**DOCS, "new.graphql": "query Sizes { things { size name } }"}
    result = drift(edit(("name: String size: Int }", "name: String }")), docs)
    (f,) = [f for f in result.findings if f.coordinate == "Thing.size"]
    assert f.used_by == ["Thing (things.graphql:5)", "Sizes (new.graphql:1)"]
    assert result.operations == 4


@pytest.mark.parametrize(
    "reason, replacement, date",
    [
        ("by accountID", "accountID", None),
        ("Use ipAddress instead", "ipAddress", None),
        ("Replaced by `site.bgpPeer`. Will be removed on 2026-12-31.", "site.bgpPeer", "2026-12-31"),
        ("no longer supported", None, None),
    ],
)
def test_the_replacement_and_date_are_read_from_a_deprecation_reason(reason, replacement, date):
    assert (replacement_of(reason), date_of(reason)) == (replacement, date)


def test_catoiacs_documents_have_no_drift_against_the_real_cato_schema_or_the_subset(real_schema):
    for live in (real_schema, subset_schema()):
        result = compare(live)
        assert [f for f in result.findings if f.severity != "info"] == []
        assert result.documents == len(package_sources())
        assert result.coordinates > 1000  # every type, field, argument, input field and enum value


def test_an_answer_is_compared_once_and_a_changed_answer_is_compared_again(tmp_path, monkeypatch):
    """The comparison (about a second of CPU) is cached by content: the same introspection answer is
    not compared again by a later run; a changed one is, and its new finding is there."""
    monkeypatch.setenv("CATOIAC_CACHE_DIR", str(tmp_path))
    calls: list[int] = []
    real = schema_drift.compare
    monkeypatch.setattr(schema_drift, "compare", lambda *a, **k: calls.append(1) or real(*a, **k))
    answer = introspection_from_schema(subset_schema())
    first = compare_introspection(answer)
    assert compare_introspection(json.loads(json.dumps(answer))) == first  # as a second run reads it
    assert len(calls) == 1 and first.operations > 200

    changed = copy.deepcopy(answer)
    query = next(t for t in changed["__schema"]["types"] if t["name"] == "Query")
    field = next(f for f in query["fields"] if f["name"] == "accountSnapshot")
    field.update(isDeprecated=True, deprecationReason="Use snapshot2 instead")
    result = compare_introspection(changed)
    assert len(calls) == 2
    assert ("warning", "deprecated", "field", "Query.accountSnapshot") in found(result)
    assert ("warning", "deprecated", "field", "Query.accountSnapshot") not in found(first)

    with pytest.raises(NotASchemaError):
        compare_introspection({"__schema": {"types": []}})
    assert len(calls) == 2 and len(list(tmp_path.glob("schema-drift-*.json"))) == 2  # nothing cached
