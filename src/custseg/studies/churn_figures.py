"""The churn page's figures, each a function of the data it shows: the backtest's tables and lift,
and the charts (value at risk by region, calibration, feature importance, churn by satisfaction,
the value model's P(alive)), each chart with the sentence that describes it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

from custseg import i18n
from custseg.i18n import _
from custseg.segment import churn
from custseg.studies import render
from custseg.studies.churn_labels import CANDIDATE_NAMES, FEATURE_NAMES, candidate_label, population_label, times


def region_chart(at_risk: pd.Series, currency: str) -> render.Chart:
    """Horizontal bars of value at risk per region, largest on top."""
    fig = render.new_figure(7.0, 0.9 + 0.28 * len(at_risk))
    ax = fig.subplots()
    shown = at_risk.iloc[::-1]  # barh draws from the bottom up
    ax.barh(shown.index.astype("str"), shown.to_numpy(), color=render.sns.color_palette(render.PALETTE, 1)[0])
    title = _("Value at risk by region")
    ax.set(title=title, xlabel=_("Value at risk ({currency})").format(currency=currency), ylabel="")
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
            count=len(at_risk), top=at_risk.index[0], top_value=at_risk.iloc[0], currency=currency,
            top_share=at_risk.iloc[0] / total, bottom=at_risk.index[-1], bottom_value=at_risk.iloc[-1],
        ),
    )


def calibration_chart(calibration: pd.DataFrame, chosen: str | None, population: str) -> render.Chart | render.Notice:
    """Mean predicted against observed churn rate per bin, chosen candidate and baseline, with the diagonal."""
    words = population_label(population)
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
            name = _("{model}, recalibrated").format(model=candidate_label(chosen))
            label = _("{model} (the probabilities used)").format(model=name)
        else:
            name = candidate_label(candidate)
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
    ax.set(title=_("Calibration on {population}").format(population=words),
           xlabel=_("Mean predicted churn probability"), ylabel=_("Share that churned"), xlim=(0, 1), ylim=(0, 1.02))
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


def importance_chart(importance: pd.DataFrame, chosen: str | None, population: str) -> render.Chart:
    """The ten features whose shuffling costs the chosen model most ROC AUC."""
    top = importance.sort_values(["importance_mean", "feature"], ascending=[False, True]).head(10)
    readable = {feature: _(name) for feature, name in FEATURE_NAMES.items()}
    names = top["feature"].map(readable).fillna(top["feature"].str.replace("_", " ").str.capitalize())
    fig = render.new_figure(7.0, 0.9 + 0.3 * len(top))
    ax = fig.subplots()
    ax.barh(names.to_numpy()[::-1], top["importance_mean"].to_numpy()[::-1],
            xerr=top["importance_std"].to_numpy()[::-1], color=render.sns.color_palette(render.PALETTE, 1)[0])
    model = (candidate_label(chosen) if chosen else _("model")).lower()
    ax.set(title=_("What the {model} relies on").format(model=model),
           xlabel=_("Drop in ROC AUC when the feature is shuffled"), ylabel="")
    listed = i18n.join_list(
        f"{name} ({value:.3f})" for name, value in zip(names.head(3), top["importance_mean"].head(3))
    )
    return render.Chart(
        fig,
        _("Permutation importance of the {count} most important features, {population}").format(
            count=len(top), population=population_label(population),
        ),
        _(
            "Horizontal bar chart of how much the validation ROC AUC of the {model} drops when each feature is "
            "shuffled, top {count} features; the three largest are {features}."
        ).format(model=model, count=len(top), features=listed),
    )


def satisfaction_chart(rated: pd.Series, overall: float) -> render.Chart:
    """Bars of mean churn probability per latest satisfaction score (`rated`), with the mean of all
    buyers not yet lost (`overall`)."""
    fig = render.new_figure(6.0, 3.2)
    ax = fig.subplots()
    ax.bar(rated.index.astype("str"), rated.to_numpy(), color=render.sns.color_palette(render.PALETTE, 1)[0])
    ax.axhline(overall, color="grey", linestyle="--", linewidth=1,
               label=_("All buyers not yet lost ({mean:.0%})").format(mean=overall))
    ax.set(title=_("Churn probability by latest satisfaction"), xlabel=_("Latest satisfaction score (1 = worst, 5 = "
        "best)"),
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


def alive_chart(p_alive: pd.Series) -> render.Chart:
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
        ).format(count=len(p_alive), median=p_alive.median(), above=p_alive.gt(0.9).mean(),
                 below=p_alive.lt(0.5).mean()),
    )


def metric_table(rows: pd.DataFrame, population: str, judged: bool) -> render.Table:
    """The backtest figures of one population, chosen candidate marked."""
    first = rows.iloc[0]
    names = {candidate: _(name) for candidate, name in CANDIDATE_NAMES.items()}
    roc, pr, top = _("ROC AUC"), _("PR AUC"), _("Churned in top 10%")
    lift, brier = _("Top-decile lift"), _("Brier score")
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
    facts = {"population": population_label(population), "count": int(first["n"]), "rate": first["base_rate"]}
    if judged:
        title = _(
            "Backtest on {population} (the model was chosen on these): {count:,} customers, {rate:.0%} of whom churned"
        ).format(**facts)
    else:
        title = _(
            "Backtest on {population} (for comparison): {count:,} customers, {rate:.0%} of whom churned"
        ).format(**facts)
    return render.Table(
        table, title,
        {roc: three, pr: three, top: render.percent, lift: times, brier: three},
    )


def lift_notice(rows: pd.DataFrame, chosen: str | None, population: str) -> render.Notice:
    """The chosen candidate's top decile against the baseline's, in one sentence."""
    by = rows.set_index("candidate")
    words = population_label(population)
    if chosen not in by.index or pd.isna(by.loc[chosen, "top_decile_precision"]):
        return render.Notice(
            _("The backtest has no top-decile figures for {population}.").format(population=words), kind="info"
        )
    mine = by.loc[chosen]
    facts = {
        "population": words, "model": candidate_label(chosen).lower(), "precision": mine["top_decile_precision"],
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
