"""Hostile input and faults on the output side (issue 14): CSV files safe to open in Excel, inputs
never touched, outputs whole and verified, config checked fully, clear errors instead of
tracebacks. Each case is a small input or config and the outcome it must give.

The kill-and-rerun cases are in tests/test_faults.py.
"""

from __future__ import annotations

import errno
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from custseg import files
from custseg.config import ConfigError, load_config
from custseg.exports import write_segment_export, write_watch_list
from custseg.intake.cleaning import IntakeError, run_intake, write_intake
from custseg.intake.quality import load_quality_data
from custseg.paths import PROJECT_ROOT
from custseg.pipeline import run, stale_reason

ORDERS = """order_id,customer_id,order_date,amount
O1,C1,2025-01-05,100.00
O2,C1,2025-02-05,40.00
O3,C2,2025-02-10,75.50
O4,C3,2025-03-01,12.00
"""

#: Strings a spreadsheet runs as a formula, with what the CSV must hold for each.
FORMULAS = {
    '=HYPERLINK("http://x","y")': '\'=HYPERLINK("http://x","y")',
    "@SUM(1+1)": "'@SUM(1+1)",
    "+1+1": "'+1+1",
    "-2+3": "'-2+3",
    "\tC9": "'\tC9",
    "\r=1+1": "'\r=1+1",
    "＝１＋１": "'＝１＋１",  # full width, read as a formula by some East Asian Excel versions
    "=cmd|' /C calc'!A0": "'=cmd|' /C calc'!A0",
}


def _quiet(*_args) -> None:
    return None


def _read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


# --- formula injection: every CSV we write ----------------------------------------------------

@pytest.mark.parametrize("value, written", FORMULAS.items(), ids=range(len(FORMULAS)))
def test_a_formula_in_a_text_cell_is_neutralised_and_comes_back(value, written):
    assert files.neutralise(value) == written
    assert files.restore(files.neutralise(value)) == value


@pytest.mark.parametrize("value", ["-12.5", "+3", "-3", "1e5", "C1", "'quoted", "''", "", "tier:high;segment:Lost"])
def test_plain_numbers_and_ordinary_text_are_left_alone(value):
    # a plain number evaluates to itself; a quote that was in the data is no formula
    assert files.neutralise(value) == value and files.restore(value) == value


@pytest.mark.parametrize("value, written", [
    ("'=already", "''=already"),
    ("''=twice", "'" * 3 + "=twice"),
    ("'-2+3", "''-2+3"),
])
def test_a_quote_before_a_formula_gets_one_more_so_the_prefix_comes_off_again(value, written):
    assert files.neutralise(value) == written and files.restore(written) == value


def test_customer_segments_csv_neutralises_ids_and_cities_but_not_numbers_or_parquet(tmp_path):
    customers = pd.DataFrame({
        "customer_id": ['=HYPERLINK("http://x","y")', "C2", "\tC3"],
        "city": ["@SUM(1+1)", "上海", "-2+3"],
        "tier": pd.Categorical(["+high", "mid", "low"]),
        "r_score": pd.array([5, -1, None], dtype="Int64"),
        "monetary_balance": [-12.5, 3.0, 0.0],
    })
    written = write_segment_export(customers, tmp_path)
    back = _read_csv(written["csv"]).set_index("city")
    assert back.loc["'@SUM(1+1)", "customer_id"] == '\'=HYPERLINK("http://x","y")'
    assert back.loc["'-2+3", "customer_id"] == "'\tC3"
    assert back.loc["'@SUM(1+1)", "tier"] == "'+high"  # a categorical column is text too
    assert back.loc["上海", "r_score"] == "-1"  # a number stays a number
    parquet = pd.read_parquet(written["parquet"])
    assert sorted(parquet["customer_id"]) == sorted(customers["customer_id"])  # Parquet as it was
    assert set(parquet["city"]) == {"@SUM(1+1)", "上海", "-2+3"}


