"""IPsec IKEv2 sites: sites that reach Cato over IPsec tunnels from a third-party device.

Operations (the ``site`` namespace; the SDL's ``…IpsecIkeV2…`` mutations): ``addIpsecIkeV2Site``
makes the site (the rules every site shares, ``sites.new_site``: a unique name, a known location,
a native range that overlaps no other range); ``updateIpsecIkeV2SiteGeneralDetails`` sets its
IPsec settings (given fields replace the stored ones); ``add``/``update``/``removeIpsecIkeV2SiteTunnels``
manage its primary and secondary tunnels. ``updateSiteGeneralDetails``, ``removeSite`` and the
native range's ``updateNetworkRange`` are sites.py's, as for any site.

State: the ``site`` entity has ``connectionType: IPSEC_V2`` and an ``ipsec`` document (the general
details, and per role ``primary``/``secondary`` its destination type, PoP, allocated IP and tunnels).
A tunnel keeps a SHA-256 of its pre-shared key, never the key (the store is a test artefact users
share). The site's native range is on its one ``networkInterface``, which is no Socket port
(``slot`` None): Socket interface mutations refuse an IPsec site.

Rules (FIDELITY.md has the sources):
- tunnel ids are ``PRIMARY1..3``/``SECONDARY1..3`` (SDL ``IPSecV2InterfaceId``): at most 3 tunnels
  per role (KB 20883101923101); a new tunnel takes the lowest free id of its role;
- every tunnel has a non-empty pre-shared key (SDL: ``psk: String!`` on add);
- each tunnel of a role has its own identifier: no two with one public IP (KB 20883101923101);
- ``identificationType`` other than IPV4 only in RESPONDER_ONLY mode (SDL description), and so is
  ``destinationType: FQDN`` (KB 4413265635473);
- BGP's private IPs come in pairs, and only on a role with one tunnel (KB 20883101923101: "BGP is
  not currently supported for multiple active IPsec tunnels");
- ``networkRanges`` are CIDRs, optionally named (``name:10.0.0.0/24``: Terraform's example);
- the PoP location must exist (``sites.POPS``), the allocated IP must be one of the account's;
- last-mile bandwidths are positive.
The snapshot shows each role with tunnels as an ``IPSecInfo`` (IKE version 2) whose
``tunnelConfig`` lists the tunnels with their public IP as ``tunnelRemoteIdentifier``.

Fixture section (``accounts[].ipsec_sites``), loaded through the same functions::

    ipsec_sites:
      - name: Azure-East
        native_range: 10.60.0.0/24
        country_code: US
        timezone: America/New_York
        connection_mode: BIDIRECTIONAL
        primary: {tunnels: [{public_site_ip: 203.0.113.10, psk: example-psk}]}
"""

from __future__ import annotations

import hashlib
import ipaddress
from typing import Any

from graphql import GraphQLError

from ..context import CatoGraphQLError, RequestContext, invalid
from ..registry import seeder
from .sites import (
    IFACE,
    POPS,
    SITE,
    SiteMutations,
    api_input,
    camel,
    create_range,
    flat,
    get,
    log,
    native_range_fields,
    new_id,
    new_site,
    put,
)

CONNECTION = "IPSEC_V2"  # ProtoType of an IPsec IKEv2 site
ROLES = {"primary": "PRIMARY", "secondary": "SECONDARY"}
MAX_TUNNELS = 3  # per role: SDL IPSecV2InterfaceId (PRIMARY1..3), KB 20883101923101
_GENERAL = ("connectionMode", "identificationType", "initMessage", "authMessage", "networkRanges")
_TUNNEL = ("name", "publicSiteIp", "privateCatoIp", "privateSiteIp", "role", "lastMileBw")
_ROLE_FIELDS = ("destinationType", "popLocationId", "publicCatoIpId")


def _digest(psk: str) -> str:
    return hashlib.sha256(psk.encode()).hexdigest()


def ipsec_site(ctx: RequestContext, site_id: Any) -> dict[str, Any]:
    site = get(ctx, SITE, site_id)
    if site["connectionType"] != CONNECTION:
        raise invalid(f"Site '{site['name']}' is not an IPsec IKEv2 site ({site['connectionType']})")
    return site


