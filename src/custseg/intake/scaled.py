"""``engine: duckdb`` and ``engine: spark``: a line-item export larger than memory, cleaned in pieces.

The engine reads the file, numbers its rows and cuts it into pieces that no invoice and no customer
straddles: DuckDB with ``engine.memory_limit``, spilling to ``engine.temp_directory``
(:mod:`custseg.intake._duckdb`), or Spark on ``engine.master`` (:mod:`custseg.intake._spark`, the
same SQL in Spark's dialect: either module is an :class:`EngineSide`). Each piece then goes
through the very rules of the pandas engine (:func:`custseg.intake.cleaning.clean_input`), in one
of ``engine.workers`` processes while the engine reads the next piece, and the pieces' results
are put together in the order the whole file would have given. What must be
judged over the whole file is judged over it: the decimal convention each number column tells
(from its distinct values), the stop rules of ``cleaning.stop_on`` and whether any row was clean at
all. So the accounting, the quarantine and the clean tables equal the pandas engine's
(tests/test_engines.py).

What the engine cannot read the way custseg's readers do (a pattern of several files, Excel, Parquet,
a zip, a query, an encoding other than UTF-8, a value spanning lines, empty lines, a malformed row)
stops with an error naming the file and saying to use ``engine: pandas``. With ``engine: spark`` the
line items may also be a table of the session's catalog (:class:`custseg.config.TableInput`), read
and numbered by :func:`custseg.intake._spark.scan_table`.
"""

from __future__ import annotations

import gzip
import os
import unicodedata
from collections import deque
from collections.abc import Iterator, Mapping
from concurrent.futures import Executor, Future
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, BinaryIO, Protocol

import numpy as np
import pandas as pd
from joblib.externals import loky

from custseg.config import Config, InputFile, TableInput
from custseg.intake import _duckdb, parsing, reversals
from custseg.intake._readerror import ReadError
from custseg.intake.cleaning import (
    SCHEMAS,
    InputResult,
    IntakeError,
    RawInput,
    all_quarantined,
    clean_input,
    normalize_text,
    stop_if_asked,
)
from custseg.intake.query import SourceCount, table_label
from custseg.intake.spilled import PieceLines, write_piece
from custseg.intake.validation import NUMBER_COLUMNS

#: Rows per piece: a worker cleaning a piece peaks at about 1 KB a row (docs/performance.md).
PIECE_ROWS = 1_000_000
#: Processes cleaning pieces at once when ``engine.workers`` is not set: one per core, up to this.
MAX_WORKERS = 4
_DELIMITERS = (",", ";", "\t", "|")
_SUFFIXES = (".csv", ".txt", ".tsv", ".csv.gz", ".txt.gz", ".tsv.gz")  # DuckDB and Spark read gzip themselves
_COUNTS = ("rows_read", "clean", "quarantined", "duplicates_removed")


class EngineSide(Protocol):
    """What an engine does for intake (a module: :mod:`custseg.intake._duckdb`, :mod:`custseg.intake._spark`).

    ``con`` is the engine's connection; ``scan`` opens the file and returns its headers, the others
    read that scan. ``LABEL`` names the engine in errors, ``ERRORS`` are what its queries raise and
    ``cause`` says one of them in a line.
    """

    LABEL: str
    ERRORS: tuple[type[BaseException], ...]

    def close(self, con: Any) -> None: ...

    def cause(self, exc: BaseException) -> str: ...

    def scan(self, con: Any, path: Path, delimiter: str) -> list[str]: ...

    # a table of the session's catalog (Spark only: TableInput is refused with any other engine)
    def scan_table(self, con: Any, table: str) -> list[str]: ...

    def kinds(self, con: Any, table: str) -> dict[str, str]: ...

    def table_digest(self, con: Any, table: str) -> str: ...

    def rows(self, con: Any) -> int: ...

    def distinct(self, con: Any, column: str, non_ascii: bool = False) -> pd.Series: ...

    def pieces(self, con: Any, columns: Mapping[str, str], keys: Mapping[str, pd.DataFrame],
               target: int) -> Iterator[pd.DataFrame]: ...


