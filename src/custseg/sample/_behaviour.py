"""How the sample's customers behave: segments, calendars, and their orders, contacts and surveys.

Every customer gets a place (:func:`custseg.sample._tables.locations`), a behavioural segment
drawn from a mix that differs mildly by market, a first-order day, a purchase rate and a typical
order value; a share of them is about to churn. Orders are a Poisson process whose intensity
follows the market's calendar and the buyer's week (:func:`intensity_table`), thinned for
customers who fade out; contacts and survey answers follow the same people.

Private to :mod:`custseg.sample`: :func:`custseg.sample.generator.generate_sample` is its front.
"""

from __future__ import annotations

import dataclasses
import datetime

import numpy as np

from custseg.sample import _tables
from custseg.sample._columns import by_day, grouped_choice, rank_within

#: Channels of the contacts, in the order of the channel codes (:func:`draw_interactions`).
INTERACTION_CHANNELS = ("visit", "email", "call", "ticket")
#: Order statuses, in the order of the status codes (:class:`Orders`).
STATUSES = ("completed", "cancelled", "refunded")
#: Value of one unit of each currency in CNY (see :func:`custseg.sample._tables.exchange_rates`).
EXCHANGE_RATES: dict[str, float] = _tables.exchange_rates()
_WHOLE_UNIT_CURRENCIES = _tables.whole_unit_currencies()
# Price level of a category relative to the customer's typical order value.
_CATEGORY_PRICE = np.array(_tables.category_price())
_COUNTRY_TABLE = _tables.countries()
_SPRING_FESTIVAL = _tables.spring_festival()


# ---------------------------------------------------------------------------------------------
# Segments
# ---------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class _Segment:
    name: str
    share: float  # base share of the customer base, before market tilts
    rate: float  # orders per day at average seasonal intensity (mean of a gamma)
    aov: float  # median order value in CNY
    b2b: float  # probability that a customer of this segment is a business
    churn: float  # probability of being "about to churn" (active segments only)
    cancel: float  # order status probabilities
    refund: float
    contact_rate: float  # interactions per day
    feedback_share: float  # share of customers who answer post-purchase surveys
    satisfaction: float  # mean latent satisfaction (1-5 scale)


# The parameters put the segments far apart in log(recency, frequency, order value, tenure):
# VIP and bargain hunters both buy often but differ ~16x in order value, bulk buyers buy rarely
# but ~40x bigger, new customers have short tenure, lapsed customers long recency.
_SEGMENT_TABLE: tuple[_Segment, ...] = (
    _Segment("vip", 0.10, 0.080, 1200.0, 0.15, 0.08, 0.02, 0.03, 0.045, 0.70, 4.3),
    _Segment("regular", 0.27, 0.021, 280.0, 0.12, 0.14, 0.03, 0.04, 0.015, 0.55, 3.9),
    _Segment("bargain_hunter", 0.20, 0.050, 50.0, 0.03, 0.18, 0.03, 0.06, 0.010, 0.45, 3.6),
    _Segment("bulk_buyer", 0.08, 0.011, 12000.0, 0.85, 0.10, 0.05, 0.03, 0.035, 0.60, 3.9),
    _Segment("new", 0.13, 0.015, 240.0, 0.10, 0.40, 0.03, 0.04, 0.030, 0.40, 3.8),
    _Segment("lapsed", 0.22, 0.020, 260.0, 0.10, 1.00, 0.03, 0.05, 0.008, 0.35, 3.2),
)
#: Planted behavioural segments, in the order used for ``true_segment``.
SEGMENTS: tuple[str, ...] = tuple(s.name for s in _SEGMENT_TABLE)
_NEW = SEGMENTS.index("new")
_LAPSED = SEGMENTS.index("lapsed")

#: Planted: a business's order value against a consumer's of the same segment.
B2B_ORDER_VALUE = 1.3
#: Planted preference group: the share of customers who buy at a discount, in every segment, and
#: what they pay against the usual price (lower order values; lower unit prices on the same
#: products in the line items).
PRICE_SENSITIVE_SHARE = 0.12
PRICE_SENSITIVE_PAYS = 0.8
#: Planted: the share of a business's repeat orders that are placed, against a consumer's of the
#: same segment (businesses buy less often, also within a segment; see with_fewer_b2b_orders).
B2B_REPEAT_ORDERS = 0.85

