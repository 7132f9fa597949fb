"""LoRA for image-text-to-text models: which modules get adapters, and loss-masked training examples.

Target selection works on full module names of any HF VLM: linear layers matching the target pattern,
minus the vision tower, plus the projector when asked. The exact list is handed to peft (not a pattern),
so what was printed is what was adapted.

Training examples are `prompt ids + target ids`: the prompt (chat template, image tokens, question) is
labelled -100 and only the rationale/answer tokens and the end-of-turn token carry loss.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from edtune.errors import ConfigError
from edtune.student.base import LoraTrainConfig

if TYPE_CHECKING:
    import torch
    from peft import PeftModel

IGNORE_INDEX = -100
"""Label value the HF causal-LM loss skips."""


@dataclass
class Example:
    """One encoded training example: token ids, labels aligned to them, and the image tensors."""

    input_ids: list[int]
    labels: list[int]
    extras: dict[str, torch.Tensor]
    """Per-example processor outputs other than text (pixel_values, image_grid_thw, ...), batch dim first."""


def masked_example(prompt_ids: list[int], target_ids: list[int], extras: dict[str, torch.Tensor]) -> Example:
    """Concatenate prompt and target; only target positions keep their label."""
    if not target_ids:
        raise ConfigError("a training example has an empty target (no rationale or answer tokens)")
    return Example(input_ids=[*prompt_ids, *target_ids],
                   labels=[IGNORE_INDEX] * len(prompt_ids) + list(target_ids), extras=extras)


def collate(examples: list[Example], pad_id: int) -> dict[str, torch.Tensor]:
    """Right-padded batch (positions start at 0 for every row); image tensors concatenated on dim 0.

    Concatenation is how Llava, Qwen2-VL and Idefics3 processors batch images, so one rule fits all.
    """
    import torch

    width = max(len(e.input_ids) for e in examples)
    ids = torch.full((len(examples), width), pad_id, dtype=torch.long)
    labels = torch.full((len(examples), width), IGNORE_INDEX, dtype=torch.long)
    mask = torch.zeros((len(examples), width), dtype=torch.long)
    for row, example in enumerate(examples):
        n = len(example.input_ids)
        ids[row, :n] = torch.tensor(example.input_ids)
        labels[row, :n] = torch.tensor(example.labels)
        mask[row, :n] = 1
    batch = {"input_ids": ids, "attention_mask": mask, "labels": labels}
    for key in examples[0].extras:
        batch[key] = torch.cat([e.extras[key] for e in examples], dim=0)
    return batch


def select_target_modules(model: torch.nn.Module, config: LoraTrainConfig) -> list[str]:
    """Full names of the linear layers to adapt (see module docstring); ConfigError when none match."""
    import torch

    try:
        target = re.compile(config.target_pattern)
        exclude = re.compile(config.exclude_pattern)
        projector = re.compile(config.projector_pattern)
    except re.error as exc:
        raise ConfigError(f"invalid LoRA module pattern: {exc}") from exc
    names = []
    for name, module in model.named_modules():
        if not isinstance(module, torch.nn.Linear) or exclude.search(name):
            continue
        if target.search(name) or (config.include_projector and projector.search(name)):
            names.append(name)
    if not names:
        raise ConfigError(f"no linear layer matches the LoRA target pattern {config.target_pattern!r}",)
    return names


def summarise_targets(names: list[str]) -> list[str]:
    """Module names with layer numbers folded: "model.language_model.layers.*.self_attn.q_proj  x28"."""
    groups: dict[str, list[str]] = {}
    for name in names:
        groups.setdefault(re.sub(r"\.\d+\.", ".*.", name), []).append(name)
    return [f"{pattern}  x{len(members)}" if len(members) > 1 else members[0] for pattern, members in groups.items()]


def attach_lora(model: torch.nn.Module, config: LoraTrainConfig) -> tuple[PeftModel, list[str]]:
    """Wrap `model` with fresh LoRA adapters (in place) on the selected modules; base weights frozen.

    Adapter initialisation draws from torch's global RNG: callers seed it (inside `fork_rng`).
    """
    from peft import LoraConfig, get_peft_model

    names = select_target_modules(model, config)
    if config.print_targets:
        lines = "\n  ".join(summarise_targets(names))
        # The issue asks that the adapted modules be shown; stderr keeps stdout clean for data.
        print(f"LoRA r={config.r} on {len(names)} modules:\n  {lines}", file=sys.stderr)
    lora = LoraConfig(r=config.r, lora_alpha=config.alpha, lora_dropout=config.dropout,
                      target_modules=names, bias="none")
    return get_peft_model(model, lora), names


def adapter_target_names(peft_model: PeftModel) -> list[str]:
    """Full names (relative to the base model) of the modules carrying a LoRA adapter."""
    from peft.tuners.lora import LoraLayer

    prefix = "base_model.model."
    return [name.removeprefix(prefix) for name, module in peft_model.named_modules()
            if isinstance(module, LoraLayer)]


def trainable_parameters(model: torch.nn.Module) -> list[Any]:
    """The parameters that require gradients."""
    return [p for p in model.parameters() if p.requires_grad]
