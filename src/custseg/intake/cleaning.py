"""Intake: read the raw tables, clean them, and account for every row.

Every input row ends in exactly one place: the clean table, the quarantine (with a reason code,
the column at fault and its row number in the file), or the count of removed exact duplicates.
The accounting table proves it per file: ``rows_read == clean + quarantined + duplicates``.

Two input shapes are accepted: several tables joined on customer id (only orders are required),
or one line-item table as online shops export it, from which orders and customers are derived
(:mod:`custseg.intake.lineitems`). The row rules live in :mod:`custseg.intake.validation`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from custseg import files, i18n, words
from custseg.config import Cleaning, Config, ConfigError, DatabaseInput, InputFile, QueryInput
from custseg.intake import database, lineitems, quality, query, reversals, validation
from custseg.intake.readers import ReadError, read_raw
from custseg.intake.validation import ORDER_COLUMNS, QUARANTINE_COLUMNS, QUARANTINE_FACTS, REASONS, map_statuses

#: Canonical columns per table: required ones first, then optional ones.
SCHEMAS: dict[str, dict[str, tuple[str, ...]]] = {
    "orders": {
        "required": ("order_id", "customer_id", "order_date", "amount"),
        "optional": ("currency", "status", "category"),
    },
    "line_items": {
        "required": ("invoice", "customer_id", "invoice_date", "quantity", "unit_price"),
        "optional": ("item", "description", "country", "currency", "category"),
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

#: Statuses of clean orders: only completed orders count as purchases; a refunded order nets to
#: zero (and was a purchase until its ``refunded_on`` day, when a matched reversal undid it); a
#: reversal is the negative order that undid a refunded one; a returned one (negative amount) is
#: netted against the customer's spend.
ORDER_STATUSES = ("completed", "cancelled", "refunded", "returned", "reversal")

# Ids that must be unique within a table; a second, different row with the same id is quarantined.
_UNIQUE_IDS = {"orders": "order_id", "customers": "customer_id"}
_DATE_COLUMNS = {"orders": "order_date", "line_items": "invoice_date", "customers": "signup_date",
                 "interactions": "interaction_date", "feedback": "feedback_date"}
_SHOWN_ROWS = 5  # offending rows quoted in an error message


class IntakeError(ValueError):
    """Input that cannot be used; the message names the file, the column and the rows.

    ``result`` holds what intake made of the files when it got that far (every row accounted
    for), so that the quarantine can still be written: it says why.
    """

    def __init__(self, message: str, result: CleanTables | None = None) -> None:
        super().__init__(message)
        self.result = result


@dataclass(frozen=True)
class RawInput:
    """One input table as read: canonical text columns plus ``source_row``, and how it was read."""

    name: str
    spec: InputFile | QueryInput | DatabaseInput
    frame: pd.DataFrame
    format: str
    encoding: str | None
    delimiter: str | None
    headers: dict[str, str] = field(default_factory=dict)  # canonical name -> header in the file
    encoding_source: str | None = None  # how the encoding was chosen (see custseg.intake.readers.RawTable)
    encoding_confidence: float | None = None
    encoding_alternatives: tuple[str, ...] = ()
    # what the table was read from: a file's path, or inputs.<table>.sql / inputs.<table>.query
    where: str = ""
    sources: tuple[query.SourceCount, ...] = ()  # the files (or the database) a query read, with their rows


@dataclass(frozen=True)
class Cleaned:
    """One file's rows after the row rules, and how its values were read."""

    clean: pd.DataFrame  # the typed rows that passed
    quarantine: pd.DataFrame  # one row per rejected input row
    decimals: dict[str, str]  # number column -> decimal convention (custseg.intake.parsing.Numbers.decimal)
    offsets: tuple[str, ...]  # UTC offsets written in the date columns


@dataclass(frozen=True)
class CleanTables:
    """The result of intake: clean tables, the quarantine, the accounting, a column profile, and
    how the reversals were matched to the purchases they undo."""

    tables: dict[str, pd.DataFrame]
    quarantine: pd.DataFrame
    accounting: pd.DataFrame
    columns: pd.DataFrame
    reversals: pd.DataFrame = field(default_factory=lambda: reversals.empty_summary("orders"))
    matches: pd.DataFrame = field(default_factory=lambda: reversals.empty_matches())
    sources: pd.DataFrame = field(default_factory=lambda: sources_table([]))  # what each table was read from


