"""Sections of the churn watch study: who is at risk, how the warning was tested, what they are worth.

The study reads what the pipeline wrote (:mod:`custseg.segment.retention` joined the churn warnings, the
churn probability and the customer value onto the customer table; :mod:`custseg.segment.churn` wrote
the backtest tables and the watch list) and computes nothing but sums, means and counts. Like
the other pages a notebook makes one :class:`ChurnStudy` (``ChurnStudy.from_config``) and calls one
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

import numpy as np
import pandas as pd

from custseg import geo, i18n, words
from custseg.config import Config
from custseg.i18n import N_, _, ngettext, pgettext
from custseg.processed import ProcessedData
from custseg.segment import churn
from custseg.studies import churn_figures as figures
from custseg.studies import findings as found
from custseg.studies import opening as first_screen
from custseg.studies import render
from custseg.studies import value as value_study
from custseg.studies.base import Page, open_study, section
from custseg.studies.churn_labels import CANDIDATE_NAMES, RULE_NAMES, candidate_label
from custseg.studies.labels import no_column, segment_names
from custseg.studies.notices import churn_warnings
from custseg.studies.plan import region_names

#: Rows of the watch list shown on the page; the full list is the table's CSV download.
WATCH_ROWS = 25

#: Columns of the watch list shown on the page, with their headings. Chosen by name, so a
#: column added to the export later (a name, an e-mail) never reaches the page by accident.
_WATCH_COLUMNS = {
    "rank": N_("Rank"), "customer_id": N_("Customer"), "region": N_("Region"), "tier": N_("Tier"),
    "segment": N_("Segment"), "churn_probability": N_("Churn probability"), "value": N_("Value"),
    "value_at_risk": N_("Value at risk"), "reasons": N_("Warnings"), "action": N_("Recommended action"),
}

#: A P(alive) at which a watched customer is called "still likely alive" beside the churn model.
ALIVE_ENOUGH = 0.5

_NPS_ORDER = ("promoter", "passive", "detractor")
_RISK_COLUMNS = ("frequency", "recency_days", "warning_count", "churn_probability", "value", "value_at_risk")
# Labels of rows without a value, as the tables group them (shown translated)
_NO_FEEDBACK = "No feedback"
_NO_TIER = "No tier (no purchase)"
_UNKNOWN = "Unknown"

class ChurnStudy(Page):
    """The churn watch study over the whole customer base.

    Parameters
    ----------
    data
        What :func:`custseg.processed.load` reads.
    config
        The study config (``churn.lost_after_days`` and the exports folder).
    """

    def __init__(self, data: ProcessedData, config: Config) -> None:
        self.data, self.config = data, config
        self.meta = data.meta
        self.currency = data.meta.base_currency
        self.customers = data.customers
        self.lost_after_days = config.churn.lost_after_days
        self.missing = no_column(_RISK_COLUMNS, self.customers, _("the churn watch"))
        if self.missing is None:
            bought = self.customers["frequency"].gt(0).to_numpy()
            silent = self.customers["recency_days"].to_numpy(dtype="float64", na_value=np.nan)
            self._reachable = bought & (silent <= self.lost_after_days)  # NaN compares False
        else:
            bought = self._reachable = np.zeros(len(self.customers), dtype=bool)
        self.buyers = self.customers.loc[bought]
        self.reachable = self.customers.loc[self._reachable]
        self.backtest_facts = data.meta.churn
        self.value_facts = data.meta.value
        self.horizon_days = self.backtest_facts.horizon_days or config.churn.horizon_days
        self.money = render.money(self.currency)

    @classmethod
    def from_config(cls, config: Config, language: str = "") -> ChurnStudy:
        """The churn watch in `language` ("": the config's ``study.language``)."""
        return cls(open_study(config, language), config)

    def opening(self) -> first_screen.Opening:
        """The period, the findings (where the value at risk sits, what the backtests say) and the navigation."""
        return first_screen.opening(self.data, self.config, found.period(self.data), found.churn_findings(self.data),
                                    "churn.html")

    def heading(self) -> render.Heading:
        """Title of the page."""
        meta = self.meta
        return render.Heading(
            _("{title}: churn watch").format(title=meta.title),
            _(
                "Observation date {date} · churn = no completed order in the next {days} days · amounts in {currency}"
            ).format(date=meta.observation_date, days=self.horizon_days, currency=self.currency),
        )

    @property
    def scored(self) -> bool:
        """Whether the churn model scored the buyers (False when the backtest was skipped)."""
        return self.missing is None and self.buyers["churn_probability"].notna().any()

    def _value_basis(self) -> str | None:
        """What "value" means in this run (study.json ``value.basis``, a fact), in the report
        language; the words of an older study.json as they are written; None without it."""
        return words.value_basis(self.value_facts.basis) or None

    def _value_warnings(self, reasons: Sequence[str]) -> list[render.Notice]:
        """The value warnings of some reasons (custseg.segment.value_backtest.warnings) as notices."""
        return value_study.notices(self.value_facts.warnings, reasons)

    def _skipped(self) -> render.Notice:
        """Why there are no churn probabilities, in the pipeline's words."""
        note = words.churn_model_note(self.backtest_facts.note)
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
        names = {geo.UNKNOWN: _("Unknown")}
        if i18n.current() == "zh":
            names.update(region_names(self.customers, self.meta.region_level))
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
            (_("… not yet lost (silent {days} days or less)").format(days=self.lost_after_days),
             render.integer(len(reachable))),
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
        watch = self.meta.watch_list
        if watch is None:  # study.json of an older run: count the table instead
            table = self.data.tables.get("watch_list")
            watch = None if table is None else len(table)
        rows.append((_("Customers on the watch list"), "–" if watch is None else render.integer(watch)))
        basis = self._value_basis()
        if basis:
            notices.insert(0, render.Notice(_("Value here means {basis}.").format(basis=basis)))
            # the warnings the value carries, in one sentence beside its total
            warned = value_study.headline_notice(self.value_facts.warnings)
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
        by_region = self._risk_table(self.customers["region"], [], _("Region"), geo.UNKNOWN, self._region_label())
        by_region = by_region.sort_values([names["at_risk"], names["warned"]], ascending=False, na_position="last")
        tiers = list(self.meta.tiers)
        tier_names = {**{tier: i18n.label("tier", tier) for tier in tiers}, _NO_TIER: _("No tier (no purchase)")}
        by_tier = self._risk_table(self.customers["tier"], tiers, _("Tier"), _NO_TIER, tier_names)
        items: list[object] = [
            render.Table(by_region, _("Churn risk by region, largest value at risk first"), self._risk_formats()),
            render.Table(by_tier, _("Churn risk by value tier"), self._risk_formats()),
        ]
        if not self.scored:
            items.insert(0, self._skipped())
            return tuple(items)
        items.insert(1, figures.region_chart(by_region[names["at_risk"]].dropna(), self.currency))
        return (*items, *self._stand_in_notice())

    def _stand_in_notice(self) -> list[render.Notice]:
        """Where value at risk is shown: what the value is, when it is the observed stand-in
        (the value models were not fitted); the predicted CLV is said once, in the key figures."""
        basis = self._value_basis()
        if self.value_facts.fitted is not False or not basis:
            return []
        return [render.Notice(_("Value here means {basis}.").format(basis=basis))]

    @staticmethod
    def _rule_texts(rules: pd.DataFrame) -> list[str]:
        """When each rule fires, in the report language, from the figures the pipeline wrote
        (churn_rules.parquet); the table of an older custseg held English sentences, shown as
        they are written."""
        if "figures" not in rules:
            return rules["fires_when"].astype("str").tolist()
        return [words.churn_rule(rule, figures) for rule, figures in zip(rules["rule"], rules["figures"])]

    @section(
        N_("The warning rules"),
        N_(
            "Four rules a person can check by hand flag buyers not yet lost; a customer can be flagged by several. "
            "The watch list shows each customer's own figures behind the flag."
        ),
    )
    def warning_rules(self) -> render.Section:
        """The rules in words with the configured numbers, and how many customers each flags."""
        rules = self.data.table("churn_rules")
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
                    "Of {base:,} buyers not yet lost, {warned:,} have at least one warning and {several:,} have two or "
                    "more."
                ).format(base=base, warned=int(counts.gt(0).sum()), several=int(counts.ge(2).sum()))
            ))
        return tuple(items)

    def _judged_on(self, metrics: pd.DataFrame) -> str:
        """The population the model was chosen on, as the choice records it; else the rule of
        :func:`custseg.segment.churn.backtest` (buyers not yet lost when both outcomes occur)."""
        choice = self.backtest_facts.choice
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
        metrics = self.data.table("churn_metrics")
        if metrics is None:
            note = words.churn_model_note(self.backtest_facts.note)
            if note:
                return render.Notice(_("The churn model was not backtested: {note}.").format(note=note), kind="info")
            reasons = {w.get("reason") for w in self.backtest_facts.warnings}
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
        chosen = str(chosen.iloc[0]) if len(chosen) else self.backtest_facts.chosen
        items: list[object] = []
        facts = self.backtest_facts
        training = facts.training_origins
        if training:
            items.append(render.Notice(
                _(
                    "Trained on the buyers as they were at {count} dates from {first} to {last}, {step} days apart, "
                    "each labelled by whether they bought in the {days} days after; tested the same way on "
                    "{validation_date}. Chosen: {choice}. The chosen model was then refitted with {validation_date} "
                    "too."
                ).format(
                    count=len(training), first=training[-1], last=training[0], step=self.config.churn.origin_step_days,
                    days=self.horizon_days, validation_date=facts.validation_date,
                    choice=_candidate_sentence(facts.choice),
                )
            ))
        elif facts.validation_date:  # study.json of a run before the backtest had several dates
            items.append(render.Notice(
                _(
                    "Trained on the buyers as they were on {train_date}, labelled by whether they bought in the "
                    "{days} days after; tested the same way on {validation_date}. Chosen: {choice}."
                ).format(
                    train_date=facts.train_date, days=self.horizon_days, validation_date=facts.validation_date,
                    choice=_candidate_sentence(facts.choice),
                )
            ))
        if facts.seasonal:
            items.append(render.Notice(_(
                "The dates span a whole year, so the time of year is one of the model's inputs: the coming window's "
                "season is learnt from the same weeks a year before."
            )))
        items.extend(churn_warnings(self.data))
        for population in (judged, *[p for p in churn.POPULATIONS if p != judged]):
            rows = metrics.loc[metrics["population"].eq(population)]
            if rows.empty:
                continue
            items.append(figures.metric_table(rows, population, population == judged))
        items.append(figures.lift_notice(metrics.loc[metrics["population"].eq(judged)], chosen, judged))
        calibration = self.data.table("churn_calibration")
        if calibration is None:
            items.append(render.Notice(
                _("The processed data has no calibration table, so the calibration chart is not shown."), kind="info",
            ))
        else:
            items.append(figures.calibration_chart(calibration, chosen, judged))
        importance = self.data.table("churn_importance")
        if importance is None:
            items.append(render.Notice(
                _("The processed data has no feature importances, so they are not shown."), kind="info",
            ))
        else:
            items.append(figures.importance_chart(importance, chosen, judged))
        return tuple(items)

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
        if "feedback" not in self.meta.inputs:
            return render.Notice(
                _("This study has no feedback table (inputs.feedback), so satisfaction and NPS cannot be related to "
                  "churn."),
                kind="info",
            )
        needed = ["satisfaction_latest", "nps_class"]
        missing = self.missing or no_column(needed, self.customers, _("satisfaction and churn"))
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
        formats = {
            names["buyers"]: render.integer, names["probability"]: render.percent, names["warned"]: render.percent,
        }
        items: list[object] = []
        if self.scored and (by_score.index != _NO_FEEDBACK).any():
            rated = by_score.drop(index=_NO_FEEDBACK, errors="ignore")[names["probability"]]
            items.append(figures.satisfaction_chart(rated, float(self.reachable["churn_probability"].mean())))
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
        return {
            "buyers": _("Buyers not yet lost"), "probability": _("Mean churn probability"),
            "warned": _("Share with warnings"),
        }

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

    @section(
        N_("Customer value"),
        N_(
            "What the buyers are expected to spend. P(alive) is the value model's probability that a repeat buyer "
            "still buys at all; CLV is the expected revenue over the value horizon, discounted."
        ),
    )
    def customer_value(self) -> render.Section:
        """P(alive) of repeat buyers (histogram), one-time buyers counted apart, CLV by tier and the model's note;
        the section is the target of the navigation's "Customer value" link."""
        items = self._customer_value()
        return (first_screen.Anchor(first_screen.VALUE), *(items if isinstance(items, tuple) else (items,)))

    def _customer_value(self) -> object:
        missing = self.missing or no_column(["one_time_buyer", "p_alive", "clv"], self.customers, _("customer value"))
        if missing:
            return missing
        items: list[object] = []
        fitted = self.value_facts.fitted
        fitted = bool(self.buyers["clv"].notna().any()) if fitted is None else fitted
        basis = self._value_basis()
        if not fitted:
            if basis:
                text = _("The value models could not be fitted, so P(alive) and CLV are not shown; value here means "
                         "{basis}.")
            else:
                text = _("The value models could not be fitted, so P(alive) and CLV are not shown.")
            items.append(render.Notice(text.format(basis=basis), kind="warning"))
        else:
            repeated = ~self.buyers["one_time_buyer"].astype("bool") & self.buyers["p_alive"].notna()
            repeat = self.buyers.loc[repeated, "p_alive"]
            if len(repeat):
                items.append(figures.alive_chart(repeat))
            # what P(alive) is worth stands right under its chart; then how it parts from the churn model
            items += self._value_warnings(value_study.ALIVE_REASONS)
            if len(repeat):
                items += self._alive_and_watched(repeat)
            items.append(self._one_time_notice())
            above = int(self.value_facts.order_values_above_history or 0)
            if above:
                mean_value = self._mean_order_value()
                if self.value_facts.cap_order_value:
                    text = _(
                        "For {count:,} buyers the model's expected order value was above their largest order so far, "
                        "and is capped there (value.cap_order_value). Gamma-Gamma pulls one-time and occasional buyers "
                        "towards the mean order value of all buyers{mean}."
                    )
                else:
                    text = _(
                        "For {count:,} buyers the expected order value is above their largest order so far: "
                        "Gamma-Gamma pulls one-time and occasional buyers towards the mean order value of all "
                        "buyers{mean}, as a first small order says little about the next. Set value.cap_order_value to "
                        "cap it at their largest order; that ranks future spenders a little better and predicts less "
                        "revenue in total."
                    )
                items.append(render.Notice(text.format(count=above, mean=mean_value)))
        items.append(self._value_by_tier("clv" if fitted else "value"))
        items += self._value_warnings(value_study.VALUE_REASONS)
        note = words.value_note(self.value_facts.note)
        if note:
            items.append(render.Notice(_("About the value model: {note}.").format(note=note), kind="info"))
        return tuple(items)

    def _alive_and_watched(self, repeat: pd.Series) -> list[render.Notice]:
        """How many repeat buyers on the watch list the value model still thinks likely alive, and why
        the two models may part (none when no one is on both)."""
        watch = self.data.table("watch_list")
        if watch is None or "customer_id" not in watch:
            return []
        ids = self.buyers.loc[repeat.index, "customer_id"]
        watched = repeat.loc[ids.isin(watch["customer_id"]).to_numpy()]
        alive = int(watched.ge(ALIVE_ENOUGH).sum())
        if not alive:
            return []
        text = ngettext(
            "{alive:,} of the {watched:,} repeat buyer on the watch list still has a P(alive) of {level} or more.",
            "{alive:,} of the {watched:,} repeat buyers on the watch list still have a P(alive) of {level} or more.",
            len(watched),
        ).format(alive=alive, watched=len(watched), level=render.percent(ALIVE_ENOUGH))
        why = _(
            "The two models answer different questions: P(alive) reads a buyer's own rhythm of purchases, the churn "
            "probability compares their recent behaviour with customers who left before. A buyer who bought on a "
            "few days and has been silent for long can look alive to the first and like a leaver to the second."
        )
        return [render.Notice(f"{text} {why}")]

    def _one_time_notice(self) -> render.Notice:
        """How one-time buyers' P(alive) is shown: apart under BG/NBD (1 by definition), as the
        model's estimate under MBG/NBD."""
        once = self.buyers["one_time_buyer"].astype("bool")
        if self.value_facts.model.get("model") == "mbgnbd":
            alive = self.buyers.loc[once, "p_alive"]
            return render.Notice(_(
                "{count:,} one-time buyers are not in the chart. The MBG/NBD model lets a customer drop out right "
                "after the first purchase, so their P(alive) is the model's estimate (mean {mean}), but it rests on "
                "one purchase; judge them by their churn probability too, which also sees contacts and feedback."
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
        if not self.value_facts.fitted:
            basis = self._value_basis()
            return render.Notice(
                _(
                    "The value models could not be fitted, so there is nothing to backtest; value here means {basis}."
                ).format(basis=basis or "–"),
                kind="warning",
            )
        return value_study.backtest_items(
            self.value_facts, self.data.table("value_backtest"), self.data.table("value_candidates"), self.money,
            self.meta.observation_date,
        )

    def _mean_order_value(self) -> str:
        """The Gamma-Gamma mean order value as " (money)", or "" when it is not known."""
        params = self.value_facts.parameters
        p, q, v = (params.get(k) for k in ("p", "q", "v"))
        if p is None or q is None or v is None or q <= 1:
            return ""
        return _(" ({money})").format(money=self.money(p * v / (q - 1.0)))

    def _value_by_tier(self, column: str) -> render.Table:
        """Buyers, total, mean and share of `column` ("clv" or "value") per tier, in tier order."""
        days = self.value_facts.days or self.config.value.horizon_days
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
        order = [*self.meta.tiers, *sorted(set(table.index) - set(self.meta.tiers))]
        table = table.reindex([tier for tier in order if tier in table.index])
        formats = {buyers_name: render.integer, total: self.money, share: render.percent, mean: self.money,
                   alive: render.percent}
        backtest = self.value_facts.backtest or {}
        ratios = value_study.backtest_ratios(self.data.table("value_backtest"))
        if column == "clv" and len(ratios):
            # each tier's backtest figure beside its value: how far that kind of number held before
            checked = _("Backtest: predicted ÷ actual revenue over {days} days (tiers as on {cutoff})").format(
                days=backtest.get("days", ""), cutoff=backtest.get("cutoff", ""))
            table[checked] = ratios.reindex(table.index).to_numpy()
            formats[checked] = render.percent
        shown = {**{tier: i18n.label("tier", tier) for tier in self.meta.tiers}, _UNKNOWN: _("Unknown")}
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
        watch = self.data.table("watch_list")
        if watch is None:
            if "watch_list" in self.data.tables:
                return render.Notice(_(
                    "The watch list is empty: no buyer who is not yet lost has a warning or a churn probability at or "
                    "above the expected rate."
                ))
            return render.Notice(
                _(
                    "The processed data has no watch list (watch_list.parquet). Run `custseg process --force` with "
                    "this custseg version to write it."
                ),
                kind="warning",
            )
        columns = [column for column in _WATCH_COLUMNS if column in watch]
        # the whole list is worded as the page's top of it is: the table's CSV download holds it all
        top = watch.sort_values("rank")[columns]
        if "reasons" in top:
            # the pipeline keeps reasons as facts, worded here in the report language (the export,
            # one file for all readers, in English); a user's own action text stays as written
            top = top.assign(reasons=top["reasons"].map(words.churn_reasons).replace(
                "", _("none: churn probability at or above the expected rate")))
        if "action" in top:
            top = top.assign(action=top["action"].map(_, na_action="ignore"))
        if self.data.meta.mask_ids and "customer_id" in top:
            top = top.assign(customer_id=top["customer_id"].map(render.mask_id))
        labels = {
            "region": self._region_label(),
            "tier": (
                {tier: i18n.label("tier", tier) for tier in top["tier"].dropna().astype("str")} if "tier" in top else {}
            ),
            "segment": segment_names(self.customers),
        }
        top = top.assign(**{
            column: top[column].map(lambda value, names=names: names.get(value, value), na_action="ignore")
            for column, names in labels.items() if column in top and names
        })
        headings = {column: _(heading) for column, heading in _WATCH_COLUMNS.items()}
        everyone = top.rename(columns=headings)
        shown = everyone.head(WATCH_ROWS)
        table = render.Table(
            shown,
            ngettext(
                "The {count} customer with the most value at risk", "The {count} customers with the most value at risk",
                len(shown),
            ).format(count=len(shown)),
            {headings["rank"]: render.integer, headings["churn_probability"]: render.percent,
             headings["value"]: self.money, headings["value_at_risk"]: self.money},
            download=everyone,
        )
        if watch["value_at_risk"].notna().any():
            text = _(
                "The full list of {count} customers, ranked by value at risk, with the recommended action for each, "
                "is the table's CSV download (UTF-8, opens in Excel)."
            )
        else:
            text = _(
                "The full list of {count} customers, ranked by number of warnings, then value (no churn model), with "
                "the recommended action for each, is the table's CSV download (UTF-8, opens in Excel)."
            )
        basis = self._value_basis()
        said = [render.Notice(_("Value in this list means {basis}.").format(basis=basis))] if basis else []
        return (table, render.Notice(text.format(count=render.integer(len(watch)))), *said)


def _candidate_sentence(choice: Mapping | str | None) -> str:
    """The backtest's choice ('logistic regression: validation ROC AUC 0.734 vs recency only (baseline)
    0.640 (all buyers)') with readable candidate names, in the report language."""
    names = {candidate: candidate_label(candidate).lower() for candidate in CANDIDATE_NAMES}
    return words.model_choice(choice, names) or _("none")
