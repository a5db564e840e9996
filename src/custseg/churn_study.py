"""Sections of the churn watch study: who is at risk, how the warning was tested, what they are worth.

The study reads what the pipeline wrote (:mod:`custseg.retention` joined the churn warnings, the
churn probability and the customer value onto the customer table; :mod:`custseg.churn` wrote
the backtest tables and the watch list) and computes nothing but sums, means and counts. Like
the other studies (:mod:`custseg.studies`) a notebook makes one :class:`ChurnStudy` and calls one
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

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

from custseg import churn, render
from custseg.config import Config
from custseg.paths import PROJECT_ROOT
from custseg.studies import ProcessedData, _extra, _no_column, section

#: Readable names of the churn model's features (custseg.churn.MODEL_FEATURES), for charts.
FEATURE_NAMES: dict[str, str] = {
    "recency_days": "Days since last order",
    "frequency": "Orders to date",
    "monetary": "Revenue to date",
    "aov": "Average order value",
    "tenure_days": "Days as a customer",
    "cadence_days": "Usual days between orders",
    "last_gap_days": "Days between the last two orders",
    "orders_90d": "Orders, last 90 days",
    "orders_prev_90d": "Orders, the 90 days before",
    "revenue_90d": "Revenue, last 90 days",
    "revenue_prev_90d": "Revenue, the 90 days before",
    "trend_90d": "Revenue trend, last 90 days against the 90 before",
    "refunded_orders": "Refunded or returned orders",
    "return_rate": "Share of orders refunded or returned",
    "interactions_30d": "Contacts, last 30 days",
    "interactions_90d": "Contacts, last 90 days",
    "interactions_365d": "Contacts, last 365 days",
    "last_interaction_days": "Days since last contact",
    "feedback_count": "Feedback answers",
    "satisfaction_mean": "Mean satisfaction",
    "satisfaction_latest": "Latest satisfaction",
    "satisfaction_trend": "Latest satisfaction against earlier average",
    "nps_latest": "Latest NPS answer",
    "silence_ratio": "Silence against own cadence",
}

#: Readable names of the backtest candidates.
CANDIDATE_NAMES: dict[str, str] = {
    churn.BASELINE: "Recency only (baseline)",
    "logistic": "Logistic regression",
    "gradient_boosting": "Gradient boosting",
}

#: Short names of the warning rules (custseg.churn.RULES).
RULE_NAMES: dict[str, str] = {
    "warn_silence": "Silence",
    "warn_trend": "Falling orders",
    "warn_satisfaction": "Low or falling satisfaction",
    "warn_interactions": "Fewer contacts",
}

#: Rows of the watch list shown on the page; the full list is in the export.
WATCH_ROWS = 25

#: Columns of the watch list shown on the page, with their headings. Chosen by name, so a
#: column added to the export later (a name, an e-mail) never reaches the page by accident.
_WATCH_COLUMNS = {
    "rank": "Rank", "customer_id": "Customer", "region": "Region", "tier": "Tier", "segment": "Segment",
    "churn_probability": "Churn probability", "value": "Value", "value_at_risk": "Value at risk",
    "reasons": "Warnings", "action": "Recommended action",
}

_NPS_ORDER = ("promoter", "passive", "detractor")
_RISK_COLUMNS = ("frequency", "recency_days", "warning_count", "churn_probability", "value", "value_at_risk")
_NO_FEEDBACK = "No feedback"


class ChurnStudy:
    """The churn watch study over the whole customer base.

    Parameters
    ----------
    data
        What :func:`custseg.studies.load` reads.
    config
        The study config (``churn.lost_after_days`` and the exports folder).
    """

    def __init__(self, data: ProcessedData, config: Config) -> None:
        self.data, self.config = data, config
        self.meta = data.meta
        self.currency = data.meta["base_currency"]
        self.customers = data.customers
        self.lost_after_days = config.churn.lost_after_days
        self.missing = _no_column(_RISK_COLUMNS, self.customers, "the churn watch")
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
            f"{meta['title']}: churn watch",
            f"Observation date {meta['observation_date']} · churn = no completed order in the next "
            f"{self.horizon_days} days · amounts in {self.currency}",
        )

    @property
    def scored(self) -> bool:
        """Whether the churn model scored the buyers (False when the backtest was skipped)."""
        return self.missing is None and self.buyers["churn_probability"].notna().any()

    def _skipped(self) -> render.Notice:
        """Why there are no churn probabilities, in the pipeline's words."""
        note = self.backtest_facts.get("note") or ""
        if note:
            return render.Notice(
                f"The churn model was not used: {note}. Churn probabilities and value at risk are therefore "
                f"not shown; the warnings still are.",
                kind="warning",
            )
        return render.Notice(
            "The processed data has no churn probabilities and no reason recorded for it. Run "
            "`custseg process --force` with this custseg version to score the customers.",
            kind="warning",
        )

    @section("Key figures", "Who is at risk of leaving, and what they are worth. Customers silent for longer than the lost-after limit are counted as lost: past saving, they get no warnings and are left out of the expected churners.")
    def headline(self) -> render.Section:
        """Buyers scored, warnings, expected churners, value at risk and the watch list size."""
        if self.missing is not None:
            return self.missing
        buyers, reachable = self.buyers, self.reachable
        warned = int(reachable["warning_count"].gt(0).sum())
        share = lambda part, whole: f" ({render.percent(part / whole)})" if whole else ""  # noqa: E731
        rows = [
            ("Customers with purchases", render.integer(len(buyers))),
            ("… scored by the churn model", render.integer(int(buyers["churn_probability"].notna().sum()))),
            (f"… not yet lost (silent {self.lost_after_days} days or less)", render.integer(len(reachable))),
            ("Customers with at least one warning", render.integer(warned) + share(warned, len(reachable))),
        ]
        notices = []
        if self.scored:
            expected = float(reachable["churn_probability"].sum())
            at_risk = float(buyers["value_at_risk"].sum())
            worth = float(buyers["value"].sum())
            rows += [
                (f"Expected churners in the next {self.horizon_days} days (not yet lost)",
                 render.integer(round(expected)) + share(expected, len(reachable))),
                ("Value of the customer base", self.money(worth)),
                ("Value at risk (value x churn probability)", self.money(at_risk) + share(at_risk, worth)),
            ]
        else:
            notices.append(self._skipped())
        watch = self.meta.get("watch_list")
        if watch is None:  # study.json of an older run: count the table instead
            table = getattr(self.data, "tables", {}).get("watch_list")
            watch = None if table is None else len(table)
        rows.append(("Customers on the watch list", "–" if watch is None else render.integer(watch)))
        basis = self.value_facts.get("basis")
        if basis:
            notices.insert(0, render.Notice(f"Value here means {basis}."))
        table = render.Table(pd.DataFrame(rows, columns=["Measure", "Value"]), "Churn watch: key figures", numeric=["Value"])
        return (table, *notices)

    def _risk_table(self, labels: pd.Series, order: Sequence[str], name: str, unlabelled: str) -> pd.DataFrame:
        """Customers, warnings, mean churn probability (not yet lost) and value at risk per label.

        `labels` is aligned with the customer table; customers without a label are grouped as
        `unlabelled` so the rows add up to the whole table.
        """
        customers = self.customers
        reachable = self._reachable
        frame = pd.DataFrame({
            "label": labels.astype("object").fillna(unlabelled).astype("str").to_numpy(),
            "warned": customers["warning_count"].gt(0).to_numpy(),
            "probability": customers["churn_probability"].where(reachable).to_numpy(dtype="float64", na_value=np.nan),
            "at_risk": customers["value_at_risk"].to_numpy(dtype="float64", na_value=np.nan),
        })
        grouped = frame.groupby("label")
        table = pd.DataFrame({
            "Customers": grouped.size(),
            "With warnings": grouped["warned"].sum().astype("int64"),
            "Mean churn probability": grouped["probability"].mean(),
            # min_count: without scores the sum is missing, not a reassuring zero
            "Value at risk": grouped["at_risk"].sum(min_count=1),
        })
        total = table["Value at risk"].sum(min_count=1)
        table = table.assign(**{"Share of value at risk": table["Value at risk"] / total if total else np.nan})
        if order:
            table = table.reindex([*order, *sorted(set(table.index) - set(order))]).dropna(subset=["Customers"])
            table = table.astype({"Customers": "int64", "With warnings": "int64"})
        table.index.name = name
        return table

    def _risk_formats(self) -> dict:
        return {
            "Customers": render.integer, "With warnings": render.integer, "Mean churn probability": render.percent,
            "Value at risk": self.money, "Share of value at risk": render.percent,
        }

    @section("At risk by region and tier", "Value at risk is each customer's value times their churn probability, summed. The mean churn probability is over buyers not yet lost; customers and warnings count everyone.")
    def at_risk(self) -> render.Section:
        """Per region (by value at risk) and per tier (in tier order): customers, warnings, risk;
        with a bar chart of value at risk by region."""
        if self.missing is not None:
            return self.missing
        regions = self._risk_table(self.customers["region"], [], "Region", "Unknown")
        regions = regions.sort_values(["Value at risk", "With warnings"], ascending=False, na_position="last")
        tiers = self._risk_table(self.customers["tier"], list(self.meta["tiers"]), "Tier", "No tier (no purchase)")
        items: list[object] = [
            render.Table(regions, "Churn risk by region, largest value at risk first", self._risk_formats()),
            render.Table(tiers, "Churn risk by value tier", self._risk_formats()),
        ]
        if not self.scored:
            items.insert(0, self._skipped())
            return tuple(items)
        items.insert(1, self._region_chart(regions["Value at risk"].dropna()))
        return tuple(items)

    def _region_chart(self, at_risk: pd.Series) -> render.Chart:
        """Horizontal bars of value at risk per region, largest on top."""
        fig = render.new_figure(7.0, 0.9 + 0.28 * len(at_risk))
        ax = fig.subplots()
        shown = at_risk.iloc[::-1]  # barh draws from the bottom up
        ax.barh(shown.index.astype("str"), shown.to_numpy(), color=render.sns.color_palette(render.PALETTE, 1)[0])
        ax.set(title="Value at risk by region", xlabel=f"Value at risk ({self.currency})", ylabel="")
        ax.xaxis.set_major_locator(MaxNLocator(nbins=4))  # long amounts: few ticks, or the labels collide
        render.thousands_axis(ax.xaxis)
        total = at_risk.sum()
        top = at_risk.index[0]
        return render.Chart(
            fig, "Value at risk by region",
            f"Horizontal bar chart of value at risk in {len(at_risk)} regions, largest first: {top} has the most, "
            f"{at_risk.iloc[0]:,.0f} {self.currency} ({at_risk.iloc[0] / total:.0%} of the total), and "
            f"{at_risk.index[-1]} the least, {at_risk.iloc[-1]:,.0f} {self.currency}.",
        )

    @section("The warning rules", "Four rules a person can check by hand flag buyers not yet lost; a customer can be flagged by several. The watch list shows each customer's own figures behind the flag.")
    def warning_rules(self) -> render.Section:
        """The rules in words with the configured numbers, and how many customers each flags."""
        rules = _extra(self.data, "churn_rules")
        if rules is None:
            return render.Notice(
                "The processed data has no warning rules table (churn_rules.parquet). Run `custseg process "
                "--force` with this custseg version to write it.",
                kind="warning",
            )
        present = [rule for rule in churn.RULES if rule in self.customers]
        flagged = self.reachable[present].sum() if present else pd.Series(dtype="int64")
        base = len(self.reachable)
        table = pd.DataFrame({
            "Rule": rules["rule"].map(RULE_NAMES).fillna(rules["rule"]).to_numpy(),
            "Fires when": rules["fires_when"].to_numpy(),
            "Customers flagged": rules["rule"].map(flagged).to_numpy(dtype="float64", na_value=np.nan),
        })
        table = table.assign(**{"Share of buyers not yet lost": table["Customers flagged"] / base if base else np.nan})
        items: list[object] = [render.Table(
            table, "Warning rules and the customers each flags",
            {"Customers flagged": render.integer, "Share of buyers not yet lost": render.percent},
        )]
        if "warning_count" in self.customers:
            counts = self.reachable["warning_count"]
            items.append(render.Notice(
                f"Of {base:,} buyers not yet lost, {int(counts.gt(0).sum()):,} have at least one warning and "
                f"{int(counts.ge(2).sum()):,} have two or more."
            ))
        return tuple(items)

    def _judged_on(self, metrics: pd.DataFrame) -> str:
        """The population the model was chosen on: named at the end of the choice sentence; else
        the rule of :func:`custseg.churn.backtest` (buyers not yet lost when both outcomes occur)."""
        choice = self.backtest_facts.get("choice") or ""
        for population, words in churn.POPULATIONS.items():
            if choice.endswith(f"({words})"):
                return population
        not_lost = metrics.loc[metrics["population"].eq("not_lost"), "roc_auc"]
        return "not_lost" if len(not_lost) and not_lost.notna().all() else "buyers"

    @section("How the warning performed in the backtest", "The models were trained on the customers as they were at one past date and tested on a later date, whose outcome is known by now. ROC AUC is the chance that a churner is ranked above a customer who stayed (0.5 = guessing). The recency-only baseline ranks by days since the last order: a model is used only if it beats it.")
    def backtest(self) -> render.Section:
        """Metrics per candidate (population the choice was made on, then all buyers), the choice,
        the top-decile lift against the baseline, a calibration chart and the feature importances."""
        metrics = _extra(self.data, "churn_metrics")
        if metrics is None:
            note = self.backtest_facts.get("note") or ""
            if note:
                return render.Notice(f"The churn model was not backtested: {note}.", kind="info")
            return render.Notice(
                "The processed data has no backtest tables (churn_metrics.parquet). Run `custseg process --force` "
                "with this custseg version to write them.",
                kind="warning",
            )
        judged = self._judged_on(metrics)
        chosen = metrics.loc[metrics["chosen"], "candidate"]
        chosen = str(chosen.iloc[0]) if len(chosen) else self.backtest_facts.get("chosen")
        items: list[object] = []
        facts = self.backtest_facts
        if facts.get("validation_date"):
            items.append(render.Notice(
                f"Trained on the buyers as they were on {facts['train_date']}, labelled by whether they bought in the "
                f"{self.horizon_days} days after; tested the same way on {facts['validation_date']}. "
                f"Chosen: {_candidate_sentence(facts.get('choice', ''))}."
            ))
        for population in (judged, *[p for p in churn.POPULATIONS if p != judged]):
            rows = metrics.loc[metrics["population"].eq(population)]
            if rows.empty:
                continue
            items.append(self._metric_table(rows, population, population == judged))
        items.append(self._lift(metrics.loc[metrics["population"].eq(judged)], chosen, judged))
        calibration = _extra(self.data, "churn_calibration")
        if calibration is None:
            items.append(render.Notice("The processed data has no calibration table, so the calibration chart is not shown.", kind="info"))
        else:
            items.append(self._calibration_chart(calibration, chosen, judged))
        importance = _extra(self.data, "churn_importance")
        if importance is None:
            items.append(render.Notice("The processed data has no feature importances, so they are not shown.", kind="info"))
        else:
            items.append(self._importance_chart(importance, chosen, judged))
        return tuple(items)

    def _metric_table(self, rows: pd.DataFrame, population: str, judged: bool) -> render.Table:
        """The backtest figures of one population, chosen candidate marked."""
        first = rows.iloc[0]
        table = pd.DataFrame({
            "Candidate": rows["candidate"].map(CANDIDATE_NAMES).fillna(rows["candidate"]).to_numpy(),
            "ROC AUC": rows["roc_auc"].to_numpy(),
            "PR AUC": rows["pr_auc"].to_numpy(),
            "Churned in top 10%": rows["top_decile_precision"].to_numpy(),
            "Top-decile lift": rows["top_decile_lift"].to_numpy(),
            "Brier score": rows["brier"].to_numpy(),
            "Chosen": rows["chosen"].map({True: "✓ chosen", False: ""}).to_numpy(),
        })
        three = lambda value: f"{value:.3f}"  # noqa: E731
        words = churn.POPULATIONS.get(population, population)
        how = "the model was chosen on these" if judged else "for comparison"
        title = (f"Backtest on {words} ({how}): {int(first['n']):,} customers, "
                 f"{first['base_rate']:.0%} of whom churned")
        return render.Table(
            table, title,
            {"ROC AUC": three, "PR AUC": three, "Churned in top 10%": render.percent,
             "Top-decile lift": lambda value: f"{value:.2f}x", "Brier score": three},
        )

    def _lift(self, rows: pd.DataFrame, chosen: str | None, population: str) -> render.Notice:
        """The chosen candidate's top decile against the baseline's, in one sentence."""
        by = rows.set_index("candidate")
        words = churn.POPULATIONS.get(population, population)
        if chosen not in by.index or pd.isna(by.loc[chosen, "top_decile_precision"]):
            return render.Notice(f"The backtest has no top-decile figures for {words}.", kind="info")
        mine = by.loc[chosen]
        sentence = (
            f"Of the 10% of {words} that {CANDIDATE_NAMES.get(chosen, chosen).lower()} rated most likely to churn, "
            f"{mine['top_decile_precision']:.0%} did, {mine['top_decile_lift']:.2f} times the base rate of "
            f"{mine['base_rate']:.0%}"
        )
        if chosen == churn.BASELINE:
            return render.Notice(sentence + ". No model beat recency, so the scores rank customers by days since the last order.")
        if churn.BASELINE in by.index and pd.notna(by.loc[churn.BASELINE, "roc_auc"]):
            base = by.loc[churn.BASELINE]
            sentence += (
                f"; ranking by recency alone finds {base['top_decile_precision']:.0%} ({base['top_decile_lift']:.2f} times). "
                f"ROC AUC {mine['roc_auc']:.3f} against {base['roc_auc']:.3f} for the baseline"
            )
        return render.Notice(sentence + ".")

    def _calibration_chart(self, calibration: pd.DataFrame, chosen: str | None, population: str) -> render.Chart | render.Notice:
        """Mean predicted against observed churn rate per bin, chosen candidate and baseline, with the diagonal."""
        words = churn.POPULATIONS.get(population, population)
        recalibrated = chosen + churn.RECALIBRATED if chosen else None
        candidates = list(dict.fromkeys(c for c in (chosen, recalibrated, churn.BASELINE) if c))
        shown = calibration.loc[calibration["population"].eq(population) & calibration["candidate"].isin(candidates)]
        if shown.empty:
            return render.Notice(f"The backtest has no calibration figures for {words}.", kind="info")
        fig = render.new_figure(5.0, 4.2)
        ax = fig.subplots()
        ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="Predicted = observed")
        described = []
        for candidate, marker in zip(candidates, ("o", "D", "s")):
            bins = shown.loc[shown["candidate"].eq(candidate)].sort_values("bin")
            if bins.empty:
                continue
            if candidate == recalibrated:
                name = CANDIDATE_NAMES.get(chosen, chosen) + ", recalibrated"
                label = name + " (the probabilities used)"
            else:
                name = CANDIDATE_NAMES.get(candidate, candidate)
                label = name + (" (chosen, before recalibration)" if candidate == chosen else "")
            ax.plot(bins["mean_predicted"], bins["observed_rate"], marker=marker, label=label)
            gap = np.average((bins["observed_rate"] - bins["mean_predicted"]).abs(), weights=bins["n"])
            top = bins.iloc[-1]
            described.append(
                f"{name.lower()}: predicted and observed rates differ by {100 * gap:.0f} percentage points on average; "
                f"its highest bin predicted {top['mean_predicted']:.0%} and {top['observed_rate']:.0%} churned"
            )
        ax.set(title=f"Calibration on {words}", xlabel="Mean predicted churn probability", ylabel="Share that churned",
               xlim=(0, 1), ylim=(0, 1.02))
        ax.xaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
        ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
        ax.legend(loc="upper left", frameon=False, fontsize=8)
        return render.Chart(
            fig, f"Predicted against observed churn, ten equal-size groups of {words}",
            "Line chart of the observed churn rate against the mean predicted probability in ten groups of customers, "
            "with a dashed diagonal where the two agree; " + "; ".join(described) + ".",
        )

    def _importance_chart(self, importance: pd.DataFrame, chosen: str | None, population: str) -> render.Chart:
        """The ten features whose shuffling costs the chosen model most ROC AUC."""
        top = importance.sort_values(["importance_mean", "feature"], ascending=[False, True]).head(10)
        names = top["feature"].map(FEATURE_NAMES).fillna(top["feature"].str.replace("_", " ").str.capitalize())
        fig = render.new_figure(7.0, 0.9 + 0.3 * len(top))
        ax = fig.subplots()
        ax.barh(names.to_numpy()[::-1], top["importance_mean"].to_numpy()[::-1], xerr=top["importance_std"].to_numpy()[::-1],
                color=render.sns.color_palette(render.PALETTE, 1)[0])
        model = CANDIDATE_NAMES.get(chosen, chosen or "the model")
        ax.set(title=f"What the {model.lower()} relies on", xlabel="Drop in ROC AUC when the feature is shuffled", ylabel="")
        listed = ", ".join(f"{name} ({value:.3f})" for name, value in zip(names.head(3), top["importance_mean"].head(3)))
        return render.Chart(
            fig, f"Permutation importance of the {len(top)} most important features, {churn.POPULATIONS.get(population, population)}",
            f"Horizontal bar chart of how much the validation ROC AUC of the {model.lower()} drops when each feature is "
            f"shuffled, top {len(top)} features; the three largest are {listed}.",
        )

    @section("Satisfaction and churn", "Churn probability and the share with warnings by each customer's latest satisfaction score and NPS class, for buyers not yet lost. The model and the satisfaction rule both read these scores, so this shows how the warning treats them, not separate proof that unhappy customers leave.")
    def satisfaction(self) -> render.Section:
        """Mean churn probability and share with warnings by latest satisfaction (1-5) and NPS class."""
        if "feedback" not in self.meta.get("inputs", ()):
            return render.Notice(
                "This study has no feedback table (inputs.feedback), so satisfaction and NPS cannot be related to churn.",
                kind="info",
            )
        missing = self.missing or _no_column(["satisfaction_latest", "nps_class"], self.customers, "satisfaction and churn")
        if missing:
            return missing
        reachable = self.reachable
        score = reachable["satisfaction_latest"].round().astype("Int64").astype("string")
        by_score = self._by_feedback(score, [str(n) for n in range(1, 6)], "Latest satisfaction (1-5)")
        nps = reachable["nps_class"].astype("string")
        by_nps = self._by_feedback(nps, list(_NPS_ORDER), "NPS class (latest answer)")
        by_nps.index = by_nps.index.map(lambda label: label if label == _NO_FEEDBACK else label.capitalize())
        formats = {"Buyers not yet lost": render.integer, "Mean churn probability": render.percent, "Share with warnings": render.percent}
        items: list[object] = []
        if self.scored and (by_score.index != _NO_FEEDBACK).any():
            items.append(self._satisfaction_chart(by_score))
        elif not self.scored:
            items.append(self._skipped())
        items += [
            render.Table(by_score, "Churn probability by latest satisfaction score", formats),
            render.Table(by_nps, "Churn probability by NPS class", formats),
        ]
        return tuple(items)

    def _by_feedback(self, labels: pd.Series, order: list[str], name: str) -> pd.DataFrame:
        """Buyers not yet lost, mean churn probability and share with warnings per label, customers
        without an answer last."""
        frame = pd.DataFrame({
            "label": labels.fillna(_NO_FEEDBACK).to_numpy(dtype=object),
            "probability": self.reachable["churn_probability"].to_numpy(dtype="float64", na_value=np.nan),
            "warned": self.reachable["warning_count"].gt(0).to_numpy(),
        })
        grouped = frame.groupby("label")
        table = pd.DataFrame({
            "Buyers not yet lost": grouped.size(),
            "Mean churn probability": grouped["probability"].mean(),
            "Share with warnings": grouped["warned"].mean(),
        })
        rows = [*order, *sorted(set(table.index) - {*order, _NO_FEEDBACK}), _NO_FEEDBACK]
        table = table.reindex([label for label in rows if label in table.index]).astype({"Buyers not yet lost": "int64"})
        table.index.name = name
        return table

    def _satisfaction_chart(self, by_score: pd.DataFrame) -> render.Chart:
        """Bars of mean churn probability per latest satisfaction score, with the mean of all buyers not yet lost."""
        rated = by_score.drop(index=_NO_FEEDBACK, errors="ignore")
        overall = float(self.reachable["churn_probability"].mean())
        fig = render.new_figure(6.0, 3.2)
        ax = fig.subplots()
        ax.bar(rated.index.astype("str"), rated["Mean churn probability"].to_numpy(), color=render.sns.color_palette(render.PALETTE, 1)[0])
        ax.axhline(overall, color="grey", linestyle="--", linewidth=1, label=f"All buyers not yet lost ({overall:.0%})")
        ax.set(title="Churn probability by latest satisfaction", xlabel="Latest satisfaction score (1 = worst, 5 = best)",
               ylabel="Mean churn probability", ylim=(0, 1))
        ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
        ax.legend(loc="upper right", frameon=False, fontsize=8)
        listed = ", ".join(f"score {label} {value:.0%}" for label, value in rated["Mean churn probability"].items())
        return render.Chart(
            fig, "Mean churn probability by latest satisfaction score",
            f"Bar chart of the mean churn probability of buyers not yet lost by their latest satisfaction score: {listed}; "
            f"the dashed line marks the mean of all buyers not yet lost, {overall:.0%}.",
        )

    @section("Customer value", "What the buyers are expected to spend. P(alive) is the value model's probability that a repeat buyer still buys at all; CLV is the expected revenue over the value horizon, discounted.")
    def customer_value(self) -> render.Section:
        """P(alive) of repeat buyers (histogram), one-time buyers counted apart, CLV by tier and the model's note."""
        missing = self.missing or _no_column(["one_time_buyer", "p_alive", "clv"], self.customers, "customer value")
        if missing:
            return missing
        items: list[object] = []
        fitted = bool(self.value_facts.get("fitted", self.buyers["clv"].notna().any()))
        basis = self.value_facts.get("basis")
        if not fitted:
            items.append(render.Notice(
                "The value models could not be fitted, so P(alive) and CLV are not shown"
                + (f"; value here means {basis}." if basis else "."),
                kind="warning",
            ))
        else:
            repeat = self.buyers.loc[~self.buyers["one_time_buyer"].astype("bool") & self.buyers["p_alive"].notna(), "p_alive"]
            if len(repeat):
                items.append(self._alive_chart(repeat))
            once = int(self.buyers["one_time_buyer"].astype("bool").sum())
            items.append(render.Notice(
                f"{once:,} one-time buyers are counted apart. In the BG/NBD model a customer can only drop out right "
                "after a repeat purchase, so for someone who bought once P(alive) is 1 by definition, whatever the "
                "silence since; it says nothing about them and is not shown. Judge them by their churn probability, "
                "which also sees contacts and feedback."
            ))
        column, what = ("clv", "CLV") if fitted else ("value", "Value")
        items.append(self._value_by_tier(column, what))
        note = self.value_facts.get("note") or ""
        if note:
            items.append(render.Notice(f"About the value model: {note}.", kind="info"))
        return tuple(items)

    def _alive_chart(self, p_alive: pd.Series) -> render.Chart:
        """Histogram of P(alive) of the repeat buyers."""
        fig = render.new_figure(6.0, 3.2)
        ax = fig.subplots()
        ax.hist(p_alive.to_numpy(), bins=np.linspace(0, 1, 21), color=render.sns.color_palette(render.PALETTE, 1)[0])
        ax.set(title="P(alive) of repeat buyers", xlabel="P(alive): probability the customer still buys", ylabel="Customers")
        ax.xaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
        render.thousands_axis(ax.yaxis)
        return render.Chart(
            fig, f"P(alive) of {len(p_alive):,} repeat buyers",
            f"Histogram of P(alive) of {len(p_alive):,} repeat buyers in 20 bins from 0% to 100%: median "
            f"{p_alive.median():.0%}, {p_alive.gt(0.9).mean():.0%} above 90% and {p_alive.lt(0.5).mean():.0%} below 50%.",
        )

    def _value_by_tier(self, column: str, what: str) -> render.Table:
        """Buyers, total, mean and share of `column` per tier, in tier order."""
        buyers = self.buyers
        frame = pd.DataFrame({
            "tier": buyers["tier"].astype("object").fillna("Unknown").astype("str").to_numpy(),
            "value": buyers[column].to_numpy(dtype="float64", na_value=np.nan),
            "alive": buyers["p_alive"].to_numpy(dtype="float64", na_value=np.nan),
        })
        grouped = frame.groupby("tier")
        table = pd.DataFrame({
            "Buyers": grouped.size(),
            f"Total {what}": grouped["value"].sum(min_count=1),
            f"Mean {what}": grouped["value"].mean(),
            "Mean P(alive), repeat buyers": grouped["alive"].mean(),
        })
        total = table[f"Total {what}"].sum(min_count=1)
        table.insert(2, f"Share of {what}", table[f"Total {what}"] / total if total else np.nan)
        order = [*self.meta["tiers"], *sorted(set(table.index) - set(self.meta["tiers"]))]
        table = table.reindex([tier for tier in order if tier in table.index])
        table.index.name = "Tier"
        return render.Table(
            table, f"{what} by value tier",
            {"Buyers": render.integer, f"Total {what}": self.money, f"Share of {what}": render.percent,
             f"Mean {what}": self.money, "Mean P(alive), repeat buyers": render.percent},
        )

    @section("Watch list", "The customers most worth a retention effort, by value at risk: buyers not yet lost with a warning, or with a churn probability at or above the expected rate. No names, e-mails or phone numbers: look customers up in the CRM by their id.")
    def watch_list(self) -> render.Section:
        """The top rows of the watch list and where the full list is."""
        watch = _extra(self.data, "watch_list")
        if watch is None:
            if "watch_list" in getattr(self.data, "tables", {}):
                return render.Notice("The watch list is empty: no buyer who is not yet lost has a warning or a churn probability at or above the expected rate.")
            return render.Notice(
                "The processed data has no watch list (watch_list.parquet). Run `custseg process --force` with this "
                "custseg version to write it.",
                kind="warning",
            )
        columns = [column for column in _WATCH_COLUMNS if column in watch]
        top = watch.sort_values("rank").head(WATCH_ROWS)[columns]
        if "reasons" in top:
            top = top.assign(reasons=top["reasons"].replace("", "none: churn probability at or above the expected rate"))
        if self.data.meta.get("mask_ids") and "customer_id" in top:
            top = top.assign(customer_id=top["customer_id"].map(render.mask_id))
        shown = top.rename(columns=_WATCH_COLUMNS)
        table = render.Table(
            shown, f"The {len(shown)} customers with the most value at risk",
            {"Rank": render.integer, "Churn probability": render.percent, "Value": self.money, "Value at risk": self.money},
        )
        path = self.config.output.exports / "churn_watchlist.csv"
        shown_path = path.relative_to(PROJECT_ROOT) if path.is_relative_to(PROJECT_ROOT) else path
        ranking = "value at risk" if watch["value_at_risk"].notna().any() else "number of warnings, then value (no churn model)"
        return table, render.Notice(
            f"The full list of {len(watch):,} customers, ranked by {ranking}, with the recommended action for each, "
            f"is in {Path(shown_path).as_posix()} (UTF-8, opens in Excel)."
        )


def _candidate_sentence(choice: str) -> str:
    """The backtest's choice sentence ('logistic: validation ROC AUC ...') with readable candidate names."""
    # one pass, whole words: a readable name is never replaced again
    pattern = r"\b(" + "|".join(map(re.escape, CANDIDATE_NAMES)) + r")\b"
    return re.sub(pattern, lambda match: CANDIDATE_NAMES[match.group(1)].lower(), choice) or "none"
