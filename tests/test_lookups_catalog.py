"""The catalog lookups: a city's country, state and timezone (GeoNames, as cities.py validates
locations), ambiguity listing the candidates and how to narrow; applications from Cato's catalog
over real HTTP to the emulator through the shared cached read; categories and services with
did-you-mean on a miss."""

from __future__ import annotations

import pytest
from emu_helpers import ACCOUNT, KEY
from sites_support import fixture

from catoiac.catalog import CatalogError, find, find_application, find_location
from catoiac.client import CatoClient
from catoiac.config import ClientConfig
from catoiac.emulator.limits import RateLimitConfig
from catoiac.readpath import AccountReader


def test_a_city_in_a_country_gives_its_country_name_and_timezone():
    paris = find_location("Paris", "FR")
    assert (paris.country_code, paris.country_name, paris.timezone) == ("FR", "France", "Europe/Paris")
    assert paris.state_code is None
    assert find_location("paris", "France") == paris  # case, and a country by its name
    texas = find_location("Paris", state="Texas")
    assert (texas.country_code, texas.state_code, texas.state_name, texas.timezone) == (
        "US", "US-TX", "Texas", "America/Chicago")  # fmt: skip
    assert find_location("Paris", "US", "US-TX") == texas == find_location("Paris", "US", "TX")
    assert find_location("Sao Paulo", "BR").timezone == "America/Sao_Paulo"  # accents folded
    assert find_location("New York", "US").state_code == "US-NY"  # an alias of New York City


def test_an_ambiguous_city_lists_the_candidates_and_how_to_narrow():
    with pytest.raises(CatalogError) as e:
        find_location("Paris")
    msg = str(e.value)
    assert "Paris, FR (Europe/Paris)" in msg and "Paris, US-TX (America/Chicago)" in msg
    assert "Narrow with country=" in msg and "state=" in msg
    with pytest.raises(CatalogError, match=r"places are named 'Paris', country='US'.*Narrow with state="):
        find_location("Paris", "US")


def test_unknown_cities_countries_and_states_say_what_to_do():
    with pytest.raises(CatalogError, match="no city named 'Parsi', country='FR'"):
        find_location("Parsi", "FR")
    with pytest.raises(CatalogError, match="did you mean 'France'"):
        find_location("Paris", "Frence")
    with pytest.raises(CatalogError, match="state= narrows US cities only"):
        find_location("Paris", "FR", "US-TX")


@pytest.fixture
def reader(emulator_factory):
    emu = emulator_factory(fixture(sites=[]), rate_limits=RateLimitConfig(enabled=False))
    with CatoClient(ClientConfig(api_key=KEY, account_id=ACCOUNT, base_url=emu.url)) as c:
        yield AccountReader(c)


def test_an_application_is_found_by_exact_name_once_and_a_miss_suggests(reader):
    assert find_application(reader, "Dropbox") == {"id": "dropbox", "name": "Dropbox", "type": "APPLICATION"}
    assert find_application(reader, "Dropbox")["id"] == "dropbox"
    # The shared cached read: a second lookup of the same name asks nothing.
    assert reader.client.stats.to_dict()["CatalogApplications"]["calls"] == 1
    with pytest.raises(CatalogError, match="no application is named 'dropbox'.*did you mean 'Dropbox'"):
        find_application(reader, "dropbox")


def test_categories_and_services_by_exact_name_with_suggestions_and_no_call(reader):
    assert find(reader, "category", "Gambling").id == "gambling"
    assert find(reader, "service", "HTTPS").id == "https"
    with pytest.raises(CatalogError, match="did you mean 'Gambling'"):
        find(reader, "category", "Gamblingg")
    with pytest.raises(CatalogError, match="did you mean 'HTTPS'"):
        find(reader, "service", "https")
    assert reader.client.stats.to_dict() == {}
    assert find(None, "category", "Gambling") == find(reader, "category", "Gambling")  # no credentials


def test_category_and_service_lookups_need_no_credentials(monkeypatch):
    from pulumi_cato import lookups

    for var in ("CATO_TOKEN", "CATO_ACCOUNT_ID", "CATO_BASEURL"):
        monkeypatch.delenv(var, raising=False)
    assert lookups._catalog_reader() is None
    assert lookups._catalog_call(find, None, "service", "HTTPS")["id"] == "https"
    with pytest.raises(lookups.LookupError, match="did you mean 'Gambling'"):
        lookups._catalog_call(find, None, "category", "gambling")


def test_account_lookups_find_a_lan_interface_by_name_within_its_site(emulator_factory, monkeypatch):
    """The lookups' finders outside a program take the environment's credentials (a program's come
    from its stack config): a LAN port by name, within its site or alone, and a miss suggests."""
    from pulumi_cato import lookups

    emu = emulator_factory(fixture(), rate_limits=RateLimitConfig(enabled=False))
    for var, value in (("CATO_TOKEN", KEY), ("CATO_ACCOUNT_ID", ACCOUNT), ("CATO_BASEURL", emu.url)):
        monkeypatch.setenv(var, value)
    port = lookups._in_site("interfaces", "NetworkInterfaceRefInput", "network interface", "Servers", "HQ")
    assert (port["interface_id"], port["subnet"]) == ("INT_6", "10.5.0.0/24")
    site = lookups._site("HQ")
    assert port["site_id"] == site["id"]
    assert (
        lookups._in_site("interfaces", "NetworkInterfaceRefInput", "network interface", "Servers", None)
        == port
    )
    with pytest.raises(lookups.LookupError, match="did you mean 'Servers'"):
        lookups._in_site("interfaces", "NetworkInterfaceRefInput", "network interface", "Server", None)
