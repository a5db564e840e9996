"""Place-name tables behind :mod:`custseg.geo.countries` that reach past its core lookup.

:mod:`custseg.geo.countries` first looks a spelling up in its core table (ISO codes, pycountry's names,
CLDR's English and Chinese names, each country's name in its official languages, and
``country_aliases.csv``). What that misses is looked up here, in this order:

1. explicit non-answers ("Unspecified", "N/A", "-": ``non_answers.csv``) and groupings that are not
   one country ("Channel Islands", "West Indies": ``country_groupings.csv``), typed exactly;
2. country names in every locale CLDR knows (Babel ships about a thousand) and in every language
   of pycountry's ISO 3166-1 catalogs, the names and codes of historic countries (ISO 3166-3), and
   the names of CLDR's regions (Europe, Caribbean...) in every locale; built on first use, as
   reading them all takes a moment that an export of well-known spellings never needs;
3. (in :mod:`custseg.geo.countries`) every spelling above reduced to its words without accents,
   punctuation or order ("Korea, Rep." = "Republic of Korea", "Sao Tome & Principe" = "São Tomé
   and Príncipe").

Subdivisions of every country come from pycountry's ISO 3166-2 table and its catalogs in about 70
languages: first-level ones by code, name and translations; second-level ones ("Milano", "Kent")
stand for the first-level subdivision that holds them.

A spelling that two places share identifies neither, at every step: a later library release must
not silently pick one. Nothing here depends on the market table: a grouping names its market as
text, which :mod:`custseg.geo.countries` checks.
"""

from __future__ import annotations

import csv
import difflib
import gettext
import os
import pickle
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator
from functools import cache
from importlib import resources
from typing import NamedTuple

import pycountry
from babel import localedata
from babel.core import get_global

__all__ = [
    "Found",
    "compact_fold",
    "extended_country_names",
    "normalize_key",
    "special_names",
    "subdivision_index",
    "suggest_subdivision",
    "token_key",
    "top_level_code",
]


class Found(NamedTuple):
    """What a spelling names.

    Attributes
    ----------
    kind : str
        ``"country"`` (`value` is an ISO 3166-1 alpha-3 code), ``"market"`` (`value` is a market
        name: a grouping of countries, placed in a market with the country left unknown) or
        ``"not_given"`` (an explicit non-answer such as "Unspecified"; `value` is None).
    value : str or None
    """

    kind: str
    value: str | None = None


NOT_GIVEN = Found("not_given")

_WHITESPACE = re.compile(r"\s+")
# Letters NFKD does not split into a base letter and a mark.
_LETTER_FOLDS = str.maketrans(
    {"ø": "o", "đ": "d", "ł": "l", "ı": "i", "æ": "ae", "œ": "oe", "þ": "th", "ð": "d", "ħ": "h"}
)
# Only the marks that sit on Latin, Greek and Cyrillic letters are dropped: other scripts' vowel
# signs and viramas are letters of the word, not accents.
_MARKS = re.compile("[\u0300-\u036f]")
_APOSTROPHES = re.compile("['’ʼ`´‘]")
_NOT_WORD = re.compile(r"[\W_]+")
# Abbreviations of the words of country names, as statistical tables and forms write them
# ("Dem. Rep. Congo", "St. Lucia", "Solomon Is."); dots are gone by the time these are compared.
_WORD_FORMS = {
    "st": "saint", "ste": "sainte", "is": "islands", "isl": "islands", "isds": "islands", "island": "islands",
    "rep": "republic", "dem": "democratic", "fed": "federated", "sts": "states", "terr": "territory",
    "territories": "territory", "utd": "united", "n": "north", "s": "south",
}
# Words that name no place: "Bahamas, The" = "The Bahamas", "Antigua & Barbuda" = "Antigua and Barbuda".
_STOP_WORDS = frozenset(
    {"the", "of", "and", "et", "y", "e", "und", "la", "le", "les", "el", "los", "las", "de", "du", "des", "del"}
)
_GERMAN = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"})


# --------------------------------------------------------------------------- text keys


