"""The checks ``catoiac doctor`` runs, in order, each naming the fix when it fails.

1. endpoint: scheme, path, TLS, and a GraphQL answer; asked without the key, so a mistyped host
   never receives it.
2. api-key: the key is accepted (introspection needs a key and no account).
3. account: the account id is one this key reaches.
4. permissions: probes that cannot write (see ``catoiac/graphql/doctor.graphql``).
5. schema: the live schema (introspection) against what catoiac's documents use.
6. rate-limits: headroom, where the API reports it in response headers.
7. clock: local clock against the API's ``Date`` header.

API calls: one unauthenticated request, then DoctorPing, DoctorAccount, four probes and one
introspection (two if the server predates deprecated arguments in introspection).
"""

from __future__ import annotations

import json
import re
import socket
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from graphql import get_introspection_query

from .._httpx import httpx, tls_context
from ..client import CatoClient, RetryPolicy
from ..config import DEFAULT_BASE_URL, ClientConfig, is_loopback_host
from ..documents import DocumentStore, package_sources
from ..errors import (
    AuthenticationError,
    CatoError,
    NotFoundError,
    PolicyMutationError,
    RateLimitedError,
    ValidationError,
)
from ..ratelimit import RateLimitTable
from ..session import _limits, stack_config_value
from .report import ERROR, PASS, SKIPPED, WARNING, CheckResult, DoctorReport
from .schema_drift import NotASchemaError, compare_introspection

GRAPHQL_PATH = "/api/v1/graphql2"
SECRET = "[secret]"  # how `pulumi config --json` (never asked to decrypt) shows a secret value
CLOCK_SKEW_WARN = 30.0
"""Seconds. Drift starts its auditFeed window 60 s before an update; past half of that, records
near the window's edge may be missed or misattributed."""

# Write probes by Cato permission area (RBAC is per CMA screen), from doctor.graphql.
PROBES = {
    "sites": "DoctorProbeSites",
    "groups": "DoctorProbeGroups",
    "internet firewall": "DoctorProbeInternetFirewall",
    "WAN firewall": "DoctorProbeWanFirewall",
}
_PERMISSION_WORDS = ("permission", "unauthori", "forbidden", "not allowed", "access denied")
# Rate-limit headers in use across APIs (IETF draft RateLimit-*, the X- forms, GitHub's).
RATE_LIMIT_HEADERS = (
    "ratelimit", "ratelimit-policy", "ratelimit-limit", "ratelimit-remaining", "ratelimit-reset",
    "x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset", "x-rate-limit-limit",
    "x-rate-limit-remaining", "x-rate-limit-reset",
)  # fmt: skip

_SKIP_TITLES = {
    "check_key": ("api-key", "API key"),
    "check_account": ("account", "Account"),
    "check_permissions": ("permissions", "Key permissions"),
    "check_schema": ("schema", "Schema drift"),
}

KEY_FIX = (
    "Create a key in the Cato Management Application (Account > API Keys, or Service API Keys for "
    "automation) and pass it as CATO_TOKEN (in a stack: `pulumi config set --secret cato:apiKey`). "
    "Also check the key's expiry date and its 'Allow access from IPs' list: a CI runner's address "
    "must be on it."
)


@dataclass
class DoctorOptions:
    api_key: str | None = None
    account_id: str | None = None
    endpoint: str | None = None
    access: str = "edit"  # what the pipeline needs: "edit" (pulumi up) or "view" (preview, drift)
    timeout: float = 15.0
    stack: str | None = None
    cwd: str | None = None
    stack_config: Mapping[str, Any] | None = None
    env: Mapping[str, str] = field(default_factory=dict)


@dataclass
class Exchange:
    """One HTTP request and the head of its response, with wall-clock times for the skew."""

    operation: str | None
    status: int
    headers: httpx.Headers
    sent: float
    received: float


