"""From a `Sample` to text: user-turn text, the prompt as its family writes it, the target, images.

Everything model-specific comes from the checkpoint's processor: its chat template places the image
tokens and ends the assistant's turn, so the same functions serve every family in `families.FAMILIES`.
PaliGemma has no chat template; its processor's documented format is used instead (question as text,
target as `suffix`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from edtune.data.images import resolve_image
from edtune.errors import ConfigError, DataError
from edtune.rationale import format_rationale
from edtune.records import Sample
from edtune.student.base import StudentConfig
from edtune.student.families import Family

if TYPE_CHECKING:
    from PIL import Image

_SENTINEL = "EDTUNE_END_OF_TURN_PROBE"
_LITERAL_IMAGE_TOKENS = ("<image>",)
"""Image placeholders datasets write into question text (LLaVA conversations) besides the processor's own."""


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


def image_placeholders(processor: Any) -> list[str]:
    """Strings that stand for an image in text: the processor's image (and begin-of-image) token, `<image>`."""
    names = (getattr(processor, "image_token", None), getattr(processor, "boi_token", None), *_LITERAL_IMAGE_TOKENS)
    return sorted({name for name in names if isinstance(name, str) and name})


def question_text(processor: Any, sample: Sample, config: StudentConfig, *, row: int) -> str:
    """`user_text` with any image placeholders removed (the prompt format places the images).

    A question that carries placeholders must carry one per image: DataError naming the row otherwise."""
    text = user_text(sample, config)
    placeholders = image_placeholders(processor)
    found = sum(text.count(p) for p in placeholders)
    if found and found != len(sample.images):
        raise DataError(f"the question has {found} image token(s) ({', '.join(placeholders)}) but the sample has "
                        f"{len(sample.images)} image(s)", row=row, field="question")
    for placeholder in placeholders:
        text = text.replace(placeholder, "")
    return text.strip() if found else text


def render_prompt(processor: Any, sample: Sample, config: StudentConfig, family: Family | None = None,
                  *, row: int = 1) -> str:
    """The prompt ending where the assistant starts writing.

    Chat families: the chat template (with BOS prepended when the template omits it and the tokenizer
    adds one). PaliGemma: one image token per image, then the question; its processor adds BOS after the
    image tokens and the newline that ends the prefix."""
    text = question_text(processor, sample, config, row=row)
    if family is not None and family.prompt_style == "prefix_suffix":
        return str(processor.image_token) * len(sample.images) + text
    content: list[dict[str, str]] = [{"type": "image"} for _ in sample.images]
    content.append({"type": "text", "text": text})
    if not getattr(processor, "chat_template", None):
        raise ConfigError("the student checkpoint's processor has no chat template (chat_template.jinja)")
    prompt = str(processor.apply_chat_template([{"role": "user", "content": content}], add_generation_prompt=True,
                                               tokenize=False))
    return _with_bos(processor.tokenizer, prompt)


def _with_bos(tokenizer: Any, prompt: str) -> str:
    """Prepend BOS when the tokenizer would add one and the template did not write it (encoding is done
    with add_special_tokens=False, as `apply_chat_template` does, so BOS is never doubled)."""
    bos = tokenizer.bos_token
    if bos and getattr(tokenizer, "add_bos_token", False) and not prompt.startswith(bos):
        return bos + prompt
    return prompt


def end_of_turn(processor: Any, family: Family) -> tuple[str, int]:
    """The token that closes an assistant turn, as text and id: the first token the chat template writes after
    the assistant's words (Gemma's `<end_of_turn>`, Qwen's `<|im_end|>`, ...); EOS for PaliGemma or when the
    template writes nothing after them."""
    tokenizer = processor.tokenizer
    if family.prompt_style == "chat" and getattr(processor, "chat_template", None):
        ids = tokenizer(_after_assistant_words(processor), add_special_tokens=False)["input_ids"]
        if ids and _is_special(tokenizer, ids[0]):
            return str(tokenizer.convert_ids_to_tokens(ids[0])), int(ids[0])
    if tokenizer.eos_token_id is None:
        raise ConfigError("the checkpoint's tokenizer has no EOS token and its chat template no end-of-turn token")
    return str(tokenizer.eos_token), int(tokenizer.eos_token_id)


def _is_special(tokenizer: Any, token_id: int) -> bool:
    """A named special token, or an added token marked special (turn markers usually are only that)."""
    added = tokenizer.added_tokens_decoder.get(token_id)
    return token_id in tokenizer.all_special_ids or bool(added is not None and added.special)


def _after_assistant_words(processor: Any) -> str:
    """What the chat template writes after an assistant message's text ("" when it cannot render one)."""
    for content in ([{"type": "text", "text": _SENTINEL}], _SENTINEL):  # list parts, else a plain string
        messages = [{"role": "user", "content": [{"type": "text", "text": "q"}]},
                    {"role": "assistant", "content": content}]
        try:
            rendered = str(processor.apply_chat_template(messages, tokenize=False))
        except Exception:  # a template that rejects this message shape: try the next, else EOS
            continue
        if _SENTINEL in rendered:
            return rendered.split(_SENTINEL, 1)[1]
    return ""


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
