"""examples/objects runs as shipped (its own Pulumi.yaml and relative virtualenv) with the real pulumi
CLI against the emulator seeded with its emulator-account.yaml: an IPsec site with three tunnels,
a Socket site's native range settings, a WAN link's settings and a LAN LAG, licenses, an app connector, a published private app and the
private access rule that uses it, and admins come up, show no diff (after a refresh too), change
in place (a key rotated, a DHCP range moved), never show a pre-shared key, and destroy cleanly."""

from __future__ import annotations

import pytest
from test_example_firewall import ACCOUNT, KEY, copy_example, seed, stack

from catoiac.client import CatoClient
from catoiac.config import ClientConfig
from catoiac.emulator.limits import RateLimitConfig
from catoiac.readpath import AccountReader
from catoiac.resources.specs import SPECS  # noqa: F401  (registers the read path's loaders)

pytest_plugins = ("pulumi_helpers",)
pytestmark = pytest.mark.slow

PSKS = {
    "pskPrimaryA": "psk-A-9d0e8f7a6b5c",
    "pskPrimaryB": "psk-B-1a2b3c4d5e6f",
    "pskSecondary": "psk-S-77e1c0ffee42",
}
ROTATED = "psk-A-rotated-5a5a5a5a"


def account(emu) -> dict:
    """What the example made, as the API shows it."""
    with CatoClient(ClientConfig(api_key=KEY, account_id=ACCOUNT, base_url=emu.url)) as c:
        sites = {s["info"]["name"]: s for s in c.execute("ReadSites", {})["accountSnapshot"]["sites"]}
        out: dict = {"sites": sorted(sites)}
        if "Azure East US" in sites:
            out["tunnels"] = {
                ("primary" if i["isPrimary"] else "secondary"): [
                    (t["tunnelId"], t["tunnelRemoteIdentifier"]) for t in i["tunnelConfig"]
                ]
                for i in sites["Azure East US"]["info"]["ipsec"]
            }
        if "Madrid Branch" in sites:
            madrid_ports = sites["Madrid Branch"]["info"]["interfaces"]
            out["madrid_ports"] = sorted(
                (i["destType"], i.get("wanRole") or "", i["name"] or "") for i in madrid_ports
            )
            ranges = c.execute(
                "NetworkRangeList", {"site": {"by": "ID", "input": sites["Madrid Branch"]["id"]}}
            )
            native = [r for r in ranges["site"]["networkRangeList"]["items"] if r["rangeType"] == "Native"]
            out["madrid_native"] = [r["subnet"] for r in native]
        info = c.execute("SiteLicenses", {})["licensing"]["licensingInfo"]
        out["licenses"] = {lic["id"]: (lic["site"] or {}).get("name") for lic in info["site"]} | {
            lic["id"]: {s["site"]["name"]: s["allocatedBandwidth"] for s in lic["sites"]}
            for lic in info["pooledBandwidth"]
        }
        out["admins"] = sorted(
            (a["email"], sorted(r["role"]["name"] for r in a["managedRoles"]))
            for a in c.execute("Admins", {"limit": 50, "from": 0})["admins"]["items"]
        )
        apps = c.execute("PrivateApplicationList", {})["privateApplication"]["privateApplicationList"][
            "applications"
        ]
        out["apps"] = [(a["name"], (a["publishedAppDomain"] or {}).get("connectorGroupName")) for a in apps]
        conns = c.execute("ZtnaAppConnectorList", {"input": {}})["ztnaAppConnector"]["ztnaAppConnectorList"]
        out["connectors"] = [(x["name"], x["groupName"]) for x in conns["ztnaAppConnector"]]
        policy = c.execute("ReadPrivateAccessPolicy", {})["policy"]["privateAccess"]["policy"]
        out["rules"] = [r["rule"]["name"] for r in policy["rules"]]
    return out


def native_range(emu, site_name: str) -> dict:
    """The site's native range as the read path sees it (a real tenant's lookup shapes)."""
    with CatoClient(ClientConfig(api_key=KEY, account_id=ACCOUNT, base_url=emu.url)) as c:
        reader = AccountReader(c)
        site_id = next(s["id"] for s in reader.get("sites").values() if s["name"] == site_name)
        rng = reader.get("native_ranges")[site_id]["range"]
    return {"localIp": rng["local_ip"], "dhcpType": rng["dhcp"]["type"], "dhcpIpRange": rng["dhcp"]["ip_range"],
            "mdnsReflector": rng["mdns_reflector"]}  # fmt: skip


def secrets(values: dict[str, str]) -> list[str]:
    """``config set-all`` arguments for the example's secret settings: one CLI run (and one PBKDF2)
    instead of one per setting."""
    return [arg for name, value in values.items() for arg in ("--secret", f"objects:{name}={value}")]


