"""Regenerates the golden previews: real ``pulumi preview --json`` output against the emulator.

- ``review-preview.json``: creates, updates, a replace, deletes and firewall rule moves.
- ``preview-syntax-error.json`` / ``preview-resource-error.json``: what a failed preview prints
  (a program that does not parse; a policy resource whose check fails).
- ``security-preview.json`` (+ ``security-state.json``, the stack's state before it, and
  ``security-core-state.json``, another stack's): names, an adoption, a deleted host, group
  members, and firewall changes that loosen security.
- ``fleet-preview.json.gz``: the first preview of a 60-branch fleet (size test).

The golden tests read the stored JSON so they run in milliseconds; the slow tests in
``tests/test_review_golden.py`` regenerate some of them with the real CLI and compare the reviews.

    PATH="$(scripts/setup | tail -n 1):$PATH" .venv/bin/python tests/golden/make_preview.py [NAME...]
"""

from __future__ import annotations

import gzip
import json
import re
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

# A generic program: everything comes from desired.json, so each scenario is data.
PROGRAM = """
import json
import pulumi
import pulumi_cato as cato
from pulumi_cato.firewall import InternetFirewallPolicy, WanFirewallPolicy

spec = json.load(open("desired.json"))
opts = lambda key: pulumi.ResourceOptions(import_=spec.get("import", {}).get(key))
sites = {name: cato.SocketSite(name, opts=opts(name), **args) for name, args in spec["sites"].items()}


def site_id(ref):
    return sites[ref].id if ref in sites else ref  # else a literal id: a site this program does not manage


made = []
for kind, cls in (("ranges", cato.NetworkRange), ("bgp", cato.BgpPeer), ("hosts", cato.StaticHost)):
    for name, args in spec.get(kind, {}).items():
        args = dict(args)
        made.append(cls(name, site_id=site_id(args.pop("site")), opts=opts(name), **args))
for name, args in spec.get("groups", {}).items():  # members are named: create them first
    cato.Group(name, opts=pulumi.ResourceOptions.merge(opts(name), pulumi.ResourceOptions(depends_on=made)), **args)
after = pulumi.ResourceOptions(depends_on=[*sites.values(), *made])  # rules name sites and hosts
for name, args in spec.get("policies", {}).items():
    InternetFirewallPolicy(name, opts=pulumi.ResourceOptions.merge(opts(name), after), **args)
for name, args in spec.get("wan", {}).items():
    WanFirewallPolicy(name, opts=pulumi.ResourceOptions.merge(opts(name), after), **args)
"""


def site(name: str, subnet: str, country: str = "PT", tz: str = "Europe/Lisbon", **extra) -> dict:
    return {
        "name": name,
        "native_range": subnet,
        "location": {"country_code": country, "timezone": tz},
        **extra,
    }


def rule(name: str, action: str = "BLOCK", **extra) -> dict:
    return {"name": name, "action": action, **extra}


SECRET_BEFORE, SECRET_AFTER = "md5-key-before-9f2", "md5-key-after-4c1"

BEFORE = {
    "sites": {
        "lisbon": site("Lisbon", "10.40.0.0/24", description="branch"),
        "porto": site("Porto", "10.41.0.0/24"),
        "faro": site("Faro", "10.42.0.0/24"),
    },
    "ranges": {
        "lisbon-printers": {"site": "lisbon", "name": "Printers", "subnet": "10.40.8.0/24"},
        "faro-lab": {"site": "faro", "name": "Lab", "subnet": "10.42.8.0/24"},
    },
    "bgp": {"lisbon-core": {"site": "lisbon", "name": "core", "peer_ip": "10.40.0.2", "peer_asn": 65001,
                            "cato_asn": 65000, "default_action": "ACCEPT", "md5_auth_key": SECRET_BEFORE}},
    "policies": {
        "corp": {
            "sections": [
                {"name": "Corporate", "rules": [rule("Block ads"), rule("Allow updates", "ALLOW"), rule("Block gaming")]},
                {"name": "Guests", "rules": [rule("Guest web", "ALLOW"), rule("Guest block")]},
            ]
        }
    },
}  # fmt: skip

