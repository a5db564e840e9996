"""Sections of the region, tier, overview and data-quality studies.

A study notebook makes one study object and calls one method per section; each method returns a
:class:`~custseg.render.Table`, :class:`~custseg.render.Chart` or :class:`~custseg.render.Notice`
(or a few of them, shown one after the other) inside a :class:`~custseg.render.Section`.
When a region or tier has too few customers, :meth:`_Study.notice` says so and every other
section returns ``None`` (which a notebook shows as nothing), instead of a page of empty charts.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from custseg import lifecycle, quality, regions, render, snapshots, strategy
from custseg.config import Config, PlaybookAction, Strategy, StrategyRule
from custseg.pipeline import StudyData, load_study_data
from custseg.reports import plan_studies

#: The level below each region level, for the sub-region breakdown.
SUBLEVEL = {"market": "country_en", "country": "province", "province": "city"}


def section(heading: str, lead: str = "") -> Callable:
    """Make a study method return a whole :class:`~custseg.render.Section`, or None when the
    study has too little data (so no heading stands over an empty section).

    `heading` and `lead` may use ``{label}``, the study's name for its slice. A method may
    return a tuple of tables, figures and notices; the section shows them in order.
    """

    def wrap(method: Callable) -> Callable:
        @functools.wraps(method)
        def inner(self, *args, **kwargs):
            if not getattr(self, "enough", True):
                return None
            content = method(self, *args, **kwargs)
            label = getattr(self, "label", "")
            items = content if isinstance(content, tuple) else (content,)
            return render.Section(heading.format(label=label), lead.format(label=label), *items)

        return inner

    return wrap


#: Processed tables that sections read besides the customers and orders, when the pipeline wrote
#: them (it writes the cluster files only when it fitted clusters).
EXTRA_TABLES: tuple[str, ...] = (
    "cluster_profile", "cluster_selection", "snapshots", "tier_effect",
    "watch_list", "churn_metrics", "churn_calibration", "churn_importance", "churn_rules",
)


@dataclass(frozen=True)
class ProcessedData(StudyData):
    """:class:`~custseg.pipeline.StudyData` plus the other processed tables of :data:`EXTRA_TABLES`.

    A table whose file is absent is not in ``tables``; every section that needs it shows a notice.
    """

    tables: Mapping[str, pd.DataFrame] = field(default_factory=dict)


def read_extra_tables(folder: Path) -> dict[str, pd.DataFrame]:
    """The tables of :data:`EXTRA_TABLES` found in a processed folder, by name.

    Parameters
    ----------
    folder
        The processed folder (``output.processed``).

    Returns
    -------
    dict[str, pd.DataFrame]
        One entry per Parquet file present; absent files are left out.
    """
    found = {name: folder / f"{name}.parquet" for name in EXTRA_TABLES}
    return {name: pd.read_parquet(path) for name, path in found.items() if path.is_file()}


def load(config: Config) -> ProcessedData:
    """Processed tables of a study (customers, orders, meta and the extra tables), with the report
    theme set."""
    render.set_theme()
    data = load_study_data(config)
    return ProcessedData(data.customers, data.orders, data.meta, read_extra_tables(config.output.processed))


def _extra(data: StudyData, name: str) -> pd.DataFrame | None:
    """An extra processed table, or None when it is absent or empty (a plain StudyData has none)."""
    table = getattr(data, "tables", {}).get(name)
    return None if table is None or table.empty else table


def _no_column(columns: Sequence[str], frame: pd.DataFrame, what: str) -> render.Notice | None:
    """A notice naming the columns `what` needs that the customer table lacks; None when all are there."""
    missing = [column for column in columns if column not in frame.columns]
    if not missing:
        return None
    return render.Notice(
        f"The processed customer table has no {', '.join(missing)} column, so {what} cannot be shown. "
        f"Run `custseg process --force` with this custseg version to add it.",
        kind="warning",
    )


def _mix(part: pd.Series, whole: pd.Series, order: Sequence[str], name: str) -> pd.DataFrame:
    """Customers per value in `part`, their share, the share in `whole` and an index (100 = as in whole).

    Parameters
    ----------
    part, whole
        One label per customer (missing labels are not counted), for the slice and for the base.
    order
        Row order; labels found in neither series are left out, labels found in the data but not in
        `order` follow it.
    name
        Name of the index (the first column of the table).

    Returns
    -------
    pd.DataFrame
        Customers, Share here, Share in base, Index.
    """
    here = part.dropna().astype("str").value_counts()
    base = whole.dropna().astype("str").value_counts()
    labels = [*order, *sorted((set(here.index) | set(base.index)) - set(order))]
    labels = [label for label in labels if here.get(label, 0) or base.get(label, 0)]
    counts = here.reindex(labels, fill_value=0)
    share = counts / counts.sum() if counts.sum() else counts.astype("float64")
    base_share = base.reindex(labels, fill_value=0) / base.sum() if base.sum() else base.reindex(labels).astype("float64")
    table = pd.DataFrame({
        "Customers": counts,
        "Share here": share,
        "Share in base": base_share,
        "Index": (100 * share / base_share.where(base_share > 0)),
    })
    table.index.name = name
    return table


_MIX_FORMATS = {"Customers": render.integer, "Share here": render.percent, "Share in base": render.percent, "Index": render.index_points}


def _order(column: pd.Series) -> list[str]:
    """The categories of a categorical column in config order; [] for other columns."""
    dtype = column.dtype
    return [str(c) for c in dtype.categories] if isinstance(dtype, pd.CategoricalDtype) else []


def _value_class_labels(customers: pd.DataFrame) -> pd.Series:
    """'重要价值客户 (Important value)': the Chinese class name with its English name, per customer."""
    zh = customers["value_class"].astype("string")
    if "value_class_en" not in customers:
        return zh
    return zh + " (" + customers["value_class_en"].astype("string") + ")"


def _value_class_order(customers: pd.DataFrame) -> list[str]:
    """The value classes in config order, labelled like :func:`_value_class_labels`."""
    zh = _order(customers["value_class"])
    if "value_class_en" not in customers:
        return zh
    pairs = customers[["value_class", "value_class_en"]].dropna().astype("str").drop_duplicates()
    english = dict(zip(pairs["value_class"], pairs["value_class_en"]))
    return [f"{name} ({english[name]})" for name in zh if name in english]


def _stage_label(stage: str) -> str:
    """'at_risk' -> 'At risk'."""
    return stage.replace("_", " ").capitalize()


def _last_two(history: pd.DataFrame | None) -> tuple[dt.date, dt.date] | None:
    """The last two snapshot dates, or None when there are fewer than two."""
    if history is None or "snapshot_date" not in history:
        return None
    dates = pd.DatetimeIndex(history["snapshot_date"].drop_duplicates()).sort_values()
    return (dates[-2].date(), dates[-1].date()) if len(dates) >= 2 else None


def _short_history(data: StudyData, table: str) -> render.Notice:
    """Why a section on movement over time is empty: too few snapshots, or `table` was not read."""
    dates = data.meta.get("snapshot_dates", [])
    if len(dates) >= 2:
        return render.Notice(
            f"The processed data has no {table} table ({table}.parquet), so movement between snapshots "
            f"cannot be shown. Run `custseg process --force` with this custseg version to write it.",
            kind="warning",
        )
    return render.Notice(
        f"The history is too short to show movement: the classification was recomputed at "
        f"{len(dates)} snapshot date{'s' if len(dates) != 1 else ''} ({', '.join(dates) or 'none'}), and "
        f"migration needs two. Snapshot dates before the first customer appeared are dropped; a longer "
        f"order history, or snapshots.dates in the config, gives more.",
        kind="info",
    )


def _no_clusters(data: StudyData) -> render.Notice:
    """Why there are no clusters, in the pipeline's words (study.json, clusters.note)."""
    note = (data.meta.get("clusters") or {}).get("note") or ""
    if not note:
        return render.Notice(
            "The processed data has no clusters (no cluster column or cluster files). Run "
            "`custseg process --force` with this custseg version to fit them.",
            kind="warning",
        )
    return render.Notice(note[0].upper() + note[1:].rstrip(".") + ".", kind="info")


