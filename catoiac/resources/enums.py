"""Enum values from the project's Cato schema subset, so specs never hand-copy Cato's enums."""

from __future__ import annotations

from functools import cache, lru_cache
from importlib import resources

from graphql import GraphQLEnumType, GraphQLSchema, build_schema


@lru_cache(maxsize=1)
def _schema() -> GraphQLSchema:
    text = resources.files("catoiac.emulator").joinpath("schema/emulator.graphqls").read_text()
    return build_schema(text)


@cache
def enum_values(name: str) -> list[str]:
    t = _schema().get_type(name)
    if not isinstance(t, GraphQLEnumType):
        raise KeyError(f"{name} is not an enum in the Cato schema subset")
    return sorted(t.values)
