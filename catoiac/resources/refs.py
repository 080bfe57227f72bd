"""Resolving the references of policy rules before any write, with did-you-mean suggestions.

A reference names an object of the account (a site, host, range, interface or group), or an entry
of one of Cato's catalogs (a country, an application, an application category, a service):

- **Account objects** are looked up in the read path's collections, and in the other resources of
  the program checked before this one (a name another resource declares, not created yet, is fine:
  a reference through that resource's output, ``site.name``, makes Pulumi check and create it first).
  A name must match exactly one object, as Cato's ``by: NAME`` does; ``by: ID`` an existing id.
- **Countries** come from ``entityLookup(type: country)`` (one paged call), **applications** from
  ``catalogs.catalogApplicationList`` (``@beta``), asked only for the names and ids rules use: one
  call for the names, one for the ids, and a free-text search per unknown name for suggestions.
  If the catalog query is not available to the key, applications are not judged (Cato will be).
- **Application categories and services** have no list query in Cato's API (cato-cli keeps its own
  copy of the categories). They are compared with the reference subset in ``emulator/catalog.py``
  only to catch near misses: a name that is not in it but close to one that is (``'Gamblingg'``,
  ``'gambling'``) is refused with the suggestion; a name not close to any is let through, because the
  subset is not the whole catalog and Cato itself judges it at apply.
"""

from __future__ import annotations

import difflib
import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..emulator import catalog as _reference
from ..errors import AuthenticationError, CatoError
from ..readpath import AccountReader, register_loader
from .validation import UNKNOWN

logger = logging.getLogger("catoiac.refs")

Problem = tuple[str, str]  # (property path, reason)
NOT_DECLARED = "in the account or this program"
# Pulumi checks one resource at a time, as the program registers them, and orders only what depends
# on what: a plain string naming an object another resource creates in the same run is a race (the
# rule may be applied first). Through that resource's output, the object is declared before the rule.
LATER = (
    ". If a resource of this program creates it, refer to it through that resource's output "
    '(e.g. site.name, or {"id": site.id}): Pulumi then creates it first'
)


@dataclass(frozen=True)
class EntityRef:
    collection: str  # read-path collection
    what: str  # how a message calls one
    spec: str  # the resource spec that declares one in a program
    name_of: Callable[[Mapping[str, Any]], Any] = lambda inputs: inputs.get("name")


# Ref input type -> account objects it names.
ENTITY_REFS: dict[str, EntityRef] = {
    "SiteRefInput": EntityRef("sites", "site", "SocketSite"),
    "HostRefInput": EntityRef("hosts", "host", "StaticHost"),
    "SiteNetworkSubnetRefInput": EntityRef("ranges", "network range", "NetworkRange"),
    "NetworkInterfaceRefInput": EntityRef(
        "interfaces", "network interface", "SocketInterface", lambda i: i.get("name") or i.get("interface_id")
    ),
    "GroupRefInput": EntityRef("groups", "group", "Group"),
}


