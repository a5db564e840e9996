"""Findings: the few facts a page opens with, computed from the processed data, as codes and figures.

A :class:`Finding` is a kind (a code), a weight and its figures; the page words it in its language
(:mod:`custseg.studies.opening`). The weight is the share of the whole (of revenue, or of customers
where no revenue is concerned) that the finding is about, so findings of different kinds rank on
one scale: the page shows the heaviest few (:func:`rank`).

Kinds:

- ``region_moves``: revenue of the last 90 days against the 90 before, per region with at least
  ``studies.min_customers`` buyers (the figures the overview's market tiles show): how many went
  down and by how much, and the largest rise. Needs two such regions; the "Unknown" region is left
  out (its customers could not be placed).
- ``risk_concentration``: where the value at risk (expected value x churn probability) sits: the
  tier or region holding the largest share of it, against its share of buyers.
- ``tier_moves``: customers who changed tier between the last two snapshots, up and down, with
  the revenue they hold.
- ``churn_trust``: the churn model's lift in the top tenth of the last holdout, and its ROC AUC
  against the recency rule's.
- ``value_trust``: the value model's error on the held-out span (predicted / actual revenue - 1).
- ``slice_vs_base``: how a region, tier or group differs from the whole base (value and churn
  index, 100 = the base).
- ``slice_trend``: a slice's revenue change over 90 days against the whole base's.
- ``too_little``: a slice with fewer buyers than ``studies.min_customers``: the only finding there.
- ``quarantined``, ``duplicates``, ``unplaced`` (the data-quality page): the rows read that were set
  aside and their most common reason, the exact duplicates removed, and the customers no market
  could be found for.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from custseg import geo
from custseg.processed import ProcessedData
from custseg.segment import snapshots

#: How many findings a page shows at most, and at least when it has them.
MOST, FEWEST = 5, 3
#: Regions moving by less than this share over 90 days are counted as steady, not as movers.
STEADY = 0.02
#: Value at risk concentrates in a tier or region when its share of it is at least this multiple of
#: its share of the buyers (98% of the value at risk in a region of 99% of the buyers is no finding).
CONCENTRATED = 1.2


@dataclass(frozen=True)
class Finding:
    """One fact a page opens with: a code, the share of the whole it concerns, and its figures."""

    kind: str
    weight: float  # share of revenue (or of customers) concerned, 0..1
    figures: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Period:
    """What span of orders the figures cover, and when they were observed."""

    first: dt.date | None  # first order; None when there are none
    last: dt.date | None  # last order before the observation date
    observed: dt.date


def period(data: ProcessedData) -> Period:
    """The first and last order date of the processed orders before the observation date."""
    observed = dt.date.fromisoformat(data.meta.observation_date)
    dates = pd.to_datetime(data.orders["order_date"]) if "order_date" in data.orders else pd.Series(dtype="object")
    dates = dates.loc[dates < pd.Timestamp(observed)]
    if dates.empty:
        return Period(None, None, observed)
    return Period(dates.min().date(), dates.max().date(), observed)


def rank(findings: Iterable[Finding | None], most: int = MOST) -> list[Finding]:
    """The heaviest `most` findings, heaviest first (ties by kind, so the order is stable)."""
    found = [f for f in findings if f is not None]
    return sorted(found, key=lambda f: (-f.weight, f.kind))[:most]


def buyers_of(customers: pd.DataFrame) -> pd.DataFrame:
    """The customers with a purchase."""
    return customers.loc[customers["frequency"] > 0]


def growth(buyers: pd.DataFrame) -> float:
    """Revenue of the last 90 days over the 90 before, minus 1; NaN without revenue before."""
    before = float(buyers["revenue_prev_90d"].sum())
    return float(buyers["revenue_90d"].sum()) / before - 1.0 if before > 0 else np.nan


def region_moves(buyers: pd.DataFrame, min_customers: int) -> Finding | None:
    """How the regions' revenue moved over 90 days; None with fewer than two regions to compare.

    Figures: ``regions`` (compared), ``down`` (how many fell by more than :data:`STEADY`),
    ``down_least`` and ``down_most`` (the smallest and largest fall, as positive shares), ``up``
    (how many rose by more than it), ``riser`` and ``rise`` (the largest rise and its region),
    ``faller`` and ``fall`` (the largest fall), ``base`` (the change of all buyers).
    Weight: the share of the last 180 days' revenue held by the regions that moved.
    """
    if not {"region", "revenue_90d", "revenue_prev_90d"} <= set(buyers.columns):
        return None
    placed = buyers.loc[buyers["region"].astype("string").ne(geo.UNKNOWN)]
    grouped = placed.groupby(placed["region"].astype("string"), observed=True)
    sizes = grouped.size()
    both = grouped["revenue_90d"].sum() + grouped["revenue_prev_90d"].sum()
    change = grouped["revenue_90d"].sum() / grouped["revenue_prev_90d"].sum().where(lambda s: s > 0) - 1.0
    compared = change.loc[sizes.ge(min_customers) & change.notna()]
    if len(compared) < 2:
        return None
    down, up = compared.loc[compared < -STEADY], compared.loc[compared > STEADY]
    total = float(buyers["revenue_90d"].sum() + buyers["revenue_prev_90d"].sum())
    moved = float(both.reindex(down.index.union(up.index)).sum())
    figures: dict[str, object] = {
        "regions": len(compared), "down": len(down), "up": len(up), "base": growth(buyers),
    }
    if len(down):
        figures.update(down_least=float(-down.max()), down_most=float(-down.min()),
                       faller=str(down.idxmin()), fall=float(-down.min()))
    if len(up):
        figures.update(riser=str(up.idxmax()), rise=float(up.max()))
    return Finding("region_moves", moved / total if total > 0 else 0.0, figures)


def risk_concentration(buyers: pd.DataFrame, column: str, total_revenue: float) -> Finding | None:
    """The value of `column` ("tier" or "region") holding the largest share of the value at risk.

    Figures: ``by`` (the column), ``name``, ``share`` (of the value at risk), ``buyers_share``
    (its share of the buyers), ``value_at_risk`` (its amount) and ``total`` (all of it).
    Weight: the value at risk concerned over the revenue of the buyers (``total_revenue``).
    None without scored value at risk, with a single value of `column`, or when the largest share
    is less than :data:`CONCENTRATED` times its share of the buyers.
    """
    if not {"value_at_risk", column} <= set(buyers.columns):
        return None
    risk = buyers["value_at_risk"]
    total = float(risk.sum(min_count=1)) if risk.notna().any() else np.nan
    if not total > 0:
        return None
    keys = buyers[column].astype("string")
    if column == "region":
        keys = keys.where(keys.ne(geo.UNKNOWN))
    by = risk.groupby(keys, observed=True).sum()
    if len(by) < 2:
        return None
    name = str(by.idxmax())
    held = float(keys.eq(name).sum()) / len(buyers)
    if float(by.max()) / total < CONCENTRATED * held:  # as large a share of the buyers: nothing concentrates
        return None
    return Finding("risk_concentration", float(by.max()) / total_revenue if total_revenue > 0 else 0.0, {
        "by": column, "name": name, "share": float(by.max()) / total,
        "buyers_share": held, "value_at_risk": float(by.max()), "total": total,
    })


def tier_moves(history: pd.DataFrame | None, tiers: list[str], customer_ids: pd.Series | None = None) -> Finding | None:
    """Customers who changed tier between the last two snapshots (of `customer_ids` when given).

    Figures: ``before``, ``after`` (ISO dates), ``up``, ``down`` (customers), ``up_value``,
    ``down_value`` (their revenue to date at the later snapshot), ``customers`` (with a tier at both).
    Weight: the movers' share of that revenue. None with fewer than two snapshots or no movers.
    """
    if history is None or "snapshot_date" not in history:
        return None
    dates = pd.DatetimeIndex(history["snapshot_date"].drop_duplicates()).sort_values()
    if len(dates) < 2:
        return None
    if customer_ids is not None:
        history = history.loc[history["customer_id"].isin(customer_ids)]
    before, after = dates[-2].date(), dates[-1].date()
    moved = snapshots.movers(history, before, after, tiers)
    if moved.empty:
        return None
    later = history.loc[pd.to_datetime(history["snapshot_date"]).eq(dates[-1])]
    later = later.loc[later["tier"].notna()]
    value = later.set_index("customer_id")["monetary"]
    up = moved.loc[moved["direction"].eq("up"), "customer_id"]
    down = moved.loc[moved["direction"].eq("down"), "customer_id"]
    total = float(value.clip(lower=0).sum())
    concerned = float(value.reindex(moved["customer_id"]).clip(lower=0).sum())
    return Finding("tier_moves", concerned / total if total > 0 else 0.0, {
        "before": before.isoformat(), "after": after.isoformat(), "up": len(up), "down": len(down),
        "up_value": float(value.reindex(up).sum()), "down_value": float(value.reindex(down).sum()),
        "customers": len(later),
    })


def churn_trust(data: ProcessedData) -> Finding | None:
    """What the churn backtest says: the chosen model's top-tenth lift and ROC AUC on the
    population it was chosen on, with the recency rule's beside them.

    Figures: ``date`` (the holdout), ``model``, ``population``, ``lift``, ``auc``,
    ``precision``, ``base_rate``, ``baseline_lift``, ``baseline_auc`` (None when the model is
    the rule), ``n``. Weight: the tested customers' share of all customers.
    """
    facts = data.meta.churn
    metrics = pd.DataFrame(facts.metrics)
    if metrics.empty or not facts.chosen or "population" not in metrics:
        return None
    choice = facts.choice if isinstance(facts.choice, Mapping) else {}
    population = choice.get("population")
    if population not in set(metrics["population"]):
        not_lost = metrics.loc[metrics["population"].eq("not_lost"), "roc_auc"]
        population = "not_lost" if len(not_lost) and not_lost.notna().all() else "buyers"
    rows = metrics.loc[metrics["population"].eq(population)].set_index("candidate")
    if facts.chosen not in rows.index or pd.isna(rows.loc[facts.chosen, "top_decile_lift"]):
        return None
    mine = rows.loc[facts.chosen]
    baseline = rows.loc["recency"] if "recency" in rows.index and facts.chosen != "recency" else None
    customers = max(int(data.meta.customers or len(data.customers)), 1)
    return Finding("churn_trust", min(float(mine["n"]) / customers, 1.0), {
        "date": facts.validation_date, "model": facts.chosen, "population": population,
        "lift": float(mine["top_decile_lift"]), "auc": float(mine["roc_auc"]),
        "precision": float(mine["top_decile_precision"]), "base_rate": float(mine["base_rate"]),
        "baseline_lift": None if baseline is None else float(baseline["top_decile_lift"]),
        "baseline_auc": None if baseline is None else float(baseline["roc_auc"]),
        "n": int(mine["n"]),
    })


def value_trust(data: ProcessedData) -> Finding | None:
    """What the value backtest says: predicted against actual revenue over the held-out span.

    Figures: ``cutoff`` (the date the span began), ``days``, ``error`` (predicted / actual - 1 for
    the whole base), ``worst_tier`` and ``worst_error`` (the tier furthest off). Weight: the
    share of customers the models learn from (the repeat buyers), or 1 when not recorded.
    """
    backtest = data.meta.value.backtest
    if not backtest or backtest.get("error") is None:
        return None
    errors = {k: v for k, v in (backtest.get("tier_errors") or {}).items() if v is not None}
    worst = max(errors, key=lambda k: abs(errors[k])) if errors else None
    covered = data.meta.value.repeat_buyers
    customers = max(int(data.meta.customers or len(data.customers)), 1)
    weight = min(float(covered) / customers, 1.0) if covered else 1.0
    return Finding("value_trust", weight, {
        "cutoff": backtest.get("cutoff"), "days": backtest.get("days"), "error": float(backtest["error"]),
        "worst_tier": worst, "worst_error": None if worst is None else float(errors[worst]),
    })


def base_findings(data: ProcessedData, min_customers: int) -> list[Finding]:
    """The whole base's findings, heaviest first: region moves, where the value at risk sits,
    tier moves since the last snapshot, and what the backtests say."""
    buyers = buyers_of(data.customers)
    revenue = float(buyers["monetary"].clip(lower=0).sum())
    return rank([
        region_moves(buyers, min_customers),
        risk_concentration(buyers, "tier", revenue),
        risk_concentration(buyers, "region", revenue),
        tier_moves(data.table("snapshots"), list(data.meta.tiers)),
        churn_trust(data),
        value_trust(data),
    ])


def churn_findings(data: ProcessedData) -> list[Finding]:
    """The churn page's findings: where the value at risk sits, and what the backtests say."""
    buyers = buyers_of(data.customers)
    revenue = float(buyers["monetary"].clip(lower=0).sum())
    return rank([
        risk_concentration(buyers, "tier", revenue),
        risk_concentration(buyers, "region", revenue),
        churn_trust(data),
        value_trust(data),
    ])