def _months(orders: pd.DataFrame) -> pd.Series:
    return orders["order_date"].dt.to_period("M").dt.to_timestamp()


class _Study:
    """What region and tier studies share: a slice of customers compared with the whole base."""

    kind = "group"

    def __init__(self, data: StudyData, mask: pd.Series, order_mask: pd.Series, label: str, min_customers: int) -> None:
        self.data, self.label, self.min_customers = data, label, min_customers
        self.customers = data.customers.loc[mask]
        self.orders = data.orders.loc[order_mask]
        self.base = data.customers
        self.currency = data.meta["base_currency"]
        self.buyers = self.customers.loc[self.customers["frequency"] > 0]
        self.enough = len(self.buyers) >= min_customers

    def heading(self) -> render.Heading:
        """Title of the page."""
        meta = self.data.meta
        return render.Heading(
            f"{self.kind.capitalize()} study: {self.label}",
            f"{meta['title']} · observation date {meta['observation_date']} · amounts in {self.currency}",
        )

    def notice(self) -> render.Notice | None:
        """Why the study is short, when it is; nothing otherwise."""
        if self.enough:
            return None
        return render.Notice(
            f"{self.label} has {len(self.buyers)} customers with purchases, fewer than the "
            f"{self.min_customers} this study needs for figures that mean something "
            f"(studies.min_customers in the config). The sections below are left out on purpose; "
            f"these customers are still counted in the overview and in their tiers.",
            kind="warning",
        )

    @section("Key figures", "{label} against the whole customer base; an index of 100 means the same as the base, 150 means half as much again.")
    def headline(self) -> render.Section | None:
        """Key figures of the slice against the whole base, with an index (100 = base)."""
        rows = []
        for label, part, whole, fmt in (
            ("Customers", len(self.customers), len(self.base), render.integer),
            ("Customers with purchases", len(self.buyers), int((self.base["frequency"] > 0).sum()), render.integer),
            ("Revenue", self.buyers["monetary"].sum(), self.base["monetary"].sum(), render.money(self.currency)),
            ("Average order value", strategy.average_order_value(self.buyers), strategy.average_order_value(self.base), render.money(self.currency)),
            ("Orders per buying customer", self.buyers["frequency"].mean(), self.base.loc[self.base["frequency"] > 0, "frequency"].mean(), render.decimal),
            ("Median days since last order", self.buyers["recency_days"].median(), self.base["recency_days"].median(), render.integer),
        ):
            rows.append({"Measure": label, self.label: fmt(part), "Whole base": fmt(whole), "Index": 100 * part / whole if whole else None})
        revenue, base_revenue = self.buyers["monetary"].sum(), self.base["monetary"].sum()
        rows.insert(3, {"Measure": "Share of the base's revenue", self.label: render.percent(revenue / base_revenue) if base_revenue else "–",
                        "Whole base": "100%", "Index": None})
        if {"revenue_90d", "revenue_prev_90d"} <= set(self.base.columns):
            rows.insert(4, {"Measure": "Revenue growth, last 90 days against the 90 before",
                            self.label: render.signed_percent(strategy.revenue_growth(self.buyers)),
                            "Whole base": render.signed_percent(strategy.revenue_growth(self.base)), "Index": None})
        return render.Table(
            pd.DataFrame(rows), f"{self.label} against the whole customer base",
            {"Index": render.index_points}, numeric=[self.label, "Whole base"],
        )

    @section("Revenue over time", "Net revenue per calendar month (completed orders, refunds netted out, in the base currency).")
    def monthly_revenue(self) -> render.Section | None:
        """Revenue per month of the slice."""
        monthly = self.orders.groupby(_months(self.orders))["revenue"].sum().rename_axis("month").reset_index()
        fig = render.new_figure()
        ax = fig.subplots()
        ax.plot(monthly["month"], monthly["revenue"], marker="o", markersize=3)
        ax.set(title=f"Monthly revenue, {self.label}", xlabel="Month", ylabel=f"Revenue ({self.currency})")
        ax.set_ylim(bottom=0)  # revenue bars from zero, so a dip is not drawn as a collapse
        render.date_axis(ax)
        render.thousands_axis(ax.yaxis)
        peak = monthly.loc[monthly["revenue"].idxmax()]
        return render.Chart(
            fig, f"Monthly revenue, {self.label}",
            f"Line chart of monthly revenue for {self.label}; the highest month is {peak['month']:%B %Y} "
            f"with {peak['revenue']:,.0f} {self.currency}.",
        )

    @section("Product preferences", "Which categories earn the revenue here, against the whole base: an index above 100 marks a category this group favours.")
    def category_mix(self) -> render.Section | None:
        """Revenue share per product category in the slice and in the base; index 100 = same as base."""
        part = self.orders.groupby("category")["revenue"].sum()
        whole = self.data.orders.groupby("category")["revenue"].sum()
        table = pd.DataFrame({"Share here": part / part.sum(), "Share in base": whole / whole.sum()}).fillna(0.0)
        table = table.assign(Index=100 * table["Share here"] / table["Share in base"]).sort_values("Share here", ascending=False)
        table.index.name = "Category"
        return render.Table(
            table, f"Product categories by revenue, {self.label}",
            {"Share here": render.percent, "Share in base": render.percent, "Index": render.index_points},
        )

    @section("RFM segments", "How {label}'s buying customers spread over the 11 RFM segments and the 8 value classes (RFM 八类客户), against the whole base: an index above 100 marks a segment over-represented here.")
    def segment_mix(self) -> render.Section | None:
        """Share of buying customers per 11-group segment and per 8-class value class, slice against base."""
        tables = []
        for column, what in (("segment", "the 11 RFM segments"), ("value_class", "the 8 value classes")):
            missing = _no_column([column], self.base, what)
            if missing:
                tables.append(missing)
                continue
            if column == "segment":
                mix = _mix(self.buyers["segment"], self.base["segment"], _order(self.base["segment"]), "Segment")
                title = f"RFM segments, {self.label} against the whole base"
            else:
                mix = _mix(_value_class_labels(self.buyers), _value_class_labels(self.base), _value_class_order(self.base), "Value class")
                title = f"Value classes (8-class model), {self.label} against the whole base"
            tables.append(render.Table(mix, title, _MIX_FORMATS))
        return tuple(tables)

    @section("Lifecycle stages", "Where {label}'s customers stand in the relationship (judged against each customer's own buying rhythm), against the whole base.")
    def lifecycle_mix(self) -> render.Section | None:
        """Share of customers per lifecycle stage, slice against base."""
        missing = _no_column(["lifecycle"], self.base, "lifecycle stages")
        if missing:
            return missing
        label = lambda stages: stages.astype("string").map(_stage_label, na_action="ignore")  # noqa: E731
        mix = _mix(label(self.customers["lifecycle"]), label(self.base["lifecycle"]), [_stage_label(s) for s in lifecycle.STAGES], "Stage")
        return render.Table(mix, f"Lifecycle stages, {self.label} against the whole base", _MIX_FORMATS)

    @section("Clusters", "The data-driven clusters (fitted on recency, frequency, spend, basket size and tenure) that {label}'s buying customers fall in, against the whole base.")
    def cluster_mix(self) -> render.Section | None:
        """Share of the slice's buying customers per cluster, against the base; a notice without clusters."""
        if "cluster_name" not in self.base or self.base["cluster_name"].isna().all():
            return _no_clusters(self.data)
        names = (self.data.meta.get("clusters") or {}).get("names") or {}
        order = [names[key] for key in sorted(names, key=int)] or _order(self.base["cluster_name"])
        mix = _mix(self.buyers["cluster_name"], self.base["cluster_name"], order, "Cluster")
        return render.Table(mix, f"Clusters, {self.label} against the whole base", _MIX_FORMATS)

    @section("Satisfaction", "Satisfaction scores (1-5) and net promoter classes of {label}'s customers who gave feedback, against the whole base.")
    def satisfaction(self) -> render.Section | None:
        """Mean satisfaction and NPS classes of the slice against the base; a notice without feedback."""
        if "feedback" not in self.data.meta.get("inputs", ()):
            return render.Notice(
                "This study has no feedback table (inputs.feedback), so satisfaction and NPS are not shown.",
                kind="info",
            )
        missing = _no_column(["satisfaction_mean", "satisfaction_latest", "nps_class"], self.base, "satisfaction")
        if missing:
            return missing
        rated = self.customers.loc[self.customers["satisfaction_mean"].notna()]
        if rated.empty:
            return render.Notice(f"None of the {len(self.customers):,} customers of {self.label} gave feedback.", kind="info")
        base = self.base.loc[self.base["satisfaction_mean"].notna()]
        rows = [
            ("Customers who gave feedback", render.integer(len(rated)), render.integer(len(base))),
            ("… share of all customers", render.percent(len(rated) / len(self.customers)), render.percent(len(base) / len(self.base))),
            ("Mean satisfaction (1-5)", _score(rated["satisfaction_mean"].mean()), _score(base["satisfaction_mean"].mean())),
            ("Mean latest satisfaction (1-5)", _score(rated["satisfaction_latest"].mean()), _score(base["satisfaction_latest"].mean())),
        ]
        here, whole = (frame["nps_class"].dropna().value_counts(normalize=True) for frame in (rated, base))
        for name in ("promoter", "passive", "detractor"):
            rows.append((f"{name.capitalize()}s (latest NPS answer)", render.percent(here.get(name, 0.0)), render.percent(whole.get(name, 0.0))))
        nps = lambda shares: f"{100 * (shares.get('promoter', 0.0) - shares.get('detractor', 0.0)):+.0f}"  # noqa: E731
        rows.append(("Net promoter score (promoters − detractors)", nps(here), nps(whole)))
        table = pd.DataFrame(rows, columns=["Measure", self.label, "Whole base"])
        return render.Table(table, f"Satisfaction and NPS, {self.label} against the whole base", numeric=[self.label, "Whole base"])

    @section("Price sensitivity", "How much {label}'s customers spend per order against the whole base: the spread of order values, and the share of orders below the base's lower quartile (the cheapest quarter of the base's orders), a sign of price-sensitive buying.")
    def price_sensitivity(self) -> render.Section | None:
        """Order values of the slice against the base: distribution and share of low-value orders."""
        here, whole = strategy.order_values(self.orders), strategy.order_values(self.data.orders)
        if here.empty or whole.empty:
            return render.Notice(f"{self.label} has no completed orders with a value to compare.", kind="info")
        low = whole.quantile(strategy.LOW_VALUE_QUANTILE)
        rows = [
            ("Median order value", render.money(self.currency)(here.median()), render.money(self.currency)(whole.median())),
            ("Orders in the top quarter of the base's values", render.percent((here > whole.quantile(0.75)).mean()),
             render.percent((whole > whole.quantile(0.75)).mean())),
            (f"Orders below {render.money(self.currency)(low)} (the base's lower quartile)",
             render.percent((here < low).mean()), render.percent((whole < low).mean())),
        ]
        table = render.Table(pd.DataFrame(rows, columns=["Measure", self.label, "Whole base"]),
                             f"Order values, {self.label} against the whole base", numeric=[self.label, "Whole base"])
        fig = render.new_figure()
        ax = fig.subplots()
        bins = np.logspace(np.log10(whole.min()), np.log10(whole.max()), 30)
        # Each bar is its bin's share of the orders: a density would divide by the bins' widths in
        # currency, which on log-spaced bins piles the height onto the cheapest orders.
        for values, label, alpha, colour in ((whole, "Whole base", 0.45, 1), (here, self.label, 0.65, 0)):
            ax.hist(values, bins=bins, weights=np.full(len(values), 1 / len(values)), alpha=alpha, label=label,
                    color=render.sns.color_palette()[colour])
        ax.set_xscale("log")
        ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
        ax.set(title=f"Order values, {self.label} against the base", xlabel=f"Order value ({self.currency}, log scale)",
               ylabel="Share of orders")
        ax.legend(frameon=False)
        return table, render.Chart(
            fig, f"Order values, {self.label}",
            f"Overlaid histograms of order values on a log scale; the median order in {self.label} is "
            f"{here.median():,.0f} {self.currency} against {whole.median():,.0f} {self.currency} in the whole base.",
        )

    @section("Seasonality", "Each calendar month's share of the year's revenue in {label} against the whole base, over all years in the data: a month above the base's line is when {label} buys relatively more.")
    def seasonality(self) -> render.Section | None:
        """Revenue share per calendar month, slice against base."""
        def shares(orders: pd.DataFrame) -> pd.Series:
            by_month = orders.groupby(orders["order_date"].dt.month)["revenue"].sum().reindex(range(1, 13), fill_value=0.0)
            total = by_month.clip(lower=0).sum()
            return by_month.clip(lower=0) / total if total > 0 else by_month * np.nan
        here, whole = shares(self.orders), shares(self.data.orders)
        if here.isna().all():
            return render.Notice(f"{self.label} has no revenue to spread over the months.", kind="info")
        months = [dt.date(2000, m, 1).strftime("%b") for m in range(1, 13)]
        fig = render.new_figure()
        ax = fig.subplots()
        ax.bar(months, here.to_numpy(), label=self.label, color=render.sns.color_palette()[0])
        ax.plot(months, whole.to_numpy(), color="black", marker="o", markersize=3, label="Whole base")
        ax.set(title=f"Revenue by calendar month, {self.label}", xlabel="Month", ylabel="Share of the year's revenue")
        ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
        ax.legend(frameon=False)
        index = 100 * here / whole.replace(0, np.nan)
        peak, trough = index.idxmax(), index.idxmin()
        return render.Chart(
            fig, f"Revenue by calendar month, {self.label}",
            f"Bars of each month's share of revenue in {self.label} with the whole base as a line; relative to the base "
            f"{self.label} buys most in {months[peak - 1]} (index {index[peak]:.0f}) and least in {months[trough - 1]} "
            f"(index {index[trough]:.0f}).",
        )

    @section("Customers at risk", "Churn early warning for {label} against the whole base: customers flagged by the warning rules, the churn model's probability of no order in the coming period, and the value at risk (expected value x churn probability). The churn watch study explains the rules and how well the model did in its backtest.")
    def churn_risk(self) -> render.Section | None:
        """Warnings, churn probability and value at risk of the slice, and its top watch-list entries."""
        missing = _no_column(["warning_count", "churn_probability", "value_at_risk"], self.base, "churn risk")
        if missing:
            return missing
        here, whole = self.buyers, self.base.loc[self.base["frequency"] > 0]
        risk_total = whole["value_at_risk"].sum()
        horizon = (self.data.meta.get("churn") or {}).get("horizon_days")
        period = f"the next {horizon} days" if horizon else "the coming period"
        rows = [
            ("Customers with purchases", render.integer(len(here)), render.integer(len(whole))),
            ("… with at least one warning", render.percent(here["warning_count"].gt(0).mean()),
             render.percent(whole["warning_count"].gt(0).mean())),
            (f"Mean probability of no order in {period}", render.percent(here["churn_probability"].mean()),
             render.percent(whole["churn_probability"].mean())),
            ("Value at risk", render.money(self.currency)(here["value_at_risk"].sum()),
             render.money(self.currency)(risk_total)),
            ("… share of the base's value at risk", render.percent(here["value_at_risk"].sum() / risk_total) if risk_total else "–", "100%"),
        ]
        table = render.Table(pd.DataFrame(rows, columns=["Measure", self.label, "Whole base"]),
                             f"Churn risk, {self.label} against the whole base", numeric=[self.label, "Whole base"])
        watch = _extra(self.data, "watch_list")
        if watch is None:
            return table, render.Notice("There is no watch list for this study: no customer qualified for it.", kind="info")
        mine = watch.loc[watch["customer_id"].isin(self.customers["customer_id"])].head(_WATCH_ROWS)
        if mine.empty:
            return table, render.Notice(f"None of the customers of {self.label} is on the watch list.", kind="info")
        shown = mine[["rank", "customer_id", "tier", "segment", "churn_probability", "value_at_risk", "reasons", "action"]]
        if self.data.meta.get("mask_ids"):
            shown = shown.assign(customer_id=shown["customer_id"].map(render.mask_id))
        return table, render.Table(
            shown.rename(columns=_WATCH_HEADINGS),
            f"Top of the watch list in {self.label} (rank in the whole list; the full list is the churn watch-list export)",
            {"Rank": render.integer, "Churn probability": render.percent, "Value at risk": render.money(self.currency)},
        )


