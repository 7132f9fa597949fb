"""docs/data.md stays true: its Sample JSON lines validate, its TOML parses into a DataFile, and its Python
examples run (each in a folder of its own)."""

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


PYTHON_EXAMPLES = _blocks("python")


def test_there_are_examples_for_llava_hf_files_and_in_memory_datasets() -> None:
    assert len(PYTHON_EXAMPLES) == 3
    assert "pool.json" in PYTHON_EXAMPLES[0] and "save_to_disk" in PYTHON_EXAMPLES[1]
    assert "InMemoryData" in PYTHON_EXAMPLES[2]


@pytest.mark.parametrize("index", range(len(PYTHON_EXAMPLES)))
def test_python_example_runs(index: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if index:
        pytest.importorskip("datasets")
    monkeypatch.chdir(tmp_path)
    exec(compile(PYTHON_EXAMPLES[index], str(DOC), "exec"), {"__name__": "docs_example"})
    assert any(os.scandir(tmp_path))
