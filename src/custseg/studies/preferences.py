"""The "What they prefer" sections: the preference classes of :mod:`custseg.segment.preferences`
shown as one table per class (leading category, price level, contact channel, timing, part of the
day), each class with its customers, share, index against the whole base, revenue and churn, and a
chart of the price and timing classes.

The overview shows the whole base; a region, tier, group or by-value study shows its own
customers against the whole base. Where the data cannot say (no categories, no interactions, no
times) the section says so in a sentence instead of an empty table. Texts are in the report
language.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from custseg import i18n
from custseg.i18n import N_, _
from custseg.segment.preferences import DAYPARTS, MIXED, PRICE_CLASSES, TIMING_CLASSES
from custseg.studies import render
from custseg.studies.demographics import with_index
from custseg.studies.labels import FEW_MARK

#: The class columns the section shows, in order, with the column their order comes from.
DIMENSIONS = ("preference_class", "price_class", "channel_class", "timing_class", "daypart")

#: Class values the catalog translates (categories go through the category labels; other values,
#: such as a user's own channels, are shown as the data spells them).
VALUE_NAMES = {
    "price-sensitive": N_("price-sensitive"), "standard": N_("standard"), "premium": N_("premium"),
    MIXED: N_("mixed"), "weekend": N_("weekend"), "weekday": N_("weekday"),
    "night": N_("night (0-6 h)"), "morning": N_("morning (6-12 h)"), "afternoon": N_("afternoon (12-18 h)"),
    "evening": N_("evening (18-24 h)"), "visit": N_("visit"), "email": N_("email"), "call": N_("call"),
    "ticket": N_("ticket"),
}

_TITLES = {
    "preference_class": N_("Leading category, {where}"),
    "price_class": N_("Price level, {where}"),
    "channel_class": N_("Preferred contact channel, {where}"),
    "timing_class": N_("Weekday or weekend buying, {where}"),
    "daypart": N_("Part of the day most orders are placed in, {where}"),
}
_NAMES = {
    "preference_class": N_("Leading category"), "price_class": N_("Price level"),
    "channel_class": N_("Contact channel"), "timing_class": N_("Timing"), "daypart": N_("Part of the day"),
}
#: Fixed orders of the classes that have one (others: by customers, "mixed" last).
_ORDERS: dict[str, Sequence[str]] = {
    "price_class": PRICE_CLASSES, "timing_class": TIMING_CLASSES, "daypart": tuple(DAYPARTS),
}


#: The key of customers with no class while rows are grouped (no class value looks like it).
_UNKNOWN = "\x01not known"


def value_name(column: str, value: object) -> str:
    """A class value in the report language; a missing one is "not known"."""
    if value is None or pd.isna(value):
        return _("not known")
    text = str(value)
    if column == "preference_class" and text != MIXED:
        return i18n.label("category", text)
    return _(VALUE_NAMES[text]) if text in VALUE_NAMES else text


def _ordered(values: pd.Series, column: str) -> list[str]:
    """The classes of a column in the order a reader scans them."""
    counts = values.dropna().astype("str").value_counts()
    fixed = _ORDERS.get(column)
    if fixed is not None:
        return [v for v in fixed if v in counts.index] + sorted(set(counts.index) - set(fixed))
    ranked = sorted(counts.index, key=lambda v: (v == MIXED, -counts[v], v))
    return ranked


def _churn(customers: pd.DataFrame) -> tuple[str, pd.Series] | None:
    """The churn measure per customer: the model's probability where the run has one, else whether
    the customer's lifecycle stage is churned; None when there is neither."""
    if "churn_probability" in customers and customers["churn_probability"].notna().any():
        return "probability", customers["churn_probability"].astype("float64")
    if "lifecycle" in customers:
        stage = customers["lifecycle"].astype("string")
        return "churned", stage.eq("churned").astype("float64").where(stage.notna())
    return None


