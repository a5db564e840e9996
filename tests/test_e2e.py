"""End to end: a tiny generated sample -> pipeline -> every report, in a temporary folder."""

from __future__ import annotations

import csv
import io
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import custseg
from custseg import i18n, processed
from custseg.config import load_config
from custseg.pipeline import run
from custseg.report.build import build_reports, expected_pages
from custseg.sample.generator import SampleSpec, generate_sample, write_sample
from custseg.studies.plan import plan_studies
from support.browser import local_target, pdf_pages, pdf_text

pytestmark = pytest.mark.e2e


class PageParser(HTMLParser):
    """Collects what a page links to and loads, the classes its elements carry and its visible
    text (style sheets and scripts left out, so a CSS rule never passes for content)."""

    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.sources: list[str] = []
        self.images: list[dict] = []
        self.classes: set[str] = set()
        self.tables = 0
        self.rows: list[list[str]] = []  # text of the cells of every table row
        self.text: list[str] = []
        self._hidden = 0
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.hrefs.append(attrs["href"])
        if tag in {"script", "img", "iframe", "link"} and (attrs.get("src") or attrs.get("href")):
            self.sources.append(attrs.get("src") or attrs.get("href"))
        if tag == "img":
            self.images.append(attrs)
        if tag == "table":
            self.tables += 1
        if tag == "tr":
            self.rows.append([])
        if tag in {"td", "th"}:
            self._cell = []
        self.classes.update((attrs.get("class") or "").split())
        if tag in {"style", "script"}:
            self._hidden += 1

    def handle_endtag(self, tag):
        if tag in {"style", "script"}:
            self._hidden -= 1
        if tag in {"td", "th"} and self._cell is not None:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        if not self._hidden:
            self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)


