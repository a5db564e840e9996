"""The "Who they are" sections: a demographic profile (:mod:`custseg.segment.demographics`) shown
as one table per attribute, each figure beside its index against the whole base, and a chart of
the indexes of value and churn risk per value of every attribute (:func:`index_chart`, which the
attribute comparison pages draw too).

The overview shows the whole base's profile (the processed table ``demographics``); a region or
tier study profiles its own customers against the whole base. Texts are in the report language;
the values of the sample's canonical attributes are translated, other values are shown as the
data spells them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from custseg import i18n
from custseg.config import CANONICAL_ATTRIBUTES
from custseg.i18n import N_, _
from custseg.segment import demographics
from custseg.segment.groups import MISSING
from custseg.studies import render
from custseg.studies.labels import FEW_MARK, tier_label

#: The canonical attributes' names (English, marked for translation).
ATTRIBUTE_NAMES = {
    "customer_type": N_("Customer type"), "industry": N_("Industry"), "company_size": N_("Company size"),
    "age_band": N_("Age band"), "acquisition_channel": N_("Acquisition channel"),
}

#: Values of the canonical attributes the catalog translates (others are shown as they are).
KNOWN_VALUES = frozenset((
    N_("organic search"), N_("paid ads"), N_("referral"), N_("trade show"), N_("marketplace"),
    N_("social media"), N_("direct sales"), N_("retail"), N_("wholesale"), N_("manufacturing"),
    N_("IT services"), N_("healthcare"), N_("education"), N_("logistics"), N_("hospitality"),
    N_("construction"), N_("finance"),
))


def attribute_name(attribute: str) -> str:
    """An attribute's name in the report language ("gender" -> "Gender" for an extra column)."""
    if attribute in ATTRIBUTE_NAMES:
        return _(ATTRIBUTE_NAMES[attribute])
    return attribute.replace("_", " ").capitalize()


def value_name(value: object) -> str:
    """An attribute value in the report language; a missing one is "not given"."""
    if value is None or pd.isna(value):
        return _("not given")
    text = str(value)
    return _(text) if text in KNOWN_VALUES else text


def level_name(value: str) -> str:
    """A ``studies.by`` value (a page parameter) in the report language: :data:`MISSING`, the
    customers of a banded attribute without a number, is "not given"."""
    return value_name(None if value == MISSING else value)


def with_index(fmt: Callable[[object], str]) -> Callable[[tuple], str]:
    """A figure and its index in brackets: "9.9 (52)"; the mark when the index rests on few customers."""
    def show(cell: tuple) -> str:
        value, index, few = cell
        if pd.isna(value):
            return render.MISSING
        if pd.isna(index):
            return fmt(value)
        return f"{fmt(value)} ({render.index_points(index)}{' ' + FEW_MARK if few else ''})"
    return show


def attribute_table(
    rows: pd.DataFrame, attribute: str, tiers: Sequence[str], currency: str, min_customers: int,
    segment_names: dict[str, str], where: str,
) -> render.Table:
    """One attribute's rows of a profile as a table: a row per value, "not given" last."""
    money = render.money(currency)
    few = rows["customers"].lt(min_customers).to_numpy()
    name = attribute_name(attribute)
    columns: dict[str, pd.Series | list] = {
        _("Customers"): rows["customers"].to_numpy(),
        _("Share of customers"): rows["share"].to_numpy(),
        _("Revenue share"): rows["revenue_share"].to_numpy(),
    }
    formats: dict[str, Callable] = {
        _("Customers"): render.integer, _("Share of customers"): render.percent, _("Revenue share"): render.percent,
    }
    indexed = (
        ("orders_per_buyer", _("Orders per buyer"), render.decimal),
        ("average_order_value", _("Average order value"), money),
        ("mean_value", _("Mean value"), money),
        ("churned_share", _("Churned"), render.percent),
        ("churn_probability", _("Churn probability"), render.percent),
        ("watch_share", _("On the watch list"), render.percent),
        ("satisfaction", _("Satisfaction (1-5)"), lambda v: f"{float(v):.2f}"),
    )
    best = f"tier_{tiers[0]}" if tiers else None
    for measure, heading, fmt in indexed:
        if rows[measure].isna().all():
            continue  # the study has no such figure (no churn model, no feedback)
        columns[heading] = list(zip(rows[measure], rows[f"{measure}_index"], few))
        formats[heading] = with_index(fmt)
        if measure == "mean_value" and best in rows:
            share_best = _("Share in tier {tier}").format(tier=tier_label(tiers[0]))
            columns[share_best], formats[share_best] = rows[best].to_numpy(), render.percent
    if rows["top_segment"].notna().any():
        top = _("Most common segment")
        columns[top] = [
            "" if pd.isna(s) else f"{segment_names.get(s, s)} ({render.percent(p)})"
            for s, p in zip(rows["top_segment"], rows["top_segment_share"])
        ]
    table = pd.DataFrame(columns, index=pd.Index([value_name(v) for v in rows["value"]], name=name))
    title = _("{attribute}: {where}, each figure with its index against the whole base").format(
        attribute=name, where=where)
    return render.Table(table, title, formats, numeric=list(formats))


