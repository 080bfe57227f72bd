"""A real `pulumi` program against the emulator: a site placed with get_site_location and a rule
naming what get_application, get_app_category and get_service found previews cleanly with the
values known in the preview (get_site and get_host alongside); an ambiguous city fails the program with the candidates."""

from __future__ import annotations

import pytest
from policy_support import fixture

from catoiac.emulator.limits import RateLimitConfig

pytest_plugins = ("pulumi_helpers",)
pytestmark = pytest.mark.slow

PROGRAM = """
import pulumi
import pulumi_cato as cato

where = cato.get_site_location(city=CITY, country=COUNTRY)
site = cato.SocketSite("lyon", name="Lyon", native_range="10.9.0.0/24",
                       location={"country_code": where.country_code, "timezone": where.timezone})
zoom = cato.get_application(name="Zoom")
gambling = cato.get_app_category(name="Gambling")
https = cato.get_service(name="HTTPS")
cato.InternetFirewallPolicy("ifw", sections=[{"name": "Looked up", "rules": [{
    "name": "Block gambling and Zoom",
    "source": {"site": [site.name]},
    "destination": {"application": [{"id": zoom.id}], "app_category": [{"name": gambling.name}]},
    "service": {"standard": [{"name": https.name}]},
}]}])
pulumi.export("where", {"country": where.country_name, "timezone": where.timezone})
pulumi.export("ids", {"zoom": zoom.id, "gambling": gambling.id, "https": https.id})
# The account lookups alongside (the same shared read): still working.
pulumi.export("account", {"hq": cato.get_site(name="HQ").site_type, "printer": cato.get_host(name="printer").ip})
"""


def test_lookups_in_a_program_preview_cleanly_and_ambiguity_fails_it(pulumi_workspace, emulator_factory):
    emu = emulator_factory(fixture(), rate_limits=RateLimitConfig(enabled=False))
    ws = pulumi_workspace
    ws.env_extra["CATOIAC_RATE_LIMIT_SCALE"] = "0.001"
    ws.write_project('CITY, COUNTRY = "Lyon", "FR"\n' + PROGRAM)
    ws.use_emulator(emu)

    out = ws.run("preview", "--diff").stdout
    assert "+ 3 to create" in out or "3 to create" in out, out
    assert "Europe/Paris" in out and "France" in out  # known in the preview, not (unknown)
    for value in ('"zoom"', '"gambling"', '"https"', '"10.1.0.10"'):
        assert value in out, out

    ws.write_project('CITY, COUNTRY = "Paris", None\n' + PROGRAM)
    failed = ws.run("preview", check=False)
    text = failed.stdout + failed.stderr
    assert failed.returncode != 0
    assert "places are named 'Paris'" in text and "Paris, US-TX (America/Chicago)" in text, text
    assert "Narrow with country=" in text