def test_churn_watchlist_csv_neutralises_text_and_keeps_negative_amounts(tmp_path):
    watch = pd.DataFrame({
        # reasons as facts (churn.warnings), worded in English for the export; a tier name comes from the data
        "rank": [1, 2], "customer_id": ["+1+1", "C2"],
        "reasons": [[{"reason": "silence", "days": 100.0, "cadence": 30.0}],
                    [{"reason": "silence_limit", "days": 200.0, "limit": 180.0, "tier": "@low", "orders": 1.0,
                      "min_orders": 3}]],
        "value_at_risk": [-12.5, 40.0], "action": ["=call()", "e-mail"],
    })
    written = write_watch_list(watch, tmp_path)
    text = written["csv"].read_text(encoding="utf-8-sig")
    assert "'+1+1,'@trend" not in text  # not one cell
    back = _read_csv(written["csv"])
    assert back["customer_id"].tolist() == ["'+1+1", "C2"]
    assert back["reasons"].tolist() == [
        "silent 100 days, 3.3x own cadence of 30 days",
        "silent 200 days, over the 180-day limit for @low-tier customers with fewer than 3 orders",
    ]  # a reason starts with words, never with a formula sign
    assert back["action"].tolist() == ["'=call()", "e-mail"]
    assert back["value_at_risk"].tolist() == ["-12.5000", "40.0000"]
    assert pd.read_parquet(written["parquet"])["customer_id"].tolist() == ["+1+1", "C2"]


#: Cells that test how a CSV quotes: every ASCII character inside text, quotes, line ends, formulas
#: (neutralised first), wide and astral characters, empty and missing cells.
AWKWARD = [f"a{chr(code)}b" for code in range(128)] + [
    "", '"', '""', "x,y", "line\nbreak", "cr\ronly", "\r\n", " lead", "trail ", "上海", "＝１＋１", "😀",
    "\u2028sep", "\x85nel", "=1+1", "'=1+1", "-3", "-x", "'", "\t", *FORMULAS,
]


@pytest.mark.parametrize("frame", [
    pd.DataFrame({"text": pd.array(AWKWARD, dtype="str"), "n": range(len(AWKWARD))}),
    pd.DataFrame({"n": range(len(AWKWARD)), "text": pd.Series(AWKWARD, dtype=object)}),
    pd.DataFrame({"a,b": ["x", None, "y"], 'say "hi"': pd.array([None, "", "z"], dtype="str"),
                  "u": pd.array([1, 2**63, 0], dtype="uint64"), "i": [-(2**63), 0, 7]}),
    pd.DataFrame({"t": pd.Series([None, None], dtype=object), "s": pd.array([None, None], dtype="str")}),
    pd.DataFrame({"t": pd.array([], dtype="str"), "n": pd.array([], dtype="int64")}),
    # what the fast path leaves to pandas: one column, other types, numbers among the text
    pd.DataFrame({"only": ["", "x", None]}),
    pd.DataFrame({"t": ["=a", "b"], "f": [0.1, None], "b": [True, False], "d": pd.to_datetime(["2025-01-01", None])}),
    pd.DataFrame({"t": ["=a", 3, b"x", None], "c": pd.Categorical(["+x", "y", "y", None]),
                  "n": pd.array([1, None, 3, 4], dtype="Int64")}),
], ids=["str", "object", "missing", "all-missing", "empty", "one-column", "other-types", "mixed"])
def test_a_csv_is_written_byte_for_byte_as_pandas_writes_it(frame, tmp_path):
    # the text and whole numbers of big tables (a quarantine of millions of rows) are joined by Arrow
    path = files.write_csv(frame, tmp_path / "t.csv")
    expected = files.neutralise_frame(frame).to_csv(index=False, lineterminator="\n").encode("utf-8-sig")
    assert path.read_bytes() == expected


def test_a_csv_of_several_batches_is_written_whole(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "CSV_BATCH_ROWS", 7)
    frame = pd.DataFrame({"text": pd.array((AWKWARD * 2)[:100], dtype="str"), "n": range(100)})
    expected = files.neutralise_frame(frame).to_csv(index=False, lineterminator="\n").encode("utf-8-sig")
    assert files.write_csv(frame, tmp_path / "t.csv").read_bytes() == expected


