"""engine: pandas, engine: duckdb and engine: spark give the same intake: accounting, quarantine, clean tables.

The duckdb and spark engines cut the export into pieces (tiny ones here, so that every rule is
exercised across pieces) and run the pandas rules on each; these tests compare the engines' results
table by table on the bundled sample, on hostile inputs and (duckdb) on the real Online Retail II
export. Spark runs in local mode, one session for the whole test session; without PySpark (an
optional extra, `make setup-spark`) its tests are skipped, unless CUSTSEG_REQUIRE_SPARK=1 (CI).
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import importlib.util
import os
import sys

import numpy as np
import pandas as pd
import pytest

from conftest import study_config
from custseg import i18n, intake
from custseg.config import ConfigError, load_config
from custseg.intake import scaled
from custseg.intake.cleaning import CleanTables, IntakeError, run_intake
from custseg.intake.quality import accounting_table
from custseg.pipeline import data_fingerprint, run
from custseg.sample.generator import SampleSpec, generate_sample, write_line_items
from custseg.segment import preferences
from custseg.studies.quality import QualityStudy

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
def spark(tmp_path_factory) -> dict:
    """The engine section for Spark tests; the session starts with the first of them and serves all.
    Its catalog's tables are written to a warehouse folder of the test session (not the working folder)."""
    if importlib.util.find_spec("pyspark") is None:
        if os.environ.get("CUSTSEG_REQUIRE_SPARK") == "1":
            pytest.fail("CUSTSEG_REQUIRE_SPARK=1 but PySpark is not installed: run `make setup-spark`")
        pytest.skip("PySpark is not installed (an optional extra: `make setup-spark`)")
    warehouse = str(tmp_path_factory.mktemp("spark-warehouse"))
    return {**SPARK, "spark_conf": {**SPARK["spark_conf"], "spark.sql.warehouse.dir": warehouse}}


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


@pytest.mark.parametrize("workers", [1, 2])
def test_hostile_rows_end_alike_through_both_engines(write_csv, write_config, monkeypatch, workers):
    # a duplicate, a bad date, a bad number, a conflicting invoice (C3 and C4), a matched and an
    # unmatched reversal, a full-width customer id that is C5 once normalized, a guest line; the
    # pieces cleaned one after the other in this process, or by two worker processes at once
    path = write_csv("lines.csv", HOSTILE)
    config = load_config(write_config({"line_items": {"path": str(path), "date_format": "%Y-%m-%d %H:%M", "columns": {
        "invoice": "InvoiceNo", "item": "StockCode", "quantity": "Quantity", "unit_price": "UnitPrice",
        "invoice_date": "InvoiceDate", "customer_id": "CustomerID", "country": "Country"}}},
        cleaning={"stop_on": []}))
    pandas_result, duck_result = _both(config, monkeypatch, 3, {"name": "duckdb", "workers": workers})
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


def test_pieces_are_cleaned_by_worker_processes_when_there_are_several():
    job = scaled._Job("line_items", None, {}, (), {}, None)
    with scaled._cleaners(2, job) as pool:  # two processes of their own, not this one
        assert os.getpid() not in {pool.submit(os.getpid).result() for _ in range(8)}
    with scaled._cleaners(1, job) as inline:
        assert inline.submit(os.getpid).result() == os.getpid()
    # engine.workers, else one per core up to MAX_WORKERS; one whenever the file is one piece
    assert scaled._workers(3, rows=10, piece_rows=5) == 3
    assert scaled._workers(3, rows=5, piece_rows=5) == 1
    assert 1 <= scaled._workers(None, rows=10, piece_rows=5) <= scaled.MAX_WORKERS


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
                     ({"threads": 0}, "engine.threads"), ({"name": "duckdb", "workers": 0}, "engine.workers"),
                     ({"memroy_limit": "6GB"}, "engine.memroy_limit"),
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


# --- a table of Spark's catalog (inputs.line_items.table) ---------------------------------------------------

