"""Small helpers the specs share."""

from __future__ import annotations

import ipaddress
from typing import Any


def prune(value: Any) -> Any:
    """Drop None values recursively: an unset optional and a null live value compare equal."""
    if isinstance(value, dict):
        return {k: prune(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [prune(v) for v in value]
    return value


def camel(d: dict[str, Any], mapping: dict[str, str]) -> dict[str, Any]:
    """Rename snake_case inputs to Cato's camelCase names, skipping unset ones."""
    return {mapping[k]: v for k, v in d.items() if k in mapping and v is not None}


def ip_in(ip: str | None, subnet: str | None) -> bool:
    if not ip or not subnet:
        return True
    try:
        return ipaddress.IPv4Address(ip) in ipaddress.IPv4Network(subnet, strict=False)
    except ValueError:
        return True  # the format check reports it


# A name: trimmed and not empty. Its length limit and character set come from
# ``validation.TEXT_RULES`` (Cato publishes no name length: see FIDELITY.md), like every string's.
NAME = {"type": "string", "minLength": 1, "pattern": r"^\S(.*\S)?$"}
