"""The churn model: trained on the customers as they were at past dates, backtested out of time.

The label of a customer at a date ``t`` is "no completed order in [t, t + H)", H =
``horizon_days`` [90]. The model learns from the buyers as they were at several past dates, the
*origins*: every ``origin_step_days`` [30] back from ``v = obs - H`` (the last date whose window
is fully observed), at most ``max_origins`` [13] of them, each with ``min_history_days`` [30] of
orders before it. Stacked, they show the model customers at many moments of the year instead of
one, and many silences and tenures (up to ``max_training_rows`` [100,000] customer-dates,
sampled beyond). When the origins span a whole year, the time of year of each origin is a
feature (a point on a circle, ``season_sin`` and ``season_cos``), so the coming window's season
is learnt from the same weeks of an earlier year; when they do not, that season was never
observed, and the backtest says so with how far the churn rate moved between the seasons that
were (a warning on the pages).

Out-of-time check: candidates are trained on the origins whose windows end by ``v`` and judged
on the buyers at ``v`` (labels from ``[v, obs)``): the validation customers are judged on a later
period than anything the model saw. Candidates are a regularized logistic regression, gradient
boosting, and the recency-only baseline (a one-feature logistic regression on log recency, whose
ranking is the ranking by ``recency_days``). When the history is too short for any origin to end
before ``v``, there is no out-of-time check: the first of ``models`` is fitted on every origin
and used as it is, and the pages say so.

Models are trained on every buyer, but judged twice: on all buyers, and on the buyers not yet
lost (silent at most ``lost_after_days``). Long-lost customers are easy to call churned, and they
flatter every candidate, recency most; the scores are used on the others (the watch list leaves
the lost out), so the choice is made there. The candidate with the best ROC AUC wins; ties go to
the simpler one, so a model has to beat recency to be used. The winner is refitted on every
origin, ``v`` included, and scores every buyer at ``obs``.

Out of time a model's probabilities drift from the true rates, and value at risk multiplies by
them. When the dates span a year, the winner's probabilities are mapped to the rates of the same
weeks a year before (Platt scaling: a logistic fit on the log-odds, which never reorders
customers), fitted on the buyers not yet lost at the date nearest a year before the observation
date, by the winner refitted without the dates whose windows overlap that one. The map is replayed
at the validation date the same way (from the weeks a year before it, on dates whose windows end
by then) and judged there (candidate ``<name>_recalibrated`` in the calibration table). A map from
another season is never used: it would carry that season's rate into the coming window (a model
recalibrated on an autumn peak and applied to the quiet winter after it). Without a year of dates
the probabilities are the model's own, and the pages warn that the season was never observed. How
far the winner's mean probability (mapped as it is at the observation date) missed the validation
window's churn rate is kept (``rate_error``); beyond ``max_rate_error`` [5 points] it is a warning.

Warnings (``Backtest.warnings``, facts for the pages to word): ``no_validation`` (too short a
history for an out-of-time check), ``short_history`` (history shorter than twice the horizon),
``season_not_observed`` (the coming window's weeks never occur among the origins) and
``rate_error`` (the validation window's rate missed by more than ``max_rate_error``).

The choice and the reason a model was skipped are facts too (``Backtest.choice``,
``Backtest.note``); :func:`custseg.words.model_choice` and :func:`custseg.words.churn_model_note`
put them in words:

* choice: ``{"candidate": "logistic", "roc_auc": 0.734, "population": "not_lost", "others":
  [{"candidate": "gradient_boosting", "roc_auc": 0.721}, ...]}`` (best first), or
  ``{"candidate": "logistic", "population": None}`` when there was no out-of-time check;
* note: ``{"reason": "no_history", "start_needed", "min_history_days", "horizon_days",
  "orders_start"}`` (no date has enough orders before it) or ``{"reason": "too_few_buyers",
  "data": "learning" | "checking" | "validation", "first", "last", "horizon_days", "buyers",
  "churned", "stayed", "min_buyers", "min_each"}`` (the dates it learns from, is checked against,
  or the validation window hold too few buyers of either outcome).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.inspection import permutation_importance
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from threadpoolctl import threadpool_limits

from custseg.config import Churn
from custseg.segment.churn._frames import floats
from custseg.segment.features import History, features_at, prepare, purchase_until, purchases_at

#: Behaviour columns of the customer table the model may use, when present. Only numbers that
#: describe the customer's behaviour up to the date: no ids, no attributes, and no absolute
#: dates (first_order, last_order, signup_date), which would tell the model *when* a row was
#: taken and not transfer from the training date to the scoring date.
MODEL_FEATURES: tuple[str, ...] = (
    "recency_days", "frequency", "monetary", "aov", "tenure_days", "cadence_days", "last_gap_days",
    "orders_90d", "orders_prev_90d", "revenue_90d", "revenue_prev_90d", "trend_90d",
    "refunded_orders", "return_rate",
    "interactions_30d", "interactions_90d", "interactions_365d", "last_interaction_days",
    "feedback_count", "satisfaction_mean", "satisfaction_latest", "satisfaction_trend", "nps_latest",
    # derived in _design: silence against the customer's own rhythm, the quantity the rules use
    "silence_ratio",
)

#: The recency-only baseline every model is measured against.
BASELINE = "recency"

#: Suffix of the chosen candidate's name in the calibration table for its recalibrated
#: probabilities (each half of the validation customers mapped by a fit on the other half).
RECALIBRATED = "_recalibrated"

#: Ties in validation ROC AUC go to the earlier (simpler) candidate in this order.
_SIMPLICITY = (BASELINE, "logistic", "gradient_boosting")

# Permutation importances on at most this many validation rows: 5 repeats x ~25 features of
# predictions on 100k rows would take longer than the rest of the backtest, and the ranking of
# the features hardly moves beyond a few thousand rows.
_IMPORTANCE_ROWS = 5_000
_CALIBRATION_BINS = 10
_TOP_SHARE = 0.10  # the top decile


# ---------------------------------------------------------------------------------------------
# Labels and features
# ---------------------------------------------------------------------------------------------

def labelled_features(
    tables: Mapping[str, pd.DataFrame], date: dt.date, horizon_days: int, *, history: History | None = None
) -> pd.DataFrame:
    """Buyers' customer table at a date, with the label "no completed order in the next H days".

    Parameters
    ----------
    tables
        Clean tables (``orders`` required), as :func:`custseg.segment.features.customer_table` takes them.
        Not modified.
    date
        The date the features are computed at; only rows strictly before it count.
    horizon_days
        H: the label looks at completed orders dated in [date, date + H), calendar days (an order
        on date + H is outside).
    history
        ``custseg.segment.features.prepare(tables)``, when the caller has it: the features at several
        dates then share one coding of the ids.

    Returns
    -------
    pd.DataFrame
        The customer table at ``date`` restricted to customers with a completed order before it
        (frequency > 0), sorted by customer_id, plus ``churned_next`` (bool): True when the customer
        has no completed order in the window. Cancelled, refunded and returned orders are not
        orders; a purchase undone by a matched reversal within the window is none either.
    """
    if horizon_days < 1:
        raise ValueError(f"horizon_days must be at least 1, got {horizon_days}")
    return _labelled(features_at(prepare(tables) if history is None else history, date), tables["orders"], date,
                     horizon_days)


def _labelled(
    table: pd.DataFrame, orders: pd.DataFrame, date: dt.date, horizon_days: int, until: np.ndarray | None = None
) -> pd.DataFrame:
    """:func:`labelled_features` of a customer table at `date` (any of its columns, frequency
    and customer_id among them); `until`: ``purchase_until(orders)``, when the caller has it."""
    buyers = table.loc[table["frequency"].gt(0)].reset_index(drop=True)
    start = pd.Timestamp(date)
    end = start + pd.Timedelta(days=horizon_days)
    # purchases as known at the end of the window: one undone within it (a same-day
    # cancellation) was no purchase
    window = purchases_at(orders, end.date(), until=until) & (orders["order_date"] >= start).to_numpy(
        dtype=bool, na_value=False)
    active = pd.Index(orders.loc[window, "customer_id"].astype("str").unique())
    # Arrow's set lookup: Series.isin on Arrow text makes a Python scalar of every value of
    # `active` (every customer who bought in the window) at every origin
    ids = pa.array(buyers["customer_id"].astype("str"))
    churned = ~pc.is_in(ids, value_set=pa.array(active, type=ids.type)).to_numpy(zero_copy_only=False)
    return buyers.assign(churned_next=churned)


def _design(frame: pd.DataFrame, features: list[str]) -> pd.DataFrame:
    """The model's input matrix: float64 columns, NaN for missing."""
    columns = {}
    for name in features:
        if name == "silence_ratio":
            with np.errstate(invalid="ignore", divide="ignore"):
                columns[name] = floats(frame, "recency_days") / np.maximum(floats(frame, "cadence_days"), 1.0)
        else:
            columns[name] = floats(frame, name)
    return pd.DataFrame(columns, index=frame.index)


