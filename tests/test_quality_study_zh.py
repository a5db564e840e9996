"""The data-quality page in Chinese: its own texts, the meanings of the quarantine reasons, months
and market names are Chinese; reason codes and what intake wrote stay as written."""

from __future__ import annotations

import re

import pandas as pd

from custseg import geo, i18n
from custseg.config import load_config
from custseg.i18n import _
from custseg.intake import quality
from custseg.intake.validation import REASONS
from custseg.pipeline import run
from custseg.studies import render
from custseg.studies.quality import QualityStudy

CJK = re.compile(r"[\u4e00-\u9fff]")

def _sections(study: QualityStudy) -> list:
    return [
        study.accounting(), study.quarantine(), study.missing_values(), study.date_coverage(), study.region_coverage()
    ]


def test_orders_only_page_in_chinese(messy_orders, write_config):
    config = load_config(write_config({"orders": str(messy_orders)}))
    run(config, echo=lambda *_: None)
    with i18n.language("en"):  # from_config sets the language for what follows; the block restores it
        study = QualityStudy.from_config(config, "zh")
        assert i18n.current() == "zh"
        heading, intro = study.heading(), study.introduction()
        sections = _sections(study)
        html = "".join(item._repr_html_() for item in (heading, intro, *sections))
        headings = [section.heading for section in sections if isinstance(section, render.Section)]
        counts, examples = [item for item in sections[1].items if isinstance(item, render.Table)]
    assert i18n.current() == "en"
    assert CJK.search(heading.title) and CJK.search(intro.text) and intro.kind == "info"
    assert len(headings) == 5 and all(CJK.search(text) for text in headings)
    assert "Rows read and where they went" not in html and "Quarantined rows" not in html
    assert "2025年2月" in html and "February" not in html  # the gap between January and March
    assert "&lt;i&gt;x&lt;/i&gt;" in html and "<i>x" not in html
    # codes stay as intake wrote them; their meanings are translated
    with i18n.language("zh"):
        reason, meaning = _("Reason"), _("What it means")
        expected = {code: _(text) for code, text in REASONS.items()}
    assert reason != "Reason" and set(counts.frame[reason]) <= set(REASONS)
    assert counts.frame[meaning].tolist() == [expected[code] for code in counts.frame[reason]]
    assert all(CJK.search(text) for text in counts.frame[meaning])
    assert set(examples.frame[reason]) <= set(REASONS)


def test_english_page_is_unchanged_by_the_language_switch(messy_orders, write_config):
    config = load_config(write_config({"orders": str(messy_orders)}))
    run(config, echo=lambda *_: None)
    with i18n.language("en"):
        study = QualityStudy.from_config(config)  # the config's language: English
        html = "".join(section._repr_html_() for section in _sections(study))
        intro = study.introduction().text
    assert intro.startswith("This page shows how the input files were read and cleaned")
    assert "Rows read and where they went" in html and "February 2025" in html


def test_markets_and_values_in_chinese():
    raw = pd.DataFrame({
        "country": ["中国", "China", "USA", "unknown", ""],
        "province": ["广东省", "Atlantis", "CA", "", ""],
    })
    customers = geo.normalize_regions(raw)
    quarantine = pd.DataFrame(
        [("orders", "o.csv", 7, "missing_id", "customer_id", "", "customer_id: a required id is empty")],
        columns=quality.QUARANTINE_COLUMNS,
    )
    data = quality.QualityData(
        accounting=pd.DataFrame({"table": ["orders"], "file": ["o.csv"], "rows_read": [2], "clean": [1],
                                 "quarantined": [1], "duplicates_removed": [0], "delimiter": ["tab"]}),
        quarantine=quarantine, columns=None, dates={}, customers=customers,
        meta={"title": "T", "observation_date": "2025-12-31"},
    )
    with i18n.language("zh"):
        study = QualityStudy(data)
        summary, markets, unplaced = [item for item in study.region_coverage().items if isinstance(item, render.Table)]
        market = _("Market")
        value = _("Value as typed")
        examples = [item for item in study.quarantine().items if isinstance(item, render.Table)][1].frame
        detail = _("Detail")
        accounting = study.accounting()._repr_html_()
        delimiter = _("tab")
    zh_names = {m.name: m.name_zh for m in geo.MARKETS}
    assert set(markets.frame[market]) <= set(zh_names.values()) and "Unknown" not in set(markets.frame[market])
    assert any(zh_names[geo.UNKNOWN] in text for text in summary.frame.iloc[:, 0])
    assert set(unplaced.frame[value]) == {"unknown", "Atlantis"}  # values as typed stay as typed
    assert examples[detail].tolist() == ["customer_id: a required id is empty"]  # as intake wrote it
    assert CJK.search(examples.iloc[0, 5])  # "(empty)" in Chinese
    assert delimiter != "tab" and delimiter in accounting
