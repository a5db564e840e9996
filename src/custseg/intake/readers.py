"""Reading layer: turn a user's export (CSV, Excel or Parquet) into a table of text.

Every cell comes back as text, exactly as the user would see it in the file (``NA`` stays the
string ``NA``, ``007`` keeps its zeros, an Excel date reads ``2024-01-05``); nothing is typed here,
so the cleaning step can quarantine what does not parse instead of pandas guessing. Each row
keeps ``source_row``, its number as the user finds it in the file, so every quarantine entry
can point at a line or spreadsheet row.

CSV files are read into memory once as bytes. The encoding is found from those bytes (a byte-order
mark, else UTF-8, else the encoding detected, see :mod:`custseg.intake._encodings`) and the bytes
are handed to pandas' C parser as UTF-8, so no file is decoded by Python twice. Line numbers come
from one quote-aware numpy pass over the same bytes.

This module knows nothing about custseg's tables or configs: :mod:`custseg.intake.cleaning` maps columns,
checks the schema and catches :class:`ReadError`.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import gzip
import io
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

from custseg.intake import _archives, _arrowcsv, _arrowtext, _encodings
from custseg.intake._readerror import CONFIG_HINT, ReadError

#: File suffixes that ``format="auto"`` understands, and the format each one means.
SUFFIX_FORMATS: dict[str, str] = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "csv",
    ".xlsx": "excel",
    ".xlsm": "excel",
    ".parquet": "parquet",
    ".pq": "parquet",
}

#: Delimiters that are sniffed from a CSV header line, in order of preference on a tie.
DELIMITERS: tuple[str, ...] = (",", ";", "\t", "|")

#: Name of the row-number column that :func:`read_raw` appends; a file may not use it itself.
SOURCE_ROW = "source_row"

#: How the encoding of a CSV file can be chosen (see :attr:`RawTable.encoding_source`).
ENCODING_SOURCES = ("bom", "utf-8", "zero_bytes", "detected", "config")

FORMATS = ("csv", "excel", "parquet")
_DELIMITER_ALIASES = {"tab": "\t", "\\t": "\t"}
_ZIP_MAGIC = b"PK\x03\x04"  # .xlsx and .xlsm are zip archives
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old .xls, or an encrypted workbook
_PARQUET_MAGIC = b"PAR1"
_GZIP_MAGIC = b"\x1f\x8b"
_LF, _CR, _QUOTE = 0x0A, 0x0D, 0x22
_PARSER_LINE = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")
_PARSER_EOF = re.compile(r"EOF inside string starting at row (\d+)")
_PANDAS_INDEX = re.compile(r"__index_level_\d+__")
_QUOTED = re.compile(r'"[^"]*"?')  # a quoted stretch; a doubled quote inside splits it in two
_SNIFF_BYTES = 1 << 20  # data sniffed for the delimiter of a one-column file


@dataclass(frozen=True)
class RawTable:
    """One input file read as text.

    Attributes
    ----------
    frame
        Every column of the file as ``str`` dtype (empty cells are ``""``, never missing), under
        its header as written but NFKC-normalized and stripped, then a last ``source_row``
        column (int64) with each row's line or spreadsheet row number.
    format
        ``"csv"``, ``"excel"`` or ``"parquet"``: the format actually read.
    encoding
        Codec the CSV file was decoded with (``"utf-8"``, ``"utf-8-sig"``, ``"gb18030"``, ...);
        None for Excel and Parquet.
    delimiter
        Field delimiter of the CSV file; None for Excel and Parquet.
    sheet
        Name of the Excel sheet that was read; None for CSV and Parquet.
    encoding_source
        How the encoding was chosen (one of :data:`ENCODING_SOURCES`): ``bom`` (a byte-order
        mark), ``utf-8`` (every byte is valid UTF-8, plain ASCII included), ``zero_bytes`` (UTF-16
        without a byte-order mark, told by its zero bytes), ``detected`` (by charset-normalizer),
        ``config`` (set in the config); None for Excel and Parquet.
    encoding_confidence
        With ``detected``: 1 - the share of the decoded text that looks garbled, as
        charset-normalizer measures it (its own ``detect`` calls this the confidence); else None.
    encoding_alternatives
        With ``detected``: up to three other encodings that read the file as cleanly to the
        detector but give another text (cp1250 and cp1254 beside cp1252 for a few Polish or
        Turkish names): set the encoding in the config if one of them is right.
    """

    frame: pd.DataFrame
    format: str
    encoding: str | None
    delimiter: str | None
    sheet: str | None
    encoding_source: str | None = None
    encoding_confidence: float | None = None
    encoding_alternatives: tuple[str, ...] = ()


def read_raw(
    path: Path,
    *,
    format: str = "auto",
    encoding: str = "auto",
    delimiter: str | None = None,
    sheet: str | int | None = None,
    member: str | None = None,
) -> RawTable:
    """Read one CSV, Excel or Parquet file, or the one inside a zip archive, with every cell as text.

    Parameters
    ----------
    path
        The file to read.
    format
        ``"csv"``, ``"excel"`` (.xlsx/.xlsm), ``"parquet"``, or ``"auto"`` to decide from the
        suffix: .csv/.txt/.tsv (also gzipped: .csv.gz), .xlsx/.xlsm, .parquet/.pq. In a ``.zip``
        archive, the format of the member read (from its suffix, or as set).
    encoding
        CSV only. ``"auto"``: a byte-order mark (UTF-8, UTF-16, UTF-32) if there is one, else
        UTF-8 if every byte decodes as UTF-8, else UTF-16 when every other byte is zero, else
        the encoding charset-normalizer finds for the lines that hold non-ASCII bytes (see
        :func:`_detect`). Any other value is a Python codec name used as given.
    delimiter
        CSV only. None sniffs the header line for the most frequent of ``,`` ``;`` tab ``|``
        outside quotes (``,`` when it holds none of them). ``"tab"`` and ``"\\t"`` mean a tab.
    sheet
        Excel only. Sheet name, or 0-based position; None reads the first sheet.
    member
        Zip archives only: the file inside to read, by its name in the archive; None reads the
        archive's only file (folders and what macOS adds, ``__MACOSX/``, do not count).

    Returns
    -------
    RawTable
        The text table and how it was read. ``frame`` ends with ``source_row``:

        - CSV: the line in the file where the row starts, the header being on line 1 (or later,
          after leading empty lines). Lines inside quoted values that span lines are counted,
          so the numbers match a text editor's. Empty lines are skipped and create no row; a
          line of only spaces is a row (its cells are spaces).
        - Excel: the spreadsheet row number (header in row 1 gives 2 for the first data row).
          Entirely empty rows are skipped; the header is the first row that is not empty.
        - Parquet: record index + 2, as if the file had a header line.

    Raises
    ------
    ReadError
        When the file is missing, empty, of an unknown or unsupported format (a workbook,
        Parquet, HTML, XML or JSON file named .csv), cannot be decoded or holds NUL bytes, has
        a line with more or fewer fields than the header, has two columns with the same name
        after normalization, or (Excel) lacks the sheet. The message names the file and,
        where it applies, the line or row and column, and says what to change.

    Notes
    -----
    Header names are NFKC-normalized (full-width ``ＩＤ`` becomes ``ID``) and stripped, and a
    leading byte-order mark is removed, so they match a column mapping typed in a config. An
    empty header becomes ``unnamed_<position>`` (1-based). Cells are not normalized or
    stripped. Excel and Parquet values are written as text the way Excel shows them: dates
    ``2024-01-05`` (``2024-01-05 10:30:00`` with a time of day), whole numbers without ``.0``,
    booleans ``true``/``false``.
    """
    path = Path(path)
    data: bytes | None = None
    if path.suffix.lower() == ".zip":
        _check_file(path)
        name, data = _archives.member_bytes(path, member)
        path = path / name  # how messages name the member: exports/orders.zip/orders.csv
        kind = _resolve_format(path, format)
    else:
        if member is not None:
            raise ReadError(
                f"{path}: member is set ({member!r}) but the file is no .zip archive; remove member "
                + CONFIG_HINT.format(key="member")
            )
        kind = _resolve_format(path, format)
        _check_file(path)
    if kind == "excel":
        return _read_excel(path, sheet, data)
    if kind == "parquet":
        return _read_parquet(path, data)
    return _read_csv(path, encoding, delimiter, data)


def sheet_names(path: Path, member: str | None = None) -> list[str]:
    """The names of a workbook's sheets that hold cells, in the workbook's order (charts left out).

    Raises
    ------
    ReadError
        As :func:`read_raw` does for a file that is no readable workbook.
    """
    path = Path(path)
    data: bytes | None = None
    _check_file(path)
    if path.suffix.lower() == ".zip":
        name, data = _archives.member_bytes(path, member)
        path = path / name
    with _open_workbook(path, data) as book:
        return [name for name in book.sheetnames if hasattr(book[name], "iter_rows")]


# --- shared checks --------------------------------------------------------------------------


def _resolve_format(path: Path, format: str) -> str:
    if format != "auto":
        if format not in FORMATS:
            raise ReadError(
                f"{path}: unknown format {format!r}; use one of auto, {', '.join(FORMATS)} "
                + CONFIG_HINT.format(key="format")
            )
        return format
    suffix = path.suffix.lower()
    if suffix == ".gz":  # a gzip-compressed CSV (orders.csv.gz) is read as its CSV
        inner = Path(path.stem).suffix.lower()
        if SUFFIX_FORMATS.get(inner) == "csv":
            return "csv"
    if suffix == ".xls":
        raise ReadError(
            f"{path}: old binary Excel files (.xls) cannot be read; open it in Excel and save it "
            "as an .xlsx workbook or as 'CSV UTF-8', then point the config at the new file"
        )
    if suffix not in SUFFIX_FORMATS:
        raise ReadError(
            f"{path}: cannot tell the format from the suffix {suffix or '(none)'!r}; accepted "
            f"suffixes are {', '.join(SUFFIX_FORMATS)} (and .csv.gz, .tsv.gz, .txt.gz, .zip). Rename the file, "
            "or set format "
            f"(csv, excel or parquet) " + CONFIG_HINT.format(key="format")
        )
    return SUFFIX_FORMATS[suffix]


def _check_file(path: Path) -> None:
    if path.is_dir():
        raise ReadError(f"{path}: is a folder, not a file; point the config at the file itself")
    if not path.exists():
        raise ReadError(
            f"{path}: file does not exist (relative paths in a config are taken from the "
            "config file's folder)"
        )
    if not path.is_file():
        raise ReadError(f"{path}: is not a regular file")
    if path.stat().st_size == 0:
        raise ReadError(f"{path}: file is empty (0 bytes); export the table again")


def _normalize_names(path: Path, names: Sequence[object], label: Callable[[int], str]) -> list[str]:
    """Header names as a mapping in the config would spell them; loud on clashes.

    ``label(i)`` says where the 0-based column ``i`` is (``column 3``, ``column C``).
    """
    clean: list[str] = []
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        text = "" if name is None else str(name)
        # NFKC folds full-width letters and digits (common in Chinese exports) into ASCII.
        text = unicodedata.normalize("NFKC", text.lstrip("\ufeff")).strip()
        text = text or f"unnamed_{i + 1}"
        if text == SOURCE_ROW:
            raise ReadError(
                f"{path}: {label(i)} is named {SOURCE_ROW!r}, a name custseg adds itself for row "
                "numbers; rename that column in the file"
            )
        if text in seen:
            j = seen[text]
            raise ReadError(
                f"{path}: {label(j)} ({names[j]!r}) and {label(i)} ({name!r}) have the same "
                f"header {text!r} once spaces and full-width characters are normalized; rename "
                "one of them in the file"
            )
        seen[text] = i
        clean.append(text)
    return clean


def _with_source_row(frame: pd.DataFrame, rows: np.ndarray) -> pd.DataFrame:
    return frame.assign(**{SOURCE_ROW: np.asarray(rows, dtype=np.int64)})


# --- CSV -------------------------------------------------------------------------------------


def _read_csv(path: Path, encoding: str, delimiter: str | None, raw: bytes | None = None) -> RawTable:
    """``raw``: the file's bytes when they were read already (from a zip archive)."""
    if raw is None:
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise ReadError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    if raw.startswith(_GZIP_MAGIC):  # by its bytes, whatever its name: exports often come gzipped
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise ReadError(
                f"{path}: is a gzip file that cannot be decompressed ({exc}); download or export it again"
            ) from exc
    _refuse_non_csv(path, raw)
    decoded = _encodings.to_utf8(path, raw, encoding)
    data = decoded.data
    del raw  # the UTF-8 bytes are all that is needed from here; frees memory on big files
    starts, lines, empty = _scan_records(data)
    if empty.all():
        raise ReadError(f"{path}: has no header line, only empty lines; export the table again")
    first = int(np.argmax(~empty))  # leading empty lines come before the header
    starts, lines, empty = starts[first:], lines[first:], empty[first:]
    header_end = int(starts[1]) if starts.size > 1 else len(data)
    header_text = data[starts[0] : header_end].decode("utf-8")
    sep = _choose_delimiter(path, header_text, data[header_end : header_end + _SNIFF_BYTES], delimiter)
    raw_names = _header_fields(header_text, sep)
    names = _normalize_names(path, raw_names, lambda i: f"column {i + 1}")
    body = data if starts[0] == 0 else data[int(starts[0]) :]
    frame = None
    if starts.size > 1 and not empty[1:].any():  # Arrow's threads first; pandas for what they cannot do
        spans = np.diff(lines).max(initial=1) > 1  # a quoted value spans lines
        frame = _arrowcsv.parse(data[header_end:], sep, names, int(starts.size - 1), bool(spans))
    if frame is None:
        frame = _parse_csv(path, body, sep, names, int(lines[0]), lines)
    row_lines, row_empty = lines[1:], empty[1:]
    fields: np.ndarray | None = None
    if row_lines.size != len(frame):
        # The fast scan counts quotes; a stray quote inside an unquoted value ("5" screen") fools
        # it, so recount with the csv module, which splits records the way pandas does.
        row_lines, row_empty, fields = _lines_by_csv_module(path, body, sep, int(lines[0]), len(frame))
    elif _padded(frame, row_empty).any():  # only then can a record be short: count its fields
        fields = _field_counts(body, sep, starts[1:] - starts[0])
    _refuse_short_rows(path, frame, sep, int(lines[0]), row_lines, row_empty, fields)
    if row_empty.any():
        # pandas keeps empty lines as rows of "" (skip_blank_lines=False) so that whitespace-only
        # lines are not silently dropped; the empty ones go here.
        keep = ~row_empty
        frame = frame.loc[keep].reset_index(drop=True)
        row_lines = row_lines[keep]
    return RawTable(_with_source_row(frame, row_lines), "csv", decoded.codec, sep, None,
                    decoded.source, decoded.confidence, decoded.alternatives)


