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
import multiprocessing
import os
import re
import shutil
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO, TypeVar

from custseg import files, i18n, processed
from custseg.config import Config, ConfigError
from custseg.report.html import data_characters, language_folder, provenance, render_html, switch_links
from custseg.report.kernels import execute_study, init_worker
from custseg.report.manifest import is_current, job_fingerprint, read_manifest
from custseg.studies.plan import StudyJob, plan_studies

T = TypeVar("T")


@dataclass(frozen=True)
class BuildResult:
    built: list[str]  # published by this build (none when a study failed)
    skipped: list[str]
    failed: dict[str, str]  # href -> what went wrong, one line naming the log


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
    data = processed.load(config, tables=())
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
        manifest = read_manifest(build_dir / "manifest.json")
        current = {job.href for job in planned}
        stale[build_dir] = [reports_dir / href for href in set(manifest) - current]
        manifests[build_dir] = {href: entry for href, entry in manifest.items() if href in current}
        for job in jobs:
            task = _Task(job, language, build_dir, reports_dir, switch_links(config, language, job.href))
            fingerprints[task.page] = job_fingerprint(job, data.meta.run_fingerprint)
            if force or not is_current(manifest.get(job.href), fingerprints[task.page], task.page):
                todo.append(task)
            else:
                skipped.append(_shown(config, task.page))

    failed: dict[str, str] = {}
    staged: list[_Task] = []
    if todo:
        shared = data_characters(data) if any(task.language == "zh" for task in todo) else ""
        # closing: an interrupt in this loop still stops the workers (the generator's cleanup)
        with contextlib.closing(_run_tasks(todo, provenance(data.meta), config, shared, progress)) as results:
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
        manifests[task.build_dir][task.job.href] = {
            "fingerprint": fingerprints[task.page], "sha256": files.file_digest(task.page),
        }
        built.append(_shown(config, task.page))
    for build_dir, manifest in manifests.items():
        for page in stale[build_dir]:  # regions or tiers no longer in the data
            page.unlink(missing_ok=True)
        shutil.rmtree(build_dir / "staging", ignore_errors=True)  # emptied folders, pages of failed builds
        files.write_json(build_dir / "manifest.json", dict(sorted(manifest.items())))
    echo(f"reports: {len(built)} built, {len(skipped)} up to date, 0 failed -> {config.output.reports / 'index.html'}")
    return BuildResult(sorted(built), sorted(skipped), failed)


def progress_steps(items: Iterable[T], total: int, what: str, stream: TextIO | None = None) -> Iterator[T]:
    """Yield ``items``, showing how many of ``total`` are done on ``stream`` (stderr by default).

    On a terminal this is tqdm's bar. Anywhere else (a log file, CI, a pipe) a bar's carriage-return
    frames would pile up into one unreadable line, so progress is plain lines instead: one at every
    tenth of the way and one at the end, e.g. ``studies: 9 of 45 done (20%), 31 s``.
    """
    stream = sys.stderr if stream is None else stream
    if stream.isatty():
        from tqdm.auto import tqdm

        yield from tqdm(items, total=total, desc=what, unit=what.removesuffix("s"), file=stream)
        return
    started = time.monotonic()
    shown = 0
    for done, item in enumerate(items, start=1):
        yield item
        if done * 10 // max(total, 1) > shown * 10 // max(total, 1) or done == total:
            shown = done
            print(f"{what}: {done} of {total} done ({done * 100 // max(total, 1)}%), "
                  f"{time.monotonic() - started:.0f} s", file=stream, flush=True)


def _run_tasks(todo: list[_Task], provenance: dict, config: Config, shared: str, progress: bool):
    """Run the studies in a pool of worker processes; yield (task, error or None) as they finish.

    An interrupt (Ctrl-C, or SIGTERM, which the command line turns into SystemExit) stops the
    workers and their kernels before it goes on; a worker that dies is that study's failure.
    """
    workers = min(len(todo), config.studies.workers or os.cpu_count() or 1)
    # spawn, not fork: the parent may hold threads (ZeroMQ, BLAS) that a fork would copy broken
    context = multiprocessing.get_context("spawn")
    pool = cf.ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=init_worker,
                                  initargs=(os.getpid(),))
    try:
        futures = {pool.submit(_run_job, task, provenance, config.studies.kernel, shared): task for task in todo}
        finished = cf.as_completed(futures)
        for future in progress_steps(finished, len(futures), "studies") if progress else finished:
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
    # wait=True joins the pool's manager thread, which finds its workers dead and closes its wakeup
    # pipe; left running, it can close that pipe while the interpreter's exit hook writes to it
    # (CPython 3.11 concurrent.futures), and the interrupt ends in an OSError traceback.
    pool.shutdown(wait=True, cancel_futures=True)


def _shown(config: Config, page: Path) -> str:
    """A page's path relative to the reports folder, with forward slashes."""
    return page.relative_to(config.output.reports).as_posix()


def expected_pages(config: Config) -> list[Path]:
    """The HTML files a complete build of this study produces, in every report language."""
    data = processed.load(config, tables=())
    return [
        language_folder(config.output.reports, config, language) / job.href
        for language in config.study.languages
        for job in plan_studies(data, config, language)
    ]
