"""Snapshot dates, the long snapshot table, tier migration and the tier effect, by hand."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from custseg.config import Snapshots, Tiers
from custseg.segment.snapshots import (
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
    with pytest.raises(ValueError,
                       match=r"no snapshot at 2026-07-01; snapshots exist at \['2026-01-01', '2026-04-01'\]"):
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
    from custseg.sample.generator import EXCHANGE_RATES, SampleSpec, generate_sample
    from custseg.segment.features import customer_table
    from custseg.segment.tiers import assign_tiers

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
    at_either = snapshots["snapshot_date"].isin([pd.Timestamp(before), pd.Timestamp(after)])
    assert counts.to_numpy().sum() == snapshots.loc[at_either, "customer_id"].nunique()
    assert counts[LEFT].sum() == 0  # nobody leaves a customer table built from all past orders
    assert counts.loc[NOT_YET].sum() > 0  # new customers arrive every quarter
    revenue = transition_matrix(snapshots, before, after, value="revenue", orders=orders)
    in_period = orders.loc[(orders["order_date"] >= pd.Timestamp(before))
                           & (orders["order_date"] < pd.Timestamp(after))]
    assert revenue.to_numpy().sum() == pytest.approx(in_period["revenue"].sum())
    effect = tier_effect(snapshots, orders, Tiers().names)
    assert len(effect) == 2 * 3
    # the best tier keeps more of its customers than the last one: the tiering means something
    rates = effect.groupby("tier", observed=True)["retention_rate"].mean()
    assert rates["high"] > rates["low"]


# ------------------------------------------------------ against plain pandas, on a generated case

GENERATED_TIERS = ["platinum", "gold", "silver", "bronze"]
# uneven gaps, so a prior period may start inside an earlier period or reach across several;
# the orders run from before the first prior period to after the last date
GENERATED_DATES = [dt.date(2025, 1, 1), dt.date(2025, 2, 15), dt.date(2025, 6, 1), dt.date(2025, 6, 20),
                   dt.date(2025, 10, 1)]


def generated_case(seed: int = 11) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Snapshots (with customers arriving, leaving and without a tier) and orders around them."""
    rng = np.random.default_rng(seed)
    customers = [f"c{number:04d}" for number in rng.permutation(400)]

    def classify(date: dt.date) -> pd.DataFrame:
        known = [c for c in customers if rng.random() < 0.85]
        tiers = rng.choice([*GENERATED_TIERS, None], size=len(known), p=[0.1, 0.2, 0.3, 0.3, 0.1])
        return pd.DataFrame({
            "customer_id": pd.Series(known, dtype="str"),
            "tier": pd.Categorical(tiers, categories=GENERATED_TIERS),
        })

    snapshots = build_snapshots(classify, GENERATED_DATES)
    lines = 6000
    status = rng.choice(["completed", "cancelled", "refunded", "returned"], size=lines, p=[0.8, 0.07, 0.07, 0.06])
    value = np.round(rng.lognormal(4.0, 1.0, lines), 2)
    start = np.datetime64("2024-06-01T00:00:00")
    when = start + rng.integers(0, 500, lines) * np.timedelta64(1, "D")  # many orders on the snapshot dates
    when = when + np.where(rng.random(lines) < 0.3, rng.integers(0, 86400, lines), 0) * np.timedelta64(1, "s")
    orders = pd.DataFrame({
        # c0400 .. c0449 are in no snapshot: their orders must not count
        "customer_id": pd.Series([f"c{number:04d}" for number in rng.integers(0, 450, lines)], dtype="str"),
        "order_date": when.astype("datetime64[s]"),
        "status": pd.Series(status, dtype="str"),
        "revenue": np.where(status == "completed", value, np.where(status == "returned", -value, 0.0)),
    })
    return snapshots, orders