def _refuse_non_csv(path: Path, raw: bytes) -> None:
    """Stop early on a workbook, Parquet, HTML, XML or JSON file that was given a .csv name."""
    head = raw[:1024].removeprefix(codecs.BOM_UTF8).lstrip().lower()
    if raw.startswith(_ZIP_MAGIC):
        found = "an Excel .xlsx workbook (a zip archive)"
        fix = "set format: excel " + CONFIG_HINT.format(key="format")
    elif raw.startswith(_OLE2_MAGIC):
        found = "an old binary Excel .xls workbook"
        fix = "save it from Excel as .xlsx or 'CSV UTF-8'"
    elif raw.startswith(_PARQUET_MAGIC):
        found = "a Parquet file"
        fix = "set format: parquet " + CONFIG_HINT.format(key="format")
    elif head.startswith((b"<!doctype html", b"<html")) or (head.startswith(b"<") and b"<html" in head):
        found = "a web page (HTML), not an export: a download that returned a login or error page"
        fix = "download the export again and check that the file opens as a table"
    elif head.startswith(b"<?xml"):
        found = "an XML file (Excel's 'XML Spreadsheet 2003' if it holds a <Workbook>)"
        fix = "open it in Excel and save it as .xlsx or 'CSV UTF-8'"
    elif head.startswith((b"{", b"[")):
        found = "a JSON file"
        fix = "export the table as CSV, Excel or Parquet"
    else:
        return
    raise ReadError(f"{path}: is being read as CSV but looks like {found}; {fix}")



