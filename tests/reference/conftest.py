"""A small shapes world written to disk once per session, and its reference-teacher index."""

from __future__ import annotations

from pathlib import Path

import pytest

from edtune.bench.reference import WorldIndex
from edtune.bench.shapes import ShapesConfig, ShapesWorld, generate_world, load_world, write_world


@pytest.fixture(scope="session")
def world_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("reference") / "shapes"
    write_world(generate_world(ShapesConfig(seed=3, pool_size=150, val_size=40, test_size=20, base_size=20)), out)
    return out


@pytest.fixture(scope="session")
def world(world_dir: Path) -> ShapesWorld:
    return load_world(world_dir)


@pytest.fixture(scope="session")
def index(world_dir: Path) -> WorldIndex:
    return WorldIndex.load(world_dir)