def _empty() -> dict[str, Any]:
    return {
        **{k: None for k in _GENERAL},
        **{role: {**{k: None for k in _ROLE_FIELDS}, "tunnels": []} for role in ROLES},
    }


def add_ipsec_site(ctx: RequestContext, inp: dict[str, Any], explicit_id: Any = None) -> str:
    site, native = new_site(ctx, inp, CONNECTION, explicit_id)
    site["ipsec"] = _empty()
    put(ctx, SITE, site)
    # The one interface of an IPsec site: no Socket port, it holds the native range.
    iface = {"id": new_id(ctx, IFACE), "siteId": site["id"], "slot": None, "index": None, "name": "IPsec",
             "destType": "IPSEC", "nativeRangeId": None}  # fmt: skip
    iface["nativeRangeId"] = create_range(ctx, site, iface, native_range_fields(inp, native))["id"]
    put(ctx, IFACE, iface)
    log(ctx, SITE, site["id"], site["name"], "CREATED")
    return site["id"]


# -- rules ------------------------------------------------------------------------------------------
def _check_general(ipsec: dict[str, Any]) -> None:
    mode = ipsec.get("connectionMode")
    ident = ipsec.get("identificationType")
    if ident and ident != "IPV4" and mode != "RESPONDER_ONLY":
        raise invalid(f"identificationType {ident} is available in RESPONDER_ONLY connection mode only")
    for item in ipsec.get("networkRanges") or []:
        _, _, cidr = str(item).rpartition(":")
        try:
            ipaddress.IPv4Network(cidr, strict=True)
        except ValueError:
            raise invalid(f"networkRanges: '{item}' is not a subnet (CIDR, optionally 'name:CIDR')") from None
    _check_roles(ipsec)


def _check_roles(ipsec: dict[str, Any]) -> None:
    for role, prefix in ROLES.items():
        conf = ipsec[role]
        if conf.get("destinationType") == "FQDN" and ipsec.get("connectionMode") != "RESPONDER_ONLY":
            raise invalid(f"{role}: destinationType FQDN is available in RESPONDER_ONLY connection mode only")
        tunnels = conf["tunnels"]
        if len(tunnels) > MAX_TUNNELS:
            raise invalid(
                f"{role}: at most {MAX_TUNNELS} tunnels per role ({prefix}1..{prefix}{MAX_TUNNELS})"
            )
        ips = [t["publicSiteIp"] for t in tunnels if t.get("publicSiteIp")]
        if len(ips) != len(set(ips)):
            raise invalid(f"{role}: each tunnel needs its own public site IP (identifier)")
        for t in tunnels:
            if bool(t.get("privateCatoIp")) != bool(t.get("privateSiteIp")):
                raise invalid(f"{t['tunnelId']}: privateCatoIp and privateSiteIp (BGP) go together")
            if t.get("privateCatoIp") and len(tunnels) > 1:
                raise invalid(
                    f"{t['tunnelId']}: BGP (private IPs) is not supported with several active tunnels in {role}"
                )
            bw = t.get("lastMileBw") or {}
            for k in ("downstream", "upstream", "downstreamMbpsPrecision", "upstreamMbpsPrecision"):
                if bw.get(k) is not None and bw[k] <= 0:
                    raise invalid(f"{t['tunnelId']}: lastMileBw.{k} must be positive")


def _role_settings(ctx: RequestContext, conf: dict[str, Any], inp: dict[str, Any]) -> None:
    for k in _ROLE_FIELDS:
        if inp.get(k) is not None:
            conf[k] = str(inp[k]) if k != "destinationType" else inp[k]
    if inp.get("popLocationId") is not None and str(inp["popLocationId"]) not in POPS:
        raise CatoGraphQLError(f"PoP location {inp['popLocationId']} not found", "NOT_FOUND")
    ip_id = inp.get("publicCatoIpId")
    if ip_id is not None and ctx.store.get(ctx.account_id, "allocatedIp", str(ip_id)) is None:
        raise CatoGraphQLError(f"Allocated IP {ip_id} not found", "NOT_FOUND")


def _tunnel_fields(t: dict[str, Any], inp: dict[str, Any]) -> None:
    for k in _TUNNEL:
        if inp.get(k) is not None:
            t[k] = inp[k]
    if "psk" in inp and inp["psk"] is not None:
        if not str(inp["psk"]).strip():
            raise invalid(f"{t['tunnelId']}: psk must not be empty")
        t["pskSha256"] = _digest(inp["psk"])


