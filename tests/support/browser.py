"""Open the reports in headless Chromium and check what a reader would see.

Each page is loaded the way a stakeholder opens it (a ``file://`` URL, no server), and the browser
reports every request, failure, script error and image. A page passes when every request stayed on
the local disk or in the page itself (``file:``, ``data:``, ``about:``), none failed, no script
threw or logged an error, and every image decoded to a picture with a size.

Chromium is driven over the DevTools protocol through a pipe (``--remote-debugging-pipe``: JSON
messages separated by NUL bytes on file descriptors 3 and 4), which needs no WebSocket client and
no network port. Chromium itself comes from the system (Debian's ``chromium`` package; ``.ci/run``
installs it).

The same tab also renders a page the way other readers get it: at a phone's width
(:meth:`Chromium.set_viewport`, with :meth:`Chromium.layout` saying whether the page scrolls
sideways and how far its images shrank), on paper (:meth:`Chromium.pdf`, A4) and under print media
(:meth:`Chromium.print_layout`: which tables are wider than the printed column).
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import re
import select
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

# the package's own lookup, which `make pdf` uses: the tests find the same browser
from custseg.report.pdf import CHROMIUM_NAMES, find_chromium

#: URL schemes a self-contained page may load from.
LOCAL_SCHEMES = ("file", "data", "about", "blob")

_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--disable-extensions", "--mute-audio", "--hide-scrollbars",
    "--remote-debugging-pipe",
)
# What the page reports about its images and links once loaded.
_INSPECT = """JSON.stringify({
  images: Array.from(document.images).map(i => ({src: i.currentSrc.slice(0, 80), alt: i.alt,
                                                 complete: i.complete, width: i.naturalWidth})),
  links: Array.from(document.querySelectorAll('a[href]')).map(a => a.href),
  title: document.title
})"""
# How the page fits its viewport: the document's width against the window's (wider means the
# reader scrolls the whole page sideways), the boxes that scroll sideways other than the theme's
# own scroll boxes (a whole section scrolling, heading and all), and each image's drawn width
# against its own (a chart drawn at half its width has its text at half size).
_LAYOUT = """JSON.stringify({
  viewport: window.innerWidth,
  scroll_width: document.documentElement.scrollWidth,
  images: Array.from(document.images).filter(i => i.naturalWidth > 0).map(i => ({
    alt: i.alt, natural: i.naturalWidth, drawn: i.getBoundingClientRect().width})),
  stray: Array.from(document.querySelectorAll('body *')).filter(e => !e.classList.contains('cs-scroll')
      && ['auto', 'scroll'].includes(getComputedStyle(e).overflowX) && e.scrollWidth > e.clientWidth + 1).map(
    e => e.tagName.toLowerCase() + '.' + Array.from(e.classList).slice(0, 2).join('.')),
  tables: Array.from(document.querySelectorAll('table')).map(t => ({
    caption: t.caption ? t.caption.textContent.slice(0, 60) : '',
    width: t.getBoundingClientRect().width,
    box: (t.closest('.cs-scroll') || t.parentElement).getBoundingClientRect().width}))
})"""
# Under print media: the tables with a cell past the printed column's right edge (the page's, or
# its main column's where a box cuts what overflows it) or with content spilling out of its cell
# (a clipped column), and any box that would still scroll on paper.
_PRINT_LAYOUT = """JSON.stringify((edge => ({
  clipped: Array.from(document.querySelectorAll('table')).filter(t => Array.from(t.querySelectorAll('th, td')).some(
      c => c.getBoundingClientRect().right > edge + 1 || c.scrollWidth > c.clientWidth + 1)).map(
    t => (t.caption ? t.caption.textContent : '').slice(0, 60)),
  scrolling: Array.from(document.querySelectorAll('.cs-scroll')).filter(
    b => getComputedStyle(b).overflowX !== 'visible' && b.scrollWidth > b.clientWidth + 1).length
}))(Math.min(document.documentElement.clientWidth,
             (document.querySelector('main') || document.body).getBoundingClientRect().right)))"""
#: A4 in inches, as Page.printToPDF takes it.
A4 = (8.27, 11.69)


@dataclass
class Layout:
    """How a page fits the viewport it was drawn in (see :meth:`Chromium.layout`)."""

    viewport: int
    scroll_width: int
    images: list[dict]
    tables: list[dict]
    stray: list[str]  # boxes scrolling sideways that are not a .cs-scroll box, as tag.class

    @property
    def overflow(self) -> int:
        """Pixels the page is wider than its viewport: 0 when nothing scrolls the page sideways."""
        return max(0, self.scroll_width - self.viewport)

    @property
    def smallest_image_scale(self) -> float:
        """The drawn / natural width of the most shrunk image (1.0 with no image)."""
        return min((image["drawn"] / image["natural"] for image in self.images), default=1.0)


@dataclass
class PageCheck:
    """What the browser saw while loading one page."""

    url: str
    title: str = ""
    requests: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # "url: reason"
    errors: list[str] = field(default_factory=list)  # script exceptions and console / log errors
    images: list[dict] = field(default_factory=list)
    links: list[str] = field(default_factory=list)

    @property
    def external(self) -> list[str]:
        """Requests that left the machine (any scheme but file:, data:, about:, blob:)."""
        return [url for url in self.requests if urlparse(url).scheme not in LOCAL_SCHEMES]

    @property
    def broken_images(self) -> list[dict]:
        return [image for image in self.images if not image["complete"] or image["width"] == 0]

    @property
    def problems(self) -> list[str]:
        """Every reason the page fails, in words; empty when it passes."""
        found = [f"external request {url}" for url in self.external]
        found += [f"failed request {text}" for text in self.failed]
        found += [f"script error {text}" for text in self.errors]
        found += [f"image not rendered {image['src']!r} (alt {image['alt']!r})" for image in self.broken_images]
        return found


class Chromium:
    """A headless Chromium with one tab, driven over the DevTools pipe. Use as a context manager."""

    def __init__(self, executable: str | None = None, *, width: int = 1280, height: int = 900, timeout: float = 30.0):
        executable = executable or find_chromium()
        if executable is None:
            raise FileNotFoundError(f"no Chromium found (looked for {', '.join(CHROMIUM_NAMES)} on PATH)")
        self.timeout, self.executable = timeout, executable
        self._profile = tempfile.TemporaryDirectory(prefix="custseg-chromium-")
        commands_read, self._commands = os.pipe()
        self._replies, replies_write = os.pipe()

        def on_fds_3_and_4() -> None:  # runs in the child before exec: Chromium's pipe ends
            # Via descriptors above 10 first: either end may itself be 3 or 4, and dup2 onto
            # itself would keep the close-on-exec flag.
            high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (commands_read, replies_write)]
            for target, fd in zip((3, 4), high):
                os.dup2(fd, target, inheritable=True)

        self._process = subprocess.Popen(
            [
                executable,
                *_FLAGS,
                f"--user-data-dir={self._profile.name}",
                f"--window-size={width},{height}",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            # close_fds=False: the child keeps only inheritable descriptors, which Python's own
            # are not; the two dup2'ed ones are.
            preexec_fn=on_fds_3_and_4,
            close_fds=False,
        )
        os.close(commands_read)
        os.close(replies_write)
        self._buffer = b""
        self._next_id = 0
        self._width: int | None = None  # the emulated viewport's width, when one is set
        self._events: list[dict] = []
        target = self._call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self._session = self._call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Network", "Runtime", "Log"):
            self._call(f"{domain}.enable", session=True)

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Quit the browser and remove its profile folder."""
        try:
            if self._process.poll() is None:
                self._send("Browser.close", {})
                self._process.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self._process.kill()
            self._process.wait()
        finally:
            for fd in (self._commands, self._replies):
                try:
                    os.close(fd)
                except OSError:  # already closed by an earlier close()
                    pass
            self._profile.cleanup()

    def check(self, path: Path, screenshot: Path | None = None) -> PageCheck:
        """Load a local HTML file and report what happened; optionally save a full-page screenshot."""
        url = Path(path).resolve().as_uri()
        self.open(path)
        inspected = self._evaluate(_INSPECT)
        result = PageCheck(url=url, title=inspected["title"], images=inspected["images"], links=inspected["links"])
        requested: dict[str, str] = {}
        for event in self._events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Network.requestWillBeSent":
                requested[params["requestId"]] = params["request"]["url"]
                result.requests.append(params["request"]["url"])
            elif method == "Network.loadingFailed":
                result.failed.append(f"{requested.get(params['requestId'], '?')}: {params.get('errorText', '')}")
            elif method == "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                result.errors.append(details.get("exception", {}).get("description") or details.get("text", ""))
            elif method == "Runtime.consoleAPICalled" and params.get("type") == "error":
                values = (str(arg.get("value", arg.get("description", ""))) for arg in params["args"])
                result.errors.append(" ".join(values))
            elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
                result.errors.append(params["entry"]["text"])
        if screenshot is not None:
            self.screenshot(screenshot, full_page=True)
        return result

    def open(self, path: Path) -> None:
        """Load a local HTML file and wait for it (no checks; see :meth:`check`)."""
        self._events.clear()
        self._call("Page.navigate", {"url": Path(path).resolve().as_uri()}, session=True)
        self._wait_for("Page.loadEventFired")

    def set_viewport(self, width: int, height: int = 900, *, mobile: bool = False) -> None:
        """Draw the following pages `width` CSS pixels wide, as a phone (`mobile`: the page's
        viewport meta counts, as on a phone) or a desktop window would."""
        self._call("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile,
        }, session=True)
        self._width = width

    def clear_viewport(self) -> None:
        """The browser's own window size again."""
        self._call("Emulation.clearDeviceMetricsOverride", session=True)
        self._width = None

    @contextmanager
    def viewport(self, width: int, height: int = 900, *, mobile: bool = False) -> Iterator[Chromium]:
        """:meth:`set_viewport` for a block; the browser's own window size again after it."""
        self.set_viewport(width, height, mobile=mobile)
        try:
            yield self
        finally:
            self.clear_viewport()

    def layout(self) -> Layout:
        """How the open page fits the viewport (the width :meth:`set_viewport` set: a phone widens
        its layout viewport to a page that overflows, and zooms out, so the window's own width
        would hide the overflow)."""
        found = self._evaluate(_LAYOUT)
        return Layout(**{**found, "viewport": self._width or found["viewport"]})

    def screenshot(self, path: Path, *, full_page: bool = False) -> Path:
        """A PNG of the open page: its first screen, or all of it."""
        shot = self._call("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": full_page},
                          session=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    def pdf(self, path: Path) -> Path:
        """The open page printed on A4 (the page's own ``@page`` size wins when it sets one)."""
        paper_width, paper_height = A4
        printed = self._call("Page.printToPDF", {
            "paperWidth": paper_width, "paperHeight": paper_height, "printBackground": True,
            "preferCSSPageSize": True,
        }, session=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(printed["data"]))
        return path

    def print_layout(self, width: int = 700) -> dict:
        """Under print media, drawn `width` px wide (A4 less its margins at 96 px an inch): the
        captions of the tables wider than their box, and how many scroll boxes still scroll."""
        self._call("Emulation.setEmulatedMedia", {"media": "print"}, session=True)
        self.set_viewport(width)
        try:
            return self._evaluate(_PRINT_LAYOUT)
        finally:
            self._call("Emulation.setEmulatedMedia", {"media": ""}, session=True)
            self.clear_viewport()

    def _evaluate(self, expression: str) -> dict:
        """A JSON-returning expression, evaluated in the open page."""
        reply = self._call("Runtime.evaluate", {"expression": expression, "returnByValue": True}, session=True)
        return json.loads(reply["result"]["value"])

    def evaluate(self, expression: str) -> object:
        """The value of a JavaScript expression in the open page; a promise is awaited (so
        ``fetch(url).then(r => r.text())`` gives the text a link points to)."""
        reply = self._call("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True},
                           session=True)
        if "exceptionDetails" in reply:
            raise RuntimeError(f"Chromium: {expression[:60]!r} threw {reply['exceptionDetails'].get('text')}")
        return reply["result"].get("value")

    def click(self, selector: str) -> None:
        """Click the first element matching a CSS `selector` with the mouse, as a reader would: scrolled
        into view, pressed and released at its centre."""
        box = self.evaluate(f"""(() => {{ const e = document.querySelector({json.dumps(selector)});
            e.scrollIntoView({{block: 'center', inline: 'center'}}); const r = e.getBoundingClientRect();
            return [r.left + r.width / 2, r.top + r.height / 2]; }})()""")
        for kind in ("mousePressed", "mouseReleased"):
            self._call("Input.dispatchMouseEvent", {"type": kind, "x": box[0], "y": box[1], "button": "left",
                                                    "clickCount": 1}, session=True)

    def focus(self, selector: str) -> None:
        """Give the keyboard focus to the first element matching `selector`."""
        self.evaluate(f"document.querySelector({json.dumps(selector)}).focus()")

    def type_text(self, text: str) -> None:
        """Type `text` into the focused element (one input event, as an IME commits it)."""
        self._call("Input.insertText", {"text": text}, session=True)

    def press(self, key: str = "Enter") -> None:
        """Press and release a key on the focused element: Enter, or a space (" ")."""
        codes = {"Enter": ("Enter", 13, "\r"), " ": ("Space", 32, " ")}
        code, number, text = codes[key]
        common = {"key": key, "code": code, "windowsVirtualKeyCode": number}
        self._call("Input.dispatchKeyEvent", {"type": "keyDown", "text": text, **common}, session=True)
        self._call("Input.dispatchKeyEvent", {"type": "keyUp", **common}, session=True)

    # -- the protocol -----------------------------------------------------------------------

    def _send(self, method: str, params: dict, session: bool = False) -> int:
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = self._session
        os.write(self._commands, json.dumps(message).encode("utf-8") + b"\0")
        return self._next_id

    def _call(self, method: str, params: dict | None = None, session: bool = False) -> dict:
        """Send a command and wait for its reply; events that arrive meanwhile are kept."""
        wanted = self._send(method, params or {}, session)
        while True:
            message = self._read()
            if message.get("id") == wanted:
                if "error" in message:
                    raise RuntimeError(f"Chromium: {method} failed: {message['error'].get('message')}")
                return message.get("result", {})
            if "method" in message:
                self._events.append(message)

    def _wait_for(self, event: str) -> None:
        while not any(message.get("method") == event for message in self._events):
            self._events.append(self._read())
        # events that follow the load (late console errors) get a moment to arrive
        deadline = time.monotonic() + 0.2
        while time.monotonic() < deadline:
            message = self._read(timeout=max(0.0, deadline - time.monotonic()), missing_ok=True)
            if message:
                self._events.append(message)

    def _read(self, timeout: float | None = None, missing_ok: bool = False) -> dict:
        """The next message from Chromium."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self._replies], [], [], max(0.0, left))
            if not ready:
                if missing_ok:
                    return {}
                raise TimeoutError(f"Chromium sent nothing for {self.timeout:.0f} s")
            chunk = os.read(self._replies, 1 << 16)
            if not chunk:
                raise RuntimeError(f"Chromium exited (code {self._process.poll()})")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)


def local_target(link: str) -> Path | None:
    """The file a ``file://`` link points to (without #fragment), or None for other links."""
    parsed = urlparse(link)
    if parsed.scheme != "file":
        return None
    return Path(unquote(parsed.path))


def pdf_pages(data: bytes) -> int:
    """How many pages a PDF has (its page objects; 0 for bytes that are not a PDF)."""
    if not data.startswith(b"%PDF-"):
        return 0
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", data))


def pdf_text(path: Path) -> str | None:
    """The text of a PDF through poppler's pdftotext, or None where it is not installed."""
    tool = shutil.which("pdftotext")
    if tool is None:
        return None
    return subprocess.run([tool, "-layout", str(path), "-"], capture_output=True, check=True, text=True).stdout
