"""Reversals matched to the purchases they undo, and purchases counted as known at each date."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custseg.config import load_config
from custseg.intake.cleaning import run_intake
from custseg.intake.reversals import greedy_match
from custseg.segment import clv, features
from custseg.segment.churn import labelled_features
from support.tools import rfm_features

QUARANTINE_ALL = {"cleaning": {"stop_on": []}}
LINE_COLUMNS = {"invoice": "InvoiceNo", "item": "StockCode", "quantity": "Quantity", "unit_price": "UnitPrice",
                "invoice_date": "InvoiceDate", "customer_id": "CustomerID"}
HEADER = "InvoiceNo,StockCode,Quantity,UnitPrice,InvoiceDate,CustomerID\n"


def _lines(write_csv, write_config, body: str, **cleaning):
    spec = {"path": str(write_csv("lines.csv", HEADER + body)), "columns": LINE_COLUMNS,
            "date_format": "%Y-%m-%d %H:%M"}
    overrides = {"cleaning": {"stop_on": [], **cleaning}}
    return run_intake(load_config(write_config({"line_items": spec}, **overrides)))


def _orders(result) -> pd.DataFrame:
    return result.tables["orders"]


# --------------------------------------------------------------------------- the matcher


def _brute_force(pg, pt, pu, rg, rt, ru, window):
    """The rule written as a loop: reversals in time order, each from the earliest purchases."""
    left = pu.astype(float).copy()
    out: dict[tuple[int, int], float] = {}
    for i in sorted(range(len(rg)), key=lambda i: (rg[i], rt[i], i)):
        need = float(ru[i])
        for j in sorted(range(len(pg)), key=lambda j: (pg[j], pt[j], j)):
            if need <= 0:
                break
            if pg[j] != rg[i] or left[j] <= 0 or (window is not None and abs(int(pt[j]) - int(rt[i])) > window):
                continue
            take = min(need, left[j])
            left[j] -= take
            need -= take
            out[(i, j)] = out.get((i, j), 0.0) + take
    return out


@settings(max_examples=300, deadline=None)
@given(
    purchases=st.lists(st.tuples(st.integers(0, 2), st.integers(0, 40), st.integers(1, 5)), max_size=12),
    reversals=st.lists(st.tuples(st.integers(0, 2), st.integers(0, 40), st.integers(1, 7)), max_size=8),
    window=st.sampled_from([None, 0, 3, 12]),
)
def test_greedy_match_is_the_rule_written_as_a_loop(purchases, reversals, window):
    pg, pt, pu = (np.array([p[i] for p in purchases], dtype=np.int64) for i in range(3))
    rg, rt, ru = (np.array([r[i] for r in reversals], dtype=np.int64) for i in range(3))
    found = greedy_match(pg, pt, pu.astype(float), rg, rt, ru.astype(float), window)
    got: dict[tuple[int, int], float] = {}
    for r, p, u in zip(found.reversal, found.purchase, found.units):
        got[(int(r), int(p))] = got.get((int(r), int(p)), 0.0) + u
    assert got == pytest.approx(_brute_force(pg, pt, pu, rg, rt, ru, window))


def test_greedy_match_takes_the_earliest_purchase_in_the_window():
    # purchases at t = 0, 10, 20 of one group; a reversal at 15 with a window of 6 may take 10 or 20
    found = greedy_match(np.zeros(3, np.int64), np.array([0, 10, 20]), np.ones(3),
                         np.zeros(1, np.int64), np.array([15]), np.ones(1), 6)
    assert found.purchase.tolist() == [1]


# --------------------------------------------------------------------------- line items


def test_a_new_number_cancelling_the_whole_order_the_same_day_refunds_it(write_csv, write_config):
    # the customer's one big order is cancelled an hour later by an invoice with a number of its own
    result = _lines(write_csv, write_config, (
        "100,P1,5,2.00,2025-01-05 10:00,K1\n"
        "200,P2,1000,50.00,2025-03-01 09:00,K1\n"
        "C900,P2,-1000,50.00,2025-03-01 10:00,K1\n"
    ))
    orders = _orders(result).set_index("order_id")
    assert orders.loc["200", "status"] == "refunded"
    assert orders.loc["200", "refunded_on"] == pd.Timestamp("2025-03-01")
    assert orders.loc["C900", "status"] == "reversal" and orders.loc["C900", "reverses"] == "200"
    table = features.customer_table({"orders": _orders(result)}, dt.date(2025, 4, 1)).set_index("customer_id")
    # one purchase, not two; the cancelled one adds nothing to spend
    assert table.loc["K1", "frequency"] == 1 and table.loc["K1", "monetary"] == pytest.approx(10.0)
    assert table.loc["K1", "last_order"] == pd.Timestamp("2025-01-05")
    summary = result.reversals.set_index("outcome")["reversals"]
    assert summary.to_dict() == {"matched_in_full": 1, "matched_in_part": 0, "not_matched": 0}


def test_cancel_and_reissue_undoes_the_old_invoice_not_the_new_one(write_csv, write_config):
    # the shop cancels 100 and reissues it as 300, the cancellation written minutes before the new invoice
    result = _lines(write_csv, write_config, (
        "100,P1,4,3.00,2025-02-01 10:00,K1\n"
        "C555,P1,-4,3.00,2025-02-20 09:58,K1\n"
        "300,P1,4,3.00,2025-02-20 10:00,K1\n"
    ))
    orders = _orders(result).set_index("order_id")
    assert orders.loc["100", "status"] == "refunded" and orders.loc["300", "status"] == "completed"
    assert orders.loc["C555", "reverses"] == "100"


def test_a_reversal_naming_its_invoice_undoes_that_invoice_first(write_csv, write_config):
    # 100 is older and has the same item and quantity, but C200 names 200
    result = _lines(write_csv, write_config, (
        "100,P1,4,3.00,2025-02-01 10:00,K1\n"
        "200,P1,4,3.00,2025-02-10 10:00,K1\n"
        "C200,P1,-4,3.00,2025-02-12 10:00,K1\n"
    ))
    orders = _orders(result).set_index("order_id")
    assert orders.loc["200", "status"] == "refunded" and orders.loc["100", "status"] == "completed"


def test_whole_lines_of_the_same_quantity_come_before_parts_of_larger_lines(write_csv, write_config):
    # 100 (12 units) is older, but 200 holds a line of exactly the 6 units cancelled
    result = _lines(write_csv, write_config, (
        "100,P1,12,1.00,2025-02-01 10:00,K1\n"
        "200,P1,6,1.00,2025-02-02 10:00,K1\n"
        "C9,P1,-6,1.00,2025-02-05 10:00,K1\n"
    ))
    orders = _orders(result).set_index("order_id")
    assert orders.loc["200", "status"] == "refunded" and orders.loc["100", "status"] == "completed"


def test_a_partial_return_is_netted_against_its_order(write_csv, write_config):
    result = _lines(write_csv, write_config, (
        "100,P1,10,2.00,2025-02-01 10:00,K1\n"
        "100,P2,1,30.00,2025-02-01 10:00,K1\n"
        "C9,P1,-4,2.00,2025-02-09 10:00,K1\n"
    ))
    orders = _orders(result).set_index("order_id")
    assert orders.loc["100", "status"] == "completed" and orders.loc["100", "revenue"] == pytest.approx(50.0)
    assert orders.loc["C9", "status"] == "returned" and orders.loc["C9", "reverses"] == "100"
    assert orders.loc["C9", "revenue"] == pytest.approx(-8.0)
    lines = result.tables["line_items"].set_index("invoice")
    assert lines.loc["C9", "matched_quantity"] == 4
    assert lines.loc["100"].set_index("item").loc["P1", "matched_quantity"] == 4
    # the value models read the order as worth what the customer kept
    summary = clv.rfm_summary(_orders(result), dt.date(2025, 3, 1))
    assert summary["mean_purchase_value"].tolist() == pytest.approx([42.0])


def test_one_cancellation_can_undo_several_purchases(write_csv, write_config):
    result = _lines(write_csv, write_config, (
        "100,P1,12,1.00,2025-02-01 10:00,K1\n"
        "200,P1,12,1.00,2025-02-03 10:00,K1\n"
        "C9,P1,-24,1.00,2025-02-05 10:00,K1\n"
    ))
    orders = _orders(result)
    assert orders.set_index("order_id").loc[["100", "200"], "status"].tolist() == ["refunded", "refunded"]
    pieces = orders.loc[orders["order_id"].eq("C9")].sort_values("reverses")
    assert pieces["reverses"].tolist() == ["100", "200"] and pieces["revenue"].tolist() == pytest.approx([-12.0, -12.0])
    assert pieces["status"].tolist() == ["reversal", "reversal"]


def test_reversals_outside_the_window_or_of_other_items_match_nothing(write_csv, write_config):
    result = _lines(write_csv, write_config, (
        "100,P1,5,2.00,2025-01-01 10:00,K1\n"
        "C8,P1,-5,2.00,2025-05-01 10:00,K1\n"  # 120 days later: outside the 90-day window
        "C9,P9,-1,4.00,2025-01-02 10:00,K1\n"  # an item the customer never bought
        "C7,P1,-5,2.00,2025-01-03 10:00,K2\n"  # another customer's
    ))
    orders = _orders(result).set_index("order_id")
    assert orders.loc["100", "status"] == "completed"
    assert orders.loc[["C7", "C8", "C9"], "status"].tolist() == ["returned"] * 3
    assert orders.loc[["C7", "C8", "C9"], "reverses"].isna().all()
    summary = result.reversals.set_index("outcome")
    assert summary.loc["not_matched", "reversals"] == 3 and summary.loc["not_matched", "value"] == pytest.approx(24.0)
    # with a longer window the late cancellation matches
    wider = _orders(_lines(write_csv, write_config, (
        "100,P1,5,2.00,2025-01-01 10:00,K1\n"
        "C8,P1,-5,2.00,2025-05-01 10:00,K1\n"
    ), reversal_window_days=150)).set_index("order_id")
    assert wider.loc["100", "status"] == "refunded"


def test_every_reversal_line_is_accounted_for(write_csv, write_config):
    result = _lines(write_csv, write_config, (
        "100,P1,10,2.00,2025-02-01 10:00,K1\n"
        "100,POST,1,5.00,2025-02-01 10:00,K1\n"
        "C9,P1,-4,2.00,2025-02-09 10:00,K1\n"
        "C9,P1,-8,2.00,2025-02-09 10:00,K1\n"
        "C9,POST,-1,5.00,2025-02-09 10:00,K1\n"
        "C10,P8,-2,1.00,2025-02-09 10:00,K1\n"
    ))
    summary = result.reversals.set_index("outcome")
    # product reversal lines only: the postage line is no product and matches nothing
    assert summary["reversals"].sum() == 3
    assert summary["reversals"].to_dict() == {"matched_in_full": 1, "matched_in_part": 1, "not_matched": 1}
    # no line of exactly 4 or 8 units: the 4 units come first (same time, earlier row), then 6 of the 8
    assert summary["value"].sum() == pytest.approx(8.0 + 16.0 + 2.0)
    assert summary["matched_value"].sum() == pytest.approx(8.0 + 12.0)
    matches = result.matches
    assert matches["quantity"].tolist() == [4.0, 6.0] and set(matches["purchase"]) == {"100"}
    # the money adds up: net revenue equals the product lines' value
    assert _orders(result)["revenue"].sum() == pytest.approx(20.0 - 8.0 - 16.0 - 2.0)


# --------------------------------------------------------------------------- orders tables


def test_orders_table_returns_match_by_customer_currency_and_amount(write_csv, write_config):
    text = (
        "order_id,customer_id,order_date,amount,currency\n"
        "O1,K1,2025-01-05,80.00,CNY\n"
        "O2,K1,2025-01-20,80.00,CNY\n"
        "R1,K1,2025-02-01,-80.00,CNY\n"   # undoes O1, the earliest
        "R2,K1,2025-02-02,-80.00,USD\n"   # another currency: matches nothing
        "R3,K2,2025-02-02,-80.00,CNY\n"   # another customer: matches nothing
        "O3,K2,2024-06-01,55.00,CNY\n"
        "R4,K2,2025-02-03,-55.00,CNY\n"   # 247 days later: outside the window
    )
    result = run_intake(load_config(write_config({"orders": str(write_csv("o.csv", text))}, **QUARANTINE_ALL)))
    orders = _orders(result).set_index("order_id")
    assert orders.loc["O1", "status"] == "refunded" and orders.loc["O1", "refunded_on"] == pd.Timestamp("2025-02-01")
    assert orders.loc["R1", "status"] == "reversal" and orders.loc["R1", "reverses"] == "O1"
    assert orders.loc[["O2", "O3"], "status"].tolist() == ["completed", "completed"]
    assert orders.loc[["R2", "R3", "R4"], "status"].tolist() == ["returned"] * 3
    summary = result.reversals.set_index("outcome")["reversals"]
    assert summary.to_dict() == {"matched_in_full": 1, "matched_in_part": 0, "not_matched": 3}
    assert result.matches[["reversal", "purchase"]].values.tolist() == [["R1", "O1"]]


# --------------------------------------------------------------------------- no look-ahead


def _undone_orders() -> pd.DataFrame:
    """K1 buys on Jan 1 and Mar 1; the March order is undone on Mar 20. K2 buys on Mar 1."""
    return pd.DataFrame({
        "order_id": ["O1", "O2", "R2", "O3"],
        "customer_id": ["K1", "K1", "K1", "K2"],
        "order_date": pd.to_datetime(["2025-01-01", "2025-03-01", "2025-03-20", "2025-03-01"]).astype("datetime64[s]"),
        "status": ["completed", "refunded", "reversal", "completed"],
        "revenue": [100.0, 400.0, -400.0, 30.0],
        "refunded_on": pd.to_datetime([None, "2025-03-20", None, None]).astype("datetime64[s]"),
        "reverses": pd.array([None, None, "O2", None], dtype="str"),
    })


@pytest.mark.parametrize(("date", "frequency", "monetary", "last", "refunds"), [
    (dt.date(2025, 3, 10), 2, 500.0, "2025-03-01", 0),  # before the reversal: a purchase
    (dt.date(2025, 3, 20), 2, 500.0, "2025-03-01", 0),  # the reversal's day is not yet known
    (dt.date(2025, 3, 21), 1, 100.0, "2025-01-01", 1),  # from the day after: undone
])
def test_an_undone_purchase_counts_until_its_reversal(date, frequency, monetary, last, refunds):
    table = features.customer_table({"orders": _undone_orders()}, date).set_index("customer_id")
    assert table.loc["K1", "frequency"] == frequency and table.loc["K1", "monetary"] == pytest.approx(monetary)
    assert table.loc["K1", "last_order"] == pd.Timestamp(last)
    assert table.loc["K1", "refunded_orders"] == refunds
    assert table.loc["K2", "frequency"] == 1  # the other customer is untouched
    # the fast RFM path and the value models agree
    rfm = rfm_features(_undone_orders(), date)
    assert rfm.loc["K1", "frequency"] == frequency and rfm.loc["K1", "refunded_orders"] == refunds
    summary = clv.rfm_summary(_undone_orders(), date).set_index("customer_id")
    assert summary.loc["K1", "frequency"] == frequency - 1


def test_prepared_history_gives_each_date_its_own_purchases():
    history = features.prepare({"orders": _undone_orders()})
    before = features.features_at(history, dt.date(2025, 3, 10)).set_index("customer_id")
    after = features.features_at(history, dt.date(2025, 4, 1)).set_index("customer_id")
    assert (before.loc["K1", "frequency"], after.loc["K1", "frequency"]) == (2, 1)
    assert before.loc["K1", "cadence_days"] == 59 and np.isnan(after.loc["K1", "cadence_days"])


def test_churn_labels_do_not_count_a_purchase_undone_within_the_window():
    orders = _undone_orders()
    labels = labelled_features({"orders": orders}, dt.date(2025, 2, 1), 60).set_index("customer_id")
    assert bool(labels.loc["K1", "churned_next"])  # its only order in the window was undone within it
    still = labelled_features({"orders": orders}, dt.date(2025, 2, 1), 45).set_index("customer_id")
    assert not bool(still.loc["K1", "churned_next"])  # at the window's end it was still a purchase


def test_purchases_at_reads_the_refund_day():
    orders = _undone_orders()
    assert features.purchases_at(orders, dt.date(2025, 3, 20)).tolist() == [True, True, False, True]
    assert features.purchases_at(orders, dt.date(2025, 3, 21)).tolist() == [True, False, False, True]
    assert features.purchases_at(orders, None).tolist() == [True, True, False, True]
