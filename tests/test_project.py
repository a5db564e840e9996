"""The project's own files: environment pins agree, the package declares what it imports,
notebooks are committed clean and thin."""

import ast
import importlib.metadata
import json
import os
import re
import subprocess
import sys
import tomllib

import nbformat
import papermill
import pytest
import yaml
from packaging.requirements import Requirement

from custseg import paths

ROOT = paths.PROJECT_ROOT
sys.path.insert(0, str(ROOT / "tools"))
from write_environment_yml import CONDA_NAMES, PIP_ONLY, read_pins, render  # noqa: E402


def test_requirements_are_all_exact_pins():
    pins = read_pins(ROOT / "requirements.txt")
    assert len(pins) > 50
    bad = [p for p in pins if not re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[A-Za-z0-9_.+\-]+", p)]
    assert bad == []


def test_environment_yml_carries_the_same_pins():
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    deps = env["dependencies"]
    assert env["channels"] == ["conda-forge"] and "python=3.11" in deps and "pip" in deps
    pip_section = next(d["pip"] for d in deps if isinstance(d, dict))
    assert pip_section[-2:] == ["-e .", "./jupyter-kernel"]
    conda = [d for d in deps if isinstance(d, str) and d not in {"pip", "python=3.11"}]
    # every pin once, at its version: from conda-forge under conda-forge's name (the PyPI ->
    # conda-forge map read backwards; other names are PyPI's), or through pip
    pypi_of = {conda_name: pypi for pypi, conda_name in CONDA_NAMES.items()}
    found: dict[str, str] = {}
    for spec in conda:
        name, version = spec.split("==")
        found[pypi_of.get(name, _canonical(name))] = version
    for pin in pip_section[:-2]:
        name, version = pin.split("==")
        assert _canonical(name) in PIP_ONLY, pin
        found[_canonical(name)] = version
    required = {_canonical(pin.split("==")[0]): pin.split("==")[1] for pin in read_pins(ROOT / "requirements.txt")}
    assert found == required
    assert len(found) == len(conda) + len(pip_section) - 2  # no package twice
    # conda-forge's own names where they differ from PyPI's (python-duckdb, python-tzdata: conda's
    # "tzdata" is the system database), and the library builds without GUI toolkits
    for spec in ("python-duckdb==", "python-tzdata==", "matplotlib-base==", "nbconvert-core==", "stack_data=="):
        assert any(d.startswith(spec) for d in conda), spec
    assert not any(d.startswith(("duckdb==", "tzdata==", "matplotlib==")) for d in conda)
    assert len(pip_section) <= len(conda) / 10  # pip only for what conda-forge lacks
    # and it is exactly what `make lock` would write
    assert (ROOT / "environment.yml").read_text(encoding="utf-8") == render(read_pins(ROOT / "requirements.txt"))


def test_the_kernel_package_puts_a_working_custseg_kernel_into_the_environment(tmp_path):
    # jupyter-kernel/ installs kernel.json as share/jupyter/kernels/custseg (its data files); laid
    # out so here, Jupyter finds it and the kernel it starts is this environment's Python
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    project = tomllib.loads((ROOT / "jupyter-kernel" / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["tool"]["setuptools"]["data-files"] == {"share/jupyter/kernels/custseg": ["kernel.json"]}
    notebook_kernel = json.loads((ROOT / "notebooks" / "overview.ipynb").read_text(encoding="utf-8"))
    assert notebook_kernel["metadata"]["kernelspec"]["name"] == "custseg"
    kernels = tmp_path / "share" / "jupyter" / "kernels" / "custseg"
    kernels.mkdir(parents=True)
    (kernels / "kernel.json").write_bytes((ROOT / "jupyter-kernel" / "kernel.json").read_bytes())
    manager = KernelSpecManager(kernel_dirs=[str(tmp_path / "share" / "jupyter" / "kernels")])
    assert manager.get_kernel_spec("custseg").argv[:3] == ["python", "-m", "ipykernel_launcher"]
    kernel = KernelManager(kernel_name="custseg", kernel_spec_manager=manager)
    kernel.start_kernel()
    client = kernel.client()
    client.start_channels()
    found: list[str] = []
    try:
        client.wait_for_ready(timeout=60)
        reply = client.execute_interactive("import sys; print(sys.prefix)", timeout=60,
                                           output_hook=lambda msg: found.append(msg["content"].get("text", "")))
    finally:
        client.stop_channels()
        kernel.shutdown_kernel(now=True)
    assert reply["content"]["status"] == "ok"
    assert "".join(found).strip() == sys.prefix


def test_the_spark_extra_is_pinned_apart_from_the_default_environment():
    # `make setup-spark` installs requirements-spark.txt, `pip install -e .[spark]` the extra: the same
    # exact pins; the default set-up (requirements.txt, environment.yml) carries neither package
    extra = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    pins = read_pins(ROOT / "requirements-spark.txt")
    assert sorted(extra["spark"]) == sorted(pins) and any(p.startswith("pyspark==") for p in pins)
    assert all(re.fullmatch(r"[A-Za-z0-9_.\-]+==[A-Za-z0-9_.+\-]+", p) for p in pins)
    default = {_canonical(p.split("==")[0]) for p in read_pins(ROOT / "requirements.txt")}
    assert not {_canonical(p.split("==")[0]) for p in pins} & default
    assert "pyspark" not in (ROOT / "environment.yml").read_text(encoding="utf-8")


def test_direct_requirements_are_pinned():
    pinned = {p.split("==")[0].lower().replace("_", "-") for p in read_pins(ROOT / "requirements.txt")}
    direct = {line.split("#")[0].strip().lower() for line in (ROOT / "requirements.in").read_text().splitlines()}
    assert direct - {""} <= pinned


@pytest.mark.parametrize("template", sorted(paths.TEMPLATES.values()), ids=lambda p: p.name)
def test_notebooks_are_stripped_and_have_one_literal_parameters_cell(template):
    book = nbformat.read(template, as_version=4)
    code = [c for c in book.cells if c.cell_type == "code"]
    assert all(c.outputs == [] and c.execution_count is None for c in code), "run `make strip` before committing"
    params = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1
    for line in params[0].source.splitlines():
        # `name: type = literal  # comment`: papermill documents these
        assert re.fullmatch(r'[a-z_]+: (str|int|float|bool) = ("[^"]*"|[\d.]+|True|False)\s+# .+', line), line
    assert all("remove-input" in c.metadata.get("tags", []) for c in code)
    # papermill's own reading (`papermill --help-notebook`) names every parameter with its help: its parser
    # silently drops a line whose comment it cannot read (a `""` in the comment did that to `language`)
    inspected = papermill.inspect_notebook(str(template))
    names = [line.split(":")[0] for line in params[0].source.splitlines()]
    assert sorted(inspected) == sorted(names)
    assert all(inspected[n]["help"] for n in names)


def test_make_help_lists_every_target():
    out = subprocess.run(["make", "-C", str(ROOT), "--no-print-directory"],
                         capture_output=True, text=True, check=True).stdout
    phony = re.search(r"^\.PHONY: (.+)$", (ROOT / "Makefile").read_text(), re.M).group(1).split()
    for target in phony:
        assert re.search(rf"^\s+(\x1b\[36m)?{target}\b", out, re.M), f"`make help` does not list {target}"


def test_notebook_json_is_valid():
    for template in paths.TEMPLATES.values():
        nbformat.validate(json.loads(template.read_text(encoding="utf-8")))


def _third_party_modules() -> dict[str, list[str]]:
    """Top-level modules of other projects that src/custseg uses, each with the files using it:
    every import (lazy ones inside functions too) and every package it reads data files from
    (``importlib.resources.files("mplfonts")``)."""
    used: dict[str, list[str]] = {}
    for path in sorted(paths.PACKAGE_DIR.rglob("*.py")):
        names = []
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Import):
                names += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.append(node.module)
            elif (isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "files"
                  and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                names.append(node.args[0].value)
        for name in names:
            top = name.split(".")[0]
            if top not in sys.stdlib_module_names and top != "custseg":
                used.setdefault(top, []).append(path.relative_to(paths.PACKAGE_DIR).as_posix())
    return used


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_pyproject_declares_every_package_that_src_imports():
    used = _third_party_modules()
    # a checker that found nothing would pass on anything
    assert {"pandas", "numpy", "yaml", "sklearn", "mplfonts"} <= set(used)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    # an optional extra counts (engine: spark's PySpark, imported only when that engine is asked for)
    extras = [spec for specs in project.get("optional-dependencies", {}).values() for spec in specs]
    declared = {_canonical(Requirement(spec).name) for spec in [*project["dependencies"], *extras]}
    providers = importlib.metadata.packages_distributions()
    missing = {
        module: sorted(set(files))
        for module, files in used.items()
        if not {_canonical(dist) for dist in providers.get(module, [module])} & declared
    }
    assert missing == {}, "add these to [project] dependencies in pyproject.toml"


def test_committed_notebooks_are_what_the_strip_filter_writes(tmp_path):
    # `make strip` and the git filter that `make setup` installs run nbstripout with the Makefile's
    # NBSTRIP_ARGS; a committed template must come out of it unchanged (cell ids included), or every
    # save in JupyterLab would show as a change
    args = re.search(r"^NBSTRIP_ARGS := (.+)$", (ROOT / "Makefile").read_text(), re.M).group(1).split()
    assert "--keep-id" in args
    notebooks = sorted((ROOT / "notebooks").rglob("*.ipynb"))
    assert set(paths.TEMPLATES.values()) < set(notebooks)  # the explore notebooks too
    for template in notebooks:
        copy = tmp_path / template.name
        copy.write_bytes(template.read_bytes())
        subprocess.run([sys.executable, "-m", "nbstripout", *args, str(copy)], check=True)
        assert copy.read_bytes() == template.read_bytes(), template.name
    attributes = subprocess.run(["git", "check-attr", "filter", "diff", "--", "notebooks/overview.ipynb"],
                                cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert "filter: nbstripout" in attributes and "diff: ipynb" in attributes


def test_make_lab_starts_as_root_or_not():
    # JupyterLab exits at once as root without --allow-root (containers, CI images); as a user it
    # must not be passed, so the line that `make lab` runs depends on who runs it
    dry = subprocess.run(["make", "-C", str(ROOT), "--no-print-directory", "-n", "lab"],
                         capture_output=True, text=True, check=True).stdout
    lab = next(line for line in dry.splitlines() if " lab --notebook-dir=notebooks" in line)
    assert ("--allow-root" in lab) == (os.geteuid() == 0)
