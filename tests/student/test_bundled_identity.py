"""The bundled tiny student's inputs are byte-identical to those of the Llava-only code this replaced.

`_legacy_*` restate how batches were built before the per-family encoder (commit d4893b7): the processor on
the prompt alone, then `target ids + eos` appended by hand, right-padded with the pad id, images flattened.
The encoder now runs the processor once on prompt + target + end-of-turn; for the bundled student the
tensors must not change (the demo's numbers are measured on them).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import torch

from edtune.bench.shapes.render import render_images
from edtune.bench.shapes.world import ShapesConfig, generate_base
from edtune.records import Sample
from edtune.student.batches import IGNORE_INDEX
from edtune.student.bundled import TINY_CHECKPOINT
from edtune.student.hf import HFStudent
from edtune.student.prompting import load_images, target_text, user_text


def _legacy_prompt_inputs(processor: Any, samples: list[Sample], root: Path, student: HFStudent) -> dict[str, Any]:
    prompts = [processor.apply_chat_template(
        [{"role": "user", "content": [*({"type": "image"} for _ in s.images),
                                      {"type": "text", "text": user_text(s, student.config)}]}],
        add_generation_prompt=True, tokenize=False) for s in samples]
    images = [img for i, s in enumerate(samples) for img in load_images(s, root, row=i + 1)]
    return dict(processor(text=prompts, images=images or None, return_tensors="pt", padding=True,
                          add_special_tokens=False))


def _legacy_training_batch(processor: Any, samples: list[Sample], root: Path, student: HFStudent) -> dict[str, Any]:
    tokenizer = processor.tokenizer
    rows, pixels = [], []
    for sample in samples:
        encoded = _legacy_prompt_inputs(processor, [sample], root, student)
        prompt = encoded["input_ids"][0].tolist()
        target = [*tokenizer(target_text(sample), add_special_tokens=False)["input_ids"], tokenizer.eos_token_id]
        rows.append((prompt + target, [IGNORE_INDEX] * len(prompt) + target))
        pixels.append(encoded["pixel_values"])
    width = max(len(ids) for ids, _ in rows)
    ids = torch.full((len(rows), width), tokenizer.pad_token_id, dtype=torch.long)
    labels = torch.full((len(rows), width), IGNORE_INDEX, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, (row_ids, row_labels) in enumerate(rows):
        ids[i, :len(row_ids)] = torch.tensor(row_ids)
        labels[i, :len(row_ids)] = torch.tensor(row_labels)
        mask[i, :len(row_ids)] = 1
    return {"input_ids": ids, "attention_mask": mask, "labels": labels, "pixel_values": torch.cat(pixels)}


def _same(new: dict[str, Any], old: dict[str, Any]) -> None:
    assert sorted(new) == sorted(old)
    for key in old:
        assert new[key].dtype == old[key].dtype and torch.equal(new[key], old[key]), key


def test_bundled_student_batches_are_unchanged() -> None:
    samples = generate_base(12, 5, split="pretrain", config=ShapesConfig(seed=5))
    student = HFStudent.from_pretrained(TINY_CHECKPOINT)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        render_images(samples, root)
        new_training = student.encoder.training_batch(
            [student.encoder.example(s, root, row=i + 1) for i, s in enumerate(samples)])
        _same(new_training, _legacy_training_batch(student.processor, samples, root, student))
        _same(student.encoder.generation_batch(samples, root, first_row=1),
              _legacy_prompt_inputs(student.processor, samples, root, student))
