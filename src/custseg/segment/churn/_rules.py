"""Churn warning rules: four rules a person can check by hand, and the facts of why each fired.

The rules
---------
Only buyers (``frequency`` > 0) who are not yet lost are warned about: a customer silent for more
than ``lost_after_days`` [365] is past saving, and a warning would only bury the ones who are not.
(The lifecycle stage *churned* is not used for this: it fires after 4x the own cadence, so a
monthly buyer silent for five months is "churned" there but still very much worth a call.)

====================  ======================================================================
 rule                  fires when
====================  ======================================================================
 warn_silence          silent (``recency_days``) more than ``silence_factor`` [2] x own cadence
                       for customers with at least ``min_orders_for_cadence`` [3] purchases; else
                       more than the tier's limit (``silence_days_by_tier`` [high 90, mid 120,
                       low 180, given to renamed tiers by position], ``silence_days`` [120] for a
                       tier not listed or no tier). Never for a silence of ``silence_min_days``
                       [30] days or less.
 warn_trend            orders in the last 90 days at most ``trend_drop`` [0.5] x those of the 90
                       days before, which held at least ``trend_min_orders`` [3]
 warn_satisfaction     latest satisfaction (1-5) at most ``satisfaction_low`` [2], or at least
                       ``satisfaction_drop`` [1] point below the customer's earlier average
 warn_interactions     contacts in the last 90 days at most ``interactions_drop`` [0.5] x the
                       customer's earlier rate per 90 days (over the 275 days before), which was
                       at least ``interactions_min`` [2]
====================  ======================================================================

A rule whose columns are absent (a study without feedback or interactions) never fires.

The reasons
-----------
Each rule that fires records why as a fact: a reason code and the customer's own figures (the
``reasons`` column, a list of :data:`REASON_TYPE` structs in the order of :data:`RULES`; empty
when no rule fired). Words are made where they are shown, by :func:`custseg.words.churn_reasons`.

===============  ==========================================================================
 reason           figures
===============  ==========================================================================
 silence          days (silent), cadence (the own cadence in days, at least 1)
 silence_limit    days, limit (the tier's limit in days), tier (the tier whose limit it is;
                  missing for the default limit), orders (the customer's purchases) and
                  min_orders (``min_orders_for_cadence``): fewer orders than that, or all on
                  one day
 trend            recent (orders in the last 90 days), before (in the 90 days before)
 satisfaction     score (latest satisfaction, 1-5), drop (points below the earlier average,
                  when that is what fired)
 interactions     contacts (in the last 90 days), earlier (the earlier rate per 90 days)
===============  ==========================================================================

Figures a reason does not have are missing. They are kept unrounded: rounding is for words.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import numpy as np
import pandas as pd
import pyarrow as pa

from custseg.config import Churn
from custseg.segment.churn._frames import floats, require
from custseg.segment.features import TREND_WINDOW_DAYS

#: The four rules, in the order their reasons are listed.
RULES: tuple[str, ...] = ("warn_silence", "warn_trend", "warn_satisfaction", "warn_interactions")

#: One reason of the ``reasons`` column: its code and every figure a reason may have (module docstring).
REASON_TYPE = pa.struct([
    ("reason", pa.string()), ("days", pa.float64()), ("cadence", pa.float64()), ("limit", pa.float64()),
    ("tier", pa.string()), ("orders", pa.float64()), ("min_orders", pa.int64()), ("recent", pa.float64()),
    ("before", pa.float64()), ("score", pa.float64()), ("drop", pa.float64()), ("contacts", pa.float64()),
    ("earlier", pa.float64()),
])

# Days over which the earlier interaction rate is measured: the 365-day window minus the last 90.
_EARLIER_CONTACT_DAYS = 365 - TREND_WINDOW_DAYS
_WARNING_REQUIRED = ("customer_id", "frequency", "recency_days", "cadence_days", "orders_90d", "orders_prev_90d")


def warnings(customers: pd.DataFrame, settings: Churn) -> pd.DataFrame:
    """Rule-based churn warnings with the facts of why (rules and reasons in the module docstring).

    Parameters
    ----------
    customers
        Customer table (:func:`custseg.segment.features.customer_table`) with customer_id, frequency,
        recency_days, cadence_days, orders_90d and orders_prev_90d; tier, satisfaction_latest,
        satisfaction_trend, interactions_90d and interactions_365d are used when present. Not
        modified.
    settings
        The ``churn`` section of the study config.

    Returns
    -------
    pd.DataFrame
        One row per input row, same index and order: customer_id, one boolean column per rule of
        :data:`RULES`, warning_count (int64) and reasons (a list per customer of dicts with the
        fields of :data:`REASON_TYPE`: the code and figures of every rule that fired, in the order
        of :data:`RULES`; empty when none did). Customers who never bought or are silent for more than
        ``lost_after_days`` have no warnings.

    Raises
    ------
    ValueError
        When a required column is missing.
    """
    require(customers, _WARNING_REQUIRED, "the churn warnings")
    s = settings
    silent = floats(customers, "recency_days")
    frequency = customers["frequency"].to_numpy(dtype="float64", na_value=0.0)
    eligible = (frequency > 0) & (silent <= s.lost_after_days)  # NaN recency compares False

    # silence against the own cadence, or against the tier's limit for customers with few orders
    cadence = np.maximum(floats(customers, "cadence_days"), 1.0)  # several orders on one day: 1 day
    trusted = (frequency >= s.min_orders_for_cadence) & ~np.isnan(cadence)
    if "tier" in customers:
        tier = customers["tier"].astype("object")
        tier_limit = tier.map(s.silence_days_by_tier).astype("float64").fillna(s.silence_days).to_numpy()
        has_tier_limit = tier.isin(list(s.silence_days_by_tier)).to_numpy()
        tier_name = np.where(has_tier_limit, tier.fillna("").astype("str").to_numpy(dtype=object), None)
    else:
        tier_limit = np.full(len(customers), float(s.silence_days))
        tier_name = np.full(len(customers), None, dtype=object)
    limit = np.where(trusted, s.silence_factor * cadence, tier_limit)
    silence = eligible & (silent > limit) & (silent > s.silence_min_days)

    recent = floats(customers, "orders_90d")
    before = floats(customers, "orders_prev_90d")
    trend = eligible & (before >= s.trend_min_orders) & (recent <= s.trend_drop * before)

    latest = floats(customers, "satisfaction_latest")
    change = floats(customers, "satisfaction_trend")
    low, fell = latest <= s.satisfaction_low, change <= -s.satisfaction_drop
    satisfaction = eligible & (low | fell)

    contacts = floats(customers, "interactions_90d")
    earlier = (floats(customers, "interactions_365d") - contacts) * TREND_WINDOW_DAYS / _EARLIER_CONTACT_DAYS
    interactions = eligible & (earlier >= s.interactions_min) & (contacts <= s.interactions_drop * earlier)

    reasons = _reasons(len(customers), [
        (silence & trusted, {"reason": "silence", "days": silent, "cadence": cadence}),
        (silence & ~trusted, {"reason": "silence_limit", "days": silent, "limit": tier_limit, "tier": tier_name,
                              "orders": frequency, "min_orders": s.min_orders_for_cadence}),
        (trend, {"reason": "trend", "recent": recent, "before": before}),
        (satisfaction, {"reason": "satisfaction", "score": latest, "drop": np.where(fell, -change, np.nan)}),
        (interactions, {"reason": "interactions", "contacts": contacts, "earlier": earlier}),
    ])
    flags = np.column_stack([silence, trend, satisfaction, interactions])
    return pd.DataFrame(
        {
            "customer_id": customers["customer_id"].to_numpy(),
            **{name: flags[:, i] for i, name in enumerate(RULES)},
            "warning_count": flags.sum(axis=1).astype(np.int64),
            "reasons": reasons,
        },
        index=customers.index,
    )

def rule_table(settings: Churn) -> pd.DataFrame:
    """The warning rules with their configured figures, as facts (worded by
    :func:`custseg.words.churn_rule` where they are shown).

    Parameters
    ----------
    settings
        The ``churn`` section of the study config.

    Returns
    -------
    pd.DataFrame
        One row per rule of :data:`RULES`: ``rule`` (its code) and ``figures``, the settings it
        fires by as compact JSON text: ``warn_silence``: ``factor``, ``min_orders``, ``tiers``
        (tier -> days), ``days``, ``min_days``; ``warn_trend``: ``drop``, ``min_orders``;
        ``warn_satisfaction``: ``low``, ``drop``; ``warn_interactions``: ``drop``, ``minimum``.
    """
    s = settings
    figures = {
        "warn_silence": {"factor": s.silence_factor, "min_orders": s.min_orders_for_cadence,
                         "tiers": dict(s.silence_days_by_tier), "days": s.silence_days,
                         "min_days": s.silence_min_days},
        "warn_trend": {"drop": s.trend_drop, "min_orders": s.trend_min_orders},
        "warn_satisfaction": {"low": s.satisfaction_low, "drop": s.satisfaction_drop},
        "warn_interactions": {"drop": s.interactions_drop, "minimum": s.interactions_min},
    }
    return pd.DataFrame({
        "rule": list(RULES),
        "figures": [json.dumps(figures[rule], ensure_ascii=False, separators=(",", ":")) for rule in RULES],
    })


def _reasons(rows: int, kinds: list[tuple[np.ndarray, Mapping[str, object]]]) -> np.ndarray:
    """The ``reasons`` column: per row, a list with one dict of :data:`REASON_TYPE`'s fields for
    every kind of reason that fired there, in the order of `kinds`.

    Each kind is (where it fired, its figures): a code or a number for every row, or an array of
    one figure per row; NaN and None are missing (None). Built column-wise in Arrow, so a million
    customers cost one conversion, not a loop. The column is plain Python objects, not pandas'
    Arrow dtype: pandas cannot read its own name of a nested Arrow type back from Parquet, and
    Parquet stores lists of dicts as a list of structs anyway.
    """
    owners, chunks = [], []
    for fired, figures in kinds:
        where = np.flatnonzero(fired)
        fields = []
        for field in REASON_TYPE:
            value = figures.get(field.name)
            if value is None:
                fields.append(pa.nulls(len(where), field.type))
            elif isinstance(value, np.ndarray):
                fields.append(pa.array(value[where], type=field.type, from_pandas=True))
            else:
                fields.append(pa.array([value] * len(where), type=field.type))
        chunks.append(pa.StructArray.from_arrays(fields, fields=list(REASON_TYPE)))
        owners.append(where)
    owner = np.concatenate(owners)
    order = np.argsort(owner, kind="stable")  # by row, and within a row in the order of `kinds`
    offsets = np.concatenate([[0], np.cumsum(np.bincount(owner, minlength=rows))]).astype(np.int32)
    listed = pa.ListArray.from_arrays(pa.array(offsets), pa.concat_arrays(chunks).take(pa.array(order)),
                                      type=pa.list_(REASON_TYPE))
    column = np.empty(rows, dtype=object)
    column[:] = listed.to_pylist()
    return column

