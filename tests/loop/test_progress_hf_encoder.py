"""PROGRESS in a loop run with `encoder = "hf"`: tiny DINOv2 and BERT checkpoints saved in the test (no
download) embed the pool, and the run clusters, selects and trains as with the cheap encoders."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from tiny_encoders import TINY_IMAGE_DIM, TINY_TEXT_DIM, SaveEncoders

from edtune.errors import ConfigError
from edtune.judging.exact import ExactJudge
from edtune.loop import adapt
from edtune.loop.config import validate_config
from edtune.loop.rundir import RunDir
from edtune.loop.stages_select import read_selection
from loop.fakes import FamilyStudent


def test_progress_run_with_hf_encoders(world: Path, tmp_path: Path, save_tiny_encoders: SaveEncoders) -> None:
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    pool = [json.loads(line) for line in (world / "pool.jsonl").read_text().splitlines()]
    image_dir, text_dir = save_tiny_encoders(tmp_path / "encoders", [p["question"] for p in pool])
    data = {"val": {"path": str(world / "counting_val.jsonl")}, "pool": {"path": str(world / "pool.jsonl")}}
    progress = {"encoder": "hf", "image_model": str(image_dir), "text_model": str(text_dir), "k_tracking": 4,
                "k_warmup": 8, "round_size": 8, "warmup_fraction": 0.25, "eval_per_cluster": 5}
    config = validate_config({"method": "progress", "data": data, "progress": progress}, "test")
    result = adapt(FamilyStudent(), world / "counting_val.jsonl", world / "pool.jsonl", teacher=None,
                   judge=ExactJudge(), budget=24, run_dir=tmp_path / "run", config=config, show_bars=False)

    cache = tmp_path / "run" / "progress"
    features = np.load(cache / "features.npy")
    assert features.shape == (len(pool), TINY_IMAGE_DIM + TINY_TEXT_DIM)
    assert np.allclose(np.linalg.norm(features, axis=1), 1.0, atol=1e-5)
    assert np.abs(features[:, :TINY_IMAGE_DIM]).sum(axis=1).min() > 0, "every pool sample has an image block"
    assert json.loads((cache / "pool_ids.json").read_text()) == [p["id"] for p in pool]
    for name, k in (("tracking", 4), ("warmup", 8)):
        clustering = np.load(cache / f"{name}.npz")
        assert clustering["centroids"].shape == (k, TINY_IMAGE_DIM + TINY_TEXT_DIM)
        assert clustering["assignments"].shape == (len(pool),)
    rd = RunDir(result.run_dir)
    assert [len(read_selection(rd, i)) for i in (1, 2, 3, 4)] == [6, 8, 8, 2]
    assert result.samples_used == 24 and result.stopped == "iterations"


def test_an_encoder_that_cannot_be_loaded_names_the_setting(world: Path, tmp_path: Path) -> None:
    pytest.importorskip("transformers")
    data = {"val": {"path": str(world / "counting_val.jsonl")}, "pool": {"path": str(world / "pool.jsonl")}}
    missing = str(tmp_path / "no" / "such" / "encoder")  # an absolute path: no hub lookup, so no network
    progress = {"encoder": "hf", "image_model": missing, "k_tracking": 4, "k_warmup": 8}
    config = validate_config({"method": "progress", "data": data, "progress": progress}, "test")
    with pytest.raises(ConfigError, match=r"progress\.image_model = '.*encoder' is neither"):
        adapt(FamilyStudent(), world / "counting_val.jsonl", world / "pool.jsonl", teacher=None, judge=ExactJudge(),
              budget=24, run_dir=tmp_path / "run", config=config, show_bars=False)


def test_an_encoder_device_this_machine_lacks_is_refused_before_loading(world: Path, tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    data = {"val": {"path": str(world / "counting_val.jsonl")}, "pool": {"path": str(world / "pool.jsonl")}}
    # The models named do not exist: a refusal that mentions them would mean loading was tried first.
    progress = {"encoder": "hf", "image_model": str(tmp_path / "none"), "text_model": str(tmp_path / "none"),
                "encoder_device": "cuda", "encoder_dtype": "bfloat16", "k_tracking": 4, "k_warmup": 8}
    config = validate_config({"method": "progress", "data": data, "progress": progress}, "test")
    with pytest.raises(ConfigError, match=r"progress\.encoder_device = 'cuda', but torch finds no cuda device"):
        adapt(FamilyStudent(), world / "counting_val.jsonl", world / "pool.jsonl", teacher=None, judge=ExactJudge(),
              budget=24, run_dir=tmp_path / "run", config=config, show_bars=False)