def _scan_records(data: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where every CSV record starts, on which physical line, and whether its line is empty.

    A line break ends a record unless it sits inside a quoted value, which is the case when an
    odd number of quote characters precede it (doubled quotes inside a value count twice and
    cancel). Line breaks are LF, CRLF and lone CR, as for pandas' C parser. The parity rule is
    exact for well-formed CSV; a stray quote inside an unquoted value makes it lose records,
    which the caller notices from the row count.

    Returns
    -------
    tuple of numpy.ndarray
        Byte offsets of record starts, their 1-based line numbers, and a boolean mask of
        starts whose line is empty. A final line break opens no record.
    """
    arr = np.frombuffer(data, dtype=np.uint8)
    size = arr.size
    breaks = np.flatnonzero(arr == _LF)
    if b"\r" in data:
        cr = np.flatnonzero(arr == _CR)
        after = cr + 1
        lone = cr[(after == size) | (arr[np.minimum(after, size - 1)] != _LF)]
        if lone.size:
            breaks = np.union1d(breaks, lone)
    next_line = np.arange(2, breaks.size + 2, dtype=np.int64)  # line that begins after each break
    if b'"' in data:
        quotes = np.flatnonzero(arr == _QUOTE)
        outside = np.searchsorted(quotes, breaks) % 2 == 0
        breaks, next_line = breaks[outside], next_line[outside]
    starts = np.concatenate(([0], breaks + 1))
    lines = np.concatenate((np.array([1], dtype=np.int64), next_line))
    opened = starts < size
    starts, lines = starts[opened], lines[opened]
    empty = np.isin(arr[starts], (_LF, _CR))
    return starts, lines, empty


def _choose_delimiter(path: Path, header: str, sample: bytes, delimiter: str | None) -> str:
    """The delimiter given, else the one the header line uses most outside quotes.

    A header without any candidate is a one-column file: then the delimiter is the first
    candidate that the sample of data lines never uses outside quotes, so that values holding,
    say, commas in a file written with ``;`` stay whole.
    """
    if delimiter is not None:
        sep = _DELIMITER_ALIASES.get(delimiter.lower(), delimiter)
        if len(sep) != 1 or sep in '"\r\n':
            raise ReadError(
                f"{path}: delimiter {delimiter!r} is not usable; give one character such as "
                "',' ';' '|' or 'tab', or leave it out to detect it "
                + CONFIG_HINT.format(key="delimiter")
            )
        return sep
    unquoted = _QUOTED.sub("", header)
    best = max(DELIMITERS, key=unquoted.count)  # max keeps the first of equal counts
    if unquoted.count(best):
        return best
    data = _QUOTED.sub("", sample.decode("utf-8", errors="ignore"))
    return next((sep for sep in DELIMITERS if sep not in data), ",")


def _csv_records(text: str, sep: str, first_line: int) -> Iterator[tuple[int, list[str]]]:
    """(start line, fields) of every record, split by the csv module the way pandas splits them."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, quotechar='"', doublequote=True, strict=False)
    line = first_line
    for fields in reader:
        yield line, fields
        line = first_line + reader.line_num


def _header_fields(header_text: str, sep: str) -> list[str]:
    return next(_csv_records(header_text, sep, 1))[1]


def _parse_csv(
    path: Path, body: bytes, sep: str, names: list[str], header_line: int, lines: np.ndarray
) -> pd.DataFrame:
    """pandas' C parser over UTF-8 bytes that start at the header line; ragged rows fail loudly."""
    try:
        with warnings.catch_warnings():
            # With index_col=False pandas only warns, and drops the extra values, when the
            # first data row is longer than the header; later ones raise. Both must fail.
            warnings.simplefilter("error", pd.errors.ParserWarning)
            return pd.read_csv(
                io.BytesIO(body),
                sep=sep,
                header=0,
                names=names,
                index_col=False,
                dtype=str,
                keep_default_na=False,
                na_filter=False,
                skip_blank_lines=False,
                quotechar='"',
                doublequote=True,
                encoding="utf-8",
                engine="c",
            )
    except pd.errors.ParserWarning:
        raise _ragged_error(path, body, sep, len(names), header_line, None) from None
    except pd.errors.EmptyDataError:
        raise ReadError(f"{path}: has no header line; export the table again") from None
    except pd.errors.ParserError as exc:
        message = str(exc).strip()
        ragged = _PARSER_LINE.search(message)
        if ragged:
            # pandas numbers lines from the header, counting records rather than physical lines.
            logical = int(ragged.group(2))
            guess = int(lines[logical - 1]) if logical <= lines.size else None
            raise _ragged_error(path, body, sep, len(names), header_line, guess) from None
        unclosed = _PARSER_EOF.search(message)
        if unclosed:
            record = int(unclosed.group(1))
            where = f"on line {int(lines[record])}" if record < lines.size else "near the end"
            raise ReadError(
                f'{path}: a quoted value that starts {where} is never closed (a " without its '
                'closing "); fix the quotes in the file, or double a quote that belongs in a '
                'value ("")'
            ) from None
        raise ReadError(f"{path}: cannot be read as CSV with delimiter {sep!r}: {message}") from None


def _ragged_error(path: Path, body: bytes, sep: str, width: int, header_line: int, guess: int | None) -> ReadError:
    """The error for a line with more fields than the header, naming that line exactly."""
    line, count = guess, None
    try:
        for start, fields in _csv_records(body.decode("utf-8"), sep, header_line):
            if start > header_line and len(fields) > width:
                line, count = start, len(fields)
                break
    except csv.Error:
        line, count = guess, None  # a value beyond the csv module's size limit: pandas' line stands
    shown = "(delimiter tab)" if sep == "\t" else f"(delimiter {sep!r})"
    saw = f"{count} fields" if count is not None else "more fields"
    where = f"line {line}" if line is not None else "a line"
    return ReadError(
        f"{path}: {where} has {saw} but the header on line {header_line} has {width} {shown}. "
        f"A value probably holds an unquoted {sep!r}: put that value in double quotes, or fix "
        "the delimiter " + CONFIG_HINT.format(key="delimiter")
    )


def _lines_by_csv_module(
    path: Path, body: bytes, sep: str, header_line: int, expected: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Start lines, emptiness and field counts of the data records, split by the csv module
    (slow, exact); the counts are None when the records cannot be followed."""
    lines: list[int] = []
    empty: list[bool] = []
    fields: list[int] = []
    try:
        records = _csv_records(body.decode("utf-8"), sep, header_line)
        next(records)  # the header
        for start, values in records:
            lines.append(start)
            empty.append(not values)
            fields.append(len(values))
    except csv.Error:
        lines = []
    if len(lines) == expected:
        return np.asarray(lines, dtype=np.int64), np.asarray(empty, dtype=bool), np.asarray(fields, dtype=np.int64)
    warnings.warn(
        f"{path}: source_row is the record number + 1, not the line number: the file's quoting "
        "could not be followed line by line",
        stacklevel=3,
    )
    return np.arange(2, expected + 2, dtype=np.int64), np.zeros(expected, dtype=bool), None


def _field_counts(body: bytes, sep: str, starts: np.ndarray) -> np.ndarray | None:
    """Fields of each record starting at ``starts`` (byte offsets into ``body``); None when the
    delimiter is not one byte (then the caller asks the csv module).

    A delimiter counts outside quoted values only: after an even number of quote characters,
    which is exact for well-formed CSV (doubled quotes inside a value count twice).
    """
    code = sep.encode("utf-8")
    if len(code) != 1:
        return None
    arr = np.frombuffer(body, dtype=np.uint8)
    seps = np.flatnonzero(arr == code[0])
    if b'"' in body:
        quotes = np.flatnonzero(arr == _QUOTE)
        seps = seps[np.searchsorted(quotes, seps) % 2 == 0]
    bounds = np.append(starts, len(body))
    return np.diff(np.searchsorted(seps, bounds)) + 1


def _padded(frame: pd.DataFrame, empty: np.ndarray) -> np.ndarray:
    """Rows that may be short records: pandas pads those, so their last value is empty."""
    if frame.shape[1] < 2 or frame.empty:
        return np.zeros(len(frame), dtype=bool)
    return frame.iloc[:, -1].eq("").to_numpy() & ~empty


def _refuse_short_rows(
    path: Path, frame: pd.DataFrame, sep: str, header_line: int, lines: np.ndarray, empty: np.ndarray,
    fields: np.ndarray | None,
) -> None:
    """Raise for records with fewer fields than the header, as for those with more.

    ``fields`` counts the fields of each record; None when it was not counted (no record can be
    short) or could not be.

    pandas pads a short record with empty values, which would be misread: a cancelled order whose
    status was cut off would count as completed. A line of nothing but spaces is no short
    record but a row of its own (quarantined for its empty id), as an empty line is no row.
    """
    width = frame.shape[1]
    padded = _padded(frame, empty)
    if not padded.any() or fields is None:
        return  # no record can be short; or the records could not be followed (a warning said so)
    blank = frame.iloc[:, 0].str.strip().eq("").to_numpy() & (fields == 1)
    short = np.flatnonzero(padded & (fields < width) & ~blank)
    if short.size == 0:
        return
    first = int(short[0])
    shown = "(delimiter tab)" if sep == "\t" else f"(delimiter {sep!r})"
    more = ""
    if short.size > 1:
        others = ", ".join(str(int(line)) for line in lines[short[1:6]])
        more = f" (so do {short.size - 1:,} more: line {others}{', ...' if short.size > 6 else ''})"
    raise ReadError(
        f"{path}: line {int(lines[first])} has {int(fields[first])} field{'s' if fields[first] != 1 else ''} but the "
        f"header on line {header_line} has {width} {shown}{more}. A line cut short would be misread, its "
        "missing values taken as empty: write every field, an empty one too (A,1,), or fix the delimiter "
        + CONFIG_HINT.format(key="delimiter")
    )


# --- Excel -----------------------------------------------------------------------------------


def _read_excel(path: Path, sheet: str | int | None, data: bytes | None = None) -> RawTable:
    with _open_workbook(path, data) as book:
        name = _pick_sheet(path, book.sheetnames, sheet)
        worksheet = book[name]
        if not hasattr(worksheet, "iter_rows"):
            raise ReadError(f"{path}: sheet {name!r} is a chart, not a table; choose another sheet")
        frame = _sheet_frame(path, worksheet, name)
    return RawTable(frame, "excel", None, None, name)


@contextlib.contextmanager
def _open_workbook(path: Path, data: bytes | None) -> Iterator[Any]:
    """The workbook at ``path`` (or in ``data``, its bytes), read-only, closed on leaving."""
    with (io.BytesIO(data) if data is not None else path.open("rb")) as handle:
        head = handle.read(8)
        handle.seek(0)
        if head.startswith(_OLE2_MAGIC):
            raise ReadError(
                f"{path}: is an old binary .xls workbook or a password-protected one; open it in "
                "Excel and save it (without a password) as .xlsx or 'CSV UTF-8'"
            )
        if not head.startswith(_ZIP_MAGIC):
            raise ReadError(
                f"{path}: is not an .xlsx workbook (it does not start like one); if it is a "
                "CSV file, set format: csv " + CONFIG_HINT.format(key="format")
            )
        try:
            # An open handle rather than the path: openpyxl refuses names without .xlsx/.xlsm.
            book = openpyxl.load_workbook(handle, read_only=True, data_only=True)
        except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError, EOFError) as exc:
            raise ReadError(
                f"{path}: cannot be opened as an Excel workbook ({exc}); save it again from Excel"
            ) from None
        try:
            yield book
        finally:
            book.close()


def _pick_sheet(path: Path, names: list[str], sheet: str | int | None) -> str:
    listing = ", ".join(repr(name) for name in names)
    if sheet is None:
        return names[0]
    if isinstance(sheet, int) and not isinstance(sheet, bool):
        if 0 <= sheet < len(names):
            return names[sheet]
        raise ReadError(
            f"{path}: has no sheet at position {sheet} (positions start at 0; the workbook has "
            f"{len(names)}: {listing}); set sheet " + CONFIG_HINT.format(key="sheet")
        )
    if sheet in names:
        return sheet
    raise ReadError(
        f"{path}: has no sheet named {sheet!r}; its sheets are {listing}. Set sheet to one of "
        "them " + CONFIG_HINT.format(key="sheet")
    )


def _sheet_frame(path: Path, worksheet: Any, name: str) -> pd.DataFrame:
    """Cells of one sheet as text, one row per non-empty spreadsheet row."""
    if hasattr(worksheet, "reset_dimensions"):
        # Read-only sheets trust the size the file declares, which some exporters get wrong.
        worksheet.reset_dimensions()
    header: list[str] | None = None
    records: list[list[str]] = []
    numbers: list[int] = []
    for number, values in enumerate(worksheet.iter_rows(values_only=True), start=1):
        cells = [_excel_text(value) for value in values]
        while cells and cells[-1] == "":
            cells.pop()
        if not cells:
            continue  # an empty row, like an empty line in a CSV file
        if header is None:
            header = cells
        else:
            records.append(cells)
            numbers.append(number)
    if header is None:
        raise ReadError(f"{path}: sheet {name!r} is empty; choose the sheet that holds the table")
    width = max([len(header), *map(len, records)])
    names = _normalize_names(
        path, header + [""] * (width - len(header)), lambda i: f"column {get_column_letter(i + 1)} of sheet {name!r}"
    )
    columns = list(zip(*(row + [""] * (width - len(row)) for row in records))) or [()] * width
    frame = pd.DataFrame({col: pd.array(list(cells), dtype=str) for col, cells in zip(names, columns)})
    return _with_source_row(frame, np.asarray(numbers, dtype=np.int64))


def _excel_text(value: object) -> str:
    """A cell value from openpyxl as the text Excel shows for it."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        # Excel keeps 15 significant digits; further ones are noise from formulas (0.1 + 0.2).
        rounded = float(f"{value:.15g}")
        if rounded.is_integer() and abs(rounded) < 2**53:
            return str(int(rounded))  # an id 1001 stored as 1001.0 must read "1001"
        return repr(rounded)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0) and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)


