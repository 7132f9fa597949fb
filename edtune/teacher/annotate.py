"""Required-skills annotation of a supporting pool: what each sample needs, as short phrases.

`SkillAnnotator.annotate` handles one sample; `annotate_pool` streams a pool of any size through the
resumable runner in `edtune.teacher.batch` (bounded concurrency, one JSON line per sample, restarts
skip finished ids). The phrases are what the BM25 retrieval of arXiv 2412.15652 indexes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from pydantic import Field

from edtune.records import Sample
from edtune.teacher.batch import BatchReport, run_resumable
from edtune.teacher.inputs import sample_variables
from edtune.teacher.records import MAX_PHRASE_WORDS, RequiredSkills, SkillAnnotation, bounded_skills
from edtune.teacher.task import PER_SAMPLE_FAILURES, Tally, TaskOptions, TeacherTask, failure_of


class AnnotateOptions(TaskOptions):
    """Settings of the required-skills annotation."""

    template: str = "required_skills"
    """Template in `prompts/` (task `required_skills`, output `RequiredSkills`); it gets `max_skills`
    besides the common variables (with the sample's gold rationale as `gold_steps` when it has one)."""
    stage: str = "teacher.annotate"
    """Stage name under which calls are counted."""
    max_skills: int = Field(default=5, ge=1, le=20)
    """At most this many skill phrases per sample."""
    concurrency: int = Field(default=8, ge=1)
    """Samples annotated at the same time."""
    retry_failed: bool = False
    """On a resumed run, redo samples whose latest record is a failure (appending a new record)."""


class SkillAnnotator(TeacherTask[AnnotateOptions]):
    """Annotates samples with the skills they require."""

    TASK = "required_skills"
    OUTPUT = RequiredSkills

    @classmethod
    def default_options(cls) -> AnnotateOptions:
        return AnnotateOptions()

    async def annotate(self, sample: Sample) -> SkillAnnotation:
        """The sample's required skills; `failed` (with the refused replies) when no reply validated."""
        variables = {**sample_variables(sample), "max_skills": self.options.max_skills, "max_words": MAX_PHRASE_WORDS}
        tally = Tally()
        output = bounded_skills(RequiredSkills, self.options.max_skills)
        try:
            reply = await self.ask(self.request(sample, variables), output, tally)
        except PER_SAMPLE_FAILURES as exc:
            return SkillAnnotation(**self.stamp(sample, tally), outcome="failed", failure=failure_of(exc))
        return SkillAnnotation(**self.stamp(sample, tally), required_skills=list(reply.value.skills), outcome="found")

    async def annotate_pool(self, samples: Iterable[Sample], out: Path,
                            on_result: Callable[[SkillAnnotation], None] | None = None) -> BatchReport:
        """Annotate every sample of `samples` (read lazily) not yet in `out`, appending to `out`.
        `on_result` is called after each write (e.g. to advance a progress bar)."""
        return await run_resumable(samples, self.annotate, out=out, key=lambda s: s.id, result_type=SkillAnnotation,
                                   concurrency=self.options.concurrency, retry_failed=self.options.retry_failed,
                                   on_result=on_result)
