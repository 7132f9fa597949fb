"""Localisation asked directly: one structured call returns the first wrong step and why.

The reply model is built per call with the step bounded to 1..n_steps, so an out-of-range index is a
validation failure: the client re-asks with the error fed back, and when no reply ever validates the
result is `failed` with every refused reply as evidence.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, create_model

from edtune.records import Sample, StudentOutput
from edtune.teacher.inputs import sample_variables
from edtune.teacher.locate import no_steps
from edtune.teacher.records import DirectEvidence, FirstWrongStep, StepLocation
from edtune.teacher.task import PER_SAMPLE_FAILURES, Tally, TaskOptions, TeacherTask, failure_of


class DirectOptions(TaskOptions):
    """Settings of the direct localisation task."""

    template: str = "first_wrong_step"
    """Template in `prompts/` (task `first_wrong_step`, output `FirstWrongStep`)."""
    stage: str = "teacher.localise"
    """Stage name under which calls are counted."""


@lru_cache(maxsize=256)
def bounded_first_wrong_step(n_steps: int) -> type[FirstWrongStep]:
    """`FirstWrongStep` with `step` limited to 1..n_steps (also in its JSON schema, for servers that
    constrain decoding)."""
    return create_model(
        "FirstWrongStep", __base__=FirstWrongStep,
        step=(int, Field(ge=1, le=n_steps, description=f"1-based index of the first incorrect step (1..{n_steps})")),
    )


class DirectLocator(TeacherTask[DirectOptions]):
    """Asks the teacher for the first wrong step in one structured call."""

    TASK = "first_wrong_step"
    OUTPUT = FirstWrongStep
    method: Literal["direct"] = "direct"

    @classmethod
    def default_options(cls) -> DirectOptions:
        return DirectOptions()

    async def locate(self, sample: Sample, student: StudentOutput) -> StepLocation:
        """The teacher's first wrong step; `failed` (with evidence) when no reply validated."""
        n_steps = len(student.steps)
        if n_steps == 0:
            return no_steps(self, self.method, sample)
        tally = Tally()
        request = self.request(sample, sample_variables(sample, student))
        try:
            reply = await self.ask(request, bounded_first_wrong_step(n_steps), tally)
        except PER_SAMPLE_FAILURES as exc:
            return StepLocation(**self.stamp(sample, tally), method=self.method, n_steps=n_steps, step=None,
                                outcome="failed", failure=failure_of(exc))
        return StepLocation(**self.stamp(sample, tally), method=self.method, n_steps=n_steps,
                            step=reply.value.step, outcome="found", reason=reply.value.reason,
                            evidence=DirectEvidence(attempts=reply.attempts, raw=reply.response.text))
