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
import csv
import errno
import functools
import hashlib
import io
import json
import multiprocessing
import os
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

#: First characters that make a spreadsheet read a cell as a formula (or, for tab and carriage
#: return, hide such a start from a reviewer), with their full-width forms, which some Excel
#: versions for East Asian locales read as formulas too.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
#: A cell that is a plain decimal number evaluates to itself, so ``-12.5`` stays a number.
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_TEMPORARY = re.compile(r"\.tmp-(\d+)$")
#: Rows of a CSV made into lines at a time (:func:`_write_arrow_csv`): their text, not the table's.
CSV_BATCH_ROWS = 1 << 18
_BOM = "\ufeff".encode()
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
    for column in frame.columns:
        if not _is_text(frame[column]):
            continue
        # a vectorised look at the first character leaves the few candidates to judge one by one
        maybe = _formula_candidates(frame[column])
        if maybe is None:  # no strings in the column: nothing to neutralise
            continue
        candidates = np.flatnonzero(maybe)
        if not len(candidates):
            continue
        picked = frame[column].iloc[candidates].to_numpy(dtype=object, na_value=None)
        hits = candidates[[isinstance(value, str) and needs_neutralising(value) for value in picked]]
        if len(hits):
            values = frame[column].to_numpy(dtype=object, na_value=None).copy()
            values[hits] = ["'" + value for value in values[hits]]
            changed[column] = pd.Series(values, index=frame.index, dtype=object)
    return frame.assign(**changed) if changed else frame


def _formula_candidates(values: pd.Series) -> np.ndarray | None:
    """Which cells of a text column may start like a formula (or with a quote): at least every
    one that does, as booleans; None when the column holds no string at all."""
    text = _arrow_text(values)
    if text is None:  # numbers or bytes among the strings: pandas looks at each
        starts = (*FORMULA_STARTS, "'")
        try:
            return values.str.startswith(starts).fillna(False).to_numpy(dtype=bool)
        except AttributeError:  # no strings in the column (.str refuses it)
            return None
        except TypeError:  # bytes among the values: every cell is looked at
            return np.ones(len(values), dtype=bool)
    # a cell that starts with one of them starts with its first UTF-8 byte: a look at every cell's
    # first byte, in C, without making each cell a Python string (the full-width forms share
    # theirs with other characters, which the caller's exact test then tells apart)
    offsets, data = _text_buffers(text)
    first = np.zeros(len(text), dtype=np.uint8)
    filled = offsets[1:] > offsets[:-1]
    first[filled] = data[offsets[:-1][filled]]
    return _formula_first_bytes()[first]


@functools.cache
def _formula_first_bytes() -> np.ndarray:
    """A table of 256 booleans: the first UTF-8 bytes of :data:`FORMULA_STARTS` and of ``'``."""
    table = np.zeros(256, dtype=bool)
    table[[start.encode("utf-8")[0] for start in (*FORMULA_STARTS, "'")]] = True
    return table


def _arrow_text(values: pd.Series) -> pa.LargeStringArray | None:
    """A text column as one Arrow array of strings (missing cells null), when it holds strings
    and missing values only; else None (numbers, bytes and such, which pandas writes with str())."""
    # an object column may hold anything: only strings (and missing values) are taken as text
    if values.dtype == object and pd.api.types.infer_dtype(values, skipna=True) not in ("string", "empty"):
        return None
    try:
        text = pa.array(values, type=pa.large_string(), from_pandas=True)
    except (pa.ArrowException, UnicodeError):  # a lone surrogate: pandas says it (or writes it)
        return None
    return text.combine_chunks() if isinstance(text, pa.ChunkedArray) else text


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
    # text and whole numbers in our own settings are made into lines by Arrow, byte for byte what
    # pandas writes for them: pandas formats every cell in Python, slow for a quarantine of millions
    cells = None if options else _arrow_cells(shown)
    if cells is not None:
        return atomic_write(path, lambda tmp: _write_arrow_csv(list(shown.columns), cells, tmp))
    settings = {"index": False, "encoding": "utf-8-sig", "lineterminator": "\n", **options}
    return atomic_write(path, lambda tmp: shown.to_csv(tmp, **settings))


