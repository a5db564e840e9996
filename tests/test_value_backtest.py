"""The value models' holdout backtest and the warnings on the customer value: what happened after the
cut-off (hand-checked), the backtest on a generated sample against figures computed here with plain
pandas, the choice among candidates, the skips, and each warning's reason and figures."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd
import pytest

from custseg import words
from custseg.config import Value
from custseg.segment import clv, value_backtest
from custseg.segment.clv import ModelSpec, ValueModels
from custseg.segment.value_backtest import ValueBacktest, backtest, candidates, outcome, span_days, warnings

DATE = dt.date(2026, 10, 1)


def _orders(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["order_id", "customer_id", "order_date", "status", "revenue", "refunded_on",
                                        "reverses"])
    return frame.assign(order_date=pd.to_datetime(frame["order_date"], format="ISO8601").astype("datetime64[ms]"),
                        refunded_on=pd.to_datetime(frame["refunded_on"]).astype("datetime64[ms]"))


def test_the_outcome_counts_purchase_days_that_stand_at_their_net_value():
    orders = _orders([
        ("1", "A", "2026-01-05", "completed", 100.0, None, None),  # before the span
        ("2", "A", "2026-02-01 10:00", "completed", 50.0, None, None),  # one day: one purchase worth 80
        ("3", "A", "2026-02-01 15:00", "completed", 30.0, None, None),
        ("4", "A", "2026-02-10", "completed", 200.0, None, None),
        ("5", "A", "2026-02-12", "returned", -50.0, None, "4"),  # part of order 4 came back: worth 150
        ("6", "B", "2026-02-03", "refunded", 70.0, "2026-02-20", None),  # undone within the span: no purchase
        ("7", "B", "2026-02-04", "refunded", 90.0, "2026-03-05", None),  # undone only after it: a purchase then
        ("8", "C", "2026-03-01", "completed", 999.0, None, None),  # on the end date: after the span
        ("9", "D", "2026-02-15", "cancelled", 0.0, None, None),
    ])
    before = orders.copy(deep=True)
    found = outcome(orders, dt.date(2026, 2, 1), dt.date(2026, 3, 1)).set_index("customer_id")
    pd.testing.assert_frame_equal(orders, before)
    assert found.index.tolist() == ["A", "B"]
    assert found.loc["A", "purchases"] == 2 and found.loc["A", "revenue"] == pytest.approx(230.0)
    assert found.loc["B", "purchases"] == 1 and found.loc["B", "revenue"] == pytest.approx(90.0)


def test_the_span_is_the_horizon_or_half_the_history_and_the_candidates_follow_the_config():
    assert span_days(1000, Value(horizon_days=365)) == 365
    assert span_days(182, Value(horizon_days=192)) == 91
    assert span_days(182, Value(horizon_days=192, backtest_days=61)) == 61
    specs = candidates(Value())
    assert len(specs) == 8 and specs[0] == ModelSpec("bgnbd", 0.0, "repeat")
    assert [s.model for s in specs] == ["bgnbd"] * 4 + ["mbgnbd"] * 4
    assert candidates(Value(model="mbgnbd", penalizer=0.0, order_value_purchases="all")) == [
        ModelSpec("mbgnbd", 0.0, "all")]
    assert {s.penalizer for s in candidates(Value(model="bgnbd"))} == {0.0, 0.001}


def test_near_ties_go_to_the_candidate_listed_first():
    choose = value_backtest._choose
    assert choose(np.array([0.10, 0.096, 0.20])) == 0  # 0.4 points better: noise
    assert choose(np.array([0.10, 0.09, 0.20])) == 1
    assert choose(np.array([np.nan, 0.3, 0.2])) == 2  # a failed fit is never chosen


@pytest.fixture(scope="module")
def sample(intake_1500):
    config, tables, _ = intake_1500
    orders = tables["orders"]

    def spend_tiers(date: dt.date) -> pd.Series:
        """A tier anyone can recompute: spend before the date above or below the median."""
        before = orders.loc[orders["status"].eq("completed") & orders["order_date"].lt(pd.Timestamp(date))]
        spend = before.groupby("customer_id")["revenue"].sum()
        return pd.Series(pd.Categorical(np.where(spend >= spend.median(), "big", "small"), categories=["big", "small"]),
                         index=spend.index.astype("str"))

    return orders, spend_tiers, backtest(orders, DATE, config.value, spend_tiers)


def test_the_backtest_compares_predictions_with_what_customers_bought(sample):
    orders, spend_tiers, check = sample
    assert check.skipped is None and check.days == 365 and check.cutoff == dt.date(2025, 10, 1)
    assert check.history_days == (DATE - orders["order_date"].min().date()).days
    # what happened, recomputed with plain pandas: this sample's refunds are never purchases
    cut = pd.Timestamp(check.cutoff)
    done = orders.loc[orders["status"].eq("completed")]
    known = set(done.loc[done["order_date"] < cut, "customer_id"])
    dated = (done["order_date"] >= cut) & (done["order_date"] < pd.Timestamp(DATE))
    later = done.loc[dated & done["customer_id"].isin(known)]
    groups = check.groups
    whole = groups.loc[groups["kind"].eq("all")].iloc[0]
    assert whole["customers"] == len(known)
    assert whole["actual_revenue"] == pytest.approx(later["revenue"].sum())
    days = later.assign(day=later["order_date"].dt.floor("D"))[["customer_id", "day"]]
    assert whole["actual_purchases"] == days.drop_duplicates().shape[0]
    tiers = spend_tiers(check.cutoff)
    for tier in ("big", "small"):
        row = groups.loc[groups["kind"].eq("tier") & groups["group"].eq(tier)].iloc[0]
        mine = later.loc[later["customer_id"].map(tiers).eq(tier)]
        assert row["actual_revenue"] == pytest.approx(mine["revenue"].sum())
        assert row["customers"] == tiers.eq(tier).sum()
    # every kind of group covers every customer once
    for kind in ("tier", "frequency"):
        rows = groups.loc[groups["kind"].eq(kind)]
        for column in ("customers", "predicted_revenue", "actual_revenue", "actual_purchases"):
            assert rows[column].sum() == pytest.approx(whole[column])
    assert groups.loc[groups["kind"].eq("frequency"), "group"].tolist() == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert groups.loc[groups["kind"].eq("tier"), "group"].tolist() == ["big", "small"]
    # the chosen candidate's predictions are its model's, fitted before the cut-off
    models = clv.fit_value_models(clv.rfm_summary(orders, check.cutoff), Value(), check.chosen)
    _, revenue = clv.predicted_revenue(clv.rfm_summary(orders, check.cutoff), models, 365)
    assert whole["predicted_revenue"] == pytest.approx(revenue.sum())
    assert check.error() == pytest.approx(revenue.sum() / whole["actual_revenue"] - 1)


def test_the_candidate_with_the_smallest_error_over_base_and_tiers_is_chosen(sample):
    _, _, check = sample
    table = check.candidates
    assert len(table) == 8 and table["chosen"].sum() == 1 and check.chosen_by == "backtest"
    chosen = table.loc[table["chosen"]].iloc[0]
    assert ModelSpec(chosen["model"], chosen["penalizer"], chosen["order_value_purchases"]) == check.chosen
    assert chosen["error"] <= table["error"].min() + value_backtest.TIE
    earlier = table.loc[: table.index[table["chosen"]][0] - 1, "error"]
    assert (earlier > table["error"].min() + value_backtest.TIE).all()
    # the error is the worst of the whole base and the tiers
    worst = max(abs(check.error()), *(abs(check.error("tier", t)) for t in ("big", "small")))
    assert chosen["error"] == pytest.approx(worst)
    facts = check.summary()
    assert facts["cutoff"] == "2025-10-01" and facts["days"] == 365 and set(facts["tier_errors"]) == {"big", "small"}
    assert sum(c["chosen"] for c in facts["candidates"]) == 1
    assert {"spearman_revenue", "auc_expected_purchases", "auc_recency", "auc_p_alive"} <= set(facts["metrics"])
    assert -1 <= facts["metrics"]["spearman_revenue"] <= 1


def test_the_backtest_is_deterministic(sample, intake_1500):
    config, tables, _ = intake_1500
    orders, spend_tiers, check = sample
    again = backtest(orders, DATE, config.value, spend_tiers)
    pd.testing.assert_frame_equal(again.candidates, check.candidates)
    pd.testing.assert_frame_equal(again.groups, check.groups)
    assert again.chosen == check.chosen and again.metrics == check.metrics


def test_a_fixed_spec_is_backtested_alone(sample, intake_1500):
    config, _, _ = intake_1500
    orders, _, _ = sample
    settings = Value(model="mbgnbd", penalizer=0.0, order_value_purchases="repeat", backtest_days=90)
    fixed = backtest(orders, DATE, settings)
    assert fixed.chosen_by == "config" and fixed.chosen == ModelSpec("mbgnbd", 0.0, "repeat")
    assert len(fixed.candidates) == 1 and fixed.days == 90 and fixed.cutoff == DATE - dt.timedelta(days=90)
    assert fixed.groups["kind"].unique().tolist() == ["all", "frequency"]  # no tiers given


def test_the_backtest_says_why_it_was_not_run(sample):
    orders, _, _ = sample
    short = orders.loc[orders["order_date"] >= pd.Timestamp(DATE - dt.timedelta(days=10))]
    skipped = backtest(short, DATE, Value())
    assert skipped.skipped["reason"] == "short_history" and skipped.cutoff is None and skipped.chosen_by == "default"
    assert skipped.chosen == ModelSpec("bgnbd", 0.0, "repeat") and skipped.groups.empty
    too_long = backtest(orders, DATE, Value(backtest_days=5000))
    assert too_long.skipped["reason"] == "short_history"
    few = backtest(orders, DATE, Value(min_repeat_buyers=10**6))
    assert few.skipped["reason"] == "fit_failed" and few.skipped["error"]["reason"] == "few_repeat_buyers"
    assert few.skipped["error"]["min_repeat_buyers"] == 10**6
    assert few.summary()["skipped"]["reason"] == "fit_failed"
    assert "min_repeat_buyers = 1000000" in words.value_fit_error(few.skipped["error"])


# --- warnings -------------------------------------------------------------------------------------


def _models(**params) -> ValueModels:
    base = dict(r=0.8, alpha=9.0, a=0.8, b=2.4, p=6.0, q=3.7, v=15.0, log_likelihood=0.0, gg_log_likelihood=0.0,
                n_customers=0, n_repeat_buyers=0, frequency_value_corr=0.0, time_unit_days=7, penalizer=0.0,
                seconds=0.0)
    return ValueModels(**{**base, **params})


def _check(errors: dict[str, float] | None = None, history: int = 1000, days: int = 365) -> ValueBacktest:
    """A backtest whose groups have the given predicted / actual - 1 of revenue."""
    errors = errors or {"all": 0.0}
    rows = [("all" if group == "all" else "tier", group, 10, 5.0, 5.0, 100.0 * (1 + error), 100.0)
            for group, error in errors.items()]
    groups = pd.DataFrame(rows, columns=value_backtest.GROUP_COLUMNS)
    return ValueBacktest(DATE - dt.timedelta(days=days), days, history, ModelSpec(), "backtest",
                         value_backtest._empty(value_backtest.CANDIDATE_COLUMNS), groups)


def _scored(p_alive: list[float]) -> pd.DataFrame:
    return pd.DataFrame({"one_time_buyer": [False] * len(p_alive) + [True],
                         "p_alive": [*p_alive, np.nan]})


def _reasons(found: list[dict]) -> list[str]:
    return [w["reason"] for w in found]


def test_a_sound_fit_on_a_long_history_carries_no_warning():
    months = frozenset(range(1, 13))
    found = warnings(_models(), _scored([0.2, 0.5, 0.95, 0.999]), _check(), Value(), DATE, months)
    assert found == []


def test_a_degenerate_fit_and_p_alive_near_one_are_warned_with_their_figures():
    months = frozenset(range(1, 13))
    found = warnings(_models(a=1.7e-6, b=59_211.0), _scored([0.995] * 19 + [0.5]), _check(), Value(), DATE, months)
    assert _reasons(found) == ["degenerate_fit", "p_alive_near_one"]
    assert found[0]["parameters"] == {"a": 1.7e-6, "b": 59_211.0} and found[0]["model"] == "bgnbd"
    assert found[1]["share"] == pytest.approx(0.95) and found[1]["repeat_buyers"] == 20
    # 85% near one is below the 90% a warning takes
    assert warnings(_models(), _scored([0.995] * 17 + [0.5] * 3), _check(), Value(), DATE, months) == []


def test_a_short_history_and_unseen_months_are_warned():
    # half a year, December to May, before a June observation date and a 192-day horizon
    seen = frozenset({12, 1, 2, 3, 4, 5})
    found = warnings(_models(), _scored([0.5]), _check(history=182, days=91), Value(horizon_days=192),
                     dt.date(2010, 6, 1), seen)
    assert _reasons(found) == ["short_history", "unseen_months"]
    assert found[0] == {"reason": "short_history", "history_days": 182, "horizon_days": 192, "backtest_days": 91,
                        "max_error": 0.2}
    assert found[1] == {"reason": "unseen_months", "months": [6, 7, 8, 9, 10, 11], "horizon_months": 7}
    assert value_backtest.horizon_months(dt.date(2010, 6, 1), 192) == {6, 7, 8, 9, 10, 11, 12}
    assert value_backtest.horizon_months(dt.date(2026, 1, 1), 31) == {1}


def test_backtest_errors_above_the_configured_share_are_warned_per_scope():
    months = frozenset(range(1, 13))
    check = _check({"all": -0.15, "high": -0.27, "mid": 0.05, "low": 0.31})
    found = warnings(_models(), _scored([0.5]), check, Value(), DATE, months)
    assert [(w["scope"], w["group"]) for w in found] == [("tier", "high"), ("tier", "low")]
    assert found[0]["error"] == pytest.approx(-0.27) and found[0]["max_error"] == 0.2 and found[0]["days"] == 365
    strict = warnings(_models(), _scored([0.5]), check, Value(max_backtest_error=0.1), DATE, months)
    assert [w["group"] for w in strict] == ["all", "high", "low"]
    # the observed stand-in is not a prediction: nothing to warn about it, however short the history
    assert warnings(None, None, _check(history=50), Value(), DATE, frozenset({9})) == []


def test_no_backtest_is_warned_with_its_cause():
    months = frozenset(range(1, 13))
    error = {"reason": "few_repeat_buyers", "repeat_buyers": 3, "customers": 40, "min_repeat_buyers": 100}
    failed = {"reason": "fit_failed", "error": error}
    skipped = dataclasses.replace(_check(), cutoff=None, days=0, skipped=failed)
    found = warnings(_models(), _scored([0.5]), skipped, Value(), DATE, months)
    assert found == [{"reason": "no_backtest", "cause": "fit_failed", "error": error}]
