"""The overview page (reports/index.html): the executive summary over all regions and tiers, with a
tile map of the markets and links to every other page.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from custseg import i18n
from custseg.config import Config
from custseg.i18n import N_, _, ngettext, pgettext
from custseg.processed import Clusters, ProcessedData
from custseg.segment import lifecycle, snapshots
from custseg.studies import demographics as demographic_profile
from custseg.studies import findings as found
from custseg.studies import opening as first_screen
from custseg.studies import preferences as preference_classes
from custseg.studies import render, strategy
from custseg.studies.base import Page, open_study, section
from custseg.studies.labels import (
    cluster_feature_names,
    cluster_labels,
    move_label,
    no_column,
    region_labels,
    region_level_name,
    segment_labels,
    segment_names,
    segment_order,
    segment_purchase_rules,
    stage_label,
    tier_label,
    tier_method_text,
    value_class_labels,
    value_class_order,
)
from custseg.studies.notices import last_two_snapshots, no_clusters, short_history
from custseg.studies.plan import plan_studies

#: Where each default market sits in the tile map of the overview, as (column, row): mainland
#: China's macro regions roughly as on a map in the left block, the world in the right block.
#: Markets not listed (custom markets) fill the free places of the right block, row by row.
MARKET_TILES: dict[str, tuple[int, int]] = {
    "Northwest China": (0, 0), "North China": (1, 0), "Northeast China": (2, 0),
    "Southwest China": (0, 1), "Central China": (1, 1), "East China": (2, 1),
    "China (province unknown)": (0, 2), "South China": (1, 2), "Hong Kong, Macao & Taiwan": (2, 2),
    "North America": (4, 0), "Europe": (5, 0), "Asia-Pacific": (6, 0),
    "Latin America": (4, 1), "Africa": (5, 1), "Middle East": (6, 1),
    "Unknown": (6, 2),
}
_WORLD_COLUMNS = (4, 5, 6)


def tile_places(markets: Sequence[str]) -> dict[str, tuple[int, int]]:
    """The tile of each market: its place in :data:`MARKET_TILES`, or the next free one of the
    right block (custom markets, in the order given)."""
    places = {market: MARKET_TILES[market] for market in markets if market in MARKET_TILES}
    taken = set(MARKET_TILES.values())
    free = (
        (column, row) for row in range(2, 2 + len(markets)) for column in _WORLD_COLUMNS if (column, row) not in taken
    )
    for market in markets:
        if market not in places:
            places[market] = next(free)
    return places


def region_map(buyers: pd.DataFrame, names: Mapping[str, str] | None = None) -> render.Chart:
    """A tile map of the markets: one tile per market where it roughly lies, shaded by its share of
    revenue, with that share and the revenue growth of the last 90 days against the 90 before.

    Parameters
    ----------
    buyers
        Customers with purchases: ``region`` (a market), ``monetary``, ``revenue_90d`` and
        ``revenue_prev_90d`` (growth is left out without the last two).
    names
        Market -> its name in the report language; markets not in it keep their own.
    """
    import textwrap

    from matplotlib import colormaps
    from matplotlib.colors import Normalize
    from matplotlib.patches import FancyBboxPatch

    names = names or {}
    revenue = buyers.groupby("region", observed=True)["monetary"].sum()
    revenue = revenue.loc[revenue.index.astype("str").sort_values()]
    share = revenue / revenue.sum() if revenue.sum() > 0 else revenue * 0.0
    growth = (
        buyers.groupby("region", observed=True).apply(strategy.revenue_growth, include_groups=False)
        if {"revenue_90d", "revenue_prev_90d"} <= set(buyers.columns) else pd.Series(np.nan, index=revenue.index)
    )
    places = tile_places([str(market) for market in share.index])
    rows = max(row for _, row in places.values()) + 1
    fig = render.new_figure(9.0, 1.1 + 1.25 * rows)
    ax = fig.subplots()
    colours = colormaps[render.PALETTE]
    shade = Normalize(vmin=0.0, vmax=max(float(share.max()), 0.01))
    for market, (column, row) in places.items():
        value = float(share[market])
        fill = colours(shade(value))
        ax.add_patch(FancyBboxPatch((column + 0.04, -row + 0.04), 0.92, 0.92, boxstyle="round,pad=0,rounding_size=0.06",
                                    facecolor=fill, edgecolor="white", linewidth=1.5))
        # dark text on light tiles, white on dark ones (relative luminance of the fill)
        ink = "black" if 0.2126 * fill[0] + 0.7152 * fill[1] + 0.0722 * fill[2] > 0.5 else "white"
        label = names.get(market, market)
        ax.text(column + 0.5, -row + 0.72, "\n".join(textwrap.wrap(label, 14)) if label.isascii() else label,
                # the CJK font has one weight; asking it for bold only logs a fallback
                ha="center", va="center", fontsize=8, color=ink, fontweight="bold" if label.isascii() else "normal")
        ax.text(column + 0.5, -row + 0.38, render.percent(value), ha="center", va="center", fontsize=10, color=ink)
        change = growth.get(market, np.nan)
        if pd.notna(change):
            ax.text(column + 0.5, -row + 0.16, ("▲ " if change >= 0 else "▼ ") + render.signed_percent(change),
                    ha="center", va="center", fontsize=7.5, color=ink)
    for left, title in ((0, _("Mainland China, Hong Kong, Macao & Taiwan")), (4, _("Rest of the world"))):
        ax.text(left + 1.5, 1.12, title, ha="center", va="bottom", fontsize=9, color="#616e7c")
    ax.set_xlim(-0.05, 7.05)
    ax.set_ylim(-rows + 0.95, 1.45)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(_("Share of revenue by market, and revenue growth of the last 90 days against the 90 "
                   "before"), fontsize=10)
    top = share.sort_values(ascending=False).head(3)
    return render.Chart(
        fig, _("Markets by share of revenue"),
        _("Tile map of {count} markets placed roughly as on a map, darker for a larger share of revenue; "
          "the largest are {largest}.").format(
            count=len(share),
            largest=i18n.join_list([f"{names.get(m, m)} {render.percent(v)}" for m, v in top.items()]),
        ),
    )


class Overview(Page):
    """The executive summary over all regions and tiers; rendered as reports/index.html."""

    def __init__(self, data: ProcessedData, config: Config) -> None:
        self.data, self.config = data, config
        self.customers = data.customers
        self.buyers = self.customers.loc[self.customers["frequency"] > 0]
        self.currency = data.meta.base_currency

    @classmethod
    def from_config(cls, config: Config, language: str = "") -> Overview:
        """The overview in `language` ("": the config's)."""
        return cls(open_study(config, language), config)

    def heading(self) -> render.Heading:
        """Title of the index page."""
        meta = self.data.meta
        return render.Heading(
            _("{title}: customer classification overview").format(title=meta.title),
            _("Observation date {date} · amounts in {currency} · region level: {level}").format(
                date=meta.observation_date, currency=self.currency, level=region_level_name(meta.region_level)
            ),
        )

    def opening(self) -> first_screen.Opening:
        """The period, the whole base's findings and the navigation to every study, under the title."""
        findings = found.base_findings(self.data, self.config.studies.min_customers)
        return first_screen.opening(self.data, self.config, found.period(self.data), findings, "index.html")

    def introduction(self) -> render.Notice:
        """What the page holds, in a sentence or two, above the figures."""
        return render.Notice(
            _(
                "This page summarises how the customer base divides by value tier, RFM segment, lifecycle stage, "
                "cluster and region, what changed since the previous snapshot, and links to one study per region and "
                "one per tier. Each study compares its group with the whole base and lists what is different about it."
            ),
            kind="info",
        )

    def inputs_notice(self) -> render.Notice | None:
        """What the study could not show because an input table was not given; nothing when all were."""
        given = set(self.data.meta.inputs)
        missing = []
        if "customers" not in given:
            if "line_items" in given:
                missing.append(_(
                    "no customer table: countries come from the line items, so provinces, cities, "
                    "industries and other customer attributes are unknown"
                ))
            else:
                missing.append(_(
                    "no customer table (inputs.customers): customers have no country, so all of them "
                    "fall in the region \"Unknown\"; a customer file with a country column gives one "
                    "study per market"
                ))
        if "interactions" not in given:
            missing.append(_("no interactions (inputs.interactions): visits, e-mails, calls and tickets are not "
                             "counted"))
        if "feedback" not in given:
            missing.append(_("no feedback (inputs.feedback): satisfaction and NPS are not shown"))
        if not missing:
            return None
        text = _("This study was built with {missing}.").format(missing=i18n.join_clauses(missing))
        return render.Notice(text, kind="info")

    @section(N_("Headline figures"), N_("The whole customer base at the observation date."))
    def headline(self) -> render.Section:
        """The handful of figures a director asks for first."""
        meta = self.data.meta
        money = render.money(self.currency)
        rows = [
            (_("Observation date"), meta.observation_date),
            (_("Customers"), render.integer(len(self.customers))),
            (_("Customers with purchases"), render.integer(len(self.buyers))),
            (_("Orders"), render.integer(int(self.buyers["frequency"].sum()))),
            (_("Revenue, net of refunds"), money(self.buyers["monetary"].sum())),
            (_("Average order value"), money(strategy.average_order_value(self.buyers))),
            (_("Regions ({level})").format(level=region_level_name(meta.region_level)),
             render.integer(self.customers["region"].nunique())),
        ]
        if "value_at_risk" in self.customers:
            at_risk = self.customers["value_at_risk"].sum(min_count=1)  # none when the churn model was skipped
            rows += [
                (_("Customers with a churn warning"), render.integer(int(self.customers["warning_count"].gt(0).sum()))),
                (_("Value at risk (expected value x churn probability)"),
                 money(at_risk) if pd.notna(at_risk) else _("not computed: the churn model was not fitted")),
                (_("Customers on the churn watch list"), render.integer(int(meta.watch_list or 0))),
            ]
        value = pgettext("figure", "Value")  # the figure of each measure, not customer value
        return render.Table(pd.DataFrame(rows, columns=[_("Measure"), value]), _("Headline figures"), numeric=[value])

    def tier_pyramid(self) -> render.Section:
        """Customers and revenue share per tier, best tier on top, under how the tiers are made."""
        tiers = self.data.meta.tiers
        labels = [tier_label(tier) for tier in tiers]
        customers, revenue = _("Customers"), _("Revenue")
        share = pd.DataFrame({
            customers: self.buyers["tier"].value_counts(normalize=True),
            revenue: self.buyers.groupby("tier", observed=False)["monetary"].sum() / self.buyers["monetary"].sum(),
        }).reindex(tiers).rename_axis("tier").reset_index().melt(id_vars="tier", var_name="measure", value_name="share")
        share = share.assign(tier=share["tier"].astype("string").map(tier_label))
        fig = render.new_figure(7.0, 3.0)
        ax = fig.subplots()
        render.sns.barplot(share, y="tier", x="share", hue="measure", order=labels, ax=ax)
        ax.set(title=_("Value tiers: share of customers and of revenue"), xlabel=_("Share"), ylabel=_("Value tier"))
        ax.xaxis.set_major_formatter(lambda v, _pos: f"{v:.0%}")
        ax.legend(title=None)
        top = share.loc[share["tier"].eq(labels[0])].set_index("measure")["share"]
        chart = render.Chart(
            fig, _("Tier pyramid"),
            _("Horizontal bars per tier; the {tier} tier holds {customers:.0%} of buying customers and {revenue:.0%} "
              "of revenue.").format(
                tier=labels[0], customers=top[customers], revenue=top[revenue]
            ),
        )
        # the lead says how this study's tiers are made (its method and settings), not a generic rule
        return render.Section(_("Value tiers"), tier_method_text(self.config.tiers, self.currency), chart)

    @section(N_("Regions"), N_("Every region at the configured level, by revenue; each has its own study below."))
    def regions(self) -> render.Section:
        """Every region with its size, revenue and tier mix; at the market level, first a tile map."""
        table = self._region_table()
        if self.data.meta.region_level != "market":
            return table
        return region_map(self.buyers, region_labels(self.data)), table

    def _region_table(self) -> render.Table:
        best = self.data.meta.tiers[0]
        grouped = self.buyers.groupby("region").agg(
            customers=("customer_id", "size"), revenue=("monetary", "sum"), orders=("frequency", "sum"),
            best=("tier", lambda t: (t == best).mean()),
        )
        grouped = grouped.assign(
            share=grouped["revenue"] / grouped["revenue"].sum(), aov=grouped["revenue"] / grouped["orders"]
        )
        table = grouped[["customers", "revenue", "share", "aov", "best"]].sort_values("revenue", ascending=False)
        columns = [_("Customers"), _("Revenue"), _("Revenue share"), _("Average order value"),
                   _("Share in tier {tier}").format(tier=tier_label(best))]
        table.columns = columns
        names = region_labels(self.data)
        table.index = table.index.map(lambda region: names.get(region, region))
        table.index.name = _("Region")
        money = render.money(self.currency)
        return render.Table(
            table, _("Regions by revenue"),
            dict(zip(columns, (render.integer, money, render.percent, money, render.percent))),
        )

    @section(
        N_("Clusters"),
        N_(
            "Groups of customers with purchases that the data itself suggests, fitted on recency, frequency, spend, "
            "basket size and tenure; each is named after what sets it apart. Medians describe a typical member."
        ),
    )
    def clusters(self) -> render.Section:
        """Size, revenue share and median features of every cluster; a notice when there are none."""
        profile = self.data.table("cluster_profile")
        if profile is None:
            return no_clusters(self.data)
        names = cluster_labels(self.data)
        if names and "cluster" in profile:  # names are facts in study.json (an older profile held words)
            profile = profile.assign(name=profile["cluster"].map(names))
        columns = {
            "name": _("Cluster"), "size": _("Customers"), "share": _("Share of buyers"),
            "revenue_share": _("Revenue share"),
            "median_recency_days": _("Median days since last order"), "median_frequency": _("Median orders"),
            "median_monetary": _("Median revenue"), "median_aov": _("Median order value"),
            "median_tenure_days": _("Median tenure (days)"),
        }
        absent = [column for column in columns if column not in profile]
        if absent:
            return render.Notice(
                _("The cluster profile has no {columns} column; run `custseg process --force` to rebuild it.").format(
                    columns=", ".join(absent)
                ),
                kind="warning",
            )
        shown = profile[list(columns)]
        table = shown.rename(columns=columns).sort_values(columns["size"], ascending=False)
        money = render.money(self.currency)
        fitted = self.data.meta.clusters.method
        methods = {"kmeans": _("k-means"), "gmm": _("Gaussian mixture")}
        method = methods.get(fitted, fitted)
        formats = dict(zip(
            list(columns.values())[1:],
            (render.integer, render.percent, render.percent, render.integer, render.decimal, money, money,
             render.integer),
        ))
        title = _("{count} clusters ({method}), largest first").format(count=len(table), method=method)
        return render.Table(table, title, formats)

    @section(
        N_("How many clusters"),
        N_(
            "The number of clusters k is chosen from a range: silhouette (how well separated the clusters are, higher "
            "is better) and stability (how alike the clusters come out on resampled data, 1 = identical) for each k, "
            "among the values of k whose every cluster holds at least the minimum share of buyers."
        ),
    )
    def cluster_selection(self) -> render.Section:
        """Silhouette, stability and smallest cluster per k, with the ineligible and the chosen k
        marked: a chart, how the features were prepared, and the table."""
        selection = self.data.table("cluster_selection")
        if selection is None:
            return no_clusters(self.data)
        absent = [c for c in ("smallest_share", "smallest_share_all", "eligible") if c not in selection]
        if absent:
            return render.Notice(
                _("The cluster selection has no {columns} column; run `custseg process --force` to rebuild it.").format(
                    columns=", ".join(absent)
                ),
                kind="warning",
            )
        facts = self.data.meta.clusters
        minimum = float(facts.min_share if facts.min_share is not None else self.config.clusters.min_share)
        selection = selection.sort_values("k").reset_index(drop=True)
        # the smallest cluster as the choice saw it: on all buyers where that fit was made
        smallest = selection["smallest_share_all"].fillna(selection["smallest_share"])
        eligible = selection["eligible"].astype(bool)
        chosen = selection.loc[selection["chosen"]]
        silhouette, stability, share_label = _("Silhouette"), _("Stability"), _("Smallest cluster")
        fig = render.new_figure(7.6, 4.6)
        top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 2])
        under = _("a cluster under {share}").format(share=render.share(minimum))
        for i, k in enumerate(selection.loc[~eligible, "k"]):
            top.axvspan(k - 0.4, k + 0.4, color="#e4e7eb", zorder=0, label=under if i == 0 else None)
        top.plot(selection["k"], selection["silhouette"], marker="o", label=silhouette)
        top.plot(selection["k"], selection["stability"], marker="s", label=stability)
        for k in chosen["k"]:
            top.axvline(k, color="grey", linestyle="--", linewidth=1, label=_("chosen k = {k}").format(k=k))
            bottom.axvline(k, color="grey", linestyle="--", linewidth=1)
        top.set(title=_("Cluster quality by number of clusters"), ylabel=_("Score"), ylim=(0, 1.05))
        top.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
        fill = render.sns.color_palette(render.PALETTE, 3).as_hex()[1]
        bars = bottom.bar(selection["k"], smallest, color=[fill if ok else "#9aa5b1" for ok in eligible], width=0.6)
        bottom.bar_label(bars, labels=[render.percent(v) for v in smallest], fontsize=8, padding=2)
        bottom.set_ylim(0, max(float(smallest.max()), minimum) * 1.25)
        bottom.axhline(minimum, color="#c0392b", linestyle=":", linewidth=1.2,
                       label=_("minimum share {share}").format(share=render.share(minimum)))
        bottom.set(xlabel=_("Number of clusters (k)"), ylabel=_("Smallest cluster, share of buyers"))
        bottom.yaxis.set_major_formatter(lambda v, _pos: f"{v:.0%}")
        bottom.set_xticks(selection["k"].tolist())
        bottom.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
        first, last = selection["k"].min(), selection["k"].max()
        below = i18n.join_list(str(k) for k in selection.loc[~eligible, "k"])
        if len(chosen):
            row = chosen.iloc[0]
            alt = _(
                "Line chart of silhouette and stability for k from {first} to {last}, over bars of each k's smallest "
                "cluster; k = {k} was chosen, with silhouette {silhouette:.2f}, stability {stability:.2f} and a "
                "smallest cluster of {smallest} of buyers."
            ).format(first=first, last=last, k=row["k"], silhouette=row["silhouette"], stability=row["stability"],
                     smallest=render.percent(smallest[chosen.index[0]]))
        else:
            alt = _("Line chart of silhouette and stability for k from {first} to {last}; no k is marked as "
                    "chosen.").format(
                first=first, last=last
            )
        if below:
            alt = i18n.join_sentences([alt, _("Shaded: k = {ks}, with a cluster under the minimum share of "
                                              "{share}.").format(
                ks=below, share=render.share(minimum))])
        chart = render.Chart(fig, _("Silhouette, stability and smallest cluster per number of clusters"), alt)
        notices = [self._cluster_preparation(facts)]
        if facts.min_share_met is False and len(chosen):
            notices.append(render.Notice(_(
                "No k from {first} to {last} gives every cluster at least {share} of the buyers (clusters.min_share). "
                "k = {k}, whose smallest cluster holds {smallest}, comes closest and is shown: read that cluster as a "
                "handful of customers, not a group to plan for."
            ).format(first=first, last=last, share=render.share(minimum), k=chosen["k"].iloc[0],
                     smallest=render.percent(smallest[chosen.index[0]])), kind="warning"))
        clusters = _("Clusters (k)")
        status = np.where(selection["chosen"], _("✓ chosen"), np.where(eligible, "", under))
        table = pd.DataFrame({
            clusters: selection["k"].to_numpy(),
            silhouette: selection["silhouette"].to_numpy(),
            stability: selection["stability"].to_numpy(),
            share_label: smallest.to_numpy(),
            _("Chosen"): status,
        })
        two = lambda value: f"{value:.3f}"  # noqa: E731
        return (
            chart, *[n for n in notices if n],
            render.Table(table, _("Silhouette, stability and smallest cluster per k"),
                         {clusters: render.integer, silhouette: two, stability: two, share_label: render.percent}),
        )

    def _cluster_preparation(self, facts: Clusters) -> render.Notice | None:
        """How the features were transformed, scaled and clipped, from study.json; None when the
        processed data predates these facts."""
        if facts.log is None:
            return None
        names = cluster_feature_names()
        logged = [names.get(c, c) for c in facts.log]
        parts = []
        if logged:
            parts.append(_(
                "{features} take a signed logarithm, log(1 + x) mirrored below zero, so that a net spend under zero "
                "stays below zero without moving anyone else"
            ).format(features=i18n.join_list(logged)))
        parts.append(_("every feature is scaled by its median and inter-quartile range"))
        fence = facts.clip_iqr
        if fence is not None:
            clipped = {c: n for c, n in (facts.clipped or {}).items() if n}
            counts = i18n.join_list(
                _("{count} on {feature}").format(count=render.integer(n), feature=names.get(c, c))
                for c, n in clipped.items()
            ) if clipped else _("none")
            parts.append(_(
                "for fitting, clipped at {fence:g} inter-quartile ranges beyond its quartiles, so that extreme "
                "customers join a cluster instead of making one (buyers clipped: {counts})"
            ).format(fence=fence, counts=counts))
        return render.Notice(_("Before clustering, {steps}.").format(steps=i18n.join_clauses(parts)), kind="info")

    @section(
        N_("RFM segments"),
        N_(
            "Buying customers by the 11-group RFM map (recency score against the mean of the frequency and monetary "
            "scores) and by the 8-class value model (RFM 八类客户: each score high or low against the average buyer)."
        ),
    )
    def segments(self) -> render.Section:
        """Customers and revenue per 11-group segment and per 8-class value class."""
        tables = []
        for column, what in (("segment", _("the 11 RFM segments")), ("value_class", _("the 8 value classes"))):
            missing = no_column([column], self.customers, what)
            if missing:
                tables.append(missing)
                continue
            if column == "segment":
                labels, order = segment_labels(self.buyers, self.customers), segment_order(self.customers)
                name = _("Segment")
                title = _("Customers and revenue per RFM segment")
            else:
                labels, order = value_class_labels(self.buyers), value_class_order(self.customers)
                name = _("Value class")
                title = _("Customers and revenue per value class (8-class model)")
            frame, formats = self._size_and_revenue(labels, order, name)
            tables.append(render.Table(frame, title, formats))
        once = self._one_time_buyers()
        return (once, *tables) if once else tuple(tables)

    def _one_time_buyers(self) -> render.Notice | None:
        """Where one-time buyers stand in the scores and segments, from the data and the segment map."""
        sentences = []
        once = self.buyers.loc[self.buyers["frequency"].eq(1)]
        # said only when the data bears it out (processed data of an older version gave ties their average)
        if len(once) and "f_score" in once and once["f_score"].eq(1).all():
            sentences.append(ngettext(
                "Tied customers share the lowest score of their tie: the {count} one-time buyer ({share} of buyers) "
                "has a frequency score of 1.",
                "Tied customers share the lowest score of their tie: all {count} one-time buyers ({share} of buyers) "
                "have a frequency score of 1.",
                len(once),
            ).format(count=render.integer(len(once)), share=render.percent(len(once) / len(self.buyers))))
        sentences += segment_purchase_rules(self.config.segments)
        return render.Notice(i18n.join_sentences(sentences), kind="info") if sentences else None

    @section(
        N_("Lifecycle stages"),
        N_(
            "Every customer has one stage, judged against their own buying rhythm; the rules are checked from the top "
            "and the first that holds names the stage."
        ),
    )
    def lifecycle(self) -> render.Section:
        """Customers and revenue per lifecycle stage, with the rule that assigns it."""
        missing = no_column(["lifecycle"], self.customers, _("lifecycle stages"))
        if missing:
            return missing
        rules = lifecycle.stage_table(self.config.lifecycle).set_index("stage")
        stages = self.customers["lifecycle"].astype("string")
        name = _("Stage")
        # in the order the rules are checked, as the lead says: the first rule that holds wins
        frame, formats = self._size_and_revenue(stages, list(lifecycle.PRECEDENCE), name, everyone=True)
        # The rules are written by custseg.segment.lifecycle from the config's limits, and shown as they are.
        frame = frame.assign(**{_("Rule"): rules["rule"].reindex(frame.index)})
        frame.index = frame.index.map(stage_label)
        frame.index.name = name
        return render.Table(frame, _("Customers and revenue per lifecycle stage"), formats)

    @section(
        N_("What changed since the previous snapshot"),
        N_(
            "Customers by value tier at the previous snapshot (rows) and now (columns): the diagonal stayed put, cells "
            "right of it moved down, left of it moved up."
        ),
    )
    def changes(self) -> render.Section:
        """Tier transition matrix (customers) between the last two snapshots, with a sentence on the moves."""
        history = self.data.table("snapshots")
        pair = last_two_snapshots(history)
        if pair is None:
            return short_history(self.data, "snapshots")
        before, after = pair
        tiers = self.data.meta.tiers
        matrix = snapshots.transition_matrix(history, before, after, tier_order=tiers)
        moved = snapshots.movers(history, before, after, tiers)
        up, down = int(moved["direction"].eq("up").sum()), int(moved["direction"].eq("down").sum())
        new = int(matrix.loc[[snapshots.NO_TIER, snapshots.NOT_YET], tiers].to_numpy().sum())
        left = int(matrix[snapshots.LEFT].sum())
        first, last = f"{before:%Y-%m-%d}", f"{after:%Y-%m-%d}"
        summary = render.Notice(
            _(
                "Between {before} and {after}: {up:,} customers moved to a better tier, {down:,} to a worse one, "
                "{new:,} got their first tier and {left:,} were no longer in the customer table."
            ).format(before=first, after=last, up=up, down=down, new=new, left=left),
        )
        shown = matrix.rename(index=move_label, columns=move_label)
        shown = shown.rename_axis(index=_("Tier on {date}").format(date=first), columns=None)
        return summary, render.Table(
            shown, _("Customers by tier on {before} (rows) and on {after} (columns)").format(before=first, after=last),
            {str(c): render.integer for c in shown.columns},
        )

    def _size_and_revenue(
        self, labels: pd.Series, order: Sequence[str], name: str, everyone: bool = False
    ) -> tuple[pd.DataFrame, dict[str, Callable[[object], str]]]:
        """Customers, share, revenue and revenue share per label (aligned with the buyers, or with every
        customer when `everyone`), in `order`, empty labels left out; with the formats to show them.
        The headings are in the report language; `name` (the index's) too."""
        who = self.customers if everyone else self.buyers
        frame = pd.DataFrame({"label": labels, "revenue": who["monetary"]}).dropna(subset=["label"])
        grouped = frame.groupby("label")["revenue"]
        frame = pd.DataFrame({"customers": grouped.size(), "revenue": grouped.sum()})
        frame = frame.reindex([*order, *sorted(set(frame.index) - set(order))]).dropna(subset=["customers"])
        frame = frame.loc[frame["customers"] > 0].astype({"customers": "int64"})
        total = frame["revenue"].sum()
        frame = frame.assign(
            customer_share=frame["customers"] / frame["customers"].sum(),
            revenue_share=frame["revenue"] / total if total else float("nan"),
        )[["customers", "customer_share", "revenue", "revenue_share"]]
        headings = [_("Customers"), _("Share of customers"), _("Revenue"), _("Revenue share")]
        frame.columns = headings
        frame.index.name = name
        formats = dict(zip(headings, (render.integer, render.percent, render.money(self.currency), render.percent)))
        return frame, formats

    @section(
        N_("Who they are"),
        N_(
            "How customers differ by the descriptive attributes of the customer table (type, industry, company size, "
            "age, how they were acquired): their size, revenue, buying, value, tiers, segments, churn risk and "
            "satisfaction, against the whole base."
        ),
    )
    def who_they_are(self) -> render.Section:
        """A table per customer attribute, every figure with its index against the whole base."""
        return demographic_profile.profile_section(
            self.data.tables.get("demographics"),  # empty (not None) when the table has no attributes
            self.data.meta.tiers, self.currency, self.config.studies.min_customers,
            segment_names(self.customers), _("the whole base"),
        )

    @section(
        N_("What they prefer"),
        N_(
            "What customers prefer: their leading category (with its affinity against the base), price level, "
            "contact channel and buying times, each class with its customers, revenue and churn against the whole "
            "base."
        ),
    )
    def what_they_prefer(self) -> render.Section:
        """A table per preference class of the whole base, and a chart."""
        return preference_classes.preference_section(
            self.customers, self.customers, self.currency, self.config.studies.min_customers, _("the whole base"),
            slice_=False,
        )

    def links(self) -> render.Section:
        """Links to every region and tier study and to the data-quality page, from the same plan the build runs."""
        plan = plan_studies(self.data, self.config)
        regions = region_labels(self.data)
        shown = {"region": lambda key: regions.get(key, key), "tier": tier_label}
        lists = [
            render.Links([(job.href, shown[kind](job.key), job.note) for job in plan if job.kind == kind], heading)
            for kind, heading in (("region", _("Region studies")), ("tier", _("Tier studies")))
        ]
        churn = [(job.href, _("Churn watch"), job.note) for job in plan if job.kind == "churn"]
        lists.insert(0, render.Links(churn, _("Early warning")))
        groups = [job for job in plan if job.kind in ("group", "attribute")]
        named = [(job.href, self.config.groups[job.key].display(job.key, i18n.current()), job.note)
                 for job in groups if "group" in job.parameters]
        if named:
            lists.append(render.Links(named, _("Customer groups")))
        for attribute in dict.fromkeys(job.parameters["attribute"] for job in groups if "attribute" in job.parameters):
            # the values side by side first, then the page of each value
            values = [(job.href, _("All values side by side") if job.kind == "attribute"
                       else demographic_profile.level_name(job.parameters["value"]), job.note)
                      for job in groups if job.parameters.get("attribute") == attribute]
            heading = _("Studies by {attribute}").format(
                attribute=demographic_profile.attribute_name(attribute).lower())
            lists.append(render.Links(values, heading))
        quality = [(job.href, _("Data quality"), job.note) for job in plan if job.kind == "quality"]
        lists.append(render.Links(quality, _("Data quality")))
        lead = (_("The churn watch, one study per region, per value tier and per customer group, and how the input "
                  "data was read and cleaned.") if groups else
                _("The churn watch, one study per region and per value tier, and how the input data was read and "
                  "cleaned."))
        return render.Section(_("Studies"), lead, *lists)

