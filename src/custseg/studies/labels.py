"""Labels from the data in the report language, and the small tables and phrases pages share.

The data keeps its own English keys (tiers, segments, lifecycle stages, clusters, regions); a page
shows them through these helpers, which name them in the report language (:mod:`custseg.i18n`):
'high' / '高', 'at_risk' / '流失风险客户', a region by its Chinese name from the customer table.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd

from custseg import i18n, words
from custseg.config import Segments, TierRule, Tiers
from custseg.i18n import _, ngettext, pgettext
from custseg.processed import ProcessedData
from custseg.segment import lifecycle, snapshots
from custseg.studies import render
from custseg.studies.plan import ZH_COLUMNS, region_names


def in_chinese() -> bool:
    """Whether the report is written in Chinese, where labels from the data use their Chinese names."""
    return i18n.current() == "zh"


def no_column(columns: Sequence[str], frame: pd.DataFrame, what: str) -> render.Notice | None:
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


def mix_table(part: pd.Series, whole: pd.Series, order: Sequence[str], name: str) -> pd.DataFrame:
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
        :func:`mix_formats`).
    """
    here = part.dropna().astype("str").value_counts()
    base = whole.dropna().astype("str").value_counts()
    labels = [*order, *sorted((set(here.index) | set(base.index)) - set(order))]
    labels = [label for label in labels if here.get(label, 0) or base.get(label, 0)]
    counts = here.reindex(labels, fill_value=0)
    share = counts / counts.sum() if counts.sum() else counts.astype("float64")
    base_share = (
        base.reindex(labels, fill_value=0) / base.sum() if base.sum() else base.reindex(labels).astype("float64")
    )
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


def mix_formats() -> dict[str, Callable[[object], str]]:
    """How the columns of a :func:`mix` table are written, by their headings in the report language."""
    return {_("Customers"): render.integer, _("Share here"): render.percent, _("Share in base"): render.percent,
            _("Index"): render.index_points}


def category_order(column: pd.Series) -> list[str]:
    """The categories of a categorical column in config order; [] for other columns."""
    dtype = column.dtype
    return [str(c) for c in dtype.categories] if isinstance(dtype, pd.CategoricalDtype) else []


def tier_label(tier: object) -> str:
    """A tier's name in the report language ('high' / '高')."""
    return i18n.label("tier", tier)


