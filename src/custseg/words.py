"""Words for facts: how a fact that one module hands another reads, in the active language.

Modules pass facts, not prose: a reason code and its figures (``{"reason": "silence", "days": 139,
"cadence": 51}``). Words are made only at the edge that shows them, with the functions here: the
exports in English, each page in its own language (:func:`custseg.i18n.use_language`). Nothing parses
our own sentences back.
"""

from __future__ import annotations
