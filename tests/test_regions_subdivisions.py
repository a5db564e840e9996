"""Tests of custseg.geo.subdivisions: province and state spellings to ISO 3166-2 subdivisions,
within each row's country (China's provinces, US states, Canadian provinces, every country)."""

from __future__ import annotations

import re

import pandas as pd
import pycountry
import pytest

from custseg.geo import (
    MARKETS,
    _placenames,
    normalize_subdivisions,
)
from support.places import (
    CONTRACT_PROVINCES,
    PROVINCES,
    full_width,
    one_subdivision,
    province_id,
)

# --------------------------------------------------------------------------- Chinese provinces


def test_province_csv_matches_contract_table() -> None:
    expected = {
        (*name.rsplit(" ", 1), macro)  # "Inner Mongolia 内蒙古" -> ("Inner Mongolia", "内蒙古")
        for macro, names in CONTRACT_PROVINCES.items()
        for name in names
    }
    shipped = {(row["name"], row["name_zh"], row["macro_region"]) for row in PROVINCES}
    assert shipped == expected
    assert len(PROVINCES) == 31
    zh_of = {market.name: market.name_zh for market in MARKETS}
    assert all(row["macro_region_zh"] == zh_of[row["macro_region"]] for row in PROVINCES)


def test_province_codes_are_pycountry_mainland_codes() -> None:
    mainland = {subdivision.code for subdivision in pycountry.subdivisions.get(country_code="CN")} - {
        "CN-HK",
        "CN-MO",
        "CN-TW",
    }
    assert {row["code"] for row in PROVINCES} == mainland


def test_province_full_names_carry_their_suffix() -> None:
    assert all(re.fullmatch(r".+(省|市|自治区)", row["name_zh_full"]) for row in PROVINCES)
    full = {row["name"]: row["name_zh_full"] for row in PROVINCES}
    assert full["Guangdong"] == "广东省"
    assert full["Beijing"] == "北京市"
    assert full["Guangxi"] == "广西壮族自治区"
    assert full["Inner Mongolia"] == "内蒙古自治区"
    assert full["Ningxia"] == "宁夏回族自治区"
    assert full["Xinjiang"] == "新疆维吾尔自治区"
    assert full["Tibet"] == "西藏自治区"


def _expected(row: dict[str, str]) -> dict:
    return {
        "province": row["name"],
        "province_zh": row["name_zh"],
        "province_code": row["code"],
        "cn_macro_region": row["macro_region"],
        "cn_macro_region_zh": row["macro_region_zh"],
    }


@pytest.mark.parametrize("row", PROVINCES, ids=province_id)
@pytest.mark.parametrize("form", ["name_zh_full", "name_zh", "name", "code"])
def test_every_province_from_each_form(row: dict[str, str], form: str) -> None:
    assert one_subdivision(row[form], "CHN") == _expected(row)


@pytest.mark.parametrize("row", PROVINCES, ids=province_id)
def test_every_province_spelling_variants(row: dict[str, str]) -> None:
    short_code = row["code"].split("-")[1]
    name = row["name"]
    variants = [
        short_code,
        short_code.lower(),
        row["code"].lower(),
        f" {row['code']} ",
        name.upper(),
        name.lower(),
        f"  {name}\t",
        full_width(name),
        full_width(row["code"]),
        f"{name} Province",
        f"{name} province",
        f"{name} Sheng",
        f"{name.upper()} PROVINCE",
        f" {row['name_zh_full']}\u3000",
        f"{row['name_zh_full']}广州市天河区",
        pycountry.subdivisions.get(code=row["code"]).name,  # e.g. "Guangdong Sheng", "Nei Mongol Zizhiqu"
    ]
    result = normalize_subdivisions(pd.Series(variants), pd.Series(["CHN"] * len(variants)))
    assert result["province_code"].tolist() == [row["code"]] * len(variants)
    assert result["province"].tolist() == [name] * len(variants)


