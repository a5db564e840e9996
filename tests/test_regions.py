"""Tests of custseg.geo.regions: country, province and market normalisation."""

from __future__ import annotations

import csv
import doctest
import re
from importlib import resources
from pathlib import Path

import pandas as pd
import pycountry
import pytest
from babel import Locale
from hypothesis import given, settings
from hypothesis import strategies as st

from custseg import geo
from custseg.geo import (
    MARKETS,
    UNKNOWN,
    Market,
    _placenames,
    assign_markets,
    countries,
    normalize_countries,
    normalize_key,
    normalize_regions,
    normalize_subdivisions,
    region_coverage,
)

CONTRACT = Path(__file__).resolve().parents[1] / "docs" / "data-contract.md"

# The China rows of the contract's Markets table, typed out again here so that the shipped CSV
# is checked against an independent copy.
CONTRACT_PROVINCES = {
    "East China": [
        "Shanghai 上海",
        "Jiangsu 江苏",
        "Zhejiang 浙江",
        "Anhui 安徽",
        "Fujian 福建",
        "Jiangxi 江西",
        "Shandong 山东",
    ],
    "South China": ["Guangdong 广东", "Guangxi 广西", "Hainan 海南"],
    "North China": ["Beijing 北京", "Tianjin 天津", "Hebei 河北", "Shanxi 山西", "Inner Mongolia 内蒙古"],
    "Central China": ["Henan 河南", "Hubei 湖北", "Hunan 湖南"],
    "Southwest China": ["Chongqing 重庆", "Sichuan 四川", "Guizhou 贵州", "Yunnan 云南", "Tibet 西藏"],
    "Northwest China": ["Shaanxi 陕西", "Gansu 甘肃", "Qinghai 青海", "Ningxia 宁夏", "Xinjiang 新疆"],
    "Northeast China": ["Liaoning 辽宁", "Jilin 吉林", "Heilongjiang 黑龙江"],
}

COUNTRY_SPELLINGS = {
    "USA": [
        "US",
        "USA",
        "U.S.",
        "U.S.A.",
        "United States",
        "United States of America",
        "America",
        "the United States",
        "美国",
        "美國",
    ],
    "GBR": [
        "GB",
        "GBR",
        "UK",
        "U.K.",
        "United Kingdom",
        "Great Britain",
        "Britain",
        "England",
        "Scotland",
        "the UK",
        "United Kingdom of Great Britain and Northern Ireland",
        "英国",
        "英國",
    ],
    "KOR": [
        "KR",
        "KOR",
        "Korea",
        "South Korea",
        "S. Korea",
        "Korea, Republic of",
        "Republic of Korea",
        "Korea (South)",
        "大韩民国",
        "韩国",
        "南韩",
        "南韓",
    ],
    "DEU": ["DE", "DEU", "Germany", "Deutschland", "Federal Republic of Germany", "德国", "德國"],
    "CHN": [
        "CN",
        "CHN",
        "China",
        "PRC",
        "People's Republic of China",
        "Mainland China",
        "中国",
        "中國",
        "中国大陆",
        "大陆",
        "中华人民共和国",
        "P.R. China",
    ],
    "JPN": ["JP", "JPN", "Japan", "日本"],
    "ARE": [
        "AE",
        "ARE",
        "UAE",
        "U.A.E.",
        "United Arab Emirates",
        "Emirates",
        "阿拉伯联合酋长国",
        "阿联酋",
        "阿拉伯聯合大公國",
    ],
    "HKG": [
        "HK",
        "HKG",
        "Hong Kong",
        "Hongkong",
        "Hong Kong SAR China",
        "Hong Kong Special Administrative Region of China",
        "香港",
        "中国香港",
        "中国香港特别行政区",
        "中國香港特別行政區",
    ],
    "TWN": ["TW", "TWN", "Taiwan", "Taiwan, Province of China", "台湾", "台灣", "臺灣", "中国台湾"],
    "BRA": ["BR", "BRA", "Brazil", "Brasil", "Federative Republic of Brazil", "巴西"],
    "MEX": ["MX", "MEX", "Mexico", "México", "United Mexican States", "墨西哥"],
    "EGY": ["EG", "EGY", "Egypt", "Arab Republic of Egypt", "埃及"],
    "TUR": ["TR", "TUR", "Turkey", "Türkiye", "Turkiye", "Republic of Türkiye", "土耳其"],
    "AUS": ["AU", "AUS", "Australia", "澳大利亚", "澳洲"],
}
COUNTRY_CASES = [(spelling, iso3) for iso3, spellings in COUNTRY_SPELLINGS.items() for spelling in spellings]


