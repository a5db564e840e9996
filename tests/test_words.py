"""Facts, not sentences, between modules: what segment hands on is a code and its figures, the
words are made by custseg.words where they are shown (English in the exports, exactly as before;
Chinese on a Chinese page), and no regular expression reads our own text back."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from custseg import files, i18n, words
from custseg.config import Churn
from custseg.exports import watch_list_export
from custseg.paths import PACKAGE_DIR
from custseg.segment.churn import warnings

DEFAULTS = Churn()
CJK = re.compile(r"[\u4e00-\u9fff]")


def _random_customers(n: int, seed: int = 7) -> pd.DataFrame:
    """Buyers with every kind of figure: whole and fractional cadences, missing ones, ties at the
    rules' edges, tiers with and without their own silence limit."""
    rng = np.random.default_rng(seed)
    cadence = rng.choice([np.nan, 1.0, 7.5, 30.0, 33.333, 49.95, 120.25], n)
    return pd.DataFrame({
        "customer_id": pd.array([f"C{i:05d}" for i in range(n)], dtype="str"),
        "frequency": rng.integers(1, 9, n),
        "recency_days": pd.array(rng.integers(0, 400, n), dtype="Int64"),
        "cadence_days": cadence,
        "tier": rng.choice(["high", "mid", "low", "vip", None], n),
        "orders_90d": rng.integers(0, 4, n),
        "orders_prev_90d": rng.integers(0, 9, n),
        "satisfaction_latest": rng.choice([np.nan, 1.0, 1.5, 2.0, 3.25, 4.0], n),
        "satisfaction_trend": rng.choice([np.nan, -2.25, -1.05, -0.95, 0.0, 0.5], n),
        "interactions_90d": rng.integers(0, 4, n),
        "interactions_365d": rng.integers(0, 30, n),
    })


def _old_text(values: np.ndarray, decimals: int = 0) -> np.ndarray:
    """How the reasons' numbers were written when the reasons were text (custseg before facts)."""
    rounded = np.round(np.asarray(values, dtype="float64"), decimals)
    shown = (np.where(np.isnan(rounded), 0.0, rounded).astype(np.int64).astype(str) if decimals == 0
             else rounded.astype(str))
    return pd.Series(shown, dtype="object").str.removesuffix(".0").to_numpy(dtype=object)


def _old_reasons(customers: pd.DataFrame, settings: Churn) -> list[str]:
    """The reasons text as churn.warnings wrote it before facts, for the rows that have warnings:
    the words the watch-list export has always held (the same rules, its own text code)."""
    s = settings
    flags = warnings(customers, settings)
    silent = customers["recency_days"].to_numpy(dtype="float64", na_value=np.nan)
    frequency = customers["frequency"].to_numpy(dtype="float64")
    cadence = np.maximum(customers["cadence_days"].to_numpy(dtype="float64"), 1.0)
    trusted = (frequency >= s.min_orders_for_cadence) & ~np.isnan(cadence)
    tier = customers["tier"].astype("object")
    limit = tier.map(s.silence_days_by_tier).astype("float64").fillna(s.silence_days).to_numpy()
    has_limit = tier.isin(list(s.silence_days_by_tier)).to_numpy()
    recent, before = customers["orders_90d"].to_numpy(float), customers["orders_prev_90d"].to_numpy(float)
    latest, change = customers["satisfaction_latest"].to_numpy(), customers["satisfaction_trend"].to_numpy()
    contacts = customers["interactions_90d"].to_numpy(float)
    earlier = (customers["interactions_365d"].to_numpy(float) - contacts) * 90 / 275
    out = []
    for i in range(len(customers)):
        parts = []
        if flags["warn_silence"].iloc[i]:
            if trusted[i]:
                parts.append(f"silent {_old_text([silent[i]])[0]} days, {_old_text([silent[i] / cadence[i]], 1)[0]}x "
                             f"own cadence of {_old_text([cadence[i]])[0]} days")
            else:
                whom = f"{tier.iloc[i]}-tier " if has_limit[i] else ""
                rest = ("customers whose orders all fell on one day" if frequency[i] >= s.min_orders_for_cadence
                        else f"customers with fewer than {s.min_orders_for_cadence} orders")
                parts.append(f"silent {_old_text([silent[i]])[0]} days, over the {_old_text([limit[i]])[0]}-day "
                             f"limit for {whom}{rest}")
        if flags["warn_trend"].iloc[i]:
            parts.append(f"orders in the last 90 days {_old_text([recent[i]])[0]} vs {_old_text([before[i]])[0]} "
                         f"in the 90 days before")
        if flags["warn_satisfaction"].iloc[i]:
            fell = change[i] <= -s.satisfaction_drop
            parts.append(f"latest satisfaction {_old_text([latest[i]], 1)[0]}/5"
                         + (f", {_old_text([-change[i]], 1)[0]} below the earlier average" if fell else ""))
        if flags["warn_interactions"].iloc[i]:
            parts.append(f"contacts in the last 90 days {_old_text([contacts[i]])[0]} vs "
                         f"{_old_text([earlier[i]], 1)[0]} per 90 days before")
        out.append("; ".join(parts))
    return out


