"""The analyst's way in: one study's tables as DataFrames, and a page for any subset of customers.

::

    import custseg

    study = custseg.open("config/sample.yaml")        # processes the data first if it is not current
    study.customers                                     # one row per customer, with its CRM tags
    study.tagged("tier:high", "price:price-sensitive")  # customers carrying every tag
    b2b = study.subset("customer_type == 'B2B' and tier == 'high'", title="High-value B2B")
    b2b.customers                                       # the subset's customers
    b2b.page("reports/explore/b2b-high.html")           # its study page, as `custseg reports` builds one

Nothing here changes the production reports: a subset's page is written where it is asked to be,
from the same group notebook the reports use, and the config file is never edited. Filters are
the language of the config's ``groups`` (:mod:`custseg.config.filters`): parsed and checked
against the customer table's columns, never evaluated as code.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from custseg import files, i18n, paths, pipeline, processed
from custseg.config import Config, load_config
from custseg.exports import segment_export
from custseg.report.html import provenance, render_html
from custseg.report.kernels import execute_study
from custseg.segment.groups import members
from custseg.studies import GroupStudy


class ExploreError(ValueError):
    """A request the study cannot answer (no processed data, an unknown table or tag), with what to do."""


@dataclass(frozen=True)
class Subset:
    """Customers kept by a filter, with their orders; :meth:`study` and :meth:`page` show them."""

    parent: Study
    filter: str
    title: str
    customers: pd.DataFrame = field(repr=False)
    orders: pd.DataFrame = field(repr=False)

    def __repr__(self) -> str:
        return f"Subset({self.title!r}: {len(self.customers):,} customers, {len(self.orders):,} orders)"

    def study(self, language: str = "") -> GroupStudy:
        """The subset's study in `language` ("": the config's): in JupyterLab each section method
        (``.key_figures()``, ``.revenue()``, ...) shows its table or chart, as on the page."""
        return GroupStudy.from_config(self.parent.config, language, filter=self.filter, title=self.title)

    def page(self, path: str | Path, language: str = "") -> Path:
        """Write the subset's study page to `path` (an .html file; its folder is made) and return it.

        The page is made as ``custseg reports`` makes a group's: the group notebook runs in a kernel,
        then becomes one self-contained HTML file with the same theme and footer.
        """
        config = self.parent.config
        language = i18n.check_language(language or config.study.language)
        target = Path(path).resolve()
        if target.suffix != ".html":
            raise ExploreError(f"{path}: a study page is an .html file")
        with tempfile.TemporaryDirectory(prefix="custseg-subset-") as work:
            executed = Path(work) / "subset.ipynb"
            execute_study(paths.TEMPLATES["group"], executed, {
                "config_path": str(config.source), "language": language, "group": "", "attribute": "",
                "value": "", "filter": self.filter, "title": self.title,
            }, config.studies.kernel)
            with i18n.language(language):
                title = i18n._(GroupStudy.title).format(label=self.title)
            html = render_html(executed, title=title, index_href=None, provenance=provenance(self.parent.meta),
                               language=language)
        files.write_text(target, html)
        return target


@dataclass(frozen=True)
class Study:
    """One processed study: its config, its facts (``meta``, study.json) and its tables."""

    config: Config
    meta: processed.StudyMeta = field(repr=False)
    customers: pd.DataFrame = field(repr=False)
    orders: pd.DataFrame = field(repr=False)
    tables: Mapping[str, pd.DataFrame] = field(repr=False)

    def __repr__(self) -> str:
        return (f"Study({self.config.study.name!r}: {len(self.customers):,} customers, {len(self.orders):,} orders, "
                f"observed {self.meta.observation_date}; tables: {', '.join(sorted(self.tables))})")

    @property
    def snapshots(self) -> pd.DataFrame:
        """Every customer's tier, segment and lifecycle at each snapshot date (tier migration)."""
        return self.table("snapshots")

    @property
    def watch_list(self) -> pd.DataFrame:
        """The customers the churn warnings name, most valuable first."""
        return self.table("watch_list")

    @property
    def models(self) -> dict[str, object]:
        """How the study's models came out: clusters, churn and value (study.json's blocks)."""
        return {"clusters": self.meta.clusters, "churn": self.meta.churn, "value": self.meta.value}

    def table(self, name: str) -> pd.DataFrame:
        """A processed table by name (:data:`custseg.processed.TABLES`); a copy, to change at will."""
        if name in {"customers", "orders"}:
            return getattr(self, name).copy()
        if name not in self.tables:
            known = ", ".join(["customers", "orders", *sorted(self.tables)])
            raise ExploreError(f"this study has no table {name!r}; it has: {known}")
        return self.tables[name].copy()

    def tagged(self, *tags: str) -> pd.DataFrame:
        """The customers carrying every one of `tags` (``tier:high``, ``group:b2b_high_value``,
        ``prefers:electronics``: the export's ``tags`` column)."""
        if not tags:
            return self.customers.copy()
        known = set(self.customers["tags"].str.split(";").explode().dropna())
        unknown = [tag for tag in tags if tag not in known]
        if unknown:
            names = sorted({tag.split(":")[0] for tag in known if tag})
            raise ExploreError(f"no customer carries the tag {unknown[0]!r}; tags are name:value with the names "
                               f"{', '.join(names)} (see the tags column)")
        # ";a;b;" holds ";a;" exactly when a is one of its tags (plain text search: nothing to escape)
        fenced = ";" + self.customers["tags"] + ";"
        keep = pd.concat([fenced.str.contains(f";{tag};", regex=False) for tag in tags], axis=1).all(axis=1)
        return self.customers.loc[keep.to_numpy(dtype=bool)].copy()

    def select(self, filter: str) -> pd.DataFrame:
        """The customers a filter keeps (the language of the config's ``groups``)."""
        return self.customers.loc[self._mask(filter, "select")].copy()

    def subset(self, filter: str, title: str = "") -> Subset:
        """The customers a filter keeps and their orders, to study or to make a page of."""
        keep = self._mask(filter, title or "subset")
        customers = self.customers.loc[keep].copy()
        orders = self.orders.loc[self.orders["customer_id"].isin(customers["customer_id"])].copy()
        return Subset(self, filter, title or filter, customers, orders)

    def _mask(self, filter: str, name: str) -> np.ndarray:
        # members parses the filter and checks its columns (FilterError naming them) before it runs
        return members(self.customers, name, filter).to_numpy(dtype=bool)


