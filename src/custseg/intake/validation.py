"""Row rules of every input table, declared as pandera schemas over the raw text.

Intake reads every cell as text, so each rule is a vectorized check on a text column that names
its reason code (``missing_id``, ``bad_date``, ...). :func:`failures` runs every rule and collects
every failing cell with its row index, which intake turns into one quarantine reason per row.
Typing happens after validation, on the rows that passed.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from custseg import words
from custseg.config import Cleaning
from custseg.intake import parsing

# pandera tries to import pyspark.pandas whenever PySpark is installed (the optional extra of engine:
# spark), at import and again at the first validation; each try makes PySpark warn that it does not
# fully support pandas 3. custseg uses no pandas-on-Spark: the warning would only greet every command.
warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)
import pandera.pandas as pa  # noqa: E402 (after the filter that silences its import)

#: Quarantine reason codes and what they mean, in the order a row's first problem is picked. The
#: meanings are words (:data:`custseg.words.QUARANTINE_REASONS`): English in quarantine.csv and
#: intake's messages, translated on the data-quality page.
REASONS: dict[str, str] = words.QUARANTINE_REASONS

#: Columns of a clean orders table, whether read from an orders export or derived from line items.
#: ``refunded_on``: the day a purchase was undone by a matched reversal (it was a purchase before
#: that day); ``reverses``: the order a reversal or return undid, when it matched one.
ORDER_COLUMNS = ("order_id", "customer_id", "order_date", "amount", "currency", "status", "category",
                 "source_row", "amount_base", "revenue", "refunded_on", "reverses")

#: Personal data stays in the interim tables; the processed tables that studies read never hold it.
PERSONAL_COLUMNS = ("customer_name", "email", "phone")

#: Columns of ``quarantine.csv``: one row per rejected input row, its ``detail`` in English.
QUARANTINE_COLUMNS = ["table", "file", "row", "reason", "column", "value", "detail"]

#: Columns of the quarantine as intake keeps it (``CleanTables.quarantine``, ``quarantine.parquet``):
#: facts, not sentences. ``figures`` is compact JSON (:func:`custseg.words.quarantine_figures`: the
#: row's currency for a currency mismatch, its other problems); the ``detail`` of quarantine.csv is
#: made from reason, column, table and figures by :func:`custseg.words.quarantine_detail`.
QUARANTINE_FACTS = ["table", "file", "row", "reason", "column", "value", "figures"]

#: Number columns of each table; True for money (an amount or price may carry a currency sign).
NUMBER_COLUMNS: dict[str, dict[str, bool]] = {
    "orders": {"amount": True},
    "line_items": {"quantity": False, "unit_price": True},
    "feedback": {"satisfaction": False, "nps": False},
}


def map_statuses(text: pd.Series, cleaning: Cleaning) -> pd.Series:
    """Canonical status per row; an empty status means completed, an unlisted one stays as written."""
    lookup = {value.casefold(): canonical for canonical, values in cleaning.statuses.items() for value in values}
    folded = text.str.casefold()
    mapped = folded.map(lookup)
    return mapped.where(mapped.notna(), text).where(text.ne(""), "completed").astype("str")


class Parsed:
    """Numbers and dates parsed from one table's text columns, each column once.

    The row rules and the typing of the rows that pass both need the parsed values; parsing a
    big column is not free (docs/performance.md), so they share this cache.
    It belongs to one frame: values are kept by column name.

    Parameters
    ----------
    frame
        The canonical text columns of one input file (after :func:`custseg.intake.cleaning` prepared them).
    table
        Its table name: which columns hold numbers, and which of them money.
    date_format
        The file's ``inputs.<table>.date_format``; None reads ISO 8601.
    decimal
        ``"auto"``, ``"."`` or ``","`` (``inputs.<table>.decimal``). With ``auto`` a column whose
        values do not tell the convention takes the one the file's other number columns tell.
    timezone
        ``cleaning.timezone``: the clock timestamps with a UTC offset are put on; None keeps the
        wall clock as written.
    told
        Number column -> the decimal convention its values tell over the whole file, when `frame`
        is only a part of it (an export cleaned in pieces); None: what `frame`'s values tell.
    """

    def __init__(
        self, frame: pd.DataFrame, table: str, *, date_format: str | None = None, decimal: str = "auto",
        timezone: str | None = None, told: Mapping[str, str] | None = None,
    ) -> None:
        self.date_format = date_format
        self.timezone = timezone
        self._currency = frame["currency"] if "currency" in frame else None
        self._numbers: dict[str, parsing.Numbers] = {}
        self._dates: dict[str, parsing.Timestamps] = {}
        columns = {name: money for name, money in NUMBER_COLUMNS.get(table, {}).items() if name in frame}
        if columns:
            forms = {name: parsing.number_forms(frame[name], money=money) for name, money in columns.items()}
            # `told`: what each column tells over the whole file, when `frame` is only a part of it
            told = {name: f.evidence() for name, f in forms.items()} if told is None else dict(told)
            for name, f in forms.items():
                # a column of whole numbers and "1,234"s borrows the convention its siblings tell
                others = {t for other, t in told.items() if other != name and t}
                fallback = others.pop() if len(others) == 1 and others <= {".", ","} else ""
                self._numbers[name] = parsing.choose(f, decimal, fallback, told[name])

    def numbers(self, text: pd.Series) -> pd.Series:
        """The numbers of a number column (NaN where none was read), indexed like the frame."""
        return self._numbers[text.name].values

    def ambiguous(self, text: pd.Series) -> pd.Series:
        """True where a number column's value waits for its decimal separator to be known."""
        return self._numbers[text.name].ambiguous

    def contradicts(self, text: pd.Series) -> pd.Series:
        """True where a money value's currency sign cannot stand for its row's currency."""
        signs = self._numbers[text.name].sign
        if self._currency is None:
            return pd.Series(False, index=signs.index)
        return parsing.sign_contradicts(signs, self._currency)

    def decimals(self) -> dict[str, str]:
        """The decimal convention of each number column (see :attr:`custseg.intake.parsing.Numbers.decimal`)."""
        return {name: numbers.decimal for name, numbers in self._numbers.items()}

    def dates(self, text: pd.Series) -> pd.Series:
        """The dates of a date column with the file's format, on one clock."""
        if text.name not in self._dates:
            self._dates[text.name] = parsing.read_timestamps(text, self.date_format, self.timezone)
        return self._dates[text.name].values

    def offsets(self) -> tuple[str, ...]:
        """The UTC offsets written in the date columns read so far, sorted."""
        return tuple(sorted({o for stamps in self._dates.values() for o in stamps.offsets}))


