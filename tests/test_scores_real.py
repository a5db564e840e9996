"""Scores, segments, tiers and clusters on a real export: the CDNOW purchase records.

Half of CDNOW's 23,570 customers bought on one day only, the shape that made every one-time buyer
F = 3 and let some of them into Loyal. The purchase counts are computed here from the raw file,
independently of custseg, and the checks are made against them.

The data live outside the project (``../shared/data``, see its README); the ``real_data``
fixture (tests/conftest.py) finds them and fails rather than skips when they are missing: a
suite that quietly stops checking real data would look green while checking less.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from custseg.config import Clusters, Segments, Tiers
from custseg.segment.clusters import fit_clusters
from custseg.segment.features import customer_table
from custseg.segment.rfm import assign_segments
from custseg.segment.tiers import assign_tiers

#: Segments and value classes that say "buys often".
FREQUENT_SEGMENTS = ("Champions", "Loyal", "Cannot lose them")


@pytest.fixture(scope="module")
def cdnow(real_data: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(raw purchase rows, one row per customer with purchases and spend counted from them)."""
    raw = pd.read_csv(real_data / "cdnow" / "CDNOW_master.txt", sep=r"\s+",
                      dtype={"customer_id": "str", "date": "str"})
    # counted without custseg: a purchase is a day with at least one purchase row (several orders
    # on one day count as one, as in Fader, Hardie & Lee 2005)
    days = raw[["customer_id", "date"]].drop_duplicates()
    counted = pd.DataFrame({
        "purchases": days.groupby("customer_id").size(),
        "spend": raw.groupby("customer_id")["dollar_value"].sum(),
        "last_day": pd.to_datetime(days.groupby("customer_id")["date"].max(), format="%Y%m%d"),
    })
    return raw, counted


@pytest.fixture(scope="module")
def classified(cdnow) -> pd.DataFrame:
    """The customer table custseg builds from CDNOW's purchase days, tiered and segmented, joined
    to the independent counts."""
    raw, counted = cdnow
    orders = (
        raw.groupby(["customer_id", "date"], as_index=False)["dollar_value"].sum()
        .assign(
            order_id=lambda f: f["customer_id"] + "-" + f["date"],
            order_date=lambda f: pd.to_datetime(f["date"], format="%Y%m%d").astype("datetime64[s]"),
            status="completed",
        )
        .rename(columns={"dollar_value": "revenue"})
    )
    customers = customer_table({"orders": orders}, dt.date(1998, 7, 1))
    customers = assign_segments(assign_tiers(customers, Tiers()), Segments(), 5)
    return customers.join(counted, on="customer_id", validate="one_to_one")


def test_custseg_counts_the_purchases_counted_from_the_file(classified):
    assert len(classified) == 23_570
    assert (classified["frequency"] == classified["purchases"]).all()
    assert np.allclose(classified["monetary"], classified["spend"])
    once = classified["purchases"].eq(1).mean()
    assert 0.5 < once < 0.52  # half the base bought on one day only


def test_scores_are_monotone_in_the_measure_and_equal_on_ties(classified):
    for score, measure, higher_is_better in (
        ("f_score", "purchases", True), ("m_score", "spend", True), ("r_score", "last_day", True),
    ):
        ordered = classified.sort_values(measure, ascending=higher_is_better, kind="stable")
        assert ordered[score].is_monotonic_increasing, score  # a better value never scores lower
        assert ordered.groupby(measure)[score].nunique().eq(1).all(), score
    # the lowest purchase count of all, one day, is the lowest score however many share it
    assert classified.loc[classified["purchases"].eq(1), "f_score"].eq(1).all()


def test_no_one_time_buyer_is_a_champion_loyal_or_in_the_top_tier(classified):
    once = classified.loc[classified["purchases"].eq(1)]
    assert not once["segment"].isin(FREQUENT_SEGMENTS).any(), once["segment"].value_counts()
    assert not once["tier"].eq("high").any()
    frequent_classes = ["Important value", "Important to keep", "General value", "General to keep"]
    assert not once["value_class_en"].isin(frequent_classes).any()
    # the segments and the tier are still there for the customers who came back
    repeat = classified.loc[classified["purchases"].gt(1)]
    assert repeat["segment"].isin(FREQUENT_SEGMENTS).sum() > 1000 and repeat["tier"].eq("high").sum() > 1000
    assert not classified["segment"].eq("Other").any()


def test_no_cluster_under_the_minimum_share(classified):
    settings = Clusters()
    result = fit_clusters(classified, settings)
    assert result.min_share_met
    assert result.profile["size"].min() >= settings.min_share * result.labels.notna().sum()
    chosen = result.selection.loc[result.selection["chosen"]].iloc[0]
    assert chosen["eligible"] and chosen["smallest_share_all"] >= settings.min_share
    # CDNOW has buyers who spent nothing (purchase rows worth $0): they are clustered with the rest
    assert result.labels.notna().sum() == len(classified)
