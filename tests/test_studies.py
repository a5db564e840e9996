"""Study sections on real processed data: a generated sample run through the pipeline, and a tiny
orders-only study too small for clusters and too short for snapshots."""

from __future__ import annotations

import dataclasses
import json
import textwrap

import pandas as pd
import pytest

from custseg import processed, studies, words
from custseg.config import ConfigError, TierRule, Tiers, load_config
from custseg.segment import snapshots
from custseg.studies import base, labels, overview, render, strategy


@pytest.fixture
def sample(processed_sample):
    return processed_sample


@pytest.fixture
def tiny(processed_tiny):
    return processed_tiny


def _html(section: render.Section) -> str:
    return section._repr_html_()


def _tables(section: render.Section) -> list[render.Table]:
    return [item for item in section.items if isinstance(item, render.Table)]


def _notices(section: render.Section) -> list[str]:
    return [item.text for item in section.items if isinstance(item, render.Notice)]


def _last_two(data) -> tuple:
    dates = sorted(pd.to_datetime(data.meta.snapshot_dates))
    return dates[-2].date(), dates[-1].date()


def test_load_reads_the_extra_tables_when_present(sample, tiny):
    _, data = sample
    assert set(data.tables) == set(processed.PAGE_TABLES)
    assert data.customers.equals(processed.load(sample[0], tables=()).customers)
    _, small = tiny
    assert "cluster_profile" not in small.tables and "cluster_selection" not in small.tables


def test_tier_migration_counts_match_the_transition_matrix(sample):
    _, data = sample
    tier = data.meta.tiers[0]
    section = studies.TierStudy(data, tier, 12).migration()
    into, out = _tables(section)
    before, after = _last_two(data)
    history = data.tables["snapshots"]
    counts = snapshots.transition_matrix(history, before, after, tier_order=data.meta.tiers)
    revenue = snapshots.transition_matrix(
        history, before, after, value="revenue", orders=data.orders, tier_order=data.meta.tiers
    )
    assert into.frame["Customers"].tolist() == counts[tier].tolist()
    assert out.frame["Customers"].tolist() == counts.loc[tier].tolist()
    assert out.frame["Revenue"].to_numpy() == pytest.approx(revenue.loc[tier].to_numpy())
    assert into.frame.index.name == f"Tier on {before:%Y-%m-%d}" and f"{tier} (stayed)" in into.frame.index
    stayed = counts.loc[tier, tier]
    assert f"{stayed:,} stayed" in _notices(section)[0]


def test_tier_effect_rows_are_the_tiers_periods(sample):
    _, data = sample
    tier = data.meta.tiers[-1]
    (table,) = _tables(studies.TierStudy(data, tier, 12).tier_effect())
    effect = data.tables["tier_effect"]
    mine = effect.loc[effect["tier"].astype(str).eq(tier)].sort_values("before")
    assert table.frame["Customers at start"].tolist() == mine["customers"].tolist()
    assert table.frame["Retention rate"].to_numpy() == pytest.approx(mine["retention_rate"].to_numpy())
    assert len(table.frame) == len(data.meta.snapshot_dates) - 1


def test_tier_mixes_count_the_tiers_customers(sample):
    _, data = sample
    tier = data.meta.tiers[1]
    study = studies.TierStudy(data, tier, 12)
    segments, classes = _tables(study.segment_mix())
    assert segments.frame["Customers"].sum() == study.buyers["segment"].notna().sum()
    assert segments.frame["Share in base"].sum() == pytest.approx(1.0)
    assert all("(" in label for label in classes.frame.index)  # 重要价值客户 (Important value)
    (clusters,) = _tables(study.cluster_mix())
    assert clusters.frame["Customers"].sum() == study.buyers["cluster"].notna().sum()
    assert set(clusters.frame.index) <= {words.cluster_name(name) for name in data.meta.clusters.names.values()}
    (stages,) = _tables(study.lifecycle_mix())
    assert stages.frame["Customers"].sum() == len(study.customers)


def test_tier_satisfaction_against_the_base(sample):
    _, data = sample
    study = studies.TierStudy(data, data.meta.tiers[0], 12)
    (table,) = _tables(study.satisfaction())
    rows = table.frame.set_index("Measure")
    rated = study.customers["satisfaction_mean"].notna().sum()
    assert rows.loc["Customers who gave feedback", study.label] == f"{rated:,}"
    assert rows.loc["Mean satisfaction (1-5)", "Whole base"] == f"{data.customers['satisfaction_mean'].mean():.2f}"


