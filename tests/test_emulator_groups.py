"""Groups over real HTTP: CRUD, member resolution against real entities, cascades, listing, audit."""

from __future__ import annotations

import pytest
from emu_helpers import ACCOUNT
from sites_support import REMOVE_HOST, REMOVE_RANGE, REMOVE_SITE, UPDATE_SITE, Api, fixture

from catoiac.emulator.control import EmulatorControl
from catoiac.emulator.limits import RateLimitConfig

A = ACCOUNT
GROUP_FIELDS = """id name description membersCount membersCountPerType { type membersCount }
  audit { updatedTime updatedBy { __typename id name } }
  members { paging { total } items { id name type } }"""
CREATE = f"""mutation($a: ID!, $i: CreateGroupInput!) {{ groups(accountId: $a) {{ createGroup(input: $i) {{ group {{ {GROUP_FIELDS} }} }} }} }}"""
UPDATE = f"""mutation($a: ID!, $i: UpdateGroupInput!) {{ groups(accountId: $a) {{ updateGroup(input: $i) {{ group {{ {GROUP_FIELDS} }} }} }} }}"""
DELETE = f"""mutation($a: ID!, $i: GroupRefInput!) {{ groups(accountId: $a) {{ deleteGroup(input: $i) {{ group {{ {GROUP_FIELDS} }} }} }} }}"""
GROUP = f"""query($a: ID!, $i: GroupRefInput!) {{ groups(accountId: $a) {{ group(input: $i) {{ {GROUP_FIELDS} }} }} }}"""
LIST = """query($a: ID!, $i: GroupListInput) { groups(accountId: $a) { groupList(input: $i) {
  paging { total } items { id name membersCount } } } }"""
MEMBERS = """query($a: ID!, $g: GroupRefInput!, $m: GroupMembersListInput!) { groups(accountId: $a) {
  group(input: $g) { members(input: $m) { paging { total } items { id name type } } } } }"""

SEEDED = [
    {
        "name": "Everything HQ",
        "description": "all kinds",
        "members": [
            {"type": "site", "name": "HQ"},
            {"type": "site_network_subnet", "name": "HQ \\ INT_5 \\ Printers"},
            {"type": "network_interface", "name": "HQ \\ Servers"},
            {"type": "host", "name": "printer-1"},
        ],
    },
    {"name": "Europe", "members": [{"type": "site", "name": "Paris"}]},
]


@pytest.fixture
def emu(emulator_factory):
    return emulator_factory(fixture(groups=SEEDED), rate_limits=RateLimitConfig(enabled=False))


@pytest.fixture
def api(emu):
    with Api(emu.url) as api:
        yield api


def ref(name: str) -> dict:
    return {"by": "NAME", "input": name}


def group(api: Api, name: str) -> dict:
    return api.ok(GROUP, a=A, i=ref(name))["groups"]["group"]


def members(g: dict) -> set[tuple[str, str]]:
    return {(m["type"], m["name"]) for m in g["members"]["items"]}


def test_seeded_group_members_resolve_to_real_entities(api):
    g = group(api, "Everything HQ")
    assert g["description"] == "all kinds" and g["membersCount"] == 4
    assert members(g) == {
        ("SITE", "HQ"),
        ("SITE_NETWORK_SUBNET", "HQ \\ INT_5 \\ Printers"),
        ("NETWORK_INTERFACE", "HQ \\ Servers"),
        ("HOST", "printer-1"),
    }
    site = next(m for m in g["members"]["items"] if m["type"] == "SITE")
    assert site["id"] == api.site_id("HQ")
    # Default member order: by type, then name.
    assert [m["type"] for m in g["members"]["items"]] == [
        "HOST",
        "NETWORK_INTERFACE",
        "SITE",
        "SITE_NETWORK_SUBNET",
    ]
    assert {c["type"]: c["membersCount"] for c in g["membersCountPerType"]} == {
        "SITE": 1,
        "SITE_NETWORK_SUBNET": 1,
        "NETWORK_INTERFACE": 1,
        "HOST": 1,
    }


