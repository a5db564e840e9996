"""Named segments: the 11-group R x FM map and the Chinese 8-class value model, on constructed scores."""

from __future__ import annotations

import datetime as dt
import itertools

import numpy as np
import pandas as pd
import pytest

from custseg.config import SegmentRule, Segments, Tiers, ValueClass
from custseg.segments import assign_segments, segment_table
from custseg.tiers import assign_tiers

DEFAULT = Segments()

def scored(rows: list[tuple[int | None, int | None, int | None]], **extra) -> pd.DataFrame:
    """A customer table with given R, F, M scores (None: a customer without scores)."""
    r, f, m = (pd.array(list(column), dtype="Int64") for column in zip(*rows))
    return pd.DataFrame({"customer_id": pd.array([f"c{i:02d}" for i in range(len(rows))], dtype="str"),
                         "r_score": r, "f_score": f, "m_score": m, **extra})


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
    with pytest.raises(ValueError, match=r"run custseg\.tiers\.assign_tiers first"):
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


def test_input_not_mutated_and_rerun_replaces_columns():
    customers = scored([*EIGHT, (None, None, None)], frequency=np.array([1] * 8 + [0]))
    before = customers.copy()
    once = assign_segments(customers, DEFAULT, bins=5)
    pd.testing.assert_frame_equal(customers, before)
    pd.testing.assert_frame_equal(once[customers.columns], before)
    pd.testing.assert_frame_equal(assign_segments(once, DEFAULT, bins=5), once)
    never = once.loc[once["frequency"].eq(0)]
    assert never[["segment", "segment_zh", "value_class", "value_class_en"]].isna().all().all()


def test_sample_segments_follow_the_planted_segments():
    from custseg.features import customer_table
    from custseg.sample import EXCHANGE_RATES, SampleSpec, generate_sample

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
