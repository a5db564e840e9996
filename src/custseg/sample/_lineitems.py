"""The sample's orders as a line-item export: invoice lines, reversal invoices, postage, guests.

Private to :mod:`custseg.sample`: :mod:`custseg.sample.generator` re-exports its public functions.
"""

from __future__ import annotations

import dataclasses
import pathlib
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from custseg import files
from custseg.sample import _tables
from custseg.sample._behaviour import EXCHANGE_RATES, PRICE_SENSITIVE_PAYS, STATUSES
from custseg.sample._columns import labels, str_series

if TYPE_CHECKING:
    from custseg.sample.generator import SampleData

CATEGORIES = _tables.categories()
_WHOLE_UNIT_CURRENCIES = _tables.whole_unit_currencies()
# The shop's catalogue (:func:`custseg.sample._tables.products`), per category of CATEGORIES.
_PRODUCTS = _tables.products()
_POSTAGE_ITEM = ("POST", "POSTAGE")  # StockCode and Description of a postage line, as in UCI
_LINES_PER_INVOICE_WEIGHT = (0.45, 0.28, 0.17, 0.10)  # 1, 2, 3 or 4 product lines
_MAX_QUANTITY = 10_000
_POSTAGE_SHARE = 0.03  # of invoices
_POSTAGE_CNY = (8.0, 40.0)
_ANONYMOUS_SHARE = 0.01  # of invoices: guest checkouts with no customer id
_CANCEL_DELAY_DAYS = (1, 6)  # a cancellation invoice follows the order within days
_REFUND_DELAY_DAYS = (5, 41)  # a refund once the goods are back
# Share of web orders by hour of day (local time): quiet at night, busiest in the evening.
_HOUR_WEIGHT = np.array([
    0.6, 0.35, 0.2, 0.15, 0.15, 0.2, 0.4, 0.8, 1.3, 1.7, 2.0, 2.1,
    2.0, 1.9, 1.9, 1.9, 1.8, 1.7, 1.8, 2.1, 2.4, 2.4, 1.9, 1.2,
])
# The line-item draws come from their own stream of the sample's seed, so that adding them never
# changes the other files.
_LINE_ITEM_STREAM = 7
#: Columns of `line_items_frame`, named as in the UCI "Online Retail" export.
LINE_ITEM_COLUMNS: tuple[str, ...] = (
    "InvoiceNo", "StockCode", "Description", "Quantity", "UnitPrice", "InvoiceDate",
    "CustomerID", "Country", "Currency", "Category",
)


def invoiced_orders(orders: pd.DataFrame) -> pd.DataFrame:
    """The orders a shop system would really have invoiced: no row with an export mistake."""
    reused = orders["order_id"].duplicated(keep="first") & ~orders.duplicated(keep="first")
    ok = orders["customer_id"].notna() & orders["amount"].gt(0) & orders["status"].isin(STATUSES) & ~reused
    return orders.loc[ok]


