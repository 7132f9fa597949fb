"""Activation (gradient) checkpointing of a Hugging Face model for the length of one training call.

Off unless `LoraTrainConfig.gradient_checkpointing` asks for it: a checkpoint loaded with
`from_pretrained` has every `GradientCheckpointingLayer` switched off, and attaching LoRA adapters does not
switch them on (peft only asks whether they are on). Non-reentrant checkpointing is used because it needs
no gradient on the inputs, which frozen embeddings under LoRA do not have; it restores the RNG state
when it recomputes, so dropout masks, and so losses, are those of a run without it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from edtune.errors import ConfigError


@contextmanager
def checkpointing(model: Any, enabled: bool) -> Iterator[None]:
    """Checkpoint `model`'s layers inside the block when `enabled` (switched off again after, since answering
    needs no backward pass); ConfigError when the model's class cannot do it."""
    if not enabled:
        yield
        return
    if not getattr(model, "supports_gradient_checkpointing", False):
        raise ConfigError(f"LoraTrainConfig.gradient_checkpointing: {type(model).__name__} does not support "
                          "activation checkpointing")
    # transformers 5 renamed gradient_* to activation_*; the first argument is the checkpoint kwargs in both.
    enable = getattr(model, "activation_checkpointing_enable", None) or model.gradient_checkpointing_enable
    disable = getattr(model, "activation_checkpointing_disable", None) or model.gradient_checkpointing_disable
    # A cache is of no use to a training forward pass, and checkpointed layers warn about each one.
    configs: dict[int, Any] = {}
    for module in model.modules():
        config = getattr(module, "config", None)
        if hasattr(config, "use_cache"):
            configs[id(config)] = config
    caching = {key: config.use_cache for key, config in configs.items()}
    enable({"use_reentrant": False})
    try:
        for config in configs.values():
            config.use_cache = False
        yield
    finally:
        for key, config in configs.items():
            config.use_cache = caching[key]
        disable()
        # enable() also hooks the input embeddings to require gradients; disable() leaves that hook on a model
        # whose adapters were not loaded through transformers' own peft integration.
        model.disable_input_require_grads()