_NEW_WINDOW_DAYS = 120  # "new" customers placed their first order this recently
_NEW_MAX_ORDERS = 3
_DECAY_DAYS = 120  # warning period before a churner stops buying
_SATISFACTION_DECAY_DAYS = 180

_MARKETS = _tables.markets()
_MARKET_SEGMENT_TILT = _tables.market_segment_tilt(SEGMENTS)
_MARKET_PRICE = _tables.market_price()
_CALENDARS = ("china", "west", "asia")


# ---------------------------------------------------------------------------------------------
# Calendar
# ---------------------------------------------------------------------------------------------

def _bump(day_of_series: np.ndarray, centres: np.ndarray, width: float) -> np.ndarray:
    """Sum of Gaussian bumps (height 1) around the given day indices."""
    if centres.size == 0:
        return np.zeros(day_of_series.size)
    distance = day_of_series[:, None] - centres[None, :]
    return np.exp(-0.5 * (distance / width) ** 2).sum(axis=1)


def intensity_table(start: datetime.date, end: int) -> np.ndarray:
    """Cumulative order intensity per calendar pattern, shape (n_patterns, end + 1).

    Patterns are (calendar x buyer type) for orders, followed by two flat weekday-only patterns
    (B2C, B2B) for contacts. Each pattern averages 1 per day, so a customer's rate keeps its
    meaning of "events per day".
    """
    days = np.arange(end)
    dates = np.datetime64(start, "D") + days.astype("timedelta64[D]")
    years = dates.astype("datetime64[Y]").astype(int) + 1970
    weekday = (dates.astype("datetime64[D]").astype(int) + 3) % 7  # 0 = Monday
    weekend = weekday >= 5

    first_year, last_year = years.min() - 1, years.max() + 1

    def day_index(month: int, day: int) -> np.ndarray:
        stamps = np.array(
            [np.datetime64(datetime.date(y, month, day)) for y in range(first_year, last_year + 1)]
        )
        return (stamps - np.datetime64(start, "D")).astype(int)

    double11 = day_index(11, 11)
    mid618 = day_index(6, 18)
    christmas = day_index(12, 25)
    # Black Friday: the day after the fourth Thursday of November.
    nov1 = day_index(11, 1)
    nov1_weekday = (nov1 + (np.datetime64(start, "D").astype(int) + 3)) % 7
    black_friday = nov1 + (3 - nov1_weekday) % 7 + 21 + 1
    festival = (np.array(_SPRING_FESTIVAL, dtype="datetime64[D]") - np.datetime64(start, "D")).astype(int)

    month = dates.astype("datetime64[M]").astype(int) % 12 + 1
    to_festival = festival[None, :] - days[:, None]
    before_festival = ((to_festival >= 5) & (to_festival <= 25)).any(axis=1)
    festival_lull = ((to_festival >= -7) & (to_festival <= 3)).any(axis=1)

    china = (
        1.0
        + 2.2 * _bump(days, double11, 3.0)
        + 0.35 * ((month == 11) & (days < np.max(double11)))  # pre-sales in early November
        + 1.1 * _bump(days, mid618, 3.0)
        + 0.6 * before_festival
        - 0.55 * festival_lull
    )
    west = (
        1.0
        + 1.6 * _bump(days, black_friday, 2.5)
        + 0.5 * ((month == 12) & ~_near(days, christmas, 0, 10))
        - 0.35 * _near(days, christmas, 0, 2)
        - 0.15 * (month == 1)
    )
    asia = 1.0 + 0.9 * _bump(days, double11, 3.0) + 0.25 * np.isin(month, (11, 12))

    b2c_week = np.where(weekend, 1.15, 0.94)
    b2b_week = np.where(weekend, 0.45, 1.22)
    shapes = []
    for calendar in (china, west, asia):
        for week in (b2c_week, b2b_week):
            shapes.append(calendar * week)
    shapes.extend([b2c_week.astype(float), b2b_week.astype(float)])
    shape = np.vstack(shapes)
    shape = shape / shape.mean(axis=1, keepdims=True)
    return np.hstack([np.zeros((shape.shape[0], 1)), np.cumsum(shape, axis=1)])


def _near(days: np.ndarray, centres: np.ndarray, before: int, after: int) -> np.ndarray:
    delta = days[:, None] - centres[None, :]
    return ((delta >= -before) & (delta <= after)).any(axis=1)