def test_group_crud_round_trip_with_audit(api):
    paris = api.site_id("Paris")
    created = api.ok(
        CREATE,
        a=A,
        i={
            "name": "Ops",
            "description": "ops sites",
            "members": [{"type": "SITE", "input": paris}, {"type": "SITE", "by": "NAME", "input": "HQ"}],
        },
    )["groups"]["createGroup"]["group"]
    gid = created["id"]
    assert members(created) == {("SITE", "Paris"), ("SITE", "HQ")}
    assert created["audit"]["updatedBy"] == {"__typename": "ApiKeyRef", "id": "k-catoiac", "name": "catoiac"}
    assert api.ok(GROUP, a=A, i={"by": "ID", "input": gid})["groups"]["group"] == created

    nas = api.lookup("host", search="nas")["items"][0]["entity"]["id"]
    upd = {
        "group": {"by": "ID", "input": gid},
        "name": "Operations",
        "membersToAdd": [{"type": "HOST", "input": nas}, {"type": "SITE", "input": paris}],
        "membersToRemove": [{"type": "SITE", "by": "NAME", "input": "HQ"}],
    }
    updated = api.ok(UPDATE, a=A, i=upd)["groups"]["updateGroup"]["group"]
    assert updated["name"] == "Operations" and updated["description"] == "ops sites"
    assert members(updated) == {("SITE", "Paris"), ("HOST", "nas")}  # adding a member twice keeps one
    replaced = api.ok(UPDATE, a=A, i={"group": ref("Operations"), "members": []})["groups"]["updateGroup"][
        "group"
    ]
    assert replaced["membersCount"] == 0

    deleted = api.ok(DELETE, a=A, i=ref("Operations"))["groups"]["deleteGroup"]["group"]
    assert deleted["id"] == gid and deleted["name"] == "Operations"
    err = api.err(GROUP, a=A, i={"by": "ID", "input": gid})
    assert err["message"] == f"Group with id {gid} not found" and err["extensions"]["code"] == "NOT_FOUND"

    records = [r for r in api.audit() if r["object"]["id"] == gid]
    assert [r["fieldsMap"]["change_type"] for r in records] == ["CREATED", "MODIFIED", "MODIFIED", "DELETED"]
    assert all(r["object"]["type"] == "group" for r in records)
    # SDL AuditFieldName.module: administration, configuration or security; no values
    # outside the firewall policies (KB 4413273463953).
    assert {(r["fieldsMap"]["model_type"], r["fieldsMap"]["module"]) for r in records} == {
        ("Group", "configuration")
    }
    assert records[1]["object"]["name"] == "Operations"
    assert not [
        k for r in records for k in r["fieldsMap"] if k.startswith(("change_Before_", "change_After_"))
    ]


def test_a_change_in_the_ui_is_attributed_to_the_admin(emu, api):
    with EmulatorControl(emu.base_url) as ctl:
        out = ctl.as_admin(A, "alice@example.com", CREATE, {"a": A, "i": {"name": "Alice's"}})
    assert out["data"]["groups"]["createGroup"]["group"]["audit"]["updatedBy"] == {
        "__typename": "AdminRef",
        "id": "a-alice",
        "name": "alice@example.com",
    }


