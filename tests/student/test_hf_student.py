"""HFStudent on a tiny Llava built in the test: answer, LoRA train, save/load/reset, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from edtune.errors import ConfigError, DataError, UserError
from edtune.records import Sample
from edtune.student import LoraTrainConfig, Student
from edtune.student.hf import HFStudent

FAST = LoraTrainConfig(epochs=30, min_steps=0, batch_size=8, lr=2e-2, print_targets=False)


def test_is_a_student(checkpoint: Path) -> None:
    assert isinstance(HFStudent.from_pretrained(checkpoint), Student)


def test_round_trip_train_save_reset_load(checkpoint: Path, samples: list[Sample], image_root: Path,
                                         tmp_path: Path) -> None:
    student = HFStudent.from_pretrained(checkpoint)
    base = student.answer(samples, image_root, batch_size=5)
    assert [o.sample_id for o in base] == [s.id for s in samples]

    stats = student.train(samples, image_root, FAST, seed=0)
    assert stats.steps == 30 * 2 and stats.train_samples == len(samples) and stats.replay_samples == 0
    assert stats.epoch_losses[-1] < stats.epoch_losses[0] - 0.2
    assert stats.target_modules and student.has_adapter
    trained = student.answer(samples, image_root, batch_size=7)
    assert trained != base
    # the adapter learns this four-colour task well enough that answers parse and mostly match
    assert all(o.answer is not None and o.steps for o in trained)
    assert sum(o.answer == s.answer for o, s in zip(trained, samples, strict=True)) >= len(samples) // 2

    student.save_adapter(tmp_path / "adapter")
    student.reset_adapter()
    assert not student.has_adapter
    assert student.answer(samples, image_root, batch_size=5) == base

    student.load_adapter(tmp_path / "adapter")
    assert student.answer(samples, image_root, batch_size=16) == trained


def test_training_is_seeded(checkpoint: Path, samples: list[Sample], image_root: Path) -> None:
    config = FAST.model_copy(update={"epochs": 2})
    losses = []
    for _ in range(2):
        student = HFStudent.from_pretrained(checkpoint)
        losses.append(student.train(samples, image_root, config, seed=7).epoch_losses)
    assert losses[0] == losses[1]
    other = HFStudent.from_pretrained(checkpoint).train(samples, image_root, config, seed=8).epoch_losses
    assert other != losses[0]


def test_replay_is_mixed_in(checkpoint: Path, samples: list[Sample], image_root: Path) -> None:
    student = HFStudent.from_pretrained(checkpoint)
    stats = student.train(samples[:8], image_root, FAST.model_copy(update={"epochs": 1}), seed=0,
                          replay=samples[8:])
    assert (stats.train_samples, stats.replay_samples, stats.steps) == (8, 8, 2)


def test_adapter_errors(checkpoint: Path, tmp_path: Path) -> None:
    student = HFStudent.from_pretrained(checkpoint)
    with pytest.raises(UserError, match="no adapter"):
        student.save_adapter(tmp_path / "x")
    with pytest.raises(UserError, match=r"adapter_config\.json"):
        student.load_adapter(tmp_path)
    with pytest.raises(UserError, match="not found"):
        HFStudent.from_pretrained(tmp_path / "missing")


def test_bad_images_name_file_and_row(checkpoint: Path, samples: list[Sample], image_root: Path) -> None:
    student = HFStudent.from_pretrained(checkpoint)
    missing = samples[1].model_copy(update={"images": ["nope.png"]})
    with pytest.raises(DataError) as info:
        student.answer([samples[0], missing], image_root)
    assert (info.value.file, info.value.row, info.value.field) == ("nope.png", 2, "images")
    (image_root / "corrupt.png").write_bytes(b"not a png")
    corrupt = samples[0].model_copy(update={"images": ["corrupt.png"]})
    with pytest.raises(DataError, match="unreadable"):
        student.answer([corrupt], image_root)
    escaping = samples[0].model_copy(update={"images": ["../outside.png"]})
    with pytest.raises(DataError, match="escapes"):
        student.train([escaping], image_root, FAST, seed=0)


def test_min_steps_adds_whole_epochs(checkpoint: Path, samples: list[Sample], image_root: Path) -> None:
    config = FAST.model_copy(update={"epochs": 1, "batch_size": 8})
    per_epoch = -(-len(samples) // 8)
    plain = HFStudent.from_pretrained(checkpoint).train(samples, image_root, config, seed=0)
    assert (plain.steps, plain.epochs) == (per_epoch, 1)
    floored = HFStudent.from_pretrained(checkpoint).train(
        samples, image_root, config.model_copy(update={"min_steps": 2 * per_epoch + 1}), seed=0)
    assert (floored.steps, floored.epochs) == (3 * per_epoch, 3)
    assert len(floored.epoch_losses) == 3


def test_exact_steps_override_the_epoch_rule(checkpoint: Path, samples: list[Sample], image_root: Path) -> None:
    config = FAST.model_copy(update={"epochs": 5, "min_steps": 100, "batch_size": 8})
    per_epoch = -(-len(samples) // 8)
    stats = HFStudent.from_pretrained(checkpoint).train(
        samples, image_root, config.model_copy(update={"steps": per_epoch + 1, "schedule_start": 4,
                                                       "schedule_total": per_epoch + 9}), seed=0)
    assert (stats.steps, stats.epochs, len(stats.epoch_losses)) == (per_epoch + 1, 2, 2)


def test_a_device_this_machine_lacks_is_refused_before_loading(tmp_path: Path) -> None:
    import torch

    from edtune.student import StudentConfig
    from edtune.student.devices import require_device

    require_device("cpu", "StudentConfig.device")
    with pytest.raises(ConfigError, match=r"here\.device = 'tpu', but torch finds no tpu device"):
        require_device("tpu", "here.device")
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(ConfigError, match=r"StudentConfig\.device = 'cuda'"):
        HFStudent.from_pretrained(tmp_path / "no-checkpoint", StudentConfig(device="cuda"))
