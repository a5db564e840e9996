"""The "Who they are" sections: a demographic profile (:mod:`custseg.segment.demographics`) shown
as one table per attribute, each figure beside its index against the whole base.

The overview shows the whole base's profile (the processed table ``demographics``); a region or
tier study profiles its own customers against the whole base. Texts are in the report language;
the values of the sample's canonical attributes are translated, other values are shown as the
data spells them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd

from custseg import i18n
from custseg.config import CANONICAL_ATTRIBUTES
from custseg.i18n import N_, _
from custseg.segment import demographics
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


def _with_index(fmt: Callable[[object], str]) -> Callable[[tuple], str]:
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
        formats[heading] = _with_index(fmt)
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
