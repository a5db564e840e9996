"""Running studies: one kernel per worker, a clean namespace per study, and loud failures."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient.exceptions import CellExecutionError

from custseg.report import build as reports
from custseg.report import html, kernels, manifest
from custseg.studies.plan import StudyJob


def _notebook(path: Path, *sources: str) -> Path:
    cells = [nbformat.v4.new_code_cell('x: int = 1  # a parameter', metadata={"tags": ["parameters"]})]
    cells += [nbformat.v4.new_code_cell(source) for source in sources]
    metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                "language_info": {"name": "python"}}
    nbformat.write(nbformat.v4.new_notebook(cells=cells, metadata=metadata), path)
    return path


def test_studies_share_a_kernel_but_not_their_variables(tmp_path):
    first = _notebook(tmp_path / "first.ipynb", "import os\nleftover = x\nprint(os.getpid())")
    second = _notebook(tmp_path / "second.ipynb", "import os\nprint(os.getpid())\nassert 'leftover' not in dir(), "
                                                  "'namespace not reset'")
    kernels.execute_study(first, tmp_path / "first.out.ipynb", {"x": 5}, "python3")
    kernels.execute_study(second, tmp_path / "second.out.ipynb", {}, "python3")
    pids = [nbformat.read(tmp_path / name, as_version=4).cells[-1].outputs[0]["text"]
            for name in ("first.out.ipynb", "second.out.ipynb")]
    assert pids[0] == pids[1]  # the same kernel ran both
    executed = nbformat.read(tmp_path / "first.out.ipynb", as_version=4)
    assert "x = 5" in "".join(cell.source for cell in executed.cells)  # papermill's injected parameters


def test_a_failing_study_keeps_its_notebook_and_the_next_one_starts_clean(tmp_path):
    broken = _notebook(tmp_path / "broken.ipynb", "state = 'dirty'", "assert x == 2, 'x is not 2'")
    with pytest.raises(CellExecutionError, match="x is not 2"):
        kernels.execute_study(broken, tmp_path / "broken.out.ipynb", {"x": 3}, "python3")
    kept = nbformat.read(tmp_path / "broken.out.ipynb", as_version=4)
    assert any(output.get("ename") == "AssertionError" for cell in kept.cells for output in cell.get("outputs", []))
    after = _notebook(tmp_path / "after.ipynb", "assert 'state' not in dir()")
    kernels.execute_study(after, tmp_path / "after.out.ipynb", {}, "python3")


def test_a_failed_job_reports_why_and_publishes_no_page(tmp_path, monkeypatch):
    def fail(template, executed, parameters, kernel):
        executed.write_text("{}", encoding="utf-8")
        raise CellExecutionError("traceback", "ValueError", "region 'X' is not in the processed data")

    monkeypatch.setattr(reports, "execute_study", fail)
    job = StudyJob("region", "X", "Region study: X", "regions/x.html", "", {"region": "X"})
    (tmp_path / "reports" / "regions").mkdir(parents=True)
    task = reports._Task(job, "en", tmp_path / "build", tmp_path / "reports", [])
    done, error = reports._run_job(task, {}, "python3")
    assert done.job.href == "regions/x.html"
    assert error.startswith("ValueError: region 'X' is not in the processed data (log: ")
    assert "\n" not in error  # one line on the terminal; the rest is in the log
    log = (tmp_path / "build" / "logs" / "regions__x.log").read_text(encoding="utf-8")
    assert "executed notebook: " in log and (tmp_path / "build" / "notebooks" / "regions__x.ipynb").is_file()
    assert not (tmp_path / "reports" / "regions" / "x.html").exists()
    assert not task.staged.exists()


def test_pages_link_to_their_twins_in_the_other_languages(tmp_path):
    config = _config_with_languages(tmp_path, "en", ["zh"])
    assert html.switch_links(config, "en", "index.html") == [("zh-CN", "中文", "zh/index.html")]
    region = "regions/east-china.html"
    assert html.switch_links(config, "en", region) == [("zh-CN", "中文", "../zh/regions/east-china.html")]
    assert html.switch_links(config, "zh", region) == [("en", "English", "../../regions/east-china.html")]
    assert html.switch_links(config, "zh", "index.html") == [("en", "English", "../index.html")]
    assert html.language_folder(tmp_path / "reports", config, "en") == tmp_path / "reports"
    assert html.language_folder(tmp_path / "reports", config, "zh") == tmp_path / "reports" / "zh"
    alone = _config_with_languages(tmp_path, "zh", [])
    assert html.switch_links(alone, "zh", "index.html") == []
    assert html.language_folder(tmp_path / "reports", alone, "zh") == tmp_path / "reports"


def test_a_language_listed_twice_is_a_config_error(tmp_path):
    from custseg.config import ConfigError

    with pytest.raises(ConfigError, match="repeats a language"):
        _config_with_languages(tmp_path, "zh", ["en", "zh"])


def _config_with_languages(folder, language, others):
    import yaml

    from custseg.config import load_config

    path = folder / f"study-{language}-{'-'.join(others) or 'alone'}.yaml"
    path.write_text(yaml.safe_dump({
        "study": {"name": "t", "title": "T", "language": language, "other_languages": others},
        "inputs": {"orders": "raw/orders.csv"},
        "output": {key: key for key in ("interim", "processed", "reports", "build", "exports")},
    }), encoding="utf-8")
    return load_config(path)


def test_a_changed_translation_rebuilds_only_the_pages_in_that_language(tmp_path, monkeypatch):
    from custseg import i18n

    catalog = tmp_path / "custseg.po"
    catalog.write_bytes(i18n.catalog_path("zh").read_bytes())
    monkeypatch.setattr(i18n, "catalog_path", lambda language: catalog)
    english = StudyJob("overview", "", "T", "index.html", "", {"config_path": "c.yaml", "language": "en"})
    chinese = StudyJob("overview", "", "T", "index.html", "", {"config_path": "c.yaml", "language": "zh"})
    before = manifest.job_fingerprint(english, "run"), manifest.job_fingerprint(chinese, "run")
    catalog.write_bytes(catalog.read_bytes().replace("目录".encode(), "内容".encode()))
    after = manifest.job_fingerprint(english, "run"), manifest.job_fingerprint(chinese, "run")
    assert after[0] == before[0] and after[1] != before[1]


def test_data_characters_are_the_cjk_characters_of_the_names_in_the_data():
    import pandas as pd

    from custseg.processed import ProcessedData, StudyMeta

    customers = pd.DataFrame({
        "customer_id": ["C1", "C2"], "city": ["潍坊市", "Seoul"], "segment_zh": ["冠军客户", None],
        "monetary": [1.0, 2.0],
    })
    orders = pd.DataFrame({"category": ["茶叶", "tea"], "note": ["不显示", "x"]})
    text = html.data_characters(ProcessedData(customers, orders, StudyMeta()))
    assert text == "".join(sorted(set("潍坊市冠军客户茶叶")))  # orders: only the category is shown
