"""Build the bundled tiny student: a real Llava-class HF checkpoint from small configs, no download.

The result is saved with `save_pretrained` and is loaded back through the same `HFStudent` path
(`AutoProcessor` + `AutoModelForImageTextToText`) as any real VLM. Its tokenizer is a word-level
`tokenizers` vocabulary built from the texts it must read and write; the pre-tokenizer keeps the
space information (SentencePiece-style `▁`), so decoding gives back the exact text and the rationale
parser sees "Step 1: ...\\nAnswer: ..." unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import Field

from edtune.records import Record

if TYPE_CHECKING:
    from transformers import LlavaForConditionalGeneration, LlavaProcessor, PreTrainedTokenizerFast

_CHAT_TEMPLATE = Path(__file__).with_name("tiny_chat_template.jinja")
_SPACE = "▁"
# Punctuation and newlines become their own tokens, so "top-left." and "top-left" share a word.
_ISOLATE = r"\n|[:.,?!;()\[\]/]"
PAD, UNK, BOS, EOS, IMAGE = "<pad>", "<unk>", "<s>", "</s>", "<image>"
# Words the chat template itself writes, plus digits so any count can be spelt even if unseen.
_TEMPLATE_WORDS = ("USER:", "ASSISTANT:", "\n", *(str(d) for d in range(10)))


class TinyStudentConfig(Record):
    """Shape of the tiny Llava student. Defaults are the configuration that learned colour/shape on 2 cores."""

    image_size: int = Field(default=48, ge=8)
    """Square input side in pixels; the world renders 48 px scenes on a 3x3 grid."""
    patch_size: int = Field(default=16, ge=2)
    """ViT patch side: 16 gives a 3x3 patch grid, one patch per scene cell (9 image tokens)."""
    vision_hidden: int = Field(default=128, ge=8)
    """CLIP tower width."""
    vision_layers: int = Field(default=2, ge=1)
    """CLIP tower depth."""
    vision_heads: int = Field(default=4, ge=1)
    """CLIP attention heads (must divide `vision_hidden`)."""
    text_hidden: int = Field(default=128, ge=8)
    """Llama decoder width."""
    text_layers: int = Field(default=2, ge=1)
    """Llama decoder depth."""
    text_heads: int = Field(default=4, ge=1)
    """Llama attention heads (must divide `text_hidden`)."""
    max_positions: int = Field(default=512, ge=32)
    """Longest prompt + answer in tokens (the shapes world's lengths: benchmarks/README.md)."""


def word_pieces(texts: Iterable[str]) -> tuple[Any, set[str]]:
    """The pre-tokenizer of the word-level tokenizers (punctuation isolated, SentencePiece-style spaces)
    and every word piece it makes of `texts`, in both spellings."""
    from tokenizers import Regex, pre_tokenizers

    pre = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(_ISOLATE), behavior="isolated"),
        pre_tokenizers.Metaspace(replacement=_SPACE, prepend_scheme="never", split=True),
    ])
    words: set[str] = set()
    for text in texts:
        for piece, _ in pre.pre_tokenize_str(text):
            bare = piece.lstrip(_SPACE)
            # Both spellings: a word can open a line (no space before it) or follow a space.
            words.update((bare, _SPACE + bare) if bare else (piece,))
    return pre, words


def build_tokenizer(texts: Iterable[str]) -> PreTrainedTokenizerFast:
    """Word-level tokenizer whose vocabulary is every word in `texts` (sorted, so it is deterministic)."""
    from tokenizers import Tokenizer, decoders, models
    from transformers import PreTrainedTokenizerFast

    pre, words = word_pieces([*texts, *_TEMPLATE_WORDS])
    specials = [PAD, UNK, BOS, EOS, IMAGE]
    vocab = {token: i for i, token in enumerate([*specials, *sorted(words - set(specials))])}
    core = Tokenizer(models.WordLevel(vocab, unk_token=UNK))
    core.pre_tokenizer = pre
    core.decoder = decoders.Metaspace(replacement=_SPACE, prepend_scheme="never", split=True)
    return PreTrainedTokenizerFast(
        tokenizer_object=core, pad_token=PAD, unk_token=UNK, bos_token=BOS, eos_token=EOS,
        extra_special_tokens={"image_token": IMAGE}, padding_side="left",
    )


