"""Metrics of a run, computed from the run directory's files alone (so a report needs nothing else).

Per iteration: validation and test accuracy (over every question), test accuracy per question family
(the metadata key `DataFile.family_field` names, "skill" by default; none when no sample has it), errors found,
missing-skill and retrieved-sample histograms, samples used and the share of the pool, teacher usage.
Usage per stage comes from the run's call log for the clients this process built from a spec (the log
covers every request, re-asks and cache hits), and from the teacher result records for the stages the log
does not hold (a teacher given as an object). Either way it counts what was paid, and apart from it the
replies answered from the cache with the tokens they were paid with when first asked. The
run-start preflight's calls, which bypass the cache and its log, come from preflight.jsonl either way.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence

from pydantic import Field

from edtune.atomic import atomic_write_json
from edtune.jsonl import read_jsonl
from edtune.judging.base import JudgeSummary, summarize
from edtune.llm.base import Usage
from edtune.llm.usage import StageUsage, UsageReport
from edtune.loop.context import RunContext
from edtune.loop.preflight import PREFLIGHT_FILE, PreflightRecord
from edtune.loop.stages_select import read_quotas, read_selection
from edtune.loop.stages_student import errors, judgments
from edtune.records import Judgment, Record, Sample
from edtune.retrieval.select import ChosenSample, QuotaShortfall, shortfall
from edtune.student.base import TrainStats
from edtune.teacher.preflight import STAGE as PREFLIGHT_STAGE
from edtune.teacher.records import SkillAnalysis, SkillAnnotation, StepLocation, TeacherResult


class IterationMetrics(Record):
    """What one iteration did and how the student scored after it (iteration 0: before any tuning)."""

    iteration: int
    """0 for the pretrained student, then 1, 2, ..."""
    val: JudgeSummary | None = None
    """Validation judgments of the student entering this iteration (methods that use validation)."""
    test: JudgeSummary | None = None
    """Test judgments of the student after this iteration's training."""
    test_by_family: dict[str, JudgeSummary] = Field(default_factory=dict)
    """Test judgments per question family (`RunMetrics.family_field`; samples without one under
    NO_FAMILY). Empty when no test sample has a family."""
    test_by_skill: dict[str, JudgeSummary] = Field(default_factory=dict)
    """Test judgments per gold skill (`metadata["skills"]`, the skills of the gold steps); a sample counts
    for each of its skills. Empty when the test set carries no skill tags."""
    errors: int = 0
    """Validation errors mined (judged incorrect; those without a final answer only with
    `unanswered_are_errors`)."""
    located: int = 0
    """Errors whose first wrong step was found (outcome found: by the teacher, or the one step there was)."""
    localisation: dict[str, int] = Field(default_factory=dict)
    """Errors per localisation outcome: found, fallback (the method did not decide), failed (the teacher
    gave no usable reply) and no_steps (the output has no steps: the error lies in its answer)."""
    missing_skills: dict[str, int] = Field(default_factory=dict)
    """Missing-skill phrase -> how many errors named it."""
    matched_skills: dict[str, int] = Field(default_factory=dict)
    """Selected samples per query (skill) that retrieved them; "random" for random picks."""
    selected_families: dict[str, int] = Field(default_factory=dict)
    """Selected samples per question family of the pool sample (the pool's `family_field`; samples without
    one are not counted)."""
    shortfall: QuotaShortfall | None = None
    """Missing skills that had a quota but got no pool sample, and where their quota went (from
    quotas.jsonl); None when every skill with a quota got a sample, or the method allots no quotas."""
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
    kept: int | None = None
    """The adapter the run returns (0: the pretrained student), by `RunConfig.keep`; None in metrics written
    before it was recorded (readers then take the last trained adapter)."""
    family_field: str | None = None
    """The metadata key the test set's families were read from (its `DataFile.family_field`); None
    without a test set."""


NO_FAMILY = "(no family)"
"""`test_by_family` group of the test samples whose metadata lacks the family field."""


def family(sample: Sample, field: str) -> str | None:
    """The sample's question family: `metadata[field]` as text; None when it has none."""
    value = sample.metadata.get(field)
    return None if value is None else str(value)


def _families(samples: Sequence[Sample], judged: Sequence[Judgment], field: str) -> dict[str, JudgeSummary]:
    """Test judgments per family; empty when no sample has one, so no family is made up."""
    if all(family(s, field) is None for s in samples):
        return {}
    return _grouped(samples, judged, lambda s: [family(s, field) or NO_FAMILY])


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
        total.add(r.usage, calls=r.calls - r.cached_calls, cached_calls=r.cached_calls)


