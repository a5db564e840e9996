"""Every file custseg writes goes through here: written whole or not at all, safe to open.

- **Atomic.** A file is written to ``<name>.tmp-<pid>`` in its own folder, flushed to disk and
  renamed over its final name (:func:`os.replace`, atomic on one file system). A reader, or a
  rerun after the build was killed, sees the old file or the new one, never half of one.
- **Safe to open.** CSV files are opened in Excel and imported into CRMs, which take a cell such
  as ``=HYPERLINK("http://x","y")`` for a formula. :func:`neutralise_frame` prefixes a single
  quote to every text cell that starts like a formula, as OWASP recommends for CSV injection;
  Parquet copies keep the values as they are (no spreadsheet evaluates Parquet).
- **One-line errors.** A read-only folder or a full disk becomes :class:`OutputError`, naming
  the path and the system's reason, instead of a traceback from deep inside pandas.

Faults can be injected for tests: with ``CUSTSEG_FAULT_KILL_AT_WRITE=N`` in the environment,
the main process dies (``os._exit``) halfway through writing its N-th file, as a build killed
at that moment would.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import multiprocessing
import os
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

#: First characters that make a spreadsheet read a cell as a formula (or, for tab and carriage
#: return, hide such a start from a reviewer), with their full-width forms, which some Excel
#: versions for East Asian locales read as formulas too.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
#: A cell that is a plain decimal number evaluates to itself, so ``-12.5`` stays a number.
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_TEMPORARY = re.compile(r"\.tmp-(\d+)$")
#: Environment variable of the fault tests (see the module docstring).
FAULT_VARIABLE = "CUSTSEG_FAULT_KILL_AT_WRITE"
FAULT_EXIT_CODE = 70

_writes = 0  # files this process has written, for the fault tests


class OutputError(RuntimeError):
    """An output file that could not be written; the message names the path and the reason."""


def needs_neutralising(text: str) -> bool:
    """True when a spreadsheet could take `text` for a formula, also after quotes we prefixed.

    A cell already starting with ``'`` is judged by what follows its quotes, so that
    :func:`restore` can tell our prefix from a quote that was in the data.
    """
    bare = text.lstrip("'")
    return bare[:1] in FORMULA_STARTS and not _PLAIN_NUMBER.fullmatch(bare)


def neutralise(text: str) -> str:
    """``'`` + `text` when it starts like a formula (OWASP), else `text` unchanged."""
    return "'" + text if needs_neutralising(text) else text


def restore(text: str) -> str:
    """The value :func:`neutralise` was given: the one prefixed quote taken off again."""
    return text[1:] if text.startswith("'") and needs_neutralising(text[1:]) else text


