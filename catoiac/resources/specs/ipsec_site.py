"""IpsecSite: a site that reaches Cato over IPsec IKEv2 tunnels from a third-party device (a firewall,
a cloud VPN gateway), with its primary and secondary tunnels and their pre-shared keys.

Inputs: the site's (``name``, ``site_type``, ``native_range``, ``vlan``, ``description``, ``location``:
the same as ``SocketSite``'s), its native range's settings (``native_range.py``), the IPsec settings
(``connection_mode``, ``identification_type``, ``init_message``, ``auth_message``,
``network_ranges``: Cato's ``UpdateIpsecIkeV2SiteGeneralDetailsInput``) and per HA role,
``primary`` and ``secondary``, the tunnels (Cato's ``AddIpsecIkeV2TunnelsInput``: destination type,
PoP, allocated IP, and up to 3 tunnels, each with its ``psk``). Every IPsec field is derived from
those input types (``gql_schema.InputModel``), none is hand-copied.

Tunnels are ordered: the n-th tunnel of a role is Cato's ``PRIMARY<n>``/``SECONDARY<n>``
(``IPSecV2InterfaceId``). A longer list adds tunnels, a shorter one removes the last ones, a
changed tunnel is updated in place (its key too): the site is never replaced for its tunnels.

Writes: ``addIpsecIkeV2Site``, then (``after_write``) the native range's settings, the IPsec
settings and the tunnels: 2 to 4 calls for a create. An update sends only what changed:
``updateSiteGeneralDetails``; the native range (its subnet and VLAN change in place, as Terraform's
``cato_ipsec_site`` does); ``updateIpsecIkeV2SiteGeneralDetails``; one ``remove``, one ``add`` and
one ``update…Tunnels`` call at most, for both roles together.

Read path: the ``ipsec_sites`` collection, from the ``sites`` one (``accountSnapshot``: the site,
and ``info.ipsec``: each role's tunnel ids and public site IPs) and the native ranges: no call of
its own. Cato returns no key, cipher, mode, bandwidth, private IP or PoP of a tunnel, so those are
kept from the state (``reconcile``): a change made to them outside Pulumi is not seen by refresh
or drift; a tunnel removed, added or re-addressed outside Pulumi is.

Secrets: ``psk`` is a credential field of Cato's schema (``catoiac.secrets``): the Pulumi class
keeps ``primary`` and ``secondary`` secret in the state and in outputs, and no error, log or check
failure shows a key.
"""

from __future__ import annotations

import copy
import ipaddress
from collections.abc import Mapping
from typing import Any

from ...errors import CatoError
from ...readpath import AccountReader, register_loader
from ..gql_schema import InputModel
from ..spec import SUBNET, Operation, Reservation, ResourceSpec
from . import native_range
from . import socket_site as _site
from .common import prune

CONNECTION = "IPSEC_V2"  # ProtoType of an IPsec IKEv2 site
ROLES = {"primary": "PRIMARY", "secondary": "SECONDARY"}
MAX_TUNNELS = 3  # per role: SDL IPSecV2InterfaceId (PRIMARY1..3); Cato KB 20883101923101
GENERAL = InputModel("UpdateIpsecIkeV2SiteGeneralDetailsInput")
ROLE = InputModel("AddIpsecIkeV2TunnelsInput")
_GENERAL_KEYS = tuple(GENERAL.schema["properties"])
_ROLE_KEYS = tuple(k for k in ROLE.schema["properties"] if k != "tunnels")
# What a read returns of a tunnel (accountSnapshot's TunnelConfig.tunnelRemoteIdentifier).
_READABLE_TUNNEL = ("public_site_ip",)

_SITE_PROPS = {
    k: v
    for k, v in _site.SCHEMA["properties"].items()
    if k in ("name", "site_type", "native_range", "vlan", "description", "location")
}
SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "native_range", "location"],
    "properties": {
        **copy.deepcopy(_SITE_PROPS),
        **native_range.PROPERTIES,
        **GENERAL.schema["properties"],
        "primary": ROLE.schema,
        "secondary": ROLE.schema,
    },
}


