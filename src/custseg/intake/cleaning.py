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
from custseg.config import Cleaning, Config, ConfigError, DatabaseInput, InputFile, QueryInput, TableInput
from custseg.intake import database, gathering, lineitems, quality, query, reversals, validation
from custseg.intake.readers import ReadError

# worded for people in their own module; named here too, where callers have always found them
from custseg.intake.sheets import format_accounting as format_accounting
from custseg.intake.sheets import quarantine_sheet
from custseg.intake.validation import ORDER_COLUMNS, QUARANTINE_FACTS, REASONS, map_statuses

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
    spec: InputFile | QueryInput | DatabaseInput | TableInput
    frame: pd.DataFrame
    format: str
    encoding: str | None
    delimiter: str | None
    headers: dict[str, str] = field(default_factory=dict)  # canonical name -> header in the file
    encoding_source: str | None = None  # how the encoding was chosen (see custseg.intake.readers.RawTable)
    encoding_confidence: float | None = None
    encoding_alternatives: tuple[str, ...] = ()
    # the files (and sheets) read, in order; ``frame``'s source_row holds ordinals over them
    # (custseg.intake.gathering): with one file, the lines themselves; a query's result is one part
    sources: tuple[gathering.Source, ...] = ()
    parts: tuple[gathering.Part, ...] = ()
    moved: tuple[str, ...] = ()  # canonical names whose own column in the file was renamed out of the way
    # what the table was read from: a file's path (or pattern), or inputs.<table>.sql / inputs.<table>.query
    where: str = ""
    query_sources: tuple[query.SourceCount, ...] = ()  # the files (or the database) a query read, with their rows
    # of a part of a file cleaned in pieces (custseg.intake.scaled): the decimal convention each number
    # column tells over the whole file, so that every piece reads its numbers alike
    told: tuple[tuple[str, str], ...] = ()

    @property
    def many(self) -> bool:
        """Whether the input may read several files or sheets: rows then name theirs."""
        return isinstance(self.spec, InputFile) and self.spec.is_many()


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
        if raw.query_sources:
            kind = raw.spec.kind()  # query, database or table
            rows += [(raw.name, kind, s.name, s.location, s.files, s.rows) for s in raw.query_sources]
        else:  # a file, or the files a pattern matched (by the pattern)
            files = len({part.file for part in raw.parts}) or 1
            rows.append((raw.name, "file", raw.name, Path(raw.where).name, files, len(raw.frame)))
    frame = pd.DataFrame(rows, columns=list(SOURCE_COLUMNS))
    return frame.astype({"files": "int64", "rows": "int64"})


def read_input(name: str, spec: InputFile | QueryInput | DatabaseInput, extra: Sequence[str] = ()) -> RawInput:
    """Read one input (a file, every file of a pattern, several sheets) as text under custseg's
    canonical column names.

    Every cell is read as a string so that nothing is guessed (``NA`` stays Namibia, ``007``
    stays ``007``); typing happens in the cleaning step, where failures can be quarantined.
    Text is Unicode-normalized (NFKC: full-width letters and digits become plain ones) and trimmed.
    Several files or sheets are stacked in order (:mod:`custseg.intake.gathering`); every one must
    hold the same columns once mapped.

    Raises
    ------
    IntakeError
        When a file is missing or unreadable, a required, mapped or `extra` column is absent, or
        the files of a pattern (the sheets) differ in their columns.

    `extra` names more columns to keep as they are headed in the file (the customer attributes
    of ``demographics.attributes``).
    """
    query_sources: tuple[query.SourceCount, ...] = ()
    try:
        if isinstance(spec, QueryInput):
            where, result = query.query_label(name), query.read_query(name, spec)
            parts, query_sources = [gathering.Part(Path(where), where, None, result.raw)], result.sources
        elif isinstance(spec, DatabaseInput):
            where, result = database.query_label(name), database.read_database(name, spec)
            parts, query_sources = [gathering.Part(Path(where), where, None, result.raw)], (result.source,)
        else:
            where, parts = str(spec.path), gathering.read_parts(spec)
    except ReadError as exc:
        raise IntakeError(f"{name}: {exc}") from exc
    frames, moved, headers = [], (), {}
    for part in parts:
        frame, headers, moved = _canonical(name, spec, part, extra)
        first = frames[0] if frames else None
        differs = None if first is None else gathering.differing_column(list(first.columns), list(frame.columns))
        if differs:
            column, lacks = differs
            raise IntakeError(
                f"{part.label}: column {column!r} "
                + (f"is missing, but {parts[0].label} has it" if lacks else f"is not in {parts[0].label}")
                + f": every file of inputs.{name} must have the same columns once mapped (inputs.{name}.columns)"
            )
        frames.append(frame if first is None else frame[list(first.columns)])
    frame, sources = gathering.stack(parts, frames)
    del frames
    # the parts are kept for how they were read, not for their cells: the text as read, before
    # normalising, is one more copy of the whole export for as long as intake runs
    parts = [replace(part, table=replace(part.table, frame=part.table.frame.iloc[:0])) for part in parts]
    table = parts[0].table
    return RawInput(name, spec, frame.reset_index(drop=True), table.format, table.encoding, table.delimiter, headers,
                    table.encoding_source, table.encoding_confidence, table.encoding_alternatives,
                    sources, tuple(parts), moved, where, query_sources)