def _model_columns(table: pd.DataFrame) -> pd.DataFrame:
    """The columns of a customer table the backtest reads (ids, frequency, the model features
    it has): the text attributes and the other features are not copied with every origin's
    buyers, nor stacked and sampled with them."""
    read = {"customer_id", "frequency", *MODEL_FEATURES}
    return table[[column for column in table.columns if column in read]]


def _available_features(frame: pd.DataFrame) -> list[str]:
    """Model features the table can give (interaction and feedback columns need those tables)."""
    present = [name for name in MODEL_FEATURES if name in frame or name == "silence_ratio"]
    return [name for name in present if name != "silence_ratio" or "cadence_days" in frame]


# ---------------------------------------------------------------------------------------------
# Backtest
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Backtest:
    """An out-of-time backtest of the churn models and the scores of the winner.

    Plain tables and values only (no fitted estimators), so everything can be written to
    Parquet / JSON and plotted.

    Attributes
    ----------
    observation_date, train_date, validation_date
        ``obs``, ``t0 = obs - 2H`` and ``t1 = obs - H``.
    horizon_days
        H.
    metrics
        Validation figures, one row per population of :data:`POPULATIONS` and candidate (the
        models of ``settings.models`` and :data:`BASELINE`): population, candidate, roc_auc,
        pr_auc (average precision), top_decile_precision, top_decile_lift (precision over the
        base rate), brier, base_rate, n, n_churned, chosen (bool). Figures are missing for a
        population without customers of both outcomes. Empty when the backtest was skipped.
    calibration
        population, candidate, bin (1 = lowest predicted), n, mean_predicted, observed_rate: 10
        equal-count bins of the validation customers by predicted probability.
    importances
        feature, importance_mean, importance_std: permutation importance (drop in validation ROC
        AUC, on the population the choice was made on) of the chosen candidate, largest first.
    chosen
        Name of the winning candidate, or None when the backtest was skipped.
    choice
        Why it won, as facts (module docstring): the winner's validation ROC AUC, the others'
        (best first) and the population it was judged on; None when the backtest was skipped.
    note
        None when the model ran; otherwise why it did not, as facts (module docstring; the rules
        still apply).
    features
        Model features used.
    seed
        Seed of every random step.
    churn_probability
        Indexed by customer_id (every buyer at the observation date): the chosen candidate's
        probability of no completed order in the next H days; all missing when skipped.
    """

    observation_date: dt.date
    train_date: dt.date
    validation_date: dt.date
    horizon_days: int
    metrics: pd.DataFrame
    calibration: pd.DataFrame
    importances: pd.DataFrame
    chosen: str | None
    choice: dict | None
    note: dict | None
    features: tuple[str, ...]
    seed: int
    churn_probability: pd.Series = field(repr=False)
    origins: tuple[dt.date, ...] = ()  # every date the scoring model learnt from, latest first
    training_origins: tuple[dt.date, ...] = ()  # the candidates' (windows ending by validation_date)
    seasonal: bool = False  # the origins span a year: the time of year is a feature
    rate_error: float | None = None  # winner's mean probability at validation_date minus the realised rate
    warnings: tuple[dict, ...] = ()  # facts for the pages: {"reason": ..., figures}

    def summary(self) -> dict:
        """What a study.json needs: dates, choice, note, features, seed, the metrics and the
        warnings (JSON-safe: missing figures are None)."""
        return {
            "observation_date": self.observation_date.isoformat(),
            "train_date": self.train_date.isoformat(),
            "validation_date": self.validation_date.isoformat(),
            "horizon_days": self.horizon_days,
            "origins": [date.isoformat() for date in self.origins],
            "training_origins": [date.isoformat() for date in self.training_origins],
            "seasonal": self.seasonal,
            "rate_error": self.rate_error,
            "warnings": [dict(warning) for warning in self.warnings],
            "chosen": self.chosen,
            "choice": None if self.choice is None else _plain(self.choice),
            "note": None if self.note is None else _plain(self.note),
            "features": list(self.features),
            "seed": self.seed,
            "metrics": self.metrics.astype(object).where(self.metrics.notna(), None).to_dict(orient="records"),
        }


