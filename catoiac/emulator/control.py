"""HTTP client for the emulator's operator endpoints (outside the Cato schema)."""

from __future__ import annotations

import os
from typing import Any

import yaml

from catoiac._httpx import httpx, tls_context

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
            base_url=base_url.split("/api/")[0],
            timeout=timeout,
            headers=headers,
            trust_env=False,
            verify=tls_context(trust_env=False),
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

    # -- monitoring: what catoiac health sees --------------------------------------------------------
    def _monitor(self, account_id: str, verb: str, /, **spec: Any) -> Any:
        return self._ok(self._http.post(f"/_emulator/monitoring/{account_id}/{verb}", json=spec))

    def take_down(self, account_id: str, site: str, link: str | None = None, **spec: Any) -> dict[str, Any]:
        """Take a site (or one of its WAN links: slot, name or index) down; returns the condition."""
        return self._monitor(account_id, "down", site=site, link=link, **spec)

    def impair(
        self,
        account_id: str,
        site: str,
        link: str | None = None,
        *,
        loss_pct: float = 0,
        latency_ms: float = 0,
        jitter_ms: float = 0,
        **spec: Any,
    ) -> dict[str, Any]:
        """Add packet loss, latency or jitter to a site's links (or one link); returns the condition."""
        return self._monitor(account_id, "impair", site=site, link=link, loss_pct=loss_pct,
                             latency_ms=latency_ms, jitter_ms=jitter_ms, **spec)  # fmt: skip

    def set_ha(self, account_id: str, site: str, **status: str) -> dict[str, Any]:
        """Make a site an HA pair in a state: readiness, keepalive, wan_connectivity, socket_version."""
        return self._monitor(account_id, "ha", site=site, **status)

    def set_operational_status(self, account_id: str, site: str, status: str) -> dict[str, Any]:
        """A site's operational status (locked, disabled...) until restored."""
        return self._monitor(account_id, "status", site=site, operational_status=status)

    def restore(self, account_id: str, condition_id: str) -> dict[str, Any]:
        """End a condition (a link back up, loss gone); its history stays."""
        return self._monitor(account_id, "restore", id=condition_id)

    def conditions(self, account_id: str) -> list[dict[str, Any]]:
        return self._ok(self._http.get(f"/_emulator/monitoring/{account_id}/conditions"))

    def inject_event(self, account_id: str, **fields: Any) -> dict[str, Any]:
        """An eventsFeed event: event_type, event_sub_type, site, link and Cato's event fields."""
        return self._monitor(account_id, "event", **fields)

    def inject_story(self, account_id: str, **fields: Any) -> dict[str, Any]:
        """An XDR story: site, producer, indication, criticality, status, summary, link."""
        return self._monitor(account_id, "story", **fields)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> EmulatorControl:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
