"""Small vectorized helpers of the sample generator: grouped draws, ranks and text columns.

Private to :mod:`custseg.sample`.
"""

from __future__ import annotations

import datetime

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def grouped_choice(rng: np.random.Generator, group: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Draw one option per row, with option weights depending on the row's group.

    ``weights`` has one row per group (zeros allowed); the answer is the option's column index.
    """
    weights = np.asarray(weights, dtype=float)
    n_groups, n_options = weights.shape
    cum = np.cumsum(weights, axis=1)
    total = cum[:, -1:]
    if np.any(total <= 0):
        raise ValueError("every group needs a positive weight")
    cum = cum / total
    # Past the last option with weight the cumulative share is exactly 1, so a uniform draw
    # below 1 can never land on a zero-weight option.
    last = n_options - 1 - np.argmax(weights[:, ::-1] > 0, axis=1)
    cum[np.arange(n_options)[None, :] >= last[:, None]] = 1.0
    flat = (cum + np.arange(n_groups)[:, None]).ravel()
    pick = np.searchsorted(flat, group + rng.random(group.size), side="right")
    return pick - group * n_options


def rank_within(owner: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Rank (0 = earliest) of each event among the events of the same owner."""
    order = np.lexsort((day, owner))
    sorted_owner = owner[order]
    n = sorted_owner.size
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, sorted_owner[1:] != sorted_owner[:-1]])
    sizes = np.diff(np.r_[starts, n])
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n) - np.repeat(starts, sizes)
    return rank


def by_day(day: np.ndarray) -> np.ndarray:
    """Stable order by day. Events arrive sorted by owner, so ties stay in owner order."""
    # Days fit in 16 bits for any realistic span, where numpy's stable sort is a radix sort.
    key = day.astype(np.int16) if day.size and day.max() < 2**15 and day.min() >= 0 else day
    return np.argsort(key, kind="stable")


def text_or_missing(values: np.ndarray) -> pd.Series:
    """Object/unicode array to a ``str`` Series with "" as missing."""
    series = pd.Series(values, dtype="str")
    return series.mask(series == "")


def id_array(prefix: str, count: int, width: int, numbers: np.ndarray | None = None) -> pa.Array:
    """``prefix`` + zero-padded 1-based numbers (``C000001``), widened when ``count`` needs it."""
    width = max(width, len(str(count)))
    if numbers is None:
        numbers = np.arange(1, count + 1)
    padded = pc.utf8_lpad(pa.array(numbers, type=pa.int64()).cast(pa.string()), width=width, padding="0")
    return pc.binary_join_element_wise(prefix, padded, "")


def id_series(prefix: str, count: int, width: int, numbers: np.ndarray | None = None) -> pd.Series:
    return str_series(id_array(prefix, count, width, numbers))


def str_series(values: pa.Array) -> pd.Series:
    return pd.Series(pd.array(values, dtype="str"))


def labels(vocabulary: tuple[str, ...], codes: np.ndarray) -> pd.Series:
    """Text column from codes into a small vocabulary, built in Arrow (fast for 10M rows)."""
    return str_series(pa.array(list(vocabulary), type=pa.string()).take(pa.array(codes, type=pa.int64())))


def day_dates(start: datetime.date, day: np.ndarray) -> pd.Series:
    stamp = np.datetime64(start, "D") + day.astype("timedelta64[D]")
    return pd.Series(stamp.astype("datetime64[s]"))