def parse(page: Path) -> PageParser:
    parser = PageParser()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Build all reports once for the module; return the config and the two build results."""
    root = tmp_path_factory.mktemp("e2e")
    write_sample(generate_sample(SampleSpec(n_customers=400, seed=7)), root / "raw")
    # Rows intake must quarantine (the sample has none): markup as a value, an empty id, and a
    # second row for a customer id carrying an e-mail address.
    _append(root / "raw" / "orders.csv", [
        {"order_id": "OBAD1", "customer_id": "C000001", "order_date": "2024-05-01",
         "amount": "<script>alert(1)</script>"},
        {"order_id": "OBAD2", "customer_id": "", "order_date": "2024-05-01", "amount": "10.00"},
    ])
    duplicate = {"customer_id": "C000001", "customer_name": "Dup", "email": "dup@example.com"}
    _append(root / "raw" / "customers.csv", [duplicate])
    # A custom market puts two small countries together, small enough to trip min_customers.
    config_path = root / "study.yaml"
    config_path.write_text(yaml.safe_dump({
        "study": {"name": "e2e", "title": "E2E Co.", "other_languages": ["zh"]},
        "inputs": {name: f"raw/{name}.csv" for name in ("orders", "customers", "interactions", "feedback")},
        "currency": yaml.safe_load(Path("config/sample.yaml").read_text(encoding="utf-8"))["currency"],
        "output": {key: f"out/{key}" for key in ("interim", "processed", "reports", "build", "exports")},
        "regions": {"custom_markets": {"Nordics & Benelux": ["SWE", "NLD"]}},
        "studies": {"min_customers": 12, "workers": 2, "by": ["customer_type", "frequency"]},
        # a titled group, and a numeric studies.by column banded: their pages are crawled below too
        "demographics": {"bands": {"frequency": [2, 5, 10]}},
        "groups": {"b2b_high": {"filter": "customer_type == 'B2B' and tier == 'high'", "title": "High-value B2B",
                                "title_zh": "高价值企业客户"}},
    }), encoding="utf-8")
    config = load_config(config_path)
    run(config, echo=lambda *_: None)
    first = build_reports(config, echo=lambda *_: None, progress=False)
    second = build_reports(config, echo=lambda *_: None, progress=False)
    return config, first, second


def _append(path: Path, rows: list[dict]) -> None:
    with open(path, encoding="utf-8", newline="") as handle:
        header = next(csv.reader(handle))
    with open(path, "a", encoding="utf-8", newline="") as handle:
        csv.DictWriter(handle, header, lineterminator="\n").writerows(rows)


def test_every_expected_report_is_built(built):
    config, first, _ = built
    assert first.failed == {}
    pages = expected_pages(config)
    assert all(page.is_file() for page in pages)
    reports = config.output.reports
    assert (reports / "index.html") in pages and (reports / "quality.html") in pages
    assert len(list((reports / "regions").glob("*.html"))) >= 5
    assert len(list((reports / "tiers").glob("*.html"))) == 3
    # the group's page, and each studies.by attribute's comparison page beside its values' pages
    assert (reports / "groups" / "b2b-high.html") in pages and (reports / "zh" / "groups" / "b2b-high.html") in pages
    for folder in ("customer-type", "frequency"):
        assert (reports / "by" / folder / "index.html") in pages and len(list((reports / "by" / folder).glob("*"))) > 2


def test_regions_come_from_the_data(built):
    config, _, _ = built
    data = processed.load(config)
    planned = {job.key for job in plan_studies(data, config) if job.kind == "region"}
    assert planned == set(data.customers["region"].unique())
    assert "Nordics & Benelux" in planned


def test_links_resolve_and_pages_are_self_contained(built):
    config, _, _ = built
    for page in expected_pages(config):
        parser = parse(page)
        text = " ".join(parser.text)
        for href in parser.hrefs:
            if href.startswith("#") or href.startswith("data:text/csv;"):  # a table's CSV download
                continue
            assert not re.match(r"[a-z]+:", href), f"{page.name} links outside: {href}"
            target, _, anchor = href.partition("#")  # a place on another page: the page, and the place on it
            assert (page.parent / target).resolve().is_file(), f"{page.name}: broken link {href}"
            if anchor:
                assert f'id="{anchor}"' in (page.parent / target).read_text(encoding="utf-8"), f"{page.name}: {href}"
        for src in parser.sources:
            assert src.startswith("data:"), f"{page.name} loads {src}"
        for image in parser.images:
            assert image.get("alt"), f"{page.name} has an image without alt text"
        # no code leaked: no code editor or prompt (markdown cells also sit in an input area,
        # so that class alone proves nothing), no error output, no traceback
        leaked = {"jp-InputPrompt", "jp-CodeMirrorEditor", "highlight", "jp-OutputArea-error"}
        assert not leaked & parser.classes, f"{page.name}: {leaked & parser.classes}"
        assert "import custseg" not in text and "from custseg" not in text
        assert "Traceback" not in text
        assert f"custseg {custseg.__version__}" in text and "cs-footer" in parser.classes


def test_index_links_every_study_and_studies_link_back(built):
    config, _, _ = built
    reports = config.output.reports
    parser = PageParser()
    parser.feed((reports / "index.html").read_text(encoding="utf-8"))
    linked = {(reports / href).resolve() for href in parser.hrefs}
    studies = set(reports.glob("regions/*.html")) | set(reports.glob("tiers/*.html"))
    assert {p.resolve() for p in studies} <= linked
    for page in studies:
        assert 'href="../index.html"' in page.read_text(encoding="utf-8")
    assert (reports / "quality.html").resolve() in linked
    assert 'href="index.html"' in (reports / "quality.html").read_text(encoding="utf-8")


def test_quality_page_shows_the_accounting_and_the_quarantine_safely(built):
    config, _, _ = built
    page = (config.output.reports / "quality.html").read_text(encoding="utf-8")
    parser = parse(config.output.reports / "quality.html")
    text = " ".join(parser.text)
    accounting = pd.read_csv(config.output.interim / "accounting.csv", dtype=str, keep_default_na=False)
    shown = {row[1]: row for row in parser.rows if len(row) >= 7}  # file -> cells of the accounting table
    for record in accounting.to_dict("records"):
        counts = [f"{int(record[c]):,}" for c in ("rows_read", "clean", "quarantined", "duplicates_removed")]
        assert shown[record["file"]][:6] == [record["table"], record["file"], *counts]
    orders = accounting.set_index("table").loc["orders"]
    assert int(orders["quarantined"]) >= 2
    assert "✓ The numbers add up" in text
    assert "missing_id" in text and "bad_number" in text  # reasons with their examples
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page
    assert "@example.com" not in page
    assert "Raw spellings and where they went" in text and "Rows per month, by table" in text


def test_small_region_says_so_instead_of_empty_charts(built):
    config, _, _ = built
    data = processed.load(config)
    buyers = data.customers.loc[data.customers["frequency"] > 0].groupby("region").size()
    small = [region for region, n in buyers.items() if n < config.studies.min_customers]
    assert small, "the fixture should produce at least one small region"
    job = next(j for j in plan_studies(data, config) if j.key == small[0])
    parser = parse(config.output.reports / job.href)
    assert "fewer than the 12 this study needs" in " ".join(parser.text)
    assert parser.images == [] and parser.tables == 0


def test_second_build_runs_no_notebook(built):
    _, first, second = built
    assert second.built == [] and second.failed == {}
    assert sorted(second.skipped) == sorted(first.built)


def test_processed_data_holds_no_personal_data_and_one_row_per_customer(built):
    config, _, _ = built
    customers = pd.read_parquet(config.output.processed / "customers.parquet")
    assert customers["customer_id"].is_unique
    assert not {"customer_name", "email", "phone"} & set(customers.columns)
    for page in expected_pages(config):
        assert "@example.com" not in page.read_text(encoding="utf-8")


def test_every_report_loads_cleanly_in_a_browser(browser, built):
    # Headless Chromium opens the index as a reader would (file://) and follows every link, to
    # the pages of both languages: no request leaves the disk, none fails, no script error,
    # every image renders, and every page links back to the overview of its language.
    config, _, _ = built
    reports = config.output.reports
    shots = config.output.build / "screenshots"
    index = (reports / "index.html").resolve()
    # screenshots of both overviews and of the largest region's study in both languages
    largest = next(job.href for job in plan_studies(processed.load(config), config, "en") if job.kind == "region")
    shots_of = {
        index: "index.png", (reports / "zh" / "index.html").resolve(): "index-zh.png",
        (reports / largest).resolve(): "region.png", (reports / "zh" / largest).resolve(): "region-zh.png",
    }
    seen: dict[Path, object] = {}
    queue = [index]
    while queue:
        page = queue.pop()
        if page in seen:
            continue
        shot = shots_of.get(page)
        checked = browser.check(page, shots / shot if shot else None)
        assert checked.problems == [], (page.name, checked.problems)
        seen[page] = checked
        targets = {target.resolve() for target in map(local_target, checked.links) if target is not None}
        queue += sorted(targets - set(seen))
    assert {page.resolve() for page in expected_pages(config)} <= set(seen)
    for page, checked in seen.items():
        home = (reports / "zh" / "index.html" if (reports / "zh") in page.parents else reports / "index.html").resolve()
        assert page == home or any((local_target(link) or Path()).resolve() == home for link in checked.links), page
    for shot in ("index.png", "region.png", "index-zh.png", "region-zh.png"):
        assert (shots / shot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


#: Where the browser test leaves a screenshot at each width and a PDF of every kind of page, for
#: the CI run to keep (build/ is not committed).
ARTIFACTS = Path(__file__).resolve().parents[1] / "build" / "browser"
#: A phone's width in CSS pixels (an iPhone 12 to 15), and a desktop window's.
PHONE, DESKTOP = 390, 1280


def test_every_kind_of_page_fits_a_phone_and_prints_on_a4(browser, built, capsys):
    # One page of each kind (overview, quality, churn, region, tier, ...) in each language: at a
    # phone's width nothing scrolls the page sideways and no box but the theme's scroll boxes
    # scrolls (a table or chart wider than the screen scrolls in its own box, a chart shrinks to
    # no less than 70% of its size); printed on A4, every table's columns are on the paper.
    config, _, _ = built
    reports = config.output.reports
    data = processed.load(config)
    pages: dict[str, Path] = {}
    for language in config.study.languages:
        folder = reports if language == config.study.language else reports / language
        for job in plan_studies(data, config, language):
            pages.setdefault(f"{job.kind}-{language}", folder / job.href)
    assert {"overview-en", "churn-en", "quality-en", "region-en", "tier-en", "churn-zh"} <= set(pages)
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    printed: dict[str, Path] = {}
    for name, page in sorted(pages.items()):
        with browser.viewport(DESKTOP, 900):
            browser.open(page)
            browser.screenshot(ARTIFACTS / f"{name}-{DESKTOP}.png")
        with browser.viewport(PHONE, 844, mobile=True):
            browser.open(page)
            phone = browser.layout()
            browser.screenshot(ARTIFACTS / f"{name}-{PHONE}.png")
        assert phone.overflow == 0 and phone.stray == [], (name, phone.scroll_width, phone.stray)
        assert phone.smallest_image_scale >= 0.69, (name, phone.images)
        browser.open(page)
        printed[name] = browser.pdf(ARTIFACTS / f"{name}.pdf")
        assert pdf_pages(printed[name].read_bytes()) >= 1, name
        assert browser.print_layout() == {"clipped": [], "scrolling": 0}, name
    for name in pages:
        for shot in (f"{name}-{DESKTOP}.png", f"{name}-{PHONE}.png"):
            assert (ARTIFACTS / shot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", shot
    # The churn page's watch list keeps its last column, the recommended action, on paper, its head
    # not cut mid-word: in the PDF's own text where poppler's pdftotext is installed (.ci/run
    # installs it); the print-media check above found no clipped table either way.
    for language in config.study.languages:
        text = pdf_text(printed[f"churn-{language}"])
        if text is not None:
            with i18n.language(language):
                header = i18n._("Recommended action")
            # wrapped between its words at most (a word cut in two fails); Chinese may wrap anywhere
            gap = "" if language == "zh" else " "
            assert re.sub(r"\s+", gap, header) in re.sub(r"\s+", gap, text), language
    with capsys.disabled():
        print(f"\nbrowser: screenshots ({DESKTOP} and {PHONE} px) and PDFs of {len(pages)} pages in {ARTIFACTS}")


CJK = re.compile(r"[\u4e00-\u9fff]")


def test_chinese_pages_are_chinese_and_link_to_their_english_twins(built):
    config, first, _ = built
    reports = config.output.reports
    assert any(href.startswith("zh/") for href in first.built)
    english, chinese = parse(reports / "index.html"), parse(reports / "zh" / "index.html")
    assert '<html lang="zh-CN">' in (reports / "zh" / "index.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in (reports / "index.html").read_text(encoding="utf-8")
    assert "zh/index.html" in english.hrefs and "../index.html" in chinese.hrefs
    region = next(iter(sorted((reports / "regions").glob("*.html"))))
    twin = reports / "zh" / "regions" / region.name
    assert twin.is_file()
    assert f"../zh/regions/{region.name}" in parse(region).hrefs
    assert f"../../regions/{region.name}" in parse(twin).hrefs
    for page in [reports / "zh" / "index.html", twin]:
        text = " ".join(parse(page).text)
        headings = re.findall(r'<section class="cs-section"[^>]*><h2>(.*?)</h2>', page.read_text(encoding="utf-8"))
        assert headings and all(CJK.search(h) for h in headings), headings
        heads = [cell for row in parse(page).rows for cell in row[:1]]
        assert heads and sum(bool(CJK.search(h)) for h in heads) > len(heads) / 2
        assert "Whole base" not in text and "Customers with purchases" not in text
    # an English page that quotes Chinese (RFM 八类客户, a province's name) carries those glyphs, so a
    # machine with no Chinese font shows them instead of boxes; one without Chinese carries no font
    for page in sorted(p for p in reports.rglob("*.html") if "zh" not in p.relative_to(reports).parts):
        html = page.read_text(encoding="utf-8")
        assert ("@font-face" in html) == bool(CJK.search(html)), page
    # the same figures in both languages: the customer count of the headline table
    count = lambda parser: next(row[1] for row in parser.rows if len(row) > 1 and re.fullmatch(r"[\d,]+", row[1]))  # noqa: E731
    assert count(english) == count(chinese)


#: The state of the table marked data-test="t": its heads with their sort order, and the rows a
#: reader sees (not hidden by the filter), each as its cells' text and data-v values.
_TABLE_STATE = """(() => { const b = document.querySelector('[data-test=t]');
  return {heads: Array.from(b.querySelectorAll('thead th')).map(h => [h.textContent, h.getAttribute('aria-sort')]),
          rows: Array.from(b.querySelectorAll('tbody tr')).filter(r => !r.hidden).map(r => Array.from(r.cells).map(
            c => [c.textContent, c.getAttribute('data-v') === null ? null : parseFloat(c.getAttribute('data-v'))])),
          count: (b.querySelector('.cs-count') || {}).textContent || '',
          filter: !!b.querySelector('input.cs-filter'), href: b.querySelector('a.cs-download').href}; })()"""


def _mark_table(browser, caption_start: str) -> None:
    """Mark the table block whose caption starts with `caption_start` as data-test="t"."""
    found = browser.evaluate(f"""(() => {{ const b = Array.from(document.querySelectorAll('.cs-table-block')).find(
        b => b.querySelector('caption').textContent.startsWith({caption_start!r}));
        if (b) b.setAttribute('data-test', 't'); return !!b; }})()""")
    assert found, caption_start


def _downloaded(browser) -> pd.DataFrame:
    """The marked table's CSV download, read through the page (fetch of its data: link), as pandas reads it."""
    text = browser.evaluate("fetch(document.querySelector('[data-test=t] a.cs-download').href).then(r => r.text())")
    raw = browser.evaluate("fetch(document.querySelector('[data-test=t] a.cs-download').href)"
                           ".then(r => r.arrayBuffer()).then(b => Array.from(new Uint8Array(b).slice(0, 3)))")
    assert raw == [0xEF, 0xBB, 0xBF]  # UTF-8's byte-order mark: Excel reads the Chinese right
    return pd.read_csv(io.StringIO(text.lstrip("\ufeff")), dtype={"Customer": str})


