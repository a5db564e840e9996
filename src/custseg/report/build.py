"""Build the HTML reports: plan the studies, run them (papermill's parameters, nbclient's execution,
one kernel per worker process), render them with nbconvert.

The plan comes from the processed data (every region and tier found there), never from a
hand-kept list. Each study has a fingerprint (template, parameters, the run fingerprint of
the processed data, which covers inputs, config and code, and the bytes of any other file the
study reads, such as intake's quarantine for the data-quality page); a study whose fingerprint
matches the manifest of the last build, and whose page is still the one that build wrote (its
SHA-256 is in the manifest too), is not run again. Studies run in a process pool, each renders
its HTML into a staging folder, and the pages are published (copied into the reports folder
atomically) only when every study of the build ran through. A failed build publishes nothing:
the previous good pages stay, each failed study gets one line on the terminal and a log with
its traceback under ``output.build/logs``, and its executed notebook is kept for debugging.

A build interrupted (Ctrl-C, SIGTERM) kills its workers; a build killed outright takes them with
it too (Linux's parent-death signal); and ipykernel ends a kernel whose worker is gone.

Every study is built in each report language of the config (``study.language`` in the reports
folder, each of ``study.other_languages`` in a subfolder named after it); every page links to
the same page in the other languages.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import datetime as dt
import hashlib
import html
import json
import multiprocessing
import multiprocessing.util
import os
import posixpath
import re
import shutil
import signal
import sys
import traceback
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

import custseg
from custseg import files, i18n, paths
from custseg.config import Config, ConfigError
from custseg.i18n import _
from custseg.intake import quality
from custseg.pipeline import StudyData, file_digest, load_study_data
from custseg.segment.step import REGION_COLUMNS

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


def plan_studies(data: StudyData, config: Config, language: str | None = None) -> list[StudyJob]:
    """Every study of a build: the overview, the data-quality page, the churn watch, one per region
    found, one per tier found.

    Regions are ordered by number of customers (largest first, then by name); tiers in config order.
    Titles and notes are written in `language` (None: the current language, :func:`custseg.i18n.current`),
    and every study gets it as its ``language`` parameter.
    """
    language = language or i18n.current()
    with i18n.language(language):
        return _plan(data, config, language)


def _plan(data: StudyData, config: Config, language: str) -> list[StudyJob]:
    customers = data.customers
    common = {"config_path": str(config.source), "language": language}
    title = config.study.title
    jobs = [
        StudyJob("overview", "", _("{title}: customer classification overview").format(title=title), "index.html", "", common),
        StudyJob(
            "quality", "", _("{title}: data quality").format(title=title), "quality.html",
            _("how the input was read and cleaned"), common, reads=tuple(quality.source_files(config)),
        ),
        StudyJob(
            "churn", "", _("{title}: churn watch").format(title=title), "churn.html",
            _("who is slipping away, what they are worth, and how well the warning worked"), common,
        ),
    ]
    sizes = customers.groupby("region").size()
    regions = sorted(sizes.index, key=lambda r: (-sizes[r], r))
    names = region_names(customers, data.meta.get("region_level", "market")) if language == "zh" else {}
    for region, slug in _unique_slugs(regions, "region").items():
        jobs.append(StudyJob(
            "region", region, _("Region study: {label}").format(label=names.get(region, region)),
            f"{FOLDERS['region']}/{slug}.html", _("{count:,} customers").format(count=sizes[region]),
            {**common, "region": region},
        ))
    tier_sizes = customers["tier"].value_counts()
    present = [t for t in data.meta["tiers"] if tier_sizes.get(t, 0) > 0]
    for tier, slug in _unique_slugs(present, "tier").items():
        jobs.append(StudyJob(
            "tier", tier, _("Tier study: {label}").format(label=_("Tier {tier}").format(tier=i18n.label("tier", tier))),
            f"{FOLDERS['tier']}/{slug}.html", _("{count:,} customers").format(count=tier_sizes[tier]),
            {**common, "tier": tier},
        ))
    return jobs


#: The customer column with the Chinese name of each column that names a place.
ZH_COLUMNS = {"market": "market_zh", "country_en": "country_zh", "province": "province_zh"}


def region_names(customers: pd.DataFrame, level: str) -> dict[str, str]:
    """Region (as named in the ``region`` column) -> its Chinese name, from the customer table's
    ``*_zh`` columns; regions without one (a custom market, an unplaced value) are left out."""
    column = ZH_COLUMNS.get(REGION_COLUMNS.get(level, level))
    if column is None or column not in customers or "region" not in customers:
        return {}
    pairs = customers[["region", column]].dropna().astype("str").drop_duplicates("region")
    return dict(zip(pairs["region"], pairs[column]))


def job_fingerprint(job: StudyJob, run_fingerprint: str) -> str:
    """What a report depends on: its template, its parameters, the processed data, the catalog of
    its language (a corrected translation rebuilds the pages, not the data) and the other files it
    reads (a file that is absent counts as such, so its arrival changes the fingerprint)."""
    digest = hashlib.sha256()
    digest.update(job.template.read_bytes())
    digest.update(json.dumps(job.parameters, sort_keys=True).encode("utf-8"))
    digest.update(run_fingerprint.encode("utf-8"))
    language = job.parameters.get("language", i18n.LANGUAGES[0])
    if language != i18n.LANGUAGES[0]:
        digest.update(i18n.catalog_path(language).read_bytes())
    for position, path in enumerate(job.reads):
        digest.update(f"{position}:{file_digest(path) if path.is_file() else 'absent'}\n".encode("utf-8"))
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class BuildResult:
    built: list[str]  # published by this build (none when a study failed)
    skipped: list[str]
    failed: dict[str, str]  # href -> what went wrong, one line naming the log


def _provenance(meta: dict) -> dict:
    return {
        "data_fingerprint": meta["data_fingerprint"],
        "config_fingerprint": meta["config_fingerprint"],
        "observation_date": meta["observation_date"],
        "version": custseg.__version__,
        "built": build_time().strftime("%Y-%m-%d %H:%M UTC"),
    }


def build_time() -> dt.datetime:
    """Now, in UTC; or ``SOURCE_DATE_EPOCH`` (seconds since 1970) when set, the reproducible-builds
    convention, so that two builds of the same data give byte-identical pages."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        try:
            return dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc)
        except ValueError:
            raise ConfigError(f"SOURCE_DATE_EPOCH must be whole seconds since 1970, got {epoch!r}") from None
    return dt.datetime.now(dt.timezone.utc)


