"""The synthetic sample: shape, determinism, messiness, and a known answer that can be recovered."""

from __future__ import annotations

import dataclasses
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

from custseg import cli
from custseg.config import load_config
from custseg.geo import normalize_regions
from custseg.sample.generator import (
    CATEGORIES,
    EXCHANGE_RATES,
    LINE_ITEM_COLUMNS,
    SEGMENTS,
    SampleSpec,
    generate_sample,
    invoiced_orders,
    line_items_frame,
    write_sample,
)

ROOT = Path(__file__).resolve().parents[1]
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


def test_every_dimension_of_the_articles_has_data(sample, clean_sample):
    customers, orders = sample.customers, sample.orders
    assert set(customers["customer_type"]) == {"B2B", "B2C"}
    b2b = customers["customer_type"] == "B2B"
    # Firmographics for businesses, demographics for consumers, never both.
    assert customers.loc[b2b, "industry"].notna().all() and customers.loc[b2b, "age_band"].isna().all()
    assert customers.loc[~b2b, "age_band"].notna().all() and customers.loc[~b2b, "industry"].isna().all()
    assert customers["acquisition_channel"].nunique() >= 5
    assert set(orders["category"]) == set(CATEGORIES)
    assert {"completed", "cancelled", "refunded"} <= set(orders["status"])
    assert orders["currency"].nunique() >= 10
    assert set(sample.interactions["channel"]) == {"visit", "email", "call", "ticket"}
    feedback = clean_sample.feedback  # the messy one has scores typed into the wrong scale
    assert feedback["satisfaction"].between(1, 5).all()
    assert feedback["nps"].between(0, 10).all()
    assert feedback["satisfaction"].nunique() == 5


def test_orders_span_three_years_and_stop_at_the_observation_date(sample):
    dates = sample.orders["order_date"]
    assert dates.min() >= pd.Timestamp(SPEC.start_date)
    assert dates.max() < pd.Timestamp(SPEC.observation_date)
    assert (dates.max() - dates.min()).days > 1000
    # Interactions and feedback never leak past the observation date either.
    assert sample.interactions["interaction_date"].max() < pd.Timestamp(SPEC.observation_date)
    assert sample.feedback["feedback_date"].max() < pd.Timestamp(SPEC.observation_date)


def test_order_frequency_is_heavy_tailed_and_amounts_log_normal(sample):
    orders = sample.orders.loc[sample.orders["amount"].gt(0)]  # without the zero-amount mistakes
    per_customer = orders.groupby("customer_id").size()
    assert per_customer.max() > 8 * per_customer.median()
    cny = orders["amount"] * orders["currency"].map(EXCHANGE_RATES)
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
    orders = sample.orders.drop_duplicates("order_id")
    orders = orders[orders["amount"].gt(0) & orders["customer_id"].notna()]
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


