"""Named segments: the 11-group R x FM map and the Chinese 8-class value model, on constructed scores."""

from __future__ import annotations

import datetime as dt
import itertools

import numpy as np
import pandas as pd
import pytest

from custseg.config import SegmentRule, Segments, Tiers, ValueClass
from custseg.segment.rfm import assign_segments, segment_table
from custseg.segment.tiers import assign_tiers

DEFAULT = Segments()

def scored(rows: list[tuple[int | None, int | None, int | None]], frequency=None, **extra) -> pd.DataFrame:
    """A customer table with given R, F, M scores (None: a customer without scores).

    `frequency` (purchases) defaults to the F score, 0 for a customer without scores: a plausible
    count, with one purchase where F is 1.
    """
    r, f, m = (pd.array(list(column), dtype="Int64") for column in zip(*rows))
    purchases = f.fillna(0).to_numpy(dtype="int64") if frequency is None else np.asarray(frequency, dtype="int64")
    return pd.DataFrame({"customer_id": pd.array([f"c{i:02d}" for i in range(len(rows))], dtype="str"),
                         "r_score": r, "f_score": f, "m_score": m, "frequency": purchases, **extra})


def labels(column: pd.Series) -> list:
    return [None if pd.isna(v) else v for v in column]


# --- the 11-group map -----------------------------------------------------------------------------

def test_one_customer_per_segment_with_a_map_where_every_rule_is_reachable():
    cases = {  # (R, F, M) -> segment; FM is the mean of F and M
        (5, 4, 5): "Champions",
        (1, 5, 4): "Cannot lose them",
        (5, 1, 1): "New",
        (3, 1, 1): "Promising",
        (3, 5, 5): "Loyal",  # R 3 is not Champions
        (4, 2, 2): "Potential loyalists",
        (2, 2, 3): "Need attention",  # FM 2.5
        (2, 1, 2): "About to sleep",  # FM 1.5
        (1, 3, 3): "At risk",
        (1, 1, 1): "Lost",
        (1, 2, 1): "Hibernating",
    }
    result = assign_segments(scored(list(cases)), DEFAULT, bins=5)
    assert labels(result["segment"]) == list(cases.values())
    zh = {rule.name: rule.name_zh for rule in DEFAULT.rfm_map}
    assert labels(result["segment_zh"]) == [zh[name] for name in cases.values()]
    assert list(result["segment"].cat.categories) == [rule.name for rule in DEFAULT.rfm_map] + ["Other"]
    assert list(result["segment_zh"].cat.categories)[-1] == "其他"


def test_default_map_first_match_wins_and_every_rule_is_reachable():
    cases = {
        (5, 5, 5): "Champions",  # also inside Loyal's ranges: the first rule wins
        (1, 5, 5): "Cannot lose them",  # also inside At risk's ranges: the narrow rule comes first
        (5, 1, 1): "New",  # also inside Potential loyalists' ranges
        (1, 1, 1): "Lost",  # also inside Hibernating's ranges
    }
    result = assign_segments(scored(list(cases)), DEFAULT, bins=5)
    assert labels(result["segment"]) == list(cases.values())
    assert segment_table(DEFAULT).query("model == 'rfm_map'")["reachable"].all()
    # a map written wide-rule-first shadows the narrow rules, and the table says which
    shadowed = Segments(rfm_map=list(reversed(DEFAULT.rfm_map)))
    table = segment_table(shadowed).query("model == 'rfm_map'").set_index("name")
    assert "Lost" in table.index[~table["reachable"]].tolist()


@pytest.mark.parametrize("bins", [2, 3, 4, 5, 7, 10])
def test_every_score_combination_gets_a_named_segment(bins):
    grid = list(itertools.product(range(1, bins + 1), repeat=3))
    for settings in (DEFAULT,):
        result = assign_segments(scored(grid), settings, bins=bins)
        assert result["segment"].notna().all() and not result["segment"].eq("Other").any()
    if bins == 5:
        assert segment_table(DEFAULT, bins=5).query("model == 'rfm_map'")["reachable"].all()


