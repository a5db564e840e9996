"""Lifecycle stages: where each customer stands in the relationship, judged against their own rhythm.

A customer who buys every week and has been silent for a month is in a different place from one
who buys twice a year and has been silent for a month. So silence is measured against the
customer's *own cadence* (median days between purchases), not against one fixed number of days.

Every number below comes from the ``lifecycle`` settings (defaults in brackets). The rules are
checked from the top; the first one that holds names the stage.

====  ============  ==============================================================================
 #    stage         rule
====  ============  ==============================================================================
 1    prospect      no completed purchase before the observation date (frequency 0)
 2    churned       silent > max(churned_factor [4] x cadence, new_days [90]) days,
                    or silent > churned_days [365] days whatever the cadence
 3    at_risk       silent > at_risk_factor [2] x cadence days
 4    reactivated   last purchase at most new_days [90] days ago, after a gap between the last two
                    purchases of more than reactivated_gap_days [180] days
 5    new           first purchase at most new_days [90] days ago
 6    loyal         at least loyal_min_orders [5] purchases and tenure of at least
                    loyal_min_tenure_days [365] days
 7    active        everyone else who has bought
====  ============  ==============================================================================

Terms: *silent* = ``recency_days`` (days from the last purchase to the observation date).
*cadence* = the customer's ``cadence_days`` when they have at least 3 purchases, else
``default_cadence_days`` [90]: one gap (2 purchases) says little about a rhythm. A cadence below one
day (several purchases on the same day) counts as one day. *tenure* = ``tenure_days`` (from the
earlier of sign-up and first purchase). Days since the first purchase are derived as
``recency_days + (last_order - first_order)``, so no observation date needs to be passed in.

Why this precedence:

* churned before at_risk: churned is the stronger statement; a customer past both limits is churned.
  ``churned_days`` caps the silence for slow buyers, so a yearly buyer silent for more than
  ``churned_days`` is churned even before the cadence rule would call them at risk.
* the ``new_days`` floor in the churn limit: a very frequent buyer (cadence of a few days) who
  bought within the last ``new_days`` is still a recent customer; they can be at risk, not churned.
* at_risk and churned before reactivated, new and loyal: silence is the customer's current state. A
  returning customer who has gone quiet again, or a loyal one who stopped, needs the retention
  campaign, not the welcome-back or loyalty one.
* reactivated before new, as the rules ask: "new" means new and not reactivated.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from custseg.config import Lifecycle
from custseg.i18n import _

#: The stages, in the order of the relationship (the categories of the `lifecycle` column).
STAGES: tuple[str, ...] = ("prospect", "new", "active", "loyal", "at_risk", "churned", "reactivated")

#: Chinese names of the stages, for reports in Chinese.
STAGE_NAMES_ZH: dict[str, str] = {
    "prospect": "潜在客户",
    "new": "新客户",
    "active": "活跃客户",
    "loyal": "忠诚客户",
    "at_risk": "流失风险客户",
    "churned": "已流失客户",
    "reactivated": "回流客户",
}

#: The order in which the rules are checked (first match wins); see the module docstring.
PRECEDENCE: tuple[str, ...] = ("prospect", "churned", "at_risk", "reactivated", "new", "loyal", "active")

LIFECYCLE_DTYPE = pd.CategoricalDtype(list(STAGES), ordered=True)

_REQUIRED = ("recency_days", "frequency", "first_order", "last_order", "tenure_days", "cadence_days", "last_gap_days")

# A cadence of 0 days (several purchases on one day) would make any silence "at risk".
_MIN_CADENCE_DAYS = 1.0
# Fewer purchases than this and the customer's own cadence is not trusted.
_MIN_PURCHASES_FOR_CADENCE = 3


def own_cadence(customers: pd.DataFrame, settings: Lifecycle) -> pd.Series:
    """The cadence each customer's silence is judged against, in days.

    Parameters
    ----------
    customers
        Customer table with ``frequency`` and ``cadence_days``.
    settings
        Lifecycle settings; ``default_cadence_days`` is used for customers with fewer than 3
        purchases or without a measured cadence.

    Returns
    -------
    pd.Series
        float64, aligned with ``customers``; at least one day.
    """
    _require(customers, ("frequency", "cadence_days"))
    measured = customers["cadence_days"].astype("float64")
    trusted = customers["frequency"].ge(_MIN_PURCHASES_FOR_CADENCE) & measured.notna()
    return measured.where(trusted, settings.default_cadence_days).clip(lower=_MIN_CADENCE_DAYS).rename("cadence")


def assign_lifecycle(customers: pd.DataFrame, settings: Lifecycle) -> pd.DataFrame:
    """Add the ``lifecycle`` stage of every customer (rules in the module docstring).

    Parameters
    ----------
    customers
        Customer table (one row per customer) with ``recency_days``, ``frequency``,
        ``first_order``, ``last_order``, ``tenure_days``, ``cadence_days`` and ``last_gap_days``.
    settings
        The ``lifecycle`` section of the study config.

    Returns
    -------
    pd.DataFrame
        A new frame: ``customers`` plus ``lifecycle``, an ordered categorical with the categories
        of :data:`STAGES`.

    Raises
    ------
    ValueError
        When a column is missing, or a customer with purchases has no ``recency_days``.
    """
    _require(customers, _REQUIRED)
    buyer = customers["frequency"].gt(0).to_numpy()
    silent = customers["recency_days"].astype("float64").to_numpy()  # NaN for prospects
    if np.isnan(silent[buyer]).any():
        bad = customers.loc[buyer & np.isnan(silent), "customer_id" if "customer_id" in customers else "frequency"]
        raise ValueError(
            f"recency_days is missing for {len(bad)} customer(s) with frequency > 0 "
            f"(first: {bad.iloc[0]!r}); the customer table is inconsistent"
        )
    cadence = own_cadence(customers, settings).to_numpy()
    span = (customers["last_order"] - customers["first_order"]).dt.days.astype("float64").to_numpy()
    since_first = silent + span
    last_gap = customers["last_gap_days"].astype("float64").to_numpy()
    tenure = customers["tenure_days"].astype("float64").to_numpy()
    frequency = customers["frequency"].to_numpy()

    # NaN compares False everywhere below; prospects are caught by the first rule anyway.
    churn_limit = np.maximum(settings.churned_factor * cadence, settings.new_days)
    rules = {
        "prospect": ~buyer,
        "churned": (silent > churn_limit) | (silent > settings.churned_days),
        "at_risk": silent > settings.at_risk_factor * cadence,
        "reactivated": (silent <= settings.new_days) & (last_gap > settings.reactivated_gap_days),
        "new": since_first <= settings.new_days,
        "loyal": (frequency >= settings.loyal_min_orders) & (tenure >= settings.loyal_min_tenure_days),
    }
    # np.select on the stages' category codes, not their names: no million strings to hash back
    codes = [LIFECYCLE_DTYPE.categories.get_loc(name) for name in PRECEDENCE]
    stage = np.select([rules[name] for name in PRECEDENCE[:-1]], codes[:-1], default=codes[-1])
    return customers.assign(lifecycle=pd.Categorical.from_codes(stage, dtype=LIFECYCLE_DTYPE))


def stage_table(settings: Lifecycle) -> pd.DataFrame:
    """The lifecycle rules in words, with the configured numbers, for reports (in the report
    language, :func:`custseg.i18n.current`).

    Parameters
    ----------
    settings
        The ``lifecycle`` section of the study config.

    Returns
    -------
    pd.DataFrame
        One row per stage in the order the rules are checked: ``priority`` (1 = checked first),
        ``stage``, ``stage_zh``, ``rule``.
    """
    s = settings
    # in the report language (custseg.i18n): the table is made for the page that shows it
    rules = {
        "prospect": _("has not completed a purchase yet"),
        "churned": _(
            "silent for more than {factor} x own cadence and more than {new_days} days; "
            "or silent for more than {churned_days} days whatever the cadence"
        ).format(factor=_num(s.churned_factor), new_days=s.new_days, churned_days=s.churned_days),
        "at_risk": _(
            "silent for more than {factor} x own cadence (own cadence: median days between purchases; "
            "{default_days} days for customers with fewer than {min_purchases} purchases)"
        ).format(factor=_num(s.at_risk_factor), default_days=_num(s.default_cadence_days),
                 min_purchases=_MIN_PURCHASES_FOR_CADENCE),
        "reactivated": _(
            "last purchase at most {new_days} days ago, after more than {gap_days} days between the last two purchases"
        ).format(new_days=s.new_days, gap_days=s.reactivated_gap_days),
        "new": _("first purchase at most {new_days} days ago").format(new_days=s.new_days),
        "loyal": _(
            "at least {min_orders} purchases and a relationship of at least {min_tenure} days"
        ).format(min_orders=s.loyal_min_orders, min_tenure=s.loyal_min_tenure_days),
        "active": _("every other customer who has bought"),
    }
    return pd.DataFrame({
        "priority": np.arange(1, len(PRECEDENCE) + 1, dtype="int64"),
        "stage": list(PRECEDENCE),
        "stage_zh": [STAGE_NAMES_ZH[name] for name in PRECEDENCE],
        "rule": [rules[name] for name in PRECEDENCE],
    })


def _num(value: float) -> str:
    """2.0 -> '2', 2.5 -> '2.5': config numbers as a reader would write them."""
    return f"{value:g}"


def _require(customers: pd.DataFrame, columns: tuple[str, ...]) -> None:
    missing = [column for column in columns if column not in customers.columns]
    if missing:
        raise ValueError(
            f"the customer table has no column(s) {missing}, which the lifecycle stages need; "
            f"build it with custseg.segment.features"
        )