def build_processor(tokenizer: PreTrainedTokenizerFast, config: TinyStudentConfig) -> LlavaProcessor:
    """LlavaProcessor with a PIL-only CLIP image processor (the torchvision one is not a dependency)."""
    from transformers import CLIPImageProcessorPil, LlavaProcessor

    side = config.image_size
    images = CLIPImageProcessorPil(size={"shortest_edge": side}, crop_size={"height": side, "width": side},
                                   do_center_crop=True, do_convert_rgb=True)
    return LlavaProcessor(
        image_processor=images, tokenizer=tokenizer, patch_size=config.patch_size,
        vision_feature_select_strategy="default", num_additional_image_tokens=1,
        chat_template=_CHAT_TEMPLATE.read_text(), image_token=IMAGE,
    )


def build_model(tokenizer: PreTrainedTokenizerFast, config: TinyStudentConfig, *,
                seed: int) -> LlavaForConditionalGeneration:
    """Randomly initialised Llava (tiny CLIP tower + tiny Llama) sized to the tokenizer, seeded."""
    import torch
    from transformers import CLIPVisionConfig, LlamaConfig, LlavaConfig, LlavaForConditionalGeneration

    vision = CLIPVisionConfig(
        hidden_size=config.vision_hidden, intermediate_size=4 * config.vision_hidden,
        num_hidden_layers=config.vision_layers, num_attention_heads=config.vision_heads,
        image_size=config.image_size, patch_size=config.patch_size, projection_dim=config.vision_hidden,
    )
    ids = _special_ids(tokenizer)
    text = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=config.text_hidden, intermediate_size=4 * config.text_hidden,
        num_hidden_layers=config.text_layers, num_attention_heads=config.text_heads,
        num_key_value_heads=config.text_heads, max_position_embeddings=config.max_positions,
        tie_word_embeddings=True, **ids,
    )
    patches = (config.image_size // config.patch_size) ** 2
    llava = LlavaConfig(
        vision_config=vision, text_config=text, image_token_index=_token_id(tokenizer, IMAGE),
        image_seq_length=patches, vision_feature_select_strategy="default", vision_feature_layer=-1,
        projector_hidden_act="gelu", tie_word_embeddings=True,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = LlavaForConditionalGeneration(llava)
    for key, value in ids.items():
        setattr(model.generation_config, key, value)
    return model


def _special_ids(tokenizer: PreTrainedTokenizerFast) -> dict[str, Any]:
    return {"pad_token_id": tokenizer.pad_token_id, "bos_token_id": tokenizer.bos_token_id,
            "eos_token_id": tokenizer.eos_token_id}


def _token_id(tokenizer: PreTrainedTokenizerFast, token: str) -> int:
    token_id = tokenizer.convert_tokens_to_ids(token)
    assert isinstance(token_id, int)  # a single token string maps to a single id
    return token_id


def build_tiny_checkpoint(texts: Iterable[str], out_dir: Path, config: TinyStudentConfig, *,
                          seed: int) -> tuple[LlavaForConditionalGeneration, LlavaProcessor]:
    """Build an untrained tiny student whose vocabulary covers `texts` and save it to `out_dir`."""
    tokenizer = build_tokenizer(texts)
    processor = build_processor(tokenizer, config)
    model = build_model(tokenizer, config, seed=seed)
    save_checkpoint(model, processor, out_dir)
    return model, processor


def save_checkpoint(model: LlavaForConditionalGeneration, processor: LlavaProcessor, out_dir: Path) -> None:
    """save_pretrained of weights (safetensors) and processor into one directory."""
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    processor.save_pretrained(out_dir)
