"""The Judge protocol, the three outcomes, and accuracy over every question.

A judge decides, for each (sample, student output) pair, whether the student's answer matches the
reference: `correct`, `incorrect`, or `unscored` when the judge itself failed. The student's side never
makes a judgment unscored: an answer no option, number or text can be read from is `incorrect`, with a
reason starting `unparseable: ` (see `unreadable`). An unscored judgment carries a reason that starts with
one of `error` (the judge's backend failed), `refused` (a model judge declined) or `invalid` (a model
judge never gave a valid verdict), then detail after ": ".

Accuracy counts every question: correct / all judgments, so a student that stops writing readable answers
loses accuracy. Unscored judgments are judged again (`judge_sync`'s retries); those still unscored count
as not correct and their share is reported beside accuracy, so a flaky judge shows up as missing evidence
rather than being hidden.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Sequence
from typing import Literal, Protocol, runtime_checkable

from edtune.errors import DataError
from edtune.llm.concurrency import run_sync
from edtune.records import Judgment, Record, Sample, StudentOutput

UnscoredReason = Literal["error", "refused", "invalid"]
"""Why a judge could not decide: its backend failed, it declined, or it never gave a valid verdict."""
UNPARSEABLE = "unparseable"
"""Reason prefix of an incorrect judgment whose student answer could not be read."""
JUDGE_RETRIES = 1
"""Times `judge_sync` judges an unscored pair again before leaving it unscored."""


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


def judge_sync(judge: Judge, samples: Sequence[Sample], outputs: Sequence[StudentOutput], *,
               retries: int = JUDGE_RETRIES) -> list[Judgment]:
    """Blocking form of `judge.judge` for synchronous callers (scripts, notebooks, the loop), where a pair
    left unscored (the judge failed) is judged again, up to `retries` more times.

    Runs on edtune's shared background event loop rather than a fresh one per call, so an LLM judge's
    HTTP connection pool survives from one batch to the next.
    """
    return run_sync(judge_with_retries(judge, samples, outputs, retries=retries))


async def judge_with_retries(judge: Judge, samples: Sequence[Sample], outputs: Sequence[StudentOutput], *,
                             retries: int = JUDGE_RETRIES) -> list[Judgment]:
    """`judge.judge`, then the unscored pairs judged again (as one batch) up to `retries` times; a retry's
    judgment replaces the earlier one. Order and length are those of `samples`."""
    judged = list(await judge.judge(samples, outputs))
    for _ in range(retries):
        again = [i for i, j in enumerate(judged) if j.outcome == "unscored"]
        if not again:
            break
        redone = await judge.judge([samples[i] for i in again], [outputs[i] for i in again])
        for i, judgment in zip(again, redone, strict=True):
            judged[i] = judgment
    return judged


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
    """An unscored judgment (the judge failed) whose reason is "<reason>: <detail>"."""
    return Judgment(sample_id=sample_id, outcome="unscored", reason=f"{reason}: {detail}", judge=judge)


def unreadable(sample_id: str, judge: str, detail: str) -> Judgment:
    """An incorrect judgment for a student answer that could not be read, reason "unparseable: <detail>"."""
    return Judgment(sample_id=sample_id, outcome="incorrect", reason=f"{UNPARSEABLE}: {detail}", judge=judge)


def is_unreadable(judgment: Judgment) -> bool:
    """Whether `judgment` is incorrect because the student's answer could not be read."""
    return judgment.outcome == "incorrect" and (judgment.reason or "").startswith(f"{UNPARSEABLE}:")


def scored(sample_id: str, judge: str, correct: bool, reason: str | None = None) -> Judgment:
    """A correct or incorrect judgment."""
    return Judgment(sample_id=sample_id, outcome="correct" if correct else "incorrect", reason=reason, judge=judge)


def unscored_reason(judgment: Judgment) -> str | None:
    """The reason category of an unscored judgment (text before the first ":"), None when it is scored."""
    if judgment.outcome != "unscored":
        return None
    return (judgment.reason or "error").split(":", 1)[0].strip()


class JudgeSummary(Record):
    """Counts over a batch of judgments, with accuracy over all of them."""

    correct: int
    """Judgments with outcome correct."""
    incorrect: int
    """Judgments with outcome incorrect, unreadable student answers included."""
    unscored: int
    """Judgments the judge failed on (after its retries); they count as not correct in `accuracy`."""
    unscored_reasons: dict[str, int]
    """Unscored count per reason category (error, refused, invalid)."""
    accuracy: float | None
    """correct / every judgment (unscored included); None when there was no judgment."""
    unparseable: int = 0
    """Of `incorrect`, the student answers that could not be read (reason "unparseable: ...")."""

    @property
    def total(self) -> int:
        """Every judgment: the denominator of `accuracy`."""
        return self.correct + self.incorrect + self.unscored

    @property
    def scored(self) -> int:
        """How many judgments the judge decided."""
        return self.correct + self.incorrect

    @property
    def unscored_share(self) -> float | None:
        """unscored / every judgment: the part of `accuracy` the judge left undecided; None without one."""
        return self.unscored / self.total if self.total else None


def summarize(judgments: Sequence[Judgment]) -> JudgeSummary:
    """Count outcomes; accuracy is correct over every judgment (see the module docstring)."""
    outcomes = Counter(j.outcome for j in judgments)
    reasons = Counter(r for j in judgments if (r := unscored_reason(j)) is not None)
    return JudgeSummary(correct=outcomes["correct"], incorrect=outcomes["incorrect"],
                        unscored=outcomes["unscored"], unscored_reasons=dict(sorted(reasons.items())),
                        accuracy=outcomes["correct"] / len(judgments) if judgments else None,
                        unparseable=sum(is_unreadable(j) for j in judgments))


def accuracy(judgments: Sequence[Judgment]) -> float | None:
    """Fraction correct among every judgment; None when there is none. See `summarize` for counts."""
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
