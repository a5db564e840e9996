"""The sections of a study config (inputs, cleaning, regions, tiers, segments, churn, ...): typed
settings with their defaults, validated when the config is loaded (:func:`custseg.config.load_config`).

Every default here is documented in docs/config.md. The settings of the strategy page and the
tiers' playbook are in :mod:`custseg.config.advice`; the whole config in :mod:`custseg.config.loading`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator, model_validator

from custseg import geo
from custseg.config.filters import FilterError, parse_filter
from custseg.config.queries import DatabaseInput, QueryInput, TableInput
from custseg.i18n import N_, Language

RegionLevel = Literal["market", "country", "province"]


class Strict(BaseModel):
    """A config section: unknown keys are errors and the settings cannot change once loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class InputFile(Strict):
    """One input table: where it is and how to read it."""

    # a file, or a pattern of several (exports/orders-2025-*.csv: every match, in name order, read
    # as one table; each row keeps its file); .csv.gz and .zip are read as they come
    path: Path
    format: Literal["auto", "csv", "excel", "parquet"] = "auto"  # auto: from the file suffix
    member: str | None = None  # .zip: the file inside to read; None: the archive's only file
    # auto: a byte-order mark, else UTF-8, else UTF-16 told by its zero bytes, else detected by
    # charset-normalizer (GB18030 or cp1252 preferred among near-equal readings); or a Python codec name
    encoding: str = "auto"
    delimiter: str | None = None  # None: sniffed from the header line among , ; tab |
    sheet: str | int | None = None  # Excel: sheet name or 0-based position; None: the first sheet
    # Excel: several sheets read as one table (names or positions, in this order), or "all" of
    # them; each row keeps its sheet. Not with sheet.
    sheets: list[str | int] | Literal["all"] | None = None
    date_format: str | None = None  # strftime pattern; None lets pandas read ISO dates
    # decimal separator of the file's numbers: auto tells it per column from the values (1.234,50
    # or 1,234.50); "." or "," reads every value that way (CSV only: Excel and Parquet store numbers)
    decimal: Literal["auto", ".", ","] = "auto"
    # canonical custseg column name -> the header used in the user's file
    columns: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_sheet_setting(self) -> InputFile:
        if self.sheet is not None and self.sheets is not None:
            raise ValueError("give sheet (one sheet) or sheets (several read as one table), not both")
        if isinstance(self.sheets, list) and not self.sheets:
            raise ValueError("sheets is an empty list; name the sheets to read, or write sheets: all")
        if isinstance(self.sheets, list) and len(set(map(str, self.sheets))) < len(self.sheets):
            raise ValueError(f"sheets names a sheet twice: {self.sheets}")
        return self

    def is_many(self) -> bool:
        """Whether this input may read several files or sheets (a pattern in ``path``, or ``sheets``):
        then each row keeps where it came from in a ``source_file`` column."""
        return self.sheets is not None or any(char in str(self.path) for char in "*?[")


#: The kinds of input table, as :data:`InputSpec` tags them (pydantic puts the tag in an error's
#: location: ``inputs.orders.file.path``; the config's messages leave it out).
INPUT_KINDS = ("file", "sql", "database", "table")


def _input_kind(value: object) -> str:
    """Which kind of input a config entry is: SQL over files, a database query, a catalog table, or one file."""
    if isinstance(value, dict):
        if "sql" in value or "sources" in value:
            return "sql"
        if {"query", "url", "url_env", "url_file"} & set(value):
            return "database"
        if "table" in value:
            return "table"
        return "file"
    return {QueryInput: "sql", DatabaseInput: "database", TableInput: "table"}.get(type(value), "file")


#: One input table: a file (InputFile), a query over files (QueryInput), a database query
#: (DatabaseInput) or a table of Spark's catalog (TableInput), told apart by their keys (``sql``,
#: ``query``/``url``, ``table``, else a file).
InputSpec = Annotated[
    Annotated[InputFile, Tag("file")] | Annotated[QueryInput, Tag("sql")] | Annotated[DatabaseInput, Tag("database")]
    | Annotated[TableInput, Tag("table")],
    Discriminator(_input_kind),
]


