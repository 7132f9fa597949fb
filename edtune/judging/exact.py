"""Exact match after normalisation (`edtune.normalise.normalise` with `words=True`)."""

from __future__ import annotations

from edtune.judging.base import RuleJudge, answer_text, scored, unreadable
from edtune.normalise import normalise
from edtune.records import Judgment, Sample, StudentOutput


class ExactJudge(RuleJudge):
    """Correct when the normalised student answer equals the normalised reference.

    Strict on purpose: "answer is 2" does not match "2" (the student's parsed `Answer:` line is what is
    compared when there is one). A student answer that normalises to nothing is incorrect ("unparseable: ...").
    """

    name = "exact"

    def judge_one(self, sample: Sample, output: StudentOutput) -> Judgment:
        predicted = normalise(answer_text(output), words=True)
        if not predicted:
            return unreadable(sample.id, self.name, "no answer text after normalisation")
        reference = normalise(sample.answer, words=True)
        return scored(sample.id, self.name, predicted == reference, f"normalised {predicted!r} vs {reference!r}")
