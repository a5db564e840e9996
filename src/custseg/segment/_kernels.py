"""The feature kernels: one customer table's columns at a cutoff day, read off the prepared arrays.

Each kernel takes arrays of :mod:`custseg.segment._arrays` (sorted once for every date) and the
cutoff day (the observation date as a day number; only rows before it count), and returns columns
aligned to customer codes: purchases (recency, frequency, monetary, cadence, the 90-day windows),
interactions, feedback and the top category. Counts and sums are ``np.bincount`` on codes.

Private to :mod:`custseg.segment`: :func:`custseg.segment.features.features_at` is its front.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from custseg.segment._arrays import (
    INT64_MAX,
    NAT,
    SECONDS_PER_DAY,
    Answers,
    Contacts,
    Purchases,
    Revenue,
    Scores,
    block_sums,
    column_seconds,
    group_bounds,
    int_array,
    sums,
)

#: Length of the recent window and of the window before it (orders_90d, orders_prev_90d, ...).
TREND_WINDOW_DAYS = 90
#: Interaction counting windows, in days before the observation date.
INTERACTION_WINDOWS = (30, 90, 365)
#: The purchase features, in the column order of the customer table.
PURCHASE_FEATURES = [
    "recency_days", "frequency", "monetary", "aov", "first_order", "last_order", "tenure_days",
    "cadence_days", "last_gap_days", "orders_90d", "orders_prev_90d", "revenue_90d",
    "revenue_prev_90d", "trend_90d", "refunded_orders", "return_rate",
]
# Above this many (customer, category) cells, category revenue is summed over sorted pairs
# instead of a dense customers x categories array (8 bytes a cell: 400 MB at this limit).
_DENSE_CELLS = 50_000_000


def customer_attributes(
    customers: pd.DataFrame, codes: np.ndarray, n: int,
) -> tuple[dict[str, object], np.ndarray | None]:
    """Customer-table columns aligned to customer codes (missing for customers not in it).

    Also returns the sign-up day per code (``NAT`` when unknown), or None without a
    signup_date column.
    """
    position = np.full(n, -1, dtype=np.int64)
    position[codes] = np.arange(len(codes))
    columns = {
        name: pd.api.extensions.take(customers[name].array, position, allow_fill=True)
        for name in customers.columns if name not in ("customer_id", "source_row", "source_file", "source_sheet")
    }
    clash = sorted(set(columns) & {*PURCHASE_FEATURES, "top_category", "top_category_share"})
    if clash:
        raise ValueError(f"customers table: column {clash[0]!r} has the name of a computed feature; rename it")
    signup = None
    if "signup_date" in customers:
        seconds = column_seconds(customers, "customers", "signup_date", required=False)
        signup = np.full(n, NAT, dtype=np.int64)
        known = seconds != NAT
        signup[codes[known]] = seconds[known] // SECONDS_PER_DAY
    return columns, signup


def purchase_features(
    revenue: Revenue, purchases: Purchases, n: int, cutoff: int, signup: np.ndarray | None, *, full: bool = True,
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
        cents = block_sums(4 * n, len(revenue.day), lambda rows: (
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
        monetary = block_sums(n, len(revenue.day), lambda rows: (
            revenue.code(rows), np.where(revenue.day[rows] < cutoff, revenue.cents[rows], 0.0),
        )) / 100.0

    first, last, cadence, last_gap, has_gap = _purchase_timing(purchases, n, cutoff)
    bought = frequency > 0
    start = np.where(bought, first // SECONDS_PER_DAY, INT64_MAX)
    if signup is not None:
        # A sign-up on or after the observation date is the future and does not count.
        usable = (signup != NAT) & (signup < cutoff)
        start = np.where(usable, np.minimum(start, signup), start)
    has_start = start != INT64_MAX
    columns = {
        "recency_days": int_array(cutoff - last // SECONDS_PER_DAY, ~bought),
        "frequency": frequency,
        "monetary": monetary,
        "first_order": np.where(bought, first, NAT).view("datetime64[s]"),
        "last_order": np.where(bought, last, NAT).view("datetime64[s]"),
        "tenure_days": int_array(cutoff - np.where(has_start, start, cutoff), ~has_start),
        "cadence_days": cadence,
        "last_gap_days": int_array(last_gap, ~has_gap),
        **extra,
    }
    # the column order of the customer table
    return {name: columns[name] for name in PURCHASE_FEATURES if name in columns}


def _window_cells(code: np.ndarray, day: np.ndarray, cutoff: int) -> np.ndarray:
    """``code * 4 + window`` per row, windows as in :func:`purchase_features`."""
    cell = code * np.int64(4)  # int64 from the int32 codes in the same pass
    # in place: on ten million rows every temporary array costs time
    cell += day >= cutoff - 2 * TREND_WINDOW_DAYS
    cell += day >= cutoff - TREND_WINDOW_DAYS
    cell += day >= cutoff
    return cell


def _purchase_timing(purchases: Purchases, n: int, cutoff: int) -> tuple[np.ndarray, ...]:
    """First and last purchase time, median gap and last gap between purchase days, per code.

    Everything is read off the arrays :class:`Purchases` sorted once: the purchases before the
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


