"""docs/data.md stays true: its Sample JSON lines validate, its TOML parses into a DataFile, and its Python
example runs."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import pytest

from edtune.loop.config import DataFile
from edtune.records import Sample

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

DOC = Path(__file__).resolve().parents[2] / "docs" / "data.md"


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.DOTALL)


def test_sample_json_examples_validate() -> None:
    blocks = _blocks("json")
    assert len(blocks) >= 2
    for block in blocks:
        Sample.model_validate(json.loads(block))


def test_toml_examples_are_data_files() -> None:
    for block in _blocks("toml"):
        for entry in tomllib.loads(block)["data"].values():
            DataFile.model_validate(entry)


def test_python_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    [code] = _blocks("python")
    monkeypatch.chdir(tmp_path)
    exec(compile(code, str(DOC), "exec"), {"__name__": "docs_example"})
    assert os.path.isfile(tmp_path / "pool.json")
