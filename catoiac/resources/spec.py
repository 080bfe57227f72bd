"""What one resource declares: its input schema, operations, id, replace-on fields, read mapping."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..readpath import AccountView

Inputs = dict[str, Any]
# Builds GraphQL variables: (resource id or None, inputs, live view) -> variables.
VariablesFn = Callable[[str | None, Inputs, "AccountView"], dict[str, Any]]


@dataclass(frozen=True)
class Operation:
    """A GraphQL operation (by name, from catoiac/graphql/*.graphql) and how to call it."""

    document: str
    variables: VariablesFn
    id_path: str | None = None  # dotted path to the new id in the reply (create only)


@dataclass(frozen=True)
class ResourceSpec:
    name: str  # Pulumi-facing name, e.g. "SocketSite"
    kind: str  # read-path collection the live object is in, e.g. "sites"
    schema: Mapping[str, Any]  # JSON schema of the inputs (snake_case); "default"s are applied
    create: Operation
    delete: Operation
    update: Operation | None = None  # None: every change replaces
    replace_on: tuple[str, ...] = ()  # top-level inputs Cato cannot change in place
    natural_key: tuple[str, ...] = ("name",)  # how to find the live object without its id
    # Live object (read-path dict) -> inputs, in the same normal form check() produces.
    read: Callable[[Mapping[str, Any], AccountView], Inputs] = lambda live, view: dict(live)
    # Extra Cato rules beyond the schema: inputs -> [(property, reason)].
    rules: tuple[Callable[[Inputs], list[tuple[str, str]]], ...] = ()
    # Inputs -> canonical form used for diffs (both sides go through it).
    normalize: Callable[[Inputs], Inputs] = lambda inputs: inputs
    # Which collections a write to this resource makes stale (default: its own kind).
    invalidates: tuple[str, ...] = field(default=())
    # Parent reference (an input holding the id of the object this one lives in).
    parent_input: str | None = None
    # Props whose change must not use create-before-delete (Cato rejects duplicate names).
    delete_before_replace: bool = True

    @property
    def type_token(self) -> str:
        return f"cato:index:{self.name}"

    @property
    def properties(self) -> Mapping[str, Any]:
        return self.schema.get("properties", {})