# -- mutations ----------------------------------------------------------------------------------------
def update_general(ctx: RequestContext, site_id: str, inp: dict[str, Any]) -> dict[str, Any]:
    site = ipsec_site(ctx, site_id)
    old = site["ipsec"]
    new = {**old, **{k: inp[k] for k in _GENERAL if inp.get(k) is not None}}
    _check_general(new)
    site["ipsec"] = new
    put(ctx, SITE, site)
    log(ctx, SITE, site["id"], site["name"], "MODIFIED", flat(old), flat(new))
    return {"siteId": site["id"], "localId": f"{site['id']}@ipsec.catonetworks.net"}


def add_tunnels(ctx: RequestContext, site_id: str, inp: dict[str, Any]) -> dict[str, Any]:
    site = ipsec_site(ctx, site_id)
    ipsec = site["ipsec"]
    out: dict[str, Any] = {"siteId": site["id"]}
    for role, prefix in ROLES.items():
        part = inp.get(role)
        if part is None:
            continue
        conf = ipsec[role]
        _role_settings(ctx, conf, part)
        added = []
        for t_in in part.get("tunnels") or []:
            taken = {t["tunnelId"] for t in conf["tunnels"]}
            free = [f"{prefix}{n}" for n in range(1, MAX_TUNNELS + 1) if f"{prefix}{n}" not in taken]
            if not free:
                raise invalid(
                    f"{role}: at most {MAX_TUNNELS} tunnels per role ({prefix}1..{prefix}{MAX_TUNNELS})"
                )
            t = {"tunnelId": free[0], **{k: None for k in _TUNNEL}}
            _tunnel_fields(t, t_in)
            conf["tunnels"] = sorted([*conf["tunnels"], t], key=lambda x: x["tunnelId"])
            added.append(t)
        out[role] = _multi(site, conf, added)
    _check_general(ipsec)
    put(ctx, SITE, site)
    log(ctx, SITE, site["id"], site["name"], "MODIFIED")
    return out


def update_tunnels(ctx: RequestContext, site_id: str, inp: dict[str, Any]) -> dict[str, Any]:
    site = ipsec_site(ctx, site_id)
    ipsec = site["ipsec"]
    out: dict[str, Any] = {"siteId": site["id"]}
    for role in ROLES:
        part = inp.get(role)
        if part is None:
            continue
        conf = ipsec[role]
        _role_settings(ctx, conf, part)
        changed = []
        for t_in in part.get("tunnels") or []:
            t = next((x for x in conf["tunnels"] if x["tunnelId"] == t_in["tunnelId"]), None)
            if t is None:
                raise CatoGraphQLError(
                    f"Tunnel {t_in['tunnelId']} not found in site '{site['name']}'", "NOT_FOUND"
                )
            _tunnel_fields(t, t_in)
            changed.append(t)
        out[role] = _multi(site, conf, changed)
    _check_general(ipsec)
    put(ctx, SITE, site)
    log(ctx, SITE, site["id"], site["name"], "MODIFIED")
    return out


def remove_tunnels(ctx: RequestContext, site_id: str, inp: dict[str, Any]) -> dict[str, Any]:
    site = ipsec_site(ctx, site_id)
    ipsec = site["ipsec"]
    wanted = list(inp["tunnelId"])
    out: dict[str, Any] = {"siteId": site["id"]}
    for role, prefix in ROLES.items():
        conf = ipsec[role]
        gone = [t for t in conf["tunnels"] if t["tunnelId"] in wanted]
        conf["tunnels"] = [t for t in conf["tunnels"] if t["tunnelId"] not in wanted]
        out[role] = _multi(site, conf, gone) if any(w.startswith(prefix) for w in wanted) else None
    missing = sorted(set(wanted) - {t["tunnelId"] for t in _removed(out)})
    if missing:
        raise CatoGraphQLError(f"Tunnel {missing[0]} not found in site '{site['name']}'", "NOT_FOUND")
    put(ctx, SITE, site)
    log(ctx, SITE, site["id"], site["name"], "MODIFIED")
    return out


