"""Files for other systems: the customer classification as a CRM can import it.

``customer_segments.csv`` is UTF-8 with a byte-order mark, because Excel (the tool most CRM
imports pass through) reads a BOM-less UTF-8 file as the local code page and garbles Chinese
text. A Parquet copy with proper types sits next to it for analysts and pipelines. Text cells
that a spreadsheet would run as a formula (an id or a city such as ``=HYPERLINK(...)``) are
neutralised in the CSV only (:func:`custseg.files.write_csv`); the Parquet copy keeps them as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from custseg import files, i18n, words

#: Columns of the export, in order; those a study does not have (no clusters, say) are left out.
EXPORT_COLUMNS = (
    "customer_id", "market", "country_iso3", "country_en", "province", "city", "region",
    "tier", "r_score", "f_score", "m_score", "rfm_score", "segment", "segment_zh",
    "value_class", "value_class_en", "cluster", "cluster_name", "lifecycle",
)

#: Columns that become CRM tags, as ``name:value`` pairs in this order.
TAG_COLUMNS = ("tier", "segment", "value_class", "cluster_name", "lifecycle", "market")
_TAG_NAMES = {"cluster_name": "cluster"}
#: Preference classes that become tags after them (custseg.segment.preferences), each by its tag
#: name; "mixed" (no leading category, channel or habit) is no tag: nobody targets it.
PREFERENCE_TAGS = {"preference_class": "prefers", "price_class": "price", "channel_class": "channel",
                   "timing_class": "timing"}


def _tag_value(values: pd.Series) -> pd.Series:
    # ";" separates tags and ":" separates a tag's name from its value, so neither may appear
    # inside a value that comes from the data (a region or cluster name).
    return values.astype("str").str.replace(r"[;:]", ",", regex=True).str.strip()


def crm_tags(customers: pd.DataFrame) -> pd.Series:
    """``tier:high;segment:Champions;market:East China`` per customer, then the preference classes
    (``prefers:electronics;price:price-sensitive;channel:email;timing:weekend``, none for "mixed"),
    then ``group:<name>`` for each named group the customer is in (the ``groups`` column); missing
    values are skipped."""
    tags = pd.Series("", index=customers.index, dtype="str")
    for column in (*TAG_COLUMNS, *PREFERENCE_TAGS):
        if column not in customers:
            continue
        values = customers[column]
        present = values.notna()
        if column in PREFERENCE_TAGS:
            present &= values.astype("object").ne("mixed").to_numpy(dtype=bool)
        name = PREFERENCE_TAGS.get(column) or _TAG_NAMES.get(column, column)
        text = (name + ":" + _tag_value(values[present]))
        joined = tags[present].where(tags[present].eq(""), tags[present] + ";") + text
        tags = tags.where(~present, joined.reindex(tags.index))
    if "groups" in customers:  # group names are slugs: "a;b" becomes "group:a;group:b"
        names = customers["groups"].fillna("").astype("str")
        member = names.ne("")
        text = "group:" + names[member].str.replace(";", ";group:", regex=False)
        joined = tags[member].where(tags[member].eq(""), tags[member] + ";") + text
        tags = tags.where(~member, joined.reindex(tags.index))
    return tags


def cluster_names(cluster: pd.Series, names: Mapping[int, Mapping | str]) -> pd.Series:
    """Each customer's cluster name in English words (:func:`custseg.words.cluster_name`).

    Parameters
    ----------
    cluster
        The customers' cluster ids (``Int64``, ``<NA>``: not clustered).
    names
        Cluster id -> its name as a fact (``ClusterResult.names``).

    Returns
    -------
    pd.Series
        A categorical aligned to `cluster`, its categories the names in cluster id order.
    """
    ids = sorted(names)
    with i18n.language("en"):
        said = [words.cluster_name(names[c]) for c in ids]
    # the names as codes of the cluster ids (-1 where none): a map would write a million strings
    codes = pd.Index(ids, dtype="Int64").get_indexer(cluster.array)
    return pd.Series(pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(said)), index=cluster.index)


def segment_export(customers: pd.DataFrame, clusters: Mapping[int, Mapping | str] | None = None) -> pd.DataFrame:
    """One row per customer with region levels, tier, scores, segments, cluster, lifecycle and tags.

    Personal data (names, e-mails, phones) never reaches the processed customer table, so it
    cannot reach the export either. `clusters` (cluster id -> name as a fact,
    ``ClusterResult.names``) adds ``cluster_name``, the names in English words.
    """
    if clusters and "cluster" in customers:
        customers = customers.assign(cluster_name=cluster_names(customers["cluster"], clusters))
    columns = [c for c in EXPORT_COLUMNS if c in customers]
    export = customers[columns].assign(tags=crm_tags(customers))
    return export.sort_values("customer_id", kind="stable").reset_index(drop=True)


def write_segment_export(customers: pd.DataFrame, folder: Path,
                         clusters: Mapping[int, Mapping | str] | None = None) -> dict[str, Path]:
    """Write ``customer_segments.csv`` (UTF-8 with BOM, formulas neutralised) and
    ``customer_segments.parquet``; `clusters` as :func:`segment_export`."""
    export = segment_export(customers, clusters)
    return {
        "csv": files.write_csv(export, folder / "customer_segments.csv"),
        "parquet": files.write_parquet(export, folder / "customer_segments.parquet"),
    }


#: Column of the exported watch list (after ``value``) that says what the value is.
VALUE_BASIS_COLUMN = "value_basis"


def watch_list_export(watch_list: pd.DataFrame, value_basis: Mapping | None = None) -> pd.DataFrame:
    """The watch list as other systems get it: its reasons in English words, and what its value is.

    The export is one file for every reader, so its reasons are English
    (:func:`custseg.words.churn_reasons`), whatever the reports' language; the processed watch list
    keeps them as facts. `value_basis` (what value means in the run, study.json ``value.basis``,
    :func:`custseg.segment.retention.value_basis`) adds ``value_basis`` after ``value``, in a few
    English words (:func:`custseg.words.value_label`).
    """
    export = watch_list
    if "reasons" in watch_list:
        with i18n.language("en"):
            reasons = [words.churn_reasons(reason) for reason in watch_list["reasons"]]
        export = export.assign(reasons=pd.array(reasons, dtype="str"))
    if value_basis:
        where = export.columns.get_loc("value") + 1 if "value" in export.columns else len(export.columns)
        export = export.copy()
        label = words.value_label(value_basis)
        export.insert(where, VALUE_BASIS_COLUMN, pd.array([label] * len(export), dtype="str"))
    return export


def write_watch_list(watch_list: pd.DataFrame, folder: Path, value_basis: Mapping | None = None) -> dict[str, Path]:
    """Write ``churn_watchlist.csv`` (UTF-8 with BOM, for Excel) and ``churn_watchlist.parquet``.

    The list is :func:`custseg.segment.churn.watch_list`: ranked by value at risk, with the reasons
    (in English words, :func:`watch_list_export`), what its value is (`value_basis`, as there) and
    the tier's recommended action, and no names, e-mails or phones. Formulas are neutralised in the
    CSV as in :func:`write_segment_export`.
    """
    export = watch_list_export(watch_list, value_basis)
    return {
        "csv": files.write_csv(export, folder / "churn_watchlist.csv", float_format="%.4f"),
        "parquet": files.write_parquet(export, folder / "churn_watchlist.parquet"),
    }
