"""Intake: read the raw tables, clean them, and account for every row.

Every input row ends in exactly one place: the clean table, the quarantine (with a reason code,
the column at fault and its row number in the file), or the count of removed exact duplicates.
The accounting table proves it per file: ``rows_read == clean + quarantined + duplicates``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from custseg.config import Config, Currency, InputFile

#: Canonical columns per table: required ones first, then optional ones with their defaults.
SCHEMAS: dict[str, dict[str, tuple[str, ...]]] = {
    "orders": {
        "required": ("order_id", "customer_id", "order_date", "amount"),
        "optional": ("currency", "status", "category"),
    },
    "customers": {
        "required": ("customer_id",),
        "optional": (
            "customer_name", "email", "phone", "customer_type", "industry", "company_size",
            "age_band", "acquisition_channel", "signup_date", "country", "province", "city",
        ),
    },
    "interactions": {
        "required": ("customer_id", "interaction_date"),
        "optional": ("interaction_id", "channel"),
    },
    "feedback": {
        "required": ("customer_id", "feedback_date"),
        "optional": ("feedback_id", "satisfaction", "nps"),
    },
}

#: Order statuses custseg understands; anything else is quarantined as `unknown_status`.
ORDER_STATUSES = ("completed", "cancelled", "refunded")

#: Quarantine reason codes and what they mean, for the data-quality report.
REASONS: dict[str, str] = {
    "missing_id": "a required id is empty",
    "bad_date": "a date that cannot be read",
    "bad_number": "a number that cannot be read",
    "non_positive_amount": "an order amount of zero or less",
    "unknown_currency": "a currency with no exchange rate in the config",
    "unknown_status": "an order status other than completed, cancelled or refunded",
    "out_of_range": "a score outside its scale (satisfaction 1-5, NPS 0-10)",
    "conflicting_duplicate": "a second, different row for an id already seen",
}

QUARANTINE_COLUMNS = ["table", "file", "row", "reason", "column", "value", "detail"]


class IntakeError(ValueError):
    """Input that cannot be read at all; the message names the file and the column."""


@dataclass(frozen=True)
class CleanTables:
    """The result of intake: clean tables, the quarantine and the accounting."""

    tables: dict[str, pd.DataFrame]
    quarantine: pd.DataFrame
    accounting: pd.DataFrame


def read_table(name: str, spec: InputFile) -> pd.DataFrame:
    """Read one input file as text, under custseg's canonical column names.

    Every cell is read as a string so that nothing is guessed (``NA`` stays Namibia, ``007``
    stays ``007``); typing happens in the cleaning step where failures can be quarantined.
    A ``source_row`` column keeps each row's line number in the file (header = line 1).

    Raises
    ------
    IntakeError
        When the file is missing or unreadable, or a required or mapped column is absent.
    """
    path = Path(spec.path)
    if not path.is_file():
        raise IntakeError(f"{name}: input file {path} does not exist")
    try:
        frame = pd.read_csv(
            path, dtype=str, keep_default_na=False, encoding=spec.encoding, sep=spec.delimiter
        )
    except (UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise IntakeError(f"{path}: cannot be read as {spec.encoding!r} CSV: {exc}") from exc
    missing_mapped = {canon: header for canon, header in spec.columns.items() if header not in frame}
    if missing_mapped:
        canon, header = next(iter(missing_mapped.items()))
        raise IntakeError(
            f"{path}: column {header!r} (mapped to {canon!r} in the config) is not in the file; "
            f"its columns are {list(frame.columns)}"
        )
    frame = frame.rename(columns={header: canon for canon, header in spec.columns.items()})
    missing = [col for col in SCHEMAS[name]["required"] if col not in frame]
    if missing:
        raise IntakeError(
            f"{path}: required column {missing[0]!r} is missing; map it in the config under "
            f"inputs.{name}.columns (the file has {list(frame.columns)})"
        )
    known = [c for c in (*SCHEMAS[name]["required"], *SCHEMAS[name]["optional"]) if c in frame]
    frame = frame[known].assign(source_row=pd.RangeIndex(2, len(frame) + 2))
    text = frame.columns.drop("source_row")
    # NFKC turns full-width letters and digits (common in Chinese exports) into plain ones.
    return frame.assign(**{c: frame[c].str.normalize("NFKC").str.strip() for c in text})


class _Sorter:
    """Collects quarantined rows while a table is cleaned; each row is taken out once."""

    def __init__(self, name: str, file: Path, frame: pd.DataFrame) -> None:
        self.name, self.file, self.frame = name, file, frame
        self.parts: list[pd.DataFrame] = []

    def reject(self, mask: pd.Series, reason: str, column: str, detail: str) -> None:
        """Move the rows under `mask` from the frame to the quarantine."""
        mask = mask.fillna(False).astype(bool)
        if not mask.any():
            return
        bad = self.frame.loc[mask]
        self.parts.append(
            pd.DataFrame(
                {
                    "table": self.name,
                    "file": str(self.file),
                    "row": bad["source_row"].to_numpy(),
                    "reason": reason,
                    "column": column,
                    "value": bad[column].astype("string").to_numpy() if column in bad else "",
                    "detail": detail,
                }
            )
        )
        self.frame = self.frame.loc[~mask]

    def require_ids(self, columns: tuple[str, ...]) -> None:
        for col in columns:
            if col in self.frame:
                self.reject(self.frame[col].eq(""), "missing_id", col, f"{col} is empty")

    def parse_dates(self, column: str, date_format: str | None) -> None:
        if column not in self.frame:
            return
        raw = self.frame[column]
        parsed = pd.to_datetime(raw, format=date_format or "ISO8601", errors="coerce")
        self.reject(parsed.isna() & raw.ne(""), "bad_date", column, f"{column} is not a date")
        self.frame = self.frame.assign(**{column: parsed.loc[self.frame.index].astype("datetime64[s]")})

    def parse_numbers(self, column: str, *, integer: bool = False) -> None:
        if column not in self.frame:
            return
        raw = self.frame[column]
        parsed = pd.to_numeric(raw.str.replace(",", "", regex=False), errors="coerce")
        self.reject(parsed.isna() & raw.ne(""), "bad_number", column, f"{column} is not a number")
        kept = parsed.loc[self.frame.index]
        self.frame = self.frame.assign(**{column: kept.astype("Int64" if integer else "float64")})

    def quarantine(self) -> pd.DataFrame:
        return pd.concat(self.parts, ignore_index=True) if self.parts else _empty_quarantine()


def _empty_quarantine() -> pd.DataFrame:
    return pd.DataFrame({col: pd.Series(dtype="int64" if col == "row" else "string") for col in QUARANTINE_COLUMNS})


def _dedupe(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Drop exact duplicate rows (all columns but the row number equal); keep the first."""
    dup = frame.drop(columns="source_row").duplicated(keep="first")
    return frame.loc[~dup], int(dup.sum())


