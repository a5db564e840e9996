"""Benchmark intake on a large generated orders file: read_raw alone, then the whole intake.

Writes an orders CSV of ``--rows`` lines (default 1,000,000) and a minimal study config into a
temporary folder, then prints wall-clock times, rows per second, peak memory and intake's
accounting. A script, not a test: timings depend on the machine and are never asserted.

    .venv/bin/python tools/benchmark_intake.py --rows 1000000
    .venv/bin/python tools/benchmark_intake.py --rows 200000 --encoding gb18030 --keep
    .venv/bin/python tools/benchmark_intake.py --decimal ,    # a European export: ';' and 415,70
"""

from __future__ import annotations

import argparse
import gc
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np
import pandas as pd
import yaml

from custseg.config import load_config
from custseg.intake.cleaning import run_intake
from custseg.intake.readers import read_raw

T = TypeVar("T")

CATEGORIES = np.array(["Electronics", "Apparel", "Books", "Home", "电子产品", "服装", "家居"])
STATUSES = np.array(["completed"] * 8 + ["cancelled", "refunded"])
COLUMNS = ("order_id", "customer_id", "order_date", "category", "amount", "currency", "status")
_CHUNK = 100_000


def write_orders(path: Path, rows: int, *, encoding: str, bad_share: float, seed: int = 7, decimal: str = ".") -> None:
    """Write an orders CSV with `rows` data lines; a share of them is deliberately faulty.

    Parameters
    ----------
    path
        File to write.
    rows
        Number of data lines under the header.
    encoding
        Codec of the file (``utf-8`` or ``gb18030``, what Chinese Excel writes).
    bad_share
        Share of rows made faulty (unreadable amount, missing customer id, exact duplicate),
        so that the quarantine and the duplicate count have work to do.
    seed
        Seed of the random generator; the same seed writes the same file.
    decimal
        ``.``, or ``,`` for a European export: amounts with a decimal comma, fields separated by ``;``.
    """
    rng = np.random.default_rng(seed)
    customers = rows // 20 + 2
    # Written in chunks so that the peak memory printed later belongs to intake, not to this.
    with path.open("wb") as out:
        sep = ";" if decimal == "," else ","
        out.write((sep.join(COLUMNS) + "\n").encode(encoding))
        for first in range(1, rows + 1, _CHUNK):
            size = min(_CHUNK, rows + 1 - first)
            out.write(_orders_chunk(rng, first, size, customers, bad_share, decimal).encode(encoding))


def _orders_chunk(rng: np.random.Generator, first: int, size: int, customers: int, bad_share: float,
                  decimal: str = ".") -> str:
    columns = {
        "order_id": [f"O{i:08d}" for i in range(first, first + size)],
        "customer_id": [f"C{i:06d}" for i in rng.integers(1, customers, size).tolist()],
        "order_date": (np.datetime64("2023-01-01") + rng.integers(0, 730, size)).astype(str).tolist(),
        "category": CATEGORIES[rng.integers(0, CATEGORIES.size, size)].tolist(),
        "amount": [f"{x:.2f}".replace(".", decimal) for x in (rng.gamma(2.0, 150.0, size) + 0.01).tolist()],
        "currency": np.where(rng.random(size) < 0.1, "USD", "CNY").tolist(),
        "status": STATUSES[rng.integers(0, STATUSES.size, size)].tolist(),
    }
    # Problems that intake quarantines or counts rather than stops on (a bad date would stop it
    # under the default cleaning.stop_on): an unreadable amount, a missing customer id, and an
    # exact copy of the row before.
    bad = np.flatnonzero(rng.random(size) < bad_share)
    for i in bad[0::3].tolist():
        columns["amount"][i] = "n/a"
    for i in bad[1::3].tolist():
        columns["customer_id"][i] = ""
    for i in bad[2::3][bad[2::3] > 0].tolist():
        for values in columns.values():
            values[i] = values[i - 1]
    # No value holds the delimiter, a quote or a line break, so plain joins make a valid CSV, much faster
    # than DataFrame.to_csv.
    sep = ";" if decimal == "," else ","
    return "".join(sep.join(row) + "\n" for row in zip(*columns.values()))


def write_config(folder: Path) -> Path:
    """A minimal study config reading folder/raw/orders.csv, with outputs under folder/out (custseg
    writes no output inside an input's folder)."""
    config = {
        "study": {"name": "bench", "title": "Bench"},
        "inputs": {"orders": "raw/orders.csv"},
        "currency": {"base": "CNY", "rates": {"USD": 7.2}},
        "output": {key: f"out/{key}" for key in ("interim", "processed", "reports", "build", "exports")},
    }
    path = folder / "bench.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux reports KB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def timed(step: Callable[[], T]) -> tuple[T, float]:
    start = time.perf_counter()
    result = step()
    return result, time.perf_counter() - start


def report(label: str, rows: int, seconds: float) -> None:
    print(f"{label:<12} {seconds:8.2f} s  {rows / seconds:12,.0f} rows/s  peak RSS {peak_rss_mb():8,.0f} MB")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="data lines in the orders file")
    parser.add_argument("--encoding", default="utf-8", choices=["utf-8", "gb18030"], help="codec of the file")
    parser.add_argument("--bad-share", type=float, default=0.001, help="share of invalid rows")
    parser.add_argument("--decimal", default=".", choices=[".", ","],
                        help="decimal separator of the amounts (',': ';' between fields)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder and print its path")
    args = parser.parse_args(argv)
    if args.rows < 1:
        parser.error("--rows must be at least 1")

    folder = Path(tempfile.mkdtemp(prefix="custseg-bench-"))
    try:
        orders = folder / "raw" / "orders.csv"
        orders.parent.mkdir()
        _, seconds = timed(lambda: write_orders(orders, args.rows, encoding=args.encoding, bad_share=args.bad_share,
                                                decimal=args.decimal))
        size_mb = orders.stat().st_size / 2**20
        print(f"wrote {args.rows:,} rows, {size_mb:,.1f} MB ({args.encoding}) in {seconds:.1f} s: {orders}")
        print(f"peak RSS so far (imports, generating the file): {peak_rss_mb():,.0f} MB")
        print()

        table, seconds = timed(lambda: read_raw(orders))
        report("read_raw", len(table.frame), seconds)
        print(f"{'':<12} encoding {table.encoding}, delimiter {table.delimiter!r}, {len(table.frame):,} rows")
        del table
        gc.collect()

        config = load_config(write_config(folder))
        result, seconds = timed(lambda: run_intake(config))
        report("run_intake", args.rows, seconds)
        print()
        print("accounting:")
        with pd.option_context("display.width", 200, "display.max_columns", None):
            print(result.accounting.to_string(index=False))
    finally:
        if args.keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder)


if __name__ == "__main__":
    main()
