"""The objects' typed Pulumi layer matches their specs: the generated TypedDicts are current, every
input of a spec is a parameter of its class, and every TypedDict says what it is."""

from __future__ import annotations

import inspect
import typing
from pathlib import Path

import pulumi_cato
from graphql import build_schema
from pulumi_cato import _object_types, objects

from catoiac.resources.specs import SPECS
from catoiac.resources.specs.object_types import pulumi_object_types_source

ROOT = Path(__file__).resolve().parents[1]
CLASSES = ("IpsecSite", "SiteLicense", "Admin", "PrivateApp", "AppConnector", "SocketSite")


def test_generated_object_types_are_current(real_schema_path):
    docs = build_schema(real_schema_path.read_text(encoding="utf-8"))
    current = (ROOT / "providers/pulumi_cato/_object_types.py").read_text()
    assert current == pulumi_object_types_source(docs), "run scripts/gen-object-types"


def test_every_input_of_an_object_spec_is_a_parameter_of_its_class():
    for name in CLASSES:
        cls = getattr(pulumi_cato, name)
        params = set(inspect.signature(cls.__init__).parameters) - {"self", "resource_name", "opts"}
        assert params == set(SPECS[name].properties), name
        assert cls.__doc__ and cls._spec == name


def test_every_typed_dict_has_its_own_docstring():
    for module in (objects, _object_types):
        for _, value in vars(module).items():
            if typing.is_typeddict(value) and value.__module__ == module.__name__:
                assert value.__doc__ and value.__doc__ != dict.__doc__, value


def test_ipsec_tunnel_typed_dict_follows_cato_s_input_type():
    hints = _object_types.IpsecTunnelArgs.__annotations__
    assert set(hints) == set(
        SPECS["IpsecSite"].properties["primary"]["properties"]["tunnels"]["items"]["properties"]
    )
    assert "Required" in str(hints["psk"])
