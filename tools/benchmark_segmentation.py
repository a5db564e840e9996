"""Benchmark of the segmentation step (`make bench`): figures printed, nothing asserted.

For each size (order lines), a synthetic clean order table with one customer per ten lines is
written to Parquet; then, in a fresh process so that peak memory means something, the script
times reading it, the customer features, the tiers, the named segments, the lifecycle stages,
the clusters, and runs the same recency / frequency / monetary summary as a DuckDB ``GROUP BY``
over the same file as the reference floor (the summaries, a second or less each, are run three
times and the fastest kept, on both sides). The whole step with its snapshots
(:func:`custseg.segment.step.segment`) is then timed alone in three more processes: with the
ids as text, as intake hands them over (C00012345: one width, so read as numbers, not hashed),
dictionary-encoded (categoricals, whose codes are reused), and as text of varied widths
(C12345: padded to one width, then read as numbers).

    python tools/benchmark_segmentation.py                 # 1M and 10M order lines
    python tools/benchmark_segmentation.py --lines 2000000
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

OBSERVATION = dt.date(2026, 10, 1)
#: What the recency / frequency / monetary summary reads of the orders.
RFM_COLUMNS = ["customer_id", "order_date", "status", "revenue"]
CATEGORIES = ("electronics", "home", "apparel", "beauty", "food", "sports", "office", "industrial")
COUNTRIES = ("CN", "中国", "USA", "Germany", "JP", "UK", "France", "")
STUDY_YAML = """
study: {name: bench, title: Bench}
inputs: {orders: orders.csv}
currency: {base: CNY}
output: {interim: ../out/interim, processed: ../out/processed, reports: ../out/reports, build: ../out/build,
         exports: ../out/exports}
