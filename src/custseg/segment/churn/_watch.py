"""The churn watch list: the customers most worth a retention effort, ranked by value at risk."""

from __future__ import annotations

import numpy as np
import pandas as pd

from custseg.config import Churn
from custseg.segment.churn._frames import floats, require

_WATCH_ATTRIBUTES = ("region", "market", "tier", "segment", "lifecycle")


def watch_list(
    customers: pd.DataFrame,
    warnings: pd.DataFrame,
    probability: pd.Series,
    value: pd.Series,
    settings: Churn,
) -> pd.DataFrame:
    """The customers most worth a retention effort, by value at risk.

    value_at_risk = value x churn probability. A customer is eligible when they have bought, are
    not lost (silent at most ``lost_after_days``) and either have at least one warning or a
    churn probability at or above the mean probability of the scored customers who are not lost
    (their expected churn rate; the lost, nearly all sure to churn, would inflate it): a
    high-value customer with a middling probability is not on the list unless a rule sees
    something. Without probabilities (the model was skipped) the list holds the customers
    with warnings, ranked by warning count and then value; value_at_risk is missing.

    Parameters
    ----------
    customers
        Customer table with customer_id, frequency and recency_days; region, market, tier,
        segment and lifecycle are copied when present. Not modified.
    warnings
        Output of :func:`custseg.segment.churn.warnings` for these customers.
    probability
        Churn probability indexed by customer_id (``Backtest.churn_probability``); may be all
        missing.
    value
        Expected value per customer indexed by customer_id, base currency (CLV when available,
        else e.g. the last 12 months' revenue). Missing or negative values count as 0.
    settings
        The ``churn`` section of the study config (``watchlist_size``, ``playbook``).

    Returns
    -------
    pd.DataFrame
        At most ``watchlist_size`` rows, best first: rank (1..), customer_id, region, market,
        tier, segment, lifecycle, churn_probability, value, value_at_risk, warning_count,
        reasons (the facts of the warnings, as given; missing for a customer `warnings` lacks),
        action (the tier's entry of ``playbook``, else ``default_action``). Ties are
        broken by customer_id. No names, e-mails or phones.
    """
    require(customers, ("customer_id", "frequency", "recency_days"), "the watch list")
    require(warnings, ("customer_id", "warning_count", "reasons"), "the watch list (from churn.warnings)")
    ids = customers["customer_id"].astype("str")
    flagged = warnings.assign(customer_id=warnings["customer_id"].astype("str")).set_index("customer_id")
    if not flagged.index.is_unique or not ids.is_unique:
        raise ValueError("customer ids must be unique in the customers and warnings tables")
    frame = pd.DataFrame({"customer_id": ids.to_numpy()})
    for column in _WATCH_ATTRIBUTES:
        frame[column] = customers[column].to_numpy() if column in customers else pd.NA
    prob = _aligned(probability, ids)
    worth = np.clip(np.nan_to_num(_aligned(value, ids), nan=0.0), 0.0, None)
    count = np.nan_to_num(_aligned(flagged["warning_count"], ids), nan=0.0)
    reasons = flagged["reasons"].reindex(ids.to_numpy()).array  # the facts of why, as churn.warnings keeps them

    silent = floats(customers, "recency_days")
    bought = customers["frequency"].to_numpy(dtype="float64", na_value=0.0) > 0
    alive = bought & (silent <= settings.lost_after_days)
    scored = ~np.isnan(prob)
    if scored.any():
        expected_rate = float(prob[alive & scored].mean()) if (alive & scored).any() else np.inf
        at_risk = worth * prob
        keep = alive & scored & ((count > 0) | (prob >= expected_rate))
        order = np.lexsort((ids.to_numpy(), -at_risk))
    else:
        at_risk = np.full(len(ids), np.nan)
        keep = alive & (count > 0)
        order = np.lexsort((ids.to_numpy(), -worth, -count))
    order = order[keep[order]][: settings.watchlist_size]
    action = frame["tier"].astype("object").map(settings.playbook).fillna(settings.default_action)
    out = frame.assign(
        churn_probability=prob, value=worth, value_at_risk=at_risk, warning_count=count.astype(np.int64),
        reasons=reasons, action=pd.array(action.to_numpy(dtype=object), dtype="str"),
    ).take(order).reset_index(drop=True)
    return out.assign(rank=np.arange(1, len(out) + 1, dtype=np.int64))[
        ["rank", "customer_id", *_WATCH_ATTRIBUTES, "churn_probability", "value", "value_at_risk",
         "warning_count", "reasons", "action"]
    ]


def _aligned(series: pd.Series, ids: pd.Series) -> np.ndarray:
    """A per-customer Series (indexed by customer_id) as float64 in the order of ``ids``; NaN
    for customers it does not cover."""
    if not series.index.is_unique:
        raise ValueError(f"{series.name or 'a per-customer series'} is indexed by repeated customer ids")
    keyed = pd.Series(series.to_numpy(dtype="float64", na_value=np.nan), index=series.index.astype("str"))
    return keyed.reindex(ids.to_numpy()).to_numpy()


