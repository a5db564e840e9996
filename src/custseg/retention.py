"""Who is slipping away and what they are worth: customer value and churn early warning together.

:mod:`custseg.clv` says what each buyer is likely to spend (BG/NBD and Gamma-Gamma) and
:mod:`custseg.churn` who is drifting away (four readable rules and a backtested model). This step
joins them onto the classified customer table and ranks the watch list by value at risk, so the
pipeline writes one customer table and the studies read one place.

The value behind "value at risk" is the customer's expected revenue over the next
``value.horizon_days`` (CLV, discounted). When the value models could not be fitted (too few
repeat buyers, an optimizer that did not converge), a plain stand-in is used instead and said so:
the customer's revenue per year of relationship so far (``monetary`` over ``max(tenure_days,
90)`` days x 365; the 90-day floor keeps a new customer's first order from being annualised
into a fortune).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from babel.numbers import format_percent

from custseg import churn, clv, i18n
from custseg.config import Config, Value
from custseg.i18n import _

#: Columns this step adds to the customer table, in order (missing where they do not apply: a
#: prospect has no value and no churn probability).
VALUE_COLUMNS = ("one_time_buyer", "p_alive", "expected_purchases", "expected_order_value", "order_value_above_history", "clv",
                 "expected_next_order")
RISK_COLUMNS = (*churn.RULES, "warning_count", "reasons", "churn_probability", "value", "value_at_risk")

# Shortest relationship a stand-in value is annualised over (see the module docstring).
_MIN_ANNUALISED_DAYS = 90


@dataclass(frozen=True)
class Retention:
    """What the step computes."""

    customers: pd.DataFrame  # the input table plus VALUE_COLUMNS and RISK_COLUMNS
    watch_list: pd.DataFrame  # ranked by value at risk (see custseg.churn.watch_list)
    backtest: churn.Backtest
    rules: pd.DataFrame  # the warning rules in words, with the configured numbers
    value_models: clv.ValueModels | None  # None when they could not be fitted
    value_basis: str  # what "value" means in this run, in words
    value_error: str | None = None  # why the value models could not be fitted, when they could not
    order_values_above_history: int = 0  # buyers whose expected order value is above their largest order
    cap_order_value: bool = False  # value.cap_order_value: were those values capped

    def summary(self) -> dict:
        """JSON-safe facts for study.json: the backtest, the value models and the watch list size."""
        models = self.value_models
        value = {"basis": self.value_basis, "fitted": models is not None}
        if self.value_error is not None:
            value["error"] = self.value_error
        if models is not None:
            value |= {
                "method": models.method,
                "parameters": {name: _number(getattr(models, name)) for name in ("r", "alpha", "a", "b", "p", "q", "v")},
                "repeat_buyers": models.n_repeat_buyers,
                "customers": models.n_customers,
                "frequency_value_correlation": _number(models.frequency_value_corr),
                "order_values": models.order_values,
                "time_unit_days": models.time_unit_days,
                "note": models.note,
                "order_values_above_history": self.order_values_above_history,
                "cap_order_value": self.cap_order_value,
            }
        return {"churn": self.backtest.summary(), "value": value, "watch_list": int(len(self.watch_list))}


def value_basis(settings: Value, order_values: str | None, error: str | None = None) -> str:
    """What "value" means in a run, in words, in the report language (:mod:`custseg.i18n`).

    Parameters
    ----------
    settings
        The ``value`` section of the config.
    order_values
        How the value models priced an order ("gamma_gamma" or the customers' own means); None
        when the models could not be fitted.
    error
        Why they could not be fitted (then revenue per year of relationship stands in).
    """
    if error is not None or order_values is None:
        return _("revenue per year of relationship so far (the value models could not be fitted: {error})").format(
            error=error or "")
    return _(
        "expected revenue over the next {days} days, discounted at {rate} a year (BG/NBD and {order_values})"
    ).format(
        days=settings.horizon_days,
        rate=format_percent(settings.annual_discount_rate, format="#,##0%", locale=i18n.babel_locale()),
        order_values=_("Gamma-Gamma") if order_values == "gamma_gamma" else _("own mean order values"),
    )


def assess(
    tables: Mapping[str, pd.DataFrame], customers: pd.DataFrame, config: Config, observation_date: dt.date
) -> Retention:
    """Value, warnings, churn probability and the watch list for a classified customer table.

    Parameters
    ----------
    tables
        Clean tables (``orders`` required), as segmentation read them. Not modified.
    customers
        The classified customer table at `observation_date` (:func:`custseg.segmentation.segment`).
        Not modified.
    config
        The study config (``value`` and ``churn`` sections).
    observation_date
        The date of the classification.

    Returns
    -------
    Retention
        The customer table with the value and risk columns, the watch list, the backtest, the rules
        and the fitted value models.
    """
    settings = config.value
    summary = clv.rfm_summary(tables["orders"], observation_date, settings.time_unit_days)
    error = None
    try:
        models = clv.fit_value_models(summary, settings)
    except ValueError as exc:  # said in words on the pages; the stand-in value is used instead
        models, value_table, error = None, None, str(exc)
    else:
        value_table = clv.customer_value(summary, models, settings, observation_date)
    above = 0 if value_table is None else int(value_table["order_value_above_history"].sum())
    with i18n.language("en"):  # the data says it in English; a report rewrites it (value_basis)
        basis = value_basis(settings, None if models is None else models.order_values, error)

    table = customers
    if value_table is not None:
        table = table.merge(value_table, on="customer_id", how="left", validate="one_to_one")
    else:
        table = table.assign(**{c: np.nan for c in VALUE_COLUMNS})
    value = _value(table, value_table is not None)

    flags = churn.warnings(table, config.churn)
    test = churn.backtest(tables, observation_date, config.churn)
    probability = test.churn_probability.reindex(pd.Index(table["customer_id"].astype("str"))).to_numpy()
    table = table.assign(
        **{c: flags[c].to_numpy() for c in (*churn.RULES, "warning_count", "reasons")},
        churn_probability=probability,
        value=value.to_numpy(),
        value_at_risk=value.to_numpy() * probability,
    )
    watch = churn.watch_list(table, flags, test.churn_probability, value, config.churn)
    return Retention(
        customers=table,
        watch_list=watch,
        backtest=test,
        rules=churn.rule_table(config.churn),
        value_models=models,
        value_basis=basis,
        value_error=error,
        order_values_above_history=above,
        cap_order_value=settings.cap_order_value,
    )


def _value(table: pd.DataFrame, fitted: bool) -> pd.Series:
    """Per customer (indexed by customer_id): CLV when the models were fitted, else the stand-in."""
    if fitted:
        values = table["clv"].to_numpy(dtype="float64", na_value=np.nan)
    else:
        days = np.maximum(table["tenure_days"].to_numpy(dtype="float64", na_value=np.nan), _MIN_ANNUALISED_DAYS)
        values = table["monetary"].to_numpy(dtype="float64", na_value=np.nan) / days * 365.0
    buyer = table["frequency"].to_numpy(dtype="float64", na_value=0.0) > 0
    return pd.Series(np.where(buyer, values, np.nan), index=pd.Index(table["customer_id"].astype("str"), name="customer_id"),
                     name="value")


def _number(value: float) -> float | None:
    """A float for JSON; None for NaN (JSON has no NaN)."""
    return None if value is None or not np.isfinite(value) else float(value)
