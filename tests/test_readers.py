"""The reading layer: every cell as text, the right encoding and delimiter, exact row numbers."""

from __future__ import annotations

import datetime as dt
import gzip
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from custseg.intake.readers import DELIMITERS, SOURCE_ROW, RawTable, ReadError, read_raw


def write(path: Path, data: bytes | str, encoding: str = "utf-8") -> Path:
    path.write_bytes(data if isinstance(data, bytes) else data.encode(encoding))
    return path


def cells(table: RawTable) -> dict[str, list]:
    return table.frame.to_dict("list")


# --- text, encodings, delimiters ------------------------------------------------------------


def test_utf8_csv_every_column_is_text_with_line_numbers(tmp_path):
    path = write(tmp_path / "orders.csv", "order_id,amount,city\nA1,10.50,Zürich\nA2,3,北京\n")
    table = read_raw(path)
    assert (table.format, table.encoding, table.delimiter, table.sheet) == ("csv", "utf-8", ",", None)
    assert cells(table) == {
        "order_id": ["A1", "A2"],
        "amount": ["10.50", "3"],
        "city": ["Zürich", "北京"],
        "source_row": [2, 3],
    }
    assert [str(dtype) for dtype in table.frame.dtypes] == ["str", "str", "str", "int64"]


def test_utf8_bom_is_not_part_of_the_first_header(tmp_path):
    path = write(tmp_path / "orders.csv", b"\xef\xbb\xbfcustomer_id,amount\r\nC1,5\r\n")
    table = read_raw(path)
    assert list(table.frame.columns) == ["customer_id", "amount", SOURCE_ROW]
    assert table.encoding == "utf-8-sig"
    assert cells(table)["customer_id"] == ["C1"]


def test_utf16_bom_is_detected(tmp_path):
    path = write(tmp_path / "orders.csv", "客户编号\t金额\n1\t2\n", encoding="utf-16")
    table = read_raw(path)
    assert (table.encoding, table.delimiter) == ("utf-16", "\t")
    assert cells(table) == {"客户编号": ["1"], "金额": ["2"], "source_row": [2]}


def test_gbk_file_with_chinese_headers_is_detected(tmp_path):
    text = "客户编号,订单日期,金额,省份\nC001,2024-01-05,1200.50,广东省\nC002,2024-02-01,88,浙江省\n"
    path = write(tmp_path / "订单.csv", text, encoding="gbk")
    table = read_raw(path)
    assert table.encoding == "gb18030"
    assert list(table.frame.columns) == ["客户编号", "订单日期", "金额", "省份", SOURCE_ROW]
    assert cells(table)["省份"] == ["广东省", "浙江省"]
    assert cells(table)["金额"] == ["1200.50", "88"]


def test_explicit_wrong_encoding_names_file_and_line(tmp_path):
    path = write(tmp_path / "orders.csv", "id,city\n1,Paris\n2,广州\n", encoding="gbk")
    with pytest.raises(ReadError) as err:
        read_raw(path, encoding="utf-8")
    message = str(err.value)
    assert str(path) in message
    assert "line 3" in message
    assert "utf-8" in message and "inputs.<table>.encoding" in message


def test_explicit_encoding_is_used(tmp_path):
    path = write(tmp_path / "orders.csv", "id,city\n1,Zürich\n", encoding="cp1252")
    table = read_raw(path, encoding="cp1252")
    assert table.encoding == "cp1252"
    assert cells(table)["city"] == ["Zürich"]


def test_unknown_encoding_name_is_refused(tmp_path):
    path = write(tmp_path / "orders.csv", "id\n1\n")
    with pytest.raises(ReadError, match="unknown encoding 'klingon'"):
        read_raw(path, encoding="klingon")


def test_undetectable_encoding_names_the_line(tmp_path):
    # Bytes 80-FF in a row read as garbage in every encoding the detector knows.
    path = write(tmp_path / "orders.csv", b"id,name\n1,ok\n2,bad" + bytes(range(0x80, 0x100)) * 4 + b"\n")
    with pytest.raises(ReadError) as err:
        read_raw(path)
    assert str(path) in str(err.value)
    assert "line 3 is not UTF-8" in str(err.value) and "inputs.<table>.encoding" in str(err.value)


