"""Tables read from a database: a SQLAlchemy URL and a query (PostgreSQL, MySQL, MariaDB).

The password is never in the config: the URL there has none, and the password is read from the
environment variable or the file the config names only here, when intake connects. It never
reaches a message either: every error is written from the URL with its password hidden, and a
driver's message has the password taken out before it is shown.

The result's typed values are turned into text the way a Parquet file's are
(:func:`custseg.intake.readers.arrow_text_frame`: ``DECIMAL`` 12.50 reads ``12.50``, a
``TIMESTAMP`` ``2024-01-05 10:30:00``, a ``DATE`` ``2024-01-05``), put in a fixed order by their
values and numbered (:func:`custseg.intake.query.numbered`), so intake treats them as a file's rows.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa

from custseg.config.queries import DATABASE_KINDS, DEFAULT_DRIVERS, DatabaseInput, check_url
from custseg.intake.query import SourceCount, input_location, numbered
from custseg.intake.readers import RawTable, ReadError, arrow_text_frame


@dataclass(frozen=True)
class DatabaseResult:
    """A query's rows as text, the database kind, and the source (the URL without a password)."""

    raw: RawTable
    source: SourceCount


def query_label(table: str) -> str:
    """How quarantine, accounting and messages name the database query of input ``table``."""
    return input_location(table, DatabaseInput.model_construct())


def connection_url(table: str, spec: DatabaseInput):
    """The SQLAlchemy URL to connect with, password and default driver filled in.

    Raises
    ------
    ReadError
        When the environment variable or file that holds the password (or the URL) is missing or
        empty; the message names the table and the variable or file, never a secret.
    """
    key = f"inputs.{table}"
    if spec.url is not None:
        url = spec.url
    elif spec.url_env is not None:
        url = _secret(f"{key}.url_env", spec.url_env, None)
    else:
        url = _secret(f"{key}.url_file", None, spec.url_file)
    try:
        parsed = check_url(url, password_allowed=True)
    except ValueError as exc:
        raise ReadError(f"{key}: {exc}") from None
    if spec.password_env is not None or spec.password_file is not None:
        kind = "password_env" if spec.password_env is not None else "password_file"
        parsed = parsed.set(password=_secret(f"{key}.{kind}", spec.password_env, spec.password_file))
    if "+" not in parsed.drivername:
        parsed = parsed.set(drivername=f"{parsed.drivername}+{DEFAULT_DRIVERS[parsed.get_backend_name()]}")
    return parsed


def shown_url(url) -> str:
    """A URL as messages and the accounting show it, without its password: ``postgresql://analyst@db:5432/shop``
    (not even ``***``: whether a password was given is shown by the config's password_env, not here)."""
    from sqlalchemy.engine import URL

    # URL.set(password=None) would keep the password (None means "unchanged" there)
    bare = URL.create(url.drivername, url.username, None, url.host, url.port, url.database, url.query)
    return bare.render_as_string(hide_password=True)


def _secret(key: str, variable: str | None, file: Path | None) -> str:
    if variable is not None:
        value = os.environ.get(variable, "")
        if not value:
            raise ReadError(f"{key}: the environment variable {variable} is not set (or empty); set it before the run")
        return value
    assert file is not None
    try:
        lines = Path(file).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ReadError(f"{key}: cannot read {file} ({exc.strerror or type(exc).__name__})") from None
    value = lines[0].strip() if lines else ""
    if not value:
        raise ReadError(f"{key}: {file} is empty; its first line must hold the secret")
    return value


def read_database(table: str, spec: DatabaseInput) -> DatabaseResult:
    """Run the query of input ``table`` on its database; every cell of the result as text.

    Returns
    -------
    DatabaseResult
        The text table (format: the database kind, ``postgresql``, ``mysql`` or ``mariadb``;
        ``source_row`` numbers the rows in their fixed order) and its source's row count.

    Raises
    ------
    ReadError
        When the database cannot be reached or the query fails: the message names the table, the
        kind, host and database, and the server's reason, never the password.
    """
    import sqlalchemy
    from sqlalchemy.exc import SQLAlchemyError

    url = connection_url(table, spec)
    kind = url.get_backend_name()
    where = (f"inputs.{table}: {DATABASE_KINDS[kind]} database {url.database or '(default)'!r} on "
             f"{url.host or 'the local socket'}{f':{url.port}' if url.port else ''} as {url.username or '(no user)'!r}")
    engine = sqlalchemy.create_engine(url, poolclass=sqlalchemy.pool.NullPool)
    connected = False
    try:
        with engine.connect() as connection:
            connected = True
            result = connection.execute(sqlalchemy.text(spec.query))
            names = list(result.keys())
            rows = result.fetchall()
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        text = " ".join(line.strip() for line in reason if line.strip())
        if url.password:
            text = text.replace(str(url.password), "***")
        raise ReadError(f"{where}: {'cannot run the query' if connected else 'cannot connect'}: {text}") from None
    finally:
        engine.dispose()
    columns = list(zip(*rows)) if rows else [()] * len(names)
    try:
        arrays = [pa.array(list(values)) for values in columns]
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise ReadError(f"{where}: a column of the query's result cannot be read ({exc}); cast it to text") from None
    frame = numbered(arrow_text_frame(pa.Table.from_arrays(arrays, names=names), query_label(table)))
    source = SourceCount(table, shown_url(url.set(drivername=kind)), 1, len(frame))
    return DatabaseResult(RawTable(frame, kind, None, None, None), source)


def database_fingerprint(table: str, spec: DatabaseInput) -> str:
    """Hash of the query and of the rows it returns now (as text, in their fixed order)."""
    frame = read_database(table, spec).raw.frame
    digest = hashlib.sha256(spec.query.encode("utf-8"))
    digest.update("\x1f".join(frame.columns).encode("utf-8"))
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()[:16]
