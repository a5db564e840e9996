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

import numpy as np
import pandas as pd

from custseg.config import Snapshots

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
        if table["customer_id"].duplicated().any():
            first = table.loc[table["customer_id"].duplicated(), "customer_id"].iloc[0]
            raise ValueError(f"the classification at {date.isoformat()} lists customer {first!r} more than once")
        kept = [column for column in SNAPSHOT_COLUMNS if column in table.columns]
        frames.append(table[kept].assign(snapshot_date=pd.Timestamp(date)))
    # concat keeps a categorical tier (config order) when every snapshot has the same categories
    long = pd.concat(frames, ignore_index=True)
    long = long.assign(snapshot_date=long["snapshot_date"].astype("datetime64[s]"))
    columns = ["snapshot_date", *[c for c in long.columns if c != "snapshot_date"]]
    return long[columns].sort_values(["snapshot_date", "customer_id"], ignore_index=True)


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
    rows = [*names, NO_TIER, NOT_YET]
    columns = [*names, NO_TIER, LEFT]
    if value == "customers":
        cells = pair.groupby(["tier_before", "tier_after"]).size()
        fill: float = 0
    else:
        spend = _revenue(orders, pd.Timestamp(before), pd.Timestamp(after))
        pair = pair.assign(revenue=pair["customer_id"].map(spend).fillna(0.0))
        cells = pair.groupby(["tier_before", "tier_after"])["revenue"].sum()
        fill = 0.0
    matrix = cells.unstack(fill_value=fill).reindex(index=rows, columns=columns, fill_value=fill)
    matrix = matrix.astype("int64" if value == "customers" else "float64")
    matrix.index.name, matrix.columns.name = "tier_before", "tier_after"
    return matrix


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
    rank = {name: position for position, name in enumerate(names)}
    # labels outside the tier names (no tier, not yet, left) map to NaN and drop out below
    rank_before = pair["tier_before"].map(rank)
    rank_after = pair["tier_after"].map(rank)
    moved = pair.assign(shift=rank_before - rank_after).loc[lambda f: f["shift"].notna() & f["shift"].ne(0)]
    tier_dtype = pd.CategoricalDtype(names, ordered=True)
    result = pd.DataFrame({
        "customer_id": moved["customer_id"],
        "tier_before": moved["tier_before"].astype(tier_dtype),
        "tier_after": moved["tier_after"].astype(tier_dtype),
        "direction": np.where(moved["shift"] > 0, "up", "down"),
        "steps": moved["shift"].abs().astype("int64"),
    })
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
        Clean orders: customer_id, order_date, status (a purchase is ``completed``), revenue (net).
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
    tier_dtype = pd.CategoricalDtype(names, ordered=True)
    rows = []
    for before, after in zip(dates[:-1], dates[1:]):  # a few snapshot pairs, vectorized inside
        at = snapshots.loc[snapshots["snapshot_date"].eq(before) & snapshots["tier"].notna(), ["customer_id", "tier"]]
        _check_tiers(at["tier"], names)
        prior_start = before - (after - before)
        period = _window(orders, before, after)
        bought = period.loc[period["status"].eq("completed"), "customer_id"].unique()
        at = at.assign(
            tier=at["tier"].astype(tier_dtype),
            retained=at["customer_id"].isin(bought),
            revenue=at["customer_id"].map(period.groupby("customer_id")["revenue"].sum()).fillna(0.0),
            revenue_prior=at["customer_id"].map(_revenue(orders, prior_start, before)).fillna(0.0),
        )
        summary = at.groupby("tier", observed=False).agg(
            customers=("customer_id", "size"),
            retained=("retained", "sum"),
            revenue=("revenue", "sum"),
            revenue_prior=("revenue_prior", "sum"),
        )
        rows.append(summary.reset_index().assign(before=before, after=after))
    table = pd.concat(rows, ignore_index=True)
    customers = table["customers"].astype("int64")
    prior = table["revenue_prior"].astype("float64")
    table = table.assign(
        before=table["before"].astype("datetime64[s]"),
        after=table["after"].astype("datetime64[s]"),
        tier=table["tier"].astype(tier_dtype),
        customers=customers,
        retained=table["retained"].astype("int64"),
        retention_rate=table["retained"] / customers.where(customers > 0),
        revenue=table["revenue"].astype("float64"),
        revenue_prior=prior,
        growth_rate=table["revenue"] / prior.where(prior > 0) - 1,
    )
    return table[["before", "after", "tier", "customers", "retained", "retention_rate",
                  "revenue", "revenue_prior", "growth_rate"]]


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


def _check_tiers(tiers: pd.Series, names: list[str]) -> None:
    unknown = sorted(set(tiers.dropna().astype(str)) - set(names))
    if unknown:
        raise ValueError(f"the snapshots hold tier(s) {unknown} that are not in tiers.names {names}")


def _at(snapshots: pd.DataFrame, date: dt.date) -> pd.DataFrame:
    """customer_id and tier label at one snapshot date (NO_TIER where the tier is missing)."""
    stamp = pd.Timestamp(date)
    rows = snapshots.loc[snapshots["snapshot_date"].eq(stamp), ["customer_id", "tier"]]
    if rows.empty:
        available = [d.date().isoformat() for d in pd.DatetimeIndex(snapshots["snapshot_date"].unique()).sort_values()]
        raise ValueError(f"there is no snapshot at {stamp.date().isoformat()}; snapshots exist at {available}")
    return rows.assign(tier=rows["tier"].astype("str").where(rows["tier"].notna(), NO_TIER))


def _pair(snapshots: pd.DataFrame, before: dt.date, after: dt.date, names: list[str]) -> pd.DataFrame:
    """One row per customer in either snapshot: customer_id, tier_before, tier_after (labels)."""
    if pd.Timestamp(before) >= pd.Timestamp(after):
        raise ValueError(f"before ({before}) must be an earlier snapshot date than after ({after})")
    first, second = _at(snapshots, before), _at(snapshots, after)
    _check_tiers(first["tier"].where(first["tier"].ne(NO_TIER)), names)
    _check_tiers(second["tier"].where(second["tier"].ne(NO_TIER)), names)
    pair = first.merge(second, on="customer_id", how="outer", suffixes=("_before", "_after"), validate="one_to_one")
    return pair.assign(
        tier_before=pair["tier_before"].fillna(NOT_YET),
        tier_after=pair["tier_after"].fillna(LEFT),
    )


def _window(orders: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """Orders dated in [start, end)."""
    return orders.loc[(orders["order_date"] >= start) & (orders["order_date"] < end)]


def _revenue(orders: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> pd.Series:
    """Net revenue per customer_id from orders dated in [start, end)."""
    _require(orders, ("customer_id", "order_date", "revenue"), "orders")
    return _window(orders, start, end).groupby("customer_id")["revenue"].sum()


def _require(frame: pd.DataFrame, columns: tuple[str, ...], name: str) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(f"the {name} table has no column(s) {missing}")
