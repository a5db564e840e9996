"""The ``engine:`` section: which engine reads and cleans the big fact table.

``pandas`` (the default) reads every input into memory, as custseg always has. ``duckdb`` hands
the fact table (``line_items``, or ``orders`` when there are no line items) to DuckDB, which reads
it with a memory limit and spills to a folder on disk, so an export larger than memory can be
cleaned (docs/config.md, "engine"). The small tables stay on the pandas intake either way.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from custseg.config.sections import Output, Strict

#: A DuckDB memory size: a number and a unit (``6GB``, ``512MB``, ``1.5GiB``).
_SIZE = re.compile(r"^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$", re.IGNORECASE)

#: The spill folder's name under ``output.build`` when ``engine.temp_directory`` is not set.
SPILL_FOLDER = "duckdb-spill"


class Engine(Strict):
    """Where intake's heavy work runs (docs/config.md, ``engine``)."""

    name: Literal["pandas", "duckdb"] = "pandas"
    memory_limit: str | None = None  # DuckDB's memory_limit ("6GB"); None: DuckDB's default (80% of RAM)
    temp_directory: Path | None = None  # where DuckDB spills; None: output.build / duckdb-spill
    threads: int | None = Field(default=None, ge=1)  # None: DuckDB's default (one per core)

    @field_validator("memory_limit")
    @classmethod
    def _size(cls, value: str | None) -> str | None:
        if value is not None and not _SIZE.match(value.strip()):
            raise ValueError(f"memory_limit must be a size such as '6GB' or '512MB', got {value!r}")
        return value.strip() if value is not None else None

    def spill_folder(self, output: Output) -> Path:
        """The folder DuckDB spills to: ``temp_directory``, else a folder under ``output.build``."""
        return self.temp_directory or output.build / SPILL_FOLDER

    def is_default(self) -> bool:
        """Whether nothing was asked of the engine (the fingerprint of such a config ignores it)."""
        return self == Engine()
