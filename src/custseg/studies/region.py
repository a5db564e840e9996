"""The region page: one region (at the configured level) against the whole customer base, or, for
the customers custseg could not place, what could not be placed and the line that places it.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from custseg import geo, i18n
from custseg.config import Config, Strategy, StrategyRule
from custseg.i18n import N_, _
from custseg.intake import quality
from custseg.processed import ProcessedData
from custseg.studies import opening as first_screen
from custseg.studies import render, strategy
from custseg.studies.base import open_study, section
from custseg.studies.labels import in_chinese, no_column, place_names, region_level_name, tier_label
from custseg.studies.plan import region_names
from custseg.studies.slice import SliceStudy
from custseg.studies.unplaced import unplaced_table

#: The level below each region level, for the sub-region breakdown.
SUBLEVEL = {"market": "country_en", "country": "province", "province": "city"}


class RegionStudy(SliceStudy):
    """One region (at the configured level) compared with the whole base.

    ``region`` is the region as the data names it; ``label`` is its name in the report language
    (the customer table's Chinese name in a Chinese report, when it has one).
    """

    kind = "region"
    title = N_("Region study: {label}")

    def __init__(
        self, data: ProcessedData, region: str, min_customers: int = 30, rules: Sequence[StrategyRule] | None = None
    ) -> None:
        present = set(data.customers["region"].unique())
        if region not in present:
            raise ValueError(f"region {region!r} is not in the processed data; regions are {sorted(present)}")
        super().__init__(data, data.customers["region"].eq(region), data.orders["region"].eq(region), min_customers)
        self.region = region
        # the customers custseg could not place at this level: a page of what could not be
        # placed, not a region to compare or advise
        self.unplaced = region == geo.UNKNOWN
        # the strategy rules of the config (strategy.rules); None: the defaults
        self.rules = list(rules) if rules is not None else Strategy().rules
        self._labels: dict[str, str] = {}  # report language -> label

    @classmethod
    def from_config(cls, config: Config, language: str = "", region: str = "") -> RegionStudy:
        """The page of `region` (as the processed data names it), in `language` ("": the config's)."""
        study = cls(open_study(config, language), region, config.studies.min_customers, config.strategy.rules)
        study.demographics, study.config, study.page_key = config.demographics, config, region
        return study

    def heading(self) -> render.Heading:
        """Title of the page; the "Unknown" region's says what it holds."""
        if not self.unplaced:
            return super().heading()
        meta = self.data.meta
        return render.Heading(
            _("{label}: the customers that could not be placed").format(label=self.label),
            _("{title} · observation date {date} · amounts in {currency}").format(
                title=meta.title, date=meta.observation_date, currency=self.currency
            ),
        )

    def notice(self) -> render.Notice | None:
        """Why the study is short, when it is; on the "Unknown" page, what the page is."""
        if not self.unplaced:
            return super().notice()
        level = region_level_name(self.data.meta.region_level)
        return render.Notice(
            _(
                "{label} holds the {customers} customers whose {level} custseg could not tell from the country and "
                "province in the input files. It is not a region: this page compares nothing and advises nothing. "
                "It lists what could not be placed, with the line of the study config (regions.aliases) that places "
                "each value; after adding lines, run `custseg process` again and these customers move to their regions."
            ).format(label=self.label, customers=render.integer(len(self.customers)), level=level),
            kind="info",
        )

    @section(
        N_("What could not be placed"),
        N_("The values typed for the customers of {label}, with their customers and revenue, largest revenue first, "
           "and the line that places each."),
        pages="unplaced",
    )
    def unplaced_values(self) -> render.Section | None:
        """The raw values behind the "Unknown" region, with customers, revenue and the alias line."""
        if not {"country_raw", "province_raw"} <= set(self.customers.columns):
            return no_column(["country_raw", "province_raw"], self.customers, _("what could not be placed"))
        levels = ("country", "province") if self.data.meta.region_level == "province" else ("country",)
        listed = quality.unplaced_places(self.customers, levels=levels, blanks=True)
        title = _("What the customers of {label} have instead of a place").format(label=self.label)
        table = unplaced_table(listed, self.currency, title)
        return table or render.Notice(_("{label} has no customers.").format(label=self.label), kind="info")

    @property
    def label(self) -> str:
        """The region's name in the report language."""
        language = i18n.current()
        if language not in self._labels:
            level = self.data.meta.region_level
            names = region_names(self.customers, level) if in_chinese() else {}
            self._labels[language] = names.get(self.region, self.region)
        return self._labels[language]

    @section(
        N_("Strategy"),
        N_(
            "What the figures of {label} suggest for product, pricing, marketing and service. Each recommendation "
            "comes from a rule in the study config (strategy.rules) and shows the figure that triggered it; indexes "
            "compare {label} with the whole base (100 = the same)."
        ),
    )
    def strategy(self) -> render.Section | None:
        """Recommendations from the config's rules, each with the figure behind it (both in the
        report language: :func:`custseg.studies.strategy.recommend` translates them)."""
        values, topics = strategy.measures(
            self.customers, self.orders, self.base, self.data.orders, self.data.meta.tiers[0]
        )
        counts = strategy.measure_counts(self.customers, self.orders, topics)
        advice = strategy.recommend(values, topics, self.rules, counts=counts, min_customers=self.min_customers)
        if advice.empty:
            return first_screen.Anchor(first_screen.STRATEGY), render.Notice(
                _(
                    "None of the {count} strategy rules fires for {label}: its figures stay within the limits set in "
                    "strategy.rules, so it needs no treatment different from the base."
                ).format(count=len(self.rules), label=self.label),
                kind="info",
            )
        area = advice["area"].map(lambda name: i18n.label("area", name, default=name.capitalize()))
        table = advice.assign(area=area).rename(
            columns={"area": _("Area"), "recommendation": _("Recommendation"), "because": _("Because")}
        )
        title = _("Recommendations for {label}").format(label=self.label)
        return first_screen.Anchor(first_screen.STRATEGY), render.Table(table, title)

    @section(
        N_("Value tiers"),
        N_("How the region's buying customers spread over the value tiers, against the whole base."),
    )
    def tier_mix(self) -> render.Section | None:
        """Share of buying customers per value tier, region against base."""
        tiers = self.data.meta.tiers
        labels = [tier_label(tier) for tier in tiers]
        mix = pd.concat(
            {
                self.label: self.buyers["tier"].value_counts(normalize=True),
                _("Whole base"): self.base["tier"].value_counts(normalize=True),
            },
            names=["group", "tier"],
        ).rename("share").reset_index()
        mix = mix.assign(tier=mix["tier"].astype("string").map(tier_label))
        fig = render.new_figure()
        ax = fig.subplots()
        render.sns.barplot(mix, x="tier", y="share", hue="group", order=labels, ax=ax)
        ax.set(title=_("Value tier mix, {label} against the base").format(label=self.label), xlabel=_("Value tier"),
               ylabel=_("Share of buying customers"))
        ax.yaxis.set_major_formatter(lambda v, _pos: f"{v:.0%}")
        ax.legend(title=None)
        top = self.buyers["tier"].value_counts(normalize=True)
        shares = i18n.join_list([f"{label} {top.get(tier, 0):.0%}" for tier, label in zip(tiers, labels)])
        return render.Chart(
            fig, _("Value tier mix, {label}").format(label=self.label),
            _("Bar chart comparing tier shares in {label} with the whole base; in {label}, {shares}.").format(
                label=self.label, shares=shares
            ),
        )

    @section(N_("Sub-regions"), N_("The countries, provinces or cities that make up {label}, largest revenue first."))
    def subregions(self) -> render.Section | None:
        """Customers and revenue per sub-region (countries of a market, provinces of a country...)."""
        level = SUBLEVEL[self.data.meta.region_level]
        unknown = _("Unknown")
        key = place_names(self.buyers, level).fillna(unknown)
        if level == "country_en":
            # Mainland China is one country; its provinces are the useful breakdown of a Chinese market.
            key = key.where(self.buyers["country_iso3"].ne("CHN"), place_names(self.buyers, "province").fillna(unknown))
        grouped = self.buyers.groupby(key).agg(
            customers=("customer_id", "size"), revenue=("monetary", "sum"), orders=("frequency", "sum")
        )
        grouped = grouped.assign(
            share=grouped["revenue"] / grouped["revenue"].sum(), aov=grouped["revenue"] / grouped["orders"]
        )
        grouped = grouped.sort_values("revenue", ascending=False).drop(columns="orders")
        grouped.index.name = _("Sub-region")
        customers, revenue, share, aov = _("Customers"), _("Revenue"), _("Revenue share"), _("Average order value")
        grouped.columns = [customers, revenue, share, aov]
        money = render.money(self.currency)
        return render.Table(
            grouped, _("Where {label}'s revenue comes from").format(label=self.label),
            {customers: render.integer, revenue: money, share: render.percent, aov: money},
        )
