"""`catoiac ls` over real HTTP to the emulator: any spec type and each policy family's rules and
sections, with ids and filters, in one bulk read whose API calls do not grow with the objects;
unknown types and fields are refused naming the valid ones; the key comes from the flag before the
environment."""

from __future__ import annotations

import copy
import json

import pytest
from click.testing import CliRunner
from emu_helpers import ACCOUNT, KEY
from policy_support import FOREIGN
from sites_support import fixture

import catoiac.resources.specs  # noqa: F401  (registers every collection, bgp_peers too)
from catoiac.cli import main
from catoiac.client import CatoClient
from catoiac.config import ClientConfig
from catoiac.emulator.limits import RateLimitConfig
from catoiac.inventory import InventoryError, listing, types
from catoiac.readpath import AccountReader


def _fixture(extra_sites: int = 0) -> dict:
    fx = fixture()
    fx["accounts"][0]["policies"] = copy.deepcopy(FOREIGN)
    for i in range(extra_sites):
        fx["accounts"][0]["sites"].append(
            {"name": f"Branch {i}", "connection_type": "SOCKET_X1500", "country_code": "FR",
             "timezone": "Europe/Paris", "native_range": f"10.{100 + i}.0.0/24",
             "ranges": [{"name": "Guest", "subnet": f"10.{100 + i}.8.0/24", "range_type": "Routed",
                         "gateway": f"10.{100 + i}.0.254"}]}
        )  # fmt: skip
    return fx


@pytest.fixture
def emu(emulator_factory):
    return emulator_factory(_fixture(), rate_limits=RateLimitConfig(enabled=False))


def ls(emu, *args: str, env: dict | None = None):
    base = {"CATO_TOKEN": KEY, "CATO_ACCOUNT_ID": ACCOUNT, "CATO_BASEURL": emu.url}
    return CliRunner().invoke(main, ["ls", *args], env={**base, **(env or {})})


def test_ls_lists_a_sites_ranges_with_ids_and_site_names_filtered(emu):
    out = ls(emu, "NetworkRange", "--filter", "site=HQ", "--format", "json")
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["type"] == "NetworkRange"
    names = {r["name"] for r in data["items"]}
    assert {"Printers", "Voice", "Lab"} <= names and all(r["site"] == "HQ" for r in data["items"])
    with CatoClient(ClientConfig(api_key=KEY, account_id=ACCOUNT, base_url=emu.url)) as c:
        live = AccountReader(c).get("ranges")
    assert {r["id"] for r in data["items"]} <= set(live)  # real ids, as Cato gives them
    # A glob and two filters that must both hold.
    out = ls(emu, "NetworkRange", "--filter", "name=P*", "--filter", "range_type=Routed", "--format", "json")
    assert out.exit_code == 0, out.output
    assert [r["name"] for r in json.loads(out.output)["items"]] == ["Printers"]
    table = ls(emu, "SocketSite")
    assert table.exit_code == 0 and "HQ" in table.output and "Paris" in table.output, table.output
    assert "location.country_code" in table.output  # nested fields, with dots
    nested = ls(emu, "SocketSite", "--filter", "location.country_code=FR", "--format", "json")
    assert [s["name"] for s in json.loads(nested.output)["items"]] == ["Paris"]


def test_ls_lists_policy_rules_with_sections_and_positions_and_the_sections(emu):
    out = ls(emu, "InternetFirewallRule", "--format", "json")
    assert out.exit_code == 0, out.output
    rules = {r["name"]: r for r in json.loads(out.output)["items"]}
    assert rules["Block gambling"]["section"] == "Security"
    assert rules["Block anonymizers"]["index"] < rules["Block gambling"]["index"]
    assert (
        rules["Block gambling"]["id"]
        and rules["Block gambling"]["rule"]["id"] == rules["Block gambling"]["id"]
    )
    # The policy's resource name means its rules; sections are a type of their own.
    alias = json.loads(ls(emu, "InternetFirewallPolicy", "--format", "json").output)
    assert {r["name"] for r in alias["items"]} == set(rules)
    sections = json.loads(ls(emu, "WanFirewallSection", "--format", "json").output)["items"]
    assert [(s["name"], s["rules"]) for s in sections] == [("Baseline", 1)]
    only = json.loads(ls(emu, "WanFirewallRule", "--filter", "section=Baseline", "--format", "json").output)
    assert [r["name"] for r in only["items"]] == ["Block legacy"]


