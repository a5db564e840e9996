"""The churn watch study on real processed data: a generated sample run through the pipeline, and a
tiny orders-only study too short for the churn model."""

from __future__ import annotations

import base64
import dataclasses
import io
import re

import numpy as np
import pandas as pd
import pytest

from custseg import processed, words
from custseg.segment import churn, retention
from custseg.studies import render
from custseg.studies.churn import CANDIDATE_NAMES, WATCH_ROWS, ChurnStudy

SECTIONS = ("headline", "at_risk", "warning_rules", "backtest", "satisfaction", "customer_value", "value_backtest",
            "watch_list")


@pytest.fixture
def sample(processed_sample):
    return processed_sample


@pytest.fixture
def tiny(processed_tiny):
    return processed_tiny


def _tables(section: render.Section) -> list[render.Table]:
    return [item for item in section.items if isinstance(item, render.Table)]


def _charts(section: render.Section) -> list[render.Chart]:
    return [item for item in section.items if isinstance(item, render.Chart)]


def _notices(section: render.Section) -> list[str]:
    return [item.text for item in section.items if isinstance(item, render.Notice)]


def _not_lost(config, customers: pd.DataFrame) -> pd.DataFrame:
    silent = customers["recency_days"].astype("float64")
    return customers.loc[customers["frequency"].gt(0) & silent.le(config.churn.lost_after_days)]


def test_every_section_renders_with_content(sample, tiny):
    for config, data in (sample, tiny):
        study = ChurnStudy(data, config)
        assert "churn watch" in study.heading()._repr_html_()
        for name in SECTIONS:
            section = getattr(study, name)()
            assert isinstance(section, render.Section), name
            assert section.items, name
            for chart in _charts(section):
                assert chart.title and len(chart.alt) > 40
                assert chart.png().startswith(b"\x89PNG")
            assert section._repr_html_().startswith("<section")


def test_the_sample_is_scored(sample):
    # the other tests read the backtest tables: make sure the sample is large enough to have them
    _, data = sample
    assert data.meta.churn.chosen in CANDIDATE_NAMES
    assert data.customers.loc[data.customers["frequency"].gt(0), "churn_probability"].notna().all()
    assert {"churn_metrics", "churn_calibration", "churn_importance", "churn_rules", "watch_list"} <= set(data.tables)


def test_region_and_tier_totals_add_up_to_the_customer_table(sample):
    config, data = sample
    customers = data.customers
    regions, tiers = _tables(ChurnStudy(data, config).at_risk())
    for table in (regions, tiers):
        frame = table.frame
        assert frame["Customers"].sum() == len(customers)
        assert frame["With warnings"].sum() == customers["warning_count"].gt(0).sum()
        assert frame["Value at risk"].sum() == pytest.approx(customers["value_at_risk"].sum())
        assert frame["Share of value at risk"].sum() == pytest.approx(1.0)
    assert regions.frame["Value at risk"].is_monotonic_decreasing
    assert list(tiers.frame.index) == [t for t in data.meta.tiers if t in set(customers["tier"].dropna().astype(str))]
    # the mean churn probability leaves the lost customers out
    region = regions.frame.index[0]
    reachable = _not_lost(config, customers)
    expected = reachable.loc[reachable["region"].eq(region), "churn_probability"].mean()
    assert regions.frame.loc[region, "Mean churn probability"] == pytest.approx(expected)


def test_region_chart_shows_value_at_risk(sample):
    config, data = sample
    section = ChurnStudy(data, config).at_risk()
    (chart,) = _charts(section)
    top = _tables(section)[0].frame.index[0]
    assert f": {top} has the most" in chart.alt


def test_headline_counts_expected_churners_among_buyers_not_lost(sample):
    config, data = sample
    (table,) = _tables(ChurnStudy(data, config).headline())
    rows = table.frame.set_index("Measure")["Value"]
    reachable = _not_lost(config, data.customers)
    expected = reachable["churn_probability"].sum()
    churners = rows[rows.index.str.startswith("Expected churners")].iloc[0]
    assert churners.startswith(f"{round(expected):,} (")
    assert rows["Customers on the watch list"] == f"{len(data.tables['watch_list']):,}"
    share = data.customers["value_at_risk"].sum() / data.customers["value"].sum()
    assert rows["Value at risk (value x churn probability)"].endswith(f"({render.percent(share)})")


