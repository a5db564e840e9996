"""Why a section is empty or qualified, in the report language: too short a history, no clusters,
no churn model, and the warnings that qualify the churn probabilities.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from custseg import words
from custseg.i18n import _, ngettext
from custseg.processed import ProcessedData
from custseg.studies import render


def last_two_snapshots(history: pd.DataFrame | None) -> tuple[dt.date, dt.date] | None:
    """The last two snapshot dates, or None when there are fewer than two."""
    if history is None or "snapshot_date" not in history:
        return None
    dates = pd.DatetimeIndex(history["snapshot_date"].drop_duplicates()).sort_values()
    return (dates[-2].date(), dates[-1].date()) if len(dates) >= 2 else None


def short_history(data: ProcessedData, table: str) -> render.Notice:
    """Why a section on movement over time is empty: too few snapshots, or `table` was not read."""
    dates = data.meta.snapshot_dates
    if len(dates) >= 2:
        return render.Notice(
            _(
                "The processed data has no {table} table ({table}.parquet), so movement between snapshots "
                "cannot be shown. Run `custseg process --force` with this custseg version to write it."
            ).format(table=table),
            kind="warning",
        )
    return render.Notice(
        ngettext(
            "The history is too short to show movement: the classification was recomputed at "
            "{count} snapshot date ({dates}), and migration needs two. Snapshot dates before the first "
            "customer appeared are dropped; a longer order history, or snapshots.dates in the config, gives more.",
            "The history is too short to show movement: the classification was recomputed at "
            "{count} snapshot dates ({dates}), and migration needs two. Snapshot dates before the first "
            "customer appeared are dropped; a longer order history, or snapshots.dates in the config, gives more.",
            len(dates),
        ).format(count=len(dates), dates=", ".join(dates) or _("none")),
        kind="info",
    )


def no_clusters(data: ProcessedData) -> render.Notice:
    """Why there are no clusters, from the pipeline's facts (study.json, clusters.note)."""
    note = data.meta.clusters.note
    if not note:
        return render.Notice(
            _(
                "The processed data has no clusters (no cluster column or cluster files). Run "
                "`custseg process --force` with this custseg version to fit them."
            ),
            kind="warning",
        )
    return render.Notice(words.cluster_note(note), kind="info")


def no_churn_model(data: ProcessedData) -> render.Notice:
    """Why a study shows no churn probability and no value at risk: the model was not fitted."""
    note = words.churn_model_note(data.meta.churn.note)
    text = _("The churn model was not fitted, so there is no churn probability and no value at risk here; the "
             "warning rules apply alone.")
    if note:  # the pipeline's facts in words, as the churn page shows them
        text += " " + _("Why: {note}.").format(note=note)
    return render.Notice(text, kind="info")


def churn_warnings(data: ProcessedData) -> list[render.Notice]:
    """Where the churn probabilities can no longer be trusted as rates, in the report language.

    The backtest records facts (study.json ``churn.warnings``: a reason code and its figures);
    each becomes a sentence here, shown next to the probabilities and values at risk it qualifies.
    """
    facts = data.meta.churn
    horizon = facts.horizon_days
    notices = []
    for warning in facts.warnings:
        reason = warning.get("reason")
        if reason == "no_validation":
            text = _(
                "There was no out-of-time check of the churn model: the history holds {history:,} days, and a check "
                "needs {needed:,} (a first date to learn from, its {horizon}-day window, then the window it is "
                "checked on). The probabilities are the model's own, not recalibrated against what happened: read "
                "them as a ranking more than as rates."
            ).format(history=warning["history_days"], needed=warning["needed_days"], horizon=horizon)
        elif reason == "short_history":
            text = _(
                "The history holds {days:,} days, less than twice the {horizon}-day horizon: the model has seen few "
                "customers silent as long as some are now."
            ).format(days=warning["history_days"], horizon=warning["horizon_days"])
        elif reason == "season_not_observed":
            text = _(
                "The coming window ({start} to {end}) falls in weeks of the year that no date the model learnt from "
                "covers (the orders start on {history_start}), so its season could not be learnt. Between the dates "
                "that were observed, the share of buyers with no order in the next {horizon} days moved from {low} "
                "({low_date}) to {high} ({high_date}); expect the coming window's rate to be off by at least that much."
            ).format(start=warning["window_start"], end=warning["window_end"], history_start=warning["history_start"],
                     horizon=horizon, low=render.percent(warning["lowest_rate"]), low_date=warning["lowest_date"],
                     high=render.percent(warning["highest_rate"]), high_date=warning["highest_date"])
        elif reason == "rate_error":
            text = _(
                "Checked on {date}, the model's mean churn probability missed the churn rate that followed by "
                "{points:+.1f} points, more than the {limit:.1f} that churn.max_rate_error allows. The probabilities "
                "shown are recalibrated on that window, but the value at risk is only as sound as that."
            ).format(date=warning["date"], points=warning["points"], limit=warning["limit_points"])
        else:  # a reason this version does not know (study.json of a newer run): say nothing wrong
            continue
        notices.append(render.Notice(text, kind="warning"))
    return notices