def clean_line_items(name: str, spec: object, config: Config, piece_rows: int | None = None) -> InputResult:
    """Read, clean and derive orders and customers from a line-item CSV file with DuckDB or Spark.

    Returns what :func:`custseg.intake.cleaning.clean_input` returns for the whole file.

    Raises
    ------
    IntakeError
        For a file the engine cannot read as custseg's readers would (use ``engine: pandas``), and
        for what the pandas engine raises on.
    """
    path = _readable(name, spec, config.engine.name)
    side, con = _connected(config)
    engine = config.engine
    lines = PieceLines(engine.spill_folder(config.output), engine.memory_limit, engine.threads)
    try:
        try:
            whole, done, first = _clean(name, spec, path, side, con, config, piece_rows or PIECE_ROWS, lines)
        except side.ERRORS as exc:
            if isinstance(spec, TableInput):
                raise IntakeError(f"{path}: {side.LABEL} cannot read the table ({side.cause(exc)})") from None
            raise IntakeError(f"{path}: {side.LABEL} cannot read the file as custseg's readers would "
                              f"({side.cause(exc)}); use engine: pandas for it") from None
        finally:
            side.close(con)  # before the pieces are joined: the engine's memory is given back first
        return _joined(whole, done, lines, first, config)
    except BaseException:  # whatever stops intake, the pieces on disk go with it
        lines.close()
        raise


def _connected(config: Config) -> tuple[EngineSide, Any]:
    """The engine side and its connection."""
    engine = config.engine
    if engine.name == "duckdb":
        con = _duckdb.connect(engine.memory_limit, engine.spill_folder(config.output), engine.threads)
        return _duckdb, con
    try:
        from custseg.intake import _spark  # an optional extra: imported only when asked for
    except ImportError as exc:
        raise IntakeError(f"engine: spark needs PySpark, which is not installed ({exc}): run `make setup-spark` "
                          "(or pip install -e .[spark]), or use engine: duckdb or pandas") from None
    try:
        con = _spark.connect(engine.master, engine.spark_conf)
    except _spark.ERRORS as exc:
        raise IntakeError(f"engine: spark could not start Spark on {engine.master or 'local[*]'} "
                          f"({_spark.cause(exc)}); Spark needs a Java 17+ runtime (`make setup-spark` checks it)"
                          ) from None
    return _spark, con


def table_fingerprint(name: str, spec: TableInput, config: Config) -> str:
    """Hash of a catalog table as intake reads it (its columns, types and every row's text), for the
    rebuild fingerprint: Spark reads the whole table once (:func:`custseg.intake._spark.table_digest`)."""
    side, con = _connected(config)
    try:
        return side.table_digest(con, spec.table)
    except ReadError as exc:
        raise IntakeError(str(exc)) from None
    except side.ERRORS as exc:
        raise IntakeError(f"{spec.table}: {side.LABEL} cannot read the table ({side.cause(exc)})") from None


def _opened(name: str, spec: InputFile | TableInput, path: str | Path, side: EngineSide,
            con: Any) -> tuple[dict[str, str], dict[str, Any]]:
    """Open the scan of a file or a catalog table: the columns mapped (canonical name -> header) and
    how it was read, as :class:`RawInput` records it."""
    if isinstance(spec, TableInput):
        try:
            headers = side.scan_table(con, spec.table)
        except ReadError as exc:
            raise IntakeError(str(exc)) from None
        columns = _mapped(name, spec, path, headers)
        _check_dates(name, spec, columns, side.kinds(con, spec.table))
        source = SourceCount(name, spec.table, 1, side.rows(con))
        return columns, {"format": "table", "encoding": None, "delimiter": None, "encoding_source": None,
                         "where": table_label(spec.table), "query_sources": (source,)}
    delimiter = spec.delimiter or _sniff(path)
    headers = side.scan(con, path, delimiter)
    columns = _mapped(name, spec, path, headers)
    if side.rows(con) != _lines(path) - 1:
        raise IntakeError(f"{path}: a value spans several lines, or the file has empty lines: "
                          f"{side.LABEL} would number its rows otherwise than custseg's readers; "
                          "use engine: pandas for it")
    return columns, {"format": "csv", "encoding": "utf-8", "delimiter": delimiter, "encoding_source": "utf-8",
                     "where": str(spec.path)}


