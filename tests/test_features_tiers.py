import datetime as dt

import pandas as pd
import pytest

from custseg.segment.features import customer_table, default_observation_date
from support.tools import rfm_features

OBS = dt.date(2025, 4, 1)


def orders_frame(rows):
    frame = pd.DataFrame(rows, columns=["customer_id", "order_date", "status", "revenue"])
    return frame.assign(order_date=pd.to_datetime(frame["order_date"]).astype("datetime64[s]"))


ORDERS = orders_frame([
    ("A", "2025-03-30", "completed", 100.0),
    ("A", "2025-01-01", "completed", 300.0),
    ("A", "2025-02-01", "refunded", 0.0),
    ("B", "2024-04-01", "completed", 50.0),
    ("B", "2024-05-01", "cancelled", 0.0),
    ("C", "2025-03-01", "refunded", 0.0),
    ("A", "2025-04-01", "completed", 999.0),  # on the observation date: the future
])


def test_rfm_features_by_hand():
    f = rfm_features(ORDERS, OBS)
    assert list(f.index) == ["A", "B", "C"]
    a, b, c = f.loc["A"], f.loc["B"], f.loc["C"]
    assert (a.recency_days, a.frequency, a.monetary, a.aov) == (2, 2, 400.0, 200.0)
    assert a.refunded_orders == 1 and a.return_rate == pytest.approx(1 / 3)
    assert (b.recency_days, b.frequency, b.monetary) == (365, 1, 50.0)
    assert b.refunded_orders == 0  # cancelled orders are neither purchases nor returns
    assert c.frequency == 0 and pd.isna(c.recency_days) and pd.isna(c.aov)


def test_features_do_not_mutate_input():
    before = ORDERS.copy()
    rfm_features(ORDERS, OBS)
    pd.testing.assert_frame_equal(ORDERS, before)


def test_customer_table_keeps_everyone_and_uses_signup_for_tenure():
    customers = pd.DataFrame({
        "customer_id": ["A", "D"], "signup_date": pd.to_datetime(["2024-12-01", "2025-03-01"]).astype("datetime64[s]"),
        "country": ["CN", "US"], "source_row": [2, 3],
    })
    table = customer_table({"customers": customers, "orders": ORDERS}, OBS).set_index("customer_id")
    assert list(table.index) == ["A", "B", "C", "D"]  # B, C only in orders; D never bought
    assert table.loc["D", "frequency"] == 0 and table.loc["D", "tenure_days"] == 31
    assert table.loc["A", "tenure_days"] == 121  # signup 2024-12-01 before the first order
    assert table.loc["B", "tenure_days"] == 365  # no signup date: tenure from first order
    assert pd.isna(table.loc["B", "country"])


def test_default_observation_date_is_day_after_last_order():
    assert default_observation_date(ORDERS) == dt.date(2025, 4, 2)
    with pytest.raises(ValueError, match="no completed orders"):
        default_observation_date(ORDERS.iloc[0:0])


def test_default_observation_date_ignores_what_is_not_a_purchase():
    # a cancellation, an undated refund and a return after the last purchase leave "today" where it was
    later = orders_frame([("A", "2025-04-20", "cancelled", 0.0), ("B", "2025-05-01", "refunded", 0.0),
                          ("C", "2025-05-02", "returned", -10.0)])
    assert default_observation_date(pd.concat([ORDERS, later], ignore_index=True)) == dt.date(2025, 4, 2)
    # a purchase undone later by a matched reversal was a purchase on its day
    undone = later.assign(status="refunded", refunded_on=pd.Timestamp("2025-05-10"), revenue=5.0).iloc[[1]]
    assert default_observation_date(pd.concat([ORDERS, undone], ignore_index=True)) == dt.date(2025, 5, 2)
    with pytest.raises(ValueError, match="no completed orders.*observation_date"):
        default_observation_date(later)