def _is_text(values: pd.Series) -> bool:
    dtype = values.dtype
    return (pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype)
            or isinstance(dtype, pd.CategoricalDtype))


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` whose text cells cannot run as spreadsheet formulas.

    Which cells are text is decided by the column's dtype: numeric, boolean and date columns are
    written as they are, so a negative amount ``-12.5`` stays a number. In a text column (object,
    string or categorical) every string that starts with ``= + - @``, a tab, a carriage return or
    a full-width ``＝ ＋ － ＠`` gets a leading ``'``, unless it is a plain number such as ``-3``
    (which evaluates to itself); so does a string starting with ``'`` followed by one of them,
    which keeps the prefix reversible (:func:`restore`).
    """
    changed = {}
    starts = (*FORMULA_STARTS, "'")
    for column in frame.columns:
        if not _is_text(frame[column]):
            continue
        # a vectorised look at the first character leaves the few candidates to judge one by one
        try:
            maybe = frame[column].str.startswith(starts).fillna(False).to_numpy(dtype=bool)
        except AttributeError:  # no strings in the column (.str refuses it): nothing to neutralise
            continue
        except TypeError:  # bytes among the values: every cell is looked at
            maybe = np.ones(len(frame), dtype=bool)
        if not maybe.any():
            continue
        values = frame[column].to_numpy(dtype=object, na_value=None)
        hits = [i for i in np.flatnonzero(maybe) if isinstance(values[i], str) and needs_neutralising(values[i])]
        if hits:
            values = values.copy()
            values[hits] = ["'" + values[i] for i in hits]
            changed[column] = pd.Series(values, index=frame.index, dtype=object)
    return frame.assign(**changed) if changed else frame


def restore_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` read back from a CSV that :func:`write_csv` wrote, with the text cells as they were."""
    changed = {
        column: frame[column].map(lambda v: restore(v) if isinstance(v, str) else v)
        for column in frame.columns if _is_text(frame[column])
    }
    return frame.assign(**changed) if changed else frame


def _error(path: Path, exc: OSError) -> OutputError:
    code = errno.errorcode.get(exc.errno or 0, "")
    reason = exc.strerror or str(exc)
    return OutputError(f"cannot write {path}: {reason}" + (f" ({code})" if code else ""))


def _fault_due() -> bool:
    """True when this write is the one the fault tests asked to die in (main process only: a
    worker of the report build is a process of its own, and the fault is the build's)."""
    global _writes
    wanted = os.environ.get(FAULT_VARIABLE)
    if not wanted or multiprocessing.parent_process() is not None:
        return False
    _writes += 1
    return _writes == int(wanted)


def atomic_write(path: Path, write: Callable[[Path], None]) -> Path:
    """Write `path` whole or not at all: `write` fills a temporary file that replaces `path`.

    Parameters
    ----------
    path
        The file to write; its folder is created when missing.
    write
        Writes the content to the path it is given (a temporary name in the same folder).

    Returns
    -------
    Path
        `path`.

    Raises
    ------
    OutputError
        When the folder cannot be created or written (read-only, full, not a folder); the
        temporary file is removed and the file at `path`, if any, is left as it was.
    """
    path = Path(path)
    temporary = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write(temporary)
        if _fault_due():
            with open(temporary, "r+b") as handle:  # a torn write: half the bytes, then the kill
                handle.truncate(os.path.getsize(temporary) // 2)
            os._exit(FAULT_EXIT_CODE)
        with open(temporary, "rb+") as handle:
            # on disk before the rename, so a crash cannot leave the new name with no content
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except OSError as exc:
        _discard(temporary)
        raise _error(path, exc) from exc
    except BaseException:
        # a bug or an interrupt while writing: no temporary file is left behind either
        _discard(temporary)
        raise
    return path


def _discard(temporary: Path) -> None:
    """Remove a temporary file after a failed write, if there is one to remove."""
    # Only the error that stopped the write is worth telling: the folder may be missing, not a
    # folder or read-only, and removing the file fails for the same reason, or nothing was written.
    with contextlib.suppress(OSError):
        temporary.unlink(missing_ok=True)


def write_bytes(path: Path, data: bytes) -> Path:
    """Write `data` to `path` atomically (see :func:`atomic_write`)."""
    return atomic_write(path, lambda tmp: tmp.write_bytes(data))


def write_text(path: Path, text: str) -> Path:
    """Write UTF-8 `text` to `path` atomically."""
    return write_bytes(path, text.encode("utf-8"))


def write_json(path: Path, data: object) -> Path:
    """Write `data` as indented UTF-8 JSON (non-ASCII kept readable) to `path` atomically."""
    return write_text(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def write_parquet(frame: pd.DataFrame, path: Path) -> Path:
    """Write `frame` (without its index) as Parquet atomically; values are kept as they are."""
    return atomic_write(path, lambda tmp: frame.to_parquet(tmp, index=False))


def write_csv(frame: pd.DataFrame, path: Path, *, formulas: str = "neutralise", **options) -> Path:
    """Write `frame` as a CSV for Excel and CRMs: UTF-8 with a byte-order mark, ``\\n`` line ends,
    no index, text cells neutralised (:func:`neutralise_frame`), atomically.

    Parameters
    ----------
    frame
        The table.
    path
        Where it goes.
    formulas
        ``"neutralise"`` (every output of a study); ``"keep"`` only for the generated sample
        company, which plays a company's raw export and must hold what such an export holds.
    **options
        Passed on to :meth:`pandas.DataFrame.to_csv` (``float_format``, ``encoding``...).
    """
    if formulas not in {"neutralise", "keep"}:
        raise ValueError(f"formulas must be 'neutralise' or 'keep', got {formulas!r}")
    shown = neutralise_frame(frame) if formulas == "neutralise" else frame
    settings = {"index": False, "encoding": "utf-8-sig", "lineterminator": "\n", **options}
    return atomic_write(path, lambda tmp: shown.to_csv(tmp, **settings))


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes, read in blocks so large exports do not fill memory."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sweep_temporary(folder: Path) -> list[Path]:
    """Remove temporary files that a killed run left in `folder` (their process is gone).

    A temporary file of a process still running (another build writing right now) is kept.

    Returns
    -------
    list of Path
        The files removed.
    """
    removed = []
    if not Path(folder).is_dir():
        return removed
    for path in Path(folder).rglob("*.tmp-*"):
        match = _TEMPORARY.search(path.name)
        if match is None or not path.is_file() or process_alive(int(match.group(1))):
            continue
        path.unlink(missing_ok=True)
        removed.append(path)
    return removed


def process_alive(pid: int) -> bool:
    """Whether process `pid` runs (this one does; another user's counts as running)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True
