"""The sample company as a marketplace exports it: normalised tables that only a query joins.

Real shop and marketplace exports rarely hold custseg's canonical columns (the Olist data set is
the classic case): orders carry no amount, order items carry prices and freight, payments are a
table of their own, the customers table has one id per order and a separate id per person,
reviews are keyed by order, and states are written as codes. :func:`marketplace_tables` derives
exactly that shape from a generated sample, so that ``config/sample_tables.yaml`` can rebuild the
plain sample's study from SQL over these files (:mod:`custseg.intake.query`).

What is the same as the plain sample: every person, order, date, status, currency and amount
(an order's items plus freight, and its payments, add up to its amount to the cent), every
interaction and every review. What differs, by design:

* exact duplicate order rows are written once, and orders whose id the plain export repeats with
  different values are left out (intake removes the first and quarantines the second anyway);
* a person's place is written as codes (``CN`` and ``SN`` for Shaanxi, ``US`` and ``CA``) from
  the sample's ground truth, where the plain export spells it in many ways, a few unplaceably;
* a review is keyed by the person's latest order on or before its day (else their first
  order); a review whose person has no order in the tables cannot be keyed and is counted in
  ``meta["reviews_without_order"]``.
"""

from __future__ import annotations

import pathlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from custseg import files
from custseg.sample import _tables

#: File stems of the normalised tables, in the order they are written.
MARKETPLACE_TABLES = ("orders", "order_items", "payments", "customers", "people", "reviews", "interactions")

_PAYMENT_TYPES = np.array(["credit_card", "voucher", "debit_card", "bank_transfer"])


@dataclass(frozen=True)
class MarketplaceTables:
    """The normalised tables by file stem, and what could not be carried over (``meta``)."""

    tables: dict[str, pd.DataFrame]
    meta: dict[str, int] = field(default_factory=dict)


def marketplace_tables(orders: pd.DataFrame, customers: pd.DataFrame, feedback: pd.DataFrame,
                       interactions: pd.DataFrame, ground_truth: pd.DataFrame, seed: int) -> MarketplaceTables:
    """The sample's tables in a marketplace's normalised shape (see the module notes).

    Parameters
    ----------
    orders, customers, feedback, interactions, ground_truth
        The frames of :class:`custseg.sample.generator.SampleData`.
    seed
        Seed of the splits into items and payments and of the per-order customer ids.

    Returns
    -------
    MarketplaceTables
        ``orders`` (order_id, customer_id per order, status, purchased_at, currency),
        ``order_items`` (order_id, order_item_id, product_category, price, freight_value),
        ``payments`` (order_id, payment_sequential, payment_type, payment_value),
        ``customers`` (customer_id per order, person_id), ``people`` (person_id and the
        person's attributes, country and state as codes), ``reviews`` (review_id, order_id,
        review_date, review_score, nps) and ``interactions`` (as the plain sample's).
    """
    rng = np.random.default_rng(seed)
    kept = _kept_orders(orders)
    cents = np.round(kept["amount"].to_numpy(dtype="float64") * 100).astype(np.int64)
    # one random-looking id per order, as marketplaces give each order's buyer record its own
    # (an odd multiplier is a bijection modulo 2**48, so the ids are distinct)
    mixed = (rng.permutation(len(kept)).astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)) % np.uint64(1 << 48)
    order_keys = np.array([f"{int(value):012x}" for value in mixed])
    table = {
        "orders": pd.DataFrame({
            "order_id": kept["order_id"].to_numpy(), "customer_id": order_keys,
            "status": kept["status"].to_numpy(), "purchased_at": kept["order_date"].to_numpy(),
            "currency": kept["currency"].to_numpy(),
        }),
        "order_items": _items(kept, cents, rng),
        "payments": _payments(kept, cents, rng),
        "customers": pd.DataFrame({"customer_id": order_keys, "person_id": kept["customer_id"].to_numpy()}),
        "people": _people(customers, ground_truth),
    }
    reviews, unkeyed = _reviews(feedback, kept)
    table["reviews"] = reviews
    table["interactions"] = interactions
    return MarketplaceTables({name: table[name] for name in MARKETPLACE_TABLES}, {"reviews_without_order": unkeyed})


def write_marketplace(data: MarketplaceTables, folder: pathlib.Path) -> dict[str, pathlib.Path]:
    """Write the normalised tables as CSV files (UTF-8, dates ``YYYY-MM-DD``, money with two
    decimals), byte-identical for the same sample; returns file stem -> path."""
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return {
        name: files.write_csv(frame, folder / f"{name}.csv", formulas="keep", encoding="utf-8",
                              date_format="%Y-%m-%d", float_format="%.2f")
        for name, frame in data.tables.items()
    }


def _kept_orders(orders: pd.DataFrame) -> pd.DataFrame:
    """Orders once each: exact repeats written once, ids repeated with other values left out."""
    unique = orders.drop_duplicates(keep="first")
    clash = unique["order_id"].duplicated(keep=False)
    return unique.loc[~clash].reset_index(drop=True)


