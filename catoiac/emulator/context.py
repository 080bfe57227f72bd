"""Per-request context and the errors resolvers raise, shaped like the real API's."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from graphql import GraphQLError

from .store import Identity, Store


class CatoGraphQLError(GraphQLError):
    """A top-level GraphQL error as Cato returns it (HTTP 200, ``errors[]``)."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message, extensions={"code": code} if code else None)


def not_found(what: str, ident: str) -> CatoGraphQLError:
    return CatoGraphQLError(f"{what} with id {ident} not found", "NOT_FOUND")


def invalid(message: str) -> CatoGraphQLError:
    return CatoGraphQLError(message, "BAD_USER_INPUT")


PERMISSION_DENIED = "permission denied"


@dataclass
class RequestContext:
    store: Store
    identity: Identity
    now: datetime
    operation_names: list[str] = field(default_factory=list)
    # Values domains stash for the rest of the request (e.g. a resolved catalog).
    scratch: dict[str, Any] = field(default_factory=dict)

    @property
    def account_id(self) -> str:
        return self.identity.account_id

    def check_account(self, account_id: str | None) -> None:
        if account_id is not None and str(account_id) != self.account_id:
            raise CatoGraphQLError(PERMISSION_DENIED, "PERMISSION_DENIED")
