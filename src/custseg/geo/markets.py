"""Markets, level 1 of the region hierarchy: the default table of ``docs/data-contract.md``, a
config's custom markets, and :func:`assign_markets`, which places each row's country (and, in
China, its province's macro region) in one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from custseg.geo._iso import iso_countries
from custseg.geo._vectors import STRING, check_aligned, map_rows


@dataclass(frozen=True)
class Market:
    """A market: level 1 of the region hierarchy.

    Parameters
    ----------
    name : str
        English name, as used in folder names, config files and report titles.
    name_zh : str
        Simplified Chinese name for Chinese-language reports.
    """

    name: str
    name_zh: str


#: The default markets, in the order of the contract table (docs/data-contract.md).
MARKETS: tuple[Market, ...] = (
    Market("East China", "华东"),
    Market("South China", "华南"),
    Market("North China", "华北"),
    Market("Central China", "华中"),
    Market("Southwest China", "西南"),
    Market("Northwest China", "西北"),
    Market("Northeast China", "东北"),
    Market("China (province unknown)", "中国（省份未知）"),
    Market("Hong Kong, Macao & Taiwan", "港澳台"),
    Market("North America", "北美"),
    Market("Latin America", "拉美"),
    Market("Europe", "欧洲"),
    Market("Middle East", "中东"),
    Market("Asia-Pacific", "亚太"),
    Market("Africa", "非洲"),
    Market("Unknown", "未知"),
)

#: Market of a row whose country is not recognised.
UNKNOWN: str = "Unknown"

#: Every default market by its English name.
MARKET_BY_NAME: dict[str, Market] = {market.name: market for market in MARKETS}
#: The seven mainland macro regions: the first seven markets; cn_provinces.csv must use these names.
CN_MACRO_REGIONS: dict[str, Market] = {market.name: market for market in MARKETS[:7]}
_CHINA_PROVINCE_UNKNOWN = MARKET_BY_NAME["China (province unknown)"]
_HK_MACAO_TAIWAN = MARKET_BY_NAME["Hong Kong, Macao & Taiwan"]
#: The market of a row whose country is not recognised, with its Chinese name.
UNKNOWN_MARKET = MARKET_BY_NAME[UNKNOWN]

# Country lists of the contract table; every other country goes by its continent.
_HMT_COUNTRIES = frozenset({"HKG", "MAC", "TWN"})
_NORTH_AMERICA_COUNTRIES = frozenset({"USA", "CAN", "BMU", "GRL", "SPM"})
_MIDDLE_EAST_COUNTRIES = frozenset(
    {"ARE", "SAU", "QAT", "KWT", "BHR", "OMN", "IRN", "IRQ", "ISR", "JOR", "LBN", "SYR", "TUR", "YEM", "PSE", "EGY"}
)
# Antarctica ("AN") has no market in the contract: its handful of territories fall to Unknown.
_MARKET_BY_CONTINENT: dict[str, Market] = {
    "NA": MARKET_BY_NAME["Latin America"],  # North American countries not listed above: Mexico, Caribbean
    "SA": MARKET_BY_NAME["Latin America"],
    "EU": MARKET_BY_NAME["Europe"],
    "AS": MARKET_BY_NAME["Asia-Pacific"],
    "OC": MARKET_BY_NAME["Asia-Pacific"],
    "AF": MARKET_BY_NAME["Africa"],
}


def custom_market_names(custom_markets: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None) -> list[str]:
    """The names of a config's custom markets (in either form :func:`assign_markets` takes), unchecked."""
    if not custom_markets:
        return []
    if isinstance(custom_markets, Mapping):
        return [name for name in custom_markets if isinstance(name, str)]
    return [spec["name"] for spec in custom_markets if isinstance(spec, Mapping) and isinstance(spec.get("name"), str)]


def _custom_market_table(custom_markets: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None) -> dict[str, Market]:
    """Validate custom markets into alpha-3 -> Market."""
    if not custom_markets:
        return {}
    if isinstance(custom_markets, Mapping):
        entries = list(custom_markets.items())
    elif isinstance(custom_markets, Sequence) and not isinstance(custom_markets, str):
        entries = []
        for spec in custom_markets:
            if not isinstance(spec, Mapping) or "name" not in spec:
                raise ValueError(
                    "custom markets given as a list must hold {'name', 'name_zh', 'countries'} mappings, "
                    f"got {spec!r}"
                )
            entries.append((spec["name"], spec))
    else:
        raise ValueError(
            f"custom_markets must map market names to ISO3 code lists, got {type(custom_markets).__name__}"
        )

    countries = iso_countries()
    alpha2 = {country.iso2: country.iso3 for country in countries.values()}
    table: dict[str, Market] = {}
    for name, spec in entries:
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"custom market names must be non-empty strings, got {name!r}")
        if name == UNKNOWN:
            raise ValueError(f"custom market {name!r}: that name is reserved for unrecognised countries")
        default = MARKET_BY_NAME.get(name)
        name_zh = default.name_zh if default else name
        if isinstance(spec, Mapping):
            unexpected = set(spec) - {"name", "name_zh", "countries"}
            if unexpected:
                raise ValueError(
                    f"custom market {name!r}: unexpected keys {sorted(unexpected)}; use name, name_zh, countries"
                )
            if spec.get("name", name) != name:
                raise ValueError(f"custom market {name!r} has a different 'name' inside: {spec['name']!r}")
            if "countries" not in spec:
                raise ValueError(f"custom market {name!r} has no 'countries' list")
            name_zh = spec.get("name_zh") or name_zh
            codes = spec["countries"]
        else:
            codes = spec
        if isinstance(codes, str) or not isinstance(codes, Sequence) or not codes:
            raise ValueError(
                f"custom market {name!r} must list ISO3 country codes, e.g. [DEU, AUT, CHE]; got {codes!r}"
            )
        market = Market(name, name_zh)
        for code in codes:
            iso3 = code.strip().upper() if isinstance(code, str) else None
            if iso3 not in countries:
                hint = f" (did you mean {alpha2[iso3]!r}?)" if iso3 in alpha2 else ""
                raise ValueError(f"custom market {name!r}: {code!r} is not an ISO 3166-1 alpha-3 country code{hint}")
            if iso3 in table and table[iso3] != market:
                raise ValueError(f"{iso3} is in two custom markets: {table[iso3].name!r} and {name!r}")
            table[iso3] = market
    return table


