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
from collections.abc import Callable, Collection, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

#: The only status that is a purchase; a refund or return never is. A ``refunded`` order with a
#: ``refunded_on`` day (a matched reversal undid it, :mod:`custseg.intake.reversals`) was a purchase
#: before that day: at any earlier date it counts as completed (see :func:`purchases_at`).
PURCHASE_STATUS = "completed"
#: Statuses counted in ``refunded_orders`` and ``return_rate`` (a dated refund from its day on).
RETURN_STATUSES = ("refunded", "returned")
#: Statuses whose revenue is the customer's net spend (a return's or reversal's revenue is
#: negative); a refunded order's revenue counts too when it has a ``refunded_on`` day, as its
#: reversal nets it to zero from that day.
NET_STATUSES = ("completed", "returned", "reversal")
#: The status of an undone purchase, and the column with the day it was undone.
REFUNDED_STATUS = "refunded"
REFUNDED_ON = "refunded_on"
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
_TICKS_PER_SECOND = {"ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}
_INT64_MAX = np.iinfo(np.int64).max
# Customer and category codes, day numbers and gaps are stored as int32: half the memory of the
# default int64 on ten million rows. Sums, counts and keys that can grow past 2**31 stay int64.
_CODE = np.int32
_NAT = np.iinfo(np.int64).min  # NaT as int64, and "no value" in day arrays
_FOREVER = "9999-12-31"  # the end of a purchase that is never undone (purchase_until)
# Above this many (customer, category) cells, category revenue is summed over sorted pairs
# instead of a dense customers x categories array (which would need over 400 MB).
_DENSE_CELLS = 50_000_000
# Ids packed into numbers (:func:`_packed_ids`) are ranked in a table indexed by number while
# the numbers span at most this many per id row, plus a constant; sparser ones are hashed.
_DENSE_ID_NUMBERS_PER_ROW = 2
_DENSE_ID_NUMBERS = 1 << 16
# Rows per block where a pass over ten million rows would otherwise make large temporaries.
_BLOCK = 1 << 16
# Ids of varied widths are padded to the widest (a copy) up to this many bytes; wider ones,
# which would not fit int64 numbers anyway, are hashed as text.
_PADDED_ID_WIDTH = 24
# Rows per block of revenue sums (:func:`_block_sums`): few blocks, each with a result of
# customers (x categories) to add, and temporaries of a fifth of ten million rows.
_SUM_BLOCK = 1 << 21

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
#: The purchase features that every classification reads (tiers, segments, lifecycle): a
#: snapshot that asks for no other feature is spared the 90-day windows and the returns.
_CORE_PURCHASE_FEATURES = (
    "recency_days", "frequency", "monetary", "first_order", "last_order", "tenure_days", "cadence_days",
    "last_gap_days",
)
_FEEDBACK_FEATURES = (
    "feedback_count", "satisfaction_mean", "satisfaction_latest", "satisfaction_trend", "nps_latest", "nps_class",
)
_TOP_CATEGORY_FEATURES = ("top_category", "top_category_share")
_RFM_COLUMNS = [
    "recency_days", "frequency", "monetary", "aov", "first_order", "last_order", "refunded_orders", "return_rate",
]


def default_observation_date(orders: pd.DataFrame) -> dt.date:
    """The day after the last completed order: the natural 'today' of an export.

    Only purchases set it: a cancellation, refund or return dated after the last purchase (an
    export taken while the shop processes returns) does not move every recency by its delay.
    A purchase refunded later still counts, as it was a purchase on its day.
    """
    bought = purchases_at(orders, None)
    if not bought.any():
        raise ValueError(
            "there are no completed orders, so there is no observation date to derive; "
            "set observation_date in the config"
        )
    return (orders["order_date"][bought].max() + pd.Timedelta(days=1)).date()


def purchase_until(orders: pd.DataFrame) -> np.ndarray:
    """The last observation date at which each order still counts as a purchase.

    At an observation date ``c`` (data strictly before ``c``) an order is a purchase when it is
    dated before ``c`` and this day is ``c`` or later: for a completed order, never ending (the
    largest date); for a refunded order with a ``refunded_on`` day, that day (its reversal is
    known only from the next day's data on); for every other order, none (NaT, which no date
    reaches).

    Parameters
    ----------
    orders
        Clean orders with ``status``; ``refunded_on`` when reversals were matched. Not modified.

    Returns
    -------
    np.ndarray
        datetime64[s], one per order row.
    """
    status = orders["status"]
    until = np.where(status.eq(PURCHASE_STATUS).to_numpy(dtype=bool, na_value=False),
                     np.datetime64(_FOREVER, "s"), np.datetime64("NaT", "s"))
    if REFUNDED_ON in orders:
        refunded = status.eq(REFUNDED_STATUS).to_numpy(dtype=bool, na_value=False)
        until = np.where(refunded, orders[REFUNDED_ON].to_numpy(dtype="datetime64[s]"), until)
    return until


def purchases_at(orders: pd.DataFrame, date: dt.date | None) -> np.ndarray:
    """Which orders are purchases as known at a date: dated before it, and not undone before it
    (:func:`purchase_until`). With ``date`` None, every order that was a purchase on its own day:
    the completed ones and those undone later.

    Parameters
    ----------
    orders
        Clean orders with ``order_date`` and ``status``; ``refunded_on`` when reversals were
        matched. Not modified.
    date
        The date the purchases are counted at; None for "on its own day".

    Returns
    -------
    np.ndarray
        A boolean per order row.
    """
    until = purchase_until(orders)
    if date is None:
        return ~np.isnat(until)
    stamp = np.datetime64(pd.Timestamp(date).to_datetime64(), "s")
    before = (orders["order_date"] < pd.Timestamp(date)).to_numpy(dtype=bool, na_value=False)
    return before & (until >= stamp)


def net_values(orders: pd.DataFrame, rows: np.ndarray, date: dt.date) -> np.ndarray:
    """The revenue of some orders less what matched reversals dated before `date` took back.

    A reversal or return names the order it undid (in part) in ``reverses``; an order undone in
    part is worth what the customer kept. Never below zero. Orders are looked up by customer and
    order id, as only a customer's own orders are undone.

    Parameters
    ----------
    orders
        Clean orders (customer_id, order_id, order_date, revenue; ``reverses`` when reversals
        were matched). Not modified.
    rows
        Boolean mask of the orders to value.
    date
        Only reversals dated strictly before it count.
    """
    value = orders["revenue"].to_numpy(dtype="float64", na_value=0.0)[rows]
    if "reverses" not in orders:
        return value
    undoing = orders["reverses"].notna().to_numpy() & (orders["order_date"] < pd.Timestamp(date)).to_numpy(
        dtype=bool, na_value=False)
    if not undoing.any():
        return value
    ids, revenue = orders["customer_id"].to_numpy(), orders["revenue"].to_numpy(dtype="float64", na_value=0.0)
    taken = pd.Series(revenue[undoing], index=pd.MultiIndex.from_arrays([ids[undoing], orders["reverses"].to_numpy()[undoing]]))
    taken = taken.groupby(level=[0, 1]).sum()
    mine = pd.MultiIndex.from_arrays([ids[rows], orders["order_id"].to_numpy()[rows]])
    return np.maximum(value + taken.reindex(mine).to_numpy(dtype="float64", na_value=0.0), 0.0)


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

    The same as ``features_at(prepare(tables), observation_date)``; to compute the table at
    several dates, call :func:`prepare` once and :func:`features_at` per date.

    Parameters
    ----------
    tables
        Clean tables from :func:`custseg.intake.cleaning.run_intake`, by name. ``orders`` is required
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
    return features_at(prepare(tables), observation_date)


@dataclass(frozen=True)
class History:
    """The clean tables as coded numpy arrays, ready for the features at any date.

    Built once by :func:`prepare`; :func:`features_at` then computes a date's customer table
    from it. Hashing millions of id strings and sorting millions of purchases costs more than
    all the arithmetic of one date, so snapshots at several dates share that work. Read-only.
    """

    ids: pd.api.extensions.ExtensionArray  # every customer id of every table, sorted; code i is ids[i]
    order_codes: np.ndarray  # customer code of every order, in input order
    categories: pd.api.extensions.ExtensionArray  # product categories, sorted; category code i is categories[i]
    revenue: _Revenue  # the orders that move net revenue or count as returns
    purchases: _Purchases | None  # completed orders by customer and time, and the gaps; None once let go
    undone: _Undone  # purchases a matched reversal undid later: purchases only before that day
    first_day: np.ndarray  # per code: the first dated day of any row, _NAT when no row is dated
    attributes: dict[str, object]  # customer-table columns aligned to codes
    signup: np.ndarray | None  # per code: sign-up day (_NAT when unknown); None without the column
    interactions: _Contacts | None
    feedback: _Answers | None

    @property
    def n(self) -> int:
        """Number of customer codes."""
        return len(self.ids)

    def without_purchases(self) -> History:
        """The history without its sorted purchases, for the steps that read only the revenue
        rows (:func:`category_shares_at`): a quarter of a gigabyte less for ten million orders
        once the caller lets go of the full history. :func:`features_at` refuses it.
        """
        return replace(self, purchases=None)

    def purchases_at(self, cutoff: int) -> _Purchases:
        """The sorted purchases at a cutoff day: the completed ones, plus those undone only on or
        after the cutoff (:func:`purchases_at`). Most dates have none of the latter and take the
        prepared purchases as they are; a date with some sorts them in once more."""
        if self.purchases is None:
            raise ValueError("features_at needs the purchases, which this history let go (History.without_purchases)")
        live = self.undone.live(cutoff)
        if not live.any():
            return self.purchases
        return self.purchases.with_extra(self.undone.code[live], self.undone.seconds[live], self.n)

    def known_at(self, observation_date: dt.date) -> np.ndarray:
        """Codes of the customers who existed at the date: the rows of :func:`features_at`.

        A customer with a dated row before the date existed; one whose only dated rows are on or
        after it did not (a snapshot at an earlier date must not count later sign-ups as
        prospects); a customer-table row without a sign-up date, and no other rows, is kept.
        """
        return np.flatnonzero(self.first_day < _cutoff_day(observation_date))


def prepare(tables: Mapping[str, pd.DataFrame]) -> History:
    """Code and sort the clean tables once, for :func:`features_at` at any number of dates.

    Parameters
    ----------
    tables
        As for :func:`customer_table`. Not modified; the result shares no memory that a later
        change to the frames would alter.

    Raises
    ------
    ValueError
        As :func:`customer_table`.
    """
    if "orders" not in tables:
        raise ValueError(f"customer_table needs an 'orders' table; got tables {sorted(tables)}")
    _require(tables["orders"], "orders", _ORDER_COLUMNS)
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
               (("orders", tables["orders"]), ("customers", customers), ("interactions", interactions),
                ("feedback", feedback))
               if frame is not None}

    ids, codes, orders = _ids_and_orders(present)
    n = len(ids)
    # The sort of the purchases is the longest step left and releases the GIL: it runs on a
    # second thread while this one derives the other arrays.
    with ThreadPoolExecutor(max_workers=1) as pool:
        sorting = pool.submit(_Purchases.of, orders, n)
        undone = _Undone.of(orders)
        attributes: dict[str, object] = {}
        signup = None
        if customers is not None:
            repeated = np.flatnonzero(np.bincount(codes["customers"], minlength=n) > 1)
            if repeated.size:
                raise ValueError(
                    f"customers table: customer_id {ids[repeated[0]]!r} appears more than once "
                    f"({repeated.size:,} ids do); ids must be unique"
                )
            attributes, signup = _attributes(customers, codes["customers"], n)
        revenue = _Revenue.of(orders, n)
        first_day = _first_days(present, codes, n)
        contacts = None if interactions is None else _Contacts.of(interactions, codes["interactions"])
        answers = None if feedback is None else _Answers.of(feedback, codes["feedback"])
        purchases = sorting.result()
    return History(
        ids=ids,
        order_codes=orders.code,
        categories=orders.categories,
        revenue=revenue,
        purchases=purchases,
        undone=undone,
        first_day=first_day,
        attributes=attributes,
        signup=signup,
        interactions=contacts,
        feedback=answers,
    )


