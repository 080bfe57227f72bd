"""What ``catoiac import`` brings under code: the live objects of every resource spec, each as the
inputs a program needs to adopt it with no change, read through the shared bulk read.

Generic over the specs (``SPECS``), so a type added later is imported with no code here:

- the live objects are the spec's read-path collection (``spec.kind``), read once for all;
  a collection read per site (``for_site``, as BGP peers are) is asked only for the sites in scope;
- an object's inputs are the spec's own ``read`` mapping (``read_live`` for policies and BGP peers),
  in the canonical form diffs use, then made minimal: an input is left out wherever the program
  still matches the live object without it (the test ``adopt`` makes), so no input equals its
  default, and what the program leaves to the API (a range on the native port names no port) is
  left out;
- references to other objects become ``Link``s (a range's ``site_id`` is its site's id, a rule
  names a site by the site's name), which the code refers to through the program's own objects;
- every object is then checked as the provider would check it, and against the live object as an
  import would compare it: one the program could not express is skipped, with the reason.

What differs per type is in ``hooks`` (``Hook``): objects that are part of another resource, how
an object is labelled, and its links. A policy family (``spec.policy``) is one resource owning every
section of the policy (``policy.discover``).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..readpath import AccountReader
from ..resources.engine import Engine
from ..resources.spec import ResourceSpec
from ..session import Session
from .pycode import Expr


@dataclass(frozen=True)
class Link:
    """A value that is another object's output: the code refers to that object's resource when the
    program has it, else writes ``fallback`` (a lookup, or the literal name). ``value`` is what it
    is in the account."""

    collection: str  # the read-path collection of the object referred to ("sites", "ranges"...)
    id: str
    attr: str  # the output: "id", "name", "interface_id"
    value: Any
    fallback: Any


@dataclass(frozen=True)
class Secret:
    """A secret input (a BGP peer's MD5 key, an IPsec tunnel's pre-shared key): read from the stack's
    secret config, never written. ``input`` names it (its path in the inputs: ``primary-tunnel-1-psk``)."""

    input: str
    value: Any  # WRITE_ONLY for a secret Cato never returns


# The stand-in for a write-only secret while the import checks the object: never written anywhere.
WRITE_ONLY = "catoiac-import-write-only-stand-in"


def secrets_in(value: Any) -> list[Secret]:
    """Every Secret in ``value`` (inputs), in order."""
    if isinstance(value, Secret):
        return [value]
    if isinstance(value, Mapping):
        return [s for v in value.values() for s in secrets_in(v)]
    if isinstance(value, list):
        return [s for v in value for s in secrets_in(v)]
    return []


@dataclass
class Item:
    """One resource of the program to be."""

    spec: ResourceSpec
    id: str  # Cato's id, what ``import_`` takes
    label: str  # its name in Cato
    site_id: str | None  # the site it lives in (its own id for a site); None: account-wide
    inputs: dict[str, Any]  # minimal, with Link/Secret values
    depends_on: list[Link] = field(default_factory=list)
    resource: str = ""  # Pulumi resource name
    module: str = ""  # "sites/hq.py"
    var: str = ""  # the variable holding it in its module

    @property
    def key(self) -> tuple[str, str]:
        # A narrower spec's object (an IpsecSite) is linked to as one of the wider collection (a site).
        return (self.spec.subset_of or self.spec.kind, self.id)

    @property
    def manifest_key(self) -> str:
        return f"{self.spec.name}:{self.id}"


@dataclass(frozen=True)
class Skipped:
    type: str
    name: str
    reason: str
    scope: str = ""  # what a later import must read again to judge it afresh: "site:<id>", "type:<name>"


def resolved(value: Any) -> Any:
    """``value`` as the program will see it once run: links and secrets replaced by their values."""
    if isinstance(value, Link | Secret | Expr):
        return resolved(value.value)
    if isinstance(value, Mapping):
        return {k: resolved(v) for k, v in value.items()}
    if isinstance(value, list):
        return [resolved(v) for v in value]
    return value


@dataclass(frozen=True)
class Lookup:
    """``cato.get_site(name="HQ").id``: an object the program does not manage, found by a lookup
    (``pulumi_cato.lookups``). Its arguments may be Links (``site=hq.site.name``)."""

    func: str
    attr: str
    kwargs: tuple[tuple[str, Any], ...]


def lookup(func: str, attr: str, **kwargs: Any) -> Lookup:
    return Lookup(func, attr, tuple(kwargs.items()))


class Context:
    """The account as read for one import, and what links need from it."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.reader: AccountReader = session.reader

    def site_name(self, site_id: Any) -> str | None:
        return (self.reader.get("sites").get(str(site_id)) or {}).get("name")

    def site_link(self, site_id: str, attr: str = "name") -> Link:
        """A site by its id or name: the program's site, else a lookup (the id) or the name."""
        name = self.site_name(site_id)
        fallback = name if attr == "name" else lookup("get_site", "id", name=name)
        return Link("sites", str(site_id), attr, str(site_id) if attr == "id" else name, fallback)

    def object_link(self, collection: str, oid: str, attr: str = "id") -> Link | None:
        """A range or host by id (a lookup by its site and name where the program lacks it), or a
        group. None if no read shows it."""
        obj = self.reader.get(collection).get(str(oid))
        if obj is None:
            return None
        value = str(oid) if attr == "id" else obj.get("name")
        if collection == "groups":
            return Link(collection, str(oid), attr, value, lookup("get_group", "id", name=obj["name"]))
        func = {"ranges": "get_network_range", "hosts": "get_host"}[collection]
        site = self.site_link(obj["site_id"])
        fallback = lookup(func, "id", site=site, name=obj["name"]) if attr == "id" else obj.get("name")
        return Link(collection, str(oid), attr, value, fallback)


