"""Zip archives as exports come: the one table inside read without being unpacked first.

Private to :mod:`custseg.intake`: :func:`custseg.intake.readers.read_raw` hands ``.zip`` files here
and reads the member's bytes as the file its name says (CSV, Excel or Parquet).
"""

from __future__ import annotations

import zipfile
from pathlib import Path, PurePosixPath

from custseg.intake._readerror import CONFIG_HINT, ReadError

# What archivers add beside the data: macOS resource forks and Finder files, folder entries.
_JUNK_PREFIX = "__MACOSX/"
_JUNK_NAMES = {".DS_Store", "Thumbs.db", "desktop.ini"}


def tables_in(path: Path, archive: zipfile.ZipFile) -> list[str]:
    """The members of an archive that can hold a table, in the archive's order."""
    return [
        info.filename for info in archive.infolist()
        if not info.is_dir() and not info.filename.startswith(_JUNK_PREFIX)
        and PurePosixPath(info.filename).name not in _JUNK_NAMES
        and not PurePosixPath(info.filename).name.startswith("._")
    ]


def member_bytes(path: Path, member: str | None) -> tuple[str, bytes]:
    """The name and bytes of the member to read: the only one, or the one ``member`` names.

    Raises
    ------
    ReadError
        When the file is no zip archive, holds no file or several without ``member`` set (the
        message lists them), lacks the named member, or the member is encrypted or damaged.
    """
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ReadError(f"{path}: cannot be opened as a zip archive ({exc}); download or export it again") from None
    with archive:
        names = tables_in(path, archive)
        listing = ", ".join(repr(name) for name in names)
        if not names:
            raise ReadError(f"{path}: the zip archive holds no file; export the table again")
        if member is None:
            if len(names) > 1:
                raise ReadError(
                    f"{path}: the zip archive holds {len(names)} files ({listing}); name the one to read "
                    "with member " + CONFIG_HINT.format(key="member")
                )
            name = names[0]
        elif member in names:
            name = member
        else:
            raise ReadError(
                f"{path}: the zip archive has no file {member!r}; it holds {listing}. Set member to one of "
                "them " + CONFIG_HINT.format(key="member")
            )
        try:
            return name, archive.read(name)
        except RuntimeError as exc:  # zipfile's word for an encrypted member
            raise ReadError(
                f"{path}: {name!r} in the zip archive cannot be read ({exc}); unpack it with its password "
                "and point the config at the file"
            ) from None
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise ReadError(f"{path}: {name!r} in the zip archive is damaged ({exc}); export it again") from None
