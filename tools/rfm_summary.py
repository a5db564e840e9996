"""The benchmark's recency / frequency / monetary summary, computed directly from the orders.

custseg itself never runs this: the pipeline reads these figures off the full customer table
(:func:`custseg.segment.features.customer_table`). The benchmark (``tools/benchmark_segmentation.py``)
times it against a DuckDB ``GROUP BY`` over the same file, as the floor the full table is measured
against, and the tests check that it equals the customer table's columns. It reaches into the
segment room's private arrays on purpose: it measures the same machinery the package runs.
"""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

from custseg.segment._arrays import INT64_MAX, NAT, SECONDS_PER_DAY, OrderArrays, int_array, sums
from custseg.segment._idcode import number_ids
from custseg.segment.features import day_number

#: What the summary reads of the orders.
ORDER_COLUMNS = ("customer_id", "order_date", "status", "revenue")


def rfm_features(orders: pd.DataFrame, observation_date: dt.date) -> pd.DataFrame:
    """Recency, frequency and monetary value per customer who ordered before the date.

    The rows and values of :func:`custseg.segment.features.customer_table` on the orders alone,
    restricted to customers with at least one completed, refunded or returned order before the
    date; computed directly (counts, sums and extremes per customer), without the sort of the
    purchases that the full table needs (timings: docs/performance.md).

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
    missing = [column for column in ORDER_COLUMNS if column not in orders]
    if missing:
        raise ValueError(f"orders table: column {missing[0]!r} is missing; the summary needs {list(ORDER_COLUMNS)}")
    cutoff = day_number(observation_date)
    # The same numbers as customer_table's, from counts, sums and extremes per customer: one
    # pass over the orders each, without the sort of the purchases, the gaps, the windows and
    # the categories that the full table needs. The ids are numbered while the orders are read.
    with ThreadPoolExecutor(max_workers=1) as pool:
        numbered = pool.submit(number_ids, {"orders": orders["customer_id"]})
        arrays = OrderArrays.of(orders, categories=False)
        ids, codes = numbered.result()
    code, n = codes["orders"], len(ids)
    past = arrays.day < cutoff
    bought_rows = arrays.purchases_at(cutoff, past)
    frequency = np.bincount(code[bought_rows], minlength=n)
    refunded = np.bincount(code[arrays.returned & (arrays.returned_day < cutoff)], minlength=n)
    # whole cents: exact sums; usually every order is in the past, and no masked copy is needed
    monetary = sums(code, arrays.cents if past.all() else np.where(past, arrays.cents, 0.0), n) / 100.0
    first = np.full(n, INT64_MAX, dtype=np.int64)
    last = np.full(n, NAT, dtype=np.int64)
    np.minimum.at(first, code[bought_rows], arrays.seconds[bought_rows])
    np.maximum.at(last, code[bought_rows], arrays.seconds[bought_rows])
    bought = frequency > 0
    with np.errstate(invalid="ignore", divide="ignore"):  # as in the customer table
        aov = monetary / frequency
        return_rate = refunded / (frequency + refunded)
    rows = np.flatnonzero(bought | (refunded > 0))
    last_day = np.where(bought, last, 0) // SECONDS_PER_DAY
    table = pd.DataFrame({
        "recency_days": int_array(cutoff - last_day, ~bought),
        "frequency": frequency,
        "monetary": monetary,
        "aov": aov,
        "first_order": np.where(bought, first, NAT).view("datetime64[s]"),
        "last_order": np.where(bought, last, NAT).view("datetime64[s]"),
        "refunded_orders": refunded,
        "return_rate": return_rate,
    }, copy=False)
    return table.take(rows).set_axis(pd.Index(ids.take(rows), name="customer_id"))
