"""What each customer prefers: categories, contact channel, timing and price level, and the small,
explainable preference classes made from them.

Per customer, from the clean tables at the observation date:

* **category**: the leading category of their spend (from the category shares), its share, and its
  affinity index: the customer's share over the whole base's share of that category, x 100;
* **channel**: the contact channel of most of their interactions, and its share;
* **timing**: the share of their purchases placed on a Saturday or Sunday and, where orders carry
  a time (line-item exports do; the first line's timestamp of each invoice), the part of the day
  most of them were placed in, and its share;
* **price level**: the share of their purchases below their category's lower-quartile order value
  (and above its upper quartile), and, where line items give unit prices, the unit-price index:
  what they paid for their product lines against each product's median unit price over every
  buyer's lines, x 100 (80: they paid a fifth less than the usual price for the same products).

The classes (:func:`classify`, thresholds in the config's ``preferences`` section) are read off
those measures: ``preference_class`` (the leading category, or ``mixed``), ``price_class``
(``price-sensitive`` / ``standard`` / ``premium``: from the unit-price index where there is one,
else from the order values), ``channel_class`` (the leading channel, or ``mixed``) and
``timing_class`` (``weekend`` / ``weekday`` / ``mixed``). A measure the data cannot give (no
categories, no interactions, no times, too few purchases) is missing, never a guess. Pure
functions: frames in, new frames out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from typing import Protocol

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from custseg.config import Preferences
from custseg.segment.features import REFUNDED_ON, UNSPECIFIED_CATEGORY, purchases_at

#: Parts of the day by the hour they start at (local time of the export), in the day's order.
DAYPARTS: dict[str, tuple[int, int]] = {
    "night": (0, 6), "morning": (6, 12), "afternoon": (12, 18), "evening": (18, 24),
}

#: Price classes, cheapest first.
PRICE_CLASSES = ("price-sensitive", "standard", "premium")
#: Timing classes.
TIMING_CLASSES = ("weekday", "mixed", "weekend")
#: The class of a customer whose leading category or channel does not stand out.
MIXED = "mixed"

#: The measures, in the order they join the customer table.
MEASURES = (
    "preferred_category", "preferred_category_share", "preferred_category_affinity",
    "preferred_channel", "preferred_channel_share", "weekend_share", "daypart", "daypart_share",
    "low_value_share", "high_value_share", "unit_price_index", "priced_lines",
)
#: The classes, in the order they join the customer table.
CLASSES = ("preference_class", "price_class", "channel_class", "timing_class")


class LinePieces(Protocol):
    """Line items held a piece at a time, no order and no customer in two pieces
    (:class:`custseg.intake.spilled.PieceLines`: how ``engine: duckdb`` and ``spark`` keep them)."""

    def __len__(self) -> int: ...

    def pieces(self, columns: Sequence[str] | None = None) -> Iterator[pd.DataFrame]: ...


Lines = pd.DataFrame | LinePieces


def _parts(lines: Lines, columns: Sequence[str]) -> Iterator[pd.DataFrame]:
    """The lines' `columns` (those they have), a piece at a time: a table is one piece."""
    if isinstance(lines, pd.DataFrame):
        yield lines[[c for c in columns if c in lines]]
    else:
        yield from lines.pieces(columns)


def purchase_orders(orders: pd.DataFrame, observation_date: dt.date) -> pd.DataFrame:
    """The purchases a customer's habits are read from: orders before the observation date that
    were purchases then (:func:`custseg.segment.features.purchases_at`) with a positive value."""
    bought = purchases_at(orders, observation_date) & orders["amount_base"].gt(0).to_numpy()
    return orders.loc[bought]


def order_times(orders: pd.DataFrame, lines: Lines | None) -> pd.Series | None:
    """When each order was placed, to the minute, or None when the data gives no times.

    From line items, an order's time is the first timestamp of its invoice's purchase lines
    (the order date is that day); from an orders file, its ``order_date`` when the file wrote
    times. Dates alone (every order at midnight) say nothing about the time of day.
    """
    first = None
    if lines is not None and len(lines):
        # the three columns read, not every column of every line (a copy of the export's lines)
        first = pd.concat([_first_times(part) for part in _parts(lines, ["order_id", "invoice_date", "reversal"])])
    return _stamped(orders, first)


