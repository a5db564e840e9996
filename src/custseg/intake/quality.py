"""Data quality: how the input was read and cleaned, for the data-quality report.

Intake accounts for every input row (``accounting.csv``), keeps the rows it could not use with a
reason (``quarantine.csv``) and, per column, how many cells were empty as read (``columns.csv``,
made with :func:`column_profile`). The pipeline then places customers in countries, provinces and
markets. The functions here turn those files into the tables of ``reports/quality.html``; they
are pure (frames in, new frames out) except :func:`load_quality_data`, which reads the files.

Personal data never leaves this module: the quarantine's value of a personal column (or any value
that looks like an e-mail address) is masked, and the interim customer table is read for its
signup dates only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pycountry

from custseg import files, geo, words
from custseg.config import Config
from custseg.i18n import _
from custseg.intake.validation import PERSONAL_COLUMNS, QUARANTINE_COLUMNS, QUARANTINE_FACTS, REASONS

# custseg.intake.cleaning calls column_profile while it reads the input, so this module imports the
# pipeline's modules (which import intake) inside the functions that need them, never at import time.

#: What a masked personal value shows instead.
MASK = "•••"

#: Example rows shown per quarantine reason.
EXAMPLES_PER_REASON = 3

#: The date column whose coverage is shown, per table (customers: when the file has signup dates).
DATE_COLUMNS: dict[str, str] = {
    "line_items": "invoice_date",
    "orders": "order_date",
    "customers": "signup_date",
    "interactions": "interaction_date",
    "feedback": "feedback_date",
}

#: Columns of ``columns.csv``, as :func:`column_profile` returns them.
PROFILE_COLUMNS = ["table", "column", "source_header", "rows", "empty", "empty_share"]

#: Columns every ``accounting.csv`` has; intake may add more (see :data:`READ_SETTINGS`).
ACCOUNTING_COLUMNS = ["table", "file", "rows_read", "clean", "quarantined", "duplicates_removed"]

#: How a file was read, when intake records it in the accounting.
READ_SETTINGS = ("format", "encoding", "delimiter", "decimal", "utc_offsets")

#: The facts behind the read settings, when intake records them: how the encoding was found
#: (custseg.intake.readers.ENCODING_SOURCES), the detector's confidence and the encodings it could not
#: tell apart, the time zone stamps with a UTC offset were converted to ("": wall clock kept), and
#: the file's own columns renamed out of the way of a mapping (custseg.intake.gathering.map_columns).
READ_DETAILS = ("encoding_source", "encoding_confidence", "encoding_alternatives", "timezone", "moved_aside")

#: The market of Chinese customers whose province was not recognised (see custseg.geo.MARKETS).
CHINA_PROVINCE_UNKNOWN = "China (province unknown)"

#: Columns of the processed customer table the region section reads (never personal data); the
#: last four are read when the table has them (a table processed by an older custseg lacks the
#: match columns, which :func:`matches` then derives).
_REGION_COLUMNS = ["country_raw", "province_raw", "market", "market_zh", "country_iso3", "province_code"]
_OPTIONAL_REGION_COLUMNS = ["country_en", "monetary", "country_match", "province_match"]

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_MAX_VALUE_LENGTH = 60  # a quarantined value is an example, not a dump of a free-text cell


@dataclass(frozen=True)
class QualityData:
    """What the data-quality report reads.

    Attributes
    ----------
    accounting
        ``accounting.csv``: one row per input file, counts as integers.
    quarantine
        One row per quarantined input row: ``quarantine.parquet`` (its facts, see
        :data:`custseg.intake.validation.QUARANTINE_FACTS`) or, from an intake before the facts,
        ``quarantine.csv`` (values as text, ``row`` as integer).
    columns
        ``columns.csv`` (see :func:`column_profile`), or None when intake did not write it.
    dates
        Table name -> its date column from the clean interim table (see :data:`DATE_COLUMNS`),
        for the tables intake read that have one.
    customers
        Region columns of the processed customer table, or None when no input carried customer
        locations (orders only).
    meta
        ``study.json`` of the processed data (title, observation date...).
    reversals
        ``reversals.csv``: the reversal lines (or negative order rows) matched in full, in part
        and not at all, with their value; None when intake did not write it.
    undone
        Orders undone: by matched reversals (in full, in part) and by the export's own status
        (:func:`undone_orders`); None without clean orders.
    """

    accounting: pd.DataFrame
    quarantine: pd.DataFrame
    columns: pd.DataFrame | None
    dates: dict[str, pd.Series]
    customers: pd.DataFrame | None
    meta: dict
    reversals: pd.DataFrame | None = None
    undone: pd.DataFrame | None = None


def source_files(config: Config) -> list[Path]:
    """Every file the data-quality report reads, present or not (a report build fingerprints them).

    Parameters
    ----------
    config
        The study config; its interim and processed folders are listed.

    Returns
    -------
    list of Path
        Interim accounting, quarantine, column profile and clean tables; processed customers and
        study facts. ``columns.csv`` and some tables may not exist.
    """
    interim, processed = config.output.interim, config.output.processed
    return [
        interim / "accounting.csv",
        interim / "quarantine.csv",
        interim / "quarantine.parquet",
        interim / "columns.csv",
        interim / "reversals.csv",
        *(interim / f"{table}.parquet" for table in DATE_COLUMNS),
        processed / "customers.parquet",
        processed / "study.json",
    ]


def load_quality_data(config: Config) -> QualityData:
    """Read what intake and the pipeline wrote for the data-quality report.

    Parameters
    ----------
    config
        The study config; intake and the pipeline must have run (``custseg process``).

    Returns
    -------
    QualityData

    Raises
    ------
    FileNotFoundError
        When the accounting, the quarantine, a clean table named in the accounting or the
        processed data is missing.
    """
    interim, processed = config.output.interim, config.output.processed
    hint = f"run `custseg process --config {config.source}` first"
    for path in (interim / "accounting.csv", interim / "quarantine.csv", processed / "study.json"):
        if not path.is_file():
            raise FileNotFoundError(f"{path} does not exist: {hint}")
    accounting = _read_counts(
        interim / "accounting.csv", lambda c: c in ACCOUNTING_COLUMNS[2:] or c.startswith("q_")
    )
    facts = interim / "quarantine.parquet"
    # the facts when intake wrote them (the page words the details itself); an interim folder of
    # an older intake has only the sheet, whose English details are shown as written
    quarantine = (
        pd.read_parquet(facts) if facts.is_file() else _read_counts(interim / "quarantine.csv", lambda c: c == "row")
    )
    columns_path = interim / "columns.csv"
    columns = (
        _read_counts(columns_path, lambda c: c in ("rows", "empty", "empty_share")) if columns_path.is_file() else None
    )

    # The accounting is rewritten by every intake run, so a table it does not list may be a stale
    # file of an earlier run; orders are always written (read, or derived from line items).
    tables = {*accounting["table"], "orders"}
    dates = {}
    for table, column in DATE_COLUMNS.items():
        if table not in tables:
            continue
        path = interim / f"{table}.parquet"
        if not path.is_file():
            raise FileNotFoundError(f"{path} does not exist although intake read {table!r}: {hint}")
        if column in _parquet_columns(path):
            # one column only: the interim customer table holds personal data this report never reads
            dates[table] = pd.read_parquet(path, columns=[column])[column]
    present = set(_parquet_columns(processed / "customers.parquet"))
    region_columns = _REGION_COLUMNS + [column for column in _OPTIONAL_REGION_COLUMNS if column in present]
    customers = pd.read_parquet(processed / "customers.parquet", columns=region_columns)
    if "customers" not in tables and _blank(customers["country_raw"]).all() and _blank(customers["province_raw"]).all():
        customers = None  # orders only: the customer table was derived from orders, with no locations
    meta = json.loads((processed / "study.json").read_text(encoding="utf-8"))
    reversals_path = interim / "reversals.csv"
    reversals = (
        _read_counts(reversals_path, lambda c: c in ("reversals", "value", "matched_value"))
        if reversals_path.is_file() else None
    )
    orders_path = interim / "orders.parquet"
    undone = None
    if orders_path.is_file():
        wanted = [c for c in ("order_id", "customer_id", "status", "revenue", "amount_base", "refunded_on", "reverses")
                  if c in _parquet_columns(orders_path)]
        undone = undone_orders(pd.read_parquet(orders_path, columns=wanted))
    return QualityData(accounting, quarantine, columns, dates, customers, meta, reversals, undone)


def undone_orders(orders: pd.DataFrame) -> pd.DataFrame:
    """Purchases undone by matched reversals, in full and in part, and orders the export itself
    marks as refunded or cancelled: how many, and the value.

    Parameters
    ----------
    orders
        Clean orders (order_id, customer_id, status, revenue, amount_base; ``refunded_on`` and
        ``reverses`` when reversals were matched).

    Returns
    -------
    pandas.DataFrame
        Rows ``refunded`` (undone in full by matched reversals: refunded with a ``refunded_on``
        day), ``in_part`` (still purchases, named by a return), ``refunded_by_status`` and
        ``cancelled_by_status`` (the export's own status, no reversal row), with ``orders`` and
        ``value``: for the first two the revenue the matched reversals took back, for the others
        the orders' amounts (base currency).
    """
    has_day = orders["refunded_on"].notna() if "refunded_on" in orders else pd.Series(False, index=orders.index)
    full = orders["status"].eq("refunded") & has_day
    if "reverses" in orders:
        undoing = orders.loc[orders["reverses"].notna()]
    else:
        undoing = orders.iloc[0:0].assign(reverses=pd.Series(dtype="str"))
    # an order id is a customer's own: a return names an order of the same customer
    target = undoing["customer_id"].astype("str") + "\x1f" + undoing["reverses"].astype("str")
    ids = orders["customer_id"].astype("str") + "\x1f" + orders["order_id"].astype("str")
    in_full = target.isin(set(ids[full]))
    amount = orders["amount_base"] if "amount_base" in orders else orders["revenue"]
    by_status = {status: orders["status"].eq(status) & ~has_day for status in ("refunded", "cancelled")}
    return pd.DataFrame({
        "undone": ["refunded", "in_part", "refunded_by_status", "cancelled_by_status"],
        "orders": [int(full.sum()), int(target[~in_full].nunique()),
                   *(int(mask.sum()) for mask in by_status.values())],
        "value": [round(float(-undoing.loc[in_full, "revenue"].sum()), 2),
                  round(float(-undoing.loc[~in_full, "revenue"].sum()), 2),
                  *(round(float(amount[mask].sum()), 2) for mask in by_status.values())],
    })


def _parquet_columns(path: Path) -> list[str]:
    import pyarrow.parquet as pq

    return list(pq.read_schema(path).names)


def _read_counts(path: Path, numeric: Callable[[str], bool]) -> pd.DataFrame:
    """A CSV written by intake: the columns `numeric` names as numbers, every other one as written."""
    # keep_default_na=False: a file called "NA.csv" or a value "NULL" is data, not missing
    # the text cells as intake had them, before write_csv neutralised formulas for Excel
    frame = files.restore_frame(pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig"))
    numbers = {}
    for column in filter(numeric, frame.columns):
        values = pd.to_numeric(frame[column].replace("", None), errors="coerce")
        bad = values.isna() & frame[column].ne("")
        if bad.any():
            raise ValueError(f"{path}: column {column!r} holds {frame[column][bad].iloc[0]!r}, not a number")
        numbers[column] = values
    return frame.assign(**numbers)


def column_profile(raw: pd.DataFrame, table: str, headers: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Empty cells per column of one input table, as read: the rows of ``columns.csv``.

    Parameters
    ----------
    raw
        The table as read, before any cleaning: every column text, under custseg's canonical
        names, plus an optional ``source_row`` column (skipped).
    table
        The table's name (``orders``, ``customers``...), repeated on every row.
    headers
        Canonical column name -> the header in the user's file, for columns mapped in the config.
        Columns it does not name keep their own name; names not in `raw` are ignored.

    Returns
    -------
    pandas.DataFrame
        One row per column of `raw` (file order), with columns ``table``, ``column`` (canonical
        name), ``source_header``, ``rows``, ``empty`` (cells that are empty, whitespace only or
        missing) and ``empty_share`` (0 when the table has no rows).

    Raises
    ------
    TypeError
        If `raw` is not a DataFrame.
    ValueError
        If a column is not text (the profile is of rows as read, before dates and numbers are parsed).

    Examples
    --------
    >>> raw = pd.DataFrame({"order_id": ["A1", " "], "amount": ["9.5", ""], "source_row": [2, 3]})
    >>> column_profile(raw, "orders", {"amount": "Betrag"})
        table    column source_header  rows  empty  empty_share
    0  orders  order_id      order_id     2      1          0.5
    1  orders    amount        Betrag     2      1          0.5
    """
    if not isinstance(raw, pd.DataFrame):
        raise TypeError(f"raw must be a pandas DataFrame, got {type(raw).__name__}")
    headers = dict(headers or {})
    columns = [column for column in raw.columns if column != "source_row"]
    rows = []
    for column in columns:
        values = raw[column]
        if not (pd.api.types.is_string_dtype(values) or pd.api.types.is_object_dtype(values)):
            raise ValueError(
                f"{table}: column {column!r} is {values.dtype}, not text; profile the rows as read, "
                "before dates and numbers are parsed"
            )
        # str.strip() knows Unicode whitespace, so a full-width space (U+3000) is empty too
        empty = values.astype("string").fillna("").str.strip().eq("")
        n_empty = int(empty.sum())
        rows.append({
            "table": table,
            "column": column,
            "source_header": headers.get(column, column),
            "rows": len(raw),
            "empty": n_empty,
            "empty_share": n_empty / len(raw) if len(raw) else 0.0,
        })
    if not rows:
        return pd.DataFrame({
            column: pd.Series(
                dtype="float64" if column == "empty_share" else "int64" if column in ("rows", "empty") else "object"
            )
            for column in PROFILE_COLUMNS
        })
    return pd.DataFrame(rows, columns=PROFILE_COLUMNS)


def accounting_table(accounting: pd.DataFrame) -> pd.DataFrame:
    """Per input file: rows read, where they went, whether the counts add up and how it was read.

    Parameters
    ----------
    accounting
        ``accounting.csv`` as written by intake (counts as numbers).

    Returns
    -------
    pandas.DataFrame
        Columns ``table``, ``file``, ``rows_read``, ``clean``, ``quarantined``,
        ``duplicates_removed``, ``adds_up`` (rows read = clean + quarantined + duplicates removed),
        followed by those of :data:`READ_SETTINGS` and :data:`READ_DETAILS` the accounting carries.

    Raises
    ------
    ValueError
        If a column every accounting has is missing.
    """
    missing = [column for column in ACCOUNTING_COLUMNS if column not in accounting.columns]
    if missing:
        raise ValueError(
            f"the intake accounting has no column(s) {missing}; its columns are {list(accounting.columns)}"
        )
    counts = accounting[ACCOUNTING_COLUMNS[2:]].astype("int64")
    adds_up = counts["rows_read"].eq(counts["clean"] + counts["quarantined"] + counts["duplicates_removed"])
    settings = [column for column in (*READ_SETTINGS, *READ_DETAILS) if column in accounting.columns]
    return pd.concat(
        [accounting[ACCOUNTING_COLUMNS[:2]], counts, adds_up.rename("adds_up"), accounting[settings]], axis=1
    ).reset_index(drop=True)


def reason_counts(quarantine: pd.DataFrame, reasons: Mapping[str, str] = REASONS) -> pd.DataFrame:
    """Quarantined rows per reason, with what the reason means, most frequent first.

    Parameters
    ----------
    quarantine
        ``quarantine.csv``: at least the columns ``table`` and ``reason``.
    reasons
        Reason code -> plain-English meaning (default: custseg.intake.validation.REASONS); a code it does not
        know is shown as itself.

    Returns
    -------
    pandas.DataFrame
        Columns ``reason`` (code), ``meaning``, ``rows`` and ``tables`` (the tables affected,
        comma-separated); no rows when nothing was quarantined.
    """
    _require(quarantine, ("table", "reason"), "the quarantine")
    grouped = quarantine.groupby("reason", sort=False).agg(
        rows=("reason", "size"), tables=("table", lambda t: ", ".join(dict.fromkeys(t)))
    )
    frame = grouped.reset_index().astype({"reason": "object", "tables": "object"})
    frame = frame.assign(
        meaning=[reasons.get(code) or code for code in frame["reason"]], rows=frame["rows"].astype("int64")
    )
    frame = frame.sort_values(["rows", "reason"], ascending=[False, True], kind="stable")
    return frame[["reason", "meaning", "rows", "tables"]].reset_index(drop=True)


def display_value(column: str, value: object) -> str:
    """A quarantined value as a report may show it: personal data masked, long text cut.

    Parameters
    ----------
    column
        The canonical column the value came from.
    value
        The value as read.

    Returns
    -------
    str
        :data:`MASK` for a personal column (name, e-mail, phone) or a value that looks like an
        e-mail address; ``"(empty)"``, in the report language, for an empty value; otherwise the
        value, cut at 60 characters.
    """

    text = "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)
    if column in PERSONAL_COLUMNS or _EMAIL.search(text):
        return MASK
    if not text.strip():
        return _("(empty)")
    return text if len(text) <= _MAX_VALUE_LENGTH else text[: _MAX_VALUE_LENGTH - 1] + "…"


def reason_examples(quarantine: pd.DataFrame, per_reason: int = EXAMPLES_PER_REASON) -> pd.DataFrame:
    """The first few quarantined rows of each reason, safe to show.

    Parameters
    ----------
    quarantine
        Intake's quarantine: its facts (``quarantine.parquet``, columns ``table``, ``file``,
        ``row``, ``reason``, ``column``, ``value``, ``figures``) or the sheet (``quarantine.csv``,
        with ``detail`` in English instead of ``figures``).
    per_reason
        Examples per reason at most, in the order intake found them.

    Returns
    -------
    pandas.DataFrame
        Columns ``reason``, ``table``, ``file`` (name only, no folder), ``row`` (line in the file,
        header = 1), ``column``, ``value`` (see :func:`display_value`) and ``detail`` (in the active
        language from the facts, by :func:`custseg.words.quarantine_detail`; as written from the
        sheet; e-mail addresses masked); reasons in the order of :func:`reason_counts`.

    Raises
    ------
    ValueError
        If `per_reason` is negative or a quarantine column is missing.
    """
    if per_reason < 0:
        raise ValueError(f"per_reason must be 0 or more, got {per_reason}")
    _require(quarantine, QUARANTINE_FACTS if "figures" in quarantine else QUARANTINE_COLUMNS, "the quarantine")
    order = {code: rank for rank, code in enumerate(reason_counts(quarantine, {})["reason"])}
    examples = quarantine.groupby("reason", sort=False).head(per_reason)
    examples = examples.iloc[sorted(range(len(examples)), key=lambda i: order[examples["reason"].iat[i]])]
    return pd.DataFrame({
        "reason": examples["reason"].astype("object"),
        "table": examples["table"].astype("object"),
        "file": [Path(str(file)).name for file in examples["file"]],
        "row": examples["row"].astype("int64"),
        "column": examples["column"].astype("object"),
        "value": [display_value(column, value) for column, value in zip(examples["column"], examples["value"])],
        # details are made from codes, column names and currencies; masked all the same
        "detail": [_EMAIL.sub(MASK, str(detail)) for detail in _details(examples)],
    }).reset_index(drop=True)


def _details(quarantine: pd.DataFrame) -> list[str]:
    """Each quarantined row's detail: made from its facts in the active language, else as written."""
    if "figures" not in quarantine:
        return list(quarantine["detail"])
    return [
        words.quarantine_detail(reason, column, table, figures)
        for reason, column, table, figures in zip(
            quarantine["reason"], quarantine["column"], quarantine["table"], quarantine["figures"]
        )
    ]


def monthly_rows(dates: pd.Series) -> pd.Series:
    """Rows per calendar month, from the first month with a date to the last, zero where none.

    Parameters
    ----------
    dates
        A datetime column; missing dates are left out.

    Returns
    -------
    pandas.Series
        Integer counts named ``rows`` on a monthly ``PeriodIndex`` named ``month``; empty when no
        row has a date.

    Raises
    ------
    TypeError
        If `dates` is not a datetime column.
    """
    if not pd.api.types.is_datetime64_any_dtype(dates):
        raise TypeError(f"dates must be a datetime column, got {dates.dtype} ({dates.name!r})")
    months = dates.dropna().dt.to_period("M")
    span = pd.period_range(months.min(), months.max(), freq="M") if len(months) else pd.PeriodIndex([], freq="M")
    counts = months.value_counts().reindex(span, fill_value=0).astype("int64")
    return counts.rename_axis("month").rename("rows")


def gaps(monthly: pd.Series) -> list[pd.Period]:
    """Months with no rows inside the span of :func:`monthly_rows`."""
    return list(monthly.index[monthly.eq(0)])


def date_coverage(dates: Mapping[str, pd.Series]) -> pd.DataFrame:
    """First and last date, months covered and months with no rows, per table.

    Parameters
    ----------
    dates
        Table name -> its date column (named after the column).

    Returns
    -------
    pandas.DataFrame
        One row per table, in the mapping's order: ``table``, ``column``, ``rows``, ``undated``
        (rows without a date), ``first`` and ``last`` (NaT when no row has a date), ``months``
        (calendar months from the first to the last, both counted), ``empty_months`` and
        ``gaps`` (the empty months, a tuple of monthly periods).
    """
    rows = []
    for table, column in dates.items():
        monthly = monthly_rows(column)
        empty = gaps(monthly)
        rows.append({
            "table": table,
            "column": column.name,
            "rows": len(column),
            "undated": int(column.isna().sum()),
            "first": column.min(),
            "last": column.max(),
            "months": len(monthly),
            "empty_months": len(empty),
            "gaps": tuple(empty),
        })
    return pd.DataFrame(
        rows, columns=["table", "column", "rows", "undated", "first", "last", "months", "empty_months", "gaps"]
    )


@dataclass(frozen=True)
class RegionSummary:
    """How the raw locations of customers were placed (see :func:`region_summary`)."""

    customers: int
    country_spellings: int  # distinct raw country values that were recognised
    countries: int  # distinct countries they were recognised as
    placed_country: int  # customers placed in a country
    no_country: int  # customers with no country given: an empty value or a non-answer
    non_answers: int  # ... of them, customers whose value says no place was given ("Unspecified")
    market_only: int  # customers placed in a market by a grouping ("Channel Islands"), country unknown
    unrecognised_country_spellings: int
    unrecognised_country: int  # customers with a country value custseg did not recognise
    province_spellings: int  # distinct raw province values recognised as a province or state
    provinces: int  # distinct provinces / states (ISO 3166-2 codes) they were recognised as
    placed_province: int  # customers placed in a recognised province or state
    unknown_market: int  # customers in the "Unknown" market
    china_province_unknown: int  # customers in "China (province unknown)"


def _blank(values: pd.Series) -> pd.Series:
    return values.astype("string").fillna("").str.strip().eq("")


def _require(frame: pd.DataFrame, columns, what: str) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(f"{what} has no column(s) {missing}; its columns are {list(frame.columns)}")


def matches(customers: pd.DataFrame) -> pd.DataFrame:
    """``country_match`` and ``province_match`` of each customer (see :mod:`custseg.geo`).

    Taken from the table when it has them; derived for a table processed by an older custseg,
    which had neither groupings nor non-answers: a country is placed or not, empty or not, and a
    province is placed where it has a code, kept where its country has no list
    (anything but China, the USA and Canada), and not recognised otherwise.

    Parameters
    ----------
    customers
        Region columns of the processed customer table.

    Returns
    -------
    pandas.DataFrame
        Same index, columns ``country_match`` and ``province_match``.
    """
    if {"country_match", "province_match"} <= set(customers.columns):
        return customers[["country_match", "province_match"]]
    country = pd.Series("unknown", index=customers.index, dtype="object")
    country = country.mask(_blank(customers["country_raw"]), "not_given")
    country = country.mask(customers["country_iso3"].notna(), "country")
    looked_up = customers["country_iso3"].isin(["CHN", "USA", "CAN"]).fillna(False).astype(bool)
    province = pd.Series("kept", index=customers.index, dtype="object")
    province = province.mask(looked_up, "unknown").mask(customers["province_code"].notna(), "province")
    province = province.mask(_blank(customers["province_raw"]), "not_given")
    return pd.DataFrame({"country_match": country, "province_match": province})


def region_summary(customers: pd.DataFrame) -> RegionSummary:
    """Raw country and province spellings against the countries and provinces they became.

    A province counts as placed when it was recognised as a subdivision with an ISO 3166-2 code;
    where custseg has no list of a country's subdivisions (or the country is unknown), the province
    is kept as typed, which places no one.

    Parameters
    ----------
    customers
        The processed customer table (or its columns ``country_raw``, ``province_raw``,
        ``market``, ``country_iso3`` and ``province_code``, and ``country_match`` when it has
        it), one row per customer.

    Returns
    -------
    RegionSummary

    Raises
    ------
    ValueError
        If a region column is missing.
    """
    _require(
        customers, ("country_raw", "province_raw", "market", "country_iso3", "province_code"), "the customer table"
    )
    match = matches(customers)["country_match"]
    country = customers["country_iso3"].notna()
    province = customers["province_code"].notna()
    not_given = match.eq("not_given")
    unrecognised = match.eq("unknown")
    return RegionSummary(
        customers=len(customers),
        country_spellings=int(customers.loc[country, "country_raw"].nunique()),
        countries=int(customers.loc[country, "country_iso3"].nunique()),
        placed_country=int(country.sum()),
        no_country=int(not_given.sum()),
        non_answers=int((not_given & ~_blank(customers["country_raw"])).sum()),
        market_only=int(match.eq("market").sum()),
        unrecognised_country_spellings=int(customers.loc[unrecognised, "country_raw"].nunique()),
        unrecognised_country=int(unrecognised.sum()),
        province_spellings=int(customers.loc[province, "province_raw"].nunique()),
        provinces=int(customers.loc[province, "province_code"].nunique()),
        placed_province=int(province.sum()),
        unknown_market=int(customers["market"].eq(geo.UNKNOWN).sum()),
        china_province_unknown=int(customers["market"].eq(CHINA_PROVINCE_UNKNOWN).sum()),
    )


#: Columns of :func:`unplaced_places`.
UNPLACED_COLUMNS = [
    "level", "value", "status", "country_iso3", "market", "customers", "revenue", "suggestion", "alias",
]


def alias_line(level: str, value: str, target: str | None, country_iso2: str | None = None) -> str:
    """The config line that places a value: ``regions.aliases.countries: {"West Indies": ???}``.

    Parameters
    ----------
    level
        ``country`` or ``province``.
    value
        The value as typed; written as a YAML double-quoted string, so any text pastes as it is.
    target
        What to map it to (an alpha-3 code, a market or an ISO 3166-2 code), or None for the
        placeholder ``???`` (``BR-???`` for a province of a known country).
    country_iso2
        The province's country, for the placeholder.

    Returns
    -------
    str

    Examples
    --------
    >>> print(alias_line("country", 'Xanadu "north"', None))
    regions.aliases.countries: {"Xanadu \\"north\\"": ???}
    >>> alias_line("province", "Sao Paolo", "BR-SP")
    'regions.aliases.subdivisions: {"Sao Paolo": BR-SP}'
    """
    section = {"country": "countries", "province": "subdivisions"}[level]
    if target is None:
        target = f"{country_iso2}-???" if level == "province" and country_iso2 else "???"
    elif " " in target or ":" in target:
        target = json.dumps(target, ensure_ascii=False)
    return f"regions.aliases.{section}: {{{json.dumps(value, ensure_ascii=False)}: {target}}}"


def unplaced_places(
    customers: pd.DataFrame, *, levels: tuple[str, ...] = ("country", "province"), blanks: bool = False
) -> pd.DataFrame:
    """Every raw country and province value custseg could not place, with its customers and revenue.

    A country value is listed when it gave no country: not recognised (``unknown``), a grouping
    that gave a market only (``market``), or a non-answer such as "Unspecified" (``not_given``).
    A province value is listed when its country is known and has ISO 3166-2 subdivisions but the
    value is none of them (``unknown``). Empty values are listed (as ``""``, ``not_given``) only
    when `blanks` is true.

    Parameters
    ----------
    customers
        Region columns of the processed customer table, with ``monetary`` (net spend) when the
        revenue is to be shown (else ``revenue`` is missing).
    levels
        Which of ``country`` and ``province`` to list.
    blanks
        List empty values too (the "Unknown" region's page accounts for every customer in it).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`UNPLACED_COLUMNS`: ``level``, ``value`` (exactly as typed), ``status``,
        ``country_iso3`` (a province's country), ``market`` (where a grouping placed the
        customers), ``customers``, ``revenue`` (their net spend), ``suggestion`` (a close code,
        as a hint; None when nothing is close), ``alias`` (the config line that places the value,
        with the suggestion or ``???``; empty for a value not given). Largest revenue first
        (customers, then level and value, break ties).
    """
    _require(customers, ("country_raw", "province_raw", "country_iso3", "market"), "the customer table")
    unknown_levels = sorted(set(levels) - {"country", "province"})
    if unknown_levels:
        raise ValueError(f"levels must be country and/or province, got {unknown_levels}")
    match = matches(customers)
    revenue = customers["monetary"] if "monetary" in customers else pd.Series(float("nan"), index=customers.index)
    iso2 = {country.alpha_3: country.alpha_2 for country in pycountry.countries}
    parts = []
    if "country" in levels:
        status = match["country_match"]
        rows = status.ne("country") & (blanks | ~_blank(customers["country_raw"]))
        market = customers["market"].where(status.eq("market"))
        parts.append(pd.DataFrame({
            "level": "country", "value": customers["country_raw"].fillna(""), "status": status,
            "country_iso3": None, "market": market, "revenue": revenue,
        })[rows])
    if "province" in levels:
        status = match["province_match"]
        rows = status.eq("unknown") | (blanks & status.eq("not_given") & customers["country_iso3"].notna())
        parts.append(pd.DataFrame({
            "level": "province", "value": customers["province_raw"].fillna(""), "status": status,
            "country_iso3": customers["country_iso3"], "market": None, "revenue": revenue,
        })[rows])
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=UNPLACED_COLUMNS[:5] + ["revenue"])
    keys = ["level", "value", "status", "country_iso3", "market"]
    frame = frame.astype({key: "object" for key in keys})
    grouped = (
        frame.fillna({"country_iso3": "", "market": ""})
        .groupby(keys, sort=False)
        .agg(customers=("level", "size"), revenue=("revenue", lambda r: r.sum(min_count=1)))
        .reset_index()
    )
    rows = []
    for record in grouped.to_dict("records"):
        record.update({key: record[key] or None for key in ("country_iso3", "market")})
        suggestion = None
        if record["status"] in ("unknown", "market") and record["value"].strip():
            if record["level"] == "country":
                suggestion = geo.suggest_country(record["value"])
            elif record["country_iso3"]:
                suggestion = geo.suggest_subdivision(record["value"], record["country_iso3"])
        alias = ""
        if record["status"] != "not_given":
            alias = alias_line(record["level"], record["value"], suggestion, iso2.get(record["country_iso3"] or ""))
        rows.append({**record, "suggestion": suggestion, "alias": alias})
    result = pd.DataFrame(rows, columns=UNPLACED_COLUMNS)
    optional = ["country_iso3", "market", "suggestion"]
    result = result.astype({"customers": "int64", "revenue": "float64", **dict.fromkeys(optional, "object")})
    result[optional] = result[optional].where(result[optional].notna(), None)  # None, never NaN, for "no code"
    order = result.sort_values(
        ["revenue", "customers", "level", "value"], ascending=[False, False, True, True], na_position="last",
        kind="stable",
    )
    return order.reset_index(drop=True)
