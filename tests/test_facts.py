"""Facts, not sentences, between modules: cluster names, warning rules and the value notes are
codes and figures that survive study.json, worded by custseg.words in English exactly as the
outputs said them before, and in Chinese on the pages; nothing in segment or studies reads our own
text back with a regular expression."""

from __future__ import annotations

import ast
import dataclasses
import itertools
import json
from pathlib import Path

import pandas as pd
import pytest

from custseg import i18n, processed, words
from custseg.exports import cluster_names
from custseg.segment.clusters import NAME_Z, NEW_TENURE_Z, cluster_name
from custseg.segment.clusters import _unique_names as unique_names
from custseg.studies import labels

SRC = Path(__file__).resolve().parents[1] / "src" / "custseg"

# --- cluster names ---------------------------------------------------------------------------------

RECENCY = {None: 0.0, "recent": -2 * NAME_Z, "lapsed": 2 * NAME_Z}
FREQUENCY = {None: 0.0, "occasional": -2 * NAME_Z, "frequent": 2 * NAME_Z}
# the spend word, its noun and the z-scores of (monetary, aov) that give it
SPEND = {
    None: ("customers", 0.0, 0.0),
    "high": ("spenders", 3 * NAME_Z, 2 * NAME_Z),
    "low": ("spenders", -3 * NAME_Z, -2 * NAME_Z),
    "big-basket": ("buyers", 2 * NAME_Z, 3 * NAME_Z),
    "small-basket": ("buyers", -2 * NAME_Z, -3 * NAME_Z),
}


def _combinations() -> list[tuple[dict[str, float], list[str]]]:
    """Every name the vocabulary makes: z-scores and the English words the pipeline used to store."""
    found = []
    for recency, frequency, spend in itertools.product(RECENCY, FREQUENCY, SPEND):
        noun, monetary, aov = SPEND[spend]
        z = {"recency_days": RECENCY[recency], "frequency": FREQUENCY[frequency], "monetary": monetary,
             "aov": aov, "tenure_days": 0.0}
        found.append((z, [word for word in (recency, frequency, spend) if word] + [noun]))
    for basket in (None, "big-basket", "small-basket"):  # new customers: recency, frequency and spend say nothing
        noun, monetary, aov = SPEND[basket]
        z = {"recency_days": -3.0, "frequency": 3.0, "monetary": monetary, "aov": aov,
             "tenure_days": NEW_TENURE_Z - 0.5}
        found.append((z, ["new", *([basket] if basket else []), noun]))
    return found


def _english(parts: list[str]) -> str:
    """The name as the pipeline wrote it before the facts (segment.clusters, custseg 0.x)."""
    name = " ".join(parts) if len(parts) > 1 else "average customers"
    return name[0].upper() + name[1:]


@pytest.mark.parametrize(("z", "parts"), _combinations(), ids=lambda v: "-".join(v) if isinstance(v, list) else "")
def test_every_cluster_name_reads_in_english_as_before_and_in_chinese(z, parts):
    fact = cluster_name(pd.Series(z, dtype="float64"))
    assert fact == {"words": parts[:-1] if len(parts) > 1 else [], "noun": parts[-1]}
    assert words.cluster_name(fact) == _english(parts)
    with i18n.language("zh"):
        chinese = words.cluster_name(fact)
    assert chinese and not any(c.isascii() and c.isalpha() for c in chinese), chinese


def test_repeated_names_are_numbered_and_survive_study_json():
    same = {"words": ["lapsed", "occasional", "low"], "noun": "spenders"}
    names = unique_names({1: {"words": [], "noun": "customers"}, 2: dict(same), 3: dict(same), 4: dict(same)})
    assert [name["repeat"] for name in names.values()] == [1, 1, 2, 3]
    meta = processed.StudyMeta(clusters=processed.Clusters(k=4, names={str(k): v for k, v in names.items()}))
    again = processed.StudyMeta.from_dict(json.loads(json.dumps(meta.to_dict())))
    assert again == meta
    said = {key: words.cluster_name(name) for key, name in again.clusters.names.items()}
    assert said == {"1": "Average customers", "2": "Lapsed occasional low spenders",
                    "3": "Lapsed occasional low spenders (2)", "4": "Lapsed occasional low spenders (3)"}
    with i18n.language("zh"):
        assert words.cluster_name(again.clusters.names["4"]) == "沉睡低频低消费客户 (3)"


def test_the_export_names_the_clusters_in_english_in_id_order():
    names = {1: {"words": ["recent", "frequent", "high"], "noun": "spenders", "repeat": 1},
             2: {"words": [], "noun": "customers", "repeat": 1}}
    cluster = pd.Series([2, None, 1, 2], dtype="Int64", index=[10, 11, 12, 13])
    with i18n.language("zh"):  # whatever the run's language
        column = cluster_names(cluster, names)
    assert column.index.tolist() == [10, 11, 12, 13]
    assert column.cat.categories.tolist() == ["Recent frequent high spenders", "Average customers"]
    assert column.astype("object").tolist()[0] == "Average customers" and pd.isna(column.iloc[1])


