"""Orders and customers from one line-item table, as online shops export it.

An export such as Shopify's or the UCI "Online Retail" file has one row per invoice line:
invoice, item, quantity, unit price, date, customer id, country. This module turns clean lines
into the orders and customers every later step reads, by documented rules:

* Lines whose item code is listed in ``cleaning.non_product_items`` (postage, fees, manual
  adjustments) stay in the clean line table, flagged ``is_product = False``, and add nothing to
  order values unless ``cleaning.non_product_lines`` is ``include``.
* An invoice is one order: its value is the sum of ``quantity * unit_price`` over counted lines,
  its date the first line's date (floored to the day), its category that of its largest line.
* A line of an invoice whose number starts with ``cleaning.cancel_prefix`` ("C536379"), or with a
  negative quantity, is a reversal. Reversal lines are matched to the purchase lines they undo by
  customer, item and quantity (:mod:`custseg.intake.reversals` has the rule). A purchase whose every
  counted line is undone becomes ``refunded`` from the day of its last reversal (``refunded_on``);
  its reversal is a ``reversal`` order that nets it to zero from that day. The rest of a reversal
  invoice (what undoes orders only in part, and what matched nothing) is a ``returned`` order whose
  negative value is netted against the customer's spend; ``reverses`` names the order a reversal
  or return undid, when it undid one.
* One invoice belongs to one customer in one currency: when its lines name more than one
  customer or currency, every line of it is quarantined as ``conflicting_invoice`` (which of
  them is right cannot be told, and "the first line's" would depend on the order of the file).

Ties are broken by content, never by position in the file, so a shuffled export gives the same
orders and customers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from custseg import words
from custseg.config import Config
from custseg.intake import reversals
from custseg.intake.query import input_location
from custseg.intake.validation import ORDER_COLUMNS


@dataclass(frozen=True)
class Derived:
    """Clean lines with their order, the derived orders and customers, rejected lines, and how
    the reversals were matched."""

    lines: pd.DataFrame
    orders: pd.DataFrame
    customers: pd.DataFrame
    quarantine: pd.DataFrame
    reversals: pd.DataFrame  # reversal lines per outcome (custseg.intake.reversals.summary)
    matches: pd.DataFrame  # one row per (reversal line, purchase line) pair


def _conflicts(lines: pd.DataFrame, file: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split off every line of an invoice whose lines name more than one customer or currency."""
    spread = lines.groupby("invoice", sort=False)[["customer_id", "currency"]].transform("nunique")
    bad_customer = spread["customer_id"].gt(1)
    bad = bad_customer | spread["currency"].gt(1)
    column = np.where(bad_customer[bad], "customer_id", "currency")
    rejected = lines.loc[bad]
    quarantine = pd.DataFrame({
        "table": "line_items",
        "file": file,
        "row": rejected["source_row"].to_numpy(dtype="int64"),
        "reason": "conflicting_invoice",
        "column": column,
        "value": pd.array(np.where(column == "customer_id", rejected["customer_id"].to_numpy(dtype=object),
                                   rejected["currency"].to_numpy(dtype=object)), dtype="str"),
        "figures": words.quarantine_figures(),
    })
    # nearly always none: then the lines are kept as they are, not copied (0.1 s on 1M lines)
    return (lines.loc[~bad] if bad.any() else lines), quarantine


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
        ``lines`` gains ``order_id`` (its invoice), ``is_product``, ``reversal``,
        ``matched_quantity`` (of a purchase line: how much reversals undid; of a reversal line: how
        much of it matched purchases), ``line_amount`` and ``line_amount_base``; ``orders`` has the
        columns of clean orders (order_id, customer_id, order_date, amount, currency, status,
        category, source_row, amount_base, revenue, refunded_on, reverses); ``customers`` has
        customer_id and, when lines carry it, the customer's most frequent country;
        ``reversals`` counts the reversal lines matched in full, in part and not at all, and
        ``matches`` lists every (reversal line, purchase line) pair.
    """
    cleaning = config.cleaning
    file = input_location("line_items", config.inputs.line_items) if config.inputs.line_items else ""
    lines, quarantine = _conflicts(lines, file)

    rates = config.currency.rate_table()
    item = lines["item"].str.upper() if "item" in lines else pd.Series("", index=lines.index, dtype="str")
    is_product = ~item.isin([code.upper() for code in cleaning.non_product_items])
    amount = pd.Series(_line_values(lines["quantity"].to_numpy(), lines["unit_price"].to_numpy()), index=lines.index)
    prefix = cleaning.cancel_prefix
    reversal = lines["quantity"].lt(0) | amount.lt(0)
    if prefix:
        reversal |= lines["invoice"].str.startswith(prefix)
    lines = lines.assign(
        is_product=is_product,
        reversal=reversal.to_numpy(dtype=bool),
        line_amount=amount,
        line_amount_base=_base_values(amount.to_numpy(), lines["currency"], rates),
    ).reset_index(drop=True)
    is_counted = lines["is_product"].to_numpy() | (cleaning.non_product_lines == "include")
    counted = lines if is_counted.all() else lines.loc[is_counted]  # a copy of every line only when needed
    match = reversals.match_lines(
        counted["customer_id"], _product_key(counted), counted["invoice"],
        counted["quantity"].to_numpy(dtype="float64"), reversals.seconds(counted["invoice_date"]),
        counted["reversal"].to_numpy(), prefix=prefix, window=reversals.window_seconds(cleaning.reversal_window_days),
    )
    alloc = match.allocation
    matched = np.zeros(len(lines))
    positions = counted.index.to_numpy()
    np.add.at(matched, positions[alloc.reversal], alloc.units)
    np.add.at(matched, positions[alloc.purchase], alloc.units)
    lines = lines.assign(matched_quantity=matched, order_id=lines["invoice"].astype("str"))

    # only the columns an order is made of are taken (the lines' text is in Arrow arrays, taken a column at a time)
    purchases = counted.loc[~counted["reversal"], [*_ORDER_FROM, "quantity"]]
    orders = _purchase_orders(purchases, lines, alloc, positions)
    pieces = _reversal_orders(lines, alloc, positions, orders, rates)
    orders = pd.concat([orders, pieces], ignore_index=True)
    orders = orders.sort_values(["source_row", "order_id", "reverses"], kind="stable", na_position="first")
    summary, matches = _accounts(lines, positions, match, rates, file)
    return Derived(lines, orders[list(ORDER_COLUMNS)].reset_index(drop=True), _customers(lines), quarantine,
                   summary, matches)


def _product_key(lines: pd.DataFrame) -> pd.Series:
    """What identifies a line's product for matching: its code, else its description, else its price."""
    if "item" in lines:
        return lines["item"].str.upper()
    if "description" in lines:
        return lines["description"].str.upper()
    return lines["unit_price"].astype("str")


