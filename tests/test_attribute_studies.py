"""Issue 16, what items 1 and 3 left: groups' display names, numeric studies.by attributes banded
by demographics.bands, the page comparing an attribute's values side by side, and the chart of the
"Who they are" sections, on a processed sample whose customer file carries a numeric age.

Figures are recomputed here from the raw customer file and the processed tables, not read from
the profile the pages show."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from conftest import SAMPLE_INPUTS, study_config
from custseg import i18n
from custseg.config import ConfigError, load_config
from custseg.config.filters import FilterError
from custseg.pipeline import run
from custseg.sample.generator import SampleSpec, generate_sample, write_sample
from custseg.studies import AttributeStudy, GroupStudy, Overview, render
from custseg.studies.base import open_study
from custseg.studies.demographics import attribute_name, value_name
from custseg.studies.plan import plan_studies

GROUPS = {
    "b2b_high": {"filter": "customer_type == 'B2B' and tier == 'high'", "title": "High-value B2B",
                 "title_zh": "高价值企业客户"},
    "social": {"filter": "acquisition_channel == 'social media'", "title": "Won through social media"},
    "plain": "tier == 'low'",
}
EDGES = [25, 35, 45, 55]
LABELS = ["<25", "25-34", "35-44", "45-54", "55+"]
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(autouse=True)
def _language_restored():
    # a page sets the report language for what follows (a notebook runs one page)
    with i18n.language(i18n.current()):
        yield


def _with_age(root) -> pd.DataFrame:
    """The generated customer file with an `age` column, written as text as exports do: a number
    inside each customer's age band (from the id's last digit, so that a duplicated row stays an
    exact duplicate), blank for the customers without a band (the businesses)."""
    path = root / "raw" / "customers.csv"
    customers = pd.read_csv(path, dtype="str", keep_default_na=False)
    low = pd.to_numeric(customers["age_band"].str.extract(r"^(\d+)")[0], errors="coerce").fillna(18)
    digit = pd.to_numeric(customers["customer_id"].str[-1], errors="coerce").fillna(0)
    age = (low + digit).astype(int).astype(str)
    customers["age"] = age.where(customers["age_band"].ne(""), "")
    customers.to_csv(path, index=False)
    return customers


@pytest.fixture(scope="module")
def aged(tmp_path_factory):
    root = tmp_path_factory.mktemp("aged1500")
    write_sample(generate_sample(SampleSpec(n_customers=1500, seed=11)), root / "raw")
    raw = _with_age(root)
    config = load_config(study_config(
        root, SAMPLE_INPUTS, groups=GROUPS,
        studies={"min_customers": 12, "by": ["age", "customer_type", "acquisition_channel"]},
        demographics={"attributes": ["age"], "bands": {"age": EDGES}},
    ))
    run(config, echo=lambda *_: None)
    return config, raw


def _customers(config) -> pd.DataFrame:
    return pd.read_parquet(config.output.processed / "customers.parquet")


def _age_bands(config, raw: pd.DataFrame) -> pd.Series:
    """Each processed customer's age band, from the raw file's age (pd.cut, not custseg's banding)."""
    ages = pd.to_numeric(raw.drop_duplicates("customer_id").set_index("customer_id")["age"].replace("", np.nan))
    ids = _customers(config)["customer_id"]
    bands = pd.cut(ids.map(ages), [-np.inf, *EDGES, np.inf], right=False, labels=LABELS)
    return pd.Series(bands.astype("object").to_numpy(), index=ids.to_numpy())


# -- display names --------------------------------------------------------------------------------


def test_a_group_is_a_filter_or_a_mapping_with_titles(aged):
    config, _ = aged
    assert config.groups["plain"].filter == "tier == 'low'" and config.groups["plain"].title is None
    group = config.groups["b2b_high"]
    assert (group.display("b2b_high", "en"), group.display("b2b_high", "zh")) == ("High-value B2B", "高价值企业客户")
    # no Chinese title: the title; no title at all: the name
    assert config.groups["social"].display("social", "zh") == "Won through social media"
    assert config.groups["plain"].display("plain", "zh") == "plain"


@pytest.mark.parametrize(("group", "message"), [
    ({"filter": "tier == 'high'", "titel": "VIP"}, r"groups\.vip\.titel: unknown key"),
    ({"title": "VIP"}, r"groups\.vip\.filter: required key is missing"),
    ({"filter": "tier == 'high'", "title": ""}, r"groups\.vip\.title: "),
    ({"filter": "open('x') == 1", "title": "VIP"}, r"groups\.vip\.filter: .*function call is not allowed"),
    ({"filter": "tier = 'high'"}, r"groups\.vip\.filter: "),
])
def test_a_bad_group_definition_is_refused_at_load(write_config, group, message):
    with pytest.raises(ConfigError, match=message):
        load_config(write_config({"orders": "o.csv"}, groups={"vip": group}))


@pytest.mark.parametrize("language", ["en", "zh"])
def test_pages_links_and_headings_use_the_title_the_export_the_name(aged, language):
    config, _ = aged
    title = "High-value B2B" if language == "en" else "高价值企业客户"
    study = GroupStudy.from_config(config, language, "b2b_high")
    assert study.label == title and title in study.heading().title
    assert title in study.headline()._repr_html_()  # the key figures' column is the group's title
    job = next(j for j in plan_studies(open_study(config, language), config, language) if j.key == "b2b_high")
    assert title in job.title and job.href == "groups/b2b-high.html"
    links = Overview.from_config(config, language).links()._repr_html_()
    assert f'href="groups/b2b-high.html">{title}<' in links
    assert 'href="groups/plain.html">plain<' in links  # no title: the name
    export = pd.read_parquet(config.output.exports / "customer_segments.parquet")
    assert export["tags"].str.contains("group:b2b_high", regex=False).any()
    assert not export["tags"].str.contains("High-value", regex=False).any()


# -- numeric attributes banded --------------------------------------------------------------------


def test_a_numeric_attribute_has_a_study_per_band_in_order_and_one_for_no_number(aged):
    config, raw = aged
    bands = _age_bands(config, raw)
    held = [label for label in LABELS if (bands == label).any()]
    assert len(held) >= 4 and bands.isna().any()
    jobs = [j for j in plan_studies(open_study(config, "en"), config, "en") if j.href.startswith("by/age/")]
    assert jobs[0].kind == "attribute" and jobs[0].href == "by/age/index.html"
    values = [j.parameters["value"] for j in jobs[1:]]
    assert values == [*held, ""]  # band order, then the customers without a number
    assert jobs[-1].href == "by/age/not-given.html"
    # a band's sign is spelt out in its file's name ("<25" is not "25")
    files = {"<25": "under-25", "25-34": "25-34", "55+": "55-plus"}
    assert {j.href for j in jobs[1:] if j.parameters["value"] in files} == {
        f"by/age/{files[v]}.html" for v in held if v in files}
    expected = [*(int((bands == label).sum()) for label in held), int(bands.isna().sum())]
    assert [j.note for j in jobs[1:]] == [f"{n:,} customers" for n in expected]
    for value, count in zip(values, expected):
        study = GroupStudy.from_config(config, "en", "", "age", value)
        assert len(study.customers) == count
        wanted = bands.index[bands.isna()] if value == "" else bands.index[bands.eq(value)]
        assert sorted(study.customers["customer_id"]) == sorted(wanted)
    assert GroupStudy.from_config(config, "en", "", "age", "").label == "Age: not given"
    assert GroupStudy.from_config(config, "zh", "", "age", "").label == "Age：未填写"
    band = GroupStudy.from_config(config, "en", "", "age", held[1])
    assert f"falls in the band {held[1]}" in band.definition()._repr_html_()


def test_a_numeric_attribute_without_bands_is_refused_with_a_clear_message(aged, tmp_path):
    config, _ = aged
    raw = config.source.parent / "raw"
    inputs = {name: str(raw / f"{name}.csv") for name in ("orders", "customers")}
    unbanded = load_config(study_config(tmp_path, inputs, studies={"by": ["age"]},
                                        demographics={"attributes": ["age"]}))
    with pytest.raises(FilterError, match=r"studies\.by names 'age', which holds numbers.*demographics\.bands"):
        run(unbanded, echo=lambda *_: None)
    computed = load_config(study_config(tmp_path, inputs, studies={"by": ["frequency"]}))
    with pytest.raises(FilterError, match=r"'frequency', which holds numbers"):
        run(computed, echo=lambda *_: None)


# -- the comparison page --------------------------------------------------------------------------


def _recomputed(config, keys: pd.Series) -> pd.DataFrame:
    """Per value (keys aligned to the processed customers; NaN: not given), from the processed
    customer and order tables: what the comparison page must show."""
    customers = _customers(config)
    orders = pd.read_parquet(config.output.processed / "orders.parquet")
    keys = pd.Series(keys.to_numpy(), index=customers.index).fillna("")
    buyers = customers["frequency"].gt(0)
    completed = orders.loc[orders["revenue"].ne(0) | orders["status"].eq("completed")]
    per_customer = completed.groupby("customer_id")["revenue"].sum()
    revenue = customers["customer_id"].map(per_customer).fillna(0.0).where(buyers, 0.0)
    frame = pd.DataFrame({
        "customers": keys.value_counts(),
        "buyers": keys[buyers].value_counts(),
        "revenue": revenue.groupby(keys).sum(),
        "orders": customers["frequency"].where(buyers, 0).groupby(keys).sum(),
        "churn": customers["churn_probability"].groupby(keys).mean(),
        "at_risk": customers["value_at_risk"].where(buyers).groupby(keys).sum(),
        "high": (buyers & customers["tier"].eq("high")).groupby(keys).sum(),
    }).fillna({"buyers": 0})
    base_high = (buyers & customers["tier"].eq("high")).sum() / buyers.sum()
    return frame.assign(
        share=frame["customers"] / len(customers),
        revenue_share=frame["revenue"] / revenue.sum(),
        orders_per_buyer=frame["orders"] / frame["buyers"],
        average_order_value=frame["revenue"] / frame["orders"],
        at_risk_share=frame["at_risk"] / customers["value_at_risk"].where(buyers).sum(),
        tier_high=frame["high"] / frame["buyers"],
        tier_high_index=100 * frame["high"] / frame["buyers"] / base_high,
        revenue_share_index=100 * (frame["revenue"] / revenue.sum()) / (frame["customers"] / len(customers)),
    )


@pytest.mark.parametrize("attribute", ["age", "customer_type", "acquisition_channel"])
def test_the_comparison_page_figures_are_recomputed(aged, attribute):
    config, raw = aged
    customers = _customers(config)
    keys = _age_bands(config, raw) if attribute == "age" else customers[attribute].replace("", np.nan)
    expected = _recomputed(config, pd.Series(keys.to_numpy()))
    rows = AttributeStudy.from_config(config, "en", attribute).rows.set_index("level")
    assert sorted(rows.index) == sorted(expected.index)
    expected = expected.loc[rows.index]
    for column in ("customers", "buyers"):
        assert rows[column].tolist() == expected[column].astype(int).tolist(), column
    for column in ("revenue", "share", "revenue_share", "orders_per_buyer", "average_order_value", "tier_high",
                   "tier_high_index", "revenue_share_index"):
        np.testing.assert_allclose(rows[column], expected[column], rtol=1e-9, err_msg=column)
    np.testing.assert_allclose(rows["churn_probability"], expected["churn"], rtol=1e-9)
    np.testing.assert_allclose(rows["value_at_risk"], expected["at_risk"], rtol=1e-9)
    np.testing.assert_allclose(rows["value_at_risk_share"], expected["at_risk_share"], rtol=1e-9)
    if attribute == "age":  # band order, "not given" last
        assert rows.index.tolist() == [*(b for b in LABELS if b in rows.index), ""]


def test_the_comparison_equals_the_value_pages_and_the_demographics_table(aged):
    config, _ = aged
    rows = AttributeStudy.from_config(config, "en", "acquisition_channel").rows
    table = pd.read_parquet(config.output.processed / "demographics.parquet")
    table = table.loc[table["attribute"].eq("acquisition_channel")].sort_values("order").reset_index(drop=True)
    shared = [c for c in table.columns if c not in ("attribute",)]
    pd.testing.assert_frame_equal(rows[shared].reset_index(drop=True), table[shared], check_dtype=False)
    for row in rows.itertuples():
        page = GroupStudy.from_config(config, "en", "", "acquisition_channel", row.level)
        buyers = page.buyers
        assert (len(page.customers), len(buyers)) == (row.customers, row.buyers)
        assert buyers["monetary"].sum() == pytest.approx(row.revenue)
        assert buyers["frequency"].mean() == pytest.approx(row.orders_per_buyer)
        assert buyers["churn_probability"].mean() == pytest.approx(row.churn_probability)
        assert buyers["value_at_risk"].sum() == pytest.approx(row.value_at_risk)
        headline = page.headline().items[0].frame.set_index(page.headline().items[0].frame.columns[0])
        assert headline.loc["Customers", page.label] == render.integer(row.customers)
        assert headline.loc["Average order value", page.label] == render.money("CNY")(row.average_order_value)


def test_the_comparison_finds_the_planted_social_media_churn(aged):
    # the sample plants churners who came through social media (sample/_behaviour): on the
    # comparison page that channel has the highest churn probability index, above 100
    config, _ = aged
    customers = _customers(config)
    means = customers.groupby("acquisition_channel")["churn_probability"].mean()
    rows = AttributeStudy.from_config(config, "en", "acquisition_channel").rows.set_index("level")
    assert means.idxmax() == "social media" == rows["churn_probability_index"].idxmax()
    assert rows.loc["social media", "churn_probability_index"] > 110


@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_comparison_page_renders_in_both_languages(aged, language):
    config, _ = aged
    study = AttributeStudy.from_config(config, language, "age")
    parts = [study.heading(), study.notice(), study.sizes(), study.chart(), study.tiers_and_lifecycle(),
             study.churn_risk(), study.value_pages()]
    assert parts[1] is None and all(isinstance(p, render.Section) for p in parts[2:])
    html = "".join(p._repr_html_() for p in parts if p is not None)
    assert 'href="not-given.html"' in html and 'href="25-34.html"' in html
    assert "<img" in html  # the chart
    assert ("‡" in html) == bool(study.rows["customers"].lt(12).any())  # a value under min_customers is marked
    not_given = "not given" if language == "en" else "未填写"
    assert f"<td>{not_given}</td>" in html
    if language == "zh":
        assert len(CJK.findall(html)) > 100 and "Size and buying" not in html and "side by side" not in html
    # a text attribute with every value given
    kinds = AttributeStudy.from_config(config, language, "customer_type")
    assert kinds.rows["given"].all()
    pages = kinds.value_pages()._repr_html_()
    assert 'href="b2b.html"' in pages and 'href="b2c.html"' in pages
    # "not given" is explained only where a row is not given
    explained = "counts the customers the customer table gives no value for" if language == "en" else "该项无值的客户"
    assert explained in study.sizes()._repr_html_() and explained not in kinds.sizes()._repr_html_()


def test_the_overview_links_each_comparison_page_first(aged):
    config, _ = aged
    for language, text in (("en", "All values side by side"), ("zh", "各取值对比")):
        html = Overview.from_config(config, language).links()._repr_html_()
        for folder in ("age", "customer-type", "acquisition-channel"):
            first = html.index(f'href="by/{folder}/')
            assert html[first:].startswith(f'href="by/{folder}/index.html">{text}<')


# -- the chart of the "Who they are" sections -------------------------------------------------------


def _highest_churn_index(config, raw) -> tuple[str, object, float]:
    """(attribute, value, index) of the attribute value whose customers' mean churn probability is
    highest against the whole base's, over every profiled attribute (age by the test's own bands;
    None: not given), from the processed customer table."""
    customers = _customers(config)
    base = customers["churn_probability"].mean()
    best = ("", None, -np.inf)
    for attribute in ("customer_type", "industry", "company_size", "age_band", "acquisition_channel", "age"):
        keys = (_age_bands(config, raw).to_numpy() if attribute == "age"
                else customers[attribute].str.strip().replace("", np.nan).to_numpy())
        means = customers["churn_probability"].groupby(pd.Series(keys).fillna("\0").to_numpy()).mean()
        value = means.idxmax()
        if 100 * means[value] / base > best[2]:
            best = (attribute, None if value == "\0" else value, 100 * means[value] / base)
    return best


@pytest.mark.parametrize("language", ["en", "zh"])
def test_who_they_are_draws_value_and_churn_indexes(aged, language):
    config, raw = aged
    section = Overview.from_config(config, language).who_they_are()
    chart = section.items[0]
    assert isinstance(chart, render.Chart) and chart.png()[:8] == b"\x89PNG\r\n\x1a\n"
    # the alt text names the value with the highest churn probability index: recomputed here
    attribute, value, index = _highest_churn_index(config, raw)
    with i18n.language(language):
        shown = (attribute_name(attribute).lower(), value_name(value))
    if language == "en":
        assert f"Churn probability: highest for {shown[0]} {shown[1]} (index {index:.0f})" in chart.alt
    else:
        assert f"流失概率最高的是{shown[0]}“{shown[1]}”（指数 {index:.0f}）" in chart.alt
        assert CJK.search(chart.title) and "Bar chart" not in chart.alt
    # every value of every attribute is a bar label of the chart
    labels = [t.get_text() for ax in chart.figure.axes for t in ax.get_yticklabels()]
    profile = pd.read_parquet(config.output.processed / "demographics.parquet")
    assert len(labels) == len(profile)
    group = GroupStudy.from_config(config, language, "b2b_high").who_they_are()
    assert isinstance(group.items[0], render.Chart)
