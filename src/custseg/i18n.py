"""The language of the reports: English in the code, other languages from gettext catalogs.

Report text is written in English in the source, wrapped in :func:`_` (or :func:`ngettext`, or
:func:`N_` where a string is only marked and translated later), with named placeholders filled
in *after* translation::

    _("Monthly revenue, {label}").format(label=self.label)

so a translator can move ``{label}`` to where Chinese grammar wants it. The Chinese texts live in
``locale/zh/LC_MESSAGES/custseg.po``, a standard gettext catalog (Poedit and every translation
tool read it); ``make messages`` adds new English texts to it and drops those no longer in the
code, and a test fails while any text has no translation.

Values from the data and the config that have fixed English names (tiers, lifecycle stages, RFM
NPS classes, strategy areas, the sample's product categories) are translated by :func:`label`, with a gettext
context per kind, so "high" the tier and "high" elsewhere can differ. A label the catalog does
not know (a tier a user named "platinum") is shown as it is.

The language is set once per study with :func:`set_language` (a notebook runs one study), or for
a block of code with :func:`language`.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Literal, get_args

Language = Literal["en", "zh"]
#: The languages a report can be written in; the first is the language of the source text.
LANGUAGES: tuple[str, ...] = get_args(Language)
#: Babel locale used for numbers, currencies and dates in each language.
LOCALES = {"en": "en", "zh": "zh_Hans_CN"}
#: The value of ``<html lang>`` of a page in each language.
HTML_LANG = {"en": "en", "zh": "zh-CN"}
#: How each language names itself, for the language switch on every page.
NATIVE_NAMES = {"en": "English", "zh": "中文"}
#: What goes between two sentences (none after a Chinese full stop); not a catalog entry, as
#: an empty translation would read as a missing one.
SENTENCE_SEPARATORS = {"en": " ", "zh": ""}
#: Kinds of data label :func:`label` translates (each is a gettext context, "label:<kind>").
#: Stages, segments and markets are not among them: their Chinese names are part of the data
#: (lifecycle.STAGE_NAMES_ZH, segment_zh and market_zh, editable in the config).
LABEL_KINDS = ("tier", "nps", "area", "category")

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "custseg"

_active: contextvars.ContextVar[str] = contextvars.ContextVar("custseg_language", default="en")


def catalog_path(language: str) -> Path:
    """The gettext catalog (.po) of a language."""
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def _catalog(language: str) -> dict[tuple[str | None, str], str | tuple[str, ...]]:
    """(context, English text) -> translation, from the language's catalog; untranslated and fuzzy
    entries are left out, so their English text shows rather than an empty string."""
    from babel.messages.pofile import read_po

    with catalog_path(language).open("rb") as file:
        catalog = read_po(file, locale=language)
    found: dict[tuple[str | None, str], str | tuple[str, ...]] = {}
    for message in catalog:
        if not message.id or message.fuzzy:
            continue
        key = message.id[0] if isinstance(message.id, tuple) else message.id
        string = message.string
        if isinstance(string, tuple) and all(string):
            found[(message.context, key)] = string
        elif isinstance(string, str) and string:
            found[(message.context, key)] = string
    return found


def check_language(language: str) -> str:
    """`language` itself when custseg can write reports in it; a ValueError naming the choices otherwise."""
    if language not in LANGUAGES:
        raise ValueError(f"report language {language!r} is not supported; choose one of {', '.join(LANGUAGES)}")
    return language


def set_language(language: str) -> None:
    """Write every following text in `language` ("en" or "zh")."""
    _active.set(check_language(language))


def current() -> str:
    """The language texts are written in now."""
    return _active.get()


@contextlib.contextmanager
def language(name: str) -> Iterator[None]:
    """Write texts in `name` inside the block, then go back to the language before it."""
    token = _active.set(check_language(name))
    try:
        yield
    finally:
        _active.reset(token)


def _lookup(context: str | None, message: str) -> str | tuple[str, ...] | None:
    lang = _active.get()
    if lang == LANGUAGES[0]:
        return None
    return _catalog(lang).get((context, message))


def _(message: str) -> str:
    """`message` in the current language (the English text itself when there is no translation)."""
    found = _lookup(None, message)
    return found if isinstance(found, str) else message


def N_(message: str) -> str:
    """Mark `message` for translation without translating it now (a constant defined at import
    time, translated with :func:`_` where it is shown)."""
    return message


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form of a text for a count `n`, in the current language."""
    found = _lookup(None, singular)
    if isinstance(found, tuple):
        # Chinese has one form; a language with more would choose by its plural rule here.
        return found[0] if len(found) == 1 else found[0 if n == 1 else 1]
    return singular if n == 1 else plural


def pgettext(context: str, message: str) -> str:
    """`message` in the current language, as translated for `context`."""
    found = _lookup(context, message)
    return found if isinstance(found, str) else message


def join_list(items: Iterable[str]) -> str:
    """Items of a list in running text: "a, b, c" / "a、b、c"."""
    return pgettext("list separator", ", ").join(items)


def join_clauses(items: Iterable[str]) -> str:
    """Clauses of a long sentence: "a; b" / "a；b"."""
    return pgettext("clause separator", "; ").join(items)


def join_sentences(items: Iterable[str]) -> str:
    """Whole sentences one after the other, empty ones left out: "A. B." / "甲。乙。"."""
    return SENTENCE_SEPARATORS.get(_active.get(), " ").join(item for item in items if item)


def label(kind: str, value: object, default: str | None = None) -> str:
    """A data label of a known kind (a tier, a lifecycle stage, a segment, ...) in the current
    language; labels the catalog does not know, and missing values, are returned as text unchanged.

    Parameters
    ----------
    kind
        One of :data:`LABEL_KINDS`.
    value
        The label as the data or the config spells it ("high", "at_risk", "Champions", "East China").
    default
        What to show when the catalog has no translation (the English display form, e.g.
        "At risk" for "at_risk"); None: the value as it is.
    """
    if kind not in LABEL_KINDS:
        raise ValueError(f"unknown label kind {kind!r}; kinds are {', '.join(LABEL_KINDS)}")
    text = str(value)
    found = _lookup(f"label:{kind}", text)
    if isinstance(found, str):
        return found
    return text if default is None else default


def babel_locale() -> str:
    """The Babel locale for numbers and currencies in the current language."""
    return LOCALES[_active.get()]
