"""Words for facts: how a fact that one module hands another reads, in the active language.

Modules pass facts, not prose: a reason code and its figures (``{"reason": "silence", "days": 139,
"cadence": 51}``). Words are made only at the edge that shows them, with the functions here: the
exports in English, each page in its own language (:func:`custseg.i18n.use_language`). Nothing parses
our own sentences back.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from custseg.i18n import N_, _, pgettext

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
