"""Tests of custseg.geo: markets, whole customer tables (normalize_regions), coverage, the
sample's ground truth and spellings, and a config's aliases."""

from __future__ import annotations

import doctest

import pandas as pd
import pycountry
import pytest
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
    normalize_regions,
    normalize_subdivisions,
    region_coverage,
)
from support.places import (
    CONTRACT,
    CONTRACT_PROVINCES,
    COUNTRY_CASES,
    PROVINCES,
    country_matches,
)

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
