"""Pretraining a tiny student on any samples: build (or continue) the tiny Llava, train all of its weights
with the loss on the rationale/answer only, and save the checkpoint. Same inputs, same weights (on CPU).

What it is trained on is the caller's: samples whose images are already on disk, and the texts whose words
make its vocabulary. Words that the samples never train (a target task's wording) must be in those texts
too, or the student can never write them. The shapes world's pretraining (`edtune student pretrain`) is
`edtune.bench.shapes.pretrain`; `examples/digits/` pretrains a student on a task of its own.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import Field

from edtune.errors import ConfigError, DataError
from edtune.records import Record, Sample
from edtune.student.base import StudentConfig
from edtune.student.tiny import TinyStudentConfig, build_model, build_processor, build_tokenizer, save_checkpoint

PRETRAIN_RECORD = "edtune_pretrain.json"
"""File in the checkpoint holding the pretraining config and `PretrainStats` that produced it."""


class TinyPretrainConfig(Record):
    """How a tiny student is pretrained (the samples and vocabulary are the caller's)."""

    seed: int = 0
    """Seeds weight initialisation and batch order."""
    steps: int = Field(default=5_000, ge=1)
    """Optimiser steps. The model first learns the wording and only later looks at the image, so a short
    pretraining leaves the base skills unlearned (the shapes world's figures: benchmarks/README.md)."""
    batch_size: int = Field(default=32, ge=1)
    """Samples per step."""
    lr: float = Field(default=2e-3, gt=0)
    """Peak AdamW learning rate (full training from scratch, hence far above LoRA fine-tuning rates).
    3e-3 (seed 1) ended at loss 0.25 where 2e-3 (seed 0) reached 0.002."""
    warmup_ratio: float = Field(default=0.03, ge=0, lt=1)
    """Linear warm-up share of the steps before cosine decay."""
    weight_decay: float = Field(default=0.0, ge=0)
    """AdamW weight decay."""
    max_grad_norm: float | None = Field(default=1.0, gt=0)
    """Gradient-norm clip; None disables it."""
    model: TinyStudentConfig = Field(default_factory=TinyStudentConfig)
    """Shape of the tiny Llava (ignored with `init_from`: the checkpoint has its own)."""
    init_from: str | None = None
    """Checkpoint folder to continue from, or "bundled" for the shipped student; None builds a new model."""


class PretrainStats(Record):
    """What a pretraining run did."""

    steps: int
    """Optimiser steps taken."""
    train_samples: int
    """Distinct samples trained on."""
    parameters: int
    """Model parameters (all trained)."""
    vocab_size: int
    """Tokenizer vocabulary size."""
    prepare_s: float
    """Seconds to build the vocabulary, draw and render samples, and encode them."""
    train_s: float
    """Seconds of optimisation."""
    first_loss: float
    """Mean loss of the first 20 steps."""
    final_loss: float
    """Mean loss of the last 20 steps."""


def sample_texts(samples: Iterable[Sample], config: StudentConfig | None = None) -> list[str]:
    """The prompt and target text of each sample, as the student reads and writes them: vocabulary texts."""
    from edtune.student.prompting import target_text, user_text

    config = config or StudentConfig()
    return [text for sample in samples for text in (user_text(sample, config), target_text(sample))]


def starting_point(config: TinyPretrainConfig, vocabulary: Iterable[str]) -> tuple[Any, Any]:
    """(processor, model): loaded from `init_from`, or built new with a tokenizer over `vocabulary`
    (which is then not read)."""
    if config.init_from is None:
        tokenizer = build_tokenizer(vocabulary)
        processor = build_processor(tokenizer, config.model)
        return processor, build_model(tokenizer, config.model, seed=config.seed)
    from transformers import AutoModelForImageTextToText, AutoProcessor

    folder = start_checkpoint(config.init_from)
    return AutoProcessor.from_pretrained(folder), AutoModelForImageTextToText.from_pretrained(folder)


def start_checkpoint(init_from: str) -> Path:
    """The checkpoint folder `init_from` names ("bundled": the shipped student); ConfigError when it has none."""
    from edtune.student.bundled import TINY_CHECKPOINT

    folder = TINY_CHECKPOINT if init_from == "bundled" else Path(init_from)
    if not (folder / "config.json").is_file():
        raise ConfigError(f"init_from {init_from!r}: no checkpoint (config.json) at {folder}")
    return folder


def check_vocabulary(tokenizer: Any, samples: list[Sample]) -> None:
    """DataError naming the sample when a training text has a word the tokenizer lacks (it would be learnt
    as <unk>): the vocabulary texts, or the start checkpoint's, were written another way."""
    from edtune.student.prompting import target_text

    for row, sample in enumerate(samples, start=1):
        ids = tokenizer(target_text(sample), add_special_tokens=False)["input_ids"]
        if tokenizer.unk_token_id in ids:
            raise DataError(f"sample {sample.id}: its rationale has words outside the student's vocabulary: "
                            f"{target_text(sample)!r}", row=row, field="rationale")


def pretrain_tiny(samples: list[Sample], image_root: Path, out_dir: Path, config: TinyPretrainConfig, *,
                  vocabulary: Iterable[str] = (), progress: bool = False,
                  started: float | None = None) -> PretrainStats:
    """Train a tiny student on `samples` (images under `image_root`) and save it to `out_dir`, with
    `edtune_pretrain.json` recording `config` (its concrete class's fields) and the stats.

    A new model's vocabulary is every word of `vocabulary` (pass `sample_texts` of the training samples and
    of every task the student will be tuned on); with `init_from` the checkpoint's tokenizer is kept. A
    training text with a word outside the vocabulary is a DataError before any training. `started`: the
    `time.perf_counter()` at which the caller began preparing (the default: now)."""
    import torch

    from edtune.student.batches import encoder_for
    from edtune.student.training import Schedule, fit

    started = time.perf_counter() if started is None else started
    if not samples:
        raise DataError("pretraining needs at least one sample")
    processor, model = starting_point(config, vocabulary)
    check_vocabulary(processor.tokenizer, samples)
    encoder = encoder_for(processor, model.config.model_type, StudentConfig())
    examples = [encoder.example(s, image_root, row=i + 1) for i, s in enumerate(samples)]
    prepared = time.perf_counter()
    schedule = Schedule(lr=config.lr, steps=config.steps, batch_size=config.batch_size,
                        warmup_ratio=config.warmup_ratio, weight_decay=config.weight_decay,
                        max_grad_norm=config.max_grad_norm)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        losses = fit(model, examples, schedule, collate=encoder.training_batch, seed=config.seed, device="cpu",
                     progress=progress)
    stats = PretrainStats(
        steps=len(losses), train_samples=len(samples), parameters=sum(p.numel() for p in model.parameters()),
        vocab_size=len(processor.tokenizer), prepare_s=prepared - started, train_s=time.perf_counter() - prepared,
        first_loss=sum(losses[:20]) / len(losses[:20]), final_loss=sum(losses[-20:]) / len(losses[-20:]),
    )
    save_checkpoint(model, processor, out_dir)
    record = {"config": config.model_dump(mode="json"), "stats": stats.model_dump(mode="json")}
    (out_dir / PRETRAIN_RECORD).write_text(json.dumps(record, indent=2) + "\n")
    return stats
