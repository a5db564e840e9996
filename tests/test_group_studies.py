"""Group studies on a processed sample: the plan (a page per named group and per studies.by value,
in their folders), the pages (the right customers, the sections, both languages), the overview's
links, and the segmentation's refusal of an unknown column."""

import pandas as pd
import pytest

from conftest import SAMPLE_INPUTS, study_config
from custseg import i18n
from custseg.config import load_config
from custseg.config.filters import FilterError
from custseg.pipeline import run
from custseg.sample.generator import SampleSpec, generate_sample, write_sample
from custseg.studies import GroupStudy, Overview, render
from custseg.studies.base import open_study
from custseg.studies.plan import plan_studies

GROUPS = {
    "b2b_high": "customer_type == 'B2B' and tier == 'high'",
    "not_b2b": "customer_type not in ['B2B']",
    "nobody": "monetary < -1",
}


@pytest.fixture(autouse=True)
def _language_restored():
    # a page sets the report language for what follows (a notebook runs one page); tests after
    # these expect the language they started with
    with i18n.language(i18n.current()):
        yield


@pytest.fixture(scope="module")
def grouped(tmp_path_factory):
    root = tmp_path_factory.mktemp("groups400")
    write_sample(generate_sample(SampleSpec(n_customers=400, seed=7)), root / "raw")
    config = load_config(study_config(root, SAMPLE_INPUTS, groups=GROUPS,
                                      studies={"min_customers": 12, "by": ["customer_type", "industry"]}))
    run(config, echo=lambda *_: None)
    return config


def _customers(config) -> pd.DataFrame:
    return pd.read_parquet(config.output.processed / "customers.parquet")


def test_membership_is_in_the_table_and_the_export(grouped):
    customers = _customers(grouped)
    b2b_high = customers["customer_type"].eq("B2B") & customers["tier"].eq("high")
    assert b2b_high.any()
    names = customers["groups"].str.split(";")
    assert names.map(lambda n: "b2b_high" in n).tolist() == b2b_high.tolist()
    assert names.map(lambda n: "not_b2b" in n).tolist() == customers["customer_type"].ne("B2B").tolist()
    assert not customers["groups"].str.contains("nobody").any()
    export = pd.read_parquet(grouped.output.exports / "customer_segments.parquet").set_index("customer_id")
    tagged = export["tags"].str.contains("group:b2b_high", regex=False)
    assert sorted(tagged[tagged].index) == sorted(customers.loc[b2b_high, "customer_id"])


def test_the_plan_has_a_page_per_group_and_value(grouped):
    customers = _customers(grouped)
    jobs = [job for job in plan_studies(open_study(grouped, "en"), grouped, "en") if job.kind == "group"]
    hrefs = [job.href for job in jobs]
    # in the config's order (the test's YAML writer sorts the keys)
    assert hrefs[:3] == [f"groups/{name.replace('_', '-')}.html" for name in grouped.groups]
    assert set(hrefs[:3]) == {"groups/b2b-high.html", "groups/not-b2b.html", "groups/nobody.html"}
    types = customers["customer_type"].value_counts()
    assert {f"by/customer-type/{v.lower()}.html" for v in types.index} <= set(hrefs)
    industries = customers["industry"][customers["industry"].str.strip().ne("")].unique()
    assert sum(h.startswith("by/industry/") for h in hrefs) == len(industries)  # no page for a blank
    assert jobs[0].parameters["group"] == next(iter(grouped.groups))
    by_type = next(job for job in jobs if job.href == "by/customer-type/b2b.html")
    assert by_type.parameters | {"attribute": "customer_type", "value": "B2B"} == by_type.parameters
    assert all(job.template.name == "group_study.ipynb" and job.template.exists() for job in jobs)


@pytest.mark.parametrize("language", ["en", "zh"])
def test_group_pages(grouped, language):
    customers = _customers(grouped)
    study = GroupStudy.from_config(grouped, language, "b2b_high")
    assert sorted(study.customers["customer_id"]) == sorted(
        customers.loc[customers["customer_type"].eq("B2B") & customers["tier"].eq("high"), "customer_id"])
    assert set(study.orders["customer_id"]) <= set(study.customers["customer_id"])
    definition = study.definition()._repr_html_()
    assert "customer_type == &#x27;B2B&#x27;" in definition or "customer_type == 'B2B'" in definition
    by = GroupStudy.from_config(grouped, language, "", "customer_type", "B2B")
    assert len(by.customers) == customers["customer_type"].eq("B2B").sum()
    assert by.label == ("Customer type: B2B" if language == "en" else "客户类型：B2B")
    for page in (study, by):
        for method in ("headline", "tier_mix", "regional_spread", "segment_mix", "lifecycle_mix", "churn_risk",
                       "who_they_are", "monthly_revenue", "category_mix", "strategy"):
            shown = getattr(page, method)()
            assert shown is None or isinstance(shown, render.Section)
    empty = GroupStudy.from_config(grouped, language, "nobody")
    assert len(empty.customers) == 0 and empty.notice() is not None and empty.headline() is None


def test_the_overview_links_every_group_page(grouped):
    html = Overview.from_config(grouped, "en").links()._repr_html_()
    assert "Customer groups" in html and "Studies by customer type" in html and "Studies by industry" in html
    assert 'href="groups/b2b-high.html">b2b_high<' in html and 'href="by/customer-type/b2b.html">B2B<' in html
    zh = Overview.from_config(grouped, "zh").links()._repr_html_()
    assert "客户群" in zh and "按客户类型" in zh


def test_unknown_columns_are_refused_at_segmentation(tmp_path):
    write_sample(generate_sample(SampleSpec(n_customers=60, seed=3)), tmp_path / "raw")
    config = load_config(study_config(tmp_path, SAMPLE_INPUTS, groups={"x": "gender == 'f'"}))
    with pytest.raises(FilterError, match=r"groups\.x reads the column 'gender'"):
        run(config, echo=lambda *_: None)
    config = load_config(study_config(tmp_path, SAMPLE_INPUTS, studies={"by": ["membership"]}))
    with pytest.raises(FilterError, match=r"studies\.by names 'membership'"):
        run(config, echo=lambda *_: None)


def test_the_b2b_page_finds_the_planted_order_value(grouped):
    # the sample plants businesses that spend more per order (sample/_behaviour): the B2B page's
    # key figures show it as an index well above the base, and the B2C page's below it
    def aov_index(value: str) -> float:
        study = GroupStudy.from_config(grouped, "en", "", "customer_type", value)
        frame = study.headline().items[0].frame.set_index("Measure")
        return frame.loc["Average order value", "Index"]

    assert aov_index("B2B") > 200 > 100 > aov_index("B2C")
