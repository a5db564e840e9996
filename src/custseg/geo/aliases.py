"""A config's ``regions.aliases``: spellings of countries and subdivisions that win over the
libraries, checked (every target an ISO code or a market) and keyed for lookup."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pycountry

from custseg.geo import _placenames
from custseg.geo._iso import NOT_SUBDIVISIONS, iso_countries
from custseg.geo._placenames import Found, normalize_key
from custseg.geo.markets import MARKETS, UNKNOWN, custom_market_names


@dataclass(frozen=True)
class Aliases:
    """A config's ``regions.aliases``, checked and keyed for lookup (see :func:`check_aliases`)."""

    countries: Mapping[str, Found]  # normalize_key -> place
    country_words: Mapping[str, Found]  # token_key -> place, where no two aliases share the words
    subdivisions: Mapping[tuple[str, str], str]  # (alpha-3, compact_fold) -> ISO 3166-2 code


#: No aliases: every spelling is looked up in the libraries and the package's tables.
NO_ALIASES = Aliases({}, {}, {})


def check_aliases(
    aliases: Mapping[str, Mapping[str, str | None]] | None,
    custom_markets: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
) -> Aliases:
    """Check a config's ``regions.aliases`` and key it for lookup.

    Parameters
    ----------
    aliases : mapping, optional
        ``{"countries": {spelling: target}, "subdivisions": {spelling: code}}``, both optional. A
        country target is an ISO 3166-1 alpha-3 code (any case), the name of a default or custom
        market (the country stays unknown), or None for a value that names no place (counted as
        not given). A subdivision target is an ISO 3166-2 code; the spelling counts for customers
        of that code's country only, and a second-level code stands for its first-level parent.
    custom_markets : mapping or sequence, optional
        The custom markets a country alias may name (see :func:`assign_markets`).

    Returns
    -------
    Aliases
        The aliases keyed as spellings are looked up.

    Raises
    ------
    ValueError
        If a target is not a code or market, a section is not one of the two, or two spellings
        that read the same map to different places; the message names the alias.
    """
    if not aliases:
        return NO_ALIASES
    if not isinstance(aliases, Mapping):
        raise ValueError(f"regions.aliases must map 'countries' and 'subdivisions' to spellings, got {aliases!r}")
    unexpected = sorted(set(aliases) - {"countries", "subdivisions"})
    if unexpected:
        raise ValueError(f"regions.aliases: unexpected section(s) {unexpected}; use countries, subdivisions")
    markets = {market.name for market in MARKETS if market.name != UNKNOWN} | set(custom_market_names(custom_markets))
    countries = iso_countries()
    alpha2 = {country.iso2: country.iso3 for country in countries.values()}
    by_key: dict[str, tuple[str, Found]] = {}
    for spelling, target in (aliases.get("countries") or {}).items():
        where = f"regions.aliases.countries[{spelling!r}]"
        if not isinstance(spelling, str) or not normalize_key(spelling):
            raise ValueError(f"{where}: a spelling must be non-empty text")
        if target is None:
            place = _placenames.NOT_GIVEN
        elif isinstance(target, str) and target.strip().upper() in countries:
            place = Found("country", target.strip().upper())
        elif isinstance(target, str) and target in markets:
            place = Found("market", target)
        else:
            code = target.strip().upper() if isinstance(target, str) else None
            hint = f" (did you mean {alpha2[code]}?)" if code in alpha2 else ""
            unknown = " (for a value that names no place, write null)" if target == UNKNOWN else ""
            raise ValueError(
                f"{where}: {target!r} is neither an ISO 3166-1 alpha-3 country code{hint} nor a market "
                f"({', '.join(sorted(markets))}){unknown}"
            )
        key = normalize_key(spelling)
        if key in by_key and by_key[key][1] != place:
            raise ValueError(f"{where}: reads the same as {by_key[key][0]!r}, which maps elsewhere")
        by_key[key] = (spelling, place)
    words: dict[str, set[Found]] = {}
    for key, (_spelling, place) in by_key.items():
        words.setdefault(_placenames.token_key(key), set()).add(place)
    subdivisions: dict[tuple[str, str], str] = {}
    for spelling, target in (aliases.get("subdivisions") or {}).items():
        where = f"regions.aliases.subdivisions[{spelling!r}]"
        code = target.strip().upper() if isinstance(target, str) else None
        iso = pycountry.subdivisions.get(code=code) if code else None
        if not isinstance(spelling, str) or not _placenames.compact_fold(spelling):
            raise ValueError(f"{where}: a spelling must be non-empty text")
        if iso is None:
            raise ValueError(f"{where}: {target!r} is not an ISO 3166-2 subdivision code such as BR-SP or DE-BY")
        if _placenames.top_level_code(iso.code) in NOT_SUBDIVISIONS.get(iso.country_code, ()):
            raise ValueError(
                f"{where}: custseg treats {iso.code} as a country; map the spelling under regions.aliases.countries"
            )
        iso3 = alpha2[iso.country_code]
        key = (iso3, _placenames.compact_fold(spelling))
        if subdivisions.setdefault(key, iso.code) != iso.code:
            raise ValueError(f"{where}: another spelling that reads the same maps to {subdivisions[key]}")
    return Aliases(
        countries={key: place for key, (_spelling, place) in by_key.items()},
        country_words={word: next(iter(places)) for word, places in words.items() if word and len(places) == 1},
        subdivisions=subdivisions,
    )


def aliases_of(aliases: Mapping[str, Any] | Aliases | None) -> Aliases:
    """Aliases already checked, or a config's ``regions.aliases`` checked now (:func:`check_aliases`)."""
    return aliases if isinstance(aliases, Aliases) else check_aliases(aliases)
