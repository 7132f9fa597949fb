"""PROGRESS (arXiv 2506.01085) as a loop method: `method = "progress"` in a run config.

Iterations, each ending like every method's (selection.jsonl -> train -> test):
    iteration 1 (warm-up): stage "features" embeds and clusters the pool once (`pool`), then
        "select" spends `warmup_fraction` of the budget on COINCIDE quotas + prototypes over the k_warmup
        clusters (`edtune.methods.progress.warmup`);
    iteration i >= 2 (round i-1): "evaluate_previous" and "evaluate_current" score up to
        `eval_per_cluster` annotated samples per tracking cluster with the students after iterations i-2
        and i-1 (`evaluate`), then "select" spends min(`round_size`, budget left) by
        softmax(relative improvement / tau) quotas plus `exploration_fraction` at random
        (`edtune.methods.progress.selection.ProgressSelector`).
The run stops when the budget is spent (planned iterations: 1 + ceil((budget - warm-up) / round_size);
the run's `iterations` does not apply) or when a round selects nothing. PROGRESS never uses the
validation set or the teacher: it needs only the pool, the student and the judge. "features" is listed in
every iteration but computes only what is missing from the run directory; elsewhere it checks that the
pool still has the ids the cache was built from. The beyond-the-paper skill-progress selector is the
method "skill_progress" (`edtune.methods.skill_progress`): the same rounds and evaluation, over the
teacher's skills.

Annotation oracle: selection sees feature rows, cluster keys and ids only; a sample's label (answer and
rationale) is read when it is trained on or, once annotated, evaluated. So annotations = distinct selected
samples, recorded per iteration in progress_round.json (`ProgressRound.annotations`).

Files per iteration, beside selection.jsonl (whose `skill` is the sample's tracking cluster, "cluster-<k>",
and `score` the weight its quota came from: COINCIDE score at warm-up, relative improvement in a round,
0 for exploration picks):
    cluster_accuracy.jsonl   `ClusterRound` per non-empty tracking cluster: size, annotated, scores, quota
    progress_round.json      `ProgressRound`: round kind, sizes, annotations so far, fallback note
    held_out.json            (`eval_samples = "held_out"`) the selected ids kept for evaluation: a cluster's
                             1st, 3rd, ... annotated sample until it holds `eval_per_cluster`
                             (`edtune.methods.progress.evaluation.hold_out`); only the final iteration trains on them
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass
from typing import Literal

import numpy as np

from edtune.atomic import atomic_write_json, atomic_write_text
from edtune.loop.config import RunConfig
from edtune.loop.context import RunContext
from edtune.loop.seeds import derive_seed
from edtune.loop.stages_select import write_selection
from edtune.loop.stages_student import HELD_OUT, held_out_ids
from edtune.methods import Method, Plan, Stage, methods
from edtune.methods.progress.evaluate import eval_ids, evaluate_stage, group_scores
from edtune.methods.progress.evaluation import hold_out
from edtune.methods.progress.pool import PoolClusters, compute_features, load_clusters
from edtune.methods.progress.records import ClusterRound, ProgressRound
from edtune.methods.progress.selection import ProgressSelector, relative_improvements
from edtune.methods.progress.selector import GroupScore, RoundState, Selection
from edtune.methods.progress.warmup import warmup_selection
from edtune.retrieval.select import ChosenSample


def warmup_size(config: RunConfig, budget: int) -> int:
    """Warm-up samples: `warmup_fraction` of the budget, rounded, at least 1, at most the budget."""
    return min(budget, max(1, round(config.progress.warmup_fraction * budget)))


def _select(ctx: RunContext, iteration: int) -> None:
    clusters = load_clusters(ctx)
    settings = ctx.config.progress
    used = ctx.used_before(iteration)
    rng = np.random.default_rng(derive_seed(ctx.config.seed, iteration, "progress_select"))
    group_of = clusters.group_of()
    scores: dict[str, GroupScore] = {}
    previous: dict[str, GroupScore] = {}
    if iteration == 1:
        size = warmup_size(ctx.config, ctx.budget)
        selection = warmup_selection(clusters.ids, clusters.features, clusters.warmup, size, settings, rng)
    else:
        scores = group_scores(ctx, iteration, "current", group_of)
        previous = group_scores(ctx, iteration, "previous", group_of)
        size = min(settings.round_size, ctx.budget - len(used))
        state = RoundState(round=iteration - 1, budget_left=ctx.budget - len(used), selected=used, scores=scores,
                           previous=previous)
        selection = ProgressSelector(group_of, settings).next_round(state, rng)
    rows = cluster_rounds(clusters, used, selection, scores, previous, settings.metric)
    atomic_write_text(ctx.run.file(iteration, "cluster_accuracy.jsonl"),
                      "".join(r.model_dump_json() + "\n" for r in rows))
    evaluated = len(eval_ids(ctx, iteration, group_of)) if iteration > 1 else 0
    atomic_write_json(ctx.run.file(iteration, "progress_round.json"),
                      ProgressRound(iteration=iteration, kind="warmup" if iteration == 1 else "round", size=size,
                                    selected=len(selection.ids), exploration=len(selection.exploration),
                                    evaluated=evaluated, annotations=len(used) + len(selection.ids),
                                    note=selection.note))
    if settings.eval_samples == "held_out":
        held = hold_out(selection.ids, group_of, Counter(group_of[i] for i in used),
                        Counter(group_of[i] for i in held_out_ids(ctx, iteration - 1)), settings.eval_per_cluster)
        atomic_write_text(ctx.run.file(iteration, HELD_OUT), json.dumps(held))
    write_selection(ctx.run, iteration, chosen_samples(selection, group_of))


def chosen_samples(selection: Selection, group_of: dict[str, str]) -> list[ChosenSample]:
    """selection.jsonl rows: tracking cluster as the skill, the quota's weight as the score (module doc)."""
    explored = set(selection.exploration)
    return [ChosenSample(sample_id=i, skill=group_of[i], rank=n,
                         score=0.0 if i in explored else selection.weights.get(selection.group_of[i], 0.0))
            for n, i in enumerate(selection.ids, start=1)]


