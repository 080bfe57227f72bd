"""Admins of the account and their roles (the ``admin`` mutation namespace, ``admins``, ``accountRoles``).

Roles: the predefined roles of a regular (non-reseller) account, with the ids and names Terraform's
``cato_admin`` documentation lists (``ROLES``), plus the fixture's custom ``roles:``. An admin's
``managedRoles`` each name a role by id (``UpdateAccountRoleInput.id``) and may limit it to
``allowedEntities`` (sites, hosts...: they must exist) and ``allowedAccounts``.

State: ``admin`` entities. An admin added here also becomes an identity of the account (the fixture's
``admins:``), so the control API can make changes "in the UI" as them; removing the admin removes
that identity. The fixture's identities are admins too: ``admins`` lists them (as Editors), and
they can be updated and removed like the others.

Rules (FIDELITY.md has the sources): a LOGIN admin has a valid, unique email (SDL: ``email`` is
how ``GetAdminPayload`` names the admin; the console signs admins in by email); first and last
names are not empty; every role exists; reseller roles only on reseller accounts (the emulator's
accounts are regular); a service principal is added with ``addServicePrincipalAdmin``, not here;
an unknown admin id is NOT_FOUND. Email is fixed once made (``UpdateAdminInput`` has none).

Fixture section (``accounts[].roles``): custom roles, ``[{id: "9001", name: Auditors}]``.
"""

from __future__ import annotations

import re
from typing import Any

from ..context import CatoGraphQLError, RequestContext, invalid
from ..registry import mutation, query, seeder
from .sites import new_id, timestamp

ADMIN = "admin"
ROLE = "adminRole"
# Terraform catonetworks/cato v0.0.96 docs/resources/admin.md, "Default roles for Regular account".
ROLES = {
    "1": ("Editor", "Edit permission for all CMA sections"),
    "2": ("Viewer", "Read-Only permission for all CMA sections"),
    "3": ("Network admin", "Edit permission for all Network sections"),
    "6": ("Security Admin", "Edit permission for all Security sections"),
    "7": ("Access Admin", "Edit permission for all Access sections"),
    "306": ("Regional Viewer", "Access to sites and users, including application analytics and events"),
    "307": ("Restricted Regional Viewer", "Access to sites and users"),
    "1802": ("Logistics Admin", "Logistics Admin"),
}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Entity kinds of the store an allowedEntities item may name (EntityType values).
_ENTITY_KINDS = ("site", "host", "siteRange", "networkInterface", "group")


def roles(ctx: RequestContext) -> dict[str, dict[str, Any]]:
    out = {
        rid: {"id": rid, "name": name, "description": text, "isPredefined": True}
        for rid, (name, text) in ROLES.items()
    }
    for r in ctx.store.list(ctx.account_id, ROLE):
        out[r["id"]] = r
    return out


def _identities(ctx: RequestContext) -> list[dict[str, Any]]:
    """The fixture's UI admins that are no admin entity (yet): shown as Editors."""
    rows = ctx.store.execute(
        "SELECT id, email, name FROM admins WHERE account_id=? ORDER BY id", (ctx.account_id,)
    ).fetchall()
    out = []
    for row in rows:
        if ctx.store.get(ctx.account_id, ADMIN, row["id"]) is not None:
            continue
        first, _, last = str(row["name"]).partition(" ")
        out.append({
            "id": row["id"], "email": row["email"], "firstName": first, "lastName": last or first,
            "adminType": "LOGIN", "passwordNeverExpires": False, "mfaEnabled": True,
            "managedRoles": [{"role": "1", "allowedEntities": [], "allowedAccounts": []}],
            "resellerRoles": [], "creationDate": "2024-01-01T00:00:00Z",
        })  # fmt: skip
    return out


def _all(ctx: RequestContext) -> list[dict[str, Any]]:
    return _identities(ctx) + ctx.store.list(ctx.account_id, ADMIN)


def _get(ctx: RequestContext, admin_id: str) -> dict[str, Any]:
    found = next((a for a in _all(ctx) if a["id"] == str(admin_id)), None)
    if found is None:
        raise CatoGraphQLError(f"Admin with id {admin_id} not found", "NOT_FOUND")
    return found


def _roles_of(ctx: RequestContext, items: list[dict[str, Any]] | None, field: str) -> list[dict[str, Any]]:
    known = roles(ctx)
    out = []
    for n, item in enumerate(items or []):
        rid = str(item["role"]["id"])
        if rid not in known:
            raise invalid(f"{field}[{n}].role: no role with id {rid} in the account (see accountRoles)")
        entities = []
        for e in item.get("allowedEntities") or []:
            if e["type"] in _ENTITY_KINDS and ctx.store.get(ctx.account_id, e["type"], str(e["id"])) is None:
                raise invalid(f"{field}[{n}].allowedEntities: no {e['type']} with id {e['id']}")
            entities.append({"id": str(e["id"]), "type": e["type"]})
        accounts = [str(a) for a in item.get("allowedAccounts") or []]
        if any(a != ctx.account_id for a in accounts):
            raise invalid(f"{field}[{n}].allowedAccounts: only a reseller account has other accounts")
        out.append({"role": rid, "allowedEntities": entities, "allowedAccounts": accounts})
    return out


def _names(inp: dict[str, Any]) -> None:
    for k in ("firstName", "lastName"):
        if k in inp and inp[k] is not None and not str(inp[k]).strip():
            raise invalid(f"{k} must not be empty")