class _Recorder:
    """httpx event hooks that keep every response's status, headers and timing."""

    def __init__(self) -> None:
        self.exchanges: list[Exchange] = []
        self._sent: dict[int, float] = {}

    def on_request(self, request: httpx.Request) -> None:
        self._sent[id(request)] = time.time()

    def on_response(self, response: httpx.Response) -> None:
        received = time.time()
        try:
            op = json.loads(response.request.content or b"{}").get("operationName")
        except ValueError:
            op = None
        sent = self._sent.pop(id(response.request), received)
        self.exchanges.append(Exchange(op, response.status_code, response.headers, sent, received))

    def attach(self, client: httpx.Client) -> None:
        client.event_hooks["request"].append(self.on_request)
        client.event_hooks["response"].append(self.on_response)


def _documents() -> DocumentStore:
    """The packaged documents plus introspection (full, and without deprecated arguments and
    input fields for servers that do not know ``includeDeprecated`` there)."""
    sources = package_sources()
    full = get_introspection_query(descriptions=False, input_value_deprecation=True)
    legacy = get_introspection_query(descriptions=False)
    sources["<introspection>"] = full.replace("query IntrospectionQuery", "query DoctorIntrospection", 1)
    legacy = re.sub(r"\b(FullType|InputValue|TypeRef)\b", r"Legacy\1", legacy)  # fragment names are global
    sources["<introspection-legacy>"] = legacy.replace(
        "query IntrospectionQuery", "query DoctorIntrospectionLegacy", 1
    )
    return DocumentStore(sources)


def _chain(exc: BaseException):
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def describe_connect_error(exc: Exception, host: str) -> tuple[str, str]:
    """What went wrong connecting, and the fix: TLS certificate problems by name."""
    for e in _chain(exc):
        if isinstance(e, ssl.SSLCertVerificationError):
            msg = e.verify_message or e.reason or str(e)
            text = f"TLS certificate rejected: {msg} (verify code {e.verify_code})"
            if e.verify_code in (18, 19, 20, 21):  # self-signed, self-signed in chain, unknown issuer
                return text, (
                    "Something presents a certificate this machine does not trust, usually a "
                    "TLS-inspecting proxy: set SSL_CERT_FILE to a CA bundle that includes its CA, or "
                    "exempt the Cato API host from inspection. Do not turn verification off: the "
                    "API key travels in every request."
                )
            if e.verify_code == 10:
                return text, "The certificate has expired, or this machine's date is wrong: check the clock."
            if e.verify_code in (62, 64) or "mismatch" in msg.lower():  # host name, IP address
                return text, f"The certificate is not for {host}: check the endpoint's host name."
            return (
                text,
                "Check the certificate chain the endpoint presents (openssl s_client -connect HOST:443).",
            )
        if isinstance(e, ssl.SSLError):
            reason = e.reason or str(e)
            return f"TLS handshake failed: {reason}", (
                "Check that the endpoint speaks https on that port (WRONG_VERSION_NUMBER usually "
                "means plain http), and that no proxy interferes."
            )
        if isinstance(e, socket.gaierror):
            return f"cannot resolve {host}: {e.strerror or e}", (
                "Check the host name in cato:endpoint / CATO_BASEURL and this machine's DNS."
            )
        if isinstance(e, ConnectionRefusedError):
            return (
                f"connection to {host} refused",
                "Check the host and port; is the service (or emulator) running?",
            )
    if isinstance(exc, httpx.TimeoutException):
        return f"no answer from {host} within the timeout ({type(exc).__name__})", (
            "Check network access to the host (firewall, proxy: HTTPS_PROXY) or raise --timeout."
        )
    return (
        f"cannot connect to {host}: {exc}",
        "Check network access to the host (firewall, proxy: HTTPS_PROXY).",
    )