def profile_section(
    profile: pd.DataFrame | None, tiers: Sequence[str], currency: str, min_customers: int,
    segment_names: dict[str, str], where: str,
) -> tuple:
    """Everything a "Who they are" section shows: a table per attribute and the notes under them;
    a notice in words when the customer table has none of the attributes."""
    if profile is None:
        return (render.Notice(_(
            "The processed data has no demographic profile (it was made by an earlier custseg); run "
            "`custseg process --force` to add it."), kind="warning"),)
    if profile.empty:
        names = i18n.join_list(attribute_name(a) for a in CANONICAL_ATTRIBUTES)
        return (render.Notice(_(
            "The customer table has none of the descriptive attributes custseg profiles ({names}), and the config "
            "names no others (demographics.attributes), so there is nothing to say about who the customers are "
            "beyond where they are."
        ).format(names=names), kind="info"),)
    items: list = []
    for attribute in demographics.attributes(profile):
        rows = demographics.of_attribute(profile, attribute)
        items.append(attribute_table(rows, attribute, tiers, currency, min_customers, segment_names, where))
    chart = index_chart(profile, SECTION_MEASURES, min_customers, _(
        "Value and churn risk by customer attribute, {where}: index against the whole base (100 = the same as the "
        "base)").format(where=where))
    if chart is not None:
        items.insert(0, chart)
    notes = [_(
        "In brackets: the index against the whole base (100 = the same as the base, 150 = half as much again). "
        "Shares of customers and revenue are within {where}; \"not given\" counts the customers the customer table "
        "gives no value for."
    ).format(where=where)]
    if (profile["customers"] < min_customers).any():
        notes.append(_(
            "{mark} An index on fewer than {count} customers (studies.min_customers): a few customers more or less "
            "move it a lot, so read it as a hint, not a finding."
        ).format(mark=FEW_MARK, count=min_customers))
    return (*items, render.Notice(i18n.join_sentences(notes), kind="info"))


#: The measures of the "Who they are" chart: what a customer is worth, and how likely they leave.
SECTION_MEASURES = (("mean_value", N_("Mean value")), ("churn_probability", N_("Churn probability")))


def index_chart(
    profile: pd.DataFrame, measures: Sequence[tuple[str, str]], min_customers: int, title: str,
) -> render.Chart | None:
    """Index bars (100 = the whole base) of `measures` for every value of every attribute of a
    profile, one panel per attribute, values in the tables' order; a value on fewer than
    `min_customers` customers carries the mark. None when no measure has an index.

    Parameters
    ----------
    profile
        A demographic profile (:func:`custseg.segment.demographics.profile`).
    measures
        (measure, English heading marked with N_) pairs of :data:`custseg.segment.demographics.INDEXED`.
    min_customers
        ``studies.min_customers``.
    title
        The chart's caption and title, in the report language.
    """
    measures = [(m, label) for m, label in measures if profile[f"{m}_index"].notna().any()]
    if profile.empty or not measures:
        return None
    panels = [demographics.of_attribute(profile, a) for a in demographics.attributes(profile)]
    sizes = [len(rows) for rows in panels]
    fig = render.new_figure(7.0, 0.9 + sum(0.22 * len(measures) * n + 0.45 for n in sizes))
    axes = fig.subplots(len(panels), 1, sharex=True, height_ratios=[n + 0.6 for n in sizes], squeeze=False)[:, 0]
    colours = render.sns.color_palette(render.PALETTE, len(measures))
    width = 0.8 / len(measures)
    for ax, rows in zip(axes, panels):
        y = np.arange(len(rows))
        for j, (measure, label) in enumerate(measures):
            index = rows[f"{measure}_index"].to_numpy(dtype="float64")
            bars = ax.barh(y - 0.4 + width * (j + 0.5), np.nan_to_num(index), height=width, color=colours[j],
                           label=_(label))
            ax.bar_label(bars, labels=[render.MISSING if np.isnan(v) else f"{v:.0f}" for v in index],
                         fontsize=7, padding=2)
        ax.axvline(100, color="0.4", linestyle="--", linewidth=1)
        few = rows["customers"].lt(min_customers).to_numpy()
        ax.set_yticks(y, labels=[f"{value_name(v)} {FEW_MARK}" if small else value_name(v)
                                 for v, small in zip(rows["value"], few)])
        ax.invert_yaxis()  # the tables' order from the top
        ax.set_title(attribute_name(str(rows["attribute"].iloc[0])), loc="left", fontsize=10)
        ax.tick_params(axis="y", labelsize=8)
    axes[-1].set_xlabel(_("Index against the whole base (100 = the same as the base)"))
    axes[0].legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncols=len(measures), frameon=False, fontsize=8)
    return render.Chart(fig, title, _index_alt(profile, measures))


def _index_alt(profile: pd.DataFrame, measures: Sequence[tuple[str, str]]) -> str:
    """The chart in words: per measure, the value with the highest index."""
    parts = []
    for measure, label in measures:
        rows = profile.loc[profile[f"{measure}_index"].notna()]
        top = rows.loc[rows[f"{measure}_index"].idxmax()]
        parts.append(_("{measure}: highest for {attribute} {value} (index {index:.0f})").format(
            measure=_(label), attribute=attribute_name(str(top["attribute"])).lower(), value=value_name(top["value"]),
            index=top[f"{measure}_index"]))
    return _("Bar chart of indexes against the whole base for each value of {attributes}. {highest}.").format(
        attributes=i18n.join_list(attribute_name(a).lower() for a in demographics.attributes(profile)),
        highest=i18n.join_clauses(parts))
