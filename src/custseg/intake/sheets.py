"""The quarantine and the accounting as people read them: ``quarantine.csv``'s worded rows and the
accounting printed at the end of an intake run (the facts themselves are made in
:mod:`custseg.intake.cleaning`)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from custseg import i18n, words
from custseg.intake import gathering
from custseg.intake.validation import QUARANTINE_COLUMNS


def quarantine_sheet(quarantine: pd.DataFrame) -> pd.DataFrame:
    """The quarantine as ``quarantine.csv`` shows it: the facts with each row's detail in English.

    Parameters
    ----------
    quarantine
        Intake's quarantine (:data:`custseg.intake.validation.QUARANTINE_FACTS`).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`custseg.intake.validation.QUARANTINE_COLUMNS`; ``detail`` made by
        :func:`custseg.words.quarantine_detail` in English, whatever the active language.
    """
    # a detail depends on these four facts only, and a large quarantine repeats a few of them
    # (every guest line is "customer_id: missing"): word each distinct combination once
    facts = ["reason", "column", "table", "figures"]
    kind = quarantine.groupby(facts, sort=False, dropna=False).ngroup().to_numpy()
    # each combination's first row: ngroup numbers them in the order they first appear (sort=False)
    distinct = quarantine[facts].iloc[np.unique(kind, return_index=True)[1]]
    with i18n.language("en"):
        worded = [words.quarantine_detail(*combination) for combination in distinct.itertuples(index=False)]
    # spread by Arrow: an object column of millions of Python strings is slow to make into pandas' text
    detail = pd.array(pa.array(worded, type=pa.large_string()).take(kind), dtype="str") if len(kind) else []
    return quarantine.drop(columns="figures").assign(detail=detail)[QUARANTINE_COLUMNS]


def format_accounting(accounting: pd.DataFrame, sources: pd.DataFrame | None = None) -> str:
    """The accounting table as plain text for the end of an intake run; with `sources`
    (:func:`sources_table`), the files and databases each query read, with their rows, below it."""
    cols = ["table", "file", "rows_read", "clean", "quarantined", "duplicates_removed"]
    notes = [
        f"{row['file']}: its own column {column} was renamed to {gathering.MOVED_ASIDE.format(column=column)!r}: "
        f"inputs.{row['table']}.columns maps another column of the file to {column}"
        for row in accounting.to_dict("records") if isinstance(row.get("moved_aside"), str)
        for column in row["moved_aside"].split()
    ]
    text = "\n".join([accounting[cols].to_string(index=False), *notes])
    if sources is not None and (sources["kind"] != "file").any():
        read = sources.loc[sources["kind"] != "file", ["table", "kind", "source", "files", "rows", "location"]]
        text += "\nread by the queries:\n" + read.to_string(index=False)
    return text

