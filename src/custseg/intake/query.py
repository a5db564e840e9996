"""Tables defined by a query over files: SQL run by DuckDB over named source files.

Each source (a file or a glob of files) becomes a view of that name: CSV (also gzipped) and Parquet
are read by DuckDB itself, CSV with every column as text (``007`` stays ``007``, nothing is
guessed: cast in the SQL what you compute with); an Excel sheet is read by custseg's own reader
(:func:`custseg.intake.readers.read_raw`: DuckDB's Excel extension is not bundled) and handed to
DuckDB as text. The query's result is turned into text the way a Parquet file's columns are
(:func:`custseg.intake.readers.arrow_text_frame`), so intake validates, quarantines and accounts for
its rows exactly as for a file's.

An engine returns the rows of a join or a grouping in no fixed order (DuckDB's threads race), so
the result is put in a fixed order, by its values as text, before its rows are numbered: the
same files give the same row numbers in the quarantine on every run.
"""

from __future__ import annotations

import glob
import hashlib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from custseg.config import InputFile
from custseg.config.queries import DatabaseInput, QueryInput, QuerySource, TableInput
from custseg.files import file_digest
from custseg.intake.readers import SOURCE_ROW, SUFFIX_FORMATS, RawTable, ReadError, arrow_text_frame, read_raw


@dataclass(frozen=True)
class SourceCount:
    """One source a query read: its name, where it is, how many files matched and their rows."""

    name: str
    location: str  # the file or glob's name (no folder), or the database URL without its password
    files: int
    rows: int


@dataclass(frozen=True)
class QueryResult:
    """A query's result as text (``source_row``: the row's number in the result) and its sources."""

    raw: RawTable
    sources: tuple[SourceCount, ...]


def table_label(table: str) -> str:
    """How quarantine, accounting and messages name a table of Spark's catalog: by its name, and by
    what its row numbers mean (custseg.intake._spark.scan_table numbers its rows so)."""
    return f"{table} (table, as a CSV sorted by every column)"


def query_label(table: str) -> str:
    """How quarantine, accounting and messages name the query of input ``table``."""
    return f"inputs.{table}.sql"


def input_location(table: str, spec: InputFile | QueryInput | DatabaseInput | TableInput) -> str:
    """What input ``table`` is read from, as the quarantine's ``file`` column names it: the file's
    path, ``inputs.<table>.sql`` (a query over files), ``inputs.<table>.query`` (a database) or the
    name of a table of Spark's catalog."""
    if isinstance(spec, TableInput):
        return table_label(spec.table)
    if isinstance(spec, QueryInput):
        return query_label(table)
    if isinstance(spec, DatabaseInput):
        return f"inputs.{table}.query"
    return str(spec.path)


def source_files(table: str, name: str, source: QuerySource) -> list[Path]:
    """The files of one source, sorted: the file itself, or every file its glob matches.

    Raises
    ------
    ReadError
        When nothing matches, naming the table, the source and the path.
    """
    pattern = str(source.path)
    if glob.has_magic(pattern):
        found = sorted(Path(match) for match in glob.glob(pattern) if Path(match).is_file())
    else:
        found = [source.path] if source.path.is_file() else []
    if not found:
        raise ReadError(
            f"inputs.{table}.sources.{name}: {'no file matches' if glob.has_magic(pattern) else 'no file'} "
            f"{pattern} (relative paths in a config are taken from the config file's folder)"
        )
    return found


def read_query(table: str, spec: QueryInput) -> QueryResult:
    """Run the query of input ``table`` over its sources; every cell of the result as text.

    Parameters
    ----------
    table
        The input's name (``orders``, ``customers``, ...), for messages.
    spec
        The query and its sources.

    Returns
    -------
    QueryResult
        The text table (format ``query``; ``source_row`` numbers the rows 1, 2, ... in the fixed
        order described in the module notes) and each source's row count.

    Raises
    ------
    ReadError
        When a source is missing or cannot be read, or DuckDB cannot run the query; the message
        names the table, the source or the query, and DuckDB's reason.
    """
    import duckdb

    where = query_label(table)
    counts = []
    with duckdb.connect() as connection:
        for name, source in spec.sources.items():
            files = source_files(table, name, source)
            try:
                _register(connection, name, source, files)
                rows = connection.execute(f'SELECT count(*) FROM "{name}"').fetchall()[0][0]
            except duckdb.Error as exc:
                raise ReadError(
                    f"inputs.{table}.sources.{name} ({source.path}): DuckDB cannot read it: {exc}"
                ) from None
            counts.append(SourceCount(name, source.path.name, len(files), int(rows)))
        try:
            result = connection.sql(spec.sql).to_arrow_table()
        except duckdb.Error as exc:
            raise ReadError(f"{where}: DuckDB cannot run the query of inputs.{table}: {exc}") from None
    frame = numbered(arrow_text_frame(result, where))
    return QueryResult(RawTable(frame, "query", None, None, None), tuple(counts))


def numbered(frame: pd.DataFrame) -> pd.DataFrame:
    """A text table in a fixed order (by its values, column by column) with ``source_row`` 1, 2, ...

    The order depends on the values alone, not on the engine, its threads or its plan.
    """
    if SOURCE_ROW in frame:
        raise ReadError(f"the query's result has a column named {SOURCE_ROW!r}, a name custseg adds itself; rename it")
    ordered = frame.sort_values(list(frame.columns), kind="stable") if len(frame.columns) else frame
    ordered = ordered.reset_index(drop=True)
    return ordered.assign(**{SOURCE_ROW: pd.RangeIndex(1, len(ordered) + 1).to_numpy(dtype="int64")})


def _register(connection, name: str, source: QuerySource, files: list[Path]) -> None:
    kind = source.format if source.format != "auto" else _format(files[0])
    paths = [str(path) for path in files]
    if kind == "csv":
        options = {"header": True, "all_varchar": True, "union_by_name": True, "encoding": source.encoding}
        if source.delimiter is not None:
            options["sep"] = {"tab": "\t", "\\t": "\t"}.get(source.delimiter, source.delimiter)
        relation = connection.read_csv(paths, **options)
    elif kind == "parquet":
        relation = connection.read_parquet(paths, union_by_name=True)
    else:  # excel: custseg's reader, as text
        frames = [read_raw(path, format="excel", sheet=source.sheet).frame.drop(columns=SOURCE_ROW) for path in files]
        relation = connection.from_df(pd.concat(frames, ignore_index=True))
    relation.create_view(name)


def _format(path: Path) -> str:
    suffixes = [suffix.lower() for suffix in path.suffixes[-2:]]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    kind = SUFFIX_FORMATS.get(suffixes[-1]) if suffixes else None
    if kind is None:
        raise ReadError(
            f"{path}: cannot tell the format from the suffix; set format (csv, parquet or excel) for this source"
        )
    return kind


def query_fingerprint(table: str, spec: QueryInput) -> str:
    """Hash of the SQL and of every source file's bytes (each glob's files, sorted): what the result
    depends on."""
    digest = hashlib.sha256(spec.sql.encode("utf-8"))
    for name, source in sorted(spec.sources.items()):
        digest.update(f"\n{name}:{source.model_dump_json()}".encode())
        for path in source_files(table, name, source):
            digest.update(f"\n{path.name}:{file_digest(path)}".encode())
    return digest.hexdigest()[:16]
