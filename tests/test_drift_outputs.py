"""Where drift reports are read: a real terminal at 80 and 120 columns (tmux), a pipe (COLUMNS), an
HTML file in a real headless Chromium (Debian's, installed by scripts/install-browser), and a webhook
(a local HTTP receiver). The catoiac CLI runs as a subprocess against the emulator over HTTP, on an
exported state (no pulumi needed for these)."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import jsonschema
import pytest
import yaml
from drift_support import SITES
from emu_helpers import ACCOUNT, KEY, OTHER_KEY, shared_derived_cache
from sites_support import ADD_SITE, UPDATE_SITE, fixture, site_input

from catoiac.drift.report import schema
from catoiac.emulator.control import EmulatorControl
from catoiac.emulator.limits import RateLimitConfig

ROOT = Path(__file__).resolve().parents[1]
SHOPS = 16  # unmanaged sites an ignore entry covers: summarised, not listed
LONG = "changed in the console during the incident bridge by alice, see the change ticket CHG-4242 for why"
URN = "urn:pulumi:prod::retail-network::pulumi-python:dynamic/cato:SocketSite::{}"


def site_resource(name: str, rid: str, cato_name: str, subnet: str, description: str) -> dict:
    inputs = {"name": cato_name, "native_range": subnet, "description": description, "site_type": "BRANCH",
              "connection_type": "SOCKET_X1500", "location": {"country_code": "PT", "timezone": "Europe/Lisbon"}}  # fmt: skip
    return {"urn": URN.format(name), "type": "pulumi-python:dynamic/cato:SocketSite", "custom": True, "id": rid,
            "inputs": inputs, "outputs": {**inputs, "resource_id": rid}}  # fmt: skip


STATE = {"version": 3, "deployment": {"manifest": {"time": "2026-01-01T00:00:00Z"}, "resources": [
    site_resource("hq-lisbon", "100001", "HQ", "10.1.0.0/24", "hq"),
    site_resource("porto", "100002", "Porto", "10.2.0.0/24", "porto"),
    site_resource("faro", "100099", "Faro", "10.3.0.0/24", "gone"),  # deleted: no such site in Cato
]}}  # fmt: skip
# Tokens a narrow layout must never split across lines (wrapping at a space is fine).
TOKENS = ["alice@example.com", "integration", "Europe/Madrid", "CHG-4242", "2026-"]


@pytest.fixture
def account(emulator_factory, tmp_path):
    emu = emulator_factory(fixture(SITES), rate_limits=RateLimitConfig(enabled=False))
    ctl = EmulatorControl(emu.base_url)
    ctl.as_admin(
        ACCOUNT, "alice@example.com", UPDATE_SITE, {"a": ACCOUNT, "s": "100001", "i": {"description": LONG}}
    )
    body = {
        "query": UPDATE_SITE,
        "variables": {"a": ACCOUNT, "s": "100002", "i": {"siteLocation": {"timezone": "Europe/Madrid"}}},
    }
    httpx.post(emu.url, json=body, headers={"x-api-key": OTHER_KEY}).raise_for_status()
    ctl.as_admin(
        ACCOUNT, "alice@example.com", ADD_SITE, {"a": ACCOUNT, "i": site_input("Pop-up", "10.99.0.0/24")}
    )
    for i in range(SHOPS):
        ctl.as_admin(
            ACCOUNT,
            "alice@example.com",
            ADD_SITE,
            {"a": ACCOUNT, "i": site_input(f"Shop {i:02}", f"10.200.{i}.0/24")},
        )
    (tmp_path / "state.json").write_text(json.dumps(STATE))
    (tmp_path / "ignore.yaml").write_text(yaml.safe_dump([
        {"type": "SocketSite", "name": "Shop *", "kind": "unmanaged", "owner": "retail-team", "expires": "2999-01-01"}]))  # fmt: skip
    return emu


def drift_cmd(emu, tmp_path: Path, *args: str) -> list[str]:
    exe = shutil.which("catoiac", path=str(Path(sys.executable).parent))
    return [exe, "drift", "--state-file", str(tmp_path / "state.json"), "--account-id", ACCOUNT, "--endpoint", emu.url,
            "--cache-dir", str(tmp_path / "cache"), "--since", "2020-01-01T00:00:00Z", "--ignore-file",
            str(tmp_path / "ignore.yaml"), *args]  # fmt: skip


def drift(emu, tmp_path: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    base = {"PATH": os.environ["PATH"], "CATO_TOKEN": KEY, "HOME": str(tmp_path), **shared_derived_cache()}
    res = subprocess.run(drift_cmd(emu, tmp_path, *args), env={**base, **(env or {})}, capture_output=True,
                         text=True, timeout=300)  # fmt: skip
    assert KEY not in res.stdout + res.stderr
    return res


def report_json(emu, tmp_path: Path) -> dict:
    res = drift(emu, tmp_path, "--format", "json")
    assert res.returncode == 2, res.stderr
    data = json.loads(res.stdout)
    jsonschema.validate(data, schema())
    return data


def is_command(line: str) -> bool:
    return bool(re.match(r"^\s*(pulumi|catoiac) ", line))


def check_fits(text: str, width: int) -> None:
    """Every line fits, but for commands (printed whole, for copying); no token is split."""
    lines = text.splitlines()
    too_long = [line for line in lines if len(line.rstrip()) > width and not is_command(line)]
    assert not too_long, "\n".join(too_long)
    for line in lines:
        for token in TOKENS:
            for m in re.finditer(re.escape(token[:4]), line):
                word = re.match(r"\S+", line[m.start() :]).group()
                assert word.startswith(token) or not token.startswith(word), f"{token!r} split in: {line!r}"


# -- terminals -------------------------------------------------------------------------------------
def tmux_run(cmd: list[str], width: int, env: dict[str, str], tmp_path: Path) -> str:
    """Run ``cmd`` in a real terminal of ``width`` columns (a detached tmux session) and return the
    screen's logical lines (wraps the terminal itself made are joined: -J)."""
    socket = str(tmp_path / f"tmux-{width}")
    done = tmp_path / f"done-{width}"
    script = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    script = f"env {script} {shlex.join(cmd)}; echo exit=$? > {shlex.quote(str(done))}; sleep 600"
    subprocess.run(["tmux", "-S", socket, "-f", "/dev/null", "new-session", "-d", "-x", str(width), "-y", "400",
                    "bash", "-c", script], check=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 240
        while not done.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert done.exists(), "the drift command did not finish in the terminal"
        assert done.read_text().strip() == "exit=2"
        out = subprocess.run(["tmux", "-S", socket, "capture-pane", "-p", "-J", "-S", "-400"],
                             capture_output=True, text=True, check=True).stdout  # fmt: skip
    finally:
        subprocess.run(["tmux", "-S", socket, "kill-server"], capture_output=True)
    return out


@pytest.mark.parametrize("width", [80, 120])
def test_in_a_real_terminal_findings_are_blocks_that_fit_and_never_split_a_token(account, tmp_path, width):
    env = {"PATH": os.environ["PATH"], "CATO_TOKEN": KEY, "HOME": str(tmp_path), "TERM": "xterm-256color",
           "NO_COLOR": "1", **shared_derived_cache()}  # fmt: skip
    screen = tmux_run(drift_cmd(account, tmp_path), width, env, tmp_path)
    assert "D-" in screen and "Coverage" in screen, screen
    check_fits(screen, width)
    data = report_json(account, tmp_path)
    for f in [f for f in data["findings"] if not f["ignored"]]:
        assert f["id"] in screen
        assert f["actions"]["revert"]["command"].split(" --")[0] in screen.replace("\n", " ")
    # The move-free blocks read: label, then value, aligned.
    assert re.search(r"^\s+state\s+hq\s*$", screen, re.M) and re.search(
        r"^\s+cause\s+ui: alice@example.com", screen, re.M
    )
    # Ignored findings are a count and their ids, not sixteen blocks.
    ignored = [f["id"] for f in data["findings"] if f["ignored"]]
    assert len(ignored) == SHOPS
    assert f"{SHOPS} ignored finding(s): " in screen
    assert "Shop 00" not in screen
    listed = drift(account, tmp_path, "--show-ignored", env={"COLUMNS": str(width)}).stdout
    assert all(i in listed for i in ignored) and re.search(r"ignored by #1\s+\(retail-team\)", listed)


def test_piped_output_follows_COLUMNS_and_defaults_to_80(account, tmp_path):
    for columns in ("100", None):
        res = drift(account, tmp_path, env={"COLUMNS": columns} if columns else {})
        assert res.returncode == 2
        check_fits(res.stdout, int(columns or 80))
        assert "┃ finding" not in res.stdout  # too narrow for the table: blocks
    wide = drift(account, tmp_path, env={"COLUMNS": "400"})
    assert "┃ finding" in wide.stdout and "Next steps" in wide.stdout  # the table fits whole
    check_fits(wide.stdout, 400)


def test_markdown_summarises_ignored_findings_unless_asked(account, tmp_path):
    md = drift(account, tmp_path, "--format", "markdown").stdout
    assert f"{SHOPS} ignored finding(s): D-" in md and "Shop 00" not in md
    assert "### Next steps" in md and "```sh\npulumi up --refresh --target" in md
    full = drift(account, tmp_path, "--format", "markdown", "--show-ignored").stdout
    assert "Shop 00" in full


# -- HTML in a real browser ------------------------------------------------------------------------
@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's Chromium, installed by the project's own script when missing (a fresh CI clone)."""
    res = subprocess.run(
        [str(ROOT / "scripts" / "install-browser")], capture_output=True, text=True, timeout=1200
    )
    assert res.returncode == 0, res.stderr
    return res.stdout.strip().splitlines()[-1]


def dom(chromium: str, page: Path, fragment: str, tmp_path: Path) -> str:
    """The DOM after the page's script ran, as a headless Chromium renders it."""
    profile = tmp_path / f"profile-{abs(hash(fragment))}"
    res = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", f"--user-data-dir={profile}",
         "--virtual-time-budget=5000", "--dump-dom", f"{page.as_uri()}{fragment}"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert res.returncode == 0 and "</html>" in res.stdout, res.stderr[-2000:]
    return res.stdout


def shown(html: str) -> list[str]:
    """Ids of the findings the page shows (articles without the hidden attribute)."""
    return [
        m.group(1)
        for m in re.finditer(r'<article class="finding" id="(D-[0-9a-f]{8})"([^>]*)>', html)
        if not re.search(r"\bhidden\b", m.group(2))
    ]


def test_the_html_report_is_one_file_whose_filters_work_in_a_real_browser(account, tmp_path, chromium):
    page = tmp_path / "drift.html"
    res = drift(account, tmp_path, "--format", "html", "-o", str(page))
    assert res.returncode == 2, res.stderr
    html = page.read_text()
    # Self-contained: nothing is fetched from anywhere.
    assert not re.search(r"""(?:src|href)\s*=\s*["'](?!#)|@import|url\(""", html, re.I)
    data = report_json(account, tmp_path)
    active = [f for f in data["findings"] if not f["ignored"]]
    by = lambda key, value: sorted(f["id"] for f in active if key(f) == value)  # noqa: E731

    assert sorted(shown(dom(chromium, page, "", tmp_path))) == sorted(f["id"] for f in active)
    assert len(active) == data["summary"]["findings"] == 4  # hq, porto modified; faro deleted; Pop-up
    assert sorted(shown(dom(chromium, page, "#kind=modified", tmp_path))) == by(
        lambda f: f["kind"], "modified"
    )
    assert sorted(shown(dom(chromium, page, "#cause=other-api-key", tmp_path))) == by(
        lambda f: f["cause"], "other-api-key"
    )
    assert sorted(shown(dom(chromium, page, "#type=SocketSite&kind=unmanaged", tmp_path))) == by(
        lambda f: (f["resource"]["type"], f["kind"]), ("SocketSite", "unmanaged"))  # fmt: skip
    # Search: the actor, anywhere in a finding.
    searched = shown(dom(chromium, page, "#q=another%20integration", tmp_path))
    assert searched == [f["id"] for f in active if f["resource"]["name"] == "porto"]
    assert shown(dom(chromium, page, "#kind=device", tmp_path)) == []
    assert len(shown(dom(chromium, page, "#ignored=1", tmp_path))) == len(data["findings"]) == 4 + SHOPS
    # The count the page prints follows the filter; timelines and coverage are there.
    filtered = dom(chromium, page, "#kind=modified", tmp_path)
    assert f'<span id="count">{len(by(lambda f: f["kind"], "modified"))}</span>' in filtered
    assert "audit timeline of hq-lisbon" in html and "MODIFIED · alice@example.com (UI)" in html
    assert re.search(r"<td>SocketSite</td><td>2</td><td>\d+</td>", html)
    # A look at it (kept beside the test's files; checked by eye once when the layout changed).
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={tmp_path / 'shot'}",
                    "--window-size=1280,1600", f"--screenshot={tmp_path / 'drift.png'}", page.as_uri()],
                   capture_output=True, timeout=120, check=True)  # fmt: skip
    assert (tmp_path / "drift.png").stat().st_size > 10_000


