"""A client plus its account reader, created lazily once per process and account."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .config import ClientConfig
from .errors import ConfigurationError
from .ratelimit import RateLimitTable
from .readpath import AccountReader
from .secrets import REDACTOR, api_key_problem

if TYPE_CHECKING:
    from .client import CatoClient

CONFIG_KEY, CONFIG_ACCOUNT, CONFIG_ENDPOINT = "cato:apiKey", "cato:accountId", "cato:endpoint"


@dataclass(frozen=True, repr=False)
class Credentials:
    api_key: str | None
    account_id: str | None
    endpoint: str | None
    # Where each came from, as the user knows it ("cato:apiKey" or "CATO_TOKEN"): errors name it.
    key_setting: str = CONFIG_KEY
    account_setting: str = CONFIG_ACCOUNT
    endpoint_setting: str = CONFIG_ENDPOINT

    @classmethod
    def resolve(cls, config: Mapping[str, Any] | None = None) -> Credentials:
        """Stack config (``cato:apiKey``, ``cato:accountId``, ``cato:endpoint``) first, then the
        environment variables the official tools use."""
        config = config or {}
        picked: dict[str, Any] = {}
        for field, key, var in (
            ("api_key", CONFIG_KEY, "CATO_TOKEN"),
            ("account_id", CONFIG_ACCOUNT, "CATO_ACCOUNT_ID"),
            ("endpoint", CONFIG_ENDPOINT, "CATO_BASEURL"),
        ):
            setting = field.split("_")[0] if field != "api_key" else "key"
            if config.get(key):
                picked[field], picked[f"{setting}_setting"] = config[key], key
            else:
                picked[field], picked[f"{setting}_setting"] = os.environ.get(var) or None, var
        return cls(**picked)

    def __repr__(self) -> str:
        return (
            f"Credentials(api_key=[secret], account_id={self.account_id!r}, endpoint={self.endpoint!r}, "
            f"key_setting={self.key_setting!r})"
        )

    def problems(self) -> list[tuple[str, str]]:
        out = []
        if not self.api_key:
            out.append(
                (
                    CONFIG_KEY,
                    "no Cato API key: run `pulumi config set --secret cato:apiKey <key>` or set CATO_TOKEN",
                )
            )
        else:
            problem = api_key_problem(self.api_key, self.key_setting)
            if problem:
                out.append((CONFIG_KEY, problem))
        if not self.account_id:
            out.append(
                (
                    CONFIG_ACCOUNT,
                    "no account id: run `pulumi config set cato:accountId <id>` or set CATO_ACCOUNT_ID",
                )
            )
        return out

    def key_fingerprint(self) -> str:
        return hashlib.sha256((self.api_key or "").encode()).hexdigest()[:16]

    def client_config(self) -> ClientConfig:
        overrides: dict[str, Any] = {
            "api_key": self.api_key,
            "account_id": str(self.account_id),
            "key_setting": self.key_setting,
            "account_setting": self.account_setting,
        }
        if self.endpoint:
            overrides |= {"base_url": self.endpoint, "endpoint_setting": self.endpoint_setting}
        return ClientConfig.from_env(**overrides)


def stack_config_value(key: str, stack: str, *, cwd: str | None = None, timeout: float = 120) -> str | None:
    """``pulumi config get <key> --stack <stack>`` (secrets decrypted, as the provider gets them), or
    None when pulumi is missing, the key is not set, or the stack's secrets cannot be opened.

    The value is only ever held in memory; it joins the redaction policy before anyone sees it."""
    exe = shutil.which("pulumi")
    if not exe or not stack:
        return None
    cmd = [exe, "config", "get", key, "--json", "--stack", stack, "--non-interactive", "--color=never"]
    try:
        res = subprocess.run(
            cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if res.returncode != 0:
        return None
    try:
        value = json.loads(res.stdout).get("value")
    except (ValueError, AttributeError):
        return None
    if isinstance(value, str) and value:
        REDACTOR.add(value)
        return value
    return None


def _limits() -> RateLimitTable:
    """Cato's documented limits; CATOIAC_RATE_LIMIT_SCALE shrinks their windows (tests against
    an emulator with limits off use a tiny scale so pacing does not slow them down)."""
    scale = float(os.environ.get("CATOIAC_RATE_LIMIT_SCALE") or 1.0)
    return RateLimitTable.cato_defaults(scale=scale)


class Session:
    def __init__(self, client: CatoClient) -> None:
        self.client = client
        self.reader = AccountReader(client)

    @property
    def account_id(self) -> str:
        return str(self.client.config.account_id)


# Asked for a newer key when Cato refuses the one in use: (key in use) -> another key, or None.
KeyRefresher = Callable[[str], "str | None"]


class SessionPool:
    """Sessions by (endpoint, account, key fingerprint): every resource in a provider process
    shares one client, one rate limiter and one read cache per account."""

    def __init__(self) -> None:
        self._sessions: dict[tuple[str, str, str], Session] = {}
        self._lock = threading.Lock()

    def get(self, creds: Credentials, *, refresh_key: KeyRefresher | None = None) -> Session:
        problems = creds.problems()
        if problems:
            raise ConfigurationError("; ".join(reason for _, reason in problems))
        key = (creds.endpoint or "", str(creds.account_id), creds.key_fingerprint())
        with self._lock:
            session = self._sessions.get(key)
            if session is None:
                # The HTTP client loads with the first session: a provider process checking inputs
                # without credentials, or a program, never needs it.
                from .client import CatoClient

                client = CatoClient(creds.client_config(), limits=_limits())
                client.refresh_key = refresh_key
                session = Session(client)
                self._sessions[key] = session
            return session
