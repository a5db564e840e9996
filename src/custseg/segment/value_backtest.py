"""How far the customer value can be trusted: a holdout backtest of the value models, and warnings.

The value models (:mod:`custseg.segment.clv`) predict what each buyer will buy over the next
``value.horizon_days``. Their estimators are right (they reproduce the published CDNOW figures);
whether a shop's customers behave as the models assume is another matter, and only a check out
of time shows it. This module makes that check, chooses the model by it, and states in facts
(reason codes and figures, never sentences) where the numbers stop being trustworthy. The pages
turn the facts into words in the reader's language.

The backtest
------------
The models are fitted as they would have been at a past date, the *cut-off*, on the purchases
before it, and their predictions for the span from the cut-off to the observation date are
compared with what the customers then did, as Fader, Hardie & Lee (2005) do on CDNOW (fit on
weeks 1-39, compare weeks 40-78):

* span: ``value.backtest_days``; by default the value horizon, or half the history when that is
  shorter. Half, because the fit then sees as many days as it predicts: the real fit does the
  same when the horizon is as long as the history, and a shorter calibration would leave too
  few repeat purchases to fit, a shorter span would test too short a prediction.
* who: every customer with a purchase before the cut-off. Customers who first bought later are
  not predicted by these models, here or at the observation date.
* what happened: purchases dated in the span that stand as known at the observation date (one
  undone later is no purchase: :func:`custseg.segment.features.purchases_at`), counted per day as the
  models count them, at their net value (:func:`custseg.segment.features.net_values`).
* tiers: the tier each customer had *at the cut-off* (``tiers_at``), as an analyst would have seen
  it then; the tier at the observation date already knows the span's purchases.
* groups: the whole base, each tier, and the number of repeat purchases before the cut-off,
  0, 1, ..., 6 and 7+ (the conditional-expectation table of Fader, Hardie & Lee 2005, fig. 4).

Choosing the model
------------------
Candidates (:func:`candidates`): BG/NBD and MBG/NBD, each without a penalty and with a penalty
of 0.001, each with Gamma-Gamma on the repeat purchases and on all purchases: eight specs. A
``value.model``, ``value.penalizer`` or ``value.order_value_purchases`` other than ``auto`` fixes
that part of the choice. A candidate's *error* is the largest |predicted / actual - 1| of revenue
over the span among the whole base and each tier (the page promises a figure for each); the one
with the smallest error is chosen, but a candidate has to beat every one listed before it by
more than :data:`TIE` (half a percentage point), so a near-tie goes to the simpler spec (BG/NBD
before MBG/NBD, no penalty before a penalty, repeat purchases before all). The choice is
deterministic: fixed starting values, a fixed order. The chosen spec is then refitted on every
purchase before the observation date.

Warnings (:func:`warnings`)
---------------------------
======================  ======================================================================
 reason                  when
======================  ======================================================================
 degenerate_fit          a purchase-model parameter outside [1e-4, 1e4] (:data:`PARAMETER_RANGE`):
                         it runs towards the edge of the search (typically a near 0 and b huge:
                         nobody ever drops out)
 p_alive_near_one        P(alive) at least 0.99 for at least 90% of the repeat buyers
                         (:data:`NEAR_ONE`, :data:`NEAR_ONE_SHARE`): the model sees no one leave
 short_history           the history (first purchase in the data to the observation date) is
                         shorter than twice ``value.horizon_days``: the horizon predicted is
                         longer than the history behind it, and the backtest covers less
 unseen_months           calendar months of the horizon in which the history has no day: what
                         customers do in that season was never observed
 backtest_error          the chosen spec's backtest error of revenue, for the whole base or a
                         tier, above ``value.max_backtest_error``
 no_backtest             the backtest could not be run (why: ``cause``)
======================  ======================================================================
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy.stats import spearmanr
from sklearn.metrics import roc_auc_score

from custseg.config import Value
from custseg.segment import clv
from custseg.segment.clv import ModelSpec
from custseg.segment.features import net_values, purchases_at

#: Penalties tried when ``value.penalizer`` is ``auto``: plain maximum likelihood, and a small
#: penalty that keeps a fit with no finite optimum finite.
PENALTIES: tuple[float, ...] = (0.0, 0.001)
#: A candidate must beat every one listed before it by more than this (in the error's units, a
#: share: 0.005 = half a percentage point); smaller differences are noise on a few months of data.
TIE = 0.005
#: Calibration repeat purchases are grouped 0, 1, ..., LAST_FREQUENCY - 1 and LAST_FREQUENCY or more.
LAST_FREQUENCY = 7
#: A purchase-model parameter outside this range makes a degenerate fit (see the module docstring).
PARAMETER_RANGE = (1e-4, 1e4)
#: P(alive) this high ...
NEAR_ONE = 0.99
#: ... for at least this share of the repeat buyers makes a degenerate fit too.
NEAR_ONE_SHARE = 0.9
#: Shortest span worth a backtest, in days.
MIN_SPAN_DAYS = 7

#: Columns of :attr:`ValueBacktest.groups`.
GROUP_COLUMNS = ("kind", "group", "customers", "predicted_purchases", "actual_purchases",
                 "predicted_revenue", "actual_revenue")
#: Columns of :attr:`ValueBacktest.candidates`.
CANDIDATE_COLUMNS = ("model", "penalizer", "order_value_purchases", "order_values", "error", "revenue_ratio",
                     "purchases_ratio", "failed", "chosen")


@dataclass(frozen=True)
class ValueBacktest:
    """What the holdout backtest of the value models found.

    Attributes
    ----------
    cutoff
        The cut-off date (None when the backtest could not be run).
    days
        Length of the span from the cut-off to the observation date (0 when not run).
    history_days
        Days from the first purchase in the data to the observation date.
    chosen
        The spec used at the observation date.
    chosen_by
        ``backtest`` (the smallest error among several candidates), ``config`` (one candidate:
        the config fixes every choice) or ``default`` (not backtested: the config's choices,
        BG/NBD, no penalty and repeat purchases for those left ``auto``).
    candidates
        One row per candidate, in the order tried (:data:`CANDIDATE_COLUMNS`): its spec, how its
        order values were priced (``gamma_gamma``, or ``observed_mean`` when Gamma-Gamma could not
        be fitted), its error (NaN when its fit failed, with why in ``failed``: the facts of
        :func:`custseg.segment.clv.fit_error` as compact JSON text, else empty), the
        ratio of predicted to actual revenue and purchases of the whole base, and whether it was
        chosen.
    groups
        The chosen spec's predictions against what happened (:data:`GROUP_COLUMNS`): kind
        ``all`` (one row), ``tier`` (tier at the cut-off, in tier order) and ``frequency``
        (repeat purchases before the cut-off, ``0`` ... ``7+``). Purchases and revenue are totals
        over the group's customers.
    metrics
        Rankings of the chosen spec: ``spearman_revenue`` (predicted against actual revenue per
        customer), ``auc_expected_purchases`` and ``auc_recency`` (ROC AUC for "bought in the span"
        by expected purchases, and by days since the last purchase alone), ``auc_p_alive`` and
        ``auc_recency_repeat`` (the same among repeat buyers, by P(alive) and by recency).
    skipped
        Why there is no backtest (reason code and figures); None when there is one.
    """

    cutoff: dt.date | None
    days: int
    history_days: int
    chosen: ModelSpec
    chosen_by: Literal["backtest", "config", "default"]
    candidates: pd.DataFrame
    groups: pd.DataFrame
    metrics: Mapping[str, float] = field(default_factory=dict)
    skipped: Mapping[str, object] | None = None

    def error(self, kind: str = "all", group: str = "all") -> float:
        """predicted / actual - 1 of revenue for one group (NaN when unknown or nothing was bought)."""
        rows = self.groups.loc[self.groups["kind"].eq(kind) & self.groups["group"].eq(group)]
        if rows.empty:
            return float("nan")
        actual = float(rows["actual_revenue"].iloc[0])
        return float(rows["predicted_revenue"].iloc[0]) / actual - 1.0 if actual > 0 else float("nan")

    def summary(self) -> dict:
        """JSON-safe facts for study.json's ``value.backtest``."""
        facts: dict = {
            "cutoff": self.cutoff.isoformat() if self.cutoff else None,
            "days": self.days,
            "history_days": self.history_days,
            "chosen_by": self.chosen_by,
            "criterion": "largest |predicted / actual - 1| of revenue over the span, whole base and each tier",
        }
        if self.skipped is not None:
            return facts | {"skipped": dict(self.skipped)}
        groups = self.groups
        tiers = groups.loc[groups["kind"].eq("tier"), "group"]
        facts |= {
            "error": _number(self.error()),
            "tier_errors": {str(tier): _number(self.error("tier", tier)) for tier in tiers},
            "purchases_ratio": _number(_ratio(groups.iloc[0], "purchases")),
            "metrics": {name: _number(value) for name, value in self.metrics.items()},
            "candidates": [
                {**{c: row[c] for c in ("model", "order_value_purchases", "order_values")},
                 "failed": json.loads(row["failed"]) if row["failed"] else None,
                 "penalizer": float(row["penalizer"]), "error": _number(row["error"]), "chosen": bool(row["chosen"])}
                for row in self.candidates.to_dict("records")
            ],
        }
        return facts