def features_at(
    history: History, observation_date: dt.date, *, attributes: bool = True, features: Collection[str] | None = None,
) -> pd.DataFrame:
    """The customer table of :func:`customer_table` at a date, from prepared tables.

    Parameters
    ----------
    history
        From :func:`prepare`.
    observation_date
        The 'today' of the analysis. Only rows dated strictly before it count.
    attributes
        False leaves out the customer-table columns: a snapshot that only needs the behaviour
        features then does not copy a million rows of text per date.
    features
        The behaviour features to compute (names of :func:`customer_table`'s columns); None for
        all. The recency, frequency, monetary, first and last order, tenure, cadence and last
        gap columns come whatever is asked (every classification reads them); other features
        are computed only when named. A snapshot at a past date asks for what its
        classification reads, which spares it most of the work.

    Returns
    -------
    pd.DataFrame
        As :func:`customer_table` (with only the asked features); its rows are the customers
        ``history.known_at(date)``.
    """
    cutoff = _cutoff_day(observation_date)
    purchases = history.purchases_at(cutoff)
    n = history.n
    wanted = None if features is None else set(features)

    def asked(names: Collection[str]) -> bool:
        return wanted is None or not wanted.isdisjoint(names)

    computed: dict[str, object] = {}
    full = asked(set(_PURCHASE_FEATURES).difference(_CORE_PURCHASE_FEATURES))
    computed.update(_purchase_features(history.revenue, purchases, n, cutoff, history.signup, full=full))
    if history.interactions is not None and (
        wanted is None or any(name.startswith("interactions_") or name == "last_interaction_days" for name in wanted)
    ):
        computed.update(_interaction_features(history.interactions, n, cutoff))
    if history.feedback is not None and asked(_FEEDBACK_FEATURES):
        computed.update(_feedback_features(history.feedback, n, cutoff))
    if asked(_TOP_CATEGORY_FEATURES):
        computed.update(_top_category(history, n, cutoff))
    if wanted is not None:
        computed = {name: values for name, values in computed.items()
                    if name in wanted or name in _CORE_PURCHASE_FEATURES}

    # The history's arrays are copied (it serves every date and must not change); the computed
    # ones belong to this table alone. copy=False keeps each column as it is: gluing forty
    # columns of a million rows into one block would copy them all.
    columns = {name: values.copy() for name, values in history.attributes.items()} if attributes else {}
    columns.update(computed)
    known = history.known_at(observation_date)
    table = pd.DataFrame({"customer_id": history.ids.copy(), **columns}, copy=False)
    return table if len(known) == n else table.take(known).reset_index(drop=True)


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
    return category_shares_at(prepare({"orders": orders}), observation_date)


def category_shares_at(history: History, observation_date: dt.date) -> pd.DataFrame:
    """:func:`category_shares` from prepared tables (customers of any table may appear)."""
    ids = history.ids
    pair_code, pair_cat, cents = _category_cents(history.revenue, len(history.categories), len(ids),
                                                 _cutoff_day(observation_date))
    # largest revenue first within a customer; categories are coded in sorted order
    pair_code, cents, pair_cat = _sort_rows(pair_code, -cents.astype(np.int64), pair_cat)
    # Millions of pairs: the arrays are divided in place and the codes let go once taken, so
    # the working set stays close to the size of the result.
    cents = np.negative(cents, out=cents).astype(np.float64)
    share = np.clip(cents, 0.0, None)  # the positive revenue, then its share
    total = _sums(pair_code, share, len(ids))
    with np.errstate(invalid="ignore", divide="ignore"):  # no positive revenue -> NaN share
        np.divide(share, total[pair_code], out=share)
    customer_id = ids.take(pair_code)
    del pair_code
    category = history.categories.take(pair_cat)
    del pair_cat
    return pd.DataFrame({  # the arrays are new: no copy
        "customer_id": customer_id,
        "category": category,
        "revenue": np.divide(cents, 100.0, out=cents),
        "share": share,
    }, copy=False)


