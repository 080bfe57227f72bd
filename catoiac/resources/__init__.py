"""Declarative Cato resources: one small spec each, one engine for all of them.

The engine is Pulumi-free so that the provider, drift and export share the same validation,
normalisation and read mapping.
"""

from .engine import CheckFailure, DiffOutcome, Engine
from .spec import Operation, ResourceSpec

__all__ = ["CheckFailure", "DiffOutcome", "Engine", "Operation", "ResourceSpec"]
