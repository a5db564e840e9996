"""The whole segmentation step: deterministic, independent of row order, faithful to the sample."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
import yaml
from sklearn.metrics import adjusted_rand_score

from custseg.config import load_config
from custseg.intake import run_intake
from custseg.sample import SampleSpec, generate_sample, write_sample
from custseg.segmentation import segment


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    root = tmp_path_factory.mktemp("seg")
    data = generate_sample(SampleSpec(n_customers=1500, seed=11))
    write_sample(data, root / "raw")
    config_path = root / "study.yaml"
    config_path.write_text(yaml.safe_dump({
        "study": {"name": "seg", "title": "Seg Co."},
        "inputs": {name: f"raw/{name}.csv" for name in ("orders", "customers", "interactions", "feedback")},
        "currency": yaml.safe_load(open("config/sample.yaml", encoding="utf-8"))["currency"],
        "output": {key: f"out/{key}" for key in ("interim", "processed", "reports", "build", "exports")},
    }), encoding="utf-8")
    config = load_config(config_path)
    tables = run_intake(config).tables
    return config, tables, data.ground_truth, segment(tables, config, dt.date(2026, 10, 1))


def test_same_inputs_give_the_same_classification(study):
    config, tables, _, first = study
    again = segment(tables, config, dt.date(2026, 10, 1))
    pd.testing.assert_frame_equal(first.customers, again.customers)
    pd.testing.assert_frame_equal(first.snapshots, again.snapshots)
    pd.testing.assert_frame_equal(first.tier_effect, again.tier_effect)


def test_row_order_does_not_matter(study):
    config, tables, _, first = study
    shuffled = {name: frame.sample(frac=1.0, random_state=3) for name, frame in tables.items()}
    second = segment(shuffled, config, dt.date(2026, 10, 1))
    columns = ["customer_id", "tier", "rfm_score", "segment", "value_class", "lifecycle", "cluster", "cluster_name"]
    pd.testing.assert_frame_equal(first.customers[columns], second.customers[columns])
    pd.testing.assert_frame_equal(first.clusters.selection, second.clusters.selection)


def test_clusters_recover_the_planted_segments(study):
    _, _, truth, result = study
    labelled = result.customers.dropna(subset=["cluster"]).merge(truth, on="customer_id")
    ari = adjusted_rand_score(labelled["true_segment"], labelled["cluster"])
    assert ari >= 0.8, f"adjusted Rand index {ari:.3f}"


def test_every_customer_is_classified_on_every_dimension(study):
    _, _, _, result = study
    customers = result.customers
    buyers = customers["frequency"] > 0
    for column in ("tier", "segment", "value_class", "lifecycle", "market", "region"):
        assert customers.loc[buyers, column].notna().all(), column
    assert customers["customer_id"].is_unique
    assert len(result.snapshot_dates) == 4 and result.snapshots["snapshot_date"].nunique() == 4
    # a snapshot holds only customers who already existed then
    first = result.snapshots.loc[result.snapshots["snapshot_date"] == result.snapshots["snapshot_date"].min()]
    assert len(first) < len(customers)
