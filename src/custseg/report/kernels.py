"""The Jupyter kernels that run the studies: one per worker process, kept for every study the
worker runs (its namespace cleared before each), and a worker that never outlives the build.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.util
import os
import signal
import sys
from pathlib import Path

from custseg import files, paths

# Each worker process keeps one kernel and runs its studies in it one after the other. Starting
# a kernel and importing pandas, matplotlib, seaborn, scikit-learn and custseg in it is slow
# (docs/performance.md), which every study paid again when each ran in a fresh kernel; the user
# namespace is still cleared before each study (%reset), so no study sees another's variables.
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


def init_worker(parent: int) -> None:
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
