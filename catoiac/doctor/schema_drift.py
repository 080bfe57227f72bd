"""Schema drift: does the live API still serve everything catoiac's GraphQL documents use?

Two kinds of use, both derived from ``catoiac/graphql/*.graphql`` (so a new document is covered as
soon as it is added):

- **written**: what the documents name: types (variables, fragment conditions), fields, arguments,
  input fields and enum values written as literals. Each operation, with the fragments it uses, is
  walked against the live schema, then validated against it for anything else that changed
  (a new required argument, a variable whose position changed type).
- **sent**: the input types of each operation's variables, as the bundled schema subset has them.
  catoiac builds those values from the bundled schema (resource inputs send every field, unset
  ones as null), so any of their input fields or enum values may be sent.

Removed, retyped or newly required: an error (Cato would reject the request). Deprecated: a
warning, with the reason, the replacement and the date when the reason names them; except a
written use waived in its document (``# deprecated-ok: why``) and a sent field or value that was
already deprecated in the bundled schema (known when this catoiac was released), both info.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
    Undefined,
    Visitor,
    get_named_type,
    is_list_type,
    is_non_null_type,
    parse,
    validate,
    visit,
)
from graphql.utilities import TypeInfo, TypeInfoVisitor

from .. import documents
from ..derived_cache import cached_json, digest_of_file
from ..documents import DEPRECATED_OK, _used_fragments, _waived, package_sources
from ..schema import SUBSET_PATH, subset_schema

ERROR, WARNING, INFO = "error", "warning", "info"
_RANK = {INFO: 0, WARNING: 1, ERROR: 2}

# "Use ipAddress instead", "by accountID", "replaced by X", "in favor of X", "migrate to X".
_REPLACEMENT = re.compile(
    r"\b(?:use|by|replaced (?:by|with)|in favou?r of|migrate to)\s+[`'\"]?([A-Za-z_][\w.]*(?:\(\w*:?\))?)",
    re.IGNORECASE,
)
_DATE = re.compile(r"\b(\d{4}-\d{2}-\d{2})\b")


def replacement_of(reason: str | None) -> str | None:
    m = _REPLACEMENT.search(reason or "")
    return m.group(1).rstrip(".") if m else None


def date_of(reason: str | None) -> str | None:
    m = _DATE.search(reason or "")
    return m.group(1) if m else None


@dataclass
class SchemaFinding:
    severity: str  # error | warning | info
    problem: str  # removed | deprecated | incompatible | now required
    kind: str  # type | field | argument | input field | enum value | document
    coordinate: str  # a GraphQL schema coordinate: Type.field, Type.field(arg:), Enum.VALUE
    used_by: list[str] = field(default_factory=list)  # "Operation (file:line)" or "Operation ($var)"
    reason: str | None = None  # the deprecation reason, or what changed
    replacement: str | None = None
    date: str | None = None
    waived: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class SchemaDrift:
    findings: list[SchemaFinding]
    operations: int
    documents: int
    coordinates: int
    """Distinct schema coordinates checked."""

    def count(self, severity: str) -> int:
        return sum(1 for f in self.findings if f.severity == severity)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SchemaDrift:
        findings = [SchemaFinding(**f) for f in data["findings"]]
        return cls(findings, data["operations"], data["documents"], data["coordinates"])

    def to_dict(self) -> dict[str, Any]:
        return {
            "operations": self.operations,
            "documents": self.documents,
            "coordinates": self.coordinates,
            "findings": [f.to_dict() for f in self.findings],
        }


class _Collector:
    """Findings merged by (problem, coordinate): one line per schema element, with all its users."""

    def __init__(self) -> None:
        self.findings: dict[tuple[str, str, str | None], SchemaFinding] = {}
        self.checked: set[str] = set()

    def add(self, severity: str, problem: str, kind: str, coordinate: str, where: str, *,
            reason: str | None = None, waived: str | None = None) -> None:  # fmt: skip
        self.checked.add(coordinate)
        key = (problem, coordinate, reason if kind == "document" else None)  # one per validation error
        found = self.findings.get(key)
        if found is None:
            found = self.findings[key] = SchemaFinding(
                severity, problem, kind, coordinate, reason=reason, waived=waived,
                replacement=replacement_of(reason) if problem == "deprecated" else None,
                date=date_of(reason) if problem == "deprecated" else None,
            )  # fmt: skip
        elif _RANK[severity] > _RANK[found.severity]:
            found.severity, found.waived = severity, waived
        if where not in found.used_by:
            found.used_by.append(where)

    def ok(self, coordinate: str) -> None:
        self.checked.add(coordinate)


def _line(node) -> int:
    return node.loc.source.get_location(node.loc.start).line if node.loc else 0


class _Written(Visitor):
    """What one operation or fragment names, checked against the live schema."""

    def __init__(self, live: GraphQLSchema, info: TypeInfo, acc: _Collector, op: str, source: str,
                 lines: list[str], reported: set[tuple[int, int]]) -> None:  # fmt: skip
        super().__init__()
        self.live, self.info, self.acc = live, info, acc
        self.op, self.source, self.lines, self.reported = op, source, lines, reported
        self.fields: list[str] = []

    def _where(self, node) -> str:
        return f"{self.op} ({self.source}:{_line(node)})"

    def _removed(self, kind: str, coordinate: str, node) -> None:
        self.reported.add((id(node.loc.source), node.loc.start) if node.loc else (0, id(node)))
        self.acc.add(ERROR, "removed", kind, coordinate, self._where(node))

    def _use(self, kind: str, coordinate: str, definition, node) -> None:
        """A use of ``definition`` (None: the live schema lacks it)."""
        if definition is None:
            self._removed(kind, coordinate, node)
            return
        reason = definition.deprecation_reason
        if reason is None:
            self.acc.ok(coordinate)
            return
        line = _line(node)
        waived = (
            self.lines[line - 2].strip()[len(DEPRECATED_OK) :].strip() if _waived(self.lines, line) else None
        )
        self.acc.add(INFO if waived else WARNING, "deprecated", kind, coordinate, self._where(node),
                     reason=reason, waived=waived)  # fmt: skip

    def enter_operation_definition(self, node: OperationDefinitionNode, *_):
        kind = node.operation.value
        root = {"query": self.live.query_type, "mutation": self.live.mutation_type,
                "subscription": self.live.subscription_type}[kind]  # fmt: skip
        if root is None:
            self._removed("type", kind.capitalize(), node)

    def enter_named_type(self, node, *_):
        name = node.name.value
        if name in self.live.type_map:
            self.acc.ok(name)
        else:
            self._removed("type", name, node)

    def enter_field(self, node, *_):
        name = node.name.value
        self.fields.append(name)  # for its arguments
        parent = self.info.get_parent_type()
        if parent is None or name.startswith("__"):
            return  # under something already missing, or introspection
        coordinate = f"{parent.name}.{name}"
        self._use("field", coordinate, self.info.get_field_def(), node)

    def leave_field(self, *_):
        self.fields.pop()

    def enter_argument(self, node, *_):
        fdef, parent = self.info.get_field_def(), self.info.get_parent_type()
        if self.info.get_directive() is not None or fdef is None or parent is None:
            return
        if self.fields[-1].startswith("__"):
            return
        coordinate = f"{parent.name}.{self.fields[-1]}({node.name.value}:)"
        self._use("argument", coordinate, self.info.get_argument(), node)

    def enter_object_field(self, node, *_):
        parent = get_named_type(self.info.get_parent_input_type())
        if not isinstance(parent, GraphQLInputObjectType):
            return
        coordinate = f"{parent.name}.{node.name.value}"
        self._use("input field", coordinate, parent.fields.get(node.name.value), node)

    def enter_enum_value(self, node, *_):
        enum = get_named_type(self.info.get_input_type())
        if not isinstance(enum, GraphQLEnumType):
            return
        coordinate = f"{enum.name}.{node.value}"
        self._use("enum value", coordinate, enum.values.get(node.value), node)


def _accepts(position, value) -> bool:
    """Whether a value valid for type ``value`` (bundled schema) is valid at ``position`` (live)."""
    if is_non_null_type(position):
        return is_non_null_type(value) and _accepts(position.of_type, value.of_type)
    if is_non_null_type(value):
        return _accepts(position, value.of_type)
    if is_list_type(position):  # a single value is coerced to a one-item list
        return _accepts(position.of_type, value.of_type if is_list_type(value) else value)
    return not is_list_type(value) and position.name == value.name


def _sent(live: GraphQLSchema, bundled: GraphQLSchema, op: OperationDefinitionNode, acc: _Collector) -> None:
    """Every input field and enum value catoiac may send in the operation's variables."""
    for vd in op.variable_definitions or ():
        where = f"{op.name.value} (${vd.variable.name.value})"
        start = bundled.get_type(_type_name(vd.type))
        stack, seen = [start] if start is not None else [], set()
        while stack:
            t = stack.pop()
            if t.name in seen:
                continue
            seen.add(t.name)
            lt = live.type_map.get(t.name)
            if lt is None or (
                isinstance(t, GraphQLInputObjectType | GraphQLEnumType) and not isinstance(lt, type(t))
            ):
                acc.add(ERROR, "removed", "type", t.name, where)
                continue
            acc.ok(t.name)
            if isinstance(t, GraphQLInputObjectType):
                for name, f in t.fields.items():
                    stack.append(get_named_type(f.type))
                    lf = lt.fields.get(name)
                    retyped = (
                        f"now {lf.type}; catoiac sends {f.type}"
                        if lf and not _accepts(lf.type, f.type)
                        else None
                    )
                    _sent_member(acc, "input field", f"{t.name}.{name}", f, lf, where, retyped)
                for name, lf in lt.fields.items():
                    if name not in t.fields and is_non_null_type(lf.type) and lf.default_value is Undefined:
                        acc.add(ERROR, "now required", "input field", f"{t.name}.{name}", where,
                                reason=f"new required {lf.type} field that catoiac does not send")  # fmt: skip
            elif isinstance(t, GraphQLEnumType):
                for name, v in t.values.items():
                    _sent_member(acc, "enum value", f"{t.name}.{name}", v, lt.values.get(name), where)