#: Watch-list rows shown in a region or tier study.
_WATCH_ROWS = 10
_WATCH_HEADINGS = {
    "rank": "Rank", "customer_id": "Customer", "tier": "Tier", "segment": "Segment",
    "churn_probability": "Churn probability", "value_at_risk": "Value at risk", "reasons": "Warnings",
    "action": "Recommended action",
}


class RegionStudy(_Study):
    """One region (at the configured level) compared with the whole base."""

    kind = "region"

    def __init__(
        self, data: StudyData, region: str, min_customers: int = 30, rules: Sequence[StrategyRule] | None = None
    ) -> None:
        regions = set(data.customers["region"].unique())
        if region not in regions:
            raise ValueError(f"region {region!r} is not in the processed data; regions are {sorted(regions)}")
        super().__init__(data, data.customers["region"].eq(region), data.orders["region"].eq(region), region, min_customers)
        self.region = region
        # the strategy rules of the config (strategy.rules); None: the defaults
        self.rules = list(rules) if rules is not None else Strategy().rules

    @section("Strategy", "What the figures of {label} suggest for product, pricing, marketing and service. Each recommendation comes from a rule in the study config (strategy.rules) and shows the figure that triggered it; indexes compare {label} with the whole base (100 = the same).")
    def strategy(self) -> render.Section | None:
        """Recommendations from the config's rules, each with the figure behind it."""
        values, topics = strategy.measures(
            self.customers, self.orders, self.base, self.data.orders, self.data.meta["tiers"][0]
        )
        advice = strategy.recommend(values, topics, self.rules)
        if advice.empty:
            return render.Notice(
                f"None of the {len(self.rules)} strategy rules fires for {self.label}: its figures stay within the "
                f"limits set in strategy.rules, so it needs no treatment different from the base.",
                kind="info",
            )
        table = advice.assign(area=advice["area"].str.capitalize()).rename(
            columns={"area": "Area", "recommendation": "Recommendation", "because": "Because"}
        )
        return render.Table(table, f"Recommendations for {self.label}")

    @section("Value tiers", "How the region's buying customers spread over the value tiers, against the whole base.")
    def tier_mix(self) -> render.Section | None:
        """Share of buying customers per value tier, region against base."""
        tiers = self.data.meta["tiers"]
        mix = pd.concat(
            {
                self.region: self.buyers["tier"].value_counts(normalize=True),
                "Whole base": self.base["tier"].value_counts(normalize=True),
            },
            names=["group", "tier"],
        ).rename("share").reset_index()
        fig = render.new_figure()
        ax = fig.subplots()
        render.sns.barplot(mix, x="tier", y="share", hue="group", order=tiers, ax=ax)
        ax.set(title=f"Value tier mix, {self.region} against the base", xlabel="Value tier", ylabel="Share of buying customers")
        ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
        ax.legend(title=None)
        top = self.buyers["tier"].value_counts(normalize=True)
        return render.Chart(
            fig, f"Value tier mix, {self.region}",
            f"Bar chart comparing tier shares in {self.region} with the whole base; in {self.region}, "
            + ", ".join(f"{tier} {top.get(tier, 0):.0%}" for tier in tiers) + ".",
        )

    @section("Sub-regions", "The countries, provinces or cities that make up {label}, largest revenue first.")
    def subregions(self) -> render.Section | None:
        """Customers and revenue per sub-region (countries of a market, provinces of a country...)."""
        level = SUBLEVEL[self.data.meta["region_level"]]
        key = self.buyers[level].fillna("Unknown")
        if level == "country_en":
            # Mainland China is one country; its provinces are the useful breakdown of a Chinese market.
            key = key.where(self.buyers["country_iso3"].ne("CHN"), self.buyers["province"].fillna("Unknown"))
        grouped = self.buyers.groupby(key).agg(customers=("customer_id", "size"), revenue=("monetary", "sum"), orders=("frequency", "sum"))
        grouped = grouped.assign(share=grouped["revenue"] / grouped["revenue"].sum(), aov=grouped["revenue"] / grouped["orders"])
        grouped = grouped.sort_values("revenue", ascending=False).drop(columns="orders")
        grouped.index.name = "Sub-region"
        grouped.columns = ["Customers", "Revenue", "Revenue share", "Average order value"]
        money = render.money(self.currency)
        return render.Table(
            grouped, f"Where {self.region}'s revenue comes from",
            {"Customers": render.integer, "Revenue": money, "Revenue share": render.percent, "Average order value": money},
        )


