"""Tiny DINOv2 and BERT checkpoints written in the test, for the transformers encoder paths (no download)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

TINY_IMAGE_DIM, TINY_TEXT_DIM = 32, 24
"""Hidden sizes of the tiny encoders that `save_tiny_encoders` writes."""

SaveEncoders = Callable[[Path, list[str]], tuple[Path, Path]]


def save_tiny_encoders(out: Path, texts: list[str]) -> tuple[Path, Path]:
    """A 1-layer DINOv2 (28 px, hidden 32) and a 1-layer BERT (hidden 24) with a word-level vocabulary of
    `texts`, each written with save_pretrained so that the Auto classes load them back (no download)."""
    torch = pytest.importorskip("torch")
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import (
        BertConfig,
        BertModel,
        BitImageProcessorPil,
        Dinov2Config,
        Dinov2Model,
        PreTrainedTokenizerFast,
    )

    torch.manual_seed(0)
    image_dir, text_dir = out / "dinov2-tiny", out / "bert-tiny"
    Dinov2Model(Dinov2Config(image_size=28, patch_size=14, hidden_size=TINY_IMAGE_DIM, num_hidden_layers=1,
                             num_attention_heads=2, intermediate_size=64)).save_pretrained(image_dir)
    BitImageProcessorPil(size={"shortest_edge": 28}, crop_size={"height": 28, "width": 28}).save_pretrained(image_dir)
    words = sorted({w for t in texts for w in re.findall(r"\w+|[^\w\s]", t.lower())})
    vocab = {w: i for i, w in enumerate(["[PAD]", "[UNK]", *words])}
    word_level = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    word_level.pre_tokenizer = pre_tokenizers.Whitespace()
    PreTrainedTokenizerFast(tokenizer_object=word_level, pad_token="[PAD]", unk_token="[UNK]").save_pretrained(text_dir)
    BertModel(BertConfig(vocab_size=len(vocab), hidden_size=TINY_TEXT_DIM, num_hidden_layers=1, num_attention_heads=2,
                         intermediate_size=48, max_position_embeddings=64)).save_pretrained(text_dir)
    return image_dir, text_dir
