"""engine: pandas, engine: duckdb and engine: spark give the same intake: accounting, quarantine, clean tables.

The duckdb and spark engines cut the export into pieces (tiny ones here, so that every rule is
exercised across pieces) and run the pandas rules on each; these tests compare the engines' results
table by table on the bundled sample, on hostile inputs and (duckdb) on the real Online Retail II
export. Spark runs in local mode, one session for the whole test session; without PySpark (an
optional extra, `make setup-spark`) its tests are skipped, unless CUSTSEG_REQUIRE_SPARK=1 (CI).
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
import sys

import pandas as pd
import pytest

from conftest import study_config
from custseg import intake
from custseg.config import ConfigError, load_config
from custseg.intake import scaled
from custseg.intake.cleaning import CleanTables, IntakeError, run_intake
from custseg.pipeline import run
from custseg.sample.generator import SampleSpec, generate_sample, write_line_items
from custseg.segment import preferences

#: The sample's line-item export, as config/sample_line_items.yaml maps it.
LINE_COLUMNS = {
    "invoice": "InvoiceNo", "item": "StockCode", "description": "Description", "quantity": "Quantity",
    "unit_price": "UnitPrice", "invoice_date": "InvoiceDate", "customer_id": "CustomerID", "country": "Country",
    "currency": "Currency", "category": "Category",
}


#: The Spark settings of every Spark test: the same for all, so that they share one session. Blocks of
#: 256 KB: the sample's file is read in several, so the rows are numbered across blocks and partitions.
SPARK = {"name": "spark", "spark_conf": {"spark.sql.shuffle.partitions": "2", "spark.default.parallelism": "2",
                                         "spark.sql.files.maxPartitionBytes": "262144"}}


@pytest.fixture(scope="session")
def spark() -> dict:
    """The engine section for Spark tests; the session starts with the first of them and serves all."""
    if importlib.util.find_spec("pyspark") is None:
        if os.environ.get("CUSTSEG_REQUIRE_SPARK") == "1":
            pytest.fail("CUSTSEG_REQUIRE_SPARK=1 but PySpark is not installed: run `make setup-spark`")
        pytest.skip("PySpark is not installed (an optional extra: `make setup-spark`)")
    return SPARK


def _both(config, monkeypatch, piece_rows: int, engine: dict | None = None) -> tuple[CleanTables, CleanTables]:
    monkeypatch.setattr(scaled, "PIECE_ROWS", piece_rows)
    other = config.model_copy(update={"engine": config.engine.model_copy(update=engine or {"name": "duckdb"})})
    return run_intake(config), run_intake(other)


def _assert_same(a: CleanTables, b: CleanTables) -> None:
    assert list(a.tables) == list(b.tables)
    for name in a.tables:
        pd.testing.assert_frame_equal(_whole(a.tables[name]), _whole(b.tables[name]), obj=name)
    for part in ("quarantine", "accounting", "columns", "reversals", "matches", "sources"):
        pd.testing.assert_frame_equal(getattr(a, part), getattr(b, part), obj=part)


def _whole(table):
    """A clean table whole: an engine's line items are on disk in pieces (custseg.intake.spilled)."""
    return table if isinstance(table, pd.DataFrame) else table.frame()


def test_the_sample_line_items_give_the_same_study_through_both_engines(tmp_path, monkeypatch):
    write_line_items(generate_sample(SampleSpec(n_customers=600, seed=11)), tmp_path / "raw")
    inputs = {"line_items": {"path": "raw/line_items.csv", "columns": LINE_COLUMNS, "date_format": "%Y-%m-%d %H:%M"}}
    settings = {"cleaning": {"non_product_items": ["POST"]}, "studies": {"min_customers": 20}}
    config = load_config(study_config(tmp_path, inputs, **settings))
    pandas_result, duck_result = _both(config, monkeypatch, 5_000)
    _assert_same(pandas_result, duck_result)
    row = duck_result.accounting.iloc[0]
    assert row["rows_read"] == row["clean"] + row["quarantined"] + row["duplicates_removed"] > 20_000
    # and the whole study: features to the cent, tiers, segments, lifecycle, clusters
    duck_root = tmp_path / "duck"
    duck_root.mkdir()
    (duck_root / "raw").symlink_to(tmp_path / "raw")
    duck = load_config(study_config(duck_root, inputs, engine={"name": "duckdb"}, **settings))
    for each in (config, duck):
        run(each, echo=lambda *_: None)
    for table in ("customers", "orders", "snapshots", "category_shares"):
        pd.testing.assert_frame_equal(pd.read_parquet(config.output.processed / f"{table}.parquet"),
                                      pd.read_parquet(duck.output.processed / f"{table}.parquet"), obj=table)