def _canonical(name: str, spec: InputFile | QueryInput | DatabaseInput, part: gathering.Part,
               extra: Sequence[str]) -> tuple[pd.DataFrame, dict[str, str], tuple[str, ...]]:
    """One part's text frame under canonical names, the header of each, the columns moved aside."""
    path, frame = part.label, part.table.frame
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
    frame, moved = gathering.map_columns(frame, spec.columns)
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
    return text.assign(source_row=frame["source_row"].to_numpy()), headers, moved


def normalize_text(column: pd.Series) -> pd.Series:
    """NFKC-normalize (full-width letters, digits and spaces become plain ones) and trim.

    Plain ASCII is NFKC-invariant, so only the other cells are normalized: most export cells
    are ASCII, and normalizing every cell is slow on a big table (docs/performance.md). A column
    that repeats its values (dates, prices, countries) has each distinct value normalized once.
    """
    codes, distinct = pd.factorize(column, use_na_sentinel=False)
    if 2 * len(distinct) > len(column):
        return _normalized(column)
    done = _normalized(pd.Series(distinct, dtype=column.dtype, name=column.name))
    return pd.Series(done.array.take(codes), index=column.index, name=column.name)


def _normalized(column: pd.Series) -> pd.Series:
    column = column.str.strip()
    wide = ~column.str.isascii().astype("bool")
    if wide.any():
        column = column.copy()
        column[wide] = column[wide].str.normalize("NFKC").str.strip()
    return column


def read_table(name: str, spec: InputFile | QueryInput | DatabaseInput) -> pd.DataFrame:
    """The text frame of :func:`read_input` alone."""
    return read_input(name, spec).frame


