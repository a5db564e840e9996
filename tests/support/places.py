"""Place names the region tests share: spellings typed out independently of the package's tables,
the contract's China rows, and small helpers that place one value."""

from __future__ import annotations

import csv
from importlib import resources
from pathlib import Path

import pandas as pd

from custseg.geo import normalize_countries, normalize_subdivisions

CONTRACT = Path(__file__).resolve().parents[2] / "docs" / "data-contract.md"

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


def country_matches(values: list[object], **options) -> list[tuple[object, object, object]]:
    result = normalize_countries(pd.Series(values, dtype=object), **options)
    return list(zip(result["country_iso3"], result["country_match"], result["country_market"], strict=True))
