"""Lifecycle stages on hand-made customers, one or more per rule, with boundaries at the limits."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from custseg.config import Lifecycle
from custseg.segment.lifecycle import STAGES, assign_lifecycle, own_cadence, stage_table

OBS = pd.Timestamp("2026-10-01")
DEFAULTS = Lifecycle()  # new 90, loyal 5 orders / 365 days, at risk 2x, churned 4x, cadence 90, churned 365, gap 180


def customer(cid, *, silent=None, frequency=0, since_first=None, tenure=None, cadence=None, last_gap=None):
    """One customer row as the features would build it at OBS (days are relative to OBS)."""
    last = OBS - pd.Timedelta(days=silent) if silent is not None else pd.NaT
    first = (OBS - pd.Timedelta(days=since_first if since_first is not None else silent)
             if silent is not None else pd.NaT)
    return {
        "customer_id": cid,
        "recency_days": silent,
        "frequency": frequency,
        "first_order": first,
        "last_order": last,
        "tenure_days": tenure if tenure is not None else (since_first if since_first is not None else silent),
        "cadence_days": cadence,
        "last_gap_days": last_gap,
    }


def table(rows):
    frame = pd.DataFrame(rows)
    return frame.assign(
        customer_id=frame["customer_id"].astype("str"),
        recency_days=frame["recency_days"].astype("Int64"),
        frequency=frame["frequency"].astype("int64"),
        first_order=pd.to_datetime(frame["first_order"]).astype("datetime64[s]"),
        last_order=pd.to_datetime(frame["last_order"]).astype("datetime64[s]"),
        tenure_days=frame["tenure_days"].astype("Int64"),
        cadence_days=frame["cadence_days"].astype("float64"),
        last_gap_days=frame["last_gap_days"].astype("Int64"),
    )


def stages(rows, settings=DEFAULTS):
    result = assign_lifecycle(table(rows), settings)
    return dict(zip(result["customer_id"], result["lifecycle"].astype("str")))


def test_one_customer_per_stage_with_default_settings():
    rows = [
        customer("prospect"),
        customer("new", silent=10, frequency=1, since_first=90),  # first purchase exactly new_days ago
        customer("active", silent=30, frequency=2, since_first=200, cadence=170, last_gap=170),
        customer("loyal", silent=10, frequency=5, since_first=365, tenure=365, cadence=30, last_gap=20),
        customer("at_risk", silent=61, frequency=8, since_first=400, tenure=400, cadence=30, last_gap=30),
        customer("churned", silent=400, frequency=3, since_first=700, cadence=100, last_gap=100),
        customer("reactivated", silent=20, frequency=3, since_first=500, cadence=200, last_gap=181),
    ]
    assert stages(rows) == {stage: stage for stage in STAGES}


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        # new: first purchase at most new_days (90) ago
        (customer("a", silent=90, frequency=1), "new"),
        (customer("a", silent=91, frequency=1), "active"),
        (customer("a", silent=5, frequency=2, since_first=91, cadence=86, last_gap=86), "active"),
        # at risk with the default cadence (fewer than 3 purchases): silent > 2 x 90 = 180
        (customer("a", silent=180, frequency=1), "active"),
        (customer("a", silent=181, frequency=1), "at_risk"),
        # churned with the default cadence: silent > max(4 x 90, 90) = 360
        (customer("a", silent=360, frequency=2, since_first=400, cadence=40, last_gap=40), "at_risk"),
        (customer("a", silent=361, frequency=2, since_first=400, cadence=40, last_gap=40), "churned"),
        # own cadence 20 days (3+ purchases): at risk above 40 days
        (customer("a", silent=40, frequency=4, since_first=300, cadence=20, last_gap=20), "active"),
        (customer("a", silent=41, frequency=4, since_first=300, cadence=20, last_gap=20), "at_risk"),
        # frequent buyer (cadence 10): 4 x 10 = 40, but churned needs more than new_days (90) of silence
        (customer("a", silent=90, frequency=10, since_first=300, cadence=10, last_gap=10), "at_risk"),
        (customer("a", silent=91, frequency=10, since_first=300, cadence=10, last_gap=10), "churned"),
        # slow buyer (cadence 200): churned_days (365) caps the silence whatever the cadence
        (customer("a", silent=365, frequency=4, since_first=1000, cadence=200, last_gap=200), "active"),
        (customer("a", silent=366, frequency=4, since_first=1000, cadence=200, last_gap=200), "churned"),
        # reactivated: last purchase at most 90 days ago after a gap of more than 180 days
        (customer("a", silent=90, frequency=3, since_first=600, cadence=181, last_gap=181), "reactivated"),
        (customer("a", silent=90, frequency=3, since_first=600, cadence=180, last_gap=180), "active"),
        (customer("a", silent=91, frequency=3, since_first=600, cadence=181, last_gap=181), "active"),
        # loyal: at least 5 purchases and at least 365 days of tenure
        (customer("a", silent=10, frequency=5, since_first=365, cadence=60, last_gap=60), "loyal"),
        (customer("a", silent=10, frequency=4, since_first=365, cadence=60, last_gap=60), "active"),
        (customer("a", silent=10, frequency=5, since_first=364, cadence=60, last_gap=60), "active"),
        # tenure counts from sign-up when that is earlier than the first purchase
        (customer("a", silent=10, frequency=5, since_first=200, tenure=365, cadence=40, last_gap=40), "loyal"),
        # a loyal customer who went quiet is at risk, not loyal
        (customer("a", silent=121, frequency=9, since_first=900, cadence=60, last_gap=60), "at_risk"),
    ],
)
def test_boundaries_at_the_limits(row, expected):
    assert stages([row]) == {"a": expected}


def test_two_purchases_use_the_default_cadence_three_use_their_own():
    rows = [
        customer("two", silent=30, frequency=2, since_first=200, cadence=10, last_gap=10),
        customer("three", silent=30, frequency=3, since_first=200, cadence=10, last_gap=10),
        customer("three_unmeasured", silent=30, frequency=3, since_first=200, cadence=None, last_gap=10),
    ]
    frame = table(rows)
    assert own_cadence(frame, DEFAULTS).tolist() == [90.0, 10.0, 90.0]
    assert stages(rows) == {"two": "active", "three": "at_risk", "three_unmeasured": "active"}


def test_same_day_purchases_count_as_a_one_day_cadence():
    rows = [customer("a", silent=3, frequency=3, since_first=3, cadence=0.0, last_gap=0)]
    assert own_cadence(table(rows), DEFAULTS).tolist() == [1.0]
    # first purchase 3 days ago, so new too; but silent 3 > 2 x 1 day, and at risk is checked first
    assert stages(rows) == {"a": "at_risk"}


def test_reactivated_wins_over_new_and_settings_are_used():
    settings = Lifecycle(new_days=100, reactivated_gap_days=30, default_cadence_days=200)
    rows = [
        customer("back", silent=30, frequency=2, since_first=80, cadence=50, last_gap=50),
        customer("fresh", silent=30, frequency=2, since_first=55, cadence=25, last_gap=25),
    ]
    assert stages(rows, settings) == {"back": "reactivated", "fresh": "new"}
    assert stages(rows) == {"back": "new", "fresh": "new"}  # defaults: gap 50 is not > 180


def test_lifecycle_is_an_ordered_categorical_and_input_is_not_mutated():
    frame = table([customer("p"), customer("n", silent=3, frequency=1)])
    before = frame.copy()
    result = assign_lifecycle(frame, DEFAULTS)
    pd.testing.assert_frame_equal(frame, before)
    assert "lifecycle" not in frame
    assert result["lifecycle"].dtype == pd.CategoricalDtype(list(STAGES), ordered=True)
    assert list(result.columns) == [*frame.columns, "lifecycle"]


def test_missing_column_and_inconsistent_table_fail_loudly():
    frame = table([customer("a", silent=3, frequency=1)])
    with pytest.raises(ValueError, match="cadence_days"):
        assign_lifecycle(frame.drop(columns="cadence_days"), DEFAULTS)
    broken = frame.assign(recency_days=pd.array([pd.NA], dtype="Int64"))
    with pytest.raises(ValueError, match="recency_days is missing.*'a'"):
        assign_lifecycle(broken, DEFAULTS)


def test_stage_table_names_the_configured_numbers():
    settings = Lifecycle(new_days=60, at_risk_factor=2.5, churned_factor=5, churned_days=400,
                         default_cadence_days=45, reactivated_gap_days=120, loyal_min_orders=6,
                         loyal_min_tenure_days=500)
    rules = stage_table(settings).set_index("stage")
    assert sorted(rules.index) == sorted(STAGES)
    assert rules["priority"].tolist() == list(range(1, 8))
    assert rules.loc["prospect", "priority"] == 1 and rules.loc["active", "priority"] == 7
    assert "2.5 x own cadence" in rules.loc["at_risk", "rule"] and "45 days" in rules.loc["at_risk", "rule"]
    assert "5 x" in rules.loc["churned", "rule"] and "400 days" in rules.loc["churned", "rule"]
    assert "60 days" in rules.loc["new", "rule"]
    assert "120 days" in rules.loc["reactivated", "rule"]
    assert "6 purchases" in rules.loc["loyal", "rule"] and "500 days" in rules.loc["loyal", "rule"]
    assert rules.loc["at_risk", "stage_zh"] == "流失风险客户"


def test_sample_customers_who_stopped_buying_are_flagged_more_often():
    """End to end on generated data: customers who really churn next are more often at risk / churned."""
    from custseg.sample.generator import EXCHANGE_RATES, SampleSpec, generate_sample
    from custseg.segment.features import customer_table

    data = generate_sample(SampleSpec(n_customers=600, seed=5, messy=False))
    raw = data.orders
    orders = raw.assign(
        order_date=pd.to_datetime(raw["order_date"]).astype("datetime64[s]"),
        revenue=(raw["amount"] * raw["currency"].map(EXCHANGE_RATES)).where(raw["status"].eq("completed"), 0.0),
    )
    observation = dt.date(2026, 10, 1)
    customers = customer_table({"orders": orders}, observation)

    result = assign_lifecycle(customers, DEFAULTS).merge(data.ground_truth[["customer_id", "churned"]],
                                                         on="customer_id")
    buyers = result.loc[result["frequency"] > 0]
    flagged = buyers["lifecycle"].isin(["at_risk", "churned"])
    assert set(buyers["lifecycle"].unique()) >= {"new", "active", "loyal", "at_risk", "churned"}
    assert flagged[buyers["churned"]].mean() > flagged[~buyers["churned"]].mean() + 0.2
    assert np.all(result.loc[result["frequency"].eq(0), "lifecycle"] == "prospect")
