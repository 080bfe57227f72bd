"""The compiled predicate that lets valid inputs skip jsonschema (``validation._fast_check``) agrees
with jsonschema on every input: valid inputs pass it, and every input jsonschema finds a problem in
fails it, so that jsonschema still judges and words every error. Compared on valid inputs of several
specs and on thousands of mutations of them (each value replaced by values of other types, lengths
and characters; keys removed and added), and every spec's schema compiles (none falls back)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from catoiac.resources import Engine
from catoiac.resources.specs import SPECS
from catoiac.resources.validation import UNKNOWN, _fast_check, _validator, validate

LOC = {"country_code": "PT", "timezone": "Europe/Lisbon", "city": "Lisbon", "address": "Rua 1"}
RULE = {
    "name": "Block social",
    "description": "no social media\nat work",
    "action": "BLOCK",
    "enabled": True,
    "source": {
        "subnet": ["10.1.0.0/24"],
        "ip": ["10.1.0.9"],
        "ip_range": [{"from": "10.1.0.1", "to": "10.1.0.20"}],
        "site": ["HQ", {"id": "1234"}],
    },
    "destination": {"application": [{"id": "facebook"}], "fqdn": ["example.com"]},
    "tracking": {"event": {"enabled": True}},
    "exceptions": [{"name": "CEO", "source": {"ip": ["10.1.0.10"]}}],
}
VALID = [
    ("SocketSite", {"name": "Lisbon", "native_range": "10.40.0.0/24", "location": LOC}),
    ("NetworkRange", {"site_id": "100001", "name": "Guest", "subnet": "10.40.8.0/24", "vlan": 12.0}),
    (
        "StaticHost",
        {"site_id": "100001", "name": "printer", "ip": "10.40.0.10", "mac_address": "00:1a:2b:3c:4d:5e"},
    ),
    (
        "BgpPeer",
        {
            "site_id": "1",
            "name": "core",
            "peer_ip": "10.40.0.2",
            "peer_asn": 65001.0,
            "cato_asn": 65000,
            "default_action": "ACCEPT",
        },
    ),  # fmt: skip
    (
        "InternetFirewallPolicy",
        {"sections": [{"name": "Corporate", "rules": [RULE]}], "after_section": "Base"},
    ),
]
# What each value is replaced with: other types, empty and over-long strings, forbidden characters,
# numbers around limits, enum-like strings, Pulumi's unknown marker.
REPLACEMENTS: list[Any] = [None, True, False, 0, 1, 1.5, -1, 70000, 2**40, "", " x", "x" * 300, "a\x00b",
                           "ab\u202e", "BLOCK", "10.0.0.0/8", "10.0.0.1/24", "999.1.1.1", "US", "zz", [], [1], {},
                           {"name": "x"}, {"id": "1", "name": "x"}, UNKNOWN]  # fmt: skip


def paths(value: Any, path: tuple = ()) -> Iterator[tuple]:
    yield path
    if isinstance(value, dict):
        for k, v in value.items():
            yield from paths(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from paths(v, (*path, i))


def at(value: Any, path: tuple) -> Any:
    for p in path:
        value = value[p]
    return value


def mutations(value: dict) -> Iterator[Any]:
    for path in paths(value):
        if not path:
            continue
        parent = path[:-1]
        for new in REPLACEMENTS:
            out = copy.deepcopy(value)
            at(out, parent)[path[-1]] = copy.deepcopy(new)
            yield out
        out = copy.deepcopy(value)
        container = at(out, parent)
        if isinstance(container, dict):
            del container[path[-1]]
        else:
            container.pop(path[-1])
        yield out
    for path in paths(value):
        target = at(value, path)
        if isinstance(target, dict):
            out = copy.deepcopy(value)
            at(out, path)["no_such_input"] = "x"
            yield out


def jsonschema_accepts(schema, value) -> bool:
    return not any(True for _ in _validator(schema).iter_errors(value))


def test_every_specs_schema_compiles_to_the_fast_predicate():
    assert [name for name, spec in SPECS.items() if _fast_check(spec.schema) is None] == []


@pytest.mark.parametrize(("spec", "props"), VALID, ids=[s for s, _ in VALID])
def test_the_fast_predicate_and_jsonschema_agree_on_valid_inputs_and_every_mutation_of_them(spec, props):
    schema = SPECS[spec].schema
    fast = _fast_check(schema)
    assert fast is not None
    assert fast(props) and jsonschema_accepts(schema, props)
    disagreements, rejected = [], 0
    for value in mutations(props):
        ok = jsonschema_accepts(schema, value)
        rejected += not ok
        if fast(value) != ok:
            disagreements.append((value, ok))
    assert disagreements == []
    assert rejected > 50  # the mutations do reach the keywords


def test_a_valid_input_is_judged_without_jsonschema_and_an_invalid_one_still_gets_its_message(monkeypatch):
    from catoiac.resources import validation

    schema = SPECS["NetworkRange"].schema
    ok = {"site_id": "100001", "name": "Guest", "subnet": "10.40.8.0/24"}
    assert validate(schema, ok) == []
    monkeypatch.setattr(validation, "_validator", lambda _schema: pytest.fail("jsonschema was asked"))
    assert validate(schema, ok) == []
    monkeypatch.undo()
    _inputs, found = Engine(SPECS["NetworkRange"], lambda: None).check({}, {**ok, "subnet": "10.40.8.1/24"})
    assert [(f.property, f.reason) for f in found] == [
        (
            "subnet",
            "'10.40.8.1/24' is not a valid cidr: use an IPv4 network in CIDR form with no host bits set, "
            "e.g. 10.0.1.0/24",
        )
    ]


def test_the_character_check_finds_the_same_first_forbidden_character_as_its_definition_on_every_bmp_character():
    """``forbidden_char`` clears most strings with one pattern: for every BMP character, in a name and
    in free text, it finds what the definition (controls, surrogates, bidi overrides, BOM and
    noncharacters; tabs and line breaks allowed in free text) finds, at the same position."""
    import unicodedata

    from catoiac.resources import validation as v

    def defined(text: str, multiline: bool) -> tuple[int, str] | None:
        for pos, ch in enumerate(text):
            cp = ord(ch)
            if multiline and cp in v._MULTILINE_OK:
                continue
            if cp in v._BIDI or cp in v._INVISIBLE or unicodedata.category(ch) in ("Cc", "Cs"):
                return pos, ch
        return None

    # Every forbidden character is in the BMP: all of it, and a sample of the planes above.
    points = [*range(0x10000), *range(0x10000, 0x110000, 97), 0x10FFFF]
    wrong = [
        (cp, multiline)
        for cp in points
        for multiline, prefix in ((False, "ab"), (True, "a\tb"))
        if v.forbidden_char(prefix + chr(cp), multiline) != defined(prefix + chr(cp), multiline)
    ]
    assert wrong == []
    assert v.forbidden_char("ab\u202ec") == (2, "\u202e") and v.forbidden_char("a\tb", True) is None
