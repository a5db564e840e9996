"""Display objects for study notebooks: figures, tables and notices as safe, self-contained HTML.

Every value that comes from the data is HTML-escaped here, once, so a region called
``<script>`` shows up as text in a report and never runs. Figures are embedded as base64 PNG
with alt text, so a report opens offline and from an e-mail attachment.

Numbers, currencies, months and dates are formatted in the report language
(:func:`custseg.i18n.current`); figures draw Chinese text with Noto Sans CJK SC, which the
project installs itself (the ``mplfonts`` package), wherever DejaVu Sans has no glyph.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import html
import io
from collections.abc import Callable, Mapping, Sequence
from importlib.resources import files

import matplotlib

matplotlib.use("Agg")  # reports are rendered headless; never pick an interactive backend

import numpy as np
import pandas as pd
import seaborn as sns
from babel.dates import format_skeleton, get_month_names
from babel.numbers import format_currency, format_decimal, format_percent
from matplotlib import font_manager
from matplotlib.figure import Figure

from custseg import i18n
from custseg.i18n import _, ngettext

PALETTE = "crest"
DPI = 110
#: The font for Chinese text in figures: Noto Sans CJK SC (SIL Open Font License), from mplfonts.
CJK_FONT_FILE = "fonts/NotoSansCJKsc-Regular.otf"
CJK_FONT = "Noto Sans CJK SC"


@functools.cache
def cjk_font() -> str:
    """Register the CJK font with matplotlib (once per process) and return its family name."""
    path = files("mplfonts").joinpath(CJK_FONT_FILE)
    if not path.is_file():
        raise FileNotFoundError(
            f"the CJK font {CJK_FONT_FILE} is not in the mplfonts package ({path}); "
            "reinstall the environment with `make setup` (requirements.txt pins mplfonts)"
        )
    font_manager.fontManager.addfont(str(path))
    return font_manager.FontProperties(fname=str(path)).get_name()


#: Characters from the CJK radicals block upwards (ideographs, kana, hangul, full-width forms):
#: what a page in Chinese needs the embedded font for.
_CJK_START = 0x2E80
#: The family name the embedded subset gets in a page's CSS (custseg.css lists it).
EMBEDDED_CJK_FAMILY = "custseg CJK"


def cjk_characters(text: str) -> frozenset[int]:
    """The code points of the CJK characters of `text` (what the embedded font must hold)."""
    return frozenset(ord(char) for char in text if ord(char) >= _CJK_START)


def cjk_font_face(text: str, shared: str = "", *, exact: bool = False) -> str:
    """A CSS ``@font-face`` rule carrying the CJK font, cut down to what `text` needs, as an
    embedded WOFF; "" when `text` has no CJK character.

    A Chinese page then shows its Chinese text in the same font on any machine, also one with no
    Chinese font installed, and still loads nothing from anywhere. Cutting the font takes time
    (docs/performance.md), so a page whose characters are all among those custseg itself writes
    (its translations and the Chinese names of stages, segments, markets and provinces, see
    :func:`_own_characters`) or those of `shared` gets one cut made once per process; a page with
    other characters gets a cut of its own.

    The rule's ``unicode-range`` lets the page name the font first in its stack: it is used for
    the CJK characters only (left to the fallback order, Chromium drew some headings with the
    Latin fonts' missing-glyph boxes).

    Parameters
    ----------
    text
        The page.
    shared
        Text whose characters the pages of a build have in common besides custseg's own: the
        names in the data (cities, categories), so that they do not cost each page its own cut.
    exact
        Cut to `text`'s own characters, whatever is shared: for an English page that quotes a
        Chinese term or name (a few kB and 0.2 s, where the shared cut is about 170 kB).
    """
    characters = cjk_characters(text)
    if not characters:
        return ""
    if exact:
        return _font_face(frozenset(characters))
    common = _own_characters() | cjk_characters(shared)
    return _font_face(common if characters <= common else characters)


@functools.cache
def _own_characters() -> frozenset[int]:
    """The CJK characters of every text custseg writes in Chinese: the catalog's translations
    and the Chinese names that come with the package (stages, segments, value classes, markets,
    provinces)."""
    from custseg import config, geo
    from custseg.segment import lifecycle

    segments = config.Segments()
    texts = [
        i18n.catalog_path("zh").read_text(encoding="utf-8"),
        files("custseg").joinpath("data", "cn_provinces.csv").read_text(encoding="utf-8"),
        *(market.name_zh for market in geo.MARKETS),
        *lifecycle.STAGE_NAMES_ZH.values(),
        *(rule.name_zh for rule in segments.rfm_map),
        *(value_class.name_zh for value_class in segments.value_classes),
    ]
    return cjk_characters("".join(texts))


@functools.cache
def _font_face(characters: frozenset[int]) -> str:
    from fontTools import subset
    from fontTools.ttLib import TTFont

    cjk_font()  # fails with a clear message when the font is not installed
    # recalcTimestamp=False: the same characters give the same bytes in every build;
    # recalcBBoxes=False: the full font's bounding box still holds every glyph, and working out
    # the subset's own is a good part of the time (docs/performance.md)
    font = TTFont(str(files("mplfonts").joinpath(CJK_FONT_FILE)), lazy=True, recalcTimestamp=False, recalcBBoxes=False)
    options = subset.Options()
    options.hinting, options.desubroutinize = False, True
    # Chinese set horizontally needs no OpenType layout (vertical forms, proportional
    # punctuation); leaving those tables out halves the size
    options.layout_features = []
    options.drop_tables += ["GSUB", "GPOS", "GDEF", "BASE", "VORG", "vhea", "vmtx"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(characters))
    subsetter.subset(font)
    font.flavor = "woff"  # zlib-compressed; WOFF2 would need brotli, another dependency
    buffer = io.BytesIO()
    font.save(buffer)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return (
        f'@font-face {{ font-family: "{EMBEDDED_CJK_FAMILY}"; font-style: normal; font-weight: 100 900; '
        f'unicode-range: U+{_CJK_START:X}-FFFF; src: url(data:font/woff;base64,{data}) format("woff"); }}'
    )


def set_theme() -> None:
    """One look for every figure in every study, in either language.

    DejaVu Sans stays the first font, so English figures look as they always did; matplotlib
    falls back glyph by glyph to the CJK font for Chinese text (titles in Chinese reports, but
    also a Chinese region or product name in an English one).
    """
    sns.set_theme(
        context="notebook", style="whitegrid", palette="deep",
        # An explicit family list, not the generic "sans-serif": matplotlib falls back glyph by
        # glyph only along the fonts named in font.family.
        rc={"figure.dpi": DPI, "savefig.dpi": DPI, "font.family": ["DejaVu Sans", cjk_font()]},
    )


class Chart:
    """A figure with a title and alt text, shown in a report as an embedded PNG.

    Parameters
    ----------
    figure
        A matplotlib figure (made with ``Figure()``, not pyplot, so nothing is shown twice).
    title
        Caption under the figure.
    alt
        What the figure shows, in words, for screen readers and when images are blocked.
    """

    def __init__(self, figure: Figure, title: str, alt: str) -> None:
        self.figure, self.title, self.alt = figure, title, alt

    def png(self) -> bytes:
        buffer = io.BytesIO()
        # Fixed metadata keeps the bytes the same from one build to the next.
        self.figure.savefig(buffer, format="png", bbox_inches="tight", metadata={"Software": None})
        return buffer.getvalue()

    def _repr_html_(self) -> str:
        png = self.png()
        width, height = png_size(png)
        data = base64.b64encode(png).decode("ascii")
        # The image's own size goes with it: the page reserves its box before it decodes, and the
        # theme lets it shrink to fit a column only so far (custseg.css, --cs-natural), then
        # scroll in its box, so a chart on a phone keeps its text legible.
        return (
            f'<figure class="cs-figure"><div class="cs-scroll cs-figure-box">'
            f'<img src="data:image/png;base64,{data}" alt="{html.escape(self.alt)}" width="{width}" '
            f'height="{height}" style="--cs-natural: {width}px"></div>'
            f"<figcaption>{html.escape(self.title)}</figcaption></figure>"
        )


def png_size(png: bytes) -> tuple[int, int]:
    """(width, height) in pixels of PNG bytes, from the header chunk every PNG opens with."""
    if png[:8] != b"\x89PNG\r\n\x1a\n" or png[12:16] != b"IHDR":
        raise ValueError("not a PNG image")
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


class Table:
    """A formatted, escaped HTML table with a caption, sortable and filterable on the page, with
    its data as a CSV download.

    Parameters
    ----------
    frame
        The data; its index is shown only when named.
    title
        Caption above the table.
    formats
        Column name -> function turning a value into display text.
    numeric
        Columns of pre-formatted numbers, aligned right like numbers.
    download
        The rows the CSV download holds, with the columns of `frame` (its index shown when named):
        more than the table shows where the page shows the top of a longer list (a watch list).
        By default the table's own rows.

    Notes
    -----
    Every cell that holds a number carries it in ``data-v`` (the page's script sorts "£1.2k" as
    1234.5), and the CSV holds the numbers as they are, not as formatted: the table's data, for a
    spreadsheet. The CSV is a ``data:`` link (UTF-8 with a byte-order mark, so Excel reads Chinese
    right), written here, so it downloads with scripts off and needs nothing but the page.
    """

    def __init__(
        self,
        frame: pd.DataFrame,
        title: str,
        formats: Mapping[str, Callable[[object], str]] | None = None,
        numeric: Sequence[str] = (),
        download: pd.DataFrame | None = None,
    ) -> None:
        self.frame, self.title, self.formats = frame, title, dict(formats or {})
        self.numeric = set(numeric)  # columns of pre-formatted numbers, aligned right like numbers
        self.download = download

    def csv(self) -> str:
        """The table's data as CSV text (no byte-order mark): the download's content."""
        frame = self.frame if self.download is None else self.download
        frame = frame.reset_index() if frame.index.name else frame
        return frame.to_csv(index=False, lineterminator="\r\n")

    def _repr_html_(self) -> str:
        frame = self.frame.reset_index() if self.frame.index.name else self.frame
        head = "".join(f"<th>{html.escape(str(col))}</th>" for col in frame.columns)
        numeric = self.numeric | {
            col for col in frame.columns if pd.api.types.is_numeric_dtype(frame[col]) or col in self.formats
        }
        rows = []
        for record in frame.itertuples(index=False):
            cells = []
            for col, value in zip(frame.columns, record):
                missing = _missing(value)
                text = MISSING if missing else self.formats.get(col, _default_format)(value)
                align = ' class="num"' if col in numeric else ""
                cells.append(f"<td{align}{_sort_value(value, missing)}>{html.escape(text)}</td>")
            rows.append(f"<tr>{''.join(cells)}</tr>")
        # A table wider than the column scrolls sideways in a box of its own (custseg.css: with a
        # shadow at the edge that hides more columns, and its first column kept in view), not
        # the page; the box takes keyboard focus so it can be scrolled without a mouse.
        title = html.escape(self.title)
        return (
            f"{self._block_open()}"
            f'<div class="cs-scroll cs-table-box" role="region" tabindex="0" aria-label="{title}">'
            f'<table class="cs-table"><caption>{title}</caption>'
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div></div>"
        )

    def _block_open(self) -> str:
        """The table's frame and tool bar: the download link, and the words the page's script
        (templates/custseg/tables.js) puts on the filter box and the sort buttons."""
        rows = len(self.frame if self.download is None else self.download)
        data = base64.b64encode(("\ufeff" + self.csv()).encode("utf-8")).decode("ascii")
        link = ngettext("Download CSV ({count} row)", "Download CSV ({count} rows)", rows).format(
            count=integer(rows))
        name = f"{_file_name(self.title)}.csv"
        words = {
            "data-filter-label": _("Filter rows"),
            "data-count-label": _("{shown} of {total} rows shown"),
            "data-sort-label": _("Sort by this column"),
        }
        attributes = "".join(f' {key}="{html.escape(value)}"' for key, value in words.items())
        return (
            f'<div class="cs-table-block"{attributes}><div class="cs-table-tools">'
            f'<a class="cs-download" href="data:text/csv;charset=utf-8;base64,{data}" '
            f'download="{html.escape(name)}">{html.escape(link)}</a></div>'
        )


def _sort_value(value: object, missing: bool) -> str:
    """The ``data-v`` attribute of a cell holding a number (its value as written by Python, which
    JavaScript's parseFloat reads back exactly), "" for any other cell."""
    if missing or isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        return ""
    return f' data-v="{float(value)!r}"'


def _file_name(title: str) -> str:
    """A download's file name from a table's title: its words, letters of any script kept (a
    Chinese title gives a Chinese name), everything a file system or a shell minds replaced."""
    # no regular expression in studies/ (tests/test_facts.py): a character test does it
    words = "".join(char if char.isalnum() else " " for char in title.lower()).split()
    return "-".join(words)[:80].rstrip("-") or "table"


class Notice:
    """A boxed message in a report, e.g. why a section is not shown."""

    def __init__(self, text: str, kind: str = "info") -> None:
        self.text, self.kind = text, kind

    def _repr_html_(self) -> str:
        return f'<div class="cs-notice cs-{html.escape(self.kind)}">{html.escape(self.text)}</div>'


class Links:
    """A list of links to other reports; targets are slugs made by custseg, labels are escaped."""

    def __init__(self, items: list[tuple[str, str, str]], title: str) -> None:
        self.items, self.title = items, title  # (href, label, note)

    def _repr_html_(self) -> str:
        entries = "".join(
            f'<li><a href="{html.escape(href)}">{html.escape(label)}</a> '
            f'<span class="cs-note">{html.escape(note)}</span></li>'
            for href, label, note in self.items
        )
        return f'<nav class="cs-links"><h3>{html.escape(self.title)}</h3><ul>{entries}</ul></nav>'


def mask_id(value: object) -> str:
    """A customer id as a report may show it when ids are masked: the first two and last two
    characters with bullets between ("C000857" -> "C0•••57"); ids of six characters or fewer
    become all bullets, as their ends would give most of them away."""
    text = str(value)
    if len(text) <= 6:
        return "•" * len(text)
    return f"{text[:2]}•••{text[-2:]}"


def _missing(value: object) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _default_format(value: object) -> str:
    if isinstance(value, float):
        return format_decimal(value, format="#,##0.##", locale=i18n.babel_locale())
    if isinstance(value, int):
        return format_decimal(value, format="#,##0", locale=i18n.babel_locale())
    return str(value)


#: What a table shows for a figure that does not exist (no data, a model that was not fitted):
#: never "NaN", and never a zero that reads as a measured nothing.
MISSING = "–"


def money(currency: str) -> Callable[[object], str]:
    """Formatter for amounts in `currency`, whole units (reports compare, they do not audit), in
    the report language when the formatter is called; :data:`MISSING` for a missing amount."""
    return lambda value: MISSING if _missing(value) else format_currency(
        value, currency, format="¤#,##0", locale=i18n.babel_locale(), currency_digits=False)


def percent(value: object) -> str:
    """0.123 -> '12.3%'; :data:`MISSING` for a missing value."""
    return MISSING if _missing(value) else format_percent(value, format="#,##0.0%", locale=i18n.babel_locale())


def share(value: object) -> str:
    """A configured share as written: 0.5 -> '50%', 0.125 -> '12.5%' (no trailing zeros)."""
    return format_percent(value, format="#,##0.##%", locale=i18n.babel_locale())


def signed_percent(value: object) -> str:
    """+12.3% / -4.0%; a dash for a missing value."""
    return MISSING if _missing(value) else f"{float(value):+.1%}"


def integer(value: object) -> str:
    return MISSING if _missing(value) else format_decimal(value, format="#,##0", locale=i18n.babel_locale())


def decimal(value: object) -> str:
    return MISSING if _missing(value) else format_decimal(value, format="#,##0.0", locale=i18n.babel_locale())


def index_points(value: object) -> str:
    """An index against the base (100 = same as the whole base); :data:`MISSING` when there is none."""
    return MISSING if _missing(value) else format_decimal(value, format="#,##0", locale=i18n.babel_locale())


def month_names(width: str = "abbreviated") -> list[str]:
    """The twelve month names in the report language, January first ('Jan' / '1月')."""
    names = get_month_names(width, locale=i18n.babel_locale())
    return [names[month] for month in range(1, 13)]


def month_year(value: dt.date | pd.Timestamp | pd.Period) -> str:
    """'March 2024' / '2024年3月'."""
    if isinstance(value, pd.Period):
        value = value.start_time
    return format_skeleton("yMMMM", value, locale=i18n.babel_locale())


def date_axis(ax) -> None:
    """Readable month labels on a time axis (no overlapping '2024-01 2024-03 ...'), in the report
    language."""
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(maxticks=8)
    ax.xaxis.set_major_locator(locator)
    if i18n.current() == "zh":
        formatter = mdates.ConciseDateFormatter(
            locator,
            formats=["%Y年", "%-m月", "%-d日", "%H:%M", "%H:%M", "%S.%f"],
            zero_formats=["", "%Y年", "%-m月", "%-m月%-d日", "%H:%M", "%H:%M"],
            offset_formats=["", "%Y年", "%Y年%-m月", "%Y年%-m月%-d日", "%Y年%-m月%-d日", "%Y年%-m月%-d日 %H:%M"],
        )
    else:
        formatter = mdates.ConciseDateFormatter(locator)
    ax.xaxis.set_major_formatter(formatter)


def thousands_axis(axis) -> None:
    """Tick labels with thousands separators (12,000 rather than 12000)."""
    axis.set_major_formatter(lambda value, _: f"{value:,.0f}")


def new_figure(width: float = 7.0, height: float = 3.6) -> Figure:
    """A figure not registered with pyplot, so a notebook shows it once, through Chart."""
    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


class Section:
    """A report section: heading, a sentence on how to read it, and its table or figure."""

    def __init__(self, heading: str, lead: str, *items: object) -> None:
        self.heading, self.lead, self.items = heading, lead, items

    @property
    def content(self) -> object:
        """The first (usually only) table or figure of the section."""
        return self.items[0] if self.items else None

    def _repr_html_(self) -> str:
        lead = f'<p class="cs-lead">{html.escape(self.lead)}</p>' if self.lead else ""
        body = "".join(item._repr_html_() for item in self.items)
        return f'<section class="cs-section"><h2>{html.escape(self.heading)}</h2>{lead}{body}</section>'


class Heading:
    """The page title and subtitle of a study, escaped (region names come from the data)."""

    def __init__(self, title: str, subtitle: str = "") -> None:
        self.title, self.subtitle = title, subtitle

    def _repr_html_(self) -> str:
        sub = f'<p class="cs-subtitle">{html.escape(self.subtitle)}</p>' if self.subtitle else ""
        return f'<h1 class="cs-title">{html.escape(self.title)}</h1>{sub}'
