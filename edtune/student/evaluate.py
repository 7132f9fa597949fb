"""Exact-match scoring of student answers, grouped by skill: the quick check used by the student's CLI
and benchmarks. Judging proper (teacher LLMs, unscored outcomes) lives with the judges."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence

from edtune.normalise import normalise
from edtune.records import Sample, StudentOutput


def exact_form(answer: str | None) -> str:
    """The form answers are compared in: lower-case, trimmed, one trailing full stop dropped; None (no
    answer found) becomes ""."""
    return normalise(answer, final_stops=1)


def exact_matches(samples: Sequence[Sample], outputs: Sequence[StudentOutput]) -> list[bool]:
    """Per sample: does the parsed answer equal `Sample.answer` after `exact_form`? Order must match."""
    pairs = zip(samples, outputs, strict=True)
    return [s.id == o.sample_id and exact_form(o.answer) == exact_form(s.answer) and bool(o.answer)
            for s, o in pairs]


NO_FAMILY = "(no family)"
"""The group of a sample without the family key (as the run report names it)."""


def skill_of(sample: Sample, family_field: str = "skill") -> str:
    """The sample's question family (`metadata[family_field]`, "skill" by default, as text), else NO_FAMILY."""
    return str(sample.metadata[family_field]) if family_field in sample.metadata else NO_FAMILY


def accuracy_by(samples: Sequence[Sample], correct: Sequence[bool],
                key: Callable[[Sample], str] = skill_of) -> dict[str, tuple[int, int]]:
    """Group -> (correct, total), groups in first-seen order."""
    table: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for sample, ok in zip(samples, correct, strict=True):
        row = table[key(sample)]
        row[0] += int(ok)
        row[1] += 1
    return {group: (hits, total) for group, (hits, total) in table.items()}
