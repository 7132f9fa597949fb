"""The optimisation loop shared by LoRA training and tiny-student pretraining, run through `accelerate`.

AdamW on the trainable parameters, linear warm-up then cosine decay to zero, batches drawn from a
seeded reshuffle of the examples every epoch. The caller seeds torch's RNG (dropout, adapter init).

`accelerate` does the device placement, the autocast of mixed precision, the loss scaling of fp16, the
gradient sync between processes and the skipping of syncs while gradients accumulate. In a plain process
that is one process on one device; under `accelerate launch` (see `edtune.student.launch`) every process
runs this same loop. Every process draws the same global batch of `Schedule.batch_size` examples and
splits it the same way into processes x `accumulation` micro-batches (`micro_batches`); process p takes
micro-batches p, p + processes, ... Each micro-batch's token-mean loss counts by its share of the batch's
target tokens (counted over all processes), so a step's gradient is that of the whole batch's token-mean
loss whatever the split: processes and accumulation change memory and time, and what is learned only by
float rounding (a micro-batch is padded to its own longest row, so matmul shapes differ). With one
micro-batch the factor is exactly 1: the same operations as before accelerate was used.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from edtune.errors import ConfigError
from edtune.student.base import LoraTrainConfig, Precision
from edtune.student.batches import IGNORE_INDEX, Example
from edtune.student.lora import trainable_parameters

if TYPE_CHECKING:
    import torch
    from accelerate import Accelerator


@dataclass(frozen=True)
class Schedule:
    """Optimiser and step settings of one `fit` call.

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
    accumulation: int = 1
    """Micro-batches per step on each process (`LoraTrainConfig.gradient_accumulation_steps`)."""
    mixed_precision: Precision = "no"
    """Autocast of the forward pass (`LoraTrainConfig.mixed_precision`)."""


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

EndCallback = Callable[["Accelerator", "torch.nn.Module"], None]
"""Called on every process after the last step with the accelerator and the prepared (wrapped) model, before
the model is released: where the weights are sharded (FSDP, DeepSpeed) the place to gather them."""


def batches(examples: list[Example], batch_size: int, rng: random.Random) -> Iterator[list[Example]]:
    """Endless batches: each epoch is a fresh shuffle; the last partial batch of an epoch is kept."""
    order = list(range(len(examples)))
    while True:
        rng.shuffle(order)
        for start in range(0, len(order), batch_size):
            yield [examples[i] for i in order[start:start + batch_size]]


def micro_batches(batch: list[Example], parts: int) -> list[list[Example]]:
    """`batch` cut into `parts` consecutive slices whose sizes differ by at most one, larger ones first;
    a batch with fewer examples than `parts` leaves the last slices empty."""
    size, extra = divmod(len(batch), parts)
    bounds = [0]
    for i in range(parts):
        bounds.append(bounds[-1] + size + (i < extra))
    return [batch[bounds[i]:bounds[i + 1]] for i in range(parts)]


def check_precision(precision: Precision, device: str) -> None:
    """ConfigError for a mixed precision the device cannot run: accelerate has no float16 autocast on CPU
    and would train in float32 there without a word."""
    if precision == "fp16" and device == "cpu":
        raise ConfigError('LoraTrainConfig.mixed_precision = "fp16" needs a GPU: on CPU accelerate would train in '
                          'float32 without saying so; use "bf16" (CPU autocast) or "no"')


def fit(model: torch.nn.Module, examples: list[Example], schedule: Schedule, *, collate: Collate, seed: int,
        device: str, progress: bool = False, on_step: StepCallback | None = None,
        on_end: EndCallback | None = None) -> list[float]:
    """Train in place for `schedule.steps` steps (see the module docstring); returns every step's loss, the
    same on every process.

    `device` is where a plain process trains ("cpu" keeps accelerate off any GPU); a process started by
    `accelerate launch` trains on the device accelerate gives it. `progress` shows this function's own bar
    (pretraining from the CLI); `on_step` reports each step to the caller instead (the loop draws its bar
    from it). Neither changes the training."""
    import torch

    check_precision(schedule.mixed_precision, device)
    accelerator, owned = _accelerator(schedule, device)
    optimiser = torch.optim.AdamW(trainable_parameters(model), lr=schedule.lr, weight_decay=schedule.weight_decay)
    lr_schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda step: cosine_factor(step, schedule))
    stream = batches(examples, schedule.batch_size, random.Random(seed))
    losses: list[float] = []
    model.train()
    prepared = model
    try:
        prepared, optimiser = accelerator.prepare(model, optimiser)
        with _progress_bar(progress, schedule.steps) as bar:
            report = [callback for callback in (bar, on_step) if callback is not None]
            for _ in range(schedule.steps):
                losses.append(_step(accelerator, prepared, optimiser, next(stream), schedule, collate))
                lr_schedule.step()
                for callback in report:
                    callback(len(losses), schedule.steps, losses[-1])
        if on_end is not None:
            on_end(accelerator, prepared)
    finally:
        _release(accelerator, prepared, owned)
    model.eval()
    return losses


