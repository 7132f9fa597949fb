"""Training through accelerate on the bundled tiny student: accumulation, 2 launched processes (gloo on
CPU), activation checkpointing, mixed precision settings, and how a failed launch is reported."""

from __future__ import annotations

from pathlib import Path

import pytest
from safetensors.torch import load_file

from edtune.bench.shapes.render import render_images
from edtune.bench.shapes.world import ShapesConfig, generate_samples
from edtune.errors import ConfigError, LaunchFailed
from edtune.records import Sample
from edtune.student import LoraTrainConfig, StudentConfig
from edtune.student.bundled import bundled_student
from edtune.student.hf import HFStudent
from edtune.student.training import micro_batches

# 2 CPU processes through accelerate's multi-process launcher; `cpu` in the student config makes them gloo.
TWO_PROCESSES = """compute_environment: LOCAL_MACHINE
distributed_type: MULTI_GPU
num_processes: 2
num_machines: 1
mixed_precision: 'no'
main_process_port: 0
"""
# Largest difference of adapter weights (which reach ~0.13 here) between 2 processes and 1 process
# accumulating 2 micro-batches: the same sums in another order, equal up to float rounding (measured 0.0,
# as both only add two terms and halve).
SAME_ADAPTER = 1e-6
# ... and between accumulating and one undivided batch per step: micro-batches are padded to their own
# longest row, so float rounding differs, and AdamW's first steps magnify it (measured 4.1e-5; weighting
# micro-batches by samples instead of target tokens measured 2.9e-2).
ROUNDED_ADAPTER = 1e-3
CURVE = LoraTrainConfig(steps=3, schedule_start=3, schedule_total=6, batch_size=6, lr=2e-2, print_targets=False)


@pytest.fixture(scope="module")
def counting(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Sample], Path]:
    """Questions the bundled student cannot answer yet (its loss is high, so adapters move a lot)."""
    samples = generate_samples({"counting": 1.0}, 10, split="accelerate", config=ShapesConfig())
    root = tmp_path_factory.mktemp("images")
    render_images(samples, root)
    return samples, root


def adapter_weights(student: HFStudent, folder: Path) -> dict[str, object]:
    student.save_adapter(folder)
    return dict(load_file(folder / "adapter_model.safetensors"))


def largest_difference(a: dict[str, object], b: dict[str, object]) -> float:
    assert sorted(a) == sorted(b)
    return max(float((a[k] - b[k]).abs().max()) for k in a)  # type: ignore[operator]


def test_micro_batches_split_evenly_and_leave_empty_ones_for_short_batches() -> None:
    assert [len(p) for p in micro_batches(list(range(7)), 3)] == [3, 2, 2]
    assert micro_batches(list(range(7)), 3)[1] == [3, 4]
    assert [len(p) for p in micro_batches([1], 4)] == [1, 0, 0, 0]
    assert micro_batches([1, 2], 1) == [[1, 2]]


@pytest.mark.slow
def test_two_processes_train_the_adapter_of_one_process_accumulating_two(
        counting: tuple[list[Sample], Path], tmp_path: Path) -> None:
    samples, root = counting
    # Both continue the same adapter on the second half of a shared LR curve (batches of 6 over 10 samples:
    # the epoch's last batch has 4, split 2 + 2).
    one = bundled_student()
    one.train(samples, root, CURVE.model_copy(update={"schedule_start": 0}), seed=1)
    one.save_adapter(tmp_path / "start")
    plain = bundled_student()
    plain.load_adapter(tmp_path / "start")
    plain.train(samples, root, CURVE, seed=2)
    stats_one = one.train(samples, root, CURVE.model_copy(update={"gradient_accumulation_steps": 2}), seed=2)

    config_file = tmp_path / "two.yaml"
    config_file.write_text(TWO_PROCESSES)
    two = bundled_student(StudentConfig(accelerate_config=str(config_file)), work_dir=tmp_path / "work")
    two.load_adapter(tmp_path / "start")
    steps: list[tuple[int, int, float]] = []
    stats_two = two.train(samples, root, CURVE, seed=2, on_step=lambda *step: steps.append(step))

    accumulated, launched = adapter_weights(one, tmp_path / "a"), adapter_weights(two, tmp_path / "b")
    assert largest_difference(accumulated, launched) <= SAME_ADAPTER
    assert largest_difference(accumulated, adapter_weights(plain, tmp_path / "c")) <= ROUNDED_ADAPTER
    assert stats_two.epoch_losses == pytest.approx(stats_one.epoch_losses, rel=1e-5)
    assert [s[:2] for s in steps] == [(1, 3), (2, 3), (3, 3)]
    assert stats_two.steps == 3 and stats_two.target_modules == stats_one.target_modules
    assert not list((tmp_path / "work").iterdir()), "the job folder is removed"