def _first_times(part: pd.DataFrame) -> pd.Series:
    """The first timestamp of each order's purchase lines in `part`, indexed by order_id: an
    order's lines are in one piece, so its first time there is its first. Grouped by the orders'
    codes, not their text (the text is hashed once, by factorize)."""
    codes, ids = pd.factorize(part["order_id"])
    # purchase lines of an order (an order_id missing is no order, as groupby leaves it out)
    kept = ~part["reversal"].to_numpy(dtype=bool) & (codes >= 0)
    first = pd.Series(part["invoice_date"].to_numpy()[kept]).groupby(codes[kept], sort=False).min()
    return pd.Series(first.to_numpy(), index=ids.take(first.index.to_numpy(dtype=np.intp)).rename("order_id"),
                     name="invoice_date")


def _stamped(orders: pd.DataFrame, first: pd.Series | None) -> pd.Series | None:
    """The orders' times, from each order's first line time (`first`, indexed by order_id; None
    without lines) or else its order date; None when none has a time of day."""
    if first is not None:
        # each order's line time found by Arrow's hash lookup (Series.map hashed both sides
        # through pandas' object index: 0.4 s of 450,000 orders); -1, not found: NaT
        at = pc.index_in(pa.array(orders["order_id"], type=pa.large_string()),
                         value_set=pa.array(first.index, type=pa.large_string())).fill_null(-1).to_numpy()
        times = np.append(first.to_numpy(), np.array(["NaT"], dtype=first.dtype))[at]
        stamp = pd.Series(times, index=orders.index, name=orders["order_id"].name)
        stamp = stamp.where(stamp.notna(), orders["order_date"])
    else:
        stamp = orders["order_date"]
    stamp = pd.to_datetime(stamp)
    if not (stamp != stamp.dt.floor("D")).any():
        return None
    return stamp


def _leading(counts: pd.DataFrame, key: str, weight: str) -> pd.DataFrame:
    """Per customer, the `key` with the largest `weight` (ties: the first by name) and its share."""
    total = counts.groupby("customer_id", sort=False)[weight].transform("sum")
    ranked = counts.assign(_share=counts[weight] / total).sort_values(
        ["customer_id", weight, key], ascending=[True, False, True], kind="stable")
    top = ranked.drop_duplicates("customer_id").set_index("customer_id")
    return pd.DataFrame({key: top[key].astype("str"), "share": top["_share"].astype("float64")})


def category_preference(shares: pd.DataFrame) -> pd.DataFrame:
    """Each customer's leading category, its share of their spend and its affinity index.

    Parameters
    ----------
    shares
        The category shares (:func:`custseg.segment.features.category_shares`): customer_id,
        category, revenue (net), share (of the customer's positive revenue).

    Returns
    -------
    pd.DataFrame
        Indexed by customer_id: preferred_category, preferred_category_share and
        preferred_category_affinity (the customer's share / the base's share of that category's
        positive revenue, x 100). Empty when the data has no categories (every order
        ``Unspecified``).
    """
    columns = ["preferred_category", "preferred_category_share", "preferred_category_affinity"]
    spent = shares.loc[shares["share"].gt(0)]
    if spent.empty or spent["category"].astype("str").eq(UNSPECIFIED_CATEGORY).all():
        return pd.DataFrame(columns=columns, index=pd.Index([], name="customer_id", dtype="str"))
    positive = spent["revenue"].clip(lower=0)
    base = positive.groupby(spent["category"].astype("str")).sum() / positive.sum()
    top = _leading(spent.assign(category=spent["category"].astype("str")), "category", "share")
    share = top["share"]
    affinity = 100.0 * share / top["category"].map(base).astype("float64")
    frame = pd.DataFrame({columns[0]: top["category"], columns[1]: share, columns[2]: affinity})
    # a leading "Unspecified" (orders without a category) is no preference
    return frame.loc[frame[columns[0]].ne(UNSPECIFIED_CATEGORY)].rename_axis("customer_id")


