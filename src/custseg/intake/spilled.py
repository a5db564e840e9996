"""Clean line items kept on disk a piece at a time: how ``engine: duckdb`` and ``engine: spark`` hold them.

The engines clean a line-item export in pieces that no invoice and no customer straddles
(:mod:`custseg.intake.scaled`). Joined back into one pandas table, the clean lines would be the
largest thing the run holds (10M lines: about 2 GB) and they would grow with the export, when
nothing after intake needs them whole:

- intake writes them to ``line_items.parquet`` in the file's order: DuckDB merges the pieces
  sorted by line within the engine's memory limit, spilling to its folder, and hands them over a
  million lines at a time (:meth:`PieceLines.write`);
- the preferences read a few columns of one piece at a time (the orders' times, the unit prices:
  :mod:`custseg.segment.preferences`); what they compute per order or per customer is computed
  within a piece, since no order and no customer straddles two.

So memory holds a piece, not the export, after intake too.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import weakref
from collections.abc import Iterator, Sequence
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from custseg import files

#: Lines handed from DuckDB to the Parquet writer at a time: a row group, as pandas writes them.
BATCH_ROWS = 1 << 20
_FOLDER = re.compile(r"^custseg-lines-(\d+)-")


class PieceLines:
    """Clean line items as Parquet pieces in a temporary folder, each piece in the file's order.

    Parameters
    ----------
    folder
        Where the pieces' folder is made (the engine's spill folder); folders that a killed run
        left there are removed first.
    memory_limit, threads
        DuckDB's, for putting the pieces back in the file's order (None: DuckDB's own).
    """

    def __init__(self, folder: Path, memory_limit: str | None = None, threads: int | None = None) -> None:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        _sweep(folder)
        self._folder = Path(tempfile.mkdtemp(prefix=f"custseg-lines-{os.getpid()}-", dir=folder))
        # removed when closed, else when the object is collected or the interpreter exits
        self._remove = weakref.finalize(self, shutil.rmtree, self._folder, ignore_errors=True)
        self._memory_limit, self._threads = memory_limit, threads
        self.paths: list[Path] = []
        self._rows = 0
        self._empty: pd.DataFrame | None = None  # the columns and types, while no piece had a line
        self._types: dict[str, object] = {}  # pandas' types of the lines (Parquet keeps no seconds: s -> ms)

    def add(self, frame: pd.DataFrame) -> None:
        """Keep one piece's clean lines (in the file's order), written to the folder."""
        self.adopt(write_piece(frame, self.path_for(len(self.paths))), frame.iloc[:0], len(frame))

    def path_for(self, piece: int) -> Path:
        """Where the clean lines of the `piece`-th piece go (a process cleaning it writes them there:
        :func:`write_piece`)."""
        return self._folder / f"piece-{piece:05d}.parquet"

    def adopt(self, path: Path | None, like: pd.DataFrame, rows: int) -> None:
        """Keep the piece that :func:`write_piece` wrote to `path` (None: it had no lines); `like`
        has the lines' columns and types, `rows` counts them. Pieces are adopted in the file's order."""
        if path is None:
            if self._empty is None:
                self._empty = like
            return
        self._types = self._types or dict(like.dtypes)
        self.paths.append(path)
        self._rows += rows

    def __len__(self) -> int:
        return self._rows

    def pieces(self, columns: Sequence[str] | None = None) -> Iterator[pd.DataFrame]:
        """Each piece's lines (only `columns` of them, those the lines have), one at a time."""
        if not self._open():
            yield self._columns(self._nothing(), columns)
            return
        present = pq.read_schema(self.paths[0]).names
        wanted = None if columns is None else [c for c in columns if c in present]
        for path in self.paths:
            yield self._typed(pd.read_parquet(path, columns=wanted))

    def frame(self) -> pd.DataFrame:
        """Every line in one table, in the file's order (for a small export, and tests)."""
        if not self._open():
            return self._nothing()
        return self._typed(pd.read_parquet(self._sorted_path()))

    def write(self, path: Path) -> Path:
        """Write every line to `path` (Parquet, atomically) in the file's order, a row group at a time."""
        if not self._open():
            return files.write_parquet(self._nothing(), path)
        return files.atomic_write(path, self._write_sorted)

    def close(self) -> None:
        """Remove the pieces (reading them afterwards is an error)."""
        self._remove()
        self.paths = []

    def _open(self) -> bool:
        """Whether any piece has lines; an error once closed (its pieces are gone, not empty)."""
        if not self._remove.alive:
            raise RuntimeError(f"the line items in {self._folder} were closed: their pieces are removed")
        return bool(self.paths)

    def _nothing(self) -> pd.DataFrame:
        """No lines, in the columns and types of the pieces' (none, when no piece was added)."""
        return self._empty if self._empty is not None else pd.DataFrame()

    def _sorted_path(self) -> Path:
        path = self._folder / "sorted.parquet"
        if not path.is_file():
            self._write_sorted(path)
        return path

    def _write_sorted(self, path: Path) -> None:
        # the pieces' schema (pandas' types in its metadata) is the written file's: DuckDB's Arrow
        # types (timestamps in microseconds, strings of another width) are cast back to it
        import duckdb  # a run of engine: pandas never needs it

        schema = pq.read_schema(self.paths[0])
        con = duckdb.connect(config={"preserve_insertion_order": True})
        try:
            con.execute(f"SET temp_directory = {_literal(str(self._folder / 'spill'))}")
            if self._memory_limit:
                con.execute(f"SET memory_limit = {_literal(self._memory_limit)}")
            if self._threads:
                con.execute(f"SET threads = {int(self._threads)}")
            # text as the pieces hold it (large_string): cast from DuckDB's narrower strings, every
            # batch was copied once more
            con.execute("SET arrow_large_buffer_size = true")
            listed = ", ".join(_literal(str(p)) for p in self.paths)
            columns = ", ".join('"' + name.replace('"', '""') + '"' for name in schema.names)
            reader = con.sql(f"SELECT {columns} FROM read_parquet([{listed}]) ORDER BY source_row"
                             ).to_arrow_reader(BATCH_ROWS)
            with pq.ParquetWriter(path, schema) as writer:
                for table in _regrouped(reader, BATCH_ROWS):
                    writer.write_table(table.cast(schema), row_group_size=BATCH_ROWS)
        finally:
            con.close()

    def _typed(self, frame: pd.DataFrame) -> pd.DataFrame:
        changed = {c: t for c, t in self._types.items() if c in frame and frame[c].dtype != t}
        return frame.astype(changed) if changed else frame

    @staticmethod
    def _columns(frame: pd.DataFrame, columns: Sequence[str] | None) -> pd.DataFrame:
        return frame if columns is None else frame[[c for c in columns if c in frame]]