def _within_level(within: str) -> str:
    """The region level of ``tiers.within`` in the report language."""
    return region_level_name(within) if within != "region" else pgettext("region level", "region")


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
        rules = [_threshold_text(rule, currency) for rule in settings.rules]
        rules.append(_("every buyer who meets none of these"))
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
    listed = i18n.join_clauses(
        _("{tier}: {rule}").format(tier=tier_label(tier), rule=rule) for tier, rule in rules.items()
    )
    within = ""
    if settings.within != "all" and settings.method != "thresholds":
        within = _("Scores and tiers are computed within each {level}: a customer is compared with the buyers of the "
                   "same {level}.").format(
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
        total = _("The tier follows from the weighted total of the scores ({weights}): {rules}.").format(
            weights=shown, rules=listed
        )
    return i18n.join_sentences([scores, total, within])


def segment_purchase_rules(settings: Segments) -> list[str]:
    """One sentence per purchase minimum of the 11-group map ("Champions, Loyal need at least 2
    purchases, so no one-time buyer is among them."), in the report language; [] when no rule
    counts purchases."""
    needs: dict[int, list[str]] = {}
    for rule in settings.rfm_map:
        if rule.min_orders > 1:
            needs.setdefault(rule.min_orders, []).append(rule.name_zh if in_chinese() else rule.name)
    return [
        _("{segments} need at least {count} purchases, so no one-time buyer is among them.").format(
            segments=i18n.join_list(dict.fromkeys(names)), count=count
        )
        for count, names in sorted(needs.items())
    ]


def segment_names(customers: pd.DataFrame) -> dict[str, str]:
    """RFM segment (English, as in the data) -> its name in the report language: the customer
    table's segment_zh in Chinese; empty in English or when the table has no Chinese names."""
    if not in_chinese() or not {"segment", "segment_zh"} <= set(customers.columns):
        return {}
    pairs = customers[["segment", "segment_zh"]].dropna().astype("str").drop_duplicates("segment")
    return dict(zip(pairs["segment"], pairs["segment_zh"]))


def segment_labels(customers: pd.DataFrame, base: pd.DataFrame | None = None) -> pd.Series:
    """The RFM segment of each customer in the report language (names from `base`, default `customers`)."""
    names = segment_names(customers if base is None else base)
    segments = customers["segment"].astype("string")
    return segments.map(lambda s: names.get(s, s), na_action="ignore") if names else segments


def segment_order(customers: pd.DataFrame) -> list[str]:
    """The RFM segments in config order, named like :func:`segment_labels`."""
    names = segment_names(customers)
    return [names.get(segment, segment) for segment in category_order(customers["segment"])]


def value_class_labels(customers: pd.DataFrame) -> pd.Series:
    """The value class of each customer: '重要价值客户 (Important value)' in English (the Chinese
    class name with its English name), '重要价值客户' in Chinese."""
    zh = customers["value_class"].astype("string")
    if "value_class_en" not in customers or in_chinese():
        return zh
    return zh + " (" + customers["value_class_en"].astype("string") + ")"


def value_class_order(customers: pd.DataFrame) -> list[str]:
    """The value classes in config order, labelled like :func:`value_class_labels`."""
    zh = category_order(customers["value_class"])
    if "value_class_en" not in customers or in_chinese():
        return zh
    pairs = customers[["value_class", "value_class_en"]].dropna().astype("str").drop_duplicates()
    english = dict(zip(pairs["value_class"], pairs["value_class_en"]))
    return [f"{name} ({english[name]})" for name in zh if name in english]


def stage_label(stage: str) -> str:
    """A lifecycle stage in the report language: 'at_risk' -> 'At risk' / '流失风险客户'."""
    if in_chinese() and stage in lifecycle.STAGE_NAMES_ZH:
        return lifecycle.STAGE_NAMES_ZH[stage]
    return stage.replace("_", " ").capitalize()


def region_level_name(level: str) -> str:
    """The name of a region level ('market', 'country', 'province') in the report language."""
    names = {
        "market": pgettext("region level", "market"),
        "country": pgettext("region level", "country"),
        "province": pgettext("region level", "province"),
    }
    return names.get(level, level)


def region_labels(data: ProcessedData) -> dict[str, str]:
    """Region (as in the data) -> its name in the report language; empty in English, and regions
    without a Chinese name keep their own."""
    return region_names(data.customers, data.meta.region_level) if in_chinese() else {}


def place_names(frame: pd.DataFrame, column: str) -> pd.Series:
    """The places of a name column (country_en, province, city) in the report language: in
    Chinese the *in_chinese counterpart where the data has one, else the name as it is."""
    names = frame[column].astype("string")
    zh = ZH_COLUMNS.get(column)
    if in_chinese() and zh in frame:
        names = frame[zh].astype("string").fillna(names)
    return names


def cluster_labels(data: ProcessedData) -> dict[int, str]:
    """Cluster id -> the cluster's name in the report language (:func:`custseg.words.cluster_name`:
    "Recent frequent high spenders" / "近期高频高消费客户"); a name of an older study.json, kept
    as text, as it is written."""
    return {int(key): words.cluster_name(name) for key, name in data.meta.clusters.names.items()}


def cluster_feature_names() -> dict[str, str]:
    """The default cluster features in words, in the report language."""
    return {
        "recency_days": _("days since the last order"), "frequency": _("orders"), "monetary": _("net spend"),
        "aov": _("order value"), "tenure_days": _("tenure"),
    }


def snapshot_moves() -> dict[str, str]:
    """The rows and columns of a tier transition matrix that are not tiers, in the report language."""
    return {
        snapshots.NOT_YET: pgettext("snapshot", "not yet a customer"),
        snapshots.NO_TIER: pgettext("snapshot", "no tier"),
        snapshots.LEFT: pgettext("snapshot", "left"),
    }


def move_label(value: object) -> str:
    """A row or column of a tier transition matrix (a tier, 'no tier', 'left', ...) in the report language."""
    text = str(value)
    return snapshot_moves().get(text) or tier_label(text)
