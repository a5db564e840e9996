"""Hostile input: exports as new users (and attackers) hand them over, each read as the file means it.

Every case is a small input file and what intake must do with it: read a value right, quarantine
a row with its reason and column, or stop with an error that names the file and says what to
change. Nothing is misread silently and nothing ends in a traceback. The cases of issue 14 are
here, with more of the same kind; faults of the outputs (read-only or full folders, failed builds)
are tested with the build.
"""

from __future__ import annotations

import gzip
import io
import random
from dataclasses import dataclass, field

import openpyxl
import pandas as pd
import pytest

from conftest import CURRENCY as SAMPLE_CURRENCY
from custseg.config import ConfigError, load_config
from custseg.intake.cleaning import IntakeError, quarantine_sheet, run_intake, write_intake
from custseg.sample.generator import SampleSpec, generate_sample, write_sample

H = "order_id,customer_id,order_date,amount"  # an orders export at its smallest
EU = "order_id;customer_id;order_date;amount"  # the same from a European Excel
GOOD = "O9,C9,2024-01-09,9.00"  # a row that is always clean, so a file is never quarantined whole


@dataclass(frozen=True)
class Read:
    """The clean table holds these values in ``column``, in the order of the file."""

    column: str
    values: list
    table: str = ""  # default: the case's table


@dataclass(frozen=True)
class Quarantined:
    """Line ``row`` of the file is quarantined for ``reason`` in ``column``; the detail says ``detail``."""

    row: int
    reason: str
    column: str
    detail: str = ""


@dataclass(frozen=True)
class Refused:
    """Intake stops with an error that names the file and matches ``pattern``."""

    pattern: str


@dataclass(frozen=True)
class Case:
    name: str
    data: str | bytes
    expect: Read | Quarantined | Refused
    encoding: str = "utf-8"
    file: str = "orders.csv"
    table: str = "orders"
    spec: dict = field(default_factory=dict)  # more keys of inputs.<table>
    config: dict = field(default_factory=dict)  # top-level config keys

    def __str__(self) -> str:
        return self.name


def lines(*rows: str) -> str:
    return "\n".join(rows) + "\n"


LINE_COLUMNS = {"invoice": "Invoice", "quantity": "Quantity", "unit_price": "Price", "invoice_date": "Date",
                "customer_id": "Customer"}
EUR = {"currency": {"base": "CNY", "rates": {"USD": 7.0, "EUR": 7.8, "HKD": 0.92}}}

