"""Arrow columns as text, as intake reads every cell: a Parquet file's columns and a query's result.

Written like an Excel cell's text (:func:`custseg.intake.readers.read_raw`): dates ``2024-01-05``,
date-times with their offset when zoned, whole numbers without ``.0``, NaN and nulls as ``""``.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from custseg.intake._readerror import ReadError


def column_text(path: Path, name: str, column: pa.ChunkedArray) -> pa.ChunkedArray:
    """One Parquet column as text, written like :func:`_excel_text` writes cells; nulls are ""."""
    kind = column.type
    if pa.types.is_dictionary(kind):
        column, kind = column.cast(kind.value_type), kind.value_type
    if pa.types.is_nested(kind) or pa.types.is_duration(kind) or pa.types.is_interval(kind):
        raise ReadError(
            f"{path}: column {name!r} holds {kind} values, which custseg cannot read; write it "
            "as text or numbers"
        )
    try:
        if pa.types.is_timestamp(kind):
            text = timestamp_text(column)
        elif pa.types.is_floating(kind):
            # NaN is how pandas stores a missing number; it reads as empty, like a null.
            text = pc.if_else(pc.is_nan(column), pa.scalar(None, pa.string()), column.cast(pa.string()))
        elif pa.types.is_time(kind):
            text = pc.replace_substring_regex(column.cast(pa.string()), pattern=r"\.0+$", replacement="")
        else:  # strings, integers, decimals, dates, booleans, binary holding UTF-8
            text = column.cast(pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise ReadError(f"{path}: column {name!r} ({kind}) cannot be turned into text: {exc}") from None
    return pc.fill_null(text, "")


def timestamp_text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """ISO text: the date alone at midnight, else date and time (local time and offset if zoned)."""
    zone = column.type.tz
    whole = pc.floor_temporal(column, unit="second")
    fractional = pc.any(pc.not_equal(whole, column)).as_py()
    timed = column if fractional else whole.cast(pa.timestamp("s", tz=zone))
    full = pc.strftime(timed, format="%Y-%m-%d %H:%M:%S" + ("%z" if zone else ""))
    midnight = pc.equal(pc.floor_temporal(column, unit="day"), column)
    return pc.if_else(midnight, pc.strftime(column, format="%Y-%m-%d"), full)
