"""API key rotation with the real pulumi CLI against the emulator over HTTP.

Pulumi records the default provider's config (``cato:apiKey`` included, encrypted) in the state,
and a refresh configures the provider from the state, not from the stack's current config
(pulumi/pulumi#4981). After a failed ``up`` with a wrong key, the state holds that wrong key: fixing
``cato:apiKey`` must still fix ``pulumi preview --refresh`` and ``pulumi refresh``."""

from __future__ import annotations

import json

import pytest
from emu_helpers import ACCOUNT, KEY, OTHER_KEY

from catoiac.client import CatoClient
from catoiac.config import ClientConfig
from catoiac.emulator.limits import RateLimitConfig

pytest_plugins = ("pulumi_helpers",)
pytestmark = pytest.mark.slow

WRONG_KEY = "cato-revoked-key-5e1f0000"
PROGRAM = """
import json
import pulumi
import pulumi_cato as cato

desired = json.load(open("desired.json"))
cato.SocketSite("branch", name="Lisbon", native_range="10.40.0.0/24", description=desired["description"],
                location={"country_code": "PT", "timezone": "Europe/Lisbon"})
"""


@pytest.fixture
def emu(emulator_factory):
    return emulator_factory(rate_limits=RateLimitConfig(enabled=False))


@pytest.fixture
def ws(pulumi_workspace, emu):
    pulumi_workspace.env_extra["CATOIAC_RATE_LIMIT_SCALE"] = "0.001"
    pulumi_workspace.write_project(PROGRAM)
    pulumi_workspace.use_emulator(emu, key=None)
    return pulumi_workspace


def desire(ws, description: str) -> None:
    (ws.project_dir / "desired.json").write_text(json.dumps({"description": description}))


def set_key(ws, key: str) -> None:
    ws.run("config", "set", "--secret", "cato:apiKey", key)


def out(result) -> str:
    return result.stdout + result.stderr


def site_audit(emu) -> list[tuple[str, str]]:
    """(change type, API key id) of every audit record about sites."""
    with CatoClient(ClientConfig(api_key=KEY, account_id=ACCOUNT, base_url=emu.url)) as c:
        data = c.execute("AuditFeed", {"timeFrame": "last.P1D"})
    records = [r for a in data["auditFeed"]["accounts"] for r in a["records"]]
    return [
        (r["fieldsMap"]["change_type"], (r.get("apiKey") or {}).get("id"))
        for r in records
        if (r.get("object") or {}).get("type") == "site"
    ]


def test_a_fixed_api_key_is_used_by_refresh_and_preview_after_a_failed_up_with_a_wrong_one(ws, emu):
    set_key(ws, KEY)
    desire(ws, "branch office")
    ws.run("up", "--yes", "--skip-preview")

    # A wrong key, and an update that fails with it: the state's provider now records that key.
    set_key(ws, WRONG_KEY)
    desire(ws, "moved upstairs")
    failed = ws.run("up", "--yes", "--skip-preview", check=False)
    assert failed.returncode != 0
    assert "refused the API key" in out(failed) and "cato:apiKey" in out(failed)
    assert WRONG_KEY not in out(failed)
    export = ws.run("stack", "export").stdout
    provider = next(
        r
        for r in json.loads(export)["deployment"]["resources"]
        if r["type"] == "pulumi:providers:pulumi-python"
    )
    assert "ciphertext" in json.dumps(provider["inputs"]["cato:apiKey"])  # stored, encrypted
    assert WRONG_KEY not in export and KEY not in export

    # The config is still wrong: refresh fails, naming the setting and never the key.
    still = ws.run("preview", "--refresh", check=False)
    assert still.returncode != 0 and "cato:apiKey" in out(still) and WRONG_KEY not in out(still)

    # Rotate to a new valid key: refresh and preview use it, though the state holds the wrong one.
    set_key(ws, OTHER_KEY)
    preview = ws.run("preview", "--refresh", check=False)
    assert preview.returncode == 0, out(preview)
    assert OTHER_KEY not in out(preview)
    refresh = ws.run("refresh", "--yes", "--skip-preview", check=False)
    assert refresh.returncode == 0, out(refresh)
    ws.run("up", "--yes", "--skip-preview")
    ws.run("preview", "--refresh", "--expect-no-changes")
    # The update was made with the rotated key (k-other), the create with the first one.
    assert site_audit(emu) == [("CREATED", "k-catoiac"), ("MODIFIED", "k-other")]


def test_a_key_with_a_trailing_newline_is_refused_at_preview_naming_the_setting_never_the_key(ws):
    desire(ws, "branch office")
    set_key(ws, KEY + "\n")  # as `pulumi config set --secret cato:apiKey "$(cat key.txt)"` can leave it
    preview = ws.run("preview", check=False)
    assert preview.returncode != 0
    assert "cato:apiKey" in out(preview) and "trailing newline" in out(preview)
    assert KEY not in out(preview) and "Illegal header" not in out(preview)
    # The same key from the environment is named by its variable.
    ws.run("config", "rm", "cato:apiKey")
    ws.env_extra["CATO_TOKEN"] = KEY + "\n"
    preview = ws.run("preview", check=False)
    assert preview.returncode != 0 and "CATO_TOKEN" in out(preview) and KEY not in out(preview)