HOSTILE = """InvoiceNo,StockCode,Quantity,UnitPrice,InvoiceDate,CustomerID,Country
1001,A,2,3.50,2025-01-05 10:00,C1,France
1001,B,1,2.00,2025-01-05 10:00,C1,France
1001,B,1,2.00,2025-01-05 10:00,C1,France
1002,A,1,3.50,2025-01-32 10:00,C2,Spain
1003,A,x,3.50,2025-02-01 09:00,C2,Spain
1004,A,1,3.50,2025-02-02 09:00,C3,Italy
1004,B,1,2.00,2025-02-02 09:00,C4,Italy
C1005,A,-2,3.50,2025-02-03 09:00,C1,France
C1006,Z,-1,9.00,2025-02-04 09:00,C2,Spain
1007,A,1,"1,5",2025-02-05 09:00,Ｃ5,Japan
1008,A,3,3.50,2025-02-06 09:00,,
1009,A,1,3.50,2025-02-07 09:00, C5 ,Japan
1010,A,1,3.50,2025-02-08 09:00,C3,Italy
"""


def test_hostile_rows_end_alike_through_both_engines(write_csv, write_config, monkeypatch):
    # a duplicate, a bad date, a bad number, a conflicting invoice (C3 and C4), a matched and an
    # unmatched reversal, a full-width customer id that is C5 once normalized, a guest line
    path = write_csv("lines.csv", HOSTILE)
    config = load_config(write_config({"line_items": {"path": str(path), "date_format": "%Y-%m-%d %H:%M", "columns": {
        "invoice": "InvoiceNo", "item": "StockCode", "quantity": "Quantity", "unit_price": "UnitPrice",
        "invoice_date": "InvoiceDate", "customer_id": "CustomerID", "country": "Country"}}},
        cleaning={"stop_on": []}))
    pandas_result, duck_result = _both(config, monkeypatch, 3)
    _assert_same(pandas_result, duck_result)
    reasons = set(duck_result.quarantine["reason"])
    assert {"bad_date", "bad_number", "conflicting_invoice", "missing_id"} <= reasons
    assert duck_result.accounting.iloc[0]["duplicates_removed"] == 1
    assert set(duck_result.reversals.loc[duck_result.reversals["reversals"] > 0, "outcome"]) == {
        "matched_in_full", "not_matched"}
    assert "C5" in set(duck_result.tables["customers"]["customer_id"])


def test_the_real_online_retail_export_is_the_same_through_both_engines(online_retail_config, tmp_path, monkeypatch):
    config = load_config(online_retail_config(tmp_path))
    pandas_result, duck_result = _both(config, monkeypatch, 200_000)
    _assert_same(pandas_result, duck_result)
    # figures computed here, independently: every line read is in one place
    raw = pd.read_csv(config.inputs.line_items.path, dtype=str, keep_default_na=False)
    row = duck_result.accounting.iloc[0]
    assert row["rows_read"] == len(raw)
    assert row["duplicates_removed"] == int(raw.duplicated().sum())
    # the preferences read the engine's lines a piece at a time: the same times and unit-price
    # indexes as from the whole table, to the last bit (a customer's lines are all in one piece)
    lines, pieces = pandas_result.tables["line_items"], duck_result.tables["line_items"]
    assert len(pieces.paths) > 1
    orders = pandas_result.tables["orders"]
    pd.testing.assert_series_equal(preferences.order_times(orders, pieces), preferences.order_times(orders, lines))
    observed = dt.date(2011, 9, 1)
    by_piece = preferences.unit_price_index(pieces, {}, observed).sort_index()
    whole = preferences.unit_price_index(lines, {}, observed).sort_index()
    assert len(whole) > 3_000
    pd.testing.assert_frame_equal(by_piece, whole, check_exact=True)


def test_what_duckdb_cannot_read_alike_is_refused_naming_the_file(write_csv, write_config):
    path = write_csv("lines.csv", '\ufeff' + HOSTILE)
    config = load_config(write_config({"line_items": {"path": str(path), "columns": {
        "invoice": "InvoiceNo", "item": "StockCode", "quantity": "Quantity", "unit_price": "UnitPrice",
        "invoice_date": "InvoiceDate", "customer_id": "CustomerID"}}}, engine={"name": "duckdb"}))
    with pytest.raises(IntakeError, match=r"lines\.csv: starts with a byte-order mark.*use engine: pandas"):
        run_intake(config)
    write_csv("lines.csv", HOSTILE.replace("France\n1001,B", 'France\n1001,"B\nB"', 1))
    with pytest.raises(IntakeError, match=r"lines\.csv: a value spans several lines.*engine: pandas"):
        run_intake(config)