def test_backtest_marks_the_chosen_candidate_against_the_baseline(sample):
    config, data = sample
    section = ChurnStudy(data, config).backtest()
    tables = _tables(section)
    assert len(tables) == 2  # the population the choice was made on, then all buyers
    chosen = CANDIDATE_NAMES[data.meta.churn.chosen]
    for table in tables:
        marked = table.frame.loc[table.frame["Chosen"].ne(""), "Candidate"].tolist()
        assert marked == [chosen]
        assert CANDIDATE_NAMES[churn.BASELINE] in set(table.frame["Candidate"])
    judged = churn.POPULATIONS[data.meta.churn.choice["population"]]
    assert tables[0].title.startswith(f"Backtest on {judged} (the model was chosen on these)")
    metrics = data.tables["churn_metrics"]
    population = {words: key for key, words in churn.POPULATIONS.items()}[judged]
    row = metrics.loc[metrics["population"].eq(population) & metrics["chosen"]].iloc[0]
    assert tables[0].frame["Top-decile lift"].max() >= row["top_decile_lift"]
    assert any(f"{row['top_decile_lift']:.2f} times the base rate" in text for text in _notices(section))
    calibration, importance = _charts(section)
    assert chosen.lower() in calibration.alt and "diagonal" in calibration.alt
    top = data.tables["churn_importance"].sort_values("importance_mean", ascending=False)
    assert f"({top['importance_mean'].iloc[0]:.3f})" in importance.alt


def test_churn_tables_absent_gives_notices_not_charts(sample):
    config, data = sample
    study = ChurnStudy(dataclasses.replace(data, tables={}), config)
    for name in ("backtest", "warning_rules", "watch_list"):
        section = getattr(study, name)()
        assert _charts(section) == [] and _tables(section) == [], name
        assert "process --force" in _notices(section)[0]
    # calibration alone missing: the rest of the backtest still shows, with a notice in its place
    tables = {name: frame for name, frame in data.tables.items() if name != "churn_calibration"}
    section = ChurnStudy(dataclasses.replace(data, tables=tables), config).backtest()
    assert len(_charts(section)) == 1
    assert any("no calibration table" in text for text in _notices(section))


def test_warning_rules_count_the_flagged_customers(sample):
    config, data = sample
    (table,) = _tables(ChurnStudy(data, config).warning_rules())
    reachable = _not_lost(config, data.customers)
    assert table.frame["Customers flagged"].tolist() == [int(reachable[rule].sum()) for rule in churn.RULES]
    rules = churn.rule_table(config.churn)
    assert table.frame["Fires when"].tolist() == [words.churn_rule(*row) for row in rules.itertuples(index=False)]
    assert "x own cadence" in table.frame["Fires when"][0]


def test_satisfaction_by_score_counts_buyers_not_lost(sample):
    config, data = sample
    section = ChurnStudy(data, config).satisfaction()
    by_score, by_nps = _tables(section)
    reachable = _not_lost(config, data.customers)
    for table in (by_score, by_nps):
        assert table.frame["Buyers not yet lost"].sum() == len(reachable)
    low = reachable.loc[reachable["satisfaction_latest"].eq(1.0)]
    if len(low):
        assert by_score.frame.loc["1", "Mean churn probability"] == pytest.approx(low["churn_probability"].mean())
    assert by_score.frame.index[-1] == "No feedback"
    assert len(_charts(section)) == 1


def test_satisfaction_without_feedback_is_a_notice(sample, tiny):
    config, data = sample
    meta = dataclasses.replace(data.meta, inputs=[name for name in data.meta.inputs if name != "feedback"])
    section = ChurnStudy(dataclasses.replace(data, meta=meta), config).satisfaction()
    assert _tables(section) == [] and _charts(section) == []
    assert "no feedback table (inputs.feedback)" in _notices(section)[0]
    assert "no feedback table" in _notices(ChurnStudy(tiny[1], tiny[0]).satisfaction())[0]


def test_customer_value_counts_one_time_buyers_apart(sample):
    config, data = sample
    section = ChurnStudy(data, config).customer_value()
    buyers = data.customers.loc[data.customers["frequency"].gt(0)]
    once = int(buyers["one_time_buyer"].sum())
    assert any(text.startswith(f"{once:,} one-time buyers") for text in _notices(section))
    (histogram,) = _charts(section)
    repeat = buyers.loc[~buyers["one_time_buyer"], "p_alive"].notna().sum()
    assert histogram.title == f"P(alive) of {repeat:,} repeat buyers"
    (table,) = _tables(section)
    assert table.frame["Total CLV"].sum() == pytest.approx(buyers["clv"].sum())
    assert table.frame["Buyers"].sum() == len(buyers)