def default_market(iso3: str, continent: str | None, macro_region: str | None) -> Market:
    """The default market of a country (alpha-3), by the contract's country lists, else its continent;
    China's by the province's macro region."""
    if iso3 == "CHN":
        if macro_region is None:
            return _CHINA_PROVINCE_UNKNOWN
        if macro_region not in CN_MACRO_REGIONS:
            raise ValueError(
                f"cn_macro_region {macro_region!r} is not a China macro region; "
                f"expected one of {list(CN_MACRO_REGIONS)}"
            )
        return CN_MACRO_REGIONS[macro_region]
    if iso3 in _HMT_COUNTRIES:
        return _HK_MACAO_TAIWAN
    if iso3 in _NORTH_AMERICA_COUNTRIES:
        return MARKET_BY_NAME["North America"]
    if iso3 in _MIDDLE_EAST_COUNTRIES:
        return MARKET_BY_NAME["Middle East"]
    if continent is None and iso3 in iso_countries():
        continent = iso_countries()[iso3].continent
    return _MARKET_BY_CONTINENT.get(continent or "", UNKNOWN_MARKET)


def assign_markets(
    country_iso3: pd.Series,
    continent: pd.Series,
    cn_macro_region: pd.Series,
    custom_markets: Mapping[str, Sequence[str]] | Mapping[str, Mapping[str, Any]] | None = None,
    *,
    country_market: pd.Series | None = None,
) -> pd.DataFrame:
    """Assign each row its market (contract table, level 1 of the region hierarchy).

    Custom markets win over the defaults. Mainland China goes by macro region, or to
    "China (province unknown)" without one; a row without a country goes to the market of
    `country_market` when it names one, else to "Unknown", and so do the Antarctic territories,
    for which the contract has no market.

    Parameters
    ----------
    country_iso3 : pandas.Series
        Alpha-3 country codes; missing where the country is not recognised.
    continent : pandas.Series
        Geonames continent codes aligned with `country_iso3`; a missing value is looked up from
        the country code.
    cn_macro_region : pandas.Series
        English macro region of Chinese rows (e.g. "East China"), missing when the province is
        unknown; ignored for other countries.
    custom_markets : mapping, optional
        Market name -> ISO3 codes, e.g. ``{"DACH": ["DEU", "AUT", "CHE"]}``; the Chinese name is
        then the name itself (or the default market's Chinese name when the name is a default
        market's). To give a Chinese name, map the name to
        ``{"name_zh": "德奥瑞", "countries": [...]}`` instead; a list of
        ``{"name": ..., "name_zh": ..., "countries": [...]}`` mappings is accepted too.
    country_market : pandas.Series, optional
        Aligned market names (default or custom) for rows whose country is not known: the
        ``country_market`` of :func:`normalize_countries` (a grouping such as "Channel Islands").

    Returns
    -------
    pandas.DataFrame
        Same index as `country_iso3`, string columns ``market`` and ``market_zh``, never missing.

    Raises
    ------
    TypeError
        If a series argument is not a Series.
    ValueError
        If the series are not aligned, a custom market is malformed, names a code that is not
        ISO 3166-1 alpha-3 or shares a country with another custom market, a Chinese row
        carries a macro region that does not exist, or `country_market` names no market.
    """
    if country_market is None:
        country_market = pd.Series(pd.array([None] * len(country_iso3), dtype=STRING), index=country_iso3.index)
    check_aligned(
        country_iso3=country_iso3, continent=continent, cn_macro_region=cn_macro_region, country_market=country_market
    )
    custom = _custom_market_table(custom_markets)
    by_name = {**MARKET_BY_NAME, **{market.name: market for market in custom.values()}}

    def solve(
        iso3: str | None, continent_code: str | None, macro_region: str | None, grouped: str | None
    ) -> tuple[str, str]:
        if iso3 is not None:
            market = custom.get(iso3) or default_market(iso3, continent_code, macro_region)
        elif grouped is not None:
            if grouped not in by_name:
                raise ValueError(f"country_market {grouped!r} is not a market; markets are {sorted(by_name)}")
            market = by_name[grouped]
        else:
            market = UNKNOWN_MARKET
        return market.name, market.name_zh

    return map_rows([country_iso3, continent, cn_macro_region, country_market], ("market", "market_zh"), solve)
