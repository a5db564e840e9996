"""The customer value on the churn page: how far it can be trusted, in the reader's language.

:mod:`custseg.segment.value_backtest` records facts: study.json's ``value`` block holds the backtest
summary and the warnings as reason codes with their figures, and the pipeline writes
``value_backtest.parquet`` (predicted against actual per tier and per number of repeat
purchases) and ``value_candidates.parquet`` (every model tried). This module turns them into
the sentences and tables of the churn page (:class:`custseg.studies.churn.ChurnStudy`), which
places each warning next to the number it qualifies: the degenerate-fit warnings beside the
P(alive) chart, the history and backtest warnings beside the value by tier, all of them in the
value backtest section. It computes nothing but ratios and means of what was written.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence

import numpy as np
import pandas as pd

from custseg import i18n, words
from custseg.i18n import N_, _, ngettext
from custseg.processed import ValueSummary
from custseg.studies import render

#: Readable names of the purchase models (custseg.segment.clv.PURCHASE_MODELS).
MODEL_NAMES: dict[str, str] = {"bgnbd": "BG/NBD", "mbgnbd": "MBG/NBD"}
#: What Gamma-Gamma reads (custseg.segment.clv.ORDER_VALUE_PURCHASES), shown translated.
PURCHASES_READ: dict[str, str] = {"repeat": N_("repeat purchases"), "all": N_("all purchases, first included")}
#: Warnings shown beside the P(alive) chart (they say what P(alive) is worth).
ALIVE_REASONS = ("degenerate_fit", "p_alive_near_one")
#: Warnings shown beside the value by tier (they say how far the predicted value reaches).
VALUE_REASONS = ("short_history", "unseen_months", "backtest_error", "no_backtest")


def spec_name(spec: Mapping[str, object], order_values: str = "gamma_gamma") -> str:
    """A model spec in words: 'BG/NBD, no penalty, Gamma-Gamma on repeat purchases'; with
    `order_values` ``observed_mean`` (Gamma-Gamma could not be fitted) it says that instead."""
    penalty = float(spec.get("penalizer") or 0.0)
    read = str(spec.get("order_value_purchases"))
    figures = {
        "model": MODEL_NAMES.get(str(spec.get("model")), str(spec.get("model"))),
        "penalty": _("penalty {value:g}").format(value=penalty) if penalty else _("no penalty"),
        "purchases": _(PURCHASES_READ[read]) if read in PURCHASES_READ else read,
    }
    if order_values == "observed_mean":
        return _("{model}, {penalty}, own mean order values (Gamma-Gamma on {purchases} could not be fitted)").format(
            **figures)
    return _("{model}, {penalty}, Gamma-Gamma on {purchases}").format(**figures)


def warning_sentence(facts: Mapping[str, object]) -> str | None:
    """One warning of :func:`custseg.segment.value_backtest.warnings` in words; None for a reason this
    custseg version does not know (a study.json written by a newer one)."""
    reason = facts.get("reason")
    if reason == "degenerate_fit":
        params = facts.get("parameters") or {}
        listed = i18n.join_list(f"{name} = {_parameter(value)}" for name, value in params.items())
        low, high = facts.get("range") or (1e-4, 1e4)
        return ngettext(
            "The {model} fit is degenerate: {parameters} lies outside {low} to {high}, so the model sees (almost) no "
            "customer drop out. Its P(alive) says little about who has left, and it expects long-silent customers to "
            "come back.",
            "The {model} fit is degenerate: {parameters} lie outside {low} to {high}, so the model sees (almost) no "
            "customer drop out. Its P(alive) says little about who has left, and it expects long-silent customers to "
            "come back.",
            len(params),
        ).format(model=MODEL_NAMES.get(str(facts.get("model")), "BG/NBD"), parameters=listed,
                 low=_parameter(low), high=_parameter(high))
    if reason == "p_alive_near_one":
        return _(
            "P(alive) is at least {level:.0%} for {share:.1%} of the {count:,} repeat buyers (a warning from "
            "{minimum:.0%} on): the value model cannot tell who has left. Judge that by the churn probability and "
            "the days since the last order."
        ).format(level=facts["p_alive"], share=facts["share"], count=facts["repeat_buyers"], minimum=facts["min_share"])
    if reason == "short_history":
        days = int(facts.get("backtest_days") or 0)
        tested = _("the backtest could check only {days} days ahead").format(days=days) if days else _(
            "there is no backtest")
        return _(
            "The history behind the customer value is {history:,} days, shorter than twice the {horizon:,}-day value "
            "horizon: the models predict further ahead than they have seen, and {tested}. Over the full horizon the "
            "value is an extrapolation: neither the total nor any tier can be vouched for within {maximum} "
            "(value.max_backtest_error)."
        ).format(history=facts["history_days"], horizon=facts["horizon_days"], tested=tested,
                 maximum=render.share(facts.get("max_error", 0.2)))
    if reason == "unseen_months":
        names = render.month_names("wide")
        months = [int(m) for m in facts.get("months") or []]
        return ngettext(
            "{count} of the {total} calendar months of the value horizon ({months}) never occurs in the history: a "
            "seasonal rise or fall then (a Christmas peak, a summer lull) is not in the value, as the models assume "
            "customers buy at the same pace all year.",
            "{count} of the {total} calendar months of the value horizon ({months}) never occur in the history: a "
            "seasonal rise or fall then (a Christmas peak, a summer lull) is not in the value, as the models assume "
            "customers buy at the same pace all year.",
            len(months),
        ).format(count=len(months), total=facts.get("horizon_months", len(months)),
                 months=i18n.join_list(names[m - 1] for m in months))
    if reason == "backtest_error":
        error = float(facts["error"])
        figures = {
            "error": render.signed_percent(error), "days": facts["days"], "maximum": render.share(facts["max_error"]),
        }
        if facts.get("scope") == "tier":
            return _(
                "In the backtest the {tier} tier's predicted revenue was {error} off what its customers bought over "
                "{days} days, more than the {maximum} allowed (value.max_backtest_error): its value cannot be vouched "
                "for within that margin."
            ).format(tier=i18n.label("tier", facts["group"]), **figures)
        return _(
            "In the backtest the predicted revenue of the whole base was {error} off what customers bought over "
            "{days} days, more than the {maximum} allowed (value.max_backtest_error): the total value cannot be "
            "vouched for within that margin."
        ).format(**figures)
    if reason == "no_backtest":
        cause = facts.get("cause")
        if cause == "short_history":
            return _(
                "The value models were not backtested: a history of {history:,} days is too short to hold back "
                "{days:,} days and fit on the rest, so nothing says how far their predictions hold."
            ).format(history=facts.get("history_days", 0), days=facts.get("days", 0))
        if cause == "nothing_bought":
            return _(
                "The value models were not backtested: none of the customers known on {cutoff} bought in the {days:,} "
                "days after it."
            ).format(cutoff=facts.get("cutoff"), days=facts.get("days", 0))
        return _(
            "The value models were not backtested: they could not be fitted on the purchases before {cutoff} "
            "({message})."
        ).format(cutoff=facts.get("cutoff"), message=words.value_fit_error(facts.get("error", facts.get("message"))))
    return None


def headline_notice(warnings: Sequence[Mapping[str, object]]) -> render.Notice | None:
    """One sentence for the key figures: which warnings the customer value carries (the
    customer value section says each in full, next to its number); None without any."""
    names = []
    for facts in warnings:
        reason = facts.get("reason")
        if reason == "degenerate_fit":
            names.append(_("a degenerate model fit"))
        elif reason == "p_alive_near_one":
            names.append(_("P(alive) near 1 for nearly every repeat buyer"))
        elif reason == "short_history":
            names.append(_("a history shorter than twice the value horizon"))
        elif reason == "unseen_months":
            count = len(facts.get("months") or [])
            names.append(ngettext("{count} month of the horizon never seen in the history",
                                  "{count} months of the horizon never seen in the history", count).format(count=count))
        elif reason == "backtest_error":
            group = _("the whole base") if facts.get("scope") == "all" else _("the {tier} tier").format(
                tier=i18n.label("tier", facts.get("group")))
            names.append(_("a backtest error of {error} for {group}").format(
                error=render.signed_percent(facts.get("error")), group=group))
        elif reason == "no_backtest":
            names.append(_("no backtest"))
    if not names:
        return None
    return render.Notice(
        _("Read the customer value with care: {warnings}. The customer value section says what each means.").format(
            warnings=i18n.join_list(names)),
        kind="warning",
    )


def notices(warnings: Sequence[Mapping[str, object]], reasons: Collection[str]) -> list[render.Notice]:
    """The warnings of the given reasons as notices, in the order recorded."""
    found = []
    for facts in warnings:
        if facts.get("reason") in reasons:
            text = warning_sentence(facts)
            if text:
                found.append(render.Notice(text, kind="warning"))
    return found


def backtest_ratios(groups: pd.DataFrame | None, kind: str = "tier") -> pd.Series:
    """Predicted / actual revenue per group of one kind (NaN where nothing was bought)."""
    if groups is None or groups.empty:
        return pd.Series(dtype="float64")
    rows = groups.loc[groups["kind"].eq(kind)].set_index("group")
    actual = rows["actual_revenue"].astype("float64")
    return (rows["predicted_revenue"].astype("float64") / actual.where(actual > 0)).rename("ratio")


def backtest_items(
    facts: ValueSummary, groups: pd.DataFrame | None, candidates: pd.DataFrame | None,
    money: Callable[[object], str], observation_date: str,
) -> tuple:
    """The value backtest section: what was compared, the tables per tier, per frequency and per
    candidate, the rankings, and the warnings on the backtest."""
    backtest = facts.backtest or {}
    warnings = facts.warnings
    if not backtest or groups is None:
        return (render.Notice(
            _(
                "The processed data has no backtest of the value models. Run `custseg process --force` with this "
                "custseg version to make one."
            ),
            kind="warning",
        ),)
    if backtest.get("skipped") or groups.empty:
        found = notices(warnings, ("no_backtest", "short_history"))
        return tuple(found) or (render.Notice(_("The value models were not backtested."), kind="warning"),)
    whole = groups.loc[groups["kind"].eq("all")].iloc[0]
    items: list[object] = [render.Notice(_(
        "The value models were fitted on the purchases before {cutoff} and predicted the {days:,} days to {date} for "
        "the {customers:,} customers known then; the tables compare that with what they bought (purchases that "
        "stand, at their net value). Predicted revenue was {ratio} of actual revenue, purchases {purchases}."
    ).format(
        cutoff=backtest["cutoff"], days=backtest["days"], date=observation_date, customers=int(whole["customers"]),
        ratio=render.percent(_ratio(whole, "revenue")), purchases=render.percent(_ratio(whole, "purchases")),
    ))]
    items.append(_choice_notice(facts, backtest, candidates))
    items.append(_group_table(groups, "tier", money, backtest))
    items.append(_frequency_table(groups, backtest))
    if candidates is not None and len(candidates) > 1:
        items.append(_candidate_table(candidates))
    ranking = _ranking_notice(backtest.get("metrics") or {})
    if ranking is not None:
        items.append(ranking)
    return tuple(items)


def _parameter(value: float) -> str:
    """A model parameter readably: 59,211 / 0.79 / 1.7e-06."""
    value = float(value)
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.2g}"


def _ratio(row: pd.Series, what: str) -> float:
    actual = float(row[f"actual_{what}"])
    return float(row[f"predicted_{what}"]) / actual if actual > 0 else float("nan")


def _choice_notice(facts: ValueSummary, backtest: Mapping, candidates: pd.DataFrame | None) -> render.Notice:
    model = facts.model
    error = backtest.get("error")
    if backtest.get("chosen_by") == "backtest" and candidates is not None:
        text = _(
            "Used: {spec}, chosen among {count} candidates for the smallest backtest error, the largest gap between "
            "predicted and actual revenue over the whole base and each tier (tiers as they were on the cut-off): "
            "{worst}. The whole base alone: {error}."
        )
    else:
        text = _("Used: {spec}, as the config sets it (value.model, value.penalizer, value.order_value_purchases). "
                 "Backtest error of the whole base: {error}.")
    chosen = candidates.loc[candidates["chosen"].astype(bool)] if candidates is not None else pd.DataFrame()
    worst = float(chosen["error"].iloc[0]) if len(chosen) else float("nan")
    return render.Notice(text.format(
        spec=spec_name(model, facts.order_values or "gamma_gamma"),
        count=0 if candidates is None else len(candidates),
        worst=render.percent(worst), error=render.signed_percent(error),
    ))


def _group_table(groups: pd.DataFrame, kind: str, money: Callable[[object], str], backtest: Mapping) -> render.Table:
    """Customers, predicted and actual purchases and revenue, and their ratio, per tier (at the cut-off)."""
    rows = groups.loc[groups["kind"].isin(["all", kind])].copy()
    names = {"all": _("All customers"), "none": _("No tier")}
    label = [names.get(g, i18n.label("tier", g)) for g in rows["group"]]
    headings = _headings()
    table = pd.DataFrame({
        headings["customers"]: rows["customers"].to_numpy(),
        headings["predicted_purchases"]: rows["predicted_purchases"].to_numpy(dtype="float64"),
        headings["actual_purchases"]: rows["actual_purchases"].to_numpy(dtype="float64"),
        headings["predicted_revenue"]: rows["predicted_revenue"].to_numpy(dtype="float64"),
        headings["actual_revenue"]: rows["actual_revenue"].to_numpy(dtype="float64"),
        headings["ratio"]: [_ratio(row, "revenue") for _, row in rows.iterrows()],
    }, index=pd.Index(label, name=_("Tier on {cutoff}").format(cutoff=backtest["cutoff"])))
    return render.Table(
        table, _("Value backtest by tier: predicted against actual over {days:,} days").format(days=backtest["days"]),
        {headings["customers"]: render.integer, headings["predicted_purchases"]: render.integer,
         headings["actual_purchases"]: render.integer, headings["predicted_revenue"]: money,
         headings["actual_revenue"]: money, headings["ratio"]: render.percent},
    )


def _frequency_table(groups: pd.DataFrame, backtest: Mapping) -> render.Table:
    """Mean predicted and actual purchases per number of repeat purchases before the cut-off
    (Fader, Hardie & Lee 2005, fig. 4)."""
    rows = groups.loc[groups["kind"].eq("frequency")]
    customers = rows["customers"].to_numpy(dtype="float64")
    predicted = _("Mean predicted purchases")
    actual = _("Mean actual purchases")
    table = pd.DataFrame({
        _("Customers"): rows["customers"].to_numpy(),
        predicted: rows["predicted_purchases"].to_numpy(dtype="float64") / customers,
        actual: rows["actual_purchases"].to_numpy(dtype="float64") / customers,
        _("Predicted ÷ actual revenue"): [_ratio(row, "revenue") for _, row in rows.iterrows()],
    }, index=pd.Index(rows["group"].to_numpy(), name=_("Repeat purchases before the cut-off")))
    two = lambda value: render.MISSING if pd.isna(value) else f"{value:,.2f}"  # noqa: E731
    return render.Table(
        table,
        _("Purchases in the {days:,} days after the cut-off, by repeat purchases before it").format(
            days=backtest["days"]
        ),
        {_("Customers"): render.integer, predicted: two, actual: two, _("Predicted ÷ actual revenue"): render.percent},
    )


def _candidate_table(candidates: pd.DataFrame) -> render.Table:
    """Every candidate tried, its backtest error and whether it was used."""
    names = [spec_name(row, str(row.get("order_values") or "gamma_gamma")) for row in candidates.to_dict("records")]
    error, ratio, used = _("Backtest error (largest of base and tiers)"), _("Predicted ÷ actual revenue"), _("Used")
    table = pd.DataFrame({
        error: candidates["error"].to_numpy(dtype="float64"),
        ratio: candidates["revenue_ratio"].to_numpy(dtype="float64"),
        used: np.where(candidates["chosen"].astype(bool), _("yes"), ""),
    }, index=pd.Index(names, name=_("Candidate")))
    return render.Table(table, _("Value models tried in the backtest"), {error: render.percent, ratio: render.percent})


def _ranking_notice(metrics: Mapping[str, object]) -> render.Notice | None:
    needed = ("spearman_revenue", "auc_expected_purchases", "auc_recency")
    if any(metrics.get(name) is None for name in needed):
        return None
    sentences = [_(
        "Ranking: predicted and actual revenue per customer correlate at {spearman:.2f} (Spearman). Who bought again "
        "is ranked with a ROC AUC of {model:.2f} by expected purchases and {recency:.2f} by days since the last "
        "purchase alone."
    ).format(
        spearman=metrics["spearman_revenue"], model=metrics["auc_expected_purchases"], recency=metrics["auc_recency"]
    )]
    alive, recency = metrics.get("auc_p_alive"), metrics.get("auc_recency_repeat")
    if alive is not None and recency is not None:
        if alive < recency:
            sentences.append(_(
                "Among repeat buyers P(alive) ranks who bought again worse than recency alone ({alive:.2f} against "
                "{recency:.2f}): do not read it as a ranking of who is still a customer."
            ).format(alive=alive, recency=recency))
        else:
            sentences.append(_("Among repeat buyers P(alive) ranks who bought again at {alive:.2f}, recency alone at "
                               "{recency:.2f}.").format(alive=alive, recency=recency))
    return render.Notice(i18n.join_sentences(sentences))


def _headings() -> dict[str, str]:
    return {
        "customers": _("Customers"), "predicted_purchases": _("Predicted purchases"),
        "actual_purchases": _("Actual purchases"), "predicted_revenue": _("Predicted revenue"),
        "actual_revenue": _("Actual revenue"), "ratio": _("Predicted ÷ actual revenue"),
    }
