"""Skill analysis: the skill(s) the student lacked at its wrong step, as short phrases.

The reply is bounded per call to 1..count phrases (count 1 by default, as in arXiv 2412.15652), each a
short phrase (see `edtune.teacher.records.MAX_PHRASE_WORDS`); a reply outside the bounds is re-asked.
"""

from __future__ import annotations

from pydantic import Field

from edtune.errors import DataError
from edtune.records import Sample, StudentOutput
from edtune.teacher.inputs import sample_variables
from edtune.teacher.records import MAX_PHRASE_WORDS, MissingSkills, SkillAnalysis, bounded_skills
from edtune.teacher.task import PER_SAMPLE_FAILURES, Tally, TaskOptions, TeacherTask, failure_of


class SkillOptions(TaskOptions):
    """Settings of the skill-analysis task."""

    template: str = "missing_skills"
    """Template in `prompts/` (task `missing_skills`, output `MissingSkills`); it gets `wrong_step` (1-based
    index, or None when the step is unknown) and `count` besides the common variables."""
    stage: str = "teacher.skills"
    """Stage name under which calls are counted."""
    count: int = Field(default=1, ge=1, le=10)
    """At most this many skill phrases per error (the paper uses 1)."""


class SkillAnalyzer(TeacherTask[SkillOptions]):
    """Asks the teacher which skill the student lacked at the wrong step."""

    TASK = "missing_skills"
    OUTPUT = MissingSkills

    @classmethod
    def default_options(cls) -> SkillOptions:
        return SkillOptions()

    async def analyse(self, sample: Sample, student: StudentOutput, step: int | None) -> SkillAnalysis:
        """The missing skill(s) behind `step` (1-based, e.g. `StepLocation.step`; None shows the whole
        rationale without blaming a step). A step outside 1..n_steps is a DataError."""
        if step is not None and not 1 <= step <= len(student.steps):
            raise DataError(f"sample '{sample.id}': step {step} is outside 1..{len(student.steps)}", field="step")
        variables = {**sample_variables(sample, student), "wrong_step": step, "count": self.options.count,
                     "max_words": MAX_PHRASE_WORDS}
        tally = Tally()
        output = bounded_skills(MissingSkills, self.options.count)
        try:
            reply = await self.ask(self.request(sample, variables), output, tally)
        except PER_SAMPLE_FAILURES as exc:
            return SkillAnalysis(**self.stamp(sample, tally), step=step, outcome="failed", failure=failure_of(exc))
        return SkillAnalysis(**self.stamp(sample, tally), step=step, missing_skills=list(reply.value.skills),
                             outcome="found")
