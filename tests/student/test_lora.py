"""Loss masking, batching and LoRA target selection."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from edtune.errors import ConfigError
from edtune.records import Sample
from edtune.student import LoraTrainConfig, StudentConfig, lora
from edtune.student.batches import IGNORE_INDEX
from edtune.student.hf import HFStudent
from edtune.student.lora import select_target_modules, summarise_targets
from edtune.student.prompting import render_prompt, target_text


def test_loss_mask_covers_only_rationale_and_answer(checkpoint: Path, samples: list[Sample],
                                                    image_root: Path) -> None:
    student = HFStudent.from_pretrained(checkpoint)
    tokenizer = student.processor.tokenizer
    batch = student.encoder.training_batch([student.encoder.example(samples[0], image_root, row=1)])
    ids, labels = batch["input_ids"][0].tolist(), batch["labels"][0].tolist()
    prompt_ids = tokenizer(render_prompt(student.processor, samples[0], StudentConfig()),
                           add_special_tokens=False)["input_ids"]
    n_prompt = labels.count(IGNORE_INDEX)
    image_id = student.model.config.image_token_id
    # every prompt token (BOS, the 4 image tokens of the 16 px / patch 8 test model, the question) is masked
    assert ids[:n_prompt].count(image_id) == 4
    assert labels[n_prompt:] == ids[n_prompt:]
    assert tokenizer.decode(labels[n_prompt:-1]) == target_text(samples[0])
    assert labels[-1] == tokenizer.eos_token_id == student.encoder.end_of_turn_id
    # the prompt the model trains on is the one it answers from (image tokens expanded by the processor)
    assert len(prompt_ids) + 3 == n_prompt  # one <image> placeholder became 4 tokens
    assert batch["pixel_values"].shape == (1, 3, 16, 16)


def test_batch_pads_right_and_masks_padding(checkpoint: Path, samples: list[Sample], image_root: Path) -> None:
    student = HFStudent.from_pretrained(checkpoint)
    short = samples[0]
    long = samples[1].model_copy(update={"question": "What colour is the square ? ? ?"})
    batch = student.encoder.training_batch([student.encoder.example(s, image_root, row=1) for s in (short, long)])
    assert batch["input_ids"].shape == batch["labels"].shape == batch["attention_mask"].shape
    pad = int(batch["attention_mask"][1].sum() - batch["attention_mask"][0].sum())
    assert pad > 0
    assert batch["attention_mask"][0, -pad:].sum() == 0 and batch["attention_mask"][1].all()
    assert (batch["labels"][0, -pad:] == IGNORE_INDEX).all()
    assert batch["pixel_values"].shape == (2, 3, 16, 16)


def test_targets_are_language_model_linears_only(checkpoint: Path) -> None:
    model = HFStudent.from_pretrained(checkpoint).model
    vision_projections = [n for n, m in model.named_modules()
                          if "vision_tower" in n and n.endswith("q_proj") and isinstance(m, torch.nn.Linear)]
    assert vision_projections  # the CLIP tower has q_proj too: a bare "q_proj" pattern would catch it
    names = select_target_modules(model, LoraTrainConfig())
    assert len(names) == 7  # q, k, v, o, gate, up, down of the test model's single decoder layer
    assert all(".language_model." in n for n in names)
    with_projector = select_target_modules(model, LoraTrainConfig(include_projector=True))
    assert set(with_projector) - set(names) == {"model.multi_modal_projector.linear_1",
                                                "model.multi_modal_projector.linear_2"}
    everything = select_target_modules(model, LoraTrainConfig(target_pattern=r"q_proj$"))
    assert everything == ["model.language_model.layers.0.self_attn.q_proj"]  # vision still excluded


def test_target_summary_and_errors(checkpoint: Path) -> None:
    folded = summarise_targets(["m.layers.0.q_proj", "m.layers.1.q_proj", "m.head"])
    assert folded == ["m.layers.*.q_proj  x2", "m.head"]
    model = HFStudent.from_pretrained(checkpoint).model
    with pytest.raises(ConfigError, match="no linear layer"):
        select_target_modules(model, LoraTrainConfig(target_pattern="nothing_here"))
    with pytest.raises(ConfigError, match="invalid"):
        select_target_modules(model, LoraTrainConfig(target_pattern="("))


def test_targets_are_printed(checkpoint: Path, samples: list[Sample], image_root: Path,
                             capsys: pytest.CaptureFixture[str]) -> None:
    lora._PRINTED.clear()
    student = HFStudent.from_pretrained(checkpoint)
    student.train(samples[:2], image_root, LoraTrainConfig(epochs=1, min_steps=0), seed=0)
    student.reset_adapter()
    student.train(samples[:2], image_root, LoraTrainConfig(epochs=1, min_steps=0), seed=0)
    err = capsys.readouterr().err
    assert err.count("LoRA r=16") == 1  # once per process, not at every adapter a run creates
    assert "LoRA r=16 on 7 modules" in err and "model.language_model.layers.*.self_attn.q_proj" not in err
    assert "model.language_model.layers.0.self_attn.q_proj" in err


def test_a_processor_without_chat_template_is_a_config_error(checkpoint: Path, samples: list[Sample]) -> None:
    student = HFStudent.from_pretrained(checkpoint)
    student.processor.chat_template = None
    with pytest.raises(ConfigError, match="chat template"):
        render_prompt(student.processor, samples[0], StudentConfig())