def _arrow_cells(frame: pd.DataFrame) -> list[pa.Array] | None:
    """`frame`'s columns as Arrow arrays, when :func:`_write_arrow_csv` writes them as pandas would;
    else None (pandas writes the frame).

    That is: two columns or more (a lone empty cell is written ``""``), every label a string, and
    every column text (strings and missing values only) or a NumPy integer.
    """
    if frame.shape[1] < 2 or isinstance(frame.columns, pd.MultiIndex):
        return None
    if not all(isinstance(label, str) for label in frame.columns):
        return None
    cells = []
    for i in range(frame.shape[1]):
        values = frame.iloc[:, i]
        if isinstance(values.dtype, np.dtype) and values.dtype.kind in "iu":  # not pandas' Int64 and such
            cells.append(pa.array(values.to_numpy()))
            continue
        text = _arrow_text(values) if _is_text(values) and not isinstance(values.dtype, pd.CategoricalDtype) else None
        if text is None:
            return None
        cells.append(text)
    return cells


def _write_arrow_csv(header: list[str], cells: list[pa.Array], path: Path) -> None:
    """Write the columns `cells` under `header` as :meth:`pandas.DataFrame.to_csv` does in
    :func:`write_csv`'s settings: UTF-8 with a byte-order mark, ``\\n`` line ends, a cell quoted
    (its quotes doubled) when Python's CSV writer would quote it, a missing one empty."""
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerow(header)
    rows = len(cells[0])
    with open(path, "wb") as handle:
        handle.write(_BOM + text.getvalue().encode("utf-8"))
        for start in range(0, rows, CSV_BATCH_ROWS):
            fields = [_csv_field(column.slice(start, CSV_BATCH_ROWS)) for column in cells]
            # the line's end joined to its last cell: then every cell is joined by commas
            fields[-1] = pc.binary_join_element_wise(fields[-1], _text(""), _text("\n"))
            lines = pc.binary_join_element_wise(*fields, _text(","))
            handle.write(_text_bytes(lines))


def _csv_field(column: pa.Array) -> pa.LargeStringArray:
    """Each cell of `column` as the CSV shows it: as text, missing ones empty, quoted when needed."""
    cells = pc.fill_null(pc.cast(column, pa.large_string()), _text(""))
    offsets, data = _text_buffers(cells)
    # the characters that make a cell quoted are ASCII, and a UTF-8 byte below 128 is that
    # character: looking at the bytes finds the cells (a few, most often none) without a loop,
    # first whether there is any (a byte search: much faster than the table of bytes)
    body = data[offsets[0]:offsets[-1]]
    raw = body.tobytes()
    table = _quoted_bytes()
    if not any(bytes([code]) in raw for code in np.flatnonzero(table)):
        return cells
    hits = np.flatnonzero(table[body])
    rows = np.unique(np.searchsorted(offsets, hits + offsets[0], side="right") - 1)
    quoted = pc.binary_join_element_wise(
        _text('"'), pc.replace_substring(cells.take(pa.array(rows)), '"', '""'), _text('"'), _text(""))
    mask = np.zeros(len(cells), dtype=bool)
    mask[rows] = True
    return pc.replace_with_mask(cells, pa.array(mask), quoted)


def _text(value: str) -> pa.Scalar:
    return pa.scalar(value, pa.large_string())


def _text_buffers(cells: pa.LargeStringArray) -> tuple[np.ndarray, np.ndarray]:
    """The offsets of `cells` (one more than cells) and the bytes they point into."""
    _, offsets, data = cells.buffers()
    if offsets is None:  # no cell at all
        return np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.uint8)
    starts = np.frombuffer(offsets, dtype=np.int64)[cells.offset:cells.offset + len(cells) + 1]
    return starts, (np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, dtype=np.uint8))


def _text_bytes(cells: pa.LargeStringArray) -> memoryview:
    """Every cell's UTF-8 bytes, one after the other."""
    offsets, data = _text_buffers(cells)
    return memoryview(data[offsets[0]:offsets[-1]])


@functools.cache
def _quoted_bytes() -> np.ndarray:
    """Which ASCII characters make Python's CSV writer quote a cell (``,``, ``"`` and ``\\n`` in
    :func:`write_csv`'s settings), as a table of 256 bytes: asked of the writer, whose rules have
    changed between Python versions."""
    table = np.zeros(256, dtype=bool)
    for code in range(128):
        text = io.StringIO()
        try:
            csv.writer(text, lineterminator="\n").writerow([f"a{chr(code)}b", ""])
        except csv.Error:  # a character this Python's writer refuses unquoted (none in 3.11)
            table[code] = True
            continue
        table[code] = text.getvalue().startswith('"')
    return table


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
