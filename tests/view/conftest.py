"""Fixtures of the viewer tests: small real runs (the loop with a scripted teacher on a tiny world)."""

from __future__ import annotations

from pathlib import Path

import pytest
from loop.fakes import tiny_world

from view.helpers import make_run


@pytest.fixture(scope="session")
def view_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_world(tmp_path_factory.mktemp("view_world") / "shapes")


@pytest.fixture(scope="session")
def finished_run(view_world: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished error-driven run (do not modify: copy it with `copy_run`)."""
    return make_run(view_world, tmp_path_factory.mktemp("runs") / "error_driven")


@pytest.fixture(scope="session")
def random_run(view_world: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_run(view_world, tmp_path_factory.mktemp("runs") / "random", method="random")
