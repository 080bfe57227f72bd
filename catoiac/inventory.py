"""``catoiac ls``: an inventory of any type, from the shared bulk read.

The types are discovered from the resource specs (``resources/specs``): each spec's read-path
collection is one type (``SocketSite``, ``NetworkRange``, ``StaticHost``, ``Group``...), and each
policy family gives two, its rules (``InternetFirewallRule``, also reachable as
``InternetFirewallPolicy``) and its sections (``InternetFirewallSection``). A new spec is listed
with no change here.

Rows are the read path's objects flattened (nested fields as ``location.country_code``), with the
site's name beside a ``site_id``. Reading costs what the read path costs: one call per collection
and page (``accountSnapshot``, paged ``entityLookup``, ``groupList``), one ``policy`` query per
family, and BGP peers one call per site (Cato has no account-wide BGP list). Secret inputs
(``spec.secret_inputs``) are never shown.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import CatoError
from .readpath import AccountReader

Row = dict[str, Any]


class InventoryError(CatoError):
    """An unknown type, field or filter, before any API call."""


@dataclass(frozen=True)
class InventoryType:
    name: str
    what: str  # how the help text describes it
    rows: Callable[[AccountReader], list[Row]]
    columns: tuple[str, ...] = ("id", "name")  # the ones shown first, known even with no rows


def _flatten(obj: Mapping[str, Any], prefix: str = "", skip: Iterable[str] = ()) -> Row:
    out: Row = {}
    for key, value in obj.items():
        if key in skip:
            continue
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(_flatten(value, f"{name}."))
        else:
            out[name] = value
    return out


def _objects(spec) -> Callable[[AccountReader], list[Row]]:
    def rows(reader: AccountReader) -> list[Row]:
        objects = reader.get(spec.kind)
        has_site = spec.parent_input == "site_id"
        sites = reader.get("sites") if has_site else {}
        out = []
        for oid, obj in objects.items():
            row = {"id": str(obj.get("id") or oid), "name": obj.get("name")}
            if has_site:
                row["site"] = (sites.get(str(obj.get("site_id"))) or {}).get("name")
            row.update(_flatten(obj, skip=("id", "name", *spec.secret_inputs)))
            out.append(row)
        return sorted(out, key=lambda r: (str(r.get("site") or ""), str(r.get("name") or ""), r["id"]))

    return rows


def _rules(kind) -> Callable[[AccountReader], list[Row]]:
    def rows(reader: AccountReader) -> list[Row]:
        out, index = [], 0
        for section in reader.get(kind.field).values():
            for rule in section["rules"]:
                index += 1
                live = rule.get("live") or {}
                out.append(
                    {
                        "id": rule["id"],
                        "name": rule["name"],
                        "index": index,
                        "section": section["name"] or None,
                        "section_id": section["id"] or None,
                        "enabled": live.get("enabled"),
                        "system": rule["system"],
                        "description": live.get("description"),
                        "rule": live,  # the whole rule, for --format json
                    }
                )
        return out

    return rows


def _sections(kind) -> Callable[[AccountReader], list[Row]]:
    def rows(reader: AccountReader) -> list[Row]:
        return [
            {"id": s["id"], "name": s["name"], "index": i, "rules": len(s["rules"])}
            for i, s in enumerate((s for s in reader.get(kind.field).values() if s["id"]), start=1)
        ]

    return rows


def types() -> dict[str, InventoryType]:
    """Every listable type, by name."""
    from .resources.specs import SPECS

    out: dict[str, InventoryType] = {}
    for spec in SPECS.values():
        kind = spec.policy
        if kind is None:
            cols = ("id", "name", "site") if spec.parent_input == "site_id" else ("id", "name")
            out[spec.name] = InventoryType(spec.name, f"{spec.name} objects", _objects(spec), cols)
            continue
        rule_cols = ("id", "name", "index", "section", "section_id", "enabled", "system", "description")
        title = kind.title or kind.prefix
        out[f"{kind.prefix}Rule"] = InventoryType(
            f"{kind.prefix}Rule", f"{title} policy rules", _rules(kind), rule_cols
        )
        out[f"{kind.prefix}Section"] = InventoryType(
            f"{kind.prefix}Section",
            f"{title} policy sections",
            _sections(kind),
            ("id", "name", "index", "rules"),
        )
    return out


def resolve(name: str) -> InventoryType:
    """The type for ``name`` (case-insensitive; a policy's resource name means its rules)."""
    known = types()
    aliases = {t.lower(): t for t in known}
    for t in list(known):
        if t.endswith("Rule"):
            aliases[(t[: -len("Rule")] + "Policy").lower()] = t
    found = aliases.get(name.lower())
    if found:
        return known[found]
    from .resources.refs import did_you_mean, suggest

    hint = did_you_mean(suggest(name, list(known), n=3))
    raise InventoryError(f"unknown type {name!r}:{hint or ''} use one of {', '.join(sorted(known))}")


def parse_filters(filters: Iterable[str]) -> list[tuple[str, str]]:
    out = []
    for f in filters:
        field, sep, value = f.partition("=")
        if not sep or not field.strip():
            raise InventoryError(
                f"--filter {f!r}: use FIELD=VALUE, e.g. --filter name=Paris or --filter 'name=Lab*'"
            )
        out.append((field.strip(), value))
    return out


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return "" if value is None else str(value)


def _matches(row: Row, field: str, pattern: str) -> bool:
    """Exact, or a glob when the value has ``*``, ``?`` or ``[``; true/false for booleans."""
    value = _text(row.get(field))
    if any(c in pattern for c in "*?["):
        return fnmatch.fnmatchcase(value, pattern)
    return value == pattern


def listing(
    reader: AccountReader, type_name: str, filters: Iterable[str] = ()
) -> tuple[InventoryType, list[Row]]:
    """The rows of a type that pass every filter (FIELD=VALUE). Unknown types and filter syntax are
    refused before any call; an unknown field once the rows say which fields there are (their own
    and nested ones, whatever their values)."""
    kind = resolve(type_name)
    wanted = parse_filters(filters)
    rows = kind.rows(reader)
    fields = set(kind.columns) | {k for r in rows for k in r if k != "rule"}
    # With no rows the fields cannot be told (nor does a filter change an empty answer).
    unknown = sorted({f for f, _ in wanted if f not in fields}) if rows else []
    if unknown:
        raise InventoryError(
            f"--filter: {kind.name} has no field {', '.join(map(repr, unknown))}: use one of {', '.join(sorted(fields))}"
        )
    return kind, [r for r in rows if all(_matches(r, f, v) for f, v in wanted)]


def table_columns(kind: InventoryType, rows: list[Row]) -> list[str]:
    """The type's own columns first, then every other scalar field the rows have."""
    cols = list(kind.columns)
    for r in rows:
        for k, v in r.items():
            if k not in cols and k != "rule" and not isinstance(v, list):
                cols.append(k)
    return cols
