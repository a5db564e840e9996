"""The glossary page (reports/glossary.html): the terms the pages use, each defined as the code
computes it, with the thresholds of the running config and the config key that sets each.
"""

from __future__ import annotations

import html

from custseg import geo, i18n
from custseg.config import Config
from custseg.i18n import _
from custseg.processed import ProcessedData
from custseg.segment import lifecycle
from custseg.studies import findings as found
from custseg.studies import opening as first_screen
from custseg.studies import render
from custseg.studies.base import Page, open_study
from custseg.studies.labels import region_level_name, stage_label, tier_label, tier_method_text


class Terms:
    """A definition list: (term, definition, details) rows; details are shown as a list under it."""

    def __init__(self, rows: list[tuple[str, str, list[str]]], title: str) -> None:
        self.rows, self.title = rows, title

    def _repr_html_(self) -> str:
        e = html.escape
        items = []
        for term, text, details in self.rows:
            more = "".join(f"<li>{e(d)}</li>" for d in details)
            items.append(f"<dt>{e(term)}</dt><dd>{e(text)}{f'<ul>{more}</ul>' if more else ''}</dd>")
        return f'<dl class="cs-glossary" aria-label="{e(self.title)}">{"".join(items)}</dl>'


class Glossary(Page):
    """The terms of the study pages, defined from the config the pages were built with."""

    def __init__(self, data: ProcessedData, config: Config) -> None:
        self.data, self.config = data, config
        self.currency = data.meta.base_currency

    @classmethod
    def from_config(cls, config: Config, language: str = "") -> Glossary:
        """The glossary in `language` ("": the config's)."""
        return cls(open_study(config, language), config)

    def heading(self) -> render.Heading:
        """Title of the page."""
        return render.Heading(_("{title}: glossary").format(title=self.data.meta.title),
                              _("What the terms on the study pages mean, with the settings of this study"))

    def opening(self) -> first_screen.Opening:
        """The period and the navigation (a glossary has no findings)."""
        return first_screen.opening(self.data, self.config, found.period(self.data), [], "glossary.html")

    def terms(self) -> render.Section:
        """Every term, alphabetical in English order of the concepts as the pages introduce them."""
        c = self.config
        tiers = list(self.data.meta.tiers or c.tiers.names)
        chinese = i18n.current() == "zh"
        rules = lifecycle.stage_table(c.lifecycle).set_index("stage")["rule"]
        level = region_level_name(c.regions.level)
        rows: list[tuple[str, str, list[str]]] = [
            (_("RFM"), _("Recency, frequency and monetary value: three figures of each buyer's purchases up to the "
                         "observation date, each scored 1 to {bins} by quantile among the buyers (tiers.bins).").format(
                bins=c.tiers.bins), []),
            (_("Recency"), _("Days from the last completed order to the observation date."), []),
            (_("Frequency"), _("Completed orders up to the observation date."), []),
            (_("Monetary"), _("Revenue of those orders in {currency}, net of refunds.").format(
                currency=self.currency), []),
            (_("Value tiers"), tier_method_text(c.tiers, self.currency),
             [_("Tier {tier}").format(tier=tier_label(t)) for t in tiers]),
            (_("Named segments"), _("Each buyer falls in one of the RFM map's segments by the recency score and the "
                                    "mean of the frequency and monetary scores (segments.rfm_map)."),
             [rule.name_zh if chinese else rule.name for rule in c.segments.rfm_map]),
            (_("Lifecycle stages"), _("One stage per customer, judged against their own buying rhythm; the rules "
                                      "are checked in this order and the first that holds names the stage "
                                      "(lifecycle)."),
             [_("{stage}: {rule}").format(stage=stage_label(stage), rule=rules[stage]) for stage in
              lifecycle.PRECEDENCE]),
            (_("Churn"), _("No completed order in the {days} days after a date (churn.horizon_days).").format(
                days=c.churn.horizon_days), []),
            (_("Churn probability"), _("The backtested model's probability that a buyer places no completed order "
                                       "in the next {days} days.").format(days=c.churn.horizon_days), []),
            (_("Churn warning"), _("A rule that flags a buyer: silent for more than {factor} x their own cadence "
                                   "(churn.silence_factor) and at least {min_days} days (churn.silence_min_days), "
                                   "falling spend, low satisfaction or fewer contacts.").format(
                factor=c.churn.silence_factor, min_days=c.churn.silence_min_days), []),
            (_("Watch list"), _("Buyers not lost (silent at most {days} days, churn.lost_after_days) with at least "
                                "one warning or a churn probability at or above the mean of the scored buyers not "
                                "lost, ranked by value at risk.").format(days=c.churn.lost_after_days), []),
            (_("Value at risk"), _("Expected customer value x churn probability."), []),
            (_("CLV / predicted value"), _("The revenue a buyer is expected to bring in the {days} days after the "
                                           "observation date (value.horizon_days): expected purchases from a BG/NBD "
                                           "or MBG/NBD model x expected order value from a Gamma-Gamma model, "
                                           "discounted at {rate} a year (value.annual_discount_rate).").format(
                days=c.value.horizon_days, rate=render.share(c.value.annual_discount_rate)), []),
            (_("Backtest"), _("A model fitted on the data as it was at a past date and scored on what happened "
                              "after it, which is known by now."), []),
            (_("Holdout"), _("The span after that past date, held out of the fit: for churn the {days} days after "
                             "the test date; for value the last days of the history (value.backtest_days).").format(
                days=c.churn.horizon_days), []),
            (_("Lift"), _("Share of churners among the 10% a ranking rates most likely to churn, divided by the share "
                          "among all: 2x finds twice as many leavers as picking at random."), []),
            (_("Quarantine"), _("Input rows set aside during intake, each with the file, row, column and reason; "
                                "nothing is dropped silently (the data-quality page counts them)."), []),
            (_("Market"), _("A group of countries or of China's provinces (regions.level = {level}; "
                            "regions.custom_markets adds your own); customers that cannot be placed are in "
                            "\"{unknown}\".").format(level=level, unknown=geo.UNKNOWN), []),
            (_("Index"), _("A figure of a slice against the same figure of the whole base, x 100: 100 = the same as "
                           "the base, 150 = half as much again."), []),
            (_("Snapshot"), _("The classification recomputed as at a past date (snapshots.dates, or the last {count} "
                              "quarter ends, snapshots.count), to show who moved between tiers.").format(
                count=c.snapshots.count), []),
        ]
        return render.Section(_("Terms"), "", Terms(rows, _("Terms")))