def test_the_engine_section_is_checked_and_part_of_the_fingerprint(write_csv, write_config, tmp_path):
    path = write_csv("lines.csv", HOSTILE)
    inputs = {"line_items": {"path": str(path), "columns": {"invoice": "InvoiceNo"}}}
    plain = load_config(write_config(inputs))
    assert plain.engine.name == "pandas"
    assert load_config(write_config(inputs, engine={"name": "pandas"})).fingerprint() == plain.fingerprint()
    asked = {"name": "duckdb", "memory_limit": "6GB", "temp_directory": "spill"}
    duck = load_config(write_config(inputs, engine=asked))
    assert duck.fingerprint() != plain.fingerprint()
    assert duck.engine.spill_folder(duck.output) == tmp_path / "spill"
    assert plain.engine.spill_folder(plain.output) == plain.output.build / "duckdb-spill"
    for bad, key in (({"name": "dask"}, "engine.name"), ({"memory_limit": "lots"}, "engine.memory_limit"),
                     ({"threads": 0}, "engine.threads"), ({"memroy_limit": "6GB"}, "engine.memroy_limit"),
                     ({"name": "spark", "spark_conf": {"spark.ui.enabled": ["no"]}}, "engine.spark_conf")):
        with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
            load_config(write_config(inputs, engine=bad))
    # the spark section: its keys, and each engine's keys refused with the other
    spark = load_config(write_config(inputs, engine={"name": "spark", "master": "spark://head:7077",
                                                     "spark_conf": {"spark.executor.memory": "8g",
                                                                    "spark.sql.shuffle.partitions": 64}}))
    assert spark.engine.master == "spark://head:7077" and spark.fingerprint() not in (plain.fingerprint(),
                                                                                       duck.fingerprint())
    assert spark.engine.spark_conf == {"spark.executor.memory": "8g", "spark.sql.shuffle.partitions": "64"}
    for bad, said in (({"name": "spark", "memory_limit": "6GB"}, "memory_limit is read by engine duckdb only"),
                      ({"name": "duckdb", "master": "local[2]", "spark_conf": {"a": "b"}},
                       "master, spark_conf are read by engine spark only")):
        with pytest.raises(ConfigError, match=said):
            load_config(write_config(inputs, engine=bad))


def test_duckdb_runs_within_the_configured_limits(write_csv, write_config, tmp_path):
    path = write_csv("lines.csv", HOSTILE)
    spill = tmp_path.with_name(f"{tmp_path.name}-spill")
    config = load_config(write_config({"line_items": {"path": str(path), "date_format": "%Y-%m-%d %H:%M", "columns": {
        "invoice": "InvoiceNo", "item": "StockCode", "quantity": "Quantity", "unit_price": "UnitPrice",
        "invoice_date": "InvoiceDate", "customer_id": "CustomerID"}}},
        cleaning={"stop_on": []}, engine={"name": "duckdb", "memory_limit": "256MB", "threads": 1,
                                          "temp_directory": str(spill)}))
    result = run_intake(config)
    assert spill.is_dir()  # the spill folder is made where the config says
    row = result.accounting.iloc[0]
    assert row["rows_read"] == 13 == row["clean"] + row["quarantined"] + row["duplicates_removed"]


def test_a_stop_rule_stops_both_engines_with_the_same_words(write_csv, write_config, monkeypatch):
    path = write_csv("lines.csv", HOSTILE)
    config = load_config(write_config({"line_items": {"path": str(path), "date_format": "%Y-%m-%d %H:%M", "columns": {
        "invoice": "InvoiceNo", "item": "StockCode", "quantity": "Quantity", "unit_price": "UnitPrice",
        "invoice_date": "InvoiceDate", "customer_id": "CustomerID"}}}, cleaning={"stop_on": ["bad_number"]}))
    monkeypatch.setattr(scaled, "PIECE_ROWS", 2)
    messages = []
    for name in ("pandas", "duckdb"):
        engine = config.engine.model_copy(update={"name": name})
        with pytest.raises(IntakeError) as raised:
            run_intake(config.model_copy(update={"engine": engine}))
        messages.append(str(raised.value))
    assert messages[0] == messages[1]
    assert "row 6" in messages[1] and "bad_number" in messages[1]


