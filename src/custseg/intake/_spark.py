"""The Spark side of ``engine: spark``: what :mod:`custseg.intake._duckdb` does, in Spark's dialect.

Spark reads the fact file (every cell its text, quotes as custseg's readers take them, a malformed
row an error), numbers its rows by their line in the file, finds the distinct values intake judges
over the whole file, and cuts the rows into the same kind of pieces: no invoice and no customer
straddles two. Each piece comes back to the driver as an Arrow table and goes through the pandas
rules there (:mod:`custseg.intake.scaled`). One SparkSession serves the whole process.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
from py4j.protocol import Py4JError
from pyspark import StorageLevel
from pyspark.errors import PySparkException
from pyspark.sql import DataFrame, DataFrameReader, SparkSession
from pyspark.sql import functions as F

#: The engine as errors name it.
LABEL = "Spark"
#: What a failed Spark job raises: PySpark's own errors, and a Java error PySpark does not convert.
ERRORS: tuple[type[BaseException], ...] = (PySparkException, Py4JError)

#: Python's str.strip() takes these ASCII characters for white space; Spark's trim() only the space.
_WHITESPACE = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"

#: Settings every session gets; ``engine.spark_conf`` may override any of them.
_SETTINGS = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",  # a progress bar per query would bury custseg's own lines
    "spark.sql.session.timeZone": "UTC",
    # pieces come back as Arrow tables; a silent fall-back to row-by-row transfer would hide a problem
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.execution.arrow.pyspark.fallback.enabled": "false",
}
#: And in local mode: few shuffle partitions (the default 200 are 200 tasks per query on a laptop),
#: and the driver on the loopback address, so a machine whose host name does not resolve still works.
_LOCAL = {
    "spark.sql.shuffle.partitions": "4",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
}

_session: SparkSession | None = None
_asked: tuple[str, tuple[tuple[str, str], ...]] | None = None


@dataclass
class Connection:
    """The session and what one scan keeps: its columns (header -> Spark column) and cached tables."""

    spark: SparkSession
    names: dict[str, str] = field(default_factory=dict)
    frame: DataFrame | None = None
    count: int = 0
    cached: list[DataFrame] = field(default_factory=list)


def connect(master: str | None, conf: Mapping[str, str]) -> Connection:
    """A connection on the process's SparkSession (made on first use, ``local[*]`` when `master` is None)."""
    return Connection(session(master, conf))


def session(master: str | None, conf: Mapping[str, str]) -> SparkSession:
    """The process's one SparkSession, reused while the same master and settings are asked for.

    Starting a session takes tens of seconds, so it is kept; asking for another master or other
    settings stops it and starts the new one (settings read when the JVM starts, such as
    ``spark.driver.memory``, hold from the first session of the process on).
    """
    global _session, _asked
    master = master or "local[*]"
    asked = (master, tuple(sorted(conf.items())))
    if _session is not None and asked == _asked:
        return _session
    if _session is not None:
        _session.stop()
    settings = {**_SETTINGS, **(_LOCAL if master.startswith("local") else {}), **conf}
    builder = SparkSession.builder.master(master).appName("custseg")
    for key, value in settings.items():
        builder = builder.config(key, value)
    with _quiet():
        _session = builder.getOrCreate()
    # custseg reports a failed read itself, naming the file: Spark's own log would repeat it as a Java trace
    _session.sparkContext.setLogLevel("FATAL")
    _asked = asked
    return _session


def close(con: Connection) -> None:
    """Let go of the scan's cached tables (the session stays for the next file)."""
    for frame in con.cached:
        frame.unpersist()
    con.cached.clear()
    for view in ("scan", "mixed", "key_customer_id", "key_invoice", "key_currency"):
        con.spark.catalog.dropTempView(view)


