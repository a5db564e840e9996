"""Synthetic sample data: customers, orders, interactions and feedback with a known answer.

`generate_sample` builds a fictional company's CRM/shop export in the raw shape described by
``docs/data-contract.md`` together with the *ground truth* that the rest of custseg is tested
against: the planted behavioural segment of every customer, whether the customer really churned in
the ``horizon_days`` after the observation date, and the canonical country / province / market of
every messy location spelling. `write_sample` writes it all as CSV plus ``sample_meta.json``.
`line_items_frame` (written by `write_line_items`) gives the same orders the way online shops
export them: one row per invoice line, with reversal invoices, postage lines and guest checkouts.

How the data is made (all of it vectorized numpy, so ten million order rows take seconds):

* Every customer gets a location (mainland China by province, Hong Kong / Macao / Taiwan, or one of
  ~30 overseas countries, US states and Canadian provinces), then a behavioural segment drawn from a
  mix that differs mildly by market, then a first-order day, a purchase rate (gamma-distributed, so
  order counts are a gamma-mixed Poisson with a heavy tail) and a typical order value (log-normal).
* A share of customers is *about to churn*: they stop buying at a day close to the observation
  date, and in the ~4 months before that their purchase and contact rates thin out and their
  satisfaction scores fall. Lapsed customers stopped long ago. Everybody else keeps buying.
* Orders are a Poisson process whose intensity follows the market's calendar (11.11, 6.18 and the
  run-up to Spring Festival for Greater China; Black Friday and December in the West) and the
  weekday pattern of B2C or B2B buyers. Days are drawn by inverting the cumulative intensity, and
  thinning only removes the orders lost to churn. The process runs on through
  ``observation_date + horizon_days``; orders after the observation date are not written, they only
  feed the churn label.
* With ``messy=True`` the location columns are spelled the way real exports spell them (codes,
  English, Chinese, aliases, stray whitespace, odd case, full-width letters, a few unplaceable
  values) and a few rows are duplicated exactly.
* Planted demographic differences: businesses buy less often than consumers and more per order,
  also within a segment (they place ``B2B_REPEAT_ORDERS`` of a like consumer's repeat orders, from
  a random stream of their own, and spend ``B2B_ORDER_VALUE`` times as much per order; see
  :mod:`custseg.sample._behaviour`); the customers of one acquisition channel
  (``CHURNING_CHANNEL``) churn faster.
* Planted preference group: a share of customers in every segment (``PRICE_SENSITIVE_SHARE``)
  buys at a discount: their orders are worth ``PRICE_SENSITIVE_PAYS`` of a like customer's, and in
  the line items they pay that much less per unit for the same products (``price_sensitive`` in
  the ground truth).

Every text column that is empty in the CSV is missing (``<NA>``) in the returned frames.

This module is the front and writes the customers' text (places, names, the messy spellings) and
the frames; the behaviour is drawn in :mod:`custseg.sample._behaviour`, the line items made in
:mod:`custseg.sample._lineitems`, and the reference tables (countries, provinces, cities, names,
products, rates, market tilts) are data files in ``sample/tables/`` (:mod:`custseg.sample._tables`).
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import pathlib
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from custseg import files
from custseg.sample import _tables
from custseg.sample._behaviour import (
    B2B_REPEAT_ORDERS,
    EXCHANGE_RATES,
    INTERACTION_CHANNELS,
    PRICE_SENSITIVE_PAYS,
    PRICE_SENSITIVE_SHARE,
    SEGMENTS,
    STATUSES,
    Orders,
    People,
    draw_feedback,
    draw_interactions,
    draw_orders,
    draw_people,
    intensity_table,
    with_fewer_b2b_orders,
    with_price_sensitive,
)
from custseg.sample._columns import day_dates, grouped_choice, id_array, id_series, labels, str_series, text_or_missing
from custseg.sample._lineitems import LINE_ITEM_COLUMNS, invoiced_orders, line_items_frame, write_line_items

__all__ = [
    "B2B_REPEAT_ORDERS",
    "CATEGORIES",
    "EXCHANGE_RATES",
    "LINE_ITEM_COLUMNS",
    "PRICE_SENSITIVE_PAYS",
    "PRICE_SENSITIVE_SHARE",
    "SEGMENTS",
    "SampleData",
    "SampleSpec",
    "generate_sample",
    "invoiced_orders",
    "line_items_frame",
    "write_line_items",
    "write_sample",
]

#: Product categories of the fictional shop.
CATEGORIES: tuple[str, ...] = _tables.categories()

_INDUSTRIES = (
    "manufacturing",
    "retail",
    "wholesale",
    "IT services",
    "healthcare",
    "education",
    "logistics",
    "hospitality",
    "construction",
    "finance",
)
_COMPANY_SIZES = ("1-49", "50-249", "250-999", "1000+")
_AGE_BANDS = ("18-24", "25-34", "35-44", "45-54", "55+")
#: Planted: the acquisition channel whose customers churn faster, and how much more often a
#: churning customer came through it.
CHURNING_CHANNEL = "social media"
CHURNING_TILT = 3.0

_CHANNELS = (
    "organic search",
    "paid ads",
    "referral",
    "trade show",
    "marketplace",
    "social media",
    "direct sales",
)

# The places and names the customers are written with (``sample/tables/*.csv``).
_MARKETS = _tables.markets()
_COUNTRY_NAMES = _tables.country_names()
_COUNTRY_TABLE = _tables.countries()
_PROVINCES = _tables.provinces()
_US_STATES = _tables.subdivisions("USA")
_CA_PROVINCES = _tables.subdivisions("CAN")
_COUNTRY_CITIES = _tables.country_cities()
_NAMES = _tables.names()
_COMPANY_WORDS_ZH = _tables.company_words("zh", "name")
_COMPANY_KINDS_ZH = _tables.company_words("zh", "kind")
_COMPANY_WORDS = tuple(word for word, _romanized in _tables.company_words("en", "name"))
_COMPANY_KINDS = tuple(word for word, _romanized in _tables.company_words("en", "kind"))

# Country values that cannot be placed anywhere.
_UNPLACEABLE = ("", "N/A", "unknown", "???", "-", "n/a", "NULL", "other")
_UNPLACEABLE_SHARE = 0.01
_PROVINCE_MISSING_SHARE = 0.03  # of mainland customers, when messy
_DUPLICATE_ORDER_SHARE = 0.005
_DUPLICATE_OTHER_SHARE = 0.003

# How messy spellings are chosen: weight of each kind of spelling.
_COUNTRY_KIND_WEIGHT = {"name": 0.34, "iso2": 0.14, "iso3": 0.14, "alias": 0.14,
                        "official": 0.06, "zh": 0.18}
_GREATER_CHINA_KIND_WEIGHT = {"name": 0.20, "iso2": 0.10, "iso3": 0.10, "alias": 0.08,
                              "official": 0.04, "zh": 0.48}
_PROVINCE_KIND_WEIGHT = {"zh_full": 0.25, "zh_short": 0.20, "pinyin": 0.25,
                         "pinyin_province": 0.12, "iso": 0.10, "bare": 0.08}
# Stray whitespace `_mess_up` puts around a value (a tab only in front, as a pasted cell has it).
# " " is listed twice in front on purpose: a single space is the commonest stray.
_LEADING_PADS = (" ", "  ", "\t", " ")
_TRAILING_PADS = (" ", "  ")
_MISTAKE_STREAM = 11
_PRICE_STREAM = 13
_B2B_STREAM = 17
# Rows with an export mistake that intake must quarantine, per kind of mistake, as a share of the
# table: an order without customer, worth nothing, in an unknown status or reusing an order id
# with another amount; a contact without customer; a survey with an NPS typed into the 1-5 scale.
_MISTAKE_SHARE = 0.0005


# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class SampleSpec:
    """What to generate.

    Parameters
    ----------
    n_customers : int
        Number of distinct customers. Orders scale with it (about 20 rows per customer).
    start_date : datetime.date
        First day with orders.
    observation_date : datetime.date
        Day after the last order written to ``orders.csv``; the churn horizon starts here.
    horizon_days : int
        Length of the future window simulated for the churn ground truth.
    seed : int
        Seed of the single random generator everything is drawn from.
    messy : bool
        Messy location spellings, unplaceable values and exact duplicate rows when True; the
        canonical values (ISO-3 country, English province name) and no duplicates when False.
    base_currency : str
        Currency of ``future_revenue`` and of the rates in ``sample_meta.json``; a key of
        `EXCHANGE_RATES`.
    """

    n_customers: int = 5000
    start_date: datetime.date = datetime.date(2023, 10, 1)
    observation_date: datetime.date = datetime.date(2026, 10, 1)
    horizon_days: int = 90
    seed: int = 20261001
    messy: bool = True
    base_currency: str = "CNY"


@dataclasses.dataclass(frozen=True)
class SampleData:
    """A generated sample: the four raw tables, the ground truth and a description.

    Attributes
    ----------
    customers, orders, interactions, feedback : pandas.DataFrame
        Raw tables in the column order of the data contract; text columns use the ``str`` dtype,
        dates are ``datetime64``, empty CSV cells are ``<NA>``.
    ground_truth : pandas.DataFrame
        One row per distinct customer, in ``customer_id`` order.
    meta : dict
        What ``sample_meta.json`` holds: seed, spec, sizes, dates, base currency, rates.
    """

    customers: pd.DataFrame
    orders: pd.DataFrame
    interactions: pd.DataFrame
    feedback: pd.DataFrame
    ground_truth: pd.DataFrame
    meta: dict


def generate_sample(spec: SampleSpec = SampleSpec()) -> SampleData:
    """Generate a synthetic customer base with a known answer.

    Parameters
    ----------
    spec : SampleSpec
        Size, dates, seed and messiness of the sample.

    Returns
    -------
    SampleData
        Raw customers, orders (before the observation date only), interactions and feedback, the
        ground truth per customer and the metadata written to ``sample_meta.json``.

    Raises
    ------
    ValueError
        If the spec is inconsistent (see `SampleSpec`).
    """
    _validate_spec(spec)
    rng = np.random.default_rng(spec.seed)
    span = (spec.observation_date - spec.start_date).days
    end = span + spec.horizon_days
    intensity = intensity_table(spec.start_date, end)

    people = draw_people(rng, spec.n_customers, span)
    # Planted preference group, from a stream of its own: who buys at a discount moves no other draw.
    picked = np.random.default_rng([_PRICE_STREAM, spec.seed]).random(spec.n_customers) < PRICE_SENSITIVE_SHARE
    people = with_price_sensitive(people, picked)
    orders = draw_orders(rng, people, intensity, span, end)
    # Planted: businesses place fewer repeat orders than consumers of their segment (own stream).
    orders = with_fewer_b2b_orders(np.random.default_rng([_B2B_STREAM, spec.seed]), people, orders)
    contacts = draw_interactions(rng, people, intensity, span)
    surveys = draw_feedback(rng, people, orders, span)
    location = _draw_location_text(rng, people, spec.messy)
    identity = _draw_identity(rng, people, location)

    # Exact duplicate rows (a re-run export) are chosen as row positions before any text is
    # built, so that ten million orders are never copied as strings.
    past = orders.day < span
    rows = {
        name: _duplicate_rows(rng, size, share if spec.messy else 0.0)
        for name, size, share in (
            ("customers", spec.n_customers, _DUPLICATE_OTHER_SHARE),
            ("orders", int(past.sum()), _DUPLICATE_ORDER_SHARE),
            ("interactions", contacts[0].size, _DUPLICATE_OTHER_SHARE),
            ("feedback", surveys[0].size, _DUPLICATE_OTHER_SHARE),
        )
    }
    customer_ids = id_array("C", spec.n_customers, 6)
    customers = _customers_frame(people, location, identity, spec.start_date).take(rows["customers"])
    customers = customers.reset_index(drop=True)
    ground_truth = _ground_truth_frame(people, orders, location, span, spec)
    orders_frame = _orders_frame(orders, past, rows["orders"], customer_ids, spec.start_date)
    interactions = _interactions_frame(contacts, rows["interactions"], customer_ids, spec.start_date)
    feedback = _feedback_frame(surveys, rows["feedback"], customer_ids, spec.start_date)
    if spec.messy:
        # A separate random stream: the mistakes never change any other draw of the sample.
        mistakes = np.random.default_rng([_MISTAKE_STREAM, spec.seed])
        orders_frame, interactions, feedback = _with_mistakes(mistakes, orders_frame, interactions, feedback)

    meta = _meta(spec, customers, orders_frame, interactions, feedback, ground_truth)
    return SampleData(customers, orders_frame, interactions, feedback, ground_truth, meta)


def write_sample(data: SampleData, folder: pathlib.Path) -> dict[str, pathlib.Path]:
    """Write a sample as CSV files plus ``sample_meta.json``.

    Files are UTF-8 without index, dates ``YYYY-MM-DD``, amounts with two decimals, ``\\n`` line
    ends, so the same spec always gives byte-identical files.

    Parameters
    ----------
    data : SampleData
        Output of `generate_sample`.
    folder : pathlib.Path
        Destination; created if missing. Existing files of the same names are replaced.

    Returns
    -------
    dict[str, pathlib.Path]
        File stem (``customers``, ``orders``, ``interactions``, ``feedback``, ``ground_truth``,
        ``sample_meta``) to written path.
    """
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tables = {
        "customers": data.customers,
        "orders": data.orders,
        "interactions": data.interactions,
        "feedback": data.feedback,
        "ground_truth": data.ground_truth,
    }
    written: dict[str, pathlib.Path] = {}
    for name, frame in tables.items():
        # formulas kept: the sample plays a company's raw export (phones start with "+"), which
        # intake reads back; UTF-8 without a BOM, as most shop systems write it
        written[name] = files.write_csv(
            frame, folder / f"{name}.csv", formulas="keep",
            encoding="utf-8", date_format="%Y-%m-%d", float_format="%.2f",
        )
    meta_path = folder / "sample_meta.json"
    files.write_text(meta_path, json.dumps(data.meta, ensure_ascii=False, indent=2, sort_keys=True) + "\n")
    written["sample_meta"] = meta_path
    return written


def _validate_spec(spec: SampleSpec) -> None:
    if not isinstance(spec.n_customers, (int, np.integer)) or spec.n_customers < 1:
        raise ValueError(f"SampleSpec.n_customers must be a positive integer, got {spec.n_customers!r}")
    for field in ("start_date", "observation_date"):
        value = getattr(spec, field)
        if not isinstance(value, datetime.date) or isinstance(value, datetime.datetime):
            raise ValueError(f"SampleSpec.{field} must be a datetime.date, got {value!r}")
    span = (spec.observation_date - spec.start_date).days
    if span < 365:
        raise ValueError(
            f"SampleSpec needs at least 365 days of order history, got {span} days from "
            f"start_date {spec.start_date} to observation_date {spec.observation_date}"
        )
    if not isinstance(spec.horizon_days, (int, np.integer)) or spec.horizon_days < 1:
        raise ValueError(f"SampleSpec.horizon_days must be a positive integer, got {spec.horizon_days!r}")
    if spec.base_currency not in EXCHANGE_RATES:
        raise ValueError(
            f"SampleSpec.base_currency {spec.base_currency!r} has no exchange rate; "
            f"choose one of {', '.join(sorted(EXCHANGE_RATES))}"
        )


# ---------------------------------------------------------------------------------------------
# Text columns: locations and identities
# ---------------------------------------------------------------------------------------------

def _fullwidth(text: pd.Series) -> pd.Series:
    """Replace printable ASCII by its full-width form, as some Chinese input methods type it."""
    table = {code: code + 0xFEE0 for code in range(0x21, 0x7F)}
    table[0x20] = 0x3000
    return text.str.translate(table)


def _mess_up(rng: np.random.Generator, text: pd.Series, case: float, space: float, wide: float) -> pd.Series:
    """Odd case, stray whitespace and full-width letters on a share of the non-empty values."""
    out = text.copy()
    n = out.size
    # An empty value stays empty: padding it would invent a value that is only whitespace.
    filled = (out != "").to_numpy()
    case_draw = rng.random(n)
    lower = filled & (case_draw < case * 0.5)
    upper = filled & (case_draw >= case * 0.5) & (case_draw < case * 0.85)
    title = filled & (case_draw >= case * 0.85) & (case_draw < case)
    out[lower] = out[lower].str.lower()
    out[upper] = out[upper].str.upper()
    out[title] = out[title].str.title()
    widen = filled & (rng.random(n) < wide)
    out[widen] = _fullwidth(out[widen])
    lead = filled & (rng.random(n) < space)
    trail = filled & (rng.random(n) < space)
    lead_pad = np.array(_LEADING_PADS, dtype=object)[rng.integers(0, len(_LEADING_PADS), n)]
    trail_pad = np.array(_TRAILING_PADS, dtype=object)[rng.integers(0, len(_TRAILING_PADS), n)]
    out[lead] = pd.Series(lead_pad[lead], index=out.index[lead], dtype="str") + out[lead]
    out[trail] = out[trail] + pd.Series(trail_pad[trail], index=out.index[trail], dtype="str")
    return out


def _spelling_table(rows: list[list[tuple[str, float]]]) -> tuple[np.ndarray, np.ndarray]:
    """Ragged (spelling, weight) rows as two padded arrays: the spellings and their weights (0 pads)."""
    width = max(len(r) for r in rows)
    text = np.full((len(rows), width), "", dtype=object)
    weight = np.zeros((len(rows), width))
    for i, r in enumerate(rows):
        for j, (t, w) in enumerate(r):
            text[i, j], weight[i, j] = t, w
    return text, weight


def _country_variants(messy: bool) -> tuple[np.ndarray, np.ndarray]:
    """Spellings (one row per country, padded) and their weights."""
    names = {row[0]: row for row in _COUNTRY_NAMES}
    rows: list[list[tuple[str, float]]] = []
    for code, *_rest in _COUNTRY_TABLE:
        _iso3, iso2, name, official, aliases, chinese = names[code]
        if not messy:
            rows.append([(code, 1.0)])
            continue
        kinds = _GREATER_CHINA_KIND_WEIGHT if code in ("CHN", "HKG", "MAC", "TWN") else _COUNTRY_KIND_WEIGHT
        spelled = [(iso2, kinds["iso2"]), (code, kinds["iso3"]), (name, kinds["name"])]
        if official:
            spelled.append((official, kinds["official"]))
        spelled += [(a, kinds["alias"] / len(aliases)) for a in aliases]
        spelled += [(z, kinds["zh"] * (0.7 if i == 0 else 0.3 / (len(chinese) - 1)))
                    for i, z in enumerate(chinese)]
        rows.append(spelled)
    return _spelling_table(rows)


def _province_variants(country_code: str, messy: bool) -> tuple[np.ndarray, np.ndarray]:
    if country_code == "CHN":
        rows = []
        for english, short, full, code, pinyin, kind, *_rest in _PROVINCES:
            if not messy:
                rows.append([(english, 1.0)])
                continue
            w = _PROVINCE_KIND_WEIGHT
            suffixed = f"{pinyin} Province" if kind == "province" else english
            rows.append([
                (full, w["zh_full"]), (short, w["zh_short"]), (pinyin, w["pinyin"]),
                (suffixed, w["pinyin_province"]), (f"CN-{code}", w["iso"]), (code, w["bare"]),
            ])
    else:
        table = _US_STATES if country_code == "USA" else _CA_PROVINCES
        rows = [[(name, 1.0)] if not messy else [(code, 0.45), (name, 0.55)]
                for code, name, *_rest in table]
    return _spelling_table(rows)


def _draw_location_text(rng: np.random.Generator, people: People, messy: bool) -> dict[str, Any]:
    """Written country / province / city and the matching canonical truth."""
    places = _tables.locations()
    n = people.location.size
    iso3 = places.iso3[people.location]
    truth_province = places.province[people.location].copy()
    truth_market = np.array(_MARKETS, dtype=object)[people.market]

    text, weight = _country_variants(messy)
    pick = grouped_choice(rng, people.country, weight)
    country = pd.Series(text[people.country, pick], dtype="str")
    if messy:
        country = _mess_up(rng, country, case=0.25, space=0.12, wide=0.03)

    province = np.full(n, "", dtype=object)
    for code in ("CHN", "USA", "CAN"):
        rows = np.flatnonzero(iso3 == code)
        sub = places.sub[people.location[rows]]
        p_text, p_weight = _province_variants(code, messy)
        province[rows] = p_text[sub, grouped_choice(rng, sub, p_weight)]
    province = pd.Series(province, dtype="str")
    if messy:
        province = _mess_up(rng, province, case=0.15, space=0.08, wide=0.01)

    # City: first-listed cities are the bigger ones.
    location = people.location
    counts = np.array([len(c) for c in places.city_en])
    width = counts.max()
    city_weight = np.where(np.arange(width)[None, :] < counts[:, None],
                           1.0 / (1.0 + np.arange(width))[None, :], 0.0)
    city_pick = grouped_choice(rng, location, city_weight)
    city_en = np.full((counts.size, width), "", dtype=object)
    city_zh = np.full((counts.size, width), "", dtype=object)
    for i, (en, zh) in enumerate(zip(places.city_en, places.city_zh)):
        city_en[i, : len(en)], city_zh[i, : len(zh)] = en, zh
    english = city_en[location, city_pick]
    chinese = city_zh[location, city_pick]
    use_chinese = (chinese != "") & (rng.random(n) < np.where(iso3 == "CHN", 0.55, 0.25))
    city = np.where(use_chinese & messy, chinese, english)
    # Chinese exports often keep the 市 (city) suffix.
    suffix = use_chinese & messy & (iso3 == "CHN") & (rng.random(n) < 0.3)
    city = np.where(suffix, city + "市", city)
    city = pd.Series(city, dtype="str")

    # Unplaceable countries and mainland customers without province.
    if messy:
        lost = rng.random(n) < _UNPLACEABLE_SHARE
        junk = np.array(_UNPLACEABLE, dtype=object)[rng.integers(0, len(_UNPLACEABLE), n)]
        country = country.mask(lost, pd.Series(junk, dtype="str"))
        no_province = (iso3 == "CHN") & ~lost & (rng.random(n) < _PROVINCE_MISSING_SHARE)
    else:
        lost = np.zeros(n, dtype=bool)
        no_province = np.zeros(n, dtype=bool)
    blank = lost | no_province
    # A city would give the place away, so an unplaceable customer has none either.
    province = province.mask(blank, "")
    city = city.mask(blank, "")
    truth_province = np.where(blank, "", truth_province)
    truth_iso3 = np.where(lost, "", iso3)
    truth_market = np.where(lost, "Unknown", truth_market)
    truth_market = np.where(no_province, "China (province unknown)", truth_market)
    return {
        "country": country.mask(country == ""),
        "province": province.mask(province == ""),
        "city": city.mask(city == ""),
        "truth_iso3": text_or_missing(truth_iso3),
        "truth_province": text_or_missing(truth_province),
        "truth_market": pd.Series(truth_market, dtype="str"),
    }


def _draw_identity(rng: np.random.Generator, people: People, location: dict[str, Any]) -> dict[str, pd.Series]:
    """Customer id, fake name, e-mail and phone; all obviously synthetic."""
    n = people.segment.size
    customer_id = id_series("C", n, 6)
    number = customer_id.str.slice(1)
    style_of_country = np.array([row[5] for row in _COUNTRY_TABLE], dtype=object)[people.country]
    calling = pd.Series(np.array([row[6] for row in _COUNTRY_TABLE], dtype=object)[people.country], dtype="str")
    legal = np.array([row[7] for row in _COUNTRY_TABLE], dtype=object)[people.country]

    display = np.full(n, "", dtype=object)
    handle = np.full(n, "", dtype=object)
    for style, (given, family, family_first) in _NAMES.items():
        rows = np.flatnonzero(style_of_country == style)
        if rows.size == 0:
            continue
        g = rng.integers(0, len(given), rows.size)
        f = rng.integers(0, len(family), rows.size)
        g_text, g_ascii = (np.array(column, dtype=object)[g] for column in zip(*given))
        f_text, f_ascii = (np.array(column, dtype=object)[f] for column in zip(*family))
        joiner = "" if style == "zh" else " "
        display[rows] = (f_text + joiner + g_text) if family_first else (g_text + " " + f_text)
        handle[rows] = g_ascii + "." + f_ascii

    # Businesses: Chinese-style names for Greater China, "<Word> <Kind> <legal form>" elsewhere.
    firms = np.flatnonzero(people.b2b)
    zh_firm = style_of_country[firms] == "zh"
    word = rng.integers(0, len(_COMPANY_WORDS_ZH), firms.size)
    kind = rng.integers(0, len(_COMPANY_KINDS_ZH), firms.size)
    zh_names = np.array([w[0] for w in _COMPANY_WORDS_ZH], dtype=object)[word] + \
        np.array([k[0] for k in _COMPANY_KINDS_ZH], dtype=object)[kind]
    mainland = people.country[firms] == 0
    zh_names = np.where(mainland, zh_names, np.array([w[1] for w in _COMPANY_WORDS_ZH], dtype=object)[word]
                        + " " + np.array([k[1] for k in _COMPANY_KINDS_ZH], dtype=object)[kind])
    word = rng.integers(0, len(_COMPANY_WORDS), firms.size)
    kind = rng.integers(0, len(_COMPANY_KINDS), firms.size)
    other_names = (np.array(_COMPANY_WORDS, dtype=object)[word] + " "
                   + np.array(_COMPANY_KINDS, dtype=object)[kind] + " " + legal[firms])
    display[firms] = np.where(zh_firm, zh_names, other_names)
    handle[firms] = "procurement"

    name = pd.Series(display, dtype="str")
    email = pd.Series(handle, dtype="str") + "." + number + "@example.com"
    # 555 marks the numbers as fictional everywhere.
    phone = "+" + calling + " 555 " + number.str.slice(-7).str.zfill(7)

    # Firmographics and demographics: businesses have an industry and size, consumers an age.
    industry = np.array(_INDUSTRIES, dtype=object)[rng.integers(0, len(_INDUSTRIES), n)]
    # Bulk buyers are mostly larger firms.
    size_weight = np.array([[0.45, 0.35, 0.15, 0.05], [0.10, 0.30, 0.35, 0.25]])
    bulk = (people.segment == SEGMENTS.index("bulk_buyer")).astype(np.int64)
    size = np.array(_COMPANY_SIZES, dtype=object)[grouped_choice(rng, bulk, size_weight)]
    age = np.array(_AGE_BANDS, dtype=object)[
        rng.choice(len(_AGE_BANDS), size=n, p=[0.14, 0.33, 0.26, 0.16, 0.11])
    ]
    #                      organic paid  referral trade market social direct
    channel_weight = np.array([
        [0.24, 0.20, 0.12, 0.01, 0.22, 0.20, 0.01],  # B2C
        [0.15, 0.08, 0.22, 0.25, 0.05, 0.03, 0.22],  # B2B
    ])
    # Planted: customers who churn (about to, or lapsed) came through CHURNING_CHANNEL
    # CHURNING_TILT times as often, so that channel's customers churn faster. The same one draw
    # per customer as without the tilt: no other column of the sample moves.
    tilted = channel_weight.copy()
    tilted[:, _CHANNELS.index(CHURNING_CHANNEL)] *= CHURNING_TILT
    group = people.b2b.astype(np.int64) + 2 * people.churner.astype(np.int64)
    channel = np.array(_CHANNELS, dtype=object)[grouped_choice(rng, group, np.vstack([channel_weight, tilted]))]
    b2b = people.b2b
    return {
        "customer_id": customer_id,
        "customer_name": name,
        "email": email,
        "phone": phone,
        "customer_type": pd.Series(np.where(b2b, "B2B", "B2C"), dtype="str"),
        "industry": text_or_missing(np.where(b2b, industry, "")),
        "company_size": text_or_missing(np.where(b2b, size, "")),
        "age_band": text_or_missing(np.where(b2b, "", age)),
        "acquisition_channel": pd.Series(channel, dtype="str"),
    }


# ---------------------------------------------------------------------------------------------
# Frames
# ---------------------------------------------------------------------------------------------

def _customers_frame(
    people: People, location: dict[str, Any], identity: dict[str, pd.Series], start: datetime.date
) -> pd.DataFrame:
    return pd.DataFrame({
        **identity,
        "signup_date": day_dates(start, people.signup),
        "country": location["country"],
        "province": location["province"],
        "city": location["city"],
    })


def _ground_truth_frame(
    people: People, orders: Orders, location: dict[str, Any], span: int, spec: SampleSpec
) -> pd.DataFrame:
    n = people.segment.size
    future = (orders.day >= span) & (orders.status == 0)
    future_orders = np.bincount(orders.owner[future], minlength=n)
    revenue_cny = np.bincount(orders.owner[future], weights=orders.amount_cny[future], minlength=n)
    revenue = np.round(revenue_cny / EXCHANGE_RATES[spec.base_currency], 2)
    return pd.DataFrame({
        "customer_id": id_series("C", n, 6),
        "true_segment": pd.Series(np.array(SEGMENTS, dtype=object)[people.segment], dtype="str"),
        "churned": future_orders == 0,
        "future_orders": future_orders.astype(np.int64),
        "future_revenue": revenue,
        "country_iso3": location["truth_iso3"],
        "province": location["truth_province"],
        "market": location["truth_market"],
        # planted: buys at a discount (PRICE_SENSITIVE_PAYS of the usual price)
        "price_sensitive": people.price_sensitive if people.price_sensitive is not None else np.zeros(n, dtype=bool),
    })


def _orders_frame(
    orders: Orders, past: np.ndarray, rows: np.ndarray, customer_ids: pa.Array, start: datetime.date
) -> pd.DataFrame:
    """Orders before the observation date; ``rows`` picks (and repeats) their positions."""
    picked = np.flatnonzero(past)[rows]
    return pd.DataFrame({
        "order_id": id_series("O", int(past.sum()), 7, rows + 1),
        "customer_id": str_series(customer_ids.take(pa.array(orders.owner[picked]))),
        "order_date": day_dates(start, orders.day[picked]),
        "category": labels(CATEGORIES, orders.category[picked]),
        "amount": orders.amount[picked],
        "currency": labels(orders.currencies, orders.currency[picked]),
        "status": labels(STATUSES, orders.status[picked]),
    })


def _interactions_frame(
    contacts: tuple[np.ndarray, np.ndarray, np.ndarray],
    rows: np.ndarray,
    customer_ids: pa.Array,
    start: datetime.date,
) -> pd.DataFrame:
    owner, day, channel = (column[rows] for column in contacts)
    return pd.DataFrame({
        "interaction_id": id_series("I", contacts[0].size, 7, rows + 1),
        "customer_id": str_series(customer_ids.take(pa.array(owner))),
        "interaction_date": day_dates(start, day),
        "channel": labels(INTERACTION_CHANNELS, channel),
    })


def _feedback_frame(
    surveys: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    rows: np.ndarray,
    customer_ids: pa.Array,
    start: datetime.date,
) -> pd.DataFrame:
    owner, day, satisfaction, nps = (column[rows] for column in surveys)
    return pd.DataFrame({
        "feedback_id": id_series("F", surveys[0].size, 6, rows + 1),
        "customer_id": str_series(customer_ids.take(pa.array(owner))),
        "feedback_date": day_dates(start, day),
        "satisfaction": satisfaction,
        "nps": nps,
    })


def _with_mistakes(
    rng: np.random.Generator, orders: pd.DataFrame, interactions: pd.DataFrame, feedback: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Copies of real rows with one export mistake each, placed right after their original.

    The copies get order ids past the real ones (except the conflicting re-use of an id), so the
    real rows, and with them the ground truth, are untouched; intake quarantines every copy, and
    with a reused id the original too (which of two different rows with one id is right cannot
    be told), so those orders are missing from the clean table as they would be from a real one.
    """
    next_number = len(orders) + 1

    def copies(frame: pd.DataFrame, count: int) -> tuple[np.ndarray, pd.DataFrame]:
        picked = np.sort(rng.choice(len(frame), size=min(count, len(frame)), replace=False))
        return picked, frame.take(picked).reset_index(drop=True)

    count = max(1, round(_MISTAKE_SHARE * len(orders)))
    parts = []
    for kind in ("no_customer", "zero_amount", "unknown_status", "reused_id"):
        at, bad = copies(orders, count)
        if kind == "no_customer":
            bad["customer_id"] = pd.NA
        elif kind == "zero_amount":
            bad["amount"] = 0.0
        elif kind == "unknown_status":
            bad["status"] = "pending"
        else:
            bad["amount"] = np.round(bad["amount"].to_numpy() * 1.1 + 1.0, 2)
        if kind != "reused_id":
            bad["order_id"] = id_series("O", next_number + len(bad), 7, np.arange(next_number, next_number + len(bad)))
            next_number += len(bad)
        parts.append((at, bad))
    orders = _insert_after(orders, parts)

    at, bad = copies(interactions, max(1, round(_MISTAKE_SHARE * len(interactions))))
    bad["customer_id"] = pd.NA
    interactions = _insert_after(interactions, [(at, bad)])
    at, bad = copies(feedback, max(1, round(_MISTAKE_SHARE * len(feedback))))
    bad["satisfaction"] = bad["nps"].clip(lower=6)
    feedback = _insert_after(feedback, [(at, bad)])
    return orders, interactions, feedback


