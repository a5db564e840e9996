"""The tier page: one value tier against the whole customer base, with how customers come to be in
it, its playbook, and how it held between snapshots.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pandas as pd

from custseg import i18n
from custseg.config import Config, PlaybookAction, Tiers
from custseg.i18n import N_, _
from custseg.processed import ProcessedData
from custseg.segment import snapshots
from custseg.studies import render
from custseg.studies.base import open_study, section
from custseg.studies.labels import move_label, stage_label, tier_label, tier_method_text, tier_rules
from custseg.studies.notices import last_two_snapshots, short_history
from custseg.studies.slice import SliceStudy


class TierStudy(SliceStudy):
    """One value tier compared with the whole base.

    ``tier`` is the tier as the config names it; ``label`` is "Tier high" in the report language.
    """

    kind = "tier"
    title = N_("Tier study: {label}")

    def __init__(
        self, data: ProcessedData, tier: str, min_customers: int = 30, playbook: Sequence[PlaybookAction] | None = None,
        settings: Tiers | None = None,
    ) -> None:
        tiers = data.meta.tiers
        if tier not in tiers:
            raise ValueError(f"tier {tier!r} is not one of the configured tiers {tiers}")
        super().__init__(data, data.customers["tier"].eq(tier), data.orders["tier"].eq(tier), min_customers)
        self.tier = tier
        self.playbook = list(playbook) if playbook is not None else None  # None: the config gave none for this tier
        self.settings = settings  # the tiers settings, for the definition; None: not shown

    @classmethod
    def from_config(cls, config: Config, language: str = "", tier: str = "") -> TierStudy:
        """The page of `tier` (one of ``tiers.names``), in `language` ("": the config's)."""
        study = cls(
            open_study(config, language), tier, config.studies.min_customers, config.playbook.get(tier), config.tiers
        )
        study.demographics, study.config, study.page_key = config.demographics, config, tier
        return study

    @property
    def label(self) -> str:
        """'Tier high' in the report language."""
        return _("Tier {tier}").format(tier=self.tier_label)

    @property
    def tier_label(self) -> str:
        """The tier's name in the report language ('high' / '高')."""
        return tier_label(self.tier)

    def definition(self) -> render.Section | None:
        """How customers come to be in this tier (shown however few they are); None without settings."""
        if self.settings is None:
            return None
        rule = tier_rules(self.settings, self.currency)[self.tier]
        return render.Section(
            _("Who belongs to this tier"), tier_method_text(self.settings, self.currency),
            render.Notice(_("{label}: {rule}.").format(label=self.label, rule=rule), kind="info"),
        )

    @section(
        N_("Playbook"),
        N_(
            "What the company does for customers of {label}, from the study config (playbook). Actions for particular "
            "lifecycle stages show how many of the tier's customers are at that stage now."
        ),
    )
    def playbook_actions(self) -> render.Section | None:
        """The tier's playbook with the number of its customers each action is for."""
        if not self.playbook:
            return render.Notice(
                _(
                    "The study config has no playbook for the {tier} tier (playbook.{key}): add the service levels, "
                    "upgrade paths and reactivation steps this tier gets."
                ).format(tier=self.tier_label, key=self.tier),
                kind="info",
            )
        stages = self.customers["lifecycle"].astype("string") if "lifecycle" in self.customers else None
        customers_now = _("Customers now")
        rows = []
        for action in self.playbook:
            if not action.stages:
                who, count = _("every customer of the tier"), len(self.customers)
            else:
                who = i18n.join_list([stage_label(stage) for stage in action.stages])
                count = int(stages.isin(action.stages).sum()) if stages is not None else None
            # The topics and actions of the default playbook are translated; a user's own are shown as written.
            rows.append({_("Topic"): _(action.topic).capitalize(), _("Action"): _(action.action), _("For"): who,
                         customers_now: count})
        title = _("Playbook, {label}").format(label=self.label)
        return render.Table(pd.DataFrame(rows), title, {customers_now: render.integer})

    @section(
        N_("Who is in this tier"),
        N_("Recency, frequency and monetary value of the tier's customers against all other buying customers."),
    )
    def rfm_profile(self) -> render.Section | None:
        """Distributions of recency, frequency and monetary value: this tier against all other buyers."""
        buyers = self.base.loc[self.base["frequency"] > 0]
        others = _("Other buyers")
        group = buyers["tier"].eq(self.tier).map({True: self.label, False: others})
        frame = buyers.assign(group=group)
        fig = render.new_figure(9.0, 3.2)
        axes = fig.subplots(1, 3)
        panels = (
            ("recency_days", _("Days since last order"), False),
            ("frequency", _("Orders"), True),
            ("monetary", _("Revenue ({currency})").format(currency=self.currency), True),
        )
        for ax, (col, label, log) in zip(axes, panels):
            render.sns.boxplot(frame, x="group", y=col, ax=ax, log_scale=log, order=[self.label, others],
                               showfliers=False)
            ax.set(title=label, xlabel="", ylabel=label)
        medians = self.buyers[["recency_days", "frequency", "monetary"]].median()
        return render.Chart(
            fig, _("Recency, frequency and monetary value, {label} against other buyers").format(label=self.label),
            _(
                "Three box plots; {label} has a median of {recency:.0f} days since the last order, {frequency:.0f} "
                "orders and {monetary:,.0f} {currency} revenue per customer."
            ).format(label=self.label, recency=medians["recency_days"], frequency=medians["frequency"],
                     monetary=medians["monetary"], currency=self.currency),
        )

    @section(
        N_("Where the tier's customers are"),
        N_("Customers of the tier by region, and what share of each region's buyers the tier holds."),
    )
    def regional_spread(self) -> render.Section | None:
        """Customers of the tier by region, and how much of each region is in this tier."""
        return self.region_spread_table(
            _("Share of tier"), _("Tier share in region"),
            _("Where the {tier} tier's customers are").format(tier=self.tier_label),
        )

    @section(
        N_("RFM score grid"),
        N_("Customers of the tier by recency score and frequency score (quantile scores, higher = better)."),
    )
    def score_grid(self) -> render.Section | None:
        """Customers by recency score and frequency score within the tier."""
        grid = pd.crosstab(self.buyers["r_score"], self.buyers["f_score"]).sort_index(ascending=False)
        fig = render.new_figure(5.5, 4.0)
        ax = fig.subplots()
        render.sns.heatmap(grid, annot=True, fmt="d", cmap=render.PALETTE, cbar=False, ax=ax)
        ax.set(title=_("{label}: recency score by frequency score").format(label=self.label),
               xlabel=_("Frequency score (higher = more orders)"), ylabel=_("Recency score (higher = more recent)"))
        cell = grid.stack().idxmax()
        return render.Chart(
            fig, _("{label} by recency and frequency score").format(label=self.label),
            _("Heat map of customer counts; the largest cell is recency score {recency} with frequency score "
              "{frequency}.").format(
                recency=cell[0], frequency=cell[1]
            ),
        )

    @section(
        N_("Moves in and out of the tier"),
        N_(
            "From which tiers customers came into {label} and where its customers went, between the last two snapshots "
            "of the classification. Revenue is what these customers spent between the two dates."
        ),
    )
    def migration(self) -> render.Section | None:
        """Customers and revenue flowing into and out of the tier between the last two snapshots."""
        history = self.data.table("snapshots")
        pair = last_two_snapshots(history)
        if pair is None:
            return short_history(self.data, "snapshots")
        before, after = pair
        tiers = self.data.meta.tiers
        counts = snapshots.transition_matrix(history, before, after, tier_order=tiers)
        revenue = snapshots.transition_matrix(
            history, before, after, value="revenue", orders=self.data.orders, tier_order=tiers
        )
        customers_heading, revenue_heading = _("Customers"), _("Revenue")
        stayed = _("{tier} (stayed)").format(tier=self.tier_label)

        def flows(customers: pd.Series, money: pd.Series, date: dt.date) -> pd.DataFrame:
            frame = pd.DataFrame({customers_heading: customers, revenue_heading: money})
            frame.index = [stayed if name == self.tier else move_label(name) for name in frame.index]
            frame.index.name = _("Tier on {date}").format(date=f"{date:%Y-%m-%d}")
            return frame

        into = flows(counts[self.tier], revenue[self.tier], before)
        out = flows(counts.loc[self.tier], revenue.loc[self.tier], after)
        formats = {customers_heading: render.integer, revenue_heading: render.money(self.currency)}
        came = int(counts[self.tier].drop(self.tier).sum())
        went = int(counts.loc[self.tier].drop(self.tier).sum())
        summary = render.Notice(
            _(
                "Between {before} and {after}, {came:,} customers came into tier {tier}, {went:,} left it for another "
                "tier (or left altogether) and {stayed:,} stayed."
            ).format(before=f"{before:%Y-%m-%d}", after=f"{after:%Y-%m-%d}", came=came, tier=self.tier_label, went=went,
                     stayed=int(counts.loc[self.tier, self.tier])),
        )
        return (
            summary,
            render.Table(into, _("Where tier {tier}'s customers on {date} came from").format(
                tier=self.tier_label, date=f"{after:%Y-%m-%d}"), formats),
            render.Table(out, _("Where tier {tier}'s customers on {date} went").format(
                tier=self.tier_label, date=f"{before:%Y-%m-%d}"), formats),
        )

    @section(
        N_("Does the tier hold?"),
        N_(
            "For each period between two snapshots: how many of the tier's customers bought again, and how their "
            "revenue compares with the period of the same length before. Better tiers should keep more customers; "
            "growth is usually negative for the best tier, whose place was earned by a strong past, so compare tiers "
            "with each other."
        ),
    )
    def tier_effect(self) -> render.Section | None:
        """Retention rate and revenue growth of the tier per snapshot period, from the tier effect table."""
        effect = self.data.table("tier_effect")
        if effect is None:
            return short_history(self.data, "tier_effect")
        mine = effect.loc[effect["tier"].astype("str").eq(self.tier)]
        overall = effect.groupby(["before", "after"])[["retained", "customers"]].sum()
        rate_all = (overall["retained"] / overall["customers"].where(overall["customers"] > 0)).rename("all")
        mine = mine.merge(rate_all, left_on=["before", "after"], right_index=True, how="left").sort_values("before")
        period = [
            _("{start} to {end}").format(start=f"{start:%Y-%m-%d}", end=f"{end:%Y-%m-%d}")
            for start, end in zip(mine["before"], mine["after"])
        ]
        headings = {
            "customers": _("Customers at start"), "retained": _("Bought again"), "retention_rate": _("Retention rate"),
            "all": _("Retention, all tiers"), "revenue": _("Revenue in period"),
            "revenue_prior": _("Revenue, period before"),
            "growth_rate": _("Revenue growth"),
        }
        columns = {heading: mine[column].to_numpy() for column, heading in headings.items()}
        table = pd.DataFrame({_("Period"): period, **columns})
        money = render.money(self.currency)
        shown = (render.integer, render.integer, render.percent, render.percent, money, money, render.percent)
        formats = dict(zip(headings.values(), shown))
        return render.Table(
            table,
            _("Retention and revenue growth of tier {tier}, per period between snapshots").format(tier=self.tier_label),
            formats,
        )