def test_tier_study_without_feedback_says_so(sample):
    _, data = sample
    meta = dataclasses.replace(data.meta, inputs=[name for name in data.meta.inputs if name != "feedback"])
    study = studies.TierStudy(dataclasses.replace(data, meta=meta), data.meta.tiers[0], 12)
    section = study.satisfaction()
    assert _tables(section) == []
    assert "no feedback table (inputs.feedback)" in _notices(section)[0]


def test_overview_cluster_table_lists_every_cluster(sample):
    config, data = sample
    overview = studies.Overview(data, config)
    (table,) = _tables(overview.clusters())
    names = json.loads((config.output.processed / "study.json").read_text(encoding="utf-8"))["clusters"]["names"]
    assert sorted(table.frame["Cluster"]) == sorted(words.cluster_name(name) for name in names.values())
    exported = pd.read_parquet(config.output.exports / "customer_segments.parquet")
    assert set(table.frame["Cluster"]) == set(exported["cluster_name"].dropna())  # the export's English names
    assert table.frame["Customers"].sum() == data.customers["cluster"].notna().sum()
    html = _html(overview.clusters())
    assert "Median order value" in html and "%" in html


def test_overview_cluster_selection_marks_the_chosen_k(sample):
    config, data = sample
    section = studies.Overview(data, config).cluster_selection()
    chart, preparation, table = section.items
    assert isinstance(chart, render.Chart) and f"k = {data.meta.clusters.k} was chosen" in chart.alt
    chosen = table.frame.loc[table.frame["Chosen"].eq("✓ chosen"), "Clusters (k)"].tolist()
    assert chosen == [data.meta.clusters.k]
    assert "<img" in _html(section)
    # the smallest cluster of each k, as the choice saw it, and the ks it ruled out
    selection = data.tables["cluster_selection"].sort_values("k")
    expected = selection["smallest_share_all"].fillna(selection["smallest_share"])
    assert table.frame["Smallest cluster"].tolist() == pytest.approx(expected.tolist())
    ruled_out = table.frame.loc[table.frame["Chosen"].eq("a cluster under 2%"), "Clusters (k)"].tolist()
    assert ruled_out == selection.loc[~selection["eligible"], "k"].tolist()
    assert (selection["eligible"] == expected.ge(0.02)).all()
    # how the features were prepared, with the buyers clipped on each
    assert "signed logarithm" in preparation.text and "clipped at 3 inter-quartile ranges" in preparation.text
    clipped = {c: n for c, n in data.meta.clusters.clipped.items() if n}
    assert all(f"{n:,} on " in preparation.text for n in clipped.values())


def test_cluster_selection_says_when_no_k_meets_the_minimum_share(sample):
    config, data = sample
    clusters = dataclasses.replace(data.meta.clusters, min_share_met=False, min_share=0.5)
    meta = dataclasses.replace(data.meta, clusters=clusters)
    selection = data.tables["cluster_selection"].assign(eligible=False)
    short = dataclasses.replace(data, meta=meta, tables={**data.tables, "cluster_selection": selection})
    section = studies.Overview(short, config).cluster_selection()
    (warning,) = [item for item in section.items if isinstance(item, render.Notice) and item.kind == "warning"]
    assert "No k from 3 to" in warning.text and "at least 50% of the buyers" in warning.text
    assert f"k = {data.meta.clusters.k}" in warning.text
    old = dataclasses.replace(data, tables={**data.tables, "cluster_selection": selection.drop(columns="eligible")})
    assert "run `custseg process --force`" in _notices(studies.Overview(old, config).cluster_selection())[0]


