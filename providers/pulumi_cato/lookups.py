"""Lookups: objects a program uses but does not manage, found by name in the live account.

    porto = cato.get_site(name="Porto")
    guest = cato.get_network_range(site="Porto", name="Guest")
    cato.StaticHost("printer", site_id=porto.id, name="printer", ip="10.30.8.10")
    cato.Group("guests", name="Guests", members=[{"type": "SITE_NETWORK_SUBNET", "id": guest.id}])

How they work, and why this way: a dynamic provider has no invokes (Pulumi's data sources), and a
read-only resource would only know its values after ``up`` (a preview shows them as unknown) and
would sit in the state. So a lookup reads the account in the program's own process, through
catoiac's shared bulk read: one read per collection (``accountSnapshot``, paged ``entityLookup``,
``groupList``) serves every lookup of the run, however many there are. The read runs in a worker
thread and the lookup returns ``Output``s, so it works alike in ``pulumi preview`` and ``pulumi up``,
with real values in both, and leaves nothing in the state. Credentials are the provider's: the
stack's ``cato:apiKey``, ``cato:accountId`` and ``cato:endpoint``, else ``CATO_TOKEN``,
``CATO_ACCOUNT_ID`` and ``CATO_BASEURL``. Arguments may be Outputs (``site=porto.name``): the
lookup waits for them (a value not known in a preview leaves the lookup unknown too). A name that
matches no object, or several, fails the program with a message that says which and suggests names.

Catalog lookups name what a rule refers to in Cato's catalogs, and where a site is:

    paris = cato.get_site_location(city="Paris", country="FR")   # country_code, timezone, ...
    cato.SocketSite("paris", name="Paris", native_range="10.1.0.0/24",
                    location={"country_code": paris.country_code, "timezone": paris.timezone})
    zoom = cato.get_application(name="Zoom")          # Cato's application catalog (one cached read)
    gambling = cato.get_app_category(name="Gambling")  # catoiac's copy: Cato has no list query
    https = cato.get_service(name="HTTPS")

``get_site_location`` reads no account (GeoNames' cities, as Terraform's ``cato_siteLocation`` reads
an embedded table; ``catoiac/catalog.py`` says why not ``entityLookup(city)``): it needs no
credentials. ``catoiac catalog search WORD`` finds the exact names.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import pulumi
from pulumi import Input, Output

if TYPE_CHECKING:
    from catoiac.readpath import AccountReader
    from catoiac.session import Credentials, SessionPool

# The catalog, the read path and the session are imported when a lookup runs: a program that looks
# nothing up never loads the client (see ``_provider``).
_POOL: SessionPool | None = None  # per program process: one client and read cache per account
_LOCK = threading.Lock()


def _credentials() -> Credentials:
    from catoiac.session import CONFIG_ACCOUNT, CONFIG_ENDPOINT, CONFIG_KEY, Credentials

    return Credentials.resolve(
        {k: pulumi.runtime.get_config(k) for k in (CONFIG_KEY, CONFIG_ACCOUNT, CONFIG_ENDPOINT)}
    )


class LookupError(Exception):  # noqa: A001  (the user sees pulumi_cato.LookupError)
    """A lookup found no object of that name, or more than one."""


def _reader() -> AccountReader:
    from catoiac.resources.specs import group  # noqa: F401  (registers the "groups" collection)
    from catoiac.session import SessionPool

    global _POOL
    credentials = _credentials()
    with _LOCK:
        if _POOL is None:
            _POOL = SessionPool()
        return _POOL.get(credentials).reader


def _catalog_reader() -> AccountReader | None:
    """The shared reader, or None without credentials: categories and services need no account."""
    if _credentials().problems():
        return None
    return _reader()


def _one(what: str, name: str, found: list[Mapping[str, Any]], names: set[Any], scope: str = "") -> dict:
    if len(found) == 1:
        return dict(found[0])
    if found:
        raise LookupError(f"{len(found)} {what}s are named {name!r}{scope}: name the site too (site=...)")
    from catoiac.resources.refs import did_you_mean, suggest

    hint = did_you_mean(suggest(name, {n for n in names if isinstance(n, str)})) or " check the name"
    raise LookupError(f"no {what} is named {name!r}{scope}:{hint}")


def _site(name: str) -> dict:
    sites = _reader().get("sites")
    found = [s for s in sites.values() if s.get("name") == name]
    return _one("site", name, found, {s.get("name") for s in sites.values()})


def _in_site(collection: str, type_name: str, what: str, name: str, site: str | None, **scope: Any) -> dict:
    from catoiac.resources.refs import ScopedRefError, resolve_scoped

    reader = _reader()
    objects = reader.get(collection)
    if site is None:
        found = [o for o in objects.values() if o.get("name") == name]
        return _one(what, name, found, {o.get("name") for o in objects.values()})
    try:
        oid = resolve_scoped(reader, type_name, {"site": site, **scope, "name": name})
    except ScopedRefError as e:
        raise LookupError(str(e)) from None
    return dict(objects[oid])


def _range(site: str, name: str, interface: str | None) -> dict:
    scope = {"interface": interface} if interface else {}
    found = _in_site("ranges", "SiteNetworkSubnetRefInput", "network range", name, site, **scope)
    port = (_reader().get("range_ports").get(found["id"]) or {}).get("interface_id")
    return {**found, "interface": port}


def _group(name: str) -> dict:
    groups = _reader().get("groups")
    found = [g for g in groups.values() if g.get("name") == name]
    if len(found) > 1:
        raise LookupError(f"{len(found)} groups are named {name!r} (Cato does not keep group names unique)")
    return _one("group", name, found, {g.get("name") for g in groups.values()})


def _lookup(find: Callable[..., dict], *args: Input[Any]) -> Output[dict]:
    """``find(*args)`` in a worker thread once the arguments are known, as an Output."""

    def run(values: list[Any]):
        return asyncio.get_running_loop().run_in_executor(None, find, *values)

    return Output.all(*args).apply(run)


class _Found:
    """A lookup's result: each field an Output."""

    _fields: tuple[str, ...] = ()

    def __init__(self, found: Output[dict]) -> None:
        for key in self._fields:
            setattr(self, key, found.apply(lambda d, k=key: d.get(k)))


