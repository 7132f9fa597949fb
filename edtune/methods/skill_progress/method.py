"""Skill-progress as a loop method: `method = "skill_progress"` in a run config (beyond both papers).

PROGRESS's round rule (arXiv 2506.01085) over the skills a teacher names in error analysis (arXiv
2412.15652) instead of k-means clusters; `edtune.methods.skill_progress.selector.SkillProgressSelector` is the
rule, this module feeds it from the run directory. Iteration i, after the loop answered and judged the
validation set with the student after iteration i-1:
    "locate", "skills"     the error-driven stages, unchanged (cached teacher calls, never repeated on resume);
    "evaluate_previous",   for i >= 2: up to `progress.eval_per_cluster` samples already selected for each
    "evaluate_current"     skill are scored with the students after iterations i-2 and i-1 (PROGRESS's
                           `evaluate` stages: same files and metric), giving per-skill accuracy before and after
                           the last training;
    "select"               the skills are every distinct phrase the teacher named in iterations 1..i; each
                           skill's candidates are its `retrieval.top_k` BM25 hits scoring above
                           `retrieval.min_score`; the selector spends the iteration's budget (the run's
                           `budget`, `iterations` and `budget_rule`, as error_driven) by softmax(relative
                           improvement / `progress.tau`) quotas, best BM25 hits first within a skill, plus
                           `progress.exploration_fraction` at random. A skill with no improvement to measure
                           (first named this iteration, or none of its samples scored twice) is treated
                           optimistically by the selector's rule, so iteration 1 splits the budget evenly.
A sample belongs to the skill it was selected for (its `skill` in selection.jsonl) for every later
evaluation. The other `[progress]` settings (clusters, warm-up, `round_size`) do not apply.

Files per iteration, beside the error-driven ones and selection.jsonl (whose `skill` is the skill, `score`
the weight its quota came from: the measured or optimistic improvement, 0 for exploration picks; `rank` the
sample's rank among that skill's hits):
    skill_accuracy.jsonl   `SkillRound` per skill: when named, candidates, scores, improvement, quota
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import Field

from edtune.atomic import atomic_write_text
from edtune.loop.context import RunContext
from edtune.loop.seeds import derive_seed
from edtune.loop.stages_select import read_selection, write_selection
from edtune.loop.stages_teacher import missing_skills
from edtune.methods import Method, Stage, methods
from edtune.methods.error_driven.method import LOCATE, SKILLS, TeacherMethod
from edtune.methods.progress.evaluate import evaluate_stage, group_scores
from edtune.methods.progress.selection import relative_improvements
from edtune.methods.progress.selector import GroupScore, RoundState, Selection
from edtune.methods.skill_progress.selector import SkillProgressSelector
from edtune.records import Record
from edtune.retrieval.select import ChosenSample

SKILL_ACCURACY = "skill_accuracy.jsonl"


class SkillRound(Record):
    """One skill in one iteration: what was measured on it and what it was given."""

    skill: str
    """The skill phrase, as the teacher wrote it (stripped); the `skill` of its samples in selection.jsonl."""
    first_named: int
    """The iteration whose error analysis named it first."""
    named: int
    """Errors of this iteration whose analysis named it (0: named only in earlier iterations)."""
    candidates: int
    """Its retrieved hits scoring above `retrieval.min_score` (at most `retrieval.top_k`)."""
    annotated_before: int
    """Samples selected for it in earlier iterations."""
    metric: Literal["accuracy", "loss"]
    """What `current` and `previous` measure."""
    current: float | None = None
    """Accuracy (or mean loss) of the student after the previous iteration on its evaluated samples."""
    previous: float | None = None
    """The same samples' score with the student one iteration earlier."""
    evaluated: int = Field(default=0, ge=0)
    """Samples scored in `current` (unscored judgments left out)."""
    improvement: float | None = None
    """Measured relative improvement from `previous` to `current`; None when either is missing."""
    weight: float
    """The improvement the selector used: `improvement`, or the optimistic value when none was measured."""
    quota: int = Field(default=0, ge=0)
    """Samples it got by quota this iteration."""
    explored: int = Field(default=0, ge=0)
    """Samples credited to it that were drawn as exploration (or by the uniform fallback)."""


@dataclass(frozen=True)
class Retrieved:
    """Each skill's usable hits, best first, and the 1-based rank of each hit among the skill's hits."""

    candidates: dict[str, list[tuple[str, float]]]
    ranks: dict[str, dict[str, int]]


def named_skills(ctx: RunContext, iteration: int) -> dict[str, int]:
    """Every distinct skill the teacher named in iterations 1..`iteration`, with the iteration it came first."""
    first: dict[str, int] = {}
    for i in range(1, iteration + 1):
        for phrase in missing_skills(ctx, i):
            if skill := phrase.strip():
                first.setdefault(skill, i)
    return first


