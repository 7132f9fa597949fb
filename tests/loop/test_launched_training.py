"""A run whose student trains under `accelerate launch`: the loop process stays the only writer of the run
directory, so a run stopped while the launched processes train resumes like any other and ends with the
adapter and answers of a run that trained in process."""

from __future__ import annotations

import subprocess
from collections import deque
from pathlib import Path

import psutil
import pytest

from edtune.loop import RunConfig, adapt
from edtune.loop.rundir import RunDir
from edtune.student import launch
from loop.fakes import Crash, scripted_teacher

ONE_PROCESS = """compute_environment: LOCAL_MACHINE
distributed_type: 'NO'
num_processes: 1
num_machines: 1
mixed_precision: 'no'
"""


def run(world: Path, checkpoint: Path, run_dir: Path, accelerate_config: Path | None) -> None:
    config = RunConfig.model_validate({
        "teacher": "scripted/teacher", "budget": 8, "iterations": 1,
        "student": {"generation": {"max_new_tokens": 12,
                                   "accelerate_config": None if accelerate_config is None else str(accelerate_config)},
                    "batch_size": 8},
        "training": {"lora": {"epochs": 2, "batch_size": 8, "print_targets": False}},
        "data": {"val": {"path": str(world / "counting_val.jsonl")}, "pool": {"path": str(world / "pool.jsonl")}}})
    adapt(checkpoint, world / "counting_val.jsonl", world / "pool.jsonl", teacher=scripted_teacher(),
          test=world / "counting_test.jsonl", run_dir=run_dir, config=config, show_bars=False)


def answers(run_dir: Path) -> dict[str, str]:
    return {str(p.relative_to(run_dir)): p.read_text() for p in sorted(run_dir.glob("iterations/*/*_outputs.jsonl"))}


@pytest.mark.slow
def test_a_run_stopped_while_launched_processes_train_resumes_to_the_in_process_result(
        world: Path, checkpoint: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config_file = tmp_path / "one.yaml"
    config_file.write_text(ONE_PROCESS)
    follow = launch._follow

    def stop_after_first_step(process: subprocess.Popen[str], output: deque[str], on_step: object) -> None:
        def step(done: int, total: int, loss: float) -> None:
            raise Crash("the loop process stops while the launched one trains")
        follow(process, output, step)

    launched = tmp_path / "launched"
    monkeypatch.setattr(launch, "_follow", stop_after_first_step)
    with pytest.raises(Crash):
        run(world, checkpoint, launched, config_file)
    assert not psutil.Process().children(recursive=True), "the launched processes were ended"
    assert not RunDir(launched).adapter(1).exists()
    stale = launched / "adapters" / ".train-left-by-kill-9"  # what a SIGKILL of the loop process leaves
    stale.mkdir()
    monkeypatch.setattr(launch, "_follow", follow)
    run(world, checkpoint, launched, config_file)
    assert not stale.exists()

    in_process = tmp_path / "in_process"
    run(world, checkpoint, in_process, None)
    assert (RunDir(launched).adapter(1) / "adapter_model.safetensors").read_bytes() == \
        (RunDir(in_process).adapter(1) / "adapter_model.safetensors").read_bytes()
    assert answers(launched) == answers(in_process)
    record = RunDir(launched).train_record(1)
    assert record is not None and record.stats.steps > 0