def quality_findings(accounting: pd.DataFrame, reasons: pd.DataFrame, customers: pd.DataFrame | None) -> list[Finding]:
    """The data-quality page's findings, heaviest first, from intake's accounting (one row per
    file), the quarantine's rows per reason (:func:`custseg.intake.quality.reason_counts`, the
    count the page's reason table shows, most frequent first, ties by code) and the processed
    customers' markets (None: no input carried locations).

    - ``quarantined``: ``read``, ``quarantined`` and, when any, ``reason`` (the most common code;
      ties by code) with its ``reason_rows``. Weight: the share of the rows read it concerns
      (1 when none was quarantined: that every row was used is the page's first news).
    - ``duplicates``: ``removed`` of ``read``. Weight: their share; none when there were none.
    - ``unplaced``: ``customers`` in the unknown market of ``total``. Weight: their share; none
      when every customer was placed.
    """
    found: list[Finding | None] = []
    read = int(accounting["rows_read"].sum()) if len(accounting) else 0
    if read:
        quarantined = int(accounting["quarantined"].sum())
        figures: dict[str, object] = {"read": read, "quarantined": quarantined}
        if quarantined and len(reasons):
            top = reasons.iloc[0]
            figures.update(reason=str(top["reason"]), reason_rows=int(top["rows"]))
        found.append(Finding("quarantined", quarantined / read if quarantined else 1.0, figures))
        removed = int(accounting["duplicates_removed"].sum())
        if removed:
            found.append(Finding("duplicates", removed / read, {"removed": removed, "read": read}))
    if customers is not None and len(customers) and "market" in customers:
        unknown = int(customers["market"].astype("string").eq(geo.UNKNOWN).sum())
        if unknown:
            found.append(Finding("unplaced", unknown / len(customers), {"customers": unknown, "total": len(customers)}))
    return rank(found)


