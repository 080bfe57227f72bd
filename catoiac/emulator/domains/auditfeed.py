"""``auditFeed``: the account's audit trail, paged with markers like Cato's feed.

Time frames: ``last.<ISO-8601 duration>`` and the ``utc.`` short forms. A page holds at most
1000 records. The marker names the last record returned; a later call with the same marker
(whatever the window) returns only records after it, so a caller that keeps its marker fetches
only what is new. Window boundaries are inclusive.
"""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from graphql import GraphQLEnumType

from ..context import RequestContext, invalid
from ..registry import query

PAGE_SIZE = 1000
_DURATION = re.compile(
    r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$"
)
_T = r"(\d{2}:\d{2}:\d{2})"
_UTC_FORMS = [  # (regex, builder of (start, end) strings "YYYY-MM-DD/hh:mm:ss")
    (
        re.compile(rf"^(\d{{4}}-\d{{2}}-\d{{2}})/\{{{_T}--{_T}\}}$"),
        lambda m: (f"{m[1]}/{m[2]}", f"{m[1]}/{m[3]}"),
    ),
    (
        re.compile(rf"^(\d{{4}}-\d{{2}})-\{{(\d{{2}})/{_T}--(\d{{2}})/{_T}\}}$"),
        lambda m: (f"{m[1]}-{m[2]}/{m[3]}", f"{m[1]}-{m[4]}/{m[5]}"),
    ),
    (
        re.compile(rf"^(\d{{4}})-\{{(\d{{2}}-\d{{2}})/{_T}--(\d{{2}}-\d{{2}})/{_T}\}}$"),
        lambda m: (f"{m[1]}-{m[2]}/{m[3]}", f"{m[1]}-{m[4]}/{m[5]}"),
    ),
    (
        re.compile(rf"^\{{(\d{{4}}-\d{{2}}-\d{{2}})/{_T}--(\d{{4}})[-/](\d{{2}}-\d{{2}})/{_T}\}}$"),
        lambda m: (f"{m[1]}/{m[2]}", f"{m[3]}-{m[4]}/{m[5]}"),
    ),
]


def parse_time_frame(value: str, now: datetime) -> tuple[datetime, datetime]:
    kind, _, spec = value.partition(".")
    if kind == "last":
        m = _DURATION.match(spec)
        if not m or not any(m.groups()):
            raise invalid(
                f"timeFrame {value!r}: 'last.' takes an ISO-8601 duration such as last.PT5M or last.P1D"
            )
        y, mo, w, d, h, mi, s = (int(g or 0) for g in m.groups())
        return now - timedelta(days=365 * y + 30 * mo + 7 * w + d, hours=h, minutes=mi, seconds=s), now
    if kind == "utc":
        for rx, build in _UTC_FORMS:
            m = rx.match(spec)
            if m:
                start, end = (datetime.strptime(x, "%Y-%m-%d/%H:%M:%S").replace(tzinfo=UTC) for x in build(m))
                if end < start:
                    raise invalid(f"timeFrame {value!r}: the end is before the start")
                return start, end
        raise invalid(f"timeFrame {value!r}: use a form such as utc.2020-02-11/{{04:50:15--16:50:15}}")
    raise invalid(f"timeFrame {value!r}: the type must be 'last' or 'utc'")


def encode_marker(seq: int) -> str:
    return base64.urlsafe_b64encode(f"audit:{seq}".encode()).decode()


def decode_marker(marker: str | None) -> int:
    if not marker:
        return 0
    try:
        kind, _, seq = base64.urlsafe_b64decode(marker.encode()).decode().partition(":")
        if kind == "audit":
            return int(seq)
    except (ValueError, UnicodeDecodeError):
        pass
    raise invalid(f"marker {marker!r} is not a marker this feed returned")


def _field_value(rec: dict[str, Any], name: str) -> str | None:
    if name == "admin":
        return (rec.get("admin") or {}).get("name")
    if name == "admin_id":
        return (rec.get("admin") or {}).get("id")
    if name == "apiKey":
        return (rec.get("apiKey") or {}).get("name")
    return rec["fieldsMap"].get(name)


def _matches(rec: dict[str, Any], filters: list[dict[str, Any]]) -> bool:
    for f in filters:
        name = (f.get("fieldName") or {}).get("AuditFieldName")
        op, values = f.get("operator"), f.get("values") or []
        value = _field_value(rec, name) if name else None
        ok = {
            "is": value is not None and value in values,
            "in": value is not None and value in values,
            "is_not": value not in values,
            "not_in": value not in values,
            "exists": value is not None,
            "not_exists": value is None,
        }.get(op)
        if ok is None:
            raise invalid(f"auditFeed filter operator {op!r} is not supported on field {name!r}")
        if not ok:
            return False
    return True


def _entity_types(info) -> set[str]:
    t = info.schema.get_type("EntityType")
    return set(t.values) if isinstance(t, GraphQLEnumType) else set()


def _present(rec: dict[str, Any], valid_types: set[str]) -> dict[str, Any]:
    obj = dict(rec["object"])
    # Policy objects have no EntityType value of their own; their kind stays in fieldsMap.
    if obj.get("type") not in valid_types:
        obj["type"] = "any"
    fm = rec["fieldsMap"]
    return {
        **rec,
        "object": obj,
        "fields": [
            {"name": k, "value": {"__typename": "StringValue", "string": str(v)}}
            for k, v in sorted(fm.items())
        ],
        "flatFields": [[k, str(v)] for k, v in sorted(fm.items())],
    }


@query("auditFeed")
def audit_feed(
    ctx: RequestContext,
    info,
    timeFrame: str,
    accountIDs: list[str] | None = None,
    ids: list[str] | None = None,
    filters: list[dict[str, Any]] | None = None,
    marker: str | None = None,
) -> dict[str, Any]:
    start, end = parse_time_frame(timeFrame, ctx.now)
    after = decode_marker(marker)
    records: list[dict[str, Any]] = []
    last = after
    valid_types = _entity_types(info)
    # Scan in chunks so filters never cost a whole-table load.
    while len(records) < PAGE_SIZE:
        chunk = ctx.store.audit_range(ctx.account_id, start, end, after_seq=last, limit=PAGE_SIZE)
        if not chunk:
            break
        for seq, rec in chunk:
            last = seq
            if _matches(rec, filters or []):
                records.append(_present(rec, valid_types))
                if len(records) == PAGE_SIZE:
                    break
    has_more = bool(ctx.store.audit_range(ctx.account_id, start, end, after_seq=last, limit=1))
    return {
        "from": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "to": end.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "fetchedCount": len(records),
        "hasMore": has_more,
        "marker": encode_marker(last),
        "accounts": [{"id": ctx.account_id, "records": lambda info, fieldNames=None: records}],
    }