@pytest.mark.parametrize(
    ("row", "alternative"),
    [(row, alternative) for row in PROVINCES for alternative in row["alternatives"].split(";") if alternative],
    ids=lambda value: value if isinstance(value, str) else value["code"],
)
def test_every_province_alternative(row: dict[str, str], alternative: str) -> None:
    assert one_subdivision(alternative, "CHN") == _expected(row)


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("Shaanxi", "CN-SN"),
        ("Shanxi", "CN-SX"),
        ("SHAANXI", "CN-SN"),
        ("shanxi", "CN-SX"),
        ("Shaanxi Province", "CN-SN"),
        ("Shanxi Province", "CN-SX"),
        ("Shaanxi Sheng", "CN-SN"),
        ("陕西", "CN-SN"),
        ("山西", "CN-SX"),
        ("陕西省", "CN-SN"),
        ("山西省", "CN-SX"),
        ("陝西", "CN-SN"),
        ("Shensi", "CN-SN"),
        ("Shansi", "CN-SX"),
        ("SN", "CN-SN"),
        ("SX", "CN-SX"),
        ("陕西省西安市", "CN-SN"),
        ("山西省太原市", "CN-SX"),
    ],
)
def test_shaanxi_is_not_shanxi(value: str, code: str) -> None:
    result = one_subdivision(value, "CHN")
    assert result["province_code"] == code
    assert result["cn_macro_region"] == ("Northwest China" if code == "CN-SN" else "North China")


@pytest.mark.parametrize(
    "value",
    [
        "内蒙古",
        "内蒙古自治区",
        "內蒙古自治區",
        "内蒙",
        "Inner Mongolia",
        "inner mongolia",
        "Inner Mongolia Autonomous Region",
        "Nei Mongol",
        "Nei Mongol Zizhiqu",
        "Neimenggu",
        "Nei Menggu",
        "NEI MONGOL",
        "Nei Monggol",
        "CN-NM",
        "nm",
        "内蒙古自治区呼和浩特市",
    ],
)
def test_inner_mongolia_variants(value: str) -> None:
    assert one_subdivision(value, "CHN") == {
        "province": "Inner Mongolia",
        "province_zh": "内蒙古",
        "province_code": "CN-NM",
        "cn_macro_region": "North China",
        "cn_macro_region_zh": "华北",
    }


@pytest.mark.parametrize(
    ("value", "name"),
    [
        ("Xizang", "Tibet"),
        ("Tibet Autonomous Region", "Tibet"),
        ("西藏自治区", "Tibet"),
        ("Guangxi Zhuang Autonomous Region", "Guangxi"),
        ("广西壮族自治区", "Guangxi"),
        ("廣西壯族自治區", "Guangxi"),
        ("Xinjiang Uyghur Autonomous Region", "Xinjiang"),
        ("新疆维吾尔自治区", "Xinjiang"),
        ("Ningxia Hui Autonomous Region", "Ningxia"),
        ("Beijing Shi", "Beijing"),
        ("Beijing Municipality", "Beijing"),
        ("Beijing City", "Beijing"),
        ("Peking", "Beijing"),
        ("中国广东省深圳市", "Guangdong"),
        ("中国广东", "Guangdong"),
        ("中國 廣東省", "Guangdong"),
        ("廣東省", "Guangdong"),
        ("北京市朝阳区", "Beijing"),
    ],
)
def test_more_province_spellings(value: str, name: str) -> None:
    assert one_subdivision(value, "CHN")["province"] == name


@pytest.mark.parametrize(
    "value",
    [
        "广州",
        "Shenzhen",
        "Hong Kong",
        "香港",
        "CN-HK",
        "Taiwan",
        "XX",
        "省",
        "",
        "  ",
        "中国",
        # places that start with a province's short name but lie in Qinghai
        "海南藏族自治州",
        "河南县",
    ],
)
def test_unrecognised_chinese_province_is_missing(value: str) -> None:
    assert one_subdivision(value, "CHN") == dict.fromkeys(
        ["province", "province_zh", "province_code", "cn_macro_region", "cn_macro_region_zh"]
    )


# --------------------------------------------------------------------------- US states, Canadian provinces