def test_a_pipeline_run_writes_no_formula_into_any_csv(write_csv, write_config):
    """Ids, a city and a quarantined value that are formulas, through intake and the pipeline: no
    CSV cell starts like a formula, the Parquet tables hold the values as read."""
    orders = write_csv("orders.csv", ORDERS + '"=HYPERLINK(""http://x"",""y"")",C4,2025-03-02,30.00\n'
                       + 'O6,@SUM(1+1),2025-03-03,=1+1\n' + "O7,-2+3,2025-03-04,-12.50\n")
    customers = write_csv("customers.csv", "customer_id,city\nC1,@SUM(A1:A9)\nC2,Shanghai\n")
    config = load_config(write_config({"orders": str(orders), "customers": str(customers)},
                                      cleaning={"stop_on": []}, observation_date="2025-03-10"))
    run(config, echo=_quiet)
    csvs = sorted([*config.output.interim.glob("*.csv"), *config.output.exports.glob("*.csv")])
    assert {p.name for p in csvs} >= {"quarantine.csv", "accounting.csv", "columns.csv", "reversals.csv",
                                      "reversal_matches.csv", "customer_segments.csv", "churn_watchlist.csv"}
    for path in csvs:
        for column, values in _read_csv(path).items():
            bad = [v for v in values if files.needs_neutralising(v) and not v.startswith("'")]
            assert bad == [], f"{path.name}:{column} holds {bad}"
    segments = _read_csv(config.output.exports / "customer_segments.csv").set_index("customer_id")
    assert segments.loc["C1", "city"] == "'@SUM(A1:A9)"
    assert "'-2+3" in segments.index  # its return is netted, the customer is listed
    quarantine = _read_csv(config.output.interim / "quarantine.csv")
    assert quarantine[["row", "reason", "column", "value"]].values.tolist() == [["7", "bad_number", "amount", "'=1+1"]]
    # the Parquet copies and the data-quality page read the values as they were
    ids = set(pd.read_parquet(config.output.interim / "orders.parquet")["order_id"])
    assert "=HYPERLINK(\"http://x\",\"y\")" in ids
    assert load_quality_data(config).quarantine["value"].tolist() == ["=1+1"]


def test_a_mapped_header_that_is_a_formula_is_neutralised_in_columns_csv(write_csv, write_config):
    header = "=cmd|' /C calc'!A0"
    text = ORDERS.replace("amount", '"' + header + '"', 1)
    config = load_config(write_config({"orders": {"path": str(write_csv("orders.csv", text)),
                                                  "columns": {"amount": header}}}))
    write_intake(run_intake(config), config.output.interim)
    columns = _read_csv(config.output.interim / "columns.csv")
    assert columns.loc[columns["column"] == "amount", "source_header"].item() == "'" + header


def test_reversal_matches_csv_neutralises_order_ids(write_csv, write_config):
    text = (
        "order_id,customer_id,order_date,amount\n-O1,C1,2025-01-05,50.00\n@R1,C1,2025-01-09,-50.00\n"
        "O2,C2,2025-01-06,20\n"
    )
    config = load_config(write_config({"orders": str(write_csv("orders.csv", text))}))
    write_intake(run_intake(config), config.output.interim)
    matches = _read_csv(config.output.interim / "reversal_matches.csv")
    assert len(matches) == 1
    cells = set(matches.to_numpy().ravel())
    assert "'-O1" in cells and "'@R1" in cells and "-O1" not in cells


# --- inputs are never touched ------------------------------------------------------------------

def _raw_config(tmp_path: Path, output: dict) -> Path:
    import yaml

    (tmp_path / "data" / "raw").mkdir(parents=True, exist_ok=True)
    (tmp_path / "data" / "raw" / "orders.csv").write_text(ORDERS, encoding="utf-8")
    keys = ("interim", "processed", "reports", "build", "exports")
    config = {"study": {"name": "t", "title": "T"}, "inputs": {"orders": "data/raw/orders.csv"},
              "output": {key: f"data/out/{key}" for key in keys} | output}
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


@pytest.mark.parametrize("key, folder, relation", [
    ("interim", "data/raw", "is"),
    ("reports", "data", "contains"),
    ("exports", ".", "contains"),
    ("processed", "data/raw/processed", "is inside"),
    ("build", "data/raw/../raw/build", "is inside"),
])
def test_an_output_folder_at_the_inputs_is_a_config_error_naming_both(tmp_path, key, folder, relation):
    path = _raw_config(tmp_path, {key: folder})
    with pytest.raises(ConfigError) as err:
        load_config(path)
    message = str(err.value)
    out = (tmp_path / folder).resolve()
    assert f"output.{key} {out} {relation} the folder of inputs.orders ({tmp_path / 'data' / 'raw'})" in message
    assert (tmp_path / "data" / "raw" / "orders.csv").read_text(encoding="utf-8") == ORDERS