def add_admin(ctx: RequestContext, inp: dict[str, Any]) -> str:
    if inp.get("adminType") == "SERVICE_PRINCIPLE":
        raise invalid("A service principal is added with addServicePrincipalAdmin")
    email = (inp.get("email") or "").strip()
    if not _EMAIL.match(email):
        raise invalid(
            f"email: '{inp.get('email') or ''}' is not an email address: a LOGIN admin signs in with it"
        )
    if any(a["email"].lower() == email.lower() for a in _all(ctx)):
        raise invalid(f"An admin with email {email} already exists")
    _names(inp)
    if inp.get("resellerRoles"):
        raise invalid("resellerRoles: this is not a reseller account")
    rec = {
        "id": new_id(ctx, ADMIN),
        "email": email,
        "firstName": inp["firstName"],
        "lastName": inp["lastName"],
        "adminType": "LOGIN",
        "passwordNeverExpires": inp["passwordNeverExpires"],
        "mfaEnabled": True,
        "managedRoles": _roles_of(ctx, inp.get("managedRoles"), "managedRoles"),
        "resellerRoles": [],
        "creationDate": timestamp(ctx),
    }
    ctx.store.put(ctx.account_id, ADMIN, rec["id"], rec, name=email)
    ctx.store.add_admin(ctx.account_id, rec["id"], email, f"{rec['firstName']} {rec['lastName']}")
    _log(ctx, rec, "CREATED")
    return rec["id"]


def update_admin(ctx: RequestContext, admin_id: str, inp: dict[str, Any]) -> str:
    old = _get(ctx, admin_id)
    _names(inp)
    if inp.get("resellerRoles"):
        raise invalid("resellerRoles: this is not a reseller account")
    new = {
        **old,
        **{k: inp[k] for k in ("firstName", "lastName", "passwordNeverExpires") if inp.get(k) is not None},
    }
    if inp.get("managedRoles") is not None:
        new["managedRoles"] = _roles_of(ctx, inp["managedRoles"], "managedRoles")
    ctx.store.put(ctx.account_id, ADMIN, new["id"], new, name=new["email"])
    ctx.store.add_admin(ctx.account_id, new["id"], new["email"], f"{new['firstName']} {new['lastName']}")
    _log(ctx, new, "MODIFIED")
    return new["id"]


def remove_admin(ctx: RequestContext, admin_id: str) -> str:
    rec = _get(ctx, admin_id)
    ctx.store.delete(ctx.account_id, ADMIN, rec["id"])
    ctx.store.execute("DELETE FROM admins WHERE account_id=? AND id=?", (ctx.account_id, rec["id"]))
    _log(ctx, rec, "DELETED")
    return rec["id"]


def _log(ctx: RequestContext, rec: dict[str, Any], change: str) -> None:
    if ctx.scratch.get("seeding"):
        return
    from .. import audit

    audit.record(ctx, object_id=rec["id"], object_name=rec["email"], object_type="admin",
                 change_type=change, model_type="Admin", module="administration")  # fmt: skip


# -- reads --------------------------------------------------------------------------------------------
def _entity(ctx: RequestContext, e: dict[str, Any]) -> dict[str, Any]:
    rec = ctx.store.get(ctx.account_id, e["type"], e["id"]) if e["type"] in _ENTITY_KINDS else None
    return {"id": e["id"], "type": e["type"], "name": (rec or {}).get("name")}


def admin_view(ctx: RequestContext, rec: dict[str, Any]) -> dict[str, Any]:
    known = roles(ctx)

    def role_view(items):
        return [
            {
                "role": known.get(r["role"]) or {"id": r["role"], "name": "", "isPredefined": False},
                "allowedEntities": [_entity(ctx, e) for e in r["allowedEntities"]],
                "allowedAccounts": r["allowedAccounts"],
            }
            for r in items
        ]

    return rec | {
        "managedRoles": role_view(rec["managedRoles"]),
        "resellerRoles": role_view(rec["resellerRoles"]),
        "version": "1",
        "status": "active",
        "nativeAccountID": ctx.account_id,
        "modifyDate": rec["creationDate"],
    }


@query("admins")
def admins(ctx: RequestContext, info, accountID: str, limit: int = 50, from_: int = 0, **kw) -> dict:
    start = kw.get("from", from_)
    wanted = kw.get("adminIDs")
    search = (kw.get("search") or "").lower()
    items = [a for a in _all(ctx) if (wanted is None or a["id"] in wanted)]
    items = [
        a for a in items if not search or search in f"{a['email']} {a['firstName']} {a['lastName']}".lower()
    ]
    page = items[start : start + limit]
    return {"items": [admin_view(ctx, a) for a in page], "total": len(items)}


@query("accountRoles")
def account_roles(ctx: RequestContext, info, accountID: str, accountType: str | None = None) -> dict:
    items = list(roles(ctx).values())
    return {"items": items, "total": len(items)}


class AdminMutations:
    def __init__(self, ctx: RequestContext) -> None:
        self.ctx = ctx

    def addAdmin(self, info, input):
        return {"adminID": add_admin(self.ctx, input)}

    def updateAdmin(self, info, adminID, input):
        return {"adminID": update_admin(self.ctx, adminID, input)}

    def removeAdmin(self, info, adminID):
        return {"adminID": remove_admin(self.ctx, adminID)}


@mutation("admin")
def admin_mutations(ctx: RequestContext, info, accountId: str) -> AdminMutations:
    return AdminMutations(ctx)


@seeder
def seed_roles(ctx: RequestContext, account: dict[str, Any]) -> None:
    for r in account.get("roles") or []:
        rid = str(r["id"])
        if rid in ROLES:
            raise ValueError(f"role id {rid} is a predefined role's")
        rec = {"id": rid, "name": r["name"], "description": r.get("description"), "isPredefined": False}
        ctx.store.put(ctx.account_id, ROLE, rid, rec, name=r["name"])
