"""A client plus its account reader, created lazily once per process and account."""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .client import CatoClient
from .config import ClientConfig
from .errors import ConfigurationError
from .ratelimit import RateLimitTable
from .readpath import AccountReader


@dataclass(frozen=True)
class Credentials:
    api_key: str | None
    account_id: str | None
    endpoint: str | None

    @classmethod
    def resolve(cls, config: Mapping[str, Any] | None = None) -> Credentials:
        """Stack config (``cato:apiKey``, ``cato:accountId``, ``cato:endpoint``) first, then the
        environment variables the official tools use."""
        config = config or {}
        return cls(
            api_key=config.get("cato:apiKey") or os.environ.get("CATO_TOKEN"),
            account_id=config.get("cato:accountId") or os.environ.get("CATO_ACCOUNT_ID"),
            endpoint=config.get("cato:endpoint") or os.environ.get("CATO_BASEURL"),
        )

    def problems(self) -> list[tuple[str, str]]:
        out = []
        if not self.api_key:
            out.append(
                (
                    "cato:apiKey",
                    "no Cato API key: run `pulumi config set --secret cato:apiKey <key>` or set CATO_TOKEN",
                )
            )
        if not self.account_id:
            out.append(
                (
                    "cato:accountId",
                    "no account id: run `pulumi config set cato:accountId <id>` or set CATO_ACCOUNT_ID",
                )
            )
        return out

    def key_fingerprint(self) -> str:
        return hashlib.sha256((self.api_key or "").encode()).hexdigest()[:16]


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


class SessionPool:
    """Sessions by (endpoint, account, key fingerprint): every resource in a provider process
    shares one client, one rate limiter and one read cache per account."""

    def __init__(self) -> None:
        self._sessions: dict[tuple[str, str, str], Session] = {}
        self._lock = threading.Lock()

    def get(self, creds: Credentials) -> Session:
        problems = creds.problems()
        if problems:
            raise ConfigurationError("; ".join(reason for _, reason in problems))
        key = (creds.endpoint or "", str(creds.account_id), creds.key_fingerprint())
        with self._lock:
            session = self._sessions.get(key)
            if session is None:
                overrides = {"api_key": creds.api_key, "account_id": str(creds.account_id)}
                if creds.endpoint:
                    overrides["base_url"] = creds.endpoint
                session = Session(CatoClient(ClientConfig.from_env(**overrides), limits=_limits()))
                self._sessions[key] = session
            return session
