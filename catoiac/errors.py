"""Typed errors for the Cato API client.

Every error carries what an operator needs to act on it: the operation, the GraphQL path, Cato's
errorCode/errorMessage, the trace id Cato support will ask for, and the HTTP status.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

RATE_LIMIT_PREFIX = "rate limit for operation:"
# As Cato's Go SDK (cato-go-sdk cato.go, baseRetryPolicy) detects a rate limit: "ratelimit",
# "rate-limit" or "rate limit" anywhere in a message of `errors`, `networkErrors` or `graphqlErrors`.
# Case-insensitive here: a missed rate limit fails a run, a false one only costs a retry.
RATE_LIMIT_PATTERN = re.compile(r"rate[ -]?limit", re.IGNORECASE)
ERROR_LISTS = ("errors", "networkErrors", "graphqlErrors")

_AUTH_PATTERNS = re.compile(
    r"permission denied|unauthori[sz]ed|unauthenticated|forbidden|invalid api[ _-]?key|"
    r"api[ _-]?key (is )?(invalid|expired|missing|revoked)|authentication|not authori[sz]ed|access denied",
    re.IGNORECASE,
)
_VALIDATION_PATTERNS = re.compile(
    r"cannot query field|unknown argument|unknown type|variable \S+ of required type|"
    r"variable \S+ got invalid value|expected type|is not defined by type|argument \S+ of type|"
    r"syntax error|must have a selection|must not have a selection|invalid input|validation",
    re.IGNORECASE,
)
_VALIDATION_CODES = {"GRAPHQL_VALIDATION_FAILED", "GRAPHQL_PARSE_FAILED", "BAD_USER_INPUT", "BAD_REQUEST"}
_AUTH_CODES = {"UNAUTHENTICATED", "UNAUTHORIZED"}
# A key Cato accepted but that may not do this (wrong account, or not enough permission).
_DENIED_PATTERNS = re.compile(r"permission denied|not authori[sz]ed|access denied|forbidden", re.IGNORECASE)
_DENIED_CODES = {"FORBIDDEN", "PERMISSION_DENIED"}
_NOT_FOUND_CODES = {"NOT_FOUND"}

Scrub = Callable[[str], str]


def is_rate_limit_message(message: Any) -> bool:
    return isinstance(message, str) and bool(RATE_LIMIT_PATTERN.search(message))


def _scrubbed(value: Any, scrub: Scrub) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, Mapping):
        return {k: _scrubbed(v, scrub) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_scrubbed(v, scrub) for v in value)
    return value


class CatoError(Exception):
    """Base of every error the client raises."""

    def __init__(
        self,
        message: str,
        *,
        operation: str | None = None,
        path: Sequence[str | int] | str | None = None,
        error_code: str | None = None,
        error_message: str | None = None,
        trace_id: str | None = None,
        http_status: int | None = None,
        attempts: int | None = None,
    ) -> None:
        self.message = message
        self.operation = operation
        self.path = ".".join(str(p) for p in path) if isinstance(path, list | tuple) else path
        self.error_code = error_code
        self.error_message = error_message
        self.trace_id = trace_id
        self.http_status = http_status
        self.attempts = attempts
        super().__init__(self.__str__())

    def _details(self) -> list[str]:
        parts = []
        if self.operation:
            parts.append(f"operation={self.operation}")
        if self.path:
            parts.append(f"path={self.path}")
        if self.error_code:
            parts.append(f"errorCode={self.error_code}")
        if self.http_status is not None:
            parts.append(f"http={self.http_status}")
        if self.attempts and self.attempts > 1:
            parts.append(f"attempts={self.attempts}")
        if self.trace_id:
            parts.append(f"trace={self.trace_id}")
        return parts

    def __str__(self) -> str:
        details = self._details()
        return f"{self.message} [{' '.join(details)}]" if details else self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"

    def redact(self, scrub: Scrub) -> CatoError:
        """Apply ``scrub`` to every text this error carries, in every attribute a subclass adds too
        (servers may echo secrets back, in any field)."""
        for name, value in list(vars(self).items()):
            if not name.startswith("__"):
                setattr(self, name, _scrubbed(value, scrub))
        self.args = (self.__str__(),)
        return self


class ConfigurationError(CatoError, ValueError):
    """The client configuration is missing or unsafe; nothing was sent."""


class UnknownOperationError(CatoError, LookupError):
    """No GraphQL document defines an operation with that name."""


class AuthenticationError(CatoError):
    """The API key is missing, wrong, expired, or lacks permission for this account/operation."""


class PermissionDeniedError(AuthenticationError):
    """Cato accepted the key but refused this operation: not enough permission (a view-only key)."""


class WrongAccountError(PermissionDeniedError):
    """Cato accepted the key but it has no access to the account id asked for: a wrong account id."""


class RateLimitedError(CatoError):
    """Cato refused the call for its per-account, per-operation rate limit (retries exhausted)."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kw)


class NotFoundError(CatoError):
    """The object the operation referred to does not exist (or is not visible to this key)."""


class ValidationError(CatoError):
    """The document or its variables were rejected (GraphQL validation or bad input)."""


class ApiError(CatoError):
    """Any other error Cato reported: server errors, unexpected answers."""


