"""Fixtures of the loop tests: a tiny shapes world on disk, shared by the session."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from edtune.loop.rundir import RunDir
from loop.fakes import Crash, tiny_world, world_checkpoint

SMALL_STUDENT = {"image_size": 16, "patch_size": 8, "vision_hidden": 32, "vision_layers": 1, "vision_heads": 2,
                 "text_hidden": 32, "text_layers": 1, "text_heads": 2, "max_positions": 128}


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_world(tmp_path_factory.mktemp("world") / "shapes")


@pytest.fixture(autouse=True)
def _quiet_tiny_corpus() -> None:
    # The tiny pools here are far below BM25's comfortable size; the warning is tested in retrieval.
    from edtune.retrieval.base import TinyCorpusWarning

    warnings.simplefilter("ignore", TinyCorpusWarning)


@pytest.fixture(scope="session")
def checkpoint(world: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random Llava saved as an HF checkpoint, its vocabulary covering the world's texts."""
    return world_checkpoint(world, tmp_path_factory.mktemp("tiny") / "student", SMALL_STUDENT)


@pytest.fixture
def crash_at_stage(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str, str], None]]:
    """Arm a crash (`Crash`) just before or just after a stage key is recorded as finished."""
    original = RunDir.mark_done

    def arm(key: str, when: str) -> None:
        def mark_done(self: RunDir, done_key: str) -> None:
            if done_key == key and when == "before":
                raise Crash(f"killed before {key} was marked")
            original(self, done_key)
            if done_key == key and when == "after":
                raise Crash(f"killed after {key} was marked")

        monkeypatch.setattr(RunDir, "mark_done", mark_done)

    yield arm
    monkeypatch.setattr(RunDir, "mark_done", original)
