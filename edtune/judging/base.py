"""The Judge protocol, the three outcomes, and accuracy that never counts unscored as wrong.

A judge decides, for each (sample, student output) pair, whether the student's answer matches the
reference: `correct`, `incorrect`, or `unscored` when it cannot decide. An unscored judgment carries a
reason that starts with one of `unparseable` (no usable answer could be read), `refused` (a model judge
declined) or `error` (the judge's backend failed), then detail after ": ". Accuracy is computed over the
scored judgments only, and the unscored count is reported beside it, so a flaky judge shows up as
missing evidence rather than as a worse student.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Sequence
from typing import Literal, Protocol, runtime_checkable

from edtune.errors import DataError
from edtune.llm.concurrency import run_sync
from edtune.records import Judgment, Record, Sample, StudentOutput

UnscoredReason = Literal["unparseable", "refused", "error"]


@runtime_checkable
class Judge(Protocol):
    """Scores student outputs against reference answers, one batch at a time."""

    @property
    def name(self) -> str:
        """Recorded in every `Judgment.judge`, e.g. "exact" or "vllm/Qwen2.5-7B-Instruct"."""
        ...

    async def judge(self, samples: Sequence[Sample], outputs: Sequence[StudentOutput]) -> list[Judgment]:
        """One judgment per pair, in order. `outputs[i]` must answer `samples[i]` (same id).

        Failures of the judge's own backend become unscored judgments; they never raise and never count
        as incorrect. Bad input (mismatched ids, a sample the judge cannot apply to) raises DataError.
        """
        ...


def judge_sync(judge: Judge, samples: Sequence[Sample], outputs: Sequence[StudentOutput]) -> list[Judgment]:
    """Blocking form of `judge.judge` for synchronous callers (scripts, notebooks).

    Runs on edtune's shared background event loop rather than a fresh one per call, so an LLM judge's
    HTTP connection pool survives from one batch to the next.
    """
    return run_sync(judge.judge(samples, outputs))


def check_pairs(samples: Sequence[Sample], outputs: Sequence[StudentOutput]) -> None:
    """Raise DataError unless the two sequences have equal length and matching ids position by position."""
    if len(samples) != len(outputs):
        raise DataError(f"{len(samples)} samples but {len(outputs)} student outputs to judge", field="sample_id")
    for row, (sample, output) in enumerate(zip(samples, outputs, strict=True), start=1):
        if sample.id != output.sample_id:
            raise DataError(f"student output for '{output.sample_id}' paired with sample '{sample.id}'",
                            row=row, field="sample_id")


def answer_text(output: StudentOutput) -> str:
    """What a judge reads: the parsed final answer when the student gave one, else the whole raw text."""
    return output.answer if output.answer is not None else output.raw_text


def unscored(sample_id: str, judge: str, reason: UnscoredReason, detail: str) -> Judgment:
    """An unscored judgment whose reason is "<reason>: <detail>"."""
    return Judgment(sample_id=sample_id, outcome="unscored", reason=f"{reason}: {detail}", judge=judge)


def scored(sample_id: str, judge: str, correct: bool, reason: str | None = None) -> Judgment:
    """A correct or incorrect judgment."""
    return Judgment(sample_id=sample_id, outcome="correct" if correct else "incorrect", reason=reason, judge=judge)


def unscored_reason(judgment: Judgment) -> str | None:
    """The reason category of an unscored judgment (text before the first ":"), None when it is scored."""
    if judgment.outcome != "unscored":
        return None
    return (judgment.reason or "unparseable").split(":", 1)[0].strip()


class JudgeSummary(Record):
    """Counts over a batch of judgments, with accuracy over the scored ones only."""

    correct: int
    """Judgments with outcome correct."""
    incorrect: int
    """Judgments with outcome incorrect."""
    unscored: int
    """Judgments the judge could not decide; left out of `accuracy`."""
    unscored_reasons: dict[str, int]
    """Unscored count per reason category (unparseable, refused, error)."""
    accuracy: float | None
    """correct / (correct + incorrect); None when nothing was scored."""

    @property
    def scored(self) -> int:
        """How many judgments count towards accuracy."""
        return self.correct + self.incorrect


def summarize(judgments: Sequence[Judgment]) -> JudgeSummary:
    """Count outcomes; accuracy excludes unscored judgments (they are never counted as wrong)."""
    outcomes = Counter(j.outcome for j in judgments)
    reasons = Counter(r for j in judgments if (r := unscored_reason(j)) is not None)
    n_scored = outcomes["correct"] + outcomes["incorrect"]
    return JudgeSummary(correct=outcomes["correct"], incorrect=outcomes["incorrect"],
                        unscored=outcomes["unscored"], unscored_reasons=dict(sorted(reasons.items())),
                        accuracy=outcomes["correct"] / n_scored if n_scored else None)


def accuracy(judgments: Sequence[Judgment]) -> float | None:
    """Fraction correct among scored judgments; None when none was scored. See `summarize` for counts."""
    return summarize(judgments).accuracy


class RuleJudge(ABC):
    """Base of the deterministic judges: subclasses decide one pair at a time, synchronously."""

    name: str = "rule"

    @abstractmethod
    def judge_one(self, sample: Sample, output: StudentOutput) -> Judgment:
        """The judgment for one pair whose ids already match."""

    async def judge(self, samples: Sequence[Sample], outputs: Sequence[StudentOutput]) -> list[Judgment]:
        """Judge every pair in order (pure computation: no awaiting inside)."""
        check_pairs(samples, outputs)
        return [self.judge_one(s, o) for s, o in zip(samples, outputs, strict=True)]