def test_western_excel_csv_is_detected_not_read_as_gb18030(tmp_path):
    # Every accented letter here is followed by a Latin one, so GB18030 reads the file without
    # an error, as Chinese characters inside the words: "Z黵ich".
    text = "order_id;city;amount\nO1;Zürich;€12,50\nO2;Köln;7,00\nO3;Málaga;1.234,00\n"
    table = read_raw(write(tmp_path / "orders.csv", text, encoding="cp1252"))
    assert (table.encoding, table.encoding_source, table.delimiter) == ("cp1252", "detected", ";")
    assert cells(table)["city"] == ["Zürich", "Köln", "Málaga"]
    assert cells(table)["amount"] == ["€12,50", "7,00", "1.234,00"]
    assert 0.5 < table.encoding_confidence <= 1.0


@pytest.mark.parametrize("sep", DELIMITERS)
def test_delimiter_is_sniffed_from_the_header_outside_quotes(tmp_path, sep):
    other = ";" if sep == "," else ","
    header = sep.join(["id", f'"amount{other * 3}eur"', "note"])  # quoted delimiters do not count
    table = read_raw(write(tmp_path / "orders.csv", header + "\n" + sep.join(["1", "2", "x"]) + "\n"))
    assert table.delimiter == sep
    assert cells(table) == {"id": ["1"], f"amount{other * 3}eur": ["2"], "note": ["x"], "source_row": [2]}


def test_explicit_tab_delimiter_alias(tmp_path):
    path = write(tmp_path / "orders.txt", "id;x\tamount\n1;2\t3\n")
    table = read_raw(path, delimiter="tab")
    assert cells(table) == {"id;x": ["1;2"], "amount": ["3"], "source_row": [2]}


def test_na_leading_zeros_and_empty_cells_stay_text(tmp_path):
    path = write(tmp_path / "customers.csv", "customer_id,country,note,n\n007,NA,,null\n0010,N/A,NaN,\n")
    table = read_raw(path)
    assert cells(table) == {
        "customer_id": ["007", "0010"],
        "country": ["NA", "N/A"],
        "note": ["", "NaN"],
        "n": ["null", ""],
        "source_row": [2, 3],
    }
    assert not table.frame.isna().any().any()


def test_full_width_and_padded_headers_are_normalized(tmp_path):
    path = write(tmp_path / "orders.csv", "ＣｕｓｔｏｍｅｒＩＤ, amount ,,金額\u3000\nC1,2,3,4\n")
    table = read_raw(path)
    assert list(table.frame.columns) == ["CustomerID", "amount", "unnamed_3", "金額", SOURCE_ROW]


def test_headers_equal_after_normalization_are_an_error(tmp_path):
    path = write(tmp_path / "orders.csv", "ＩＤ,amount,ID \n1,2,3\n")
    with pytest.raises(ReadError) as err:
        read_raw(path)
    message = str(err.value)
    assert str(path) in message
    assert "column 1 ('ＩＤ')" in message and "column 3 ('ID ')" in message


def test_reserved_source_row_header_is_an_error(tmp_path):
    path = write(tmp_path / "orders.csv", "id,source_row\n1,2\n")
    with pytest.raises(ReadError, match="column 2 is named 'source_row'"):
        read_raw(path)


# --- row numbers ------------------------------------------------------------------------------


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_source_row_is_the_line_with_empty_lines_in_the_middle(tmp_path, newline):
    text = newline.join(["", "id,amount", "A,1", "", "", "B,2", "C,3", "", ""])
    table = read_raw(write(tmp_path / "orders.csv", text))
    assert cells(table) == {"id": ["A", "B", "C"], "amount": ["1", "2", "3"], "source_row": [3, 6, 7]}


def test_source_row_counts_lines_inside_quoted_values(tmp_path):
    text = 'id,note\nA,"two\nlines"\nB,"an ""odd"" one, with\r\n\r\nblank"\n\nC,x\n'
    table = read_raw(write(tmp_path / "orders.csv", text))
    assert cells(table)["note"] == ["two\nlines", 'an "odd" one, with\r\n\r\nblank', "x"]
    assert cells(table)["source_row"] == [2, 4, 8]


