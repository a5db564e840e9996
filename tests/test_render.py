import pandas as pd
import pytest

from custseg import render
from custseg.reports import _unique_slugs, slugify


@pytest.mark.parametrize(
    ("name", "slug"),
    [("East China", "east-china"), ("Hong Kong, Macao & Taiwan", "hong-kong-macao-taiwan"), ("../x", "x"),
     ("<script>alert(1)</script>", "script-alert-1-script"), ("Ünïcödé  Land", "unicode-land"), ("/etc/passwd", "etc-passwd")],
)
def test_slugify(name, slug):
    assert slugify(name) == slug


def test_slug_of_non_latin_name_is_stable_and_safe():
    slug = slugify("华东", fallback_prefix="region")
    assert slug.startswith("region-") and slug == slugify("华东", fallback_prefix="region")
    assert slug != slugify("华南", fallback_prefix="region")
    assert set(slug) <= set("abcdefghijklmnopqrstuvwxyz0123456789-")


def test_unique_slugs_for_names_that_slug_alike():
    assert _unique_slugs(["A/B", "A B", "a-b"], "r") == {"A/B": "a-b", "A B": "a-b-2", "a-b": "a-b-3"}


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
    assert out.startswith('<figure class="cs-figure"><img src="data:image/png;base64,iVBOR')
    assert 'alt="Alt &quot;quoted&quot; &lt;text&gt;"' in out


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