def slice_findings(data: ProcessedData, customers: pd.DataFrame, min_customers: int) -> list[Finding]:
    """A region's, tier's or group's findings against the whole base; only ``too_little`` when it
    has fewer buyers than `min_customers`.

    Weights are shares of the slice: how it differs from the base concerns all of it (1), and
    the other findings their share of its revenue.
    """
    mine, whole = buyers_of(customers), buyers_of(data.customers)
    if len(mine) < min_customers:
        return [Finding("too_little", 1.0, {"buyers": len(mine), "needed": min_customers})]
    revenue = float(mine["monetary"].clip(lower=0).sum())
    found: list[Finding | None] = []
    # a slice that is the whole base (the only market of a one-market study) differs from nothing
    whole_base = len(mine) == len(whole)
    if not whole_base:
        found.append(slice_vs_base(mine, whole, data.meta.tiers[0] if data.meta.tiers else None))
    if {"revenue_90d", "revenue_prev_90d"} <= set(mine.columns) and not whole_base:
        here, base = growth(mine), growth(whole)
        if pd.notna(here) and pd.notna(base):
            recent = float(mine["revenue_90d"].sum() + mine["revenue_prev_90d"].sum())
            found.append(Finding("slice_trend", recent / revenue if revenue > 0 else 0.0,
                                 {"change": here, "base": base}))
    found.append(risk_concentration(mine, "tier", revenue) if mine["tier"].nunique() > 1
                 else risk_concentration(mine, "region", revenue))
    found.append(tier_moves(data.table("snapshots"), list(data.meta.tiers), mine["customer_id"]))
    return rank(found)