def _removed(out: dict[str, Any]) -> list[dict[str, Any]]:
    return [t for role in ROLES for t in ((out.get(role) or {}).get("tunnels") or [])]


def _multi(site: dict[str, Any], conf: dict[str, Any], tunnels: list[dict[str, Any]]) -> dict[str, Any]:
    fqdn = f"{site['id']}.ipsec.catonetworks.net" if conf.get("destinationType") == "FQDN" else None
    return {
        "fqdn": fqdn,
        "tunnels": [{"tunnelId": t["tunnelId"], "localId": local_id(site, t)} for t in tunnels],
    }


def local_id(site: dict[str, Any], tunnel: dict[str, Any]) -> str:
    return f"{site['id']}-{tunnel['tunnelId'].lower()}@ipsec.catonetworks.net"


# -- reads --------------------------------------------------------------------------------------------
def snapshot_info(site: dict[str, Any], cato_ip: str) -> list[dict[str, Any]]:
    """``SiteInfo.ipsec``: one ``IPSecInfo`` per role that has tunnels."""
    out = []
    for role in ROLES:
        tunnels = site.get("ipsec", _empty())[role]["tunnels"]
        if not tunnels:
            continue
        out.append(
            {
                "isPrimary": role == "primary",
                "catoIP": cato_ip,
                "remoteIP": tunnels[0].get("publicSiteIp"),
                "ikeVersion": 2,
                "tunnelConfig": [
                    {
                        "tunnelId": t["tunnelId"],
                        "localId": local_id(site, t),
                        "tunnelRemoteIdentifier": t.get("publicSiteIp"),
                    }
                    for t in tunnels
                ],
            }
        )
    return out


# -- the `site` namespace -------------------------------------------------------------------------
def _add_site(self, info, input):
    return {"siteId": add_ipsec_site(self.ctx, input)}


SiteMutations.addIpsecIkeV2Site = _add_site  # type: ignore[attr-defined]
SiteMutations.updateIpsecIkeV2SiteGeneralDetails = lambda self, info, siteId, input: update_general(  # type: ignore[attr-defined]
    self.ctx, siteId, input
)
SiteMutations.addIpsecIkeV2SiteTunnels = lambda self, info, siteId, input: add_tunnels(
    self.ctx, siteId, input
)  # type: ignore[attr-defined]
SiteMutations.updateIpsecIkeV2SiteTunnels = lambda self, info, siteId, input: update_tunnels(  # type: ignore[attr-defined]
    self.ctx, siteId, input
)
SiteMutations.removeIpsecIkeV2SiteTunnels = lambda self, info, siteId, input: remove_tunnels(  # type: ignore[attr-defined]
    self.ctx, siteId, input
)


# -- fixtures ---------------------------------------------------------------------------------------
def _camel(value: Any) -> Any:
    if isinstance(value, list):
        return [_camel(v) for v in value]
    if isinstance(value, dict):
        return {k: _camel(v) for k, v in camel(value).items()}
    return value


def _seed(ctx: RequestContext, s: dict[str, Any]) -> None:
    native = s["native_range"]
    site_id = add_ipsec_site(
        ctx,
        api_input(
            "AddIpsecIkeV2SiteInput",
            {
                "name": s["name"],
                "siteType": s.get("type", "BRANCH"),
                "description": s.get("description"),
                "nativeNetworkRange": native,
                "siteLocation": {
                    "countryCode": s.get("country_code"),
                    "timezone": s.get("timezone"),
                    "city": s.get("city"),
                    "stateCode": s.get("state_code"),
                },
            },
        ),
        s.get("id"),
    )
    general = camel({k: v for k, v in s.items() if k in ("connection_mode", "identification_type")})
    if general:
        update_general(ctx, site_id, api_input("UpdateIpsecIkeV2SiteGeneralDetailsInput", general))
    tunnels = {role: _camel(s[role]) for role in ROLES if s.get(role)}
    if tunnels:
        add_tunnels(ctx, site_id, api_input("AddIpsecIkeV2SiteTunnelsInput", tunnels))


@seeder
def seed_ipsec_sites(ctx: RequestContext, account: dict[str, Any]) -> None:
    for s in account.get("ipsec_sites") or []:
        try:
            _seed(ctx, s)
        except GraphQLError as e:
            raise ValueError(f"IPsec site {s.get('name')!r}: {e.message}") from None
