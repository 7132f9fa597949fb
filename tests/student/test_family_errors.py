"""Bad input to a VLM student: an unsupported architecture is refused at load time, and a question whose
image tokens do not match its images is an error naming the row."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from transformers import LlamaConfig, LlamaForCausalLM

from edtune.errors import ConfigError, DataError
from edtune.records import Sample
from edtune.student import LoraTrainConfig, StudentConfig
from edtune.student.families import supported_architectures
from edtune.student.hf import HFStudent
from edtune.student.prompting import render_prompt


def test_an_unsupported_architecture_is_refused_at_load_time(tmp_path: Path, checkpoint: Path) -> None:
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=16, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                         num_attention_heads=2, num_key_value_heads=2)
    LlamaForCausalLM(config).save_pretrained(tmp_path)
    with pytest.raises(ConfigError) as refused:
        HFStudent.from_pretrained(tmp_path)
    message = str(refused.value)
    assert "unsupported student architecture LlamaForCausalLM (model_type 'llama')" in message
    assert all(name in message for name in supported_architectures())
    assert "Qwen2VLForConditionalGeneration" in message and "PaliGemmaForConditionalGeneration" in message
    # the same check guards a model handed over already loaded
    processor = HFStudent.from_pretrained(checkpoint).processor
    with pytest.raises(ConfigError, match="unsupported student architecture"):
        HFStudent(LlamaForCausalLM(config), processor)


def test_image_tokens_in_the_question_must_match_the_images(checkpoint: Path, samples: list[Sample],
                                                             image_root: Path) -> None:
    student = HFStudent.from_pretrained(checkpoint, StudentConfig(max_new_tokens=4))
    bad = samples[2].model_copy(update={"question": "<image> <image> What colour is the square?"})
    with pytest.raises(DataError, match=r"2 image token.*1 image.*row=3"):
        student.answer([samples[0], samples[1], bad], image_root)
    with pytest.raises(DataError, match="row=3"):
        student.train([samples[0], samples[1], bad], image_root, LoraTrainConfig(steps=1, print_targets=False),
                      seed=0)
    # one placeholder per image is what LLaVA-style data writes: it is placed by the template, not doubled
    marked = samples[0].model_copy(update={"question": "<image>\nWhat colour is the square?"})
    assert render_prompt(student.processor, marked, student.config) == render_prompt(
        student.processor, samples[0], student.config)



def test_a_target_spelt_differently_after_the_prompt_is_located_by_the_prompt_length(
        samples: list[Sample], image_root: Path) -> None:
    """SentencePiece-style tokenizers write a word's leading space only at the start of a text, so the target
    encoded alone ("▁Step") differs from the target encoded after the prompt ("Step")."""
    from tokenizers import Regex, pre_tokenizers

    from edtune.student.batches import IGNORE_INDEX
    from edtune.student.prompting import target_text
    from edtune.student.tiny_families import llava

    torch.manual_seed(0)
    model, processor = llava.llava([t for s in samples for t in (s.question, target_text(s))])
    processor.tokenizer.backend_tokenizer.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(r"\n|[:.,?!;()\[\]/]"), behavior="isolated"),
        pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first", split=True)])
    student = HFStudent(model, processor)
    tokenizer = processor.tokenizer
    alone = tokenizer(target_text(samples[0]), add_special_tokens=False)["input_ids"]
    assert tokenizer.convert_ids_to_tokens(alone[0]) == "▁Step"
    example = student.encoder.example(samples[0], image_root, row=1)
    batch = student.encoder.training_batch([example, student.encoder.example(samples[1], image_root, row=2)])
    prompt = student.encoder.generation_batch(samples[:1], image_root, first_row=1)["input_ids"][0].tolist()
    ids, labels = batch["input_ids"][0].tolist(), batch["labels"][0].tolist()
    end = int(batch["attention_mask"][0].sum())
    assert ids[:len(prompt)] == prompt and labels[:len(prompt)] == [IGNORE_INDEX] * len(prompt)
    assert labels[len(prompt):end] == ids[len(prompt):end]  # all of the target, as spelt after the prompt
    assert tokenizer.convert_ids_to_tokens(labels[len(prompt)]) == "Step"
    assert labels[end - 1] == tokenizer.eos_token_id == student.encoder.end_of_turn_id


def test_end_of_turn_comes_from_the_template_else_eos(checkpoint: Path) -> None:
    from edtune.student.families import FAMILIES
    from edtune.student.prompting import end_of_turn

    processor = HFStudent.from_pretrained(checkpoint).processor
    chat = FAMILIES["llava"]
    # a template that only takes string content and closes turns with <image> (any special token will do)
    processor.chat_template = ("{% for m in messages %}"
                               "{{ (m['content'] if m['content'] is string else 'q') + '<image>' }}{% endfor %}")
    assert end_of_turn(processor, chat) == ("<image>", processor.tokenizer.convert_tokens_to_ids("<image>"))
    processor.chat_template = "{% for m in messages %}{{ m['content'][0]['text'] }}\n{% endfor %}"  # no marker
    assert end_of_turn(processor, chat) == ("</s>", processor.tokenizer.eos_token_id)