class Inputs(Strict):
    """The tables of a study: either orders (plus optional customers, interactions, feedback) or
    one line-item table as online shops export it, from which orders and customers are derived.
    Each is a file, a query over files or a database query (:data:`InputSpec`); line items may also be
    a table of Spark's catalog, read by ``engine: spark``."""

    orders: InputSpec | None = None
    line_items: InputSpec | None = None
    customers: InputSpec | None = None
    interactions: InputSpec | None = None
    feedback: InputSpec | None = None

    @model_validator(mode="after")
    def _one_order_source(self) -> Inputs:
        if (self.orders is None) == (self.line_items is None):
            raise ValueError(
                "give exactly one of inputs.orders (a table of orders) or inputs.line_items "
                "(one row per invoice line, as online shops export it)"
            )
        return self

    def present(self) -> dict[str, InputFile | QueryInput | DatabaseInput | TableInput]:
        """The tables that are configured, by name."""
        return {name: spec for name, spec in self if spec is not None}

    def folders(self) -> list[tuple[str, Path]]:
        """Each table's name with every folder its files are in (a query's sources; none for a database
        or a catalog table)."""
        found = []
        for name, spec in self.present().items():
            if isinstance(spec, QueryInput):
                found += [(name, Path(source.path).resolve().parent) for source in spec.sources.values()]
            elif isinstance(spec, InputFile):
                found.append((name, Path(spec.path).resolve().parent))
        return found


def _default_statuses() -> dict[str, list[str]]:
    return {
        "completed": ["completed", "complete", "paid", "shipped", "delivered", "success",
                      "已完成", "完成", "已付款", "已发货", "已收货", "交易成功"],
        "cancelled": ["cancelled", "canceled", "void", "voided", "已取消", "取消", "交易关闭"],
        "refunded": ["refunded", "refund", "returned", "return", "已退款", "退款", "退货", "已退货"],
    }


class Cleaning(Strict):
    """Rules that decide what a row means and which problems stop intake."""

    # canonical status -> the values your export uses for it (compared case-insensitively);
    # a refunded order nets to zero, a negative amount is a return netted against spend
    statuses: dict[Literal["completed", "cancelled", "refunded"], list[str]] = Field(
        default_factory=_default_statuses
    )
    zero_amount: Literal["quarantine", "keep"] = "quarantine"  # keep: an order worth nothing
    # reasons that stop intake with an error instead of going to quarantine; [] quarantines all
    stop_on: list[str] = Field(default_factory=lambda: ["bad_date", "unknown_currency"])
    # line items: invoices starting with this prefix are cancellations ("" to switch off)
    cancel_prefix: str = "C"
    # a reversal undoes purchases of the same customer (and item) at most this many days before
    # or after it (see custseg.intake.reversals)
    reversal_window_days: int = Field(90, ge=0)
    # rows dated outside earliest_date .. latest_date are quarantined as implausible_date;
    # latest_date None means the day the study runs
    earliest_date: dt.date = dt.date(1990, 1, 1)
    latest_date: dt.date | None = None
    # timestamps with a UTC offset (2024-01-05T10:00:00+08:00, ...Z) are converted to this IANA time
    # zone (Asia/Shanghai, Europe/Berlin, UTC), and those without one are taken to be in it;
    # None keeps every timestamp's wall clock as written and drops its offset
    timezone: str | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, zone: str | None) -> str | None:
        if zone is not None and not _known_timezone(zone):
            raise ValueError(
                f"unknown time zone {zone!r}: use an IANA name such as Asia/Shanghai, Europe/Berlin or UTC"
            )
        return zone

    @model_validator(mode="after")
    def _date_range(self) -> Cleaning:
        if self.latest_date is not None and self.latest_date < self.earliest_date:
            raise ValueError(
                f"cleaning.latest_date {self.latest_date} is before cleaning.earliest_date {self.earliest_date}"
            )
        return self
    # line items: item codes that are not products (postage, fees, manual adjustments)
    non_product_items: list[str] = Field(
        default_factory=lambda: ["POST", "DOT", "M", "BANK CHARGES", "AMAZONFEE", "CRUK", "D",
                                 "S", "PADS", "B", "C2", "ADJUST"]
    )
    non_product_lines: Literal["exclude", "include"] = "exclude"  # exclude: kept, not revenue


class Currency(Strict):
    """Base currency of every amount in the outputs and the rates that convert into it."""

    base: str = "CNY"
    # value of one unit of the currency in the base currency
    rates: dict[str, float] = Field(default_factory=dict)

    @field_validator("rates")
    @classmethod
    def _positive(cls, rates: dict[str, float]) -> dict[str, float]:
        bad = {code: rate for code, rate in rates.items() if not rate > 0}
        if bad:
            raise ValueError(f"exchange rates must be positive numbers, got {bad}")
        return rates

    def rate_table(self) -> dict[str, float]:
        """Rates including the base currency itself at 1."""
        return {**self.rates, self.base: 1.0}


