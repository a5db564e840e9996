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

import itertools
import math
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


def _range_start(value: object) -> float | None:
    """Where a range the data writes starts ("1-49": 1, "1000+": 1000, "<18": before any other),
    or None for a value that does not start with a number."""
    text = str(value).strip().replace(",", "")
    below = text.startswith("<")
    digits = "".join(itertools.takewhile(lambda c: c.isdigit() or c == ".", text.lstrip("<").strip()))
    try:
        start = float(digits)
    except ValueError:
        return None
    return -math.inf if below else start


def ranked_values(values: pd.Series) -> list:
    """The order of an attribute's given values on a page: ranges the data writes (company sizes
    "1-49", "1000+"; age bands "18-24", "55+") from low to high, as a reader scans them; any other
    values by customers, largest first (ties by name, so the order does not depend on the rows)."""
    counts = values.value_counts()
    ranked = sorted(counts.index, key=lambda v: (-counts[v], str(v)))
    starts = {value: _range_start(value) for value in ranked}
    if ranked and all(start is not None for start in starts.values()):
        return sorted(ranked, key=lambda v: (starts[v], str(v)))
    return ranked


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


def _parts(customers: pd.DataFrame, tiers: Sequence[str], value: str, watch: Collection[str]) -> pd.DataFrame:
    """Per customer, the numbers every measure is a sum or a count of (so that a group's measures
    are one groupby, not a pass over the table per value)."""
    buyer = customers["frequency"].to_numpy() > 0
    parts = {
        "customers": np.ones(len(customers)),
        "buyers": buyer.astype("float64"),
        "orders": np.where(buyer, customers["frequency"].to_numpy(dtype="float64"), 0.0),
        "revenue": np.where(buyer, customers["monetary"].to_numpy(dtype="float64"), 0.0),
    }
    worth = pd.to_numeric(customers[value], errors="coerce").astype("float64")
    parts |= {"value_sum": worth.fillna(0.0).to_numpy(), "value_n": worth.notna().to_numpy(dtype="float64")}
    tier = customers["tier"].astype("string").to_numpy(dtype=object, na_value=None)
    for name in tiers:
        parts[f"tier_{name}"] = (buyer & (tier == name)).astype("float64")
    if "lifecycle" in customers:
        stage = customers["lifecycle"].astype("string")
        parts["staged"] = stage.notna().to_numpy(dtype="float64")
        for name, stages in LIFECYCLE_GROUPS.items():
            parts[f"{name}_n"] = stage.isin(stages).to_numpy(dtype="float64")
    if "churn_probability" in customers:
        churn = customers["churn_probability"].astype("float64")
        parts |= {"churn_sum": churn.fillna(0.0).to_numpy(), "churn_n": churn.notna().to_numpy(dtype="float64")}
    if len(watch):
        parts["watched"] = customers["customer_id"].isin(pd.Index(list(watch))).to_numpy(dtype="float64")
    if "satisfaction_mean" in customers:
        score = customers["satisfaction_mean"].astype("float64")
        parts |= {"score_sum": score.fillna(0.0).to_numpy(), "respondents": score.notna().to_numpy(dtype="float64")}
    return pd.DataFrame(parts, index=customers.index)


def _ratio(part: pd.Series, whole: pd.Series) -> pd.Series:
    return (part / whole.where(whole > 0)).astype("float64")


def _bought_segments(customers: pd.DataFrame) -> np.ndarray | None:
    """The segment of every buyer, as text (None: no segments), made once for every attribute."""
    if "segment" not in customers:
        return None
    bought = customers["frequency"].to_numpy() > 0
    return customers["segment"].astype("string").to_numpy(dtype=object, na_value=None)[bought]


def _measures(parts: pd.DataFrame, keys: np.ndarray, tiers: Sequence[str], segments: np.ndarray | None) -> pd.DataFrame:
    """The measures of every group of customers (`keys`: a group number per customer; `segments`:
    :func:`_bought_segments`), one groupby over the per-customer parts."""
    sums = parts.groupby(keys, sort=True).sum()
    out = pd.DataFrame({"customers": sums["customers"], "buyers": sums["buyers"], "revenue": sums["revenue"]})
    out["orders_per_buyer"] = _ratio(sums["orders"], sums["buyers"])
    out["average_order_value"] = _ratio(sums["revenue"], sums["orders"])
    out["mean_value"] = _ratio(sums["value_sum"], sums["value_n"])
    for name in tiers:
        out[f"tier_{name}"] = _ratio(sums[f"tier_{name}"], sums["buyers"])
    out["top_segment"], out["top_segment_share"] = pd.Series(pd.NA, index=out.index, dtype="string"), np.nan
    if segments is not None:
        pairs = pd.DataFrame({"key": keys[parts["buyers"].to_numpy() > 0], "segment": segments}).dropna()
        if len(pairs):
            counts = pairs.value_counts().rename("n").reset_index()
            # most buyers first, ties by name, so the choice does not depend on the row order
            top = counts.sort_values(["key", "n", "segment"], ascending=[True, False, True])
            top = top.drop_duplicates("key").set_index("key")
            out.loc[top.index, "top_segment"] = top["segment"].astype("string")
            out.loc[top.index, "top_segment_share"] = top["n"] / sums.loc[top.index, "buyers"]
    for name in LIFECYCLE_GROUPS:
        out[f"{name}_share"] = _ratio(sums[f"{name}_n"], sums["staged"]) if "staged" in sums else np.nan
    out["churn_probability"] = _ratio(sums["churn_sum"], sums["churn_n"]) if "churn_n" in sums else np.nan
    out["watch_share"] = _ratio(sums["watched"], sums["customers"]) if "watched" in sums else np.nan
    out["respondents"] = sums["respondents"] if "respondents" in sums else 0.0
    out["satisfaction"] = _ratio(sums["score_sum"], sums["respondents"]) if "respondents" in sums else np.nan
    return out


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
        its attribute: bands and ranges in order, other values by customers, "not given" last), the
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

    whole = _measures(_parts(base, tiers, value, watch_ids), np.zeros(len(base), dtype=np.int64), tiers,
                      _bought_segments(base)).iloc[0]
    parts = _parts(customers, tiers, value, watch_ids)
    segments = _bought_segments(customers)
    total_revenue = float(parts["revenue"].sum())
    tables = []
    for attribute in present:
        values = customers[attribute]
        if attribute in settings.bands:
            values = band(values, settings.bands[attribute])
            ranked = list(values.cat.categories)
        else:
            values = given(values)
            ranked = ranked_values(values)
        codes = pd.Categorical(values.astype("object").where(values.notna(), None), categories=ranked).codes
        keys = np.where(codes < 0, len(ranked), codes).astype(np.int64)  # "not given" after every value
        table = _measures(parts, keys, tiers, segments)  # only the values someone holds
        names = [*ranked, None]
        table = table.assign(
            attribute=attribute, value=[names[k] for k in table.index], order=np.arange(len(table)),
            share=table["customers"] / len(customers), value_measure=value,
            revenue_share=table["revenue"] / total_revenue if total_revenue else np.nan,
        )
        table["given"] = table["value"].notna()
        for measure in INDEXED:
            table[f"{measure}_index"] = [_index(part, whole[measure]) for part in table[measure]]
        tables.append(table)
    table = pd.concat(tables, ignore_index=True)[columns]
    return table.astype({"customers": "int64", "buyers": "int64", "respondents": "int64", "order": "int64",
                         "given": "bool", "value": "string", "top_segment": "string", "attribute": "string",
                         "value_measure": "str"})


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

