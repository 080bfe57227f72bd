"""Resource inputs derived from Cato's GraphQL input types, so no spec hand-copies a rule's fields.

``InputModel(type_name)`` walks one input object type of the schema subset (e.g.
``InternetFirewallAddRuleDataInput``) and gives, with no per-field code:

- ``schema``: jsonschema of the snake_case inputs. Field names in snake_case, enums as ``enum``,
  lists as arrays, scalars as string/number/boolean (IP and subnet scalars with the ``ipv4`` and
  ``cidr`` formats), GraphQL default values as ``default``s, and every ``…RefInput`` (Cato's
  ``{by: ID|NAME, input}``) as a reference: ``"HQ"`` (a name), ``{"id": "123"}`` or ``{"name": "HQ"}``;
  an object that lives in a site (a range, a host, a network interface) also by its site,
  ``{"site": "Porto", "name": "Guest"}`` (a range also by its port: ``{"site", "interface", "name"}``),
  which tells apart two "Guest" ranges of two sites without a raw id (``SITE_SCOPED``).
- ``canonical``: the one form diffs compare. Refs become ``{"id"}``/``{"name"}``/``{"site", "name"}``, values equal to
  their default and empty lists/objects are dropped, lists of refs and scalars are sorted (their
  order means nothing to Cato), numeric text scalars (ports, ASNs) become strings.
- ``to_graphql``: canonical inputs -> the camelCase GraphQL input, every field given (defaults
  filled, unset nullable fields as explicit nulls, so an update also clears what was removed).
  Cato has no site-scoped form: such a reference is resolved to its id (``resolve``) before sending.
- ``from_live``: a live object (the output type: refs as ``{id, name}``, full default bodies) ->
  inputs, refs shown by id where the prior inputs used that id, in a site-scoped form where the
  caller says so (``shown``), and by name otherwise.
- ``refs``: every reference in canonical inputs, with its property path (for read-path checks).
"""

from __future__ import annotations

import copy
import inspect
import json
import keyword
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    Undefined,
    get_named_type,
    get_nullable_type,
    is_list_type,
    is_non_null_type,
)

from ..derived_cache import cached_json, digest_of_file
from ..schema import SUBSET_PATH
from ..schema import subset_schema as _schema
from .enums import is_input_object
from .validation import REF_FORMS

# Scalar name -> jsonschema. Anything not listed is a string.
SCALARS: dict[str, dict[str, Any]] = {
    "Boolean": {"type": "boolean"},
    "Int": {"type": "integer"},
    "Float": {"type": "number"},
    "IPAddress": {"type": "string", "format": "ipv4"},
    "NetworkSubnet": {"type": "string", "format": "cidr"},
    "Port": {"type": ["string", "integer"]},
    "Asn32": {"type": ["string", "integer"]},
}
TEXT_NUMBERS = frozenset({"Port", "Asn32"})  # accepted as numbers, compared as text
REF_KEYS = ("id", "name")
# Refs to objects that live in a site, and the keys that scope them (in canonical order). Cato's
# own by-NAME form of a range is its full "<site> \\ <interface> \\ <range>" name (readpath.py); a
# site-scoped ref is resolved to the object's id before it is sent, so Cato never sees it.
SITE_SCOPED: dict[str, tuple[str, ...]] = {
    "SiteNetworkSubnetRefInput": ("site", "interface"),
    "HostRefInput": ("site",),
    "NetworkInterfaceRefInput": ("site",),
}
SCOPED_ORDER = ("site", "interface", "name")


def ref_forms(type_name: str) -> list[list[str]]:
    """The key sets a reference of this type may have: ``[["id"], ["name"], ["site", "name"]...]``."""
    forms = [["id"], ["name"]]
    scope = SITE_SCOPED.get(type_name, ())
    if scope:
        forms.append(["site", "name"])
    if "interface" in scope:
        forms.append(["site", "interface", "name"])
    return forms


