"""``groups``: createGroup, updateGroup, deleteGroup, group and groupList.

A group holds typed member references. Members resolve against real entities, by id or by the
name ``entityLookup`` shows (``"<site> \\ <interface> \\ <range>"`` for a SITE_NETWORK_SUBNET):
SITE, HOST, NETWORK_INTERFACE, SITE_NETWORK_SUBNET. An unknown member is a NOT_FOUND error, and
so is every FLOATING_SUBNET and GLOBAL_IP_RANGE (the emulator has none). Members are stored by id,
so renames show through; removing a site, range, host or interface drops it from every group.
``updateGroup`` replaces the members when ``members`` is given, or applies ``membersToAdd`` and
``membersToRemove``; SDL ``UpdateGroupInput``: they "can't be used together with the 'members'
field", and an update may carry fewer than 500 members ("'membersToAdd + membersToRemove' or
'members' must be less than 500"); a ``createGroup`` at most 500 ("a maximum of 500 members per
createGroup mutation"). Names are "not guaranteed to be globally unique" (SDL ``Group.name``):
duplicates are accepted, and a reference by a name two groups share is refused as ambiguous.

Fixture section (``accounts[].groups``), after ``sites``::

    groups:
      - name: Branches
        description: every branch
        members:
          - {type: site, name: Paris}
          - {type: site_network_subnet, name: "HQ \\ LAN1 \\ Native Range"}
          - {type: host, id: "400001"}
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError

from ..context import CatoGraphQLError, RequestContext, invalid, not_found
from ..registry import mutation, query, seeder
from .devices import matches, ordered
from .lookup import TYPES, index, pick
from .sites import HOST, IFACE, ON_DELETE, RANGE, SITE, api_input, log, new_id, timestamp

GROUP = "group"
MAX_CREATE_MEMBERS = 500  # SDL CreateGroupInput.members: "a maximum of 500 members per createGroup"
MAX_UPDATE_MEMBERS = 499  # SDL UpdateGroupInput: "... must be less than 500"
MEMBER_KINDS = {
    "SITE": SITE,
    "HOST": HOST,
    "NETWORK_INTERFACE": IFACE,
    "SITE_NETWORK_SUBNET": RANGE,
    "FLOATING_SUBNET": "floatingSubnet",
    "GLOBAL_IP_RANGE": "globalIpRange",
}
_TYPE_OF_KIND = {v: k for k, v in MEMBER_KINDS.items()}


class _Refs:
    """Resolves member refs for one operation, indexing each entity type once."""

    def __init__(self, ctx: RequestContext) -> None:
        self.ctx, self._idx = ctx, {}

    def table(self, mtype: str) -> tuple[dict, dict]:
        kind = MEMBER_KINDS[mtype]
        if kind not in self._idx:
            self._idx[kind] = index(self.ctx, kind) if kind in TYPES else ({}, {})
        return self._idx[kind]

    def resolve(self, ref: dict[str, Any]) -> dict[str, str]:
        found = pick(self.table(ref["type"]), ref["type"], ref.get("by", "ID"), ref["input"])
        return {"type": ref["type"], "id": found["id"]}

    def render(self, member: dict[str, str]) -> dict[str, str]:
        return member | {"name": self.table(member["type"])[0][member["id"]]["name"]}


def _get(ctx: RequestContext, ref: dict[str, Any]) -> dict[str, Any]:
    if ref.get("by", "ID") == "NAME":
        found = ctx.store.find_by_name(ctx.account_id, GROUP, ref["input"])
        if not found:
            raise CatoGraphQLError(f"Group with name {ref['input']} not found", "NOT_FOUND")
        if len(found) > 1:
            raise invalid(
                f"Group name '{ref['input']}' is ambiguous ({len(found)} groups): refer to it by id"
            )
        return found[0]
    g = ctx.store.get(ctx.account_id, GROUP, ref["input"])
    if g is None:
        raise not_found("Group", ref["input"])
    return g


def view(ctx: RequestContext, g: dict[str, Any], refs: _Refs | None = None) -> dict[str, Any]:
    """A ``Group`` with its members resolved now (so it survives the group's deletion)."""
    refs = refs or _Refs(ctx)
    members = [refs.render(m) for m in g["members"]]
    counts: dict[str, int] = {}
    for m in members:
        counts[m["type"]] = counts.get(m["type"], 0) + 1

    def member_list(info, input=None):
        inp = input or {}
        found = [m for m in members if all(matches(m, f) for f in inp.get("filter") or [])]
        found = ordered(found, inp.get("sort") or {})
        page = inp.get("paging") or {}
        start = page.get("from", 0)
        return {"items": found[start : start + page.get("limit", 100)], "paging": {"total": len(found)}}

    return {
        "id": g["id"],
        "name": g["name"],
        "description": g.get("description"),
        "members": member_list,
        "membersCount": len(members),
        "membersCountPerType": [{"type": t, "membersCount": n} for t, n in counts.items()],
        "audit": g["audit"],
    }


def _save(ctx: RequestContext, g: dict[str, Any]) -> None:
    if not g["name"]:
        raise invalid("A group needs a name")
    ident = ctx.identity
    actor = {"__typename": "AdminRef" if ident.is_admin else "ApiKeyRef", "id": ident.id, "name": ident.name}
    g["audit"] = {"updatedBy": actor, "updatedTime": timestamp(ctx)}
    ctx.store.put(ctx.account_id, GROUP, g["id"], g, name=g["name"])


def _add_members(current: list[dict], new: list[dict]) -> list[dict]:
    return current + [m for i, m in enumerate(new) if m not in current and m not in new[:i]]


def create_group(ctx: RequestContext, inp: dict[str, Any], explicit_id: Any = None) -> dict[str, Any]:
    if len(inp.get("members") or []) > MAX_CREATE_MEMBERS:
        raise invalid(
            f"createGroup takes at most {MAX_CREATE_MEMBERS} members ({len(inp['members'])} given): "
            "add the rest with updateGroup membersToAdd"
        )
    refs = _Refs(ctx)
    members = _add_members([], [refs.resolve(r) for r in inp.get("members") or []])
    g = {
        "id": new_id(ctx, GROUP, explicit_id),
        "name": inp["name"],
        "description": inp.get("description"),
        "members": members,
    }
    _save(ctx, g)
    log(ctx, GROUP, g["id"], g["name"], "CREATED", model="Group")
    return view(ctx, g, refs)


def update_group(ctx: RequestContext, inp: dict[str, Any]) -> dict[str, Any]:
    delta = len(inp.get("membersToAdd") or []) + len(inp.get("membersToRemove") or [])
    if inp.get("members") is not None and delta:
        raise invalid("membersToAdd and membersToRemove can't be used together with the 'members' field")
    if max(delta, len(inp.get("members") or [])) > MAX_UPDATE_MEMBERS:
        raise invalid(
            f"updateGroup can change fewer than {MAX_UPDATE_MEMBERS + 1} members at a time "
            "('membersToAdd + membersToRemove' or 'members')"
        )
    old, refs = _get(ctx, inp["group"]), _Refs(ctx)
    new = old | {k: inp[k] for k in ("name", "description") if inp.get(k) is not None}
    if inp.get("members") is not None:
        new["members"] = _add_members([], [refs.resolve(r) for r in inp["members"]])
    new["members"] = _add_members(new["members"], [refs.resolve(r) for r in inp.get("membersToAdd") or []])
    drop = [refs.resolve(r) for r in inp.get("membersToRemove") or []]
    new["members"] = [m for m in new["members"] if m not in drop]
    _save(ctx, new)
    log(ctx, GROUP, new["id"], new["name"], "MODIFIED", model="Group")
    return view(ctx, new, refs)


def delete_group(ctx: RequestContext, ref: dict[str, Any]) -> dict[str, Any]:
    g = _get(ctx, ref)
    out = view(ctx, g)
    ctx.store.delete(ctx.account_id, GROUP, g["id"])
    log(ctx, GROUP, g["id"], g["name"], "DELETED", model="Group")
    return out


def _forget(ctx: RequestContext, gone: list[tuple[str, str]]) -> None:
    """Drop removed entities from every group (no audit record: Cato logs the removal itself)."""
    dead = {(_TYPE_OF_KIND[k], i) for k, i in gone if k in _TYPE_OF_KIND}
    for g in ctx.store.list(ctx.account_id, GROUP):
        kept = [m for m in g["members"] if (m["type"], m["id"]) not in dead]
        if len(kept) != len(g["members"]):
            ctx.store.put(ctx.account_id, GROUP, g["id"], g | {"members": kept}, name=g["name"])


ON_DELETE.append(_forget)


class GroupsMutations:
    def __init__(self, ctx: RequestContext) -> None:
        self.ctx = ctx

    def createGroup(self, info, input):
        return {"group": create_group(self.ctx, input)}

    def updateGroup(self, info, input):
        return {"group": update_group(self.ctx, input)}

    def deleteGroup(self, info, input):
        return {"group": delete_group(self.ctx, input)}


class GroupsQueries:
    def __init__(self, ctx: RequestContext) -> None:
        self.ctx = ctx

    def group(self, info, input):
        return view(self.ctx, _get(self.ctx, input))

    def groupList(self, info, input=None):
        ctx, inp, refs = self.ctx, input or {}, _Refs(self.ctx)
        groups = ctx.store.list(ctx.account_id, GROUP)
        for f in inp.get("filter") or []:
            if f.get("audit"):
                raise invalid("groupList: filtering on audit is not supported here")
            if f.get("freeText"):
                text = f["freeText"]["search"].lower()
                groups = [
                    g
                    for g in groups
                    if text in g["name"].lower() or text in (g.get("description") or "").lower()
                ]
            for m in f.get("member") or []:
                member = refs.resolve(m["ref"])
                groups = [g for g in groups if member in g["members"]]
            groups = [g for g in groups if matches(g, {k: f.get(k) for k in ("id", "name")})]
        groups = ordered(groups, inp.get("sort") or {"name": {"direction": "ASC"}})
        page = inp.get("paging") or {}
        start = page.get("from", 0)
        items = [view(ctx, g, refs) for g in groups[start : start + page.get("limit", 100)]]
        return {"items": items, "paging": {"total": len(groups)}}


@mutation("groups")
def groups_mutations(ctx: RequestContext, info, accountId: str) -> GroupsMutations:
    return GroupsMutations(ctx)


@query("groups")
def groups_queries(ctx: RequestContext, info, accountId: str) -> GroupsQueries:
    return GroupsQueries(ctx)


@seeder
def seed_groups(ctx: RequestContext, account: dict[str, Any]) -> None:
    for g in account.get("groups") or []:
        members = [
            {
                "type": str(m["type"]).upper(),
                "by": "ID" if "id" in m else "NAME",
                "input": str(m.get("id", m.get("name"))),
            }
            for m in g.get("members") or []
        ]
        try:
            inp = api_input(
                "CreateGroupInput",
                {"name": g["name"], "description": g.get("description"), "members": members},
            )
            create_group(ctx, inp, g.get("id"))
        except GraphQLError as e:
            raise ValueError(f"group {g.get('name')!r}: {e.message}") from None
