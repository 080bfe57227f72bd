"""Admin: a person who signs in to the Cato console, and the roles they hold (the ``admin`` namespace).

Inputs are Cato's ``AddAdminInput`` (derived, in snake_case) for a LOGIN admin: ``email``,
``first_name``, ``last_name``, ``password_never_expires`` and ``managed_roles``, each a ``role``
with optional ``allowed_entities`` (limit the role to some sites, hosts...) and ``allowed_accounts``.
Left out, with the reason:
- ``admin_type``: this resource is a LOGIN admin; a service principal (an API identity) has its own
  mutations (``addServicePrincipalAdmin``), not managed here;
- ``mfa_enabled``: deprecated in the SDL ("always require MFA");
- ``reseller_roles``: for reseller (partner) accounts only, which catoiac does not manage.

A role is named as Cato's ``accountRoles`` lists it: by name (``"Editor"``, ``"Network admin"``: the
predefined roles, or a custom one) or by id (``{"id": "1"}``). A name is turned into its id at the
write (one ``accountRoles`` call per run) and checked in the preview, with the names the account
has. Roles are a set: their order means nothing.

``email`` names the admin and cannot change (``UpdateAdminInput`` has none): a new email replaces
the admin. Read path: the ``admins`` collection, ``admins`` paged by 100.
"""

from __future__ import annotations

import copy
import difflib
from collections.abc import Mapping
from typing import Any

from ...readpath import AccountReader, register_loader
from ..gql_schema import InputModel
from ..spec import InputError, Operation, Reservation, ResourceSpec
from ..validation import is_unknown
from .common import NAME, prune

PAGE = 100
_MODEL = InputModel("AddAdminInput")
_KEPT = ("email", "first_name", "last_name", "password_never_expires", "managed_roles")
_ROLE_REF = {
    "type": ["string", "object"],
    "minLength": 1,
    "properties": {"id": {"type": "string", "minLength": 1}, "name": {"type": "string", "minLength": 1}},
    "additionalProperties": False,
    "minProperties": 1,
    "maxProperties": 1,
}


def _schema() -> dict[str, Any]:
    base = copy.deepcopy(_MODEL.schema)
    props = {k: base["properties"][k] for k in _KEPT}
    roles = props["managed_roles"]["items"]
    roles["properties"]["role"] = _ROLE_REF
    entity = roles["properties"]["allowed_entities"]["items"]
    entity["properties"].pop("name")
    entity["propertyNames"] = {"enum": ["id", "type"]}
    props["email"] = {"type": "string", "pattern": r"^[^@\s]+@[^@\s]+\.[^@\s]+$"}
    props["first_name"] = props["last_name"] = NAME
    props["password_never_expires"] = {"type": "boolean", "default": False}
    props["managed_roles"]["default"] = []
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["email", "first_name", "last_name"],
        "properties": props,
    }


SCHEMA = _schema()


def _role(ref: Any) -> dict[str, str]:
    if isinstance(ref, str):
        return {"name": ref}
    key = "id" if "id" in ref else "name"
    return {key: str(ref[key])}


def _normalize(i: dict[str, Any]) -> dict[str, Any]:
    i = prune(i)
    if isinstance(i.get("email"), str):
        i["email"] = i["email"].strip().lower()
    roles = []
    for item in i.get("managed_roles") or []:
        entry = {"role": _role(item["role"])}
        entities = sorted(({"id": str(e["id"]), "type": e["type"]} for e in item.get("allowed_entities") or []),
                          key=lambda e: (e["type"], e["id"]))  # fmt: skip
        if entities:
            entry["allowed_entities"] = entities
        if item.get("allowed_accounts"):
            entry["allowed_accounts"] = sorted(str(a) for a in item["allowed_accounts"])
        roles.append(entry)
    i["managed_roles"] = sorted(roles, key=lambda r: sorted(r["role"].items()))
    return i


def _rules(i: dict[str, Any]) -> list[tuple[str, str]]:
    seen: set[tuple] = set()
    out = []
    for n, item in enumerate(i.get("managed_roles") or []):
        if not isinstance(item, dict) or is_unknown(item.get("role")):
            continue
        key = tuple(_role(item["role"]).items())
        if key in seen:
            out.append((f"managed_roles[{n}].role", f"{dict(key)} is given twice: give each role once"))
        seen.add(key)
    return out


# -- roles --------------------------------------------------------------------------------------------
def load_roles(r: AccountReader) -> dict[str, dict[str, Any]]:
    data = r.client.execute("AccountRoles", {})
    return {
        str(x["id"]): {**x, "id": str(x["id"])} for x in (data.get("accountRoles") or {}).get("items") or []
    }


register_loader("admin_roles", load_roles)


def _role_problem(ref: Mapping[str, str], roles: Mapping[str, Mapping[str, Any]]) -> str | None:
    if "id" in ref:
        return None if ref["id"] in roles else f"no role with id {ref['id']} in the account"
    names = [r["name"] for r in roles.values()]
    if ref["name"] in names:
        return None
    close = difflib.get_close_matches(ref["name"], names, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}?" if close else f"the account's roles are {', '.join(sorted(names))}"
    return f"no role named {ref['name']!r}: {hint}"