def _check(reason: str, ok: Callable[[pd.Series], pd.Series]) -> pa.Check:
    return pa.Check(ok, name=reason)


def _id() -> pa.Check:
    return _check("missing_id", lambda s: s.ne(""))


def _date(parsed: Parsed, required: bool) -> pa.Check:
    if required:
        return _check("bad_date", lambda s: parsed.dates(s).notna())
    return _check("bad_date", lambda s: parsed.dates(s).notna() | s.eq(""))


def _plausible(parsed: Parsed, earliest: dt.date, latest: dt.date) -> pa.Check:
    # a date on the latest day itself is plausible, whatever its time of day; an unreadable or
    # empty date is the other rules' business
    low, high = pd.Timestamp(earliest), pd.Timestamp(latest) + pd.Timedelta(days=1)
    return _check(
        "implausible_date", lambda s: parsed.dates(s).isna() | parsed.dates(s).between(low, high, inclusive="left")
    )


def _number(parsed: Parsed, required: bool) -> list[pa.Check]:
    # an ambiguous value is a number, of two possible sizes: it has a reason of its own
    read = (lambda s: parsed.numbers(s).notna() | parsed.ambiguous(s)) if required else (
        lambda s: parsed.numbers(s).notna() | parsed.ambiguous(s) | s.eq(""))
    return [_check("bad_number", read), _check("ambiguous_number", lambda s: ~parsed.ambiguous(s))]


def _money(parsed: Parsed) -> list[pa.Check]:
    return [*_number(parsed, required=True), _check("currency_mismatch", lambda s: ~parsed.contradicts(s))]


def _nonzero(parsed: Parsed) -> pa.Check:
    # an unreadable number is reported as bad_number, not also as zero
    return _check("zero_amount", lambda s: parsed.numbers(s).fillna(1.0).ne(0.0))


def _in_range(parsed: Parsed, low: float, high: float) -> pa.Check:
    return _check("out_of_range", lambda s: parsed.numbers(s).between(low, high) | parsed.numbers(s).isna())


