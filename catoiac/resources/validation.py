"""Input validation: jsonschema plus Cato's own formats, with messages that name the fix."""

from __future__ import annotations

import copy
import ipaddress
import re
import unicodedata
import zoneinfo
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeVar

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # Pulumi's marker for a value known only after apply
_MAC = re.compile(r"^[0-9a-f]{2}([:-]?[0-9a-f]{2}){5}$", re.I)

# Cato's formats: name -> (check, the exception that also means "not valid"), as jsonschema's
# FormatChecker takes them. jsonschema itself loads only to find and word errors (``_jsonschema``).
_FORMATS: dict[str, tuple[Callable[[object], bool], type[Exception] | tuple[()]]] = {}


def _format(name: str, raises: type[Exception] | tuple[()] = ()):
    def register(fn: Callable[[object], bool]) -> Callable[[object], bool]:
        _FORMATS[name] = (fn, raises)
        return fn

    return register


def _conforms(value: object, fmt: str) -> bool:
    check, raises = _FORMATS[fmt]
    try:
        return bool(check(value))
    except raises:
        return False


@_format("cidr", raises=ValueError)
def _cidr(value: object) -> bool:
    if isinstance(value, str):
        ipaddress.IPv4Network(value, strict=True)
    return True


@_format("ipv4", raises=ValueError)
def _ipv4(value: object) -> bool:
    if isinstance(value, str):
        ipaddress.IPv4Address(value)
    return True


@_format("mac")
def _mac(value: object) -> bool:
    return not isinstance(value, str) or bool(_MAC.match(value))


@_format("country")
def _country(value: object) -> bool:
    if not isinstance(value, str):
        return True
    import pycountry  # late: only a resource with a country code needs its database

    return pycountry.countries.get(alpha_2=value.upper()) is not None


@_format("timezone")
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


# -- text: every string input gets a length limit and a character set, from one walk of the schema --
@dataclass(frozen=True)
class TextRule:
    max_length: int
    multiline: bool  # free text may hold tabs and line breaks; names and references may not
    source: str  # where the limit comes from (FIDELITY.md has the same rows)


# Cato publishes no length limit for the names and free text of sites, ranges, hosts, peers, ports,
# groups, sections or rules: not in the SDL descriptions, the KB, Cato's Terraform validators or
# cato-cli (the 50 this project used had no source). These are guards, generous so that no name Cato
# accepts is refused, and short enough to stop garbage before a write: Pulumi's engine asserts that a
# property-map key is under 16,384 bytes (sdk/go/property/path_repr.go), and rule and section names
# are keys of the policy resources' outputs, so a 20,000-character rule name panicked the engine.
NAME_RULE = TextRule(255, False, "no Cato limit published; our guard (Pulumi map keys < 16 KiB)")
TEXT_RULES: dict[str, TextRule] = {
    "name": NAME_RULE,
    "description": TextRule(1000, True, "no Cato limit published; our guard"),
    "address": TextRule(255, False, "no Cato limit published; our guard"),
    # RFC 2385 TCP MD5 keys are at most 80 bytes (Linux TCP_MD5SIG_MAXKEYLEN).
    "md5_auth_key": TextRule(80, False, "RFC 2385 / Linux TCP_MD5SIG_MAXKEYLEN"),
}
DEFAULT_TEXT_RULE = TextRule(255, False, "no Cato limit published; our guard")
TEXT_KEYWORD = "x-cato-text"
# The key sets a reference object may have (gql_schema: {"id"}, {"name"}, {"site", "name"}...).
REF_FORMS = "x-cato-ref-forms"

# Characters no input may hold: controls (NUL...), lone surrogates, the bidirectional overrides and
# isolates that make a name read differently from what it is (CVE-2021-42574), BOM, noncharacters.
_BIDI = {0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)}
_INVISIBLE = {0x2028, 0x2029, 0xFEFF, 0xFFFE, 0xFFFF}
_MULTILINE_OK = {0x09, 0x0A, 0x0D}


def _class(codes: set[int]) -> str:
    return "".join(re.escape(chr(c)) for c in sorted(codes))


# The same characters as one pattern (Cc is U+0000-001F and U+007F-009F, Cs the surrogates; free text
# may hold tabs and line breaks): a string
# that holds none of them, nearly every one, is cleared without a loop over its characters.
_SUSPECT = {
    False: re.compile(f"[\\x00-\\x1f\\x7f-\\x9f\\ud800-\\udfff{_class(_BIDI | _INVISIBLE)}]"),
    True: re.compile(
        f"[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\\ud800-\\udfff{_class(_BIDI | _INVISIBLE)}]"
    ),
}