CASES = [
    # --- numbers: the decimal separator -------------------------------------------------------
    Case("decimal comma 415,70", lines(EU, "O1;C1;2024-01-05;415,70", "O2;C1;2024-01-06;12,5"),
         Read("amount", [415.7, 12.5])),
    Case("points group, comma decimal 4.040,82",
         lines(EU, "O1;C1;2024-01-05;4.040,82", "O2;C1;2024-01-06;1.234.567,89"),
         Read("amount", [4040.82, 1234567.89])),
    Case("commas group, point decimal 1,234.50",
         lines(H, 'O1,C1,2024-01-05,"1,234.50"', 'O2,C1,2024-01-06,"1,234,567"'),
         Read("amount", [1234.5, 1234567.0])),
    Case("European ; export read right (revenue was 26x too high)",
         lines(EU + ";currency", "O1;C1;05.01.2024;1.299,00;EUR", "O2;C2;06.01.2024;415,70;EUR",
               "O3;C2;07.01.2024;89,90;EUR"),
         Read("amount", [1299.0, 415.7, 89.9]), spec={"date_format": "%d.%m.%Y"}, config=EUR),
    Case("1,234 alone: ambiguous, quarantined naming the setting",
         lines(H, 'O1,C1,2024-01-05,"1,234"', "O2,C1,2024-01-06,7"),
         Quarantined(2, "ambiguous_number", "amount", "set inputs.orders.decimal")),
    Case("1,234 beside 10.50: the column uses a decimal point",
         lines(H, 'O1,C1,2024-01-05,"1,234"', "O2,C1,2024-01-06,10.50"),
         Read("amount", [1234.0, 10.5])),
    Case("1.234 beside 415,70: the column uses a decimal comma",
         lines(EU, "O1;C1;2024-01-05;1.234", "O2;C1;2024-01-06;415,70"),
         Read("amount", [1234.0, 415.7])),
    Case("decimal ',' set: 1,234 is 1.234", lines(H, 'O1,C1,2024-01-05,"1,234"'), Read("amount", [1.234]),
         spec={"decimal": ","}),
    Case("decimal '.' set: 1,234 is 1234", lines(H, 'O1,C1,2024-01-05,"1,234"'), Read("amount", [1234.0]),
         spec={"decimal": "."}),
    Case("decimal '.' set: 415,70 is no number", lines(EU, "O1;C1;2024-01-05;415,70", "O9;C9;2024-01-09;9"),
         Quarantined(2, "bad_number", "amount"), spec={"decimal": "."}),
    Case("both conventions in one column: 1,234 cannot be told",
         lines(H, 'O1,C1,2024-01-05,"1,234.50"', 'O2,C1,2024-01-06,"415,70"', 'O3,C1,2024-01-07,"1,234"'),
         Quarantined(4, "ambiguous_number", "amount")),
    Case("quantity 1,000 takes the convention of the unit price",
         lines("Invoice,Quantity,Price,Date,Customer", 'A1,"1,000",2.50,2024-01-05,C1', "A2,3,1.25,2024-01-06,C1"),
         Read("quantity", [1000.0, 3.0]), file="lines.csv", table="line_items", spec={"columns": LINE_COLUMNS}),
    Case("mixed separators 1,23.45: no number", lines(H, 'O1,C1,2024-01-05,"1,23.45"', GOOD),
         Quarantined(2, "bad_number", "amount")),
    Case("points as in a version number 1.2.3", lines(H, "O1,C1,2024-01-05,1.2.3", GOOD),
         Quarantined(2, "bad_number", "amount")),
    Case("thousands with spaces 1 234,50", lines(EU, "O1;C1;2024-01-05;1 234,50"), Read("amount", [1234.5])),
    Case("thousands with non-breaking spaces",
         lines(EU, "O1;C1;2024-01-05;1\u00a0234,50", "O2;C1;2024-01-06;2\u202f000,00"),
         Read("amount", [1234.5, 2000.0])),
    Case("Swiss apostrophes 1'234.50", lines(H, "O1,C1,2024-01-05,1'234.50"), Read("amount", [1234.5])),
    Case("Indian grouping 12,34,567.00", lines(H, 'O1,C1,2024-01-05,"12,34,567.00"'), Read("amount", [1234567.0])),
    Case("accounting negative (1,234.50) is a return", lines(H, 'O1,C1,2024-01-05,"(1,234.50)"'),
         Read("status", ["returned"])),
    Case("trailing minus 12.50- (SAP)", lines(H, "O1,C1,2024-01-05,12.50-"), Read("amount", [-12.5])),
    Case("negative zero is zero", lines(H, "O1,C1,2024-01-05,-0", GOOD), Quarantined(2, "zero_amount", "amount")),
    Case("negative zero kept as 0.0, not -0.0", lines(H, "O1,C1,2024-01-05,-0.00"), Read("amount", [0.0]),
         config={"cleaning": {"stop_on": [], "zero_amount": "keep"}}),
    Case("Arabic-Indic digits", lines(H, "O1,C1,2024-01-05,١٢٣٫٥"), Read("amount", [123.5])),
    Case("full-width digits and point", lines(H, "O1,C1,2024-01-05,１２３．５"), Read("amount", [123.5])),
    # --- numbers that are no numbers ------------------------------------------------------------
    *(Case(f"non-finite {text}", lines(H, f"O1,C1,2024-01-05,{text}", GOOD), Quarantined(2, "bad_number", "amount"))
      for text in ("inf", "-inf", "Infinity", "NaN", "1e400", "-1e999")),
    Case("a currency code that does not exist", lines(H, "O1,C1,2024-01-05,100 XYZ", GOOD),
         Quarantined(2, "bad_number", "amount")),
    Case("a currency sign on a satisfaction score",
         lines("customer_id,feedback_date,satisfaction", "C1,2024-01-05,$4", "C2,2024-01-06,4"),
         Quarantined(2, "bad_number", "satisfaction"), file="feedback.csv", table="feedback"),
    # --- currency signs -------------------------------------------------------------------------
    Case("$100 in a CNY row", lines(H + ",currency", "O1,C1,2024-01-05,$100,CNY", GOOD + ",CNY"),
         Quarantined(2, "currency_mismatch", "amount", "the row's currency is CNY")),
    Case("$100 without a currency column, base CNY", lines(H, "O1,C1,2024-01-05,$100", GOOD),
         Quarantined(2, "currency_mismatch", "amount")),
    Case("$100 in a USD row", lines(H + ",currency", "O1,C1,2024-01-05,$100,USD"), Read("amount_base", [700.0])),
    Case("¥99 in a CNY row", lines(H, "O1,C1,2024-01-05,¥99", "O2,C1,2024-01-06,￥12.50"),
         Read("amount", [99.0, 12.5])),
    Case("99元 and RMB 1,200.00", lines(H, "O1,C1,2024-01-05,99元", 'O2,C1,2024-01-06,"RMB 1,200.00"'),
         Read("amount", [99.0, 1200.0])),
    Case("€12,50 in a EUR row", lines(EU + ";currency", "O1;C1;2024-01-05;€12,50;EUR", "O2;C1;2024-01-06;7,00 €;EUR"),
         Read("amount", [12.5, 7.0]), config=EUR),
    Case("US$ in an HKD row", lines(H + ",currency", "O1,C1,2024-01-05,US$5,HKD", GOOD + ",CNY"),
         Quarantined(2, "currency_mismatch", "amount"), config=EUR),
    Case("€ in a USD row", lines(H + ",currency", "O1,C1,2024-01-05,€5,USD", GOOD + ",CNY"),
         Quarantined(2, "currency_mismatch", "amount")),
    # --- dates and times ------------------------------------------------------------------------
    Case("offset +08:00: wall clock kept",
         lines(H, "O1,C1,2024-01-05T10:00:00+08:00,5", "O2,C1,2024-01-06T23:30:00Z,5"),
         Read("order_date", [pd.Timestamp("2024-01-05 10:00"), pd.Timestamp("2024-01-06 23:30")])),
    Case("offsets converted to cleaning.timezone",
         lines(H, "O1,C1,2024-01-05T10:00:00+08:00,5", "O2,C1,2024-01-06T23:30:00Z,5", "O3,C1,2024-01-07 09:00,5"),
         Read("order_date", [pd.Timestamp("2024-01-05 10:00"), pd.Timestamp("2024-01-07 07:30"),
                             pd.Timestamp("2024-01-07 09:00")]),
         config={"cleaning": {"stop_on": [], "timezone": "Asia/Shanghai"}}),
    Case("daylight saving offsets +01:00 and +02:00 as written",
         lines(H, "O1,C1,2024-03-30 23:30:00+01:00,5", "O2,C1,2024-03-31 23:30:00+02:00,5"),
         Read("order_date", [pd.Timestamp("2024-03-30 23:30"), pd.Timestamp("2024-03-31 23:30")])),
    Case("offset after a format with %z", lines(H, "O1,C1,05/01/2024 10:00 +0800,5"),
         Read("order_date", [pd.Timestamp("2024-01-05 02:00")]),
         spec={"date_format": "%d/%m/%Y %H:%M %z"}, config={"cleaning": {"stop_on": [], "timezone": "UTC"}}),
    Case("an offset of +25:00", lines(H, "O1,C1,2024-01-05T10:00:00+25:00,5", GOOD),
         Quarantined(2, "bad_date", "order_date")),
    Case("a time zone that does not exist", lines(H, GOOD),
         Refused(r"cleaning\.timezone.*unknown time zone 'Mars/Olympus'"),
         config={"cleaning": {"timezone": "Mars/Olympus"}}),
    Case("2024-02-30 stops intake naming file, column and row", lines(H, "O1,C1,2024-02-30,5", GOOD),
         Refused(r"column 'order_date'.*row 2: '2024-02-30'"), config={"cleaning": {"stop_on": ["bad_date"]}}),
    Case("31/12/2024 without date_format", lines(H, "O1,C1,31/12/2024,5", GOOD),
         Refused(r"row 2: '31/12/2024'.*set inputs\.orders\.date_format"),
         config={"cleaning": {"stop_on": ["bad_date"]}}),
    Case("an Excel serial date in a CSV", lines(H, "O1,C1,45292,5", GOOD), Quarantined(2, "bad_date", "order_date")),
    Case("a year alone is no date", lines(H, "O1,C1,2024,5", GOOD), Quarantined(2, "bad_date", "order_date")),
    Case("a month alone is no date", lines(H, "O1,C1,2024-03,5", GOOD), Quarantined(2, "bad_date", "order_date")),
    Case("basic ISO 20240105", lines(H, "O1,C1,20240105,5"), Read("order_date", [pd.Timestamp("2024-01-05")])),
    # --- rows -----------------------------------------------------------------------------------
    Case("a row cut short: a cancelled order must not turn completed",
         lines(H + ",status", "O1,C1,2024-01-05,5,cancelled", "O2,C1,2024-01-06,5", "O3,C1,2024-01-07,5,completed"),
         Refused(r"line 3 has 4 fields but the header on line 1 has 5")),
    Case("a row too long", lines(H, "O1,C1,2024-01-05,5", "O2,C1,2024-01-06,1,234"), Refused(r"line 3 has 5 fields")),
    Case("empty trailing values written out", lines(H + ",status", "O1,C1,2024-01-05,5,"),
         Read("status", ["completed"])),
    Case("a value over two lines", lines(H + ",category", 'O1,C1,2024-01-05,5,"Tea\nand cups"', "O2,C1,2024-01-06,5,x"),
         Read("source_row", [2, 4])),
    Case("a spreadsheet formula in an id is read as text", lines(H, "=cmd|' /C calc'!A0,C1,2024-01-05,5"),
         Read("order_id", ["=cmd|' /C calc'!A0"])),
    Case("HTML in a value is text", lines(H + ",category", "O1,C1,2024-01-05,5,<script>alert(1)</script>"),
         Read("category", ["<script>alert(1)</script>"])),
    Case("an id used twice for different orders: both set aside",
         lines(H, "O1,C1,2024-01-05,5", "O1,C2,2024-01-05,50", GOOD),
         Quarantined(3, "conflicting_duplicate", "order_id")),
    Case("a customer id used twice, differently: both set aside",
         lines("customer_id,city", "C1,Shanghai", "C2,Beijing", "C1,Shenzhen"),
         Quarantined(4, "conflicting_duplicate", "customer_id"),
         file="customers.csv", table="customers"),
    Case("a currency sign on a quantity",
         lines("Invoice,Quantity,Price,Date,Customer", "A1,¥3,2.50,2024-01-05,C1", "A2,3,1.25,2024-01-06,C1"),
         Quarantined(2, "bad_number", "quantity"), file="lines.csv", table="line_items",
         spec={"columns": LINE_COLUMNS}),
    Case("an exact duplicate: one kept", lines(H, "O1,C1,2024-01-05,5", "O1,C1,2024-01-05,5"), Read("source_row", [2])),
    Case("an invoice of two customers: every line set aside",
         lines("Invoice,Quantity,Price,Date,Customer", "A1,1,2.50,2024-01-05,C1", "A1,2,1.00,2024-01-05,C2",
               "A2,1,1.00,2024-01-06,C1"),
         Quarantined(2, "conflicting_invoice", "customer_id"), file="lines.csv", table="line_items",
         spec={"columns": LINE_COLUMNS}),
    Case("a line of spaces", lines(H, "O1,C1,2024-01-05,5", "   "), Quarantined(3, "missing_id", "order_id")),
    Case("every row quarantined: a clear error, not an empty study",
         lines(H, "O1,C1,2024-01-05,abc", "O2,C1,2024-01-06,n/a"),
         Refused(r"no clean rows: all 2 rows .* quarantined, 2 as bad_number \(row 2: amount 'abc'")),
    # --- encodings and files that are no CSV ----------------------------------------------------
    Case("Latin-1 Zürich is not read as GB18030",
         lines("customer_id,city", "C1,Zürich", "C2,Köln", "C3,Málaga"), Read("city", ["Zürich", "Köln", "Málaga"]),
         encoding="latin-1", file="customers.csv", table="customers"),
    Case("cp1252 € and curly quotes", lines(EU + ";currency;category", "O1;C1;2024-01-05;€12,50;EUR;“Tee” – grün"),
         Read("category", ["“Tee” – grün"]), encoding="cp1252", config=EUR),
    Case("GBK Chinese still read",
         lines("订单号,客户,日期,金额,状态", "O1,C1,2024-01-05,5,已完成", "O2,C2,2024-01-06,6,已取消"),
         Read("status", ["completed", "cancelled"]), encoding="gbk",
         spec={"columns": {"order_id": "订单号", "customer_id": "客户", "order_date": "日期", "amount": "金额",
                           "status": "状态"}}),
    Case("UTF-8 BOM and ; delimiter", "\ufeff" + lines(EU, "O1;C1;2024-01-05;415,70"), Read("amount", [415.7])),
    Case("UTF-16 with a byte-order mark", lines(H + ",category", "O1,C1,2024-01-05,5,茶"), Read("category", ["茶"]),
         encoding="utf-16"),
    Case("UTF-16 without a byte-order mark", lines(H + ",category", "O1,C1,2024-01-05,5,茶"), Read("category", ["茶"]),
         encoding="utf-16-le"),
    Case("a NUL byte", lines(H, "O1,C1,2024-01-05,5", "O2,C1\x00,2024-01-06,5"), Refused(r"line 3 holds a NUL byte")),
    Case("a web page saved as .csv", "<!DOCTYPE html>\n<html><body>Please log in</body></html>\n",
         Refused(r"looks like a web page \(HTML\)")),
    Case("Excel XML Spreadsheet 2003 named .csv",
         '<?xml version="1.0"?>\n<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet">\n',
         Refused(r"looks like an XML file.*save it as \.xlsx")),
    Case("JSON named .csv", '[{"order_id": "O1"}]\n', Refused(r"looks like a JSON file")),
    Case("bytes no encoding reads",
         b"order_id,customer_id,order_date,amount\nO1,C1,2024-01-05,5" + bytes(range(0x80, 0x100)) * 4 + b"\n",
         Refused(r"the encoding cannot be detected: line 2 is not UTF-8")),
    Case("a gzipped Latin-1 export",
         gzip.compress(lines("customer_id,city", "C1,Genève", "C2,São Paulo").encode("latin-1")),
         Read("city", ["Genève", "São Paulo"]), file="customers.csv.gz", table="customers"),
    Case("a GBK file declared UTF-8", lines(H + ",category", "O1,C1,2024-01-05,5,茶叶"),
         Refused(r"line 2 cannot be decoded: the file is read as utf-8"), encoding="gbk", spec={"encoding": "utf-8"}),
]


