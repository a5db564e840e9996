"""Words for facts: how a fact that one module hands another reads, in the active language.

Modules pass facts, not prose: a reason code and its figures (``{"reason": "silence", "days": 139,
"cadence": 51}``). Words are made only at the edge that shows them, with the functions here: the
exports in English, each page in its own language (:func:`custseg.i18n.use_language`). Nothing parses
our own sentences back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from custseg import i18n
from custseg.i18n import N_, _, pgettext

# ---------------------------------------------------------------------------------------------
# Churn warnings, the churn model's choice and why it was skipped (custseg.segment.churn)
# ---------------------------------------------------------------------------------------------

#: How each churn warning reason reads, by code (and, for a silence over a tier's limit, by
#: whether the limit is a tier's and whether the orders all fell on one day).
_REASONS = {
    "silence": N_("silent {days} days, {ratio}x own cadence of {cadence} days"),
    ("silence_limit", True, True):
        N_("silent {days} days, over the {limit}-day limit for {tier}-tier customers whose orders all fell on one day"),
    ("silence_limit", False, True):
        N_("silent {days} days, over the {limit}-day limit for customers whose orders all fell on one day"),
    ("silence_limit", True, False):
        N_("silent {days} days, over the {limit}-day limit for {tier}-tier customers with fewer than {orders} orders"),
    ("silence_limit", False, False):
        N_("silent {days} days, over the {limit}-day limit for customers with fewer than {orders} orders"),
    "trend": N_("orders in the last 90 days {recent} vs {before} in the 90 days before"),
    ("satisfaction", True): N_("latest satisfaction {score}/5, {drop} below the earlier average"),
    ("satisfaction", False): N_("latest satisfaction {score}/5"),
    "interactions": N_("contacts in the last 90 days {contacts} vs {earlier} per 90 days before"),
}


def churn_reasons(reasons: Sequence[Mapping] | str | None) -> str:
    """The reasons of one customer's churn warnings in words, in the active language.

    Parameters
    ----------
    reasons
        The customer's entry of the ``reasons`` column of :func:`custseg.segment.churn.warnings`
        (a list of reason facts, as Arrow or a Parquet reader gives it back); a text (a watch list
        of an older custseg, which kept the words) is returned as it is.

    Returns
    -------
    str
        One clause per reason, in the order given, joined as clauses of a sentence ("a; b");
        empty when there are none. In English exactly the words of the watch-list export.
    """
    if isinstance(reasons, str):
        return reasons
    if reasons is None or isinstance(reasons, float):  # missing (NaN: a customer a table does not cover)
        return ""
    return i18n.join_clauses(churn_reason(reason) for reason in reasons)


def churn_reason(reason: Mapping) -> str:
    """One churn warning reason (a code and its figures, :func:`custseg.segment.churn.warnings`)
    in words, in the active language; a tier name is translated when the catalog knows it."""
    code = reason["reason"]
    if code == "silence":
        days, cadence = _float(reason["days"]), _float(reason["cadence"])
        return _(_REASONS[code]).format(
            days=_figure(days), ratio=_figure(days / cadence, 1), cadence=_figure(cadence)
        )
    if code == "silence_limit":
        tier = reason.get("tier")
        one_day = _float(reason["orders"]) >= reason["min_orders"]  # orders but no rhythm yet
        if tier is not None and i18n.current() != i18n.LANGUAGES[0]:
            tier = i18n.label("tier", tier)
        return _(_REASONS[code, tier is not None, bool(one_day)]).format(
            days=_figure(reason["days"]), limit=_figure(reason["limit"]), tier=tier,
            orders=_figure(reason["min_orders"]),
        )
    if code == "trend":
        return _(_REASONS[code]).format(recent=_figure(reason["recent"]), before=_figure(reason["before"]))
    if code == "satisfaction":
        drop = reason.get("drop")
        fell = drop is not None and not np.isnan(_float(drop))
        return _(_REASONS[code, fell]).format(
            score=_figure(reason["score"], 1), drop=_figure(drop, 1) if fell else ""
        )
    if code == "interactions":
        return _(_REASONS[code]).format(contacts=_figure(reason["contacts"]), earlier=_figure(reason["earlier"], 1))
    raise ValueError(f"unknown churn warning reason {code!r}")


#: The populations the churn model is judged on (custseg.segment.churn.POPULATIONS), in words.
_POPULATIONS = {"buyers": N_("all buyers"), "not_lost": N_("buyers not yet lost")}


def model_choice(choice: Mapping | str | None, names: Mapping[str, str] | None = None) -> str:
    """Which churn model won and why, in words, in the active language.

    Parameters
    ----------
    choice
        ``Backtest.choice`` (study.json ``churn.choice``): the winner's validation ROC AUC, the
        others' and the population it was judged on (no population: there was no out-of-time
        check). A text (study.json of an older custseg) is returned as it is; None gives "".
    names
        How to name each candidate (e.g. "logistic regression" for ``logistic``); by default as
        the config names them, as the log of a run shows them.

    Returns
    -------
    str
        E.g. "logistic: validation ROC AUC 0.734 vs recency 0.640 (buyers not yet lost)".
    """
    if not choice:
        return ""
    if isinstance(choice, str):
        return choice

    def name(candidate: str) -> str:
        return (names or {}).get(candidate, candidate)

    population = choice.get("population")
    if population is None:
        return _("{model}: no out-of-time check (the history is too short)").format(model=name(choice["candidate"]))
    return _("{model}: validation ROC AUC {auc} vs {others} ({population})").format(
        model=name(choice["candidate"]),
        auc=_auc(choice.get("roc_auc")),
        others=pgettext("between compared models", " vs ").join(
            f"{name(other['candidate'])} {_auc(other.get('roc_auc'))}" for other in choice.get("others") or ()
        ),
        population=_(_POPULATIONS[population]) if population in _POPULATIONS else str(population),
    )


#: Which table of customers was too small for the churn model (``too_few_buyers``), in words.
_MODEL_DATA = {
    "learning": N_("the dates it learns from"),
    "checking": N_("the dates it is checked against"),
    "validation": N_("the validation window"),
}


def churn_model_note(note: Mapping | str | None) -> str:
    """Why the churn model was not used (``Backtest.note``, study.json ``churn.note``), as a
    clause in the active language ("the churn model needs orders from 2026-06-03 on ..."); a text
    (study.json of an older custseg) is returned as it is, nothing gives ""."""
    if not note:
        return ""
    if isinstance(note, str):
        return note
    reason = note.get("reason")
    if reason == "no_history":
        return _(
            "the churn model needs orders from {start} on ({days} days of history before a first date to learn "
            "from, then a window of {horizon} days before the observation date), but the orders start on {first}; "
            "the warnings rules apply alone"
        ).format(start=note["start_needed"], days=note["min_history_days"], horizon=note["horizon_days"],
                 first=note.get("orders_start") or _("nothing"))
    if reason == "too_few_buyers":
        when = note["first"] if note.get("last") is None else _("{first} to {last}").format(
            first=note["first"], last=note["last"])
        data = note.get("data")
        return _(
            "{what} ({when}, orders in the {horizon} days after each) hold {buyers:,} buyers, {churned:,} of whom "
            "churned and {stayed:,} stayed; the churn model needs at least {minimum:,} buyers and {each:,} of each "
            "outcome"
        ).format(what=_(_MODEL_DATA[data]) if data in _MODEL_DATA else str(data), when=when,
                 horizon=note["horizon_days"], buyers=note["buyers"], churned=note["churned"], stayed=note["stayed"],
                 minimum=note["min_buyers"], each=note["min_each"])
    raise ValueError(f"unknown reason {reason!r} for a skipped churn model")


def _figure(value: object, decimals: int = 0) -> str:
    """A figure as a reader writes it: 140, 2.8, 3 (not 3.0); a missing whole number as 0."""
    rounded = np.round(_float(value), decimals)
    if decimals == 0:
        return str(int(0.0 if np.isnan(rounded) else rounded))
    return str(rounded).removesuffix(".0")


def _float(value: object) -> np.float64:
    return np.float64(np.nan if value is None else value)


def _auc(value: object) -> str:
    return "nan" if value is None else f"{value:.3f}"


# ---------------------------------------------------------------------------------------------
# Cluster notes (custseg.segment.step)
# ---------------------------------------------------------------------------------------------

def cluster_note(note: Mapping | str | None, *, clause: bool = False) -> str:
    """Why there are no clusters, or why they fall short of ``clusters.min_share``, in words.

    Parameters
    ----------
    note
        study.json ``clusters.note``: ``{"reason": "few_buyers", ...}`` or ``{"reason":
        "min_share", ...}`` (:func:`custseg.segment.step.segment`). A text (study.json of an older
        custseg) is shown as a sentence; None gives "".
    clause
        A clause for an English log line ("no k from 2 to 8 gives ..."), not a sentence.

    Returns
    -------
    str
        A sentence in the active language ("No clusters: 1,234 customers ... need.").
    """
    if not note:
        return ""
    if isinstance(note, str):
        text = note[0].upper() + note[1:].rstrip(".") + "."
    elif note.get("reason") == "few_buyers":
        text = _(
            "No clusters: {usable} customers with purchases and every feature, fewer than the {needed} "
            "that {k} clusters (clusters.k_min) of at least {size} customers need."
        ).format(usable=f"{note['usable']:,}", needed=f"{note['needed']:,}", k=note["k_min"], size=note["min_size"])
    elif note.get("reason") == "min_share":
        text = _(
            "No k from {first} to {last} gives every cluster at least {share} of the buyers (clusters.min_share); "
            "k = {k}, whose smallest cluster holds {smallest}, is the closest and was kept."
        ).format(first=note["k_min"], last=note["k_max"], share=f"{note['min_share']:.1%}", k=note["k"],
                 smallest=f"{note['smallest']:.1%}")
    else:
        raise ValueError(f"unknown reason {note.get('reason')!r} for the clusters")
    return text[0].lower() + text[1:].removesuffix(".") if clause else text