def test_every_spec_type_and_policy_family_is_listable():
    known = types()
    assert {"SocketSite", "NetworkRange", "StaticHost", "SocketInterface", "BgpPeer", "Group"} <= set(known)
    from catoiac.resources.policy import KINDS

    for kind in KINDS.values():
        assert f"{kind.prefix}Rule" in known and f"{kind.prefix}Section" in known


@pytest.mark.parametrize("type_name", ["NetworkRange", "StaticHost", "InternetFirewallRule", "Group"])
def test_ls_is_one_bulk_read_whose_calls_do_not_grow_with_the_objects(emulator_factory, type_name):
    calls = []
    for extra in (0, 6):
        emu = emulator_factory(_fixture(extra), rate_limits=RateLimitConfig(enabled=False))
        with CatoClient(ClientConfig(api_key=KEY, account_id=ACCOUNT, base_url=emu.url)) as c:
            _, rows = listing(AccountReader(c), type_name)
            calls.append({op: s["calls"] for op, s in c.stats.to_dict().items()})
        assert rows or type_name == "Group"
    assert calls[0] == calls[1], calls
    # One call per collection: the type's own, plus the sites for their names.
    expected = {
        "NetworkRange": {"ReadSites": 1, "EntityLookup": 2},
        "StaticHost": {"ReadSites": 1, "EntityLookup": 2},
        "InternetFirewallRule": {"ReadInternetFirewallPolicy": 1},
    }
    if type_name in expected:
        assert calls[0] == expected[type_name]
    else:
        assert calls[0].get("GroupList") == 1


def test_unknown_type_or_field_is_refused_listing_the_valid_ones(emu):
    out = ls(emu, "NetworkRanges")
    assert out.exit_code == 1
    assert "unknown type 'NetworkRanges': did you mean 'NetworkRange'?" in out.output
    assert "SocketSite" in out.output and "InternetFirewallRule" in out.output
    out = ls(emu, "NetworkRange", "--filter", "subnett=10.0.1.0/24")
    assert out.exit_code == 1
    assert "NetworkRange has no field 'subnett'" in out.output and "subnet" in out.output
    out = ls(emu, "NetworkRange", "--filter", "subnet")
    assert out.exit_code == 1 and "use FIELD=VALUE" in out.output
    with pytest.raises(InventoryError):
        listing(None, "Nope")  # type: ignore[arg-type]  (refused before any read)


def test_an_empty_account_lists_nothing_whatever_the_filter(emulator_factory):
    emu = emulator_factory(fixture(sites=[]), rate_limits=RateLimitConfig(enabled=False))
    out = ls(emu, "NetworkRange", "--filter", "subnet=10.0.0.0/24", "--format", "json")
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["items"] == []


def test_bgp_peers_are_listed_without_their_md5_key(emulator_factory):
    fx = _fixture()
    fx["accounts"][0]["sites"][0]["bgp_peers"][0]["md5_auth_key"] = "bgp-md5-Secret-Zx81"
    emu = emulator_factory(fx, rate_limits=RateLimitConfig(enabled=False))
    with CatoClient(ClientConfig(api_key=KEY, account_id=ACCOUNT, base_url=emu.url)) as c:
        read = [p.get("md5_auth_key") for p in AccountReader(c).get("bgp_peers").values()]
    assert read == ["bgp-md5-Secret-Zx81"]  # the read has it: ls must leave it out
    for fmt in ("json", "table"):
        out = ls(emu, "BgpPeer", "--format", fmt)
        assert out.exit_code == 0, out.output
        assert "core" in out.output and "bgp-md5-Secret-Zx81" not in out.output


def test_the_api_key_flag_wins_over_the_environment_and_is_never_printed(emu):
    out = ls(emu, "SocketSite", "--api-key", KEY, env={"CATO_TOKEN": "cato-wrong-key-000"})
    assert out.exit_code == 0, out.output
    out = ls(emu, "SocketSite", env={"CATO_TOKEN": "cato-wrong-key-000"})
    assert out.exit_code == 1 and "cato-wrong-key-000" not in out.output