def _selection_metrics(ctx: RunContext, chosen: list[ChosenSample], used: int) -> dict[str, object]:
    field = ctx.config.data.pool.family_field
    families = Counter(name for c in chosen if (name := family(ctx.pool_sample(c.sample_id), field)) is not None)
    pool = len(ctx.samples("pool"))
    return {"matched_skills": dict(Counter(c.skill for c in chosen).most_common()),
            "selected_families": dict(families.most_common()), "selected": len(chosen),
            "samples_used": used, "pool_fraction": used / pool if pool else 0.0}


def iteration_metrics(ctx: RunContext, i: int) -> IterationMetrics:
    """Metrics of iteration `i` from whatever of its files exist."""
    run, fields = ctx.run, dict[str, object]()
    test = judgments(ctx, i, "test") if ctx.config.data.test is not None else []
    if test and ctx.config.data.test is not None:
        samples, field = ctx.samples("test"), ctx.config.data.test.family_field
        fields |= {"test": summarize(test), "test_by_family": _families(samples, test, field),
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
               "localisation": dict(sorted(Counter(loc.outcome for loc in locations).items())),
               "missing_skills": dict(missing.most_common()), "teacher": teacher}
    if i > 0:
        used = len(ctx.used_before(i)) + len(chosen := read_selection(run, i))
        fields |= _selection_metrics(ctx, chosen, used) | {"shortfall": shortfall(read_quotas(run, i))}
    if (record := run.train_record(i)) is not None:
        fields["train"] = record.stats
    return IterationMetrics(iteration=i, **fields)


def _logged_usage(ctx: RunContext) -> dict[str, StageUsage]:
    """Usage per stage from the run's call log (empty when no client of this run writes one)."""
    stages: dict[str, StageUsage] = {}
    if not ctx.call_log:
        return stages
    for call in ctx.cache().calls():
        paid = Usage.model_validate(call.model_dump(include=set(Usage.model_fields)))
        stages.setdefault(call.stage, StageUsage()).add(paid, calls=int(not call.cached),
                                                         cached_calls=int(call.cached))
    return stages


def usage_report(ctx: RunContext, iterations: Sequence[IterationMetrics]) -> UsageReport:
    """Calls and tokens per stage for the whole run (see the module docstring for the sources). The pool's
    annotation is counted under `teacher.annotate`, and the run-start preflight under `teacher.preflight`."""
    stages: dict[str, StageUsage] = {}
    for it in iterations:
        for stage, usage in it.teacher.items():
            stages[stage] = stages.get(stage, StageUsage()) + usage
    if annotations := read_jsonl(ctx.run.annotations_path, SkillAnnotation):
        _teacher_usage(annotations, "teacher.annotate", stages)
    stages |= _logged_usage(ctx)
    for record in read_jsonl(ctx.run.root / PREFLIGHT_FILE, PreflightRecord):
        for check in record.checks:
            stages.setdefault(PREFLIGHT_STAGE, StageUsage()).add(check.usage, calls=check.calls)
    return UsageReport(stages=dict(sorted(stages.items())))


def kept_adapter(iterations: Sequence[IterationMetrics], *, best_val: bool) -> int:
    """The adapter a run returns: the last trained one, or with `best_val` the one whose validation accuracy
    (scored in the next iteration's folder) is highest, the pretrained student included and later adapters
    winning ties. An adapter never validated is not a candidate, unless none was."""
    trained = [0, *(it.iteration for it in iterations if it.train is not None)]
    if not best_val:
        return trained[-1]
    val = {it.iteration - 1: it.val.accuracy for it in iterations
           if it.iteration > 0 and it.val is not None and it.val.accuracy is not None}
    scored = [adapter for adapter in trained if adapter in val]
    return max(scored, key=lambda adapter: (val[adapter], adapter)) if scored else trained[-1]


def write_metrics(ctx: RunContext, last: int, stopped: str | None, *, best_val: bool = False) -> RunMetrics:
    """Recompute metrics of iterations 0..last and write every metrics file and usage.json; `best_val`
    chooses the kept adapter by validation accuracy (see `kept_adapter`)."""
    its = [iteration_metrics(ctx, i) for i in range(last + 1)]
    for it in its:
        atomic_write_json(ctx.run.file(it.iteration, "metrics.json"), it)
    test = ctx.config.data.test
    metrics = RunMetrics(method=ctx.config.method, seed=ctx.config.seed, pool_size=len(ctx.samples("pool")),
                         budget=ctx.budget, iterations=its, stopped=stopped,
                         kept=kept_adapter(its, best_val=best_val),
                         family_field=test.family_field if test is not None else None)
    atomic_write_json(ctx.run.metrics_path, metrics)
    atomic_write_json(ctx.run.usage_path, usage_report(ctx, its))
    return metrics
