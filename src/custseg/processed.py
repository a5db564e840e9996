"""The processed data: what the pipeline writes to ``output.processed`` and every page reads.

One contract between the two: :class:`StudyMeta` is study.json as a typed object (the facts about
how the data was made), :data:`TABLES` the list of processed tables, :func:`load` the one loader
the pages and the report builder use, and :func:`write_meta` / :func:`write_table` what the
pipeline writes through. study.json is written as it always was: the fields of
:class:`StudyMeta` in their order, as indented UTF-8 JSON.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from custseg import files
from custseg.config import Config

#: The metadata file of a processed folder, written last: it vouches for the files before it.
META_FILE = "study.json"


@dataclass(frozen=True)
class Table:
    """One processed table: its name (the key pages read it by) and its file."""

    name: str
    # written only when clusters were fitted, and removed when a later run fitted none (a page
    # must not show the clusters of an earlier run)
    clusters: bool = False

    @property
    def file(self) -> str:
        return f"{self.name}.parquet"


#: Every table the pipeline writes to the processed folder. The value backtest is written only
#: when the value models were checked, the cluster tables only when clusters were fitted; a page
#: says why a table is absent.
TABLES: tuple[Table, ...] = (
    Table("customers"), Table("orders"), Table("category_shares"), Table("snapshots"), Table("tier_effect"),
    Table("watch_list"), Table("churn_metrics"), Table("churn_calibration"), Table("churn_importance"),
    Table("churn_rules"), Table("value_backtest"), Table("value_candidates"), Table("demographics"),
    Table("cluster_profile", clusters=True), Table("cluster_selection", clusters=True),
)
_BY_NAME = {table.name: table for table in TABLES}

#: The tables the pages read besides the customers and orders (in ``ProcessedData.tables``).
PAGE_TABLES: tuple[str, ...] = (
    "cluster_profile", "cluster_selection", "snapshots", "tier_effect",
    "watch_list", "churn_metrics", "churn_calibration", "churn_importance", "churn_rules",
    "value_backtest", "value_candidates", "demographics",
)


@dataclass(frozen=True)
class Clusters:
    """study.json's ``clusters`` block: how the clusters were fitted and named."""

    method: str = ""
    k: int = 0  # 0: no clusters
    # cluster number (as text) -> its name as a fact (words, noun, repeat: custseg.segment.clusters
    # .cluster_name), worded by custseg.words.cluster_name (a text in a study.json of an older custseg)
    names: dict[str, dict[str, Any] | str] = field(default_factory=dict)
    seed: int = 0
    # why there are no clusters, or why they fall short of min_share: a fact worded by
    # custseg.words.cluster_note (a text in a study.json of an older custseg); None: neither
    note: dict[str, Any] | str | None = None
    # how the features were prepared and k was chosen, for the k-selection chart; None: processed
    # data of a version that did not record it
    log: list[str] | None = None
    clip_iqr: float | None = None
    clipped: dict[str, int] = field(default_factory=dict)
    min_share: float | None = None
    min_share_met: bool | None = None


@dataclass(frozen=True)
class ChurnSummary:
    """study.json's ``churn`` block: the churn backtest as :meth:`custseg.segment.churn.Backtest.summary`
    writes it. ``choice``, ``note`` and ``warnings`` are facts (codes and figures) that
    :mod:`custseg.words` words; ``metrics`` holds the rows of churn_metrics.parquet. Fields an older
    study.json lacks are None (a page then falls back on the config)."""

    observation_date: str | None = None
    train_date: str | None = None
    validation_date: str | None = None
    horizon_days: int | None = None
    origins: list[str] = field(default_factory=list)
    training_origins: list[str] = field(default_factory=list)
    seasonal: bool | None = None
    rate_error: float | None = None
    warnings: list[dict[str, Any]] = field(default_factory=list)
    chosen: str | None = None  # the chosen candidate's code
    choice: dict[str, Any] | str | None = None  # why it was chosen (a text in an older study.json)
    note: dict[str, Any] | str | None = None  # why no model was fitted; None: one was
    features: list[str] = field(default_factory=list)
    seed: int | None = None
    metrics: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


#: The fields of the value block written only when the value models were fitted (``fitted``).
_MODEL_FIELDS = (
    "method", "model", "parameters", "repeat_buyers", "customers", "frequency_value_correlation",
    "order_values", "time_unit_days", "note", "order_values_above_history", "cap_order_value",
)


