"""Numbers in either decimal convention and timestamps with offsets, read as the text means them."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custseg.intake.parsing import choose, number_forms, read_numbers, read_timestamps, sign_contradicts


def _written(value: float, decimal: str, group: str) -> str:
    """``value`` as an export writes it: two decimals, thousands grouped by ``group`` ("" for none)."""
    whole, fraction = f"{abs(value):.2f}".split(".")
    groups = [whole[max(0, end - 3):end] for end in range(len(whole), 0, -3)][::-1]
    return ("-" if value < 0 else "") + group.join(groups) + decimal + fraction


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(st.floats(-1e9, 1e9, allow_nan=False).map(lambda v: round(v, 2)), min_size=1, max_size=20),
    convention=st.sampled_from([(".", ","), (".", ""), (".", " "), (".", "'"), (",", "."), (",", ""), (",", " ")]),
)
def test_any_amount_written_in_either_convention_reads_back(values, convention):
    decimal, group = convention
    text = pd.Series([_written(v, decimal, group) for v in values], dtype="str")
    told = read_numbers(text, "auto")
    # with two decimals every value tells its convention: nothing is ambiguous, nothing misread
    assert told.values.tolist() == pytest.approx(values, abs=1e-9)
    assert not told.ambiguous.any()
    assert read_numbers(text, decimal).values.tolist() == pytest.approx(values, abs=1e-9)


@settings(max_examples=100, deadline=None)
@given(whole=st.integers(1000, 999_999), decimal=st.sampled_from([".", ","]))
def test_a_grouped_whole_number_is_ambiguous_until_the_convention_is_known(whole, decimal):
    group = "," if decimal == "." else "."
    text = pd.Series([f"{whole:,}".replace(",", group)], dtype="str")  # 1,234 or 1.234
    assert read_numbers(text, "auto").ambiguous.tolist() == [True]
    assert read_numbers(text, decimal).values.tolist() == [float(whole)]
    assert read_numbers(text, "auto", fallback=decimal).values.tolist() == [float(whole)]


def test_a_column_with_both_conventions_borrows_none():
    forms = number_forms(pd.Series(["1,234.50", "415,70", "1,234"], dtype="str"))
    assert forms.evidence() == "mixed"
    numbers = choose(forms, "auto", fallback=".")
    assert numbers.values.tolist()[:2] == [1234.5, 415.7] and pd.isna(numbers.values.iloc[2])
    assert numbers.ambiguous.tolist() == [False, False, True]


def test_currency_signs_stand_for_their_currencies():
    signs = number_forms(pd.Series(["$5", "$5", "US$5", "¥5", "¥5", "5 eur", "5", "€5"], dtype="str"), money=True).sign
    currency = pd.Series(["HKD", "CNY", "HKD", "JPY", "CNY", "EUR", "USD", "GBP"])
    assert sign_contradicts(signs, currency).tolist() == [False, True, True, False, False, False, False, True]


def test_a_sign_is_refused_outside_money():
    assert read_numbers(pd.Series(["$5", "5"], dtype="str")).values.isna().tolist() == [True, False]


@pytest.mark.parametrize(("zone", "expected"), [
    (None, ["2024-03-30 23:30", "2024-03-31 23:30", "2024-04-01 08:00"]),
    ("Europe/Berlin", ["2024-03-30 23:30", "2024-03-31 23:30", "2024-04-01 08:00"]),
    ("UTC", ["2024-03-30 22:30", "2024-03-31 21:30", "2024-04-01 08:00"]),
])
def test_timestamps_are_put_on_one_clock(zone, expected):
    text = pd.Series(["2024-03-30T23:30:00+01:00", "2024-03-31T23:30:00+02:00", "2024-04-01 08:00"], dtype="str")
    stamps = read_timestamps(text, None, zone)
    assert stamps.values.tolist() == [pd.Timestamp(t) for t in expected]
    assert stamps.offsets == ("+01:00", "+02:00")
    assert str(stamps.values.dtype) == "datetime64[s]"