def test_source_row_survives_a_stray_quote_in_an_unquoted_value(tmp_path):
    text = 'id,product\nA,5" screen\nB,"multi\nline"\n\nC,plain\n'
    table = read_raw(write(tmp_path / "orders.csv", text))
    assert cells(table)["product"] == ['5" screen', "multi\nline", "plain"]
    assert cells(table)["source_row"] == [2, 3, 6]


def test_line_of_spaces_is_a_row_not_dropped(tmp_path):
    table = read_raw(write(tmp_path / "orders.csv", "id,amount\nA,1\n   \nB,2\n"))
    assert cells(table) == {"id": ["A", "   ", "B"], "amount": ["1", "", "2"], "source_row": [2, 3, 4]}


def test_header_only_file_gives_zero_rows(tmp_path):
    table = read_raw(write(tmp_path / "orders.csv", "order_id,amount\n"))
    assert list(table.frame.columns) == ["order_id", "amount", SOURCE_ROW]
    assert len(table.frame) == 0
    assert [str(dtype) for dtype in table.frame.dtypes] == ["str", "str", "int64"]


# --- broken files -----------------------------------------------------------------------------


def test_ragged_row_names_its_line(tmp_path):
    path = write(tmp_path / "orders.csv", 'id,amount\nA,1\n\nB,"x\ny"\nC,1,200\n')
    with pytest.raises(ReadError) as err:
        read_raw(path)
    message = str(err.value)
    assert str(path) in message
    assert "line 6 has 3 fields but the header on line 1 has 2" in message


def test_ragged_first_data_row_is_an_error_too(tmp_path):
    # pandas would only warn and drop the extra value here.
    path = write(tmp_path / "orders.csv", "id,amount\nA,1,200\nB,2\n")
    with pytest.raises(ReadError, match="line 2 has 3 fields"):
        read_raw(path)


def test_short_rows_are_refused_naming_their_lines(tmp_path):
    # pandas would pad them with empty values: a cancelled order cut short would count as completed.
    path = write(tmp_path / "orders.csv", 'id,amount,note\nA,1,x\nB,"2\n3"\nC\nD,4,\n')
    with pytest.raises(ReadError) as err:
        read_raw(path)
    message = str(err.value)
    assert str(path) in message
    assert "line 3 has 2 fields but the header on line 1 has 3 (delimiter ',') (so do 1 more: line 5)" in message


def test_empty_trailing_values_written_out_are_no_short_row(tmp_path):
    table = read_raw(write(tmp_path / "orders.csv", "id,amount,note\nA,1,\nB,,\n"))
    assert cells(table) == {"id": ["A", "B"], "amount": ["1", ""], "note": ["", ""], "source_row": [2, 3]}


def test_short_row_after_a_stray_quote_is_found_by_the_csv_module(tmp_path):
    path = write(tmp_path / "orders.csv", 'id,product,note\nA,5" screen,x\nB,"multi\nline",y\nC,z\n')
    with pytest.raises(ReadError, match="line 5 has 2 fields but the header on line 1 has 3"):
        read_raw(path)


def test_unclosed_quote_names_its_line(tmp_path):
    path = write(tmp_path / "orders.csv", 'id,note\nA,ok\nB,"never closed\nC,x\n')
    with pytest.raises(ReadError, match="starts on line 3 is never closed"):
        read_raw(path)


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda folder: folder / "missing.csv", "does not exist"),
        (lambda folder: folder, "is a folder"),
        (lambda folder: write(folder / "empty.csv", b""), "is empty"),
        (lambda folder: write(folder / "blank.csv", b"\n\r\n\n"), "no header line"),
    ],
)
def test_unreadable_paths_are_named(tmp_path, make, expected):
    folder = tmp_path / "data.csv"
    folder.mkdir()
    path = make(folder)
    with pytest.raises(ReadError, match=expected) as err:
        read_raw(path, format="csv")
    assert str(path) in str(err.value)


