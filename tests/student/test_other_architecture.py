"""HFStudent is not Llava-specific: a tiny Idefics3 (SigLIP tower, `text_model` decoder, connector) built
from configs goes through the same load / answer / LoRA path. (Qwen2-VL's processor needs torchvision,
which is not a dependency here.)"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PIL import Image
from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers
from transformers import (
    Idefics3Config,
    Idefics3ForConditionalGeneration,
    Idefics3ImageProcessorPil,
    Idefics3Processor,
    PreTrainedTokenizerFast,
)

from edtune.records import RationaleStep, Sample
from edtune.student import LoraTrainConfig
from edtune.student.hf import HFStudent

SPECIALS = ["<pad>", "<unk>", "<s>", "<end_of_utterance>", "<image>", "<fake_token_around_image>", "<global-img>"]
WORDS = ["User", "Assistant", "\n", ":", ".", "?", "What", "▁colour", "▁is", "▁the", "▁square", "Step", "▁1",
         "▁The", "▁red", "▁blue", "Answer"]
TEMPLATE = ("<s>{% for m in messages %}{{ m['role'] | capitalize }}:{% for c in m['content'] %}"
            "{% if c['type'] == 'image' %}<image>{% else %}{{ c['text'] }}{% endif %}{% endfor %}"
            "<end_of_utterance>\n{% endfor %}{% if add_generation_prompt %}Assistant:{% endif %}")


def _tokenizer() -> PreTrainedTokenizerFast:
    vocab = {token: i for i, token in enumerate(SPECIALS + WORDS)}
    core = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(r"\n|[:.?]"), behavior="isolated"),
        pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="never", split=True)])
    core.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="never", split=True)
    return PreTrainedTokenizerFast(
        tokenizer_object=core, pad_token="<pad>", unk_token="<unk>", bos_token="<s>", eos_token="<end_of_utterance>",
        extra_special_tokens={"image_token": "<image>", "fake_image_token": "<fake_token_around_image>",
                              "global_image_token": "<global-img>", "end_of_utterance_token": "<end_of_utterance>"})


@pytest.fixture(scope="module")
def idefics3(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tokenizer = _tokenizer()
    images = Idefics3ImageProcessorPil(do_image_splitting=False, size={"longest_edge": 32},
                                       max_image_size={"longest_edge": 32})
    processor = Idefics3Processor(image_processor=images, tokenizer=tokenizer, image_seq_len=1, chat_template=TEMPLATE)
    config = Idefics3Config(
        text_config={"model_type": "llama", "vocab_size": len(tokenizer), "hidden_size": 32, "intermediate_size": 64,
                     "num_hidden_layers": 1, "num_attention_heads": 2, "num_key_value_heads": 2,
                     "max_position_embeddings": 128, "pad_token_id": 0},
        vision_config={"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1, "num_attention_heads": 2,
                       "image_size": 32, "patch_size": 16},
        image_token_id=tokenizer.convert_tokens_to_ids("<image>"), scale_factor=2, pad_token_id=0)
    torch.manual_seed(0)
    model = Idefics3ForConditionalGeneration(config)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    out = tmp_path_factory.mktemp("idefics3")
    model.save_pretrained(out)
    processor.save_pretrained(out)
    return out


def test_idefics3_answers_and_trains_through_hf_student(idefics3: Path, tmp_path: Path) -> None:
    for name, rgb in {"red": (220, 30, 30), "blue": (30, 30, 220)}.items():
        Image.new("RGB", (32, 32), rgb).save(tmp_path / f"{name}.png")
    samples = [Sample(id=f"s{i}", images=[f"{c}.png"], question="What colour is the square?", answer=c,
                      rationale=[RationaleStep(text=f"The {c} square.")]) for i, c in enumerate(["red", "blue"] * 4)]
    student = HFStudent.from_pretrained(idefics3)
    before = student.answer(samples, tmp_path, batch_size=3)
    assert len(before) == len(samples)

    config = LoraTrainConfig(epochs=20, min_steps=0, batch_size=4, lr=2e-2, print_targets=False)
    stats = student.train(samples, tmp_path, config, seed=0)
    assert stats.epoch_losses[-1] < stats.epoch_losses[0]
    assert len(stats.target_modules) == 7 and all(".text_model." in n for n in stats.target_modules)
    after = student.answer(samples, tmp_path, batch_size=3)
    assert after != before
