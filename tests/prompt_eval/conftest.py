"""Fixtures: the hand-made gold set on disk and a project folder with a copy of the shipped templates."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from prompt_eval_fakes import CATALOGUE, GOLD_ITEMS, REPO

from edtune.prompt_eval.gold import GoldSet, GoldSetMeta, load_gold, write_gold


@pytest.fixture
def gold_file(tmp_path: Path) -> Path:
    return write_gold(tmp_path / "gold.jsonl", GoldSetMeta(name="hand", skills=CATALOGUE), GOLD_ITEMS)


@pytest.fixture
def gold(gold_file: Path) -> GoldSet:
    return load_gold(gold_file)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project folder whose prompts/ is a copy of the shipped templates (tests edit it freely)."""
    root = tmp_path / "project"
    shutil.copytree(REPO / "prompts", root / "prompts")
    return root


