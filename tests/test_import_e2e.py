"""``catoiac import`` end to end on the small fixture (``examples/fixtures/small.yaml``), as a user runs
it: the catoiac CLI as a subprocess, the real pulumi CLI, the emulator over HTTP with its calls
counted. The written project's first ``up`` adopts every object with no write to Cato, a preview
then shows no change, drift reports none with full coverage, and an edit of the program (rename a
site, move a rule, delete a range) makes exactly those mutations and one publish."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from pulumi_helpers import PROJECT_VENV, pulumi_env, run_pulumi

from catoiac.emulator.control import EmulatorControl
from catoiac.emulator.limits import RateLimitConfig

pytest_plugins = ("pulumi_helpers",)
pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
SMALL = REPO / "examples/fixtures/small.yaml"
ACCOUNT = "1001"
KEY = "emulator-catoiac-key-1001"


def _mutation_names() -> frozenset[str]:
    """Every mutation the emulator can count, from the schema (the leaves of the ``…Mutations``
    namespaces): a read of any collection, present or future, is never taken for a write."""
    from graphql import GraphQLObjectType, get_named_type

    from catoiac.schema import subset_schema

    found: set[str] = set()
    seen: set[str] = set()

    def walk(t: GraphQLObjectType) -> None:
        seen.add(t.name)
        for name, field in t.fields.items():
            inner = get_named_type(field.type)
            if isinstance(inner, GraphQLObjectType) and inner.name.endswith("Mutations"):
                if inner.name not in seen:
                    walk(inner)
            else:
                found.add(name)

    mutation = subset_schema().mutation_type
    assert mutation is not None
    walk(mutation)
    return frozenset(found)


MUTATIONS = _mutation_names()


def writes(ctl: EmulatorControl) -> dict[str, int]:
    return {op: n for op, n in ctl.stats().items() if op in MUTATIONS}


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


def test_every_resource_type_round_trips_with_zero_writes(tmp_path, emulator_factory):
    """One object (at least) of every type catoiac has, every policy family among them, and a BGP
    peer whose MD5 key the import never writes: the first `up` adopts them all without a write."""
    from families_support import fixture
    from objects_support import engine, ipsec_inputs, session_for

    from catoiac.resources.specs import SPECS

    fx = fixture()
    acc = fx["accounts"][0]
    hq = acc["sites"][0]
    hq["ranges"] = [{"name": "Data", "subnet": "10.1.5.0/24"}]
    hq["bgp_peers"] = [{"name": "core", "peer_ip": "10.1.0.2", "peer_asn": 65001, "cato_asn": 65000,
                        "md5_auth_key": "md5-secret-7731"}]  # fmt: skip
    acc["groups"] = [{"name": "Offices", "members": [{"type": "site", "name": "Paris"}]}]
    acc["licenses"] = [{"id": "lic-site-100", "sku": "CATO_SITE", "total": 100, "site": hq["name"]}]
    acc["app_connectors"] = [{"name": "dc-connector-1", "group_name": "dc-east", "type": "VIRTUAL",
                              "country_code": "US", "city": "New York", "timezone": "America/New_York"}]  # fmt: skip
    emu = emulator_factory(fx, rate_limits=RateLimitConfig(enabled=False))
    # An IPsec site is made through the API (the fixture seeds none), its tunnels' keys included.
    ipsec = engine(session_for(emu), "IpsecSite")
    inputs, problems = ipsec.check({}, ipsec_inputs())
    assert problems == []
    ipsec.create(inputs)
    key, account = fx["accounts"][0]["api_keys"][0]["key"], fx["accounts"][0]["id"]
    out = tmp_path / "project"
    catoiac("import", "--out", str(out), "--stack", "dev", url=emu.url, key=key, account=account)
    files = {p: p.read_text() for p in out.rglob("*") if p.is_file()}
    assert all("md5-secret-7731" not in text for text in files.values())
    readme = (out / "README.md").read_text()
    secret = re.search(r"^- `(hq-core-md5-auth-key)`$", readme, re.M)
    assert secret, readme

    pulumi, env = stack(out, tmp_path, key)
    pulumi("config", "set", "--secret", secret.group(1), "md5-secret-7731")
    # Every other secret the README asks for (the IPsec tunnels' pre-shared keys: Cato never returns them).
    for name in set(re.findall(r"^- `([a-z0-9-]+)`$", readme, re.M)) - {secret.group(1)}:
        pulumi("config", "set", "--secret", name, f"psk-for-{name}")
    with EmulatorControl(emu.base_url) as ctl:
        ctl.reset_stats()
        up = pulumi("up", "--yes")
        assert writes(ctl) == {}, up.stdout
        types = {r["type"].rsplit(":", 1)[1] for r in managed(pulumi)}
        assert types == set(SPECS), set(SPECS) ^ types
        ctl.reset_stats()
        assert pulumi("preview", "--expect-no-changes", check=False).returncode == 0
        assert writes(ctl) == {}
    drift = catoiac("drift", "--cwd", str(out), "--stack", "dev", "--format", "json", "--no-audit",
                    url=emu.url, env=env, key=key, account=account)  # fmt: skip
    report = json.loads(drift.stdout)
    kinds = report["summary"]["by_kind"]
    assert (kinds["modified"], kinds["deleted"], kinds["reordered"]) == (0, 0, 0), report["findings"]
    assert report["stacks"][0]["unchecked_types"] == [], report["stacks"]
    coverage = {c["type"]: c["ratio"] for c in report["coverage"]}
    assert set(coverage) == set(SPECS) and all(r == 1.0 for r in coverage.values()), report["coverage"]
    assert [f for f in report["findings"] if f["kind"] == "unmanaged"] == []
    assert "md5-secret-7731" not in drift.stdout
