"""Churn early warning: each rule at its edges, the label, no leakage, the backtest on a generated
sample with a known answer, the too-short path, and the watch list."""

from __future__ import annotations

import datetime as dt
import json
import re

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError
from sklearn.metrics import roc_auc_score

from custseg import words
from custseg.config import Churn, ConfigError, load_config
from custseg.segment.churn import (
    BASELINE,
    MODEL_FEATURES,
    RECALIBRATED,
    RULES,
    SEASON_FEATURES,
    backtest,
    labelled_features,
    rule_table,
    warnings,
    watch_list,
)
from custseg.segment.churn._backtest import _platt
from custseg.segment.features import customer_table

OBS = dt.date(2026, 10, 1)
DEFAULTS = Churn()  # cadence x2, min 3 orders, tiers high 90 / mid 120 / low 180, other 120, min 30, lost 365


# ---------------------------------------------------------------------------------------------
# Rules on hand-made customers
# ---------------------------------------------------------------------------------------------

def customer(cid: str, **values) -> dict:
    """A buyer with nothing to warn about, unless `values` say otherwise."""
    row = {
        "customer_id": cid, "frequency": 8, "recency_days": 10, "cadence_days": 30.0, "tier": "mid",
        "orders_90d": 2, "orders_prev_90d": 2, "satisfaction_latest": 4.0, "satisfaction_trend": 0.0,
        "interactions_90d": 3, "interactions_365d": 12,
    }
    return {**row, **values}


