"""PROGRESS round selection: spend the round on the clusters the student is improving on fastest.

Rule (arXiv 2506.01085, with every edge case fixed here):
1. Round size = min(`round_size`, `budget_left`). A budget smaller than a round gives a smaller round,
   split by the same rule. An empty Selection (note BUDGET_SPENT or POOL_EXHAUSTED) tells the loop to stop.
2. Relative improvement per cluster k scored in both the current and the previous evaluation:
   accuracy: (acc_t - acc_prev) / max(acc_prev, 1 / n_k), n_k = samples scored now in k; so a cluster at
   zero previous accuracy gets acc_t * n_k (newly correct samples) instead of a division by zero;
   loss: (loss_prev - loss_t) / max(loss_prev, 1e-8) (a loss already at 0 cannot improve).
   A cluster scored in only one of the two evaluations has no improvement and is not prioritised.
3. Kept clusters: improvement > 0 and at least one sample not yet annotated (empty clusters never are).
4. exploration_fraction x size ids, rounded half up, are exploration, the rest is split over kept clusters by
   softmax(improvement / tau) (times each cluster's samples left with `cluster_prior = "size"`) into integer
   quotas that sum exactly, capped by each cluster's samples left, the overflow shared among the others
   (`quotas.allocate`); what no kept cluster can take joins exploration.
   Inside a cluster, samples are drawn uniformly at random (seeded).
5. Exploration draws uniformly from samples left in clusters that were not kept; when every cluster is kept
   (or those are exhausted) it draws from what the kept clusters have left after their quotas.
6. No kept cluster (all improvements <= 0, or no two evaluations yet): the whole round is drawn uniformly
   at random from every sample left, and `Selection.note` says so. This keeps the budget spent at the
   paper's pace instead of stalling, and uniform is what exploration would do anyway.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from edtune.errors import UserError
from edtune.methods.progress.quotas import allocate, softmax
from edtune.methods.progress.selector import GroupScore, RoundState, Selection
from edtune.methods.progress.settings import ProgressSettings

_LOSS_FLOOR = 1e-8
NO_IMPROVEMENT = "no group improved (or no earlier evaluation): the round is drawn uniformly at random"
BUDGET_SPENT = "the annotation budget is spent"
POOL_EXHAUSTED = "every candidate is already annotated"


def relative_improvement(current: GroupScore, previous: GroupScore) -> float:
    """PROGRESS's relative improvement of one group between two evaluations (rule 2 of the module doc)."""
    if current.metric != previous.metric:
        raise UserError(f"cannot compare a {current.metric} score with a {previous.metric} score")
    if current.metric == "accuracy":
        return (current.value - previous.value) / max(previous.value, 1.0 / current.n)
    return (previous.value - current.value) / max(previous.value, _LOSS_FLOOR)


def relative_improvements(scores: Mapping[str, GroupScore], previous: Mapping[str, GroupScore]) -> dict[str, float]:
    """Relative improvement of every group scored in both evaluations."""
    return {g: relative_improvement(scores[g], previous[g]) for g in sorted(scores) if g in previous}


class ProgressSelector:
    """PROGRESS rounds over fixed clusters; `group_of` maps every pool id to its cluster key."""

    def __init__(self, group_of: Mapping[str, str], config: ProgressSettings) -> None:
        self.config = config
        self._members: dict[str, list[str]] = {}
        for sample_id in sorted(group_of):
            self._members.setdefault(group_of[sample_id], []).append(sample_id)

    def next_round(self, state: RoundState, rng: np.random.Generator) -> Selection:
        """The next round's ids by the rule in the module docstring."""
        wrong = [g for g, s in {**state.previous, **state.scores}.items() if s.metric != self.config.metric]
        if wrong:
            raise UserError(f"config.metric is {self.config.metric!r} but groups {wrong[:5]} hold another metric")
        done = set(state.selected)
        left = {g: [i for i in ids if i not in done] for g, ids in self._members.items()}
        improvements = relative_improvements(state.scores, state.previous)
        kept = {g: d for g, d in improvements.items() if d > 0 and left.get(g)}
        return plan_round(state, kept, left, self.config, rng, ranked=False)


def plan_round(state: RoundState, kept: Mapping[str, float], left: Mapping[str, list[str]],
               config: ProgressSettings, rng: np.random.Generator, *, ranked: bool) -> Selection:
    """Rules 1 and 3-6 for any grouping: `kept` maps prioritised groups to their improvement, `left` lists
    each group's candidate ids. With `ranked`, a group's quota takes its first candidates in `left` order
    (best first); otherwise a uniform draw. An id listed in several groups is chosen at most once."""
    size = min(config.round_size, state.budget_left)
    if size <= 0:
        return Selection(round=state.round, note=BUDGET_SPENT)
    if not any(left.values()):
        return Selection(round=state.round, note=POOL_EXHAUSTED)
    if not kept:
        explored = _draw(_candidates(left, set(), set()), size, rng)
        return Selection(round=state.round, ids=[i for i, _ in explored], group_of=dict(explored),
                         exploration=[i for i, _ in explored], weights={}, note=NO_IMPROVEMENT)
    n_explore = math.floor(config.exploration_fraction * size + 0.5)
    capacity = {g: len(set(left[g])) for g in kept}
    weights = softmax(kept, config.tau)
    if config.cluster_prior == "size":
        weights = {g: w * capacity[g] for g, w in weights.items()}
    quotas = allocate(weights, size - n_explore, capacity)
    picked = _fill_quotas(quotas, left, rng, ranked)
    taken = {i for i, _ in picked}
    n_explore = size - len(picked)
    pool = _candidates(left, set(kept), taken) or _candidates(left, set(), taken)
    explored = _draw(pool, n_explore, rng)
    chosen = picked + explored
    return Selection(round=state.round, ids=[i for i, _ in chosen], group_of=dict(chosen),
                     quotas={g: q for g, q in quotas.items() if q > 0}, exploration=[i for i, _ in explored],
                     weights=dict(kept))


def _fill_quotas(quotas: Mapping[str, int], left: Mapping[str, list[str]], rng: np.random.Generator,
                 ranked: bool) -> list[tuple[str, str]]:
    picked: list[tuple[str, str]] = []
    taken: set[str] = set()
    for group in sorted(quotas):
        options = list(dict.fromkeys(i for i in left[group] if i not in taken))
        count = min(quotas[group], len(options))
        if ranked:
            chosen = options[:count]
        else:
            chosen = [options[j] for j in sorted(rng.choice(len(options), size=count, replace=False))]
        picked.extend((i, group) for i in chosen)
        taken.update(chosen)
    return picked


def _candidates(left: Mapping[str, list[str]], skip_groups: set[str], taken: set[str]) -> list[tuple[str, str]]:
    """(id, group) for every id of the groups not skipped and not taken; an id's first group (sorted) wins."""
    seen = set(taken)
    out = []
    for group in sorted(left):
        if group in skip_groups:
            continue
        for sample_id in left[group]:
            if sample_id not in seen:
                seen.add(sample_id)
                out.append((sample_id, group))
    return out


def _draw(pool: list[tuple[str, str]], count: int, rng: np.random.Generator) -> list[tuple[str, str]]:
    count = min(count, len(pool))
    if count <= 0:
        return []
    return [pool[j] for j in sorted(rng.choice(len(pool), size=count, replace=False))]