# --- warning rules and value notes -------------------------------------------------------------------


def test_a_rule_reads_the_same_from_its_json_text_and_decoded():
    figures = {"drop": 0.5, "min_orders": 3}
    text = json.dumps(figures)
    assert words.churn_rule("warn_trend", text) == words.churn_rule("warn_trend", figures) == (
        "orders in the last 90 days at most 0.5 x those of the 90 days before, which held at least 3"
    )
    with i18n.language("zh"):
        chinese = words.churn_rule("warn_trend", text)
    assert "0.5" in chinese and "3" in chinese and not chinese.isascii()


@pytest.mark.parametrize("note", [
    [{"reason": "few_spenders", "spenders": 12, "purchases": "all", "min_repeat_buyers": 100}, {"reason": "own_means"}],
    [{"reason": "gg_no_optimum", "scipy": "ABNORMAL"}, {"reason": "own_means"}],
    [{"reason": "correlation", "r": 0.4512, "purchases": "repeat"}],
])
def test_value_notes_survive_study_json_and_read_in_either_language(note):
    again = json.loads(json.dumps(note))
    english = words.value_note(again)
    assert english == words.value_note(note) and english.isascii()
    with i18n.language("zh"):
        chinese = words.value_note(again)
    assert chinese != english and (len(note) == 1 or "；" in chinese)
    assert "Gamma-Gamma" not in english or "Gamma-Gamma" in chinese
    assert words.value_note("as an older study.json wrote it") == "as an older study.json wrote it"
    assert words.value_note([]) == words.value_note(None) == ""


def test_unknown_codes_are_refused_not_guessed():
    with pytest.raises(ValueError, match="unknown note"):
        words.value_note([{"reason": "mystery"}])
    with pytest.raises(ValueError, match="could not be fitted"):
        words.value_fit_error({"reason": "mystery"})


# --- nothing reads our own text back -----------------------------------------------------------------

#: Where segment and studies may use regular expressions, and why: neither reads our own words.
REGEX_ALLOWED = {
    "studies/plan.py": "a page's file name from a region or tier name of the data (a slug)",
    "segment/_arrays.py": "a column name from an interaction channel of the data (a slug)",
}
#: pandas string methods that take a regular expression.
_PANDAS_PATTERNS = {"extract", "extractall", "match", "fullmatch", "contains", "findall", "count", "split", "rsplit"}


def _pattern_uses(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(alias.name in ("re", "regex") for alias in node.names):
            lines.append(node.lineno)
        elif isinstance(node, ast.ImportFrom) and node.module in ("re", "regex"):
            lines.append(node.lineno)
        elif (isinstance(node, ast.Attribute) and node.attr in _PANDAS_PATTERNS
              and isinstance(node.value, ast.Attribute) and node.value.attr == "str"):
            lines.append(node.lineno)
    return lines


def test_no_regular_expression_in_segment_or_studies_reads_our_own_text():
    found = {}
    for room in ("segment", "studies"):
        for path in sorted((SRC / room).rglob("*.py")):
            key = path.relative_to(SRC).as_posix()
            if key not in REGEX_ALLOWED and _pattern_uses(path):
                found[key] = _pattern_uses(path)
    assert found == {}, "a regular expression or pandas pattern: pass facts instead of parsing words"


# --- on the pages ----------------------------------------------------------------------------------


def _notices(section) -> list[str]:
    from custseg.studies import render

    items = section.items if isinstance(section, render.Section) else section
    return [item.text for item in items if isinstance(item, render.Notice)]


def test_a_chinese_page_words_the_facts_in_chinese(processed_sample):
    from custseg import studies
    from custseg.studies import render
    from custseg.studies.churn import ChurnStudy

    config, data = processed_sample
    note = [{"reason": "gg_no_optimum", "scipy": "ABNORMAL"}, {"reason": "own_means"}]
    value = dataclasses.replace(data.meta.value, note=note)
    study = ChurnStudy(dataclasses.replace(data, meta=dataclasses.replace(data.meta, value=value)), config)
    with i18n.language("zh"):
        notices = _notices(study.customer_value())
        (clusters,) = [item for item in studies.Overview(data, config).clusters().items
                       if isinstance(item, render.Table)]
        expected = set(labels.cluster_labels(data).values())
    said = [text for text in notices if "Gamma-Gamma" in text]
    assert len(said) == 1 and "优化器" in said[0] and "ABNORMAL" in said[0] and "optimizer" not in said[0]
    assert set(clusters.frame["聚类"]) == expected
    assert all(not any(c.isascii() and c.isalpha() for c in name) for name in expected)
    with i18n.language("en"):
        english = _notices(study.customer_value())
    assert any(words.value_note(note) in text for text in english)
