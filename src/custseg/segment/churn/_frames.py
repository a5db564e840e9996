"""Column helpers the churn rules, backtest and watch list share."""

from __future__ import annotations

import numpy as np
import pandas as pd


def floats(frame: pd.DataFrame, column: str) -> np.ndarray:
    """A column as float64 with NaN for missing; all NaN when the column is absent."""
    if column not in frame:
        return np.full(len(frame), np.nan)
    return frame[column].to_numpy(dtype="float64", na_value=np.nan)


def require(frame: pd.DataFrame, columns: tuple[str, ...], what: str) -> None:
    """Raise ValueError naming the columns of `columns` that `frame` lacks, which `what` needs."""
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(
            f"the table has no column(s) {missing}, which {what} need(s); build the customer table "
            f"with custseg.segment.features"
        )
