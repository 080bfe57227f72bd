"""Helpers shared by the ``catoiac drift`` end-to-end tests: stacks made with the real pulumi CLI
against the emulator, out-of-band changes as a person in the UI or another integration's key, and the
catoiac CLI run as a subprocess, as a user runs it (never printing a key)."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from typing import Any

import jsonschema
from emu_helpers import ACCOUNT, KEY, OTHER_KEY
from sites_support import Api

from catoiac.drift.report import schema
from catoiac.emulator.control import EmulatorControl

# Two sites an exported state manages, for the tests that need no pulumi stack.
SITES = [
    {"name": "HQ", "id": "100001", "country_code": "PT", "timezone": "Europe/Lisbon", "native_range": "10.1.0.0/24",
     "description": "hq"},
    {"name": "Porto", "id": "100002", "country_code": "PT", "timezone": "Europe/Lisbon", "native_range": "10.2.0.0/24",
     "description": "porto"},
]  # fmt: skip


def site(name: str, subnet: str, tz: str = "Europe/Lisbon", **extra) -> dict:
    return {"name": name, "native_range": subnet, "location": {"country_code": "PT", "timezone": tz}, **extra}


@dataclass
class World:
    """What a row needs to make its change: ids and outputs by Pulumi name, and callers per actor."""

    ids: dict[str, str]
    outputs: dict[str, dict]
    ctl: EmulatorControl
    url: str

    def as_(self, actor: str, doc: str, **variables: Any) -> dict:
        if actor == "alice":
            body = self.ctl.as_admin(ACCOUNT, "alice@example.com", doc, {"a": ACCOUNT, **variables})
            assert not body.get("errors"), body
            return body["data"]
        return Api(self.url, {"other": OTHER_KEY, "ours": KEY}[actor]).ok(doc, a=ACCOUNT, **variables)


def move_doc(policy: str) -> str:
    return f"""mutation($a: ID!, $i: PolicyMoveRuleInput!) {{ policy(accountId: $a) {{ {policy} {{
  moveRule(input: $i) {{ status errors {{ errorCode errorMessage }} }} }} }} }}"""


def publish_doc(policy: str) -> str:
    return f"""mutation($a: ID!) {{ policy(accountId: $a) {{ {policy} {{
  publishPolicyRevision(input: {{}}) {{ status errors {{ errorCode errorMessage }} }} }} }} }}"""


def move_rule(rule: str, position: str, section: str | None = None, policy: str = "internetFirewall"):
    """Move a rule (``LAST_IN_SECTION`` of ``section``, ``FIRST_IN_POLICY``...) in the actor's own
    revision, then publish it, as an admin does in the console."""

    def change(w: World, actor: str, res: str) -> None:
        out = w.outputs[res]
        to = {"position": position, "ref": out["section_ids"][section] if section else None}
        moves = {"i": {"id": out["rule_ids"][rule], "to": to}}
        for doc, variables in ((move_doc(policy), moves), (publish_doc(policy), {})):
            payload = w.as_(actor, doc, **variables)["policy"][policy]
            assert next(iter(payload.values()))["status"] == "SUCCESS", payload

    return change


def move_rule_last(rule: str, section: str):
    """Move a rule to the end of its section, then publish."""
    return move_rule(rule, "LAST_IN_SECTION", section)


def new_stack(ws, name: str, emu, desired: dict) -> None:
    ws.stack = name
    ws.use_emulator(emu)
    (ws.project_dir / f"desired-{name}.json").write_text(json.dumps(desired))


def state_of(ws, stack: str) -> tuple[dict[str, str], dict[str, dict]]:
    """Ids and outputs of the stack's Cato resources, by Pulumi name."""
    out = json.loads(ws.run("stack", "export", "--stack", stack).stdout)
    cato = [r for r in out["deployment"]["resources"] if "cato:" in r["type"]]
    name = lambda r: r["urn"].rsplit("::", 1)[-1]  # noqa: E731
    return {name(r): r["id"] for r in cato}, {name(r): r["outputs"] for r in cato}


class Cli:
    """Runs `catoiac drift` / `catoiac audit` as a user would, and checks no key is ever printed."""

    def __init__(self, ws, tmp_path) -> None:
        self.ws, self.cache = ws, tmp_path / "audit-cache"
        self.exe = shutil.which("catoiac", path=ws.env["PATH"])

    def run(self, *args: str, expect: int | None = None) -> subprocess.CompletedProcess:
        env = {**self.ws.env, "CATO_TOKEN": KEY}
        res = subprocess.run([self.exe, *args], env=env, capture_output=True, text=True, timeout=300)
        for text in (res.stdout, res.stderr):
            assert KEY not in text and OTHER_KEY not in text
        if expect is not None:
            assert res.returncode == expect, res.stdout + res.stderr
        return res

    def drift(self, *args: str, stacks=("main",), expect: int | None = None) -> subprocess.CompletedProcess:
        where = ["--cwd", str(self.ws.project_dir), "--cache-dir", str(self.cache)]
        return self.run("drift", *where, *(a for s in stacks for a in ("--stack", s)), *args, expect=expect)

    def json(self, *args: str, **kw) -> dict:
        report = json.loads(self.drift(*args, "--format", "json", **kw).stdout)
        jsonschema.validate(report, schema())
        return report

    def audit(self, *args: str) -> dict:
        where = ["--cwd", str(self.ws.project_dir), "--stack", "main", "--format", "json"]
        return json.loads(self.run("audit", *where, *args, expect=0).stdout)


def by_resource(report: dict) -> dict[tuple[str, str], dict]:
    return {(f["resource"]["name"] or f["resource"]["cato_name"], f["kind"]): f for f in report["findings"]}


def change_at(finding: dict, path: str) -> dict:
    return next(c for c in finding["changes"] if c["path"] == path)