class Output(Strict):
    """Where each stage writes. Every folder can be deleted and rebuilt by `make`."""

    interim: Path  # clean tables, quarantine and intake accounting
    processed: Path  # customer table and other analysis outputs
    reports: Path  # HTML for stakeholders; index.html on top
    build: Path  # executed notebooks, manifest, logs
    exports: Path  # files for other systems (CRM tags, watch lists)


class CustomMarket(Strict):
    """A market with a Chinese name: ``{name_zh: 达契, countries: [DEU, AUT, CHE]}``."""

    countries: list[str]
    name_zh: str | None = None


class RegionAliases(Strict):
    """Spellings of your export that custseg should place; they win over every library."""

    # spelling -> ISO 3166-1 alpha-3 code, or a market name (the country stays unknown), or null
    # for a value that names no place (counted as not given)
    countries: dict[str, str | None] = Field(default_factory=dict)
    # spelling -> ISO 3166-2 code; it counts for customers of that code's country only
    subdivisions: dict[str, str] = Field(default_factory=dict)


class Regions(Strict):
    """Region hierarchy settings."""

    level: RegionLevel = "market"  # one region study per value of this level
    # market name -> ISO-3 country codes (or a CustomMarket); wins over the default markets
    custom_markets: dict[str, list[str] | CustomMarket] = Field(default_factory=dict)
    # spellings custseg does not place by itself:
    # {countries: {"Channel Is.": Europe}, subdivisions: {"Sao Paolo": BR-SP}}
    aliases: RegionAliases = RegionAliases()

    @model_validator(mode="after")
    def _aliases_place(self) -> Regions:
        if self.aliases.countries or self.aliases.subdivisions:
            # raises ValueError naming the alias (regions.aliases.countries['Xanadu']: ...)
            geo.check_aliases(self.alias_table(), self.market_definitions())
        return self

    def market_definitions(self) -> dict[str, list[str] | dict]:
        """Custom markets in the form :func:`custseg.geo.assign_markets` takes."""
        return {
            name: spec.model_dump(exclude_none=True) if isinstance(spec, CustomMarket) else list(spec)
            for name, spec in self.custom_markets.items()
        }

    def alias_table(self) -> dict[str, dict[str, str | None]]:
        """The aliases in the form :func:`custseg.geo.normalize_regions` takes."""
        return self.aliases.model_dump()


class TierRule(Strict):
    """Absolute limits a customer must meet for one tier (Chinese practice: R < 60, F >= 5, M >= 500)."""

    recency_max_days: float | None = Field(None, ge=0)  # last purchase at most this many days ago
    frequency_min: float | None = Field(None, ge=0)  # at least this many purchases
    monetary_min: float | None = None  # at least this much net spend, base currency (a net spend can be negative)


class Tiers(Strict):
    """Value tiers: by RFM scores, by share of revenue (Pareto), or by absolute thresholds."""

    method: Literal["rfm", "value_share", "thresholds"] = "rfm"
    names: list[str] = Field(default_factory=lambda: ["high", "mid", "low"])  # best first; e.g. [vip, high, mid, low]
    # tiers computed over all customers, or separately within each value of a region column
    within: Literal["all", "market", "country", "province", "region"] = "all"
    # rfm: quantile scores 1..bins per dimension, weighted; "i" (interaction frequency over the
    # last 90 days) is an optional fourth dimension
    bins: int = Field(5, ge=2, le=10)
    weights: dict[Literal["r", "f", "m", "i"], float] = Field(default_factory=lambda: {"r": 1.0, "f": 1.0, "m": 1.0})
    # rfm: minimum weighted total score for each tier but the last, best tier first
    min_scores: list[float] = Field(default_factory=lambda: [12, 8])
    # value_share: the customers making the first X of revenue (largest spenders first) form the
    # first tier, the next Y the second, ...; one share per tier but the last
    revenue_shares: list[float] = Field(default_factory=lambda: [0.5, 0.3])
    # thresholds: one rule per tier but the last, best tier first; the first rule a customer meets wins
    rules: list[TierRule] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> Tiers:
        if len(self.names) < 2 or len(set(self.names)) != len(self.names):
            raise ValueError(f"tiers.names must hold at least two distinct names, got {self.names}")
        need = len(self.names) - 1
        if self.method == "rfm":
            if len(self.min_scores) != need:
                raise ValueError(
                    f"tiers.min_scores needs one threshold per tier but the last "
                    f"({need} for {self.names}), got {self.min_scores}"
                )
            if any(a <= b for a, b in zip(self.min_scores, self.min_scores[1:])):
                raise ValueError(f"tiers.min_scores must fall strictly, best tier first: {self.min_scores}")
            if not any(w > 0 for w in self.weights.values()) or any(w < 0 for w in self.weights.values()):
                raise ValueError(f"tiers.weights must be zero or positive and not all zero, got {self.weights}")
            # Each score runs 1..bins, so the weighted total runs sum(w) .. bins x sum(w). A
            # threshold above the top leaves its tier empty; one at or below the bottom leaves
            # every tier after it empty (everyone scored reaches it).
            low, high = sum(self.weights.values()), self.bins * sum(self.weights.values())
            outside = [score for score in self.min_scores if not low < score <= high]
            if outside:
                raise ValueError(
                    f"tiers.min_scores {self.min_scores}: {outside[0]:g} is out of reach; the weighted RFM total "
                    f"runs from {low:g} to {high:g} (scores 1..tiers.bins {self.bins}, tiers.weights "
                    f"{self.weights}), so each threshold must be above {low:g} and at most {high:g}, "
                    f"or a tier stays empty"
                )
        if self.method == "value_share":
            if len(self.revenue_shares) != need:
                raise ValueError(
                    f"tiers.revenue_shares needs one share per tier but the last ({need}), got {self.revenue_shares}"
                )
            if any(x <= 0 for x in self.revenue_shares) or sum(self.revenue_shares) >= 1:
                raise ValueError(
                    f"tiers.revenue_shares must be positive and add up to less than 1, got {self.revenue_shares}"
                )
        if self.method == "thresholds" and len(self.rules) != need:
            raise ValueError(
                f"tiers.rules needs one rule per tier but the last ({need} for {self.names}), got {len(self.rules)}"
            )
        return self


