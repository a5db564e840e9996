"""The project's scripts in tools/ (not part of the package), importable from the tests.

``tools/`` is put on ``sys.path`` as running a script there would put it, so a tool imports its
neighbours the same way under test as when it runs.
"""

from __future__ import annotations

import sys

from custseg.paths import PROJECT_ROOT

TOOLS = PROJECT_ROOT / "tools"
if str(TOOLS) not in sys.path:
    sys.path.insert(0, str(TOOLS))

from rfm_summary import rfm_features  # noqa: E402 (tools/ must be on the path first)
from update_messages import extract_messages, label_messages  # noqa: E402

__all__ = ["TOOLS", "extract_messages", "label_messages", "rfm_features"]