def test_one_time_buyers_fall_through_the_rules_that_need_two_purchases():
    # a one-time buyer with a large order: F 1, M 5, so FM 3, inside Loyal's range
    rows = [(5, 1, 5), (2, 1, 5), (1, 1, 5), (5, 1, 5), (2, 1, 5), (1, 1, 5)]
    result = assign_segments(scored(rows, frequency=[1, 1, 1, 2, 2, 2]), DEFAULT, bins=5)
    assert labels(result["segment"]) == [
        "Potential loyalists", "Need attention", "At risk",  # one purchase: not Loyal
        "Loyal", "Loyal", "At risk",  # the same scores with two purchases
    ]
    assert [rule.name for rule in DEFAULT.rfm_map if rule.min_orders == 2] == ["Champions", "Cannot lose them", "Loyal"]
    # every score combination a one-time buyer can have (F 1) still gets a named segment
    grid = [(r, 1, m) for r in range(1, 6) for m in range(1, 6)]
    once = assign_segments(scored(grid, frequency=[1] * len(grid)), DEFAULT, bins=5)
    assert not once["segment"].isin(["Champions", "Cannot lose them", "Loyal", "Other"]).any()


def test_min_orders_of_a_custom_rule_and_a_table_without_frequency():
    regulars = Segments(rfm_map=[
        SegmentRule(name="Regulars", name_zh="常客", r=(0, 5), fm=(0, 5), min_orders=3),
        SegmentRule(name="Everyone else", name_zh="其他客户", r=(0, 5), fm=(0, 5)),
    ])
    result = assign_segments(scored([(5, 5, 5), (5, 5, 5), (1, 1, 1)], frequency=[3, 2, 7]), regulars, bins=5)
    assert labels(result["segment"]) == ["Regulars", "Everyone else", "Regulars"]
    with pytest.raises(ValueError,
                       match=r"segments\.rfm_map: \['Regulars'\] ask for a number of purchases.*'frequency'"):
        assign_segments(scored([(5, 5, 5)]).drop(columns="frequency"), regulars, bins=5)
    # a map that counts no purchases does not need the column
    plain = Segments(rfm_map=[rule.model_copy(update={"min_orders": 1}) for rule in DEFAULT.rfm_map])
    result = assign_segments(scored([(3, 1, 5)]).drop(columns="frequency"), plain, bins=5)
    assert labels(result["segment"]) == ["Loyal"]


def test_a_buyer_no_rule_describes_is_other():
    only = Segments(rfm_map=[SegmentRule(name="Champions", name_zh="冠军客户", r=(4, 5), fm=(4, 5))])
    result = assign_segments(scored([(5, 5, 5), (1, 1, 1), (None, None, None)]), only, bins=5)
    assert labels(result["segment"]) == ["Champions", "Other", None]
    assert labels(result["segment_zh"]) == ["冠军客户", "其他", None]


def test_a_name_used_by_two_rules_is_one_segment():
    two = Segments(rfm_map=[
        SegmentRule(name="Good", name_zh="好", r=(4, 5), fm=(0, 5)),
        SegmentRule(name="Good", name_zh="好", r=(0, 5), fm=(4, 5)),
        SegmentRule(name="Rest", name_zh="其余", r=(0, 5), fm=(0, 5)),
    ])
    result = assign_segments(scored([(5, 1, 1), (1, 5, 5), (1, 1, 1)]), two, bins=5)
    assert labels(result["segment"]) == ["Good", "Good", "Rest"]
    assert list(result["segment"].cat.categories) == ["Good", "Rest", "Other"]


def test_scores_on_another_scale_are_rescaled_onto_one_to_five():
    # bins 3: 1 2 3 -> 1 3 5
    result = assign_segments(scored([(3, 3, 3), (1, 3, 3), (2, 2, 2), (1, 1, 1)]), DEFAULT, bins=3)
    assert labels(result["segment"]) == ["Champions", "Cannot lose them", "Loyal", "Lost"]
    # bins 9: 7 -> 4 exactly (a whole number, so the inclusive bound 4 holds); 6 -> 3.5
    result = assign_segments(scored([(7, 7, 7), (6, 9, 9), (9, 4, 5)]), DEFAULT, bins=9)
    # (9, 4, 5): R 5, F 2.5, M 3 -> FM 2.75, below Loyal's 3
    assert labels(result["segment"]) == ["Champions", "Loyal", "Potential loyalists"]
    # unrescaled, R 7 and R 6 would lie beyond every rule's R range and fall to Other
    assert not result["segment"].eq("Other").any()


def test_scores_outside_the_scale_fail_loudly():
    with pytest.raises(ValueError, match=r"r_score runs from 1 to 7, outside 1\.\.5.*tiers\.bins"):
        assign_segments(scored([(7, 1, 1), (1, 1, 1)]), DEFAULT, bins=5)
    with pytest.raises(ValueError, match=r"run custseg\.segment\.tiers\.assign_tiers first"):
        assign_segments(scored([(1, 1, 1)]).drop(columns="m_score"), DEFAULT, bins=5)


# --- the 8-class model ----------------------------------------------------------------------------