#: Validation populations: every buyer, and the buyers not yet lost (silent at most
#: ``lost_after_days``), on whom the scores are used.
POPULATIONS: dict[str, str] = {"buyers": "all buyers", "not_lost": "buyers not yet lost"}

_METRIC_COLUMNS = {
    "population": "str", "candidate": "str", "roc_auc": "float64", "pr_auc": "float64",
    "top_decile_precision": "float64", "top_decile_lift": "float64", "brier": "float64", "base_rate": "float64",
    "n": "int64", "n_churned": "int64", "chosen": "bool",
}
_CALIBRATION_COLUMNS = {
    "population": "str", "candidate": "str", "bin": "int64", "n": "int64", "mean_predicted": "float64",
    "observed_rate": "float64",
}
_IMPORTANCE_COLUMNS = {"feature": "str", "importance_mean": "float64", "importance_std": "float64"}


def backtest(tables: Mapping[str, pd.DataFrame], observation_date: dt.date, settings: Churn) -> Backtest:
    """Train on several origins, validate out of time, choose, refit and score (method in the
    module docstring).

    Parameters
    ----------
    tables
        Clean tables (``orders`` required; customers, interactions and feedback used when
        present). Not modified.
    observation_date
        ``obs``: the date every buyer is scored at.
    settings
        The ``churn`` section of the study config.

    Returns
    -------
    Backtest
        Metrics, calibration and importances of the validation window, the choice, the churn
        probability of every buyer at ``obs``, the origins and the warnings. When no origin has
        ``min_history_days`` of orders before it, or the origins hold fewer than
        ``min_customers_for_model`` buyers or fewer than ``min_churners`` churners (or customers
        who stay), the model is skipped: ``note`` says why, tables are empty and probabilities
        missing. Without an out-of-time check (no origin ends before the validation date, or
        the validation window is too small) the metrics are empty and the probabilities are the
        first model's, uncalibrated (warning ``no_validation``).
    """
    horizon = settings.horizon_days
    obs = pd.Timestamp(observation_date)
    validation = (obs - pd.Timedelta(days=horizon)).date()
    history = prepare(tables)  # once for every date below
    now = _model_columns(features_at(history, observation_date))
    now = now.loc[now["frequency"].gt(0)].reset_index(drop=True)
    first = tables["orders"]["order_date"].min()
    origins = _origins(first, validation, settings)
    training = tuple(t for t in origins if (pd.Timestamp(t) + pd.Timedelta(days=horizon)).date() <= validation)
    skipped = dict(
        observation_date=observation_date, train_date=training[0] if training else validation,
        validation_date=validation, horizon_days=horizon,
        metrics=_empty(_METRIC_COLUMNS), calibration=_empty(_CALIBRATION_COLUMNS),
        importances=_empty(_IMPORTANCE_COLUMNS), chosen=None, choice=None, features=(), seed=settings.seed,
        churn_probability=_probability(now, np.full(len(now), np.nan)),
    )
    if not origins:
        start_needed = pd.Timestamp(validation) - pd.Timedelta(days=settings.min_history_days)
        return Backtest(**skipped, note={
            "reason": "no_history", "start_needed": start_needed.date().isoformat(),
            "min_history_days": settings.min_history_days, "horizon_days": horizon,
            "orders_start": None if pd.isna(first) else first.date().isoformat(),
        })

    seasonal = (validation - origins[-1]).days >= 365 - settings.origin_step_days
    # each date computes the features the model reads, and the orders' purchase ends are found once
    orders, until = tables["orders"], purchase_until(tables["orders"])
    windows = {t: _with_season(_labelled(_model_columns(features_at(history, t, features=MODEL_FEATURES)), orders, t,
                                         horizon, until), t, seasonal) for t in origins}
    everything = _stack([windows[t] for t in origins], settings)
    problem = _too_small(everything, "learning", origins[-1], origins[0], settings)
    if problem:
        return Backtest(**skipped, note=problem)
    now = _with_season(now, observation_date, seasonal)
    features = _available_features(everything) + (list(SEASON_FEATURES) if seasonal else [])
    warnings = _season_and_history(first, obs, origins, windows, seasonal, settings)
    facts = dict(origins=tuple(origins), training_origins=training, seasonal=seasonal)

    valid = windows[validation] if validation in windows else None
    past = _stack([windows[t] for t in training], settings) if training else None
    reason = None
    if past is None or valid is None:
        reason = {"reason": "no_validation", "history_days": int((obs - first).days),
                  "needed_days": 2 * horizon + settings.min_history_days}
    else:
        small = (_too_small(past, "checking", training[-1], training[0], settings)
                 or _too_small(valid, "validation", validation, None, settings))
        if small:
            reason = {"reason": "no_validation", "history_days": int((obs - first).days),
                      "needed_days": 2 * horizon + settings.min_history_days, "note": small}
    with threadpool_limits(limits=settings.threads):
        if reason is not None:
            # no out-of-time check: the first model, fitted on every origin, as it is
            name = settings.models[0]
            model = _estimator(name, settings.seed).fit(
                _design(everything, features), everything["churned_next"].to_numpy()
            )
            raw = model.predict_proba(_design(now, features))[:, 1] if len(now) else np.empty(0)
            return Backtest(**{**skipped, **facts, "chosen": name, "features": tuple(features),
                               "churn_probability": _probability(now, raw),
                               "choice": {"candidate": name, "population": None},
                               "warnings": tuple([reason, *warnings])}, note=None)
        contest = _contest(past, valid, now, features, [BASELINE, *settings.models], settings, final_on=everything,
                           season_map=lambda name, inputs, target: _season_map(
                               name, inputs, windows, training if target == "validation" else origins,
                               validation if target == "validation" else observation_date, seasonal, features,
                               settings))
    error = contest.pop("rate_error")
    if error is not None and abs(error) > settings.max_rate_error:
        warnings.append({"reason": "rate_error", "points": round(100 * error, 1),
                         "limit_points": round(100 * settings.max_rate_error, 1), "date": validation.isoformat()})
    return Backtest(**{**skipped, **contest, **facts, "features": tuple(features), "rate_error": error,
                       "warnings": tuple(warnings)}, note=None)


