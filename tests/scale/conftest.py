"""Fixtures of the Ray engine's tests: a pool without skills, the reference teacher serving its world, a
local 2-CPU Ray cluster in this process, and the local engine's output as the reference to match."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from ray_helpers import POOL_SIZE, annotate_args, run_cli

from edtune.bench.reference import RunningServer, reference_teacher
from edtune.bench.shapes import ShapesConfig, generate_world, write_world
from edtune.data import load_samples, write_samples


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ray_annotate") / "shapes"
    write_world(generate_world(ShapesConfig(seed=3, pool_size=POOL_SIZE, val_size=4, test_size=4, base_size=4,
                                            tasks=["counting"])), out)
    plain = [s.model_copy(update={"required_skills": None}) for s in load_samples(out / "pool.jsonl")]
    write_samples(plain, out / "pool_plain.jsonl")
    return out


@pytest.fixture(scope="module")
def teacher(world: Path) -> Iterator[RunningServer]:
    with reference_teacher(world) as server:
        yield server


@pytest.fixture(scope="package")
def ray_cluster() -> Iterator[None]:
    """A local cluster for the folder's tests: 2 CPUs, no dashboard, a small object store. Its workers inherit this
    process's environment (PYTHONPATH included), so they import the edtune under test."""
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=80 * 2**20, log_to_driver=False,
             logging_level="WARNING")
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def local_out(world: Path, teacher: RunningServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The local engine's annotated pool: what every Ray run must reproduce byte for byte."""
    out = tmp_path_factory.mktemp("local") / "annotated.jsonl"
    run_cli(annotate_args(world, teacher, out))
    return out
