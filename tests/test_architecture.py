"""The plan of the package, checked: rooms import only what they may.

The layers themselves (intake < segment < studies < report, no cycles between rooms) are the
import contract in ``.importlinter``, which ``make lint`` checks. This test checks what that tool
cannot: that no module uses another module's private names (``_name``), and that a room's private
modules (``custseg/segment/_idcode.py``) are used only inside their room.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from custseg.paths import PACKAGE_DIR


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(PACKAGE_DIR.rglob("*.py"))}


def _room(module: str) -> str:
    """The subpackage a module lives in (``custseg.segment`` for ``custseg.segment.features`` and for
    ``custseg.segment`` itself, its front), or the package for top-level modules."""
    parts = module.split(".")
    if len(parts) == 2 and (PACKAGE_DIR / parts[1]).is_dir():
        return module
    return ".".join(parts[:2]) if len(parts) > 2 else parts[0]


def _imports(path: Path, module: str) -> list[tuple[int, str, str]]:
    """(line, imported module, imported name or "") for every custseg import in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, "") for alias in node.names if alias.name.startswith("custseg")]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # a relative import, resolved against the importing module's package
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            if base.startswith("custseg"):
                found += [(node.lineno, base, alias.name) for alias in node.names]
    return found


MODULES = _modules()


#: gettext's conventional name for "translate this", which every module that shows words imports.
_GETTEXT = "_"


def _violations(modules: dict[str, Path]) -> list[str]:
    problems = []
    for module, path in modules.items():
        for line, target, name in _imports(path, module):
            where = f"{module}:{line}"
            full = f"{target}.{name}" if name else target
            is_module = full in modules
            owner = full if is_module else target
            private_module = next((p for p in owner.split(".")[1:] if p.startswith("_") and p != "__init__"), None)
            if private_module and _room(owner) != _room(module):
                problems.append(f"{where}: {module} uses {owner}, private to {_room(owner)}")
            if name.startswith("_") and name != _GETTEXT and not is_module and target != module:
                problems.append(f"{where}: {module} imports the private name {name} of {target}")
    return problems


def test_the_contract_sees_the_package():
    # A checker that found no modules or no imports would pass on anything.
    assert {"custseg.config", "custseg.intake", "custseg.segment", "custseg.studies"} <= set(MODULES)
    assert sum(len(_imports(path, module)) for module, path in MODULES.items()) > 100


def test_a_room_front_may_use_its_own_private_modules(tmp_path):
    # sklearn's shape: the package's __init__ re-exports names from its private modules.
    path = tmp_path / "__init__.py"
    path.write_text("from custseg.geo._placenames import Found\n", encoding="utf-8")
    assert not [p for p in _violations({**MODULES, "custseg.geo": path}) if p.startswith("custseg.geo:")]


def test_no_module_uses_another_modules_private_names():
    assert _violations(MODULES) == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from custseg.studies.base import _extra\n", "imports the private name _extra"),
        ("from custseg.geo._placenames import Found\n", "private to custseg.geo"),
        ("from custseg.geo import _placenames\n", "private to custseg.geo"),
        ("from custseg.intake._encodings import detect\n", "private to custseg.intake"),
    ],
)
def test_the_checker_catches_a_private_import(tmp_path, source, expected):
    # The same checker on a planted module of the segment room reaching into other rooms.
    path = tmp_path / "planted.py"
    path.write_text(source, encoding="utf-8")
    problems = _violations({**MODULES, "custseg.segment.planted": path})
    planted = [p for p in problems if p.startswith("custseg.segment.planted:1")]
    assert len(planted) == 1 and expected in planted[0]


#: A module longer than this holds more than one idea; split it by idea (see docs/architecture.md).
MAX_MODULE_LINES = 800


def test_no_module_is_over_800_lines():
    lengths = {module: len(path.read_text(encoding="utf-8").splitlines()) for module, path in MODULES.items()}
    assert max(lengths.values()) > 100  # the count sees real modules
    assert {module: n for module, n in lengths.items() if n > MAX_MODULE_LINES} == {}
