"""`Student.train(on_step=...)`: every optimiser step is reported, and reporting changes nothing."""

from __future__ import annotations

from pathlib import Path

from edtune.records import Sample
from edtune.student import LoraTrainConfig
from edtune.student.hf import HFStudent

CONFIG = LoraTrainConfig(epochs=2, min_steps=0, batch_size=8, lr=2e-2, print_targets=False)


def test_on_step_reports_every_step_with_its_loss(checkpoint: Path, samples: list[Sample], image_root: Path) -> None:
    steps: list[tuple[int, int, float]] = []
    stats = HFStudent.from_pretrained(checkpoint).train(samples, image_root, CONFIG, seed=3,
                                                        on_step=lambda *step: steps.append(step))
    assert [(done, total) for done, total, _ in steps] == [(n, stats.steps) for n in range(1, stats.steps + 1)]
    per_epoch = stats.steps // stats.epochs
    epoch_means = [sum(loss for _, _, loss in steps[i:i + per_epoch]) / per_epoch
                   for i in range(0, stats.steps, per_epoch)]
    assert epoch_means == stats.epoch_losses
    quiet = HFStudent.from_pretrained(checkpoint).train(samples, image_root, CONFIG, seed=3)
    assert quiet.epoch_losses == stats.epoch_losses
