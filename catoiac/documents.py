"""GraphQL documents shipped in ``catoiac/graphql/*.graphql``, indexed by operation name.

Documents are plain files so they can be validated against the real Cato schema in tests and reviewed
as GraphQL; code calls them by operation name only.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from functools import cached_property
from importlib import resources
from typing import TYPE_CHECKING, Literal

from catoiac import schema as schema_module
from catoiac.derived_cache import cached_json, digest_of_file
from catoiac.errors import UnknownOperationError
from catoiac.ratelimit import PER_POLICY_LIMITS
from catoiac.schema import SUBSET_PATH, subset_schema
from catoiac.schema import is_namespace as is_namespace_type
from catoiac.secrets import is_secret_field

# graphql-core is imported where documents are parsed: building the index (once, then it comes from
# the derived cache) and checking them. A client that finds its index cached never loads graphql.
if TYPE_CHECKING:
    from graphql import (
        FieldNode,
        FragmentDefinitionNode,
        GraphQLSchema,
        OperationDefinitionNode,
        SelectionSetNode,
    )

# Arguments that mark a field as a namespace (e.g. ``site(accountId:)``, ``policy(accountId:)``) rather
# than the operation itself; descending through them finds the leaf mutation.
_NAMESPACE_ARGS = {"accountId", "accountID"}
ACCOUNT_VARIABLES = ("accountId", "accountID")
DEPRECATED_OK = "# deprecated-ok:"


class DocumentError(ValueError):
    """A packaged GraphQL document is malformed or clashes with another."""


@dataclass(frozen=True)
class Operation:
    name: str
    type: Literal["query", "mutation", "subscription"]
    text: str
    """The operation plus every fragment it uses: what is sent as ``query``."""
    root_path: tuple[str, ...]
    """Path from the root field down through namespace fields to the operation's leaf field."""
    root_fields: tuple[str, ...]
    """Names of all top-level fields (usually one)."""
    variables: tuple[str, ...]
    source: str

    @property
    def root_field(self) -> str:
        return self.root_path[0]

    @property
    def leaf_field(self) -> str:
        return self.root_path[-1]

    @property
    def rate_key(self) -> str:
        """The name Cato's per-operation rate limits are counted under."""
        # Cato counts queries by root field and namespaced mutations by the mutation itself.
        return self.leaf_field if self.type == "mutation" else self.root_field

    @property
    def rate_bucket(self) -> str:
        """What Cato counts the limit in: the operation, or for limits Cato counts per policy
        (publishPolicyRevision: KB 5119033786653) the policy and the operation."""
        if self.rate_key in PER_POLICY_LIMITS and len(self.root_path) >= 3 and self.root_path[0] == "policy":
            return f"{self.root_path[1]}.{self.rate_key}"
        return self.rate_key

    @cached_property
    def carries_secrets(self) -> bool:
        """Whether the operation sends or reads a secret field (md5AuthKey, psk...)."""
        return any(is_secret_field(word) for word in set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", self.text)))

    @property
    def account_variable(self) -> str | None:
        return next((v for v in ACCOUNT_VARIABLES if v in self.variables), None)


def _fields(selection_set: SelectionSetNode | None) -> list[FieldNode]:
    from graphql import FieldNode

    if selection_set is None:
        return []
    return [s for s in selection_set.selections if isinstance(s, FieldNode) and s.name.value != "__typename"]


def _root_path(op: OperationDefinitionNode) -> tuple[str, ...]:
    """Root field, then down through namespace fields (``policy { internetFirewall(input) { ... } }``)
    to the operation's leaf field. Namespaces are recognised by their type in the schema subset;
    a field outside it counts as a namespace when it only takes the account id and has one child."""
    from graphql import GraphQLObjectType, OperationType, get_named_type

    roots = _fields(op.selection_set)
    if not roots:
        raise DocumentError(f"operation {op.name.value if op.name else '?'} selects no root field")
    schema = subset_schema()
    parent = schema.mutation_type if op.operation == OperationType.MUTATION else schema.query_type
    path = [roots[0].name.value]
    node = roots[0]
    while True:
        children = _fields(node.selection_set)
        field = parent.fields.get(node.name.value) if parent is not None else None
        child_type = get_named_type(field.type) if field is not None else None
        if field is not None:
            is_namespace = isinstance(child_type, GraphQLObjectType) and is_namespace_type(child_type.name)
        else:
            args = {a.name.value for a in node.arguments or ()}
            is_namespace = (
                args <= _NAMESPACE_ARGS and children[:1] != [] and children[0].selection_set is not None
            )
        if not is_namespace or len(children) != 1:
            break
        parent = child_type if isinstance(child_type, GraphQLObjectType) else None
        node = children[0]
        path.append(node.name.value)
    return tuple(path)


def _spreads(node) -> list[str]:
    """Names of the fragments ``node`` spreads, in order."""
    from graphql import FragmentSpreadNode, Visitor, visit

    class _SpreadCollector(Visitor):
        def __init__(self) -> None:
            super().__init__()
            self.names: list[str] = []

        def enter_fragment_spread(self, spread: FragmentSpreadNode, *_args) -> None:
            self.names.append(spread.name.value)

    collector = _SpreadCollector()
    visit(node, collector)
    return collector.names


def _used_fragments(node, fragments: Mapping[str, FragmentDefinitionNode]) -> list[str]:
    """Names of fragments used by ``node``, transitively, in first-use order."""
    seen: list[str] = []
    pending = [node]
    while pending:
        for name in _spreads(pending.pop()):
            if name not in seen:
                if name not in fragments:
                    raise DocumentError(f"unknown fragment {name!r}")
                seen.append(name)
                pending.append(fragments[name])
    return seen


def _index(sources: Mapping[str, str]) -> dict[str, Operation]:
    """Every named operation of ``sources``, checked: names unique, fragments known and unique."""
    from graphql import FragmentDefinitionNode, GraphQLError, OperationDefinitionNode, parse, print_ast
    from graphql.language import DocumentNode

    operations: dict[str, Operation] = {}
    parsed: dict[str, DocumentNode] = {}
    fragments: dict[str, FragmentDefinitionNode] = {}
    fragment_source: dict[str, str] = {}
    for source_name, text in sources.items():
        try:
            doc = parse(text)
        except GraphQLError as exc:
            raise DocumentError(f"{source_name}: {exc.message}") from exc
        parsed[source_name] = doc
        for definition in doc.definitions:
            if isinstance(definition, FragmentDefinitionNode):
                name = definition.name.value
                if name in fragments:
                    raise DocumentError(
                        f"fragment {name!r} is defined in both {fragment_source[name]} and {source_name}"
                    )
                fragments[name] = definition
                fragment_source[name] = source_name
    for source_name, doc in parsed.items():
        for definition in doc.definitions:
            if not isinstance(definition, OperationDefinitionNode):
                continue
            if definition.name is None:
                raise DocumentError(f"{source_name}: every operation must be named")
            name = definition.name.value
            if name in operations:
                raise DocumentError(
                    f"operation {name!r} is defined in both {operations[name].source} and {source_name}"
                )
            parts = [print_ast(definition)]
            parts += [print_ast(fragments[f]) for f in _used_fragments(definition, fragments)]
            operations[name] = Operation(
                name=name,
                type=definition.operation.value,
                text="\n\n".join(parts),
                root_path=_root_path(definition),
                root_fields=tuple(f.name.value for f in _fields(definition.selection_set)),
                variables=tuple(v.variable.name.value for v in definition.variable_definitions or ()),
                source=source_name,
            )
    return operations


class DocumentStore:
    """All named operations from a set of GraphQL sources, by operation name.

    Parsing the documents and walking their root paths costs about 0.4 s of CPU, in every process
    that makes a client; the index is kept in the derived cache (``catoiac.derived_cache``), keyed by
    the sources, this module and the schema subset. Only sources that indexed cleanly are cached, so
    every check of ``_index`` still runs on sources it has not seen."""

    def __init__(self, sources: Mapping[str, str]) -> None:
        key = [digest_of_file(__file__), digest_of_file(SUBSET_PATH), digest_of_file(schema_module.__file__)]
        for source_name, text in sources.items():
            key += [source_name, text]
        index = cached_json("documents", key, lambda: [asdict(op) for op in _index(sources).values()])
        self._operations = {
            op["name"]: Operation(
                **{**op, **{k: tuple(op[k]) for k in ("root_path", "root_fields", "variables")}}
            )
            for op in index
        }

    @classmethod
    def from_package(cls, package: str = "catoiac", folder: str = "graphql") -> DocumentStore:
        """Load every ``*.graphql`` file shipped in ``package/folder``."""
        return cls(package_sources(package, folder))

    def get(self, name: str) -> Operation:
        try:
            return self._operations[name]
        except KeyError:
            raise UnknownOperationError(
                f"No GraphQL operation named {name!r}; known: {', '.join(sorted(self._operations)) or 'none'}"
            ) from None

    __getitem__ = get

    def __contains__(self, name: object) -> bool:
        return name in self._operations

    def __iter__(self) -> Iterator[Operation]:
        return iter(self._operations.values())

    def __len__(self) -> int:
        return len(self._operations)

    def names(self) -> list[str]:
        return sorted(self._operations)


def package_sources(package: str = "catoiac", folder: str = "graphql") -> dict[str, str]:
    """File name -> text of every ``*.graphql`` file shipped in ``package/folder``."""
    root = resources.files(package).joinpath(folder)
    return {
        entry.name: entry.read_text(encoding="utf-8")
        for entry in sorted(root.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".graphql") and entry.is_file()
    }


def _waived(lines: list[str], line: int) -> bool:
    """True if the line above 1-based ``line`` is ``# deprecated-ok: <reason>``."""
    above = lines[line - 2].strip() if line >= 2 else ""
    return above.startswith(DEPRECATED_OK) and bool(above[len(DEPRECATED_OK) :].strip())


def document_problems(schema: GraphQLSchema, text: str, *, source: str = "<document>") -> list[str]:
    """Why ``text`` should not ship: parse or validation errors against ``schema``, and every use of a
    deprecated field, argument, enum value or input field not waived by ``# deprecated-ok: <why>`` on
    the line above it."""
    from graphql import GraphQLError, parse, validate, visit
    from graphql.language import Visitor
    from graphql.utilities import TypeInfo, TypeInfoVisitor

    try:
        doc = parse(text)
    except GraphQLError as exc:
        return [f"{source}: {exc.message}"]
    problems = [f"{source}: {err.message}" for err in validate(schema, doc)]
    if problems:
        return problems
    lines = text.splitlines()
    type_info = TypeInfo(schema)

    def report(kind: str, name: str, reason: str | None, node) -> None:
        line = node.loc.source.get_location(node.loc.start).line if node.loc else 0
        if reason is not None and not _waived(lines, line):
            problems.append(f"{source}:{line}: {kind} {name} is deprecated ({reason})")

    class _Deprecations(Visitor):
        def enter_field(self, node, *_):
            field = type_info.get_field_def()
            parent = type_info.get_parent_type()
            if field is not None:
                report("field", f"{parent}.{node.name.value}", field.deprecation_reason, node)

        def enter_argument(self, node, *_):
            arg = type_info.get_argument()
            if arg is not None:
                report("argument", node.name.value, arg.deprecation_reason, node)

        def enter_enum_value(self, node, *_):
            value = type_info.get_enum_value()
            if value is not None:
                report("enum value", node.value, value.deprecation_reason, node)

        def enter_object_field(self, node, *_):
            parent = type_info.get_parent_input_type()
            field = getattr(parent, "fields", {}).get(node.name.value)
            if field is not None:
                report("input field", f"{parent}.{node.name.value}", field.deprecation_reason, node)

    visit(doc, TypeInfoVisitor(type_info, _Deprecations()))
    return problems
