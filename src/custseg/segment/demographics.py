"""Who the customers are: every descriptive attribute of the customer table profiled against
value, tiers, segments, lifecycle, churn risk and satisfaction.

For each attribute (the canonical ``customer_type``, ``industry``, ``company_size``, ``age_band``,
``acquisition_channel`` and the extra columns of ``demographics.attributes``) and each of its
values, :func:`profile` gives one row: how many customers hold it, their share of customers and of
revenue, how often and how much they buy, their mean value, tier and lifecycle mix, most common
segment, churn risk and satisfaction, each measure beside its index against a base (100 = the
base). A missing value is a row of its own (``value`` missing, ``given`` False), never dropped.
Numeric attributes named in ``demographics.bands`` are banded first (:func:`band`).

The pipeline writes the whole base's profile as the processed table ``demographics``; a region or
tier study profiles its own slice against the whole base with the same function. Pure functions:
frames in, new frames out.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np
import pandas as pd

from custseg.config import Demographics

#: Lifecycle stages counted as active, at risk and churned in the lifecycle mix (prospects, who
#: never bought, are in none of them).
LIFECYCLE_GROUPS: dict[str, tuple[str, ...]] = {
    "active": ("new", "active", "loyal", "reactivated"),
    "at_risk": ("at_risk",),
    "churned": ("churned",),
}

#: The measures that get an index against the base (column ``<measure>_index``).
INDEXED = (
    "orders_per_buyer", "average_order_value", "mean_value", "active_share", "at_risk_share", "churned_share",
    "churn_probability", "watch_share", "satisfaction",
)

#: The columns of a profile, in order; ``tier_<name>`` columns (share of the value's buyers in
#: each tier, best first) follow ``revenue_share``.
COLUMNS = (
    "attribute", "value", "given", "order", "customers", "share", "buyers", "revenue", "revenue_share",
    "orders_per_buyer", "average_order_value", "mean_value", "value_measure", "top_segment", "top_segment_share",
    "active_share", "at_risk_share", "churned_share", "churn_probability", "watch_share",
    "respondents", "satisfaction",
)


def band_label(edges: Sequence[float], position: int) -> str:
    """The name of band `position` of `edges` (0: under the first edge): "<18", "18-24", "55+".

    Whole-number edges name their bands by whole numbers ("25-34" holds 25 up to under 35);
    others by their edges ("0.5-1.5").
    """
    if position == 0:
        return f"<{edges[0]:g}"
    if position == len(edges):
        return f"{edges[-1]:g}+"
    low, high = edges[position - 1], edges[position]
    whole = float(low).is_integer() and float(high).is_integer()
    return f"{low:g}-{high - 1:g}" if whole else f"{low:g}-{high:g}"


def band(values: pd.Series, edges: Sequence[float]) -> pd.Series:
    """A numeric attribute as ordered bands by `edges` (lower edges, ascending); a value that is
    missing or not a number is missing."""
    number = pd.to_numeric(values, errors="coerce").astype("float64")
    position = np.searchsorted(np.asarray(edges, dtype="float64"), number.to_numpy(), side="right")
    labels = [band_label(edges, i) for i in range(len(edges) + 1)]
    named = pd.Series(np.asarray(labels, dtype=object)[position], index=values.index)
    kinds = pd.CategoricalDtype(labels, ordered=True)
    return named.where(number.notna()).astype(kinds)


def given(values: pd.Series) -> pd.Series:
    """An attribute's values with blanks (an empty cell read as "") missing."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values
    text = values.astype("string").str.strip()
    return text.where(text.ne(""))


def attributes_present(customers: pd.DataFrame, settings: Demographics) -> list[str]:
    """The attributes to profile that the customer table has, with at least one value given."""
    return [name for name in settings.profiled() if name in customers and given(customers[name]).notna().any()]


def _value_measure(customers: pd.DataFrame) -> str:
    """The column the mean value is taken from: the expected value where the run computed it,
    else net spend."""
    for column in ("value", "clv"):
        if column in customers and customers[column].notna().any():
            return column
    return "monetary"


def _measures(group: pd.DataFrame, tiers: Sequence[str], value: str, watched: pd.Series) -> dict[str, object]:
    """The measures of one group of customers (the base, or the holders of one value)."""
    buyers = group.loc[group["frequency"] > 0]
    orders = float(buyers["frequency"].sum())
    revenue = float(buyers["monetary"].sum())
    row: dict[str, object] = {
        "customers": len(group), "buyers": len(buyers), "revenue": revenue,
        "orders_per_buyer": orders / len(buyers) if len(buyers) else np.nan,
        "average_order_value": revenue / orders if orders else np.nan,
        "mean_value": float(group[value].mean()) if len(group) else np.nan,
    }
    for tier in tiers:
        row[f"tier_{tier}"] = float(buyers["tier"].astype("string").eq(tier).mean()) if len(buyers) else np.nan
    if "segment" in group and len(buyers) and buyers["segment"].notna().any():
        counts = buyers["segment"].astype("string").value_counts()
        row["top_segment"], row["top_segment_share"] = str(counts.index[0]), float(counts.iloc[0] / len(buyers))
    else:
        row["top_segment"], row["top_segment_share"] = None, np.nan
    stage = group["lifecycle"].astype("string") if "lifecycle" in group else pd.Series(pd.NA, index=group.index)
    for name, stages in LIFECYCLE_GROUPS.items():
        row[f"{name}_share"] = float(stage.isin(stages).mean()) if len(group) and stage.notna().any() else np.nan
    churn = group["churn_probability"] if "churn_probability" in group else pd.Series(dtype="float64")
    row["churn_probability"] = float(churn.mean()) if churn.notna().any() else np.nan
    row["watch_share"] = float(watched.reindex(group.index).mean()) if len(group) and watched.any() else np.nan
    scores = group["satisfaction_mean"].dropna() if "satisfaction_mean" in group else pd.Series(dtype="float64")
    row["respondents"], row["satisfaction"] = len(scores), float(scores.mean()) if len(scores) else np.nan
    return row


