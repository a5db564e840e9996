"""Files as people get them (issue 17): compressed exports, zip archives, a pattern of monthly
files, several sheets of a workbook, and a mapping onto a name the file already uses.

Every case is built from the generated sample's real files, split and compressed in tmp_path,
and must give the clean tables the single plain file gives, row for row (the row's file and its
line there apart).
"""

from __future__ import annotations

import gzip
import io
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import yaml

from custseg.config import load_config
from custseg.intake import IntakeError
from custseg.intake.cleaning import format_accounting, run_intake
from custseg.pipeline import data_fingerprint
from custseg.sample.generator import SampleSpec, generate_sample, write_line_items, write_sample

SOURCE_COLUMNS = ["source_row", "source_file", "source_sheet"]


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    """The generated sample's raw files (orders, customers, line items...) in a folder of their own."""
    root = tmp_path_factory.mktemp("files_sample")
    data = generate_sample(SampleSpec(n_customers=300, seed=5))
    write_sample(data, root)
    write_line_items(data, root)
    return root


def _config(folder: Path, inputs: dict, **overrides) -> Path:
    """A study config in ``folder`` for ``inputs`` (paths relative to it), outputs beside it."""
    out = folder.with_name(f"{folder.name}-out")
    path = folder / "study.yaml"
    path.write_text(yaml.safe_dump({
        "study": {"name": "t", "title": "T"},
        "inputs": inputs,
        "currency": yaml.safe_load((Path(__file__).parents[1] / "config/sample.yaml").read_text())["currency"],
        "output": {key: str(out / key) for key in ("interim", "processed", "reports", "build", "exports")},
        "cleaning": {"latest_date": "2030-01-01"},
        **overrides,
    }, allow_unicode=True), encoding="utf-8")
    return path


def _intake(folder: Path, inputs: dict, **overrides):
    return run_intake(load_config(_config(folder, inputs, **overrides)))


@pytest.fixture(scope="module")
def plain(sample: Path, tmp_path_factory):
    """Intake of the plain orders and line-item files: the tables every other form must give."""
    folder = tmp_path_factory.mktemp("plain")
    for name in ("orders.csv", "line_items.csv"):
        (folder / name).write_bytes((sample / name).read_bytes())
    orders = _intake(folder, {"orders": "orders.csv"})
    lines = _intake(folder, {"line_items": {"path": "line_items.csv", "columns": LINE_COLUMNS}})
    return orders, lines


LINE_COLUMNS = {"invoice": "InvoiceNo", "item": "StockCode", "description": "Description", "quantity": "Quantity",
                "unit_price": "UnitPrice", "invoice_date": "InvoiceDate", "customer_id": "CustomerID",
                "country": "Country", "currency": "Currency", "category": "Category"}


def _same(got: pd.DataFrame, want: pd.DataFrame) -> None:
    """Equal row for row, but for where each row came from."""
    pd.testing.assert_frame_equal(
        got.drop(columns=[c for c in SOURCE_COLUMNS if c in got]),
        want.drop(columns=[c for c in SOURCE_COLUMNS if c in want]),
    )


