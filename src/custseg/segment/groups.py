"""Customer groups: named filters over the customer table, and the attributes with a study per value.

A group is a filter in the language of :mod:`custseg.config.filters` (parsed there, when the
config loads). Here the parsed tree becomes a boolean mask over the customer table, built from
pandas comparisons node by node: the text is never handed to ``eval``, ``DataFrame.query`` or
``DataFrame.eval``. Every customer's groups are carried in the ``groups`` column of the
processed customer table (names joined by ``;``, in config order), which the CRM export turns
into ``group:<name>`` tags.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from custseg.config.filters import BoolOp, Compare, FilterError, Member, Node, Not, filter_columns, parse_filter

#: Column of the customer table with each customer's group names, ``;``-separated.
GROUPS_COLUMN = "groups"

_OPERATORS = {
    "==": np.equal, "!=": np.not_equal, "<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal,
}


def check_columns(node: Node, columns: Iterable[str], name: str) -> None:
    """Refuse a filter that reads a column the customer table does not have.

    Parameters
    ----------
    node
        The parsed filter.
    columns
        The customer table's columns.
    name
        The group's name, for the message.

    Raises
    ------
    FilterError
        Naming the group, the unknown column and the columns there are.
    """
    known = set(columns)
    unknown = sorted(filter_columns(node) - known)
    if unknown:
        raise FilterError(f"groups.{name} reads the column {unknown[0]!r}, which the customer table "
                          f"does not have (it has: {', '.join(sorted(known))})")


def check_attributes(attributes: Iterable[str], columns: Iterable[str]) -> None:
    """Refuse a ``studies.by`` attribute the customer table does not have, naming it."""
    known = set(columns)
    for attribute in attributes:
        if attribute not in known:
            raise FilterError(f"studies.by names {attribute!r}, which the customer table does not have "
                              f"(it has: {', '.join(sorted(known))})")


def mask(node: Node, table: pd.DataFrame) -> pd.Series:
    """The rows of `table` a parsed filter keeps.

    A missing value matches no comparison but ``!=`` and ``not in`` (as "not B2B" includes a
    customer whose type is not given); a number compared with text, or text ordered against a
    number, matches nothing (``!=`` everything) rather than raising. Booleans compare as 0 and 1,
    dates with a date written as text.

    Parameters
    ----------
    node
        The parsed filter (:func:`custseg.config.filters.parse_filter`).
    table
        The customer table; every column the filter reads must be in it (:func:`check_columns`).

    Returns
    -------
    pd.Series
        Booleans aligned to `table`.
    """
    if isinstance(node, BoolOp):
        parts = [mask(operand, table) for operand in node.operands]
        combine = np.logical_and if node.op == "and" else np.logical_or
        return pd.Series(combine.reduce([p.to_numpy() for p in parts]), index=table.index)
    if isinstance(node, Not):
        return ~mask(node.operand, table)
    if isinstance(node, Member):
        found = _values(table[node.column]).isin(list(node.values)).to_numpy(dtype=bool)
        return pd.Series(~found if node.negated else found, index=table.index)
    return _compare(node, table)


def _values(column: pd.Series) -> pd.Series:
    # categoricals compare by their values; object/str stays as it is
    if isinstance(column.dtype, pd.CategoricalDtype):
        return column.astype(column.cat.categories.dtype)
    return column


def _compare(node: Compare, table: pd.DataFrame) -> pd.Series:
    values = _values(table[node.column])
    present = values.notna().to_numpy(dtype=bool)
    result = np.zeros(len(values), dtype=bool)
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        # a date column compares with a date written as text ("signup_date >= '2025-01-01'")
        try:
            when = pd.Timestamp(node.value) if isinstance(node.value, str) else None
        except ValueError:
            when = None
        if when is None:
            raise FilterError(f"{node.column!r} holds dates: compare it with a date such as '2025-01-01', "
                              f"not {node.value!r}")
        if values.dt.tz is not None and when.tzinfo is None:
            when = when.tz_localize(values.dt.tz)
        result[present] = _OPERATORS[node.op](values[present], when).to_numpy(dtype=bool)
    else:
        # booleans count as numbers (warn_silence == 1)
        numeric = pd.api.types.is_numeric_dtype(values.dtype)
        if isinstance(node.value, str) == numeric:  # text against numbers: only != matches
            return pd.Series(np.full(len(values), node.op == "!="), index=table.index)
        data = values.to_numpy(dtype=float if numeric else object, na_value=np.nan if numeric else None)
        try:
            result[present] = _OPERATORS[node.op](data[present], node.value).astype(bool)
        except TypeError:  # a text column holding other things besides text
            raise FilterError(f"{node.column!r} cannot be compared with {node.value!r} by {node.op}") from None
    if node.op == "!=":
        result[~present] = True
    return pd.Series(result, index=table.index)


def parse_groups(groups: Mapping[str, str], columns: Iterable[str]) -> dict[str, Node]:
    """Every named group parsed and checked against the customer table's columns."""
    columns = list(columns)
    parsed = {}
    for name, text in groups.items():
        node = parse_filter(text)
        check_columns(node, columns, name)
        parsed[name] = node
    return parsed


def membership(customers: pd.DataFrame, groups: Mapping[str, str]) -> pd.Series:
    """Each customer's groups: their names joined by ``;`` in config order, ``""`` for none.

    Parameters
    ----------
    customers
        The customer table (one row per customer, with its classes).
    groups
        Group name -> filter (``Config.groups``).

    Returns
    -------
    pd.Series
        Text aligned to `customers`.

    Raises
    ------
    FilterError
        When a filter reads a column the table does not have.
    """
    parsed = parse_groups(groups, customers.columns)
    joined = pd.Series("", index=customers.index, dtype="str")
    for name, node in parsed.items():
        inside = mask(node, customers)
        joined = joined.where(~inside, joined.where(joined.eq(""), joined + ";") + name)
    return joined


def assign_groups(customers: pd.DataFrame, groups: Mapping[str, str], by: Iterable[str] = ()) -> pd.DataFrame:
    """The customer table with its ``groups`` column, after checking `by` against its columns.

    Without named groups the table is returned as it is (no empty column).
    """
    check_attributes(by, customers.columns)
    if not groups:
        return customers
    return customers.assign(**{GROUPS_COLUMN: membership(customers, groups)})



def members(customers: pd.DataFrame, name: str, text: str) -> pd.Series:
    """The customers the filter `text` of group `name` keeps, parsed and evaluated on `customers`.

    Pages and the plan use this on the processed table rather than reading the ``groups`` column
    back: the filter is the fact, the column its rendering for people and the CRM.
    """
    node = parse_filter(text)
    check_columns(node, customers.columns, name)
    return mask(node, customers)