def test_the_sample_line_items_give_the_same_intake_through_spark(tmp_path, monkeypatch, spark):
    write_line_items(generate_sample(SampleSpec(n_customers=300, seed=11)), tmp_path / "raw")
    inputs = {"line_items": {"path": "raw/line_items.csv", "columns": LINE_COLUMNS, "date_format": "%Y-%m-%d %H:%M"}}
    config = load_config(study_config(tmp_path, inputs, cleaning={"non_product_items": ["POST"]}))
    pandas_result, spark_result = _both(config, monkeypatch, 4_000, spark)
    _assert_same(pandas_result, spark_result)
    # figures computed here, independently: every line of the file is in one place
    raw = pd.read_csv(tmp_path / "raw" / "line_items.csv", dtype=str, keep_default_na=False)
    row = spark_result.accounting.iloc[0]
    assert row["rows_read"] == len(raw) == row["clean"] + row["quarantined"] + row["duplicates_removed"] > 8_000
    assert len(spark_result.tables["line_items"]) == row["clean"]


def test_hostile_rows_end_alike_through_spark(write_csv, write_config, monkeypatch, spark):
    path = write_csv("lines.csv", HOSTILE)
    config = load_config(write_config({"line_items": {"path": str(path), "date_format": "%Y-%m-%d %H:%M", "columns": {
        "invoice": "InvoiceNo", "item": "StockCode", "quantity": "Quantity", "unit_price": "UnitPrice",
        "invoice_date": "InvoiceDate", "customer_id": "CustomerID", "country": "Country"}}},
        cleaning={"stop_on": []}))
    pandas_result, spark_result = _both(config, monkeypatch, 3, spark)
    _assert_same(pandas_result, spark_result)
    assert {"bad_date", "bad_number", "conflicting_invoice", "missing_id"} <= set(spark_result.quarantine["reason"])
    assert spark_result.accounting.iloc[0]["duplicates_removed"] == 1
    assert "C5" in set(spark_result.tables["customers"]["customer_id"])
    # a stop rule stops Spark with the pandas engine's words
    stop = config.model_copy(update={"cleaning": config.cleaning.model_copy(update={"stop_on": ["bad_number"]})})
    messages = []
    for engine in ({"name": "pandas"}, spark):
        with pytest.raises(IntakeError) as raised:
            run_intake(stop.model_copy(update={"engine": stop.engine.model_copy(update=engine)}))
        messages.append(str(raised.value))
    assert messages[0] == messages[1] and "row 6" in messages[0]


def test_what_spark_cannot_read_alike_is_refused_naming_the_file(write_csv, write_config, spark):
    columns = {"invoice": "InvoiceNo", "item": "StockCode", "quantity": "Quantity", "unit_price": "UnitPrice",
               "invoice_date": "InvoiceDate", "customer_id": "CustomerID"}
    # a stray quote after a quoted value: pandas drops the quotes ("1"5 is 15), Spark would keep them
    path = write_csv("lines.csv", HOSTILE.replace("2,3.50,2025-01-05", '2,"3"50,2025-01-05', 1))
    config = load_config(write_config({"line_items": {"path": str(path), "columns": columns}}, engine=spark))
    with pytest.raises(IntakeError, match=r"lines\.csv: Spark cannot read the file as custseg's readers would.*"
                                          r"use engine: pandas"):
        run_intake(config)
    # a value spanning lines is a malformed row to Spark; an empty line it would skip, numbering the rows after it
    write_csv("lines.csv", HOSTILE.replace("France\n1001,B", 'France\n1001,"B\nB"', 1))
    with pytest.raises(IntakeError, match=r"lines\.csv: Spark cannot read.*Malformed CSV record.*engine: pandas"):
        run_intake(config)
    write_csv("lines.csv", HOSTILE.replace("France\n1001,B", "France\n\n1001,B", 1))
    with pytest.raises(IntakeError, match=r"lines\.csv: a value spans several lines, or the file has empty lines: "
                                          r"Spark would number its rows otherwise"):
        run_intake(config)
    write_csv("lines.csv", "\ufeff" + HOSTILE)
    with pytest.raises(IntakeError, match=r"lines\.csv: starts with a byte-order mark, which engine: spark"):
        run_intake(config)


def test_spark_without_pyspark_says_how_to_install_it(write_csv, write_config, monkeypatch):
    # a machine set up by the two-command set-up has no PySpark: the error says what to run
    path = write_csv("lines.csv", HOSTILE)
    config = load_config(write_config({"line_items": {"path": str(path), "columns": {
        "invoice": "InvoiceNo", "item": "StockCode", "quantity": "Quantity", "unit_price": "UnitPrice",
        "invoice_date": "InvoiceDate", "customer_id": "CustomerID"}}}, engine={"name": "spark"}))
    monkeypatch.setitem(sys.modules, "pyspark", None)  # what `import pyspark` meets when it is not installed
    monkeypatch.delitem(sys.modules, "custseg.intake._spark", raising=False)  # as if never imported
    monkeypatch.delattr(intake, "_spark", raising=False)
    with pytest.raises(IntakeError, match=r"engine: spark needs PySpark.*make setup-spark"):
        run_intake(config)