def cluster_rounds(clusters: PoolClusters, used: list[str], selection: Selection, scores: dict[str, GroupScore],
                   previous: dict[str, GroupScore], metric: Literal["accuracy", "loss"]) -> list[ClusterRound]:
    """One `ClusterRound` per non-empty tracking cluster, in cluster order."""
    group_of = clusters.group_of()
    improvements = relative_improvements(scores, previous)
    before: dict[str, int] = {}
    for sample_id in used:
        before[group_of[sample_id]] = before.get(group_of[sample_id], 0) + 1
    explored = set(selection.exploration)
    quota: dict[str, int] = {}
    drawn: dict[str, int] = {}
    for sample_id in selection.ids:
        into = drawn if sample_id in explored else quota
        into[group_of[sample_id]] = into.get(group_of[sample_id], 0) + 1
    sizes = clusters.sizes()
    return [ClusterRound(cluster=c, size=sizes[c], annotated_before=before.get(c, 0), metric=metric,
                         current=scores[c].value if c in scores else None,
                         previous=previous[c].value if c in previous else None,
                         evaluated=scores[c].n if c in scores else 0, improvement=improvements.get(c),
                         quota=quota.get(c, 0), explored=drawn.get(c, 0))
            for c in sorted(sizes, key=lambda key: int(key.rsplit("-", 1)[1]))]


@dataclass(frozen=True)
class ProgressMethod:
    """PROGRESS: warm-up, then relative-improvement rounds until the budget is spent."""

    name: str = "progress"
    uses_validation: bool = False
    needs_teacher: bool = False

    def plan(self, config: RunConfig, pool_size: int) -> Plan:
        budget = min(config.budget, pool_size)
        rounds = math.ceil(max(0, budget - warmup_size(config, budget)) / config.progress.round_size)
        return Plan(budget=budget, iterations=1 + rounds)

    def stages(self) -> list[Stage]:
        return [Stage("features", compute_features), Stage("evaluate_previous", evaluate_stage("previous")),
                Stage("evaluate_current", evaluate_stage("current")), Stage("select", _select)]


@methods.register("progress")
def progress() -> Method:
    """PROGRESS over k-means clusters of the pool (module docstring)."""
    return ProgressMethod()