EIGHT = {  # (R, F, M) -> (name_zh, name): each score 1 or 5, so every mean is exactly 3
    (5, 5, 5): ("重要价值客户", "Important value"),
    (5, 1, 5): ("重要发展客户", "Important to develop"),
    (1, 5, 5): ("重要保持客户", "Important to keep"),
    (1, 1, 5): ("重要挽留客户", "Important to win back"),
    (5, 5, 1): ("一般价值客户", "General value"),
    (5, 1, 1): ("一般发展客户", "General to develop"),
    (1, 5, 1): ("一般保持客户", "General to keep"),
    (1, 1, 1): ("一般挽留客户", "General to win back"),
}


def test_eight_classes_on_constructed_cases():
    # plus a buyer exactly at the mean (3, 3, 3): not above it, so low on all three; and a non-buyer
    rows = [*EIGHT, (3, 3, 3), (None, None, None)]
    result = assign_segments(scored(rows), DEFAULT, bins=5)
    assert labels(result["value_class"]) == [zh for zh, _ in EIGHT.values()] + ["一般挽留客户", None]
    assert labels(result["value_class_en"]) == [en for _, en in EIGHT.values()] + ["General to win back", None]
    assert list(result["value_class"].cat.categories) == [c.name_zh for c in DEFAULT.value_classes] + ["其他"]


def test_median_split_differs_from_mean_split():
    # R scores 1 1 1 2 5: mean 2, median 1 -> the buyer with R 2 is high only against the median
    rows = [(1, 3, 3), (1, 3, 3), (1, 3, 3), (2, 3, 3), (5, 3, 3)]
    by_mean = assign_segments(scored(rows), Segments(split="mean"), bins=5)
    by_median = assign_segments(scored(rows), Segments(split="median"), bins=5)
    # F and M are all 3: nobody is above the middle
    assert labels(by_mean["value_class"]) == ["一般挽留客户"] * 4 + ["一般发展客户"]
    assert labels(by_median["value_class"]) == ["一般挽留客户"] * 3 + ["一般发展客户"] * 2


def test_value_classes_missing_or_repeated():
    seven = Segments(value_classes=DEFAULT.value_classes[:7])  # no class for low/low/low
    result = assign_segments(scored(list(EIGHT)), seven, bins=5)
    assert labels(result["value_class"])[-1] == "其他" and labels(result["value_class_en"])[-1] == "Other"
    twice = Segments(value_classes=[*DEFAULT.value_classes,
                                    ValueClass(name_zh="超级客户", name="Super", r="high", f="high", m="high")])
    with pytest.raises(ValueError, match="segments.value_classes lists r=high f=high m=high twice"):
        assign_segments(scored(list(EIGHT)), twice, bins=5)


# --- table, input, end to end ---------------------------------------------------------------------

def test_segment_table_describes_both_maps():
    table = segment_table(DEFAULT)
    assert table["model"].value_counts().to_dict() == {"rfm_map": 11, "value_classes": 8}
    first = table.iloc[0]
    assert (first["name"], first["name_zh"], first["r"], first["fm"]) == ("Champions", "冠军客户", "4-5", "4-5")
    assert table.loc[table["name"].eq("Lost"), ["r", "fm"]].iloc[0].tolist() == ["0-1", "0-1"]
    value = table.loc[table["name_zh"].eq("重要发展客户")].iloc[0]
    assert (value["r"], value["f"], value["m"]) == ("high", "low", "high") and pd.isna(value["reachable"])
    assert table.set_index("name")["min_orders"].iloc[:5].tolist() == [2, 2, 1, 1, 2]
    assert table["min_orders"].iloc[11:].isna().all()


def test_reachable_counts_purchases():
    everything = ((0, 5), (0, 5))
    # the first rule takes every repeat buyer; one-time buyers fall through to the second
    repeat = SegmentRule(name="Repeat", name_zh="回头客", r=everything[0], fm=everything[1], min_orders=2)
    two = Segments(rfm_map=[repeat, SegmentRule(name="Once", name_zh="一次", r=everything[0], fm=everything[1])])
    assert segment_table(two).query("model == 'rfm_map'")["reachable"].tolist() == [True, True]
    # a rule for one-time buyers with FM 4 and up: F 1 keeps FM at 3 or below, so nobody gets there
    narrow = Segments(rfm_map=[repeat,
                               SegmentRule(name="Big once", name_zh="大单一次", r=everything[0], fm=(4, 5)),
                               SegmentRule(name="Once", name_zh="一次", r=everything[0], fm=everything[1])])
    assert segment_table(narrow).query("model == 'rfm_map'")["reachable"].tolist() == [True, False, True]


