"""Regenerates ``review-preview.json``: a real ``pulumi preview --json`` against the emulator, with
creates, updates, replaces, deletes and firewall rule moves. The golden test reads the stored JSON so
it runs in milliseconds; ``test_review_golden.py::test_stored_preview_is_what_pulumi_produces`` reruns
this and checks the review is unchanged.

    PATH="$(scripts/setup | tail -n 1):$PATH" .venv/bin/python tests/golden/make_preview.py
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

PROGRAM = """
import json
import pulumi
import pulumi_cato as cato
from pulumi_cato.firewall import InternetFirewallPolicy

spec = json.load(open("desired.json"))
sites = {name: cato.SocketSite(name, **args) for name, args in spec["sites"].items()}
for name, args in spec["ranges"].items():
    args = dict(args)
    cato.NetworkRange(name, site_id=sites[args.pop("site")].id, **args)
for name, args in spec["bgp"].items():
    args = dict(args)
    cato.BgpPeer(name, site_id=sites[args.pop("site")].id, **args)
for name, args in spec["policies"].items():
    InternetFirewallPolicy(name, **args)
"""


def site(name: str, subnet: str, **extra) -> dict:
    return {"name": name, "native_range": subnet, "location": {"country_code": "PT", "timezone": "Europe/Lisbon"},
            **extra}  # fmt: skip


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


def generate() -> dict:
    from emu_helpers import ACCOUNT, KEY
    from pulumi_helpers import PulumiWorkspace

    from catoiac.emulator.limits import RateLimitConfig
    from catoiac.emulator.server import EmulatorServer

    with (
        tempfile.TemporaryDirectory() as tmp,
        EmulatorServer(rate_limits=RateLimitConfig(enabled=False)) as emu,
    ):
        from emu_helpers import base_fixture

        emu.emulator.seed(base_fixture())
        ws = PulumiWorkspace(root=Path(tmp), stack="review")
        ws.write_project(PROGRAM)
        ws.init_stack()
        ws.run("config", "set", "cato:accountId", ACCOUNT)
        ws.run("config", "set", "cato:endpoint", emu.url)
        ws.run("config", "set", "--secret", "cato:apiKey", KEY)
        (ws.project_dir / "desired.json").write_text(json.dumps(BEFORE))
        ws.run("up", "--yes", "--skip-preview")
        (ws.project_dir / "desired.json").write_text(json.dumps(AFTER))
        preview = json.loads(ws.run("preview", "--json").stdout)
    return scrub(preview)


def scrub(value):
    """Drop what differs between machines and runs and says nothing about the change."""
    if isinstance(value, dict):
        return {
            k: ("http://127.0.0.1:8787/api/v1/graphql2" if k == "cato:endpoint" else scrub(v))
            for k, v in value.items()
            if k not in ("stackTrace", "sourcePosition", "created", "modified")
        }
    if isinstance(value, list):
        return [scrub(v) for v in value]
    return value


if __name__ == "__main__":
    (HERE / "review-preview.json").write_text(json.dumps(generate(), indent=1, sort_keys=True) + "\n")
    print(f"wrote {HERE / 'review-preview.json'}")