def _role_id(ref: Mapping[str, str], roles: Mapping[str, Mapping[str, Any]]) -> str:
    if "id" in ref:
        return ref["id"]
    for rid, r in roles.items():
        if r["name"] == ref["name"]:
            return rid
    raise InputError(f"managed_roles: {_role_problem(ref, roles)}")


def _roles_input(i: Mapping[str, Any], view) -> list[dict[str, Any]]:
    roles = view.get("admin_roles")
    out = []
    for item in i.get("managed_roles") or []:
        body: dict[str, Any] = {"role": {"id": _role_id(item["role"], roles)}}
        if item.get("allowed_entities"):
            body["allowedEntities"] = [{"id": e["id"], "type": e["type"]} for e in item["allowed_entities"]]
        if item.get("allowed_accounts"):
            body["allowedAccounts"] = list(item["allowed_accounts"])
        out.append(body)
    return out


def _preview_check(preflight, _program, _owner, _old, inputs) -> list[tuple[str, str]]:
    items = inputs.get("managed_roles") or []
    if is_unknown(items):
        return []
    roles = preflight.reader.get("admin_roles")
    out = []
    for n, item in enumerate(items):
        if is_unknown(item.get("role")):
            continue
        problem = _role_problem(_role(item["role"]), roles)
        if problem:
            out.append((f"managed_roles[{n}].role", problem))
    return out


# -- writes -------------------------------------------------------------------------------------------
def _create(_id, i, view) -> dict[str, Any]:
    return {
        "input": {
            "adminType": "LOGIN",
            "email": i["email"],
            "firstName": i["first_name"],
            "lastName": i["last_name"],
            "passwordNeverExpires": i["password_never_expires"],
            "managedRoles": _roles_input(i, view),
        }
    }


def _update(admin_id, i, view) -> dict[str, Any]:
    body = _create(admin_id, i, view)["input"]
    return {"adminID": admin_id, "input": {k: v for k, v in body.items() if k not in ("adminType", "email")}}


# -- reads --------------------------------------------------------------------------------------------
def load_admins(r: AccountReader) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    start = 0
    while True:
        page = r.client.execute("Admins", {"limit": PAGE, "from": start}).get("admins") or {}
        items = page.get("items") or []
        for a in items:
            out[str(a["id"])] = {**a, "id": str(a["id"]), "name": a.get("email")}
        start += len(items)
        if not items or start >= int(page.get("total") or 0):
            return out


register_loader("admins", load_admins)


def _read(live: Mapping[str, Any], _view) -> dict[str, Any]:
    roles = []
    for item in live.get("managedRoles") or []:
        role = item.get("role") or {}
        roles.append({
            "role": {"id": str(role.get("id")), "__name": role.get("name")},
            "allowed_entities": [{"id": str(e["id"]), "type": e["type"]} for e in item.get("allowedEntities") or []],
            "allowed_accounts": [str(a) for a in item.get("allowedAccounts") or []],
        })  # fmt: skip
    return {
        "email": live.get("email"),
        "first_name": live.get("firstName"),
        "last_name": live.get("lastName"),
        "password_never_expires": bool(live.get("passwordNeverExpires")),
        "managed_roles": roles,
    }


def _reconcile(live: dict[str, Any], prior: dict[str, Any]) -> dict[str, Any]:
    """A role the state names by name reads by name."""
    named = {_role(item["role"]).get("name") for item in prior.get("managed_roles") or [] if item.get("role")}
    named.discard(None)  # a role the state names by id
    live = copy.deepcopy(live)
    for item in live.get("managed_roles") or []:
        role = item["role"]
        name = role.pop("__name", None)
        if name is not None and name in named:
            item["role"] = {"name": name}
    return live


def _normalize_read(i: dict[str, Any]) -> dict[str, Any]:
    for item in i.get("managed_roles") or []:
        if isinstance(item.get("role"), dict):
            item["role"].pop("__name", None)
    return _normalize(i)


def _reservations(i: dict[str, Any]) -> list[Reservation]:
    email = str(i["email"]).lower()
    return [Reservation("admin email", email, "email", f"admin email {email!r}")]


ADMIN = ResourceSpec(
    name="Admin",
    kind="admins",
    schema=SCHEMA,
    create=Operation("AddAdmin", _create, id_path="admin.addAdmin.adminID"),
    update=Operation("UpdateAdmin", _update),
    delete=Operation("RemoveAdmin", lambda admin_id, _i, _v: {"adminID": admin_id}),
    replace_on=("email",),
    natural_key=("email",),
    read=_read,
    rules=(_rules,),
    normalize=_normalize_read,
    reconcile=_reconcile,
    reservations=_reservations,
    preview_check=_preview_check,
)