def _order_pattern(calendar: np.ndarray, b2b: np.ndarray) -> np.ndarray:
    return calendar * 2 + b2b.astype(np.int64)


def _contact_pattern(b2b: np.ndarray) -> np.ndarray:
    return len(_CALENDARS) * 2 + b2b.astype(np.int64)


# ---------------------------------------------------------------------------------------------
# Customers: segment, timing
# ---------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class People:
    """Per-customer draws, indexed by customer number (0 = C000001, in signup order)."""

    location: np.ndarray  # index into _tables.Locations
    country: np.ndarray  # index into _COUNTRY_TABLE
    market: np.ndarray  # true market index (before any unplaceable spelling)
    segment: np.ndarray
    b2b: np.ndarray  # bool
    calendar: np.ndarray  # index into _CALENDARS
    signup: np.ndarray  # day index, may be negative (signed up before start_date)
    first: np.ndarray  # day of the first order
    stop: np.ndarray  # day the customer stops buying; huge when never
    rate: np.ndarray  # orders per day
    aov: np.ndarray  # typical order value, CNY
    contact_rate: np.ndarray
    survey_rate: np.ndarray  # probability of answering a post-purchase survey
    mood: np.ndarray  # customer's latent satisfaction level
    churner: np.ndarray  # bool: about to churn (or lapsed)
    price_sensitive: np.ndarray | None = None  # bool: buys at a discount (see with_price_sensitive)


_NEVER = 10**7


def draw_people(rng: np.random.Generator, n: int, span: int) -> People:
    places = _tables.locations()
    location = rng.choice(places.weight.size, size=n, p=places.weight)
    country = places.country[location]
    market = places.market[location]

    base = np.array([s.share for s in _SEGMENT_TABLE])
    tilt = np.ones((len(_MARKETS), base.size))
    for name, factors in _MARKET_SEGMENT_TILT.items():
        tilt[_MARKETS.index(name)] = factors
    segment = grouped_choice(rng, market, base[None, :] * tilt)

    seg = _SEGMENT_TABLE
    b2b = rng.random(n) < np.array([s.b2b for s in seg])[segment]
    calendar_of_country = np.array([_CALENDARS.index(row[4]) for row in _COUNTRY_TABLE])
    calendar = calendar_of_country[country]

    # First order. Established customers: a good part were already buying when the data starts,
    # the rest arrived steadily until ~5 months before the observation date.
    latest_established = span - 150  # then the "new" customers' window starts: sign-ups never pause
    established_first = np.where(
        rng.random(n) < 0.45,
        rng.integers(0, 45, n),
        rng.integers(0, latest_established, n),
    )
    new_first = rng.integers(span - _NEW_WINDOW_DAYS, span - 20, n)
    first = np.where(segment == _NEW, new_first, established_first)

    # Lapsed customers were active for a while, then stopped long before the observation date.
    lapse_stop = rng.integers(int(0.12 * span), int(0.65 * span), n)
    lapse_first = np.maximum(lapse_stop - rng.integers(60, 400, n), 0)
    first = np.where(segment == _LAPSED, lapse_first, first)

    churn_p = np.array([s.churn for s in seg])[segment]
    churner = rng.random(n) < churn_p
    # Customers about to churn stop buying around the observation date (up to ~2.5 months
    # before it or a few weeks into the horizon), after a fading period that an early-warning
    # model can see.
    churn_stop = np.maximum(span + rng.integers(-75, 21, n), first + 1)
    stop = np.where(churner, churn_stop, _NEVER)
    stop = np.where(segment == _LAPSED, lapse_stop, stop)

    # Heavy-tailed purchase rates: a gamma around the segment mean, on top of a floor, because
    # a customer of an active segment buys at least now and then.
    shape = 3.0
    spread = 0.35 + 0.65 * rng.gamma(shape, 1.0 / shape, n)
    rate = np.array([s.rate for s in seg])[segment] * spread
    price = np.ones(len(_MARKETS))
    for name, factor in _MARKET_PRICE.items():
        price[_MARKETS.index(name)] = factor
    # Planted demographic difference, for the profiles to recover: businesses buy less often than
    # consumers (most bulk buyers are businesses, see _SEGMENT_TABLE's b2b) and, within every
    # segment, spend B2B_ORDER_VALUE times as much per order. Only amounts move: no draw does.
    aov = (np.array([s.aov for s in seg])[segment] * price[market] * rng.lognormal(0.0, 0.3, n)
           * np.where(b2b, B2B_ORDER_VALUE, 1.0))

    contact_rate = (
        np.array([s.contact_rate for s in seg])[segment]
        * np.where(b2b, 1.5, 1.0)
        * rng.gamma(4.0, 0.25, n)
    )
    answers = rng.random(n) < np.array([s.feedback_share for s in seg])[segment]
    survey_rate = np.where(answers, rng.uniform(0.08, 0.35, n), 0.0)
    mood = (
        np.array([s.satisfaction for s in seg])[segment]
        + rng.normal(0.0, 0.35, n)
        - 0.3 * (churner & (segment != _LAPSED))
    )

    # Sign-up precedes the first order by days to weeks; customers buying from the first weeks
    # of the data mostly signed up long before it starts.
    lead = np.where(b2b, rng.geometric(1 / 30, n), rng.geometric(1 / 8, n)) - 1
    veteran = (first < 45) & (rng.random(n) < 0.8)
    signup = first - np.where(veteran, rng.integers(45, 1100, n), lead)

    # Customer numbers follow sign-up order, as in a real CRM.
    order = np.lexsort((rng.random(n), signup))
    return People(
        location=location[order], country=country[order], market=market[order],
        segment=segment[order], b2b=b2b[order], calendar=calendar[order], signup=signup[order],
        first=first[order], stop=stop[order], rate=rate[order], aov=aov[order],
        contact_rate=contact_rate[order], survey_rate=survey_rate[order], mood=mood[order],
        churner=churner[order],
    )


