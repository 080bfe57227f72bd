"""Binds root fields to domain resolvers.

Domains register root handlers with ``@query("name")`` / ``@mutation("name")``. Namespace fields
(``site``, ``policy``...) return plain objects whose methods resolve the nested fields: the field
resolver calls any callable attribute (or dict value) with ``(info, **args)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import GraphQLResolveInfo

from .context import RequestContext

Handler = Callable[..., Any]
QUERY: dict[str, Handler] = {}
MUTATION: dict[str, Handler] = {}
SEEDERS: list[Callable[[RequestContext, dict[str, Any]], None]] = []
_ACCOUNT_ARGS = ("accountId", "accountID")


def query(name: str) -> Callable[[Handler], Handler]:
    def deco(fn: Handler) -> Handler:
        QUERY[name] = fn
        return fn

    return deco


def mutation(name: str) -> Callable[[Handler], Handler]:
    def deco(fn: Handler) -> Handler:
        MUTATION[name] = fn
        return fn

    return deco


def seeder(fn: Callable[[RequestContext, dict[str, Any]], None]) -> Callable:
    """Register a function that loads one account's fixture section into the store."""
    SEEDERS.append(fn)
    return fn


class Root:
    """Root value: dispatches to registered handlers after the account check."""

    def __init__(self, handlers: dict[str, Handler]) -> None:
        self._handlers = handlers

    def resolve(self, name: str, info: GraphQLResolveInfo, args: dict[str, Any]) -> Any:
        ctx: RequestContext = info.context
        for a in _ACCOUNT_ARGS:
            if a in args:
                ctx.check_account(args[a])
        for acc in args.get("accountIDs") or []:
            ctx.check_account(acc)
        handler = self._handlers.get(name)
        if handler is None:
            return None
        return handler(ctx, info, **args)


def field_resolver(source: Any, info: GraphQLResolveInfo, **args: Any) -> Any:
    if isinstance(source, Root):
        return source.resolve(info.field_name, info, args)
    value = (
        source.get(info.field_name) if isinstance(source, dict) else getattr(source, info.field_name, None)
    )
    if callable(value):
        return value(info, **args)
    return value
