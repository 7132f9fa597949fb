"""EL2N / perplexity scores with `pool_engine.engine = "ray"` on a local 2-CPU Ray cluster: an el2n run whose
scores file and selection are the local run's, byte for byte (a tiny random HF student from a checkpoint
folder, loaded by each worker)."""

from __future__ import annotations

from pathlib import Path

import pytest
from loop.fakes import tiny_world, world_checkpoint

from edtune.loop import adapt
from edtune.loop.config import validate_config
from edtune.loop.rundir import RunDir

pytestmark = [pytest.mark.usefixtures("ray_cluster"),
              pytest.mark.filterwarnings("ignore::DeprecationWarning:ray.data.context")]
STUDENT = {"image_size": 16, "patch_size": 8, "vision_hidden": 32, "vision_layers": 1, "vision_heads": 2,
           "text_hidden": 32, "text_layers": 1, "text_heads": 2, "max_positions": 128}


@pytest.fixture(scope="module")
def shapes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_world(tmp_path_factory.mktemp("scores") / "shapes")  # 80 pool samples


@pytest.fixture(scope="module")
def checkpoint(shapes: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random Llava saved as an HF checkpoint, its vocabulary covering the world's texts."""
    return world_checkpoint(shapes, tmp_path_factory.mktemp("tiny") / "student", STUDENT)


@pytest.mark.slow  # two el2n runs, and each Ray worker imports transformers and loads the student
def test_an_el2n_run_on_ray_writes_the_local_scores_and_selection(shapes: Path, checkpoint: Path,
                                                                  tmp_path: Path) -> None:
    data = {"val": {"path": str(shapes / "counting_val.jsonl")}, "pool": {"path": str(shapes / "pool.jsonl")}}
    files = {}
    for engine in ("local", "ray"):
        student = {"generation": {"max_new_tokens": 8}, "score_batch_size": 16}
        config = validate_config({"method": "el2n", "data": data, "student": student,
                                  "training": {"lora": {"epochs": 1, "batch_size": 8, "print_targets": False}},
                                  "pool_engine": {"engine": engine, "ray": {"shard_size": 40}}}, "test")
        run = tmp_path / engine
        adapt(checkpoint, shapes / "counting_val.jsonl", shapes / "pool.jsonl", teacher=None, budget=10,
              run_dir=run, config=config, show_bars=False)
        files[engine] = [RunDir(run).file(1, name).read_bytes() for name in ("pool_scores.jsonl", "selection.jsonl")]
        assert not RunDir(run).file(1, "pool_scores.shards").exists()
    assert files["ray"] == files["local"]