def _intake(case: Case, tmp_path, write_config):
    data = case.data.encode(case.encoding) if isinstance(case.data, str) else case.data
    path = tmp_path / case.file
    path.write_bytes(data)
    inputs = {case.table: {"path": str(path), **case.spec}}
    if case.table not in ("orders", "line_items"):
        inputs["orders"] = {"path": str(tmp_path / "orders_ok.csv")}
        (tmp_path / "orders_ok.csv").write_text(lines(H, "O1,C1,2024-01-05,5"), encoding="utf-8")
    overrides = {"cleaning": {"stop_on": []}, **case.config}
    return run_intake(load_config(write_config(inputs, **overrides))), path


@pytest.mark.parametrize("case", CASES, ids=str)
def test_hostile_input(case, tmp_path, write_config):
    expect = case.expect
    if isinstance(expect, Refused):
        with pytest.raises((IntakeError, ConfigError)) as err:
            _intake(case, tmp_path, write_config)
        message = str(err.value)
        assert "Traceback" not in message
        assert case.file in message or "study.yaml" in message, message
        assert pd.Series([message]).str.contains(expect.pattern, regex=True).all(), message
        return
    result, path = _intake(case, tmp_path, write_config)
    acc = result.accounting.set_index("table").loc[case.table]
    assert acc.rows_read == acc.clean + acc.quarantined + acc.duplicates_removed
    if isinstance(expect, Read):
        table = result.tables[expect.table or case.table]
        assert table[expect.column].tolist() == expect.values
        assert result.quarantine.loc[result.quarantine["file"] == str(path)].empty
    else:
        sheet = quarantine_sheet(result.quarantine)  # the facts with their details, as quarantine.csv shows them
        q = sheet.loc[sheet["file"] == str(path)].set_index("row")
        assert expect.row in q.index, q
        row = q.loc[expect.row]
        assert (row["reason"], row["column"]) == (expect.reason, expect.column)
        assert expect.detail in row["detail"]


