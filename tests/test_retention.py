"""Value and churn joined onto the classification: columns, the watch list, the fallback value, the pipeline files."""

from __future__ import annotations

import datetime as dt
import json
import re
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from custseg import pipeline, words
from custseg.exports import watch_list_export
from custseg.intake.validation import PERSONAL_COLUMNS
from custseg.segment import churn, clv
from custseg.segment.retention import RISK_COLUMNS, VALUE_COLUMNS, assess
from custseg.segment.step import segment

DATE = dt.date(2026, 10, 1)


@pytest.fixture(scope="module")
def study(intake_1500):
    config, tables, truth = intake_1500
    classified = segment(tables, config, DATE).customers
    return config, tables, classified, truth, assess(tables, classified, config, DATE)


def test_the_classification_is_kept_and_value_and_risk_columns_are_added(study):
    _, _, classified, _, result = study
    table = result.customers
    assert list(table.columns) == [*classified.columns, *VALUE_COLUMNS, *RISK_COLUMNS]
    pd.testing.assert_frame_equal(table[list(classified.columns)], classified)
    buyers = table["frequency"] > 0
    # value at risk is value x probability, and only buyers have either
    np.testing.assert_allclose(table["value_at_risk"], table["value"] * table["churn_probability"])
    assert table.loc[~buyers, ["value", "churn_probability"]].isna().all().all()
    assert table.loc[buyers, "churn_probability"].between(0, 1).all()
    # the value is the CLV of the fitted models, and the watch list says so
    assert result.value_models is not None
    np.testing.assert_allclose(table.loc[buyers, "value"], table.loc[buyers, "clv"])
    watch = watch_list_export(result.watch_list, result.value_basis)
    assert set(watch["value_basis"]) == {"CLV: expected revenue over the next 365 days (predicted)"}
    assert "value_basis" not in result.watch_list  # a fact of the run (value_basis), said by the export


def test_warning_columns_are_the_rules_applied_to_the_table(study):
    config, _, _, _, result = study
    again = churn.warnings(result.customers, config.churn)
    for column in (*churn.RULES, "warning_count", "reasons"):
        np.testing.assert_array_equal(result.customers[column].to_numpy(), again[column].to_numpy())


def test_watch_list_is_ranked_by_value_at_risk_and_holds_no_personal_data(study):
    config, _, _, _, result = study
    watch = result.watch_list
    assert 0 < len(watch) <= config.churn.watchlist_size
    assert watch["value_at_risk"].is_monotonic_decreasing
    assert watch["rank"].tolist() == list(range(1, len(watch) + 1))
    assert not set(PERSONAL_COLUMNS) & set(watch.columns)
    table = result.customers[["customer_id", "value_at_risk", "tier"]]
    joined = watch.merge(table, on="customer_id", suffixes=("", "_table"))
    np.testing.assert_allclose(joined["value_at_risk"], joined["value_at_risk_table"])
    expected = joined["tier_table"].map(config.churn.playbook).fillna(config.churn.default_action)
    assert (joined["action"] == expected).all()