def test_customer_value_says_how_many_watched_repeat_buyers_the_value_model_thinks_alive(sample):
    config, data = sample
    section = ChurnStudy(data, config).customer_value()
    # counted here from the processed tables: repeat buyers on the watch list, and those of them with P(alive) >= 0.5
    buyers = data.customers.loc[data.customers["frequency"].gt(0) & ~data.customers["one_time_buyer"].astype(bool)]
    on_list = buyers["customer_id"].isin(data.table("watch_list")["customer_id"])
    watched = buyers.loc[on_list & buyers["p_alive"].notna()]
    alive = int((watched["p_alive"] >= 0.5).sum())
    assert 0 < alive <= len(watched)
    said = [text for text in _notices(section) if "on the watch list" in text]
    assert said == [said[0]] and said[0].startswith(
        f"{alive:,} of the {len(watched):,} repeat buyers on the watch list still have a P(alive) of 50.0% or more.")


def test_value_backtest_shows_predicted_against_actual_per_tier_and_frequency(sample):
    config, data = sample
    groups = data.tables["value_backtest"]
    backtest = data.meta.value.backtest
    section = ChurnStudy(data, config).value_backtest()
    by_tier, by_frequency, tried = _tables(section)
    assert by_tier.frame.index.name == f"Tier on {backtest['cutoff']}"
    rows = groups.loc[groups["kind"].isin(["all", "tier"])]
    assert by_tier.frame["Actual revenue"].tolist() == pytest.approx(rows["actual_revenue"].tolist())
    assert by_tier.frame["Predicted ÷ actual revenue"].tolist() == pytest.approx(
        (rows["predicted_revenue"] / rows["actual_revenue"]).tolist())
    assert by_frequency.frame.index.tolist() == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    frequency = groups.loc[groups["kind"].eq("frequency")]
    assert by_frequency.frame["Mean actual purchases"].tolist() == pytest.approx(
        (frequency["actual_purchases"] / frequency["customers"]).tolist())
    assert len(tried.frame) == 8 and (tried.frame["Used"] == "yes").sum() == 1
    # each candidate is named as it priced orders: Gamma-Gamma, or the customers' own means
    candidates = data.tables["value_candidates"]
    for name, priced in zip(tried.frame.index, candidates["order_values"]):
        assert ("own mean order values" in name) == (priced == "observed_mean"), name
    notices = _notices(section)
    assert f"purchases before {backtest['cutoff']}" in notices[0] and f"{backtest['days']:,} days" in notices[0]
    assert notices[1].startswith("Used: ") and "chosen among 8 candidates" in notices[1]
    # beside the CLV of each tier, how far that tier's prediction held in the backtest
    (clv_table,) = _tables(ChurnStudy(data, config).customer_value())
    column = f"Backtest: predicted ÷ actual revenue over {backtest['days']} days (tiers as on {backtest['cutoff']})"
    tiers = groups.loc[groups["kind"].eq("tier")].set_index("group")
    expected = [
        tiers.loc[t, "predicted_revenue"] / tiers.loc[t, "actual_revenue"] for t in data.meta.tiers if t in tiers.index
    ]
    assert clv_table.frame[column].tolist() == pytest.approx(expected)


#: One warning of each value reason, as custseg.segment.value_backtest.warnings records them.
VALUE_WARNINGS = [
    {"reason": "degenerate_fit", "model": "bgnbd", "parameters": {"a": 1.66e-6, "b": 59211.0}, "range": [1e-4, 1e4]},
    {"reason": "p_alive_near_one", "share": 0.987, "p_alive": 0.99, "min_share": 0.9, "repeat_buyers": 1417},
    {"reason": "short_history", "history_days": 182, "horizon_days": 192, "backtest_days": 91, "max_error": 0.2},
    {"reason": "unseen_months", "months": [6, 7, 8, 9, 10, 11], "horizon_months": 7},
    {"reason": "backtest_error", "scope": "tier", "group": "high", "error": -0.27, "max_error": 0.2, "days": 91},
]


