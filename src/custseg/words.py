"""Words for facts: how a fact that one module hands another reads, in the active language.

Modules pass facts, not prose: a reason code and its figures (``{"reason": "silence", "days": 139,
"cadence": 51}``). Words are made only at the edge that shows them, with the functions here: the
exports in English, each page in its own language (:func:`custseg.i18n.use_language`). Nothing parses
our own sentences back.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import numpy as np
from babel.numbers import format_percent

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


#: When each churn warning rule fires, by rule code (custseg.segment.churn.rule_table).
_RULES = {
    "warn_silence": N_(
        "silent for more than {factor:g} x own cadence (customers with at least {min_orders} orders), else more "
        "than the tier's limit in days ({tiers}; {days} for other tiers); never for {min_days} days or less"
    ),
    "warn_trend": N_(
        "orders in the last 90 days at most {drop:g} x those of the 90 days before, which held at least "
        "{min_orders}"
    ),
    "warn_satisfaction": N_(
        "latest satisfaction at most {low:g} of 5, or at least {drop:g} below the customer's earlier average"
    ),
    "warn_interactions": N_(
        "contacts in the last 90 days at most {drop:g} x the earlier rate per 90 days, which was at least "
        "{minimum:g}"
    ),
}


def churn_rule(rule: str, figures: str | Mapping[str, object]) -> str:
    """When a churn warning rule fires, with its configured figures, in the active language.

    Parameters
    ----------
    rule
        The rule's code (``warn_silence``, ...).
    figures
        Its figures (``churn_rules.parquet`` ``figures``, :func:`custseg.segment.churn.rule_table`),
        as the JSON text stored or decoded.

    Returns
    -------
    str
        E.g. "orders in the last 90 days at most 0.5 x those of the 90 days before, which held at
        least 3"; a tier's name is translated when the catalog knows it.
    """
    facts = dict(json.loads(figures) if isinstance(figures, str) else figures)
    if rule == "warn_silence":
        facts["tiers"] = i18n.join_list(
            # Translators: a value tier and its silence limit in days, one item of a list ("high 90")
            _("{tier} {days}").format(tier=i18n.label("tier", tier), days=days)
            for tier, days in facts["tiers"].items()
        )
    return _(_RULES[rule]).format(**facts)


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


# ---------------------------------------------------------------------------------------------
# The value models (custseg.segment.clv, value_backtest, retention)
# ---------------------------------------------------------------------------------------------

#: The purchase models by code, as their literature names them.
_PURCHASE_MODELS = {"bgnbd": "BG/NBD", "mbgnbd": "MBG/NBD"}


def value_fit_error(error: Mapping | str | None) -> str:
    """Why the value models could not be fitted (:func:`custseg.segment.clv.fit_error`, study.json
    ``value.error``), as a clause in the active language; a text (study.json of an older custseg)
    is returned as it is, nothing gives "".

    In English exactly the message of the exception the fit raised (:class:`ValueError`).
    """
    if not error:
        return ""
    if isinstance(error, str):
        return error
    reason = error.get("reason")
    model = _PURCHASE_MODELS.get(str(error.get("model")), str(error.get("model")))
    if reason == "few_repeat_buyers":
        return _(
            "too little data for the value models: {repeat} of {customers} customers bought more than once, the "
            "BG/NBD model needs at least value.min_repeat_buyers = {minimum} repeat buyers to tell drop-out from slow "
            "buying"
        ).format(repeat=error["repeat_buyers"], customers=error["customers"], minimum=error["min_repeat_buyers"])
    if reason == "no_optimum":
        # Translators: {scipy} is the optimizer's own message, in English
        return _(
            "the {model} optimizer stopped without reaching an optimum (scipy: {scipy}); the value models are not "
            "available"
        ).format(model=model, scipy=error["scipy"])
    if reason == "no_finite_optimum":
        return _(
            "the {model} fit has no finite optimum: parameter(s) {parameters} ran off to the edge of their range, "
            "typically because the data show (almost) no customer dropping out or no variation in purchase rates; "
            "try a small value.penalizer such as 0.001"
        ).format(model=model, parameters=i18n.join_list(error["parameters"]))
    if reason == "invalid":  # a broken summary: the exception's own text (a bug, not the data)
        return str(error["message"])
    raise ValueError(f"unknown reason {reason!r} why the value models could not be fitted")


#: What to know about the Gamma-Gamma part of a fit, by reason code (and by the purchases it read).
_VALUE_NOTES = {
    ("few_spenders", "repeat"): N_(
        "order values not modelled by Gamma-Gamma: only {spenders} repeat buyers have a positive mean repeat order "
        "value (value.min_repeat_buyers = {minimum})"
    ),
    ("few_spenders", "all"): N_(
        "order values not modelled by Gamma-Gamma: only {spenders} buyers have a positive mean purchase value "
        "(value.min_repeat_buyers = {minimum})"
    ),
    # Translators: {scipy} is the optimizer's own message, in English
    ("gg_no_optimum", None): N_(
        "order values not modelled by Gamma-Gamma: the Gamma-Gamma optimizer stopped without reaching an optimum "
        "(scipy: {scipy})"
    ),
    ("gg_heavy_tail", None): N_(
        "order values not modelled by Gamma-Gamma: q = {q} <= 1, so the model's mean order value is infinite: mean "
        "order values differ too much between customers (heavy tail) for the model"
    ),
    ("correlation", "repeat"): N_(
        "purchase frequency and order value correlate (Pearson r = {r} over the repeat buyers); the Gamma-Gamma "
        "model assumes they are independent, so expected order values and CLV are less reliable"
    ),
    ("correlation", "all"): N_(
        "purchase frequency and order value correlate (Pearson r = {r} over the buyers); the Gamma-Gamma model "
        "assumes they are independent, so expected order values and CLV are less reliable"
    ),
    ("own_means", None): N_("expected order values are each customer's own mean purchase value instead"),
}


def value_note(note: Sequence[Mapping] | str | None) -> str:
    """What to know about the value models' fit (``ValueModels.note``, study.json ``value.note``),
    as clauses of a sentence in the active language ("a; b"); a text (study.json of an older
    custseg) is returned as it is, nothing gives ""."""
    if not note:
        return ""
    if isinstance(note, str):
        return note
    clauses = []
    for fact in note:
        reason = fact.get("reason")
        key = (reason, fact.get("purchases") if reason in ("few_spenders", "correlation") else None)
        if key not in _VALUE_NOTES:
            raise ValueError(f"unknown note {reason!r} about the value models")
        figures = {name: f"{fact[name]:.2f}" for name in ("q", "r") if fact.get(name) is not None}
        clauses.append(_(_VALUE_NOTES[key]).format(
            spenders=fact.get("spenders"), minimum=fact.get("min_repeat_buyers"), scipy=fact.get("scipy"), **figures
        ))
    return i18n.join_clauses(clauses)


def value_label(basis: Mapping) -> str:
    """What the value column of the exported watch list holds, in a few English words (the
    export is one file for every reader, like its reasons), from study.json ``value.basis``."""
    if basis.get("kind") == "clv":
        return f"CLV: expected revenue over the next {basis['days']} days (predicted)"
    return f"net spend over the last {basis['days']} days (observed; value models not fitted)"


def value_basis(basis: Mapping | str | None) -> str:
    """What "value" means in a run (study.json ``value.basis``, :func:`custseg.segment.retention
    .value_basis`), in the active language; a text (study.json of an older custseg) is returned as
    it is, nothing gives "".

    Returns
    -------
    str
        E.g. "expected revenue over the next 365 days, discounted at 10% a year (BG/NBD and
        Gamma-Gamma)" or "net spend in the 365 days before the observation date, as recorded
        (observed, not predicted: the value models could not be fitted: ...)".
    """
    if not basis:
        return ""
    if isinstance(basis, str):
        return basis
    if basis.get("kind") == "net_spend":
        return _(
            "net spend in the {days} days before the observation date, as recorded (observed, not predicted: the "
            "value models could not be fitted: {error})"
        ).format(days=basis["days"], error=value_fit_error(basis.get("error")))
    return _(
        "expected revenue over the next {days} days, discounted at {rate} a year ({model} and {order_values})"
    ).format(
        days=basis["days"],
        rate=format_percent(basis["rate"], format="#,##0%", locale=i18n.babel_locale()),
        model=_PURCHASE_MODELS.get(basis.get("model"), "BG/NBD"),
        order_values=_("Gamma-Gamma") if basis.get("order_values") == "gamma_gamma" else _("own mean order values"),
    )


# ---------------------------------------------------------------------------------------------
# Cluster names (custseg.segment.clusters)
# ---------------------------------------------------------------------------------------------

def _cluster_words() -> dict[str, str]:
    """The words of a cluster name (:func:`custseg.segment.clusters.cluster_name`), by code, in
    the active language."""
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


#: How the words of a cluster name are joined, by language (English: with spaces; Chinese
#: writes them as one word, "近期高频高消费客户").
_NAME_JOINERS = {"en": " ", "zh": ""}


def cluster_name(name: Mapping | str | None) -> str:
    """A cluster's name in words, in the active language.

    Parameters
    ----------
    name
        study.json ``clusters.names`` entry (:func:`custseg.segment.clusters.cluster_name`): the
        describing word codes (``words``, in order), the noun code (``noun``) and ``repeat``, 1 for
        the first cluster (by id) with these words, 2 for the second, ... A text (study.json of an
        older custseg, which kept the words) is returned as it is; None gives "".

    Returns
    -------
    str
        E.g. "Recent frequent high spenders", "Average customers" (no describing word), "Big-basket
        buyers (2)"; in Chinese "近期高频高消费客户", "普通客户", "大单客户 (2)". In English exactly
        the name of the export's ``cluster_name`` column.
    """
    if not name:
        return ""
    if isinstance(name, str):
        return name
    codes = [*name.get("words", ()), name["noun"]]
    vocabulary = _cluster_words() if i18n.current() != i18n.LANGUAGES[0] else {}
    if len(codes) == 1:
        text = pgettext("cluster", "Average customers") if vocabulary else "average customers"
    else:
        joiner = _NAME_JOINERS.get(i18n.current(), " ")
        text = joiner.join(vocabulary.get(code, code) for code in codes)
    text = text[0].upper() + text[1:]
    repeat = int(name.get("repeat") or 1)
    return text if repeat == 1 else f"{text} ({repeat})"


# --------------------------------------------------------------------------- quarantine (intake)
# Intake quarantines a row with a reason code, the column at fault and a few figures (the row's
# currency, the row's other problems): see docs/data-contract.md. These functions make a row's
# ``detail`` from them: in English for quarantine.csv (the same text as before the facts), in the
# page's language on the data-quality page.

#: Quarantine reason codes and what each means, in the order intake picks a row's first problem
#: (:func:`custseg.intake.validation.failures`); ``inputs.<table>`` names the row's table where shown.
QUARANTINE_REASONS: dict[str, str] = {
    "missing_id": N_("a required id is empty"),
    "bad_date": N_("a date that cannot be read"),
    "implausible_date": N_("a date outside the plausible range (cleaning.earliest_date to cleaning.latest_date)"),
    "bad_number": N_("a number that cannot be read, or not a finite one (inf, NaN, 1e400)"),
    "ambiguous_number": N_(
        "a number whose decimal separator cannot be told (1,234 is 1234 with a decimal point, 1.234 with a "
        "decimal comma): set inputs.<table>.decimal"
    ),
    "zero_amount": N_("an amount or quantity of zero (cleaning.zero_amount: keep to accept them)"),
    "negative_price": N_("a unit price below zero"),
    "unknown_currency": N_("a currency with no exchange rate in the config"),
    "currency_mismatch": N_("an amount whose currency sign contradicts the row's currency ($100 in a CNY row)"),
    "unknown_status": N_("an order status not listed under cleaning.statuses"),
    "out_of_range": N_("a score outside its scale (satisfaction 1-5, NPS 0-10)"),
    "conflicting_duplicate": N_("rows that share an id but differ: every one of them is set aside"),
    "conflicting_invoice": N_(
        "an invoice whose lines name more than one customer or currency: every line of it is set aside"
    ),
}


def quarantine_figures(*, currency: str | None = None, also: list[tuple[str, str]] | None = None) -> str:
    """The figures of a quarantined row as the compact JSON text intake stores (``figures`` column).

    Parameters
    ----------
    currency
        The row's currency, for a ``currency_mismatch``.
    also
        The row's other problems after its first: (reason code, column) pairs, in intake's order.

    Returns
    -------
    str
        ``{}`` without figures, else e.g. ``{"currency":"USD","also":[["bad_number","amount"]]}``.
    """
    figures: dict[str, object] = {}
    if currency is not None:
        figures["currency"] = currency
    if also:
        figures["also"] = [list(pair) for pair in also]
    return json.dumps(figures, ensure_ascii=False, separators=(",", ":"))


def quarantine_meaning(reason: str, table: str, *, currency: str | None = None) -> str:
    """What a quarantine reason means for a row of ``table``, in the active language.

    ``inputs.<table>`` becomes the table's own config key; a currency mismatch names the row's
    currency when it is given.
    """
    meaning = _(QUARANTINE_REASONS[reason]).replace("inputs.<table>", f"inputs.{table}")
    if reason == "currency_mismatch" and currency is not None:
        meaning = _("{meaning}; the row's currency is {currency}").format(meaning=meaning, currency=currency)
    return meaning


def quarantine_detail(reason: str, column: str, table: str, figures: str | Mapping[str, object] = "") -> str:
    """The detail of one quarantined row, in the active language.

    Parameters
    ----------
    reason, column, table
        The row's first reason code, the column at fault and the row's table.
    figures
        The row's figures (:func:`quarantine_figures`), as the JSON text intake stores or decoded;
        empty: none.

    Returns
    -------
    str
        In English, e.g. ``amount: an amount or quantity of zero (cleaning.zero_amount: keep to accept
        them) (also bad_date in order_date)``: the text of ``quarantine.csv``.
    """
    facts = json.loads(figures) if isinstance(figures, str) and figures else figures or {}
    currency = facts.get("currency")
    detail = _("{column}: {meaning}").format(
        column=column, meaning=quarantine_meaning(reason, table, currency=None if currency is None else str(currency))
    )
    also = facts.get("also") or []
    if also:
        problems = pgettext("clause separator", "; ").join(
            _("{reason} in {column}").format(reason=code, column=where) for code, where in also
        )
        detail = _("{detail} (also {problems})").format(detail=detail, problems=problems)
    return detail