class SegmentRule(Strict):
    """One named RFM segment of the 11-group map: R score and FM score (mean of F and M) ranges,
    and the purchases a customer needs for it."""

    name: str
    name_zh: str
    r: tuple[float, float]  # inclusive score range
    fm: tuple[float, float]
    # at least this many purchases (frequency); a customer with fewer skips the rule and takes the
    # next one that matches. 2 keeps one-time buyers out of segments that mean "buys often".
    min_orders: int = Field(1, ge=1)


class ValueClass(Strict):
    """One class of the Chinese 8-class RFM model: high or low on each of R, F and M."""

    name_zh: str
    name: str
    r: Literal["high", "low"]  # high R = bought recently
    f: Literal["high", "low"]
    m: Literal["high", "low"]


def _default_segment_map() -> list[SegmentRule]:
    # Narrow rules come before the wide ones that would cover them: the first match wins.
    # Champions, Cannot lose them and Loyal describe customers who buy often: a one-time buyer
    # (F = 1, but M = 5 makes FM 3) falls through to Potential loyalists, Need attention or At risk.
    rows = [
        ("Champions", "冠军客户", (4, 5), (4, 5), 2),
        ("Cannot lose them", "不能失去的客户", (0, 1), (4, 5), 2),
        ("New", "新客户", (4, 5), (0, 1), 1),
        ("Promising", "有潜力客户", (3, 4), (0, 1), 1),
        ("Loyal", "忠诚客户", (2, 5), (3, 5), 2),
        ("Potential loyalists", "潜在忠诚客户", (3, 5), (1, 3), 1),
        ("Need attention", "需要关注客户", (2, 3), (2, 3), 1),
        ("About to sleep", "即将沉睡客户", (2, 3), (0, 2), 1),
        ("At risk", "流失风险客户", (0, 2), (2, 5), 1),
        ("Lost", "已流失客户", (0, 1), (0, 1), 1),
        ("Hibernating", "休眠客户", (0, 2), (0, 2), 1),
    ]
    return [SegmentRule(name=n, name_zh=z, r=r, fm=fm, min_orders=k) for n, z, r, fm, k in rows]


def _default_value_classes() -> list[ValueClass]:
    rows = [
        ("重要价值客户", "Important value", "high", "high", "high"),
        ("重要发展客户", "Important to develop", "high", "low", "high"),
        ("重要保持客户", "Important to keep", "low", "high", "high"),
        ("重要挽留客户", "Important to win back", "low", "low", "high"),
        ("一般价值客户", "General value", "high", "high", "low"),
        ("一般发展客户", "General to develop", "high", "low", "low"),
        ("一般保持客户", "General to keep", "low", "high", "low"),
        ("一般挽留客户", "General to win back", "low", "low", "low"),
    ]
    return [ValueClass(name_zh=z, name=n, r=r, f=f, m=m) for z, n, r, f, m in rows]