def cause(exc: BaseException) -> str:
    """The innermost cause of a Spark error, in one line (PySpark's message carries the Java trace)."""
    lines = [line.strip().lstrip(": ") for line in str(exc).splitlines() if line.strip()]
    causes = [line.removeprefix("Caused by: ") for line in lines if line.startswith("Caused by: ")]
    told = (causes[-1] if causes else next((line for line in lines if "Exception: " in line), None)
            or (lines[0] if lines else type(exc).__name__))
    head, _, rest = told.partition(": ")
    return rest if rest and head.endswith(("Exception", "Error")) else told


def scan(con: Connection, path: Path, delimiter: str) -> list[str]:
    """Read the CSV file as view ``scan``: every cell its text, nothing read as missing, numbered by
    ``source_row`` (its line: the header is line 1). Returns the headers as written."""
    names = header(con, path, delimiter)
    con.names = {}
    for i, name in enumerate(names):
        con.names.setdefault(name, f"c{i}")  # Spark works on c0, c1, ...: no header needs quoting
    schema = ", ".join(f"c{i} STRING" for i in range(len(names)))
    read = _reader(con.spark, delimiter).schema(schema).option("header", True).csv(_uri(path))
    # an empty cell reads as null whether quoted or not: custseg's readers read it as empty text
    cells = [F.coalesce(F.col(f"c{i}"), F.lit("")).alias(f"c{i}") for i in range(len(names))]
    # numbered in the file's order: by the byte where a row's block of the file starts, then by the
    # row's place within its partition (which reads its blocks front to back); kept, as every later
    # query must see the same numbers
    raw = _kept(con, read.select(*cells, F.input_file_block_start().alias("_block"),
                                 F.monotonically_increasing_id().alias("_at")))
    blocks = sorted(raw.groupBy("_block").agg(F.count("*").alias("n"), F.min("_at").alias("first")).collect())
    shifts, line = [], 2
    for block, n, first in blocks:
        shifts.append((int(block), line - int(first)))
        line += int(n)
    con.count = line - 2
    with _quiet():
        shift = con.spark.createDataFrame(shifts, "_block BIGINT, _shift BIGINT")
    con.frame = raw.join(F.broadcast(shift), "_block").select(
        *(f"c{i}" for i in range(len(names))), (F.col("_at") + F.col("_shift")).alias("source_row"))
    con.frame.createOrReplaceTempView("scan")
    return names


def header(con: Connection, path: Path, delimiter: str) -> list[str]:
    """The file's headers as Spark's CSV reader splits the first line."""
    first = _reader(con.spark, delimiter).option("header", False).csv(_uri(path)).limit(1).collect()
    return [value or "" for value in first[0]] if first else []


def rows(con: Connection) -> int:
    """How many records the scan reads."""
    return con.count


def distinct(con: Connection, column: str, non_ascii: bool = False) -> pd.Series:
    """The distinct values of one column of the scan (only those with a non-ASCII character), sorted."""
    assert con.frame is not None, "scan first"
    values = con.frame.select(F.col(con.names[column]).alias("v"))
    if non_ascii:
        values = values.where(F.col("v").rlike("[^\\x00-\\x7F]"))
    with _quiet():
        found = values.distinct().orderBy("v").toArrow().column("v")
    return pd.Series(pd.array(found, dtype="str"), name=column)