LiveFn = Callable[[Mapping[str, Any]], dict[str, Any] | None]


def data_copy(value: Any) -> Any:
    """A deep copy of JSON-like data (dicts, lists, scalars; Links and Secrets are immutable, kept):
    ``copy.deepcopy`` without its memo, several times faster on the thousands of trial reads an
    import makes."""
    if isinstance(value, dict):
        return {k: data_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [data_copy(v) for v in value]
    return value


def live_function(spec: ResourceSpec, session: Session, oid: str, obj: Mapping[str, Any]) -> LiveFn:
    """prior inputs -> the live object's canonical inputs as an import with those inputs sees them
    (``Engine.live_inputs``, with the object already in hand: the spec's read runs once)."""
    engine = Engine(spec, lambda: session)
    if spec.read_live is not None:
        parent = {spec.parent_input: obj.get(spec.parent_input)} if spec.parent_input else {}

        def from_read_live(prior: Mapping[str, Any]) -> dict[str, Any] | None:
            found = spec.read_live(session, oid, {**parent, **prior})
            return None if found is None else engine.canonical(found[0])

        return from_read_live
    raw = spec.read(obj, session.reader)

    def from_read(prior: Mapping[str, Any]) -> dict[str, Any] | None:
        # Each trial gets its own copy: reconcile and normalize may change what they are given.
        fresh = data_copy(raw)
        inputs = (
            spec.reconcile(fresh, data_copy(dict(prior))) if spec.reconcile is not None and prior else fresh
        )
        return engine.canonical(inputs)

    return from_read


def differs(spec: ResourceSpec, live: LiveFn, inputs: Mapping[str, Any]) -> list[str]:
    """The inputs an import of ``inputs`` would find different on the live object (as ``adopt``)."""
    found = live(inputs)
    if found is None:
        return ["(the object is gone)"]
    # ``Engine.diff`` with its live side already canonical (canonical forms are idempotent): an
    # import asks this thousands of times, and canonicalising twice was a third of its CPU.
    engine = Engine(spec, lambda: None)  # type: ignore[arg-type,return-value]
    have, want = engine.inputs_of(found), engine.canonical(engine.inputs_of(inputs))
    return sorted(k for k in set(have) | set(want) if have.get(k) != want.get(k))


def minimal(spec: ResourceSpec, live: LiveFn, full: Mapping[str, Any]) -> dict[str, Any]:
    """``full`` without every optional input (and optional key of a nested object) the program can
    leave out and still match the live object: defaults, and what the API infers."""
    inputs = data_copy(dict(full))
    required = set(spec.schema.get("required", ()))
    optional = [k for k in spec.properties if k in inputs and k not in required]
    # Most objects need none of them (a range: its site, name and subnet): one trial says so, where
    # one per input would be needed (thousands of objects). Otherwise, input by input.
    bare = {k: v for k, v in inputs.items() if k not in optional}
    if optional and not differs(spec, live, bare):
        return bare
    for key in optional:
        without = {k: v for k, v in inputs.items() if k != key}
        if not differs(spec, live, without):
            inputs = without
            continue
        sub_schema = spec.properties[key]
        if isinstance(inputs[key], dict) and sub_schema.get("type") == "object":
            needed = set(sub_schema.get("required", ()))
            for sub in [s for s in list(inputs[key]) if s not in needed]:
                trial = {**inputs, key: {k: v for k, v in inputs[key].items() if k != sub}}
                if not differs(spec, live, trial):
                    inputs = trial
    return inputs


def _parts(path: str) -> list[str | int]:
    return [int(p[1:-1]) if p.startswith("[") else p for p in re.findall(r"[^.\[\]]+|\[\d+\]", path)]


def get_at(data: Any, path: str) -> Any:
    """The value at a property path such as ``exceptions[0].source.site`` (which must exist)."""
    for part in _parts(path):
        data = data[part]
    return data


def set_at(data: Any, path: str, value: Any) -> None:
    """Set the value at a property path such as ``source.site[0]`` (which must exist)."""
    *head, last = _parts(path)
    for part in head:
        data = data[part]
    data[last] = value


def range_holding(reader: AccountReader, site_id: str, ip: str) -> str | None:
    """The id of the (non-native) range of a site that holds an address, if any."""
    try:
        addr = ipaddress.IPv4Address(ip)
    except ValueError:
        return None
    for rid, rng in sorted(reader.get("ranges").items()):
        if rng.get("site_id") != site_id or rng.get("range_type") == "Native" or not rng.get("subnet"):
            continue
        try:
            if addr in ipaddress.IPv4Network(rng["subnet"], strict=False):
                return rid
        except ValueError:
            continue
    return None