def row_schema(
    table: str, parsed: Parsed, rates: Mapping[str, float], cleaning: Cleaning, latest: dt.date,
) -> pa.DataFrameSchema:
    """The row rules of one input table, over its canonical text columns.

    Parameters
    ----------
    table
        ``orders``, ``line_items``, ``customers``, ``interactions`` or ``feedback``.
    parsed
        The parse cache of the frame to be validated, made with the file's date format.
    rates
        Exchange rates by currency code, the base currency included.
    cleaning
        The config's cleaning rules (statuses, zero amounts, the earliest plausible date).
    latest
        The latest plausible date: ``cleaning.latest_date``, or the day the study runs.

    Returns
    -------
    pandera.DataFrameSchema
        Checks named by reason code; columns absent from a file are not checked (``required=False``).
    """
    currency = _check("unknown_currency", lambda s: s.isin(list(rates)))
    plausible = _plausible(parsed, cleaning.earliest_date, latest)
    nonzero = [] if cleaning.zero_amount == "keep" else [_nonzero(parsed)]
    rules: dict[str, dict[str, list[pa.Check]]] = {
        "orders": {
            "order_id": [_id()],
            "customer_id": [_id()],
            "order_date": [_date(parsed, required=True), plausible],
            "amount": [*_money(parsed), *nonzero],
            "currency": [currency],
            "status": [_check("unknown_status", lambda s: s.isin([*cleaning.statuses, "completed"]))],
        },
        "line_items": {
            "invoice": [_id()],
            "customer_id": [_id()],
            "invoice_date": [_date(parsed, required=True), plausible],
            "quantity": [*_number(parsed, required=True), *nonzero],
            "unit_price": [
                *_money(parsed),
                *nonzero,
                _check("negative_price", lambda s: parsed.numbers(s).fillna(0.0).ge(0.0)),
            ],
            "currency": [currency],
        },
        "customers": {
            "customer_id": [_id()],
            "signup_date": [_date(parsed, required=False), plausible],
        },
        "interactions": {
            "customer_id": [_id()],
            "interaction_date": [_date(parsed, required=True), plausible],
        },
        "feedback": {
            "customer_id": [_id()],
            "feedback_date": [_date(parsed, required=True), plausible],
            "satisfaction": [*_number(parsed, required=False), _in_range(parsed, 1, 5)],
            "nps": [*_number(parsed, required=False), _in_range(parsed, 0, 10)],
        },
    }
    return pa.DataFrameSchema(
        {name: pa.Column(checks=checks, required=False, nullable=False) for name, checks in rules[table].items()},
        name=table,
    )


def failures(schema: pa.DataFrameSchema, frame: pd.DataFrame) -> pd.DataFrame:
    """Every failing cell, one row each: ``index`` (frame label), ``column``, ``reason``.

    Sorted by row, then by reason in the order of `REASONS`, so the first entry of a row is the
    reason it is quarantined for; equal reasons of one row by the order of the schema's columns.

    Each check of the schema is run on its column (pandera's ``Check``), and only where it fails is
    kept. ``schema.validate(lazy=True)`` found the same cells, but first wrote every failing value
    into an error message nobody reads: two thirds of its 0.35 s on 1M lines, a quarter of them
    guest lines.
    """
    unknown = {check.name for column in schema.columns.values() for check in column.checks} - set(REASONS)
    if unknown:  # every rule names its reason code
        raise AssertionError(f"{schema.name}: checks without a reason code: {sorted(map(str, unknown))}")
    found = []
    for name, column in schema.columns.items():
        if name not in frame:  # an optional column the file does not have
            continue
        values = frame[name]
        if values.isna().any():  # the text of a file is never missing, only empty: a bug before this step
            raise AssertionError(f"{schema.name}: validation failed outside the row rules: column {name!r} "
                                 f"has missing values at {list(frame.index[values.isna().to_numpy()][:5])}")
        for check in column.checks:
            passed = check(values).check_output
            if not passed.index.equals(values.index):  # a rule that does not answer per row
                raise AssertionError(f"{schema.name}: check {check.name!r} of column {name!r} is not per row")
            failed = ~passed.to_numpy(dtype=bool)
            if failed.any():
                found.append(pd.DataFrame({"index": frame.index[failed], "column": name, "reason": check.name}))
    if not found:
        return pd.DataFrame(
            {"index": pd.Series(dtype="int64"), "column": pd.Series(dtype="str"), "reason": pd.Series(dtype="str")}
        )
    cases = pd.concat(found, ignore_index=True)
    rank = {reason: i for i, reason in enumerate(REASONS)}
    index = cases["index"].to_numpy(dtype="int64")
    # numpy's stable sort on two integer keys: sort_values took 74 ms on 1M lines
    order = np.lexsort((cases["reason"].map(rank).to_numpy(dtype="int64"), index))
    return pd.DataFrame({
        "index": index[order],
        "column": cases["column"].astype("str").array.take(order),
        "reason": cases["reason"].astype("str").array.take(order),
    })