def candidates(settings: Value) -> list[ModelSpec]:
    """The specs the backtest tries, simplest first (see the module docstring).

    Parameters
    ----------
    settings
        The ``value`` section; a choice other than ``auto`` is kept fixed.
    """
    models = clv.PURCHASE_MODELS if settings.model == "auto" else (settings.model,)
    penalties = PENALTIES if settings.penalizer == "auto" else (float(settings.penalizer),)
    purchases = clv.ORDER_VALUE_PURCHASES if settings.order_value_purchases == "auto" else (
        settings.order_value_purchases,)
    return [ModelSpec(model, penalty, read) for model in models for penalty in penalties for read in purchases]


def history_days(orders: pd.DataFrame, observation_date: dt.date) -> int:
    """Days from the first purchase in the data (as known at the observation date) to that date; 0 without one."""
    dates = orders["order_date"].to_numpy()[purchases_at(orders, observation_date)]
    if not len(dates):
        return 0
    first = pd.Timestamp(dates.min()).normalize()
    return int((pd.Timestamp(observation_date) - first).days)


def span_days(history: int, settings: Value) -> int:
    """The backtest span: ``value.backtest_days``, else the horizon or half the history, whichever is shorter."""
    return settings.backtest_days if settings.backtest_days is not None else min(settings.horizon_days, history // 2)


def outcome(orders: pd.DataFrame, start: dt.date, end: dt.date) -> pd.DataFrame:
    """What each customer bought from `start` to `end` (exclusive), as known at `end`.

    Purchases as :func:`custseg.segment.features.purchases_at` counts them at `end` (undone before then:
    none), on the customer's calendar days (several orders on one day are one purchase, as in
    :func:`custseg.segment.clv.rfm_summary`), at their net value (less the reversals matched before `end`).

    Returns
    -------
    pd.DataFrame
        ``customer_id`` (as text), ``purchases`` (purchase days) and ``revenue`` (net), one row
        per customer with a purchase in the span.
    """
    since = (orders["order_date"] >= pd.Timestamp(start)).to_numpy(dtype=bool, na_value=False)
    bought = purchases_at(orders, end) & since
    days = pd.DataFrame({
        "customer_id": orders["customer_id"].astype("str").to_numpy()[bought],
        "day": orders["order_date"].to_numpy()[bought].astype("datetime64[D]"),
        "revenue": net_values(orders, bought, end),
    })
    per_day = days.groupby(["customer_id", "day"], sort=False)["revenue"].sum()
    grouped = per_day.groupby(level="customer_id", sort=True)
    return pd.DataFrame({"purchases": grouped.size(), "revenue": grouped.sum()}).reset_index()


def backtest(
    orders: pd.DataFrame, observation_date: dt.date, settings: Value,
    tiers_at: Callable[[dt.date], pd.Series] | None = None,
) -> ValueBacktest:
    """Fit every candidate before a cut-off, compare its predictions with the span after it, choose.

    Parameters
    ----------
    orders
        Clean orders (as :func:`custseg.segment.clv.rfm_summary` reads them). Not modified.
    observation_date
        The end of the span (data strictly before it count).
    settings
        The ``value`` section of the config.
    tiers_at
        The tier of every customer at a date, indexed by customer_id as text; None: no tier rows
        (the choice then reads the whole base only).

    Returns
    -------
    ValueBacktest
        With ``skipped`` set, and the default spec chosen, when the span would be shorter than
        :data:`MIN_SPAN_DAYS`, the history before the cut-off has too few repeat buyers, every
        candidate's fit failed, or nobody bought in the span.
    """
    specs = candidates(settings)
    history = history_days(orders, observation_date)
    days = span_days(history, settings)
    default = ModelSpec.from_settings(settings)

    def skip(reason: dict) -> ValueBacktest:
        return ValueBacktest(None, 0, history, default, "default", _empty(CANDIDATE_COLUMNS), _empty(GROUP_COLUMNS),
                             skipped=reason)

    if days < MIN_SPAN_DAYS or days >= history:
        return skip({"reason": "short_history", "history_days": history, "days": days, "min_days": MIN_SPAN_DAYS})
    cutoff = observation_date - dt.timedelta(days=days)
    summary = clv.rfm_summary(orders, cutoff, settings.time_unit_days)
    try:
        fits = clv.fit_model_specs(summary, settings, specs)
    except ValueError as exc:
        return skip({"reason": "fit_failed", "cutoff": cutoff.isoformat(), "error": clv.fit_error(exc)})
    after = outcome(orders, cutoff, observation_date)
    ids = summary["customer_id"].astype("str")
    actual = after.set_index("customer_id").reindex(ids)
    actual_purchases = actual["purchases"].to_numpy(dtype="float64", na_value=0.0)
    actual_revenue = actual["revenue"].to_numpy(dtype="float64", na_value=0.0)
    if actual_revenue.sum() <= 0:
        return skip({"reason": "nothing_bought", "cutoff": cutoff.isoformat(), "days": days})
    tier = None if tiers_at is None else tiers_at(cutoff).reindex(ids)

    rows, predictions = [], {}
    for spec in specs:
        fitted = fits[spec]
        if isinstance(fitted, ValueError):
            rows.append({**spec.summary(), "order_values": "", "error": np.nan, "revenue_ratio": np.nan,
                         "purchases_ratio": np.nan,
                         "failed": json.dumps(clv.fit_error(fitted), ensure_ascii=False, separators=(",", ":"))})
            continue
        purchases, revenue = clv.predicted_revenue(summary, fitted, days, settings.cap_order_value)
        predictions[spec] = fitted, purchases, revenue
        rows.append({
            **spec.summary(), "order_values": fitted.order_values, "error": _worst_error(revenue, actual_revenue, tier),
            "revenue_ratio": revenue.sum() / actual_revenue.sum(),
            "purchases_ratio": purchases.sum() / actual_purchases.sum() if actual_purchases.sum() else np.nan,
            "failed": "",
        })
    table = pd.DataFrame(rows, columns=CANDIDATE_COLUMNS[:-1])
    if not predictions:
        first = json.loads(table["failed"].iloc[0])
        return skip({"reason": "fit_failed", "cutoff": cutoff.isoformat(), "error": first})
    best = _choose(table["error"].to_numpy(dtype="float64"))
    table = table.assign(chosen=np.arange(len(table)) == best)
    chosen = specs[best]
    fitted, purchases, revenue = predictions[chosen]
    groups = _groups(summary, purchases, revenue, actual_purchases, actual_revenue, tier)
    metrics = _metrics(summary, fitted, purchases, revenue, actual_purchases, actual_revenue)
    chosen_by = "backtest" if len(specs) > 1 else "config"
    return ValueBacktest(cutoff, days, history, chosen, chosen_by, table, groups, metrics)


def warnings(
    models: clv.ValueModels | None, scored: pd.DataFrame | None, check: ValueBacktest, settings: Value,
    observation_date: dt.date, history_months: frozenset[int] = frozenset(),
) -> list[dict]:
    """Where the customer value stops being trustworthy: one dict per warning, reason code and figures.

    Parameters
    ----------
    models
        The value models fitted at the observation date; None when they could not be, and then
        there is nothing to warn about: the stand-in value is observed, not predicted, and the
        pages say so wherever it is shown.
    scored
        :func:`custseg.segment.clv.customer_value` of those models (``p_alive``, ``one_time_buyer``).
    check
        The backtest.
    settings
        The ``value`` section (``horizon_days``, ``max_backtest_error``).
    observation_date
        The observation date.
    history_months
        Calendar months (1-12) in which the history has at least one day.

    Returns
    -------
    list[dict]
        In the order of the module docstring's table; empty when nothing needs saying.
    """
    if models is None:
        return []
    found: list[dict] = []
    params = {name: getattr(models, name) for name in ("r", "alpha", "a", "b")}
    low, high = PARAMETER_RANGE
    off = {name: float(value) for name, value in params.items() if not low <= value <= high}
    if off:
        found.append({"reason": "degenerate_fit", "model": models.model, "parameters": off,
                      "range": list(PARAMETER_RANGE)})
    if scored is not None:
        repeat = scored.loc[~scored["one_time_buyer"].astype(bool), "p_alive"].dropna()
        share = float(repeat.ge(NEAR_ONE).mean()) if len(repeat) else float("nan")
        if len(repeat) and share >= NEAR_ONE_SHARE:
            found.append({"reason": "p_alive_near_one", "share": share, "p_alive": NEAR_ONE,
                          "min_share": NEAR_ONE_SHARE, "repeat_buyers": int(len(repeat))})
    history = check.history_days
    if history < 2 * settings.horizon_days:
        found.append({"reason": "short_history", "history_days": history, "horizon_days": settings.horizon_days,
                      "backtest_days": check.days, "max_error": settings.max_backtest_error})
    unseen = horizon_months(observation_date, settings.horizon_days) - set(history_months)
    if history_months and unseen:
        found.append({"reason": "unseen_months", "months": sorted(unseen),
                      "horizon_months": len(horizon_months(observation_date, settings.horizon_days))})
    if check.skipped is not None:
        found.append({"reason": "no_backtest", "cause": check.skipped["reason"]}
                     | {k: v for k, v in check.skipped.items() if k != "reason"})
    else:
        tier_groups = check.groups.loc[check.groups["kind"].eq("tier"), "group"]
        scopes = [("all", "all"), *(("tier", str(t)) for t in tier_groups)]
        for kind, group in scopes:
            error = check.error(kind, group)
            if np.isfinite(error) and abs(error) > settings.max_backtest_error:
                found.append({"reason": "backtest_error", "scope": kind, "group": group, "error": error,
                              "max_error": settings.max_backtest_error, "days": check.days})
    return found


def horizon_months(observation_date: dt.date, days: int) -> set[int]:
    """Calendar months (1-12) with at least one day in [observation_date, observation_date + days)."""
    end = observation_date + dt.timedelta(days=max(days, 1) - 1)
    months = pd.period_range(pd.Timestamp(observation_date), pd.Timestamp(end), freq="M")
    return {int(period.month) for period in months}


def history_months(summary_dates: pd.Series) -> frozenset[int]:
    """Calendar months (1-12) in which some of `summary_dates` (purchase dates) fall."""
    dates = pd.to_datetime(summary_dates.dropna())
    return frozenset(int(m) for m in np.unique(dates.dt.month.to_numpy())) if len(dates) else frozenset()


# --- helpers ------------------------------------------------------------------------------------


def _choose(errors: np.ndarray) -> int:
    """Index of the chosen candidate: the smallest error, unless one listed earlier is within TIE."""
    finite = np.where(np.isfinite(errors), errors, np.inf)
    best = int(np.argmin(finite))
    return int(np.flatnonzero(finite <= finite[best] + TIE)[0])


def _worst_error(predicted: np.ndarray, actual: np.ndarray, tier: pd.Series | None) -> float:
    """Largest |predicted / actual - 1| of revenue over the whole base and each tier that bought."""
    errors = [abs(predicted.sum() / actual.sum() - 1.0)]
    if tier is not None:
        codes, labels = pd.factorize(tier.astype("object"), use_na_sentinel=True)
        for code in range(len(labels)):
            mine = codes == code
            spent = actual[mine].sum()
            if spent > 0:
                errors.append(abs(predicted[mine].sum() / spent - 1.0))
    return float(max(errors))


def _groups(summary: pd.DataFrame, purchases: np.ndarray, revenue: np.ndarray, actual_purchases: np.ndarray,
            actual_revenue: np.ndarray, tier: pd.Series | None) -> pd.DataFrame:
    frame = pd.DataFrame({
        "predicted_purchases": purchases, "actual_purchases": actual_purchases,
        "predicted_revenue": revenue, "actual_revenue": actual_revenue,
    })
    sums = ["predicted_purchases", "actual_purchases", "predicted_revenue", "actual_revenue"]

    def rows(kind: str, labels: np.ndarray, order: list[str]) -> pd.DataFrame:
        grouped = frame.groupby(labels, sort=False)
        table = grouped[sums].sum().assign(customers=grouped.size())
        table = table.reindex([g for g in order if g in table.index])
        return table.rename_axis("group").reset_index().assign(kind=kind)

    parts = [rows("all", np.full(len(frame), "all"), ["all"])]
    if tier is not None:
        names = [str(c) for c in tier.cat.categories] if isinstance(tier.dtype, pd.CategoricalDtype) else sorted(
            tier.dropna().astype("str").unique())
        labels = tier.astype("object").where(tier.notna(), "none").astype("str").to_numpy()
        parts.append(rows("tier", labels, [*names, "none"]))
    x = summary["frequency"].to_numpy()
    groups = [str(k) for k in range(LAST_FREQUENCY)] + [f"{LAST_FREQUENCY}+"]
    labels = np.where(x >= LAST_FREQUENCY, groups[-1], np.minimum(x, LAST_FREQUENCY).astype("str"))
    parts.append(rows("frequency", labels, groups))
    table = pd.concat(parts, ignore_index=True)
    return table.assign(customers=table["customers"].astype("int64"))[list(GROUP_COLUMNS)]


def _metrics(summary: pd.DataFrame, models: clv.ValueModels, expected: np.ndarray, revenue: np.ndarray,
             actual_purchases: np.ndarray, actual_revenue: np.ndarray) -> dict[str, float]:
    """Rank figures: does the model put next period's buyers and spenders first, better than recency?"""
    bought = actual_purchases > 0
    silence = (summary["T"] - summary["recency"]).to_numpy(dtype="float64")
    alive = clv.p_alive(summary, models)
    repeat = summary["frequency"].to_numpy() > 0
    return {
        "spearman_revenue": float(spearmanr(revenue, actual_revenue).statistic),
        "auc_expected_purchases": _auc(bought, expected),
        "auc_recency": _auc(bought, -silence),
        "auc_p_alive": _auc(bought[repeat], alive[repeat]),
        "auc_recency_repeat": _auc(bought[repeat], -silence[repeat]),
    }


def _auc(y: np.ndarray, score: np.ndarray) -> float:
    return float(roc_auc_score(y, score)) if 0 < y.sum() < len(y) else float("nan")


def _ratio(row: pd.Series, what: str) -> float:
    actual = float(row[f"actual_{what}"])
    return float(row[f"predicted_{what}"]) / actual if actual > 0 else float("nan")


def _empty(columns: tuple[str, ...]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})


def _number(value: object) -> float | None:
    """A float for JSON; None for NaN (JSON has no NaN)."""
    return None if value is None or not np.isfinite(value) else float(value)
