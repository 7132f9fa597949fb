"""The error-driven method (arXiv 2412.15652) and the paper's ablations, as registered methods.

Each iteration: "locate" the first wrong step of every validation error (teacher), name the missing
"skills" (teacher), then "select" pool samples by BM25 for those skills (`edtune.retrieval.select`). The
teacher stages themselves are `edtune.loop.stages_teacher` (shared with skill-progress and the pool
annotation); the ablations swap one stage each.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from edtune.loop.config import RunConfig
from edtune.loop.context import RunContext
from edtune.loop.runlog import say_once
from edtune.loop.stages_select import random_choice, shortfall_line, write_selection
from edtune.loop.stages_teacher import (
    analyse_skills,
    locate,
    missing_skills,
    random_steps,
    wrong_step_texts,
)
from edtune.methods import Method, Plan, Stage, configured_plan, methods
from edtune.retrieval.select import ChosenSample, SelectionConfig, SkillQuota, select_samples, shortfall


def _selection_config(ctx: RunContext, iteration: int) -> SelectionConfig:
    settings = ctx.config.retrieval
    return SelectionConfig(budget=ctx.iteration_budget(iteration), floor=settings.floor, top_k=settings.top_k,
                           min_score=settings.min_score)


def retrieve_for(queries: Callable[[RunContext, int], list[str]]) -> Callable[[RunContext, int], None]:
    """A stage selecting by BM25 for the iteration's `queries` (one per diagnosed error)."""

    def run(ctx: RunContext, iteration: int) -> None:
        chosen, quotas = _targeted(ctx, iteration, queries(ctx, iteration))
        write_selection(ctx.run, iteration, chosen, quotas)

    return run


def _targeted(ctx: RunContext, iteration: int, queries: list[str]) -> tuple[list[ChosenSample], list[SkillQuota]]:
    if not queries:
        return [], []
    selection = select_samples(ctx.retriever(), queries, _selection_config(ctx, iteration),
                               exclude=ctx.used_before(iteration))
    if (short := shortfall(selection.skills)) is not None:
        say_once(ctx.run.root, f"iteration {iteration}", shortfall_line(short), level=logging.WARNING)
    return selection.samples, selection.skills


def _random_instead(ctx: RunContext, iteration: int) -> None:
    """ablation_random_samples: as many pool samples as targeted retrieval would choose, drawn at random."""
    chosen, quotas = _targeted(ctx, iteration, missing_skills(ctx, iteration))
    used = set(ctx.used_before(iteration))
    available = [s.id for s in ctx.samples("pool") if s.id not in used]
    drawn = random_choice(available, len(chosen), seed=ctx.config.seed, iteration=iteration, stage="random_samples")
    write_selection(ctx.run, iteration, drawn, quotas)


@dataclass(frozen=True)
class TeacherMethod:
    """A method built from teacher stages and a final selection stage."""

    name: str
    selection_stages: tuple[Stage, ...]
    uses_validation: bool = True
    needs_teacher: bool = True

    def plan(self, config: RunConfig, pool_size: int) -> Plan:
        return configured_plan(config, pool_size)

    def stages(self) -> list[Stage]:
        return list(self.selection_stages)


LOCATE = Stage("locate", locate)
SKILLS = Stage("skills", analyse_skills)
SELECT_BY_SKILL = Stage("select", retrieve_for(missing_skills))


@methods.register("error_driven")
def error_driven() -> Method:
    """Locate the first wrong step, name the missing skill, retrieve samples that need it."""
    return TeacherMethod("error_driven", (LOCATE, SKILLS, SELECT_BY_SKILL))


@methods.register("ablation_random_step")
def ablation_random_step() -> Method:
    """No mistake identification: the skill analysis is told a step drawn at random."""
    return TeacherMethod("ablation_random_step", (Stage("random_step", random_steps), SKILLS, SELECT_BY_SKILL))


@methods.register("ablation_step_text")
def ablation_step_text() -> Method:
    """No skill analysis: the wrong step's own text is the retrieval query."""
    return TeacherMethod("ablation_step_text", (LOCATE, Stage("select", retrieve_for(wrong_step_texts))))


@methods.register("ablation_random_samples")
def ablation_random_samples() -> Method:
    """No targeted tuning: the full analysis runs, then as many random pool samples are trained on."""
    return TeacherMethod("ablation_random_samples", (LOCATE, SKILLS, Stage("select", _random_instead)))
