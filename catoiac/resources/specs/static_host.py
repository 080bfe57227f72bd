"""StaticHost: an address Cato reserves for a host on one of a site's LAN ranges."""

from __future__ import annotations

from typing import Any

from ..spec import Operation, Reservation, ResourceSpec
from .checks import ip_problem, mac
from .common import NAME, prune

SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["site_id", "name", "ip"],
    "properties": {
        "site_id": {"type": "string", "minLength": 1},
        "name": NAME,
        "ip": {"type": "string", "format": "ipv4"},
        "mac_address": {"type": "string", "format": "mac"},
    },
}


def _rules(i: dict[str, Any]) -> list[tuple[str, str]]:
    problem = ip_problem(i.get("ip"))
    return [("ip", problem)] if problem else []


def _reservations(i: dict[str, Any]) -> list[Reservation]:
    site = i["site_id"]
    return [
        Reservation("host name", (site, i["name"]), "name", f"host name {i['name']!r} in site {site}"),
        Reservation("host address", (site, i["ip"]), "ip", f"address {i['ip']} in site {site}"),
    ]


def _normalize(i: dict[str, Any]) -> dict[str, Any]:
    i = prune(i)
    if i.get("mac_address"):
        i["mac_address"] = mac(i["mac_address"])
    else:
        i.pop("mac_address", None)
    return i


def _create(_id, i, _view) -> dict[str, Any]:
    body = {"name": i["name"], "ip": i["ip"]}
    if i.get("mac_address"):
        body["macAddress"] = i["mac_address"]
    return {"siteId": i["site_id"], "input": body}


def _update(host_id, i, _view) -> dict[str, Any]:
    # An update keeps what it leaves out: an empty MAC clears one the program no longer sets.
    return {
        "hostId": host_id,
        "input": {"name": i["name"], "ip": i["ip"], "macAddress": i.get("mac_address") or ""},
    }


def _read(live: dict[str, Any], _view) -> dict[str, Any]:
    return {
        "site_id": live["site_id"],
        "name": live["name"],
        "ip": live["ip"],
        "mac_address": live.get("mac_address"),
    }


STATIC_HOST = ResourceSpec(
    name="StaticHost",
    kind="hosts",
    schema=SCHEMA,
    create=Operation("AddStaticHost", _create, id_path="site.addStaticHost.hostId"),
    update=Operation("UpdateStaticHost", _update),
    delete=Operation("RemoveStaticHost", lambda host_id, _i, _v: {"hostId": host_id}),
    replace_on=("site_id",),
    natural_key=("site_id", "name"),
    read=_read,
    rules=(_rules,),
    normalize=_normalize,
    reservations=_reservations,
    invalidates=("groups",),  # a removed host leaves every group it was in
    parent_input="site_id",
)
