"""Preference classes (custseg.segment.preferences) and the "What they prefer" sections.

The measures are checked against figures computed here with plain pandas from the raw files (the
sample's line_items.csv, the Online Retail II export), not through the measure code: the unit-price
index per customer, the part of the day orders are placed in and the weekend share. The sample
plants a price-sensitive group (``price_sensitive`` in its ground truth: they pay
``PRICE_SENSITIVE_PAYS`` of the usual price for the same products), which the price class must
recover. On Online Retail II, wholesalers buying by the box pay below a product's median unit price
(the shop's quantity breaks): a real pattern the index must show. CDNOW has no categories, times
or interactions: its page says so in sentences.
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from conftest import CURRENCY, ONLINE_RETAIL, study_config
from custseg import i18n
from custseg.config import Preferences, load_config
from custseg.exports import crm_tags
from custseg.intake.cleaning import run_intake
from custseg.pipeline import check_observation_date, run
from custseg.sample.generator import PRICE_SENSITIVE_PAYS, SampleSpec, generate_sample, write_line_items, write_sample
from custseg.segment import preferences
from custseg.studies import GroupStudy, Overview, RegionStudy, TierStudy
from custseg.studies.base import open_study

#: The sample's line-item export, as config/sample_line_items.yaml maps it.
LINE_COLUMNS = {
    "invoice": "InvoiceNo", "item": "StockCode", "description": "Description", "quantity": "Quantity",
    "unit_price": "UnitPrice", "invoice_date": "InvoiceDate", "customer_id": "CustomerID", "country": "Country",
    "currency": "Currency", "category": "Category",
}
LINE_INPUTS = {"line_items": {"path": "raw/line_items.csv", "columns": LINE_COLUMNS, "date_format": "%Y-%m-%d %H:%M"}}
DAYPARTS = ["night", "morning", "afternoon", "evening"]


@pytest.fixture(autouse=True)
def _language_restored():
    # a page sets the report language for what follows; later tests expect the one they started with
    with i18n.language(i18n.current()):
        yield


def _text(section) -> str:
    html = "".join(item._repr_html_() for item in section) if isinstance(section, tuple) else section._repr_html_()
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# --------------------------------------------------------------------------- the measures, by hand


def _orders(rows: list[tuple[str, str, str, float, str]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["order_id", "customer_id", "order_date", "amount_base", "category"])
    return frame.assign(order_date=pd.to_datetime(frame["order_date"]), status="completed",
                        revenue=frame["amount_base"], refunded_on=pd.NaT, reverses=pd.NA)


def test_unit_price_index_is_what_was_paid_against_each_products_median_price():
    lines = pd.DataFrame({
        "order_id": ["1", "1", "2", "3", "4", "4"], "customer_id": ["A", "A", "B", "C", "C", None],
        "item": ["p1", "P2", "P1", "P1", "POST", "P2"],
        "quantity": [10.0, 1.0, 1.0, 1.0, 1.0, 1.0], "unit_price": [1.0, 4.0, 2.0, 3.0, 5.0, 4.0],
        "invoice_date": pd.to_datetime(["2026-01-05 09:00"] * 4 + ["2026-01-06 20:00"] * 2),
        "reversal": [False] * 6, "is_product": [True, True, True, True, False, True],
    })
    index = preferences.unit_price_index(lines, {}, dt.date(2026, 2, 1)).sort_index()
    # P1's median unit price is 2 (1, 2, 3; item codes in any case are one product), P2's is 4
    # (the guest's line counts for the median): A paid 10 x 1 + 4 = 14 for what costs 10 x 2 + 4 = 24
    assert index.loc["A", "unit_price_index"] == pytest.approx(100 * 14 / 24)
    assert index.loc["B", "unit_price_index"] == pytest.approx(100.0)
    assert index.loc["C", "unit_price_index"] == pytest.approx(150.0)  # the postage line is no product
    assert index["priced_lines"].to_dict() == {"A": 2, "B": 1, "C": 1}
    # a line on or after the observation date does not count
    assert "C" not in preferences.unit_price_index(lines, {}, dt.date(2026, 1, 5)).index


def test_times_weekends_and_order_values_per_customer():
    orders = _orders([
        ("1", "A", "2026-03-07", 10.0, "Tea"), ("2", "A", "2026-03-08", 10.0, "Tea"),  # Saturday, Sunday
        ("3", "A", "2026-03-09", 10.0, "Tea"), ("4", "B", "2026-03-10", 100.0, "Tea"),
        ("5", "B", "2026-03-11", 100.0, "Tea"), ("6", "C", "2026-03-12", 50.0, "Tea"),
    ])
    # dates alone say nothing about the time of day
    assert preferences.order_times(orders, None) is None
    lines = pd.DataFrame({
        "order_id": ["1", "1", "2", "3", "4", "5", "6"],
        "invoice_date": pd.to_datetime(["2026-03-07 19:10", "2026-03-07 08:00", "2026-03-08 20:00",
                                        "2026-03-09 10:00", "2026-03-10 03:00", "2026-03-11 13:00",
                                        "2026-03-12 12:00"]),
        "reversal": [False] * 7,
    })
    times = preferences.order_times(orders, lines)
    assert times.dt.hour.tolist() == [8, 20, 10, 3, 13, 12]  # an invoice's first line
    table = preferences.timing(orders, times)
    assert table.loc["A", "weekend_share"] == pytest.approx(2 / 3)
    assert table.loc["A", "daypart"] == "morning" and table.loc["A", "daypart_share"] == pytest.approx(2 / 3)
    assert table.loc["B", "daypart"] == "night"  # one night, one afternoon: the earlier part wins the tie
    levels = preferences.order_value_levels(orders)
    # Tea's quartiles over the six purchases: 10 and 87.5
    assert levels.loc["A", "low_value_share"] == 0 and levels.loc["B", "high_value_share"] == 1


def _measured(**columns) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    base = {name: [np.nan] * n for name in preferences.MEASURES}
    base.update(preferred_category=[None] * n, preferred_channel=[None] * n, daypart=[None] * n, purchases=[5] * n)
    return pd.DataFrame(base | columns)


def test_classes_follow_the_configured_thresholds():
    table = _measured(
        preferred_category=["tea", "tea", "coffee", None],
        preferred_category_share=[0.8, 0.8, 0.4, np.nan], preferred_category_affinity=[150.0, 110.0, 300.0, np.nan],
        unit_price_index=[85.0, 86.0, 115.0, np.nan], low_value_share=[0.0, 0.0, 0.0, 0.7],
        high_value_share=[0.0, 0.0, 0.0, 0.0], weekend_share=[0.5, 0.1, 0.3, 0.9],
        preferred_channel=["email", "call", None, None], preferred_channel_share=[0.5, 0.4, np.nan, np.nan],
        purchases=[5, 5, 5, 1],
    )
    classes = preferences.classify(table, Preferences())
    as_list = {c: classes[c].astype("object").where(classes[c].notna(), None).tolist() for c in preferences.CLASSES}
    assert as_list["preference_class"] == ["tea", "mixed", "mixed", None]  # affinity 110 < 120; share 0.4 < 0.5
    # one purchase tells no habit: the last customer's price and timing are not known
    assert as_list["price_class"] == ["price-sensitive", "standard", "premium", None]
    assert as_list["timing_class"] == ["weekend", "weekday", "mixed", None]
    assert as_list["channel_class"] == ["email", "mixed", None, None]
    stricter = preferences.classify(table, Preferences(sensitive_price_index=80, min_orders=1))
    assert stricter["price_class"].tolist()[:1] == ["standard"]
    assert stricter["price_class"].tolist()[3] == "price-sensitive"  # from order values: 70% below the quartile


def test_the_preferences_config_is_checked():
    with pytest.raises(ValidationError, match="weekday_max_share"):
        Preferences(weekday_max_share=0.5, weekend_min_share=0.4)
    with pytest.raises(ValidationError):
        Preferences(sensitive_price_index=120)
    with pytest.raises(ValidationError):
        Preferences(category_min_afinity=130)  # a misspelt key is an error, not a default


def test_the_export_tags_carry_the_classes_but_not_mixed():
    customers = pd.DataFrame({
        "tier": ["high", "low"], "preference_class": ["home & kitchen", "mixed"],
        "price_class": ["price-sensitive", None], "channel_class": ["email", "mixed"],
        "timing_class": ["weekend", "mixed"], "groups": ["", "vip"],
    })
    tags = crm_tags(customers).tolist()
    assert tags[0] == "tier:high;prefers:home & kitchen;price:price-sensitive;channel:email;timing:weekend"
    assert tags[1] == "tier:low;group:vip"


# --------------------------------------------------------------------------- the sample, line items


@pytest.fixture(scope="module")
def sample_lines(tmp_path_factory):
    """A 1,500-customer sample as a line-item export with a named group, through the pipeline:
    (config, customers, raw lines, ground truth)."""
    root = tmp_path_factory.mktemp("preferences")
    data = generate_sample(SampleSpec(n_customers=1500, seed=11))
    write_sample(data, root / "raw")
    write_line_items(data, root / "raw")
    config = load_config(study_config(
        root, LINE_INPUTS, cleaning={"non_product_items": ["POST"]}, studies={"min_customers": 20},
        groups={"sensitive": "price_class == 'price-sensitive'"},
    ))
    run(config, echo=lambda *_: None)
    customers = pd.read_parquet(config.output.processed / "customers.parquet").set_index("customer_id")
    raw = pd.read_csv(root / "raw" / "line_items.csv", dtype={"CustomerID": str, "InvoiceNo": str, "StockCode": str},
                      keep_default_na=False, na_values=[""])
    return config, customers, raw, data.ground_truth.set_index("customer_id")


def _raw_index(lines: pd.DataFrame, price: pd.Series, product: pd.Series, customer: pd.Series) -> pd.Series:
    """100 x what each customer paid / the same lines at each product's median unit price."""
    median = price.groupby(product).transform("median")
    quantity = lines["Quantity"].astype("float64")
    return 100 * (quantity * price).groupby(customer).sum() / (quantity * median).groupby(customer).sum()


