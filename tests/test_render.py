import base64
import html
import io
import re

import pandas as pd
import pytest

from custseg.report.html import add_contents
from custseg.studies import render
from custseg.studies.plan import slugify, unique_slugs


@pytest.mark.parametrize(
    ("name", "slug"),
    [("East China", "east-china"), ("Hong Kong, Macao & Taiwan", "hong-kong-macao-taiwan"), ("../x", "x"),
     ("<script>alert(1)</script>", "script-alert-1-script"), ("Ünïcödé  Land", "unicode-land"),
     ("/etc/passwd", "etc-passwd")],
)
def test_slugify(name, slug):
    assert slugify(name) == slug


def test_slug_of_non_latin_name_is_stable_and_safe():
    slug = slugify("华东", fallback_prefix="region")
    assert slug.startswith("region-") and slug == slugify("华东", fallback_prefix="region")
    assert slug != slugify("华南", fallback_prefix="region")
    assert set(slug) <= set("abcdefghijklmnopqrstuvwxyz0123456789-")


def test_unique_slugs_for_names_that_slug_alike():
    assert unique_slugs(["A/B", "A B", "a-b"], "r") == {"A/B": "a-b", "A B": "a-b-2", "a-b": "a-b-3"}


def test_table_escapes_data_and_formats_numbers():
    frame = pd.DataFrame({"Region": ["<script>x</script>"], "Revenue": [1234567.4], "Share": [0.1234]})
    out = render.Table(frame, "T & <b>", {"Revenue": render.money("CNY"), "Share": render.percent})._repr_html_()
    assert "<script>" not in out and "&lt;script&gt;x&lt;/script&gt;" in out
    assert "CN¥1,234,567" in out and "12.3%" in out and "T &amp; &lt;b&gt;" in out


def test_chart_embeds_png_with_alt_text():
    fig = render.new_figure()
    ax = fig.subplots()
    ax.plot([1, 2], [3, 4])
    out = render.Chart(fig, "Title", 'Alt "quoted" <text>')._repr_html_()
    opening = '<figure class="cs-figure"><div class="cs-scroll cs-figure-box"><img src="data:image/png;base64,iVBOR'
    assert out.startswith(opening)
    assert 'alt="Alt &quot;quoted&quot; &lt;text&gt;"' in out
    # the image's own size, read back from the PNG with Pillow: the page reserves its box and
    # lets it shrink only so far on a narrow screen (custseg.css)
    from PIL import Image

    width, height = Image.open(io.BytesIO(render.Chart(fig, "Title", "alt").png())).size
    assert f'width="{width}" height="{height}" style="--cs-natural: {width}px"' in out
    assert width > 500  # a 7-inch figure at 110 dpi, cropped to its content


def test_png_size_refuses_what_is_not_a_png():
    with pytest.raises(ValueError, match="not a PNG"):
        render.png_size(b"GIF89a" + bytes(30))


def test_a_table_scrolls_in_a_box_named_by_its_caption():
    frame = pd.DataFrame({"A": [1], "B": ["x"]})
    out = render.Table(frame, "Watch <list>")._repr_html_()
    box = '<div class="cs-scroll cs-table-box" role="region" tabindex="0" aria-label="Watch &lt;list&gt;">'
    assert out.startswith('<div class="cs-table-block"') and box in out
    assert out.endswith("</table></div></div>") and "<caption>Watch &lt;list&gt;</caption>" in out


def _download(page: str) -> tuple[str, str]:
    """(file name, text) of the one CSV download link in a table's HTML."""
    found = re.findall(r'href="data:text/csv;charset=utf-8;base64,([^"]+)" download="([^"]+)"', page)
    assert len(found) == 1, found
    data, name = found[0]
    return html.unescape(name), base64.b64decode(data).decode("utf-8")


