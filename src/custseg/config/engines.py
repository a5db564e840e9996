"""The ``engine:`` section: which engine reads and cleans the big fact table.

``pandas`` (the default) reads every input into memory, as custseg always has. ``duckdb`` hands
the fact table (``line_items``, or ``orders`` when there are no line items) to DuckDB, which reads
it with a memory limit and spills to a folder on disk, so an export larger than memory can be
cleaned (docs/config.md, "engine"). ``spark`` does the same on Apache Spark: local mode on one
machine, or the cluster ``master`` names (docs/scale.md). The small tables stay on the pandas
intake either way.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from custseg.config.sections import Output, Strict

#: A DuckDB memory size: a number and a unit (``6GB``, ``512MB``, ``1.5GiB``).
_SIZE = re.compile(r"^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$", re.IGNORECASE)

#: The spill folder's name under ``output.build`` when ``engine.temp_directory`` is not set.
SPILL_FOLDER = "duckdb-spill"

#: The keys that only one engine reads: set with another engine, they would be silently ignored.
_ONLY = {"duckdb": ("memory_limit", "temp_directory", "threads"), "spark": ("master", "spark_conf")}


class Engine(Strict):
    """Where intake's heavy work runs (docs/config.md, ``engine``)."""

    name: Literal["pandas", "duckdb", "spark"] = "pandas"
    memory_limit: str | None = None  # DuckDB's memory_limit ("6GB"); None: DuckDB's default (80% of RAM)
    temp_directory: Path | None = None  # where DuckDB spills; None: output.build / duckdb-spill
    threads: int | None = Field(default=None, ge=1)  # None: DuckDB's default (one per core)
    workers: int | None = Field(default=None, ge=1)  # processes cleaning pieces at once; None: one per core, up to 4
    master: str | None = None  # Spark's master URL ("spark://host:7077", "yarn"); None: local[*]
    spark_conf: dict[str, str] = Field(default_factory=dict)  # settings for Spark's session builder

    @model_validator(mode="after")
    def _one_engine(self) -> Engine:
        for engine, keys in _ONLY.items():
            given = [key for key in keys if key in self.model_fields_set and getattr(self, key) not in (None, {})]
            if given and self.name not in (engine, "pandas"):  # pandas ignores both, as it always has
                raise ValueError(f"{', '.join(given)} {'is' if len(given) == 1 else 'are'} read by engine "
                                 f"{engine} only, not by {self.name}: remove {'it' if len(given) == 1 else 'them'} "
                                 f"or set name: {engine}")
        return self

    @field_validator("spark_conf", mode="before")
    @classmethod
    def _texts(cls, value: object) -> object:
        # YAML reads `spark.sql.shuffle.partitions: 8` as a number and `...enabled: true` as a bool;
        # Spark takes every setting as text
        if isinstance(value, dict):
            return {key: str(v).lower() if isinstance(v, bool) else str(v) if isinstance(v, int | float) else v
                    for key, v in value.items()}
        return value

    @field_validator("master")
    @classmethod
    def _master(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("master must be a Spark master URL such as 'local[4]' or 'spark://host:7077'")
        return value.strip() if value is not None else None

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