#: The sample's line items as a catalog table holds them: typed columns (BIGINT, DOUBLE, TIMESTAMP), NULLs.
TABLE_SCHEMA = ("InvoiceNo STRING, StockCode STRING, Description STRING, Quantity BIGINT, UnitPrice DOUBLE, "
                "InvoiceDate TIMESTAMP, CustomerID STRING, Country STRING, Currency STRING, Category STRING, "
                "Discount DECIMAL(10,2)")


def _typed_rows(path) -> list[tuple]:
    """The rows of a line-item CSV typed as a catalog table would hold them (an empty cell NULL)."""
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    rows = []
    for i, r in enumerate(raw.itertuples(index=False)):
        rows.append((r.InvoiceNo, r.StockCode, r.Description, int(r.Quantity), float(r.UnitPrice),
                     dt.datetime.strptime(r.InvoiceDate, "%Y-%m-%d %H:%M"), r.CustomerID or None, r.Country or None,
                     r.Currency or None, r.Category or None,
                     (decimal.Decimal(i % 7) / 4).quantize(decimal.Decimal("0.01")) if i % 3 else None))
    return rows


def _export_text(value) -> str:
    """A typed value as an export writes it, computed here independently of custseg's Spark SQL: a
    double in its shortest plain digits (numpy), a decimal with its scale, a timestamp ISO, NULL empty."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, float):
        return np.format_float_positional(value, trim="-")
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S") + (f".{value.microsecond:06d}".rstrip("0") if value.microsecond
                                                      else "")
    return str(value)


def _as_csv(rows: list[tuple], columns: list[str], path) -> None:
    """The rows written as a CSV export would write them, sorted by every column's text: the order in which
    custseg numbers a catalog table's rows (line 2 is the first row)."""
    texts = sorted(tuple(_export_text(v) for v in row) for row in rows)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(texts)


def _assert_same_read_elsewhere(a: CleanTables, b: CleanTables) -> None:
    """As :func:`_assert_same`, but for what names the source (a file, a table) and how it was read."""
    assert list(a.tables) == list(b.tables)
    for name in a.tables:
        pd.testing.assert_frame_equal(_whole(a.tables[name]), _whole(b.tables[name]), obj=name)
    pd.testing.assert_frame_equal(a.reversals, b.reversals)
    pd.testing.assert_frame_equal(a.columns, b.columns)
    for part in ("quarantine", "matches"):
        pd.testing.assert_frame_equal(getattr(a, part).drop(columns="file"), getattr(b, part).drop(columns="file"),
                                      obj=part)
    where = ["file", "format", "encoding", "encoding_source", "delimiter"]
    pd.testing.assert_frame_equal(a.accounting.drop(columns=where), b.accounting.drop(columns=where))


def _catalog(spark_engine: dict):
    from custseg.intake import _spark  # the process's one session, as engine: spark uses it

    return _spark.session(None, spark_engine["spark_conf"])