class SiteLookup(_Found):
    """A site: ``id``, ``name``, ``site_type``, ``connection_type``, ``country_code``."""

    _fields = ("id", "name", "site_type", "connection_type", "country_code")
    id: Output[str]
    name: Output[str]
    site_type: Output[str]
    connection_type: Output[str]
    country_code: Output[str]


class NetworkRangeLookup(_Found):
    """A range: ``id``, ``name``, ``site_id``, ``interface`` (its port), ``subnet``, ``range_type``, ``vlan``."""

    _fields = ("id", "name", "site_id", "interface", "subnet", "range_type", "vlan")
    id: Output[str]
    name: Output[str]
    site_id: Output[str]
    interface: Output[str]
    subnet: Output[str]
    range_type: Output[str]
    vlan: Output[int]


class HostLookup(_Found):
    """A static host: ``id``, ``name``, ``site_id``, ``ip``, ``mac_address``."""

    _fields = ("id", "name", "site_id", "ip", "mac_address")
    id: Output[str]
    name: Output[str]
    site_id: Output[str]
    ip: Output[str]
    mac_address: Output[str]


class NetworkInterfaceLookup(_Found):
    """A site's LAN port as a rule names it: ``id`` (the networkInterface entity), ``name``,
    ``site_id``, ``interface_id`` (its port, ``INT_5``/``LAN1``...), ``subnet``, ``dest_type``."""

    _fields = ("id", "name", "site_id", "interface_id", "subnet", "dest_type")
    id: Output[str]
    name: Output[str]
    site_id: Output[str]
    interface_id: Output[str]
    subnet: Output[str]
    dest_type: Output[str]


class GroupLookup(_Found):
    """A group: ``id``, ``name``, ``description``."""

    _fields = ("id", "name", "description")
    id: Output[str]
    name: Output[str]
    description: Output[str]


class SiteLocationLookup(_Found):
    """Where a city is, as ``SocketSite.location`` takes it: ``city`` (GeoNames' spelling),
    ``country_code`` (ISO 3166-1, e.g. ``FR``), ``country_name``, ``state_code`` (``US-TX``; None
    outside the US), ``state_name`` and ``timezone`` (IANA, e.g. ``Europe/Paris``)."""

    _fields = ("city", "country_code", "country_name", "state_code", "state_name", "timezone")
    city: Output[str]
    country_code: Output[str]
    country_name: Output[str]
    state_code: Output[str | None]
    state_name: Output[str | None]
    timezone: Output[str]


class ApplicationLookup(_Found):
    """An application of Cato's catalog: ``id``, ``name`` (as a rule names it) and ``type``
    (``APPLICATION``, ``CLOUD_APPLICATION`` or ``SERVICE``)."""

    _fields = ("id", "name", "type")
    id: Output[str]
    name: Output[str]
    type: Output[str]


