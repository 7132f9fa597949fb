"""Per-step baseline: ask about one step at a time whether it is correct; the first `incorrect` is the
error.

Step k is shown with steps 1..k-1 as context, in order, and the task stops at the first step judged
incorrect, so a rationale of n steps costs at most n calls. When every step is judged correct the
configured fallback applies (default: the last step, which produced the wrong answer).
"""

from __future__ import annotations

from typing import Literal

from edtune.records import Sample, StudentOutput
from edtune.teacher.inputs import sample_variables
from edtune.teacher.locate import Fallback, fallback_step, no_steps
from edtune.teacher.records import PerStepEvidence, StepCheck, StepLocation, StepVerdict
from edtune.teacher.task import PER_SAMPLE_FAILURES, Tally, TaskOptions, TeacherTask, failure_of


class PerStepOptions(TaskOptions):
    """Settings of the per-step localisation baseline."""

    template: str = "step_check"
    """Template in `prompts/` (task `step_check`, output `StepVerdict`); it gets `step_index`, `step` and
    `previous_steps` besides the common variables."""
    stage: str = "teacher.localise"
    """Stage name under which calls are counted."""
    fallback: Fallback = "last"
    """Step reported when no step is judged incorrect."""


class PerStepLocator(TeacherTask[PerStepOptions]):
    """Asks the teacher about each step in turn until one is judged incorrect."""

    TASK = "step_check"
    OUTPUT = StepVerdict
    method: Literal["per_step"] = "per_step"

    @classmethod
    def default_options(cls) -> PerStepOptions:
        return PerStepOptions()

    async def locate(self, sample: Sample, student: StudentOutput) -> StepLocation:
        """The first step the teacher calls incorrect; the fallback when none; `failed` (with the
        verdicts so far and the refused replies) when a reply never validated."""
        steps = student.steps
        if not steps:
            return no_steps(self, self.method, sample)
        common = sample_variables(sample, student)
        tally = Tally()
        verdicts: list[StepCheck] = []
        for index, text in enumerate(steps, start=1):
            variables = {**common, "step_index": index, "step": text, "previous_steps": steps[: index - 1]}
            try:
                reply = await self.ask(self.request(sample, variables), StepVerdict, tally)
            except PER_SAMPLE_FAILURES as exc:
                return StepLocation(**self.stamp(sample, tally), method=self.method, n_steps=len(steps), step=None,
                                    outcome="failed", failure=failure_of(exc),
                                    evidence=PerStepEvidence(verdicts=verdicts))
            verdicts.append(StepCheck(step=index, correct=reply.value.correct, reason=reply.value.reason))
            if not reply.value.correct:
                return StepLocation(**self.stamp(sample, tally), method=self.method, n_steps=len(steps), step=index,
                                    outcome="found", reason=reply.value.reason,
                                    evidence=PerStepEvidence(verdicts=verdicts))
        return StepLocation(**self.stamp(sample, tally), method=self.method, n_steps=len(steps),
                            step=fallback_step(self.options.fallback, len(steps)), outcome="fallback",
                            evidence=PerStepEvidence(verdicts=verdicts))
