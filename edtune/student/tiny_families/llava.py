"""Tiny LLaVA-1.5, LLaVA-NeXT and LLaVA-OneVision models (random weights, 16-32 px images)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from edtune.student.tiny_families import templates
from edtune.student.tiny_families.vocab import token_id, word_tokenizer

SIDE, PATCH = 16, 8
"""Vision input side and patch: a 2x2 patch grid, 4 image tokens per tile."""
PINPOINTS = [[16, 16], [16, 32], [32, 16], [32, 32]]
"""Any-resolution grids (LLaVA-NeXT / OneVision): a non-square image gets a different tile count."""


def text_config(model_type: str, tokenizer: Any, **extra: Any) -> dict[str, Any]:
    """A one-layer, 32-wide decoder config of `model_type` sized to `tokenizer`."""
    return {"model_type": model_type, "vocab_size": len(tokenizer), "hidden_size": 32, "intermediate_size": 64,
            "num_hidden_layers": 1, "num_attention_heads": 2, "num_key_value_heads": 2, "head_dim": 16,
            "max_position_embeddings": 512, "pad_token_id": tokenizer.pad_token_id,
            "bos_token_id": tokenizer.bos_token_id, "eos_token_id": tokenizer.eos_token_id, **extra}


def vision_config(model_type: str, **extra: Any) -> dict[str, Any]:
    """A one-layer, 32-wide ViT config of `model_type` (clip_vision_model, siglip_vision_model, ...)."""
    return {"model_type": model_type, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1,
            "num_attention_heads": 2, "image_size": SIDE, "patch_size": PATCH, **extra}


def finish(model: Any, tokenizer: Any) -> Any:
    """Generation config with the tokenizer's special ids (generate reads them from there)."""
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.bos_token_id = tokenizer.bos_token_id
    return model


def llava(texts: Sequence[str]) -> tuple[Any, Any]:
    """LLaVA-1.5: CLIP tower, two-layer MLP projector, Llama decoder."""
    from transformers import CLIPImageProcessorPil, LlavaConfig, LlavaForConditionalGeneration, LlavaProcessor

    tokenizer = word_tokenizer(texts, pad="<pad>", eos="</s>", bos="<s>", named={"image_token": "<image>"})
    images = CLIPImageProcessorPil(size={"shortest_edge": SIDE}, crop_size={"height": SIDE, "width": SIDE})
    processor = LlavaProcessor(image_processor=images, tokenizer=tokenizer, patch_size=PATCH,
                               vision_feature_select_strategy="default", num_additional_image_tokens=1,
                               chat_template=templates.LLAVA)
    config = LlavaConfig(vision_config=vision_config("clip_vision_model"), text_config=text_config("llama", tokenizer),
                         image_token_index=token_id(tokenizer, "<image>"), image_seq_length=4,
                         vision_feature_select_strategy="default")
    return finish(LlavaForConditionalGeneration(config), tokenizer), processor


def llava_next(texts: Sequence[str]) -> tuple[Any, Any]:
    """LLaVA-NeXT: LLaVA with any-resolution tiling (tile count follows the image's aspect)."""
    from transformers import (
        LlavaNextConfig,
        LlavaNextForConditionalGeneration,
        LlavaNextImageProcessorPil,
        LlavaNextProcessor,
    )

    tokenizer = word_tokenizer(texts, pad="<pad>", eos="</s>", bos="<s>", named={"image_token": "<image>"})
    images = LlavaNextImageProcessorPil(size={"shortest_edge": SIDE}, crop_size={"height": SIDE, "width": SIDE},
                                        image_grid_pinpoints=PINPOINTS)
    processor = LlavaNextProcessor(image_processor=images, tokenizer=tokenizer, patch_size=PATCH,
                                   vision_feature_select_strategy="default", num_additional_image_tokens=1,
                                   chat_template=templates.LLAVA)
    config = LlavaNextConfig(vision_config=vision_config("clip_vision_model"),
                             text_config=text_config("llama", tokenizer), image_grid_pinpoints=PINPOINTS,
                             image_token_index=token_id(tokenizer, "<image>"),
                             vision_feature_select_strategy="default")
    return finish(LlavaNextForConditionalGeneration(config), tokenizer), processor


def llava_onevision(texts: Sequence[str]) -> tuple[Any, Any]:
    """LLaVA-OneVision: SigLIP tower, any-resolution tiles, Qwen2 decoder, ChatML turns."""
    from transformers import (
        LlavaOnevisionConfig,
        LlavaOnevisionForConditionalGeneration,
        LlavaOnevisionImageProcessorPil,
        LlavaOnevisionProcessor,
        LlavaOnevisionVideoProcessor,
    )

    tokenizer = word_tokenizer(texts, pad="<|endoftext|>", eos="<|im_end|>", bos=None,
                               named={"image_token": "<image>", "video_token": "<video>"},
                               specials=["<|im_start|>"])
    images = LlavaOnevisionImageProcessorPil(size={"height": SIDE, "width": SIDE}, image_grid_pinpoints=PINPOINTS)
    processor = LlavaOnevisionProcessor(image_processor=images, tokenizer=tokenizer,
                                        video_processor=LlavaOnevisionVideoProcessor(),
                                        num_image_tokens=(SIDE // PATCH) ** 2, vision_feature_select_strategy="full",
                                        chat_template=templates.ONEVISION)
    config = LlavaOnevisionConfig(vision_config=vision_config("siglip_vision_model"),
                                  text_config=text_config("qwen2", tokenizer), image_grid_pinpoints=PINPOINTS,
                                  image_token_index=token_id(tokenizer, "<image>"),
                                  video_token_index=token_id(tokenizer, "<video>"),
                                  vision_feature_select_strategy="full", vision_feature_layer=-1)
    return finish(LlavaOnevisionForConditionalGeneration(config), tokenizer), processor
