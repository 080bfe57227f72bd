"""Enum values from the project's Cato schema subset, so specs never hand-copy Cato's enums.

Specs read them at import, in every process that imports ``pulumi_cato``; building the schema for
that costs far more than the rest of the import. So they come from ``catoiac/schema_names.py``,
generated from the subset by ``catoiac emulator gen-schema`` (tests/test_schema_cache.py checks it is
current), with the names of the subset's input object types (``InputModel`` checks those).
"""

from __future__ import annotations

from functools import cache

from ..schema_names import ENUMS, INPUT_OBJECTS


@cache
def enum_values(name: str) -> list[str]:
    values = ENUMS.get(name)
    if values is None:
        raise KeyError(f"{name} is not an enum in the Cato schema subset")
    return list(values)


def is_input_object(name: str) -> bool:
    return name in INPUT_OBJECTS
