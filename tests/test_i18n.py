"""Report languages: the catalog is complete and in step with the code, translations keep their
placeholders, the language switch and its fallbacks, and Chinese text renders in figures."""

from __future__ import annotations

import ast
import re
import string
import warnings
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from custseg import i18n
from custseg.i18n import _, ngettext, pgettext
from custseg.studies import render
from support.tools import extract_messages

PACKAGE = Path(i18n.__file__).resolve().parent
TRANSLATION_CALLS = {"_": 1, "N_": 1, "ngettext": 2, "pgettext": 2}


def _catalog(language: str):
    with i18n.catalog_path(language).open("rb") as file:
        return read_po(file, locale=language)


def _key(message) -> tuple[str, str]:
    ident = message.id[0] if isinstance(message.id, tuple) else message.id
    return (message.context or "", ident)


@pytest.mark.parametrize("language", i18n.LANGUAGES[1:])
def test_catalog_holds_exactly_the_texts_of_the_code(language):
    wanted = {_key(m) for m in extract_messages() if m.id}
    held = {_key(m) for m in _catalog(language) if m.id}
    assert sorted(wanted - held) == [], "texts without a translation entry: run `make messages`"
    assert sorted(held - wanted) == [], "catalog entries no longer in the code: run `make messages`"


@pytest.mark.parametrize("language", i18n.LANGUAGES[1:])
def test_every_text_is_translated_with_its_placeholders(language):
    def fields(text: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}

    untranslated, broken = [], []
    for message in _catalog(language):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            untranslated.append(ids[0])
            continue
        # every placeholder the English fills must be in the translation, and no other: a
        # missing one drops a figure from the sentence, an unknown one raises KeyError
        expected = set().union(*(fields(text) for text in ids))
        broken += [(ids[0], text) for text in strings if fields(text) != expected]
    assert untranslated == []
    assert broken == []


def _calls(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, (ast.Name, ast.Attribute)):
            name = node.func.id if isinstance(node.func, ast.Name) else node.func.attr
            if name in TRANSLATION_CALLS:
                yield name, node


def test_translated_texts_are_not_built_before_translation():
    # `_(f"... {x}")`, `_("a" + b)` or `_("...".format(x))` looks a text up after filling it in,
    # so it is never found; placeholders are filled after translation, with .format(). A name
    # (a constant marked with N_ where it is defined) is fine: its text is extracted there.
    built = (ast.JoinedStr, ast.BinOp, ast.Call)
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for name, node in _calls(ast.parse(path.read_text(encoding="utf-8"))):
            if any(isinstance(arg, built) for arg in node.args[:TRANSLATION_CALLS[name]]):
                offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {name}(...)")
            if name == "N_" and not (node.args and isinstance(node.args[0], ast.Constant)):
                offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno} N_ needs a literal text")
    assert offenders == []


def test_language_switch_falls_back_to_english_and_restores():
    plural = next(m for m in _catalog("zh") if isinstance(m.id, tuple))
    singular, several = plural.id
    assert i18n.current() == "en"
    assert _("Contents") == "Contents"
    with i18n.language("zh"):
        assert i18n.current() == "zh"
        assert _("Contents") == "目录"
        assert _("a text no catalog holds") == "a text no catalog holds"
        assert i18n.label("tier", "high") != "high" and re.search(r"[\u4e00-\u9fff]", i18n.label("tier", "high"))
        assert i18n.label("tier", "platinum") == "platinum"
        assert i18n.label("tier", "platinum", default="Platinum") == "Platinum"
        assert pgettext("label:tier", "high") == i18n.label("tier", "high")
        # Chinese has one form for every count
        assert ngettext(singular, several, 1) == ngettext(singular, several, 3) == plural.string[0]
    assert i18n.current() == "en"
    assert (ngettext(singular, several, 1), ngettext(singular, several, 3)) == (singular, several)
    with pytest.raises(RuntimeError), i18n.language("zh"):
        raise RuntimeError("a study failed")
    assert i18n.current() == "en"


def test_unknown_language_and_label_kind_are_refused():
    with pytest.raises(ValueError, match="'fr' is not supported; choose one of en, zh"):
        i18n.set_language("fr")
    with pytest.raises(ValueError, match="unknown label kind 'colour'"):
        i18n.label("colour", "red")