class TierStudy(_Study):
    """One value tier compared with the whole base."""

    kind = "tier"

    def __init__(
        self, data: StudyData, tier: str, min_customers: int = 30, playbook: Sequence[PlaybookAction] | None = None
    ) -> None:
        tiers = data.meta["tiers"]
        if tier not in tiers:
            raise ValueError(f"tier {tier!r} is not one of the configured tiers {tiers}")
        super().__init__(data, data.customers["tier"].eq(tier), data.orders["tier"].eq(tier), f"Tier {tier}", min_customers)
        self.tier = tier
        self.playbook = list(playbook) if playbook is not None else None  # None: the config gave none for this tier

    @section("Playbook", "What the company does for customers of {label}, from the study config (playbook). Actions for particular lifecycle stages show how many of the tier's customers are at that stage now.")
    def playbook_actions(self) -> render.Section | None:
        """The tier's playbook with the number of its customers each action is for."""
        if not self.playbook:
            return render.Notice(
                f"The study config has no playbook for the {self.tier} tier (playbook.{self.tier}): add the "
                f"service levels, upgrade paths and reactivation steps this tier gets.",
                kind="info",
            )
        stages = self.customers["lifecycle"].astype("string") if "lifecycle" in self.customers else None
        rows = []
        for action in self.playbook:
            if not action.stages:
                who, count = "every customer of the tier", len(self.customers)
            else:
                who = ", ".join(_stage_label(stage) for stage in action.stages)
                count = int(stages.isin(action.stages).sum()) if stages is not None else None
            rows.append({"Topic": action.topic.capitalize(), "Action": action.action, "For": who, "Customers now": count})
        return render.Table(pd.DataFrame(rows), f"Playbook, {self.label}", {"Customers now": render.integer})

    @section("Who is in this tier", "Recency, frequency and monetary value of the tier's customers against all other buying customers.")
    def rfm_profile(self) -> render.Section | None:
        """Distributions of recency, frequency and monetary value: this tier against all other buyers."""
        buyers = self.base.loc[self.base["frequency"] > 0]
        group = buyers["tier"].eq(self.tier).map({True: self.label, False: "Other buyers"})
        frame = buyers.assign(group=group)
        fig = render.new_figure(9.0, 3.2)
        axes = fig.subplots(1, 3)
        for ax, (col, label, log) in zip(axes, (("recency_days", "Days since last order", False), ("frequency", "Orders", True), ("monetary", f"Revenue ({self.currency})", True))):
            render.sns.boxplot(frame, x="group", y=col, ax=ax, log_scale=log, order=[self.label, "Other buyers"], showfliers=False)
            ax.set(title=label, xlabel="", ylabel=label)
        medians = self.buyers[["recency_days", "frequency", "monetary"]].median()
        return render.Chart(
            fig, f"Recency, frequency and monetary value, {self.label} against other buyers",
            f"Three box plots; {self.label} has a median of {medians['recency_days']:.0f} days since the last order, "
            f"{medians['frequency']:.0f} orders and {medians['monetary']:,.0f} {self.currency} revenue per customer.",
        )

    @section("Where the tier's customers are", "Customers of the tier by region, and what share of each region's buyers the tier holds.")
    def regional_spread(self) -> render.Section | None:
        """Customers of the tier by region, and how much of each region is in this tier."""
        buyers = self.base.loc[self.base["frequency"] > 0]
        table = pd.DataFrame({
            "Customers": self.buyers.groupby("region").size(),
            "Share of tier": self.buyers.groupby("region").size() / len(self.buyers),
            "Tier share in region": buyers.groupby("region")["tier"].apply(lambda t: (t == self.tier).mean()),
            "Revenue": self.buyers.groupby("region")["monetary"].sum(),
        }).dropna(subset=["Customers"]).sort_values("Customers", ascending=False)
        table.index.name = "Region"
        return render.Table(
            table, f"Where the {self.tier} tier's customers are",
            {"Customers": render.integer, "Share of tier": render.percent, "Tier share in region": render.percent, "Revenue": render.money(self.currency)},
        )

    @section("RFM score grid", "Customers of the tier by recency score and frequency score (quantile scores 1-5, 5 = best).")
    def score_grid(self) -> render.Section | None:
        """Customers by recency score and frequency score within the tier."""
        grid = pd.crosstab(self.buyers["r_score"], self.buyers["f_score"]).sort_index(ascending=False)
        fig = render.new_figure(5.5, 4.0)
        ax = fig.subplots()
        render.sns.heatmap(grid, annot=True, fmt="d", cmap=render.PALETTE, cbar=False, ax=ax)
        ax.set(title=f"{self.label}: recency score by frequency score", xlabel="Frequency score (5 = most orders)", ylabel="Recency score (5 = most recent)")
        cell = grid.stack().idxmax()
        return render.Chart(
            fig, f"{self.label} by recency and frequency score",
            f"Heat map of customer counts; the largest cell is recency score {cell[0]} with frequency score {cell[1]}.",
        )

    @section("Moves in and out of the tier", "From which tiers customers came into {label} and where its customers went, between the last two snapshots of the classification. Revenue is what these customers spent between the two dates.")
    def migration(self) -> render.Section | None:
        """Customers and revenue flowing into and out of the tier between the last two snapshots."""
        history = _extra(self.data, "snapshots")
        pair = _last_two(history)
        if pair is None:
            return _short_history(self.data, "snapshots")
        before, after = pair
        tiers = self.data.meta["tiers"]
        counts = snapshots.transition_matrix(history, before, after, tier_order=tiers)
        revenue = snapshots.transition_matrix(history, before, after, value="revenue", orders=self.data.orders, tier_order=tiers)
        stayed = f"{self.tier} (stayed)"
        into = pd.DataFrame({"Customers": counts[self.tier], "Revenue": revenue[self.tier]}).rename(index={self.tier: stayed})
        into.index.name = f"Tier on {before:%Y-%m-%d}"
        out = pd.DataFrame({"Customers": counts.loc[self.tier], "Revenue": revenue.loc[self.tier]}).rename(index={self.tier: stayed})
        out.index.name = f"Tier on {after:%Y-%m-%d}"
        formats = {"Customers": render.integer, "Revenue": render.money(self.currency)}
        came = int(counts[self.tier].drop(self.tier).sum())
        went = int(counts.loc[self.tier].drop(self.tier).sum())
        summary = render.Notice(
            f"Between {before:%Y-%m-%d} and {after:%Y-%m-%d}, {came:,} customers came into tier {self.tier}, "
            f"{went:,} left it for another tier (or left altogether) and {int(counts.loc[self.tier, self.tier]):,} stayed.",
        )
        return (
            summary,
            render.Table(into, f"Where tier {self.tier}'s customers on {after:%Y-%m-%d} came from", formats),
            render.Table(out, f"Where tier {self.tier}'s customers on {before:%Y-%m-%d} went", formats),
        )

    @section("Does the tier hold?", "For each period between two snapshots: how many of the tier's customers bought again, and how their revenue compares with the period of the same length before. Better tiers should keep more customers; growth is usually negative for the best tier, whose place was earned by a strong past, so compare tiers with each other.")
    def tier_effect(self) -> render.Section | None:
        """Retention rate and revenue growth of the tier per snapshot period, from the tier effect table."""
        effect = _extra(self.data, "tier_effect")
        if effect is None:
            return _short_history(self.data, "tier_effect")
        mine = effect.loc[effect["tier"].astype("str").eq(self.tier)]
        overall = effect.groupby(["before", "after"])[["retained", "customers"]].sum()
        rate_all = (overall["retained"] / overall["customers"].where(overall["customers"] > 0)).rename("all")
        mine = mine.merge(rate_all, left_on=["before", "after"], right_index=True, how="left").sort_values("before")
        period = mine["before"].dt.strftime("%Y-%m-%d") + " to " + mine["after"].dt.strftime("%Y-%m-%d")
        table = pd.DataFrame({
            "Period": period.to_numpy(),
            "Customers at start": mine["customers"].to_numpy(),
            "Bought again": mine["retained"].to_numpy(),
            "Retention rate": mine["retention_rate"].to_numpy(),
            "Retention, all tiers": mine["all"].to_numpy(),
            "Revenue in period": mine["revenue"].to_numpy(),
            "Revenue, period before": mine["revenue_prior"].to_numpy(),
            "Revenue growth": mine["growth_rate"].to_numpy(),
        })
        money = render.money(self.currency)
        return render.Table(
            table, f"Retention and revenue growth of tier {self.tier}, per period between snapshots",
            {"Customers at start": render.integer, "Bought again": render.integer, "Retention rate": render.percent,
             "Retention, all tiers": render.percent, "Revenue in period": money, "Revenue, period before": money,
             "Revenue growth": render.percent},
        )