def test_outputs_beside_the_inputs_are_fine_and_every_bundled_config_passes(tmp_path):
    assert load_config(_raw_config(tmp_path, {})).output.interim == tmp_path / "data" / "out" / "interim"
    for path in sorted((PROJECT_ROOT / "config").glob("*.yaml")):
        load_config(path)  # the sample's data/raw/sample against data/interim/sample ...


# --- the config, checked fully -------------------------------------------------------------------

@pytest.mark.parametrize("overrides, message", [
    ({"tiers": {"min_scores": [100, 50]}},
     r"tiers\.min_scores \[100\.0, 50\.0\]: 100 is out of reach; the weighted RFM total runs from 3 to 15"),
    ({"tiers": {"min_scores": [12, 3]}}, r"3 is out of reach.*above 3 and at most 15"),
    ({"tiers": {"bins": 3, "min_scores": [10, 6]}}, r"10 is out of reach; the weighted RFM total runs from 3 to 9"),
    ({"tiers": {"weights": {"r": 2, "f": 1, "m": 1}, "min_scores": [21, 8]}}, r"21 is out of reach.*from 4 to 20"),
    ({"studies": {"workers": -1}}, r"studies\.workers: Input should be greater than or equal to 1"),
    ({"studies": {"workers": 0}}, r"studies\.workers: Input should be greater than or equal to 1"),
    ({"churn": {"playbook": {"hihg": "call"}}}, r"churn\.playbook names tier\(s\) \['hihg'\]"),
    ({"churn": {"silence_days_by_tier": {"midd": 60}}}, r"churn\.silence_days_by_tier names tier\(s\) \['midd'\]"),
    ({"playbook": {"lwo": [{"topic": "t", "action": "a"}]}}, r"playbook names tier\(s\) \['lwo'\]"),
    ({"tiers": {"names": ["vip", "high", "mid", "low"], "min_scores": [14, 12, 8]},
      "churn": {"playbook": {"high": "call", "gold": "visit"}}}, r"churn\.playbook names tier\(s\) \['gold'\]"),
    ({"tiers": {"method": "thresholds", "rules": [{"recency_max_days": -5}, {"frequency_min": 2}]}},
     r"recency_max_days: Input should be greater than or equal to 0"),
    ({"tiers": {"method": "value_share", "revenue_shares": [0.7, 0.4]}}, r"add up to less than 1"),
])
def test_config_values_out_of_range_are_errors_naming_the_key(write_config, overrides, message):
    path = write_config({"orders": "o.csv"}, **overrides)
    with pytest.raises(ConfigError, match=message) as err:
        load_config(path)
    assert str(path) in str(err.value) and "Value error, " not in str(err.value)


def test_thresholds_inside_the_reach_of_the_scores_are_accepted(write_config):
    config = load_config(write_config({"orders": "o.csv"}, tiers={"weights": {"r": 2, "f": 1, "m": 1, "i": 1},
                                                                  "min_scores": [25, 5.5]}))
    assert config.tiers.min_scores == [25, 5.5]


def test_a_misspelt_kernel_is_one_config_error_before_any_study_runs(processed_tiny, monkeypatch):
    from custseg.report import build as reports

    config, _ = processed_tiny
    typo = config.model_copy(update={"studies": config.studies.model_copy(update={"kernel": "pyhton3"})})
    monkeypatch.setattr(reports, "_run_tasks", lambda *a, **k: pytest.fail("a study ran"))
    with pytest.raises(ConfigError, match=r"studies\.kernel: no Jupyter kernel named 'pyhton3' is installed; "
                                          r"installed kernels are \[.*'python3'.*\]"):
        reports.build_reports(typo, echo=_quiet, progress=False)


# --- clear errors, never a traceback or an empty success ------------------------------------------

def _cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT / "src")}
    return subprocess.run([sys.executable, "-m", "custseg.cli", *args], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=300)


