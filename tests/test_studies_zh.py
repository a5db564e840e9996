"""Region, tier and overview studies in Chinese (study.language: zh): headings, table headings,
chart texts and the labels from the data are Chinese, the data keeps its English keys, and
English reports are unchanged by the language machinery."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from custseg import i18n, studies, words
from custseg.config import StrategyRule
from custseg.segment import lifecycle, snapshots
from custseg.studies import labels, render
from custseg.studies.base import open_study
from custseg.studies.strategy import recommend


@pytest.fixture
def sample(processed_sample):
    return processed_sample


def _tables(section: render.Section) -> list[render.Table]:
    return [item for item in section.items if isinstance(item, render.Table)]


def _texts(section: render.Section) -> str:
    """Every text a reader sees in a section (headings, table headings and cells, captions, alt texts)."""
    return section._repr_html_().split("base64,")[0] + " ".join(
        f"{item.title} {item.alt}" for item in section.items if isinstance(item, render.Chart)
    )


def _largest_region(data) -> str:
    return data.customers["region"].value_counts().index[0]


# --- cluster names -------------------------------------------------------------------------------


def _fact(name: str) -> dict:
    """The fact of a generated cluster name given in English words ("Big-basket buyers (2)")."""
    stem, _, repeat = name.partition(" (")
    *describing, noun = stem.lower().split(" ")
    if stem == "Average customers":
        describing = []
    return {"words": describing, "noun": noun, "repeat": int(repeat.rstrip(")") or 1)}


@pytest.mark.parametrize(("name", "chinese"), [
    ("Recent frequent high spenders", "近期高频高消费客户"),
    ("Lapsed occasional low spenders", "沉睡低频低消费客户"),
    ("Big-basket buyers", "大单客户"),
    ("Recent frequent small-basket buyers", "近期高频小单客户"),
    ("New customers", "新客户"),
    ("Average customers", "普通客户"),
    ("Recent frequent high spenders (2)", "近期高频高消费客户 (2)"),
    ("Average customers (3)", "普通客户 (3)"),
])
def test_cluster_names_are_composed_in_chinese(name, chinese):
    fact = _fact(name)
    with i18n.language("zh"):
        assert words.cluster_name(fact) == chinese
    assert words.cluster_name(fact) == name  # English: as the export names it


@pytest.mark.parametrize(
    "name", ["Loyal bargain hunters", "Recent whales", "<b>Big</b>", "Recent frequent high spenders"]
)
def test_a_cluster_name_kept_as_text_is_shown_as_written(name):
    # a study.json of an older custseg held the names as English text: shown as they are
    with i18n.language("zh"):
        assert words.cluster_name(name) == name


def test_cluster_names_the_pipeline_gave_are_all_translated(sample):
    _, data = sample
    with i18n.language("zh"):
        shown = labels.cluster_labels(data)
    assert sorted(shown) == sorted(int(key) for key in data.meta.clusters.names)
    for label in shown.values():
        assert not any(c.isascii() and c.isalpha() for c in label), label


def test_cluster_names_of_an_older_study_json_are_shown_as_written(sample):
    _, data = sample
    older = {key: f"Group {key}" for key in data.meta.clusters.names}
    meta = dataclasses.replace(data.meta, clusters=dataclasses.replace(data.meta.clusters, names=older))
    study = studies.RegionStudy(dataclasses.replace(data, meta=meta), _largest_region(data), 12)
    with i18n.language("zh"):
        (clusters,) = _tables(study.cluster_mix())
    assert set(clusters.frame.index) <= set(older.values())


# --- labels and English texts that must not change ------------------------------------------------


def test_the_transition_labels_are_the_snapshot_constants():
    # English keys of the transition matrix, translated for display: in English they read as the data does.
    assert labels.snapshot_moves() == {
        snapshots.NOT_YET: snapshots.NOT_YET, snapshots.NO_TIER: snapshots.NO_TIER, snapshots.LEFT: snapshots.LEFT,
    }
    with i18n.language("zh"):
        assert all(value != key for key, value in labels.snapshot_moves().items())


def test_stage_labels_follow_the_language():
    assert labels.stage_label("at_risk") == "At risk"
    with i18n.language("zh"):
        assert labels.stage_label("at_risk") == lifecycle.STAGE_NAMES_ZH["at_risk"]


def test_load_sets_the_report_language(sample):
    config, _ = sample
    with i18n.language("en"):
        open_study(config, "zh")
        assert i18n.current() == "zh"
        open_study(config)  # the config's study.language
        assert i18n.current() == config.study.language == "en"


# --- region study -------------------------------------------------------------------------------


def test_region_study_in_chinese_names_the_region_in_chinese(sample):
    _, data = sample
    region = _largest_region(data)
    chinese = data.customers.loc[data.customers["region"].eq(region), "market_zh"].iloc[0]
    study = studies.RegionStudy(data, region, 12)
    with i18n.language("zh"):
        assert study.label == chinese and study.region == region
        assert study.heading().title == f"区域研究：{chinese}"
        headline = study.headline()
        assert headline.heading == "关键数据"
        (table,) = _tables(headline)
        assert list(table.frame.columns) == ["指标", chinese, "全体客户", "指数"]
        assert "客户数" in table.frame["指标"].tolist()
    assert study.label == region  # back in English


def test_region_study_sections_in_chinese_leave_no_english_heading(sample):
    config, data = sample
    study = studies.RegionStudy(data, _largest_region(data), 12, config.strategy.rules)
    methods = ("headline", "tier_mix", "segment_mix", "cluster_mix", "lifecycle_mix", "satisfaction", "churn_risk",
               "monthly_revenue", "category_mix", "price_sensitivity", "seasonality", "subregions", "strategy")
    english = ("Key figures", "Whole base", "Share here", "Share in base", "Customers", "Measure", "against the",
               "Monthly revenue", "Revenue share", "Value tier", "Month", "Segment", "Stage", "Cluster")
    with i18n.language("zh"):
        for method in methods:
            section = getattr(study, method)()
            heading = section.heading.replace("RFM", "")
            assert heading and not any(c.isascii() and c.isalpha() for c in heading), (method, heading)
            for table in _tables(section):
                headings = [str(c) for c in table.frame.columns] + [str(table.frame.index.name or "")]
                assert not set(headings) & set(english), (method, headings)
                assert not any(word in table.title for word in english), (method, table.title)
            for chart in (item for item in section.items if isinstance(item, render.Chart)):
                assert not any(word in chart.title for word in english), (method, chart.title)
                axes = chart.figure.axes[0]
                assert axes.get_title() and not axes.get_title().isascii()


def test_region_mixes_in_chinese_show_the_chinese_names(sample):
    _, data = sample
    study = studies.RegionStudy(data, _largest_region(data), 12)
    with i18n.language("zh"):
        segments, classes = _tables(study.segment_mix())
        assert set(segments.frame.index) <= set(data.customers["segment_zh"].dropna())
        assert segments.frame.index.name == "RFM 分群"
        assert set(classes.frame.index) <= set(data.customers["value_class"].dropna())  # 重要价值客户, no English
        (stages,) = _tables(study.lifecycle_mix())
        assert set(stages.frame.index) <= set(lifecycle.STAGE_NAMES_ZH.values())
        assert list(stages.frame.columns) == ["客户数", "本组占比", "全体客户占比", "指数"]
        (clusters,) = _tables(study.cluster_mix())
        assert "近期高频高消费客户" in set(clusters.frame.index)
        assert clusters.frame["客户数"].sum() == study.buyers["cluster"].notna().sum()


def test_subregions_in_chinese_use_the_chinese_place_names(sample):
    _, data = sample
    named = data.customers["country_iso3"].eq("CHN") & data.customers["province_zh"].notna()
    china = data.customers.loc[named, "region"]
    region = china.value_counts().index[0]
    study = studies.RegionStudy(data, region, 1)
    with i18n.language("zh"):
        (table,) = _tables(study.subregions())
    provinces = set(data.customers.loc[data.customers["region"].eq(region), "province_zh"].dropna())
    assert set(table.frame.index) & provinces
    assert table.frame.index.name == "下级区域" and "营收占比" in table.frame.columns


def test_seasonality_in_chinese_uses_chinese_month_names(sample):
    _, data = sample
    chart = studies.RegionStudy(data, _largest_region(data), 12).seasonality().items[0]
    with i18n.language("zh"):
        chinese = studies.RegionStudy(data, _largest_region(data), 12).seasonality().items[0]
    months = [label.get_text() for label in chinese.figure.axes[0].get_xticklabels()]
    assert months == [f"{m}月" for m in range(1, 13)]
    assert "月" in chinese.alt and "Jan" not in chinese.alt
    assert [label.get_text() for label in chart.figure.axes[0].get_xticklabels()][0] == "Jan"


def test_strategy_in_chinese_translates_the_reason_and_the_advice(sample):
    config, data = sample
    study = studies.RegionStudy(data, _largest_region(data), 12, config.strategy.rules)
    always = [StrategyRule(measure="orders_per_buyer_index", above=-1, area="marketing", advice="Always.")]
    with i18n.language("zh"):
        (table,) = _tables(studies.RegionStudy(data, _largest_region(data), 12, always).strategy())
        assert list(table.frame.columns) == ["领域", "建议", "依据"]
        assert table.frame["领域"].tolist() == [i18n.label("area", "marketing")] != ["Marketing"]
        assert table.frame["建议"].tolist() == ["Always."]  # a user's own advice, as written
        assert table.frame["依据"].str.contains("人均订单数指数").all()
        assert table.frame["依据"].str.contains("高于 -1").all()
        section = study.strategy()
    for table in _tables(section):  # the default rules' advice is translated by the catalog
        assert not table.frame["建议"].str.contains("the base").any()


def test_recommend_writes_the_reason_in_the_report_language():
    rules = [StrategyRule(measure="top_category_index", above=130, area="product",
                          advice="{category} sells: widen it."),
             StrategyRule(measure="growth_gap", below=-10, area="marketing", advice="Reactivate.")]
    values, topics = {"top_category_index": 152.0, "growth_gap": -12.4}, {"top_category_index": "electronics"}
    assert recommend(values, topics, rules)["because"].tolist() == [
        "revenue-share index of electronics 152, above 130", "revenue growth against the base -12 points, below -10 "
            "points",
    ]
    with i18n.language("zh"):
        fired = recommend(values, topics, rules)
        electronics = i18n.label("category", "electronics")
    assert fired["because"].tolist() == [
        f"{electronics}营收占比指数为 152，高于 130", "营收增长与全体客户之差为 -12 个百分点，低于 -10 个百分点",
    ]
    assert fired["recommendation"].tolist()[0] == f"{electronics} sells: widen it."
    assert recommend({"growth_gap": np.nan}, {}, rules).empty


# --- tier study ---------------------------------------------------------------------------------


def test_tier_study_in_chinese(sample):
    config, data = sample
    tier = data.meta.tiers[0]
    study = studies.TierStudy(data, tier, 12, config.playbook[tier])
    with i18n.language("zh"):
        tier_zh = i18n.label("tier", tier)
        assert tier_zh != tier
        assert study.label == f"{tier_zh}层级"
        assert study.heading().title == f"层级研究：{tier_zh}层级"
        into, out = _tables(study.migration())
        assert f"{tier_zh}（留在本层级）" in into.frame.index
        assert into.frame.index.name.endswith("的价值层级") and "已离开" in out.frame.index
        playbook = study.playbook_actions()
        assert list(_tables(playbook)[0].frame.columns) == ["主题", "措施", "适用对象", "当前客户数"]
        (effect,) = _tables(study.tier_effect())
        assert effect.frame.columns[0] == "期间" and " 至 " in effect.frame["期间"].iloc[0]
        (spread,) = _tables(study.regional_spread())
        assert spread.frame.index.name == "区域"
        assert set(spread.frame.index) & set(data.customers["market_zh"].dropna())
    assert study.label == f"Tier {tier}"


def test_watch_list_in_chinese_shows_chinese_tiers_and_segments(sample):
    _, data = sample
    listed = data.customers.loc[data.customers["customer_id"].isin(data.tables["watch_list"]["customer_id"]), "region"]
    region = data.customers["region"].value_counts().loc[listed.unique()].idxmax()
    with i18n.language("zh"):
        watch = _tables(studies.RegionStudy(data, region, 12).churn_risk())[1].frame
    assert list(watch.columns) == ["排名", "客户", "价值层级", "RFM 分群", "流失概率", "风险价值", "预警", "建议行动"]
    assert set(watch["RFM 分群"]) <= set(data.customers["segment_zh"].dropna())
    assert not set(watch["价值层级"]) & set(data.meta.tiers)


# --- overview -----------------------------------------------------------------------------------


def test_overview_in_chinese(sample):
    config, data = sample
    overview = studies.Overview(data, config)
    with i18n.language("zh"):
        assert overview.heading().title == "Test Co.：客户分类总览"
        assert "区域级别：市场" in overview.heading().subtitle
        intro = overview.introduction()
        assert isinstance(intro, render.Notice) and "价值层级" in intro.text
        (clusters,) = _tables(overview.clusters())
        assert clusters.frame.columns[0] == "聚类" and "普通客户" in set(clusters.frame["聚类"])
        section = overview.regions()
        (regions,) = _tables(section)
        assert regions.frame.index.name == "区域"
        tiles = [text.get_text() for text in section.items[0].figure.axes[0].texts]
        assert set(regions.frame.index) <= set(tiles) and "海外市场" in tiles
        assert set(regions.frame.index) <= set(data.customers["market_zh"].dropna()) | set(data.customers["region"])
        assert set(regions.frame.index) & set(data.customers["market_zh"].dropna())
        segments, classes = _tables(overview.segments())
        assert set(segments.frame.index) <= set(data.customers["segment_zh"].dropna())
        (stages,) = _tables(overview.lifecycle())
        assert set(stages.frame.index) <= set(lifecycle.STAGE_NAMES_ZH.values())
        (matrix,) = _tables(overview.changes())
        assert "无层级" in matrix.frame.index and "已离开" in matrix.frame.columns
        links = overview.links()
        assert links.heading == "研究"
        region_links = next(item for item in links.items if item.title == "区域研究")
        shown = [label for _, label, _ in region_links.items]
        assert set(shown) & set(data.customers["market_zh"].dropna())
        headline = overview.headline()
        assert headline.heading == "核心数据" and "观察日" in _tables(headline)[0].frame["指标"].tolist()


def test_overview_introduction_in_english(sample):
    config, data = sample
    text = studies.Overview(data, config).introduction().text
    assert text.startswith("This page summarises how the customer base divides by value tier, RFM segment")


def test_orders_only_study_in_chinese(processed_tiny):
    config, data = processed_tiny
    overview = studies.Overview(data, config)
    with i18n.language("zh"):
        (clusters,) = [item.text for item in overview.clusters().items]
        assert clusters.startswith("未聚类：")
        (short,) = [item.text for item in overview.changes().items]
        assert "历史数据太短" in short
        notice = overview.inputs_notice().text
        assert notice.startswith("本研究") and "没有客户表" in notice
        study = studies.TierStudy(data, data.meta.tiers[-1], 1)
        assert "没有反馈表" in study.satisfaction().items[0].text


def test_english_mixes_keep_the_english_names(sample):
    _, data = sample
    study = studies.TierStudy(data, data.meta.tiers[1], 12)
    segments, classes = _tables(study.segment_mix())
    assert set(segments.frame.index) <= set(data.customers["segment"].astype(str))
    assert all(label.endswith(")") for label in classes.frame.index)
    missing = dataclasses.replace(data, customers=data.customers.drop(columns=["segment_zh"]))
    with i18n.language("zh"):  # no Chinese names in the data: the English ones, never an empty label
        segments, _ = _tables(studies.TierStudy(missing, data.meta.tiers[1], 12).segment_mix())
    assert set(segments.frame.index) <= set(data.customers["segment"].astype(str))