#: The time of year of the date a row was taken at, as a point on a circle; model features
#: only when the origins cover a whole year (:func:`backtest`).
SEASON_FEATURES: tuple[str, ...] = ("season_sin", "season_cos")


def _origins(first: pd.Timestamp, validation: dt.date, settings: Churn) -> list[dt.date]:
    """The dates the model learns from, latest first: every ``origin_step_days`` back from the
    validation date, each with ``min_history_days`` of orders before it, at most ``max_origins``."""
    if pd.isna(first):
        return []
    earliest = pd.Timestamp(first).normalize() + pd.Timedelta(days=settings.min_history_days)
    step = settings.origin_step_days
    dates = [pd.Timestamp(validation) - pd.Timedelta(days=k * step) for k in range(settings.max_origins)]
    return [date.date() for date in dates if date >= earliest]


def _with_season(frame: pd.DataFrame, date: dt.date, seasonal: bool) -> pd.DataFrame:
    """A table of buyers at `date` with its time of year, when the model reads it."""
    if not seasonal:
        return frame
    angle = 2 * np.pi * (pd.Timestamp(date).day_of_year - 1) / 365.25
    return frame.assign(season_sin=np.sin(angle), season_cos=np.cos(angle))


def _season_map(
    name: str, inputs: list[str], windows: Mapping[dt.date, pd.DataFrame], allowed: Sequence[dt.date],
    target: dt.date, seasonal: bool, features: list[str], settings: Churn,
) -> Callable[[np.ndarray], np.ndarray] | None:
    """A calibration map for the window starting at `target`, from the same weeks a year before.

    The candidate `name` is fitted on the `allowed` dates except those whose windows overlap the
    one a year before `target`, scores the buyers not yet lost on that date (where the scores are
    used), and Platt scaling maps its scores to what they did. None when the dates do not span a
    year or none falls within half a step of a year before `target`.
    """
    if not seasonal:
        return None
    horizon, half = settings.horizon_days, settings.origin_step_days // 2
    near = [t for t in allowed if abs((target - t).days - 365) <= half]
    if not near:
        return None
    anchor = near[0]
    rest = [t for t in allowed if abs((t - anchor).days) >= horizon]
    if not rest:
        return None
    fit_on = _stack([windows[t] for t in rest], settings)
    model = _estimator(name, settings.seed).fit(_design(fit_on, features)[inputs], fit_on["churned_next"].to_numpy())
    window = windows[anchor]
    used = window.loc[window["recency_days"].astype("float64").le(settings.lost_after_days)]
    y = used["churned_next"].to_numpy()
    if not 0 < y.sum() < len(y):  # both outcomes are needed to fit a map
        return None
    return _platt(model.predict_proba(_design(used, features)[inputs])[:, 1], y)