def forbidden_char(text: str, multiline: bool = False) -> tuple[int, str] | None:
    """(position, character) of the first character an input must not hold, or None."""
    if _SUSPECT[multiline].search(text) is None:
        return None
    for pos, ch in enumerate(text):
        cp = ord(ch)
        if multiline and cp in _MULTILINE_OK:
            continue
        if cp in _BIDI or cp in _INVISIBLE or unicodedata.category(ch) in ("Cc", "Cs"):
            return pos, ch
    return None


def _char_name(ch: str) -> str:
    name = unicodedata.name(ch, "") or {0: "NUL", 9: "TAB", 10: "LINE FEED", 13: "CARRIAGE RETURN"}.get(
        ord(ch), "a control character"
    )
    return f"U+{ord(ch):04X} ({name})"


def _is_string(schema: Mapping[str, Any]) -> bool:
    t = schema.get("type")
    return t == "string" or (isinstance(t, list) and "string" in t)


def with_text_rules(schema: Any, key: str | None = None) -> Any:
    """A copy of ``schema`` where every string gets its length limit and character set (``TEXT_RULES``
    by property name; a reference by name is a name). A limit the schema already sets is kept."""
    if isinstance(schema, list):
        return [with_text_rules(s, key) for s in schema]
    if not isinstance(schema, Mapping):
        return schema
    out = {}
    for k, v in schema.items():
        if k in ("properties", "patternProperties", "$defs", "definitions") and isinstance(v, Mapping):
            out[k] = {name: with_text_rules(sub, name) for name, sub in v.items()}
        elif k in ("items", "additionalProperties", "not", "if", "then", "else", "contains"):
            out[k] = with_text_rules(v, key)
        elif k in ("allOf", "anyOf", "oneOf", "prefixItems"):
            out[k] = [with_text_rules(s, key) for s in v]
        else:
            out[k] = v
    if _is_string(out) and "enum" not in out and "const" not in out:
        rule = NAME_RULE if "x-cato-ref" in out else TEXT_RULES.get(key or "", DEFAULT_TEXT_RULE)
        out.setdefault("maxLength", rule.max_length)
        out[TEXT_KEYWORD] = "text" if rule.multiline else "line"
    return out


def _text_ok(kind: str, instance: Any) -> bool:
    return (
        not isinstance(instance, str) or instance == UNKNOWN or not forbidden_char(instance, kind == "text")
    )


def _text(_validator, kind: str, instance: Any, _schema) -> Iterator[Any]:
    if _text_ok(kind, instance):
        return
    from jsonschema import ValidationError as SchemaError

    found = forbidden_char(instance, multiline=kind == "text")
    if found:
        pos, ch = found
        allowed = (
            "tabs and line breaks are the only control characters allowed"
            if kind == "text"
            else ("names hold no control, line-break or bidirectional-override characters")
        )
        yield SchemaError(f"contains {_char_name(ch)} at position {pos}: remove it ({allowed})")


def _ref_form_ok(forms: list[list[str]], instance: Any) -> bool:
    # A string is a name; unknown keys and an empty object have messages of their own.
    return not isinstance(instance, dict) or not instance or sorted(instance) in [sorted(f) for f in forms]


def _ref_forms(_validator, forms: list[list[str]], instance: Any, _schema) -> Iterator[Any]:
    if _ref_form_ok(forms, instance):
        return
    from jsonschema import ValidationError as SchemaError

    shown = ", ".join("{" + ", ".join(f'"{k}": ...' for k in f) + "}" for f in forms)
    yield SchemaError(f"{instance!r} is not a reference: give a name, or one of {shown}")


@lru_cache(maxsize=1)
def _jsonschema() -> tuple[Any, Any]:
    """jsonschema's validator class with our keywords, and a format checker with Cato's formats."""
    from jsonschema import Draft202012Validator, FormatChecker, validators

    formats = FormatChecker()
    for name, (check, raises) in _FORMATS.items():
        formats.checks(name, raises=raises)(check)
    return validators.extend(Draft202012Validator, {TEXT_KEYWORD: _text, REF_FORMS: _ref_forms}), formats


T = TypeVar("T")


def _once_per_schema(
    cache: dict[int, tuple[Mapping[str, Any], T]], schema: Mapping[str, Any], build: Callable[[Any], T]
) -> T:
    """``build(schema)``, made once per schema object. Schemas are dicts, so the key is their identity;
    the entry keeps the schema, so an id reused by another object is never mistaken for it."""
    entry = cache.get(id(schema))
    if entry is None or entry[0] is not schema:
        entry = cache[id(schema)] = (schema, build(schema))
    return entry[1]


