"""Value tiers: quantile scores and the three tier methods on tiny frames with known answers."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from custseg.config import TierRule, Tiers
from custseg.segment.tiers import assign_tiers, quantile_scores

SCORES = ["r_score", "f_score", "m_score"]


def table(ids, recency, frequency, monetary, **extra) -> pd.DataFrame:
    """A customer table with the columns tiers read; `recency` None for customers who never bought."""
    return pd.DataFrame({
        "customer_id": pd.array(ids, dtype="str"),
        "recency_days": pd.array(recency, dtype="Int64"),
        "frequency": np.asarray(frequency, dtype="int64"),
        "monetary": np.asarray(monetary, dtype="float64"),
        **extra,
    })


def tiers_of(result: pd.DataFrame) -> list:
    return [None if pd.isna(t) else t for t in result["tier"]]


# five buyers whose R, F and M disagree, and one customer who never bought
#               A    B    C    D    E    F
MIXED = table(list("ABCDEF"),
              [1, 10, 100, 200, 300, None],  # r: 5 4 3 2 1
              [1, 2, 3, 4, 5, 0],  # f: 1 2 3 4 5
              [10.0, 50.0, 20.0, 40.0, 30.0, 0.0])  # m: 1 5 2 4 3


# --- quantile scores ------------------------------------------------------------------------------

def test_quantile_scores_known_answer_and_ties():
    values = pd.Series([10, 20, 30, 40, 50, 60, 70, 80, 90, 100])
    assert quantile_scores(values, 5).tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert quantile_scores(values, 5, higher_is_better=False).tolist() == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]
    assert quantile_scores(values, 10).tolist() == list(range(1, 11))
    # equal values share the lowest score their run spans: four ties beat nobody
    tied = pd.Series([1, 1, 1, 1, 5])
    assert quantile_scores(tied, 5).tolist() == [1, 1, 1, 1, 5]
    assert str(quantile_scores(tied, 5).dtype) == "Int64"
    # a crowd at the top starts where it starts: beating 2 of 5 is score 3, and nobody gets 4 or 5
    assert quantile_scores(pd.Series([1, 2, 5, 5, 5]), 5).tolist() == [1, 2, 3, 3, 3]
    assert quantile_scores(pd.Series([5, 5, 5, 2, 1]), 5, higher_is_better=False).tolist() == [1, 1, 1, 4, 5]


def test_quantile_scores_in_groups_smaller_than_bins():
    # the worst value scores 1 however few values there are; a lone value beats nobody
    assert quantile_scores(pd.Series([7.0]), 5).tolist() == [1]
    assert quantile_scores(pd.Series([1, 2, 3]), 5).tolist() == [1, 2, 4]


@pytest.mark.parametrize("grouped", [False, True], ids=["all", "within"])
def test_quantile_scores_are_monotone_and_give_ties_their_lowest_score(grouped):
    rng = np.random.default_rng(21)
    n = 5000
    # a few distinct values, most of them the smallest: the shape of purchase counts
    values = pd.Series(np.minimum(rng.geometric(0.6, n), 9).astype("float64"))
    groups = pd.Series(rng.choice(["A", "B", "C", "tiny"], n, p=[0.5, 0.3, 0.1999, 0.0001])) if grouped else None
    for bins in (3, 5, 10):
        scores = quantile_scores(values, bins, groups=groups).astype("int64")
        frame = pd.DataFrame({"value": values, "score": scores, "group": "all" if groups is None else groups})
        for _, part in frame.groupby("group"):
            part = part.sort_values("value", kind="stable")
            assert part["score"].is_monotonic_increasing  # a better value never scores lower
            assert part.groupby("value")["score"].nunique().eq(1).all()  # equal values, equal scores
            assert part.loc[part["value"].eq(part["value"].min()), "score"].eq(1).all()
            # the score never claims more than the share of the group the value beats
            worse = part["value"].rank(method="min") - 1
            assert ((part["score"] - 1) / bins <= worse / len(part)).all()


def test_quantile_scores_skip_missing_values():
    # the missing value neither gets a score nor counts towards n: 1 and 3 are ranks 1 and 2 of 2
    assert quantile_scores(pd.Series([1.0, None, 3.0]), 2).tolist() == [1, pd.NA, 2]
    assert quantile_scores(pd.Series([], dtype="float64"), 5).tolist() == []


def test_quantile_scores_within_groups():
    values = pd.Series([1, 2, 3, 4, 100, 200, 300, 400], index=list("abcdefgh"))
    groups = pd.Series(["x"] * 4 + ["y"] * 4, index=list("abcdefgh"))
    assert quantile_scores(values, 2, groups=groups).tolist() == [1, 1, 2, 2, 1, 1, 2, 2]
    assert quantile_scores(values, 2).tolist() == [1, 1, 1, 1, 2, 2, 2, 2]


def test_scores_do_not_depend_on_row_order():
    values = pd.Series([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5], index=list("abcdefghijk"))
    shuffled = values.sample(frac=1, random_state=7)
    pd.testing.assert_series_equal(quantile_scores(values, 5), quantile_scores(shuffled, 5).loc[values.index])


# --- method rfm -----------------------------------------------------------------------------------

def test_rfm_known_answer():
    customers = table(list("ABCDEF"), [1, 10, 100, 200, 300, None], [20, 10, 5, 2, 1, 0],
                      [5000.0, 2000.0, 800.0, 100.0, 20.0, 0.0])
    result = assign_tiers(customers, Tiers(names=["high", "mid", "low"], bins=5, min_scores=[12, 8]))
    # five buyers, ranks 1..5 of 5 -> scores 1..5; A is best on all three dimensions
    assert result["rfm_score"].tolist()[:5] == [15, 12, 9, 6, 3]
    assert tiers_of(result) == ["high", "high", "mid", "low", "low", None]
    assert result["tier"].dtype == pd.CategoricalDtype(["high", "mid", "low"], ordered=True)
    assert result["tier_method"].tolist() == ["rfm"] * 6
    assert "i_score" not in result


def test_rfm_weights_leave_out_a_zero_weight_but_still_score_it():
    result = assign_tiers(MIXED, Tiers(weights={"r": 2, "f": 0.5, "m": 0}, min_scores=[10, 7]))
    assert result["r_score"].tolist()[:5] == [5, 4, 3, 2, 1]
    assert result["f_score"].tolist()[:5] == [1, 2, 3, 4, 5]
    assert result["m_score"].tolist()[:5] == [1, 5, 2, 4, 3]  # computed for the segments anyway
    assert result["rfm_score"].tolist()[:5] == [10.5, 9.0, 7.5, 6.0, 4.5]  # 2 R + 0.5 F
    assert tiers_of(result) == ["high", "mid", "mid", "low", "low", None]
    assert str(result["rfm_score"].dtype) == "float64" and pd.isna(result["rfm_score"].iloc[5])


def test_rfm_with_interactions_as_a_fourth_dimension():
    # F never bought: its 9 contacts must not push the buyers' interaction ranks down
    customers = MIXED.assign(interactions_90d=np.array([0, 3, 0, 1, 7, 9], dtype="int64"))
    result = assign_tiers(customers, Tiers(weights={"r": 1, "f": 1, "m": 1, "i": 1}, min_scores=[14, 10]))
    # buyers' contacts 0 3 0 1 7: the two 0s beat nobody -> 1; 1 beats two of five -> 1 + 2 = 3
    assert result["i_score"].tolist() == [1, 4, 1, 3, 5, pd.NA]
    # R+F+M = 7 11 8 10 9, plus I
    assert result["rfm_score"].tolist()[:5] == [8, 15, 9, 13, 14]
    assert tiers_of(result) == ["low", "high", "low", "mid", "high", None]


def test_interaction_weight_needs_the_interactions_columns():
    with pytest.raises(ValueError, match=r"tiers\.weights\.i needs an interactions table"):
        assign_tiers(MIXED, Tiers(weights={"r": 1, "f": 1, "m": 1, "i": 1}, min_scores=[14, 10]))
    # a zero weight for i asks for nothing, even when the column is there
    customers = MIXED.assign(interactions_90d=np.arange(6))
    assert "i_score" not in assign_tiers(customers, Tiers(weights={"r": 1, "f": 1, "m": 1, "i": 0}))
    assert "i_score" not in assign_tiers(MIXED, Tiers(weights={"r": 1, "f": 1, "m": 1, "i": 0}))


def test_a_rerun_replaces_earlier_scores_including_a_stale_i_score():
    customers = MIXED.assign(interactions_90d=np.array([0, 3, 0, 1, 7, 9], dtype="int64"))
    first = assign_tiers(customers, Tiers(weights={"r": 1, "f": 1, "m": 1, "i": 1}, min_scores=[14, 10]))
    again = assign_tiers(first, Tiers())
    pd.testing.assert_frame_equal(again, assign_tiers(customers, Tiers()))


# --- method value_share ---------------------------------------------------------------------------

def test_value_share_the_customer_crossing_a_boundary_stays_in_the_better_tier():
    # revenue 40 30 20 10 (+ one buyer whose returns outweigh purchases, + one non-buyer) = 100
    customers = table(list("ABCDEF"), [5, 5, 5, 5, 5, None], [1, 1, 1, 1, 1, 0],
                      [40.0, 30.0, 20.0, 10.0, -5.0, 0.0])
    result = assign_tiers(customers, Tiers(method="value_share", revenue_shares=[0.5, 0.3]))
    # revenue before each: 0 -> high; 40 (< 50, B crosses 50%) -> high; 70 (< 80) -> mid; 90 -> low
    assert tiers_of(result) == ["high", "high", "mid", "low", "low", None]
    assert result["tier_method"].iloc[0] == "value_share"
    assert result["r_score"].notna().sum() == 5  # scores are computed whatever the method


def test_value_share_a_customer_starting_exactly_on_a_boundary_opens_the_next_tier():
    # ten customers of 10 each; 0.1 + 0.2 is 0.30000000000000004 in floats, yet the fourth
    # customer, with exactly 30% of revenue before them, must open the last tier
    ids = [f"c{i:02d}" for i in range(10)]
    customers = table(ids, [5] * 10, [1] * 10, [10.0] * 10)
    result = assign_tiers(customers, Tiers(method="value_share", revenue_shares=[0.1, 0.2]))
    assert tiers_of(result) == ["high", "mid", "mid"] + ["low"] * 7


def test_value_share_breaks_equal_spend_by_customer_id():
    # c 45, d 35, then a and b with 10 each: a (first by id) starts at 80% -> mid, b at 90% -> low
    customers = table(["b", "d", "a", "c"], [5] * 4, [1] * 4, [10.0, 35.0, 10.0, 45.0])
    result = assign_tiers(customers, Tiers(method="value_share", revenue_shares=[0.5, 0.4])).set_index("customer_id")
    assert result["tier"].to_dict() == {"b": "low", "d": "high", "a": "mid", "c": "high"}


def test_value_share_without_revenue_puts_every_buyer_in_the_last_tier():
    customers = table(list("AB"), [5, 5], [1, 2], [0.0, -3.0])
    result = assign_tiers(customers, Tiers(method="value_share"))
    assert tiers_of(result) == ["low", "low"]


# --- method thresholds ----------------------------------------------------------------------------

def test_thresholds_as_chinese_practice_writes_them():
    # high: R < 60 days, F >= 5, M >= 500  ->  recency_max_days 59 (whole days); mid: R <= 179, F >= 2
    rules = [TierRule(recency_max_days=59, frequency_min=5, monetary_min=500),
             TierRule(recency_max_days=179, frequency_min=2)]
    customers = table(
        list("abcdefg"),
        [59, 60, 10, 10, 180, 179, None],
        [5, 5, 4, 9, 9, 1, 0],
        [500.0, 500.0, 900.0, 499.99, 9000.0, 9000.0, 0.0],
    )
    result = assign_tiers(customers, Tiers(method="thresholds", rules=rules))
    assert tiers_of(result) == [
        "high",  # a: exactly on every limit
        "mid",  # b: 60 days is not "under 60"
        "mid",  # c: 4 purchases
        "mid",  # d: 499.99 is short of 500
        "low",  # e: 180 days
        "low",  # f: a single purchase
        None,  # g: never bought
    ]


def test_thresholds_first_rule_met_wins_and_an_empty_rule_takes_everyone():
    customers = table(list("abc"), [1, 400, None], [9, 1, 0], [1e4, 1.0, 0.0])
    # the second rule is looser than the first; order decides
    rules = [TierRule(frequency_min=1), TierRule(frequency_min=5)]
    result = assign_tiers(customers, Tiers(method="thresholds", rules=rules))
    assert tiers_of(result) == ["high", "high", None]
    catch_all = assign_tiers(customers, Tiers(method="thresholds", names=["buyer", "none"], rules=[TierRule()]))
    assert tiers_of(catch_all) == ["buyer", "buyer", None]


def test_one_time_buyers_and_the_best_tier_of_each_method():
    # a is a one-time buyer with the largest order of all and the latest purchase
    customers = table(list("abcdef"), [1, 5, 9, 20, 40, 80], [1, 6, 5, 4, 3, 2],
                      [9000.0, 3000.0, 2500.0, 2000.0, 1500.0, 1000.0])
    rfm = assign_tiers(customers, Tiers())
    # R 5 + M 5 + F 1 = 11: below the 12 of the best tier
    assert rfm.loc[0, ["r_score", "f_score", "m_score"]].tolist() == [5, 1, 5] and tiers_of(rfm)[0] == "mid"
    # value_share tiers by spend alone: the biggest spender is in the best tier, one order or many
    assert tiers_of(assign_tiers(customers, Tiers(method="value_share")))[0] == "high"
    # thresholds tier by the limits given: frequency_min 2 keeps one-time buyers out
    rules = [TierRule(monetary_min=2000, frequency_min=2), TierRule(monetary_min=1000)]
    tiered = assign_tiers(customers, Tiers(method="thresholds", rules=rules))
    assert tiers_of(tiered) == ["mid", "high", "high", "high", "mid", "mid"]


# --- tiers within a region ------------------------------------------------------------------------

def two_markets() -> pd.DataFrame:
    # East spends 100..500, West ten times as much; otherwise the same customers
    return table([f"e{i}" for i in range(1, 6)] + [f"w{i}" for i in range(1, 6)],
                 [50, 40, 30, 20, 10] * 2, [1, 2, 3, 4, 5] * 2,
                 [100.0, 200.0, 300.0, 400.0, 500.0, 1000.0, 2000.0, 3000.0, 4000.0, 5000.0],
                 market=pd.array(["East"] * 5 + ["West"] * 5, dtype="string"))


def test_within_market_gives_each_market_its_own_cut_offs():
    customers = two_markets()
    settings = {"weights": {"m": 1}, "min_scores": [5, 3]}  # the tier is the M score: 5 high, 3-4 mid
    overall = assign_tiers(customers, Tiers(**settings)).set_index("customer_id")
    within = assign_tiers(customers, Tiers(within="market", **settings)).set_index("customer_id")
    # over everyone East's best spender ranks 6th of 10 -> M 3; within East it is the best -> M 5
    assert overall["m_score"].tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert within["m_score"].tolist() == [1, 2, 3, 4, 5] * 2
    assert within["f_score"].tolist() == [1, 2, 3, 4, 5] * 2 and within["r_score"].tolist() == [1, 2, 3, 4, 5] * 2
    assert overall.loc[overall["tier"].eq("high")].index.tolist() == ["w4", "w5"]
    high = within.loc[within["tier"].eq("high")]
    assert high.index.tolist() == ["e5", "w5"]
    # the cheapest customer of the best tier: 500 in East, 5000 in West
    assert high.groupby("market")["monetary"].min().to_dict() == {"East": 500.0, "West": 5000.0}


def test_value_share_within_market():
    customers = two_markets()
    overall = assign_tiers(customers, Tiers(method="value_share"))
    within = assign_tiers(customers, Tiers(method="value_share", within="market"))
    # within each market (total 1500 / 15000): 500 before 0 -> high, 400 at 1/3 -> high,
    # 300 at 0.6 -> mid, 200 exactly at 0.8 -> low, 100 -> low
    assert tiers_of(within) == ["low", "low", "mid", "high", "high"] * 2
    # over everyone the East customers are all at the bottom
    assert tiers_of(overall)[:5] == ["low"] * 5


def test_missing_regions_form_one_unknown_group():
    customers = table(list("abcde"), [1, 2, 3, 4, 5], [1, 1, 1, 1, 1], [10.0, 20.0, 10.0, 20.0, 30.0],
                      market=pd.array(["A", "A", None, None, "Unknown"], dtype="string"))
    result = assign_tiers(customers, Tiers(within="market", bins=3, weights={"m": 1}, min_scores=[3, 2]))
    # c, d (missing) and e ("Unknown") are ranked together: 10 20 30 -> 1 2 3; in A, 20 beats
    # one of two -> 1 + floor(3 / 2) = 2
    assert result["m_score"].tolist() == [1, 2, 1, 2, 3]


def test_within_country_reads_the_iso3_column():
    customers = two_markets().assign(country_iso3=pd.array(["CHN"] * 5 + ["USA"] * 5, dtype="string"))
    by_country = assign_tiers(customers, Tiers(within="country"))
    by_market = assign_tiers(customers, Tiers(within="market"))
    pd.testing.assert_series_equal(by_country["m_score"], by_market["m_score"])
    with pytest.raises(ValueError, match=r"tiers\.within is 'country'.*'country_iso3'"):
        assign_tiers(two_markets(), Tiers(within="country"))


# --- the VIP variant, determinism, what is left alone ---------------------------------------------

def test_vip_four_tiers():
    customers = table(list("ABCDEF"), [1, 10, 100, 200, 300, None], [20, 10, 5, 2, 1, 0],
                      [5000.0, 2000.0, 800.0, 100.0, 20.0, 0.0])
    names = ["vip", "high", "mid", "low"]
    result = assign_tiers(customers, Tiers(names=names, min_scores=[14, 11, 8]))
    assert tiers_of(result) == ["vip", "high", "mid", "low", "low", None]  # totals 15 12 9 6 3
    assert list(result["tier"].cat.categories) == names and result["tier"].cat.ordered
    shares = assign_tiers(customers, Tiers(method="value_share", names=names, revenue_shares=[0.6, 0.2, 0.15]))
    # 5000 of 7920 = 63% -> vip alone; 2000 starts at 63% -> high; 800 starts at 88.4% -> mid (< 95%)
    assert tiers_of(shares) == ["vip", "high", "mid", "low", "low", None]
    rules = [TierRule(frequency_min=20), TierRule(frequency_min=10), TierRule(frequency_min=5)]
    by_rules = assign_tiers(customers, Tiers(method="thresholds", names=names, rules=rules))
    assert tiers_of(by_rules) == ["vip", "high", "mid", "low", "low", None]


@pytest.mark.parametrize("settings", [
    Tiers(),
    Tiers(within="market", weights={"r": 1, "f": 2, "m": 1, "i": 1}, min_scores=[18, 12]),
    Tiers(method="value_share"),
    Tiers(method="value_share", within="market"),
    Tiers(method="thresholds", rules=[TierRule(recency_max_days=30, frequency_min=3), TierRule(monetary_min=100)]),
], ids=["rfm", "rfm-within-i", "value_share", "value_share-within", "thresholds"])
def test_same_output_after_shuffling_rows(settings):
    rng = np.random.default_rng(3)
    n = 300
    frequency = rng.integers(0, 6, n)  # many ties, and a share who never bought
    customers = table(
        [f"C{i:04d}" for i in range(n)],
        pd.Series(rng.integers(1, 60, n)).where(frequency > 0),
        frequency,
        np.where(frequency > 0, rng.choice([50.0, 100.0, 250.0, 1000.0], n), 0.0),  # equal spends
        market=pd.array(rng.choice(["A", "B", "C"], n), dtype="string"),
        interactions_90d=rng.integers(0, 3, n),
    )
    shuffled = customers.sample(frac=1, random_state=11)
    expected = assign_tiers(customers, settings)
    got = assign_tiers(shuffled, settings).sort_values("customer_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected)


def test_non_buyers_untouched_and_input_not_mutated():
    customers = MIXED.assign(market=pd.array(["A", "A", "B", "B", None, "A"], dtype="string"))
    before = customers.copy()
    result = assign_tiers(customers, Tiers(within="market"))
    pd.testing.assert_frame_equal(customers, before)  # input untouched
    pd.testing.assert_frame_equal(result[customers.columns], before)  # every input column kept as is
    never = result.loc[result["frequency"].eq(0)]
    assert never[SCORES].isna().all().all() and never["rfm_score"].isna().all() and never["tier"].isna().all()
    for column in SCORES:
        assert str(result[column].dtype) == "Int64"


@pytest.mark.parametrize("method", ["rfm", "value_share", "thresholds"])
def test_a_table_without_buyers_gets_no_tiers(method):
    rules = [TierRule(), TierRule()] if method == "thresholds" else []
    settings = Tiers(method=method, rules=rules)
    for customers in (MIXED.iloc[0:0], MIXED.iloc[5:6]):  # empty; one customer who never bought
        result = assign_tiers(customers, settings)
        assert len(result) == len(customers) and result["tier"].isna().all() and result["r_score"].isna().all()


def test_missing_columns_and_buyers_without_recency_fail_loudly():
    with pytest.raises(ValueError, match=r"no column\(s\) \['monetary'\]"):
        assign_tiers(MIXED.drop(columns="monetary"), Tiers())
    broken = MIXED.assign(recency_days=pd.array([1, None, 3, 4, 5, None], dtype="Int64"))
    with pytest.raises(ValueError, match="'recency_days' is missing for customers with purchases"):
        assign_tiers(broken, Tiers())


# --- on a generated sample ------------------------------------------------------------------------

def sample_customers() -> pd.DataFrame:
    from custseg.sample.generator import EXCHANGE_RATES, SampleSpec, generate_sample
    from custseg.segment.features import customer_table

    data = generate_sample(SampleSpec(n_customers=800, seed=5, messy=False))
    raw = data.orders
    orders = raw.assign(
        order_date=pd.to_datetime(raw["order_date"]).astype("datetime64[s]"),
        revenue=(raw["amount"] * raw["currency"].map(EXCHANGE_RATES)).where(raw["status"].eq("completed"), 0.0),
    )
    customers = customer_table({"orders": orders}, dt.date(2026, 10, 1))
    truth = data.ground_truth[["customer_id", "true_segment", "market"]]
    return customers.merge(truth, on="customer_id", how="left", validate="one_to_one")


def test_sample_tiers_follow_the_planted_segments():
    customers = sample_customers()
    result = assign_tiers(customers, Tiers(within="market"))
    buyers = result.loc[result["frequency"] > 0]
    by_truth = buyers.groupby("true_segment")[SCORES].mean()
    assert by_truth.loc["lapsed", "r_score"] < by_truth.drop(index="lapsed")["r_score"].min()
    assert by_truth.loc["vip", "m_score"] > by_truth.loc["bargain_hunter", "m_score"] + 1
    best = buyers["tier"].eq("high").groupby(buyers["true_segment"]).mean()
    assert best["vip"] > 0.5 > best["lapsed"]

    shares = assign_tiers(customers, Tiers(method="value_share", revenue_shares=[0.5, 0.3]))
    positive = shares["monetary"].clip(lower=0)  # shares are of positive net revenue
    revenue = positive.groupby(shares["tier"], observed=False).sum()
    # the best tier holds at least half of the revenue, and only just
    top = shares.loc[shares["tier"].eq("high"), "monetary"]
    assert revenue["high"] / revenue.sum() >= 0.5
    assert (revenue["high"] - top.min()) / revenue.sum() < 0.5
    assert shares["tier"].eq("high").sum() < 0.3 * (shares["frequency"] > 0).sum()


def test_quantile_scores_match_pandas_ranks_with_and_without_groups():
    # many ties and a missing value; the one-group path and the grouped path against Series.rank:
    # the values strictly worse than a tie are its minimum rank less one
    rng = np.random.default_rng(8)
    values = pd.Series(rng.integers(0, 40, 3000).astype("float64")).mask(rng.random(3000) < 0.01)
    groups = pd.Series(rng.choice(["East", "West", "North"], 3000))
    for bins in (3, 5):
        for higher_is_better in (True, False):
            ranked = values if higher_is_better else -values
            expected = 1 + np.floor((ranked.rank(method="min") - 1) * bins / ranked.notna().sum())
            got = quantile_scores(values, bins, higher_is_better=higher_is_better)
            pd.testing.assert_series_equal(got, expected.astype("Int64"), check_names=False)
            by_group = ranked.groupby(groups)
            expected = 1 + np.floor((by_group.rank(method="min") - 1) * bins / by_group.transform("count"))
            got = quantile_scores(values, bins, higher_is_better=higher_is_better, groups=groups)
            pd.testing.assert_series_equal(got, expected.astype("Int64"), check_names=False)


@pytest.mark.parametrize("method", ["rfm", "value_share"])
def test_tiers_within_a_categorical_region_are_those_within_its_text(method):
    # segmentation hands past dates their regions as categoricals
    customers = table(list("abcdefg"), [1, 2, 3, 4, 5, 6, 7], [1, 3, 1, 2, 1, 5, 2],
                      [10.0, 20.0, 10.0, 20.0, 30.0, 5.0, 50.0],
                      market=pd.array(["B", "A", None, None, "Unknown", "B", "A"], dtype="string"))
    coded = customers.assign(market=pd.Categorical(customers["market"]))
    settings = Tiers(method=method, within="market", bins=3, min_scores=[6, 4])
    text, codes = assign_tiers(customers, settings), assign_tiers(coded, settings)
    pd.testing.assert_frame_equal(text.drop(columns="market"), codes.drop(columns="market"))
