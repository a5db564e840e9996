"""Snapshots of the classification at several dates, and how customers move between tiers.

The whole classification is recomputed as if each snapshot date were the observation date (only data
strictly before the date counts), so a customer's tier at each date is what an analyst would have
seen then. This module does not know how a classification is computed: :func:`build_snapshots`
takes a ``classify(date) -> customer table`` function, which keeps snapshots in step with whatever
tiers, segments and stages the pipeline assigns.

From the long snapshot table:

* :func:`transition_matrix`: tier at one date x tier at a later date, in customers or in revenue;
* :func:`movers`: the customers who moved up or down, for follow-up;
* :func:`tier_effect`: per tier, how many customers bought again in the next period and how their
  revenue changed, which is how the practitioner articles judge whether a tiering works (better
  tiers should keep more customers and more revenue).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from custseg.config import Snapshots
from custseg.segment.features import purchase_until

#: Columns kept from each classification, when ``classify`` returns them (others are dropped so the
#: long table stays small). ``customer_id`` and ``tier`` are required.
SNAPSHOT_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "tier",
    "segment",
    "value_class",
    "cluster",
    "lifecycle",
    "region",
    "market",
    "recency_days",
    "frequency",
    "monetary",
    "rfm_score",
    "churn_risk",
)

#: Row label of customers absent from the earlier snapshot.
NOT_YET = "not yet a customer"
#: Row / column label of customers present in a snapshot without a tier (no purchase yet).
NO_TIER = "no tier"
#: Column label of customers absent from the later snapshot.
LEFT = "left"


def snapshot_dates(observation_date: dt.date, settings: Snapshots) -> list[dt.date]:
    """The dates at which the classification is recomputed, oldest first.

    Parameters
    ----------
    observation_date
        The study's observation date: the day after the last data day.
    settings
        The ``snapshots`` section of the config. With ``dates`` those dates are used; otherwise the
        day after each of the last ``count`` quarter ends on or before the last data day
        (``observation_date`` - 1 day). For 2026-10-01 and count 4 that is 2026-01-01, 2026-04-01,
        2026-07-01 and 2026-10-01.

    Returns
    -------
    list[datetime.date]
        Sorted, distinct dates, none after ``observation_date``.

    Raises
    ------
    ValueError
        When a configured date lies after the observation date, repeats, or fewer than two dates
        are given; the message names ``snapshots.dates``.
    """
    if settings.dates is not None:
        dates = sorted(settings.dates)
        late = [d.isoformat() for d in dates if d > observation_date]
        if late:
            raise ValueError(
                f"snapshots.dates {late} lie after the observation date {observation_date.isoformat()}; "
                f"a snapshot can only look at data that exists"
            )
        if len(set(dates)) != len(dates):
            raise ValueError(f"snapshots.dates repeats a date: {[d.isoformat() for d in dates]}")
        if len(dates) < 2:
            raise ValueError("snapshots.dates needs at least two dates to show how customers move")
        return dates
    # A quarter end on or before the last data day <=> the day after it (the next quarter's first
    # day) is on or before the observation date; so the dates are the starts of the last `count`
    # quarters that have started by the observation date.
    quarters = pd.period_range(end=pd.Period(observation_date, freq="Q"), periods=settings.count, freq="Q")
    return [start.date() for start in quarters.start_time]


def build_snapshots(classify: Callable[[dt.date], pd.DataFrame], dates: Sequence[dt.date]) -> pd.DataFrame:
    """Classify the customers at every date and stack the results into one long table.

    Parameters
    ----------
    classify
        Returns the classified customer table at a date, as if it were the observation date: one
        row per customer known at that date (a customer absent from a snapshot counts as "not yet
        a customer" there), with ``customer_id``, ``tier`` and any of :data:`SNAPSHOT_COLUMNS`.
    dates
        Snapshot dates (see :func:`snapshot_dates`).

    Returns
    -------
    pd.DataFrame
        ``snapshot_date`` (datetime64[s]) followed by the :data:`SNAPSHOT_COLUMNS` that ``classify``
        returned, sorted by snapshot_date and customer_id.

    Raises
    ------
    ValueError
        When there are no dates, a date repeats, or a classification lacks ``customer_id`` or
        ``tier`` or lists a customer twice.
    """
    dates = sorted(dates)
    if not dates:
        raise ValueError("build_snapshots needs at least one snapshot date")
    if len(set(dates)) != len(dates):
        raise ValueError(f"snapshot dates repeat: {[d.isoformat() for d in dates]}")
    frames = []
    for date in dates:  # one classification per date: a handful of calls, not a per-customer loop
        table = classify(date)
        missing = [column for column in ("customer_id", "tier") if column not in table.columns]
        if missing:
            raise ValueError(f"the classification at {date.isoformat()} has no column(s) {missing}")
        kept = [column for column in SNAPSHOT_COLUMNS if column in table.columns]
        if _increasing_codes(table["customer_id"]):
            # sorted and without repeats already (segmentation's coded ids): nothing to sort or check
            table = table[kept]
        else:
            # Sorting each date's table (classifications usually come sorted, which makes it
            # cheap) stacks them in order without sorting millions of ids again, and puts a
            # repeated customer next to itself, where it is found without hashing the ids.
            table = table[kept].sort_values("customer_id", kind="stable", ignore_index=True)
            ids = table["customer_id"]
            repeated = ids.eq(ids.shift()).to_numpy(dtype=bool, na_value=False)
            if repeated.any():
                first = ids[repeated].iloc[0]
                raise ValueError(f"the classification at {date.isoformat()} lists customer {first!r} more than once")
        frames.append(table.assign(snapshot_date=pd.Timestamp(date)))
    # concat keeps a categorical tier (config order) when every snapshot has the same categories
    long = pd.concat(frames, ignore_index=True)
    long = long.assign(snapshot_date=long["snapshot_date"].astype("datetime64[s]"))
    return long[["snapshot_date", *[c for c in long.columns if c != "snapshot_date"]]]


def transition_matrix(
    snapshots: pd.DataFrame,
    before: dt.date,
    after: dt.date,
    *,
    value: str = "customers",
    orders: pd.DataFrame | None = None,
    tier_order: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Tier at ``before`` (rows) against tier at ``after`` (columns).

    Parameters
    ----------
    snapshots
        Long table from :func:`build_snapshots`.
    before, after
        Two snapshot dates, ``before`` < ``after``.
    value
        ``"customers"``: number of customers in each cell. ``"revenue"``: net revenue (the clean
        orders' ``revenue``) the customers of each cell earned in ``[before, after)``.
    orders
        Clean orders (customer_id, order_date, revenue); needed for ``value="revenue"``. Orders of
        customers in neither snapshot are not counted.
    tier_order
        Tier names, best first; default: the categories of the categorical ``tier`` column.

    Returns
    -------
    pd.DataFrame
        Rows: the tiers, then :data:`NO_TIER` and :data:`NOT_YET`; columns: the tiers, then
        :data:`NO_TIER` and :data:`LEFT`; every cell filled (int64 counts or float64 revenue).
        Index named ``tier_before``, columns ``tier_after``.

    Raises
    ------
    ValueError
        For an unknown ``value``, a date without a snapshot, ``before`` not before ``after``,
        revenue without orders, or tiers outside ``tier_order``.
    """
    if value not in ("customers", "revenue"):
        raise ValueError(f"value must be 'customers' or 'revenue', got {value!r}")
    if value == "revenue" and orders is None:
        raise ValueError("transition_matrix(value='revenue') needs the clean orders (orders=...)")
    names = _tier_names(snapshots, tier_order)
    pair = _pair(snapshots, before, after, names)
    size = len(names) + 2  # the tiers, no tier, then not yet (rows) or left (columns)
    cell = pair["tier_before"].to_numpy() * size + pair["tier_after"].to_numpy()
    if value == "customers":
        cells = np.bincount(cell, minlength=size * size)
    else:
        spend = _spend(orders, pd.Timestamp(before), pd.Timestamp(after), pair["customer_id"])
        cells = np.bincount(cell, weights=spend, minlength=size * size)
    return pd.DataFrame(
        cells.reshape(size, size).astype("int64" if value == "customers" else "float64"),
        index=pd.Index([*names, NO_TIER, NOT_YET], name="tier_before"),
        columns=pd.Index([*names, NO_TIER, LEFT], name="tier_after"),
    )


def movers(snapshots: pd.DataFrame, before: dt.date, after: dt.date, tier_order: Sequence[str]) -> pd.DataFrame:
    """Customers whose tier changed between two snapshots.

    Only customers with a tier at both dates move; first tiers (from no tier) and customers who left
    are in :func:`transition_matrix`.

    Parameters
    ----------
    snapshots
        Long table from :func:`build_snapshots`.
    before, after
        Two snapshot dates, ``before`` < ``after``.
    tier_order
        Tier names, best first (``tiers.names``).

    Returns
    -------
    pd.DataFrame
        customer_id, tier_before, tier_after (categoricals in ``tier_order``), direction (``up`` =
        to a better tier, ``down``), steps (tiers moved, >= 1). Upward moves first, then by steps
        (largest first) and customer_id.
    """
    names = _tier_names(snapshots, tier_order)
    pair = _pair(snapshots, before, after, names)
    # codes below len(names) are the tiers, best first; no tier, not yet and left never move
    tiered = pair["tier_before"].lt(len(names)) & pair["tier_after"].lt(len(names))
    moved = pair.loc[tiered & pair["tier_before"].ne(pair["tier_after"])]
    shift = moved["tier_before"] - moved["tier_after"]  # > 0: to a better tier
    tier_dtype = pd.CategoricalDtype(names, ordered=True)
    result = pd.DataFrame({
        "customer_id": moved["customer_id"],
        "tier_before": pd.Categorical.from_codes(moved["tier_before"], dtype=tier_dtype),
        "tier_after": pd.Categorical.from_codes(moved["tier_after"], dtype=tier_dtype),
        "direction": np.where(shift > 0, "up", "down"),
        "steps": shift.abs().astype("int64"),
    }, index=moved.index)
    result = result.assign(_down=result["direction"].eq("down"))
    return (
        result.sort_values(["_down", "steps", "customer_id"], ascending=[True, False, True])
        .drop(columns="_down")
        .reset_index(drop=True)
    )


def tier_effect(snapshots: pd.DataFrame, orders: pd.DataFrame, tier_order: Sequence[str]) -> pd.DataFrame:
    """Did the tiers predict what customers did next? Retention and revenue growth per tier.

    For every pair of consecutive snapshot dates ``before`` < ``after`` and every tier at
    ``before``: how many of its customers purchased again in ``[before, after)``, and how their
    net revenue in that period compares with their revenue in the period of the same length just
    before ``before``. A tiering that works shows retention falling from the best tier to the last.
    Growth is expected to be negative for the top tiers (their tier was earned by a strong past
    period, which rarely repeats in full), so compare tiers with each other rather than with zero.

    Parameters
    ----------
    snapshots
        Long table from :func:`build_snapshots` with at least two snapshot dates.
    orders
        Clean orders: customer_id, order_date, status (a purchase is ``completed``), revenue (net),
        and ``refunded_on`` when reversals were matched (a purchase undone on or after ``after``
        still retained its customer then, :func:`custseg.segment.features.purchases_at`).
    tier_order
        Tier names, best first (``tiers.names``).

    Returns
    -------
    pd.DataFrame
        before, after (datetime64[s]), tier (categorical in ``tier_order``), customers, retained
        (int64), retention_rate (retained / customers), revenue (in ``[before, after)``),
        revenue_prior (in ``[before - (after - before), before)``), growth_rate
        (revenue / revenue_prior - 1; NA when revenue_prior is not positive). One row per pair and
        tier, tiers without customers included.
    """
    _require(orders, ("customer_id", "order_date", "status", "revenue"), "orders")
    names = _tier_names(snapshots, tier_order)
    dates = pd.DatetimeIndex(snapshots["snapshot_date"].drop_duplicates().sort_values())
    if len(dates) < 2:
        raise ValueError("tier_effect needs snapshots at two or more dates")
    befores, afters = dates[:-1], dates[1:]
    prior_starts = befores - (afters - befores)
    tiered = snapshots["snapshot_date"].isin(befores) & snapshots["tier"].notna()
    at = snapshots.loc[tiered, ["snapshot_date", "customer_id", "tier"]]
    tier = _tier_codes(at["tier"], names)
    # Customers are numbered once (hashing the id text is the expensive part of any join or
    # group by customer); everything after counts integer codes.
    holder, ids = pd.factorize(at["customer_id"], use_na_sentinel=False)
    # The orders' columns are read as arrays at the rows that count; a frame of the orders in the
    # span would copy millions of rows of text (ids and statuses) only to read them once.
    span = _rows_between(orders, prior_starts.min(), dates[-1])
    buyer = _positions(orders["customer_id"][span], ids)
    held = buyer >= 0  # orders of customers without a tier at any "before" date count nowhere
    rows, buyer = np.flatnonzero(span)[held], buyer[held]
    day = orders["order_date"].to_numpy()[rows]
    revenue = orders["revenue"].to_numpy(dtype="float64", na_value=0.0)[rows]  # as in a sum, a missing revenue adds 0
    # the last date each order still counts as a purchase (a purchase undone later retained its
    # customer in a period that ended before the undoing was known)
    until = purchase_until(orders)[rows]
    # Sorted once, the orders of each window are one slice. Only the window edges matter, so the
    # orders are sorted by how many edges they are past, a small integer (a linear-time sort).
    edges = np.stack([prior_starts.to_numpy(), befores.to_numpy(), afters.to_numpy()])
    bounds = np.unique(edges)
    passed = np.searchsorted(bounds, day, side="right").astype(np.min_scalar_type(len(bounds)))
    order = np.argsort(passed, kind="stable")
    passed, buyer, revenue, until = passed[order], buyer[order], revenue[order], until[order]
    starts, middles, ends = np.searchsorted(passed, np.searchsorted(bounds, edges, side="right"))
    n, k = len(ids), len(names)
    tier_dtype = pd.CategoricalDtype(names, ordered=True)
    rows = []
    for pair, (before, after) in enumerate(zip(befores, afters)):  # a few snapshot pairs, vectorized inside
        mine = at["snapshot_date"].eq(before).to_numpy()
        who, tier_of = holder[mine], tier[mine]
        period, prior = slice(middles[pair], ends[pair]), slice(starts[pair], middles[pair])
        bought = np.bincount(buyer[period][until[period] >= after.to_datetime64()], minlength=n) > 0
        spent = np.bincount(buyer[period], weights=revenue[period], minlength=n)
        spent_prior = np.bincount(buyer[prior], weights=revenue[prior], minlength=n)
        rows.append(pd.DataFrame({
            "before": before,
            "after": after,
            "tier": pd.Categorical.from_codes(np.arange(k), dtype=tier_dtype),
            "customers": np.bincount(tier_of, minlength=k),
            "retained": np.bincount(tier_of[bought[who]], minlength=k),
            "revenue": np.bincount(tier_of, weights=spent[who], minlength=k),
            "revenue_prior": np.bincount(tier_of, weights=spent_prior[who], minlength=k),
        }))
    table = pd.concat(rows, ignore_index=True)
    customers = table["customers"].astype("int64")
    prior = table["revenue_prior"].astype("float64")
    table = table.assign(
        before=table["before"].astype("datetime64[s]"),
        after=table["after"].astype("datetime64[s]"),
        customers=customers,
        retained=table["retained"].astype("int64"),
        retention_rate=table["retained"] / customers.where(customers > 0),
        revenue=table["revenue"].astype("float64"),
        revenue_prior=prior,
        growth_rate=table["revenue"] / prior.where(prior > 0) - 1,
    )
    return table[["before", "after", "tier", "customers", "retained", "retention_rate",
                  "revenue", "revenue_prior", "growth_rate"]]


def _increasing_codes(ids: pd.Series) -> bool:
    """True for categorical ids whose codes rise strictly: in the order a sort would give, with
    no customer twice and none missing. A check of integers, where a sort of text would be slow.
    """
    if not isinstance(ids.dtype, pd.CategoricalDtype):
        return False
    codes = ids.cat.codes.to_numpy()
    return len(codes) == 0 or (codes[0] >= 0 and bool((codes[1:] > codes[:-1]).all()))


def _tier_names(snapshots: pd.DataFrame, tier_order: Sequence[str] | None) -> list[str]:
    """Tier names best first: as given, else the categories of the tier column."""
    _require(snapshots, ("snapshot_date", "customer_id", "tier"), "snapshots")
    if tier_order is None:
        if not isinstance(snapshots["tier"].dtype, pd.CategoricalDtype):
            raise ValueError(
                "the snapshots' tier column is not categorical, so the tier order is unknown: "
                "pass tier_order (the config's tiers.names)"
            )
        tier_order = list(snapshots["tier"].cat.categories)
    names = [str(name) for name in tier_order]
    clash = {NOT_YET, NO_TIER, LEFT} & set(names)
    if clash:
        raise ValueError(f"tiers.names may not use the reserved label(s) {sorted(clash)}")
    return names


def _tier_codes(tiers: pd.Series, names: list[str]) -> np.ndarray:
    """Position of each row's tier (as text) in ``names``; ``len(names)`` where it is missing.

    Works on the few distinct tiers, not on every row.

    Raises
    ------
    ValueError
        When a tier is not one of ``names``.
    """
    if not isinstance(tiers.dtype, pd.CategoricalDtype):
        tiers = tiers.astype("category")
    labels = tiers.cat.categories.astype("str")
    codes = tiers.cat.codes.to_numpy()
    position = pd.Index(names).get_indexer(labels)
    used = np.bincount(codes[codes >= 0], minlength=len(labels)) > 0
    unknown = sorted(labels[used & (position < 0)])
    if unknown:
        raise ValueError(f"the snapshots hold tier(s) {unknown} that are not in tiers.names {names}")
    return np.append(position, len(names))[codes]  # code -1 (no tier) picks the appended len(names)


def _positions(values: pd.Series, ids: pd.Index) -> np.ndarray:
    """Position of each value in ``ids`` (distinct customer ids); -1 where it is not there.

    Hashing the id text is the expensive part of every join by customer, so the ids are hashed
    once and each value is looked up once (of a categorical column, only the categories); the
    rest works on integer codes.
    """
    if isinstance(values.dtype, pd.CategoricalDtype) and _same_categories(values.dtype, ids.dtype):
        # ids numbered with the same categories (as segmentation hands them over): codes are
        # compared, no text is hashed
        position = np.full(len(values.cat.categories) + 1, -1, dtype=np.int64)
        codes = np.asarray(ids.codes)
        position[codes[codes >= 0]] = np.flatnonzero(codes >= 0)  # a missing id matches nothing
        return position[values.cat.codes.to_numpy()]  # code -1 (missing) picks the last, -1
    if isinstance(values.dtype, pd.CategoricalDtype):
        found = _positions(pd.Series(values.cat.categories), ids)
        return np.append(found, -1)[values.cat.codes.to_numpy()]  # code -1 (missing) picks the appended -1
    if isinstance(values.dtype, pd.StringDtype) and isinstance(ids.dtype, pd.StringDtype):
        text, known = pa.array(values), pa.array(ids)
        # lookups wait on memory, not on arithmetic: two halves on two cores take half the time
        halves = [text.slice(0, len(text) // 2), text.slice(len(text) // 2)]
        with ThreadPoolExecutor(max_workers=2) as pool:
            found = list(pool.map(lambda half: pc.index_in(half, value_set=known), halves))
        return pc.fill_null(pa.chunked_array(found), -1).to_numpy()
    # other ids (numbers, objects): one numbering of both, in order of first appearance, so the
    # ids take 0 .. len(ids) - 1 and values not among them larger numbers
    codes, _ = pd.factorize(pd.concat([pd.Series(ids), values], ignore_index=True), use_na_sentinel=False)
    codes = codes[len(ids):]
    return np.where(codes < len(ids), codes, -1)


def _at(snapshots: pd.DataFrame, date: dt.date) -> pd.DataFrame:
    """customer_id and tier of the rows at one snapshot date."""
    stamp = pd.Timestamp(date)
    rows = snapshots.loc[snapshots["snapshot_date"].eq(stamp), ["customer_id", "tier"]]
    if rows.empty:
        available = [d.date().isoformat() for d in pd.DatetimeIndex(snapshots["snapshot_date"].unique()).sort_values()]
        raise ValueError(f"there is no snapshot at {stamp.date().isoformat()}; snapshots exist at {available}")
    return rows


def _pair(snapshots: pd.DataFrame, before: dt.date, after: dt.date, names: list[str]) -> pd.DataFrame:
    """One row per customer in either snapshot: customer_id, tier_before, tier_after.

    Tiers are codes: the position in ``names``, then ``len(names)`` for no tier and
    ``len(names) + 1`` for a customer absent from the snapshot (not yet a customer, or left).
    """
    if pd.Timestamp(before) >= pd.Timestamp(after):
        raise ValueError(f"before ({before}) must be an earlier snapshot date than after ({after})")
    first, second = _at(snapshots, before), _at(snapshots, after)
    # one numbering of both snapshots' ids, so the text of each is hashed once
    codes, ids = pd.factorize(pd.concat([first["customer_id"], second["customer_id"]]), use_na_sentinel=False)
    return pd.DataFrame({
        "customer_id": ids,
        "tier_before": _tiers_by_customer(first["tier"], codes[: len(first)], ids, names, before),
        "tier_after": _tiers_by_customer(second["tier"], codes[len(first):], ids, names, after),
    })


def _tiers_by_customer(
    tiers: pd.Series, customer: np.ndarray, ids: pd.Index, names: list[str], date: dt.date
) -> np.ndarray:
    """Tier code (see :func:`_pair`) of every customer in ``ids``, from one snapshot's rows."""
    rows = np.bincount(customer, minlength=len(ids))
    if (rows > 1).any():
        raise ValueError(f"the snapshot at {pd.Timestamp(date).date().isoformat()} lists customer "
                         f"{ids[np.argmax(rows > 1)]!r} more than once")
    by_customer = np.full(len(ids), len(names) + 1)  # absent: not yet a customer, or left
    by_customer[customer] = _tier_codes(tiers, names)
    return by_customer


def _same_categories(first: object, second: object) -> bool:
    """True when both dtypes are categorical with the same categories in the same order."""
    return (
        isinstance(first, pd.CategoricalDtype) and isinstance(second, pd.CategoricalDtype)
        and first.categories.equals(second.categories)  # the same Index object answers at once
    )


def _rows_between(orders: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> np.ndarray:
    """Boolean per order: dated in [start, end) and naming a customer."""
    when = orders["order_date"]
    return ((when >= start) & (when < end) & orders["customer_id"].notna()).to_numpy(dtype=bool)


def _orders_between(
    orders: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp, columns: tuple[str, ...]
) -> pd.DataFrame:
    """customer_id, order_date and ``columns`` of the orders dated in [start, end) that name a customer."""
    _require(orders, ("customer_id", "order_date", *columns), "orders")
    return orders.loc[_rows_between(orders, start, end), ["customer_id", "order_date", *columns]]


def _spend(orders: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp, customers: pd.Series) -> np.ndarray:
    """Net revenue of each of ``customers`` (distinct ids) from the orders dated in [start, end)."""
    window = _orders_between(orders, start, end, ("revenue",))
    buyer = _positions(window["customer_id"], pd.Index(customers))
    revenue = window["revenue"].to_numpy(dtype="float64", na_value=0.0)  # as in a sum, a missing revenue adds 0
    held = buyer >= 0  # orders of customers in neither snapshot are not counted
    return np.bincount(buyer[held], weights=revenue[held], minlength=len(customers))


def _require(frame: pd.DataFrame, columns: tuple[str, ...], name: str) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(f"the {name} table has no column(s) {missing}")
