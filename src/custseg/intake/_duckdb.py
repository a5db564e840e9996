"""The SQL side of ``engine: duckdb``: read one big fact file with DuckDB, key and number its rows,
and hand it back in pieces that no invoice and no customer straddles.

Plain SQL (a CSV scan, a row's place, ``GROUP BY``, a hash), so that another engine is a question
of dialect. The rules themselves stay in pandas (:mod:`custseg.intake.scaled`), run on one piece
at a time: memory holds a piece, never the whole export.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc

#: Python's str.strip() takes these ASCII characters for white space; SQL's trim() only the space.
_WHITESPACE = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"

#: The engine as errors name it, and what a failed query raises.
LABEL = "DuckDB"
ERRORS: tuple[type[BaseException], ...] = (duckdb.Error,)


def connect(memory_limit: str | None, temp_directory: Path, threads: int | None) -> duckdb.DuckDBPyConnection:
    """A connection with the engine's memory limit, spill folder and threads (None: DuckDB's own)."""
    temp_directory.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(config={"preserve_insertion_order": True})
    con.execute(f"SET temp_directory = {_literal(str(temp_directory))}")
    if memory_limit:
        con.execute(f"SET memory_limit = {_literal(memory_limit)}")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    return con


def close(con: duckdb.DuckDBPyConnection) -> None:
    """Close the connection: its memory and spill files are given back."""
    con.close()


def cause(exc: BaseException) -> str:
    """A failed query's error in one line (DuckDB's message is one already)."""
    return str(exc)


def scan(con: duckdb.DuckDBPyConnection, path: Path, delimiter: str) -> list[str]:
    """Open the CSV file as table ``scan``: every cell its text, nothing read as missing, in the file's
    order (a row's line is its rowid + 2: the header is line 1). Returns the headers as written."""
    names = header(con, path, delimiter)
    types = ", ".join(f"{_literal(name)}: 'VARCHAR'" for name in names)
    # a view cannot take parameters: the path and the names are written in as quoted literals
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW scan_text AS SELECT * FROM read_csv({_literal(str(path))}, header = true, "
        f"delim = {_literal(delimiter)}, quote = '\"', escape = '\"', nullstr = '\x01', auto_detect = false, "
        f"strict_mode = true, null_padding = false, columns = {{{types}}})"
    )
    # kept, in the file's order (preserve_insertion_order): a row's place in the table (its rowid) is
    # its record's, so its line is rowid + 2, the header being line 1 (numbering the rows with a
    # row_number() window took 5.8 s at 10M lines, where the plain copy takes 3.9)
    con.execute("CREATE OR REPLACE TEMP TABLE scan AS SELECT * FROM scan_text")
    return [row[0] for row in con.execute("DESCRIBE scan_text").fetchall()]


def header(con: duckdb.DuckDBPyConnection, path: Path, delimiter: str) -> list[str]:
    """The file's headers as DuckDB's sniffer reads them."""
    found = con.execute("SELECT Columns FROM sniff_csv(?, delim = ?, header = true, all_varchar = true)",
                        [str(path), delimiter]).fetchall()[0][0]
    return [column["name"] for column in found]


def rows(con: duckdb.DuckDBPyConnection) -> int:
    """How many records the scan reads (counted in its numbered copy: the view would read the file again)."""
    return int(con.execute("SELECT count(*) FROM scan").fetchall()[0][0])


def distinct(con: duckdb.DuckDBPyConnection, column: str, non_ascii: bool = False) -> pd.Series:
    """The distinct values of one column of the scan (only those with a non-ASCII character)."""
    where = f"WHERE regexp_matches({_quoted(column)}, '[^\\x00-\\x7f]')" if non_ascii else ""
    values = con.sql(f"SELECT DISTINCT {_quoted(column)} AS v FROM scan {where}").to_arrow_table().column("v")
    return pd.Series(pd.array(values, dtype="str"), name=column)


def pieces(con: duckdb.DuckDBPyConnection, columns: Mapping[str, str], keys: Mapping[str, pd.DataFrame],
           target: int) -> Iterator[pd.DataFrame]:
    """The rows in pieces of about `target` rows, under canonical names, each in the file's order.

    Parameters
    ----------
    columns
        Canonical name -> header in the file.
    keys
        ``customer_id`` and ``invoice`` (and ``currency`` when mapped): their non-ASCII values with
        the value each normalizes to (columns ``v`` and ``k``), so that keys compare as intake will.
    target
        Rows per piece, roughly.

    Notes
    -----
    Every row of an invoice and of a customer lands in one piece: a customer's rows go to the piece
    of their key's hash; an invoice naming several customers (or currencies) takes every customer it
    names, and all their rows, to piece 0. A row without a customer (a guest line, quarantined in
    any case) goes by its invoice, so that exact duplicates meet.

    The rows go to one file a piece in the spill folder as DuckDB hands them over
    (:func:`_routed`), and the connection is closed once they are all there: DuckDB's memory is
    given back before the rules start, and memory then holds a piece at a time.
    """
    for name, frame in keys.items():
        con.register(f"key_{name}", pa.table({"v": pa.array(frame["v"], pa.string()),
                                             "k": pa.array(frame["k"], pa.string())}))
    key = {name: _key(name, columns) for name in ("customer_id", "invoice", "currency") if name in columns}
    spread = "count(DISTINCT c) FILTER (WHERE c <> '') > 1"
    if "currency" in key:
        spread += " OR count(DISTINCT upper(y)) > 1"
    total = rows(con)
    buckets = max(1, -(-total // target))
    select = ", ".join(f"{_quoted(header)} AS {_quoted(canon)}" for canon, header in columns.items())
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE mixed AS
        WITH k AS (SELECT {key['customer_id']} AS c, {key['invoice']} AS i, {key.get('currency', "''")} AS y FROM scan)
        SELECT DISTINCT k.c FROM k JOIN (SELECT i FROM k GROUP BY i HAVING {spread}) m USING (i) WHERE k.c <> ''
    """)
    result = con.sql(f"""
        WITH k AS (SELECT *, rowid + 2 AS source_row, {key['customer_id']} AS _c, {key['invoice']} AS _i FROM scan)
        SELECT (CASE WHEN mixed.c IS NOT NULL THEN 0
                     WHEN k._c = '' THEN 1 + hash(k._i) % {buckets}
                     ELSE 1 + hash(k._c) % {buckets} END)::INTEGER AS piece,
               {select}, k.source_row
        FROM k LEFT JOIN mixed ON mixed.c = k._c
    """)
    spill = Path(con.execute("SELECT current_setting('temp_directory')").fetchall()[0][0])
    # named as the clean lines' folders are (custseg.intake.spilled), so a killed run's is swept alike
    folder = Path(tempfile.mkdtemp(prefix=f"custseg-lines-{os.getpid()}-raw-", dir=spill))
    try:
        found = _routed(result.to_arrow_reader(1 << 17), folder)
        # every row is in its piece's file: DuckDB's memory (the file's text) goes before the rules start
        con.close()
        for path in found:
            with pa.memory_map(str(path)) as source:
                table = ipc.open_file(source).read_all()
            yield _frame(table.take(pc.sort_indices(table.column("source_row"))))  # in the file's order
            del table
            path.unlink()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _routed(reader: pa.RecordBatchReader, folder: Path) -> list[Path]:
    """Each row of the reader to its piece's file in `folder` (Arrow IPC, LZ4); the files, by piece.

    Rows are sent on as they come, a batch at a time: ordering the whole file by piece held a
    sorted copy of it in DuckDB's memory (2.7 GB at 10M lines, where this holds a batch).
    """
    schema = reader.schema.remove(0)
    options = ipc.IpcWriteOptions(compression="lz4")
    writers: dict[int, ipc.RecordBatchFileWriter] = {}
    paths: dict[int, Path] = {}
    try:
        for batch in reader:
            piece = batch.column(0).to_numpy()
            order = np.argsort(piece, kind="stable")
            ordered = piece[order]
            starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
            rows = pa.Table.from_batches([batch]).drop_columns(["piece"]).take(order)
            for a, b in zip(starts, [*starts[1:], len(ordered)]):
                number = int(ordered[a])
                if number not in writers:
                    paths[number] = folder / f"piece-{number:06d}.arrow"
                    writers[number] = ipc.new_file(str(paths[number]), schema, options=options)
                writers[number].write_table(rows.slice(a, b - a))
    finally:
        for writer in writers.values():
            writer.close()
    return [paths[number] for number in sorted(paths)]


def _frame(table: pa.Table) -> pd.DataFrame:
    frame = pd.DataFrame({name: pd.array(table.column(name), dtype="str") for name in table.column_names
                          if name != "source_row"})
    return frame.assign(source_row=table.column("source_row").to_numpy().astype("int64"))


def _key(name: str, columns: Mapping[str, str]) -> str:
    """SQL for a key column as intake will compare it: trimmed, a non-ASCII value as it normalizes."""
    column = _quoted(columns[name])
    return f"coalesce((SELECT k FROM key_{name} WHERE v = {column}), trim({column}, '{_WHITESPACE}'))"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