@pytest.mark.parametrize(
    ("iso3", "subdivision"),
    # sorted: pycountry gives a set, and parallel test workers must collect the same tests in the same order
    [("USA", s) for s in sorted(pycountry.subdivisions.get(country_code="US"), key=lambda s: s.code)]
    + [("CAN", s) for s in sorted(pycountry.subdivisions.get(country_code="CA"), key=lambda s: s.code)],
    ids=lambda value: value if isinstance(value, str) else value.code,
)
def test_every_us_state_and_canadian_province(iso3: str, subdivision) -> None:
    short_code = subdivision.code.split("-")[1]
    variants = [
        subdivision.code,
        subdivision.code.lower(),
        short_code,
        short_code.lower(),
        f" {short_code} ",
        subdivision.name,
        subdivision.name.upper(),
        f"  {subdivision.name.lower()} ",
        full_width(short_code),
    ]
    result = normalize_subdivisions(pd.Series(variants), pd.Series([iso3] * len(variants)))
    assert result["province"].tolist() == [subdivision.name] * len(variants)
    assert result["province_code"].tolist() == [subdivision.code] * len(variants)
    assert result[["province_zh", "cn_macro_region", "cn_macro_region_zh"]].isna().all().all()


@pytest.mark.parametrize(
    ("value", "iso3", "name", "code"),
    [
        ("CA", "USA", "California", "US-CA"),
        ("California", "USA", "California", "US-CA"),
        ("US-NY", "USA", "New York", "US-NY"),
        ("new york", "USA", "New York", "US-NY"),
        ("Washington DC", "USA", "District of Columbia", "US-DC"),
        ("Washington, D.C.", "USA", "District of Columbia", "US-DC"),
        ("Washington State", "USA", "Washington", "US-WA"),
        ("ＴＸ", "USA", "Texas", "US-TX"),
        ("ON", "CAN", "Ontario", "CA-ON"),
        ("Ontario Province", "CAN", "Ontario", "CA-ON"),
        ("Québec", "CAN", "Quebec", "CA-QC"),
        ("PQ", "CAN", "Quebec", "CA-QC"),
        ("BC", "CAN", "British Columbia", "CA-BC"),
        ("Newfoundland", "CAN", "Newfoundland and Labrador", "CA-NL"),
        ("PEI", "CAN", "Prince Edward Island", "CA-PE"),
        ("Yukon Territory", "CAN", "Yukon", "CA-YT"),
    ],
)
def test_us_and_canada_spellings(value: str, iso3: str, name: str, code: str) -> None:
    result = one_subdivision(value, iso3)
    assert (result["province"], result["province_code"]) == (name, code)


@pytest.mark.parametrize(
    ("value", "iso3"),
    [
        ("ON", "USA"),
        ("Ontario", "USA"),
        ("CA", "CAN"),
        ("Kansas City", "USA"),
        ("GD", "USA"),
        ("广东", "USA"),
        ("CA", "CHN"),
    ],
)
def test_codes_only_count_within_their_country(value: str, iso3: str) -> None:
    assert one_subdivision(value, iso3)["province"] is None


@pytest.mark.parametrize(
    ("value", "iso3"),
    [("  Bayern ", None), ("Ｔｏｋｙｏ", None), ("x", None), ("  Central  District", "HKG"), ("Anywhere", "ATA")],
)
def test_unknown_countries_and_countries_without_subdivisions_keep_trimmed_input(value: str, iso3: str | None) -> None:
    # Hong Kong and Antarctica have no ISO 3166-2 subdivisions; without a country there is nothing to look in.
    result = normalize_subdivisions(pd.Series([value]), pd.Series([iso3], dtype=object)).iloc[0]
    assert result["province"] == " ".join(value.replace("Ｔｏｋｙｏ", "Tokyo").split())
    assert result[["province_zh", "province_code", "cn_macro_region", "cn_macro_region_zh"]].isna().all()
    assert result["province_match"] == "kept"


def test_subdivisions_keep_index_and_missing_values() -> None:
    values = pd.Series(["广东", None, "", "Bayern", "广东"], index=list("edcba"))
    iso3 = pd.Series(["CHN", "CHN", "DEU", "DEU", "USA"], index=list("edcba"))
    result = normalize_subdivisions(values, iso3)
    assert list(result.index) == list("edcba")
    assert result["province"].tolist() == ["Guangdong", pd.NA, pd.NA, "Bayern", pd.NA]


