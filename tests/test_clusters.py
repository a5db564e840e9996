"""Clusters: known answers on a hand-made table, determinism, and recovery of the planted segments."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.metrics import adjusted_rand_score, silhouette_score

from custseg import words
from custseg.config import Clusters, load_config
from custseg.intake.cleaning import run_intake
from custseg.sample.generator import SampleSpec, generate_sample, write_sample
from custseg.segment.clusters import (
    ClusterResult,
    _choose,
    _scaled,
    _transform,
    assign_clusters,
    cluster_name,
    fit_clusters,
    mean_silhouettes,
)
from custseg.segment.features import customer_table

ROOT = Path(__file__).resolve().parents[1]
FEATURES = ["recency_days", "frequency", "monetary", "aov", "tenure_days"]
# Small enough for a dozen rows; the logged columns are fixed so that the names are predictable.
SMALL = Clusters(log=["recency_days", "frequency", "monetary"], k_min=2, k_max=4, bootstrap=5,
                 sample_size=100, seed=7)


def said(names: dict) -> dict:
    """Cluster names (facts) in English words, as the export says them."""
    return {cluster: words.cluster_name(name) for cluster, name in names.items()}


def _group(prefix: str, recency: list[int], frequency: list[int]) -> pd.DataFrame:
    # Every order is worth 250 and every tenure is alike: the groups differ in recency, frequency
    # and so total spend only, which makes their names predictable.
    return pd.DataFrame({
        "customer_id": [f"{prefix}{i}" for i in range(len(recency))],
        "recency_days": recency,
        "frequency": frequency,
        "monetary": 250.0 * np.array(frequency),
        "tenure_days": 800,
    })


@pytest.fixture
def tiny() -> pd.DataFrame:
    """Three tight groups of four buyers, two prospects and one buyer without a tenure.

    V: bought days ago, about 41 orders; R: a month ago, about 8 orders; L: two years ago, one
    order. Rows are interleaved, and the index is not a RangeIndex.
    """
    vip = _group("V", [3, 5, 4, 6], [40, 42, 41, 43])
    regular = _group("R", [30, 33, 31, 35], [8, 9, 8, 9])
    lapsed = _group("L", [700, 720, 710, 730], [1, 1, 1, 1])
    prospects = pd.DataFrame({"customer_id": ["P0", "P1"], "recency_days": [None, None], "frequency": [0, 0],
                              "monetary": [0.0, 0.0], "tenure_days": [20, 40]})
    no_tenure = pd.DataFrame({"customer_id": ["X0"], "recency_days": [10], "frequency": [5],
                              "monetary": [900.0], "tenure_days": [None]})
    table = pd.concat([vip, regular, lapsed, prospects, no_tenure], ignore_index=True)
    table = table.iloc[[0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11]]
    frequency = table["frequency"].astype("int64")
    table = table.assign(
        customer_id=table["customer_id"].astype("str"),
        recency_days=table["recency_days"].astype("Int64"),
        frequency=frequency,
        monetary=table["monetary"].astype("float64"),
        aov=table["monetary"] / frequency.where(frequency > 0),
        tenure_days=table["tenure_days"].astype("Int64"),
    )
    return table.set_axis([f"row{i}" for i in range(len(table))])


def _truth_of(table: pd.DataFrame) -> pd.Series:
    return table["customer_id"].str[0]


# ----------------------------------------------------------------------------- hand-made table


def test_groups_are_found_and_numbered_by_spend(tiny):
    result = fit_clusters(tiny, SMALL)
    assert isinstance(result, ClusterResult)
    assert result.k == 3 and result.method == "kmeans" and result.settings == SMALL
    assert result.labels.dtype == "Int64" and result.labels.index.equals(tiny.index)
    by_group = result.labels.groupby(_truth_of(tiny)).agg(lambda s: sorted(set(s.dropna().tolist())))
    # cluster 1 has the highest median net spend
    assert by_group.to_dict() == {"V": [1], "R": [2], "L": [3], "P": [], "X": []}


def test_prospects_and_buyers_with_a_missing_feature_get_no_cluster(tiny):
    result = fit_clusters(tiny, SMALL)
    unlabelled = tiny.loc[result.labels.isna(), "customer_id"]
    assert sorted(unlabelled) == ["P0", "P1", "X0"]
    # an infinite value is as unusable as a missing one
    broken = tiny.assign(aov=tiny["aov"].where(tiny["customer_id"] != "V0", np.inf))
    assert fit_clusters(broken, SMALL).labels[broken["customer_id"] == "V0"].isna().all()


def test_profile_sizes_shares_and_revenue_add_up(tiny):
    result = fit_clusters(tiny, SMALL)
    profile = result.profile
    assert profile.index.tolist() == [1, 2, 3]
    assert profile["size"].tolist() == [4, 4, 4]
    assert profile["size"].sum() == result.labels.notna().sum()
    assert profile["share"].sum() == pytest.approx(1.0)
    revenue = [250.0 * (40 + 42 + 41 + 43), 250.0 * (8 + 9 + 8 + 9), 250.0 * 4]
    assert profile["revenue"].tolist() == revenue
    assert profile["revenue_share"].tolist() == pytest.approx([r / sum(revenue) for r in revenue])
    assert profile["revenue_share"].sum() == pytest.approx(1.0)
    assert profile.loc[1, "median_frequency"] == 41.5
    assert profile.loc[3, "median_recency_days"] == 715
    # z-scores on the transformed scale: the size-weighted cluster means are the base mean
    z = profile[[f"z_{f}" for f in FEATURES]]
    assert z.mul(profile["size"], axis=0).sum().abs().max() < 1e-9
    assert profile.loc[1, "z_frequency"] > 0 > profile.loc[3, "z_frequency"]
    # every group has the same tenures and order values: no cluster stands out on them
    assert profile[["z_tenure_days", "z_aov"]].abs().max().max() < 1e-9


def test_names_describe_the_groups(tiny):
    result = fit_clusters(tiny, SMALL)
    assert said(result.names) == {
        1: "Recent frequent high spenders",
        2: "Average customers",
        3: "Lapsed occasional low spenders",
    }
    assert result.profile["cluster"].tolist() == list(result.names)


def test_selection_covers_every_k_and_flags_one(tiny):
    result = fit_clusters(tiny, SMALL)
    selection = result.selection
    assert selection["k"].tolist() == [2, 3, 4]
    assert selection["chosen"].sum() == 1
    assert selection.loc[selection["chosen"], "k"].item() == result.k == 3
    assert selection["silhouette"].between(-1, 1).all()
    assert selection["stability"].between(-1, 1).all()
    # three tight groups: any bootstrap refit of k=3 finds the same partition
    assert selection.set_index("k").loc[3, "stability"] == pytest.approx(1.0)
    unchecked = fit_clusters(tiny, SMALL.model_copy(update={"bootstrap": 0}))
    assert unchecked.selection["stability"].isna().all() and unchecked.k == 3


def test_signed_log_of_skewed_columns_and_a_negative_spender_sets_nothing(tiny):
    chosen = fit_clusters(tiny, SMALL)
    assert chosen.log_columns == ("recency_days", "frequency", "monetary")
    # None: every feature whose skew is above 1; one huge account makes net spend skewed
    whale = tiny.assign(monetary=tiny["monetary"].where(tiny["customer_id"] != "V0", 1e7))
    auto = fit_clusters(whale, SMALL.model_copy(update={"log": None}))
    skew = whale.loc[auto.labels.notna(), FEATURES].astype("float64").skew()
    assert skew["monetary"] > 1 and (skew.drop("monetary").fillna(0) <= 1).all()
    assert auto.log_columns == ("monetary",)
    # a refund far larger than anyone's spend: a shift by the most negative value would move
    # every other customer; the signed log and the median/IQR scaling leave them where they were
    refunded = tiny.assign(monetary=tiny["monetary"].where(tiny["customer_id"] != "L0", -1e5))
    features = ["recency_days", "frequency", "monetary"]
    scaled = {}
    for name, table in (("plain", tiny), ("refunded", refunded)):
        buyers = table.loc[table["frequency"] > 0, features].astype("float64")
        scaled[name], _ = _scaled(_transform(buyers, ("frequency", "monetary")), None)
    others = tiny.loc[tiny["frequency"] > 0, "customer_id"].ne("L0").to_numpy()
    np.testing.assert_array_equal(scaled["refunded"][others], scaled["plain"][others])
    assert scaled["refunded"][~others, 2] < scaled["plain"][~others, 2]  # below every other spend


def groups_of(sizes: dict[str, int], seed: int = 4) -> pd.DataFrame:
    """Buyers in well-separated groups of the given sizes (recency and frequency set them apart)."""
    rng = np.random.default_rng(seed)
    centres = {"A": (5, 40), "B": (60, 8), "C": (400, 1), "D": (900, 300)}
    frames = []
    for name, size in sizes.items():
        recency, frequency = centres[name]
        frames.append(pd.DataFrame({
            "customer_id": [f"{name}{i:04d}" for i in range(size)],
            "recency_days": np.maximum(1, np.round(recency * rng.lognormal(0, 0.1, size))).astype("int64"),
            "frequency": np.maximum(1, np.round(frequency * rng.lognormal(0, 0.1, size))).astype("int64"),
        }))
    table = pd.concat(frames, ignore_index=True)
    return table.assign(monetary=100.0 * table["frequency"], tenure_days=1000)


def broad(n: int = 900, seed: int = 4) -> pd.DataFrame:
    """One broad population of buyers, as real ones are: purchases geometric, spend log-normal."""
    rng = np.random.default_rng(seed)
    frequency = rng.geometric(0.35, n)
    return pd.DataFrame({
        "customer_id": [f"C{i:04d}" for i in range(n)],
        "recency_days": rng.integers(1, 365, n).astype("int64"),
        "frequency": frequency.astype("int64"),
        "monetary": np.round(rng.lognormal(4.5, 0.8, n) * frequency, 2),
        "tenure_days": 1000,
    })


THREE = Clusters(features=["recency_days", "frequency", "monetary"], log=["recency_days", "frequency", "monetary"],
                 k_min=3, k_max=5, bootstrap=3, sample_size=2000, seed=3)


@pytest.mark.parametrize("extreme", [
    {"monetary": -1e5},  # returns worth a hundred thousand
    {"frequency": 5000, "monetary": 5e7},  # a wholesaler
], ids=["refund", "wholesaler"])
def test_an_extreme_customer_is_clipped_to_the_fence_and_joins_a_cluster(extreme):
    table = broad()
    plain = fit_clusters(table, THREE)
    changed = table.assign(**{column: table[column].astype("float64").where(table.index != 0, value)
                              for column, value in extreme.items()})
    result = fit_clusters(changed, THREE)
    assert result.k == plain.k == 3 and result.min_share_met
    assert result.profile["size"].min() >= 0.02 * len(table)
    # clipped on the extreme features, once each; the other features as before
    assert {c: result.clipped[c] - plain.clipped[c] for c in THREE.features} == {
        c: int(c in extreme) for c in THREE.features
    }
    # the others keep their clusters, but for a few on a border
    assert adjusted_rand_score(plain.labels.iloc[1:], result.labels.iloc[1:]) > 0.95
    # without fences and minimum share the wholesaler draws a centre of their own
    loose = fit_clusters(changed, THREE.model_copy(update={"clip_iqr": None, "min_share": 0}))
    assert loose.clipped == dict.fromkeys(THREE.features, 0)
    if "frequency" in extreme:
        assert loose.profile["size"].min() == 1
    with pytest.raises(ValueError, match=r"clip_iqr"):
        Clusters(clip_iqr=0)


TWO = Clusters(features=["recency_days", "frequency"], log=["recency_days", "frequency"], k_min=3, k_max=5,
               bootstrap=3, sample_size=2000, seed=3, clip_iqr=None)


def test_a_k_with_a_cluster_under_the_minimum_share_is_not_chosen():
    # three groups of 300 and one of 6 (0.7% of buyers), far from the others
    table = groups_of({"A": 300, "B": 300, "C": 300, "D": 6})
    anything = fit_clusters(table, TWO.model_copy(update={"min_share": 0}))
    assert anything.k == 4 and anything.profile["size"].min() == 6  # the six make a cluster
    result = fit_clusters(table, TWO)
    selection = result.selection.set_index("k")
    assert result.k == 3 and result.min_share_met
    assert result.profile["share"].min() >= 0.02
    assert selection.loc[4, "smallest_share"] == pytest.approx(6 / 906)
    assert selection["eligible"].tolist() == [True, False, False]
    assert (selection["eligible"] == selection["smallest_share"].ge(0.02)).all()
    # only the chosen k was fitted on all buyers (all of them are in the sample here)
    assert selection["smallest_share_all"].notna().tolist() == [True, False, False]
    assert selection.loc[3, "smallest_share_all"] == selection.loc[3, "smallest_share"]


def test_when_no_k_meets_the_minimum_share_the_largest_smallest_cluster_is_kept():
    table = groups_of({"A": 500, "B": 250, "C": 150})
    result = fit_clusters(table, TWO.model_copy(update={"min_share": 0.3}))
    selection = result.selection.set_index("k")
    assert not result.min_share_met and not selection["eligible"].any()
    best = selection["smallest_share"].max()
    assert selection.loc[result.k, "smallest_share"] == best
    assert result.k == selection.index[selection["smallest_share"].eq(best)].min()
    with pytest.raises(ValueError, match=r"clusters\.min_share \(0\.4\) x clusters\.k_min \(3\) is above 1"):
        Clusters(min_share=0.4)


class _Fixed:
    """A stand-in for a fitted model whose labels of all buyers are given."""

    def __init__(self, labels: np.ndarray) -> None:
        self.labels = labels

    def predict(self, _points: np.ndarray) -> np.ndarray:
        return self.labels


def test_a_k_whose_fit_on_all_buyers_has_a_tiny_cluster_gives_way_to_the_next():
    n = 1000
    tiny_cluster = np.r_[np.zeros(600, dtype="int64"), np.ones(390, dtype="int64"), np.full(10, 2)]
    fine = np.r_[np.zeros(500, dtype="int64"), np.ones(300, dtype="int64"), np.full(200, 2)]
    selection = pd.DataFrame({"k": [3, 4], "silhouette": [0.6, 0.5], "stability": [0.9, 0.9],
                              "smallest_share": [0.05, 0.04]})
    settings = Clusters(method="gmm", k_min=3, k_max=4)  # a mixture labels all buyers as it is
    models = {3: _Fixed(tiny_cluster), 4: _Fixed(fine)}
    chosen, labels = _choose(selection, models, np.zeros((n, 2)), settings, refit=True)
    # k = 3 is preferred on the sample, but on all buyers its smallest cluster holds 1%
    assert chosen["chosen"].tolist() == [False, True] and (labels == fine).all()
    assert chosen["smallest_share_all"].tolist() == [0.01, 0.2]
    assert chosen["eligible"].tolist() == [False, True]


def test_gmm_option_runs(tiny):
    result = fit_clusters(tiny, SMALL.model_copy(update={"method": "gmm"}))
    assert result.method == "gmm" and result.k in {2, 3, 4}
    assert result.selection["k"].tolist() == [2, 3, 4]
    assert result.labels.notna().sum() == 12
    assert sorted(result.labels.dropna().unique()) == list(range(1, result.profile.shape[0] + 1))
    assert result.profile["size"].sum() == 12


def test_input_is_not_modified(tiny):
    before = tiny.copy(deep=True)
    result = fit_clusters(tiny, SMALL)
    assign_clusters(tiny, result)
    pd.testing.assert_frame_equal(tiny, before)


def test_assign_clusters_matches_on_customer_id(tiny):
    result = fit_clusters(tiny, SMALL)
    assigned = assign_clusters(tiny, result)
    assert list(assigned.columns) == [*tiny.columns, "cluster"]
    pd.testing.assert_series_equal(assigned["cluster"], result.labels)
    assert assigned.loc[assigned["customer_id"] == "V2", "cluster"].item() == 1
    assert assigned.loc[assigned["customer_id"] == "P0", "cluster"].isna().all()
    # a reordered slice of the table (one region) gets the same clusters
    region = tiny.iloc[::-2].reset_index(drop=True)
    again = assign_clusters(region, result).set_index("customer_id")["cluster"]
    expected = assigned.set_index("customer_id").loc[again.index, "cluster"]
    pd.testing.assert_series_equal(again, expected)


def test_assign_clusters_joins_a_table_of_the_same_shape_with_other_rows(tiny):
    # The clustered table itself takes the labels as they are; a table with the same length and
    # index but its rows in another order must still be matched by id, not by position.
    result = fit_clusters(tiny, SMALL)
    by_id = assign_clusters(tiny, result).set_index("customer_id")["cluster"]
    reversed_rows = tiny.iloc[::-1].reset_index(drop=True)
    got = assign_clusters(reversed_rows, result).set_index("customer_id")["cluster"]
    pd.testing.assert_series_equal(got, by_id.loc[got.index])
    assert not got.equals(by_id.reset_index(drop=True).set_axis(got.index))


def test_failures_name_the_key_or_column(tiny):
    with pytest.raises(ValueError, match="clusters.features names \\['churn_score'\\]"):
        fit_clusters(tiny, SMALL.model_copy(update={"features": ["recency_days", "churn_score"]}))
    with pytest.raises(ValueError, match="clusters.log names \\['aov'\\]"):
        fit_clusters(tiny, SMALL.model_copy(update={"features": ["recency_days"], "log": ["aov"]}))
    with pytest.raises(ValueError, match="column 'customer_id' is str, not a number"):
        fit_clusters(tiny, SMALL.model_copy(update={"features": ["recency_days", "customer_id"]}))
    with pytest.raises(ValueError, match="column 'monetary'"):
        fit_clusters(tiny.drop(columns="monetary"), SMALL.model_copy(update={"features": ["recency_days"]}))
    with pytest.raises(ValueError, match="only 12 buyers .* clusters.k_max = 12"):
        fit_clusters(tiny, SMALL.model_copy(update={"k_max": 12}))
    twice = pd.concat([tiny, tiny.iloc[[0]]])
    with pytest.raises(ValueError, match="customer_id 'V0' appears more than once"):
        fit_clusters(twice, SMALL)


# ----------------------------------------------------------------------------- names and helpers


@pytest.mark.parametrize(("z", "name"), [
    ({"recency_days": -0.9, "frequency": 1.3, "monetary": 1.6, "aov": 0.9, "tenure_days": 0.2},
     "Recent frequent high spenders"),
    ({"recency_days": 0.2, "frequency": -0.3, "monetary": 1.8, "aov": 2.5, "tenure_days": 0.3}, "Big-basket buyers"),
    ({"recency_days": -0.7, "frequency": 1.0, "monetary": -0.3, "aov": -1.2}, "Recent frequent small-basket buyers"),
    ({"recency_days": 1.4, "frequency": -0.8, "monetary": -0.6, "aov": -0.1}, "Lapsed occasional low spenders"),
    ({"recency_days": -0.2, "frequency": -1.1, "monetary": -1.0, "aov": -0.2, "tenure_days": -1.3}, "New customers"),
    ({"frequency": -1.1, "monetary": 0.2, "aov": 1.5, "tenure_days": -2.0}, "New big-basket buyers"),
    ({"recency_days": 0.1, "frequency": 0.4, "monetary": -0.4}, "Average customers"),
    ({"z_recency_days": -0.6, "z_frequency": 0.6}, "Recent frequent customers"),
    ({"frequency": 0.7, "churn_score": 3.0}, "Frequent customers"),
])
def test_cluster_name_rule(z, name):
    fact = cluster_name(pd.Series(z, dtype="float64"))
    assert words.cluster_name(fact) == name
    assert json.loads(json.dumps(fact)) == fact  # a fact study.json keeps as it is


def test_names_are_made_unique(tiny):
    # two copies of the lapsed group far apart in tenure only: same words, two clusters
    copy = tiny.assign(customer_id=tiny["customer_id"] + "b", tenure_days=tiny["tenure_days"] + 5000)
    lapsed = pd.concat([tiny, copy.loc[copy["customer_id"].str.startswith("L")]], ignore_index=True)
    settings = Clusters(features=["recency_days", "frequency", "monetary", "tenure_days"], log=[],
                        k_min=4, k_max=4, bootstrap=0, sample_size=100)
    names = said(fit_clusters(lapsed, settings).names)
    assert len(set(names.values())) == len(names) == 4
    assert sum(name.endswith(" (2)") for name in names.values()) == 1


def test_mean_silhouettes_equal_sklearn():
    rng = np.random.default_rng(3)
    points = np.vstack([rng.normal(size=(300, 3)), np.repeat(rng.normal(size=(4, 3)), 5, axis=0)])
    labelings = [rng.integers(0, k, len(points)) for k in (2, 3, 6)]
    labelings.append(np.r_[np.zeros(len(points) - 1, dtype="int64"), 2])  # one point alone, id 1 empty
    expected = [silhouette_score(points, labels) for labels in labelings]
    assert mean_silhouettes(points, labelings) == pytest.approx(expected, rel=1e-9, abs=1e-12)
    assert np.isnan(mean_silhouettes(points, [np.zeros(len(points), dtype="int64")])[0])


# ----------------------------------------------------------------------------- generated sample


@pytest.fixture(scope="module")
def planted(tmp_path_factory) -> tuple[pd.DataFrame, pd.Series]:
    """The customer table of a 2,000-customer sample built by intake and features, and the truth."""
    folder = tmp_path_factory.mktemp("clusters")
    spec = SampleSpec(n_customers=2000, seed=11)
    sample = generate_sample(spec)
    write_sample(sample, folder / "raw")
    config = yaml.safe_load((ROOT / "config" / "sample.yaml").read_text(encoding="utf-8"))
    config["inputs"] = {name: f"raw/{name}.csv" for name in ("orders", "customers", "interactions", "feedback")}
    config["output"] = {key: f"out/{key}" for key in ("interim", "processed", "reports", "build", "exports")}
    (folder / "study.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    tables = run_intake(load_config(folder / "study.yaml")).tables
    customers = customer_table(tables, spec.observation_date)
    truth = sample.ground_truth.set_index("customer_id")["true_segment"]
    return customers, truth


def _ari(result: ClusterResult, truth: pd.Series) -> float:
    return adjusted_rand_score(truth.loc[result.by_customer.index], result.by_customer)


def test_default_settings_recover_the_planted_segments(planted):
    customers, truth = planted
    result = fit_clusters(customers, Clusters())
    assert result.labels.notna().sum() == customers["frequency"].gt(0).sum()
    ari = _ari(result, truth)
    assert ari >= 0.8, f"adjusted Rand index {ari:.3f} with k={result.k}\n{result.selection}"
    assert len(set(said(result.names).values())) == result.k
    fixed = fit_clusters(customers, Clusters(k_min=6, k_max=6))
    assert _ari(fixed, truth) >= 0.8


def test_same_seed_same_clusters_whatever_the_row_order(planted):
    customers, _ = planted
    # a sample smaller than the base: the draw and the refit on all rows are exercised too
    settings = Clusters(k_min=4, k_max=6, sample_size=500, bootstrap=3, seed=5)
    first = fit_clusters(customers, settings)
    second = fit_clusters(customers, settings)
    pd.testing.assert_series_equal(first.labels, second.labels)
    pd.testing.assert_frame_equal(first.profile, second.profile)
    pd.testing.assert_frame_equal(first.selection, second.selection)
    assert first.names == second.names

    shuffled = customers.sample(frac=1.0, random_state=1)
    moved = fit_clusters(shuffled, settings)
    pd.testing.assert_series_equal(moved.labels.reindex(customers.index), first.labels)
    pd.testing.assert_series_equal(moved.by_customer, first.by_customer)
    pd.testing.assert_frame_equal(moved.selection, first.selection)
    assert moved.names == first.names
