"""Ground-truth first wrong step on hand-made student rationales."""

from __future__ import annotations

import pytest

from edtune.bench.shapes import FirstError, Scene, first_wrong_step, first_wrong_step_of, normalise
from edtune.bench.shapes.families import FAMILIES
from edtune.errors import DataError
from edtune.records import Sample, StudentOutput

SCENE = Scene.model_validate({"objects": [
    {"colour": "red", "shape": "circle", "size": "large", "row": 0, "col": 0},
    {"colour": "blue", "shape": "square", "size": "small", "row": 1, "col": 2},
    {"colour": "red", "shape": "triangle", "size": "small", "row": 2, "col": 1},
]})


def _sample(family: str, params: dict[str, str]) -> Sample:
    solution = FAMILIES[family].solve(SCENE, params)
    return Sample(id="s1", question=solution.question, choices=solution.choices, answer=solution.answer,
                  rationale=solution.steps, metadata={"scene": SCENE.model_dump(), "skill": family, "params": params})


COUNT_RED = _sample("counting_by_attribute", {"colour": "red"})
GOLD = ["I see red-circle, blue-square, red-triangle.", "The red objects are red-circle, red-triangle.",
        "That makes 2."]


def test_the_hand_made_gold_is_what_the_family_writes() -> None:
    assert [s.text for s in COUNT_RED.rationale or []] == GOLD and COUNT_RED.answer == "2"


def test_right_rationale_and_answer_is_no_error_despite_case_spacing_and_full_stops() -> None:
    steps = ["i see red-circle ,  blue-square, red-triangle", "The RED objects are red-circle, red-triangle.",
             "That makes 2 ."]
    assert first_wrong_step(COUNT_RED, steps, " 2 ") is None


@pytest.mark.parametrize(
    ("steps", "answer", "step", "skill"),
    [
        (["I see red-circle, blue-square.", *GOLD[1:]], "2", 1, "object_recognition"),
        ([GOLD[0], "The red objects are red-circle.", "That makes 1."], "1", 2, "attribute_filtering"),
        ([GOLD[0], GOLD[1], "That makes 3."], "3", 3, "counting"),
        ([GOLD[0], GOLD[1], "That makes 2."], "3", 4, "counting"),
        ([GOLD[0]], "2", 2, "attribute_filtering"),
        ([], None, 1, "object_recognition"),
    ],
)
def test_first_wrong_step_and_missing_skill(steps: list[str], answer: str | None, step: int, skill: str) -> None:
    error = first_wrong_step(COUNT_RED, steps, answer)
    assert error is not None and (error.step, error.skill) == (step, skill)
    assert error.at_answer == (step == len(GOLD) + 1)


def test_error_carries_expected_and_student_text() -> None:
    error = first_wrong_step(COUNT_RED, [GOLD[0], "The red objects are red-circle."], "1")
    assert error == FirstError(step=2, skill="attribute_filtering", expected=GOLD[1],
                               got="The red objects are red-circle.")
    missing = first_wrong_step(COUNT_RED, GOLD, None)
    assert missing is not None and missing.got is None and missing.expected == "2" and missing.at_answer


def test_extra_steps_after_right_gold_steps_are_ignored() -> None:
    assert first_wrong_step(COUNT_RED, [*GOLD, "I am sure."], "2") is None


def test_spatial_relation_error_blames_localisation_before_relation() -> None:
    sample = _sample("spatial_relation", {"a": "red-circle", "b": "blue-square", "axis": "horizontal"})
    gold = [s.text for s in sample.rationale or []]
    assert sample.answer == "left" and sample.choices == ["left", "right"]
    wrong_place = [gold[0], "The red-circle is in the right column and the blue-square is in the right column.",
                   "So the red-circle is right of the blue-square."]
    error = first_wrong_step(sample, wrong_place, "right")
    assert error is not None and (error.step, error.skill) == (2, "spatial_localisation")
    error = first_wrong_step(sample, [*gold[:2], "So the red-circle is right of the blue-square."], "right")
    assert error is not None and (error.step, error.skill) == (3, "spatial_relation")


def test_student_output_wrapper_checks_the_sample_id() -> None:
    output = StudentOutput(sample_id="s1", raw_text="", steps=GOLD, answer="2")
    assert first_wrong_step_of(COUNT_RED, output) is None
    with pytest.raises(DataError, match="not s1"):
        first_wrong_step_of(COUNT_RED, output.model_copy(update={"sample_id": "s2"}))


def test_samples_without_tagged_gold_are_refused() -> None:
    with pytest.raises(DataError, match="no gold rationale"):
        first_wrong_step(COUNT_RED.model_copy(update={"rationale": None}), GOLD, "2")
    untagged = [step.model_copy(update={"skill": None}) for step in COUNT_RED.rationale or []]
    with pytest.raises(DataError, match="no skill tag"):
        first_wrong_step(COUNT_RED.model_copy(update={"rationale": untagged}), GOLD, "2")


def test_normalise_reads_color_as_colour() -> None:
    assert normalise("What  COLOR is it ?") == normalise("what colour is it?")