def full_width(text: str) -> str:
    """ASCII -> full-width forms, as typed with a Chinese input method."""
    return "".join(
        "\u3000" if char == " " else chr(ord(char) + 0xFEE0) if "!" <= char <= "~" else char for char in text
    )


def iso3_of(spelling: object) -> object:
    return normalize_countries(pd.Series([spelling], dtype=object))["country_iso3"].iloc[0]


def one_subdivision(value: object, iso3: str | None) -> dict:
    """The subdivision columns of one value, without province_match (tested on its own)."""
    result = normalize_subdivisions(pd.Series([value], dtype=object), pd.Series([iso3], dtype=object))
    row = result.iloc[0].drop("province_match")
    return {column: (None if pd.isna(item) else item) for column, item in row.items()}


def read_data_csv(name: str) -> list[dict[str, str]]:
    with resources.files("custseg").joinpath("data", name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


PROVINCES = read_data_csv("cn_provinces.csv")


def province_id(row: dict[str, str]) -> str:
    return row["code"]


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
    [("USA", s) for s in pycountry.subdivisions.get(country_code="US")]
    + [("CAN", s) for s in pycountry.subdivisions.get(country_code="CA")],
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


# --------------------------------------------------------------------------- markets


def test_markets_match_contract_order_and_names() -> None:
    assert [(market.name, market.name_zh) for market in MARKETS] == [
        ("East China", "华东"),
        ("South China", "华南"),
        ("North China", "华北"),
        ("Central China", "华中"),
        ("Southwest China", "西南"),
        ("Northwest China", "西北"),
        ("Northeast China", "东北"),
        ("China (province unknown)", "中国（省份未知）"),
        ("Hong Kong, Macao & Taiwan", "港澳台"),
        ("North America", "北美"),
        ("Latin America", "拉美"),
        ("Europe", "欧洲"),
        ("Middle East", "中东"),
        ("Asia-Pacific", "亚太"),
        ("Africa", "非洲"),
        ("Unknown", "未知"),
    ]
    assert UNKNOWN == "Unknown"
    with pytest.raises(AttributeError):
        MARKETS[0].name = "Elsewhere"  # type: ignore[misc]


def test_markets_match_the_contract_document() -> None:
    if not CONTRACT.is_file():
        pytest.skip("docs/data-contract.md is not next to the tests")
    text = CONTRACT.read_text(encoding="utf-8").split("## Markets", 1)[1]
    rows = [line.split("|")[1:-1] for line in text.splitlines() if line.startswith("|")][2:]
    assert [(name.strip(), zh.strip()) for name, zh, _ in rows] == [(m.name, m.name_zh) for m in MARKETS]
    for name, _, members in rows:
        if name.strip() in CONTRACT_PROVINCES:
            assert [member.strip() for member in members.split(",")] == CONTRACT_PROVINCES[name.strip()]


def markets_of(countries: list[str | None], provinces: list[str | None] | None = None, **options) -> list[str]:
    frame = pd.DataFrame({"country": countries, "province": provinces or [None] * len(countries)}, dtype=object)
    return normalize_regions(frame, **options)["market"].tolist()


@pytest.mark.parametrize("macro", list(CONTRACT_PROVINCES))
def test_china_macro_regions(macro: str) -> None:
    names = CONTRACT_PROVINCES[macro]
    zh_names = [name.rsplit(" ", 1)[1] for name in names]
    en_names = [name.rsplit(" ", 1)[0] for name in names]
    assert markets_of(["中国"] * len(names), zh_names) == [macro] * len(names)
    assert markets_of(["China"] * len(names), en_names) == [macro] * len(names)


@pytest.mark.parametrize(
    ("countries", "market"),
    [
        (["CHN"], "China (province unknown)"),
        (["HKG", "MAC", "TWN", "香港", "Macau", "台灣"], "Hong Kong, Macao & Taiwan"),
        (["USA", "CAN", "BMU", "GRL", "SPM"], "North America"),
        (["MEX", "BRA", "ARG", "CHL", "COL", "PER", "CUB", "JAM", "PRI", "PAN", "HTI"], "Latin America"),
        (["DEU", "FRA", "GBR", "ITA", "ESP", "POL", "RUS", "UKR", "NOR", "CYP", "AUT", "CHE"], "Europe"),
        (
            [
                "ARE",
                "SAU",
                "QAT",
                "KWT",
                "BHR",
                "OMN",
                "IRN",
                "IRQ",
                "ISR",
                "JOR",
                "LBN",
                "SYR",
                "TUR",
                "YEM",
                "PSE",
                "EGY",
            ],
            "Middle East",
        ),
        (["JPN", "KOR", "IND", "SGP", "VNM", "IDN", "KAZ", "PAK", "AUS", "NZL", "FJI", "PNG"], "Asia-Pacific"),
        (["NGA", "ZAF", "KEN", "MAR", "ETH", "DZA", "TUN", "LBY"], "Africa"),
        ([None, "Atlantis", "", "???"], "Unknown"),
    ],
)
def test_contract_market_rows(countries: list[str | None], market: str) -> None:
    assert markets_of(countries) == [market] * len(countries)


def test_china_with_unrecognised_province() -> None:
    assert markets_of(["China", "中国", "CN"], ["广州", None, "Narnia"]) == ["China (province unknown)"] * 3


def test_every_iso_country_gets_a_known_market() -> None:
    codes = [country.alpha_3 for country in pycountry.countries]
    frame = normalize_regions(pd.DataFrame({"country": codes}))
    defaults = {market.name for market in MARKETS}
    assert set(frame["market"]) <= defaults
    # Only the Antarctic territories have no market in the contract.
    unknown = set(frame.loc[frame["market"] == UNKNOWN, "country_iso3"])
    assert unknown == {"ATA", "BVT", "HMD", "SGS", "ATF"}
    assert set(frame.loc[frame["market"] == UNKNOWN, "continent"]) == {"AN"}


def test_market_zh_follows_market() -> None:
    result = normalize_regions(
        pd.DataFrame({"country": ["中国", "中国", "UK", None, "HK"], "province": ["广东", "", None, None, None]})
    )
    zh_of = {market.name: market.name_zh for market in MARKETS}
    assert result["market_zh"].tolist() == [zh_of[name] for name in result["market"]]
    assert result["market_zh"].tolist() == ["华南", "中国（省份未知）", "欧洲", "未知", "港澳台"]


def test_custom_market_takes_precedence() -> None:
    dach = {"DACH": ["DEU", "AUT", "CHE"]}
    countries = ["Germany", "Österreich", "Switzerland", "France", "中国", None]
    frame = pd.DataFrame({"country": countries, "province": [None, None, None, None, "广东", None]})
    result = normalize_regions(frame, custom_markets=dach)
    assert result["market"].tolist() == ["DACH", "DACH", "DACH", "Europe", "South China", "Unknown"]
    assert result["market_zh"].tolist() == ["DACH", "DACH", "DACH", "欧洲", "华南", "未知"]


def test_custom_market_forms_give_the_same_markets() -> None:
    countries = ["DE", "AT", "CH", "HK", "TW", "FR"]
    as_lists = {"DACH": ["DEU", "AUT", "CHE"], "Greater China": ["HKG", "TWN"]}
    as_specs = {
        "DACH": {"name_zh": "德奥瑞", "countries": ["DEU", "AUT", "CHE"]},
        "Greater China": {"name": "Greater China", "countries": ["HKG", "TWN"]},
    }
    as_list_of_specs = [
        {"name": "DACH", "name_zh": "德奥瑞", "countries": ["deu", " aut ", "CHE"]},
        {"name": "Greater China", "countries": ["HKG", "TWN"]},
    ]
    expected = ["DACH", "DACH", "DACH", "Greater China", "Greater China", "Europe"]
    for form in (as_lists, as_specs, as_list_of_specs):
        assert markets_of(countries, custom_markets=form) == expected
    zh = normalize_regions(pd.DataFrame({"country": countries}), custom_markets=as_specs)["market_zh"].tolist()
    assert zh == ["德奥瑞", "德奥瑞", "德奥瑞", "Greater China", "Greater China", "欧洲"]


def test_custom_market_can_take_china_and_reuse_a_default_name() -> None:
    result = normalize_regions(
        pd.DataFrame({"country": ["CN", "GB", "JP"], "province": ["广东", None, None]}),
        custom_markets={"Greater China": ["CHN", "HKG"], "Europe": ["JPN"]},
    )
    assert result["market"].tolist() == ["Greater China", "Europe", "Europe"]
    assert result["market_zh"].tolist() == ["Greater China", "欧洲", "欧洲"]


def test_empty_custom_markets_mean_defaults() -> None:
    assert markets_of(["DE"], custom_markets={}) == markets_of(["DE"]) == ["Europe"]


@pytest.mark.parametrize(
    ("custom", "message"),
    [
        ({"DACH": ["DE", "AUT"]}, r"'DE' is not an ISO 3166-1 alpha-3.*did you mean 'DEU'"),
        ({"DACH": ["DEU", "XYZ"]}, r"custom market 'DACH': 'XYZ' is not an ISO 3166-1 alpha-3"),
        ({"DACH": "DEU"}, r"custom market 'DACH' must list ISO3 country codes"),
        ({"DACH": []}, r"custom market 'DACH' must list ISO3 country codes"),
        ({"DACH": [276]}, r"276 is not an ISO 3166-1 alpha-3"),
        ({"DACH": ["DEU"], "Germany+": ["DEU"]}, r"DEU is in two custom markets"),
        ({"Unknown": ["DEU"]}, r"reserved"),
        ({"": ["DEU"]}, r"non-empty"),
        ({"DACH": {"countries": ["DEU"], "zh": "x"}}, r"unexpected keys \['zh'\]"),
        ({"DACH": {"name_zh": "德奥瑞"}}, r"no 'countries'"),
        ({"DACH": {"name": "Other", "countries": ["DEU"]}}, r"different 'name'"),
        ([{"countries": ["DEU"]}], r"mappings"),
        ("DACH", r"must map market names"),
    ],
)
def test_bad_custom_markets_raise(custom, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        markets_of(["DE"], custom_markets=custom)


def test_assign_markets_directly() -> None:
    index = [10, 20, 30, 40, 50]
    result = assign_markets(
        pd.Series(["CHN", "CHN", "USA", None, "FRA"], index=index),
        pd.Series(["AS", "AS", "NA", None, None], index=index),  # a missing continent is looked up
        pd.Series(["East China", None, "East China", None, None], index=index),  # ignored outside China
    )
    assert list(result.index) == index
    assert result["market"].tolist() == [
        "East China",
        "China (province unknown)",
        "North America",
        "Unknown",
        "Europe",
    ]


def test_assign_markets_rejects_unknown_macro_region() -> None:
    with pytest.raises(ValueError, match="'Far East' is not a China macro region"):
        assign_markets(pd.Series(["CHN"]), pd.Series(["AS"]), pd.Series(["Far East"]))


# --------------------------------------------------------------------------- normalize_regions


def customers() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["C1", "C2", "C3", "C4", "C5", "C6"],
            "country": [" 中国 ", "ＵＳＡ", "Deutschland", "Narnia", None, "china"],
            "province": ["广东省", "ca", "  Bayern ", "North", None, "shaanxi"],
            "city": [" 深圳 ", "Los  Angeles", "München", "", None, "Ｘｉ'ａｎ"],
        },
        index=[101, 102, 103, 104, 105, 106],
    )


