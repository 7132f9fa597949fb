"""Tiny Qwen2-VL, Qwen2.5-VL and Qwen3-VL models: 16 px patches of 8 (16 for Qwen3-VL), merged 2x2."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from edtune.student.tiny_families import templates
from edtune.student.tiny_families.llava import finish, text_config
from edtune.student.tiny_families.vocab import token_id, word_tokenizer

_NAMED = {"image_token": "<|image_pad|>", "video_token": "<|video_pad|>", "vision_start_token": "<|vision_start|>",
          "vision_end_token": "<|vision_end|>"}


def _parts(texts: Sequence[str], patch: int) -> tuple[Any, Any, dict[str, Any]]:
    """Tokenizer, image processor and the token ids every Qwen-VL config names."""
    from transformers import Qwen2VLImageProcessorPil

    tokenizer = word_tokenizer(texts, pad="<|endoftext|>", eos="<|im_end|>", bos=None, named=_NAMED,
                               specials=["<|im_start|>"])
    side = 2 * patch
    images = Qwen2VLImageProcessorPil(patch_size=patch, merge_size=2, temporal_patch_size=2,
                                      size={"shortest_edge": side * side, "longest_edge": 4 * side * side})
    ids = {f"{name}_id": token_id(tokenizer, token) for name, token in
           (("image_token", "<|image_pad|>"), ("video_token", "<|video_pad|>"),
            ("vision_start_token", "<|vision_start|>"), ("vision_end_token", "<|vision_end|>"))}
    return tokenizer, images, ids


def _rope(section: list[int], **extra: Any) -> dict[str, Any]:
    return {"rope_parameters": {"rope_type": "default", "rope_theta": 10000.0, "mrope_section": section, **extra}}


def qwen2_vl(texts: Sequence[str]) -> tuple[Any, Any]:
    """Qwen2-VL: ViT with 2x2 patch merger (`visual.merger`), Qwen2 decoder with M-RoPE."""
    from transformers import Qwen2VLConfig, Qwen2VLForConditionalGeneration, Qwen2VLProcessor, Qwen2VLVideoProcessor

    tokenizer, images, ids = _parts(texts, 8)
    processor = Qwen2VLProcessor(image_processor=images, tokenizer=tokenizer, video_processor=Qwen2VLVideoProcessor(),
                                 chat_template=templates.QWEN)
    vision = {"depth": 1, "embed_dim": 32, "hidden_size": 32, "num_heads": 2, "patch_size": 8, "mlp_ratio": 2}
    config = Qwen2VLConfig(text_config=text_config("qwen2_vl_text", tokenizer, **_rope([2, 3, 3])),
                           vision_config=vision, **ids)
    return finish(Qwen2VLForConditionalGeneration(config), tokenizer), processor


def qwen2_5_vl(texts: Sequence[str]) -> tuple[Any, Any]:
    """Qwen2.5-VL: windowed-attention ViT with merger, Qwen2 decoder with M-RoPE."""
    from transformers import (
        Qwen2_5_VLConfig,
        Qwen2_5_VLForConditionalGeneration,
        Qwen2_5_VLProcessor,
        Qwen2VLVideoProcessor,
    )

    tokenizer, images, ids = _parts(texts, 8)
    processor = Qwen2_5_VLProcessor(image_processor=images, tokenizer=tokenizer,
                                    video_processor=Qwen2VLVideoProcessor(), chat_template=templates.QWEN)
    vision = {"depth": 1, "hidden_size": 32, "intermediate_size": 64, "num_heads": 2, "patch_size": 8,
              "out_hidden_size": 32, "window_size": 32, "fullatt_block_indexes": [0]}
    config = Qwen2_5_VLConfig(text_config=text_config("qwen2_5_vl_text", tokenizer, **_rope([2, 3, 3])),
                              vision_config=vision, **ids)
    return finish(Qwen2_5_VLForConditionalGeneration(config), tokenizer), processor


def qwen3_vl(texts: Sequence[str]) -> tuple[Any, Any]:
    """Qwen3-VL: ViT with merger and deep-stack mergers, Qwen3 decoder with interleaved M-RoPE."""
    from transformers import Qwen3VLConfig, Qwen3VLForConditionalGeneration, Qwen3VLProcessor, Qwen3VLVideoProcessor

    tokenizer, images, ids = _parts(texts, 16)
    processor = Qwen3VLProcessor(image_processor=images, tokenizer=tokenizer, video_processor=Qwen3VLVideoProcessor(),
                                 chat_template=templates.QWEN)
    vision = {"depth": 2, "hidden_size": 32, "intermediate_size": 64, "num_heads": 2, "patch_size": 16,
              "out_hidden_size": 32, "num_position_embeddings": 16, "deepstack_visual_indexes": [0]}
    text = text_config("qwen3_vl_text", tokenizer, **_rope([4, 2, 2], mrope_interleaved=True))
    config = Qwen3VLConfig(text_config=text, vision_config=vision, **ids)
    return finish(Qwen3VLForConditionalGeneration(config), tokenizer), processor
