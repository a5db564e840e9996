"""The sample company's reference tables, read once from the CSV files in ``sample/tables/``.

The places, names, products, prices and calendars the generator draws from are data, not code:
each lives in a UTF-8 CSV file (a header row, ``|`` between the items of a list cell, an empty cell
for "none") and is read once per process (``functools.cache``). Every loader returns the tables as
tuples and dicts in the files' row order: the generator draws in that order, so the files' rows
are part of what makes a sample byte-identical for a seed. They are written out here rather than
read from pycountry or babel at run time, so that a library upgrade can never change the bytes of
a generated sample.

Private to :mod:`custseg.sample`.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
from importlib import resources

import numpy as np

#: Kinds of place a customer of a mainland province, a US state or a Canadian province has.
_SUBDIVIDED = ("CHN", "USA", "CAN")


def _rows(name: str) -> tuple[dict[str, str], ...]:
    """The rows of ``tables/<name>.csv`` as dicts of text, in file order."""
    with resources.files("custseg.sample").joinpath("tables", f"{name}.csv").open(encoding="utf-8", newline="") as f:
        return tuple(csv.DictReader(f))


def _items(cell: str) -> tuple[str, ...]:
    """A list cell ("a|b|c") as a tuple; an empty cell is the empty tuple."""
    return tuple(cell.split("|")) if cell else ()


@functools.cache
def exchange_rates() -> dict[str, float]:
    """Value of one unit of each currency in CNY (fixed, roughly 2025 levels, so that the sample
    is reproducible; ``sample_meta.json`` records the rates actually used)."""
    return {row["currency"]: float(row["cny"]) for row in _rows("exchange_rates")}


@functools.cache
def whole_unit_currencies() -> frozenset[str]:
    """Currencies never priced in fractions in practice (amounts are still written with ".00")."""
    return frozenset(row["currency"] for row in _rows("exchange_rates") if row["whole_units"])


@functools.cache
def categories() -> tuple[str, ...]:
    """Product categories of the fictional shop."""
    return tuple(row["category"] for row in _rows("categories"))


@functools.cache
def category_price() -> tuple[float, ...]:
    """Price level of each category (in :func:`categories` order), relative to a customer's
    typical order value."""
    return tuple(float(row["price_level"]) for row in _rows("categories"))


@functools.cache
def products() -> tuple[tuple[tuple[str, float], ...], ...]:
    """The shop's catalogue: (description, list price in CNY) per category, in :func:`categories`
    order. A line's quantity is its value over the list price, so a stock code keeps roughly one
    unit price across invoices, as in a real export."""
    rows = _rows("products")
    return tuple(
        tuple((row["description"], float(row["list_price_cny"])) for row in rows if row["category"] == category)
        for category in categories()
    )


@functools.cache
def markets() -> tuple[str, ...]:
    """The markets customers are placed in, in the order of the market codes."""
    return tuple(row["market"] for row in _rows("markets"))


@functools.cache
def market_segment_tilt(segments: tuple[str, ...]) -> dict[str, tuple[float, ...]]:
    """Multipliers on the segments' base shares per market, in `segments` order; markets with
    none are left out. Kept mild so that every market holds every segment and the market never
    stands in for the segment."""
    return {
        row["market"]: tuple(float(row[f"tilt_{segment}"]) for segment in segments)
        for row in _rows("markets") if row[f"tilt_{segments[0]}"]
    }


@functools.cache
def market_price() -> dict[str, float]:
    """Price level of a market, as a multiplier on order values in CNY; markets with none are left
    out (a level of 1)."""
    return {row["market"]: float(row["price_level"]) for row in _rows("markets") if row["price_level"]}


@functools.cache
def country_names() -> tuple[tuple[str, str, str, str, tuple[str, ...], tuple[str, ...]], ...]:
    """Country spellings seen in exports: (iso3, iso2, English short name, official name or "",
    aliases, Chinese names); the first Chinese name is the CLDR ``zh`` short name."""
    return tuple(
        (row["iso3"], row["iso2"], row["name"], row["official"], _items(row["aliases"]), _items(row["names_zh"]))
        for row in _rows("countries")
    )


@functools.cache
def countries() -> tuple[tuple[str, str, float, str, str, str, str, str], ...]:
    """(iso3, market ("" for mainland China, placed by province), share of all customers,
    currency, calendar, name style, calling code, legal suffix of company names)."""
    return tuple(
        (row["iso3"], row["market"], float(row["share"]), row["currency"], row["calendar"], row["name_style"],
         row["calling_code"], row["legal_suffix"])
        for row in _rows("countries")
    )


def _cities(country: str, subdivision: str) -> tuple[tuple[str, str], ...]:
    return tuple((row["city"], row["city_zh"]) for row in _city_rows()
                 if row["country"] == country and row["subdivision"] == subdivision)


@functools.cache
def _city_rows() -> tuple[dict[str, str], ...]:
    return _rows("cities")


@functools.cache
def provinces() -> tuple[tuple[str, str, str, str, str, str, str, float, tuple[tuple[str, str], ...]], ...]:
    """Mainland provinces: (English = canonical, Chinese short, Chinese full, ISO 3166-2 suffix,
    pinyin as written in exports, kind, market, weight, cities as (English, Chinese)). Weights
    follow the economy (GDP share), with Guangdong nudged up for its e-commerce weight; the
    first-listed cities are the bigger ones."""
    return tuple(
        (row["name"], row["zh_short"], row["zh_full"], row["iso"], row["pinyin"], row["kind"], row["market"],
         float(row["weight"]), _cities("CHN", row["name"]))
        for row in _rows("provinces")
    )


@functools.cache
def subdivisions(country: str) -> tuple[tuple[str, str, float, tuple[str, ...]], ...]:
    """US states (``USA``) or Canadian provinces (``CAN``): (code, full name, weight, cities)."""
    return tuple(
        (row["code"], row["name"], float(row["weight"]), tuple(city for city, _zh in _cities(country, row["code"])))
        for row in _rows("subdivisions") if row["country"] == country
    )


@functools.cache
def country_cities() -> dict[str, tuple[tuple[str, str], ...]]:
    """Cities of the countries placed without subdivisions: (English, Chinese or "")."""
    codes = dict.fromkeys(row["country"] for row in _city_rows() if row["country"] not in _SUBDIVIDED)
    return {code: _cities(code, "") for code in codes}


@functools.cache
def names() -> dict[str, tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...], bool]]:
    """Name material per style: (given names, family names, family name first); each name as
    (display, ASCII for e-mail addresses). In the styles' file order, which is the draw order."""
    rows = _rows("names")

    def part(style: str, kind: str) -> tuple[tuple[str, str], ...]:
        return tuple((row["name"], row["ascii"]) for row in rows if row["style"] == style and row["part"] == kind)

    return {
        row["style"]: (part(row["style"], "given"), part(row["style"], "family"), bool(row["family_first"]))
        for row in _rows("name_styles")
    }