class Segments(Strict):
    """Named RFM segments: the common 11-group map and the Chinese 8-class model, both editable."""

    # first matching rule wins; scores are on the 1..tiers.bins scale rescaled to 1..5
    rfm_map: list[SegmentRule] = Field(default_factory=_default_segment_map)
    value_classes: list[ValueClass] = Field(default_factory=_default_value_classes)
    # high / low in the 8-class model: R, F, M score against the mean or the median score
    split: Literal["mean", "median"] = "mean"


class Clusters(Strict):
    """Data-driven clusters of customers with purchases."""

    features: list[str] = Field(default_factory=lambda: ["recency_days", "frequency", "monetary", "aov", "tenure_days"])
    # columns to log-transform (log1p); None: every feature with skew above 1. Tenure is hardly
    # skewed but its log is what sets new customers apart, so the default logs all five.
    log: list[str] | None = Field(
        default_factory=lambda: ["recency_days", "frequency", "monetary", "aov", "tenure_days"]
    )
    method: Literal["kmeans", "gmm"] = "kmeans"
    k_min: int = Field(3, ge=2)
    k_max: int = Field(8, ge=2)
    # a k whose clustering has a cluster with less than this share of the clustered buyers is not
    # chosen (on the sample and on all buyers); 0 lets any clustering through
    min_share: float = Field(0.02, ge=0, lt=1)
    # for fitting, scaled features are clipped this many inter-quartile ranges beyond their
    # quartiles (Tukey's far-out fences), so outliers join a cluster instead of making one; None: off
    clip_iqr: float | None = Field(3.0, gt=0)
    sample_size: int = Field(5000, ge=100)  # silhouette is computed on a fixed-size sample
    bootstrap: int = Field(10, ge=0)  # resamples for the stability check (0: skip)
    seed: int = 20261001

    @model_validator(mode="before")
    @classmethod
    def _log_follows_features(cls, raw: object) -> object:
        # With chosen features and no chosen log list, log those of the default list still chosen.
        if isinstance(raw, dict) and "features" in raw and "log" not in raw and isinstance(raw["features"], list):
            default = cls.model_fields["log"].default_factory()
            return {**raw, "log": [c for c in default if c in raw["features"]]}
        return raw

    @model_validator(mode="after")
    def _range(self) -> Clusters:
        if self.k_max < self.k_min:
            raise ValueError(f"clusters.k_max ({self.k_max}) is below clusters.k_min ({self.k_min})")
        stray = [c for c in self.log or [] if c not in self.features]
        if stray:
            raise ValueError(f"clusters.log names {stray}, which are not in clusters.features {self.features}")
        if self.min_share * self.k_min > 1:
            raise ValueError(
                f"clusters.min_share ({self.min_share:g}) x clusters.k_min ({self.k_min}) is above 1: "
                f"no clustering into {self.k_min} or more clusters can give each that share"
            )
        return self


class Lifecycle(Strict):
    """Rules of the lifecycle stages, relative to each customer's own purchase cadence."""

    new_days: int = Field(90, ge=1)  # first purchase at most this many days ago -> new
    loyal_min_orders: int = Field(5, ge=2)  # loyal: at least this many purchases ...
    loyal_min_tenure_days: int = Field(365, ge=0)  # ... over at least this long a relationship
    at_risk_factor: float = Field(2.0, gt=0)  # silent for more than this x own cadence -> at risk
    churned_factor: float = Field(4.0, gt=0)  # ... more than this x own cadence -> churned
    default_cadence_days: float = Field(90.0, gt=0)  # cadence of customers with fewer than 3 purchases
    churned_days: int = Field(365, ge=1)  # silent longer than this -> churned whatever the cadence
    reactivated_gap_days: int = Field(180, ge=1)  # a recent purchase after a gap this long -> reactivated

    @model_validator(mode="after")
    def _order(self) -> Lifecycle:
        if self.churned_factor <= self.at_risk_factor:
            raise ValueError("lifecycle.churned_factor must be above lifecycle.at_risk_factor")
        return self


class Snapshots(Strict):
    """Observation dates at which the whole classification is recomputed, to follow migration."""

    dates: list[dt.date] | None = None  # None: the last `count` quarter ends before the observation date
    count: int = Field(4, ge=2)


class Studies(Strict):
    """Report settings."""

    min_customers: int = Field(30, ge=1)  # below this a region or tier study says so instead of charting
    kernel: str = "python3"  # Jupyter kernel that executes the studies (checked before a build starts)
    workers: int | None = Field(None, ge=1)  # parallel studies; None means one per CPU core
    # show customer ids in the HTML pages only masked ("C0•••57"); the exports keep them whole
    mask_ids: bool = False
    # customer attributes with one study per value, like regions and tiers (e.g. [customer_type,
    # industry]), and a page comparing the values side by side; checked against the customer
    # table's columns by `custseg process`. A numeric attribute needs its bands (demographics.bands):
    # one study per band, and one for the customers without a number
    by: list[str] = Field(default_factory=list)

    @field_validator("by")
    @classmethod
    def _by_names(cls, names: list[str]) -> list[str]:
        for name in names:
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
                raise ValueError(f"studies.by names {name!r}, which is not a column name")
        if len(set(names)) != len(names):
            raise ValueError("studies.by lists an attribute twice")
        return names