def test_normalize_regions_columns_and_values() -> None:
    frame = customers()
    result = normalize_regions(frame)
    assert list(result.columns) == [
        "customer_id",
        "country_raw",
        "province_raw",
        "city_raw",
        "market",
        "market_zh",
        "country_iso3",
        "country_iso2",
        "country_en",
        "country_zh",
        "continent",
        "province",
        "province_zh",
        "province_code",
        "city",
        "country_match",
        "province_match",
    ]
    assert list(result.index) == list(frame.index)
    # Raw spellings are kept exactly as they came.
    assert result["country_raw"].tolist() == frame["country"].tolist()
    assert result["province_raw"].tolist() == frame["province"].tolist()
    assert result["city_raw"].tolist() == frame["city"].tolist()
    assert result["market"].tolist() == [
        "South China",
        "North America",
        "Europe",
        "Unknown",
        "Unknown",
        "Northwest China",
    ]
    assert result["country_iso3"].tolist() == ["CHN", "USA", "DEU", pd.NA, pd.NA, "CHN"]
    assert result["province"].tolist() == ["Guangdong", "California", "Bayern", "North", pd.NA, "Shaanxi"]
    assert result["province_zh"].tolist() == ["广东", pd.NA, pd.NA, pd.NA, pd.NA, "陕西"]
    assert result["province_code"].tolist() == ["CN-GD", "US-CA", "DE-BY", pd.NA, pd.NA, "CN-SN"]
    assert result["city"].tolist() == ["深圳", "Los Angeles", "München", pd.NA, pd.NA, "Xi'an"]
    assert result["country_match"].tolist() == ["country", "country", "country", "unknown", "not_given", "country"]
    # Narnia is no country, so its "North" is kept as typed
    assert result["province_match"].tolist() == ["province", "province", "province", "kept", "not_given", "province"]


