"""The values custseg could not place (a country or province it did not recognise), as a table that
says what happened to each and which line of the config places it; on the region page of the
"Unknown" region and on the data-quality page.
"""

from __future__ import annotations

import pandas as pd
import pycountry

from custseg import geo, i18n
from custseg.i18n import N_, _
from custseg.studies import render
from custseg.studies.labels import in_chinese


def _default_market_name(name: str) -> str:
    """A default market's name in the report language ("Europe" / "欧洲"); other names as they are."""
    if in_chinese():
        return next((market.name_zh for market in geo.MARKETS if market.name == name), name)
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
    names = geo.normalize_countries(pd.Series([code]))
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
