"""What the three localisation methods share: the locator protocol, the fallback rule and the
result for a rationale with no steps.

Every locator answers `await locator.locate(sample, student) -> StepLocation` with a 1-based step.
"""

from __future__ import annotations

from typing import Any, Literal, Protocol

from edtune.records import Sample, StudentOutput
from edtune.teacher.records import Failure, LocationMethod, StepLocation
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


def no_steps(task: TeacherTask[Any], method: LocationMethod, sample: Sample) -> StepLocation:
    """The result for a student output without steps: nothing to localise, no call made."""
    return StepLocation(**task.stamp(sample, Tally()), method=method, n_steps=0, step=None, outcome="failed",
                        failure=Failure(message="the student's output has no steps to localise"))
