"""Benchmark a raw line-item export end to end, side by side with DuckDB and the usual pandas recipe.

Writes a line-item CSV shaped like a real shop's invoice lines (Online Retail II's proportions:
a fifth of the lines without a customer, 2% reversal invoices "C…" with negative quantities,
1.3% exact duplicate lines, 0.7% lines priced 0, customer ids written as text, about 18 lines
an invoice and 120 a customer), then times three ways from that one file, each in a fresh process,
with the peak memory of its process tree (the worker processes that clean pieces included):

- ``custseg``: ``custseg process`` (intake, segmentation at 4 snapshots, churn and value);
- ``custseg-duckdb``: the same with ``engine: duckdb`` and ``--memory-limit`` (default 6GB; the line items
  read and cleaned in pieces, :mod:`custseg.intake.scaled`);
- ``custseg-spark``: the same with ``engine: spark`` in local mode (PySpark installed by ``make setup-spark``;
  the session's start counts; the peak memory is the Python process's, not the JVM's beside it);
- ``duckdb``: DuckDB reads the same CSV and computes the RFM summary (the floor: it does nothing else);
- ``pandas``: the notebook recipe (read, drop guests, reversals and duplicates, RFM, quintile
  scores, k-means with k=4).

A script, not a test: figures depend on the machine and are never asserted.

    .venv/bin/python tools/benchmark_raw.py --lines 1000000
    .venv/bin/python tools/benchmark_raw.py --lines 1000000,10000000 --ways custseg,duckdb
    .venv/bin/python tools/benchmark_raw.py --lines 100000000 --ways duckdb,custseg-duckdb --dir /work/tmp

The 100M-line CSV is about 9 GB: ``--dir`` puts it on a disk with room (default: the system's temp folder).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import yaml

COLUMNS = ("Invoice", "StockCode", "Description", "Quantity", "InvoiceDate", "Price", "Customer ID", "Country")
COUNTRIES = np.array(["United Kingdom"] * 90 + ["EIRE", "Germany", "France", "Netherlands", "Spain", "Belgium",
                                                 "Switzerland", "Portugal", "Australia", "Unspecified"])
_CHUNK = 1_000_000
_START = np.datetime64("2023-01-01T08:00")


def write_lines(path: Path, lines: int, seed: int = 7) -> None:
    """Write `lines` invoice lines (plus the duplicates) to `path` with Online Retail II's proportions."""
    rng = np.random.default_rng(seed)
    customers = max(lines // 120, 10)
    invoices = max(lines // 18, 10)
    products = 4000
    price_of = np.round(rng.lognormal(1.0, 0.8, products), 2)
    with pacsv.CSVWriter(path, pa.schema([(c, pa.string()) for c in COLUMNS])) as writer:
        for start in range(0, lines, _CHUNK):
            n = min(_CHUNK, lines - start)
            invoice = np.sort(rng.integers(0, invoices, n))
            # the customer of an invoice is a function of the invoice; a fifth of invoices are guests
            who = (invoice * 2654435761 % customers).astype(np.int64)
            guest = (invoice * 40503 % 100) < 20
            reversal = (invoice * 69069 % 1000) < 20
            product = rng.integers(0, products, n)
            quantity = rng.integers(1, 25, n) * np.where(reversal, -1, 1)
            price = np.where(rng.random(n) < 0.007, 0.0, price_of[product])
            minutes = (invoice.astype(np.int64) * 525_600 * 2) // invoices  # two years of invoices
            table = pa.table({
                "Invoice": np.char.add(np.where(reversal, "C", ""), (500000 + invoice).astype(str)),
                "StockCode": (10000 + product).astype(str),
                "Description": np.char.add("PRODUCT ", product.astype(str)),
                "Quantity": quantity.astype(str),
                "InvoiceDate": np.datetime_as_string(_START + minutes.astype("timedelta64[m]"), unit="s"),
                "Price": np.char.mod("%.2f", price),
                "Customer ID": np.where(guest, "", (12000 + who).astype(str)),
                "Country": COUNTRIES[(who % len(COUNTRIES))],
            }).cast(pa.schema([(c, pa.string()) for c in COLUMNS]))
            table = table.set_column(4, "InvoiceDate", pa.array(np.char.replace(
                table.column("InvoiceDate").to_numpy(zero_copy_only=False).astype(str), "T", " ")))
            writer.write_table(table)
            duplicated = rng.random(n) < 0.013  # the same line exported twice
            writer.write_table(table.filter(pa.array(duplicated)))


def study_config(folder: Path, data: Path, engine: dict | None = None) -> Path:
    """A study config that reads the generated file as a new user maps Online Retail II."""
    path = folder / "study.yaml"
    more = {"engine": engine} if engine else {}
    path.write_text(yaml.safe_dump({
        "study": {"name": "bench", "title": "Benchmark"},
        "inputs": {"line_items": {"path": str(data), "date_format": "%Y-%m-%d %H:%M:%S", "columns": {
            "invoice": "Invoice", "item": "StockCode", "description": "Description", "quantity": "Quantity",
            "unit_price": "Price", "invoice_date": "InvoiceDate", "customer_id": "Customer ID", "country": "Country"}}},
        "currency": {"base": "GBP"},
        "cleaning": {"stop_on": []},
        "output": {key: str(folder / "out" / key) for key in ("interim", "processed", "reports", "build", "exports")},
        **more,
    }, sort_keys=False), encoding="utf-8")
    return path


DUCKDB_RFM = """
WITH lines AS (
    SELECT DISTINCT * FROM read_csv(?, header = true, all_varchar = true)
), sales AS (
    SELECT "Customer ID" AS customer, Invoice AS invoice,
           strptime(InvoiceDate, '%Y-%m-%d %H:%M:%S') AS ordered,
           CAST(Quantity AS INTEGER) * CAST(Price AS DOUBLE) AS revenue
    FROM lines WHERE "Customer ID" <> '' AND NOT starts_with(Invoice, 'C')
)
SELECT customer, date_diff('day', max(ordered), (SELECT max(ordered) FROM sales) + INTERVAL 1 DAY) AS recency,
       count(DISTINCT invoice) AS frequency, sum(revenue) AS monetary
FROM sales GROUP BY customer
"""


def run_way(way: str, data: Path, folder: Path, memory_limit: str = "6GB", workers: int | None = None) -> dict:
    """Run one way in this process; return its figures (seconds, customers)."""
    started = time.perf_counter()
    if way in ("custseg", "custseg-duckdb", "custseg-spark"):
        from custseg.config import load_config
        from custseg.pipeline import run

        engine = ({"name": "duckdb", "memory_limit": memory_limit} if way == "custseg-duckdb"
                  else {"name": "spark"} if way == "custseg-spark" else None)
        if engine and workers:
            engine["workers"] = workers
        run(load_config(study_config(folder, data, engine)), echo=lambda *_: None)
        customers = json.loads((folder / "out" / "processed" / "study.json").read_text())["customers"]
    elif way == "duckdb":
        import duckdb

        customers = len(duckdb.connect().execute(DUCKDB_RFM, [str(data)]).df())
    elif way == "pandas":
        import pandas as pd
        from sklearn.cluster import KMeans
        from sklearn.preprocessing import StandardScaler

        lines = pd.read_csv(data, dtype={"Invoice": str, "StockCode": str, "Customer ID": str})
        lines = lines.dropna(subset=["Customer ID"]).drop_duplicates()
        lines = lines[~lines["Invoice"].str.startswith("C")]
        lines["InvoiceDate"] = pd.to_datetime(lines["InvoiceDate"])
        lines["revenue"] = lines["Quantity"] * lines["Price"]
        today = lines["InvoiceDate"].max() + pd.Timedelta(days=1)
        rfm = lines.groupby("Customer ID").agg(last=("InvoiceDate", "max"), frequency=("Invoice", "nunique"),
                                               monetary=("revenue", "sum"))
        rfm["recency"] = (today - rfm.pop("last")).dt.days
        for column, ascending in (("recency", False), ("frequency", True), ("monetary", True)):
            ranks = rfm[column].rank(method="first", ascending=ascending)
            rfm[f"{column}_score"] = pd.qcut(ranks, 5, labels=False) + 1
        scaled = StandardScaler().fit_transform(np.log1p(rfm[["recency", "frequency", "monetary"]].clip(lower=0)))
        rfm["cluster"] = KMeans(4, n_init=10, random_state=0).fit_predict(scaled)
        customers = len(rfm)
    else:
        raise SystemExit(f"unknown way {way!r}")
    return {"seconds": time.perf_counter() - started, "customers": int(customers), "peak_mb": peak_mb()}


def run_sampled(command: list[str]) -> tuple[int, str, str, float]:
    """Run `command`; its exit code, output, errors and the peak resident memory (MB) of its
    process tree, sampled every 0.1 s (``engine: duckdb`` cleans pieces in worker processes,
    whose memory the child's own peak does not hold)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        child = subprocess.Popen(command, stdout=out, stderr=err, text=True)
        peak = 0.0
        while child.poll() is None:
            peak = max(peak, tree_mb(child.pid))
            time.sleep(0.1)
        out.seek(0)
        err.seek(0)
        return child.returncode, out.read(), err.read(), peak


def tree_mb(pid: int) -> float:
    """Resident memory (MB) of a process and all its descendants now (Linux; 0 elsewhere)."""
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:  # gone meanwhile, or not Linux
            continue
        total += next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
        stack += [int(c) for c in children]
    return total / 1024


def peak_mb() -> float:
    """This process's peak resident memory, MB.

    Linux's VmHWM, which starts afresh with the program: ``ru_maxrss`` keeps the peak of the
    process before its exec, so a child of a parent that had just written the CSV reported the
    parent's 937 MB as its own floor.
    """
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", default="1000000", help="comma-separated sizes (default: %(default)s)")
    parser.add_argument("--ways", default="duckdb,custseg,pandas",
                        help="which to time, the floor first (default: %(default)s)")
    parser.add_argument("--dir", type=Path, default=None,
                        help="folder for the generated CSV and the outputs (default: the system's temp folder)")
    parser.add_argument("--data", type=Path, default=None,
                        help="time this CSV (written by an earlier run, in a folder of its own: custseg writes nowhere "
                             "near its inputs) instead of writing one; one size only")
    parser.add_argument("--memory-limit", default="6GB",
                        help="engine.memory_limit of the custseg-duckdb way (default: %(default)s)")
    parser.add_argument("--workers", type=int, default=None,
                        help="engine.workers of the custseg-duckdb and custseg-spark ways (default: custseg's)")
    parser.add_argument("--run", nargs=3, metavar=("WAY", "FILE", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.run:  # a child: one way, figures as JSON on stdout
        print(json.dumps(run_way(args.run[0], Path(args.run[1]), Path(args.run[2]), args.memory_limit, args.workers)))
        return 0
    print(f"{'lines':>12} {'way':>14} {'seconds':>8} {'x duckdb':>8} {'peak MB':>8} {'customers':>9}")
    for lines in [int(n) for n in args.lines.split(",")]:
        with tempfile.TemporaryDirectory(prefix="custseg-bench-", dir=args.dir) as tmp:
            data = args.data or Path(tmp) / "export" / "lines.csv"  # custseg writes nowhere near its inputs
            if args.data is None:
                data.parent.mkdir()
                started = time.perf_counter()
                write_lines(data, lines)
                print(f"# {lines:,} lines written in {time.perf_counter() - started:.1f} s "
                      f"({data.stat().st_size / 1e6:,.0f} MB)", flush=True)
            floor = None
            for way in args.ways.split(","):
                folder = Path(tmp) / way
                folder.mkdir()
                command = [sys.executable, __file__, "--run", way, str(data), str(folder),
                           "--memory-limit", args.memory_limit]
                if args.workers:
                    command += ["--workers", str(args.workers)]
                code, out, err, tree = run_sampled(command)
                if code:
                    raise SystemExit(f"{way} failed on {lines:,} lines:\n{err}")
                figures = json.loads(out.strip().splitlines()[-1])
                # the worker processes that clean pieces count too: the peak is the process tree's
                figures["peak_mb"] = max(figures["peak_mb"], tree)
                floor = figures["seconds"] if way == "duckdb" else floor
                ratio = f"{figures['seconds'] / floor:8.1f}" if floor else f"{'':>8}"
                print(f"{lines:>12,} {way:>14} {figures['seconds']:8.1f} {ratio} {figures['peak_mb']:8.0f} "
                      f"{figures['customers']:9,}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