def pieces(con: Connection, columns: Mapping[str, str], keys: Mapping[str, pd.DataFrame],
           target: int) -> Iterator[pd.DataFrame]:
    """The rows in pieces of about `target` rows, under canonical names, each in the file's order.

    As :func:`custseg.intake._duckdb.pieces` cuts them (the same SQL, in Spark's dialect): a
    customer's rows go to the piece of their key's hash, an invoice naming several customers (or
    currencies) takes them to piece 0, a guest line goes by its invoice. Spark's hash is not
    DuckDB's, so a row's piece number differs between the engines; what the rules make of the
    pieces does not (:mod:`custseg.intake.scaled` puts the results back in the file's order).
    """
    spark = con.spark
    with _quiet():
        for name, frame in keys.items():
            pairs = list(zip(frame["v"].astype(object), frame["k"].astype(object), strict=True))
            spark.createDataFrame(pairs, "v STRING, k STRING").createOrReplaceTempView(f"key_{name}")
    key = {name: _key(name, con.names[header]) for name, header in columns.items()
           if name in ("customer_id", "invoice", "currency")}
    spread = "count(DISTINCT c) FILTER (WHERE c <> '') > 1"
    if "currency" in key:
        spread += " OR count(DISTINCT upper(y)) > 1"
    buckets = max(1, -(-con.count // target))
    select = ", ".join(f"k.{con.names[header]} AS `{canon}`" for canon, header in columns.items())
    spark.sql(f"""
        WITH k AS (SELECT {key['customer_id']} AS c, {key['invoice']} AS i, {key.get('currency', "''")} AS y FROM scan)
        SELECT DISTINCT k.c FROM k JOIN (SELECT i FROM k GROUP BY i HAVING {spread}) m USING (i) WHERE k.c <> ''
    """).createOrReplaceTempView("mixed")
    keyed = _kept(con, spark.sql(f"""
        WITH k AS (SELECT *, {key['customer_id']} AS _c, {key['invoice']} AS _i FROM scan)
        SELECT CASE WHEN mixed.c IS NOT NULL THEN 0
                    WHEN k._c = '' THEN 1 + pmod(xxhash64(k._i), {buckets})
                    ELSE 1 + pmod(xxhash64(k._c), {buckets}) END AS piece,
               {select}, k.source_row
        FROM k LEFT JOIN mixed ON mixed.c = k._c
        ORDER BY piece, source_row
    """))
    # kept sorted by piece: each piece's query skips the cached batches of the others
    for (piece,) in keyed.select("piece").distinct().orderBy("piece").collect():
        with _quiet():
            table = keyed.where(F.col("piece") == piece).drop("piece").toArrow()
        yield _frame(table.sort_by("source_row"))


def _frame(table: pa.Table) -> pd.DataFrame:
    frame = pd.DataFrame({name: pd.array(table.column(name), dtype="str") for name in table.column_names
                          if name != "source_row"})
    return frame.assign(source_row=table.column("source_row").to_numpy().astype("int64"))


def _reader(spark: SparkSession, delimiter: str) -> DataFrameReader:
    """Spark's CSV reader set to read as custseg's readers do, or to fail."""
    return spark.read.options(
        sep=delimiter, quote='"', escape='"', encoding="UTF-8", inferSchema=False, enforceSchema=True,
        multiLine=False, ignoreLeadingWhiteSpace=False, ignoreTrailingWhiteSpace=False,
        # a malformed row (too few or too many cells, a stray quote after a quoted value) stops the
        # read: Spark would otherwise pad it, or keep the quote that pandas drops
        mode="FAILFAST", unescapedQuoteHandling="RAISE_ERROR",
    )


def _uri(path: Path) -> str:
    """The file as a ``file:`` URI: on a cluster whose default file system is HDFS, a bare path is HDFS's."""
    return path.resolve().as_uri()


def _kept(con: Connection, frame: DataFrame) -> DataFrame:
    """The frame computed once and kept (in memory, spilling to Spark's local folders)."""
    kept = frame.persist(StorageLevel.MEMORY_AND_DISK)
    con.cached.append(kept)
    return kept


def _key(name: str, column: str) -> str:
    """Spark SQL for a key column as intake will compare it: trimmed, a non-ASCII value as it normalizes."""
    characters = "".join(f"\\u{ord(c):04x}" for c in _WHITESPACE)
    return f"coalesce((SELECT max(k) FROM key_{name} WHERE v = {column}), btrim({column}, '{characters}'))"


@contextmanager
def _quiet() -> Iterator[None]:
    """PySpark warns on every Arrow transfer that it does not yet fully support pandas 3; custseg
    hands it no pandas objects (Arrow tables and plain rows only)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)
        yield
