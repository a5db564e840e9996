"""The churn watch in Chinese: every heading, table heading, chart text and data label the page
writes itself is Chinese; what the pipeline wrote (warning reasons, actions) is shown as written."""

from __future__ import annotations

import dataclasses
import re
import string

import pytest

from custseg import i18n, words
from custseg.i18n import _
from custseg.studies import render
from custseg.studies.churn import ChurnStudy

SECTIONS = ("headline", "at_risk", "warning_rules", "backtest", "satisfaction", "customer_value", "value_backtest",
            "watch_list")
CJK = re.compile(r"[\u4e00-\u9fff]")


def _tables(section: render.Section) -> list[render.Table]:
    return [item for item in section.items if isinstance(item, render.Table)]


def _charts(section: render.Section) -> list[render.Chart]:
    return [item for item in section.items if isinstance(item, render.Chart)]


def _texts(section: render.Section) -> list[str]:
    """Every text of a section the page writes itself: heading, lead, captions, table headings,
    chart titles and alt texts, notices."""
    texts = [section.heading, section.lead]
    for item in section.items:
        if isinstance(item, render.Table):
            texts += [item.title, *map(str, item.frame.columns)]
            if item.frame.index.name:
                texts.append(item.frame.index.name)
        elif isinstance(item, render.Chart):
            texts += [item.title, item.alt]
        elif isinstance(item, render.Notice):
            texts.append(item.text)
    return [text for text in texts if text]


def _unfilled(text: str) -> bool:
    """Whether a {placeholder} was left in the text."""
    return any(name for _, name, _, _ in string.Formatter().parse(text))


@pytest.fixture
def zh():
    with i18n.language("zh"):
        yield


def test_every_section_is_chinese(processed_sample, zh):
    config, data = processed_sample
    study = ChurnStudy(data, config)
    heading = study.heading()
    assert CJK.search(heading.title) and CJK.search(heading.subtitle)
    for name in SECTIONS:
        section = getattr(study, name)()
        for text in _texts(section):
            # numbers, ids and technical names (ROC AUC, CLV) may be all of a table heading
            assert CJK.search(text) or not re.search(r"[a-z]{4,}", text), (name, text)
            assert not _unfilled(text), (name, text)
        for chart in _charts(section):
            assert chart.png().startswith(b"\x89PNG")
    html = study.headline()._repr_html_()
    assert "Key figures" not in html and "Measure" not in html


def test_tables_show_chinese_labels(processed_sample, zh):
    config, data = processed_sample
    customers = data.customers
    study = ChurnStudy(data, config)
    regions, tiers = _tables(study.at_risk())
    markets = set(customers["market_zh"].dropna())
    assert set(regions.frame.index) <= markets and CJK.search(regions.frame.index[0])
    assert list(tiers.frame.index) == [
        i18n.label("tier", tier) for tier in data.meta.tiers if tier in set(customers["tier"].dropna().astype(str))
    ]
    assert all(CJK.search(tier) for tier in tiers.frame.index)
    assert regions.frame[_("Customers")].sum() == len(customers)  # the same figures under Chinese headings
    by_score, by_nps = _tables(study.satisfaction())
    classes = [i18n.label("nps", c) for c in ("promoter", "passive", "detractor")]
    assert list(by_nps.frame.index) == [*classes, _("No feedback")]
    assert by_score.frame.index[-1] == _("No feedback") != "No feedback"


def test_watch_list_shows_chinese_names_reasons_and_actions(processed_sample, zh):
    config, data = processed_sample
    section = ChurnStudy(data, config).watch_list()
    (table,) = _tables(section)
    frame = table.frame
    assert _("Segment") in frame.columns and "Segment" not in frame.columns
    assert set(frame[_("Segment")]) <= set(data.customers["segment_zh"].astype(str))
    assert set(frame[_("Region")]) <= set(data.customers["market_zh"].astype(str))
    watch = data.tables["watch_list"].sort_values("rank").head(len(frame))
    # the pipeline keeps reasons as facts and actions in English; the page words both in Chinese
    shown = frame[_("Warnings")].tolist()
    assert shown == [
        words.churn_reasons(reason) or _("none: churn probability at or above the expected rate")
        for reason in watch["reasons"]
    ]
    assert all(CJK.search(text) and not re.search(r"[a-z]{3,}", text) for text in shown)
    assert frame[_("Recommended action")].tolist() == [_(action) for action in watch["action"]]
    assert all(CJK.search(text) for text in frame[_("Recommended action")])


def test_rules_are_written_in_chinese_from_the_config_that_made_them(processed_sample, zh):
    config, data = processed_sample
    (table,) = _tables(ChurnStudy(data, config).warning_rules())
    fires = table.frame[_("Fires when")].tolist()
    assert all(CJK.search(text) for text in fires)
    assert str(config.churn.silence_min_days) in fires[0]
    # the figures are the pipeline's, not the config's: the page never contradicts the data
    other = config.model_copy(update={"churn": config.churn.model_copy(update={"silence_min_days": 999})})
    (table,) = _tables(ChurnStudy(data, other).warning_rules())
    assert table.frame[_("Fires when")].tolist() == fires
    # the table of an older custseg held English sentences: shown as written
    rules = data.tables["churn_rules"].drop(columns="figures").assign(fires_when="silent for a long time")
    older = dataclasses.replace(data, tables={**data.tables, "churn_rules": rules})
    (table,) = _tables(ChurnStudy(older, config).warning_rules())
    assert table.frame[_("Fires when")].tolist() == rules["fires_when"].tolist()


def test_backtest_names_models_and_populations_in_chinese(processed_sample, zh):
    config, data = processed_sample
    section = ChurnStudy(data, config).backtest()
    tables = _tables(section)
    assert all(CJK.search(table.title) for table in tables)
    assert _("buyers not yet lost") in tables[0].title or _("all buyers") in tables[0].title
    notices = [item.text for item in section.items if isinstance(item, render.Notice)]
    names = (_("Logistic regression"), _("Gradient boosting"), _("Recency only (baseline)"))
    assert any(name in text for text in notices for name in names)
    assert not any("validation ROC AUC" in text for text in notices)
    calibration, importance = _charts(section)
    assert CJK.search(calibration.alt) and CJK.search(importance.title)



def test_value_warnings_are_chinese(processed_sample, zh):
    from test_churn_study import VALUE_WARNINGS

    config, data = processed_sample
    meta = dataclasses.replace(data.meta, value=dataclasses.replace(data.meta.value, warnings=VALUE_WARNINGS))
    study = ChurnStudy(dataclasses.replace(data, meta=meta), config)
    for section in (study.headline(), study.customer_value(), study.value_backtest()):
        for text in _texts(section):
            assert CJK.search(text) or not re.search(r"[a-z]{4,}", text), text
            assert not _unfilled(text), text
    warned = [
        item.text for item in study.customer_value().items if isinstance(item, render.Notice) and item.kind == "warning"
    ]
    assert len(warned) == 5 and all(CJK.search(text) for text in warned)
    assert "六月" in warned[3] and "182" in warned[2] and "-27.0%" in warned[4]