class Group(Strict):
    """A named customer group: its filter over the customer table and, optionally, its title in
    each report language. In the config either the filter alone (``b2b_vip: "customer_type ==
    'B2B'"``) or a mapping (``{filter: "...", title: High-value B2B, title_zh: 高价值企业客户}``),
    as custom markets and segments give their Chinese names."""

    # in the language of custseg.config.filters; parsed (never run) when the config loads
    filter: str
    title: str | None = Field(None, min_length=1)  # on pages, links and headings; None: the group's name
    title_zh: str | None = Field(None, min_length=1)  # on Chinese pages; None: title, else the name

    @model_validator(mode="before")
    @classmethod
    def _filter_alone(cls, raw: object) -> object:
        return {"filter": raw} if isinstance(raw, str) else raw

    @field_validator("filter")
    @classmethod
    def _parses(cls, text: str) -> str:
        try:
            parse_filter(text)
        except FilterError as error:
            raise ValueError(str(error)) from None
        return text

    def display(self, name: str, language: str) -> str:
        """The group's title in `language`: ``title_zh`` on Chinese pages, else ``title``, else `name`."""
        if language == "zh" and self.title_zh:
            return self.title_zh
        return self.title or name


#: The descriptive attributes of the customer table that every study profiles when present.
CANONICAL_ATTRIBUTES = ("customer_type", "industry", "company_size", "age_band", "acquisition_channel")


class Demographics(Strict):
    """Who the customers are: the customer-table attributes profiled against value, tiers,
    lifecycle, churn risk and satisfaction (the "Who they are" sections)."""

    # columns of the customer file profiled besides CANONICAL_ATTRIBUTES (as headed in the file),
    # e.g. [gender, membership_level]; intake keeps them as text
    attributes: list[str] = Field(default_factory=list)
    # numeric attribute -> the lower edges of its bands, ascending ({age: [18, 25, 35]} gives
    # "under 18", "18-24", "25-34", "35+"); a value that is not a number is "not given". An
    # attribute profiled here or one of studies.by (checked with the whole config)
    bands: dict[str, list[float]] = Field(default_factory=dict)

    @field_validator("attributes")
    @classmethod
    def _distinct(cls, names: list[str]) -> list[str]:
        clash = sorted(set(names) & set(CANONICAL_ATTRIBUTES))
        if clash:
            raise ValueError(f"{clash[0]!r} is profiled anyway; list only extra customer columns")
        if len(set(names)) != len(names):
            raise ValueError("an attribute is listed twice")
        return names

    @field_validator("bands")
    @classmethod
    def _ascending(cls, bands: dict[str, list[float]]) -> dict[str, list[float]]:
        for name, edges in bands.items():
            if not edges or any(b <= a for a, b in zip(edges, edges[1:])):
                raise ValueError(f"bands of {name!r} must be one or more edges in ascending order, got {edges}")
        return bands

    def profiled(self) -> tuple[str, ...]:
        """Every attribute to profile, canonical ones first."""
        return (*CANONICAL_ATTRIBUTES, *self.attributes)


