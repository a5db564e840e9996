"""Input tables that are not one file: a table defined by SQL over named files (run by DuckDB), a
table read from a database by SQLAlchemy URL and query, and a table of the Spark session's catalog
(read by ``engine: spark``, :class:`TableInput`).

Both are checked when the config loads: the SQL over files must parse, read only the sources it
names and name only sources it reads; the database URL must parse, name a database custseg is
tested against and hold no password (the password comes from an environment variable or a file,
read only when intake connects, so it never sits in the config, its fingerprint or study.json).
How they are read is :mod:`custseg.intake.query` and :mod:`custseg.intake.database`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

#: Database back ends custseg is tested against (a real server of each kind, tests/support/servers.py),
#: as the first part of a SQLAlchemy URL names them (``postgresql+psycopg://...``).
DATABASE_KINDS = {"postgresql": "PostgreSQL", "mysql": "MySQL", "mariadb": "MariaDB"}

#: The driver used when a URL names none (``postgresql://`` would otherwise ask for psycopg2,
#: ``mysql://`` for mysqlclient, neither of which custseg installs).
DEFAULT_DRIVERS = {"postgresql": "psycopg", "mysql": "pymysql", "mariadb": "pymysql"}

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: A catalog table's name: one to several parts (table, schema.table, catalog.schema.table), each a
#: plain name or a name in backquotes, as Spark SQL writes them.
_TABLE_NAME = re.compile(r"(`[^`]+`|[A-Za-z_][A-Za-z0-9_]*)(\.(`[^`]+`|[A-Za-z_][A-Za-z0-9_]*))*")
_SOURCE_FORMATS = ("auto", "csv", "parquet", "excel")


class _Section(BaseModel):
    # as custseg.config.sections.Strict (which imports this module): unknown keys are errors
    model_config = ConfigDict(extra="forbid", frozen=True)


class QuerySource(_Section):
    """One file, or a glob of files, that a query reads under a name."""

    path: Path  # a file or a glob (exports/orders-2025-*.csv); relative to the config's folder
    format: Literal["auto", "csv", "parquet", "excel"] = "auto"  # auto: from the suffix (.csv, .csv.gz, ...)
    delimiter: str | None = None  # CSV: None lets DuckDB sniff it
    # CSV: the encodings DuckDB reads itself; convert another one to UTF-8, or read that file as an input
    encoding: Literal["utf-8", "utf-16", "latin-1"] = "utf-8"
    sheet: str | int | None = None  # Excel: sheet name or 0-based position; None: the first sheet


class QueryInput(_Section):
    """A table defined by SQL over named files: ``{sql: ..., sources: {orders: orders.csv, ...}}``."""

    sql: str  # one SELECT statement (DuckDB's dialect) over the names of `sources`
    # name used in the query -> a file or glob, or a QuerySource mapping
    sources: dict[str, QuerySource]
    # canonical custseg column name -> the column of the query's result (or name them in the SELECT)
    columns: dict[str, str] = Field(default_factory=dict)
    date_format: str | None = None  # strftime pattern of date columns the query passes on as text
    # decimal separator of numbers the query passes on as text; typed numbers come as 1234.5
    decimal: Literal["auto", ".", ","] = "."

    @field_validator("sources", mode="before")
    @classmethod
    def _shorthand(cls, sources: object) -> object:
        if isinstance(sources, dict):
            return {name: {"path": spec} if isinstance(spec, (str, Path)) else spec for name, spec in sources.items()}
        return sources

    @field_validator("sources")
    @classmethod
    def _names(cls, sources: dict[str, QuerySource]) -> dict[str, QuerySource]:
        if not sources:
            raise ValueError("name at least one source file the query reads (sources: {orders: orders.csv})")
        for name in sources:
            if not _NAME.fullmatch(name):
                raise ValueError(f"the source name {name!r} must be a plain SQL name (letters, digits, _)")
        return sources

    @model_validator(mode="after")
    def _sql_reads_its_sources(self) -> QueryInput:
        tables = referenced_tables(self.sql)
        known = {name.lower() for name in self.sources}
        unknown = sorted(name for name in tables if name.lower() not in known)
        if unknown:
            raise ValueError(
                f"the query reads {unknown[0]!r}, which is not a source; its sources are "
                f"{sorted(self.sources)} (name every file the query reads under sources)"
            )
        unused = sorted(name for name in self.sources if name.lower() not in {t.lower() for t in tables})
        if unused:
            raise ValueError(f"source {unused[0]!r} is not used by the query (a misspelt name?)")
        return self

    def kind(self) -> str:
        """``query``: how the accounting and messages name this kind of input."""
        return "query"


class DatabaseInput(_Section):
    """A table read from a database: a SQLAlchemy URL without its password, and a query."""

    # postgresql://analyst@db.example:5432/shop or mysql://analyst@db.example/shop (no password);
    # or url_env / url_file: an environment variable or a file holding the whole URL
    url: str | None = None
    url_env: str | None = None
    url_file: Path | None = None
    # where the password of `url` is: an environment variable or a file (its first line); none
    # for a server that needs no password (a local socket)
    password_env: str | None = None
    password_file: Path | None = None
    query: str  # one SELECT in the database's own dialect
    columns: dict[str, str] = Field(default_factory=dict)  # canonical name -> column of the result
    date_format: str | None = None  # strftime pattern of dates the query returns as text
    decimal: Literal["auto", ".", ","] = "."  # decimal separator of numbers returned as text

    @model_validator(mode="after")
    def _one_url(self) -> DatabaseInput:
        given = [key for key in ("url", "url_env", "url_file") if getattr(self, key) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of url (without its password), url_env or url_file")
        if self.password_env is not None and self.password_file is not None:
            raise ValueError("give password_env or password_file, not both")
        if self.url is None and (self.password_env or self.password_file):
            raise ValueError("password_env and password_file go with url; url_env or url_file hold the whole URL")
        if self.url is not None:
            check_url(self.url, password_allowed=False)
        if not self.query.strip():
            raise ValueError("query is empty")
        return self

    def kind(self) -> str:
        """``database``: how the accounting and messages name this kind of input."""
        return "database"


class TableInput(_Section):
    """A table of the Spark session's catalog (Hive metastore, Unity Catalog, Glue, ...), read by
    ``engine: spark`` with ``spark.table(...)``: ``{table: shop.invoice_lines, columns: {...}}``.

    Every column is read as the text an export would write (docs/scale.md, "Reading a table of
    your catalog"); its rows are numbered by sorting them on every column's text.
    """

    table: str  # the table's name as Spark SQL writes it: invoice_lines, shop.invoice_lines, main.shop.invoice_lines
    # canonical custseg column name -> the table's column
    columns: dict[str, str] = Field(default_factory=dict)
    # strftime pattern of date columns held as text; a TIMESTAMP or DATE column is read as ISO text
    # (2010-12-01 08:26:00, 2010-12-01) and needs none (or one that reads ISO)
    date_format: str | None = None
    # decimal separator of numbers held as text; typed numbers (INT, DOUBLE, DECIMAL) come as 1234.5
    decimal: Literal["auto", ".", ","] = "."

    @field_validator("table")
    @classmethod
    def _name(cls, table: str) -> str:
        table = table.strip()
        if not _TABLE_NAME.fullmatch(table):
            raise ValueError(f"{table!r} is not a table name; write it as Spark SQL does: invoice_lines, "
                             "shop.invoice_lines or main.shop.invoice_lines (a part with other characters in "
                             "`backquotes`)")
        return table

    def kind(self) -> str:
        """``table``: how the accounting and messages name this kind of input."""
        return "table"


def check_url(url: str, *, password_allowed: bool) -> Any:
    """The parsed SQLAlchemy URL, checked; a ValueError whose message never shows a password.

    Parameters
    ----------
    url
        ``dialect[+driver]://user@host[:port]/database`` (or with ``?unix_socket=`` / ``?host=``).
    password_allowed
        False for a URL written in the config (the password must come from elsewhere).
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise ValueError(
            "the database URL cannot be read; write it as dialect://user@host:port/database, e.g. "
            "postgresql://analyst@db.example:5432/shop (no password: see password_env)"
        ) from None
    backend = parsed.get_backend_name()
    if backend not in DATABASE_KINDS:
        raise ValueError(
            f"database kind {backend!r} is not supported; custseg reads {', '.join(DATABASE_KINDS)} "
            f"(a URL starts with one of them: postgresql://user@host/database)"
        )
    if parsed.password is not None and not password_allowed:
        raise ValueError(
            f"the URL holds a password ({parsed.render_as_string(hide_password=True)}); a password never sits in "
            "the config: remove it from the URL and name the environment variable (password_env) or the file "
            "(password_file) that holds it, or give the whole URL by url_env or url_file"
        )
    return parsed


def referenced_tables(sql: str) -> set[str]:
    """The tables a DuckDB SELECT reads (common table expressions aside), from its parse tree.

    Raises
    ------
    ValueError
        When the SQL is not one SELECT statement DuckDB can parse, or reads a file or calls a
        table function itself (``read_csv('x.csv')``): files are named under ``sources``, so that
        the rebuild fingerprint covers them.
    """
    import duckdb

    with duckdb.connect() as connection:
        tree = json.loads(connection.execute("SELECT json_serialize_sql(?)", [sql]).fetchone()[0])
        if tree.get("error"):
            message = tree.get("error_message", "")
            if "Only SELECT" in message:
                raise ValueError("the query must be one SELECT statement (it reads, never writes)")
            raise ValueError(f"DuckDB cannot parse the query: {message}")
    if len(tree["statements"]) != 1:
        raise ValueError(f"the query must be one SELECT statement, found {len(tree['statements'])}")
    tables: set[str] = set()
    ctes: set[str] = set()
    functions: list[str] = []
    _walk(tree["statements"][0], tables, ctes, functions)
    if functions:
        raise ValueError(
            f"the query calls {functions[0]}() in its FROM clause; name each file under sources and read it by "
            "that name, so that a change to the file rebuilds the study"
        )
    return {name for name in tables if name.lower() not in {cte.lower() for cte in ctes}}


def _walk(node: object, tables: set[str], ctes: set[str], functions: list[str]) -> None:
    if isinstance(node, dict):
        if node.get("type") == "BASE_TABLE" and "table_name" in node:
            tables.add(node["table_name"])
        if node.get("type") == "TABLE_FUNCTION":
            function = node.get("function") or {}
            functions.append(str(function.get("function_name", "a table function")))
        for entry in (node.get("cte_map") or {}).get("map", []) if isinstance(node.get("cte_map"), dict) else []:
            ctes.add(entry.get("key", ""))
        for value in node.values():
            _walk(value, tables, ctes, functions)
    elif isinstance(node, list):
        for value in node:
            _walk(value, tables, ctes, functions)