def test_normalize_regions_does_not_mutate_input() -> None:
    frame = customers()
    before = frame.copy(deep=True)
    result = normalize_regions(frame, custom_markets={"DACH": ["DEU"]})
    pd.testing.assert_frame_equal(frame, before)
    assert result is not frame
    result.loc[101, "customer_id"] = "changed"
    pd.testing.assert_frame_equal(frame, before)


def test_normalize_regions_without_province_and_city_columns() -> None:
    frame = pd.DataFrame({"country": ["China", "Japan"]})
    result = normalize_regions(frame)
    assert result["market"].tolist() == ["China (province unknown)", "Asia-Pacific"]
    assert result[["province_raw", "city_raw", "province", "city"]].isna().all().all()
    assert list(frame.columns) == ["country"]


def test_normalize_regions_with_other_column_names() -> None:
    frame = pd.DataFrame({"land": ["中国"], "sheng": ["广东"], "stadt": ["广州"], "id": [1]})
    result = normalize_regions(frame, country="land", province="sheng", city="stadt")
    assert list(result.columns[:4]) == ["country_raw", "province_raw", "city_raw", "id"]
    assert result.loc[0, ["market", "province", "city"]].tolist() == ["South China", "Guangdong", "广州"]


def test_normalize_regions_on_empty_frame() -> None:
    result = normalize_regions(pd.DataFrame({"country": pd.Series([], dtype="str")}))
    assert result.empty
    assert "market" in result.columns


