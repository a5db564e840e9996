"""Sections of the churn watch study: who is at risk, how the warning was tested, what they are worth.

The study reads what the pipeline wrote (:mod:`custseg.segment.retention` joined the churn warnings, the
churn probability and the customer value onto the customer table; :mod:`custseg.segment.churn` wrote
the backtest tables and the watch list) and computes nothing but sums, means and counts. Like
the other studies (:mod:`custseg.studies.base`) a notebook makes one :class:`ChurnStudy` and calls one
method per section; a section whose table is absent or empty says why in words.

Two populations recur. *Buyers* are customers with at least one completed order, every one of
them scored by the churn model. *Buyers not yet lost* are the buyers silent for at most
``churn.lost_after_days``: the ones a retention effort can still reach, on whom the warnings
fire, the model was chosen and the watch list is drawn. Expected churners and mean churn
probabilities are over them; the lost would add near-certain churners who are past saving.
Value at risk (value x churn probability) is summed over every buyer, as the pipeline wrote it,
so region and tier totals add up to the base; the lost hold little of it, because the value
models already expect little from them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

from custseg import i18n, words
from custseg.config import Churn, Config
from custseg.geo import regions
from custseg.i18n import N_, _, ngettext, pgettext
from custseg.paths import PROJECT_ROOT
from custseg.report.build import region_names
from custseg.segment import churn, retention
from custseg.studies import render
from custseg.studies import value as value_study
from custseg.studies.base import ProcessedData, _extra, _no_column, _segment_names, churn_warnings, section

#: Readable names of the churn model's features (custseg.segment.churn.MODEL_FEATURES), for charts.
FEATURE_NAMES: dict[str, str] = {
    "recency_days": N_("Days since last order"),
    "frequency": N_("Orders to date"),
    "monetary": N_("Revenue to date"),
    "aov": N_("Average order value"),
    "tenure_days": N_("Days as a customer"),
    "cadence_days": N_("Usual days between orders"),
    "last_gap_days": N_("Days between the last two orders"),
    "orders_90d": N_("Orders, last 90 days"),
    "orders_prev_90d": N_("Orders, the 90 days before"),
    "revenue_90d": N_("Revenue, last 90 days"),
    "revenue_prev_90d": N_("Revenue, the 90 days before"),
    "trend_90d": N_("Revenue trend, last 90 days against the 90 before"),
    "refunded_orders": N_("Refunded or returned orders"),
    "return_rate": N_("Share of orders refunded or returned"),
    "interactions_30d": N_("Contacts, last 30 days"),
    "interactions_90d": N_("Contacts, last 90 days"),
    "interactions_365d": N_("Contacts, last 365 days"),
    "last_interaction_days": N_("Days since last contact"),
    "feedback_count": N_("Feedback answers"),
    "satisfaction_mean": N_("Mean satisfaction"),
    "satisfaction_latest": N_("Latest satisfaction"),
    "satisfaction_trend": N_("Latest satisfaction against earlier average"),
    "nps_latest": N_("Latest NPS answer"),
    "silence_ratio": N_("Silence against own cadence"),
}

#: Readable names of the backtest candidates (English; translate with ``_()`` where shown).
CANDIDATE_NAMES: dict[str, str] = {
    churn.BASELINE: N_("Recency only (baseline)"),
    "logistic": N_("Logistic regression"),
    "gradient_boosting": N_("Gradient boosting"),
}

#: Short names of the warning rules (custseg.segment.churn.RULES).
RULE_NAMES: dict[str, str] = {
    "warn_silence": N_("Silence"),
    "warn_trend": N_("Falling orders"),
    "warn_satisfaction": N_("Low or falling satisfaction"),
    "warn_interactions": N_("Fewer contacts"),
}

#: Rows of the watch list shown on the page; the full list is in the export.
WATCH_ROWS = 25

#: Columns of the watch list shown on the page, with their headings. Chosen by name, so a
#: column added to the export later (a name, an e-mail) never reaches the page by accident.
_WATCH_COLUMNS = {
    "rank": N_("Rank"), "customer_id": N_("Customer"), "region": N_("Region"), "tier": N_("Tier"),
    "segment": N_("Segment"), "churn_probability": N_("Churn probability"), "value": N_("Value"),
    "value_at_risk": N_("Value at risk"), "reasons": N_("Warnings"), "action": N_("Recommended action"),
}

_NPS_ORDER = ("promoter", "passive", "detractor")
_RISK_COLUMNS = ("frequency", "recency_days", "warning_count", "churn_probability", "value", "value_at_risk")
# Labels of rows without a value, as the tables group them (shown translated)
_NO_FEEDBACK = "No feedback"
_NO_TIER = "No tier (no purchase)"
_UNKNOWN = "Unknown"

def _population(population: str) -> str:
    """A backtest population in words, in the report language ("buyers not yet lost"): the words
    of custseg.segment.churn.POPULATIONS, which the tests check these English texts against."""
    words = {"buyers": _("all buyers"), "not_lost": _("buyers not yet lost")}
    return words.get(population) or churn.POPULATIONS.get(population, population)


def _candidate(candidate: str | None) -> str:
    """A backtest candidate's readable name in the report language; unknown names as they are."""
    return _(CANDIDATE_NAMES[candidate]) if candidate in CANDIDATE_NAMES else str(candidate)


def _times(value: object) -> str:
    """A lift as a multiple: '1.96x'."""
    # Translators: a lift (a multiple of the base rate) in a table cell, e.g. "1.96x"
    return _("{lift:.2f}x").format(lift=value)


