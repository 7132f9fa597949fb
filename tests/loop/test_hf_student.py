"""The loop with a real HF student (a tiny random Llava built in the test), loaded from its checkpoint
path like any VLM: LoRA adapters are trained, saved atomically, reloaded on resume with identical outputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edtune.errors import ConfigError
from edtune.loop import RunConfig, adapt
from edtune.loop.rundir import RunDir
from loop.fakes import scripted_teacher


class Crash(Exception):
    """Stands in for the process dying."""


def config(world: Path) -> RunConfig:
    return RunConfig.model_validate({
        "teacher": "scripted/teacher", "budget": 8, "iterations": 2,
        "student": {"generation": {"max_new_tokens": 12}, "batch_size": 8},
        "training": {"lora": {"epochs": 2, "min_steps": 0, "batch_size": 8, "print_targets": False}},
        "data": {"val": {"path": str(world / "counting_val.jsonl")}, "pool": {"path": str(world / "pool.jsonl")}}})


def run(world: Path, checkpoint: Path, run_dir: Path) -> None:
    adapt(checkpoint, world / "counting_val.jsonl", world / "pool.jsonl", teacher=scripted_teacher(),
          test=world / "counting_test.jsonl", replay=world / "base.jsonl", run_dir=run_dir, config=config(world),
          show_bars=False)


def outputs(run_dir: Path) -> dict[str, str]:
    return {str(p.relative_to(run_dir)): p.read_text() for p in sorted(run_dir.glob("iterations/*/*_outputs.jsonl"))}


def test_tiny_hf_student_trains_saves_and_resumes(world: Path, checkpoint: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    straight = tmp_path / "straight"
    run(world, checkpoint, straight)
    rd = RunDir(straight)
    assert rd.state().stopped == "iterations"
    for i in (1, 2):
        assert (rd.adapter(i) / "adapter_config.json").is_file() and (rd.adapter(i) / "train.json").is_file()
    record = rd.train_record(2)
    assert record is not None and len(record.train_ids) == 8 and len(record.replay_ids) == 4
    assert record.stats.trainable_params > 0 and all("language_model" in m for m in record.stats.target_modules)
    assert json.loads(rd.config_path.read_text())["student"]["path"] == str(checkpoint)
    first = json.loads(rd.file(1, "metrics.json").read_text())
    # The untrained student writes no answer: wrong for accuracy, and errors to learn from.
    assert first["errors"] == 8 and first["val"]["accuracy"] == 0.0 and first["val"]["unscored"] == 0
    assert first["val"]["unparseable"] == 8
    assert not list((straight / "adapters").glob(".*")), "no scratch folder may be left behind"

    original = RunDir.mark_done

    def crash_after_training(self: RunDir, key: str) -> None:
        original(self, key)
        if key == "001/train":
            raise Crash(key)

    resumed = tmp_path / "resumed"
    monkeypatch.setattr(RunDir, "mark_done", crash_after_training)
    with pytest.raises(Crash):
        run(world, checkpoint, resumed)
    monkeypatch.setattr(RunDir, "mark_done", original)
    trained_before = (resumed / "adapters" / "001" / "adapter_model.safetensors").read_bytes()
    run(world, checkpoint, resumed)  # a new student object: adapter 1 is loaded from disk, not retrained
    assert (resumed / "adapters" / "001" / "adapter_model.safetensors").read_bytes() == trained_before
    assert outputs(resumed) == outputs(straight)
    assert [c.read_text() for c in sorted(resumed.glob("iterations/*/selection.jsonl"))] == \
        [c.read_text() for c in sorted(straight.glob("iterations/*/selection.jsonl"))]


def test_a_save_cut_short_leaves_no_adapter_and_retrains_identically(world: Path, checkpoint: Path, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from edtune.student.hf import HFStudent

    original = HFStudent.save_adapter

    def half_save(self: HFStudent, directory: Path) -> None:
        original(self, directory)
        (directory / "adapter_model.safetensors").write_bytes(b"cut short")
        raise Crash("killed while saving")

    cut = tmp_path / "cut"
    monkeypatch.setattr(HFStudent, "save_adapter", half_save)
    with pytest.raises(Crash):
        run(world, checkpoint, cut)
    monkeypatch.setattr(HFStudent, "save_adapter", original)
    assert not RunDir(cut).adapter(1).exists() and not list((cut / "adapters").iterdir())
    stale = cut / "adapters" / ".001.left-by-kill-9"  # what a SIGKILL mid-save leaves behind
    stale.mkdir()
    run(world, checkpoint, cut)
    assert not stale.exists()
    straight = tmp_path / "straight"
    run(world, checkpoint, straight)
    for i in (1, 2):
        assert (RunDir(cut).adapter(i) / "adapter_model.safetensors").read_bytes() == \
            (RunDir(straight).adapter(i) / "adapter_model.safetensors").read_bytes()
    assert outputs(cut) == outputs(straight)


def test_a_student_device_this_machine_lacks_is_refused_before_anything_runs(world: Path, tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    cfg = config(world).model_copy(deep=True)
    cfg.student.generation.device = "cuda"
    # No checkpoint is there: a refusal about the folder would mean loading was tried first.
    with pytest.raises(ConfigError, match=r"student\.generation\.device = 'cuda', but torch finds no cuda device"):
        adapt(tmp_path / "no-checkpoint", world / "counting_val.jsonl", world / "pool.jsonl",
              teacher=scripted_teacher(), run_dir=tmp_path / "run", config=cfg, show_bars=False)
    assert not (tmp_path / "run" / "iterations").exists()
