"""Model inputs of a batch, built as each family's processor builds them.

Training: the processor runs once on the whole text (prompt + target + end-of-turn) and the images of
every row, so every per-token extra it returns (`mm_token_type_ids`, `token_type_ids`,
`cross_attention_mask`) and every image tensor (variable tile counts included) has the shape the model
expects. Labels are then the input ids with everything but the target and the end-of-turn token set to
-100 (see `Encoder._labels`). A processor's own `labels` (PaliGemma's, from `suffix`) are dropped.

Answering: the prompts alone, left-padded, images nested one list per sample.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edtune.errors import ConfigError, DataError
from edtune.records import Sample
from edtune.student.base import StudentConfig
from edtune.student.families import Family, family_of
from edtune.student.prompting import end_of_turn, load_images, render_prompt, target_text

if TYPE_CHECKING:
    import torch
    from PIL import Image

IGNORE_INDEX = -100
"""Label value the HF causal-LM loss skips."""


@dataclass
class Example:
    """One training example before encoding: prompt, target and images (encoded per batch)."""

    prompt: str
    """The prompt exactly as at answer time (see `render_prompt`)."""
    target: str
    """The text that carries loss (the end-of-turn token is added at encoding)."""
    images: list[Image.Image] = field(default_factory=list)
    """The sample's images, RGB."""
    row: int = 1
    """1-based position of the sample in its input, for error messages."""
    target_ids: list[int] = field(default_factory=list)
    """The target's token ids encoded alone, then the end-of-turn id (what the labels keep when the target
    is spelt the same after the prompt)."""


@dataclass(frozen=True)
class Encoder:
    """Turns samples into model inputs for one checkpoint (its processor and family)."""

    processor: Any
    family: Family
    config: StudentConfig
    end_of_turn: str
    """Text of the token closing the assistant's turn (from the chat template; EOS without one)."""
    end_of_turn_id: int
    """Its id."""

    def example(self, sample: Sample, image_root: Path, *, row: int) -> Example:
        """The prompt, target and loaded images of one sample; DataError naming `row` when unusable."""
        target = target_text(sample)
        if not target:
            raise ConfigError("a training example has an empty target (no rationale or answer tokens)")
        ids = self.processor.tokenizer(target, add_special_tokens=False)["input_ids"]
        return Example(prompt=render_prompt(self.processor, sample, self.config, self.family, row=row),
                       target=target, images=load_images(sample, image_root, row=row), row=row,
                       target_ids=[*ids, self.end_of_turn_id])

    def training_batch(self, examples: Sequence[Example]) -> dict[str, torch.Tensor]:
        """Right-padded processor outputs for prompt + target + end-of-turn, with edtune's labels."""
        if self.family.prompt_style == "prefix_suffix":
            # The processor appends EOS to the suffix itself, and marks it in token_type_ids.
            texts = {"text": [e.prompt for e in examples], "suffix": [e.target for e in examples]}
        else:
            texts = {"text": [e.prompt + e.target + self.end_of_turn for e in examples]}
        batch = self._encode(texts, [e.images for e in examples], "right", [e.row for e in examples])
        batch.pop("labels", None)
        batch["labels"] = self._labels(batch, examples)
        return batch

    def generation_batch(self, samples: Sequence[Sample], image_root: Path, *,
                         first_row: int) -> dict[str, torch.Tensor]:
        """Left-padded processor outputs of the prompts (every row's prompt ends at the same column)."""
        rows = list(range(first_row, first_row + len(samples)))
        prompts = [render_prompt(self.processor, s, self.config, self.family, row=r)
                   for s, r in zip(samples, rows, strict=True)]
        images = [load_images(s, image_root, row=r) for s, r in zip(samples, rows, strict=True)]
        return self._encode({"text": prompts}, images, "left", rows)

    def _encode(self, texts: dict[str, list[str]], images: list[list[Image.Image]], side: str,
                rows: list[int]) -> dict[str, torch.Tensor]:
        extra: dict[str, Any] = {}
        if self.family.prompt_style == "chat":
            # The chat template already wrote BOS and other special tokens; adding them again would double them.
            extra["add_special_tokens"] = False
        nested = images if any(images) else None
        # Some processors default to their own side (InternVL: left); both the call and the tokenizer say it.
        with _padding_side(self.processor.tokenizer, side):
            try:
                out = self.processor(**texts, images=nested, return_tensors="pt", padding=True, padding_side=side,
                                     **extra)
            except ValueError as exc:
                raise DataError(f"the processor refused the batch of rows {rows[0]}-{rows[-1]}: {exc}",
                                row=rows[0]) from exc
        return dict(out)

    def _labels(self, batch: dict[str, torch.Tensor], examples: Sequence[Example]) -> torch.Tensor:
        """-100 but on each row's target + end-of-turn tokens: the row's last `len(target ids) + 1` tokens when
        they are exactly those ids, else (a tokenizer that spells a word differently after the prompt, as
        SentencePiece's leading space does) every token after the prompt encoded alone."""
        import torch

        ids, mask = batch["input_ids"], batch["attention_mask"]
        labels = torch.full_like(ids, IGNORE_INDEX)
        for i, example in enumerate(examples):
            want = example.target_ids or [*self.processor.tokenizer(example.target, add_special_tokens=False)[
                "input_ids"], self.end_of_turn_id]
            real = mask[i].nonzero()
            first, end = int(real[0]), int(real[-1]) + 1  # whichever side was padded
            start = end - len(want)
            if ids[i, start:end].tolist() != want:
                start = first + self._prompt_length(example, ids[i, first:end].tolist())
            labels[i, start:end] = ids[i, start:end]
        return labels

    def _prompt_length(self, example: Example, row_ids: list[int]) -> int:
        """Tokens of `example`'s prompt encoded alone; ConfigError when they do not open the full row."""
        prompt = self._encode({"text": [example.prompt]}, [example.images], "right", [example.row])["input_ids"][0]
        n = len(prompt)
        if row_ids[:n] != prompt.tolist() or n >= len(row_ids):
            raise ConfigError(f"row {example.row}: the prompt's tokens do not open the prompt + target encoding, so "
                              f"the target cannot be located (prompt ends {prompt.tolist()[-5:]}, row has "
                              f"{row_ids[max(0, n - 5):n + 5]} there)")
        return n


@contextmanager
def _padding_side(tokenizer: Any, side: str) -> Iterator[None]:
    before = tokenizer.padding_side
    tokenizer.padding_side = side
    try:
        yield
    finally:
        tokenizer.padding_side = before


def encoder_for(processor: Any, model_type: str, config: StudentConfig) -> Encoder:
    """The encoder of a checkpoint whose config has `model_type` (ConfigError for an unsupported one)."""
    family = family_of(model_type)
    text, token_id = end_of_turn(processor, family)
    return Encoder(processor=processor, family=family, config=config, end_of_turn=text, end_of_turn_id=token_id)
