"""What the three localisation methods share: the locator protocol, the fallback rule and the
results that need no teacher call (a rationale with no steps, or with one).

Every locator answers `await locator.locate(sample, student) -> StepLocation` with a 1-based step.
"""

from __future__ import annotations

from typing import Any, Literal, Protocol

from edtune.records import Sample, StudentOutput
from edtune.teacher.records import LocationMethod, StepLocation
from edtune.teacher.task import Tally, TeacherTask

Fallback = Literal["last", "none"]
"""What a method that did not decide reports: `last` blames the last step (the step that produced the
wrong answer), `none` reports no step. Either way the result's outcome is `fallback`."""


class StepLocator(Protocol):
    """A method that finds the student's first wrong step."""

    method: LocationMethod

    async def locate(self, sample: Sample, student: StudentOutput) -> StepLocation:
        """The first wrong step of `student`'s rationale for `sample` (1-based)."""
        ...


def fallback_step(fallback: Fallback, n_steps: int) -> int | None:
    """The step a method reports when it did not decide."""
    return n_steps if fallback == "last" else None


ONE_STEP_REASON = "the rationale has a single step and the answer is wrong, so that step is the first wrong one"
"""`StepLocation.reason` of a one-step rationale (see `one_step`)."""


def no_steps(task: TeacherTask[Any], method: LocationMethod, sample: Sample) -> StepLocation:
    """The result for a student output without steps: the error lies in the final answer itself (outcome
    `no_steps`, no step); no call is made, and it is not a failure of the teacher."""
    return StepLocation(**task.stamp(sample, Tally()), method=method, n_steps=0, step=None, outcome="no_steps")


def one_step(task: TeacherTask[Any], method: LocationMethod, sample: Sample) -> StepLocation:
    """The result for a wrong answer whose rationale has one step: that step is the first wrong one
    (outcome `found`, with the reason); no call is made."""
    return StepLocation(**task.stamp(sample, Tally()), method=method, n_steps=1, step=1, outcome="found",
                        reason=ONE_STEP_REASON)