def _rules(i: dict[str, Any]) -> list[tuple[str, str]]:
    """Cato's IPsec rules, before any call (FIDELITY.md: the SDL's descriptions, KB 4413265635473
    and KB 20883101923101)."""
    out: list[tuple[str, str]] = []
    mode = i.get("connection_mode")
    ident = i.get("identification_type")
    if ident and ident != "IPV4" and mode != "RESPONDER_ONLY":
        out.append(
            (
                "identification_type",
                f"{ident} needs connection_mode RESPONDER_ONLY (with BIDIRECTIONAL it is IPV4)",
            )
        )
    for n, item in enumerate(i.get("network_ranges") or []):
        _, _, cidr = str(item).rpartition(":")
        try:
            ipaddress.IPv4Network(cidr, strict=True)
        except ValueError:
            out.append(
                (
                    f"network_ranges[{n}]",
                    f"{item!r} is not a subnet: use a CIDR such as 10.0.1.0/24, optionally named ('servers:10.0.1.0/24')",
                )
            )
    for role in ROLES:
        conf = i.get(role)
        if not isinstance(conf, dict):
            continue
        tunnels = conf.get("tunnels") or []
        if len(tunnels) > MAX_TUNNELS:
            out.append((f"{role}.tunnels", f"has {len(tunnels)} tunnels: Cato allows {MAX_TUNNELS} per role"))
        if conf.get("destination_type") == "FQDN" and mode != "RESPONDER_ONLY":
            out.append((f"{role}.destination_type", "FQDN needs connection_mode RESPONDER_ONLY"))
        seen: dict[str, int] = {}
        for n, t in enumerate(tunnels):
            where = f"{role}.tunnels[{n}]"
            if not isinstance(t, dict):
                continue
            if isinstance(t.get("psk"), str) and not t["psk"].strip():
                out.append((f"{where}.psk", "must not be empty: set the tunnel's pre-shared key"))
            ip = t.get("public_site_ip")
            if ip and ip in seen:
                out.append(
                    (
                        f"{where}.public_site_ip",
                        f"{ip} is tunnel {seen[ip]}'s too: each tunnel needs its own identifier",
                    )
                )
            if ip:
                seen[ip] = n
            if mode == "BIDIRECTIONAL" and not ip:
                out.append(
                    (
                        f"{where}.public_site_ip",
                        "BIDIRECTIONAL mode needs the site's public IP, which Cato connects to: set it, or use RESPONDER_ONLY",
                    )
                )
            if bool(t.get("private_cato_ip")) != bool(t.get("private_site_ip")):
                out.append(
                    (
                        f"{where}.private_site_ip",
                        "BGP needs both private_cato_ip and private_site_ip: set both or neither",
                    )
                )
            elif t.get("private_cato_ip") and len(tunnels) > 1:
                out.append(
                    (
                        f"{where}.private_cato_ip",
                        "BGP (private IPs) works with one tunnel per role only (Cato KB 20883101923101)",
                    )
                )
            for k, v in (t.get("last_mile_bw") or {}).items():
                if isinstance(v, int | float) and v <= 0:
                    out.append((f"{where}.last_mile_bw.{k}", "must be positive (Mbps)"))
    return out


def _normalize(i: dict[str, Any]) -> dict[str, Any]:
    i = native_range.normalize(prune(i))
    if "location" in i:
        i["location"]["country_code"] = i["location"]["country_code"].upper()
    general = GENERAL.canonical({k: i.pop(k) for k in _GENERAL_KEYS if k in i})
    i.update(general)
    for role in ROLES:
        if role in i:
            conf = ROLE.canonical(i[role])
            if conf:
                i[role] = conf
            else:
                i.pop(role)
    return i


def _reservations(i: dict[str, Any]) -> list[Reservation]:
    return [
        Reservation("site name", i["name"], "name", f"site name {i['name']!r}"),
        Reservation(SUBNET, i["native_range"], "native_range", f"native range {i['native_range']}"),
    ]


def _create(_id, i, _view) -> dict[str, Any]:
    loc = i["location"]
    body = {
        "name": i["name"],
        "siteType": i["site_type"],
        "nativeNetworkRange": i["native_range"],
        "description": i.get("description"),
        "siteLocation": {
            **_site.camel(loc, _site._LOCATION),
            **({"city": loc["city"]} if loc.get("city") else {}),
        },
    }
    if i.get("vlan") is not None:
        body["vlan"] = i["vlan"]
    return {"input": body}


