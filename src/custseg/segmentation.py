"""The segmentation step: clean tables in, every classification of every customer out.

One pass computes, at the observation date, the customer features, the region, the value tier,
the named RFM segments, the lifecycle stage and the data-driven cluster of every customer; the
same classification (clusters aside, which are fitted once) is recomputed at each snapshot date
so that tier migration and the effect of the tiering can be measured. Nothing here reads or
writes files: :mod:`custseg.pipeline` does that.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from custseg import clusters, features, lifecycle, regions, segments, snapshots, tiers
from custseg.config import Config

#: Personal data stays in the interim tables; the processed tables that studies read never hold it.
PERSONAL_COLUMNS = ("customer_name", "email", "phone")

#: Which customer column names the region at each configured level.
REGION_COLUMNS = {"market": "market", "country": "country_en", "province": "province"}

_RAW_PLACE = ("country", "province", "city")

#: Clusters found among fewer customers than this many per cluster describe noise, not groups.
MIN_BUYERS_PER_CLUSTER = 10


@dataclass(frozen=True)
class Segmentation:
    """Everything the segmentation step computes."""

    customers: pd.DataFrame  # one row per customer: features, regions, tier, segments, lifecycle, cluster
    category_shares: pd.DataFrame  # customer_id, category, revenue, share
    clusters: clusters.ClusterResult | None  # None when there were too few buyers to cluster
    cluster_note: str  # why clusters are missing, or "" when they are there
    snapshot_dates: list[dt.date]
    snapshots: pd.DataFrame  # long: snapshot_date, customer_id, tier, segment, lifecycle, ...
    tier_effect: pd.DataFrame  # per snapshot pair and tier: retention and revenue growth


def places(tables: Mapping[str, pd.DataFrame], config: Config, ids: pd.Index | None = None) -> pd.DataFrame:
    """Canonical regions of every customer known to any table, from their raw country,
    province and city; customers without a customer row (orders-only input) are "Unknown".
    `ids`, the sorted customer ids of all tables, saves collecting them again when known."""
    if ids is None:
        ids = _all_ids(tables)
    known = pd.DataFrame({"customer_id": pd.array(ids, dtype="str")})
    attributes = tables.get("customers")
    if attributes is not None:
        raw = [c for c in _RAW_PLACE if c in attributes]
        known = known.merge(attributes[["customer_id", *raw]], on="customer_id", how="left", validate="one_to_one")
    known = known.assign(**{c: known[c].fillna("") if c in known else "" for c in _RAW_PLACE})
    placed = regions.normalize_regions(known, custom_markets=config.regions.market_definitions())
    return placed.assign(region=placed[REGION_COLUMNS[config.regions.level]].fillna(regions.UNKNOWN))


def first_seen(tables: Mapping[str, pd.DataFrame]) -> pd.Series:
    """The first day each customer existed: signed up, bought, was contacted or answered a survey.

    A classification at a past date leaves out the customers first seen on or after it: they
    were not yet customers then, which is not the same as a customer without a tier.
    """
    dated = {"orders": "order_date", "interactions": "interaction_date", "feedback": "feedback_date", "customers": "signup_date"}
    firsts = [
        frame.groupby("customer_id", sort=False, observed=True)[dated[name]].min()
        for name, frame in tables.items()
        if name in dated and dated[name] in frame
    ]
    seen = pd.concat(firsts).groupby(level=0, sort=False).min()
    if "customers" in tables:
        # a customer row without any date still existed from the start of the data
        undated = pd.Index(tables["customers"]["customer_id"]).difference(seen.dropna().index)
        seen = pd.concat([seen.dropna(), pd.Series(pd.Timestamp.min, index=undated)])
    return seen


def classify(
    tables: Mapping[str, pd.DataFrame], config: Config, observation_date: dt.date, placed: pd.DataFrame
) -> pd.DataFrame:
    """Features, regions, tier, named segments and lifecycle of every customer at a date.

    Parameters
    ----------
    tables
        Clean tables; only what happened before `observation_date` counts.
    config
        The study config.
    observation_date
        The 'today' of this classification.
    placed
        Regions per customer from :func:`places`, computed once for all dates.
    """
    customers = features.customer_table(tables, observation_date)
    customers = customers.drop(columns=[c for c in (*PERSONAL_COLUMNS, *_RAW_PLACE) if c in customers])
    customers = customers.merge(placed, on="customer_id", how="left", validate="one_to_one")
    customers = customers.assign(region=customers["region"].fillna(regions.UNKNOWN))
    customers = tiers.assign_tiers(customers, config.tiers)
    customers = segments.assign_segments(customers, config.segments, config.tiers.bins)
    return lifecycle.assign_lifecycle(customers, config.lifecycle)


def segment(tables: Mapping[str, pd.DataFrame], config: Config, observation_date: dt.date) -> Segmentation:
    """Run the whole segmentation step.

    Returns
    -------
    Segmentation
        The customer table at the observation date with clusters, the category shares, the
        cluster fit, and the snapshots with the tier effect between them.
    """
    coded = _coded_ids(tables)
    placed = places(tables, config, coded["orders"]["customer_id"].cat.categories)
    seen = first_seen(coded)  # grouping on codes, not on millions of strings
    seen.index = seen.index.astype("str")

    def existing(frame: pd.DataFrame, date: dt.date) -> pd.DataFrame:
        known = frame["customer_id"].map(seen).lt(pd.Timestamp(date)).fillna(False).to_numpy()
        return frame.loc[known].reset_index(drop=True)

    # Features count only what happened before the date they are computed at, so the tables
    # need no cutting; only customers who did not exist yet are left out afterwards.
    customers = existing(classify(coded, config, observation_date, placed), observation_date)
    fit, note = _fit_clusters(customers, config)
    if fit is not None:
        customers = clusters.assign_clusters(customers, fit)

    dates = snapshots.snapshot_dates(observation_date, config.snapshots)
    columns = [c for c in snapshots.SNAPSHOT_COLUMNS if c in customers]

    def at(date: dt.date) -> pd.DataFrame:
        if date == observation_date:
            return customers[columns]
        past = existing(classify(coded, config, date, placed), date)
        return past[[c for c in columns if c != "cluster"]]

    # A snapshot before the first customer existed says nothing: the history starts after it.
    start = seen.min()
    dates = [d for d in dates if pd.Timestamp(d) > start] or [observation_date]
    history = snapshots.build_snapshots(at, dates)
    orders = tables["orders"]
    orders = orders.loc[orders["order_date"] < pd.Timestamp(observation_date)]
    if history["snapshot_date"].nunique() >= 2:
        effect = snapshots.tier_effect(history, orders, list(config.tiers.names))
    else:  # too short a history to compare tiers over time; the studies say so
        effect = pd.DataFrame()
    return Segmentation(
        customers=customers,
        category_shares=features.category_shares(coded["orders"], observation_date),
        clusters=fit,
        cluster_note=note,
        snapshot_dates=dates,
        snapshots=history,
        tier_effect=effect,
    )


def _all_ids(tables: Mapping[str, pd.DataFrame]) -> pd.Index:
    """Every customer id of every table, once, sorted."""
    # unique per table first: the orders alone repeat each id many times
    ids = pd.concat([pd.Series(frame["customer_id"].unique()) for frame in tables.values() if "customer_id" in frame])
    return pd.Index(ids.unique()).sort_values()


def _coded_ids(tables: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The tables with ``customer_id`` as one shared categorical type.

    The features are computed once per snapshot date; reading millions of id strings into codes
    each time would cost more than all the arithmetic, so it is done once here.
    """
    dtype = pd.CategoricalDtype(_all_ids(tables))
    return {name: frame.assign(customer_id=frame["customer_id"].astype(dtype)) for name, frame in tables.items()}


def _fit_clusters(customers: pd.DataFrame, config: Config) -> tuple[clusters.ClusterResult | None, str]:
    """Fit clusters when there are enough buyers, trimming the k range to what the base supports."""
    settings = config.clusters
    usable = customers.loc[customers["frequency"] > 0, settings.features].notna().all(axis=1).sum()
    k_max = min(settings.k_max, int(usable) // MIN_BUYERS_PER_CLUSTER)
    if k_max < settings.k_min:
        return None, (
            f"no clusters: {usable:,} customers with purchases and every feature, fewer than the "
            f"{MIN_BUYERS_PER_CLUSTER * settings.k_min:,} that {settings.k_min} clusters (clusters.k_min) "
            f"of at least {MIN_BUYERS_PER_CLUSTER} customers need"
        )
    return clusters.fit_clusters(customers, settings.model_copy(update={"k_max": k_max})), ""