@pytest.mark.parametrize(
    ("frame", "options", "error", "message"),
    [
        (pd.DataFrame({"land": ["CN"]}), {}, ValueError, r"no country column 'country'.*\['land'\]"),
        (
            pd.DataFrame({"country": ["CN"], "market": ["x"]}),
            {},
            ValueError,
            r"already has output column\(s\) \['market'\]",
        ),
        (pd.DataFrame({"country": ["CN"], "province_raw": ["x"]}), {}, ValueError, r"\['province_raw'\]"),
        (pd.DataFrame({"country": ["CN"], "province": ["x"]}), {"province": "sheng"}, ValueError, r"\['province'\]"),
        (pd.DataFrame({"country": ["CN"]}), {"province": "country"}, ValueError, "different columns"),
        (pd.DataFrame([["CN", "US"]], columns=["country", "country"]), {}, ValueError, "duplicate column names"),
        ([["CN"]], {}, TypeError, "DataFrame"),
    ],
)
def test_normalize_regions_bad_arguments(frame, options: dict, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        normalize_regions(frame, **options)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: normalize_subdivisions(pd.Series(["广东", "广西"]), pd.Series(["CHN"])),
            "has 1 rows but values has 2",
        ),
        (
            lambda: normalize_subdivisions(pd.Series(["广东"], index=[1]), pd.Series(["CHN"], index=[2])),
            "different indexes",
        ),
        (
            lambda: assign_markets(pd.Series(["CHN"]), pd.Series(["AS", "AS"]), pd.Series([None])),
            "continent has 2 rows",
        ),
    ],
)
def test_misaligned_series_raise(call, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


def test_non_series_arguments_raise() -> None:
    with pytest.raises(TypeError, match="country_iso3 must be a pandas Series"):
        normalize_subdivisions(pd.Series(["广东"]), ["CHN"])  # type: ignore[arg-type]


SPELLINGS = [spelling for spelling, _ in COUNTRY_CASES] + ["", " ", None, "Channel Islands", "Unspecified", "Asia"]
PROVINCE_SPELLINGS = [row["name_zh"] for row in PROVINCES] + ["CA", "Ontario", "", None]


@settings(max_examples=150, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.one_of(st.none(), st.text(), st.sampled_from(SPELLINGS)),
            st.one_of(st.none(), st.text(), st.sampled_from(PROVINCE_SPELLINGS)),
            st.one_of(st.none(), st.text()),
        ),
        max_size=40,
    ),
    offset=st.integers(-1000, 1000),
)
def test_any_input_keeps_every_row_and_gives_every_row_a_market(rows, offset: int) -> None:
    frame = pd.DataFrame(rows, columns=["country", "province", "city"], dtype=object)
    frame.index = pd.Index([offset - 3 * i for i in range(len(rows))])
    before = frame.copy(deep=True)
    result = normalize_regions(frame, custom_markets={"DACH": ["DEU", "AUT", "CHE"]})
    assert len(result) == len(frame)
    assert result.index.equals(frame.index)
    assert result["market"].notna().all() and result["market_zh"].notna().all()
    assert set(result["market"]) <= {market.name for market in MARKETS} | {"DACH"}
    # Unknown exactly where neither a country nor a grouping is recognised (or the country is Antarctic).
    unplaced = result["country_iso3"].isna() & result["country_match"].ne("market")
    assert ((result["market"] == UNKNOWN) == (unplaced | (result["continent"] == "AN"))).all()
    assert result["country_match"].isin(geo.COUNTRY_MATCHES).all()
    assert result["province_match"].isin(geo.PROVINCE_MATCHES).all()
    assert (result["country_iso3"].notna() == result["country_match"].eq("country")).all()
    pd.testing.assert_frame_equal(frame, before)
    coverage = region_coverage(result)
    assert coverage["customers"].sum() == len(frame)


