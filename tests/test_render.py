import io

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
    assert out.startswith(box)
    assert out.endswith("</table></div>") and "<caption>Watch &lt;list&gt;</caption>" in out


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