def test_value_warnings_stand_next_to_the_numbers_they_qualify(sample):
    config, data = sample
    meta = dataclasses.replace(data.meta, value=dataclasses.replace(data.meta.value, warnings=VALUE_WARNINGS))
    study = ChurnStudy(dataclasses.replace(data, meta=meta), config)
    section = study.customer_value()
    kinds = [type(item).__name__ for item in section.items]
    texts = [getattr(item, "text", "") for item in section.items]
    chart, table = kinds.index("Chart"), kinds.index("Table")
    # what P(alive) is worth, right under its chart
    assert texts[chart + 1].startswith("The BG/NBD fit is degenerate: a = 1.7e-06, b = 59,211 lie outside 0.0001 to "
                                       "10,000")
    assert texts[chart + 2].startswith("P(alive) is at least 99% for 98.7% of the 1,417 repeat buyers")
    # how far the value reaches, right under the value by tier
    after = texts[table + 1: table + 4]
    assert after[0].startswith("The history behind the customer value is 182 days, shorter than twice the 192-day")
    assert "backtest could check only 91 days ahead" in after[0] and "within 20%" in after[0]
    assert after[1].startswith("6 of the 7 calendar months of the value horizon (June, July, August, September, "
                               "October, November)")
    assert after[2].startswith("In the backtest the high tier's predicted revenue was -27.0% off")
    assert all(section.items[i].kind == "warning" for i in (chart + 1, chart + 2, table + 1, table + 2, table + 3))
    # the key figures name them all in one sentence
    (said,) = [text for text in _notices(study.headline()) if text.startswith("Read the customer value with care")]
    assert "a degenerate model fit" in said and "6 months of the horizon never seen" in said
    assert "-27.0% for the high tier" in said


def test_an_observed_stand_in_value_is_labelled_where_it_is_shown(tiny):
    config, data = tiny
    assert data.meta.value.fitted is False and data.meta.value.kind == "net_spend"
    study = ChurnStudy(data, config)
    assert any(text.startswith("Value here means net spend in the 365 days before the observation date")
               for text in _notices(study.headline()))
    (table,) = _tables(study.customer_value())
    assert table.title == (
        "Value by value tier: net spend in the last 365 days (observed, the value models were not fitted)"
    )
    buyers = data.customers.loc[data.customers["frequency"].gt(0)]
    assert table.frame["Net spend, last 365 days"].sum() == pytest.approx(buyers["value"].sum())
    assert "nothing to backtest" in _notices(study.value_backtest())[0]
    assert not any("history behind" in text for text in _notices(study.customer_value()))


def test_the_watch_list_says_what_its_value_is(sample):
    config, data = sample
    said = _notices(ChurnStudy(data, config).watch_list())
    assert "Value in this list means expected revenue over the next 365 days, discounted at 10% a year" in said[1]
    error = {"reason": "few_repeat_buyers", "repeat_buyers": 3, "customers": 40, "min_repeat_buyers": 100}
    stand_in = processed.ValueSummary(basis=retention.value_basis(config.value, None, error), fitted=False,
                                      kind="net_spend", days=365, error=error)
    study = ChurnStudy(dataclasses.replace(data, meta=dataclasses.replace(data.meta, value=stand_in)), config)
    assert _notices(study.watch_list())[1].startswith(
        "Value in this list means net spend in the 365 days before the observation date, as recorded (observed")
    # and where value at risk is summed by region and tier, too
    assert _notices(study.at_risk())[-1].startswith("Value here means net spend in the 365 days before")
    assert not any(text.startswith("Value here means") for text in _notices(ChurnStudy(data, config).at_risk()))


def test_watch_list_has_no_personal_columns_and_at_most_25_rows(sample):
    config, data = sample
    watch = data.tables["watch_list"]
    # a watch list that carries contact details must still not show them
    personal = watch.assign(name="Zhang San", email="z@example.com", phone="13800000000")
    study = ChurnStudy(dataclasses.replace(data, tables={**data.tables, "watch_list": personal}), config)
    section = study.watch_list()
    (table,) = _tables(section)
    columns = " ".join(table.frame.columns).lower()
    assert not any(word in columns for word in ("name", "mail", "phone"))
    assert "Zhang San" not in section._repr_html_()
    assert len(table.frame) == min(WATCH_ROWS, len(watch)) <= WATCH_ROWS
    assert table.frame["Customer"].tolist() == watch.sort_values("rank")["customer_id"].head(WATCH_ROWS).tolist()
    assert f"full list of {len(watch):,} customers" in _notices(section)[0]


