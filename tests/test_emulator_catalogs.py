"""The emulator's `catalogs.catalogApplicationList` over HTTP: filters by id, name, free text, type and
category, paging with a total, and errors for what it cannot judge (an unknown category, a filter it
does not implement) rather than silently wrong answers."""

from __future__ import annotations

import pytest
from emu_helpers import ACCOUNT
from sites_support import Api, fixture

from catoiac.emulator.limits import RateLimitConfig

DOC = """query($a: ID!, $input: CatalogApplicationListInput!) { catalogs(accountId: $a) {
  catalogApplicationList(input: $input) { application { id name type category { id name } } pageInfo { total } } } }"""


@pytest.fixture
def api(emulator_factory):
    emu = emulator_factory(fixture(sites=[]), rate_limits=RateLimitConfig(enabled=False))
    with Api(emu.url) as a:
        yield a


def apps(api, *filters, paging=None) -> tuple[list[str], int]:
    body = api(DOC, a=ACCOUNT, input={"filter": list(filters), **({"paging": paging} if paging else {})})
    assert "errors" not in body, body
    page = body["data"]["catalogs"]["catalogApplicationList"]
    return [a["name"] for a in page["application"]], page["pageInfo"]["total"]


def test_filters_by_name_id_free_text_and_category(api):
    assert apps(api, {"name": [{"in": ["Dropbox", "Zoom", "Dropbx"]}]}) == (["Dropbox", "Zoom"], 2)
    assert apps(api, {"name": [{"eq": "dropbox"}]}) == ([], 0)  # names are exact
    assert apps(api, {"id": [{"eq": "slack"}]}) == (["Slack"], 1)
    assert apps(api, {"freeText": {"search": "drop"}}) == (["Dropbox"], 1)
    names, total = apps(api, {"category": [{"hasAny": [{"by": "NAME", "input": "File Sharing"}]}]})
    assert "Dropbox" in names and "Zoom" not in names and total == len(names)
    assert apps(api, {"type": [{"eq": "SERVICE"}]}) == ([], 0)


def test_pages_with_a_total_and_refuses_what_it_cannot_judge(api):
    first, total = apps(api, paging={"from": 0, "limit": 5})
    rest, _ = apps(api, paging={"from": 5, "limit": 100})
    assert len(first) == 5 and len(first) + len(rest) == total
    bad = api(
        DOC, a=ACCOUNT, input={"filter": [{"category": [{"hasAny": [{"by": "NAME", "input": "Gamblingg"}]}]}]}
    )
    assert "Application category with name Gamblingg not found" in bad["errors"][0]["message"]
    bad = api(DOC, a=ACCOUNT, input={"filter": [{"risk": [{"gt": 3}]}]})
    assert "does not filter by risk" in bad["errors"][0]["message"]