def slice_vs_base(mine: pd.DataFrame, whole: pd.DataFrame, best: str | None) -> Finding:
    """How a slice's buyers differ from the whole base's.

    Figures: ``buyers``, ``buyers_share``, ``revenue_share``, ``value_index`` (revenue per buyer,
    100 = the base), ``churn_index`` (mean churn probability, 100 = the base; None unscored),
    ``best`` and ``best_share`` (share of its buyers in the best tier) and ``base_best_share``.
    """
    total = float(whole["monetary"].sum())
    per_buyer = float(mine["monetary"].mean()) / float(whole["monetary"].mean()) if whole["monetary"].mean() else np.nan
    churn = None
    if "churn_probability" in mine and whole["churn_probability"].notna().any():
        base_p = float(whole["churn_probability"].mean())
        churn = float(mine["churn_probability"].mean()) / base_p * 100 if base_p > 0 else None
    figures: dict[str, object] = {
        "buyers": len(mine), "buyers_share": len(mine) / len(whole),
        "revenue_share": float(mine["monetary"].sum()) / total if total else np.nan,
        "value_index": per_buyer * 100, "churn_index": churn,
    }
    if best is not None and "tier" in mine:
        figures.update(best=best, best_share=float(mine["tier"].eq(best).mean()),
                       base_best_share=float(whole["tier"].eq(best).mean()))
    return Finding("slice_vs_base", 1.0, figures)


def attribute_findings(data: ProcessedData, values: pd.Series, min_customers: int) -> list[Finding]:
    """For an attribute's comparison page: how each of its values with enough buyers differs from
    the base (``slice_vs_base`` with a ``value`` figure), weighted by the value's revenue share."""
    whole = buyers_of(data.customers)
    keyed = values.reindex(whole.index)
    found = []
    best = data.meta.tiers[0] if data.meta.tiers else None
    for value, mine in whole.groupby(keyed.astype("string"), observed=True):
        if len(mine) < min_customers:
            continue
        finding = slice_vs_base(mine, whole, best)
        share = finding.figures["revenue_share"]
        found.append(Finding("slice_vs_base", float(share) if pd.notna(share) else 0.0,
                             {**finding.figures, "value": str(value)}))
    return rank(found)
