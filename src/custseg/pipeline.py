"""The data pipeline: raw files -> clean tables -> the customer table every study reads.

Each step writes its outputs once; notebooks only read them. A run whose inputs, config and
package code are unchanged since the last one is skipped (see :func:`is_current`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

import custseg
from custseg import files, paths, processed, words
from custseg.config import Config, ConfigError, DatabaseInput, QueryInput, TableInput
from custseg.exports import write_segment_export, write_watch_list
from custseg.intake.cleaning import CleanTables, IntakeError, format_accounting, run_intake, write_intake
from custseg.intake.database import database_fingerprint
from custseg.intake.gathering import matched_files
from custseg.intake.query import input_location, query_fingerprint
from custseg.intake.readers import ReadError
from custseg.intake.spilled import PieceLines
from custseg.segment import demographics
from custseg.segment.features import default_observation_date, net_values, purchases_at
from custseg.segment.groups import assign_groups
from custseg.segment.retention import Retention, assess
from custseg.segment.step import segment

#: SHA-256 of a file (kept here under its old name: reports and tests import it from here).
file_digest = files.file_digest

#: The output folders a pipeline run writes, by their key in ``output``; study.json lists the
#: digest of every file the run wrote in each.
WRITTEN_FOLDERS = ("interim", "processed", "exports")


def data_fingerprint(config: Config) -> str:
    """One hash over every configured input: identifies the data a report was built from.

    A file counts by its bytes; a query over files by its SQL and every source file's bytes; a
    database query by its text and the rows it returns now (the database is asked each time); a
    table of Spark's catalog by its name, columns and every row's text (Spark reads it each time).
    """
    digest = hashlib.sha256()
    for name, spec in sorted(config.inputs.present().items()):
        if isinstance(spec, QueryInput):
            part = f"sql {query_fingerprint(name, spec)}"
        elif isinstance(spec, DatabaseInput):
            part = f"database {database_fingerprint(name, spec)}"
        elif isinstance(spec, TableInput):
            from custseg.intake import scaled  # reads with Spark, an optional extra: imported when asked for

            part = f"table {scaled.table_fingerprint(name, spec, config)}"
        else:
            # every file a pattern matches, by name: a new month's export, or one removed, rebuilds
            try:
                found = matched_files(spec.path) if spec.is_many() else [spec.path]
            except ReadError as exc:  # the pattern matches no file (any more): the user's to fix, no traceback
                raise IntakeError(f"{name}: {exc}") from None
            parts = [file_digest(found[0])] if found == [spec.path] else [f"{p.name}={file_digest(p)}" for p in found]
            part = " ".join(parts)
        digest.update(f"{name}:{part}\n".encode())
    return digest.hexdigest()[:16]


def code_fingerprint() -> str:
    """Hash of the package's own files, so a code change re-runs the pipeline."""
    digest = hashlib.sha256()
    for path in sorted(paths.PACKAGE_DIR.rglob("*")):
        if path.is_file() and path.suffix in {".py", ".csv", ".j2", ".css", ".js", ".json"}:
            digest.update(path.relative_to(paths.PACKAGE_DIR).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def run_fingerprint(config: Config) -> str:
    """What the processed data depends on: input data, config and code."""
    return f"{data_fingerprint(config)}-{config.fingerprint()}-{code_fingerprint()}"


def is_current(config: Config) -> bool:
    """True when the processed data was built from exactly these inputs, config and code, and
    every file the run wrote is still there as it wrote it (see :func:`stale_reason`)."""
    return stale_reason(config) is None


def stale_reason(config: Config) -> str | None:
    """Why the outputs of the last run cannot be trusted, or None when they can.

    study.json is written last and lists the SHA-256 of every file the run wrote (interim,
    processed, exports); a run killed halfway, a file deleted, torn or edited since, or changed
    inputs, config or code each give a reason, so the next run rebuilds instead of saying
    "up to date" over a corrupt file.

    Returns
    -------
    str or None
        A short reason ("no processed data yet", "customers.parquet changed since it was
        written"...), None when everything is current.
    """
    meta_path = processed.meta_path(config)
    if not meta_path.is_file():
        return "no processed data yet"
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        return f"{meta_path} is not readable JSON"
    if not isinstance(meta, dict) or not isinstance(meta.get("files"), dict):
        return f"{meta_path} does not list the files it vouches for (written by an older custseg)"
    if meta.get("run_fingerprint") != run_fingerprint(config):
        return "the inputs, the config or the code changed"
    for key in WRITTEN_FOLDERS:
        folder = getattr(config.output, key)
        for name, digest in sorted((meta["files"].get(key) or {}).items()):
            path = folder / name
            if not path.is_file():
                return f"{path} is missing"
            if file_digest(path) != digest:
                return f"{path} changed since it was written (torn or edited)"
    return None


def build_orders(orders: pd.DataFrame, customers: pd.DataFrame, observation_date: dt.date) -> pd.DataFrame:
    """Orders before the observation date, as known then, with each customer's region and tier.

    A purchase undone by a reversal only on or after the observation date is still ``completed``
    here; ``net_value`` is what a purchase is worth once the reversals known by then are taken
    off (0 for orders that are no purchase).
    """
    before = (orders["order_date"] < pd.Timestamp(observation_date)).to_numpy(dtype=bool, na_value=False)
    bought = purchases_at(orders, observation_date)
    net = np.zeros(len(orders))
    net[bought] = net_values(orders, bought, observation_date)
    status = orders["status"].where(~bought, "completed")
    past = orders.assign(status=status, net_value=net).loc[before]
    keys = customers[["customer_id", "region", "market", "tier"]]
    columns = ["order_id", "customer_id", "order_date", "category", "status", "amount_base", "revenue", "net_value"]
    return past[columns].merge(keys, on="customer_id", how="left", validate="many_to_one")


def run(config: Config, *, force: bool = False, echo=print) -> Path:
    """Run intake and segmentation; write interim and processed outputs.

    Parameters
    ----------
    config
        The study config.
    force
        Re-run even when the processed data is current.
    echo
        Where progress lines go (``print`` on the command line).

    Returns
    -------
    Path
        The processed folder.
    """
    out = config.output
    reason = stale_reason(config)
    if not force and reason is None:
        echo(f"processed data in {out.processed} is up to date")
        return out.processed
    if not force and processed.meta_path(config).is_file():
        echo(f"rebuilding {out.processed}: {reason}")
    for key in WRITTEN_FOLDERS:  # what a killed run left half-written
        files.sweep_temporary(getattr(out, key))
    try:
        result = run_intake(config)
    except IntakeError as exc:
        if exc.result is None:
            raise
        # every row is accounted for: the quarantine is written, then the error says where it is
        write_intake(exc.result, out.interim)
        raise IntakeError(f"{exc}; each row and its reason is in {out.interim / 'quarantine.csv'}") from None
    written = {"interim": write_intake(result, out.interim)}
    echo("intake accounting (rows read = clean + quarantined + duplicates removed):")
    echo(format_accounting(result.accounting, result.sources))
    orders = result.tables["orders"]
    check_purchases(result, config)  # the quarantine is written first: it says why
    observation_date = check_observation_date(config, orders)
    result_tables = {name: frame for name, frame in result.tables.items() if name != "line_items"}
    lines = result.tables.get("line_items")
    # written already: the quarantine (a row per guest line of a shop's export, 20M rows in 100M
    # lines) is read by nothing after this
    del result
    started = time.perf_counter()
    done = segment(result_tables, config, observation_date, lines=lines)
    if isinstance(lines, PieceLines):  # engine: duckdb or spark kept them on disk until now
        lines.close()
    del lines  # the line items (the largest table) are read by nothing after segment
    seconds = time.perf_counter() - started
    started = time.perf_counter()
    retention = assess(result_tables, done.customers, config, observation_date)
    retention_seconds = time.perf_counter() - started
    # named groups read any column of the finished table (attributes, tiers, clusters, churn, value)
    customers = assign_groups(retention.customers, config.groups, config.studies.by, config.demographics.bands)
    order_table = build_orders(orders, customers, observation_date)

    tables = {
        "customers": customers,
        "orders": order_table,
        "category_shares": done.category_shares,
        "snapshots": done.snapshots,
        "tier_effect": done.tier_effect,
        "watch_list": retention.watch_list,
        "churn_metrics": retention.backtest.metrics,
        "churn_calibration": retention.backtest.calibration,
        "churn_importance": retention.backtest.importances,
        "churn_rules": retention.rules,
        **_value_backtest_tables(retention),
        "demographics": demographics.base_profile(customers, config.demographics, list(config.tiers.names),
                                                  retention.watch_list),
    }
    if done.clusters is not None:
        tables |= {"cluster_profile": done.clusters.profile, "cluster_selection": done.clusters.selection}
    processed.remove_cluster_tables(out.processed)  # from an earlier run with clusters
    written["processed"] = {name: processed.write_table(out.processed, name, frame) for name, frame in tables.items()}
    exported = write_segment_export(customers, out.exports, done.clusters.names if done.clusters else None)
    watch_export = write_watch_list(retention.watch_list, out.exports, retention.value_basis)
    written["exports"] = {**{f"segments_{k}": v for k, v in exported.items()},
                          **{f"watch_list_{k}": v for k, v in watch_export.items()}}
    clusters = done.clusters
    facts = retention.summary()
    meta = processed.StudyMeta(
        study=config.study.name,
        title=config.study.title,
        language=config.study.language,
        observation_date=observation_date.isoformat(),
        base_currency=config.currency.base,
        region_level=config.regions.level,
        mask_ids=config.studies.mask_ids,
        tiers=list(config.tiers.names),
        inputs=list(config.inputs.present()),  # which tables the study had, for what is missing
        customers=int(len(customers)),
        orders=int(len(order_table)),
        clusters=processed.Clusters(
            method=config.clusters.method,
            k=int(clusters.k) if clusters else 0,
            names={str(k): v for k, v in clusters.names.items()} if clusters else {},
            seed=config.clusters.seed,
            note=done.cluster_note,
            # how the features were prepared and k was chosen, for the k-selection chart
            log=list(clusters.log_columns) if clusters else [],
            clip_iqr=config.clusters.clip_iqr,
            clipped=clusters.clipped if clusters else {},
            min_share=config.clusters.min_share,
            min_share_met=clusters.min_share_met if clusters else None,
        ),
        snapshot_dates=[d.isoformat() for d in done.snapshot_dates],
        churn=processed.ChurnSummary(**facts["churn"]),
        value=processed.ValueSummary(**facts["value"]),
        watch_list=facts["watch_list"],
        config_fingerprint=config.fingerprint(),
        data_fingerprint=data_fingerprint(config),
        run_fingerprint=run_fingerprint(config),
        custseg_version=custseg.__version__,
        # what this run wrote, so the next one can check it is all still there (stale_reason)
        files={
            key: {path.name: file_digest(path) for path in sorted(made.values())}
            for key, made in written.items()
        },
    )
    processed.write_meta(out.processed, meta)  # last: it vouches for the files above
    fitted = f"{done.clusters.k if done.clusters else 'no'} clusters"
    if done.clusters and done.cluster_note:  # fitted, but short of clusters.min_share
        fitted += f" ({words.cluster_note(done.cluster_note, clause=True)})"
    echo(
        f"{len(customers):,} customers, {len(order_table):,} orders, {fitted}, "
        f"{len(done.snapshot_dates)} snapshots in {seconds:.1f} s -> {out.processed}; CRM export {exported['csv']}"
    )
    test = retention.backtest
    echo(
        f"churn model: {words.model_choice(test.choice) or words.churn_model_note(test.note)}; "
        f"{len(retention.watch_list):,} customers on the watch list {watch_export['csv']} ({retention_seconds:.1f} s)"
    )
    return out.processed


def check_purchases(result: CleanTables, config: Config) -> None:
    """Raise IntakeError when the clean orders hold no purchase a study could be made from.

    Without the check, an export whose every row was quarantined (a wrong column mapping, a
    decimal comma) or whose every order was cancelled gave either a traceback or a "successful"
    run with empty exports and pages.

    Raises
    ------
    IntakeError
        Naming the file, how many rows were read and why they were set aside: no clean rows
        (with the quarantine's reasons) or no purchases (with the statuses of the clean orders).
    """
    name = "orders" if config.inputs.orders is not None else "line_items"
    path = input_location(name, getattr(config.inputs, name))
    orders = result.tables["orders"]
    row = result.accounting.loc[result.accounting["table"] == name, ["rows_read", "clean"]].sum()  # all its files
    if orders.empty:
        # a file whose every row was quarantined is refused by intake, with the reasons; left
        # are a file without rows and line items that made no order (postage only, say)
        if int(row["rows_read"]) == 0:
            raise IntakeError(f"{path}: no clean rows: the file has a header but no rows of data")
        raise IntakeError(
            f"{path}: no orders: none of the {int(row['clean']):,} clean rows makes an order (lines of items in "
            "cleaning.non_product_items add to no order unless cleaning.non_product_lines is include)"
        )
    if not purchases_at(orders, None).any():
        statuses = ", ".join(f"{count:,} {status}" for status, count in orders["status"].value_counts().items())
        raise IntakeError(
            f"{path}: no purchases: none of the {len(orders):,} clean orders is a completed purchase ({statuses}); "
            "a study needs completed orders (cleaning.statuses says which status values count as completed)"
        )


def check_observation_date(config: Config, orders: pd.DataFrame) -> dt.date:
    """The observation date of the study: the configured one, checked against the data, or the
    day after the last purchase.

    A date on or before the first purchase leaves no customer to study; one more than
    ``churn.lost_after_days`` after the last purchase makes every customer lost. Both are
    config errors rather than a study of nobody. Any date between is allowed, also after the
    last purchase (an export taken a while ago, studied as of today).

    Raises
    ------
    ConfigError
        Naming ``observation_date``, the config file and the dates of the first and last purchase.
    """
    default = default_observation_date(orders)
    date = config.observation_date
    if date is None:
        return default
    bought = orders["order_date"][purchases_at(orders, None)]
    first, last = bought.min().date(), bought.max().date()
    if date <= first:
        raise ConfigError(
            f"{config.source}: observation_date {date} is not after the first purchase ({first}): no customer "
            f"had bought by then; the purchases run from {first} to {last} (leave observation_date empty "
            f"for the day after the last one, {default})"
        )
    latest = last + dt.timedelta(days=config.churn.lost_after_days)
    if date > latest:
        raise ConfigError(
            f"{config.source}: observation_date {date} is more than churn.lost_after_days "
            f"({config.churn.lost_after_days}) after the last purchase ({last}): every customer would be lost; "
            f"the purchases run from {first} to {last} (choose a date up to {latest}, or leave observation_date "
            f"empty for {default})"
        )
    return date


def _value_backtest_tables(retention: Retention) -> dict[str, pd.DataFrame]:
    """The value models' backtest as tables: predicted against actual per group, and the candidates."""
    check = retention.value_backtest
    if check is None:
        return {}
    groups = check.groups.astype({"kind": "str", "group": "str"})
    candidates = check.candidates.astype({"model": "str", "order_value_purchases": "str", "order_values": "str",
                                          "failed": "str", "penalizer": "float64", "chosen": "bool"})
    return {"value_backtest": groups, "value_candidates": candidates}

