"""Named RFM segments: the common 11-group map and the Chinese 8-class value model.

Both read the quantile scores that :func:`custseg.segment.tiers.assign_tiers` writes (``r_score``,
``f_score``, ``m_score``, higher = better, so a high R score means a recent purchase) and both
maps live in the config (``segments.rfm_map`` and ``segments.value_classes``), so a team can use
its own names and cut-offs.

The 11-group map
    Each rule gives an inclusive range of the R score and of the FM score (the mean of the F and M
    scores), on a 1..5 scale; the first rule a customer matches names the segment. Scores on any
    other scale (``tiers.bins`` other than 5) are rescaled linearly onto 1..5 first, so 1 stays 1
    and ``bins`` becomes 5. A rule may also ask for a number of purchases (``min_orders``): a
    customer with fewer skips it and takes the next rule that matches. A buyer that matches no
    rule is put in ``Other`` (``其他``) rather than left blank, so a gap in a hand-edited map
    shows up in the tables as a segment of its own. Because the first match wins, a rule whose
    ranges earlier rules already cover never gets a customer; :func:`segment_table` flags such
    rules (``reachable`` is False).
The 8-class model (RFM 八类客户)
    A buyer is "high" on a dimension when their score is strictly above the mean (or the median,
    ``segments.split``) of that score over all buyers, and "low" otherwise; the three high/low
    answers pick one of the eight classes. Strictly above means a buyer exactly at the middle is
    "low": "high" is kept for better than the typical buyer.

One-time buyers
    A customer who bought once has the lowest frequency of all buyers, and so F = 1 (ties get the
    lowest score their run spans, :func:`custseg.segment.tiers.quantile_scores`). In the default map
    Champions, Cannot lose them and Loyal ask for two purchases: a one-time buyer with a large
    order (M = 5, so FM = 3) is a Potential loyalist, needs attention or is at risk, never Loyal.
    In the 8-class model F = 1 is never strictly above the mean or median of the F scores, so a
    one-time buyer is always "low" on F.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from custseg.config import Segments

#: Name given to a buyer that no rule of the map (or no value class) describes.
OTHER = "Other"
OTHER_ZH = "其他"

#: Columns that :func:`assign_segments` writes.
SEGMENT_COLUMNS = ("segment", "segment_zh", "value_class", "value_class_en")

_SCORES = ("r_score", "f_score", "m_score")


def assign_segments(customers: pd.DataFrame, settings: Segments, bins: int) -> pd.DataFrame:
    """Add the 11-group segment and the 8-class value class to a scored customer table.

    Parameters
    ----------
    customers
        Customer table with ``r_score``, ``f_score`` and ``m_score`` (Int64, 1..bins), as
        :func:`custseg.segment.tiers.assign_tiers` writes them, and ``frequency`` (purchases) when a rule
        of ``segments.rfm_map`` has ``min_orders`` above 1 (the default map has). Rows without
        scores (customers who never bought) get missing segments.
    settings
        The ``segments`` section of the config.
    bins
        The score scale, ``tiers.bins``.

    Returns
    -------
    pd.DataFrame
        A new frame with ``segment`` and ``segment_zh`` (categoricals, categories in
        ``segments.rfm_map`` order followed by ``Other`` / ``其他``), ``value_class`` (Chinese name)
        and ``value_class_en`` (categoricals, categories in ``segments.value_classes`` order
        followed by ``Other`` / ``其他``). The categories are listed in config order but not
        ordered (no segment is "less than" another).

    Raises
    ------
    ValueError
        When a score column is missing, ``frequency`` is missing while a rule needs purchases, a
        score lies outside 1..bins (scores made with another ``tiers.bins``), or
        ``segments.value_classes`` lists one high/low combination twice.

    Notes
    -----
    A high/low combination that ``segments.value_classes`` does not list gives ``Other`` /
    ``其他``. The same name may be given to several rules (or classes): it is one category.

    The high/low split is computed over every buyer in the table, also when ``tiers.within``
    scored customers within their market: scores are already relative to the market then, so one
    cut-off serves all markets.
    """
    missing = [c for c in _SCORES if c not in customers.columns]
    if missing:
        raise ValueError(
            f"segments: the customer table has no {missing} column(s); run custseg.segment.tiers.assign_tiers first"
        )
    counted = [rule.name for rule in settings.rfm_map if rule.min_orders > 1]
    if counted and "frequency" not in customers.columns:
        raise ValueError(
            f"segments.rfm_map: {counted} ask for a number of purchases (min_orders) but the customer "
            f"table has no 'frequency' column; build it with custseg.segment.features.customer_table"
        )
    customers = customers.drop(columns=[c for c in SEGMENT_COLUMNS if c in customers.columns])
    scores = {c: customers[c].to_numpy(dtype="float64", na_value=np.nan) for c in _SCORES}
    # without a rule that counts purchases every buyer passes every count: no column needed
    frequency = (
        customers["frequency"].to_numpy(dtype="float64", na_value=np.nan) if counted
        else np.full(len(customers), np.inf)
    )
    for column, values in scores.items():
        if np.nanmin(values, initial=1) < 1 or np.nanmax(values, initial=1) > bins:
            raise ValueError(
                f"segments: {column} runs from {np.nanmin(values):g} to {np.nanmax(values):g}, outside "
                f"1..{bins}; pass tiers.bins, the scale the scores were made on"
            )
    scored = ~(np.isnan(scores["r_score"]) | np.isnan(scores["f_score"]) | np.isnan(scores["m_score"]))

    segment_codes = _segment_codes(scores, frequency, scored, settings, bins)
    class_codes = _value_class_codes(scores, scored, settings)
    return customers.assign(
        segment=_categorical(segment_codes, [rule.name for rule in settings.rfm_map], OTHER),
        segment_zh=_categorical(segment_codes, [rule.name_zh for rule in settings.rfm_map], OTHER_ZH),
        value_class=_categorical(class_codes, [c.name_zh for c in settings.value_classes], OTHER_ZH),
        value_class_en=_categorical(class_codes, [c.name for c in settings.value_classes], OTHER),
    )


def segment_table(settings: Segments, bins: int = 5) -> pd.DataFrame:
    """The two segment maps as a table for reports.

    Parameters
    ----------
    settings
        The ``segments`` section of the config.
    bins
        The score scale (``tiers.bins``); only used to tell whether a rule of the 11-group map can
        be reached by any combination of scores.

    Returns
    -------
    pd.DataFrame
        One row per segment of the 11-group map (``model`` = ``rfm_map``), then one per value class
        (``model`` = ``value_classes``), in config order: ``model``, ``name``, ``name_zh``, ``r``,
        ``fm`` (score ranges such as ``"4-5"``, on the 1..5 scale, for the 11-group map), ``f``,
        ``m`` (``high`` / ``low``; for value classes ``r`` is a level too), ``min_orders`` (Int64,
        missing for value classes) and ``reachable``: False for a rule of the 11-group map that no
        combination of scores 1..bins and purchases ends in (earlier rules cover it, since the
        first match wins, or its ranges hold no score); missing for value classes. A one-time
        buyer counts with F = 1 only, the score such a buyer always has.
    """
    reachable = _reachable(settings, bins)
    rows = [
        {
            "model": "rfm_map", "name": rule.name, "name_zh": rule.name_zh,
            "r": _range_text(rule.r), "fm": _range_text(rule.fm), "f": None, "m": None,
            "min_orders": rule.min_orders, "reachable": bool(hit),
        }
        for rule, hit in zip(settings.rfm_map, reachable)
    ] + [
        {
            "model": "value_classes", "name": c.name, "name_zh": c.name_zh,
            "r": c.r, "fm": None, "f": c.f, "m": c.m, "min_orders": None, "reachable": None,
        }
        for c in settings.value_classes
    ]
    columns = ["model", "name", "name_zh", "r", "fm", "f", "m"]
    table = pd.DataFrame(rows, columns=[*columns, "min_orders", "reachable"])
    return table.astype({c: "str" for c in columns} | {"min_orders": "Int64", "reachable": "boolean"})


def _categorical(codes: np.ndarray, names: list[str], other: str) -> pd.Categorical:
    """Categorical from rule positions: ``codes`` index `names`, ``len(names)`` means no rule
    matched (-> `other`), -1 means no scores (-> missing).

    Categories are the names in config order with `other` last. A name used by several rules is
    one category, so a segment may be drawn as more than one rectangle of scores.
    """
    labels = [*names, other]
    categories = list(dict.fromkeys(labels))
    lookup = np.array([categories.index(label) for label in labels], dtype="int64")
    return pd.Categorical.from_codes(np.where(codes >= 0, lookup[codes.clip(0)], -1), categories=categories)


def _rescaled(values: np.ndarray, bins: int) -> np.ndarray:
    """Scores 1..bins onto 1..5; numerator first so a whole score lands exactly on a whole number."""
    return 1.0 + (values - 1.0) * 4.0 / (bins - 1)


def _segment_codes(
    scores: dict[str, np.ndarray], frequency: np.ndarray, scored: np.ndarray, settings: Segments, bins: int
) -> np.ndarray:
    """Position of the first matching rule in ``rfm_map``; len(rfm_map) for no match; -1 unscored."""
    r = _rescaled(scores["r_score"], bins)
    # the mean of F and M on the 1..5 scale, with one division so whole/half values stay exact
    fm = 1.0 + ((scores["f_score"] - 1.0) + (scores["m_score"] - 1.0)) * 2.0 / (bins - 1)
    codes = _first_match(r, fm, frequency, settings)
    return np.where(scored, codes, -1)


def _first_match(r: np.ndarray, fm: np.ndarray, frequency: np.ndarray, settings: Segments) -> np.ndarray:
    rules = settings.rfm_map
    conditions = [
        (r >= rule.r[0]) & (r <= rule.r[1]) & (fm >= rule.fm[0]) & (fm <= rule.fm[1])
        & (frequency >= rule.min_orders if rule.min_orders > 1 else True)
        for rule in rules
    ]
    return np.select(conditions, list(range(len(rules))), default=len(rules))


def _value_class_codes(scores: dict[str, np.ndarray], scored: np.ndarray, settings: Segments) -> np.ndarray:
    """Position of the buyer's class in ``value_classes``; len(value_classes) if absent; -1 unscored."""
    position = np.full(8, len(settings.value_classes), dtype="int64")  # index: 4*R + 2*F + M high
    for i, c in enumerate(settings.value_classes):
        key = 4 * (c.r == "high") + 2 * (c.f == "high") + (c.m == "high")
        if position[key] != len(settings.value_classes):
            raise ValueError(
                f"segments.value_classes lists r={c.r} f={c.f} m={c.m} twice "
                f"({settings.value_classes[position[key]].name_zh} and {c.name_zh})"
            )
        position[key] = i
    if not scored.any():  # no buyers: no middle to split at, and nobody to classify
        return np.full(len(scored), -1, dtype="int64")
    key = np.zeros(len(scored), dtype="int64")
    for weight, column in zip((4, 2, 1), _SCORES):
        values = scores[column]
        middle = np.mean(values[scored]) if settings.split == "mean" else np.median(values[scored])
        key += weight * (values > middle)
    return np.where(scored, position[key], -1)


def _reachable(settings: Segments, bins: int) -> np.ndarray:
    """For each rule of the map: does any combination of scores 1..bins and purchases end in it?

    The purchase counts tried are 1, 2 and every rule's ``min_orders``, which are all the counts
    the rules tell apart; a one-time buyer has F = 1 only (:func:`custseg.segment.tiers.quantile_scores`),
    a repeat buyer any F.
    """
    levels = np.arange(1, bins + 1, dtype="float64")
    r, f, m = (a.ravel() for a in np.meshgrid(levels, levels, levels, indexing="ij"))
    counts = sorted({2, *(rule.min_orders for rule in settings.rfm_map)} - {1})
    grid = [(r, f, m, np.full(len(r), float(count))) for count in counts]
    once = f == 1
    grid.append((r[once], f[once], m[once], np.ones(int(once.sum()))))
    codes = [
        _segment_codes({"r_score": r, "f_score": f, "m_score": m}, count, np.ones(len(r), dtype=bool), settings, bins)
        for r, f, m, count in grid
    ]
    return np.isin(np.arange(len(settings.rfm_map)), np.concatenate(codes))


def _range_text(bounds: tuple[float, float]) -> str:
    return f"{bounds[0]:g}-{bounds[1]:g}"