# -- the IPsec writes after the site's own ----------------------------------------------------------
def _tunnel_id(role: str, n: int) -> str:
    return f"{ROLES[role]}{n + 1}"


def _live_tunnels(session, site_id: str) -> dict[str, set[str]]:
    session.reader.invalidate("sites")
    site = session.reader.get("sites").get(str(site_id)) or {}
    out: dict[str, set[str]] = {role: set() for role in ROLES}
    for info in site.get("ipsec") or []:
        role = "primary" if info.get("isPrimary") else "secondary"
        out[role] |= {str(t["tunnelId"]) for t in info.get("tunnelConfig") or [] if t.get("tunnelId")}
    return out


def _role_body(conf: Mapping[str, Any]) -> dict[str, Any]:
    full = ROLE.to_graphql({**conf, "tunnels": []})
    return {k: v for k, v in full.items() if k != "tunnels" and v is not None}


def _tunnels_plan(olds: Mapping[str, Any] | None, news: Mapping[str, Any], live: dict[str, set[str]]):
    """(ids to remove, {role: tunnels to add}, {role: tunnels to update}) per role."""
    remove: list[str] = []
    add: dict[str, dict[str, Any]] = {}
    update: dict[str, dict[str, Any]] = {}
    for role in ROLES:
        conf = news.get(role) or {}
        old = (olds or {}).get(role) or {}
        tunnels = conf.get("tunnels") or []
        wanted = {_tunnel_id(role, n): t for n, t in enumerate(tunnels)}
        remove += sorted(live[role] - set(wanted))
        role_changed = {k: conf.get(k) for k in _ROLE_KEYS} != {k: old.get(k) for k in _ROLE_KEYS}
        new_ones = [t for tid, t in wanted.items() if tid not in live[role]]
        old_tunnels = old.get("tunnels") or []
        changed = [
            {**t, "tunnel_id": tid}
            for n, (tid, t) in enumerate(wanted.items())
            if tid in live[role] and (n >= len(old_tunnels) or old_tunnels[n] != t)
        ]
        if new_ones:
            add[role] = {
                **_role_body(conf),
                "tunnels": [ROLE.to_graphql({"tunnels": [t]})["tunnels"][0] for t in new_ones],
            }
        if changed or (role_changed and live[role] and olds is not None):
            items = []
            for t in changed:
                body = ROLE.to_graphql({"tunnels": [{k: v for k, v in t.items() if k != "tunnel_id"}]})[
                    "tunnels"
                ][0]
                items.append({**body, "tunnelId": t["tunnel_id"]})
            update[role] = {**_role_body(conf), "tunnels": items}
    return remove, add, update


def _write_ipsec(session, site_id: str, olds: Mapping[str, Any] | None, news: Mapping[str, Any]) -> None:
    native_range.write(session, site_id, olds, news, movable=True)
    general = {k: news[k] for k in _GENERAL_KEYS if k in news}
    before = {k: (olds or {})[k] for k in _GENERAL_KEYS if k in (olds or {})}
    if general and (olds is None or general != before):
        body = {k: v for k, v in GENERAL.to_graphql(general).items() if v is not None}
        session.client.execute("UpdateIpsecIkeV2SiteGeneralDetails", {"siteId": site_id, "input": body})
    has_tunnels = any((news.get(r) or {}).get("tunnels") for r in ROLES)
    if olds is None and not has_tunnels:
        return
    live = {r: set() for r in ROLES} if olds is None else _live_tunnels(session, site_id)
    remove, add, update = _tunnels_plan(olds, news, live)
    if remove:
        session.client.execute(
            "RemoveIpsecIkeV2SiteTunnels", {"siteId": site_id, "input": {"tunnelId": remove}}
        )
    if add:
        data = session.client.execute("AddIpsecIkeV2SiteTunnels", {"siteId": site_id, "input": add})
        _check_ids(site_id, add, data["site"]["addIpsecIkeV2SiteTunnels"], live)
    if update:
        session.client.execute("UpdateIpsecIkeV2SiteTunnels", {"siteId": site_id, "input": update})
    session.reader.invalidate("sites")


