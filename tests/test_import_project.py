"""The project ``catoiac import`` writes, and its options, against the emulator over HTTP (the CLI
in-process; the end-to-end round trip with pulumi is ``test_import_e2e``): deterministic and
ruff-clean output, raw ids only in ``import_``, ``--site``, ``--types``, ``--stack``,
``--project-name``, incremental imports, refused folders, an unreachable account, and an object the
program cannot express skipped with its reason in the README. API calls are counted at the
emulator: the read is per collection and page, not per object."""

from __future__ import annotations

import copy
import json
import re
import socket
import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from catoiac.cli import main
from catoiac.emulator.control import EmulatorControl
from catoiac.emulator.limits import RateLimitConfig

REPO = Path(__file__).resolve().parents[1]
SMALL = yaml.safe_load((REPO / "examples/fixtures/small.yaml").read_text())
ACCOUNT = "1001"
KEY = "emulator-catoiac-key-1001"
RUFF = REPO / ".venv/bin/ruff"


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def with_site(name: str, native_range: str) -> dict:
    """The small fixture with one more site."""
    fx = copy.deepcopy(SMALL)
    site = {"name": name, "country_code": "PT", "timezone": "Europe/Lisbon", "native_range": native_range}
    fx["accounts"][0]["sites"].append(site)
    return fx


@pytest.fixture
def emu(emulator_factory):
    return emulator_factory(copy.deepcopy(SMALL), rate_limits=RateLimitConfig(enabled=False))


def run(url: str, *args: str, ok: bool = True):
    env = {"CATO_TOKEN": KEY, "CATO_ACCOUNT_ID": ACCOUNT, "CATO_BASEURL": url}
    result = CliRunner().invoke(main, ["import", *args], env=env)
    if ok:
        assert result.exit_code == 0, (result.output, result.exception)
    return result


def test_two_imports_are_byte_identical_and_a_second_into_the_folder_writes_nothing(emu, tmp_path):
    run(emu.url, "--out", str(tmp_path / "a"))
    run(emu.url, "--out", str(tmp_path / "b"))
    first = tree(tmp_path / "a")
    assert first == tree(tmp_path / "b")
    assert {"Pulumi.yaml", "requirements.txt", "README.md", "__main__.py", "sites/hq.py"} <= set(first)
    again = run(emu.url, "--out", str(tmp_path / "a"))
    assert "files: 0 written" in again.output, again.output
    assert tree(tmp_path / "a") == first