def _agree(found: pd.Series, expected: pd.Series, tolerance: float) -> float:
    """The share of `expected`'s customers whose `found` figure is within `tolerance` of it."""
    joined = pd.concat([found.rename("found"), expected.rename("expected")], axis=1).dropna(subset=["expected"])
    return float((joined["found"] - joined["expected"]).abs().le(tolerance).mean())


def test_the_sample_unit_price_index_and_times_match_the_raw_lines(sample_lines):
    config, customers, raw, _ = sample_lines
    observation = pd.Timestamp(open_study(config).meta.observation_date)
    when = pd.to_datetime(raw["InvoiceDate"], format="%Y-%m-%d %H:%M", errors="coerce")
    # independently: purchase lines of a customer (no "C" invoice, no postage), positive quantity and price
    rates = {**CURRENCY["rates"], CURRENCY["base"]: 1.0}
    bought = (raw["CustomerID"].notna() & ~raw["InvoiceNo"].str.startswith("C") & raw["Quantity"].gt(0)
              & when.lt(observation))
    lines = raw.loc[bought & raw["StockCode"].ne("POST") & raw["UnitPrice"].gt(0)].drop_duplicates()
    price = lines["UnitPrice"] * lines["Currency"].map(rates)
    expected = _raw_index(lines, price, lines["StockCode"], lines["CustomerID"])
    # intake quarantines the export's planted mistakes, which shifts a product's median a little
    assert _agree(customers["unit_price_index"], expected, 0.5) > 0.97
    # the part of the day: each kept purchase's first line (the sample reverses a cancelled or
    # refunded invoice whole, as "C" + its number), the commonest part per customer (ties: earlier)
    undone = raw["InvoiceNo"].str.removeprefix("C").where(raw["InvoiceNo"].str.startswith("C"))
    kept = bought & ~raw["InvoiceNo"].isin(set(undone.dropna()))
    first = pd.DataFrame({"invoice": raw["InvoiceNo"], "customer": raw["CustomerID"], "when": when}).loc[
        kept].groupby("invoice").agg(customer=("customer", "first"), when=("when", "min"))
    part = pd.cut(first["when"].dt.hour, [0, 6, 12, 18, 24], right=False, labels=DAYPARTS)
    counts = pd.crosstab(first["customer"], part).reindex(columns=DAYPARTS, fill_value=0)
    leading = counts.idxmax(axis=1)  # the first of equal counts
    both = customers["daypart"].reindex(leading.index)
    assert (both == leading).mean() > 0.97
    weekend = first["when"].dt.day_of_week.ge(5).groupby(first["customer"]).mean()
    assert _agree(customers["weekend_share"], weekend, 0.02) > 0.97