def test_tier_texts_follow_the_method_and_its_settings(sample):
    config, data = sample
    overview = studies.Overview(data, config)
    lead = overview.tier_pyramid().lead
    assert lead == labels.tier_method_text(config.tiers, "CNY")
    assert "lowest score of their tie" in lead and "high: total score 12 or more" in lead
    shares = Tiers(method="value_share", names=["vip", "high", "mid", "low"], revenue_shares=[0.5, 0.3, 0.125])
    text = labels.tier_method_text(shares, "CNY")
    assert "summed" not in text and "score" not in text and "Spend alone decides" in text
    assert "vip: the largest spenders who make the first 50% of revenue; high: the next 30% of revenue" in text
    assert "mid: the next 12.5% of revenue; low: the rest of the revenue" in text
    rules = [TierRule(recency_max_days=59, frequency_min=5, monetary_min=500), TierRule(frequency_min=1)]
    text = labels.tier_method_text(Tiers(method="thresholds", rules=rules), "CNY")
    assert "score" not in text
    assert (
        "high: last order at most 59 days ago, at least 5 orders, net spend of at least CN¥500; mid: at least 1 order"
        in text
    )
    weighted = labels.tier_method_text(
        Tiers(weights={"r": 2, "f": 1, "m": 1}, min_scores=[15, 10], within="market"), "CNY"
    )
    assert "(R × 2, F × 1, M × 1)" in weighted and "within each market" in weighted
    # a tier study says how its own tier is made
    tier = data.meta.tiers[1]
    section = studies.TierStudy(data, tier, 12, settings=config.tiers).definition()
    assert section.lead == lead and section.items[0].text == "Tier mid: total score from 8 to below 12."
    assert studies.TierStudy(data, tier, 12).definition() is None


def test_overview_segments_say_where_one_time_buyers_stand(sample):
    config, data = sample
    notice, *_tables_ = studies.Overview(data, config).segments().items
    once = int(data.customers["frequency"].eq(1).sum())
    assert f"all {once:,} one-time buyers" in notice.text
    assert "Champions, Cannot lose them, Loyal need at least 2 purchases" in notice.text


def test_overview_segments_lifecycle_and_changes(sample):
    config, data = sample
    overview = studies.Overview(data, config)
    segments, classes = _tables(overview.segments())
    buyers = data.customers.loc[data.customers["frequency"] > 0]
    assert segments.frame["Customers"].sum() == buyers["segment"].notna().sum()
    assert classes.frame["Revenue"].sum() == pytest.approx(buyers.loc[buyers["value_class"].notna(), "monetary"].sum())
    (stages,) = _tables(overview.lifecycle())
    assert stages.frame["Customers"].sum() == len(data.customers)
    assert stages.frame["Rule"].notna().all()
    (matrix,) = _tables(overview.changes())
    before, after = _last_two(data)
    expected = snapshots.transition_matrix(data.tables["snapshots"], before, after, tier_order=data.meta.tiers)
    assert matrix.frame.to_numpy().tolist() == expected.to_numpy().tolist()


def test_region_study_segment_and_lifecycle_mix(sample):
    _, data = sample
    region = data.customers["region"].value_counts().index[0]
    study = studies.RegionStudy(data, region, 12)
    segments, _ = _tables(study.segment_mix())
    assert segments.frame["Customers"].sum() == study.buyers["segment"].notna().sum()
    (stages,) = _tables(study.lifecycle_mix())
    assert stages.frame["Customers"].sum() == len(study.customers)


def test_small_region_leaves_the_new_sections_out(sample):
    _, data = sample
    region = data.customers["region"].value_counts().index[0]
    study = studies.RegionStudy(data, region, min_customers=10**6)
    assert study.segment_mix() is None and study.lifecycle_mix() is None


def test_names_from_the_data_are_escaped(sample):
    config, data = sample
    # a name kept as text (a study.json of an older custseg) is shown as written, escaped
    names = {**data.meta.clusters.names, "1": "<b>Big</b>"}
    meta = dataclasses.replace(data.meta, clusters=dataclasses.replace(data.meta.clusters, names=names))
    hostile = dataclasses.replace(data, meta=meta)
    html = _html(studies.Overview(hostile, config).clusters())
    assert "&lt;b&gt;Big&lt;/b&gt;" in html and "<b>Big" not in html


def test_orders_only_study_renders_notices(tiny):
    config, data = tiny
    assert data.meta.clusters.note and len(data.meta.snapshot_dates) == 1
    overview = studies.Overview(data, config)
    for method in (overview.clusters, overview.cluster_selection):
        (text,) = _notices(method())
        assert text.startswith("No clusters:")
    assert "too short" in _notices(overview.changes())[0]
    assert _tables(overview.segments()) and _tables(overview.lifecycle())
    study = studies.TierStudy(data, data.meta.tiers[-1], 1)
    assert study.enough
    assert _notices(study.cluster_mix())[0].startswith("No clusters:")
    assert "no feedback table" in _notices(study.satisfaction())[0]
    assert "too short" in _notices(study.migration())[0]
    assert "too short" in _notices(study.tier_effect())[0]
    for section in (study.segment_mix(), study.lifecycle_mix(), study.migration(), overview.changes()):
        assert "cs-section" in _html(section)


