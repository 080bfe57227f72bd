"""Shared plumbing of the resource classes."""

from __future__ import annotations

from typing import Any, ClassVar

import pulumi
from pulumi.dynamic import Resource

from .provider import CatoProvider


def props_of(args: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments to a property bag: unset (None) ones are left out."""
    return {
        k: v
        for k, v in args.items()
        if v is not None and k not in ("self", "resource_name", "opts", "__class__")
    }


class CatoResource(Resource):
    """A Cato object managed by the catoiac engine; ``resource_id`` is Cato's id for it."""

    _spec: ClassVar[str]
    resource_id: pulumi.Output[str]

    def __init__(
        self, resource_name: str, props: dict[str, Any], opts: pulumi.ResourceOptions | None
    ) -> None:
        # Outputs must be named in the property bag to become attributes.
        super().__init__(CatoProvider(self._spec), resource_name, {"resource_id": None, **props}, opts)
