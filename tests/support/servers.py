"""Real database servers for the tests: a throwaway PostgreSQL cluster and a MariaDB server, each
in a temporary folder, listening only on a Unix socket in that folder, started for the session
and stopped (and removed) after it.

They are Debian's packages (``postgresql`` 15, ``mariadb-server``); `.ci/run` installs both when
missing and sets ``CUSTSEG_REQUIRE_SERVERS=1``, which turns a missing server from a skip into a
failure. PostgreSQL refuses to run as root, so as root it runs as ``nobody`` (through
``runuser``); mariadbd is told ``--user=root`` then. Each server gets a database ``shop`` and a
user ``custseg`` with a password, so that the tests connect as a user would: by URL without the
password, the password from an environment variable.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

#: Set to 1 (by .ci/run) to fail, not skip, when a server cannot be started.
REQUIRE = "CUSTSEG_REQUIRE_SERVERS"

USER = "custseg"
PASSWORD = "s3cret-Pw_for-tests"  # a throwaway server's; the tests check it never shows
DATABASE = "shop"


@dataclass(frozen=True)
class Server:
    """A running server: its kind and the URL to reach it, without the password."""

    kind: str  # postgresql | mariadb
    url: str  # SQLAlchemy URL without the password
    folder: Path
    process: subprocess.Popen | None = None  # mariadbd (PostgreSQL runs detached, stopped by pg_ctl)


def unavailable(what: str) -> None:
    """Skip the test, or fail it in CI (``CUSTSEG_REQUIRE_SERVERS=1``)."""
    message = f"{what}; install Debian's postgresql and mariadb-server (`.ci/run` does) to run this test"
    if os.environ.get(REQUIRE) == "1":
        pytest.fail(message)
    pytest.skip(message)


def _run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(command, check=True, capture_output=True, text=True, **kwargs)


def _as_server_user(command: list[str]) -> list[str]:
    # PostgreSQL will not run as root: run it as nobody, who owns the cluster's folder
    return ["runuser", "-u", "nobody", "--", *command] if os.geteuid() == 0 else command


def postgres_bin() -> Path | None:
    """The folder of Debian's PostgreSQL programs (the newest version installed), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def start_postgres() -> Server:
    """Initialise a cluster in a temporary folder and start it on a Unix socket there."""
    binaries = postgres_bin()
    if binaries is None:
        unavailable("PostgreSQL is not installed (no initdb)")
    folder = Path(tempfile.mkdtemp(prefix="custseg-pg-"))
    data, socket = folder / "data", folder / "socket"
    socket.mkdir()
    secret = folder / "password"
    secret.write_text(PASSWORD + "\n", encoding="utf-8")
    if os.geteuid() == 0:
        shutil.chown(folder, "nobody")
        for path in (socket, secret):
            shutil.chown(path, "nobody")
    _run(_as_server_user([str(binaries / "initdb"), "-D", str(data), "-U", USER, f"--pwfile={secret}",
                          "--auth=scram-sha-256", "--encoding=UTF8", "--locale=C", "--no-sync"]))
    _run(_as_server_user([str(binaries / "pg_ctl"), "-D", str(data), "-l", str(folder / "server.log"), "-w",
                          "-o", f"-k {socket} -c listen_addresses='' -c fsync=off", "start"]))
    url = f"postgresql://{USER}@/{DATABASE}?host={socket}"
    _create_database(f"postgresql+psycopg://{USER}:{PASSWORD}@/postgres?host={socket}",
                     f"CREATE DATABASE {DATABASE} ENCODING 'UTF8'")
    return Server("postgresql", url, folder)


def stop_postgres(server: Server) -> None:
    binaries = postgres_bin()
    subprocess.run(_as_server_user([str(binaries / "pg_ctl"), "-D", str(server.folder / "data"), "-m", "immediate",
                                    "stop"]), capture_output=True)
    shutil.rmtree(server.folder, ignore_errors=True)


def start_mariadb() -> Server:
    """Initialise a MariaDB data folder in a temporary folder and start mariadbd on a socket there."""
    install, daemon = shutil.which("mariadb-install-db"), shutil.which("mariadbd") or _sbin("mariadbd")
    if install is None or daemon is None:
        unavailable("MariaDB is not installed (no mariadb-install-db / mariadbd)")
    folder = Path(tempfile.mkdtemp(prefix="custseg-my-"))
    data, socket = folder / "data", folder / "mysqld.sock"
    user = ["--user=root"] if os.geteuid() == 0 else []
    _run([install, "--no-defaults", f"--datadir={data}", "--auth-root-authentication-method=normal",
          "--skip-test-db", *user])
    log = open(folder / "server.log", "w", encoding="utf-8")  # stays open for the server's life
    process = subprocess.Popen(
        [daemon, "--no-defaults", f"--datadir={data}", f"--socket={socket}", "--skip-networking",
         f"--pid-file={folder / 'mysqld.pid'}", "--innodb-flush-log-at-trx-commit=0", *user],
        stdout=log, stderr=subprocess.STDOUT,
    )
    root = f"mysql+pymysql://root@localhost/?unix_socket={socket}&charset=utf8mb4"
    deadline = time.monotonic() + 60
    while not socket.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"mariadbd did not start: {(folder / 'server.log').read_text(errors='replace')}")
        time.sleep(0.2)
    _create_database(root, f"CREATE DATABASE {DATABASE} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin",
                     f"CREATE USER '{USER}'@'localhost' IDENTIFIED BY '{PASSWORD}'",
                     f"GRANT ALL ON {DATABASE}.* TO '{USER}'@'localhost'")
    url = f"mysql://{USER}@localhost/{DATABASE}?unix_socket={socket}&charset=utf8mb4"
    return Server("mariadb", url, folder, process)


