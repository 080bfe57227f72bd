"""Client configuration: credentials, endpoint and timeouts, from arguments or the environment."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from catoiac import __version__
from catoiac.errors import ConfigurationError

DEFAULT_BASE_URL = "https://api.catonetworks.com/api/v1/graphql2"
DEFAULT_TIMEOUT = 30.0
DEFAULT_USER_AGENT = f"catoiac/{__version__}"

ENV_API_KEY = "CATO_TOKEN"
ENV_ACCOUNT_ID = "CATO_ACCOUNT_ID"
ENV_BASE_URL = "CATO_BASEURL"


def is_loopback_host(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() == "localhost" or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_base_url(url: str) -> str:
    """Refuse URLs that would send the API key in clear text to another machine."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(f"base_url must be an http(s) URL with a host, got {url!r}")
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise ConfigurationError(
            f"Refusing plain http:// to {parts.hostname}: the API key would travel unencrypted. "
            "Use https://, or http:// only to a loopback host (127.0.0.0/8, ::1, localhost)"
        )
    return url


@dataclass(frozen=True, repr=False)
class ClientConfig:
    api_key: str = field(repr=False)
    account_id: str
    base_url: str = DEFAULT_BASE_URL
    timeout: float = DEFAULT_TIMEOUT
    user_agent: str = DEFAULT_USER_AGENT

    def __post_init__(self) -> None:
        if not self.api_key or not str(self.api_key).strip():
            raise ConfigurationError(f"Missing Cato API key: pass api_key= or set {ENV_API_KEY}")
        if not self.account_id or not str(self.account_id).strip():
            raise ConfigurationError(f"Missing Cato account id: pass account_id= or set {ENV_ACCOUNT_ID}")
        object.__setattr__(self, "account_id", str(self.account_id).strip())
        check_base_url(self.base_url)
        if not self.timeout or self.timeout <= 0:
            raise ConfigurationError(f"timeout must be a positive number of seconds, got {self.timeout!r}")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> ClientConfig:
        """Build from CATO_TOKEN, CATO_ACCOUNT_ID, CATO_BASEURL; non-None keyword arguments win."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {
            "api_key": env.get(ENV_API_KEY) or None,
            "account_id": env.get(ENV_ACCOUNT_ID) or None,
        }
        if env.get(ENV_BASE_URL):
            values["base_url"] = env[ENV_BASE_URL]
        values.update({k: v for k, v in overrides.items() if v is not None})
        values.setdefault("api_key", None)
        return cls(**values)

    def __repr__(self) -> str:
        # Never any part of the key: even a suffix narrows a brute-force search.
        return (
            f"ClientConfig(api_key=<redacted>, account_id={self.account_id!r}, base_url={self.base_url!r}, "
            f"timeout={self.timeout!r}, user_agent={self.user_agent!r})"
        )

    __str__ = __repr__
