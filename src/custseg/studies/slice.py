"""What the region and tier pages share: a slice of customers compared with the whole base.

A page makes one study object and calls one method per section; each method returns a
:class:`~custseg.studies.render.Table`, :class:`~custseg.studies.render.Chart` or
:class:`~custseg.studies.render.Notice` (or a few of them, shown one after the other) inside a
:class:`~custseg.studies.render.Section`. When a slice has too few customers,
:meth:`SliceStudy.notice` says so and every other section returns ``None`` (which a notebook shows
as nothing), instead of a page of empty charts.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from custseg import i18n, words
from custseg.config import Config, Demographics
from custseg.i18n import N_, _
from custseg.processed import ProcessedData
from custseg.segment import lifecycle
from custseg.segment.demographics import profile, watch_ids
from custseg.studies import demographics as demographic_profile
from custseg.studies import findings as found
from custseg.studies import opening as first_screen
from custseg.studies import preferences as preference_classes
from custseg.studies import render, strategy
from custseg.studies.base import Page, section
from custseg.studies.labels import (
    FEW_MARK,
    category_order,
    cluster_labels,
    mix_formats,
    mix_table,
    no_column,
    region_labels,
    segment_labels,
    segment_names,
    segment_order,
    stage_label,
    tier_label,
    value_class_labels,
    value_class_order,
)
from custseg.studies.notices import churn_warnings, no_churn_model, no_clusters

#: Watch-list rows shown in a region or tier study.
WATCH_ROWS = 10
WATCH_HEADINGS = {
    "rank": N_("Rank"), "customer_id": N_("Customer"), "tier": N_("Tier"), "segment": N_("Segment"),
    "churn_probability": N_("Churn probability"), "value_at_risk": N_("Value at risk"), "reasons": N_("Warnings"),
    "action": N_("Recommended action"),
}


def _months(orders: pd.DataFrame) -> pd.Series:
    return orders["order_date"].dt.to_period("M").dt.to_timestamp()


def _score(value: float) -> str:
    """A mean score on a 1-5 scale, two decimals ('–' when there is none)."""
    return "–" if pd.isna(value) else f"{value:.2f}"


class SliceStudy(Page):
    """What region and tier studies share: a slice of customers compared with the whole base.

    A subclass names its slice with ``label`` (in the report language, looked up each time it is
    shown) and its page title with ``title``, an English text with ``{label}`` marked with N_.
    """

    kind = "group"
    title: str  # the page title, an English text with {label} marked with N_
    # the config's demographics settings (extra attributes, bands): from_config sets them
    demographics: Demographics = Demographics()
    # the study config, for the navigation of the opening block: from_config sets it
    config: Config | None = None
    page_key: str = ""  # the key of the page in the plan (custseg.studies.plan.StudyJob.key)

    def __init__(self, data: ProcessedData, mask: pd.Series, order_mask: pd.Series, min_customers: int) -> None:
        self.data, self.min_customers = data, min_customers
        self.customers = data.customers.loc[mask]
        self.orders = data.orders.loc[order_mask]
        self.base = data.customers
        self.currency = data.meta.base_currency
        self.buyers = self.customers.loc[self.customers["frequency"] > 0]
        self.enough = len(self.buyers) >= min_customers

    @property
    def label(self) -> str:
        """The study's name for its slice, in the report language."""
        raise NotImplementedError

    def _indexed(self, table: pd.DataFrame, title: str, formats: dict[str, Callable[[object], str]]) -> render.Section:
        """A table of indexes against the base, each beside its count of customers (column
        "Customers"); an index on fewer customers than studies.min_customers is marked, with a
        note under the table that says why."""
        count, index = _("Customers"), _("Index")
        few = table[count].lt(self.min_customers) & table[index].notna()
        shown = table.assign(**{index: [
            f"{render.index_points(value)} {FEW_MARK}" if small else render.index_points(value)
            for value, small in zip(table[index], few)
        ]})
        formats = {name: fmt for name, fmt in formats.items() if name != index}
        result = render.Table(shown, title, formats, numeric=[index])
        if not few.any():
            return result
        return result, render.Notice(_(
            "{mark} An index on fewer than {count} customers (studies.min_customers): a few customers more or less "
            "move it a lot, so read it as a hint, not a finding."
        ).format(mark=FEW_MARK, count=self.min_customers), kind="info")

    def region_spread_table(self, share: str, in_region: str, title: str) -> render.Table:
        """The slice's buying customers by region: how many, their share of the slice, the share of
        each region's buyers they are, and their revenue (the tier and group pages' spread)."""
        buyers = self.base.loc[self.base["frequency"] > 0]
        customers, revenue = _("Customers"), _("Revenue")
        counts = self.buyers.groupby("region", observed=True).size()
        table = pd.DataFrame({
            customers: counts,
            share: counts / len(self.buyers),
            in_region: counts / buyers.groupby("region", observed=True).size(),
            revenue: self.buyers.groupby("region", observed=True)["monetary"].sum(),
        }).dropna(subset=[customers]).sort_values(customers, ascending=False)
        names = region_labels(self.data)
        table.index = table.index.map(lambda region: names.get(region, region))
        table.index.name = _("Region")
        return render.Table(
            table, title,
            {customers: render.integer, share: render.percent, in_region: render.percent,
             revenue: render.money(self.currency)},
        )

    def opening(self) -> first_screen.Opening:
        """The period, the slice's findings against the whole base and the navigation; on a page with a
        strategy section, a link down to it. The "Unknown" region's page compares nothing: no findings."""
        data, config = self.data, self.config
        here = first_screen.page_href(data, config, self.kind, self.page_key) if config is not None else "index.html"
        findings = [] if getattr(self, "unplaced", False) else found.slice_findings(data, self.customers,
                                                                                    self.min_customers)
        jump = None
        if hasattr(self, "strategy") and self.enough and not getattr(self, "unplaced", False):
            jump = (first_screen.STRATEGY, _("Strategy for {label}").format(label=self.label))
        return first_screen.opening(data, config, found.period(data), findings, here, label=self.label, jump=jump)

    def heading(self) -> render.Heading:
        """Title of the page."""
        meta = self.data.meta
        return render.Heading(
            _(self.title).format(label=self.label),
            _("{title} · observation date {date} · amounts in {currency}").format(
                title=meta.title, date=meta.observation_date, currency=self.currency
            ),
        )

    def notice(self) -> render.Notice | None:
        """Why the study is short, when it is; nothing otherwise."""
        if self.enough:
            return None
        return render.Notice(
            _(
                "{label} has {buyers} customers with purchases, fewer than the {needed} this study needs for "
                "figures that mean something (studies.min_customers in the config). The sections below are left "
                "out on purpose; these customers are still counted in the overview and in their tiers."
            ).format(label=self.label, buyers=len(self.buyers), needed=self.min_customers),
            kind="warning",
        )

    @section(
        N_("Key figures"),
        N_(
            "{label} against the whole customer base; an index of 100 means the same as the base, 150 means half as "
            "much again."
        ),
        pages="both",
    )
    def headline(self) -> render.Section | None:
        """Key figures of the slice against the whole base, with an index (100 = base)."""
        measure, whole_base, index = _("Measure"), _("Whole base"), _("Index")
        rows = []
        # Totals get no index: 100 x a region's customers over the base's is its share, not "the
        # same as the base"; the averages below are compared with the base's own
        money, bought = render.money(self.currency), self.base.loc[self.base["frequency"] > 0, "frequency"]
        for label, part, whole, fmt, compared in (
            (_("Customers"), len(self.customers), len(self.base), render.integer, False),
            (_("Customers with purchases"), len(self.buyers), len(bought), render.integer, False),
            (_("Revenue"), self.buyers["monetary"].sum(), self.base["monetary"].sum(), money, False),
            (_("Average order value"), strategy.average_order_value(self.buyers),
             strategy.average_order_value(self.base), money, True),
            (_("Orders per buying customer"), self.buyers["frequency"].mean(), bought.mean(), render.decimal, True),
            (_("Median days since last order"), self.buyers["recency_days"].median(),
             self.base["recency_days"].median(), render.integer, True),
        ):
            rows.append({measure: label, self.label: fmt(part), whole_base: fmt(whole),
                         index: 100 * part / whole if compared and whole else None})
        revenue, base_revenue = self.buyers["monetary"].sum(), self.base["monetary"].sum()
        share = render.percent(revenue / base_revenue) if base_revenue else "–"
        rows.insert(3, {measure: _("Share of the base's revenue"), self.label: share, whole_base: "100%", index: None})
        if {"revenue_90d", "revenue_prev_90d"} <= set(self.base.columns):
            rows.insert(4, {measure: _("Revenue growth, last 90 days against the 90 before"),
                            self.label: render.signed_percent(strategy.revenue_growth(self.buyers)),
                            whole_base: render.signed_percent(strategy.revenue_growth(self.base)), index: None})
        return render.Table(
            pd.DataFrame(rows), _("{label} against the whole customer base").format(label=self.label),
            {index: render.index_points}, numeric=[self.label, whole_base],
        )

    @section(
        N_("Revenue over time"),
        N_("Net revenue per calendar month (completed orders, refunds netted out, in the base currency)."),
    )
    def monthly_revenue(self) -> render.Section | None:
        """Revenue per month of the slice."""
        monthly = self.orders.groupby(_months(self.orders))["revenue"].sum().rename_axis("month").reset_index()
        title = _("Monthly revenue, {label}").format(label=self.label)
        fig = render.new_figure()
        ax = fig.subplots()
        ax.plot(monthly["month"], monthly["revenue"], marker="o", markersize=3)
        ax.set(title=title, xlabel=_("Month"), ylabel=_("Revenue ({currency})").format(currency=self.currency))
        ax.set_ylim(bottom=0)  # revenue bars from zero, so a dip is not drawn as a collapse
        render.date_axis(ax)
        render.thousands_axis(ax.yaxis)
        peak = monthly.loc[monthly["revenue"].idxmax()]
        return render.Chart(
            fig, title,
            _(
                "Line chart of monthly revenue for {label}; the highest month is {month} with {revenue:,.0f} "
                "{currency}."
            ).format(label=self.label, month=render.month_year(peak["month"]), revenue=peak["revenue"],
                     currency=self.currency),
        )

    @section(
        N_("Product preferences"),
        N_(
            "Which categories earn the revenue here, against the whole base: an index above 100 marks a category this "
            "group favours."
        ),
    )
    def category_mix(self) -> render.Section | None:
        """Revenue share per product category in the slice and in the base; index 100 = same as base."""
        here, in_base, index, count = _("Share here"), _("Share in base"), _("Index"), _("Customers")
        part = self.orders.groupby("category")["revenue"].sum()
        whole = self.data.orders.groupby("category")["revenue"].sum()
        bought = self.orders.loc[self.orders["status"].eq("completed")]
        table = pd.DataFrame({here: part / part.sum(), in_base: whole / whole.sum()}).fillna(0.0)
        table = table.assign(**{
            count: bought.groupby("category")["customer_id"].nunique().reindex(table.index, fill_value=0)
            .astype("int64"),
            index: 100 * table[here] / table[in_base],
        }).sort_values(here, ascending=False)[[count, here, in_base, index]]
        table.index = table.index.map(lambda category: i18n.label("category", category))
        table.index.name = _("Category")
        return self._indexed(
            table, _("Product categories by revenue, {label}").format(label=self.label),
            {count: render.integer, here: render.percent, in_base: render.percent},
        )

    @section(
        N_("RFM segments"),
        N_(
            "How {label}'s buying customers spread over the 11 RFM segments and the 8 value classes (RFM 八类客户), "
            "against the whole base: an index above 100 marks a segment over-represented here."
        ),
    )
    def segment_mix(self) -> render.Section | None:
        """Share of buying customers per 11-group segment and per 8-class value class, slice against base."""
        tables = []
        for column, what in (("segment", _("the 11 RFM segments")), ("value_class", _("the 8 value classes"))):
            missing = no_column([column], self.base, what)
            if missing:
                tables.append(missing)
                continue
            if column == "segment":
                mix = mix_table(segment_labels(self.buyers, self.base), segment_labels(self.base),
                                segment_order(self.base), _("Segment"))
                title = _("RFM segments, {label} against the whole base").format(label=self.label)
            else:
                mix = mix_table(value_class_labels(self.buyers), value_class_labels(self.base),
                                value_class_order(self.base), _("Value class"))
                title = _("Value classes (8-class model), {label} against the whole base").format(label=self.label)
            section = self._indexed(mix, title, mix_formats())
            tables.extend(section if isinstance(section, tuple) else (section,))
        return tuple(tables)

    @section(
        N_("Lifecycle stages"),
        N_(
            "Where {label}'s customers stand in the relationship (judged against each customer's own buying rhythm), "
            "against the whole base."
        ),
    )
    def lifecycle_mix(self) -> render.Section | None:
        """Share of customers per lifecycle stage, slice against base."""
        missing = no_column(["lifecycle"], self.base, _("lifecycle stages"))
        if missing:
            return missing
        label = lambda stages: stages.astype("string").map(stage_label, na_action="ignore")  # noqa: E731
        stages = [stage_label(s) for s in lifecycle.STAGES]
        mix = mix_table(label(self.customers["lifecycle"]), label(self.base["lifecycle"]), stages, _("Stage"))
        title = _("Lifecycle stages, {label} against the whole base").format(label=self.label)
        return self._indexed(mix, title, mix_formats())

    @section(
        N_("Clusters"),
        N_(
            "The data-driven clusters (fitted on recency, frequency, spend, basket size and tenure) that {label}'s "
            "buying customers fall in, against the whole base."
        ),
    )
    def cluster_mix(self) -> render.Section | None:
        """Share of the slice's buying customers per cluster, against the base; a notice without clusters."""
        if "cluster" not in self.base or self.base["cluster"].isna().all():
            return no_clusters(self.data)
        names = cluster_labels(self.data)
        if names:
            def label(frame: pd.DataFrame) -> pd.Series:
                return frame["cluster"].astype("Int64").map(names, na_action="ignore")
            order = [names[key] for key in sorted(names)]
        else:  # a study.json that did not name the clusters: the customer table's names as written
            def label(frame: pd.DataFrame) -> pd.Series:
                return frame["cluster_name"] if "cluster_name" in frame else frame["cluster"].astype("string")
            order = category_order(label(self.base))
        mix = mix_table(label(self.buyers), label(self.base), order, _("Cluster"))
        return self._indexed(mix, _("Clusters, {label} against the whole base").format(label=self.label), mix_formats())

    @section(
        N_("Satisfaction"),
        N_(
            "Satisfaction scores (1-5) and net promoter classes of {label}'s customers who gave feedback, against the "
            "whole base."
        ),
    )
    def satisfaction(self) -> render.Section | None:
        """Mean satisfaction and NPS classes of the slice against the base; a notice without feedback."""
        if "feedback" not in self.data.meta.inputs:
            return render.Notice(
                _("This study has no feedback table (inputs.feedback), so satisfaction and NPS are not shown."),
                kind="info",
            )
        missing = no_column(["satisfaction_mean", "satisfaction_latest", "nps_class"], self.base, _("satisfaction"))
        if missing:
            return missing
        rated = self.customers.loc[self.customers["satisfaction_mean"].notna()]
        if rated.empty:
            return render.Notice(
                _("None of the {count:,} customers of {label} gave feedback.").format(
                    count=len(self.customers), label=self.label
                ),
                kind="info",
            )
        base = self.base.loc[self.base["satisfaction_mean"].notna()]
        rows = [
            (_("Customers who gave feedback"), render.integer(len(rated)), render.integer(len(base))),
            (_("… share of all customers"), render.percent(len(rated) / len(self.customers)),
             render.percent(len(base) / len(self.base))),
            (_("Mean satisfaction (1-5)"), _score(rated["satisfaction_mean"].mean()),
             _score(base["satisfaction_mean"].mean())),
            (_("Mean latest satisfaction (1-5)"), _score(rated["satisfaction_latest"].mean()),
             _score(base["satisfaction_latest"].mean())),
        ]
        answers = [frame["nps_class"].dropna() for frame in (rated, base)]
        rows.append((_("Customers with an NPS answer"), *(render.integer(len(a)) for a in answers)))
        classes = {
            "promoter": _("Promoters (latest NPS answer)"),
            "passive": _("Passives (latest NPS answer)"),
            "detractor": _("Detractors (latest NPS answer)"),
        }
        # without answers there is no share and no score: a dash, not a measured 0% or +0
        shares = [a.value_counts(normalize=True) if len(a) else None for a in answers]
        for name, text in classes.items():
            rows.append((text, *(render.percent(s.get(name, 0.0)) if s is not None else render.MISSING
                                 for s in shares)))

        def nps(s: pd.Series | None) -> str:
            return render.MISSING if s is None else f"{100 * (s.get('promoter', 0.0) - s.get('detractor', 0.0)):+.0f}"

        rows.append((_("Net promoter score (promoters − detractors)"), *(nps(s) for s in shares)))
        whole_base = _("Whole base")
        table = pd.DataFrame(rows, columns=[_("Measure"), self.label, whole_base])
        return render.Table(
            table, _("Satisfaction and NPS, {label} against the whole base").format(label=self.label),
            numeric=[self.label, whole_base],
        )

    @section(
        N_("Price sensitivity"),
        N_(
            "How much {label}'s customers spend per order against the whole base: the spread of order values, and the "
            "share of orders below the base's lower quartile (the cheapest quarter of the base's orders), a sign of "
            "price-sensitive buying."
        ),
    )
    def price_sensitivity(self) -> render.Section | None:
        """Order values of the slice against the base: distribution and share of low-value orders."""
        here, whole = strategy.order_values(self.orders), strategy.order_values(self.data.orders)
        if here.empty or whole.empty:
            return render.Notice(
                _("{label} has no completed orders with a value to compare.").format(label=self.label), kind="info"
            )
        low = whole.quantile(strategy.LOW_VALUE_QUANTILE)
        money = render.money(self.currency)
        whole_base = _("Whole base")
        rows = [
            (_("Median order value"), money(here.median()), money(whole.median())),
            (_("Orders in the top quarter of the base's values"), render.percent((here > whole.quantile(0.75)).mean()),
             render.percent((whole > whole.quantile(0.75)).mean())),
            (_("Orders below {amount} (the base's lower quartile)").format(amount=money(low)),
             render.percent((here < low).mean()), render.percent((whole < low).mean())),
        ]
        table = render.Table(pd.DataFrame(rows, columns=[_("Measure"), self.label, whole_base]),
                             _("Order values, {label} against the whole base").format(label=self.label),
                             numeric=[self.label, whole_base])
        fig = render.new_figure()
        ax = fig.subplots()
        bins = np.logspace(np.log10(whole.min()), np.log10(whole.max()), 30)
        # Each bar is its bin's share of the orders: a density would divide by the bins' widths in
        # currency, which on log-spaced bins piles the height onto the cheapest orders.
        for values, label, alpha, colour in ((whole, whole_base, 0.45, 1), (here, self.label, 0.65, 0)):
            ax.hist(values, bins=bins, weights=np.full(len(values), 1 / len(values)), alpha=alpha, label=label,
                    color=render.sns.color_palette()[colour])
        ax.set_xscale("log")
        ax.yaxis.set_major_formatter(lambda v, _pos: f"{v:.0%}")
        ax.set(title=_("Order values, {label} against the base").format(label=self.label),
               xlabel=_("Order value ({currency}, log scale)").format(currency=self.currency),
               ylabel=_("Share of orders"))
        ax.legend(frameon=False)
        return table, render.Chart(
            fig, _("Order values, {label}").format(label=self.label),
            _(
                "Overlaid histograms of order values on a log scale; the median order in {label} is "
                "{here:,.0f} {currency} against {whole:,.0f} {currency} in the whole base."
            ).format(label=self.label, here=here.median(), whole=whole.median(), currency=self.currency),
        )

    @section(
        N_("Seasonality"),
        N_(
            "Each calendar month's share of the year's revenue in {label} against the whole base, over all years in "
            "the data: a month above the base's line is when {label} buys relatively more."
        ),
    )
    def seasonality(self) -> render.Section | None:
        """Revenue share per calendar month, slice against base."""
        def shares(orders: pd.DataFrame) -> pd.Series:
            by_month = orders.groupby(orders["order_date"].dt.month)["revenue"].sum()
            by_month = by_month.reindex(range(1, 13), fill_value=0.0)
            total = by_month.clip(lower=0).sum()
            return by_month.clip(lower=0) / total if total > 0 else by_month * np.nan
        here, whole = shares(self.orders), shares(self.data.orders)
        if here.isna().all():
            return render.Notice(
                _("{label} has no revenue to spread over the months.").format(label=self.label), kind="info"
            )
        months = render.month_names()
        title = _("Revenue by calendar month, {label}").format(label=self.label)
        fig = render.new_figure()
        ax = fig.subplots()
        ax.bar(months, here.to_numpy(), label=self.label, color=render.sns.color_palette()[0])
        ax.plot(months, whole.to_numpy(), color="black", marker="o", markersize=3, label=_("Whole base"))
        ax.set(title=title, xlabel=_("Month"), ylabel=_("Share of the year's revenue"))
        ax.yaxis.set_major_formatter(lambda v, _pos: f"{v:.0%}")
        ax.legend(frameon=False)
        index = 100 * here / whole.replace(0, np.nan)
        peak, trough = index.idxmax(), index.idxmin()
        return render.Chart(
            fig, title,
            _(
                "Bars of each month's share of revenue in {label} with the whole base as a line; relative to the base "
                "{label} buys most in {peak} (index {peak_index:.0f}) and least in {trough} (index {trough_index:.0f})."
            ).format(label=self.label, peak=months[peak - 1], peak_index=index[peak], trough=months[trough - 1],
                     trough_index=index[trough]),
        )

    @section(
        N_("Customers at risk"),
        N_(
            "Churn early warning for {label} against the whole base: customers flagged by the warning rules, the churn "
            "model's probability of no order in the coming period, and the value at risk (expected value x churn "
            "probability). The churn watch study explains the rules and how well the model did in its backtest."
        ),
    )
    def churn_risk(self) -> render.Section | None:
        """Warnings, churn probability and value at risk of the slice, and its top watch-list entries."""
        missing = no_column(["warning_count", "churn_probability", "value_at_risk"], self.base, _("churn risk"))
        if missing:
            return missing
        here, whole = self.buyers, self.base.loc[self.base["frequency"] > 0]
        risk_total = whole["value_at_risk"].sum()
        horizon = self.data.meta.churn.horizon_days
        probability = (
            _("Mean probability of no order in the next {days} days").format(days=horizon) if horizon
            else _("Mean probability of no order in the coming period")
        )
        money = render.money(self.currency)
        rows = [
            (_("Customers with purchases"), render.integer(len(here)), render.integer(len(whole))),
            (_("… with at least one warning"), render.percent(here["warning_count"].gt(0).mean()),
             render.percent(whole["warning_count"].gt(0).mean())),
        ]
        scored = whole["churn_probability"].notna().any()
        if scored:
            risk_here = here["value_at_risk"].sum()
            rows += [
                (probability, render.percent(here["churn_probability"].mean()),
                 render.percent(whole["churn_probability"].mean())),
                (_("Value at risk"), money(risk_here), money(risk_total)),
                (_("… share of the base's value at risk"),
                 render.percent(risk_here / risk_total) if risk_total else render.MISSING,
                 render.percent(1.0)),
            ]
        whole_base = _("Whole base")
        table = render.Table(pd.DataFrame(rows, columns=[_("Measure"), self.label, whole_base]),
                             _("Churn risk, {label} against the whole base").format(label=self.label),
                             numeric=[self.label, whole_base])
        if not scored:
            table = (table, no_churn_model(self.data))
        else:
            table = (table, *churn_warnings(self.data))
        table = table if isinstance(table, tuple) else (table,)
        watch = self.data.table("watch_list")
        if watch is None:
            return *table, render.Notice(_("There is no watch list for this study: no customer "
                                           "qualified for it."), kind="info")
        # the slice's whole list, worded as its top rows are: the table's CSV download holds it all
        mine = watch.loc[watch["customer_id"].isin(self.customers["customer_id"])]
        if mine.empty:
            return *table, render.Notice(
                _("None of the customers of {label} is on the watch list.").format(label=self.label), kind="info"
            )
        shown = mine[list(WATCH_HEADINGS)]
        if self.data.meta.mask_ids:
            shown = shown.assign(customer_id=shown["customer_id"].map(render.mask_id))
        segments = segment_names(self.base)
        shown = shown.assign(
            tier=shown["tier"].astype("string").map(tier_label, na_action="ignore"),
            segment=shown["segment"].astype("string").map(lambda s: segments.get(s, s), na_action="ignore"),
            # the pipeline keeps reasons as facts, worded here in the report language; actions are
            # English (the export is one file for all readers), a user's own action stays as written
            reasons=shown["reasons"].map(words.churn_reasons).astype("string"),
            action=shown["action"].astype("string").map(_, na_action="ignore"),
        )
        headings = {column: _(heading) for column, heading in WATCH_HEADINGS.items()}
        everyone = shown.rename(columns=headings)
        return *table, render.Table(
            everyone.head(WATCH_ROWS),
            _("Top of the watch list in {label} (rank in the whole list; the CSV download holds all {count} of "
              "them)").format(label=self.label, count=render.integer(len(everyone))),
            {headings["rank"]: render.integer, headings["churn_probability"]: render.percent,
             headings["value_at_risk"]: money},
            download=everyone,
        )

    @section(
        N_("Who they are"),
        N_(
            "How the customers of {label} differ by the descriptive attributes of the customer table, computed on "
            "{label} and indexed against the whole base (100 = the same as the base)."
        ),
    )
    def who_they_are(self) -> render.Section | None:
        """A table per customer attribute present, on the slice, every figure with its index
        against the whole base."""
        table = profile(self.customers, self.demographics, self.data.meta.tiers, base=self.base,
                        watch_ids=watch_ids(self.data.table("watch_list")))
        return demographic_profile.profile_section(
            table, self.data.meta.tiers, self.currency, self.min_customers, segment_names(self.base), self.label
        )

    @section(
        N_("What they prefer"),
        N_(
            "What the customers of {label} prefer: their leading category, price level, contact channel and buying "
            "times, each class with its share of {label} against the whole base, its revenue and churn."
        ),
    )
    def what_they_prefer(self) -> render.Section | None:
        """A table per preference class, on the slice against the whole base, and a chart."""
        return preference_classes.preference_section(
            self.customers, self.base, self.currency, self.min_customers, self.label, slice_=True
        )
