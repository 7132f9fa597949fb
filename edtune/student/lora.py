"""LoRA for image-text-to-text models: which modules get adapters.

Target selection works on full module names: linear layers matching the target pattern, minus the vision
tower, plus the projector when asked (even where the projector sits inside the tower, as Qwen's
`visual.merger` does). Each pattern is the checkpoint family's (`families.FAMILIES`) unless the
`LoraTrainConfig` sets it. Projector weights that are bare parameters (Gemma3) are adapted through peft's
`target_parameters`. The exact lists are handed to peft (not patterns), so what was printed is what was
adapted; the list is printed once per process, not at every adapter a run creates.
"""

from __future__ import annotations

import re
import sys
from typing import TYPE_CHECKING, Any

from edtune.errors import ConfigError
from edtune.student.base import LoraTrainConfig
from edtune.student.families import FAMILIES, Family

if TYPE_CHECKING:
    import torch
    from peft import PeftModel

_PRINTED: set[tuple[str, ...]] = set()
"""Target lists already printed in this process."""


def _pattern(config: LoraTrainConfig, field: str, family_default: str) -> re.Pattern[str]:
    """The config's pattern where the user set it, else the family's; ConfigError when it is not a regex."""
    text = getattr(config, field) if field in config.model_fields_set else family_default
    try:
        return re.compile(text)
    except re.error as exc:
        raise ConfigError(f"invalid LoRA module pattern {field}={text!r}: {exc}") from exc


def select_target_modules(model: torch.nn.Module, config: LoraTrainConfig, family: Family | None = None) -> list[str]:
    """Full names of the linear layers to adapt (see module docstring); ConfigError when none match."""
    import torch

    family = family or FAMILIES["llava"]
    target = _pattern(config, "target_pattern", family.decoder_pattern)
    exclude = _pattern(config, "exclude_pattern", family.vision_pattern)
    projector = _pattern(config, "projector_pattern", family.projector_pattern)
    names = []
    for name, module in model.named_modules():
        if not isinstance(module, torch.nn.Linear):
            continue
        if (target.search(name) and not exclude.search(name)) or (config.include_projector and projector.search(name)):
            names.append(name)
    if not names:
        raise ConfigError(f"no linear layer matches the LoRA target pattern {target.pattern!r}")
    return names


def select_target_parameters(model: torch.nn.Module, config: LoraTrainConfig, family: Family) -> list[str]:
    """Full names of the bare projector parameters to adapt (empty unless the projector is asked for)."""
    if not config.include_projector:
        return []
    return [name for name, _ in model.named_parameters() if any(name.endswith(p) for p in family.projector_parameters)]


def summarise_targets(names: list[str]) -> list[str]:
    """Module names with layer numbers folded: "model.language_model.layers.*.self_attn.q_proj  x28"."""
    groups: dict[str, list[str]] = {}
    for name in names:
        groups.setdefault(re.sub(r"\.\d+\.", ".*.", name), []).append(name)
    return [f"{pattern}  x{len(members)}" if len(members) > 1 else members[0] for pattern, members in groups.items()]


def attach_lora(model: torch.nn.Module, config: LoraTrainConfig,
                family: Family | None = None) -> tuple[PeftModel, list[str]]:
    """Wrap `model` with fresh LoRA adapters (in place) on the selected modules; base weights frozen.

    Returns the peft model and the adapted names (modules, then bare parameters). Adapter initialisation
    draws from torch's global RNG: callers seed it (inside `fork_rng`)."""
    from peft import LoraConfig, get_peft_model

    family = family or FAMILIES["llava"]
    names = select_target_modules(model, config, family)
    parameters = select_target_parameters(model, config, family)
    if config.print_targets:
        _print_once(config.r, [*names, *parameters])
    lora = LoraConfig(r=config.r, lora_alpha=config.alpha, lora_dropout=config.dropout,
                      target_modules=names, target_parameters=parameters or None, bias="none")
    return get_peft_model(model, lora), [*names, *parameters]


def _print_once(r: int, names: list[str]) -> None:
    """Show the adapted modules (stderr keeps stdout clean for data), once per process for a given list."""
    key = (str(r), *names)
    if key in _PRINTED:
        return
    _PRINTED.add(key)
    lines = "\n  ".join(summarise_targets(names))
    print(f"LoRA r={r} on {len(names)} modules:\n  {lines}", file=sys.stderr)


def adapter_target_names(peft_model: PeftModel) -> list[str]:
    """Full names (relative to the base model) of the modules carrying a LoRA adapter."""
    from peft.tuners.lora import LoraLayer

    prefix = "base_model.model."
    return [name.removeprefix(prefix) for name, module in peft_model.named_modules()
            if isinstance(module, LoraLayer)]


def trainable_parameters(model: torch.nn.Module) -> list[Any]:
    """The parameters that require gradients."""
    return [p for p in model.parameters() if p.requires_grad]
