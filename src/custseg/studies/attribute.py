"""The attribute comparison page: every value of one ``studies.by`` attribute side by side against
the whole base (``by/<attribute>/index.html``, beside the pages of its values).

Its figures are the demographic profile's (:func:`custseg.segment.demographics.profile`, so the
same as the "Who they are" tables of the overview) of the attribute's values, in the order of
its value pages (bands in order, other values largest first, "not given" last), plus the value
at risk and the tier mix against the base's; each measure beside its index against the whole
base, small counts marked as the other tables mark them.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from custseg.config import Config, Demographics
from custseg.i18n import N_, _
from custseg.processed import ProcessedData
from custseg.segment.demographics import of_attribute, profile, watch_ids
from custseg.segment.groups import MISSING, attribute_values
from custseg.studies import findings as found
from custseg.studies import opening as first_screen
from custseg.studies import render
from custseg.studies.base import Page, open_study, section
from custseg.studies.demographics import attribute_name, index_chart, level_name, value_name, with_index
from custseg.studies.labels import FEW_MARK, tier_label

#: The measures of the comparison chart: how often and how much the customers buy, and how likely
#: they leave (the differences a value's page explains).
CHART_MEASURES = (
    ("orders_per_buyer", N_("Orders per buyer")), ("average_order_value", N_("Average order value")),
    ("churn_probability", N_("Churn probability")),
)


def _index(part: pd.Series, whole: float) -> pd.Series:
    """100 x part / whole (missing when the whole is zero or missing)."""
    if pd.isna(whole) or whole == 0:
        return pd.Series(np.nan, index=part.index)
    return (100.0 * part.astype("float64") / whole).astype("float64")


def comparison(customers: pd.DataFrame, attribute: str, settings: Demographics, tiers: Sequence[str],
               watch: Sequence[str] = ()) -> pd.DataFrame:
    """Every value of `attribute` against the whole base, one row per value (the profile's order).

    Parameters
    ----------
    customers
        The processed customer table (the whole base).
    attribute
        A ``studies.by`` attribute; banded when ``settings.bands`` names it.
    settings
        The config's ``demographics``.
    tiers
        The tier names, best first.
    watch
        The customer ids on the churn watch list.

    Returns
    -------
    pandas.DataFrame
        The profile's rows of `attribute` (:data:`custseg.segment.demographics.COLUMNS`, the
        ``tier_<name>`` shares and ``<measure>_index``), plus ``level`` (the value's page
        parameter: its text, a band's label, :data:`~custseg.segment.groups.MISSING` for none),
        ``revenue_share_index`` (revenue per customer against the base's), ``value_at_risk`` (of
        its buyers), ``value_at_risk_share``, ``value_at_risk_share_index`` (per customer, against
        the base's) and a ``tier_<name>_index`` per tier (its buyers' share against the base's).
    """
    if attribute not in settings.profiled():  # a studies.by column that is not a demographic attribute
        settings = settings.model_copy(update={"attributes": [*settings.attributes, attribute]})
    rows = of_attribute(profile(customers, settings, tiers, watch_ids=watch), attribute).reset_index(drop=True)
    rows = rows.assign(level=rows["value"].astype("object").where(rows["given"], MISSING).astype("str"))
    buyers = customers["frequency"].to_numpy() > 0
    levels = attribute_values(customers, attribute, settings.bands).fillna(MISSING).astype("str")
    if "value_at_risk" in customers:
        risk = pd.Series(np.where(buyers, customers["value_at_risk"].to_numpy(dtype="float64", na_value=np.nan),
                                  np.nan), index=customers.index)
        at_risk = risk.groupby(levels.to_numpy()).sum(min_count=1)
        rows["value_at_risk"] = rows["level"].map(at_risk).astype("float64")
        total = float(risk.sum())
        rows["value_at_risk_share"] = rows["value_at_risk"] / total if total else np.nan
    else:
        rows["value_at_risk"] = rows["value_at_risk_share"] = np.nan
    # a share of revenue (or of value at risk) over the share of customers: per customer, against the base
    rows["revenue_share_index"] = (100.0 * rows["revenue_share"] / rows["share"]).astype("float64")
    rows["value_at_risk_share_index"] = (100.0 * rows["value_at_risk_share"] / rows["share"]).astype("float64")
    tier = customers["tier"].astype("string").to_numpy(dtype=object, na_value=None)[buyers]
    for name in tiers:
        rows[f"tier_{name}_index"] = _index(rows[f"tier_{name}"], float(np.mean(tier == name)) if len(tier) else 0)
    return rows


class AttributeStudy(Page):
    """The values of one ``studies.by`` attribute side by side. Build it with :meth:`from_config`."""

    kind = "attribute"

    def __init__(self, data: ProcessedData, attribute: str, settings: Demographics, min_customers: int = 30,
                 pages: Sequence[tuple[str, str, str]] = ()) -> None:
        self.data, self.attribute, self.min_customers = data, attribute, min_customers
        self.currency = data.meta.base_currency
        self.tiers = list(data.meta.tiers)
        self.pages = list(pages)  # (href relative to this page, level, note) of each value's page
        self.rows = (comparison(data.customers, attribute, settings, self.tiers,
                                watch_ids(data.table("watch_list")))
                     if attribute in data.customers else None)
        self.enough = self.rows is not None and not self.rows.empty

    @classmethod
    def from_config(cls, config: Config, language: str = "", attribute: str = "") -> AttributeStudy:
        """The comparison page of `attribute` (one of ``studies.by``) in `language` ("": the config's)."""
        # imported here: the plan reads the demographics labels, which pages import
        from custseg.studies.plan import plan_studies

        if attribute not in config.studies.by:
            raise ValueError(f"{attribute!r} is not in the config's studies.by {config.studies.by}")
        data = open_study(config, language)
        jobs = plan_studies(data, config)
        here = posixpath.dirname(next(job.href for job in jobs if job.kind == "attribute" and job.key == attribute))
        pages = [(posixpath.relpath(job.href, here), job.parameters["value"], job.note) for job in jobs
                 if job.kind == "group" and job.parameters.get("attribute") == attribute]
        study = cls(data, attribute, config.demographics, config.studies.min_customers, pages)
        study.config = config
        return study

    def opening(self) -> first_screen.Opening:
        """The period, how the attribute's largest values differ from the whole base, and the navigation."""
        data, config = self.data, self.config
        values = attribute_values(data.customers, self.attribute, config.demographics.bands)
        findings = found.attribute_findings(data, values.fillna(MISSING), self.min_customers)
        here = first_screen.page_href(data, config, "attribute", self.attribute)
        return first_screen.opening(data, config, found.period(data), findings, here, value_names=level_name)

    @property
    def label(self) -> str:
        """The attribute's name in the report language."""
        return attribute_name(self.attribute)

    def heading(self) -> render.Heading:
        """Title of the page."""
        meta = self.data.meta
        return render.Heading(
            _("{attribute} side by side").format(attribute=self.label),
            _("{title} · observation date {date} · amounts in {currency}").format(
                title=meta.title, date=meta.observation_date, currency=self.currency),
        )

    def notice(self) -> render.Notice | None:
        """Why the page is empty, when it is."""
        if self.enough:
            return None
        return render.Notice(_(
            "The customer table gives no value of {attribute} for any customer, so there is nothing to compare."
        ).format(attribute=self.label.lower()), kind="warning")

    def _table(self, columns: Sequence[tuple[str, str, Callable, bool]], title: str) -> render.Table:
        """A row per value: each (measure, heading, format, indexed) as a column; an indexed one with
        its index in brackets, marked when it rests on fewer than studies.min_customers customers."""
        rows = self.rows
        few = rows["customers"].lt(self.min_customers).to_numpy()
        frame, formats = {}, {}
        for measure, heading, fmt, indexed in columns:
            if rows[measure].isna().all():
                continue  # no such figure in this study (no churn model, no feedback)
            if indexed:
                frame[heading] = list(zip(rows[measure], rows[f"{measure}_index"], few))
                formats[heading] = with_index(fmt)
            else:
                frame[heading], formats[heading] = rows[measure].to_numpy(), fmt
        table = pd.DataFrame(frame, index=pd.Index([level_name(v) for v in rows["level"]], name=self.label))
        return render.Table(table, title, formats, numeric=list(formats))

    def _notes(self) -> render.Notice:
        notes = [_(
            "In brackets: the index against the whole base (100 = the same as the base, 150 = half as much again); "
            "for revenue and value at risk, per customer."
        )]
        if not self.rows["given"].all():
            notes.append(_("\"not given\" counts the customers the customer table gives no value for."))
        if self.rows["customers"].lt(self.min_customers).any():
            notes.append(_(
                "{mark} An index on fewer than {count} customers (studies.min_customers): a few customers more or less "
                "move it a lot, so read it as a hint, not a finding."
            ).format(mark=FEW_MARK, count=self.min_customers))
        return render.Notice(" ".join(notes), kind="info")

    @section(
        N_("Size and buying"),
        N_("Each value of {label}: how many customers hold it, what they bring in, how often and how much they buy, "
           "what they are worth and how satisfied they are, against the whole base."),
    )
    def sizes(self) -> tuple:
        """Customers, buyers, revenue and its share, orders per buyer, order value, mean value and
        satisfaction per value."""
        money = render.money(self.currency)
        table = self._table((
            ("customers", _("Customers"), render.integer, False),
            ("share", _("Share of customers"), render.percent, False),
            ("buyers", _("Customers with purchases"), render.integer, False),
            ("revenue", _("Revenue"), money, False),
            ("revenue_share", _("Revenue share"), render.percent, True),
            ("orders_per_buyer", _("Orders per buyer"), render.decimal, True),
            ("average_order_value", _("Average order value"), money, True),
            ("mean_value", _("Mean value"), money, True),
            ("satisfaction", _("Satisfaction (1-5)"), lambda v: f"{float(v):.2f}", True),
        ), _("{attribute}: size and buying of each value, with its index against the whole base").format(
            attribute=self.label))
        return table, self._notes()

    @section(
        N_("At a glance"),
        N_("How often and how much each value's customers buy, and how likely they are to leave, as indexes against "
           "the whole base (the dashed line, 100)."),
    )
    def chart(self) -> render.Chart | render.Notice:
        """Index bars of orders per buyer, order value and churn probability per value."""
        chart = index_chart(self.rows, CHART_MEASURES, self.min_customers, _(
            "{attribute}: index against the whole base of each value (100 = the same as the base)").format(
            attribute=self.label))
        return chart if chart is not None else render.Notice(_("No value has an index to draw."), kind="info")

    @section(
        N_("Tiers and lifecycle"),
        N_("How each value's buying customers spread over the value tiers, and how its customers spread over the "
           "lifecycle, against the whole base."),
    )
    def tiers_and_lifecycle(self) -> render.Table:
        """The share of each value's buyers in each tier and its lifecycle shares, with indexes."""
        columns = [(f"tier_{tier}", _("Share in tier {tier}").format(tier=tier_label(tier)), render.percent, True)
                   for tier in self.tiers]
        columns += [
            ("active_share", _("Active"), render.percent, True),
            ("at_risk_share", _("At risk"), render.percent, True),
            ("churned_share", _("Churned"), render.percent, True),
        ]
        return self._table(columns, _("{attribute}: tiers and lifecycle of each value, with its index against the "
                                      "whole base").format(attribute=self.label))

    @section(
        N_("Churn risk"),
        N_("Each value's mean churn probability, its value at risk (expected value x churn probability) and its share "
           "of the base's, and how many of its customers are on the churn watch list."),
    )
    def churn_risk(self) -> render.Table | render.Notice:
        """Churn probability, value at risk and its share, and the watch-list share per value."""
        if self.rows["churn_probability"].isna().all():
            return render.Notice(_("The churn model was not fitted, so there is no churn probability and no value at "
                                   "risk here."), kind="info")
        money = render.money(self.currency)
        return self._table((
            ("churn_probability", _("Churn probability"), render.percent, True),
            ("value_at_risk", _("Value at risk"), money, False),
            ("value_at_risk_share", _("Share of value at risk"), render.percent, True),
            ("watch_share", _("On the watch list"), render.percent, True),
        ), _("{attribute}: churn risk of each value, with its index against the whole base").format(
            attribute=self.label))

    def value_pages(self) -> render.Section:
        """Links to the study of each value (shown however few the customers)."""
        links = [(href, level_name(level), note) for href, level, note in self.pages]
        missing = self.rows is not None and bool((~self.rows["given"]).any())
        items: list = [render.Links(links, _("Studies by {attribute}").format(attribute=self.label.lower()))]
        if missing and MISSING not in [level for _href, level, _note in self.pages]:
            items.append(render.Notice(_(
                "The customers with no {attribute} given have no study of their own; they are the \"{missing}\" row "
                "above."
            ).format(attribute=self.label.lower(), missing=value_name(None)), kind="info"))
        return render.Section(_("The study of each value"), _(
            "Every value of {label} has a study of its own, with the sections of a region study."
        ).format(label=self.label), *items)