# --------------------------------------------------------------------------- subdivisions of every country


@pytest.mark.parametrize(
    ("value", "iso3", "code", "name"),
    [
        # Brazil: "SP", "sp", "São Paulo" and "Sao Paulo" are one state
        ("SP", "BRA", "BR-SP", "São Paulo"), ("sp", "BRA", "BR-SP", "São Paulo"),
        ("São Paulo", "BRA", "BR-SP", "São Paulo"), ("Sao Paulo", "BRA", "BR-SP", "São Paulo"),
        ("SAO PAULO", "BRA", "BR-SP", "São Paulo"), ("BR-SP", "BRA", "BR-SP", "São Paulo"),
        ("Estado de São Paulo", "BRA", "BR-SP", "São Paulo"), ("RJ", "BRA", "BR-RJ", "Rio de Janeiro"),
        # names in other languages (pycountry's catalogs)
        ("Bavaria", "DEU", "DE-BY", "Bayern"), ("Bayern", "DEU", "DE-BY", "Bayern"),
        ("Baden-Wuerttemberg", "DEU", "DE-BW", "Baden-Württemberg"),
        ("Lombardy", "ITA", "IT-25", "Lombardia"), ("Catalonia", "ESP", "ES-CT", "Catalunya [Cataluña]"),
        # second-level subdivisions stand for their first-level one
        ("MI", "ITA", "IT-25", "Lombardia"), ("Milano", "ITA", "IT-25", "Lombardia"),
        ("Barcelona", "ESP", "ES-CT", "Catalunya [Cataluña]"), ("Cataluña", "ESP", "ES-CT", "Catalunya [Cataluña]"),
        ("Kent", "GBR", "GB-ENG", "England"), ("Scotland", "GBR", "GB-SCT", "Scotland"),
        # codes without the country, any case, words around the name
        ("NSW", "AUS", "AU-NSW", "New South Wales"), ("qld", "AUS", "AU-QLD", "Queensland"),
        ("13", "JPN", "JP-13", "Tokyo"),
        ("Tokyo-to", "JPN", "JP-13", "Tokyo"), ("ÎLE-DE-FRANCE", "FRA", "FR-IDF", "Île-de-France"),
        ("Ile de France", "FRA", "FR-IDF", "Île-de-France"), ("Nuevo Leon", "MEX", "MX-NLE", "Nuevo León"),
    ],
)
def test_subdivisions_of_every_country(value: str, iso3: str, code: str, name: str) -> None:
    result = normalize_subdivisions(pd.Series([value]), pd.Series([iso3])).iloc[0]
    assert (result["province_code"], result["province"], result["province_match"]) == (code, name, "province")
    assert result[["province_zh", "cn_macro_region", "cn_macro_region_zh"]].isna().all()


@pytest.mark.parametrize(
    ("value", "iso3"), [("SP", "DEU"), ("Bavaria", "AUT"), ("Narnia", "BRA"), ("CA", "GBR"), ("Sao Paolo", "BRA")]
)
def test_subdivisions_are_looked_up_within_their_country_only(value: str, iso3: str) -> None:
    result = normalize_subdivisions(pd.Series([value]), pd.Series([iso3])).iloc[0]
    assert result["province_code"] is pd.NA and result["province"] is pd.NA
    assert result["province_match"] == "unknown"


def test_first_level_subdivision_of_a_second_level_code() -> None:
    assert _placenames.top_level_code("IT-MI") == "IT-25"
    assert _placenames.top_level_code("DE-BY") == "DE-BY"
    with pytest.raises(KeyError):
        _placenames.top_level_code("XX-YY")


def test_province_non_answers_and_china_keep_their_behaviour() -> None:
    result = normalize_subdivisions(
        pd.Series(["N/A", "-", "广东", "CN-HK", "Taiwan"]), pd.Series(["BRA", "CHN", "CHN", "CHN", "CHN"])
    )
    assert result["province_match"].tolist() == ["not_given", "not_given", "province", "unknown", "unknown"]
    assert result["cn_macro_region"].tolist() == [pd.NA, pd.NA, "South China", pd.NA, pd.NA]