def interaction_features(contacts: Contacts, n: int, cutoff: int) -> dict[str, object]:
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
    latest = np.full(n, NAT, dtype=np.int64)
    np.maximum.at(latest, code, day)
    never = latest == NAT
    columns["last_interaction_days"] = int_array(cutoff - np.where(never, cutoff, latest), never)
    return columns


def feedback_features(answers: Answers, n: int, cutoff: int) -> dict[str, object]:
    """Count of responses, satisfaction mean, latest and trend, latest NPS and its class."""
    columns: dict[str, object] = {"feedback_count": np.bincount(answers.code[answers.day < cutoff], minlength=n)}

    count, total, latest = _latest_scores(answers.satisfaction, n, cutoff)
    with np.errstate(invalid="ignore", divide="ignore"):  # no scores -> NaN; one score -> no trend
        columns["satisfaction_mean"] = total / count
        columns["satisfaction_latest"] = latest
        columns["satisfaction_trend"] = np.where(count > 1, latest - (total - latest) / (count - 1), np.nan)

    count, _, latest = _latest_scores(answers.nps, n, cutoff)
    scored = count > 0
    columns["nps_latest"] = int_array(np.where(scored, latest, 0).astype(np.int64), ~scored)
    kind = np.select([latest >= 9, latest >= 7], ["promoter", "passive"], "detractor").astype(object)
    columns["nps_class"] = pd.array(np.where(scored, kind, None), dtype="str")
    return columns


def _latest_scores(scores: Scores, n: int, cutoff: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per code: number and sum of the scores before the date, and the latest score (NaN if none)."""
    past = scores.day < cutoff
    code, score = scores.code[past], scores.score[past]
    count = np.bincount(code, minlength=n)
    total = sums(code, score, n)
    latest = np.full(n, np.nan)
    if code.size:  # sorted by (code, time, score descending): the run's last row is the latest
        _, ends = group_bounds(code)
        latest[code[ends]] = score[ends]
    return count, total, latest


def category_cents(revenue: Revenue, width: int, n: int, cutoff: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(customer code, category code, net cents) of every pair with non-zero net revenue before the cutoff.

    Sorted by customer code, then category code (which is sorted category order).
    """
    past = revenue.day < cutoff
    cell, cents = (revenue.cell, revenue.cents) if past.all() else (revenue.cell[past], revenue.cents[past])
    if n * width <= _DENSE_CELLS:
        cents = sums(cell, cents, n * width)
        cells = np.flatnonzero(cents)
        cents = cents[cells]
    else:
        cells, inverse = np.unique(cell, return_inverse=True)
        cents = sums(inverse, cents, len(cells))
        nonzero = cents != 0
        cells, cents = cells[nonzero], cents[nonzero]
    pair_code, pair_cat = np.divmod(cells, width)
    return pair_code, pair_cat, cents


def top_category(
    revenue: Revenue, categories: pd.api.extensions.ExtensionArray, n: int, cutoff: int,
) -> dict[str, object]:
    """The category with the largest net revenue per customer and its share of positive revenue.

    Ties go to the category first in sorted order. Customers without positive revenue have none.
    """
    width = len(categories)
    top = np.full(n, -1, dtype=np.int64)
    share = np.full(n, np.nan)
    if n * width <= _DENSE_CELLS:
        cents = block_sums(n * width, len(revenue.day), lambda rows: (  # later rows add nothing
            revenue.cell[rows], np.where(revenue.day[rows] < cutoff, revenue.cents[rows], 0.0),
        )).reshape(n, width)
        best = cents.argmax(axis=1)  # the first maximum: ties go to the first category
        best_cents = cents[np.arange(n), best]
        positive = np.maximum(cents, 0.0, out=cents).sum(axis=1)
        won = best_cents > 0
        top[won] = best[won]
        share[won] = best_cents[won] / positive[won]
    else:
        pair_code, pair_cat, cents = category_cents(revenue, width, n, cutoff)
        positive = sums(pair_code, np.clip(cents, 0.0, None), n)
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


