"""The browser check itself: headless Chromium catches external requests, failed requests,
script errors and images that do not render (the reports are checked in test_e2e.py).

Skipped, with a message, only where no Chromium is installed; with CUSTSEG_REQUIRE_BROWSER=1 (as
``.ci/run`` sets it) a missing Chromium fails instead, so CI can never skip this silently.
"""

from __future__ import annotations

import base64
from pathlib import Path

from support.browser import local_target

# a 1x1 transparent PNG
PIXEL = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=")


def _page(folder: Path, name: str, body: str) -> Path:
    path = folder / name
    page = f"<!doctype html><html><head><title>{name}</title></head><body>{body}</body></html>"
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