def test_there_are_at_least_60_cases():
    assert len(CASES) >= 60
    assert len({case.name for case in CASES}) == len(CASES)


# --- outside the table: workbooks, the accounting, the order of the rows ------------------------


def test_an_excel_number_is_never_ambiguous_and_decimal_comma_is_refused(tmp_path, write_config):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["order_id", "customer_id", "order_date", "amount"])
    sheet.append(["O1", "C1", "2024-01-05", 1.234])
    sheet.append(["O2", "C1", "2024-01-06", 1234])
    book.save(tmp_path / "orders.xlsx")
    config = load_config(write_config({"orders": str(tmp_path / "orders.xlsx")}))
    assert run_intake(config).tables["orders"]["amount"].tolist() == [1.234, 1234.0]
    comma = load_config(write_config({"orders": {"path": str(tmp_path / "orders.xlsx"), "decimal": ","}}))
    with pytest.raises(IntakeError, match=r"orders\.xlsx: inputs\.orders\.decimal is ',' but this is an Excel file"):
        run_intake(comma)


def test_a_parquet_file_with_zoned_timestamps_is_put_on_one_clock(tmp_path, write_config):
    stamps = pd.to_datetime(["2024-01-05 10:00", "2024-01-06 23:30"]).tz_localize("Asia/Shanghai")
    pd.DataFrame({"order_id": ["O1", "O2"], "customer_id": ["C1", "C1"], "order_date": stamps, "amount": [1.234, 5.0]}
                 ).to_parquet(tmp_path / "orders.parquet")
    inputs = {"orders": str(tmp_path / "orders.parquet")}
    utc = run_intake(load_config(write_config(inputs, cleaning={"timezone": "UTC"})))
    assert utc.tables["orders"]["order_date"].tolist() == [
        pd.Timestamp("2024-01-05 02:00"), pd.Timestamp("2024-01-06 15:30")
    ]
    assert utc.tables["orders"]["amount"].tolist() == [1.234, 5.0]  # a stored number is never ambiguous
    assert utc.accounting.loc[0, ["utc_offsets", "timezone"]].tolist() == ["+08:00", "UTC"]
    kept = run_intake(load_config(write_config(inputs)))
    assert kept.tables["orders"]["order_date"].tolist() == [
        pd.Timestamp("2024-01-05 10:00"), pd.Timestamp("2024-01-06 23:30")
    ]


