"""The segmentation step: clean tables in, every classification of every customer out.

One pass computes, at the observation date, the customer features, the region, the value tier,
the named RFM segments, the lifecycle stage and the data-driven cluster of every customer; the
same classification (clusters aside, which are fitted once) is recomputed at each snapshot date
so that tier migration and the effect of the tiering can be measured. Nothing here reads or
writes files: :mod:`custseg.pipeline` does that.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd

from custseg import geo
from custseg.config import Config
from custseg.intake.validation import PERSONAL_COLUMNS
from custseg.segment import clusters, features, lifecycle, preferences, snapshots, tiers
from custseg.segment import rfm as segments

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
    cluster_note: dict | None  # why clusters are missing or short of clusters.min_share, as facts (_fit_clusters)
    snapshot_dates: list[dt.date]
    snapshots: pd.DataFrame  # long: snapshot_date, customer_id, tier, segment, lifecycle, ...
    tier_effect: pd.DataFrame  # per snapshot pair and tier: retention and revenue growth


def places(history: features.History, config: Config) -> pd.DataFrame:
    """Canonical regions of every customer of the prepared tables, row i for customer code i.

    From each customer's raw country, province and city; customers without a customer row
    (orders-only input) are "Unknown".
    """
    raw = {c: history.attributes[c] for c in _RAW_PLACE if c in history.attributes}
    known = pd.DataFrame({"customer_id": pd.array(history.ids, dtype="str"), **raw})
    known = known.assign(**{c: known[c].fillna("") if c in known else "" for c in _RAW_PLACE})
    placed = geo.normalize_regions(
        known, custom_markets=config.regions.market_definitions(), aliases=config.regions.alias_table()
    )
    return placed.assign(region=placed[REGION_COLUMNS[config.regions.level]].fillna(geo.UNKNOWN))


def classify(
    history: features.History, config: Config, observation_date: dt.date, placed: pd.DataFrame,
    *, attributes: bool = True, behaviour: Collection[str] | None = None,
) -> pd.DataFrame:
    """Features, regions, tier, named segments and lifecycle of every customer at a date.

    Parameters
    ----------
    history
        The clean tables prepared by :func:`custseg.segment.features.prepare`; only what happened before
        `observation_date` counts, and only customers who existed then are classified.
    config
        The study config.
    observation_date
        The 'today' of this classification.
    placed
        Regions per customer code from :func:`places` (or some of its columns, as text or
        categoricals), computed once for all dates; its columns but customer_id are attached.
    attributes
        False leaves out the customer-table attributes (see :func:`custseg.segment.features.features_at`).
    behaviour
        The behaviour features to compute besides the ones every classification reads; None
        for all (``features`` of :func:`custseg.segment.features.features_at`).
    """
    customers = features.features_at(history, observation_date, attributes=attributes, features=behaviour)
    customers = customers.drop(columns=[c for c in (*PERSONAL_COLUMNS, *_RAW_PLACE) if c in customers])
    # Both tables are in customer-code order: the regions of the customers present are a take,
    # not a merge on millions of id strings.
    where = placed.drop(columns="customer_id", errors="ignore")
    known = history.known_at(observation_date)
    if len(known) < len(where):  # usually everyone is known at the observation date: no copy
        where = where.take(known).reset_index(drop=True)
    customers = pd.concat([customers, where], axis=1)
    customers = tiers.assign_tiers(customers, config.tiers)
    customers = segments.assign_segments(customers, config.segments, config.tiers.bins)
    return lifecycle.assign_lifecycle(customers, config.lifecycle)


def segment(tables: Mapping[str, pd.DataFrame], config: Config, observation_date: dt.date,
            lines: pd.DataFrame | None = None) -> Segmentation:
    """Run the whole segmentation step.

    `lines` are the clean line items when the orders were derived from them: the preferences read
    the orders' times and the unit prices from them (:mod:`custseg.segment.preferences`).

    Returns
    -------
    Segmentation
        The customer table at the observation date with clusters, the category shares, the
        cluster fit, and the snapshots with the tier effect between them.
    """
    # Ids are coded and purchases sorted once; every snapshot date reuses that work. The region
    # tables load meanwhile (mostly Python, while the coding is mostly Arrow and numpy, which
    # release the GIL); every CLDR locale too when a country spelling needs them, as a real export
    # usually has one the core tables miss. When none does they would be work on a busy core and
    # memory for nothing (docs/performance.md, Memory).
    located = tables.get("customers")
    spellings = located["country"].dropna().unique() if located is not None and "country" in located else ()
    with ThreadPoolExecutor(max_workers=1) as loader:
        reference = loader.submit(geo.load_reference_data, spellings=spellings)
        history = features.prepare(tables)
        reference.result()
    placed = places(history, config)

    # A snapshot before the first customer existed says nothing: the history starts after it.
    start = history.first_day.min() if history.n else 0
    dates = snapshots.snapshot_dates(observation_date, config.snapshots)
    dates = [d for d in dates if features.day_number(d) > start] or [observation_date]
    # Past dates need only what the snapshots keep and what tiers are computed within. Those
    # places repeat at every date: they are categoricals, like the tiers and segments, coded
    # once, and each date takes its customers' codes (a byte a row where text takes twenty;
    # docs/performance.md, Memory). Tiers within a region group the same customers whether the
    # region is text or codes.
    needed = {"region", "market", tiers.WITHIN_COLUMNS.get(config.tiers.within, "region")}
    slim = pd.DataFrame({c: pd.Categorical(placed[c]) for c in placed.columns if c in needed}, index=placed.index)

    # Snapshot rows name customers by code (a categorical over the sorted ids) while they are
    # stacked and compared with the orders: integers, where text would be sorted and hashed
    # millions of times. The ids are written out as text once, at the end.
    coded_ids = pd.CategoricalDtype(pd.Index(history.ids))

    def snapshot_rows(table: pd.DataFrame, date: dt.date) -> pd.DataFrame:
        kept = table[[c for c in snapshots.SNAPSHOT_COLUMNS if c in table]]
        # classify returns the customers known at the date, in code order; the observation
        # date's places are text (its table is the output), and coded here like the others
        known = history.known_at(date)  # noqa: F821 (deleted only after use, below)
        places_then = {c: slim[c].array.take(known) for c in ("region", "market") if c in kept}
        return kept.assign(customer_id=pd.Categorical.from_codes(known, dtype=coded_ids), **places_then)

    # A past date computes only what its classification reads (the purchase features every
    # classification needs come anyway) and the contacts when the tiers weigh them.
    past_features = ["interactions_90d"] if config.tiers.weights.get("i", 0) > 0 else []

    def classify_past(date: dt.date) -> pd.DataFrame:
        past = classify(history, config, date, slim, attributes=False, behaviour=past_features)  # noqa: F821 (deleted only after use, below)
        return snapshot_rows(past, date)  # noqa: F821 (deleted only after use, below)

    # The past dates depend neither on the observation date's table nor on the clusters: a
    # thread classifies them while this one classifies the observation date and fits the
    # clusters (numpy, pandas and scikit-learn release the GIL in their loops). The two take
    # about as long; a second thread for past dates was no faster on two cores and held one
    # more day's working arrays at once. Each result is what it would be alone, so the output
    # does not depend on the scheduling.
    with ThreadPoolExecutor(max_workers=1) as pool:
        past = {date: pool.submit(classify_past, date) for date in dates if date != observation_date}
        customers = classify(history, config, observation_date, placed)
        fit, note = _fit_clusters(customers, config)
        if fit is not None:
            customers = clusters.assign_clusters(customers, fit)

        def at(date: dt.date) -> pd.DataFrame:
            if date == observation_date:
                return snapshot_rows(customers, date)  # noqa: F821 (deleted only after use, below)
            return past[date].result()  # noqa: F821 (deleted only after use, below)

        history_table = snapshots.build_snapshots(at, dates)
    # The prepared arrays (the largest working memory of the step) are let go as soon as they
    # are not needed, so the working arrays of the last steps take their place instead of adding
    # to them: first the past tables (in the snapshot table now) and the sorted purchases...
    del past, snapshot_rows, classify_past, at
    history = history.without_purchases()
    shares = features.category_shares_at(history, observation_date)
    # what each customer prefers, and the preference classes, beside the other classes
    liked = preferences.customer_preferences(
        customers["customer_id"], tables["orders"], shares, observation_date, config.preferences,
        interactions=tables.get("interactions"), lines=lines, rates=config.currency.rate_table(),
    )
    customers = pd.concat([customers, liked.set_axis(customers.index)], axis=1)
    # ... then everything but the ids and the customer code of each order.
    ids, order_codes = history.ids, history.order_codes
    del history
    if history_table["snapshot_date"].nunique() >= 2:
        coded = _coded_orders(tables["orders"], order_codes, coded_ids)
        effect = snapshots.tier_effect(history_table, coded, list(config.tiers.names))
    else:  # too short a history to compare tiers over time; the studies say so
        effect = pd.DataFrame()
    history_table = history_table.assign(customer_id=ids.take(history_table["customer_id"].cat.codes.to_numpy()))
    return Segmentation(
        customers=customers,
        category_shares=shares,
        clusters=fit,
        cluster_note=note,
        snapshot_dates=dates,
        snapshots=history_table,
        tier_effect=effect,
    )


def _coded_orders(orders: pd.DataFrame, order_codes: np.ndarray, ids: pd.CategoricalDtype) -> pd.DataFrame:
    """The orders tier_effect reads, with customer ids as codes already made (not hashed again).

    The other columns are the orders' own arrays, not copies.
    """
    codes = pd.Categorical.from_codes(order_codes, dtype=ids)
    columns = {c: orders[c].array for c in ("order_date", "status", "revenue", features.REFUNDED_ON) if c in orders}
    return pd.DataFrame({"customer_id": codes, **columns}, copy=False)


def _fit_clusters(customers: pd.DataFrame, config: Config) -> tuple[clusters.ClusterResult | None, dict | None]:
    """Fit clusters when there are enough buyers, trimming the k range to what the base supports.

    Returns the fit (None when there are too few buyers) and a note, as facts
    (:func:`custseg.words.cluster_note` puts it in words), or None when there is nothing to say:
    ``{"reason": "few_buyers", "usable", "needed", "k_min", "min_size"}`` (no clusters) or
    ``{"reason": "min_share", "k_min", "k_max", "min_share", "k", "smallest"}`` (no k gives every
    cluster ``clusters.min_share`` of the buyers; the closest was kept).
    """
    settings = config.clusters
    usable = customers.loc[customers["frequency"] > 0, settings.features].notna().all(axis=1).sum()
    k_max = min(settings.k_max, int(usable) // MIN_BUYERS_PER_CLUSTER)
    if k_max < settings.k_min:
        return None, {"reason": "few_buyers", "usable": int(usable), "needed": MIN_BUYERS_PER_CLUSTER * settings.k_min,
                      "k_min": settings.k_min, "min_size": MIN_BUYERS_PER_CLUSTER}
    fit = clusters.fit_clusters(customers, settings.model_copy(update={"k_max": k_max}))
    if fit.min_share_met:
        return fit, None
    smallest = fit.selection.loc[fit.selection["chosen"], "smallest_share_all"].iloc[0]
    return fit, {"reason": "min_share", "k_min": settings.k_min, "k_max": k_max, "min_share": settings.min_share,
                 "k": int(fit.k), "smallest": float(smallest)}
