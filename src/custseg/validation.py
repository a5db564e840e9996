"""Row rules of every input table, declared as pandera schemas over the raw text.

Intake reads every cell as text, so each rule is a vectorized check on a text column that names
its reason code (``missing_id``, ``bad_date``, ...). pandera validates lazily: one pass collects
every failing cell of every rule with its row index, which :func:`failures` turns into one
quarantine reason per row. Typing happens after validation, on the rows that passed.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping

import pandas as pd
import pandera.pandas as pa

from custseg.config import Cleaning
from custseg.i18n import N_

#: Quarantine reason codes and what they mean, in the order a row's first problem is picked.
#: The meanings are English in quarantine.csv and intake's messages; the data-quality page
#: translates them (hence N_).
REASONS: dict[str, str] = {
    "missing_id": N_("a required id is empty"),
    "bad_date": N_("a date that cannot be read"),
    "implausible_date": N_("a date outside the plausible range (cleaning.earliest_date to cleaning.latest_date)"),
    "bad_number": N_("a number that cannot be read"),
    "zero_amount": N_("an amount or quantity of zero (cleaning.zero_amount: keep to accept them)"),
    "negative_price": N_("a unit price below zero"),
    "unknown_currency": N_("a currency with no exchange rate in the config"),
    "unknown_status": N_("an order status not listed under cleaning.statuses"),
    "out_of_range": N_("a score outside its scale (satisfaction 1-5, NPS 0-10)"),
    "conflicting_duplicate": N_("a second, different row for an id already seen"),
    "conflicting_invoice": N_("an invoice line whose customer or currency differs from the invoice's first line"),
}

#: Columns of a clean orders table, whether read from an orders export or derived from line items.
#: ``refunded_on``: the day a purchase was undone by a matched reversal (it was a purchase before
#: that day); ``reverses``: the order a reversal or return undid, when it matched one.
ORDER_COLUMNS = ("order_id", "customer_id", "order_date", "amount", "currency", "status", "category",
                 "source_row", "amount_base", "revenue", "refunded_on", "reverses")

#: Columns of ``quarantine.csv``: one row per rejected input row.
QUARANTINE_COLUMNS = ["table", "file", "row", "reason", "column", "value", "detail"]

# Thousands separators, currency signs and spaces that exports put inside numbers.
_NUMBER_NOISE = re.compile(r"[,\s¥￥$€£]|RMB|CNY|USD|EUR|GBP|元")


def parse_numbers(text: pd.Series) -> pd.Series:
    """Numbers from export text ("1,234.50", "¥99", "(20.00)", "-5"); unreadable or empty -> NaN."""
    parsed = pd.to_numeric(text, errors="coerce").astype("float64")
    # Only the cells plain parsing missed pay for the clean-up of separators and signs.
    retry = parsed.isna() & text.ne("")
    if retry.any():
        cleaned = text[retry].str.replace(_NUMBER_NOISE, "", regex=True)
        # "(12.50)" is how accounting exports write a negative number
        cleaned = cleaned.str.replace(r"^\((.*)\)$", r"-\1", regex=True)
        parsed[retry] = pd.to_numeric(cleaned.where(cleaned.ne(""), None), errors="coerce").astype("float64")
    return parsed


def parse_dates(text: pd.Series, date_format: str | None) -> pd.Series:
    """Dates from export text with the configured format (ISO 8601 when None); else NaT."""
    parsed = pd.to_datetime(text.where(text.ne(""), None), format=date_format or "ISO8601", errors="coerce")
    return parsed.astype("datetime64[s]")


def map_statuses(text: pd.Series, cleaning: Cleaning) -> pd.Series:
    """Canonical status per row; an empty status means completed, an unlisted one stays as written."""
    lookup = {value.casefold(): canonical for canonical, values in cleaning.statuses.items() for value in values}
    folded = text.str.casefold()
    mapped = folded.map(lookup)
    return mapped.where(mapped.notna(), text).where(text.ne(""), "completed").astype("str")


class Parsed:
    """Numbers and dates parsed from one table's text columns, each column once.

    The row rules and the typing of the rows that pass both need the parsed values; parsing a
    million cells costs a noticeable fraction of a second per column, so they share this cache.
    It belongs to one frame: values are kept by column name.
    """

    def __init__(self, date_format: str | None) -> None:
        self.date_format = date_format
        self._values: dict[str, pd.Series] = {}

    def numbers(self, text: pd.Series) -> pd.Series:
        """:func:`parse_numbers` of the column, indexed like the frame it was first parsed from."""
        return self._get(text, parse_numbers)

    def dates(self, text: pd.Series) -> pd.Series:
        """:func:`parse_dates` of the column with the table's date format."""
        return self._get(text, lambda t: parse_dates(t, self.date_format))

    def _get(self, text: pd.Series, parse: Callable[[pd.Series], pd.Series]) -> pd.Series:
        if text.name not in self._values:
            self._values[text.name] = parse(text)
        return self._values[text.name]


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
    return _check("implausible_date", lambda s: parsed.dates(s).isna() | parsed.dates(s).between(low, high, inclusive="left"))


def _number(parsed: Parsed, required: bool) -> pa.Check:
    if required:
        return _check("bad_number", lambda s: parsed.numbers(s).notna())
    return _check("bad_number", lambda s: parsed.numbers(s).notna() | s.eq(""))


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
            "amount": [_number(parsed, required=True), *nonzero],
            "currency": [currency],
            "status": [_check("unknown_status", lambda s: s.isin([*cleaning.statuses, "completed"]))],
        },
        "line_items": {
            "invoice": [_id()],
            "customer_id": [_id()],
            "invoice_date": [_date(parsed, required=True), plausible],
            "quantity": [_number(parsed, required=True), *nonzero],
            "unit_price": [
                _number(parsed, required=True),
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
            "satisfaction": [_number(parsed, required=False), _in_range(parsed, 1, 5)],
            "nps": [_number(parsed, required=False), _in_range(parsed, 0, 10)],
        },
    }
    return pa.DataFrameSchema(
        {name: pa.Column(checks=checks, required=False, nullable=False) for name, checks in rules[table].items()},
        name=table,
    )


def failures(schema: pa.DataFrameSchema, frame: pd.DataFrame) -> pd.DataFrame:
    """Every failing cell, one row each: ``index`` (frame label), ``column``, ``reason``.

    Sorted by row, then by reason in the order of `REASONS`, so the first entry of a row is the
    reason it is quarantined for.
    """
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
    else:
        return pd.DataFrame({"index": pd.Series(dtype="int64"), "column": pd.Series(dtype="str"), "reason": pd.Series(dtype="str")})
    unexpected = set(cases["check"]) - set(REASONS)
    if unexpected:  # a schema-level problem (e.g. a wrong dtype), never a data row's fault
        raise AssertionError(f"{schema.name}: validation failed outside the row rules: {cases.head().to_dict('records')}")
    rank = {reason: i for i, reason in enumerate(REASONS)}
    cases = cases.assign(rank=cases["check"].map(rank)).sort_values(["index", "rank"], kind="stable")
    return pd.DataFrame({
        "index": cases["index"].astype("int64").to_numpy(),
        "column": cases["column"].astype("str").to_numpy(),
        "reason": cases["check"].astype("str").to_numpy(),
    })
