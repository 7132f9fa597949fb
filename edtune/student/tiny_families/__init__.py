"""Tiny random-weight checkpoints of every VLM family `HFStudent` supports, built from config classes with
no download (one or two 32-wide layers, 16 px tiles, a word-level tokenizer over the given texts).

Tests and `benchmarks/bench_families.py` drive them through `HFStudent` exactly as a real checkpoint would
be driven. Some processors need packages that are not edtune dependencies (torchvision for the video
processors Qwen-VL, LLaVA-OneVision, SmolVLM and InternVL insist on; num2words for SmolVLM):
`unavailable_reason` says so instead of failing.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edtune.student.tiny_families import idefics, llava, others, qwen

VISION_STAGE = "run .ci/vision_stage.sh"
"""Where the families that need torchvision are tested."""


@dataclass(frozen=True)
class TinyFamily:
    """How to build one family's tiny checkpoint."""

    label: str
    """The family's usual name (table rows, test ids)."""
    model_type: str
    """The config `model_type` (key of `edtune.student.families.FAMILIES`)."""
    build: Callable[[Sequence[str]], tuple[Any, Any]]
    """texts -> (model, processor), the tokenizer's vocabulary covering `texts`; draws from torch's RNG."""
    needs: tuple[str, ...] = ()
    """Importable packages the processor needs beyond edtune's dependencies."""
    model_class: str = ""
    """transformers class that must exist for the family to be built ("" when any version has it)."""


TINY_FAMILIES: list[TinyFamily] = [
    TinyFamily("LLaVA-1.5", "llava", llava.llava),
    TinyFamily("LLaVA-NeXT", "llava_next", llava.llava_next),
    TinyFamily("LLaVA-OneVision", "llava_onevision", llava.llava_onevision, ("torchvision",)),
    TinyFamily("Qwen2-VL", "qwen2_vl", qwen.qwen2_vl, ("torchvision",)),
    TinyFamily("Qwen2.5-VL", "qwen2_5_vl", qwen.qwen2_5_vl, ("torchvision",)),
    TinyFamily("Qwen3-VL", "qwen3_vl", qwen.qwen3_vl, ("torchvision",), "Qwen3VLForConditionalGeneration"),
    TinyFamily("Idefics3", "idefics3", idefics.idefics3),
    TinyFamily("SmolVLM", "smolvlm", idefics.smolvlm, ("torchvision", "num2words")),
    TinyFamily("Gemma3", "gemma3", others.gemma3),
    TinyFamily("PaliGemma", "paligemma", others.paligemma),
    TinyFamily("Mllama", "mllama", others.mllama),
    TinyFamily("InternVL", "internvl", others.internvl, ("torchvision",)),
]
"""Every supported family, in the order tables list them."""


def unavailable_reason(family: TinyFamily) -> str | None:
    """Why `family` cannot be built in this environment (a missing package or model class), else None."""
    for name in family.needs:  # first missing one only, so the torchvision reason reads the same everywhere
        if importlib.util.find_spec(name) is None:
            return f"needs {name} ({VISION_STAGE})"
    if family.model_class:
        import transformers

        if not hasattr(transformers, family.model_class):
            return f"transformers {transformers.__version__} has no {family.model_class}"
    return None


def build_checkpoint(family: TinyFamily, texts: Sequence[str], out_dir: Path, *, seed: int) -> Path:
    """Build `family`'s tiny model and processor (seeded) and save both to `out_dir`, as a checkpoint."""
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model, processor = family.build(texts)
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    processor.save_pretrained(out_dir)
    return out_dir
