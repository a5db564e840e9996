"""A built page as an A4 PDF, printed by headless Chromium (``make pdf``).

Chromium's own ``--print-to-pdf`` prints a page the way a reader's "Print > Save as PDF" does, with
the theme's print styles (custseg.css: A4, no scroll boxes, every column on the page); the page
opens from disk (``file://``) and loads nothing from the network. Chromium comes from the system
(Debian's ``chromium`` package, which ``.ci/run`` installs), not from Python.

Run as ``python -m custseg.report.pdf PAGE.html [OUT.pdf]``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

#: Executable names tried, in order, when no path is given.
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
#: Seconds a page may take to print before Chromium is stopped.
TIMEOUT = 120


def find_chromium() -> str | None:
    """Path of an installed Chromium (or Chrome), or None."""
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def print_pdf(page: Path, out: Path | None = None, *, chromium: str | None = None) -> Path:
    """Print the HTML `page` to `out` (default: beside it, ``.pdf``) as an A4 PDF.

    Parameters
    ----------
    page
        A built report page.
    out
        Where the PDF goes; its folder is made when missing.
    chromium
        The browser's executable; by default the first of :data:`CHROMIUM_NAMES` on PATH.

    Returns
    -------
    Path
        The PDF written.
    """
    page = Path(page)
    out = Path(out) if out is not None else page.with_suffix(".pdf")
    if not page.is_file():
        raise FileNotFoundError(f"no page to print at {page}")
    executable = chromium or find_chromium()
    if executable is None:
        raise FileNotFoundError(
            f"printing {page} needs Chromium, and none is on PATH (looked for {', '.join(CHROMIUM_NAMES)}); "
            "on Debian: apt install chromium"
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    # Written beside the target and moved into place only when whole: an interrupted print leaves
    # no half PDF that make would take for done.
    partial = out.with_name(f".{out.name}.partial")
    with tempfile.TemporaryDirectory(prefix="custseg-pdf-") as profile:
        command = [
            executable, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-extensions", f"--user-data-dir={profile}",
            # the page's own @page rule sets A4; no date, title or file path printed in the margins
            "--no-pdf-header-footer", f"--print-to-pdf={partial}", page.resolve().as_uri(),
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL)
    if done.returncode != 0 or not partial.is_file() or partial.read_bytes()[:5] != b"%PDF-":
        partial.unlink(missing_ok=True)
        detail = done.stderr.strip().splitlines()[-1:] or [f"exit code {done.returncode}"]
        raise RuntimeError(f"Chromium could not print {page} to {out}: {detail[0]}")
    partial.replace(out)
    return out


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) not in (1, 2):
        print("usage: python -m custseg.report.pdf PAGE.html [OUT.pdf]", file=sys.stderr)
        return 2
    try:
        written = print_pdf(Path(args[0]), Path(args[1]) if len(args) == 2 else None)
    except (FileNotFoundError, RuntimeError, subprocess.TimeoutExpired) as error:
        print(f"custseg pdf: {error}", file=sys.stderr)
        return 1
    print(written)
    return 0


if __name__ == "__main__":
    sys.exit(main())
