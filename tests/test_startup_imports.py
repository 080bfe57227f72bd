"""What a dynamic-provider process imports. Every ``pulumi`` command starts one, so each library it
loads for nothing is paid again by every preview, up and refresh (about 220 times in this suite).

Each case runs a fresh interpreter, as Pulumi does (``python -m pulumi.dynamic`` unpickles
``pulumi_cato.provider.CatoProvider``, whose first call loads ``_engine_side``), and reads its
``sys.modules``: the modules made lazy must not be there until a call needs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

from emu_helpers import ACCOUNT, KEY

from catoiac.emulator.limits import RateLimitConfig

# What the provider process itself loads first (pulumi.dynamic's own imports), then our engine side.
PROVIDER_START = """
import dill, grpc
from pulumi.dynamic import ResourceProvider
import pulumi_cato.provider, pulumi_cato._engine_side
"""

# Loaded on first use only: the HTTP client stack (with the first session; the client's documents
# need no GraphQL parser when their index is in the derived cache), deepdiff (a diff that finds a
# change), pycountry (a country code to check), jsonschema (inputs the compiled check does not pass:
# jsonschema finds and words their errors).
LAZY = ("catoiac.client", "catoiac.documents", "httpx", "tenacity", "deepdiff", "pycountry", "jsonschema")
# httpx's command-line client and what it pulls in: never, in a provider process.
NEVER = ("httpx._main", "rich", "rich.console", "click", "pygments")


def run_python(code: str, env: dict[str, str] | None = None) -> dict:
    """Run ``code`` in a fresh interpreter; it prints one JSON object as its last line."""
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env={**os.environ, "CATOIAC_LIFELINE": "0", **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def loaded(names: tuple[str, ...]) -> str:
    return f"sorted(m for m in {names!r} if m in sys.modules)"


def test_the_provider_process_loads_its_engine_side_without_the_http_client_deepdiff_or_rich():
    found = run_python(
        PROVIDER_START
        + f"""
import json, sys
print(json.dumps({{"lazy": {loaded(LAZY)}, "never": {loaded(NEVER)}}}))
"""
    )
    assert found == {"lazy": [], "never": []}


def test_a_check_and_an_unchanged_diff_against_the_account_load_httpx_but_never_its_cli_nor_deepdiff(
    emulator_factory, tmp_path
):
    """The first check reads the live account (so the client and httpx load), and a diff of
    unchanged inputs needs no deepdiff; httpx's CLI (rich, click, pygments) is never loaded, yet
    ``httpx._main`` still imports for whoever asks for it later."""
    emu = emulator_factory(rate_limits=RateLimitConfig(enabled=False))
    env = {
        "CATO_TOKEN": KEY,
        "CATO_ACCOUNT_ID": ACCOUNT,
        "CATO_BASEURL": emu.url,
        "CATOIAC_JOURNAL_DIR": str(tmp_path / "journal"),
        "CATOIAC_RATE_LIMIT_SCALE": "0.001",
    }
    found = run_python(
        PROVIDER_START
        + f"""
import json, sys
from pulumi_cato.provider import CatoProvider

site = CatoProvider("SocketSite")
news = {{"name": "Startup", "native_range": "10.77.0.0/24",
        "location": {{"country_code": "PT", "timezone": "Europe/Lisbon"}},
        "__catoiac_owner": "proj/dev/SocketSite::startup"}}
checked = site.check({{}}, news)
unchanged = site.diff("1", checked.inputs, checked.inputs)
after_check = {{"lazy": {loaded(LAZY)}, "never": {loaded(NEVER)}}}
changed = site.diff("1", checked.inputs, {{**checked.inputs, "name": "Renamed"}})
import httpx, httpx._main  # still importable: it was held back only while httpx loaded
print(json.dumps({{
    "failures": [(f.property, f.reason) for f in checked.failures or []],
    "unchanged": unchanged.changes, "changed": changed.changes, "replaces": changed.replaces,
    "after_check": after_check, "cli": callable(httpx._main.main),
}}))
""",
        env,
    )
    assert found["failures"] == []
    assert found["unchanged"] is False
    assert found["changed"] is True
    assert found["after_check"] == {
        "lazy": sorted(["catoiac.client", "catoiac.documents", "httpx", "tenacity", "pycountry"]),
        "never": [],
    }
    assert found["cli"] is True