def test_unknown_suffix_lists_accepted_ones(tmp_path):
    path = write(tmp_path / "orders.json", "{}")
    with pytest.raises(ReadError) as err:
        read_raw(path)
    assert ".csv" in str(err.value) and ".xlsx" in str(err.value) and ".parquet" in str(err.value)
    assert "format" in str(err.value)


def test_gzipped_csv_is_read_as_its_csv(tmp_path):
    text = "客户编号,金额\nC001,1200.50\nC002,88\n"
    path = write(tmp_path / "orders.csv.gz", gzip.compress(text.encode("gbk")))
    table = read_raw(path)
    assert (table.format, table.encoding) == ("csv", "gb18030")
    assert cells(table) == {"客户编号": ["C001", "C002"], "金额": ["1200.50", "88"], "source_row": [2, 3]}


def test_broken_gzip_names_the_file(tmp_path):
    path = write(tmp_path / "orders.csv.gz", gzip.compress(b"a,b\n1,2\n")[:-6])
    with pytest.raises(ReadError, match=r"orders\.csv\.gz: is a gzip file that cannot be decompressed"):
        read_raw(path)


def test_old_xls_is_refused_with_advice(tmp_path):
    path = write(tmp_path / "orders.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
    with pytest.raises(ReadError, match=r"save it as an \.xlsx workbook or as 'CSV UTF-8'"):
        read_raw(path)


def test_workbook_named_csv_is_recognized(tmp_path):
    path = write(tmp_path / "orders.csv", b"PK\x03\x04 rest of a zip")
    with pytest.raises(ReadError, match="looks like an Excel .xlsx workbook"):
        read_raw(path)


# --- Excel ------------------------------------------------------------------------------------


@pytest.fixture
def workbook(tmp_path) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Orders"
    sheet.append(["order_id", "ＩＤ客户", "order_date", "amount", "paid_at", "note"])
    sheet.append([1001, "007", dt.date(2024, 1, 5), 12.5, dt.datetime(2024, 1, 5, 10, 30), "NA"])
    sheet.append([])  # an empty spreadsheet row 3
    sheet.append([1002.0, "C2", dt.datetime(2024, 2, 1), 0.1 + 0.2, None, None, "off to the side"])
    other = book.create_sheet("客户")
    other.append(["customer_id", "signup"])
    other.append(["C9", dt.date(2023, 12, 31)])
    path = tmp_path / "orders.xlsx"
    book.save(path)
    return path


def test_excel_cells_come_out_as_the_text_excel_shows(workbook):
    table = read_raw(workbook)
    assert (table.format, table.encoding, table.delimiter, table.sheet) == ("excel", None, None, "Orders")
    assert cells(table) == {
        "order_id": ["1001", "1002"],
        "ID客户": ["007", "C2"],
        "order_date": ["2024-01-05", "2024-02-01"],
        "amount": ["12.5", "0.3"],
        "paid_at": ["2024-01-05 10:30:00", ""],
        "note": ["NA", ""],
        "unnamed_7": ["", "off to the side"],
        "source_row": [2, 4],
    }
    assert all(str(dtype) == "str" for dtype in table.frame.dtypes.iloc[:-1])


@pytest.mark.parametrize("sheet", ["客户", 1])
def test_excel_sheet_by_name_or_position(workbook, sheet):
    table = read_raw(workbook, sheet=sheet)
    assert table.sheet == "客户"
    assert cells(table) == {"customer_id": ["C9"], "signup": ["2023-12-31"], "source_row": [2]}


def test_excel_missing_sheet_lists_the_sheets(workbook):
    with pytest.raises(ReadError) as err:
        read_raw(workbook, sheet="Customers")
    message = str(err.value)
    assert str(workbook) in message
    assert "'Customers'" in message and "'Orders', '客户'" in message


def test_excel_with_other_suffix_reads_when_format_is_given(workbook, tmp_path):
    renamed = workbook.rename(tmp_path / "orders.dat")
    assert cells(read_raw(renamed, format="excel"))["order_id"] == ["1001", "1002"]


# --- Parquet ----------------------------------------------------------------------------------


def test_parquet_round_trip_as_text(tmp_path):
    frame = pd.DataFrame(
        {
            "order_id": pd.array([1001, None, 3], dtype="Int64"),
            "amount": [1001.0, 12.5, np.nan],
            "customer": ["007", "NA", None],
            "ordered": pd.to_datetime(["2024-01-05", "2024-01-05 10:30", None], format="ISO8601"),
            "day": [dt.date(2024, 1, 5), None, dt.date(2024, 2, 1)],
            "status": pd.Categorical(["completed", "refunded", "completed"]),
        },
        index=[7, 8, 9],  # stored as __index_level_0__, which is not data
    )
    path = tmp_path / "orders.parquet"
    frame.to_parquet(path)
    table = read_raw(path)
    assert (table.format, table.encoding, table.delimiter, table.sheet) == ("parquet", None, None, None)
    assert cells(table) == {
        "order_id": ["1001", "", "3"],
        "amount": ["1001", "12.5", ""],
        "customer": ["007", "NA", ""],
        "ordered": ["2024-01-05", "2024-01-05 10:30:00", ""],
        "day": ["2024-01-05", "", "2024-02-01"],
        "status": ["completed", "refunded", "completed"],
        "source_row": [2, 3, 4],
    }
    assert all(str(dtype) == "str" for dtype in table.frame.dtypes.iloc[:-1])


def test_broken_parquet_is_named(tmp_path):
    path = write(tmp_path / "orders.parquet", b"not parquet at all")
    with pytest.raises(ReadError, match="cannot be read as Parquet") as err:
        read_raw(path)
    assert str(path) in str(err.value)


# --- property: whatever pandas writes, read_raw reads back ------------------------------------


def _breaks(text: str) -> int:
    """Line breaks as a text editor counts them: LF, CRLF and lone CR."""
    return text.count("\n") + text.count("\r") - text.count("\r\n")


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@st.composite
def text_tables(draw) -> pd.DataFrame:
    width = draw(st.integers(1, 4))
    # no NUL: a NUL byte is refused (a binary or damaged file; test_hostile_input.py)
    cell = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=6)
    rows = draw(st.lists(st.lists(cell, min_size=width, max_size=width), max_size=6))
    return pd.DataFrame(rows, columns=[f"c{i}" for i in range(width)], dtype=object)


