"""Every supported VLM family answers, LoRA-trains and round-trips an adapter through `HFStudent`, on a batch
shaped like real data: questions of different lengths and one non-square image.

One test per family, on a tiny random-weight checkpoint built from its config classes
(`edtune.student.tiny_families`). Families whose processor needs torchvision skip here with that reason;
`.ci/vision_stage.sh` runs them in a venv that has it and fails if any skip.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch
from PIL import Image

from edtune.records import RationaleStep, Sample
from edtune.student import LoraTrainConfig, StudentConfig
from edtune.student.batches import IGNORE_INDEX
from edtune.student.hf import HFStudent
from edtune.student.lora import select_target_modules
from edtune.student.prompting import target_text
from edtune.student.tiny_families import TINY_FAMILIES, TinyFamily, build_checkpoint, unavailable_reason

QUESTIONS = ["What colour is the square?", "What colour is the big square in the picture on the left?"]
CONFIG = StudentConfig(max_new_tokens=8)
END_OF_TURN = {"llava": "</s>", "llava_next": "</s>", "llava_onevision": "<|im_end|>", "qwen2_vl": "<|im_end|>",
               "qwen2_5_vl": "<|im_end|>", "qwen3_vl": "<|im_end|>", "idefics3": "<end_of_utterance>",
               "smolvlm": "<end_of_utterance>", "gemma3": "<end_of_turn>", "paligemma": "<eos>",
               "mllama": "<|eot_id|>", "internvl": "<|im_end|>"}
"""The token each tiny family's chat template closes an assistant turn with (PaliGemma: EOS, no template)."""
TRAIN = LoraTrainConfig(steps=3, batch_size=4, lr=2e-2, include_projector=True, print_targets=False)


def family_samples() -> list[Sample]:
    """Eight samples: alternating question lengths, sample 2 with a 40x18 image."""
    colours = ["red", "blue"] * 4
    return [Sample(id=f"s{i}", images=["wide.png" if i == 1 else f"{c}.png"], question=QUESTIONS[i % 2], answer=c,
                   rationale=[RationaleStep(text=f"The square is {c}.")]) for i, c in enumerate(colours)]


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("family_images")
    Image.new("RGB", (16, 16), (200, 20, 20)).save(root / "red.png")
    Image.new("RGB", (16, 16), (20, 20, 200)).save(root / "blue.png")
    Image.new("RGB", (40, 18), (20, 200, 20)).save(root / "wide.png")
    return root


def _checkpoint(family: TinyFamily, out: Path) -> Path:
    reason = unavailable_reason(family)
    if reason:
        pytest.skip(reason)
    texts = [t for s in family_samples() for t in (s.question, target_text(s))]
    return build_checkpoint(family, texts, out, seed=0)


def _assert_labels_are_target_and_end_of_turn(student: HFStudent, samples: list[Sample], images: Path) -> None:
    encoder = student.encoder
    batch = encoder.training_batch([encoder.example(s, images, row=i + 1) for i, s in enumerate(samples)])
    for key in ("mm_token_type_ids", "token_type_ids", "cross_attention_mask"):
        if key in batch:  # per-token extras cover prompt + target
            assert batch[key].shape[:2] == batch["input_ids"].shape, key
    tokenizer = student.processor.tokenizer
    for row, sample in zip(batch["labels"], samples, strict=True):
        kept = row[row != IGNORE_INDEX].tolist()
        assert kept == [*tokenizer(target_text(sample), add_special_tokens=False)["input_ids"],
                        encoder.end_of_turn_id]


def _assert_targets(student: HFStudent, decoder: list[str], trained: list[str]) -> None:
    family = student.encoder.family
    assert decoder and all(re.search(family.decoder_pattern, n) for n in decoder)
    assert not any(re.search(family.vision_pattern, n) for n in decoder)  # the tower is never adapted
    projector = [n for n in trained if re.search(family.projector_pattern, n)]
    assert projector and set(trained) == {*decoder, *projector}  # decoder + projector when asked
    assert set(family.projector_parameters) <= {n.removeprefix("model.") for n in trained}


def _loss(student: HFStudent, samples: list[Sample], images: Path) -> float:
    batch = student.encoder.training_batch([student.encoder.example(s, images, row=1) for s in samples])
    with torch.inference_mode():
        return float(student.model(**batch).loss)


@pytest.mark.parametrize("family", TINY_FAMILIES, ids=[f.label for f in TINY_FAMILIES])
def test_family_answers_trains_and_round_trips(family: TinyFamily, images: Path, tmp_path: Path) -> None:
    student = HFStudent.from_pretrained(_checkpoint(family, tmp_path / "checkpoint"), CONFIG)
    samples = family_samples()
    before = student.answer(samples[:4], images, batch_size=4)
    assert [o.sample_id for o in before] == ["s0", "s1", "s2", "s3"]
    assert student.encoder.end_of_turn == END_OF_TURN[family.model_type]
    _assert_labels_are_target_and_end_of_turn(student, samples[:4], images)

    base_loss = _loss(student, samples[:4], images)
    decoder = select_target_modules(student.model, LoraTrainConfig(), student.encoder.family)
    stats = student.train(samples, images, TRAIN, seed=0)
    assert stats.steps == 3 and all(loss == loss for loss in stats.epoch_losses)  # finite, not NaN
    _assert_targets(student, decoder, stats.target_modules)
    trained = (student.answer(samples[:4], images, batch_size=4), _loss(student, samples[:4], images))
    assert trained[1] != base_loss

    student.save_adapter(tmp_path / "adapter")
    student.reset_adapter()
    assert student.answer(samples[:4], images, batch_size=4) == before
    student.load_adapter(tmp_path / "adapter")
    assert (student.answer(samples[:4], images, batch_size=4), _loss(student, samples[:4], images)) == trained