def test_the_planted_price_sensitive_group_is_recovered(sample_lines):
    config, customers, _, truth = sample_lines
    planted = truth["price_sensitive"].reindex(customers.index).fillna(False).astype(bool)
    assert 0.08 < planted.mean() < 0.16  # PRICE_SENSITIVE_SHARE is 12%
    index = customers["unit_price_index"]
    # they paid about PRICE_SENSITIVE_PAYS of the usual price; the others the usual price
    assert index[planted].median() == pytest.approx(100 * PRICE_SENSITIVE_PAYS, abs=4)
    assert index[~planted].median() == pytest.approx(100, abs=3)
    known = customers["price_class"].notna()
    found = customers["price_class"].eq("price-sensitive")
    precision = (found & planted).sum() / found.sum()
    recall = (found & planted).sum() / (planted & known).sum()
    print(f"\nprice-sensitive: planted {int(planted.sum())} ({int((planted & known).sum())} with a class), "
          f"found {int(found.sum())}, precision {precision:.3f}, recall {recall:.3f}")
    # the planted discount (index 80) sits 5 points under the class's limit (85) and a basket's mix
    # of products moves a customer's index by several points either way, so some planted customers
    # land just above the limit and some full-price ones just below it: three in four is the bar
    # (12% would be chance)
    assert precision > 0.7 and recall > 0.75
    # the group filter reads the class, and the export tags carry it
    assert customers.loc[found, "groups"].eq("sensitive").all()
    exported = pd.read_csv(config.output.exports / "customer_segments.csv", dtype=str).set_index("customer_id")
    tagged = exported["tags"].str.contains("price:price-sensitive", regex=False)
    assert tagged.reindex(customers.index).fillna(False).eq(found).all()