def _by_month(path: Path, date_column: str) -> dict[str, pd.DataFrame]:
    """The rows of a CSV file split by the month of ``date_column``, in the file's order."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    month = frame[date_column].str[:7]
    return {m: frame.loc[month == m] for m in sorted(month.unique())}


# --- compressed files ---------------------------------------------------------------------------


@pytest.mark.parametrize("suffix, sep", [(".csv.gz", ","), (".tsv.gz", "\t"), (".txt.gz", ";")])
def test_gzipped_exports_read_as_the_plain_file(sample, plain, tmp_path, suffix, sep):
    text = pd.read_csv(sample / "orders.csv", dtype=str, keep_default_na=False).to_csv(index=False, sep=sep)
    (tmp_path / f"orders{suffix}").write_bytes(gzip.compress(text.encode("utf-8")))
    got = _intake(tmp_path, {"orders": f"orders{suffix}"})
    _same(got.tables["orders"], plain[0].tables["orders"])
    assert got.accounting["rows_read"].tolist() == plain[0].accounting["rows_read"].tolist()


def test_zip_with_one_member_is_read_as_that_file(sample, plain, tmp_path):
    with zipfile.ZipFile(tmp_path / "orders.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(sample / "orders.csv", "export/orders.csv")
        archive.writestr("__MACOSX/export/._orders.csv", b"\x00\x05\x16\x07")  # what a Mac adds
    got = _intake(tmp_path, {"orders": "orders.zip"})
    pd.testing.assert_frame_equal(got.tables["orders"], plain[0].tables["orders"])


def test_zip_with_several_members_needs_member_and_lists_them(sample, plain, tmp_path):
    with zipfile.ZipFile(tmp_path / "export.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(sample / "customers.csv", "customers.csv")
        archive.writestr("orders.xlsx", _workbook({"orders": pd.read_csv(sample / "orders.csv", dtype=str,
                                                                          keep_default_na=False)}))
    with pytest.raises(IntakeError, match=r"holds 2 files \('customers.csv', 'orders.xlsx'\).*member"):
        _intake(tmp_path, {"orders": "export.zip"})
    with pytest.raises(IntakeError, match=r"has no file 'orders.csv'; it holds 'customers.csv', 'orders.xlsx'"):
        _intake(tmp_path, {"orders": {"path": "export.zip", "member": "orders.csv"}})
    got = _intake(tmp_path, {"orders": {"path": "export.zip", "member": "orders.xlsx"}})  # Excel inside
    _same(got.tables["orders"], plain[0].tables["orders"])
    assert got.accounting["format"].tolist() == ["excel"]


# --- a pattern of monthly files -----------------------------------------------------------------


def _monthly(sample: Path, folder: Path, name: str, date_column: str) -> dict[str, pd.DataFrame]:
    (folder / "exports").mkdir()
    months = _by_month(sample / f"{name}.csv", date_column)
    for month, rows in months.items():
        rows.to_csv(folder / "exports" / f"{name}-{month}.csv", index=False)
    return months


def test_monthly_orders_give_the_orders_of_the_single_file(sample, plain, tmp_path):
    months = _monthly(sample, tmp_path, "orders", "order_date")
    assert len(months) > 6
    got = _intake(tmp_path, {"orders": "exports/orders-*.csv"})
    orders = got.tables["orders"]
    _same(orders, plain[0].tables["orders"])
    # each row names its file and its line there (the header is line 1)
    for i in (0, len(orders) // 2, len(orders) - 1):
        row = orders.iloc[i]
        lines = (tmp_path / "exports" / row["source_file"]).read_text(encoding="utf-8").splitlines()
        assert lines[row["source_row"] - 1].split(",")[0] == row["order_id"]
    # one accounting row per file, each adding up, with the file's rows
    accounting = got.accounting
    assert accounting["file"].tolist() == [f"orders-{m}.csv" for m in months]
    assert accounting["rows_read"].tolist() == [len(rows) for rows in months.values()]
    assert (accounting["rows_read"] == accounting["clean"] + accounting["quarantined"]
            + accounting["duplicates_removed"]).all()
    assert accounting["rows_read"].sum() == plain[0].accounting["rows_read"].sum()


def test_a_hostile_monthly_file_is_named_with_its_line(sample, tmp_path):
    months = _monthly(sample, tmp_path, "orders", "order_date")
    hostile = list(months)[3]
    path = tmp_path / "exports" / f"orders-{hostile}.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    fields = lines[4].split(",")
    fields[2] = "2024-13-45"  # order_date
    lines[4] = ",".join(fields)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(IntakeError, match=rf"orders-{hostile}.csv row 5: '2024-13-45'"):
        _intake(tmp_path, {"orders": "exports/orders-*.csv"})
    got = _intake(tmp_path, {"orders": "exports/orders-*.csv"}, cleaning={"latest_date": "2030-01-01",
                                                                          "stop_on": []})
    bad = got.quarantine.loc[got.quarantine["reason"] == "bad_date"]
    assert bad[["file", "row", "value"]].values.tolist() == [[str(path), 5, "2024-13-45"]]
    row = got.accounting.loc[got.accounting["file"] == path.name].iloc[0]
    assert (row["rows_read"], row["q_bad_date"]) == (len(months[hostile]), 1)
    assert row["rows_read"] == row["clean"] + row["quarantined"] + row["duplicates_removed"]


def test_monthly_files_must_share_their_columns(sample, tmp_path):
    months = _monthly(sample, tmp_path, "orders", "order_date")
    odd = tmp_path / "exports" / f"orders-{list(months)[2]}.csv"
    months[list(months)[2]].drop(columns="status").to_csv(odd, index=False)
    with pytest.raises(IntakeError, match=rf"{odd.name}: column 'status' is missing, but .*orders-{list(months)[0]}"):
        _intake(tmp_path, {"orders": "exports/orders-*.csv"})


def test_a_pattern_that_matches_nothing_says_where_it_looked(tmp_path):
    (tmp_path / "exports").mkdir()
    with pytest.raises(IntakeError, match=r"no file matches this pattern \(looked in .*exports\)"):
        _intake(tmp_path, {"orders": "exports/orders-*.csv"})


def test_files_an_open_spreadsheet_leaves_beside_the_exports_are_no_matches(sample, plain, tmp_path):
    months = _monthly(sample, tmp_path, "orders", "order_date")
    # Excel's owner file of an open export, and LibreOffice's lock file: a few bytes, no table
    (tmp_path / "exports" / f"~$orders-{list(months)[1]}.csv").write_bytes(b"\x0bAnalyst\x00" * 8)
    (tmp_path / "exports" / f".~lock.orders-{list(months)[1]}.csv#").write_text("Analyst,host,", encoding="utf-8")
    got = _intake(tmp_path, {"orders": "exports/*orders-*.csv*"})
    _same(got.tables["orders"], plain[0].tables["orders"])
    assert got.accounting["file"].tolist() == [f"orders-{m}.csv" for m in months]


def test_monthly_line_items_give_the_orders_of_the_single_file(sample, plain, tmp_path):
    _monthly(sample, tmp_path, "line_items", "InvoiceDate")
    got = _intake(tmp_path, {"line_items": {"path": "exports/line_items-*.csv", "columns": LINE_COLUMNS}})
    want = plain[1]
    for name in ("orders", "customers", "line_items"):
        _same(got.tables[name], want.tables[name])
    _same(got.quarantine.drop(columns=["file", "row"]), want.quarantine.drop(columns=["file", "row"]))
    pd.testing.assert_frame_equal(got.reversals, want.reversals)
    assert len(got.matches) == len(want.matches)


def test_a_new_monthly_file_changes_the_data_fingerprint(sample, tmp_path):
    months = _monthly(sample, tmp_path, "orders", "order_date")
    last = list(months)[-1]
    moved = tmp_path / f"orders-{last}.csv"
    (tmp_path / "exports" / f"orders-{last}.csv").rename(moved)
    config = load_config(_config(tmp_path, {"orders": "exports/orders-*.csv"}))
    before = data_fingerprint(config)
    assert data_fingerprint(config) == before
    moved.rename(tmp_path / "exports" / moved.name)
    assert data_fingerprint(config) != before


# --- several sheets of a workbook ---------------------------------------------------------------


def _workbook(sheets: dict[str, pd.DataFrame]) -> bytes:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, frame in sheets.items():
        sheet = book.create_sheet(name)
        sheet.append(list(frame.columns))
        for row in frame.itertuples(index=False):
            sheet.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_sheets_of_a_workbook_read_as_one_table(sample, plain, tmp_path):
    months = _by_month(sample / "orders.csv", "order_date")
    (tmp_path / "orders.xlsx").write_bytes(_workbook(months))
    every = _intake(tmp_path, {"orders": {"path": "orders.xlsx", "sheets": "all"}})
    _same(every.tables["orders"], plain[0].tables["orders"])
    assert every.accounting["file"].tolist() == [f"orders.xlsx (sheet {m})" for m in months]
    orders = every.tables["orders"]
    row = orders.iloc[len(orders) // 2]
    found = months[row["source_sheet"]].iloc[row["source_row"] - 2]  # row 1 is the header
    assert (row["source_file"], found["order_id"]) == ("orders.xlsx", row["order_id"])
    two = list(months)[:2]
    some = _intake(tmp_path, {"orders": {"path": "orders.xlsx", "sheets": two}})
    assert some.accounting["rows_read"].tolist() == [len(months[m]) for m in two]
    with pytest.raises(ValueError, match="sheet .*or sheets"):
        load_config(_config(tmp_path, {"orders": {"path": "orders.xlsx", "sheet": 0, "sheets": two}}))


# --- a mapping onto a name the file already uses ------------------------------------------------


def test_a_column_mapped_onto_a_name_the_file_uses_moves_the_file_column_aside(sample, tmp_path):
    # A marketplace's orders: customer_id is per order, person_id the person's id across orders.
    orders = pd.read_csv(sample / "orders.csv", dtype=str, keep_default_na=False)
    orders = orders.assign(person_id=orders["customer_id"], customer_id="ord-" + orders["order_id"])
    orders.to_csv(tmp_path / "orders.csv", index=False)
    got = _intake(tmp_path, {"orders": {"path": "orders.csv", "columns": {"customer_id": "person_id"}}})
    clean = got.tables["orders"].set_index("order_id")["customer_id"]
    want = orders.set_index("order_id")["person_id"]
    assert clean.to_dict() == want.loc[clean.index].to_dict()
    assert clean.nunique() < len(clean)  # people with several orders: the per-order id was not used
    assert got.accounting["moved_aside"].tolist() == ["customer_id"]
    assert format_accounting(got.accounting).splitlines()[-1] == (
        "orders.csv: its own column customer_id was renamed to 'customer_id (file)': inputs.orders.columns maps "
        "another column of the file to customer_id")


# --- real data ----------------------------------------------------------------------------------


def test_online_retail_split_by_month_gives_the_orders_of_the_single_file(real_data, online_retail_config, tmp_path):
    from conftest import ONLINE_RETAIL

    whole = run_intake(load_config(online_retail_config(tmp_path)))
    raw = pd.read_csv(real_data / ONLINE_RETAIL, dtype=str, keep_default_na=False)
    month = raw["InvoiceDate"].str[:7]
    (tmp_path / "monthly").mkdir()
    for m in sorted(month.unique()):
        text = raw.loc[month == m].to_csv(index=False).encode("utf-8")
        (tmp_path / "monthly" / f"online_retail-{m}.csv.gz").write_bytes(gzip.compress(text, mtime=0))
    config = yaml.safe_load((tmp_path / "study.yaml").read_text(encoding="utf-8"))
    config["inputs"]["line_items"]["path"] = str(tmp_path / "monthly" / "online_retail-*.csv.gz")
    (tmp_path / "study.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    split = run_intake(load_config(tmp_path / "study.yaml"))

    key = ["order_id", "reverses"]
    got = split.tables["orders"].sort_values(key, na_position="first").reset_index(drop=True)
    want = whole.tables["orders"].sort_values(key, na_position="first").reset_index(drop=True)
    _same(got, want)
    assert len(got) > 20_000  # the real export's orders, not an empty table
    figures = ["rows_read", "clean", "quarantined", "duplicates_removed"]
    counts = split.accounting[figures].sum()
    assert counts.tolist() == whole.accounting[figures].sum().tolist()
    assert split.accounting["rows_read"].tolist() == month.value_counts().sort_index().tolist()
    assert counts["rows_read"] == len(raw)


def test_the_quality_page_notes_a_column_moved_aside(sample, tmp_path):
    from custseg import i18n
    from custseg.intake.quality import accounting_table
    from custseg.studies.quality import QualityStudy

    orders = pd.read_csv(sample / "orders.csv", dtype=str, keep_default_na=False)
    orders.assign(person_id=orders["customer_id"]).to_csv(tmp_path / "orders.csv", index=False)
    got = _intake(tmp_path, {"orders": {"path": "orders.csv", "columns": {"customer_id": "person_id"}}})
    table = accounting_table(got.accounting)
    with i18n.language("en"):
        notes = [note.text for note in QualityStudy._moved_aside(table)]
    assert notes == ['orders.csv has a column customer_id of its own, and the config maps another column of the '
                     'file to customer_id: the mapped one is used, and the file\'s own was renamed to '
                     '"customer_id (file)".']
    with i18n.language("zh"):
        assert "customer_id (file)" in QualityStudy._moved_aside(table)[0].text
    plain = _intake(tmp_path, {"orders": "orders.csv"})
    assert QualityStudy._moved_aside(accounting_table(plain.accounting)) == []


# --- the whole pipeline -------------------------------------------------------------------------


def test_every_table_as_people_get_it_gives_the_processed_tables_of_the_plain_files(sample, tmp_path):
    """Orders a .csv.gz a month, customers as two sheets of a workbook inside a zip archive beside
    another file, interactions a CSV a month, feedback a .tsv.gz: the pipeline's processed tables and
    exports are those of the four plain files, and adding a month's file makes the run stale."""
    from custseg.pipeline import run, stale_reason

    tables = {name: pd.read_csv(sample / f"{name}.csv", dtype=str, keep_default_na=False)
              for name in ("orders", "customers", "interactions", "feedback")}
    plain_dir, got_dir = tmp_path / "plain", tmp_path / "got"
    for folder in (plain_dir, got_dir / "exports"):
        folder.mkdir(parents=True)
    for name in tables:
        (plain_dir / f"{name}.csv").write_bytes((sample / f"{name}.csv").read_bytes())
    for name, column in (("orders", "order_date"), ("interactions", "interaction_date")):
        for month, rows in _by_month(sample / f"{name}.csv", column).items():
            text = rows.to_csv(index=False).encode("utf-8")
            suffix = ".csv.gz" if name == "orders" else ".csv"
            (got_dir / "exports" / f"{name}-{month}{suffix}").write_bytes(
                gzip.compress(text, mtime=0) if name == "orders" else text)
    customers = tables["customers"]
    half = len(customers) // 2
    with zipfile.ZipFile(got_dir / "crm.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("crm/customers.xlsx", _workbook({"A": customers.iloc[:half], "B": customers.iloc[half:]}))
        archive.writestr("crm/README.txt", "customers export")
    (got_dir / "feedback.tsv.gz").write_bytes(gzip.compress(tables["feedback"].to_csv(index=False, sep="\t").encode()))

    plain_config = load_config(_config(plain_dir, {name: f"{name}.csv" for name in tables}))
    got_config = load_config(_config(got_dir, {
        "orders": "exports/orders-*.csv.gz",
        "customers": {"path": "crm.zip", "member": "crm/customers.xlsx", "sheets": "all"},
        "interactions": "exports/interactions-*.csv",
        "feedback": "feedback.tsv.gz",
    }))
    for config in (plain_config, got_config):
        run(config, echo=lambda *_: None)

    want_files = sorted(p.name for p in plain_config.output.processed.glob("*.parquet"))
    assert len(want_files) > 8
    assert sorted(p.name for p in got_config.output.processed.glob("*.parquet")) == want_files
    for name in want_files:
        got = pd.read_parquet(got_config.output.processed / name)
        want = pd.read_parquet(plain_config.output.processed / name)
        assert not {"source_file", "source_sheet"} & set(got.columns), name
        pd.testing.assert_frame_equal(got, want, obj=name)
    for name in ("customer_segments.csv", "churn_watchlist.csv"):
        assert (got_config.output.exports / name).read_bytes() == (plain_config.output.exports / name).read_bytes()
    accounting = pd.read_csv(got_config.output.interim / "accounting.csv", encoding="utf-8-sig")
    assert accounting.loc[accounting["table"] == "customers", "file"].tolist() == [
        "crm.zip (sheet A)", "crm.zip (sheet B)"]
    assert accounting.loc[accounting["table"] == "customers", "rows_read"].tolist() == [half, len(customers) - half]
    assert accounting.groupby("table")["rows_read"].sum().to_dict() == {name: len(t) for name, t in tables.items()}

    # the data-quality page reads the clean tables with their source columns, and lists each file
    from custseg.studies.quality import QualityStudy

    page = QualityStudy.from_config(got_config, "en")
    shown = {name: getattr(page, name)()._repr_html_() for name in (
        "accounting", "quarantine", "reversals", "missing_values", "date_coverage", "region_coverage")}
    assert "crm.zip (sheet B)" in shown["accounting"] and "feedback.tsv.gz" in shown["accounting"]
    assert all(f"orders-{month}.csv.gz" in shown["accounting"] for month in _by_month(sample / "orders.csv",
                                                                                        "order_date"))
    assert "source_file" not in shown["missing_values"]

    assert stale_reason(got_config) is None
    last = sorted((got_dir / "exports").glob("interactions-*.csv"))[-1]
    last.rename(last.with_name("interactions-9999-01.csv.bak"))
    assert stale_reason(got_config) is not None  # a month less: the data changed
    for path in (got_dir / "exports").glob("interactions-*.csv"):
        path.unlink()
    with pytest.raises(IntakeError, match=r"interactions: .*no file matches this pattern"):  # an error, no traceback
        stale_reason(got_config)
