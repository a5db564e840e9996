"""How many real spellings custseg places, and places correctly: countries and subdivisions from
sources other than the tables the lookup is built from (tests/data/README.md says which).

Run with ``-s`` to see the figures; they are in the assertion messages too. A wrong placement is
worse than "Unknown": the analyst sees an unplaced value on the data-quality page, a wrong one
nowhere.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from custseg import geo

SPELLINGS = Path(__file__).resolve().parent / "data" / "place_spellings.csv"

# Floors measured on this list (countries 97.1%, subdivisions 85.1%, nobody placed wrongly); a
# change that places fewer, or any wrongly, fails here and says so.
FLOORS = {"country": 0.97, "subdivision": 0.85}
WRONG_TOLERANCE = 0.002  # at most 1 in 500 placed somewhere else than the source says


@pytest.fixture(scope="module")
def spellings() -> pd.DataFrame:
    return pd.read_csv(SPELLINGS, comment="#", dtype=str, keep_default_na=False)


def _placed(kind: str, rows: pd.DataFrame) -> pd.Series:
    rows = rows.reset_index(drop=True)
    if kind == "country":
        return geo.normalize_countries(rows["spelling"])["country_iso3"]
    return geo.normalize_subdivisions(rows["spelling"], rows["country_iso3"])["province_code"]


def test_the_list_is_large_and_from_other_sources(spellings):
    assert len(spellings) >= 1000
    assert set(spellings["kind"]) == {"country", "subdivision"}
    assert spellings["source"].nunique() >= 5
    assert not spellings.duplicated(["kind", "spelling", "country_iso3"]).any()
    assert spellings["expected"].str.fullmatch(r"[A-Z]{3}|[A-Z]{2}-[A-Z0-9]{1,3}").all()


@pytest.mark.parametrize("kind", ["country", "subdivision"])
def test_coverage_of_real_spellings(spellings, kind):
    rows = spellings[spellings["kind"].eq(kind)].reset_index(drop=True)
    found = _placed(kind, rows)
    placed = found.notna()
    correct = found.eq(rows["expected"]).fillna(False).astype(bool)
    wrong = rows[placed & ~correct].assign(found=found[placed & ~correct])
    figures = (
        f"{kind} spellings: {len(rows)}; placed {placed.mean():.1%}, placed correctly {correct.mean():.1%}, "
        f"placed wrongly {len(wrong)}; by source: "
        + ", ".join(f"{source} {share:.0%} of {int(count)}" for source, (share, count) in
                    rows.assign(ok=correct).groupby("source")["ok"].agg(["mean", "size"]).iterrows())
    )
    print(figures)
    assert correct.mean() >= FLOORS[kind], figures
    assert len(wrong) <= WRONG_TOLERANCE * len(rows), f"{figures}\n{wrong.to_string()}"
