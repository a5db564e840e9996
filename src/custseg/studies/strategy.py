"""Strategy recommendations for a region, derived from its figures by rules in the config.

Each rule names one measure of the region against the whole base, a limit (``above`` or
``below``), the area it speaks to (product, pricing, marketing, service) and the advice. A rule
whose limit is crossed becomes a recommendation that shows the figure that triggered it, so a
sales director can see why it is there and argue with the number, not with a black box.

The measures (all computed from the processed customer and order tables):

==========================  ======================================================================
 measure                     meaning
==========================  ======================================================================
 aov_index                   average order value, 100 = the base's
 orders_per_buyer_index      completed orders per buying customer, 100 = the base's
 low_value_order_share_index share of completed orders below the base's lower-quartile order value
                             (price sensitivity), 100 = the base's 25%
 growth_gap                  revenue growth over the last 90 days against the 90 before, minus the
                             base's, in percentage points
 high_tier_share_index       share of buying customers in the best tier, 100 = the base's
 new_customer_share_index    share of customers in the lifecycle stage "new", 100 = the base's
 churn_risk_index            mean churn probability of the buyers, 100 = the base's
 satisfaction_gap            mean latest satisfaction (1-5) minus the base's, in points
 top_category_index          revenue-share index of the category most over-represented here
 weakest_category_index      revenue-share index of the category most under-represented here,
                             among those with at least 10% of the base's revenue
==========================  ======================================================================

A measure that cannot be computed (no feedback, no churn model, an empty base) is missing, and a
rule on a missing measure never fires. ``{category}`` in an advice is replaced by the category
the measure is about.

The recommendations are written in the report language (:mod:`custseg.i18n`): the advice of the
default rules, the measures' names and the category are translated; a user's own advice is shown
as written.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from custseg import i18n
from custseg.config import StrategyRule
from custseg.i18n import N_, _

#: Each measure: how it reads in a sentence, and how its value is written (English texts marked
#: for translation; ``{category}`` is the category the measure is about, ``{value}`` the number).
MEASURES: dict[str, tuple[str, str]] = {
    "aov_index": (N_("average order value index"), "{value:.0f}"),
    "orders_per_buyer_index": (N_("orders per buyer index"), "{value:.0f}"),
    "low_value_order_share_index": (N_("low-value order share index"), "{value:.0f}"),
    "growth_gap": (N_("revenue growth against the base"), N_("{value:+.0f} points")),
    "high_tier_share_index": (N_("best-tier share index"), "{value:.0f}"),
    "new_customer_share_index": (N_("new-customer share index"), "{value:.0f}"),
    "churn_risk_index": (N_("churn risk index"), "{value:.0f}"),
    "satisfaction_gap": (N_("satisfaction against the base"), N_("{value:+.2f} points")),
    "top_category_index": (N_("revenue-share index of {category}"), "{value:.0f}"),
    "weakest_category_index": (N_("revenue-share index of {category}"), "{value:.0f}"),
}
#: A category counts for weakest_category_index when it earns at least this share of the base.
MIN_CATEGORY_SHARE = 0.10
#: Orders below this quantile of the base's order values count as low-value (price sensitivity).
LOW_VALUE_QUANTILE = 0.25


def measures(
    customers: pd.DataFrame, orders: pd.DataFrame, base_customers: pd.DataFrame, base_orders: pd.DataFrame,
    best_tier: str,
) -> tuple[dict[str, float], dict[str, str]]:
    """The measures of a slice (a region) against the whole base.

    Parameters
    ----------
    customers, orders
        The slice's rows of the processed customer and order tables.
    base_customers, base_orders
        The whole tables.
    best_tier
        The first of ``tiers.names``.

    Returns
    -------
    tuple[dict[str, float], dict[str, str]]
        Measure -> value (NaN when it cannot be computed), and measure -> the category it is
        about (for the two category measures).
    """
    values: dict[str, float] = {}
    buyers, base_buyers = customers.loc[customers["frequency"] > 0], base_customers.loc[base_customers["frequency"] > 0]
    values["aov_index"] = _index(average_order_value(buyers), average_order_value(base_buyers))
    values["orders_per_buyer_index"] = _index(buyers["frequency"].mean(), base_buyers["frequency"].mean())

    sold, base_sold = order_values(orders), order_values(base_orders)
    if len(base_sold) and len(sold):
        limit = base_sold.quantile(LOW_VALUE_QUANTILE)
        values["low_value_order_share_index"] = _index((sold < limit).mean(), (base_sold < limit).mean())
    else:
        values["low_value_order_share_index"] = np.nan

    values["growth_gap"] = 100 * (revenue_growth(buyers) - revenue_growth(base_buyers))
    values["high_tier_share_index"] = _index(
        buyers["tier"].eq(best_tier).mean(), base_buyers["tier"].eq(best_tier).mean()
    )
    values["new_customer_share_index"] = (
        _index(customers["lifecycle"].eq("new").mean(), base_customers["lifecycle"].eq("new").mean())
        if "lifecycle" in customers else np.nan
    )
    values["churn_risk_index"] = (
        _index(buyers["churn_probability"].mean(), base_buyers["churn_probability"].mean())
        if "churn_probability" in customers else np.nan
    )
    values["satisfaction_gap"] = (
        customers["satisfaction_latest"].mean() - base_customers["satisfaction_latest"].mean()
        if "satisfaction_latest" in customers else np.nan
    )

    topics: dict[str, str] = {}
    here, whole = (frame.groupby("category")["revenue"].sum() for frame in (orders, base_orders))
    if here.sum() > 0 and whole.sum() > 0:
        share_here = here.clip(lower=0) / here.clip(lower=0).sum()
        share_whole = whole.clip(lower=0) / whole.clip(lower=0).sum()
        index = 100 * share_here.reindex(share_whole.index, fill_value=0.0) / share_whole
        index = index.replace([np.inf, -np.inf], np.nan)
        index = index.dropna().sort_index()  # sorted names: ties go to the first category, every time
        if not index.empty:
            top = index.idxmax()
            values["top_category_index"], topics["top_category_index"] = float(index[top]), str(top)
        large = index[share_whole.reindex(index.index) >= MIN_CATEGORY_SHARE]
        if not large.empty:
            weak = large.idxmin()
            values["weakest_category_index"], topics["weakest_category_index"] = float(large[weak]), str(weak)
    values.setdefault("top_category_index", np.nan)
    values.setdefault("weakest_category_index", np.nan)
    return {name: float(value) for name, value in values.items()}, topics


def measure_counts(customers: pd.DataFrame, orders: pd.DataFrame, topics: dict[str, str]) -> dict[str, int]:
    """How many of the slice's customers each measure rests on.

    Buyers for the measures of buyers; customers with a completed order for the order values;
    every customer for the share of new customers; customers with a churn probability or a
    satisfaction score for those two; customers who bought the category for the category
    measures (``topics`` names it).
    """
    buyers = customers.loc[customers["frequency"] > 0]
    bought = orders.loc[orders["status"].eq("completed")]
    of_buyers = ("aov_index", "orders_per_buyer_index", "growth_gap", "high_tier_share_index")
    counts = {name: len(buyers) for name in of_buyers}
    counts["low_value_order_share_index"] = int(bought["customer_id"].nunique())
    counts["new_customer_share_index"] = len(customers)
    counts["churn_risk_index"] = int(buyers["churn_probability"].notna().sum()) if "churn_probability" in buyers else 0
    counts["satisfaction_gap"] = (
        int(customers["satisfaction_latest"].notna().sum()) if "satisfaction_latest" in customers else 0
    )
    for measure in ("top_category_index", "weakest_category_index"):
        category = topics.get(measure)
        counts[measure] = int(bought.loc[bought["category"].eq(category), "customer_id"].nunique()) if category else 0
    return counts


def recommend(
    values: dict[str, float], topics: dict[str, str], rules: list[StrategyRule], *,
    counts: dict[str, int] | None = None, min_customers: int = 0,
) -> pd.DataFrame:
    """The rules that fire on these measures, as recommendations with the figure behind each.

    Parameters
    ----------
    values, topics
        From :func:`measures`.
    rules
        ``strategy.rules``.
    counts
        From :func:`measure_counts`: each reason then says how many customers its figure rests on,
        and one that rests on fewer than `min_customers` says the figure is weak.
    min_customers
        ``studies.min_customers``.

    Returns
    -------
    pd.DataFrame
        One row per fired rule, in config order: area (the rule's, as the config names it),
        recommendation, because (the measure, its value and the limit it crossed, in words); both
        texts in the report language.
    """
    rows = []
    for rule in rules:
        value = values.get(rule.measure, np.nan)
        if value is None or np.isnan(value):
            continue
        fired = value > rule.above if rule.above is not None else value < rule.below
        if not fired:
            continue
        category = i18n.label("category", topics.get(rule.measure, ""))
        name, fmt = MEASURES[rule.measure]
        fmt = _(fmt)
        bound = rule.above if rule.above is not None else rule.below
        reason = (
            _("{measure} {value}, above {limit}") if rule.above is not None else _("{measure} {value}, below {limit}")
        ).format(
            measure=_(name).format(category=category), value=_figure(value, fmt, bound), limit=fmt.format(value=bound)
        )
        if counts is not None and rule.measure in counts:
            count = counts[rule.measure]
            reason += " " + (
                _("(on {count:,} customers, fewer than {needed}: a weak signal)") if count < min_customers
                else _("(on {count:,} customers)")
            ).format(count=count, needed=min_customers)
        # The default rules' advice is translated; a rule the user wrote is shown as written.
        advice = _(rule.advice).replace("{category}", category)
        rows.append({
            "area": rule.area,
            "recommendation": advice[:1].upper() + advice[1:],  # a category may open the sentence
            "because": reason,
        })
    return pd.DataFrame(rows, columns=["area", "recommendation", "because"])


def _figure(value: float, fmt: str, limit: float) -> str:
    """The value as the measure writes it, with one more decimal when rounding would make it
    read the same as the limit it crossed ("80, below 80")."""
    text = fmt.format(value=value)
    if text != fmt.format(value=limit):
        return text
    finer = fmt.replace(".0f", ".1f").replace(".2f", ".3f")
    return finer.format(value=value)


def _index(part: float, whole: float) -> float:
    """100 x part / whole; NaN when whole is zero or either is missing."""
    if whole is None or part is None or not np.isfinite(whole) or whole == 0 or not np.isfinite(part):
        return np.nan
    return 100.0 * part / whole


def average_order_value(customers: pd.DataFrame) -> float:
    """Net revenue over completed orders of a set of customers; NaN without orders."""
    orders = customers["frequency"].sum()
    return customers["monetary"].sum() / orders if orders else np.nan


def revenue_growth(customers: pd.DataFrame) -> float:
    """Revenue of the last 90 days over the 90 before, minus 1; NaN without revenue before."""
    before = customers["revenue_prev_90d"].sum()
    return customers["revenue_90d"].sum() / before - 1.0 if before > 0 else np.nan


def order_values(orders: pd.DataFrame) -> pd.Series:
    """The values of the completed orders that earned something: what a customer paid per order.

    An order undone in part by a matched reversal is worth what was kept (its ``net_value``, in
    the processed orders table); a refunded one is no order.
    """
    value = orders["net_value"] if "net_value" in orders else orders["revenue"]
    return value.loc[orders["status"].eq("completed") & value.gt(0)]