def channel_preference(interactions: pd.DataFrame | None, observation_date: dt.date) -> pd.DataFrame:
    """Each customer's most used contact channel before the observation date, and its share of
    their interactions (ties: the first channel by name). Empty without interactions or channels."""
    columns = ["preferred_channel", "preferred_channel_share"]
    if interactions is None or "channel" not in interactions or interactions.empty:
        return pd.DataFrame(columns=columns, index=pd.Index([], name="customer_id", dtype="str"))
    before = interactions["interaction_date"] < pd.Timestamp(observation_date)
    named = interactions.loc[before & interactions["channel"].notna(), ["customer_id", "channel"]]
    named = named.assign(channel=named["channel"].astype("str").str.strip().str.lower())
    named = named.loc[named["channel"].ne("")]
    if named.empty:
        return pd.DataFrame(columns=columns, index=pd.Index([], name="customer_id", dtype="str"))
    counts = named.groupby(["customer_id", "channel"], sort=False).size().rename("n").reset_index()
    top = _leading(counts, "channel", "n")
    return pd.DataFrame({columns[0]: top["channel"], columns[1]: top["share"]}).rename_axis("customer_id")


def timing(purchases: pd.DataFrame, times: pd.Series | None) -> pd.DataFrame:
    """Each customer's share of purchases on a weekend and, with times, their leading part of the
    day (ties: the earlier part) and its share."""
    by = purchases["customer_id"]
    weekend = pd.to_datetime(purchases["order_date"]).dt.day_of_week.ge(5).astype("float64")
    frame = pd.DataFrame({"weekend_share": weekend.groupby(by, sort=False).mean()})
    if times is None:
        return frame.assign(daypart=pd.Series(dtype="str"), daypart_share=np.nan)
    hour = times.loc[purchases.index].dt.hour.to_numpy()
    names = list(DAYPARTS)
    part = np.searchsorted([start for start, _end in DAYPARTS.values()], hour, side="right") - 1
    # purchases per customer and part of the day, counted by code (pd.crosstab counted them in
    # Python: 4 s of 550,000 orders)
    who, customers = pd.factorize(by, sort=False)
    counted = who >= 0
    counts = np.bincount(who[counted] * len(names) + part[counted], minlength=len(customers) * len(names))
    counts = counts.reshape(len(customers), len(names))
    lead = counts.argmax(axis=1)  # the first of equal counts: the earlier part of the day
    share = counts.max(axis=1) / counts.sum(axis=1)
    parts = pd.DataFrame({"daypart": np.asarray(names, dtype=object)[lead], "daypart_share": share},
                         index=pd.Index(customers, name=by.name))
    return frame.join(parts).astype({"daypart": "str"})


def order_value_levels(purchases: pd.DataFrame) -> pd.DataFrame:
    """Each customer's share of purchases below their category's lower-quartile order value and
    above its upper quartile (quartiles over every purchase of the category, in the base currency;
    orders without a category form one category)."""
    category = purchases["category"].astype("str").fillna(UNSPECIFIED_CATEGORY) if "category" in purchases \
        else pd.Series(UNSPECIFIED_CATEGORY, index=purchases.index)
    value = purchases["amount_base"].astype("float64")
    low = value.groupby(category).transform(lambda v: v.quantile(0.25))
    high = value.groupby(category).transform(lambda v: v.quantile(0.75))
    by = purchases["customer_id"]
    return pd.DataFrame({
        "low_value_share": value.lt(low).astype("float64").groupby(by, sort=False).mean(),
        "high_value_share": value.gt(high).astype("float64").groupby(by, sort=False).mean(),
        "purchases": value.groupby(by, sort=False).size(),
    })