def _stack(frames: list[pd.DataFrame], settings: Churn) -> pd.DataFrame:
    """Buyers at several dates as one training table, sampled down to ``max_training_rows``
    (without their ids: a model learns from their features).

    The sample is drawn over the stacked rows' positions, and each date's sampled rows are taken
    from it before stacking: the same rows in the same order as sampling the whole stack, without
    copying the rows left out first (most of them, with a year of dates)."""
    sizes = [len(frame) for frame in frames]
    if sum(sizes) <= settings.max_training_rows:
        return pd.concat(frames, ignore_index=True).drop(columns="customer_id")
    keep = np.sort(np.random.default_rng(settings.seed).choice(sum(sizes), settings.max_training_rows, replace=False))
    edges = np.searchsorted(keep, np.cumsum([0, *sizes]))  # where each date's rows start among the kept
    starts = np.cumsum([0, *sizes[:-1]])
    parts = [frame.take(keep[edges[i]:edges[i + 1]] - starts[i]) for i, frame in enumerate(frames)]
    return pd.concat(parts, ignore_index=True).drop(columns="customer_id")


def _too_small(
    frame: pd.DataFrame, data: str, first: dt.date, last: dt.date | None, settings: Churn
) -> dict | None:
    """Why a training or validation table is too small for the model, as facts, or None.

    `data` says which table it is (``learning``, ``checking`` or ``validation``); `first` and
    `last` are the dates it holds (`last` None for one date)."""
    churners = int(frame["churned_next"].sum())
    stayers = len(frame) - churners
    if len(frame) >= settings.min_customers_for_model and min(churners, stayers) >= settings.min_churners:
        return None
    return {
        "reason": "too_few_buyers", "data": data, "first": first.isoformat(),
        "last": None if last is None else last.isoformat(), "horizon_days": settings.horizon_days,
        "buyers": len(frame), "churned": churners, "stayed": stayers,
        "min_buyers": settings.min_customers_for_model, "min_each": settings.min_churners,
    }


