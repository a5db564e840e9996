"""Shared fixtures: tiny hand-made inputs and a writer for study configs in a temporary folder."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml


@pytest.fixture
def write_config(tmp_path: Path):
    """Write a study config (dict) into tmp_path and return its path; outputs go under tmp_path/out."""

    def write(inputs: dict, **overrides) -> Path:
        config = {
            "study": {"name": "t", "title": "Test Co."},
            "inputs": inputs,
            "currency": {"base": "CNY", "rates": {"USD": 7.0}},
            "output": {key: f"out/{key}" for key in ("interim", "processed", "reports", "build", "exports")},
            "studies": {"min_customers": 2, "workers": 2},
            **overrides,
        }
        path = tmp_path / "study.yaml"
        path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
        return path

    return write


@pytest.fixture
def write_csv(tmp_path: Path):
    """Write CSV text into tmp_path/name and return the path."""

    def write(name: str, text: str, encoding: str = "utf-8") -> Path:
        path = tmp_path / name
        path.write_bytes(text.encode(encoding))
        return path

    return write
