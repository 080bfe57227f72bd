"""SocketSite: a branch, datacenter or cloud site connected by a Cato Socket."""

from __future__ import annotations

from typing import Any

from ... import ports
from ...cities import city_problem
from ...readpath import AccountReader, register_loader
from ..enums import enum_values
from ..spec import SUBNET, Operation, Reservation, ResourceSpec
from .common import NAME, camel, prune

SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "native_range", "location"],
    "properties": {
        "name": NAME,
        "site_type": {"enum": enum_values("SiteType"), "default": "BRANCH"},
        "connection_type": {"enum": enum_values("SiteConnectionTypeEnum"), "default": "SOCKET_X1500"},
        "native_range": {"type": "string", "format": "cidr"},
        "translated_subnet": {"type": "string", "format": "cidr"},
        "vlan": {"type": "integer", "minimum": 1, "maximum": 4094},
        "description": {"type": "string", "default": ""},
        "location": {
            "type": "object",
            "additionalProperties": False,
            "required": ["country_code", "timezone"],
            "properties": {
                "country_code": {"type": "string", "format": "country"},
                "state_code": {"type": "string"},
                "city": {"type": "string"},
                "address": {"type": "string"},
                "timezone": {"type": "string", "format": "timezone"},
            },
        },
    },
}

_LOCATION = {
    "country_code": "countryCode",
    "state_code": "stateCode",
    "address": "address",
    "timezone": "timezone",
}


def _rules(i: dict[str, Any]) -> list[tuple[str, str]]:
    """SDL AddSiteLocationInput.city: "must belong to the country or country and state"."""
    loc = i.get("location") or {}
    problem = city_problem(loc.get("city"), loc.get("country_code"), loc.get("state_code"))
    return [("location.city", f"{problem}: check the spelling, or the country and state")] if problem else []


def _normalize(i: dict[str, Any]) -> dict[str, Any]:
    i = prune(i)
    if "location" in i:
        i["location"]["country_code"] = i["location"]["country_code"].upper()
    return i


def _create(_id, i, _view) -> dict[str, Any]:
    loc = i["location"]
    return {
        "input": {
            **camel(
                i,
                {
                    "name": "name",
                    "site_type": "siteType",
                    "connection_type": "connectionType",
                    "native_range": "nativeNetworkRange",
                    "translated_subnet": "translatedSubnet",
                    "vlan": "vlan",
                    "description": "description",
                },
            ),
            "siteLocation": {**camel(loc, _LOCATION), **({"city": loc["city"]} if loc.get("city") else {})},
        }
    }


def _update(site_id, i, _view) -> dict[str, Any]:
    loc = i["location"]
    return {
        "siteId": site_id,
        "input": {
            "name": i["name"],
            "siteType": i["site_type"],
            "description": i.get("description", ""),
            "siteLocation": {**camel(loc, _LOCATION), "cityName": loc.get("city")},
        },
    }


def _native_ranges(reader: AccountReader) -> dict[str, dict[str, Any]]:
    """Each site's own native range, by site id: the one on the port Cato marks ``isDefault``, else
    on the model's native port (LAN1; INT_5 on X1600/X1600_LTE; INT_3 on X1700: catoiac/ports.py).
    Other LAN ports have native ranges too. One pass over the ports for all sites."""
    sites, natives = reader.get("sites"), reader.get("port_natives")
    out: dict[str, dict[str, Any]] = {}
    rank: dict[str, int] = {}
    for port in reader.get("interfaces").values():
        rng, site = natives.get(port["id"]), sites.get(port.get("site_id") or "")
        if rng is None or site is None:
            continue
        conn = site.get("connection_type")
        home = ports.native_port(conn) if conn in ports.MODELS else None
        score = 2 if port.get("is_default") else (1 if port.get("interface_id") == home else 0)
        if score >= rank.get(site["id"], -1):
            rank[site["id"]] = score
            out[site["id"]] = {"id": site["id"], "subnet": rng["subnet"], "port": port.get("interface_id")}
    return out


register_loader("native_ranges", _native_ranges, depends_on=("sites", "port_natives", "interfaces"))


def _reservations(i: dict[str, Any]) -> list[Reservation]:
    return [
        Reservation("site name", i["name"], "name", f"site name {i['name']!r}"),
        Reservation(SUBNET, i["native_range"], "native_range", f"native range {i['native_range']}"),
    ]


def _read(live: dict[str, Any], view) -> dict[str, Any]:
    return {
        "name": live["name"],
        "site_type": live["site_type"],
        "connection_type": live["connection_type"],
        "native_range": view.get("native_ranges").get(live["id"], {}).get("subnet"),
        "description": live.get("description") or "",
        "location": live.get("location") or {"country_code": live.get("country_code")},
    }


SOCKET_SITE = ResourceSpec(
    name="SocketSite",
    kind="sites",
    schema=SCHEMA,
    create=Operation("AddSocketSite", _create, id_path="site.addSocketSite.siteId"),
    update=Operation("UpdateSiteGeneralDetails", _update),
    delete=Operation("RemoveSite", lambda site_id, _i, _v: {"siteId": site_id}),
    replace_on=("connection_type", "native_range", "translated_subnet", "vlan"),
    natural_key=("name",),
    read=_read,
    rules=(_rules,),
    normalize=_normalize,
    reservations=_reservations,
    # A new site brings its native range and default interfaces; removing it removes its children.
    invalidates=("ranges", "interfaces", "hosts"),
)
