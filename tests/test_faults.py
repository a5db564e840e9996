"""Fault tests (issue 14): a build killed at several points, then run again, leaves outputs
byte-identical to a clean build's, and no worker or kernel outlives a build however it ends.

Builds run as real `custseg` processes. A kill at an exact point comes from the file writer's
fault hook (``CUSTSEG_FAULT_KILL_AT_WRITE=N``: the process dies halfway through writing its N-th
file, leaving a torn temporary file as a real kill would); a kill in the middle of the studies is
a signal sent once a kernel runs. Pages carry the build time, so every build here sets
``SOURCE_DATE_EPOCH``; executed notebooks (with their run times) and logs are build debris, not
outputs, and are not compared.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import yaml

from conftest import TINY_ORDERS
from custseg.files import FAULT_EXIT_CODE, FAULT_VARIABLE
from custseg.paths import PROJECT_ROOT

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc to find leftover processes")

#: Orders of the other version of the data: two customers more and one refund.
TINY_ORDERS_V2 = (
    TINY_ORDERS + "O990,C90,2026-09-01,500.00,CNY,completed,Coffee\nO991,C91,2026-09-02,80.00,CNY,refunded,Tea\n"
)
KEYS = ("interim", "processed", "reports", "build", "exports")


class Study:
    """A tiny study in its own folder, built with the `custseg` command."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "raw").mkdir(parents=True)
        self.orders = root / "raw" / "orders.csv"
        self.use(TINY_ORDERS)
        self.config = root / "study.yaml"
        self.config.write_text(yaml.safe_dump({
            "study": {"name": "faults", "title": "Faults Co."},
            "inputs": {"orders": "raw/orders.csv"},
            "observation_date": "2026-10-01",
            "output": {key: f"out/{key}" for key in KEYS},
            "studies": {"min_customers": 2, "workers": 2},
        }), encoding="utf-8")
        self.out = root / "out"

    def use(self, orders: str) -> None:
        self.orders.write_text(orders, encoding="utf-8")

    def env(self, **extra: str) -> dict[str, str]:
        return {**os.environ, "PYTHONPATH": str(PROJECT_ROOT / "src"), "SOURCE_DATE_EPOCH": "1790812800", **extra}

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "custseg.cli", *args, "--config", str(self.config)]

    def run(self, *args: str, **extra: str) -> subprocess.CompletedProcess:
        return subprocess.run(self.command(*args), capture_output=True, text=True, env=self.env(**extra), timeout=300)

    def outputs(self, *keys: str) -> dict[str, bytes]:
        """Every output file's bytes by path (the build folder's debris left out)."""
        found = {}
        for key in keys:
            for path in sorted((self.out / key).rglob("*")):
                relative = path.relative_to(self.out).as_posix()
                if path.is_file() and not relative.startswith(("build/notebooks/", "build/logs/", "build/staging/")):
                    found[relative] = path.read_bytes()
        return found

    def leftovers(self) -> list[str]:
        return sorted(p.relative_to(self.out).as_posix() for p in self.out.rglob("*")
                      if ".tmp-" in p.name or "staging" in p.parts)


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    """The study built clean on each version of the data: (study, {version: outputs})."""
    study = Study(tmp_path_factory.mktemp("faults"))
    clean = {}
    for version, orders in (("v2", TINY_ORDERS_V2), ("v1", TINY_ORDERS)):
        study.use(orders)
        done = study.run("process")
        assert done.returncode == 0, done.stderr
        clean[version] = study.outputs("interim", "processed", "exports")
    assert clean["v1"] != clean["v2"]
    return study, clean


def _files_written(outputs: dict[str, bytes]) -> dict[str, int]:
    meta = json.loads(outputs["processed/study.json"])
    return {key: len(names) for key, names in meta["files"].items()}


@pytest.mark.parametrize("version, point", [("v2", "interim"), ("v1", "processed"), ("v2", "study.json")])
def test_a_pipeline_killed_while_writing_reruns_to_a_clean_builds_bytes(study, version, point):
    study, clean = study
    other = "v1" if version == "v2" else "v2"
    if study.outputs("interim", "processed", "exports") != clean[other]:  # start from the other version, built
        study.use(TINY_ORDERS if other == "v1" else TINY_ORDERS_V2)
        assert study.run("process").returncode == 0
    counts = _files_written(clean[version])
    at = {"interim": 2, "processed": counts["interim"] + 3, "exports": counts["interim"] + counts["processed"] + 2,
          "study.json": sum(counts.values()) + 1}[point]
    study.use(TINY_ORDERS_V2 if version == "v2" else TINY_ORDERS)
    killed = study.run("process", **{FAULT_VARIABLE: str(at)})
    assert killed.returncode == FAULT_EXIT_CODE, killed.stderr
    torn = study.leftovers()
    assert len(torn) == 1 and ".tmp-" in torn[0]  # died halfway through a file, under its temporary name

    rerun = study.run("process")
    assert rerun.returncode == 0, rerun.stderr
    assert f"rebuilding {study.out / 'processed'}: " in rerun.stdout and "up to date" not in rerun.stdout
    assert study.outputs("interim", "processed", "exports") == clean[version]
    assert study.leftovers() == []
    assert "up to date" in study.run("process").stdout  # and now it is