def _sent_member(acc: _Collector, kind: str, coordinate: str, ours, theirs, where: str,
                 retyped: str | None = None) -> None:  # fmt: skip
    """One input field or enum value catoiac may send: ``ours`` (bundled) against ``theirs`` (live)."""
    if theirs is None:
        acc.add(ERROR, "removed", kind, coordinate, where)
    elif retyped:
        acc.add(ERROR, "incompatible", kind, coordinate, where, reason=retyped)
    elif theirs.deprecation_reason is not None:
        known = ours.deprecation_reason is not None
        acc.add(INFO if known else WARNING, "deprecated", kind, coordinate, where, reason=theirs.deprecation_reason,
                waived="already deprecated when this catoiac was released" if known else None)  # fmt: skip
    else:
        acc.ok(coordinate)


def _type_name(node) -> str:
    while not hasattr(node, "name"):
        node = node.type
    return node.name.value


def compare(
    live: GraphQLSchema,
    sources: Mapping[str, str] | None = None,
    bundled: GraphQLSchema | None = None,
) -> SchemaDrift:
    """Everything ``sources`` (default: the packaged documents) use that ``live`` lacks or deprecates."""
    sources = package_sources() if sources is None else sources
    bundled = bundled or subset_schema()
    parsed = {name: parse(text) for name, text in sources.items()}
    lines = {name: text.splitlines() for name, text in sources.items()}
    fragments: dict[str, tuple[FragmentDefinitionNode, str]] = {
        d.name.value: (d, name)
        for name, doc in parsed.items()
        for d in doc.definitions
        if isinstance(d, FragmentDefinitionNode)
    }
    acc = _Collector()
    operations = 0
    for source, doc in parsed.items():
        for op in doc.definitions:
            if not isinstance(op, OperationDefinitionNode) or op.name is None:
                continue
            operations += 1
            name = op.name.value
            used = [fragments[f] for f in _used_fragments(op, {k: v[0] for k, v in fragments.items()})]
            reported: set[tuple[int, int]] = set()
            for node, node_source in [(op, source), *used]:
                info = TypeInfo(live)
                walker = _Written(live, info, acc, name, node_source, lines[node_source], reported)
                visit(node, TypeInfoVisitor(info, walker))
            # Whatever else would make Cato reject the operation, once per cause already named.
            for err in validate(live, DocumentNode(definitions=(op, *(n for n, _ in used)))):
                nodes = err.nodes or []
                if any(n.loc and (id(n.loc.source), n.loc.start) in reported for n in nodes):
                    continue
                line = err.locations[0].line if err.locations else 0
                acc.add(
                    ERROR, "incompatible", "document", name, f"{name} ({source}:{line})", reason=err.message
                )
            _sent(live, bundled, op, acc)
    order = {ERROR: 0, WARNING: 1, INFO: 2}
    findings = sorted(acc.findings.values(), key=lambda f: (order[f.severity], f.coordinate, f.problem))
    return SchemaDrift(findings, operations, len(parsed), len(acc.checked))


