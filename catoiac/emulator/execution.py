"""graphql-core's executor with a fast path for plain data.

Most of a large read (1,500 firewall rules, 2,000 ranges) is plain dicts, lists and scalars under
a few resolver calls. graphql-core completes each of their fields in turn with a resolve info, an
argument lookup, an awaitable check and a path: most of the emulator's time on a first answer.
Here an object value that is a plain ``dict`` is completed by a plan compiled once per request
for its type and selection: a lookup per field, a type check per scalar.

The fast path never calls anything the domains wrote (resolvers, lambdas in a dict) and never
reports an error: on anything it does not handle (a callable value, a null in a non-null field,
a value a scalar cannot serialise, an argument, a non-dict object...) it gives up on that object,
and graphql-core completes it exactly as it would have, errors and paths included. So the answer
is the same, byte for byte, with or without it (``tests/test_emulator_execution.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import (
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLID,
    GraphQLInt,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLString,
    GraphQLUnionType,
    Undefined,
)
from graphql.execution import ExecutionContext
from graphql.execution.execute import default_type_resolver

Complete = Callable[[Any], Any]
Plan = Callable[[dict], dict]


class _Slow(Exception):
    """The fast path gives up on this object: graphql-core completes it."""


_SLOW = _Slow()
# Scalars whose serialize() returns a value of this exact type unchanged.
_SAME: dict[int, type] = {id(GraphQLString): str, id(GraphQLID): str, id(GraphQLBoolean): bool}
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1


class FastExecutionContext(ExecutionContext):
    """An ExecutionContext whose ``complete_object_value`` takes the fast path when it can."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plans: dict[tuple, Plan | None] = {}

    def complete_object_value(self, return_type, field_nodes, info, path, result):  # type: ignore[override]
        if type(result) is dict:
            plan = self._object_plan(return_type, field_nodes)
            if plan is not None:
                try:
                    return plan(result)
                except Exception:  # _Slow, or anything unexpected: graphql-core decides
                    pass
        return super().complete_object_value(return_type, field_nodes, info, path, result)

    # -- plans ------------------------------------------------------------------------------------
    def _object_plan(self, t: GraphQLObjectType, field_nodes: list) -> Plan | None:
        """How to complete a dict of type ``t`` for this selection, or None when only graphql-core
        can (an argument, a custom resolver or type check, an introspection field)."""
        key = (t, *map(id, field_nodes))  # the nodes live as long as the request's document
        if key in self._plans:
            return self._plans[key]
        self._plans[key] = None  # while it is being built
        plan = self._build_object_plan(t, field_nodes)
        self._plans[key] = plan
        return plan

    def _build_object_plan(self, t: GraphQLObjectType, field_nodes: list) -> Plan | None:
        if t.is_type_of is not None:
            return None
        # (response name, field name, exact type served as is or None, non-null, completer)
        steps: list[tuple[str, str | None, type | None, bool, Complete]] = []
        for response_name, nodes in self.collect_subfields(t, field_nodes).items():
            name = nodes[0].name.value
            if name == "__typename":
                steps.append((response_name, None, None, False, _constant(t.name)))
                continue
            if name.startswith("__"):
                return None  # introspection
            field = t.fields.get(name)
            if field is None:
                continue  # graphql-core leaves it out too
            if field.resolve is not None or nodes[0].arguments:
                return None
            complete = self._completer(field.type, nodes)
            if complete is None:
                return None
            non_null = isinstance(field.type, GraphQLNonNull)
            same = _SAME.get(id(field.type.of_type if non_null else field.type))
            steps.append((response_name, name, same, non_null, complete))
        steps_t = tuple(steps)

        def plan(value: dict) -> dict:
            out = {}
            get = value.get
            for response_name, name, same, non_null, complete in steps_t:
                v = get(name) if name is not None else None
                if same is not None:  # String, ID, Boolean: most fields, checked here
                    if type(v) is same:
                        out[response_name] = v
                        continue
                    if v is None and not non_null:
                        out[response_name] = None
                        continue
                elif callable(v):
                    raise _SLOW  # a resolver in the data: graphql-core calls it
                out[response_name] = complete(v)
            return out

        return plan

    def _completer(self, t: Any, nodes: list) -> Complete | None:
        if isinstance(t, GraphQLNonNull):
            inner = self._completer(t.of_type, nodes)
            if inner is None:
                return None

            def non_null(v: Any) -> Any:
                if v is None or v is Undefined:
                    raise _SLOW  # a field error: graphql-core reports it
                return inner(v)

            return non_null
        if isinstance(t, GraphQLList):
            item = self._completer(t.of_type, nodes)
            if item is None:
                return None

            def listed(v: Any) -> Any:
                if v is None or v is Undefined:
                    return None
                if type(v) is not list and type(v) is not tuple:
                    raise _SLOW  # generators and the like: graphql-core consumes them once
                return [item(x) for x in v]

            return listed
        if isinstance(t, GraphQLScalarType | GraphQLEnumType):
            return _leaf(t)
        if isinstance(t, GraphQLObjectType):
            return self._object_completer(t, nodes)
        if isinstance(t, GraphQLInterfaceType | GraphQLUnionType):
            return self._abstract_completer(t, nodes)
        return None

    def _object_completer(self, t: GraphQLObjectType, nodes: list) -> Complete | None:
        plan = self._object_plan(t, nodes)
        if plan is None:
            return None

        def obj(v: Any) -> Any:
            if v is None or v is Undefined:
                return None
            if type(v) is not dict:
                raise _SLOW
            return plan(v)

        return obj

    def _abstract_completer(self, t: GraphQLInterfaceType | GraphQLUnionType, nodes: list) -> Complete | None:
        """A dict naming its ``__typename`` (what the default type resolver reads first)."""
        if t.resolve_type is not None or self.type_resolver is not default_type_resolver:
            return None
        possible = {o.name: o for o in self.schema.get_possible_types(t)}

        def abstract(v: Any) -> Any:
            if v is None or v is Undefined:
                return None
            if type(v) is not dict:
                raise _SLOW
            runtime = possible.get(v.get("__typename"))  # type: ignore[arg-type]
            plan = None if runtime is None else self._object_plan(runtime, nodes)
            if plan is None:
                raise _SLOW
            return plan(v)

        return abstract


def _constant(value: str) -> Complete:
    return lambda _v: value


def _leaf(t: GraphQLScalarType | GraphQLEnumType) -> Complete:
    same = _SAME.get(id(t))
    serialize = t.serialize
    is_int = t is GraphQLInt

    def leaf(v: Any) -> Any:
        if v is None or v is Undefined:
            return None
        tv = type(v)
        if tv is same:
            return v
        if is_int and tv is int and _INT_MIN <= v <= _INT_MAX:
            return v
        if isinstance(v, Exception):
            raise _SLOW
        s = serialize(v)  # raises on a bad value: the caller gives up, graphql-core reports it
        if s is None or s is Undefined:
            raise _SLOW
        return s

    return leaf