def priced_lines(lines: pd.DataFrame, rates: Mapping[str, float], observation_date: dt.date) -> pd.DataFrame:
    """The product lines unit prices are compared on: purchase lines (no reversal, no postage or
    fee) before the observation date with a customer, a positive quantity and a positive price:
    their customer_id, quantity, unit_price (item, description and currency when lines have them),
    ``product`` (the item code, else the description) and ``unit_base`` (the unit price in the
    base currency)."""
    keep = _priced(lines, observation_date)
    # only the columns read below are taken: the rest of the line table would be copied for nothing
    read = ["customer_id", "quantity", "unit_price", "item", "description", "currency"]
    kept = lines.loc[keep, [column for column in read if column in lines]]
    if "item" in kept:
        product = kept["item"].astype("str").str.upper()
    elif "description" in kept:
        product = kept["description"].astype("str").str.upper()
    else:
        return kept.iloc[:0].assign(product=pd.Series(dtype="str"), unit_base=pd.Series(dtype="float64"))
    rate = _looked_up(kept["currency"], dict(rates)) if "currency" in kept else 1.0
    return kept.assign(product=product, unit_base=kept["unit_price"].astype("float64") * rate)


def _priced(lines: pd.DataFrame, observation_date: dt.date) -> np.ndarray:
    """Which lines :func:`priced_lines` keeps."""
    return (~lines["reversal"].to_numpy(dtype=bool) & lines["is_product"].to_numpy(dtype=bool)
            & lines["customer_id"].notna().to_numpy() & lines["quantity"].gt(0).to_numpy()
            & lines["unit_price"].gt(0).to_numpy()
            & (lines["invoice_date"] < pd.Timestamp(observation_date)).to_numpy())


def _looked_up(keys: pd.Series, values: Mapping[str, float]) -> np.ndarray:
    """Each line's value of its key (a currency's rate, a product's median; NaN for a key without
    one): each distinct key looked up once and spread by code, not every line's text through the
    mapping (Series.map of a million lines: 0.5 s)."""
    codes, distinct = pd.factorize(keys)
    return np.append(pd.Series(distinct, dtype=object).map(values).to_numpy(dtype="float64"), np.nan)[codes]


def unit_price_index(lines: Lines, rates: Mapping[str, float], observation_date: dt.date) -> pd.DataFrame:
    """What each customer paid for their product lines against each product's median unit price.

    The median of a product is taken over every priced line of it (:func:`priced_lines`), in the
    base currency; the index is ``100 * sum(quantity * price paid) / sum(quantity * median price)``
    over the customer's lines: what they spent against what the same baskets cost at the usual
    price. 100 is the usual price, 80 a fifth below it.

    Lines held in pieces are read twice: once for the medians (from how often each product was
    sold at each price, added over the pieces), once, five columns of them, for each piece's
    customers (a customer's lines are in one piece, in the file's order: their sums are the whole
    table's, to the last bit).

    Returns
    -------
    pd.DataFrame
        Indexed by customer_id: unit_price_index and priced_lines (how many lines it rests on).
    """
    if isinstance(lines, pd.DataFrame):
        priced = priced_lines(lines, rates, observation_date)
        return _price_index(priced, priced.groupby("product")["unit_base"].transform("median"))
    return _from_pieces(lines, rates, observation_date, times=False)[1]


def _from_pieces(
    lines: LinePieces, rates: Mapping[str, float], observation_date: dt.date, *, times: bool,
) -> tuple[pd.Series | None, pd.DataFrame]:
    """The unit-price index (:func:`unit_price_index`) of lines held in pieces and, when `times`,
    the orders' first line times (:func:`_first_times`; else None).

    One reading of each piece gives both the times and the count of lines of each product at each
    price (and which lines are priced, a bit a line); after the medians, a second reading of the
    five columns the sums need gives each piece's customers. The lines are not kept between the
    two: memory holds a piece, not the export.
    """
    product = _product_column(lines)
    if product is None and not times:  # no item codes nor descriptions: no product to compare prices on
        return None, _price_index(pd.DataFrame(), None)
    read = (["order_id", "invoice_date", "reversal"] if times else []) + (
        ["customer_id", "quantity", "unit_price", "currency", "is_product", "invoice_date", "reversal", product]
        if product is not None else [])
    read = list(dict.fromkeys(read))
    firsts, counts, priced = [], [], []
    for part in lines.pieces(read):
        if times:
            firsts.append(_first_times(part))
        if product is not None:
            keep = _priced(part, observation_date)
            counts.append(_price_counts(part[product], _unit_base(part, rates), keep))
            priced.append(np.packbits(keep))
    first = pd.concat(firsts) if times else None
    if product is None:
        return first, _price_index(pd.DataFrame(), None)
    medians = _medians(pd.concat(counts).groupby(level=[0, 1]).sum())
    parts = [_piece_index(part, product, np.unpackbits(bits, count=len(part)).view(bool), medians, rates)
             for part, bits in zip(lines.pieces(["customer_id", "quantity", "unit_price", "currency", product]), priced,
                                   strict=True)]
    return first, pd.concat(parts)  # pieces() gives at least one, empty when there are no lines