def test_accumulation_learns_what_one_undivided_batch_learns(counting: tuple[list[Sample], Path],
                                                             tmp_path: Path) -> None:
    samples, root = counting
    # Batches of 4, 4 and 2 over the 10 samples: the last one leaves two of its four micro-batches empty.
    config = LoraTrainConfig(steps=3, batch_size=4, lr=2e-2, print_targets=False)
    plain, accumulated = bundled_student(), bundled_student()
    losses = plain.train(samples, root, config, seed=4).epoch_losses
    steps: list[float] = []
    accumulated.train(samples, root, config.model_copy(update={"gradient_accumulation_steps": 4}), seed=4,
                      on_step=lambda done, total, loss: steps.append(loss))
    assert sum(steps) / len(steps) == pytest.approx(losses[0], rel=1e-4)
    assert largest_difference(adapter_weights(plain, tmp_path / "a"),
                              adapter_weights(accumulated, tmp_path / "b")) <= ROUNDED_ADAPTER


def test_checkpointing_gives_the_same_losses(counting: tuple[list[Sample], Path]) -> None:
    samples, root = counting
    config = LoraTrainConfig(steps=4, batch_size=4, lr=2e-2, dropout=0.1, print_targets=False)
    plain = bundled_student().train(samples, root, config, seed=3)
    student = bundled_student()
    during: list[bool] = []
    checkpointed = student.train(samples, root, config.model_copy(update={"gradient_checkpointing": True}), seed=3,
                                 on_step=lambda *_: during.append(student.model.is_activation_checkpointing))
    assert checkpointed.epoch_losses == pytest.approx(plain.epoch_losses, rel=1e-6)
    assert during == [True] * 4 and not student.model.is_activation_checkpointing


def test_fp16_is_refused_on_cpu_and_bf16_runs(counting: tuple[list[Sample], Path]) -> None:
    samples, root = counting
    student = bundled_student()
    with pytest.raises(ConfigError, match=r"fp16.*needs a GPU"):
        student.train(samples, root, LoraTrainConfig(steps=1, mixed_precision="fp16", print_targets=False), seed=0)
    config = LoraTrainConfig(steps=2, batch_size=4, print_targets=False)
    full = bundled_student().train(samples, root, config, seed=0).epoch_losses[0]
    half = student.train(samples, root, config.model_copy(update={"mixed_precision": "bf16"}), seed=0).epoch_losses[0]
    assert half != full and half == pytest.approx(full, rel=0.05)
    # Training in bf16 left the model as it was: accelerate's autocast wrapper is gone, answering is float32.
    model = student.model
    assert "_original_forward" not in model.__dict__ and model.forward.__func__ is type(model).forward


def test_accumulation_cannot_split_a_batch_into_empty_micro_batches() -> None:
    with pytest.raises(ValueError, match="more micro-batches than it has samples"):
        LoraTrainConfig(batch_size=2, gradient_accumulation_steps=3)


def test_a_failed_launch_carries_the_launchers_output(counting: tuple[list[Sample], Path], tmp_path: Path) -> None:
    samples, root = counting
    config = LoraTrainConfig(steps=1, print_targets=False)
    missing = bundled_student(StudentConfig(accelerate_config=str(tmp_path / "none.yaml")))
    with pytest.raises(ConfigError, match="no accelerate config file"):
        missing.train(samples, root, config, seed=0)
    broken = tmp_path / "broken.yaml"
    broken.write_text("distributed_type: NO_SUCH_TYPE\nnum_processes: 2\n")
    student = bundled_student(StudentConfig(accelerate_config=str(broken)), work_dir=tmp_path / "work")
    with pytest.raises(LaunchFailed, match="NO_SUCH_TYPE") as failure:
        student.train(samples, root, config, seed=0)
    assert failure.value.status != 0 and "accelerate.commands.launch" in failure.value.command
    assert not student.has_adapter and not list((tmp_path / "work").iterdir())