def test_the_pages_show_what_they_prefer_in_both_languages(sample_lines):
    config, customers, _, _ = sample_lines
    text = _text(Overview.from_config(config, "en").what_they_prefer())
    assert "Price level, the whole base" in text and "price-sensitive" in text and "unit-price index" in text
    sensitive = int(customers["price_class"].eq("price-sensitive").sum())
    assert re.search(rf"price-sensitive {sensitive:,} ", text)
    # no interactions in a line-item study: a sentence, not an empty table
    assert "no interactions with a channel" in text and "Preferred contact channel" not in text
    with i18n.language("zh"):
        chinese = _text(Overview.from_config(config, "zh").what_they_prefer())
    assert "价格敏感" in chinese and "价格水平" in chinese
    group = _text(GroupStudy.from_config(config, "en", group="sensitive").what_they_prefer())
    # every customer of the group is price-sensitive: the share in the group against the base's
    share = sensitive / len(customers)
    assert re.search(rf"price-sensitive {sensitive:,} 100.0% {100 * share:.1f}% {100 / share:,.0f}", group)
    assert "Leading category" in _text(TierStudy.from_config(config, "en", "high").what_they_prefer())
    region = customers["region"].value_counts().index[0]
    assert "Part of the day" in _text(RegionStudy.from_config(config, "en", region).what_they_prefer())


# --------------------------------------------------------------------------- real data


@pytest.fixture(scope="module")
def online_retail(online_retail_config, real_data, tmp_path_factory):
    """Online Retail II through intake, its preference measures, and the raw export."""
    config = load_config(online_retail_config(tmp_path_factory.mktemp("ori_preferences")))
    tables = run_intake(config).tables
    observation = check_observation_date(config, tables["orders"])
    shares = pd.DataFrame({"customer_id": pd.Series(dtype="str"), "category": pd.Series(dtype="str"),
                           "revenue": pd.Series(dtype="float64"), "share": pd.Series(dtype="float64")})
    found = preferences.measures(tables["orders"], shares, observation, lines=tables["line_items"],
                                 rates=config.currency.rate_table()).set_index("customer_id")
    raw = pd.read_csv(real_data / ONLINE_RETAIL, dtype={"Invoice": str, "StockCode": str, "Customer ID": str},
                      keep_default_na=False, na_values=[""])
    return config, found, raw