# the columns of the purchase lines an order is made of
_ORDER_FROM = ("invoice", "customer_id", "invoice_date", "line_amount", "currency", "category", "source_row",
               "line_amount_base")


def _purchase_orders(purchases: pd.DataFrame, lines: pd.DataFrame, alloc: reversals.Allocation,
                     positions: np.ndarray) -> pd.DataFrame:
    """One order per invoice of purchase lines; refunded (with the day) when reversals undid every line."""
    undone = lines["matched_quantity"].loc[purchases.index].to_numpy()
    whole = reversals.fully_undone(undone, purchases["quantity"].to_numpy(dtype="float64"))
    # the day the last reversal of each purchase line came: the line is undone from then on
    last = np.full(len(lines), np.iinfo(np.int64).min)
    np.maximum.at(last, positions[alloc.purchase], reversals.seconds(lines["invoice_date"])[positions[alloc.reversal]])
    # Text is sorted, grouped and picked as integer codes (categories coded in their sorted order), and
    # made text again once per order: sort_values, then grouping by text, on the purchase lines as they
    # are (text in Arrow arrays) took 0.5 s on 1M lines
    text = {column: pd.factorize(purchases[column], sort=column == "category", use_na_sentinel=False)
            for column in ("invoice", "customer_id", "currency", "category")}
    coded = pd.DataFrame({
        **{column: text[column][0] if column in text else purchases[column].to_numpy() for column in _ORDER_FROM},
        "_whole": whole,
        "_last": last[purchases.index.to_numpy()],
    })
    # the largest line first, equal ones by category: the order's category never depends on the file's order
    largest = np.lexsort((coded["category"].to_numpy(), -coded["line_amount"].to_numpy(dtype="float64")))
    by_invoice = coded.take(largest).groupby("invoice", sort=False)
    orders = by_invoice.agg(
        customer_id=("customer_id", "first"),
        order_date=("invoice_date", "min"),
        amount=("line_amount", "sum"),
        currency=("currency", "first"),
        category=("category", "first"),  # the largest line's category, lines being sorted by value
        source_row=("source_row", "min"),
        amount_base=("line_amount_base", "sum"),
        refunded=("_whole", "all"),
        last_reversal=("_last", "max"),
    ).rename_axis("order_id").reset_index()
    orders = orders.assign(**{
        name: text[column][1].array.take(orders[name].to_numpy())
        for name, column in (("order_id", "invoice"), ("customer_id", "customer_id"), ("currency", "currency"),
                             ("category", "category"))
    })
    refunded = orders["refunded"].to_numpy()
    refunded_on = pd.Series(orders["last_reversal"].to_numpy().astype("datetime64[s]")).dt.floor("D")
    status = np.select([refunded, orders["amount"].eq(0)], ["refunded", "cancelled"], default="completed")
    amount_base = orders["amount_base"].round(2)
    return orders.assign(
        order_date=orders["order_date"].dt.floor("D"),
        amount=orders["amount"].round(2),
        amount_base=amount_base,
        status=pd.array(status, dtype="str"),
        # a refunded order was revenue until its reversal, which nets it to zero from its own date
        revenue=amount_base.where(status != "cancelled", 0.0),
        refunded_on=refunded_on.where(refunded).astype("datetime64[s]").to_numpy(),
        reverses=pd.array([pd.NA] * len(orders), dtype="str"),
    ).drop(columns=["refunded", "last_reversal"])