"""  # outputs beside the inputs' folder, never inside it (custseg refuses that)


def _ids(prefix: str, numbers: np.ndarray) -> pa.Array:
    text = pc.utf8_lpad(pa.array(numbers).cast(pa.string()), width=8, padding="0")
    return pc.binary_join_element_wise(prefix, text, "")


def generate(lines: int, folder: Path, seed: int = 7) -> dict[str, Path]:
    """Clean-shaped orders and customers: heavy-tailed frequency, log-normal values, 3 years."""
    rng = np.random.default_rng(seed)
    n_customers = max(lines // 10, 10)
    weight = rng.gamma(0.6, 1.0, n_customers)
    owner = rng.choice(n_customers, size=lines, p=weight / weight.sum())
    start = np.datetime64(OBSERVATION, "s") - np.timedelta64(3 * 365 * 86400, "s")
    when = start + (rng.random(lines) * 3 * 365 * 86400).astype("timedelta64[s]")
    when = when.astype("datetime64[D]").astype("datetime64[s]")
    status = np.array(["completed", "cancelled", "refunded", "returned"])[
        rng.choice(4, size=lines, p=[0.93, 0.03, 0.03, 0.01])
    ]
    value = np.round(np.exp(rng.normal(5.0, 1.0, lines)), 2)
    revenue = np.where(status == "completed", value, np.where(status == "returned", -value, 0.0))
    orders = pa.table({
        "order_id": _ids("O", np.arange(lines)),
        "customer_id": _ids("C", owner),
        "order_date": pa.array(when),
        "category": pa.array(np.array(CATEGORIES)[rng.integers(0, len(CATEGORIES), lines)]),
        "status": pa.array(status),
        "amount_base": pa.array(value),
        "revenue": pa.array(revenue),
    })
    customers = pa.table({
        "customer_id": _ids("C", np.arange(n_customers)),
        "country": pa.array(np.array(COUNTRIES)[rng.integers(0, len(COUNTRIES), n_customers)]),
    })
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"orders": folder / "orders.parquet", "customers": folder / "customers.parquet"}
    import pyarrow.parquet as pq

    pq.write_table(orders, paths["orders"])
    pq.write_table(customers, paths["customers"])
    (folder / "study.yaml").write_text(STUDY_YAML, encoding="utf-8")
    return paths


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _read(folder: Path, *, coded: bool = False, varied: bool = False) -> dict[str, pd.DataFrame]:
    """The clean tables as the pipeline hands them to segmentation; with `coded`, the text
    columns customer_id, status and category dictionary-encoded (pandas categoricals), as Parquet
    readers give them when asked to keep the dictionary; with `varied`, the ids without their
    leading zeros (C12345), so that they have several widths."""
    dictionary = ["customer_id", "status", "category"] if coded else None
    orders = pd.read_parquet(folder / "orders.parquet", read_dictionary=dictionary)
    orders = orders.assign(order_date=orders["order_date"].astype("datetime64[s]"))
    customers = pd.read_parquet(folder / "customers.parquet", read_dictionary=["customer_id"] if coded else None)
    if varied:
        orders, customers = (
            frame.assign(customer_id=frame["customer_id"].str.replace(r"^C0+", "C", regex=True))
            for frame in (orders, customers)
        )
    if coded:  # one id numbering for both tables, as a shared categorical type
        ids = pd.CategoricalDtype(orders["customer_id"].cat.categories.union(customers["customer_id"].cat.categories))
        orders = orders.assign(customer_id=orders["customer_id"].astype(ids))
        customers = customers.assign(customer_id=customers["customer_id"].astype(ids))
    return {"orders": orders, "customers": customers}


def worker(folder: Path, mode: str) -> dict:
    """Time the stages (`mode` "stages") or the whole step alone ("whole", "whole-coded") on the
    files in `folder`; runs in its own process, so that peak memory belongs to what it timed."""
    from custseg.config import load_config
    from custseg.segment import clusters, features, lifecycle, tiers
    from custseg.segment import rfm as segments
    from custseg.segment import step as segmentation
    from rfm_summary import rfm_features  # beside this script: tools/ is the script's folder on sys.path

    config = load_config(folder / "study.yaml")
    figures: dict[str, float] = {}

    def timed(name, func, *args, repeat: int = 1, **kwargs):
        """Run `func`; with `repeat`, that many times, keeping the fastest (as timeit does: the
        slower runs measure the machine's other work, not the code)."""
        for _ in range(repeat):
            started = time.perf_counter()
            value = func(*args, **kwargs)
            seconds = time.perf_counter() - started
            figures[name] = min(seconds, figures.get(name, seconds))
        return value

    if mode != "stages":
        tables = timed("read (Parquet)", _read, folder, coded=mode == "whole-coded", varied=mode == "whole-varied")
        done = timed("whole step with 4 snapshots", segmentation.segment, tables, config, OBSERVATION)
        return {"lines": len(tables["orders"]), "customers": len(done.customers), "snapshots": len(done.snapshot_dates),
                "seconds": figures, "peak_mb": _peak_mb()}

    import duckdb

    tables = timed("read orders (Parquet)", _read, folder)
    orders = tables["orders"]
    # The three RFM summaries are short: each is timed three times, its fastest run kept.
    timed("RFM summary: custseg", rfm_features, orders, OBSERVATION, repeat=3)
    query = f"""
        SELECT customer_id,
               date_diff('day', max(order_date) FILTER (WHERE status = 'completed'),
                         DATE '{OBSERVATION}') AS recency_days,
               count(*) FILTER (WHERE status = 'completed') AS frequency,
               sum(revenue) FILTER (WHERE status <> 'cancelled') AS monetary
        FROM read_parquet('{folder / "orders.parquet"}')
        WHERE order_date < DATE '{OBSERVATION}'
        GROUP BY customer_id
    """
    with duckdb.connect() as con:
        con.execute("SET threads = 2")
        timed("RFM summary: DuckDB GROUP BY (file)", lambda: con.execute(query).df(), repeat=3)
        # The columns the summary reads, as DuckDB reads only the columns of its query; the
        # status (four values) keeps its Parquet dictionary, as a categorical.
        timed("read + RFM: custseg", lambda: rfm_features(
            pd.read_parquet(folder / "orders.parquet", columns=RFM_COLUMNS, read_dictionary=["status"]), OBSERVATION),
            repeat=3)

    history = timed("prepare (code ids, sort purchases)", features.prepare, tables)
    placed = timed("regions", segmentation.places, history, config)
    table = timed("features at one date", features.features_at, history, OBSERVATION)
    table = pd.concat([table.drop(columns=["country"]), placed.drop(columns="customer_id")], axis=1)
    table = timed("tiers", tiers.assign_tiers, table, config.tiers)
    table = timed("segments", segments.assign_segments, table, config.segments, config.tiers.bins)
    table = timed("lifecycle", lifecycle.assign_lifecycle, table, config.lifecycle)
    fit = timed("clusters (select k + fit)", clusters.fit_clusters, table, config.clusters)
    timed("clusters (assign)", clusters.assign_clusters, table, fit)
    return {"lines": len(orders), "customers": len(table), "k": int(fit.k), "seconds": figures, "peak_mb": _peak_mb()}


def report(stages: dict, whole: dict, coded: dict, varied: dict) -> None:
    seconds = stages["seconds"]
    print(f"\n{stages['lines']:,} order lines, {stages['customers']:,} customers, k = {stages['k']}")
    for name, value in seconds.items():
        print(f"  {name:<40} {value:7.2f} s")
    one_date = sum(seconds[k] for k in ("prepare (code ids, sort purchases)", "regions", "features at one date",
                                         "tiers", "segments", "lifecycle", "clusters (select k + fit)",
                                         "clusters (assign)"))
    print(f"  {'segmentation at one date (sum above)':<40} {one_date:7.2f} s")
    for label, run in (("ids as text", whole), ("ids dictionary-encoded", coded), ("ids of varied widths", varied)):
        whole_step = run["seconds"]["whole step with 4 snapshots"]
        print(f"  whole step with {run['snapshots']} snapshots, {label + ':':<24} {whole_step:6.2f} s, "
              f"peak memory {run['peak_mb']:,.0f} MiB (read {run['seconds']['read (Parquet)']:.2f} s)")
    ratio = seconds["read + RFM: custseg"] / seconds["RFM summary: DuckDB GROUP BY (file)"]
    print(f"  RFM summary, custseg (read + compute) / DuckDB (file): {ratio:.2f}x")
    ratio_mem = seconds["RFM summary: custseg"] / seconds["RFM summary: DuckDB GROUP BY (file)"]
    print(f"  RFM summary, custseg (in memory) / DuckDB (file):      {ratio_mem:.2f}x")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, nargs="+", default=[1_000_000, 10_000_000], help="order lines per run")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--mode", default="stages", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args.mode)))
        return 0
    with tempfile.TemporaryDirectory(prefix="custseg-bench-") as tmp:
        for lines in args.lines:
            folder = Path(tmp) / f"lines-{lines}"
            started = time.perf_counter()
            generate(lines, folder)
            print(f"generated {lines:,} order lines in {time.perf_counter() - started:.1f} s", flush=True)
            runs = {}
            for mode in ("stages", "whole", "whole-coded", "whole-varied"):
                out = subprocess.run(
                    [sys.executable, __file__, "--worker", str(folder), "--mode", mode],
                    capture_output=True, text=True, check=False,
                )
                if out.returncode != 0:
                    print(out.stderr, file=sys.stderr)
                    return out.returncode
                runs[mode] = json.loads(out.stdout.strip().splitlines()[-1])
            report(runs["stages"], runs["whole"], runs["whole-coded"], runs["whole-varied"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
