"""Findings first (issue 19, item 1): the facts every page opens with, checked against figures
computed here from the processed tables with plain pandas, their ranking, their words in both
languages, the glossary, and what they claim on the real data sets (Online Retail II, CDNOW).
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd
import pytest

from custseg import geo, i18n
from custseg.config import load_config
from custseg.intake import quality
from custseg.pipeline import run
from custseg.report.html import add_contents
from custseg.segment import lifecycle
from custseg.studies import Overview, RegionStudy, TierStudy
from custseg.studies import findings as found
from custseg.studies.base import open_study
from custseg.studies.glossary import Glossary
from custseg.studies.labels import stage_label, tier_label
from custseg.studies.opening import END, Opening, finding_text

CJK = re.compile(r"[\u4e00-\u9fff]")


def window_revenue(orders: pd.DataFrame, observed: dt.date, by: str) -> tuple[pd.Series, pd.Series]:
    """Revenue of the last 90 days and of the 90 before, per `by`, from the orders table."""
    day = pd.to_datetime(orders["order_date"]).dt.normalize()
    end = pd.Timestamp(observed)
    last = orders.loc[(day >= end - pd.Timedelta(days=90)) & (day < end)]
    before = orders.loc[(day >= end - pd.Timedelta(days=180)) & (day < end - pd.Timedelta(days=90))]
    return last.groupby(by, observed=True)["revenue"].sum(), before.groupby(by, observed=True)["revenue"].sum()


def independent_moves(data, min_customers: int) -> pd.Series:
    """Each comparable region's 90-day revenue change, from orders.parquet and the buyers' count."""
    observed = dt.date.fromisoformat(data.meta.observation_date)
    last, before = window_revenue(data.orders, observed, "region")
    buyers = data.customers.loc[data.customers["frequency"] > 0]
    sizes = buyers["region"].astype("string").value_counts()
    regions = [r for r in sizes.index if sizes[r] >= min_customers and r != geo.UNKNOWN and before.get(r, 0) > 0]
    return pd.Series({r: last.get(r, 0.0) / before[r] - 1.0 for r in regions})


def test_region_moves_equal_the_change_computed_from_the_orders(processed_sample):
    config, data = processed_sample
    minimum = config.studies.min_customers
    change = independent_moves(data, minimum)
    assert len(change) >= 2
    finding = found.region_moves(data.customers.loc[data.customers["frequency"] > 0], minimum)
    f = finding.figures
    down, up = change[change < -found.STEADY], change[change > found.STEADY]
    assert (f["regions"], f["down"], f["up"]) == (len(change), len(down), len(up))
    if len(down):
        assert f["faller"] == down.idxmin() and f["down_most"] == pytest.approx(-down.min(), abs=1e-9)
        assert f["down_least"] == pytest.approx(-down.max(), abs=1e-9)
    if len(up):
        assert f["riser"] == up.idxmax() and f["rise"] == pytest.approx(up.max(), abs=1e-9)
    # the weight: the moved regions' share of the 180 days' revenue
    observed = dt.date.fromisoformat(data.meta.observation_date)
    last, before = window_revenue(data.orders, observed, "region")
    both = last.add(before, fill_value=0)
    moved = both.reindex(down.index.union(up.index)).sum() / (last.sum() + before.sum())
    assert finding.weight == pytest.approx(moved, rel=1e-9)


def test_the_sentence_says_the_figures(processed_sample):
    config, data = processed_sample
    finding = found.region_moves(data.customers.loc[data.customers["frequency"] > 0], config.studies.min_customers)
    with i18n.language("en"):
        text = finding_text(finding, "", {}, str)
    f = finding.figures
    if f["down"] > 1:
        assert f"{f['down']} of {f['regions']} regions are down" in text
    if f["up"]:
        assert f["riser"] in text and f"{f['rise']:.1%}" in text


def test_tier_moves_and_value_at_risk_equal_an_independent_count(processed_sample):
    config, data = processed_sample
    history = data.table("snapshots")
    dates = sorted(pd.to_datetime(history["snapshot_date"]).unique())
    pair = history.assign(snapshot_date=pd.to_datetime(history["snapshot_date"]))
    before = pair.loc[pair["snapshot_date"].eq(dates[-2])].set_index("customer_id")
    after = pair.loc[pair["snapshot_date"].eq(dates[-1])].set_index("customer_id")
    rank = {tier: n for n, tier in enumerate(data.meta.tiers)}
    both = before[["tier"]].rename(columns={"tier": "tier_before"}).join(after[["tier", "monetary"]], how="inner")
    both = both.dropna(subset=["tier_before", "tier"])
    step = both["tier_before"].astype("string").map(rank) - both["tier"].astype("string").map(rank)
    finding = found.tier_moves(history, list(data.meta.tiers))
    assert finding.figures["up"] == int((step > 0).sum()) and finding.figures["down"] == int((step < 0).sum())
    assert finding.figures["up_value"] == pytest.approx(both.loc[step > 0, "monetary"].sum())
    # where the value at risk sits: the tier with the largest sum, its share of all of it
    buyers = data.customers.loc[data.customers["frequency"] > 0]
    by_tier = buyers.groupby(buyers["tier"].astype("string"))["value_at_risk"].sum()
    risk = found.risk_concentration(buyers, "tier", float(buyers["monetary"].clip(lower=0).sum()))
    held = buyers["tier"].astype("string").eq(by_tier.idxmax()).mean()
    if by_tier.max() / by_tier.sum() < found.CONCENTRATED * held:
        assert risk is None
    else:
        assert risk.figures["name"] == by_tier.idxmax()
        assert risk.figures["share"] == pytest.approx(by_tier.max() / by_tier.sum())
        assert risk.figures["buyers_share"] == pytest.approx(held)


def test_findings_are_ranked_by_weight_and_at_most_five(processed_sample):
    config, data = processed_sample
    shown = found.base_findings(data, config.studies.min_customers)
    assert found.FEWEST <= len(shown) <= found.MOST
    weights = [f.weight for f in shown]
    assert weights == sorted(weights, reverse=True)
    assert all(0 <= w <= 1 for w in weights)
    # the lightest of all the candidates is the one left out when there are more than five
    made = [found.Finding("a", 0.1), found.Finding("b", 0.9), None, found.Finding("c", 0.5),
            found.Finding("d", 0.3), found.Finding("e", 0.7), found.Finding("f", 0.05)]
    assert [f.kind for f in found.rank(made)] == ["b", "e", "c", "d", "a"]


def test_a_slice_with_too_little_data_says_so_in_both_languages(processed_sample):
    config, data = processed_sample
    region = data.customers["region"].value_counts().index[-1]
    few = data.customers.loc[data.customers["region"].eq(region)].head(3)
    (finding,) = found.slice_findings(data, few, 12)
    assert finding.kind == "too_little" and finding.figures == {"buyers": int((few["frequency"] > 0).sum()),
                                                                "needed": 12}
    for language, words in (("en", "fewer than the 12 needed for findings"), ("zh", "少于得出发现所需的 12 位")):
        with i18n.language(language):
            assert words in finding_text(finding, "X", {}, str)


def test_a_slice_against_the_base_equals_pandas(processed_sample):
    config, data = processed_sample
    study = RegionStudy.from_config(config, "en", data.customers["region"].value_counts().index[0])
    shown = found.slice_findings(data, study.customers, config.studies.min_customers)
    versus = next(f for f in shown if f.kind == "slice_vs_base").figures
    buyers = data.customers.loc[data.customers["frequency"] > 0]
    mine = buyers.loc[buyers["region"].eq(study.region)]
    assert versus["value_index"] == pytest.approx(100 * mine["monetary"].mean() / buyers["monetary"].mean())
    assert versus["churn_index"] == pytest.approx(
        100 * mine["churn_probability"].mean() / buyers["churn_probability"].mean())
    assert versus["revenue_share"] == pytest.approx(mine["monetary"].sum() / buyers["monetary"].sum())


@pytest.mark.parametrize("language", ["en", "zh"])
def test_every_kind_of_page_opens_with_the_period_findings_and_navigation(processed_sample, language):
    config, data = processed_sample
    overview = Overview.from_config(config, language)
    box = overview.opening()
    page = box._repr_html_()
    assert isinstance(box, Opening) and 3 <= len(box.findings) <= 5 and 'class="cs-findings"' in page
    first = pd.to_datetime(data.orders["order_date"]).min()
    assert str(first.year) in box.period and (CJK.search(box.period) is not None) == (language == "zh")
    assert all((CJK.search(text) is not None) == (language == "zh") for text in box.findings)
    # the box's heading and the navigation's words are in the page's language too
    words = re.findall(r'<div class="cs-findings"><h2>([^<]*)</h2>|<span class="cs-nav-kind">([^<]*)</span>', page)
    assert len(words) >= 3 and all((CJK.search("".join(w)) is not None) == (language == "zh") for w in words)
    # the navigation: every page kind linked, the glossary too, relative to the page
    links = re.findall(r'href="([^"#]+)', page)
    assert {"index.html", "churn.html", "quality.html", "glossary.html"} <= set(links)
    assert any(link.startswith("regions/") for link in links) and any(link.startswith("tiers/") for link in links)
    region = RegionStudy.from_config(config, language, data.customers["region"].value_counts().index[0])
    top = region.opening()._repr_html_()
    assert 'href="#strategy"' in top and 'href="../index.html"' in top and 'aria-current="page"' in top
    with i18n.language(language):
        assert 'id="strategy"' in region.strategy()._repr_html_()
    tier = TierStudy.from_config(config, language, data.meta.tiers[0]).opening()._repr_html_()
    assert 'href="../glossary.html"' in tier
    # the page's own contents come after the opening block, not between the title and the findings
    sections = "".join(f'<section class="cs-section"><h2>S{n}</h2></section>' for n in range(3))
    built = add_contents(f'<h1 class="cs-title">T</h1>{page}{sections}')
    assert built.index("cs-findings") < built.index("cs-toc") and END not in built


@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_glossary_lists_every_tier_and_lifecycle_stage_with_the_config_thresholds(processed_sample, language):
    config, _data = processed_sample
    glossary = Glossary.from_config(config, language)
    text = glossary.terms()._repr_html_()
    with i18n.language(language):
        for tier in config.tiers.names:
            assert tier_label(tier) in text
        for stage in lifecycle.PRECEDENCE:
            assert stage_label(stage) in text
    for key, value in (("churn.lost_after_days", config.churn.lost_after_days),
                       ("churn.horizon_days", config.churn.horizon_days), ("tiers.bins", config.tiers.bins)):
        assert key in text and str(value) in text
    assert str(config.lifecycle.churned_days) in text and str(config.lifecycle.new_days) in text


def quality_of(config) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Intake's accounting, its quarantine and the processed customers' markets, as written."""
    interim = config.output.interim
    return (pd.read_csv(interim / "accounting.csv", encoding="utf-8-sig"),
            pd.read_csv(interim / "quarantine.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False),
            pd.read_parquet(config.output.processed / "customers.parquet", columns=["market"]))


@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_quality_page_opens_with_what_intake_set_aside(processed_sample, language):
    from custseg.studies import QualityStudy

    config, _data = processed_sample
    accounting, quarantine, customers = quality_of(config)
    shown = {f.kind: f for f in found.quality_findings(accounting, quality.reason_counts(quarantine, {}), customers)}
    # the quarantine file, counted here, and its most common reason (ties by code)
    counts = quarantine["reason"].value_counts()
    top = sorted(counts.index, key=lambda code: (-counts[code], code))[0]
    assert shown["quarantined"].figures["quarantined"] == len(quarantine) > 0
    assert (shown["quarantined"].figures["reason"], shown["quarantined"].figures["reason_rows"]) == (top, counts[top])
    assert shown["quarantined"].weight == pytest.approx(len(quarantine) / accounting["rows_read"].sum())
    unknown = int(customers["market"].eq(geo.UNKNOWN).sum())
    assert ("unplaced" in shown) == (unknown > 0)
    if unknown:
        assert shown["unplaced"].figures == {"customers": unknown, "total": len(customers)}
    box = QualityStudy.from_config(config, language).opening()
    assert 1 <= len(box.findings) <= 3
    assert all((CJK.search(text) is not None) == (language == "zh") for text in box.findings)
    assert any(f"{len(quarantine):,}" in text for text in box.findings)


def test_a_file_with_nothing_set_aside_says_so():
    accounting = pd.DataFrame({"rows_read": [120, 30], "quarantined": [0, 0], "duplicates_removed": [0, 0],
                               "q_missing_id": [0, 0]})
    nothing = quality.reason_counts(pd.DataFrame({"table": [], "reason": []}), {})
    (only,) = found.quality_findings(accounting, nothing, None)
    assert only.kind == "quarantined" and only.weight == 1.0 and "reason" not in only.figures
    with i18n.language("en"):
        assert finding_text(only, "", {}, str) == (
            "Every one of the 150 rows read is in the clean tables or was an exact duplicate.")


# --------------------------------------------------------------------------- the real data sets


def test_online_retail_findings_claim_only_what_the_export_shows(online_retail_config, tmp_path_factory):
    # Countries come from the line items (no customer table): markets exist, so regions move
    root = tmp_path_factory.mktemp("ori-findings")
    config = load_config(online_retail_config(root))
    run(config, echo=lambda *_: None)
    data = open_study(config, "en")
    shown = found.base_findings(data, config.studies.min_customers)
    kinds = {f.kind for f in shown}
    assert 3 <= len(shown) <= 5
    change = independent_moves(data, config.studies.min_customers)
    moves = next((f for f in shown if f.kind == "region_moves"), None)
    if len(change) >= 2:
        moves = moves or found.region_moves(data.customers.loc[data.customers["frequency"] > 0],
                                            config.studies.min_customers)
        assert moves.figures["regions"] == len(change)
        assert moves.figures["down"] == int((change < -found.STEADY).sum())
    else:
        assert "region_moves" not in kinds
    # 99% of the buyers are in Europe: that most of the value at risk is there too is no finding
    assert data.customers.loc[data.customers["frequency"] > 0, "region"].eq("Europe").mean() > 0.9
    assert not any(f.kind == "risk_concentration" and f.figures["by"] == "region" for f in shown)
    with i18n.language("en"):
        for text in Overview.from_config(config, "en").opening().findings:
            assert "nan" not in text.lower()
    # the quality page: a fifth of the lines name no customer (guest sales); counted here in the
    # export itself, less the guest lines that were exact copies of another line (counted once)
    raw = pd.read_csv(config.inputs.line_items.path, dtype=str)
    accounting, quarantine, customers = quality_of(config)
    shown = {f.kind: f for f in found.quality_findings(accounting, quality.reason_counts(quarantine, {}), customers)}
    assert shown["quarantined"].figures["read"] == len(raw)
    assert shown["quarantined"].figures["reason"] == "missing_id"
    assert shown["quarantined"].figures["reason_rows"] == raw.drop_duplicates()["Customer ID"].isna().sum()
    assert shown["duplicates"].figures["removed"] == raw.duplicated().sum()
    assert shown["quarantined"].figures["quarantined"] == len(quarantine)
    # the churn page's customer value says how many watched repeat buyers BG/NBD still thinks alive (most of
    # them: their purchase rhythm is a few buying days), counted here from the processed tables
    from custseg.studies import ChurnStudy

    watch = pd.read_parquet(config.output.processed / "watch_list.parquet")
    repeat = data.customers.loc[data.customers["frequency"].gt(0) & ~data.customers["one_time_buyer"].astype(bool)
                                & data.customers["p_alive"].notna()]
    watched = repeat.loc[repeat["customer_id"].isin(watch["customer_id"])]
    alive = int((watched["p_alive"] >= 0.5).sum())
    texts = [getattr(item, "text", "") for item in ChurnStudy.from_config(config, "en").customer_value().items]
    assert any(text.startswith(f"{alive:,} of the {len(watched):,} repeat buyers on the watch list") for text in texts)


def test_cdnow_has_one_market_and_no_region_finding(real_data, tmp_path_factory):
    # CDNOW: one market (no countries), no categories, 18 months of a 1997 cohort
    root = tmp_path_factory.mktemp("cdnow-findings")
    raw = pd.read_csv(real_data / "cdnow/CDNOW_sample.txt", sep=r"\s+", header=None,
                      names=["customer", "sample_id", "date", "cds", "dollars"])
    raw = raw.loc[raw["dollars"] > 0]
    orders = pd.DataFrame({
        "order_id": [f"O{n}" for n in range(len(raw))], "customer_id": raw["sample_id"].astype(str),
        "order_date": pd.to_datetime(raw["date"].astype(str), format="%Y%m%d").dt.strftime("%Y-%m-%d"),
        "amount": raw["dollars"].round(2), "currency": "USD", "status": "completed",
    })
    (root / "raw").mkdir()
    orders.to_csv(root / "raw" / "orders.csv", index=False)
    from conftest import study_config

    config = load_config(study_config(root, {"orders": "raw/orders.csv"}, currency={"base": "USD"}))
    run(config, echo=lambda *_: None)
    data = open_study(config, "en")
    assert data.customers["region"].nunique() == 1
    shown = found.base_findings(data, config.studies.min_customers)
    assert "region_moves" not in {f.kind for f in shown}
    assert not any(f.kind == "risk_concentration" and f.figures["by"] == "region" for f in shown)
    span = found.period(data)
    assert (span.first, span.last) == (dt.date(1997, 1, 1), dt.date(1998, 6, 30))
    # the page of the only market: it is the whole base, so it differs from nothing
    only = found.slice_findings(data, data.customers, config.studies.min_customers)
    assert not {"slice_vs_base", "slice_trend"} & {f.kind for f in only}
    overview = Overview.from_config(config, "en").opening()
    assert "Figures cover 1 Jan 1997 – 30 Jun 1998" in overview.period
    assert all("categor" not in text for text in overview.findings)
    assert np.isfinite([f.weight for f in shown]).all()
