"""Ground truth for error analysis: where a student's rationale first goes wrong, and which skill failed.

Rule (gold rationales are templated, so a right step has exactly the gold wording):

* Steps are compared position by position with the gold steps after `normalise` (lower case, "color"
  read as "colour", whitespace collapsed, no space before punctuation, trailing full stops dropped).
* The first student step that differs from its gold step, or the first gold step the student left out,
  is the first wrong step; its gold skill tag is the missing skill.
* If every gold step matches but the final answer does not (or is missing), the answer line is the first
  wrong "step": number `len(gold) + 1`, blamed on the skill of the last gold step, which is the step
  the answer is read from.
* Extra steps after all gold steps are ignored; a right answer after right steps is no error (None).

Step numbers are 1-based, matching the "Step 1:" lines of the rationale text form.
"""

from __future__ import annotations

from collections.abc import Sequence

from edtune.errors import DataError
from edtune.normalise import normalise as normalise_text
from edtune.records import Record, Sample, StudentOutput


class FirstError(Record):
    """The first place a student's rationale departs from the gold one."""

    step: int
    """1-based number of the first wrong step; `len(gold steps) + 1` means the answer line."""
    skill: str
    """Gold skill tag of that step: the skill the student is missing."""
    expected: str
    """The gold text of that step (or the gold answer)."""
    got: str | None
    """What the student wrote there; None when the step or the answer is missing."""
    at_answer: bool = False
    """True when every gold step was right and only the final answer is wrong or missing."""


_SPELLINGS = {"color": "colour"}


def normalise(text: str) -> str:
    """The comparison form of a step or answer (see the module docstring)."""
    return normalise_text(text, collapse_spaces=True, spellings=_SPELLINGS, tight_punctuation=True,
                          final_stops=None)


def _gold(sample: Sample) -> list[tuple[str, str]]:
    if not sample.rationale:
        raise DataError(f"sample {sample.id} has no gold rationale", field="rationale")
    gold: list[tuple[str, str]] = []
    for index, step in enumerate(sample.rationale, start=1):
        if not step.skill:
            raise DataError(f"sample {sample.id}: gold step {index} has no skill tag", field="rationale")
        gold.append((step.text, step.skill))
    return gold


def first_wrong_step(sample: Sample, steps: Sequence[str], answer: str | None) -> FirstError | None:
    """The first wrong step of a student's parsed rationale against the sample's gold, or None if all right."""
    gold = _gold(sample)
    for number, (text, skill) in enumerate(gold, start=1):
        got = steps[number - 1] if number <= len(steps) else None
        if got is None or normalise(got) != normalise(text):
            return FirstError(step=number, skill=skill, expected=text, got=got)
    if answer is None or normalise(answer) != normalise(sample.answer):
        return FirstError(step=len(gold) + 1, skill=gold[-1][1], expected=sample.answer, got=answer, at_answer=True)
    return None


def first_wrong_step_of(sample: Sample, output: StudentOutput) -> FirstError | None:
    """`first_wrong_step` for a parsed StudentOutput (its steps and answer)."""
    if output.sample_id != sample.id:
        raise DataError(f"output is for sample {output.sample_id}, not {sample.id}", field="sample_id")
    return first_wrong_step(sample, output.steps, output.answer)
