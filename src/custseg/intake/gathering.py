"""One input table from the files people get: a pattern of monthly exports, several sheets of a
workbook, a file inside a zip archive; and each row's way back to the file and line it came from.

:func:`read_parts` reads every file a config's ``path`` matches (a pattern such as
``exports/orders-2025-*.csv``, in name order) and, with ``sheets``, every sheet named; each is one
:class:`Part`. :func:`stack` puts their rows under each other in that order, numbering them with
one *ordinal* each in place of their line: the line plus an offset per part, so the ordinals keep
the order of the parts and of the lines within them. Intake works on ordinals, which are unique
and ordered like the rows of one long file (a line-item table split by month gives the same
orders as the whole file); :func:`locate` turns them back into the file and line a person finds
the row at, for the quarantine, the error messages and the clean tables' ``source_file``. With a
single part the offset is 0: the ordinal is the line itself.

:func:`map_columns` renames a file's headers to custseg's names; a file column that already has
the name a mapping gives another column is moved out of the way (``customer_id`` becomes
``customer_id (file)``) rather than left to clash.
"""

from __future__ import annotations

import glob
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from custseg.config import InputFile
from custseg.intake._readerror import CONFIG_HINT, ReadError
from custseg.intake.readers import SOURCE_ROW, RawTable, read_raw, sheet_names

#: The column of a clean table that names the file each row came from, for inputs that read
#: several (a pattern in ``path``, or ``sheets``): its path below the pattern's fixed folder.
SOURCE_FILE = "source_file"

#: The column that names each row's sheet, for inputs with ``sheets``.
SOURCE_SHEET = "source_sheet"

#: What a file's own column is renamed to when a mapping gives its name to another column.
MOVED_ASIDE = "{column} (file)"

_PATTERN_CHARS = "*?["
_OWNER_FILE = "~$"


@dataclass(frozen=True)
class Part:
    """One file (or one sheet of a workbook) of an input, as read."""

    file: Path  # the file read (the archive, for a member of a zip archive)
    name: str  # the file below the folder of the input's pattern (the file's name without a pattern)
    sheet: str | None  # the sheet read, when the input names several
    table: RawTable

    @property
    def label(self) -> str:
        """How messages and the quarantine name the part: its path, and its sheet if several are read."""
        return str(self.file) if self.sheet is None else f"{self.file} (sheet {self.sheet})"


@dataclass(frozen=True)
class Source:
    """Where the rows of one part sit among the ordinals of the stacked table."""

    label: str  # as Part.label
    name: str  # as Part.name
    sheet: str | None
    offset: int  # ordinal = line + offset
    rows: int


def matched_files(path: Path) -> list[Path]:
    """The files ``path`` names: the file itself, or every file its pattern matches, in name order.

    ``*`` and ``?`` match within a name, ``[abc]`` one of the letters, ``**`` any folders below.
    Hidden files (``.name``) and the owner files Office writes beside an open file (``~$name``)
    are no matches.

    Raises
    ------
    ReadError
        When a pattern matches no file.
    """
    path = Path(path)
    if not any(char in str(path) for char in _PATTERN_CHARS):
        return [path]
    # ~$name: the owner file Excel keeps beside a file while it is open, no table (glob already
    # leaves out names starting with a dot, like LibreOffice's .~lock files)
    found = sorted(
        Path(match) for match in glob.glob(str(path), recursive=True)
        if Path(match).is_file() and not Path(match).name.startswith(_OWNER_FILE)
    )
    if not found:
        raise ReadError(
            f"{path}: no file matches this pattern (looked in {_fixed_folder(path)}); check the path "
            + CONFIG_HINT.format(key="path")
        )
    return found


def read_parts(spec: InputFile) -> list[Part]:
    """Every file the input's ``path`` matches, and with ``sheets`` every sheet named, read as text.

    Raises
    ------
    ReadError
        When a pattern matches nothing, a file cannot be read (:func:`custseg.intake.readers.read_raw`),
        or ``sheets`` is set for a file that is no workbook or names a sheet twice.
    """
    files = matched_files(spec.path)
    root = _fixed_folder(Path(spec.path))
    parts = []
    for file in files:
        name = file.relative_to(root).as_posix() if file.is_relative_to(root) else file.name
        options = {"format": spec.format, "encoding": spec.encoding, "delimiter": spec.delimiter,
                   "member": spec.member}
        if spec.sheets is None:
            parts.append(Part(file, name, None, read_raw(file, sheet=spec.sheet, **options)))
            continue
        wanted: Sequence[str | int] = sheet_names(file, spec.member) if spec.sheets == "all" else spec.sheets
        seen: dict[str, str | int] = {}
        for sheet in wanted:
            table = read_raw(file, sheet=sheet, **options)
            if table.format != "excel":
                raise ReadError(
                    f"{file}: sheets is set but this is no Excel workbook ({table.format}); remove sheets "
                    + CONFIG_HINT.format(key="sheets")
                )
            if table.sheet in seen:
                raise ReadError(
                    f"{file}: sheets names sheet {table.sheet!r} twice ({seen[table.sheet]!r} and {sheet!r}); "
                    "name each sheet once " + CONFIG_HINT.format(key="sheets")
                )
            seen[str(table.sheet)] = sheet
            parts.append(Part(file, name, table.sheet, table))
    return parts


