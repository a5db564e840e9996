"""The clean tables as aligned numpy arrays, coded by customer, and the array helpers they use.

:func:`custseg.segment.features.prepare` turns the orders, interactions and feedback into these
arrays once (the orders sorted by customer and time, with the gaps between visits); the feature
kernels (:mod:`custseg.segment._kernels`) then read any date's features off them without a sort or
a loop per customer. Days are calendar days since 1970-01-01; whole cents make every sum exact.

Private to :mod:`custseg.segment`: :mod:`custseg.segment.features` is its front and re-exports
the table vocabulary defined here (the statuses, the unspecified channel and category,
:func:`channel_slug`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from custseg.segment._idcode import BLOCK, CODE, encode

#: The only status that is a purchase; a refund or return never is. A ``refunded`` order with a
#: ``refunded_on`` day (a matched reversal undid it, :mod:`custseg.intake.reversals`) was a purchase
#: before that day: at any earlier date it counts as completed (see
#: :func:`custseg.segment.features.purchases_at`).
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
#: Channel of interactions that name none (its columns are interactions_unspecified_<N>d).
UNSPECIFIED = "unspecified"
#: Orders without a category column are all in this category, as intake fills an empty one.
UNSPECIFIED_CATEGORY = "Unspecified"

SECONDS_PER_DAY = 86_400
INT64_MAX = np.iinfo(np.int64).max
NAT = np.iinfo(np.int64).min  # NaT as int64, and "no value" in day arrays
_TICKS_PER_SECOND = {"ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}
# Rows per block of revenue sums (:func:`block_sums`): few blocks, each with a result of
# customers (x categories) to add, and temporaries of a fifth of ten million rows.
_SUM_BLOCK = 1 << 21
_DATE_COLUMNS = {"orders": "order_date", "customers": "signup_date", "interactions": "interaction_date",
                 "feedback": "feedback_date"}


def channel_slug(channel: str) -> str:
    """The part of a column name that names an interaction channel.

    Lower-case; every run of characters other than letters and digits becomes one ``_``, and
    leading or trailing ones are dropped ("E-Mail " -> "e_mail"). Letters of any script stay
    ("电话" stays "电话"), so channels written in Chinese keep distinct columns. A channel with
    no letters or digits at all is ``unspecified``.
    """
    slug = re.sub(r"[\W_]+", "_", str(channel).lower()).strip("_")
    return slug or UNSPECIFIED


def column_seconds(frame: pd.DataFrame, table: str, column: str, *, required: bool) -> np.ndarray:
    """A datetime column as int64 seconds since 1970; NaT as the int64 minimum."""
    values = frame[column]
    if not pd.api.types.is_datetime64_dtype(values.dtype):
        raise ValueError(f"{table} table: column {column!r} must hold datetimes (tz-naive), got dtype {values.dtype}")
    stamps = values.to_numpy()
    unit = np.datetime_data(stamps.dtype)[0]
    if unit in _TICKS_PER_SECOND:
        # The ticks floor-divided into seconds, as numpy's cast to seconds (which also rounds
        # toward the past), but without its per-value checks (Parquet gives milliseconds;
        # docs/performance.md).
        ticks = stamps.view(np.int64)
        missing = ticks == NAT
        seconds = ticks // _TICKS_PER_SECOND[unit]
        if missing.any():
            seconds[missing] = NAT
    else:
        seconds = stamps.astype("datetime64[s]").view(np.int64)
        missing = seconds == NAT
    if required and missing.any():
        raise ValueError(f"{table} table: column {column!r} has {int(missing.sum()):,} missing dates")
    return seconds


def matches(codes: np.ndarray, uniques: pd.api.extensions.ExtensionArray, accepted: tuple[str, ...]) -> np.ndarray:
    """Boolean per row: its value is one of ``accepted`` (missing is not).

    Tests the few distinct values instead of every row; code -1 picks the appended False.
    """
    hit = np.r_[pd.Series(uniques, dtype="str").isin(accepted).to_numpy(dtype=bool, na_value=False), False]
    return hit[codes]


def sorted_text_codes(values: pd.Series, missing: str) -> tuple[np.ndarray, pd.api.extensions.ExtensionArray]:
    """Codes in sorted order of the text, with missing values read as ``missing``."""
    codes, uniques = encode(values)
    # ``missing`` is appended last, so code -1 maps to it; merging also folds it into an
    # existing equal value
    remap, names = pd.factorize(pd.array([*uniques, missing], dtype="str"), sort=True)
    return remap.astype(CODE)[codes], names


@dataclass(frozen=True)
class OrderArrays:
    """Orders as aligned numpy arrays: what :func:`custseg.segment.features.prepare` derives the
    prepared arrays from."""

    seconds: np.ndarray  # order timestamp
    day: np.ndarray  # calendar day number
    purchase: np.ndarray  # completed
    returned: np.ndarray  # refunded or returned
    returned_day: np.ndarray  # the day a return counts from: its refund day when known, else its own
    cents: np.ndarray  # net revenue in whole cents, 0 unless completed, returned, a reversal or dated refund
    category: np.ndarray  # category code, in sorted category order
    categories: pd.api.extensions.ExtensionArray
    code: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=CODE))  # customer code
    # Purchases a matched reversal undid later (refunded, with a refund day): their rows and the
    # last cutoff day at which each still counts. Positions, not masks: usually few or none, and
    # ten million rows of masks would add to the peak for nothing.
    undone: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    undone_until: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=CODE))

    @classmethod
    def of(cls, orders: pd.DataFrame, *, categories: bool = True) -> OrderArrays:
        """The arrays of all orders, without customer codes (set ``code`` afterwards).

        With `categories` False every order is put in one category, unread.
        """
        seconds = column_seconds(orders, "orders", "order_date", required=True)
        day = (seconds // SECONDS_PER_DAY).astype(CODE)
        status_codes, statuses = encode(orders["status"])
        net = matches(status_codes, statuses, NET_STATUSES)
        returned_day = day
        undone, until = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=CODE)
        if REFUNDED_ON in orders:
            refund = column_seconds(orders, "orders", REFUNDED_ON, required=False)
            undone = np.flatnonzero(matches(status_codes, statuses, (REFUNDED_STATUS,)) & (refund != NAT))
        if undone.size:
            # at cutoff c (data strictly before c) a refund on day u is known when u < c: the
            # purchase counts while c <= u, and its revenue counts (its reversal nets it)
            until = (refund[undone] // SECONDS_PER_DAY).astype(CODE)
            returned_day = day.copy()
            returned_day[undone] = until
            net[undone] = True
        revenue = orders["revenue"].to_numpy(dtype="float64", na_value=np.nan)
        if np.isnan(revenue[net]).any():
            raise ValueError("orders table: column 'revenue' is missing on completed or returned orders")
        if categories and "category" in orders:
            category, names = sorted_text_codes(orders["category"], UNSPECIFIED_CATEGORY)
        else:
            category, names = np.zeros(len(orders), dtype=CODE), pd.array([UNSPECIFIED_CATEGORY], dtype="str")
        return cls(
            seconds=seconds,
            day=day,
            purchase=matches(status_codes, statuses, (PURCHASE_STATUS,)),
            returned=matches(status_codes, statuses, RETURN_STATUSES),
            returned_day=returned_day,
            cents=whole_cents(revenue, net),
            category=category,
            categories=names,
            undone=undone,
            undone_until=until,
        )

    def purchases_at(self, cutoff: int, past: np.ndarray) -> np.ndarray:
        """Which rows are purchases at a cutoff day (the rule of
        :func:`custseg.segment.features.purchase_until`, on the arrays): completed ones before it,
        and those undone only on or after it. `past` is ``day < cutoff``, which the caller has
        made already."""
        bought = self.purchase & past
        live = (self.day[self.undone] < cutoff) & (self.undone_until >= cutoff)
        bought[self.undone[live]] = True
        return bought


@dataclass(frozen=True)
class Revenue:
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
    def of(cls, orders: OrderArrays, n: int) -> Revenue:
        moves = orders.cents != 0
        code = orders.code[moves]
        width = len(orders.categories)
        # int32 cells while customers x categories fit, as they do for up to 2**31 cells
        cell = code.astype(CODE if n * width < 2**31 else np.int64) * width
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
class Purchases:
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
    def of(cls, orders: OrderArrays, n: int) -> Purchases:
        """The purchases that stand at every date: the completed orders (undone ones are apart)."""
        return cls.sorted(orders.code[orders.purchase], orders.day[orders.purchase], orders.seconds[orders.purchase], n)

    def with_extra(self, code: np.ndarray, seconds: np.ndarray, n: int) -> Purchases:
        """These purchases and some more (``code``, ``seconds``), sorted and with their gaps."""
        positions = np.arange(len(self.key))
        day = (self.key % self.span).astype(np.int64) + self.base
        return Purchases.sorted(
            np.concatenate([(self.key // self.span).astype(CODE), code.astype(CODE)]),
            np.concatenate([day, seconds // SECONDS_PER_DAY]).astype(CODE),
            np.concatenate([self.times(positions), seconds]),
            n,
        )

    @classmethod
    def sorted(cls, code: np.ndarray, day: np.ndarray, seconds: np.ndarray, n: int) -> Purchases:
        """Purchases given by customer code, day and time (any order), sorted with their gaps."""
        base = int(day.min()) if day.size else 0
        span = int(day.max()) - base + 2 if day.size else 2
        # int32 keys while customers x days fit, as they do for a million customers over five years
        key_type = np.int32 if n * span < 2**31 else np.int64
        if whole_days(seconds, day):
            # Orders dated by the day alone, as most exports are: their (customer, day) keys are
            # their (customer, time) order, and sorting those (32 bits for a million customers)
            # is faster than sorting 64-bit times. Code, day and time are read back off them.
            key = day_keys(code, day, span, base, key_type)
            key.sort()
            code, day = np.divmod(key, key_type(span))
            day += base
            seconds = None  # the keys' days are the times: no array of them is kept
        else:
            code, seconds = sort_rows(code, seconds)
            day = seconds // SECONDS_PER_DAY
            key = day_keys(code, day, span, base, key_type)
        # A purchase on a later day than the customer's previous purchase opens a visit; the gap
        # back to the previous visit is the step from the previous purchase's day, as purchases
        # are in (customer, time) order. No array of visits is needed.
        step = np.diff(day)
        opens = (step > 0) & (code[1:] == code[:-1])
        gap_code, gap, gap_day = code[1:][opens], step[opens], day[1:][opens]
        del code, step, opens
        _, median_gap, median_day = sort_rows(gap_code, gap, gap_day)
        gap_key = day_keys(gap_code, gap_day, span, base, key_type)
        firsts = np.arange(n, dtype=key_type) * span
        return cls(
            seconds=seconds, key=key, start=np.searchsorted(key, firsts), gap=gap.astype(CODE), gap_key=gap_key,
            gap_start=np.searchsorted(gap_key, firsts), median_gap=median_gap.astype(CODE),
            median_day=median_day.astype(CODE), base=base, span=span,
        )

    def times(self, positions: np.ndarray) -> np.ndarray:
        """The purchase times (int64 seconds) at positions of the sorted purchases."""
        if self.seconds is not None:
            return self.seconds[positions]
        day = self.key[positions] % self.span  # the key is code * span + day - base
        return (day.astype(np.int64) + self.base) * SECONDS_PER_DAY

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
class Undone:
    """Purchases that a matched reversal undid on a later day: each counts at cutoffs from the
    day after its purchase up to its refund day. Usually a small share of the orders."""

    code: np.ndarray
    seconds: np.ndarray
    day: np.ndarray
    until: np.ndarray

    @classmethod
    def of(cls, orders: OrderArrays) -> Undone:
        rows = orders.undone
        return cls(code=orders.code[rows], seconds=orders.seconds[rows], day=orders.day[rows],
                   until=orders.undone_until)

    def live(self, cutoff: int) -> np.ndarray:
        """Which of them are purchases at the cutoff (bought before it, undone on or after it)."""
        return (self.day < cutoff) & (self.until >= cutoff)


@dataclass(frozen=True)
class Contacts:
    """Interactions as arrays: customer code, day and channel (coded in sorted slug order)."""

    code: np.ndarray
    day: np.ndarray
    channel: np.ndarray | None  # None without a channel column
    slugs: np.ndarray
    present: np.ndarray  # channel codes that occur in the table

    @classmethod
    def of(cls, interactions: pd.DataFrame, codes: np.ndarray) -> Contacts:
        day = column_seconds(interactions, "interactions", "interaction_date", required=True) // SECONDS_PER_DAY
        if "channel" not in interactions:
            return cls(code=codes, day=day, channel=None, slugs=np.zeros(0, dtype=object),
                       present=np.zeros(0, np.int64))
        raw, spellings = encode(interactions["channel"])
        # a missing channel (code -1) picks the appended last slug: unspecified
        slug_codes, slugs = pd.factorize(np.array([*map(channel_slug, spellings), UNSPECIFIED], dtype=object),
                                         sort=True)
        channel = slug_codes[raw]
        # The channels of the whole table, not only of the past rows, so that snapshots at
        # different dates have the same columns.
        return cls(code=codes, day=day, channel=channel, slugs=slugs, present=np.unique(channel))


@dataclass(frozen=True)
class Scores:
    """One score column's answers sorted by (customer, time, score descending)."""

    code: np.ndarray
    day: np.ndarray
    score: np.ndarray

    @classmethod
    def of(cls, codes: np.ndarray, seconds: np.ndarray, scores: np.ndarray) -> Scores:
        valid = ~np.isnan(scores)
        code, stamp, score = codes[valid], seconds[valid], scores[valid]
        # Two scores with the same timestamp are ordered lowest last, so the latest is the lower
        # one: a detractor answer is never hidden behind a same-day promoter answer, and the
        # result does not depend on row order.
        order = np.lexsort((-score, stamp, code))
        return cls(code=code[order], day=stamp[order] // SECONDS_PER_DAY, score=score[order])


@dataclass(frozen=True)
class Answers:
    """Feedback as arrays: every answer's customer and day, and the two score columns."""

    code: np.ndarray
    day: np.ndarray
    satisfaction: Scores
    nps: Scores

    @classmethod
    def of(cls, feedback: pd.DataFrame, codes: np.ndarray) -> Answers:
        seconds = column_seconds(feedback, "feedback", "feedback_date", required=True)
        return cls(
            code=codes,
            day=seconds // SECONDS_PER_DAY,
            satisfaction=Scores.of(codes, seconds, _scores(feedback, "satisfaction")),
            nps=Scores.of(codes, seconds, _scores(feedback, "nps")),
        )


def _scores(feedback: pd.DataFrame, column: str) -> np.ndarray:
    """A score column as float64 with NaN for missing; all NaN when the column is absent."""
    if column not in feedback:
        return np.full(len(feedback), np.nan)
    return feedback[column].to_numpy(dtype="float64", na_value=np.nan)


def whole_cents(revenue: np.ndarray, counted: np.ndarray) -> np.ndarray:
    """Revenue in whole cents (float64) where `counted`, else 0.

    Whole cents make every sum exact, so results do not depend on the row order. In place on
    one array: np.round with its temporaries costs much more on ten million rows.
    """
    cents = revenue * 100.0
    cents[~counted] = 0.0
    return np.rint(cents, out=cents)


def first_days(frames: Mapping[str, pd.DataFrame], codes: Mapping[str, np.ndarray], n: int) -> np.ndarray:
    """Per code, the first day of any dated row of any table; ``NAT`` when no row is dated.

    A customer exists at a date when this day lies before it; ``NAT`` is below every day, so a
    customer known only from undated customer-table rows exists at every date.
    """
    first = np.full(n, INT64_MAX, dtype=np.int64)
    for name, frame in frames.items():
        column = _DATE_COLUMNS[name]
        if column not in frame:
            continue
        seconds = column_seconds(frame, name, column, required=False)
        has_date = seconds != NAT
        np.minimum.at(first, codes[name][has_date], seconds[has_date] // SECONDS_PER_DAY)
    first[first == INT64_MAX] = NAT
    return first



def whole_days(seconds: np.ndarray, day: np.ndarray) -> bool:
    """True when every time is midnight: the time is its day number in seconds."""
    # a block at a time: temporaries of ten million rows would cost more than the comparison
    for start in range(0, len(day), BLOCK):
        midnight = day[start:start + BLOCK].astype(np.int64)
        midnight *= SECONDS_PER_DAY
        if not np.array_equal(midnight, seconds[start:start + BLOCK]):
            return False
    return True


def day_keys(code: np.ndarray, day: np.ndarray, span: int, base: int, dtype: type) -> np.ndarray:
    """``code * span + day - base`` per row as `dtype`, built in place (one new array, not four).

    The base is taken off before the day is added, so no step exceeds the largest key.
    """
    key = code.astype(dtype)
    key *= span
    key -= base
    key += day
    return key



def sums(codes: np.ndarray, weights: np.ndarray, size: int) -> np.ndarray:
    """Float64 sums of ``weights`` per code, for codes 0 .. size - 1."""
    # np.bincount returns int64 when there are no rows at all
    return np.bincount(codes, weights=weights, minlength=size).astype(np.float64, copy=False)


def block_sums(
    size: int, rows: int, part: Callable[[slice], tuple[np.ndarray, np.ndarray]],
) -> np.ndarray:
    """Float64 sums per code 0 .. size - 1 of (codes, weights) = ``part(rows)``, added up a
    block of rows at a time.

    On ten million rows, the codes, weights and the copy np.bincount makes of int32 codes would
    otherwise be temporaries as large as several columns (docs/performance.md). The weights here
    are whole cents, which float64 adds exactly in any order: the blocks do not change the sums.
    """
    total = np.zeros(size)
    for start in range(0, rows, _SUM_BLOCK):
        codes, weights = part(slice(start, start + _SUM_BLOCK))
        total += np.bincount(codes, weights=weights, minlength=size)
    return total


def int_array(values: np.ndarray, missing: np.ndarray) -> pd.arrays.IntegerArray:
    """A nullable Int64 array: ``values`` where not ``missing``."""
    return pd.arrays.IntegerArray(np.where(missing, 0, values).astype(np.int64), missing.copy())


def sort_rows(*columns: np.ndarray) -> list[np.ndarray]:
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
    # sorted order: timsort ("stable") merges those in a few passes, much faster than
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


def group_bounds(sorted_codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First and last position of each run of equal values in a sorted, non-empty array."""
    change = np.flatnonzero(sorted_codes[1:] != sorted_codes[:-1]) + 1
    return np.r_[0, change], np.r_[change - 1, sorted_codes.size - 1]