_VALIDATORS: dict[int, tuple[Mapping[str, Any], Any]] = {}


def _validator(schema: Mapping[str, Any]):
    """The validator of a schema, text rules added, built once per schema object."""
    cls, formats = _jsonschema()
    return _once_per_schema(_VALIDATORS, schema, lambda s: cls(with_text_rules(s), format_checker=formats))


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
    return _once_per_schema(_FILLERS, schema, _compile_filler)


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
    kind = schema.get("type")
    integer = kind == "integer" or (isinstance(kind, list) and "integer" in kind)  # a Port: "443" or 443
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


def _secret(error) -> bool:
    """Whether the value judged is under a credential field (``psk``, ``md5_auth_key``)."""
    from ..secrets import is_secret_field  # late: secrets imports nothing of ours, but keep it light

    parts = [p for p in error.absolute_path if isinstance(p, str)]
    return bool(parts) and is_secret_field(parts[-1])


def _secret_reason(error) -> str:
    """The reason, never the value: a check failure is printed by the preview."""
    v = error.validator
    if v == "maxLength":
        return f"is {len(error.instance)} characters long, more than the {error.validator_value} allowed: shorten it"
    if v == "minLength":
        return f"must be at least {error.validator_value} character(s) long"
    if v == "type":
        return f"is not of type {error.validator_value}"
    if v == TEXT_KEYWORD:
        return "contains a control, line-break or bidirectional-override character: remove it"
    return f"is not valid ({v}): check the value"


def _reason(error) -> str:
    v = error.validator
    if _secret(error):
        return _secret_reason(error)
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
        shown = error.instance if len(error.instance) <= 40 else error.instance[:37] + "..."
        return (
            f"{shown!r} is {len(error.instance)} characters long, more than the {error.validator_value} "
            "allowed: shorten it"
        )
    if v in (TEXT_KEYWORD, REF_FORMS):
        return error.message
    if v == "maxItems":
        return f"has {len(error.instance)} items, more than the {error.validator_value} allowed: remove some"
    if v == "minLength":
        return f"must be at least {error.validator_value} character(s) long"
    if v == "type":
        return f"{error.instance!r} is not of type {error.validator_value}"
    if v == "pattern":
        return _PATTERN_FIXES.get(
            error.validator_value, f"{error.instance!r} does not match {error.validator_value}"
        )
    return error.message


# Errors about the same value, most useful first: a NUL reads better than "does not match ^\S(.*\S)?$".
_PRIORITY = {TEXT_KEYWORD: 0, "type": 1, "format": 2, "enum": 2, "maxLength": 3}


# -- the valid case, fast: jsonschema's iter_errors walks each value through a validator object per
# keyword (a 500-rule policy took ~0.3 s per check). Inputs that pass a predicate compiled once per
# schema from the keywords our schemas use are valid for jsonschema too; anything it does not pass
# (or a schema with a keyword it does not know) goes to jsonschema, which finds and words the errors.
Check = Callable[[Any], bool]
_ANNOTATIONS = {"default", "description", "title", "examples", "$comment", "x-cato-ref"}
_TYPES: dict[str, Check] = {
    "string": lambda v: isinstance(v, str),
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    # jsonschema's integer takes a whole float (Pulumi sends every number as one).
    "integer": lambda v: (
        (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer())
    ),
}
_NUMBER = _TYPES["number"]


class _Unsupported(Exception):
    """A keyword the fast predicate does not implement: jsonschema judges that schema alone."""


def _compile_check(schema: Any) -> Check:
    if schema is True:
        return lambda v: True
    if not isinstance(schema, Mapping):
        raise _Unsupported(repr(schema))
    checks: list[Check] = []
    for key, arg in schema.items():
        if key in _ANNOTATIONS:
            continue
        checks.append(_keyword_check(key, arg, schema))
    if not checks:
        return lambda v: True
    if len(checks) == 1:
        return checks[0]
    return lambda v: all(c(v) for c in checks)


