"""Value and churn joined onto the classification: columns, the watch list, the fallback value, the pipeline files."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest

from custseg import churn, clv, pipeline
from custseg.retention import RISK_COLUMNS, VALUE_COLUMNS, assess
from custseg.segmentation import PERSONAL_COLUMNS, segment

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
    # the value is the CLV of the fitted models
    assert result.value_models is not None
    np.testing.assert_allclose(table.loc[buyers, "value"], table.loc[buyers, "clv"])


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
    joined = watch.merge(result.customers[["customer_id", "value_at_risk", "tier"]], on="customer_id", suffixes=("", "_table"))
    np.testing.assert_allclose(joined["value_at_risk"], joined["value_at_risk_table"])
    assert (joined["action"] == joined["tier_table"].map(config.churn.playbook).fillna(config.churn.default_action)).all()


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


def test_without_value_models_a_stand_in_value_is_used_and_said(study):
    config, tables, classified, _, _ = study
    strict = config.model_copy(update={"value": config.value.model_copy(update={"min_repeat_buyers": 10**6})})
    result = assess(tables, classified, strict, DATE)
    assert result.value_models is None
    assert "could not be fitted" in result.value_basis and "repeat" in result.value_basis
    table = result.customers
    buyers = table["frequency"] > 0
    assert table[list(VALUE_COLUMNS)].isna().all().all()
    expected = table["monetary"] / np.maximum(table["tenure_days"].astype("float64"), 90) * 365
    np.testing.assert_allclose(table.loc[buyers, "value"], expected[buyers])
    assert result.summary()["value"] == {"basis": result.value_basis, "fitted": False, "error": result.value_error}
    assert result.value_error and result.value_basis.endswith(f"could not be fitted: {result.value_error})")


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


def test_value_basis_in_words_in_either_language():
    from custseg import i18n
    from custseg.config import Value
    from custseg.retention import value_basis

    settings = Value(horizon_days=180, annual_discount_rate=0.08)
    assert value_basis(settings, "gamma_gamma") == (
        "expected revenue over the next 180 days, discounted at 8% a year (BG/NBD and Gamma-Gamma)"
    )
    assert value_basis(settings, "own_mean").endswith("(BG/NBD and own mean order values)")
    assert value_basis(settings, None, "q = 0.73 <= 1") == (
        "revenue per year of relationship so far (the value models could not be fitted: q = 0.73 <= 1)"
    )
    with i18n.language("zh"):
        chinese = value_basis(settings, "own_mean")
    assert "180" in chinese and "8%" in chinese and "贴现" in chinese and "BG/NBD" in chinese