# --- Parquet ---------------------------------------------------------------------------------


def _read_parquet(path: Path, data: bytes | None = None) -> RawTable:
    try:
        table = pq.read_table(path if data is None else pa.BufferReader(data))
    except (pa.ArrowException, OSError) as exc:
        raise ReadError(f"{path}: cannot be read as Parquet ({exc}); write the file again or export CSV") from None
    # Columns pandas adds for an unnamed index are an artefact of how the file was written.
    keep = [name for name in table.column_names if not _PANDAS_INDEX.fullmatch(name)]
    if not keep:
        raise ReadError(f"{path}: Parquet file has no columns")
    names = _normalize_names(path, keep, lambda i: f"column {i + 1} ({keep[i]!r})")
    texts = [_arrowtext.column_text(path, column, table[column]) for column in keep]
    text_table = pa.Table.from_arrays(texts, names=names)
    frame = text_table.to_pandas(types_mapper={pa.string(): pd.StringDtype(na_value=np.nan)}.get)
    return RawTable(_with_source_row(frame, np.arange(2, len(frame) + 2)), "parquet", None, None, None)


def arrow_text_frame(table: pa.Table, where: str) -> pd.DataFrame:
    """Every column of an Arrow table (a query's result) as text, written as Parquet columns are.

    The same rules as :func:`read_raw` applies to a Parquet file: dates ``2024-01-05``, whole
    numbers without ``.0``, nulls ``""``, headers NFKC-normalized; no ``source_row`` column.
    ``where`` names the table in errors (``inputs.orders.sql``).
    """
    label = Path(where)
    names = _normalize_names(label, table.column_names, lambda i: f"column {i + 1} ({table.column_names[i]!r})")
    texts = [_arrowtext.column_text(label, column, table.column(i)) for i, column in enumerate(table.column_names)]
    return pa.Table.from_arrays(texts, names=names).to_pandas(
        types_mapper={pa.string(): pd.StringDtype(na_value=np.nan)}.get
    )