def _step(accelerator: Accelerator, model: Any, optimiser: Any, batch: list[Example], schedule: Schedule,
          collate: Collate) -> float:
    """One optimiser step on `batch`, this process's micro-batches of it; returns the batch's loss: the mean
    over all of its target tokens, on every process."""
    world, rank, rounds = accelerator.num_processes, accelerator.process_index, schedule.accumulation
    parts = micro_batches(batch, world * rounds)
    mine = [parts[k * world + rank] for k in range(rounds)]
    # An empty micro-batch (a short last batch of an epoch) still runs, on the batch's first example with
    # weight 0, so that every process takes part in each gradient sync.
    inputs = [{key: value.to(accelerator.device) for key, value in collate(part or batch[:1]).items()}
              for part in mine]
    tokens = [target_tokens(x["labels"]) if part else 0 for x, part in zip(inputs, mine, strict=True)]
    everywhere = _sum_over_processes(accelerator, sum(tokens))
    total: torch.Tensor | None = None
    for x, count in zip(inputs, tokens, strict=True):
        share = count / everywhere
        with accelerator.accumulate(model):
            loss = model(**x).loss
            # accelerate divides by `rounds` and DDP averages over processes: undone here, so that each
            # micro-batch's token mean counts by its share of the batch's target tokens and the sum is the
            # batch's token mean. With one micro-batch the factor is exactly 1.
            accelerator.backward(loss * (share * world * rounds))
            if accelerator.sync_gradients and schedule.max_grad_norm is not None:
                accelerator.clip_grad_norm_(model.parameters(), schedule.max_grad_norm)
            optimiser.step()
            optimiser.zero_grad(set_to_none=True)
        weighted = loss.detach() * share
        total = weighted if total is None else total + weighted
    assert total is not None  # rounds >= 1
    if world > 1:
        total = accelerator.reduce(total, reduction="sum")
    return float(total)


def target_tokens(labels: torch.Tensor) -> int:
    """Tokens a causal-LM loss averages over: labels other than -100 once shifted left by one (the first
    position predicts nothing)."""
    return int((labels[:, 1:] != IGNORE_INDEX).sum())


def _sum_over_processes(accelerator: Accelerator, value: int) -> int:
    if accelerator.num_processes == 1:
        return value
    import torch

    return int(accelerator.reduce(torch.tensor(value, device=accelerator.device), reduction="sum"))


def _accelerator(schedule: Schedule, device: str) -> tuple[Accelerator, bool]:
    """The `Accelerator` of one call, and whether this call set up accelerate's process-wide state (and so
    must clear it: see `_release`). Accumulation is passed as a plugin so that an accelerate config file's
    own value cannot override edtune's."""
    from accelerate import Accelerator
    from accelerate.state import is_initialized
    from accelerate.utils import GradientAccumulationPlugin

    owned = not is_initialized()
    plugin = GradientAccumulationPlugin(num_steps=schedule.accumulation, sync_with_dataloader=False)
    accelerator = Accelerator(cpu=device == "cpu", mixed_precision=schedule.mixed_precision,
                              gradient_accumulation_plugin=plugin)
    return accelerator, owned


def _release(accelerator: Accelerator, prepared: torch.nn.Module, owned: bool) -> None:
    """Leave the model and the process as they were before the call.

    `prepare` patches the model in place (an autocast forward, a flag that makes a later `prepare` skip it),
    and a later call may use another precision. accelerate also keeps one process-wide state that refuses a
    second `Accelerator` with other settings; in a plain process that state is this call's, so it is cleared
    (a launched process's state belongs to its launcher and is kept)."""
    from accelerate.state import AcceleratorState, GradientState
    from accelerate.utils import DistributedType

    inner = accelerator.unwrap_model(prepared)
    inner.__dict__.pop("_is_accelerate_prepared", None)
    # Not unwrap_model(keep_fp32_wrapper=False): it unwraps through transformers' own decorators of
    # `forward` too. The forward as it was is put back instead.
    original = inner.__dict__.pop("_original_forward", None)
    if original is not None:
        if getattr(original, "__func__", None) is type(inner).forward:
            inner.__dict__.pop("forward", None)
        else:
            inner.forward = original
    accelerator.free_memory()
    if owned and accelerator.distributed_type == DistributedType.NO:
        AcceleratorState._reset_state(reset_partial_state=True)
        GradientState._reset_state()


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