def _fixed_folder(path: Path) -> Path:
    """The deepest folder of ``path`` without a pattern character: where its matches are looked for."""
    fixed = Path(path.anchor) if path.is_absolute() else Path()
    for piece in path.parent.parts[len(fixed.parts):]:
        if any(char in piece for char in _PATTERN_CHARS):
            break
        fixed /= piece
    return fixed


def map_columns(frame: pd.DataFrame, columns: Mapping[str, str]) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """A file's frame under custseg's names: each mapped header renamed to its canonical name.

    A file column that already has a canonical name the mapping gives another header (the file
    has ``customer_id`` per order, and ``customer_id: person_id`` is mapped) is renamed to
    :data:`MOVED_ASIDE` first (``customer_id (file)``, with `` 2``, `` 3`` ... if that name is taken),
    so the mapped column wins and the file's own is kept under its new name.

    Returns
    -------
    (frame, moved)
        The renamed frame and the canonical names whose file column was moved aside, in mapping order.
    """
    mapped_headers = set(columns.values())
    moved = tuple(canon for canon, header in columns.items()
                  if header != canon and canon in frame.columns and canon not in mapped_headers)
    aside = {}
    taken = set(frame.columns)
    for canon in moved:
        new, n = MOVED_ASIDE.format(column=canon), 2
        while new in taken:
            new, n = f"{MOVED_ASIDE.format(column=canon)} {n}", n + 1
        aside[canon] = new
        taken.add(new)
    frame = frame.rename(columns=aside)
    return frame.rename(columns={header: canon for canon, header in columns.items()}), moved


def stack(parts: Sequence[Part], frames: Sequence[pd.DataFrame]) -> tuple[pd.DataFrame, tuple[Source, ...]]:
    """The parts' frames under each other, ``source_row`` made the ordinal of each row.

    Parameters
    ----------
    parts
        The parts as read.
    frames
        Each part's frame as intake keeps it (same columns in every one), ending with ``source_row``.

    Returns
    -------
    (frame, sources)
        One frame; where each part's rows sit (:func:`locate` reads it).
    """
    sources, pieces, offset = [], [], 0
    for part, frame in zip(parts, frames):
        rows = frame[SOURCE_ROW].to_numpy(dtype=np.int64)
        sources.append(Source(part.label, part.name, part.sheet, offset, len(frame)))
        pieces.append(frame.assign(**{SOURCE_ROW: rows + offset}) if offset else frame)
        # lines are 1 or more: the next part's first ordinal is above this part's last
        offset += int(rows.max()) if rows.size else 0
    frame = pieces[0] if len(pieces) == 1 else pd.concat(pieces, ignore_index=True)
    return frame, tuple(sources)


def part_of(sources: Sequence[Source], ordinals: np.ndarray | pd.Series) -> np.ndarray:
    """The position in ``sources`` of the part each ordinal belongs to (-1 for an ordinal below 1,
    which names no line: a row intake made itself)."""
    starts = np.asarray([source.offset + 1 for source in sources], dtype=np.int64)
    # side="right": a part without rows shares its start with the next one, which owns the ordinal
    return np.searchsorted(starts, np.asarray(ordinals, dtype=np.int64), side="right") - 1


def locate(sources: Sequence[Source], ordinals: np.ndarray | pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """The part (its position in ``sources``) and the line in it of each ordinal.

    An ordinal below 1 stays as it is, with part -1.
    """
    ordinals = np.asarray(ordinals, dtype=np.int64)
    part = part_of(sources, ordinals)
    offsets = np.asarray([source.offset for source in sources], dtype=np.int64)
    rows = np.where(part >= 0, ordinals - offsets[np.maximum(part, 0)], ordinals)
    return part, rows


def with_sources(frame: pd.DataFrame, sources: Sequence[Source], sheets: bool) -> pd.DataFrame:
    """A clean table's ``source_row`` ordinals turned into lines, with :data:`SOURCE_FILE` (and
    :data:`SOURCE_SHEET` when ``sheets``) after it."""
    part, rows = locate(sources, frame[SOURCE_ROW])
    names = np.asarray([source.name for source in sources] + [""], dtype=object)[part]
    extra = {SOURCE_FILE: pd.array(names, dtype="str")}
    if sheets:
        sheet_of = np.asarray([source.sheet or "" for source in sources] + [""], dtype=object)
        extra[SOURCE_SHEET] = pd.array(sheet_of[part], dtype="str")
    located = frame.assign(**{SOURCE_ROW: rows.astype(np.int64)})
    at = list(located.columns).index(SOURCE_ROW) + 1
    for offset, (column, values) in enumerate(extra.items()):
        located.insert(at + offset, column, values)
    return located


def differing_column(reference: Sequence[str], columns: Sequence[str]) -> tuple[str, bool] | None:
    """The first column in which two parts differ and whether the second part lacks it (else it
    has it as the only one); None when they hold the same columns."""
    lacking = [column for column in reference if column not in columns]
    if lacking:
        return lacking[0], True
    extra = [column for column in columns if column not in reference]
    return (extra[0], False) if extra else None