def snake(name: str) -> str:
    """``deviceOS`` -> ``device_os``, ``appCategory`` -> ``app_category``."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def is_ref(t: Any) -> bool:
    return isinstance(t, GraphQLInputObjectType) and t.name.endswith("RefInput")


def ref_item(item: Any) -> dict[str, str]:
    """A reference in canonical form: ``{"id": ...}``, ``{"name": ...}`` (a string is a name) or,
    scoped to a site, ``{"site": ..., ["interface": ...,] "name": ...}``."""
    if isinstance(item, str):
        return {"name": item}
    if "site" in item and "id" not in item:
        return {k: str(item[k]) for k in SCOPED_ORDER if item.get(k) is not None}
    key = next(k for k in REF_KEYS if k in item)
    return {key: str(item[key])}


def is_scoped(ref: Any) -> bool:
    """Whether a reference names its object by its site (``{"site": ..., "name": ...}``)."""
    return isinstance(ref, Mapping) and "site" in ref and "id" not in ref


# (RefInput type name, site-scoped ref) -> the object's id: how to_graphql sends a site-scoped ref.
Resolver = Callable[[str, Mapping[str, str]], str]
# (RefInput type name, live id) -> True (show by id), a mapping (show as it), or False (by name).
Shown = Callable[[str, str], "bool | Mapping[str, str]"]


def _sorted_list(f: _Field) -> bool:
    """Lists of refs and scalars are sets to Cato: compared sorted. Lists of objects keep their order."""
    return is_ref(f.named) or not isinstance(f.named, GraphQLInputObjectType)


def _sort_key(v: Any) -> Any:
    return tuple(sorted(v.items())) if isinstance(v, dict) else (str(type(v)), v)


@dataclass(frozen=True)
class _Field:
    name: str  # GraphQL name
    key: str  # snake_case input name
    named: Any  # named type
    is_list: bool
    non_null: bool
    default: Any  # GraphQL default (camelCase) or Undefined


def _fields(t: GraphQLInputObjectType) -> list[_Field]:
    out = []
    for name, f in t.fields.items():
        nullable = get_nullable_type(f.type)
        out.append(
            _Field(
                name,
                snake(name),
                get_named_type(f.type),
                is_list_type(nullable),
                is_non_null_type(f.type),
                f.default_value,
            )
        )
    return out


class InputModel:
    """Schema, canonical form and conversions for one GraphQL input object type.

    ``overrides`` sets defaults the schema lacks, by ``"TypeName.fieldName"`` (e.g. a rule is
    enabled unless told otherwise, where Cato requires ``enabled``)."""

    def __init__(self, type_name: str, overrides: Mapping[str, Any] | None = None) -> None:
        # Specs make their models at import: the name is checked against the generated list of input
        # types, and the schema is built on first use (``type``), not in every importing process.
        if not is_input_object(type_name):
            raise KeyError(f"{type_name} is not an input object type in the Cato schema subset")
        self.type_name = type_name
        self.overrides = dict(overrides or {})
        self._plans: dict[str, list[_Field]] = {}
        self._defaults: dict[tuple[str, str], Any] = {}
        self._canon_fns: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {}
        self._live_fns: dict[str, Callable[[Mapping[str, Any], Any], dict[str, Any]]] = {}
        self._nested: dict[str, list[_Field]] = {}

    @cached_property
    def type(self) -> GraphQLInputObjectType:
        return _schema().get_type(self.type_name)  # type: ignore[return-value]

    def fields(self, t: GraphQLInputObjectType) -> list[_Field]:
        if t.name not in self._plans:
            self._plans[t.name] = _fields(t)
        return self._plans[t.name]

    def default(self, t: GraphQLInputObjectType, f: _Field) -> Any:
        """The GraphQL default of a field (camelCase), with overrides; Undefined if none."""
        return self.overrides.get(f"{t.name}.{f.name}", f.default)

    # -- jsonschema ---------------------------------------------------------------------------
    @cached_property
    def schema(self) -> dict[str, Any]:
        return self.cached_schema(lambda: self._object_schema(self.type, ()))

    def cached_schema(self, build: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """``build()``, from the derived cache when it holds this model's schema: specs read their
        schemas at import, and building one needs the whole GraphQL schema (catoiac.derived_cache).
        The key is the schema subset, this module and the model's own (a subclass's build), the
        type and the overrides."""
        inputs = (
            digest_of_file(SUBSET_PATH),
            *(digest_of_file(f) for f in dict.fromkeys((__file__, inspect.getfile(type(self))))),
            REF_FORMS,
            self.type_name,
            json.dumps(self.overrides, sort_keys=True),
        )
        return cached_json("input-schema", inputs, build)

    def _object_schema(self, t: GraphQLInputObjectType, seen: tuple[str, ...]) -> dict[str, Any]:
        if t.name in seen:
            raise ValueError(f"recursive input type {t.name}")
        props, required = {}, []
        for f in self.fields(t):
            sub = self._field_schema(f, (*seen, t.name))
            default = self.default(t, f)
            if default is not Undefined:
                sub["default"] = self._snake_value(f, default)
            elif f.non_null:
                required.append(f.key)
            props[f.key] = sub
        out: dict[str, Any] = {
            "type": "object",
            "properties": props,
            # Unknown keys are reported as "'x' is not one of <the keys>": the fix is in the message.
            "propertyNames": {"enum": sorted(props)},
        }
        if required:
            out["required"] = required
        return out

    def _field_schema(self, f: _Field, seen: tuple[str, ...]) -> dict[str, Any]:
        if is_ref(f.named):
            keys = [*REF_KEYS, *SITE_SCOPED.get(f.named.name, ())]
            item: dict[str, Any] = {
                "type": ["string", "object"],
                "minLength": 1,
                "properties": {k: {"type": "string", "minLength": 1} for k in keys},
                "propertyNames": {"enum": keys},
                "minProperties": 1,
                REF_FORMS: ref_forms(f.named.name),
                "x-cato-ref": f.named.name,
            }
        elif isinstance(f.named, GraphQLInputObjectType):
            item = self._object_schema(f.named, seen)
        elif isinstance(f.named, GraphQLEnumType):
            item = {"enum": sorted(f.named.values)}
        else:
            item = copy.deepcopy(SCALARS.get(f.named.name, {"type": "string"}))
        return {"type": "array", "items": item} if f.is_list else item

    def _snake_value(self, f: _Field, value: Any) -> Any:
        """A GraphQL (camelCase) value of field ``f`` as snake_case inputs."""
        if value is None or not isinstance(f.named, GraphQLInputObjectType) or is_ref(f.named):
            return copy.deepcopy(value)
        by = {x.name: x for x in self.fields(f.named)}
        conv = lambda v: {by[k].key: self._snake_value(by[k], x) for k, x in v.items() if k in by}  # noqa: E731
        return [conv(v) for v in value] if f.is_list else conv(value)

    # -- canonical form -----------------------------------------------------------------------
    # A policy has thousands of rule bodies, each canonicalised on every read and diff: each type is
    # compiled once into a flat plan (per field: key, leaf converter, list/sort flags, canonical
    # default), so a body costs one loop per object instead of a walk asking the schema each time.
    def canonical(self, value: Mapping[str, Any]) -> dict[str, Any]:
        return self._canon_fn(self.type)(value)

    def _canon_fn(self, t: GraphQLInputObjectType) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
        fn = self._canon_fns.get(t.name)
        if fn is not None:
            return fn
        plan: list[tuple[str, Callable[[Any], Any] | None, bool, bool, Any]] = []
        for f in self.fields(t):
            conv = self._canon_conv(f)
            plan.append((f.key, conv, f.is_list, f.is_list and _sorted_list(f), self._canon_default(t, f)))

        def canon(value: Mapping[str, Any]) -> dict[str, Any]:
            out = {}
            get = value.get
            for key, conv, is_list, sort, default in plan:
                v = get(key)
                if v is None:
                    continue
                if is_list:
                    v = [conv(x) for x in v] if conv is not None else list(v)
                    if sort:
                        v.sort(key=_sort_key)
                elif conv is not None:
                    v = conv(v)
                if v == default or v == [] or v == {}:  # noqa: PLC1901 - [] and {} alike
                    continue
                out[key] = v
            return out

        self._canon_fns[t.name] = canon
        return canon

    def _canon_conv(self, f: _Field) -> Callable[[Any], Any] | None:
        """How one value of field ``f`` becomes canonical (None: as it is)."""
        if is_ref(f.named):
            return ref_item
        if isinstance(f.named, GraphQLInputObjectType):
            return self._canon_fn(f.named)
        if f.named.name in TEXT_NUMBERS:
            return str
        return None

    def _canon_default(self, t: GraphQLInputObjectType, f: _Field) -> Any:
        """The canonical form of a field's default (None if it has none), computed once."""
        key = (t.name, f.name)
        if key not in self._defaults:
            default = self.default(t, f)
            self._defaults[key] = (
                None if default is Undefined else self._canon_field(f, self._snake_value(f, default))
            )
        return self._defaults[key]

    def _canon_field(self, f: _Field, v: Any) -> Any:
        if v is None:
            return None
        conv = self._canon_conv(f)
        if f.is_list:
            items = [conv(x) for x in v] if conv is not None else list(v)
            return sorted(items, key=_sort_key) if _sorted_list(f) else items
        return v if conv is None else conv(v)

    # -- GraphQL input ------------------------------------------------------------------------
    def to_graphql(
        self, value: Mapping[str, Any], target: str | None = None, resolve: Resolver | None = None
    ) -> dict[str, Any]:
        """Canonical inputs -> a full GraphQL input of this type, or projected onto ``target``
        (e.g. the matching ``…UpdateRuleDataInput``, whose fields are a subset of the same names).
        ``resolve`` gives the id of a site-scoped reference (Cato has no such form)."""
        full = self._gql_object(self.type, value, resolve)
        if target is None:
            return full
        t = _schema().get_type(target)
        assert isinstance(t, GraphQLInputObjectType), target
        return _project(full, t)

    def _gql_object(
        self, t: GraphQLInputObjectType, value: Mapping[str, Any], resolve: Resolver | None = None
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in self.fields(t):
            v = value.get(f.key)
            if v is None:
                default = self.default(t, f)
                if default is not Undefined and default is not None:
                    # Fill the default through the walker so nested defaults are complete too.
                    v = self._snake_value(f, default)
            if v is None:
                if f.is_list and f.non_null:
                    out[f.name] = []
                elif isinstance(f.named, GraphQLInputObjectType) and f.non_null and not is_ref(f.named):
                    out[f.name] = self._gql_object(f.named, {})
                elif not f.non_null:
                    out[f.name] = None
                continue
            leaf = lambda x, f=f: self._gql_leaf(f, x, resolve)  # noqa: E731
            out[f.name] = [leaf(x) for x in v] if f.is_list else leaf(v)
        return out

    def _gql_leaf(self, f: _Field, v: Any, resolve: Resolver | None = None) -> Any:
        if is_ref(f.named):
            ref = ref_item(v)
            if is_scoped(ref):
                if resolve is None:
                    raise ValueError(f"{ref} is scoped to a site: it needs the account to be resolved")
                return {"by": "ID", "input": str(resolve(f.named.name, ref))}
            return {"by": "ID", "input": ref["id"]} if "id" in ref else {"by": "NAME", "input": ref["name"]}
        if isinstance(f.named, GraphQLInputObjectType):
            return self._gql_object(f.named, v, resolve)
        if f.named.name in TEXT_NUMBERS:
            return str(v)
        return v

    # -- live objects -------------------------------------------------------------------------
    def from_live(self, live: Mapping[str, Any], by_id: Shown = lambda t, i: False) -> dict:
        """A live object (output type) -> canonical inputs. ``by_id(ref type, id)`` says how to show
        a reference: True by id (the prior inputs named that object by id), a mapping as that
        mapping (a site-scoped form), anything else by name. One pass: the live object is converted
        and made canonical together (a compiled plan per type, as ``canonical``)."""
        return self._live_fn(self.type)(live, by_id)

    def _live_fn(self, t: GraphQLInputObjectType) -> Callable[[Mapping[str, Any], Any], dict[str, Any]]:
        fn = self._live_fns.get(t.name)
        if fn is not None:
            return fn
        plan: list[tuple[str, str, Callable[[Any, Any], Any] | None, bool, bool, Any]] = []
        for f in self.fields(t):
            plan.append(
                (f.name, f.key, self._live_conv(f), f.is_list, f.is_list and _sorted_list(f),
                 self._canon_default(t, f))
            )  # fmt: skip

        def convert(live: Mapping[str, Any], by_id) -> dict[str, Any]:
            out = {}
            get = live.get
            for name, key, conv, is_list, sort, default in plan:
                v = get(name)
                if v is None:
                    continue
                if is_list:
                    v = [conv(x, by_id) for x in v] if conv is not None else list(v)
                    if sort:
                        v.sort(key=_sort_key)
                elif conv is not None:
                    v = conv(v, by_id)
                if v == default or v == [] or v == {}:  # noqa: PLC1901
                    continue
                out[key] = v
            return out

        self._live_fns[t.name] = convert
        return convert

    def _live_conv(self, f: _Field) -> Callable[[Any, Any], Any] | None:
        if is_ref(f.named):
            ref_type = f.named.name

            def ref(v: Mapping[str, Any], by_id) -> dict[str, str]:
                rid = str(v.get("id") or "")
                name = v.get("name")
                # A callable that says it wants the live name (``with_name``) gets it: it may then
                # need no read to tell whether the name is one the prior inputs used.
                wants_name = getattr(by_id, "with_name", False)
                shown = by_id(ref_type, rid, name) if wants_name else by_id(ref_type, rid)
                if isinstance(shown, Mapping):
                    return dict(shown)
                return {"id": rid} if (shown or not name) else {"name": str(name)}

            return ref
        if isinstance(f.named, GraphQLInputObjectType):
            return self._live_fn(f.named)
        if f.named.name in TEXT_NUMBERS:
            return lambda v, _by_id: str(v)
        return None

    # -- references ---------------------------------------------------------------------------
    def refs(self, value: Mapping[str, Any], path: str = "") -> Iterator[tuple[str, str, dict[str, str]]]:
        """(property path, RefInput type name, {"id"|"name": ...}) of every reference in ``value``."""
        yield from self._refs(self.type, value, path)

    def _object_fields(self, t: GraphQLInputObjectType) -> list[_Field]:
        """The fields of ``t`` whose values are input objects (references included), once per type:
        the walks below run over every rule of a policy at each check."""
        found = self._nested.get(t.name)
        if found is None:
            found = self._nested[t.name] = [
                f for f in self.fields(t) if isinstance(f.named, GraphQLInputObjectType)
            ]
        return found

    def _refs(self, t: GraphQLInputObjectType, value: Mapping[str, Any], path: str):
        for f in self._object_fields(t):
            v = value.get(f.key)
            if v is None:
                continue
            items = list(enumerate(v)) if f.is_list else [(None, v)]
            for i, x in items:
                p = f"{path}.{f.key}" if path else f.key
                p = p if i is None else f"{p}[{i}]"
                if is_ref(f.named):
                    if isinstance(x, str | dict):
                        yield p, f.named.name, x
                elif isinstance(x, Mapping):
                    yield from self._refs(f.named, x, p)

    def walk_objects(self, value: Mapping[str, Any], path: str = "") -> Iterator[tuple[str, str, Mapping]]:
        """(property path, input type name, object) of every input object in ``value``, itself included."""
        yield path, self.type.name, value
        yield from self._objects(self.type, value, path)

    def _objects(self, t: GraphQLInputObjectType, value: Mapping[str, Any], path: str):
        for f in self._object_fields(t):
            v = value.get(f.key)
            if v is None or is_ref(f.named):
                continue
            for i, x in list(enumerate(v)) if f.is_list else [(None, v)]:
                p = f"{path}.{f.key}" if path else f.key
                p = p if i is None else f"{p}[{i}]"
                if isinstance(x, Mapping):
                    yield p, f.named.name, x
                    yield from self._objects(f.named, x, p)


def _project(value: Any, t: GraphQLInputObjectType) -> Any:
    """Keep the fields of ``value`` that input type ``t`` has, recursively."""
    out = {}
    for name, f in t.fields.items():
        if name not in value:
            continue
        v, named = value[name], get_named_type(f.type)
        if isinstance(named, GraphQLInputObjectType) and not is_ref(named) and v is not None:
            v = [_project(x, named) for x in v] if isinstance(v, list) else _project(v, named)
        out[name] = v
    return out


# -- typed Python arguments ---------------------------------------------------------------------------
_PY_SCALARS = {"Boolean": "bool", "Int": "int", "Float": "float", "Port": "str | int", "Asn32": "str | int"}


def _args_name(type_name: str, roots: Mapping[str, str]) -> str:
    return roots.get(type_name) or re.sub(r"Input$", "", type_name) + "Args"


def typed_dicts(
    roots: Mapping[str, str],
    overrides: Mapping[str, Any],
    docs: Any = None,
    extras: Mapping[str, Sequence[tuple[str, str, str]]] | None = None,
) -> str:
    """Python source of TypedDicts for the input types under ``roots`` ({type name: class name}),
    field docstrings taken from ``docs`` (a schema with descriptions, e.g. Cato's full one). Every
    TypedDict has a class docstring (the type's description, else its GraphQL name), so ``help()``
    shows it rather than ``dict``'s. ``extras``: {type name: [(key, annotation, doc)]} appended to a
    type's fields (inputs a resource adds to Cato's, such as a rule's sub-rules)."""
    schema, done, blocks = _schema(), set(), []

    def clean(text: str | None) -> str:
        return " ".join((text or "").split()).replace('"""', "'''").replace("\\", "\\\\")

    def doc_of(t: str, f: str) -> str:
        dt = docs.type_map.get(t) if docs is not None else None
        return clean(
            (getattr(dt, "fields", {}).get(f) or object()).__dict__.get("description") if dt else None
        )

    def class_doc(t: str) -> str:
        dt = docs.type_map.get(t) if docs is not None else None
        text = clean(getattr(dt, "description", None))
        return f"{text.rstrip('.')} (Cato's ``{t}``)." if text else f"Cato's ``{t}``, in snake_case."

    def emit(t: GraphQLInputObjectType) -> None:
        if t.name in done:
            return
        done.add(t.name)
        fields, cls = [], _args_name(t.name, roots)
        for f in _fields(t):
            if is_ref(f.named):
                py = "str | RefArgs"
            elif isinstance(f.named, GraphQLInputObjectType):
                emit(f.named)
                py = _args_name(f.named.name, roots)
            elif isinstance(f.named, GraphQLEnumType):
                py = "Literal[" + ", ".join(json.dumps(v) for v in sorted(f.named.values)) + "]"
            else:
                py = _PY_SCALARS.get(f.named.name, "str")
            py = f"Sequence[Input[{py}]]" if f.is_list else py
            required = f.non_null and overrides.get(f"{t.name}.{f.name}", f.default) is Undefined
            fields.append(
                (f.key, f"Required[Input[{py}]]" if required else f"Input[{py}]", doc_of(t.name, f.name))
            )
        fields += list((extras or {}).get(t.name, ()))
        if any(keyword.iskeyword(k) for k, _, _ in fields):  # `from`: only the functional form allows it
            body = "".join(f"\n        {json.dumps(k)}: {py}," for k, py, _ in fields)
            blocks.append(
                f'{cls} = TypedDict(\n    "{cls}",\n    {{{body}\n    }},\n    total=False,\n)\n'
                f'{cls}.__doc__ = """{class_doc(t.name)}"""'
            )
            return
        lines = [f"class {cls}(TypedDict, total=False):", f'    """{class_doc(t.name)}"""', ""]
        for k, py, text in fields:
            lines.append(f"    {k}: {py}")
            if text:
                lines.append(f'    """{text}"""')
        blocks.append("\n".join(lines))

    for name in roots:
        emit(schema.get_type(name))
    return "\n\n\n".join(blocks)
