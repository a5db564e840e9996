"""Value tiers: RFM quantile scores, then a tier by total score, by share of revenue or by rules.

Three ways to tier buying customers, chosen by ``tiers.method``:

``rfm``
    Each customer is scored 1..``bins`` on recency, frequency and monetary value (and optionally
    on interactions over the last 90 days) by quantile; the weighted total of the scores is cut
    at ``min_scores``.
``value_share``
    The Pareto view, by spend alone: the largest spenders who together make the first
    ``revenue_shares[0]`` of revenue form the best tier, the next ``revenue_shares[1]`` the
    second, and so on. One large order can put a one-time buyer in the best tier.
``thresholds``
    Absolute rules as Chinese practice writes them (R < 60 days, F >= 5, M >= 500): the first rule
    a customer meets names the tier.

Ties and one-time buyers
    A score counts the share of buyers a customer strictly beats (:func:`quantile_scores`), so
    equal values get the lowest score their run of ties spans. Frequency is the measure with the
    most ties: one-time buyers, the lowest frequency there is, always have F = 1, however many of
    them there are: frequency never lifts a one-time buyer into a tier. With the default
    ``min_scores`` (12 of 15) the best ``rfm`` tier would need R + M = 11 from a one-time buyer,
    more than the 10 the two can give. The same rule applies to R, M and I: customers whose last
    purchase was on the same day share the lowest recency score that day spans, and buyers
    without a contact all have I = 1.

The R, F and M scores are computed whatever the method, because the named segments
(:mod:`custseg.segment.rfm`) are read off them. With ``tiers.within`` other than ``all`` both the
scores and the tiers are relative to the customer's own market, country, province or region.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from custseg.config import TierRule, Tiers
from custseg.geo import UNKNOWN

#: The customer-table column that holds each value of ``tiers.within``.
WITHIN_COLUMNS = {"market": "market", "country": "country_iso3", "province": "province", "region": "region"}

#: Columns that :func:`assign_tiers` writes; earlier values are dropped so a re-run never keeps a
#: stale ``i_score`` from a config that weighted interactions.
TIER_COLUMNS = ("r_score", "f_score", "m_score", "i_score", "rfm_score", "tier", "tier_method")

# Comparing a running revenue share with a configured share: sums of floats drift by a few ulps,
# and a customer who starts exactly on a boundary must open the next tier even when the float sum
# of the revenue before them lands a hair below it.
_SHARE_TOLERANCE = 1e-9


def quantile_scores(
    values: pd.Series,
    bins: int,
    *,
    higher_is_better: bool = True,
    groups: pd.Series | None = None,
) -> pd.Series:
    """Score values 1..bins by quantile, best = bins.

    The score is ``1 + floor(bins * w / n)``, where ``w`` is the number of the ``n`` values (of
    the same group) that are strictly worse: the score counts the fifths (with 5 bins) of
    customers a customer beats. Without ties this is the usual quantile score (with ``n`` a
    multiple of ``bins``, each score holds ``n / bins`` values). Equal values share a score, the
    lowest their run of ties spans, so a tie is never scored above customers it does not beat:
    the worst value always scores 1 (where 90% of buyers bought once, every one-time buyer has
    F = 1), and a heavily tied measure may leave the top scores empty rather than hand them to
    a crowd. The result depends only on the values, never on row order, and a better value never
    gets a lower score. The arithmetic is on whole numbers, so a value exactly on a quantile
    boundary is not moved a level by floating-point rounding.

    Parameters
    ----------
    values
        Numbers to score; missing values get a missing score and do not count towards ``n``.
    bins
        Number of score levels.
    higher_is_better
        False for recency, where fewer days since the last order is better.
    groups
        Optional labels aligned with `values`; when given, ranks and ``n`` are taken within each
        label (a customer is scored against the customers of the same market, say). Missing
        labels are one group, together with the label ``Unknown`` if there is one.

    Returns
    -------
    pd.Series
        Int64 scores, same index as `values`.

    Examples
    --------
    >>> quantile_scores(pd.Series([10, 20, 30, 40]), 2).tolist()
    [1, 1, 2, 2]
    >>> quantile_scores(pd.Series([1, 1, 1, 2, 3]), 5).tolist()  # three ties beat nobody
    [1, 1, 1, 4, 5]
    """
    numbers = values.to_numpy(dtype="float64", na_value=np.nan)
    codes = None if groups is None else _group_codes(groups.reindex(values.index))
    return _int_series(_scores(numbers, bins, higher_is_better, codes), values.index)


def assign_tiers(customers: pd.DataFrame, settings: Tiers) -> pd.DataFrame:
    """Add quantile scores, a value tier and the tiering method to a customer table.

    Only buyers (``frequency > 0``) are scored and tiered; prospects and customers whose every
    order was refunded keep missing scores and a missing tier rather than made-up ones.

    Parameters
    ----------
    customers
        The customer table: one row per customer with ``customer_id``, ``recency_days``,
        ``frequency`` and ``monetary``; ``interactions_90d`` when ``tiers.weights`` has ``i``; the
        region column named by ``tiers.within`` when that is not ``all`` (``country`` reads
        ``country_iso3``).
    settings
        The ``tiers`` section of the config.

    Returns
    -------
    pd.DataFrame
        A new frame with

        - ``r_score``, ``f_score``, ``m_score`` (Int64, 1..bins, higher = better; high R = bought
          recently), always, whatever the method;
        - ``i_score`` (Int64, more contacts in the last 90 days = higher) when
          ``tiers.weights.i`` is above zero;
        - ``rfm_score`` (float64): the weighted total of the scores whose weight is above zero;
        - ``tier``: an ordered categorical whose categories are ``tiers.names``, best first;
        - ``tier_method`` (str): ``tiers.method``, on every row, so a saved table says how its
          tiers were made.

    Raises
    ------
    ValueError
        When a column the settings need is missing (naming the setting that needs it), or when a
        buyer has no recency or monetary value.

    Notes
    -----
    With ``tiers.within`` other than ``all`` the scores, the value shares and so the tiers are
    computed within each value of the region column; customers whose region is missing are one
    group, ``Unknown`` (merged with a region that is literally called ``Unknown``).

    ``value_share`` ranks buyers by monetary value, largest first, equal spend ordered by
    ``customer_id`` so the result is the same for any row order. A customer belongs to a tier when
    the revenue of the customers ranked above them is still below that tier's cumulative share:
    the customer who crosses a boundary stays in the better tier, so the best tier is the smallest
    set of customers that reaches its share (and is never empty while there is revenue). A customer
    who starts exactly on a boundary opens the next tier. Shares are of positive net revenue:
    buyers whose returns outweigh their purchases count as zero and land in the last tier.

    ``thresholds`` applies ``tiers.rules`` in order; each limit that is set must hold
    (``recency_days <= recency_max_days``, ``frequency >= frequency_min``,
    ``monetary >= monetary_min``), so "R < 60 days" is written ``recency_max_days: 59``. A rule
    with no limit set is met by every buyer.
    """
    missing = [c for c in ("customer_id", "recency_days", "frequency", "monetary") if c not in customers.columns]
    if missing:
        raise ValueError(f"tiers: the customer table has no column(s) {missing}")
    customers = customers.drop(columns=[c for c in TIER_COLUMNS if c in customers.columns])
    frequency = customers["frequency"].to_numpy(dtype="float64", na_value=np.nan)
    recency = customers["recency_days"].to_numpy(dtype="float64", na_value=np.nan)
    monetary = customers["monetary"].to_numpy(dtype="float64", na_value=np.nan)
    buyers = frequency > 0
    for column, values in (("recency_days", recency), ("monetary", monetary)):
        if np.isnan(values[buyers]).any():
            raise ValueError(
                f"customer table: column {column!r} is missing for customers with purchases "
                f"(frequency > 0); build the table with custseg.segment.features.customer_table"
            )
    codes = _within_codes(customers, settings.within)
    weights = {dim: w for dim, w in settings.weights.items() if w > 0}

    # Only buyers are ranked: non-buyers neither get a score nor move anyone else's.
    rows = np.flatnonzero(buyers)
    buyer_codes = None if codes is None else codes[rows]

    def score(values: np.ndarray, higher_is_better: bool = True) -> np.ndarray:
        out = np.full(len(customers), np.nan)
        out[rows] = _scores(values[rows], settings.bins, higher_is_better, buyer_codes)
        return out

    scores = {"r": score(recency, higher_is_better=False), "f": score(frequency), "m": score(monetary)}
    if "i" in weights:
        if "interactions_90d" not in customers.columns:
            raise ValueError(
                "tiers.weights.i needs an interactions table: the customer table has no "
                "'interactions_90d' column (add inputs.interactions, or drop 'i' from tiers.weights)"
            )
        # a buyer absent from the interactions table simply had no contact
        contacts = customers["interactions_90d"].to_numpy(dtype="float64", na_value=0.0)
        scores["i"] = score(contacts)
    total = sum(weight * scores[dim] for dim, weight in weights.items())  # NaN for non-buyers

    if settings.method == "rfm":
        tier = _codes_by_score(total, settings.min_scores)
    elif settings.method == "value_share":
        tier = _codes_by_value_share(customers["customer_id"], monetary, codes, buyers, settings.revenue_shares)
    else:
        tier = _codes_by_rules(recency, frequency, monetary, settings.rules)
    tier = np.where(buyers, tier, -1)

    index = customers.index
    columns = {f"{dim}_score": _int_series(scores[dim], index) for dim in scores}
    return customers.assign(
        **columns,
        rfm_score=pd.Series(total, index=index, dtype="float64"),
        # categories in config order (best first) so tables and charts list tiers that way
        tier=pd.Categorical.from_codes(tier, categories=list(settings.names), ordered=True),
        tier_method=pd.Series(pd.array(pa.repeat(settings.method, len(index)), dtype="str"), index=index),
    )


def _int_series(scores: np.ndarray, index: pd.Index) -> pd.Series:
    """Whole-number floats (NaN = missing) as an Int64 series, without a slow per-value cast."""
    missing = np.isnan(scores)
    values = np.where(missing, 0, scores).astype("int64")
    return pd.Series(pd.arrays.IntegerArray(values, missing), index=index)


def _group_codes(labels: pd.Series) -> np.ndarray:
    """Integer code per label; missing labels share the code of ``Unknown``."""
    codes, uniques = pd.factorize(labels, use_na_sentinel=True)
    if (codes < 0).any():
        known = np.flatnonzero(np.asarray(uniques.astype("object") == UNKNOWN))
        codes = np.where(codes < 0, known[0] if len(known) else len(uniques), codes)
    return codes.astype("int64")


def _within_codes(customers: pd.DataFrame, within: str) -> np.ndarray | None:
    """The group every customer is compared within, as integer codes; None for the whole table."""
    if within == "all":
        return None
    column = WITHIN_COLUMNS[within]
    if column not in customers.columns:
        raise ValueError(
            f"tiers.within is {within!r} but the customer table has no {column!r} column "
            f"(region columns are added by custseg.segment.step.classify)"
        )
    return _group_codes(customers[column])


def _scores(values: np.ndarray, bins: int, higher_is_better: bool, groups: np.ndarray | None) -> np.ndarray:
    """Quantile scores as floats (NaN where `values` is NaN); see :func:`quantile_scores`.

    Ranks come from one sort instead of ``Series.rank``, which is several times slower on a
    million rows: after sorting (by group, then value) the values strictly worse than a run of
    equal values are the positions before the run's start, counted from the start of its group.
    """
    out = np.full(len(values), np.nan)
    present = np.flatnonzero(~np.isnan(values))
    if len(present) == 0:
        return out
    keys = values[present] if higher_is_better else -values[present]
    group = None if groups is None else groups[present]
    order = np.argsort(keys)  # ties need no stable order: they all start at the same position
    if group is not None:
        # a stable sort by group keeps the value order within each group; small codes let numpy
        # use a radix sort
        small = group.astype("int16") if group.max() < np.iinfo("int16").max else group
        order = order[np.argsort(small[order], kind="stable")]
    key = keys[order]
    position = np.arange(len(order))
    new_run = np.r_[True, key[1:] != key[:-1]]
    if group is None:  # one group, starting at 0 and holding every value: no group arrays
        group_start, group_end = 0, len(order)
    else:
        grp = group[order]
        new_group = np.r_[True, grp[1:] != grp[:-1]]
        new_run |= new_group
        group_start = np.maximum.accumulate(np.where(new_group, position, 0))
        group_end = np.r_[position[new_group][1:], len(order)][np.cumsum(new_group) - 1]
    run_start = np.maximum.accumulate(np.where(new_run, position, 0))
    # how many of the group are strictly worse: a whole number, so the floor is exact
    worse = run_start - group_start
    size = group_end - group_start
    out[present[order]] = 1 + (worse * bins) // size
    return out


def _codes_by_score(total: np.ndarray, min_scores: list[float]) -> np.ndarray:
    """Tier position by weighted score: the first threshold (best first) a total reaches."""
    # min_scores fall strictly (the config checks), so counting the thresholds a total does *not*
    # reach gives its tier: reach the first -> 0, only the second -> 1, none -> the last tier
    tier = np.zeros(len(total), dtype="int64")
    for limit in min_scores:
        tier += total < limit
    return tier


def _codes_by_value_share(
    ids: pd.Series, monetary: np.ndarray, groups: np.ndarray | None, buyers: np.ndarray, revenue_shares: list[float]
) -> np.ndarray:
    """Tier position by cumulative share of revenue (see the Notes of :func:`assign_tiers`)."""
    rows = np.flatnonzero(buyers)
    # spend below zero (returns outweigh purchases) is no share of revenue
    revenue = np.clip(monetary[rows], 0, None)
    group = np.zeros(len(rows), dtype="int64") if groups is None else groups[rows]
    # pyarrow sorts the string ids in C++; largest spend first, equal spend by customer_id
    table = pa.table({"group": group, "revenue": revenue, "id": pc.take(pa.array(ids), pa.array(rows))})
    order = pc.sort_indices(
        table, sort_keys=[("group", "ascending"), ("revenue", "descending"), ("id", "ascending")]
    ).to_numpy()
    grp, rev = group[order], revenue[order]
    before = pd.Series(rev).groupby(grp, sort=False).cumsum().to_numpy() - rev
    total = np.bincount(grp, weights=rev)[grp]
    # a group without revenue has nothing to share out: all of it goes to the last tier
    with np.errstate(invalid="ignore", divide="ignore"):
        share_before = np.where(total > 0, before / total, 1.0)
    limits = np.cumsum(revenue_shares)
    codes = np.full(len(ids), -1, dtype="int64")
    codes[rows[order]] = np.searchsorted(limits, share_before + _SHARE_TOLERANCE, side="right")
    return codes


def _codes_by_rules(
    recency: np.ndarray, frequency: np.ndarray, monetary: np.ndarray, rules: list[TierRule]
) -> np.ndarray:
    """Tier position by absolute rules: the first rule met wins, else the last tier."""
    met = []
    for rule in rules:  # one vectorized test per tier, not per customer
        ok = np.ones(len(recency), dtype=bool)
        if rule.recency_max_days is not None:
            ok &= recency <= rule.recency_max_days
        if rule.frequency_min is not None:
            ok &= frequency >= rule.frequency_min
        if rule.monetary_min is not None:
            ok &= monetary >= rule.monetary_min
        met.append(ok)
    return np.select(met, list(range(len(rules))), default=len(rules))