def table(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    types = {"customer_id": "str", "frequency": "int64", "recency_days": "Int64", "cadence_days": "float64",
             "orders_90d": "int64", "orders_prev_90d": "int64", "satisfaction_latest": "float64",
             "satisfaction_trend": "float64", "interactions_90d": "int64", "interactions_365d": "int64"}
    return frame.astype({k: v for k, v in types.items() if k in frame})


def fired(rows: list[dict], rule: str, settings: Churn = DEFAULTS) -> dict[str, bool]:
    result = warnings(table(rows), settings)
    return dict(zip(result["customer_id"], result[rule]))


def worded(result: pd.DataFrame) -> pd.Series:
    """The reasons of churn.warnings in English words, by customer (as the watch-list export says them)."""
    return result.set_index("customer_id")["reasons"].map(words.churn_reasons)


def test_a_quiet_buyer_has_no_warning():
    result = warnings(table([customer("calm")]), DEFAULTS)
    assert result.loc[0, "warning_count"] == 0 and len(result.loc[0, "reasons"]) == 0
    assert list(result.columns) == ["customer_id", *RULES, "warning_count", "reasons"]


def test_silence_against_own_cadence_at_the_edge():
    rows = [
        customer("at_limit", recency_days=60),  # 2 x 30 days: not more than
        customer("over", recency_days=61),
        customer("fast_buyer_short_silence", recency_days=30, cadence_days=5.0),  # 6x cadence, but 30 days only
        customer("fast_buyer_long_silence", recency_days=31, cadence_days=5.0),
    ]
    assert fired(rows, "warn_silence") == {
        "at_limit": False, "over": True, "fast_buyer_short_silence": False, "fast_buyer_long_silence": True,
    }
    reasons = worded(warnings(table(rows), DEFAULTS))
    assert reasons["over"] == "silent 61 days, 2x own cadence of 30 days"
    assert reasons["fast_buyer_long_silence"] == "silent 31 days, 6.2x own cadence of 5 days"


def test_silence_of_few_order_customers_uses_the_tier_limit():
    rows = [
        customer("high_at_limit", frequency=2, tier="high", recency_days=90, cadence_days=20.0),
        customer("high_over", frequency=2, tier="high", recency_days=91, cadence_days=20.0),
        customer("low_under", frequency=1, tier="low", recency_days=180, cadence_days=np.nan),
        customer("vip_unlisted", frequency=1, tier="vip", recency_days=121, cadence_days=np.nan),
        customer("three_orders_use_cadence", frequency=3, tier="high", recency_days=61, cadence_days=30.0),
        customer("four_orders_one_day", frequency=4, tier="high", recency_days=91, cadence_days=np.nan),
    ]
    assert fired(rows, "warn_silence") == {
        "high_at_limit": False, "high_over": True, "low_under": False, "vip_unlisted": True,
        "three_orders_use_cadence": True, "four_orders_one_day": True,
    }
    reasons = worded(warnings(table(rows), DEFAULTS))
    assert reasons["high_over"] == (
        "silent 91 days, over the 90-day limit for high-tier customers with fewer than 3 orders"
    )
    assert reasons["vip_unlisted"] == "silent 121 days, over the 120-day limit for customers with fewer than 3 orders"
    assert reasons["four_orders_one_day"] == (
        "silent 91 days, over the 90-day limit for high-tier customers whose orders all fell on one day"
    )

    custom = Churn(silence_days_by_tier={"high": 30}, silence_days=200)
    assert fired(rows, "warn_silence", custom)["high_at_limit"] is True
    assert fired(rows, "warn_silence", custom)["vip_unlisted"] is False
    no_tier = warnings(table(rows).drop(columns="tier"), DEFAULTS)  # every few-order customer: silence_days
    assert dict(zip(no_tier["customer_id"], no_tier["warn_silence"]))["high_over"] is False


def test_lost_customers_and_prospects_get_no_warnings():
    rows = [
        customer("last_saveable_day", recency_days=365, orders_90d=0, satisfaction_latest=1.0),
        customer("lost", recency_days=366, orders_90d=0, satisfaction_latest=1.0),
        customer("prospect", frequency=0, recency_days=None, cadence_days=np.nan, orders_90d=0, orders_prev_90d=0),
    ]
    counts = dict(zip(*warnings(table(rows), DEFAULTS)[["customer_id", "warning_count"]].T.to_numpy()))
    assert counts == {"last_saveable_day": 2, "lost": 0, "prospect": 0}


def test_falling_trend_needs_enough_earlier_orders():
    rows = [
        customer("halved", orders_90d=2, orders_prev_90d=4),
        customer("a_bit_less", orders_90d=3, orders_prev_90d=4),
        customer("one_to_none", orders_90d=0, orders_prev_90d=2),  # too few before to call it a trend
        customer("three_to_one", orders_90d=1, orders_prev_90d=3),
    ]
    assert fired(rows, "warn_trend") == {
        "halved": True, "a_bit_less": False, "one_to_none": False, "three_to_one": True,
    }
    reasons = worded(warnings(table(rows), DEFAULTS))
    assert reasons["halved"] == "orders in the last 90 days 2 vs 4 in the 90 days before"


def test_low_or_falling_satisfaction():
    rows = [
        customer("low", satisfaction_latest=2.0),
        customer("middling", satisfaction_latest=3.0, satisfaction_trend=-0.9),
        customer("fell", satisfaction_latest=3.0, satisfaction_trend=-1.5),
        customer("never_asked", satisfaction_latest=np.nan, satisfaction_trend=np.nan),
    ]
    assert fired(rows, "warn_satisfaction") == {"low": True, "middling": False, "fell": True, "never_asked": False}
    reasons = worded(warnings(table(rows), DEFAULTS))
    assert reasons["low"] == "latest satisfaction 2/5"
    assert reasons["fell"] == "latest satisfaction 3/5, 1.5 below the earlier average"


def test_drop_in_interactions():
    # earlier rate per 90 days = (365d - 90d) x 90 / 275
    rows = [
        customer("went_quiet", interactions_90d=0, interactions_365d=11),  # 3.6 before -> 0
        customer("half", interactions_90d=2, interactions_365d=13),  # 11 x 90/275 = 3.6; 2 > 1.8
        customer("rarely_talked", interactions_90d=0, interactions_365d=6),  # 2.0 - a hair under 2
        customer("just_enough_before", interactions_90d=0, interactions_365d=7),  # 2.3
    ]
    assert fired(rows, "warn_interactions") == {
        "went_quiet": True, "half": False, "rarely_talked": False, "just_enough_before": True,
    }
    reasons = worded(warnings(table(rows), DEFAULTS))
    assert reasons["went_quiet"] == "contacts in the last 90 days 0 vs 3.6 per 90 days before"


def test_reasons_join_every_rule_that_fired_in_order():
    row = customer("all", recency_days=140, cadence_days=50.0, orders_90d=0, orders_prev_90d=4,
                   satisfaction_latest=2.0, interactions_90d=0, interactions_365d=20)
    result = warnings(table([row]), DEFAULTS).iloc[0]
    assert result["warning_count"] == 4
    assert [reason["reason"] for reason in result["reasons"]] == ["silence", "trend", "satisfaction", "interactions"]
    assert words.churn_reasons(result["reasons"]) == (
        "silent 140 days, 2.8x own cadence of 50 days; orders in the last 90 days 0 vs 4 in the 90 days before; "
        "latest satisfaction 2/5; contacts in the last 90 days 0 vs 6.5 per 90 days before"
    )


def test_rules_without_their_columns_never_fire_and_input_is_untouched():
    frame = table([customer("a", satisfaction_latest=1.0, interactions_90d=0, interactions_365d=30)]).set_index(
        pd.Index([7])
    )
    before = frame.copy()
    bare = frame.drop(columns=["satisfaction_latest", "satisfaction_trend", "interactions_90d", "interactions_365d"])
    result = warnings(bare, DEFAULTS)
    assert not result["warn_satisfaction"].any() and not result["warn_interactions"].any()
    full = warnings(frame, DEFAULTS)
    assert full.index.tolist() == [7] and full.loc[7, "warning_count"] == 2
    pd.testing.assert_frame_equal(frame, before)
    with pytest.raises(ValueError, match="recency_days"):
        warnings(frame.drop(columns="recency_days"), DEFAULTS)


def test_rule_table_names_the_configured_numbers():
    rules = rule_table(Churn(silence_factor=2.5, trend_min_orders=4)).set_index("rule")["figures"]
    assert list(rules.index) == list(RULES)
    assert json.loads(rules["warn_silence"])["factor"] == 2.5 and json.loads(rules["warn_trend"])["min_orders"] == 4
    said = {rule: words.churn_rule(rule, figures) for rule, figures in rules.items()}
    assert "2.5 x own cadence" in said["warn_silence"] and "at least 4" in said["warn_trend"]


def test_rules_in_english_words_are_the_sentences_of_before():
    # the English words of the rule facts are the sentences churn_rules.parquet used to hold
    s = Churn(silence_days_by_tier={"high": 90, "mid": 120}, silence_factor=2.5)
    rules = rule_table(s).set_index("rule")["figures"]
    assert words.churn_rule("warn_silence", rules["warn_silence"]) == (
        f"silent for more than 2.5 x own cadence (customers with at least {s.min_orders_for_cadence} orders), else "
        f"more than the tier's limit in days (high 90, mid 120; {s.silence_days} for other tiers); never for "
        f"{s.silence_min_days} days or less"
    )
    assert words.churn_rule("warn_trend", rules["warn_trend"]) == (
        f"orders in the last 90 days at most {s.trend_drop:g} x those of the 90 days before, which held at least "
        f"{s.trend_min_orders}"
    )
    assert words.churn_rule("warn_satisfaction", rules["warn_satisfaction"]) == (
        f"latest satisfaction at most {s.satisfaction_low:g} of 5, or at least {s.satisfaction_drop:g} below the "
        "customer's earlier average"
    )
    assert words.churn_rule("warn_interactions", rules["warn_interactions"]) == (
        f"contacts in the last 90 days at most {s.interactions_drop:g} x the earlier rate per 90 days, which was at "
        f"least {s.interactions_min:g}"
    )


# ---------------------------------------------------------------------------------------------
# Label and leakage on hand-made orders
# ---------------------------------------------------------------------------------------------

def orders(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["customer_id", "order_date", "status"])
    revenue = np.where(frame["status"].eq("completed"), 100.0, 0.0)
    return frame.assign(customer_id=frame["customer_id"].astype("str"),
                        order_date=pd.to_datetime(frame["order_date"], format="ISO8601"), revenue=revenue)


def test_label_window_is_date_to_date_plus_horizon_exclusive():
    t = dt.date(2026, 1, 1)
    table_ = orders([
        ("on_edge", "2025-12-01", "completed"), ("on_edge", "2026-01-31", "completed"),  # t + 30: outside
        ("last_minute", "2025-12-01", "completed"), ("last_minute", "2026-01-30 23:00", "completed"),
        ("on_the_date", "2025-12-01", "completed"), ("on_the_date", "2026-01-01", "completed"),
        ("not_orders", "2025-12-01", "completed"), ("not_orders", "2026-01-05", "cancelled"),
        ("not_orders", "2026-01-06", "refunded"), ("not_orders", "2026-01-07", "returned"),
        ("never_bought", "2025-12-01", "refunded"), ("never_bought", "2026-01-02", "completed"),
        ("future_only", "2026-01-02", "completed"),
    ])
    result = labelled_features({"orders": table_}, t, horizon_days=30)
    labels = dict(zip(result["customer_id"], result["churned_next"]))
    assert labels == {"last_minute": False, "not_orders": True, "on_edge": True, "on_the_date": False}
    # the order on the date itself is a label, not a feature
    assert result.set_index("customer_id").loc["on_the_date", "frequency"] == 1
    with pytest.raises(ValueError, match="horizon_days"):
        labelled_features({"orders": table_}, t, horizon_days=0)


def test_features_at_a_date_ignore_everything_after_it(sample):
    tables, _ = sample
    t = dt.date(2026, 4, 4)
    full = labelled_features(tables, t, 90)
    # customer attributes are not dated events: only orders, contacts and answers are cut
    cut = {name: frame if name == "customers" else frame.loc[frame[_DATE[name]] < pd.Timestamp(t)]
           for name, frame in tables.items()}
    truncated = customer_table(cut, t)
    truncated = truncated.loc[truncated["frequency"].gt(0)].reset_index(drop=True)
    pd.testing.assert_frame_equal(full.drop(columns="churned_next"), truncated)
    assert 0.2 < full["churned_next"].mean() < 0.8  # the label did see the later orders


_DATE = {"orders": "order_date", "customers": "signup_date", "interactions": "interaction_date",
         "feedback": "feedback_date"}


# ---------------------------------------------------------------------------------------------
# Backtest on a generated sample with a known answer
# ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sample(intake_1500):
    _, tables, truth = intake_1500
    return {name: tables[name] for name in ("orders", "customers", "interactions", "feedback")}, truth


@pytest.fixture(scope="module")
def result(sample):
    tables, _ = sample
    return backtest(tables, OBS, DEFAULTS)


def test_backtest_windows_and_tables(result, sample):
    assert result.note is None
    assert (result.train_date, result.validation_date) == (dt.date(2026, 4, 4), dt.date(2026, 7, 3))
    assert set(result.features) <= set(MODEL_FEATURES) | set(SEASON_FEATURES) and "recency_days" in result.features
    metrics = result.metrics
    assert len(metrics) == 6 and metrics["chosen"].sum() == 2  # the winner, in both populations
    assert metrics[["roc_auc", "pr_auc", "top_decile_lift"]].notna().all().all()
    lift = metrics["top_decile_precision"] / metrics["base_rate"]
    np.testing.assert_allclose(metrics["top_decile_lift"], lift)
    assert (result.calibration.groupby(["population", "candidate"]).size() == 10).all()
    assert set(result.importances["feature"]) == set(result.features)
    not_lost = metrics.loc[metrics["population"].eq("not_lost")].set_index("candidate")["roc_auc"]
    assert result.chosen == not_lost.idxmax() and words.model_choice(result.choice).startswith(
        f"{result.chosen}: validation ROC AUC {result.choice['roc_auc']:.3f} vs ")
    json_safe = result.summary()
    assert json_safe["chosen"] == result.chosen and len(json_safe["metrics"]) == 6

    tables, _ = sample
    now = customer_table(tables, OBS)
    probability = result.churn_probability
    assert probability.index.tolist() == now.loc[now["frequency"].gt(0), "customer_id"].tolist()
    assert probability.between(0, 1).all()


def test_the_model_beats_recency_and_finds_the_churners(result, sample):
    metrics = result.metrics.set_index(["population", "candidate"])["roc_auc"]
    assert result.chosen != BASELINE, result.choice
    # measured on this sample: model 0.74 vs recency 0.66 (not lost), 0.88 vs 0.84 (all buyers)
    assert metrics["not_lost", result.chosen] > metrics["not_lost", BASELINE] + 0.04
    assert metrics["buyers", result.chosen] > metrics["buyers", BASELINE] + 0.02

    # Against the generator's truth (no order in the 90 days after OBS). Among all buyers the
    # top decile is the long lost, all churned; among the not lost it is the real test.
    _, truth = sample
    tables, _ = sample
    now = customer_table(tables, OBS).set_index("customer_id")
    probability = result.churn_probability
    churned = truth.set_index("customer_id")["churned"].reindex(probability.index)
    not_lost = (now["recency_days"].reindex(probability.index) <= DEFAULTS.lost_after_days).to_numpy()
    for members, floor in ((np.ones(len(probability), dtype=bool), 0.95), (not_lost, 0.5)):
        p, y = probability[members], churned[members]
        top = p.sort_values(ascending=False, kind="stable").index[: int(np.ceil(0.1 * len(p)))]
        precision = y[top].mean()  # measured 1.0 and 0.68 (base rates 0.43, 0.28)
        assert precision >= floor and precision >= 1.8 * y.mean(), (precision, y.mean())
    # measured 0.776 vs 0.750
    recency = now["recency_days"].reindex(probability.index).astype("float64")
    assert roc_auc_score(churned[not_lost], probability[not_lost]) > roc_auc_score(churned[not_lost], recency[not_lost])


def test_backtest_is_deterministic(result, sample):
    tables, _ = sample
    again = backtest(tables, OBS, DEFAULTS)
    pd.testing.assert_frame_equal(result.metrics, again.metrics)
    pd.testing.assert_frame_equal(result.calibration, again.calibration)
    pd.testing.assert_frame_equal(result.importances, again.importances)
    pd.testing.assert_series_equal(result.churn_probability, again.churn_probability)
    assert result.choice == again.choice


def _since(tables: dict, days: int) -> dict:
    """The tables without the rows dated more than `days` before OBS (customers kept)."""
    start = pd.Timestamp(OBS) - pd.Timedelta(days=days)
    return {name: frame.loc[frame[_DATE[name]].isna() | (frame[_DATE[name]] >= start)] if name != "customers"
            else frame for name, frame in tables.items()}


def test_the_model_learns_from_a_year_of_origins_and_the_time_of_year(result):
    # every 30 days back from the validation date: 13 dates cover a year, so the season is a feature
    assert len(result.origins) == DEFAULTS.max_origins and result.origins[0] == result.validation_date
    steps = {(a - b).days for a, b in zip(result.origins, result.origins[1:])}
    assert steps == {DEFAULTS.origin_step_days}
    assert result.seasonal and set(SEASON_FEATURES) <= set(result.features)
    # the candidates learnt only from dates whose 90-day windows end by the validation date
    last_start = result.validation_date - dt.timedelta(days=90)
    assert result.training_origins == tuple(t for t in result.origins if t <= last_start)
    assert result.rate_error is not None and abs(result.rate_error) < DEFAULTS.max_rate_error, result.rate_error
    assert result.warnings == () and result.summary()["warnings"] == []
    # the map from the same weeks a year before, replayed at the validation date and judged there
    mapped = result.calibration.loc[result.calibration["candidate"].eq(result.chosen + RECALIBRATED)]
    assert len(mapped) == 10
    count = mapped["n"].sum()
    judged = mapped["mean_predicted"] @ mapped["n"] / count - mapped["observed_rate"] @ mapped["n"] / count
    assert judged == pytest.approx(result.rate_error, abs=1e-9)


def test_too_short_a_history_skips_the_model_with_a_reason(sample):
    tables, _ = sample
    recent = _since(tables, 110)  # the first date to learn from needs 30 days of orders before OBS - 90
    short = backtest(recent, OBS, DEFAULTS)
    assert short.chosen is None and short.metrics.empty and short.importances.empty
    assert short.note["reason"] == "no_history" and short.note["start_needed"] == "2026-06-03"
    note = words.churn_model_note(short.note)
    assert "needs orders from 2026-06-03" in note and "rules apply alone" in note
    assert short.churn_probability.isna().all() and len(short.churn_probability) > 0
    assert list(short.metrics.columns)[:2] == ["population", "candidate"]

    few = backtest(tables, OBS, Churn(min_customers_for_model=100_000))
    assert few.chosen is None and few.note["reason"] == "too_few_buyers" and few.note["min_buyers"] == 100_000
    assert "needs at least 100,000 buyers" in words.churn_model_note(few.note)
    # the rules still run on the same customers
    assert warnings(customer_table(recent, OBS), DEFAULTS)["warning_count"].sum() > 0


def test_without_an_out_of_time_check_the_first_model_scores_and_says_so(sample):
    tables, _ = sample
    recent = _since(tables, 150)  # dates to learn from: OBS - 90 and OBS - 120, none ends before OBS - 90
    quick = backtest(recent, OBS, DEFAULTS)
    assert quick.note is None and quick.chosen == DEFAULTS.models[0] and quick.metrics.empty
    assert quick.choice == {"candidate": DEFAULTS.models[0], "population": None}
    assert words.model_choice(quick.choice) == f"{DEFAULTS.models[0]}: no out-of-time check (the history is too short)"
    assert quick.origins == (dt.date(2026, 7, 3), dt.date(2026, 6, 3)) and quick.training_origins == ()
    assert quick.churn_probability.notna().all() and quick.churn_probability.between(0, 1).all()
    reasons = {w["reason"]: w for w in quick.warnings}
    assert set(reasons) == {"no_validation", "short_history", "season_not_observed"}
    assert reasons["no_validation"]["needed_days"] == 2 * 90 + 30
    assert reasons["short_history"]["history_days"] < 180
    season = reasons["season_not_observed"]
    assert (season["window_start"], season["window_end"]) == ("2026-10-01", "2026-12-29")
    assert season["lowest_rate"] <= season["highest_rate"] and season["dates"] == 2
    assert not quick.seasonal and not set(SEASON_FEATURES) & set(quick.features)
    assert quick.calibration.empty  # no map from another season


def test_a_rate_missed_by_more_than_allowed_is_a_warning(sample):
    tables, _ = sample
    # the limit: half of what the model misses the churn rate by on this sample (a fixed limit
    # would test the sample's luck: the B2B plant moved the miss from over 0.1 points to 0.07)
    missed = abs(backtest(tables, OBS, Churn(max_training_rows=20_000)).rate_error)
    limit = missed / 2
    strict = backtest(tables, OBS, Churn(max_rate_error=limit, max_training_rows=20_000))
    (warning,) = [w for w in strict.warnings if w["reason"] == "rate_error"]
    assert warning["points"] == round(100 * strict.rate_error, 1)
    assert warning["limit_points"] == round(100 * limit, 1)
    # sampled to the limit, deterministically
    again = backtest(tables, OBS, Churn(max_rate_error=limit, max_training_rows=20_000))
    pd.testing.assert_series_equal(strict.churn_probability, again.churn_probability)


# ---------------------------------------------------------------------------------------------
# Watch list
# ---------------------------------------------------------------------------------------------

def watch_inputs():
    customers = pd.DataFrame({
        "customer_id": pd.array(["a", "b", "c", "d", "e", "f", "g"], dtype="str"),
        "customer_name": ["A", "B", "C", "D", "E", "F", "G"],
        "email": ["a@x"] * 7,
        "frequency": [5, 5, 5, 5, 5, 0, 5],
        "recency_days": pd.array([100, 100, 100, 10, 400, None, 100], dtype="Int64"),
        "region": ["East China"] * 7, "market": ["East China"] * 7,
        "tier": ["high", "mid", "low", "high", "high", None, "vip"],
        "segment": ["At risk"] * 7, "lifecycle": ["at_risk"] * 7,
    })
    flags = pd.DataFrame({
        "customer_id": customers["customer_id"], "warning_count": [1, 1, 2, 0, 1, 0, 1],
        "reasons": ["silent 100 days", "silent 100 days", "two reasons", "", "lost", "", "silent"],
    })
    probability = pd.Series([0.5, 0.25, 0.75, 0.1, 0.99, np.nan, 0.5], index=customers["customer_id"])
    value = pd.Series([1000.0, 2000.0, 100.0, 5000.0, 9000.0, 0.0, 1000.0], index=customers["customer_id"])
    return customers, flags, probability, value


def test_watch_list_ranks_by_value_at_risk_with_the_playbook_action():
    customers, flags, probability, value = watch_inputs()
    listed = watch_list(customers, flags, probability, value, DEFAULTS)
    # d: no warning and probability below the mean; e: lost; f: never bought
    assert listed["customer_id"].tolist() == ["a", "b", "g", "c"]  # 500, 500, 500 (ties by id), 75
    assert listed["rank"].tolist() == [1, 2, 3, 4]
    np.testing.assert_array_equal(listed["value_at_risk"], [500.0, 500.0, 500.0, 75.0])
    actions = dict(zip(listed["customer_id"], listed["action"]))
    assert actions["a"] == DEFAULTS.playbook["high"] and actions["c"] == DEFAULTS.playbook["low"]
    assert actions["g"] == DEFAULTS.default_action  # tier vip has no playbook entry
    assert not {"customer_name", "email", "phone"} & set(listed.columns)
    assert list(listed.columns) == [
        "rank", "customer_id", "region", "market", "tier", "segment", "lifecycle", "churn_probability",
        "value", "value_at_risk", "warning_count", "reasons", "action",
    ]
    shuffled = watch_list(customers.iloc[::-1], flags.iloc[::-1], probability, value, DEFAULTS)
    pd.testing.assert_frame_equal(listed, shuffled)
    assert len(watch_list(customers, flags, probability, value, Churn(watchlist_size=2))) == 2


def test_watch_list_takes_a_high_probability_without_warnings_and_works_without_a_model():
    customers, flags, probability, value = watch_inputs()
    likely = probability.copy()
    likely["d"] = 0.95  # above the mean probability: listed without any warning
    assert "d" in set(watch_list(customers, flags, likely, value, DEFAULTS)["customer_id"])

    no_model = watch_list(customers, flags, probability * np.nan, value, DEFAULTS)
    assert no_model["customer_id"].tolist() == ["c", "b", "a", "g"]  # warnings first, then value, then id
    assert no_model["value_at_risk"].isna().all()


# ---------------------------------------------------------------------------------------------
# Config
# ---------------------------------------------------------------------------------------------

def test_churn_settings_are_validated(write_config, write_csv):
    orders_csv = write_csv("orders.csv", "order_id,customer_id,order_date,amount\n1,c1,2026-01-01,10\n")
    settings = {"horizon_days": 60, "playbook": {"high": "call"}}
    config = load_config(write_config({"orders": str(orders_csv)}, churn=settings))
    assert config.churn.horizon_days == 60 and config.churn.playbook == {"high": "call"}
    with pytest.raises(ConfigError, match="churn.horizn_days: unknown key"):
        load_config(write_config({"orders": str(orders_csv)}, churn={"horizn_days": 60}))
    with pytest.raises(ValidationError, match="twice"):
        Churn(models=["logistic", "logistic"])
    with pytest.raises(ValidationError, match="lost_after_days"):
        Churn(lost_after_days=20)


def test_recalibration_brings_probabilities_to_observed_rates(result):
    # judged out of sample: each half of the validation customers mapped by a fit on the other
    calibration = result.calibration
    population = "not_lost"

    def gap(candidate: str) -> float:
        bins = calibration.loc[calibration["population"].eq(population) & calibration["candidate"].eq(candidate)]
        return float(np.average((bins["observed_rate"] - bins["mean_predicted"]).abs(), weights=bins["n"]))

    raw, recalibrated = gap(result.chosen), gap(result.chosen + RECALIBRATED)
    print(f"mean calibration gap {raw:.3f} -> {recalibrated:.3f}")
    assert recalibrated < raw


def test_platt_map_keeps_the_order_of_customers():
    rng = np.random.default_rng(5)
    score = rng.random(500)
    y = rng.random(500) < 0.3 + 0.3 * score
    mapped = _platt(score, y)(score)
    assert np.array_equal(np.argsort(mapped, kind="stable"), np.argsort(score, kind="stable"))
    assert abs(mapped.mean() - y.mean()) < 0.02  # the map reproduces the observed rate on average


def test_every_reason_the_rules_write_reads_in_chinese():
    # one customer per form of reason: the report words each from its figures, in Chinese
    from custseg import i18n

    rows = [
        customer("cadence", recency_days=70, cadence_days=30.0),
        customer("tier_few", frequency=2, tier="high", recency_days=91, cadence_days=20.0),
        customer("few", frequency=1, tier="vip", recency_days=121, cadence_days=np.nan),
        customer("tier_one_day", frequency=4, tier="high", recency_days=91, cadence_days=np.nan),
        customer("one_day", frequency=4, tier="vip", recency_days=121, cadence_days=np.nan),
        customer("trend", orders_90d=1, orders_prev_90d=4),
        customer("satisfaction", satisfaction_latest=2.0),
        customer("satisfaction_fell", satisfaction_latest=3.0, satisfaction_trend=-1.5),
        customer("contacts", interactions_90d=0, interactions_365d=20),
        customer("all", recency_days=70, orders_90d=0, orders_prev_90d=4, satisfaction_latest=1.0, interactions_90d=0),
    ]
    facts = warnings(table(rows), DEFAULTS).set_index("customer_id")["reasons"]
    english = facts.map(words.churn_reasons)
    assert all(english) and sum(len(reasons) for reasons in facts) >= len(rows) + 3
    forms = {
        (r["reason"], r["tier"] is not None, r["orders"] is not None and r["orders"] >= r["min_orders"],
         r["drop"] is not None) for reasons in facts for r in reasons
    }
    assert len(forms) == 9  # every form of words is written by some customer
    with i18n.language("zh"):
        chinese = facts.map(words.churn_reasons)
    assert chinese["cadence"] == "已 70 天未下单，是其自身购买周期 30 天的 2.3 倍"
    assert "高价值层级" in chinese["tier_few"]
    for name, text in chinese.items():
        assert not re.search(r"[a-z]{3,}", text), (name, text)  # no English words left
        figures = r"\d+(?:\.\d+)?"
        assert sorted(re.findall(figures, text)) == sorted(re.findall(figures, english[name]))  # same figures
