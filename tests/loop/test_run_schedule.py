"""`training.schedule = "run"`: a run's training calls walk one LR curve, each taking the stretch that its
new samples' share of the budget puts it on (PROGRESS's authors' protocol)."""

from __future__ import annotations

from pathlib import Path

import pytest

from edtune.errors import ConfigError
from edtune.loop.config import TrainingSettings, validate_config
from edtune.loop.rundir import RunDir, TrainRecord
from loop.fakes import FamilyStudent, progress_config, run_progress


def run(world: Path, run_dir: Path, training: dict[str, object], **progress: object) -> FamilyStudent:
    student = FamilyStudent()
    config = progress_config(world, TrainingSettings.model_validate(training), **progress)
    run_progress(world, run_dir, student, config)
    return student


RUN_CURVE = {"schedule": "run", "adapter": "continue", "data": "new", "lora": {"min_steps": 0}}
"""One curve for the run, its length by the epoch rule alone (no step floor), so the arithmetic below is small."""


def test_calls_split_one_curve_by_the_samples_they_add(world: Path, tmp_path: Path) -> None:
    student = run(world, tmp_path / "run", RUN_CURVE)
    assert [len(ids) for ids in student.trained] == [6, 8, 8, 2]
    # PROGRESS_SETTINGS at budget 24: warm-up 6, then rounds of 8, 8 and 2.
    # One call on the budget: 24 samples + 10 replay (the file's all, under 0.5 x 24) = 2 batches of 32,
    # 10 epochs = 20 steps. Stretch ends at 20 x 6/24, 20 x 14/24, 20 x 22/24 rounded; the last ends the curve.
    windows = [(c.schedule_start, c.steps, c.schedule_total) for c in student.configs]
    assert windows == [(0, 5, 20), (5, 7, 20), (12, 6, 20), (18, 2, 20)]
    records = [TrainRecord.model_validate_json((RunDir(tmp_path / "run").adapter(i) / "train.json").read_text())
               for i in (1, 2, 3, 4)]
    assert [r.lora for r in records] == student.configs, "each adapter records the stretch it was trained on"


def test_held_out_samples_join_the_final_stretch(world: Path, tmp_path: Path) -> None:
    student = run(world, tmp_path / "run", RUN_CURVE, eval_samples="held_out")
    trained = [len(ids) for ids in student.trained]
    assert sum(trained) == 24 and trained[-1] > 2, "the final call trains the held-out samples too"
    starts = [c.schedule_start for c in student.configs]
    ends = [c.schedule_start + (c.steps or 0) for c in student.configs]
    assert starts[0] == 0 and ends[-1] == 20 and starts[1:] == ends[:-1]


def test_per_call_schedules_leave_the_lora_settings_alone(world: Path, tmp_path: Path) -> None:
    student = run(world, tmp_path / "run", {})
    assert all((c.steps, c.schedule_start, c.schedule_total) == (None, 0, None) for c in student.configs)


@pytest.mark.parametrize("training", [{"schedule": "run"}, {"schedule": "run", "adapter": "continue"},
                                      {"schedule": "run", "data": "new"}])
def test_a_run_curve_needs_a_continued_adapter_on_new_data(training: dict[str, str]) -> None:
    data = {"val": {"path": "v.jsonl"}, "pool": {"path": "p.jsonl"}}
    with pytest.raises(ConfigError, match='schedule = "run" needs adapter = "continue" and data = "new"'):
        validate_config({"method": "random", "data": data, "training": training}, "test.toml")


def test_a_final_step_floor_raises_only_the_last_call(world: Path, tmp_path: Path) -> None:
    student = run(world, tmp_path / "run", {"final_min_steps": 50, "lora": {"min_steps": 4}})
    assert [c.min_steps for c in student.configs] == [4, 4, 4, 50]
    records = [TrainRecord.model_validate_json((RunDir(tmp_path / "run").adapter(i) / "train.json").read_text())
               for i in (1, 2, 3, 4)]
    assert records[-1].lora.min_steps == 50, "the adapter records the floor it was trained with"
    lower = run(world, tmp_path / "lower", {"final_min_steps": 2, "lora": {"min_steps": 4}})
    assert [c.min_steps for c in lower.configs] == [4, 4, 4, 4], "the floor never lowers lora.min_steps"


def test_a_final_step_floor_is_refused_on_a_run_curve() -> None:
    data = {"val": {"path": "v.jsonl"}, "pool": {"path": "p.jsonl"}}
    training = {"schedule": "run", "adapter": "continue", "data": "new", "final_min_steps": 100}
    with pytest.raises(ConfigError, match='final_min_steps applies to schedule = "per_call" only'):
        validate_config({"method": "progress", "data": data, "training": training}, "test.toml")
