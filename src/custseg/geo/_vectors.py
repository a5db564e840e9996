"""Text keys and vectorising helpers of custseg.geo: every lookup works on a column's distinct
values and maps the answers back, so a big table with a few hundred spellings costs about as much
as the spellings. Private to :mod:`custseg.geo`."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from custseg.geo._placenames import normalize_key

STRING = pd.StringDtype()  # missing values are pd.NA
_WHITESPACE = re.compile(r"\s+")


def compact_key(value: str) -> str:
    # Subdivision spellings vary in spacing and punctuation ("Nei Mongol", "Neimenggu",
    # "Washington, D.C."), so they are compared without either; country keys keep theirs, as
    # the many country names with commas ("Korea, Republic of") are matched whole.
    return normalize_key(value).replace(" ", "").replace(",", "")


def clean_text(value: str) -> str | None:
    # Display form of a free-text value (city, foreign province): NFKC, trimmed, single spaces,
    # but case and punctuation kept as the customer typed them.
    text = _WHITESPACE.sub(" ", unicodedata.normalize("NFKC", value)).strip()
    return text or None


def _as_text(value: Any) -> str | None:
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return None
    return value if isinstance(value, str) else str(value)


def check_series(value: object, name: str) -> None:
    if not isinstance(value, pd.Series):
        raise TypeError(f"{name} must be a pandas Series, got {type(value).__name__}")


def check_aligned(**series: pd.Series) -> None:
    for name, value in series.items():
        check_series(value, name)
    (first_name, first), *others = series.items()
    for name, value in others:
        if len(value) != len(first):
            raise ValueError(
                f"{name} has {len(value)} rows but {first_name} has {len(first)}; pass one value per row"
            )
        if not value.index.equals(first.index):
            raise ValueError(f"{name} and {first_name} have different indexes; align them first (e.g. .reindex)")


def _unique_rows(*columns: pd.Series) -> tuple[np.ndarray, list[tuple[str | None, ...]]]:
    """Codes of the distinct value tuples across aligned columns, and those tuples.

    The work of every public function happens once per distinct tuple, not once per row.
    """
    combined = np.zeros(len(columns[0]), dtype=np.int64)
    steps = []
    for column in columns:
        codes, uniques = pd.factorize(column, use_na_sentinel=True)
        width = len(uniques) + 1  # code 0 stands for a missing value
        # Re-factorising after each column keeps the combined code below the row count: no overflow.
        combined, keys = pd.factorize(combined * width + codes + 1)
        steps.append(([_as_text(value) for value in uniques], width, np.asarray(keys, dtype=np.int64)))
    # Decode each distinct combined code back into one value per column, last column first.
    position = np.arange(len(steps[-1][2]) if steps else 0)
    values: list[list[str | None]] = []
    for uniques, width, keys in reversed(steps):
        key = keys[position]
        values.append([uniques[code - 1] if code else None for code in (key % width).tolist()])
        position = key // width
    return combined, list(zip(*reversed(values), strict=True))


def _spread(per_unique: Sequence[str | None], codes: np.ndarray) -> pd.api.extensions.ExtensionArray:
    return pd.array(list(per_unique), dtype=STRING).take(codes)


def map_rows(
    columns: Sequence[pd.Series], fields: Sequence[str], solve: Callable[..., Sequence[str | None]]
) -> pd.DataFrame:
    """Apply `solve` to each distinct row of `columns`; it returns one value per name in `fields`."""
    codes, uniques = _unique_rows(*columns)
    answers = [solve(*row) for row in uniques]
    data = {field: _spread([answer[i] for answer in answers], codes) for i, field in enumerate(fields)}
    return pd.DataFrame(data, index=columns[0].index)
