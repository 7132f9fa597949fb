"""Gold sets exported from a small shapes world: corrupted rationales and real student outputs."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from edtune.bench.shapes import ShapesConfig, first_wrong_step, generate_world, write_world
from edtune.errors import UserError
from edtune.prompt_eval import export
from edtune.prompt_eval.export import corrupt_sample, export_gold, student_errors, swap_word, wrong_option
from edtune.prompt_eval.gold import load_gold
from edtune.records import Sample, StudentOutput


@pytest.fixture(scope="module")
def world_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("world") / "shapes"
    write_world(generate_world(ShapesConfig(seed=2, pool_size=20, val_size=12, test_size=2, base_size=2)), out)
    return out


@pytest.fixture(autouse=True)
def _no_bundled_student(monkeypatch: pytest.MonkeyPatch) -> None:
    """Exports here never run the tiny student (its checkpoint may or may not be installed)."""
    monkeypatch.setattr(export, "_bundled_outputs", lambda samples, root: None)


def test_swap_word_keeps_case_and_class() -> None:
    rng = random.Random(0)
    swapped = swap_word("Red circle is small.", rng)
    assert swapped is not None and swapped != "Red circle is small."
    assert swapped[0].isupper() and len(swapped.split()) == 4
    assert swap_word("nothing to change here", rng) is None


def test_corrupted_export_is_deterministic_and_true(world_dir: Path, tmp_path: Path) -> None:
    meta = export_gold(world_dir, tmp_path / "a.jsonl", source="auto", size=20, seed=7)
    export_gold(world_dir, tmp_path / "b.jsonl", source="corrupted", size=20, seed=7)
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    gold = load_gold(tmp_path / "a.jsonl")
    assert meta.source == gold.meta.source == "corrupted" and gold.meta.seed == 7 and len(gold) == 20
    assert gold.image_root == world_dir.resolve() and "counting" in gold.meta.skills
    for item in gold:
        truth = first_wrong_step(item.sample, item.student_steps, item.student_answer)
        assert truth is not None and truth.step == item.first_wrong_step and item.missing_skills == [truth.skill]
        assert item.origin == "corrupted" and item.student_answer != item.sample.answer
        assert "cell" in item.sample.metadata["scene_text"] and item.skill_text
        assert (gold.image_root / item.sample.images[0]).is_file()
    export_gold(world_dir, tmp_path / "c.jsonl", source="corrupted", size=20, seed=8)
    assert (tmp_path / "c.jsonl").read_bytes() != (tmp_path / "a.jsonl").read_bytes()


def test_multiple_choice_only_and_unknown_split(world_dir: Path, tmp_path: Path) -> None:
    export_gold(world_dir, tmp_path / "mc.jsonl", source="corrupted", multiple_choice_only=True)
    assert all(item.sample.choices for item in load_gold(tmp_path / "mc.jsonl"))
    with pytest.raises(UserError, match="no split"):
        export_gold(world_dir, tmp_path / "x.jsonl", splits=["nope_val"])


def test_student_source_without_a_student_is_a_clear_error(world_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(UserError, match="bundled tiny student"):
        export_gold(world_dir, tmp_path / "s.jsonl", source="student")


def test_student_errors_keep_wrong_steps_only(world_dir: Path) -> None:
    from edtune.bench.shapes import load_world

    samples = load_world(world_dir).val("size")[:3]
    gold_steps = [[s.text for s in sample.rationale or []] for sample in samples]
    outputs = [
        StudentOutput(sample_id=samples[0].id, raw_text="", steps=gold_steps[0], answer=samples[0].answer),  # right
        StudentOutput(sample_id=samples[1].id, raw_text="", steps=gold_steps[1], answer="nonsense"),  # answer line
        StudentOutput(sample_id=samples[2].id, raw_text="", steps=["I see nothing.", *gold_steps[2][1:]],
                      answer="nonsense"),
    ]
    items = student_errors(samples, outputs)
    assert [(i.id, i.first_wrong_step, i.origin) for i in items] == [(samples[2].id, 1, "student")]
    assert items[0].missing_skills == ["object_recognition"]


def testwrong_option_prefers_one_the_corrupted_step_names() -> None:
    choices = ["blue-circle", "blue-triangle", "same"]
    picks = {wrong_option(choices, "same", "So the blue-triangle is bigger.", random.Random(s)) for s in range(10)}
    assert picks == {"blue-triangle"}
    assert {wrong_option(choices, "same", "hmm", random.Random(s)) for s in range(20)} == {"blue-circle",
                                                                                            "blue-triangle"}
    assert wrong_option(["only"], "only", "x", random.Random(0)) is None


def test_auto_uses_the_student_when_one_answers(world_dir: Path, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    def fake_student(samples: list[Sample], root: Path) -> list[StudentOutput]:
        return [StudentOutput(sample_id=s.id, raw_text="", steps=["I see nothing.", "So it is."], answer="zzz")
                for s in samples]

    monkeypatch.setattr(export, "_bundled_outputs", fake_student)
    meta = export_gold(world_dir, tmp_path / "s.jsonl", size=5)
    gold = load_gold(tmp_path / "s.jsonl")
    assert meta.source == "student" and len(gold) == 5
    assert all(i.origin == "student" and i.first_wrong_step == 1 for i in gold)


def test_corrupt_sample_skips_samples_it_cannot_corrupt(world_dir: Path) -> None:
    from edtune.bench.shapes import load_world

    sample = load_world(world_dir).val("counting")[0]
    blank = [step.model_copy(update={"text": "hmm"}) for step in sample.rationale or []]
    plain = sample.model_copy(update={"rationale": blank})
    assert corrupt_sample(plain, seed=0) is None
    assert corrupt_sample(sample, seed=0) == corrupt_sample(sample, seed=0)