def normalize_key(value: str) -> str:
    """Reduce a spelling to the key it is looked up by.

    Full-width characters become half-width (NFKC), case is folded, whitespace is trimmed and
    collapsed, and dots are dropped so that abbreviations match ("U.S.A." -> "usa").

    Parameters
    ----------
    value : str
        A raw spelling.

    Returns
    -------
    str
        The lookup key; empty for a blank value.

    Raises
    ------
    TypeError
        If `value` is not a string.

    Examples
    --------
    >>> normalize_key("  Ｕ.Ｓ.Ａ.  ")
    'usa'
    >>> normalize_key("Hong   KONG")
    'hong kong'
    """
    if not isinstance(value, str):
        raise TypeError(f"normalize_key expects a string, got {type(value).__name__}: {value!r}")
    text = unicodedata.normalize("NFKC", value).casefold().replace(".", "")
    return _WHITESPACE.sub(" ", text).strip()


def _strip_accents(text: str) -> str:
    text = _MARKS.sub("", unicodedata.normalize("NFKD", text))
    return unicodedata.normalize("NFC", text).translate(_LETTER_FOLDS)


def token_key(value: str) -> str:
    """The words of a spelling without accents, punctuation, filler words or order.

    Parameters
    ----------
    value : str
        A spelling (raw or already a :func:`normalize_key` key).

    Returns
    -------
    str
        The words, sorted and joined by spaces; abbreviations written out ("Rep." ->
        "republic", "St." -> "saint", "Is." -> "islands"). Empty when no word is left.

    Examples
    --------
    >>> token_key("Korea, Rep.") == token_key("Republic of Korea")
    True
    >>> token_key("Sao Tome & Principe") == token_key("São Tomé and Príncipe")
    True
    """
    text = _APOSTROPHES.sub("", _strip_accents(normalize_key(value)))
    words = (_WORD_FORMS.get(word, word) for word in _NOT_WORD.sub(" ", text).split())
    return " ".join(sorted(word for word in words if word not in _STOP_WORDS))


# Abbreviated words of subdivision names ("St. Andrew" = "Saint Andrew", "Mt. Hagen").
_SUBDIVISION_WORDS = {"st": "saint", "ste": "sainte", "mt": "mount", "ft": "fort"}


def compact_fold(value: str) -> str:
    """A subdivision spelling without accents, case, spaces or punctuation ("São-Paulo" -> "saopaulo").

    "St." and a few other abbreviated words are written out first ("St. Ann" -> "saintann").
    """
    text = _NOT_WORD.sub(" ", _APOSTROPHES.sub("", _strip_accents(normalize_key(value))))
    return "".join(_SUBDIVISION_WORDS.get(word, word) for word in text.split())


def _variants(spelling: str) -> Iterator[str]:
    """A spelling, and its German transliteration when it has umlauts ("Österreich", "Oesterreich")."""
    yield spelling
    german = spelling.translate(_GERMAN)
    if german != spelling:
        yield german


# --------------------------------------------------------------------------- data files


def _read_data_csv(name: str) -> list[dict[str, str]]:
    """Rows of a CSV in ``custseg/data``, without the comment lines (``#`` first) at its top."""
    with resources.files("custseg").joinpath("data", name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(line for line in handle if not line.startswith("#")))


def _cldr_code(spelling: str) -> str | None:
    """The region code of a ``cldr:150`` entry, else None (the entry is a spelling)."""
    return spelling[5:] if spelling.startswith("cldr:") else None


@cache
def _special_rows() -> tuple[tuple[str, Found, str], ...]:
    """(spelling or ``cldr:`` code, what it names, file and line) of the two hand-kept files."""
    rows: list[tuple[str, Found, str]] = []
    for line, row in enumerate(_read_data_csv("non_answers.csv"), start=2):
        rows.append((row["spelling"], NOT_GIVEN, f"non_answers.csv line {line}"))
    for line, row in enumerate(_read_data_csv("country_groupings.csv"), start=2):
        if not row["market"].strip():
            raise ValueError(f"custseg/data/country_groupings.csv line {line}: {row['grouping']!r} has no market")
        rows.append((row["grouping"], Found("market", row["market"]), f"country_groupings.csv line {line}"))
    return tuple(rows)


def grouping_markets() -> dict[str, str]:
    """Market name -> where ``country_groupings.csv`` first names it, for :mod:`custseg.geo.countries` to check."""
    found: dict[str, str] = {}
    for _spelling, place, where in _special_rows():
        if place.kind == "market" and place.value is not None:
            found.setdefault(place.value, where)
    return found


def _unique(candidates: dict[str, set[Found]]) -> dict[str, Found]:
    # A spelling two places share identifies neither.
    return {key: next(iter(places)) for key, places in candidates.items() if len(places) == 1}