def _reversal_orders(lines: pd.DataFrame, alloc: reversals.Allocation, positions: np.ndarray,
                     orders: pd.DataFrame, rates: dict[str, float]) -> pd.DataFrame:
    """Reversal invoices as negative orders: one per invoice and order it undid, one for the rest.

    A part that undoes a refunded order is a ``reversal`` (the refund is that order's); a part
    that undoes an order only in part, or matched nothing, is ``returned``: a return netted
    against the customer's spend.
    """
    rev_lines = lines.loc[lines["reversal"] & lines.index.isin(positions)]
    quantity = rev_lines["quantity"].abs().to_numpy(dtype="float64")
    unmatched = quantity - lines["matched_quantity"].loc[rev_lines.index].to_numpy()
    rev_pos, pur_pos = positions[alloc.reversal], positions[alloc.purchase]
    parts = pd.concat([
        # only the matched purchases' invoices become Python strings (all the lines' took 80 ms on 1M lines)
        pd.DataFrame({"line": rev_pos, "reverses": lines["invoice"].array.take(pur_pos).to_numpy(dtype=object),
                      "units": alloc.units}),
        pd.DataFrame({"line": rev_lines.index.to_numpy(), "reverses": None, "units": unmatched})
        .loc[lambda f: f["units"] > 1e-9],
    ], ignore_index=True)
    source = lines.loc[parts["line"]]
    # rounded per line as the purchase lines are: a whole line undone nets to exactly zero
    value = _line_values(parts["units"].to_numpy(), source["unit_price"].to_numpy(dtype="float64"))
    parts = parts.assign(
        order_id=source["invoice"].to_numpy(),
        customer_id=source["customer_id"].to_numpy(),
        order_date=source["invoice_date"].to_numpy(),
        value=value,
        value_base=_base_values(value, source["currency"], rates),
        currency=source["currency"].to_numpy(),
        category=source["category"].to_numpy(),
        source_row=source["source_row"].to_numpy(),
    )
    by_part = parts.sort_values(["value", "category"], ascending=[False, True], kind="stable").groupby(
        ["order_id", "reverses"], sort=False, dropna=False)
    pieces = by_part.agg(
        customer_id=("customer_id", "first"),
        order_date=("order_date", "min"),
        amount=("value", "sum"),
        currency=("currency", "first"),
        category=("category", "first"),
        source_row=("source_row", "min"),
        amount_base=("value_base", "sum"),
    ).reset_index()
    refunded = set(orders.loc[orders["status"].eq("refunded"), "order_id"])
    status = np.where(pieces["reverses"].isin(refunded), "reversal", "returned")
    amount_base = -pieces["amount_base"].round(2)
    return pieces.assign(
        order_date=pieces["order_date"].dt.floor("D"),
        amount=-pieces["amount"].round(2),
        amount_base=amount_base,
        status=pd.array(status, dtype="str"),
        revenue=amount_base,
        refunded_on=np.full(len(pieces), np.datetime64("NaT"), dtype="datetime64[s]"),
        reverses=pd.array(pieces["reverses"].to_numpy(dtype=object), dtype="str"),
    )