# --- the report build -----------------------------------------------------------------------------

def _marked(marker: str) -> list[tuple[int, str]]:
    """(pid, command line) of every live process started with `marker` in its environment."""
    found = []
    needle = f"CUSTSEG_FAULT_MARK={marker}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                found.append((int(entry.name), command))
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue  # ended while we looked, or not ours
    return found


def _wait(condition, seconds: float, step: float = 0.2):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    return condition()


#: Pages the tiny study builds.
PAGES = 8


@pytest.fixture(scope="module")
def reports_built(study):
    """The v1 study processed, and its pages built clean: (study, pages and manifest)."""
    study, clean = study
    study.use(TINY_ORDERS)
    assert study.run("process").returncode == 0
    done = study.run("reports", "--quiet")
    # the overview, churn, data-quality and glossary pages, one region's and three tiers'
    assert done.returncode == 0 and f"{PAGES} built" in done.stdout, done.stdout + done.stderr
    pages = study.outputs("reports", "build")
    assert "build/manifest.json" in pages and len([p for p in pages if p.endswith(".html")]) == PAGES
    return study, pages


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT], ids=lambda s: s.name)
def test_a_build_stopped_mid_study_takes_its_workers_and_kernels_with_it(reports_built, sig):
    study, pages = reports_built
    marker = uuid.uuid4().hex
    build = subprocess.Popen(study.command("reports", "--force", "--quiet"), env=study.env(CUSTSEG_FAULT_MARK=marker),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        kernels = _wait(lambda: [p for p in _marked(marker) if "ipykernel" in p[1]], 120)
        assert kernels, "no kernel started"
        build.send_signal(sig)
        _, stderr = build.communicate(timeout=60)
    finally:
        if build.poll() is None:
            build.kill()
    assert build.returncode == {signal.SIGKILL: -9, signal.SIGTERM: 143, signal.SIGINT: 130}[sig]
    assert "Traceback" not in stderr
    assert _wait(lambda: not _marked(marker), 15), f"left running: {_marked(marker)}"
    assert study.outputs("reports", "build") == pages  # nothing published, the good pages kept


def test_a_build_killed_while_publishing_reruns_to_a_clean_builds_pages(reports_built):
    study, pages = reports_built
    tiers = sorted((study.out / "reports" / "tiers").glob("*.html"))
    assert len(tiers) == 3
    for page in tiers:  # three studies to run again, so three pages to publish
        page.unlink()
    killed = study.run("reports", "--quiet", **{FAULT_VARIABLE: "2"})  # the second page, half copied
    assert killed.returncode == FAULT_EXIT_CODE, killed.stderr
    assert len([page for page in tiers if page.exists()]) == 1
    assert study.outputs("build")["build/manifest.json"] == pages["build/manifest.json"]  # not written yet
    assert any(".tmp-" in p for p in study.leftovers())

    rerun = study.run("reports", "--quiet")
    assert rerun.returncode == 0 and f"2 built, {PAGES - 2} up to date" in rerun.stdout, rerun.stdout + rerun.stderr
    assert study.outputs("reports", "build") == pages
    assert study.leftovers() == []


def test_a_failed_build_keeps_the_good_pages_and_says_one_line_per_study(reports_built):
    study, pages = reports_built
    accounting = study.out / "interim" / "accounting.csv"
    kept = accounting.read_bytes()
    accounting.unlink()  # the data-quality study reads it: its fingerprint changes, it runs again and fails
    try:
        failed = study.run("reports", "--quiet")
    finally:
        accounting.write_bytes(kept)
    assert failed.returncode == 1 and "Traceback" not in failed.stdout + failed.stderr
    lines = failed.stdout.strip().splitlines()
    assert lines[0] == (f"reports: 1 of 1 studies failed; no page published, the pages of the last good build "
                        f"are kept in {study.out / 'reports'}")
    assert lines[1].startswith(f"FAILED quality.html: FileNotFoundError: {accounting} does not exist: ")
    assert lines[1].endswith(f"(log: {study.out / 'build' / 'logs' / 'quality.log'})") and len(lines) == 2
    assert "Traceback" in (study.out / "build" / "logs" / "quality.log").read_text(encoding="utf-8")
    assert study.outputs("reports", "build") == pages


def test_a_page_changed_since_it_was_published_is_rebuilt(reports_built):
    study, pages = reports_built
    page = study.out / "reports" / "tiers" / "high.html"
    page.write_bytes(page.read_bytes().replace(b"</body>", b"<script>alert(1)</script></body>"))
    done = study.run("reports", "--quiet")
    assert f"reports: 1 built, {PAGES - 1} up to date" in done.stdout, done.stdout + done.stderr
    assert study.outputs("reports", "build") == pages