# --------------------------------------------------------------------------- region_coverage


def test_region_coverage() -> None:
    frame = pd.DataFrame(
        {
            "country": ["China", "中国", "CN", "CN", "UK", "England", "Narnia", None, "DE"],
            "province": [None, None, "", "广东", None, None, None, None, None],
        }
    )
    coverage = region_coverage(normalize_regions(frame, custom_markets={"DACH": ["DEU"]}))
    assert list(coverage.columns) == ["market", "market_zh", "customers", "share", "country_spellings"]
    assert coverage["market"].tolist() == ["South China", "China (province unknown)", "Europe", "DACH", "Unknown"]
    assert coverage["market_zh"].tolist() == ["华南", "中国（省份未知）", "欧洲", "DACH", "未知"]
    assert coverage["customers"].tolist() == [1, 3, 2, 1, 2]
    assert coverage["country_spellings"].tolist() == [1, 3, 2, 1, 1]
    assert coverage["share"].tolist() == pytest.approx([1 / 9, 3 / 9, 2 / 9, 1 / 9, 2 / 9])


def test_region_coverage_always_lists_unknown() -> None:
    coverage = region_coverage(normalize_regions(pd.DataFrame({"country": ["JP", "JP"]})))
    assert coverage["market"].tolist() == ["Asia-Pacific", "Unknown"]
    assert coverage["customers"].tolist() == [2, 0]
    assert coverage["share"].tolist() == [1.0, 0.0]
    empty = region_coverage(normalize_regions(pd.DataFrame({"country": pd.Series([], dtype="str")})))
    assert empty[["market", "customers", "share"]].values.tolist() == [["Unknown", 0, 0.0]]


def test_region_coverage_needs_normalized_frame() -> None:
    with pytest.raises(ValueError, match=r"missing column\(s\) \['market', 'market_zh', 'country_raw'\]"):
        region_coverage(pd.DataFrame({"country": ["CN"]}))


# --------------------------------------------------------------------------- the sample's ground truth


@pytest.mark.parametrize("seed", [1, 2])
def test_reproduces_the_sample_ground_truth(seed: int) -> None:
    sample = pytest.importorskip("custseg.sample.generator")
    data = sample.generate_sample(sample.SampleSpec(n_customers=3000, seed=seed))
    result = normalize_regions(data.customers.drop_duplicates("customer_id")).merge(
        data.ground_truth[["customer_id", "country_iso3", "province", "market"]],
        on="customer_id",
        suffixes=("", "_true"),
        validate="one_to_one",
    )
    assert len(result) == len(data.ground_truth)
    for column in ("country_iso3", "province", "market"):
        found = result[column].astype(object).where(result[column].notna(), "")
        truth = result[f"{column}_true"].astype(object).where(result[f"{column}_true"].notna(), "")
        wrong = result.loc[found != truth, ["country_raw", "province_raw", column, f"{column}_true"]]
        assert wrong.empty, f"{column} differs from the ground truth:\n{wrong.drop_duplicates().head(20)}"


# --------------------------------------------------------------------------- docs


def test_docstring_examples_run() -> None:
    from custseg.geo import aliases, markets, normalize, subdivisions

    modules = (countries, subdivisions, markets, aliases, normalize, _placenames)
    results = [doctest.testmod(module) for module in modules]
    assert sum(result.failed for result in results) == 0 and sum(result.attempted for result in results) > 0