def _check_dates(name: str, spec: TableInput, columns: Mapping[str, str], kinds: Mapping[str, str]) -> None:
    """A TIMESTAMP or DATE column is read as ISO text, which custseg reads without a date_format; a
    pattern would misread some of it (``%Y-%m-%d %H:%M:%S`` fails on ``08:26:00.5``), so it is refused."""
    header = columns.get("invoice_date")
    shown = {"timestamp": "2010-12-01 08:26:00", "timestamp_ntz": "2010-12-01 08:26:00", "date": "2010-12-01"}
    example = shown.get(kinds.get(header, ""))
    if example is not None and spec.date_format is not None:
        raise IntakeError(
            f"{spec.table}: column {header!r} is a {kinds[header].upper()} column, read as ISO text ({example}, a "
            f"fraction of a second when there is one), which custseg reads without a date_format: remove "
            f"inputs.{name}.date_format ({spec.date_format!r}), which is for dates held as text")


def _clean(name: str, spec: InputFile | TableInput, path: str | Path, side: EngineSide, con: Any, config: Config,
           piece_rows: int, lines: PieceLines) -> tuple[RawInput, list[InputResult], pd.Series]:
    """The whole file (table) as a row count, each piece cleaned by the pandas rules, and each customer's
    first clean line; the pieces' clean lines go to `lines` (on disk), not into their results."""
    columns, how = _opened(name, spec, path, side, con)
    read = side.rows(con)
    keys = {canon: _normalized_keys(side, con, columns[canon]) for canon in ("customer_id", "invoice", "currency")
            if canon in columns}
    told = tuple(_told(side, con, name, columns).items())
    quiet = config.model_copy(update={"cleaning": config.cleaning.model_copy(update={"stop_on": []})})
    mapped = {c: spec.columns.get(c, c) for c in columns}
    job = _Job(name, spec, mapped, told, how, quiet)
    done, first = [], []
    workers = _workers(config.engine.workers, read, piece_rows)

    def kept(cleaned: Future) -> None:
        piece, written, like, count, firsts = cleaned.result()
        lines.adopt(written, like, count)
        first.append(firsts)
        done.append(piece)

    # While the workers clean pieces, the engine reads the next; at most one piece waits beside
    # those being cleaned, and results are kept in the file's order.
    with _cleaners(workers, job) as pool:
        pending: deque[Future] = deque()
        for number, frame in enumerate(side.pieces(con, columns, keys, piece_rows)):
            pending.append(pool.submit(_clean_piece, frame, lines.path_for(number)))
            del frame
            while len(pending) > workers or (pending and pending[0].done()):
                kept(pending.popleft())
        while pending:
            kept(pending.popleft())
    whole = RawInput(name, spec, pd.DataFrame(index=pd.RangeIndex(read)), headers=mapped, told=told, **how)
    return whole, done, pd.concat(first)


@dataclass(frozen=True)
class _Job:
    """What every piece of one file is cleaned with (sent once to each worker process)."""

    name: str
    spec: InputFile | TableInput
    mapped: dict[str, str]
    told: tuple[tuple[str, str], ...]
    how: dict[str, Any]
    config: Config


#: The job of this worker process (set by :func:`_started`); the main process's own when it cleans inline.
_JOB: _Job | None = None


def _started(job: _Job) -> None:
    global _JOB  # a worker process's one job, set once when it starts
    _JOB = job