def _score(value: float) -> str:
    """A mean score on a 1-5 scale, two decimals ('–' when there is none)."""
    return "–" if pd.isna(value) else f"{value:.2f}"


class Overview:
    """The executive summary over all regions and tiers; rendered as reports/index.html."""

    def __init__(self, data: StudyData, config: Config) -> None:
        self.data, self.config = data, config
        self.customers = data.customers
        self.buyers = self.customers.loc[self.customers["frequency"] > 0]
        self.currency = data.meta["base_currency"]

    def heading(self) -> render.Heading:
        """Title of the index page."""
        meta = self.data.meta
        return render.Heading(
            f"{meta['title']}: customer classification overview",
            f"Observation date {meta['observation_date']} · amounts in {self.currency} · region level: {meta['region_level']}",
        )

    def inputs_notice(self) -> render.Notice | None:
        """What the study could not show because an input table was not given; nothing when all were."""
        given = set(self.data.meta.get("inputs", ()))
        missing = []
        if "customers" not in given:
            if "line_items" in given:
                missing.append(
                    "no customer table: countries come from the line items, so provinces, cities, "
                    "industries and other customer attributes are unknown"
                )
            else:
                missing.append(
                    "no customer table (inputs.customers): customers have no country, so all of them "
                    "fall in the region \"Unknown\"; a customer file with a country column gives one "
                    "study per market"
                )
        if "interactions" not in given:
            missing.append("no interactions (inputs.interactions): visits, e-mails, calls and tickets are not counted")
        if "feedback" not in given:
            missing.append("no feedback (inputs.feedback): satisfaction and NPS are not shown")
        if not missing:
            return None
        return render.Notice("This study was built with " + "; ".join(missing) + ".", kind="info")

    @section("Headline figures", "The whole customer base at the observation date.")
    def headline(self) -> render.Section:
        """The handful of figures a director asks for first."""
        meta = self.data.meta
        rows = [
            ("Observation date", meta["observation_date"]),
            ("Customers", render.integer(len(self.customers))),
            ("Customers with purchases", render.integer(len(self.buyers))),
            ("Orders", render.integer(int(self.buyers["frequency"].sum()))),
            ("Revenue, net of refunds", render.money(self.currency)(self.buyers["monetary"].sum())),
            ("Average order value", render.money(self.currency)(strategy.average_order_value(self.buyers))),
            (f"Regions ({meta['region_level']})", render.integer(self.customers["region"].nunique())),
        ]
        if "value_at_risk" in self.customers:
            rows += [
                ("Customers with a churn warning", render.integer(int(self.customers["warning_count"].gt(0).sum()))),
                ("Value at risk (expected value x churn probability)",
                 render.money(self.currency)(self.customers["value_at_risk"].sum())),
                ("Customers on the churn watch list", render.integer(int(meta.get("watch_list", 0)))),
            ]
        return render.Table(pd.DataFrame(rows, columns=["Measure", "Value"]), "Headline figures", numeric=["Value"])

    @section("Value tiers", "Customers are scored 1-5 on recency, frequency and monetary value (quantiles); the total score sets the tier. The best tier is a small share of customers and a large share of revenue.")
    def tier_pyramid(self) -> render.Section:
        """Customers and revenue share per tier, best tier on top."""
        tiers = self.data.meta["tiers"]
        share = pd.DataFrame({
            "Customers": self.buyers["tier"].value_counts(normalize=True),
            "Revenue": self.buyers.groupby("tier", observed=False)["monetary"].sum() / self.buyers["monetary"].sum(),
        }).reindex(tiers).rename_axis("tier").reset_index().melt(id_vars="tier", var_name="measure", value_name="share")
        fig = render.new_figure(7.0, 3.0)
        ax = fig.subplots()
        render.sns.barplot(share, y="tier", x="share", hue="measure", order=tiers, ax=ax)
        ax.set(title="Value tiers: share of customers and of revenue", xlabel="Share", ylabel="Value tier")
        ax.xaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
        ax.legend(title=None)
        top = share.loc[share["tier"].eq(tiers[0])].set_index("measure")["share"]
        return render.Chart(
            fig, "Tier pyramid",
            f"Horizontal bars per tier; the {tiers[0]} tier holds {top['Customers']:.0%} of buying customers "
            f"and {top['Revenue']:.0%} of revenue.",
        )

    @section("Regions", "Every region at the configured level, by revenue; each has its own study below.")
    def regions(self) -> render.Section:
        """Every region with its size, revenue and tier mix."""
        best = self.data.meta["tiers"][0]
        grouped = self.buyers.groupby("region").agg(
            customers=("customer_id", "size"), revenue=("monetary", "sum"), orders=("frequency", "sum"),
            best=("tier", lambda t: (t == best).mean()),
        )
        grouped = grouped.assign(share=grouped["revenue"] / grouped["revenue"].sum(), aov=grouped["revenue"] / grouped["orders"])
        table = grouped[["customers", "revenue", "share", "aov", "best"]].sort_values("revenue", ascending=False)
        table.columns = ["Customers", "Revenue", "Revenue share", "Average order value", f"Share in tier {best}"]
        table.index.name = "Region"
        money = render.money(self.currency)
        return render.Table(
            table, "Regions by revenue",
            {"Customers": render.integer, "Revenue": money, "Revenue share": render.percent, "Average order value": money, f"Share in tier {best}": render.percent},
        )

    @section("Clusters", "Groups of customers with purchases that the data itself suggests, fitted on recency, frequency, spend, basket size and tenure; each is named after what sets it apart. Medians describe a typical member.")
    def clusters(self) -> render.Section:
        """Size, revenue share and median features of every cluster; a notice when there are none."""
        profile = _extra(self.data, "cluster_profile")
        if profile is None:
            return _no_clusters(self.data)
        columns = {
            "name": "Cluster", "size": "Customers", "share": "Share of buyers", "revenue_share": "Revenue share",
            "median_recency_days": "Median days since last order", "median_frequency": "Median orders",
            "median_monetary": "Median revenue", "median_aov": "Median order value", "median_tenure_days": "Median tenure (days)",
        }
        absent = [column for column in columns if column not in profile]
        if absent:
            return render.Notice(
                f"The cluster profile has no {', '.join(absent)} column; run `custseg process --force` to rebuild it.",
                kind="warning",
            )
        table = profile[list(columns)].rename(columns=columns).sort_values("Customers", ascending=False)
        money = render.money(self.currency)
        meta = self.data.meta.get("clusters") or {}
        method = {"kmeans": "k-means", "gmm": "Gaussian mixture"}.get(meta.get("method"), meta.get("method", ""))
        return render.Table(
            table, f"{len(table)} clusters ({method}), largest first",
            {"Customers": render.integer, "Share of buyers": render.percent, "Revenue share": render.percent,
             "Median days since last order": render.integer, "Median orders": render.decimal,
             "Median revenue": money, "Median order value": money, "Median tenure (days)": render.integer},
        )

    @section("How many clusters", "The number of clusters k is chosen from a range: silhouette (how well separated the clusters are, higher is better) and stability (how alike the clusters come out on resampled data, 1 = identical) for each k.")
    def cluster_selection(self) -> render.Section:
        """Silhouette and stability per k with the chosen k marked: a chart and its table."""
        selection = _extra(self.data, "cluster_selection")
        if selection is None:
            return _no_clusters(self.data)
        selection = selection.sort_values("k")
        chosen = selection.loc[selection["chosen"]]
        fig = render.new_figure(6.0, 3.2)
        ax = fig.subplots()
        ax.plot(selection["k"], selection["silhouette"], marker="o", label="Silhouette")
        ax.plot(selection["k"], selection["stability"], marker="s", label="Stability")
        for k in chosen["k"]:
            ax.axvline(k, color="grey", linestyle="--", linewidth=1, label=f"chosen k = {k}")
        ax.set(title="Cluster quality by number of clusters", xlabel="Number of clusters (k)", ylabel="Score", ylim=(0, 1.05))
        ax.set_xticks(selection["k"].tolist())
        ax.legend(loc="lower left", frameon=False)
        if len(chosen):
            row = chosen.iloc[0]
            words = f"k = {row['k']} was chosen, with silhouette {row['silhouette']:.2f} and stability {row['stability']:.2f}"
        else:
            words = "no k is marked as chosen"
        chart = render.Chart(
            fig, "Silhouette and stability per number of clusters",
            f"Line chart of silhouette and stability for k from {selection['k'].min()} to {selection['k'].max()}; {words}.",
        )
        table = pd.DataFrame({
            "Clusters (k)": selection["k"].to_numpy(),
            "Silhouette": selection["silhouette"].to_numpy(),
            "Stability": selection["stability"].to_numpy(),
            "Chosen": selection["chosen"].map({True: "✓ chosen", False: ""}).to_numpy(),
        })
        two = lambda value: f"{value:.3f}"  # noqa: E731
        return chart, render.Table(table, "Silhouette and stability per k", {"Clusters (k)": render.integer, "Silhouette": two, "Stability": two})

    @section("RFM segments", "Buying customers by the 11-group RFM map (recency score against the mean of the frequency and monetary scores) and by the 8-class value model (RFM 八类客户: each score high or low against the average buyer).")
    def segments(self) -> render.Section:
        """Customers and revenue per 11-group segment and per 8-class value class."""
        tables = []
        for column, what in (("segment", "the 11 RFM segments"), ("value_class", "the 8 value classes")):
            missing = _no_column([column], self.customers, what)
            if missing:
                tables.append(missing)
                continue
            if column == "segment":
                labels, order, name = self.buyers["segment"].astype("string"), _order(self.customers["segment"]), "Segment"
                title = "Customers and revenue per RFM segment"
            else:
                labels, order, name = _value_class_labels(self.buyers), _value_class_order(self.customers), "Value class"
                title = "Customers and revenue per value class (8-class model)"
            frame, formats = self._size_and_revenue(labels, order, name)
            tables.append(render.Table(frame, title, formats))
        return tuple(tables)

    @section("Lifecycle stages", "Every customer has one stage, judged against their own buying rhythm; the rules are checked from the top and the first that holds names the stage.")
    def lifecycle(self) -> render.Section:
        """Customers and revenue per lifecycle stage, with the rule that assigns it."""
        missing = _no_column(["lifecycle"], self.customers, "lifecycle stages")
        if missing:
            return missing
        rules = lifecycle.stage_table(self.config.lifecycle).set_index("stage")
        stages = self.customers["lifecycle"].astype("string")
        frame, formats = self._size_and_revenue(stages, list(lifecycle.STAGES), "Stage", everyone=True)
        frame = frame.assign(Rule=rules["rule"].reindex(frame.index))
        frame.index = frame.index.map(_stage_label)
        frame.index.name = "Stage"
        return render.Table(frame, "Customers and revenue per lifecycle stage", formats)

    @section("What changed since the previous snapshot", "Customers by value tier at the previous snapshot (rows) and now (columns): the diagonal stayed put, cells right of it moved down, left of it moved up.")
    def changes(self) -> render.Section:
        """Tier transition matrix (customers) between the last two snapshots, with a sentence on the moves."""
        history = _extra(self.data, "snapshots")
        pair = _last_two(history)
        if pair is None:
            return _short_history(self.data, "snapshots")
        before, after = pair
        tiers = self.data.meta["tiers"]
        matrix = snapshots.transition_matrix(history, before, after, tier_order=tiers)
        moved = snapshots.movers(history, before, after, tiers)
        up, down = int(moved["direction"].eq("up").sum()), int(moved["direction"].eq("down").sum())
        new = int(matrix.loc[[snapshots.NO_TIER, snapshots.NOT_YET], tiers].to_numpy().sum())
        left = int(matrix[snapshots.LEFT].sum())
        summary = render.Notice(
            f"Between {before:%Y-%m-%d} and {after:%Y-%m-%d}: {up:,} customers moved to a better tier, {down:,} to a "
            f"worse one, {new:,} got their first tier and {left:,} were no longer in the customer table.",
        )
        shown = matrix.rename_axis(index=f"Tier on {before:%Y-%m-%d}", columns=None)
        return summary, render.Table(
            shown, f"Customers by tier on {before:%Y-%m-%d} (rows) and on {after:%Y-%m-%d} (columns)",
            {str(c): render.integer for c in matrix.columns},
        )

    def _size_and_revenue(
        self, labels: pd.Series, order: Sequence[str], name: str, everyone: bool = False
    ) -> tuple[pd.DataFrame, dict[str, Callable[[object], str]]]:
        """Customers, share, revenue and revenue share per label (aligned with the buyers, or with every
        customer when `everyone`), in `order`, empty labels left out; with the formats to show them."""
        who = self.customers if everyone else self.buyers
        grouped = pd.DataFrame({"label": labels, "revenue": who["monetary"]}).dropna(subset=["label"]).groupby("label")["revenue"]
        frame = pd.DataFrame({"Customers": grouped.size(), "Revenue": grouped.sum()})
        frame = frame.reindex([*order, *sorted(set(frame.index) - set(order))]).dropna(subset=["Customers"])
        frame = frame.loc[frame["Customers"] > 0].astype({"Customers": "int64"})
        total = frame["Revenue"].sum()
        frame = frame.assign(
            **{"Share of customers": frame["Customers"] / frame["Customers"].sum(),
               "Revenue share": frame["Revenue"] / total if total else float("nan")}
        )[["Customers", "Share of customers", "Revenue", "Revenue share"]]
        frame.index.name = name
        formats = {"Customers": render.integer, "Share of customers": render.percent, "Revenue": render.money(self.currency), "Revenue share": render.percent}
        return frame, formats

    def links(self) -> render.Section:
        """Links to every region and tier study and to the data-quality page, from the same plan the build runs."""
        plan = plan_studies(self.data, self.config)
        lists = [
            render.Links([(job.href, job.key, job.note) for job in plan if job.kind == kind], heading)
            for kind, heading in (("region", "Region studies"), ("tier", "Tier studies"))
        ]
        lists.insert(0, render.Links([(job.href, "Churn watch", job.note) for job in plan if job.kind == "churn"], "Early warning"))
        lists.append(render.Links([(job.href, "Data quality", job.note) for job in plan if job.kind == "quality"], "Data quality"))
        return render.Section(
            "Studies",
            "The churn watch, one study per region and per value tier, and how the input data was read and cleaned.",
            *lists,
        )