def line_items_frame(data: SampleData, seed: int | None = None) -> pd.DataFrame:
    """The sample's orders as a line-item export: one row per invoice line, UCI-style headers.

    Online shops (Shopify, the UCI "Online Retail" file) export invoice lines rather than orders.
    Each order becomes an invoice of the same number with 1-4 product lines whose
    ``Quantity * UnitPrice`` add up exactly to the order amount, in the order currency (the last
    line's quantity and price absorb the remainder). On top of that:

    * a cancelled or refunded order also gets a reversal invoice ``"C" + order id`` repeating its
      lines with negative quantities, dated days (cancelled) or weeks (refunded) later but before
      the observation date when there is room;
    * about 3% of invoices carry a postage line (``StockCode`` ``POST``, quantity 1, a small
      price) that is not part of the order amount;
    * about 1% of invoices are guest checkouts with an empty ``CustomerID``;
    * an order row duplicated in ``data.orders`` gives its lines twice.

    ``Country`` is the customer's country exactly as ``customers.csv`` spells it. Rows are in
    ``InvoiceDate`` order. Every draw depends on the order, not on its row, so duplicates match.

    Parameters
    ----------
    data : SampleData
        Output of `generate_sample`.
    seed : int, optional
        Seed of the line-item draws (products, quantities, times); None uses the sample's own
        seed (``data.meta["seed"]``). The same data and seed always give the same frame.

    Returns
    -------
    pandas.DataFrame
        Columns `LINE_ITEM_COLUMNS`: ``InvoiceNo``, ``StockCode``, ``Description`` (str),
        ``Quantity`` (int64, negative on reversal invoices), ``UnitPrice`` (float, 2 decimals),
        ``InvoiceDate`` (datetime64, to the minute), ``CustomerID`` (str, ``<NA>`` for guests),
        ``Country``, ``Currency``, ``Category`` (str).

    Raises
    ------
    ValueError
        If an order's category, currency or status is not one the generator makes.
    """
    orders = invoiced_orders(data.orders)
    rng = np.random.default_rng([_LINE_ITEM_STREAM, int(data.meta["seed"] if seed is None else seed)])

    # Everything is drawn once per distinct order id; exact duplicate rows then repeat its lines.
    row_order, order_ids = pd.factorize(orders["order_id"])
    distinct = orders.take(np.unique(row_order, return_index=True)[1])
    category = _codes_of(distinct["category"], CATEGORIES, "category")
    status = _codes_of(distinct["status"], STATUSES, "status")
    currencies = tuple(EXCHANGE_RATES)
    currency = _codes_of(distinct["currency"], currencies, "currency")
    # Prices are counted in whole minor units so that the lines add up exactly.
    scale = np.where(np.isin(np.array(currencies), list(_WHOLE_UNIT_CURRENCIES)), 1, 100)[currency]
    rate = np.array([EXCHANGE_RATES[c] for c in currencies])[currency]
    units = np.rint(distinct["amount"].to_numpy(dtype=float) * scale).astype(np.int64)

    # The planted price-sensitive customers pay less for the same products: their amounts are lower
    # already, and their lines' quantities are drawn at the discounted price, not the list price.
    truth = data.ground_truth
    picked = (truth.set_index("customer_id")["price_sensitive"] if "price_sensitive" in truth
              else pd.Series(dtype=bool))
    pays = np.where(distinct["customer_id"].map(picked).fillna(False).to_numpy(dtype=bool), PRICE_SENSITIVE_PAYS, 1.0)
    blocks = _invoice_blocks(rng, category, status, units, scale, rate, pays)
    placed, reversed_at = _invoice_times(
        rng, distinct["order_date"].to_numpy(), status, np.datetime64(data.meta["observation_date"], "m")
    )
    anonymous = rng.random(len(distinct)) < _ANONYMOUS_SHARE

    # Each row of the orders frame (duplicates included) takes its order's block; then time order.
    size = np.bincount(blocks.owner, minlength=len(distinct))
    start = np.cumsum(size) - size
    lines = blocks.take(_ragged(start[row_order], size[row_order]))
    stamp = np.where(lines.reversal, reversed_at[lines.owner], placed[lines.owner])
    chronological = np.argsort(stamp, kind="stable")
    lines, stamp = lines.take(chronological), stamp[chronological]
    owner = lines.owner

    invoice = pa.array(np.asarray(order_ids, dtype=object), type=pa.string()).take(pa.array(owner))
    invoice = pc.if_else(pa.array(lines.reversal), pc.binary_join_element_wise("C", invoice, ""), invoice)
    stock_codes, descriptions = _catalogue()
    customers = data.customers.drop_duplicates("customer_id")
    country = customers["country"].reset_index(drop=True).reindex(
        _positions(distinct["customer_id"], customers["customer_id"])
    )
    return pd.DataFrame({
        "InvoiceNo": str_series(invoice),
        "StockCode": labels(stock_codes, lines.item),
        "Description": labels(descriptions, lines.item),
        "Quantity": lines.quantity,
        "UnitPrice": np.round(lines.price / scale[owner], 2),
        "InvoiceDate": pd.Series(stamp.astype("datetime64[s]")),
        "CustomerID": distinct["customer_id"].mask(anonymous).take(owner).reset_index(drop=True),
        "Country": country.take(owner).reset_index(drop=True),
        "Currency": labels(currencies, currency[owner]),
        "Category": labels(CATEGORIES, category[owner]),
    })


