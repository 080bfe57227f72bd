"""Group: a named set of typed members (sites, hosts, network ranges...) that policies refer to.

Members are ``{type, id}`` or ``{type, name}`` (``GroupMemberRefTypedInput`` by ID or NAME), in
any order: the group is a set. A name is the one Cato's lookup shows: a site or host by its name,
a network interface as ``"<site> \\ <interface>"``, a range as ``"<site> \\ <interface> \\ <range>"``.
Cato answers every member with both, so a read keeps the form the state uses for each member
(``reconcile``); a member nobody named shows by id.

Writes (SDL ``CreateGroupInput``/``UpdateGroupInput``): a ``createGroup`` carries at most 500
members and an ``updateGroup`` fewer than 500, and ``membersToAdd``/``membersToRemove`` never go
with ``members``. A larger group is created with its first 500 members, then grown by
``membersToAdd`` batches; if a batch fails, the new group is deleted again, so a failed create
leaves nothing behind. An update of a large group sends only the difference from the live group.
Group names are "not guaranteed to be globally unique", so a create whose reply was lost looks
for a group of that name that was not there before, and adopts it only if there is exactly one.

Read path: the ``groups`` collection, ``groupList`` paged (100 groups a page, each with its first
100 members; a larger group costs one ``group`` call per further 100 members).
"""

from __future__ import annotations

from typing import Any

from ...errors import CatoError, NotFoundError, OutcomeUnknownError
from ...readpath import AccountReader, register_loader
from ..enums import enum_values
from ..spec import ResourceSpec
from .common import NAME, prune

PAGE = 100  # PagingInput's documented default: safe against the real API's cap
CREATE_BATCH = 500  # SDL CreateGroupInput.members: "a maximum of 500 members per createGroup"
UPDATE_BATCH = (
    499  # SDL UpdateGroupInput: "'membersToAdd + membersToRemove' or 'members' must be less than 500"
)

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


def _batches(items: list, size: int) -> list[list]:
    return [items[n : n + size] for n in range(0, len(items), size)]


def _same_named(session, name: str) -> set[str]:
    return {gid for gid, g in session.reader.get("groups").items() if g.get("name") == name}


def _create(session, i: dict[str, Any]) -> str:
    refs = _refs(i)
    body = {"name": i["name"], "description": i.get("description", ""), "members": refs[:CREATE_BATCH]}
    before = _same_named(session, i["name"])
    try:
        data = session.client.execute("CreateGroup", {"input": body})
        group_id = str(data["groups"]["createGroup"]["group"]["id"])
    except OutcomeUnknownError:
        # The group may exist now. Names are not unique: only a group of this name that was not
        # there before the call can be ours, and only if there is exactly one.
        session.reader.invalidate("groups")
        new = _same_named(session, i["name"]) - before
        if len(new) != 1:
            raise
        group_id = new.pop()
    finally:
        session.reader.invalidate("groups")
    try:
        for batch in _batches(refs[CREATE_BATCH:], UPDATE_BATCH):
            session.client.execute(
                "UpdateGroup", {"input": {"group": {"by": "ID", "input": group_id}, "membersToAdd": batch}}
            )
    except CatoError:
        # Leave nothing half-made: the next `up` creates the group again from scratch.
        try:
            session.client.execute("DeleteGroup", {"input": {"by": "ID", "input": group_id}})
        except CatoError:
            pass
        raise
    finally:
        session.reader.invalidate("groups")
    return group_id


def _matches(want: dict[str, Any], have: dict[str, Any]) -> bool:
    if want["type"] != have["type"]:
        return False
    return str(have.get("id")) == str(want["id"]) if want.get("id") else have.get("name") == want.get("name")


def _update(session, group_id: str, i: dict[str, Any]) -> None:
    ref = {"by": "ID", "input": group_id}
    head = {"group": ref, "name": i["name"], "description": i.get("description", "")}
    wanted = list(i.get("members") or [])
    if len(wanted) <= UPDATE_BATCH:
        session.client.execute("UpdateGroup", {"input": {**head, "members": _refs(i)}})
        return
    # Too many to replace in one call: send the difference from the live group, in batches.
    live = (session.reader.get("groups").get(group_id) or {}).get("members") or []
    remove = [
        {"type": m["type"], "by": "ID", "input": m["id"]}
        for m in live
        if not any(_matches(w, m) for w in wanted)
    ]
    add = _refs({"members": [w for w in wanted if not any(_matches(w, m) for m in live)]})
    changes = [("membersToRemove", r) for r in remove] + [("membersToAdd", a) for a in add]
    calls = _batches(changes, UPDATE_BATCH) or [[]]
    for n, batch in enumerate(calls):
        body: dict[str, Any] = dict(head) if n == 0 else {"group": ref}
        for key, m in batch:
            body.setdefault(key, []).append(m)
        session.client.execute("UpdateGroup", {"input": body})


def _apply(session, group_id, _olds, news, _claim=None) -> tuple[str, dict[str, Any]]:
    """Create, update or delete; the engine journals the create (``journals_itself`` is False)."""
    try:
        if news is None:
            try:
                session.client.execute("DeleteGroup", {"input": {"by": "ID", "input": group_id}})
            except NotFoundError:
                pass
            return group_id, {}
        if group_id is None:
            group_id = _create(session, news)
        else:
            _update(session, group_id, news)
    finally:
        session.reader.invalidate("groups")
    return str(group_id), {**news, "resource_id": str(group_id)}


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
            member_total = ((g.get("members") or {}).get("paging") or {}).get("total")
            page_len = len(members)
            # A full page or a total that says more: ask again; an empty or short page ends it.
            while page_len and (page_len == PAGE or (member_total or 0) > len(members)):
                more = _members_page(r, gid, len(members)).get("items") or []
                page_len = len(more)
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
        # Never on `total` alone (cato-cli pages until a short page): an empty page ends it, and a
        # short one unless `total` says more remain.
        if not items or (len(items) < PAGE and start >= total):
            return out


# Members show by their current names, and a removed site, host, range or interface leaves every group.
register_loader("groups", load_groups, depends_on=("sites", "hosts", "ranges", "interfaces"))

GROUP = ResourceSpec(
    name="Group",
    kind="groups",
    schema=SCHEMA,
    # Group writes may be several calls (batches of members): `apply` does them, see above.
    apply=_apply,
    natural_key=("name",),
    read=_read,
    rules=(_rules,),
    normalize=_normalize,
    reconcile=_reconcile,
)
