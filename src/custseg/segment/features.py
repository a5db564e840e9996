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

This module is the front; the machinery is private to the segment room: the numbering of
customer ids in :mod:`custseg.segment._idcode`, the tables as coded arrays in
:mod:`custseg.segment._arrays`, and the per-feature kernels in :mod:`custseg.segment._kernels`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from custseg.segment._arrays import (
    NET_STATUSES,
    PURCHASE_STATUS,
    REFUNDED_ON,
    REFUNDED_STATUS,
    RETURN_STATUSES,
    UNSPECIFIED,
    UNSPECIFIED_CATEGORY,
    Answers,
    Contacts,
    OrderArrays,
    Purchases,
    Revenue,
    Undone,
    channel_slug,
    first_days,
    sort_rows,
    sums,
)
from custseg.segment._idcode import category_ids, encode, id_bytes, merge_ids, packed_ids, shared_categories
from custseg.segment._kernels import (
    INTERACTION_WINDOWS,
    PURCHASE_FEATURES,
    TREND_WINDOW_DAYS,
    category_cents,
    customer_attributes,
    feedback_features,
    interaction_features,
    purchase_features,
    top_category,
)

__all__ = [
    "INTERACTION_WINDOWS", "NET_STATUSES", "PURCHASE_STATUS", "REFUNDED_ON", "REFUNDED_STATUS", "RETURN_STATUSES",
    "TREND_WINDOW_DAYS", "UNSPECIFIED", "UNSPECIFIED_CATEGORY", "History", "category_shares", "category_shares_at",
    "channel_slug", "customer_table", "day_number", "default_observation_date", "features_at", "net_values",
    "prepare", "purchase_until", "purchases_at",
]

_EPOCH = pd.Timestamp("1970-01-01")
_FOREVER = "9999-12-31"  # the end of a purchase that is never undone (purchase_until)
_ORDER_COLUMNS = ("customer_id", "order_date", "status", "revenue")
_INTERACTION_COLUMNS = ("customer_id", "interaction_date")
_FEEDBACK_COLUMNS = ("customer_id", "feedback_date")
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


def purchases_at(orders: pd.DataFrame, date: dt.date | None, *, until: np.ndarray | None = None) -> np.ndarray:
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
    until
        :func:`purchase_until` of `orders`, when the caller counts them at several dates.

    Returns
    -------
    np.ndarray
        A boolean per order row.
    """
    until = purchase_until(orders) if until is None else until
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
    undone = pd.MultiIndex.from_arrays([ids[undoing], orders["reverses"].to_numpy()[undoing]])
    taken = pd.Series(revenue[undoing], index=undone)
    taken = taken.groupby(level=[0, 1]).sum()
    mine = pd.MultiIndex.from_arrays([ids[rows], orders["order_id"].to_numpy()[rows]])
    return np.maximum(value + taken.reindex(mine).to_numpy(dtype="float64", na_value=0.0), 0.0)


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
    revenue: Revenue  # the orders that move net revenue or count as returns
    purchases: Purchases | None  # completed orders by customer and time, and the gaps; None once let go
    undone: Undone  # purchases a matched reversal undid later: purchases only before that day
    first_day: np.ndarray  # per code: the first dated day of any row, the int64 minimum when no row is dated
    attributes: dict[str, object]  # customer-table columns aligned to codes
    signup: np.ndarray | None  # per code: sign-up day (the int64 minimum when unknown); None without the column
    interactions: Contacts | None
    feedback: Answers | None

    @property
    def n(self) -> int:
        """Number of customer codes."""
        return len(self.ids)

    def without_purchases(self) -> History:
        """The history without its sorted purchases, for the steps that read only the revenue
        rows (:func:`category_shares_at`): the sorted purchases are the largest arrays of a
        history, freed once the caller lets go of the full history (docs/performance.md).
        :func:`features_at` refuses it.
        """
        return replace(self, purchases=None)

    def purchases_at(self, cutoff: int) -> Purchases:
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
        sorting = pool.submit(Purchases.of, orders, n)
        undone = Undone.of(orders)
        attributes: dict[str, object] = {}
        signup = None
        if customers is not None:
            repeated = np.flatnonzero(np.bincount(codes["customers"], minlength=n) > 1)
            if repeated.size:
                raise ValueError(
                    f"customers table: customer_id {ids[repeated[0]]!r} appears more than once "
                    f"({repeated.size:,} ids do); ids must be unique"
                )
            attributes, signup = customer_attributes(customers, codes["customers"], n)
        revenue = Revenue.of(orders, n)
        first_day = first_days(present, codes, n)
        contacts = None if interactions is None else Contacts.of(interactions, codes["interactions"])
        answers = None if feedback is None else Answers.of(feedback, codes["feedback"])
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
    full = asked(set(PURCHASE_FEATURES).difference(_CORE_PURCHASE_FEATURES))
    computed.update(purchase_features(history.revenue, purchases, n, cutoff, history.signup, full=full))
    if history.interactions is not None and (
        wanted is None or any(name.startswith("interactions_") or name == "last_interaction_days" for name in wanted)
    ):
        computed.update(interaction_features(history.interactions, n, cutoff))
    if history.feedback is not None and asked(_FEEDBACK_FEATURES):
        computed.update(feedback_features(history.feedback, n, cutoff))
    if asked(_TOP_CATEGORY_FEATURES):
        computed.update(top_category(history.revenue, history.categories, n, cutoff))
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
    pair_code, pair_cat, cents = category_cents(history.revenue, len(history.categories), len(ids),
                                                 _cutoff_day(observation_date))
    # largest revenue first within a customer; categories are coded in sorted order
    pair_code, cents, pair_cat = sort_rows(pair_code, -cents.astype(np.int64), pair_cat)
    # Millions of pairs: the arrays are divided in place and the codes let go once taken, so
    # the working set stays close to the size of the result.
    cents = np.negative(cents, out=cents).astype(np.float64)
    share = np.clip(cents, 0.0, None)  # the positive revenue, then its share
    total = sums(pair_code, share, len(ids))
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
) -> tuple[pd.api.extensions.ExtensionArray, dict[str, np.ndarray], OrderArrays]:
    """Customer codes of every table's rows, and the order arrays with their codes.

    Hashing the id text is most of the work on large exports. It runs on two threads (pyarrow
    and numpy release the GIL): one encodes the orders' ids while the other encodes the other
    tables' ids and prepares the order arrays. Tables whose customer_id shares one categorical
    dtype (as :func:`custseg.intake.cleaning` writes them) are not hashed at all.
    """
    columns = {name: frame["customer_id"] for name, frame in frames.items()}
    with ThreadPoolExecutor(max_workers=2) as pool:
        if shared_categories(columns):
            prepared = pool.submit(OrderArrays.of, frames["orders"])
            ids, codes = category_ids(columns)
        elif (widths := id_bytes(columns)) is not None:
            prepared = pool.submit(OrderArrays.of, frames["orders"])
            ids, codes = packed_ids(widths)
        else:
            encoded = {name: pool.submit(encode, column) for name, column in columns.items()}
            prepared = pool.submit(OrderArrays.of, frames["orders"])
            ids, codes = merge_ids({name: future.result() for name, future in encoded.items()})
        orders = prepared.result()
    return ids, codes, replace(orders, code=codes["orders"])