def with_ids(frame: pd.DataFrame, kind: str) -> pd.DataFrame:
    """The frame with its customer ids as another dtype: category, object, or numbers (c0012 -> 12)."""
    ids = frame["customer_id"]
    return frame.assign(customer_id=ids.str[1:].astype("int64") if kind == "numbers" else ids.astype(kind))


def reference_tier_effect(snapshots: pd.DataFrame, orders: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """tier_effect as its docstring says, one tier and one window at a time, in plain pandas."""
    dates = sorted(snapshots["snapshot_date"].unique())
    rows = []
    for before, after in zip(dates[:-1], dates[1:]):
        prior_start = before - (after - before)
        at = snapshots.loc[snapshots["snapshot_date"].eq(before)]
        for name in names:
            ids = at.loc[at["tier"].astype("object").eq(name), "customer_id"]
            mine = orders.loc[orders["customer_id"].isin(ids)]
            period = mine.loc[(mine["order_date"] >= before) & (mine["order_date"] < after)]
            prior = mine.loc[(mine["order_date"] >= prior_start) & (mine["order_date"] < before)]
            retained = period.loc[period["status"].eq("completed"), "customer_id"].nunique()
            revenue, revenue_prior = period["revenue"].sum(), prior["revenue"].sum()
            rows.append({
                "before": before, "after": after, "tier": name, "customers": len(ids), "retained": retained,
                "retention_rate": retained / len(ids) if len(ids) else np.nan,
                "revenue": revenue, "revenue_prior": revenue_prior,
                "growth_rate": revenue / revenue_prior - 1 if revenue_prior > 0 else np.nan,
            })
    return pd.DataFrame(rows).astype({"before": "datetime64[s]", "after": "datetime64[s]", "customers": "int64",
                                      "retained": "int64"})


def reference_pair(snapshots: pd.DataFrame, before: dt.date, after: dt.date) -> pd.DataFrame:
    """customer_id, tier_before, tier_after (labels) by an outer merge of the two snapshots."""
    def at(date: dt.date) -> pd.DataFrame:
        rows = snapshots.loc[snapshots["snapshot_date"].eq(pd.Timestamp(date)), ["customer_id", "tier"]]
        return rows.assign(tier=rows["tier"].astype("object").fillna(NO_TIER))

    pair = at(before).merge(at(after), on="customer_id", how="outer", suffixes=("_before", "_after"))
    return pair.fillna({"tier_before": NOT_YET, "tier_after": LEFT})


def test_tier_effect_matches_plain_pandas_on_a_generated_case():
    snapshots, orders = generated_case()
    expected = reference_tier_effect(snapshots, orders, GENERATED_TIERS)
    assert len(expected) == 4 * len(GENERATED_TIERS) and expected["retained"].gt(0).all()
    effect = tier_effect(snapshots, orders, GENERATED_TIERS)
    pd.testing.assert_frame_equal(effect.assign(tier=effect["tier"].astype("str")), expected, rtol=1e-12)
    # the same figures whatever the order of the rows and the dtype of the ids and tiers
    shuffled = orders.sample(frac=1.0, random_state=1)
    plain = snapshots.assign(tier=snapshots["tier"].astype("object"))
    for kind in ("category", "object", "numbers"):
        again = tier_effect(with_ids(plain, kind), with_ids(shuffled, kind), GENERATED_TIERS)
        pd.testing.assert_frame_equal(again, effect, rtol=1e-12)


def test_migration_matches_plain_pandas_on_a_generated_case():
    snapshots, orders = generated_case()
    for before, after in zip(GENERATED_DATES[:-1], GENERATED_DATES[1:]):
        pair = reference_pair(snapshots, before, after)
        rows, columns = [*GENERATED_TIERS, NO_TIER, NOT_YET], [*GENERATED_TIERS, NO_TIER, LEFT]
        counts = pd.crosstab(pair["tier_before"], pair["tier_after"]).reindex(index=rows, columns=columns, fill_value=0)
        matrix = transition_matrix(snapshots, before, after)
        np.testing.assert_array_equal(matrix.to_numpy(), counts.to_numpy())

        dated = orders["order_date"]
        window = orders.loc[(dated >= pd.Timestamp(before)) & (dated < pd.Timestamp(after))]
        spend = pair["customer_id"].map(window.groupby("customer_id")["revenue"].sum()).fillna(0.0)
        revenue = spend.groupby([pair["tier_before"], pair["tier_after"]]).sum().unstack(fill_value=0.0)
        revenue = revenue.reindex(index=rows, columns=columns, fill_value=0.0)
        matrix = transition_matrix(snapshots, before, after, value="revenue", orders=orders)
        np.testing.assert_allclose(matrix.to_numpy(), revenue.to_numpy(), rtol=1e-12)
        numbered = transition_matrix(with_ids(snapshots, "numbers"), before, after, value="revenue",
                                     orders=with_ids(orders, "numbers"))
        np.testing.assert_allclose(numbered.to_numpy(), revenue.to_numpy(), rtol=1e-12)

        rank = {name: position for position, name in enumerate(GENERATED_TIERS)}
        both = pair.loc[pair["tier_before"].isin(rank) & pair["tier_after"].isin(rank)]
        shift = both["tier_before"].map(rank) - both["tier_after"].map(rank)
        moved = both.assign(up=shift > 0, steps=shift.abs()).loc[shift != 0]
        moved = moved.sort_values(["up", "steps", "customer_id"], ascending=[False, False, True])
        result = movers(snapshots, before, after, GENERATED_TIERS)
        assert result["customer_id"].tolist() == moved["customer_id"].tolist()
        assert result["tier_before"].astype("object").tolist() == moved["tier_before"].tolist()
        assert result["tier_after"].astype("object").tolist() == moved["tier_after"].tolist()
        assert result["steps"].tolist() == moved["steps"].tolist()
        assert result["direction"].eq("up").tolist() == moved["up"].tolist()


# ------------------------------------------------------------------ ids as codes (segmentation's)
def test_coded_ids_give_the_same_snapshots_and_tier_effect():
    """Ids of one categorical dtype, in code order, take the paths that compare integer codes;
    the results are those of the text ids, also with customers missing, repeated or unsorted."""
    snapshots, orders = generated_case()
    ids = pd.CategoricalDtype(sorted(set(snapshots["customer_id"]) | set(orders["customer_id"])))
    coded_orders = orders.assign(customer_id=orders["customer_id"].astype(ids))

    def coded(date: dt.date) -> pd.DataFrame:
        rows = snapshots.loc[snapshots["snapshot_date"].eq(pd.Timestamp(date))].drop(columns="snapshot_date")
        return rows.assign(customer_id=rows["customer_id"].astype(ids))

    stacked = build_snapshots(coded, GENERATED_DATES)
    pd.testing.assert_frame_equal(stacked.assign(customer_id=stacked["customer_id"].astype("str")), snapshots)
    effect = tier_effect(snapshots, orders, GENERATED_TIERS)
    pd.testing.assert_frame_equal(tier_effect(stacked, coded_orders, GENERATED_TIERS), effect)
    # an order without a customer counts nowhere, as with text ids
    named = np.arange(len(orders)) % 7 > 0
    expected = tier_effect(snapshots, orders.assign(customer_id=orders["customer_id"].where(named)), GENERATED_TIERS)
    gaps = coded_orders.assign(customer_id=coded_orders["customer_id"].where(named))
    pd.testing.assert_frame_equal(tier_effect(stacked, gaps, GENERATED_TIERS), expected)

    # codes out of order are sorted; a repeated customer is still refused
    reversed_rows = lambda date: coded(date).iloc[::-1]  # noqa: E731
    pd.testing.assert_frame_equal(build_snapshots(reversed_rows, GENERATED_DATES), stacked)
    twice = lambda date: pd.concat([coded(date), coded(date).iloc[:1]])  # noqa: E731
    with pytest.raises(ValueError, match="more than once"):
        build_snapshots(twice, GENERATED_DATES)