def test_numbers_money_and_months_follow_the_language():
    import datetime as dt

    assert render.month_year(dt.date(2024, 3, 1)) == "March 2024"
    assert render.money("CNY")(12345.6) == "CN¥12,346"
    with i18n.language("zh"):
        assert render.month_year(dt.date(2024, 3, 1)) == "2024年3月"
        assert render.month_names()[0] == "1月" and len(render.month_names()) == 12
        assert render.money("CNY")(12345.6) == "¥12,346"
        assert render.percent(0.1234) == "12.3%"
        assert render.share(0.5) == "50%" and render.share(0.125) == "12.5%"
        assert i18n.join_sentences(["甲。", "", "乙。"]) == "甲。乙。"
    assert i18n.join_sentences(["A.", "", "B."]) == "A. B."
    assert set(i18n.SENTENCE_SEPARATORS) == set(i18n.LANGUAGES)


def test_chinese_text_renders_in_figures_without_missing_glyphs():
    render.set_theme()
    assert render.cjk_font() == render.CJK_FONT
    fig = render.new_figure(3, 2)
    ax = fig.subplots()
    ax.bar(["华东", "华南"], [1, 2])
    ax.set(title="各区域营收", xlabel="区域", ylabel="营收（元）")
    with warnings.catch_warnings():
        # matplotlib warns "Glyph ... missing from font(s)" for every character it draws as a box
        warnings.simplefilter("error")
        png = render.Chart(fig, "各区域营收", "柱状图").png()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_english_figures_keep_their_font():
    render.set_theme()
    import matplotlib

    assert matplotlib.rcParams["font.family"] == ["DejaVu Sans", render.CJK_FONT]


def _embedded(face: str) -> set[int]:
    import base64
    import io

    from fontTools.ttLib import TTFont

    woff = base64.b64decode(re.search(r"base64,([A-Za-z0-9+/=]+)\)", face).group(1))
    assert woff[:4] == b"wOFF"
    return set(TTFont(io.BytesIO(woff)).getBestCmap())


def test_a_chinese_page_embeds_the_glyphs_it_uses():
    assert render.cjk_font_face("Only English here, 123 ¥") == ""
    page = "<h1>华东区域研究</h1><p>客户 12,345 位</p>"
    face = render.cjk_font_face(page)
    assert face.startswith('@font-face { font-family: "custseg CJK"') and "unicode-range: U+2E80-FFFF;" in face
    # a page of custseg's own words shares one cut of the font, which holds all of them
    own = render._own_characters()
    assert {ord(c) for c in "华东区域研究客户位"} <= own <= _embedded(face)
    assert render.cjk_font_face("目录：关键数据") is face or render.cjk_font_face("目录：关键数据") == face
    # a character from the data that custseg never writes: the page gets its own cut
    rare = "<td>龘</td><td>华东</td>"
    assert ord("龘") not in own
    mapped = _embedded(render.cjk_font_face(rare))
    assert {ord("龘"), ord("华"), ord("东")} <= mapped and ord("西") not in mapped
    assert render.cjk_font_face(rare) == render.cjk_font_face("东华龘")  # same characters, same bytes


def test_an_english_page_quoting_chinese_gets_only_those_glyphs():
    page = "<p>the 8-class value model (RFM 八类客户)</p>"
    exact = render.cjk_font_face(page, shared="龘城", exact=True)
    assert _embedded(exact) >= {ord(c) for c in "八类客户"}
    # a few glyphs, not custseg's whole Chinese vocabulary: a few kB on an English page
    assert ord("龘") not in _embedded(exact) and ord("华") not in _embedded(exact)
    assert len(exact) < len(render.cjk_font_face(page)) / 10
    assert render.cjk_font_face("Only English here", exact=True) == ""


def test_characters_shared_by_a_build_spare_pages_their_own_cut():
    rare = "<td>龘</td><td>华东</td>"
    shared = render.cjk_font_face(rare, shared="龘城")
    assert shared == render.cjk_font_face("<td>城</td>", shared="龘城")  # one cut for both pages
    assert {ord("龘"), ord("城")} | render._own_characters() <= _embedded(shared)