@cache
def special_names() -> dict[str, Found]:
    """Lookup key -> non-answer or grouping, for the spellings the two hand-kept files type out."""
    candidates: dict[str, set[Found]] = defaultdict(set)
    for spelling, place, _where in _special_rows():
        if _cldr_code(spelling) is None:
            candidates[normalize_key(spelling)].add(place)
    return _unique(candidates)


# --------------------------------------------------------------------------- countries, everywhere


def _catalogs(domain: str) -> Iterator[dict[str, str]]:
    """msgid -> translation, for each language of one of pycountry's gettext catalogs."""
    folder = pycountry.LOCALES_DIR
    for language in sorted(os.listdir(folder)):
        path = os.path.join(folder, language, "LC_MESSAGES", f"{domain}.mo")
        if os.path.isfile(path):
            with open(path, "rb") as handle:
                yield gettext.GNUTranslations(handle)._catalog  # the parsed catalog; no other API lists it


def _cldr_territory_names() -> Iterator[dict[str, str]]:
    """Territory code -> name, for every locale Babel ships, as each locale writes it.

    The locales' own data, not merged with their parents': a regional locale ("de_AT") repeats
    only what differs from its language, and merging would read every name a thousand times.
    The files are read here rather than through ``localedata.load(merge_inherited=False)``,
    which would leave the unmerged data in Babel's cache for every later ``Locale`` of the
    process (a Chinese page then lacks its number symbols).
    """
    for identifier in localedata.locale_identifiers():
        with open(localedata.resolve_locale_filename(identifier), "rb") as handle:
            names = pickle.load(handle).get("territories")  # Babel's own data files
        if names:
            yield names


def _historic_countries(alpha2_to_alpha3: dict[str, str]) -> Iterator[tuple[list[str], set[str]]]:
    """(spellings, alpha-3 codes of the successors) of each country ISO 3166-3 withdrew.

    The successors come from CLDR's territory aliases ("YU" -> Serbia, Montenegro); a historic
    alpha-2 code that two former countries shared ("CS") is read for neither.
    """
    aliases = get_global("territory_aliases")
    historic = list(pycountry.historic_countries)
    alpha2s = [country.alpha_2 for country in historic]
    shared = {code for code in alpha2s if alpha2s.count(code) > 1}
    for country in historic:
        successors = aliases.get(country.alpha_3)
        if successors is None and country.alpha_2 not in shared and country.alpha_2 not in alpha2_to_alpha3:
            successors = aliases.get(country.alpha_2)
        codes = {alpha2_to_alpha3[code] for code in successors or () if code in alpha2_to_alpha3}
        if not codes:
            continue
        # "Burma, Socialist Republic of the Union of" -> also "Burma"
        spellings = [country.name, country.name.split(",")[0], country.alpha_3]
        if country.alpha_2 not in shared and country.alpha_2 not in alpha2_to_alpha3:
            spellings.append(country.alpha_2)
        yield spellings, codes


@cache
def extended_country_names(markets_of: tuple[tuple[str, str], ...] = ()) -> dict[str, Found]:
    """Lookup key -> place, from every CLDR locale, pycountry's catalogs, ISO 3166-3 and the groupings.

    The spellings of :func:`extended_country_candidates` that name one place only.
    """
    return _unique(extended_country_candidates(markets_of))


