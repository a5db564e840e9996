"""Tests of custseg.geo.countries: country spellings to ISO 3166-1 countries, from the libraries,
the package's tables, real exports' spellings and suggestions."""

from __future__ import annotations

import pandas as pd
import pycountry
import pytest
from babel import Locale

from custseg import geo
from custseg.geo import (
    UNKNOWN,
    _placenames,
    countries,
    normalize_countries,
    normalize_key,
    normalize_regions,
)
from support.places import (
    COUNTRY_CASES,
    country_matches,
    full_width,
    iso3_of,
    read_data_csv,
)

# --------------------------------------------------------------------------- normalize_key


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("U.S.A.", "usa"),
        ("  United   States\t", "united states"),
        ("ＵＳＡ", "usa"),
        ("Ｈｏｎｇ\u3000Ｋｏｎｇ", "hong kong"),
        ("GERMANY", "germany"),
        ("中国", "中国"),
        ("", ""),
        ("   ", ""),
    ],
)
def test_normalize_key(raw: str, key: str) -> None:
    assert normalize_key(raw) == key


def test_normalize_key_rejects_non_strings() -> None:
    with pytest.raises(TypeError, match="string"):
        normalize_key(None)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- countries


@pytest.mark.parametrize(("spelling", "iso3"), COUNTRY_CASES)
def test_country_spellings(spelling: str, iso3: str) -> None:
    assert iso3_of(spelling) == iso3


@pytest.mark.parametrize(("spelling", "iso3"), COUNTRY_CASES)
def test_country_spellings_ignore_case_whitespace_and_width(spelling: str, iso3: str) -> None:
    variants = [spelling.upper(), spelling.lower(), f"  {spelling} ", f"\t{spelling}\u3000", full_width(spelling)]
    if " " in spelling:
        variants.append(spelling.replace(" ", "   "))
    assert [iso3_of(variant) for variant in variants] == [iso3] * len(variants)


@pytest.mark.parametrize(
    ("spelling", "iso3"),
    [
        ("Sverige", "SWE"),
        ("Polska", "POL"),
        ("Suomi", "FIN"),
        ("Schweiz", "CHE"),
        ("Suisse", "CHE"),
        ("España", "ESP"),
        ("Österreich", "AUT"),
        ("Nederland", "NLD"),
        ("Italia", "ITA"),
        ("Россия", "RUS"),
        ("مصر", "EGY"),
        ("Magyarország", "HUN"),
    ],
)
def test_countries_in_their_own_languages(spelling: str, iso3: str) -> None:
    assert iso3_of(spelling) == iso3


def test_country_columns() -> None:
    result = normalize_countries(
        pd.Series(["中国大陆", "South Korea", "U.S.", "台灣", "Atlantis"], index=[5, 3, 9, 1, 7])
    )
    assert list(result.columns) == [
        "country_iso3", "country_iso2", "country_en", "country_zh", "continent", "country_match", "country_market",
    ]
    assert list(result.index) == [5, 3, 9, 1, 7]
    assert result.loc[5].tolist() == ["CHN", "CN", "China", "中国", "AS", "country", pd.NA]
    assert result.loc[3].tolist() == ["KOR", "KR", "South Korea", "韩国", "AS", "country", pd.NA]
    # North America's continent code is the string "NA", not a missing value.
    assert result.loc[9].tolist() == ["USA", "US", "United States", "美国", "NA", "country", pd.NA]
    assert result.loc[1].tolist() == ["TWN", "TW", "Taiwan", "台湾", "AS", "country", pd.NA]
    assert result.loc[7].drop("country_match").isna().all()
    assert result.loc[7, "country_match"] == "unknown"
    assert all(isinstance(dtype, pd.StringDtype) for dtype in result.dtypes)
    assert result.loc[7, "country_iso3"] is pd.NA


@pytest.mark.parametrize("country", list(pycountry.countries), ids=lambda country: country.alpha_3)
def test_every_iso_country_from_codes_and_library_names(country) -> None:
    spellings = [
        country.alpha_2,
        country.alpha_3.lower(),
        country.name,
        getattr(country, "official_name", None),
        getattr(country, "common_name", None),
    ]
    spellings += [Locale.parse(locale).territories.get(country.alpha_2) for locale in ("en", "zh", "zh_Hant")]
    spellings = [spelling for spelling in spellings if spelling]
    result = normalize_countries(pd.Series(spellings))
    assert result["country_iso3"].tolist() == [country.alpha_3] * len(spellings)
    assert result["country_iso2"].tolist() == [country.alpha_2] * len(spellings)
    assert result["continent"].notna().all()


