"""Where things live. Every path in custseg is derived here, once, from the project root."""

from __future__ import annotations

from pathlib import Path

#: The source checkout: src/custseg/paths.py -> parents[2].
PROJECT_ROOT: Path = Path(__file__).resolve().parents[2]

CONFIG_DIR: Path = PROJECT_ROOT / "config"
NOTEBOOKS_DIR: Path = PROJECT_ROOT / "notebooks"
DATA_DIR: Path = PROJECT_ROOT / "data"
RAW_DIR: Path = DATA_DIR / "raw"
SAMPLE_DIR: Path = RAW_DIR / "sample"
REPORTS_DIR: Path = PROJECT_ROOT / "reports"
BUILD_DIR: Path = PROJECT_ROOT / "build"

#: The study config used when none is named: the bundled sample company.
DEFAULT_CONFIG: Path = CONFIG_DIR / "sample.yaml"

#: Package data shipped inside the wheel (reference tables, report templates).
PACKAGE_DIR: Path = Path(__file__).resolve().parent
PACKAGE_DATA_DIR: Path = PACKAGE_DIR / "data"
TEMPLATES_DIR: Path = PACKAGE_DIR / "templates"

#: Study templates, one per kind of report.
TEMPLATES = {
    "overview": NOTEBOOKS_DIR / "overview.ipynb",
    "quality": NOTEBOOKS_DIR / "data_quality.ipynb",
    "region": NOTEBOOKS_DIR / "region_study.ipynb",
    "tier": NOTEBOOKS_DIR / "tier_study.ipynb",
    "churn": NOTEBOOKS_DIR / "churn_watch.ipynb",
    "group": NOTEBOOKS_DIR / "group_study.ipynb",
    "attribute": NOTEBOOKS_DIR / "attribute_study.ipynb",
    "glossary": NOTEBOOKS_DIR / "glossary.ipynb",
}
