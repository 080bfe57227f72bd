"""Every output path a BGP MD5 key could take, against the emulator over HTTP: ``catoiac audit``
(table and JSON), ``catoiac drift`` (report and its audit cache), and engine errors that echo the
previous or an unseen key. The CLIs run as subprocesses, as a user runs them."""

from __future__ import annotations

import json
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from emu_helpers import ACCOUNT, KEY, shared_derived_cache
from sites_support import Api, fixture

from catoiac.client import CatoClient
from catoiac.config import ClientConfig
from catoiac.drift.audit import AuditCache
from catoiac.emulator.control import EmulatorControl
from catoiac.emulator.limits import RateLimitConfig
from catoiac.errors import CatoError
from catoiac.resources import Engine
from catoiac.resources.specs import SPECS
from catoiac.session import Session

OLD_MD5 = "rt-bgp-md5-SECRET-42"
UI_MD5 = "ui-changed-md5-KEY-77"
SECRETS = (OLD_MD5, UI_MD5, KEY)
ENVELOPE = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "ciphertext": "v1:abc"}
SITES = [
    {"name": "HQ", "id": "100001", "country_code": "PT", "timezone": "Europe/Lisbon",
     "native_range": "10.1.0.0/24",
     "bgp_peers": [{"name": "core-router", "peer_ip": "10.1.0.2", "peer_asn": 65001, "cato_asn": 65000,
                    "md5_auth_key": OLD_MD5}]},
]  # fmt: skip
PEERS = """query($a: ID!) { site(accountId: $a) { bgpPeerList(input: {site: {by: ID, input: "100001"}}) {
  bgpPeer { id name md5AuthKey } } } }"""
UPDATE_PEER = """mutation($a: ID!, $i: UpdateBgpPeerInput!) { site(accountId: $a) {
  updateBgpPeer(input: $i) { bgpPeer { id } } } }"""


@pytest.fixture
def emu(emulator_factory):
    fx = fixture(SITES)
    # Cato records values "for some policies, such as" the firewalls (KB 4413273463953): a tenant whose
    # records carry a BGP key's values must still never show it.
    fx["accounts"][0]["audit_values"] = "all"
    return emulator_factory(fx, rate_limits=RateLimitConfig(enabled=False))


@pytest.fixture
def peer_id(emu) -> str:
    with Api(emu.url) as api:
        (peer,) = api.ok(PEERS, a=ACCOUNT)["site"]["bgpPeerList"]["bgpPeer"]
    assert peer["md5AuthKey"] == OLD_MD5
    return peer["id"]


def ui_changes_the_md5(emu, peer_id: str) -> None:
    """Alice changes the key in the UI: the audit feed records the old and new values."""
    with EmulatorControl(emu.base_url) as ctl:
        body = ctl.as_admin(ACCOUNT, "alice@example.com", UPDATE_PEER, {"a": ACCOUNT, "i": {"id": peer_id,
                            "md5AuthKey": UI_MD5}})  # fmt: skip
    assert not body.get("errors"), body
    with Api(emu.url) as api:  # the raw feed does carry both values: the test is not vacuous
        feed = api.ok(
            'query($a: [ID!]) { auditFeed(accountIDs: $a, timeFrame: "last.P1D") { accounts { records { fieldsMap } } } }',
            a=[ACCOUNT],
        )
    raw = json.dumps(feed)
    assert OLD_MD5 in raw and UI_MD5 in raw


def state(peer_id: str, md5: object = ENVELOPE) -> dict:
    """A stack holding the peer; ``md5=None``: the program set no key (so a key set in Cato is drift)."""
    inputs = {"site_id": "100001", "name": "core-router", "peer_ip": "10.1.0.2", "peer_asn": "65001",
              "cato_asn": "65000", **({"md5_auth_key": md5} if md5 else {})}  # fmt: skip
    return {
        "version": 3,
        "deployment": {
            "manifest": {"time": "2026-01-01T00:00:00Z"},
            "resources": [
                {
                    "urn": "urn:pulumi:dev::p::pulumi-python:dynamic/cato:BgpPeer::core-router",
                    "type": "pulumi-python:dynamic/cato:BgpPeer",
                    "custom": True,
                    "id": peer_id,
                    "inputs": {"__provider": ENVELOPE, **inputs},
                    "outputs": {"__provider": ENVELOPE, **inputs, "resource_id": peer_id},
                }
            ],
        },
    }


def catoiac(tmp_path: Path, emu, *args: str, data: dict) -> subprocess.CompletedProcess:
    path = tmp_path / "state.json"
    path.write_text(json.dumps(data))
    exe = shutil.which("catoiac", path=str(Path(sys.executable).parent))
    cmd = [exe, args[0], "--state-file", str(path), "--account-id", ACCOUNT, "--endpoint", emu.url,
           "--since", "2020-01-01T00:00:00Z", *args[1:]]  # fmt: skip
    env = {
        "PATH": "/usr/bin:/bin",
        "CATO_TOKEN": KEY,
        "CATOIAC_RATE_LIMIT_SCALE": "0.001",
        "HOME": str(tmp_path),
        **shared_derived_cache(),
    }
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    for secret in SECRETS:
        assert secret not in res.stdout + res.stderr, (secret, res.stdout + res.stderr)
    return res