class Preferences(Strict):
    """What customers prefer: the thresholds of the preference classes (custseg.segment.preferences)
    shown in the "What they prefer" sections and carried in the export's tags."""

    # a customer's leading category is their preference class when it holds at least this share of
    # their spend and its affinity (their share / the base's share x 100) is at least min_affinity;
    # else "mixed"
    category_min_share: float = Field(0.5, gt=0, le=1)
    category_min_affinity: float = Field(120.0, ge=100)
    # price class from the unit-price index (what the customer paid against each product's median
    # unit price, x 100), where line items give unit prices: at most this -> price-sensitive ...
    sensitive_price_index: float = Field(85.0, gt=0, lt=100)
    # ... at least this -> premium; between them standard
    premium_price_index: float = Field(115.0, gt=100)
    # without unit prices, from order values: at least this share of orders below their category's
    # lower quartile -> price-sensitive, at least this share above the upper quartile -> premium
    low_value_share: float = Field(0.6, gt=0, le=1)
    high_value_share: float = Field(0.6, gt=0, le=1)
    # contact channel class: the customer's most used channel when it holds at least this share of
    # their interactions, else "mixed"
    channel_min_share: float = Field(0.5, gt=0, le=1)
    # timing class: weekend when at least this share of orders fell on Saturday or Sunday ...
    weekend_min_share: float = Field(0.5, gt=0, le=1)
    # ... weekday when at most this share did; between them "mixed"
    weekday_max_share: float = Field(0.1, ge=0, lt=1)
    # price and timing classes need at least this many purchases (one order says nothing about a habit)
    min_orders: int = Field(2, ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> Preferences:
        if self.weekday_max_share >= self.weekend_min_share:
            raise ValueError(
                f"preferences.weekday_max_share ({self.weekday_max_share}) must be below "
                f"preferences.weekend_min_share ({self.weekend_min_share})"
            )
        return self


#: The keys of the per-tier defaults, written for the default tiers, best first.
DEFAULT_TIER_KEYS = ("high", "mid", "low")

_Value = TypeVar("_Value")


def by_position(defaults: Mapping[str, _Value], names: Sequence[str]) -> dict[str, _Value]:
    """Per-tier defaults written for ``[high, mid, low]``, given to the configured tiers by position.

    The best tier takes the ``high`` default, the worst the ``low`` one and every tier between
    them the ``mid`` one, whatever the tiers are called: with ``tiers.names: [vip, high, mid,
    low]``, ``vip`` gets ``high``'s 90 days of silence and the tier named ``high`` gets ``mid``'s.

    Parameters
    ----------
    defaults
        A mapping with the keys of :data:`DEFAULT_TIER_KEYS`.
    names
        ``tiers.names``, best first (at least two).

    Returns
    -------
    dict
        Tier name -> value, in the order of `names`.
    """
    keys = [DEFAULT_TIER_KEYS[0], *[DEFAULT_TIER_KEYS[1]] * (len(names) - 2), DEFAULT_TIER_KEYS[-1]]
    return {name: defaults[key] for name, key in zip(names, keys)}


def default_silence_days_by_tier() -> dict[str, int]:
    return {"high": 90, "mid": 120, "low": 180}


def default_playbook() -> dict[str, str]:
    return {
        "high": N_("personal call from the account manager within a week"),
        "mid": N_("personal e-mail with a tailored offer within two weeks"),
        "low": N_("automated win-back campaign"),
    }


class Churn(Strict):
    """Churn early warning: readable rules, a backtested churn model and the watch list."""

    horizon_days: int = Field(90, ge=7)  # churned = no completed order in the next this many days
    # silence: silent for more than silence_factor x own cadence (customers with at least
    # min_orders_for_cadence purchases), else more than the tier's limit in days
    silence_factor: float = Field(2.0, gt=0)
    min_orders_for_cadence: int = Field(3, ge=2)
    silence_days_by_tier: dict[str, int] = Field(default_factory=default_silence_days_by_tier)
    silence_days: int = Field(120, ge=1)  # limit of a tier not listed in silence_days_by_tier
    silence_min_days: int = Field(30, ge=0)  # a shorter silence never warns, whatever the cadence
    lost_after_days: int = Field(365, ge=1)  # silent longer than this: lost, no warnings, not on the watch list
    # trend: orders in the last 90 days at most trend_drop x the 90 days before, which held at
    # least trend_min_orders orders (so 1 -> 0 is not a trend)
    trend_drop: float = Field(0.5, ge=0, lt=1)
    trend_min_orders: int = Field(3, ge=1)
    satisfaction_low: float = Field(2.0, ge=1, le=5)  # latest score (1-5) at or below this
    satisfaction_drop: float = Field(1.0, gt=0)  # ... or latest this far below the earlier average
    # interactions: contacts in the last 90 days at most interactions_drop x the customer's
    # earlier rate per 90 days (over the 275 days before), which was at least interactions_min
    interactions_drop: float = Field(0.5, ge=0, lt=1)
    interactions_min: float = Field(2.0, gt=0)
    models: list[Literal["logistic", "gradient_boosting"]] = Field(
        default_factory=lambda: ["logistic", "gradient_boosting"], min_length=1
    )
    seed: int = 20261001
    # threads of the model fits (None: every core). One is steadier on a shared machine: threads
    # competing for busy cores made gradient boosting several times slower, not faster
    threads: int | None = Field(1, ge=1)
    min_history_days: int = Field(30, ge=0)  # order history needed before the earliest training date
    # the model learns from the buyers as they were at several past dates ("origins"), this many
    # days apart, counting back from observation date - horizon; at most max_origins of them
    # (13 monthly origins cover a year, so the coming window's season is among them)
    origin_step_days: int = Field(30, ge=7)
    max_origins: int = Field(13, ge=1)
    max_training_rows: int = Field(100_000, ge=1_000)  # customers x origins beyond this are sampled
    # a churn rate predicted for the validation window that misses the realised one by more than
    # this (0.05 = 5 points) is a warning on the pages
    max_rate_error: float = Field(0.05, gt=0, lt=1)
    min_customers_for_model: int = Field(200, ge=10)  # buyers needed in each backtest window
    min_churners: int = Field(30, ge=1)  # churners (and as many who stay) needed in each window
    playbook: dict[str, str] = Field(default_factory=default_playbook)  # tier -> recommended action
    default_action: str = N_("review the account and decide on a retention offer")  # tier not in the playbook
    watchlist_size: int = Field(500, ge=1)

    @model_validator(mode="after")
    def _consistent(self) -> Churn:
        if len(set(self.models)) != len(self.models):
            raise ValueError(f"churn.models lists a model twice: {self.models}")
        bad = {tier: days for tier, days in self.silence_days_by_tier.items() if days < 1}
        if bad:
            raise ValueError(f"churn.silence_days_by_tier must be at least 1 day, got {bad}")
        if self.lost_after_days <= self.silence_min_days:
            raise ValueError("churn.lost_after_days must be above churn.silence_min_days")
        return self


class Value(Strict):
    """Customer value: BG/NBD (P(alive), expected purchases) and Gamma-Gamma (order value), see custseg.segment.clv."""

    horizon_days: int = Field(365, ge=1)  # expected purchases and CLV over this many days after the observation date
    annual_discount_rate: float = Field(0.10, ge=0, lt=1)  # CLV: each month's revenue discounted at this yearly rate
    time_unit_days: int = Field(7, ge=1)  # time unit of recency, T and alpha (7: weeks)
    min_repeat_buyers: int = Field(100, ge=10)  # fewer customers with a repeat purchase: no value models, and why
    # true: a customer's expected order value is at most their largest purchase so far. False keeps
    # the model's value, which pulls small buyers towards the mean order value (the pages say for
    # how many buyers that is above anything they spent); see custseg.segment.clv.customer_value
    cap_order_value: bool = False
    # L2 penalty on the log-parameters added to the mean negative log-likelihood; 0 = plain
    # maximum likelihood, a small value (0.001) keeps the fit finite on awkward data; auto: the
    # holdout backtest chooses between 0 and 0.001 (custseg.segment.value_backtest)
    penalizer: float | Literal["auto"] = "auto"
    # the purchase model: BG/NBD, MBG/NBD (one-time buyers can drop out too) or auto (the backtest chooses)
    model: Literal["auto", "bgnbd", "mbgnbd"] = "auto"
    # which purchases Gamma-Gamma reads: the repeat ones (Fader & Hardie: the first purchase left
    # out), all of them (a one-time buyer's order tells about the next), or auto (the backtest chooses)
    order_value_purchases: Literal["auto", "repeat", "all"] = "auto"
    # days before the observation date held out to backtest the value models; None: the value
    # horizon, or half the history when that is shorter (the fit then sees as many days as it predicts)
    backtest_days: int | None = Field(None, ge=7)
    # a backtest error of predicted revenue above this share (whole base or a tier) is a warning on the page
    max_backtest_error: float = Field(0.2, gt=0)

    @field_validator("penalizer")
    @classmethod
    def _penalty_not_negative(cls, value: float | str) -> float | str:
        if not isinstance(value, str) and value < 0:
            raise ValueError(f"value.penalizer must be zero or positive (or auto), got {value}")
        return value




class StudyInfo(Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")  # used in folder names
    title: str
    language: Language = "en"  # the reports in output.reports are written in this language
    # the reports are also built in these languages, each in output.reports/<language>/
    other_languages: list[Language] = Field(default_factory=list)

    @model_validator(mode="after")
    def _distinct_languages(self) -> StudyInfo:
        languages = [self.language, *self.other_languages]
        if len(set(languages)) != len(languages):
            raise ValueError(
                f"study.other_languages {self.other_languages} repeats a language "
                f"(study.language is {self.language!r}); list each other language once"
            )
        return self

    @property
    def languages(self) -> list[str]:
        """Every report language, the main one first."""
        return [self.language, *self.other_languages]



def _known_timezone(name: str) -> bool:
    """Whether ``name`` is a time zone pandas can convert to (an IANA name such as ``Asia/Shanghai``)."""
    import pandas as pd

    try:
        pd.Timestamp("2024-01-01", tz="UTC").tz_convert(name)
    except (KeyError, ValueError, TypeError):
        return False
    return True

