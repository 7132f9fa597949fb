"""Fixtures of the loop tests: a tiny shapes world on disk, shared by the session."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from loop.fakes import tiny_world


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_world(tmp_path_factory.mktemp("world") / "shapes")


@pytest.fixture(autouse=True)
def _quiet_tiny_corpus() -> None:
    # The tiny pools here are far below BM25's comfortable size; the warning is tested in retrieval.
    from edtune.retrieval.base import TinyCorpusWarning

    warnings.simplefilter("ignore", TinyCorpusWarning)