def test_the_accounting_says_how_each_file_was_read(tmp_path, write_config):
    eu = tmp_path / "orders.csv"
    eu.write_bytes(lines(EU + ";city", "O1;C1;2024-03-30 23:30:00+01:00;1.299,00;Zürich",
                         "O2;C2;2024-03-31 23:30:00+02:00;415,70;Köln").encode("cp1252"))
    result = run_intake(load_config(write_config({"orders": str(eu)}, cleaning={"stop_on": []})))
    acc = result.accounting.iloc[0]
    assert (acc.encoding, acc.encoding_source, acc.delimiter, acc.decimal) == ("cp1252", "detected", ";", ",")
    assert 0.5 <= float(acc.encoding_confidence) <= 1.0
    assert (acc.utc_offsets, acc.timezone) == ("+01:00 +02:00", "")
    assert result.tables["orders"]["amount"].sum() == pytest.approx(1299.0 + 415.7)


def _shuffled_intake(folder, files: dict[str, str], seed: int | None, write_config):
    """Intake of ``files`` (name -> CSV text) with their data lines shuffled; the written tables,
    and per file the map from a line of the shuffled file to the line of the same row unshuffled."""
    folder.mkdir()
    back = {}
    for name, text in files.items():
        header, *rows = text.splitlines()
        order = list(range(len(rows)))
        if seed is not None:
            random.Random(seed).shuffle(order)
        (folder / f"{name}.csv").write_text(lines(header, *(rows[i] for i in order)), encoding="utf-8")
        back[name] = {new + 2: original + 2 for new, original in enumerate(order)}
    inputs = {name: str(folder / f"{name}.csv") for name in files}
    config = load_config(write_config(inputs, cleaning={"stop_on": []}, currency=SAMPLE_CURRENCY))
    return write_intake(run_intake(config), folder / "interim"), back


