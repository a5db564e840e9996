"""Input tables defined by SQL over named files (DuckDB): the worked example config/sample_tables.yaml
rebuilds the plain sample's study from the marketplace tables `custseg sample --tables-out` writes;
a query's rows are validated, quarantined and accounted for like a file's; bad queries are refused
when the config loads; the rebuild fingerprint follows the SQL and every source file."""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd
import pytest
import yaml

from conftest import SAMPLE_INPUTS, study_config
from custseg.cli import main
from custseg.config import ConfigError, load_config
from custseg.intake.cleaning import IntakeError, format_accounting, run_intake
from custseg.pipeline import data_fingerprint, run
from custseg.sample.generator import SampleSpec, generate_sample, write_sample
from custseg.sample.marketplace import MARKETPLACE_TABLES, marketplace_tables, write_marketplace
from support.examples import example_inputs


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    """One 300-customer sample processed twice: from its plain files (as config/sample.yaml reads
    them) and from its marketplace tables by the example's queries. (plain config, tables config)."""
    root = tmp_path_factory.mktemp("tables")
    data = generate_sample(SampleSpec(n_customers=300, seed=5))
    write_sample(data, root / "plain" / "raw")
    write_marketplace(marketplace_tables(data.orders, data.customers, data.feedback, data.interactions,
                                         data.ground_truth, seed=5), root / "tables" / "raw")
    plain = load_config(study_config(root / "plain", SAMPLE_INPUTS, studies={"min_customers": 12}))
    tables = load_config(study_config(root / "tables", example_inputs(root / "tables" / "raw"),
                                      studies={"min_customers": 12}))
    for config in (plain, tables):
        run(config, echo=lambda *_: None)
    return plain, tables


def test_the_tables_example_processes_to_the_plain_samples_tables(both):
    plain, tables = both
    names = sorted(path.name for path in plain.output.processed.glob("*.parquet"))
    assert len(names) > 10 and names == sorted(path.name for path in tables.output.processed.glob("*.parquet"))
    for name in names:
        ours, theirs = (pd.read_parquet(config.output.processed / name) for config in (tables, plain))
        if name == "customers.parquet":
            # The one difference: the place as written. The plain export spells a place in many
            # ways (Shaanxi, 陕西省, SHAANXI ...), the tables as codes (CN, SN); both resolve to the
            # same country, province and market, which are compared with every other column.
            assert (ours["province_raw"] != theirs["province_raw"]).any()
            codes = ours["country_raw"].dropna()
            codes = codes[codes != ""]  # a person without a country in the tables
            assert len(codes) > 250 and codes.str.fullmatch(r"[A-Z]{2}").all()
            ours, theirs = (frame.drop(columns=["country_raw", "province_raw"]) for frame in (ours, theirs))
        pd.testing.assert_frame_equal(ours, theirs, check_exact=True, obj=name)
    # the clean tables too: the same customers, orders, amounts, dates and reviews
    for name in ("orders", "customers", "interactions", "feedback"):
        ours, theirs = (pd.read_parquet(config.output.interim / f"{name}.parquet") for config in (tables, plain))
        keep = [column for column in theirs.columns if column not in ("source_row", "country", "province")]
        pd.testing.assert_frame_equal(ours[keep], theirs[keep], check_exact=True, obj=name)


def test_the_accounting_names_each_query_and_its_sources_with_their_rows(both):
    _plain, tables = both
    raw = Path(tables.inputs.interactions.path).parent
    lines = {name: sum(1 for _ in (raw / f"{name}.csv").open(encoding="utf-8")) - 1 for name in MARKETPLACE_TABLES}
    sources = pd.read_csv(tables.output.interim / "sources.csv", encoding="utf-8-sig")
    orders = sources[sources["table"] == "orders"].set_index("source")
    assert set(orders["kind"]) == {"query"}
    assert orders["rows"].to_dict() == {name: lines[name] for name in ("customers", "order_items", "orders",
                                                                         "payments")}
    assert orders.loc["payments", "location"] == "payments.csv"
    assert sources.set_index("table").loc["interactions", "kind"] == "file"
    accounting = pd.read_csv(tables.output.interim / "accounting.csv", encoding="utf-8-sig").set_index("table")
    assert accounting.loc["orders", "file"] == "inputs.orders.sql"
    assert accounting.loc["orders", "format"] == "query"
    # every order the LEFT JOINs return is read: one result row per order row
    assert accounting.loc["orders", "rows_read"] == lines["orders"]