def _dedupe(frame: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """Drop exact duplicate rows (all columns but the row number equal); keep the first.

    Returns the rows kept and the sorted row numbers (``source_row``) of the rows dropped.
    """
    dup = frame.drop(columns="source_row").duplicated(keep="first").to_numpy()
    return frame.loc[~dup], np.sort(frame["source_row"].to_numpy()[dup])


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
    repeat = cases.duplicated("index", keep="first").to_numpy()
    first = cases.loc[~repeat]
    # the failing rows' positions: only the cells read are taken, not every column of those rows
    # (a quarter of a large export is quarantined, mostly guest lines)
    where = frame.index.get_indexer(first["index"])
    # each row's value in the column it failed on: gathered a column at a time (a handful of
    # columns), not a cell at a time (a Python step per row was most of intake on a large export)
    values = np.empty(len(first), dtype=object)
    failed_in = first["column"].to_numpy()
    for column in pd.unique(failed_in):
        at = failed_in == column
        values[at] = frame[column].array.take(where[at]).to_numpy(dtype=object)
    # figures, most often "{}": only the rows with a second problem or a currency to name get their own
    also: dict[object, list[tuple[str, str]]] = {}
    for i, reason, column in cases.loc[repeat, ["index", "reason", "column"]].itertuples(index=False):
        also.setdefault(i, []).append((reason, column))
    mismatch = (first["reason"] == "currency_mismatch").to_numpy() & ("currency" in frame)
    currencies = frame["currency"].array.take(where).to_numpy(dtype=object) if mismatch.any() else None
    figures = np.full(len(first), words.quarantine_figures(), dtype=object)
    index = first["index"].to_numpy()  # read from numpy: `.iat` per row took a quarter of this function
    for k in np.flatnonzero(mismatch | first["index"].isin(also.keys()).to_numpy()):
        figures[k] = words.quarantine_figures(currency=currencies[k] if mismatch[k] else None, also=also.get(index[k]))
    return pd.DataFrame({
        "table": name,
        "file": str(file),
        "row": frame["source_row"].to_numpy(dtype="int64")[where],
        "reason": first["reason"].array,  # as stored: through Python strings and back took 30 ms on 1M lines
        "column": first["column"].array,
        "value": pd.array(values, dtype="str"),
        "figures": list(figures),
    })


def _empty_quarantine() -> pd.DataFrame:
    return pd.DataFrame({col: pd.Series(dtype="int64" if col == "row" else "str") for col in QUARANTINE_FACTS})


def stop_if_asked(raw: RawInput, quarantine: pd.DataFrame, cleaning: Cleaning) -> None:
    """Raise for the first reason listed in ``cleaning.stop_on``, quoting the first offending rows."""
    for reason in cleaning.stop_on:
        hit = quarantine.loc[quarantine["reason"] == reason]
        if hit.empty:
            continue
        column = hit["column"].iloc[0]
        first = hit.head(_SHOWN_ROWS)
        shown = "; ".join(f"{_where(raw, f, r)}: {v!r}" for f, r, v in zip(first["file"], first["row"], first["value"]))
        more = f" and {len(hit) - _SHOWN_ROWS:,} more" if len(hit) > _SHOWN_ROWS else ""
        raise IntakeError(
            f"{raw.where}: column {column!r}: {_english_meaning(raw.name, reason)}: {shown}{more}. "
            f"To go on, {_hint(raw.name, reason)}, "
            f"or remove {reason!r} from cleaning.stop_on to quarantine such rows instead"
        )


def _where(raw: RawInput, file: str, row: int) -> str:
    """A row as a message names it: ``row 12``, or ``<file> row 12`` when the input reads several files."""
    return f"{file} row {row}" if raw.many else f"row {row}"


def _located(raw: RawInput, quarantine: pd.DataFrame, rows: Sequence[str] = ("row",)) -> pd.DataFrame:
    """A quarantine or match table whose row ordinals (``rows``) are made lines, and ``file`` the
    file (and sheet) of the first of them (:func:`custseg.intake.gathering.locate`)."""
    if quarantine.empty or not raw.sources:
        return quarantine
    labels = np.asarray([source.label for source in raw.sources] + [raw.where], dtype=object)
    located = {}
    for i, column in enumerate(rows):
        part, lines = gathering.locate(raw.sources, quarantine[column])
        located[column] = lines.astype(np.int64)
        if i == 0:
            located["file"] = pd.array(labels[part], dtype="str")
        elif raw.many:  # a reversal and the purchase it undid may sit in different files
            located[f"{column.removesuffix('_row')}_file"] = pd.array(labels[part], dtype="str")
    return quarantine.assign(**located)


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


def all_quarantined(raw: RawInput, read: int, clean: int, quarantine: pd.DataFrame) -> str | None:
    """Why a file is unusable when its rows were all quarantined (nothing later can use it, and
    the likely cause is a setting: a date format, a decimal separator, a column mapping), else None."""
    if read == 0 or clean > 0 or quarantine.empty:
        return None
    counts = quarantine["reason"].value_counts()
    reasons = ", ".join(f"{n:,} as {reason}" for reason, n in counts.items())
    first = quarantine[["file", "row", "column", "value", "reason"]].head(3)
    shown = "; ".join(
        f"{_where(raw, file, row)}: {column} {value!r} ({reason})"
        for file, row, column, value, reason in first.itertuples(index=False)
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
    # rows labelled by position (the labels never leave this function): looking the failing rows up
    # among a million labels of the deduplicated rows (get_indexer, isin) took 60 ms on 1M lines
    frame = _prepare(name, raw.frame.reset_index(drop=True), config)
    rates = config.currency.rate_table()
    parsed = validation.Parsed(frame, name, date_format=spec.date_format, decimal=_decimal(raw),
                               timezone=config.cleaning.timezone, told=dict(raw.told) or None)
    schema = validation.row_schema(name, parsed, rates, config.cleaning, latest_date(config))
    cases = validation.failures(schema, frame)
    rejected = _quarantine_rows(name, raw.where, frame, cases)
    frame = frame.loc[~frame.index.isin(cases["index"])]  # a mask: drop(index=...) looks up each label
    # Uniqueness is judged among the valid rows only: a valid row is not a duplicate of a
    # rejected one.
    id_column = _UNIQUE_IDS.get(name)
    if id_column:
        repeated = frame[id_column].duplicated(keep=False)
        cases = pd.DataFrame({"index": frame.index[repeated], "column": id_column, "reason": "conflicting_duplicate"})
        rejected = pd.concat([rejected, _quarantine_rows(name, raw.where, frame, cases)], ignore_index=True)
        frame = frame.loc[~repeated]
    rejected = _located(raw, rejected.sort_values("row", kind="stable").reset_index(drop=True))
    stop_if_asked(raw, rejected, config.cleaning)
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
        if name == "line_items" and config.engine.name in ("duckdb", "spark"):
            from custseg.intake import scaled  # it builds on this module: imported when asked for

            done = scaled.clean_line_items(name, spec, config)
        else:
            done = clean_input(read_input(name, spec, config.demographics.attributes if name == "customers" else ()),
                               config)
        profiles.append(done.profile)
        raws.append(done.raw)
        if done.reversals is not None:
            summary, matches = done.reversals, done.matches
        for table, frame in done.tables.items():
            tables.setdefault(table, frame)
        unusable = unusable or done.unusable
        quarantines.append(done.quarantine)
        accounting.extend(done.accounting)
    quarantine = pd.concat(quarantines, ignore_index=True)
    result = CleanTables(tables, quarantine, pd.DataFrame(accounting), pd.concat(profiles, ignore_index=True),
                         summary, matches, sources_table(raws))
    if unusable:  # raised once every file is accounted for, with them: the quarantine says why
        raise IntakeError(unusable, result)
    return result


@dataclass(frozen=True)
class InputResult:
    """What intake made of one input table: its clean tables (orders and customers too, from line
    items), its quarantine, its accounting rows, its column profile and its reversal matching."""

    raw: RawInput
    tables: dict[str, pd.DataFrame]
    quarantine: pd.DataFrame
    accounting: list[dict]
    profile: pd.DataFrame
    reversals: pd.DataFrame | None  # None for a table without reversals
    matches: pd.DataFrame | None
    unusable: str | None  # why the input is unusable (every row quarantined), else None


def clean_input(raw: RawInput, config: Config) -> InputResult:
    """Dedupe, validate and type one input table as read; derive orders and customers from line items."""
    name, tables = raw.name, {}
    summary = matches = None
    profile = quality.column_profile(raw.frame, name, raw.headers)
    deduped, removed = _dedupe(raw.frame)
    # from here the rows read are only counted: an index of their length stands for them, and
    # the text of the rows (a copy of the export besides the deduplicated one) is freed
    raw = replace(raw, frame=raw.frame[[]])
    cleaned = clean_rows(replace(raw, frame=deduped), config)
    del deduped
    clean, rejected = _in_canonical_order(name, cleaned.clean), cleaned.quarantine
    if name == "orders":
        clean, summary, matches = match_order_returns(clean, config)
        matches = _located(raw, matches, ("reversal_row", "purchase_row"))
        tables["orders"] = _sourced(raw, clean[list(ORDER_COLUMNS)])
    if name == "line_items":
        derived = lineitems.derive(clean, config)
        clean = derived.lines
        rejected = pd.concat([rejected, _located(raw, derived.quarantine)], ignore_index=True)
        tables["orders"] = _sourced(raw, derived.orders)
        summary, matches = derived.reversals, _located(raw, derived.matches, ("reversal_row", "purchase_row"))
        if "customers" not in config.inputs.present():
            tables["customers"] = _sourced(raw, derived.customers)
    tables.setdefault(name, _sourced(raw, clean))
    accounting = _account(raw, cleaned, clean["source_row"].to_numpy(), removed, rejected, config.cleaning.timezone)
    return InputResult(raw, tables, rejected, accounting, profile, summary, matches,
                       all_quarantined(raw, len(raw.frame), len(clean), rejected))


def _sourced(raw: RawInput, table: pd.DataFrame) -> pd.DataFrame:
    """A clean table of an input that reads several files or sheets with each row's file (and
    sheet) and its line there (:func:`custseg.intake.gathering.with_sources`); else as it is."""
    return gathering.with_sources(table, raw.sources, raw.spec.sheets is not None) if raw.many else table


def _account(raw: RawInput, cleaned: Cleaned, clean: np.ndarray, removed: np.ndarray, quarantine: pd.DataFrame,
             timezone: str | None) -> list[dict]:
    """The accounting rows of one input: one per file (and sheet) it read, each adding up.

    ``clean`` and ``removed`` are the ordinals (``source_row``) of the clean rows and of the exact
    duplicates removed; ``quarantine`` names each row's file already.
    """
    with_parts = raw.many and raw.sources
    sources = raw.sources if with_parts else (None,)
    clean_part = gathering.part_of(raw.sources, clean) if with_parts else np.zeros(len(clean), dtype=np.int64)
    removed_part = gathering.part_of(raw.sources, removed) if with_parts else np.zeros(len(removed), dtype=np.int64)
    rows = []
    for i, source in enumerate(sources):
        table = raw.parts[i].table if source is not None else None
        if source is None:
            mine, read, file = quarantine, len(raw.frame), Path(raw.where).name
        else:
            mine, read = quarantine.loc[quarantine["file"] == source.label], source.rows
            file = source.name if source.sheet is None else f"{source.name} (sheet {source.sheet})"
        encoding = table.encoding if table is not None else raw.encoding
        source_of = table.encoding_source if table is not None else raw.encoding_source
        confidence = table.encoding_confidence if table is not None else raw.encoding_confidence
        alternatives = table.encoding_alternatives if table is not None else raw.encoding_alternatives
        delimiter = (table.delimiter if table is not None else raw.delimiter) or ""
        by_reason = mine["reason"].value_counts()
        row = {
            "table": raw.name,
            "file": file,
            "format": table.format if table is not None else raw.format,
            "encoding": encoding or "",
            "encoding_source": source_of or "",
            "encoding_confidence": "" if confidence is None else f"{confidence:.2f}",
            "encoding_alternatives": " ".join(alternatives),
            "delimiter": {"\t": "tab"}.get(delimiter, delimiter),
            "decimal": _file_decimal(cleaned.decimals),
            "utc_offsets": " ".join(cleaned.offsets),
            "timezone": (timezone or "") if cleaned.offsets else "",  # the clock stamps with offsets went to
            "rows_read": read,
            "clean": int((clean_part == i).sum()),
            "quarantined": len(mine),
            "duplicates_removed": int((removed_part == i).sum()),
            **{f"q_{reason}": int(by_reason.get(reason, 0)) for reason in REASONS},
        }
        if raw.moved:  # the file's own columns renamed out of the way of a mapping (gathering.map_columns)
            row["moved_aside"] = " ".join(raw.moved)
        if read != row["clean"] + row["quarantined"] + row["duplicates_removed"]:  # a bug in intake
            raise AssertionError(f"{raw.where}: intake lost rows: {row}")
        rows.append(row)
    return rows


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
        path = folder / f"{name}.parquet"
        # the clean lines of engine: duckdb or spark are on disk in pieces (custseg.intake.spilled)
        written[name] = files.write_parquet(frame, path) if isinstance(frame, pd.DataFrame) else frame.write(path)
    written["quarantine_facts"] = files.write_parquet(result.quarantine, folder / "quarantine.parquet")
    sheets = (("quarantine", quarantine_sheet(result.quarantine)), ("accounting", result.accounting),
              ("columns", result.columns), ("reversals", result.reversals), ("reversal_matches", result.matches),
              ("sources", result.sources))
    for name, frame in sheets:
        written[name] = files.write_csv(frame, folder / f"{name}.csv")
    return written