class ChurnStudy:
    """The churn watch study over the whole customer base.

    Parameters
    ----------
    data
        What :func:`custseg.studies.base.load` reads.
    config
        The study config (``churn.lost_after_days`` and the exports folder).
    """

    def __init__(self, data: ProcessedData, config: Config) -> None:
        self.data, self.config = data, config
        self.meta = data.meta
        self.currency = data.meta["base_currency"]
        self.customers = data.customers
        self.lost_after_days = config.churn.lost_after_days
        self.missing = _no_column(_RISK_COLUMNS, self.customers, _("the churn watch"))
        if self.missing is None:
            bought = self.customers["frequency"].gt(0).to_numpy()
            silent = self.customers["recency_days"].to_numpy(dtype="float64", na_value=np.nan)
            self._reachable = bought & (silent <= self.lost_after_days)  # NaN compares False
        else:
            bought = self._reachable = np.zeros(len(self.customers), dtype=bool)
        self.buyers = self.customers.loc[bought]
        self.reachable = self.customers.loc[self._reachable]
        self.backtest_facts = data.meta.get("churn") or {}
        self.value_facts = data.meta.get("value") or {}
        self.horizon_days = self.backtest_facts.get("horizon_days", config.churn.horizon_days)
        self.money = render.money(self.currency)

    def heading(self) -> render.Heading:
        """Title of the page."""
        meta = self.meta
        return render.Heading(
            _("{title}: churn watch").format(title=meta["title"]),
            _(
                "Observation date {date} · churn = no completed order in the next {days} days · amounts in {currency}"
            ).format(date=meta["observation_date"], days=self.horizon_days, currency=self.currency),
        )

    @property
    def scored(self) -> bool:
        """Whether the churn model scored the buyers (False when the backtest was skipped)."""
        return self.missing is None and self.buyers["churn_probability"].notna().any()

    def _value_basis(self) -> str | None:
        """What "value" means in this run (study.json), in the report language: rewritten from the
        config when that gives the stored English words, else the stored words as they are."""
        stored = self.value_facts.get("basis")
        if not stored:
            return None
        model = (self.value_facts.get("model") or {}).get("model", "bgnbd")
        facts = (self.config.value, self.value_facts.get("order_values"), self.value_facts.get("error"), model)
        with i18n.language("en"):
            english = retention.value_basis(*facts)
        return retention.value_basis(*facts) if english == stored else stored

    def _value_warnings(self, reasons: Sequence[str]) -> list[render.Notice]:
        """The value warnings of some reasons (custseg.segment.value_backtest.warnings) as notices."""
        return value_study.notices(self.value_facts.get("warnings") or [], reasons)

    def _skipped(self) -> render.Notice:
        """Why there are no churn probabilities, in the pipeline's words."""
        note = words.churn_model_note(self.backtest_facts.get("note"))
        if note:
            return render.Notice(
                _(
                    "The churn model was not used: {note}. Churn probabilities and value at risk are therefore "
                    "not shown; the warnings still are."
                ).format(note=note),
                kind="warning",
            )
        return render.Notice(
            _(
                "The processed data has no churn probabilities and no reason recorded for it. Run "
                "`custseg process --force` with this custseg version to score the customers."
            ),
            kind="warning",
        )

    def _region_label(self) -> Mapping[str, str]:
        """Region as the data names it -> as the page shows it (its Chinese name in Chinese, when
        the customer table has one)."""
        names = {regions.UNKNOWN: _("Unknown")}
        if i18n.current() == "zh":
            names.update(region_names(self.customers, self.meta.get("region_level", "market")))
        return names

    @section(
        N_("Key figures"),
        N_(
            "Who is at risk of leaving, and what they are worth. Customers silent for longer than the lost-after "
            "limit are counted as lost: past saving, they get no warnings and are left out of the expected churners."
        ),
    )
    def headline(self) -> render.Section:
        """Buyers scored, warnings, expected churners, value at risk and the watch list size."""
        if self.missing is not None:
            return self.missing
        buyers, reachable = self.buyers, self.reachable
        warned = int(reachable["warning_count"].gt(0).sum())
        share = lambda part, whole: f" ({render.percent(part / whole)})" if whole else ""  # noqa: E731
        rows = [
            (_("Customers with purchases"), render.integer(len(buyers))),
            (_("… scored by the churn model"), render.integer(int(buyers["churn_probability"].notna().sum()))),
            (_("… not yet lost (silent {days} days or less)").format(days=self.lost_after_days), render.integer(len(reachable))),
            (_("Customers with at least one warning"), render.integer(warned) + share(warned, len(reachable))),
        ]
        notices = []
        if self.scored:
            expected = float(reachable["churn_probability"].sum())
            at_risk = float(buyers["value_at_risk"].sum())
            worth = float(buyers["value"].sum())
            rows += [
                (_("Expected churners in the next {days} days (not yet lost)").format(days=self.horizon_days),
                 render.integer(round(expected)) + share(expected, len(reachable))),
                (_("Value of the customer base"), self.money(worth)),
                (_("Value at risk (value x churn probability)"), self.money(at_risk) + share(at_risk, worth)),
            ]
            notices.extend(churn_warnings(self.data))
        else:
            notices.append(self._skipped())
        watch = self.meta.get("watch_list")
        if watch is None:  # study.json of an older run: count the table instead
            table = getattr(self.data, "tables", {}).get("watch_list")
            watch = None if table is None else len(table)
        rows.append((_("Customers on the watch list"), "–" if watch is None else render.integer(watch)))
        basis = self._value_basis()
        if basis:
            notices.insert(0, render.Notice(_("Value here means {basis}.").format(basis=basis)))
            # the warnings the value carries, in one sentence beside its total
            warned = value_study.headline_notice(self.value_facts.get("warnings") or [])
            if warned is not None:
                notices.insert(1, warned)
        value = pgettext("measure and its value", "Value")
        table = render.Table(
            pd.DataFrame(rows, columns=[_("Measure"), value]), _("Churn watch: key figures"), numeric=[value],
        )
        return (table, *notices)

    @staticmethod
    def _risk_names() -> dict[str, str]:
        """Column headings of the risk tables, in the report language."""
        return {
            "customers": _("Customers"), "warned": _("With warnings"), "probability": _("Mean churn probability"),
            "at_risk": _("Value at risk"), "share": _("Share of value at risk"),
        }

    def _risk_table(
        self, labels: pd.Series, order: Sequence[str], name: str, unlabelled: str, shown: Mapping[str, str],
    ) -> pd.DataFrame:
        """Customers, warnings, mean churn probability (not yet lost) and value at risk per label.

        `labels` is aligned with the customer table; customers without a label are grouped as
        `unlabelled` so the rows add up to the whole table. Rows are ordered by the labels as the
        data names them, then shown under their name in `shown` (the label itself when absent).
        """
        customers = self.customers
        reachable = self._reachable
        names = self._risk_names()
        frame = pd.DataFrame({
            "label": labels.astype("object").fillna(unlabelled).astype("str").to_numpy(),
            "warned": customers["warning_count"].gt(0).to_numpy(),
            "probability": customers["churn_probability"].where(reachable).to_numpy(dtype="float64", na_value=np.nan),
            "at_risk": customers["value_at_risk"].to_numpy(dtype="float64", na_value=np.nan),
        })
        grouped = frame.groupby("label")
        table = pd.DataFrame({
            names["customers"]: grouped.size(),
            names["warned"]: grouped["warned"].sum().astype("int64"),
            names["probability"]: grouped["probability"].mean(),
            # min_count: without scores the sum is missing, not a reassuring zero
            names["at_risk"]: grouped["at_risk"].sum(min_count=1),
        })
        total = table[names["at_risk"]].sum(min_count=1)
        table = table.assign(**{names["share"]: table[names["at_risk"]] / total if total else np.nan})
        if order:
            table = table.reindex([*order, *sorted(set(table.index) - set(order))]).dropna(subset=[names["customers"]])
            table = table.astype({names["customers"]: "int64", names["warned"]: "int64"})
        table.index = pd.Index([shown.get(label, label) for label in table.index], name=name)
        return table

    def _risk_formats(self) -> dict:
        names = self._risk_names()
        return {
            names["customers"]: render.integer, names["warned"]: render.integer, names["probability"]: render.percent,
            names["at_risk"]: self.money, names["share"]: render.percent,
        }

    @section(
        N_("At risk by region and tier"),
        N_(
            "Value at risk is each customer's value times their churn probability, summed. The mean churn "
            "probability is over buyers not yet lost; customers and warnings count everyone."
        ),
    )
    def at_risk(self) -> render.Section:
        """Per region (by value at risk) and per tier (in tier order): customers, warnings, risk;
        with a bar chart of value at risk by region."""
        if self.missing is not None:
            return self.missing
        names = self._risk_names()
        by_region = self._risk_table(self.customers["region"], [], _("Region"), regions.UNKNOWN, self._region_label())
        by_region = by_region.sort_values([names["at_risk"], names["warned"]], ascending=False, na_position="last")
        tiers = list(self.meta["tiers"])
        tier_names = {**{tier: i18n.label("tier", tier) for tier in tiers}, _NO_TIER: _("No tier (no purchase)")}
        by_tier = self._risk_table(self.customers["tier"], tiers, _("Tier"), _NO_TIER, tier_names)
        items: list[object] = [
            render.Table(by_region, _("Churn risk by region, largest value at risk first"), self._risk_formats()),
            render.Table(by_tier, _("Churn risk by value tier"), self._risk_formats()),
        ]
        if not self.scored:
            items.insert(0, self._skipped())
            return tuple(items)
        items.insert(1, self._region_chart(by_region[names["at_risk"]].dropna()))
        return (*items, *self._stand_in_notice())

    def _stand_in_notice(self) -> list[render.Notice]:
        """Where value at risk is shown: what the value is, when it is the observed stand-in
        (the value models were not fitted); the predicted CLV is said once, in the key figures."""
        basis = self._value_basis()
        if self.value_facts.get("fitted", True) or not basis:
            return []
        return [render.Notice(_("Value here means {basis}.").format(basis=basis))]

    def _region_chart(self, at_risk: pd.Series) -> render.Chart:
        """Horizontal bars of value at risk per region, largest on top."""
        fig = render.new_figure(7.0, 0.9 + 0.28 * len(at_risk))
        ax = fig.subplots()
        shown = at_risk.iloc[::-1]  # barh draws from the bottom up
        ax.barh(shown.index.astype("str"), shown.to_numpy(), color=render.sns.color_palette(render.PALETTE, 1)[0])
        title = _("Value at risk by region")
        ax.set(title=title, xlabel=_("Value at risk ({currency})").format(currency=self.currency), ylabel="")
        ax.xaxis.set_major_locator(MaxNLocator(nbins=4))  # long amounts: few ticks, or the labels collide
        render.thousands_axis(ax.xaxis)
        total = at_risk.sum()
        return render.Chart(
            fig, title,
            _(
                "Horizontal bar chart of value at risk in {count} regions, largest first: {top} has the most, "
                "{top_value:,.0f} {currency} ({top_share:.0%} of the total), and {bottom} the least, "
                "{bottom_value:,.0f} {currency}."
            ).format(
                count=len(at_risk), top=at_risk.index[0], top_value=at_risk.iloc[0], currency=self.currency,
                top_share=at_risk.iloc[0] / total, bottom=at_risk.index[-1], bottom_value=at_risk.iloc[-1],
            ),
        )

    def _rule_texts(self, rules: pd.DataFrame) -> list[str]:
        """When each rule fires, as the pipeline wrote it (churn_rules.parquet). In another language,
        the same sentence in that language, made from the config's numbers, when the config is the
        one the rules were written with (else the written sentence, so the page never contradicts
        the data)."""
        written = rules["fires_when"].astype("str").tolist()
        if i18n.current() == i18n.LANGUAGES[0]:
            return written
        english = dict(churn.rule_table(self.config.churn).itertuples(index=False))
        translated = _rule_sentences(self.config.churn)
        return [
            translated[rule] if rule in translated and english.get(rule) == text else text
            for rule, text in zip(rules["rule"], written)
        ]

    @section(
        N_("The warning rules"),
        N_(
            "Four rules a person can check by hand flag buyers not yet lost; a customer can be flagged by several. "
            "The watch list shows each customer's own figures behind the flag."
        ),
    )
    def warning_rules(self) -> render.Section:
        """The rules in words with the configured numbers, and how many customers each flags."""
        rules = _extra(self.data, "churn_rules")
        if rules is None:
            return render.Notice(
                _(
                    "The processed data has no warning rules table (churn_rules.parquet). Run `custseg process "
                    "--force` with this custseg version to write it."
                ),
                kind="warning",
            )
        present = [rule for rule in churn.RULES if rule in self.customers]
        flagged = self.reachable[present].sum() if present else pd.Series(dtype="int64")
        base = len(self.reachable)
        rule_names = {rule: _(name) for rule, name in RULE_NAMES.items()}
        customers_flagged, share = _("Customers flagged"), _("Share of buyers not yet lost")
        table = pd.DataFrame({
            _("Rule"): rules["rule"].map(rule_names).fillna(rules["rule"]).to_numpy(),
            _("Fires when"): self._rule_texts(rules),
            customers_flagged: rules["rule"].map(flagged).to_numpy(dtype="float64", na_value=np.nan),
        })
        table = table.assign(**{share: table[customers_flagged] / base if base else np.nan})
        items: list[object] = [render.Table(
            table, _("Warning rules and the customers each flags"),
            {customers_flagged: render.integer, share: render.percent},
        )]
        if "warning_count" in self.customers:
            counts = self.reachable["warning_count"]
            items.append(render.Notice(
                _(
                    "Of {base:,} buyers not yet lost, {warned:,} have at least one warning and {several:,} have two or more."
                ).format(base=base, warned=int(counts.gt(0).sum()), several=int(counts.ge(2).sum()))
            ))
        return tuple(items)

    def _judged_on(self, metrics: pd.DataFrame) -> str:
        """The population the model was chosen on, as the choice records it; else the rule of
        :func:`custseg.segment.churn.backtest` (buyers not yet lost when both outcomes occur)."""
        choice = self.backtest_facts.get("choice")
        if isinstance(choice, Mapping) and choice.get("population") in churn.POPULATIONS:
            return choice["population"]
        not_lost = metrics.loc[metrics["population"].eq("not_lost"), "roc_auc"]
        return "not_lost" if len(not_lost) and not_lost.notna().all() else "buyers"

    @section(
        N_("How the warning performed in the backtest"),
        N_(
            "The models were trained on the customers as they were at several past dates and tested on a later "
            "date, whose outcome is known by now. ROC AUC is the chance that a churner is ranked above a customer who "
            "stayed (0.5 = guessing). The recency-only baseline ranks by days since the last order: a model is "
            "used only if it beats it."
        ),
    )
    def backtest(self) -> render.Section:
        """Metrics per candidate (population the choice was made on, then all buyers), the choice,
        the top-decile lift against the baseline, a calibration chart and the feature importances."""
        metrics = _extra(self.data, "churn_metrics")
        if metrics is None:
            note = words.churn_model_note(self.backtest_facts.get("note"))
            if note:
                return render.Notice(_("The churn model was not backtested: {note}.").format(note=note), kind="info")
            reasons = {w.get("reason") for w in self.backtest_facts.get("warnings") or ()}
            if "no_validation" in reasons:  # scored without an out-of-time check: the warnings say why
                return tuple(churn_warnings(self.data))
            return render.Notice(
                _(
                    "The processed data has no backtest tables (churn_metrics.parquet). Run `custseg process --force` "
                    "with this custseg version to write them."
                ),
                kind="warning",
            )
        judged = self._judged_on(metrics)
        chosen = metrics.loc[metrics["chosen"], "candidate"]
        chosen = str(chosen.iloc[0]) if len(chosen) else self.backtest_facts.get("chosen")
        items: list[object] = []
        facts = self.backtest_facts
        training = facts.get("training_origins") or []
        if training:
            items.append(render.Notice(
                _(
                    "Trained on the buyers as they were at {count} dates from {first} to {last}, {step} days apart, each "
                    "labelled by whether they bought in the {days} days after; tested the same way on {validation_date}. "
                    "Chosen: {choice}. The chosen model was then refitted with {validation_date} too."
                ).format(
                    count=len(training), first=training[-1], last=training[0], step=self.config.churn.origin_step_days,
                    days=self.horizon_days, validation_date=facts["validation_date"],
                    choice=_candidate_sentence(facts.get("choice", "")),
                )
            ))
        elif facts.get("validation_date"):  # study.json of a run before the backtest had several dates
            items.append(render.Notice(
                _(
                    "Trained on the buyers as they were on {train_date}, labelled by whether they bought in the "
                    "{days} days after; tested the same way on {validation_date}. Chosen: {choice}."
                ).format(
                    train_date=facts["train_date"], days=self.horizon_days, validation_date=facts["validation_date"],
                    choice=_candidate_sentence(facts.get("choice", "")),
                )
            ))
        if facts.get("seasonal"):
            items.append(render.Notice(_(
                "The dates span a whole year, so the time of year is one of the model's inputs: the coming window's "
                "season is learnt from the same weeks a year before."
            )))
        items.extend(churn_warnings(self.data))
        for population in (judged, *[p for p in churn.POPULATIONS if p != judged]):
            rows = metrics.loc[metrics["population"].eq(population)]
            if rows.empty:
                continue
            items.append(self._metric_table(rows, population, population == judged))
        items.append(self._lift(metrics.loc[metrics["population"].eq(judged)], chosen, judged))
        calibration = _extra(self.data, "churn_calibration")
        if calibration is None:
            items.append(render.Notice(
                _("The processed data has no calibration table, so the calibration chart is not shown."), kind="info",
            ))
        else:
            items.append(self._calibration_chart(calibration, chosen, judged))
        importance = _extra(self.data, "churn_importance")
        if importance is None:
            items.append(render.Notice(
                _("The processed data has no feature importances, so they are not shown."), kind="info",
            ))
        else:
            items.append(self._importance_chart(importance, chosen, judged))
        return tuple(items)

    def _metric_table(self, rows: pd.DataFrame, population: str, judged: bool) -> render.Table:
        """The backtest figures of one population, chosen candidate marked."""
        first = rows.iloc[0]
        names = {candidate: _(name) for candidate, name in CANDIDATE_NAMES.items()}
        roc, pr, top, lift, brier = _("ROC AUC"), _("PR AUC"), _("Churned in top 10%"), _("Top-decile lift"), _("Brier score")
        table = pd.DataFrame({
            _("Candidate"): rows["candidate"].map(names).fillna(rows["candidate"]).to_numpy(),
            roc: rows["roc_auc"].to_numpy(),
            pr: rows["pr_auc"].to_numpy(),
            top: rows["top_decile_precision"].to_numpy(),
            lift: rows["top_decile_lift"].to_numpy(),
            brier: rows["brier"].to_numpy(),
            _("Chosen"): rows["chosen"].map({True: _("✓ chosen"), False: ""}).to_numpy(),
        })
        three = lambda value: f"{value:.3f}"  # noqa: E731
        facts = {"population": _population(population), "count": int(first["n"]), "rate": first["base_rate"]}
        if judged:
            title = _(
                "Backtest on {population} (the model was chosen on these): {count:,} customers, {rate:.0%} of whom churned"
            ).format(**facts)
        else:
            title = _("Backtest on {population} (for comparison): {count:,} customers, {rate:.0%} of whom churned").format(**facts)
        return render.Table(
            table, title,
            {roc: three, pr: three, top: render.percent, lift: _times, brier: three},
        )

    def _lift(self, rows: pd.DataFrame, chosen: str | None, population: str) -> render.Notice:
        """The chosen candidate's top decile against the baseline's, in one sentence."""
        by = rows.set_index("candidate")
        words = _population(population)
        if chosen not in by.index or pd.isna(by.loc[chosen, "top_decile_precision"]):
            return render.Notice(_("The backtest has no top-decile figures for {population}.").format(population=words), kind="info")
        mine = by.loc[chosen]
        facts = {
            "population": words, "model": _candidate(chosen).lower(), "precision": mine["top_decile_precision"],
            "lift": mine["top_decile_lift"], "base_rate": mine["base_rate"],
        }
        if chosen == churn.BASELINE:
            return render.Notice(_(
                "Of the 10% of {population} that {model} rated most likely to churn, {precision:.0%} did, {lift:.2f} "
                "times the base rate of {base_rate:.0%}. No model beat recency, so the scores rank customers by days "
                "since the last order."
            ).format(**facts))
        if churn.BASELINE in by.index and pd.notna(by.loc[churn.BASELINE, "roc_auc"]):
            base = by.loc[churn.BASELINE]
            return render.Notice(_(
                "Of the 10% of {population} that {model} rated most likely to churn, {precision:.0%} did, {lift:.2f} "
                "times the base rate of {base_rate:.0%}; ranking by recency alone finds {baseline_precision:.0%} "
                "({baseline_lift:.2f} times). ROC AUC {auc:.3f} against {baseline_auc:.3f} for the baseline."
            ).format(
                **facts, baseline_precision=base["top_decile_precision"], baseline_lift=base["top_decile_lift"],
                auc=mine["roc_auc"], baseline_auc=base["roc_auc"],
            ))
        return render.Notice(_(
            "Of the 10% of {population} that {model} rated most likely to churn, {precision:.0%} did, {lift:.2f} "
            "times the base rate of {base_rate:.0%}."
        ).format(**facts))

    def _calibration_chart(self, calibration: pd.DataFrame, chosen: str | None, population: str) -> render.Chart | render.Notice:
        """Mean predicted against observed churn rate per bin, chosen candidate and baseline, with the diagonal."""
        words = _population(population)
        recalibrated = chosen + churn.RECALIBRATED if chosen else None
        candidates = list(dict.fromkeys(c for c in (chosen, recalibrated, churn.BASELINE) if c))
        shown = calibration.loc[calibration["population"].eq(population) & calibration["candidate"].isin(candidates)]
        if shown.empty:
            return render.Notice(
                _("The backtest has no calibration figures for {population}.").format(population=words), kind="info",
            )
        fig = render.new_figure(5.0, 4.2)
        ax = fig.subplots()
        ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label=_("Predicted = observed"))
        described = []
        for candidate, marker in zip(candidates, ("o", "D", "s")):
            bins = shown.loc[shown["candidate"].eq(candidate)].sort_values("bin")
            if bins.empty:
                continue
            if candidate == recalibrated:
                name = _("{model}, recalibrated").format(model=_candidate(chosen))
                label = _("{model} (the probabilities used)").format(model=name)
            else:
                name = _candidate(candidate)
                label = name
                if candidate == chosen:  # without a map (no year of history) its own are the probabilities used
                    mapped = shown["candidate"].eq(recalibrated).any()
                    label = (_("{model} (chosen, before recalibration)") if mapped
                             else _("{model} (chosen: the probabilities used)")).format(model=name)
            ax.plot(bins["mean_predicted"], bins["observed_rate"], marker=marker, label=label)
            gap = np.average((bins["observed_rate"] - bins["mean_predicted"]).abs(), weights=bins["n"])
            top = bins.iloc[-1]
            described.append(_(
                "{model}: predicted and observed rates differ by {gap:.0f} percentage points on average; "
                "its highest bin predicted {predicted:.0%} and {observed:.0%} churned"
            ).format(model=name.lower(), gap=100 * gap, predicted=top["mean_predicted"], observed=top["observed_rate"]))
        ax.set(title=_("Calibration on {population}").format(population=words), xlabel=_("Mean predicted churn probability"),
               ylabel=_("Share that churned"), xlim=(0, 1), ylim=(0, 1.02))
        ax.xaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
        ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
        ax.legend(loc="upper left", frameon=False, fontsize=8)
        return render.Chart(
            fig, _("Predicted against observed churn, ten equal-size groups of {population}").format(population=words),
            _(
                "Line chart of the observed churn rate against the mean predicted probability in ten groups of customers, "
                "with a dashed diagonal where the two agree; {details}."
            ).format(details=i18n.join_clauses(described)),
        )

    def _importance_chart(self, importance: pd.DataFrame, chosen: str | None, population: str) -> render.Chart:
        """The ten features whose shuffling costs the chosen model most ROC AUC."""
        top = importance.sort_values(["importance_mean", "feature"], ascending=[False, True]).head(10)
        readable = {feature: _(name) for feature, name in FEATURE_NAMES.items()}
        names = top["feature"].map(readable).fillna(top["feature"].str.replace("_", " ").str.capitalize())
        fig = render.new_figure(7.0, 0.9 + 0.3 * len(top))
        ax = fig.subplots()
        ax.barh(names.to_numpy()[::-1], top["importance_mean"].to_numpy()[::-1], xerr=top["importance_std"].to_numpy()[::-1],
                color=render.sns.color_palette(render.PALETTE, 1)[0])
        model = (_candidate(chosen) if chosen else _("model")).lower()
        ax.set(title=_("What the {model} relies on").format(model=model),
               xlabel=_("Drop in ROC AUC when the feature is shuffled"), ylabel="")
        listed = i18n.join_list(f"{name} ({value:.3f})" for name, value in zip(names.head(3), top["importance_mean"].head(3)))
        return render.Chart(
            fig,
            _("Permutation importance of the {count} most important features, {population}").format(
                count=len(top), population=_population(population),
            ),
            _(
                "Horizontal bar chart of how much the validation ROC AUC of the {model} drops when each feature is "
                "shuffled, top {count} features; the three largest are {features}."
            ).format(model=model, count=len(top), features=listed),
        )

    @section(
        N_("Satisfaction and churn"),
        N_(
            "Churn probability and the share with warnings by each customer's latest satisfaction score and NPS "
            "class, for buyers not yet lost. The model and the satisfaction rule both read these scores, so this "
            "shows how the warning treats them, not separate proof that unhappy customers leave."
        ),
    )
    def satisfaction(self) -> render.Section:
        """Mean churn probability and share with warnings by latest satisfaction (1-5) and NPS class."""
        if "feedback" not in self.meta.get("inputs", ()):
            return render.Notice(
                _("This study has no feedback table (inputs.feedback), so satisfaction and NPS cannot be related to churn."),
                kind="info",
            )
        missing = self.missing or _no_column(["satisfaction_latest", "nps_class"], self.customers, _("satisfaction and churn"))
        if missing:
            return missing
        reachable = self.reachable
        score = reachable["satisfaction_latest"].round().astype("Int64").astype("string")
        by_score = self._by_feedback(score, [str(n) for n in range(1, 6)], _("Latest satisfaction (1-5)"))
        nps = reachable["nps_class"].astype("string")
        by_nps = self._by_feedback(nps, list(_NPS_ORDER), _("NPS class (latest answer)"))
        no_feedback = _("No feedback")
        if i18n.current() == "zh":
            nps_label = lambda label: i18n.label("nps", label)  # noqa: E731
        else:
            nps_label = str.capitalize
        by_nps.index = by_nps.index.map(lambda label: no_feedback if label == _NO_FEEDBACK else nps_label(label))
        names = self._feedback_names()
        formats = {names["buyers"]: render.integer, names["probability"]: render.percent, names["warned"]: render.percent}
        items: list[object] = []
        if self.scored and (by_score.index != _NO_FEEDBACK).any():
            items.append(self._satisfaction_chart(by_score))
        elif not self.scored:
            items.append(self._skipped())
        by_score = by_score.rename(index={_NO_FEEDBACK: no_feedback})
        items += [
            render.Table(by_score, _("Churn probability by latest satisfaction score"), formats),
            render.Table(by_nps, _("Churn probability by NPS class"), formats),
        ]
        return tuple(items)

    @staticmethod
    def _feedback_names() -> dict[str, str]:
        """Column headings of the satisfaction tables, in the report language."""
        return {"buyers": _("Buyers not yet lost"), "probability": _("Mean churn probability"), "warned": _("Share with warnings")}

    def _by_feedback(self, labels: pd.Series, order: list[str], name: str) -> pd.DataFrame:
        """Buyers not yet lost, mean churn probability and share with warnings per label, customers
        without an answer last (labelled :data:`_NO_FEEDBACK`, in English)."""
        names = self._feedback_names()
        frame = pd.DataFrame({
            "label": labels.fillna(_NO_FEEDBACK).to_numpy(dtype=object),
            "probability": self.reachable["churn_probability"].to_numpy(dtype="float64", na_value=np.nan),
            "warned": self.reachable["warning_count"].gt(0).to_numpy(),
        })
        grouped = frame.groupby("label")
        table = pd.DataFrame({
            names["buyers"]: grouped.size(),
            names["probability"]: grouped["probability"].mean(),
            names["warned"]: grouped["warned"].mean(),
        })
        rows = [*order, *sorted(set(table.index) - {*order, _NO_FEEDBACK}), _NO_FEEDBACK]
        table = table.reindex([label for label in rows if label in table.index]).astype({names["buyers"]: "int64"})
        table.index.name = name
        return table

    def _satisfaction_chart(self, by_score: pd.DataFrame) -> render.Chart:
        """Bars of mean churn probability per latest satisfaction score, with the mean of all buyers not yet lost."""
        rated = by_score.drop(index=_NO_FEEDBACK, errors="ignore")[self._feedback_names()["probability"]]
        overall = float(self.reachable["churn_probability"].mean())
        fig = render.new_figure(6.0, 3.2)
        ax = fig.subplots()
        ax.bar(rated.index.astype("str"), rated.to_numpy(), color=render.sns.color_palette(render.PALETTE, 1)[0])
        ax.axhline(overall, color="grey", linestyle="--", linewidth=1,
                   label=_("All buyers not yet lost ({mean:.0%})").format(mean=overall))
        ax.set(title=_("Churn probability by latest satisfaction"), xlabel=_("Latest satisfaction score (1 = worst, 5 = best)"),
               ylabel=_("Mean churn probability"), ylim=(0, 1))
        ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
        ax.legend(loc="upper right", frameon=False, fontsize=8)
        listed = i18n.join_list(
            _("score {score} {probability:.0%}").format(score=label, probability=value) for label, value in rated.items()
        )
        return render.Chart(
            fig, _("Mean churn probability by latest satisfaction score"),
            _(
                "Bar chart of the mean churn probability of buyers not yet lost by their latest satisfaction score: "
                "{scores}; the dashed line marks the mean of all buyers not yet lost, {mean:.0%}."
            ).format(scores=listed, mean=overall),
        )

    @section(
        N_("Customer value"),
        N_(
            "What the buyers are expected to spend. P(alive) is the value model's probability that a repeat buyer "
            "still buys at all; CLV is the expected revenue over the value horizon, discounted."
        ),
    )
    def customer_value(self) -> render.Section:
        """P(alive) of repeat buyers (histogram), one-time buyers counted apart, CLV by tier and the model's note."""
        missing = self.missing or _no_column(["one_time_buyer", "p_alive", "clv"], self.customers, _("customer value"))
        if missing:
            return missing
        items: list[object] = []
        fitted = bool(self.value_facts.get("fitted", self.buyers["clv"].notna().any()))
        basis = self._value_basis()
        if not fitted:
            if basis:
                text = _("The value models could not be fitted, so P(alive) and CLV are not shown; value here means {basis}.")
            else:
                text = _("The value models could not be fitted, so P(alive) and CLV are not shown.")
            items.append(render.Notice(text.format(basis=basis), kind="warning"))
        else:
            repeat = self.buyers.loc[~self.buyers["one_time_buyer"].astype("bool") & self.buyers["p_alive"].notna(), "p_alive"]
            if len(repeat):
                items.append(self._alive_chart(repeat))
            items += self._value_warnings(value_study.ALIVE_REASONS)
            items.append(self._one_time_notice())
            above = int(self.value_facts.get("order_values_above_history") or 0)
            if above:
                mean_value = self._mean_order_value()
                if self.value_facts.get("cap_order_value"):
                    text = _(
                        "For {count:,} buyers the model's expected order value was above their largest order so far, and "
                        "is capped there (value.cap_order_value). Gamma-Gamma pulls one-time and occasional buyers towards "
                        "the mean order value of all buyers{mean}."
                    )
                else:
                    text = _(
                        "For {count:,} buyers the expected order value is above their largest order so far: Gamma-Gamma "
                        "pulls one-time and occasional buyers towards the mean order value of all buyers{mean}, as a "
                        "first small order says little about the next. Set value.cap_order_value to cap it at their "
                        "largest order; that ranks future spenders a little better and predicts less revenue in total."
                    )
                items.append(render.Notice(text.format(count=above, mean=mean_value)))
        items.append(self._value_by_tier("clv" if fitted else "value"))
        items += self._value_warnings(value_study.VALUE_REASONS)
        note = self.value_facts.get("note") or ""
        if note:
            items.append(render.Notice(_("About the value model: {note}.").format(note=note), kind="info"))
        return tuple(items)

    def _one_time_notice(self) -> render.Notice:
        """How one-time buyers' P(alive) is shown: apart under BG/NBD (1 by definition), as the
        model's estimate under MBG/NBD."""
        once = self.buyers["one_time_buyer"].astype("bool")
        if (self.value_facts.get("model") or {}).get("model") == "mbgnbd":
            alive = self.buyers.loc[once, "p_alive"]
            return render.Notice(_(
                "{count:,} one-time buyers are not in the chart. The MBG/NBD model lets a customer drop out right after "
                "the first purchase, so their P(alive) is the model's estimate (mean {mean}), but it rests on one "
                "purchase; judge them by their churn probability too, which also sees contacts and feedback."
            ).format(count=int(once.sum()), mean=render.percent(alive.mean())))
        return render.Notice(_(
            "{count:,} one-time buyers are counted apart. In the BG/NBD model a customer can only drop out right "
            "after a repeat purchase, so for someone who bought once P(alive) is 1 by definition, whatever the "
            "silence since; it says nothing about them and is not shown. Judge them by their churn probability, "
            "which also sees contacts and feedback."
        ).format(count=int(once.sum())))

    @section(
        N_("How far the customer value holds"),
        N_(
            "The value models were fitted as they would have been at a past date and their predictions compared with "
            "what the customers then bought; the model used is the one that did best. The warnings say where the "
            "value stops being trustworthy."
        ),
    )
    def value_backtest(self) -> render.Section:
        """The value models' holdout backtest: per tier, per number of repeat purchases, the candidates."""
        if not self.value_facts.get("fitted", False):
            basis = self._value_basis()
            return render.Notice(
                _("The value models could not be fitted, so there is nothing to backtest; value here means {basis}.").format(
                    basis=basis or "–"),
                kind="warning",
            )
        return value_study.backtest_items(
            self.value_facts, _extra(self.data, "value_backtest"), _extra(self.data, "value_candidates"), self.money,
            self.meta["observation_date"],
        )

    def _mean_order_value(self) -> str:
        """The Gamma-Gamma mean order value as " (money)", or "" when it is not known."""
        params = self.value_facts.get("parameters") or {}
        p, q, v = (params.get(k) for k in ("p", "q", "v"))
        if p is None or q is None or v is None or q <= 1:
            return ""
        return _(" ({money})").format(money=self.money(p * v / (q - 1.0)))

    def _alive_chart(self, p_alive: pd.Series) -> render.Chart:
        """Histogram of P(alive) of the repeat buyers."""
        fig = render.new_figure(6.0, 3.2)
        ax = fig.subplots()
        ax.hist(p_alive.to_numpy(), bins=np.linspace(0, 1, 21), color=render.sns.color_palette(render.PALETTE, 1)[0])
        ax.set(title=_("P(alive) of repeat buyers"), xlabel=_("P(alive): probability the customer still buys"),
               ylabel=_("Customers"))
        ax.xaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
        render.thousands_axis(ax.yaxis)
        return render.Chart(
            fig, _("P(alive) of {count:,} repeat buyers").format(count=len(p_alive)),
            _(
                "Histogram of P(alive) of {count:,} repeat buyers in 20 bins from 0% to 100%: median {median:.0%}, "
                "{above:.0%} above 90% and {below:.0%} below 50%."
            ).format(count=len(p_alive), median=p_alive.median(), above=p_alive.gt(0.9).mean(), below=p_alive.lt(0.5).mean()),
        )

    def _value_by_tier(self, column: str) -> render.Table:
        """Buyers, total, mean and share of `column` ("clv" or "value") per tier, in tier order."""
        days = self.value_facts.get("days", self.config.value.horizon_days)
        if column == "clv":
            total, share, mean, title = _("Total CLV"), _("Share of CLV"), _("Mean CLV"), _("CLV by value tier")
        else:  # the observed stand-in: said in the title and the headings
            total, share, mean = _("Net spend, last {days} days").format(days=days), _("Share"), _("Mean net spend")
            title = _("Value by value tier: net spend in the last {days} days (observed, the value models were not "
                      "fitted)").format(days=days)
        buyers_name, alive = _("Buyers"), _("Mean P(alive), repeat buyers")
        buyers = self.buyers
        frame = pd.DataFrame({
            "tier": buyers["tier"].astype("object").fillna(_UNKNOWN).astype("str").to_numpy(),
            "value": buyers[column].to_numpy(dtype="float64", na_value=np.nan),
            "alive": buyers["p_alive"].to_numpy(dtype="float64", na_value=np.nan),
        })
        grouped = frame.groupby("tier")
        table = pd.DataFrame({
            buyers_name: grouped.size(),
            total: grouped["value"].sum(min_count=1),
            mean: grouped["value"].mean(),
            alive: grouped["alive"].mean(),
        })
        whole = table[total].sum(min_count=1)
        table.insert(2, share, table[total] / whole if whole else np.nan)
        order = [*self.meta["tiers"], *sorted(set(table.index) - set(self.meta["tiers"]))]
        table = table.reindex([tier for tier in order if tier in table.index])
        formats = {buyers_name: render.integer, total: self.money, share: render.percent, mean: self.money,
                   alive: render.percent}
        backtest = self.value_facts.get("backtest") or {}
        ratios = value_study.backtest_ratios(_extra(self.data, "value_backtest"))
        if column == "clv" and len(ratios):
            # each tier's backtest figure beside its value: how far that kind of number held before
            checked = _("Backtest: predicted ÷ actual revenue over {days} days (tiers as on {cutoff})").format(
                days=backtest.get("days", ""), cutoff=backtest.get("cutoff", ""))
            table[checked] = ratios.reindex(table.index).to_numpy()
            formats[checked] = render.percent
        shown = {**{tier: i18n.label("tier", tier) for tier in self.meta["tiers"]}, _UNKNOWN: _("Unknown")}
        table.index = pd.Index([shown.get(tier, tier) for tier in table.index], name=_("Tier"))
        return render.Table(table, title, formats)

    @section(
        N_("Watch list"),
        N_(
            "The customers most worth a retention effort, by value at risk: buyers not yet lost with a warning, or "
            "with a churn probability at or above the expected rate. No names, e-mails or phone numbers: look "
            "customers up in the CRM by their id."
        ),
    )
    def watch_list(self) -> render.Section:
        """The top rows of the watch list and where the full list is."""
        watch = _extra(self.data, "watch_list")
        if watch is None:
            if "watch_list" in getattr(self.data, "tables", {}):
                return render.Notice(_(
                    "The watch list is empty: no buyer who is not yet lost has a warning or a churn probability at or "
                    "above the expected rate."
                ))
            return render.Notice(
                _(
                    "The processed data has no watch list (watch_list.parquet). Run `custseg process --force` with this "
                    "custseg version to write it."
                ),
                kind="warning",
            )
        columns = [column for column in _WATCH_COLUMNS if column in watch]
        top = watch.sort_values("rank").head(WATCH_ROWS)[columns]
        if "reasons" in top:
            # the pipeline keeps reasons as facts, worded here in the report language (the export,
            # one file for all readers, in English); a user's own action text stays as written
            top = top.assign(reasons=top["reasons"].map(words.churn_reasons).replace(
                "", _("none: churn probability at or above the expected rate")))
        if "action" in top:
            top = top.assign(action=top["action"].map(_, na_action="ignore"))
        if self.data.meta.get("mask_ids") and "customer_id" in top:
            top = top.assign(customer_id=top["customer_id"].map(render.mask_id))
        labels = {
            "region": self._region_label(),
            "tier": {tier: i18n.label("tier", tier) for tier in top["tier"].dropna().astype("str")} if "tier" in top else {},
            "segment": _segment_names(self.customers),
        }
        top = top.assign(**{
            column: top[column].map(lambda value, names=names: names.get(value, value), na_action="ignore")
            for column, names in labels.items() if column in top and names
        })
        headings = {column: _(heading) for column, heading in _WATCH_COLUMNS.items()}
        shown = top.rename(columns=headings)
        table = render.Table(
            shown,
            ngettext(
                "The {count} customer with the most value at risk", "The {count} customers with the most value at risk", len(shown),
            ).format(count=len(shown)),
            {headings["rank"]: render.integer, headings["churn_probability"]: render.percent,
             headings["value"]: self.money, headings["value_at_risk"]: self.money},
        )
        path = self.config.output.exports / "churn_watchlist.csv"
        shown_path = Path(path.relative_to(PROJECT_ROOT) if path.is_relative_to(PROJECT_ROOT) else path).as_posix()
        if watch["value_at_risk"].notna().any():
            text = _(
                "The full list of {count:,} customers, ranked by value at risk, with the recommended action for each, "
                "is in {path} (UTF-8, opens in Excel)."
            )
        else:
            text = _(
                "The full list of {count:,} customers, ranked by number of warnings, then value (no churn model), with "
                "the recommended action for each, is in {path} (UTF-8, opens in Excel)."
            )
        basis = self._value_basis()
        said = [render.Notice(_("Value in this list means {basis}.").format(basis=basis))] if basis else []
        return (table, render.Notice(text.format(count=len(watch), path=shown_path)), *said)