@cache
def extended_country_candidates(markets_of: tuple[tuple[str, str], ...] = ()) -> dict[str, frozenset[Found]]:
    """Lookup key -> every place it names, from every CLDR locale, pycountry's catalogs, ISO 3166-3
    and the groupings; a key with two places is kept, so that a looser match cannot lose that it
    is shared.

    Parameters
    ----------
    markets_of : tuple of (alpha-3, market name)
        The default market of each country: a historic country whose successors all lie in one
        market (the Netherlands Antilles) places its customers in that market.

    Returns
    -------
    dict
        Lookup key (:func:`normalize_key`) -> the places it names.
    """
    market = dict(markets_of)
    alpha2_to_alpha3 = {country.alpha_2: country.alpha_3 for country in pycountry.countries}
    candidates: dict[str, set[Found]] = defaultdict(set)

    def add(spelling: str | None, place: Found) -> None:
        if spelling:
            for variant in _variants(spelling):
                key = normalize_key(variant)
                if key:
                    candidates[key].add(place)

    region_places: dict[str, Found] = {}
    for spelling, place, _where in _special_rows():
        code = _cldr_code(spelling)
        if code is None:
            add(spelling, place)
        else:
            region_places[code] = place
    for names in _cldr_territory_names():
        for code, name in names.items():
            if code in alpha2_to_alpha3:
                add(name, Found("country", alpha2_to_alpha3[code]))
            elif code in region_places:
                add(name, region_places[code])
    by_name: dict[str, set[str]] = defaultdict(set)
    for country in pycountry.countries:
        for field in ("name", "official_name", "common_name"):
            name = getattr(country, field, None)
            if name:
                by_name[name].add(country.alpha_3)
    for catalog in _catalogs("iso3166-1"):
        for name, codes in by_name.items():
            translated = catalog.get(name)
            if translated and len(codes) == 1:
                add(translated, Found("country", next(iter(codes))))
    for spellings, codes in _historic_countries(alpha2_to_alpha3):
        if len(codes) == 1:
            place = Found("country", next(iter(codes)))
        else:
            shared = {market.get(code) for code in codes}
            place = Found("market", shared.pop()) if len(shared) == 1 and None not in shared else None
        if place is not None:
            for spelling in spellings:
                add(spelling, place)
    return {key: frozenset(places) for key, places in candidates.items()}


# --------------------------------------------------------------------------- subdivisions


@cache
def _subdivision_translations() -> dict[str, frozenset[str]]:
    """ISO 3166-2 name -> its names in the languages of pycountry's catalogs ("Bayern" -> "Bavaria", "巴伐利亚")."""
    names = {subdivision.name for subdivision in pycountry.subdivisions}
    translations: dict[str, set[str]] = defaultdict(set)
    for catalog in _catalogs("iso3166-2"):
        for name in names:
            translated = catalog.get(name)
            if translated and translated != name:
                translations[name].add(translated)
    return {name: frozenset(found) for name, found in translations.items()}


def _name_forms(name: str) -> Iterator[str]:
    """An ISO 3166-2 name and the forms people write it in.

    ISO writes some names inverted ("Madrid, Comunidad de", "Tatarstan, Respublika"): the natural
    order and the head alone count too. A trailing dagger marks a name in transition.
    """
    name = name.replace("†", "").strip()
    yield name
    if "," in name:
        head, _comma, tail = name.partition(",")
        yield head
        yield f"{tail.strip()} {head}"
    for opening, closing in ("()", "[]"):
        # "Distrito Capital (Caracas)", "Catalunya [Cataluña]": the name before the brackets and
        # the one in them
        if opening in name and closing in name:
            yield name.split(opening)[0]
            yield name.split(opening, 1)[1].split(closing)[0]


def top_level_code(code: str) -> str:
    """The first-level subdivision that holds an ISO 3166-2 subdivision (itself when it has no parent).

    Parameters
    ----------
    code : str
        An ISO 3166-2 code, e.g. ``"IT-MI"``.

    Returns
    -------
    str
        e.g. ``"IT-25"`` (Lombardia) for ``"IT-MI"`` (Milano).

    Raises
    ------
    KeyError
        If `code` is not an ISO 3166-2 code.
    """
    subdivision = pycountry.subdivisions.get(code=code)
    if subdivision is None:
        raise KeyError(code)
    seen = {subdivision.code}
    while subdivision.parent_code:
        parent = pycountry.subdivisions.get(code=subdivision.parent_code)
        if parent is None or parent.code in seen:
            break
        seen.add(parent.code)
        subdivision = parent
    return subdivision.code