def rfm_features(orders: pd.DataFrame, observation_date: dt.date) -> pd.DataFrame:
    """Recency, frequency and monetary value per customer who ordered before the date.

    The rows and values of :func:`customer_table` on the orders alone, restricted to customers
    with at least one completed, refunded or returned order before the date; computed directly
    (counts, sums and extremes per customer), at a third of the cost of the full table.

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
    _require(orders, "orders", _ORDER_COLUMNS)
    cutoff = _cutoff_day(observation_date)
    # The same numbers as customer_table's, from counts, sums and extremes per customer: one
    # pass over the orders each, without the sort of the purchases, the gaps, the windows and
    # the categories that the full table needs. The ids are numbered while the orders are read.
    with ThreadPoolExecutor(max_workers=1) as pool:
        numbered = pool.submit(_number_ids, {"orders": orders["customer_id"]})
        arrays = _OrderArrays.of(orders, categories=False)
        ids, codes = numbered.result()
    code, n = codes["orders"], len(ids)
    past = arrays.day < cutoff
    bought_rows = arrays.purchases_at(cutoff, past)
    frequency = np.bincount(code[bought_rows], minlength=n)
    refunded = np.bincount(code[arrays.returned & (arrays.returned_day < cutoff)], minlength=n)
    # whole cents: exact sums; usually every order is in the past, and no masked copy is needed
    monetary = _sums(code, arrays.cents if past.all() else np.where(past, arrays.cents, 0.0), n) / 100.0
    first = np.full(n, _INT64_MAX, dtype=np.int64)
    last = np.full(n, _NAT, dtype=np.int64)
    np.minimum.at(first, code[bought_rows], arrays.seconds[bought_rows])
    np.maximum.at(last, code[bought_rows], arrays.seconds[bought_rows])
    bought = frequency > 0
    with np.errstate(invalid="ignore", divide="ignore"):  # as in _purchase_features
        aov = monetary / frequency
        return_rate = refunded / (frequency + refunded)
    rows = np.flatnonzero(bought | (refunded > 0))
    last_day = np.where(bought, last, 0) // _SECONDS_PER_DAY
    table = pd.DataFrame({
        "recency_days": _int_array(cutoff - last_day, ~bought),
        "frequency": frequency,
        "monetary": monetary,
        "aov": aov,
        "first_order": np.where(bought, first, _NAT).view("datetime64[s]"),
        "last_order": np.where(bought, last, _NAT).view("datetime64[s]"),
        "refunded_orders": refunded,
        "return_rate": return_rate,
    }, copy=False)
    return table.take(rows).set_axis(pd.Index(ids.take(rows), name="customer_id"))


# ---------------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------------

def day_number(date: dt.date) -> int:
    """A date as days since 1970-01-01, the unit of :attr:`History.first_day`."""
    return _cutoff_day(date)


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
            f"(clean tables from custseg.intake.cleaning have them), got {list(frame.columns)}"
        )


def _ids_and_orders(
    frames: Mapping[str, pd.DataFrame],
) -> tuple[pd.api.extensions.ExtensionArray, dict[str, np.ndarray], _OrderArrays]:
    """Customer codes of every table's rows, and the order arrays with their codes.

    Hashing the id text is most of the work on large exports. It runs on two threads (pyarrow
    and numpy release the GIL): one encodes the orders' ids while the other encodes the other
    tables' ids and prepares the order arrays. Tables whose customer_id shares one categorical
    dtype (as :func:`custseg.intake.cleaning` writes them) are not hashed at all.
    """
    columns = {name: frame["customer_id"] for name, frame in frames.items()}
    with ThreadPoolExecutor(max_workers=2) as pool:
        if _shared_categories(columns):
            prepared = pool.submit(_OrderArrays.of, frames["orders"])
            ids, codes = _category_ids(columns)
        elif (widths := _id_bytes(columns)) is not None:
            prepared = pool.submit(_OrderArrays.of, frames["orders"])
            ids, codes = _packed_ids(widths)
        else:
            encoded = {name: pool.submit(_encode, column) for name, column in columns.items()}
            prepared = pool.submit(_OrderArrays.of, frames["orders"])
            ids, codes = _merge_ids({name: future.result() for name, future in encoded.items()})
        orders = prepared.result()
    return ids, codes, replace(orders, code=codes["orders"])


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
    local = {name: column.cat.codes.to_numpy(dtype=_CODE) for name, column in columns.items()}
    used = np.zeros(len(categories), dtype=bool)
    for name, codes in local.items():
        if (codes < 0).any():
            raise ValueError(f"{name} table: {int((codes < 0).sum()):,} rows have no customer_id")
        used |= np.bincount(codes, minlength=len(categories)) > 0
    kept = np.flatnonzero(used)
    names = pd.array(categories[kept], dtype="str")
    order = names.argsort()
    remap = np.full(len(categories), -1, dtype=_CODE)
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
        remap = np.empty(len(order), dtype=_CODE)
        remap[order] = np.arange(len(order))
        ids = uniques.take(order)
    elif (numbered := _numbered_by_customers(local)) is not None:
        return numbered
    else:
        merged = pd.concat([pd.Series(uniques, dtype="str") for _, uniques in local.values()], ignore_index=True)
        remap, ids = pd.factorize(merged.array, sort=True)
    remap = remap.astype(_CODE, copy=False)
    split, offset = {}, 0
    for name, (codes, uniques) in local.items():
        split[name] = remap[offset + codes]
        offset += len(uniques)
    return ids, split


def _numbered_by_customers(
    local: Mapping[str, tuple[np.ndarray, pd.api.extensions.ExtensionArray]],
) -> tuple[pd.api.extensions.ExtensionArray, dict[str, np.ndarray]] | None:
    """:func:`_merge_ids` when the customer table is sorted by id and names every customer.

    Then its rows are the numbering already: the other tables' distinct ids are only looked up
    in it, and nothing is sorted (a sort of a million ids costs more than the lookups). None
    when the customer table is absent, unsorted or repeats an id, or another table names an
    id that it lacks: the general merge then decides (and reports).
    """
    if "customers" not in local:
        return None
    codes, names = local["customers"]
    text = pa.array(names)
    increasing = pc.all(pc.less(text[:-1], text[1:])).as_py()  # sorted, and no id twice
    if len(names) != len(codes) or not increasing:
        return None
    split = {"customers": codes}
    for name, (table_codes, uniques) in local.items():
        if name != "customers":
            found = pc.index_in(pa.array(uniques), value_set=text)
            if found.null_count:
                return None
            split[name] = found.to_numpy().astype(_CODE, copy=False)[table_codes]
    return names, split


def _number_ids(
    columns: Mapping[str, pd.Series],
) -> tuple[pd.api.extensions.ExtensionArray, dict[str, np.ndarray]]:
    """:func:`_merge_ids`'s numbering of id columns: read as numbers when they can be, else hashed."""
    packed = _id_bytes(columns)
    if packed is not None:
        return _packed_ids(packed)
    return _merge_ids({name: _encode(column) for name, column in columns.items()})


@dataclass(frozen=True)
class _IdBytes:
    """Every table's ids as numbers (see :func:`_id_bytes`): the byte matrices and the digits."""

    matrices: Mapping[str, list[np.ndarray]]  # per table, one (rows, width) matrix per chunk
    low: np.ndarray  # per byte position, the least byte (padding aside)
    base: np.ndarray  # per byte position, how many digits it takes
    varying: np.ndarray  # the positions whose byte is not the same in every id
    span: int  # how many numbers there are: the product of the bases
    # per position that holds padding (ids shorter than the widest): byte -> digit, padding 0
    digits: Mapping[int, np.ndarray] = field(default_factory=dict)


