"""Enum values from the project's Cato schema subset, so specs never hand-copy Cato's enums."""

from __future__ import annotations

from functools import cache

from graphql import GraphQLEnumType

from ..schema import subset_schema


@cache
def enum_values(name: str) -> list[str]:
    t = subset_schema().get_type(name)
    if not isinstance(t, GraphQLEnumType):
        raise KeyError(f"{name} is not an enum in the Cato schema subset")
    return sorted(t.values)