def test_catoiac_audit_never_prints_a_bgp_md5_key_old_or_new(emu, peer_id, tmp_path):
    ui_changes_the_md5(emu, peer_id)
    table = catoiac(tmp_path, emu, "audit", "--name", "core-router", data=state(peer_id))
    assert table.returncode == 0, table.stderr
    assert "md5AuthKey: [secret] → [secret]" in table.stdout
    js = catoiac(tmp_path, emu, "audit", "--name", "core-router", "--format", "json", data=state(peer_id))
    (record,) = [r for r in json.loads(js.stdout)["records"] if r["change_type"] == "MODIFIED"]
    assert record["before"]["md5AuthKey"] == "[secret]" and record["after"]["md5AuthKey"] == "[secret]"


def test_catoiac_drift_masks_md5_keys_in_reports_and_keeps_its_cache_private(emu, peer_id, tmp_path):
    ui_changes_the_md5(emu, peer_id)
    cache = tmp_path / "cache"
    outputs = {}
    for fmt in ("json", "markdown", "table"):
        res = catoiac(
            tmp_path, emu, "drift", "--cache-dir", str(cache), "--format", fmt, data=state(peer_id, None)
        )
        assert res.returncode == 2, res.stdout + res.stderr
        outputs[fmt] = res.stdout
    # The key set in Cato is drift: shown as a masked value, attributed to alice with masked values.
    (finding,) = json.loads(outputs["json"])["findings"]
    change = next(c for c in finding["changes"] if c["path"] == "md5_auth_key")
    assert change["live"] == "[secret]" and change["attribution"]["cause"] == "ui"
    assert change["attribution"]["after"]["md5AuthKey"] == "[secret]"
    assert "`[secret]`" in outputs["markdown"] and "[secret]" in outputs["table"]
    (path,) = cache.glob("*.json")
    text = path.read_text()
    assert '"change_type": "MODIFIED"' in text or "MODIFIED" in text
    for secret in SECRETS:
        assert secret not in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    # The default cache folder (~/.cache/catoiac/audit) is private too.
    catoiac(tmp_path, emu, "drift", "--format", "json", data=state(peer_id))
    default = tmp_path / ".cache" / "catoiac" / "audit"
    assert stat.S_IMODE(default.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in default.glob("*.json"))


def test_a_cache_written_by_an_older_version_is_masked_and_made_private_when_opened(tmp_path):
    folder = tmp_path / "audit"
    folder.mkdir(mode=0o755)
    path = folder / f"{ACCOUNT}.json"
    record = {"hash": "h", "time": "2026-01-01T00:00:00Z", "actor_kind": "admin", "actor_id": "a",
              "actor_name": "Alice", "object_id": "500001", "object_name": "core-router", "object_type": "bgpPeer",
              "change_type": "MODIFIED", "model_type": "BgpPeer", "model_name": "core-router", "module": "Sites",
              "before": {"md5AuthKey": OLD_MD5}, "after": {"md5AuthKey": UI_MD5}}  # fmt: skip
    legacy = {"version": 1, "account_id": ACCOUNT, "endpoint": "http://e", "marker": None, "complete_from": None,
              "fetched_to": None, "records": [record], "own_keys": {}}  # fmt: skip
    path.write_text(json.dumps(legacy))
    path.chmod(0o644)
    cache = AuditCache(folder, ACCOUNT, "http://e")
    assert cache.data["records"][0]["after"] == {"md5AuthKey": "[secret]"}
    assert OLD_MD5 not in path.read_text() and UI_MD5 not in path.read_text()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_an_engine_error_echoing_the_previous_or_an_unseen_md5_key_is_masked(emu, peer_id):
    client = CatoClient(ClientConfig(api_key=KEY, account_id=ACCOUNT, base_url=emu.url))
    session = Session(client)
    engine = Engine(SPECS["BgpPeer"], lambda: session)
    olds = {"site_id": "100001", "name": "core-router", "peer_ip": "10.1.0.2", "peer_asn": "65001",
            "cato_asn": "65000", "md5_auth_key": OLD_MD5}  # fmt: skip
    news = {**olds, "md5_auth_key": "brand-new-md5-key-99"}
    with EmulatorControl(emu.base_url) as ctl:
        for message in (
            f"md5 {OLD_MD5} was used before and cannot be reused",
            "conflict: md5AuthKey='set-in-the-ui-never-seen-1' differs",
        ):
            ctl.clear_faults()
            ctl.add_fault("fail", operation="updateBgpPeer", message=message, times=1)
            with pytest.raises(CatoError) as info:
                engine.update(peer_id, olds, news)
            text = str(info.value) + json.dumps(vars(info.value), default=str)
            assert OLD_MD5 not in text and "set-in-the-ui-never-seen-1" not in text
            assert "[secret]" in str(info.value)
    client.close()