@pytest.mark.parametrize(
    ("member", "message"),
    [
        ({"type": "SITE", "input": "424242"}, "SITE with id 424242 not found"),
        ({"type": "SITE", "by": "NAME", "input": "Atlantis"}, "SITE with name Atlantis not found"),
        ({"type": "HOST", "by": "NAME", "input": "HQ"}, "HOST with name HQ not found"),
        (
            {"type": "SITE_NETWORK_SUBNET", "by": "NAME", "input": "Printers"},
            "SITE_NETWORK_SUBNET with name Printers not found",
        ),
        (
            {"type": "NETWORK_INTERFACE", "by": "NAME", "input": "HQ \\ WAN1"},
            "not found",
        ),  # WAN ports are no LANs
        (
            {"type": "GLOBAL_IP_RANGE", "by": "NAME", "input": "corp"},
            "GLOBAL_IP_RANGE with name corp not found",
        ),
        ({"type": "FLOATING_SUBNET", "input": "1"}, "FLOATING_SUBNET with id 1 not found"),
    ],
)
def test_unknown_members_are_errors_and_change_nothing(api, member, message):
    err = api.err(
        CREATE, a=A, i={"name": "Bad", "members": [{"type": "SITE", "by": "NAME", "input": "HQ"}, member]}
    )
    assert message in err["message"]
    assert err["extensions"]["code"] == "NOT_FOUND"
    assert api.ok(LIST, a=A)["groups"]["groupList"]["paging"]["total"] == 2


def test_group_names_may_repeat_and_a_shared_name_is_an_ambiguous_reference(api):
    # SDL Group.name: "not guaranteed to be globally unique".
    twin = api.ok(CREATE, a=A, i={"name": "Europe"})["groups"]["createGroup"]["group"]
    assert twin["name"] == "Europe"
    renamed = api.ok(UPDATE, a=A, i={"group": {"by": "ID", "input": twin["id"]}, "name": "Everything HQ"})
    assert renamed["groups"]["updateGroup"]["group"]["name"] == "Everything HQ"
    err = api.err(UPDATE, a=A, i={"group": ref("Everything HQ"), "description": "x"})
    assert "ambiguous" in err["message"] and "by id" in err["message"]
    assert api.err(DELETE, a=A, i=ref("Nope"))["message"] == "Group with name Nope not found"
    assert (
        api.err(UPDATE, a=A, i={"group": {"by": "ID", "input": "9"}, "name": "x"})["extensions"]["code"]
        == "NOT_FOUND"
    )


def test_members_and_members_to_add_or_remove_do_not_mix(api):
    # SDL UpdateGroupInput.membersToAdd/membersToRemove: "Can't be used together with the 'members' field".
    paris = {"type": "SITE", "by": "NAME", "input": "Paris"}
    for key in ("membersToAdd", "membersToRemove"):
        err = api.err(UPDATE, a=A, i={"group": ref("Europe"), "members": [paris], key: [paris]})
        assert "can't be used together with the 'members' field" in err["message"]
    assert members(group(api, "Europe")) == {("SITE", "Paris")}


def test_member_counts_per_call_follow_the_sdl_limits(api):
    # SDL: "a maximum of 500 members per createGroup mutation"; an update "must be less than 500".
    hosts = [{"type": "HOST", "by": "NAME", "input": "nas"}] * 501
    err = api.err(CREATE, a=A, i={"name": "big", "members": hosts})
    assert "at most 500 members (501 given)" in err["message"]
    assert api.ok(CREATE, a=A, i={"name": "big", "members": hosts[:500]})  # 500: accepted (duplicates fold)
    err = api.err(
        UPDATE, a=A, i={"group": ref("big"), "membersToAdd": hosts[:300], "membersToRemove": hosts[:200]}
    )
    assert "fewer than 500 members" in err["message"]
    assert api.ok(UPDATE, a=A, i={"group": ref("big"), "membersToAdd": hosts[:499]})


def test_members_follow_renames_and_removals(api):
    hq = api.site_id("HQ")
    api.ok(UPDATE_SITE, a=A, s=hq, i={"name": "Head Office"})
    assert ("SITE_NETWORK_SUBNET", "Head Office \\ INT_5 \\ Printers") in members(group(api, "Everything HQ"))
    host = api.lookup("host", search="printer-1")["items"][0]["entity"]["id"]
    api.ok(REMOVE_HOST, a=A, h=host)
    assert ("HOST", "printer-1") not in members(group(api, "Everything HQ"))
    printers = api.ranges(hq)["Printers"]["networkRangeId"]
    api.ok(REMOVE_RANGE, a=A, r=printers)
    assert group(api, "Everything HQ")["membersCount"] == 2
    api.ok(REMOVE_SITE, a=A, s=hq)
    assert group(api, "Everything HQ")["membersCount"] == 0  # the site, and its interface, went


