"""``catalogs.catalogApplicationList`` (Cato's application catalog, ``@beta`` in the SDL), served from
the built-in reference data in ``catalog.py``.

Every account sees the same catalog: ``catalog.APPLICATIONS`` as ``type: APPLICATION``, each with
the categories ``APP_CATEGORY_OF`` gives it. Filters follow ``CatalogApplicationFilterInput``: every
entry of ``filter`` must hold, and every condition inside it; supported are ``id`` and ``name``
(``IdFilterInput``/``StringFilterInput``: ``eq``/``neq``/``in``/``nin``, exact and case-sensitive),
``freeText {search}`` (a case-insensitive substring of the name), ``type`` and ``category
{hasAny}`` (refs by id or name; a category that does not exist is an error, as a ref is). Any
other filter is refused rather than ignored. Paging ``{from, limit}`` (limit 100 by default),
``pageInfo.total`` counts matches before paging; order is by name.

Only the fields the catalog tables hold are filled (id, name, type, category, description,
recentlyAdded, sanctioned); a query for the others gets the schema's empty values.
"""

from __future__ import annotations

from typing import Any

from .. import catalog
from ..context import CatoGraphQLError, RequestContext, invalid
from ..registry import query

# Categories of the catalog's applications (by id), where the reference data knows one.
APP_CATEGORY_OF: dict[str, str] = {
    "anydesk": "remote_access",
    "teamviewer": "remote_access",
    "dropbox": "file_sharing",
    "box": "file_sharing",
    "wetransfer": "file_sharing",
    "googledrive": "file_sharing",
    "onedrive": "file_sharing",
    "facebook": "social",
    "instagram": "social",
    "linkedin": "social",
    "twitter": "social",
    "tiktok": "social",
    "reddit": "social",
    "gmail": "web_mail",
    "outlook": "web_mail",
    "slack": "instant_messaging",
    "telegram": "instant_messaging",
    "whatsapp": "instant_messaging",
    "skype": "instant_messaging",
    "netflix": "streaming_media",
    "spotify": "streaming_media",
    "twitch": "streaming_media",
    "youtube": "streaming_media",
    "tor": "anonymizers",
}
_SUPPORTED = {"id", "name", "freeText", "type", "category"}


def _apps() -> list[dict[str, Any]]:
    out = []
    for app_id, name in sorted(catalog.APPLICATIONS.items(), key=lambda kv: kv[1].lower()):
        cat = APP_CATEGORY_OF.get(app_id)
        out.append(
            {
                "id": app_id,
                "name": name,
                "type": "APPLICATION",
                "category": [{"id": cat, "name": catalog.APPLICATION_CATEGORIES[cat]}] if cat else [],
                "description": None,
                "descriptionSummary": None,
                "recentlyAdded": False,
                "sanctioned": False,
                "activity": [],
                "tenantActivity": [],
                "capability": [],
                "standardPorts": [],
            }
        )
    return out


def _ops(value: Any, cond: dict[str, Any]) -> bool:
    """IdFilterInput / StringFilterInput / CatalogApplicationTypeFilterInput: every operator holds."""
    for op, arg in cond.items():
        if arg is None:
            continue
        if op == "eq" and value != arg:
            return False
        if op == "neq" and value == arg:
            return False
        if op == "in" and value not in arg:
            return False
        if op == "nin" and value in arg:
            return False
    return True


def _category(ref: dict[str, Any]) -> str:
    by, value = ref.get("by") or "ID", str(ref.get("input"))
    table = catalog.APPLICATION_CATEGORIES
    if by == "ID" and value in table:
        return value
    found = [k for k, v in table.items() if v == value] if by == "NAME" else []
    if not found:
        raise CatoGraphQLError(f"Application category with {by.lower()} {value} not found", "NOT_FOUND")
    return found[0]


def _matches(app: dict[str, Any], f: dict[str, Any]) -> bool:
    unknown = sorted(k for k, v in f.items() if v is not None and k not in _SUPPORTED)
    if unknown:
        raise invalid(f"catalogApplicationList: the emulator does not filter by {', '.join(unknown)}")
    if not all(_ops(app["id"], c) for c in f.get("id") or []):
        return False
    if not all(_ops(app["name"], c) for c in f.get("name") or []):
        return False
    if not all(_ops(app["type"], c) for c in f.get("type") or []):
        return False
    text = (f.get("freeText") or {}).get("search")
    if text and text.lower() not in app["name"].lower():
        return False
    cats = {c["id"] for c in app["category"]}
    return all(cats & {_category(r) for r in c.get("hasAny") or []} for c in f.get("category") or [])


@query("catalogs")
def catalogs(ctx: RequestContext, info, accountId: str) -> dict[str, Any]:
    def application_list(info, input=None):
        inp = input or {}
        found = [a for a in _apps() if all(_matches(a, f) for f in inp.get("filter") or [])]
        paging = inp.get("paging") or {}
        start, limit = max(0, paging.get("from") or 0), paging.get("limit", 100)
        if limit is None or limit < 1:
            raise invalid("paging.limit must be at least 1")
        return {"application": found[start : start + limit], "pageInfo": {"total": len(found)}}

    return {"catalogApplicationList": application_list}
