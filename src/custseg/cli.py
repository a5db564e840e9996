"""The `custseg` command: wires the steps together; holds no analysis logic."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from pathlib import Path

import custseg
from custseg import i18n, paths


def _config(args: argparse.Namespace):
    from custseg.config import load_config

    return load_config(args.config)


def cmd_sample(args: argparse.Namespace) -> int:
    from custseg.sample.generator import SampleSpec, generate_sample, write_line_items, write_sample

    started = time.perf_counter()
    spec = SampleSpec(n_customers=args.customers, seed=args.seed)
    data = generate_sample(spec)
    written = write_sample(data, Path(args.out))
    if args.line_items:
        written["line_items"] = write_line_items(data, Path(args.out))
    if args.tables_out:
        from custseg.sample.marketplace import marketplace_tables, write_marketplace

        tables = marketplace_tables(data.orders, data.customers, data.feedback, data.interactions,
                                    data.ground_truth, spec.seed)
        written |= {f"tables/{name}": path for name, path in write_marketplace(tables, Path(args.tables_out)).items()}
    print(
        f"sample: {len(data.customers):,} customers, {len(data.orders):,} orders, "
        f"{len(data.interactions):,} interactions, {len(data.feedback):,} feedback rows "
        f"(seed {spec.seed}) -> {Path(args.out)} in {time.perf_counter() - started:.1f} s"
    )
    for name, path in written.items():
        print(f"  {name}: {path}")
    return 0


def cmd_process(args: argparse.Namespace) -> int:
    from custseg.pipeline import run

    run(_config(args), force=args.force)
    return 0


def cmd_reports(args: argparse.Namespace) -> int:
    from custseg.report.build import build_reports

    languages = [args.language] if args.language else None
    result = build_reports(_config(args), force=args.force, progress=not args.quiet, languages=languages)
    return 1 if result.failed else 0


def cmd_run(args: argparse.Namespace) -> int:
    from custseg.report.build import check_kernel

    check_kernel(_config(args))  # a misspelt kernel is said before the data is processed
    code = cmd_process(args)
    return code or cmd_reports(args)


def cmd_plan(args: argparse.Namespace) -> int:
    from custseg import processed
    from custseg.studies.plan import plan_studies, table_of_jobs

    config = _config(args)
    language = args.language or config.study.language
    print(table_of_jobs(plan_studies(processed.load(config, tables=()), config, language)).to_string(index=False))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="custseg", description="Customer classification and tiering studies.")
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error, not only its message")
    parser.add_argument("--version", action="version", version=f"%(prog)s {custseg.__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    sample = sub.add_parser("sample", help="generate the synthetic sample company")
    sample.add_argument("--out", default=str(paths.SAMPLE_DIR), help="folder for the CSV files (default: %(default)s)")
    sample.add_argument("--customers", type=int, default=5000, help="number of customers (default: %(default)s)")
    sample.add_argument("--seed", type=int, default=20261001, help="random seed (default: %(default)s)")
    sample.add_argument(
        "--line-items",
        action="store_true",
        help="also write line_items.csv: the orders as invoice lines, as online shops export them",
    )
    sample.add_argument(
        "--tables-out", default=None, metavar="FOLDER",
        help="also write the company as a marketplace's normalised tables (orders without amounts, items, "
             "payments, per-order customer ids, people, reviews by order) into FOLDER",
    )
    sample.set_defaults(func=cmd_sample)

    for name, func, text in (
        ("process", cmd_process, "intake and segmentation: raw files -> processed tables"),
        ("reports", cmd_reports, "run the studies and write the HTML reports"),
        ("run", cmd_run, "process, then reports"),
        ("plan", cmd_plan, "list the studies a build would make"),
    ):
        command = sub.add_parser(name, help=text)
        command.add_argument("--config", default=str(paths.DEFAULT_CONFIG), help="study config (default: %(default)s)")
        if name != "plan":
            command.add_argument("--force", action="store_true", help="rebuild even when up to date")
        if name in {"reports", "run"}:
            command.add_argument("--quiet", action="store_true", help="no progress output")
        if name in {"reports", "run", "plan"}:
            command.add_argument(
                "--language", choices=i18n.LANGUAGES, default=None,
                help="only this report language (default: study.language and study.other_languages of the config)",
            )
        command.set_defaults(func=func)
    return parser


def _terminate(signum: int, _frame) -> None:
    # SIGTERM (a `kill`, a CI timeout) unwinds like Ctrl-C, so the report build stops its
    # workers and kernels on the way out instead of leaving them running.
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    """Run one `custseg` command; return its exit status.

    A problem the user can fix (a config error, unusable input, data a study cannot be made from,
    an output folder that cannot be written) ends with exit status 2 and one ``custseg: error:``
    message on stderr, with no traceback (``--debug`` shows it). A failed report build ends with
    1, an interrupt with 130.
    """
    args = build_parser().parse_args(argv)
    from custseg.config import ConfigError
    from custseg.files import OutputError
    from custseg.intake.cleaning import IntakeError

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminate)
    try:
        return args.func(args)
    except (ConfigError, IntakeError, OutputError, FileNotFoundError) as exc:
        if args.debug:
            raise
        # A user's mistake: say what to fix, without a traceback.
        print(f"custseg: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("custseg: interrupted; the outputs written so far are whole, the next run finishes the rest",
              file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`custseg plan | head`): what was asked for is printed, no traceback.
        # Python's own advice: point stdout at devnull so the interpreter's final flush cannot fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())
