"""Numbers and timestamps read from export text as the file means them.

Exports write numbers in two conventions: ``1,234.50`` (a decimal point, commas grouping
thousands: English, Chinese) and ``1.234,50`` (a decimal comma, points or spaces grouping:
most of continental Europe and South America). Most values tell their convention by their form
(``415,70`` can only be 415.70; ``1,234,567`` only 1234567), but ``1,234`` and ``1.234`` are
*ambiguous*: 1234 in one convention, 1.234 in the other. Here every value is read both ways; a
column's values that tell the convention decide how its ambiguous ones are read, and when
nothing tells it they are left unread (intake quarantines them as ``ambiguous_number``). The
rule is documented in docs/config.md ("Numbers").

Timestamps may carry a UTC offset (``2024-01-05T10:00:00+08:00``, ``...Z``); they are put on one
clock: the configured time zone, or the wall clock as written.

Everything here is a pure function of text: :mod:`custseg.intake.validation` turns the results into
quarantine reasons.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pycountry

#: Values of ``inputs.<table>.decimal``.
DECIMALS = ("auto", ".", ",")

# Dollar and peso currencies, all written "$" at home.
_DOLLARS = ("USD", "AUD", "CAD", "HKD", "NZD", "SGD", "TWD", "MXN", "ARS", "CLP", "COP", "UYU")

#: Currency signs and words written with amounts, and the currencies each may stand for. Any
#: ISO 4217 code written beside an amount (``100 USD``) stands for itself.
CURRENCY_SIGNS: dict[str, tuple[str, ...]] = {
    "$": _DOLLARS, "US$": ("USD",), "HK$": ("HKD",), "NT$": ("TWD",), "S$": ("SGD",), "A$": ("AUD",),
    "AU$": ("AUD",), "C$": ("CAD",), "CA$": ("CAD",), "NZ$": ("NZD",), "MX$": ("MXN",), "MOP$": ("MOP",),
    "R$": ("BRL",),
    "¥": ("CNY", "JPY"), "RMB": ("CNY",), "元": ("CNY",), "人民币": ("CNY",), "円": ("JPY",),
    "€": ("EUR",), "£": ("GBP",), "₩": ("KRW",), "₹": ("INR",), "₽": ("RUB",), "₺": ("TRY",),
    "₫": ("VND",), "฿": ("THB",), "₪": ("ILS",), "₱": ("PHP",), "₴": ("UAH",), "₦": ("NGN",),
    "RM": ("MYR",), "Rp": ("IDR",), "zł": ("PLN",), "Kč": ("CZK",), "Ft": ("HUF",),
    "kr": ("SEK", "NOK", "DKK", "ISK"), "Fr.": ("CHF",),
}

# A sign or code before or after the number: the listed signs, or three letters (an ISO code).
_SIGN = "|".join(re.escape(s) for s in sorted(CURRENCY_SIGNS, key=len, reverse=True)) + r"|[A-Za-z]{2,3}"
_NUMBER_TEXT = re.compile(
    rf"""
    (?P<open>\()?\s*
    (?P<lead>[+-])?\s*
    (?P<pre>{_SIGN})?\s*
    (?P<sign>[+-])?\s*
    (?P<body>\d(?:[\d.,'’\ ]*\d)?|[.,]\d+)   # digits, separators inside
    (?P<exp>[eE][+-]?\d+)?\s*
    (?P<post>{_SIGN})?\s*
    (?P<trail>-)?\s*
    (?P<close>\))?
    """,
    re.VERBOSE,
)
# A value the fast path reads but that means 1234 under a decimal comma: one point, three digits after.
_AMBIGUOUS_POINT = r"[+-]?[1-9]\d{0,2}\.\d{3}"
# A plain decimal comma, and the ones of them that are 1234 with a decimal point.
_PLAIN_COMMA = r"[+-]?\d+,\d+"
_AMBIGUOUS_COMMA = r"[+-]?[1-9]\d{0,2},\d{3}"
_GROUPING = {"'", "’", " "}  # grouping marks of either convention (Swiss, French)


@dataclass(frozen=True)
class NumberForms:
    """One column's values read both ways, before the convention is chosen.

    Attributes
    ----------
    point
        Each value read with ``.`` as the decimal separator (``,`` grouping); NaN where it is
        no number in that convention.
    comma
        The same with ``,`` as the decimal separator (``.`` grouping).
    sign
        The currency sign or code written with the value (``$``, ``€``, ``USD``), ``""`` when none.
    """

    point: pd.Series
    comma: pd.Series
    sign: pd.Series

    @property
    def tells_point(self) -> pd.Series:
        """Values readable only with a decimal point."""
        return self.point.notna() & self.comma.isna()

    @property
    def tells_comma(self) -> pd.Series:
        """Values readable only with a decimal comma."""
        return self.comma.notna() & self.point.isna()

    @property
    def ambiguous(self) -> pd.Series:
        """Values that are numbers in both conventions, different ones (``1,234``)."""
        return self.point.notna() & self.comma.notna() & self.point.ne(self.comma)

    def evidence(self) -> str:
        """The convention the column's values tell: ``"."``, ``","``, ``"mixed"`` or ``""`` (none)."""
        point, comma = bool(self.tells_point.any()), bool(self.tells_comma.any())
        return "mixed" if point and comma else "." if point else "," if comma else ""


@dataclass(frozen=True)
class Numbers:
    """One column's numbers as read.

    Attributes
    ----------
    values
        float64; NaN where no number could be read (empty, unreadable, not finite, or ambiguous).
    ambiguous
        True where the value is a number in both conventions and the column's convention is unknown.
    sign
        The currency sign or code written with each value, ``""`` when none.
    decimal
        The convention: the one set in the config, else the one the column's values tell
        (``"."``, ``","``, ``"mixed"`` for both, ``""`` for none: whole numbers only).
    """

    values: pd.Series
    ambiguous: pd.Series
    sign: pd.Series
    decimal: str


def number_forms(text: pd.Series, *, money: bool = False) -> NumberForms:
    """Read every value of a text column in both decimal conventions.

    Parameters
    ----------
    text
        Cells as exported (stripped; empty cells are ``""``).
    money
        True for an amount or a price: a currency sign or ISO code may be written with the
        number (``$100``, ``99 元``, ``EUR 12,50``). Elsewhere a sign makes the value unreadable.

    Returns
    -------
    NumberForms
        Both readings and the sign of every cell. Accepted besides plain digits: a sign before or
        after a currency sign, a trailing minus (``12.50-``), accounting parentheses
        (``(20.00)``), grouping by ``,`` ``.`` space or apostrophe in groups of three (or the
        Indian 2-2-3), an exponent, and decimal digits of any script (``١٢٣``). Never a number:
        ``inf``, ``NaN``, and anything that overflows (``1e400``).
    """
    # Each value is read on its own, and a large export repeats a few thousand prices and
    # quantities a million times: read each distinct value once, then spread the readings.
    codes, distinct = pd.factorize(text, use_na_sentinel=False)
    if 2 * len(distinct) > len(text):
        return _number_forms(text, money)
    forms = _number_forms(pd.Series(distinct, dtype=text.dtype, name=text.name), money)
    return NumberForms(
        pd.Series(forms.point.to_numpy()[codes], index=text.index, name=forms.point.name),
        pd.Series(forms.comma.to_numpy()[codes], index=text.index, name=forms.comma.name),
        # the signs spread as stored (Arrow's take), not through a Python string per cell: 60 ms on 1M lines
        pd.Series(forms.sign.array.take(codes), index=text.index, name=forms.sign.name),
    )


def _number_forms(text: pd.Series, money: bool) -> NumberForms:
    """:func:`number_forms` of every cell, repeated or not."""
    # Two fast paths. A plain decimal comma ("415,70") is what a European export is made of; it is
    # found first, as failing to parse costs pandas twice what parsing does.
    simple = pd.Series(False, index=text.index)
    has_comma = text.str.contains(",", regex=False).fillna(False).astype(bool)
    if has_comma.any():
        simple[has_comma] = text[has_comma].str.fullmatch(_PLAIN_COMMA).fillna(False).astype(bool)
    # Plain numbers ("123", "-4.5", "1e3") are most cells of most exports.
    plain = pd.to_numeric(text.where(~simple, ""), errors="coerce").astype("float64")
    finite = np.isfinite(plain.to_numpy())
    point = plain.where(finite)
    comma = point.copy()
    has_point = pd.Series(False, index=text.index)
    if finite.any():
        has_point = text.str.contains(".", regex=False).fillna(False).astype(bool) & finite
    if has_point.any():
        # "10.50" is no number with a decimal comma, where "." only groups thousands; "1.234" is one.
        shaped = text[has_point].str.fullmatch(_AMBIGUOUS_POINT).astype(bool)
        grouped = shaped.index[shaped]
        comma[has_point] = np.nan
        if len(grouped):
            comma[grouped] = pd.to_numeric(text[grouped].str.replace(".", "", regex=False)).astype("float64")
    if simple.any():
        cells = text[simple]
        comma[simple] = _finite(cells.str.replace(",", ".", regex=False).astype("float64"))
        # "1,234" is 1234 with a decimal point: a group of three after a group of one to three
        grouped = cells.str.fullmatch(_AMBIGUOUS_COMMA).astype(bool).to_numpy()
        point[simple] = np.where(grouped, _finite(cells.str.replace(",", "", regex=False).astype("float64")), np.nan)
    sign = pd.Series("", index=text.index, dtype="str")
    retry = ~pd.Series(finite, index=text.index) & ~simple & text.ne("")
    if retry.any():
        # Each distinct value is read once (a European export sends every cell here).
        cells = text[retry]
        distinct = pd.Index(cells.unique())
        read = [_read_cell(value, money) for value in distinct]
        at = distinct.get_indexer(cells)
        point[retry] = np.array([r[0] for r in read], dtype="float64")[at]
        comma[retry] = np.array([r[1] for r in read], dtype="float64")[at]
        sign[retry] = np.array([r[2] for r in read], dtype=object)[at]
    # -0 is 0: a negative zero would print as "-0.0" and sort apart from 0.
    return NumberForms(point + 0.0, comma + 0.0, sign)


def _finite(values: pd.Series) -> np.ndarray:
    array = values.to_numpy(dtype="float64")
    return np.where(np.isfinite(array), array, np.nan)


def choose(forms: NumberForms, decimal: str, fallback: str = "", told: str | None = None) -> Numbers:
    """The numbers of one column read with its convention.

    Parameters
    ----------
    forms
        The column read both ways (:func:`number_forms`).
    decimal
        ``"."`` or ``","`` (set in the config: every value is read that way; a value that is
        no number in that convention stays unread), or ``"auto"``: each value that tells its
        convention is read by it, and the ambiguous ones by the convention the column's values
        tell; when they tell none, or both, by ``fallback``.
    fallback
        ``"."``, ``","`` or ``""``: the convention of the file's other number columns (or of the
        format: Excel and Parquet store numbers, written with ``.``). ``""`` leaves the column's
        ambiguous values unread.
    told
        The convention the whole column tells when `forms` holds only part of it (a part of an
        export read in pieces, :mod:`custseg.intake.scaled`); None: what `forms` tells.

    Returns
    -------
    Numbers
    """
    if decimal not in DECIMALS:
        raise ValueError(f"decimal must be one of {DECIMALS}, got {decimal!r}")
    none = pd.Series(False, index=forms.point.index)
    if decimal == ".":
        return Numbers(forms.point, none, forms.sign, ".")
    if decimal == ",":
        return Numbers(forms.comma, none, forms.sign, ",")
    told = forms.evidence() if told is None else told
    # A column that tells both conventions is two exports in one: no convention of its own, and
    # none borrowed either.
    convention = told if told in (".", ",") else fallback if told == "" else ""
    ambiguous = forms.ambiguous
    values = forms.point.where(forms.point.notna(), forms.comma)  # each value as it tells
    if convention == ".":
        return Numbers(values, none, forms.sign, told)
    if convention == ",":
        return Numbers(values.where(~ambiguous, forms.comma), none, forms.sign, told)
    return Numbers(values.where(~ambiguous), ambiguous, forms.sign, told)


def read_numbers(text: pd.Series, decimal: str = "auto", *, money: bool = False, fallback: str = "") -> Numbers:
    """:func:`number_forms` and :func:`choose` in one: the numbers of a column on its own."""
    return choose(number_forms(text, money=money), decimal, fallback)


def sign_contradicts(sign: pd.Series, currency: pd.Series) -> pd.Series:
    """True where a value's currency sign cannot stand for its row's currency (``$`` with CNY).

    Parameters
    ----------
    sign
        The sign or code written with each value (:attr:`Numbers.sign`), ``""`` when none.
    currency
        Each row's ISO currency code, aligned with ``sign``.
    """
    wrong = pd.Series(False, index=sign.index)
    for written in sign.loc[sign.ne("")].unique():
        allowed = CURRENCY_SIGNS.get(written, (written.upper(),))
        rows = sign.eq(written)
        wrong |= rows & ~currency.isin(allowed)
    return wrong


def _read_cell(cell: str, money: bool) -> tuple[float, float, str]:
    """(value with a decimal point, value with a decimal comma, sign) of one cell; NaN: not a number."""
    text = unicodedata.normalize("NFKC", cell).strip()
    if not text.isascii():
        text = _ascii_digits(text)
    match = _NUMBER_TEXT.fullmatch(text)
    if match is None:
        return math.nan, math.nan, ""
    parts = match.groupdict()
    signs = [s for s in (parts["lead"], parts["sign"], parts["trail"]) if s]
    written = [s for s in (parts["pre"], parts["post"]) if s]
    if bool(parts["open"]) != bool(parts["close"]) or len(signs) > 1 or len(written) > 1:
        return math.nan, math.nan, ""
    if parts["open"] and signs:  # "(-5)": which sign was meant?
        return math.nan, math.nan, ""
    sign = _currency(written[0]) if written else ""
    if sign is None or (sign and not money):
        return math.nan, math.nan, ""
    negative = bool(parts["open"]) or signs == ["-"]
    body, exponent = parts["body"], parts["exp"] or ""
    readings = []
    for decimal in (".", ","):
        digits = _digits(body, decimal, exponent)
        value = float(digits + exponent) if digits is not None else math.nan
        readings.append(-value if negative else value)
    point, comma = (value if math.isfinite(value) else math.nan for value in readings)
    return point, comma, sign


def _currency(written: str) -> str | None:
    """The sign as it is matched against currencies; None for letters that are no sign or ISO code."""
    for spelling in (written, written.upper()):
        if spelling in CURRENCY_SIGNS:
            return spelling
    code = written.upper()
    return code if code in _iso_currencies() else None


@functools.cache
def _iso_currencies() -> frozenset[str]:
    return frozenset(currency.alpha_3 for currency in pycountry.currencies)


def _ascii_digits(text: str) -> str:
    """Decimal digits of any script (Arabic-Indic, Devanagari, ...) as ASCII; Arabic separators too."""
    text = text.replace("\u066b", ".").replace("\u066c", ",")  # Arabic decimal and thousands marks
    return re.sub(r"\d", lambda m: str(unicodedata.digit(m.group())), text)


def _digits(body: str, decimal: str, exponent: str) -> str | None:
    """``body`` as plain ``digits.digits`` when ``decimal`` is its decimal separator, else None."""
    group = "," if decimal == "." else "."
    if body.count(decimal) > 1:
        return None
    whole, point, fraction = body.partition(decimal)
    if point and not fraction.isdigit():
        return None  # "5," or a grouping mark after the decimal separator
    marks = {ch for ch in whole if not ch.isdigit()}
    if len(marks) > 1 or marks - {group, *_GROUPING}:
        return None
    if marks:
        if exponent:
            return None  # "1,234e5" is no way to write a number
        groups = whole.split(marks.pop())
        if not _grouped(groups):
            return None
        whole = "".join(groups)
    return f"{whole or '0'}.{fraction or '0'}"


def _grouped(groups: list[str]) -> bool:
    """Digit groups as a number writes them: 1-3 digits then threes (1,234,567), or the Indian
    1-2 digits, twos, then three (12,34,567); never a leading zero group (0,123 is a decimal)."""
    if not all(g.isdigit() for g in groups) or groups[0].startswith("0"):
        return False
    if 1 <= len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:]):
        return True
    return len(groups) > 2 and len(groups[0]) <= 2 and all(len(g) == 2 for g in groups[1:-1]) and len(groups[-1]) == 3


# --- timestamps ------------------------------------------------------------------------------

# A UTC offset after a time of day (or after a date, in the colon form): Z, UTC, GMT, +08:00, +0800, +08.
_AWARE = (
    r"(?:\d:\d\d(?::\d\d(?:[.,]\d+)?)?\s*(?:Z|UTC|GMT|[+-]\d\d(?::?\d\d)?)"
    r"|\d{4}-\d\d-\d\d(?:Z|[+-]\d\d:\d\d))$"
)
# What every value _AWARE matches ends with; one pass of it is far cheaper than _AWARE itself.
_OFFSET_END = r"(?:Z|UTC|GMT|[+-]\d\d(?::?\d\d)?)$"
_OFFSET = re.compile(r"^(?P<wall>.*?\d)\s*(?:(?P<zulu>Z|UTC|GMT)|(?P<sign>[+-])(?P<hours>\d\d):?(?P<minutes>\d\d)?)$")
# An ISO date begins with its day: "2024" or "2024-01" alone would silently read as the 1st of January.
_FULL_DATE = r"\d{4}(?:-\d{1,2}-\d{1,2}|/\d{1,2}/\d{1,2}|\d{4})"


@dataclass(frozen=True)
class Timestamps:
    """One column's timestamps as read.

    Attributes
    ----------
    values
        datetime64[s], tz-naive, on one clock; NaT where the text is no date.
    offsets
        The UTC offsets written in the column, sorted (``("+01:00", "+02:00")``); ``()`` when
        no value carries one.
    """

    values: pd.Series
    offsets: tuple[str, ...]


def read_timestamps(text: pd.Series, date_format: str | None = None, timezone: str | None = None) -> Timestamps:
    """Dates and times from export text, offsets resolved onto one clock.

    Parameters
    ----------
    text
        Cells as exported; empty cells are ``""``.
    date_format
        A ``strftime`` pattern, or None for ISO 8601 (``2024-01-05``, ``2024-01-05 10:30``,
        ``2024-01-05T10:30:00``; a date without its day, ``2024-01``, is not a date). A trailing
        ``%z`` is not needed: an offset after the time is read in any case.
    timezone
        An IANA time zone (``Asia/Shanghai``, ``UTC``): a value with an offset is converted to
        that zone's wall clock, and a value without one is taken to be in it already. None keeps
        every value's wall clock as written and drops its offset: right for an export written in
        one place (daylight saving time included), wrong where offsets differ by place.

    Returns
    -------
    Timestamps
    """
    # Each value is read on its own (the offsets too), and an export repeats each invoice's time on
    # every line of the invoice: read each distinct value once, then spread the readings.
    codes, distinct = pd.factorize(text, use_na_sentinel=False)
    if 2 * len(distinct) > len(text):
        return _read_timestamps(text, date_format, timezone)
    read = _read_timestamps(pd.Series(distinct, dtype=text.dtype, name=text.name), date_format, timezone)
    values = pd.Series(read.values.to_numpy()[codes], index=text.index, name=read.values.name, dtype=read.values.dtype)
    return Timestamps(values, read.offsets)


def _read_timestamps(text: pd.Series, date_format: str | None, timezone: str | None) -> Timestamps:
    """:func:`read_timestamps` of every cell, repeated or not."""
    pattern = re.sub(r"\s*%[zZ]$", "", date_format) if date_format else None
    aware = text.str.contains(":", regex=False) & text.str.contains(_OFFSET_END, regex=True)
    aware = aware.fillna(False).astype(bool)
    if aware.any():
        aware[aware] = text[aware].str.contains(_AWARE, regex=True).fillna(False).astype(bool)
    if not aware.any():
        return Timestamps(_parse(text, pattern), ())
    parts = text[aware].str.extract(_OFFSET)
    wall = text.copy()
    wall[aware] = parts["wall"].fillna("").astype("str")
    values = _parse(wall, pattern)
    hours = pd.to_numeric(parts["hours"]).fillna(0)
    minutes = pd.to_numeric(parts["minutes"]).fillna(0)
    east = np.where(parts["sign"].eq("-"), -1, 1) * (hours * 60 + minutes)
    valid = hours.le(14) & minutes.lt(60)
    values[aware] = values[aware].where(valid)  # +25:00 is no offset
    if timezone is not None:
        utc = values[aware] - pd.to_timedelta(east, unit="min")
        local = utc.dt.tz_localize("UTC").dt.tz_convert(timezone).dt.tz_localize(None)
        values[aware] = local.astype("datetime64[s]")
    written = {_offset_text(int(m)) for m in pd.unique(east[valid.to_numpy()])}
    return Timestamps(values, tuple(sorted(written)))


def _parse(text: pd.Series, pattern: str | None) -> pd.Series:
    present = text.where(text.ne(""), None)
    try:
        parsed = pd.to_datetime(present, format=pattern or "ISO8601", errors="coerce")
    except ValueError:
        # Offsets that _AWARE does not place (a date_format with %z inside): one clock, UTC.
        parsed = pd.to_datetime(present, format=pattern or "ISO8601", errors="coerce", utc=True)
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        parsed = parsed.dt.tz_localize(None)
    if pattern is None:
        parsed = parsed.where(text.str.match(_FULL_DATE).fillna(False).astype(bool))
    return parsed.astype("datetime64[s]")


def _offset_text(minutes: int) -> str:
    sign = "-" if minutes < 0 else "+"
    hours, rest = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}:{rest:02d}"


def join_offsets(columns: Iterable[tuple[str, ...]]) -> str:
    """The offsets of several columns as one text for the accounting: ``"+01:00 +02:00"``."""
    return " ".join(sorted({offset for offsets in columns for offset in offsets}))
