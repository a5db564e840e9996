"""Benchmark of the report build: 40 region studies and 5 tier studies on the machine's cores.

Processes the bundled sample (``data/raw/sample``, made by ``make data``) with regions at the
province level and five value tiers, in a temporary folder, then builds 40 region studies and the
5 tier studies with :func:`custseg.report.build.build_reports` (papermill in a process pool, HTML
rendered in-process, one kernel per worker) and prints the wall time, the time per study, and
what a bare kernel start costs next to it. A script, not a test.

    .venv/bin/python tools/benchmark_reports.py
    .venv/bin/python tools/benchmark_reports.py --regions 20 --workers 2
    .venv/bin/python tools/benchmark_reports.py --language zh   # the same studies in Chinese
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import yaml

from custseg import paths
from custseg.config import load_config
from custseg.pipeline import run
from custseg.report.build import build_reports


def bare_kernel_seconds(kernel: str, runs: int = 3) -> float:
    """Mean time to start a kernel, run one empty cell and shut it down."""
    from jupyter_client.manager import start_new_kernel

    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        manager, client = start_new_kernel(kernel_name=kernel)
        client.execute_interactive("pass", timeout=60)
        client.stop_channels()
        manager.shutdown_kernel(now=True)
        seconds.append(time.perf_counter() - started)
    return sum(seconds) / len(seconds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--regions", type=int, default=40, help="region studies to build")
    parser.add_argument("--tiers", type=int, default=5, help="tier studies to build (at most 5)")
    parser.add_argument("--workers", type=int, default=None, help="parallel studies (default: one per core)")
    parser.add_argument("--language", choices=("en", "zh"), default="en", help="report language (default: %(default)s)")
    args = parser.parse_args(argv)
    raw = paths.PROJECT_ROOT / "data" / "raw" / "sample"
    if not (raw / "orders.csv").is_file():
        print(f"no sample in {raw}: run `make data` first", file=sys.stderr)
        return 1
    sample = yaml.safe_load((paths.PROJECT_ROOT / "config" / "sample.yaml").read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory(prefix="custseg-bench-reports-") as tmp:
        study = Path(tmp) / "study.yaml"
        study.write_text(yaml.safe_dump({
            **{key: sample[key] for key in ("currency",)},
            "study": {"name": "bench", "title": "Report benchmark", "language": args.language},
            "inputs": {name: str(raw / f"{name}.csv") for name in ("orders", "customers", "interactions", "feedback")},
            "output": {key: f"out/{key}" for key in ("interim", "processed", "reports", "build", "exports")},
            "regions": {"level": "province"},
            "tiers": {"names": ["vip", "high", "mid", "low", "dormant"], "min_scores": [13, 11, 8, 5]},
            "studies": {"workers": args.workers, "min_customers": 10},
        }, allow_unicode=True), encoding="utf-8")
        config = load_config(study)
        started = time.perf_counter()
        run(config, echo=lambda *_: None)
        print(f"processed the sample (5,000 customers, regions by province) in {time.perf_counter() - started:.1f} s")

        def pick(jobs):
            regions = [job for job in jobs if job.kind == "region"][: args.regions]
            tiers = [job for job in jobs if job.kind == "tier"][: args.tiers]
            return regions + tiers

        started = time.perf_counter()
        result = build_reports(config, force=True, echo=lambda *_: None, progress=False, select=pick)
        wall = time.perf_counter() - started
        if result.failed:
            for href, error in result.failed.items():
                print(f"FAILED {href}: {error}", file=sys.stderr)
            return 1
        built = len(result.built)
        workers = config.studies.workers or os.cpu_count() or 1
        kernel = bare_kernel_seconds(config.studies.kernel)
        per_study = wall * workers / built
        print(f"{built} studies ({args.regions} region, {args.tiers} tier, language {args.language}) "
              f"on {workers} workers: {wall:.1f} s (aim: under 60 s)")
        print(f"  per study: {per_study:.2f} s of one worker, {per_study / kernel:.1f}x a bare kernel start with one "
              f"empty cell ({kernel:.2f} s), which each worker pays once: its studies share one kernel")
    return 0


if __name__ == "__main__":
    sys.exit(main())