def write_line_items(data: SampleData, folder: pathlib.Path) -> pathlib.Path:
    """Write `line_items_frame` of a sample as ``line_items.csv``.

    Same conventions as `write_sample` (UTF-8, no index, ``\\n`` line ends, prices with two
    decimals), with dates as ``YYYY-MM-DD HH:MM``; the line-item draws use the sample's seed.

    Parameters
    ----------
    data : SampleData
        Output of `generate_sample`.
    folder : pathlib.Path
        Destination; created if missing. An existing ``line_items.csv`` is replaced.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    return files.write_csv(
        line_items_frame(data), pathlib.Path(folder) / "line_items.csv", formulas="keep",
        encoding="utf-8", date_format="%Y-%m-%d %H:%M", float_format="%.2f",
    )


@dataclasses.dataclass(frozen=True)
class _Lines:
    """Invoice lines as parallel arrays; prices in minor units of the order currency."""

    owner: np.ndarray  # distinct order the line belongs to
    item: np.ndarray  # index into `_catalogue`
    quantity: np.ndarray  # negative on a reversal invoice
    price: np.ndarray
    reversal: np.ndarray  # bool: on the "C" invoice

    def take(self, index: np.ndarray) -> _Lines:
        return _Lines(*(getattr(self, f.name)[index] for f in dataclasses.fields(self)))

    @staticmethod
    def concat(*parts: _Lines) -> _Lines:
        return _Lines(*(np.concatenate([getattr(p, f.name) for p in parts]) for f in dataclasses.fields(_Lines)))


def _catalogue() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Stock codes and descriptions: the products category by category, then postage."""
    codes = tuple(f"P{10000 + 1000 * c + (137 * p + 23) % 1000}"  # scattered, like real codes
                  for c, items in enumerate(_PRODUCTS) for p in range(len(items)))
    names = tuple(name for items in _PRODUCTS for name, _price in items)
    return (*codes, _POSTAGE_ITEM[0]), (*names, _POSTAGE_ITEM[1])


def _positions(values: pd.Series, vocabulary: pd.Series | tuple[str, ...]) -> np.ndarray:
    """Position of each value in the vocabulary (first occurrence), -1 where it is absent."""
    found = pc.index_in(pa.array(values, type=pa.large_string()),
                        value_set=pa.array(vocabulary, type=pa.large_string()))
    return found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


def _codes_of(values: pd.Series, vocabulary: tuple[str, ...], column: str) -> np.ndarray:
    """Positions of text values in a vocabulary; an unknown value is an error naming it."""
    codes = _positions(values, vocabulary)
    if (codes < 0).any():
        bad = values.iloc[int(np.argmax(codes < 0))]
        raise ValueError(f"orders {column} {bad!r} is not one the sample generator makes: {', '.join(vocabulary)}")
    return codes


def _invoice_blocks(
    rng: np.random.Generator,
    category: np.ndarray,
    status: np.ndarray,
    units: np.ndarray,
    scale: np.ndarray,
    rate: np.ndarray,
    pays: np.ndarray,
) -> _Lines:
    """All lines of each distinct order, as one block per order: its product lines, a postage
    line on some, then the same again with negative quantities when it was cancelled or refunded."""
    m = units.size
    owner, product, quantity, price = _product_lines(rng, category, units, scale, rate, pays)
    products = _Lines(owner, category[owner] * len(_PRODUCTS[0]) + product, quantity, price,
                      np.zeros(owner.size, dtype=bool))
    posted = np.flatnonzero(rng.random(m) < _POSTAGE_SHARE)
    postage_units = np.rint(rng.uniform(*_POSTAGE_CNY, posted.size) / rate[posted] * scale[posted])
    postage = _Lines(posted, np.full(posted.size, len(_catalogue()[0]) - 1), np.ones(posted.size, dtype=np.int64),
                     np.maximum(1, postage_units).astype(np.int64), np.zeros(posted.size, dtype=bool))
    sold = _Lines.concat(products, postage)
    undone = sold.take(np.flatnonzero(status[sold.owner] != STATUSES.index("completed")))
    undone = dataclasses.replace(undone, quantity=-undone.quantity, reversal=np.ones(undone.owner.size, dtype=bool))
    every = _Lines.concat(sold, undone)
    return every.take(np.argsort(every.owner, kind="stable"))


