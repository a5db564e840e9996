"""A customer table's country, province and city columns to canonical regions and markets
(:func:`normalize_regions`), and how many customers each market holds (:func:`region_coverage`)."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from custseg.geo._vectors import STRING, clean_text, map_rows
from custseg.geo.aliases import check_aliases
from custseg.geo.countries import COUNTRY_COLUMNS, load_country_data, normalize_countries
from custseg.geo.markets import MARKETS, UNKNOWN, UNKNOWN_MARKET, assign_markets
from custseg.geo.subdivisions import load_subdivision_data, normalize_subdivisions


def load_reference_data(*, spellings: Iterable[str] = ()) -> None:
    """Load the country and subdivision tables now (they are cached for the process).

    Parameters
    ----------
    spellings : iterable of str
        Country values about to be placed (a table's distinct values). When one of them is not in
        the core tables, the country names of every CLDR locale and catalog language and the words
        index over them are read too (see docs/performance.md), which the lookup would
        otherwise read the first time it misses. A caller with other work to do can have it all
        happen on another thread in the meantime, and pays nothing for them when every spelling
        is a core one.
    """
    load_country_data(spellings=spellings)
    load_subdivision_data()


_RAW_COLUMNS = ("country_raw", "province_raw", "city_raw")
_REGION_COLUMNS = (
    "market",
    "market_zh",
    *COUNTRY_COLUMNS,
    "province",
    "province_zh",
    "province_code",
    "city",
    "country_match",
    "province_match",
)


def _clean_series(values: pd.Series) -> pd.DataFrame:
    return map_rows([values], ("value",), lambda value: (None if value is None else clean_text(value),))


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
        return pd.Series(pd.array([None] * len(frame), dtype=STRING), index=frame.index)

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
        **{column: countries[column].array for column in COUNTRY_COLUMNS},
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
            {"market": [UNKNOWN], "market_zh": [UNKNOWN_MARKET.name_zh], "customers": [0], "country_spellings": [0]}
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
