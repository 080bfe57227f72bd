"""Emulated Cato domains. Importing this package registers every domain's resolvers."""

from importlib import import_module

for _name in (
    "sites",
    "lookup",
    "snapshot",
    "devices",
    "groups",
    "policy",
    "auditfeed",
    "monitoring",
    "catalogs",
):
    try:
        import_module(f"{__name__}.{_name}")
    except ModuleNotFoundError as e:  # a domain not written yet
        if e.name != f"{__name__}.{_name}":
            raise