def test_a_catalog_table_is_read_as_its_rows_written_sorted_to_a_csv(tmp_path, monkeypatch, spark):
    write_line_items(generate_sample(SampleSpec(n_customers=150, seed=5)), tmp_path / "raw")
    rows = _typed_rows(tmp_path / "raw" / "line_items.csv")
    customer = next(r[6] for r in rows if r[6])
    when = dt.datetime(2025, 3, 1, 9, 30, 15, 250000)  # a fraction of a second
    # hostile rows: doubles that Spark's cast writes with an exponent, one needing 17 digits, a NaN
    # and a NULL price, a NULL date and a NULL quantity, a whole-number price, a zero price
    for i, price in enumerate((1e7, 1.5e-7, 0.1 + 0.2, 2.82879384806159e17, float("nan"), None, 3.0, 0.0)):
        rows.append((f"T{i}", "P1", "odd price", 2, price, when, customer, "France", "CNY", None, None))
    rows.append(("T8", "P1", "no date", 1, 2.5, None, customer, "France", "CNY", None, None))
    rows.append(("T9", "P1", "no quantity", None, 2.5, when, None, None, "CNY", None, None))
    session = _catalog(spark)
    session.sql("CREATE DATABASE IF NOT EXISTS shop")
    session.sql("DROP TABLE IF EXISTS shop.invoice_lines")
    # several partitions, shuffled: the numbering must not depend on how the table is stored
    session.createDataFrame(rows, TABLE_SCHEMA).repartition(3).write.saveAsTable("shop.invoice_lines")
    columns = [field.split(" ")[0] for field in TABLE_SCHEMA.split(", ")]
    _as_csv(rows, columns, tmp_path / "raw" / "sorted.csv")

    settings = {"cleaning": {"non_product_items": ["POST"], "stop_on": []}}
    mapped = {"columns": LINE_COLUMNS}  # a TIMESTAMP column is read as ISO text, which needs no date_format
    from_file = load_config(study_config(tmp_path, {"line_items": {"path": "raw/sorted.csv", **mapped}}, **settings))
    table_root = tmp_path / "table"
    table_root.mkdir()
    from_table = load_config(study_config(table_root, {"line_items": {"table": "shop.invoice_lines", **mapped}},
                                          engine=spark, **settings))
    monkeypatch.setattr(scaled, "PIECE_ROWS", 3_000)
    by_file, by_table = run_intake(from_file), run_intake(from_table)
    _assert_same_read_elsewhere(by_file, by_table)

    # figures computed here, independently: every row of the table in one place
    row = by_table.accounting.iloc[0]
    assert row["rows_read"] == len(rows) == row["clean"] + row["quarantined"] + row["duplicates_removed"]
    assert row["file"] == "shop.invoice_lines (table, as a CSV sorted by every column)" and row["format"] == "table"
    assert by_table.sources.to_dict("records") == [{"table": "line_items", "kind": "table", "source": "line_items",
                                                    "location": "shop.invoice_lines", "files": 1, "rows": len(rows)}]
    # the data-quality page says what a line of the table is (and says nothing for a file)
    with i18n.language("en"):
        notes = [note.text for note in QualityStudy._catalog_tables(accounting_table(by_table.accounting))]
    assert notes == [f"{row['file']} is a table of Spark's catalog, which has no lines: a row's line is the one it "
                     "would have in a CSV export of the table with its rows sorted by every column's text, column by "
                     "column (line 1 is the header). The quarantine names its rows by that line."]
    with i18n.language("zh"):
        assert "排序" in QualityStudy._catalog_tables(accounting_table(by_table.accounting))[0].text
    assert QualityStudy._catalog_tables(accounting_table(by_file.accounting)) == []
    # the odd prices are read to the last bit, whole numbers without their ".0"; the quarantine names
    # each bad row by its line in the sorted CSV
    lines = _whole(by_table.tables["line_items"])
    prices = dict(zip(lines["invoice"], lines["unit_price"]))
    assert [prices[f"T{i}"] for i in (0, 1, 2, 3, 6)] == [1e7, 1.5e-7, 0.1 + 0.2, 2.82879384806159e17, 3.0]
    sorted_csv = pd.read_csv(tmp_path / "raw" / "sorted.csv", dtype=str, keep_default_na=False)
    quarantined = by_table.quarantine.set_index("row")
    for invoice in ("T4", "T5", "T7", "T8", "T9"):
        line = int(sorted_csv.index[sorted_csv["InvoiceNo"].eq(invoice)][0]) + 2
        assert quarantined.loc[line, "file"] == row["file"], invoice


