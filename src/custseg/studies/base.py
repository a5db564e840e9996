"""What every study page is built on: the :func:`section` decorator that makes a method return a
whole section, and :class:`Page`, built the same way for every page from the config, the report
language and its slice (``RegionStudy.from_config(config, language, region)``).

Every text is written in the report language (:mod:`custseg.i18n`), chosen when the page is
built: headings, leads, table headings, notices and chart texts are translated, and so are the
labels from the data (see :mod:`custseg.studies.labels`), while the data keeps its own English keys.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from custseg import i18n, processed
from custseg.config import Config
from custseg.i18n import _
from custseg.processed import ProcessedData
from custseg.studies import render


def section(heading: str, lead: str = "", *, pages: str = "placed") -> Callable:
    """Make a study method return a whole :class:`~custseg.studies.render.Section`, or None when the
    study has too little data (so no heading stands over an empty section).

    `heading` and `lead` are English texts marked with :func:`~custseg.i18n.N_`; they are
    translated into the report language each time the section is shown, then ``{label}`` (the
    study's name for its slice) is filled in. A method may return a tuple of tables, figures and
    notices; the section shows them in order.

    `pages` says which studies show the section: ``"placed"`` (every study but the "Unknown"
    region's, whose customers custseg could not place: comparisons and advice mean nothing
    there), ``"unplaced"`` (that page only) or ``"both"``. A study marks itself with an
    ``unplaced`` attribute; the "Unknown" page shows its sections whatever its size.
    """
    if pages not in ("placed", "unplaced", "both"):
        raise ValueError(f"pages must be placed, unplaced or both, got {pages!r}")

    def wrap(method: Callable) -> Callable:
        @functools.wraps(method)
        def inner(self, *args, **kwargs):
            unplaced = getattr(self, "unplaced", False)
            if (pages == "placed" and unplaced) or (pages == "unplaced" and not unplaced):
                return None
            if not unplaced and not getattr(self, "enough", True):
                return None
            content = method(self, *args, **kwargs)
            label = getattr(self, "label", "")
            items = content if isinstance(content, tuple) else (content,)
            return render.Section(
                _(heading).format(label=label), _(lead).format(label=label) if lead else "", *items
            )

        return inner

    return wrap


def start_page(config: Config, language: str = "") -> None:
    """Set the report language and the charts' theme for the page that follows.

    Parameters
    ----------
    config
        The study config.
    language
        The language the page is written in ("en" or "zh"); "" (the default): the config's
        ``study.language``. It is set for everything that follows (:func:`custseg.i18n.set_language`),
        as a notebook runs one page.
    """
    i18n.set_language(language or config.study.language)
    render.set_theme()


def open_study(config: Config, language: str = "") -> ProcessedData:
    """:func:`start_page`, then read the processed data: what a page's ``from_config`` does first."""
    start_page(config, language)
    return processed.load(config)


class Page:
    """A study page. Each page is built by ``from_config(config, language, *its slice)`` and
    shows one section per method, in the order its notebook calls them."""

    @classmethod
    def from_config(cls, config: Config, language: str = "", *args: str) -> Page:
        raise NotImplementedError