def test_number_cells_carry_their_value_for_sorting_and_the_csv_holds_the_data():
    # "£1,235" and "12.3%" are what a reader sees; the page sorts on data-v and the CSV holds the
    # numbers themselves, Chinese text as UTF-8 behind a byte-order mark (Excel reads it right)
    frame = pd.DataFrame({"地区": ["华东", "North, \"West\"", "South"], "Revenue": [1234.6, None, 98.0],
                          "Share": [0.1234, 0.5, 0.25], "Count": pd.array([1200, 3, None], dtype="Int64")})
    formats = {"Revenue": render.money("GBP"), "Share": render.percent, "Count": render.integer}
    table = render.Table(frame, "收入 by region: <top>", formats)
    page = table._repr_html_()
    assert '<td class="num" data-v="1234.6">£1,235</td>' in page
    assert '<td class="num" data-v="0.1234">12.3%</td>' in page
    assert '<td class="num" data-v="1200.0">1,200</td>' in page
    assert '<td class="num">–</td>' in page  # a missing figure has no value to sort on (it goes last)
    assert "data-v" not in page.split("<td")[1]  # text cells sort on their text
    name, text = _download(page)
    assert name == "收入-by-region-top.csv"
    assert text.startswith("\ufeff") and "\r\n" in text
    back = pd.read_csv(io.StringIO(text[1:]), dtype={"Count": "Int64"})
    pd.testing.assert_frame_equal(back, frame, check_dtype=False)
    assert "Download CSV (3 rows)" in page


def test_the_download_can_hold_more_rows_than_the_table_shows():
    everyone = pd.DataFrame({"Rank": range(1, 41), "Customer": [f"C{n:03d}" for n in range(1, 41)]})
    page = render.Table(everyone.head(5), "Top five", download=everyone)._repr_html_()
    assert page.count("<tr>") == 6  # the head and five rows
    _, text = _download(page)
    assert pd.read_csv(io.StringIO(text[1:])).equals(everyone)
    assert "Download CSV (40 rows)" in page


def test_table_words_are_in_the_page_language():
    from custseg import i18n

    with i18n.language("zh"):
        page = render.Table(pd.DataFrame({"A": [1, 2]}), "表")._repr_html_()
    assert 'data-filter-label="筛选行"' in page and "下载 CSV（2 行）" in page


def test_chart_png_bytes_are_reproducible():
    def make():
        fig = render.new_figure()
        fig.subplots().bar(["a", "b"], [1, 2])
        return render.Chart(fig, "t", "a").png()

    assert make() == make()


def test_links_and_sections_escape():
    links = render.Links([("regions/x.html", "<b>X</b>", "3 customers")], "Regions")._repr_html_()
    assert 'href="regions/x.html"' in links and "&lt;b&gt;X&lt;/b&gt;" in links
    section = render.Section("H <1>", "lead & more", render.Notice("n"))._repr_html_()
    assert "<h2>H &lt;1&gt;</h2>" in section and "lead &amp; more" in section


def test_contents_link_every_section_in_order():
    heading = render.Heading("Region <East>", "sub")._repr_html_()
    sections = "".join(
        render.Section(f"Part {n} & more", "lead", render.Notice("x"))._repr_html_() for n in range(1, 5)
    )
    page = f"<html><body>{heading}<div>{sections}</div></body></html>"
    out = add_contents(page)
    assert out.count('<nav class="cs-toc"') == 1
    # under the title and subtitle, before the first section
    assert out.index('<p class="cs-subtitle">') < out.index("cs-toc") < out.index('id="section-1"')
    for n in range(1, 5):
        assert f'<li><a href="#section-{n}">Part {n} &amp; more</a></li>' in out
        assert f'<section class="cs-section" id="section-{n}"><h2>Part {n} &amp; more</h2>' in out
    assert "Region &lt;East&gt;" in out  # escaping kept


def test_short_page_gets_no_contents():
    page = render.Heading("T")._repr_html_() + render.Section("Only", "", render.Notice("x"))._repr_html_()
    assert add_contents(page) == page
