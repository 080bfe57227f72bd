"""`catoiac catalog search` finds the exact names rules use: categories and services from catoiac's
copy (no credentials, no call), applications from Cato's catalog over real HTTP to the emulator,
reading only the catalog (one call, two for a typo)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from emu_helpers import ACCOUNT, KEY
from sites_support import fixture

from catoiac.catalog import search
from catoiac.cli import main
from catoiac.client import CatoClient
from catoiac.config import ClientConfig
from catoiac.emulator.limits import RateLimitConfig
from catoiac.readpath import AccountReader

NO_CREDENTIALS = {"CATO_TOKEN": "", "CATO_ACCOUNT_ID": "", "CATO_BASEURL": ""}


@pytest.fixture
def emu(emulator_factory):
    return emulator_factory(fixture(sites=[]), rate_limits=RateLimitConfig(enabled=False))


def run(*args: str, env: dict | None = None):
    return CliRunner().invoke(main, ["catalog", "search", *args], env=env or NO_CREDENTIALS)


def test_a_word_finds_the_category_and_the_service_with_their_exact_names_and_ids():
    out = run("gambl", "--kind", "category")
    assert out.exit_code == 0, out.output
    assert "Gambling" in out.output and "gambling" in out.output
    assert 'in a rule: destination={"app_category": ["Gambling"]}' in out.output
    found = json.loads(run("https", "--kind", "service", "--format", "json").output)
    assert found[0] == {"kind": "service", "name": "HTTPS", "id": "https", "detail": ""}
    # Case, a word inside the name and a misspelling.
    assert search(None, "MEDIA", ["category"])[0].name == "Streaming Media"
    assert search(None, "gamblng", ["category"])[0].name == "Gambling"
    assert run("zzzz", "--kind", "service").exit_code == 1


def test_applications_come_from_the_catalog_reading_only_the_catalog(emu):
    env = {"CATO_TOKEN": KEY, "CATO_ACCOUNT_ID": ACCOUNT, "CATO_BASEURL": emu.url}
    out = run("drop", "--format", "json", env=env)
    assert out.exit_code == 0, out.output
    first = json.loads(out.output)[0]
    assert (first["kind"], first["name"], first["id"]) == ("application", "Dropbox", "dropbox")
    assert "File Sharing" in first["detail"]
    with CatoClient(ClientConfig(api_key=KEY, account_id=ACCOUNT, base_url=emu.url)) as c:
        assert [e.name for e in search(AccountReader(c), "zoom")][:1] == ["Zoom"]
        assert {op: s["calls"] for op, s in c.stats.to_dict().items()} == {"CatalogSearch": 1}
        c.stats.reset()
        # A typo: the word finds nothing, its first letters do, and the close name ranks first.
        assert search(AccountReader(c), "Dropbx", ["application"])[0].name == "Dropbox"
        assert {op: s["calls"] for op, s in c.stats.to_dict().items()} == {"CatalogSearch": 2}


def test_without_credentials_categories_and_services_are_searched_and_applications_say_why_not():
    out = run("gambl")
    assert out.exit_code == 0, out.output
    assert "Gambling" in out.output and "warning: applications not searched" in out.output
    out = run("drop", "--kind", "application")
    assert out.exit_code == 1
    assert "error:" in out.output and "CATO_TOKEN" in out.output
