"""The tiny student's tokenizer and checkpoint, and pretraining on a reduced budget."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError
from safetensors.torch import load_file

import edtune.bench.shapes.pretrain as pretrain_module
from edtune.bench.shapes.pretrain import PretrainConfig, pretrain
from edtune.errors import ConfigError, DataError
from edtune.rationale import parse_rationale
from edtune.student.hf import HFStudent
from edtune.student.pretrain import PRETRAIN_RECORD
from edtune.student.prompting import target_text
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


def test_pretrain_continues_a_checkpoint_with_the_attributes_listing(tmp_path: Path) -> None:
    start = PretrainConfig(vocabulary_per_family=30, train_samples=32, steps=2, batch_size=16, model=SMALL)
    pretrain(tmp_path / "start", start)
    config = PretrainConfig(train_samples=32, steps=2, batch_size=16, listing="attributes",
                            init_from=str(tmp_path / "start"))
    stats = pretrain(tmp_path / "continued", config)
    record = json.loads((tmp_path / "continued" / PRETRAIN_RECORD).read_text())
    assert PretrainConfig.model_validate(record["config"]) == config
    before, after = (load_file(tmp_path / d / "model.safetensors") for d in ("start", "continued"))
    assert before.keys() == after.keys()
    assert any(not (before[k] == after[k]).all() for k in before)  # trained, not copied
    assert stats.vocab_size == len(HFStudent.from_pretrained(tmp_path / "start").processor.tokenizer)


def test_richer_listing_needs_a_trained_start_and_a_real_checkpoint(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="set init_from"):
        PretrainConfig(listing="attributes")
    with pytest.raises(ConfigError, match=r"init_from .*no checkpoint"):
        pretrain(tmp_path / "out", PretrainConfig(listing="attributes", init_from=str(tmp_path / "nowhere")))


def test_words_missing_from_the_vocabulary_are_refused_before_training(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    # A start checkpoint whose vocabulary has the base skills' words only: no sizes, no cells.
    from edtune.bench.shapes.world import generate_base

    base_texts = [target_text(s) for s in generate_base(60, 0)] + [s.question for s in generate_base(60, 0)]
    monkeypatch.setattr(pretrain_module, "world_texts", lambda seed, per_family: base_texts)
    pretrain(tmp_path / "start", PretrainConfig(train_samples=16, steps=1, batch_size=16, model=SMALL))
    config = PretrainConfig(train_samples=16, steps=1, listing="attributes", init_from=str(tmp_path / "start"))
    with pytest.raises(DataError, match="outside the student's vocabulary") as info:
        pretrain(tmp_path / "out", config)
    assert (info.value.row, info.value.field) == (1, "rationale")
    assert not (tmp_path / "out").exists()
