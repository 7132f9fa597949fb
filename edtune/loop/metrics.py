"""Metrics of a run, computed from the run directory's files alone (so a report needs nothing else).

Per iteration: validation and test accuracy (unscored never counts as wrong), test accuracy per question
family (`metadata["skill"]`, the bundled world's family; "all" when a data set has none), errors found,
missing-skill and retrieved-sample histograms, samples used and the share of the pool, teacher usage.
Usage per stage comes from the run's call log when this process built the teacher or judge from a spec
(the log covers every request, re-asks and cache hits), else from the teacher result records.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence

from pydantic import Field

from edtune.atomic import atomic_write_json
from edtune.jsonl import read_jsonl
from edtune.judging.base import JudgeSummary, summarize
from edtune.llm.usage import StageUsage, UsageReport
from edtune.loop.context import RunContext
from edtune.loop.stages_select import read_selection
from edtune.loop.stages_student import errors, judgments
from edtune.records import Judgment, Record, Sample
from edtune.retrieval.select import ChosenSample
from edtune.student.base import TrainStats
from edtune.teacher.records import SkillAnalysis, StepLocation, TeacherResult


class IterationMetrics(Record):
    """What one iteration did and how the student scored after it (iteration 0: before any tuning)."""

    iteration: int
    """0 for the pretrained student, then 1, 2, ..."""
    val: JudgeSummary | None = None
    """Validation judgments of the student entering this iteration (methods that use validation)."""
    test: JudgeSummary | None = None
    """Test judgments of the student after this iteration's training."""
    test_by_family: dict[str, JudgeSummary] = Field(default_factory=dict)
    """Test judgments per question family."""
    test_by_skill: dict[str, JudgeSummary] = Field(default_factory=dict)
    """Test judgments per gold skill (`metadata["skills"]`, the skills of the gold steps); a sample counts
    for each of its skills. Empty when the test set carries no skill tags."""
    errors: int = 0
    """Validation errors mined (incorrect, plus unanswered with `unanswered_are_errors`)."""
    located: int = 0
    """Errors whose first wrong step the teacher found (outcome found)."""
    missing_skills: dict[str, int] = Field(default_factory=dict)
    """Missing-skill phrase -> how many errors named it."""
    matched_skills: dict[str, int] = Field(default_factory=dict)
    """Selected samples per query (skill) that retrieved them; "random" for random picks."""
    selected_families: dict[str, int] = Field(default_factory=dict)
    """Selected samples per question family of the pool sample."""
    selected: int = 0
    """Pool samples this iteration selected."""
    samples_used: int = 0
    """Pool samples selected so far (this iteration included)."""
    pool_fraction: float = 0.0
    """`samples_used` / pool size."""
    teacher: dict[str, StageUsage] = Field(default_factory=dict)
    """Teacher calls and tokens per stage this iteration, from the result records."""
    train: TrainStats | None = None
    """The training call of this iteration (None for iteration 0 or before training)."""


class RunMetrics(Record):
    """metrics.json: the run at a glance, one entry per iteration."""

    method: str
    """The selection method."""
    seed: int
    """The run's master seed."""
    pool_size: int
    """Samples in the pool."""
    budget: int
    """The method's total budget."""
    iterations: list[IterationMetrics]
    """Iteration 0 (pretrained) first."""
    stopped: str | None = None
    """Why the loop ended; None while it runs."""


def family(sample: Sample) -> str:
    return str(sample.metadata.get("skill", "all"))


def gold_skills(sample: Sample) -> list[str]:
    skills = sample.metadata.get("skills")
    return [str(s) for s in skills] if isinstance(skills, list) else []


def _grouped(samples: Sequence[Sample], judged: Sequence[Judgment],
             groups_of: Callable[[Sample], list[str]]) -> dict[str, JudgeSummary]:
    groups: dict[str, list[Judgment]] = defaultdict(list)
    by_id = {s.id: s for s in samples}
    for j in judged:
        for name in groups_of(by_id[j.sample_id]):
            groups[name].append(j)
    return {name: summarize(group) for name, group in sorted(groups.items())}


