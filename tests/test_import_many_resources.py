"""An imported account is a program of thousands of dynamic resources (2,600 for the large
fixture). Pulumi's ``serialize_provider`` (3.272) nests one more wrapper around
``pickle._Pickler._batch_setitems`` on every call and never restores it, so past ~900 resources a
program fails with RecursionError; each catoiac resource undoes it first (``pulumi_cato._base``)."""

from __future__ import annotations

import pickle

import pytest
from pulumi.dynamic.dynamic import serialize_provider
from pulumi_cato._sdk import undo_pulumi_pickler_patch
from pulumi_cato.provider import CatoProvider

MANY = 2_600


@pytest.fixture(autouse=True)
def _restore_pickle():
    yield
    undo_pulumi_pickler_patch()


def test_pulumis_provider_serialization_alone_fails_after_about_a_thousand_resources():
    # If this stops failing, Pulumi has fixed its bug and pulumi_cato's undo can go.
    provider = CatoProvider("SocketSite")
    with pytest.raises(RecursionError):
        for _ in range(MANY):
            serialize_provider(provider)


def test_with_the_undo_before_each_resource_thousands_serialize_identically():
    provider = CatoProvider("SocketSite")
    first = serialize_provider(provider)
    for _ in range(MANY):
        undo_pulumi_pickler_patch()
        assert serialize_provider(provider) == first
    assert pickle._Pickler._batch_setitems.__qualname__.startswith("serialize_provider.")  # type: ignore[attr-defined]
    undo_pulumi_pickler_patch()
    assert pickle._Pickler._batch_setitems.__qualname__ == "_Pickler._batch_setitems"  # type: ignore[attr-defined]
