"""Shared helpers for the retrieval tests: small pools written as Sample JSONL and corpus specs for them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from edtune.records import Sample
from edtune.retrieval.spec import CorpusSpec

SKILLS = [
    ["counting objects", "naming the colour of an object"],
    ["deciding whether one object is left of another"],
    ["comparing the sizes of two shapes", "counting objects"],
    ["naming the shape of an object"],
    ["counting red objects", "naming the colour of an object"],
    ["deciding which shape is bigger"],
    ["spatial relation above or below"],
    ["reading off what objects a scene contains"],
]


def _make_samples(n: int) -> list[Sample]:
    return [Sample(id=f"s{i:03d}", question=f"question {i}?", answer="a", required_skills=SKILLS[i % len(SKILLS)])
            for i in range(n)]


def _write_pool(path: Path, samples: list[Sample]) -> Path:
    path.write_text("".join(s.model_dump_json() + "\n" for s in samples), encoding="utf-8")
    return path


@pytest.fixture
def make_samples() -> Callable[[int], list[Sample]]:
    """Factory: `n` samples cycling through SKILLS, ids s000, s001, ..."""
    return _make_samples


@pytest.fixture
def write_pool() -> Callable[[Path, list[Sample]], Path]:
    """Factory: write samples as a JSONL pool file and return its path."""
    return _write_pool


@pytest.fixture
def pool_spec(tmp_path: Path) -> Callable[..., CorpusSpec]:
    """Factory: write a pool of `n` samples and return a spec for it (extra keyword arguments override)."""

    def make(n: int = 40, **overrides: object) -> CorpusSpec:
        pool = _write_pool(tmp_path / "pool.jsonl", _make_samples(n))
        return CorpusSpec.model_validate({"name": "t", "pool": [pool], "index_dir": tmp_path / "index", **overrides})

    return make
