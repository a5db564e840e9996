"""Reversals matched to the purchases they undo.

Real exports do not say which purchase a cancellation or return reverses. An online shop's
cancellation invoice usually carries a number of its own ("C" + a new number, not "C" + the number
of the invoice it cancels), shops cancel and reissue (with the cancellation minutes *before* the
new invoice), and orders exports write a return as a second row with a negative amount. Left
unmatched, a reversal is only netted against the customer's spend: the purchase it undoes still
counts as a purchase, so a customer whose one huge order was cancelled the same day looks like a
repeat buyer worth a fortune.

The rule (``cleaning.reversal_window_days``, 90 by default):

* A **reversal** is a line of a line-item export whose invoice starts with
  ``cleaning.cancel_prefix``, or whose quantity or amount is below zero; in an orders table, a row
  with a negative amount.
* Line items: a reversal line undoes purchase lines of the **same customer and item**; first
  within the invoice it names, when its number is the prefix plus the number of an invoice of the
  same customer (``C536379`` of ``536379``); then lines of the **same quantity** (a whole line
  undone), the earliest unmatched purchase first, within the window either side of the reversal;
  then what is left of it, unit by unit, from the earliest purchases with units left in the
  window. Orders tables: a negative row undoes a completed order of the same customer, currency
  and amount, the earliest unmatched one first within the window.
* A purchase whose every counted line is undone is **refunded**: not a purchase from the date of
  the reversal that completes it (``refunded_on``), and still one at any date before it, so a
  snapshot taken in between does not look ahead. A purchase undone in part stays a purchase;
  the reversal is netted against its value.
* What matches nothing is a **return** netted against the customer's spend, as before.

The matching itself (:func:`greedy_match`) is vectorised: reversals are taken in rounds, the
k-th reversal of every group in round k, so the work is one pass over the rows plus a round per
reversal of the busiest group, and no loop runs per row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

#: How a reversal line or row ended, in the order the data-quality page lists them.
OUTCOMES = ("matched_in_full", "matched_in_part", "not_matched")

#: Columns of ``reversal_matches.csv``: one row per (reversal, purchase) pair that matched.
MATCH_COLUMNS = ("table", "file", "customer_id", "reversal", "reversal_row", "purchase", "purchase_row",
                 "quantity", "value_base", "days_after_purchase")

# Quantities are whole numbers in nearly every export; fractions (kilograms, metres) add up with
# rounding, so "all of it" means within this many units.
_TOLERANCE = 1e-9
_SECONDS_PER_DAY = 86_400


@dataclass(frozen=True)
class Allocation:
    """Which reversal undid how much of which purchase: positions into the arrays matched."""

    reversal: np.ndarray  # int64 position of the reversal
    purchase: np.ndarray  # int64 position of the purchase
    units: np.ndarray  # float64 units of the purchase the reversal undid

    @classmethod
    def empty(cls) -> Allocation:
        return cls(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))

    @classmethod
    def concat(cls, parts: list[Allocation]) -> Allocation:
        if not parts:
            return cls.empty()
        return cls(*(np.concatenate([getattr(p, name) for p in parts]) for name in ("reversal", "purchase", "units")))

    def per_reversal(self, n: int) -> np.ndarray:
        """Units matched per reversal position 0 .. n - 1."""
        return np.bincount(self.reversal, weights=self.units, minlength=n).astype(np.float64, copy=False)

    def per_purchase(self, n: int) -> np.ndarray:
        """Units undone per purchase position 0 .. n - 1."""
        return np.bincount(self.purchase, weights=self.units, minlength=n).astype(np.float64, copy=False)


def greedy_match(
    purchase_group: np.ndarray,
    purchase_time: np.ndarray,
    purchase_units: np.ndarray,
    reversal_group: np.ndarray,
    reversal_time: np.ndarray,
    reversal_units: np.ndarray,
    window: int | None,
) -> Allocation:
    """Match reversals to purchases of the same group, earliest purchase first, unit by unit.

    Within a group, reversals are taken in time order (ties by position); each takes the units it
    needs from the earliest purchases that have units left and lie within ``window`` seconds of
    it, either side, possibly from several purchases. With every unit count 1 this is "each
    reversal undoes the earliest unmatched purchase in its window".

    Parameters
    ----------
    purchase_group, reversal_group
        Integer group codes (0 .. G - 1): only equal codes match.
    purchase_time, reversal_time
        Times as int64 seconds.
    purchase_units, reversal_units
        Positive units available and needed.
    window
        Largest distance in seconds between a reversal and a purchase it may undo; None for any.

    Returns
    -------
    Allocation
        One entry per (reversal, purchase) pair that moved units, positions into the inputs.

    Notes
    -----
    Windows of later reversals start later, so a purchase that lies before one reversal's window
    also lies before the windows of all later reversals of its group: each group needs only a
    pointer to its first unit not yet taken or passed over. Units are laid end to end on one
    axis (purchases sorted by group and time), a reversal takes a stretch of that axis starting at
    its group's pointer or its window's start, whichever is later, and the stretches are cut back
    into purchases at the end.
    """
    if len(purchase_group) == 0 or len(reversal_group) == 0:
        return Allocation.empty()
    times = np.concatenate([purchase_time, reversal_time]).astype(np.int64)
    low, high = int(times.min()), int(times.max())
    reach = high - low if window is None else int(window)
    base = low - reach
    span = high + reach - base + 1
    groups = int(max(purchase_group.max(), reversal_group.max())) + 1
    if groups * span >= 2**62:
        raise ValueError(f"reversal matching: {groups:,} groups over {span:,} seconds do not fit 64-bit keys")

    p_order = np.lexsort((np.arange(len(purchase_group)), purchase_time, purchase_group))
    p_key = purchase_group[p_order].astype(np.int64) * span + (purchase_time[p_order].astype(np.int64) - base)
    # cum[i] is where purchase i (sorted) starts on the unit axis, cum[-1] where the last one ends
    cum = np.concatenate([[0.0], np.cumsum(purchase_units[p_order].astype(np.float64))])

    r_order = np.lexsort((np.arange(len(reversal_group)), reversal_time, reversal_group))
    r_group = reversal_group[r_order].astype(np.int64)
    r_time = reversal_time[r_order].astype(np.int64)
    r_need = reversal_units[r_order].astype(np.float64)
    first = np.r_[True, r_group[1:] != r_group[:-1]]
    rank = np.arange(len(r_group)) - np.maximum.accumulate(np.where(first, np.arange(len(r_group)), 0))

    pointer = cum[np.searchsorted(p_key, np.arange(groups, dtype=np.int64) * span)]
    start = np.zeros(len(r_group))
    taken = np.zeros(len(r_group))
    by_rank = np.argsort(rank, kind="stable")
    bounds = np.r_[0, np.cumsum(np.bincount(rank))]
    for k in range(len(bounds) - 1):  # one round per reversal of the busiest group, not per row
        act = by_rank[bounds[k]:bounds[k + 1]]
        group = r_group[act]
        lo = np.searchsorted(p_key, group * span + (r_time[act] - reach - base), side="left")
        hi = np.searchsorted(p_key, group * span + (r_time[act] + reach - base), side="right")
        begin = np.maximum(pointer[group], cum[lo])
        take = np.clip(np.minimum(r_need[act], cum[hi] - begin), 0.0, None)
        start[act], taken[act] = begin, take
        pointer[group] = begin + take

    moved = np.flatnonzero(taken > _TOLERANCE)
    a, b = start[moved], start[moved] + taken[moved]
    first_p = np.searchsorted(cum[1:], a, side="right")  # first purchase ending after a
    stop_p = np.searchsorted(cum[:-1], b, side="left")  # first purchase starting at or after b
    counts = np.maximum(stop_p - first_p, 0)
    which = np.repeat(np.arange(len(moved)), counts)
    purchase = np.repeat(first_p, counts) + (np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts))
    units = np.minimum(b[which], cum[purchase + 1]) - np.maximum(a[which], cum[purchase])
    keep = units > _TOLERANCE
    return Allocation(
        reversal=r_order[moved[which[keep]]].astype(np.int64),
        purchase=p_order[purchase[keep]].astype(np.int64),
        units=units[keep],
    )


def group_codes(*columns: np.ndarray | pd.Series) -> np.ndarray:
    """Dense int64 codes of the combinations of several columns (equal rows, equal codes).

    The codes number the combinations in the order they first appear. Columns are laid side by side
    as digits of one int64 key, which is made dense once at the end, or sooner when the next digit
    would not fit. A column of non-negative integers (codes already) is a digit as it is: hashing
    a million distinct keys is what costs (50 ms each on 1M lines; the three passes of
    :func:`match_lines` made dense after every column took a third of their time).
    """
    if not columns:
        raise ValueError("group_codes needs at least one column")
    code, size = np.zeros(len(columns[0]), dtype=np.int64), 1
    for column in columns:
        if _small_codes(column):
            part, count = column.astype(np.int64), int(column.max()) + 1
        else:
            part, uniques = pd.factorize(column, use_na_sentinel=False)
            part, count = part.astype(np.int64), len(uniques)
        if size * count >= 2**62:
            code, size = _dense(code)
        code, size = code * np.int64(count) + part, size * count
    return _dense(code)[0]


def _small_codes(column: np.ndarray | pd.Series) -> bool:
    """Whether a column is integer codes that can be a digit of a group key as they are."""
    return (isinstance(column, np.ndarray) and column.dtype.kind in "iu" and len(column) > 0
            and 0 <= column.min() and column.max() < 2**31)


def _dense(code: np.ndarray) -> tuple[np.ndarray, int]:
    """Codes 0 .. n - 1 in the order they first appear, and n."""
    # the hash table sized for every row at once, not grown as keys come: a third faster
    dense, uniques = pd.factorize(code, size_hint=len(code))
    return dense.astype(np.int64), len(uniques)


def outcomes(matched: np.ndarray, needed: np.ndarray) -> np.ndarray:
    """Per reversal: matched_in_full, matched_in_part or not_matched (object array)."""
    full = matched >= needed - _TOLERANCE * np.maximum(needed, 1.0)
    none = matched <= _TOLERANCE
    return np.select([full, none], [OUTCOMES[0], OUTCOMES[2]], OUTCOMES[1]).astype(object)


def fully_undone(undone: np.ndarray, units: np.ndarray) -> np.ndarray:
    """Per purchase: are (nearly) all its units undone?"""
    return undone >= units - _TOLERANCE * np.maximum(units, 1.0)


def summary(outcome: np.ndarray, value: np.ndarray, matched_value: np.ndarray, table: str) -> pd.DataFrame:
    """How the reversals of one table ended: count and value per outcome (base currency).

    ``value`` is each reversal's whole value (a positive number), ``matched_value`` the part of it
    that matched purchases.
    """
    rows = []
    for name in OUTCOMES:
        hit = outcome == name
        rows.append({
            "table": table,
            "outcome": name,
            "reversals": int(hit.sum()),
            "value": round(float(value[hit].sum()), 2),
            "matched_value": round(float(matched_value[hit].sum()), 2),
        })
    return pd.DataFrame(rows)


def match_table(table: str, file: str, reversal: pd.DataFrame, purchase: pd.DataFrame, *, number: str,
                date: str, quantity: np.ndarray | float, value_base: np.ndarray) -> pd.DataFrame:
    """The matched pairs as ``reversal_matches.csv`` lists them (:data:`MATCH_COLUMNS`).

    ``reversal`` and ``purchase`` are the matched rows, pair by pair (customer_id, source_row,
    the order or invoice number in column `number`, the date in column `date`).
    """
    days = (reversal[date].to_numpy() - purchase[date].to_numpy()) / np.timedelta64(1, "D")
    return pd.DataFrame({
        "table": table,
        "file": file,
        "customer_id": reversal["customer_id"].to_numpy(),
        "reversal": reversal[number].to_numpy(),
        "reversal_row": reversal["source_row"].to_numpy(dtype="int64"),
        "purchase": purchase[number].to_numpy(),
        "purchase_row": purchase["source_row"].to_numpy(dtype="int64"),
        "quantity": quantity,
        "value_base": value_base,
        "days_after_purchase": days.round(3),
    }, columns=list(MATCH_COLUMNS)).sort_values(["reversal_row", "purchase_row"], kind="stable").reset_index(drop=True)


def empty_matches() -> pd.DataFrame:
    """A match table without rows."""
    return pd.DataFrame(columns=list(MATCH_COLUMNS))


def empty_summary(table: str) -> pd.DataFrame:
    """The summary of a table without reversals: every outcome with zero."""
    return summary(np.zeros(0, dtype=object), np.zeros(0), np.zeros(0), table)


def seconds(times: pd.Series) -> np.ndarray:
    """Datetimes as int64 seconds since the epoch."""
    return times.to_numpy(dtype="datetime64[s]").astype(np.int64)


def window_seconds(days: int) -> int:
    """A window in days as seconds."""
    return int(days) * _SECONDS_PER_DAY


@dataclass(frozen=True)
class LineMatch:
    """The reversal lines of a line-item table matched to purchase lines.

    Positions are into the arrays given to :func:`match_lines`; ``allocation.reversal`` and
    ``allocation.purchase`` are positions too (not positions into ``reversals``/``purchases``).
    """

    reversals: np.ndarray  # positions of the reversal lines
    purchases: np.ndarray  # positions of the purchase lines
    allocation: Allocation  # reversal position, purchase position, quantity undone


def match_lines(
    customer: pd.Series,
    item: pd.Series,
    invoice: pd.Series,
    quantity: np.ndarray,
    time: np.ndarray,
    reversal: np.ndarray,
    *,
    prefix: str,
    window: int,
) -> LineMatch:
    """Match reversal lines to the purchase lines they undo (the rule in the module docstring).

    Parameters
    ----------
    customer, item, invoice
        Per line, aligned (any index; positions count). ``item`` is what identifies the product
        (its code, else its description, else its price).
    quantity
        Per line; a reversal's quantity may be written negative or positive.
    time
        Per line, int64 seconds.
    reversal
        Per line: True for a reversal line.
    prefix
        ``cleaning.cancel_prefix``: a reversal invoice named prefix + an invoice number of the same
        customer undoes that invoice first. "" switches this step off.
    window
        ``cleaning.reversal_window_days`` in seconds.
    """
    # Text is coded to integers once: every pass below groups by integer codes only. Coded as the
    # Series is stored (Arrow's hash for Arrow text), not through Python strings: the codes are
    # the same (first appearance, a missing value where it first appears), the copy is not made.
    customer = pd.factorize(pd.Series(customer), use_na_sentinel=False)[0]
    item = pd.factorize(pd.Series(item), use_na_sentinel=False)[0]
    invoice = pd.Series(invoice).reset_index(drop=True)
    rev = np.flatnonzero(reversal)
    pur = np.flatnonzero(~reversal & (quantity > 0))
    need = np.abs(quantity[rev]).astype(np.float64)
    units = quantity[pur].astype(np.float64)
    parts: list[Allocation] = []

    def remaining() -> tuple[np.ndarray, np.ndarray]:
        done = Allocation.concat(parts)
        return need - done.per_reversal(len(rev)), units - done.per_purchase(len(pur))

    def run(p_rows: np.ndarray, r_rows: np.ndarray, p_keys: list, r_keys: list, p_units: np.ndarray,
            r_units: np.ndarray, reach: int | None) -> None:
        if len(p_rows) == 0 or len(r_rows) == 0:
            return
        codes = group_codes(*(np.concatenate([p, r]) for p, r in zip(p_keys, r_keys)))
        found = greedy_match(codes[:len(p_rows)], time[pur[p_rows]], p_units,
                             codes[len(p_rows):], time[rev[r_rows]], r_units, reach)
        parts.append(Allocation(r_rows[found.reversal], p_rows[found.purchase], found.units))

    # 1. within the invoice a reversal names (C536379 -> 536379), whatever the distance in time
    if prefix:
        named = invoice.iloc[rev]
        r_rows = np.flatnonzero(named.str.startswith(prefix, na=False).to_numpy())
        # the purchases' invoices and the names, coded together, as stored (not through Python strings)
        numbers = pd.factorize(pd.concat([invoice.iloc[pur], named.iloc[r_rows].str.slice(len(prefix))]))[0]
        p_rows = np.arange(len(pur))
        run(p_rows, r_rows, [customer[pur], item[pur], numbers[:len(pur)]],
            [customer[rev[r_rows]], item[rev[r_rows]], numbers[len(pur):]], units, need[r_rows], None)
    # 2. whole lines of the same quantity, the earliest unmatched purchase first
    r_left, p_left = remaining()
    r_rows = np.flatnonzero(r_left >= need - _TOLERANCE)
    p_rows = np.flatnonzero(p_left >= units - _TOLERANCE)
    before = len(parts)
    run(p_rows, r_rows,
        [customer[pur[p_rows]], item[pur[p_rows]], units[p_rows]],
        [customer[rev[r_rows]], item[rev[r_rows]], need[r_rows]],
        np.ones(len(p_rows)), np.ones(len(r_rows)), window)
    if len(parts) > before:  # a whole line each: one unit of the match is the line's quantity
        last = parts[-1]
        parts[-1] = Allocation(last.reversal, last.purchase, units[last.purchase])
    # 3. what is left, unit by unit, from the earliest purchases with units left
    r_left, p_left = remaining()
    r_rows = np.flatnonzero(r_left > _TOLERANCE)
    p_rows = np.flatnonzero(p_left > _TOLERANCE)
    run(p_rows, r_rows,
        [customer[pur[p_rows]], item[pur[p_rows]]],
        [customer[rev[r_rows]], item[rev[r_rows]]],
        p_left[p_rows], r_left[r_rows], window)
    done = Allocation.concat(parts)
    return LineMatch(rev, pur, Allocation(rev[done.reversal], pur[done.purchase], done.units))


@dataclass(frozen=True)
class OrderMatch:
    """Negative rows of an orders table matched to the completed orders they undo."""

    reversal: np.ndarray  # row positions of the matched negative rows
    purchase: np.ndarray  # row position of the order each one undoes


def match_orders(
    customer: pd.Series, currency: pd.Series, amount: np.ndarray, time: np.ndarray,
    purchase: np.ndarray, reversal: np.ndarray, *, window: int,
) -> OrderMatch:
    """Match returns (negative rows) to completed orders of the same customer, currency and amount.

    Each return undoes the earliest unmatched order of exactly its amount (to the cent) within
    the window either side of it; a return without such an order matches nothing.
    """
    pur, rev = np.flatnonzero(purchase), np.flatnonzero(reversal)
    if len(pur) == 0 or len(rev) == 0:
        return OrderMatch(np.zeros(0, np.int64), np.zeros(0, np.int64))
    cents = np.rint(np.abs(amount) * 100.0).astype(np.int64)
    rows = np.concatenate([pur, rev])
    codes = group_codes(*(pd.Series(column).to_numpy()[rows] for column in (customer, currency)), cents[rows])
    found = greedy_match(codes[:len(pur)], time[pur], np.ones(len(pur)),
                         codes[len(pur):], time[rev], np.ones(len(rev)), window)
    return OrderMatch(rev[found.reversal], pur[found.purchase])