def open(config: str | Path | Config = paths.DEFAULT_CONFIG, *, process: bool = True) -> Study:
    """Open a study: its processed tables as DataFrames, processing the data first when needed.

    Parameters
    ----------
    config
        A study config file (relative to the working folder) or a loaded :class:`~custseg.config.Config`.
    process
        Run intake and segmentation when the processed data is missing or out of date (as
        ``custseg process`` would). False: refuse instead, saying why it is out of date.

    Returns
    -------
    Study
        ``customers`` (with the export's ``tags`` column), ``orders``, every other processed table
        in ``tables`` (and :meth:`Study.table`), ``meta`` (study.json) and ``models``.
    """
    config = config if isinstance(config, Config) else load_config(config)
    reason = pipeline.stale_reason(config)
    if reason is not None:
        if not process:
            raise ExploreError(f"{config.source}: the processed data is not current ({reason}); run "
                               f"`custseg process --config {config.source}` or open it with process=True")
        pipeline.run(config, echo=lambda *_: None)
    data = processed.load(config)
    # the CRM export's tags and cluster names, made as the export makes them (cluster tags included)
    names = {int(k): v for k, v in data.meta.clusters.names.items()} if data.meta.clusters.k else None
    export = segment_export(data.customers, names).set_index("customer_id")
    added = [c for c in ("cluster_name", "tags") if c in export and c not in data.customers]
    customers = data.customers.join(export[added], on="customer_id")
    return Study(config, data.meta, customers, data.orders, dict(data.tables))