def profile(
    customers: pd.DataFrame,
    settings: Demographics,
    tiers: Sequence[str],
    *,
    base: pd.DataFrame | None = None,
    watch_ids: Collection[str] = (),
) -> pd.DataFrame:
    """The profile of every attribute value of `customers` (see the module docstring).

    Parameters
    ----------
    customers
        Classified customers (the processed customer table, or a slice of it).
    settings
        The config's ``demographics`` (extra attributes, bands).
    tiers
        The tier names, best first.
    base
        The customers the indexes compare with; None: `customers` themselves. Shares of
        customers and revenue are within `customers`.
    watch_ids
        The customer ids on the churn watch list.

    Returns
    -------
    pandas.DataFrame
        One row per attribute and value, with :data:`COLUMNS` (``order``: the value's place within
        its attribute: bands in order, other values by customers, "not given" last), the
        ``tier_<name>`` shares and an ``<measure>_index`` per measure of :data:`INDEXED`. Empty
        (with the columns) when the table has none of the attributes.
    """
    base = customers if base is None else base
    value = _value_measure(base)
    tier_columns = [f"tier_{tier}" for tier in tiers]
    columns = [*COLUMNS[:9], *tier_columns, *COLUMNS[9:], *(f"{m}_index" for m in INDEXED)]
    present = attributes_present(base, settings)
    if not present or customers.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})

    def watched(frame: pd.DataFrame) -> pd.Series:
        return frame["customer_id"].isin(pd.Index(list(watch_ids))) if len(watch_ids) else pd.Series(False, frame.index)

    whole = _measures(base, tiers, value, watched(base))
    watch = watched(customers)
    total_revenue = float(customers.loc[customers["frequency"] > 0, "monetary"].sum())
    rows = []
    for attribute in present:
        values = customers[attribute]
        if attribute in settings.bands:
            values = band(values, settings.bands[attribute])
            ranked = list(values.cat.categories)
        else:
            values = given(values)
            ranked = list(values.value_counts().index)  # largest first; ties in the order found
        values = values.astype("object").where(values.notna(), None)
        present_values = [v for v in ranked if (values == v).any()]
        keys = [*present_values, *([None] if values.isna().any() else [])]
        for order, key in enumerate(keys):
            group = customers.loc[values.isna()] if key is None else customers.loc[values.eq(key)]
            row = _measures(group, tiers, value, watch)
            row |= {
                "attribute": attribute, "value": key, "given": key is not None, "order": order,
                "share": len(group) / len(customers), "value_measure": value,
                "revenue_share": row["revenue"] / total_revenue if total_revenue else np.nan,
            }
            for measure in INDEXED:
                row[f"{measure}_index"] = _index(row[measure], whole[measure])
            rows.append(row)
    table = pd.DataFrame(rows)[columns]
    return table.astype({"customers": "int64", "buyers": "int64", "respondents": "int64", "order": "int64",
                         "given": "bool", "value": "string", "top_segment": "string", "attribute": "string"})


def _index(part: object, whole: object) -> float:
    """100 x part / whole; missing when either is missing or the whole is zero."""
    if part is None or whole is None or pd.isna(part) or pd.isna(whole) or whole == 0:
        return np.nan
    return 100.0 * float(part) / float(whole)


def watch_ids(watch_list: pd.DataFrame | None) -> list[str]:
    """The customer ids of a watch list table (none without one)."""
    if watch_list is None or "customer_id" not in watch_list:
        return []
    return watch_list["customer_id"].astype("string").dropna().tolist()


def base_profile(customers: pd.DataFrame, settings: Demographics, tiers: Sequence[str],
                 watch_list: pd.DataFrame | None = None) -> pd.DataFrame:
    """The whole base's profile, as the pipeline writes it (the processed table ``demographics``)."""
    return profile(customers, settings, tiers, watch_ids=watch_ids(watch_list))


def of_attribute(table: pd.DataFrame, attribute: str) -> pd.DataFrame:
    """The rows of one attribute of a profile, in their order."""
    return table.loc[table["attribute"].eq(attribute)].sort_values("order")


def attributes(table: pd.DataFrame) -> list[str]:
    """The attributes of a profile, in the order profiled."""
    return list(dict.fromkeys(table["attribute"].astype("string").tolist()))