@settings(max_examples=50, deadline=None)
@given(
    table=text_tables(),
    sep=st.sampled_from(DELIMITERS),
    encoding=st.sampled_from(["utf-8", "gb18030"]),
    newline=st.sampled_from(["\n", "\r\n"]),
)
def test_any_text_table_written_by_pandas_reads_back(tmp_path_factory, table, sep, encoding, newline):
    if newline == "\n" and table.map(lambda value: "\r" in value).to_numpy().any():
        # Python's csv writer quotes only the characters of its own line terminator, so a bare
        # CR in a value written with "\n" comes out unquoted and every reader sees a line break.
        newline = "\r\n"
    options = {"index": False, "sep": sep, "lineterminator": newline}
    text = table.to_csv(**options)
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        assume(False)
    # A GB18030 file whose bytes happen to be valid UTF-8 is read as UTF-8: ambiguous by nature.
    assume(encoding == "utf-8" or not _is_utf8(data) or data.decode("utf-8") == text)
    path = tmp_path_factory.mktemp("prop") / "table.csv"
    path.write_bytes(data)

    # UTF-8 is told by its bytes alone; any other encoding is detected by how plausible the text
    # looks in it, which random characters never are, so it is given (detection: tests below).
    result = read_raw(path, encoding="auto" if encoding == "utf-8" else encoding)

    assert list(result.frame.columns) == [*table.columns, SOURCE_ROW]
    assert result.frame.drop(columns=SOURCE_ROW).to_numpy().tolist() == table.to_numpy().tolist()
    written_rows = [table.iloc[i : i + 1].to_csv(header=False, **options) for i in range(len(table))]
    expected_lines = 2 + np.cumsum([0] + [_breaks(row) for row in written_rows])[: len(table)]
    assert result.frame[SOURCE_ROW].tolist() == expected_lines.tolist()
