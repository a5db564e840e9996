"""Clean line items held on disk in pieces (custseg.intake.spilled): engine: duckdb and spark keep them so."""

from __future__ import annotations

import gc
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from custseg.intake import spilled
from custseg.intake.spilled import PieceLines


def _lines(rows: np.ndarray, customer: str) -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": pd.array([customer] * len(rows), dtype="str"),
        "invoice_date": pd.to_datetime(2_000_000_000 + rows * 60, unit="s").astype("datetime64[s]"),
        "quantity": rows.astype("float64") / 4,
        "source_row": rows.astype("int64"),
        "reversal": rows % 7 == 0,
    })


def test_pieces_are_written_back_whole_in_the_files_order(tmp_path, monkeypatch):
    # more than DuckDB hands over at a time: with two threads it gives its row groups, 122,880 rows each
    monkeypatch.setattr(spilled, "BATCH_ROWS", 200_000)
    rows = np.random.default_rng(3).permutation(np.arange(2, 300_002))
    parts = [np.sort(rows[:200_000]), np.sort(rows[200_000:200_100]), np.sort(rows[200_100:])]
    lines = PieceLines(tmp_path / "the shop's spill", memory_limit="200MB", threads=2)  # a quote: SQL is quoted
    for i, part in enumerate(parts):
        lines.add(_lines(part, f"C{i}"))
    lines.add(_lines(np.array([], dtype="int64"), "none"))  # a piece without clean lines adds nothing
    assert len(lines) == 300_000 and len(lines.paths) == 3
    written = lines.write(tmp_path / "interim" / "line_items.parquet")
    expected = pd.concat([_lines(p, f"C{i}") for i, p in enumerate(parts)]).sort_values("source_row")
    expected = expected.reset_index(drop=True)
    back = pd.read_parquet(written)
    assert back["source_row"].tolist() == list(range(2, 300_002))
    pd.testing.assert_frame_equal(back, expected.astype({"invoice_date": "datetime64[ms]"}))  # Parquet: no seconds
    groups = pq.ParquetFile(written).metadata
    assert [groups.row_group(i).num_rows for i in range(groups.num_row_groups)] == [200_000, 100_000]
    # read whole or a piece at a time, the lines keep pandas' types
    pd.testing.assert_frame_equal(lines.frame(), expected)
    firsts = [piece["quantity"].iloc[0] for piece in lines.pieces(["quantity", "not a column"])]
    assert firsts == [parts[0][0] / 4, parts[1][0] / 4, parts[2][0] / 4]


def test_no_clean_line_at_all_gives_an_empty_table_of_the_lines_columns(tmp_path):
    lines = PieceLines(tmp_path)
    lines.add(_lines(np.array([], dtype="int64"), "none"))
    assert len(lines) == 0
    assert list(lines.frame().columns) == ["customer_id", "invoice_date", "quantity", "source_row", "reversal"]
    assert [len(p) for p in lines.pieces(["quantity"])] == [0]
    written = lines.write(tmp_path / "line_items.parquet")
    assert pd.read_parquet(written).empty


def test_the_pieces_are_removed_when_closed_collected_or_left_by_a_killed_run(tmp_path):
    lines = PieceLines(tmp_path)
    lines.add(_lines(np.arange(2, 10), "C1"))
    folder = lines.paths[0].parent
    assert folder.parent == tmp_path and folder.name.startswith(f"custseg-lines-{os.getpid()}-")
    lines.close()
    assert not folder.exists()
    with pytest.raises(RuntimeError, match="closed"):  # gone, not empty
        next(lines.pieces(["quantity"]))

    collected = PieceLines(tmp_path)
    collected.add(_lines(np.arange(2, 10), "C1"))
    folder = collected.paths[0].parent
    del collected
    gc.collect()
    assert not folder.exists()

    # a folder of a process that is gone is swept by the next run; a running process's is kept
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    left = tmp_path / f"custseg-lines-{int(gone.stdout)}-abc"
    (left / "spill").mkdir(parents=True)
    running = tmp_path / f"custseg-lines-{os.getpid()}-def"
    running.mkdir()
    PieceLines(tmp_path).close()
    assert not left.exists() and running.is_dir()