def test_market_is_a_frozen_dataclass() -> None:
    assert Market("DACH", "DACH") == Market("DACH", "DACH")
    assert hash(Market("DACH", "德奥瑞")) == hash(Market("DACH", "德奥瑞"))


# --------------------------------------------------------------------------- every spelling the sample can write


@pytest.fixture(scope="module")
def sample_module():
    return pytest.importorskip("custseg.sample.generator")


def _written_forms(sample, spelling: str) -> list[str]:
    """Every way ``sample._mess_up`` can write a spelling: as is, lower, upper or title case, then
    full-width or not, then stray whitespace in front and behind."""
    cased = [spelling, spelling.lower(), spelling.upper(), spelling.title()]
    widened = cased + sample._fullwidth(pd.Series(cased, dtype="str")).tolist()
    return sorted({
        lead + text + trail
        for text in widened
        for lead in ("", *sample._LEADING_PADS)
        for trail in ("", *sample._TRAILING_PADS)
    })


def _subdivisions(sample, iso3: str) -> list[tuple[str, str, str, tuple[tuple[str, str], ...]]]:
    """(canonical name, ISO 3166-2 code, market, cities as (English, Chinese)) in the generator's order."""
    if iso3 == "CHN":
        return [(p[0], f"CN-{p[3]}", p[6], p[8]) for p in sample._PROVINCES]
    table, iso2 = (sample._US_STATES, "US") if iso3 == "USA" else (sample._CA_PROVINCES, "CA")
    return [(name, f"{iso2}-{code}", "North America", tuple((city, "") for city in cities))
            for code, name, _weight, cities in table]


def _sample_spellings(sample) -> pd.DataFrame:
    """Every country, province and city value the generator can write, with the expected answer.

    Three blocks: each country spelling in each written form (no province: mainland China then
    belongs to "China (province unknown)"); each province / state spelling in each written form
    under its canonical country; each city spelling (English, Chinese, Chinese + 市) under its
    canonical country and province. Plus the unplaceable country values.
    """
    columns = ["country", "province", "city", "country_iso3", "province_name", "province_code", "market", "city_out"]
    rows: list[tuple[str | None, ...]] = []
    markets = {code: market for code, market, *_rest in sample._COUNTRY_TABLE}
    text, weight = sample._country_variants(messy=True)
    for (iso3, market, *_rest), spellings, weights in zip(sample._COUNTRY_TABLE, text, weight, strict=True):
        for spelling in spellings[weights > 0]:
            for written in _written_forms(sample, spelling):
                rows.append((written, None, None, iso3, None, None, market or "China (province unknown)", None))
    for value in sample._UNPLACEABLE:
        rows.append((value or None, None, None, None, None, None, UNKNOWN, None))

    for iso3 in ("CHN", "USA", "CAN"):
        text, weight = sample._province_variants(iso3, messy=True)
        places = _subdivisions(sample, iso3)
        for (name, code, market, cities), spellings, weights in zip(places, text, weight, strict=True):
            for spelling in spellings[weights > 0]:
                for written in _written_forms(sample, spelling):
                    rows.append((iso3, written, None, iso3, name, code, market, None))
            for english, chinese in cities:
                suffixed = [chinese, chinese + "市"] if chinese and iso3 == "CHN" else [chinese] if chinese else []
                for city in (english, *suffixed):
                    rows.append((iso3, name, city, iso3, name, code, market, city))
    for iso3, cities in sample._COUNTRY_CITIES.items():
        for city in (spelling for pair in cities for spelling in pair if spelling):
            rows.append((iso3, None, city, iso3, None, None, markets[iso3], city))
    return pd.DataFrame(rows, columns=columns, dtype="str")


def test_every_spelling_the_sample_can_write_normalizes_to_its_region(sample_module) -> None:
    cases = _sample_spellings(sample_module)
    found = normalize_regions(cases[["country", "province", "city"]])
    # output column -> column of `cases` holding the expected value
    checks = {
        "country_iso3": "country_iso3",
        "province": "province_name",
        "province_code": "province_code",
        "market": "market",
        "city": "city_out",
    }
    got = pd.DataFrame({column: found[column].fillna("<NA>") for column in checks})
    want = pd.DataFrame({column: cases[expected].fillna("<NA>") for column, expected in checks.items()})
    wrong = (got != want).any(axis=1)
    # repr shows the stray whitespace and full-width letters of the written values
    written = cases.loc[wrong, ["country", "province", "city"]].map(lambda v: repr(v) if isinstance(v, str) else "-")
    report = pd.concat([written, got[wrong] + " / want " + want[wrong]], axis=1)
    assert not wrong.any(), (
        f"{int(wrong.sum())} of {len(cases)} written spellings normalize wrongly (found / want):\n"
        + report.to_string()
    )