@functools.cache
def company_words(language: str, part: str) -> tuple[tuple[str, str], ...]:
    """Words of company names: ``part`` "name" or "kind", in ``language`` "zh" (with the
    romanized form) or "en" (romanized "")."""
    return tuple((row["word"], row["romanized"]) for row in _rows("company_words")
                 if row["language"] == language and row["part"] == part)


@functools.cache
def spring_festival() -> tuple[str, ...]:
    """Chinese New Year's Day of each year (ISO dates); the weeks before it are a shopping peak,
    the days around it a lull."""
    return tuple(row["new_year"] for row in _rows("spring_festival"))


@dataclasses.dataclass(frozen=True)
class Locations:
    """One row per place a customer can live: a mainland province, a US state, a Canadian
    province, or a whole other country."""

    iso3: np.ndarray  # country of the place
    country: np.ndarray  # index into countries()
    sub: np.ndarray  # index into the country's subdivision table, -1 for none
    province: np.ndarray  # canonical subdivision name or ""
    market: np.ndarray  # index into markets()
    weight: np.ndarray
    city_en: list[tuple[str, ...]]
    city_zh: list[tuple[str, ...]]


def locations() -> Locations:
    """Every place a customer can live, with its share of the customers."""
    iso3, country, sub, province, market, weight, city_en, city_zh = [], [], [], [], [], [], [], []
    market_names = markets()
    for c, (code, mkt, share, *_rest) in enumerate(countries()):
        if code == "CHN":
            table = provinces()
            total = sum(p[7] for p in table)
            for s, p in enumerate(table):
                iso3.append(code), country.append(c), sub.append(s), province.append(p[0])
                market.append(market_names.index(p[6])), weight.append(share * p[7] / total)
                city_en.append(tuple(x[0] for x in p[8])), city_zh.append(tuple(x[1] for x in p[8]))
        elif code in ("USA", "CAN"):
            table = subdivisions(code)
            total = sum(p[2] for p in table)
            for s, p in enumerate(table):
                iso3.append(code), country.append(c), sub.append(s), province.append(p[1])
                market.append(market_names.index(mkt)), weight.append(share * p[2] / total)
                city_en.append(p[3]), city_zh.append(tuple("" for _ in p[3]))
        else:
            cities = country_cities()[code]
            iso3.append(code), country.append(c), sub.append(-1), province.append("")
            market.append(market_names.index(mkt)), weight.append(share)
            city_en.append(tuple(x[0] for x in cities))
            city_zh.append(tuple(x[1] for x in cities))
    w = np.array(weight)
    return Locations(
        np.array(iso3, dtype=object), np.array(country), np.array(sub),
        np.array(province, dtype=object), np.array(market), w / w.sum(), city_en, city_zh,
    )
