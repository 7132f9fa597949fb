"""Stages that ask the teacher about the student's errors: locate the first wrong step, name the
missing skill; and the ablation that draws the step at random instead.

Teacher results stream into their JSONL file one by one (`edtune.teacher.run_resumable`), so a killed
run resumes with the errors not yet answered and asks nothing twice; a spec-string teacher also goes
through the run's SQLite cache, which covers calls in flight at the moment of the kill.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from edtune.atomic import atomic_write_text
from edtune.jsonl import read_jsonl
from edtune.llm.concurrency import run_sync
from edtune.loop.bars import progress_bar
from edtune.loop.capabilities import localisation_choice
from edtune.loop.context import RunContext
from edtune.loop.rundir import RandomStep, read_ids
from edtune.loop.runlog import say_once
from edtune.loop.seeds import stage_rng
from edtune.loop.stages_student import errors
from edtune.records import Sample, StudentOutput
from edtune.specs import SamplingParams, load_model_spec
from edtune.teacher.answer_switch import AnswerSwitchLocator, AnswerSwitchOptions
from edtune.teacher.batch import run_resumable
from edtune.teacher.direct import DirectLocator, DirectOptions
from edtune.teacher.per_step import PerStepLocator, PerStepOptions
from edtune.teacher.records import SkillAnalysis, StepLocation, TeacherResult
from edtune.teacher.skills import SkillAnalyzer, SkillOptions

Pair = tuple[Sample, StudentOutput]


def _run_teacher(ctx: RunContext, iteration: int, name: str, items: list[Pair],
                 work: Callable[[Pair], Awaitable[TeacherResult]], result_type: type[TeacherResult]) -> None:
    """Run `work` on every error without a result in `<name>.jsonl` yet, with a progress bar."""
    out = ctx.run.file(iteration, f"{name}.jsonl")
    done = len(set(read_ids(out)) & {s.id for s, _ in items})
    with progress_bar(f"iteration {iteration}: teacher {name}", len(items), enabled=ctx.show_bars,
                      done=done) as advance:
        run_sync(run_resumable(items, work, out=out, key=lambda pair: pair[0].id, result_type=result_type,
                               concurrency=ctx.teacher_concurrency(), on_result=lambda _: advance(1)))


Locator = DirectLocator | PerStepLocator | AnswerSwitchLocator


def teacher_sampling(ctx: RunContext) -> SamplingParams | None:
    """The sampling settings (`params`) of the run's teacher spec; None for a teacher given as a client
    object, which has no spec (its name is only recorded in the config)."""
    if ctx.teacher_obj is not None or ctx.config.teacher is None:
        return None
    return load_model_spec(ctx.config.teacher).params


def _locator_for(ctx: RunContext) -> Callable[[Sample], Locator]:
    """Which locator handles a sample under `config.localise` (auto: answer-switch where it can work)."""
    settings, root, images = ctx.config.localise, ctx.image_root("val"), ctx.capabilities().images.value
    sampling = teacher_sampling(ctx)
    direct = DirectLocator(ctx.teacher(), DirectOptions(images=images), image_root=root, sampling=sampling)
    if settings.method == "direct":
        return lambda sample: direct
    if settings.method == "per_step":
        per_step = PerStepLocator(ctx.teacher(), PerStepOptions(images=images), image_root=root, sampling=sampling)
        return lambda sample: per_step
    switch = AnswerSwitchLocator(ctx.teacher(), AnswerSwitchOptions(images=images), image_root=root,
                                 sampling=sampling)
    if settings.method == "answer_switch":
        return lambda sample: switch
    usable = ctx.capabilities().logprobs.value
    return lambda sample: switch if usable and sample.choices else direct


LOCALISATION_FILE = "localisation.json"
"""Run-directory file stating which localisation the run uses and why (`LocalisationChoice`)."""


def state_localisation(ctx: RunContext) -> None:
    """Write which localisation `localise.method` amounts to for this teacher, and why, to localisation.json
    and run.log (once per run: the run start's preflight states it, or else the first localisation)."""
    path = ctx.run.root / LOCALISATION_FILE
    if not path.exists():
        choice = localisation_choice(ctx.config, ctx.capabilities())
        atomic_write_text(path, choice.model_dump_json(indent=2) + "\n")
        say_once(ctx.run.root, "localisation", f"multiple choice by {choice.multiple_choice}, open questions by "
                                               f"{choice.open_questions}: {choice.reason}")


def locate(ctx: RunContext, iteration: int) -> None:
    """A StepLocation for every validation error (locations.jsonl)."""
    state_localisation(ctx)
    pick = _locator_for(ctx)

    async def work(pair: Pair) -> StepLocation:
        return await pick(pair[0]).locate(pair[0], pair[1])

    _run_teacher(ctx, iteration, "locations", errors(ctx, iteration), work, StepLocation)


def random_steps(ctx: RunContext, iteration: int) -> None:
    """ablation_random_step: a uniformly drawn step per error instead of the teacher's (random_steps.jsonl)."""
    rng = stage_rng(ctx.config.seed, iteration, "random_step")
    records = [RandomStep(sample_id=s.id, n_steps=len(o.steps),
                          step=rng.randint(1, len(o.steps)) if o.steps else None)
               for s, o in errors(ctx, iteration)]
    text = "".join(r.model_dump_json() + "\n" for r in records)
    atomic_write_text(ctx.run.file(iteration, "random_steps.jsonl"), text)


def wrong_steps(ctx: RunContext, iteration: int) -> dict[str, int | None]:
    """Error id -> the blamed step (1-based; None when not found), from the teacher or the random draw."""
    random_file = ctx.run.file(iteration, "random_steps.jsonl")
    if ctx.config.method == "ablation_random_step":
        return {r.sample_id: r.step for r in read_jsonl(random_file, RandomStep)}
    return {r.sample_id: r.step for r in read_jsonl(ctx.run.file(iteration, "locations.jsonl"), StepLocation)}


def analyse_skills(ctx: RunContext, iteration: int) -> None:
    """A SkillAnalysis for every error with a blamed step (and, with `analyse_unlocated`, the others)."""
    steps = wrong_steps(ctx, iteration)
    keep_unlocated = ctx.config.localise.analyse_unlocated
    todo = [(s, o) for s, o in errors(ctx, iteration) if steps.get(s.id) is not None or keep_unlocated]
    options = SkillOptions(count=ctx.config.skills_per_error, images=ctx.capabilities().images.value)
    analyser = SkillAnalyzer(ctx.teacher(), options, image_root=ctx.image_root("val"), sampling=teacher_sampling(ctx))

    async def work(pair: Pair) -> SkillAnalysis:
        return await analyser.analyse(pair[0], pair[1], steps.get(pair[0].id))

    _run_teacher(ctx, iteration, "skills", todo, work, SkillAnalysis)


def missing_skills(ctx: RunContext, iteration: int) -> list[str]:
    """Every missing-skill phrase the teacher named this iteration, one entry per (error, phrase)."""
    analyses = read_jsonl(ctx.run.file(iteration, "skills.jsonl"), SkillAnalysis)
    return [skill for a in analyses if a.outcome == "found" for skill in a.missing_skills]


def wrong_step_texts(ctx: RunContext, iteration: int) -> list[str]:
    """ablation_step_text: the text of each error's blamed step, used as the retrieval query."""
    steps = wrong_steps(ctx, iteration)
    return [o.steps[step - 1] for s, o in errors(ctx, iteration) if (step := steps.get(s.id)) is not None]