def _clean_piece(frame: pd.DataFrame, path: Path) -> tuple[InputResult, Path | None, pd.DataFrame, int, pd.Series]:
    """Clean one piece by the pandas rules (in a worker process): its result without the clean lines,
    which are written to `path` (None: it had none), their columns and types, their count, and
    each customer's first clean line (a customer's lines are all in one piece: its first there is
    its first in the file)."""
    job = _JOB
    if job is None:  # a bug: _cleaners sets it in every process that cleans
        raise AssertionError("a piece was cleaned outside _cleaners")
    text = frame.drop(columns="source_row").apply(normalize_text).assign(source_row=frame["source_row"])
    del frame
    raw = RawInput(job.name, job.spec, text, headers=job.mapped, told=job.told, **job.how)
    # the piece's text is let go: only what it became is kept (the text of every piece is the whole file)
    piece = replace(clean_input(raw, job.config), raw=None)
    clean = piece.tables.pop("line_items")
    firsts = clean.groupby("customer_id", sort=False)["source_row"].min()
    return piece, write_piece(clean, path), clean.iloc[:0], len(clean), firsts


def _workers(asked: int | None, rows: int, piece_rows: int) -> int:
    """Processes that clean pieces at once: `asked` (``engine.workers``), else one per core this
    process may use, up to 4; one when the file is one piece (a process would only cost its start)."""
    if rows <= piece_rows:
        return 1
    if asked is not None:
        return asked
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(cores, MAX_WORKERS))


@contextmanager
def _cleaners(workers: int, job: _Job) -> Iterator[Executor]:
    """An executor of :func:`_clean_piece` for `job`: `workers` processes, or this process when one.

    The processes are loky's (joblib's, as scikit-learn uses them): each is a fresh interpreter,
    without the engine's threads, Spark's gateway or a notebook's sockets, and unlike the standard
    library's fresh processes they do not run the caller's script again, so a script calling
    custseg needs no ``if __name__ == "__main__":`` guard. They stop when intake has its pieces.
    """
    global _JOB
    if workers == 1:
        _JOB = job
        try:
            yield _Inline()
        finally:
            _JOB = None
        return
    pool = loky.ProcessPoolExecutor(workers, initializer=_started, initargs=(job,))
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, kill_workers=True)


class _Inline(Executor):
    """An executor that runs each call at once, in this process (one worker)."""

    def submit(self, fn, /, *args, **kwargs) -> Future:  # noqa: ANN001 - Executor's own signature
        future: Future = Future()
        future.set_result(fn(*args, **kwargs))  # what it raises stops intake here, as it would inline
        return future