def check_kernel(config: Config) -> None:
    """Raise ConfigError unless the Jupyter kernel ``studies.kernel`` names is installed.

    Checked before any study runs: a misspelt kernel otherwise fails every study, one traceback each.
    """
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    name = config.studies.kernel
    manager = KernelSpecManager()
    try:
        manager.get_kernel_spec(name)
    except NoSuchKernel:
        installed = sorted(manager.find_kernel_specs())
        raise ConfigError(
            f"{config.source}: studies.kernel: no Jupyter kernel named {name!r} is installed; installed "
            f"kernels are {installed} (`jupyter kernelspec list`)"
        ) from None


def render_html(
    notebook_path: Path, *, title: str, index_href: str | None, provenance: dict,
    language: str = "en", switch: list[tuple[str, str, str]] = (), shared_text: str = "",
) -> str:
    """Executed notebook -> one self-contained HTML page with no code, no prompts and no stderr.

    Parameters
    ----------
    notebook_path
        The executed study notebook.
    title
        The page title (the browser tab).
    index_href
        Relative link to the overview, None on the overview itself.
    provenance
        What the footer says about the build (see :func:`_provenance`).
    language
        The page's language: the words of the header, footer and table of contents and ``<html lang>``.
    switch
        (HTML language code, language name, relative link) of the same page in each other language.
    shared_text
        The CJK characters the pages of the build share (see :func:`data_characters`).
    """
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
        language_code=language,  # nbconvert takes ISO 639-1 codes only; the region is added below
    )
    with i18n.language(language):
        text = {
            "back": _("Overview and all studies"),
            "languages": _("This page in"),
            "footer": _(
                "Built by custseg {version} on {built} · observation date {observation_date} · "
                "input data {data_fingerprint} · config {config_fingerprint}"
            ).format(**provenance),
        }
        body, _resources = exporter.from_notebook_node(notebook, resources={
            "custseg": {**provenance, "index_href": index_href, "text": text, "switch": list(switch)},
        })
        # "zh-CN", not just "zh": browsers pick Simplified Chinese glyph forms by it
        body = body.replace(f'<html lang="{language}">', f'<html lang="{i18n.HTML_LANG[language]}">', 1)
        page = add_contents(body)
    if language == "zh":
        page = _embed_font(page, shared_text)
    return page