def test_all_rows_quarantined_is_one_clear_line_with_the_reasons(write_csv, write_config):
    text = (
        "order_id,customer_id,order_date,amount\nO1,C1,2025-01-05,12,5\nO2,C2,2025-01-06,abc\n"
        "O2,C2,2025-01-06,abc\nO3,,2025-01-07,5\n"
    )
    orders = write_csv("orders.csv", text.replace("12,5", '"12,5x"'))
    config_path = write_config({"orders": str(orders)}, cleaning={"stop_on": []})
    done = _cli("process", "--config", str(config_path))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [
        f"custseg: error: {orders}: no clean rows: all 3 rows that are not exact duplicates were quarantined, "
        f"2 as bad_number, 1 as missing_id (row 2: amount '12,5x' (bad_number); row 3: amount 'abc' (bad_number); "
        f"row 5: customer_id '' (missing_id)). To go on, check the column mapping (inputs.orders.columns) and "
        f"inputs.orders.decimal, or fix the file; each row and its reason is in "
        f"{load_config(config_path).output.interim / 'quarantine.csv'}"
    ]
    assert len(_read_csv(load_config(config_path).output.interim / "quarantine.csv")) == 3


def test_a_file_with_a_header_only_has_no_clean_rows(write_csv, write_config):
    header_only = write_csv("orders.csv", "order_id,customer_id,order_date,amount\n")
    config = load_config(write_config({"orders": str(header_only)}))
    with pytest.raises(IntakeError, match=r"orders\.csv: no clean rows: the file has a header but no rows of data"):
        run(config, echo=_quiet)


def test_line_items_that_make_no_order_are_one_clear_error(write_csv, write_config):
    lines = "InvoiceNo,StockCode,Quantity,UnitPrice,InvoiceDate,CustomerID\n100,POST,1,18.00,2025-12-01 08:26,K1\n"
    spec = {"path": str(write_csv("lines.csv", lines)), "date_format": "%Y-%m-%d %H:%M",
            "columns": {"invoice": "InvoiceNo", "item": "StockCode", "quantity": "Quantity", "unit_price": "UnitPrice",
                        "invoice_date": "InvoiceDate", "customer_id": "CustomerID"}}
    config = load_config(write_config({"line_items": spec}))
    with pytest.raises(IntakeError, match=r"lines\.csv: no orders: none of the 1 clean rows makes an order"):
        run(config, echo=_quiet)


def test_all_orders_cancelled_or_refunded_means_no_purchases(write_csv, write_config):
    text = (
        "order_id,customer_id,order_date,amount,status\nO1,C1,2025-01-05,10,cancelled\n"
        "O2,C2,2025-01-06,20,已退款\nO3,C2,2025-01-07,5,void\n"
    )
    config = load_config(write_config({"orders": str(write_csv("orders.csv", text))}))
    with pytest.raises(IntakeError, match=r"orders\.csv: no purchases: none of the 3 clean orders is a completed "
                                          r"purchase \(2 cancelled, 1 refunded\)"):
        run(config, echo=_quiet)
    assert not (config.output.processed / "study.json").exists()


@pytest.mark.parametrize("date, message", [
    ("2020-01-01",
     r"observation_date 2020-01-01 is not after the first purchase \(2025-01-05\).*from 2025-01-05 to 2025-03-01"),
    ("2025-01-05", r"observation_date 2025-01-05 is not after the first purchase"),
    ("2030-01-01", r"observation_date 2030-01-01 is more than churn\.lost_after_days \(365\) after the last purchase "
                   r"\(2025-03-01\).*up to 2026-03-01"),
])
def test_an_observation_date_outside_the_data_is_a_config_error(write_csv, write_config, date, message):
    config = load_config(write_config({"orders": str(write_csv("orders.csv", ORDERS))}, observation_date=date))
    with pytest.raises(ConfigError, match=message):
        run(config, echo=_quiet)


def test_an_observation_date_after_the_last_purchase_but_within_reach_is_allowed(write_csv, write_config):
    config = load_config(write_config({"orders": str(write_csv("orders.csv", ORDERS))}, observation_date="2025-09-01"))
    run(config, echo=_quiet)
    meta = json.loads((config.output.processed / "study.json").read_text(encoding="utf-8"))
    assert meta["observation_date"] == "2025-09-01" and meta["customers"] == 3