def test_tables_sort_filter_and_download_in_the_browser(browser, built, tmp_path):
    # The largest region's watch list, as a reader uses it: a click on a head sorts by the figures
    # behind the formatted cells ("CN¥1,234"), a second click reverses, Enter on a focused head sorts
    # too; the filter box hides the rows that do not match; "Download CSV" gives the region's whole
    # list, computed here again from the processed tables with pandas.
    config, _, _ = built
    reports = config.output.reports
    data = processed.load(config)
    job = next(job for job in plan_studies(data, config, "en") if job.kind == "region")
    customers = pd.read_parquet(config.output.processed / "customers.parquet")
    watch = pd.read_parquet(config.output.processed / "watch_list.parquet").sort_values("rank")
    mine = watch.loc[watch["customer_id"].isin(customers.loc[customers["region"] == job.key, "customer_id"])]
    top = mine.head(10)
    assert len(mine) > len(top) >= 3, "the fixture's largest region should have a longer watch list than shown"
    page = reports / job.href
    checked = browser.check(page)
    assert checked.problems == []
    _mark_table(browser, "Top of the watch list in")
    state = browser.evaluate(_TABLE_STATE)
    heads = [text for text, _ in state["heads"]]
    column = {name: heads.index(name) for name in ("Rank", "Customer", "Value at risk", "Churn probability")}
    ids = lambda state: [row[column["Customer"]][0] for row in state["rows"]]  # noqa: E731
    assert ids(state) == top["customer_id"].tolist() and state["filter"]

    risk = column["Value at risk"]
    browser.click(f"[data-test=t] thead th:nth-child({risk + 1}) button")
    state = browser.evaluate(_TABLE_STATE)
    assert state["heads"][risk][1] == "ascending"
    assert ids(state) == top.sort_values("value_at_risk", kind="stable")["customer_id"].tolist()
    assert all(row[risk][1] is not None for row in state["rows"])
    assert not re.fullmatch(r"[\d.,]+", state["rows"][0][risk][0])  # a formatted amount, sorted by its value
    browser.click(f"[data-test=t] thead th:nth-child({risk + 1}) button")
    state = browser.evaluate(_TABLE_STATE)
    assert state["heads"][risk][1] == "descending"
    assert ids(state) == top.sort_values("value_at_risk", ascending=False, kind="stable")["customer_id"].tolist()
    # the keyboard: Enter on the focused "Churn probability" head
    probability = column["Churn probability"]
    browser.focus(f"[data-test=t] thead th:nth-child({probability + 1}) button")
    browser.press("Enter")
    state = browser.evaluate(_TABLE_STATE)
    assert [h[1] for h in state["heads"]].count(None) == len(heads) - 1
    assert state["heads"][probability][1] == "ascending"
    assert ids(state) == top.sort_values("churn_probability", kind="stable")["customer_id"].tolist()

    # the filter: one customer's id leaves that row; a word no row holds leaves none
    wanted = top["customer_id"].iloc[2]
    browser.focus("[data-test=t] input.cs-filter")
    browser.type_text(wanted)
    state = browser.evaluate(_TABLE_STATE)
    assert ids(state) == [wanted] and state["count"] == f"1 of {len(top)} rows shown"
    browser.type_text(" nothing-matches-this")
    assert browser.evaluate(_TABLE_STATE)["rows"] == []

    # the download: the region's whole watch list, not only the rows shown
    csv = _downloaded(browser)
    assert state["href"].startswith("data:text/csv")
    assert csv["Customer"].tolist() == mine["customer_id"].tolist()
    assert csv["Rank"].tolist() == mine["rank"].tolist()
    assert np.allclose(csv["Value at risk"], mine["value_at_risk"], equal_nan=True)
    assert np.allclose(csv["Churn probability"], mine["churn_probability"], equal_nan=True)

    # a table of the overview: its CSV holds what the page shows, the figures unformatted
    browser.open(reports / "index.html")
    heads = browser.evaluate("Array.from(document.querySelectorAll('.cs-table-block caption')).map(c => c.textContent)")
    assert heads, "the overview has tables"
    _mark_table(browser, heads[0])
    shown = browser.evaluate(_TABLE_STATE)
    csv = _downloaded(browser)
    assert len(csv) == len(shown["rows"]) and list(csv.columns) == [text for text, _ in shown["heads"]]
    for row, (_, record) in zip(shown["rows"], csv.iterrows()):
        for (text, value), cell in zip(row, record):
            assert (value is None) or np.isclose(value, float(cell)), (text, value, cell)

    # the reports folder copied elsewhere (as a reader gets it, zipped or on a share): still
    # self-contained, and the tables still sort
    copy = tmp_path / "copied"
    shutil.copytree(reports, copy)
    checked = browser.check(copy / job.href)
    assert checked.problems == [] and all(url.startswith(copy.as_uri()) or not url.startswith("file:")
                                          for url in checked.requests)
    _mark_table(browser, "Top of the watch list in")
    browser.click(f"[data-test=t] thead th:nth-child({risk + 1}) button")
    assert browser.evaluate(_TABLE_STATE)["heads"][risk][1] == "ascending"
