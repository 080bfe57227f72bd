"""AppConnector: a ZTNA app connector, the appliance (PHYSICAL) or VM (VIRTUAL) through which Cato
reaches private applications in a data center, in a named group of connectors.

Inputs are Cato's ``AddZtnaAppConnectorInput``, derived in snake_case (``gql_schema.InputModel``):
``name``, ``group_name``, ``type``, ``location`` (country, state, city, time zone: checked like a
site's) and ``preferred_pop_location`` (automatic by default; PoPs by name or ``{"id": ...}``).
``type`` is fixed once made (``UpdateZtnaAppConnectorInput`` has none): changing it replaces the
connector. Checks before any write: the location (country, time zone, a city of that country), a
description of at most 250 characters (Terraform's ``cato_app_connector``), and a primary PoP when
``automatic`` is off or ``preferred_only`` is on.

Read path: the ``app_connectors`` collection, ``ztnaAppConnectorList`` paged by 100.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from ...cities import city_problem
from ...readpath import AccountReader, register_loader
from ..gql_schema import InputModel
from ..spec import Operation, Reservation, ResourceSpec
from .common import NAME

MODEL = InputModel("AddZtnaAppConnectorInput")
PAGE = 100
MAX_DESCRIPTION = 250  # TF cato_app_connector: "(max 250 characters)"
_POPS = ("primary", "secondary")


def _schema() -> dict[str, Any]:
    schema = copy.deepcopy(MODEL.schema)
    props = schema["properties"]
    props["name"] = props["group_name"] = NAME
    props["description"] = {"type": "string", "maxLength": MAX_DESCRIPTION}
    loc = props["location"]["properties"]
    loc["country_code"] = {"type": "string", "format": "country"}
    loc["timezone"] = {"type": "string", "format": "timezone"}
    return schema


SCHEMA = _schema()


def _rules(i: dict[str, Any]) -> list[tuple[str, str]]:
    out = []
    loc = i.get("location") or {}
    problem = city_problem(loc.get("city"), loc.get("country_code"), loc.get("state_code"))
    if problem:
        out.append(("location.city", f"{problem}: check the spelling, or the country and state"))
    pop = i.get("preferred_pop_location") or {}
    if (not pop.get("automatic", True) or pop.get("preferred_only")) and not pop.get("primary"):
        out.append(
            (
                "preferred_pop_location.primary",
                "a primary PoP is needed unless automatic is on and preferred_only off: set primary",
            )
        )
    return out


def _normalize(i: dict[str, Any]) -> dict[str, Any]:
    i = MODEL.canonical(i)
    if isinstance(i.get("location"), dict) and i["location"].get("country_code"):
        i["location"]["country_code"] = i["location"]["country_code"].upper()
    return i


def _create(_id, i, _view) -> dict[str, Any]:
    return {"input": MODEL.to_graphql(i)}


def _update(cid, i, _view) -> dict[str, Any]:
    return {"input": {**MODEL.to_graphql(i, "UpdateZtnaAppConnectorInput"), "id": cid}}


def load_app_connectors(r: AccountReader) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    start = 0
    while True:
        data = r.client.execute("ZtnaAppConnectorList", {"input": {"paging": {"from": start, "limit": PAGE}}})
        page = (data.get("ztnaAppConnector") or {}).get("ztnaAppConnectorList") or {}
        items = page.get("ztnaAppConnector") or []
        out.update({str(c["id"]): {**c, "id": str(c["id"])} for c in items})
        start += len(items)
        if not items or start >= int((page.get("pageInfo") or {}).get("total") or 0):
            return out


register_loader("app_connectors", load_app_connectors)


def _read(live: Mapping[str, Any], _view) -> dict[str, Any]:
    loc = dict(live.get("location") or {})
    loc["city"] = loc.pop("cityName", None)
    out = MODEL.from_live({**live, "location": loc}, by_id=lambda _t, _i: True)
    pop = out.get("preferred_pop_location")
    for k in _POPS:
        ref = ((live.get("preferredPopLocation") or {}).get(k)) or {}
        if pop and k in pop and ref.get("name"):
            pop[k] = {"id": str(ref["id"]), "__name": ref["name"]}
    return out


def _reconcile(live: dict[str, Any], prior: dict[str, Any]) -> dict[str, Any]:
    """A PoP the state names by name reads by name."""
    live = copy.deepcopy(live)
    pop, before = live.get("preferred_pop_location") or {}, prior.get("preferred_pop_location") or {}
    for k in _POPS:
        ref, old = pop.get(k), before.get(k)
        if isinstance(ref, dict) and "__name" in ref:
            name = ref.pop("__name")
            if isinstance(old, str) or (isinstance(old, dict) and "name" in old):
                pop[k] = {"name": name}
    return live


def _reservations(i: dict[str, Any]) -> list[Reservation]:
    return [Reservation("app connector name", i["name"], "name", f"app connector name {i['name']!r}")]


APP_CONNECTOR = ResourceSpec(
    name="AppConnector",
    kind="app_connectors",
    schema=SCHEMA,
    create=Operation(
        "AddZtnaAppConnector", _create, id_path="ztnaAppConnector.addZtnaAppConnector.ztnaAppConnector.id"
    ),
    update=Operation("UpdateZtnaAppConnector", _update),
    delete=Operation(
        "RemoveZtnaAppConnector",
        lambda cid, _i, _v: {"input": {"ztnaAppConnector": {"by": "ID", "input": cid}}},
    ),
    replace_on=("type",),
    natural_key=("name",),
    read=_read,
    rules=(_rules,),
    normalize=_normalize,
    reconcile=_reconcile,
    reservations=_reservations,
)
