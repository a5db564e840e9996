"""Country spellings to ISO 3166-1 countries (:func:`normalize_countries`), and a suggestion for
a spelling that is not recognised (:func:`suggest_country`).

Looked up from the most to the least certain: the config's aliases; ISO codes, pycountry's names,
CLDR's English and Chinese names, each country's name in its official languages and
``country_aliases.csv``; non-answers and groupings; every other CLDR locale and catalog language
(read on first need, see :mod:`custseg.geo._placenames`); last, the words of the spelling
without accents, punctuation, filler words or order ("Korea, Rep."). A spelling that two
countries share identifies neither.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

import pandas as pd
import pycountry
from babel import Locale, UnknownLocaleError
from babel.languages import get_official_languages

from custseg.geo import _placenames
from custseg.geo._iso import iso_countries, read_data_csv
from custseg.geo._placenames import Found, normalize_key
from custseg.geo._vectors import check_series, map_rows
from custseg.geo.aliases import NO_ALIASES, Aliases, aliases_of
from custseg.geo.markets import MARKET_BY_NAME, UNKNOWN, default_market

#: The columns :func:`normalize_countries` adds for a recognised country.
COUNTRY_COLUMNS = ("country_iso3", "country_iso2", "country_en", "country_zh", "continent")


@cache
def _library_country_keys() -> dict[str, str]:
    """Lookup key -> alpha-3 from pycountry and CLDR alone: the core table.

    First ISO codes (alpha-2, alpha-3, numeric), pycountry's names and CLDR's English, simplified
    and traditional Chinese names; then, where they add a spelling, each country's name in its own official languages
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
    countries = iso_countries()
    keys = dict(_library_country_keys())
    for line, row in enumerate(read_data_csv("country_aliases.csv"), start=2):
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


def _check_grouping_markets() -> None:
    for name, where in _placenames.grouping_markets().items():
        if name not in MARKET_BY_NAME or name == UNKNOWN:
            raise ValueError(f"custseg/data/{where}: {name!r} is not one of the default markets")


@cache
def special_names() -> dict[str, Found]:
    """Non-answers and groupings as the hand-kept files type them, with their markets checked."""
    _check_grouping_markets()
    return _placenames.special_names()


def _markets_of_countries() -> tuple[tuple[str, str], ...]:
    countries = iso_countries()
    return tuple(sorted((iso3, default_market(iso3, c.continent, None).name) for iso3, c in countries.items()))


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
        special_names().items(),
        # with the shared spellings: "Kongo" names both Congos, so its words must too
        ((key, place) for key, places in _extended_candidates().items() for place in places),
    ]
    for source in sources:
        for key, place in source:
            words = _placenames.token_key(key)
            if words:
                candidates.setdefault(words, set()).add(place)
    return {words: next(iter(places)) for words, places in candidates.items() if len(places) == 1}


def _find_country(value: str, aliases: Aliases = NO_ALIASES) -> Found | None:
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
    for table in (special_names(), _extended_names()):
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
    check_series(values, "values")
    countries = iso_countries()
    table = aliases_of(aliases)
    empty = (None,) * len(COUNTRY_COLUMNS)

    def solve(value: str | None) -> tuple[str | None, ...]:
        found = _placenames.NOT_GIVEN if value is None else _find_country(value, table)
        if found is None:
            return (*empty, "unknown", None)
        if found.kind != "country":
            return (*empty, found.kind, found.value)
        country = countries[found.value]
        return country.iso3, country.iso2, country.en, country.zh, country.continent, "country", None

    return map_rows([values], (*COUNTRY_COLUMNS, "country_match", "country_market"), solve)


def load_country_data(*, spellings: Iterable[str] = ()) -> None:
    """Read the country tables now (see :func:`custseg.geo.load_reference_data`)."""
    _country_keys()
    special = _placenames.special_names()
    core = _country_keys()
    for value in spellings:
        key = normalize_key(value)
        known = (not any(char.isalnum() for char in key) or key in core or key in special
                 or (key.startswith("the ") and key[4:] in core))
        if not known:
            _token_index()
            return