def _check_ids(
    site_id: str, add: dict[str, Any], reply: Mapping[str, Any], live: dict[str, set[str]]
) -> None:
    """The new tunnels must have the ids their place in the list means (Cato gives the lowest free)."""
    for role, conf in add.items():
        expected = [
            tid for tid in (_tunnel_id(role, n) for n in range(MAX_TUNNELS)) if tid not in live[role]
        ][: len(conf["tunnels"])]
        got = [t["tunnelId"] for t in ((reply.get(role) or {}).get("tunnels") or [])]
        if got and got != expected:
            raise CatoError(
                f"IPsec site {site_id}: Cato gave the new {role} tunnels ids {got}, not {expected}; "
                "run `pulumi refresh` then `pulumi up` to line the tunnels up again"
            )


# -- reads ------------------------------------------------------------------------------------------
def _load(r: AccountReader) -> dict[str, dict[str, Any]]:
    """The sites of connection type IPSEC_V2 (``IPSEC_SITE.subset_of``: never SocketSites)."""
    return {sid: s for sid, s in r.get("sites").items() if s.get("connection_type") == CONNECTION}


register_loader("ipsec_sites", _load, depends_on=("sites",))


def _read(live: dict[str, Any], view) -> dict[str, Any]:
    native = view.get("native_ranges").get(live["id"], {})
    out: dict[str, Any] = {
        "name": live["name"],
        "site_type": live["site_type"],
        "native_range": native.get("subnet"),
        "description": live.get("description") or "",
        "location": live.get("location") or {"country_code": live.get("country_code")},
        **native_range.read(native.get("range")),
        **{k: v for k, v in native_range.addressing(native.get("range")).items() if k == "vlan"},
    }
    for info in live.get("ipsec") or []:
        role = "primary" if info.get("isPrimary") else "secondary"
        tunnels = sorted(info.get("tunnelConfig") or [], key=lambda t: str(t.get("tunnelId")))
        out[role] = {
            "tunnels": [
                {"__id": str(t.get("tunnelId")), "public_site_ip": t.get("tunnelRemoteIdentifier") or None}
                for t in tunnels
            ]
        }
    return out


def _reconcile(live: dict[str, Any], prior: dict[str, Any]) -> dict[str, Any]:
    """What Cato never returns (keys, crypto, modes, bandwidth, PoPs) is the state's; a tunnel takes
    the state's fields of the tunnel with its id."""
    live = native_range.reconcile(dict(live), prior)
    for k in _GENERAL_KEYS:
        if k in prior:
            live[k] = copy.deepcopy(prior[k])
    for role in ROLES:
        before = prior.get(role) or {}
        conf = live.get(role)
        if conf is None:
            continue
        by_id = {_tunnel_id(role, n): t for n, t in enumerate(before.get("tunnels") or [])}
        tunnels = []
        for t in conf["tunnels"]:
            kept = copy.deepcopy(by_id.get(t.pop("__id"), {}))
            tunnels.append({**{k: v for k, v in kept.items() if k not in _READABLE_TUNNEL}, **prune(t)})
        live[role] = {**{k: copy.deepcopy(before[k]) for k in _ROLE_KEYS if k in before}, "tunnels": tunnels}
    return live


IPSEC_SITE = ResourceSpec(
    name="IpsecSite",
    kind="ipsec_sites",
    schema=SCHEMA,
    create=Operation("AddIpsecIkeV2Site", _create, id_path="site.addIpsecIkeV2Site.siteId"),
    update=Operation("UpdateSiteGeneralDetails", _site._update),
    delete=Operation("RemoveSite", lambda site_id, _i, _v: {"siteId": site_id}),
    natural_key=("name",),
    read=_read,
    rules=(_site._rules, native_range.rules, _rules),
    normalize=_normalize,
    reconcile=_reconcile,
    after_write=_write_ipsec,
    reservations=_reservations,
    secret_inputs=("primary", "secondary"),
    invalidates=("sites", "ranges", "interfaces"),
    subset_of="sites",
)
