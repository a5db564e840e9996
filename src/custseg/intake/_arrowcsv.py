"""A multi-threaded CSV parse (Arrow's) for the records that pandas' C parser would read the same way.

:mod:`custseg.intake.readers` owns the rules of reading (line numbers, empty lines, short and long
records, their error messages); this is only its fast path. Arrow refuses a record whose field
count differs from the header's, where pandas pads or warns, so any doubt returns None and the
caller parses with pandas, whose behaviour (and errors) the rules were written against.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

_BLOCK = 1 << 22  # bytes per parsing task: a few blocks per core on files of a few hundred MB


def parse(rows: bytes, sep: str, names: list[str], records: int, multiline: bool) -> pd.DataFrame | None:
    """The data records ``rows`` (UTF-8, header excluded) as text columns ``names``, or None.

    Parameters
    ----------
    rows
        The bytes after the header record; no empty line among them (the caller checks).
    sep
        The one-character delimiter.
    names
        Column names, unique.
    records
        How many records the caller's quote-aware scan found: a parse with another count is refused.
    multiline
        Whether a quoted value spans lines (Arrow then splits the file into blocks more carefully).

    Returns
    -------
    pandas.DataFrame or None
        Every cell as the text written in the file (quotes removed, ``""`` read as ``"``, nothing
        read as missing), index 0..n-1; None when Arrow cannot read the records exactly as pandas would.
    """
    if not rows or len(set(names)) != len(names) or not _quotes_delimit(rows, sep):
        return None
    try:
        table = pacsv.read_csv(
            io.BytesIO(rows),
            read_options=pacsv.ReadOptions(column_names=names, use_threads=True, block_size=_BLOCK),
            parse_options=pacsv.ParseOptions(delimiter=sep, quote_char='"', double_quote=True, escape_char=False,
                                             newlines_in_values=multiline, ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(column_types={name: pa.string() for name in names}, null_values=[],
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # a ragged record, mostly: pandas says where
        return None
    if table.num_rows != records:
        return None
    return pd.DataFrame({name: pd.array(table.column(name), dtype="str") for name in names})


def _quotes_delimit(rows: bytes, sep: str) -> bool:
    """Whether every quote opens a value, closes one or doubles one inside it.

    Then quoting is read the same by any parser: a quote that opens (an even one, counted from the
    start) follows a delimiter, a line break or a closing quote (a doubled one), and a quote that
    closes (an odd one) precedes a delimiter, a line break, the end or a quote. Arrow and pandas
    differ on the rest: a quote inside an unquoted value, a value left open to the end of the file.
    """
    data = np.frombuffer(rows, dtype=np.uint8)
    quotes = np.flatnonzero(data == ord('"'))
    if quotes.size % 2:
        return False
    if not quotes.size:
        return True
    bound = np.zeros(256, dtype=bool)  # a lookup by byte: one quote per field makes millions of quotes
    bound[[ord(sep), ord("\n"), ord("\r"), ord('"')]] = True
    opening, closing = quotes[0::2], quotes[1::2]
    before = data[opening[opening > 0] - 1]  # the first byte follows the header's line break
    after = data[closing[closing < data.size - 1] + 1]  # the last byte is the end
    return bool(bound[before].all() and bound[after].all())
