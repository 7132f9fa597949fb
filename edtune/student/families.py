"""The VLM families `HFStudent` supports, and what differs between them.

A family is named by the checkpoint config's `model_type`. For each, the table says how a prompt is
written (the checkpoint's chat template, or PaliGemma's documented `prefix` / `suffix` format), and
where the decoder, the vision tower and the projector sit in the model's module names, so LoRA targets
the decoder, never the tower, and adds the projector only when asked. Anything else is refused at load
time, before the weights are read.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from edtune.errors import ConfigError
from edtune.records import Record

PromptStyle = Literal["chat", "prefix_suffix"]

_DECODER_LINEARS = r"\..*\.(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj)$"
_LANGUAGE_MODEL = r"(^|.*\.)language_model" + _DECODER_LINEARS
_TEXT_MODEL = r"(^|.*\.)text_model" + _DECODER_LINEARS


class Family(Record):
    """How one VLM family is prompted and where its parts sit (module names as `named_modules` gives them)."""

    architecture: str
    """The transformers model class of the family's checkpoints (as written in config.json's `architectures`)."""
    prompt_style: PromptStyle = "chat"
    """"chat": the processor's chat template writes the prompt; "prefix_suffix": PaliGemma's format, where the
    processor takes the question as text (it adds image tokens, BOS and the separator) and the target as `suffix`."""
    decoder_pattern: str = _LANGUAGE_MODEL
    """Regex of the text decoder's linear layers: the default LoRA targets."""
    vision_pattern: str
    """Regex of the vision tower's modules: never adapted (except the projector when it lives inside it)."""
    projector_pattern: str
    """Regex of the vision-to-text projector's modules: adapted when `LoraTrainConfig.include_projector`."""
    projector_parameters: list[str] = Field(default_factory=list)
    """Projector weights that are bare parameters rather than linear layers (Gemma3): adapted through peft's
    `target_parameters` when the projector is asked for."""


_TOWER = r"(^|.*\.)(vision_tower|vision_model)(\.|$)"
_MM_PROJECTOR = r"(^|.*\.)multi_modal_projector(\.|$)"
_QWEN = {"vision_pattern": r"(^|.*\.)visual(\.|$)",
         "projector_pattern": r"(^|.*\.)visual\.(merger|deepstack_merger_list)(\.|$)"}
_IDEFICS = {"decoder_pattern": _TEXT_MODEL, "vision_pattern": _TOWER, "projector_pattern": r"(^|.*\.)connector(\.|$)"}

FAMILIES: dict[str, Family] = {
    "llava": Family(architecture="LlavaForConditionalGeneration", vision_pattern=_TOWER,
                    projector_pattern=_MM_PROJECTOR),
    "llava_next": Family(architecture="LlavaNextForConditionalGeneration", vision_pattern=_TOWER,
                         projector_pattern=_MM_PROJECTOR),
    "llava_onevision": Family(architecture="LlavaOnevisionForConditionalGeneration", vision_pattern=_TOWER,
                              projector_pattern=_MM_PROJECTOR),
    "qwen2_vl": Family(architecture="Qwen2VLForConditionalGeneration", **_QWEN),
    "qwen2_5_vl": Family(architecture="Qwen2_5_VLForConditionalGeneration", **_QWEN),
    "qwen3_vl": Family(architecture="Qwen3VLForConditionalGeneration", **_QWEN),
    "idefics3": Family(architecture="Idefics3ForConditionalGeneration", **_IDEFICS),
    "smolvlm": Family(architecture="SmolVLMForConditionalGeneration", **_IDEFICS),
    "gemma3": Family(architecture="Gemma3ForConditionalGeneration", vision_pattern=_TOWER,
                     projector_pattern=_MM_PROJECTOR,
                     projector_parameters=["multi_modal_projector.mm_input_projection_weight"]),
    "paligemma": Family(architecture="PaliGemmaForConditionalGeneration", prompt_style="prefix_suffix",
                        vision_pattern=_TOWER, projector_pattern=_MM_PROJECTOR),
    "mllama": Family(architecture="MllamaForConditionalGeneration", vision_pattern=_TOWER,
                     projector_pattern=_MM_PROJECTOR),
    "internvl": Family(architecture="InternVLForConditionalGeneration", vision_pattern=_TOWER,
                       projector_pattern=_MM_PROJECTOR),
}
"""Supported families by config `model_type`."""


def supported_architectures() -> list[str]:
    """The model classes `HFStudent` accepts, sorted."""
    return sorted(family.architecture for family in FAMILIES.values())


def family_of(model_type: str, architectures: list[str] | None = None) -> Family:
    """The family of a checkpoint config; ConfigError naming its architecture and the supported list."""
    family = FAMILIES.get(model_type)
    if family is None:
        named = ", ".join(architectures or []) or "(none in config.json)"
        raise ConfigError(f"unsupported student architecture {named} (model_type {model_type!r}); HFStudent "
                          f"supports: {', '.join(supported_architectures())}")
    return family