def _season_and_history(
    first: pd.Timestamp, obs: pd.Timestamp, origins: list[dt.date], windows: Mapping[dt.date, pd.DataFrame],
    seasonal: bool, settings: Churn,
) -> list[dict]:
    """The warnings that depend on how much history there is: too short for the horizon, and the
    coming window's season never observed (with how far the churn rate moved between the dates
    that were)."""
    warnings: list[dict] = []
    days = int((obs - pd.Timestamp(first).normalize()).days)
    if days < 2 * settings.horizon_days:
        warnings.append({"reason": "short_history", "history_days": days, "horizon_days": settings.horizon_days})
    if not seasonal:
        rates = {t: float(windows[t]["churned_next"].mean()) for t in origins if len(windows[t])}
        low, high = min(rates, key=rates.get), max(rates, key=rates.get)
        end = obs + pd.Timedelta(days=settings.horizon_days - 1)
        warnings.append({
            "reason": "season_not_observed", "window_start": obs.date().isoformat(),
            "window_end": end.date().isoformat(), "history_start": pd.Timestamp(first).date().isoformat(),
            "lowest_rate": round(rates[low], 4), "lowest_date": low.isoformat(),
            "highest_rate": round(rates[high], 4), "highest_date": high.isoformat(), "dates": len(rates),
        })
    return warnings


