"""Shared fixtures: tiny hand-made inputs, a writer for study configs in a temporary folder, and
generated samples built once per test session (intake alone, or through the whole pipeline)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from custseg.config import load_config
from custseg.intake.cleaning import run_intake
from custseg.paths import PROJECT_ROOT
from custseg.pipeline import run
from custseg.sample.generator import SampleSpec, generate_sample, write_sample
from custseg.studies.base import open_study
from support.browser import Chromium, find_chromium

#: The bundled sample's currencies and exchange rates, which generated samples use too.
CURRENCY = yaml.safe_load((PROJECT_ROOT / "config/sample.yaml").read_text(encoding="utf-8"))["currency"]
SAMPLE_INPUTS = {name: f"raw/{name}.csv" for name in ("orders", "customers", "interactions", "feedback")}


def study_config(root: Path, inputs: dict, **overrides) -> Path:
    """Write root/study.yaml for `inputs` (paths relative to root), outputs under root/out."""
    path = root / "study.yaml"
    path.write_text(yaml.safe_dump({
        "study": {"name": root.name.lower(), "title": "Test Co."},
        "inputs": inputs,
        "currency": CURRENCY,
        "output": {key: f"out/{key}" for key in ("interim", "processed", "reports", "build", "exports")},
        **overrides,
    }, allow_unicode=True), encoding="utf-8")
    return path


def real_data_dir() -> Path:
    """The folder of the real public data sets (Online Retail II, CDNOW): ``CUSTSEG_REAL_DATA``, else
    ``shared/data`` next to the checkout or next to the nearest folder above it that has one (a CI
    clone may sit a level or two deeper than the developer's checkout). They are read where they
    are, never copied into the project."""
    if os.environ.get("CUSTSEG_REAL_DATA"):
        return Path(os.environ["CUSTSEG_REAL_DATA"])
    candidates = [folder / "shared" / "data" for folder in PROJECT_ROOT.parents]
    return next((c for c in candidates if c.is_dir()), candidates[0])


@pytest.fixture(scope="session")
def real_data() -> Path:
    """The real data folder; a missing one fails the test (the real-data suite must run in CI)."""
    folder = real_data_dir()
    if not (folder / "online_retail_ii").is_dir() or not (folder / "cdnow").is_dir():
        pytest.fail(
            f"the real data sets are not in {folder} (online_retail_ii/, cdnow/): set CUSTSEG_REAL_DATA to the "
            "folder that holds them"
        )
    return folder


#: The Online Retail II export in shared/data, and how a new user maps it (docs/config.md alone).
ONLINE_RETAIL = "online_retail_ii/online_retail_ii_2009_2010.csv.gz"
ONLINE_RETAIL_COLUMNS = {
    "invoice": "Invoice", "item": "StockCode", "description": "Description", "quantity": "Quantity",
    "unit_price": "Price", "invoice_date": "InvoiceDate", "customer_id": "Customer ID", "country": "Country",
}


@pytest.fixture(scope="session")
def online_retail_config(real_data: Path):
    """A writer of study configs for the Online Retail II export: ``(root, **overrides) -> path``
    writes root/study.yaml, outputs under root/out; `overrides` are top-level config keys."""

    def write(root: Path, **overrides) -> Path:
        path = root / "study.yaml"
        path.write_text(yaml.safe_dump({
            "study": {"name": "ori", "title": "Online Retail II"},
            "inputs": {"line_items": {"path": str(real_data / ONLINE_RETAIL), "columns": ONLINE_RETAIL_COLUMNS,
                                      "date_format": "%Y-%m-%d %H:%M:%S"}},
            "currency": {"base": "GBP"},
            "cleaning": {"stop_on": []},
            "output": {key: f"out/{key}" for key in ("interim", "processed", "reports", "build", "exports")},
            **overrides,
        }), encoding="utf-8")
        return path

    return write


@pytest.fixture(scope="session")
def intake_1500(tmp_path_factory):
    """A 1,500-customer generated sample through intake: (config, clean tables, ground truth)."""
    root = tmp_path_factory.mktemp("sample1500")
    data = generate_sample(SampleSpec(n_customers=1500, seed=11))
    write_sample(data, root / "raw")
    config = load_config(study_config(root, SAMPLE_INPUTS))
    return config, run_intake(config).tables, data.ground_truth


@pytest.fixture(scope="session")
def processed_sample(tmp_path_factory):
    """A 400-customer sample with every input through the pipeline: (config, processed data)."""
    root = tmp_path_factory.mktemp("sample400")
    write_sample(generate_sample(SampleSpec(n_customers=400, seed=7)), root / "raw")
    config = load_config(study_config(root, SAMPLE_INPUTS, studies={"min_customers": 12}))
    run(config, echo=lambda *_: None)
    return config, open_study(config)


def _tiny_orders() -> str:
    lines = ["order_id,customer_id,order_date,amount,currency,status,category"]
    for n in range(12):
        for day in range(1 + n % 3):
            lines.append(f"O{n:02d}{day},C{n:02d},2026-0{8 + day % 2}-{10 + n:02d},{50 + 10 * n}.00,CNY,completed,Tea")
    return "\n".join(lines) + "\n"


#: Twelve customers with two months of orders (24 orders) and nothing else.
TINY_ORDERS = _tiny_orders()


@pytest.fixture(scope="session")
def processed_tiny(tmp_path_factory):
    """Twelve customers with two months of orders and nothing else, through the pipeline: no
    clusters, one snapshot, too little for the churn model. (config, processed data)."""
    root = tmp_path_factory.mktemp("tiny")
    (root / "raw").mkdir()
    (root / "raw" / "orders.csv").write_text(TINY_ORDERS, encoding="utf-8")
    config = load_config(study_config(root, {"orders": "raw/orders.csv"}, studies={"min_customers": 2},
                                      observation_date="2026-10-01"))
    run(config, echo=lambda *_: None)
    return config, open_study(config)


@pytest.fixture
def write_config(tmp_path: Path):
    """Write a study config (dict) into tmp_path and return its path.

    Tests put their input files in tmp_path itself, and custseg writes no output inside an
    input's folder, so the outputs go beside it: ``<tmp_path>-out/interim``, ``.../processed``...
    """
    out = tmp_path.with_name(f"{tmp_path.name}-out")

    def write(inputs: dict, **overrides) -> Path:
        config = {
            "study": {"name": "t", "title": "Test Co."},
            "inputs": inputs,
            "currency": {"base": "CNY", "rates": {"USD": 7.0}},
            "output": {key: str(out / key) for key in ("interim", "processed", "reports", "build", "exports")},
            "studies": {"min_customers": 2, "workers": 2},
            **overrides,
        }
        path = tmp_path / "study.yaml"
        path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
        return path

    return write


@pytest.fixture
def write_csv(tmp_path: Path):
    """Write CSV text into tmp_path/name and return the path."""

    def write(name: str, text: str, encoding: str = "utf-8") -> Path:
        path = tmp_path / name
        path.write_bytes(text.encode(encoding))
        return path

    return write


#: A small orders export with a missing customer id, an amount that is markup and a repeated
#: row: what intake quarantines and the data-quality page reports, with no customer table.
MESSY_ORDERS = """order_id,customer_id,order_date,amount
O1,C1,2025-01-05,100.00
O2,C1,2025-03-05,10.00
O3,,2025-03-01,50
O4,C2,2025-03-06,<i>x</i>
O4,C2,2025-03-06,<i>x</i>
"""


@pytest.fixture
def messy_orders(write_csv) -> Path:
    """:data:`MESSY_ORDERS` written as tmp_path/orders.csv."""
    return write_csv("orders.csv", MESSY_ORDERS)


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the session (see tests/test_browser.py for when it is skipped)."""
    if find_chromium() is None:
        if os.environ.get("CUSTSEG_REQUIRE_BROWSER") == "1":
            pytest.fail("CUSTSEG_REQUIRE_BROWSER=1 but no Chromium is installed (.ci/run installs Debian's chromium)")
        pytest.skip("no Chromium installed (apt install chromium): the browser checks of the reports did not run")
    with Chromium() as chromium:
        yield chromium
