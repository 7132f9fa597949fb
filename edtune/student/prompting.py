"""From a `Sample` to model inputs: user-turn text, chat-template prompt, images, training targets.

Everything model-specific comes from the checkpoint's processor (its chat template places the image
tokens), so the same functions serve Llava, Qwen2-VL and Idefics3 class models.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edtune.data.images import resolve_image
from edtune.errors import ConfigError, DataError
from edtune.rationale import format_rationale
from edtune.records import Sample
from edtune.student.base import StudentConfig
from edtune.student.lora import Example, masked_example

if TYPE_CHECKING:
    from PIL import Image


def user_text(sample: Sample, config: StudentConfig) -> str:
    """The question as the student sees it (choices inlined for multiple choice)."""
    if sample.choices:
        return config.choices_template.format(question=sample.question,
                                              choices=config.choices_separator.join(sample.choices))
    return config.question_template.format(question=sample.question)


def target_text(sample: Sample) -> str:
    """What the student should write: the gold rationale in canonical form, or only the answer line."""
    steps = [step.text for step in sample.rationale or []]
    return format_rationale(steps, sample.answer)


def render_prompt(processor: Any, sample: Sample, config: StudentConfig) -> str:
    """Chat-template prompt ending where the assistant starts writing."""
    content: list[dict[str, str]] = [{"type": "image"} for _ in sample.images]
    content.append({"type": "text", "text": user_text(sample, config)})
    messages = [{"role": "user", "content": content}]
    if not getattr(processor, "chat_template", None):
        raise ConfigError("the student checkpoint's processor has no chat template (chat_template.jinja)")
    return str(processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False))


def load_images(sample: Sample, image_root: Path, *, row: int) -> list[Image.Image]:
    """The sample's images as RGB PIL images; DataError naming the file and row when one is unusable."""
    from PIL import Image, UnidentifiedImageError

    images = []
    for relative in sample.images:
        path = resolve_image(image_root, relative, file=relative, row=row, field="images")
        try:
            with Image.open(path) as image:
                images.append(image.convert("RGB"))
        except FileNotFoundError as exc:
            raise DataError(f"image not found under {image_root}", file=relative, row=row, field="images") from exc
        except (UnidentifiedImageError, OSError) as exc:
            raise DataError(f"unreadable image: {exc}", file=relative, row=row, field="images") from exc
    return images


def model_inputs(processor: Any, samples: Sequence[Sample], image_root: Path, config: StudentConfig,
                 *, first_row: int = 1) -> dict[str, Any]:
    """Processor outputs (pt tensors) for a batch of prompts, padded on the side the tokenizer is set to."""
    prompts = [render_prompt(processor, s, config) for s in samples]
    images = [img for i, s in enumerate(samples) for img in load_images(s, image_root, row=first_row + i)]
    # The chat template already wrote BOS and any other special tokens; adding them again would double them.
    return dict(processor(text=prompts, images=images or None, return_tensors="pt", padding=True,
                          add_special_tokens=False))


def training_example(processor: Any, sample: Sample, image_root: Path, config: StudentConfig,
                     *, row: int) -> Example:
    """Prompt exactly as at answer time + target tokens + end-of-sequence; loss on the target only."""
    encoded = model_inputs(processor, [sample], image_root, config, first_row=row)
    prompt_ids = encoded.pop("input_ids")[0].tolist()
    encoded.pop("attention_mask", None)
    tokenizer = processor.tokenizer
    target_ids = tokenizer(target_text(sample), add_special_tokens=False)["input_ids"]
    return masked_example(prompt_ids, [*target_ids, tokenizer.eos_token_id], encoded)
