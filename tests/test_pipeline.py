"""The pipeline on each input shape: raw files -> the customer table every study reads."""

from __future__ import annotations

import dataclasses
import json

import pandas as pd
import pytest

from custseg import processed
from custseg.config import load_config
from custseg.pipeline import run

LINES = """InvoiceNo,StockCode,Quantity,UnitPrice,InvoiceDate,CustomerID,Country
536365,P1,6,2.55,2025-12-01,17850,United Kingdom
536365,POST,1,18.00,2025-12-01,17850,United Kingdom
536366,P1,2,2.50,2025-12-05,17850,UK
C536366,P1,-2,2.50,2025-12-06,17850,UK
536367,P3,10,1.00,2025-12-02,13047,法国
C536999,P3,-3,1.00,2025-12-04,13047,France
536368,P4,1,5.00,2025-12-02,,United Kingdom
"""


def test_line_items_give_the_same_customer_table_as_orders(write_csv, write_config):
    columns = {"invoice": "InvoiceNo", "item": "StockCode", "quantity": "Quantity", "unit_price": "UnitPrice",
               "invoice_date": "InvoiceDate", "customer_id": "CustomerID", "country": "Country"}
    config = load_config(write_config(
        {"line_items": {"path": str(write_csv("lines.csv", LINES)), "columns": columns}},
        cleaning={"stop_on": []}, observation_date="2025-12-31",
    ))
    run(config, echo=lambda *_: None)
    data = processed.load(config)
    customers = data.customers.set_index("customer_id")
    assert sorted(customers.index) == ["13047", "17850"]
    assert customers.loc["17850", "country_iso3"] == "GBR" and customers.loc["13047", "market"] == "Europe"
    # 17850: one purchase (536365, postage excluded); 536366 was reversed in full
    assert customers.loc["17850", "frequency"] == 1
    assert customers.loc["17850", "monetary"] == pytest.approx(15.30)
    # 13047: one purchase of 10 with a return of 3 netted against it
    assert customers.loc["13047", "frequency"] == 1
    assert customers.loc["13047", "monetary"] == pytest.approx(7.0)
    assert data.meta.inputs == ["line_items"]
    interim = pd.read_csv(config.output.interim / "accounting.csv", encoding="utf-8-sig")
    assert interim.loc[0, ["rows_read", "clean", "quarantined"]].tolist() == [7, 6, 1]
    assert (config.output.interim / "line_items.parquet").is_file()


def test_study_json_is_read_and_written_through_the_typed_contract(processed_sample, tmp_path):
    config, data = processed_sample
    written = processed.meta_path(config).read_bytes()
    meta = processed.StudyMeta.from_dict(json.loads(written))
    assert meta == data.meta and meta.tiers == list(config.tiers.names) and meta.clusters.k >= 0
    # the same content, in the same order, gives the same bytes
    assert processed.write_meta(tmp_path, meta).read_bytes() == written
    assert set(data.tables) <= set(processed.PAGE_TABLES) <= {table.name for table in processed.TABLES}
    with pytest.raises(ValueError, match="does not know: \\['surprise'\\]"):
        processed.StudyMeta.from_dict({**json.loads(written), "surprise": 1})
    with pytest.raises(ValueError, match="clusters has fields"):
        processed.StudyMeta.from_dict({**json.loads(written), "clusters": {"k": 2, "surprise": 1}})


def test_the_churn_and_value_blocks_are_typed_and_written_as_before(processed_sample, tmp_path):
    config, data = processed_sample
    written = json.loads(processed.meta_path(config).read_bytes())
    churn, value = data.meta.churn, data.meta.value
    assert isinstance(churn, processed.ChurnSummary) and isinstance(value, processed.ValueSummary)
    assert churn.horizon_days == config.churn.horizon_days and churn.chosen == written["churn"]["chosen"]
    assert value.fitted is written["value"]["fitted"] and value.days == written["value"]["days"]
    # the blocks keep their keys and order: the model fields only when the models were fitted, the
    # error only when there is one
    assert list(value.to_dict()) == list(written["value"]) and list(churn.to_dict()) == list(written["churn"])
    unfitted = dataclasses.replace(value, fitted=False, kind="net_spend", error={"reason": "few_buyers"}, backtest=None)
    assert list(unfitted.to_dict()) == ["basis", "fitted", "kind", "days", "error", "warnings"]
    with pytest.raises(ValueError, match="value has fields"):
        processed.StudyMeta.from_dict({**written, "value": {**written["value"], "surprise": 1}})
    with pytest.raises(ValueError, match="churn has fields"):
        processed.StudyMeta.from_dict({**written, "churn": {**written["churn"], "surprise": 1}})
