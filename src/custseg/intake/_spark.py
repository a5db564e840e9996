"""The Spark side of ``engine: spark``: what :mod:`custseg.intake._duckdb` does, in Spark's dialect.

Spark reads the fact file (every cell its text, quotes as custseg's readers take them, a malformed
row an error) and numbers its rows by their line in the file, or reads a table of the session's
catalog (every column as the text an export would write) and numbers its rows by sorting them on
that text (:func:`scan_table`); then it finds the distinct values intake judges
over the whole file, and cuts the rows into the same kind of pieces: no invoice and no customer
straddles two. Each piece comes back to the driver as an Arrow table and goes through the pandas
rules there (:mod:`custseg.intake.scaled`). One SparkSession serves the whole process.
"""

from __future__ import annotations

import hashlib
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
from pyspark.sql import Column, DataFrame, DataFrameReader, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from custseg.intake._readerror import ReadError

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
    _numbered(con, raw, "_block BIGINT", [f"c{i}" for i in range(len(names))])
    return names


def _numbered(con: Connection, raw: DataFrame, group: str, columns: list[str]) -> None:
    """Number the kept rows from 2 and open them as view ``scan``.

    `group` names the column (and its SQL type) whose value orders the rows' groups: the block of
    the file a row was read from, or the partition of a sort. Within a group a row's place is its
    ``_at`` (``monotonically_increasing_id`` rises within a partition, which reads its rows in order),
    so a row's number is the rows of the groups before its own, plus its place in its own.
    """
    key, kind = group.split()
    groups = sorted(raw.groupBy(key).agg(F.count("*").alias("n"), F.min("_at").alias("first")).collect())
    shifts, line = [], 2
    for value, n, first in groups:
        shifts.append((int(value), line - int(first)))
        line += int(n)
    con.count = line - 2
    with _quiet():
        shift = con.spark.createDataFrame(shifts, f"{key} {kind}, _shift BIGINT")
    con.frame = raw.join(F.broadcast(shift), key).select(*columns, (F.col("_at") + F.col("_shift")).alias("source_row"))
    con.frame.createOrReplaceTempView("scan")


#: Spark types read as their text by a plain cast: whole numbers, decimals with their scale
#: (``12.50``), booleans, dates ``2010-12-01`` and timestamps ``2010-12-01 08:26:00`` (a fraction of a
#: second only when there is one: ``08:26:00.5``; a TIMESTAMP in the session's time zone).
_CAST = (T.StringType, T.VarcharType, T.CharType, T.BooleanType, T.ByteType, T.ShortType, T.IntegerType,
         T.LongType, T.DecimalType, T.DateType, T.TimestampType, T.TimestampNTZType)


def scan_table(con: Connection, table: str) -> list[str]:
    """Read a table of the session's catalog as view ``scan``; returns its column names.

    Every column is read as the text an export would write (:func:`_text`: NULL empty, a DOUBLE in
    plain digits); the rows are numbered by sorting them on that text, column by column, from 2: a
    row's ``source_row`` is its line had the table been written to a CSV file, header on line 1, in
    that order. The order depends on the values alone, not on the partitions or the plan; rows
    that tie are identical, so which of them takes which number cannot show.

    Raises
    ------
    ReadError
        For a column of a type custseg cannot read as text (an array, a map, a struct, binary,
        an interval).
    """
    frame = con.spark.table(table)
    fields = frame.schema.fields
    con.names = {}
    for i, field_ in enumerate(fields):
        con.names.setdefault(field_.name, f"c{i}")
    columns = [f"c{i}" for i in range(len(fields))]
    # renamed by position: a column's name needs no quoting in what follows
    texts = frame.toDF(*(f"r{i}" for i in range(len(fields)))).select(*(
        F.coalesce(_text(table, field_, f"r{i}"), F.lit("")).alias(f"c{i}") for i, field_ in enumerate(fields)))
    # a global sort: ranges of the order by partition, each partition sorted; numbered as the file's
    # blocks are in :func:`scan`, by the rows of the partitions before a row's and its place in its own
    raw = _kept(con, texts.orderBy(*columns).select(
        *columns, F.spark_partition_id().alias("_part"), F.monotonically_increasing_id().alias("_at")))
    _numbered(con, raw, "_part INT", columns)
    return [field_.name for field_ in fields]


def kinds(con: Connection, table: str) -> dict[str, str]:
    """Each column of a catalog table and its Spark type (``string``, ``timestamp``, ``decimal(10,2)``)."""
    return {field_.name: field_.dataType.simpleString() for field_ in con.spark.table(table).schema.fields}


def table_digest(con: Connection, table: str) -> str:
    """A hash of a catalog table as intake reads it: its columns and types, its row count and, summed
    over its rows (so the order of rows and partitions does not count), two hashes of each row's text."""
    frame = con.spark.table(table)
    fields = frame.schema.fields
    texts = frame.toDF(*(f"r{i}" for i in range(len(fields)))).select(*(
        F.coalesce(_text(table, field_, f"r{i}"), F.lit("")).alias(f"c{i}") for i, field_ in enumerate(fields)))
    cells = [F.col(f"c{i}") for i in range(len(fields))] or [F.lit("")]
    # summed as decimals: a sum of 64-bit hashes overflows a BIGINT
    row = texts.agg(F.count("*"), F.sum(F.xxhash64(*cells).cast("decimal(20,0)")),
                    F.sum(F.hash(*cells).cast("decimal(20,0)"))).collect()[0]
    told = "\n".join([table, frame.schema.simpleString(), *(str(value) for value in row)])
    return hashlib.sha256(told.encode("utf-8")).hexdigest()[:16]


def _text(table: str, field_: T.StructField, name: str) -> Column:
    """A column of a catalog table as the text an export would write; NULL stays NULL (read as "")."""
    kind = field_.dataType
    if isinstance(kind, (T.FloatType, T.DoubleType)):
        return F.expr(_plain(name))
    if isinstance(kind, _CAST):
        return F.col(name).cast("string")
    raise ReadError(f"{table}: column {field_.name!r} holds {kind.simpleString()} values, which custseg cannot "
                    "read as text; give inputs.line_items.table a view that casts it to STRING, or leaves it out")


def _plain(name: str) -> str:
    """Spark SQL writing a FLOAT or DOUBLE in plain digits, as many as give the same number back.

    Spark's cast writes Java's text of the number: ``2.55``, ``1.0``, ``1.0E7``, ``1.0E-7``. custseg's
    readers take no exponent, so the digits are moved to their place (``10000000``, ``0.0000001``)
    and a whole number loses its ``.0`` (``1``), as custseg writes a Parquet file's numbers; NaN is
    an empty cell (a missing number), infinity stays ``Infinity`` (a bad number).
    """
    text = f"CAST({name} AS STRING)"
    power = f"CAST(substring_index({text}, 'E', -1) AS INT)"
    sign = f"IF(startswith({text}, '-'), '-', '')"
    digits = f"regexp_replace(substring_index({text}, 'E', 1), '[-.]', '')"  # Java writes one digit before the point
    return f"""CASE WHEN isnan({name}) THEN NULL
        WHEN NOT contains({text}, 'E') THEN IF(endswith({text}, '.0'), left({text}, length({text}) - 2), {text})
        WHEN {power} < 0 THEN concat({sign}, '0.', repeat('0', -{power} - 1), regexp_replace({digits}, '0+$', ''))
        WHEN length({digits}) <= {power} + 1 THEN concat({sign}, rpad({digits}, {power} + 1, '0'))
        ELSE concat({sign}, substring({digits}, 1, {power} + 1), '.', substring({digits}, {power} + 2)) END"""


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
