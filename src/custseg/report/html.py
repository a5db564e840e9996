"""An executed study notebook as the HTML page stakeholders open: no code, a table of contents,
the CJK glyphs it uses embedded, links to the same page in the other report languages, and a
footer that says what the page was built from.
"""

from __future__ import annotations

import datetime as dt
import html
import os
import posixpath
import re
from pathlib import Path

import pandas as pd

import custseg
from custseg import i18n, paths
from custseg.config import Config, ConfigError
from custseg.i18n import _
from custseg.processed import ProcessedData, StudyMeta


def provenance(meta: StudyMeta) -> dict:
    """What the footer of every page says about the build."""
    return {
        "data_fingerprint": meta.data_fingerprint,
        "config_fingerprint": meta.config_fingerprint,
        "observation_date": meta.observation_date,
        "version": custseg.__version__,
        "built": build_time().strftime("%Y-%m-%d %H:%M UTC"),
    }


def build_time() -> dt.datetime:
    """Now, in UTC; or ``SOURCE_DATE_EPOCH`` (seconds since 1970) when set, the reproducible-builds
    convention, so that two builds of the same data give byte-identical pages."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        try:
            return dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc)
        except ValueError:
            raise ConfigError(f"SOURCE_DATE_EPOCH must be whole seconds since 1970, got {epoch!r}") from None
    return dt.datetime.now(dt.timezone.utc)


def render_html(
    notebook_path: Path, *, title: str, index_href: str | None, provenance: dict,
    language: str = "en", switch: list[tuple[str, str, str]] = (), shared_text: str = "",
) -> str:
    """Executed notebook -> one self-contained HTML page with no code, no prompts and no stderr.

    Parameters
    ----------
    notebook_path
        The executed study notebook.
    title
        The page title (the browser tab).
    index_href
        Relative link to the overview, None on the overview itself.
    provenance
        What the footer says about the build (see :func:`provenance`).
    language
        The page's language: the words of the header, footer and table of contents and ``<html lang>``.
    switch
        (HTML language code, language name, relative link) of the same page in each other language.
    shared_text
        The CJK characters the pages of the build share (see :func:`data_characters`).
    """
    import nbformat
    from nbconvert import HTMLExporter

    notebook = nbformat.read(notebook_path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            # Warnings on stderr are for the developer's log, not for a sales director.
            cell.outputs = [o for o in cell.outputs if not (o.output_type == "stream" and o.name == "stderr")]
    notebook.metadata["title"] = title
    exporter = HTMLExporter(
        template_name="custseg",
        extra_template_basedirs=[str(paths.TEMPLATES_DIR)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        language_code=language,  # nbconvert takes ISO 639-1 codes only; the region is added below
    )
    with i18n.language(language):
        text = {
            "back": _("Overview and all studies"),
            "languages": _("This page in"),
            "footer": _(
                "Built by custseg {version} on {built} · observation date {observation_date} · "
                "input data {data_fingerprint} · config {config_fingerprint}"
            ).format(**provenance),
        }
        body, _resources = exporter.from_notebook_node(notebook, resources={
            "custseg": {**provenance, "index_href": index_href, "text": text, "switch": list(switch)},
        })
        # "zh-CN", not just "zh": browsers pick Simplified Chinese glyph forms by it
        body = body.replace(f'<html lang="{language}">', f'<html lang="{i18n.HTML_LANG[language]}">', 1)
        page = add_contents(body)
    # an English page quoting a Chinese term (RFM 八类客户) or a Chinese place name needs the glyphs
    # too: without them a machine with no Chinese font draws boxes; it gets only the few it uses
    return _embed_font(page, shared_text, exact=language != "zh")


def data_characters(data: ProcessedData) -> str:
    """The CJK characters of the names in the processed data a page may show (places, segments,
    categories, any text attribute), each once, in code-point order."""
    from custseg.studies.render import cjk_characters

    found: set[int] = set()
    for frame, columns in ((data.customers, None), (data.orders, ["category"])):
        for column in columns or frame.columns:
            values = frame[column] if column in frame else None
            if values is None or pd.api.types.is_numeric_dtype(values) or pd.api.types.is_datetime64_any_dtype(values):
                continue
            found |= cjk_characters("".join(pd.unique(values.dropna().astype("str"))))
    return "".join(map(chr, sorted(found)))


def _embed_font(page: str, shared_text: str = "", *, exact: bool = False) -> str:
    """The page with the CJK glyphs it uses embedded as a font in its head (see
    :func:`custseg.studies.render.cjk_font_face`); `exact` cuts the font to the page's own."""
    from custseg.studies import render

    face = render.cjk_font_face(page, shared_text, exact=exact)
    if not face:
        return page
    head_end = page.index("</head>")
    return page[:head_end] + f'<style type="text/css">{face}</style>\n' + page[head_end:]


def language_folder(root: Path, config: Config, language: str) -> Path:
    """Where the pages (or the build files) of `language` go under `root`: `root` itself for the
    config's main language, ``root/<language>`` for the others."""
    return root if language == config.study.language else root / language


def switch_links(config: Config, language: str, href: str) -> list[tuple[str, str, str]]:
    """(HTML language code, language name, relative link) of the same page in each other report
    language of the config."""
    here = posixpath.dirname(posixpath.join(_folder_prefix(config, language), href)) or "."
    return [
        (i18n.HTML_LANG[other], i18n.NATIVE_NAMES[other],
         posixpath.relpath(posixpath.join(_folder_prefix(config, other), href), here))
        for other in config.study.languages if other != language
    ]


def _folder_prefix(config: Config, language: str) -> str:
    return "" if language == config.study.language else language


_SECTION = re.compile(r'<section class="cs-section"><h2>(.*?)</h2>', re.S)
_TITLE_END = re.compile(r'<h1 class="cs-title">.*?</h1>(?:<p class="cs-subtitle">.*?</p>)?', re.S)
#: Where the opening block of a page ends (custseg.studies.opening.END): the contents go there.
OPENING_END = "<!--cs-opening-end-->"
#: Pages with fewer sections than this get no table of contents.
MIN_SECTIONS_FOR_CONTENTS = 3


def add_contents(page: str) -> str:
    """A table of contents under the page title, linking every section heading.

    The headings are the ones :class:`custseg.studies.render.Section` wrote (already escaped), so they are
    reused as they are; each section gets an id ``section-1``, ``section-2``, ... in page order.
    A page with few sections (a short study that says why it is short) is returned unchanged.
    """
    headings = _SECTION.findall(page)
    title = _TITLE_END.search(page)
    if len(headings) < MIN_SECTIONS_FOR_CONTENTS or title is None:
        return page
    numbers = iter(range(1, len(headings) + 1))
    page = _SECTION.sub(
        lambda m: f'<section class="cs-section" id="section-{next(numbers)}"><h2>{m.group(1)}</h2>', page
    )
    items = "".join(f'<li><a href="#section-{n}">{heading}</a></li>' for n, heading in enumerate(headings, start=1))
    name = html.escape(_("Contents"))
    contents = f'<nav class="cs-toc" aria-label="{name}"><h2>{name}</h2><ol>{items}</ol></nav>'
    # after the opening block (period, findings, navigation) when the page has one: the first
    # screen is the title, the findings and the links to every study, then the page's own contents
    if OPENING_END in page:
        return page.replace(OPENING_END, contents, 1)
    title = _TITLE_END.search(page)  # the ids shifted nothing before the title, but find it again
    return page[: title.end()] + contents + page[title.end():]
