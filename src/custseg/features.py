"""Per-customer behaviour features at an observation date, computed from the clean tables.

The customer table is the contract every later step codes against: one row per customer,
sorted by ``customer_id``, with the customer's own attributes and purchase, interaction and
feedback features. Only data strictly before the observation date counts, so the same tables
give the table "as it was" on any earlier date (snapshots).

Speed: an export can hold ten million order lines. Customer ids are factorized once into
integer codes (in sorted id order) and everything else is aggregated with numpy on those codes
(``np.bincount``, sorts of packed integer keys); no step groups by strings or loops per customer.
Days are calendar days: a timestamp counts on the day it falls on, so an order at 23:00 on the
day before the observation date is one day old.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

#: The only status that is a purchase; a refund or return never is.
PURCHASE_STATUS = "completed"
#: Statuses counted in ``refunded_orders`` and ``return_rate``.
RETURN_STATUSES = ("refunded", "returned")
#: Statuses whose revenue is the customer's net spend (a return's revenue is negative).
NET_STATUSES = ("completed", "returned")
#: Length of the recent window and of the window before it (orders_90d, orders_prev_90d, ...).
TREND_WINDOW_DAYS = 90
#: Interaction counting windows, in days before the observation date.
INTERACTION_WINDOWS = (30, 90, 365)
#: Channel of interactions that name none (its columns are interactions_unspecified_<N>d).
UNSPECIFIED = "unspecified"
#: Orders without a category column are all in this category, as intake fills an empty one.
UNSPECIFIED_CATEGORY = "Unspecified"

_SECONDS_PER_DAY = 86_400
_EPOCH = pd.Timestamp("1970-01-01")
_INT64_MAX = np.iinfo(np.int64).max
_NAT = np.iinfo(np.int64).min  # NaT as int64, and "no value" in day arrays
# Above this many (customer, category) cells, category revenue is summed over sorted pairs
# instead of a dense customers x categories array (which would need over 400 MB).
_DENSE_CELLS = 50_000_000

_ORDER_COLUMNS = ("customer_id", "order_date", "status", "revenue")
_INTERACTION_COLUMNS = ("customer_id", "interaction_date")
_FEEDBACK_COLUMNS = ("customer_id", "feedback_date")
_DATE_COLUMNS = {"orders": "order_date", "customers": "signup_date", "interactions": "interaction_date",
                 "feedback": "feedback_date"}

_PURCHASE_FEATURES = [
    "recency_days", "frequency", "monetary", "aov", "first_order", "last_order", "tenure_days",
    "cadence_days", "last_gap_days", "orders_90d", "orders_prev_90d", "revenue_90d",
    "revenue_prev_90d", "trend_90d", "refunded_orders", "return_rate",
]
_RFM_COLUMNS = [
    "recency_days", "frequency", "monetary", "aov", "first_order", "last_order", "refunded_orders", "return_rate",
]


def default_observation_date(orders: pd.DataFrame) -> dt.date:
    """The day after the last order: the natural 'today' of an export."""
    if orders.empty:
        raise ValueError("there are no clean orders, so there is no observation date to derive")
    return (orders["order_date"].max() + pd.Timedelta(days=1)).date()


def channel_slug(channel: str) -> str:
    """The part of a column name that names an interaction channel.

    Lower-case; every run of characters other than letters and digits becomes one ``_``, and
    leading or trailing ones are dropped ("E-Mail " -> "e_mail"). Letters of any script stay
    ("电话" stays "电话"), so channels written in Chinese keep distinct columns. A channel with
    no letters or digits at all is ``unspecified``.
    """
    slug = re.sub(r"[\W_]+", "_", str(channel).lower()).strip("_")
    return slug or UNSPECIFIED


def customer_table(tables: Mapping[str, pd.DataFrame], observation_date: dt.date) -> pd.DataFrame:
    """One row per customer: attributes and behaviour features at the observation date.

    Parameters
    ----------
    tables
        Clean tables from :func:`custseg.intake.run_intake`, by name. ``orders`` is required
        (customer_id, order_date, status, revenue; category optional); ``customers``
        (customer_id, optional signup_date and attributes), ``interactions`` (customer_id,
        interaction_date, optional channel) and ``feedback`` (customer_id, feedback_date,
        optional satisfaction and nps) are used when present; other tables are ignored.
        Not modified.
    observation_date
        The 'today' of the analysis. Only rows dated strictly before it count.

    Returns
    -------
    pd.DataFrame
        Sorted by ``customer_id`` (str), one row per customer known at the observation date: a
        row of any table dated before it, or an undated customer-table row. A customer whose
        every row is dated on or after the observation date did not exist yet and is left out;
        customers who never purchased are kept with ``frequency`` 0. Columns: customer_id, the
        customer-table attributes (without source_row), then recency_days, frequency, monetary,
        aov, first_order, last_order, tenure_days, cadence_days, last_gap_days, orders_90d,
        orders_prev_90d, revenue_90d, revenue_prev_90d, trend_90d, refunded_orders,
        return_rate; with interactions: interactions_{30,90,365}d, one
        interactions_<channel>_<N>d per channel (see :func:`channel_slug`) and window, and
        last_interaction_days; with feedback: feedback_count, satisfaction_mean,
        satisfaction_latest, satisfaction_trend, nps_latest, nps_class; then top_category and
        top_category_share.

    Raises
    ------
    ValueError
        When ``orders`` is missing, a table lacks a required column, a date column is not a
        datetime, an id or date is missing, or the customer table repeats an id.
    """
    if "orders" not in tables:
        raise ValueError(f"customer_table needs an 'orders' table; got tables {sorted(tables)}")
    cutoff = _cutoff_day(observation_date)
    orders = tables["orders"]
    _require(orders, "orders", _ORDER_COLUMNS)
    customers = tables.get("customers")
    interactions = tables.get("interactions")
    feedback = tables.get("feedback")
    if customers is not None:
        _require(customers, "customers", ("customer_id",))
    if interactions is not None:
        _require(interactions, "interactions", _INTERACTION_COLUMNS)
    if feedback is not None:
        _require(feedback, "feedback", _FEEDBACK_COLUMNS)

    present = {name: frame for name, frame in
               (("orders", orders), ("customers", customers), ("interactions", interactions), ("feedback", feedback))
               if frame is not None}
    ids, codes, order_data = _ids_and_orders(present, cutoff)
    n = len(ids)
    if customers is not None:
        repeated = np.flatnonzero(np.bincount(codes["customers"], minlength=n) > 1)
        if repeated.size:
            raise ValueError(
                f"customers table: customer_id {ids[repeated[0]]!r} appears more than once "
                f"({repeated.size:,} ids do); ids must be unique"
            )

    columns: dict[str, object] = {}
    signup = None
    if customers is not None:
        attributes, signup = _attributes(customers, codes["customers"], n)
        columns.update(attributes)
    columns.update(_purchase_features(order_data, n, cutoff, signup))
    if interactions is not None:
        columns.update(_interaction_features(interactions, codes["interactions"], n, cutoff))
    if feedback is not None:
        columns.update(_feedback_features(feedback, codes["feedback"], n, cutoff))
    columns.update(_top_category(order_data, n))

    keep = _known_at(present, codes, n, cutoff)
    table = pd.DataFrame({"customer_id": ids, **columns})
    return table if keep.all() else table.loc[keep].reset_index(drop=True)


def category_shares(orders: pd.DataFrame, observation_date: dt.date) -> pd.DataFrame:
    """Each customer's net revenue per category before the observation date, and its share.

    Parameters
    ----------
    orders
        Clean orders: customer_id, order_date, status, revenue and category (without a
        category column every order is ``Unspecified``). Not modified.
    observation_date
        Only orders dated strictly before it count.

    Returns
    -------
    pd.DataFrame
        customer_id (str), category (str), revenue (float64: completed minus returned, base
        currency) and share (float64: the category's positive revenue over the customer's total
        positive revenue; a category with net revenue at or below zero has share 0, and a
        customer without positive revenue has missing shares). One row per customer and
        category with non-zero net revenue, sorted by customer_id, then revenue (largest
        first), then category.
    """
    _require(orders, "orders", _ORDER_COLUMNS)
    ids, _, data = _ids_and_orders({"orders": orders}, _cutoff_day(observation_date))
    pair_code, pair_cat, cents = _category_cents(data, len(ids))
    # largest revenue first within a customer; categories are coded in sorted order
    pair_code, cents, pair_cat = _sort_rows(pair_code, -cents.astype(np.int64), pair_cat)
    cents = -cents.astype(np.float64)
    positive = np.clip(cents, 0.0, None)
    total = _sums(pair_code, positive, len(ids))
    with np.errstate(invalid="ignore", divide="ignore"):  # no positive revenue -> NaN share
        share = positive / total[pair_code]
    return pd.DataFrame({
        "customer_id": ids.take(pair_code),
        "category": data.categories.take(pair_cat),
        "revenue": cents / 100.0,
        "share": share,
    })


def rfm_features(orders: pd.DataFrame, observation_date: dt.date) -> pd.DataFrame:
    """Recency, frequency and monetary value per customer who ordered before the date.

    A thin view of :func:`customer_table` on the orders alone, kept for callers that need only
    RFM: customers with at least one completed, refunded or returned order before the date.

    Parameters
    ----------
    orders
        Clean orders with customer_id, order_date, status, revenue.
    observation_date
        The 'today' of the analysis.

    Returns
    -------
    pd.DataFrame
        Indexed by customer_id, sorted: recency_days, frequency, monetary, aov, first_order,
        last_order, refunded_orders, return_rate. Customers whose every order was refunded or
        returned have frequency 0 and missing recency.
    """
    table = customer_table({"orders": orders}, observation_date)
    ordered = table["frequency"].gt(0) | table["refunded_orders"].gt(0)
    return table.loc[ordered].set_index("customer_id")[_RFM_COLUMNS]


# ---------------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------------

def _cutoff_day(observation_date: dt.date) -> int:
    """The observation date as days since 1970-01-01; it must be a whole day."""
    stamp = pd.Timestamp(observation_date)
    if stamp != stamp.normalize() or stamp.tzinfo is not None:
        raise ValueError(f"observation_date must be a date without time or time zone, got {observation_date!r}")
    return (stamp - _EPOCH).days


def _require(frame: pd.DataFrame, table: str, columns: tuple[str, ...]) -> None:
    missing = [col for col in columns if col not in frame]
    if missing:
        raise ValueError(
            f"{table} table: column {missing[0]!r} is missing; the customer table needs {list(columns)} "
            f"(clean tables from custseg.intake have them), got {list(frame.columns)}"
        )


def _ids_and_orders(
    frames: Mapping[str, pd.DataFrame], cutoff: int
) -> tuple[pd.api.extensions.ExtensionArray, dict[str, np.ndarray], _OrderArrays]:
    """Customer codes of every table's rows, and the order arrays.

    Hashing the id text is most of the work on large exports. It runs on two threads (pyarrow
    and numpy release the GIL): one encodes the orders' ids while the other encodes the other
    tables' ids and prepares the order arrays. Tables whose customer_id shares one categorical
    dtype are not hashed at all, which makes repeated calls (snapshots) cheap.
    """
    columns = {name: frame["customer_id"] for name, frame in frames.items()}
    with ThreadPoolExecutor(max_workers=2) as pool:
        if _shared_categories(columns):
            prepared = pool.submit(_OrderArrays.of, frames["orders"], cutoff)
            ids, codes = _category_ids(columns)
        else:
            encoded = {name: pool.submit(_encode, column) for name, column in columns.items()}
            prepared = pool.submit(_OrderArrays.of, frames["orders"], cutoff)
            ids, codes = _merge_ids({name: future.result() for name, future in encoded.items()})
        orders = prepared.result()
    return ids, codes, orders.with_codes(codes["orders"])


def _shared_categories(columns: Mapping[str, pd.Series]) -> bool:
    """True when every id column is categorical with one and the same text categories."""
    first = next(iter(columns.values())).dtype
    return (
        isinstance(first, pd.CategoricalDtype)
        and all(column.dtype == first for column in columns.values())
        and first.categories.inferred_type == "string"
    )


def _category_ids(columns: Mapping[str, pd.Series]) -> tuple[pd.api.extensions.ExtensionArray, dict[str, np.ndarray]]:
    """Like :func:`_merge_ids`, from id columns that share one categorical dtype.

    Categories that occur in no row are dropped: an id without a row is not a customer.
    """
    categories = next(iter(columns.values())).cat.categories
    local = {name: column.cat.codes.to_numpy(dtype=np.int64) for name, column in columns.items()}
    used = np.zeros(len(categories), dtype=bool)
    for name, codes in local.items():
        if (codes < 0).any():
            raise ValueError(f"{name} table: {int((codes < 0).sum()):,} rows have no customer_id")
        used |= np.bincount(codes, minlength=len(categories)) > 0
    kept = np.flatnonzero(used)
    names = pd.array(categories[kept], dtype="str")
    order = names.argsort()
    remap = np.full(len(categories), -1, dtype=np.int64)
    remap[kept[order]] = np.arange(len(kept))
    return names.take(order), {name: remap[codes] for name, codes in local.items()}


def _merge_ids(
    local: Mapping[str, tuple[np.ndarray, pd.api.extensions.ExtensionArray]],
) -> tuple[pd.api.extensions.ExtensionArray, dict[str, np.ndarray]]:
    """One numbering, in sorted id order, of the per-table codes of :func:`_encode`.

    Only the distinct ids of each table are merged and sorted; codes then index numpy arrays
    of length n_customers, and code order is the output's row order.
    """
    for name, (codes, _) in local.items():
        if (codes < 0).any():
            raise ValueError(f"{name} table: {int((codes < 0).sum()):,} rows have no customer_id")
    if len(local) == 1:  # the ids are distinct already: sorting them is enough
        (_, uniques), = local.values()
        order = uniques.argsort()
        remap = np.empty(len(order), dtype=np.int64)
        remap[order] = np.arange(len(order))
        ids = uniques.take(order)
    else:
        merged = pd.concat([pd.Series(uniques, dtype="str") for _, uniques in local.values()], ignore_index=True)
        remap, ids = pd.factorize(merged.array, sort=True)
    split, offset = {}, 0
    for name, (codes, uniques) in local.items():
        split[name] = remap[offset + codes]
        offset += len(uniques)
    return ids, split


def _encode(values: pd.Series) -> tuple[np.ndarray, pd.api.extensions.ExtensionArray]:
    """Codes (-1 where missing) and the distinct values as text, in order of appearance.

    A categorical column is not hashed: its codes are reused, minus unused categories (an id
    that occurs in no row must not become a customer).
    """
    categorical = isinstance(values.dtype, pd.CategoricalDtype)
    # categories that are not text could become equal as text (1 and "1"): those are hashed
    if categorical and values.cat.categories.inferred_type == "string":
        codes = values.cat.codes.to_numpy(dtype=np.int64)
        used = np.bincount(codes[codes >= 0], minlength=len(values.cat.categories)) > 0
        compact = np.r_[np.cumsum(used) - 1, -1]  # the appended -1 keeps missing codes missing
        return compact[codes], pd.array(values.cat.categories[used], dtype="str")
    codes, uniques = pd.factorize(values.astype("str").array)
    return codes.astype(np.int64, copy=False), uniques


def _seconds(frame: pd.DataFrame, table: str, column: str, *, required: bool) -> np.ndarray:
    """A datetime column as int64 seconds since 1970; NaT as the int64 minimum."""
    values = frame[column]
    if not pd.api.types.is_datetime64_dtype(values.dtype):
        raise ValueError(f"{table} table: column {column!r} must hold datetimes (tz-naive), got dtype {values.dtype}")
    stamps = values.to_numpy(dtype="datetime64[s]")
    if required and np.isnat(stamps).any():
        raise ValueError(f"{table} table: column {column!r} has {int(np.isnat(stamps).sum()):,} missing dates")
    return stamps.view("int64")


def _lookup(codes: np.ndarray, uniques: pd.api.extensions.ExtensionArray, accepted: tuple[str, ...]) -> np.ndarray:
    """Boolean per row: its value is one of ``accepted`` (missing is not).

    Tests the few distinct values instead of every row; code -1 picks the appended False.
    """
    hit = np.r_[pd.Series(uniques, dtype="str").isin(accepted).to_numpy(dtype=bool, na_value=False), False]
    return hit[codes]


def _sorted_text_codes(values: pd.Series, missing: str) -> tuple[np.ndarray, pd.api.extensions.ExtensionArray]:
    """Codes in sorted order of the text, with missing values read as ``missing``."""
    codes, uniques = _encode(values)
    # ``missing`` is appended last, so code -1 maps to it; merging also folds it into an
    # existing equal value
    remap, names = pd.factorize(pd.array([*uniques, missing], dtype="str"), sort=True)
    return remap[codes], names


@dataclass(frozen=True)
class _OrderArrays:
    """The orders before the observation date as aligned numpy arrays."""

    past: np.ndarray | None  # which input rows these are; None when all of them
    seconds: np.ndarray  # order timestamp
    day: np.ndarray  # calendar day number
    purchase: np.ndarray  # completed
    returned: np.ndarray  # refunded or returned
    cents: np.ndarray  # net revenue in whole cents, 0 unless completed or returned
    category: np.ndarray  # category code, in sorted category order
    categories: pd.api.extensions.ExtensionArray
    code: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # customer code

    @classmethod
    def of(cls, orders: pd.DataFrame, cutoff: int) -> _OrderArrays:
        """The arrays of the past orders, without customer codes (see :meth:`with_codes`)."""
        seconds = _seconds(orders, "orders", "order_date", required=True)
        day = seconds // _SECONDS_PER_DAY
        status_codes, statuses = _encode(orders["status"])
        net = _lookup(status_codes, statuses, NET_STATUSES)
        revenue = orders["revenue"].to_numpy(dtype="float64", na_value=np.nan)
        if np.isnan(revenue[net]).any():
            raise ValueError("orders table: column 'revenue' is missing on completed or returned orders")
        # Whole cents make every sum exact, so results do not depend on the row order.
        cents = np.round(np.where(net, revenue, 0.0) * 100.0)
        if "category" in orders:
            category, categories = _sorted_text_codes(orders["category"], UNSPECIFIED_CATEGORY)
        else:
            category, categories = np.zeros(len(orders), dtype=np.int64), pd.array([UNSPECIFIED_CATEGORY], dtype="str")
        arrays = {
            "seconds": seconds, "day": day,
            "purchase": _lookup(status_codes, statuses, (PURCHASE_STATUS,)),
            "returned": _lookup(status_codes, statuses, RETURN_STATUSES),
            "cents": cents, "category": category,
        }
        past = day < cutoff
        if past.all():  # usually every order is in the past: skip copying ten million rows
            return cls(past=None, categories=categories, **arrays)
        return cls(past=past, categories=categories, **{name: values[past] for name, values in arrays.items()})

    def with_codes(self, codes: np.ndarray) -> _OrderArrays:
        """The same arrays with the customer code of each row (codes of all input rows)."""
        return replace(self, code=codes if self.past is None else codes[self.past])


def _known_at(frames: Mapping[str, pd.DataFrame], codes: Mapping[str, np.ndarray], n: int, cutoff: int) -> np.ndarray:
    """Customers who existed at the observation date.

    A customer with a dated row before the date existed; one whose only dated rows are on or
    after it did not (a snapshot at an earlier date must not count later sign-ups as
    prospects); a customer-table row without a sign-up date, and no other rows, is kept.
    """
    dated = np.zeros(n, dtype=bool)
    before = np.zeros(n, dtype=bool)
    for name, frame in frames.items():
        column = _DATE_COLUMNS[name]
        if column not in frame:
            continue
        seconds = _seconds(frame, name, column, required=False)
        has_date = seconds != _NAT
        dated |= np.bincount(codes[name][has_date], minlength=n) > 0
        before |= np.bincount(codes[name][has_date & (seconds // _SECONDS_PER_DAY < cutoff)], minlength=n) > 0
    return before | ~dated


# ---------------------------------------------------------------------------------------------
# Features
# ---------------------------------------------------------------------------------------------

def _attributes(customers: pd.DataFrame, codes: np.ndarray, n: int) -> tuple[dict[str, object], np.ndarray | None]:
    """Customer-table columns aligned to customer codes (missing for customers not in it).

    Also returns the sign-up day per code (``_NAT`` when unknown), or None without a
    signup_date column.
    """
    position = np.full(n, -1, dtype=np.int64)
    position[codes] = np.arange(len(codes))
    columns = {
        name: pd.api.extensions.take(customers[name].array, position, allow_fill=True)
        for name in customers.columns if name not in ("customer_id", "source_row")
    }
    clash = sorted(set(columns) & {*_PURCHASE_FEATURES, "top_category", "top_category_share"})
    if clash:
        raise ValueError(f"customers table: column {clash[0]!r} has the name of a computed feature; rename it")
    signup = None
    if "signup_date" in customers:
        seconds = _seconds(customers, "customers", "signup_date", required=False)
        signup = np.full(n, _NAT, dtype=np.int64)
        known = seconds != _NAT
        signup[codes[known]] = seconds[known] // _SECONDS_PER_DAY
    return columns, signup


def _purchase_features(data: _OrderArrays, n: int, cutoff: int, signup: np.ndarray | None) -> dict[str, object]:
    """Recency, frequency, monetary, dates, tenure, cadence, 90-day windows and returns."""
    # One pass per measure: each row is counted in cell (customer, window), window 0 = older,
    # 1 = the previous 90 days, 2 = the last 90 days; totals are the sums over windows.
    window = (data.day >= cutoff - 2 * TREND_WINDOW_DAYS).astype(np.int64) + (data.day >= cutoff - TREND_WINDOW_DAYS)
    cell = data.code * 3 + window
    orders = np.bincount(cell[data.purchase], minlength=3 * n).reshape(n, 3)
    cents = _sums(cell, data.cents, 3 * n).reshape(n, 3)
    frequency = orders.sum(axis=1)
    monetary = cents.sum(axis=1) / 100.0
    refunded = np.bincount(data.code[data.returned], minlength=n)
    revenue_90d, revenue_prev_90d = cents[:, 2] / 100.0, cents[:, 1] / 100.0
    swing = np.abs(revenue_90d) + np.abs(revenue_prev_90d)
    with np.errstate(invalid="ignore", divide="ignore"):  # no revenue in either window -> NaN
        trend = (revenue_90d - revenue_prev_90d) / swing
        aov = monetary / frequency
        return_rate = refunded / (frequency + refunded)

    first, last, cadence, last_gap, has_gap = _purchase_timing(data.code[data.purchase], data.seconds[data.purchase], n)
    bought = frequency > 0
    start = np.where(bought, first // _SECONDS_PER_DAY, _INT64_MAX)
    if signup is not None:
        # A sign-up on or after the observation date is the future and does not count.
        usable = (signup != _NAT) & (signup < cutoff)
        start = np.where(usable, np.minimum(start, signup), start)
    has_start = start != _INT64_MAX
    return {
        "recency_days": _int_array(cutoff - last // _SECONDS_PER_DAY, ~bought),
        "frequency": frequency,
        "monetary": monetary,
        "aov": aov,
        "first_order": np.where(bought, first, _NAT).view("datetime64[s]"),
        "last_order": np.where(bought, last, _NAT).view("datetime64[s]"),
        "tenure_days": _int_array(cutoff - np.where(has_start, start, cutoff), ~has_start),
        "cadence_days": cadence,
        "last_gap_days": _int_array(last_gap, ~has_gap),
        "orders_90d": orders[:, 2].copy(),
        "orders_prev_90d": orders[:, 1].copy(),
        "revenue_90d": revenue_90d,
        "revenue_prev_90d": revenue_prev_90d,
        "trend_90d": trend,
        "refunded_orders": refunded,
        "return_rate": return_rate,
    }


def _purchase_timing(code: np.ndarray, seconds: np.ndarray, n: int) -> tuple[np.ndarray, ...]:
    """First and last purchase time, median gap and last gap between purchase days, per code.

    Gaps are between distinct purchase days: two orders on one day are one visit, and a gap of
    zero days would make a customer's cadence meaningless for lifecycle rules. The purchases
    are sorted once by (code, time) as one packed integer key; medians come from a second sort
    of (code, gap) keys, so no step loops over customers.
    """
    first = np.zeros(n, dtype=np.int64)
    last = np.zeros(n, dtype=np.int64)
    cadence = np.full(n, np.nan)
    last_gap = np.zeros(n, dtype=np.int64)
    has_gap = np.zeros(n, dtype=bool)
    if code.size == 0:
        return first, last, cadence, last_gap, has_gap
    code, seconds = _sort_rows(code, seconds)
    starts, ends = _group_bounds(code)
    first[code[starts]] = seconds[starts]
    last[code[ends]] = seconds[ends]

    day = seconds // _SECONDS_PER_DAY
    new_day = np.r_[True, (code[1:] != code[:-1]) | (day[1:] != day[:-1])]
    code, day = code[new_day], day[new_day]
    same = code[1:] == code[:-1]
    gap_code, gap = code[1:][same], np.diff(day)[same]
    if gap.size == 0:
        return first, last, cadence, last_gap, has_gap
    gaps = np.bincount(gap_code, minlength=n)
    has_gap = gaps > 0
    end = np.cumsum(gaps)
    # gaps are in day order within each customer: the last one per code is the latest gap
    last_gap[has_gap] = gap[end[has_gap] - 1]
    _, ordered = _sort_rows(gap_code, gap)
    begin = end - gaps
    low, high = begin + (gaps - 1) // 2, begin + gaps // 2
    cadence[has_gap] = (ordered[low[has_gap]] + ordered[high[has_gap]]) / 2.0
    return first, last, cadence, last_gap, has_gap


def _interaction_features(interactions: pd.DataFrame, codes: np.ndarray, n: int, cutoff: int) -> dict[str, object]:
    """Contacts in the last 30, 90 and 365 days, in total and per channel, and the latest one."""
    day = _seconds(interactions, "interactions", "interaction_date", required=True) // _SECONDS_PER_DAY
    past = day < cutoff
    code, day = codes[past], day[past]
    columns: dict[str, object] = {}
    for window in INTERACTION_WINDOWS:
        columns[f"interactions_{window}d"] = np.bincount(code[day >= cutoff - window], minlength=n)
    if "channel" in interactions:
        # The channels come from the whole table, not only the past rows, so snapshots at
        # different dates have the same columns.
        raw, spellings = _encode(interactions["channel"])
        # a missing channel (code -1) picks the appended last slug: unspecified
        slug_codes, slugs = pd.factorize(np.array([*map(channel_slug, spellings), UNSPECIFIED], dtype=object), sort=True)
        channel = slug_codes[raw]
        present = np.unique(channel)
        channel = channel[past]
        for index in present:
            mine = channel == index
            for window in INTERACTION_WINDOWS:
                hit = mine & (day >= cutoff - window)
                columns[f"interactions_{slugs[index]}_{window}d"] = np.bincount(code[hit], minlength=n)
    latest = np.full(n, _NAT, dtype=np.int64)
    np.maximum.at(latest, code, day)
    never = latest == _NAT
    columns["last_interaction_days"] = _int_array(cutoff - np.where(never, cutoff, latest), never)
    return columns


def _feedback_features(feedback: pd.DataFrame, codes: np.ndarray, n: int, cutoff: int) -> dict[str, object]:
    """Count of responses, satisfaction mean, latest and trend, latest NPS and its class."""
    seconds = _seconds(feedback, "feedback", "feedback_date", required=True)
    past = seconds // _SECONDS_PER_DAY < cutoff
    columns: dict[str, object] = {"feedback_count": np.bincount(codes[past], minlength=n)}

    count, total, latest = _latest_scores(codes, seconds, _scores(feedback, "satisfaction"), past, n)
    with np.errstate(invalid="ignore", divide="ignore"):  # no scores -> NaN; one score -> no trend
        columns["satisfaction_mean"] = total / count
        columns["satisfaction_latest"] = latest
        columns["satisfaction_trend"] = np.where(count > 1, latest - (total - latest) / (count - 1), np.nan)

    count, _, latest = _latest_scores(codes, seconds, _scores(feedback, "nps"), past, n)
    scored = count > 0
    columns["nps_latest"] = _int_array(np.where(scored, latest, 0).astype(np.int64), ~scored)
    kind = np.select([latest >= 9, latest >= 7], ["promoter", "passive"], "detractor").astype(object)
    columns["nps_class"] = pd.array(np.where(scored, kind, None), dtype="str")
    return columns


def _scores(feedback: pd.DataFrame, column: str) -> np.ndarray:
    """A score column as float64 with NaN for missing; all NaN when the column is absent."""
    if column not in feedback:
        return np.full(len(feedback), np.nan)
    return feedback[column].to_numpy(dtype="float64", na_value=np.nan)


def _latest_scores(
    codes: np.ndarray, seconds: np.ndarray, scores: np.ndarray, past: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per code: number and sum of the scores before the date, and the latest score (NaN if none).

    Two scores with the same timestamp are ordered lowest last, so the latest is the lower one:
    a detractor answer is never hidden behind a same-day promoter answer, and the result does
    not depend on row order.
    """
    valid = past & ~np.isnan(scores)
    code, stamp, score = codes[valid], seconds[valid], scores[valid]
    count = np.bincount(code, minlength=n)
    total = _sums(code, score, n)
    latest = np.full(n, np.nan)
    if code.size:
        order = np.lexsort((-score, stamp, code))
        _, ends = _group_bounds(code[order])
        latest[code[order][ends]] = score[order][ends]
    return count, total, latest