def data_characters(data: StudyData) -> str:
    """The CJK characters of the names in the processed data a page may show (places, segments,
    categories, any text attribute), each once, in code-point order."""
    from custseg.studies.render import cjk_characters

    found: set[int] = set()
    for frame, columns in ((data.customers, None), (data.orders, ["category"])):
        for column in columns or frame.columns:
            values = frame[column] if column in frame else None
            if values is None or pd.api.types.is_numeric_dtype(values) or pd.api.types.is_datetime64_any_dtype(values):
                continue
            found |= cjk_characters("".join(pd.unique(values.dropna().astype("str"))))
    return "".join(map(chr, sorted(found)))


def _embed_font(page: str, shared_text: str = "") -> str:
    """The page with the CJK glyphs it uses embedded as a font in its head (see
    :func:`custseg.studies.render.cjk_font_face`)."""
    from custseg.studies import render

    face = render.cjk_font_face(page, shared_text)
    if not face:
        return page
    head_end = page.index("</head>")
    return page[:head_end] + f'<style type="text/css">{face}</style>\n' + page[head_end:]


def language_folder(root: Path, config: Config, language: str) -> Path:
    """Where the pages (or the build files) of `language` go under `root`: `root` itself for the
    config's main language, ``root/<language>`` for the others."""
    return root if language == config.study.language else root / language


def _switch_links(config: Config, language: str, href: str) -> list[tuple[str, str, str]]:
    """(HTML language code, language name, relative link) of the same page in each other report
    language of the config."""
    here = posixpath.dirname(posixpath.join(_folder_prefix(config, language), href)) or "."
    return [
        (i18n.HTML_LANG[other], i18n.NATIVE_NAMES[other],
         posixpath.relpath(posixpath.join(_folder_prefix(config, other), href), here))
        for other in config.study.languages if other != language
    ]


def _folder_prefix(config: Config, language: str) -> str:
    return "" if language == config.study.language else language


_SECTION = re.compile(r'<section class="cs-section"><h2>(.*?)</h2>', re.S)
_TITLE_END = re.compile(r'<h1 class="cs-title">.*?</h1>(?:<p class="cs-subtitle">.*?</p>)?', re.S)
#: Pages with fewer sections than this get no table of contents.
MIN_SECTIONS_FOR_CONTENTS = 3


