"""The CRM export: one row per customer, tags a CRM can map, Chinese text that Excel opens."""

from __future__ import annotations

import pandas as pd

from custseg.exports import crm_tags, segment_export, write_segment_export


def _customers() -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": ["C2", "C1", "C3"],
        "market": ["East China", "Europe; DACH", None],
        "tier": pd.Categorical(["high", "low", None], categories=["high", "mid", "low"]),
        "segment": ["Champions", "Lost", None],
        "value_class": ["重要价值客户", "一般挽留客户", None],
        "r_score": pd.array([5, 1, None], dtype="Int64"),
        "email": ["a@example.com", "b@example.com", "c@example.com"],
    })


def test_tags_join_present_values_and_neutralise_separators():
    tags = crm_tags(_customers())
    assert tags.tolist() == [
        "tier:high;segment:Champions;value_class:重要价值客户;market:East China",
        "tier:low;segment:Lost;value_class:一般挽留客户;market:Europe, DACH",
        "",
    ]


def test_export_is_sorted_has_no_personal_data_and_keeps_the_input():
    customers = _customers()
    before = customers.copy()
    export = segment_export(customers)
    assert export["customer_id"].tolist() == ["C1", "C2", "C3"]
    assert "email" not in export and list(export.columns)[-1] == "tags"
    pd.testing.assert_frame_equal(customers, before)


def test_written_csv_has_a_bom_and_round_trips(tmp_path):
    paths = write_segment_export(_customers(), tmp_path / "exports")
    raw = paths["csv"].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and "重要价值客户".encode() in raw
    back = pd.read_csv(paths["csv"], encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert back.loc[back["customer_id"] == "C2", "tags"].item().startswith("tier:high;")
    assert pd.read_parquet(paths["parquet"])["r_score"].dtype == "Int64"
