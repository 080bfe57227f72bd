"""`catoiac doctor` end to end: each check's pass and fail outcomes against the emulator (or a local
server misbehaving on purpose) over real HTTP, the exit codes and the three formats."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess

import pytest
import yaml
from emu_helpers import ACCOUNT, KEY, OTHER_ACCOUNT, base_fixture
from http_helpers import read_http_request, serve_asgi, serve_raw

from catoiac.client import CatoClient
from catoiac.config import ClientConfig
from catoiac.doctor import Doctor, DoctorOptions, DoctorReport
from catoiac.emulator.control import EmulatorControl
from catoiac.emulator.limits import DEFAULT_LIMITS, RateLimitConfig
from catoiac.emulator.server import EmulatorServer

pytest_plugins = ("pulumi_helpers",)

VIEW_KEY = "cato-view-only-key-81c4"
ORDER = ["endpoint", "api-key", "account", "permissions", "schema", "rate-limits", "clock"]


def fixture() -> dict:
    fx = base_fixture()
    fx["accounts"][0]["api_keys"].append(
        {"id": "k-view", "name": "read only", "key": VIEW_KEY, "role": "viewer"}
    )
    return fx


@pytest.fixture
def emu(emulator_factory):
    return emulator_factory(fixture())


def doctor(endpoint: str, *, key: str | None = KEY, account: str | None = ACCOUNT, **kw) -> DoctorReport:
    opts = DoctorOptions(api_key=key, account_id=account, endpoint=endpoint, env={}, timeout=5.0, **kw)
    report = Doctor(opts).run()
    assert [c.id for c in report.checks] == ORDER  # every check, always in this order
    return report


def status(report: DoctorReport) -> dict[str, str]:
    return {c.id: c.status for c in report.checks}


def check(report: DoctorReport, cid: str):
    return next(c for c in report.checks if c.id == cid)


def audit_and_objects(emu) -> tuple[int, int]:
    store = emu.emulator.store
    return (store.execute("SELECT COUNT(*) FROM audit").fetchone()[0],
            store.execute("SELECT COUNT(*) FROM entities").fetchone()[0])  # fmt: skip


# -- all fine ---------------------------------------------------------------------------------------


def test_a_healthy_setup_passes_every_check_and_writes_nothing(emu):
    before = audit_and_objects(emu)
    report = doctor(emu.url)
    assert status(report) == dict.fromkeys(ORDER, "pass")
    assert report.exit_code == 0
    perms = check(report, "permissions")
    assert perms.data["permissions"] == dict.fromkeys(
        ["sites", "groups", "internet firewall", "WAN firewall"], "edit"
    )
    # The probes reached Cato's mutations, and nothing was written: no object, no audit record,
    # no policy revision left open.
    assert {"updateSiteGeneralDetails", "updateGroup", "updateRule"} <= set(emu.emulator.calls)
    assert audit_and_objects(emu) == before
    with CatoClient(ClientConfig(api_key=KEY, account_id=ACCOUNT, base_url=emu.url)) as client:
        for policy in ("internetFirewall", "wanFirewall"):
            name = policy[0].upper() + policy[1:]
            revisions = client.execute(f"{name}Revisions")["policy"][policy]["revisions"]
            assert revisions["revision"] in ([], None)  # the key's own open revisions
    # API calls, the cost that matters: one unauthenticated request, ping, account, 4 probes, 1 introspection.
    assert report.calls == {"(unauthenticated)": 1, "DoctorPing": 1, "DoctorAccount": 1, "DoctorProbeSites": 1,
                            "DoctorProbeGroups": 1, "DoctorProbeInternetFirewall": 1, "DoctorProbeWanFirewall": 1,
                            "DoctorIntrospection": 1}  # fmt: skip
    assert "not reported" in check(report, "rate-limits").summary
    assert abs(check(report, "clock").data["skew_seconds"]) < 5


# -- 1. endpoint --------------------------------------------------------------------------------------


def test_a_wrong_path_is_an_error_naming_the_right_url_and_nothing_is_sent(emu):
    report = doctor(emu.base_url + "/api/v1/graphql")
    c = check(report, "endpoint")
    assert (c.status, c.fix) == (
        "error",
        f"Set cato:endpoint or CATO_BASEURL to {emu.base_url}/api/v1/graphql2",
    )
    assert status(report)["api-key"] == status(report)["schema"] == "skipped"
    assert report.exit_code == 1
    assert emu.emulator.calls == {}


def test_plain_http_to_a_remote_host_is_refused_before_any_request():
    report = doctor("http://api.catonetworks.com/api/v1/graphql2")
    c = check(report, "endpoint")
    assert c.status == "error" and "would travel unencrypted" in c.summary
    assert c.fix == "Use https://api.catonetworks.com/api/v1/graphql2"
    assert report.calls == {} and check(report, "clock").status == "skipped"


def test_a_host_that_is_not_graphql_is_an_error_and_never_receives_the_key():
    requests: list[bytes] = []

    def not_graphql(conn: socket.socket) -> None:
        requests.append(read_http_request(conn))
        conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\nContent-Length: 9\r\n"
                     b"Connection: close\r\n\r\nnot here!")  # fmt: skip

    with serve_raw(not_graphql) as base:
        report = doctor(base + "/api/v1/graphql2")
    c = check(report, "endpoint")
    assert (c.status, c.summary.split(":")[0]) == ("error", "HTTP 404 (text/html)")
    assert "not a GraphQL answer" in c.summary
    assert len(requests) == 1
    assert b"x-api-key" not in requests[0].lower() and KEY.encode() not in requests[0]


def test_a_redirect_is_an_error_naming_where_it_goes():
    def redirect(conn: socket.socket) -> None:
        read_http_request(conn)
        conn.sendall(b"HTTP/1.1 308 Permanent Redirect\r\nLocation: https://api.example.test/api/v1/graphql2\r\n"
                     b"Content-Length: 0\r\nConnection: close\r\n\r\n")  # fmt: skip

    with serve_raw(redirect) as base:
        c = check(doctor(base + "/api/v1/graphql2"), "endpoint")
    assert c.status == "error"
    assert c.summary == "HTTP 308: redirects to https://api.example.test/api/v1/graphql2"


def test_a_refused_connection_is_named():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    c = check(doctor(f"http://127.0.0.1:{port}/api/v1/graphql2"), "endpoint")
    assert c.status == "error" and c.summary.startswith("connection to 127.0.0.1 refused")


# -- 2. key and 3. account: two separate outcomes ------------------------------------------------------


def test_an_invalid_key_is_a_key_error_and_the_checks_needing_it_are_skipped(emu):
    report = doctor(emu.url, key="not-a-cato-key")
    c = check(report, "api-key")
    assert (
        c.status == "error" and c.summary == "the key was refused: Unauthorized: invalid API key (HTTP 401)"
    )
    assert "Allow access from IPs" in c.fix
    assert status(report) == {**dict.fromkeys(ORDER, "skipped"), "endpoint": "pass", "api-key": "error",
                              "rate-limits": "pass", "clock": "pass"}  # fmt: skip
    assert report.exit_code == 1


def test_a_valid_key_for_another_account_is_an_account_error_not_a_key_error(emu):
    report = doctor(emu.url, account=OTHER_ACCOUNT)
    assert status(report)["api-key"] == "pass"
    c = check(report, "account")
    assert c.status == "error"
    assert (
        c.summary
        == f"the key is valid but cannot reach account {OTHER_ACCOUNT} (from flag): permission denied"
    )
    assert "cato:accountId" in c.fix
    assert status(report)["permissions"] == "skipped"
    assert status(report)["schema"] == "pass"  # introspection needs the key only


def test_a_key_that_cannot_be_checked_on_its_own_is_left_to_the_account_check(emu):
    with EmulatorControl(emu.base_url) as ctl:  # introspection refused once: the ping
        ctl.add_fault("fail", operation="__schema", nth=1, message="introspection is not available")
    report = doctor(emu.url)
    c = check(report, "api-key")
    assert c.status == "warning" and "introspection is not available" in c.summary
    assert status(report)["account"] == status(report)["schema"] == "pass"
    assert report.exit_code == 2


def test_missing_key_and_account_are_errors_naming_where_to_set_them(emu):
    c = check(doctor(emu.url, key=None), "api-key")
    assert (c.status, c.summary) == ("error", "no API key (--api-key, cato:apiKey or CATO_TOKEN)")
    c = check(doctor(emu.url, account=None), "account")
    assert c.status == "error" and "CATO_ACCOUNT_ID" in c.summary


# -- 4. permissions ------------------------------------------------------------------------------------


def test_a_view_key_fails_a_pipeline_that_applies_and_passes_one_that_only_reads(emu):
    before = audit_and_objects(emu)
    report = doctor(emu.url, key=VIEW_KEY)
    c = check(report, "permissions")
    assert c.status == "error" and c.summary.startswith("View-only key: `pulumi up` will fail")
    assert "--access view" in c.fix
    assert set(c.data["permissions"].values()) == {"view"}
    assert report.exit_code == 1
    read_only = doctor(emu.url, key=VIEW_KEY, access="view")
    assert check(read_only, "permissions").status == "pass"
    assert check(read_only, "permissions").summary.startswith("View permission; this pipeline needs View")
    assert read_only.exit_code == 0
    assert audit_and_objects(emu) == before


def test_a_key_refused_on_one_area_only_is_a_warning_naming_it(emu):
    with EmulatorControl(emu.base_url) as ctl:
        ctl.add_fault("fail", operation="updateGroup", message="permission denied")
    c = check(doctor(emu.url), "permissions")
    assert c.status == "warning" and c.summary.startswith("view only on groups")
    assert c.data["permissions"]["groups"] == "view" and c.data["permissions"]["sites"] == "edit"


def test_a_probe_without_a_clear_answer_is_a_warning_not_a_guess(emu):
    with EmulatorControl(emu.base_url) as ctl:
        ctl.add_fault("http_error", operation="updateSiteGeneralDetails", status=503)
    report = doctor(emu.url)
    c = check(report, "permissions")
    assert (c.status, c.summary, c.data["permissions"]["sites"]) == (
        "warning",
        "could not tell for sites",
        "unknown",
    )
    assert report.exit_code == 2


# -- 5. schema drift -------------------------------------------------------------------------------------


def emulator(variant: str | None = None, **kw) -> EmulatorServer:
    return EmulatorServer(seed=fixture(), schema_variant=variant, **kw)


def test_removed_elements_are_errors_and_deprecations_warnings_with_reason_and_replacement():
    with emulator("future") as emu:
        report = doctor(emu.url)
    c = check(report, "schema")
    assert c.status == "error" and c.summary.startswith("2 used element(s) removed or changed, 2 deprecated")
    by = {f.coordinate: f for f in report.schema.findings}
    removed = by["AccountSnapshot.timestamp"]
    assert (removed.severity, removed.problem, removed.used_by) == (
        "error", "removed", ["AccountSnapshot (account_snapshot.graphql:5)", "HealthSnapshot (health.graphql:7)"])  # fmt: skip
    prompt = by["InternetFirewallActionEnum.PROMPT"]
    assert (prompt.severity, prompt.kind) == ("error", "enum value")
    assert prompt.used_by == ["InternetFirewallAddRule ($input)", "InternetFirewallUpdateRule ($input)"]
    pop = by["SiteSnapshot.popName"]
    assert (pop.severity, pop.replacement, pop.date) == ("warning", "devices.lastPopName", "2027-01-31")
    assert by["Query.entityLookup(search:)"].reason == "Use filters instead"
    assert report.exit_code == 1


def test_deprecations_alone_exit_2():
    with emulator("future-deprecations") as emu:
        report = doctor(emu.url)
    assert status(report) == {**dict.fromkeys(ORDER, "pass"), "schema": "warning"}
    assert check(report, "schema").summary.startswith("2 used element(s) deprecated")
    assert report.exit_code == 2


def legacy_introspection(app):
    """An API whose introspection predates deprecated arguments and input fields: it refuses
    ``args(includeDeprecated:)`` and lists every argument and input field (it cannot hide any)."""

    async def wrapped(scope, receive, send):
        if scope["type"] != "http":
            return await app(scope, receive, send)
        body, more = b"", True
        while more:
            message = await receive()
            body, more = body + message.get("body", b""), message.get("more_body", False)
        if b"args(includeDeprecated: true)" in body:
            error = {"message": "Unknown argument 'includeDeprecated' on field '__Field.args'.",
                     "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"}}  # fmt: skip
            payload = json.dumps({"errors": [error]}).encode()
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"application/json")]})  # fmt: skip
            return await send({"type": "http.response.body", "body": payload})
        body = body.replace(b"args {", b"args(includeDeprecated: true) {")
        body = body.replace(b"inputFields {", b"inputFields(includeDeprecated: true) {")
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await app(scope, replay, send)

    return wrapped


def test_an_api_without_deprecated_arguments_in_introspection_is_still_checked(emu):
    with serve_asgi(legacy_introspection(emu.emulator.app)) as base:
        report = doctor(base + "/api/v1/graphql2")
    c = check(report, "schema")
    assert c.status == "pass"
    assert "does not report deprecated arguments or input fields" in c.details[0]
    assert report.calls["DoctorIntrospection"] == 1 and report.calls["DoctorIntrospectionLegacy"] == 1


def test_a_throttled_introspection_warns_on_schema_and_rate_limits():
    limits = RateLimitConfig(limits={**DEFAULT_LIMITS, "__schema": 1}, window_seconds=600)
    with emulator(rate_limits=limits) as emu:
        report = doctor(emu.url)
    assert check(report, "schema").status == "warning"
    assert check(report, "schema").summary.startswith(
        "could not introspect the live schema: Cato rate limit hit"
    )
    rl = check(report, "rate-limits")
    assert (rl.status, rl.summary) == ("warning", "little headroom now: DoctorIntrospection throttled")
    assert report.exit_code == 2


# -- 6. rate limits ---------------------------------------------------------------------------------------


def with_headers(app, remaining: int):
    async def wrapped(scope, receive, send):
        async def add(message):
            if message["type"] == "http.response.start":
                extra = [(b"x-ratelimit-limit", b"120"), (b"x-ratelimit-remaining", str(remaining).encode())]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await app(scope, receive, add)

    return wrapped


def test_rate_limit_headers_are_reported_and_low_headroom_warns(emu):
    with serve_asgi(with_headers(emu.emulator.app, 80)) as base:
        ok = check(doctor(base + "/api/v1/graphql2"), "rate-limits")
    assert (ok.status, ok.summary) == ("pass", "headroom reported by the API")
    assert "DoctorAccount: x-ratelimit-limit=120, x-ratelimit-remaining=80" in ok.details
    with serve_asgi(with_headers(emu.emulator.app, 2)) as base:
        low = check(doctor(base + "/api/v1/graphql2"), "rate-limits")
    assert low.status == "warning" and "DoctorAccount (2 left)" in low.summary


# -- 7. clock --------------------------------------------------------------------------------------------


def test_a_clock_ten_minutes_behind_the_api_warns(emu):
    with EmulatorControl(emu.base_url) as ctl:
        ctl.advance_clock(600)
    report = doctor(emu.url)
    c = check(report, "clock")
    assert c.status == "warning" and re.match(r"local clock is (59\d|60\d)\.\d s behind the API's", c.summary)
    assert "NTP" in c.fix
    assert 595 < c.data["skew_seconds"] < 605
    assert report.exit_code == 2


# -- the command: formats, exit codes, --stack -------------------------------------------------------------


def catoiac(*args: str, env: dict[str, str], expect: int, secrets: tuple[str, ...] = (KEY,)):
    exe = shutil.which("catoiac", path=env.get("PATH"))
    res = subprocess.run([exe, "doctor", *args], env=env, capture_output=True, text=True, timeout=120)
    for text in (res.stdout, res.stderr):
        for secret in secrets:
            assert secret not in text
    assert res.returncode == expect, res.stdout + res.stderr
    return res.stdout


def cli_env(emu, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CATO_", "PULUMI_"))}
    return {**env, "CATO_TOKEN": KEY, "CATO_ACCOUNT_ID": ACCOUNT, "CATO_BASEURL": emu.url, **extra}


def test_json_markdown_and_table_with_exit_codes_0_1_and_2(emu):
    data = json.loads(catoiac("--format", "json", env=cli_env(emu), expect=0))
    assert (data["version"], data["status"], data["exit_code"], data["endpoint"]) == (1, "pass", 0, emu.url)
    assert [c["id"] for c in data["checks"]] == ORDER
    assert data["schema"]["operations"] > 50 and data["calls"]["DoctorIntrospection"] == 1

    with emulator("future") as future:
        md = catoiac("--format", "markdown", env=cli_env(future), expect=1)
    assert md.startswith(f"## catoiac doctor: account {ACCOUNT} at ")
    assert "| 5 | Schema drift | ❌ error |" in md
    assert (
        "| error | removed field | `AccountSnapshot.timestamp` | AccountSnapshot (account_snapshot.graphql:5); "
        "HealthSnapshot (health.graphql:7) |" in md
    )

    with emulator("future-deprecations") as deprecations:
        table = catoiac(env=cli_env(deprecations), expect=2)
    assert "Schema drift" in table and "deprecated field" in table and "SiteSnapshot.popName" in table
    assert "warnings only (exit code 2)" in table

    out = catoiac("--access", "view", "-o", "/dev/stdout", env=cli_env(emu, CATO_TOKEN=VIEW_KEY), expect=0,
                  secrets=(KEY, VIEW_KEY))  # fmt: skip
    assert "View permission; this pipeline needs View" in out


def test_emulator_serve_schema_variant_future_makes_doctor_fail_over_http(tmp_path, emu):
    seed = tmp_path / "seed.yaml"
    seed.write_text(yaml.safe_dump(fixture()))
    env = cli_env(emu)
    exe = shutil.which("catoiac", path=env.get("PATH"))
    serve = [exe, "emulator", "serve", "--port", "0", "--seed", str(seed), "--schema-variant", "future"]
    proc = subprocess.Popen(serve, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env)
    try:
        first = proc.stderr.readline()  # "Cato API emulator on <url> (state: ...)"
        url = first.split(" on ", 1)[1].split(" ", 1)[0]
        report = json.loads(catoiac("--format", "json", env={**env, "CATO_BASEURL": url}, expect=1))
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    removed = [f["coordinate"] for f in report["schema"]["findings"] if f["problem"] == "removed"]
    assert removed == ["AccountSnapshot.timestamp", "InternetFirewallActionEnum.PROMPT"]


@pytest.mark.slow
def test_stack_config_gives_endpoint_account_and_key_as_the_provider_resolves_them(pulumi_workspace, emu):
    ws = pulumi_workspace
    ws.write_project("import pulumi\n")
    ws.use_emulator(emu)
    where = ["--stack", ws.stack, "--cwd", str(ws.project_dir), "--format", "json"]
    env = {k: v for k, v in ws.env.items() if not k.startswith("CATO_")}

    # The stack's secret key beats a wrong CATO_TOKEN, as in the provider and `catoiac drift`.
    ok = json.loads(catoiac(*where, env={**env, "CATO_TOKEN": "cato-wrong-key-0000"}, expect=0))
    assert (ok["endpoint"], ok["account_id"], ok["stack"]) == (emu.url, ACCOUNT, ws.stack)
    by = {c["id"]: c for c in ok["checks"]}
    assert by["endpoint"]["data"]["from"] == "stack config cato:endpoint"
    assert by["account"]["data"]["from"] == "stack config cato:accountId"
    assert by["api-key"]["data"]["from"] == "stack config cato:apiKey"

    # A flag beats the stack's key.
    refused = json.loads(catoiac(*where, "--api-key", "cato-wrong-key-0000", env=env, expect=1))
    assert next(c for c in refused["checks"] if c["id"] == "api-key")["status"] == "error"

    ws.run("config", "set", "cato:apiKey", KEY, "--stack", ws.stack)  # now in plain text
    plain = json.loads(catoiac(*where, env=env, expect=2))
    key_check = next(c for c in plain["checks"] if c["id"] == "api-key")
    assert key_check["status"] == "warning" and "unencrypted" in key_check["details"][0]