def test_each_column_type_of_a_catalog_table_reads_as_an_export_writes_it(spark):
    from custseg.intake import _spark

    session = _catalog(spark)
    values = {
        "whole DOUBLE": ("DOUBLE", 3.0, "3"), "big DOUBLE": ("DOUBLE", 1e7, "10000000"),
        "small DOUBLE": ("DOUBLE", 1.5e-7, "0.00000015"), "17 digits": ("DOUBLE", 0.1 + 0.2, "0.30000000000000004"),
        "huge DOUBLE": ("DOUBLE", -1.5e22, "-15000000000000000000000"), "NaN": ("DOUBLE", float("nan"), ""),
        "infinity": ("DOUBLE", float("inf"), "Infinity"), "FLOAT": ("FLOAT", 0.1, "0.1"),
        "NULL DOUBLE": ("DOUBLE", None, ""), "BIGINT": ("BIGINT", -42, "-42"),
        "DECIMAL": ("DECIMAL(10,2)", decimal.Decimal("12.50"), "12.50"),
        "tiny DECIMAL": ("DECIMAL(20,10)", decimal.Decimal("1E-8"), "0.0000000100"),
        "TIMESTAMP": ("TIMESTAMP", dt.datetime(2010, 12, 1, 8, 26), "2010-12-01 08:26:00"),
        "fraction": ("TIMESTAMP", dt.datetime(2010, 12, 1, 8, 26, 0, 500000), "2010-12-01 08:26:00.5"),
        "midnight": ("TIMESTAMP_NTZ", dt.datetime(2010, 12, 1), "2010-12-01 00:00:00"),
        "DATE": ("DATE", dt.date(2010, 12, 1), "2010-12-01"), "BOOLEAN": ("BOOLEAN", True, "true"),
        "NULL STRING": ("STRING", None, ""), "STRING": ("STRING", " C1 ", " C1 "),
    }
    schema = ", ".join(f"`{name}` {kind}" for name, (kind, _, _) in values.items())
    session.createDataFrame([tuple(value for _, value, _ in values.values())], schema).createOrReplaceTempView("typed")
    con = _spark.connect(None, spark["spark_conf"])
    try:
        assert _spark.scan_table(con, "typed") == list(values)
        (read,) = con.frame.collect()
    finally:
        _spark.close(con)
    assert dict(zip(values, read)) == {name: text for name, (_, _, text) in values.items()}
    assert read["source_row"] == 2
    # the digits read back as the very number stored
    assert [float(read[f"c{i}"]) for i in (0, 1, 2, 3, 4)] == [3.0, 1e7, 1.5e-7, 0.1 + 0.2, -1.5e22]


def test_a_catalog_tables_fingerprint_follows_its_rows(tmp_path, spark):
    session = _catalog(spark)
    session.sql("DROP TABLE IF EXISTS fp_lines")
    rows = [("1001", "A", 2, 3.5, dt.datetime(2025, 1, 5, 10), "C1"), ("1002", "B", 1, 1e7, None, None)]
    schema = ("InvoiceNo STRING, StockCode STRING, Quantity INT, UnitPrice DOUBLE, InvoiceDate TIMESTAMP, "
              "CustomerID STRING")
    session.createDataFrame(rows, schema).coalesce(1).write.saveAsTable("fp_lines")
    inputs = {"line_items": {"table": "fp_lines", "columns": {"invoice": "InvoiceNo", "item": "StockCode",
              "quantity": "Quantity", "unit_price": "UnitPrice", "invoice_date": "InvoiceDate",
              "customer_id": "CustomerID"}}}
    config = load_config(study_config(tmp_path, inputs, engine=spark))
    first = data_fingerprint(config)
    # the same rows stored otherwise (more files, another order) are the same data
    session.sql("DROP TABLE fp_lines")
    session.createDataFrame(rows[::-1], schema).repartition(2).write.saveAsTable("fp_lines")
    assert data_fingerprint(config) == first
    # a row added, or one value changed, is other data: the next run rebuilds
    session.createDataFrame([rows[0]], schema).write.insertInto("fp_lines")
    added = data_fingerprint(config)
    session.sql("DROP TABLE fp_lines")
    session.createDataFrame([rows[0], ("1002", "B", 1, 1e7, None, "C2")], schema).write.saveAsTable("fp_lines")
    assert len({first, added, data_fingerprint(config)}) == 3


