"""A small shapes world shared by the bench tests (generated once per session: sizes kept tiny)."""

from __future__ import annotations

import pytest

from edtune.bench.shapes import ShapesConfig, ShapesWorld, generate_world


@pytest.fixture(scope="session")
def small_config() -> ShapesConfig:
    return ShapesConfig(seed=7, pool_size=600, val_size=40, test_size=60, base_size=90)


@pytest.fixture(scope="session")
def small_world(small_config: ShapesConfig) -> ShapesWorld:
    return generate_world(small_config)