def _category_cents(data: _OrderArrays, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(customer code, category code, net cents) of every pair with non-zero net revenue.

    Sorted by customer code, then category code (which is sorted category order).
    """
    width = len(data.categories)
    cell = data.code * width + data.category
    if n * width <= _DENSE_CELLS:
        cents = _sums(cell, data.cents, n * width)
        cells = np.flatnonzero(cents)
        cents = cents[cells]
    else:
        cells, inverse = np.unique(cell, return_inverse=True)
        cents = _sums(inverse, data.cents, len(cells))
        nonzero = cents != 0
        cells, cents = cells[nonzero], cents[nonzero]
    return cells // width, cells % width, cents


def _top_category(data: _OrderArrays, n: int) -> dict[str, object]:
    """The category with the largest net revenue per customer and its share of positive revenue.

    Ties go to the category first in sorted order. Customers without positive revenue have none.
    """
    width = len(data.categories)
    top = np.full(n, -1, dtype=np.int64)
    share = np.full(n, np.nan)
    if n * width <= _DENSE_CELLS:
        cents = _sums(data.code * width + data.category, data.cents, n * width).reshape(n, width)
        best = cents.argmax(axis=1)  # the first maximum: ties go to the first category
        best_cents = cents[np.arange(n), best]
        positive = np.maximum(cents, 0.0, out=cents).sum(axis=1)
        won = best_cents > 0
        top[won] = best[won]
        share[won] = best_cents[won] / positive[won]
    else:
        pair_code, pair_cat, cents = _category_cents(data, n)
        positive = _sums(pair_code, np.clip(cents, 0.0, None), n)
        best = np.full(n, -np.inf)
        np.maximum.at(best, pair_code, cents)
        # pairs are sorted by (customer, category): the first pair reaching the maximum wins ties
        winner = np.flatnonzero((cents == best[pair_code]) & (cents > 0))
        winner = winner[np.r_[True, pair_code[winner][1:] != pair_code[winner][:-1]]]
        top[pair_code[winner]] = pair_cat[winner]
        share[pair_code[winner]] = cents[winner] / positive[pair_code[winner]]
    return {
        "top_category": pd.array(pd.api.extensions.take(data.categories, top, allow_fill=True), dtype="str"),
        "top_category_share": share,
    }


# ---------------------------------------------------------------------------------------------
# Array helpers
# ---------------------------------------------------------------------------------------------

def _sums(codes: np.ndarray, weights: np.ndarray, size: int) -> np.ndarray:
    """Float64 sums of ``weights`` per code, for codes 0 .. size - 1."""
    # np.bincount returns int64 when there are no rows at all
    return np.bincount(codes, weights=weights, minlength=size).astype(np.float64, copy=False)


def _int_array(values: np.ndarray, missing: np.ndarray) -> pd.arrays.IntegerArray:
    """A nullable Int64 array: ``values`` where not ``missing``."""
    return pd.arrays.IntegerArray(np.where(missing, 0, values).astype(np.int64), missing.copy())


def _sort_rows(*columns: np.ndarray) -> list[np.ndarray]:
    """Integer columns sorted together by the first, then the second, ... column.

    When the columns' value ranges fit in 62 bits together, each row is packed into one int64
    key and the keys alone are sorted: several times faster than an argsort of ten million rows,
    and as exact. Otherwise a lexsort.
    """
    if len(columns[0]) == 0:
        return list(columns)
    lows = [int(column.min()) for column in columns]
    bits = [(int(column.max()) - low).bit_length() for column, low in zip(columns, lows)]
    if sum(bits) > 62:
        order = np.lexsort(columns[::-1])
        return [column[order] for column in columns]
    # in-place arithmetic: on ten million rows every temporary array costs time
    key = columns[0].astype(np.int64)
    key -= lows[0]
    for column, low, width in zip(columns[1:], lows[1:], bits[1:]):
        key <<= width
        key += column  # the low bits are zero: adding is or-ing
        key -= low
    key.sort()
    out = []
    for low, width in zip(lows[:0:-1], bits[:0:-1]):
        part = np.bitwise_and(key, (1 << width) - 1)
        part += low
        out.append(part)
        key >>= width
    key += lows[0]
    return [key, *out[::-1]]


def _group_bounds(sorted_codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First and last position of each run of equal values in a sorted, non-empty array."""
    change = np.flatnonzero(sorted_codes[1:] != sorted_codes[:-1]) + 1
    return np.r_[0, change], np.r_[change - 1, sorted_codes.size - 1]
