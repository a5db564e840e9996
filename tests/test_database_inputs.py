"""Inputs read from a database, against real servers the suite starts itself (tests/support/servers.py):
the marketplace sample loaded into PostgreSQL and into MariaDB, a config of queries alone builds
every report, and the processed tables are byte-identical to those built from the same tables'
CSV files by queries over files. The password never shows, and a connection problem is said
clearly."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from custseg.cli import main
from custseg.config import ConfigError, load_config
from custseg.intake.cleaning import IntakeError, run_intake
from custseg.pipeline import data_fingerprint
from custseg.report.build import expected_pages
from custseg.sample.generator import SampleSpec, generate_sample
from custseg.sample.marketplace import marketplace_tables, write_marketplace
from support.examples import EXAMPLE, example_inputs

# mariadb_server and postgres_server are fixtures: pytest finds them by name in this module
from support.servers import PASSWORD, load_tables, mariadb_server, postgres_server, with_password  # noqa: F401

pytestmark = pytest.mark.e2e

SECRET_VARIABLE = "CUSTSEG_TEST_DB_PASSWORD"
INTERACTIONS = "SELECT interaction_id, customer_id, interaction_date, channel FROM interactions"


def _write_config(root: Path, inputs: dict) -> Path:
    """The worked example config/sample_tables.yaml with other inputs, outputs under root/out."""
    root.mkdir(parents=True, exist_ok=True)
    settings = {**EXAMPLE, "inputs": inputs,
                "study": {**EXAMPLE["study"], "name": root.name},
                "output": {key: f"out/{key}" for key in ("interim", "processed", "reports", "build", "exports")},
                "studies": {"min_customers": 12, "workers": 2}}
    path = root / "study.yaml"
    path.write_text(yaml.safe_dump(settings, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _database_inputs(url: str) -> dict:
    """The example's queries run by the database instead (the same SQL: it is plain enough)."""
    inputs = {name: {"url": url, "password_env": SECRET_VARIABLE, "query": spec["sql"]}
              for name, spec in EXAMPLE["inputs"].items() if isinstance(spec, dict)}
    inputs["interactions"] = {"url": url, "password_env": SECRET_VARIABLE, "query": INTERACTIONS}
    return inputs


@pytest.fixture(scope="module")
def marketplace(tmp_path_factory) -> Path:
    """A 300-customer sample as marketplace tables (CSV) in a temporary folder."""
    root = tmp_path_factory.mktemp("marketplace")
    data = generate_sample(SampleSpec(n_customers=300, seed=5))
    tables = marketplace_tables(data.orders, data.customers, data.feedback, data.interactions,
                                data.ground_truth, seed=5)
    write_marketplace(tables, root / "raw")
    return root


@pytest.fixture(scope="module")
def from_files(marketplace: Path) -> Path:
    """The study processed from the CSV files by queries over them (DuckDB): its config. Its pages are
    not built: the tests compare the processed tables, and the pages a build would make."""
    config = _write_config(marketplace / "files", example_inputs(marketplace / "raw"))
    assert main(["process", "--config", str(config)]) == 0
    return config


@pytest.fixture(params=["postgres_server", "mariadb_server"])
def server(request):
    return request.getfixturevalue(request.param)


@pytest.fixture
def loaded(server, marketplace: Path, monkeypatch):
    """The server with the marketplace tables loaded, and the password in the environment."""
    counts = load_tables(server, marketplace / "raw")
    monkeypatch.setenv(SECRET_VARIABLE, PASSWORD)
    return server, counts


def test_a_database_config_builds_every_report_and_the_processed_tables_equal_the_files(
    loaded, marketplace: Path, from_files: Path
):
    server, counts = loaded
    config_path = _write_config(marketplace / server.kind, _database_inputs(server.url))
    assert main(["run", "--config", str(config_path), "--quiet"]) == 0

    config, files_config = load_config(config_path), load_config(from_files)
    pages = expected_pages(config)
    assert pages and all(page.is_file() for page in pages)
    assert [p.relative_to(config.output.reports) for p in pages] == [
        p.relative_to(files_config.output.reports) for p in expected_pages(files_config)]
    tables = sorted(files_config.output.processed.glob("*.parquet"))
    assert len(tables) > 10
    for table in tables:
        twin = config.output.processed / table.name
        assert twin.read_bytes() == table.read_bytes(), f"{table.name} differs between files and {server.kind}"
    # the clean tables read by the same queries carry the same row numbers, too
    for name in ("orders", "customers", "feedback"):
        ours = pd.read_parquet(config.output.interim / f"{name}.parquet")
        theirs = pd.read_parquet(files_config.output.interim / f"{name}.parquet")
        pd.testing.assert_frame_equal(ours, theirs)

    sources = pd.read_csv(config.output.interim / "sources.csv", encoding="utf-8-sig")
    assert set(sources["kind"]) == {"database"}
    location = sources["location"].iloc[0]
    assert set(sources["location"]) == {location} and location.startswith(server.url.split("://")[0] + "://custseg@")
    interactions = sources.set_index("table").loc["interactions"]
    assert interactions["rows"] == counts["interactions"]

    # the password is in no file the run wrote: pages, logs, study.json, CSV, Parquet
    written = [path for path in (marketplace / server.kind / "out").rglob("*") if path.is_file()]
    assert len(written) > 30
    leaks = [path for path in written if PASSWORD.encode() in path.read_bytes()]
    assert leaks == []