class Doctor:
    def __init__(self, opts: DoctorOptions) -> None:
        self.opts = opts
        cfg = opts.stack_config or {}
        env = opts.env

        def pick(flag, key, envvar):
            value = cfg.get(key)
            if flag:
                return flag, "flag"
            if value and value != SECRET:
                return str(value), f"stack config {key}"
            if env.get(envvar):
                return env[envvar], f"env {envvar}"
            return None, None

        self.endpoint, self.endpoint_from = pick(opts.endpoint, "cato:endpoint", "CATO_BASEURL")
        if not self.endpoint:
            self.endpoint, self.endpoint_from = DEFAULT_BASE_URL, "default"
        self.account, self.account_from = pick(opts.account_id, "cato:accountId", "CATO_ACCOUNT_ID")
        self.key, self.key_from = self._resolve_key()
        self.recorder = _Recorder()
        self.client: CatoClient | None = None
        self.report = DoctorReport(self.endpoint, self.account, opts.stack, opts.access)
        self.secrets = [s for s in (self.key, self._plain_stack_key()) if s]

    def _resolve_key(self) -> tuple[str | None, str | None]:
        """As the provider and drift resolve it: the flag, then the stack's ``cato:apiKey`` (a secret is
        decrypted by ``pulumi config get``), then CATO_TOKEN."""
        if self.opts.api_key:
            return self.opts.api_key, "flag"
        value = (self.opts.stack_config or {}).get("cato:apiKey")
        if value == SECRET and self.opts.stack:
            value = stack_config_value("cato:apiKey", self.opts.stack, cwd=self.opts.cwd)
        if value and value != SECRET:
            return str(value), "stack config cato:apiKey"
        if self.opts.env.get("CATO_TOKEN"):
            return self.opts.env["CATO_TOKEN"], "env CATO_TOKEN"
        return None, None

    def _plain_stack_key(self) -> str | None:
        value = (self.opts.stack_config or {}).get("cato:apiKey")
        return str(value) if value and value != SECRET else None

    # -- running ------------------------------------------------------------------------------
    def run(self) -> DoctorReport:
        add = self.report.checks.append
        try:
            endpoint_ok = self._check(add, self.check_endpoint)
            key_ok = self._check(add, self.check_key, endpoint_ok, "the endpoint is not usable")
            account_ok = self._check(add, self.check_account, key_ok, "no usable API key")
            self._check(add, self.check_permissions, account_ok, "the key cannot reach the account")
            self._check(add, self.check_schema, key_ok, "introspection needs a usable API key")
            add(self.check_rate_limits())
            add(self.check_clock())
        finally:
            if self.client is not None:
                self.report.calls = {op: s["http_requests"] for op, s in self.client.stats.to_dict().items()}
                self.client.close()
        unauth = sum(1 for x in self.recorder.exchanges if x.operation == "DoctorUnauthenticated")
        if unauth:
            self.report.calls["(unauthenticated)"] = unauth
        return self.report

    def _check(self, add, fn, ready: bool = True, why_not: str = "") -> bool:
        """Run one check if what it needs passed, else record it as skipped; True if usable."""
        if not ready:
            cid, title = _SKIP_TITLES[fn.__name__]
            add(CheckResult(cid, title, SKIPPED, f"skipped: {why_not}"))
            return False
        result = fn()
        add(result)
        return result.status in (PASS, WARNING)

    def _client(self) -> CatoClient:
        if self.client is None:
            # Introspection needs no account: a placeholder lets the key check run without one.
            config = ClientConfig(api_key=self.key, account_id=self.account or "-", base_url=self.endpoint,
                                  timeout=self.opts.timeout)  # fmt: skip
            # Few attempts and short waits: a doctor reports a throttled account rather than waiting on it.
            retry = RetryPolicy(max_attempts=2, max_total_wait=10.0, rate_limited_backoff=2.0)
            self.client = CatoClient(config, limits=_limits(), retry=retry, documents=_documents())
            # The client's own httpx.Client (its TLS, proxy and timeout settings, as every command
            # has them); the hooks only read each response's head.
            self.recorder.attach(self.client._http)
        return self.client

    # -- 1. endpoint ----------------------------------------------------------------------------
    def check_endpoint(self) -> CheckResult:
        title, url = "Endpoint", self.endpoint
        parts = urlsplit(url)
        origin = f" (from {self.endpoint_from})"
        data = {"url": url, "from": self.endpoint_from}
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return CheckResult("endpoint", title, ERROR, f"{url!r} is not an http(s) URL{origin}",
                               f"Set cato:endpoint or CATO_BASEURL to https://<cato api host>{GRAPHQL_PATH}",
                               data=data)  # fmt: skip
        host = parts.hostname
        right = f"https://{parts.netloc}{GRAPHQL_PATH}"
        if parts.scheme == "http" and not is_loopback_host(host):
            return CheckResult("endpoint", title, ERROR,
                               f"plain http:// to {host}{origin}: the API key would travel unencrypted",
                               f"Use {right}", data=data)  # fmt: skip
        if parts.path.rstrip("/") != GRAPHQL_PATH:
            return CheckResult("endpoint", title, ERROR,
                               f"path is {parts.path or '/'!r}, not {GRAPHQL_PATH}{origin}",
                               f"Set cato:endpoint or CATO_BASEURL to {parts.scheme}://{parts.netloc}{GRAPHQL_PATH}",
                               data=data)  # fmt: skip
        body = json.dumps({"query": "query DoctorUnauthenticated { __typename }",
                           "operationName": "DoctorUnauthenticated"})  # fmt: skip
        started = time.perf_counter()
        # Without the key: if the host is not Cato's, it never sees the key.
        with httpx.Client(
            timeout=httpx.Timeout(self.opts.timeout), follow_redirects=False, verify=tls_context()
        ) as http:
            self.recorder.attach(http)
            try:
                response = http.post(url, content=body, headers={"content-type": "application/json"})
            except httpx.HTTPError as exc:
                summary, fix = describe_connect_error(exc, host)
                return CheckResult("endpoint", title, ERROR, summary + origin, fix, data=data)
        ms = (time.perf_counter() - started) * 1000
        data.update(http_status=response.status_code, latency_ms=round(ms, 1))
        if response.is_redirect:
            where = response.headers.get("location", "?")
            return CheckResult("endpoint", title, ERROR, f"HTTP {response.status_code}: redirects to {where}",
                               "Use the final URL: catoiac does not follow redirects (one could carry the "
                               "key elsewhere)", data=data)  # fmt: skip
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if not (isinstance(payload, dict) and ("errors" in payload or "data" in payload)):
            ctype = response.headers.get("content-type", "no content type").split(";")[0]
            return CheckResult("endpoint", title, ERROR,
                               f"HTTP {response.status_code} ({ctype}): not a GraphQL answer{origin}",
                               "Check the URL: Cato's API is https://api.catonetworks.com/api/v1/graphql2 "
                               "(or your account's regional API host)", data=data)  # fmt: skip
        tls = "TLS verified" if parts.scheme == "https" else "plain http on loopback"
        details = []
        if not (is_loopback_host(host) or host == "catonetworks.com" or host.endswith(".catonetworks.com")):
            details.append(f"note: {host} is not a catonetworks.com host")
        return CheckResult("endpoint", title, PASS,
                           f"{url} answers GraphQL ({tls}; HTTP {response.status_code} without a key, "
                           f"{ms:.0f} ms){origin}", details=details, data=data)  # fmt: skip

    # -- 2. key -----------------------------------------------------------------------------------
    def check_key(self) -> CheckResult:
        title = "API key"
        cfg = self.opts.stack_config or {}
        details = []
        if self._plain_stack_key():
            details.append(
                "the stack stores cato:apiKey unencrypted: run `pulumi config set --secret cato:apiKey`"
            )
        if not self.key:
            fix = KEY_FIX
            if cfg.get("cato:apiKey") == SECRET:
                fix = ("The stack's cato:apiKey is a secret that `pulumi config get` could not decrypt: check "
                       "the stack's secrets provider (e.g. PULUMI_CONFIG_PASSPHRASE), or pass the key with "
                       "--api-key or CATO_TOKEN")  # fmt: skip
            return CheckResult(
                "api-key", title, ERROR, "no API key (--api-key, cato:apiKey or CATO_TOKEN)", fix, details
            )
        try:
            self._client().execute("DoctorPing")
        except AuthenticationError as e:
            return CheckResult("api-key", title, ERROR, f"the key was refused: {e.error_message or e.message}"
                               f" (HTTP {e.http_status})", KEY_FIX, details)  # fmt: skip
        except CatoError as e:
            # Not a refusal of the key (introspection turned off, a server error): the account
            # check, which needs the key too, decides.
            return CheckResult("api-key", title, WARNING, f"the key could not be checked on its own: {e}",
                               "See the account check: it uses the key as well", details)  # fmt: skip
        status = WARNING if self._plain_stack_key() else PASS
        fix = "`pulumi config set --secret cato:apiKey <key>`" if status == WARNING else None
        return CheckResult("api-key", title, status, f"the key is valid (from {self.key_from})", fix, details,
                           data={"from": self.key_from})  # fmt: skip

    # -- 3. account ---------------------------------------------------------------------------------
    def check_account(self) -> CheckResult:
        title = "Account"
        fix = ("Set cato:accountId / CATO_ACCOUNT_ID to the account the key was created in (the CMA "
               "shows it in the URL and under Account > General); a reseller's key reaches only its "
               "customers' accounts")  # fmt: skip
        if not self.account:
            return CheckResult("account", title, ERROR, "no account id (--account-id, cato:accountId or "
                               "CATO_ACCOUNT_ID)", fix)  # fmt: skip
        origin = f" (from {self.account_from})"
        data = {"account_id": self.account, "from": self.account_from}
        try:
            got = self._client().execute("DoctorAccount")
        except (AuthenticationError, NotFoundError) as e:
            return CheckResult("account", title, ERROR, f"the key is valid but cannot reach account "
                               f"{self.account}{origin}: {e.error_message or e.message}", fix, data=data)  # fmt: skip
        except CatoError as e:
            return CheckResult("account", title, ERROR, f"could not read account {self.account}: {e}",
                               "Run again later", data=data)  # fmt: skip
        seen = str((got.get("accountSnapshot") or {}).get("id") or "")
        if seen and seen != self.account:
            return CheckResult("account", title, ERROR, f"asked for account {self.account}, Cato answered "
                               f"for {seen}", fix, data=data)  # fmt: skip
        return CheckResult("account", title, PASS, f"account {self.account} is reachable with this key{origin}",
                           data=data)  # fmt: skip

    # -- 4. permissions -----------------------------------------------------------------------------
    def check_permissions(self) -> CheckResult:
        """Each probe is a mutation that cannot write. Its answer tells the permission: Cato
        refuses a View key's mutations outright; an Edit key's probe fails on the id instead."""
        title = "Key permissions"
        client = self._client()
        found: dict[str, str] = {}
        details = []
        for area, op in PROBES.items():
            try:
                client.execute(op)
                found[area], why = "edit", "the probe succeeded (nothing to change)"
            except AuthenticationError as e:
                found[area], why = "view", e.error_message or e.message
            except PolicyMutationError as e:
                texts = " ".join(f"{x.get('errorCode')} {x.get('errorMessage')}" for x in e.errors).lower()
                denied = any(w in texts for w in _PERMISSION_WORDS)
                found[area] = "view" if denied else "edit"
                why = e.error_message or e.message
            except (NotFoundError, ValidationError) as e:
                found[area], why = "edit", e.error_message or e.message
            except RateLimitedError as e:
                found[area], why = "unknown", f"rate limited: {e.error_message or e.message}"
            except CatoError as e:
                found[area], why = "unknown", str(e)
            details.append(f"{area}: {found[area]} ({why})")
        data = {"permissions": found, "needed": self.opts.access}
        view = [a for a, p in found.items() if p == "view"]
        unknown = [a for a, p in found.items() if p == "unknown"]
        edit_fix = ("Use a key with Edit permission for pipelines that run `pulumi up`: in the CMA, create "
                    "an API key with API Permission 'Edit' (a service key's role must allow editing these "
                    "screens). For preview or drift only, pass --access view.")  # fmt: skip
        if self.opts.access == "edit" and view and len(view) == len(found):
            return CheckResult("permissions", title, ERROR,
                               "View-only key: `pulumi up` will fail with permission denied", edit_fix,
                               details, data)  # fmt: skip
        if self.opts.access == "edit" and view:
            return CheckResult("permissions", title, WARNING,
                               f"view only on {', '.join(view)}: `pulumi up` fails if the stack manages them",
                               edit_fix, details, data)  # fmt: skip
        if unknown:
            return CheckResult("permissions", title, WARNING, f"could not tell for {', '.join(unknown)}",
                               "Run again in a minute", details, data)  # fmt: skip
        kind = "Edit" if not view else "View"
        return CheckResult("permissions", title, PASS, f"{kind} permission; this pipeline needs "
                           f"{self.opts.access.capitalize()} (found without writing anything)",
                           None, details, data)  # fmt: skip

    # -- 5. schema drift ----------------------------------------------------------------------------
    def check_schema(self) -> CheckResult:
        title = "Schema drift"
        client = self._client()
        details = []
        try:
            try:
                data = client.execute("DoctorIntrospection")
            except ValidationError:
                # A server without deprecated arguments in introspection: its argument lists are whole.
                data = client.execute("DoctorIntrospectionLegacy")
                details.append("the API's introspection does not report deprecated arguments or input fields")
            drift = compare_introspection(data)
        except CatoError as e:
            return CheckResult("schema", title, WARNING, f"could not introspect the live schema: {e}",
                               "Run again later; until then deprecations and removals are unchecked")  # fmt: skip
        except NotASchemaError as e:
            return CheckResult("schema", title, WARNING, f"the introspection answer is not a schema: {e}",
                               "Report this to the catoiac maintainers")  # fmt: skip
        self.report.schema = drift
        errors, warnings = drift.count("error"), drift.count("warning")
        scope = (f"{drift.coordinates} schema coordinates used by {drift.operations} operations in "
                 f"{drift.documents} documents")  # fmt: skip
        for f in drift.findings:
            if f.severity != "info":
                details.append(f"{f.severity}: {f.problem} {f.kind} {f.coordinate}"
                               + (f" ({f.reason})" if f.reason else ""))  # fmt: skip
        if errors:
            return CheckResult("schema", title, ERROR,
                               f"{errors} used element(s) removed or changed, {warnings} deprecated ({scope})",
                               "Upgrade catoiac (`pip install -U catoiac`); if no release covers it yet, "
                               "report it: operations using these elements fail", details)  # fmt: skip
        if warnings:
            return CheckResult("schema", title, WARNING, f"{warnings} used element(s) deprecated ({scope})",
                               "Nothing fails yet: upgrade catoiac before the dates Cato announced; "
                               "report deprecations no release covers", details)  # fmt: skip
        return CheckResult("schema", title, PASS, f"the live API serves all {scope}", None, details)

    # -- 6. rate limits -----------------------------------------------------------------------------
    def check_rate_limits(self) -> CheckResult:
        title = "Rate limits"
        seen: dict[str, dict[str, str]] = {}
        for x in self.recorder.exchanges:
            found = {h: x.headers[h] for h in RATE_LIMIT_HEADERS if h in x.headers}
            if found:
                seen[x.operation or "?"] = found
        throttled = {}
        if self.client is not None:
            throttled = {
                op: s["throttled"] for op, s in self.client.stats.to_dict().items() if s["throttled"]
            }
        published = "; ".join(f"{k} {v}" for k, v in RateLimitTable.cato_defaults().as_rows())
        data: dict[str, Any] = {"headers": seen, "throttled": throttled}
        details = []
        low = []
        for op, hs in seen.items():
            details.append(f"{op}: " + ", ".join(f"{k}={v}" for k, v in sorted(hs.items())))
            remaining, limit = _int(hs, "remaining"), _int(hs, "limit")
            if remaining is not None and (remaining <= 2 or (limit and remaining < limit / 10)):
                low.append(f"{op} ({remaining} left)")
        if throttled:
            details.append(
                "throttled during this run: " + ", ".join(f"{k} x{v}" for k, v in throttled.items())
            )
        limits_fix = ("Limits are per account and operation, shared by every key of the account: find "
                      "what else calls the API (other pipelines, SIEM or drift schedules) and spread it out")  # fmt: skip
        if throttled or low:
            what = ", ".join([*(f"{k} throttled" for k in throttled), *low])
            return CheckResult("rate-limits", title, WARNING, f"little headroom now: {what}", limits_fix,
                               details, data)  # fmt: skip
        if seen:
            return CheckResult(
                "rate-limits", title, PASS, "headroom reported by the API", None, details, data
            )
        details.append(f"catoiac paces itself by Cato's published limits per minute: {published}")
        return CheckResult("rate-limits", title, PASS,
                           "not reported: the API sends no rate-limit headers (RateLimit-*, X-RateLimit-*), "
                           "and no call was throttled", None, details, data)  # fmt: skip

    # -- 7. clock -------------------------------------------------------------------------------------
    def check_clock(self) -> CheckResult:
        title = "Clock"
        best = None
        for x in self.recorder.exchanges:
            date = x.headers.get("date")
            try:
                server = parsedate_to_datetime(date).timestamp() if date else None
            except (TypeError, ValueError):
                server = None
            if server is None:
                continue
            rtt = x.received - x.sent
            if best is None or rtt < best[0]:
                best = (rtt, server, x)
        if best is None:
            return CheckResult("clock", title, SKIPPED, "skipped: no response carried a Date header")
        rtt, server, x = best
        # Date has whole seconds (the server's time is in [date, date+1)); the reply left the
        # server somewhere between our send and receive.
        skew = (server + 0.5) - (x.sent + x.received) / 2
        margin = rtt / 2 + 0.5
        data = {"skew_seconds": round(skew, 2), "uncertainty_seconds": round(margin, 2)}
        where = "ahead of" if skew < 0 else "behind"
        text = f"local clock is {abs(skew):.1f} s {where} the API's (±{margin:.1f} s)"
        if abs(skew) - margin > CLOCK_SKEW_WARN:
            return CheckResult("clock", title, WARNING, text + ": audit windows (drift, audit) will be off",
                               "Synchronise this machine's clock (NTP: `timedatectl set-ntp true`, "
                               "`chronyc makestep`)", data=data)  # fmt: skip
        return CheckResult("clock", title, PASS, text, data=data)


def _int(headers: Mapping[str, str], suffix: str) -> int | None:
    for name, value in headers.items():
        if name.endswith(suffix):
            try:
                return int(str(value).split(",")[0].split(";")[0].strip())
            except ValueError:
                return None
    if "ratelimit" in headers:  # the draft's structured form: limit=100, remaining=50, reset=30
        for part in str(headers["ratelimit"]).replace(";", ",").split(","):
            k, _, v = part.strip().partition("=")
            if k == suffix and v.strip().isdigit():
                return int(v)
    return None


def run_doctor(opts: DoctorOptions) -> DoctorReport:
    return Doctor(opts).run()
