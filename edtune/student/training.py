"""The optimisation loop shared by LoRA training and tiny-student pretraining.

AdamW on the trainable parameters, linear warm-up then cosine decay to zero, batches drawn from a
seeded reshuffle of the examples every epoch. The caller seeds torch's RNG (dropout, adapter init).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from edtune.student.base import LoraTrainConfig
from edtune.student.batches import Example
from edtune.student.lora import trainable_parameters

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class Schedule:
    """Optimiser settings of one `fit` call.

    The call takes `steps` steps. Its LR curve is one warm-up + cosine of `total` steps (None: `steps`, a
    curve of its own), of which the call covers steps `start` .. `start + steps - 1`: several calls can
    then walk one curve, as one long run interrupted for evaluation would."""

    lr: float
    steps: int
    batch_size: int
    warmup_ratio: float = 0.03
    weight_decay: float = 0.0
    max_grad_norm: float | None = 1.0
    start: int = 0
    total: int | None = None


def cosine_factor(step: int, schedule: Schedule) -> float:
    """LR multiplier at the call's `step`: linear warm-up to 1, then cosine towards 0 at the curve's end."""
    total = schedule.steps if schedule.total is None else schedule.total
    at = schedule.start + step
    warmup = int(total * schedule.warmup_ratio)
    if at < warmup:
        return (at + 1) / warmup
    progress = min(1.0, (at - warmup) / max(1, total - warmup))
    return 0.5 * (1.0 + math.cos(math.pi * progress))


def call_steps(config: LoraTrainConfig, examples: int) -> int:
    """Optimiser steps of one training call on `examples` examples (replay included): `config.steps` when
    set, else whole epochs, `config.epochs` of them or more until `config.min_steps` is reached."""
    if config.steps is not None:
        return config.steps
    per_epoch = -(-examples // config.batch_size)
    return per_epoch * max(config.epochs, -(-config.min_steps // per_epoch))


StepCallback = Callable[[int, int, float], None]
"""Called after every optimiser step with (steps done, total steps, that step's loss)."""

Collate = Callable[[list[Example]], "dict[str, torch.Tensor]"]
"""Turns a batch of examples into model inputs with labels (`Encoder.training_batch`)."""


def batches(examples: list[Example], batch_size: int, rng: random.Random) -> Iterator[list[Example]]:
    """Endless batches: each epoch is a fresh shuffle; the last partial batch of an epoch is kept."""
    order = list(range(len(examples)))
    while True:
        rng.shuffle(order)
        for start in range(0, len(order), batch_size):
            yield [examples[i] for i in order[start:start + batch_size]]


def fit(model: torch.nn.Module, examples: list[Example], schedule: Schedule, *, collate: Collate, seed: int,
        device: str, progress: bool = False, on_step: StepCallback | None = None) -> list[float]:
    """Train in place for `schedule.steps` steps; returns the loss of every step.

    `progress` shows this function's own bar (pretraining from the CLI); `on_step` reports each step to
    the caller instead (the loop draws its bar from it). Neither changes the training."""
    import torch

    params = trainable_parameters(model)
    optimiser = torch.optim.AdamW(params, lr=schedule.lr, weight_decay=schedule.weight_decay)
    lr_schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda step: cosine_factor(step, schedule))
    stream = batches(examples, schedule.batch_size, random.Random(seed))
    losses: list[float] = []
    model.train()
    with _progress_bar(progress, schedule.steps) as bar:
        report = [callback for callback in (bar, on_step) if callback is not None]
        for _ in range(schedule.steps):
            batch = {k: v.to(device) for k, v in collate(next(stream)).items()}
            loss = model(**batch).loss
            loss.backward()
            if schedule.max_grad_norm is not None:
                torch.nn.utils.clip_grad_norm_(params, schedule.max_grad_norm)
            optimiser.step()
            lr_schedule.step()
            optimiser.zero_grad(set_to_none=True)
            losses.append(float(loss.detach()))
            for callback in report:
                callback(len(losses), schedule.steps, losses[-1])
    model.eval()
    return losses


@contextmanager
def _progress_bar(enabled: bool, total: int) -> Iterator[StepCallback | None]:
    """A rich progress bar when asked for (long pretraining runs), None otherwise."""
    if not enabled:
        yield None
        return
    from rich.progress import Progress

    with Progress(transient=True) as bar:
        task = bar.add_task("training", total=total)
        yield lambda done, _, loss: bar.update(task, completed=done, description=f"training (loss {loss:.3f})")