def with_price_sensitive(people: People, picked: np.ndarray) -> People:
    """`people` with the planted price-sensitive group `picked` (bool per customer): they pay
    PRICE_SENSITIVE_PAYS of the usual price, so their typical order value is that much lower. Only
    amounts move: no draw does, and the rest of the sample stays as it was."""
    aov = people.aov * np.where(picked, PRICE_SENSITIVE_PAYS, 1.0)
    return dataclasses.replace(people, aov=aov, price_sensitive=picked)


def with_fewer_b2b_orders(rng: np.random.Generator, people: People, orders: Orders) -> Orders:
    """`orders` without a random (1 - B2B_REPEAT_ORDERS) of each business's repeat orders: a
    business's first order stays (it is when they became a customer), so only how often they buy
    moves. `rng` is a stream of its own, so the other draws of the sample stay as they were."""
    first = np.zeros(orders.owner.size, dtype=bool)
    first[np.unique(orders.owner, return_index=True)[1]] = True
    drop = people.b2b[orders.owner] & ~first & (rng.random(orders.owner.size) >= B2B_REPEAT_ORDERS)
    keep = ~drop
    return dataclasses.replace(
        orders, **{f.name: getattr(orders, f.name)[keep] for f in dataclasses.fields(orders)
                   if isinstance(getattr(orders, f.name), np.ndarray)}
    )


def _thin(rng: np.random.Generator, day: np.ndarray, stop: np.ndarray, floor: float, after: float) -> np.ndarray:
    """Keep-mask of a Poisson process thinned by `_decay`; only customers who stop are drawn for."""
    keep = np.ones(day.size, dtype=bool)
    stopping = np.flatnonzero(stop < _NEVER)
    keep[stopping] = rng.random(stopping.size) < _decay(day[stopping], stop[stopping], _DECAY_DAYS, floor, after)
    return keep


def _decay(day: np.ndarray, stop: np.ndarray, length: float, floor: float, after: float) -> np.ndarray:
    """Activity multiplier of a customer who stops at ``stop``: 1, then a linear fade, then ``after``."""
    fade = floor + (1.0 - floor) * (stop - day) / length
    return np.where(day < stop - length, 1.0, np.where(day < stop, fade, after))