AFTER = {
    "sites": {
        # update in place
        "lisbon": site("Lisbon", "10.40.0.0/24", description="branch office, 2nd floor"),
        # replace: Cato cannot change a socket model in place
        "porto": site("Porto", "10.41.0.0/24", connection_type="SOCKET_X1700"),
        # create, with a range
        "braga": site("Braga", "10.43.0.0/24"),
        # faro: deleted, with its range
    },
    "ranges": {
        "lisbon-printers": {"site": "lisbon", "name": "Printers", "subnet": "10.40.8.0/24", "vlan": 8,
                            "range_type": "VLAN", "local_ip": "10.40.8.1"},
        "braga-lan": {"site": "braga", "name": "LAN", "subnet": "10.43.8.0/24"},
    },
    # the secret changes (the review must not show it) and so does the metric
    "bgp": {"lisbon-core": {"site": "lisbon", "name": "core", "peer_ip": "10.40.0.2", "peer_asn": 65001,
                            "cato_asn": 65000, "default_action": "ACCEPT", "md5_auth_key": SECRET_AFTER,
                            "metric": 50}},
    "policies": {
        "corp": {
            "sections": [
                {"name": "Corporate", "rules": [rule("Allow updates", "ALLOW"), rule("Block gaming"),
                                                 rule("Block ads", description="ads and trackers")]},
                {"name": "Guests", "rules": [rule("Guest block"), rule("Guest web", "ALLOW"), rule("Guest mail", "ALLOW")]},
            ]
        }
    },
}  # fmt: skip


# -- running pulumi against the emulator -----------------------------------------------------------------
@contextmanager
def emulator(fixture: dict | None = None) -> Iterator:
    from emu_helpers import base_fixture

    from catoiac.emulator.limits import RateLimitConfig
    from catoiac.emulator.server import EmulatorServer

    with EmulatorServer(rate_limits=RateLimitConfig(enabled=False)) as emu:
        emu.emulator.seed(fixture or base_fixture())
        yield emu


def stack(root: Path, emu, name: str, program: str = PROGRAM):
    """A new stack of a project in ``root`` configured for the emulator."""
    from pulumi_helpers import PulumiWorkspace

    ws = PulumiWorkspace(root=root, stack=name)
    ws.write_project(program)
    return ws.use_emulator(emu)  # the account, the endpoint and the secret key (emu_helpers')


def up(ws, desired: dict) -> None:
    (ws.project_dir / "desired.json").write_text(json.dumps(desired))
    ws.run("up", "--yes", "--skip-preview")


def preview(ws, desired: dict, *, check: bool = True) -> dict:
    (ws.project_dir / "desired.json").write_text(json.dumps(desired))
    res = ws.run("preview", "--json", check=check)
    return scrub(json.loads(res.stdout), ws)


def scrub(value, ws=None):
    """Drop what differs between machines and runs and says nothing about the change."""
    if isinstance(value, dict):
        return {
            k: ("http://127.0.0.1:8787/api/v1/graphql2" if k == "cato:endpoint" else scrub(v, ws))
            for k, v in value.items()
            if k not in ("stackTrace", "sourcePosition", "created", "modified")
        }
    if isinstance(value, list):
        return [scrub(v, ws) for v in value]
    if isinstance(value, str) and ws is not None:  # paths in error messages
        value = value.replace(str(ws.project_dir), "/home/runner/work/infra/infra")
        value = re.sub(r'File "[^"]*/(site-packages|bin|lib/python3\.\d+)/', r'File "/opt/\1/', value)
    return value


# -- scenarios ----------------------------------------------------------------------------------------
def generate() -> dict:
    """``review-preview.json``."""
    with tempfile.TemporaryDirectory() as tmp, emulator() as emu:
        ws = stack(Path(tmp), emu, "review")
        up(ws, BEFORE)
        return preview(ws, AFTER)


def generate_failures() -> dict[str, dict]:
    """``preview-syntax-error.json`` and ``preview-resource-error.json``: pulumi exits 1 and still
    prints a JSON document, whose diagnostics hold the errors."""
    with tempfile.TemporaryDirectory() as tmp, emulator() as emu:
        ws = stack(Path(tmp), emu, "review")
        up(ws, BEFORE)
        (ws.project_dir / "__main__.py").write_text(PROGRAM + "\nsites['lisbon'].name.apply(print(\n")
        syntax = preview(ws, AFTER, check=False)
        (ws.project_dir / "__main__.py").write_text(PROGRAM)
        bad = json.loads(json.dumps(AFTER))
        bad["policies"]["corp"]["sections"][0]["rules"].append(rule("Block ads"))  # a duplicate name
        resource = preview(ws, bad, check=False)
    return {"preview-syntax-error.json": syntax, "preview-resource-error.json": resource}


SEVILLA = {"name": "Sevilla", "connection_type": "SOCKET_X1500", "country_code": "ES",
           "timezone": "Europe/Madrid", "native_range": "10.60.0.0/24"}  # fmt: skip
CORE = {"sites": {"madrid": site("Madrid", "10.50.0.0/24", "ES", "Europe/Madrid")}}

WEB_APPS = [{"id": "facebook"}, {"name": "TikTok"}, {"id": "box"}, {"id": "dropbox"}]


