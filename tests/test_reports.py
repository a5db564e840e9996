"""Running studies: one kernel per worker, a clean namespace per study, and loud failures."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient.exceptions import CellExecutionError

from custseg import reports


def _notebook(path: Path, *sources: str) -> Path:
    cells = [nbformat.v4.new_code_cell('x: int = 1  # a parameter', metadata={"tags": ["parameters"]})]
    cells += [nbformat.v4.new_code_cell(source) for source in sources]
    metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                "language_info": {"name": "python"}}
    nbformat.write(nbformat.v4.new_notebook(cells=cells, metadata=metadata), path)
    return path


def test_studies_share_a_kernel_but_not_their_variables(tmp_path):
    first = _notebook(tmp_path / "first.ipynb", "import os\nleftover = x\nprint(os.getpid())")
    second = _notebook(tmp_path / "second.ipynb", "import os\nprint(os.getpid())\nassert 'leftover' not in dir(), 'namespace not reset'")
    reports.execute_study(first, tmp_path / "first.out.ipynb", {"x": 5}, "python3")
    reports.execute_study(second, tmp_path / "second.out.ipynb", {}, "python3")
    pids = [nbformat.read(tmp_path / name, as_version=4).cells[-1].outputs[0]["text"]
            for name in ("first.out.ipynb", "second.out.ipynb")]
    assert pids[0] == pids[1]  # the same kernel ran both
    executed = nbformat.read(tmp_path / "first.out.ipynb", as_version=4)
    assert "x = 5" in "".join(cell.source for cell in executed.cells)  # papermill's injected parameters


def test_a_failing_study_keeps_its_notebook_and_the_next_one_starts_clean(tmp_path):
    broken = _notebook(tmp_path / "broken.ipynb", "state = 'dirty'", "assert x == 2, 'x is not 2'")
    with pytest.raises(CellExecutionError, match="x is not 2"):
        reports.execute_study(broken, tmp_path / "broken.out.ipynb", {"x": 3}, "python3")
    kept = nbformat.read(tmp_path / "broken.out.ipynb", as_version=4)
    assert any(output.get("ename") == "AssertionError" for cell in kept.cells for output in cell.get("outputs", []))
    after = _notebook(tmp_path / "after.ipynb", "assert 'state' not in dir()")
    reports.execute_study(after, tmp_path / "after.out.ipynb", {}, "python3")


def test_a_failed_job_reports_why_and_publishes_no_page(tmp_path, monkeypatch):
    def fail(template, executed, parameters, kernel):
        executed.write_text("{}", encoding="utf-8")
        raise CellExecutionError("traceback", "ValueError", "region 'X' is not in the processed data")

    monkeypatch.setattr(reports, "execute_study", fail)
    job = reports.StudyJob("region", "X", "Region study: X", "regions/x.html", "", {"region": "X"})
    (tmp_path / "reports" / "regions").mkdir(parents=True)
    href, error = reports._run_job(job, tmp_path / "build", tmp_path / "reports", {}, "python3")
    assert href == "regions/x.html"
    assert error.startswith("ValueError: region 'X' is not in the processed data")
    assert "executed notebook kept at" in error and (tmp_path / "build" / "notebooks" / "regions__x.ipynb").is_file()
    assert not (tmp_path / "reports" / "regions" / "x.html").exists()
