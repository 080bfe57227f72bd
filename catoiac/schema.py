"""The project's subset of Cato's schema (the emulator's SDL), loaded once per process.

The client, the specs and the emulator all read names from it: enums, namespace types, rule inputs.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from graphql import GraphQLSchema, build_schema


@cache
def subset_schema() -> GraphQLSchema:
    text = resources.files("catoiac.emulator").joinpath("schema/emulator.graphqls").read_text()
    return build_schema(text)


def is_namespace(type_name: str) -> bool:
    """Cato groups operations under namespace types (``SiteMutations``, ``PolicyQueries``...)."""
    return type_name.endswith(("Queries", "Mutations"))