def test_english_words_of_the_reasons_are_the_text_of_before():
    customers = _random_customers(3000)
    facts = warnings(customers, DEFAULTS)["reasons"]
    said = [words.churn_reasons(reasons) for reasons in facts]
    assert said == _old_reasons(customers, DEFAULTS)
    assert sum(bool(text) for text in said) > 1000  # most forms, many times
    codes = {reason["reason"] for reasons in facts for reason in reasons}
    assert codes == {"silence", "silence_limit", "trend", "satisfaction", "interactions"}


def test_reasons_are_facts_that_survive_parquet(tmp_path):
    customers = _random_customers(500, seed=3)
    facts = warnings(customers, DEFAULTS)[["customer_id", "warning_count", "reasons"]]
    first = next(reasons for reasons in facts["reasons"] if len(reasons) >= 2)
    assert all(set(reason) >= {"reason", "days", "tier", "score"} for reason in first)
    back = pd.read_parquet(files.write_parquet(facts, tmp_path / "facts.parquet"))
    assert [len(reasons) for reasons in back["reasons"]] == facts["warning_count"].tolist()
    for before, after in zip(facts["reasons"], back["reasons"]):
        assert [dict(reason) for reason in after] == before
        assert words.churn_reasons(after) == words.churn_reasons(before)


def test_the_export_words_reasons_in_english_whatever_the_language():
    customers = _random_customers(200, seed=5)
    facts = warnings(customers, DEFAULTS)
    watch = facts[["customer_id", "reasons"]]
    with i18n.language("zh"):
        exported = watch_list_export(watch)
        chinese = [words.churn_reasons(reasons) for reasons in watch["reasons"]]
    assert exported["reasons"].tolist() == _old_reasons(customers, DEFAULTS)
    assert all(CJK.search(text) for text in chinese if text)
    assert isinstance(watch["reasons"].iloc[0], list)  # the input keeps its facts


CHOICE = {"candidate": "gradient_boosting", "roc_auc": 0.7472, "population": "not_lost",
          "others": [{"candidate": "logistic", "roc_auc": 0.74438}, {"candidate": "recency", "roc_auc": 0.6383}]}
NO_HISTORY = {"reason": "no_history", "start_needed": "2026-06-03", "min_history_days": 30, "horizon_days": 90,
              "orders_start": "2026-06-23"}
TOO_FEW = {"reason": "too_few_buyers", "data": "learning", "first": "2026-06-03", "last": "2026-07-03",
           "horizon_days": 90, "buyers": 1234, "churned": 12, "stayed": 1222, "min_buyers": 200, "min_each": 20}
FEW_BUYERS = {"reason": "few_buyers", "usable": 1234, "needed": 1500, "k_min": 3, "min_size": 500}
MIN_SHARE = {"reason": "min_share", "k_min": 3, "k_max": 8, "min_share": 0.3, "k": 4, "smallest": 0.0712}


