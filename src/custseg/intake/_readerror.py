"""What intake raises for a file it cannot read, and how such messages point at the config.

Private to :mod:`custseg.intake`; :class:`ReadError` is public as :class:`custseg.intake.ReadError`
(and :class:`custseg.intake.readers.ReadError`).
"""

from __future__ import annotations

#: The end of a message that names a setting of the file's input to change (``.format(key=...)``).
CONFIG_HINT = "for this input in the config (inputs.<table>.{key})"


class ReadError(ValueError):
    """A file that cannot be read; the message names the file, the line or row, and what to do."""
