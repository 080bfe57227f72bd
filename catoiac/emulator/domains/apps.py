"""Private applications and ZTNA app connectors (the ``privateApplication`` and ``ztnaAppConnector``
namespaces).

State: ``privateApp`` entities (the kind ``policy_refs.py`` resolves ``PrivateApplicationRefInput``
from, so private access rules name real apps) and ``ztnaAppConnector`` entities.

Rules (FIDELITY.md has the sources):
- private apps: a unique name (Terraform's ``cato_private_app``: "The unique name"); the internal
  address an IPv4 address or an FQDN (SDL ``IPAddressOrFqdn``); protocol ports: ports 1-65535 and
  a range's ``from`` not above its ``to``, ``ICMP``/``ANY`` with no ports; probing's interval and
  fault threshold positive; a published app needs its ``publishedAppDomain`` (TF: "Optional if the
  private app is not published"), whose ``connectorGroupName`` must be a group of the account's
  app connectors; an app that private access rules use cannot be deleted.
- app connectors: a unique name (TF: "The unique name"); a description of at most 250 characters
  (TF); a group name (a group exists while a connector is in it: TF "It will be created if it does
  not exist"); a known country, time zone and city (the sites' catalog); preferred PoPs that exist
  (``sites.POPS``), and a primary one when ``automatic`` is off or ``preferredOnly`` is on. Type
  is fixed once made (``UpdateZtnaAppConnectorInput`` has none).

Fixture sections: ``private_apps: [{name, internal_app_address, protocol_ports: [...]}]`` and
``app_connectors: [{name, group_name, type, country_code, city, timezone}]`` (snake_case input fields).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from graphql import GraphQLError

from ..context import CatoGraphQLError, RequestContext, invalid
from ..registry import mutation, query, seeder
from .sites import _check_location, _pop, api_input, new_id, timestamp

APP = "privateApp"
CONNECTOR = "ztnaAppConnector"
_FQDN = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$")
MAX_CONNECTOR_DESCRIPTION = 250  # TF cato_app_connector: "(max 250 characters)"


def _audit(ctx: RequestContext, kind: str, rec: dict[str, Any], change: str, model: str) -> None:
    if ctx.scratch.get("seeding"):
        return
    from .. import audit

    audit.record(ctx, object_id=rec["id"], object_name=rec["name"], object_type=kind,
                 change_type=change, model_type=model, module="configuration")  # fmt: skip


def _by_ref(ctx: RequestContext, kind: str, ref: dict[str, Any], label: str) -> dict[str, Any]:
    if ref.get("by", "ID") == "NAME":
        found = ctx.store.find_by_name(ctx.account_id, kind, ref["input"])
    else:
        rec = ctx.store.get(ctx.account_id, kind, str(ref["input"]))
        found = [rec] if rec else []
    if not found:
        raise CatoGraphQLError(f"{label} {ref['input']} not found", "NOT_FOUND")
    return found[0]


def _unique(ctx: RequestContext, kind: str, name: str, self_id: str | None, label: str) -> None:
    if not str(name or "").strip():
        raise invalid(f"A {label} needs a name")
    if any(r["id"] != self_id for r in ctx.store.find_by_name(ctx.account_id, kind, name)):
        raise invalid(f"{label} name '{name}' is already in use")


# -- private applications ---------------------------------------------------------------------------
def _check_app(ctx: RequestContext, rec: dict[str, Any]) -> None:
    address = str(rec["internalAppAddress"])
    try:
        ipaddress.IPv4Address(address)
    except ValueError:
        if not _FQDN.match(address):
            raise invalid(f"internalAppAddress '{address}' is neither an IPv4 address nor an FQDN") from None
    for n, svc in enumerate(rec.get("protocolPorts") or []):
        ports, span = svc.get("port") or [], svc.get("portRange")
        if svc["protocol"] in ("ICMP", "ANY") and (ports or span):
            raise invalid(f"protocolPorts[{n}]: {svc['protocol']} takes no ports")
        for p in [*ports, *((span or {}).values())]:
            if not str(p).isdigit() or not 1 <= int(p) <= 65535:
                raise invalid(f"protocolPorts[{n}]: port {p} is not between 1 and 65535")
        if span and int(span["from"]) > int(span["to"]):
            raise invalid(f"protocolPorts[{n}]: portRange from {span['from']} is above to {span['to']}")
    probing = rec.get("privateAppProbing") or {}
    for k in ("interval", "faultThresholdDown"):
        if probing.get(k) is not None and probing[k] <= 0:
            raise invalid(f"privateAppProbing.{k} must be positive")
    domain = rec.get("publishedAppDomain")
    if rec["published"] and not (domain or {}).get("publishedAppDomain"):
        raise invalid("A published app needs publishedAppDomain.publishedAppDomain (its domain)")
    group = (domain or {}).get("connectorGroupName")
    if group and group not in connector_groups(ctx):
        raise invalid(
            f"publishedAppDomain.connectorGroupName: no app connector group '{group}' in the account"
        )


def _app_fields(ctx: RequestContext, rec: dict[str, Any], inp: dict[str, Any]) -> None:
    for k in ("name", "description", "internalAppAddress", "allowIcmpProtocol", "probingEnabled", "published",
              "protocolPorts"):  # fmt: skip
        if inp.get(k) is not None:
            rec[k] = inp[k]
    if inp.get("privateAppProbing") is not None:
        p = inp["privateAppProbing"]
        rec["privateAppProbing"] = {
            "id": p.get("id") or f"probe-{rec['id']}",
            "type": p.get("type") or "ICMP_PING",
            "interval": 10 if p.get("interval") is None else p["interval"],
            "faultThresholdDown": 3 if p.get("faultThresholdDown") is None else p["faultThresholdDown"],
        }
    if inp.get("publishedAppDomain") is not None:
        d = inp["publishedAppDomain"]
        rec["publishedAppDomain"] = {
            "id": f"pad-{rec['id']}",
            "publishedAppDomain": d.get("publishedAppDomain"),
            "connectorGroupName": d.get("connectorGroupName"),
            "catoIp": d.get("catoIp"),
            "creationTime": rec["creationTime"],
        }


def create_app(ctx: RequestContext, inp: dict[str, Any], explicit_id: Any = None) -> dict[str, Any]:
    rec: dict[str, Any] = {"id": new_id(ctx, APP, explicit_id), "creationTime": timestamp(ctx),
                           "description": None, "protocolPorts": [], "privateAppProbing": None,
                           "publishedAppDomain": None}  # fmt: skip
    _app_fields(ctx, rec, inp)
    _unique(ctx, APP, rec["name"], rec["id"], "Private application")
    _check_app(ctx, rec)
    ctx.store.put(ctx.account_id, APP, rec["id"], rec, name=rec["name"])
    _audit(ctx, APP, rec, "CREATED", "PrivateApplication")
    return rec


def update_app(ctx: RequestContext, inp: dict[str, Any]) -> dict[str, Any]:
    rec = _by_ref(ctx, APP, {"by": "ID", "input": inp["id"]}, "Private application")
    _app_fields(ctx, rec, inp)
    _unique(ctx, APP, rec["name"], rec["id"], "Private application")
    _check_app(ctx, rec)
    ctx.store.put(ctx.account_id, APP, rec["id"], rec, name=rec["name"])
    _audit(ctx, APP, rec, "MODIFIED", "PrivateApplication")
    return rec


def delete_app(ctx: RequestContext, inp: dict[str, Any]) -> str:
    rec = _by_ref(ctx, APP, inp["privateApplication"], "Private application")
    users = _rules_using(ctx, rec["id"])
    if users:
        raise invalid(
            f"Private application '{rec['name']}' is used by private access rule(s) {', '.join(users)}"
        )
    ctx.store.delete(ctx.account_id, APP, rec["id"])
    _audit(ctx, APP, rec, "DELETED", "PrivateApplication")
    return rec["id"]


def _rules_using(ctx: RequestContext, app_id: str) -> list[str]:
    """Names of the published private access rules whose body names the app."""
    needle = f'"id": "{app_id}"'
    rows = ctx.store.execute(
        "SELECT data FROM entities WHERE account_id=? AND kind='fwRule' AND parent_id='privateAccess' AND data LIKE ?",
        (ctx.account_id, f"%{needle}%"),
    ).fetchall()
    names = []
    for row in rows:
        m = re.search(r'"name": "([^"]*)"', row["data"])
        names.append(f"'{m.group(1)}'" if m else "?")
    return sorted(set(names))


# -- app connectors -----------------------------------------------------------------------------------
def connector_groups(ctx: RequestContext) -> set[str]:
    return {c["groupName"] for c in ctx.store.list(ctx.account_id, CONNECTOR)}


def _location(loc: dict[str, Any]) -> dict[str, Any]:
    out = {"countryCode": loc.get("countryCode"), "stateCode": loc.get("stateCode"), "timezone": loc.get("timezone"),
           "address": loc.get("address"), "cityName": loc.get("city")}  # fmt: skip
    _check_location(out)
    return out


def _preferred(p: dict[str, Any]) -> dict[str, Any]:
    if (not p["automatic"] or p["preferredOnly"]) and not p.get("primary"):
        raise invalid(
            "preferredPopLocation: a primary PoP is needed unless automatic (and not preferredOnly)"
        )
    return {"automatic": p["automatic"], "preferredOnly": p["preferredOnly"],
            "primary": _pop(p.get("primary")), "secondary": _pop(p.get("secondary"))}  # fmt: skip


def _check_connector(ctx: RequestContext, rec: dict[str, Any]) -> None:
    _unique(ctx, CONNECTOR, rec["name"], rec["id"], "App connector")
    if not str(rec["groupName"] or "").strip():
        raise invalid("groupName must not be empty")
    if len(rec.get("description") or "") > MAX_CONNECTOR_DESCRIPTION:
        raise invalid(f"description is longer than {MAX_CONNECTOR_DESCRIPTION} characters")


def add_connector(ctx: RequestContext, inp: dict[str, Any], explicit_id: Any = None) -> dict[str, Any]:
    cid = new_id(ctx, CONNECTOR, explicit_id)
    rec = {
        "id": cid,
        "name": inp["name"],
        "description": inp.get("description"),
        "groupName": inp["groupName"],
        "type": inp["type"],
        "location": _location(inp["location"]),
        "preferredPopLocation": _preferred(inp["preferredPopLocation"]),
        "serialNumber": f"ZTNA-{cid}" if inp["type"] == "PHYSICAL" else None,
        "socketId": None,
        "socketModel": None,
    }
    _check_connector(ctx, rec)
    ctx.store.put(ctx.account_id, CONNECTOR, rec["id"], rec, name=rec["name"])
    _audit(ctx, CONNECTOR, rec, "CREATED", "ZtnaAppConnector")
    return rec


def update_connector(ctx: RequestContext, inp: dict[str, Any]) -> dict[str, Any]:
    rec = _by_ref(ctx, CONNECTOR, {"by": "ID", "input": inp["id"]}, "App connector")
    for k in ("name", "description", "groupName"):
        if inp.get(k) is not None:
            rec[k] = inp[k]
    if inp.get("location") is not None:
        rec["location"] = _location(inp["location"])
    if inp.get("preferredPopLocation") is not None:
        rec["preferredPopLocation"] = _preferred(inp["preferredPopLocation"])
    _check_connector(ctx, rec)
    ctx.store.put(ctx.account_id, CONNECTOR, rec["id"], rec, name=rec["name"])
    _audit(ctx, CONNECTOR, rec, "MODIFIED", "ZtnaAppConnector")
    return rec


def remove_connector(ctx: RequestContext, inp: dict[str, Any]) -> dict[str, Any]:
    rec = _by_ref(ctx, CONNECTOR, inp["ztnaAppConnector"], "App connector")
    ctx.store.delete(ctx.account_id, CONNECTOR, rec["id"])
    group = rec["groupName"]
    if group not in connector_groups(ctx):
        apps = [a["name"] for a in ctx.store.list(ctx.account_id, APP)
                if (a.get("publishedAppDomain") or {}).get("connectorGroupName") == group]  # fmt: skip
        if apps:
            raise invalid(f"App connector '{rec['name']}' is the last of group '{group}', which app(s) "
                          f"{', '.join(apps)} publish through")  # fmt: skip
    _audit(ctx, CONNECTOR, rec, "DELETED", "ZtnaAppConnector")
    return rec


def connector_view(ctx: RequestContext, rec: dict[str, Any]) -> dict[str, Any]:
    return rec | {"privateAppRef": []}


# -- GraphQL ----------------------------------------------------------------------------------------
class AppQueries:
    def __init__(self, ctx: RequestContext) -> None:
        self.ctx = ctx

    def privateApplicationList(self, info):
        return {"applications": self.ctx.store.list(self.ctx.account_id, APP)}

    def privateApplication(self, info, input):
        return _by_ref(self.ctx, APP, input, "Private application")


class AppMutations:
    def __init__(self, ctx: RequestContext) -> None:
        self.ctx = ctx

    def createPrivateApplication(self, info, input):
        return {"application": create_app(self.ctx, input)}

    def updatePrivateApplication(self, info, input):
        return {"application": update_app(self.ctx, input)}

    def deletePrivateApplication(self, info, input):
        return {"application": delete_app(self.ctx, input)}


class ConnectorQueries:
    def __init__(self, ctx: RequestContext) -> None:
        self.ctx = ctx

    def ztnaAppConnectorList(self, info, input):
        if input.get("filter"):
            raise invalid("ztnaAppConnectorList: the emulator does not filter; list all and filter yourself")
        paging = input.get("paging") or {"from": 0, "limit": 100}
        items = self.ctx.store.list(self.ctx.account_id, CONNECTOR)
        page = items[paging["from"] : paging["from"] + paging["limit"]]
        return {
            "ztnaAppConnector": [connector_view(self.ctx, c) for c in page],
            "pageInfo": {"total": len(items)},
        }

    def ztnaAppConnector(self, info, input):
        return connector_view(self.ctx, _by_ref(self.ctx, CONNECTOR, input, "App connector"))


class ConnectorMutations:
    def __init__(self, ctx: RequestContext) -> None:
        self.ctx = ctx

    def addZtnaAppConnector(self, info, input):
        return {"ztnaAppConnector": connector_view(self.ctx, add_connector(self.ctx, input))}

    def updateZtnaAppConnector(self, info, input):
        return {"ztnaAppConnector": connector_view(self.ctx, update_connector(self.ctx, input))}

    def removeZtnaAppConnector(self, info, input):
        return {"ztnaAppConnector": connector_view(self.ctx, remove_connector(self.ctx, input))}


@query("privateApplication")
def app_queries(ctx: RequestContext, info, accountId: str) -> AppQueries:
    return AppQueries(ctx)


@mutation("privateApplication")
def app_mutations(ctx: RequestContext, info, accountId: str) -> AppMutations:
    return AppMutations(ctx)


@query("ztnaAppConnector")
def connector_queries(ctx: RequestContext, info, accountId: str) -> ConnectorQueries:
    return ConnectorQueries(ctx)


@mutation("ztnaAppConnector")
def connector_mutations(ctx: RequestContext, info, accountId: str) -> ConnectorMutations:
    return ConnectorMutations(ctx)


# -- fixtures ---------------------------------------------------------------------------------------
def _camel(value: Any) -> Any:
    if isinstance(value, list):
        return [_camel(v) for v in value]
    if isinstance(value, dict):
        return {re.sub(r"_([a-z])", lambda m: m.group(1).upper(), k): _camel(v) for k, v in value.items()}
    return value


@seeder
def seed_apps(ctx: RequestContext, account: dict[str, Any]) -> None:
    for c in account.get("app_connectors") or []:
        body = _camel(
            {k: v for k, v in c.items() if k not in ("id", "country_code", "city", "timezone", "state_code")}
        )
        body["location"] = {"countryCode": c.get("country_code"), "city": c.get("city"),
                            "timezone": c.get("timezone"), "stateCode": c.get("state_code")}  # fmt: skip
        try:
            add_connector(ctx, api_input("AddZtnaAppConnectorInput", body), c.get("id"))
        except GraphQLError as e:
            raise ValueError(f"app connector {c.get('name')!r}: {e.message}") from None
    for a in account.get("private_apps") or []:
        body = _camel({k: v for k, v in a.items() if k != "id"})
        try:
            create_app(ctx, api_input("CreatePrivateApplicationInput", body), a.get("id"))
        except GraphQLError as e:
            raise ValueError(f"private app {a.get('name')!r}: {e.message}") from None