def _as_unshuffled(written: dict, back: dict) -> dict[str, str]:
    """The written tables as text, row numbers mapped back to the unshuffled files; the row number
    of a kept exact duplicate is left out (which copy is first depends on the order, nothing else)."""
    texts = {}
    for name, path in written.items():
        if path.suffix == ".parquet" and name != "quarantine_facts":
            texts[name] = pd.read_parquet(path).drop(columns="source_row").to_csv()
            continue
        if path.suffix == ".parquet":  # the quarantine's facts: rows mapped back like quarantine.csv's
            frame = pd.read_parquet(path).astype(str)
        else:
            frame = pd.read_csv(path, encoding="utf-8-sig", keep_default_na=False, dtype=str)
        frame = frame.drop(columns="file", errors="ignore")
        rows = [column for column in frame.columns if column == "row" or column.endswith("_row")]
        if rows:
            frame = frame.assign(
                **{column: [back[t][int(r)] for t, r in zip(frame["table"], frame[column])] for column in rows}
            )
            frame = frame.sort_values(["table", *rows]).reset_index(drop=True)
        texts[name] = frame.to_csv()
    return texts


def test_a_shuffled_export_gives_byte_identical_tables(tmp_path, write_config):
    # 300 customers of the generated company with its export mistakes: exact duplicates, an order
    # id reused with another amount, missing customers, unknown statuses, NPS typed into the 1-5 scale
    raw = tmp_path / "raw"
    write_sample(generate_sample(SampleSpec(n_customers=300, seed=5)), raw)
    names = ("orders", "customers", "interactions", "feedback")
    files = {name: (raw / f"{name}.csv").read_text(encoding="utf-8") for name in names}
    runs = [_as_unshuffled(*_shuffled_intake(tmp_path / f"run{seed}", files, seed, write_config))
            for seed in (None, 1, 2)]
    assert set(runs[0]) >= {"orders", "customers", "interactions", "feedback", "quarantine", "accounting"}
    for other in runs[1:]:
        assert other == runs[0]
    quarantine = pd.read_csv(io.StringIO(runs[0]["quarantine"]))
    assert quarantine["reason"].eq("conflicting_duplicate").sum() >= 2  # both rows of a reused id, in every order