class NotASchemaError(ValueError):
    """An introspection answer that does not describe a valid schema."""


def compare_introspection(introspection: Mapping[str, Any]) -> SchemaDrift:
    """``compare`` of the schema an introspection answer describes, with the packaged documents.

    About a second of CPU (a walk and a validation of each of ~200 operations), so it is kept in the
    derived cache, keyed by everything it depends on: the answer, the documents, the bundled subset
    and this module. The same API answering the same schema is then checked in milliseconds by each
    later run. ``NotASchemaError`` when the answer does not describe a schema."""
    from graphql import assert_valid_schema, build_client_schema

    def build() -> dict[str, Any]:
        try:
            live = build_client_schema(introspection)  # type: ignore[arg-type]
            assert_valid_schema(live)  # else validating a document raises, mid-comparison
        except (TypeError, KeyError, ValueError) as e:
            raise NotASchemaError(str(e)) from e
        return compare(live, sources).to_dict()

    sources = package_sources()
    inputs = (
        json.dumps(introspection, sort_keys=True, separators=(",", ":")),
        *(f"{name}\n{text}" for name, text in sources.items()),
        digest_of_file(str(SUBSET_PATH)),
        digest_of_file(__file__),
        digest_of_file(documents.__file__),
    )
    return SchemaDrift.from_dict(cached_json("schema-drift", inputs, build))
