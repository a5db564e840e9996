"""Snapshot dates, the long snapshot table, tier migration and the tier effect, by hand."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from custseg.config import Snapshots, Tiers
from custseg.snapshots import (
    LEFT,
    NO_TIER,
    NOT_YET,
    build_snapshots,
    movers,
    snapshot_dates,
    tier_effect,
    transition_matrix,
)

NAMES = ["high", "mid", "low"]
D0, D1, D2 = dt.date(2026, 1, 1), dt.date(2026, 4, 1), dt.date(2026, 7, 1)

# tier of each customer at each date; None = in the table without a tier; absent = not in the table
TIERS = {
    D0: {"A": "high", "B": "mid", "C": "low", "D": None, "E": "high", "H": "high"},
    D1: {"A": "high", "B": "high", "C": "mid", "D": "low", "F": "low", "H": "low"},  # E left, F arrived
    D2: {"A": "high", "B": "high", "C": "mid", "D": "low", "F": "low", "H": "low"},
}


def classification(date: dt.date) -> pd.DataFrame:
    tiers = TIERS[date]
    return pd.DataFrame({
        "customer_id": pd.Series(list(tiers), dtype="str"),
        "tier": pd.Categorical(list(tiers.values()), categories=NAMES),
        "monetary": np.arange(len(tiers), dtype="float64"),
        "email": "someone@example.com",  # not a snapshot column: dropped
    })


def orders_frame(rows):
    frame = pd.DataFrame(rows, columns=["customer_id", "order_date", "status", "revenue"])
    return frame.assign(order_date=pd.to_datetime(frame["order_date"]).astype("datetime64[s]"))


ORDERS = orders_frame([
    ("A", "2026-01-01", "completed", 100.0),  # first day of the period: in
    ("A", "2026-04-01", "completed", 50.0),  # the after date itself: next period
    ("A", "2025-11-01", "completed", 200.0),  # prior period
    ("B", "2026-03-31", "completed", 30.0),
    ("B", "2026-02-01", "returned", -10.0),  # a return nets against spend
    ("C", "2026-02-15", "refunded", 0.0),  # not a purchase: C is not retained
    ("C", "2025-12-01", "completed", 50.0),
    ("D", "2026-03-01", "completed", 15.0),
    ("E", "2025-12-31", "completed", 5.0),
    ("E", "2025-10-03", "completed", 60.0),  # first day of the prior period (2026-01-01 - 90 days)
    ("E", "2025-10-02", "completed", 1000.0),  # before the prior period
    ("F", "2026-03-15", "completed", 20.0),
    ("G", "2026-02-01", "completed", 999.0),  # in no snapshot: not counted
    ("H", "2026-02-10", "completed", 40.0),
])


@pytest.fixture
def snapshots():
    return build_snapshots(classification, [D1, D0])


# ---------------------------------------------------------------------------------- snapshot_dates

def test_default_dates_are_the_days_after_the_last_quarter_ends():
    assert snapshot_dates(dt.date(2026, 10, 1), Snapshots()) == [
        dt.date(2026, 1, 1), dt.date(2026, 4, 1), dt.date(2026, 7, 1), dt.date(2026, 10, 1)
    ]
    # mid-quarter: the last quarter end before the last data day is 2026-09-30
    assert snapshot_dates(dt.date(2026, 11, 15), Snapshots(count=2)) == [dt.date(2026, 7, 1), dt.date(2026, 10, 1)]
    # last data day 2026-09-29: the quarter ending 2026-09-30 is not over yet
    assert snapshot_dates(dt.date(2026, 9, 30), Snapshots(count=2)) == [dt.date(2026, 4, 1), dt.date(2026, 7, 1)]
    # across a year boundary
    assert snapshot_dates(dt.date(2026, 2, 1), Snapshots(count=3)) == [
        dt.date(2025, 7, 1), dt.date(2025, 10, 1), dt.date(2026, 1, 1)
    ]


def test_given_dates_are_sorted_and_may_equal_the_observation_date():
    settings = Snapshots(dates=[dt.date(2026, 10, 1), dt.date(2026, 3, 15)])
    assert snapshot_dates(dt.date(2026, 10, 1), settings) == [dt.date(2026, 3, 15), dt.date(2026, 10, 1)]


def test_invalid_given_dates_name_the_setting():
    with pytest.raises(ValueError, match=r"snapshots\.dates \['2026-10-02'\] lie after"):
        snapshot_dates(dt.date(2026, 10, 1), Snapshots(dates=[dt.date(2026, 1, 1), dt.date(2026, 10, 2)]))
    with pytest.raises(ValueError, match=r"snapshots\.dates repeats"):
        snapshot_dates(dt.date(2026, 10, 1), Snapshots(dates=[dt.date(2026, 1, 1), dt.date(2026, 1, 1)]))
    with pytest.raises(ValueError, match=r"snapshots\.dates needs at least two"):
        snapshot_dates(dt.date(2026, 10, 1), Snapshots(dates=[dt.date(2026, 1, 1)]))


# --------------------------------------------------------------------------------- build_snapshots

def test_build_snapshots_stacks_the_documented_columns(snapshots):
    assert list(snapshots.columns) == ["snapshot_date", "customer_id", "tier", "monetary"]
    assert snapshots["snapshot_date"].dtype == "datetime64[s]"
    assert snapshots["tier"].dtype == pd.CategoricalDtype(NAMES)  # config order survives the stacking
    assert snapshots.groupby("snapshot_date").size().tolist() == [6, 6]
    first = snapshots.loc[snapshots["snapshot_date"].eq(pd.Timestamp(D0))]
    assert first["customer_id"].tolist() == ["A", "B", "C", "D", "E", "H"]
    assert pd.isna(first.set_index("customer_id").loc["D", "tier"])


def test_build_snapshots_refuses_bad_classifications():
    with pytest.raises(ValueError, match=r"2026-01-01 has no column\(s\) \['tier'\]"):
        build_snapshots(lambda d: classification(d).drop(columns="tier"), [D0])
    twice = lambda d: pd.concat([classification(d), classification(d)])  # noqa: E731
    with pytest.raises(ValueError, match="lists customer 'A' more than once"):
        build_snapshots(twice, [D0])
    with pytest.raises(ValueError, match="repeat"):
        build_snapshots(classification, [D0, D0])


# ------------------------------------------------------------------------------- transition_matrix

def test_transition_matrix_counts_by_hand(snapshots):
    matrix = transition_matrix(snapshots, D0, D1)
    assert matrix.index.tolist() == ["high", "mid", "low", NO_TIER, NOT_YET]
    assert matrix.columns.tolist() == ["high", "mid", "low", NO_TIER, LEFT]
    assert matrix.to_numpy().tolist() == [
        [1, 0, 1, 0, 1],  # A stays, H drops to low, E left
        [1, 0, 0, 0, 0],  # B up
        [0, 1, 0, 0, 0],  # C up
        [0, 0, 1, 0, 0],  # D: first tier
        [0, 0, 1, 0, 0],  # F: new customer
    ]
    assert (matrix.dtypes == "int64").all()


def test_transition_matrix_revenue_by_hand(snapshots):
    matrix = transition_matrix(snapshots, D0, D1, value="revenue", orders=ORDERS)
    expected = pd.DataFrame(0.0, index=matrix.index, columns=matrix.columns)
    expected.loc["high", "high"] = 100.0  # A: 2026-04-01 belongs to the next period
    expected.loc["high", "low"] = 40.0  # H
    expected.loc["mid", "high"] = 20.0  # B: 30 minus a return of 10
    expected.loc["no tier", "low"] = 15.0  # D
    expected.loc["not yet a customer", "low"] = 20.0  # F; G is in no snapshot
    pd.testing.assert_frame_equal(matrix, expected)


def test_transition_matrix_refuses_bad_requests(snapshots):
    with pytest.raises(ValueError, match="needs the clean orders"):
        transition_matrix(snapshots, D0, D1, value="revenue")
    with pytest.raises(ValueError, match="'customers' or 'revenue'"):
        transition_matrix(snapshots, D0, D1, value="orders")
    with pytest.raises(ValueError, match=r"no snapshot at 2026-07-01; snapshots exist at \['2026-01-01', '2026-04-01'\]"):
        transition_matrix(snapshots, D0, D2)
    with pytest.raises(ValueError, match="must be an earlier"):
        transition_matrix(snapshots, D1, D0)
    plain = snapshots.assign(tier=snapshots["tier"].astype("str"))
    with pytest.raises(ValueError, match="pass tier_order"):
        transition_matrix(plain, D0, D1)
    assert transition_matrix(plain, D0, D1, tier_order=NAMES).equals(transition_matrix(snapshots, D0, D1))
    with pytest.raises(ValueError, match=r"tier\(s\) \['low'\] that are not in tiers.names"):
        transition_matrix(snapshots, D0, D1, tier_order=["high", "mid"])


# ------------------------------------------------------------------------------------------ movers

def test_movers_by_hand(snapshots):
    moved = movers(snapshots, D0, D1, NAMES)
    assert moved.astype({"tier_before": "str", "tier_after": "str"}).to_dict("records") == [
        {"customer_id": "B", "tier_before": "mid", "tier_after": "high", "direction": "up", "steps": 1},
        {"customer_id": "C", "tier_before": "low", "tier_after": "mid", "direction": "up", "steps": 1},
        {"customer_id": "H", "tier_before": "high", "tier_after": "low", "direction": "down", "steps": 2},
    ]
    assert moved["steps"].dtype == "int64"
    assert moved["tier_after"].dtype == pd.CategoricalDtype(NAMES, ordered=True)


# ------------------------------------------------------------------------------------- tier_effect

def test_tier_effect_by_hand():
    snapshots = build_snapshots(classification, [D0, D1, D2])
    effect = tier_effect(snapshots, ORDERS, NAMES)
    assert list(effect.columns) == ["before", "after", "tier", "customers", "retained", "retention_rate",
                                    "revenue", "revenue_prior", "growth_rate"]
    assert len(effect) == 6  # two consecutive pairs x three tiers
    first = effect.loc[effect["before"].eq(pd.Timestamp(D0))]
    first = first.set_index(first["tier"].astype("str"))
    assert (first["after"] == pd.Timestamp(D1)).all()
    # high = A, E, H: A and H bought; revenue 100 + 40; prior period [2025-10-03, 2026-01-01): A 200, E 60 + 5
    assert first.loc["high", ["customers", "retained"]].tolist() == [3, 2]
    assert first.loc["high", "retention_rate"] == pytest.approx(2 / 3)
    assert first.loc["high", ["revenue", "revenue_prior"]].tolist() == [140.0, 265.0]
    assert first.loc["high", "growth_rate"] == pytest.approx(140 / 265 - 1)
    # mid = B: bought, 30 - 10; nothing before, so no growth rate
    assert first.loc["mid", ["customers", "retained", "retention_rate", "revenue", "revenue_prior"]].tolist() == [
        1, 1, 1.0, 20.0, 0.0]
    assert pd.isna(first.loc["mid", "growth_rate"])
    # low = C: only a refund in the period, 50 before
    assert first.loc["low", ["customers", "retained", "retention_rate", "revenue", "revenue_prior", "growth_rate"]] \
        .tolist() == [1, 0, 0.0, 0.0, 50.0, -1.0]

    second = effect.loc[effect["before"].eq(pd.Timestamp(D1))]
    second = second.set_index(second["tier"].astype("str"))
    # 91 days from 2026-04-01; prior period [2025-12-31, 2026-04-01)
    assert second.loc["high", ["customers", "retained", "revenue", "revenue_prior"]].tolist() == [2, 1, 50.0, 120.0]
    assert second.loc["mid", ["customers", "retained", "revenue", "revenue_prior"]].tolist() == [1, 0, 0.0, 0.0]
    assert second.loc["low", ["customers", "retained", "revenue", "revenue_prior", "growth_rate"]].tolist() == [
        3, 0, 0.0, 75.0, -1.0]
    assert effect["tier"].dtype == pd.CategoricalDtype(NAMES, ordered=True)
    assert effect[["customers", "retained"]].dtypes.eq("int64").all()


def test_tier_effect_keeps_empty_tiers_and_needs_two_dates(snapshots):
    effect = tier_effect(snapshots, ORDERS, ["vip", *NAMES])
    vip = effect.loc[effect["tier"].eq("vip")].iloc[0]
    assert vip["customers"] == 0 and pd.isna(vip["retention_rate"]) and pd.isna(vip["growth_rate"])
    with pytest.raises(ValueError, match="two or more dates"):
        tier_effect(snapshots.loc[snapshots["snapshot_date"].eq(pd.Timestamp(D0))], ORDERS, NAMES)
    with pytest.raises(ValueError, match=r"orders table has no column\(s\) \['status'\]"):
        tier_effect(snapshots, ORDERS.drop(columns="status"), NAMES)


def test_inputs_are_not_mutated(snapshots):
    snaps_before, orders_before = snapshots.copy(), ORDERS.copy()
    transition_matrix(snapshots, D0, D1, value="revenue", orders=ORDERS)
    movers(snapshots, D0, D1, NAMES)
    tier_effect(snapshots, ORDERS, NAMES)
    pd.testing.assert_frame_equal(snapshots, snaps_before)
    pd.testing.assert_frame_equal(ORDERS, orders_before)


# ------------------------------------------------------------------------- on the generated sample

def test_snapshots_of_the_sample_add_up():
    from custseg.features import customer_table
    from custseg.sample import EXCHANGE_RATES, SampleSpec, generate_sample
    from custseg.tiers import assign_tiers

    raw = generate_sample(SampleSpec(n_customers=500, seed=3, messy=False)).orders
    orders = raw.assign(
        order_date=pd.to_datetime(raw["order_date"]).astype("datetime64[s]"),
        revenue=(raw["amount"] * raw["currency"].map(EXCHANGE_RATES)).where(raw["status"].eq("completed"), 0.0),
    )

    def classify(date: dt.date) -> pd.DataFrame:
        known = orders.loc[orders["order_date"] < pd.Timestamp(date)]  # a customer exists once they ordered
        return assign_tiers(customer_table({"orders": known}, date), Tiers())

    dates = snapshot_dates(dt.date(2026, 10, 1), Snapshots(count=3))
    snapshots = build_snapshots(classify, dates)
    before, after = dates[-2], dates[-1]
    counts = transition_matrix(snapshots, before, after)
    assert counts.to_numpy().sum() == snapshots.loc[snapshots["snapshot_date"].isin([pd.Timestamp(before), pd.Timestamp(after)]), "customer_id"].nunique()
    assert counts[LEFT].sum() == 0  # nobody leaves a customer table built from all past orders
    assert counts.loc[NOT_YET].sum() > 0  # new customers arrive every quarter
    revenue = transition_matrix(snapshots, before, after, value="revenue", orders=orders)
    in_period = orders.loc[(orders["order_date"] >= pd.Timestamp(before)) & (orders["order_date"] < pd.Timestamp(after))]
    assert revenue.to_numpy().sum() == pytest.approx(in_period["revenue"].sum())
    effect = tier_effect(snapshots, orders, Tiers().names)
    assert len(effect) == 2 * 3
    # the best tier keeps more of its customers than the last one: the tiering means something
    rates = effect.groupby("tier", observed=True)["retention_rate"].mean()
    assert rates["high"] > rates["low"]