def test_the_quarantine_names_the_querys_output_row(write_config, write_csv):
    write_csv("orders.csv", "order_id,buyer\nA1,k1\nA2,k2\nA3,k3\n")
    write_csv("buyers.csv", "buyer,person\nk1,P1\nk2,P2\nk3,P1\n")
    write_csv("payments.csv", "order_id,value\nA1,10.00\nA2,oops\nA3,5.50\nA3,4.50\n")
    sql = ("SELECT o.order_id, b.person AS customer_id, '2026-01-0' || right(o.order_id, 1) AS order_date, "
           "p.value AS amount FROM orders o JOIN buyers b USING (buyer) "
           "LEFT JOIN (SELECT order_id, string_agg(value, '+' ORDER BY value) AS value FROM payments "
           "GROUP BY order_id) p USING (order_id)")
    config = load_config(write_config({"orders": {"sql": sql, "sources": {
        "orders": "orders.csv", "buyers": "buyers.csv", "payments": "payments.csv"}}}))
    result = run_intake(config)
    # the result is put in order by its values (A1, A2, A3) and numbered 1, 2, 3
    quarantine = result.quarantine.set_index("row")
    assert quarantine["file"].unique().tolist() == ["inputs.orders.sql"]
    assert quarantine.loc[2, "value"] == "oops" and quarantine.loc[2, "column"] == "amount"
    assert quarantine.loc[3, "value"] == "4.50+5.50"
    clean = result.tables["orders"]
    assert clean["order_id"].tolist() == ["A1"] and clean["amount"].tolist() == [10.0]


def test_sources_may_be_gzipped_or_globs_of_monthly_files(write_config, tmp_path: Path):
    months = {"2026-01": "M1,C1,2026-01-05,10.50\nM2,C2,2026-01-20,7.25\n", "2026-02": "M3,C1,2026-02-03,3.00\n"}
    for month, rows in months.items():
        (tmp_path / f"orders-{month}.csv").write_text("order_id,customer_id,order_date,amount\n" + rows,
                                                       encoding="utf-8")
    with gzip.open(tmp_path / "people.csv.gz", "wt", encoding="utf-8") as handle:
        handle.write("customer_id,name\nC1,Ann\nC2,Bo\n")
    config = load_config(write_config({
        "orders": {"sql": "SELECT * FROM orders", "sources": {"orders": "orders-2026-*.csv"}},
        "customers": {"sql": "SELECT customer_id, name AS customer_name FROM people",
                      "sources": {"people": {"path": "people.csv.gz"}}},
    }))
    result = run_intake(config)
    assert sorted(result.tables["orders"]["order_id"]) == ["M1", "M2", "M3"]
    assert result.tables["orders"]["amount"].sum() == pytest.approx(20.75)
    assert result.tables["customers"]["customer_name"].tolist() == ["Ann", "Bo"]
    files = result.sources.set_index("source").loc["orders"]
    assert files["files"] == 2 and files["rows"] == 3
    # what `custseg process` prints after intake: each query's sources with their files and rows
    shown = format_accounting(result.accounting, result.sources).splitlines()
    assert shown[-4] == "read by the queries:"
    assert shown[-2].split()[:5] == ["orders", "query", "orders", "2", "3"] and shown[-2].endswith("orders-2026-*.csv")
    assert shown[-1].split()[:5] == ["customers", "query", "people", "1", "2"]


def test_a_missing_source_file_names_the_table_and_the_source(write_config):
    config = load_config(write_config({"orders": {"sql": "SELECT * FROM orders",
                                                  "sources": {"orders": "exports/orders-*.csv"}}}))
    with pytest.raises(IntakeError, match=r"inputs\.orders\.sources\.orders: no file matches .*orders-\*\.csv"):
        run_intake(config)