def class_rows(customers: pd.DataFrame, base: pd.DataFrame, column: str) -> pd.DataFrame:
    """One row per class of `column` among `customers` (classes in reading order, customers with
    none last as a missing value): customers, their share, the base's share and the index of the
    one against the other, revenue and its share, revenue per buyer and churn, each with its index
    against the whole base (100 = the base)."""
    def parts(frame: pd.DataFrame) -> pd.DataFrame:
        buyer = frame["frequency"].to_numpy() > 0
        churn = _churn(frame)
        return pd.DataFrame({
            "key": frame[column].astype("object").where(frame[column].notna(), None),
            "customers": 1.0,
            "buyers": buyer.astype("float64"),
            "revenue": np.where(buyer, frame["monetary"].to_numpy(dtype="float64"), 0.0),
            "churn_sum": churn[1].fillna(0.0).to_numpy() if churn else 0.0,
            "churn_n": churn[1].notna().to_numpy(dtype="float64") if churn else 0.0,
        }, index=frame.index)

    here, whole = parts(customers), parts(base)
    keys = [*_ordered(customers[column], column), None]
    grouped = here.assign(key=here["key"].fillna(_UNKNOWN)).groupby("key").sum(numeric_only=True)
    base_grouped = whole.assign(key=whole["key"].fillna(_UNKNOWN)).groupby("key").sum(numeric_only=True)
    index = [_UNKNOWN if k is None else k for k in keys]
    rows = grouped.reindex(index).fillna(0.0)
    rows = rows.loc[rows["customers"].gt(0)]
    base_rows = base_grouped.reindex(rows.index).fillna(0.0)
    per_buyer = rows["revenue"] / rows["buyers"].where(rows["buyers"] > 0)
    base_per_buyer = whole["revenue"].sum() / whole["buyers"].sum() if whole["buyers"].sum() else np.nan
    churn = rows["churn_sum"] / rows["churn_n"].where(rows["churn_n"] > 0)
    base_churn = whole["churn_sum"].sum() / whole["churn_n"].sum() if whole["churn_n"].sum() else np.nan
    share = rows["customers"] / len(customers) if len(customers) else rows["customers"]
    base_share = base_rows["customers"] / len(base) if len(base) else base_rows["customers"]
    total = here["revenue"].sum()
    return pd.DataFrame({
        "value": [None if k == _UNKNOWN else k for k in rows.index],
        "customers": rows["customers"].astype("int64").to_numpy(),
        "share": share.to_numpy(),
        "base_share": base_share.to_numpy(),
        "share_index": (100 * share / base_share.where(base_share > 0)).to_numpy(),
        "revenue": rows["revenue"].to_numpy(),
        "revenue_share": (rows["revenue"] / total if total else rows["revenue"] * np.nan).to_numpy(),
        "revenue_per_buyer": per_buyer.to_numpy(),
        "revenue_per_buyer_index": (100 * per_buyer / base_per_buyer).to_numpy(),
        "churn": churn.to_numpy(),
        "churn_index": (100 * churn / base_churn).to_numpy() if base_churn else churn.to_numpy() * np.nan,
    })


def class_table(rows: pd.DataFrame, column: str, currency: str, min_customers: int, where: str, *,
                churn: str | None, slice_: bool) -> render.Table:
    """One class column's rows (:func:`class_rows`) as a table."""
    few = rows["customers"].lt(min_customers).to_numpy()
    money = render.money(currency)
    columns: dict[str, object] = {_("Customers"): rows["customers"].to_numpy(), _("Share of customers"):
                                  rows["share"].to_numpy()}
    formats: dict[str, Callable] = {_("Customers"): render.integer, _("Share of customers"): render.percent}
    if slice_:
        heading = _("Share in base")
        columns[heading], formats[heading] = rows["base_share"].to_numpy(), render.percent
        heading = _("Index")
        columns[heading] = [
            render.MISSING if pd.isna(v) else f"{render.index_points(v)}{' ' + FEW_MARK if f else ''}"
            for v, f in zip(rows["share_index"], few)
        ]
    columns[_("Revenue")], formats[_("Revenue")] = rows["revenue"].to_numpy(), money
    columns[_("Revenue share")], formats[_("Revenue share")] = rows["revenue_share"].to_numpy(), render.percent
    heading = _("Revenue per buyer")
    columns[heading] = list(zip(rows["revenue_per_buyer"], rows["revenue_per_buyer_index"], few))
    formats[heading] = with_index(money)
    if churn is not None:
        heading = _("Churn probability") if churn == "probability" else _("Churned")
        columns[heading] = list(zip(rows["churn"], rows["churn_index"], few))
        formats[heading] = with_index(render.percent)
    name = _(_NAMES[column])
    table = pd.DataFrame(columns, index=pd.Index([value_name(column, v) for v in rows["value"]], name=name))
    numeric = [*formats, _("Index")] if slice_ else list(formats)
    return render.Table(table, _(_TITLES[column]).format(where=where), formats, numeric=numeric)


