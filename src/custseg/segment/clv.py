"""Customer value: BG/NBD (who is still buying, and how often) and Gamma-Gamma (how much per order).

Three steps, each a pure function:

1. :func:`rfm_summary` turns clean orders into the per-customer summary both models read:
   ``frequency`` (repeat purchases), ``recency`` and ``T`` (in time units of ``time_unit_days``,
   weeks by default) and ``monetary_value`` (mean value of the repeat purchases).
2. :func:`fit_value_models` fits both models by maximum likelihood and returns
   :class:`ValueModels`: point estimates and fit facts only, no posterior and no customer rows.
3. :func:`customer_value` scores every customer of a summary: ``p_alive``,
   ``expected_purchases``, ``expected_order_value``, ``clv`` and ``expected_next_order``.

The models
----------
BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy way"): while active, a
customer buys at a Poisson rate ``lambda ~ Gamma(r, alpha)``; after each *repeat* purchase they
drop out for good with probability ``p ~ Beta(a, b)``. MBG/NBD (Batislam, Denizel & Filiztekin
2007, with Wagner & Hoppe's 2008 erratum) is the same but for one thing: the customer may also
drop out right after the *first* purchase, so a one-time buyer long silent is not taken for a
slow buyer. Gamma-Gamma (Fader, Hardie & Lee 2005, "RFM and CLV", and Fader & Hardie's note
"The Gamma-Gamma model of monetary value"): order values of a customer are ``Gamma(p, nu)``
around a personal mean, ``nu ~ Gamma(q, v)``, independent of how often the customer buys. Fader
and Hardie fit it to the *repeat* purchases (the first one left out, as it may differ); it can
also read every purchase, first included (``order_value_purchases = "all"``), so that a
one-time buyer's own order says something about their next one.

Which purchase model, penalty and order-value purchases a study uses is one :class:`ModelSpec`;
:mod:`custseg.segment.value_backtest` chooses it by a holdout backtest unless the config fixes it.

Both are fitted here in closed form: the two marginal log-likelihoods are written out with
``gammaln`` / ``betaln`` and maximised with scipy's L-BFGS-B on the log-parameters, with analytic
gradients (:mod:`custseg.segment._likelihoods`). Why not a library: pymc-marketing (the
maintained successor of the archived ``lifetimes``) gives the same estimates, but compiles a
PyTensor graph per model, which is many times slower than the closed form, needs a C++ compiler
at run time and adds PyMC, PyTensor and ArviZ to the environment; the closed form needs scipy
alone (the timings: docs/performance.md).

One-time buyers
---------------
In BG/NBD a customer can only drop out right after a repeat purchase, so for a customer with
``frequency == 0`` the model's P(alive) is exactly 1 *by definition*, whatever the silence since
that one purchase. Open-source P(alive) therefore "is always 1 for one-time buyers" and it never
says anything about satisfaction. :func:`customer_value` does not show that 1: under BG/NBD their
``p_alive`` is missing (NaN) and ``one_time_buyer`` is True; judge them with the churn model, which
sees interactions and feedback. Their ``expected_purchases`` and ``clv`` are still the model's (low,
because the population rate ``r / alpha`` of a typical customer is low). Under MBG/NBD a one-time
buyer can have dropped out, and their P(alive) is the model's estimate, shown like anyone's.

Too little data
---------------
BG/NBD problems raise :class:`ValueError` naming the reason (fewer repeat buyers than
``value.min_repeat_buyers``, an optimizer that does not converge, a parameter running off to the
edge of its range), so the pipeline can write that sentence where the value columns would be.
Gamma-Gamma problems do not stop the fit: ``p, q, v`` are NaN, ``ValueModels.note`` says why, and
``expected_order_value`` falls back to each customer's own mean purchase value
(``ValueModels.order_values == "observed_mean"``), so CLV is still there, only not smoothed towards
the population. The usual reason is ``q <= 1``: mean order values differ so much between customers
(a shop selling to both households and wholesalers) that the model's population mean is infinite.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy.special import expit, hyp2f1

from custseg.config import Value
from custseg.segment._likelihoods import FitError, fit_bgnbd, fit_gamma_gamma, model_name
from custseg.segment.features import net_values, purchases_at

#: Columns of :func:`rfm_summary`, in order.
SUMMARY_COLUMNS: tuple[str, ...] = (
    "customer_id", "frequency", "recency", "T", "monetary_value", "mean_purchase_value", "max_purchase_value",
)
# What the models read of a summary; ``max_purchase_value`` only marks values above a customer's history.
_MODEL_COLUMNS = SUMMARY_COLUMNS[:-1]
#: Columns of :func:`customer_value`, in order.
VALUE_COLUMNS: tuple[str, ...] = (
    "customer_id", "one_time_buyer", "p_alive", "expected_purchases", "expected_order_value",
    "order_value_above_history", "clv", "expected_next_order",
)
#: Name recorded in :attr:`ValueModels.method`.
METHOD = "maximum likelihood, closed form (BG/NBD + Gamma-Gamma), scipy L-BFGS-B"
#: The purchase models: BG/NBD, and MBG/NBD, where a customer may drop out after the first purchase too.
PURCHASE_MODELS: tuple[str, ...] = ("bgnbd", "mbgnbd")
#: Which purchases the Gamma-Gamma model reads: the repeat purchases, or all of them.
ORDER_VALUE_PURCHASES: tuple[str, ...] = ("repeat", "all")

_ORDER_COLUMNS = ("customer_id", "order_date", "status", "revenue")
_DAYS_PER_YEAR = 365.25
_DAYS_PER_MONTH = _DAYS_PER_YEAR / 12
# Above this |Pearson r| between frequency and mean repeat order value, the Gamma-Gamma assumption
# (order value independent of purchase frequency) is considered broken; lifetimes' and Fader &
# Hardie's guidance is to check that the correlation is close to zero.
_STRONG_CORRELATION = 0.3


@dataclass(frozen=True)
class ModelSpec:
    """One way to fit the value models.

    Attributes
    ----------
    model
        ``bgnbd`` or ``mbgnbd`` (see the module docstring).
    penalizer
        L2 penalty on the log-parameters added to the mean negative log-likelihood of both fits.
    order_value_purchases
        ``repeat``: Gamma-Gamma reads each repeat buyer's mean repeat-purchase value (Fader &
        Hardie; a one-time buyer is expected at the population mean); ``all``: each buyer's mean
        over every purchase, the first included (a one-time buyer's order is shrunk towards the
        population mean rather than ignored).
    """

    model: Literal["bgnbd", "mbgnbd"] = "bgnbd"
    penalizer: float = 0.0
    order_value_purchases: Literal["repeat", "all"] = "repeat"

    @classmethod
    def from_settings(cls, settings: Value) -> ModelSpec:
        """The spec the ``value`` settings fix; an ``auto`` setting takes the plain default
        (BG/NBD, no penalty, repeat purchases: Fader & Hardie's published settings)."""
        return cls(
            model="bgnbd" if settings.model == "auto" else settings.model,
            penalizer=0.0 if settings.penalizer == "auto" else float(settings.penalizer),
            order_value_purchases=("repeat" if settings.order_value_purchases == "auto"
                                   else settings.order_value_purchases),
        )

    def summary(self) -> dict:
        """JSON-safe: the three choices by name."""
        return {"model": self.model, "penalizer": self.penalizer, "order_value_purchases": self.order_value_purchases}


@dataclass(frozen=True)
class ValueModels:
    """Point estimates of a BG/NBD and a Gamma-Gamma fit, and what is known about the fit.

    Attributes
    ----------
    r, alpha
        Gamma heterogeneity of the purchase rate while active (rate mean ``r / alpha`` per time unit).
    a, b
        Beta heterogeneity of the drop-out probability after each repeat purchase (and, with
        MBG/NBD, after the first) (mean ``a / (a + b)``).
    p, q, v
        Gamma-Gamma parameters; the population mean order value is ``p * v / (q - 1)``. NaN when the
        Gamma-Gamma part could not be fitted (``note`` says why).
    log_likelihood
        BG/NBD log-likelihood at the estimates (summed over customers).
    gg_log_likelihood
        Gamma-Gamma log-likelihood over the repeat buyers used (NaN when not fitted).
    n_customers, n_repeat_buyers
        Customers in the purchase-model fit; customers with a repeat purchase and a positive mean
        repeat value.
    frequency_value_corr
        Pearson correlation of the number of purchases and their mean value over the customers the
        Gamma-Gamma model read; the model assumes it is close to zero.
    time_unit_days
        Length of one time unit of ``recency``, ``T`` and ``alpha``, in days.
    penalizer
        L2 penalty on the log-parameters used in both fits.
    seconds
        Wall time of the fit.
    method
        How the parameters were estimated.
    note
        Empty when both models fitted cleanly, else what to know about the Gamma-Gamma part, as
        facts (a reason code and its figures each: ``few_spenders``, ``gg_no_optimum``,
        ``gg_heavy_tail``, ``correlation``, ``own_means``; docs/data-contract.md), worded by
        :func:`custseg.words.value_note`.
    order_values
        ``gamma_gamma``: expected order values from the Gamma-Gamma model; ``observed_mean``: the
        Gamma-Gamma part was not fitted (``note`` says why) and each customer's own mean purchase
        value stands in.
    model
        The purchase model, ``bgnbd`` or ``mbgnbd``.
    order_value_purchases
        Which purchases the Gamma-Gamma model read (``repeat`` or ``all``, see :class:`ModelSpec`).
    n_spend_customers
        Customers in the Gamma-Gamma fit (0 when it was not fitted).
    """

    r: float
    alpha: float
    a: float
    b: float
    p: float
    q: float
    v: float
    log_likelihood: float
    gg_log_likelihood: float
    n_customers: int
    n_repeat_buyers: int
    frequency_value_corr: float
    time_unit_days: int
    penalizer: float
    seconds: float
    method: str = METHOD
    note: tuple[dict[str, object], ...] = ()
    order_values: Literal["gamma_gamma", "observed_mean"] = "gamma_gamma"
    model: Literal["bgnbd", "mbgnbd"] = "bgnbd"
    order_value_purchases: Literal["repeat", "all"] = "repeat"
    n_spend_customers: int = 0

    @property
    def spec(self) -> ModelSpec:
        """How these models were fitted."""
        return ModelSpec(self.model, self.penalizer, self.order_value_purchases)

    @property
    def spend_fitted(self) -> bool:
        """Whether the Gamma-Gamma part has estimates (else order values are customers' own means)."""
        return bool(np.isfinite(self.q))

    @property
    def mean_order_value(self) -> float:
        """Population mean order value of the Gamma-Gamma model, ``p v / (q - 1)``."""
        return self.p * self.v / (self.q - 1.0) if self.spend_fitted else float("nan")

    @property
    def one_time_alive_defined(self) -> bool:
        """Whether the purchase model gives one-time buyers a P(alive) of their own (MBG/NBD);
        under BG/NBD it is 1 by definition."""
        return self.model == "mbgnbd"


def rfm_summary(orders: pd.DataFrame, observation_date: dt.date, time_unit_days: int = 7) -> pd.DataFrame:
    """The BG/NBD and Gamma-Gamma summary of every customer who bought before the date.

    A purchase is an order that is a purchase as known at ``observation_date``
    (:func:`custseg.segment.features.purchases_at`: completed, or undone by a matched reversal only on or
    after the date); cancelled, refunded and returned orders are not purchases. Each purchase is
    worth its *net* value: its revenue less the matched reversals that undid part of it before
    the date (column ``reverses``), never below zero. Purchases are counted by *day*: several
    orders on the same calendar day are one purchase worth their sum (the convention of Fader &
    Hardie and ``lifetimes``, which keeps a split basket from looking like a loyal customer).

    Parameters
    ----------
    orders
        Clean orders with ``customer_id``, ``order_date``, ``status`` and ``revenue`` (base
        currency; for a completed order its amount).
    observation_date
        The "today" of the analysis; only orders before it count.
    time_unit_days
        Length of one time unit in days (7: weeks).

    Returns
    -------
    pd.DataFrame
        One row per customer with at least one purchase, sorted by ``customer_id``:
        ``frequency`` (int64: distinct purchase days minus 1, i.e. repeat purchases), ``recency``
        (first to last purchase day), ``T`` (first purchase day to the observation date), both in
        time units, ``monetary_value`` (mean value of the repeat purchase days, excluding the
        first; 0 for one-time buyers, as Gamma-Gamma expects), ``mean_purchase_value`` (mean
        value of all purchase days, the fallback when Gamma-Gamma cannot be fitted) and
        ``max_purchase_value`` (the largest purchase day: what the customer's own history supports).

    Raises
    ------
    ValueError
        When a column is missing, ``time_unit_days`` is not positive, or a purchase has no revenue.
    """
    missing = [c for c in _ORDER_COLUMNS if c not in orders.columns]
    if missing:
        raise ValueError(f"orders table: missing column(s) {missing} needed for the value models")
    if time_unit_days < 1:
        raise ValueError(f"time_unit_days must be a positive number of days, got {time_unit_days}")
    cutoff = pd.Timestamp(observation_date)
    dates = pd.to_datetime(orders["order_date"])
    bought = purchases_at(orders, observation_date)
    value = orders["revenue"].to_numpy(dtype="float64", na_value=np.nan)[bought]
    if np.isnan(value).any():
        raise ValueError("orders table: column 'revenue' is missing on completed orders")
    value = net_values(orders, bought, observation_date)
    # Ids are coded once over the whole column (faster than picking strings out first), in
    # sorted id order; customers without a purchase drop out below.
    all_codes, all_ids = pd.factorize(orders["customer_id"], sort=True)
    code = all_codes[bought]
    if (code < 0).any():
        raise ValueError(f"orders table: {int((code < 0).sum())} completed order(s) have no customer_id")
    if len(code) == 0:
        return pd.DataFrame({
            "customer_id": pd.Series([], dtype=orders["customer_id"].dtype),
            "frequency": np.zeros(0, np.int64), "recency": np.zeros(0), "T": np.zeros(0),
            "monetary_value": np.zeros(0), "mean_purchase_value": np.zeros(0), "max_purchase_value": np.zeros(0),
        })
    # Whole days since the epoch: a timestamp counts on the calendar day it falls on.
    day = dates.to_numpy()[bought].astype("datetime64[D]").astype(np.int64)

    # One sort of packed (customer, day) keys gives each customer's purchase days in order.
    span = int(day.max() - day.min()) + 1
    key = code.astype(np.int64) * span + (day - day.min())
    order = np.argsort(key)
    key, value = key[order], value[order]
    new_day = np.empty(len(key), dtype=bool)
    new_day[0] = True
    np.not_equal(key[1:], key[:-1], out=new_day[1:])
    starts = np.flatnonzero(new_day)
    day_value = np.add.reduceat(value, starts)  # value of each (customer, day)
    day_key = key[starts]
    day_of = day_key % span + day.min()
    buyers, first_row, purchases = np.unique(day_key // span, return_index=True, return_counts=True)
    total = np.add.reduceat(day_value, first_row)
    last_row = first_row + purchases - 1
    first_day, last_day = day_of[first_row], day_of[last_row]
    frequency = purchases - 1
    with np.errstate(invalid="ignore", divide="ignore"):
        repeat_mean = (total - day_value[first_row]) / frequency
    obs_day = int((cutoff - pd.Timestamp("1970-01-01")).days)
    return pd.DataFrame({
        "customer_id": pd.array(np.asarray(all_ids)[buyers], dtype=orders["customer_id"].dtype),
        "frequency": frequency.astype(np.int64),
        "recency": (last_day - first_day) / time_unit_days,
        "T": (obs_day - first_day) / time_unit_days,
        "monetary_value": np.where(frequency > 0, repeat_mean, 0.0),
        "mean_purchase_value": total / purchases,
        "max_purchase_value": np.maximum.reduceat(day_value, first_row),
    })


def fit_value_models(summary: pd.DataFrame, settings: Value, spec: ModelSpec | None = None) -> ValueModels:
    """Fit the purchase model on every customer and Gamma-Gamma on the buyers it reads, by maximum likelihood.

    The objective of each fit is the mean negative log-likelihood plus
    ``spec.penalizer * sum(log(parameter) ** 2)`` (0: plain maximum likelihood; a small value
    such as 0.001 keeps parameters finite on awkward data at a small bias).

    Parameters
    ----------
    summary
        Output of :func:`rfm_summary` (``frequency``, ``recency``, ``T``, ``monetary_value``,
        and ``mean_purchase_value`` for ``order_value_purchases = "all"``), built with
        ``settings.time_unit_days``.
    settings
        The ``value`` section of the study config (time unit, ``min_repeat_buyers``).
    spec
        Purchase model, penalty and the purchases Gamma-Gamma reads; None:
        :meth:`ModelSpec.from_settings` (the settings' fixed choices, BG/NBD, no penalty and
        repeat purchases for those left ``auto``).

    Returns
    -------
    ValueModels
        Point estimates and fit facts. When the Gamma-Gamma part cannot be fitted (fewer than
        ``min_repeat_buyers`` customers with a positive value to read, an optimizer that does not
        converge, or ``q <= 1`` so the mean order value would be infinite) ``p, q, v`` are NaN,
        ``order_values`` is ``observed_mean`` and ``note`` says why. A strong correlation of
        frequency and order value (|Pearson r| > 0.3 over the repeat buyers) is fitted anyway
        and reported in ``note``.

    Raises
    ------
    ValueError
        When columns are missing or inconsistent (``recency > T``, negative values), when fewer
        than ``settings.min_repeat_buyers`` customers have a repeat purchase, or when the BG/NBD
        optimizer does not converge or a parameter runs off to the edge of its range.
    """
    spec = spec or ModelSpec.from_settings(settings)
    fitted = fit_model_specs(summary, settings, [spec])[spec]
    if isinstance(fitted, ValueError):
        raise fitted
    return fitted


def fit_model_specs(summary: pd.DataFrame, settings: Value, specs: Sequence[ModelSpec]
                    ) -> dict[ModelSpec, ValueModels | ValueError]:
    """Fit the value models of several specs on one summary, each part once.

    A purchase model is fitted once per (model, penalizer) and Gamma-Gamma once per (penalizer,
    purchases read), so eight specs cost four purchase fits and four Gamma-Gamma fits, not
    eight of each. Each result is what :func:`fit_value_models` gives for that spec alone.

    Parameters
    ----------
    summary, settings
        As :func:`fit_value_models`.
    specs
        The specs to fit.

    Returns
    -------
    dict[ModelSpec, ValueModels | ValueError]
        Per spec its models, or the error its purchase model failed with (an optimizer that did
        not converge, a parameter at the edge of its range).

    Raises
    ------
    ValueError
        When the summary is not valid or holds fewer than ``settings.min_repeat_buyers`` repeat
        buyers (then no spec can be fitted).
    """
    x, t_x, T = _summary_arrays(summary)
    repeat = x > 0
    n_repeat = int(repeat.sum())
    if n_repeat < settings.min_repeat_buyers:
        raise FitError(
            f"too little data for the value models: {n_repeat} of {len(x)} customers bought more "
            f"than once, the BG/NBD model needs at least value.min_repeat_buyers = "
            f"{settings.min_repeat_buyers} repeat buyers to tell drop-out from slow buying",
            {"reason": "few_repeat_buyers", "repeat_buyers": n_repeat, "customers": len(x),
             "min_repeat_buyers": settings.min_repeat_buyers},
        )
    m = summary["monetary_value"].to_numpy(dtype="float64")
    n_repeat_buyers = int((repeat & (m > 0)).sum())
    purchases: dict[tuple[str, float], tuple[object, float]] = {}
    spends: dict[tuple[float, str], tuple[_SpendFit, float]] = {}
    results: dict[ModelSpec, ValueModels | ValueError] = {}
    for spec in specs:
        key = (spec.model, spec.penalizer)
        if key not in purchases:
            started = time.perf_counter()
            try:
                fit: object = fit_bgnbd(x, t_x, T, spec.penalizer, _shift(spec.model))
            except ValueError as exc:  # this spec fails; the others may not
                fit = exc
            purchases[key] = fit, time.perf_counter() - started
        fit, purchase_seconds = purchases[key]
        if isinstance(fit, ValueError):
            results[spec] = fit
            continue
        spend_key = (spec.penalizer, spec.order_value_purchases)
        if spend_key not in spends:
            started = time.perf_counter()
            spends[spend_key] = _fit_spend(summary, x, settings, spec), time.perf_counter() - started
        spend, spend_seconds = spends[spend_key]
        bg, bg_ll = fit
        results[spec] = ValueModels(
            r=bg[0], alpha=bg[1], a=bg[2], b=bg[3], p=spend.params[0], q=spend.params[1], v=spend.params[2],
            log_likelihood=bg_ll, gg_log_likelihood=spend.log_likelihood, n_customers=len(x),
            n_repeat_buyers=n_repeat_buyers, frequency_value_corr=spend.correlation,
            time_unit_days=settings.time_unit_days, penalizer=spec.penalizer,
            seconds=purchase_seconds + spend_seconds, method=_method(spec.model), note=spend.note,
            order_values="gamma_gamma" if spend.fitted else "observed_mean",
            model=spec.model, order_value_purchases=spec.order_value_purchases,
            n_spend_customers=spend.customers if spend.fitted else 0,
        )
    return results


@dataclass(frozen=True)
class _SpendFit:
    """The Gamma-Gamma part of a fit."""

    params: tuple[float, float, float]  # p, q, v; NaN when not fitted
    log_likelihood: float
    correlation: float  # of the number of purchases read and their mean value
    customers: int  # customers the model read
    note: tuple[dict[str, object], ...]  # ValueModels.note

    @property
    def fitted(self) -> bool:
        return bool(np.isfinite(self.params[1]))


def _fit_spend(summary: pd.DataFrame, x: np.ndarray, settings: Value, spec: ModelSpec) -> _SpendFit:
    notes: list[dict[str, object]] = []
    count, mean = _spend_inputs(summary, x, spec.order_value_purchases)
    spenders = (count > 0) & (mean > 0)
    corr = _correlation(count[spenders], mean[spenders])
    gg, gg_ll = (np.nan, np.nan, np.nan), np.nan
    purchases = spec.order_value_purchases
    if spenders.sum() < settings.min_repeat_buyers:
        notes.append({"reason": "few_spenders", "spenders": int(spenders.sum()), "purchases": purchases,
                      "min_repeat_buyers": settings.min_repeat_buyers})
    else:
        gg, gg_ll, problem = fit_gamma_gamma(count[spenders], mean[spenders], spec.penalizer)
        if problem:
            notes.append(problem)
        elif abs(corr) > _STRONG_CORRELATION:
            notes.append({"reason": "correlation", "r": corr, "purchases": purchases})
    if notes and not np.isfinite(gg[1]):
        notes.append({"reason": "own_means"})
    return _SpendFit(gg, gg_ll, corr, int(spenders.sum()), tuple(notes))


def fit_error(error: ValueError) -> dict[str, object]:
    """Why the value models could not be fitted, as a fact: a :class:`FitError`'s facts
    (``few_repeat_buyers``, ``no_optimum``, ``no_finite_optimum``), else ``{"reason": "invalid",
    "message"}`` with the exception's own text (a summary that is not a purchase history: a bug
    or a broken table, not a property of the data)."""
    if isinstance(error, FitError):
        return dict(error.facts)
    return {"reason": "invalid", "message": str(error)}


def _method(model: str) -> str:
    return METHOD.replace("BG/NBD", model_name(_shift(model)))


def customer_value(
    summary: pd.DataFrame, models: ValueModels, settings: Value, observation_date: dt.date
) -> pd.DataFrame:
    """Score every customer of a summary with fitted value models.

    Formulas (time in units of ``models.time_unit_days``; ``x, t_x, T`` = frequency, recency, T;
    ``H`` = ``settings.horizon_days`` in time units):

    * ``p_alive``: BG/NBD: 1 / (1 + a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x))
      for repeat buyers (Fader, Hardie & Lee 2008, note 021); NaN for one-time buyers, whose
      model value is 1 by definition (see the module docstring); ``one_time_buyer`` marks them.
      MBG/NBD: 1 / (1 + a / (b + x) * ((alpha + T) / (alpha + t_x)) ** (r + x)) for every
      buyer (Batislam et al. 2007, appendix A, eq. 5).
    * ``expected_purchases`` = E[purchases in (T, T + H]] (Fader, Hardie & Lee 2005, eq. 10;
      for MBG/NBD Wagner & Hoppe 2008, which is eq. 10 with b + 1 for b and a / (b + x) in the
      denominator), with the hypergeometric term in its Euler-transformed, numerically stable form.
    * ``expected_order_value`` = Gamma-Gamma E[order value | n, m] = p (v + n m) / (p n + q - 1),
      with n, m the number and mean value of the purchases the model reads: the repeat purchases
      (n = x, m = ``monetary_value``; for one-time buyers the population mean p v / (q - 1)) or
      all of them (n = x + 1, m = ``mean_purchase_value``).
      When the Gamma-Gamma part was not fitted: ``mean_purchase_value``.
      ``order_value_above_history`` marks the customers whose expected order value is above their
      largest purchase so far (``max_purchase_value``, when the summary has it): Gamma-Gamma pulls
      a one-time or occasional small buyer towards the population's mean order value, which a shop
      selling to households and wholesalers alike puts far above anything they ever spent. With
      ``settings.cap_order_value`` their value is capped at that purchase. Off by default: out of
      time, capping ranked next year's spenders better (Spearman 0.50 -> 0.58 on Online Retail II,
      0.42 -> 0.44 on CDNOW) but predicted total revenue lower (0.84 -> 0.76 and 0.81 -> 0.75 of what
      customers spent), while regression to the mean is what the model is for.
    * ``clv`` = expected_order_value * sum over the months k = 1..K of the horizon of
      (E[purchases by the end of month k] - E[purchases by the end of month k - 1]) *
      (1 + annual_discount_rate) ** (-t_k / 365.25 days): each month's expected revenue
      discounted from the month's end. Revenue, not margin; K = horizon_days / (365.25 / 12)
      rounded (12 for the default 365 days).
    * ``expected_next_order`` = the date by which the customer has even odds of having ordered
      again: observation date + w with P(no purchase by w) = 1 - P + P * ((alpha + T) /
      (alpha + T + w)) ** (r + x) = 1/2, P the model's P(alive) (1 for one-time buyers). Given
      alive, the wait is exponential at the customer's rate, whose posterior is
      Gamma(r + x, alpha + T); the mean wait is infinite whenever r + x <= 1 (every one-time
      buyer when r < 1), hence the median. NaT when the odds never reach even (P <= 1/2: more
      likely gone than not) or only after the horizon.

    Parameters
    ----------
    summary
        Output of :func:`rfm_summary` (need not be the frame the models were fitted on, but the
        same time unit).
    models
        Output of :func:`fit_value_models`.
    settings
        The ``value`` section of the study config (horizon and discount rate).
    observation_date
        The date the summary was taken at.

    Returns
    -------
    pd.DataFrame
        The columns of :data:`VALUE_COLUMNS`, aligned with ``summary`` (same index).

    Raises
    ------
    ValueError
        When the summary is inconsistent, or its time unit differs from the models'.
    """
    if settings.time_unit_days != models.time_unit_days:
        raise ValueError(
            f"the models were fitted in time units of {models.time_unit_days} days but "
            f"value.time_unit_days is {settings.time_unit_days}; refit or use the same settings"
        )
    x, t_x, T = _summary_arrays(summary)
    unit = models.time_unit_days
    horizon = settings.horizon_days / unit
    p_model = _p_alive(x, t_x, T, models)
    shown = (x > 0) | models.one_time_alive_defined

    months = max(1, round(settings.horizon_days / _DAYS_PER_MONTH))
    ends = horizon * np.arange(1, months + 1) / months
    cumulative = np.column_stack([_expected_purchases(x, t_x, T, t, models) for t in ends])
    expected = cumulative[:, -1]  # the last month ends at the horizon
    per_month = np.diff(cumulative, axis=1, prepend=0.0)
    discount = (1.0 + settings.annual_discount_rate) ** (-ends * unit / _DAYS_PER_YEAR)
    order_value, above = _order_values(x, summary, models, settings.cap_order_value)
    clv = order_value * (per_month @ discount)

    wait = _even_odds_wait(x, T, p_model, models)
    within = np.isfinite(wait) & (wait <= horizon)
    wait_days = np.where(within, np.ceil(wait * unit), 0).astype("int64")
    next_order = pd.Timestamp(observation_date) + pd.to_timedelta(wait_days, unit="D")
    return pd.DataFrame({
        "customer_id": summary["customer_id"].to_numpy(),
        "one_time_buyer": x == 0,
        "p_alive": np.where(shown, p_model, np.nan),
        "expected_purchases": expected,
        "expected_order_value": order_value,
        "order_value_above_history": above,
        "clv": clv,
        "expected_next_order": pd.Series(next_order).where(within).to_numpy(dtype="datetime64[ns]"),
    }, index=summary.index)


def predicted_revenue(summary: pd.DataFrame, models: ValueModels, days: int, cap_order_value: bool = False
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Expected purchases and expected revenue of every customer over the next `days` days, undiscounted.

    What a backtest compares with what the customers then did: the same expected purchases and
    order values as :func:`customer_value` (revenue = expected purchases x expected order value,
    capped at the largest purchase so far with `cap_order_value`), over a span of any length and
    without the monthly discounting.

    Parameters
    ----------
    summary
        Output of :func:`rfm_summary` at the date the span starts, in the models' time unit.
    models
        Output of :func:`fit_value_models`.
    days
        Length of the span.
    cap_order_value
        ``value.cap_order_value``.

    Returns
    -------
    tuple[np.ndarray, np.ndarray]
        Expected purchases and expected revenue, aligned with `summary`.
    """
    x, t_x, T = _summary_arrays(summary)
    purchases = _expected_purchases(x, t_x, T, days / models.time_unit_days, models)
    order_value, _ = _order_values(x, summary, models, cap_order_value)
    return purchases, purchases * order_value


def p_alive(summary: pd.DataFrame, models: ValueModels) -> np.ndarray:
    """The model's P(alive) of every customer of a summary, one-time buyers included (1 for them
    under BG/NBD, by definition; :func:`customer_value` shows NaN there instead)."""
    x, t_x, T = _summary_arrays(summary)
    return _p_alive(x, t_x, T, models)


# --- the models --------------------------------------------------------------------------------


def _summary_arrays(summary: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    missing = [c for c in _MODEL_COLUMNS if c not in summary.columns]
    if missing:
        raise ValueError(f"customer summary: missing column(s) {missing}; build it with rfm_summary")
    x = summary["frequency"].to_numpy(dtype="float64")
    t_x = summary["recency"].to_numpy(dtype="float64")
    T = summary["T"].to_numpy(dtype="float64")
    bad = ~(np.isfinite(x) & np.isfinite(t_x) & np.isfinite(T)) | (x < 0) | (t_x < 0) | (t_x > T + 1e-9)
    bad |= (x == 0) & (t_x != 0)
    if bad.any():
        first = summary["customer_id"].iloc[int(np.flatnonzero(bad)[0])]
        raise ValueError(
            f"customer summary: {int(bad.sum())} row(s) are not a valid purchase history (need "
            f"frequency >= 0, 0 <= recency <= T, recency 0 when frequency is 0); first: {first!r}"
        )
    return x, t_x, T


def _shift(model: str) -> int:
    """1 for MBG/NBD, 0 for BG/NBD: MBG/NBD's formulas are BG/NBD's with b + 1 in place of b
    wherever b meets the frequency (one more chance to drop out), and the drop-out branch open
    to one-time buyers too."""
    if model not in PURCHASE_MODELS:
        raise ValueError(f"value.model must be one of {', '.join(PURCHASE_MODELS)} (or auto), got {model!r}")
    return int(model == "mbgnbd")


def _correlation(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson correlation; NaN when it is undefined (fewer than 3 values, or one of them constant)."""
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan")
    return float(np.corrcoef(x, y)[0, 1])


def _drop_out_odds(x: np.ndarray, t_x: np.ndarray, T: np.ndarray, mo: ValueModels) -> tuple[np.ndarray, np.ndarray]:
    """Log-odds of "dropped out" against "alive" given the history, and where the model allows a
    drop-out at all (repeat buyers; with MBG/NBD every buyer)."""
    shift = _shift(mo.model)
    # BG/NBD: a / (b + x - 1); MBG/NBD: a / (b + x). The maximum keeps the BG/NBD term finite
    # for one-time buyers, who take the other branch.
    log_odds = np.log(mo.a / (mo.b + shift + np.maximum(x, 1.0 - shift) - 1.0)) + (mo.r + x) * np.log(
        (mo.alpha + T) / (mo.alpha + t_x))
    return log_odds, (x > 0) | bool(shift)


def _p_alive(x: np.ndarray, t_x: np.ndarray, T: np.ndarray, mo: ValueModels) -> np.ndarray:
    # 1 / (1 + exp(log_odds)) in log space: ((alpha+T)/(alpha+t_x))**(r+x) overflows for big x.
    log_odds, can_drop = _drop_out_odds(x, t_x, T, mo)
    return np.where(can_drop, expit(-log_odds), 1.0)


def _expected_purchases(x: np.ndarray, t_x: np.ndarray, T: np.ndarray, t: float, mo: ValueModels
                        ) -> np.ndarray:
    """E[purchases in (T, T+t] | x, t_x, T] (Fader, Hardie & Lee 2005, eq. 10; MBG/NBD: Wagner
    & Hoppe 2008, the same with b + 1 for b, bb below).

    The term ((alpha+T)/(alpha+T+t))**(r+x) * 2F1(r+x, bb+x; a+bb+x-1; z), z = t/(alpha+T+t), is
    computed as (1-z)**(a-1) * 2F1(a+bb-1-r, a-1; a+bb+x-1; z) (Euler's transformation): the
    direct form multiplies a vanishing power by a huge series for frequent buyers.
    """
    r, alpha, a = mo.r, mo.alpha, mo.a
    bb = mo.b + _shift(mo.model)
    z = t / (alpha + T + t)
    head = (a + bb + x - 1.0) / (a - 1.0)
    tail = 1.0 - (1.0 - z) ** (a - 1.0) * hyp2f1(a + bb - 1.0 - r, a - 1.0, a + bb + x - 1.0, z)
    log_odds, can_drop = _drop_out_odds(x, t_x, T, mo)
    denominator = 1.0 + np.where(can_drop, np.exp(np.minimum(log_odds, 700.0)), 0.0)
    return head * tail / denominator


def _spend_inputs(summary: pd.DataFrame, x: np.ndarray, purchases: str) -> tuple[np.ndarray, np.ndarray]:
    """Number and mean value of the purchases the Gamma-Gamma model reads, per customer."""
    if purchases == "repeat":
        return x, summary["monetary_value"].to_numpy(dtype="float64")
    if purchases == "all":
        return x + 1.0, summary["mean_purchase_value"].to_numpy(dtype="float64")
    raise ValueError(f"value.order_value_purchases must be repeat or all (or auto), got {purchases!r}")


def _expected_spend(x: np.ndarray, summary: pd.DataFrame, mo: ValueModels) -> np.ndarray:
    if not mo.spend_fitted:
        return summary["mean_purchase_value"].to_numpy(dtype="float64")
    n, m = _spend_inputs(summary, x, mo.order_value_purchases)
    # n = 0 (a one-time buyer, repeat purchases read) gives p v / (q - 1), the population mean:
    # no repeat value to update on.
    return mo.p * (mo.v + n * m) / (mo.p * n + mo.q - 1.0)


def _order_values(x: np.ndarray, summary: pd.DataFrame, mo: ValueModels, cap: bool) -> tuple[np.ndarray, np.ndarray]:
    """Expected order values (capped at the largest purchase so far with `cap`) and whether
    each is above that purchase (all False when the summary has no ``max_purchase_value``)."""
    order_value = _expected_spend(x, summary, mo)
    above = np.zeros(len(x), dtype=bool)
    if "max_purchase_value" in summary:
        largest = summary["max_purchase_value"].to_numpy(dtype="float64")
        above = order_value > largest
        if cap:
            order_value = np.where(above, largest, order_value)
    return order_value, above


def _even_odds_wait(x: np.ndarray, T: np.ndarray, p_alive: np.ndarray, mo: ValueModels) -> np.ndarray:
    """Time w after T at which P(a purchase in (T, T+w]) reaches 1/2 (inf if it never does)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        survive = 1.0 - 0.5 / p_alive  # required P(no purchase by w | alive)
        wait = (mo.alpha + T) * np.expm1(-np.log(survive) / (mo.r + x))
    return np.where(survive > 0, wait, np.inf)