def test_online_retail_unit_prices_times_and_the_wholesalers_discount(online_retail):
    config, found, raw = online_retail
    item = raw["StockCode"].str.upper()
    customer = raw["Customer ID"].str.replace(r"\.0$", "", regex=True)
    when = pd.to_datetime(raw["InvoiceDate"], format="%Y-%m-%d %H:%M:%S")
    purchase = customer.notna() & ~raw["Invoice"].str.startswith("C") & raw["Quantity"].gt(0)
    products = ~item.isin([code.upper() for code in config.cleaning.non_product_items])
    lines = raw.loc[purchase & products & raw["Price"].gt(0)].drop_duplicates()
    expected = _raw_index(lines, lines["Price"], item[lines.index], customer[lines.index])
    assert len(expected) > 4000
    assert _agree(found["unit_price_index"], expected, 0.5) > 0.97

    # wholesalers buy by the box and pay the quantity-break price: customers in the top quarter of
    # units per line paid below the products' median unit price, the smallest buyers paid it
    units = lines["Quantity"].groupby(customer[lines.index]).mean()
    big, small = units.ge(units.quantile(0.75)), units.le(units.quantile(0.25))
    index = found["unit_price_index"].reindex(units.index)
    print(f"\nOnline Retail II unit-price index: top quarter by units per line {index[big].median():.1f}, "
          f"bottom quarter {index[small].median():.1f}")
    # (measured: medians 92.9 and 100.0; 77% and 25% of them below 100; Spearman -0.51)
    assert index[big].median() < 95 and index[small].median() >= 99.5
    assert index[big].lt(100).mean() > 0.6 and index[small].lt(100).mean() < 0.35
    assert index.corr(units, method="spearman") < -0.4

    # time of day: each invoice's first line, the commonest part of the day per customer
    first = pd.DataFrame({"invoice": raw["Invoice"], "customer": customer, "when": when}).loc[purchase].groupby(
        "invoice").agg(customer=("customer", "first"), when=("when", "min"))
    part = pd.cut(first["when"].dt.hour, [0, 6, 12, 18, 24], right=False, labels=DAYPARTS)
    counts = pd.crosstab(first["customer"], part).reindex(columns=DAYPARTS, fill_value=0)
    leading = counts.idxmax(axis=1)
    assert (found["daypart"].reindex(leading.index) == leading).mean() > 0.97
    # a shop open in office hours: afternoon and morning, hardly any evening or night
    assert leading.isin(["morning", "afternoon"]).mean() > 0.9
    # no categories and no interactions: nobody has a leading category or a channel
    assert found["preferred_category"].isna().all() and found["preferred_channel"].isna().all()


def test_cdnow_pages_say_what_the_data_cannot_tell(real_data, tmp_path_factory):
    root = tmp_path_factory.mktemp("cdnow_preferences")
    # the paper's 1/10th sample: id, sample id, day, CDs, dollars; one purchase row per order
    cdnow = pd.read_csv(real_data / "cdnow" / "CDNOW_sample.txt", sep=r"\s+", header=None,
                        names=["id", "sample_id", "date", "cds", "dollars"], dtype={"date": str})
    cdnow = cdnow.loc[cdnow["dollars"].gt(0)]
    orders = pd.DataFrame({
        "order_id": [f"O{i}" for i in range(len(cdnow))], "customer_id": cdnow["id"].astype(str).to_numpy(),
        "order_date": pd.to_datetime(cdnow["date"], format="%Y%m%d").dt.strftime("%Y-%m-%d").to_numpy(),
        "amount": cdnow["dollars"].to_numpy(), "currency": "USD", "status": "completed",
    })
    (root / "raw").mkdir()
    orders.to_csv(root / "raw" / "orders.csv", index=False)
    config = load_config(study_config(root, {"orders": "raw/orders.csv"}, currency={"base": "USD"}))
    run(config, echo=lambda *_: None)
    customers = pd.read_parquet(config.output.processed / "customers.parquet")
    assert customers["preference_class"].isna().all() and customers["daypart"].isna().all()
    assert customers["price_class"].notna().any()  # from order values: basket size, not discounts
    section = Overview.from_config(config, "en").what_they_prefer()
    text = _text(section)
    for said in ("carry no product categories", "no interactions with a channel", "dates without times",
                 "not discounts"):
        assert said in text
    assert "Leading category" not in text and "Price level" in text
    with i18n.language("zh"):
        chinese = _text(Overview.from_config(config, "zh").what_they_prefer())
    assert "品类" in chinese