def _product_column(lines: LinePieces) -> str | None:
    """What names a product: the item code, else the description (None: neither). Asked of the
    first piece's item column, so the descriptions (long text) are read only when they are used."""
    first = next(iter(lines.pieces(["item"])))
    if "item" in first:
        return "item"
    return "description" if "description" in next(iter(lines.pieces(["description"]))) else None


def _product_codes(names: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Each line's product as a code into the products (-1: none), products named as
    :func:`priced_lines` names them (upper case): each distinct name upper-cased once."""
    codes, distinct = pd.factorize(names)
    upper, products = pd.factorize(pd.Series(distinct).astype("str").str.upper())
    return np.append(upper, -1)[codes], products


def _unit_base(part: pd.DataFrame, rates: Mapping[str, float]) -> np.ndarray:
    """Each line's unit price in the base currency."""
    rate = _looked_up(part["currency"], dict(rates)) if "currency" in part else 1.0
    return part["unit_price"].to_numpy(dtype="float64") * rate


def _price_counts(names: pd.Series, unit_base: np.ndarray, keep: np.ndarray) -> pd.Series:
    """How many `keep` lines sold each product at each price (unit_base), indexed by (product,
    unit_base) as a groupby of the priced lines counts them: codes counted, not text hashed."""
    product, products = _product_codes(names)
    product, price = product[keep], unit_base[keep]
    counted = (product >= 0) & ~np.isnan(price)  # as groupby leaves missing keys out
    at, prices = pd.factorize(price[counted])
    key = product[counted].astype(np.int64) * max(len(prices), 1) + at
    distinct, n = np.unique(key, return_counts=True)
    index = pd.MultiIndex.from_arrays(
        [products.take(distinct // max(len(prices), 1)), pd.Index(prices).take(distinct % max(len(prices), 1))],
        names=["product", "unit_base"])
    return pd.Series(n.astype(np.int64), index=index)


def _piece_index(
    part: pd.DataFrame, product: str, keep: np.ndarray, medians: pd.Series, rates: Mapping[str, float]
) -> pd.DataFrame:
    """The unit-price index of the customers of a piece's `keep` lines, given the products' medians.

    Sums are pandas' (in line order) over the customers' codes, as :func:`_price_index` takes them
    over their ids: the same numbers to the last bit, without grouping the ids' text."""
    if not keep.any():
        return _price_index(pd.DataFrame(), None)
    codes, products = _product_codes(part[product])
    line_median = np.append(medians.reindex(products).to_numpy(dtype="float64"), np.nan)[codes[keep]]
    quantity = part["quantity"].to_numpy(dtype="float64")[keep]
    unit_base = _unit_base(part, rates)[keep]
    customer_codes, ids = pd.factorize(part["customer_id"])
    customer, first_seen = pd.factorize(customer_codes[keep])  # codes in the order groupby(sort=False) meets them
    paid = pd.Series(quantity * unit_base).groupby(customer, sort=False).sum().to_numpy()
    usual = pd.Series(quantity * line_median).groupby(customer, sort=False).sum().to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        index = 100.0 * paid / usual
    return pd.DataFrame({"unit_price_index": index, "priced_lines": np.bincount(customer, minlength=len(first_seen))},
                        index=ids.take(first_seen).rename("customer_id"))


def _price_index(priced: pd.DataFrame, median: pd.Series | None) -> pd.DataFrame:
    """The unit-price index of each customer of `priced` lines, given each line's product median."""
    if priced.empty:
        return pd.DataFrame({"unit_price_index": pd.Series(dtype="float64"), "priced_lines": pd.Series(dtype="int64")})
    quantity = priced["quantity"].astype("float64")
    by = priced["customer_id"]
    paid = (quantity * priced["unit_base"]).groupby(by, sort=False).sum()
    usual = (quantity * median).groupby(by, sort=False).sum()
    return pd.DataFrame({"unit_price_index": 100.0 * paid / usual, "priced_lines": by.groupby(by, sort=False).size()})


def _medians(counts: pd.Series) -> pd.Series:
    """Each product's median unit price from how many lines sold it at each price.

    `counts` is indexed by (product, unit_base), sorted; the median is the middle price of the
    product's lines, or the mean of the two middle ones (as pandas' median takes it).
    """
    if counts.empty:
        return pd.Series(dtype="float64")
    product = counts.index.get_level_values(0)
    price = counts.index.get_level_values(1).to_numpy(dtype="float64")
    n = counts.to_numpy()
    ends = np.cumsum(n)  # each (product, price): the lines up to and including it, over all products
    codes, names = pd.factorize(product, sort=False)  # products in sorted order: codes rise with position
    total = np.bincount(codes, weights=n).astype("int64")
    before = np.concatenate([[0], np.cumsum(total)[:-1]])  # lines of the products before each
    low = np.searchsorted(ends, before + (total - 1) // 2, side="right")
    high = np.searchsorted(ends, before + total // 2, side="right")
    return pd.Series((price[low] + price[high]) / 2.0, index=pd.Index(names, name="product"))


def measures(
    orders: pd.DataFrame, shares: pd.DataFrame, observation_date: dt.date, *,
    interactions: pd.DataFrame | None = None, lines: Lines | None = None,
    rates: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Every preference measure of every customer with one (see the module's docstring).

    Parameters
    ----------
    orders
        Clean orders (order_id, customer_id, order_date, status, amount_base, category optional).
    shares
        The category shares at the observation date.
    observation_date
        Only what happened before it counts.
    interactions
        Clean interactions (customer_id, interaction_date, channel), if the study has them.
    lines
        Clean line items (intake's ``line_items`` table, or its pieces on disk: :class:`LinePieces`),
        if the orders were derived from them: they give the orders' times and the unit prices.
    rates
        Currency -> value in the base currency, for the line items' unit prices.

    Returns
    -------
    pd.DataFrame
        customer_id and :data:`MEASURES`, plus ``purchases`` (how many purchases the order
        measures rest on), one row per customer with any measure, sorted by customer_id.
    """
    # the columns read here and by purchases_at: the orders' other text is not copied with them
    read = ["order_id", "customer_id", "order_date", "status", REFUNDED_ON, "amount_base", "category"]
    bought = purchase_orders(orders[[column for column in read if column in orders]], observation_date)
    index = None
    if isinstance(lines, pd.DataFrame) or lines is None or not len(lines):
        times = order_times(bought, lines)
        if lines is not None and len(lines):
            index = unit_price_index(lines, rates or {}, observation_date)
    else:  # the orders' times and the unit prices from one reading of the pieces
        first, index = _from_pieces(lines, rates or {}, observation_date, times=True)
        times = _stamped(bought, first)
    parts = [
        category_preference(shares),
        channel_preference(interactions, observation_date),
        timing(bought, times),
        order_value_levels(bought),
    ]
    if index is not None:
        parts.append(index)
    joined = pd.concat(parts, axis=1, join="outer", sort=False)
    joined.index = joined.index.astype("str").rename("customer_id")
    joined = joined.sort_index()
    for column in MEASURES:
        if column not in joined:
            joined[column] = pd.Series(dtype="str" if column in ("preferred_category", "preferred_channel", "daypart")
                                       else "float64")
    out = joined[[*MEASURES, "purchases"]].reset_index()
    text = ("preferred_category", "preferred_channel", "daypart")
    out = out.astype({c: "str" for c in text})
    floats = [c for c in MEASURES if c not in text and c != "priced_lines"]
    return out.astype({**{c: "float64" for c in floats}, "priced_lines": "Int64", "purchases": "Int64"})


def classify(table: pd.DataFrame, settings: Preferences) -> pd.DataFrame:
    """The preference classes of customers with :func:`measures`, by the ``preferences`` thresholds.

    Returns
    -------
    pd.DataFrame
        `table` with :data:`CLASSES` added (text; missing where the data says nothing):

        * ``preference_class``: the leading category when its share is at least
          ``category_min_share`` and its affinity at least ``category_min_affinity``, else ``mixed``;
        * ``price_class``: by the unit-price index where the customer has one (at most
          ``sensitive_price_index``: ``price-sensitive``; at least ``premium_price_index``:
          ``premium``; else ``standard``), else by order values (``low_value_share`` of purchases
          below their category's lower quartile: price-sensitive; ``high_value_share`` above the
          upper one: premium); only with at least ``min_orders`` purchases;
        * ``channel_class``: the leading channel when it holds ``channel_min_share``, else ``mixed``;
        * ``timing_class``: ``weekend`` (weekend share at least ``weekend_min_share``), ``weekday``
          (at most ``weekday_max_share``) or ``mixed``; only with at least ``min_orders`` purchases.
    """
    s = settings
    category = table["preferred_category"]
    standout = table["preferred_category_share"].ge(s.category_min_share) & table[
        "preferred_category_affinity"].ge(s.category_min_affinity)
    preference = category.where(standout | category.isna(), MIXED)

    enough = table["purchases"].fillna(0).ge(s.min_orders).to_numpy(dtype=bool)
    index = table["unit_price_index"].to_numpy(dtype="float64", na_value=np.nan)
    low = table["low_value_share"].to_numpy(dtype="float64", na_value=np.nan)
    high = table["high_value_share"].to_numpy(dtype="float64", na_value=np.nan)
    priced = ~np.isnan(index)
    by_index = np.select([index <= s.sensitive_price_index, index >= s.premium_price_index],
                         ["price-sensitive", "premium"], "standard")
    by_value = np.select([low >= s.low_value_share, high >= s.high_value_share],
                         ["price-sensitive", "premium"], "standard")
    price = np.where(priced, by_index, by_value).astype(object)
    price[~enough | (~priced & np.isnan(low))] = None

    channel = table["preferred_channel"]
    channel_class = channel.where(table["preferred_channel_share"].ge(s.channel_min_share) | channel.isna(), MIXED)

    weekend = table["weekend_share"].to_numpy(dtype="float64", na_value=np.nan)
    timing_class = np.select([weekend >= s.weekend_min_share, weekend <= s.weekday_max_share],
                             ["weekend", "weekday"], MIXED).astype(object)
    timing_class[~enough | np.isnan(weekend)] = None
    return table.assign(
        preference_class=preference.astype("str"),
        price_class=pd.array(price, dtype="str"),
        channel_class=channel_class.astype("str"),
        timing_class=pd.array(timing_class, dtype="str"),
    )


def customer_preferences(
    customer_ids: pd.Series, orders: pd.DataFrame, shares: pd.DataFrame, observation_date: dt.date,
    settings: Preferences, *, interactions: pd.DataFrame | None = None, lines: Lines | None = None,
    rates: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """:func:`measures` and :func:`classify` for the customers `customer_ids`, in their order: the
    columns the segmentation step adds to the customer table (missing for a customer with none)."""
    table = classify(measures(orders, shares, observation_date, interactions=interactions, lines=lines,
                              rates=rates), settings)
    table = table.drop(columns="purchases").set_index("customer_id")
    return table.reindex(pd.Index(customer_ids.astype("str").to_numpy(), name="customer_id")).reset_index(drop=True)
