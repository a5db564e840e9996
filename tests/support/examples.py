"""The worked example config/sample_tables.yaml, as the tests of queries and databases read it."""

from __future__ import annotations

from pathlib import Path

import yaml

from custseg.paths import PROJECT_ROOT

#: The example's settings as written.
EXAMPLE = yaml.safe_load((PROJECT_ROOT / "config/sample_tables.yaml").read_text(encoding="utf-8"))


def example_inputs(raw: Path) -> dict:
    """The worked example's inputs with their files in `raw`."""
    def moved(value):
        return str(raw / Path(value).name) if isinstance(value, str) else value

    return {name: ({**spec, "sources": {k: moved(v) for k, v in spec["sources"].items()}}
                   if isinstance(spec, dict) else moved(spec))
            for name, spec in EXAMPLE["inputs"].items()}