def test_input_not_mutated_and_rerun_replaces_columns():
    customers = scored([*EIGHT, (None, None, None)], frequency=np.array([5] * 8 + [0]))
    before = customers.copy()
    once = assign_segments(customers, DEFAULT, bins=5)
    pd.testing.assert_frame_equal(customers, before)
    pd.testing.assert_frame_equal(once[customers.columns], before)
    pd.testing.assert_frame_equal(assign_segments(once, DEFAULT, bins=5), once)
    never = once.loc[once["frequency"].eq(0)]
    assert never[["segment", "segment_zh", "value_class", "value_class_en"]].isna().all().all()


def test_sample_segments_follow_the_planted_segments():
    from custseg.sample.generator import EXCHANGE_RATES, SampleSpec, generate_sample
    from custseg.segment.features import customer_table

    data = generate_sample(SampleSpec(n_customers=800, seed=5, messy=False))
    raw = data.orders
    orders = raw.assign(
        order_date=pd.to_datetime(raw["order_date"]).astype("datetime64[s]"),
        revenue=(raw["amount"] * raw["currency"].map(EXCHANGE_RATES)).where(raw["status"].eq("completed"), 0.0),
    )
    customers = customer_table({"orders": orders}, dt.date(2026, 10, 1)).merge(
        data.ground_truth[["customer_id", "true_segment"]], on="customer_id", how="left", validate="one_to_one"
    )
    result = assign_segments(assign_tiers(customers, Tiers()), DEFAULT, bins=5)
    buyers = result.loc[result["frequency"] > 0]
    assert buyers["segment"].notna().all() and buyers["value_class"].notna().all()
    assert not buyers["segment"].eq("Other").any() and not buyers["value_class"].eq("其他").any()
    sleepy = buyers["segment"].isin(["At risk", "Hibernating", "About to sleep", "Lost", "Cannot lose them"])
    by_truth = sleepy.groupby(buyers["true_segment"]).mean()
    assert by_truth["lapsed"] > 0.8 and by_truth["vip"] < 0.1
    important = buyers["value_class"].eq("重要价值客户").groupby(buyers["true_segment"]).mean()
    assert important["vip"] > 0.7 and important["lapsed"] < 0.05


# --- one-time buyers on tied bases ----------------------------------------------------------------

def tied_base(share_once: float, n: int = 4000, seed: int = 0) -> pd.DataFrame:
    """Buyers of whom `share_once` bought once, with market labels; one-time buyers' orders are as
    large as anyone's, so some of them have the largest net spend of all."""
    rng = np.random.default_rng(seed)
    once = rng.random(n) < share_once
    frequency = np.where(once, 1, 2 + rng.geometric(0.3, n))
    aov = rng.lognormal(4.0, 1.2, n)
    return pd.DataFrame({
        "customer_id": pd.array([f"C{i:05d}" for i in range(n)], dtype="str"),
        "recency_days": pd.array(rng.integers(1, 400, n), dtype="Int64"),
        "frequency": frequency.astype("int64"),
        "monetary": np.round(aov * frequency, 2),
        "market": pd.array(rng.choice(["North", "South", "Islands"], n, p=[0.6, 0.39, 0.01]), dtype="string"),
    })


@pytest.mark.parametrize("share_once", [0.5, 0.9, 0.99])
@pytest.mark.parametrize("within", ["all", "market"])
def test_one_time_buyers_never_reach_the_segments_and_tier_of_frequent_buyers(share_once, within):
    customers = tied_base(share_once)
    tiered = assign_tiers(customers, Tiers(within=within))
    once = tiered["frequency"].eq(1)
    assert once.mean() == pytest.approx(share_once, abs=0.02)
    assert tiered.loc[once, "f_score"].eq(1).all()  # the lowest frequency, the lowest score
    # one-time buyers are among the biggest spenders too: only frequency keeps them out
    assert tiered.loc[once, "m_score"].eq(5).any()
    assert not tiered.loc[once, "tier"].eq("high").any()
    for split in ("mean", "median"):
        result = assign_segments(tiered, Segments(split=split), bins=5)
        segment = result.loc[once, "segment"]
        assert not segment.isin(["Champions", "Loyal", "Cannot lose them", "Other"]).any(), segment.value_counts()
        high_f = [c.name for c in DEFAULT.value_classes if c.f == "high"]
        assert not result.loc[once, "value_class_en"].isin(high_f).any()
        # repeat buyers still fill the segments that need two purchases
        assert result.loc[~once, "segment"].isin(["Champions", "Loyal"]).any()