def clean_orders(frame: pd.DataFrame, spec: InputFile, currency: Currency) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Type and check order rows; convert amounts to the base currency.

    Cancelled orders stay in the clean table (they are part of the customer's history) but carry
    no revenue; refunded orders net to zero. Only ``completed`` orders count as purchases.

    Returns
    -------
    (clean, quarantine)
    """
    frame = frame.assign(
        # an empty currency cell means the base currency, as in single-currency exports
        currency=frame["currency"].str.upper().replace("", currency.base) if "currency" in frame else currency.base,
        status=frame["status"].str.lower() if "status" in frame else "completed",
        category=frame["category"].replace("", "Unspecified") if "category" in frame else "Unspecified",
    )
    sort = _Sorter("orders", spec.path, frame)
    sort.require_ids(("order_id", "customer_id"))
    sort.parse_dates("order_date", spec.date_format)
    sort.reject(sort.frame["order_date"].isna(), "bad_date", "order_date", "order_date is empty")
    sort.parse_numbers("amount")
    sort.reject(sort.frame["amount"].isna(), "bad_number", "amount", "amount is empty")
    sort.reject(sort.frame["amount"].le(0), "non_positive_amount", "amount", "amount must be above zero")
    rates = currency.rate_table()
    sort.reject(
        ~sort.frame["currency"].isin(list(rates)), "unknown_currency", "currency",
        f"no exchange rate to {currency.base} in the config (currency.rates)",
    )
    sort.reject(
        ~sort.frame["status"].isin(ORDER_STATUSES), "unknown_status", "status",
        f"status must be one of {', '.join(ORDER_STATUSES)}",
    )
    sort.reject(
        sort.frame["order_id"].duplicated(keep="first"), "conflicting_duplicate", "order_id",
        "order_id already used by an earlier, different row",
    )
    clean = sort.frame
    amount_base = (clean["amount"] * clean["currency"].map(rates).astype("float64")).round(2)
    clean = clean.assign(
        amount_base=amount_base,
        revenue=amount_base.where(clean["status"].eq("completed"), 0.0),
    )
    return clean.reset_index(drop=True), sort.quarantine()


def clean_customers(frame: pd.DataFrame, spec: InputFile) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Type and check customer rows: one row per customer id."""
    sort = _Sorter("customers", spec.path, frame)
    sort.require_ids(("customer_id",))
    sort.parse_dates("signup_date", spec.date_format)
    sort.reject(
        sort.frame["customer_id"].duplicated(keep="first"), "conflicting_duplicate", "customer_id",
        "customer_id already used by an earlier, different row",
    )
    return sort.frame.reset_index(drop=True), sort.quarantine()


def clean_interactions(frame: pd.DataFrame, spec: InputFile) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Type and check interaction rows (visits, e-mails, calls, tickets)."""
    frame = frame.assign(channel=frame["channel"].str.lower()) if "channel" in frame else frame
    sort = _Sorter("interactions", spec.path, frame)
    sort.require_ids(("customer_id",))
    sort.parse_dates("interaction_date", spec.date_format)
    sort.reject(sort.frame["interaction_date"].isna(), "bad_date", "interaction_date", "interaction_date is empty")
    return sort.frame.reset_index(drop=True), sort.quarantine()


def clean_feedback(frame: pd.DataFrame, spec: InputFile) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Type and check feedback rows: satisfaction on 1-5, NPS on 0-10."""
    sort = _Sorter("feedback", spec.path, frame)
    sort.require_ids(("customer_id",))
    sort.parse_dates("feedback_date", spec.date_format)
    sort.reject(sort.frame["feedback_date"].isna(), "bad_date", "feedback_date", "feedback_date is empty")
    for column, low, high in (("satisfaction", 1, 5), ("nps", 0, 10)):
        sort.parse_numbers(column, integer=True)
        if column in sort.frame:
            value = sort.frame[column]
            sort.reject(
                value.notna() & ~value.between(low, high), "out_of_range", column,
                f"{column} must lie between {low} and {high}",
            )
    return sort.frame.reset_index(drop=True), sort.quarantine()


_CLEANERS = {
    "orders": lambda frame, spec, config: clean_orders(frame, spec, config.currency),
    "customers": lambda frame, spec, config: clean_customers(frame, spec),
    "interactions": lambda frame, spec, config: clean_interactions(frame, spec),
    "feedback": lambda frame, spec, config: clean_feedback(frame, spec),
}


def run_intake(config: Config) -> CleanTables:
    """Read and clean every configured input table.

    Returns
    -------
    CleanTables
        Clean tables by name, the quarantine of all tables, and one accounting row per file.
    """
    tables: dict[str, pd.DataFrame] = {}
    quarantines, accounting = [], []
    for name, spec in config.inputs.present().items():
        raw = read_table(name, spec)
        deduped, duplicates = _dedupe(raw)
        clean, quarantine = _CLEANERS[name](deduped, spec, config)
        tables[name] = clean
        quarantines.append(quarantine)
        accounting.append(_account(name, spec.path, len(raw), len(clean), duplicates, quarantine))
    quarantine = pd.concat(quarantines, ignore_index=True)
    return CleanTables(tables, quarantine, pd.DataFrame(accounting))


def _account(name: str, file: Path, read: int, clean: int, duplicates: int, quarantine: pd.DataFrame) -> dict:
    by_reason = quarantine["reason"].value_counts()
    row = {
        "table": name,
        "file": Path(file).name,
        "rows_read": read,
        "clean": clean,
        "quarantined": len(quarantine),
        "duplicates_removed": duplicates,
        **{f"q_{reason}": int(by_reason.get(reason, 0)) for reason in REASONS},
    }
    if read != clean + len(quarantine) + duplicates:  # a bug in intake, never a data problem
        raise AssertionError(f"{file}: intake lost rows: {row}")
    return row


def write_intake(result: CleanTables, folder: Path) -> dict[str, Path]:
    """Write clean tables (Parquet), quarantine and accounting (CSV for Excel) to `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for name, frame in result.tables.items():
        written[name] = folder / f"{name}.parquet"
        frame.to_parquet(written[name], index=False)
    for name, frame in (("quarantine", result.quarantine), ("accounting", result.accounting)):
        written[name] = folder / f"{name}.csv"
        # utf-8-sig so Excel shows Chinese values in the quarantine correctly
        frame.to_csv(written[name], index=False, encoding="utf-8-sig", lineterminator="\n")
    return written


def format_accounting(accounting: pd.DataFrame) -> str:
    """The accounting table as plain text for the end of an intake run."""
    cols = ["table", "file", "rows_read", "clean", "quarantined", "duplicates_removed"]
    return accounting[cols].to_string(index=False)


def reason_counts(quarantine: pd.DataFrame) -> Mapping[str, int]:
    """Quarantined rows per reason code, most frequent first."""
    return quarantine["reason"].value_counts().to_dict()
