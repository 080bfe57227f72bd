"""Schema-driven normalisation of policy rule bodies: references resolved, omitted fields filled.

Nothing here names a rule field. The walkers follow the rule's input type from the emulator
schema; wherever an input field's type is a ``…RefInput`` (``{by: ID|NAME, input}``) the value
is looked up through ``REF_SOURCES`` (an entity kind in the store, or a table of the built-in
catalog) and stored as the ``…Ref`` output shape ``{id, name}``. ``fill`` then walks the output
type (``InternetFirewallRule``...) so a stored body has every field the schema declares non-null.
A rule is served with the current names of the objects it refers to (``CurrentNames``): a body
stores a ref's name as it was when the rule was written, and a site renamed since shows its new
name, as a group's members do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import (
    GraphQLInputObjectType,
    GraphQLObjectType,
    get_named_type,
    get_nullable_type,
    is_list_type,
    is_non_null_type,
)

from .. import catalog
from ..context import RequestContext

# RefInput type -> ("entity", kind in the store) | ("catalog", table in catalog.py).
REF_SOURCES: dict[str, tuple[str, str]] = {
    "SiteRefInput": ("entity", "site"),
    "HostRefInput": ("entity", "host"),
    "GroupRefInput": ("entity", "group"),
    "SiteNetworkSubnetRefInput": ("entity", "siteRange"),
    "NetworkInterfaceRefInput": ("entity", "networkInterface"),
    "FloatingSubnetRefInput": ("entity", "floatingSubnet"),
    "GlobalIpRangeRefInput": ("entity", "globalIpRange"),
    "PrivateApplicationRefInput": ("entity", "privateApp"),  # emulator/domains/apps.py
    "UserRefInput": ("entity", "user"),
    "UsersGroupRefInput": ("entity", "usersGroup"),
    "DeviceProfileRefInput": ("entity", "deviceProfile"),
    "CustomApplicationRefInput": ("entity", "customApp"),
    "CustomCategoryRefInput": ("entity", "customCategory"),
    "SanctionedAppsCategoryRefInput": ("entity", "sanctionedAppsCategory"),
    "SubscriptionGroupRefInput": ("entity", "subscriptionGroup"),
    "SubscriptionMailingListRefInput": ("entity", "mailingList"),
    "SubscriptionWebhookRefInput": ("entity", "webhook"),
    "SystemGroupRefInput": ("catalog", "SYSTEM_GROUPS"),
    "CountryRefInput": ("catalog", "COUNTRIES"),
    "ApplicationRefInput": ("catalog", "APPLICATIONS"),
    "ApplicationCategoryRefInput": ("catalog", "APPLICATION_CATEGORIES"),
    "ServiceRefInput": ("catalog", "SERVICES"),
    # Objects of the other policy families. The emulator has no domain for them: an account's
    # fixture lists them under `policy_refs:` (seeded by policy.seed_policy_refs), Cato-defined ones
    # (PoP locations, application activities, content types) included, as stand-ins for the catalog.
    "AllocatedIpRefInput": ("entity", "allocatedIp"),
    "BandwidthManagementRefInput": ("entity", "bandwidthProfile"),
    "DlpContentProfileRefInput": ("entity", "dlpContentProfile"),
    "DlpEdmProfileRefInput": ("entity", "dlpEdmProfile"),
    "StringValueSetRefInput": ("entity", "stringValueSet"),
    "PopLocationRefInput": ("entity", "popLocation"),
    "ApplicationControlActivityRefInput": ("entity", "appControlActivity"),
    "ApplicationControlActivityFieldRefInput": ("entity", "appControlActivityField"),
    "ApplicationControlContentTypeRefInput": ("entity", "appControlContentType"),
    "ApplicationControlContentTypeGroupRefInput": ("entity", "appControlContentTypeGroup"),
}
# Store kinds a fixture's `policy_refs:` may list: every entity kind above that no domain seeds.
SEEDED_BY_DOMAINS = frozenset({"site", "host", "group", "siteRange", "networkInterface", "privateApp"})
FIXTURE_REF_KINDS = frozenset(n for k, n in REF_SOURCES.values() if k == "entity") - SEEDED_BY_DOMAINS


class RefError(Exception):
    """A reference that names nothing; the message names the field path and the value."""


def is_ref_input(t: Any) -> bool:
    return isinstance(t, GraphQLInputObjectType) and t.name.endswith("RefInput")


# Per-type field plans, computed once: the walkers run over thousands of rules when seeding.
_IN_PLANS: dict[str, dict[str, tuple[str, Any]]] = {}
_OUT_PLANS: dict[str, list[tuple[str, bool, bool, GraphQLObjectType | None]]] = {}


def _in_plan(t: GraphQLInputObjectType) -> dict[str, tuple[str, Any]]:
    """field -> ("ref" | "obj" | "leaf", named type)."""
    if t.name not in _IN_PLANS:
        plan = {}
        for name, f in t.fields.items():
            nt = get_named_type(f.type)
            plan[name] = (
                "ref" if is_ref_input(nt) else "obj" if isinstance(nt, GraphQLInputObjectType) else "leaf",
                nt,
            )
        _IN_PLANS[t.name] = plan
    return _IN_PLANS[t.name]


def _out_plan(t: GraphQLObjectType) -> list[tuple[str, bool, bool, GraphQLObjectType | None]]:
    """[(field, non-null, list, object type to fill inside or None)]."""
    if t.name not in _OUT_PLANS:
        plan = []
        for name, f in t.fields.items():
            nt = get_named_type(f.type)
            inner = nt if isinstance(nt, GraphQLObjectType) and not nt.name.endswith("Ref") else None
            plan.append((name, is_non_null_type(f.type), is_list_type(get_nullable_type(f.type)), inner))
        _OUT_PLANS[t.name] = plan
    return _OUT_PLANS[t.name]


def walk_refs(
    value: Any, t: GraphQLInputObjectType, on_ref: Callable[[str, Any, str], Any], path: str
) -> Any:
    """A copy of input ``value`` (of type ``t``) with each ref item replaced by ``on_ref(type, item, path)``."""
    if not isinstance(value, dict):
        raise RefError(f"{path}: expected an object, got {value!r}")
    plan, out = _in_plan(t), {}
    for key, v in value.items():
        kind, nt = plan.get(key, (None, None))
        if kind is None:
            raise RefError(f"{path}.{key}: no such field in {t.name}")
        if v is None or kind == "leaf":
            out[key] = v
            continue
        p = f"{path}.{key}"
        if kind == "ref":
            out[key] = [on_ref(nt.name, x, p) for x in v] if isinstance(v, list) else on_ref(nt.name, v, p)
        else:
            out[key] = (
                [walk_refs(x, nt, on_ref, p) for x in v]
                if isinstance(v, list)
                else walk_refs(v, nt, on_ref, p)
            )
    return out


def expand_shorthand(_type: str, item: Any, path: str) -> dict[str, str]:
    """Fixture refs may be written ``"HQ"`` (a name), ``{name: HQ}``, ``{id: "123"}`` or ``{by, input}``."""
    if isinstance(item, str):
        return {"by": "NAME", "input": item}
    if isinstance(item, dict):
        if "by" in item:
            return item
        if "id" in item:
            return {"by": "ID", "input": str(item["id"])}
        if "name" in item:
            return {"by": "NAME", "input": item["name"]}
    raise RefError(f"{path}: a reference must be a name, {{id}}, {{name}} or {{by, input}}; got {item!r}")


def _catalog_entries(table: str) -> list[dict[str, str]]:
    data = getattr(catalog, table, None) or {}
    if isinstance(data, dict):
        return [{"id": k, "name": v if isinstance(v, str) else v["name"]} for k, v in data.items()]
    return [{"id": str(d.get("id", d.get("code"))), "name": d["name"]} for d in data]


class Resolver:
    """Resolves refs for one request (or one seeding run), caching each lookup."""

    def __init__(self, ctx: RequestContext) -> None:
        self.ctx = ctx
        self._tables: dict[tuple[str, str], tuple[dict, dict]] = {}
        self._cache: dict[tuple[str, str, str], dict[str, str]] = {}

    def _table(self, source: tuple[str, str]) -> tuple[dict[str, dict], dict[str, list[dict]]]:
        if source not in self._tables:
            kind, name = source
            docs = (
                self.ctx.store.list(self.ctx.account_id, name) if kind == "entity" else _catalog_entries(name)
            )
            by_id = {str(d["id"]): d for d in docs}
            by_name: dict[str, list[dict]] = {}
            for d in docs:
                by_name.setdefault(d.get("name"), []).append(d)
            self._tables[source] = (by_id, by_name)
        return self._tables[source]

    def ref(self, type_name: str, item: dict[str, Any], path: str) -> dict[str, str]:
        source = REF_SOURCES.get(type_name)
        if source is None:
            raise RefError(f"{path}: references of type {type_name} are not supported by the emulator")
        by, value = item.get("by") or "ID", str(item.get("input"))
        key = (type_name, by, value)
        if key not in self._cache:
            by_id, by_name = self._table(source)
            what = source[1]
            if by == "ID":
                found = [by_id[value]] if value in by_id else []
            else:
                found = by_name.get(value, [])
            if not found:
                raise RefError(f"{path}: no {what} with {by.lower()} {value!r}")
            if len(found) > 1:
                raise RefError(f"{path}: name {value!r} is ambiguous ({len(found)} {what} objects)")
            self._cache[key] = {"id": str(found[0]["id"]), "name": found[0].get("name") or ""}
        return dict(self._cache[key])

    def resolve(self, value: dict[str, Any], t: GraphQLInputObjectType, path: str = "rule") -> dict[str, Any]:
        return walk_refs(value, t, self.ref, path)


# Output ref types (``SiteRef``...) of objects the domains keep, which can be renamed -> store kind.
RENAMEABLE: dict[str, str] = {
    t.removesuffix("Input"): kind
    for t, (source, kind) in REF_SOURCES.items()
    if source == "entity" and kind in SEEDED_BY_DOMAINS
}
_REF_PLANS: dict[str, list[tuple[str, bool, str | None, GraphQLObjectType | None]]] = {}


def _ref_plan(t: GraphQLObjectType) -> list[tuple[str, bool, str | None, GraphQLObjectType | None]]:
    """[(field, list, store kind of a renameable ref or None, object type to walk into or None)]."""
    if t.name not in _REF_PLANS:
        plan = []
        for name, f in t.fields.items():
            nt = get_named_type(f.type)
            if not isinstance(nt, GraphQLObjectType):
                continue
            is_list = is_list_type(get_nullable_type(f.type))
            if nt.name in RENAMEABLE:
                plan.append((name, is_list, RENAMEABLE[nt.name], None))
            elif not nt.name.endswith("Ref"):
                plan.append((name, is_list, None, nt))
        _REF_PLANS[t.name] = plan
    return _REF_PLANS[t.name]


class CurrentNames:
    """The current names of the objects served rules refer to, read once per request and kind."""

    def __init__(self, ctx: RequestContext) -> None:
        self.ctx = ctx
        self._names: dict[str, dict[str, str]] = {}

    def _of(self, kind: str) -> dict[str, str]:
        if kind not in self._names:
            ctx = self.ctx  # once per state of the data (Store.memo), shared: only read
            self._names[kind] = ctx.store.memo(
                ("names", ctx.account_id, kind),
                lambda: {str(d["id"]): d.get("name") or "" for d in ctx.store.list(ctx.account_id, kind)},
            )
        return self._names[kind]

    def apply(self, value: dict[str, Any], t: GraphQLObjectType) -> dict[str, Any]:
        """``value`` (a stored body of output type ``t``) with each ref's current name; a copy where
        one changed, the body itself otherwise (stored bodies are shared: never mutated)."""
        out = value
        for name, is_list, kind, inner in _ref_plan(t):
            v = value.get(name)
            if v is None:
                continue
            items = v if is_list else [v]
            if kind is not None:
                names = self._of(kind)
                new = [
                    {**x, "name": names[str(x.get("id"))]}
                    if str(x.get("id")) in names and names[str(x.get("id"))] != x.get("name")
                    else x
                    for x in items
                ]
            else:
                new = [self.apply(x, inner) if isinstance(x, dict) else x for x in items]  # type: ignore[arg-type]
            if any(a is not b for a, b in zip(new, items, strict=True)):
                if out is value:
                    out = dict(value)
                out[name] = new if is_list else new[0]
        return out


def fill(value: dict[str, Any], t: GraphQLObjectType, skip: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Give ``value`` every field of output type ``t``: [] for lists, {} filled for objects, None
    for nullable scalars. Non-null scalars are left to the caller (ids, index...)."""
    for name, non_null, is_list, inner in _out_plan(t):
        if name in skip:
            continue
        v = value.get(name)
        if v is None:
            if not non_null:
                value[name] = None
            elif is_list:
                value[name] = []
            elif inner is not None:
                value[name] = fill({}, inner)
        elif inner is not None:
            for item in v if is_list else (v,):
                fill(item, inner)
    return value


def merge(body: dict[str, Any], patch: dict[str, Any], t: GraphQLObjectType) -> dict[str, Any]:
    """Apply an update patch: nested objects merge field by field, lists and scalars replace.
    An explicit null clears a nullable field and is ignored on a non-null one."""
    out = dict(body)
    for key, v in patch.items():
        f = t.fields.get(key)
        if f is None:
            continue
        nt = get_named_type(f.type)
        if v is None:
            if not is_non_null_type(f.type):
                out[key] = None
        elif isinstance(v, dict) and isinstance(out.get(key), dict) and isinstance(nt, GraphQLObjectType):
            out[key] = merge(out[key], v, nt)
        else:
            out[key] = v
    return out