def test_a_shuffled_export_gives_the_same_clean_tables_and_quarantine(tmp_path, write_config):
    rows = [
        "O1,C1,2024-01-05,10.00,completed", "O2,C1,2024-01-06,-10.00,completed", "O3,C2,2024-01-07,7.50,completed",
        "O3,C2,2024-01-07,7.50,completed", "O4,C3,2024-01-08,5.00,cancelled", "O4,C3,2024-01-08,6.00,cancelled",
        "O5,C3,2024-01-09,abc,completed", "O6,,2024-01-10,3.00,completed", "O7,C4,2024-01-11,1.25,refunded",
        "O8,C4,2024-01-11,1.25,completed", "O9,C4,2024-01-12,-1.25,completed", "O10,C5,2024-01-13,0,completed",
        "O11,C4,2024-01-11,1.25,completed",
    ]
    files = {"orders": lines(H + ",status", *rows)}
    runs = [_as_unshuffled(*_shuffled_intake(tmp_path / f"run{seed}", files, seed, write_config))
            for seed in (None, 1, 2, 3)]
    assert all(run == runs[0] for run in runs[1:])
    orders = pd.read_csv(io.StringIO(runs[0]["orders"]))
    assert "O4" not in set(orders["order_id"])  # two different rows for O4: neither is kept, in any order
    # O9 returns 1.25 of C4, which O8 and O11 of the same day are worth: the first by order id (as text)
    # is undone, whatever the order of the file
    assert orders.set_index("order_id").loc["O9", "reverses"] == "O11"