def _candidate_sentence(choice: Mapping | str | None) -> str:
    """The backtest's choice ('logistic regression: validation ROC AUC 0.734 vs recency only (baseline)
    0.640 (all buyers)') with readable candidate names, in the report language."""
    names = {candidate: _candidate(candidate).lower() for candidate in CANDIDATE_NAMES}
    return words.model_choice(choice, names) or _("none")


def _rule_sentences(settings: Churn) -> dict[str, str]:
    """When each warning rule fires, in the report language, with the configured numbers: the
    sentences of :func:`custseg.segment.churn.rule_table`, which writes them in English."""
    s = settings
    tiers = i18n.join_list(
        # Translators: a value tier and its silence limit in days, one item of a list ("high 90")
        _("{tier} {days}").format(tier=i18n.label("tier", tier), days=days) for tier, days in s.silence_days_by_tier.items()
    )
    return {
        "warn_silence": _(
            "silent for more than {factor:g} x own cadence (customers with at least {min_orders} orders), else more "
            "than the tier's limit in days ({tiers}; {days} for other tiers); never for {min_days} days or less"
        ).format(factor=s.silence_factor, min_orders=s.min_orders_for_cadence, tiers=tiers, days=s.silence_days,
                 min_days=s.silence_min_days),
        "warn_trend": _(
            "orders in the last 90 days at most {drop:g} x those of the 90 days before, which held at least {min_orders}"
        ).format(drop=s.trend_drop, min_orders=s.trend_min_orders),
        "warn_satisfaction": _(
            "latest satisfaction at most {low:g} of 5, or at least {drop:g} below the customer's earlier average"
        ).format(low=s.satisfaction_low, drop=s.satisfaction_drop),
        "warn_interactions": _(
            "contacts in the last 90 days at most {drop:g} x the earlier rate per 90 days, which was at least {minimum:g}"
        ).format(drop=s.interactions_drop, minimum=s.interactions_min),
    }
