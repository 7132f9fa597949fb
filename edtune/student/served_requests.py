"""The chat request a served student sends for one sample, built to match `HFStudent`'s prompt.

vLLM renders the chat template of the checkpoint it serves, so the request carries what the template
reads: one image part per image (before the text, as `prompting.render_prompt` orders them) and the
question text with its image placeholders removed. Images go as PNG data URIs of the RGB images
`HFStudent` would see. Decoding is greedy with `HFStudent`'s budget and stop tokens, and BOS is asked for
exactly when `HFStudent` prepends it (a template that omits it, a tokenizer that adds it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from edtune.errors import ConfigError
from edtune.llm.images import image_data_uri
from edtune.records import Sample
from edtune.student.batches import Encoder
from edtune.student.prompting import load_images, question_text


def check_chat_family(encoder: Encoder) -> None:
    """ConfigError unless the checkpoint is prompted through a chat template (what the server renders)."""
    if encoder.family.prompt_style != "chat" or not getattr(encoder.processor, "chat_template", None):
        raise ConfigError(f"student.engine = \"vllm\" needs a checkpoint with a chat template; "
                          f"{encoder.family.architecture} is prompted as {encoder.family.prompt_style!r}: "
                          f"use student.engine = \"hf\"")


def adds_bos(encoder: Encoder) -> bool:
    """Whether `HFStudent` prepends BOS to what the chat template writes (the server must then add it)."""
    processor = encoder.processor
    tokenizer = processor.tokenizer
    bos = tokenizer.bos_token
    if not bos or not getattr(tokenizer, "add_bos_token", False):
        return False
    rendered = str(processor.apply_chat_template(
        [{"role": "user", "content": [{"type": "text", "text": "q"}]}], add_generation_prompt=True, tokenize=False))
    return not rendered.startswith(bos)


def user_message(encoder: Encoder, sample: Sample, image_root: Path, *, row: int) -> dict[str, Any]:
    """The user turn: image parts (data URIs) then the question text; DataError naming `row` when unusable."""
    text = question_text(encoder.processor, sample, encoder.config, row=row)
    content: list[dict[str, Any]] = [{"type": "image_url", "image_url": {"url": image_data_uri(image)}}
                                     for image in load_images(sample, image_root, row=row)]
    content.append({"type": "text", "text": text})
    return {"role": "user", "content": content}


def chat_body(message: dict[str, Any], *, model: str, max_new_tokens: int, stop_ids: list[int],
              add_bos: bool) -> dict[str, Any]:
    """Keyword arguments of `chat.completions.create`: greedy, `max_new_tokens`, stopping at `stop_ids`.

    `stop_token_ids`, `skip_special_tokens` and `add_special_tokens` are vLLM's own request fields."""
    return {"model": model, "messages": [message], "temperature": 0.0, "top_p": 1.0, "n": 1,
            "max_tokens": max_new_tokens,
            "extra_body": {"stop_token_ids": stop_ids, "skip_special_tokens": True, "add_special_tokens": add_bos}}
