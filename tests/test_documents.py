"""Every GraphQL document the client ships is valid against the real Cato schema and not deprecated."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import OperationDefinitionNode, parse, validate

from catoiac.documents import DocumentError, DocumentStore, document_problems
from catoiac.errors import UnknownOperationError

PACKAGE_DOCS = Path(__file__).resolve().parents[1] / "catoiac" / "graphql"
DOC_FILES = sorted(PACKAGE_DOCS.glob("*.graphql"))


def test_the_package_ships_graphql_documents():
    assert DOC_FILES, f"no .graphql documents found in {PACKAGE_DOCS}"


@pytest.mark.parametrize("path", DOC_FILES, ids=lambda p: p.name)
def test_document_validates_against_the_real_schema_without_deprecated_usage(path, real_schema):
    assert document_problems(real_schema, path.read_text(encoding="utf-8"), source=path.name) == []


def test_store_indexes_every_operation_in_every_file_by_a_unique_name():
    store = DocumentStore.from_package()
    names_in_files = [
        d.name.value
        for path in DOC_FILES
        for d in parse(path.read_text(encoding="utf-8")).definitions
        if isinstance(d, OperationDefinitionNode)
    ]
    assert len(names_in_files) == len(set(names_in_files)), "operation names must be unique"
    assert sorted(names_in_files) == store.names()


@pytest.mark.parametrize("path", DOC_FILES, ids=lambda p: p.name)
def test_every_stored_operation_text_is_self_contained_and_valid(path, real_schema):
    """What is sent (the operation plus the fragments it uses) validates on its own."""
    store = DocumentStore.from_package()
    for definition in parse(path.read_text(encoding="utf-8")).definitions:
        if isinstance(definition, OperationDefinitionNode):
            op = store.get(definition.name.value)
            # validate() only: printing drops comments, so deprecation waivers are checked on the file.
            assert [e.message for e in validate(real_schema, parse(op.text))] == [], op.name


def test_client_documents_expose_type_root_path_and_rate_key():
    store = DocumentStore.from_package()
    lookup = store.get("EntityLookup")
    assert (lookup.type, lookup.root_path, lookup.rate_key, lookup.account_variable) == (
        "query",
        ("entityLookup",),
        "entityLookup",
        "accountID",
    )
    assert store.get("AccountSnapshot").rate_key == "accountSnapshot"
    assert store.get("AuditFeed").rate_key == "auditFeed"


def test_namespaced_mutation_is_keyed_by_its_leaf_field():
    store = DocumentStore(
        {
            "x.graphql": """
            mutation Publish($accountId: ID!) {
              policy(accountId: $accountId) {
                internetFirewall { publishPolicyRevision { status errors { errorCode errorMessage } } }
              }
            }
            mutation AddSite($accountId: ID!, $input: AddSocketSiteInput!) {
              site(accountId: $accountId) { addSocketSite(input: $input) { siteId } }
            }"""
        }
    )
    publish = store.get("Publish")
    assert publish.root_path == ("policy", "internetFirewall", "publishPolicyRevision")
    assert publish.rate_key == "publishPolicyRevision"
    assert store.get("AddSite").rate_key == "addSocketSite"


def test_store_refuses_duplicate_and_anonymous_operations_and_unknown_names():
    with pytest.raises(DocumentError, match="defined in both"):
        DocumentStore({"a.graphql": "query Q { a }", "b.graphql": "query Q { b }"})
    with pytest.raises(DocumentError, match="named"):
        DocumentStore({"a.graphql": "{ a }"})
    with pytest.raises(UnknownOperationError, match="NoSuchOperation"):
        DocumentStore.from_package().get("NoSuchOperation")


# The checker itself must fail bad documents, or the tests above prove nothing.


def test_checker_rejects_the_deprecated_sites_namespace(real_schema):
    bad = """mutation RemoveSite($accountId: ID!, $siteId: ID!) {
  sites(accountId: $accountId) { removeSite(siteId: $siteId) { siteId } }
}"""
    problems = document_problems(real_schema, bad)
    assert any("Mutation.sites is deprecated" in p for p in problems), problems


def test_checker_rejects_deprecated_arguments_and_nested_fields(real_schema):
    bad = """query Snap($id: ID) {
  accountSnapshot(id: $id) { id sites { devices { interfaces { type } } } }
}"""
    problems = document_problems(real_schema, bad)
    assert len(problems) == 2, problems
    assert "argument id is deprecated" in problems[0]
    assert "InterfaceSnapshot.type is deprecated" in problems[1]


def test_checker_accepts_a_deprecated_use_waived_on_the_line_above(real_schema):
    waived = """query Snap($id: ID) {
  # deprecated-ok: exercising the waiver
  accountSnapshot(id: $id) { id }
}"""
    assert document_problems(real_schema, waived) == []
    no_reason = waived.replace("exercising the waiver", "")
    assert document_problems(real_schema, no_reason) != []


def test_checker_rejects_unknown_fields_and_syntax_errors(real_schema):
    assert "Cannot query field" in document_problems(real_schema, "query Q { nope }")[0]
    assert document_problems(real_schema, "query Q {")


def test_namespaced_mutations_are_paced_under_their_own_cato_operation_name():
    store = DocumentStore.from_package()
    # `internetFirewall(input: {revision})` is a namespace too: the publish must be counted as
    # publishPolicyRevision (3/min at Cato), not as one shared `internetFirewall` bucket.
    assert store.get("InternetFirewallPublishRevision").rate_key == "publishPolicyRevision"
    assert store.get("WanFirewallAddRule").rate_key == "addRule"
    assert store.get("AddSocketSite").rate_key == "addSocketSite"
    assert store.get("EntityLookup").rate_key == "entityLookup"
