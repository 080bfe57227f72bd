"""examples/policies runs as shipped (its own Pulumi.yaml and relative virtualenv) with the real
pulumi CLI against the emulator seeded with its emulator-account.yaml: every one of the 12 policy
families comes up with one revision and one publish each, shows no diff, refreshes with one policy
query per family, is reviewed (moves as moves), reports out-of-band changes as drift with their
author, and destroys cleanly."""

from __future__ import annotations

import json
import subprocess

import pytest
from pulumi_helpers import PROJECT_VENV, pulumi_env
from test_example_firewall import ACCOUNT, KEY, copy_example, seed, stack

from catoiac.client import CatoClient
from catoiac.config import ClientConfig
from catoiac.emulator.control import EmulatorControl
from catoiac.emulator.limits import RateLimitConfig
from catoiac.resources.policy import KINDS

pytest_plugins = ("pulumi_helpers",)
pytestmark = pytest.mark.slow

# The example's own section in each policy, after the account's "Baseline".
SECTIONS = {
    "internetFirewall": "Lisbon Internet",
    "wanFirewall": "Lisbon WAN",
    "wanNetwork": "Lisbon routing",
    "tlsInspect": "Lisbon TLS",
    "socketLan": "Lisbon LAN",
    "applicationControl": "Lisbon SaaS",
    "appTenantRestriction": "Lisbon tenants",
    "privateAccess": "Engineering apps",
    "remotePortFwd": "Lisbon forwarding",
    "terminalServer": "Citrix",
    "antiMalwareFileHash": "Lisbon hashes",
    "dynamicIpAllocation": "Contractors",
}
DISABLE = """mutation($a: ID!, $id: ID!) { policy(accountId: $a) { tlsInspect {
  updateRule(input: {id: $id, rule: {enabled: false}}) { status } } } }"""
PUBLISH = (
    """mutation($a: ID!) { policy(accountId: $a) { tlsInspect { publishPolicyRevision { status } } } }"""
)


def policies(emu) -> dict[str, list[tuple[str, list[str]]]]:
    """Every policy: its sections and their rule names, in order."""
    out = {}
    with CatoClient(ClientConfig(api_key=KEY, account_id=ACCOUNT, base_url=emu.url)) as c:
        for field, kind in KINDS.items():
            p = c.execute(kind.doc("Read"), {})["policy"][field]["policy"]
            sections: dict[str, list[str]] = {s["section"]["name"]: [] for s in p["sections"]}
            for r in p["rules"]:
                sections[r["rule"]["section"]["name"]].append(r["rule"]["name"])
            out[field] = list(sections.items())
    return out


def open_revisions(emu) -> int:
    with CatoClient(ClientConfig(api_key=KEY, account_id=ACCOUNT, base_url=emu.url)) as c:
        return sum(
            len(c.execute(k.doc("Revisions"), {})["policy"][f]["revisions"]["revision"])
            for f, k in KINDS.items()
        )


def catoiac(tmp_path, *args: str) -> subprocess.CompletedProcess:
    env = pulumi_env(tmp_path / "state", tmp_path / "home", {"CATOIAC_RATE_LIMIT_SCALE": "0.001"})
    return subprocess.run(
        [str(PROJECT_VENV / "bin" / "catoiac"), *args], env=env, capture_output=True, text=True, timeout=300
    )


