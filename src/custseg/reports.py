"""Build the HTML reports: plan the studies, run them (papermill's parameters, nbclient's execution,
one kernel per worker process), render them with nbconvert.

The plan comes from the processed data (every region and tier found there), never from a
hand-kept list. Each study has a fingerprint (template, parameters, the run fingerprint of
the processed data, which covers inputs, config and code, and the bytes of any other file the
study reads, such as intake's quarantine for the data-quality page); a study whose fingerprint
matches the manifest of the last build is not run again. Studies run in a process pool, each
renders its HTML in-process, and a page is written only when its notebook ran through: a failed
study keeps its executed notebook for debugging and never publishes a half-empty page.
"""

from __future__ import annotations

import concurrent.futures as cf
import datetime as dt
import hashlib
import json
import multiprocessing
import multiprocessing.util
import os
import re
import traceback
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

import custseg
from custseg import paths, quality
from custseg.config import Config
from custseg.pipeline import StudyData, file_digest, load_study_data

#: Folder of each kind of study under the reports folder.
FOLDERS = {"region": "regions", "tier": "tiers"}


def slugify(name: str, *, fallback_prefix: str = "item") -> str:
    """A file-name-safe slug: lower-case ASCII letters, digits and single hyphens.

    Names from the data never become paths unslugged: ``"../x"`` gives ``"x"``, ``"<script>"``
    gives ``"script"``. A name with no ASCII letters or digits at all (``"华东"``) gets a
    stable hash-based slug instead of an empty one.
    """
    ascii_text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if not slug:
        slug = f"{fallback_prefix}-{hashlib.sha256(name.encode('utf-8')).hexdigest()[:8]}"
    return slug


@dataclass(frozen=True)
class StudyJob:
    """One report to build."""

    kind: str  # overview | quality | churn | region | tier
    key: str  # region or tier name; "" for the overview and the data-quality page
    title: str
    href: str  # path of the HTML relative to the reports folder
    note: str  # short description for link lists
    parameters: dict = field(default_factory=dict)
    # files read besides the processed tables (present or not): part of the job's fingerprint
    reads: tuple[Path, ...] = ()

    @property
    def template(self) -> Path:
        return paths.TEMPLATES[self.kind]

    @property
    def name(self) -> str:
        """File stem for the executed notebook in the build folder."""
        return Path(self.href).with_suffix("").as_posix().replace("/", "__")


def _unique_slugs(names: list[str], prefix: str) -> dict[str, str]:
    """Slugs for names, made unique (two names can slug alike: 'A/B' and 'A B')."""
    seen: dict[str, int] = {}
    slugs = {}
    for name in names:
        slug = slugify(name, fallback_prefix=prefix)
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        slugs[name] = slug if count == 0 else f"{slug}-{count + 1}"
    return slugs


def plan_studies(data: StudyData, config: Config) -> list[StudyJob]:
    """Every study of a build: the overview, the data-quality page, the churn watch, one per region
    found, one per tier found.

    Regions are ordered by number of customers (largest first, then by name); tiers in config order.
    """
    customers = data.customers
    config_path = str(config.source)
    jobs = [
        StudyJob("overview", "", f"{config.study.title}: customer classification overview", "index.html", "", {"config_path": config_path}),
        StudyJob(
            "quality", "", f"{config.study.title}: data quality", "quality.html", "how the input was read and cleaned",
            {"config_path": config_path}, reads=tuple(quality.source_files(config)),
        ),
        StudyJob(
            "churn", "", f"{config.study.title}: churn watch", "churn.html",
            "who is slipping away, what they are worth, and how well the warning worked",
            {"config_path": config_path},
        ),
    ]
    sizes = customers.groupby("region").size()
    regions = sorted(sizes.index, key=lambda r: (-sizes[r], r))
    for region, slug in _unique_slugs(regions, "region").items():
        jobs.append(StudyJob(
            "region", region, f"Region study: {region}", f"{FOLDERS['region']}/{slug}.html",
            f"{sizes[region]:,} customers", {"config_path": config_path, "region": region},
        ))
    tier_sizes = customers["tier"].value_counts()
    present = [t for t in data.meta["tiers"] if tier_sizes.get(t, 0) > 0]
    for tier, slug in _unique_slugs(present, "tier").items():
        jobs.append(StudyJob(
            "tier", tier, f"Tier study: {tier}", f"{FOLDERS['tier']}/{slug}.html",
            f"{tier_sizes[tier]:,} customers", {"config_path": config_path, "tier": tier},
        ))
    return jobs


def job_fingerprint(job: StudyJob, run_fingerprint: str) -> str:
    """What a report depends on: its template, its parameters, the processed data and the other
    files it reads (a file that is absent counts as such, so its arrival changes the fingerprint)."""
    digest = hashlib.sha256()
    digest.update(job.template.read_bytes())
    digest.update(json.dumps(job.parameters, sort_keys=True).encode("utf-8"))
    digest.update(run_fingerprint.encode("utf-8"))
    for position, path in enumerate(job.reads):
        digest.update(f"{position}:{file_digest(path) if path.is_file() else 'absent'}\n".encode("utf-8"))
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class BuildResult:
    built: list[str]
    skipped: list[str]
    failed: dict[str, str]  # href -> what went wrong