def _id_bytes(columns: Mapping[str, pd.Series]) -> _IdBytes | None:
    """The ids of every table read as numbers, when they can be; else None.

    Across all tables, each byte position of the ids takes values in a range low .. high. An id
    read as a number whose digits are its bytes, each in base high - low + 1 of its position,
    is an integer that sorts as the text does (UTF-8 byte order is code point order), and two
    ids are equal exactly when their numbers are. Ids of varied widths (C12, C345) are padded
    at the end to the widest with a byte that is a digit below every other at its position, so
    that a shorter id sorts before the longer ones it begins; that needs ASCII ids (padding
    counts characters) without the NUL byte (the padding). Every id column must be text with no
    value missing, and the numbers must fit in int64 (uuids do not).
    """
    texts = {}
    for name, column in columns.items():
        if isinstance(column.dtype, pd.CategoricalDtype) or not pd.api.types.is_string_dtype(column.dtype):
            return None
        text = pa.array(column.astype("str").array)
        if text.null_count or len(text) == 0:
            return None
        texts[name] = _text_chunks(text)
    lengths = [_byte_lengths(chunks) for chunks in texts.values()]
    narrowest, widest = min(low for low, _ in lengths), max(high for _, high in lengths)
    if widest == 0:  # every id is "": no bytes to read
        return None
    if narrowest != widest:
        if widest > _PADDED_ID_WIDTH or not all(_ascii_without_nul(chunks) for chunks in texts.values()):
            return None
        texts = {
            name: _text_chunks(pc.utf8_rpad(pa.chunked_array([chunk for chunk, _ in chunks]), widest, "\x00"))
            for name, chunks in texts.items()
        }
    # every value is `widest` bytes now: each chunk's bytes are a matrix (the column's own, not a copy)
    matrices = {
        name: [_value_bytes(chunk, offsets).reshape(-1, widest) for chunk, offsets in chunks]
        for name, chunks in texts.items()
    }
    chunks = [matrix for table in matrices.values() for matrix in table]
    high = np.max([_byte_extremes(matrix, np.maximum) for matrix in chunks], axis=0).astype(np.int64)
    if narrowest == widest:
        low = np.min([_byte_extremes(matrix, np.minimum) for matrix in chunks], axis=0).astype(np.int64)
    else:  # the least byte that is not padding (0): bytes less one, with 0 wrapping to 255
        low = np.min([_byte_extremes(matrix - np.uint8(1), np.minimum) for matrix in chunks], axis=0) + 1
        low = low.astype(np.int64)
    padded = np.arange(widest) >= narrowest
    base = high - low + 1 + padded  # a padded position has one digit more: the padding, 0
    varying = np.flatnonzero(base > 1)
    digits = {}
    for position in np.flatnonzero(padded):
        digits[int(position)] = np.zeros(256, dtype=np.int64)
        digits[int(position)][low[position]:high[position] + 1] = np.arange(1, base[position])
    # Python integers, so that the checks cannot overflow. The numbers are built from the bytes
    # (or padded positions' digits) and the lows taken off at the end (one pass, not one per
    # position): the largest value on the way is the number of the greatest bytes.
    span, largest = 1, 0
    for position in varying:
        span *= int(base[position])
        largest = largest * int(base[position]) + int(base[position] - 1 if padded[position] else high[position])
    return _IdBytes(matrices, low, base, varying, span, digits) if largest < 2**63 else None


def _text_chunks(text: pa.Array | pa.ChunkedArray) -> list[tuple[pa.Array, np.ndarray]]:
    """The non-empty chunks of an Arrow text array, each with its value offsets (rows + 1)."""
    offset_type = np.int64 if pa.types.is_large_string(text.type) else np.int32
    return [
        (chunk, np.frombuffer(chunk.buffers()[1], dtype=offset_type)[chunk.offset:chunk.offset + len(chunk) + 1])
        for chunk in (text.chunks if isinstance(text, pa.ChunkedArray) else [text]) if len(chunk)
    ]


def _value_bytes(chunk: pa.Array, offsets: np.ndarray) -> np.ndarray:
    """The bytes of a text chunk's values end to end, as uint8 (its own memory, not a copy)."""
    if offsets[-1] == offsets[0]:  # only empty values: maybe no data buffer at all
        return np.zeros(0, dtype=np.uint8)
    return np.frombuffer(chunk.buffers()[2], dtype=np.uint8)[offsets[0]:offsets[-1]]


def _ascii_without_nul(chunks: list[tuple[pa.Array, np.ndarray]]) -> bool:
    """True when every byte of the values (:func:`_text_chunks`) is 1 .. 127: ASCII without NUL."""
    for chunk, offsets in chunks:
        data = _value_bytes(chunk, offsets)
        if data.size and (data.min() == 0 or data.max() > 127):
            return False
    return True


def _byte_lengths(chunks: list[tuple[pa.Array, np.ndarray]]) -> tuple[int, int]:
    """The least and the greatest length in bytes of the values (:func:`_text_chunks`, not none)."""
    widths = [np.diff(offsets) for _, offsets in chunks]
    return min(int(part.min()) for part in widths), max(int(part.max()) for part in widths)


def _packed_ids(ids: _IdBytes) -> tuple[pd.api.extensions.ExtensionArray, dict[str, np.ndarray]]:
    """:func:`_merge_ids`'s numbering of ids read as numbers (:func:`_id_bytes`), without
    hashing text.

    Ids such as C00012345 span few numbers: a table indexed by number then ranks them, with no
    hashing and no sort (10M order lines: 0.4 s against 1.9 s to hash and sort the text).
    Sparser numbers are hashed as integers, still faster than text.
    """
    offset = 0
    for position in ids.varying:  # padded positions' digits start at 0 already
        offset = offset * int(ids.base[position]) + (0 if position in ids.digits else int(ids.low[position]))
    rows = {name: sum(len(matrix) for matrix in table) for name, table in ids.matrices.items()}
    if ids.span <= _DENSE_ID_NUMBERS_PER_ROW * sum(rows.values()) + _DENSE_ID_NUMBERS:
        # Block by block, twice (mark the numbers present, then look up their ranks): blocks
        # stay in the cache, and no array of ten million numbers is made.
        present = np.zeros(ids.span, dtype=bool)
        for table in ids.matrices.values():
            for _, block in _id_number_blocks(table, ids, offset):
                present[block] = True
        rank = np.cumsum(present, dtype=np.int64).astype(_CODE)
        rank -= 1
        used = np.flatnonzero(present)
        codes = {name: np.empty(count, dtype=_CODE) for name, count in rows.items()}
        for name, table in ids.matrices.items():
            for start, block in _id_number_blocks(table, ids, offset):
                np.take(rank, block, out=codes[name][start:start + len(block)])
    else:
        numbers = {
            name: np.concatenate([block for _, block in _id_number_blocks(table, ids, offset)] or [np.zeros(0, np.int64)])
            for name, table in ids.matrices.items()
        }
        encoded = {name: pc.dictionary_encode(pa.array(values)) for name, values in numbers.items()}
        used = np.unique(np.concatenate([table.dictionary.to_numpy() for table in encoded.values()]))
        codes = {
            name: np.searchsorted(used, table.dictionary.to_numpy()).astype(_CODE)[table.indices.to_numpy()]
            for name, table in encoded.items()
        }
    # the distinct ids as text again, from their numbers: digit by digit, last position first
    digits = np.repeat(ids.low.astype(np.uint8)[None, :], len(used), axis=0)
    rest = used
    for position in ids.varying[::-1]:
        rest, digit = np.divmod(rest, ids.base[position])
        if position in ids.digits:  # digit 0 is the padding, the NUL byte
            digits[:, position] = np.where(digit == 0, 0, digit - 1 + ids.low[position]).astype(np.uint8)
        else:
            digits[:, position] += digit.astype(np.uint8)
    text = _as_text(digits)
    return pd.array(pc.utf8_rtrim(text, "\x00") if ids.digits else text, dtype="str"), codes


def _byte_extremes(matrix: np.ndarray, extreme: np.ufunc) -> np.ndarray:
    """The least (np.minimum) or greatest (np.maximum) byte at each position of a byte matrix."""
    # Reducing ten million rows of nine bytes column-wise is slow (a short inner loop per row):
    # 64 rows side by side make one long row, and a reduction over those is 30x faster.
    rows, width = matrix.shape
    whole = rows - rows % 64
    parts = [extreme.reduce(matrix[whole:], axis=0)] if whole < rows else []
    if whole:
        parts.append(extreme.reduce(extreme.reduce(matrix[:whole].reshape(-1, 64 * width), axis=0).reshape(64, width)))
    return extreme.reduce(np.stack(parts), axis=0)