def _joined(whole: RawInput, done: list[InputResult], lines: PieceLines, first: pd.Series,
            config: Config) -> InputResult:
    """The pieces' results as the whole file's: each table in the order the file gives (the clean
    lines stay on disk, in pieces, until intake writes them)."""
    # each piece's table is let go as it joins the whole (popped from the pieces' results, which
    # nothing else reads): the pieces and the whole, then the whole and its sorted copy, never all three
    orders = _stacked(_taken(done, "orders"), ["source_row", "order_id", "reverses"])
    tables: dict[str, pd.DataFrame | PieceLines] = {"orders": orders}
    if all("customers" in d.tables for d in done):
        # in the order of each customer's first clean line, as the whole file lists them
        customers = _concat([d.tables["customers"] for d in done])
        order = np.argsort(customers["customer_id"].map(first).to_numpy(), kind="stable")
        tables["customers"] = customers.take(order).reset_index(drop=True)
    tables["line_items"] = lines
    quarantine = _concat([d.quarantine for d in done])
    # rows the row rules quarantined come first, by row; then the lines of conflicting invoices
    late = quarantine["reason"].eq("conflicting_invoice").to_numpy()
    early = _by_row(quarantine.loc[~late])
    stop_if_asked(whole, early, config.cleaning)
    quarantine = pd.concat([early, _by_row(quarantine.loc[late])], ignore_index=True)
    accounting = _accounting([row for d in done for row in d.accounting])
    if accounting["rows_read"] != len(whole.frame):  # a bug in the pieces
        raise AssertionError(f"{whole.where}: pieces lost rows: {accounting}")
    summary = _summary([d.reversals for d in done if d.reversals is not None])
    matches = _stacked([d.matches for d in done], ["reversal_row", "purchase_row"])
    profile = _profile([d.profile for d in done])
    return InputResult(whole, tables, quarantine, [accounting], profile, summary, matches,
                       all_quarantined(whole, len(whole.frame), len(lines), quarantine))


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The frames under each other, typed as the whole file's would be.

    A piece types a text column ``object`` where it got it from an empty frame (a piece whose
    purchase lines were all quarantined, say); the whole file has rows there and types it ``str``.
    """
    frames = [f for f in frames if len(f)] or frames[:1]
    frame = pd.concat(frames, ignore_index=True)
    typed = {column: "str" for column in frame.columns if frame[column].dtype == object
             and any(isinstance(f[column].dtype, pd.StringDtype) for f in frames)}
    return frame.astype(typed) if typed else frame


def _stacked(frames: list[pd.DataFrame], by: list[str]) -> pd.DataFrame:
    """The frames under each other, sorted by `by`; empties `frames` (their rows are in the result).

    Sorted a column at a time, each unsorted column let go once its sorted copy is made: the join
    of a 10M-line file holds the lines once and one column twice, not the lines twice (`sort_values`
    copies every column at once: 10M lines peaked at 4,170 MB with it).
    """
    frame = _concat(frames)
    frames.clear()
    order = frame[by].sort_values(by, kind="stable", na_position="first").index.to_numpy()
    unsorted = {name: frame[name] for name in frame.columns}
    del frame
    sorted_columns = {}
    for name in list(unsorted):
        sorted_columns[name] = unsorted.pop(name).take(order).reset_index(drop=True)
    return pd.DataFrame(sorted_columns, copy=False)


def _taken(done: list[InputResult], table: str) -> list[pd.DataFrame]:
    """One table of every piece, taken out of the pieces' results."""
    return [d.tables.pop(table) for d in done]


def _by_row(quarantine: pd.DataFrame) -> pd.DataFrame:
    return quarantine.sort_values("row", kind="stable").reset_index(drop=True)


def _accounting(rows: list[dict]) -> dict:
    """One accounting row from the pieces' rows: counts added, offsets joined (every piece read its
    numbers by the conventions of the whole file: their ``decimal`` is one)."""
    joined = dict(rows[0])
    for key in joined:
        if key in _COUNTS or key.startswith("q_"):
            joined[key] = sum(int(row[key]) for row in rows)
    offsets = sorted({o for row in rows for o in row["utc_offsets"].split()})
    joined["utc_offsets"] = " ".join(offsets)
    joined["timezone"] = next((row["timezone"] for row in rows if row["timezone"]), "")
    return joined


def _summary(parts: list[pd.DataFrame]) -> pd.DataFrame:
    frame = pd.concat(parts, ignore_index=True)
    summed = frame.groupby(["table", "outcome"], sort=False)[["reversals", "value", "matched_value"]].sum()
    summed = summed.reset_index()
    order = {name: i for i, name in enumerate(reversals.OUTCOMES)}
    summed = summed.sort_values("outcome", key=lambda s: s.map(order)).reset_index(drop=True)
    return summed.assign(value=summed["value"].round(2), matched_value=summed["matched_value"].round(2))


def _profile(parts: list[pd.DataFrame]) -> pd.DataFrame:
    first = parts[0]
    rows = sum(p["rows"].to_numpy() for p in parts)
    empty = sum(p["empty"].to_numpy() for p in parts)
    share = np.where(rows > 0, empty / np.maximum(rows, 1), 0.0)
    return first.assign(rows=rows.astype("int64"), empty=empty.astype("int64"), empty_share=share)


