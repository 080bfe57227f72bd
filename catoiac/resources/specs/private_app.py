"""PrivateApp: an application in the customer's network that users reach through Cato's ZTNA (private
access), optionally published under a domain through a group of app connectors.

Inputs are Cato's ``CreatePrivateApplicationInput``, derived in snake_case (``gql_schema.InputModel``),
but for what the server assigns (the probing's and the published domain's ``id`` and
``creation_time``). Protocol ports are a set: their order means nothing. The app is referred to by
name from private access rules (``PrivateAccessPolicy``: ``applications.application``); name an app
this program creates through its output (``app.name``) so that Pulumi creates it first.

Checks before any write: the internal address is an IPv4 address or an FQDN; ports are 1-65535, a
range's ``from`` is not above its ``to``, ICMP and ANY take no ports; probing's interval and fault
threshold are positive; a published app has its domain.

Read path: the ``private_apps`` collection, one ``privateApplicationList`` call for the account.
"""

from __future__ import annotations

import copy
import ipaddress
import json
import re
from collections.abc import Mapping
from typing import Any

from ...readpath import AccountReader, register_loader
from ..gql_schema import InputModel
from ..spec import Operation, Reservation, ResourceSpec
from .common import NAME

MODEL = InputModel("CreatePrivateApplicationInput")
# Fields the server assigns, in the input types only so that a read can be sent back whole.
_SERVER = {"private_app_probing": ("id",), "published_app_domain": ("id", "creation_time")}
_FQDN = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$")


def _schema() -> dict[str, Any]:
    schema = copy.deepcopy(MODEL.schema)
    for prop, fields in _SERVER.items():
        sub = schema["properties"][prop]
        for f in fields:
            sub["properties"].pop(f)
        sub["propertyNames"] = {"enum": sorted(sub["properties"])}
    schema["properties"]["name"] = NAME
    schema["properties"]["private_app_probing"]["required"] = ["type", "interval", "fault_threshold_down"]
    for k in ("interval", "fault_threshold_down"):
        schema["properties"]["private_app_probing"]["properties"][k]["minimum"] = 1
    return schema


SCHEMA = _schema()


def _port(value: Any) -> int | None:
    return int(value) if str(value).isdigit() else None


def _rules(i: dict[str, Any]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    address = str(i.get("internal_app_address") or "")
    try:
        ipaddress.IPv4Address(address)
    except ValueError:
        if not _FQDN.match(address):
            out.append(
                (
                    "internal_app_address",
                    f"{address!r} is neither an IPv4 address nor an FQDN (app.corp.example)",
                )
            )
    for n, svc in enumerate(i.get("protocol_ports") or []):
        where = f"protocol_ports[{n}]"
        ports, span = svc.get("port") or [], svc.get("port_range")
        if svc.get("protocol") in ("ICMP", "ANY") and (ports or span):
            out.append((where, f"{svc['protocol']} takes no port or port_range: remove them"))
        for p in [*ports, *(span or {}).values()]:
            if _port(p) is None or not 1 <= _port(p) <= 65535:
                out.append((where, f"port {p!r} is not a port number (1-65535)"))
        if (
            span
            and _port(span.get("from"))
            and _port(span.get("to"))
            and _port(span["from"]) > _port(span["to"])
        ):
            out.append((f"{where}.port_range", f"from {span['from']} is above to {span['to']}"))
    if i.get("published") and not (i.get("published_app_domain") or {}).get("published_app_domain"):
        out.append(
            (
                "published_app_domain",
                "a published app needs published_app_domain.published_app_domain (its domain): set it, or published=False",
            )
        )
    return out


def _normalize(i: dict[str, Any]) -> dict[str, Any]:
    i = MODEL.canonical(i)
    for prop, fields in _SERVER.items():
        if isinstance(i.get(prop), dict):
            i[prop] = {k: v for k, v in i[prop].items() if k not in fields}
            if not i[prop]:
                i.pop(prop)
    if "protocol_ports" in i:
        i["protocol_ports"] = sorted(i["protocol_ports"], key=lambda s: json.dumps(s, sort_keys=True))
    return i


def _create(_id, i, _view) -> dict[str, Any]:
    return {"input": MODEL.to_graphql(i)}


def _update(app_id, i, _view) -> dict[str, Any]:
    return {"input": {**MODEL.to_graphql(i, "UpdatePrivateApplicationInput"), "id": app_id}}


def load_private_apps(r: AccountReader) -> dict[str, dict[str, Any]]:
    data = r.client.execute("PrivateApplicationList", {})
    apps = ((data.get("privateApplication") or {}).get("privateApplicationList") or {}).get(
        "applications"
    ) or []
    return {str(a["id"]): {**a, "id": str(a["id"])} for a in apps}


register_loader("private_apps", load_private_apps)


def _read(live: Mapping[str, Any], _view) -> dict[str, Any]:
    return MODEL.from_live(live)


def _reservations(i: dict[str, Any]) -> list[Reservation]:
    return [Reservation("private app name", i["name"], "name", f"private app name {i['name']!r}")]


PRIVATE_APP = ResourceSpec(
    name="PrivateApp",
    kind="private_apps",
    schema=SCHEMA,
    create=Operation(
        "CreatePrivateApplication",
        _create,
        id_path="privateApplication.createPrivateApplication.application.id",
    ),
    update=Operation("UpdatePrivateApplication", _update),
    delete=Operation(
        "DeletePrivateApplication",
        lambda app_id, _i, _v: {"input": {"privateApplication": {"by": "ID", "input": app_id}}},
    ),
    natural_key=("name",),
    read=_read,
    rules=(_rules,),
    normalize=_normalize,
    reservations=_reservations,
)