def _id_number_blocks(
    chunks: list[np.ndarray], ids: _IdBytes, offset: int,
) -> Iterator[tuple[int, np.ndarray]]:
    """The numbers (see :func:`_id_bytes`) of one table's ids, less `offset` (so from 0), in
    blocks of at most :data:`_BLOCK` rows: (position of the block's first row, its numbers)."""
    start = 0
    for matrix in chunks:
        for first in range(0, len(matrix), _BLOCK):
            rows = matrix[first:first + _BLOCK]
            numbers = np.zeros(len(rows), dtype=np.int64)
            for position in ids.varying:
                numbers *= ids.base[position]
                lookup = ids.digits.get(position)
                numbers += rows[:, position] if lookup is None else lookup[rows[:, position]]
            numbers -= offset
            yield start, numbers
            start += len(rows)


def _as_text(matrix: np.ndarray) -> pa.Array:
    """A (rows, width) byte matrix as Arrow large text (the bytes must be UTF-8, as ids' are)."""
    rows, width = matrix.shape
    fixed = pa.FixedSizeBinaryArray.from_buffers(pa.binary(width), rows, [None, pa.py_buffer(np.ascontiguousarray(matrix))])
    return fixed.cast(pa.large_binary()).cast(pa.large_string())


def _encode(values: pd.Series) -> tuple[np.ndarray, pd.api.extensions.ExtensionArray]:
    """Codes (-1 where missing) and the distinct values as text, in order of appearance.

    A categorical column is not hashed: its codes are reused, minus unused categories (an id
    that occurs in no row must not become a customer).
    """
    categorical = isinstance(values.dtype, pd.CategoricalDtype)
    # categories that are not text could become equal as text (1 and "1"): those are hashed
    if categorical and values.cat.categories.inferred_type == "string":
        codes = values.cat.codes.to_numpy(dtype=_CODE)
        used = np.bincount(codes[codes >= 0], minlength=len(values.cat.categories)) > 0
        compact = np.r_[np.cumsum(used) - 1, -1].astype(_CODE)  # the appended -1 keeps missing codes missing
        return compact[codes], pd.array(values.cat.categories[used], dtype="str")
    # Arrow's hash table is a third faster than pandas' on ten million strings, and releases the
    # GIL. It encodes the chunks of a column with one table and gives each chunk the final
    # dictionary; that is checked (a comparison of buffers), and the chunks joined if not so.
    text = pa.array(values.astype("str").array)  # Arrow-backed text: the column's own chunks
    # Ids of one width (C0001234, ...) are hashed as fixed-width bytes: a third faster.
    fixed = _fixed_width(text)
    chunks = _chunks(pc.dictionary_encode(text if fixed is None else fixed))
    if any(not chunk.dictionary.equals(chunks[0].dictionary) for chunk in chunks[1:]):
        chunks = _chunks(pc.dictionary_encode((text if fixed is None else fixed).combine_chunks()))
    if not chunks:  # no rows
        return np.zeros(0, dtype=_CODE), pd.array([], dtype="str")
    indices = pa.chunked_array([chunk.indices for chunk in chunks], type=pa.int32())
    codes = (pc.fill_null(indices, -1) if indices.null_count else indices).to_numpy()
    uniques = chunks[0].dictionary
    if fixed is not None:  # the same bytes, as text again
        uniques = uniques.cast(pa.large_binary()).cast(text.type)
    return codes, pd.array(uniques, dtype="str")


def _fixed_width(text: pa.Array | pa.ChunkedArray) -> pa.ChunkedArray | None:
    """`text` as fixed-width binary, sharing its bytes, when every value has the same length
    in bytes and none is missing; else None."""
    if text.null_count or not pa.types.is_large_string(text.type) and not pa.types.is_string(text.type):
        return None
    chunks = _text_chunks(text)
    if not chunks:
        return None
    width, widest = _byte_lengths(chunks)
    if width != widest or width == 0:
        return None
    return pa.chunked_array([
        pa.FixedSizeBinaryArray.from_buffers(
            pa.binary(width), len(chunk), [None, chunk.buffers()[2].slice(int(offsets[0]), len(chunk) * width)]
        )
        for chunk, offsets in chunks
    ], type=pa.binary(width))


def _chunks(encoded: pa.Array | pa.ChunkedArray) -> list[pa.DictionaryArray]:
    return encoded.chunks if isinstance(encoded, pa.ChunkedArray) else [encoded]


def _seconds(frame: pd.DataFrame, table: str, column: str, *, required: bool) -> np.ndarray:
    """A datetime column as int64 seconds since 1970; NaT as the int64 minimum."""
    values = frame[column]
    if not pd.api.types.is_datetime64_dtype(values.dtype):
        raise ValueError(f"{table} table: column {column!r} must hold datetimes (tz-naive), got dtype {values.dtype}")
    stamps = values.to_numpy()
    unit = np.datetime_data(stamps.dtype)[0]
    if unit in _TICKS_PER_SECOND:
        # The ticks floor-divided into seconds, as numpy's cast to seconds (which also rounds
        # toward the past), five times faster on ten million dates (Parquet gives milliseconds).
        ticks = stamps.view(np.int64)
        missing = ticks == _NAT
        seconds = ticks // _TICKS_PER_SECOND[unit]
        if missing.any():
            seconds[missing] = _NAT
    else:
        seconds = stamps.astype("datetime64[s]").view(np.int64)
        missing = seconds == _NAT
    if required and missing.any():
        raise ValueError(f"{table} table: column {column!r} has {int(missing.sum()):,} missing dates")
    return seconds


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
    return remap.astype(_CODE)[codes], names