def test_the_written_program_is_ruff_clean_and_compiles(emu, tmp_path):
    out = tmp_path / "p"
    run(emu.url, "--out", str(out))
    # Run as its user runs it, in the project folder: its packages (sites, policies) are first-party.
    rules = ["--isolated", "--select", "E,F,W,I,B,UP", "--target-version", "py311"]
    check = subprocess.run(
        [RUFF, "check", "--no-cache", *rules, "."], cwd=out, capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout
    fmt = subprocess.run(
        [RUFF, "format", "--isolated", "--check", "--diff", str(out)], capture_output=True, text=True
    )
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr
    for path in out.rglob("*.py"):
        compile(path.read_text(), str(path), "exec")


def test_raw_ids_appear_only_in_import_and_references_go_through_the_programs_objects(emu, tmp_path):
    out = tmp_path / "p"
    run(emu.url, "--out", str(out))
    manifest = json.loads((out / ".catoiac-import.json").read_text())
    ids = {key.split(":", 1)[1] for key in manifest["items"]}
    for path in out.rglob("*.py"):
        for line in path.read_text().splitlines():
            if "import_=" in line:
                continue
            for oid in ids:
                assert f'"{oid}"' not in line, (path.name, line)
    hq = (out / "sites/hq.py").read_text()
    assert hq.count("site_id=site.id,") == 6  # 2 ports, 2 ranges, 2 hosts: through the site resource
    groups = (out / "account/groups.py").read_text()
    assert '{"type": "SITE", "id": london.site.id}' in groups
    ifw = (out / "policies/internet_firewall.py").read_text()
    assert '"source": {"site": [hq.site.name, london.site.name]}' in ifw
    assert "from sites import hq, london" in ifw
    assert "order.\n\nRules name sites" in ifw  # the docstring keeps its paragraphs
    # No input equal to its default: the rules of this policy are BLOCK and enabled by default.
    assert '"enabled": True' not in ifw and '"action": "BLOCK"' not in ifw


def test_site_option_writes_that_site_alone_and_a_later_site_adds_its_module_touching_nothing_else(
    emu, tmp_path
):
    out = tmp_path / "p"
    run(emu.url, "--out", str(out), "--site", "London")
    files = tree(out)
    assert {p for p in files if p.endswith(".py")} == {"__main__.py", "sites/__init__.py", "sites/london.py"}
    london = files["sites/london.py"]
    assert b'name="London"' in london and b"HQ" not in london
    # A second site, by id: its module is added; London's module and its names are untouched.
    result = run(emu.url, "--out", str(out), "--site", "100001")
    after = tree(out)
    assert after["sites/london.py"] == london
    assert b'name="HQ"' in after["sites/hq.py"]
    assert "files:" in result.output
    # A full import later keeps both modules as they are, and adds the rest.
    run(emu.url, "--out", str(out))
    full = tree(out)
    assert full["sites/london.py"] == london and full["sites/hq.py"] == after["sites/hq.py"]
    assert "policies/internet_firewall.py" in full and "sites/tel_aviv.py" in full
    # ... and is what a fresh full import writes.
    run(emu.url, "--out", str(tmp_path / "fresh"))
    assert {k: v for k, v in full.items() if k != ".catoiac-import.json"} == {
        k: v for k, v in tree(tmp_path / "fresh").items() if k != ".catoiac-import.json"
    }


def test_an_unknown_site_is_refused_with_a_suggestion_before_anything_is_written(emu, tmp_path):
    result = run(emu.url, "--out", str(tmp_path / "p"), "--site", "Londn", ok=False)
    assert result.exit_code != 0
    assert "--site" in result.output and "London" in result.output, result.output
    assert not (tmp_path / "p").exists()


def test_types_option_imports_only_those_types_and_refuses_an_unknown_one(emu, tmp_path):
    out = tmp_path / "p"
    run(emu.url, "--out", str(out), "--types", "SocketSite,NetworkRange")
    code = "\n".join(p.read_text() for p in out.rglob("*.py"))
    assert "cato.SocketSite(" in code and "cato.NetworkRange(" in code
    assert "cato.StaticHost(" not in code and "cato.SocketInterface(" not in code
    assert not (out / "policies").exists() and not (out / "account").exists()
    bad = run(emu.url, "--out", str(tmp_path / "q"), "--types", "SocketSite,Firewall", ok=False)
    assert bad.exit_code != 0
    assert "--types: unknown type(s) Firewall" in bad.output and "NetworkRange" in bad.output, bad.output
    assert not (tmp_path / "q").exists()


def test_stack_and_project_name_options_write_config_without_the_key_and_another_project_is_refused(
    emu, tmp_path
):
    out = tmp_path / "p"
    run(emu.url, "--out", str(out), "--stack", "prod", "--project-name", "acme-net")
    assert yaml.safe_load((out / "Pulumi.yaml").read_text())["name"] == "acme-net"
    stack = yaml.safe_load((out / "Pulumi.prod.yaml").read_text())
    assert stack == {"config": {"cato:accountId": ACCOUNT, "cato:endpoint": emu.url}}
    assert all(KEY.encode() not in data for data in tree(out).values())
    assert "pulumi stack init prod" in (out / "README.md").read_text()
    # The project name is remembered; another project in the same folder is refused unless --force.
    run(emu.url, "--out", str(out))
    assert yaml.safe_load((out / "Pulumi.yaml").read_text())["name"] == "acme-net"
    other = run(emu.url, "--out", str(out), "--project-name", "other", ok=False)
    assert other.exit_code != 0 and "another import" in other.output and "--force" in other.output
    run(emu.url, "--out", str(out), "--project-name", "other", "--force")
    assert yaml.safe_load((out / "Pulumi.yaml").read_text())["name"] == "other"


def test_a_folder_holding_other_files_is_refused_unless_force(emu, tmp_path):
    out = tmp_path / "p"
    out.mkdir()
    (out / "main.tf").write_text("# someone else's\n")
    refused = run(emu.url, "--out", str(out), ok=False)
    assert refused.exit_code != 0
    assert "catoiac import did not write (main.tf" in refused.output and "--force" in refused.output
    assert sorted(p.name for p in out.iterdir()) == ["main.tf"]
    run(emu.url, "--out", str(out), "--force")
    assert (out / "Pulumi.yaml").is_file() and (out / "main.tf").read_text() == "# someone else's\n"


def test_a_file_edited_since_the_import_is_kept_and_reported(emu, tmp_path):
    out = tmp_path / "p"
    run(emu.url, "--out", str(out))
    hq = out / "sites/hq.py"
    edited = hq.read_text().replace('description="Head office"', 'description="Head office (ours)"')
    hq.write_text(edited)
    result = run(emu.url, "--out", str(out))
    assert hq.read_text() == edited
    assert "kept as you edited them (sites/hq.py)" in result.output, result.output


def test_an_unreachable_account_gives_a_clear_error_and_writes_nothing(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: nothing listens there
    result = run(f"http://127.0.0.1:{port}/api/v1/graphql2", "--out", str(tmp_path / "p"), ok=False)
    assert result.exit_code == 1, result.output
    assert f"127.0.0.1:{port}" in result.output and "Traceback" not in result.output, result.output
    assert not (tmp_path / "p").exists()


def test_a_wrong_key_is_a_clear_error_and_the_key_is_not_shown(emu, tmp_path):
    env = {"CATO_TOKEN": KEY + "-typo", "CATO_ACCOUNT_ID": ACCOUNT, "CATO_BASEURL": emu.url}
    result = CliRunner().invoke(main, ["import", "--out", str(tmp_path / "p")], env=env)
    assert result.exit_code == 1 and "API key" in result.output, result.output
    assert KEY not in result.output
    assert not (tmp_path / "p").exists()


def test_an_object_the_program_cannot_express_is_skipped_with_its_reason_in_the_readme(
    emulator_factory, tmp_path
):
    emu = emulator_factory(
        with_site("Lis\u202ebon", "10.9.0.0/24"), rate_limits=RateLimitConfig(enabled=False)
    )
    out = tmp_path / "p"
    result = run(emu.url, "--out", str(out))
    assert "not imported: 1 (README.md says why)" in result.output
    readme = (out / "README.md").read_text()
    row = next(line for line in readme.splitlines() if line.startswith("| SocketSite | Lis"))
    # The name is shown with its override character escaped, never as raw bidi text.
    assert row.startswith(
        "| SocketSite | Lis\\u202ebon | catoiac's checks refuse it as it is in Cato: name:"
    ), row
    assert "RIGHT-TO-LEFT OVERRIDE" in row
    assert all("\u202e" not in text.decode() for text in tree(out).values())
    # Its ports are still imported, on a site found by lookup rather than declared.
    lisbon = (out / "sites/lisbon.py").read_text()
    assert 'site = cato.get_site(name="Lis\\u202ebon")' in lisbon and "cato.SocketSite(" not in lisbon
    # The README says what was imported.
    assert "| SocketSite | 3 |" in readme and "| NetworkRange | 3 |" in readme


def _calls(emu, out: Path) -> dict[str, int]:
    with EmulatorControl(emu.base_url) as ctl:
        ctl.reset_stats()
        run(emu.url, "--out", str(out))
        return ctl.stats()


def test_the_import_reads_per_collection_and_page_not_per_object(emulator_factory, tmp_path):
    small = _calls(
        emulator_factory(copy.deepcopy(SMALL), rate_limits=RateLimitConfig(enabled=False)), tmp_path / "a"
    )
    fx = copy.deepcopy(SMALL)
    acct = fx["accounts"][0]
    for n in range(20):  # 20 more sites, each with 3 ranges and 2 hosts, and a rule per site
        acct["sites"].append({
            "name": f"Branch {n}", "country_code": "PT", "timezone": "Europe/Lisbon",
            "native_range": f"10.{100 + n}.0.0/24",
            "ranges": [{"name": f"R{k}", "subnet": f"10.{100 + n}.{10 + k}.0/24"} for k in range(3)],
            "hosts": [{"name": f"h{k}", "ip": f"10.{100 + n}.0.{10 + k}"} for k in range(2)],
        })  # fmt: skip
        acct["policies"]["internet_firewall"]["sections"][0]["rules"].append(
            {
                "name": f"Branch {n} web",
                "action": "ALLOW",
                "enabled": True,
                "source": {"site": [f"Branch {n}"]},
            }
        )
    big = _calls(emulator_factory(fx, rate_limits=RateLimitConfig(enabled=False)), tmp_path / "b")
    assert big.pop("bgpPeerList") == 23 and small.pop("bgpPeerList") == 3  # Cato lists BGP peers per site
    assert big == small, (small, big)  # everything else: one call per collection (and page)
    # One query per policy family, one lookup per entity type, one call for every other collection
    # (sites, groups, admins, licenses, private apps, app connectors...).
    assert small.pop("policy") == 12 and small.pop("entityLookup") <= 6, small
    assert set(small.values()) == {1}, small
    assert (
        len(
            re.findall(
                r"cato\.NetworkRange\(", "".join(p.read_text() for p in (tmp_path / "b").rglob("*.py"))
            )
        )
        == 63
    )


def test_names_are_unique_slugs_and_stay_when_a_site_is_renamed_in_cato(emulator_factory, tmp_path):
    from sites_support import UPDATE_SITE, Api

    emu = emulator_factory(with_site("Tel-Aviv", "10.3.0.0/24"), rate_limits=RateLimitConfig(enabled=False))
    out = tmp_path / "p"
    run(emu.url, "--out", str(out))
    manifest = json.loads((out / ".catoiac-import.json").read_text())
    resources = [(k.split(":")[0], v["resource"]) for k, v in manifest["items"].items()]
    assert len(set(resources)) == len(resources)  # unique per type
    assert sorted(manifest["site_modules"].values()) == ["hq", "london", "tel_aviv", "tel_aviv_2"]
    sites = {v["resource"] for k, v in manifest["items"].items() if k.startswith("SocketSite:")}
    assert sites == {"hq", "london", "tel-aviv", "tel-aviv-2"}
    # Renamed in the UI: the next import keeps the module, resource and variable names (the
    # state's URNs), and writes the new name.
    Api(emu.url, KEY).ok(UPDATE_SITE, a=ACCOUNT, s="100002", i={"name": "London West"})
    run(emu.url, "--out", str(out))
    london = (out / "sites/london.py").read_text()
    assert 'site = cato.SocketSite(\n    "london",\n    name="London West",' in london, london
    assert json.loads((out / ".catoiac-import.json").read_text())["items"] == manifest["items"]


def test_strings_longer_than_a_line_are_written_as_ruff_keeps_them(tmp_path):
    """A policy's import_ id names all its sections, and Cato descriptions run long: the literal is
    cut into an implicit concatenation in parentheses, under 88 columns, that ruff leaves as it is."""
    from catoiac.importer.pycode import Call, assign

    ids = "internetFirewall:" + ",".join(f"ifw section {i}" for i in range(30))
    opts = Call("pulumi.ResourceOptions", (), (("import_", ids),))
    rule = {"description": 'a "quoted" word ' * 12, "names": ["short", "x" * 200]}
    code = "\n".join(
        [
            "import pulumi",
            "import pulumi_cato as cato",
            "",
            assign("policy", Call("cato.P", ("p",), (("opts", opts),))),
        ]
    )
    code += "\n\n" + assign("rules", [rule]) + "\n"
    (tmp_path / "m.py").write_text(code)
    rules = ["--isolated", "--select", "E,F,W,I,B,UP", "--target-version", "py311", "--no-cache"]
    check = subprocess.run([RUFF, "check", *rules, "m.py"], cwd=tmp_path, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout
    fmt = subprocess.run([RUFF, "format", "--isolated", "--no-cache", "--check", "--diff", "m.py"], cwd=tmp_path,
                         capture_output=True, text=True)  # fmt: skip
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr
    scope: dict = {}
    exec(
        compile(code.replace("import pulumi_cato as cato", ""), "m.py", "exec"),
        {"cato": _Stub()},  # pulumi is the real one: ResourceOptions(import_=...)
        scope,
    )
    assert scope["rules"] == [rule] and scope["policy"]["opts"].import_ == ids


class _Stub:
    """Stands for pulumi_cato so the written module runs: a call returns its keyword arguments."""

    def __getattr__(self, name):
        return lambda *args, **kwargs: kwargs


def test_a_large_import_advises_its_first_up_without_pulumis_per_resource_state_saves():
    # Pulumi saves the whole state after each adopted resource: quadratic in the resources
    # (bench/import_large.py). The README says when to skip those saves, why it is safe, and for
    # which `up` only.
    from catoiac.importer.project import readme

    small = readme("p", "1001", {"SocketSite": 3, "NetworkRange": 30}, [], [], [], "prod", None)
    assert "PULUMI_SKIP_CHECKPOINTS" not in small
    assert "\npulumi up  " in small
    large = readme("p", "1001", {"SocketSite": 200, "NetworkRange": 2000}, [], [], [], "prod", None)
    assert "\nPULUMI_SKIP_CHECKPOINTS=true pulumi up  # adopts every object" in large
    assert "with 2,200 resources" in large and "Leave it off for" in large


def test_an_ipsec_v2_site_is_imported_as_an_ipsec_site_with_its_keys_from_secret_config(emu, tmp_path):
    """An account with a Socket site and an IPsec IKEv2 site: the IPsec site is an IpsecSite (never a
    refused SocketSite), in its own site module; each tunnel's pre-shared key, write-only in Cato,
    is read from a stack secret the README lists, and no key or stand-in is written anywhere."""
    from objects_support import PSKS, ipsec_inputs

    from catoiac.client import CatoClient
    from catoiac.config import ClientConfig
    from catoiac.importer.model import WRITE_ONLY
    from catoiac.resources.engine import Engine
    from catoiac.resources.specs import SPECS
    from catoiac.session import Session

    session = Session(CatoClient(ClientConfig(api_key=KEY, account_id=ACCOUNT, base_url=emu.url)))
    ipsec = Engine(SPECS["IpsecSite"], lambda: session)
    inputs, problems = ipsec.check({}, ipsec_inputs())
    assert problems == []
    site_id, _ = ipsec.create(inputs)

    out = tmp_path / "p"
    result = run(emu.url, "--out", str(out))
    manifest = json.loads((out / ".catoiac-import.json").read_text())
    assert f"IpsecSite:{site_id}" in manifest["items"] and f"SocketSite:{site_id}" not in manifest["items"]
    assert manifest["items"][f"IpsecSite:{site_id}"]["module"] == "sites/azure_east.py"
    readme = (out / "README.md").read_text()
    assert "Azure East" not in readme.split("## Not imported, and why")[1].split("## Layout")[0], readme
    keys = ["azure-east-primary-tunnel-1-psk", "azure-east-primary-tunnel-2-psk",
            "azure-east-secondary-tunnel-1-psk"]  # fmt: skip
    assert manifest["secrets"] == keys
    assert all(f"- `{k}`" in readme for k in keys), readme
    module = (out / "sites/azure_east.py").read_text()
    assert "site = cato.IpsecSite(" in module and f'import_="{site_id}"' in module, module
    assert all(f'config.require_secret("{k}")' in module for k in keys), module
    for text in [result.output, *(p.read_text() for p in out.rglob("*") if p.is_file())]:
        assert WRITE_ONLY not in text and not any(psk in text for psk in PSKS)