def test_missing_column_is_a_notice_not_an_error(sample):
    config, data = sample
    stripped = dataclasses.replace(data, customers=data.customers.drop(columns=["lifecycle", "value_class"]), tables={})
    study = studies.TierStudy(stripped, data.meta.tiers[0], 12)
    assert "no lifecycle column" in _notices(study.lifecycle_mix())[0]
    segments, *_few, notice = study.segment_mix().items  # (an index on few customers adds its note)
    assert isinstance(segments, render.Table) and "no value_class column" in notice.text
    assert "no snapshots table" in _notices(study.migration())[0]
    plain = studies.TierStudy(processed.load(config, tables=()), data.meta.tiers[0], 12)  # no extra tables
    assert "no tier_effect table" in _notices(plain.tier_effect())[0]


def test_tier_playbook_counts_the_customers_each_action_is_for(sample):
    config, data = sample
    tier = data.meta.tiers[0]
    actions = config.playbook[tier]
    table = studies.TierStudy(data, tier, 12, actions).playbook_actions().items[0].frame
    assert table["Action"].tolist() == [a.action for a in actions]
    mine = data.customers.loc[data.customers["tier"].eq(tier)]
    for action, count in zip(actions, table["Customers now"]):
        expected = mine["lifecycle"].isin(action.stages).sum() if action.stages else len(mine)
        assert count == expected
    missing = studies.TierStudy(data, tier, 12, None).playbook_actions().items[0]
    assert isinstance(missing, render.Notice) and f"playbook.{tier}" in missing.text


def test_a_playbook_for_an_unknown_tier_is_a_config_error(write_config):
    path = write_config({"orders": "orders.csv"}, playbook={"hihg": [{"topic": "service", "action": "call"}]})
    with pytest.raises(ConfigError, match="hihg"):
        load_config(path)


def test_masked_ids_never_show_whole(sample):
    config, data = sample
    masked = dataclasses.replace(data, meta=dataclasses.replace(data.meta, mask_ids=True))
    listed = data.customers.loc[data.customers["customer_id"].isin(data.tables["watch_list"]["customer_id"]), "region"]
    region = data.customers["region"].value_counts().loc[listed.unique()].idxmax()  # large enough for the section
    shown = _tables(studies.RegionStudy(masked, region, 12).churn_risk())[1].frame["Customer"]
    assert len(shown) and shown.str.fullmatch(r"..•••..").all()
    assert not shown.isin(data.customers["customer_id"]).any()
    plain = _tables(studies.RegionStudy(data, region, 12).churn_risk())[1].frame["Customer"]
    assert plain.isin(data.customers["customer_id"]).all()
    assert [render.mask_id(plain.iloc[0])] == shown.iloc[:1].tolist()


def test_mask_id():
    assert render.mask_id("C000857") == "C0•••57"
    assert render.mask_id("AB1234") == "••••••"
    assert render.mask_id(12345678) == "12•••78"


def test_price_sensitivity_and_seasonality_against_the_base(sample):
    config, data = sample
    region = data.customers["region"].value_counts().index[0]
    study = studies.RegionStudy(data, region, 12)
    table, chart = study.price_sensitivity().items
    orders = data.orders.loc[data.orders["status"].eq("completed") & data.orders["revenue"].gt(0)]
    mine = orders.loc[orders["region"].eq(region), "revenue"]
    low = orders["revenue"].quantile(0.25)
    frame = table.frame.set_index("Measure")
    assert frame.iloc[0][region] == render.money(data.meta.base_currency)(mine.median())
    assert frame.iloc[2][region] == render.percent((mine < low).mean())
    assert isinstance(chart, render.Chart) and "log scale" in chart.alt
    season = study.seasonality().items[0]
    assert isinstance(season, render.Chart)
    heights = [patch.get_height() for patch in season.figure.axes[0].patches]
    assert len(heights) == 12 and sum(heights) == pytest.approx(1.0)


def test_regions_show_clusters_and_satisfaction_too(sample):
    config, data = sample
    region = data.customers["region"].value_counts().index[0]
    study = studies.RegionStudy(data, region, 12)
    clusters = study.cluster_mix().items[0]
    assert isinstance(clusters, render.Table) and clusters.frame["Customers"].sum() <= len(study.buyers)
    satisfaction = study.satisfaction().items[0]
    assert isinstance(satisfaction, render.Table) and region in satisfaction.frame.columns


