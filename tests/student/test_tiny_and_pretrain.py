"""The tiny student's tokenizer and checkpoint, and pretraining on a reduced budget."""

from __future__ import annotations

import json
from pathlib import Path

from safetensors.torch import load_file

from edtune.rationale import parse_rationale
from edtune.student.hf import HFStudent
from edtune.student.pretrain import PRETRAIN_RECORD, PretrainConfig, pretrain
from edtune.student.tiny import build_tokenizer

from .conftest import SMALL

TEXT = "Step 1: I see red-circle, blue-square.\nStep 2: The circle is red-circle.\nAnswer: red"


def test_tokenizer_decodes_back_to_the_exact_text() -> None:
    tokenizer = build_tokenizer([TEXT])
    ids = tokenizer(TEXT, add_special_tokens=False)["input_ids"]
    assert tokenizer.unk_token_id not in ids
    assert tokenizer.decode(ids) == TEXT
    assert parse_rationale(tokenizer.decode(ids)) == (["I see red-circle, blue-square.", "The circle is red-circle."],
                                                      "red")
    # a word seen only after a space is known at the start of a line too, and vice versa
    assert tokenizer.unk_token_id not in tokenizer("see red Answer", add_special_tokens=False)["input_ids"]
    assert tokenizer.decode(tokenizer("Step 7", add_special_tokens=False)["input_ids"]) == "Step 7"


def test_tokenizer_vocabulary_is_deterministic() -> None:
    assert build_tokenizer([TEXT, "b a"]).get_vocab() == build_tokenizer(["b a", TEXT]).get_vocab()


def test_pretrain_reduced_budget_is_reproducible_and_loads(tmp_path: Path) -> None:
    config = PretrainConfig(vocabulary_per_family=30, train_samples=48, steps=3, batch_size=16, model=SMALL)
    stats = pretrain(tmp_path / "a", config)
    assert (stats.steps, stats.train_samples) == (3, 48)
    assert stats.vocab_size > 50  # the whole world's wording, target skills included
    record = json.loads((tmp_path / "a" / PRETRAIN_RECORD).read_text())
    assert PretrainConfig.model_validate(record["config"]) == config

    pretrain(tmp_path / "b", config)
    first, second = (load_file(tmp_path / d / "model.safetensors") for d in ("a", "b"))
    assert first.keys() == second.keys()
    assert all((first[k] == second[k]).all() for k in first)

    student = HFStudent.from_pretrained(tmp_path / "a")
    tokenizer = student.processor.tokenizer
    counting_words = tokenizer("How many objects are there ? That makes 3", add_special_tokens=False)["input_ids"]
    assert tokenizer.unk_token_id not in counting_words
