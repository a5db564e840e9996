"""Customer groups: named filters over the customer table, and the attributes with a study per value.

A group is a filter in the language of :mod:`custseg.config.filters` (parsed there, when the
config loads). Here the parsed tree becomes a boolean mask over the customer table, built from
pandas comparisons node by node: the text is never handed to ``eval``, ``DataFrame.query`` or
``DataFrame.eval``. Every customer's groups are carried in the ``groups`` column of the
processed customer table (names joined by ``;``, in config order), which the CRM export turns
into ``group:<name>`` tags.

A ``studies.by`` attribute has a study per value (:func:`attribute_levels`): its values as the
customer table gives them, or, for a numeric attribute, its bands (``demographics.bands``), with
the customers who give no number as a value of their own (:data:`MISSING`). A numeric attribute
without bands is refused: a study per distinct number would be a page per age.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from custseg.config import Group
from custseg.config.filters import BoolOp, Compare, FilterError, Member, Node, Not, filter_columns, parse_filter
from custseg.segment.demographics import band, band_label, given, ranked_values

#: Column of the customer table with each customer's group names, ``;``-separated.
GROUPS_COLUMN = "groups"

#: The value of a banded attribute's customers who give no number (a page parameter, as a band's
#: label is): they have a study of their own, shown as "not given".
MISSING = ""

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


def is_numeric(values: pd.Series) -> bool:
    """Whether an attribute holds numbers: a numeric column, or text whose every given value reads
    as a number (intake keeps the customer file's extra columns as text, so "34" is an age).
    Booleans and a column with no value given are not numeric."""
    if pd.api.types.is_bool_dtype(values.dtype):
        return False
    if pd.api.types.is_numeric_dtype(values.dtype):
        return True
    if isinstance(values.dtype, pd.CategoricalDtype) or pd.api.types.is_datetime64_any_dtype(values.dtype):
        return False
    text = given(values).dropna()
    return bool(len(text)) and bool(pd.to_numeric(text, errors="coerce").notna().all())


def attribute_values(customers: pd.DataFrame, attribute: str, bands: Mapping[str, Sequence[float]]) -> pd.Series:
    """Each customer's value of a ``studies.by`` attribute, as text: its band's label for a
    banded attribute (``demographics.bands``), else the value as given; missing when none is given.

    Raises
    ------
    FilterError
        When the table lacks the attribute, or it holds numbers and has no bands.
    """
    check_attributes([attribute], customers.columns)
    values = customers[attribute]
    if attribute in bands:
        return band(values, bands[attribute]).astype("string")
    if is_numeric(values):
        raise FilterError(
            f"studies.by names {attribute!r}, which holds numbers: a study per number would be a page per value. "
            f"Give it bands in the config (demographics.bands, e.g. {attribute}: [18, 25, 35, 45, 55], the lower "
            f"edge of each band) for one study per band"
        )
    return given(values).astype("string")


def attribute_levels(customers: pd.DataFrame, attribute: str, bands: Mapping[str, Sequence[float]]) -> list[str]:
    """The values of a ``studies.by`` attribute with a study each, in the order pages list them.

    A banded attribute: its bands that hold a customer, in band order, then :data:`MISSING` when
    some customer gives no number. Other attributes: the given values, ranges the data writes
    ("1-49", "1000+") from low to high, any others by customers, largest first (ties by name);
    a missing or blank value has no study.
    """
    values = attribute_values(customers, attribute, bands)
    if attribute in bands:
        held = set(values.dropna())
        edges = bands[attribute]
        levels = [label for label in (band_label(edges, i) for i in range(len(edges) + 1)) if label in held]
        return levels + ([MISSING] if values.isna().any() else [])
    return [str(value) for value in ranked_values(values.dropna())]


def value_mask(customers: pd.DataFrame, attribute: str, value: str,
               bands: Mapping[str, Sequence[float]]) -> pd.Series:
    """The customers whose `attribute` is `value` (a band's label for a banded attribute;
    :data:`MISSING`: those of a banded attribute who give no number)."""
    values = attribute_values(customers, attribute, bands)
    if value == MISSING and attribute in bands:
        return values.isna().astype(bool)
    return values.eq(value).fillna(False).astype(bool)


def check_by(customers: pd.DataFrame, attributes: Iterable[str], bands: Mapping[str, Sequence[float]]) -> None:
    """Refuse a ``studies.by`` attribute the table lacks, or a numeric one without bands."""
    for attribute in attributes:
        attribute_values(customers, attribute, bands)


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


def filter_text(group: Group | str) -> str:
    """A group's filter, whether given as a :class:`~custseg.config.Group` or as the text alone."""
    return group.filter if isinstance(group, Group) else group


def parse_groups(groups: Mapping[str, Group | str], columns: Iterable[str]) -> dict[str, Node]:
    """Every named group parsed and checked against the customer table's columns."""
    columns = list(columns)
    parsed = {}
    for name, group in groups.items():
        node = parse_filter(filter_text(group))
        check_columns(node, columns, name)
        parsed[name] = node
    return parsed


def membership(customers: pd.DataFrame, groups: Mapping[str, Group | str]) -> pd.Series:
    """Each customer's groups: their names joined by ``;`` in config order, ``""`` for none.

    Parameters
    ----------
    customers
        The customer table (one row per customer, with its classes).
    groups
        Group name -> its :class:`~custseg.config.Group` (``Config.groups``) or filter text.

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


def assign_groups(customers: pd.DataFrame, groups: Mapping[str, Group | str], by: Iterable[str] = (),
                  bands: Mapping[str, Sequence[float]] | None = None) -> pd.DataFrame:
    """The customer table with its ``groups`` column, after checking `by` against it (every
    attribute in the table; a numeric one banded by `bands`, ``demographics.bands``).

    Without named groups the table is returned as it is (no empty column).
    """
    check_by(customers, by, bands or {})
    if not groups:
        return customers
    return customers.assign(**{GROUPS_COLUMN: membership(customers, groups)})


def members(customers: pd.DataFrame, name: str, group: Group | str) -> pd.Series:
    """The customers the filter of group `name` keeps, parsed and evaluated on `customers`.

    Pages and the plan use this on the processed table rather than reading the ``groups`` column
    back: the filter is the fact, the column its rendering for people and the CRM.
    """
    node = parse_filter(filter_text(group))
    check_columns(node, customers.columns, name)
    return mask(node, customers)