def _provenance(meta: dict) -> dict:
    return {
        "data_fingerprint": meta["data_fingerprint"],
        "config_fingerprint": meta["config_fingerprint"],
        "observation_date": meta["observation_date"],
        "version": custseg.__version__,
        "built": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def render_html(notebook_path: Path, *, title: str, index_href: str | None, provenance: dict) -> str:
    """Executed notebook -> one self-contained HTML page with no code, no prompts and no stderr."""
    import nbformat
    from nbconvert import HTMLExporter

    notebook = nbformat.read(notebook_path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            # Warnings on stderr are for the developer's log, not for a sales director.
            cell.outputs = [o for o in cell.outputs if not (o.output_type == "stream" and o.name == "stderr")]
    notebook.metadata["title"] = title
    exporter = HTMLExporter(
        template_name="custseg",
        extra_template_basedirs=[str(paths.TEMPLATES_DIR)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    body, _ = exporter.from_notebook_node(
        notebook, resources={"custseg": {**provenance, "index_href": index_href}}
    )
    return add_contents(body)


_SECTION = re.compile(r'<section class="cs-section"><h2>(.*?)</h2>', re.S)
_TITLE_END = re.compile(r'<h1 class="cs-title">.*?</h1>(?:<p class="cs-subtitle">.*?</p>)?', re.S)
#: Pages with fewer sections than this get no table of contents.
MIN_SECTIONS_FOR_CONTENTS = 3


def add_contents(page: str) -> str:
    """A table of contents under the page title, linking every section heading.

    The headings are the ones :class:`custseg.render.Section` wrote (already escaped), so they are
    reused as they are; each section gets an id ``section-1``, ``section-2``, ... in page order.
    A page with few sections (a short study that says why it is short) is returned unchanged.
    """
    headings = _SECTION.findall(page)
    title = _TITLE_END.search(page)
    if len(headings) < MIN_SECTIONS_FOR_CONTENTS or title is None:
        return page
    numbers = iter(range(1, len(headings) + 1))
    page = _SECTION.sub(lambda m: f'<section class="cs-section" id="section-{next(numbers)}"><h2>{m.group(1)}</h2>', page)
    items = "".join(f'<li><a href="#section-{n}">{heading}</a></li>' for n, heading in enumerate(headings, start=1))
    contents = f'<nav class="cs-toc" aria-label="Contents"><h2>Contents</h2><ol>{items}</ol></nav>'
    title = _TITLE_END.search(page)  # the ids shifted nothing before the title, but find it again
    return page[: title.end()] + contents + page[title.end():]


# Each worker process keeps one kernel and runs its studies in it one after the other. Starting
# a kernel and importing pandas, matplotlib, seaborn, scikit-learn and custseg in it costs several
# seconds, which every study paid again when each ran in a fresh kernel; the user namespace is
# still cleared before each study (%reset), so no study sees another's variables.
_KERNELS: dict[str, object] = {}
# Cleared before every study; the modules stay imported, which is the point.
_RESET_CELL = "%reset -f"
# Study cells may take long on a large base, but never this long.
_CELL_TIMEOUT_SECONDS = 1800


def _kernel(name: str):
    """This worker's kernel for `name`, started on first use and shut down when the worker exits."""
    from jupyter_client.manager import KernelManager

    manager = _KERNELS.get(name)
    if manager is None or not manager.is_alive():
        manager = KernelManager(kernel_name=name)
        # ipykernel logs a TCP-transport warning at start and a KeyboardInterrupt at shutdown;
        # both are noise. Errors in cells still reach the notebook and fail the study.
        manager.start_kernel(cwd=str(paths.NOTEBOOKS_DIR), extra_arguments=["--IPKernelApp.log_level=CRITICAL"])
        _KERNELS[name] = manager
        # worker processes end without atexit handlers; multiprocessing's finalizers do run
        multiprocessing.util.Finalize(None, manager.shutdown_kernel, kwargs={"now": True}, exitpriority=10)
    return manager


def execute_study(template: Path, executed: Path, parameters: dict, kernel: str) -> None:
    """Run a study notebook with its parameters in this process's kernel; write what ran.

    The executed notebook is written even when a cell fails (for debugging), and the kernel is
    restarted after a failure so that the next study starts clean.

    Raises
    ------
    nbclient.exceptions.CellExecutionError
        When a cell raises.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    # papermill's loader gives every cell a tags list, which its parameterizer relies on
    notebook = parameterize_notebook(load_notebook_node(str(template)), parameters, kernel_name=kernel)
    reset = nbformat.v4.new_code_cell(_RESET_CELL, metadata={"tags": ["remove-input"]})
    notebook.cells.insert(0, reset)
    manager = _kernel(kernel)
    client = NotebookClient(notebook, km=manager, timeout=_CELL_TIMEOUT_SECONDS, allow_errors=False)
    try:
        client.execute()
    except CellExecutionError:
        manager.restart_kernel(now=True)
        raise
    finally:
        if client.kc is not None:
            client.kc.stop_channels()
        nbformat.write(notebook, executed)


def _run_job(job: StudyJob, build_dir: Path, reports_dir: Path, provenance: dict, kernel: str) -> tuple[str, str | None]:
    """Execute one study and write its page. Runs in a worker process.

    Returns (href, None) on success or (href, reason) on failure.
    """
    from nbclient.exceptions import CellExecutionError

    executed = build_dir / "notebooks" / f"{job.name}.ipynb"
    executed.parent.mkdir(parents=True, exist_ok=True)
    try:
        execute_study(job.template, executed, job.parameters, kernel)
    except CellExecutionError as exc:
        return job.href, f"{exc.ename}: {exc.evalue} (executed notebook kept at {executed})"
    except Exception as exc:  # a kernel that died, a missing template: report it, do not hide it
        return job.href, f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=3)}"
    target = reports_dir / job.href
    depth = len(Path(job.href).parts) - 1
    index_href = None if job.kind == "overview" else "../" * depth + "index.html"
    page = render_html(executed, title=job.title, index_href=index_href, provenance=provenance)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".html.tmp")
    tmp.write_text(page, encoding="utf-8")
    os.replace(tmp, target)  # atomic: a reader never sees half a page
    return job.href, None


def build_reports(
    config: Config, *, force: bool = False, echo=print, progress: bool = True,
    select: Callable[[list[StudyJob]], list[StudyJob]] | None = None,
) -> BuildResult:
    """Build every report of a study that is missing or out of date.

    Parameters
    ----------
    config
        The study config; its processed data must exist (see :func:`custseg.pipeline.run`).
    force
        Rebuild every report even when its fingerprint is unchanged.
    echo
        Where the summary lines go.
    progress
        Show a progress bar while studies run.
    select
        Picks the studies to consider from the plan (a benchmark builds a fixed number); None: all.
        Pages of studies left out are kept as they are.

    Returns
    -------
    BuildResult
        Which reports were built, skipped as current, or failed (with why).
    """
    from tqdm.auto import tqdm

    data = load_study_data(config)
    planned = plan_studies(data, config)
    jobs = planned if select is None else select(planned)
    reports_dir, build_dir = config.output.reports, config.output.build
    manifest_path = build_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8")) if manifest_path.is_file() else {}
    fingerprints = {job.href: job_fingerprint(job, data.meta["run_fingerprint"]) for job in jobs}
    todo = [
        job for job in jobs
        if force or manifest.get(job.href) != fingerprints[job.href] or not (reports_dir / job.href).is_file()
    ]
    skipped = [job.href for job in jobs if job not in todo]
    current = {job.href for job in planned}
    _remove_stale(manifest, current, reports_dir)
    manifest = {href: fp for href, fp in manifest.items() if href in current}

    failed: dict[str, str] = {}
    built: list[str] = []
    if todo:
        provenance = _provenance(data.meta)
        workers = min(len(todo), config.studies.workers or os.cpu_count() or 1)
        # spawn, not fork: the parent may hold threads (ZeroMQ, BLAS) that a fork would copy broken
        context = multiprocessing.get_context("spawn")
        with cf.ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            futures = [pool.submit(_run_job, job, build_dir, reports_dir, provenance, config.studies.kernel) for job in todo]
            for future in tqdm(cf.as_completed(futures), total=len(futures), desc="studies", unit="study", disable=not progress):
                href, error = future.result()
                if error is None:
                    built.append(href)
                    manifest[href] = fingerprints[href]
                else:
                    failed[href] = error
                    manifest.pop(href, None)
                    (reports_dir / href).unlink(missing_ok=True)
    build_dir.mkdir(parents=True, exist_ok=True)
    manifest_path.write_text(json.dumps(dict(sorted(manifest.items())), indent=2) + "\n", encoding="utf-8")
    echo(f"reports: {len(built)} built, {len(skipped)} up to date, {len(failed)} failed -> {reports_dir / 'index.html'}")
    for href, error in sorted(failed.items()):
        echo(f"FAILED {href}: {error}")
    return BuildResult(sorted(built), sorted(skipped), failed)


def _remove_stale(manifest: dict, current: set[str], reports_dir: Path) -> None:
    """Delete pages built earlier for regions or tiers that no longer exist in the data."""
    for href in set(manifest) - current:
        (reports_dir / href).unlink(missing_ok=True)


def expected_pages(config: Config) -> list[Path]:
    """The HTML files a complete build of this study produces."""
    data = load_study_data(config)
    return [config.output.reports / job.href for job in plan_studies(data, config)]


def table_of_jobs(jobs: list[StudyJob]) -> pd.DataFrame:
    """The plan as a table (for `custseg plan`)."""
    return pd.DataFrame([{"kind": j.kind, "key": j.key, "href": j.href, "note": j.note} for j in jobs])
