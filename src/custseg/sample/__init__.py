"""The bundled sample: a synthetic company whose exports exercise every path of custseg."""

from custseg.sample.generator import (
    CATEGORIES,
    SampleSpec,
    generate_sample,
    write_line_items,
    write_sample,
)

__all__ = ["CATEGORIES", "SampleSpec", "generate_sample", "write_line_items", "write_sample"]