def test_watch_list_downloads_the_whole_list_from_the_page(sample):
    # the page shows the top rows; its CSV download (a data: link in the page, no path on anyone's
    # disk) holds every customer on the list, in rank order, with the numbers unformatted
    config, data = sample
    watch = data.tables["watch_list"].sort_values("rank")
    assert len(watch) > WATCH_ROWS
    section = ChurnStudy(data, config).watch_list()
    (table,) = _tables(section)
    page = section._repr_html_()
    link = re.search(r'href="data:text/csv;charset=utf-8;base64,([^"]+)" download="([^"]+)"', page)
    content = base64.b64decode(link.group(1)).decode("utf-8")
    assert content.startswith("\ufeff") and link.group(2).endswith(".csv")
    csv = pd.read_csv(io.StringIO(content[1:]), dtype={"Customer": str})
    assert csv["Customer"].tolist() == watch["customer_id"].tolist()
    assert csv["Rank"].tolist() == watch["rank"].tolist()
    assert np.allclose(csv["Value at risk"], watch["value_at_risk"], equal_nan=True)
    assert list(csv.columns) == list(table.frame.columns)
    assert f"Download CSV ({len(watch):,} rows)" in page
    assert "churn_watchlist.csv" not in page and "exports/" not in page


def test_skipped_model_is_said_in_words(tiny):
    config, data = tiny
    note = words.churn_model_note(data.meta.churn.note)
    assert data.meta.churn.note["reason"] == "no_history"  # two months of orders are far too few
    assert note.startswith("the churn model needs orders from ")
    study = ChurnStudy(data, config)
    assert any(note in text for text in _notices(study.headline()))
    assert _charts(study.at_risk()) == []
    assert note in _notices(study.backtest())[0]
    regions = _tables(study.at_risk())[0].frame
    assert regions["Customers"].sum() == len(data.customers)


def test_customer_table_without_risk_columns_is_a_notice(sample):
    # processed data written before custseg.segment.retention existed
    config, data = sample
    old = data.customers.drop(columns=["churn_probability", "value", "value_at_risk"])
    study = ChurnStudy(dataclasses.replace(data, customers=old), config)
    for name in ("headline", "at_risk", "satisfaction", "customer_value"):
        section = getattr(study, name)()
        assert _tables(section) == [] and "churn_probability" in _notices(section)[0], name


def test_watch_list_ids_are_masked_when_the_config_asks(sample):
    config, data = sample
    masked = dataclasses.replace(data, meta=dataclasses.replace(data.meta, mask_ids=True))
    shown = _tables(ChurnStudy(masked, config).watch_list())[0].frame["Customer"]
    assert shown.str.contains("•••").all() and not shown.isin(data.customers["customer_id"]).any()


def test_populations_are_named_as_the_pipeline_names_them():
    # the page names the backtest populations itself, to translate them; in English they must be
    # churn.POPULATIONS exactly (the choice sentence ends with one)
    from custseg.studies.churn_labels import population_label

    assert {key: population_label(key) for key in churn.POPULATIONS} == churn.POPULATIONS


_WARNINGS = [
    {"reason": "no_validation", "history_days": 182, "needed_days": 210},
    {"reason": "short_history", "history_days": 150, "horizon_days": 90},
    {"reason": "season_not_observed", "window_start": "2010-06-01", "window_end": "2010-08-29",
     "history_start": "2009-12-01", "lowest_rate": 0.3695, "lowest_date": "2010-01-02", "highest_rate": 0.385,
     "highest_date": "2010-03-03", "dates": 3},
    {"reason": "rate_error", "points": -8.4, "limit_points": 5.0, "date": "2010-03-03"},
]


@pytest.mark.parametrize("language", ["en", "zh"])
def test_churn_warnings_are_sentences_next_to_the_figures_they_qualify(sample, language):
    from custseg import i18n, studies

    config, data = sample
    meta = dataclasses.replace(data.meta, churn=dataclasses.replace(data.meta.churn, warnings=_WARNINGS))
    warned = dataclasses.replace(data, meta=meta)
    with i18n.language(language):
        texts = _notices(ChurnStudy(warned, config).headline())
        region = warned.customers["region"].value_counts().index[0]
        region_texts = _notices(studies.RegionStudy(warned, region, 12).churn_risk())
    words = {"en": ("out-of-time check", "2010-06-01", "37.0%", "38.5%", "-8.4", "5.0", "150"),
             "zh": ("跨时间检验", "2010-06-01", "37.0%", "38.5%", "-8.4", "5.0", "150")}[language]
    joined = " ".join(texts)
    for word in words:
        assert word in joined, word
    assert sum(any(key in text for key in ("2010-06-01", "182", "150", "-8.4")) for text in texts) >= 4
    assert " ".join(region_texts).count("2010-06-01") == 1  # and on every region and tier page
