"""Shared plumbing of the resource classes."""

from __future__ import annotations

import copy
from typing import Any, ClassVar

import pulumi
from pulumi.dynamic import Resource

from catoiac.private_inputs import ADOPT_KEY, OWNER_KEY

from ._sdk import undo_pulumi_pickler_patch
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
        if opts is not None and opts.import_:
            # Pulumi cannot import dynamic resources (pulumi/pulumi#16175: its Read gets no provider),
            # so ``import_`` becomes an adoption: create() takes over the object with this id,
            # after checking that it matches the program, and never creates a second one.
            props = {**props, ADOPT_KEY: opts.import_}
            opts = copy.copy(opts)
            opts.import_ = None
        owner = f"{pulumi.get_project()}/{pulumi.get_stack()}/{type(self).__name__}::{resource_name}"
        props = {**props, OWNER_KEY: owner}
        undo_pulumi_pickler_patch()
        # Outputs must be named in the property bag to become attributes.
        super().__init__(CatoProvider(self._spec), resource_name, {"resource_id": None, **props}, opts)