def test_the_data_fingerprint_follows_the_rows_the_query_returns(loaded, marketplace: Path):
    server, _counts = loaded
    config = load_config(_write_config(marketplace / f"{server.kind}-fp", _database_inputs(server.url)))
    before = data_fingerprint(config)
    assert data_fingerprint(config) == before  # the same rows, the same fingerprint
    import sqlalchemy as sa

    engine = sa.create_engine(with_password(server), poolclass=sa.pool.NullPool)
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE payments SET payment_value = payment_value + 1 "
                                   "WHERE order_id = (SELECT MIN(order_id) FROM orders)"))
    engine.dispose()
    assert data_fingerprint(config) != before


def test_a_wrong_password_is_a_clear_error_without_the_password(server, marketplace: Path, monkeypatch):
    monkeypatch.setenv(SECRET_VARIABLE, "not-" + PASSWORD)
    config = load_config(_write_config(marketplace / f"{server.kind}-bad", _database_inputs(server.url)))
    with pytest.raises(IntakeError) as caught:
        run_intake(config)
    message = str(caught.value)
    assert "cannot connect" in message and "'shop'" in message and "custseg" in message
    assert "inputs.orders" in message
    assert PASSWORD not in message


def test_an_unset_password_variable_is_named(server, marketplace: Path, monkeypatch):
    monkeypatch.delenv(SECRET_VARIABLE, raising=False)
    config = load_config(_write_config(marketplace / f"{server.kind}-unset", _database_inputs(server.url)))
    with pytest.raises(IntakeError, match=f"inputs.orders.password_env: the environment variable {SECRET_VARIABLE}"):
        run_intake(config)


def test_a_password_file_and_a_whole_url_in_a_variable_work(server, marketplace: Path, monkeypatch):
    load_tables(server, marketplace / "raw")
    secret = marketplace / f"{server.kind}-secret.txt"
    secret.write_text(PASSWORD + "\n", encoding="utf-8")
    whole = with_password(server).render_as_string(hide_password=False)
    monkeypatch.setenv("CUSTSEG_TEST_DB_URL", whole)
    inputs = {
        "orders": {"url": server.url, "password_file": str(secret), "query": EXAMPLE["inputs"]["orders"]["sql"]},
        "customers": {"url_env": "CUSTSEG_TEST_DB_URL", "query": EXAMPLE["inputs"]["customers"]["sql"]},
    }
    config = load_config(_write_config(marketplace / f"{server.kind}-secrets", inputs))
    result = run_intake(config)
    people = pd.read_csv(marketplace / "raw" / "people.csv", dtype=str)
    assert len(result.tables["customers"]) == people["person_id"].nunique()
    assert PASSWORD not in result.sources.to_csv()


def test_a_failing_query_names_the_table_and_the_server(server, marketplace: Path, monkeypatch):
    monkeypatch.setenv(SECRET_VARIABLE, PASSWORD)
    inputs = {"orders": {"url": server.url, "password_env": SECRET_VARIABLE, "query": "SELECT * FROM no_such_table"}}
    config = load_config(_write_config(marketplace / f"{server.kind}-query", inputs))
    with pytest.raises(IntakeError, match="inputs.orders: .*'shop'.*cannot run the query.*no_such_table"):
        run_intake(config)


def test_a_password_in_the_url_is_refused_without_echoing_it(tmp_path: Path):
    inputs = {"orders": {"url": f"postgresql://analyst:{PASSWORD}@db.example/shop", "query": "SELECT 1"}}
    with pytest.raises(ConfigError) as caught:
        load_config(_write_config(tmp_path / "pw", inputs))
    assert "holds a password" in str(caught.value) and "password_env" in str(caught.value)
    assert PASSWORD not in str(caught.value)


@pytest.mark.parametrize("url, expected", [
    ("sqlite:///shop.db", "database kind 'sqlite' is not supported"),
    ("not a url", "the database URL cannot be read"),
])
def test_a_database_custseg_does_not_read_is_refused(tmp_path: Path, url: str, expected: str):
    with pytest.raises(ConfigError, match=expected):
        load_config(_write_config(tmp_path / "kind", {"orders": {"url": url, "query": "SELECT 1"}}))