def test_what_a_catalog_table_cannot_be_is_refused(tmp_path, write_config, spark):
    columns = {"invoice": "InvoiceNo", "item": "StockCode", "quantity": "Quantity", "unit_price": "UnitPrice",
               "invoice_date": "InvoiceDate", "customer_id": "CustomerID"}
    session = _catalog(spark)
    session.sql("DROP TABLE IF EXISTS odd_lines")
    odd = session.createDataFrame([("1001", "A", 2, 3.5, dt.datetime(2025, 1, 5, 10), "C1", ["x"])],
                                  "InvoiceNo STRING, StockCode STRING, Quantity INT, UnitPrice DOUBLE, "
                                  "InvoiceDate TIMESTAMP, CustomerID STRING, Tags ARRAY<STRING>")
    odd.write.saveAsTable("odd_lines")
    config = load_config(write_config({"line_items": {"table": "odd_lines", "columns": columns}}, engine=spark))
    with pytest.raises(IntakeError, match=r"odd_lines: column 'Tags' holds array<string> values, which custseg "
                                          r"cannot read as text; give inputs.line_items.table a view"):
        run_intake(config)
    # a TIMESTAMP column is read as ISO text: a date_format, which would misread a part of it, is refused
    session.sql("CREATE OR REPLACE TEMPORARY VIEW plain_lines AS SELECT * EXCEPT (Tags) FROM odd_lines")
    config = load_config(write_config({"line_items": {"table": "plain_lines", "columns": columns,
                                                      "date_format": "%Y-%m-%d %H:%M:%S"}}, engine=spark))
    with pytest.raises(IntakeError, match=r"plain_lines: column 'InvoiceDate' is a TIMESTAMP column, read as ISO "
                                          r"text \(2010-12-01 08:26:00, .*remove inputs.line_items.date_format"):
        run_intake(config)
    config = load_config(write_config({"line_items": {"table": "plain_lines", "columns": {**columns,
                                                      "customer_id": "Customer"}}}, engine=spark))
    with pytest.raises(IntakeError, match=r"plain_lines: column 'Customer' \(mapped to 'customer_id' in "
                                          r"inputs.line_items.columns\) is not in the table; its columns are"):
        run_intake(config)
    config = load_config(write_config({"line_items": {"table": "no_such_lines", "columns": columns}}, engine=spark))
    with pytest.raises(IntakeError, match=r"no_such_lines: Spark cannot read the table \(.*no_such_lines"):
        run_intake(config)


def test_a_catalog_table_is_read_by_spark_only_and_for_line_items_only(write_config):
    columns = {"invoice": "InvoiceNo"}
    for engine in ({}, {"engine": {"name": "duckdb"}}):
        with pytest.raises(ConfigError, match=r"inputs\.line_items\.table: a table of Spark's catalog "
                                              r"\(shop\.lines\) is read by engine: spark, not by"):
            load_config(write_config({"line_items": {"table": "shop.lines", "columns": columns}}, **engine))
    with pytest.raises(ConfigError, match=r"inputs\.customers\.table: only inputs\.line_items can be a table"):
        load_config(write_config({"line_items": {"table": "shop.lines"}, "customers": {"table": "shop.people"}},
                                 engine={"name": "spark"}))
    with pytest.raises(ConfigError, match=r"inputs\.line_items\.table: 'shop lines' is not a table name"):
        load_config(write_config({"line_items": {"table": "shop lines"}}, engine={"name": "spark"}))
    config = load_config(write_config({"line_items": {"table": "main.`my shop`.lines"}}, engine={"name": "spark"}))
    assert config.inputs.line_items.table == "main.`my shop`.lines" and config.inputs.line_items.decimal == "."