def _poisson_days(
    rng: np.random.Generator,
    rate: np.ndarray,
    first: np.ndarray,
    stop: np.ndarray,
    pattern: np.ndarray,
    cum: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Days of a Poisson process with intensity ``rate * pattern shape`` on ``[first, stop)``.

    The day is drawn by inverting the cumulative intensity of the customer's calendar pattern,
    so seasonality costs no rejected draws. Returns (owner index, day), owners ascending.
    """
    n_patterns, width = cum.shape
    first = np.clip(first, 0, width - 1)
    stop = np.clip(stop, first, width - 1)
    low = cum[pattern, first]
    mass = cum[pattern, stop] - low
    counts = rng.poisson(rate * mass)
    owner = np.repeat(np.arange(rate.size, dtype=np.int64), counts)
    position = low[owner] + rng.random(owner.size) * mass[owner]
    # One sorted array for all patterns: pattern p lives in [p * offset, p * offset + total_p].
    offset = cum[:, -1].max() + 1.0
    flat = (cum + offset * np.arange(n_patterns)[:, None]).ravel()
    owner_pattern = pattern[owner]
    index = np.searchsorted(flat, position + offset * owner_pattern, side="right") - 1
    day = index - owner_pattern * width
    day = np.clip(day, first[owner], np.maximum(stop[owner] - 1, first[owner]))
    return owner, day  # owners ascending, as np.repeat made them


# ---------------------------------------------------------------------------------------------
# Orders
# ---------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Orders:
    """All simulated orders, including those after the observation date, sorted by day."""

    owner: np.ndarray
    day: np.ndarray
    category: np.ndarray
    currency: np.ndarray  # index into the currency list
    amount: np.ndarray  # in the order currency, rounded
    amount_cny: np.ndarray
    status: np.ndarray  # index into STATUSES
    currencies: tuple[str, ...]


def _category_weights() -> np.ndarray:
    """Category preference per (calendar, buyer type) profile."""
    #                 elec home appr beau food sprt offc indu
    b2c = np.array([1.6, 1.4, 1.5, 1.2, 1.0, 0.8, 0.3, 0.05])
    b2b = np.array([1.2, 0.5, 0.3, 0.2, 0.6, 0.3, 1.6, 1.8])
    tilt = {
        "china": np.array([1.1, 1.0, 1.2, 1.3, 1.1, 0.8, 1.0, 1.0]),
        "west": np.array([1.0, 1.2, 0.9, 0.8, 0.7, 1.4, 1.0, 1.1]),
        "asia": np.array([1.3, 0.9, 1.0, 1.4, 1.2, 0.9, 0.9, 0.8]),
    }
    return np.vstack([tilt[c] * w for c in _CALENDARS for w in (b2c, b2b)])


def draw_orders(
    rng: np.random.Generator, people: People, cum: np.ndarray, span: int, end: int
) -> Orders:
    n = people.segment.size
    pattern = _order_pattern(people.calendar, people.b2b)
    stop = np.minimum(people.stop, end)
    later_owner, later_day = _poisson_days(rng, people.rate, people.first + 1, stop, pattern, cum)
    # Thinning removes the orders a fading customer no longer places.
    keep = _thin(rng, later_day, people.stop[later_owner], 0.2, 0.0)
    later_owner, later_day = later_owner[keep], later_day[keep]

    # Put each customer's first order in front of the later ones, keeping owners ascending.
    later_count = np.bincount(later_owner, minlength=n)
    first_at = np.arange(n) + np.concatenate([[0], np.cumsum(later_count)[:-1]])
    first_order = np.zeros(n + later_owner.size, dtype=bool)
    first_order[first_at] = True
    owner = np.empty(first_order.size, dtype=np.int64)
    day = np.empty(first_order.size, dtype=np.int64)
    owner[first_at], day[first_at] = np.arange(n), people.first
    owner[~first_order], day[~first_order] = later_owner, later_day
    del later_owner, later_day, keep

    # "New" customers have at most a handful of orders before the observation date.
    capped = np.flatnonzero((people.segment[owner] == _NEW) & (day < span))
    too_many = capped[rank_within(owner[capped], day[capped]) >= _NEW_MAX_ORDERS]
    if too_many.size:
        kept = np.ones(owner.size, dtype=bool)
        kept[too_many] = False
        owner, day, first_order = owner[kept], day[kept], first_order[kept]

    chronological = by_day(day)
    owner, day, first_order = owner[chronological], day[chronological], first_order[chronological]
    m = owner.size

    profile = _order_pattern(people.calendar, people.b2b)[owner]
    category = grouped_choice(rng, profile, _category_weights())

    # Local currency, but a share of non-CNY, non-USD customers is invoiced in US dollars.
    local = np.array([row[3] for row in _COUNTRY_TABLE])
    currencies = tuple(sorted(set(local)))
    local_index = np.searchsorted(np.array(currencies), local)
    usd = currencies.index("USD")
    cny = currencies.index("CNY")
    customer_currency = local_index[people.country]
    invoiced_usd = (rng.random(n) < 0.15) & (customer_currency != cny)
    customer_currency = np.where(invoiced_usd, usd, customer_currency)
    currency = customer_currency[owner]

    spread = np.where(people.segment[owner] == SEGMENTS.index("bulk_buyer"), 0.35, 0.45)
    value_cny = people.aov[owner] * _CATEGORY_PRICE[category] * np.exp(spread * rng.standard_normal(m))
    rates = np.array([EXCHANGE_RATES[c] for c in currencies])
    whole = np.array([c in _WHOLE_UNIT_CURRENCIES for c in currencies])
    raw = value_cny / rates[currency]
    amount = np.where(whole[currency], np.round(raw), np.round(raw, 2))
    amount = np.maximum(amount, np.where(whole[currency], 1.0, 0.01))
    amount_cny = amount * rates[currency]

    seg = _SEGMENT_TABLE
    cancel = np.array([s.cancel for s in seg])[people.segment[owner]]
    refund = np.array([s.refund for s in seg])[people.segment[owner]]
    # Unhappy customers return more in their last months.
    fading = (day >= people.stop[owner] - _DECAY_DAYS)
    refund = np.where(fading, refund * 2.0, refund)
    draw = rng.random(m)
    status = np.where(draw < cancel, 1, np.where(draw < cancel + refund, 2, 0))
    status = np.where(first_order, 0, status)  # every customer has a real first purchase
    return Orders(owner, day, category, currency, amount, amount_cny, status, currencies)


# ---------------------------------------------------------------------------------------------
# Interactions and feedback
# ---------------------------------------------------------------------------------------------

def draw_interactions(
    rng: np.random.Generator, people: People, cum: np.ndarray, span: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    pattern = _contact_pattern(people.b2b)
    start = np.maximum(people.signup, 0)
    owner, day = _poisson_days(
        rng, people.contact_rate, start, np.full(start.size, span), pattern, cum
    )
    keep = _thin(rng, day, people.stop[owner], 0.3, 0.12)
    owner, day = owner[keep], day[keep]
    #                     visit email call ticket
    weights = np.array([
        [0.45, 0.30, 0.10, 0.15],  # B2C
        [0.25, 0.35, 0.30, 0.10],  # B2B
        [0.35, 0.25, 0.10, 0.30],  # B2C, fading: more complaints
        [0.20, 0.30, 0.25, 0.25],  # B2B, fading
    ])
    fading = day >= people.stop[owner] - _DECAY_DAYS
    channel = grouped_choice(rng, people.b2b[owner].astype(np.int64) + 2 * fading, weights)
    chronological = by_day(day)
    return owner[chronological], day[chronological], channel[chronological]


def draw_feedback(
    rng: np.random.Generator, people: People, orders: Orders, span: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    # Feedback answers post-purchase surveys: a share of paid orders, answered days later.
    paid = orders.status != 1
    answered = paid & (rng.random(orders.owner.size) < people.survey_rate[orders.owner])
    owner = orders.owner[answered]
    day = orders.day[answered] + rng.geometric(1 / 6, owner.size)
    refunded = orders.status[answered] == 2
    inside = day < span
    owner, day, refunded = owner[inside], day[inside], refunded[inside]

    stop = people.stop[owner]
    closeness = np.clip(1.0 - (stop - day) / _SATISFACTION_DECAY_DAYS, 0.0, 1.0)
    latent = (
        people.mood[owner]
        - 1.6 * closeness
        - 0.9 * refunded
        + rng.normal(0.0, 0.6, owner.size)
    )
    satisfaction = np.clip(np.rint(latent), 1, 5).astype(np.int64)
    nps = np.clip(np.rint(2.0 * latent + 0.5 + rng.normal(0.0, 1.2, owner.size)), 0, 10)
    chronological = np.lexsort((owner, day))
    return (
        owner[chronological],
        day[chronological],
        satisfaction[chronological],
        nps[chronological].astype(np.int64),
    )