def test_the_watch_list_finds_the_planted_churners(study):
    # The generator records who really stops buying: customers on the list churn far more
    # often than the buyers who are not yet lost.
    config, _, _, truth, result = study
    churned = truth.set_index("customer_id")["churned"]
    table = result.customers
    alive = table.loc[(table["frequency"] > 0) & (table["recency_days"] <= config.churn.lost_after_days), "customer_id"]
    base_rate = churned.loc[alive].mean()
    scored = table.set_index("customer_id").loc[alive, "churn_probability"].sort_values(ascending=False, kind="stable")
    top_decile = scored.index[: len(scored) // 10]
    precision = churned.loc[top_decile].mean()
    print(f"top-decile precision {precision:.3f}, base rate {base_rate:.3f}, "
          f"watch list {churned.loc[result.watch_list['customer_id']].mean():.3f}")
    assert precision > 1.8 * base_rate, (precision, base_rate)
    # the list is ranked by value at risk, so it trades some precision for value; still above the base
    assert churned.loc[result.watch_list["customer_id"]].mean() > 1.2 * base_rate


def test_without_value_models_the_observed_net_spend_stands_in_and_is_said(study):
    config, tables, classified, _, _ = study
    strict = config.model_copy(update={"value": config.value.model_copy(update={"min_repeat_buyers": 10**6})})
    result = assess(tables, classified, strict, DATE)
    assert result.value_models is None
    basis = words.value_basis(result.value_basis)
    assert result.value_basis == {"kind": "net_spend", "days": 365, "error": result.value_error}
    assert result.value_error["reason"] == "few_repeat_buyers" and result.value_error["min_repeat_buyers"] == 10**6
    assert "could not be fitted" in basis and "repeat" in basis
    assert basis.startswith("net spend in the 365 days before the observation date")
    table = result.customers
    buyers = table["frequency"] > 0
    assert table[list(VALUE_COLUMNS)].isna().all().all()
    # the stand-in is what a reader can add up from the orders: the revenue of the last 365 days
    # (this sample's refunds carry none), nothing annualised
    orders = tables["orders"]
    start = pd.Timestamp(DATE) - pd.Timedelta(days=365)
    dated = orders["order_date"].ge(start) & orders["order_date"].lt(pd.Timestamp(DATE))
    recent = orders.loc[orders["status"].eq("completed") & dated]
    spent = recent.groupby("customer_id")["revenue"].sum()
    values = table.loc[buyers].set_index("customer_id")["value"]
    np.testing.assert_allclose(values, spent.reindex(values.index).fillna(0.0).to_numpy())
    assert table.loc[~buyers, "value"].isna().all()
    assert (values == 0).any() and (values > 0).any()  # lapsed buyers are worth nothing recent
    # over 90 days it is the customer table's own revenue_90d, which the features count apart
    ninety = strict.model_copy(update={"value": strict.value.model_copy(update={"horizon_days": 90})})
    short = assess(tables, classified, ninety, DATE).customers
    np.testing.assert_allclose(short.loc[buyers, "value"], np.maximum(short.loc[buyers, "revenue_90d"], 0.0))
    # said where it is shown: study.json and the watch list export
    facts = result.summary()["value"]
    assert {k: facts[k] for k in ("basis", "fitted", "kind", "days", "error")} == {
        "basis": result.value_basis, "fitted": False, "kind": "net_spend", "days": 365, "error": result.value_error}
    message = str(pytest.raises(ValueError, clv.fit_value_models, clv.rfm_summary(tables["orders"], DATE),
                                strict.value).value)
    assert basis.endswith(f"could not be fitted: {message})")  # in English the words of the exception
    watch = watch_list_export(result.watch_list, result.value_basis)
    assert list(watch.columns)[list(watch.columns).index("value") + 1] == "value_basis"
    assert set(watch["value_basis"]) == {"net spend over the last 365 days (observed; value models not fitted)"}


def test_the_value_models_are_the_backtests_choice_judged_on_the_tiers_at_the_cut_off(study):
    config, tables, _, _, result = study
    check = result.value_backtest
    assert check.skipped is None and check.cutoff == DATE - dt.timedelta(days=365)
    assert result.value_models.spec == check.chosen
    # the tiers of the backtest are those a full classification gives at the cut-off
    then = segment(tables, config, check.cutoff).customers
    known = set(clv.rfm_summary(tables["orders"], check.cutoff)["customer_id"])
    counts = then.loc[then["customer_id"].isin(known), "tier"].astype("str").value_counts()
    tiers = check.groups.loc[check.groups["kind"].eq("tier")].set_index("group")["customers"]
    assert tiers.index.tolist() == [t for t in config.tiers.names if t in counts.index]
    assert tiers.to_dict() == counts.to_dict()
    facts = result.summary()["value"]
    assert facts["model"] == check.chosen.summary() and facts["kind"] == "clv"
    assert facts["backtest"]["cutoff"] == check.cutoff.isoformat() and facts["backtest"]["chosen_by"] == "backtest"
    assert facts["warnings"] == [dict(w) for w in result.value_warnings]


def test_inputs_are_not_modified(study):
    config, tables, classified, _, _ = study
    before = {name: frame.copy() for name, frame in tables.items()}
    classified_before = classified.copy()
    assess(tables, classified, config, DATE)
    for name, frame in tables.items():
        pd.testing.assert_frame_equal(frame, before[name])
    pd.testing.assert_frame_equal(classified, classified_before)


def test_pipeline_writes_the_watch_list_the_backtest_and_the_facts(study, tmp_path):
    config, *_ = study
    processed = pipeline.run(config, force=True, echo=lambda *_: None)
    meta = json.loads((processed / "study.json").read_text(encoding="utf-8"))
    assert meta["churn"]["horizon_days"] == config.churn.horizon_days
    assert meta["churn"]["chosen"] in {*config.churn.models, churn.BASELINE}
    assert meta["value"]["fitted"] is True and meta["value"]["parameters"]["r"] > 0
    metrics = pd.read_parquet(processed / "churn_metrics.parquet")
    assert metrics["chosen"].sum() == len(churn.POPULATIONS) or metrics["chosen"].any()
    csv = config.output.exports / "churn_watchlist.csv"
    assert csv.read_bytes().startswith(b"\xef\xbb\xbf")  # a BOM, so Excel reads the text right
    exported = pd.read_csv(csv, encoding="utf-8-sig")
    assert len(exported) == meta["watch_list"]
    assert exported["rank"].tolist() == list(range(1, len(exported) + 1))
    customers = pd.read_parquet(processed / "customers.parquet")
    assert set(RISK_COLUMNS) <= set(customers.columns) and set(VALUE_COLUMNS) <= set(customers.columns)
    assert clv.VALUE_COLUMNS[1] in customers.columns
    groups = pd.read_parquet(processed / "value_backtest.parquet")
    assert set(groups["kind"]) == {"all", "tier", "frequency"} and meta["value"]["backtest"]["days"] == 365
    candidates = pd.read_parquet(processed / "value_candidates.parquet")
    assert len(candidates) == 8 and candidates["chosen"].sum() == 1
    assert exported.columns[list(exported.columns).index("value") + 1] == "value_basis"


def test_value_basis_in_words_in_either_language():
    from custseg import i18n
    from custseg.config import Value
    from custseg.segment.retention import value_basis

    settings = Value(horizon_days=180, annual_discount_rate=0.08)

    def said(order_values: str, model: str = "bgnbd") -> str:
        fitted = SimpleNamespace(model=model, order_values=order_values)
        fact = value_basis(settings, fitted)
        assert fact == json.loads(json.dumps(fact))  # a fact study.json keeps as it is
        return words.value_basis(fact)

    assert said("gamma_gamma") == (
        "expected revenue over the next 180 days, discounted at 8% a year (BG/NBD and Gamma-Gamma)"
    )
    assert said("observed_mean").endswith("(BG/NBD and own mean order values)")
    error = {"reason": "no_finite_optimum", "model": "bgnbd", "parameters": ["a", "b"]}
    assert words.value_basis(value_basis(settings, None, error)) == (
        "net spend in the 180 days before the observation date, as recorded (observed, not predicted: the value "
        "models could not be fitted: the BG/NBD fit has no finite optimum: parameter(s) a, b ran off to the edge of "
        "their range, typically because the data show (almost) no customer dropping out or no variation in purchase "
        "rates; try a small value.penalizer such as 0.001)"
    )
    assert said("gamma_gamma", model="mbgnbd").endswith("(MBG/NBD and Gamma-Gamma)")
    with i18n.language("zh"):
        chinese = said("observed_mean")
        stand_in = words.value_basis(value_basis(settings, None, error))
    assert "180" in chinese and "8%" in chinese and "贴现" in chinese and "BG/NBD" in chinese
    assert "BG/NBD" in stand_in and "value.penalizer" in stand_in and not re.search(r"[a-z]{4,} [a-z]{4,}", stand_in)
    # the words of an older study.json are shown as written
    assert words.value_basis("net spend, as recorded") == "net spend, as recorded"