@pytest.mark.parametrize("code", [errno.EROFS, errno.ENOSPC, errno.EACCES])
def test_a_read_only_or_full_output_folder_is_one_line_and_leaves_the_old_file(tmp_path, monkeypatch, code):
    target = tmp_path / "exports" / "customer_segments.csv"
    files.write_text(target, "old\n")

    def refuse(source, destination):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(files.os, "replace", refuse)
    with pytest.raises(files.OutputError) as err:
        files.write_csv(pd.DataFrame({"a": [1]}), target)
    assert str(err.value) == f"cannot write {target}: {os.strerror(code)} ({errno.errorcode[code]})"
    assert target.read_text() == "old\n" and os.listdir(target.parent) == ["customer_segments.csv"]


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0,
                    reason="runs as root, which writes into a read-only folder anyway; the simulated EROFS/EACCES "
                           "cases above cover the error path")
def test_a_chmod_read_only_output_folder_is_one_line(tmp_path):
    folder = tmp_path / "exports"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(files.OutputError, match=rf"cannot write {folder}/x\.csv: Permission denied \(EACCES\)"):
            files.write_csv(pd.DataFrame({"a": [1]}), folder / "x.csv")
    finally:
        folder.chmod(0o755)


def test_an_output_folder_that_is_a_file_ends_the_cli_with_one_line(write_csv, write_config, tmp_path):
    blocker = tmp_path.with_name(f"{tmp_path.name}-blocker")
    blocker.write_text("not a folder", encoding="utf-8")
    config_path = write_config({"orders": str(write_csv("orders.csv", ORDERS))}, output={
        key: str(blocker / key) if key == "interim" else str(tmp_path.with_name(f"{tmp_path.name}-out") / key)
        for key in ("interim", "processed", "reports", "build", "exports")
    })
    done = _cli("process", "--config", str(config_path))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.startswith(f"custseg: error: cannot write {blocker / 'interim'}/")
    assert done.stderr.count("\n") == 1
    debug = _cli("--debug", "process", "--config", str(config_path))
    assert "Traceback" in debug.stderr  # --debug shows where


# --- the up-to-date check verifies what it trusts ------------------------------------------------

@pytest.fixture
def processed_once(write_csv, write_config):
    config = load_config(write_config({"orders": str(write_csv("orders.csv", ORDERS))}, observation_date="2025-03-10"))
    run(config, echo=_quiet)
    assert stale_reason(config) is None
    return config


@pytest.mark.parametrize("damage, reason", [
    (lambda c: (c.output.processed / "customers.parquet").write_bytes(b"PAR1 torn"),
     r"customers\.parquet changed since it was written"),
    (lambda c: (c.output.processed / "orders.parquet").unlink(), r"orders\.parquet is missing"),
    (lambda c: (c.output.interim / "quarantine.csv").write_text("edited", encoding="utf-8"),
     r"quarantine\.csv changed"),
    (lambda c: (c.output.exports / "customer_segments.csv").unlink(), r"customer_segments\.csv is missing"),
    (lambda c: (c.output.processed / "study.json").write_text("{", encoding="utf-8"),
     r"study\.json is not readable JSON"),
])
def test_a_damaged_output_is_rebuilt_with_a_line_saying_why(processed_once, damage, reason):
    config = processed_once
    good = (config.output.processed / "customers.parquet").read_bytes()
    damage(config)
    lines = []
    run(config, echo=lines.append)
    assert any(line.startswith(f"rebuilding {config.output.processed}: ") for line in lines)
    assert re.search(reason, lines[0])
    assert stale_reason(config) is None
    assert (config.output.processed / "customers.parquet").read_bytes() == good


def test_a_study_json_of_an_older_custseg_is_not_trusted(processed_once):
    config = processed_once
    meta_path = config.output.processed / "study.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    del meta["files"]
    meta_path.write_text(json.dumps(meta), encoding="utf-8")
    assert "does not list the files it vouches for" in stale_reason(config)


def test_temporary_files_of_a_dead_process_are_swept_and_a_live_ones_kept(tmp_path):
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = child.stdout.strip()
    (tmp_path / f"a.parquet.tmp-{dead}").write_bytes(b"half")
    (tmp_path / f"b.parquet.tmp-{os.getpid()}").write_bytes(b"mine")
    assert files.sweep_temporary(tmp_path) == [tmp_path / f"a.parquet.tmp-{dead}"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"b.parquet.tmp-{os.getpid()}"]
