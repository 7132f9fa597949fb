"""Answer-switch localisation, the seed method of arXiv 2412.15652.

The teacher sees the question, the options, a prior that favours the gold option, and a prefix of the
student's rationale: k = 0, 1, ..., n steps. For each prefix it is asked for the option letter only, and
the option probabilities are read from the first generated token's `top_logprobs`: tokens that are an
option letter after stripping spaces and brackets ("A", " A", "(A") add up to that letter, a letter
absent from the list gets `floor`, and the letters are renormalised to sum to 1.

With m_k = P(student's option | k steps) - P(gold option | k steps), the error is the first step k at
which m_k > delta holds for `lam` consecutive prefixes k .. k+lam-1 (all of them must exist, so a run
cut short by the end of the rationale does not count). Outcomes (recorded in the evidence's `rule`):

- switch: the run starts at k >= 1, and step k is reported (outcome `found`);
- no_switch: no run; the fallback (default `last`, the step that gave the wrong answer) is reported;
- prior_not_held: the run starts at k = 0, i.e. the teacher prefers the student's option before seeing
  any step, so no step can be blamed; the fallback is reported.

A rationale of one step is decided without asking: the answer is wrong, so its one step is the first
wrong one (outcome `found`, with that reason); the rule could not say so, as a run starting at k = 1, the
last prefix, is cut short for any `lam` > 1. A rationale without steps is `no_steps` (no call either).

When the student's answer matches no option, m_k uses the most probable non-gold option instead.

Defaults (project choices, tuned for robustness rather than taken from the paper): delta = 0.1 (the
wrong option must lead by ten points), lam = 2 (a one-step blip is ignored), prior = 0.7 (the teacher
is told the gold option is right with about 70% confidence; None shows no prior).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from typing import Literal

from pydantic import Field

from edtune.errors import SAMPLE_PROVIDER_ERRORS, DataError
from edtune.llm.base import ChatResponse
from edtune.records import Sample, StudentOutput
from edtune.teacher.inputs import option_letter, option_letters, sample_variables
from edtune.teacher.locate import Fallback, fallback_step, no_steps, one_step
from edtune.teacher.records import AnswerSwitchEvidence, FailedAttempt, Failure, StepLocation, SwitchRule
from edtune.teacher.task import Tally, TaskOptions, TeacherTask, failure_of

_STRIP = " \t\n()[].:*\"'"


class AnswerSwitchOptions(TaskOptions):
    """Settings of answer-switch localisation (see the module docstring for the rule)."""

    template: str = "answer_switch"
    """Template in `prompts/` (task `answer_switch`, plain-text output); it gets `steps` = the prefix of
    k student steps and `prior` besides the common variables."""
    stage: str = "teacher.localise"
    """Stage name under which calls are counted."""
    delta: float = Field(default=0.1, ge=-1.0, lt=1.0)
    """Margin threshold: P(wrong) - P(gold) must exceed it."""
    lam: int = Field(default=2, ge=1)
    """How many consecutive prefixes the margin must stay above delta."""
    prior: float | None = Field(default=0.7, gt=0.0, lt=1.0)
    """Confidence in the gold option stated to the teacher; None states no prior."""
    top_logprobs: int = Field(default=20, ge=1, le=20)
    """Alternatives requested per token position (the OpenAI API allows at most 20)."""
    floor: float = Field(default=1e-6, gt=0.0, lt=1.0)
    """Probability given to an option letter missing from the top alternatives, before renormalising."""
    fallback: Fallback = "last"
    """Step reported when no switch is found (or the prior did not hold)."""
    max_tokens: int | None = Field(default=1, gt=0)
    """Only the first token is read, so one token is enough."""


def letter_probabilities(top: dict[str, float], letters: Sequence[str], floor: float) -> tuple[dict[str, float], int]:
    """Option probabilities from one position's top logprobs, renormalised over `letters`, and how
    many letters were actually present (the others got `floor`)."""
    mass = dict.fromkeys(letters, 0.0)
    for token, logprob in top.items():
        key = token.strip(_STRIP)
        if key in mass:
            mass[key] += math.exp(logprob)
    seen = sum(1 for value in mass.values() if value > 0.0)
    raw = {letter: value if value > 0.0 else floor for letter, value in mass.items()}
    total = sum(raw.values())
    return {letter: value / total for letter, value in raw.items()}, seen


def switch_margins(probabilities: Sequence[dict[str, float]], gold: str, wrong: str | None) -> list[float]:
    """P(wrong) - P(gold) per prefix; with `wrong` None, the most probable non-gold option stands in."""
    margins = []
    for probs in probabilities:
        rival = probs[wrong] if wrong is not None else max(p for letter, p in probs.items() if letter != gold)
        margins.append(rival - probs[gold])
    return margins


def find_switch(margins: Sequence[float], delta: float, lam: int) -> int | None:
    """The first prefix k with margins[k .. k+lam-1] all > delta (all inside the sequence), or None."""
    for k in range(len(margins) - lam + 1):
        if all(m > delta for m in margins[k : k + lam]):
            return k
    return None


class AnswerSwitchLocator(TeacherTask[AnswerSwitchOptions]):
    """Finds the step after which the teacher's preferred option switches to the student's."""

    TASK = "answer_switch"
    OUTPUT = None
    method: Literal["answer_switch"] = "answer_switch"

    @classmethod
    def default_options(cls) -> AnswerSwitchOptions:
        return AnswerSwitchOptions()

    async def locate(self, sample: Sample, student: StudentOutput) -> StepLocation:
        """Ask once per prefix (concurrently), then apply the rule; a rationale of at most one step is
        decided without a call. A sample that is not multiple choice, or whose gold answer is not one of its
        options, is a DataError."""
        n_steps = len(student.steps)
        if n_steps == 0:
            return no_steps(self, self.method, sample)
        letters, gold = self._letters(sample)
        if n_steps == 1:
            return one_step(self, self.method, sample)
        wrong = option_letter(sample, student.answer)
        tally = Tally()
        try:
            responses = await asyncio.gather(*(self._ask_prefix(sample, student, k) for k in range(n_steps + 1)))
        except SAMPLE_PROVIDER_ERRORS as exc:
            return StepLocation(**self.stamp(sample, tally), method=self.method, n_steps=n_steps, step=None,
                                outcome="failed", failure=failure_of(exc))
        for response in responses:
            tally.add(response)
        stamp = self.stamp(sample, tally)
        if (bad := next((r for r in responses if not r.logprobs), None)) is not None:
            failure = Failure(message="the server returned no logprobs; answer-switch needs them",
                              attempts=[FailedAttempt(raw=bad.text, error="no logprobs in the response")])
            return StepLocation(**stamp, method=self.method, n_steps=n_steps, step=None, outcome="failed",
                                failure=failure)
        evidence = self._evidence(responses, letters, gold, None if wrong == gold else wrong)
        found = evidence.rule == "switch"
        step = evidence.switch_prefix if found else fallback_step(self.options.fallback, n_steps)
        return StepLocation(**stamp, method=self.method, n_steps=n_steps, step=step,
                            outcome="found" if found else "fallback", evidence=evidence)

    def _letters(self, sample: Sample) -> tuple[list[str], str]:
        letters = option_letters(sample)
        if len(letters) < 2:
            raise DataError(f"sample '{sample.id}': answer-switch needs a multiple-choice question", field="choices")
        gold = option_letter(sample, sample.answer)
        if gold is None:
            raise DataError(f"sample '{sample.id}': the answer {sample.answer!r} is none of the choices",
                            field="answer")
        return letters, gold

    async def _ask_prefix(self, sample: Sample, student: StudentOutput, k: int) -> ChatResponse:
        variables = {**sample_variables(sample, student), "steps": student.steps[:k], "prior": self.options.prior}
        request = self.request(sample, variables, logprobs=True, top_logprobs=self.options.top_logprobs)
        return await self.client.chat(request)

    def _evidence(self, responses: Sequence[ChatResponse], letters: list[str], gold: str,
                  wrong: str | None) -> AnswerSwitchEvidence:
        probabilities, seen = [], []
        for response in responses:
            first = response.logprobs[0]  # type: ignore[index]  # checked non-empty by the caller
            probs, count = letter_probabilities({**first.top, first.token: first.logprob}, letters, self.options.floor)
            probabilities.append(probs)
            seen.append(count)
        margins = switch_margins(probabilities, gold, wrong)
        start = find_switch(margins, self.options.delta, self.options.lam)
        rule: SwitchRule = "no_switch" if start is None else ("prior_not_held" if start == 0 else "switch")
        return AnswerSwitchEvidence(letters=letters, gold=gold, wrong=wrong, probabilities=probabilities,
                                    letters_seen=seen, margins=margins, delta=self.options.delta,
                                    lam=self.options.lam, prior=self.options.prior, rule=rule,
                                    switch_prefix=start)
