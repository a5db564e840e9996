"""Sections of the region, tier, overview and data-quality studies.

A study notebook makes one study object and calls one method per section; each method returns a
:class:`~custseg.render.Table`, :class:`~custseg.render.Chart` or :class:`~custseg.render.Notice`
(or a few of them, shown one after the other) inside a :class:`~custseg.render.Section`.
When a region or tier has too few customers, :meth:`_Study.notice` says so and every other
section returns ``None`` (which a notebook shows as nothing), instead of a page of empty charts.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import pandas as pd

from custseg import quality, regions, render
from custseg.config import Config
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


def load(config: Config) -> StudyData:
    """Processed tables of a study, with the report theme set."""
    render.set_theme()
    return load_study_data(config)


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
            ("Average order value", _aov(self.buyers), _aov(self.base), render.money(self.currency)),
            ("Orders per buying customer", self.buyers["frequency"].mean(), self.base.loc[self.base["frequency"] > 0, "frequency"].mean(), render.decimal),
            ("Median days since last order", self.buyers["recency_days"].median(), self.base["recency_days"].median(), render.integer),
        ):
            rows.append({"Measure": label, self.label: fmt(part), "Whole base": fmt(whole), "Index": 100 * part / whole if whole else None})
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


def _aov(customers: pd.DataFrame) -> float:
    orders = customers["frequency"].sum()
    return customers["monetary"].sum() / orders if orders else float("nan")


class RegionStudy(_Study):
    """One region (at the configured level) compared with the whole base."""

    kind = "region"

    def __init__(self, data: StudyData, region: str, min_customers: int = 30) -> None:
        regions = set(data.customers["region"].unique())
        if region not in regions:
            raise ValueError(f"region {region!r} is not in the processed data; regions are {sorted(regions)}")
        super().__init__(data, data.customers["region"].eq(region), data.orders["region"].eq(region), region, min_customers)
        self.region = region

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

    def __init__(self, data: StudyData, tier: str, min_customers: int = 30) -> None:
        tiers = data.meta["tiers"]
        if tier not in tiers:
            raise ValueError(f"tier {tier!r} is not one of the configured tiers {tiers}")
        super().__init__(data, data.customers["tier"].eq(tier), data.orders["tier"].eq(tier), f"Tier {tier}", min_customers)
        self.tier = tier

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
            ("Average order value", render.money(self.currency)(_aov(self.buyers))),
            (f"Regions ({meta['region_level']})", render.integer(self.customers["region"].nunique())),
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

    def links(self) -> render.Section:
        """Links to every region and tier study and to the data-quality page, from the same plan the build runs."""
        plan = plan_studies(self.data, self.config)
        lists = [
            render.Links([(job.href, job.key, job.note) for job in plan if job.kind == kind], heading)
            for kind, heading in (("region", "Region studies"), ("tier", "Tier studies"))
        ]
        lists.append(render.Links([(job.href, "Data quality", job.note) for job in plan if job.kind == "quality"], "Data quality"))
        return render.Section(
            "Studies", "One study per region and per value tier, and how the input data was read and cleaned.", *lists
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
        examples = quality.reason_examples(self.data.quarantine).rename(columns={
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