def _insert_after(frame: pd.DataFrame, parts: list[tuple[np.ndarray, pd.DataFrame]]) -> pd.DataFrame:
    """``frame`` with each part's rows placed right after the row they copy (stable order)."""
    position = np.concatenate([np.arange(len(frame), dtype=float), *[at + 0.5 for at, _ in parts]])
    combined = pd.concat([frame, *[bad for _, bad in parts]], ignore_index=True)
    return combined.take(np.argsort(position, kind="stable")).reset_index(drop=True)


def _duplicate_rows(rng: np.random.Generator, n: int, share: float) -> np.ndarray:
    """Row positions 0..n-1 with a ``share`` of them repeated a little further down, as a re-run
    export does; just ``arange(n)`` when ``share`` is 0."""
    if n == 0 or share <= 0:
        return np.arange(n)
    count = min(n, max(1, int(round(share * n))))
    picked = rng.choice(n, size=count, replace=False)
    insert_at = np.minimum(picked + rng.integers(1, 40, count), n)
    return np.insert(np.arange(n), insert_at, picked)


def _meta(
    spec: SampleSpec,
    customers: pd.DataFrame,
    orders: pd.DataFrame,
    interactions: pd.DataFrame,
    feedback: pd.DataFrame,
    ground_truth: pd.DataFrame,
) -> dict:
    base = EXCHANGE_RATES[spec.base_currency]
    return {
        "generator": "custseg.sample.generator",
        "format_version": 1,
        "seed": spec.seed,
        "messy": spec.messy,
        "n_customers": spec.n_customers,
        "start_date": spec.start_date.isoformat(),
        "observation_date": spec.observation_date.isoformat(),
        "horizon_days": spec.horizon_days,
        "base_currency": spec.base_currency,
        "exchange_rates": {c: EXCHANGE_RATES[c] / base for c in sorted(EXCHANGE_RATES)},
        "segments": list(SEGMENTS),
        "sizes": {
            "customers": len(customers),
            "orders": len(orders),
            "interactions": len(interactions),
            "feedback": len(feedback),
            "ground_truth": len(ground_truth),
        },
    }