def _invoice_times(
    rng: np.random.Generator, order_date: np.ndarray, status: np.ndarray, observation: np.datetime64
) -> tuple[np.ndarray, np.ndarray]:
    """Minute of each order's invoice and of its reversal invoice (for the cancelled and refunded).

    A reversal follows days (cancelled) or weeks (refunded) later, but stays before the
    observation date when the order leaves room for that.
    """
    m = status.size
    hour_share = _HOUR_WEIGHT / _HOUR_WEIGHT.sum()
    day = order_date.astype("datetime64[m]")
    placed = day + (rng.choice(24, size=m, p=hour_share) * 60 + rng.integers(0, 60, m)).astype("timedelta64[m]")
    delay = np.where(status == STATUSES.index("cancelled"),
                     rng.integers(*_CANCEL_DELAY_DAYS, m), rng.integers(*_REFUND_DELAY_DAYS, m))
    later = day + (delay * 1440 + rng.choice(24, size=m, p=hour_share) * 60 + rng.integers(0, 60, m)).astype(
        "timedelta64[m]"
    )
    return placed, np.maximum(np.minimum(later, observation - np.timedelta64(1, "m")), placed)


def _product_lines(
    rng: np.random.Generator, category: np.ndarray, units: np.ndarray, scale: np.ndarray, rate: np.ndarray,
    pays: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Product lines of each order: (order, product, quantity, unit price in minor units).

    Lines come grouped by order. Every line but the last gets a share of the amount at a price
    rounded down, so the remainder is always positive; the last line takes the remainder, and
    the few minor units its quantity does not divide go onto a one-unit line, so the lines add
    up to the amount exactly.
    """
    m = units.size
    weight = np.array(_LINES_PER_INVOICE_WEIGHT)
    count = rng.choice(weight.size, size=m, p=weight / weight.sum()) + 1
    # Every line needs a few minor units to share out: tiny orders keep one line.
    value_cny = units / scale * rate
    room = np.minimum(units // 20, np.floor(value_cny / 15).astype(np.int64))
    count = np.clip(np.minimum(count, room), 1, None)

    owner = np.repeat(np.arange(m), count)
    start = np.cumsum(count) - count
    position = np.arange(owner.size) - start[owner]
    last = position == count[owner] - 1
    # Shares between 1/3 and 3 times the even share: no line is a rounding error.
    share = rng.uniform(0.5, 1.5, owner.size)
    share /= np.bincount(owner, weights=share, minlength=m)[owner]
    target = np.floor(units[owner] * share).astype(np.int64)
    # Different products on the lines of one invoice (a stride coprime to the catalogue size
    # visits each product once), so two lines of an invoice are never exact duplicates.
    n_items = len(_PRODUCTS[0])
    strides = np.array([k for k in range(1, n_items) if np.gcd(k, n_items) == 1])
    stride = strides[rng.integers(0, strides.size, m)]
    drawn = (rng.integers(0, n_items, m)[owner] + position * stride[owner]) % n_items
    product = _affordable(drawn, owner, position, category[owner], target / scale[owner] * rate[owner] / pays[owner])
    list_cny = np.array([[p for _name, p in items] for items in _PRODUCTS])[category[owner], product]
    # a customer who buys at a discount pays `pays` of the list price: more units for the same amount
    wanted = target / scale[owner] * rate[owner] / (list_cny * pays[owner]) * rng.lognormal(0.0, 0.2, owner.size)
    wanted = np.clip(np.rint(wanted), 1, _MAX_QUANTITY).astype(np.int64)

    quantity = np.clip(wanted, 1, np.maximum(target, 1))
    price = target // quantity
    spent = np.bincount(owner[~last], weights=(quantity * price)[~last], minlength=m).astype(np.int64)
    rest = units - spent  # one per order, in order: what the last line must come to
    last_line = np.flatnonzero(last)
    quantity[last_line] = np.minimum(wanted[last_line], rest)
    price[last_line] = rest // quantity[last_line]
    short = rest - quantity[last_line] * price[last_line]  # below the last line's quantity

    # The few minor units left over go onto another line of one unit, which keeps the unit
    # prices of a stock code close together.
    single = np.flatnonzero(~last & (quantity == 1))
    takers, first = np.unique(owner[single], return_index=True)
    taker = np.full(m, -1)
    taker[takers] = single[first]
    moved = (short > 0) & (taker >= 0)
    price[taker[moved]] += short[moved]
    # Else one unit of the last line becomes a line of its own that carries them, while the
    # order has fewer than four lines.
    split = np.flatnonzero((short > 0) & (taker < 0) & (count < weight.size))
    quantity[last_line[split]] -= 1
    # With four lines already, the last line's quantity becomes a divisor of what it must come
    # to: the greatest common divisor with the wanted quantity, or a larger divisor up to 12.
    stuck = np.flatnonzero((short > 0) & (taker < 0) & (count == weight.size))
    want, remainder = quantity[last_line[stuck]], rest[stuck]
    fit = np.gcd(remainder, want)
    for divisor in range(2, 13):
        fit = np.where((divisor <= want) & (remainder % divisor == 0), np.maximum(fit, divisor), fit)
    quantity[last_line[stuck]], price[last_line[stuck]] = fit, remainder // fit

    grouped = np.argsort(np.concatenate([owner, split]), kind="stable")  # split lines after their order's
    return (
        np.concatenate([owner, split])[grouped],
        np.concatenate([product, product[last_line[split]]])[grouped],
        np.concatenate([quantity, np.ones(split.size, dtype=np.int64)])[grouped],
        np.concatenate([price, price[last_line[split]] + short[split]])[grouped],
    )


def _affordable(drawn: np.ndarray, owner: np.ndarray, position: np.ndarray, category: np.ndarray,
                budget: np.ndarray) -> np.ndarray:
    """The product of each line: the drawn one when its list price fits the line's value (in CNY at
    the customer's price level), else the dearest product of the category that fits (the cheapest
    when none does), as a shopper spending 50 yuan buys a cable, not earbuds. So a stock code keeps
    close to its list price on every invoice, and a lower unit price means a discount. A product
    already on the invoice gives way to the next cheaper one (then the next dearer one), so two
    lines of an invoice never show the same product."""
    prices = np.array([[p for _name, p in items] for items in _PRODUCTS])
    by_price = np.argsort(prices, axis=1, kind="stable")  # category, rank -> product
    rank_of = np.argsort(by_price, axis=1, kind="stable")  # category, product -> rank
    n_items = prices.shape[1]
    fits = (np.sort(prices, axis=1)[category] <= budget[:, None]).sum(axis=1) - 1  # dearest rank that fits
    rank = np.minimum(rank_of[category, drawn], np.maximum(fits, 0))
    # ranks tried when a rank is taken: downwards from it, then upwards
    order = np.arange(n_items)
    used = np.zeros((int(owner.max()) + 1 if owner.size else 0, n_items), dtype=bool)
    for place in range(int(position.max()) + 1 if position.size else 0):
        at = np.flatnonzero(position == place)
        wanted = rank[at]
        tries = np.where(order[None, :] <= wanted[:, None], wanted[:, None] - order[None, :], order[None, :])
        free = ~used[owner[at][:, None], tries]
        rank[at] = tries[np.arange(at.size), free.argmax(axis=1)]
        used[owner[at], rank[at]] = True
    return by_price[category, rank]


def _ragged(start: np.ndarray, size: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(start[i], start[i] + size[i])`` over i, without a Python loop."""
    total = int(size.sum())
    offset = np.cumsum(size) - size
    return np.repeat(start - offset, size) + np.arange(total)
