"""Countries as a real shop recorded them: the UCI Online Retail II export (2009-2010 sheet).

The data lives outside the project (``../shared/data``, next to the checkout; CI lays it there
too) and is never copied in; the ``real_data`` fixture (tests/conftest.py) finds it and fails the
test when it is missing: a skipped test would hide that the real export was never read.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from custseg import geo
from custseg.intake import quality

EXPORT = Path("online_retail_ii") / "online_retail_ii_2009_2010.csv.gz"

# Every spelling of the export and what it names: an ISO alpha-3 code, a market for a group of
# countries (the country stays unknown), or None for the one value that says no country was given.
EXPECTED: dict[str, tuple[str, str | None]] = {
    "United Kingdom": ("country", "GBR"), "EIRE": ("country", "IRL"), "Netherlands": ("country", "NLD"),
    "Germany": ("country", "DEU"), "France": ("country", "FRA"), "Sweden": ("country", "SWE"),
    "Denmark": ("country", "DNK"), "Switzerland": ("country", "CHE"), "Spain": ("country", "ESP"),
    "Australia": ("country", "AUS"), "Portugal": ("country", "PRT"), "Belgium": ("country", "BEL"),
    "Channel Islands": ("market", "Europe"), "Greece": ("country", "GRC"), "Italy": ("country", "ITA"),
    "Austria": ("country", "AUT"), "Cyprus": ("country", "CYP"), "Japan": ("country", "JPN"),
    "United Arab Emirates": ("country", "ARE"), "Finland": ("country", "FIN"), "Unspecified": ("not_given", None),
    "Lithuania": ("country", "LTU"), "USA": ("country", "USA"), "Norway": ("country", "NOR"),
    "Singapore": ("country", "SGP"), "Hong Kong": ("country", "HKG"), "Poland": ("country", "POL"),
    "Israel": ("country", "ISR"), "Thailand": ("country", "THA"), "Malta": ("country", "MLT"),
    "RSA": ("country", "ZAF"), "Bahrain": ("country", "BHR"), "Iceland": ("country", "ISL"),
    "Bermuda": ("country", "BMU"), "Canada": ("country", "CAN"), "Korea": ("country", "KOR"),
    "West Indies": ("market", "Latin America"), "Brazil": ("country", "BRA"), "Lebanon": ("country", "LBN"),
    "Nigeria": ("country", "NGA"),
}


@pytest.fixture(scope="module")
def export(real_data: Path) -> pd.DataFrame:
    path = real_data / EXPORT
    # text as written: "NA" would be Namibia, and no country here is missing
    return pd.read_csv(path, usecols=["Customer ID", "Country", "Price", "Quantity"], dtype={"Country": "string"},
                       keep_default_na=False)


def test_every_spelling_but_the_non_answer_is_placed(export):
    spellings = pd.Series(sorted(export["Country"].unique()), dtype="string")
    assert len(spellings) == 40 and set(spellings) == set(EXPECTED), "the export's spellings changed"
    found = geo.normalize_countries(spellings)
    got = {
        spelling: (match, iso3 if match == "country" else market if match == "market" else None)
        for spelling, match, iso3, market in zip(spellings, found["country_match"], found["country_iso3"],
                                                 found["country_market"], strict=True)
    }
    assert got == EXPECTED
    print(f"Online Retail II: {sum(m != 'not_given' for m, _ in got.values())} of 40 spellings placed; "
          f"only {[s for s, (m, _) in got.items() if m == 'not_given']} says no country was given")


def test_the_unplaced_customers_and_their_revenue(export):
    lines = export[export["Customer ID"].ne("")].assign(revenue=lambda f: f["Price"] * f["Quantity"])
    customers = lines.groupby("Customer ID").agg(country=("Country", "last"), monetary=("revenue", "sum"))
    placed = geo.normalize_regions(customers.reset_index())
    markets = placed.groupby("market").size()
    assert markets["Europe"] > 4000 and markets["Latin America"] >= 1 and markets["Unknown"] >= 1
    unplaced = quality.unplaced_places(placed)
    # Channel Islands and West Indies gave a market; Unspecified gave nothing, and is not a spelling to fix
    assert set(unplaced["value"]) == {"Channel Islands", "West Indies", "Unspecified"}
    unspecified = unplaced.set_index("value").loc["Unspecified"]
    assert unspecified["status"] == "not_given" and unspecified["alias"] == ""
    assert unspecified["customers"] == (customers["country"] == "Unspecified").sum()
    assert unplaced["revenue"].is_monotonic_decreasing
