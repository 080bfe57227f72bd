"""Cato rules the inventory specs share: judged in check(), without an API call."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

_MAC = re.compile(r"^[0-9a-f]{2}([:-]?[0-9a-f]{2}){5}$", re.I)


def ip_problem(value: Any) -> str | None:
    """Why an address cannot be a host or peer on a site's network, or None when it can."""
    try:
        ip = ipaddress.IPv4Address(str(value))
    except ValueError:
        return None  # the schema's format check reports it
    for test, what in (
        (ip.is_unspecified, "the unspecified address"),
        (ip.is_loopback, "a loopback address"),
        (ip.is_multicast, "a multicast address"),
        (ip.is_link_local, "a link-local address"),
        (ip == ipaddress.IPv4Address("255.255.255.255"), "the broadcast address"),
        (ip.is_reserved, "a reserved (class E) address"),
    ):
        if test:
            return f"{ip} is {what}: use a unicast address on the site's network"
    return None


def host_in_subnet_problem(ip: Any, subnet: Any) -> str | None:
    """Why ``ip`` is not a usable host address of ``subnet``, or None."""
    try:
        addr, net = ipaddress.IPv4Address(str(ip)), ipaddress.IPv4Network(str(subnet), strict=False)
    except ValueError:
        return None
    if addr not in net:
        return f"{ip} is outside subnet {subnet}: pick an address inside it"
    if net.num_addresses > 2 and addr in (net.network_address, net.broadcast_address):
        return f"{ip} is the network or broadcast address of {subnet}: pick a host address"
    return None


def mac(value: str | None) -> str | None:
    """The one form MAC addresses are compared in: lower case, colon separated."""
    if not value or not _MAC.match(value):
        return value or None
    digits = re.sub(r"[:-]", "", value).lower()
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2))


def camel_key(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(w[:1].upper() + w[1:] for w in rest)


def snake_key(key: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", key).lower()


def to_api(value: Any) -> Any:
    """snake_case inputs -> the API's camelCase, recursively; unset (None) values left out."""
    if isinstance(value, dict):
        return {camel_key(k): to_api(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [to_api(v) for v in value]
    return value


def from_api(value: Any) -> Any:
    """An API object -> snake_case, recursively, without the ids Cato gives nested items."""
    if isinstance(value, dict):
        return {snake_key(k): from_api(v) for k, v in value.items() if k not in ("id", "__typename")}
    if isinstance(value, list):
        return [from_api(v) for v in value]
    return value