def _teacher_usage(results: Iterable[TeacherResult], stage: str, into: dict[str, StageUsage]) -> None:
    total = into.setdefault(stage, StageUsage())
    for r in results:
        total.calls += r.calls
        total.prompt_tokens += r.usage.prompt_tokens
        total.completion_tokens += r.usage.completion_tokens


def _selection_metrics(ctx: RunContext, chosen: list[ChosenSample], used: int) -> dict[str, object]:
    families = Counter(family(ctx.pool_sample(c.sample_id)) for c in chosen)
    pool = len(ctx.samples("pool"))
    return {"matched_skills": dict(Counter(c.skill for c in chosen).most_common()),
            "selected_families": dict(families.most_common()), "selected": len(chosen),
            "samples_used": used, "pool_fraction": used / pool if pool else 0.0}


def iteration_metrics(ctx: RunContext, i: int) -> IterationMetrics:
    """Metrics of iteration `i` from whatever of its files exist."""
    run, fields = ctx.run, dict[str, object]()
    test = judgments(ctx, i, "test") if ctx.config.data.test is not None else []
    if test:
        samples = ctx.samples("test")
        fields |= {"test": summarize(test), "test_by_family": _grouped(samples, test, lambda s: [family(s)]),
                   "test_by_skill": _grouped(samples, test, gold_skills)}
    if val := judgments(ctx, i, "val"):
        fields |= {"val": summarize(val), "errors": len(errors(ctx, i))}
    locations = read_jsonl(run.file(i, "locations.jsonl"), StepLocation)
    analyses = read_jsonl(run.file(i, "skills.jsonl"), SkillAnalysis)
    teacher: dict[str, StageUsage] = {}
    if locations:
        _teacher_usage(locations, "teacher.localise", teacher)
    if analyses:
        _teacher_usage(analyses, "teacher.skills", teacher)
    missing = Counter(s for a in analyses if a.outcome == "found" for s in a.missing_skills)
    fields |= {"located": sum(loc.outcome == "found" for loc in locations),
               "missing_skills": dict(missing.most_common()), "teacher": teacher}
    if i > 0:
        used = len(ctx.used_before(i)) + len(chosen := read_selection(run, i))
        fields |= _selection_metrics(ctx, chosen, used)
    if (record := run.train_record(i)) is not None:
        fields["train"] = record.stats
    return IterationMetrics(iteration=i, **fields)


def usage_report(ctx: RunContext, iterations: Sequence[IterationMetrics]) -> UsageReport:
    """Calls and tokens per stage for the whole run (see the module docstring for the source)."""
    if ctx.call_log:
        stages: dict[str, StageUsage] = {}
        for call in ctx.cache().calls():
            usage = stages.setdefault(call.stage, StageUsage())
            usage.cached_calls += call.cached
            usage.calls += not call.cached
            usage.prompt_tokens += call.prompt_tokens
            usage.completion_tokens += call.completion_tokens
        return UsageReport(stages=stages)
    summed: dict[str, StageUsage] = {}
    for it in iterations:
        for stage, usage in it.teacher.items():
            total = summed.setdefault(stage, StageUsage())
            total.calls += usage.calls
            total.prompt_tokens += usage.prompt_tokens
            total.completion_tokens += usage.completion_tokens
    return UsageReport(stages=summed)


def write_metrics(ctx: RunContext, last: int, stopped: str | None) -> RunMetrics:
    """Recompute metrics of iterations 0..last and write every metrics file and usage.json."""
    its = [iteration_metrics(ctx, i) for i in range(last + 1)]
    for it in its:
        atomic_write_json(ctx.run.file(it.iteration, "metrics.json"), it)
    metrics = RunMetrics(method=ctx.config.method, seed=ctx.config.seed, pool_size=len(ctx.samples("pool")),
                         budget=ctx.budget, iterations=its, stopped=stopped)
    atomic_write_json(ctx.run.metrics_path, metrics)
    atomic_write_json(ctx.run.usage_path, usage_report(ctx, its))
    return metrics