def _split(cents: np.ndarray, parts: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Each total (in cents) split into ``parts`` whole-cent pieces that add up to it exactly.

    Returns the owner (index into ``cents``) of every piece and the piece's cents.
    """
    owner = np.repeat(np.arange(cents.size), parts)
    weight = rng.uniform(0.2, 1.0, owner.size)
    share = weight / np.bincount(owner, weights=weight)[owner]
    piece = np.floor(cents[owner] * share).astype(np.int64)
    first = np.r_[0, np.cumsum(parts)[:-1]]
    piece[first] += cents - np.bincount(owner, weights=piece, minlength=cents.size).astype(np.int64)
    return owner, piece


def _items(kept: pd.DataFrame, cents: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    """Items with prices and freight that add up to each order's amount."""
    positive = cents > 0
    freight = np.where(positive, np.round(cents * rng.uniform(0.04, 0.12, cents.size)), 0).astype(np.int64)
    count = np.where(positive, rng.integers(1, 4, cents.size), 1)
    owner, goods = _split(cents - freight, count, rng)
    freight_piece = _split(freight, count, rng)[1]  # the same owners: the counts are the same
    position = np.arange(owner.size) - np.r_[0, np.cumsum(count)[:-1]][owner] + 1
    return pd.DataFrame({
        "order_id": kept["order_id"].to_numpy()[owner], "order_item_id": position,
        "product_category": kept["category"].to_numpy()[owner],
        "price": goods / 100, "freight_value": freight_piece / 100,
    })


def _payments(kept: pd.DataFrame, cents: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    """One payment per order, two for about one in six (a voucher and a card), adding up to its amount."""
    count = np.where((cents > 100) & (rng.random(cents.size) < 0.17), 2, 1)
    owner, piece = _split(cents, count, rng)
    sequence = np.arange(owner.size) - np.r_[0, np.cumsum(count)[:-1]][owner] + 1
    kind = np.where(count[owner] == 2, np.where(sequence == 1, 1, 0),
                    rng.choice([0, 2, 3], owner.size, p=[0.75, 0.15, 0.10]))
    return pd.DataFrame({
        "order_id": kept["order_id"].to_numpy()[owner], "payment_sequential": sequence,
        "payment_type": _PAYMENT_TYPES[kind], "payment_value": piece / 100,
    })


def _people(customers: pd.DataFrame, ground_truth: pd.DataFrame) -> pd.DataFrame:
    """One row per person (the plain export's exact repeats kept), places as codes."""
    iso2 = {iso3: iso2 for iso3, iso2, *_rest in _tables.country_names()}
    codes = {("CHN", name): code for name, _zh, _full, code, *_rest in _tables.provinces()}
    for country in ("USA", "CAN"):
        codes |= {(country, name): code for code, name, _weight, _cities in _tables.subdivisions(country)}
    truth = ground_truth.set_index("customer_id")
    country3 = customers["customer_id"].map(truth["country_iso3"])
    province = customers["customer_id"].map(truth["province"])
    state = [codes.get((c, p), pd.NA) if isinstance(c, str) and isinstance(p, str) else pd.NA
             for c, p in zip(country3, province)]
    return pd.DataFrame({
        "person_id": customers["customer_id"], "name": customers["customer_name"],
        **{col: customers[col] for col in ("email", "phone", "customer_type", "industry", "company_size",
                                            "age_band", "acquisition_channel", "signup_date")},
        "country": pd.array(country3.map(iso2), dtype="str"), "state": pd.array(state, dtype="str"),
        "city": customers["city"],
    })


def _reviews(feedback: pd.DataFrame, kept: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Reviews keyed by the person's latest order on or before the review's day (else their first)."""
    orders = kept[["order_id", "customer_id", "order_date"]].dropna(subset=["customer_id"])
    orders = orders.astype({"customer_id": object})
    feedback = feedback.astype({"customer_id": object})
    orders = orders.sort_values(["order_date", "order_id"], kind="stable")
    asof = pd.merge_asof(
        feedback.reset_index().sort_values("feedback_date", kind="stable"),
        orders.rename(columns={"order_date": "feedback_date"}), on="feedback_date", by="customer_id",
        direction="backward",
    ).set_index("index").sort_index()
    first = orders.drop_duplicates("customer_id").set_index("customer_id")["order_id"]
    order_id = asof["order_id"].fillna(feedback["customer_id"].map(first))
    keyed = order_id.notna().to_numpy()
    reviews = pd.DataFrame({
        "review_id": feedback["feedback_id"], "order_id": order_id.astype("str"),
        "review_date": feedback["feedback_date"], "review_score": feedback["satisfaction"], "nps": feedback["nps"],
    }).loc[keyed].reset_index(drop=True)
    return reviews, int((~keyed).sum())