def skill_groups(ctx: RunContext, iteration: int) -> dict[str, str]:
    """The skill each sample selected before `iteration` was selected for (its selection.jsonl `skill`)."""
    return {c.sample_id: c.skill for i in range(1, iteration) for c in read_selection(ctx.run, i)}


def retrieve(ctx: RunContext, skills: list[str]) -> Retrieved:
    """The run's BM25 retrieval, one query per skill; hits at or below `retrieval.min_score` are dropped."""
    settings = ctx.config.retrieval
    found = ctx.retriever().search(skills, settings.top_k) if skills else []
    candidates: dict[str, list[tuple[str, float]]] = {}
    ranks: dict[str, dict[str, int]] = {}
    for skill, hits in zip(skills, found, strict=True):
        usable = [(rank, hit) for rank, hit in enumerate(hits, start=1) if hit.score > settings.min_score]
        candidates[skill] = [(hit.sample_id, hit.score) for _, hit in usable]
        ranks[skill] = {hit.sample_id: rank for rank, hit in usable}
    return Retrieved(candidates, ranks)


def _scores(ctx: RunContext, iteration: int) -> tuple[dict[str, GroupScore], dict[str, GroupScore]]:
    """Per-skill (current, previous) scores of the evaluation stages; none in iteration 1."""
    if iteration < 2:
        return {}, {}
    group_of = skill_groups(ctx, iteration)
    return group_scores(ctx, iteration, "current", group_of), group_scores(ctx, iteration, "previous", group_of)


def select_by_skill_progress(ctx: RunContext, iteration: int) -> None:
    """The "select" stage: skill_accuracy.jsonl, then selection.jsonl (module docstring)."""
    retrieved = retrieve(ctx, sorted(named_skills(ctx, iteration)))
    scores, previous = _scores(ctx, iteration)
    used = ctx.used_before(iteration)
    # The iteration's budget plays PROGRESS's round size, so budgets compare with error_driven's.
    settings = ctx.config.progress.model_copy(update={"round_size": ctx.iteration_budget(iteration)})
    selector = SkillProgressSelector(retrieved.candidates, settings)
    state = RoundState(round=iteration - 1, budget_left=ctx.budget - len(used), selected=used, scores=scores,
                       previous=previous)
    rng = np.random.default_rng(derive_seed(ctx.config.seed, iteration, "skill_progress_select"))
    selection = selector.next_round(state, rng)
    rows = skill_rounds(ctx, iteration, state, selection, selector.improvements(state), retrieved)
    atomic_write_text(ctx.run.file(iteration, SKILL_ACCURACY), "".join(r.model_dump_json() + "\n" for r in rows))
    write_selection(ctx.run, iteration, chosen_samples(selection, retrieved))


def skill_rounds(ctx: RunContext, iteration: int, state: RoundState, selection: Selection,
                 weights: dict[str, float], retrieved: Retrieved) -> list[SkillRound]:
    """One `SkillRound` per skill named so far, in skill order; `weights` are the selector's improvements."""
    first_named = named_skills(ctx, iteration)
    named_now = Counter(s.strip() for s in missing_skills(ctx, iteration))
    annotated = Counter(skill_groups(ctx, iteration).values())
    improvements = relative_improvements(state.scores, state.previous)
    explored = set(selection.exploration)
    quota = Counter(selection.group_of[i] for i in selection.ids if i not in explored)
    drawn = Counter(selection.group_of[i] for i in selection.exploration)
    rows = []
    for skill, weight in weights.items():
        current, previous = state.scores.get(skill), state.previous.get(skill)
        rows.append(SkillRound(skill=skill, first_named=first_named[skill], named=named_now[skill],
                               candidates=len(retrieved.candidates[skill]), annotated_before=annotated[skill],
                               metric=ctx.config.progress.metric, current=current.value if current else None,
                               previous=previous.value if previous else None, evaluated=current.n if current else 0,
                               improvement=improvements.get(skill), weight=weight, quota=quota[skill],
                               explored=drawn[skill]))
    return rows


def chosen_samples(selection: Selection, retrieved: Retrieved) -> list[ChosenSample]:
    """selection.jsonl rows: the skill, the weight behind its quota (0 for exploration), the hit's rank."""
    explored = set(selection.exploration)
    rows = []
    for sample_id in selection.ids:
        skill = selection.group_of[sample_id]
        score = 0.0 if sample_id in explored else selection.weights.get(skill, 0.0)
        rows.append(ChosenSample(sample_id=sample_id, skill=skill, score=score,
                                 rank=retrieved.ranks[skill][sample_id]))
    return rows


@methods.register("skill_progress")
def skill_progress() -> Method:
    """Error analysis names skills; PROGRESS's relative-improvement rounds share the budget among them."""
    return TeacherMethod("skill_progress", (
        LOCATE, SKILLS, Stage("evaluate_previous", evaluate_stage("previous", skill_groups)),
        Stage("evaluate_current", evaluate_stage("current", skill_groups)),
        Stage("select", select_by_skill_progress)))
