"""``accountSnapshot``: the account's sites as the live network shows them.

Configuration comes from state (name, type, connection type, location, description, the ports'
destination types and bandwidths, the socket and its serial, static host count). Runtime facts
are plausible constants: every socket is connected and active since the site was created, on
the PoP nearest its timezone, running one socket version, without HA; the ``RUNTIME`` hooks
(``monitoring``) then apply what the operator took down and what the config disabled. ``users``
is empty.
``sites(siteIDs)`` (or the deprecated ``ids``) keeps only the listed sites.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...ports import native_port
from ..catalog import COUNTRIES, COUNTRY_STATES
from ..context import RequestContext
from ..registry import query
from .ipsec import CONNECTION as IPSEC
from .ipsec import snapshot_info as ipsec_info
from .sites import HOST, IFACE, POPS, RANGE, SITE, WAN_TYPES, timestamp

SOCKET_VERSION, SOCKET_VERSION_NUMBER = "22.0.19250", 22019250
# Runtime state other domains simulate (monitoring: sites and links down, ports disabled by config):
# each hook adjusts one site's snapshot in place, given the site and its port records.
RUNTIME: list[Callable[[RequestContext, dict[str, Any], list[dict[str, Any]], dict[str, Any]], None]] = []
_POP_BY_REGION = {"Europe": "102", "America": "104", "Asia": "106", "Australia": "108", "Pacific": "108"}


def platform(site: dict[str, Any]) -> str:
    return site["connectionType"].removeprefix("SOCKET_")


def serial(site: dict[str, Any]) -> str:
    return f"{platform(site)}-{site['id']}".upper()


def pop_of(site: dict[str, Any]) -> tuple[str, str]:
    pop_id = _POP_BY_REGION.get(site["siteLocation"]["timezone"].split("/")[0], "103")
    return pop_id, POPS[pop_id]


def _interface_info(port: dict[str, Any]) -> dict[str, Any]:
    return {
        k: port.get(k)
        for k in (
            "name",
            "destType",
            "upstreamBandwidth",
            "downstreamBandwidth",
            "upstreamBandwidthMbpsPrecision",
            "downstreamBandwidthMbpsPrecision",
            "wanRole",
        )
    } | {"id": port["index"]}


def site_snapshot(
    ctx: RequestContext, site: dict, ports: list[dict], local_ip: str | None, hosts: int
) -> dict:
    created, now = site["creationTime"], timestamp(ctx)
    pop_id, pop_name = pop_of(site)
    socket = {
        "id": site["id"],
        "isPrimary": True,
        "platform": platform(site),
        "serial": serial(site),
        "version": SOCKET_VERSION,
        "versionUpdateTime": created,
    }
    ipsec = site["connectionType"] == IPSEC
    # An IPsec site has no Socket: its one interface is no port, and its tunnels are in info.ipsec.
    ports = [] if ipsec else ports
    active = [p for p in ports if p["destType"] != "INTERFACE_DISABLED"]
    links = [
        {
            "id": p["index"],
            "name": p["name"],
            "connected": True,
            "naturalOrder": n,
            "popName": pop_name,
            "physicalPort": int(p["index"]) if p["index"].isdigit() else None,
            "previousPopName": None,
            "tunnelRemoteIP": f"198.51.100.{n + 1}",
            "tunnelUptime": 86400,
            "info": _interface_info(p),
        }
        for n, p in enumerate(p for p in active if p["destType"] in WAN_TYPES)
    ]
    device = {
        "id": site["id"],
        "name": site["name"],
        "identifier": serial(site),
        "type": "IPsec" if ipsec else "Socket",
        "connected": True,
        "connectedSince": created,
        "lastConnected": now,
        "haRole": None,
        "internalIP": local_ip,
        "lastPopID": int(pop_id),
        "lastPopName": pop_name,
        "osType": "Linux",
        "osVersion": SOCKET_VERSION,
        "version": SOCKET_VERSION,
        "versionNumber": SOCKET_VERSION_NUMBER,
        "releaseGroup": "Default",
        "deviceUptime": 86400,
        "socketInfo": None if ipsec else socket,
        "interfaces": links,
        "interfacesLinkState": [
            {
                "id": p["index"],
                "up": True,
                "mediaIn": True,
                "linkSpeed": "1Gbps",
                "duplex": "Full",
                "hasAddress": True,
                "hasInternet": p["destType"] in WAN_TYPES,
                "hasTunnel": p["destType"] in WAN_TYPES,
            }
            for p in active
        ],
        "recentConnections": [],
    }
    loc = site["siteLocation"]
    info = {
        "name": site["name"],
        "type": site["siteType"],
        "connType": site["connectionType"],
        "description": site.get("description"),
        "countryCode": loc["countryCode"],
        "countryName": COUNTRIES.get(loc["countryCode"]),
        "countryStateName": COUNTRY_STATES.get(loc["stateCode"] or ""),
        "cityName": loc["cityName"],
        "address": loc["address"],
        "region": None,
        "isHA": False,
        "creationTime": created,
        "interfaces": [_interface_info(p) for p in active],
        "sockets": [] if ipsec else [socket],
        "ipsec": ipsec_info(site, f"192.0.2.{int(pop_id) % 250}") if ipsec else [],
    }
    return {
        "id": site["id"],
        "info": info,
        "devices": [device],
        "connectivityStatus": "connected",
        "operationalStatus": "active",
        "connectedSince": created,
        "lastConnected": now,
        "popName": pop_name,
        "hostCount": hosts,
        "altWanStatus": None,
        "haStatus": None,
        "protoId": None,
        "degradedStatus": {"isDegraded": False, "degradedDetails": []},
    }


def sites(ctx: RequestContext, wanted: set[str] | None) -> list[dict[str, Any]]:
    acc = ctx.store
    ports: dict[str, list[dict]] = {}
    for p in acc.list(ctx.account_id, IFACE):
        ports.setdefault(p["siteId"], []).append(p)
    native = {r["id"]: r["localIp"] for r in acc.list(ctx.account_id, RANGE) if r["rangeType"] == "Native"}
    hosts: dict[str, int] = {}
    for h in acc.list(ctx.account_id, HOST):
        hosts[h["siteId"]] = hosts.get(h["siteId"], 0) + 1
    out = []
    for s in acc.list(ctx.account_id, SITE):
        if wanted is None or s["id"] in wanted:
            home = native_port(s["connectionType"])
            lan = next((p for p in ports[s["id"]] if p["slot"] == home), {})
            snap = site_snapshot(
                ctx, s, ports[s["id"]], native.get(lan.get("nativeRangeId")), hosts.get(s["id"], 0)
            )
            for hook in RUNTIME if s["connectionType"] != IPSEC else ():  # the hooks simulate Sockets
                hook(ctx, s, ports[s["id"]], snap)
            out.append(snap)
    return out


@query("accountSnapshot")
def account_snapshot(ctx: RequestContext, info, accountID: str | None = None, id: str | None = None) -> dict:
    ctx.check_account(id)

    def site_list(info, siteIDs=None, ids=None):
        wanted = None if siteIDs is None and ids is None else {str(i) for i in (siteIDs or []) + (ids or [])}
        return sites(ctx, wanted)

    return {
        "id": ctx.account_id,
        "timestamp": timestamp(ctx),
        "sites": site_list,
        "users": lambda info, **_: [],
    }