def test_notes_and_choices_in_english_are_the_sentences_of_before():
    assert words.model_choice(CHOICE) == (
        "gradient_boosting: validation ROC AUC 0.747 vs logistic 0.744 vs recency 0.638 (buyers not yet lost)"
    )
    assert words.model_choice({"candidate": "logistic", "population": None}) == (
        "logistic: no out-of-time check (the history is too short)"
    )
    assert words.churn_model_note(NO_HISTORY) == (
        "the churn model needs orders from 2026-06-03 on (30 days of history before a first date to learn from, "
        "then a window of 90 days before the observation date), but the orders start on 2026-06-23; the warnings "
        "rules apply alone"
    )
    assert words.churn_model_note({**NO_HISTORY, "orders_start": None}).endswith("start on nothing; the warnings "
                                                                                 "rules apply alone")
    assert words.churn_model_note(TOO_FEW) == (
        "the dates it learns from (2026-06-03 to 2026-07-03, orders in the 90 days after each) hold 1,234 buyers, 12 "
        "of whom churned and 1,222 stayed; the churn model needs at least 200 buyers and 20 of each outcome"
    )
    assert words.churn_model_note({**TOO_FEW, "data": "validation", "last": None}).startswith(
        "the validation window (2026-06-03, orders in the 90 days after each) hold 1,234 buyers"
    )
    assert words.cluster_note(FEW_BUYERS, clause=True) == (
        "no clusters: 1,234 customers with purchases and every feature, fewer than the 1,500 that 3 clusters "
        "(clusters.k_min) of at least 500 customers need"
    )
    assert words.cluster_note(MIN_SHARE, clause=True) == (
        "no k from 3 to 8 gives every cluster at least 30.0% of the buyers (clusters.min_share); k = 4, whose "
        "smallest cluster holds 7.1%, is the closest and was kept"
    )
    assert words.cluster_note(FEW_BUYERS).startswith("No clusters: 1,234 customers") and words.cluster_note(
        FEW_BUYERS).endswith("need.")
    # a study.json of an older custseg kept the words: they are shown as they are, never parsed
    assert words.model_choice("logistic: validation ROC AUC 0.7 vs recency 0.6 (all buyers)").startswith("logistic:")
    assert words.churn_model_note("too few") == "too few" and words.cluster_note("too few") == "Too few."
    assert words.model_choice(None) == words.churn_model_note(None) == words.cluster_note(None) == ""


def test_notes_and_choices_read_in_chinese():
    with i18n.language("zh"):
        said = {
            "choice": words.model_choice(CHOICE, {"logistic": "逻辑回归", "recency": "仅最近购买",
                                                  "gradient_boosting": "梯度提升"}),
            "no_history": words.churn_model_note(NO_HISTORY),
            "nothing": words.churn_model_note({**NO_HISTORY, "orders_start": None}),
            "too_few": words.churn_model_note(TOO_FEW),
            "validation": words.churn_model_note({**TOO_FEW, "data": "validation", "last": None}),
            "few_buyers": words.cluster_note(FEW_BUYERS),
            "min_share": words.cluster_note(MIN_SHARE),
        }
    for name, text in said.items():
        assert CJK.search(text), (name, text)
        # English words left are only config keys and the metric's name
        left = re.sub(r"clusters\.\w+|ROC AUC", "", text)
        assert not re.search(r"[A-Za-z]{3,}", left), (name, text)
    assert "1,234" in said["too_few"] and "2026-06-03" in said["no_history"] and "7.1%" in said["min_share"]


@pytest.fixture
def zh():
    with i18n.language("zh"):
        yield


def test_a_chinese_page_says_why_the_model_and_clusters_are_missing_in_chinese(processed_tiny, zh):
    from custseg.studies.churn import ChurnStudy
    from custseg.studies.notices import no_churn_model, no_clusters

    config, data = processed_tiny
    assert data.meta.churn.note["reason"] == "no_history"  # two months of orders
    assert data.meta.clusters.note["reason"] == "few_buyers"
    note = words.churn_model_note(data.meta.churn.note)
    assert CJK.search(note) and "orders" not in note
    study = ChurnStudy(data, config)
    shown = [item.text for item in study.backtest().items if hasattr(item, "text")]
    assert any(note in text for text in shown)
    for notice in (no_churn_model(data), no_clusters(data)):
        assert CJK.search(notice.text) and not re.search(r"[a-z]{4,}", re.sub(r"clusters\.\w+", "", notice.text))


def test_no_regular_expression_reads_our_own_text_back():
    rooms = [*(PACKAGE_DIR / "segment").rglob("*.py"), *(PACKAGE_DIR / "studies").rglob("*.py"),
             PACKAGE_DIR / "exports.py", PACKAGE_DIR / "words.py", PACKAGE_DIR / "pipeline.py"]
    for path in rooms:
        text = path.read_text(encoding="utf-8")
        assert "re.compile(" not in text, path
        for old in ("_REASON_FORMS", "reason_form", "reasons_in_language", "_FEW_BUYERS", "_CHOICE"):
            assert old not in text, (path, old)
