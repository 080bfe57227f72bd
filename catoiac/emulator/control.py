"""HTTP client for the emulator's operator endpoints (outside the Cato schema)."""

from __future__ import annotations

import os
from typing import Any

import httpx
import yaml

TOKEN_ENV = "CATOIAC_EMULATOR_TOKEN"


class EmulatorControlError(RuntimeError):
    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class EmulatorControl:
    def __init__(self, base_url: str, *, timeout: float = 30.0, token: str | None = None) -> None:
        """``token``: the emulator's operator token (default: env CATOIAC_EMULATOR_TOKEN), needed
        when it was started with one (always, off loopback)."""
        # base_url is the server root (http://127.0.0.1:PORT), not the GraphQL path.
        token = token or os.environ.get(TOKEN_ENV) or None
        headers = {"authorization": f"Bearer {token}"} if token else {}
        # Straight to the emulator: an environment proxy must not see the token.
        self._http = httpx.Client(
            base_url=base_url.split("/api/")[0], timeout=timeout, headers=headers, trust_env=False
        )

    def _ok(self, r: httpx.Response) -> Any:
        if r.status_code >= 400:
            raise EmulatorControlError(
                f"emulator control {r.request.url.path}: HTTP {r.status_code}: {r.text}", r.status_code
            )
        return r.json()

    def seed(self, fixture: dict[str, Any] | str) -> None:
        text = fixture if isinstance(fixture, str) else yaml.safe_dump(fixture)
        self._ok(self._http.post("/_emulator/seed", content=text))

    def reset(self) -> None:
        self._ok(self._http.post("/_emulator/reset"))

    def as_admin(
        self, account_id: str, admin: str, query: str, variables: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Run a GraphQL document as an admin in the Cato UI (an out-of-band human change)."""
        r = self._http.post(
            f"/_emulator/ui/{account_id}",
            params={"admin": admin},
            json={"query": query, "variables": variables or {}},
        )
        return self._ok(r)

    def add_fault(self, kind: str, **spec: Any) -> None:
        self._ok(self._http.post("/_emulator/faults", json={"kind": kind, **spec}))

    def clear_faults(self) -> None:
        self._ok(self._http.delete("/_emulator/faults"))

    def faults(self) -> list[dict[str, Any]]:
        return self._ok(self._http.get("/_emulator/faults"))["faults"]

    def rate_limits(self, **spec: Any) -> dict[str, Any]:
        return self._ok(self._http.post("/_emulator/ratelimits", json=spec))

    def stats(self) -> dict[str, int]:
        return self._ok(self._http.get("/_emulator/stats"))["calls"]

    def reset_stats(self) -> None:
        self._ok(self._http.delete("/_emulator/stats"))

    def advance_clock(self, seconds: float) -> str:
        return self._ok(self._http.post("/_emulator/clock", json={"advance": seconds}))["now"]

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> EmulatorControl:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