def add_contents(page: str) -> str:
    """A table of contents under the page title, linking every section heading.

    The headings are the ones :class:`custseg.studies.render.Section` wrote (already escaped), so they are
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
    name = html.escape(_("Contents"))
    contents = f'<nav class="cs-toc" aria-label="{name}"><h2>{name}</h2><ol>{items}</ol></nav>'
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


def _init_worker(parent: int) -> None:
    """Set up a worker process of the build: it never outlives the build, nor do its kernels.

    The worker leaves the terminal's process group, so a Ctrl-C reaches the build alone, which
    then stops its workers itself (one message instead of a traceback from each). On Linux the
    worker is killed when the build dies, even by SIGKILL (``prctl(PR_SET_PDEATHSIG)``); SIGKILL
    because nbclient replaces the SIGTERM handler while a notebook runs. Its kernel follows by
    itself: ipykernel ends a kernel whose parent process is gone (within a second).
    """
    os.setpgid(0, 0)
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the build died before the parent-death signal was set
        os._exit(1)


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
    for cell in notebook.cells:
        if "injected-parameters" in cell.metadata.get("tags", []):
            cell.id = "injected-parameters"  # papermill's is random, and the page carries it
    reset = nbformat.v4.new_code_cell(_RESET_CELL, metadata={"tags": ["remove-input"]}, id="custseg-reset")
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
        files.write_text(executed, nbformat.writes(notebook))


@dataclass(frozen=True)
class _Task:
    """A study of one language, as a worker process gets it."""

    job: StudyJob
    language: str
    build_dir: Path
    reports_dir: Path
    switch: list[tuple[str, str, str]]

    @property
    def page(self) -> Path:
        """Where the page is published."""
        return self.reports_dir / self.job.href

    @property
    def staged(self) -> Path:
        """Where the page waits until every study of the build has run through."""
        return self.build_dir / "staging" / self.job.href

    @property
    def log(self) -> Path:
        """What went wrong, in full, when the study failed."""
        return self.build_dir / "logs" / f"{self.job.name}.log"


def _run_job(task: _Task, provenance: dict, kernel: str, shared_text: str = "") -> tuple[_Task, str | None]:
    """Execute one study and stage its page. Runs in a worker process.

    Returns (task, None) on success or (task, reason) on failure: one line with the error's class,
    the first line of its message and the log that holds the rest (the traceback, the notebook).
    """
    from nbclient.exceptions import CellExecutionError

    job = task.job
    executed = task.build_dir / "notebooks" / f"{job.name}.ipynb"
    executed.parent.mkdir(parents=True, exist_ok=True)
    try:
        execute_study(job.template, executed, job.parameters, kernel)
        depth = len(Path(job.href).parts) - 1
        index_href = None if job.kind == "overview" else "../" * depth + "index.html"
        page = render_html(
            executed, title=job.title, index_href=index_href, provenance=provenance,
            language=task.language, switch=task.switch, shared_text=shared_text,
        )
        files.write_text(task.staged, page)
    except CellExecutionError as exc:
        return task, _failure(task, exc.ename, exc.evalue, str(exc), executed)
    except Exception as exc:  # a kernel that died, a full disk, a bug in rendering: said, not hidden
        return task, _failure(task, type(exc).__name__, str(exc), traceback.format_exc(), executed)
    return task, None


#: Terminal colours in IPython's tracebacks, which a log file would show as garbage.
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _failure(task: _Task, name: str, message: str, details: str, executed: Path) -> str:
    """Write the log of a failed study; return its one-line summary."""
    first = next((line.strip() for line in str(message).splitlines() if line.strip()), "")
    text = (f"study: {task.job.href} ({task.language})\nerror: {name}: {message}\n"
            f"executed notebook: {executed}\n\n{_ANSI.sub('', details)}\n")
    try:
        files.write_text(task.log, text)
    except files.OutputError as exc:  # the log could not be written either: say so on the line
        return f"{name}: {first} (no log: {exc})"
    return f"{name}: {first} (log: {_display(task.log)})"


def _display(path: Path) -> str:
    """`path` relative to the working folder when it is inside it, else absolute."""
    try:
        return Path(path).relative_to(Path.cwd()).as_posix()
    except ValueError:
        return str(path)


def _read_manifest(path: Path) -> dict[str, dict]:
    """href -> {fingerprint, sha256} of the pages the last successful build published.

    A manifest that cannot be read, or one of an older custseg (href -> fingerprint alone),
    trusts nothing: every page is rebuilt.
    """
    if not path.is_file():
        return {}
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        return {}
    if not isinstance(manifest, dict):
        return {}
    return {href: entry for href, entry in manifest.items() if isinstance(entry, dict)}


def _is_current(entry: dict | None, fingerprint: str, page: Path) -> bool:
    """The page is the one the manifest vouches for, built from what the study reads now."""
    return (entry is not None and entry.get("fingerprint") == fingerprint and page.is_file()
            and entry.get("sha256") == file_digest(page))


def build_reports(
    config: Config, *, force: bool = False, echo=print, progress: bool = True,
    select: Callable[[list[StudyJob]], list[StudyJob]] | None = None,
    languages: list[str] | None = None,
) -> BuildResult:
    """Build every report of a study that is missing or out of date, in every report language.

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
    languages
        The languages to build (a `--language` switch); None: ``study.languages`` of the config.
        Pages of the main language go to ``output.reports``, the others to ``output.reports/<language>``.

    Returns
    -------
    BuildResult
        Which reports were built, skipped as current, or failed (with why), as paths relative to
        ``output.reports`` ("index.html", "zh/regions/east-china.html"). When a study failed,
        nothing was published: ``built`` is empty and the pages of the last good build are kept.

    Raises
    ------
    ConfigError
        When ``studies.kernel`` names no installed Jupyter kernel (before any study runs).
    """
    from tqdm.auto import tqdm

    data = load_study_data(config)
    check_kernel(config)
    todo: list[_Task] = []
    skipped: list[str] = []
    fingerprints: dict[Path, str] = {}
    manifests: dict[Path, dict[str, dict]] = {}
    stale: dict[Path, list[Path]] = {}
    for language in [i18n.check_language(lang) for lang in (languages or config.study.languages)]:
        planned = plan_studies(data, config, language)
        jobs = planned if select is None else select(planned)
        reports_dir = language_folder(config.output.reports, config, language)
        build_dir = language_folder(config.output.build, config, language)
        files.sweep_temporary(reports_dir)
        files.sweep_temporary(build_dir)
        manifest = _read_manifest(build_dir / "manifest.json")
        current = {job.href for job in planned}
        stale[build_dir] = [reports_dir / href for href in set(manifest) - current]
        manifests[build_dir] = {href: entry for href, entry in manifest.items() if href in current}
        for job in jobs:
            task = _Task(job, language, build_dir, reports_dir, _switch_links(config, language, job.href))
            fingerprints[task.page] = job_fingerprint(job, data.meta["run_fingerprint"])
            if force or not _is_current(manifest.get(job.href), fingerprints[task.page], task.page):
                todo.append(task)
            else:
                skipped.append(_shown(config, task.page))

    failed: dict[str, str] = {}
    staged: list[_Task] = []
    if todo:
        shared = data_characters(data) if any(task.language == "zh" for task in todo) else ""
        # closing: an interrupt in this loop still stops the workers (the generator's cleanup)
        with contextlib.closing(_run_tasks(todo, _provenance(data.meta), config, shared, progress, tqdm)) as results:
            for task, error in results:
                if error is None:
                    staged.append(task)
                else:
                    failed[_shown(config, task.page)] = error
    built: list[str] = []
    if failed:
        echo(f"reports: {len(failed)} of {len(todo)} studies failed; no page published, the pages of the last good "
             f"build are kept in {config.output.reports}")
        for href, error in sorted(failed.items()):
            echo(f"FAILED {href}: {error}")
        return BuildResult([], sorted(skipped), failed)
    for task in staged:  # every study ran through: publish, each page whole
        files.write_bytes(task.page, task.staged.read_bytes())
        task.staged.unlink()
        manifests[task.build_dir][task.job.href] = {"fingerprint": fingerprints[task.page], "sha256": file_digest(task.page)}
        built.append(_shown(config, task.page))
    for build_dir, manifest in manifests.items():
        for page in stale[build_dir]:  # regions or tiers no longer in the data
            page.unlink(missing_ok=True)
        shutil.rmtree(build_dir / "staging", ignore_errors=True)  # emptied folders, pages of failed builds
        files.write_json(build_dir / "manifest.json", dict(sorted(manifest.items())))
    echo(f"reports: {len(built)} built, {len(skipped)} up to date, 0 failed -> {config.output.reports / 'index.html'}")
    return BuildResult(sorted(built), sorted(skipped), failed)


def _run_tasks(todo: list[_Task], provenance: dict, config: Config, shared: str, progress: bool, tqdm):
    """Run the studies in a pool of worker processes; yield (task, error or None) as they finish.

    An interrupt (Ctrl-C, or SIGTERM, which the command line turns into SystemExit) stops the
    workers and their kernels before it goes on; a worker that dies is that study's failure.
    """
    workers = min(len(todo), config.studies.workers or os.cpu_count() or 1)
    # spawn, not fork: the parent may hold threads (ZeroMQ, BLAS) that a fork would copy broken
    context = multiprocessing.get_context("spawn")
    pool = cf.ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init_worker,
                                  initargs=(os.getpid(),))
    try:
        futures = {pool.submit(_run_job, task, provenance, config.studies.kernel, shared): task for task in todo}
        for future in tqdm(cf.as_completed(futures), total=len(futures), desc="studies", unit="study", disable=not progress):
            task = futures[future]
            try:
                yield future.result()
            except cf.process.BrokenProcessPool as exc:
                yield task, _failure(task, "WorkerDied", f"the worker process running this study died ({exc})",
                                     "", task.build_dir / "notebooks" / f"{task.job.name}.ipynb")
    except BaseException:
        _stop_pool(pool)
        raise
    pool.shutdown(wait=True)


def _stop_pool(pool: cf.ProcessPoolExecutor) -> None:
    """Stop every worker now and drop the studies not started; their kernels end by themselves.

    SIGKILL, not SIGTERM: nbclient catches SIGTERM while a notebook runs and carries on.
    """
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for process in processes:
        process.kill()
    for process in processes:
        process.join(timeout=10)
    pool.shutdown(wait=False, cancel_futures=True)


def _shown(config: Config, page: Path) -> str:
    """A page's path relative to the reports folder, with forward slashes."""
    return page.relative_to(config.output.reports).as_posix()


def expected_pages(config: Config) -> list[Path]:
    """The HTML files a complete build of this study produces, in every report language."""
    data = load_study_data(config)
    return [
        language_folder(config.output.reports, config, language) / job.href
        for language in config.study.languages
        for job in plan_studies(data, config, language)
    ]


def table_of_jobs(jobs: list[StudyJob]) -> pd.DataFrame:
    """The plan as a table (for `custseg plan`)."""
    return pd.DataFrame([{"kind": j.kind, "key": j.key, "href": j.href, "note": j.note} for j in jobs])