class TransportError(CatoError):
    """The request could not be completed over the network (retries exhausted)."""


class UnreachableError(TransportError):
    """No connection could be made at all (refused, no such host): the endpoint is wrong or down."""


class OutcomeUnknownError(CatoError):
    """A mutation was sent but its reply was lost: look the object up before retrying."""


class PolicyMutationError(CatoError):
    """A mutation payload answered ``status: FAILURE``; ``errors`` holds Cato's {errorCode, errorMessage}."""

    def __init__(self, message: str, *, errors: Sequence[Mapping[str, Any]] = (), **kw: Any) -> None:
        self.errors = [dict(e) for e in errors]
        super().__init__(message, **kw)


def _extensions_code(error: Mapping[str, Any]) -> str | None:
    ext = error.get("extensions")
    if not isinstance(ext, Mapping):
        return None
    code = ext.get("errorCode") or ext.get("code")
    return str(code) if code is not None else None


def _error_trace_id(error: Mapping[str, Any]) -> str | None:
    ext = error.get("extensions")
    if isinstance(ext, Mapping):
        for key in ("traceId", "traceID", "trace_id", "requestId"):
            if ext.get(key):
                return str(ext[key])
    return None


def classify_graphql_error(
    error: Mapping[str, Any],
    *,
    operation: str | None,
    http_status: int | None,
    trace_id: str | None,
    extra_errors: int = 0,
    key_settings: str = "cato:apiKey, CATO_TOKEN or --api-key",
    account_settings: str = "cato:accountId, CATO_ACCOUNT_ID or --account-id",
) -> CatoError:
    """Map one top-level GraphQL error object to the most specific typed error.

    Cato's error texts are not a stable contract, so matching is deliberately lenient.
    """
    raw_message = str(error.get("message") or "unknown error")
    code = _extensions_code(error)
    code_upper = (code or "").upper()
    path = error.get("path") if isinstance(error.get("path"), list) else None
    kw: dict[str, Any] = dict(
        operation=operation,
        path=path,
        error_code=code,
        error_message=raw_message,
        trace_id=_error_trace_id(error) or trace_id,
        http_status=http_status,
    )
    suffix = f" (+{extra_errors} more error{'s' if extra_errors > 1 else ''})" if extra_errors else ""
    lower = raw_message.lower()
    if is_rate_limit_message(raw_message):
        return RateLimitedError(f"Cato rate limit hit: {raw_message}{suffix}", **kw)
    if http_status not in (401, 403) and (
        code_upper in _DENIED_CODES or _DENIED_PATTERNS.search(raw_message)
    ):
        # HTTP 200: the key was accepted. The client tells a wrong account from a missing permission.
        return PermissionDeniedError(
            f"Cato refused the operation: {raw_message}{suffix}. The account id may be wrong ({account_settings}), "
            "or the API key may lack permission for it",
            **kw,
        )
    if http_status in (401, 403) or code_upper in _AUTH_CODES or _AUTH_PATTERNS.search(raw_message):
        return AuthenticationError(
            f"Cato refused the API key: {raw_message}{suffix}. Check the key ({key_settings}): it may be "
            "mistyped, expired or revoked",
            **kw,
        )
    if code_upper in _NOT_FOUND_CODES or "not found" in lower:
        return NotFoundError(f"Not found: {raw_message}{suffix}", **kw)
    if code_upper in _VALIDATION_CODES or _VALIDATION_PATTERNS.search(raw_message):
        return ValidationError(f"Request rejected: {raw_message}{suffix}", **kw)
    return ApiError(f"Cato API error: {raw_message}{suffix}", **kw)


def find_mutation_failures(data: Any, path: tuple[str | int, ...] = ()) -> list[tuple[str, list[dict]]]:
    """Every dict in ``data`` with ``status == "FAILURE"``, as (dotted path, errors)."""
    found: list[tuple[str, list[dict]]] = []
    if isinstance(data, Mapping):
        if data.get("status") == "FAILURE":
            errors = data.get("errors")
            found.append((".".join(map(str, path)), [e for e in errors or [] if isinstance(e, Mapping)]))
        for key, value in data.items():
            found.extend(find_mutation_failures(value, (*path, key)))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            found.extend(find_mutation_failures(value, (*path, i)))
    return found


def raise_for_mutation_failures(
    data: Any, *, operation: str | None = None, trace_id: str | None = None
) -> None:
    """Raise PolicyMutationError if any payload in ``data`` answered ``status: FAILURE``."""
    failures = find_mutation_failures(data)
    if not failures:
        return
    path, errors = failures[0]
    errors = [dict(e) for _, errs in failures for e in errs]
    described = (
        "; ".join(f"{e.get('errorCode') or '?'}: {e.get('errorMessage') or 'no message'}" for e in errors)
        or "no errors given"
    )
    first = errors[0] if errors else {}
    where = ", ".join(p for p, _ in failures)
    raise PolicyMutationError(
        f"Mutation failed at {where}: {described}",
        errors=errors,
        operation=operation,
        path=path,
        error_code=first.get("errorCode"),
        error_message=first.get("errorMessage"),
        trace_id=trace_id,
    )
