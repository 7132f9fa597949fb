"""Tiny Gemma3, PaliGemma, Mllama and InternVL models (random weights, 16 px tiles)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from edtune.student.tiny_families import templates
from edtune.student.tiny_families.llava import SIDE, finish, text_config, vision_config
from edtune.student.tiny_families.vocab import token_id, word_tokenizer

_SQUARE = {"height": SIDE, "width": SIDE}


def gemma3(texts: Sequence[str]) -> tuple[Any, Any]:
    """Gemma3: SigLIP tower, pooled projector (a bare weight), Gemma3 decoder, turns closed by <end_of_turn>."""
    from transformers import Gemma3Config, Gemma3ForConditionalGeneration, Gemma3ImageProcessorPil, Gemma3Processor

    named = {"image_token": "<image_soft_token>", "boi_token": "<start_of_image>", "eoi_token": "<end_of_image>"}
    tokenizer = word_tokenizer(texts, pad="<pad>", eos="<eos>", bos="<bos>", named=named,
                               specials=["<start_of_turn>", "<end_of_turn>"])
    processor = Gemma3Processor(image_processor=Gemma3ImageProcessorPil(size=_SQUARE), tokenizer=tokenizer,
                                image_seq_length=1, chat_template=templates.GEMMA)
    text = text_config("gemma3_text", tokenizer, query_pre_attn_scalar=16, sliding_window=64,
                       layer_types=["sliding_attention", "full_attention"], num_hidden_layers=2)
    config = Gemma3Config(text_config=text, vision_config=vision_config("siglip_vision_model"), mm_tokens_per_image=1,
                          image_token_index=token_id(tokenizer, "<image_soft_token>"),
                          boi_token_index=token_id(tokenizer, "<start_of_image>"),
                          eoi_token_index=token_id(tokenizer, "<end_of_image>"))
    return finish(Gemma3ForConditionalGeneration(config), tokenizer), processor


def paligemma(texts: Sequence[str]) -> tuple[Any, Any]:
    """PaliGemma: SigLIP tower, linear projector, Gemma decoder; no chat template (prefix/suffix format)."""
    from transformers import (
        PaliGemmaConfig,
        PaliGemmaForConditionalGeneration,
        PaliGemmaProcessor,
        SiglipImageProcessorPil,
    )

    tokenizer = word_tokenizer(texts, pad="<pad>", eos="<eos>", bos="<bos>", named={"image_token": "<image>"})
    images = SiglipImageProcessorPil(size=_SQUARE)
    images.image_seq_length = 4  # type: ignore[attr-defined]  # PaliGemmaProcessor reads it
    processor = PaliGemmaProcessor(image_processor=images, tokenizer=tokenizer)  # adds its <loc>/<seg> tokens
    config = PaliGemmaConfig(text_config=text_config("gemma", tokenizer), projection_dim=32, hidden_size=32,
                             vision_config=vision_config("siglip_vision_model", projection_dim=32),
                             image_token_index=token_id(tokenizer, "<image>"))
    return finish(PaliGemmaForConditionalGeneration(config), tokenizer), processor


def mllama(texts: Sequence[str]) -> tuple[Any, Any]:
    """Mllama (Llama 3.2 Vision): tiled tower, cross-attention decoder layers fed through cross_attention_mask."""
    from transformers import MllamaConfig, MllamaForConditionalGeneration, MllamaImageProcessorPil, MllamaProcessor

    tokenizer = word_tokenizer(texts, pad="<|finetune_right_pad_id|>", eos="<|eot_id|>", bos="<|begin_of_text|>",
                               named={"image_token": "<|image|>"},
                               specials=["<|start_header_id|>", "<|end_header_id|>", "<|python_tag|>"])
    processor = MllamaProcessor(image_processor=MllamaImageProcessorPil(size=_SQUARE, max_image_tiles=2),
                                tokenizer=tokenizer, chat_template=templates.MLLAMA)
    vision = {"hidden_size": 32, "num_hidden_layers": 1, "num_global_layers": 1, "attention_heads": 2,
              "intermediate_size": 64, "intermediate_layers_indices": [0], "vision_output_dim": 64,
              "max_num_tiles": 2, "image_size": SIDE, "patch_size": 8,
              "supported_aspect_ratios": [[1, 1], [1, 2], [2, 1]]}
    text = text_config("mllama_text_model", tokenizer, num_hidden_layers=2, cross_attention_layers=[1])
    config = MllamaConfig(vision_config=vision, text_config=text,
                          image_token_index=token_id(tokenizer, "<|image|>"))
    return finish(MllamaForConditionalGeneration(config), tokenizer), processor


def internvl(texts: Sequence[str]) -> tuple[Any, Any]:
    """InternVL: InternViT tower, pixel-shuffle MLP projector, Qwen2 decoder, ChatML turns."""
    from transformers import (
        GotOcr2ImageProcessorPil,
        InternVLConfig,
        InternVLForConditionalGeneration,
        InternVLProcessor,
        InternVLVideoProcessor,
    )

    named = {"context_image_token": "<IMG_CONTEXT>", "start_image_token": "<img>", "end_image_token": "</img>",
             "video_token": "<video>"}
    tokenizer = word_tokenizer(texts, pad="<|endoftext|>", eos="<|im_end|>", bos=None, named=named,
                               specials=["<|im_start|>"])
    processor = InternVLProcessor(image_processor=GotOcr2ImageProcessorPil(size=_SQUARE, crop_to_patches=False),
                                  tokenizer=tokenizer, video_processor=InternVLVideoProcessor(), image_seq_length=1,
                                  chat_template=templates.INTERNVL)
    vision = {"model_type": "internvl_vision", "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1,
              "num_attention_heads": 2, "image_size": [SIDE, SIDE], "patch_size": [8, 8]}
    config = InternVLConfig(vision_config=vision, text_config=text_config("qwen2", tokenizer), image_seq_length=1,
                            image_token_id=token_id(tokenizer, "<IMG_CONTEXT>"), downsample_ratio=0.5)
    return finish(InternVLForConditionalGeneration(config), tokenizer), processor
