"""Value tiers from RFM quantile scores."""

from __future__ import annotations

import numpy as np
import pandas as pd

from custseg.config import Tiers


def quantile_scores(values: pd.Series, bins: int, *, higher_is_better: bool = True) -> pd.Series:
    """Score values 1..bins by quantile, best = bins.

    Ties share a score (average rank), so the result depends only on the values, never on row
    order: two customers with the same frequency always get the same F score.

    Parameters
    ----------
    values
        Numbers to score; missing values get a missing score.
    bins
        Number of score levels.
    higher_is_better
        False for recency, where fewer days since the last order is better.
    """
    ranks = (values if higher_is_better else -values).rank(method="average", pct=True)
    scores = np.ceil(ranks * bins).clip(1, bins)
    return scores.astype("Int64")


def assign_tiers(customers: pd.DataFrame, settings: Tiers) -> pd.DataFrame:
    """Add r_score, f_score, m_score, rfm_score and tier to a customer table.

    Only customers with at least one completed purchase are scored; the others (prospects, or
    customers whose every order was returned) keep a missing tier rather than a made-up one.

    Returns
    -------
    pd.DataFrame
        A new frame; `tier` is a categorical whose categories run best tier first.
    """
    buyers = customers["frequency"] > 0
    scored = customers.loc[buyers]
    r = quantile_scores(scored["recency_days"].astype("float64"), settings.bins, higher_is_better=False)
    f = quantile_scores(scored["frequency"].astype("float64"), settings.bins)
    m = quantile_scores(scored["monetary"], settings.bins)
    total = r + f + m
    # thresholds fall from the best tier down; the first one a score reaches names its tier
    labels = np.select(
        [total.to_numpy(dtype="float64") >= limit for limit in settings.min_scores],
        settings.names[:-1],
        default=settings.names[-1],
    )
    # categories in config order (best first) so tables and charts list tiers that way
    tier_dtype = pd.CategoricalDtype(settings.names)
    return customers.assign(
        r_score=r.reindex(customers.index),
        f_score=f.reindex(customers.index),
        m_score=m.reindex(customers.index),
        rfm_score=total.reindex(customers.index),
        tier=pd.Series(labels, index=scored.index).reindex(customers.index).astype(tier_dtype),
    )
