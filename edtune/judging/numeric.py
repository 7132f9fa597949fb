"""Numeric answers compared with a tolerance, read from free text.

The number is read after number words become digits ("two" -> 2) and thousands separators are dropped.
When the text has an answer statement ("answer: 4", "the answer is 4"), the first number after the last
such statement is the answer. Otherwise the text must contain exactly one distinct number; several
different numbers are ambiguous and none is unparseable: either way the student's answer is incorrect.
Fractions "3/4" and percent signs are read ("50%" is 50, as is the reference "50%", so both sides agree).
"""

from __future__ import annotations

import math
import re

from edtune.errors import ConfigError, DataError
from edtune.judging.base import RuleJudge, answer_text, scored, unreadable
from edtune.normalise import replace_number_words
from edtune.records import Judgment, Sample, StudentOutput

_NUMBER = re.compile(r"(?<![\w.])([-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)(?:\s*/\s*(\d+(?:\.\d+)?)(?![\w.]))?")
_LEAD_IN = re.compile(r"\banswer\b\s*(?:is|:|-|=)?", re.IGNORECASE)


def _values(text: str) -> list[float]:
    values = []
    for numerator, denominator in _NUMBER.findall(text):
        if denominator and float(denominator) == 0:
            continue
        values.append(float(numerator) / float(denominator) if denominator else float(numerator))
    return values


def extract_number(text: str) -> tuple[float | None, str | None]:
    """(the number `text` states, None) or (None, why no single number could be read)."""
    text = replace_number_words(text)
    lead_ins = list(_LEAD_IN.finditer(text))
    if lead_ins and (after := _values(text[lead_ins[-1].end():])):
        return after[0], None
    distinct = sorted(set(_values(text)))
    if not distinct:
        return None, "no number found"
    if len(distinct) > 1:
        return None, f"ambiguous: several numbers ({', '.join(f'{v:g}' for v in distinct[:5])})"
    return distinct[0], None


class NumericJudge(RuleJudge):
    """Correct when the student's number is within tolerance of the reference (`math.isclose` semantics:
    |a - b| <= max(rel_tol * max(|a|, |b|), abs_tol)). The reference must hold exactly one number."""

    name = "numeric"

    def __init__(self, *, abs_tol: float = 1e-9, rel_tol: float = 1e-6) -> None:
        if abs_tol < 0 or rel_tol < 0:
            raise ConfigError(f"numeric judge tolerances must be >= 0 (abs_tol={abs_tol}, rel_tol={rel_tol})")
        self.abs_tol = abs_tol
        self.rel_tol = rel_tol

    def judge_one(self, sample: Sample, output: StudentOutput) -> Judgment:
        reference, problem = extract_number(sample.answer)
        if reference is None:
            raise DataError(f"sample '{sample.id}': reference answer {sample.answer!r} is not one number ({problem})",
                            field="answer")
        predicted, problem = extract_number(answer_text(output))
        if predicted is None:
            return unreadable(sample.id, self.name, problem or "no number found")
        close = math.isclose(predicted, reference, rel_tol=self.rel_tol, abs_tol=self.abs_tol)
        return scored(sample.id, self.name, close, f"read {predicted:g}, reference {reference:g}")