def stop_mariadb(server: Server) -> None:
    process = server.process
    if process is not None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    shutil.rmtree(server.folder, ignore_errors=True)


def _sbin(name: str) -> str | None:
    path = Path("/usr/sbin") / name
    return str(path) if path.exists() else None


def _create_database(url: str, *statements: str) -> None:
    import sqlalchemy

    engine = sqlalchemy.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sqlalchemy.pool.NullPool)
    try:
        with engine.connect() as connection:
            for statement in statements:
                connection.execute(sqlalchemy.text(statement))
    finally:
        engine.dispose()


#: Column types of the marketplace sample's tables (custseg.sample.marketplace) in a database:
#: ids and words as text, money as DECIMAL, days as DATE, counts and scores as INTEGER.
MARKETPLACE_SCHEMA = {
    "orders": {"order_id": "id", "customer_id": "id", "status": "word", "purchased_at": "date", "currency": "word"},
    "order_items": {"order_id": "id", "order_item_id": "int", "product_category": "word", "price": "money",
                    "freight_value": "money"},
    "payments": {"order_id": "id", "payment_sequential": "int", "payment_type": "word", "payment_value": "money"},
    "customers": {"customer_id": "id", "person_id": "id"},
    "people": {"person_id": "id", "name": "text", "email": "text", "phone": "word", "customer_type": "word",
               "industry": "word", "company_size": "word", "age_band": "word", "acquisition_channel": "word",
               "signup_date": "date", "country": "word", "state": "word", "city": "text"},
    "reviews": {"review_id": "id", "order_id": "id", "review_date": "date", "review_score": "int", "nps": "int"},
    "interactions": {"interaction_id": "id", "customer_id": "id", "interaction_date": "date", "channel": "word"},
}


def with_password(server: Server):
    """The server's URL with the password and driver, for loading data (never for custseg itself)."""
    from sqlalchemy.engine import make_url

    url = make_url(server.url).set(password=PASSWORD)
    return url.set(drivername=f"{url.drivername}+{'psycopg' if server.kind == 'postgresql' else 'pymysql'}")


def load_tables(server: Server, folder: Path) -> dict[str, int]:
    """Create the marketplace tables in the server's database and load them from the CSV files in
    `folder` (typed: dates as DATE, money as DECIMAL(12, 2), empty cells as NULL); rows per table."""
    import csv
    import datetime as dt
    from decimal import Decimal

    import sqlalchemy as sa

    kinds = {"id": (sa.String(40), str), "word": (sa.String(60), str), "text": (sa.String(200), str),
             "date": (sa.Date(), dt.date.fromisoformat), "money": (sa.Numeric(12, 2), Decimal),
             "int": (sa.Integer(), int)}
    metadata = sa.MetaData()
    tables = {name: sa.Table(name, metadata, *(sa.Column(col, kinds[kind][0]) for col, kind in columns.items()))
              for name, columns in MARKETPLACE_SCHEMA.items()}
    engine = sa.create_engine(with_password(server), poolclass=sa.pool.NullPool)
    counts = {}
    try:
        metadata.drop_all(engine)
        metadata.create_all(engine)
        with engine.begin() as connection:
            for name, table in tables.items():
                convert = {col: kinds[kind][1] for col, kind in MARKETPLACE_SCHEMA[name].items()}
                with open(folder / f"{name}.csv", encoding="utf-8", newline="") as handle:
                    rows = [{col: convert[col](value) if value != "" else None for col, value in row.items()}
                            for row in csv.DictReader(handle)]
                for start in range(0, len(rows), 5000):
                    connection.execute(table.insert(), rows[start:start + 5000])
                counts[name] = len(rows)
    finally:
        engine.dispose()
    return counts


@pytest.fixture(scope="session")
def postgres_server():
    """A throwaway PostgreSQL server for the session (database ``shop``, user ``custseg``)."""
    server = start_postgres()
    yield server
    stop_postgres(server)


@pytest.fixture(scope="session")
def mariadb_server():
    """A throwaway MariaDB server for the session (database ``shop``, user ``custseg``)."""
    server = start_mariadb()
    yield server
    stop_mariadb(server)
