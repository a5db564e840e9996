"""Synthetic sample data: customers, orders, interactions and feedback with a known answer.

`generate_sample` builds a fictional company's CRM/shop export in the raw shape described by
``docs/data-contract.md`` together with the *ground truth* that the rest of custseg is tested
against: the planted behavioural segment of every customer, whether the customer really churned in
the ``horizon_days`` after the observation date, and the canonical country / province / market of
every messy location spelling. `write_sample` writes it all as CSV plus ``sample_meta.json``.
`line_items_frame` (written by `write_line_items`) gives the same orders the way online shops
export them: one row per invoice line, with reversal invoices, postage lines and guest checkouts.

How the data is made (all of it vectorized numpy, so ten million order rows take seconds):

* Every customer gets a location (mainland China by province, Hong Kong / Macao / Taiwan, or one of
  ~30 overseas countries, US states and Canadian provinces), then a behavioural segment drawn from a
  mix that differs mildly by market, then a first-order day, a purchase rate (gamma-distributed, so
  order counts are a gamma-mixed Poisson with a heavy tail) and a typical order value (log-normal).
* A share of customers is *about to churn*: they stop buying at a day close to the observation
  date, and in the ~4 months before that their purchase and contact rates thin out and their
  satisfaction scores fall. Lapsed customers stopped long ago. Everybody else keeps buying.
* Orders are a Poisson process whose intensity follows the market's calendar (11.11, 6.18 and the
  run-up to Spring Festival for Greater China; Black Friday and December in the West) and the
  weekday pattern of B2C or B2B buyers. Days are drawn by inverting the cumulative intensity, and
  thinning only removes the orders lost to churn. The process runs on through
  ``observation_date + horizon_days``; orders after the observation date are not written, they only
  feed the churn label.
* With ``messy=True`` the location columns are spelled the way real exports spell them (codes,
  English, Chinese, aliases, stray whitespace, odd case, full-width letters, a few unplaceable
  values) and a few rows are duplicated exactly.

Every text column that is empty in the CSV is missing (``<NA>``) in the returned frames.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import pathlib
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from custseg import files

__all__ = [
    "CATEGORIES",
    "EXCHANGE_RATES",
    "LINE_ITEM_COLUMNS",
    "SEGMENTS",
    "SampleData",
    "SampleSpec",
    "generate_sample",
    "invoiced_orders",
    "line_items_frame",
    "write_line_items",
    "write_sample",
]

# ---------------------------------------------------------------------------------------------
# Fixed reference values
# ---------------------------------------------------------------------------------------------

#: Value of one unit of each currency in CNY. Fixed (roughly 2025 levels) so that the sample is
#: reproducible; ``sample_meta.json`` records the rates actually used.
EXCHANGE_RATES: dict[str, float] = {
    "CNY": 1.0,
    "USD": 7.20,
    "EUR": 7.80,
    "GBP": 9.10,
    "JPY": 0.048,
    "KRW": 0.0052,
    "HKD": 0.92,
    "MOP": 0.89,
    "TWD": 0.22,
    "CAD": 5.20,
    "AUD": 4.70,
    "SGD": 5.35,
    "INR": 0.085,
    "THB": 0.20,
    "VND": 0.00028,
    "MYR": 1.55,
    "IDR": 0.00044,
    "BRL": 1.30,
    "MXN": 0.38,
    "CLP": 0.0076,
    "ARS": 0.0060,
    "COP": 0.0017,
    "AED": 1.96,
    "SAR": 1.92,
    "TRY": 0.20,
    "ILS": 1.95,
    "EGP": 0.145,
    "PLN": 1.80,
    "SEK": 0.68,
}

# Currencies that are never priced in fractions in practice; amounts are still written with two
# decimals (".00") as the contract asks.
_WHOLE_UNIT_CURRENCIES = frozenset({"JPY", "KRW", "VND", "IDR", "CLP", "COP"})

#: Product categories of the fictional shop.
CATEGORIES: tuple[str, ...] = (
    "electronics",
    "home & kitchen",
    "apparel",
    "beauty & personal care",
    "food & beverage",
    "sports & outdoors",
    "office supplies",
    "industrial parts",
)
# Price level of a category relative to the customer's typical order value.
_CATEGORY_PRICE = np.array([1.35, 1.0, 0.85, 0.75, 0.6, 1.0, 0.8, 1.45])

_INDUSTRIES = (
    "manufacturing",
    "retail",
    "wholesale",
    "IT services",
    "healthcare",
    "education",
    "logistics",
    "hospitality",
    "construction",
    "finance",
)
_COMPANY_SIZES = ("1-49", "50-249", "250-999", "1000+")
_AGE_BANDS = ("18-24", "25-34", "35-44", "45-54", "55+")
_CHANNELS = (
    "organic search",
    "paid ads",
    "referral",
    "trade show",
    "marketplace",
    "social media",
    "direct sales",
)
_INTERACTION_CHANNELS = ("visit", "email", "call", "ticket")
_STATUSES = ("completed", "cancelled", "refunded")


# ---------------------------------------------------------------------------------------------
# Segments
# ---------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class _Segment:
    name: str
    share: float  # base share of the customer base, before market tilts
    rate: float  # orders per day at average seasonal intensity (mean of a gamma)
    aov: float  # median order value in CNY
    b2b: float  # probability that a customer of this segment is a business
    churn: float  # probability of being "about to churn" (active segments only)
    cancel: float  # order status probabilities
    refund: float
    contact_rate: float  # interactions per day
    feedback_share: float  # share of customers who answer post-purchase surveys
    satisfaction: float  # mean latent satisfaction (1-5 scale)


# The parameters put the segments far apart in log(recency, frequency, order value, tenure):
# VIP and bargain hunters both buy often but differ ~16x in order value, bulk buyers buy rarely
# but ~40x bigger, new customers have short tenure, lapsed customers long recency.
_SEGMENT_TABLE: tuple[_Segment, ...] = (
    _Segment("vip", 0.10, 0.080, 1200.0, 0.15, 0.08, 0.02, 0.03, 0.045, 0.70, 4.3),
    _Segment("regular", 0.27, 0.021, 280.0, 0.12, 0.14, 0.03, 0.04, 0.015, 0.55, 3.9),
    _Segment("bargain_hunter", 0.20, 0.050, 50.0, 0.03, 0.18, 0.03, 0.06, 0.010, 0.45, 3.6),
    _Segment("bulk_buyer", 0.08, 0.011, 12000.0, 0.85, 0.10, 0.05, 0.03, 0.035, 0.60, 3.9),
    _Segment("new", 0.13, 0.015, 240.0, 0.10, 0.40, 0.03, 0.04, 0.030, 0.40, 3.8),
    _Segment("lapsed", 0.22, 0.020, 260.0, 0.10, 1.00, 0.03, 0.05, 0.008, 0.35, 3.2),
)
#: Planted behavioural segments, in the order used for ``true_segment``.
SEGMENTS: tuple[str, ...] = tuple(s.name for s in _SEGMENT_TABLE)
_NEW = SEGMENTS.index("new")
_LAPSED = SEGMENTS.index("lapsed")

_NEW_WINDOW_DAYS = 120  # "new" customers placed their first order this recently
_NEW_MAX_ORDERS = 3
_DECAY_DAYS = 120  # warning period before a churner stops buying
_SATISFACTION_DECAY_DAYS = 180

# ---------------------------------------------------------------------------------------------
# Geography
# ---------------------------------------------------------------------------------------------

_MARKETS: tuple[str, ...] = (
    "East China",
    "South China",
    "North China",
    "Central China",
    "Southwest China",
    "Northwest China",
    "Northeast China",
    "China (province unknown)",
    "Hong Kong, Macao & Taiwan",
    "North America",
    "Latin America",
    "Europe",
    "Middle East",
    "Asia-Pacific",
    "Africa",
    "Unknown",
)

# Market tilts of the segment mix (multipliers on the base shares). Kept mild so that every
# market holds every segment and the market never stands in for the segment.
_MARKET_SEGMENT_TILT: dict[str, tuple[float, ...]] = {
    #                          vip  reg  barg bulk new  lapsed
    "East China": (1.2, 1.0, 1.25, 0.9, 1.0, 0.9),
    "South China": (1.1, 1.0, 1.3, 1.0, 1.0, 0.9),
    "North China": (1.1, 1.0, 1.0, 1.1, 1.0, 1.0),
    "Central China": (0.9, 1.05, 1.1, 0.9, 1.1, 1.0),
    "Southwest China": (0.85, 1.0, 1.1, 0.8, 1.25, 1.05),
    "Northwest China": (0.7, 1.0, 0.9, 0.8, 1.2, 1.3),
    "Northeast China": (0.75, 1.0, 0.9, 0.9, 1.0, 1.35),
    "Hong Kong, Macao & Taiwan": (1.5, 1.0, 0.8, 1.1, 0.9, 1.0),
    "North America": (1.1, 1.0, 0.7, 1.6, 1.1, 1.0),
    "Latin America": (0.7, 1.0, 0.9, 1.0, 1.4, 1.3),
    "Europe": (1.0, 1.1, 0.7, 1.6, 1.0, 1.0),
    "Middle East": (1.2, 0.9, 0.7, 1.3, 1.4, 1.2),
    "Asia-Pacific": (1.2, 1.0, 1.0, 1.1, 1.1, 0.95),
}

# Price level of a market, as a multiplier on order values in CNY.
_MARKET_PRICE: dict[str, float] = {
    "Hong Kong, Macao & Taiwan": 1.1,
    "North America": 1.15,
    "Europe": 1.1,
    "Latin America": 0.9,
    "Middle East": 1.05,
}

# Country spellings seen in exports. Hard-coded rather than read from pycountry / babel at run
# time so that a library upgrade can never change the bytes of a generated sample. Names are in
# the shape (iso3, iso2, English short name, official name or "", aliases, Chinese names); the
# first Chinese name is the CLDR ``zh`` short name.
_COUNTRY_NAMES: tuple[tuple[str, str, str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("CHN", "CN", "China", "People's Republic of China",
     ("PRC", "P.R. China", "Mainland China"), ("中国", "中华人民共和国", "中国大陆")),
    ("HKG", "HK", "Hong Kong", "Hong Kong Special Administrative Region of China",
     ("Hong Kong SAR", "Hongkong"), ("中国香港特别行政区", "香港", "中国香港")),
    ("MAC", "MO", "Macao", "Macao Special Administrative Region of China",
     ("Macau", "Macao SAR"), ("中国澳门特别行政区", "澳门")),
    ("TWN", "TW", "Taiwan", "Taiwan, Province of China", (), ("台湾", "中国台湾")),
    ("USA", "US", "United States", "United States of America",
     ("USA", "U.S.", "U.S.A.", "America"), ("美国",)),
    ("CAN", "CA", "Canada", "", (), ("加拿大",)),
    ("DEU", "DE", "Germany", "Federal Republic of Germany", ("Deutschland",), ("德国",)),
    ("GBR", "GB", "United Kingdom", "United Kingdom of Great Britain and Northern Ireland",
     ("UK", "U.K.", "Great Britain", "England"), ("英国",)),
    ("FRA", "FR", "France", "French Republic", (), ("法国",)),
    ("ITA", "IT", "Italy", "Italian Republic", ("Italia",), ("意大利",)),
    ("ESP", "ES", "Spain", "Kingdom of Spain", ("España",), ("西班牙",)),
    ("NLD", "NL", "Netherlands", "Kingdom of the Netherlands",
     ("The Netherlands", "Holland"), ("荷兰",)),
    ("POL", "PL", "Poland", "Republic of Poland", ("Polska",), ("波兰",)),
    ("SWE", "SE", "Sweden", "Kingdom of Sweden", ("Sverige",), ("瑞典",)),
    ("JPN", "JP", "Japan", "", (), ("日本",)),
    ("KOR", "KR", "South Korea", "Republic of Korea",
     ("Korea, Republic of", "Korea (South)"), ("韩国", "大韩民国")),
    ("SGP", "SG", "Singapore", "Republic of Singapore", (), ("新加坡",)),
    ("AUS", "AU", "Australia", "", (), ("澳大利亚", "澳洲")),
    ("IND", "IN", "India", "Republic of India", (), ("印度",)),
    ("THA", "TH", "Thailand", "Kingdom of Thailand", (), ("泰国",)),
    ("VNM", "VN", "Vietnam", "Socialist Republic of Viet Nam", ("Viet Nam",), ("越南",)),
    ("MYS", "MY", "Malaysia", "", (), ("马来西亚",)),
    ("IDN", "ID", "Indonesia", "Republic of Indonesia", (), ("印度尼西亚", "印尼")),
    ("BRA", "BR", "Brazil", "Federative Republic of Brazil", ("Brasil",), ("巴西",)),
    ("MEX", "MX", "Mexico", "United Mexican States", ("México",), ("墨西哥",)),
    ("CHL", "CL", "Chile", "Republic of Chile", (), ("智利",)),
    ("ARG", "AR", "Argentina", "Argentine Republic", (), ("阿根廷",)),
    ("COL", "CO", "Colombia", "Republic of Colombia", (), ("哥伦比亚",)),
    ("ARE", "AE", "United Arab Emirates", "", ("UAE", "U.A.E.", "Emirates"),
     ("阿拉伯联合酋长国", "阿联酋")),
    ("SAU", "SA", "Saudi Arabia", "Kingdom of Saudi Arabia", ("KSA",), ("沙特阿拉伯", "沙特")),
    ("TUR", "TR", "Türkiye", "Republic of Türkiye", ("Turkey", "Turkiye"), ("土耳其",)),
    ("ISR", "IL", "Israel", "State of Israel", (), ("以色列",)),
    ("EGY", "EG", "Egypt", "Arab Republic of Egypt", (), ("埃及",)),
)

# (iso3, market, share of all customers, currency, calendar, name style, calling code,
#  legal suffix of company names)
_COUNTRY_TABLE: tuple[tuple[str, str, float, str, str, str, str, str], ...] = (
    ("CHN", "", 0.600, "CNY", "china", "zh", "86", ""),
    ("HKG", "Hong Kong, Macao & Taiwan", 0.010, "HKD", "china", "zh", "852", "Ltd"),
    ("MAC", "Hong Kong, Macao & Taiwan", 0.003, "MOP", "china", "zh", "853", "Lda"),
    ("TWN", "Hong Kong, Macao & Taiwan", 0.012, "TWD", "china", "zh", "886", "Co., Ltd."),
    ("USA", "North America", 0.085, "USD", "west", "western", "1", "Inc."),
    ("CAN", "North America", 0.015, "CAD", "west", "western", "1", "Inc."),
    ("DEU", "Europe", 0.025, "EUR", "west", "western", "49", "GmbH"),
    ("GBR", "Europe", 0.022, "GBP", "west", "western", "44", "Ltd"),
    ("FRA", "Europe", 0.016, "EUR", "west", "western", "33", "SARL"),
    ("ITA", "Europe", 0.010, "EUR", "west", "western", "39", "S.r.l."),
    ("ESP", "Europe", 0.010, "EUR", "west", "latin", "34", "S.L."),
    ("NLD", "Europe", 0.008, "EUR", "west", "western", "31", "B.V."),
    ("POL", "Europe", 0.006, "PLN", "west", "western", "48", "Sp. z o.o."),
    ("SWE", "Europe", 0.005, "SEK", "west", "western", "46", "AB"),
    ("JPN", "Asia-Pacific", 0.025, "JPY", "asia", "japanese", "81", "K.K."),
    ("KOR", "Asia-Pacific", 0.018, "KRW", "asia", "korean", "82", "Co., Ltd."),
    ("SGP", "Asia-Pacific", 0.012, "SGD", "asia", "seasian", "65", "Pte. Ltd."),
    ("AUS", "Asia-Pacific", 0.015, "AUD", "west", "western", "61", "Pty Ltd"),
    ("IND", "Asia-Pacific", 0.012, "INR", "asia", "indian", "91", "Pvt. Ltd."),
    ("THA", "Asia-Pacific", 0.007, "THB", "asia", "seasian", "66", "Co., Ltd."),
    ("VNM", "Asia-Pacific", 0.007, "VND", "asia", "seasian", "84", "JSC"),
    ("MYS", "Asia-Pacific", 0.007, "MYR", "asia", "seasian", "60", "Sdn. Bhd."),
    ("IDN", "Asia-Pacific", 0.007, "IDR", "asia", "seasian", "62", "PT"),
    ("BRA", "Latin America", 0.012, "BRL", "west", "latin", "55", "Ltda."),
    ("MEX", "Latin America", 0.009, "MXN", "west", "latin", "52", "S.A. de C.V."),
    ("CHL", "Latin America", 0.004, "CLP", "west", "latin", "56", "SpA"),
    ("ARG", "Latin America", 0.004, "ARS", "west", "latin", "54", "S.R.L."),
    ("COL", "Latin America", 0.004, "COP", "west", "latin", "57", "S.A.S."),
    ("ARE", "Middle East", 0.008, "AED", "asia", "mideast", "971", "LLC"),
    ("SAU", "Middle East", 0.006, "SAR", "asia", "mideast", "966", "LLC"),
    ("TUR", "Middle East", 0.006, "TRY", "west", "mideast", "90", "A.Ş."),
    ("ISR", "Middle East", 0.004, "ILS", "west", "mideast", "972", "Ltd"),
    ("EGY", "Middle East", 0.003, "EGP", "asia", "mideast", "20", "S.A.E."),
)

# Mainland provinces: (English = canonical, Chinese short, Chinese full, ISO 3166-2 suffix,
# pinyin as written in exports, kind, macro region, weight, cities as (English, Chinese)).
# Weights follow the economy (GDP share), with Guangdong nudged up for its e-commerce weight.
_PROVINCES: tuple[tuple[str, str, str, str, str, str, str, float, tuple[tuple[str, str], ...]], ...] = (
    ("Shanghai", "上海", "上海市", "SH", "Shanghai", "municipality", "East China", 4.7,
     (("Shanghai", "上海"),)),
    ("Jiangsu", "江苏", "江苏省", "JS", "Jiangsu", "province", "East China", 12.8,
     (("Nanjing", "南京"), ("Suzhou", "苏州"), ("Wuxi", "无锡"), ("Changzhou", "常州"),
      ("Nantong", "南通"))),
    ("Zhejiang", "浙江", "浙江省", "ZJ", "Zhejiang", "province", "East China", 8.2,
     (("Hangzhou", "杭州"), ("Ningbo", "宁波"), ("Wenzhou", "温州"), ("Yiwu", "义乌"),
      ("Shaoxing", "绍兴"))),
    ("Anhui", "安徽", "安徽省", "AH", "Anhui", "province", "East China", 4.7,
     (("Hefei", "合肥"), ("Wuhu", "芜湖"))),
    ("Fujian", "福建", "福建省", "FJ", "Fujian", "province", "East China", 5.3,
     (("Xiamen", "厦门"), ("Fuzhou", "福州"), ("Quanzhou", "泉州"))),
    ("Jiangxi", "江西", "江西省", "JX", "Jiangxi", "province", "East China", 3.2,
     (("Nanchang", "南昌"), ("Ganzhou", "赣州"))),
    ("Shandong", "山东", "山东省", "SD", "Shandong", "province", "East China", 9.2,
     (("Jinan", "济南"), ("Qingdao", "青岛"), ("Yantai", "烟台"), ("Weifang", "潍坊"))),
    ("Guangdong", "广东", "广东省", "GD", "Guangdong", "province", "South China", 16.0,
     (("Guangzhou", "广州"), ("Shenzhen", "深圳"), ("Dongguan", "东莞"), ("Foshan", "佛山"),
      ("Zhuhai", "珠海"))),
    ("Guangxi", "广西", "广西壮族自治区", "GX", "Guangxi", "region", "South China", 2.7,
     (("Nanning", "南宁"), ("Guilin", "桂林"), ("Liuzhou", "柳州"))),
    ("Hainan", "海南", "海南省", "HI", "Hainan", "province", "South China", 0.7,
     (("Haikou", "海口"), ("Sanya", "三亚"))),
    ("Beijing", "北京", "北京市", "BJ", "Beijing", "municipality", "North China", 4.4,
     (("Beijing", "北京"),)),
    ("Tianjin", "天津", "天津市", "TJ", "Tianjin", "municipality", "North China", 1.7,
     (("Tianjin", "天津"),)),
    ("Hebei", "河北", "河北省", "HE", "Hebei", "province", "North China", 4.4,
     (("Shijiazhuang", "石家庄"), ("Tangshan", "唐山"), ("Baoding", "保定"))),
    ("Shanxi", "山西", "山西省", "SX", "Shanxi", "province", "North China", 2.5,
     (("Taiyuan", "太原"), ("Datong", "大同"))),
    ("Inner Mongolia", "内蒙古", "内蒙古自治区", "NM", "Nei Mongol", "region", "North China", 2.3,
     (("Hohhot", "呼和浩特"), ("Baotou", "包头"), ("Ordos", "鄂尔多斯"))),
    ("Henan", "河南", "河南省", "HA", "Henan", "province", "Central China", 5.0,
     (("Zhengzhou", "郑州"), ("Luoyang", "洛阳"))),
    ("Hubei", "湖北", "湖北省", "HB", "Hubei", "province", "Central China", 5.0,
     (("Wuhan", "武汉"), ("Yichang", "宜昌"), ("Xiangyang", "襄阳"))),
    ("Hunan", "湖南", "湖南省", "HN", "Hunan", "province", "Central China", 4.6,
     (("Changsha", "长沙"), ("Zhuzhou", "株洲"))),
    ("Chongqing", "重庆", "重庆市", "CQ", "Chongqing", "municipality", "Southwest China", 3.0,
     (("Chongqing", "重庆"),)),
    ("Sichuan", "四川", "四川省", "SC", "Sichuan", "province", "Southwest China", 6.0,
     (("Chengdu", "成都"), ("Mianyang", "绵阳"))),
    ("Guizhou", "贵州", "贵州省", "GZ", "Guizhou", "province", "Southwest China", 2.1,
     (("Guiyang", "贵阳"), ("Zunyi", "遵义"))),
    ("Yunnan", "云南", "云南省", "YN", "Yunnan", "province", "Southwest China", 3.0,
     (("Kunming", "昆明"), ("Dali", "大理"))),
    ("Tibet", "西藏", "西藏自治区", "XZ", "Xizang", "region", "Southwest China", 0.2,
     (("Lhasa", "拉萨"),)),
    ("Shaanxi", "陕西", "陕西省", "SN", "Shaanxi", "province", "Northwest China", 3.3,
     (("Xi'an", "西安"), ("Baoji", "宝鸡"))),
    ("Gansu", "甘肃", "甘肃省", "GS", "Gansu", "province", "Northwest China", 1.2,
     (("Lanzhou", "兰州"), ("Tianshui", "天水"))),
    ("Qinghai", "青海", "青海省", "QH", "Qinghai", "province", "Northwest China", 0.4,
     (("Xining", "西宁"),)),
    ("Ningxia", "宁夏", "宁夏回族自治区", "NX", "Ningxia", "region", "Northwest China", 0.5,
     (("Yinchuan", "银川"),)),
    ("Xinjiang", "新疆", "新疆维吾尔自治区", "XJ", "Xinjiang", "region", "Northwest China", 1.9,
     (("Urumqi", "乌鲁木齐"), ("Kashgar", "喀什"))),
    ("Liaoning", "辽宁", "辽宁省", "LN", "Liaoning", "province", "Northeast China", 3.0,
     (("Shenyang", "沈阳"), ("Dalian", "大连"))),
    ("Jilin", "吉林", "吉林省", "JL", "Jilin", "province", "Northeast China", 1.3,
     (("Changchun", "长春"), ("Yanji", "延吉"))),
    ("Heilongjiang", "黑龙江", "黑龙江省", "HL", "Heilongjiang", "province", "Northeast China", 1.6,
     (("Harbin", "哈尔滨"), ("Daqing", "大庆"))),
)

# US states and Canadian provinces: (code, full name, weight, cities).
_US_STATES: tuple[tuple[str, str, float, tuple[str, ...]], ...] = (
    ("CA", "California", 12.0, ("Los Angeles", "San Francisco", "San Diego", "San Jose")),
    ("TX", "Texas", 9.0, ("Houston", "Dallas", "Austin")),
    ("NY", "New York", 7.0, ("New York", "Buffalo")),
    ("FL", "Florida", 6.5, ("Miami", "Orlando", "Tampa")),
    ("IL", "Illinois", 4.0, ("Chicago",)),
    ("PA", "Pennsylvania", 4.0, ("Philadelphia", "Pittsburgh")),
    ("OH", "Ohio", 3.5, ("Columbus", "Cleveland")),
    ("GA", "Georgia", 3.3, ("Atlanta",)),
    ("NC", "North Carolina", 3.2, ("Charlotte", "Raleigh")),
    ("MI", "Michigan", 3.0, ("Detroit", "Grand Rapids")),
    ("NJ", "New Jersey", 2.8, ("Newark", "Jersey City")),
    ("VA", "Virginia", 2.6, ("Richmond", "Virginia Beach")),
    ("WA", "Washington", 2.4, ("Seattle", "Spokane")),
    ("AZ", "Arizona", 2.2, ("Phoenix", "Tucson")),
    ("MA", "Massachusetts", 2.1, ("Boston",)),
    ("TN", "Tennessee", 2.0, ("Nashville", "Memphis")),
    ("MD", "Maryland", 1.9, ("Baltimore",)),
    ("CO", "Colorado", 1.8, ("Denver",)),
    ("MN", "Minnesota", 1.7, ("Minneapolis",)),
    ("OR", "Oregon", 1.3, ("Portland",)),
    ("NV", "Nevada", 1.0, ("Las Vegas",)),
    ("UT", "Utah", 1.0, ("Salt Lake City",)),
    ("HI", "Hawaii", 0.4, ("Honolulu",)),
)
_CA_PROVINCES: tuple[tuple[str, str, float, tuple[str, ...]], ...] = (
    ("ON", "Ontario", 38.0, ("Toronto", "Ottawa")),
    ("QC", "Quebec", 22.0, ("Montreal", "Quebec City")),
    ("BC", "British Columbia", 14.0, ("Vancouver", "Victoria")),
    ("AB", "Alberta", 12.0, ("Calgary", "Edmonton")),
    ("MB", "Manitoba", 3.6, ("Winnipeg",)),
    ("SK", "Saskatchewan", 3.0, ("Saskatoon", "Regina")),
    ("NS", "Nova Scotia", 2.6, ("Halifax",)),
    ("NB", "New Brunswick", 2.1, ("Moncton",)),
)
# Cities of countries without subdivisions: (English, Chinese or "").
_COUNTRY_CITIES: dict[str, tuple[tuple[str, str], ...]] = {
    "HKG": (("Hong Kong", "香港"), ("Kowloon", "九龙")),
    "MAC": (("Macao", "澳门"),),
    "TWN": (("Taipei", "台北"), ("Kaohsiung", "高雄"), ("Taichung", "台中")),
    "DEU": (("Berlin", ""), ("Munich", ""), ("Hamburg", ""), ("Frankfurt", "")),
    "GBR": (("London", ""), ("Manchester", ""), ("Birmingham", ""), ("Edinburgh", "")),
    "FRA": (("Paris", ""), ("Lyon", ""), ("Marseille", "")),
    "ITA": (("Milan", ""), ("Rome", ""), ("Turin", "")),
    "ESP": (("Madrid", ""), ("Barcelona", ""), ("Valencia", "")),
    "NLD": (("Amsterdam", ""), ("Rotterdam", ""), ("Eindhoven", "")),
    "POL": (("Warsaw", ""), ("Krakow", ""), ("Wroclaw", "")),
    "SWE": (("Stockholm", ""), ("Gothenburg", "")),
    "JPN": (("Tokyo", "东京"), ("Osaka", "大阪"), ("Nagoya", "名古屋"), ("Fukuoka", "福冈")),
    "KOR": (("Seoul", "首尔"), ("Busan", "釜山"), ("Incheon", "仁川")),
    "SGP": (("Singapore", "新加坡"),),
    "AUS": (("Sydney", "悉尼"), ("Melbourne", "墨尔本"), ("Brisbane", ""), ("Perth", "")),
    "IND": (("Mumbai", ""), ("Bengaluru", ""), ("New Delhi", ""), ("Chennai", "")),
    "THA": (("Bangkok", "曼谷"), ("Chiang Mai", "")),
    "VNM": (("Ho Chi Minh City", ""), ("Hanoi", "河内")),
    "MYS": (("Kuala Lumpur", "吉隆坡"), ("Penang", "槟城")),
    "IDN": (("Jakarta", "雅加达"), ("Surabaya", "")),
    "BRA": (("São Paulo", ""), ("Rio de Janeiro", ""), ("Curitiba", "")),
    "MEX": (("Mexico City", ""), ("Guadalajara", ""), ("Monterrey", "")),
    "CHL": (("Santiago", ""),),
    "ARG": (("Buenos Aires", ""), ("Córdoba", "")),
    "COL": (("Bogotá", ""), ("Medellín", "")),
    "ARE": (("Dubai", "迪拜"), ("Abu Dhabi", "阿布扎比")),
    "SAU": (("Riyadh", ""), ("Jeddah", "")),
    "TUR": (("Istanbul", ""), ("Ankara", ""), ("Izmir", "")),
    "ISR": (("Tel Aviv", ""), ("Jerusalem", "")),
    "EGY": (("Cairo", "开罗"), ("Alexandria", "")),
}

# Country values that cannot be placed anywhere.
_UNPLACEABLE = ("", "N/A", "unknown", "???", "-", "n/a", "NULL", "other")
_UNPLACEABLE_SHARE = 0.01
_PROVINCE_MISSING_SHARE = 0.03  # of mainland customers, when messy
_DUPLICATE_ORDER_SHARE = 0.005
_DUPLICATE_OTHER_SHARE = 0.003

# How messy spellings are chosen: weight of each kind of spelling.
_COUNTRY_KIND_WEIGHT = {"name": 0.34, "iso2": 0.14, "iso3": 0.14, "alias": 0.14,
                        "official": 0.06, "zh": 0.18}
_GREATER_CHINA_KIND_WEIGHT = {"name": 0.20, "iso2": 0.10, "iso3": 0.10, "alias": 0.08,
                              "official": 0.04, "zh": 0.48}
_PROVINCE_KIND_WEIGHT = {"zh_full": 0.25, "zh_short": 0.20, "pinyin": 0.25,
                         "pinyin_province": 0.12, "iso": 0.10, "bare": 0.08}
# Stray whitespace `_mess_up` puts around a value (a tab only in front, as a pasted cell has it).
# " " is listed twice in front on purpose: a single space is the commonest stray.
_LEADING_PADS = (" ", "  ", "\t", " ")
_TRAILING_PADS = (" ", "  ")

# Chinese New Year's Day; the weeks before it are a shopping peak, the days around it a lull.
_SPRING_FESTIVAL = (
    "2015-02-19", "2016-02-08", "2017-01-28", "2018-02-16", "2019-02-05", "2020-01-25",
    "2021-02-12", "2022-02-01", "2023-01-22", "2024-02-10", "2025-01-29", "2026-02-17",
    "2027-02-06", "2028-01-26", "2029-02-13", "2030-02-03", "2031-01-23", "2032-02-11",
    "2033-01-31", "2034-02-19", "2035-02-08",
)
_CALENDARS = ("china", "west", "asia")

# Name material: (display, ASCII for e-mail addresses).
_NAMES: dict[str, tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...], bool]] = {
    # style: (given names, family names, family name first)
    "zh": (
        (("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"),
         ("磊", "lei"), ("洋", "yang"), ("艳", "yan"), ("勇", "yong"), ("军", "jun"),
         ("杰", "jie"), ("娟", "juan"), ("涛", "tao"), ("明", "ming"), ("超", "chao"),
         ("秀英", "xiuying"), ("霞", "xia"), ("平", "ping"), ("子涵", "zihan"),
         ("浩然", "haoran"), ("雨桐", "yutong"), ("梓轩", "zixuan")),
        (("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"),
         ("杨", "yang"), ("黄", "huang"), ("赵", "zhao"), ("吴", "wu"), ("周", "zhou"),
         ("徐", "xu"), ("孙", "sun"), ("马", "ma"), ("朱", "zhu"), ("胡", "hu"),
         ("郭", "guo"), ("何", "he"), ("林", "lin"), ("罗", "luo"), ("高", "gao")),
        True,
    ),
    "western": (
        (("James", "james"), ("Mary", "mary"), ("John", "john"), ("Emma", "emma"),
         ("Lucas", "lucas"), ("Sofia", "sofia"), ("Liam", "liam"), ("Olivia", "olivia"),
         ("Noah", "noah"), ("Mia", "mia"), ("Lukas", "lukas"), ("Marie", "marie"),
         ("Luca", "luca"), ("Giulia", "giulia"), ("Hugo", "hugo"), ("Léa", "lea"),
         ("Jan", "jan"), ("Zofia", "zofia"), ("Erik", "erik"), ("Elsa", "elsa")),
        (("Smith", "smith"), ("Johnson", "johnson"), ("Brown", "brown"), ("Miller", "miller"),
         ("Martin", "martin"), ("Müller", "mueller"), ("Schmidt", "schmidt"), ("Rossi", "rossi"),
         ("Bianchi", "bianchi"), ("Dubois", "dubois"), ("Moreau", "moreau"),
         ("de Vries", "devries"), ("Jansen", "jansen"), ("Nowak", "nowak"),
         ("Andersson", "andersson"), ("Taylor", "taylor"), ("Wilson", "wilson"),
         ("Tremblay", "tremblay")),
        False,
    ),
    "latin": (
        (("Gabriel", "gabriel"), ("Ana", "ana"), ("Juan", "juan"), ("Camila", "camila"),
         ("Mateo", "mateo"), ("Lucía", "lucia"), ("Diego", "diego"), ("Valentina", "valentina"),
         ("Pedro", "pedro"), ("Isabela", "isabela")),
        (("Silva", "silva"), ("Santos", "santos"), ("González", "gonzalez"),
         ("Rodríguez", "rodriguez"), ("López", "lopez"), ("Fernández", "fernandez"),
         ("Pérez", "perez"), ("Oliveira", "oliveira"), ("Díaz", "diaz"), ("Romero", "romero")),
        False,
    ),
    "japanese": (
        (("Haruto", "haruto"), ("Yui", "yui"), ("Ren", "ren"), ("Hina", "hina"),
         ("Sota", "sota"), ("Aoi", "aoi"), ("Yuto", "yuto"), ("Sakura", "sakura")),
        (("Sato", "sato"), ("Suzuki", "suzuki"), ("Takahashi", "takahashi"),
         ("Tanaka", "tanaka"), ("Watanabe", "watanabe"), ("Ito", "ito"), ("Yamamoto", "yamamoto")),
        True,
    ),
    "korean": (
        (("Min-jun", "minjun"), ("Seo-yeon", "seoyeon"), ("Ji-ho", "jiho"),
         ("Ha-eun", "haeun"), ("Do-yun", "doyun"), ("Ji-woo", "jiwoo")),
        (("Kim", "kim"), ("Lee", "lee"), ("Park", "park"), ("Choi", "choi"), ("Jung", "jung"),
         ("Kang", "kang")),
        True,
    ),
    "indian": (
        (("Aarav", "aarav"), ("Priya", "priya"), ("Rohan", "rohan"), ("Ananya", "ananya"),
         ("Vikram", "vikram"), ("Divya", "divya")),
        (("Sharma", "sharma"), ("Patel", "patel"), ("Singh", "singh"), ("Gupta", "gupta"),
         ("Iyer", "iyer"), ("Reddy", "reddy")),
        False,
    ),
    "seasian": (
        (("Minh", "minh"), ("Linh", "linh"), ("Wei Ling", "weiling"), ("Putri", "putri"),
         ("Arif", "arif"), ("Siti", "siti"), ("Somchai", "somchai"), ("Nurul", "nurul")),
        (("Nguyen", "nguyen"), ("Tran", "tran"), ("Tan", "tan"), ("Lim", "lim"),
         ("Wijaya", "wijaya"), ("Santoso", "santoso"), ("Rahman", "rahman")),
        False,
    ),
    "mideast": (
        (("Ahmed", "ahmed"), ("Fatima", "fatima"), ("Omar", "omar"), ("Layla", "layla"),
         ("Mehmet", "mehmet"), ("Ayşe", "ayse"), ("Noa", "noa"), ("David", "david")),
        (("Al-Sayed", "alsayed"), ("Haddad", "haddad"), ("Hassan", "hassan"),
         ("Mansour", "mansour"), ("Yılmaz", "yilmaz"), ("Kaya", "kaya"), ("Cohen", "cohen"),
         ("Levi", "levi")),
        False,
    ),
}
_COMPANY_WORDS_ZH = (("恒泰", "Hengtai"), ("华信", "Huaxin"), ("金龙", "Jinlong"), ("天宇", "Tianyu"),
                     ("信达", "Xinda"), ("中科", "Zhongke"), ("瑞丰", "Ruifeng"), ("博远", "Boyuan"))
_COMPANY_KINDS_ZH = (("贸易有限公司", "Trading Co., Ltd."), ("科技有限公司", "Technology Co., Ltd."),
                     ("实业有限公司", "Industrial Co., Ltd."), ("制造有限公司", "Manufacturing Co., Ltd."))
_COMPANY_WORDS = ("Northwind", "Blue Harbor", "Summit", "Redwood", "Silverline", "Atlas",
                  "Meridian", "Lakeside", "Evergreen", "Granite")
_COMPANY_KINDS = ("Trading", "Industries", "Supply", "Holdings", "Systems", "Logistics")

# Line items (`line_items_frame`): the shop's catalogue, as (description, list price in CNY) per
# category in the order of CATEGORIES. A line's quantity is its value over the list price, so a
# stock code keeps roughly one unit price across invoices, as in a real export.
_PRODUCTS: tuple[tuple[tuple[str, float], ...], ...] = (
    (("USB-C charging cable", 39.0), ("Wireless earbuds", 299.0), ("Power bank 10000 mAh", 129.0),
     ("Bluetooth speaker", 259.0), ("Smart watch", 899.0), ("LED desk lamp", 149.0),
     ("Wireless mouse", 89.0), ("HDMI adapter", 59.0)),
    (("Ceramic mug", 29.0), ("Non-stick frying pan", 159.0), ("Glass food container set", 79.0),
     ("Bath towel", 49.0), ("Kitchen knife set", 229.0), ("Storage basket", 39.0),
     ("Scented candle", 59.0), ("Electric kettle", 139.0)),
    (("Cotton T-shirt", 59.0), ("Denim jeans", 199.0), ("Hooded sweatshirt", 169.0),
     ("Wool socks, 3 pairs", 39.0), ("Rain jacket", 299.0), ("Silk scarf", 159.0),
     ("Leather belt", 99.0), ("Baseball cap", 49.0)),
    (("Face cream", 129.0), ("Shampoo", 45.0), ("Lipstick", 89.0), ("Sunscreen SPF 50", 79.0),
     ("Hand soap", 19.0), ("Electric toothbrush", 199.0), ("Sheet masks, 10 pack", 69.0),
     ("Hair dryer", 249.0)),
    (("Green tea", 68.0), ("Coffee beans", 88.0), ("Dark chocolate", 25.0), ("Mixed nuts", 39.0),
     ("Instant noodles, 5 pack", 15.0), ("Olive oil", 79.0), ("Honey", 49.0), ("Dried fruit", 35.0)),
    (("Yoga mat", 99.0), ("Running shoes", 459.0), ("Water bottle", 59.0), ("Camping tent", 599.0),
     ("Dumbbell set", 269.0), ("Cycling helmet", 219.0), ("Hiking backpack", 329.0),
     ("Badminton racket", 149.0)),
    (("A4 copy paper, 500 sheets", 25.0), ("Gel pens, 12 pack", 18.0), ("Sticky notes", 9.0),
     ("Stapler", 29.0), ("File folders, 10 pack", 22.0), ("Printer toner", 189.0),
     ("Notebook", 12.0), ("Desk organiser", 45.0)),
    (("Ball bearing", 18.0), ("Hex bolts, 100 pack", 35.0), ("Hydraulic hose", 120.0),
     ("Steel bracket", 16.0), ("Rubber gasket", 6.0), ("Drive belt", 85.0), ("Pressure valve", 260.0),
     ("Circuit breaker", 145.0)),
)
_POSTAGE_ITEM = ("POST", "POSTAGE")  # StockCode and Description of a postage line, as in UCI
_LINES_PER_INVOICE_WEIGHT = (0.45, 0.28, 0.17, 0.10)  # 1, 2, 3 or 4 product lines
_MAX_QUANTITY = 10_000
_POSTAGE_SHARE = 0.03  # of invoices
_POSTAGE_CNY = (8.0, 40.0)
_ANONYMOUS_SHARE = 0.01  # of invoices: guest checkouts with no customer id
_CANCEL_DELAY_DAYS = (1, 6)  # a cancellation invoice follows the order within days
_REFUND_DELAY_DAYS = (5, 41)  # a refund once the goods are back
# Share of web orders by hour of day (local time): quiet at night, busiest in the evening.
_HOUR_WEIGHT = np.array([
    0.6, 0.35, 0.2, 0.15, 0.15, 0.2, 0.4, 0.8, 1.3, 1.7, 2.0, 2.1,
    2.0, 1.9, 1.9, 1.9, 1.8, 1.7, 1.8, 2.1, 2.4, 2.4, 1.9, 1.2,
])
# The line-item draws come from their own stream of the sample's seed, so that adding them never
# changes the other files.
_LINE_ITEM_STREAM = 7
_MISTAKE_STREAM = 11
# Rows with an export mistake that intake must quarantine, per kind of mistake, as a share of the
# table: an order without customer, worth nothing, in an unknown status or reusing an order id
# with another amount; a contact without customer; a survey with an NPS typed into the 1-5 scale.
_MISTAKE_SHARE = 0.0005
#: Columns of `line_items_frame`, named as in the UCI "Online Retail" export.
LINE_ITEM_COLUMNS: tuple[str, ...] = (
    "InvoiceNo", "StockCode", "Description", "Quantity", "UnitPrice", "InvoiceDate",
    "CustomerID", "Country", "Currency", "Category",
)


# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class SampleSpec:
    """What to generate.

    Parameters
    ----------
    n_customers : int
        Number of distinct customers. Orders scale with it (about 20 rows per customer).
    start_date : datetime.date
        First day with orders.
    observation_date : datetime.date
        Day after the last order written to ``orders.csv``; the churn horizon starts here.
    horizon_days : int
        Length of the future window simulated for the churn ground truth.
    seed : int
        Seed of the single random generator everything is drawn from.
    messy : bool
        Messy location spellings, unplaceable values and exact duplicate rows when True; the
        canonical values (ISO-3 country, English province name) and no duplicates when False.
    base_currency : str
        Currency of ``future_revenue`` and of the rates in ``sample_meta.json``; a key of
        `EXCHANGE_RATES`.
    """

    n_customers: int = 5000
    start_date: datetime.date = datetime.date(2023, 10, 1)
    observation_date: datetime.date = datetime.date(2026, 10, 1)
    horizon_days: int = 90
    seed: int = 20261001
    messy: bool = True
    base_currency: str = "CNY"


@dataclasses.dataclass(frozen=True)
class SampleData:
    """A generated sample: the four raw tables, the ground truth and a description.

    Attributes
    ----------
    customers, orders, interactions, feedback : pandas.DataFrame
        Raw tables in the column order of the data contract; text columns use the ``str`` dtype,
        dates are ``datetime64``, empty CSV cells are ``<NA>``.
    ground_truth : pandas.DataFrame
        One row per distinct customer, in ``customer_id`` order.
    meta : dict
        What ``sample_meta.json`` holds: seed, spec, sizes, dates, base currency, rates.
    """

    customers: pd.DataFrame
    orders: pd.DataFrame
    interactions: pd.DataFrame
    feedback: pd.DataFrame
    ground_truth: pd.DataFrame
    meta: dict


def generate_sample(spec: SampleSpec = SampleSpec()) -> SampleData:
    """Generate a synthetic customer base with a known answer.

    Parameters
    ----------
    spec : SampleSpec
        Size, dates, seed and messiness of the sample.

    Returns
    -------
    SampleData
        Raw customers, orders (before the observation date only), interactions and feedback, the
        ground truth per customer and the metadata written to ``sample_meta.json``.

    Raises
    ------
    ValueError
        If the spec is inconsistent (see `SampleSpec`).
    """
    _validate_spec(spec)
    rng = np.random.default_rng(spec.seed)
    span = (spec.observation_date - spec.start_date).days
    end = span + spec.horizon_days
    intensity = _intensity_table(spec.start_date, end)

    people = _draw_people(rng, spec.n_customers, span)
    orders = _draw_orders(rng, people, intensity, span, end)
    contacts = _draw_interactions(rng, people, intensity, span)
    surveys = _draw_feedback(rng, people, orders, span)
    location = _draw_location_text(rng, people, spec.messy)
    identity = _draw_identity(rng, people, location)

    # Exact duplicate rows (a re-run export) are chosen as row positions before any text is
    # built, so that ten million orders are never copied as strings.
    past = orders.day < span
    rows = {
        name: _duplicate_rows(rng, size, share if spec.messy else 0.0)
        for name, size, share in (
            ("customers", spec.n_customers, _DUPLICATE_OTHER_SHARE),
            ("orders", int(past.sum()), _DUPLICATE_ORDER_SHARE),
            ("interactions", contacts[0].size, _DUPLICATE_OTHER_SHARE),
            ("feedback", surveys[0].size, _DUPLICATE_OTHER_SHARE),
        )
    }
    customer_ids = _id_array("C", spec.n_customers, 6)
    customers = _customers_frame(people, location, identity, spec.start_date).take(rows["customers"])
    customers = customers.reset_index(drop=True)
    ground_truth = _ground_truth_frame(people, orders, location, span, spec)
    orders_frame = _orders_frame(orders, past, rows["orders"], customer_ids, spec.start_date)
    interactions = _interactions_frame(contacts, rows["interactions"], customer_ids, spec.start_date)
    feedback = _feedback_frame(surveys, rows["feedback"], customer_ids, spec.start_date)
    if spec.messy:
        # A separate random stream: the mistakes never change any other draw of the sample.
        mistakes = np.random.default_rng([_MISTAKE_STREAM, spec.seed])
        orders_frame, interactions, feedback = _with_mistakes(mistakes, orders_frame, interactions, feedback)

    meta = _meta(spec, customers, orders_frame, interactions, feedback, ground_truth)
    return SampleData(customers, orders_frame, interactions, feedback, ground_truth, meta)


def write_sample(data: SampleData, folder: pathlib.Path) -> dict[str, pathlib.Path]:
    """Write a sample as CSV files plus ``sample_meta.json``.

    Files are UTF-8 without index, dates ``YYYY-MM-DD``, amounts with two decimals, ``\\n`` line
    ends, so the same spec always gives byte-identical files.

    Parameters
    ----------
    data : SampleData
        Output of `generate_sample`.
    folder : pathlib.Path
        Destination; created if missing. Existing files of the same names are replaced.

    Returns
    -------
    dict[str, pathlib.Path]
        File stem (``customers``, ``orders``, ``interactions``, ``feedback``, ``ground_truth``,
        ``sample_meta``) to written path.
    """
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tables = {
        "customers": data.customers,
        "orders": data.orders,
        "interactions": data.interactions,
        "feedback": data.feedback,
        "ground_truth": data.ground_truth,
    }
    written: dict[str, pathlib.Path] = {}
    for name, frame in tables.items():
        # formulas kept: the sample plays a company's raw export (phones start with "+"), which
        # intake reads back; UTF-8 without a BOM, as most shop systems write it
        written[name] = files.write_csv(
            frame, folder / f"{name}.csv", formulas="keep",
            encoding="utf-8", date_format="%Y-%m-%d", float_format="%.2f",
        )
    meta_path = folder / "sample_meta.json"
    files.write_text(meta_path, json.dumps(data.meta, ensure_ascii=False, indent=2, sort_keys=True) + "\n")
    written["sample_meta"] = meta_path
    return written


def invoiced_orders(orders: pd.DataFrame) -> pd.DataFrame:
    """The orders a shop system would really have invoiced: no row with an export mistake."""
    reused = orders["order_id"].duplicated(keep="first") & ~orders.duplicated(keep="first")
    ok = orders["customer_id"].notna() & orders["amount"].gt(0) & orders["status"].isin(_STATUSES) & ~reused
    return orders.loc[ok]


def line_items_frame(data: SampleData, seed: int | None = None) -> pd.DataFrame:
    """The sample's orders as a line-item export: one row per invoice line, UCI-style headers.

    Online shops (Shopify, the UCI "Online Retail" file) export invoice lines rather than orders.
    Each order becomes an invoice of the same number with 1-4 product lines whose
    ``Quantity * UnitPrice`` add up exactly to the order amount, in the order currency (the last
    line's quantity and price absorb the remainder). On top of that:

    * a cancelled or refunded order also gets a reversal invoice ``"C" + order id`` repeating its
      lines with negative quantities, dated days (cancelled) or weeks (refunded) later but before
      the observation date when there is room;
    * about 3% of invoices carry a postage line (``StockCode`` ``POST``, quantity 1, a small
      price) that is not part of the order amount;
    * about 1% of invoices are guest checkouts with an empty ``CustomerID``;
    * an order row duplicated in ``data.orders`` gives its lines twice.

    ``Country`` is the customer's country exactly as ``customers.csv`` spells it. Rows are in
    ``InvoiceDate`` order. Every draw depends on the order, not on its row, so duplicates match.

    Parameters
    ----------
    data : SampleData
        Output of `generate_sample`.
    seed : int, optional
        Seed of the line-item draws (products, quantities, times); None uses the sample's own
        seed (``data.meta["seed"]``). The same data and seed always give the same frame.

    Returns
    -------
    pandas.DataFrame
        Columns `LINE_ITEM_COLUMNS`: ``InvoiceNo``, ``StockCode``, ``Description`` (str),
        ``Quantity`` (int64, negative on reversal invoices), ``UnitPrice`` (float, 2 decimals),
        ``InvoiceDate`` (datetime64, to the minute), ``CustomerID`` (str, ``<NA>`` for guests),
        ``Country``, ``Currency``, ``Category`` (str).

    Raises
    ------
    ValueError
        If an order's category, currency or status is not one the generator makes.
    """
    orders = invoiced_orders(data.orders)
    rng = np.random.default_rng([_LINE_ITEM_STREAM, int(data.meta["seed"] if seed is None else seed)])

    # Everything is drawn once per distinct order id; exact duplicate rows then repeat its lines.
    row_order, order_ids = pd.factorize(orders["order_id"])
    distinct = orders.take(np.unique(row_order, return_index=True)[1])
    category = _codes_of(distinct["category"], CATEGORIES, "category")
    status = _codes_of(distinct["status"], _STATUSES, "status")
    currencies = tuple(EXCHANGE_RATES)
    currency = _codes_of(distinct["currency"], currencies, "currency")
    # Prices are counted in whole minor units so that the lines add up exactly.
    scale = np.where(np.isin(np.array(currencies), list(_WHOLE_UNIT_CURRENCIES)), 1, 100)[currency]
    rate = np.array([EXCHANGE_RATES[c] for c in currencies])[currency]
    units = np.rint(distinct["amount"].to_numpy(dtype=float) * scale).astype(np.int64)

    blocks = _invoice_blocks(rng, category, status, units, scale, rate)
    placed, reversed_at = _invoice_times(
        rng, distinct["order_date"].to_numpy(), status, np.datetime64(data.meta["observation_date"], "m")
    )
    anonymous = rng.random(len(distinct)) < _ANONYMOUS_SHARE

    # Each row of the orders frame (duplicates included) takes its order's block; then time order.
    size = np.bincount(blocks.owner, minlength=len(distinct))
    start = np.cumsum(size) - size
    lines = blocks.take(_ragged(start[row_order], size[row_order]))
    stamp = np.where(lines.reversal, reversed_at[lines.owner], placed[lines.owner])
    chronological = np.argsort(stamp, kind="stable")
    lines, stamp = lines.take(chronological), stamp[chronological]
    owner = lines.owner

    invoice = pa.array(np.asarray(order_ids, dtype=object), type=pa.string()).take(pa.array(owner))
    invoice = pc.if_else(pa.array(lines.reversal), pc.binary_join_element_wise("C", invoice, ""), invoice)
    stock_codes, descriptions = _catalogue()
    customers = data.customers.drop_duplicates("customer_id")
    country = customers["country"].reset_index(drop=True).reindex(
        _positions(distinct["customer_id"], customers["customer_id"])
    )
    return pd.DataFrame({
        "InvoiceNo": _series(invoice),
        "StockCode": _labels(stock_codes, lines.item),
        "Description": _labels(descriptions, lines.item),
        "Quantity": lines.quantity,
        "UnitPrice": np.round(lines.price / scale[owner], 2),
        "InvoiceDate": pd.Series(stamp.astype("datetime64[s]")),
        "CustomerID": distinct["customer_id"].mask(anonymous).take(owner).reset_index(drop=True),
        "Country": country.take(owner).reset_index(drop=True),
        "Currency": _labels(currencies, currency[owner]),
        "Category": _labels(CATEGORIES, category[owner]),
    })


def write_line_items(data: SampleData, folder: pathlib.Path) -> pathlib.Path:
    """Write `line_items_frame` of a sample as ``line_items.csv``.

    Same conventions as `write_sample` (UTF-8, no index, ``\\n`` line ends, prices with two
    decimals), with dates as ``YYYY-MM-DD HH:MM``; the line-item draws use the sample's seed.

    Parameters
    ----------
    data : SampleData
        Output of `generate_sample`.
    folder : pathlib.Path
        Destination; created if missing. An existing ``line_items.csv`` is replaced.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    return files.write_csv(
        line_items_frame(data), pathlib.Path(folder) / "line_items.csv", formulas="keep",
        encoding="utf-8", date_format="%Y-%m-%d %H:%M", float_format="%.2f",
    )


# ---------------------------------------------------------------------------------------------
# Line items
# ---------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class _Lines:
    """Invoice lines as parallel arrays; prices in minor units of the order currency."""

    owner: np.ndarray  # distinct order the line belongs to
    item: np.ndarray  # index into `_catalogue`
    quantity: np.ndarray  # negative on a reversal invoice
    price: np.ndarray
    reversal: np.ndarray  # bool: on the "C" invoice

    def take(self, index: np.ndarray) -> _Lines:
        return _Lines(*(getattr(self, f.name)[index] for f in dataclasses.fields(self)))

    @staticmethod
    def concat(*parts: _Lines) -> _Lines:
        return _Lines(*(np.concatenate([getattr(p, f.name) for p in parts]) for f in dataclasses.fields(_Lines)))


def _catalogue() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Stock codes and descriptions: the products category by category, then postage."""
    codes = tuple(f"P{10000 + 1000 * c + (137 * p + 23) % 1000}"  # scattered, like real codes
                  for c, items in enumerate(_PRODUCTS) for p in range(len(items)))
    names = tuple(name for items in _PRODUCTS for name, _price in items)
    return (*codes, _POSTAGE_ITEM[0]), (*names, _POSTAGE_ITEM[1])


def _positions(values: pd.Series, vocabulary: pd.Series | tuple[str, ...]) -> np.ndarray:
    """Position of each value in the vocabulary (first occurrence), -1 where it is absent."""
    found = pc.index_in(pa.array(values, type=pa.large_string()),
                        value_set=pa.array(vocabulary, type=pa.large_string()))
    return found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


def _codes_of(values: pd.Series, vocabulary: tuple[str, ...], column: str) -> np.ndarray:
    """Positions of text values in a vocabulary; an unknown value is an error naming it."""
    codes = _positions(values, vocabulary)
    if (codes < 0).any():
        bad = values.iloc[int(np.argmax(codes < 0))]
        raise ValueError(f"orders {column} {bad!r} is not one the sample generator makes: {', '.join(vocabulary)}")
    return codes


def _invoice_blocks(
    rng: np.random.Generator,
    category: np.ndarray,
    status: np.ndarray,
    units: np.ndarray,
    scale: np.ndarray,
    rate: np.ndarray,
) -> _Lines:
    """All lines of each distinct order, as one block per order: its product lines, a postage
    line on some, then the same again with negative quantities when it was cancelled or refunded."""
    m = units.size
    owner, product, quantity, price = _product_lines(rng, category, units, scale, rate)
    products = _Lines(owner, category[owner] * len(_PRODUCTS[0]) + product, quantity, price,
                      np.zeros(owner.size, dtype=bool))
    posted = np.flatnonzero(rng.random(m) < _POSTAGE_SHARE)
    postage_units = np.rint(rng.uniform(*_POSTAGE_CNY, posted.size) / rate[posted] * scale[posted])
    postage = _Lines(posted, np.full(posted.size, len(_catalogue()[0]) - 1), np.ones(posted.size, dtype=np.int64),
                     np.maximum(1, postage_units).astype(np.int64), np.zeros(posted.size, dtype=bool))
    sold = _Lines.concat(products, postage)
    undone = sold.take(np.flatnonzero(status[sold.owner] != _STATUSES.index("completed")))
    undone = dataclasses.replace(undone, quantity=-undone.quantity, reversal=np.ones(undone.owner.size, dtype=bool))
    every = _Lines.concat(sold, undone)
    return every.take(np.argsort(every.owner, kind="stable"))


def _invoice_times(
    rng: np.random.Generator, order_date: np.ndarray, status: np.ndarray, observation: np.datetime64
) -> tuple[np.ndarray, np.ndarray]:
    """Minute of each order's invoice and of its reversal invoice (for the cancelled and refunded).

    A reversal follows days (cancelled) or weeks (refunded) later, but stays before the
    observation date when the order leaves room for that.
    """
    m = status.size
    hour_share = _HOUR_WEIGHT / _HOUR_WEIGHT.sum()
    day = order_date.astype("datetime64[m]")
    placed = day + (rng.choice(24, size=m, p=hour_share) * 60 + rng.integers(0, 60, m)).astype("timedelta64[m]")
    delay = np.where(status == _STATUSES.index("cancelled"),
                     rng.integers(*_CANCEL_DELAY_DAYS, m), rng.integers(*_REFUND_DELAY_DAYS, m))
    later = day + (delay * 1440 + rng.choice(24, size=m, p=hour_share) * 60 + rng.integers(0, 60, m)).astype(
        "timedelta64[m]"
    )
    return placed, np.maximum(np.minimum(later, observation - np.timedelta64(1, "m")), placed)


def _product_lines(
    rng: np.random.Generator, category: np.ndarray, units: np.ndarray, scale: np.ndarray, rate: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Product lines of each order: (order, product, quantity, unit price in minor units).

    Lines come grouped by order. Every line but the last gets a share of the amount at a price
    rounded down, so the remainder is always positive; the last line takes the remainder, and
    the few minor units its quantity does not divide go onto a one-unit line, so the lines add
    up to the amount exactly.
    """
    m = units.size
    weight = np.array(_LINES_PER_INVOICE_WEIGHT)
    count = rng.choice(weight.size, size=m, p=weight / weight.sum()) + 1
    # Every line needs a few minor units to share out: tiny orders keep one line.
    value_cny = units / scale * rate
    room = np.minimum(units // 20, np.floor(value_cny / 15).astype(np.int64))
    count = np.clip(np.minimum(count, room), 1, None)

    owner = np.repeat(np.arange(m), count)
    start = np.cumsum(count) - count
    position = np.arange(owner.size) - start[owner]
    last = position == count[owner] - 1
    # Shares between 1/3 and 3 times the even share: no line is a rounding error.
    share = rng.uniform(0.5, 1.5, owner.size)
    share /= np.bincount(owner, weights=share, minlength=m)[owner]
    target = np.floor(units[owner] * share).astype(np.int64)
    # Different products on the lines of one invoice (a stride coprime to the catalogue size
    # visits each product once), so two lines of an invoice are never exact duplicates.
    n_items = len(_PRODUCTS[0])
    strides = np.array([k for k in range(1, n_items) if np.gcd(k, n_items) == 1])
    stride = strides[rng.integers(0, strides.size, m)]
    product = (rng.integers(0, n_items, m)[owner] + position * stride[owner]) % n_items
    list_cny = np.array([[p for _name, p in items] for items in _PRODUCTS])[category[owner], product]
    wanted = target / scale[owner] * rate[owner] / list_cny * rng.lognormal(0.0, 0.2, owner.size)
    wanted = np.clip(np.rint(wanted), 1, _MAX_QUANTITY).astype(np.int64)

    quantity = np.clip(wanted, 1, np.maximum(target, 1))
    price = target // quantity
    spent = np.bincount(owner[~last], weights=(quantity * price)[~last], minlength=m).astype(np.int64)
    rest = units - spent  # one per order, in order: what the last line must come to
    last_line = np.flatnonzero(last)
    quantity[last_line] = np.minimum(wanted[last_line], rest)
    price[last_line] = rest // quantity[last_line]
    short = rest - quantity[last_line] * price[last_line]  # below the last line's quantity

    # The few minor units left over go onto another line of one unit, which keeps the unit
    # prices of a stock code close together.
    single = np.flatnonzero(~last & (quantity == 1))
    takers, first = np.unique(owner[single], return_index=True)
    taker = np.full(m, -1)
    taker[takers] = single[first]
    moved = (short > 0) & (taker >= 0)
    price[taker[moved]] += short[moved]
    # Else one unit of the last line becomes a line of its own that carries them, while the
    # order has fewer than four lines.
    split = np.flatnonzero((short > 0) & (taker < 0) & (count < weight.size))
    quantity[last_line[split]] -= 1
    # With four lines already, the last line's quantity becomes a divisor of what it must come
    # to: the greatest common divisor with the wanted quantity, or a larger divisor up to 12.
    stuck = np.flatnonzero((short > 0) & (taker < 0) & (count == weight.size))
    want, remainder = quantity[last_line[stuck]], rest[stuck]
    fit = np.gcd(remainder, want)
    for divisor in range(2, 13):
        fit = np.where((divisor <= want) & (remainder % divisor == 0), np.maximum(fit, divisor), fit)
    quantity[last_line[stuck]], price[last_line[stuck]] = fit, remainder // fit

    grouped = np.argsort(np.concatenate([owner, split]), kind="stable")  # split lines after their order's
    return (
        np.concatenate([owner, split])[grouped],
        np.concatenate([product, product[last_line[split]]])[grouped],
        np.concatenate([quantity, np.ones(split.size, dtype=np.int64)])[grouped],
        np.concatenate([price, price[last_line[split]] + short[split]])[grouped],
    )


def _ragged(start: np.ndarray, size: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(start[i], start[i] + size[i])`` over i, without a Python loop."""
    total = int(size.sum())
    offset = np.cumsum(size) - size
    return np.repeat(start - offset, size) + np.arange(total)


# ---------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------

def _validate_spec(spec: SampleSpec) -> None:
    if not isinstance(spec.n_customers, (int, np.integer)) or spec.n_customers < 1:
        raise ValueError(f"SampleSpec.n_customers must be a positive integer, got {spec.n_customers!r}")
    for field in ("start_date", "observation_date"):
        value = getattr(spec, field)
        if not isinstance(value, datetime.date) or isinstance(value, datetime.datetime):
            raise ValueError(f"SampleSpec.{field} must be a datetime.date, got {value!r}")
    span = (spec.observation_date - spec.start_date).days
    if span < 365:
        raise ValueError(
            f"SampleSpec needs at least 365 days of order history, got {span} days from "
            f"start_date {spec.start_date} to observation_date {spec.observation_date}"
        )
    if not isinstance(spec.horizon_days, (int, np.integer)) or spec.horizon_days < 1:
        raise ValueError(f"SampleSpec.horizon_days must be a positive integer, got {spec.horizon_days!r}")
    if spec.base_currency not in EXCHANGE_RATES:
        raise ValueError(
            f"SampleSpec.base_currency {spec.base_currency!r} has no exchange rate; "
            f"choose one of {', '.join(sorted(EXCHANGE_RATES))}"
        )


# ---------------------------------------------------------------------------------------------
# Small vectorized helpers
# ---------------------------------------------------------------------------------------------

def _grouped_choice(rng: np.random.Generator, group: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Draw one option per row, with option weights depending on the row's group.

    ``weights`` has one row per group (zeros allowed); the answer is the option's column index.
    """
    weights = np.asarray(weights, dtype=float)
    n_groups, n_options = weights.shape
    cum = np.cumsum(weights, axis=1)
    total = cum[:, -1:]
    if np.any(total <= 0):
        raise ValueError("every group needs a positive weight")
    cum = cum / total
    # Past the last option with weight the cumulative share is exactly 1, so a uniform draw
    # below 1 can never land on a zero-weight option.
    last = n_options - 1 - np.argmax(weights[:, ::-1] > 0, axis=1)
    cum[np.arange(n_options)[None, :] >= last[:, None]] = 1.0
    flat = (cum + np.arange(n_groups)[:, None]).ravel()
    pick = np.searchsorted(flat, group + rng.random(group.size), side="right")
    return pick - group * n_options


def _rank_within(owner: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Rank (0 = earliest) of each event among the events of the same owner."""
    order = np.lexsort((day, owner))
    sorted_owner = owner[order]
    n = sorted_owner.size
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, sorted_owner[1:] != sorted_owner[:-1]])
    sizes = np.diff(np.r_[starts, n])
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n) - np.repeat(starts, sizes)
    return rank


def _by_day(day: np.ndarray) -> np.ndarray:
    """Stable order by day. Events arrive sorted by owner, so ties stay in owner order."""
    # Days fit in 16 bits for any realistic span, where numpy's stable sort is a radix sort.
    key = day.astype(np.int16) if day.size and day.max() < 2**15 and day.min() >= 0 else day
    return np.argsort(key, kind="stable")


def _thin(rng: np.random.Generator, day: np.ndarray, stop: np.ndarray, floor: float, after: float) -> np.ndarray:
    """Keep-mask of a Poisson process thinned by `_decay`; only customers who stop are drawn for."""
    keep = np.ones(day.size, dtype=bool)
    stopping = np.flatnonzero(stop < _NEVER)
    keep[stopping] = rng.random(stopping.size) < _decay(day[stopping], stop[stopping], _DECAY_DAYS, floor, after)
    return keep


def _decay(day: np.ndarray, stop: np.ndarray, length: float, floor: float, after: float) -> np.ndarray:
    """Activity multiplier of a customer who stops at ``stop``: 1, then a linear fade, then ``after``."""
    fade = floor + (1.0 - floor) * (stop - day) / length
    return np.where(day < stop - length, 1.0, np.where(day < stop, fade, after))


def _poisson_days(
    rng: np.random.Generator,
    rate: np.ndarray,
    first: np.ndarray,
    stop: np.ndarray,
    pattern: np.ndarray,
    cum: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Days of a Poisson process with intensity ``rate * pattern shape`` on ``[first, stop)``.

    The day is drawn by inverting the cumulative intensity of the customer's calendar pattern,
    so seasonality costs no rejected draws. Returns (owner index, day), owners ascending.
    """
    n_patterns, width = cum.shape
    first = np.clip(first, 0, width - 1)
    stop = np.clip(stop, first, width - 1)
    low = cum[pattern, first]
    mass = cum[pattern, stop] - low
    counts = rng.poisson(rate * mass)
    owner = np.repeat(np.arange(rate.size, dtype=np.int64), counts)
    position = low[owner] + rng.random(owner.size) * mass[owner]
    # One sorted array for all patterns: pattern p lives in [p * offset, p * offset + total_p].
    offset = cum[:, -1].max() + 1.0
    flat = (cum + offset * np.arange(n_patterns)[:, None]).ravel()
    owner_pattern = pattern[owner]
    index = np.searchsorted(flat, position + offset * owner_pattern, side="right") - 1
    day = index - owner_pattern * width
    day = np.clip(day, first[owner], np.maximum(stop[owner] - 1, first[owner]))
    return owner, day  # owners ascending, as np.repeat made them


def _fullwidth(text: pd.Series) -> pd.Series:
    """Replace printable ASCII by its full-width form, as some Chinese input methods type it."""
    table = {code: code + 0xFEE0 for code in range(0x21, 0x7F)}
    table[0x20] = 0x3000
    return text.str.translate(table)


def _mess_up(rng: np.random.Generator, text: pd.Series, case: float, space: float, wide: float) -> pd.Series:
    """Odd case, stray whitespace and full-width letters on a share of the non-empty values."""
    out = text.copy()
    n = out.size
    # An empty value stays empty: padding it would invent a value that is only whitespace.
    filled = (out != "").to_numpy()
    case_draw = rng.random(n)
    lower = filled & (case_draw < case * 0.5)
    upper = filled & (case_draw >= case * 0.5) & (case_draw < case * 0.85)
    title = filled & (case_draw >= case * 0.85) & (case_draw < case)
    out[lower] = out[lower].str.lower()
    out[upper] = out[upper].str.upper()
    out[title] = out[title].str.title()
    widen = filled & (rng.random(n) < wide)
    out[widen] = _fullwidth(out[widen])
    lead = filled & (rng.random(n) < space)
    trail = filled & (rng.random(n) < space)
    lead_pad = np.array(_LEADING_PADS, dtype=object)[rng.integers(0, len(_LEADING_PADS), n)]
    trail_pad = np.array(_TRAILING_PADS, dtype=object)[rng.integers(0, len(_TRAILING_PADS), n)]
    out[lead] = pd.Series(lead_pad[lead], index=out.index[lead], dtype="str") + out[lead]
    out[trail] = out[trail] + pd.Series(trail_pad[trail], index=out.index[trail], dtype="str")
    return out


def _text(values: np.ndarray) -> pd.Series:
    """Object/unicode array to a ``str`` Series with "" as missing."""
    series = pd.Series(values, dtype="str")
    return series.mask(series == "")


def _id_array(prefix: str, count: int, width: int, numbers: np.ndarray | None = None) -> pa.Array:
    """``prefix`` + zero-padded 1-based numbers (``C000001``), widened when ``count`` needs it."""
    width = max(width, len(str(count)))
    if numbers is None:
        numbers = np.arange(1, count + 1)
    padded = pc.utf8_lpad(pa.array(numbers, type=pa.int64()).cast(pa.string()), width=width, padding="0")
    return pc.binary_join_element_wise(prefix, padded, "")


def _ids(prefix: str, count: int, width: int, numbers: np.ndarray | None = None) -> pd.Series:
    return _series(_id_array(prefix, count, width, numbers))


def _series(values: pa.Array) -> pd.Series:
    return pd.Series(pd.array(values, dtype="str"))


def _labels(vocabulary: tuple[str, ...], codes: np.ndarray) -> pd.Series:
    """Text column from codes into a small vocabulary, built in Arrow (fast for 10M rows)."""
    return _series(pa.array(list(vocabulary), type=pa.string()).take(pa.array(codes, type=pa.int64())))


def _dates(start: datetime.date, day: np.ndarray) -> pd.Series:
    stamp = np.datetime64(start, "D") + day.astype("timedelta64[D]")
    return pd.Series(stamp.astype("datetime64[s]"))


# ---------------------------------------------------------------------------------------------
# Calendar
# ---------------------------------------------------------------------------------------------

def _bump(day_of_series: np.ndarray, centres: np.ndarray, width: float) -> np.ndarray:
    """Sum of Gaussian bumps (height 1) around the given day indices."""
    if centres.size == 0:
        return np.zeros(day_of_series.size)
    distance = day_of_series[:, None] - centres[None, :]
    return np.exp(-0.5 * (distance / width) ** 2).sum(axis=1)


def _intensity_table(start: datetime.date, end: int) -> np.ndarray:
    """Cumulative order intensity per calendar pattern, shape (n_patterns, end + 1).

    Patterns are (calendar x buyer type) for orders, followed by two flat weekday-only patterns
    (B2C, B2B) for contacts. Each pattern averages 1 per day, so a customer's rate keeps its
    meaning of "events per day".
    """
    days = np.arange(end)
    dates = np.datetime64(start, "D") + days.astype("timedelta64[D]")
    years = dates.astype("datetime64[Y]").astype(int) + 1970
    weekday = (dates.astype("datetime64[D]").astype(int) + 3) % 7  # 0 = Monday
    weekend = weekday >= 5

    first_year, last_year = years.min() - 1, years.max() + 1

    def day_index(month: int, day: int) -> np.ndarray:
        stamps = np.array(
            [np.datetime64(datetime.date(y, month, day)) for y in range(first_year, last_year + 1)]
        )
        return (stamps - np.datetime64(start, "D")).astype(int)

    double11 = day_index(11, 11)
    mid618 = day_index(6, 18)
    christmas = day_index(12, 25)
    # Black Friday: the day after the fourth Thursday of November.
    nov1 = day_index(11, 1)
    nov1_weekday = (nov1 + (np.datetime64(start, "D").astype(int) + 3)) % 7
    black_friday = nov1 + (3 - nov1_weekday) % 7 + 21 + 1
    festival = (np.array(_SPRING_FESTIVAL, dtype="datetime64[D]") - np.datetime64(start, "D")).astype(int)

    month = dates.astype("datetime64[M]").astype(int) % 12 + 1
    to_festival = festival[None, :] - days[:, None]
    before_festival = ((to_festival >= 5) & (to_festival <= 25)).any(axis=1)
    festival_lull = ((to_festival >= -7) & (to_festival <= 3)).any(axis=1)

    china = (
        1.0
        + 2.2 * _bump(days, double11, 3.0)
        + 0.35 * ((month == 11) & (days < np.max(double11)))  # pre-sales in early November
        + 1.1 * _bump(days, mid618, 3.0)
        + 0.6 * before_festival
        - 0.55 * festival_lull
    )
    west = (
        1.0
        + 1.6 * _bump(days, black_friday, 2.5)
        + 0.5 * ((month == 12) & ~_near(days, christmas, 0, 10))
        - 0.35 * _near(days, christmas, 0, 2)
        - 0.15 * (month == 1)
    )
    asia = 1.0 + 0.9 * _bump(days, double11, 3.0) + 0.25 * np.isin(month, (11, 12))

    b2c_week = np.where(weekend, 1.15, 0.94)
    b2b_week = np.where(weekend, 0.45, 1.22)
    shapes = []
    for calendar in (china, west, asia):
        for week in (b2c_week, b2b_week):
            shapes.append(calendar * week)
    shapes.extend([b2c_week.astype(float), b2b_week.astype(float)])
    shape = np.vstack(shapes)
    shape = shape / shape.mean(axis=1, keepdims=True)
    return np.hstack([np.zeros((shape.shape[0], 1)), np.cumsum(shape, axis=1)])


def _near(days: np.ndarray, centres: np.ndarray, before: int, after: int) -> np.ndarray:
    delta = days[:, None] - centres[None, :]
    return ((delta >= -before) & (delta <= after)).any(axis=1)


def _order_pattern(calendar: np.ndarray, b2b: np.ndarray) -> np.ndarray:
    return calendar * 2 + b2b.astype(np.int64)


def _contact_pattern(b2b: np.ndarray) -> np.ndarray:
    return len(_CALENDARS) * 2 + b2b.astype(np.int64)


# ---------------------------------------------------------------------------------------------
# Customers: location, segment, timing
# ---------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class _Locations:
    """One row per place a customer can live: a mainland province, a US state, a Canadian
    province, or a whole other country."""

    iso3: np.ndarray  # country of the place
    country: np.ndarray  # index into _COUNTRY_TABLE
    sub: np.ndarray  # index into the country's subdivision table, -1 for none
    province: np.ndarray  # canonical subdivision name or ""
    market: np.ndarray  # index into _MARKETS
    weight: np.ndarray
    city_en: list[tuple[str, ...]]
    city_zh: list[tuple[str, ...]]


def _locations() -> _Locations:
    iso3, country, sub, province, market, weight, city_en, city_zh = [], [], [], [], [], [], [], []
    for c, (code, mkt, share, *_rest) in enumerate(_COUNTRY_TABLE):
        if code == "CHN":
            total = sum(p[7] for p in _PROVINCES)
            for s, p in enumerate(_PROVINCES):
                iso3.append(code), country.append(c), sub.append(s), province.append(p[0])
                market.append(_MARKETS.index(p[6])), weight.append(share * p[7] / total)
                city_en.append(tuple(x[0] for x in p[8])), city_zh.append(tuple(x[1] for x in p[8]))
        elif code in ("USA", "CAN"):
            table = _US_STATES if code == "USA" else _CA_PROVINCES
            total = sum(p[2] for p in table)
            for s, p in enumerate(table):
                iso3.append(code), country.append(c), sub.append(s), province.append(p[1])
                market.append(_MARKETS.index(mkt)), weight.append(share * p[2] / total)
                city_en.append(p[3]), city_zh.append(tuple("" for _ in p[3]))
        else:
            iso3.append(code), country.append(c), sub.append(-1), province.append("")
            market.append(_MARKETS.index(mkt)), weight.append(share)
            city_en.append(tuple(x[0] for x in _COUNTRY_CITIES[code]))
            city_zh.append(tuple(x[1] for x in _COUNTRY_CITIES[code]))
    w = np.array(weight)
    return _Locations(
        np.array(iso3, dtype=object), np.array(country), np.array(sub),
        np.array(province, dtype=object), np.array(market), w / w.sum(), city_en, city_zh,
    )


@dataclasses.dataclass(frozen=True)
class _People:
    """Per-customer draws, indexed by customer number (0 = C000001, in signup order)."""

    location: np.ndarray  # index into _Locations
    country: np.ndarray  # index into _COUNTRY_TABLE
    market: np.ndarray  # true market index (before any unplaceable spelling)
    segment: np.ndarray
    b2b: np.ndarray  # bool
    calendar: np.ndarray  # index into _CALENDARS
    signup: np.ndarray  # day index, may be negative (signed up before start_date)
    first: np.ndarray  # day of the first order
    stop: np.ndarray  # day the customer stops buying; huge when never
    rate: np.ndarray  # orders per day
    aov: np.ndarray  # typical order value, CNY
    contact_rate: np.ndarray
    survey_rate: np.ndarray  # probability of answering a post-purchase survey
    mood: np.ndarray  # customer's latent satisfaction level
    churner: np.ndarray  # bool: about to churn (or lapsed)


_NEVER = 10**7


def _draw_people(rng: np.random.Generator, n: int, span: int) -> _People:
    places = _locations()
    location = rng.choice(places.weight.size, size=n, p=places.weight)
    country = places.country[location]
    market = places.market[location]

    base = np.array([s.share for s in _SEGMENT_TABLE])
    tilt = np.ones((len(_MARKETS), base.size))
    for name, factors in _MARKET_SEGMENT_TILT.items():
        tilt[_MARKETS.index(name)] = factors
    segment = _grouped_choice(rng, market, base[None, :] * tilt)

    seg = _SEGMENT_TABLE
    b2b = rng.random(n) < np.array([s.b2b for s in seg])[segment]
    calendar_of_country = np.array([_CALENDARS.index(row[4]) for row in _COUNTRY_TABLE])
    calendar = calendar_of_country[country]

    # First order. Established customers: a good part were already buying when the data starts,
    # the rest arrived steadily until ~5 months before the observation date.
    latest_established = span - 150  # then the "new" customers' window starts: sign-ups never pause
    established_first = np.where(
        rng.random(n) < 0.45,
        rng.integers(0, 45, n),
        rng.integers(0, latest_established, n),
    )
    new_first = rng.integers(span - _NEW_WINDOW_DAYS, span - 20, n)
    first = np.where(segment == _NEW, new_first, established_first)

    # Lapsed customers were active for a while, then stopped long before the observation date.
    lapse_stop = rng.integers(int(0.12 * span), int(0.65 * span), n)
    lapse_first = np.maximum(lapse_stop - rng.integers(60, 400, n), 0)
    first = np.where(segment == _LAPSED, lapse_first, first)

    churn_p = np.array([s.churn for s in seg])[segment]
    churner = rng.random(n) < churn_p
    # Customers about to churn stop buying around the observation date (up to ~2.5 months
    # before it or a few weeks into the horizon), after a fading period that an early-warning
    # model can see.
    churn_stop = np.maximum(span + rng.integers(-75, 21, n), first + 1)
    stop = np.where(churner, churn_stop, _NEVER)
    stop = np.where(segment == _LAPSED, lapse_stop, stop)

    # Heavy-tailed purchase rates: a gamma around the segment mean, on top of a floor, because
    # a customer of an active segment buys at least now and then.
    shape = 3.0
    spread = 0.35 + 0.65 * rng.gamma(shape, 1.0 / shape, n)
    rate = np.array([s.rate for s in seg])[segment] * spread
    price = np.ones(len(_MARKETS))
    for name, factor in _MARKET_PRICE.items():
        price[_MARKETS.index(name)] = factor
    aov = np.array([s.aov for s in seg])[segment] * price[market] * rng.lognormal(0.0, 0.3, n)

    contact_rate = (
        np.array([s.contact_rate for s in seg])[segment]
        * np.where(b2b, 1.5, 1.0)
        * rng.gamma(4.0, 0.25, n)
    )
    answers = rng.random(n) < np.array([s.feedback_share for s in seg])[segment]
    survey_rate = np.where(answers, rng.uniform(0.08, 0.35, n), 0.0)
    mood = (
        np.array([s.satisfaction for s in seg])[segment]
        + rng.normal(0.0, 0.35, n)
        - 0.3 * (churner & (segment != _LAPSED))
    )

    # Sign-up precedes the first order by days to weeks; customers buying from the first weeks
    # of the data mostly signed up long before it starts.
    lead = np.where(b2b, rng.geometric(1 / 30, n), rng.geometric(1 / 8, n)) - 1
    veteran = (first < 45) & (rng.random(n) < 0.8)
    signup = first - np.where(veteran, rng.integers(45, 1100, n), lead)

    # Customer numbers follow sign-up order, as in a real CRM.
    order = np.lexsort((rng.random(n), signup))
    return _People(
        location=location[order], country=country[order], market=market[order],
        segment=segment[order], b2b=b2b[order], calendar=calendar[order], signup=signup[order],
        first=first[order], stop=stop[order], rate=rate[order], aov=aov[order],
        contact_rate=contact_rate[order], survey_rate=survey_rate[order], mood=mood[order],
        churner=churner[order],
    )


# ---------------------------------------------------------------------------------------------
# Orders
# ---------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class _Orders:
    """All simulated orders, including those after the observation date, sorted by day."""

    owner: np.ndarray
    day: np.ndarray
    category: np.ndarray
    currency: np.ndarray  # index into the currency list
    amount: np.ndarray  # in the order currency, rounded
    amount_cny: np.ndarray
    status: np.ndarray  # index into _STATUSES
    currencies: tuple[str, ...]


def _category_weights() -> np.ndarray:
    """Category preference per (calendar, buyer type) profile."""
    #                 elec home appr beau food sprt offc indu
    b2c = np.array([1.6, 1.4, 1.5, 1.2, 1.0, 0.8, 0.3, 0.05])
    b2b = np.array([1.2, 0.5, 0.3, 0.2, 0.6, 0.3, 1.6, 1.8])
    tilt = {
        "china": np.array([1.1, 1.0, 1.2, 1.3, 1.1, 0.8, 1.0, 1.0]),
        "west": np.array([1.0, 1.2, 0.9, 0.8, 0.7, 1.4, 1.0, 1.1]),
        "asia": np.array([1.3, 0.9, 1.0, 1.4, 1.2, 0.9, 0.9, 0.8]),
    }
    return np.vstack([tilt[c] * w for c in _CALENDARS for w in (b2c, b2b)])


def _draw_orders(
    rng: np.random.Generator, people: _People, cum: np.ndarray, span: int, end: int
) -> _Orders:
    n = people.segment.size
    pattern = _order_pattern(people.calendar, people.b2b)
    stop = np.minimum(people.stop, end)
    later_owner, later_day = _poisson_days(rng, people.rate, people.first + 1, stop, pattern, cum)
    # Thinning removes the orders a fading customer no longer places.
    keep = _thin(rng, later_day, people.stop[later_owner], 0.2, 0.0)
    later_owner, later_day = later_owner[keep], later_day[keep]

    # Put each customer's first order in front of the later ones, keeping owners ascending.
    later_count = np.bincount(later_owner, minlength=n)
    first_at = np.arange(n) + np.concatenate([[0], np.cumsum(later_count)[:-1]])
    first_order = np.zeros(n + later_owner.size, dtype=bool)
    first_order[first_at] = True
    owner = np.empty(first_order.size, dtype=np.int64)
    day = np.empty(first_order.size, dtype=np.int64)
    owner[first_at], day[first_at] = np.arange(n), people.first
    owner[~first_order], day[~first_order] = later_owner, later_day
    del later_owner, later_day, keep

    # "New" customers have at most a handful of orders before the observation date.
    capped = np.flatnonzero((people.segment[owner] == _NEW) & (day < span))
    too_many = capped[_rank_within(owner[capped], day[capped]) >= _NEW_MAX_ORDERS]
    if too_many.size:
        kept = np.ones(owner.size, dtype=bool)
        kept[too_many] = False
        owner, day, first_order = owner[kept], day[kept], first_order[kept]

    chronological = _by_day(day)
    owner, day, first_order = owner[chronological], day[chronological], first_order[chronological]
    m = owner.size

    profile = _order_pattern(people.calendar, people.b2b)[owner]
    category = _grouped_choice(rng, profile, _category_weights())

    # Local currency, but a share of non-CNY, non-USD customers is invoiced in US dollars.
    local = np.array([row[3] for row in _COUNTRY_TABLE])
    currencies = tuple(sorted(set(local)))
    local_index = np.searchsorted(np.array(currencies), local)
    usd = currencies.index("USD")
    cny = currencies.index("CNY")
    customer_currency = local_index[people.country]
    invoiced_usd = (rng.random(n) < 0.15) & (customer_currency != cny)
    customer_currency = np.where(invoiced_usd, usd, customer_currency)
    currency = customer_currency[owner]

    spread = np.where(people.segment[owner] == SEGMENTS.index("bulk_buyer"), 0.35, 0.45)
    value_cny = people.aov[owner] * _CATEGORY_PRICE[category] * np.exp(spread * rng.standard_normal(m))
    rates = np.array([EXCHANGE_RATES[c] for c in currencies])
    whole = np.array([c in _WHOLE_UNIT_CURRENCIES for c in currencies])
    raw = value_cny / rates[currency]
    amount = np.where(whole[currency], np.round(raw), np.round(raw, 2))
    amount = np.maximum(amount, np.where(whole[currency], 1.0, 0.01))
    amount_cny = amount * rates[currency]

    seg = _SEGMENT_TABLE
    cancel = np.array([s.cancel for s in seg])[people.segment[owner]]
    refund = np.array([s.refund for s in seg])[people.segment[owner]]
    # Unhappy customers return more in their last months.
    fading = (day >= people.stop[owner] - _DECAY_DAYS)
    refund = np.where(fading, refund * 2.0, refund)
    draw = rng.random(m)
    status = np.where(draw < cancel, 1, np.where(draw < cancel + refund, 2, 0))
    status = np.where(first_order, 0, status)  # every customer has a real first purchase
    return _Orders(owner, day, category, currency, amount, amount_cny, status, currencies)


# ---------------------------------------------------------------------------------------------
# Interactions and feedback
# ---------------------------------------------------------------------------------------------

def _draw_interactions(
    rng: np.random.Generator, people: _People, cum: np.ndarray, span: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    pattern = _contact_pattern(people.b2b)
    start = np.maximum(people.signup, 0)
    owner, day = _poisson_days(
        rng, people.contact_rate, start, np.full(start.size, span), pattern, cum
    )
    keep = _thin(rng, day, people.stop[owner], 0.3, 0.12)
    owner, day = owner[keep], day[keep]
    #                     visit email call ticket
    weights = np.array([
        [0.45, 0.30, 0.10, 0.15],  # B2C
        [0.25, 0.35, 0.30, 0.10],  # B2B
        [0.35, 0.25, 0.10, 0.30],  # B2C, fading: more complaints
        [0.20, 0.30, 0.25, 0.25],  # B2B, fading
    ])
    fading = day >= people.stop[owner] - _DECAY_DAYS
    channel = _grouped_choice(rng, people.b2b[owner].astype(np.int64) + 2 * fading, weights)
    chronological = _by_day(day)
    return owner[chronological], day[chronological], channel[chronological]


def _draw_feedback(
    rng: np.random.Generator, people: _People, orders: _Orders, span: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    # Feedback answers post-purchase surveys: a share of paid orders, answered days later.
    paid = orders.status != 1
    answered = paid & (rng.random(orders.owner.size) < people.survey_rate[orders.owner])
    owner = orders.owner[answered]
    day = orders.day[answered] + rng.geometric(1 / 6, owner.size)
    refunded = orders.status[answered] == 2
    inside = day < span
    owner, day, refunded = owner[inside], day[inside], refunded[inside]

    stop = people.stop[owner]
    closeness = np.clip(1.0 - (stop - day) / _SATISFACTION_DECAY_DAYS, 0.0, 1.0)
    latent = (
        people.mood[owner]
        - 1.6 * closeness
        - 0.9 * refunded
        + rng.normal(0.0, 0.6, owner.size)
    )
    satisfaction = np.clip(np.rint(latent), 1, 5).astype(np.int64)
    nps = np.clip(np.rint(2.0 * latent + 0.5 + rng.normal(0.0, 1.2, owner.size)), 0, 10)
    chronological = np.lexsort((owner, day))
    return (
        owner[chronological],
        day[chronological],
        satisfaction[chronological],
        nps[chronological].astype(np.int64),
    )


# ---------------------------------------------------------------------------------------------
# Text columns: locations and identities
# ---------------------------------------------------------------------------------------------

def _country_variants(messy: bool) -> tuple[np.ndarray, np.ndarray]:
    """Spellings (one row per country, padded) and their weights."""
    names = {row[0]: row for row in _COUNTRY_NAMES}
    rows: list[list[tuple[str, float]]] = []
    for code, *_rest in _COUNTRY_TABLE:
        _iso3, iso2, name, official, aliases, chinese = names[code]
        if not messy:
            rows.append([(code, 1.0)])
            continue
        kinds = _GREATER_CHINA_KIND_WEIGHT if code in ("CHN", "HKG", "MAC", "TWN") else _COUNTRY_KIND_WEIGHT
        spelled = [(iso2, kinds["iso2"]), (code, kinds["iso3"]), (name, kinds["name"])]
        if official:
            spelled.append((official, kinds["official"]))
        spelled += [(a, kinds["alias"] / len(aliases)) for a in aliases]
        spelled += [(z, kinds["zh"] * (0.7 if i == 0 else 0.3 / (len(chinese) - 1)))
                    for i, z in enumerate(chinese)]
        rows.append(spelled)
    width = max(len(r) for r in rows)
    text = np.full((len(rows), width), "", dtype=object)
    weight = np.zeros((len(rows), width))
    for i, r in enumerate(rows):
        for j, (t, w) in enumerate(r):
            text[i, j], weight[i, j] = t, w
    return text, weight


def _province_variants(country_code: str, messy: bool) -> tuple[np.ndarray, np.ndarray]:
    if country_code == "CHN":
        rows = []
        for english, short, full, code, pinyin, kind, *_rest in _PROVINCES:
            if not messy:
                rows.append([(english, 1.0)])
                continue
            w = _PROVINCE_KIND_WEIGHT
            suffixed = f"{pinyin} Province" if kind == "province" else english
            rows.append([
                (full, w["zh_full"]), (short, w["zh_short"]), (pinyin, w["pinyin"]),
                (suffixed, w["pinyin_province"]), (f"CN-{code}", w["iso"]), (code, w["bare"]),
            ])
    else:
        table = _US_STATES if country_code == "USA" else _CA_PROVINCES
        rows = [[(name, 1.0)] if not messy else [(code, 0.45), (name, 0.55)]
                for code, name, *_rest in table]
    width = max(len(r) for r in rows)
    text = np.full((len(rows), width), "", dtype=object)
    weight = np.zeros((len(rows), width))
    for i, r in enumerate(rows):
        for j, (t, w) in enumerate(r):
            text[i, j], weight[i, j] = t, w
    return text, weight


def _draw_location_text(rng: np.random.Generator, people: _People, messy: bool) -> dict[str, Any]:
    """Written country / province / city and the matching canonical truth."""
    places = _locations()
    n = people.location.size
    iso3 = places.iso3[people.location]
    truth_province = places.province[people.location].copy()
    truth_market = np.array(_MARKETS, dtype=object)[people.market]

    text, weight = _country_variants(messy)
    pick = _grouped_choice(rng, people.country, weight)
    country = pd.Series(text[people.country, pick], dtype="str")
    if messy:
        country = _mess_up(rng, country, case=0.25, space=0.12, wide=0.03)

    province = np.full(n, "", dtype=object)
    for code in ("CHN", "USA", "CAN"):
        rows = np.flatnonzero(iso3 == code)
        sub = places.sub[people.location[rows]]
        p_text, p_weight = _province_variants(code, messy)
        province[rows] = p_text[sub, _grouped_choice(rng, sub, p_weight)]
    province = pd.Series(province, dtype="str")
    if messy:
        province = _mess_up(rng, province, case=0.15, space=0.08, wide=0.01)

    # City: first-listed cities are the bigger ones.
    location = people.location
    counts = np.array([len(c) for c in places.city_en])
    width = counts.max()
    city_weight = np.where(np.arange(width)[None, :] < counts[:, None],
                           1.0 / (1.0 + np.arange(width))[None, :], 0.0)
    city_pick = _grouped_choice(rng, location, city_weight)
    city_en = np.full((counts.size, width), "", dtype=object)
    city_zh = np.full((counts.size, width), "", dtype=object)
    for i, (en, zh) in enumerate(zip(places.city_en, places.city_zh)):
        city_en[i, : len(en)], city_zh[i, : len(zh)] = en, zh
    english = city_en[location, city_pick]
    chinese = city_zh[location, city_pick]
    use_chinese = (chinese != "") & (rng.random(n) < np.where(iso3 == "CHN", 0.55, 0.25))
    city = np.where(use_chinese & messy, chinese, english)
    # Chinese exports often keep the 市 (city) suffix.
    suffix = use_chinese & messy & (iso3 == "CHN") & (rng.random(n) < 0.3)
    city = np.where(suffix, city + "市", city)
    city = pd.Series(city, dtype="str")

    # Unplaceable countries and mainland customers without province.
    if messy:
        lost = rng.random(n) < _UNPLACEABLE_SHARE
        junk = np.array(_UNPLACEABLE, dtype=object)[rng.integers(0, len(_UNPLACEABLE), n)]
        country = country.mask(lost, pd.Series(junk, dtype="str"))
        no_province = (iso3 == "CHN") & ~lost & (rng.random(n) < _PROVINCE_MISSING_SHARE)
    else:
        lost = np.zeros(n, dtype=bool)
        no_province = np.zeros(n, dtype=bool)
    blank = lost | no_province
    # A city would give the place away, so an unplaceable customer has none either.
    province = province.mask(blank, "")
    city = city.mask(blank, "")
    truth_province = np.where(blank, "", truth_province)
    truth_iso3 = np.where(lost, "", iso3)
    truth_market = np.where(lost, "Unknown", truth_market)
    truth_market = np.where(no_province, "China (province unknown)", truth_market)
    return {
        "country": country.mask(country == ""),
        "province": province.mask(province == ""),
        "city": city.mask(city == ""),
        "truth_iso3": _text(truth_iso3),
        "truth_province": _text(truth_province),
        "truth_market": pd.Series(truth_market, dtype="str"),
    }


def _draw_identity(rng: np.random.Generator, people: _People, location: dict[str, Any]) -> dict[str, pd.Series]:
    """Customer id, fake name, e-mail and phone; all obviously synthetic."""
    n = people.segment.size
    customer_id = _ids("C", n, 6)
    number = customer_id.str.slice(1)
    style_of_country = np.array([row[5] for row in _COUNTRY_TABLE], dtype=object)[people.country]
    calling = pd.Series(np.array([row[6] for row in _COUNTRY_TABLE], dtype=object)[people.country], dtype="str")
    legal = np.array([row[7] for row in _COUNTRY_TABLE], dtype=object)[people.country]

    display = np.full(n, "", dtype=object)
    handle = np.full(n, "", dtype=object)
    for style, (given, family, family_first) in _NAMES.items():
        rows = np.flatnonzero(style_of_country == style)
        if rows.size == 0:
            continue
        g = rng.integers(0, len(given), rows.size)
        f = rng.integers(0, len(family), rows.size)
        g_text, g_ascii = (np.array(column, dtype=object)[g] for column in zip(*given))
        f_text, f_ascii = (np.array(column, dtype=object)[f] for column in zip(*family))
        joiner = "" if style == "zh" else " "
        display[rows] = (f_text + joiner + g_text) if family_first else (g_text + " " + f_text)
        handle[rows] = g_ascii + "." + f_ascii

    # Businesses: Chinese-style names for Greater China, "<Word> <Kind> <legal form>" elsewhere.
    firms = np.flatnonzero(people.b2b)
    zh_firm = style_of_country[firms] == "zh"
    word = rng.integers(0, len(_COMPANY_WORDS_ZH), firms.size)
    kind = rng.integers(0, len(_COMPANY_KINDS_ZH), firms.size)
    zh_names = np.array([w[0] for w in _COMPANY_WORDS_ZH], dtype=object)[word] + \
        np.array([k[0] for k in _COMPANY_KINDS_ZH], dtype=object)[kind]
    mainland = people.country[firms] == 0
    zh_names = np.where(mainland, zh_names, np.array([w[1] for w in _COMPANY_WORDS_ZH], dtype=object)[word]
                        + " " + np.array([k[1] for k in _COMPANY_KINDS_ZH], dtype=object)[kind])
    word = rng.integers(0, len(_COMPANY_WORDS), firms.size)
    kind = rng.integers(0, len(_COMPANY_KINDS), firms.size)
    other_names = (np.array(_COMPANY_WORDS, dtype=object)[word] + " "
                   + np.array(_COMPANY_KINDS, dtype=object)[kind] + " " + legal[firms])
    display[firms] = np.where(zh_firm, zh_names, other_names)
    handle[firms] = "procurement"

    name = pd.Series(display, dtype="str")
    email = pd.Series(handle, dtype="str") + "." + number + "@example.com"
    # 555 marks the numbers as fictional everywhere.
    phone = "+" + calling + " 555 " + number.str.slice(-7).str.zfill(7)

    # Firmographics and demographics: businesses have an industry and size, consumers an age.
    industry = np.array(_INDUSTRIES, dtype=object)[rng.integers(0, len(_INDUSTRIES), n)]
    # Bulk buyers are mostly larger firms.
    size_weight = np.array([[0.45, 0.35, 0.15, 0.05], [0.10, 0.30, 0.35, 0.25]])
    bulk = (people.segment == SEGMENTS.index("bulk_buyer")).astype(np.int64)
    size = np.array(_COMPANY_SIZES, dtype=object)[_grouped_choice(rng, bulk, size_weight)]
    age = np.array(_AGE_BANDS, dtype=object)[
        rng.choice(len(_AGE_BANDS), size=n, p=[0.14, 0.33, 0.26, 0.16, 0.11])
    ]
    #                      organic paid  referral trade market social direct
    channel_weight = np.array([
        [0.24, 0.20, 0.12, 0.01, 0.22, 0.20, 0.01],  # B2C
        [0.15, 0.08, 0.22, 0.25, 0.05, 0.03, 0.22],  # B2B
    ])
    channel = np.array(_CHANNELS, dtype=object)[_grouped_choice(rng, people.b2b.astype(np.int64), channel_weight)]
    b2b = people.b2b
    return {
        "customer_id": customer_id,
        "customer_name": name,
        "email": email,
        "phone": phone,
        "customer_type": pd.Series(np.where(b2b, "B2B", "B2C"), dtype="str"),
        "industry": _text(np.where(b2b, industry, "")),
        "company_size": _text(np.where(b2b, size, "")),
        "age_band": _text(np.where(b2b, "", age)),
        "acquisition_channel": pd.Series(channel, dtype="str"),
    }


# ---------------------------------------------------------------------------------------------
# Frames
# ---------------------------------------------------------------------------------------------

def _customers_frame(
    people: _People, location: dict[str, Any], identity: dict[str, pd.Series], start: datetime.date
) -> pd.DataFrame:
    return pd.DataFrame({
        **identity,
        "signup_date": _dates(start, people.signup),
        "country": location["country"],
        "province": location["province"],
        "city": location["city"],
    })


def _ground_truth_frame(
    people: _People, orders: _Orders, location: dict[str, Any], span: int, spec: SampleSpec
) -> pd.DataFrame:
    n = people.segment.size
    future = (orders.day >= span) & (orders.status == 0)
    future_orders = np.bincount(orders.owner[future], minlength=n)
    revenue_cny = np.bincount(orders.owner[future], weights=orders.amount_cny[future], minlength=n)
    revenue = np.round(revenue_cny / EXCHANGE_RATES[spec.base_currency], 2)
    return pd.DataFrame({
        "customer_id": _ids("C", n, 6),
        "true_segment": pd.Series(np.array(SEGMENTS, dtype=object)[people.segment], dtype="str"),
        "churned": future_orders == 0,
        "future_orders": future_orders.astype(np.int64),
        "future_revenue": revenue,
        "country_iso3": location["truth_iso3"],
        "province": location["truth_province"],
        "market": location["truth_market"],
    })


def _orders_frame(
    orders: _Orders, past: np.ndarray, rows: np.ndarray, customer_ids: pa.Array, start: datetime.date
) -> pd.DataFrame:
    """Orders before the observation date; ``rows`` picks (and repeats) their positions."""
    picked = np.flatnonzero(past)[rows]
    return pd.DataFrame({
        "order_id": _ids("O", int(past.sum()), 7, rows + 1),
        "customer_id": _series(customer_ids.take(pa.array(orders.owner[picked]))),
        "order_date": _dates(start, orders.day[picked]),
        "category": _labels(CATEGORIES, orders.category[picked]),
        "amount": orders.amount[picked],
        "currency": _labels(orders.currencies, orders.currency[picked]),
        "status": _labels(_STATUSES, orders.status[picked]),
    })


def _interactions_frame(
    contacts: tuple[np.ndarray, np.ndarray, np.ndarray],
    rows: np.ndarray,
    customer_ids: pa.Array,
    start: datetime.date,
) -> pd.DataFrame:
    owner, day, channel = (column[rows] for column in contacts)
    return pd.DataFrame({
        "interaction_id": _ids("I", contacts[0].size, 7, rows + 1),
        "customer_id": _series(customer_ids.take(pa.array(owner))),
        "interaction_date": _dates(start, day),
        "channel": _labels(_INTERACTION_CHANNELS, channel),
    })


def _feedback_frame(
    surveys: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    rows: np.ndarray,
    customer_ids: pa.Array,
    start: datetime.date,
) -> pd.DataFrame:
    owner, day, satisfaction, nps = (column[rows] for column in surveys)
    return pd.DataFrame({
        "feedback_id": _ids("F", surveys[0].size, 6, rows + 1),
        "customer_id": _series(customer_ids.take(pa.array(owner))),
        "feedback_date": _dates(start, day),
        "satisfaction": satisfaction,
        "nps": nps,
    })


def _with_mistakes(
    rng: np.random.Generator, orders: pd.DataFrame, interactions: pd.DataFrame, feedback: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Copies of real rows with one export mistake each, placed right after their original.

    The copies get order ids past the real ones (except the conflicting re-use of an id), so the
    real rows, and with them the ground truth, are untouched; intake quarantines every copy, and
    with a reused id the original too (which of two different rows with one id is right cannot
    be told), so those orders are missing from the clean table as they would be from a real one.
    """
    next_number = len(orders) + 1

    def copies(frame: pd.DataFrame, count: int) -> tuple[np.ndarray, pd.DataFrame]:
        picked = np.sort(rng.choice(len(frame), size=min(count, len(frame)), replace=False))
        return picked, frame.take(picked).reset_index(drop=True)

    count = max(1, round(_MISTAKE_SHARE * len(orders)))
    parts = []
    for kind in ("no_customer", "zero_amount", "unknown_status", "reused_id"):
        at, bad = copies(orders, count)
        if kind == "no_customer":
            bad["customer_id"] = pd.NA
        elif kind == "zero_amount":
            bad["amount"] = 0.0
        elif kind == "unknown_status":
            bad["status"] = "pending"
        else:
            bad["amount"] = np.round(bad["amount"].to_numpy() * 1.1 + 1.0, 2)
        if kind != "reused_id":
            bad["order_id"] = _ids("O", next_number + len(bad), 7, np.arange(next_number, next_number + len(bad)))
            next_number += len(bad)
        parts.append((at, bad))
    orders = _insert_after(orders, parts)

    at, bad = copies(interactions, max(1, round(_MISTAKE_SHARE * len(interactions))))
    bad["customer_id"] = pd.NA
    interactions = _insert_after(interactions, [(at, bad)])
    at, bad = copies(feedback, max(1, round(_MISTAKE_SHARE * len(feedback))))
    bad["satisfaction"] = bad["nps"].clip(lower=6)
    feedback = _insert_after(feedback, [(at, bad)])
    return orders, interactions, feedback


def _insert_after(frame: pd.DataFrame, parts: list[tuple[np.ndarray, pd.DataFrame]]) -> pd.DataFrame:
    """``frame`` with each part's rows placed right after the row they copy (stable order)."""
    position = np.concatenate([np.arange(len(frame), dtype=float), *[at + 0.5 for at, _ in parts]])
    combined = pd.concat([frame, *[bad for _, bad in parts]], ignore_index=True)
    return combined.take(np.argsort(position, kind="stable")).reset_index(drop=True)


def _duplicate_rows(rng: np.random.Generator, n: int, share: float) -> np.ndarray:
    """Row positions 0..n-1 with a ``share`` of them repeated a little further down, as a re-run
    export does; just ``arange(n)`` when ``share`` is 0."""
    if n == 0 or share <= 0:
        return np.arange(n)
    count = min(n, max(1, int(round(share * n))))
    picked = rng.choice(n, size=count, replace=False)
    insert_at = np.minimum(picked + rng.integers(1, 40, count), n)
    return np.insert(np.arange(n), insert_at, picked)


def _meta(
    spec: SampleSpec,
    customers: pd.DataFrame,
    orders: pd.DataFrame,
    interactions: pd.DataFrame,
    feedback: pd.DataFrame,
    ground_truth: pd.DataFrame,
) -> dict:
    base = EXCHANGE_RATES[spec.base_currency]
    return {
        "generator": "custseg.sample.generator",
        "format_version": 1,
        "seed": spec.seed,
        "messy": spec.messy,
        "n_customers": spec.n_customers,
        "start_date": spec.start_date.isoformat(),
        "observation_date": spec.observation_date.isoformat(),
        "horizon_days": spec.horizon_days,
        "base_currency": spec.base_currency,
        "exchange_rates": {c: EXCHANGE_RATES[c] / base for c in sorted(EXCHANGE_RATES)},
        "segments": list(SEGMENTS),
        "sizes": {
            "customers": len(customers),
            "orders": len(orders),
            "interactions": len(interactions),
            "feedback": len(feedback),
            "ground_truth": len(ground_truth),
        },
    }