# -- notifications ---------------------------------------------------------------------------------
class Receiver:
    """A local webhook: records every POST; answers ``status``."""

    def __init__(self, status: int = 200) -> None:
        self.posts: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                outer.posts.append(
                    {"path": self.path, "type": self.headers.get("content-type"), "json": json.loads(body)}
                )
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/T0SECRET/B0SECRET"

    def close(self) -> None:
        self.server.shutdown()


def test_notify_posts_a_json_summary_and_a_slack_message_and_a_failure_keeps_the_exit_code(account, tmp_path):
    ok, broken = Receiver(), Receiver(status=500)
    try:
        res = drift(account, tmp_path, "--notify", ok.url, "--format", "json")
        assert res.returncode == 2
        report = json.loads(res.stdout)
        [post] = ok.posts
        s = post["json"]
        assert post["path"] == "/hooks/T0SECRET/B0SECRET" and post["type"] == "application/json"
        assert s["type"] == "catoiac.drift.summary" and s["exit_code"] == 2 and s["drift"] is True
        assert s["counts"]["by_kind"] == report["summary"]["by_kind"]
        assert s["counts"]["by_cause"] == report["summary"]["by_cause"]
        assert s["counts"]["ignored"] == SHOPS
        assert [f["id"] for f in s["top"]] == [f["id"] for f in report["findings"] if not f["ignored"]]
        assert all(f["revert"] or f["revert_how"] for f in s["top"]) and any(
            "pulumi up --refresh" in a for a in s["next_actions"]
        )

        drift(account, tmp_path, "--notify", ok.url, "--notify-format", "slack")
        slack = ok.posts[-1]["json"]
        assert (
            slack["text"].startswith("Cato drift (drift): account") and slack["blocks"][0]["type"] == "header"
        )
        sections = [b["text"]["text"] for b in slack["blocks"] if b["type"] == "section" and "text" in b]
        assert any("revert: ```pulumi up --refresh --target" in t for t in sections)
        assert all(len(t) <= 3000 for t in sections) and len(slack["blocks"]) <= 50

        # A webhook that fails (500), or that nobody answers: a warning, the exit code is the drift's.
        for url in (broken.url, "http://127.0.0.1:9/hooks/T0SECRET/B0SECRET"):
            res = drift(account, tmp_path, "--notify", url)
            assert res.returncode == 2 and "warning: notification to http://127.0.0.1" in res.stderr
            assert "T0SECRET" not in res.stderr + res.stdout  # a webhook URL is a credential
        assert len(broken.posts) == 1
        # --notify-when drift (the default) says nothing on a clean run; always does.
        clean = tmp_path / "clean"
        clean.mkdir()
        (clean / "ignore.yaml").write_text(
            yaml.safe_dump([{"type": "*", "owner": "x", "expires": "2999-01-01"}])
        )
        (clean / "state.json").write_text(json.dumps(STATE))
        before = len(ok.posts)
        assert drift(account, clean, "--notify", ok.url).returncode == 0 and len(ok.posts) == before
        assert drift(account, clean, "--notify", ok.url, "--notify-when", "always").returncode == 0
        assert ok.posts[-1]["json"]["drift"] is False and len(ok.posts) == before + 1
    finally:
        ok.close()
        broken.close()


