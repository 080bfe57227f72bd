"""``auditFeed``: the account's audit trail, paged with markers like Cato's feed.

Time frames: ``last.<ISO-8601 duration>`` and the ``utc.`` short forms; window boundaries are
inclusive. A page holds at most 1000 records. Markers behave as cato-toolbox ``auditFeed/SPEC.md``
("Marker Semantics", observed behaviour) describes them:
- shaped like ``1781883741985_``: the epoch milliseconds of the last record scanned, then ``_``
  (and, only when several records share that millisecond, how many of them to skip);
- scoped to the ``timeFrame`` they were returned for: a marker sent with another frame is refused
  (fail safe: the SPEC says it "must not be reused"; a client that does gets an error, not records);
  a marker this emulator never issued is refused too;
- the boundary is inclusive: a call with a marker returns the last record of the previous page
  again, and once drained, the marker does not advance.
"""

from __future__ import annotations

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


_MARKER = re.compile(r"^(\d+)_(\d*)$")
# Markers issued, by (store, account, marker) -> the frame they belong to (per emulator process).
_ISSUED: dict[tuple[int, str, str], str] = {}


def _ms(t: datetime) -> int:
    return int(t.timestamp() * 1000)


def encode_marker(ms: int, skip: int = 0) -> str:
    return f"{ms}_{skip or ''}"


def decode_marker(ctx: RequestContext, marker: str | None, frame: str) -> tuple[int, int] | None:
    if not marker:
        return None
    m = _MARKER.match(marker)
    issued = _ISSUED.get((id(ctx.store), ctx.account_id, marker))
    if m is None or issued is None:
        raise invalid(f"marker {marker!r} is not a marker this feed returned")
    if issued != frame:
        raise invalid(
            f"marker {marker!r} belongs to timeFrame {issued!r}, not {frame!r}: "
            "a marker is scoped to its timeFrame; start the new one without a marker"
        )
    return int(m[1]), int(m[2] or 0)


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
    position = decode_marker(ctx, marker, timeFrame)
    scan_from, skip = start, 0
    if position is not None:
        # Inclusive: from the marker's millisecond on, skipping the records of that millisecond
        # the previous page already had but its last one.
        scan_from = max(start, datetime.fromtimestamp(position[0] / 1000, UTC))
        skip = position[1]
    records: list[dict[str, Any]] = []
    last_seq, last_ms, at_last_ms = 0, position[0] if position else None, skip
    valid_types = _entity_types(info)
    scanned = 0
    # Scan in chunks so filters never cost a whole-table load.
    while len(records) < PAGE_SIZE:
        chunk = ctx.store.audit_range(ctx.account_id, scan_from, end, after_seq=last_seq, limit=PAGE_SIZE)
        if not chunk:
            break
        for seq, rec in chunk:
            last_seq = seq
            ms = _ms(datetime.strptime(rec["time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC))
            if position is not None and ms == position[0] and skip:
                skip -= 1
                continue
            scanned += 1
            at_last_ms = at_last_ms + 1 if ms == last_ms else 1
            last_ms = ms
            if _matches(rec, filters or []):
                records.append(_present(rec, valid_types))
                if len(records) == PAGE_SIZE:
                    break
    has_more = bool(ctx.store.audit_range(ctx.account_id, start, end, after_seq=last_seq, limit=1))
    if last_ms is None:
        new_marker = marker or ""
    else:
        # The boundary record comes back on the next call: skip all but the last at its millisecond.
        new_marker = encode_marker(last_ms, at_last_ms - 1)
    if new_marker:
        _ISSUED[(id(ctx.store), ctx.account_id, new_marker)] = timeFrame
    return {
        "from": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "to": end.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "fetchedCount": len(records),
        "hasMore": has_more,
        "marker": new_marker,
        "accounts": [{"id": ctx.account_id, "records": lambda info, fieldNames=None: records}],
    }