def test_order_value_bars_are_shares_of_orders(sample):
    config, data = sample
    region = data.customers["region"].value_counts().index[0]
    chart = studies.RegionStudy(data, region, 12).price_sensitivity().items[1]
    bars = chart.figure.axes[0].patches
    here = [bar.get_height() for bar in bars[len(bars) // 2:]]  # the base's bars first, then the region's
    assert sum(here) == pytest.approx(1.0)


def test_tile_map_places_default_and_custom_markets():
    places = overview.tile_places(["East China", "Nordics & Benelux", "Unknown", "DACH"])
    assert places["East China"] == overview.MARKET_TILES["East China"]
    assert places["Unknown"] == overview.MARKET_TILES["Unknown"]
    # custom markets take the free places of the right block, row by row, never a taken one
    assert places["Nordics & Benelux"] == (4, 2) and places["DACH"] == (5, 2)
    assert len(set(overview.tile_places([f"market {i}" for i in range(9)]).values())) == 9


def test_tile_map_shows_every_market_with_its_share_and_growth(processed_sample):
    _, data = processed_sample
    buyers = data.customers.loc[data.customers["frequency"] > 0]
    chart = overview.region_map(buyers)
    texts = [text.get_text() for text in chart.figure.axes[0].texts]
    revenue = buyers.groupby("region")["monetary"].sum()
    for market, value in revenue.items():
        label = "\n".join(textwrap.wrap(market, 14))
        position = texts.index(label)
        assert texts[position + 1] == render.percent(value / revenue.sum())
    growth = buyers.groupby("region").apply(strategy.revenue_growth, include_groups=False).dropna()
    arrows = [text for text in texts if text[:1] in "▲▼"]
    assert len(arrows) == len(growth)
    assert sum(text.startswith("▼") for text in arrows) == int((growth < 0).sum())
    assert str(len(revenue)) in chart.alt


def test_the_unknown_region_lists_what_could_not_be_placed_and_advises_nothing(sample):
    _, data = sample
    customers = data.customers.copy()
    # two customers with spellings nobody can place, one with a group of countries
    lost = customers.index[customers["region"].eq("Unknown")]
    assert len(lost) >= 3, "the sample writes non-answers for about 1% of its customers"
    customers.loc[lost[:2], "country_raw"] = "Xanadu"
    customers.loc[lost[:2], "country_match"] = "unknown"
    placed = dataclasses.replace(data, customers=customers)
    study = studies.RegionStudy(placed, "Unknown", min_customers=10**6)  # never "too few" here
    assert study.unplaced
    assert "could not be placed" in study.heading().title
    notice = study.notice()
    assert notice.kind == "info" and "compares nothing and advises nothing" in notice.text
    for section in (study.strategy(), study.tier_mix(), study.segment_mix(), study.lifecycle_mix(),
                    study.subregions(), study.churn_risk(), study.category_mix(), study.seasonality()):
        assert section is None
    assert _tables(study.headline())  # the neutral figures stay
    (table,) = _tables(study.unplaced_values())
    frame = table.frame
    assert frame["Customers"].sum() == len(study.customers)  # every customer of the page is accounted for
    assert frame["Revenue"].sum() == pytest.approx(study.customers["monetary"].sum())
    xanadu = frame[frame["Value as typed"].eq("Xanadu")].iloc[0]
    assert xanadu["Customers"] == 2 and xanadu["What happened"] == "not recognised"
    assert xanadu["Config line that places it"] == 'regions.aliases.countries: {"Xanadu": ???}'
    others = frame[frame["Value as typed"].ne("Xanadu")]
    assert others["What happened"].str.startswith("says that no place was given").all()
    assert (others["Config line that places it"] == "–").all()
    # a placed region shows no such section, and its other sections as before
    region = data.customers["region"].value_counts().index[0]
    normal = studies.RegionStudy(data, region, 12)
    assert not normal.unplaced and normal.unplaced_values() is None and normal.strategy() is not None


def test_section_pages_are_checked():
    with pytest.raises(ValueError, match="pages must be"):
        base.section("x", pages="sometimes")


# --------------------------------------------------------------------------- only what is true


def _text(section: render.Section) -> str:
    """The visible text of a section, tags dropped."""
    import html as html_module
    import re

    return html_module.unescape(re.sub(r"<[^>]+>", " ", _html(section)))


def test_a_skipped_churn_model_shows_no_nan_and_no_zero_at_risk(sample):
    _, data = sample
    unscored = data.customers.assign(churn_probability=float("nan"), value_at_risk=float("nan"))
    churn = dataclasses.replace(data.meta.churn, note="the training window has 12 buyers")
    meta = dataclasses.replace(data.meta, churn=churn)
    skipped = dataclasses.replace(data, customers=unscored, meta=meta)
    region = skipped.customers["region"].value_counts().index[0]
    section = studies.RegionStudy(skipped, region, 12).churn_risk()
    text = _text(section)
    assert "NaN" not in text and "nan" not in text.split()
    measures = _tables(section)[0].frame.iloc[:, 0].tolist()
    assert not any("Value at risk" in m or "probability" in m for m in measures)
    assert "The churn model was not fitted" in text and "the training window has 12 buyers" in text
    headline = _text(studies.Overview(skipped, load_config(sample[0].source)).headline())
    assert "not computed: the churn model was not fitted" in headline and "NaN" not in headline


def test_no_nps_answers_give_no_score_of_zero(sample):
    _, data = sample
    unanswered = pd.Series(pd.NA, index=data.customers.index, dtype="str")
    silent = dataclasses.replace(data, customers=data.customers.assign(nps_class=unanswered))
    region = data.customers["region"].value_counts().index[0]
    table = _tables(studies.RegionStudy(silent, region, 12).satisfaction())[0].frame
    rows = table.set_index(table.columns[0])
    assert rows.loc["Customers with an NPS answer"].tolist() == ["0", "0"]
    assert rows.loc["Net promoter score (promoters − detractors)"].tolist() == [render.MISSING] * 2
    assert "+0" not in _text(studies.RegionStudy(silent, region, 12).satisfaction())


def test_every_index_has_its_count_and_small_ones_are_marked(sample):
    _, data = sample
    buyers = data.customers.loc[data.customers["frequency"] > 0, "region"].value_counts()
    region = buyers.loc[buyers >= 12].index[-1]  # the smallest region with a study
    study = studies.RegionStudy(data, region, 12)
    for section in (study.segment_mix(), study.lifecycle_mix(), study.category_mix()):
        for table in _tables(section):
            frame = table.frame
            assert "Customers" in frame.columns and "Index" in frame.columns
            counts = frame["Customers"].astype("int64")
            marked = frame["Index"].astype(str).str.endswith(labels.FEW_MARK)
            assert (marked == (counts < 12) & frame["Index"].ne(render.MISSING)).all()
            if marked.any():
                assert any("fewer than 12 customers" in note for note in _notices(section))


def test_strategy_reasons_say_how_many_customers_they_rest_on(sample):
    _, data = sample
    region = data.customers["region"].value_counts().index[0]
    study = studies.RegionStudy(data, region, 12)
    values, topics = strategy.measures(study.customers, study.orders, study.base, data.orders, data.meta.tiers[0])
    counts = strategy.measure_counts(study.customers, study.orders, topics)
    assert counts["aov_index"] == int((study.customers["frequency"] > 0).sum())
    category = topics["top_category_index"]
    bought = study.orders.loc[study.orders["status"].eq("completed") & study.orders["category"].eq(category)]
    assert counts["top_category_index"] == bought["customer_id"].nunique()
    rule = [r for r in study.rules if r.measure == "top_category_index"][0].model_copy(update={"above": 0.0})
    strong = strategy.recommend(values, topics, [rule], counts=counts, min_customers=1)
    weak = strategy.recommend(values, topics, [rule], counts=counts, min_customers=10**6)
    assert strong["because"].iloc[0].endswith(f"(on {counts['top_category_index']:,} customers)")
    assert "a weak signal" in weak["because"].iloc[0]


def test_lifecycle_stages_are_listed_in_the_order_the_rules_are_checked(sample):
    config, data = sample
    table = _tables(studies.Overview(data, load_config(config.source)).lifecycle())[0].frame
    from custseg.segment import lifecycle

    shown = [stage for stage in lifecycle.PRECEDENCE if labels.stage_label(stage) in set(table.index)]
    assert list(table.index) == [labels.stage_label(stage) for stage in shown]