# -- the revert of an unmanaged finding ------------------------------------------------------------
def test_delete_unmanaged_deletes_only_what_is_still_unmanaged_and_only_once_confirmed(account, tmp_path):
    data = report_json(account, tmp_path)
    popup = next(f for f in data["findings"] if f["resource"]["cato_name"] == "Pop-up")
    managed = next(f for f in data["findings"] if f["kind"] == "modified")
    exe = shutil.which("catoiac", path=str(Path(sys.executable).parent))
    base = [exe, "delete-unmanaged", "--state-file", str(tmp_path / "state.json"), "--account-id", ACCOUNT,
            "--endpoint", account.url]  # fmt: skip
    env = {"PATH": os.environ["PATH"], "CATO_TOKEN": KEY, "HOME": str(tmp_path), **shared_derived_cache()}

    def delete(*args: str) -> subprocess.CompletedProcess:
        res = subprocess.run(
            [*base, *args], env=env, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL
        )
        assert KEY not in res.stdout + res.stderr
        return res

    def sites() -> set[str]:
        return {
            f["resource"]["cato_name"]
            for f in report_json(account, tmp_path)["findings"]
            if f["kind"] == "unmanaged"
        }

    # A managed resource's finding, or an id that is no finding: refused, nothing deleted.
    for fid in (managed["id"], "D-00000000"):
        res = delete(fid, "--yes")
        assert (
            res.returncode == 1
            and "not an unmanaged finding now" in res.stderr
            and "Nothing was deleted" in res.stderr
        )
    # Not confirmed (no terminal, no --yes): nothing deleted.
    res = delete(popup["id"])
    assert res.returncode == 1 and "nothing was deleted" in res.stderr and "Pop-up" in sites()
    # Confirmed: deleted, and the same id is no longer an unmanaged finding.
    res = delete(popup["id"], "--yes")
    assert res.returncode == 0 and "deleted SocketSite 'Pop-up'" in res.stdout, res.stderr
    assert "Pop-up" not in sites() and "Shop 00" in sites()
    assert delete(popup["id"], "--yes").returncode == 1