def test_objects_example_comes_up_refreshes_changes_in_place_and_destroys_without_showing_a_key(
    tmp_path, emulator_factory
):
    emu = emulator_factory(seed("objects"), rate_limits=RateLimitConfig(enabled=False))
    pulumi = stack(copy_example(tmp_path, "objects"), tmp_path, emu)
    pulumi("config", "set-all", *secrets(PSKS))
    shown = []

    def run(*args: str):
        res = pulumi(*args)
        shown.append(res.stdout + res.stderr)
        return res

    run("preview")  # values not known yet (the sites' ids) are judged at up
    up = run("up", "--yes", "--skip-preview")
    assert "13 created" in up.stdout, up.stdout
    live = account(emu)
    assert live["sites"] == ["Azure East US", "Madrid Branch"]
    assert live["tunnels"] == {
        "primary": [("PRIMARY1", "20.1.10.4"), ("PRIMARY2", "20.1.10.5")],
        "secondary": [("SECONDARY1", "20.2.10.4")],
    }
    assert live["licenses"]["lic-site-madrid"] == "Madrid Branch"
    assert live["licenses"]["lic-pool-cloud"] == {"Azure East US": 300}
    assert live["admins"] == [
        ("alice@example.com", ["Editor"]),
        ("noa.levi@example.com", ["Network admin"]),
        ("sam.ortiz@example.com", ["Auditors"]),
    ]
    assert live["apps"] == [("Wiki", "dc-east")] and live["connectors"] == [("dc-connector-1", "dc-east")]
    assert live["rules"] == ["Staff to the wiki"]
    ports = live["madrid_ports"]  # a backup WAN link, and a LAG of INT_6 and INT_7
    assert ("CATO", "wan_2", "LTE backup") in ports, ports
    assert ("LAN_LAG_MASTER", "", "Core switch") in ports, ports
    assert [p[0] for p in ports].count("LAN_LAG_MEMBER") == 1, ports
    madrid = native_range(emu, "Madrid Branch")
    assert (madrid["localIp"], madrid["dhcpType"], madrid["dhcpIpRange"], madrid["mdnsReflector"]) == (
        "10.150.0.254", "DHCP_RANGE", "10.150.0.100-10.150.0.199", True)  # fmt: skip

    run("preview", "--expect-no-changes")
    run("refresh", "--yes")
    run("preview", "--expect-no-changes")  # what Cato never returns (keys, ciphers) is kept

    # A rotated key is an update of the one tunnel, in place; so is a moved DHCP range.
    pulumi("config", "set", "--secret", "objects:pskPrimaryA", ROTATED)
    main = tmp_path / "repo" / "examples" / "objects" / "__main__.py"
    main.write_text(main.read_text().replace("10.150.0.100-10.150.0.199", "10.150.0.50-10.150.0.99"))
    up = run("up", "--yes", "--skip-preview")
    assert "2 updated" in up.stdout and "created" not in up.stdout.split("Resources:")[-1], up.stdout
    assert account(emu)["tunnels"]["primary"] == [("PRIMARY1", "20.1.10.4"), ("PRIMARY2", "20.1.10.5")]
    assert native_range(emu, "Madrid Branch")["dhcpIpRange"] == "10.150.0.50-10.150.0.99"
    run("preview", "--expect-no-changes")

    export = pulumi("stack", "export").stdout
    for secret in (*PSKS.values(), ROTATED):
        assert secret not in export
        assert not any(secret in text for text in shown), secret

    run("destroy", "--yes", "--skip-preview")
    live = account(emu)
    assert live["sites"] == [] and live["apps"] == [] and live["connectors"] == [] and live["rules"] == []
    assert live["licenses"]["lic-site-madrid"] is None and live["licenses"]["lic-pool-cloud"] == {}
    assert live["admins"] == [("alice@example.com", ["Editor"])]


def test_objects_example_refuses_a_bad_key_and_an_unknown_license_in_the_preview(tmp_path, emulator_factory):
    emu = emulator_factory(seed("objects"), rate_limits=RateLimitConfig(enabled=False))
    project = copy_example(tmp_path, "objects")
    pulumi = stack(project, tmp_path, emu)
    pulumi("config", "set-all", *secrets({**PSKS, "pskSecondary": "   "}))
    main = project / "__main__.py"
    main.write_text(main.read_text().replace('"lic-pool-cloud", bw=300', '"lic-pool-clowd", bw=300'))
    res = pulumi("preview", check=False)
    text = res.stdout + res.stderr
    assert res.returncode != 0
    assert "property secondary.tunnels[0].psk value {<nil>} has a problem: must not be empty" in text, text
    pulumi("config", "set", "--secret", "objects:pskSecondary", PSKS["pskSecondary"])
    res = pulumi("preview", check=False)
    text = res.stdout + res.stderr
    assert res.returncode != 0
    assert "no license lic-pool-clowd in the account" in text, text
    assert not any(p in text for p in PSKS.values())
    assert account(emu)["sites"] == []  # nothing was written