@pytest.mark.parametrize("sql, sources, expected", [
    ("SELECT * FROM orderz", {"orders": "o.csv"}, r"inputs\.orders: the query reads 'orderz', which is not a "
                                                  r"source; its sources are \['orders'\]"),
    ("SELEC * FROM orders", {"orders": "o.csv"}, r"inputs\.orders: DuckDB cannot parse the query: syntax error"),
    ("SELECT 1 AS a", {"orders": "o.csv"}, r"source 'orders' is not used by the query"),
    ("SELECT * FROM read_csv('o.csv')", {"orders": "o.csv"}, r"calls read_csv\(\) in its FROM clause"),
    ("DELETE FROM orders", {"orders": "o.csv"}, r"one SELECT statement"),
    ("SELECT * FROM orders; SELECT * FROM orders", {"orders": "o.csv"}, r"one SELECT statement, found 2"),
    ("SELECT * FROM orders", {"my orders": "o.csv"}, r"'my orders' must be a plain SQL name"),
])
def test_a_query_that_cannot_run_is_refused_when_the_config_loads(write_config, sql, sources, expected):
    with pytest.raises(ConfigError, match=expected):
        load_config(write_config({"orders": {"sql": sql, "sources": sources}}))


def test_common_table_expressions_are_not_taken_for_sources(write_config, write_csv):
    write_csv("o.csv", "order_id,customer_id,order_date,amount\nX1,C1,2026-03-01,4\n")
    sql = "WITH recent AS (SELECT * FROM orders WHERE order_date >= '2026-01-01') SELECT * FROM recent"
    config = load_config(write_config({"orders": {"sql": sql, "sources": {"orders": "o.csv"}}}))
    assert run_intake(config).tables["orders"]["order_id"].tolist() == ["X1"]


def test_the_fingerprint_follows_the_sql_and_every_source_file(write_config, write_csv):
    write_csv("o.csv", "order_id,customer_id,order_date,amount\nX1,C1,2026-03-01,4\n")
    write_csv("p.csv", "customer_id,person\nC1,P1\n")
    sql = "SELECT o.order_id, p.person AS customer_id, o.order_date, o.amount FROM o JOIN p USING (customer_id)"
    path = write_config({"orders": {"sql": sql, "sources": {"o": "o.csv", "p": "p.csv"}}})
    before = data_fingerprint(load_config(path))
    assert data_fingerprint(load_config(path)) == before
    write_csv("p.csv", "customer_id,person\nC1,P2\n")  # a joined file changes: a new fingerprint
    changed = data_fingerprint(load_config(path))
    assert changed != before
    settings = yaml.safe_load(path.read_text(encoding="utf-8"))
    settings["inputs"]["orders"]["sql"] = sql.replace("o.amount", "o.amount * 2 AS amount")
    path.write_text(yaml.safe_dump(settings), encoding="utf-8")
    assert data_fingerprint(load_config(path)) not in (before, changed)


def test_custseg_sample_writes_the_tables_the_example_reads(tmp_path: Path, capsys):
    out, tables = tmp_path / "sample", tmp_path / "tables"
    assert main(["sample", "--out", str(out), "--customers", "120", "--seed", "3", "--tables-out", str(tables)]) == 0
    assert sorted(path.stem for path in tables.glob("*.csv")) == sorted(MARKETPLACE_TABLES)
    orders = pd.read_csv(tables / "orders.csv", dtype=str)
    people = pd.read_csv(tables / "people.csv", dtype=str, keep_default_na=False)
    customers = pd.read_csv(tables / "customers.csv", dtype=str)
    # one customer id per order, a person id per person: the join is needed
    assert customers["customer_id"].is_unique and len(customers) == len(orders)
    assert customers["person_id"].nunique() < len(customers)
    assert set(customers["person_id"].dropna()) <= set(people["person_id"])  # a few orders have no buyer (planted)
    assert "amount" not in orders.columns
    # an order's payments and its items with freight add up to the same amount, to the cent
    items = pd.read_csv(tables / "order_items.csv", dtype={"order_id": str})
    payments = pd.read_csv(tables / "payments.csv", dtype={"order_id": str})
    goods = (items["price"] + items["freight_value"]).mul(100).round().groupby(items["order_id"]).sum()
    paid = payments["payment_value"].mul(100).round().groupby(payments["order_id"]).sum()
    assert goods.sort_index().equals(paid.sort_index())
    placed = people[people["state"] != ""]
    assert len(placed) and placed["state"].str.fullmatch(r"[A-Z0-9]{1,3}").all()
    # written again: byte for byte the same files
    again = tmp_path / "again"
    main(["sample", "--out", str(tmp_path / "sample2"), "--customers", "120", "--seed", "3",
          "--tables-out", str(again)])
    for path in sorted(tables.glob("*.csv")):
        assert path.read_bytes() == (again / path.name).read_bytes()
