"""Ground truth from a sample's gold tagged rationale, in the terms the teacher tasks ask about.

Built on `edtune.bench.shapes.locate` (steps compared with the gold steps after `normalise`). Teacher
tasks are asked about wrong rationales and may only answer a step the student wrote, so:

- the blamed step is `first_wrong_step(sample, steps, None).step`, clipped to the number of steps: when
  every step written matches the gold (the answer line, or a left-out step, is what went wrong) it is
  the last step, the one the answer was read from;
- a step is correct when it equals its gold step; a step beyond the gold rationale is not;
- the missing skill is the gold skill tag of the first wrong step (of the last gold step at the answer).
"""

from __future__ import annotations

from collections.abc import Sequence

from edtune.bench.shapes import FirstError, first_wrong_step, normalise
from edtune.errors import DataError
from edtune.records import Sample


def gold_texts(sample: Sample) -> list[str]:
    """The gold rationale's step texts; DataError when the sample has none."""
    if not sample.rationale:
        raise DataError(f"sample {sample.id} has no gold rationale", field="rationale")
    return [step.text for step in sample.rationale]


def first_error(sample: Sample, steps: Sequence[str]) -> FirstError:
    """Where the steps first depart from the gold (the answer is taken as wrong: tasks are asked about
    wrong rationales)."""
    error = first_wrong_step(sample, steps, None)
    if error is None:  # for the type checker: an answer of None never matches the gold answer
        raise DataError(f"sample {sample.id}: no error found", field="answer")
    return error


def blamed_step(sample: Sample, steps: Sequence[str]) -> int:
    """The 1-based first wrong step, within 1..len(steps) (see the module docstring)."""
    return min(first_error(sample, steps).step, len(steps))


def step_correct(sample: Sample, steps: Sequence[str], number: int) -> bool:
    """Whether step `number` (1-based) of `steps` equals its gold step."""
    gold = gold_texts(sample)
    return number <= len(gold) and normalise(steps[number - 1]) == normalise(gold[number - 1])


def first_shown_error(sample: Sample, steps: Sequence[str]) -> int | None:
    """The first of `steps` that is not correct, or None when all of them are (a prefix of the gold)."""
    return next((k for k in range(1, len(steps) + 1) if not step_correct(sample, steps, k)), None)


def required_skills(sample: Sample) -> list[str]:
    """The distinct skill tags of the gold rationale, in first-use order; DataError for an untagged step."""
    if not sample.rationale:
        raise DataError(f"sample {sample.id} has no gold rationale", field="rationale")
    tags = [step.skill for step in sample.rationale]
    if any(tag is None for tag in tags):
        raise DataError(f"sample {sample.id}: a gold step has no skill tag", field="rationale")
    return list(dict.fromkeys(tag for tag in tags if tag is not None))
