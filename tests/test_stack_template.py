"""The worker's stack template (``pulumi_helpers.init_stack_from_template``) that ``use_emulator``
copies instead of running ``stack init`` + ``config set-all`` in every test: a copy is a working
stack of its own, the same one the real commands make."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pulumi_helpers
import pytest
from emu_helpers import ACCOUNT, KEY
from pulumi_helpers import PulumiWorkspace

pytest_plugins = ("pulumi_helpers",)
pytestmark = pytest.mark.slow

# Reads the stack's Cato config as the provider does; no resource, so no provider or emulator.
PROGRAM = """
import pulumi

cato = pulumi.Config("cato")
pulumi.export("endpoint", cato.require("endpoint"))
pulumi.export("account", cato.require("accountId"))
pulumi.export("key", cato.require_secret("apiKey"))
"""


def copied(root, port: int) -> PulumiWorkspace:
    ws = PulumiWorkspace(root=root)
    ws.write_project(PROGRAM)
    ws.use_emulator(SimpleNamespace(url=f"http://127.0.0.1:{port}/api/v1/graphql2"))
    return ws


def test_a_copied_stack_decrypts_its_key_runs_up_and_shares_no_state_with_another_copy(tmp_path):
    pulumi_helpers.pulumi_executable()
    first = copied(tmp_path / "a", 1111)
    templates = len(pulumi_helpers._TEMPLATES)
    second = copied(tmp_path / "b", 2222)
    assert len(pulumi_helpers._TEMPLATES) == templates  # the second copy ran no pulumi command
    assert not (first.project_dir / "Pulumi.test.yaml").read_text().count(KEY)  # ciphertext only

    # The secret decrypts with the passphrase; the endpoint is the copy's own.
    assert first.run("config", "get", "cato:apiKey").stdout.strip() == KEY
    assert second.run("config", "get", "cato:endpoint").stdout.strip().endswith(":2222/api/v1/graphql2")
    # `stack init` selected the stack: commands without --stack find it.
    listed = json.loads(second.run("stack", "ls", "--json").stdout)
    assert [(s["name"], s["current"]) for s in listed] == [("test", True)]

    # An up on one copy works (the program reads the decrypted key) and leaves the other untouched.
    first.run("up", "--yes", "--skip-preview")
    assert first.outputs() == {
        "endpoint": "http://127.0.0.1:1111/api/v1/graphql2",
        "account": ACCOUNT,
        "key": KEY,
    }
    assert second.outputs() == {}
    assert len(first.resources()) == 1 and second.resources() == []  # the stack resource only, in one


def config(ws: PulumiWorkspace) -> dict:
    return json.loads(ws.run("config", "--json", "--show-secrets", "--stack", "dev").stdout)


def test_a_copied_stack_has_the_config_the_real_stack_init_and_config_set_all_make(tmp_path):
    emu = SimpleNamespace(url="http://127.0.0.1:3333/api/v1/graphql2")
    real = PulumiWorkspace(root=tmp_path / "real", stack="dev")
    real.write_project(PROGRAM)
    real.init_stack()
    real.run(*pulumi_helpers.emulator_config(emu, account="1002", key="another-key"), "--stack", "dev")
    copy = PulumiWorkspace(root=tmp_path / "copy", stack="dev")
    copy.write_project(PROGRAM)
    made = pulumi_helpers.init_stack_from_template
    assert made(copy.project_dir, copy.env, "dev", key="another-key", account="1002", endpoint=emu.url)

    assert config(copy) == config(real)
    assert config(copy)["cato:apiKey"] == {"value": "another-key", "secret": True}
    # A stack that exists is never overwritten: the caller runs the real `stack init`, which fails.
    assert not made(copy.project_dir, copy.env, "dev", key="another-key", account="1002", endpoint=emu.url)


def test_a_copied_key_joins_the_config_catoiac_import_wrote_as_stack_init_and_config_set_do(tmp_path):
    written = "config:\n  cato:accountId: '1001'\n  cato:endpoint: http://127.0.0.1:4444/api/v1/graphql2\n"
    real, copy = (PulumiWorkspace(root=tmp_path / name, stack="dev") for name in ("real", "copy"))
    for ws in (real, copy):
        ws.write_project(PROGRAM, files={"Pulumi.dev.yaml": written})
    real.init_stack()
    real.run("config", "set", "--secret", "cato:apiKey", KEY, "--stack", "dev")
    assert pulumi_helpers.init_stack_from_template(copy.project_dir, copy.env, "dev", key=KEY)

    assert config(copy) == config(real)
    assert set(config(copy)) == {"cato:accountId", "cato:endpoint", "cato:apiKey"}