class AppCategoryLookup(_Found):
    """An application category: ``id`` and ``name`` (e.g. ``gambling``, ``Gambling``)."""

    _fields = ("id", "name")
    id: Output[str]
    name: Output[str]


class ServiceLookup(_Found):
    """A standard service: ``id`` and ``name`` (e.g. ``https``, ``HTTPS``)."""

    _fields = ("id", "name")
    id: Output[str]
    name: Output[str]


def _catalog() -> Any:
    from catoiac import catalog

    return catalog


def _catalog_call(find: Callable[..., Any], *args: Any) -> dict:
    """``find(*args)`` (a catalog entry, application or location) as a dict; a miss is a LookupError."""
    from catoiac.catalog import CatalogError

    try:
        found = find(*args)
    except CatalogError as e:
        raise LookupError(str(e)) from None
    return dataclasses.asdict(found) if dataclasses.is_dataclass(found) else dict(found)


def get_site(name: Input[str]) -> SiteLookup:
    """The site with this name (site names are unique in an account)."""
    return SiteLookup(_lookup(_site, name))


def get_network_range(
    site: Input[str], name: Input[str], interface: Input[str] | None = None
) -> NetworkRangeLookup:
    """The range ``name`` of the site named ``site``; ``interface`` (its port: ``LAN2``,
    ``INT_6``...) when the site has ranges of that name on two ports. The native range is
    ``"Native Range"`` on a site's native port."""
    return NetworkRangeLookup(_lookup(_range, site, name, interface))


def get_host(name: Input[str], site: Input[str] | None = None) -> HostLookup:
    """The static host with this name, in the site named ``site`` (needed when two sites have a
    host of that name)."""
    return HostLookup(_lookup(lambda n, s: _in_site("hosts", "HostRefInput", "host", n, s), name, site))


def get_network_interface(name: Input[str], site: Input[str] | None = None) -> NetworkInterfaceLookup:
    """The LAN network interface with this name (or port id, ``INT_5``), in the site named ``site``
    (needed when two sites have one of that name), like Terraform's ``cato_networkInterfaces``."""
    return NetworkInterfaceLookup(
        _lookup(
            lambda n, s: _in_site("interfaces", "NetworkInterfaceRefInput", "network interface", n, s),
            name,
            site,
        )
    )


def get_group(name: Input[str]) -> GroupLookup:
    """The group with this name (refused when two groups share it: Cato does not keep group names unique)."""
    return GroupLookup(_lookup(_group, name))


def get_site_location(
    city: Input[str], country: Input[str] | None = None, state: Input[str] | None = None
) -> SiteLocationLookup:
    """The country, state and timezone of ``city``, like Terraform's ``cato_siteLocation``.
    ``country`` is an ISO code or a name (``"FR"``, ``"France"``); ``state`` a US state (``"US-TX"``,
    ``"TX"``, ``"Texas"``). A city several places share (Paris, FR and Paris, US-TX) fails the
    program listing them: narrow it with ``country=`` and, in the US, ``state=``."""
    return SiteLocationLookup(
        _lookup(lambda *a: _catalog_call(_catalog().find_location, *a), city, country, state)
    )


def get_application(name: Input[str]) -> ApplicationLookup:
    """The application named exactly ``name`` in Cato's catalog (read once per program, shared
    with the rule checks); a miss suggests close names."""
    return ApplicationLookup(
        _lookup(lambda n: _catalog_call(_catalog().find_application, _reader(), n), name)
    )


def get_app_category(name: Input[str]) -> AppCategoryLookup:
    """The application category named exactly ``name`` (``"Gambling"``). Cato's API lists no
    categories: this is catoiac's copy of them, so a miss says how to name one it does not hold."""
    return AppCategoryLookup(
        _lookup(lambda n: _catalog_call(_catalog().find, _catalog_reader(), "category", n), name)
    )


def get_service(name: Input[str]) -> ServiceLookup:
    """The standard service named exactly ``name`` (``"HTTPS"``), from catoiac's copy of Cato's
    services (the API lists none)."""
    return ServiceLookup(
        _lookup(lambda n: _catalog_call(_catalog().find, _catalog_reader(), "service", n), name)
    )


__all__ = [
    "AppCategoryLookup",
    "ApplicationLookup",
    "ServiceLookup",
    "SiteLocationLookup",
    "get_app_category",
    "get_application",
    "get_service",
    "get_site_location",
    "GroupLookup",
    "HostLookup",
    "LookupError",
    "NetworkRangeLookup",
    "SiteLookup",
    "get_group",
    "get_host",
    "get_network_range",
    "get_site",
]
