"""Orders and customers from one line-item table, as online shops export it.

An export such as Shopify's or the UCI "Online Retail" file has one row per invoice line:
invoice, item, quantity, unit price, date, customer id, country. This module turns clean lines
into the orders and customers every later step reads, by documented rules:

* Lines whose item code is listed in ``cleaning.non_product_items`` (postage, fees, manual
  adjustments) stay in the clean line table, flagged ``is_product = False``, and add nothing to
  order values unless ``cleaning.non_product_lines`` is ``include``.
* An invoice is one order: its value is the sum of ``quantity * unit_price`` over counted lines,
  its date the first line's date (floored to the day), its category that of its largest line.
* An invoice whose number starts with ``cleaning.cancel_prefix`` ("C536379"), or whose value is
  negative, is a cancellation or return. When the rest of its number is an invoice of the same
  customer that it reverses in full, that invoice becomes ``refunded`` (nets to zero, not a
  purchase) and the reversal folds into it; otherwise the reversal is a ``returned`` order whose
  negative value is netted against the customer's spend.
* A line whose customer or currency differs from its invoice's first line is quarantined as
  ``conflicting_invoice``: one invoice belongs to one customer in one currency.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from custseg.config import Config
from custseg.validation import REASONS


@dataclass(frozen=True)
class Derived:
    """Clean lines with their order, the derived orders and customers, and rejected lines."""

    lines: pd.DataFrame
    orders: pd.DataFrame
    customers: pd.DataFrame
    quarantine: pd.DataFrame


def _conflicts(lines: pd.DataFrame, file: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split off lines whose customer or currency differs from their invoice's first line."""
    first = lines.groupby("invoice", sort=False)[["customer_id", "currency"]].transform("first")
    bad_customer = lines["customer_id"].ne(first["customer_id"])
    bad_currency = lines["currency"].ne(first["currency"]) & ~bad_customer
    bad = bad_customer | bad_currency
    column = np.where(bad_customer[bad], "customer_id", "currency")
    rejected = lines.loc[bad]
    quarantine = pd.DataFrame({
        "table": "line_items",
        "file": file,
        "row": rejected["source_row"].to_numpy(dtype="int64"),
        "reason": "conflicting_invoice",
        "column": column,
        "value": pd.array([rejected.at[i, c] for i, c in zip(rejected.index, column)], dtype="str"),
        "detail": [f"{c}: {REASONS['conflicting_invoice']}" for c in column],
    })
    return lines.loc[~bad], quarantine


def derive(lines: pd.DataFrame, config: Config) -> Derived:
    """Derive orders and customers from clean, typed invoice lines.

    Parameters
    ----------
    lines
        Clean line items: invoice, customer_id, invoice_date (datetime), quantity and
        unit_price (float), currency, category, source_row, and optionally item, description
        and country. Not modified.
    config
        The study config: ``cleaning`` rules and ``currency`` rates.

    Returns
    -------
    Derived
        ``lines`` gains ``order_id``, ``is_product``, ``line_amount`` and ``line_amount_base``;
        ``orders`` has the columns of clean orders (order_id, customer_id, order_date, amount,
        currency, status, category, source_row, amount_base, revenue); ``customers`` has
        customer_id and, when lines carry it, the customer's most frequent country.
    """
    cleaning = config.cleaning
    file = str(config.inputs.line_items.path) if config.inputs.line_items else ""
    lines, quarantine = _conflicts(lines, file)

    rates = config.currency.rate_table()
    item = lines["item"].str.upper() if "item" in lines else pd.Series("", index=lines.index, dtype="str")
    is_product = ~item.isin([code.upper() for code in cleaning.non_product_items])
    amount = (lines["quantity"] * lines["unit_price"]).round(2)
    lines = lines.assign(
        is_product=is_product,
        line_amount=amount,
        line_amount_base=(amount * lines["currency"].map(rates).astype("float64")).round(2),
    )
    counted = lines.loc[lines["is_product"] | (cleaning.non_product_lines == "include")]

    by_invoice = counted.sort_values("line_amount", ascending=False, kind="stable").groupby("invoice", sort=False)
    orders = by_invoice.agg(
        customer_id=("customer_id", "first"),
        order_date=("invoice_date", "min"),
        amount=("line_amount", "sum"),
        currency=("currency", "first"),
        category=("category", "first"),  # the largest line's category, lines being sorted by value
        source_row=("source_row", "min"),
        amount_base=("line_amount_base", "sum"),
    ).rename_axis("order_id").reset_index()
    orders = orders.assign(
        order_date=orders["order_date"].dt.floor("D"),
        amount=orders["amount"].round(2),
        amount_base=orders["amount_base"].round(2),
    )

    prefix = cleaning.cancel_prefix
    reversal = orders["amount"].lt(0)
    if prefix:
        reversal |= orders["order_id"].str.startswith(prefix)
    # A reversal named after the invoice it cancels in full folds into that invoice.
    original = orders["order_id"].str.slice(len(prefix)) if prefix else orders["order_id"]
    by_id = orders.set_index("order_id")
    target = original.where(reversal & original.isin(by_id.index))
    full = target.notna()
    full &= target.map(by_id["customer_id"]).eq(orders["customer_id"]).fillna(False)
    full &= (target.map(by_id["amount"]) + orders["amount"]).abs().lt(0.005).fillna(False)
    refunded_ids = set(target[full])
    folded = dict(zip(orders.loc[full, "order_id"], target[full]))

    status = np.select(
        [orders["order_id"].isin(refunded_ids), reversal, orders["amount"].eq(0)],
        ["refunded", "returned", "cancelled"],
        default="completed",
    )
    # A reversal's value is negative whatever sign its lines were written with.
    amount_base = orders["amount_base"].where(~reversal, -orders["amount_base"].abs())
    orders = orders.assign(
        amount=orders["amount"].where(~reversal, -orders["amount"].abs()),
        status=pd.array(status, dtype="str"),
        amount_base=amount_base,
        revenue=amount_base.where(pd.Series(status, index=orders.index).isin(["completed", "returned"]), 0.0),
    )
    orders = orders.loc[~full].sort_values("source_row", kind="stable").reset_index(drop=True)
    columns = ["order_id", "customer_id", "order_date", "amount", "currency", "status", "category",
               "source_row", "amount_base", "revenue"]

    lines = lines.assign(order_id=lines["invoice"].map(folded).fillna(lines["invoice"]).astype("str"))
    return Derived(lines.reset_index(drop=True), orders[columns], _customers(lines), quarantine)


def _customers(lines: pd.DataFrame) -> pd.DataFrame:
    """One row per customer; the country is the one most of their lines give (ties: first seen)."""
    ids = pd.DataFrame({"customer_id": lines["customer_id"].drop_duplicates().to_numpy()})
    if "country" not in lines:
        return ids.assign(source_row=0)
    named = lines.loc[lines["country"].ne(""), ["customer_id", "country", "source_row"]]
    counts = named.groupby(["customer_id", "country"], sort=False).agg(n=("source_row", "size"), first=("source_row", "min"))
    best = counts.reset_index().sort_values(["customer_id", "n", "first"], ascending=[True, False, True], kind="stable")
    country = best.drop_duplicates("customer_id").set_index("customer_id")["country"]
    first_row = lines.groupby("customer_id")["source_row"].min()
    return ids.assign(
        country=ids["customer_id"].map(country).fillna("").astype("str"),
        source_row=ids["customer_id"].map(first_row).astype("int64"),
    )
