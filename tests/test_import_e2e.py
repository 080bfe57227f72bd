"""``catoiac import`` end to end on the small fixture (``examples/fixtures/small.yaml``), as a user runs
it: the catoiac CLI as a subprocess, the real pulumi CLI, the emulator over HTTP with its calls
counted. The written project's first ``up`` adopts every object with no write to Cato, a preview
then shows no change, drift reports none with full coverage, and an edit of the program (rename a
site, move a rule, delete a range) makes exactly those mutations and one publish. Then a round trip
per resource type (``test_each_resource_type_...``): every spec in SPECS, on one small account."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import emu_helpers
import pytest
import yaml
from pulumi_helpers import PROJECT_VENV, init_stack_from_template, pulumi_env, run_pulumi

from catoiac.emulator.control import EmulatorControl
from catoiac.emulator.limits import RateLimitConfig

pytest_plugins = ("pulumi_helpers",)
pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
SMALL = REPO / "examples/fixtures/small.yaml"
ACCOUNT = "1001"
KEY = "emulator-catoiac-key-1001"


def writes(ctl: EmulatorControl) -> dict[str, int]:
    """The writes the emulator counted (the schema's mutations: a new collection is never a write)."""
    return emu_helpers.writes(ctl.stats())


def catoiac(
    *args: str, url: str, env: dict | None = None, key: str = KEY, account: str = ACCOUNT, codes=(0,)
) -> subprocess.CompletedProcess[str]:
    """The catoiac CLI as a user runs it; it must succeed."""
    env = {**(env or os.environ), "CATO_TOKEN": key, "CATO_ACCOUNT_ID": account, "CATO_BASEURL": url}
    result = subprocess.run(
        [str(PROJECT_VENV / "bin/catoiac"), *args], env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode in codes, result.stdout + result.stderr
    return result


Pulumi = Callable[..., subprocess.CompletedProcess[str]]


def stack(out: Path, tmp_path: Path, key: str = KEY) -> tuple[Pulumi, dict[str, str]]:
    """A stack "dev" of the written project, with the API key as its secret config: a runner of
    pulumi commands in the project, and their environment."""
    # The project's virtualenv, as `python3 -m venv venv && pip install -r requirements.txt` makes it.
    (out / "venv").symlink_to(PROJECT_VENV)
    env = pulumi_env(tmp_path / "state", tmp_path / "home", {"CATOIAC_RATE_LIMIT_SCALE": "0.001"})

    def pulumi(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return run_pulumi(*args, cwd=out, env=env, check=check)

    # `stack init dev` + `config set --secret cato:apiKey KEY` on the Pulumi.dev.yaml import wrote.
    if not init_stack_from_template(out, env, "dev", key=key):
        pulumi("stack", "init", "dev")
        pulumi("config", "set", "--secret", "cato:apiKey", key)
    return pulumi, env


def managed(pulumi: Pulumi) -> list[dict]:
    state = json.loads(pulumi("stack", "export").stdout)["deployment"]["resources"]
    return [r for r in state if r["type"].startswith("pulumi-python:dynamic")]


@pytest.fixture
def emu(emulator_factory):
    return emulator_factory(yaml.safe_load(SMALL.read_text()), rate_limits=RateLimitConfig(enabled=False))


@pytest.fixture
def ctl(emu):
    with EmulatorControl(emu.base_url) as c:
        yield c


def cut(text: str, start: str, end: str) -> tuple[str, str]:
    """``text`` without the block from the line ``start`` to the first line ``end`` after it, and the
    block."""
    m = re.search(rf"^{re.escape(start)}\n.*?^{re.escape(end)}\n", text, re.S | re.M)
    assert m, f"no block {start!r} in\n{text}"
    return text[: m.start()] + text[m.end() :], m.group(0)


def test_import_then_up_adopts_everything_with_zero_writes_and_edits_make_exactly_their_mutations(
    tmp_path, emu, ctl
):
    out = tmp_path / "project"
    catoiac("import", "--out", str(out), "--stack", "dev", url=emu.url)
    pulumi, env = stack(out, tmp_path)

    ctl.reset_stats()
    up = pulumi("up", "--yes")
    assert writes(ctl) == {}, up.stdout
    # 3 sites, 3 ranges, 2 hosts, 6 ports, 1 group, 1 admin (the fixture's alice), 2 policies
    assert len(managed(pulumi)) == 18, up.stdout

    ctl.reset_stats()
    assert pulumi("preview", "--expect-no-changes", check=False).returncode == 0
    assert writes(ctl) == {}

    drift = catoiac(
        "drift", "--cwd", str(out), "--stack", "dev", "--format", "json", "--no-audit", url=emu.url, env=env
    )
    report = json.loads(drift.stdout)
    kinds = report["summary"]["by_kind"]
    assert (kinds["modified"], kinds["deleted"], kinds["reordered"]) == (0, 0, 0), report["findings"]
    coverage = {c["type"]: c["ratio"] for c in report["coverage"]}
    imported = {"SocketSite", "NetworkRange", "StaticHost", "SocketInterface", "Group"}
    imported |= {"InternetFirewallPolicy", "WanFirewallPolicy"}
    assert imported <= set(coverage) and all(coverage[t] == 1.0 for t in imported), report["coverage"]

    # Edit the program as an engineer would: rename London, move "Allow web" first in its section,
    # delete HQ's Voice range.
    london = out / "sites/london.py"
    london.write_text(london.read_text().replace('name="London",', 'name="London City",', 1))
    hq = out / "sites/hq.py"
    text, _ = cut(hq.read_text(), "voice = cato.NetworkRange(", ")")
    hq.write_text(text)
    ifw = out / "policies/internet_firewall.py"
    text = ifw.read_text()
    text, allow_web = cut(text, "                {", "                },")
    assert '"name": "Block anonymizers"' in allow_web  # the first rule: move it after "Allow web"
    anchor = '                    "service": {"standard": ["HTTP", "HTTPS"]},\n                },\n'
    assert anchor in text
    ifw.write_text(text.replace(anchor, anchor + allow_web, 1))

    ctl.reset_stats()
    pulumi("up", "--yes")
    made = writes(ctl)
    assert made.pop("publishPolicyRevision") == 1, made
    assert made == {
        "updateSiteGeneralDetails": 1,
        "removeNetworkRange": 1,
        "createPolicyRevision": 1,
        "moveRule": 1,
    }, made
    assert pulumi("preview", "--expect-no-changes", check=False).returncode == 0


# -- a round trip per resource type ------------------------------------------------------------------
MD5 = "md5-secret-7731"


def _every_type_account() -> dict:
    """One small account with one object (at least) of every type catoiac has, every policy family
    among them (a section of someone else's each: ``families_support``), and a BGP peer with an MD5
    key. An IPsec site is added through the API (``every_type_emu``): the fixture seeds none."""
    from families_support import fixture

    fx = fixture()
    acc = fx["accounts"][0]
    hq = acc["sites"][0]
    hq["ranges"] = [{"name": "Data", "subnet": "10.1.5.0/24"}]
    hq["bgp_peers"] = [{"name": "core", "peer_ip": "10.1.0.2", "peer_asn": 65001, "cato_asn": 65000,
                        "md5_auth_key": MD5}]  # fmt: skip
    acc["groups"] = [{"name": "Offices", "members": [{"type": "site", "name": "Paris"}]}]
    acc["licenses"] = [{"id": "lic-site-100", "sku": "CATO_SITE", "total": 100, "site": hq["name"]}]
    acc["app_connectors"] = [{"name": "dc-connector-1", "group_name": "dc-east", "type": "VIRTUAL",
                              "country_code": "US", "city": "New York", "timezone": "America/New_York"}]  # fmt: skip
    return fx


@pytest.fixture(scope="module")
def every_type_emu():
    """The account of ``_every_type_account``, shared by the cases of one worker: each case only
    adopts (and the IPsec case changes a key Cato never shows), so none sees another's effects."""
    from objects_support import engine, ipsec_inputs, session_for

    from catoiac.emulator.server import EmulatorServer

    server = EmulatorServer(
        ":memory:", seed=_every_type_account(), rate_limits=RateLimitConfig(enabled=False)
    )
    server.start()
    try:
        ipsec = engine(session_for(server), "IpsecSite")
        inputs, problems = ipsec.check({}, ipsec_inputs())
        assert problems == []
        ipsec.create(inputs)
        yield server
    finally:
        server.stop()


def _type_cases() -> list:
    """Every spec in SPECS: a type added later is a case too, and fails until the account above holds
    an object of it. The policy families are one case (a program of every policy), to keep the
    suite's CPU in bounds: each case costs ~18 s of CPU, mostly pulumi's own start-up."""
    from catoiac.resources.specs import SPECS

    families = tuple(n for n, s in SPECS.items() if s.policy is not None)
    objects = [pytest.param((n,), id=n) for n, s in SPECS.items() if s.policy is None]
    return [*objects, pytest.param(families, id="every-policy-family")]


@pytest.mark.parametrize("types", _type_cases())
def test_each_resource_type_is_imported_and_adopted_with_zero_writes(types, tmp_path, every_type_emu):
    """Per type: `catoiac import --types TYPE` writes a program of that type's objects (the rest
    looked up), whose first `up` adopts them all with no write or publish, counted by the emulator
    from the schema's mutations; a preview then shows no change, and drift none, with the type fully
    covered. Secrets (a BGP peer's MD5 key, an IPsec tunnel's write-only PSK) come from stack config
    and are never written; a changed PSK then updates its tunnel."""
    from objects_support import PSKS

    from catoiac.importer.model import WRITE_ONLY

    emu = every_type_emu
    acc = _every_type_account()["accounts"][0]
    key, account = acc["api_keys"][0]["key"], acc["id"]
    out = tmp_path / "project"
    imported = catoiac("import", "--out", str(out), "--stack", "dev", "--types", ",".join(types), url=emu.url,
                       key=key, account=account)  # fmt: skip
    files = {p: p.read_text() for p in out.rglob("*") if p.is_file()}
    hidden = (MD5, *PSKS, WRITE_ONLY)
    assert not any(h in text for h in hidden for text in [imported.stdout, *files.values()])
    readme = (out / "README.md").read_text()
    for type_name in types:
        assert re.search(rf"^\| {type_name} \| [1-9]", readme, re.M), f"no {type_name} imported:\n{readme}"
        assert f"| {type_name} |" not in readme.split("## Not imported")[1], readme
    secrets = sorted(set(re.findall(r"^- `([a-z0-9-]+)`$", readme, re.M)))

    pulumi, env = stack(out, tmp_path, key)
    # What the user sets: the MD5 key Cato holds, the PSKs their devices use (in one CLI run).
    values = [f"{name}={MD5 if name.endswith('md5-auth-key') else f'psk-{name}'}" for name in secrets]
    if values:
        pulumi("config", "set-all", *(arg for value in values for arg in ("--secret", value)))
    with EmulatorControl(emu.base_url) as ctl:
        ctl.reset_stats()
        up = pulumi("up", "--yes", "--skip-preview")
        assert writes(ctl) == {}, up.stdout
        assert {r["type"].rsplit(":", 1)[1] for r in managed(pulumi)} == set(types)
        ctl.reset_stats()
        assert pulumi("preview", "--expect-no-changes", check=False).returncode == 0
        assert writes(ctl) == {}
    drift = catoiac("drift", "--cwd", str(out), "--stack", "dev", "--format", "json", "--no-audit",
                    url=emu.url, env=env, key=key, account=account)  # fmt: skip
    report = json.loads(drift.stdout)
    assert report["findings"] == [] and report["errors"] == [], report
    coverage = {c["type"]: c["ratio"] for c in report["coverage"]}
    assert all(coverage[t] == 1.0 for t in types), report["coverage"]
    assert not any(h in drift.stdout for h in hidden)

    if types == ("IpsecSite",):  # a new PSK in the stack's config is a key rotation: one update
        assert secrets == ["azure-east-primary-tunnel-1-psk", "azure-east-primary-tunnel-2-psk",
                           "azure-east-secondary-tunnel-1-psk"]  # fmt: skip
        pulumi("config", "set", "--secret", secrets[0], PSKS[3])
        with EmulatorControl(emu.base_url) as ctl:
            ctl.reset_stats()
            up = pulumi("up", "--yes", "--skip-preview")
            # The engine sends a resource's update operation with every update (the site's general
            # details, unchanged here), then the tunnels' (spec ``after_write``): the key's.
            assert writes(ctl) == {"updateSiteGeneralDetails": 1, "updateIpsecIkeV2SiteTunnels": 1}, up.stdout
            assert PSKS[3] not in up.stdout + up.stderr
            assert pulumi("preview", "--expect-no-changes", check=False).returncode == 0