def _contest(
    train: pd.DataFrame, valid: pd.DataFrame, now: pd.DataFrame, features: list[str], candidates: list[str],
    settings: Churn, *, final_on: pd.DataFrame,
    season_map: Callable[[str, list[str], str], Callable[[np.ndarray], np.ndarray] | None],
) -> dict[str, object]:
    """Fit every candidate on the training origins, judge it on the validation window, refit the
    winner on `final_on` (every origin) and score the buyers of ``now``: the model fields of a
    Backtest, and ``rate_error`` (the winner's mean validation probability, mapped as the
    probabilities at ``now`` are, minus the realised rate, on the population it was judged on).

    ``season_map(name, inputs, "validation" | "observation")`` gives the calibration map for that
    date from the same weeks a year before, or None (see :func:`backtest`)."""
    seed = settings.seed
    x_train, y_train = _design(train, features), train["churned_next"].to_numpy()
    x_valid, y_valid = _design(valid, features), valid["churned_next"].to_numpy()
    inputs = {name: ["recency_days"] if name == BASELINE else features for name in candidates}
    fitted = {name: _estimator(name, seed).fit(x_train[inputs[name]], y_train) for name in candidates}
    scores = {name: fitted[name].predict_proba(x_valid[inputs[name]])[:, 1] for name in candidates}

    populations = {
        "buyers": np.ones(len(valid), dtype=bool),
        "not_lost": x_valid["recency_days"].to_numpy() <= settings.lost_after_days,
    }
    ids = valid["customer_id"].astype("str").to_numpy()
    rows, bins = [], []
    for population, member in populations.items():
        y = y_valid[member]
        judged = member.any() and 0 < y.sum() < y.size  # both outcomes, or no ROC AUC
        for name in candidates:
            # the baseline ranks by recency itself, as it would be used without any model
            ranking = x_valid["recency_days"].to_numpy() if name == BASELINE else scores[name]
            figures = _ranking_metrics(y, ranking[member], ids[member]) if judged else {}
            brier = float(brier_score_loss(y, scores[name][member])) if judged else np.nan
            rows.append({"population": population, "candidate": name, **figures, "brier": brier})
            if judged:
                bins.append(_calibration(population, name, y, scores[name][member]))
    metrics = pd.DataFrame(rows).reindex(columns=[c for c in _METRIC_COLUMNS if c != "chosen"])

    # judged where the scores are used (the watch list leaves lost customers out), unless the
    # window has no such customers of both outcomes
    judged_on = "not_lost" if metrics.loc[metrics["population"].eq("not_lost"), "roc_auc"].notna().all() else "buyers"
    auc = metrics.loc[metrics["population"].eq(judged_on)].set_index("candidate")["roc_auc"].to_dict()
    best = max(candidates, key=lambda name: (auc[name], -_SIMPLICITY.index(name)))
    metrics = metrics.assign(chosen=metrics["candidate"].eq(best)).astype(_METRIC_COLUMNS)
    others = [{"candidate": name, "roc_auc": auc[name]}
              for name in sorted(candidates, key=lambda c: -auc[c]) if name != best]
    member = populations[judged_on]

    # Out of time, a model's probabilities run off true rates. They are mapped to the rates of the
    # same weeks a year before, when the history holds them (a map from another season would carry
    # that season's rate into the coming window). Replayed at the validation date (a map from the
    # weeks a year before it, fitted on dates whose windows end by then) the map is judged on
    # customers it never saw, and how far the mean missed the realised rate is kept.
    judged_scores, judged_y = scores[best][member], y_valid[member]
    replay = season_map(best, inputs[best], "validation")
    if replay is not None:
        judged_scores = replay(judged_scores)
        bins.append(_calibration(judged_on, best + RECALIBRATED, judged_y, judged_scores))
    rate_error = float(judged_scores.mean() - judged_y.mean()) if len(judged_y) else None

    # the winner, refitted on every origin (the validation window included), scores every buyer now
    final = _estimator(best, seed).fit(_design(final_on, features)[inputs[best]], final_on["churned_next"].to_numpy())
    raw = final.predict_proba(_design(now, features)[inputs[best]])[:, 1] if len(now) else np.empty(0)
    recalibrate = season_map(best, inputs[best], "observation")
    probability = recalibrate(raw) if recalibrate is not None and len(now) else raw
    return {
        "metrics": metrics,
        "calibration": pd.concat(bins, ignore_index=True)[list(_CALIBRATION_COLUMNS)].astype(_CALIBRATION_COLUMNS),
        "importances": _importances(fitted[best], x_valid.loc[member, inputs[best]], y_valid[member], seed),
        "chosen": best,
        "choice": {"candidate": best, "roc_auc": auc[best], "population": judged_on, "others": others},
        "churn_probability": _probability(now, probability),
        "rate_error": rate_error,
    }


def _platt(score: np.ndarray, y: np.ndarray):
    """A calibration map fitted by Platt scaling: a logistic regression on the score's log-odds.

    Two parameters, monotone, so it never reorders customers (ROC AUC and the watch list's
    ranking by probability stay as they are); it only moves the probabilities to the rates seen.
    """
    def logit(p: np.ndarray) -> np.ndarray:
        p = np.clip(p, 1e-6, 1 - 1e-6)
        return np.log(p / (1 - p)).reshape(-1, 1)

    model = LogisticRegression(C=1e6, max_iter=1000).fit(logit(score), y)
    return lambda values: model.predict_proba(logit(values))[:, 1]