def _keyword_check(key: str, arg: Any, schema: Mapping[str, Any]) -> Check:  # noqa: PLR0911, PLR0912
    is_str, is_dict, is_list = _TYPES["string"], _TYPES["object"], _TYPES["array"]
    if key == "type":
        kinds = [_TYPES[t] for t in ([arg] if isinstance(arg, str) else arg)]
        return kinds[0] if len(kinds) == 1 else (lambda v: any(k(v) for k in kinds))
    if key == "enum":
        if not all(isinstance(e, str) for e in arg):
            raise _Unsupported("enum")
        names = frozenset(arg)
        return lambda v: isinstance(v, str) and v in names  # any other value: jsonschema decides
    if key == "minLength":
        return lambda v: not is_str(v) or len(v) >= arg
    if key == "maxLength":
        return lambda v: not is_str(v) or len(v) <= arg
    if key == "pattern":
        rx = re.compile(arg)
        return lambda v: not is_str(v) or rx.search(v) is not None
    if key == "format":
        if arg not in _FORMATS:
            raise _Unsupported(f"format {arg}")
        return lambda v: _conforms(v, arg)
    if key == "minimum":
        return lambda v: not _NUMBER(v) or v >= arg
    if key == "maximum":
        return lambda v: not _NUMBER(v) or v <= arg
    if key == "minItems":
        return lambda v: not is_list(v) or len(v) >= arg
    if key == "maxItems":
        return lambda v: not is_list(v) or len(v) <= arg
    if key == "minProperties":
        return lambda v: not is_dict(v) or len(v) >= arg
    if key == "maxProperties":
        return lambda v: not is_dict(v) or len(v) <= arg
    if key == "required":
        return lambda v: not is_dict(v) or all(k in v for k in arg)
    if key == "properties":
        subs = {k: _compile_check(sub) for k, sub in arg.items()}
        return lambda v: not is_dict(v) or all(sub(v[k]) for k, sub in subs.items() if k in v)
    if key == "additionalProperties":
        if "patternProperties" in schema:
            raise _Unsupported("patternProperties")
        known = frozenset(schema.get("properties") or {})
        if arg is False:
            return lambda v: not is_dict(v) or all(k in known for k in v)
        extra = _compile_check(arg)
        return lambda v: not is_dict(v) or all(extra(x) for k, x in v.items() if k not in known)
    if key == "items":
        if "prefixItems" in schema:
            raise _Unsupported("prefixItems")
        each = _compile_check(arg)
        return lambda v: not is_list(v) or all(each(x) for x in v)
    if key == "propertyNames":
        name = _compile_check(arg)
        return lambda v: not is_dict(v) or all(name(k) for k in v)
    if key == TEXT_KEYWORD:
        return lambda v: _text_ok(arg, v)
    if key == REF_FORMS:
        return lambda v: _ref_form_ok(arg, v)
    raise _Unsupported(key)


_CHECKS: dict[int, tuple[Mapping[str, Any], Check | None]] = {}


def _compiled_or_none(schema: Mapping[str, Any]) -> Check | None:
    try:
        return _compile_check(with_text_rules(schema))
    except _Unsupported:
        return None


def _fast_check(schema: Mapping[str, Any]) -> Check | None:
    """The compiled predicate of a schema (text rules added), or None if it uses another keyword."""
    return _once_per_schema(_CHECKS, schema, _compiled_or_none)


def validate(schema: Mapping[str, Any], inputs: Mapping[str, Any]) -> list[tuple[str, str]]:
    """[(property path, reason)] for every problem. A value not known yet (a preview's output of a
    resource not created yet) is not judged, but it still counts as set, and so does its container."""
    value = dict(inputs)
    fast = _fast_check(schema)
    if fast is not None and fast(value):
        return []
    failures: dict[str, tuple[int, str]] = {}
    errors = sorted(_validator(schema).iter_errors(value), key=lambda e: list(map(str, e.absolute_path)))
    for error in errors:
        if error.instance == UNKNOWN:
            continue
        path = _path(error)
        if error.validator == "required":
            name = error.message.split("'")[1]
            path = f"{path}.{name}" if path else name
        path = path or "(inputs)"
        rank = _PRIORITY.get(error.validator, 5)
        if path not in failures or rank < failures[path][0]:
            failures[path] = (rank, _reason(error))
    return [(p, reason) for p, (_rank, reason) in failures.items()]


def contains(value: Any, marker: str) -> bool:
    """Whether ``marker`` stands anywhere in a nested value (a loop, not a recursion: it runs over
    every input of a policy's thousands of rules)."""
    todo = [value]
    while todo:
        v = todo.pop()
        if isinstance(v, dict):
            todo.extend(v.values())
        elif isinstance(v, list | tuple):
            todo.extend(v)
        elif v == marker:
            return True
    return False


def is_unknown(value: Any) -> bool:
    return contains(value, UNKNOWN)