#: Columns of ``sources.csv``: one row per source of every input table (a file, each source of a
#: query over files, a database), with the rows it held. A file is named as the accounting names
#: it, without its folder: the same data in another folder gives the same bytes.
SOURCE_COLUMNS = ("table", "kind", "source", "location", "files", "rows")


def sources_table(raws: Sequence[RawInput]) -> pd.DataFrame:
    """One row per source each input table was read from: a file, a query's sources, a database."""
    rows = []
    for raw in raws:
        if raw.sources:
            kind = "query" if isinstance(raw.spec, QueryInput) else "database"
            rows += [(raw.name, kind, s.name, s.location, s.files, s.rows) for s in raw.sources]
        else:
            rows.append((raw.name, "file", raw.name, Path(raw.where).name, 1, len(raw.frame)))
    frame = pd.DataFrame(rows, columns=list(SOURCE_COLUMNS))
    return frame.astype({"files": "int64", "rows": "int64"})


def read_input(name: str, spec: InputFile, extra: Sequence[str] = ()) -> RawInput:
    """Read one input file as text under custseg's canonical column names.

    Every cell is read as a string so that nothing is guessed (``NA`` stays Namibia, ``007``
    stays ``007``); typing happens in the cleaning step, where failures can be quarantined.
    Text is Unicode-normalized (NFKC: full-width letters and digits become plain ones) and trimmed.

    Raises
    ------
    IntakeError
        When the file is missing or unreadable, or a required, mapped or `extra` column is absent.

    `extra` names more columns to keep as they are headed in the file (the customer attributes
    of ``demographics.attributes``).
    """
    sources: tuple[query.SourceCount, ...] = ()
    try:
        if isinstance(spec, QueryInput):
            path, result = query.query_label(name), query.read_query(name, spec)
            raw, sources = result.raw, result.sources
        elif isinstance(spec, DatabaseInput):
            path, result = database.query_label(name), database.read_database(name, spec)
            raw, sources = result.raw, (result.source,)
        else:
            path = Path(spec.path)
            raw = read_raw(path, format=spec.format, encoding=spec.encoding, delimiter=spec.delimiter, sheet=spec.sheet)
    except ReadError as exc:
        raise IntakeError(f"{name}: {exc}") from exc
    frame = raw.frame
    missing_mapped = {canon: header for canon, header in spec.columns.items() if header not in frame}
    if missing_mapped:
        canon, header = next(iter(missing_mapped.items()))
        raise IntakeError(
            f"{path}: column {header!r} (mapped to {canon!r} in inputs.{name}.columns) is not in the "
            f"file; its columns are {[c for c in frame.columns if c != 'source_row']}"
        )
    unknown = set(spec.columns) - {*SCHEMAS[name]["required"], *SCHEMAS[name]["optional"]}
    if unknown:
        raise IntakeError(
            f"{path}: inputs.{name}.columns maps {sorted(unknown)}, which custseg does not know for "
            f"{name}; known columns are {[*SCHEMAS[name]['required'], *SCHEMAS[name]['optional']]}"
        )
    frame = frame.rename(columns={header: canon for canon, header in spec.columns.items()})
    missing = [col for col in SCHEMAS[name]["required"] if col not in frame]
    if missing:
        raise IntakeError(
            f"{path}: required column {missing[0]!r} is missing; map it in the config under "
            f"inputs.{name}.columns (the file has {[c for c in frame.columns if c != 'source_row']})"
        )
    absent = [c for c in extra if c not in frame]
    if absent:
        raise IntakeError(
            f"{path}: column {absent[0]!r} (demographics.attributes) is not in the file; its columns are "
            f"{[c for c in frame.columns if c != 'source_row']}"
        )
    known = [c for c in (*SCHEMAS[name]["required"], *SCHEMAS[name]["optional"]) if c in frame]
    known += [c for c in extra if c not in known]
    headers = {canon: spec.columns.get(canon, canon) for canon in known}
    text = frame[known].apply(normalize_text)
    frame = text.assign(source_row=frame["source_row"].to_numpy())
    return RawInput(name, spec, frame.reset_index(drop=True), raw.format, raw.encoding, raw.delimiter, headers,
                    raw.encoding_source, raw.encoding_confidence, raw.encoding_alternatives, str(path), sources)


