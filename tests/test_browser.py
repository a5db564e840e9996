"""The browser check itself: headless Chromium catches external requests, failed requests,
script errors and images that do not render, measures how a page fits a phone's width, and prints
it to a PDF (the reports are checked in test_e2e.py).

Skipped, with a message, only where no Chromium is installed; with CUSTSEG_REQUIRE_BROWSER=1 (as
``.ci/run`` sets it) a missing Chromium fails instead, so CI can never skip this silently.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

from custseg.report.pdf import print_pdf
from support.browser import local_target, pdf_pages, pdf_text

# a 1x1 transparent PNG
PIXEL = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=")


def _page(folder: Path, name: str, body: str, head: str = "") -> Path:
    path = folder / name
    page = f"<!doctype html><html><head><title>{name}</title>{head}</head><body>{body}</body></html>"
    path.write_text(page, encoding="utf-8")
    return path


def test_a_self_contained_page_passes(browser, tmp_path):
    data = base64.b64encode(PIXEL).decode("ascii")
    _page(tmp_path, "other.html", "<p>other</p>")
    body = f'<img alt="dot" src="data:image/png;base64,{data}"><a href="other.html#x">next</a>'
    page = _page(tmp_path, "ok.html", body)
    result = browser.check(page)
    assert result.problems == []
    assert result.title == "ok.html" and len(result.images) == 1 and result.images[0]["width"] == 1
    assert local_target(result.links[0]) == (tmp_path / "other.html").resolve()


def test_an_external_request_is_caught(browser, tmp_path):
    page = _page(tmp_path, "external.html", '<img alt="x" src="http://127.0.0.1:9/x.png">')
    problems = browser.check(page).problems
    assert any(p.startswith("external request http://127.0.0.1:9/x.png") for p in problems), problems


def test_a_script_error_and_a_missing_image_are_caught(browser, tmp_path):
    page = _page(tmp_path, "broken.html", '<img alt="gone" src="missing.png"><script>throw new Error("boom")</script>')
    problems = browser.check(page).problems
    assert any("script error" in p and "boom" in p for p in problems), problems
    assert any(p.startswith("failed request") and "missing.png" in p for p in problems), problems
    assert any(p.startswith("image not rendered") and "gone" in p for p in problems), problems


PHONE = '<meta name="viewport" content="width=device-width, initial-scale=1">'
WIDE_TABLE = "<table><tr>" + "".join(f"<td>column&nbsp;number&nbsp;{n}</td>" for n in range(12)) + "</tr></table>"


def test_a_wide_table_overflows_a_phone_unless_it_scrolls_in_its_own_box(browser, tmp_path):
    bare = _page(tmp_path, "bare.html", WIDE_TABLE, PHONE)
    boxed = _page(tmp_path, "boxed.html", f'<div class="cs-scroll" style="overflow-x: auto">{WIDE_TABLE}</div>', PHONE)
    whole = f'<div class="out" style="overflow-x: auto"><h2>x</h2>{WIDE_TABLE}</div>'
    section = _page(tmp_path, "section.html", whole, PHONE)
    with browser.viewport(390, 844, mobile=True):
        browser.open(bare)
        bare_layout = browser.layout()
        browser.open(boxed)
        boxed_layout = browser.layout()
        browser.open(section)
        section_layout = browser.layout()
    assert bare_layout.viewport == 390 and bare_layout.overflow > 500, bare_layout
    assert boxed_layout.overflow == 0 and boxed_layout.stray == [], boxed_layout
    # the page does not overflow, but a box other than the theme's scroll boxes scrolls sideways
    assert section_layout.overflow == 0 and section_layout.stray == ["div.out"], section_layout
    browser.open(bare)  # back at the window's own width
    assert browser.layout().viewport == 1280


def test_an_image_shrunk_to_a_phone_is_measured(browser, tmp_path):
    data = base64.b64encode(PIXEL).decode("ascii")
    page = _page(tmp_path, "img.html", f'<img alt="dot" src="data:image/png;base64,{data}" style="width: 2px">', PHONE)
    browser.open(page)
    assert browser.layout().smallest_image_scale == 2.0


def test_a_page_prints_to_an_a4_pdf_and_a_clipped_table_is_found(browser, tmp_path):
    page = _page(tmp_path, "print.html", f"<h1>Watch list</h1><p>Recommended action</p>{WIDE_TABLE}")
    browser.open(page)
    pdf = browser.pdf(tmp_path / "out" / "print.pdf").read_bytes()
    assert pdf.startswith(b"%PDF-") and pdf_pages(pdf) >= 1
    assert _a4(pdf)
    text = pdf_text(tmp_path / "out" / "print.pdf")
    if text is not None:  # poppler-utils installed (.ci/run installs it)
        assert "Recommended action" in text
    # a table twelve long cells wide does not fit a printed A4 column: reported by its caption
    assert browser.print_layout()["clipped"] == [""]
    fitting = _page(tmp_path, "fits.html", "<table><caption>ok</caption><tr><td>a</td><td>b</td></tr></table>")
    browser.open(fitting)
    assert browser.print_layout() == {"clipped": [], "scrolling": 0}


def test_pdf_pages_counts_page_objects_only():
    assert pdf_pages(b"not a pdf /Type /Page") == 0
    assert pdf_pages(b"%PDF-1.4 /Type /Pages /Type /Page /Type/Page") == 2


def _a4(pdf: bytes) -> bool:
    """Whether every page's media box is A4 (595.3 x 841.9 points, give or take Chromium's rounding
    to whole pixels)."""
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    return bool(boxes) and all(abs(float(w) - 595.3) < 1.5 and abs(float(h) - 841.9) < 1.5 for w, h in boxes)


def test_make_pdf_prints_a_page_beside_itself(browser, tmp_path):
    # `make pdf` runs custseg.report.pdf: Chromium's own --print-to-pdf, A4 from the page's @page rule
    page = _page(tmp_path, "page.html", "<h1>Churn watch</h1><p>Recommended action</p>",
                 "<style>@page { size: A4; margin: 12mm }</style>")
    written = print_pdf(page, chromium=browser.executable)
    assert written == tmp_path / "page.pdf"
    pdf = written.read_bytes()
    assert pdf_pages(pdf) == 1 and _a4(pdf)
    assert not list(tmp_path.glob(".*.partial"))
    text = pdf_text(written)
    if text is not None:
        assert "Recommended action" in text and "page.html" not in text  # no header or footer printed


def test_make_pdf_says_what_is_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match="no page to print at .*nothing.html"):
        print_pdf(tmp_path / "nothing.html")
    page = _page(tmp_path, "page.html", "<p>x</p>")
    with pytest.raises(RuntimeError, match="could not print .*page.html"):
        print_pdf(page, chromium="/bin/false")
    assert not (tmp_path / "page.pdf").exists()


def test_the_table_script_sorts_by_value_keeps_missing_last_and_filters(browser, tmp_path):
    # custseg's own table script on a table render.Table wrote: amounts sort by data-v, not by
    # their text ("CN¥900" after "CN¥10,000" as text), figures the page wrote as text by their
    # first number, a missing figure ("–") last either way round, text by the page's collation
    import pandas as pd

    from custseg import paths
    from custseg.studies import render

    frame = pd.DataFrame({
        "Name": ["b", "a", "C", "d"],
        "Amount": [900.0, 10000.0, None, 25.5],
        "Written": ["1,652 (42.4%)", "CN¥6,987,571", "–", "435 (11.2%)"],
    })
    table = render.Table(frame, "t", {"Amount": render.money("CNY")}, numeric=["Written"])._repr_html_()
    script = (paths.TEMPLATES_DIR / "custseg" / "tables.js").read_text(encoding="utf-8")
    page = _page(tmp_path, "table.html", f"{table}<script>{script}</script>")
    assert browser.check(page).problems == []

    def column(index: int) -> list[str]:
        return browser.evaluate(f"Array.from(document.querySelectorAll('tbody tr')).filter(r => !r.hidden)"
                                f".map(r => r.cells[{index}].textContent)")

    def sort(index: int) -> str:
        browser.click(f"thead th:nth-child({index + 1}) button")
        return browser.evaluate(f"document.querySelector('thead th:nth-child({index + 1})').getAttribute('aria-sort')")

    assert sort(1) == "ascending" and column(0) == ["d", "b", "a", "C"]
    assert sort(1) == "descending" and column(0) == ["a", "b", "d", "C"]
    assert sort(2) == "ascending" and column(0) == ["d", "b", "a", "C"]
    assert sort(2) == "descending" and column(0) == ["a", "b", "d", "C"]
    assert sort(0) == "ascending" and column(0) == ["a", "b", "C", "d"]
    # only the sorted head says so
    assert browser.evaluate("document.querySelectorAll('th[aria-sort]').length") == 1
    browser.focus("input.cs-filter")
    browser.type_text("CN¥")  # the rows whose text holds it
    assert column(0) == ["a", "b", "d"]
    assert browser.evaluate("document.querySelector('.cs-count').textContent") == "3 of 4 rows shown"