def _estimator(name: str, seed: int) -> Pipeline:
    """An unfitted candidate. Settings are fixed, not tuned: the backtest judges them as they are."""
    if name == "gradient_boosting":
        # early_stopping off: sklearn switches it on above 10,000 rows with a random split, which
        # would make small and large studies fit differently
        model = HistGradientBoostingClassifier(
            max_iter=100, learning_rate=0.1, max_leaf_nodes=15, min_samples_leaf=40, l2_regularization=1.0,
            early_stopping=False, random_state=seed,
        )
        return make_pipeline(model)
    # Counts and amounts are heavily skewed: a signed log puts them on a scale where one
    # coefficient per feature makes sense. Missing values (no cadence, no feedback) get the
    # median plus an indicator, so "never answered a survey" is itself a signal.
    steps = [
        FunctionTransformer(_signed_log, feature_names_out="one-to-one"),
        SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
        StandardScaler(),
        LogisticRegression(C=1.0 if name == "logistic" else 1e6, max_iter=2000),
    ]
    if name not in ("logistic", BASELINE):
        raise ValueError(f"unknown churn model {name!r}; choose from {list(_SIMPLICITY[1:])}")
    return make_pipeline(*steps)


def _signed_log(values):
    return np.sign(values) * np.log1p(np.abs(values))


def _ranking_metrics(y: np.ndarray, score: np.ndarray, ids: np.ndarray) -> dict[str, float]:
    """ROC AUC, PR AUC, top-decile precision and lift; ties at the decile edge by customer_id."""
    base = float(y.mean())
    top = math.ceil(_TOP_SHARE * len(y))
    order = np.lexsort((ids, -score))  # highest score first, then customer_id
    precision = float(y[order[:top]].mean())
    return {
        "roc_auc": float(roc_auc_score(y, score)),
        "pr_auc": float(average_precision_score(y, score)),
        "top_decile_precision": precision,
        "top_decile_lift": precision / base,
        "base_rate": base,
        "n": int(len(y)),
        "n_churned": int(y.sum()),
    }


def _calibration(population: str, name: str, y: np.ndarray, probability: np.ndarray) -> pd.DataFrame:
    """Predicted vs observed churn in equal-count bins of the predicted probability.

    Equal counts by rank rather than sklearn's quantile edges: with many tied probabilities
    (a one-feature baseline) quantile edges collapse and bins vanish; ranks always give ten.
    """
    rank = pd.Series(probability).rank(method="first").to_numpy() - 1
    bins = (rank * _CALIBRATION_BINS // len(probability)).astype(np.int64)
    frame = pd.DataFrame({"bin": bins + 1, "p": probability, "y": y.astype("float64")})
    table = frame.groupby("bin").agg(n=("y", "size"), mean_predicted=("p", "mean"), observed_rate=("y", "mean"))
    return table.reset_index().assign(population=population, candidate=name)[list(_CALIBRATION_COLUMNS)]


def _importances(model: Pipeline, x: pd.DataFrame, y: np.ndarray, seed: int) -> pd.DataFrame:
    """Permutation importance (drop in ROC AUC) on at most _IMPORTANCE_ROWS validation rows."""
    if len(x) > _IMPORTANCE_ROWS:
        pick = np.sort(np.random.default_rng(seed).choice(len(x), _IMPORTANCE_ROWS, replace=False))
        x, y = x.iloc[pick], y[pick]
    result = permutation_importance(model, x, y, scoring="roc_auc", n_repeats=5, random_state=seed)
    table = pd.DataFrame({
        "feature": list(x.columns),
        "importance_mean": result.importances_mean,
        "importance_std": result.importances_std,
    })
    return table.sort_values(["importance_mean", "feature"], ascending=[False, True], ignore_index=True).astype(
        _IMPORTANCE_COLUMNS
    )


def _probability(buyers: pd.DataFrame, values: np.ndarray) -> pd.Series:
    return pd.Series(values, index=pd.Index(buyers["customer_id"].astype("str"), name="customer_id"),
                     name="churn_probability", dtype="float64")


def _empty(columns: Mapping[str, str]) -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in columns.items()})


def _plain(facts: object) -> object:
    """Facts as JSON takes them: numpy numbers as plain ones, NaN as None, tuples as lists."""
    if isinstance(facts, Mapping):
        return {str(key): _plain(value) for key, value in facts.items()}
    if isinstance(facts, (list, tuple)):
        return [_plain(value) for value in facts]
    if isinstance(facts, (bool, np.bool_)):
        return bool(facts)
    if isinstance(facts, (int, np.integer)):
        return int(facts)
    if isinstance(facts, (float, np.floating)):
        return float(facts) if np.isfinite(facts) else None
    return facts


