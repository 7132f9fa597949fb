"""The shipped tiny student loads through HFStudent and knows its base skills, not the target ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from edtune.bench.shapes.render import render_images
from edtune.bench.shapes.world import ShapesConfig, generate_base, generate_samples
from edtune.errors import UserError
from edtune.student import bundled
from edtune.student.evaluate import exact_matches

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


def test_attributes_student_lists_sizes_and_cells_and_keeps_base_skills(tmp_path: Path) -> None:
    from edtune.student.hf import HFStudent

    student = HFStudent.from_pretrained(bundled.CHECKPOINT_FOR_LISTING["attributes"])
    base = generate_base(60, seed=0, split="bundled-check", config=ShapesConfig(listing="attributes"))
    render_images(base, tmp_path)
    outputs = student.answer(base, tmp_path)
    gold_listing = [s.rationale[0].text for s in base if s.rationale]
    listed = [bool(o.steps) and o.steps[0] == gold for o, gold in zip(outputs, gold_listing, strict=True)]
    assert sum(exact_matches(base, outputs)) / len(base) >= BASE_FLOOR
    # measured 300 of 300 held-out scenes listed exactly; a names-only student lists none this way
    assert sum(listed) / len(base) >= BASE_FLOOR


def test_missing_bundled_checkpoint_says_how_to_rebuild(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bundled, "TINY_CHECKPOINT", tmp_path)
    with pytest.raises(UserError, match="edtune student pretrain --out"):
        bundled.bundled_student()
