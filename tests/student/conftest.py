"""A tiny Llava student built in the test from configs, and a handful of generated images."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PIL import Image

from edtune.records import RationaleStep, Sample
from edtune.student.tiny import TinyStudentConfig, build_tiny_checkpoint

COLOURS = {"red": (220, 30, 30), "green": (30, 200, 30), "blue": (30, 30, 220), "yellow": (230, 220, 20)}
SMALL = TinyStudentConfig(image_size=16, patch_size=8, vision_hidden=32, vision_layers=1, vision_heads=2,
                          text_hidden=32, text_layers=1, text_heads=2, max_positions=64)


@pytest.fixture(autouse=True, scope="session")
def _one_thread() -> None:
    torch.set_num_threads(1)


def colour_sample(i: int, colour: str) -> Sample:
    steps = [RationaleStep(text=f"The square is {colour}.", skill="colour")]
    return Sample(id=f"s{i}", images=[f"{colour}.png"], question="What colour is the square?", answer=colour,
                  rationale=steps, required_skills=["colour"])


@pytest.fixture(scope="session")
def image_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("images")
    for name, rgb in COLOURS.items():
        Image.new("RGB", (16, 16), rgb).save(root / f"{name}.png")
    return root


@pytest.fixture(scope="session")
def samples() -> list[Sample]:
    return [colour_sample(i, colour) for i, colour in enumerate(list(COLOURS) * 4)]


@pytest.fixture(scope="session")
def checkpoint(tmp_path_factory: pytest.TempPathFactory, samples: list[Sample]) -> Path:
    """An untrained tiny student saved with save_pretrained (vocabulary from the samples' texts)."""
    from edtune.student.prompting import target_text

    out = tmp_path_factory.mktemp("tiny")
    build_tiny_checkpoint([t for s in samples for t in (s.question, target_text(s))], out, SMALL, seed=0)
    return out