def security(madrid: str, sevilla: str | None) -> tuple[dict, dict]:
    """(before, after) of the security scenario; ``madrid``: the id of a site another stack manages."""
    before = {
        "sites": {"lisbon": site("Lisbon", "10.40.0.0/24")},
        "hosts": {
            "lisbon-printer": {"site": "lisbon", "name": "printer", "ip": "10.40.0.5"},
            "lisbon-nas": {"site": "lisbon", "name": "nas", "ip": "10.40.0.9", "mac_address": "00:11:22:33:44:99"},
            "madrid-cam": {"site": madrid, "name": "camera", "ip": "10.50.0.20"},
        },
        "ranges": {"madrid-voice": {"site": madrid, "name": "Voice", "subnet": "10.50.20.0/24"}},
        "groups": {"branch-assets": {"name": "Branch assets", "members": [
            {"type": "SITE", "id": madrid}, {"type": "HOST", "name": "printer"}]}},
        "policies": {"internet": {"sections": [
            {"name": "Lisbon", "rules": [
                rule("Block social", source={"site": ["Lisbon"]}, destination={"application": WEB_APPS[:2]}),
                rule("Block gambling", destination={"app_category": ["Gambling"]}),
                rule("Allow updates", "ALLOW", source={"subnet": ["10.40.0.0/24"]},
                     destination={"domain": ["windowsupdate.com"]}, service={"standard": ["HTTPS"]}),
                rule("Block torrents", destination={"app_category": ["Anonymizers"]}),
                rule("Block legacy VPN", source={"site": ["Lisbon"]}, service={"standard": ["SSH"]}),
            ]},
            {"name": "Lisbon guests", "rules": [
                rule("Guest web", "ALLOW", source={"subnet": ["10.40.50.0/24"]},
                     service={"standard": ["HTTP", "HTTPS"]}),
            ]},
        ]}},
        "wan": {"wan": {"sections": [{"name": "Lisbon WAN", "rules": [
            rule("Lisbon to DC", "ALLOW", direction="TO", source={"site": ["Lisbon"]},
                 destination={"subnet": ["10.0.0.0/24"]}, service={"standard": ["HTTPS"]}),
            rule("No branch to branch", source={"site": ["Lisbon"]}, destination={"site": [{"id": madrid}]}),
        ]}]}},
    }  # fmt: skip
    after = json.loads(json.dumps(before))
    after["sites"]["sevilla"] = site("Sevilla", "10.60.0.0/24", "ES", "Europe/Madrid")
    after["import"] = {"sevilla": sevilla} if sevilla else {}
    del after["hosts"]["lisbon-nas"]  # a deleted host: the review shows its IP
    after["hosts"]["madrid-cam"]["ip"] = "10.50.0.21"  # grouped under Madrid, named from the other stack
    after["groups"]["branch-assets"]["members"] = [
        {"type": "SITE", "id": madrid},
        {"type": "SITE", "name": "Lisbon"},
    ]
    rules = after["policies"]["internet"]["sections"][0]["rules"]
    rules[0]["destination"]["application"] = WEB_APPS  # a long rule: shown whole
    rules[0]["tracking"] = {"event": {"enabled": True}, "alert": {"enabled": True, "frequency": "DAILY"}}
    del rules[1]  # a removed BLOCK rule
    rules[1]["source"] = {}  # "Allow updates": the source restriction removed
    rules[2]["action"] = "ALLOW"  # "Block torrents": BLOCK -> ALLOW
    rules[3] = rule(
        "Allow admin SSH", "ALLOW", source={"subnet": ["10.40.0.0/24"]}, service={"standard": ["SSH"]}
    )
    # a new ALLOW rule above a BLOCK rule that matches some of the same traffic
    rules.insert(0, rule("Allow marketing social", "ALLOW", source={"subnet": ["10.40.30.0/24"]},
                         destination={"application": [{"id": "facebook"}]}))  # fmt: skip
    after["policies"]["internet"]["sections"][1]["rules"][0]["source"] = {
        "subnet": ["10.40.0.0/16"]
    }  # broader
    wan = after["wan"]["wan"]["sections"][0]["rules"]
    wan[0]["destination"] = {"subnet": ["10.0.0.0/16"]}  # a broader destination
    wan.append(rule("Lisbon to Madrid voice", "ALLOW", source={"site": ["Lisbon"]},
                    destination={"site": [{"id": madrid}]}, service={"standard": ["SIP"]}))  # fmt: skip
    return before, after


