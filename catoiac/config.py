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
from catoiac.secrets import api_key_problem

DEFAULT_BASE_URL = "https://api.catonetworks.com/api/v1/graphql2"
DEFAULT_TIMEOUT = 30.0
DEFAULT_USER_AGENT = f"catoiac/{__version__}"

ENV_API_KEY = "CATO_TOKEN"
ENV_ACCOUNT_ID = "CATO_ACCOUNT_ID"
ENV_BASE_URL = "CATO_BASEURL"
# Where users set each value; errors name these, never an internal variable.
KEY_SETTINGS = "cato:apiKey, CATO_TOKEN or --api-key"
ACCOUNT_SETTINGS = "cato:accountId, CATO_ACCOUNT_ID or --account-id"
ENDPOINT_SETTINGS = "cato:endpoint, CATO_BASEURL or --endpoint"


def is_loopback_host(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() == "localhost" or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_base_url(url: str, setting: str = ENDPOINT_SETTINGS) -> str:
    """Refuse URLs that would send the API key in clear text to another machine."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:  # e.g. an unbalanced IPv6 bracket
        parts, host = None, None
    if parts is None or parts.scheme not in ("http", "https") or not host:
        hint = ""
        if parts is not None and not parts.scheme and (parts.path or "").split("/")[0]:
            hint = f" (no scheme: did you mean https://{url}?)"
        raise ConfigurationError(
            f"The Cato endpoint {url!r} is not an http(s) URL with a host{hint}. Set {setting} to the "
            f"GraphQL URL, e.g. {DEFAULT_BASE_URL}"
        )
    if parts.scheme == "http" and not is_loopback_host(host):
        raise ConfigurationError(
            f"Refusing plain http:// to {host} ({setting}): the API key would travel unencrypted. "
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
    # Where each value came from, as the user knows it ("cato:apiKey", "CATO_TOKEN", "--api-key"):
    # errors name it.
    key_setting: str = KEY_SETTINGS
    account_setting: str = ACCOUNT_SETTINGS
    endpoint_setting: str = ENDPOINT_SETTINGS

    def __post_init__(self) -> None:
        problem = api_key_problem(self.api_key, self.key_setting)
        if problem:
            raise ConfigurationError(problem[:1].upper() + problem[1:])
        if not self.account_id or not str(self.account_id).strip():
            raise ConfigurationError(f"Missing Cato account id: set {self.account_setting}")
        object.__setattr__(self, "account_id", str(self.account_id).strip())
        check_base_url(self.base_url, self.endpoint_setting)
        if not self.timeout or self.timeout <= 0:
            raise ConfigurationError(f"timeout must be a positive number of seconds, got {self.timeout!r}")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> ClientConfig:
        """Build from CATO_TOKEN, CATO_ACCOUNT_ID, CATO_BASEURL; non-None keyword arguments win.

        A value taken from the environment is named by its variable in errors."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {
            "api_key": env.get(ENV_API_KEY) or None,
            "account_id": env.get(ENV_ACCOUNT_ID) or None,
        }
        for name, var, setting in (
            ("api_key", ENV_API_KEY, "key_setting"),
            ("account_id", ENV_ACCOUNT_ID, "account_setting"),
            ("base_url", ENV_BASE_URL, "endpoint_setting"),
        ):
            if env.get(var) and overrides.get(name) is None:
                values[name] = env[var]
                values[setting] = var
        values.update({k: v for k, v in overrides.items() if v is not None})
        values.setdefault("api_key", None)
        return cls(**values)

    def __repr__(self) -> str:
        # Never any part of the key: even a suffix narrows a brute-force search.
        return (
            f"ClientConfig(api_key=[secret], account_id={self.account_id!r}, base_url={self.base_url!r}, "
            f"timeout={self.timeout!r}, user_agent={self.user_agent!r})"
        )

    __str__ = __repr__
