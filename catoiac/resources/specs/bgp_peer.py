"""BgpPeer: a BGP neighbour of a site's Socket (AddBgpPeerInput/UpdateBgpPeerInput in snake_case).

``md5_auth_key`` is a secret: the Pulumi class marks it so in inputs and outputs, and the engine
scrubs it from error messages (``secret_inputs``).

Read path and its cost: Cato has no account-wide BGP query, only ``bgpPeerList`` per site. The
``bgp_peers`` collection therefore loads lazily, one ``bgpPeerList`` call per site, and only for
the sites asked about: a refresh reads each resource's ``site_id`` from its state, so refreshing
N peers costs one call per distinct site that has managed peers, never one per peer. Each
site's list is cached for the provider process and dropped after any write to a peer or a site.
Whatever needs the whole account (drift's "unmanaged" scan, finding a peer by name after a lost
create reply) pays one call per site of the account.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterator, Mapping
from typing import Any

from ...errors import NotFoundError
from ...readpath import AccountReader, register_loader
from ..enums import enum_values
from ..spec import Operation, Reservation, ResourceSpec
from ..validation import apply_defaults
from .checks import from_api, ip_problem, to_api
from .common import NAME, prune

_COMMUNITY = {
    "type": "object",
    "additionalProperties": False,
    "required": ["from", "to"],
    "properties": {
        "from": {"type": "integer", "minimum": 0, "maximum": 65535},
        "to": {"type": "integer", "minimum": 0, "maximum": 65535},
    },
}
_SUBNETS = {"type": "array", "items": {"type": "string", "format": "cidr"}, "default": []}
_FILTER_RULE = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "bgp_route_exact_and_inclusive_filter_rule": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "ge": {"type": "integer", "minimum": 0, "maximum": 32},
                "le": {"type": "integer", "minimum": 0, "maximum": 32},
                "network_subnet": _SUBNETS,
                "network_subnet_exception": _SUBNETS,
            },
        },
        "bgp_route_exact_filter_rule": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"network_subnet": _SUBNETS},
        },
        "community_filter_rule": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "community": {"type": "array", "items": _COMMUNITY, "default": []},
                "predicate": {"enum": enum_values("BgpCommunityFilterPredicate"), "default": "EQUAL"},
            },
        },
    },
}

SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["site_id", "name", "peer_ip", "peer_asn", "cato_asn", "default_action"],
    "properties": {
        "site_id": {"type": "string", "minLength": 1},
        "name": NAME,
        "peer_ip": {"type": "string", "format": "ipv4"},
        "peer_asn": {"type": "integer", "minimum": 1, "maximum": 4294967295},
        "cato_asn": {"type": "integer", "minimum": 1, "maximum": 65535},
        "hold_time": {"type": "integer", "minimum": 3, "maximum": 65535, "default": 60},
        "keepalive_interval": {"type": "integer", "minimum": 1, "maximum": 21845, "default": 20},
        "md5_auth_key": {"type": "string", "minLength": 1, "maxLength": 80},
        "metric": {"type": "integer", "minimum": 0, "default": 100},
        "default_action": {"enum": enum_values("BgpDefaultAction")},
        "default_action_exclusion": {"type": "array", "items": _FILTER_RULE, "default": []},
        "default_route_communities": {"type": "array", "items": _COMMUNITY, "default": []},
        "advertise_all_routes": {"type": "boolean", "default": False},
        "advertise_default_route": {"type": "boolean", "default": True},
        "advertise_summary_routes": {"type": "boolean", "default": False},
        "summary_route": {
            "type": "array",
            "default": [],
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["route"],
                "properties": {
                    "route": {"type": "string", "format": "cidr"},
                    "community": {"type": "array", "items": _COMMUNITY, "default": []},
                },
            },
        },
        "perform_nat": {"type": "boolean", "default": False},
        "bfd_enabled": {"type": "boolean", "default": False},
        "bfd_settings": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "transmit_interval": {"type": "integer", "minimum": 50, "maximum": 60000, "default": 1000},
                "receive_interval": {"type": "integer", "minimum": 50, "maximum": 60000, "default": 1000},
                "multiplier": {"type": "integer", "minimum": 1, "maximum": 255, "default": 5},
            },
        },
        "tracking": {
            "type": "object",
            "additionalProperties": False,
            "required": ["subscription_id"],
            "properties": {
                "enabled": {"type": "boolean", "default": False},
                "alert_frequency": {
                    "enum": enum_values("PolicyRuleTrackingFrequencyEnum"),
                    "default": "HOURLY",
                },
                "subscription_id": {"type": "string", "minLength": 1},
            },
        },
    },
}
_FIELDS = [k for k in SCHEMA["properties"] if k != "site_id"]
_RESERVED_ASNS = {0, 23456, 65535, 4294967295}  # RFC 7300 / RFC 6793: never a real neighbour's ASN


def _rules(i: dict[str, Any]) -> list[tuple[str, str]]:
    out = []
    problem = ip_problem(i.get("peer_ip"))
    if problem:
        out.append(("peer_ip", problem))
    if i.get("peer_asn") in _RESERVED_ASNS:
        out.append(("peer_asn", f"{i['peer_asn']} is a reserved ASN: use the neighbour's real ASN"))
    if i.get("cato_asn") in _RESERVED_ASNS:
        out.append(
            ("cato_asn", f"{i['cato_asn']} is a reserved ASN: use another, e.g. a private one (64512-65534)")
        )
    if i.get("peer_asn") is not None and i.get("peer_asn") == i.get("cato_asn"):
        out.append(
            ("peer_asn", "peer_asn equals cato_asn: Cato peers over eBGP, give the two sides different ASNs")
        )
    hold, keep = i.get("hold_time"), i.get("keepalive_interval")
    if isinstance(hold, int) and isinstance(keep, int) and keep >= hold:
        out.append(
            ("keepalive_interval", f"must be shorter than hold_time ({hold}s): a third of it is usual")
        )
    for n, rule in enumerate(i.get("default_action_exclusion") or []):
        if isinstance(rule, dict) and len([v for v in rule.values() if v is not None]) != 1:
            out.append(
                (
                    f"default_action_exclusion[{n}]",
                    "set exactly one of bgp_route_exact_filter_rule, "
                    "bgp_route_exact_and_inclusive_filter_rule, community_filter_rule",
                )
            )
    return out


def _reservations(i: dict[str, Any]) -> list[Reservation]:
    site = i["site_id"]
    return [
        Reservation("BGP peer name", (site, i["name"]), "name", f"BGP peer name {i['name']!r} in site {site}")
    ]


def _normalize(i: dict[str, Any]) -> dict[str, Any]:
    i = prune(i)
    if not i.get("md5_auth_key"):
        i.pop("md5_auth_key", None)
    if i.get("bfd_enabled") and "bfd_settings" not in i:
        i["bfd_settings"] = apply_defaults(SCHEMA["properties"]["bfd_settings"], {})
    return i


def _body(i: dict[str, Any]) -> dict[str, Any]:
    return to_api({k: i.get(k) for k in _FIELDS})


def _create(_id, i, _view) -> dict[str, Any]:
    return {"input": {**_body(i), "site": {"by": "ID", "input": i["site_id"]}}}


def _update(peer_id, i, _view) -> dict[str, Any]:
    # Update keeps what it leaves out: an empty key clears one the program no longer sets.
    return {"input": {**_body(i), "md5AuthKey": i.get("md5_auth_key") or "", "id": peer_id}}


def _read(live: Mapping[str, Any], _view=None) -> dict[str, Any]:
    out = copy.deepcopy({k: live.get(k) for k in _FIELDS})
    for rule in out.get("default_action_exclusion") or []:
        # Global IP range refs are not managed here: the API's input and output shapes differ.
        for body in rule.values():
            if isinstance(body, dict):
                body.pop("global_ip_range", None)
                body.pop("global_ip_range_exception", None)
    return {"site_id": live["site_id"], **out}


class BgpPeers(Mapping[str, dict[str, Any]]):
    """The account's BGP peers by id, loaded one site at a time, on demand."""

    def __init__(self, reader: AccountReader) -> None:
        self._reader = reader
        self._sites: dict[str, dict[str, dict[str, Any]]] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def for_site(self, site_id: str) -> dict[str, dict[str, Any]]:
        site_id = str(site_id)
        with self._guard:
            lock = self._locks.setdefault(site_id, threading.Lock())
        with lock:
            if site_id not in self._sites:
                self._sites[site_id] = self._load(site_id)
            return self._sites[site_id]

    def _load(self, site_id: str) -> dict[str, dict[str, Any]]:
        try:
            data = self._reader.client.execute("BgpPeerList", {"site": {"by": "ID", "input": site_id}})
        except NotFoundError:
            return {}  # the site is gone, and its peers with it
        peers = ((data.get("site") or {}).get("bgpPeerList") or {}).get("bgpPeer") or []
        return {str(p["id"]): {**from_api(p), "id": str(p["id"]), "site_id": site_id} for p in peers}

    def _all(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for site_id in self._reader.get("sites"):
            out.update(self.for_site(site_id))
        return out

    def __getitem__(self, peer_id: str) -> dict[str, Any]:
        return self._all()[str(peer_id)]

    def get(self, peer_id: str, default: Any = None) -> Any:
        return self._all().get(str(peer_id), default)

    def values(self):  # one pass over the sites, not one per key
        return self._all().values()

    def items(self):
        return self._all().items()

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


register_loader("bgp_peers", BgpPeers, depends_on=("sites",))


def _canonical(inputs: dict[str, Any]) -> dict[str, Any]:
    return _normalize(apply_defaults(SCHEMA, inputs))


def read_live(session, peer_id: str, props: Mapping[str, Any]):
    """The peer from its site's list (the state knows the site), else from every site's."""
    peers: BgpPeers = session.reader.get("bgp_peers")
    site_id = (props or {}).get("site_id")
    live = peers.for_site(site_id).get(str(peer_id)) if site_id else peers.get(str(peer_id))
    if live is None:
        return None
    inputs = _canonical(_read(live))
    return inputs, {**inputs, "resource_id": str(peer_id)}


BGP_PEER = ResourceSpec(
    name="BgpPeer",
    kind="bgp_peers",
    schema=SCHEMA,
    create=Operation("AddBgpPeer", _create, id_path="site.addBgpPeer.bgpPeer.id"),
    update=Operation("UpdateBgpPeer", _update),
    delete=Operation("RemoveBgpPeer", lambda peer_id, _i, _v: {"input": {"id": peer_id}}),
    replace_on=("site_id",),
    natural_key=("site_id", "name"),
    read=_read,
    rules=(_rules,),
    normalize=_normalize,
    read_live=read_live,
    secret_inputs=("md5_auth_key",),
    reservations=_reservations,
    parent_input="site_id",
)