@dataclass(frozen=True)
class ValueSummary:
    """study.json's ``value`` block, as :meth:`custseg.segment.retention.Retention.value_summary`
    writes it: what value means (``basis``, a fact; ``kind``: ``clv`` or the ``net_spend``
    stand-in, over ``days``), the models when they were fitted, why not (``error``), their backtest
    and the warnings (facts). ``fitted`` is None for a study.json that did not record it."""

    basis: dict[str, Any] | str | None = None
    fitted: bool | None = None
    kind: str | None = None
    days: int | None = None
    error: dict[str, Any] | str | None = None  # why the models could not be fitted
    method: str | None = None
    model: dict[str, Any] = field(default_factory=dict)  # the chosen specification
    parameters: dict[str, float | None] = field(default_factory=dict)
    repeat_buyers: int | None = None
    customers: int | None = None
    frequency_value_correlation: float | None = None
    order_values: str | None = None
    time_unit_days: int | None = None
    note: list[dict[str, Any]] | str | None = None  # value notes (facts)
    order_values_above_history: int | None = None
    cap_order_value: bool | None = None
    backtest: dict[str, Any] | None = None  # custseg.segment.value_backtest's summary
    warnings: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The block as the pipeline writes it: the model fields only when fitted, the error and the
        backtest only when there are some."""
        values = dataclasses.asdict(self)
        drop = {"error"} if self.error is None else set()
        drop |= set() if self.fitted else set(_MODEL_FIELDS)
        drop |= {"backtest"} if self.backtest is None else set()
        return {key: value for key, value in values.items() if key not in drop}


@dataclass(frozen=True)
class StudyMeta:
    """study.json: the facts about how the processed data was made, typed.

    Dates are ISO strings, as the file holds them. ``churn`` and ``value`` are the facts blocks
    of :mod:`custseg.segment.churn` (``Backtest.summary``) and :mod:`custseg.segment.retention`
    (``Retention.value_summary``), whose keys those modules define. Fields an older study.json
    lacks take their defaults.
    """

    study: str = ""
    title: str = ""
    language: str = "en"
    observation_date: str = ""
    base_currency: str = ""
    region_level: str = "market"
    mask_ids: bool = False
    tiers: list[str] = field(default_factory=list)  # config order, best first
    inputs: list[str] = field(default_factory=list)  # which input tables the study had
    customers: int = 0
    orders: int = 0
    clusters: Clusters = field(default_factory=Clusters)
    snapshot_dates: list[str] = field(default_factory=list)
    churn: ChurnSummary = field(default_factory=ChurnSummary)
    value: ValueSummary = field(default_factory=ValueSummary)
    watch_list: int | None = None  # None: an older run that did not count it
    config_fingerprint: str = ""
    data_fingerprint: str = ""
    run_fingerprint: str = ""
    custseg_version: str = ""
    # what the run wrote (folder key -> file name -> SHA-256), for the pipeline's staleness check
    files: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> StudyMeta:
        """Read study.json's content; a key this version does not know is an error (a study.json
        of a newer custseg: process the data again)."""
        values = dict(_known(cls, raw, "study.json"))
        if "clusters" in values:
            values["clusters"] = Clusters(**_known(Clusters, values["clusters"] or {}, "study.json clusters"))
        if "churn" in values:
            values["churn"] = ChurnSummary(**_known(ChurnSummary, values["churn"] or {}, "study.json churn"))
        if "value" in values:
            values["value"] = ValueSummary(**_known(ValueSummary, values["value"] or {}, "study.json value"))
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """study.json's content, fields in order."""
        values = dataclasses.asdict(self)
        return values | {"churn": self.churn.to_dict(), "value": self.value.to_dict()}


def _known(kind: type, raw: Mapping[str, Any], where: str) -> Mapping[str, Any]:
    """`raw`, when every key is a field of `kind`; raises ValueError naming the others (a
    study.json of a newer custseg)."""
    unknown = sorted(set(raw) - {f.name for f in dataclasses.fields(kind)})
    if unknown:
        raise ValueError(f"{where} has fields this custseg does not know: {unknown}; run `custseg process --force`")
    return raw


@dataclass(frozen=True)
class ProcessedData:
    """What a page reads: the customer and order tables, the metadata and the other tables of
    :data:`PAGE_TABLES` that the pipeline wrote.

    A table whose file is absent is not in ``tables``; every section that needs it shows a notice.
    """

    customers: pd.DataFrame
    orders: pd.DataFrame
    meta: StudyMeta
    tables: Mapping[str, pd.DataFrame] = field(default_factory=dict)

    def table(self, name: str) -> pd.DataFrame | None:
        """A table of ``tables``, or None when it is absent or empty."""
        table = self.tables.get(name)
        return None if table is None or table.empty else table


def meta_path(config: Config) -> Path:
    return config.output.processed / META_FILE


def read_meta(config: Config) -> StudyMeta:
    """study.json of a study's processed data.

    Raises
    ------
    FileNotFoundError
        When the pipeline has not run yet, with the command that runs it.
    """
    path = meta_path(config)
    if not path.is_file():
        raise FileNotFoundError(
            f"no processed data in {config.output.processed}: run `custseg run --config {config.source}` "
            "(or `make reports`) first"
        )
    return StudyMeta.from_dict(json.loads(path.read_text(encoding="utf-8")))


def load(config: Config, tables: tuple[str, ...] = PAGE_TABLES) -> ProcessedData:
    """Read a study's processed data (run the pipeline first).

    Parameters
    ----------
    config
        The study config.
    tables
        The other tables to read besides the customers and orders, those present; () reads none.
    """
    meta = read_meta(config)
    folder = config.output.processed
    found = {name: folder / _BY_NAME[name].file for name in tables}
    return ProcessedData(
        customers=pd.read_parquet(folder / _BY_NAME["customers"].file),
        orders=pd.read_parquet(folder / _BY_NAME["orders"].file),
        meta=meta,
        tables={name: pd.read_parquet(path) for name, path in found.items() if path.is_file()},
    )


def write_table(folder: Path, name: str, frame: pd.DataFrame) -> Path:
    """Write one table of :data:`TABLES` to a processed folder (atomically)."""
    return files.write_parquet(frame, folder / _BY_NAME[name].file)


def remove_cluster_tables(folder: Path) -> None:
    """Remove the cluster tables of an earlier run (before a run writes its own, if any)."""
    for table in TABLES:
        if table.clusters:
            (folder / table.file).unlink(missing_ok=True)


def write_meta(folder: Path, meta: StudyMeta) -> Path:
    """Write study.json, last: it vouches for the files written before it."""
    return files.write_json(folder / META_FILE, meta.to_dict())