def load_quality(config: Config) -> quality.QualityData:
    """What the data-quality page reads (intake's accounting, quarantine, column profile, clean
    tables and the placed regions), with the report theme set."""
    render.set_theme()
    return quality.load_quality_data(config)


#: How a few delimiters are named on the page (intake writes a tab as "tab").
_DELIMITERS = {",": "comma (,)", ";": "semicolon (;)", "|": "pipe (|)", "\t": "tab", "tab": "tab", " ": "space"}


def _month_list(months: tuple, shown: int = 6) -> str:
    """'March 2024, May 2024 and 3 more'; 'none' for no months."""
    if not months:
        return "none"
    names = [f"{month:%B %Y}" for month in months[:shown]]
    more = len(months) - shown
    return ", ".join(names) + (f" and {more} more" if more > 0 else "")


class QualityStudy:
    """How the input was read and cleaned; rendered as reports/quality.html.

    Parameters
    ----------
    data
        What :func:`load_quality` reads.
    """

    def __init__(self, data: quality.QualityData) -> None:
        self.data = data

    def heading(self) -> render.Heading:
        """Title of the page."""
        meta = self.data.meta
        return render.Heading(
            f"{meta['title']}: data quality",
            f"How the input files were read and cleaned · observation date {meta['observation_date']}",
        )

    @section(
        "Rows read and where they went",
        "Every row of every input file ends in exactly one place: the clean tables the studies use, "
        "the quarantine (rows that could not be used, kept with the reason) or the exact duplicates removed.",
    )
    def accounting(self) -> render.Section:
        """Rows read, clean, quarantined and removed as duplicates per file, and whether they add up."""
        table = quality.accounting_table(self.data.accounting)
        counts = ["rows_read", "clean", "quarantined", "duplicates_removed"]
        totals = table[counts].sum()
        if table["adds_up"].all():
            check = render.Notice(
                f"✓ The numbers add up: in every file, rows read = clean + quarantined + duplicates removed. "
                f"In all, {totals['rows_read']:,} rows were read: {totals['clean']:,} clean, "
                f"{totals['quarantined']:,} quarantined and {totals['duplicates_removed']:,} exact duplicates removed."
            )
        else:
            files = ", ".join(table.loc[~table["adds_up"], "file"])
            check = render.Notice(
                f"✗ The numbers do not add up for {files}: rows read differ from clean + quarantined + duplicates "
                "removed. This is a fault in custseg, not in the data; please report it with the accounting.csv of this run.",
                kind="warning",
            )
        shown = table.assign(
            adds_up=table["adds_up"].map({True: "✓ yes", False: "✗ no"}),
            **{column: table[column].replace("", None) for column in quality.READ_SETTINGS if column in table},
        )
        if "delimiter" in shown:
            shown = shown.assign(delimiter=shown["delimiter"].map(lambda d: _DELIMITERS.get(d, d), na_action="ignore"))
        names = {
            "table": "Table", "file": "File", "rows_read": "Rows read", "clean": "Clean", "quarantined": "Quarantined",
            "duplicates_removed": "Duplicates removed", "adds_up": "Adds up", "format": "Format",
            "encoding": "Encoding", "delimiter": "Delimiter",
        }
        shown = shown.rename(columns=names)
        return (
            render.Table(shown, "Rows per input file", {names[c]: render.integer for c in counts}),
            check,
        )

    @section(
        "Quarantined rows",
        "Rows that could not be used are set aside in quarantine.csv (in the interim data folder) with the "
        "reason, the file, the line in the file (line 1 is the header) and the column at fault. Below: how many "
        "rows per reason, then up to three examples of each. Names, e-mail addresses and phone numbers are masked (•••).",
    )
    def quarantine(self) -> render.Section:
        """Quarantined rows per reason with what it means, and a few examples of each."""
        counts = quality.reason_counts(self.data.quarantine)
        if counts.empty:
            return render.Notice("No row was quarantined: every row read is in the clean tables or was an exact duplicate.")
        reasons = counts.rename(columns={"reason": "Reason", "meaning": "What it means", "rows": "Rows", "tables": "Tables"})
        examples = quality.reason_examples(self.data.quarantine)
        if self.data.meta.get("mask_ids"):
            ids = examples["column"].eq("customer_id")
            examples.loc[ids, "value"] = examples.loc[ids, "value"].map(render.mask_id)
        examples = examples.rename(columns={
            "reason": "Reason", "table": "Table", "file": "File", "row": "Line", "column": "Column",
            "value": "Value", "detail": "Detail",
        })
        return (
            render.Table(reasons, "Quarantined rows per reason", {"Rows": render.integer}),
            render.Table(examples, f"Examples: up to {quality.EXAMPLES_PER_REASON} rows per reason", {"Line": render.integer}),
        )

    @section(
        "Empty cells per column",
        "How many cells of each column were empty (or held only spaces) in the files as read, before any "
        "cleaning. An empty optional column is no error; an empty id or date sends its row to quarantine.",
    )
    def missing_values(self) -> render.Section:
        """Empty cells per column per table, from intake's column profile."""
        columns = self.data.columns
        if columns is None:
            return render.Notice(
                "This intake run did not record empty cells per column (there is no columns.csv in the interim "
                "data folder). Run `custseg process --force` with a custseg version that writes it to see this table."
            )
        shown = columns[quality.PROFILE_COLUMNS].rename(columns={
            "table": "Table", "source_header": "Column in the file", "column": "custseg column", "rows": "Rows",
            "empty": "Empty", "empty_share": "Empty share",
        })[["Table", "Column in the file", "custseg column", "Rows", "Empty", "Empty share"]]
        return render.Table(
            shown, "Empty cells per column, as read",
            {"Rows": render.integer, "Empty": render.integer, "Empty share": render.percent},
        )

    @section(
        "Dates covered",
        "The first and last date of each table, and the calendar months in between that have no rows at all "
        "(a gap often means an export that missed a month).",
    )
    def date_coverage(self) -> render.Section:
        """First and last date, months spanned and empty months per table, and rows per month."""
        dates = self.data.dates
        coverage = quality.date_coverage(dates)
        day = lambda value: f"{value:%Y-%m-%d}"  # noqa: E731
        shown = coverage.assign(gaps=coverage["gaps"].map(_month_list)).rename(columns={
            "table": "Table", "column": "Date column", "rows": "Rows", "undated": "Rows without a date",
            "first": "First date", "last": "Last date", "months": "Months spanned",
            "empty_months": "Months with no rows", "gaps": "Which months",
        })
        table = render.Table(
            shown, "Dates per table",
            {"Rows": render.integer, "Rows without a date": render.integer, "First date": day, "Last date": day,
             "Months spanned": render.integer, "Months with no rows": render.integer},
        )
        monthly = {name: quality.monthly_rows(column) for name, column in dates.items()}
        monthly = {name: rows for name, rows in monthly.items() if len(rows)}
        if not monthly:
            return table, render.Notice("No table has a dated row, so there is no chart of rows per month.")
        return table, _monthly_chart(monthly)

    @section(
        "Regions before and after normalisation",
        "Countries and provinces are typed in many ways (\"中国\", \"China\", \"CN\", \"PRC\"); custseg maps "
        "each spelling to one country and, in China, the United States and Canada, one province or state. "
        "Customers it cannot place land in \"Unknown\" (no country) or \"China (province unknown)\".",
    )
    def region_coverage(self) -> render.Section:
        """Raw spellings against canonical countries and provinces, customers per market, unplaced values."""
        customers = self.data.customers
        if customers is None:
            return render.Notice(
                "There is no customer table (orders only), so customers have no country or province and every "
                "customer is in the \"Unknown\" region. Add a customers file with country and province columns "
                "to place them."
            )
        s = quality.region_summary(customers)
        share = lambda part: render.percent(part / s.customers) if s.customers else "–"  # noqa: E731
        rows = [
            ("Customers", render.integer(s.customers)),
            ("Country spellings recognised", render.integer(s.country_spellings)),
            ("… matched to countries", render.integer(s.countries)),
            ("Customers placed in a country", f"{render.integer(s.placed_country)} ({share(s.placed_country)})"),
            ("Customers with no country given", render.integer(s.no_country)),
            ("Country spellings not recognised", render.integer(s.unrecognised_country_spellings)),
            ("Customers with a country not recognised", render.integer(s.unrecognised_country)),
            ("Province or state spellings recognised", render.integer(s.province_spellings)),
            ("… matched to provinces or states", render.integer(s.provinces)),
            ("Customers placed in a province or state", f"{render.integer(s.placed_province)} ({share(s.placed_province)})"),
            (f"Customers in \"{regions.UNKNOWN}\"", render.integer(s.unknown_market)),
            (f"Customers in \"{quality.CHINA_PROVINCE_UNKNOWN}\"", render.integer(s.china_province_unknown)),
        ]
        summary = render.Table(pd.DataFrame(rows, columns=["Measure", "Value"]), "Raw spellings and where they went", numeric=["Value"])
        markets = regions.region_coverage(customers)[["market", "customers", "share", "country_spellings"]]
        markets = markets.rename(columns={
            "market": "Market", "customers": "Customers", "share": "Share", "country_spellings": "Country spellings",
        })
        market_table = render.Table(
            markets, "Customers per market and how many country spellings fed it",
            {"Customers": render.integer, "Share": render.percent, "Country spellings": render.integer},
        )
        unplaced = quality.unplaced_regions(customers)
        if unplaced.empty:
            return summary, market_table, render.Notice("Every country and province given was recognised.")
        unplaced = unplaced.assign(level=unplaced["level"].map({"country": "Country", "province": "Province or state"}))
        unplaced = unplaced.rename(columns={"level": "Level", "value": "Value as typed", "customers": "Customers"})
        return summary, market_table, render.Table(
            unplaced, "Most frequent values that could not be placed", {"Customers": render.integer},
        )


