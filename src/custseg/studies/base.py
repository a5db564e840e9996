"""Sections of the region, tier and overview studies.

A study notebook makes one study object and calls one method per section; each method returns a
:class:`~custseg.studies.render.Table`, :class:`~custseg.studies.render.Chart` or :class:`~custseg.studies.render.Notice`
(or a few of them, shown one after the other) inside a :class:`~custseg.studies.render.Section`.
When a region or tier has too few customers, :meth:`_Study.notice` says so and every other
section returns ``None`` (which a notebook shows as nothing), instead of a page of empty charts.

Every text is written in the report language (:mod:`custseg.i18n`), chosen when the data is
loaded (:func:`load`): headings, leads, table headings, notices and chart texts are translated,
and so are the labels from the data (tiers, segments, lifecycle stages, clusters, regions,
categories), while the data keeps its own English keys.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pycountry

from custseg import i18n, words
from custseg.config import Config, PlaybookAction, Segments, Strategy, StrategyRule, TierRule, Tiers
from custseg.geo import regions
from custseg.i18n import N_, _, ngettext, pgettext
from custseg.intake import quality
from custseg.pipeline import StudyData, load_study_data
from custseg.report.build import ZH_COLUMNS, plan_studies, region_names
from custseg.segment import lifecycle, snapshots
from custseg.studies import render, strategy

#: The level below each region level, for the sub-region breakdown.
SUBLEVEL = {"market": "country_en", "country": "province", "province": "city"}


def section(heading: str, lead: str = "", *, pages: str = "placed") -> Callable:
    """Make a study method return a whole :class:`~custseg.studies.render.Section`, or None when the
    study has too little data (so no heading stands over an empty section).

    `heading` and `lead` are English texts marked with :func:`~custseg.i18n.N_`; they are
    translated into the report language each time the section is shown, then ``{label}`` (the
    study's name for its slice) is filled in. A method may return a tuple of tables, figures and
    notices; the section shows them in order.

    `pages` says which studies show the section: ``"placed"`` (every study but the "Unknown"
    region's, whose customers custseg could not place: comparisons and advice mean nothing
    there), ``"unplaced"`` (that page only) or ``"both"``. A study marks itself with an
    ``unplaced`` attribute; the "Unknown" page shows its sections whatever its size.
    """
    if pages not in ("placed", "unplaced", "both"):
        raise ValueError(f"pages must be placed, unplaced or both, got {pages!r}")

    def wrap(method: Callable) -> Callable:
        @functools.wraps(method)
        def inner(self, *args, **kwargs):
            unplaced = getattr(self, "unplaced", False)
            if (pages == "placed" and unplaced) or (pages == "unplaced" and not unplaced):
                return None
            if not unplaced and not getattr(self, "enough", True):
                return None
            content = method(self, *args, **kwargs)
            label = getattr(self, "label", "")
            items = content if isinstance(content, tuple) else (content,)
            return render.Section(
                _(heading).format(label=label), _(lead).format(label=label) if lead else "", *items
            )

        return inner

    return wrap


#: Processed tables that sections read besides the customers and orders, when the pipeline wrote
#: them (it writes the cluster files only when it fitted clusters).
EXTRA_TABLES: tuple[str, ...] = (
    "cluster_profile", "cluster_selection", "snapshots", "tier_effect",
    "watch_list", "churn_metrics", "churn_calibration", "churn_importance", "churn_rules",
    "value_backtest", "value_candidates",
)


@dataclass(frozen=True)
class ProcessedData(StudyData):
    """:class:`~custseg.pipeline.StudyData` plus the other processed tables of :data:`EXTRA_TABLES`.

    A table whose file is absent is not in ``tables``; every section that needs it shows a notice.
    """

    tables: Mapping[str, pd.DataFrame] = field(default_factory=dict)


def read_extra_tables(folder: Path) -> dict[str, pd.DataFrame]:
    """The tables of :data:`EXTRA_TABLES` found in a processed folder, by name.

    Parameters
    ----------
    folder
        The processed folder (``output.processed``).

    Returns
    -------
    dict[str, pd.DataFrame]
        One entry per Parquet file present; absent files are left out.
    """
    found = {name: folder / f"{name}.parquet" for name in EXTRA_TABLES}
    return {name: pd.read_parquet(path) for name, path in found.items() if path.is_file()}


def load(config: Config, language: str = "") -> ProcessedData:
    """Processed tables of a study (customers, orders, meta and the extra tables), with the report
    language and theme set.

    Parameters
    ----------
    config
        The study config.
    language
        The language the study is written in ("en" or "zh"); "" (the default): the config's
        ``study.language``. It is set for everything that follows (:func:`custseg.i18n.set_language`),
        as a notebook runs one study.
    """
    i18n.set_language(language or config.study.language)
    render.set_theme()
    data = load_study_data(config)
    return ProcessedData(data.customers, data.orders, data.meta, read_extra_tables(config.output.processed))


def _extra(data: StudyData, name: str) -> pd.DataFrame | None:
    """An extra processed table, or None when it is absent or empty (a plain StudyData has none)."""
    table = getattr(data, "tables", {}).get(name)
    return None if table is None or table.empty else table


def _zh() -> bool:
    """Whether the report is written in Chinese, where labels from the data use their Chinese names."""
    return i18n.current() == "zh"


def _no_column(columns: Sequence[str], frame: pd.DataFrame, what: str) -> render.Notice | None:
    """A notice naming the columns `what` needs that the customer table lacks; None when all are there.

    `what` is a noun phrase in the report language (translate it before passing it).
    """
    missing = [column for column in columns if column not in frame.columns]
    if not missing:
        return None
    return render.Notice(
        _(
            "The processed customer table has no {columns} column, so {what} cannot be shown. "
            "Run `custseg process --force` with this custseg version to add it."
        ).format(columns=", ".join(missing), what=what),
        kind="warning",
    )


def _mix(part: pd.Series, whole: pd.Series, order: Sequence[str], name: str) -> pd.DataFrame:
    """Customers per value in `part`, their share, the share in `whole` and an index (100 = as in whole).

    Parameters
    ----------
    part, whole
        One label per customer (missing labels are not counted), for the slice and for the base,
        already in the report language.
    order
        Row order; labels found in neither series are left out, labels found in the data but not in
        `order` follow it.
    name
        Name of the index (the first column of the table), in the report language.

    Returns
    -------
    pd.DataFrame
        Customers, Share here, Share in base, Index (headings in the report language; see
        :func:`_mix_formats`).
    """
    here = part.dropna().astype("str").value_counts()
    base = whole.dropna().astype("str").value_counts()
    labels = [*order, *sorted((set(here.index) | set(base.index)) - set(order))]
    labels = [label for label in labels if here.get(label, 0) or base.get(label, 0)]
    counts = here.reindex(labels, fill_value=0)
    share = counts / counts.sum() if counts.sum() else counts.astype("float64")
    base_share = base.reindex(labels, fill_value=0) / base.sum() if base.sum() else base.reindex(labels).astype("float64")
    table = pd.DataFrame({
        _("Customers"): counts,
        _("Share here"): share,
        _("Share in base"): base_share,
        _("Index"): (100 * share / base_share.where(base_share > 0)),
    })
    table.index.name = name
    return table


#: Marks an index computed on fewer customers than ``studies.min_customers``.
FEW_MARK = "‡"


def _mix_formats() -> dict[str, Callable[[object], str]]:
    """How the columns of a :func:`_mix` table are written, by their headings in the report language."""
    return {_("Customers"): render.integer, _("Share here"): render.percent, _("Share in base"): render.percent,
            _("Index"): render.index_points}


def _order(column: pd.Series) -> list[str]:
    """The categories of a categorical column in config order; [] for other columns."""
    dtype = column.dtype
    return [str(c) for c in dtype.categories] if isinstance(dtype, pd.CategoricalDtype) else []


def _tier_label(tier: object) -> str:
    """A tier's name in the report language ('high' / '高')."""
    return i18n.label("tier", tier)


def _within_level(within: str) -> str:
    """The region level of ``tiers.within`` in the report language."""
    return _region_level(within) if within != "region" else pgettext("region level", "region")


def tier_rules(settings: Tiers, currency: str) -> dict[str, str]:
    """What puts a customer in each tier, from the ``tiers`` settings, in the report language.

    Parameters
    ----------
    settings
        The ``tiers`` section of the config.
    currency
        The base currency, for the amounts of ``thresholds`` rules.

    Returns
    -------
    dict[str, str]
        Tier name (as configured, best first) -> its rule, a phrase without a final stop:
        "total score 12 or more" (``rfm``), "the next 30% of revenue" (``value_share``), "last
        order at most 59 days ago, at least 5 orders, net spend of at least ¥500" (``thresholds``).
    """
    names = list(settings.names)
    last = len(names) - 1
    rules: list[str] = []
    if settings.method == "rfm":
        cuts = settings.min_scores
        for i in range(len(names)):
            if i == 0:
                rules.append(_("total score {low:g} or more").format(low=cuts[0]))
            elif i < last:
                rules.append(_("total score from {low:g} to below {high:g}").format(low=cuts[i], high=cuts[i - 1]))
            else:
                rules.append(_("total score below {high:g}").format(high=cuts[-1]))
    elif settings.method == "value_share":
        for i in range(len(names)):
            share = render.share(settings.revenue_shares[i]) if i < last else ""
            rules.append(
                _("the largest spenders who make the first {share} of revenue").format(share=share) if i == 0
                else _("the next {share} of revenue").format(share=share) if i < last
                else _("the rest of the revenue")
            )
    else:
        rules = [_threshold_text(rule, currency) for rule in settings.rules] + [_("every buyer who meets none of these")]
    return dict(zip(names, rules))


def _threshold_text(rule: TierRule, currency: str) -> str:
    """The limits of one ``thresholds`` rule as a phrase ('every buyer' when it sets none)."""
    limits = []
    if rule.recency_max_days is not None:
        days = rule.recency_max_days
        limits.append(ngettext("last order at most {days:g} day ago", "last order at most {days:g} days ago",
                               int(days)).format(days=days))
    if rule.frequency_min is not None:
        count = rule.frequency_min
        limits.append(ngettext("at least {count:g} order", "at least {count:g} orders", int(count)).format(count=count))
    if rule.monetary_min is not None:
        limits.append(_("net spend of at least {amount}").format(amount=render.money(currency)(rule.monetary_min)))
    return i18n.join_list(limits) if limits else _("every buyer")


def tier_method_text(settings: Tiers, currency: str) -> str:
    """How the value tiers are made, in a few sentences written from the ``tiers`` settings.

    Each method gets its own words: ``rfm`` says how scores are made (and how ties are scored),
    their weights and the cut-offs; ``value_share`` that spend alone decides; ``thresholds``
    the limits of each tier.
    """
    rules = tier_rules(settings, currency)
    listed = i18n.join_clauses(_("{tier}: {rule}").format(tier=_tier_label(tier), rule=rule) for tier, rule in rules.items())
    within = ""
    if settings.within != "all" and settings.method != "thresholds":
        within = _("Scores and tiers are computed within each {level}: a customer is compared with the buyers of the same {level}.").format(
            level=_within_level(settings.within)
        )
    if settings.method == "value_share":
        return i18n.join_sentences([_(
            "Buying customers are ranked by net spend, largest first, and take their tier from their place in the "
            "cumulative revenue: {rules}. Spend alone decides: one large order can put a one-time buyer in the best "
            "tier, and net spend below zero counts as none."
        ).format(rules=listed), within])
    if settings.method == "thresholds":
        return _(
            "Each tier has fixed limits, checked from the best tier down, and the first tier whose limits a customer "
            "meets is theirs: {rules}."
        ).format(rules=listed)
    weights = {dim: w for dim, w in settings.weights.items() if w > 0}
    measures = [_("recency"), _("frequency"), _("monetary value")]
    if "i" in weights:
        measures.append(_("contacts in the last 90 days"))
    scores = _(
        "Every buying customer is scored 1-{bins} on {measures}: 1, plus one for every full {step} of the buyers "
        "the customer beats. Tied customers share the lowest score of their tie, so a tie is never scored above "
        "customers it does not beat and every one-time buyer has a frequency score of 1."
    ).format(bins=settings.bins, measures=i18n.join_list(measures), step=render.share(1 / settings.bins))
    if set(weights) == {"r", "f", "m"} and all(w == 1 for w in weights.values()):
        total = _("The tier follows from the sum of the three scores: {rules}.").format(rules=listed)
    else:
        letters = {"r": "R", "f": "F", "m": "M", "i": "I"}
        shown = i18n.join_list(f"{letters[dim]} × {w:g}" for dim, w in weights.items())
        total = _("The tier follows from the weighted total of the scores ({weights}): {rules}.").format(weights=shown, rules=listed)
    return i18n.join_sentences([scores, total, within])


def segment_purchase_rules(settings: Segments) -> list[str]:
    """One sentence per purchase minimum of the 11-group map ("Champions, Loyal need at least 2
    purchases, so no one-time buyer is among them."), in the report language; [] when no rule
    counts purchases."""
    needs: dict[int, list[str]] = {}
    for rule in settings.rfm_map:
        if rule.min_orders > 1:
            needs.setdefault(rule.min_orders, []).append(rule.name_zh if _zh() else rule.name)
    return [
        _("{segments} need at least {count} purchases, so no one-time buyer is among them.").format(
            segments=i18n.join_list(dict.fromkeys(names)), count=count
        )
        for count, names in sorted(needs.items())
    ]


def _segment_names(customers: pd.DataFrame) -> dict[str, str]:
    """RFM segment (English, as in the data) -> its name in the report language: the customer
    table's segment_zh in Chinese; empty in English or when the table has no Chinese names."""
    if not _zh() or not {"segment", "segment_zh"} <= set(customers.columns):
        return {}
    pairs = customers[["segment", "segment_zh"]].dropna().astype("str").drop_duplicates("segment")
    return dict(zip(pairs["segment"], pairs["segment_zh"]))


def _segment_labels(customers: pd.DataFrame, base: pd.DataFrame | None = None) -> pd.Series:
    """The RFM segment of each customer in the report language (names from `base`, default `customers`)."""
    names = _segment_names(customers if base is None else base)
    segments = customers["segment"].astype("string")
    return segments.map(lambda s: names.get(s, s), na_action="ignore") if names else segments


def _segment_order(customers: pd.DataFrame) -> list[str]:
    """The RFM segments in config order, named like :func:`_segment_labels`."""
    names = _segment_names(customers)
    return [names.get(segment, segment) for segment in _order(customers["segment"])]


def _value_class_labels(customers: pd.DataFrame) -> pd.Series:
    """The value class of each customer: '重要价值客户 (Important value)' in English (the Chinese
    class name with its English name), '重要价值客户' in Chinese."""
    zh = customers["value_class"].astype("string")
    if "value_class_en" not in customers or _zh():
        return zh
    return zh + " (" + customers["value_class_en"].astype("string") + ")"


def _value_class_order(customers: pd.DataFrame) -> list[str]:
    """The value classes in config order, labelled like :func:`_value_class_labels`."""
    zh = _order(customers["value_class"])
    if "value_class_en" not in customers or _zh():
        return zh
    pairs = customers[["value_class", "value_class_en"]].dropna().astype("str").drop_duplicates()
    english = dict(zip(pairs["value_class"], pairs["value_class_en"]))
    return [f"{name} ({english[name]})" for name in zh if name in english]


def _stage_label(stage: str) -> str:
    """A lifecycle stage in the report language: 'at_risk' -> 'At risk' / '流失风险客户'."""
    if _zh() and stage in lifecycle.STAGE_NAMES_ZH:
        return lifecycle.STAGE_NAMES_ZH[stage]
    return stage.replace("_", " ").capitalize()


def _region_level(level: str) -> str:
    """The name of a region level ('market', 'country', 'province') in the report language."""
    names = {
        "market": pgettext("region level", "market"),
        "country": pgettext("region level", "country"),
        "province": pgettext("region level", "province"),
    }
    return names.get(level, level)


def _region_names(data: StudyData) -> dict[str, str]:
    """Region (as in the data) -> its name in the report language; empty in English, and regions
    without a Chinese name keep their own."""
    return region_names(data.customers, data.meta.get("region_level", "market")) if _zh() else {}




def _place_names(frame: pd.DataFrame, column: str) -> pd.Series:
    """The places of a name column (country_en, province, city) in the report language: in
    Chinese the *_zh counterpart where the data has one, else the name as it is."""
    names = frame[column].astype("string")
    zh = ZH_COLUMNS.get(column)
    if _zh() and zh in frame:
        names = frame[zh].astype("string").fillna(names)
    return names


def _cluster_words() -> dict[str, str]:
    """The words of the generated cluster names (:func:`custseg.segment.clusters.cluster_name`) in the
    report language."""
    return {
        "new": pgettext("cluster", "new"),
        "recent": pgettext("cluster", "recent"),
        "lapsed": pgettext("cluster", "lapsed"),
        "occasional": pgettext("cluster", "occasional"),
        "frequent": pgettext("cluster", "frequent"),
        "big-basket": pgettext("cluster", "big-basket"),
        "small-basket": pgettext("cluster", "small-basket"),
        "high": pgettext("cluster", "high"),
        "low": pgettext("cluster", "low"),
        "spenders": pgettext("cluster", "spenders"),
        "buyers": pgettext("cluster", "buyers"),
        "customers": pgettext("cluster", "customers"),
    }


#: The nouns that end a generated cluster name.
_CLUSTER_NOUNS = frozenset({"spenders", "buyers", "customers"})


def cluster_label(name: str) -> str:
    """A generated cluster name in the report language.

    The pipeline names clusters in English from a fixed vocabulary (see
    :func:`custseg.segment.clusters.cluster_name`); in Chinese the name is composed from the words'
    translations: "Recent frequent high spenders" -> "近期高频高消费客户", "Big-basket buyers" ->
    "大单客户", "Average customers" -> "普通客户"; a " (2)" suffix is kept. A name with a word
    outside that vocabulary (a name a user gave), or one whose words have no translation, is
    shown unchanged, and so is every name in English.
    """
    if i18n.current() == i18n.LANGUAGES[0]:
        return name
    match = re.fullmatch(r"(.*?)((?: \(\d+\))?)", str(name))
    stem, suffix = match.group(1), match.group(2)
    if stem.lower() == "average customers":
        words = [pgettext("cluster", "Average customers")]
        known = words[0] != "Average customers"
    else:
        vocabulary = _cluster_words()
        parts = stem.lower().split(" ")
        # the generated names are one or more describing words, then one noun
        known = (
            len(parts) >= 2 and parts[-1] in _CLUSTER_NOUNS and not set(parts[:-1]) & _CLUSTER_NOUNS
            and all(part in vocabulary and vocabulary[part] != part for part in parts)
        )
        words = [vocabulary.get(part, part) for part in parts]
    if not known:
        return name
    return "".join(words) + suffix


def _feature_names() -> dict[str, str]:
    """The default cluster features in words, in the report language."""
    return {
        "recency_days": _("days since the last order"), "frequency": _("orders"), "monetary": _("net spend"),
        "aov": _("order value"), "tenure_days": _("tenure"),
    }


def _moves() -> dict[str, str]:
    """The rows and columns of a tier transition matrix that are not tiers, in the report language."""
    return {
        snapshots.NOT_YET: pgettext("snapshot", "not yet a customer"),
        snapshots.NO_TIER: pgettext("snapshot", "no tier"),
        snapshots.LEFT: pgettext("snapshot", "left"),
    }


def _move_label(value: object) -> str:
    """A row or column of a tier transition matrix (a tier, 'no tier', 'left', ...) in the report language."""
    text = str(value)
    return _moves().get(text) or _tier_label(text)


def _last_two(history: pd.DataFrame | None) -> tuple[dt.date, dt.date] | None:
    """The last two snapshot dates, or None when there are fewer than two."""
    if history is None or "snapshot_date" not in history:
        return None
    dates = pd.DatetimeIndex(history["snapshot_date"].drop_duplicates()).sort_values()
    return (dates[-2].date(), dates[-1].date()) if len(dates) >= 2 else None


def _short_history(data: StudyData, table: str) -> render.Notice:
    """Why a section on movement over time is empty: too few snapshots, or `table` was not read."""
    dates = data.meta.get("snapshot_dates", [])
    if len(dates) >= 2:
        return render.Notice(
            _(
                "The processed data has no {table} table ({table}.parquet), so movement between snapshots "
                "cannot be shown. Run `custseg process --force` with this custseg version to write it."
            ).format(table=table),
            kind="warning",
        )
    return render.Notice(
        ngettext(
            "The history is too short to show movement: the classification was recomputed at "
            "{count} snapshot date ({dates}), and migration needs two. Snapshot dates before the first "
            "customer appeared are dropped; a longer order history, or snapshots.dates in the config, gives more.",
            "The history is too short to show movement: the classification was recomputed at "
            "{count} snapshot dates ({dates}), and migration needs two. Snapshot dates before the first "
            "customer appeared are dropped; a longer order history, or snapshots.dates in the config, gives more.",
            len(dates),
        ).format(count=len(dates), dates=", ".join(dates) or _("none")),
        kind="info",
    )


def _no_clusters(data: StudyData) -> render.Notice:
    """Why there are no clusters, from the pipeline's facts (study.json, clusters.note)."""
    note = (data.meta.get("clusters") or {}).get("note")
    if not note:
        return render.Notice(
            _(
                "The processed data has no clusters (no cluster column or cluster files). Run "
                "`custseg process --force` with this custseg version to fit them."
            ),
            kind="warning",
        )
    return render.Notice(words.cluster_note(note), kind="info")


def _months(orders: pd.DataFrame) -> pd.Series:
    return orders["order_date"].dt.to_period("M").dt.to_timestamp()


def _default_market_name(name: str) -> str:
    """A default market's name in the report language ("Europe" / "欧洲"); other names as they are."""
    if _zh():
        return next((market.name_zh for market in regions.MARKETS if market.name == name), name)
    return name


#: What became of a value that was not placed, as the page says it.
_STATUS = {
    "unknown": N_("not recognised"),
    "market": N_("a group of countries: placed in {market}, country unknown"),
    "not_given": N_("says that no place was given: counted as not given"),
}


def _place_name(code: str | None) -> str:
    """A country (alpha-3) or subdivision (ISO 3166-2) code with its name in the report language."""
    if not code:
        return ""
    if "-" in code:
        subdivision = pycountry.subdivisions.get(code=code)
        return f"{subdivision.name} ({code})" if subdivision else code
    names = regions.normalize_countries(pd.Series([code]))
    name = names["country_zh" if i18n.current() == "zh" else "country_en"].iloc[0]
    return f"{name} ({code})" if isinstance(name, str) else code


def _hint(record: dict) -> str:
    """What to write in place of ??? in a value's alias line, in the report language."""
    if record["status"] == "not_given":
        return _("nothing to map; write a line only if this value does name a place")
    if record["suggestion"]:
        return _("close to {place}: check it before you add the line").format(place=_place_name(record["suggestion"]))
    if record["level"] == "province":
        return _("write one of the ISO 3166-2 codes of {country} in place of ???").format(
            country=_place_name(record["country_iso3"])
        )
    if record["status"] == "market":
        return _("write a country's ISO 3166-1 alpha-3 code in place of ??? to place these customers in one country")
    return _("write an ISO 3166-1 alpha-3 code (GBR) or a market's name (Europe) in place of ???")


def unplaced_table(unplaced: pd.DataFrame, currency: str, title: str = "") -> render.Table | None:
    """The values of :func:`custseg.intake.quality.unplaced_places` as a table in the report language.

    Parameters
    ----------
    unplaced
        Output of :func:`custseg.intake.quality.unplaced_places`.
    currency
        Base currency of the revenue.
    title
        Caption; empty: "Values that could not be placed, largest revenue first".

    Returns
    -------
    render.Table or None
        None when nothing is listed.
    """
    if unplaced.empty:
        return None
    records = unplaced.to_dict("records")
    said = {code: _(text) for code, text in _STATUS.items()}
    level, value, country, status = _("Level"), _("Value as typed"), _("Country"), _("What happened")
    customers, revenue, line, hint = _("Customers"), _("Revenue"), _("Config line that places it"), _("What to write")
    levels = {"country": _("Country"), "province": _("Province or state")}
    frame = pd.DataFrame({
        level: [levels[r["level"]] for r in records],
        value: [r["value"] if r["value"].strip() else _("(empty)") for r in records],
        country: [_place_name(r["country_iso3"]) for r in records],
        status: [said[r["status"]].format(market=_default_market_name(r["market"] or "")) for r in records],
        customers: unplaced["customers"].to_numpy(),
        revenue: unplaced["revenue"].to_numpy(),
        line: [r["alias"] or "–" for r in records],
        hint: [_hint(r) for r in records],
    })
    if not frame[country].str.strip().astype(bool).any():
        frame = frame.drop(columns=country)
    money = render.money(currency) if currency else render.decimal
    return render.Table(
        frame, title or _("Values that could not be placed, largest revenue first"),
        {customers: render.integer, revenue: lambda amount: "–" if pd.isna(amount) else money(amount)},
    )


class _Study:
    """What region and tier studies share: a slice of customers compared with the whole base.

    A subclass names its slice with ``label`` (in the report language, looked up each time it is
    shown) and its page title with ``title``, an English text with ``{label}`` marked with N_.
    """

    kind = "group"
    title: str  # the page title, an English text with {label} marked with N_

    def __init__(self, data: StudyData, mask: pd.Series, order_mask: pd.Series, min_customers: int) -> None:
        self.data, self.min_customers = data, min_customers
        self.customers = data.customers.loc[mask]
        self.orders = data.orders.loc[order_mask]
        self.base = data.customers
        self.currency = data.meta["base_currency"]
        self.buyers = self.customers.loc[self.customers["frequency"] > 0]
        self.enough = len(self.buyers) >= min_customers

    @property
    def label(self) -> str:
        """The study's name for its slice, in the report language."""
        raise NotImplementedError

    def _indexed(self, table: pd.DataFrame, title: str, formats: dict[str, Callable[[object], str]]) -> render.Section:
        """A table of indexes against the base, each beside its count of customers (column
        "Customers"); an index on fewer customers than studies.min_customers is marked, with a
        note under the table that says why."""
        count, index = _("Customers"), _("Index")
        few = table[count].lt(self.min_customers) & table[index].notna()
        shown = table.assign(**{index: [
            f"{render.index_points(value)} {FEW_MARK}" if small else render.index_points(value)
            for value, small in zip(table[index], few)
        ]})
        formats = {name: fmt for name, fmt in formats.items() if name != index}
        result = render.Table(shown, title, formats, numeric=[index])
        if not few.any():
            return result
        return result, render.Notice(_(
            "{mark} An index on fewer than {count} customers (studies.min_customers): a few customers more or less "
            "move it a lot, so read it as a hint, not a finding."
        ).format(mark=FEW_MARK, count=self.min_customers), kind="info")

    def heading(self) -> render.Heading:
        """Title of the page."""
        meta = self.data.meta
        return render.Heading(
            _(self.title).format(label=self.label),
            _("{title} · observation date {date} · amounts in {currency}").format(
                title=meta["title"], date=meta["observation_date"], currency=self.currency
            ),
        )

    def notice(self) -> render.Notice | None:
        """Why the study is short, when it is; nothing otherwise."""
        if self.enough:
            return None
        return render.Notice(
            _(
                "{label} has {buyers} customers with purchases, fewer than the {needed} this study needs for "
                "figures that mean something (studies.min_customers in the config). The sections below are left "
                "out on purpose; these customers are still counted in the overview and in their tiers."
            ).format(label=self.label, buyers=len(self.buyers), needed=self.min_customers),
            kind="warning",
        )

    @section(N_("Key figures"), N_("{label} against the whole customer base; an index of 100 means the same as the base, 150 means half as much again."), pages="both")
    def headline(self) -> render.Section | None:
        """Key figures of the slice against the whole base, with an index (100 = base)."""
        measure, whole_base, index = _("Measure"), _("Whole base"), _("Index")
        rows = []
        # Totals get no index: 100 x a region's customers over the base's is its share, not "the
        # same as the base"; the averages below are compared with the base's own
        for label, part, whole, fmt, compared in (
            (_("Customers"), len(self.customers), len(self.base), render.integer, False),
            (_("Customers with purchases"), len(self.buyers), int((self.base["frequency"] > 0).sum()), render.integer, False),
            (_("Revenue"), self.buyers["monetary"].sum(), self.base["monetary"].sum(), render.money(self.currency), False),
            (_("Average order value"), strategy.average_order_value(self.buyers), strategy.average_order_value(self.base), render.money(self.currency), True),
            (_("Orders per buying customer"), self.buyers["frequency"].mean(), self.base.loc[self.base["frequency"] > 0, "frequency"].mean(), render.decimal, True),
            (_("Median days since last order"), self.buyers["recency_days"].median(), self.base["recency_days"].median(), render.integer, True),
        ):
            rows.append({measure: label, self.label: fmt(part), whole_base: fmt(whole),
                         index: 100 * part / whole if compared and whole else None})
        revenue, base_revenue = self.buyers["monetary"].sum(), self.base["monetary"].sum()
        rows.insert(3, {measure: _("Share of the base's revenue"), self.label: render.percent(revenue / base_revenue) if base_revenue else "–",
                        whole_base: "100%", index: None})
        if {"revenue_90d", "revenue_prev_90d"} <= set(self.base.columns):
            rows.insert(4, {measure: _("Revenue growth, last 90 days against the 90 before"),
                            self.label: render.signed_percent(strategy.revenue_growth(self.buyers)),
                            whole_base: render.signed_percent(strategy.revenue_growth(self.base)), index: None})
        return render.Table(
            pd.DataFrame(rows), _("{label} against the whole customer base").format(label=self.label),
            {index: render.index_points}, numeric=[self.label, whole_base],
        )

    @section(N_("Revenue over time"), N_("Net revenue per calendar month (completed orders, refunds netted out, in the base currency)."))
    def monthly_revenue(self) -> render.Section | None:
        """Revenue per month of the slice."""
        monthly = self.orders.groupby(_months(self.orders))["revenue"].sum().rename_axis("month").reset_index()
        title = _("Monthly revenue, {label}").format(label=self.label)
        fig = render.new_figure()
        ax = fig.subplots()
        ax.plot(monthly["month"], monthly["revenue"], marker="o", markersize=3)
        ax.set(title=title, xlabel=_("Month"), ylabel=_("Revenue ({currency})").format(currency=self.currency))
        ax.set_ylim(bottom=0)  # revenue bars from zero, so a dip is not drawn as a collapse
        render.date_axis(ax)
        render.thousands_axis(ax.yaxis)
        peak = monthly.loc[monthly["revenue"].idxmax()]
        return render.Chart(
            fig, title,
            _("Line chart of monthly revenue for {label}; the highest month is {month} with {revenue:,.0f} {currency}.").format(
                label=self.label, month=render.month_year(peak["month"]), revenue=peak["revenue"], currency=self.currency
            ),
        )

    @section(N_("Product preferences"), N_("Which categories earn the revenue here, against the whole base: an index above 100 marks a category this group favours."))
    def category_mix(self) -> render.Section | None:
        """Revenue share per product category in the slice and in the base; index 100 = same as base."""
        here, in_base, index, count = _("Share here"), _("Share in base"), _("Index"), _("Customers")
        part = self.orders.groupby("category")["revenue"].sum()
        whole = self.data.orders.groupby("category")["revenue"].sum()
        bought = self.orders.loc[self.orders["status"].eq("completed")]
        table = pd.DataFrame({here: part / part.sum(), in_base: whole / whole.sum()}).fillna(0.0)
        table = table.assign(**{
            count: bought.groupby("category")["customer_id"].nunique().reindex(table.index, fill_value=0).astype("int64"),
            index: 100 * table[here] / table[in_base],
        }).sort_values(here, ascending=False)[[count, here, in_base, index]]
        table.index = table.index.map(lambda category: i18n.label("category", category))
        table.index.name = _("Category")
        return self._indexed(
            table, _("Product categories by revenue, {label}").format(label=self.label),
            {count: render.integer, here: render.percent, in_base: render.percent},
        )

    @section(N_("RFM segments"), N_("How {label}'s buying customers spread over the 11 RFM segments and the 8 value classes (RFM 八类客户), against the whole base: an index above 100 marks a segment over-represented here."))
    def segment_mix(self) -> render.Section | None:
        """Share of buying customers per 11-group segment and per 8-class value class, slice against base."""
        tables = []
        for column, what in (("segment", _("the 11 RFM segments")), ("value_class", _("the 8 value classes"))):
            missing = _no_column([column], self.base, what)
            if missing:
                tables.append(missing)
                continue
            if column == "segment":
                mix = _mix(_segment_labels(self.buyers, self.base), _segment_labels(self.base), _segment_order(self.base), _("Segment"))
                title = _("RFM segments, {label} against the whole base").format(label=self.label)
            else:
                mix = _mix(_value_class_labels(self.buyers), _value_class_labels(self.base), _value_class_order(self.base), _("Value class"))
                title = _("Value classes (8-class model), {label} against the whole base").format(label=self.label)
            section = self._indexed(mix, title, _mix_formats())
            tables.extend(section if isinstance(section, tuple) else (section,))
        return tuple(tables)

    @section(N_("Lifecycle stages"), N_("Where {label}'s customers stand in the relationship (judged against each customer's own buying rhythm), against the whole base."))
    def lifecycle_mix(self) -> render.Section | None:
        """Share of customers per lifecycle stage, slice against base."""
        missing = _no_column(["lifecycle"], self.base, _("lifecycle stages"))
        if missing:
            return missing
        label = lambda stages: stages.astype("string").map(_stage_label, na_action="ignore")  # noqa: E731
        mix = _mix(label(self.customers["lifecycle"]), label(self.base["lifecycle"]), [_stage_label(s) for s in lifecycle.STAGES], _("Stage"))
        return self._indexed(mix, _("Lifecycle stages, {label} against the whole base").format(label=self.label), _mix_formats())

    @section(N_("Clusters"), N_("The data-driven clusters (fitted on recency, frequency, spend, basket size and tenure) that {label}'s buying customers fall in, against the whole base."))
    def cluster_mix(self) -> render.Section | None:
        """Share of the slice's buying customers per cluster, against the base; a notice without clusters."""
        if "cluster_name" not in self.base or self.base["cluster_name"].isna().all():
            return _no_clusters(self.data)
        names = (self.data.meta.get("clusters") or {}).get("names") or {}
        order = [names[key] for key in sorted(names, key=int)] or _order(self.base["cluster_name"])
        label = lambda clusters: clusters.astype("string").map(cluster_label, na_action="ignore")  # noqa: E731
        mix = _mix(label(self.buyers["cluster_name"]), label(self.base["cluster_name"]), [cluster_label(n) for n in order], _("Cluster"))
        return self._indexed(mix, _("Clusters, {label} against the whole base").format(label=self.label), _mix_formats())

    @section(N_("Satisfaction"), N_("Satisfaction scores (1-5) and net promoter classes of {label}'s customers who gave feedback, against the whole base."))
    def satisfaction(self) -> render.Section | None:
        """Mean satisfaction and NPS classes of the slice against the base; a notice without feedback."""
        if "feedback" not in self.data.meta.get("inputs", ()):
            return render.Notice(
                _("This study has no feedback table (inputs.feedback), so satisfaction and NPS are not shown."),
                kind="info",
            )
        missing = _no_column(["satisfaction_mean", "satisfaction_latest", "nps_class"], self.base, _("satisfaction"))
        if missing:
            return missing
        rated = self.customers.loc[self.customers["satisfaction_mean"].notna()]
        if rated.empty:
            return render.Notice(
                _("None of the {count:,} customers of {label} gave feedback.").format(count=len(self.customers), label=self.label),
                kind="info",
            )
        base = self.base.loc[self.base["satisfaction_mean"].notna()]
        rows = [
            (_("Customers who gave feedback"), render.integer(len(rated)), render.integer(len(base))),
            (_("… share of all customers"), render.percent(len(rated) / len(self.customers)), render.percent(len(base) / len(self.base))),
            (_("Mean satisfaction (1-5)"), _score(rated["satisfaction_mean"].mean()), _score(base["satisfaction_mean"].mean())),
            (_("Mean latest satisfaction (1-5)"), _score(rated["satisfaction_latest"].mean()), _score(base["satisfaction_latest"].mean())),
        ]
        answers = [frame["nps_class"].dropna() for frame in (rated, base)]
        rows.append((_("Customers with an NPS answer"), *(render.integer(len(a)) for a in answers)))
        classes = {
            "promoter": _("Promoters (latest NPS answer)"),
            "passive": _("Passives (latest NPS answer)"),
            "detractor": _("Detractors (latest NPS answer)"),
        }
        # without answers there is no share and no score: a dash, not a measured 0% or +0
        shares = [a.value_counts(normalize=True) if len(a) else None for a in answers]
        for name, text in classes.items():
            rows.append((text, *(render.percent(s.get(name, 0.0)) if s is not None else render.MISSING for s in shares)))
        nps = lambda s: render.MISSING if s is None else f"{100 * (s.get('promoter', 0.0) - s.get('detractor', 0.0)):+.0f}"  # noqa: E731
        rows.append((_("Net promoter score (promoters − detractors)"), *(nps(s) for s in shares)))
        whole_base = _("Whole base")
        table = pd.DataFrame(rows, columns=[_("Measure"), self.label, whole_base])
        return render.Table(
            table, _("Satisfaction and NPS, {label} against the whole base").format(label=self.label),
            numeric=[self.label, whole_base],
        )

    @section(N_("Price sensitivity"), N_("How much {label}'s customers spend per order against the whole base: the spread of order values, and the share of orders below the base's lower quartile (the cheapest quarter of the base's orders), a sign of price-sensitive buying."))
    def price_sensitivity(self) -> render.Section | None:
        """Order values of the slice against the base: distribution and share of low-value orders."""
        here, whole = strategy.order_values(self.orders), strategy.order_values(self.data.orders)
        if here.empty or whole.empty:
            return render.Notice(_("{label} has no completed orders with a value to compare.").format(label=self.label), kind="info")
        low = whole.quantile(strategy.LOW_VALUE_QUANTILE)
        money = render.money(self.currency)
        whole_base = _("Whole base")
        rows = [
            (_("Median order value"), money(here.median()), money(whole.median())),
            (_("Orders in the top quarter of the base's values"), render.percent((here > whole.quantile(0.75)).mean()),
             render.percent((whole > whole.quantile(0.75)).mean())),
            (_("Orders below {amount} (the base's lower quartile)").format(amount=money(low)),
             render.percent((here < low).mean()), render.percent((whole < low).mean())),
        ]
        table = render.Table(pd.DataFrame(rows, columns=[_("Measure"), self.label, whole_base]),
                             _("Order values, {label} against the whole base").format(label=self.label),
                             numeric=[self.label, whole_base])
        fig = render.new_figure()
        ax = fig.subplots()
        bins = np.logspace(np.log10(whole.min()), np.log10(whole.max()), 30)
        # Each bar is its bin's share of the orders: a density would divide by the bins' widths in
        # currency, which on log-spaced bins piles the height onto the cheapest orders.
        for values, label, alpha, colour in ((whole, whole_base, 0.45, 1), (here, self.label, 0.65, 0)):
            ax.hist(values, bins=bins, weights=np.full(len(values), 1 / len(values)), alpha=alpha, label=label,
                    color=render.sns.color_palette()[colour])
        ax.set_xscale("log")
        ax.yaxis.set_major_formatter(lambda v, _pos: f"{v:.0%}")
        ax.set(title=_("Order values, {label} against the base").format(label=self.label),
               xlabel=_("Order value ({currency}, log scale)").format(currency=self.currency),
               ylabel=_("Share of orders"))
        ax.legend(frameon=False)
        return table, render.Chart(
            fig, _("Order values, {label}").format(label=self.label),
            _(
                "Overlaid histograms of order values on a log scale; the median order in {label} is "
                "{here:,.0f} {currency} against {whole:,.0f} {currency} in the whole base."
            ).format(label=self.label, here=here.median(), whole=whole.median(), currency=self.currency),
        )

    @section(N_("Seasonality"), N_("Each calendar month's share of the year's revenue in {label} against the whole base, over all years in the data: a month above the base's line is when {label} buys relatively more."))
    def seasonality(self) -> render.Section | None:
        """Revenue share per calendar month, slice against base."""
        def shares(orders: pd.DataFrame) -> pd.Series:
            by_month = orders.groupby(orders["order_date"].dt.month)["revenue"].sum().reindex(range(1, 13), fill_value=0.0)
            total = by_month.clip(lower=0).sum()
            return by_month.clip(lower=0) / total if total > 0 else by_month * np.nan
        here, whole = shares(self.orders), shares(self.data.orders)
        if here.isna().all():
            return render.Notice(_("{label} has no revenue to spread over the months.").format(label=self.label), kind="info")
        months = render.month_names()
        title = _("Revenue by calendar month, {label}").format(label=self.label)
        fig = render.new_figure()
        ax = fig.subplots()
        ax.bar(months, here.to_numpy(), label=self.label, color=render.sns.color_palette()[0])
        ax.plot(months, whole.to_numpy(), color="black", marker="o", markersize=3, label=_("Whole base"))
        ax.set(title=title, xlabel=_("Month"), ylabel=_("Share of the year's revenue"))
        ax.yaxis.set_major_formatter(lambda v, _pos: f"{v:.0%}")
        ax.legend(frameon=False)
        index = 100 * here / whole.replace(0, np.nan)
        peak, trough = index.idxmax(), index.idxmin()
        return render.Chart(
            fig, title,
            _(
                "Bars of each month's share of revenue in {label} with the whole base as a line; relative to the base "
                "{label} buys most in {peak} (index {peak_index:.0f}) and least in {trough} (index {trough_index:.0f})."
            ).format(label=self.label, peak=months[peak - 1], peak_index=index[peak], trough=months[trough - 1],
                     trough_index=index[trough]),
        )

    @section(N_("Customers at risk"), N_("Churn early warning for {label} against the whole base: customers flagged by the warning rules, the churn model's probability of no order in the coming period, and the value at risk (expected value x churn probability). The churn watch study explains the rules and how well the model did in its backtest."))
    def churn_risk(self) -> render.Section | None:
        """Warnings, churn probability and value at risk of the slice, and its top watch-list entries."""
        missing = _no_column(["warning_count", "churn_probability", "value_at_risk"], self.base, _("churn risk"))
        if missing:
            return missing
        here, whole = self.buyers, self.base.loc[self.base["frequency"] > 0]
        risk_total = whole["value_at_risk"].sum()
        horizon = (self.data.meta.get("churn") or {}).get("horizon_days")
        probability = (
            _("Mean probability of no order in the next {days} days").format(days=horizon) if horizon
            else _("Mean probability of no order in the coming period")
        )
        money = render.money(self.currency)
        rows = [
            (_("Customers with purchases"), render.integer(len(here)), render.integer(len(whole))),
            (_("… with at least one warning"), render.percent(here["warning_count"].gt(0).mean()),
             render.percent(whole["warning_count"].gt(0).mean())),
        ]
        scored = whole["churn_probability"].notna().any()
        if scored:
            risk_here = here["value_at_risk"].sum()
            rows += [
                (probability, render.percent(here["churn_probability"].mean()), render.percent(whole["churn_probability"].mean())),
                (_("Value at risk"), money(risk_here), money(risk_total)),
                (_("… share of the base's value at risk"), render.percent(risk_here / risk_total) if risk_total else render.MISSING,
                 render.percent(1.0)),
            ]
        whole_base = _("Whole base")
        table = render.Table(pd.DataFrame(rows, columns=[_("Measure"), self.label, whole_base]),
                             _("Churn risk, {label} against the whole base").format(label=self.label),
                             numeric=[self.label, whole_base])
        if not scored:
            table = (table, _no_churn_model(self.data))
        else:
            table = (table, *churn_warnings(self.data))
        table = table if isinstance(table, tuple) else (table,)
        watch = _extra(self.data, "watch_list")
        if watch is None:
            return *table, render.Notice(_("There is no watch list for this study: no customer qualified for it."), kind="info")
        mine = watch.loc[watch["customer_id"].isin(self.customers["customer_id"])].head(_WATCH_ROWS)
        if mine.empty:
            return *table, render.Notice(
                _("None of the customers of {label} is on the watch list.").format(label=self.label), kind="info"
            )
        shown = mine[["rank", "customer_id", "tier", "segment", "churn_probability", "value_at_risk", "reasons", "action"]]
        if self.data.meta.get("mask_ids"):
            shown = shown.assign(customer_id=shown["customer_id"].map(render.mask_id))
        segments = _segment_names(self.base)
        shown = shown.assign(
            tier=shown["tier"].astype("string").map(_tier_label, na_action="ignore"),
            segment=shown["segment"].astype("string").map(lambda s: segments.get(s, s), na_action="ignore"),
            # the pipeline keeps reasons as facts, worded here in the report language; actions are
            # English (the export is one file for all readers), a user's own action stays as written
            reasons=shown["reasons"].map(words.churn_reasons).astype("string"),
            action=shown["action"].astype("string").map(_, na_action="ignore"),
        )
        headings = {column: _(heading) for column, heading in _WATCH_HEADINGS.items()}
        return *table, render.Table(
            shown.rename(columns=headings),
            _("Top of the watch list in {label} (rank in the whole list; the full list is the churn watch-list export)").format(label=self.label),
            {headings["rank"]: render.integer, headings["churn_probability"]: render.percent,
             headings["value_at_risk"]: money},
        )


def _no_churn_model(data: StudyData) -> render.Notice:
    """Why a study shows no churn probability and no value at risk: the model was not fitted."""
    note = words.churn_model_note((data.meta.get("churn") or {}).get("note"))
    text = _("The churn model was not fitted, so there is no churn probability and no value at risk here; the "
             "warning rules apply alone.")
    if note:  # the pipeline's facts in words, as the churn page shows them
        text += " " + _("Why: {note}.").format(note=note)
    return render.Notice(text, kind="info")


def churn_warnings(data: StudyData) -> list[render.Notice]:
    """Where the churn probabilities can no longer be trusted as rates, in the report language.

    The backtest records facts (study.json ``churn.warnings``: a reason code and its figures);
    each becomes a sentence here, shown next to the probabilities and values at risk it qualifies.
    """
    facts = data.meta.get("churn") or {}
    horizon = facts.get("horizon_days")
    notices = []
    for warning in facts.get("warnings") or ():
        reason = warning.get("reason")
        if reason == "no_validation":
            text = _(
                "There was no out-of-time check of the churn model: the history holds {history:,} days, and a check "
                "needs {needed:,} (a first date to learn from, its {horizon}-day window, then the window it is "
                "checked on). The probabilities are the model's own, not recalibrated against what happened: read "
                "them as a ranking more than as rates."
            ).format(history=warning["history_days"], needed=warning["needed_days"], horizon=horizon)
        elif reason == "short_history":
            text = _(
                "The history holds {days:,} days, less than twice the {horizon}-day horizon: the model has seen few "
                "customers silent as long as some are now."
            ).format(days=warning["history_days"], horizon=warning["horizon_days"])
        elif reason == "season_not_observed":
            text = _(
                "The coming window ({start} to {end}) falls in weeks of the year that no date the model learnt from "
                "covers (the orders start on {history_start}), so its season could not be learnt. Between the dates "
                "that were observed, the share of buyers with no order in the next {horizon} days moved from {low} "
                "({low_date}) to {high} ({high_date}); expect the coming window's rate to be off by at least that much."
            ).format(start=warning["window_start"], end=warning["window_end"], history_start=warning["history_start"],
                     horizon=horizon, low=render.percent(warning["lowest_rate"]), low_date=warning["lowest_date"],
                     high=render.percent(warning["highest_rate"]), high_date=warning["highest_date"])
        elif reason == "rate_error":
            text = _(
                "Checked on {date}, the model's mean churn probability missed the churn rate that followed by {points:+.1f} "
                "points, more than the {limit:.1f} that churn.max_rate_error allows. The probabilities shown are "
                "recalibrated on that window, but the value at risk is only as sound as that."
            ).format(date=warning["date"], points=warning["points"], limit=warning["limit_points"])
        else:  # a reason this version does not know (study.json of a newer run): say nothing wrong
            continue
        notices.append(render.Notice(text, kind="warning"))
    return notices


#: Watch-list rows shown in a region or tier study.
_WATCH_ROWS = 10
_WATCH_HEADINGS = {
    "rank": N_("Rank"), "customer_id": N_("Customer"), "tier": N_("Tier"), "segment": N_("Segment"),
    "churn_probability": N_("Churn probability"), "value_at_risk": N_("Value at risk"), "reasons": N_("Warnings"),
    "action": N_("Recommended action"),
}


class RegionStudy(_Study):
    """One region (at the configured level) compared with the whole base.

    ``region`` is the region as the data names it; ``label`` is its name in the report language
    (the customer table's Chinese name in a Chinese report, when it has one).
    """

    kind = "region"
    title = N_("Region study: {label}")

    def __init__(
        self, data: StudyData, region: str, min_customers: int = 30, rules: Sequence[StrategyRule] | None = None
    ) -> None:
        present = set(data.customers["region"].unique())
        if region not in present:
            raise ValueError(f"region {region!r} is not in the processed data; regions are {sorted(present)}")
        super().__init__(data, data.customers["region"].eq(region), data.orders["region"].eq(region), min_customers)
        self.region = region
        # the customers custseg could not place at this level: a page of what could not be
        # placed, not a region to compare or advise
        self.unplaced = region == regions.UNKNOWN
        # the strategy rules of the config (strategy.rules); None: the defaults
        self.rules = list(rules) if rules is not None else Strategy().rules
        self._labels: dict[str, str] = {}  # report language -> label

    def heading(self) -> render.Heading:
        """Title of the page; the "Unknown" region's says what it holds."""
        if not self.unplaced:
            return super().heading()
        meta = self.data.meta
        return render.Heading(
            _("{label}: the customers that could not be placed").format(label=self.label),
            _("{title} · observation date {date} · amounts in {currency}").format(
                title=meta["title"], date=meta["observation_date"], currency=self.currency
            ),
        )

    def notice(self) -> render.Notice | None:
        """Why the study is short, when it is; on the "Unknown" page, what the page is."""
        if not self.unplaced:
            return super().notice()
        level = _region_level(self.data.meta.get("region_level", "market"))
        return render.Notice(
            _(
                "{label} holds the {customers} customers whose {level} custseg could not tell from the country and "
                "province in the input files. It is not a region: this page compares nothing and advises nothing. "
                "It lists what could not be placed, with the line of the study config (regions.aliases) that places "
                "each value; after adding lines, run `custseg process` again and these customers move to their regions."
            ).format(label=self.label, customers=render.integer(len(self.customers)), level=level),
            kind="info",
        )

    @section(
        N_("What could not be placed"),
        N_("The values typed for the customers of {label}, with their customers and revenue, largest revenue first, and the line that places each."),
        pages="unplaced",
    )
    def unplaced_values(self) -> render.Section | None:
        """The raw values behind the "Unknown" region, with customers, revenue and the alias line."""
        if not {"country_raw", "province_raw"} <= set(self.customers.columns):
            return _no_column(["country_raw", "province_raw"], self.customers, _("what could not be placed"))
        levels = ("country", "province") if self.data.meta.get("region_level") == "province" else ("country",)
        listed = quality.unplaced_places(self.customers, levels=levels, blanks=True)
        table = unplaced_table(listed, self.currency, _("What the customers of {label} have instead of a place").format(label=self.label))
        return table or render.Notice(_("{label} has no customers.").format(label=self.label), kind="info")

    @property
    def label(self) -> str:
        """The region's name in the report language."""
        language = i18n.current()
        if language not in self._labels:
            level = self.data.meta.get("region_level", "market")
            names = region_names(self.customers, level) if _zh() else {}
            self._labels[language] = names.get(self.region, self.region)
        return self._labels[language]

    @section(N_("Strategy"), N_("What the figures of {label} suggest for product, pricing, marketing and service. Each recommendation comes from a rule in the study config (strategy.rules) and shows the figure that triggered it; indexes compare {label} with the whole base (100 = the same)."))
    def strategy(self) -> render.Section | None:
        """Recommendations from the config's rules, each with the figure behind it (both in the
        report language: :func:`custseg.studies.strategy.recommend` translates them)."""
        values, topics = strategy.measures(
            self.customers, self.orders, self.base, self.data.orders, self.data.meta["tiers"][0]
        )
        counts = strategy.measure_counts(self.customers, self.orders, topics)
        advice = strategy.recommend(values, topics, self.rules, counts=counts, min_customers=self.min_customers)
        if advice.empty:
            return render.Notice(
                _(
                    "None of the {count} strategy rules fires for {label}: its figures stay within the limits set in "
                    "strategy.rules, so it needs no treatment different from the base."
                ).format(count=len(self.rules), label=self.label),
                kind="info",
            )
        area = advice["area"].map(lambda name: i18n.label("area", name, default=name.capitalize()))
        table = advice.assign(area=area).rename(
            columns={"area": _("Area"), "recommendation": _("Recommendation"), "because": _("Because")}
        )
        return render.Table(table, _("Recommendations for {label}").format(label=self.label))

    @section(N_("Value tiers"), N_("How the region's buying customers spread over the value tiers, against the whole base."))
    def tier_mix(self) -> render.Section | None:
        """Share of buying customers per value tier, region against base."""
        tiers = self.data.meta["tiers"]
        labels = [_tier_label(tier) for tier in tiers]
        mix = pd.concat(
            {
                self.label: self.buyers["tier"].value_counts(normalize=True),
                _("Whole base"): self.base["tier"].value_counts(normalize=True),
            },
            names=["group", "tier"],
        ).rename("share").reset_index()
        mix = mix.assign(tier=mix["tier"].astype("string").map(_tier_label))
        fig = render.new_figure()
        ax = fig.subplots()
        render.sns.barplot(mix, x="tier", y="share", hue="group", order=labels, ax=ax)
        ax.set(title=_("Value tier mix, {label} against the base").format(label=self.label), xlabel=_("Value tier"),
               ylabel=_("Share of buying customers"))
        ax.yaxis.set_major_formatter(lambda v, _pos: f"{v:.0%}")
        ax.legend(title=None)
        top = self.buyers["tier"].value_counts(normalize=True)
        shares = i18n.join_list([f"{label} {top.get(tier, 0):.0%}" for tier, label in zip(tiers, labels)])
        return render.Chart(
            fig, _("Value tier mix, {label}").format(label=self.label),
            _("Bar chart comparing tier shares in {label} with the whole base; in {label}, {shares}.").format(
                label=self.label, shares=shares
            ),
        )

    @section(N_("Sub-regions"), N_("The countries, provinces or cities that make up {label}, largest revenue first."))
    def subregions(self) -> render.Section | None:
        """Customers and revenue per sub-region (countries of a market, provinces of a country...)."""
        level = SUBLEVEL[self.data.meta["region_level"]]
        unknown = _("Unknown")
        key = _place_names(self.buyers, level).fillna(unknown)
        if level == "country_en":
            # Mainland China is one country; its provinces are the useful breakdown of a Chinese market.
            key = key.where(self.buyers["country_iso3"].ne("CHN"), _place_names(self.buyers, "province").fillna(unknown))
        grouped = self.buyers.groupby(key).agg(customers=("customer_id", "size"), revenue=("monetary", "sum"), orders=("frequency", "sum"))
        grouped = grouped.assign(share=grouped["revenue"] / grouped["revenue"].sum(), aov=grouped["revenue"] / grouped["orders"])
        grouped = grouped.sort_values("revenue", ascending=False).drop(columns="orders")
        grouped.index.name = _("Sub-region")
        customers, revenue, share, aov = _("Customers"), _("Revenue"), _("Revenue share"), _("Average order value")
        grouped.columns = [customers, revenue, share, aov]
        money = render.money(self.currency)
        return render.Table(
            grouped, _("Where {label}'s revenue comes from").format(label=self.label),
            {customers: render.integer, revenue: money, share: render.percent, aov: money},
        )


class TierStudy(_Study):
    """One value tier compared with the whole base.

    ``tier`` is the tier as the config names it; ``label`` is "Tier high" in the report language.
    """

    kind = "tier"
    title = N_("Tier study: {label}")

    def __init__(
        self, data: StudyData, tier: str, min_customers: int = 30, playbook: Sequence[PlaybookAction] | None = None,
        settings: Tiers | None = None,
    ) -> None:
        tiers = data.meta["tiers"]
        if tier not in tiers:
            raise ValueError(f"tier {tier!r} is not one of the configured tiers {tiers}")
        super().__init__(data, data.customers["tier"].eq(tier), data.orders["tier"].eq(tier), min_customers)
        self.tier = tier
        self.playbook = list(playbook) if playbook is not None else None  # None: the config gave none for this tier
        self.settings = settings  # the tiers settings, for the definition; None: not shown

    @property
    def label(self) -> str:
        """'Tier high' in the report language."""
        return _("Tier {tier}").format(tier=self.tier_label)

    @property
    def tier_label(self) -> str:
        """The tier's name in the report language ('high' / '高')."""
        return _tier_label(self.tier)

    def definition(self) -> render.Section | None:
        """How customers come to be in this tier (shown however few they are); None without settings."""
        if self.settings is None:
            return None
        rule = tier_rules(self.settings, self.currency)[self.tier]
        return render.Section(
            _("Who belongs to this tier"), tier_method_text(self.settings, self.currency),
            render.Notice(_("{label}: {rule}.").format(label=self.label, rule=rule), kind="info"),
        )

    @section(N_("Playbook"), N_("What the company does for customers of {label}, from the study config (playbook). Actions for particular lifecycle stages show how many of the tier's customers are at that stage now."))
    def playbook_actions(self) -> render.Section | None:
        """The tier's playbook with the number of its customers each action is for."""
        if not self.playbook:
            return render.Notice(
                _(
                    "The study config has no playbook for the {tier} tier (playbook.{key}): add the service levels, "
                    "upgrade paths and reactivation steps this tier gets."
                ).format(tier=self.tier_label, key=self.tier),
                kind="info",
            )
        stages = self.customers["lifecycle"].astype("string") if "lifecycle" in self.customers else None
        customers_now = _("Customers now")
        rows = []
        for action in self.playbook:
            if not action.stages:
                who, count = _("every customer of the tier"), len(self.customers)
            else:
                who = i18n.join_list([_stage_label(stage) for stage in action.stages])
                count = int(stages.isin(action.stages).sum()) if stages is not None else None
            # The topics and actions of the default playbook are translated; a user's own are shown as written.
            rows.append({_("Topic"): _(action.topic).capitalize(), _("Action"): _(action.action), _("For"): who,
                         customers_now: count})
        return render.Table(pd.DataFrame(rows), _("Playbook, {label}").format(label=self.label), {customers_now: render.integer})

    @section(N_("Who is in this tier"), N_("Recency, frequency and monetary value of the tier's customers against all other buying customers."))
    def rfm_profile(self) -> render.Section | None:
        """Distributions of recency, frequency and monetary value: this tier against all other buyers."""
        buyers = self.base.loc[self.base["frequency"] > 0]
        others = _("Other buyers")
        group = buyers["tier"].eq(self.tier).map({True: self.label, False: others})
        frame = buyers.assign(group=group)
        fig = render.new_figure(9.0, 3.2)
        axes = fig.subplots(1, 3)
        panels = (
            ("recency_days", _("Days since last order"), False),
            ("frequency", _("Orders"), True),
            ("monetary", _("Revenue ({currency})").format(currency=self.currency), True),
        )
        for ax, (col, label, log) in zip(axes, panels):
            render.sns.boxplot(frame, x="group", y=col, ax=ax, log_scale=log, order=[self.label, others], showfliers=False)
            ax.set(title=label, xlabel="", ylabel=label)
        medians = self.buyers[["recency_days", "frequency", "monetary"]].median()
        return render.Chart(
            fig, _("Recency, frequency and monetary value, {label} against other buyers").format(label=self.label),
            _(
                "Three box plots; {label} has a median of {recency:.0f} days since the last order, {frequency:.0f} "
                "orders and {monetary:,.0f} {currency} revenue per customer."
            ).format(label=self.label, recency=medians["recency_days"], frequency=medians["frequency"],
                     monetary=medians["monetary"], currency=self.currency),
        )

    @section(N_("Where the tier's customers are"), N_("Customers of the tier by region, and what share of each region's buyers the tier holds."))
    def regional_spread(self) -> render.Section | None:
        """Customers of the tier by region, and how much of each region is in this tier."""
        buyers = self.base.loc[self.base["frequency"] > 0]
        customers, share, in_region, revenue = _("Customers"), _("Share of tier"), _("Tier share in region"), _("Revenue")
        table = pd.DataFrame({
            customers: self.buyers.groupby("region").size(),
            share: self.buyers.groupby("region").size() / len(self.buyers),
            in_region: buyers.groupby("region")["tier"].apply(lambda t: (t == self.tier).mean()),
            revenue: self.buyers.groupby("region")["monetary"].sum(),
        }).dropna(subset=[customers]).sort_values(customers, ascending=False)
        names = _region_names(self.data)
        table.index = table.index.map(lambda region: names.get(region, region))
        table.index.name = _("Region")
        return render.Table(
            table, _("Where the {tier} tier's customers are").format(tier=self.tier_label),
            {customers: render.integer, share: render.percent, in_region: render.percent, revenue: render.money(self.currency)},
        )

    @section(N_("RFM score grid"), N_("Customers of the tier by recency score and frequency score (quantile scores, higher = better)."))
    def score_grid(self) -> render.Section | None:
        """Customers by recency score and frequency score within the tier."""
        grid = pd.crosstab(self.buyers["r_score"], self.buyers["f_score"]).sort_index(ascending=False)
        fig = render.new_figure(5.5, 4.0)
        ax = fig.subplots()
        render.sns.heatmap(grid, annot=True, fmt="d", cmap=render.PALETTE, cbar=False, ax=ax)
        ax.set(title=_("{label}: recency score by frequency score").format(label=self.label),
               xlabel=_("Frequency score (higher = more orders)"), ylabel=_("Recency score (higher = more recent)"))
        cell = grid.stack().idxmax()
        return render.Chart(
            fig, _("{label} by recency and frequency score").format(label=self.label),
            _("Heat map of customer counts; the largest cell is recency score {recency} with frequency score {frequency}.").format(
                recency=cell[0], frequency=cell[1]
            ),
        )

    @section(N_("Moves in and out of the tier"), N_("From which tiers customers came into {label} and where its customers went, between the last two snapshots of the classification. Revenue is what these customers spent between the two dates."))
    def migration(self) -> render.Section | None:
        """Customers and revenue flowing into and out of the tier between the last two snapshots."""
        history = _extra(self.data, "snapshots")
        pair = _last_two(history)
        if pair is None:
            return _short_history(self.data, "snapshots")
        before, after = pair
        tiers = self.data.meta["tiers"]
        counts = snapshots.transition_matrix(history, before, after, tier_order=tiers)
        revenue = snapshots.transition_matrix(history, before, after, value="revenue", orders=self.data.orders, tier_order=tiers)
        customers_heading, revenue_heading = _("Customers"), _("Revenue")
        stayed = _("{tier} (stayed)").format(tier=self.tier_label)

        def flows(customers: pd.Series, money: pd.Series, date: dt.date) -> pd.DataFrame:
            frame = pd.DataFrame({customers_heading: customers, revenue_heading: money})
            frame.index = [stayed if name == self.tier else _move_label(name) for name in frame.index]
            frame.index.name = _("Tier on {date}").format(date=f"{date:%Y-%m-%d}")
            return frame

        into = flows(counts[self.tier], revenue[self.tier], before)
        out = flows(counts.loc[self.tier], revenue.loc[self.tier], after)
        formats = {customers_heading: render.integer, revenue_heading: render.money(self.currency)}
        came = int(counts[self.tier].drop(self.tier).sum())
        went = int(counts.loc[self.tier].drop(self.tier).sum())
        summary = render.Notice(
            _(
                "Between {before} and {after}, {came:,} customers came into tier {tier}, {went:,} left it for another "
                "tier (or left altogether) and {stayed:,} stayed."
            ).format(before=f"{before:%Y-%m-%d}", after=f"{after:%Y-%m-%d}", came=came, tier=self.tier_label, went=went,
                     stayed=int(counts.loc[self.tier, self.tier])),
        )
        return (
            summary,
            render.Table(into, _("Where tier {tier}'s customers on {date} came from").format(tier=self.tier_label, date=f"{after:%Y-%m-%d}"), formats),
            render.Table(out, _("Where tier {tier}'s customers on {date} went").format(tier=self.tier_label, date=f"{before:%Y-%m-%d}"), formats),
        )

    @section(N_("Does the tier hold?"), N_("For each period between two snapshots: how many of the tier's customers bought again, and how their revenue compares with the period of the same length before. Better tiers should keep more customers; growth is usually negative for the best tier, whose place was earned by a strong past, so compare tiers with each other."))
    def tier_effect(self) -> render.Section | None:
        """Retention rate and revenue growth of the tier per snapshot period, from the tier effect table."""
        effect = _extra(self.data, "tier_effect")
        if effect is None:
            return _short_history(self.data, "tier_effect")
        mine = effect.loc[effect["tier"].astype("str").eq(self.tier)]
        overall = effect.groupby(["before", "after"])[["retained", "customers"]].sum()
        rate_all = (overall["retained"] / overall["customers"].where(overall["customers"] > 0)).rename("all")
        mine = mine.merge(rate_all, left_on=["before", "after"], right_index=True, how="left").sort_values("before")
        period = [
            _("{start} to {end}").format(start=f"{start:%Y-%m-%d}", end=f"{end:%Y-%m-%d}")
            for start, end in zip(mine["before"], mine["after"])
        ]
        headings = {
            "customers": _("Customers at start"), "retained": _("Bought again"), "retention_rate": _("Retention rate"),
            "all": _("Retention, all tiers"), "revenue": _("Revenue in period"), "revenue_prior": _("Revenue, period before"),
            "growth_rate": _("Revenue growth"),
        }
        table = pd.DataFrame({_("Period"): period, **{heading: mine[column].to_numpy() for column, heading in headings.items()}})
        money = render.money(self.currency)
        formats = dict(zip(headings.values(), (render.integer, render.integer, render.percent, render.percent, money, money, render.percent)))
        return render.Table(
            table, _("Retention and revenue growth of tier {tier}, per period between snapshots").format(tier=self.tier_label),
            formats,
        )


def _score(value: float) -> str:
    """A mean score on a 1-5 scale, two decimals ('–' when there is none)."""
    return "–" if pd.isna(value) else f"{value:.2f}"


#: Where each default market sits in the tile map of the overview, as (column, row): mainland
#: China's macro regions roughly as on a map in the left block, the world in the right block.
#: Markets not listed (custom markets) fill the free places of the right block, row by row.
MARKET_TILES: dict[str, tuple[int, int]] = {
    "Northwest China": (0, 0), "North China": (1, 0), "Northeast China": (2, 0),
    "Southwest China": (0, 1), "Central China": (1, 1), "East China": (2, 1),
    "China (province unknown)": (0, 2), "South China": (1, 2), "Hong Kong, Macao & Taiwan": (2, 2),
    "North America": (4, 0), "Europe": (5, 0), "Asia-Pacific": (6, 0),
    "Latin America": (4, 1), "Africa": (5, 1), "Middle East": (6, 1),
    "Unknown": (6, 2),
}
_WORLD_COLUMNS = (4, 5, 6)


def _tile_places(markets: Sequence[str]) -> dict[str, tuple[int, int]]:
    """The tile of each market: its place in :data:`MARKET_TILES`, or the next free one of the
    right block (custom markets, in the order given)."""
    places = {market: MARKET_TILES[market] for market in markets if market in MARKET_TILES}
    taken = set(MARKET_TILES.values())
    free = ((column, row) for row in range(2, 2 + len(markets)) for column in _WORLD_COLUMNS if (column, row) not in taken)
    for market in markets:
        if market not in places:
            places[market] = next(free)
    return places


def region_map(buyers: pd.DataFrame, names: Mapping[str, str] | None = None) -> render.Chart:
    """A tile map of the markets: one tile per market where it roughly lies, shaded by its share of
    revenue, with that share and the revenue growth of the last 90 days against the 90 before.

    Parameters
    ----------
    buyers
        Customers with purchases: ``region`` (a market), ``monetary``, ``revenue_90d`` and
        ``revenue_prev_90d`` (growth is left out without the last two).
    names
        Market -> its name in the report language; markets not in it keep their own.
    """
    import textwrap

    from matplotlib import colormaps
    from matplotlib.colors import Normalize
    from matplotlib.patches import FancyBboxPatch

    names = names or {}
    revenue = buyers.groupby("region", observed=True)["monetary"].sum()
    revenue = revenue.loc[revenue.index.astype("str").sort_values()]
    share = revenue / revenue.sum() if revenue.sum() > 0 else revenue * 0.0
    growth = (
        buyers.groupby("region", observed=True).apply(strategy.revenue_growth, include_groups=False)
        if {"revenue_90d", "revenue_prev_90d"} <= set(buyers.columns) else pd.Series(np.nan, index=revenue.index)
    )
    places = _tile_places([str(market) for market in share.index])
    rows = max(row for _, row in places.values()) + 1
    fig = render.new_figure(9.0, 1.1 + 1.25 * rows)
    ax = fig.subplots()
    colours = colormaps[render.PALETTE]
    shade = Normalize(vmin=0.0, vmax=max(float(share.max()), 0.01))
    for market, (column, row) in places.items():
        value = float(share[market])
        fill = colours(shade(value))
        ax.add_patch(FancyBboxPatch((column + 0.04, -row + 0.04), 0.92, 0.92, boxstyle="round,pad=0,rounding_size=0.06",
                                    facecolor=fill, edgecolor="white", linewidth=1.5))
        # dark text on light tiles, white on dark ones (relative luminance of the fill)
        ink = "black" if 0.2126 * fill[0] + 0.7152 * fill[1] + 0.0722 * fill[2] > 0.5 else "white"
        label = names.get(market, market)
        ax.text(column + 0.5, -row + 0.72, "\n".join(textwrap.wrap(label, 14)) if label.isascii() else label,
                # the CJK font has one weight; asking it for bold only logs a fallback
                ha="center", va="center", fontsize=8, color=ink, fontweight="bold" if label.isascii() else "normal")
        ax.text(column + 0.5, -row + 0.38, render.percent(value), ha="center", va="center", fontsize=10, color=ink)
        change = growth.get(market, np.nan)
        if pd.notna(change):
            ax.text(column + 0.5, -row + 0.16, ("▲ " if change >= 0 else "▼ ") + render.signed_percent(change),
                    ha="center", va="center", fontsize=7.5, color=ink)
    for left, title in ((0, _("Mainland China, Hong Kong, Macao & Taiwan")), (4, _("Rest of the world"))):
        ax.text(left + 1.5, 1.12, title, ha="center", va="bottom", fontsize=9, color="#616e7c")
    ax.set_xlim(-0.05, 7.05)
    ax.set_ylim(-rows + 0.95, 1.45)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(_("Share of revenue by market, and revenue growth of the last 90 days against the 90 before"), fontsize=10)
    top = share.sort_values(ascending=False).head(3)
    return render.Chart(
        fig, _("Markets by share of revenue"),
        _("Tile map of {count} markets placed roughly as on a map, darker for a larger share of revenue; "
          "the largest are {largest}.").format(
            count=len(share),
            largest=i18n.join_list([f"{names.get(m, m)} {render.percent(v)}" for m, v in top.items()]),
        ),
    )


class Overview:
    """The executive summary over all regions and tiers; rendered as reports/index.html."""

    def __init__(self, data: StudyData, config: Config) -> None:
        self.data, self.config = data, config
        self.customers = data.customers
        self.buyers = self.customers.loc[self.customers["frequency"] > 0]
        self.currency = data.meta["base_currency"]

    def heading(self) -> render.Heading:
        """Title of the index page."""
        meta = self.data.meta
        return render.Heading(
            _("{title}: customer classification overview").format(title=meta["title"]),
            _("Observation date {date} · amounts in {currency} · region level: {level}").format(
                date=meta["observation_date"], currency=self.currency, level=_region_level(meta["region_level"])
            ),
        )

    def introduction(self) -> render.Notice:
        """What the page holds, in a sentence or two, above the figures."""
        return render.Notice(
            _(
                "This page summarises how the customer base divides by value tier, RFM segment, lifecycle stage, "
                "cluster and region, what changed since the previous snapshot, and links to one study per region "
                "and one per tier. Each study compares its group with the whole base and lists what is different about it."
            ),
            kind="info",
        )

    def inputs_notice(self) -> render.Notice | None:
        """What the study could not show because an input table was not given; nothing when all were."""
        given = set(self.data.meta.get("inputs", ()))
        missing = []
        if "customers" not in given:
            if "line_items" in given:
                missing.append(_(
                    "no customer table: countries come from the line items, so provinces, cities, "
                    "industries and other customer attributes are unknown"
                ))
            else:
                missing.append(_(
                    "no customer table (inputs.customers): customers have no country, so all of them "
                    "fall in the region \"Unknown\"; a customer file with a country column gives one "
                    "study per market"
                ))
        if "interactions" not in given:
            missing.append(_("no interactions (inputs.interactions): visits, e-mails, calls and tickets are not counted"))
        if "feedback" not in given:
            missing.append(_("no feedback (inputs.feedback): satisfaction and NPS are not shown"))
        if not missing:
            return None
        return render.Notice(_("This study was built with {missing}.").format(missing=i18n.join_clauses(missing)), kind="info")

    @section(N_("Headline figures"), N_("The whole customer base at the observation date."))
    def headline(self) -> render.Section:
        """The handful of figures a director asks for first."""
        meta = self.data.meta
        money = render.money(self.currency)
        rows = [
            (_("Observation date"), meta["observation_date"]),
            (_("Customers"), render.integer(len(self.customers))),
            (_("Customers with purchases"), render.integer(len(self.buyers))),
            (_("Orders"), render.integer(int(self.buyers["frequency"].sum()))),
            (_("Revenue, net of refunds"), money(self.buyers["monetary"].sum())),
            (_("Average order value"), money(strategy.average_order_value(self.buyers))),
            (_("Regions ({level})").format(level=_region_level(meta["region_level"])), render.integer(self.customers["region"].nunique())),
        ]
        if "value_at_risk" in self.customers:
            at_risk = self.customers["value_at_risk"].sum(min_count=1)  # none when the churn model was skipped
            rows += [
                (_("Customers with a churn warning"), render.integer(int(self.customers["warning_count"].gt(0).sum()))),
                (_("Value at risk (expected value x churn probability)"),
                 money(at_risk) if pd.notna(at_risk) else _("not computed: the churn model was not fitted")),
                (_("Customers on the churn watch list"), render.integer(int(meta.get("watch_list", 0)))),
            ]
        value = pgettext("figure", "Value")  # the figure of each measure, not customer value
        return render.Table(pd.DataFrame(rows, columns=[_("Measure"), value]), _("Headline figures"), numeric=[value])

    def tier_pyramid(self) -> render.Section:
        """Customers and revenue share per tier, best tier on top, under how the tiers are made."""
        tiers = self.data.meta["tiers"]
        labels = [_tier_label(tier) for tier in tiers]
        customers, revenue = _("Customers"), _("Revenue")
        share = pd.DataFrame({
            customers: self.buyers["tier"].value_counts(normalize=True),
            revenue: self.buyers.groupby("tier", observed=False)["monetary"].sum() / self.buyers["monetary"].sum(),
        }).reindex(tiers).rename_axis("tier").reset_index().melt(id_vars="tier", var_name="measure", value_name="share")
        share = share.assign(tier=share["tier"].astype("string").map(_tier_label))
        fig = render.new_figure(7.0, 3.0)
        ax = fig.subplots()
        render.sns.barplot(share, y="tier", x="share", hue="measure", order=labels, ax=ax)
        ax.set(title=_("Value tiers: share of customers and of revenue"), xlabel=_("Share"), ylabel=_("Value tier"))
        ax.xaxis.set_major_formatter(lambda v, _pos: f"{v:.0%}")
        ax.legend(title=None)
        top = share.loc[share["tier"].eq(labels[0])].set_index("measure")["share"]
        chart = render.Chart(
            fig, _("Tier pyramid"),
            _("Horizontal bars per tier; the {tier} tier holds {customers:.0%} of buying customers and {revenue:.0%} of revenue.").format(
                tier=labels[0], customers=top[customers], revenue=top[revenue]
            ),
        )
        # the lead says how this study's tiers are made (its method and settings), not a generic rule
        return render.Section(_("Value tiers"), tier_method_text(self.config.tiers, self.currency), chart)

    @section(N_("Regions"), N_("Every region at the configured level, by revenue; each has its own study below."))
    def regions(self) -> render.Section:
        """Every region with its size, revenue and tier mix; at the market level, first a tile map."""
        table = self._region_table()
        if self.data.meta.get("region_level", "market") != "market":
            return table
        return region_map(self.buyers, _region_names(self.data)), table

    def _region_table(self) -> render.Table:
        best = self.data.meta["tiers"][0]
        grouped = self.buyers.groupby("region").agg(
            customers=("customer_id", "size"), revenue=("monetary", "sum"), orders=("frequency", "sum"),
            best=("tier", lambda t: (t == best).mean()),
        )
        grouped = grouped.assign(share=grouped["revenue"] / grouped["revenue"].sum(), aov=grouped["revenue"] / grouped["orders"])
        table = grouped[["customers", "revenue", "share", "aov", "best"]].sort_values("revenue", ascending=False)
        columns = [_("Customers"), _("Revenue"), _("Revenue share"), _("Average order value"),
                   _("Share in tier {tier}").format(tier=_tier_label(best))]
        table.columns = columns
        names = _region_names(self.data)
        table.index = table.index.map(lambda region: names.get(region, region))
        table.index.name = _("Region")
        money = render.money(self.currency)
        return render.Table(
            table, _("Regions by revenue"),
            dict(zip(columns, (render.integer, money, render.percent, money, render.percent))),
        )

    @section(N_("Clusters"), N_("Groups of customers with purchases that the data itself suggests, fitted on recency, frequency, spend, basket size and tenure; each is named after what sets it apart. Medians describe a typical member."))
    def clusters(self) -> render.Section:
        """Size, revenue share and median features of every cluster; a notice when there are none."""
        profile = _extra(self.data, "cluster_profile")
        if profile is None:
            return _no_clusters(self.data)
        columns = {
            "name": _("Cluster"), "size": _("Customers"), "share": _("Share of buyers"), "revenue_share": _("Revenue share"),
            "median_recency_days": _("Median days since last order"), "median_frequency": _("Median orders"),
            "median_monetary": _("Median revenue"), "median_aov": _("Median order value"),
            "median_tenure_days": _("Median tenure (days)"),
        }
        absent = [column for column in columns if column not in profile]
        if absent:
            return render.Notice(
                _("The cluster profile has no {columns} column; run `custseg process --force` to rebuild it.").format(
                    columns=", ".join(absent)
                ),
                kind="warning",
            )
        shown = profile[list(columns)].assign(name=profile["name"].astype("string").map(cluster_label, na_action="ignore"))
        table = shown.rename(columns=columns).sort_values(columns["size"], ascending=False)
        money = render.money(self.currency)
        meta = self.data.meta.get("clusters") or {}
        methods = {"kmeans": _("k-means"), "gmm": _("Gaussian mixture")}
        method = methods.get(meta.get("method"), meta.get("method", ""))
        formats = dict(zip(
            list(columns.values())[1:],
            (render.integer, render.percent, render.percent, render.integer, render.decimal, money, money, render.integer),
        ))
        return render.Table(table, _("{count} clusters ({method}), largest first").format(count=len(table), method=method), formats)

    @section(N_("How many clusters"), N_("The number of clusters k is chosen from a range: silhouette (how well separated the clusters are, higher is better) and stability (how alike the clusters come out on resampled data, 1 = identical) for each k, among the values of k whose every cluster holds at least the minimum share of buyers."))
    def cluster_selection(self) -> render.Section:
        """Silhouette, stability and smallest cluster per k, with the ineligible and the chosen k
        marked: a chart, how the features were prepared, and the table."""
        selection = _extra(self.data, "cluster_selection")
        if selection is None:
            return _no_clusters(self.data)
        absent = [c for c in ("smallest_share", "smallest_share_all", "eligible") if c not in selection]
        if absent:
            return render.Notice(
                _("The cluster selection has no {columns} column; run `custseg process --force` to rebuild it.").format(
                    columns=", ".join(absent)
                ),
                kind="warning",
            )
        meta = self.data.meta.get("clusters") or {}
        minimum = float(meta.get("min_share", self.config.clusters.min_share))
        selection = selection.sort_values("k").reset_index(drop=True)
        # the smallest cluster as the choice saw it: on all buyers where that fit was made
        smallest = selection["smallest_share_all"].fillna(selection["smallest_share"])
        eligible = selection["eligible"].astype(bool)
        chosen = selection.loc[selection["chosen"]]
        silhouette, stability, share_label = _("Silhouette"), _("Stability"), _("Smallest cluster")
        fig = render.new_figure(7.6, 4.6)
        top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 2])
        under = _("a cluster under {share}").format(share=render.share(minimum))
        for i, k in enumerate(selection.loc[~eligible, "k"]):
            top.axvspan(k - 0.4, k + 0.4, color="#e4e7eb", zorder=0, label=under if i == 0 else None)
        top.plot(selection["k"], selection["silhouette"], marker="o", label=silhouette)
        top.plot(selection["k"], selection["stability"], marker="s", label=stability)
        for k in chosen["k"]:
            top.axvline(k, color="grey", linestyle="--", linewidth=1, label=_("chosen k = {k}").format(k=k))
            bottom.axvline(k, color="grey", linestyle="--", linewidth=1)
        top.set(title=_("Cluster quality by number of clusters"), ylabel=_("Score"), ylim=(0, 1.05))
        top.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
        fill = render.sns.color_palette(render.PALETTE, 3).as_hex()[1]
        bars = bottom.bar(selection["k"], smallest, color=[fill if ok else "#9aa5b1" for ok in eligible], width=0.6)
        bottom.bar_label(bars, labels=[render.percent(v) for v in smallest], fontsize=8, padding=2)
        bottom.set_ylim(0, max(float(smallest.max()), minimum) * 1.25)
        bottom.axhline(minimum, color="#c0392b", linestyle=":", linewidth=1.2,
                       label=_("minimum share {share}").format(share=render.share(minimum)))
        bottom.set(xlabel=_("Number of clusters (k)"), ylabel=_("Smallest cluster, share of buyers"))
        bottom.yaxis.set_major_formatter(lambda v, _pos: f"{v:.0%}")
        bottom.set_xticks(selection["k"].tolist())
        bottom.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
        first, last = selection["k"].min(), selection["k"].max()
        below = i18n.join_list(str(k) for k in selection.loc[~eligible, "k"])
        if len(chosen):
            row = chosen.iloc[0]
            alt = _(
                "Line chart of silhouette and stability for k from {first} to {last}, over bars of each k's smallest "
                "cluster; k = {k} was chosen, with silhouette {silhouette:.2f}, stability {stability:.2f} and a smallest "
                "cluster of {smallest} of buyers."
            ).format(first=first, last=last, k=row["k"], silhouette=row["silhouette"], stability=row["stability"],
                     smallest=render.percent(smallest[chosen.index[0]]))
        else:
            alt = _("Line chart of silhouette and stability for k from {first} to {last}; no k is marked as chosen.").format(
                first=first, last=last
            )
        if below:
            alt = i18n.join_sentences([alt, _("Shaded: k = {ks}, with a cluster under the minimum share of {share}.").format(
                ks=below, share=render.share(minimum))])
        chart = render.Chart(fig, _("Silhouette, stability and smallest cluster per number of clusters"), alt)
        notices = [self._cluster_preparation(meta)]
        if meta.get("min_share_met") is False and len(chosen):
            notices.append(render.Notice(_(
                "No k from {first} to {last} gives every cluster at least {share} of the buyers (clusters.min_share). "
                "k = {k}, whose smallest cluster holds {smallest}, comes closest and is shown: read that cluster as a "
                "handful of customers, not a group to plan for."
            ).format(first=first, last=last, share=render.share(minimum), k=chosen["k"].iloc[0],
                     smallest=render.percent(smallest[chosen.index[0]])), kind="warning"))
        clusters = _("Clusters (k)")
        status = np.where(selection["chosen"], _("✓ chosen"), np.where(eligible, "", under))
        table = pd.DataFrame({
            clusters: selection["k"].to_numpy(),
            silhouette: selection["silhouette"].to_numpy(),
            stability: selection["stability"].to_numpy(),
            share_label: smallest.to_numpy(),
            _("Chosen"): status,
        })
        two = lambda value: f"{value:.3f}"  # noqa: E731
        return (
            chart, *[n for n in notices if n],
            render.Table(table, _("Silhouette, stability and smallest cluster per k"),
                         {clusters: render.integer, silhouette: two, stability: two, share_label: render.percent}),
        )

    def _cluster_preparation(self, meta: Mapping) -> render.Notice | None:
        """How the features were transformed, scaled and clipped, from study.json; None when the
        processed data predates these facts."""
        if "log" not in meta:
            return None
        names = _feature_names()
        logged = [names.get(c, c) for c in meta.get("log") or []]
        parts = []
        if logged:
            parts.append(_(
                "{features} take a signed logarithm, log(1 + x) mirrored below zero, so that a net spend under zero "
                "stays below zero without moving anyone else"
            ).format(features=i18n.join_list(logged)))
        parts.append(_("every feature is scaled by its median and inter-quartile range"))
        fence = meta.get("clip_iqr")
        if fence is not None:
            clipped = {c: n for c, n in (meta.get("clipped") or {}).items() if n}
            counts = i18n.join_list(
                _("{count} on {feature}").format(count=render.integer(n), feature=names.get(c, c)) for c, n in clipped.items()
            ) if clipped else _("none")
            parts.append(_(
                "for fitting, clipped at {fence:g} inter-quartile ranges beyond its quartiles, so that extreme customers "
                "join a cluster instead of making one (buyers clipped: {counts})"
            ).format(fence=fence, counts=counts))
        return render.Notice(_("Before clustering, {steps}.").format(steps=i18n.join_clauses(parts)), kind="info")

    @section(N_("RFM segments"), N_("Buying customers by the 11-group RFM map (recency score against the mean of the frequency and monetary scores) and by the 8-class value model (RFM 八类客户: each score high or low against the average buyer)."))
    def segments(self) -> render.Section:
        """Customers and revenue per 11-group segment and per 8-class value class."""
        tables = []
        for column, what in (("segment", _("the 11 RFM segments")), ("value_class", _("the 8 value classes"))):
            missing = _no_column([column], self.customers, what)
            if missing:
                tables.append(missing)
                continue
            if column == "segment":
                labels, order, name = _segment_labels(self.buyers, self.customers), _segment_order(self.customers), _("Segment")
                title = _("Customers and revenue per RFM segment")
            else:
                labels, order, name = _value_class_labels(self.buyers), _value_class_order(self.customers), _("Value class")
                title = _("Customers and revenue per value class (8-class model)")
            frame, formats = self._size_and_revenue(labels, order, name)
            tables.append(render.Table(frame, title, formats))
        once = self._one_time_buyers()
        return (once, *tables) if once else tuple(tables)

    def _one_time_buyers(self) -> render.Notice | None:
        """Where one-time buyers stand in the scores and segments, from the data and the segment map."""
        sentences = []
        once = self.buyers.loc[self.buyers["frequency"].eq(1)]
        # said only when the data bears it out (processed data of an older version gave ties their average)
        if len(once) and "f_score" in once and once["f_score"].eq(1).all():
            sentences.append(ngettext(
                "Tied customers share the lowest score of their tie: the {count} one-time buyer ({share} of buyers) has a frequency score of 1.",
                "Tied customers share the lowest score of their tie: all {count} one-time buyers ({share} of buyers) have a frequency score of 1.",
                len(once),
            ).format(count=render.integer(len(once)), share=render.percent(len(once) / len(self.buyers))))
        sentences += segment_purchase_rules(self.config.segments)
        return render.Notice(i18n.join_sentences(sentences), kind="info") if sentences else None

    @section(N_("Lifecycle stages"), N_("Every customer has one stage, judged against their own buying rhythm; the rules are checked from the top and the first that holds names the stage."))
    def lifecycle(self) -> render.Section:
        """Customers and revenue per lifecycle stage, with the rule that assigns it."""
        missing = _no_column(["lifecycle"], self.customers, _("lifecycle stages"))
        if missing:
            return missing
        rules = lifecycle.stage_table(self.config.lifecycle).set_index("stage")
        stages = self.customers["lifecycle"].astype("string")
        name = _("Stage")
        # in the order the rules are checked, as the lead says: the first rule that holds wins
        frame, formats = self._size_and_revenue(stages, list(lifecycle.PRECEDENCE), name, everyone=True)
        # The rules are written by custseg.segment.lifecycle from the config's limits, and shown as they are.
        frame = frame.assign(**{_("Rule"): rules["rule"].reindex(frame.index)})
        frame.index = frame.index.map(_stage_label)
        frame.index.name = name
        return render.Table(frame, _("Customers and revenue per lifecycle stage"), formats)

    @section(N_("What changed since the previous snapshot"), N_("Customers by value tier at the previous snapshot (rows) and now (columns): the diagonal stayed put, cells right of it moved down, left of it moved up."))
    def changes(self) -> render.Section:
        """Tier transition matrix (customers) between the last two snapshots, with a sentence on the moves."""
        history = _extra(self.data, "snapshots")
        pair = _last_two(history)
        if pair is None:
            return _short_history(self.data, "snapshots")
        before, after = pair
        tiers = self.data.meta["tiers"]
        matrix = snapshots.transition_matrix(history, before, after, tier_order=tiers)
        moved = snapshots.movers(history, before, after, tiers)
        up, down = int(moved["direction"].eq("up").sum()), int(moved["direction"].eq("down").sum())
        new = int(matrix.loc[[snapshots.NO_TIER, snapshots.NOT_YET], tiers].to_numpy().sum())
        left = int(matrix[snapshots.LEFT].sum())
        first, last = f"{before:%Y-%m-%d}", f"{after:%Y-%m-%d}"
        summary = render.Notice(
            _(
                "Between {before} and {after}: {up:,} customers moved to a better tier, {down:,} to a worse one, "
                "{new:,} got their first tier and {left:,} were no longer in the customer table."
            ).format(before=first, after=last, up=up, down=down, new=new, left=left),
        )
        shown = matrix.rename(index=_move_label, columns=_move_label)
        shown = shown.rename_axis(index=_("Tier on {date}").format(date=first), columns=None)
        return summary, render.Table(
            shown, _("Customers by tier on {before} (rows) and on {after} (columns)").format(before=first, after=last),
            {str(c): render.integer for c in shown.columns},
        )

    def _size_and_revenue(
        self, labels: pd.Series, order: Sequence[str], name: str, everyone: bool = False
    ) -> tuple[pd.DataFrame, dict[str, Callable[[object], str]]]:
        """Customers, share, revenue and revenue share per label (aligned with the buyers, or with every
        customer when `everyone`), in `order`, empty labels left out; with the formats to show them.
        The headings are in the report language; `name` (the index's) too."""
        who = self.customers if everyone else self.buyers
        grouped = pd.DataFrame({"label": labels, "revenue": who["monetary"]}).dropna(subset=["label"]).groupby("label")["revenue"]
        frame = pd.DataFrame({"customers": grouped.size(), "revenue": grouped.sum()})
        frame = frame.reindex([*order, *sorted(set(frame.index) - set(order))]).dropna(subset=["customers"])
        frame = frame.loc[frame["customers"] > 0].astype({"customers": "int64"})
        total = frame["revenue"].sum()
        frame = frame.assign(
            customer_share=frame["customers"] / frame["customers"].sum(),
            revenue_share=frame["revenue"] / total if total else float("nan"),
        )[["customers", "customer_share", "revenue", "revenue_share"]]
        headings = [_("Customers"), _("Share of customers"), _("Revenue"), _("Revenue share")]
        frame.columns = headings
        frame.index.name = name
        formats = dict(zip(headings, (render.integer, render.percent, render.money(self.currency), render.percent)))
        return frame, formats

    def links(self) -> render.Section:
        """Links to every region and tier study and to the data-quality page, from the same plan the build runs."""
        plan = plan_studies(self.data, self.config)
        regions = _region_names(self.data)
        shown = {"region": lambda key: regions.get(key, key), "tier": _tier_label}
        lists = [
            render.Links([(job.href, shown[kind](job.key), job.note) for job in plan if job.kind == kind], heading)
            for kind, heading in (("region", _("Region studies")), ("tier", _("Tier studies")))
        ]
        lists.insert(0, render.Links([(job.href, _("Churn watch"), job.note) for job in plan if job.kind == "churn"], _("Early warning")))
        lists.append(render.Links([(job.href, _("Data quality"), job.note) for job in plan if job.kind == "quality"], _("Data quality")))
        return render.Section(
            _("Studies"),
            _("The churn watch, one study per region and per value tier, and how the input data was read and cleaned."),
            *lists,
        )
