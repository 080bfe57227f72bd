"""Input validation: jsonschema plus Cato's own formats, with messages that name the fix."""

from __future__ import annotations

import copy
import ipaddress
import re
import zoneinfo
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

import pycountry
from jsonschema import Draft202012Validator, FormatChecker

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # Pulumi's marker for a value known only after apply
_MAC = re.compile(r"^[0-9a-f]{2}([:-]?[0-9a-f]{2}){5}$", re.I)

formats = FormatChecker()


@formats.checks("cidr", raises=ValueError)
def _cidr(value: object) -> bool:
    if isinstance(value, str):
        ipaddress.IPv4Network(value, strict=True)
    return True


@formats.checks("ipv4", raises=ValueError)
def _ipv4(value: object) -> bool:
    if isinstance(value, str):
        ipaddress.IPv4Address(value)
    return True


@formats.checks("mac")
def _mac(value: object) -> bool:
    return not isinstance(value, str) or bool(_MAC.match(value))


@formats.checks("country")
def _country(value: object) -> bool:
    return not isinstance(value, str) or pycountry.countries.get(alpha_2=value.upper()) is not None


@formats.checks("timezone")
def _timezone(value: object) -> bool:
    return not isinstance(value, str) or value in _timezones()


@lru_cache(maxsize=1)
def _timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


_FIXES = {
    "cidr": "use an IPv4 network in CIDR form with no host bits set, e.g. 10.0.1.0/24",
    "ipv4": "use an IPv4 address such as 10.0.1.1",
    "mac": "use a MAC address such as 00:1a:2b:3c:4d:5e",
    "country": "use an ISO 3166-1 alpha-2 country code such as US, GB or IL",
    "timezone": "use an IANA time zone such as America/New_York or Europe/London",
}


# Patterns the specs share, and what to tell a user whose value misses them.
_PATTERN_FIXES = {
    r"^\S(.*\S)?$": "must not be empty or start or end with spaces: trim it",
}


def apply_defaults(schema: Mapping[str, Any], value: Any) -> Any:
    """Fill ``default``s of object properties, recursively (jsonschema only validates), and
    make whole floats integers where the schema wants one: Pulumi sends every number as a float."""
    return _filler(schema)(value)


# A schema is compiled once into a filler (by id, the schema object kept alive beside it): a policy's
# thousands of rules are filled on every canonical form, and walking the schema and deep-copying
# each default for each rule was most of a drift run's time. A filled default is made once and
# copied per use by a function compiled for its shape; a copy is a fresh JSON value, as
# ``copy.deepcopy`` gave.
_FILLERS: dict[int, tuple[Mapping[str, Any], Callable[[Any], Any]]] = {}


def _filler(schema: Mapping[str, Any]) -> Callable[[Any], Any]:
    entry = _FILLERS.get(id(schema))
    if entry is None or entry[0] is not schema:
        entry = _FILLERS[id(schema)] = (schema, _compile_filler(schema))
    return entry[1]


def _maker(v: Any) -> Callable[[], Any]:
    """A function that returns a fresh copy of the JSON value ``v`` (its shape compiled once)."""
    if isinstance(v, dict):
        parts = [(k, _maker(x)) for k, x in v.items()]
        if all(isinstance(x, list) and not x for x in v.values()):
            keys = list(v)
            return lambda: {k: [] for k in keys}  # the common default: an object of empty lists
        return lambda: {k: make() for k, make in parts}
    if isinstance(v, list):
        if not v:
            return list
        items = [_maker(x) for x in v]
        return lambda: [make() for make in items]
    return lambda: v


def _compile_filler(schema: Mapping[str, Any]) -> Callable[[Any], Any]:
    integer = schema.get("type") == "integer"
    obj = schema.get("type") == "object"
    items = schema.get("items")
    each = _filler(items) if isinstance(items, Mapping) else None
    props: list[tuple[str, Callable[[], Any] | None, Callable[[Any], Any]]] = []
    if obj:
        for name, sub in schema.get("properties", {}).items():
            sub_fill = _filler(sub)
            has = "default" in sub
            make = _maker(sub_fill(copy.deepcopy(sub["default"]))) if has else None
            props.append((name, make, sub_fill))

    def fill(value: Any) -> Any:
        if integer and isinstance(value, float) and value.is_integer():
            return int(value)
        if not obj or not isinstance(value, dict):
            if each is not None and isinstance(value, list):
                return [each(v) for v in value]
            return value
        out = dict(value)
        for name, make, sub_fill in props:
            if name in out:
                out[name] = sub_fill(out[name])
            elif make is not None:
                out[name] = make()
        return out

    return fill


def _path(error) -> str:
    parts = [str(p) if not isinstance(p, int) else f"[{p}]" for p in error.absolute_path]
    return ".".join(parts).replace(".[", "[")


def _reason(error) -> str:
    v = error.validator
    if v == "format":
        fmt = error.validator_value
        return f"{error.instance!r} is not a valid {fmt}: {_FIXES.get(fmt, 'fix the value')}"
    if v == "enum":
        return f"{error.instance!r} is not one of {', '.join(map(str, error.validator_value))}"
    if v == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return f"'{missing}' is required: set it"
    if v == "additionalProperties":
        return f"{error.message}; remove it or check its spelling"
    if v == "maxLength":
        return f"{error.instance!r} is longer than {error.validator_value} characters: shorten it"
    if v == "minLength":
        return f"must be at least {error.validator_value} character(s) long"
    if v == "type":
        return f"{error.instance!r} is not of type {error.validator_value}"
    if v == "pattern":
        return _PATTERN_FIXES.get(
            error.validator_value, f"{error.instance!r} does not match {error.validator_value}"
        )
    return error.message


def _without_unknowns(value: Any) -> tuple[Any, set[str]]:
    """Drop values Pulumi does not know yet (preview); return the dropped top-level names."""
    if isinstance(value, dict):
        dropped = {k for k, v in value.items() if v == UNKNOWN}
        return {k: _without_unknowns(v)[0] for k, v in value.items() if v != UNKNOWN}, dropped
    if isinstance(value, list):
        return [_without_unknowns(v)[0] for v in value if v != UNKNOWN], set()
    return value, set()


def validate(schema: Mapping[str, Any], inputs: Mapping[str, Any]) -> list[tuple[str, str]]:
    """[(property path, reason)] for every problem; values not known yet are not judged."""
    known, unknown = _without_unknowns(dict(inputs))
    validator = Draft202012Validator(schema, format_checker=formats)
    failures = []
    for error in sorted(validator.iter_errors(known), key=lambda e: list(map(str, e.absolute_path))):
        if error.validator == "required" and any(f"'{u}'" in error.message for u in unknown):
            continue
        path = _path(error)
        if error.validator == "required":
            name = error.message.split("'")[1]
            path = f"{path}.{name}" if path else name
        failures.append((path or "(inputs)", _reason(error)))
    return failures


def contains(value: Any, marker: str) -> bool:
    """Whether ``marker`` stands anywhere in a nested value (a loop, not a recursion: it runs over
    every input of a policy's thousands of rules)."""
    todo = [value]
    while todo:
        v = todo.pop()
        if isinstance(v, dict):
            todo.extend(v.values())
        elif isinstance(v, list):
            todo.extend(v)
        elif v == marker:
            return True
    return False


def is_unknown(value: Any) -> bool:
    return contains(value, UNKNOWN)
