"""Region codes of any country (issue 17): a state or province column of first-level ISO 3166-2
codes or names needs no mapping table, and a code is read within the row's country only.

The cases are pycountry's own lists, every country and every first-level subdivision, not a hand
list: what a new export may hold is whatever ISO 3166-2 holds.
"""

from __future__ import annotations

import pandas as pd
import pycountry

from custseg.geo import normalize_subdivisions

# Subdivisions ISO 3166-2 lists under China that custseg studies as countries of their own (they
# are not provinces of mainland China): their codes are not placed within China.
_OWN_COUNTRIES = {"CN-TW", "CN-HK", "CN-MO"}


def _first_level() -> pd.DataFrame:
    rows = []
    for country in pycountry.countries:
        for sub in pycountry.subdivisions.get(country_code=country.alpha_2) or []:
            if sub.parent_code is None and sub.code not in _OWN_COUNTRIES:
                rows.append({"iso3": country.alpha_3, "code": sub.code, "short": sub.code.split("-", 1)[1],
                             "name": sub.name})
    return pd.DataFrame(rows)


FIRST_LEVEL = _first_level()


def _placed(values: pd.Series, iso3: pd.Series) -> pd.DataFrame:
    return normalize_subdivisions(values.reset_index(drop=True), iso3.reset_index(drop=True))


def test_every_first_level_code_of_every_country_is_placed_in_its_country():
    assert FIRST_LEVEL["iso3"].nunique() > 190 and len(FIRST_LEVEL) > 3000
    for column in ("code", "short"):  # BR-SP and SP, US-CA and CA
        result = _placed(FIRST_LEVEL[column], FIRST_LEVEL["iso3"])
        missed = FIRST_LEVEL.loc[result["province_code"].fillna("").to_numpy() != FIRST_LEVEL["code"].to_numpy()]
        # a short code that is also a word for "no answer" (Côte d'Ivoire's ZZ) is read as not given
        assert set(missed["code"]) <= {"CI-ZZ"}, missed.head(10)


def test_the_same_code_means_the_state_of_the_rows_country():
    # The two-letter codes shared by states of several countries, each read in its own country.
    shared = FIRST_LEVEL.groupby("short").filter(lambda g: g["iso3"].nunique() > 1)
    assert {"CA", "SP", "MG", "AC"} <= set(shared["short"])
    result = _placed(shared["short"], shared["iso3"])
    assert result["province_code"].tolist() == shared["code"].tolist()


def test_a_code_without_a_country_is_never_placed():
    codes = FIRST_LEVEL["short"].drop_duplicates()
    result = _placed(codes, pd.Series([None] * len(codes)))
    assert result["province_code"].isna().all()
    assert set(result["province_match"]) <= {"kept", "not_given"}  # kept as typed: it places no one


def test_names_are_placed_or_left_unknown_never_put_in_another_subdivision():
    result = _placed(FIRST_LEVEL["name"], FIRST_LEVEL["iso3"])
    got = result["province_code"].fillna("").to_numpy()
    wrong = FIRST_LEVEL.loc[(got != "") & (got != FIRST_LEVEL["code"].to_numpy())]
    assert wrong.empty, wrong.head(10)
    unknown = FIRST_LEVEL.loc[got == ""]
    # names two subdivisions of one country share (a city and the region around it) stay unknown
    assert len(unknown) < 0.01 * len(FIRST_LEVEL), unknown.head(40)
    assert (result.loc[got == "", "province_match"] == "unknown").all()


def test_second_level_codes_stand_for_their_first_level_subdivision():
    # Italy's SP is La Spezia, a province of Liguria: read as Liguria, never as another country's SP
    second = [sub for sub in pycountry.subdivisions.get(country_code="IT") if sub.parent_code]
    values = pd.Series([sub.code.split("-", 1)[1] for sub in second])
    result = normalize_subdivisions(values, pd.Series(["ITA"] * len(second)))
    parents = [sub.parent_code if pycountry.subdivisions.get(code=sub.parent_code).parent_code is None
               else pycountry.subdivisions.get(code=sub.parent_code).parent_code for sub in second]
    assert result["province_code"].tolist() == parents
