"""Who is slipping away and what they are worth: customer value and churn early warning together.

:mod:`custseg.segment.clv` says what each buyer is likely to spend (BG/NBD and Gamma-Gamma) and
:mod:`custseg.segment.churn` who is drifting away (four readable rules and a backtested model). This step
joins them onto the classified customer table and ranks the watch list by value at risk, so the
pipeline writes one customer table and the studies read one place.

The value behind "value at risk" is the customer's expected revenue over the next
``value.horizon_days`` (CLV, discounted), from the value models the holdout backtest chose
(:mod:`custseg.segment.value_backtest`), with the warnings that say where it stops being trustworthy.
When the value models could not be fitted (too few repeat buyers, an optimizer that did not
converge), an observed stand-in is used instead and said so on every page and export that shows
it: the customer's net spend over the ``value.horizon_days`` before the observation date
(:func:`net_spend`: the revenue of the orders, returns and reversals dated then, never below
zero), which anyone can add up from the orders and which is how the customer table's
``monetary`` and ``revenue_90d`` count. Nothing is extrapolated: a one-order customer is worth
that order, not a year of them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from custseg.config import Config, Value
from custseg.segment import churn, clv, features, tiers, value_backtest
from custseg.segment.features import NET_STATUSES, REFUNDED_ON, REFUNDED_STATUS

#: Columns this step adds to the customer table, in order (missing where they do not apply: a
#: prospect has no value and no churn probability).
VALUE_COLUMNS = ("one_time_buyer", "p_alive", "expected_purchases", "expected_order_value", "order_value_above_history",
                 "clv", "expected_next_order")
RISK_COLUMNS = (*churn.RULES, "warning_count", "reasons", "churn_probability", "value", "value_at_risk")


@dataclass(frozen=True)
class Retention:
    """What the step computes."""

    customers: pd.DataFrame  # the input table plus VALUE_COLUMNS and RISK_COLUMNS
    watch_list: pd.DataFrame  # ranked by value at risk (see custseg.segment.churn.watch_list)
    backtest: churn.Backtest
    rules: pd.DataFrame  # the warning rules in words, with the configured numbers
    value_models: clv.ValueModels | None  # None when they could not be fitted
    value_basis: dict  # what "value" means in this run, as a fact (value_basis)
    value_error: dict | None = None  # why the value models could not be fitted (clv.fit_error), when they could not
    order_values_above_history: int = 0  # buyers whose expected order value is above their largest order
    cap_order_value: bool = False  # value.cap_order_value: were those values capped
    value_backtest: value_backtest.ValueBacktest | None = None  # the value models' holdout backtest
    value_warnings: tuple[dict, ...] = ()  # where the value stops being trustworthy (value_backtest.warnings)
    value_days: int = 365  # value.horizon_days: the span CLV predicts, or the stand-in looks back over

    def summary(self) -> dict:
        """JSON-safe facts for study.json: the backtest, the value models and the watch list size."""
        return {"churn": self.backtest.summary(), "value": self.value_summary(),
                "watch_list": int(len(self.watch_list))}

    def value_summary(self) -> dict:
        """study.json's ``value`` block: what value means (``kind``: ``clv`` or the observed
        ``net_spend`` stand-in, over ``days``), the models, their backtest and the warnings."""
        models = self.value_models
        value = {"basis": self.value_basis, "fitted": models is not None,
                 "kind": "clv" if models is not None else "net_spend", "days": self.value_days}
        if self.value_error is not None:
            value["error"] = self.value_error
        if models is not None:
            value |= {
                "method": models.method,
                "model": models.spec.summary(),
                "parameters": {
                    name: _number(getattr(models, name)) for name in ("r", "alpha", "a", "b", "p", "q", "v")
                },
                "repeat_buyers": models.n_repeat_buyers,
                "customers": models.n_customers,
                "frequency_value_correlation": _number(models.frequency_value_corr),
                "order_values": models.order_values,
                "time_unit_days": models.time_unit_days,
                "note": [_json_safe(note) for note in models.note],
                "order_values_above_history": self.order_values_above_history,
                "cap_order_value": self.cap_order_value,
            }
        if self.value_backtest is not None:
            value["backtest"] = self.value_backtest.summary()
        value["warnings"] = [_json_safe(w) for w in self.value_warnings]
        return value


def value_basis(settings: Value, models: clv.ValueModels | None, error: Mapping | None = None) -> dict:
    """What "value" means in a run, as a fact (study.json ``value.basis``), worded by
    :func:`custseg.words.value_basis`.

    Parameters
    ----------
    settings
        The ``value`` section of the config.
    models
        The fitted value models; None when they could not be fitted.
    error
        Why they could not be fitted (:func:`custseg.segment.clv.fit_error`); then the observed net
        spend stands in.

    Returns
    -------
    dict
        ``{"kind": "clv", "days", "rate", "model", "order_values"}`` (the predicted CLV: horizon,
        yearly discount rate, purchase model, how an order was priced) or ``{"kind": "net_spend",
        "days", "error"}`` (the observed stand-in).
    """
    if error is not None or models is None:
        return {"kind": "net_spend", "days": settings.horizon_days, "error": None if error is None else dict(error)}
    return {"kind": "clv", "days": settings.horizon_days, "rate": settings.annual_discount_rate,
            "model": models.model, "order_values": models.order_values}


def net_spend(orders: pd.DataFrame, start: dt.date, end: dt.date) -> pd.Series:
    """Each customer's net spend dated from `start` to `end` (exclusive), as the customer table
    counts ``monetary`` and ``revenue_90d``: the revenue of completed orders, returns and
    reversals dated then (returns and reversals are negative), and of refunded orders with a
    ``refunded_on`` day (their reversal nets them); cancelled and other refunded orders carry no
    money. Indexed by customer_id as text; customers without such an order are absent.
    """
    status = orders["status"]
    counted = status.isin(NET_STATUSES)
    if REFUNDED_ON in orders:
        counted |= status.eq(REFUNDED_STATUS) & orders[REFUNDED_ON].notna()
    dates = orders["order_date"]
    rows = counted & (dates >= pd.Timestamp(start)) & (dates < pd.Timestamp(end))
    spent = orders.loc[rows.to_numpy(dtype=bool, na_value=False)]
    return spent.groupby(spent["customer_id"].astype("str"))["revenue"].sum()


def assess(
    tables: Mapping[str, pd.DataFrame], customers: pd.DataFrame, config: Config, observation_date: dt.date
) -> Retention:
    """Value, warnings, churn probability and the watch list for a classified customer table.

    Parameters
    ----------
    tables
        Clean tables (``orders`` required), as segmentation read them. Not modified.
    customers
        The classified customer table at `observation_date` (:func:`custseg.segment.step.segment`).
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
    orders = tables["orders"]
    summary = clv.rfm_summary(orders, observation_date, settings.time_unit_days)
    check = value_backtest.backtest(orders, observation_date, settings, _tiers_at(tables, customers, config))
    error = None
    try:
        models = clv.fit_value_models(summary, settings, check.chosen)
    except ValueError as exc:  # said in words on the pages; the stand-in value is used instead
        models, value_table, error = None, None, clv.fit_error(exc)
    else:
        value_table = clv.customer_value(summary, models, settings, observation_date)
    above = 0 if value_table is None else int(value_table["order_value_above_history"].sum())
    seen = value_backtest.history_months(orders.loc[features.purchases_at(orders, observation_date), "order_date"])
    trust = value_backtest.warnings(models, value_table, check, settings, observation_date, seen)
    basis = value_basis(settings, models, error)

    table = customers
    if value_table is not None:
        table = table.merge(value_table, on="customer_id", how="left", validate="one_to_one")
    else:
        table = table.assign(**{c: np.nan for c in VALUE_COLUMNS})
    value = _value(table, value_table is not None, orders, observation_date, settings.horizon_days)

    flags = churn.warnings(table, config.churn)
    test = churn.backtest(tables, observation_date, config.churn)
    probability = test.churn_probability.reindex(pd.Index(table["customer_id"].astype("str"))).to_numpy()
    table = table.assign(
        **{c: flags[c].array for c in (*churn.RULES, "warning_count", "reasons")},  # reasons stay facts (Arrow)
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
        value_backtest=check,
        value_warnings=tuple(trust),
        value_days=settings.horizon_days,
    )


