"""Group: a named set of typed members (sites, hosts, network ranges...) that policies refer to.

Members are ``{type, id}`` or ``{type, name}`` (``GroupMemberRefTypedInput`` by ID or NAME), in
any order: the group is a set. A name is the one Cato's lookup shows: a site or host by its name,
a network interface as ``"<site> \\ <interface>"``, a range as ``"<site> \\ <interface> \\ <range>"``.
Cato answers every member with both, so a read keeps the form the state uses for each member
(``reconcile``); a member nobody named shows by id.

Read path: the ``groups`` collection, ``groupList`` paged (100 groups a page, each with its first
100 members; a larger group costs one ``group`` call per further 100 members).
"""

from __future__ import annotations

from typing import Any

from ...readpath import AccountReader, register_loader
from ..enums import enum_values
from ..spec import Operation, ResourceSpec
from .common import NAME, prune

PAGE = 100  # PagingInput's documented default: safe against the real API's cap

MEMBER = {
    "type": "object",
    "additionalProperties": False,
    "required": ["type"],
    "properties": {
        "type": {"enum": enum_values("GroupMemberRefType")},
        "id": {"type": "string", "minLength": 1},
        "name": {"type": "string", "minLength": 1},
    },
}
SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name"],
    "properties": {
        "name": NAME,
        "description": {"type": "string", "default": ""},
        # Members per group: Cato KB 4414483096465 ("Entity Limits per Account").
        "members": {"type": "array", "items": MEMBER, "default": [], "maxItems": 50_000},
    },
}


def _rules(i: dict[str, Any]) -> list[tuple[str, str]]:
    out = []
    for n, m in enumerate(i.get("members") or []):
        if isinstance(m, dict) and ("id" in m) == ("name" in m):
            out.append((f"members[{n}]", "give a member either its id or its name, not both"))
    return out


def _member(m: dict[str, Any]) -> dict[str, Any]:
    # A member known both ways (an unreconciled read) is compared by id.
    return {"type": m["type"], "id": str(m["id"])} if m.get("id") else {"type": m["type"], "name": m["name"]}


def _normalize(i: dict[str, Any]) -> dict[str, Any]:
    i = prune(i)
    members = {tuple(sorted(_member(m).items())) for m in i.get("members") or []}
    i["members"] = [dict(m) for m in sorted(members)]
    return i


def _refs(i: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"type": m["type"], "by": "ID", "input": m["id"]}
        if m.get("id")
        else {"type": m["type"], "by": "NAME", "input": m["name"]}
        for m in i.get("members") or []
    ]


def _create(_id, i, _view) -> dict[str, Any]:
    return {"input": {"name": i["name"], "description": i.get("description", ""), "members": _refs(i)}}


def _update(group_id, i, _view) -> dict[str, Any]:
    return {
        "input": {
            "group": {"by": "ID", "input": group_id},
            "name": i["name"],
            "description": i.get("description", ""),
            "members": _refs(i),
        }
    }


def _read(live: dict[str, Any], _view) -> dict[str, Any]:
    return {
        "name": live["name"],
        "description": live.get("description") or "",
        "members": [dict(m) for m in live.get("members") or []],
    }


def _reconcile(live: dict[str, Any], prior: dict[str, Any]) -> dict[str, Any]:
    named = {(m.get("type"), m.get("name")) for m in prior.get("members") or [] if isinstance(m, dict)}
    members = [
        {"type": m["type"], "name": m["name"]}
        if (m["type"], m.get("name")) in named
        else {"type": m["type"], "id": m["id"]}
        for m in live.get("members") or []
    ]
    return {**live, "members": members}


def _members_page(r: AccountReader, group_id: str, start: int) -> dict[str, Any]:
    data = r.client.execute(
        "GroupMembers",
        {"group": {"by": "ID", "input": group_id}, "members": {"paging": {"from": start, "limit": PAGE}}},
    )
    return ((data.get("groups") or {}).get("group") or {}).get("members") or {}


def load_groups(r: AccountReader) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    start = 0
    while True:
        data = r.client.execute(
            "GroupList",
            {
                "input": {"paging": {"from": start, "limit": PAGE}},
                "members": {"paging": {"from": 0, "limit": PAGE}},
            },
        )
        page = (data.get("groups") or {}).get("groupList") or {}
        items = page.get("items") or []
        total = (page.get("paging") or {}).get("total") or 0
        for g in items:
            gid = str(g["id"])
            members = list((g.get("members") or {}).get("items") or [])
            member_total = ((g.get("members") or {}).get("paging") or {}).get("total") or len(members)
            while len(members) < member_total:
                more = _members_page(r, gid, len(members)).get("items") or []
                if not more:
                    break
                members += more
            out[gid] = {
                "id": gid,
                "name": g.get("name"),
                "description": g.get("description"),
                "members": [{"type": m["type"], "id": str(m["id"]), "name": m.get("name")} for m in members],
            }
        start += len(items)
        if r._on_page:  # the reader's progress hook, which the built-in loaders call too
            r._on_page("group", start, total)
        if not items or start >= total:
            return out


# Members show by their current names, and a removed site, host, range or interface leaves every group.
register_loader("groups", load_groups, depends_on=("sites", "hosts", "ranges", "interfaces"))

GROUP = ResourceSpec(
    name="Group",
    kind="groups",
    schema=SCHEMA,
    create=Operation("CreateGroup", _create, id_path="groups.createGroup.group.id"),
    update=Operation("UpdateGroup", _update),
    delete=Operation("DeleteGroup", lambda group_id, _i, _v: {"input": {"by": "ID", "input": group_id}}),
    natural_key=("name",),
    read=_read,
    rules=(_rules,),
    normalize=_normalize,
    reconcile=_reconcile,
)
