"""The synthetic sample: shape, determinism, messiness, and a known answer that can be recovered."""

from __future__ import annotations

import datetime
import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score
from sklearn.preprocessing import RobustScaler

from custseg.regions import normalize_regions
from custseg.sample import (
    CATEGORIES,
    EXCHANGE_RATES,
    SEGMENTS,
    SampleSpec,
    generate_sample,
    write_sample,
)

SPEC = SampleSpec(n_customers=1500, seed=11)


@pytest.fixture(scope="module")
def sample():
    return generate_sample(SPEC)


@pytest.fixture(scope="module")
def clean_sample():
    return generate_sample(SampleSpec(n_customers=1500, seed=11, messy=False))


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_same_spec_gives_byte_identical_files(tmp_path):
    spec = SampleSpec(n_customers=300, seed=5)
    write_sample(generate_sample(spec), tmp_path / "a")
    write_sample(generate_sample(spec), tmp_path / "b")
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    write_sample(generate_sample(SampleSpec(n_customers=300, seed=6)), tmp_path / "c")
    assert _digest(tmp_path / "a")["orders.csv"] != _digest(tmp_path / "c")["orders.csv"]


def test_written_files_match_the_contract(tmp_path, sample):
    written = write_sample(sample, tmp_path)
    assert set(written) == {"customers", "orders", "interactions", "feedback", "ground_truth", "sample_meta"}
    orders = pd.read_csv(written["orders"], dtype=str, keep_default_na=False)
    assert list(orders.columns) == [
        "order_id", "customer_id", "order_date", "category", "amount", "currency", "status",
    ]
    assert orders["order_date"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    assert orders["amount"].str.fullmatch(r"\d+\.\d{2}").all()
    assert len(orders) == sample.meta["sizes"]["orders"]
    raw = written["orders"].read_bytes()
    assert b"\r\n" not in raw and not raw.startswith(b"\xef\xbb\xbf")


def test_every_dimension_of_the_articles_has_data(sample):
    customers, orders = sample.customers, sample.orders
    assert set(customers["customer_type"]) == {"B2B", "B2C"}
    b2b = customers["customer_type"] == "B2B"
    # Firmographics for businesses, demographics for consumers, never both.
    assert customers.loc[b2b, "industry"].notna().all() and customers.loc[b2b, "age_band"].isna().all()
    assert customers.loc[~b2b, "age_band"].notna().all() and customers.loc[~b2b, "industry"].isna().all()
    assert customers["acquisition_channel"].nunique() >= 5
    assert set(orders["category"]) == set(CATEGORIES)
    assert set(orders["status"]) == {"completed", "cancelled", "refunded"}
    assert orders["currency"].nunique() >= 10
    assert set(sample.interactions["channel"]) == {"visit", "email", "call", "ticket"}
    assert sample.feedback["satisfaction"].between(1, 5).all()
    assert sample.feedback["nps"].between(0, 10).all()
    assert sample.feedback["satisfaction"].nunique() == 5


def test_orders_span_three_years_and_stop_at_the_observation_date(sample):
    dates = sample.orders["order_date"]
    assert dates.min() >= pd.Timestamp(SPEC.start_date)
    assert dates.max() < pd.Timestamp(SPEC.observation_date)
    assert (dates.max() - dates.min()).days > 1000
    # Interactions and feedback never leak past the observation date either.
    assert sample.interactions["interaction_date"].max() < pd.Timestamp(SPEC.observation_date)
    assert sample.feedback["feedback_date"].max() < pd.Timestamp(SPEC.observation_date)


def test_order_frequency_is_heavy_tailed_and_amounts_log_normal(sample):
    per_customer = sample.orders.groupby("customer_id").size()
    assert per_customer.max() > 8 * per_customer.median()
    cny = sample.orders["amount"] * sample.orders["currency"].map(EXCHANGE_RATES)
    log_amount = np.log(cny)
    # Log-normal: the log is roughly symmetric while the raw amount is strongly right-skewed.
    assert abs(log_amount.skew()) < 1.0
    assert cny.skew() > 3.0


def test_default_size_is_about_a_hundred_thousand_orders():
    # Cheap to check on the real default: generation is vectorized.
    data = generate_sample(SampleSpec())
    assert len(data.ground_truth) == 5000
    assert 70_000 <= len(data.orders) <= 140_000


def test_planted_segments_and_churn_are_in_the_ground_truth(sample):
    truth = sample.ground_truth
    assert truth["customer_id"].is_unique and len(truth) == SPEC.n_customers
    assert set(truth["true_segment"]) == set(SEGMENTS)
    lapsed = truth["true_segment"] == "lapsed"
    # Lapsed customers stopped long ago; most active ones keep buying.
    assert truth.loc[lapsed, "churned"].all()
    assert truth.loc[~lapsed, "churned"].mean() < 0.4
    assert (truth.loc[truth["churned"], "future_orders"] == 0).all()
    assert (truth.loc[~truth["churned"], "future_revenue"] > 0).all()


def _recovery_features(sample) -> pd.DataFrame:
    """Per-customer log recency, frequency, order value and tenure from the raw export alone."""
    orders = sample.orders.drop_duplicates()
    orders = orders[orders["status"] == "completed"]
    cny = orders["amount"] * orders["currency"].map(EXCHANGE_RATES)
    grouped = orders.assign(cny=cny).groupby("customer_id")
    end = pd.Timestamp(SPEC.observation_date)
    features = pd.DataFrame({
        "recency": (end - grouped["order_date"].max()).dt.days,
        "frequency": grouped.size(),
        "aov": grouped["cny"].mean(),
        "tenure": (end - grouped["order_date"].min()).dt.days,
    })
    return np.log1p(features)


def test_planted_segments_are_recoverable_by_clustering(sample):
    features = _recovery_features(sample)
    truth = sample.ground_truth.set_index("customer_id").loc[features.index, "true_segment"]
    labels = KMeans(n_clusters=len(SEGMENTS), n_init=20, random_state=0).fit_predict(
        RobustScaler().fit_transform(features)
    )
    # The planted segments must be separable in plain RFM + tenure space, or the segmentation
    # engine's recovery target (ARI >= 0.8) would be a test of the generator, not of custseg.
    ari = adjusted_rand_score(truth, labels)
    assert ari >= 0.8, f"adjusted Rand index {ari:.3f}"


def test_messy_spellings_normalize_back_to_the_truth(sample):
    customers = sample.customers.drop_duplicates("customer_id")
    regions = normalize_regions(customers[["country", "province", "city"]])
    truth = sample.ground_truth.set_index("customer_id").loc[customers["customer_id"]]
    placed = truth["country_iso3"].notna().to_numpy()
    assert (regions["country_iso3"].to_numpy()[placed] == truth["country_iso3"].to_numpy()[placed]).mean() > 0.995
    assert (regions["market"].to_numpy() == truth["market"].to_numpy()).mean() > 0.99


def test_messy_sample_has_variants_and_duplicates(sample, clean_sample):
    countries = sample.customers["country"].dropna()
    assert {"中国", "CN", "CHN"} & set(countries.str.strip())
    assert (countries != countries.str.strip()).any()
    assert sample.orders.duplicated().sum() > 0
    assert sample.customers.duplicated().sum() > 0
    # The clean variant spells every country as its ISO-3 code and repeats nothing.
    assert clean_sample.customers["country"].str.fullmatch(r"[A-Z]{3}").all()
    assert not clean_sample.orders.duplicated().any()


def test_bad_spec_is_refused_with_the_field_named():
    with pytest.raises(ValueError, match="n_customers"):
        generate_sample(SampleSpec(n_customers=0))
    with pytest.raises(ValueError, match="365 days"):
        generate_sample(SampleSpec(start_date=datetime.date(2026, 1, 1)))
    with pytest.raises(ValueError, match="base_currency"):
        generate_sample(SampleSpec(base_currency="XYZ"))


def test_sample_config_rates_are_the_generator_rates():
    config = yaml.safe_load(Path("config/sample.yaml").read_text(encoding="utf-8"))
    rates = config["currency"]["rates"]
    assert config["currency"]["base"] == "CNY"
    assert rates == {code: rate for code, rate in EXCHANGE_RATES.items() if code != "CNY"}