def _value(table: pd.DataFrame, fitted: bool, orders: pd.DataFrame, observation_date: dt.date, days: int) -> pd.Series:
    """Per customer (indexed by customer_id): CLV when the models were fitted, else the observed
    stand-in, each buyer's net spend over the `days` before the observation date (0 when they
    bought nothing then; never below zero: returning more than one bought is worth nothing, not
    less)."""
    ids = pd.Index(table["customer_id"].astype("str"), name="customer_id")
    if fitted:
        values = table["clv"].to_numpy(dtype="float64", na_value=np.nan)
    else:
        spent = net_spend(orders, observation_date - dt.timedelta(days=days), observation_date)
        values = np.maximum(spent.reindex(ids).to_numpy(dtype="float64", na_value=0.0), 0.0)
    buyer = table["frequency"].to_numpy(dtype="float64", na_value=0.0) > 0
    return pd.Series(np.where(buyer, values, np.nan), index=ids, name="value")


def _tiers_at(tables: Mapping[str, pd.DataFrame], customers: pd.DataFrame, config: Config):
    """tier of every customer at a date (indexed by customer_id as text), classified as at that
    date with the config's tier rules; regions, which tiers may be computed within, are a
    customer's attributes and taken from the table at the observation date."""
    within = tiers.WITHIN_COLUMNS.get(config.tiers.within)
    needed = ["interactions_90d"] if config.tiers.weights.get("i", 0) > 0 else []

    # Tiers read purchases (and contacts when weighted), not the other tables: preparing only
    # those is a third of the work on a sample with every table.
    read = {
        name: tables[name] for name in ("orders", "interactions") if name in tables and (name == "orders" or needed)
    }

    def at(date: dt.date) -> pd.Series:
        table = features.features_at(features.prepare(read), date, attributes=False, features=needed)
        if within is not None and within in customers:
            places = customers[["customer_id", within]].astype({"customer_id": "str"})
            table = table.astype({"customer_id": "str"}).merge(
                places, on="customer_id", how="left", validate="one_to_one"
            )
        tiered = tiers.assign_tiers(table, config.tiers)
        return pd.Series(tiered["tier"].array, index=pd.Index(tiered["customer_id"].astype("str"), name="customer_id"),
                         name="tier")

    return at


def _number(value: float) -> float | None:
    """A float for JSON; None for NaN (JSON has no NaN)."""
    return None if value is None or not np.isfinite(value) else float(value)


def _json_safe(facts: Mapping) -> dict:
    """A warning's facts with numpy numbers as plain ones and NaN as None."""
    def plain(value: object) -> object:
        if isinstance(value, Mapping):
            return {str(k): plain(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        if isinstance(value, (bool, np.bool_)):
            return bool(value)
        if isinstance(value, (int, np.integer)):
            return int(value)
        if isinstance(value, (float, np.floating)):
            return _number(float(value))
        return value
    return plain(facts)
