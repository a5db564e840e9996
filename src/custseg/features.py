"""Per-customer behaviour features at an observation date, computed from the clean tables."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd


def default_observation_date(orders: pd.DataFrame) -> dt.date:
    """The day after the last order: the natural 'today' of an export."""
    if orders.empty:
        raise ValueError("there are no clean orders, so there is no observation date to derive")
    return (orders["order_date"].max() + pd.Timedelta(days=1)).date()


def rfm_features(orders: pd.DataFrame, observation_date: dt.date) -> pd.DataFrame:
    """Recency, frequency and monetary value per customer who ever ordered before the date.

    Only ``completed`` orders are purchases; cancelled ones are ignored; refunded orders (which
    net to zero) and returns (negative revenue, netted against spend) count towards the return rate. Orders on or after the observation date are the future and are left out.

    Parameters
    ----------
    orders
        Clean orders with customer_id, order_date, status, revenue.
    observation_date
        The 'today' of the analysis.

    Returns
    -------
    pd.DataFrame
        Indexed by customer_id, sorted: recency_days, frequency, monetary, aov, first_order,
        last_order, refunded_orders, return_rate. Customers whose every order was cancelled or
        refunded have frequency 0 and missing recency.
    """
    cutoff = pd.Timestamp(observation_date)
    past = orders.loc[(orders["order_date"] < cutoff) & orders["status"].ne("cancelled")]
    completed = past["status"].eq("completed")
    grouped = past.assign(
        completed=completed,
        refunded=past["status"].isin(["refunded", "returned"]),
        purchase_date=past["order_date"].where(completed),
    ).groupby("customer_id", sort=True)
    agg = grouped.agg(
        frequency=("completed", "sum"),
        refunded_orders=("refunded", "sum"),
        monetary=("revenue", "sum"),
        first_order=("purchase_date", "min"),
        last_order=("purchase_date", "max"),
    )
    recency = (cutoff - agg["last_order"]).dt.days
    frequency = agg["frequency"].astype("int64")
    return agg.assign(
        frequency=frequency,
        refunded_orders=agg["refunded_orders"].astype("int64"),
        monetary=agg["monetary"].round(2),
        recency_days=recency.astype("Int64"),
        aov=(agg["monetary"] / frequency.replace(0, np.nan)).round(2),
        return_rate=agg["refunded_orders"] / (frequency + agg["refunded_orders"]),
    )[["recency_days", "frequency", "monetary", "aov", "first_order", "last_order", "refunded_orders", "return_rate"]]


def customer_table(
    customers: pd.DataFrame | None, orders: pd.DataFrame, observation_date: dt.date
) -> pd.DataFrame:
    """One row per customer: attributes from the customer table joined with RFM features.

    Customers known only from orders still get a row (with missing attributes), and customers
    who never bought get one too (frequency 0): nobody disappears between tables.
    """
    features = rfm_features(orders, observation_date)
    if customers is None:
        attributes = pd.DataFrame(index=pd.Index([], name="customer_id", dtype="string"))
    else:
        attributes = customers.drop(columns="source_row").set_index("customer_id")
    ids = attributes.index.union(features.index).union(pd.Index(orders["customer_id"].unique()))
    table = attributes.reindex(ids).join(features, how="left")
    table = table.assign(frequency=table["frequency"].fillna(0).astype("int64"),
                         monetary=table["monetary"].fillna(0.0),
                         refunded_orders=table["refunded_orders"].fillna(0).astype("int64"))
    start = table["first_order"]
    if "signup_date" in table:
        start = table[["signup_date", "first_order"]].min(axis=1)
    tenure = (pd.Timestamp(observation_date) - start).dt.days
    table = table.assign(tenure_days=tenure.astype("Int64"))
    table.index.name = "customer_id"
    return table.sort_index().reset_index()