def test_every_alias_is_recognised_and_adds_a_spelling() -> None:
    aliases = read_data_csv("country_aliases.csv")
    result = normalize_countries(pd.Series([row["alias"] for row in aliases]))
    assert result["country_iso3"].tolist() == [row["iso3"] for row in aliases]
    library = countries._library_country_keys()
    redundant = [row["alias"] for row in aliases if normalize_key(row["alias"]) in library]
    assert redundant == [], "these aliases are already in the core table from pycountry / CLDR; drop them from the CSV"
    # An alias may repeat what the other CLDR locales know (it keeps the spelling in the fast core
    # table, and certain should a later release find the spelling shared), never contradict it.
    extended = countries._extended_names()
    contradict = [
        (row["alias"], row["iso3"], extended[key])
        for row in aliases
        if (key := normalize_key(row["alias"])) in extended
        and extended[key] != _placenames.Found("country", row["iso3"])
    ]
    assert contradict == []
    assert all(row["comment"].strip() for row in aliases), "every alias says why it is needed"


@pytest.mark.parametrize("value", ["Atlantis", "", "   ", "n/a", "-", "??", "Chinaa", "123", "中", "Korea Korea"])
def test_unrecognised_country_is_missing(value: str) -> None:
    assert iso3_of(value) is pd.NA


def test_country_input_dtypes_and_missing_values() -> None:
    # 840 is the ISO numeric code of the United States, whether it comes as text or as a number
    values = ["CN", None, "usa", float("nan"), pd.NA, 840, "CN", 1234]
    expected = ["CHN", pd.NA, "USA", pd.NA, pd.NA, "USA", "CHN", pd.NA]
    assert normalize_countries(pd.Series(values, dtype=object))["country_iso3"].tolist() == expected
    for dtype in ("str", "string", "category"):
        text = pd.Series(["CN", None, "usa", "CN"], dtype=dtype)
        assert normalize_countries(text)["country_iso3"].tolist() == ["CHN", pd.NA, "USA", "CHN"]


def test_empty_series() -> None:
    result = normalize_countries(pd.Series([], dtype="str"))
    assert result.empty
    assert list(result.columns) == [
        "country_iso3", "country_iso2", "country_en", "country_zh", "continent", "country_match", "country_market",
    ]


def test_normalize_countries_does_not_mutate_input() -> None:
    values = pd.Series([" China ", "ＵＳＡ", None], index=["a", "b", "c"])
    before = values.copy()
    normalize_countries(values)
    pd.testing.assert_series_equal(values, before)


def test_normalize_countries_rejects_non_series() -> None:
    with pytest.raises(TypeError, match="Series"):
        normalize_countries(["China"])  # type: ignore[arg-type]


# --------------------------------------------------------------------------- places on real exports




@pytest.mark.parametrize(
    ("spelling", "iso3"),
    [
        # every CLDR locale, not only the official languages
        ("Allemagne", "DEU"), ("Alemania", "DEU"), ("Duitsland", "DEU"), ("ドイツ", "DEU"), ("Германия", "DEU"),
        ("Éire", "IRL"), ("Irlanda", "IRL"), ("Brésil", "BRA"), ("Brasilien", "BRA"), ("Marrocos", "MAR"),
        # ISO numeric codes, as ISO writes them
        ("276", "DEU"), ("076", "BRA"), ("840", "USA"), ("156", "CHN"),
        # accents, case and punctuation
        ("EIRE", "IRL"), ("eire", "IRL"), ("Osterreich", "AUT"), ("Oesterreich", "AUT"), ("Turkiye", "TUR"),
        ("COTE D'IVOIRE", "CIV"), ("Guinea Bissau", "GNB"), ("Sao Tome & Principe", "STP"),
        # abbreviations and word order, as statistical tables write them
        ("Korea, Rep.", "KOR"), ("Congo, Dem. Rep.", "COD"), ("Congo, Rep.", "COG"), ("Bahamas, The", "BHS"),
        ("St. Lucia", "LCA"), ("Solomon Is.", "SLB"), ("Micronesia, Fed. Sts.", "FSM"), ("Egypt, Arab Rep.", "EGY"),
        # everyday abbreviations
        ("RSA", "ZAF"), ("UAE", "ARE"), ("KSA", "SAU"), ("USA", "USA"), ("UK", "GBR"), ("DRC", "COD"),
        # countries ISO 3166-3 withdrew, where one country took their place
        ("Burma", "MMR"), ("Zaire", "COD"), ("East Timor", "TLS"), ("Upper Volta", "BFA"),
    ],
)
def test_country_spellings_of_real_exports(spelling: str, iso3: str) -> None:
    assert country_matches([spelling]) == [(iso3, "country", pd.NA)]