def generate_security() -> dict[str, dict]:
    """``security-preview.json`` and ``security-core-state.json``."""
    from emu_helpers import base_fixture

    fixture = base_fixture()
    fixture["accounts"][0]["sites"] = [SEVILLA]  # brownfield: the program adopts it
    with tempfile.TemporaryDirectory() as tmp, emulator(fixture) as emu:
        core = stack(Path(tmp) / "core", emu, "core")
        up(core, CORE)
        state = json.loads(core.run("stack", "export").stdout)
        madrid = next(r["id"] for r in state["deployment"]["resources"] if r["urn"].endswith("::madrid"))
        sevilla = _site_id(emu, "Sevilla")
        ws = stack(Path(tmp) / "main", emu, "prod")
        before, after = security(madrid, sevilla)
        up(ws, before)
        own = json.loads(ws.run("stack", "export").stdout)  # names the unchanged sites
        out = preview(ws, after)
    return {
        "security-preview.json": out,
        "security-state.json": _slim_state(own),
        "security-core-state.json": _slim_state(state),
    }


def _site_id(emu, name: str) -> str:
    from emu_helpers import ACCOUNT, KEY

    from catoiac.client import CatoClient
    from catoiac.config import ClientConfig
    from catoiac.readpath import AccountReader

    client = CatoClient(ClientConfig.from_env(api_key=KEY, account_id=ACCOUNT, base_url=emu.url))
    sites = AccountReader(client).get("sites")
    return next(i for i, s in sites.items() if s["name"] == name)


def _slim_state(export: dict) -> dict:
    """An exported state without the secrets provider's salt and the pickled dynamic provider."""
    dep = export["deployment"]
    resources = [
        {**r, "inputs": {k: v for k, v in (r.get("inputs") or {}).items() if k != "__provider"},
         "outputs": {k: v for k, v in (r.get("outputs") or {}).items() if k != "__provider"}}
        for r in dep["resources"]
    ]  # fmt: skip
    return scrub({"version": export["version"], "deployment": {"manifest": {"time": "2026-01-01T00:00:00Z"}, "resources": resources}})  # fmt: skip


REGIONS = ["North", "Centre", "Lisbon area", "Alentejo", "Algarve", "Islands"]


def fleet(branches: int = 60) -> dict:
    """A fleet as a network team writes it: per branch a site, two ranges, a printer, and per
    region a firewall section with each branch's rules."""
    desired: dict = {"sites": {}, "ranges": {}, "hosts": {},
                     "policies": {"fleet": {"sections": [{"name": r, "rules": []} for r in REGIONS]}}}  # fmt: skip
    for i in range(branches):
        key, name = f"branch-{i + 1:02d}", f"Branch {i + 1:02d}"
        net = f"10.{100 + i}"
        desired["sites"][key] = site(name, f"{net}.0.0/24", description=f"{REGIONS[i % 6]} branch {i + 1}")
        desired["ranges"][f"{key}-voice"] = {"site": key, "name": "Voice", "subnet": f"{net}.20.0/24", "vlan": 20,
                                             "range_type": "VLAN", "local_ip": f"{net}.20.1"}  # fmt: skip
        desired["ranges"][f"{key}-guests"] = {"site": key, "name": "Guests", "subnet": f"{net}.50.0/24"}
        desired["hosts"][f"{key}-printer"] = {"site": key, "name": "printer", "ip": f"{net}.0.10"}
        desired["policies"]["fleet"]["sections"][i % 6]["rules"] += [
            rule(f"{name}: block social", source={"site": [name]}, destination={"application": WEB_APPS[:2]},
                 tracking={"event": {"enabled": True}}),
            rule(f"{name}: guests web only", "ALLOW", source={"subnet": [f"{net}.50.0/24"]},
                 service={"standard": ["HTTP", "HTTPS"]}),
        ]  # fmt: skip
    return desired


def generate_fleet() -> dict:
    """``fleet-preview.json.gz``: the first preview of the fleet (everything is created)."""
    with tempfile.TemporaryDirectory() as tmp, emulator() as emu:
        ws = stack(Path(tmp), emu, "fleet")
        return preview(ws, fleet())


def write(name: str, data: dict) -> None:
    text = json.dumps(data, indent=1, sort_keys=True) + "\n"
    if name.endswith(".gz"):
        (HERE / name).write_bytes(gzip.compress(text.encode(), mtime=0))
    else:
        (HERE / name).write_text(text)
    print(f"wrote {HERE / name}")


if __name__ == "__main__":
    wanted = set(sys.argv[1:]) or {"review", "failures", "security", "fleet"}
    if "review" in wanted:
        write("review-preview.json", generate())
    if "failures" in wanted:
        for name, data in generate_failures().items():
            write(name, data)
    if "security" in wanted:
        for name, data in generate_security().items():
            write(name, data)
    if "fleet" in wanted:
        write("fleet-preview.json.gz", generate_fleet())