def write_piece(frame: pd.DataFrame, path: Path) -> Path | None:
    """Write one piece's clean lines to `path` (from :meth:`PieceLines.path_for`); None when it has none."""
    if not len(frame):
        return None
    frame.to_parquet(path, index=False)
    return path


def _regrouped(reader: pa.RecordBatchReader, rows: int) -> Iterator[pa.Table]:
    """The reader's rows in tables of `rows` rows (the last one shorter).

    DuckDB hands over batches of about 120,000 rows whatever is asked: written as they come, 100M
    lines made 647 row groups and a file of 3.3 GB, where row groups of a million lines (pandas'
    own) repeat each column's dictionary ten times less.
    """
    held: list[pa.RecordBatch] = []
    count = 0
    for batch in reader:
        held.append(batch)
        count += batch.num_rows
        while count >= rows:
            table = pa.Table.from_batches(held, schema=reader.schema)
            yield table.slice(0, rows)
            rest = table.slice(rows)
            held, count = rest.to_batches(), rest.num_rows
    if count:
        yield pa.Table.from_batches(held, schema=reader.schema)


def _literal(text: str) -> str:
    """A quoted SQL string (a folder may hold a quote)."""
    return "'" + text.replace("'", "''") + "'"


def _sweep(folder: Path) -> None:
    """Remove the pieces' folders of runs that are gone (killed before they cleaned up)."""
    for path in folder.glob("custseg-lines-*"):
        match = _FOLDER.match(path.name)
        if match and path.is_dir() and not files.process_alive(int(match.group(1))):
            shutil.rmtree(path, ignore_errors=True)