def test_group_list_paging_filters_and_sort(api):
    for i in range(5):
        api.ok(
            CREATE,
            a=A,
            i={"name": f"team-{i}", "members": [{"type": "SITE", "by": "NAME", "input": "Paris"}]},
        )
    listing = api.ok(LIST, a=A, i={"paging": {"from": 0, "limit": 3}})["groups"]["groupList"]
    assert listing["paging"]["total"] == 7
    assert [g["name"] for g in listing["items"]] == [
        "Europe",
        "Everything HQ",
        "team-0",
    ]  # default: name ascending
    page = api.ok(LIST, a=A, i={"paging": {"from": 6, "limit": 3}})["groups"]["groupList"]
    assert [g["name"] for g in page["items"]] == ["team-4"]
    desc = api.ok(LIST, a=A, i={"sort": {"name": {"direction": "DESC"}}, "paging": {"from": 0, "limit": 1}})
    assert desc["groups"]["groupList"]["items"][0]["name"] == "team-4"

    def names(flt: dict) -> list[str]:
        out = api.ok(LIST, a=A, i={"filter": [flt], "paging": {"from": 0, "limit": 100}})["groups"][
            "groupList"
        ]
        return [g["name"] for g in out["items"]]

    assert names({"freeText": {"search": "TEAM"}}) == [f"team-{i}" for i in range(5)]
    assert names({"name": [{"eq": "Europe"}]}) == ["Europe"]
    assert names({"name": [{"regex": "^team-[34]$"}]}) == ["team-3", "team-4"]
    assert names({"member": [{"ref": {"type": "SITE", "by": "NAME", "input": "HQ"}}]}) == ["Everything HQ"]
    europe = group(api, "Europe")["id"]
    assert names({"id": [{"in": [europe]}]}) == ["Europe"]


def test_group_members_paging_filter_and_sort(api):
    g = ref("Everything HQ")

    def items(m: dict) -> list[tuple[str, str]]:
        out = api.ok(MEMBERS, a=A, g=g, m=m)["groups"]["group"]["members"]
        return out["paging"]["total"], [(x["type"], x["name"]) for x in out["items"]]

    total, page = items({"paging": {"from": 1, "limit": 2}})
    assert total == 4 and page == [("NETWORK_INTERFACE", "HQ \\ Servers"), ("SITE", "HQ")]
    total, page = items({"filter": [{"type": [{"in": ["SITE", "HOST"]}]}]})
    assert total == 2 and page == [("HOST", "printer-1"), ("SITE", "HQ")]
    total, page = items({"sort": {"name": {"direction": "DESC", "priority": 1}}})
    assert page[0] == ("HOST", "printer-1")


@pytest.mark.parametrize(
    ("groups", "message"),
    [
        (
            [{"name": "g", "members": [{"type": "site", "name": "Nowhere"}]}],
            "group 'g': SITE with name Nowhere not found",
        ),
        ([{"name": "g", "members": [{"type": "planet", "name": "Mars"}]}], "PLANET"),
    ],
)
def test_invalid_group_fixture_is_refused(emulator_factory, groups, message):
    emu = emulator_factory()
    account = {"id": "3003", "name": "Initech", "sites": fixture()["accounts"][0]["sites"], "groups": groups}
    with EmulatorControl(emu.base_url) as ctl, pytest.raises(RuntimeError) as e:
        ctl.seed({"accounts": [account]})
    assert "HTTP 400" in str(e.value) and message in str(e.value)