def suggest(name: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """The candidates ``name`` most likely meant: same letters in another case first, then close ones."""
    pool = sorted({c for c in candidates if isinstance(c, str)})
    same = [c for c in pool if c.lower() == name.lower() and c != name]
    if same:
        return same[:n]
    lower: dict[str, str] = {}
    for c in pool:
        lower.setdefault(c.lower(), c)
    return [lower[c] for c in difflib.get_close_matches(name.lower(), list(lower), n=n, cutoff=0.75)]


def did_you_mean(options: list[str]) -> str:
    if not options:
        return ""
    return " did you mean " + " or ".join(repr(o) for o in options) + "?"


# -- catalogs -------------------------------------------------------------------------------------
def _load_countries(r: AccountReader) -> dict[str, dict[str, Any]]:
    return {
        str(i["entity"]["id"]): {"id": str(i["entity"]["id"]), "name": i["entity"].get("name")}
        for i in r.lookup("country")
    }


register_loader("countries", _load_countries)


class AppCatalog:
    """Cato's application catalog, asked only about the names and ids in use (it holds thousands)."""

    def __init__(self, reader: AccountReader) -> None:
        self._reader = reader
        self._names: dict[str, dict[str, Any] | None] = {}
        self._ids: dict[str, dict[str, Any] | None] = {}
        self._lock = threading.Lock()
        self.available = True

    def _query(self, condition: Mapping[str, Any], limit: int = 100) -> list[dict[str, Any]]:
        data = self._reader.client.execute(
            "CatalogApplications", {"input": {"filter": [condition], "paging": {"from": 0, "limit": limit}}}
        )
        return list(
            ((data.get("catalogs") or {}).get("catalogApplicationList") or {}).get("application") or []
        )

    def resolve(self, names: Iterable[str], ids: Iterable[str]) -> None:
        """Ask for the names and ids not asked about yet: one call for each kind."""
        with self._lock:
            names = sorted({n for n in names if n not in self._names})
            ids = sorted({i for i in ids if i not in self._ids})
            if not self.available:
                return
            try:
                if names:
                    found = {a["name"]: a for a in self._query({"name": [{"in": names}]}, len(names) + 10)}
                    self._names.update({n: found.get(n) for n in names})
                if ids:
                    found = {str(a["id"]): a for a in self._query({"id": [{"in": ids}]}, len(ids) + 10)}
                    self._ids.update({i: found.get(i) for i in ids})
            except AuthenticationError:
                raise
            except CatoError as e:  # a beta the key cannot use: Cato judges the names at apply
                logger.info("application catalog unavailable (%s): applications are not checked", e)
                self.available = False

    def by_name(self, name: str) -> dict[str, Any] | None | bool:
        """The application, None if there is none, True if it cannot be told."""
        return self._names.get(name) if self.available else True

    def by_id(self, app_id: str) -> dict[str, Any] | None | bool:
        return self._ids.get(app_id) if self.available else True

    def suggestions(self, name: str) -> list[str]:
        """Close names, from free-text searches for the name and for its first letters."""
        seen: list[str] = []
        for text in dict.fromkeys([name, name[:4]]):
            if len(text) < 2:
                continue
            try:
                seen += [a["name"] for a in self._query({"freeText": {"search": text}}, 50)]
            except CatoError:
                return []
            found = suggest(name, seen)
            if found:
                return found
        return []


register_loader("app_catalog", AppCatalog)  # type: ignore[arg-type]  (a lazy object, like bgp_peers)

# Categories and services: the reference subset, for near misses only (see the module docstring).
NEAR_MISS_CATALOGS: dict[str, tuple[str, Mapping[str, str]]] = {
    "ApplicationCategoryRefInput": ("application category", _reference.APPLICATION_CATEGORIES),
    "ServiceRefInput": ("service", _reference.SERVICES),
}


# -- the checker ----------------------------------------------------------------------------------
@dataclass
class Ref:
    path: str
    type: str  # the RefInput type name
    value: dict[str, str]  # {"id": ...} or {"name": ...}


def as_ref(path: str, type_name: str, item: Any) -> Ref | None:
    value = {"name": item} if isinstance(item, str) else item
    if not isinstance(value, Mapping) or len(value) != 1:
        return None
    key, v = next(iter(value.items()))
    if key not in ("id", "name") or not isinstance(v, str | int) or v == UNKNOWN:
        return None  # not known yet (preview) or malformed (the schema reports it)
    return Ref(path, type_name, {key: str(v)})


class RefChecker:
    """Checks refs against one view of the account (``reader``), then ``fresh`` for ids the view
    does not have (objects this run created after the view was taken), and the program's declared
    names (``declared(spec) -> names``). ``catalogs`` also checks catalog refs."""

    def __init__(
        self,
        reader: AccountReader,
        *,
        fresh: AccountReader | None = None,
        declared: Callable[[str], set[str]] | None = None,
        catalogs: bool = True,
    ) -> None:
        self.reader, self.fresh, self.catalogs = reader, fresh, catalogs
        self.declared = declared or (lambda _spec: set())

    def problems(self, refs: list[Ref]) -> list[Problem]:
        out: list[Problem] = []
        apps = [r for r in refs if r.type == "ApplicationRefInput"] if self.catalogs else []
        if apps:
            catalog: AppCatalog = self.reader.get("app_catalog")  # type: ignore[assignment]
            catalog.resolve([r.value["name"] for r in apps if "name" in r.value],
                            [r.value["id"] for r in apps if "id" in r.value])  # fmt: skip
        for ref in refs:
            problem = self._check(ref)
            if problem:
                out.append((ref.path, problem))
        return out

    def _check(self, ref: Ref) -> str | None:
        if ref.type in ENTITY_REFS:
            return self._entity(ref, ENTITY_REFS[ref.type])
        if not self.catalogs:
            return None
        if ref.type == "CountryRefInput":
            return self._strict(ref, "country", self.reader.get("countries"))
        if ref.type == "ApplicationRefInput":
            return self._application(ref)
        if ref.type in NEAR_MISS_CATALOGS and "name" in ref.value:
            what, table = NEAR_MISS_CATALOGS[ref.type]
            name, names = ref.value["name"], set(table.values())
            close = [] if name in names else suggest(name, names)
            return f"{name!r} is not a Cato {what}:{did_you_mean(close)}" if close else None
        return None

    def _entity(self, ref: Ref, kind: EntityRef) -> str | None:
        objects = self.reader.get(kind.collection)
        if "id" in ref.value:
            rid = ref.value["id"]
            if rid in objects or (self.fresh is not None and rid in self.fresh.get(kind.collection)):
                return None
            return f"no {kind.what} has id {rid!r}: check the id, or refer to it by name"
        name = ref.value["name"]
        found = [o for o in objects.values() if o.get("name") == name]
        declared = self.declared(kind.spec)
        if len(found) == 1 or (not found and name in declared):
            return None
        if len(found) > 1:
            return (
                f"{len(found)} {kind.what}s are named {name!r}: refer to one by id, "
                f'e.g. {{"id": "{found[0]["id"]}"}}'
            )
        names = {o.get("name") for o in objects.values()} | declared
        hint = did_you_mean(suggest(name, names)) or " check the name"
        return f"no {kind.what} is named {name!r} {NOT_DECLARED}:{hint}{LATER}"

    def _strict(self, ref: Ref, what: str, table: Mapping[str, Mapping[str, Any]]) -> str | None:
        if "id" in ref.value:
            if ref.value["id"] in table:
                return None
            hint = did_you_mean(suggest(ref.value["id"], table)) or " check the id"
            return f"no {what} has id {ref.value['id']!r}:{hint}"
        names = {o.get("name") for o in table.values()}
        if ref.value["name"] in names:
            return None
        hint = did_you_mean(suggest(ref.value["name"], names)) or " check the name"
        return f"{ref.value['name']!r} is not a Cato {what}:{hint}"

    def _application(self, ref: Ref) -> str | None:
        catalog: AppCatalog = self.reader.get("app_catalog")  # type: ignore[assignment]
        if "id" in ref.value:
            if catalog.by_id(ref.value["id"]) is not None:
                return None
            return f"no application in Cato's catalog has id {ref.value['id']!r}: check the id, or name it"
        name = ref.value["name"]
        if catalog.by_name(name) is not None:
            return None
        hint = did_you_mean(catalog.suggestions(name)) or " check its name in Cato's application catalog"
        return f"{name!r} is not an application in Cato's catalog:{hint}"