def _readable(name: str, spec: object, engine: str) -> str | Path:
    """The one CSV file the engine reads (or the catalog table Spark reads), or an error saying to use
    ``engine: pandas``."""
    if isinstance(spec, TableInput):
        if engine != "spark":  # the config refuses it too
            raise IntakeError(f"inputs.{name}.table: a table of Spark's catalog is read by engine: spark")
        return spec.table
    label = getattr(spec, "path", f"inputs.{name}")
    if not isinstance(spec, InputFile):
        raise IntakeError(f"inputs.{name}: engine: {engine} reads a CSV file; a query or a database is read by "
                          "engine: pandas")
    path = Path(spec.path)
    why = ("is a pattern of several files" if spec.is_many()
           else "is not a CSV file" if spec.format not in ("auto", "csv") or not path.name.lower().endswith(_SUFFIXES)
           else f"is read as {spec.encoding}, not UTF-8" if spec.encoding.lower() not in ("auto", "utf-8", "utf8")
           else None)
    if why is None and not path.is_file():
        raise IntakeError(f"{label}: file not found")
    if why is None:
        with _open(path) as handle:
            why = "starts with a byte-order mark" if handle.read(3) == b"\xef\xbb\xbf" else None
    if why:
        raise IntakeError(f"{label}: {why}, which engine: {engine} does not read as custseg's readers do; "
                          "use engine: pandas for it")
    return path


def _sniff(path: Path) -> str:
    """The delimiter the header line uses most among , ; tab |."""
    with _open(path) as handle:
        first = handle.readline().decode("utf-8", errors="replace")
    return max(_DELIMITERS, key=first.count)


def _lines(path: Path) -> int:
    """Lines in the file (a last line without its line break counts)."""
    count, last = 0, b"\n"
    with _open(path) as handle:
        while block := handle.read(1 << 24):
            count += block.count(b"\n")
            last = block[-1:]
    return count + (last != b"\n")


def _open(path: Path) -> BinaryIO:
    """The file's bytes, a gzip file's uncompressed."""
    return gzip.open(path, "rb") if path.name.lower().endswith(".gz") else path.open("rb")


def _mapped(name: str, spec: InputFile | TableInput, path: str | Path, headers: list[str]) -> dict[str, str]:
    """Canonical name -> the file's header, as custseg's readers map them (headers NFKC-normalized)."""
    written = {unicodedata.normalize("NFKC", h).strip(): h for h in headers}
    what = "table" if isinstance(spec, TableInput) else "file"
    columns = {}
    for canon in (*SCHEMAS[name]["required"], *SCHEMAS[name]["optional"]):
        want = spec.columns.get(canon, canon)
        if want in written and (canon in spec.columns or canon not in spec.columns.values()):
            columns[canon] = written[want]
        elif canon in spec.columns:
            raise IntakeError(f"{path}: column {want!r} (mapped to {canon!r} in inputs.{name}.columns) is not in the "
                              f"{what}; its columns are {list(written)}")
    missing = [c for c in SCHEMAS[name]["required"] if c not in columns]
    if missing:
        raise IntakeError(f"{path}: required column {missing[0]!r} is missing; map it in the config under "
                          f"inputs.{name}.columns (the {what} has {list(written)})")
    return columns


def _normalized_keys(side: EngineSide, con: Any, header: str) -> pd.DataFrame:
    """A key column's non-ASCII values and what they normalize to."""
    values = side.distinct(con, header, non_ascii=True)
    return pd.DataFrame({"v": values.to_numpy(dtype=object), "k": normalize_text(values).to_numpy(dtype=object)})


def _told(side: EngineSide, con: Any, name: str, columns: Mapping[str, str]) -> dict[str, str]:
    """The decimal convention each number column tells over the whole file, from its distinct values."""
    told = {}
    for column, money in NUMBER_COLUMNS.get(name, {}).items():
        if column in columns:
            values = normalize_text(side.distinct(con, columns[column]))
            told[column] = parsing.number_forms(values, money=money).evidence()
    return told



