"""``.catoiacignore`` parsing and matching, on plain data."""

from __future__ import annotations

from datetime import date

import pytest

from catoiac.drift.ignore import IgnoreFileError, judge, parse

TODAY = date(2026, 6, 1)
FINDING = dict(type="SocketSite", names=["branch", "Lisbon"], id="100001", kind="modified", stack="prod")


def verdict(text, paths=("description", "location.city"), **over):
    return judge(parse(text), **{**FINDING, **over}, paths=list(paths), today=TODAY)


def test_entry_without_property_ignores_the_whole_finding_by_type_and_name_glob():
    v = verdict("- {type: SocketSite, name: 'Lis*', owner: netops}")
    assert v.finding is not None and v.finding.owner == "netops"


def test_name_matches_either_the_pulumi_name_or_the_cato_name():
    assert verdict("- {name: branch}").finding is not None
    assert verdict("- {name: Lisbon}").finding is not None
    assert verdict("- {name: Paris}").finding is None


def test_every_selector_given_must_match():
    assert verdict("- {type: SocketSite, id: '999'}").finding is None
    assert verdict("- {type: SocketSite, id: '100001', stack: prod}").finding is not None
    assert verdict("- {type: SocketSite, kind: deleted}").finding is None


def test_property_glob_ignores_only_the_matching_changes():
    v = verdict("- {type: SocketSite, property: 'location.*'}")
    assert v.finding is None
    assert sorted(v.changes) == [1]


def test_finding_is_ignored_when_every_change_is_ignored():
    v = verdict("- {property: description}\n- {property: 'location.*'}")
    assert v.finding is not None and sorted(v.changes) == [0, 1]


def test_property_entry_never_ignores_a_finding_without_properties():
    v = verdict("- {type: SocketSite, property: '*'}", paths=(), kind="deleted")
    assert v.finding is None


def test_expired_entry_no_longer_ignores_and_is_reported():
    v = verdict("- {type: SocketSite, owner: netops, expires: 2026-05-31}")
    assert v.finding is None
    assert [e.owner for e in v.expired] == ["netops"]


def test_entry_expiring_today_still_ignores():
    assert verdict("- {type: SocketSite, expires: 2026-06-01}").finding is not None


def test_ignore_key_with_a_mapping_is_accepted():
    assert len(parse("ignore:\n  - {type: NetworkRange}\n")) == 1


@pytest.mark.parametrize(
    "text, message",
    [
        ("- {owner: me}", "selects nothing"),
        ("- {type: X, colour: red}", "unknown key"),
        ("- {type: X, expires: soon}", "expires must be a date"),
        ("- {type: X, kind: vanished}", "kind must be one of"),
        ("type: X", "expected a list"),
        ("- [a, b]", "not a mapping"),
    ],
)
def test_malformed_entries_are_rejected_with_the_reason(text, message):
    with pytest.raises(IgnoreFileError, match=message):
        parse(text)


def test_empty_file_ignores_nothing():
    assert parse("") == []
