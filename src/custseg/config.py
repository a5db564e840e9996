"""Study configuration: one YAML file, validated into typed objects when it is loaded.

Relative paths in a config file are resolved against the folder that holds the config file, so a
config can sit next to the exports it describes. Unknown keys are errors, not silently ignored:
a typo such as ``obervation_date`` would otherwise quietly fall back to a default.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from custseg import paths

Language = Literal["en", "zh"]
RegionLevel = Literal["market", "country", "province"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class InputFile(_Strict):
    """One input table: where it is and how to read it."""

    path: Path
    format: Literal["auto", "csv", "excel", "parquet"] = "auto"  # auto: from the file suffix
    encoding: str = "auto"  # auto: BOM, else UTF-8, else GB18030 (GBK); or a Python codec name
    delimiter: str | None = None  # None: sniffed from the header line among , ; tab |
    sheet: str | int | None = None  # Excel: sheet name or 0-based position; None: the first sheet
    date_format: str | None = None  # strftime pattern; None lets pandas read ISO dates
    # canonical custseg column name -> the header used in the user's file
    columns: dict[str, str] = Field(default_factory=dict)


class Inputs(_Strict):
    """The tables of a study: either orders (plus optional customers, interactions, feedback) or
    one line-item table as online shops export it, from which orders and customers are derived."""

    orders: InputFile | None = None
    line_items: InputFile | None = None
    customers: InputFile | None = None
    interactions: InputFile | None = None
    feedback: InputFile | None = None

    @model_validator(mode="after")
    def _one_order_source(self) -> Inputs:
        if (self.orders is None) == (self.line_items is None):
            raise ValueError(
                "give exactly one of inputs.orders (a table of orders) or inputs.line_items "
                "(one row per invoice line, as online shops export it)"
            )
        return self

    def present(self) -> dict[str, InputFile]:
        """The tables that are configured, by name."""
        return {name: spec for name, spec in self if spec is not None}


def _default_statuses() -> dict[str, list[str]]:
    return {
        "completed": ["completed", "complete", "paid", "shipped", "delivered", "success",
                      "已完成", "完成", "已付款", "已发货", "已收货", "交易成功"],
        "cancelled": ["cancelled", "canceled", "void", "voided", "已取消", "取消", "交易关闭"],
        "refunded": ["refunded", "refund", "returned", "return", "已退款", "退款", "退货", "已退货"],
    }


class Cleaning(_Strict):
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
    # line items: item codes that are not products (postage, fees, manual adjustments)
    non_product_items: list[str] = Field(
        default_factory=lambda: ["POST", "DOT", "M", "BANK CHARGES", "AMAZONFEE", "CRUK", "D",
                                 "S", "PADS", "B", "C2", "ADJUST"]
    )
    non_product_lines: Literal["exclude", "include"] = "exclude"  # exclude: kept, not revenue


class Currency(_Strict):
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


class Output(_Strict):
    """Where each stage writes. Every folder can be deleted and rebuilt by `make`."""

    interim: Path  # clean tables, quarantine and intake accounting
    processed: Path  # customer table and other analysis outputs
    reports: Path  # HTML for stakeholders; index.html on top
    build: Path  # executed notebooks, manifest, logs
    exports: Path  # files for other systems (CRM tags, watch lists)


class CustomMarket(_Strict):
    """A market with a Chinese name: ``{name_zh: 达契, countries: [DEU, AUT, CHE]}``."""

    countries: list[str]
    name_zh: str | None = None


class Regions(_Strict):
    """Region hierarchy settings."""

    level: RegionLevel = "market"  # one region study per value of this level
    # market name -> ISO-3 country codes (or a CustomMarket); wins over the default markets
    custom_markets: dict[str, list[str] | CustomMarket] = Field(default_factory=dict)

    def market_definitions(self) -> dict[str, list[str] | dict]:
        """Custom markets in the form :func:`custseg.regions.assign_markets` takes."""
        return {
            name: spec.model_dump(exclude_none=True) if isinstance(spec, CustomMarket) else list(spec)
            for name, spec in self.custom_markets.items()
        }


class Tiers(_Strict):
    """Value tiers from RFM scores."""

    names: list[str] = Field(default_factory=lambda: ["high", "mid", "low"])
    bins: int = Field(5, ge=2, le=10)  # quantile scores 1..bins per dimension
    # minimum total R+F+M score for each tier but the last, best tier first
    min_scores: list[int] = Field(default_factory=lambda: [12, 8])

    @model_validator(mode="after")
    def _consistent(self) -> Tiers:
        if len(self.names) < 2 or len(set(self.names)) != len(self.names):
            raise ValueError(f"tiers.names must hold at least two distinct names, got {self.names}")
        if len(self.min_scores) != len(self.names) - 1:
            raise ValueError(
                f"tiers.min_scores needs one threshold per tier but the last "
                f"({len(self.names) - 1} for {self.names}), got {self.min_scores}"
            )
        if any(a <= b for a, b in zip(self.min_scores, self.min_scores[1:])):
            raise ValueError(f"tiers.min_scores must fall strictly, best tier first: {self.min_scores}")
        return self


class Studies(_Strict):
    """Report settings."""

    min_customers: int = Field(30, ge=1)  # below this a region or tier study says so instead of charting
    kernel: str = "python3"  # Jupyter kernel that executes the studies
    workers: int | None = None  # parallel studies; None means one per CPU core


class StudyInfo(_Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")  # used in folder names
    title: str
    language: Language = "en"


class Config(_Strict):
    """A whole study configuration. Build it with :func:`load_config`."""

    study: StudyInfo
    inputs: Inputs
    currency: Currency = Currency()
    cleaning: Cleaning = Cleaning()
    observation_date: dt.date | None = None  # None: the day after the last order
    output: Output
    regions: Regions = Regions()
    tiers: Tiers = Tiers()
    studies: Studies = Studies()
    source: Path = Field(exclude=True)  # the YAML file this came from

    def fingerprint(self) -> str:
        """Hash of the validated settings: the same config always gives the same hash."""
        text = json.dumps(self.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


class ConfigError(ValueError):
    """A config file that cannot be used, with a message that names the file and the key."""


def _resolve(value: object, base: Path) -> object:
    return value if Path(str(value)).is_absolute() else (base / str(value)).resolve()


def _resolve_paths(raw: dict, base: Path) -> dict:
    """Make every path in a raw config absolute, relative to the config file's folder."""
    raw = dict(raw)
    inputs = {}
    for name, spec in (raw.get("inputs") or {}).items():
        if isinstance(spec, str):  # shorthand: `orders: path/to/orders.csv`
            spec = {"path": spec}
        if isinstance(spec, dict) and "path" in spec:
            spec = {**spec, "path": _resolve(spec["path"], base)}
        inputs[name] = spec
    raw["inputs"] = inputs
    if isinstance(raw.get("output"), dict):
        raw["output"] = {key: _resolve(value, base) for key, value in raw["output"].items()}
    return raw


def load_config(path: str | Path = paths.DEFAULT_CONFIG) -> Config:
    """Read and validate a study config.

    Parameters
    ----------
    path
        YAML file. Relative paths inside it are taken relative to its folder.

    Returns
    -------
    Config
        The validated, frozen configuration.

    Raises
    ------
    ConfigError
        When the file is missing, is not YAML, or has an unknown key or a bad value; the message
        names the file and the key.
    """
    path = Path(path).resolve()
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of settings at the top level")
    try:
        return Config.model_validate({**_resolve_paths(raw, path.parent), "source": path})
    except ValidationError as exc:
        problems = "\n".join(
            f"  {'.'.join(str(part) for part in err['loc'])}: {_explain(err)}" for err in exc.errors()
        )
        raise ConfigError(f"{path}: invalid config\n{problems}") from None


def _explain(err: dict) -> str:
    if err["type"] == "extra_forbidden":
        return "unknown key (check the spelling against docs/config.md)"
    if err["type"] == "missing":
        return "required key is missing"
    return err["msg"]
