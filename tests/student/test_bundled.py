"""The shipped tiny student loads through HFStudent and knows its base skills, not the target ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from edtune.bench.shapes.world import ShapesConfig, generate_base, generate_samples
from edtune.errors import UserError
from edtune.student import bundled
from edtune.student.evaluate import exact_matches
from edtune.student.pretrain import render_images

# Well above chance (1/4 colours, 1/3 shapes, 1/2 existence) and below the shipped student's measured
# held-out accuracy, so a broken checkpoint or a broken answer path fails here.
BASE_FLOOR = 0.85


def test_bundled_student_knows_base_skills_only(tmp_path: Path) -> None:
    student = bundled.bundled_student()
    base = generate_base(60, seed=0, split="bundled-check")
    counting = generate_samples({"counting": 1.0}, 30, split="bundled-check-counting", config=ShapesConfig())
    render_images(base + counting, tmp_path)
    base_ok = exact_matches(base, student.answer(base, tmp_path))
    counting_ok = exact_matches(counting, student.answer(counting, tmp_path))
    assert sum(base_ok) / len(base) >= BASE_FLOOR
    assert sum(counting_ok) / len(counting) <= 0.2


def test_missing_bundled_checkpoint_says_how_to_rebuild(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bundled, "TINY_CHECKPOINT", tmp_path)
    with pytest.raises(UserError, match="edtune student pretrain --out"):
        bundled.bundled_student()