def _monthly_chart(monthly: dict[str, pd.Series]) -> render.Chart:
    """Rows per month, one small panel per table, months with no rows marked."""
    fig = render.new_figure(7.0, 0.6 + 1.3 * len(monthly))
    axes = fig.subplots(len(monthly), 1, sharex=True, squeeze=False)[:, 0]
    for ax, (name, rows) in zip(axes, monthly.items()):
        months = rows.index.to_timestamp()
        ax.plot(months, rows.to_numpy(), marker="o", markersize=2, linewidth=1)
        for number, month in enumerate(rows.index[rows.eq(0)]):
            # shade the whole month, so a one-month gap is visible at any width
            ax.axvspan(month.start_time, (month + 1).start_time, color="#b7791f", alpha=0.3, linewidth=0,
                       label="month with no rows" if number == 0 else None)
        if rows.eq(0).any():
            ax.legend(loc="upper left", frameon=False, fontsize=8)
        ax.set_title(name, loc="left", fontsize=10)
        ax.set(ylabel="Rows")
        ax.set_ylim(bottom=0)  # counts from zero, so a dip is not drawn as a collapse
        render.thousands_axis(ax.yaxis)
    axes[-1].set(xlabel="Month")
    render.date_axis(axes[-1])
    fig.suptitle("Rows per month, by table")
    described = []
    for name, rows in monthly.items():
        first, last = rows.index[0], rows.index[-1]
        empty = int(rows.eq(0).sum())
        described.append(
            f"{name} from {first:%B %Y} to {last:%B %Y}, "
            + (f"{empty} month{'s' if empty != 1 else ''} with no rows" if empty else "no month without rows")
        )
    return render.Chart(fig, "Rows per month, by table", "Line charts of rows per calendar month: " + "; ".join(described) + ".")