def test_spelling_enumeration_covers_what_the_sample_writes(sample_module) -> None:
    cases = _sample_spellings(sample_module)
    customers = sample_module.generate_sample(sample_module.SampleSpec()).customers
    for column in ("country", "province", "city"):
        written = set(customers[column].dropna())
        missing = written - set(cases[column].dropna())
        assert not missing, f"the sample writes {column} values the enumeration lacks: {sorted(missing)[:20]}"


# --------------------------------------------------------------------------- places on real exports


def country_matches(values: list[object], **options) -> list[tuple[object, object, object]]:
    result = normalize_countries(pd.Series(values, dtype=object), **options)
    return list(zip(result["country_iso3"], result["country_match"], result["country_market"], strict=True))


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


def test_suggestions_are_hints_for_close_spellings_only() -> None:
    assert geo.suggest_country("Untied Kingdom") == "GBR"
    assert geo.suggest_country("Xanadu") is None
    assert geo.suggest_subdivision("Sao Paolo", "BRA") == "BR-SP"
    assert geo.suggest_subdivision("Xanadu", "BRA") is None
    assert geo.suggest_subdivision("Sao Paolo", "ATA") is None


# --------------------------------------------------------------------------- regions.aliases


ALIASES = {
    "countries": {
        "Xanadu": "mng", "Channel Is.": "Europe", "Nordics": "Norden", "Intercompany": None, "Sao Paolo": "BRA",
    },
    "subdivisions": {"Sao Paolo": "BR-SP", "Milan area": "IT-MI", "SP": "ES-M"},
}


def test_aliases_win_and_place_countries_markets_and_subdivisions() -> None:
    frame = pd.DataFrame({
        "country": ["Xanadu", "CHANNEL IS", "Nordics", "Intercompany", "Brazil", "Italy", "Spain", "Brasil"],
        "province": [None, None, None, None, "Sao Paolo", "milan AREA", "sp", "SP"],
    })
    result = normalize_regions(frame, custom_markets={"Norden": ["NOR", "SWE", "DNK", "FIN", "ISL"]}, aliases=ALIASES)
    assert result["country_iso3"].tolist() == ["MNG", pd.NA, pd.NA, pd.NA, "BRA", "ITA", "ESP", "BRA"]
    assert result["market"].tolist() == [
        "Asia-Pacific", "Europe", "Norden", "Unknown", "Latin America", "Europe", "Europe", "Latin America",
    ]
    assert result["country_match"].tolist() == ["country", "market", "market", "not_given", *["country"] * 4]
    # "SP" is Madrid only in Spain: in Brazil it is still São Paulo
    assert result["province_code"].tolist() == [pd.NA] * 4 + ["BR-SP", "IT-25", "ES-MD", "BR-SP"]


def test_an_alias_beats_the_libraries() -> None:
    assert country_matches(["Georgia"]) == [("GEO", "country", pd.NA)]
    assert country_matches(["Georgia"], aliases={"countries": {"Georgia": "USA"}}) == [("USA", "country", pd.NA)]


@pytest.mark.parametrize(
    ("aliases", "message"),
    [
        ({"countries": {"Xanadu": "XAN"}}, r"countries\['Xanadu'\]: 'XAN' is neither an ISO 3166-1 alpha-3"),
        ({"countries": {"Xanadu": "MN"}}, r"did you mean MNG\?"),
        ({"countries": {"Xanadu": "Unknown"}}, "write null"),
        ({"countries": {"Xanadu": "MNG", "XANADU": "CHN"}}, "reads the same as 'Xanadu'"),
        ({"countries": {"  ": "MNG"}}, "non-empty"),
        ({"subdivisions": {"Sao Paolo": "BR-XX"}}, r"subdivisions\['Sao Paolo'\]: 'BR-XX' is not an ISO 3166-2"),
        ({"subdivisions": {"HK": "CN-HK"}}, "treats CN-HK as a country"),
        ({"provinces": {}}, r"unexpected section\(s\) \['provinces'\]"),
    ],
)
def test_bad_aliases_raise_naming_the_alias(aliases: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        geo.check_aliases(aliases)