def test_policies_example_brings_every_family_up_refreshes_reviews_drifts_and_destroys(
    tmp_path, emulator_factory
):
    emu = emulator_factory(seed("policies"), rate_limits=RateLimitConfig(enabled=False))
    project = copy_example(tmp_path, "policies")
    pulumi = stack(project, tmp_path, emu)
    ctl = EmulatorControl(emu.base_url)
    baseline = policies(emu)
    assert all([name for name, _ in v] == ["Baseline"] for v in baseline.values())

    up = pulumi("up", "--yes", "--skip-preview")
    assert "14 created" in up.stdout, up.stdout  # the stack, the site and 12 policies
    stats = ctl.stats()
    assert (stats["createPolicyRevision"], stats["publishPolicyRevision"]) == (12, 12)  # one each
    assert "discardPolicyRevision" not in stats
    after = policies(emu)
    assert {f: [name for name, _ in v] for f, v in after.items()} == {
        f: ["Baseline", s] for f, s in SECTIONS.items()
    }
    assert after["wanNetwork"][1][1] == ["Lisbon: real-time first", "Lisbon: SaaS via Madrid"]
    pulumi("preview", "--expect-no-changes")

    # A refresh reads each policy once: 12 policy queries for 12 resources, whatever their size.
    ctl.reset_stats()
    pulumi("refresh", "--yes", "--skip-preview")
    assert ctl.stats()["policy"] == len(KINDS) == 12
    pulumi("preview", "--expect-no-changes")

    # A change under review: two WAN network rules swapped, a LAN firewall rule changed.
    program = project / "__main__.py"
    original = program.read_text()
    src = original.replace(
        '"name": "Lisbon LAN: no SSH", "action": "BLOCK"', '"name": "Lisbon LAN: no SSH", "action": "ALLOW"'
    )
    first = src.index('                {"name": "Lisbon: real-time first"')
    second = src.index('                {"name": "Lisbon: SaaS via Madrid"')
    end = src.index("            ],", second)
    program.write_text(src[:first] + src[second:end] + src[first:second] + src[end:])
    preview = pulumi("preview", "--json")
    (tmp_path / "preview.json").write_text(preview.stdout)
    review = catoiac(tmp_path, "review", str(tmp_path / "preview.json"))
    assert review.returncode == 0, review.stderr
    assert "Policy publishes on `up`: **2**" in review.stdout
    assert (
        "**rule `Lisbon: real-time first`** at Lisbon routing #2 · moved from Lisbon routing #1"
        in review.stdout
    )
    assert "2. `Lisbon LAN: no SSH` (action: BLOCK" in review.stdout  # the LAN firewall rule, before

    ctl.reset_stats()
    up = pulumi("up", "--yes", "--skip-preview")
    assert "2 updated" in up.stdout, up.stdout
    stats = ctl.stats()
    assert (stats["publishPolicyRevision"], stats["moveRule"], stats["updateRule"]) == (2, 1, 1)
    assert not {"addRule", "removeRule"} & set(stats)
    assert policies(emu)["wanNetwork"][1][1] == ["Lisbon: SaaS via Madrid", "Lisbon: real-time first"]
    pulumi("preview", "--expect-no-changes")

    # Someone turns a TLS rule off in the console: drift reports it, with who did it.
    res = json.loads(pulumi("stack", "export").stdout)["deployment"]["resources"]
    tls = next(r["outputs"] for r in res if r["type"].endswith("TlsInspectPolicy"))
    variables = {"a": ACCOUNT, "id": tls["rule_ids"]["Lisbon: inspect the rest"]}
    assert ctl.as_admin(ACCOUNT, "alice@example.com", DISABLE, variables).get("errors") is None
    assert ctl.as_admin(ACCOUNT, "alice@example.com", PUBLISH, {"a": ACCOUNT}).get("errors") is None
    drift = catoiac(tmp_path, "drift", "--cwd", str(project), "--stack", "dev", "--format", "json",
                    "--cache-dir", str(tmp_path / "cache"))  # fmt: skip
    assert drift.returncode == 2, drift.stdout + drift.stderr
    findings = json.loads(drift.stdout)["findings"]
    found = [f for f in findings if f["resource"]["type"] == "TlsInspectPolicy" and f["kind"] != "unmanaged"]
    assert [f["kind"] for f in found] == ["modified"], findings
    [change] = found[0]["changes"]
    assert change["path"] == "rules[Lisbon: inspect the rest].enabled" and change["live"] is False, change
    assert change["attribution"]["cause"] == "ui"
    assert change["attribution"]["actor"]["name"] == "alice@example.com"
    assert {f["resource"]["type"] for f in findings if f["kind"] != "unmanaged"} == {"TlsInspectPolicy"}
    # Every family's policy is scanned: the account's own sections are reported as unmanaged.
    unmanaged = {
        (f["resource"]["type"], f["resource"]["cato_name"]) for f in findings if f["kind"] == "unmanaged"
    }
    assert {(k.spec, "Baseline") for k in KINDS.values()} <= unmanaged
    ctl.reset_stats()
    pulumi("up", "--refresh", "--yes", "--skip-preview")  # sees it, and puts it back
    assert ctl.stats()["publishPolicyRevision"] == 1
    pulumi("preview", "--expect-no-changes")

    ctl.reset_stats()
    pulumi("destroy", "--yes", "--skip-preview")
    assert ctl.stats()["publishPolicyRevision"] == 12
    assert policies(emu) == baseline
    assert open_revisions(emu) == 0