@dataclass(frozen=True)
class _OrderArrays:
    """Orders as aligned numpy arrays: what :func:`prepare` derives the prepared arrays from."""

    seconds: np.ndarray  # order timestamp
    day: np.ndarray  # calendar day number
    purchase: np.ndarray  # completed
    returned: np.ndarray  # refunded or returned
    returned_day: np.ndarray  # the day a return counts from: its refund day when known, else its own
    cents: np.ndarray  # net revenue in whole cents, 0 unless completed, returned, a reversal or dated refund
    category: np.ndarray  # category code, in sorted category order
    categories: pd.api.extensions.ExtensionArray
    code: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=_CODE))  # customer code
    # Purchases a matched reversal undid later (refunded, with a refund day): their rows and the
    # last cutoff day at which each still counts. Positions, not masks: usually few or none, and
    # ten million rows of masks would add to the peak for nothing.
    undone: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    undone_until: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=_CODE))

    @classmethod
    def of(cls, orders: pd.DataFrame, *, categories: bool = True) -> _OrderArrays:
        """The arrays of all orders, without customer codes (set ``code`` afterwards).

        With `categories` False every order is put in one category, unread.
        """
        seconds = _seconds(orders, "orders", "order_date", required=True)
        day = (seconds // _SECONDS_PER_DAY).astype(_CODE)
        status_codes, statuses = _encode(orders["status"])
        net = _lookup(status_codes, statuses, NET_STATUSES)
        returned_day = day
        undone, until = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=_CODE)
        if REFUNDED_ON in orders:
            refund = _seconds(orders, "orders", REFUNDED_ON, required=False)
            undone = np.flatnonzero(_lookup(status_codes, statuses, (REFUNDED_STATUS,)) & (refund != _NAT))
        if undone.size:
            # at cutoff c (data strictly before c) a refund on day u is known when u < c: the
            # purchase counts while c <= u, and its revenue counts (its reversal nets it)
            until = (refund[undone] // _SECONDS_PER_DAY).astype(_CODE)
            returned_day = day.copy()
            returned_day[undone] = until
            net[undone] = True
        revenue = orders["revenue"].to_numpy(dtype="float64", na_value=np.nan)
        if np.isnan(revenue[net]).any():
            raise ValueError("orders table: column 'revenue' is missing on completed or returned orders")
        if categories and "category" in orders:
            category, names = _sorted_text_codes(orders["category"], UNSPECIFIED_CATEGORY)
        else:
            category, names = np.zeros(len(orders), dtype=_CODE), pd.array([UNSPECIFIED_CATEGORY], dtype="str")
        return cls(
            seconds=seconds,
            day=day,
            purchase=_lookup(status_codes, statuses, (PURCHASE_STATUS,)),
            returned=_lookup(status_codes, statuses, RETURN_STATUSES),
            returned_day=returned_day,
            cents=_cents(revenue, net),
            category=category,
            categories=names,
            undone=undone,
            undone_until=until,
        )

    def purchases_at(self, cutoff: int, past: np.ndarray) -> np.ndarray:
        """Which rows are purchases at a cutoff day (the rule of :func:`purchase_until`, on the
        arrays): completed ones before it, and those undone only on or after it. `past` is
        ``day < cutoff``, which the caller has made already."""
        bought = self.purchase & past
        live = (self.day[self.undone] < cutoff) & (self.undone_until >= cutoff)
        bought[self.undone[live]] = True
        return bought


@dataclass(frozen=True)
class _Revenue:
    """The orders that move net revenue (completed and returned ones), and the returns.

    Cancelled orders and refunds net to zero: leaving them out once saves every date a pass.
    """

    day: np.ndarray
    cents: np.ndarray
    cell: np.ndarray  # customer code * width + category code
    width: int  # the number of categories
    returned_code: np.ndarray  # refunded or returned orders
    returned_day: np.ndarray

    def code(self, rows: slice) -> np.ndarray:
        """Customer code of some rows; derived from the cells (one division), not stored twice."""
        return self.cell[rows] // self.width

    @classmethod
    def of(cls, orders: _OrderArrays, n: int) -> _Revenue:
        moves = orders.cents != 0
        code = orders.code[moves]
        width = len(orders.categories)
        # int32 cells while customers x categories fit, as they do for up to 2**31 cells
        cell = code.astype(_CODE if n * width < 2**31 else np.int64) * width
        cell += orders.category[moves]
        return cls(
            day=orders.day[moves],
            cents=orders.cents[moves],
            cell=cell,
            width=width,
            returned_code=orders.code[orders.returned],
            returned_day=orders.returned_day[orders.returned],
        )


@dataclass(frozen=True)
class _Purchases:
    """Completed orders sorted by (customer, time), and the gaps between a customer's visit days.

    Sorted once for all dates: the rows before any cutoff are then a prefix of each customer's
    run, and filtering a sorted array keeps it sorted, so no date needs a sort of its own.
    Gaps are between distinct purchase days (two orders on one day are one visit; a gap of zero
    days would make a customer's cadence meaningless for lifecycle rules). Each gap is dated
    by the later of its two days: it is known from that day on.
    """

    seconds: np.ndarray | None  # purchase times in (customer, time) order; None when all are midnights
    key: np.ndarray  # (customer, day) of each purchase as one sortable number: code * span + day - base
    start: np.ndarray  # per code: position of its first purchase
    gap: np.ndarray  # gaps in (customer, day) order
    gap_key: np.ndarray  # (customer, day of the later visit), as ``key``
    gap_start: np.ndarray  # per code: position of its first gap
    median_gap: np.ndarray  # the same gaps in (customer, gap, day) order, for medians
    median_day: np.ndarray
    base: int  # the first purchase day
    span: int  # days from the first to the last purchase day, plus 2

    @classmethod
    def of(cls, orders: _OrderArrays, n: int) -> _Purchases:
        """The purchases that stand at every date: the completed orders (undone ones are apart)."""
        return cls.sorted(orders.code[orders.purchase], orders.day[orders.purchase], orders.seconds[orders.purchase], n)

    def with_extra(self, code: np.ndarray, seconds: np.ndarray, n: int) -> _Purchases:
        """These purchases and some more (``code``, ``seconds``), sorted and with their gaps."""
        positions = np.arange(len(self.key))
        day = (self.key % self.span).astype(np.int64) + self.base
        return _Purchases.sorted(
            np.concatenate([(self.key // self.span).astype(_CODE), code.astype(_CODE)]),
            np.concatenate([day, seconds // _SECONDS_PER_DAY]).astype(_CODE),
            np.concatenate([self.times(positions), seconds]),
            n,
        )

    @classmethod
    def sorted(cls, code: np.ndarray, day: np.ndarray, seconds: np.ndarray, n: int) -> _Purchases:
        """Purchases given by customer code, day and time (any order), sorted with their gaps."""
        base = int(day.min()) if day.size else 0
        span = int(day.max()) - base + 2 if day.size else 2
        # int32 keys while customers x days fit, as they do for a million customers over five years
        key_type = np.int32 if n * span < 2**31 else np.int64
        if _whole_days(seconds, day):
            # Orders dated by the day alone, as most exports are: their (customer, day) keys are
            # their (customer, time) order, and sorting those (32 bits for a million customers)
            # is twice as fast as sorting 64-bit times. Code, day and time are read back off them.
            key = _day_keys(code, day, span, base, key_type)
            key.sort()
            code, day = np.divmod(key, key_type(span))
            day += base
            seconds = None  # the keys' days are the times: no array of them is kept
        else:
            code, seconds = _sort_rows(code, seconds)
            day = seconds // _SECONDS_PER_DAY
            key = _day_keys(code, day, span, base, key_type)
        # A purchase on a later day than the customer's previous purchase opens a visit; the gap
        # back to the previous visit is the step from the previous purchase's day, as purchases
        # are in (customer, time) order. No array of visits is needed.
        step = np.diff(day)
        opens = (step > 0) & (code[1:] == code[:-1])
        gap_code, gap, gap_day = code[1:][opens], step[opens], day[1:][opens]
        del code, step, opens
        _, median_gap, median_day = _sort_rows(gap_code, gap, gap_day)
        gap_key = _day_keys(gap_code, gap_day, span, base, key_type)
        firsts = np.arange(n, dtype=key_type) * span
        return cls(
            seconds=seconds, key=key, start=np.searchsorted(key, firsts), gap=gap.astype(_CODE), gap_key=gap_key,
            gap_start=np.searchsorted(gap_key, firsts), median_gap=median_gap.astype(_CODE),
            median_day=median_day.astype(_CODE), base=base, span=span,
        )

    def times(self, positions: np.ndarray) -> np.ndarray:
        """The purchase times (int64 seconds) at positions of the sorted purchases."""
        if self.seconds is not None:
            return self.seconds[positions]
        day = self.key[positions] % self.span  # the key is code * span + day - base
        return (day.astype(np.int64) + self.base) * _SECONDS_PER_DAY

    def end(self, day: int, *, gaps: bool = False) -> np.ndarray:
        """Per code: the position after its last purchase (or gap) dated before ``day``.

        Within a customer the rows are in day order, so those before a day are the first ones:
        one binary search per customer finds where they end, and no row is touched.
        """
        # past the last day every row is before it; before the first, none is
        offset = min(max(day - self.base, 0), self.span - 1)
        keys = self.gap_key if gaps else self.key
        bounds = np.arange(len(self.start), dtype=keys.dtype) * self.span + offset  # the keys' type: no copy of them
        return np.searchsorted(keys, bounds)


@dataclass(frozen=True)
class _Undone:
    """Purchases that a matched reversal undid on a later day: each counts at cutoffs from the
    day after its purchase up to its refund day. Usually a small share of the orders."""

    code: np.ndarray
    seconds: np.ndarray
    day: np.ndarray
    until: np.ndarray

    @classmethod
    def of(cls, orders: _OrderArrays) -> _Undone:
        rows = orders.undone
        return cls(code=orders.code[rows], seconds=orders.seconds[rows], day=orders.day[rows], until=orders.undone_until)

    def live(self, cutoff: int) -> np.ndarray:
        """Which of them are purchases at the cutoff (bought before it, undone on or after it)."""
        return (self.day < cutoff) & (self.until >= cutoff)


@dataclass(frozen=True)
class _Contacts:
    """Interactions as arrays: customer code, day and channel (coded in sorted slug order)."""

    code: np.ndarray
    day: np.ndarray
    channel: np.ndarray | None  # None without a channel column
    slugs: np.ndarray
    present: np.ndarray  # channel codes that occur in the table

    @classmethod
    def of(cls, interactions: pd.DataFrame, codes: np.ndarray) -> _Contacts:
        day = _seconds(interactions, "interactions", "interaction_date", required=True) // _SECONDS_PER_DAY
        if "channel" not in interactions:
            return cls(code=codes, day=day, channel=None, slugs=np.zeros(0, dtype=object), present=np.zeros(0, np.int64))
        raw, spellings = _encode(interactions["channel"])
        # a missing channel (code -1) picks the appended last slug: unspecified
        slug_codes, slugs = pd.factorize(np.array([*map(channel_slug, spellings), UNSPECIFIED], dtype=object), sort=True)
        channel = slug_codes[raw]
        # The channels of the whole table, not only of the past rows, so that snapshots at
        # different dates have the same columns.
        return cls(code=codes, day=day, channel=channel, slugs=slugs, present=np.unique(channel))


@dataclass(frozen=True)
class _Scores:
    """One score column's answers sorted by (customer, time, score descending)."""

    code: np.ndarray
    day: np.ndarray
    score: np.ndarray

    @classmethod
    def of(cls, codes: np.ndarray, seconds: np.ndarray, scores: np.ndarray) -> _Scores:
        valid = ~np.isnan(scores)
        code, stamp, score = codes[valid], seconds[valid], scores[valid]
        # Two scores with the same timestamp are ordered lowest last, so the latest is the lower
        # one: a detractor answer is never hidden behind a same-day promoter answer, and the
        # result does not depend on row order.
        order = np.lexsort((-score, stamp, code))
        return cls(code=code[order], day=stamp[order] // _SECONDS_PER_DAY, score=score[order])


@dataclass(frozen=True)
class _Answers:
    """Feedback as arrays: every answer's customer and day, and the two score columns."""

    code: np.ndarray
    day: np.ndarray
    satisfaction: _Scores
    nps: _Scores

    @classmethod
    def of(cls, feedback: pd.DataFrame, codes: np.ndarray) -> _Answers:
        seconds = _seconds(feedback, "feedback", "feedback_date", required=True)
        return cls(
            code=codes,
            day=seconds // _SECONDS_PER_DAY,
            satisfaction=_Scores.of(codes, seconds, _scores(feedback, "satisfaction")),
            nps=_Scores.of(codes, seconds, _scores(feedback, "nps")),
        )


def _cents(revenue: np.ndarray, counted: np.ndarray) -> np.ndarray:
    """Revenue in whole cents (float64) where `counted`, else 0.

    Whole cents make every sum exact, so results do not depend on the row order. In place on
    one array: np.round with its temporaries costs ten times more on ten million rows.
    """
    cents = revenue * 100.0
    cents[~counted] = 0.0
    return np.rint(cents, out=cents)


def _first_days(frames: Mapping[str, pd.DataFrame], codes: Mapping[str, np.ndarray], n: int) -> np.ndarray:
    """Per code, the first day of any dated row of any table; ``_NAT`` when no row is dated.

    A customer exists at a date when this day lies before it; ``_NAT`` is below every day, so a
    customer known only from undated customer-table rows exists at every date.
    """
    first = np.full(n, _INT64_MAX, dtype=np.int64)
    for name, frame in frames.items():
        column = _DATE_COLUMNS[name]
        if column not in frame:
            continue
        seconds = _seconds(frame, name, column, required=False)
        has_date = seconds != _NAT
        np.minimum.at(first, codes[name][has_date], seconds[has_date] // _SECONDS_PER_DAY)
    first[first == _INT64_MAX] = _NAT
    return first


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


def _purchase_features(
    revenue: _Revenue, purchases: _Purchases, n: int, cutoff: int, signup: np.ndarray | None, *, full: bool = True,
) -> dict[str, object]:
    """Recency, frequency, monetary, dates, tenure and cadence; with `full` also the 90-day
    windows, the returns and the average order value."""
    # Purchases are counted from their positions in the sorted runs. Revenue is summed in one
    # pass over all rows, none copied: each row is counted in cell (customer, window), window
    # 0 = older, 1 = the previous 90 days, 2 = the last 90 days, 3 = on or after the cutoff
    # (left out); totals are the sums over windows 0-2. Whole cents add up exactly, so the
    # total is the same number whether summed by window or at once.
    end = purchases.end(cutoff)
    frequency = end - purchases.start
    extra: dict[str, object] = {}
    if full:
        end_90 = purchases.end(cutoff - TREND_WINDOW_DAYS)
        end_180 = purchases.end(cutoff - 2 * TREND_WINDOW_DAYS)
        cents = _block_sums(4 * n, len(revenue.day), lambda rows: (
            _window_cells(revenue.code(rows), revenue.day[rows], cutoff), revenue.cents[rows],
        )).reshape(n, 4)
        monetary = cents[:, :3].sum(axis=1) / 100.0
        refunded = np.bincount(revenue.returned_code[revenue.returned_day < cutoff], minlength=n)
        revenue_90d, revenue_prev_90d = cents[:, 2] / 100.0, cents[:, 1] / 100.0
        swing = np.abs(revenue_90d) + np.abs(revenue_prev_90d)
        with np.errstate(invalid="ignore", divide="ignore"):  # no revenue in either window -> NaN
            trend = (revenue_90d - revenue_prev_90d) / swing
            aov = monetary / frequency
            return_rate = refunded / (frequency + refunded)
        extra = {
            "aov": aov, "orders_90d": end - end_90, "orders_prev_90d": end_90 - end_180,
            "revenue_90d": revenue_90d, "revenue_prev_90d": revenue_prev_90d, "trend_90d": trend,
            "refunded_orders": refunded, "return_rate": return_rate,
        }
    else:
        monetary = _block_sums(n, len(revenue.day), lambda rows: (
            revenue.code(rows), np.where(revenue.day[rows] < cutoff, revenue.cents[rows], 0.0),
        )) / 100.0

    first, last, cadence, last_gap, has_gap = _purchase_timing(purchases, n, cutoff)
    bought = frequency > 0
    start = np.where(bought, first // _SECONDS_PER_DAY, _INT64_MAX)
    if signup is not None:
        # A sign-up on or after the observation date is the future and does not count.
        usable = (signup != _NAT) & (signup < cutoff)
        start = np.where(usable, np.minimum(start, signup), start)
    has_start = start != _INT64_MAX
    columns = {
        "recency_days": _int_array(cutoff - last // _SECONDS_PER_DAY, ~bought),
        "frequency": frequency,
        "monetary": monetary,
        "first_order": np.where(bought, first, _NAT).view("datetime64[s]"),
        "last_order": np.where(bought, last, _NAT).view("datetime64[s]"),
        "tenure_days": _int_array(cutoff - np.where(has_start, start, cutoff), ~has_start),
        "cadence_days": cadence,
        "last_gap_days": _int_array(last_gap, ~has_gap),
        **extra,
    }
    # the column order of the customer table
    return {name: columns[name] for name in _PURCHASE_FEATURES if name in columns}


def _whole_days(seconds: np.ndarray, day: np.ndarray) -> bool:
    """True when every time is midnight: the time is its day number in seconds."""
    # a block at a time: temporaries of ten million rows would cost more than the comparison
    for start in range(0, len(day), _BLOCK):
        midnight = day[start:start + _BLOCK].astype(np.int64)
        midnight *= _SECONDS_PER_DAY
        if not np.array_equal(midnight, seconds[start:start + _BLOCK]):
            return False
    return True


def _day_keys(code: np.ndarray, day: np.ndarray, span: int, base: int, dtype: type) -> np.ndarray:
    """``code * span + day - base`` per row as `dtype`, built in place (one new array, not four).

    The base is taken off before the day is added, so no step exceeds the largest key.
    """
    key = code.astype(dtype)
    key *= span
    key -= base
    key += day
    return key


def _window_cells(code: np.ndarray, day: np.ndarray, cutoff: int) -> np.ndarray:
    """``code * 4 + window`` per row, windows as in :func:`_purchase_features`."""
    cell = code * np.int64(4)  # int64 from the int32 codes in the same pass
    # in place: on ten million rows every temporary array costs time
    cell += day >= cutoff - 2 * TREND_WINDOW_DAYS
    cell += day >= cutoff - TREND_WINDOW_DAYS
    cell += day >= cutoff
    return cell


def _purchase_timing(purchases: _Purchases, n: int, cutoff: int) -> tuple[np.ndarray, ...]:
    """First and last purchase time, median gap and last gap between purchase days, per code.

    Everything is read off the arrays :class:`_Purchases` sorted once: the purchases before the
    cutoff keep their (code, time) order, and the gaps known before it their (code, gap) order,
    so first, last, latest gap and median are positions in runs; no step sorts or loops.
    """
    first = np.zeros(n, dtype=np.int64)
    last = np.zeros(n, dtype=np.int64)
    cadence = np.full(n, np.nan)
    last_gap = np.zeros(n, dtype=np.int64)
    end, gap_end = purchases.end(cutoff), purchases.end(cutoff, gaps=True)
    bought = end > purchases.start
    first[bought] = purchases.times(purchases.start[bought])
    last[bought] = purchases.times(end[bought] - 1)

    gaps = gap_end - purchases.gap_start
    has_gap = gaps > 0
    # gaps are in day order within each customer: the last one before the cutoff is the latest
    last_gap[has_gap] = purchases.gap[gap_end[has_gap] - 1]
    # The gaps known at the cutoff, by size: customers' runs follow each other in code order.
    ordered = purchases.median_gap[purchases.median_day < cutoff]
    stop = np.cumsum(gaps)
    begin = stop - gaps
    low, high = begin + (gaps - 1) // 2, begin + gaps // 2
    cadence[has_gap] = (ordered[low[has_gap]] + ordered[high[has_gap]]) / 2.0
    return first, last, cadence, last_gap, has_gap


def _interaction_features(contacts: _Contacts, n: int, cutoff: int) -> dict[str, object]:
    """Contacts in the last 30, 90 and 365 days, in total and per channel, and the latest one."""
    past = contacts.day < cutoff
    code, day = contacts.code[past], contacts.day[past]
    columns: dict[str, object] = {}
    for window in INTERACTION_WINDOWS:
        columns[f"interactions_{window}d"] = np.bincount(code[day >= cutoff - window], minlength=n)
    if contacts.channel is not None:
        channel = contacts.channel[past]
        for index in contacts.present:
            mine = channel == index
            for window in INTERACTION_WINDOWS:
                hit = mine & (day >= cutoff - window)
                columns[f"interactions_{contacts.slugs[index]}_{window}d"] = np.bincount(code[hit], minlength=n)
    latest = np.full(n, _NAT, dtype=np.int64)
    np.maximum.at(latest, code, day)
    never = latest == _NAT
    columns["last_interaction_days"] = _int_array(cutoff - np.where(never, cutoff, latest), never)
    return columns


def _feedback_features(answers: _Answers, n: int, cutoff: int) -> dict[str, object]:
    """Count of responses, satisfaction mean, latest and trend, latest NPS and its class."""
    columns: dict[str, object] = {"feedback_count": np.bincount(answers.code[answers.day < cutoff], minlength=n)}

    count, total, latest = _latest_scores(answers.satisfaction, n, cutoff)
    with np.errstate(invalid="ignore", divide="ignore"):  # no scores -> NaN; one score -> no trend
        columns["satisfaction_mean"] = total / count
        columns["satisfaction_latest"] = latest
        columns["satisfaction_trend"] = np.where(count > 1, latest - (total - latest) / (count - 1), np.nan)

    count, _, latest = _latest_scores(answers.nps, n, cutoff)
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


def _latest_scores(scores: _Scores, n: int, cutoff: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per code: number and sum of the scores before the date, and the latest score (NaN if none)."""
    past = scores.day < cutoff
    code, score = scores.code[past], scores.score[past]
    count = np.bincount(code, minlength=n)
    total = _sums(code, score, n)
    latest = np.full(n, np.nan)
    if code.size:  # sorted by (code, time, score descending): the run's last row is the latest
        _, ends = _group_bounds(code)
        latest[code[ends]] = score[ends]
    return count, total, latest


def _category_cents(revenue: _Revenue, width: int, n: int, cutoff: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(customer code, category code, net cents) of every pair with non-zero net revenue before the cutoff.

    Sorted by customer code, then category code (which is sorted category order).
    """
    past = revenue.day < cutoff
    cell, cents = (revenue.cell, revenue.cents) if past.all() else (revenue.cell[past], revenue.cents[past])
    if n * width <= _DENSE_CELLS:
        cents = _sums(cell, cents, n * width)
        cells = np.flatnonzero(cents)
        cents = cents[cells]
    else:
        cells, inverse = np.unique(cell, return_inverse=True)
        cents = _sums(inverse, cents, len(cells))
        nonzero = cents != 0
        cells, cents = cells[nonzero], cents[nonzero]
    pair_code, pair_cat = np.divmod(cells, width)
    return pair_code, pair_cat, cents


def _top_category(history: History, n: int, cutoff: int) -> dict[str, object]:
    """The category with the largest net revenue per customer and its share of positive revenue.

    Ties go to the category first in sorted order. Customers without positive revenue have none.
    """
    revenue, categories = history.revenue, history.categories
    width = len(categories)
    top = np.full(n, -1, dtype=np.int64)
    share = np.full(n, np.nan)
    if n * width <= _DENSE_CELLS:
        cents = _block_sums(n * width, len(revenue.day), lambda rows: (  # later rows add nothing
            revenue.cell[rows], np.where(revenue.day[rows] < cutoff, revenue.cents[rows], 0.0),
        )).reshape(n, width)
        best = cents.argmax(axis=1)  # the first maximum: ties go to the first category
        best_cents = cents[np.arange(n), best]
        positive = np.maximum(cents, 0.0, out=cents).sum(axis=1)
        won = best_cents > 0
        top[won] = best[won]
        share[won] = best_cents[won] / positive[won]
    else:
        pair_code, pair_cat, cents = _category_cents(revenue, width, n, cutoff)
        positive = _sums(pair_code, np.clip(cents, 0.0, None), n)
        best = np.full(n, -np.inf)
        np.maximum.at(best, pair_code, cents)
        # pairs are sorted by (customer, category): the first pair reaching the maximum wins ties
        winner = np.flatnonzero((cents == best[pair_code]) & (cents > 0))
        winner = winner[np.r_[True, pair_code[winner][1:] != pair_code[winner][:-1]]]
        top[pair_code[winner]] = pair_cat[winner]
        share[pair_code[winner]] = cents[winner] / positive[pair_code[winner]]
    return {
        "top_category": pd.array(pd.api.extensions.take(categories, top, allow_fill=True), dtype="str"),
        "top_category_share": share,
    }


# ---------------------------------------------------------------------------------------------
# Array helpers
# ---------------------------------------------------------------------------------------------

def _sums(codes: np.ndarray, weights: np.ndarray, size: int) -> np.ndarray:
    """Float64 sums of ``weights`` per code, for codes 0 .. size - 1."""
    # np.bincount returns int64 when there are no rows at all
    return np.bincount(codes, weights=weights, minlength=size).astype(np.float64, copy=False)


def _block_sums(
    size: int, rows: int, part: Callable[[slice], tuple[np.ndarray, np.ndarray]],
) -> np.ndarray:
    """Float64 sums per code 0 .. size - 1 of (codes, weights) = ``part(rows)``, added up a
    block of rows at a time.

    On ten million rows, the codes, weights and the copy np.bincount makes of int32 codes would
    otherwise be temporaries of 180 MB. The weights here are whole cents, which float64 adds
    exactly in any order: the blocks do not change the sums.
    """
    total = np.zeros(size)
    for start in range(0, rows, _SUM_BLOCK):
        codes, weights = part(slice(start, start + _SUM_BLOCK))
        total += np.bincount(codes, weights=weights, minlength=size)
    return total


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
    # Rows already grouped by the first column (gaps, category pairs) are short unsorted runs in
    # sorted order: timsort ("stable") merges those in a few passes, five times faster than
    # quicksort. Sorted integers are the same whichever algorithm sorted them.
    grouped = len(key) > 1 and bool((columns[0][1:] >= columns[0][:-1]).all())
    key.sort(kind="stable" if grouped else "quicksort")
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