@cache
def subdivision_index(alpha2: str, excluded: frozenset[str] = frozenset()) -> dict[str, str | None]:
    """Compact key -> first-level ISO 3166-2 code, for one country's subdivisions.

    First-level subdivisions by full code ("BR-SP"), code without the country ("SP"), name and its
    forms, and translations; then, for keys still free, second-level ones the same way, each
    standing for its first-level parent. A key two first-level subdivisions share maps to None
    (it identifies neither, and a second-level spelling does not take it over).

    Parameters
    ----------
    alpha2 : str
        The country's ISO 3166-1 alpha-2 code.
    excluded : frozenset of str
        Codes to leave out with everything below them (China's "CN-HK": custseg treats Hong Kong
        as a country).

    Returns
    -------
    dict
        Empty for a country without ISO 3166-2 subdivisions.
    """
    subdivisions = [s for s in pycountry.subdivisions.get(country_code=alpha2) or () if s.code not in excluded]
    translations = _subdivision_translations()
    index: dict[str, str | None] = {}
    for level in (False, True):
        candidates: dict[str, set[str]] = defaultdict(set)
        for subdivision in subdivisions:
            if bool(subdivision.parent_code) != level:
                continue
            target = top_level_code(subdivision.code)
            if target in excluded:
                continue
            spellings = [subdivision.code, subdivision.code.split("-", 1)[1], *_name_forms(subdivision.name)]
            spellings += translations.get(subdivision.name, ())
            for spelling in spellings:
                for variant in _variants(spelling):
                    key = compact_fold(variant)
                    if key:
                        candidates[key].add(target)
        for key, targets in candidates.items():
            if key not in index:
                index[key] = next(iter(targets)) if len(targets) == 1 else None
    return index


# Words people put around a subdivision's name ("Estado de São Paulo", "Provincia di Roma",
# "Tokyo-to", "Co. Dublin", "Taipei City", "استان تهران"), compared without spaces; tried only when
# the spelling itself is not known, and kept only when what is left is.
_SUBDIVISION_PREFIXES = (
    "provinciade", "provinciadi", "provincia", "provinceof", "provincede", "province", "estadode", "estado",
    "stateof", "state", "regionde", "regiondi", "regionmetropolitanade", "region", "departamentode", "departamento",
    "departementde", "departement", "countyof", "county", "co", "comunidadde", "comunidad", "prefecture", "land",
    "cityof", "cidadede", "ciudadde", "gobiernoregionalde",
    "استان", "محافظة", "إمارة", "จังหวัด", "місто", "город",
)
_SUBDIVISION_SUFFIXES = (
    "province", "provincia", "provinz", "state", "region", "prefecture", "county", "department", "departamento",
    "district", "governorate", "oblast", "krai", "ken", "fu", "to", "do", "sheng", "shi", "city",
    "县", "縣", "市", "省", "県", "府", "область", "край",
)
# "Kansas City" is mostly in Missouri: in the USA a city's name is no state's.
_NO_CITY_SUFFIX = frozenset({"US"})


def find_subdivision(index: dict[str, str | None], value: str, alpha2: str = "") -> str | None:
    """The first-level code a spelling names in one country's :func:`subdivision_index`, or None.

    Besides the spelling itself: the spelling without the words people put around names, and a
    dotted abbreviation ("Calif.", "Tlax.") that begins exactly one subdivision's name.
    """
    key = compact_fold(value)
    if not key:
        return None
    if key in index:
        return index[key]
    for prefix in _SUBDIVISION_PREFIXES:
        if key.startswith(prefix) and len(key) > len(prefix) and key[len(prefix):] in index:
            return index[key[len(prefix):]]
    for suffix in _SUBDIVISION_SUFFIXES:
        if suffix == "city" and alpha2 in _NO_CITY_SUFFIX:
            continue
        if key.endswith(suffix) and len(key) > len(suffix) and key[: -len(suffix)] in index:
            return index[key[: -len(suffix)]]
    if value.rstrip().endswith(".") and len(key) >= 3:
        begun = {code for name, code in index.items() if name.startswith(key) and len(name) > len(key)}
        if len(begun) == 1 and None not in begun:
            return begun.pop()
    return None


def suggest_subdivision(alpha2: str, value: str, excluded: Iterable[str] = ()) -> str | None:
    """The first-level code whose spelling is closest to `value`, when one is close; a hint, never a placement.

    Parameters
    ----------
    alpha2 : str
        The country's ISO 3166-1 alpha-2 code.
    value : str
        The spelling that was not recognised ("Sao Paolo").
    excluded : iterable of str
        Codes that are not subdivisions for custseg (see :func:`subdivision_index`).

    Returns
    -------
    str or None
        e.g. ``"BR-SP"``; None when nothing is close (difflib ratio below 0.8).
    """
    index = subdivision_index(alpha2, frozenset(excluded))
    key = compact_fold(value)
    keys = sorted(k for k, code in index.items() if code is not None and len(k) > 3)
    close = difflib.get_close_matches(key, keys, n=1, cutoff=0.8) if len(key) > 3 else []
    return index[close[0]] if close else None