def normalize_text(column: pd.Series) -> pd.Series:
    """NFKC-normalize (full-width letters, digits and spaces become plain ones) and trim.

    Plain ASCII is NFKC-invariant, so only the other cells are normalized: most export cells
    are ASCII, and normalizing every cell is slow on a big table (docs/performance.md).
    """
    column = column.str.strip()
    wide = ~column.str.isascii().astype("bool")
    if wide.any():
        column = column.copy()
        column[wide] = column[wide].str.normalize("NFKC").str.strip()
    return column


def read_table(name: str, spec: InputFile | QueryInput | DatabaseInput) -> pd.DataFrame:
    """The text frame of :func:`read_input` alone."""
    return read_input(name, spec).frame


def _dedupe(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Drop exact duplicate rows (all columns but the row number equal); keep the first."""
    dup = frame.drop(columns="source_row").duplicated(keep="first")
    return frame.loc[~dup], int(dup.sum())


def _prepare(name: str, frame: pd.DataFrame, config: Config) -> pd.DataFrame:
    """Canonical spellings before validation: statuses, currency codes, defaults of absent columns."""
    base = config.currency.base
    if name in {"orders", "line_items"}:
        currency = frame["currency"].str.upper().replace("", base) if "currency" in frame else base
        category = frame["category"].replace("", "Unspecified") if "category" in frame else "Unspecified"
        frame = frame.assign(currency=currency, category=category)
    if name == "orders":
        status = map_statuses(frame["status"], config.cleaning) if "status" in frame else "completed"
        frame = frame.assign(status=status)
    if name == "interactions" and "channel" in frame:
        frame = frame.assign(channel=frame["channel"].str.lower())
    return frame


def _quarantine_rows(name: str, file: Path | str, frame: pd.DataFrame, cases: pd.DataFrame) -> pd.DataFrame:
    """One quarantine row per failing input row: its first reason, other problems in its figures."""
    if cases.empty:
        return _empty_quarantine()
    first = cases.drop_duplicates("index", keep="first")
    others = cases.loc[cases.duplicated("index", keep="first")].groupby("index")
    also = {i: list(zip(group["reason"], group["column"])) for i, group in others}
    rows = frame.loc[first["index"]]
    values = [rows.at[i, col] for i, col in zip(first["index"], first["column"])]
    figures = [
        words.quarantine_figures(
            currency=rows.at[i, "currency"] if reason == "currency_mismatch" and "currency" in rows else None,
            also=also.get(i),
        )
        for i, reason in zip(first["index"], first["reason"])
    ]
    return pd.DataFrame({
        "table": name,
        "file": str(file),
        "row": rows["source_row"].to_numpy(dtype="int64"),
        "reason": first["reason"].to_numpy(),
        "column": first["column"].to_numpy(),
        "value": pd.array(values, dtype="str"),
        "figures": figures,
    })


def _empty_quarantine() -> pd.DataFrame:
    return pd.DataFrame({col: pd.Series(dtype="int64" if col == "row" else "str") for col in QUARANTINE_FACTS})


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
    with i18n.language("en"):
        detail = [
            words.quarantine_detail(reason, column, table, figures)
            for reason, column, table, figures in zip(
                quarantine["reason"], quarantine["column"], quarantine["table"], quarantine["figures"]
            )
        ]
    return quarantine.drop(columns="figures").assign(detail=detail)[QUARANTINE_COLUMNS]


def _stop_if_asked(raw: RawInput, quarantine: pd.DataFrame, cleaning: Cleaning) -> None:
    """Raise for the first reason listed in ``cleaning.stop_on``, quoting the first offending rows."""
    for reason in cleaning.stop_on:
        hit = quarantine.loc[quarantine["reason"] == reason]
        if hit.empty:
            continue
        column = hit["column"].iloc[0]
        first = hit.head(_SHOWN_ROWS)
        shown = "; ".join(f"row {r}: {v!r}" for r, v in zip(first["row"], first["value"]))
        more = f" and {len(hit) - _SHOWN_ROWS:,} more" if len(hit) > _SHOWN_ROWS else ""
        raise IntakeError(
            f"{raw.where}: column {column!r}: {_english_meaning(raw.name, reason)}: {shown}{more}. "
            f"To go on, {_hint(raw.name, reason)}, "
            f"or remove {reason!r} from cleaning.stop_on to quarantine such rows instead"
        )


def _english_meaning(name: str, reason: str) -> str:
    """What a reason means for a row of table ``name``, in English (intake's messages are English)."""
    with i18n.language("en"):
        return words.quarantine_meaning(reason, name)


def _hint(name: str, reason: str) -> str:
    """What to change so that rows quarantined for ``reason`` in table ``name`` are read."""
    return {
        "bad_date": f"set inputs.{name}.date_format (e.g. '%d/%m/%Y') or fix the file",
        "unknown_currency": "add the currency to currency.rates",
        "ambiguous_number": f"set inputs.{name}.decimal to '.' (1,234 is 1234) or ',' (1,234 is 1.234)",
        "bad_number": f"check the column mapping (inputs.{name}.columns) and inputs.{name}.decimal, or fix the file",
        "missing_id": f"check the column mapping (inputs.{name}.columns), or fix the file",
        "currency_mismatch": f"map the file's currency column (inputs.{name}.columns), or check currency.base",
    }.get(reason, "fix the file")


def _all_quarantined(raw: RawInput, read: int, clean: int, quarantine: pd.DataFrame) -> str | None:
    """Why a file is unusable when its rows were all quarantined (nothing later can use it, and
    the likely cause is a setting: a date format, a decimal separator, a column mapping), else None."""
    if read == 0 or clean > 0 or quarantine.empty:
        return None
    counts = quarantine["reason"].value_counts()
    reasons = ", ".join(f"{n:,} as {reason}" for reason, n in counts.items())
    first = quarantine[["row", "column", "value", "reason"]].head(3)
    shown = "; ".join(
        f"row {row}: {column} {value!r} ({reason})" for row, column, value, reason in first.itertuples(index=False)
    )
    return (
        f"{raw.where}: no clean rows: all {len(quarantine):,} rows that are not exact duplicates were "
        f"quarantined, {reasons} ({shown}). To go on, {_hint(raw.name, str(counts.index[0]))}"
    )


def clean_rows(raw: RawInput, config: Config) -> Cleaned:
    """Validate one deduplicated text table and type the rows that pass.

    Rows that share an id that must be unique (an order id, a customer id) but differ in any other
    column are all quarantined as ``conflicting_duplicate``: which of them is right cannot be told,
    and keeping the first would make the result depend on the order of the rows in the file.

    Returns
    -------
    Cleaned
        The typed rows, one quarantine row per rejected input row, and how numbers and dates
        were read.

    Raises
    ------
    IntakeError
        When a reason listed in ``cleaning.stop_on`` occurs, or ``decimal`` is set for a file
        that stores numbers as numbers.
    """
    name, spec = raw.name, raw.spec
    frame = _prepare(name, raw.frame, config)
    rates = config.currency.rate_table()
    parsed = validation.Parsed(frame, name, date_format=spec.date_format, decimal=_decimal(raw),
                               timezone=config.cleaning.timezone)
    schema = validation.row_schema(name, parsed, rates, config.cleaning, latest_date(config))
    cases = validation.failures(schema, frame)
    rejected = _quarantine_rows(name, raw.where, frame, cases)
    frame = frame.drop(index=cases["index"].unique())
    # Uniqueness is judged among the valid rows only: a valid row is not a duplicate of a
    # rejected one.
    id_column = _UNIQUE_IDS.get(name)
    if id_column:
        repeated = frame[id_column].duplicated(keep=False)
        cases = pd.DataFrame({"index": frame.index[repeated], "column": id_column, "reason": "conflicting_duplicate"})
        rejected = pd.concat([rejected, _quarantine_rows(name, raw.where, frame, cases)], ignore_index=True)
        frame = frame.loc[~repeated]
    rejected = rejected.sort_values("row", kind="stable").reset_index(drop=True)
    _stop_if_asked(raw, rejected, config.cleaning)
    return Cleaned(_typed(name, frame, parsed, config), rejected, parsed.decimals(), parsed.offsets())


def _decimal(raw: RawInput) -> str:
    """The decimal convention numbers of the file are read with: the setting, or ``.`` for a
    workbook or Parquet file, whose numbers custseg writes as text itself (``1.234`` is 1.234)."""
    if raw.format not in ("excel", "parquet"):  # a CSV file, or a query passing on text numbers
        return raw.spec.decimal
    if raw.spec.decimal == ",":
        raise IntakeError(
            f"{raw.where}: inputs.{raw.name}.decimal is ',' but this is "
            f"{'an Excel' if raw.format == 'excel' else 'a Parquet'} "
            "file, which stores numbers as numbers (the decimal separator is only how a program shows them); "
            "remove decimal for this input"
        )
    return "."


#: The columns that order each clean table: its date and id (unique in orders and customers; in
#: the other tables every column follows, the row number never). Line items keep the order of
#: their file: see _in_canonical_order.
_ORDER_BY = {"orders": ("order_date", "order_id"), "customers": ("customer_id",),
             "interactions": ("interaction_date", "customer_id"), "feedback": ("feedback_date", "customer_id")}


def _in_canonical_order(name: str, clean: pd.DataFrame) -> pd.DataFrame:
    """A clean table sorted by its content, so that no later step sees the order of the file.

    After exact duplicates are removed and conflicting ids quarantined, no two clean rows are
    equal, so the order is total: a shuffled export gives the same tables, row for row. Line
    items are left in the order of the file, which the matching of reversals reads for its
    last tie (two purchases of one item by one customer at the same second).
    """
    if name not in _ORDER_BY or clean.empty:
        return clean
    first = [column for column in _ORDER_BY[name] if column in clean]
    if name in _UNIQUE_IDS:
        # Date and unique id, neither ever missing: one stable sort per key, last key first, is
        # much faster than sort_values on a big table (docs/performance.md).
        order = np.arange(len(clean))
        for column in reversed(first):
            order = order[clean[column].iloc[order].argsort(kind="stable").to_numpy()]
        return clean.take(order).reset_index(drop=True)
    # without a unique id, every column breaks ties
    first += [column for column in clean.columns if column not in first and column != "source_row"]
    return clean.sort_values(first, kind="stable", na_position="first").reset_index(drop=True)


def latest_date(config: Config) -> dt.date:
    """The latest plausible date of any row: ``cleaning.latest_date``, else the day the study runs.

    A date after it (a typo of 2099, a clock set wrong) is quarantined as ``implausible_date``
    rather than allowed to move the observation date, and every recency with it.
    """
    return config.cleaning.latest_date or dt.date.today()


def _typed(name: str, frame: pd.DataFrame, parsed: validation.Parsed, config: Config) -> pd.DataFrame:
    """Type the columns of valid rows (parsed once, during validation); derive base-currency amounts."""

    def numbers(column: str) -> pd.Series:
        return parsed.numbers(frame[column]).loc[frame.index]

    date_column = _DATE_COLUMNS[name]
    if date_column in frame:
        frame = frame.assign(**{date_column: parsed.dates(frame[date_column]).loc[frame.index]})
    rates = config.currency.rate_table()
    if name == "orders":
        amount = numbers("amount")
        # A negative amount on an otherwise normal order is a return: netted, never a purchase.
        status = frame["status"].where(amount.ge(0) | frame["status"].eq("cancelled"), "returned")
        amount_base = (amount * frame["currency"].map(rates).astype("float64")).round(2)
        frame = frame.assign(
            amount=amount,
            status=status,
            amount_base=amount_base,
            revenue=amount_base.where(status.isin(["completed", "returned"]), 0.0),
            refunded_on=np.full(len(frame), np.datetime64("NaT"), dtype="datetime64[s]"),
            reverses=pd.array([pd.NA] * len(frame), dtype="str"),
        )
    if name == "line_items":
        frame = frame.assign(quantity=numbers("quantity"), unit_price=numbers("unit_price"))
    if name == "feedback":
        frame = frame.assign(**{
            col: numbers(col).astype("Int64") for col in ("satisfaction", "nps") if col in frame
        })
    return frame.reset_index(drop=True)


def match_order_returns(orders: pd.DataFrame, config: Config) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Clean orders with each return matched to the completed order it undoes (same customer,
    currency and amount, :func:`custseg.intake.reversals.match_orders`).

    A matched order becomes ``refunded`` from the return's day (``refunded_on``) and the return a
    ``reversal`` of it (``reverses``); a return that matches nothing stays ``returned``.

    Returns
    -------
    (orders, summary, matches)
        The orders, the returns per outcome and every matched pair.
    """
    time = reversals.seconds(orders["order_date"])
    returned = orders["status"].eq("returned").to_numpy()
    found = reversals.match_orders(
        orders["customer_id"], orders["currency"], orders["amount"].to_numpy(dtype="float64"), time,
        orders["status"].eq("completed").to_numpy() & orders["amount"].gt(0).to_numpy(), returned,
        window=reversals.window_seconds(config.cleaning.reversal_window_days),
    )
    status = orders["status"].to_numpy(dtype=object).copy()
    status[found.purchase], status[found.reversal] = "refunded", "reversal"
    refunded_on = orders["refunded_on"].to_numpy().copy()
    refunded_on[found.purchase] = orders["order_date"].to_numpy(dtype="datetime64[s]")[found.reversal]
    reverses = orders["reverses"].to_numpy(dtype=object).copy()
    reverses[found.reversal] = orders["order_id"].to_numpy(dtype=object)[found.purchase]
    value = orders["amount_base"].abs().to_numpy(dtype="float64")
    matched = np.zeros(len(orders), dtype=bool)
    matched[found.reversal] = True
    summary = reversals.summary(
        reversals.outcomes(matched[returned].astype(np.float64), np.ones(int(returned.sum()))),
        value[returned], np.where(matched, value, 0.0)[returned], "orders",
    )
    file = query.input_location("orders", config.inputs.orders) if config.inputs.orders else ""
    matches = reversals.match_table(
        "orders", file, orders.iloc[found.reversal], orders.iloc[found.purchase],
        number="order_id", date="order_date", quantity=1.0, value_base=value[found.reversal],
    )
    orders = orders.assign(
        status=pd.array(status, dtype="str"),
        refunded_on=refunded_on,
        reverses=pd.array(reverses, dtype="str"),
    )
    return orders, summary, matches


def _check_cleaning(config: Config) -> None:
    unknown = [reason for reason in config.cleaning.stop_on if reason not in REASONS]
    if unknown:
        raise ConfigError(
            f"{config.source}: cleaning.stop_on: unknown reason {unknown[0]!r}; reasons are {list(REASONS)}"
        )


def run_intake(config: Config) -> CleanTables:
    """Read and clean every configured input table.

    With a line-item input, clean ``orders`` (and ``customers``, unless a customer table is also
    given) are derived from the clean lines; the lines themselves are kept as ``line_items``.

    Returns
    -------
    CleanTables
        Clean tables by name, the quarantine of all tables, one accounting row per file, and
        the missing-value profile of every input column.

    Raises
    ------
    IntakeError
        For a file that cannot be used, a file whose every row is quarantined, or a problem
        listed in ``cleaning.stop_on``.
    """
    _check_cleaning(config)
    tables: dict[str, pd.DataFrame] = {}
    quarantines, accounting, profiles, raws = [], [], [], []
    summary, matches = reversals.empty_summary("orders"), reversals.empty_matches()
    unusable: str | None = None  # the first file whose rows were all quarantined
    for name, spec in config.inputs.present().items():
        raw = read_input(name, spec, config.demographics.attributes if name == "customers" else ())
        profiles.append(quality.column_profile(raw.frame, name, raw.headers))
        raws.append(raw)
        deduped, duplicates = _dedupe(raw.frame)
        cleaned = clean_rows(replace(raw, frame=deduped), config)
        clean, rejected = _in_canonical_order(name, cleaned.clean), cleaned.quarantine
        if name == "orders":
            clean, summary, matches = match_order_returns(clean, config)
            tables["orders"] = clean[list(ORDER_COLUMNS)]
        if name == "line_items":
            derived = lineitems.derive(clean, config)
            clean = derived.lines
            rejected = pd.concat([rejected, derived.quarantine], ignore_index=True)
            tables["orders"] = derived.orders
            summary, matches = derived.reversals, derived.matches
            if "customers" not in config.inputs.present():
                tables["customers"] = derived.customers
        unusable = unusable or _all_quarantined(raw, len(raw.frame), len(clean), rejected)
        tables.setdefault(name, clean)
        quarantines.append(rejected)
        accounting.append(_account(raw, cleaned, len(clean), duplicates, rejected, config.cleaning.timezone))
    quarantine = pd.concat(quarantines, ignore_index=True)
    result = CleanTables(tables, quarantine, pd.DataFrame(accounting), pd.concat(profiles, ignore_index=True),
                         summary, matches, sources_table(raws))
    if unusable:  # raised once every file is accounted for, with them: the quarantine says why
        raise IntakeError(unusable, result)
    return result


def _account(raw: RawInput, cleaned: Cleaned, clean: int, duplicates: int, quarantine: pd.DataFrame,
             timezone: str | None) -> dict:
    by_reason = quarantine["reason"].value_counts()
    read = len(raw.frame)
    confidence = raw.encoding_confidence
    row = {
        "table": raw.name,
        "file": Path(raw.where).name,
        "format": raw.format,
        "encoding": raw.encoding or "",
        "encoding_source": raw.encoding_source or "",
        "encoding_confidence": "" if confidence is None else f"{confidence:.2f}",
        "encoding_alternatives": " ".join(raw.encoding_alternatives),
        "delimiter": {"\t": "tab"}.get(raw.delimiter or "", raw.delimiter or ""),
        "decimal": _file_decimal(cleaned.decimals),
        "utc_offsets": " ".join(cleaned.offsets),
        "timezone": (timezone or "") if cleaned.offsets else "",  # the clock stamps with offsets went to
        "rows_read": read,
        "clean": clean,
        "quarantined": len(quarantine),
        "duplicates_removed": duplicates,
        **{f"q_{reason}": int(by_reason.get(reason, 0)) for reason in REASONS},
    }
    if read != clean + len(quarantine) + duplicates:  # a bug in intake, never a data problem
        raise AssertionError(f"{raw.where}: intake lost rows: {row}")
    return row


def _file_decimal(decimals: Mapping[str, str]) -> str:
    """One file's decimal convention: the one its number columns share, ``mixed`` when they
    differ, ``""`` when none told one (whole numbers only)."""
    told = {decimal for decimal in decimals.values() if decimal}
    return told.pop() if len(told) == 1 else "mixed" if told else ""


def write_intake(result: CleanTables, folder: Path) -> dict[str, Path]:
    """Write clean tables (Parquet), quarantine, accounting and column profile (CSV for Excel).

    The quarantine is written twice: ``quarantine.csv`` for people, each row's detail in English
    (:func:`quarantine_sheet`), and ``quarantine.parquet`` with the facts (reason, column, figures)
    that the data-quality page turns into words in its own language.

    The CSV files are UTF-8 with a byte-order mark (Excel then shows Chinese values correctly) and
    their text cells are neutralised against formulas (a quarantined value ``=HYPERLINK(...)`` is
    written ``'=HYPERLINK(...)``); :func:`custseg.intake.quality.load_quality_data` restores them. Every
    file is written atomically (:mod:`custseg.files`).
    """
    written = {}
    for name, frame in result.tables.items():
        written[name] = files.write_parquet(frame, folder / f"{name}.parquet")
    written["quarantine_facts"] = files.write_parquet(result.quarantine, folder / "quarantine.parquet")
    sheets = (("quarantine", quarantine_sheet(result.quarantine)), ("accounting", result.accounting),
              ("columns", result.columns), ("reversals", result.reversals), ("reversal_matches", result.matches),
              ("sources", result.sources))
    for name, frame in sheets:
        written[name] = files.write_csv(frame, folder / f"{name}.csv")
    return written


def format_accounting(accounting: pd.DataFrame, sources: pd.DataFrame | None = None) -> str:
    """The accounting table as plain text for the end of an intake run; with `sources`
    (:func:`sources_table`), the files and databases each query read, with their rows, below it."""
    cols = ["table", "file", "rows_read", "clean", "quarantined", "duplicates_removed"]
    text = accounting[cols].to_string(index=False)
    if sources is not None and (sources["kind"] != "file").any():
        read = sources.loc[sources["kind"] != "file", ["table", "kind", "source", "files", "rows", "location"]]
        text += "\nread by the queries:\n" + read.to_string(index=False)
    return text


def reason_counts(quarantine: pd.DataFrame) -> Mapping[str, int]:
    """Quarantined rows per reason code, most frequent first."""
    return quarantine["reason"].value_counts().to_dict()
