"""The analyst API (custseg.open): tables as the pipeline wrote them, tags and filters, subset pages."""

from __future__ import annotations

import re

import pandas as pd
import pytest

import custseg
from conftest import SAMPLE_INPUTS, study_config
from custseg.config.filters import FilterError
from custseg.explore import ExploreError, Study
from custseg.sample.generator import SampleSpec, generate_sample, write_sample


@pytest.fixture(scope="module")
def study(processed_sample) -> Study:
    config, _ = processed_sample
    return custseg.open(config.source, process=False)


def test_open_gives_the_processed_tables_and_the_exports_tags(study, processed_sample):
    config, data = processed_sample
    assert len(study.customers) == study.meta.customers == len(data.customers)
    assert study.orders.equals(data.orders)
    assert study.snapshots.equals(data.tables["snapshots"])
    # the tags are the CRM export's, read back from the file the pipeline wrote
    export = pd.read_csv(config.output.exports / "customer_segments.csv", dtype=str, keep_default_na=False)
    tags = study.customers.set_index("customer_id")["tags"]
    assert (tags.loc[export["customer_id"]].to_numpy() == export["tags"].to_numpy()).all()
    assert set(study.models) == {"clusters", "churn", "value"}


def test_a_table_is_a_copy_and_an_unknown_one_is_named(study):
    watch = study.table("watch_list")
    watch["customer_id"] = "changed"
    assert not study.watch_list["customer_id"].eq("changed").any()
    with pytest.raises(ExploreError, match=r"no table 'watchlist'; it has: customers, orders, .*watch_list"):
        study.table("watchlist")


def test_tagged_keeps_the_customers_with_every_tag(study):
    customers = study.customers
    high = customers["tier"].astype("str").eq("high")
    assert set(study.tagged("tier:high")["customer_id"]) == set(customers.loc[high, "customer_id"])
    region = customers.loc[high, "market"].astype("str").mode()[0]
    both = high & customers["market"].astype("str").eq(region)
    found = study.tagged("tier:high", f"market:{region}")
    assert 0 < len(found) < high.sum()
    assert set(found["customer_id"]) == set(customers.loc[both, "customer_id"])
    with pytest.raises(ExploreError, match=r"no customer carries the tag 'tier:gold'.*tier"):
        study.tagged("tier:gold")


def test_select_and_subset_follow_the_filter(study):
    customers = study.customers
    expected = customers["customer_type"].eq("B2B") & customers["tier"].astype("str").isin(["high", "mid"])
    text = "customer_type == 'B2B' and tier in ['high', 'mid']"
    assert set(study.select(text)["customer_id"]) == set(customers.loc[expected, "customer_id"])
    subset = study.subset(text, title="B2B, high and mid")
    assert set(subset.customers["customer_id"]) == set(customers.loc[expected, "customer_id"])
    assert set(subset.orders["customer_id"]) <= set(subset.customers["customer_id"])
    assert len(subset.orders) == study.orders["customer_id"].isin(subset.customers["customer_id"]).sum()


@pytest.mark.parametrize("text, message", [
    ("segment_of_life == 'x'", r"reads the column 'segment_of_life', which the customer table does not have"),
    ("__import__('os').system('true')", r"a function call is not allowed in a filter"),
    ("tier == ", r"is not a valid filter"),
])
def test_a_bad_filter_is_refused_before_anything_runs(study, text, message):
    with pytest.raises(FilterError, match=message):
        study.select(text)


def test_a_subset_page_is_a_group_study_of_the_filter(study, tmp_path):
    text = "customer_type == 'B2B'"
    page = study.subset(text, title="Businesses").page(tmp_path / "explore" / "b2b.html")
    html = page.read_text(encoding="utf-8")
    visible = re.sub(r"<[^>]+>", " ", html)
    assert "Group study: Businesses" in visible
    assert "The customers this filter over the customer table keeps: customer_type == &#x27;B2B&#x27;" in visible \
        or "The customers this filter over the customer table keeps: customer_type == 'B2B'" in visible
    count = int(study.customers["customer_type"].eq("B2B").sum())
    assert f"{count} customers" in visible or f"{count:,} customers" in visible
    # nothing was written into the study's own reports
    assert not (study.config.output.reports / "explore").exists()
    with pytest.raises(ExploreError, match="an .html file"):
        study.subset(text).page(tmp_path / "b2b.pdf")


def test_open_processes_stale_data_or_says_how(tmp_path):
    write_sample(generate_sample(SampleSpec(n_customers=150, seed=5)), tmp_path / "raw")
    path = study_config(tmp_path, SAMPLE_INPUTS, studies={"min_customers": 5})
    with pytest.raises(ExploreError, match=r"not current .*run `custseg process --config"):
        custseg.open(path, process=False)
    opened = custseg.open(path)
    raw = pd.read_csv(tmp_path / "raw" / "customers.csv", dtype=str)
    assert set(opened.customers["customer_id"]) <= set(raw["customer_id"])
    assert len(opened.customers) == opened.meta.customers > 100
