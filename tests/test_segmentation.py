"""The whole segmentation step: deterministic, independent of row order, faithful to the sample."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from custseg import words
from custseg.segment.step import segment


@pytest.fixture(scope="module")
def study(intake_1500):
    config, tables, truth = intake_1500
    return config, tables, truth, segment(tables, config, dt.date(2026, 10, 1))


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
    columns = ["customer_id", "tier", "rfm_score", "segment", "value_class", "lifecycle", "cluster"]
    pd.testing.assert_frame_equal(first.customers[columns], second.customers[columns])
    assert first.clusters.names == second.clusters.names
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


def test_the_cluster_note_says_when_no_k_meets_the_minimum_share(study):
    from custseg.segment.step import _fit_clusters

    config, _, _, result = study
    assert result.cluster_note is None and result.clusters.min_share_met
    strict = config.model_copy(update={"clusters": config.clusters.model_copy(update={"min_share": 0.3})})
    fit, note = _fit_clusters(result.customers, strict)
    smallest = fit.selection.loc[fit.selection["chosen"], "smallest_share_all"].item()
    assert not fit.min_share_met and smallest < 0.3
    assert note == {"reason": "min_share", "k_min": 3, "k_max": 8, "min_share": 0.3, "k": fit.k, "smallest": smallest}
    assert words.cluster_note(note, clause=True) == (
        f"no k from 3 to 8 gives every cluster at least 30.0% of the buyers (clusters.min_share); "
        f"k = {fit.k}, whose smallest cluster holds {smallest:.1%}, is the closest and was kept"
    )