def _chart(customers: pd.DataFrame, base: pd.DataFrame, where: str, slice_: bool) -> render.Chart | None:
    """Bars of the share of customers per price class and per timing class (the slice beside the
    whole base on a study page)."""
    shown = [c for c in ("price_class", "timing_class") if c in customers and customers[c].notna().any()]
    if not shown:
        return None
    fig = render.new_figure(width=7.0, height=3.2)
    axes = fig.subplots(1, len(shown), squeeze=False)[0]
    palette = render.sns.color_palette()
    described = []
    for ax, column in zip(axes, shown):
        keys = _ordered(base[column], column)
        here = customers[column].astype("object").value_counts(normalize=True).reindex(keys, fill_value=0.0)
        whole = base[column].astype("object").value_counts(normalize=True).reindex(keys, fill_value=0.0)
        labels = [value_name(column, k) for k in keys]
        x = np.arange(len(keys))
        if slice_:
            ax.bar(x - 0.2, here.to_numpy(), width=0.4, label=where, color=palette[0])
            ax.bar(x + 0.2, whole.to_numpy(), width=0.4, label=_("Whole base"), color=palette[1], alpha=0.6)
        else:
            ax.bar(x, here.to_numpy(), width=0.6, color=palette[0])
        ax.set_xticks(x, labels, rotation=15)
        ax.yaxis.set_major_formatter(lambda v, _pos: f"{v:.0%}")
        ax.set(title=_(_NAMES[column]), ylabel=_("Share of customers"))
        described.append(i18n.join_list(f"{label} {render.percent(share)}" for label, share in zip(labels, here)))
    if slice_:
        axes[0].legend(frameon=False)
    title = _("Price level and timing classes, {where}").format(where=where)
    return render.Chart(fig, title, _("Share of customers per class: {classes}.").format(
        classes=i18n.join_clauses(described)))


def _missing_sentences(customers: pd.DataFrame, base: pd.DataFrame) -> list[str]:
    """What the data cannot say, in sentences: no categories, no interactions, no times."""
    said = []
    if "preference_class" not in base or base["preference_class"].isna().all():
        said.append(_("The orders carry no product categories, so no customer has a leading category."))
    if "channel_class" not in base or base["channel_class"].isna().all():
        said.append(_("The study has no interactions with a channel, so no customer has a preferred contact "
                      "channel."))
    if "daypart" not in base or base["daypart"].isna().all():
        said.append(_("The orders carry dates without times, so the part of the day they are placed in is not "
                      "known."))
    if "unit_price_index" not in base or base["unit_price_index"].isna().all():
        said.append(_("Without unit prices (they come with line items), the price level is read from order values "
                      "against each category's quartiles: it tells small baskets from large ones, not discounts."))
    else:
        said.append(_("The price level is the unit-price index: what a customer paid for their products against "
                      "each product's median unit price over all buyers (100 = the usual price)."))
    return said


def preference_section(customers: pd.DataFrame, base: pd.DataFrame, currency: str, min_customers: int,
                       where: str, *, slice_: bool) -> tuple:
    """Everything a "What they prefer" section shows: a table per class column the data has, a
    chart, and the notes; a notice when the processed data has no preference classes."""
    if "price_class" not in base:
        return (render.Notice(_(
            "The processed data has no preference classes (it was made by an earlier custseg); run "
            "`custseg process --force` to add them."), kind="warning"),)
    churn = _churn(base)
    items: list = []
    few = False
    for column in DIMENSIONS:
        if column not in customers or base[column].isna().all():
            continue
        rows = class_rows(customers, base, column)
        few |= bool(rows["customers"].lt(min_customers).any())
        items.append(class_table(rows, column, currency, min_customers, where,
                                 churn=churn[0] if churn else None, slice_=slice_))
    chart = _chart(customers, base, where, slice_)
    if chart is not None:
        items.append(chart)
    notes = _missing_sentences(customers, base)
    notes.append(_(
        "In brackets: the index against the whole base (100 = the same as the base). \"mixed\": no category or "
        "channel stands out; \"not known\": too few purchases or contacts to tell."))
    if few:
        notes.append(_(
            "{mark} An index on fewer than {count} customers (studies.min_customers): a few customers more or less "
            "move it a lot, so read it as a hint, not a finding."
        ).format(mark=FEW_MARK, count=min_customers))
    return (*items, render.Notice(i18n.join_sentences(notes), kind="info"))