def test_export_mistakes_are_all_quarantined_with_their_reason(tmp_path, sample, clean_sample):
    from custseg.config import load_config
    from custseg.intake.cleaning import run_intake

    write_sample(sample, tmp_path / "raw")
    config = yaml.safe_load(Path("config/sample.yaml").read_text(encoding="utf-8"))
    config["inputs"] = {name: f"raw/{name}.csv" for name in ("orders", "customers", "interactions", "feedback")}
    config["output"] = {key: f"out/{key}" for key in ("interim", "processed", "reports", "build", "exports")}
    (tmp_path / "study.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    result = run_intake(load_config(tmp_path / "study.yaml"))
    counts = result.quarantine.groupby(["table", "reason"]).size().to_dict()
    orders = sample.orders
    # an order id reused with another amount: neither row is kept, the original neither
    reused = 2 * (orders["order_id"].duplicated() & ~orders.duplicated()).sum()
    assert counts == {
        ("orders", "missing_id"): orders["customer_id"].isna().sum(),
        ("orders", "zero_amount"): (orders["amount"] == 0).sum(),
        ("orders", "unknown_status"): (orders["status"] == "pending").sum(),
        ("orders", "conflicting_duplicate"): reused,
        ("interactions", "missing_id"): sample.interactions["customer_id"].isna().sum(),
        ("feedback", "out_of_range"): (sample.feedback["satisfaction"] > 5).sum(),
    }
    assert min(counts.values()) >= 1
    # The clean variant has no mistakes at all.
    assert clean_sample.orders["customer_id"].notna().all() and clean_sample.orders["amount"].gt(0).all()


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


# --------------------------------------------------------------------------- line items


@pytest.fixture(scope="module")
def line_items(sample):
    return line_items_frame(sample)


def _is_reversal(lines: pd.DataFrame) -> pd.Series:
    return lines["InvoiceNo"].str.startswith("C")


def test_line_items_columns_and_values(line_items):
    assert list(line_items.columns) == list(LINE_ITEM_COLUMNS) == [
        "InvoiceNo", "StockCode", "Description", "Quantity", "UnitPrice", "InvoiceDate",
        "CustomerID", "Country", "Currency", "Category",
    ]
    assert line_items["Quantity"].dtype == "int64"
    assert line_items["StockCode"].str.fullmatch(r"P\d{5}|POST").all()
    assert (line_items["UnitPrice"] > 0).all()
    assert (line_items["UnitPrice"] == line_items["UnitPrice"].round(2)).all()
    assert line_items["InvoiceDate"].is_monotonic_increasing
    assert set(line_items["Category"]) == set(CATEGORIES)
    # One stock code, one description.
    assert (line_items.groupby("StockCode")["Description"].nunique() == 1).all()


def test_line_items_add_up_to_every_order(sample, line_items):
    orders = invoiced_orders(sample.orders).groupby("order_id").agg(amount=("amount", "first"),
                                                                    copies=("amount", "size"))
    sold = line_items[~_is_reversal(line_items) & (line_items["StockCode"] != "POST")]
    assert (sold["Quantity"] > 0).all()
    value = sold["Quantity"] * sold["UnitPrice"]
    invoices = value.groupby(sold["InvoiceNo"]).agg(["sum", "size"]).reindex(orders.index)
    assert invoices["size"].notna().all(), "an order has no invoice"
    # A duplicated order row repeats its lines, and so its amount.
    gap = (invoices["sum"] - orders["amount"] * orders["copies"]).abs()
    assert (gap <= 0.01 * invoices["size"]).all(), f"lines differ from the order amount:\n{gap.nlargest(5)}"
    assert (invoices["size"] / orders["copies"]).between(1, 4).all()
    assert (invoices["size"] / orders["copies"]).nunique() == 4


def test_cancelled_and_refunded_orders_are_reversed_on_c_invoices(sample, line_items):
    orders = invoiced_orders(sample.orders).drop_duplicates("order_id").set_index("order_id")
    undone = orders.index[orders["status"] != "completed"]
    reversal = line_items[_is_reversal(line_items)]
    assert set(reversal["InvoiceNo"].str.removeprefix("C")) == set(undone)
    assert (reversal["Quantity"] < 0).all()
    # The same lines (postage included) with the sign of the quantity flipped.
    columns = [c for c in LINE_ITEM_COLUMNS if c != "InvoiceDate"]
    mirrored = reversal.assign(InvoiceNo=reversal["InvoiceNo"].str.removeprefix("C"), Quantity=-reversal["Quantity"])
    original = line_items[line_items["InvoiceNo"].isin(undone)]

    def tidy(frame: pd.DataFrame) -> pd.DataFrame:
        return frame[columns].sort_values(["InvoiceNo", "StockCode", "UnitPrice"]).reset_index(drop=True)

    pd.testing.assert_frame_equal(tidy(mirrored), tidy(original))
    # Days later for a cancellation, weeks for a refund; never after the observation date.
    placed = original.groupby("InvoiceNo")["InvoiceDate"].min()
    reversed_at = mirrored.groupby("InvoiceNo")["InvoiceDate"].min()
    delay = (reversed_at - placed.loc[reversed_at.index]).dt.days
    assert (reversed_at >= placed.loc[reversed_at.index]).all()
    assert reversed_at.max() < pd.Timestamp(SPEC.observation_date)
    status = orders.loc[delay.index, "status"]
    assert delay[status == "cancelled"].median() < delay[status == "refunded"].median()


def test_some_invoices_carry_postage(line_items):
    postage = line_items[line_items["StockCode"] == "POST"]
    sales = ~_is_reversal(line_items)
    share = postage.loc[~_is_reversal(postage), "InvoiceNo"].nunique() / line_items.loc[sales, "InvoiceNo"].nunique()
    assert 0.015 < share < 0.05
    assert (postage["Description"] == "POSTAGE").all()
    assert (postage["Quantity"].abs() == 1).all() and (postage["UnitPrice"] > 0).all()


def test_line_items_keep_guests_raw_countries_and_duplicates(sample, line_items):
    guest = line_items["CustomerID"].isna()
    assert 0.003 < guest.mean() < 0.03
    # A guest checkout is a whole invoice without a customer.
    assert (guest.groupby(line_items["InvoiceNo"]).nunique() == 1).all()
    # Country is the customer's own spelling in customers.csv.
    spelled = sample.customers.drop_duplicates("customer_id").set_index("customer_id")["country"]
    known = line_items[~guest]
    expected = known["CustomerID"].map(spelled)
    assert (known["Country"].fillna("<NA>").to_numpy() == expected.fillna("<NA>").to_numpy()).all()
    assert (known["Country"].str.strip() != known["Country"]).any()
    # Exact duplicate order rows stay duplicated as lines; no other line repeats.
    repeated = sample.orders.loc[sample.orders.duplicated(), "order_id"]
    of_repeated = line_items["InvoiceNo"].str.removeprefix("C").isin(repeated)
    assert line_items[of_repeated].duplicated().sum() >= len(repeated) > 0
    assert not line_items[~of_repeated].duplicated().any()


def test_line_items_are_deterministic(sample, line_items):
    pd.testing.assert_frame_equal(line_items_frame(sample), line_items)
    pd.testing.assert_frame_equal(line_items_frame(sample, seed=SPEC.seed), line_items)
    other = line_items_frame(sample, seed=SPEC.seed + 1)
    assert not other.equals(line_items)
    # Another seed draws other products and times, never other invoices.
    assert set(other["InvoiceNo"]) == set(line_items["InvoiceNo"])


def test_line_items_refuse_orders_the_generator_does_not_make(sample):
    orders = sample.orders.copy()
    orders.loc[3, "currency"] = "XYZ"
    broken = dataclasses.replace(sample, orders=orders)
    with pytest.raises(ValueError, match="orders currency 'XYZ'"):
        line_items_frame(broken)


def test_cli_line_items_option_writes_the_file_and_changes_nothing_else(tmp_path, capsys):
    assert cli.main(["sample", "--out", str(tmp_path / "plain"), "--customers", "200"]) == 0
    assert cli.main(["sample", "--out", str(tmp_path / "lines"), "--customers", "200", "--line-items"]) == 0
    assert "line_items" in capsys.readouterr().out
    plain, lines = _digest(tmp_path / "plain"), _digest(tmp_path / "lines")
    assert "line_items.csv" not in plain
    assert {name: digest for name, digest in lines.items() if name != "line_items.csv"} == plain

    path = tmp_path / "lines" / "line_items.csv"
    raw = path.read_bytes()
    assert b"\r\n" not in raw and not raw.startswith(b"\xef\xbb\xbf")
    written = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert list(written.columns) == list(LINE_ITEM_COLUMNS)
    date_format = load_config(ROOT / "config" / "sample_line_items.yaml").inputs.line_items.date_format
    assert pd.to_datetime(written["InvoiceDate"], format=date_format).notna().all()
    assert written["InvoiceDate"].str.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}").all()
    assert written["UnitPrice"].str.fullmatch(r"\d+\.\d{2}").all()
    assert written["Quantity"].str.fullmatch(r"-?[1-9]\d*").all()
    assert len(written) == len(line_items_frame(generate_sample(SampleSpec(n_customers=200))))