@pytest.mark.parametrize(
    ("spelling", "market"),
    [
        ("Channel Islands", "Europe"), ("European Community", "Europe"), ("EU", "Europe"), ("Europa", "Europe"),
        ("Scandinavia", "Europe"), ("Yugoslavia", "Europe"), ("West Indies", "Latin America"),
        ("Caribbean", "Latin America"), ("Karibik", "Latin America"), ("Netherlands Antilles", "Latin America"),
        ("Latin America", "Latin America"), ("Middle East", "Middle East"), ("Africa", "Africa"),
        ("Oceania", "Asia-Pacific"), ("APAC", "Asia-Pacific"), ("港澳台", "Hong Kong, Macao & Taiwan"),
    ],
)
def test_groupings_place_a_market_and_no_country(spelling: str, market: str) -> None:
    assert country_matches([spelling]) == [(pd.NA, "market", market)]
    frame = normalize_regions(pd.DataFrame({"country": [spelling]}))
    assert frame[["market", "country_iso3", "country_match"]].iloc[0].tolist() == [market, pd.NA, "market"]


@pytest.mark.parametrize("spelling", ["Asia", "Americas", "Northern Africa", "EMEA", "USSR"])
def test_groupings_that_span_markets_stay_unplaced(spelling: str) -> None:
    assert country_matches([spelling]) == [(pd.NA, "unknown", pd.NA)]


@pytest.mark.parametrize(
    "spelling",
    ["Unspecified", "N/A", "n/a", "-", "??", "Unknown", "Other", "NULL", "none", "未知", "Unknown Region", "World", ""],
)
def test_non_answers_count_as_not_given(spelling: str) -> None:
    assert country_matches([spelling]) == [(pd.NA, "not_given", pd.NA)]
    assert normalize_regions(pd.DataFrame({"country": [spelling]}))["market"].tolist() == [UNKNOWN]


def test_namibia_is_not_a_non_answer() -> None:
    assert country_matches(["NA", "Namibia"]) == [("NAM", "country", pd.NA)] * 2


def test_a_spelling_two_countries_share_identifies_neither() -> None:
    # "Kongo" is both Congos in the locales that write it; "Guinea" is one country, Guinea-Bissau another
    assert countries._find_country("Kongo") is None
    assert countries._find_country("Virgin Islands") is None  # British or U.S.
    assert countries._find_country("Nigeri") is None  # Niger or Nigeria
    assert country_matches(["Guinea", "Guinea-Bissau"]) == [("GIN", "country", pd.NA), ("GNB", "country", pd.NA)]
    assert countries._find_country("ROC") is None  # Taiwan or the Republic of the Congo


def test_extended_tables_leave_out_shared_spellings() -> None:
    extended = countries._extended_names()
    assert "kongo" not in extended and "sant martin" not in extended
    assert extended["unbekannte region"] == _placenames.NOT_GIVEN


def test_suggestions_are_hints_for_close_spellings_only() -> None:
    assert geo.suggest_country("Untied Kingdom") == "GBR"
    assert geo.suggest_country("Xanadu") is None
    assert geo.suggest_subdivision("Sao Paolo", "BRA") == "BR-SP"
    assert geo.suggest_subdivision("Xanadu", "BRA") is None
    assert geo.suggest_subdivision("Sao Paolo", "ATA") is None