def _accounts(lines: pd.DataFrame, positions: np.ndarray, match: reversals.LineMatch,
              rates: dict[str, float], file: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """How the reversal lines ended (the data-quality page's counts) and every matched pair."""
    alloc = match.allocation
    rev = lines.loc[positions[match.reversals]]
    price = rev["unit_price"].to_numpy(dtype="float64")
    quantity = rev["quantity"].abs().to_numpy(dtype="float64")
    done = rev["matched_quantity"].to_numpy()
    summary = reversals.summary(
        reversals.outcomes(done, quantity),
        _base_values(_line_values(quantity, price), rev["currency"], rates),
        _base_values(_line_values(done, price), rev["currency"], rates),
        "line_items",
    )
    reversal, purchase = lines.loc[positions[alloc.reversal]], lines.loc[positions[alloc.purchase]]
    units = _line_values(alloc.units, reversal["unit_price"].to_numpy(dtype="float64"))
    value = _base_values(units, reversal["currency"], rates)
    matches = reversals.match_table("line_items", file, reversal, purchase, number="invoice", date="invoice_date",
                                    quantity=alloc.units, value_base=value)
    return summary, matches


def _line_values(quantity: np.ndarray, price: np.ndarray) -> np.ndarray:
    """``quantity * unit_price`` rounded to cents, as a line's amount is."""
    return np.round(quantity * price, 2)


def _base_values(value: np.ndarray, currency: pd.Series, rates: dict[str, float]) -> np.ndarray:
    """Amounts in their currency converted to the base currency and rounded to cents, as a line's are."""
    # each distinct currency looked up once (a handful), then spread by code: mapping every line's
    # text through the dict costs a Python string per line
    codes, distinct = pd.factorize(currency)
    rate = np.append(pd.Series(distinct, dtype=object).map(rates).to_numpy(dtype="float64"), np.nan)
    return np.round(value * rate[codes], 2)


def _customers(lines: pd.DataFrame) -> pd.DataFrame:
    """One row per customer; the country is the one most of their lines give (ties: the one of
    their latest line, then the first in alphabetical order)."""
    ids = pd.DataFrame({"customer_id": lines["customer_id"].drop_duplicates().to_numpy()})
    if "country" not in lines:
        return ids.assign(source_row=0)
    named = lines.loc[lines["country"].ne(""), ["customer_id", "country", "invoice_date"]]
    counts = named.groupby(["customer_id", "country"], sort=False).agg(
        n=("invoice_date", "size"), last=("invoice_date", "max"))
    best = counts.reset_index().sort_values(["customer_id", "n", "last", "country"],
                                            ascending=[True, False, False, True], kind="stable")
    country = best.drop_duplicates("customer_id").set_index("customer_id")["country"]
    first_row = lines.groupby("customer_id")["source_row"].min()
    return ids.assign(
        country=ids["customer_id"].map(country).fillna("").astype("str"),
        source_row=ids["customer_id"].map(first_row).astype("int64"),
    )