def test_line_items_config_validates():
    config = load_config(ROOT / "config" / "sample_line_items.yaml")
    spec = config.inputs.line_items
    assert set(config.inputs.present()) == {"line_items"}
    assert config.study.name == "sample-line-items"
    assert config.study.title == "Sample Trading Co. (line items)"
    assert spec.path == ROOT / "data" / "raw" / "sample" / "line_items.csv"
    assert spec.columns == {
        "invoice": "InvoiceNo", "item": "StockCode", "description": "Description", "quantity": "Quantity",
        "unit_price": "UnitPrice", "invoice_date": "InvoiceDate", "customer_id": "CustomerID",
        "country": "Country", "currency": "Currency", "category": "Category",
    }
    assert set(spec.columns.values()) == set(LINE_ITEM_COLUMNS)
    assert config.cleaning.cancel_prefix == "C" and "POST" in config.cleaning.non_product_items
    assert config.currency.base == "CNY"
    assert config.currency.rates == {code: rate for code, rate in EXCHANGE_RATES.items() if code != "CNY"}
    assert config.output.reports == ROOT / "reports" / "line-items"
    assert {path.name for path in (config.output.interim, config.output.processed, config.output.build,
                                   config.output.exports)} == {"sample-line-items"}


def test_reference_tables_agree_with_each_other():
    """The data files in sample/tables/ name each other's rows: every such name must exist."""
    from custseg.sample import _tables

    markets = set(_tables.markets())
    countries = _tables.countries()
    assert [row[0] for row in _tables.country_names()] == [row[0] for row in countries]
    assert {row[1] for row in countries} - {""} <= markets
    assert {row[6] for row in _tables.provinces()} <= markets
    assert {row[3] for row in countries} | _tables.whole_unit_currencies() <= set(EXCHANGE_RATES)
    assert {row[5] for row in countries} <= set(_tables.names())
    assert all(given and family for given, family, _first in _tables.names().values())
    assert all(row[2] > 0 for row in countries)  # shares of the customers, normalized when drawn
    # every country has cities: by province, by state, or of its own
    subdivided = {"CHN": _tables.provinces(), "USA": _tables.subdivisions("USA"), "CAN": _tables.subdivisions("CAN")}
    for iso3, *_rest in countries:
        if iso3 in subdivided:
            assert subdivided[iso3] and all(row[-1] for row in subdivided[iso3]), iso3
        else:
            assert _tables.country_cities()[iso3], iso3
    # the line items give each category the same number of products (a stride walks them)
    assert len(_tables.products()) == len(CATEGORIES) == len(_tables.category_price())
    assert len({len(items) for items in _tables.products()}) == 1
    assert set(_tables.market_segment_tilt(SEGMENTS)) <= markets
    assert all(len(tilt) == len(SEGMENTS) for tilt in _tables.market_segment_tilt(SEGMENTS).values())
    assert _tables.spring_festival() == tuple(sorted(_tables.spring_festival()))


def test_reference_tables_are_package_data():
    import tomllib

    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["package-data"]
    tables = sorted((ROOT / "src/custseg/sample/tables").glob("*.csv"))
    assert len(tables) >= 10
    assert all(any(p.relative_to(ROOT / "src/custseg").match(pattern) for pattern in data["custseg"]) for p in tables)
