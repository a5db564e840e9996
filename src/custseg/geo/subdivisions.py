"""Province and state spellings to first-level ISO 3166-2 subdivisions, within the row's country
(:func:`normalize_subdivisions`), and a suggestion for one not recognised (:func:`suggest_subdivision`).

China, the USA and Canada are looked up against custseg's tables first (``cn_provinces.csv`` with
China's macro regions, Chinese names and addresses; ``subdivision_aliases.csv``), every country
against ISO 3166-2: codes with and without the country, names with and without accents, in any
case, their translations, and second-level subdivisions standing for the first-level one that
holds them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import pandas as pd
import pycountry

from custseg.geo import _placenames
from custseg.geo._iso import NOT_SUBDIVISIONS, iso_countries, read_data_csv
from custseg.geo._placenames import normalize_key
from custseg.geo._vectors import check_aligned, clean_text, compact_key, map_rows
from custseg.geo.aliases import aliases_of
from custseg.geo.countries import special_names
from custseg.geo.markets import CN_MACRO_REGIONS

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


_SUBDIVISION_COLUMNS = ("province", "province_zh", "province_code", "cn_macro_region", "cn_macro_region_zh")


@dataclass(frozen=True)
class _Subdivision:
    name: str
    name_zh: str | None
    code: str
    macro_region: str | None
    macro_region_zh: str | None


#: What became of a province value (column ``province_match``): placed in a first-level
#: subdivision; not given; not recognised among its country's subdivisions; or kept as typed,
#: because the country is unknown or has no ISO 3166-2 subdivisions.
PROVINCE_MATCHES: tuple[str, ...] = ("province", "not_given", "unknown", "kept")


@cache
def _cn_provinces() -> tuple[dict[str, str], ...]:
    """Rows of cn_provinces.csv, checked against pycountry and the market table."""
    rows = tuple(read_data_csv("cn_provinces.csv"))
    for line, row in enumerate(rows, start=2):
        if pycountry.subdivisions.get(code=row["code"]) is None:
            raise ValueError(f"custseg/data/cn_provinces.csv line {line}: {row['code']!r} is not an ISO 3166-2 code")
        macro = CN_MACRO_REGIONS.get(row["macro_region"])
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
        key = (iso3, compact_key(spelling))
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
    for line, row in enumerate(read_data_csv("subdivision_aliases.csv"), start=2):
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
    return {row["name_zh_full"]: keys[("CHN", compact_key(row["name_zh_full"]))] for row in _cn_provinces()}


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
    key = compact_key(value)
    found = _lookup_subdivision(iso3, key)
    if found is None and iso3 == "CHN" and key and _is_cjk(key[0]):
        found = _chinese_address_province(key)
    return found


def _subdivision_index(iso3: str | None) -> dict[str, str | None]:
    """One country's ISO 3166-2 lookup (empty for an unknown country or one without subdivisions)."""
    country = iso_countries().get(iso3) if iso3 else None
    if country is None:
        return {}
    return _placenames.subdivision_index(country.iso2, NOT_SUBDIVISIONS.get(country.iso2, frozenset()))


@cache
def _subdivision_by_code(code: str) -> _Subdivision:
    """The subdivision an ISO 3166-2 code stands for: its first-level subdivision, with China's
    contract names and macro region."""
    code = _placenames.top_level_code(code)
    for row in _cn_provinces():
        if row["code"] == code:
            return _subdivision_keys()[("CHN", compact_key(code))]
    iso = pycountry.subdivisions.get(code=code)
    return _Subdivision(iso.name, None, iso.code, None, None)


def _is_non_answer(value: str) -> bool:
    key = normalize_key(value)
    return not any(char.isalnum() for char in key) or special_names().get(key) == _placenames.NOT_GIVEN


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
    country = iso_countries().get(country_iso3)
    if country is None:
        return None
    return _placenames.suggest_subdivision(country.iso2, value, NOT_SUBDIVISIONS.get(country.iso2, ()))


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
    check_aligned(values=values, country_iso3=country_iso3)
    table = aliases_of(aliases)
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
            return clean_text(value), None, None, None, None, "kept"
        code = _placenames.find_subdivision(index, value, iso_countries()[iso3].iso2)
        if code is None:  # the raw spelling stays in province_raw for the data-quality report
            return (*empty, "unknown")
        return placed(_subdivision_by_code(code))

    return map_rows([values, country_iso3], (*_SUBDIVISION_COLUMNS, "province_match"), solve)


def load_subdivision_data() -> None:
    """Read the subdivision tables now (see :func:`custseg.geo.load_reference_data`)."""
    _subdivision_keys()
    _cn_provinces()
    _cn_full_names()
